import { describe, expect, it } from 'vitest';
import { operationInfo } from '../src/editor/operations';
import { type FormState, buildRequest, parseSeed, requestBytes, requestTooLarge, validate } from '../src/editor/request';
import { extentsProblem, normalizeExtents, paddedSize } from '../src/outpaint/extents';
import { stabilityCaps, titanCaps } from './helpers';

const base: FormState = {
  operation: 'inpaint',
  prompt: '',
  negativePrompt: '',
  maskPrompt: '',
  seed: '',
  count: 1,
  quality: 'standard',
  strength: null,
  outpaintMode: 'default',
  extents: { left: 0, right: 0, up: 0, down: 0 },
};
const picture = { image: { width: 512, height: 384 }, maskChanged: 0 };

describe('operationInfo', () => {
  it('derives what each operation needs from the capabilities', () => {
    const out = operationInfo(stabilityCaps, 'outpaint')!;
    expect(out).toMatchObject({ serverExtents: true, padInBrowser: false, quality: false, outpaintMode: false, maxCount: 1 });
    const tOut = operationInfo(titanCaps, 'outpaint')!;
    expect(tOut).toMatchObject({ serverExtents: false, padInBrowser: true, quality: true, outpaintMode: true, maxCount: 5 });
    expect(operationInfo(stabilityCaps, 'replace')!.maskPromptRequired).toBe(true);
    expect(operationInfo(titanCaps, 'generate')!.image).toBe('none');
    // What the function serves: Stability stacks have no variation (fixtures/capabilities.ts).
    expect(operationInfo(stabilityCaps, 'variation')).toBeNull();
  });
});

describe('validate', () => {
  const info = (caps: typeof stabilityCaps, op: string) => operationInfo(caps, op)!;

  it('inpaint needs a picture and a painted mask (and, on Stability, a prompt)', () => {
    const fields = validate(stabilityCaps, info(stabilityCaps, 'inpaint'), base, { image: null, maskChanged: 0 }).map((p) => p.field);
    expect(fields).toEqual(['image', 'prompt', 'mask']);
    const titan = validate(titanCaps, info(titanCaps, 'inpaint'), base, { image: null, maskChanged: 0 }).map((p) => p.field);
    expect(titan).toEqual(['image', 'mask']);
    expect(validate(stabilityCaps, info(stabilityCaps, 'inpaint'), { ...base, prompt: 'a cat' }, { ...picture, maskChanged: 10 })).toEqual([]);
  });

  it('a mask description can replace painting where the family supports it', () => {
    const p = validate(titanCaps, info(titanCaps, 'inpaint'), { ...base, maskPrompt: 'the sky' }, picture);
    expect(p).toEqual([]);
  });

  it('required prompt, prompt length, seed and count limits', () => {
    const p = validate(titanCaps, info(titanCaps, 'generate'), { ...base, operation: 'generate', prompt: 'x'.repeat(513), seed: '858993460', count: 6 }, { image: null, maskChanged: 0 });
    expect(p.map((x) => x.field)).toEqual(['prompt', 'seed', 'count']);
    expect(p[0]!.message).toMatch(/513 characters long; the limit is 512/);
    const empty = validate(titanCaps, info(titanCaps, 'generate'), { ...base, operation: 'generate' }, { image: null, maskChanged: 0 });
    expect(empty.map((x) => x.field)).toEqual(['prompt']);
  });

  it('replace needs the text to find', () => {
    const p = validate(stabilityCaps, info(stabilityCaps, 'replace'), { ...base, prompt: 'a bike' }, picture);
    expect(p.map((x) => x.field)).toEqual(['maskPrompt']);
  });

  it('outpaint needs at least one extent; padded pictures must fit the family limits', () => {
    expect(validate(stabilityCaps, info(stabilityCaps, 'outpaint'), base, picture).map((x) => x.field)).toEqual(['extents']);
    expect(validate(stabilityCaps, info(stabilityCaps, 'outpaint'), { ...base, extents: { left: 2000, right: 2000, up: 0, down: 0 } }, picture)).toEqual([]);
    const tooWide = validate(titanCaps, info(titanCaps, 'outpaint'), { ...base, prompt: 'sea', extents: { left: 1000, right: 0, up: 0, down: 0 } }, picture);
    expect(tooWide[0]!.message).toMatch(/1512×384; this model accepts at most 1408 px/);
    // Titan/Nova may outpaint inside the picture with a mask instead of extents.
    expect(validate(titanCaps, info(titanCaps, 'outpaint'), { ...base, prompt: 'sea' }, { ...picture, maskChanged: 5 })).toEqual([]);
  });

  it('parseSeed', () => {
    expect(parseSeed('', 10)).toBeNull();
    expect(parseSeed(' 7 ', 10)).toBe(7);
    expect(parseSeed('11', 10)).toBe('invalid');
    expect(parseSeed('-1', 10)).toBe('invalid');
    expect(parseSeed('1.5', 10)).toBe('invalid');
  });
});

describe('buildRequest', () => {
  it('Stability inpaint: image, mask, prompt, seed; no Titan-only options', () => {
    const req = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'inpaint')!, { ...base, prompt: ' a red car ', negativePrompt: 'blurry', seed: '42', strength: 0.3 }, { image: 'IMG', mask: 'MASK' });
    expect(req).toEqual({ operation: 'inpaint', prompt: 'a red car', negativePrompt: 'blurry', image: 'IMG', mask: 'MASK', options: { seed: 42, strength: 0.3 } });
  });

  it('Stability outpaint sends extents; erase sends no prompt', () => {
    const out = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'outpaint')!, { ...base, extents: { left: 0, right: 256, up: 0, down: 0 } }, { image: 'IMG' });
    expect(out.options).toEqual({ extents: { left: 0, right: 256, up: 0, down: 0 } });
    const erase = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'erase')!, { ...base, prompt: 'ignored' }, { image: 'IMG', mask: 'M' });
    expect(erase).toEqual({ operation: 'erase', image: 'IMG', mask: 'M' });
  });

  it('Titan: quality, count, outpaint mode; a mask description replaces the painted mask', () => {
    const req = buildRequest(titanCaps, operationInfo(titanCaps, 'outpaint')!, { ...base, prompt: 'sea', maskPrompt: 'the house', count: 3, quality: 'premium', outpaintMode: 'precise' }, { image: 'IMG', mask: 'MASK' });
    expect(req).toEqual({ operation: 'outpaint', prompt: 'sea', image: 'IMG', maskPrompt: 'the house', options: { count: 3, quality: 'premium', outpaintMode: 'precise' } });
  });

  it('generate sends no image', () => {
    const req = buildRequest(titanCaps, operationInfo(titanCaps, 'generate')!, { ...base, prompt: 'a cat' }, { image: 'IMG' });
    expect(req).toEqual({ operation: 'generate', prompt: 'a cat', options: { count: 1, quality: 'standard' } });
  });
});

describe('extents arithmetic', () => {
  it('clamps to 0..2000 whole pixels', () => {
    expect(normalizeExtents({ left: -5, right: 2500.4, up: 10.6 })).toEqual({ left: 0, right: 2000, up: 11, down: 0 });
  });
  it('padded size and problems', () => {
    expect(paddedSize(512, 384, { left: 10, right: 20, up: 30, down: 40 })).toEqual({ width: 542, height: 454 });
    expect(extentsProblem(512, 384, { left: 0, right: 0, up: 0, down: 0 }, stabilityCaps.limits, false)).toMatch(/at least one side/);
    expect(extentsProblem(512, 384, { left: 0, right: 2000, up: 0, down: 0 }, titanCaps.limits, false)).toBeNull();
    expect(extentsProblem(1000, 1000, { left: 0, right: 0, up: 0, down: 400 }, titanCaps.limits, true)).toBeNull();
    expect(extentsProblem(1000, 1000, { left: 400, right: 0, up: 0, down: 400 }, { ...titanCaps.limits, maxPixels: 1_500_000 }, true)).toMatch(/1.5 MP/);
    expect(extentsProblem(320, 320, { left: 1000, right: 0, up: 0, down: 0 }, titanCaps.limits, true)).toMatch(/elongated/);
  });
});

describe('requestTooLarge', () => {
  const limits = { ...stabilityCaps.limits, maxRequestBytes: 6_258_688 };
  it('lets a request that fits through', () => {
    const req = { operation: 'inpaint' as const, prompt: 'a cat', image: 'data:image/png;base64,' + 'A'.repeat(4_000_000) };
    expect(requestTooLarge(req, limits)).toBeNull();
  });
  it('refuses image + mask over the limit, naming both sizes', () => {
    const req = { operation: 'inpaint' as const, prompt: 'a cat', image: 'data:image/png;base64,' + 'A'.repeat(5_400_000), mask: 'data:image/png;base64,' + 'A'.repeat(900_000) };
    expect(requestBytes(req)).toBeGreaterThan(6_258_688);
    expect(requestTooLarge(req, limits)).toMatch(/6\.3 MB request; at most 6\.3 MB/);
  });
  it('counts bytes, not characters', () => {
    const req = { operation: 'generate' as const, prompt: 'é'.repeat(10) };
    expect(requestBytes(req)).toBe(JSON.stringify(req).length + 10);
  });
  it('checks nothing when the API does not say its limit', () => {
    const req = { operation: 'inpaint' as const, image: 'A'.repeat(7_000_000) };
    expect(requestTooLarge(req, { ...limits, maxRequestBytes: undefined })).toBeNull();
  });
});
