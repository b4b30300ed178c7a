// The form's state → the POST /edits body (pure; the teaching panel shows exactly this).

import type { Capabilities, EditOptions, EditRequest, Extents } from '../api/types';
import { extentsProblem } from '../outpaint/extents';
import type { OperationInfo } from './operations';

export interface FormState {
  operation: string;
  prompt: string;
  negativePrompt: string;
  maskPrompt: string;
  /** As typed: empty = random. */
  seed: string;
  count: number;
  /** null = the model's default. */
  strength: number | null;
  extents: Extents;
}

export interface FormInputs {
  image: { width: number; height: number } | null;
  /** Style transfer's style reference, once chosen. */
  styleImage: { width: number; height: number } | null;
  /** White pixels in the painted mask (0 = nothing painted). */
  maskChanged: number;
}

export interface Problem {
  field: 'image' | 'styleImage' | 'prompt' | 'negativePrompt' | 'mask' | 'maskPrompt' | 'seed' | 'count' | 'strength' | 'extents';
  message: string;
}

export function parseSeed(raw: string, maxSeed: number): number | null | 'invalid' {
  const t = raw.trim();
  if (t === '') return null;
  if (!/^\d+$/.test(t)) return 'invalid';
  const n = Number(t);
  return Number.isSafeInteger(n) && n <= maxSeed ? n : 'invalid';
}

/** Whether the painted mask is sent. */
export function usesPaintedMask(info: OperationInfo, inputs: FormInputs): boolean {
  return info.mask !== 'none' && inputs.maskChanged > 0;
}

/** Everything that stops a submit, in words, keyed by field. Empty = ready. */
export function validate(caps: Capabilities, info: OperationInfo, state: FormState, inputs: FormInputs): Problem[] {
  const problems: Problem[] = [];
  const max = caps.limits.maxPromptLength;
  if (info.image === 'required' && !inputs.image) {
    problems.push({ field: 'image', message: 'Choose a picture first (pick a file, drop it here or paste it).' });
  }
  if (info.styleImage === 'required' && !inputs.styleImage) {
    problems.push({ field: 'styleImage', message: 'Choose a style image: the picture whose look to copy.' });
  }
  if (info.prompt === 'required' && state.prompt.trim() === '') {
    problems.push({ field: 'prompt', message: 'This operation needs a prompt: describe what you want to see.' });
  }
  if (info.prompt !== 'none' && state.prompt.length > max) {
    problems.push({ field: 'prompt', message: `The prompt is ${state.prompt.length} characters long; the limit is ${max}.` });
  }
  if (info.negativePrompt && state.negativePrompt.length > max) {
    problems.push({ field: 'negativePrompt', message: `The negative prompt is ${state.negativePrompt.length} characters long; the limit is ${max}.` });
  }
  if (info.maskPrompt && state.maskPrompt.length > max) {
    problems.push({ field: 'maskPrompt', message: `The description is ${state.maskPrompt.length} characters long; the limit is ${max}.` });
  }
  if (info.maskPromptRequired && state.maskPrompt.trim() === '') {
    problems.push({ field: 'maskPrompt', message: 'Describe what to find in the picture.' });
  }
  if (info.mask === 'required' && inputs.maskChanged === 0) {
    problems.push({ field: 'mask', message: 'Paint over the area to change (brush tool).' });
  }
  if (info.seed && parseSeed(state.seed, caps.limits.maxSeed) === 'invalid') {
    problems.push({ field: 'seed', message: `The seed must be a whole number from 0 to ${caps.limits.maxSeed}, or empty for a random one.` });
  }
  if (!Number.isInteger(state.count) || state.count < 1 || state.count > info.maxCount) {
    problems.push({ field: 'count', message: `The number of images must be 1 to ${info.maxCount}.` });
  }
  if (state.strength !== null && info.strength && (state.strength < info.strength.min || state.strength > info.strength.max)) {
    problems.push({ field: 'strength', message: `Must be between ${info.strength.min} and ${info.strength.max}.` });
  }
  if (info.isOutpaint && inputs.image) {
    const p = extentsProblem(state.extents);
    if (p) problems.push({ field: 'extents', message: p });
  }
  return problems;
}

/**
 * The request body. `image`, `styleImage` and `mask` are the final data URLs; pass placeholders to
 * preview the request without encoding anything.
 */
export function buildRequest(
  caps: Capabilities,
  info: OperationInfo,
  state: FormState,
  files: { image?: string; styleImage?: string; mask?: string },
): EditRequest {
  const req: EditRequest = { operation: info.cap.name };
  if (info.prompt !== 'none' && state.prompt.trim()) req.prompt = state.prompt.trim();
  if (info.negativePrompt && state.negativePrompt.trim()) req.negativePrompt = state.negativePrompt.trim();
  if (info.image !== 'none' && files.image) req.image = files.image;
  if (info.styleImage !== 'none' && files.styleImage) req.styleImage = files.styleImage;
  if (info.maskPrompt && state.maskPrompt.trim()) req.maskPrompt = state.maskPrompt.trim();
  if (info.mask !== 'none' && files.mask) req.mask = files.mask;

  const options: EditOptions = {};
  const seed = parseSeed(state.seed, caps.limits.maxSeed);
  if (info.seed && typeof seed === 'number') options.seed = seed;
  if (info.maxCount > 1) options.count = state.count;
  if (state.strength !== null && info.strength) options.strength = state.strength;
  if (info.isOutpaint) options.extents = { ...state.extents };
  const choice = info.cap.choice;
  if (choice?.option === 'upscaler') options.upscaler = choice.value;
  if (choice?.option === 'generator') options.generator = choice.value;
  if (Object.keys(options).length) req.options = options;
  return req;
}

/** The request body's size in bytes, as it goes over the wire. */
export function requestBytes(req: EditRequest): number {
  return new TextEncoder().encode(JSON.stringify(req)).length;
}

/**
 * Why the request cannot reach the function, or null. Lambda takes at most 6 MB per invocation,
 * the request's envelope included; `limits.maxRequestBytes` is what is left for the body (API
 * Gateway would answer a bare 413 for more). Older APIs do not send the limit: nothing to check.
 */
export function requestTooLarge(req: EditRequest, limits: Capabilities['limits']): string | null {
  const max = limits.maxRequestBytes;
  if (!max) return null;
  const bytes = requestBytes(req);
  if (bytes <= max) return null;
  const mb = (n: number) => `${(n / 1_000_000).toFixed(1)} MB`;
  const parts = [req.image && 'picture', req.styleImage && 'style image', req.mask && 'mask'].filter(Boolean);
  const what = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)} together make` : `${parts[0] ?? 'request body'} makes`;
  return `The ${what} a ${mb(bytes)} request; at most ${mb(max)} fit in one request. Use a smaller picture (or a simpler mask) and try again.`;
}
