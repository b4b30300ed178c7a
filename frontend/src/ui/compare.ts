// Before/after comparison: the result with the input laid over it, clipped at a divider the user
// moves with the slider (keyboard), or by dragging/tapping on the picture.

import { h } from './dom';

export function compareSlider(beforeSrc: string, afterSrc: string, label: string, initial = 50): HTMLElement {
  // A CORS request, like "use as input"'s fetch of the same link: the browser may answer that fetch
  // from the cache, and an entry cached from a plain (no-CORS) image request has no CORS headers.
  const after = h('img', { src: afterSrc, alt: `${label}: result`, class: 'after', draggable: 'false', crossorigin: 'anonymous' });
  const before = h('img', { src: beforeSrc, alt: `${label}: input`, class: 'before', draggable: 'false' });
  const beforeClip = h('div', { class: 'before-clip', 'aria-hidden': 'true' }, before);
  const divider = h('div', { class: 'divider', 'aria-hidden': 'true' });
  const range = h('input', {
    type: 'range',
    min: 0,
    max: 100,
    step: 1,
    value: initial,
    class: 'compare-range',
    'aria-label': `${label}: compare before and after (percentage of the input shown)`,
  });
  const box = h(
    'div',
    { class: 'compare' },
    after,
    beforeClip,
    divider,
    h('span', { class: 'tag tag-before', 'aria-hidden': 'true' }, 'Before'),
    h('span', { class: 'tag tag-after', 'aria-hidden': 'true' }, 'After'),
  );
  const set = (pct: number) => {
    const v = Math.min(100, Math.max(0, pct));
    beforeClip.style.clipPath = `inset(0 ${100 - v}% 0 0)`;
    divider.style.left = `${v}%`;
    box.dataset.split = String(Math.round(v));
  };
  range.addEventListener('input', () => set(Number(range.value)));
  const fromPointer = (ev: PointerEvent) => {
    const r = box.getBoundingClientRect();
    const v = ((ev.clientX - r.left) / r.width) * 100;
    range.value = String(Math.round(v));
    set(v);
  };
  box.addEventListener('pointerdown', (ev) => {
    box.setPointerCapture?.(ev.pointerId);
    fromPointer(ev);
    const move = (m: PointerEvent) => fromPointer(m);
    const up = () => {
      box.removeEventListener('pointermove', move);
      box.removeEventListener('pointerup', up);
      box.removeEventListener('pointercancel', up);
    };
    box.addEventListener('pointermove', move);
    box.addEventListener('pointerup', up);
    box.addEventListener('pointercancel', up);
  });
  after.addEventListener('load', () => {
    if (after.naturalWidth && after.naturalHeight) box.style.aspectRatio = `${after.naturalWidth} / ${after.naturalHeight}`;
  });
  set(initial);
  return h('div', { class: 'compare-wrap' }, box, range);
}
