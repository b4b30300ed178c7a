// What each operation needs, derived from GET /capabilities — the UI shows only what the stack's model
// family supports, and only the inputs that operation uses.

import type { Capabilities, Need, OperationCapability, StrengthLimits } from '../api/types';

export const OPERATION_LABELS: Record<string, { label: string; help: string }> = {
  inpaint: { label: 'Inpaint', help: 'Repaint the area you mark, following the prompt.' },
  outpaint: { label: 'Outpaint', help: 'Extend the picture beyond its edges.' },
  replace: { label: 'Search and replace', help: 'Find something by description and replace it with the prompt.' },
  recolor: { label: 'Recolor', help: 'Find something by description and change its colours as the prompt says.' },
  erase: { label: 'Erase object', help: 'Remove what you mark and fill in the background.' },
  'remove-background': { label: 'Remove background', help: 'Keep the subject, make the background transparent.' },
  generate: { label: 'Generate', help: 'Make a new picture from the prompt alone.' },
  variation: { label: 'Variation', help: 'Make pictures similar to this one, guided by the prompt.' },
};

export function operationLabel(name: string): string {
  return OPERATION_LABELS[name]?.label ?? name;
}

export const STRENGTH_LABELS: Record<string, string> = {
  creativity: 'Creativity',
  cfgScale: 'Prompt strength (cfgScale)',
  similarityStrength: 'Similarity to the input',
};

export interface OperationInfo {
  cap: OperationCapability;
  image: Need;
  prompt: Need;
  mask: Need;
  /** A text description of the area is accepted. */
  maskPrompt: boolean;
  /** The description is the only way to select (replace/recolor). */
  maskPromptRequired: boolean;
  isOutpaint: boolean;
  /** Stability: the API takes options.extents. */
  serverExtents: boolean;
  /** Titan/Nova outpaint: the browser pads the picture and marks the border white. */
  padInBrowser: boolean;
  /** Titan/Nova: quality standard|premium. */
  quality: boolean;
  /** Titan/Nova outpaint: default|precise. */
  outpaintMode: boolean;
  strength: StrengthLimits | null;
  maxCount: number;
}

export function operationInfo(caps: Capabilities, name: string): OperationInfo | null {
  const cap = caps.operations.find((o) => o.name === name);
  if (!cap) return null;
  const titanLike = caps.family !== 'stability';
  const isOutpaint = cap.name === 'outpaint';
  // The API says whether it takes extents (an object) or not (null); older answers said nothing.
  const serverExtents = isOutpaint && (cap.extents === undefined ? caps.family === 'stability' : cap.extents !== null);
  return {
    cap,
    image: cap.image ?? (cap.name === 'generate' ? 'none' : 'required'),
    prompt: cap.prompt,
    mask: cap.mask,
    maskPrompt: cap.maskPrompt,
    maskPromptRequired: cap.maskPrompt && cap.mask === 'none',
    isOutpaint,
    serverExtents,
    padInBrowser: isOutpaint && !serverExtents,
    quality: titanLike,
    outpaintMode: isOutpaint && titanLike,
    strength: cap.strength ?? caps.limits.strength ?? null,
    maxCount: Math.max(1, caps.limits.maxCount || 1),
  };
}
