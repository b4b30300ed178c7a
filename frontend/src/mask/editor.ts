// The mask editor: a transparent canvas the size of the picture, laid over it. Brush and eraser with
// mouse, pen or touch (Pointer Events), brush size, undo/redo, clear, invert, show/hide; and, for
// keyboards, a rectangle (mask/rect.ts) moved with the arrow keys while the canvas has focus.
// Drawing is kept as a list of operations and replayed after undo/redo; export goes through the pure
// paintToMask() (white = change).

import { h, uid } from '../ui/dom';
import { type MaskPixels, paintToMask } from './export';
import { UndoStack } from './history';
import { type Rect, applyRectAction, describeRect, initialRect, rectKeyAction, rectStep } from './rect';

export type Tool = 'brush' | 'eraser';

type Op =
  | { kind: 'stroke'; tool: Tool; size: number; points: number[] }
  | { kind: 'clear' }
  | { kind: 'invert' }
  /** The keyboard rectangle: painted (Enter) or erased (Delete). */
  | { kind: 'rect'; erase: boolean; rect: Rect };

const PAINT = 'rgb(255, 0, 90)';

export class MaskEditor {
  readonly canvas: HTMLCanvasElement;
  /** The tool buttons, the keyboard instructions and the keyboard rectangle's live region. */
  readonly toolbar: HTMLElement;
  /** Follows the pointer to show the brush size. */
  readonly cursor: HTMLElement;
  /** The keyboard rectangle, drawn over the picture (the stage puts it in the picture's box). */
  readonly rectEl: HTMLElement;
  onChange: () => void = () => undefined;

  private readonly ctx: CanvasRenderingContext2D;
  private readonly history = new UndoStack<Op>();
  private tool: Tool = 'brush';
  private size = 24;
  private visible = true;
  private enabled = true;
  private changed = 0;
  private stroke: Extract<Op, { kind: 'stroke' }> | null = null;
  private pointerId: number | null = null;
  /** Touch points on the canvas: a second one means a pinch, which belongs to the browser. */
  private readonly touches = new Set<number>();
  /** The keyboard rectangle, in image pixels; kept while the picture stays, so it resumes where it was. */
  private rect: Rect | null = null;
  private readonly live: HTMLElement;

  private readonly buttons: Record<string, HTMLButtonElement>;
  private readonly sizeInput: HTMLInputElement;
  private readonly sizeOut: HTMLOutputElement;

  constructor(private readonly onDownload: () => void) {
    const keysId = uid('mask-keys');
    // Focusable, and an "application" so screen readers in browse mode hand the arrow keys to it.
    this.canvas = h('canvas', {
      class: 'mask-layer',
      role: 'application',
      tabindex: 0,
      'aria-label': 'Mask: paint over the area the model should change',
      'aria-describedby': keysId,
    });
    this.canvas.width = 1;
    this.canvas.height = 1;
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true })!;
    this.cursor = h('div', { class: 'brush-cursor', 'aria-hidden': 'true', hidden: true });
    this.rectEl = h('div', { class: 'mask-rect', 'aria-hidden': 'true', hidden: true });
    this.live = h('p', { class: 'visually-hidden', 'aria-live': 'polite', 'aria-atomic': 'true' });

    const btn = (label: string, title: string, onclick: () => void, extra: Record<string, string> = {}) =>
      h('button', { type: 'button', title, onclick, ...extra }, label);
    this.sizeInput = h('input', { type: 'range', min: 2, max: 200, value: this.size, 'aria-label': 'Brush size in pixels' });
    this.sizeOut = h('output', { 'aria-hidden': 'true' }, `${this.size} px`);
    this.sizeInput.addEventListener('input', () => this.setBrushSize(Number(this.sizeInput.value)));
    this.buttons = {
      brush: btn('Brush', 'Brush (B)', () => this.setTool('brush'), { 'aria-pressed': 'true' }),
      eraser: btn('Eraser', 'Eraser (E)', () => this.setTool('eraser'), { 'aria-pressed': 'false' }),
      undo: btn('Undo', 'Undo (Ctrl/⌘+Z)', () => this.undo()),
      redo: btn('Redo', 'Redo (Shift+Ctrl/⌘+Z)', () => this.redo()),
      clear: btn('Clear', 'Clear the mask', () => this.clear()),
      invert: btn('Invert', 'Swap painted and unpainted areas', () => this.invert()),
      visible: btn('Show mask', 'Show or hide the mask (H)', () => this.toggleVisible(), { 'aria-pressed': 'true' }),
      download: btn('Download mask', 'Download the mask as sent (white = change)', () => this.onDownload()),
    };
    this.toolbar = h(
      'div',
      { class: 'mask-tools' },
      h(
        'div',
        { class: 'mask-toolbar', role: 'toolbar', 'aria-label': 'Mask tools' },
        h('span', { class: 'group', role: 'group', 'aria-label': 'Tool' }, this.buttons.brush!, this.buttons.eraser!),
        h('label', { class: 'size' }, 'Size ', this.sizeInput, this.sizeOut),
        h('span', { class: 'group' }, this.buttons.undo!, this.buttons.redo!),
        h('span', { class: 'group' }, this.buttons.clear!, this.buttons.invert!, this.buttons.visible!),
        this.buttons.download!,
      ),
      h(
        'p',
        { class: 'hint mask-keys', id: keysId },
        'Keyboard: Tab to the picture, then the arrow keys move a rectangle, Shift+arrows resize it, Enter adds it to the mask, Delete takes it out, Esc leaves.',
      ),
      this.live,
    );
    this.bindPointer();
    this.bindKeys();
    this.refreshButtons();
  }

  /** A new picture: the mask is emptied and sized like it. */
  reset(width: number, height: number): void {
    this.canvas.width = width;
    this.canvas.height = height;
    this.history.reset();
    this.rect = null;
    this.rectEl.hidden = true;
    const max = Math.max(8, Math.round(Math.max(width, height) / 4));
    this.sizeInput.max = String(max);
    this.setBrushSize(Math.max(4, Math.round(Math.min(width, height) / 20)));
    this.redraw();
  }

  get width(): number {
    return this.canvas.width;
  }

  get height(): number {
    return this.canvas.height;
  }

  /** Number of pixels that will be white (changed) in the export. */
  get changedPixels(): number {
    return this.changed;
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.canvas.classList.toggle('disabled', !enabled);
    this.toolbar.hidden = !enabled;
    this.canvas.hidden = !enabled;
    if (!enabled) this.rectEl.hidden = true;
  }

  setTool(tool: Tool): void {
    this.tool = tool;
    this.buttons.brush!.setAttribute('aria-pressed', String(tool === 'brush'));
    this.buttons.eraser!.setAttribute('aria-pressed', String(tool === 'eraser'));
    this.canvas.dataset.tool = tool;
  }

  setBrushSize(size: number): void {
    const max = Number(this.sizeInput.max);
    this.size = Math.min(max, Math.max(2, Math.round(size)));
    this.sizeInput.value = String(this.size);
    this.sizeOut.textContent = `${this.size} px`;
  }

  /** For the [ and ] shortcuts: ±15 %. */
  stepBrushSize(direction: 1 | -1): void {
    this.setBrushSize(this.size * (direction > 0 ? 1.15 : 1 / 1.15) + direction);
  }

  toggleVisible(): void {
    this.visible = !this.visible;
    this.canvas.style.visibility = this.visible ? '' : 'hidden';
    this.buttons.visible!.setAttribute('aria-pressed', String(this.visible));
  }

  undo(): boolean {
    if (!this.history.undo()) return false;
    this.redraw();
    return true;
  }

  redo(): boolean {
    if (!this.history.redo()) return false;
    this.redraw();
    return true;
  }

  clear(): void {
    if (!this.history.canUndo) return;
    this.commit({ kind: 'clear' });
  }

  invert(): void {
    this.commit({ kind: 'invert' });
  }

  /** The mask as the API wants it: image-sized, pure black/white, white = change. */
  export(): MaskPixels {
    const data = this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height).data;
    return paintToMask(data, this.canvas.width, this.canvas.height);
  }

  private commit(op: Op): void {
    this.history.push(op);
    // A stroke is on the canvas already; a rectangle only adds to it; the others change everything.
    if (op.kind === 'rect') this.apply(op);
    if (op.kind === 'stroke' || op.kind === 'rect') this.afterChange();
    else this.redraw();
  }

  private afterChange(): void {
    this.changed = this.countPainted();
    this.refreshButtons();
    this.onChange();
  }

  private countPainted(): number {
    if (!this.history.canUndo) return 0;
    return paintToMask(this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height).data, this.canvas.width, this.canvas.height).changed;
  }

  private refreshButtons(): void {
    this.buttons.undo!.disabled = !this.history.canUndo;
    this.buttons.redo!.disabled = !this.history.canRedo;
  }

  private redraw(): void {
    const { ctx } = this;
    ctx.globalCompositeOperation = 'source-over';
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    for (const op of this.history.ops) this.apply(op);
    this.afterChange();
  }

  private apply(op: Op): void {
    const { ctx } = this;
    if (op.kind === 'clear') {
      ctx.globalCompositeOperation = 'source-over';
      ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    } else if (op.kind === 'invert') {
      // xor with an opaque fill: painted ↔ unpainted.
      ctx.globalCompositeOperation = 'xor';
      ctx.fillStyle = PAINT;
      ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    } else if (op.kind === 'rect') {
      // Whole-pixel edges and an opaque fill: exactly the rectangle's pixels, at full alpha, as a
      // brush passing over them leaves them.
      ctx.globalCompositeOperation = op.erase ? 'destination-out' : 'source-over';
      ctx.fillStyle = PAINT;
      ctx.fillRect(op.rect.x, op.rect.y, op.rect.width, op.rect.height);
    } else {
      this.drawSegment(op, 0, op.points.length);
    }
    ctx.globalCompositeOperation = 'source-over';
  }

  /** Draws the stroke's points [from, to) (flat x,y pairs), joined to the point before `from`. */
  private drawSegment(op: Extract<Op, { kind: 'stroke' }>, from: number, to: number): void {
    const { ctx } = this;
    ctx.globalCompositeOperation = op.tool === 'eraser' ? 'destination-out' : 'source-over';
    ctx.strokeStyle = PAINT;
    ctx.fillStyle = PAINT;
    ctx.lineWidth = op.size;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    const pts = op.points;
    if (pts.length === 2) {
      ctx.beginPath();
      ctx.arc(pts[0]!, pts[1]!, op.size / 2, 0, Math.PI * 2);
      ctx.fill();
      return;
    }
    ctx.beginPath();
    const start = Math.max(0, from - 2);
    ctx.moveTo(pts[start]!, pts[start + 1]!);
    for (let i = start + 2; i < to; i += 2) ctx.lineTo(pts[i]!, pts[i + 1]!);
    ctx.stroke();
  }

  private toCanvas(ev: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    const x = ((ev.clientX - r.left) * this.canvas.width) / r.width;
    const y = ((ev.clientY - r.top) * this.canvas.height) / r.height;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  private moveCursor(ev: PointerEvent): void {
    const r = this.canvas.getBoundingClientRect();
    const parent = this.canvas.offsetParent?.getBoundingClientRect() ?? r;
    const d = (this.size * r.width) / this.canvas.width;
    Object.assign(this.cursor.style, {
      width: `${d}px`,
      height: `${d}px`,
      left: `${ev.clientX - parent.left - d / 2}px`,
      top: `${ev.clientY - parent.top - d / 2}px`,
    });
    this.cursor.hidden = ev.pointerType === 'touch';
  }

  private bindPointer(): void {
    const c = this.canvas;
    c.addEventListener('pointerdown', (ev) => {
      // The primary touch starts a gesture, no other finger is down: forget any touch that ended
      // out of our sight.
      if (ev.pointerType === 'touch' && ev.isPrimary) this.touches.clear();
      if (ev.pointerType === 'touch') this.touches.add(ev.pointerId);
      // A second finger: the user is pinching (touch-action lets the browser zoom), not painting.
      if (this.touches.size > 1) return this.dropStroke();
      if (!this.enabled || this.pointerId !== null || (ev.pointerType === 'mouse' && ev.button !== 0)) return;
      ev.preventDefault();
      this.rectEl.hidden = true;
      this.pointerId = ev.pointerId;
      c.setPointerCapture?.(ev.pointerId);
      const [x, y] = this.toCanvas(ev);
      this.stroke = { kind: 'stroke', tool: this.tool, size: this.size, points: [x, y] };
      this.drawSegment(this.stroke, 0, 2);
      this.ctx.globalCompositeOperation = 'source-over';
    });
    c.addEventListener('pointermove', (ev) => {
      this.moveCursor(ev);
      if (!this.stroke || ev.pointerId !== this.pointerId) return;
      const events = typeof ev.getCoalescedEvents === 'function' ? ev.getCoalescedEvents() : [];
      const from = this.stroke.points.length;
      for (const e of events.length ? events : [ev]) this.stroke.points.push(...this.toCanvas(e));
      this.drawSegment(this.stroke, from, this.stroke.points.length);
      this.ctx.globalCompositeOperation = 'source-over';
    });
    const end = (ev: PointerEvent) => {
      this.touches.delete(ev.pointerId);
      if (ev.pointerId !== this.pointerId) return;
      this.pointerId = null;
      const stroke = this.stroke;
      this.stroke = null;
      if (stroke) this.commit(stroke);
    };
    c.addEventListener('pointerup', end);
    // The browser took the touch over (a pinch or a scroll starting): what the finger drew until then
    // was not meant as paint.
    c.addEventListener('pointercancel', (ev) => {
      this.touches.delete(ev.pointerId);
      if (ev.pointerId === this.pointerId) this.dropStroke();
    });
    c.addEventListener('pointerleave', () => {
      this.cursor.hidden = true;
    });
  }

  /** Forgets the stroke in progress and repaints what the history holds. */
  private dropStroke(): void {
    if (!this.stroke) return;
    this.stroke = null;
    this.pointerId = null;
    this.redraw();
  }

  private bindKeys(): void {
    const c = this.canvas;
    c.addEventListener('focus', () => {
      // Reached with the keyboard: show the rectangle straight away. A click focuses too, and should not.
      if (focusVisible(c)) this.showRect(true);
    });
    c.addEventListener('blur', () => {
      this.rectEl.hidden = true;
    });
    c.addEventListener('keydown', (ev) => this.onKey(ev));
  }

  private onKey(ev: KeyboardEvent): void {
    const action = rectKeyAction(ev);
    if (!this.enabled || !action) return;
    const shown = !this.rectEl.hidden;
    // Escape with no rectangle on screen is the page's (it cancels a running edit).
    if (action.kind === 'leave' && !shown) return;
    ev.preventDefault();
    if (action.kind === 'leave') {
      this.rectEl.hidden = true;
      this.buttons.brush!.focus();
      return;
    }
    // The first key only brings the rectangle up, so nothing is added where the user has not looked.
    if (!shown) return this.showRect(true);
    const r = this.rect!;
    const { width, height } = this.canvas;
    if (action.kind === 'add' || action.kind === 'remove') {
      const erase = action.kind === 'remove';
      this.commit({ kind: 'rect', erase, rect: { ...r } });
      this.say(erase ? `Took ${describeRect(r)} out of the mask.` : `Added ${describeRect(r)} to the mask.`);
      return;
    }
    this.rect = applyRectAction(r, action, rectStep(width, height), width, height);
    this.placeRect();
    this.say(describeRect(this.rect));
  }

  private showRect(announce: boolean): void {
    if (!this.enabled) return;
    this.rect ??= initialRect(this.canvas.width, this.canvas.height);
    this.rectEl.hidden = false;
    this.placeRect();
    if (announce) this.say(`Rectangle: ${describeRect(this.rect)}.`);
  }

  /** Percentages of the picture, so the rectangle follows the picture at any screen size. */
  private placeRect(): void {
    const r = this.rect;
    if (!r) return;
    const { width, height } = this.canvas;
    Object.assign(this.rectEl.style, {
      left: `${(r.x / width) * 100}%`,
      top: `${(r.y / height) * 100}%`,
      width: `${(r.width / width) * 100}%`,
      height: `${(r.height / height) * 100}%`,
    });
  }

  private say(text: string): void {
    this.live.textContent = text;
  }
}

/** :focus-visible where the browser knows it; older ones throw on the selector (then: no rectangle until a key). */
function focusVisible(el: Element): boolean {
  try {
    return el.matches(':focus-visible');
  } catch {
    return false;
  }
}
