import { describe, expect, it } from 'vitest';
import { base64Bytes, checkFile, fitToLimits, shrinkForBytes, type SizeLimits } from '../src/image/downscale';
import { stabilityCaps } from './helpers';

const stability: SizeLimits = stabilityCaps.limits;

function ok(r: ReturnType<typeof fitToLimits>) {
  if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
  return r;
}

describe('fitToLimits', () => {
  it('keeps a picture that already fits', () => {
    expect(fitToLimits(1024, 768, stability)).toEqual({ ok: true, width: 1024, height: 768, resized: null, why: null });
  });

  it('shrinks to the maximum side, keeping the aspect ratio', () => {
    const r = ok(fitToLimits(8000, 4000, { ...stability, maxPixels: 1e9 }));
    expect(r).toMatchObject({ width: 4096, height: 2048, resized: 'down' });
    expect(r.why).toMatch(/4096 px per side/);
  });

  it('shrinks to the maximum pixel count (a 12 MP phone photo on Stability)', () => {
    const r = ok(fitToLimits(4032, 3024, stability));
    expect(r.resized).toBe('down');
    expect(r.width * r.height).toBeLessThanOrEqual(stability.maxPixels);
    expect(r.width).toBeLessThanOrEqual(4096);
    expect(Math.abs(r.width / r.height - 4032 / 3024)).toBeLessThan(0.01);
    expect(r.why).toMatch(/megapixels/);
  });

  it('applies the stricter of side and pixel limits', () => {
    // 2:1: the side limit is the stricter (4096×2048 is below the pixel limit).
    const wide = ok(fitToLimits(8000, 4000, stability));
    expect(wide).toMatchObject({ width: 4096, height: 2048, resized: 'down' });
    expect(wide.why).toMatch(/4096 px per side/);
    // 4:3: 4096×3072 would be too many pixels, so the pixel limit is the stricter.
    const r = ok(fitToLimits(8000, 6000, stability));
    expect(r.width).toBeLessThan(4096);
    expect(r.width * r.height).toBeLessThanOrEqual(stability.maxPixels);
    expect(r.why).toMatch(/megapixels/);
  });

  it('enlarges a picture below the minimum side / pixel count', () => {
    const r = ok(fitToLimits(50, 40, stability));
    expect(r.resized).toBe('up');
    expect(Math.min(r.width, r.height)).toBeGreaterThanOrEqual(64);
    expect(r.width * r.height).toBeGreaterThanOrEqual(4096);
    expect(r.width).toBe(80);
    expect(r.height).toBe(64);
  });

  it('refuses an aspect ratio beyond the limit (cannot be fixed by scaling)', () => {
    const r = fitToLimits(3000, 1000, stability);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/3:1.*at most 2\.5:1.*Crop/);
  });

  it('accepts exactly the maximum aspect ratio', () => {
    expect(fitToLimits(2500, 1000, stability).ok).toBe(true);
    expect(fitToLimits(1000, 2500, stability).ok).toBe(true);
  });

  it('rounding never breaks a limit on awkward sizes', () => {
    for (const [w, h] of [[4097, 4095], [9999, 4001], [3001, 1201], [65, 4096 * 2]] as const) {
      const r = fitToLimits(w, h, stability);
      if (!r.ok) continue;
      expect(Math.max(r.width, r.height)).toBeLessThanOrEqual(stability.maxSide);
      expect(r.width * r.height).toBeLessThanOrEqual(stability.maxPixels);
      expect(Math.max(r.width, r.height) / Math.min(r.width, r.height)).toBeLessThanOrEqual(stability.maxAspect);
      expect(Math.min(r.width, r.height)).toBeGreaterThanOrEqual(stability.minSide);
    }
  });

  it('refuses when shrinking would fall below the minimum side', () => {
    // 2.5:1 is allowed, but 4096 px long leaves 1638 px; make minSide larger than that.
    const r = fitToLimits(10000, 4000, { ...stability, minSide: 2000 });
    expect(r.ok).toBe(false);
  });

  it('refuses a picture without a size', () => {
    expect(fitToLimits(0, 10, stability).ok).toBe(false);
    expect(fitToLimits(Number.NaN, 10, stability).ok).toBe(false);
  });
});

describe('checkFile', () => {
  it('accepts JPEG, PNG and WebP', () => {
    for (const type of ['image/jpeg', 'image/png', 'image/webp']) expect(checkFile({ type, size: 1000 })).toBeNull();
  });

  it('says clearly when a file is not an image we use', () => {
    expect(checkFile({ type: 'application/pdf', size: 1000, name: 'a.pdf' })).toMatch(/not a picture.*JPEG, PNG or WebP/);
    expect(checkFile({ type: 'image/gif', size: 1000 })).toMatch(/not a picture/);
    expect(checkFile({ type: '', size: 10, name: 'notes.txt' })).toMatch(/"notes.txt" is not a picture/);
  });

  it('falls back to the file name when the browser gives no type', () => {
    expect(checkFile({ type: '', size: 10, name: 'photo.JPG' })).toBeNull();
  });

  it('says clearly when a file is too big or empty', () => {
    expect(checkFile({ type: 'image/png', size: 50 * 1024 * 1024 })).toMatch(/too big \(50\.0 MB\); the limit is 40\.0 MB/);
    expect(checkFile({ type: 'image/png', size: 0 })).toMatch(/empty/);
  });
});

describe('byte budget', () => {
  it('shrinkForBytes: null when it fits, otherwise smaller than the estimate', () => {
    expect(shrinkForBytes(2000, 1000, 1000, 2000)).toBeNull();
    const next = shrinkForBytes(2000, 1000, 8_000_000, 2_000_000)!;
    expect(next.width).toBeLessThanOrEqual(900);
    expect(next.height).toBeLessThanOrEqual(450);
  });

  it('base64Bytes counts decoded bytes, with or without a data: prefix', () => {
    const b64 = Buffer.from('hello world!!').toString('base64');
    expect(base64Bytes(b64)).toBe(13);
    expect(base64Bytes(`data:image/png;base64,${b64}`)).toBe(13);
  });
});
