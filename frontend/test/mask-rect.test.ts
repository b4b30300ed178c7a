import { describe, expect, it } from 'vitest';
import { paintToMask } from '../src/mask/export';
import { type Rect, type RectAction, type RectKey, applyRectAction, clampRect, describeRect, initialRect, rectKeyAction, rectStep } from '../src/mask/rect';

const key = (k: string, mods: Partial<Omit<RectKey, 'key'>> = {}): RectKey => ({ key: k, shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, ...mods });

describe('rectKeyAction — the keys of the keyboard mask', () => {
  it('arrows move, Shift+arrows resize', () => {
    expect(rectKeyAction(key('ArrowLeft'))).toEqual({ kind: 'move', dx: -1, dy: 0 });
    expect(rectKeyAction(key('ArrowRight'))).toEqual({ kind: 'move', dx: 1, dy: 0 });
    expect(rectKeyAction(key('ArrowUp'))).toEqual({ kind: 'move', dx: 0, dy: -1 });
    expect(rectKeyAction(key('ArrowDown'))).toEqual({ kind: 'move', dx: 0, dy: 1 });
    expect(rectKeyAction(key('ArrowRight', { shiftKey: true }))).toEqual({ kind: 'resize', dw: 1, dh: 0 });
    expect(rectKeyAction(key('ArrowUp', { shiftKey: true }))).toEqual({ kind: 'resize', dw: 0, dh: -1 });
  });

  it('Enter adds, Delete and Backspace take out, Escape leaves', () => {
    expect(rectKeyAction(key('Enter'))).toEqual({ kind: 'add' });
    expect(rectKeyAction(key('Delete'))).toEqual({ kind: 'remove' });
    expect(rectKeyAction(key('Backspace'))).toEqual({ kind: 'remove' });
    expect(rectKeyAction(key('Escape'))).toEqual({ kind: 'leave' });
  });

  it('leaves other keys and every modified key to the page (Ctrl+Z, Ctrl+Enter, Alt+←, Tab, letters)', () => {
    expect(rectKeyAction(key('z', { ctrlKey: true }))).toBeNull();
    expect(rectKeyAction(key('Enter', { ctrlKey: true }))).toBeNull();
    expect(rectKeyAction(key('Enter', { metaKey: true }))).toBeNull();
    expect(rectKeyAction(key('ArrowLeft', { altKey: true }))).toBeNull();
    expect(rectKeyAction(key('Tab'))).toBeNull();
    expect(rectKeyAction(key('b'))).toBeNull();
  });
});

describe('the rectangle in image pixels', () => {
  it('starts centred, a quarter of each side, on whole pixels', () => {
    expect(initialRect(512, 384)).toEqual({ x: 192, y: 144, width: 128, height: 96 });
    expect(initialRect(3, 3)).toEqual({ x: 1, y: 1, width: 1, height: 1 });
    expect(initialRect(1, 1)).toEqual({ x: 0, y: 0, width: 1, height: 1 });
  });

  it('steps by about 1/32 of the longer side, never less than a pixel', () => {
    expect(rectStep(512, 384)).toBe(16);
    expect(rectStep(384, 1024)).toBe(32);
    expect(rectStep(10, 10)).toBe(1);
  });

  it('moves by a step and stops at the edges, keeping its size', () => {
    const r = initialRect(512, 384);
    expect(applyRectAction(r, { kind: 'move', dx: 1, dy: 0 }, 16, 512, 384)).toEqual({ ...r, x: 208 });
    expect(applyRectAction(r, { kind: 'move', dx: 0, dy: -1 }, 16, 512, 384)).toEqual({ ...r, y: 128 });
    const atLeft = { x: 5, y: 0, width: 100, height: 50 };
    expect(applyRectAction(atLeft, { kind: 'move', dx: -1, dy: -1 }, 16, 512, 384)).toEqual({ x: 0, y: 0, width: 100, height: 50 });
    const atRight = { x: 400, y: 330, width: 100, height: 50 };
    expect(applyRectAction(atRight, { kind: 'move', dx: 1, dy: 1 }, 16, 512, 384)).toEqual({ x: 412, y: 334, width: 100, height: 50 });
  });

  it('resizes from the right and bottom edges, not past the picture, not below a step', () => {
    const r = { x: 400, y: 300, width: 64, height: 64 };
    expect(applyRectAction(r, { kind: 'resize', dw: 1, dh: 0 }, 16, 512, 384)).toEqual({ ...r, width: 80 });
    expect(applyRectAction(r, { kind: 'resize', dw: 0, dh: 1 }, 16, 512, 384)).toEqual({ ...r, height: 80 });
    expect(applyRectAction({ ...r, width: 110 }, { kind: 'resize', dw: 1, dh: 0 }, 16, 512, 384)).toEqual({ ...r, width: 112 });
    expect(applyRectAction({ ...r, height: 84 }, { kind: 'resize', dw: 0, dh: 1 }, 16, 512, 384)).toEqual({ ...r, height: 84 });
    expect(applyRectAction({ ...r, width: 20 }, { kind: 'resize', dw: -1, dh: 0 }, 16, 512, 384)).toEqual({ ...r, width: 16 });
    expect(applyRectAction({ ...r, width: 16 }, { kind: 'resize', dw: -1, dh: 0 }, 16, 512, 384)).toEqual({ ...r, width: 16 });
  });

  it('add, remove and leave do not change it', () => {
    const r = initialRect(512, 384);
    for (const kind of ['add', 'remove', 'leave'] as const) expect(applyRectAction(r, { kind }, 16, 512, 384)).toBe(r);
  });

  it('clampRect puts any rectangle on whole pixels inside the picture', () => {
    expect(clampRect({ x: -3.4, y: 2.6, width: 10.2, height: 900 }, 100, 80)).toEqual({ x: 0, y: 0, width: 10, height: 80 });
    expect(clampRect({ x: 95, y: 70, width: 0, height: 0 }, 100, 80)).toEqual({ x: 95, y: 70, width: 1, height: 1 });
  });

  it('stays inside the picture with whole-pixel edges whatever keys are pressed', () => {
    const sizes: [number, number][] = [[512, 384], [7, 3], [1, 1], [1024, 97]];
    const actions: RectAction[] = [
      { kind: 'move', dx: 1, dy: 0 }, { kind: 'move', dx: -1, dy: 0 }, { kind: 'move', dx: 0, dy: 1 }, { kind: 'move', dx: 0, dy: -1 },
      { kind: 'resize', dw: 1, dh: 0 }, { kind: 'resize', dw: -1, dh: 0 }, { kind: 'resize', dw: 0, dh: 1 }, { kind: 'resize', dw: 0, dh: -1 },
    ];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (const [w, h] of sizes) {
      let r = initialRect(w, h);
      const step = rectStep(w, h);
      for (let i = 0; i < 500; i++) {
        r = applyRectAction(r, actions[next() % actions.length]!, step, w, h);
        for (const v of [r.x, r.y, r.width, r.height]) expect(Number.isInteger(v)).toBe(true);
        expect(r.width).toBeGreaterThanOrEqual(1);
        expect(r.height).toBeGreaterThanOrEqual(1);
        expect(r.x).toBeGreaterThanOrEqual(0);
        expect(r.y).toBeGreaterThanOrEqual(0);
        expect(r.x + r.width).toBeLessThanOrEqual(w);
        expect(r.y + r.height).toBeLessThanOrEqual(h);
      }
    }
  });

  it('describes size and corner in image pixels (what the live region says)', () => {
    expect(describeRect({ x: 192, y: 144, width: 128, height: 96 })).toBe('128 × 96 pixels at x 192, y 144');
  });

  it('filled on the paint layer, it exports as exactly its pixels in white (the mask a brush over it gives)', () => {
    const [w, h] = [12, 9];
    const r: Rect = { x: 3, y: 2, width: 5, height: 4 };
    // What the editor's fillRect leaves: opaque paint on the rectangle's pixels, nothing elsewhere.
    const layer = new Uint8ClampedArray(w * h * 4);
    for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) layer.set([255, 0, 90, 255], (y * w + x) * 4);
    const mask = paintToMask(layer, w, h);
    expect(mask.changed).toBe(r.width * r.height);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const inside = x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
        expect(mask.pixels[(y * w + x) * 4]).toBe(inside ? 255 : 0);
      }
    }
  });
});
