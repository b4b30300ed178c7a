import { describe, expect, it } from 'vitest';
import { operationInfo } from '../src/editor/operations';
import { type FormState, buildRequest, parseSeed, requestBytes, requestTooLarge, validate } from '../src/editor/request';
import { extentsProblem, normalizeExtents, paddedSize } from '../src/outpaint/extents';
import { stabilityCaps } from './helpers';

const base: FormState = {
  operation: 'inpaint',
  prompt: '',
  negativePrompt: '',
  maskPrompt: '',
  seed: '',
  count: 1,
  strength: null,
  extents: { left: 0, right: 0, up: 0, down: 0 },
};
const picture = { image: { width: 512, height: 384 }, maskChanged: 0 };

describe('operationInfo', () => {
  it('derives what each operation needs from the capabilities', () => {
    const out = operationInfo(stabilityCaps, 'outpaint')!;
    expect(out).toMatchObject({ isOutpaint: true, maskPrompt: false, maxCount: 1 });
    expect(out.strength).toMatchObject({ meaning: 'creativity' });
    expect(operationInfo(stabilityCaps, 'inpaint')).toMatchObject({ isOutpaint: false, mask: 'required', maskPrompt: false });
    expect(operationInfo(stabilityCaps, 'replace')).toMatchObject({ maskPrompt: true, maskPromptRequired: true, mask: 'none' });
    expect(operationInfo(stabilityCaps, 'generate')!.image).toBe('none');
    // What the function serves: no variation (fixtures/capabilities.ts).
    expect(operationInfo(stabilityCaps, 'variation')).toBeNull();
  });
});

describe('validate', () => {
  const info = (caps: typeof stabilityCaps, op: string) => operationInfo(caps, op)!;

  it('inpaint needs a picture, a prompt and a painted mask', () => {
    const fields = validate(stabilityCaps, info(stabilityCaps, 'inpaint'), base, { image: null, maskChanged: 0 }).map((p) => p.field);
    expect(fields).toEqual(['image', 'prompt', 'mask']);
    expect(validate(stabilityCaps, info(stabilityCaps, 'inpaint'), { ...base, prompt: 'a cat' }, { ...picture, maskChanged: 10 })).toEqual([]);
  });

  it('erase needs a painted mask but no prompt', () => {
    expect(validate(stabilityCaps, info(stabilityCaps, 'erase'), base, picture).map((p) => p.field)).toEqual(['mask']);
    expect(validate(stabilityCaps, info(stabilityCaps, 'erase'), base, { ...picture, maskChanged: 3 })).toEqual([]);
  });

  it('required prompt, prompt length, seed and count limits', () => {
    const p = validate(stabilityCaps, info(stabilityCaps, 'generate'), { ...base, operation: 'generate', prompt: 'x'.repeat(10_001), seed: '4294967295', count: 2 }, { image: null, maskChanged: 0 });
    expect(p.map((x) => x.field)).toEqual(['prompt', 'seed', 'count']);
    expect(p[0]!.message).toMatch(/10001 characters long; the limit is 10000/);
    expect(p[2]!.message).toMatch(/must be 1 to 1/);
    const empty = validate(stabilityCaps, info(stabilityCaps, 'generate'), { ...base, operation: 'generate' }, { image: null, maskChanged: 0 });
    expect(empty.map((x) => x.field)).toEqual(['prompt']);
  });

  it('replace needs the text to find', () => {
    const p = validate(stabilityCaps, info(stabilityCaps, 'replace'), { ...base, prompt: 'a bike' }, picture);
    expect(p.map((x) => x.field)).toEqual(['maskPrompt']);
  });

  it('outpaint needs at least one extent, and no prompt or mask', () => {
    expect(validate(stabilityCaps, info(stabilityCaps, 'outpaint'), base, picture).map((x) => x.field)).toEqual(['extents']);
    expect(validate(stabilityCaps, info(stabilityCaps, 'outpaint'), { ...base, extents: { left: 2000, right: 2000, up: 0, down: 0 } }, picture)).toEqual([]);
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
  it('inpaint: image, mask, prompt, seed', () => {
    const req = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'inpaint')!, { ...base, prompt: ' a red car ', negativePrompt: 'blurry', seed: '42', strength: 0.3 }, { image: 'IMG', mask: 'MASK' });
    expect(req).toEqual({ operation: 'inpaint', prompt: 'a red car', negativePrompt: 'blurry', image: 'IMG', mask: 'MASK', options: { seed: 42, strength: 0.3 } });
  });

  it('outpaint sends extents; erase sends no prompt', () => {
    const out = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'outpaint')!, { ...base, extents: { left: 0, right: 256, up: 0, down: 0 } }, { image: 'IMG' });
    expect(out.options).toEqual({ extents: { left: 0, right: 256, up: 0, down: 0 } });
    const erase = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'erase')!, { ...base, prompt: 'ignored' }, { image: 'IMG', mask: 'M' });
    expect(erase).toEqual({ operation: 'erase', image: 'IMG', mask: 'M' });
  });

  it('replace sends the text to find and no mask', () => {
    const req = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'replace')!, { ...base, prompt: 'a bike', maskPrompt: ' the car ', seed: '7' }, { image: 'IMG', mask: 'MASK' });
    expect(req).toEqual({ operation: 'replace', prompt: 'a bike', image: 'IMG', maskPrompt: 'the car', options: { seed: 7 } });
  });

  it('generate sends no image and no count', () => {
    const req = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'generate')!, { ...base, prompt: 'a cat', count: 1 }, { image: 'IMG' });
    expect(req).toEqual({ operation: 'generate', prompt: 'a cat' });
  });
});

describe('extents arithmetic', () => {
  it('clamps to 0..2000 whole pixels', () => {
    expect(normalizeExtents({ left: -5, right: 2500.4, up: 10.6 })).toEqual({ left: 0, right: 2000, up: 11, down: 0 });
  });
  it('padded size and problems', () => {
    expect(paddedSize(512, 384, { left: 10, right: 20, up: 30, down: 40 })).toEqual({ width: 542, height: 454 });
    expect(extentsProblem({ left: 0, right: 0, up: 0, down: 0 })).toMatch(/at least one side/);
    expect(extentsProblem({ left: 0, right: 2000, up: 0, down: 0 })).toBeNull();
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
