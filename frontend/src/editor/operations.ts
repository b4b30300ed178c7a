// What each operation needs, derived from GET /capabilities — the UI shows only the operations the
// stack offers, and only the inputs that operation uses.

import type { Capabilities, Need, OperationCapability, StrengthLimits } from '../api/types';

export const OPERATION_LABELS: Record<string, { label: string; help: string }> = {
  inpaint: { label: 'Inpaint', help: 'Repaint the area you mark, following the prompt.' },
  outpaint: { label: 'Outpaint', help: 'Extend the picture beyond its edges.' },
  replace: { label: 'Search and replace', help: 'Find something by description and replace it with the prompt.' },
  recolor: { label: 'Recolor', help: 'Find something by description and change its colours as the prompt says.' },
  erase: { label: 'Erase object', help: 'Remove what you mark and fill in the background.' },
  'remove-background': { label: 'Remove background', help: 'Keep the subject, make the background transparent.' },
  generate: { label: 'Generate', help: 'Make a new picture from the prompt alone.' },
};

export function operationLabel(name: string): string {
  return OPERATION_LABELS[name]?.label ?? name;
}

export const STRENGTH_LABELS: Record<string, string> = {
  creativity: 'Creativity',
};

export interface OperationInfo {
  cap: OperationCapability;
  image: Need;
  prompt: Need;
  mask: Need;
  /** The operation finds what to change by a text description (replace/recolor). */
  maskPrompt: boolean;
  /** The description must be given. */
  maskPromptRequired: boolean;
  /** Outpaint: the API takes the pixels to add per side in options.extents. */
  isOutpaint: boolean;
  strength: StrengthLimits | null;
  maxCount: number;
}

export function operationInfo(caps: Capabilities, name: string): OperationInfo | null {
  const cap = caps.operations.find((o) => o.name === name);
  if (!cap) return null;
  return {
    cap,
    image: cap.image ?? (cap.name === 'generate' ? 'none' : 'required'),
    prompt: cap.prompt,
    mask: cap.mask,
    maskPrompt: cap.maskPrompt,
    maskPromptRequired: cap.maskPromptRequired ?? cap.maskPrompt,
    isOutpaint: cap.name === 'outpaint',
    strength: cap.strength ?? caps.limits.strength ?? null,
    maxCount: Math.max(1, caps.limits.maxCount || 1),
  };
}
