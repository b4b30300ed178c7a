// Outpaint extents UI: four number fields plus four drag handles on the picture's frame
// (drag, or focus a handle and use the arrow keys: 32 px a press, 128 px with Shift).

import type { Extents } from '../api/types';
import { h } from '../ui/dom';
import { MAX_EXTENT, NO_EXTENTS, SIDES, type Side, normalizeExtents } from './extents';

const SIDE_LABEL: Record<Side, string> = { left: 'Left', right: 'Right', up: 'Top', down: 'Bottom' };

export class ExtentsEditor {
  readonly fieldset: HTMLFieldSetElement;
  readonly handles: HTMLButtonElement[];
  onChange: (e: Extents) => void = () => undefined;
  /** Image pixels per screen pixel, supplied by the stage at drag start. */
  scale: () => number = () => 1;

  private value: Extents = { ...NO_EXTENTS };
  private readonly inputs: Record<Side, HTMLInputElement>;

  constructor() {
    this.inputs = {} as Record<Side, HTMLInputElement>;
    const rows = SIDES.map((side) => {
      const input = h('input', { type: 'number', min: 0, max: MAX_EXTENT, step: 16, value: 0, inputmode: 'numeric', name: `extent-${side}` });
      input.addEventListener('input', () => this.set({ ...this.value, [side]: Number(input.value) }, false));
      this.inputs[side] = input;
      return h('label', { class: 'extent' }, `${SIDE_LABEL[side]} `, input, ' px');
    });
    this.fieldset = h(
      'fieldset',
      { class: 'extents' },
      h('legend', {}, 'Extend the picture by (pixels)'),
      ...rows,
      h('button', { type: 'button', class: 'link', onclick: () => this.set({ ...NO_EXTENTS }) }, 'Reset'),
      h('p', { class: 'hint' }, `Or drag the handles on the picture's edges. 0–${MAX_EXTENT} px per side.`),
    );
    this.handles = SIDES.map((side) => this.handle(side));
  }

  get extents(): Extents {
    return { ...this.value };
  }

  set(e: Partial<Extents>, updateInputs = true): void {
    this.value = normalizeExtents({ ...this.value, ...e });
    for (const side of SIDES) {
      const input = this.inputs[side];
      // While typing, leave the field alone unless the value had to be clamped.
      if (updateInputs || (input.value !== '' && Number(input.value) !== this.value[side])) {
        input.value = String(this.value[side]);
      }
      this.handles[SIDES.indexOf(side)]?.setAttribute('aria-valuenow', String(this.value[side]));
    }
    this.onChange(this.extents);
  }

  private handle(side: Side): HTMLButtonElement {
    const el = h('button', {
      type: 'button',
      class: `extent-handle extent-${side}`,
      role: 'slider',
      'aria-label': `Extend ${SIDE_LABEL[side].toLowerCase()} edge (pixels)`,
      'aria-valuemin': 0,
      'aria-valuemax': MAX_EXTENT,
      'aria-valuenow': 0,
    });
    const horizontal = side === 'left' || side === 'right';
    const sign = side === 'left' || side === 'up' ? -1 : 1;
    el.addEventListener('keydown', (ev) => {
      const step = ev.shiftKey ? 128 : 32;
      const grow = horizontal
        ? ev.key === 'ArrowRight' ? sign : ev.key === 'ArrowLeft' ? -sign : 0
        : ev.key === 'ArrowDown' ? sign : ev.key === 'ArrowUp' ? -sign : 0;
      if (!grow) return;
      ev.preventDefault();
      this.set({ [side]: this.value[side] + grow * step });
    });
    el.addEventListener('pointerdown', (ev) => {
      ev.preventDefault();
      el.setPointerCapture?.(ev.pointerId);
      const start = { x: ev.clientX, y: ev.clientY, value: this.value[side], scale: this.scale() };
      const move = (m: PointerEvent) => {
        const delta = horizontal ? m.clientX - start.x : m.clientY - start.y;
        this.set({ [side]: start.value + sign * delta * start.scale });
      };
      const up = () => {
        el.removeEventListener('pointermove', move);
        el.removeEventListener('pointerup', up);
        el.removeEventListener('pointercancel', up);
      };
      el.addEventListener('pointermove', move);
      el.addEventListener('pointerup', up);
      el.addEventListener('pointercancel', up);
    });
    return el;
  }
}
