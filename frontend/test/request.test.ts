import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../src/api/types';
import { operationGroups, operationInfo } from '../src/editor/operations';
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
const picture = { image: { width: 512, height: 384 }, styleImage: null, maskChanged: 0 };
const nothing = { image: null, styleImage: null, maskChanged: 0 };
/** A us-east-1 stack: no generate, no variation. */
const east: Capabilities = { ...stabilityCaps, operations: stabilityCaps.operations.filter((o) => o.name !== 'generate' && o.name !== 'variation') };

describe('operationInfo', () => {
  it('derives what each operation needs from the capabilities', () => {
    const out = operationInfo(stabilityCaps, 'outpaint')!;
    expect(out).toMatchObject({ isOutpaint: true, maskPrompt: false, maxCount: 1 });
    expect(out.strength).toMatchObject({ meaning: 'creativity' });
    expect(operationInfo(stabilityCaps, 'inpaint')).toMatchObject({ isOutpaint: false, mask: 'required', maskPrompt: false });
    expect(operationInfo(stabilityCaps, 'replace')).toMatchObject({ maskPrompt: true, maskPromptRequired: true, mask: 'none' });
    expect(operationInfo(stabilityCaps, 'generate')!.image).toBe('none');
    expect(operationInfo(stabilityCaps, 'style-transfer')).toMatchObject({ styleImage: 'required', prompt: 'optional', negativePrompt: true });
    expect(operationInfo(stabilityCaps, 'outpaint')).toMatchObject({ negativePrompt: false, seed: true });
    expect(operationInfo(stabilityCaps, 'remove-background')).toMatchObject({ seed: false, strength: null });
    // An operation the stack does not offer.
    expect(operationInfo(east, 'variation')).toBeNull();
  });

  it('no strength where the operation has none: inpaint does not borrow limits.strength', () => {
    expect(operationInfo(stabilityCaps, 'inpaint')!.strength).toBeNull();
  });

  it('the strength setting of each new operation', () => {
    const strength = (op: string, value?: string) => operationInfo(stabilityCaps, op, value)!.strength;
    expect(strength('sketch')).toEqual({ min: 0, max: 1, default: 0.7, meaning: 'controlStrength' });
    expect(strength('structure')).toEqual({ min: 0, max: 1, default: 0.7, meaning: 'controlStrength' });
    expect(strength('style-guide')).toEqual({ min: 0, max: 1, default: 0.5, meaning: 'fidelity' });
    expect(strength('style-transfer')).toEqual({ min: 0, max: 1, default: 1, meaning: 'styleStrength' });
    expect(strength('variation')).toEqual({ min: 0, max: 1, default: 0.7, meaning: 'strength' });
    expect(strength('upscale', 'fast')).toBeNull();
    expect(strength('upscale', 'conservative')).toEqual({ min: 0.2, max: 0.5, default: 0.35, meaning: 'creativity' });
    expect(strength('upscale', 'creative')).toEqual({ min: 0.1, max: 0.5, default: 0.3, meaning: 'creativity' });
  });
});

describe('choices (upscale, generate)', () => {
  it('one group per operation, in the capabilities\' order, each choice an entry of it', () => {
    const groups = operationGroups(stabilityCaps);
    expect(groups.map((g) => g.name)).toEqual([
      'inpaint', 'outpaint', 'replace', 'recolor', 'erase', 'remove-background', 'sketch', 'structure', 'style-guide',
      'style-transfer', 'upscale', 'generate', 'variation',
    ]);
    const choices = (name: string) => groups.find((g) => g.name === name)!.entries.map((e) => e.choice);
    expect(choices('upscale')).toEqual([
      { option: 'upscaler', value: 'fast', default: true },
      { option: 'upscaler', value: 'conservative', default: false },
      { option: 'upscaler', value: 'creative', default: false },
    ]);
    expect(choices('generate').map((c) => c?.value)).toEqual(['core', 'ultra', 'sd3.5-large']);
    expect(choices('inpaint')).toEqual([null]);
  });

  it('picks the entry of the chosen value, else the default one', () => {
    expect(operationInfo(stabilityCaps, 'upscale')!.cap.model).toBe('us.stability.stable-fast-upscale-v1:0');
    expect(operationInfo(stabilityCaps, 'upscale', 'creative')!.cap.model).toBe('us.stability.stable-creative-upscale-v1:0');
    expect(operationInfo(stabilityCaps, 'generate', 'ultra')!.cap.model).toBe('stability.stable-image-ultra-v1:1');
    expect(operationInfo(stabilityCaps, 'generate', 'nonsense')!.cap.choice).toEqual({ option: 'generator', value: 'core', default: true });
    // Without a default among them, the first.
    const noDefault = { ...stabilityCaps, operations: stabilityCaps.operations.filter((o) => o.choice?.value !== 'fast') };
    expect(operationInfo(noDefault, 'upscale')!.cap.choice?.value).toBe('conservative');
  });

  it('fast upscale takes the picture only; conservative a prompt', () => {
    expect(operationInfo(stabilityCaps, 'upscale', 'fast')).toMatchObject({ prompt: 'none', negativePrompt: false, seed: false, image: 'required' });
    expect(operationInfo(stabilityCaps, 'upscale', 'conservative')).toMatchObject({ prompt: 'required', negativePrompt: true, seed: true });
  });
});

describe('validate', () => {
  const info = (caps: typeof stabilityCaps, op: string) => operationInfo(caps, op)!;

  it('inpaint needs a picture, a prompt and a painted mask', () => {
    const fields = validate(stabilityCaps, info(stabilityCaps, 'inpaint'), base, nothing).map((p) => p.field);
    expect(fields).toEqual(['image', 'prompt', 'mask']);
    expect(validate(stabilityCaps, info(stabilityCaps, 'inpaint'), { ...base, prompt: 'a cat' }, { ...picture, maskChanged: 10 })).toEqual([]);
  });

  it('erase needs a painted mask but no prompt', () => {
    expect(validate(stabilityCaps, info(stabilityCaps, 'erase'), base, picture).map((p) => p.field)).toEqual(['mask']);
    expect(validate(stabilityCaps, info(stabilityCaps, 'erase'), base, { ...picture, maskChanged: 3 })).toEqual([]);
  });

  it('required prompt, prompt length, seed and count limits', () => {
    const p = validate(stabilityCaps, info(stabilityCaps, 'generate'), { ...base, operation: 'generate', prompt: 'x'.repeat(10_001), seed: '4294967295', count: 2 }, nothing);
    expect(p.map((x) => x.field)).toEqual(['prompt', 'seed', 'count']);
    expect(p[0]!.message).toMatch(/10001 characters long; the limit is 10000/);
    expect(p[2]!.message).toMatch(/must be 1 to 1/);
    const empty = validate(stabilityCaps, info(stabilityCaps, 'generate'), { ...base, operation: 'generate' }, nothing);
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

  it('style transfer needs a style image; the prompt is optional', () => {
    const st = info(stabilityCaps, 'style-transfer');
    const p = validate(stabilityCaps, st, base, picture);
    expect(p.map((x) => x.field)).toEqual(['styleImage']);
    expect(p[0]!.message).toMatch(/style image/);
    expect(validate(stabilityCaps, st, base, { ...picture, styleImage: { width: 64, height: 64 } })).toEqual([]);
  });

  it('the new image operations need a picture and a prompt', () => {
    for (const op of ['sketch', 'structure', 'style-guide', 'variation']) {
      expect(validate(stabilityCaps, info(stabilityCaps, op), base, nothing).map((x) => x.field), op).toEqual(['image', 'prompt']);
    }
    expect(validate(stabilityCaps, operationInfo(stabilityCaps, 'upscale', 'conservative')!, base, picture).map((x) => x.field)).toEqual(['prompt']);
  });

  it('fast upscale: what it does not take is not checked', () => {
    const fast = operationInfo(stabilityCaps, 'upscale', 'fast')!;
    const state = { ...base, prompt: 'x'.repeat(10_001), negativePrompt: 'x'.repeat(10_001), seed: 'abc' };
    expect(validate(stabilityCaps, fast, state, picture)).toEqual([]);
    expect(validate(stabilityCaps, fast, state, nothing).map((x) => x.field)).toEqual(['image']);
  });

  it('strength outside the chosen model\'s range', () => {
    const conservative = operationInfo(stabilityCaps, 'upscale', 'conservative')!;
    const p = validate(stabilityCaps, conservative, { ...base, prompt: 'a dog', strength: 0.1 }, picture);
    expect(p).toEqual([{ field: 'strength', message: 'Must be between 0.2 and 0.5.' }]);
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
  it('inpaint: image, mask, prompt, seed (inpaint has no strength)', () => {
    const req = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'inpaint')!, { ...base, prompt: ' a red car ', negativePrompt: 'blurry', seed: '42', strength: 0.3 }, { image: 'IMG', mask: 'MASK', styleImage: 'STYLE' });
    expect(req).toEqual({ operation: 'inpaint', prompt: 'a red car', negativePrompt: 'blurry', image: 'IMG', mask: 'MASK', options: { seed: 42 } });
  });

  it('outpaint sends extents; erase sends no prompt', () => {
    const out = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'outpaint')!, { ...base, extents: { left: 0, right: 256, up: 0, down: 0 } }, { image: 'IMG' });
    expect(out.options).toEqual({ extents: { left: 0, right: 256, up: 0, down: 0 } });
    // Outpaint takes no negative prompt.
    expect(buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'outpaint')!, { ...base, prompt: 'sea', negativePrompt: 'boats' }, { image: 'IMG' })).not.toHaveProperty('negativePrompt');
    const erase = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'erase')!, { ...base, prompt: 'ignored' }, { image: 'IMG', mask: 'M' });
    expect(erase).toEqual({ operation: 'erase', image: 'IMG', mask: 'M' });
  });

  it('replace sends the text to find and no mask', () => {
    const req = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'replace')!, { ...base, prompt: 'a bike', maskPrompt: ' the car ', seed: '7' }, { image: 'IMG', mask: 'MASK' });
    expect(req).toEqual({ operation: 'replace', prompt: 'a bike', image: 'IMG', maskPrompt: 'the car', options: { seed: 7 } });
  });

  it('generate sends no image and no count, and the model chosen', () => {
    const req = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'generate')!, { ...base, prompt: 'a cat', count: 1 }, { image: 'IMG' });
    expect(req).toEqual({ operation: 'generate', prompt: 'a cat', options: { generator: 'core' } });
    for (const generator of ['ultra', 'sd3.5-large']) {
      const r = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'generate', generator)!, { ...base, prompt: 'a cat', negativePrompt: 'dogs', seed: '3' }, {});
      expect(r).toEqual({ operation: 'generate', prompt: 'a cat', negativePrompt: 'dogs', options: { seed: 3, generator } });
    }
  });

  it('sketch, structure, style guide and variation: picture, prompts, their strength, seed', () => {
    const state = { ...base, prompt: 'a castle', negativePrompt: 'fog', seed: '5', strength: 0.4, maskPrompt: 'ignored' };
    for (const op of ['sketch', 'structure', 'style-guide', 'variation'] as const) {
      const req = buildRequest(stabilityCaps, operationInfo(stabilityCaps, op)!, state, { image: 'IMG', styleImage: 'STYLE', mask: 'MASK' });
      expect(req, op).toEqual({ operation: op, prompt: 'a castle', negativePrompt: 'fog', image: 'IMG', options: { seed: 5, strength: 0.4 } });
    }
    // The model's default: no strength sent.
    const req = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'sketch')!, { ...state, strength: null }, { image: 'IMG' });
    expect(req.options).toEqual({ seed: 5 });
  });

  it('style transfer sends the style image; the prompt only when given', () => {
    const info = operationInfo(stabilityCaps, 'style-transfer')!;
    expect(buildRequest(stabilityCaps, info, { ...base, strength: 0.8 }, { image: 'IMG', styleImage: 'STYLE' })).toEqual({
      operation: 'style-transfer',
      image: 'IMG',
      styleImage: 'STYLE',
      options: { strength: 0.8 },
    });
    expect(buildRequest(stabilityCaps, info, { ...base, prompt: 'oil paint' }, { image: 'IMG', styleImage: 'STYLE' })).toMatchObject({ prompt: 'oil paint' });
  });

  it('upscale sends the upscaler; fast sends the picture and nothing else', () => {
    const state = { ...base, prompt: 'a harbour', negativePrompt: 'blur', seed: '9', strength: 0.45 };
    const fast = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'upscale', 'fast')!, state, { image: 'IMG' });
    expect(fast).toEqual({ operation: 'upscale', image: 'IMG', options: { upscaler: 'fast' } });
    for (const upscaler of ['conservative', 'creative'] as const) {
      const req = buildRequest(stabilityCaps, operationInfo(stabilityCaps, 'upscale', upscaler)!, state, { image: 'IMG' });
      expect(req).toEqual({ operation: 'upscale', prompt: 'a harbour', negativePrompt: 'blur', image: 'IMG', options: { seed: 9, strength: 0.45, upscaler } });
    }
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
    expect(requestTooLarge(req, limits)).toMatch(/^The picture and mask together make a 6\.3 MB request; at most 6\.3 MB/);
  });
  it('names the style image too', () => {
    const req = { operation: 'style-transfer' as const, image: 'A'.repeat(3_500_000), styleImage: 'A'.repeat(3_500_000) };
    expect(requestTooLarge(req, limits)).toMatch(/^The picture and style image together make a 7\.0 MB request/);
    expect(requestTooLarge({ operation: 'upscale', image: 'A'.repeat(7_000_000) }, limits)).toMatch(/^The picture makes a 7\.0 MB request/);
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
