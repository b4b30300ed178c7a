import { describe, expect, it } from 'vitest';
import { MASK_THRESHOLD, paintToMask } from '../src/mask/export';
import { UndoStack } from '../src/mask/history';

/** A paint layer (RGBA) with the given alpha per pixel, in a colour the brush might use. */
function layer(alphas: number[]): Uint8ClampedArray {
  const px = new Uint8ClampedArray(alphas.length * 4);
  alphas.forEach((a, i) => px.set([255, 0, 90, a], i * 4));
  return px;
}

function pixelValues(px: Uint8ClampedArray): string[] {
  const out: string[] = [];
  for (let i = 0; i < px.length; i += 4) out.push(`${px[i]},${px[i + 1]},${px[i + 2]},${px[i + 3]}`);
  return out;
}

describe('paintToMask — our polarity: white = change', () => {
  it('painted pixels become pure white, unpainted pure black, all opaque', () => {
    const m = paintToMask(layer([255, 0, 0, 255]), 2, 2);
    expect(pixelValues(m.pixels)).toEqual(['255,255,255,255', '0,0,0,255', '0,0,0,255', '255,255,255,255']);
    expect(m.changed).toBe(2);
  });

  it('thresholds anti-aliased brush edges at alpha 128 (no grey survives)', () => {
    const m = paintToMask(layer([0, 1, 127, 128, 200, 255]), 3, 2);
    expect(pixelValues(m.pixels)).toEqual([
      '0,0,0,255',
      '0,0,0,255',
      '0,0,0,255',
      '255,255,255,255',
      '255,255,255,255',
      '255,255,255,255',
    ]);
    expect(MASK_THRESHOLD).toBe(128);
  });

  it('ignores the paint colour: only alpha decides', () => {
    const px = new Uint8ClampedArray([0, 0, 0, 255, 255, 255, 255, 0]);
    expect(pixelValues(paintToMask(px, 2, 1).pixels)).toEqual(['255,255,255,255', '0,0,0,255']);
  });

  it('every pixel is pure black or pure white on a random layer', () => {
    const w = 37;
    const h = 23;
    const alphas = Array.from({ length: w * h }, (_, i) => (i * 7919) % 256);
    const { pixels, width, height, changed } = paintToMask(layer(alphas), w, h);
    expect([width, height]).toEqual([w, h]);
    expect(pixels.length).toBe(w * h * 4);
    const values = new Set(pixelValues(pixels));
    expect([...values].sort()).toEqual(['0,0,0,255', '255,255,255,255']);
    expect(changed).toBe(alphas.filter((a) => a >= 128).length);
  });

  it('is sized like the image and refuses a layer of another size', () => {
    expect(paintToMask(new Uint8ClampedArray(512 * 384 * 4), 512, 384).pixels.length).toBe(512 * 384 * 4);
    expect(() => paintToMask(new Uint8ClampedArray(10 * 4), 3, 3)).toThrow(/expected 36/);
    expect(() => paintToMask(new Uint8ClampedArray(0), 0, 0)).toThrow(RangeError);
  });

  it('an empty layer exports an all-black mask with nothing to change', () => {
    const m = paintToMask(new Uint8ClampedArray(4 * 4 * 4), 4, 4);
    expect(m.changed).toBe(0);
    expect(new Set(pixelValues(m.pixels))).toEqual(new Set(['0,0,0,255']));
  });
});

describe('UndoStack', () => {
  it('undoes and redoes in order; a new operation drops the redo branch', () => {
    const s = new UndoStack<string>();
    expect(s.canUndo).toBe(false);
    s.push('a');
    s.push('b');
    expect(s.undo()).toBe('b');
    expect(s.ops).toEqual(['a']);
    expect(s.canRedo).toBe(true);
    expect(s.redo()).toBe('b');
    expect(s.ops).toEqual(['a', 'b']);
    s.undo();
    s.push('c');
    expect(s.canRedo).toBe(false);
    expect(s.redo()).toBeUndefined();
    expect(s.ops).toEqual(['a', 'c']);
    s.undo();
    s.undo();
    expect(s.undo()).toBeUndefined();
    s.reset();
    expect(s.canUndo || s.canRedo).toBe(false);
  });
});
