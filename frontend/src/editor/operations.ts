// What each operation needs, derived from GET /capabilities — the UI shows only the operations the
// stack offers, and only the inputs that operation uses. Capabilities list upscale and generate once
// per model (`choice`): the picker shows each operation once and the models in a second select.

import type { Capabilities, Choice, Need, OperationCapability, OperationName, StrengthLimits } from '../api/types';

/**
 * Per operation: its name, a line of help, and examples for its own fields: `prompt` (what the
 * prompt means differs: the new content, the new colours, what the sketch shows…) and `find` (the
 * text to find, replace and recolor).
 */
export const OPERATION_LABELS: Record<string, { label: string; help: string; prompt?: string; find?: string }> = {
  inpaint: { label: 'Inpaint', help: 'Repaint the area you mark, following the prompt.', prompt: 'e.g. a red vintage car parked in the driveway' },
  outpaint: { label: 'Outpaint', help: 'Extend the picture beyond its edges.', prompt: 'e.g. more of the beach, with a clear blue sky' },
  replace: {
    label: 'Search and replace',
    help: 'Find something by description and replace it with the prompt.',
    find: 'e.g. the car',
    prompt: 'what to put in its place, e.g. a red bicycle',
  },
  recolor: {
    label: 'Recolor',
    help: 'Find something by description and change its colours as the prompt says.',
    find: 'e.g. the jacket',
    prompt: 'the new colours, e.g. bright yellow with white stripes',
  },
  erase: { label: 'Erase object', help: 'Remove what you mark and fill in the background.' },
  'remove-background': { label: 'Remove background', help: 'Keep the subject, make the background transparent.' },
  sketch: { label: 'Sketch to picture', help: 'Upload or paste a sketch; the prompt says what it shows.', prompt: 'what the sketch shows, e.g. a cabin in a snowy forest' },
  structure: { label: 'Structure', help: 'Keeps the picture’s shapes, changes what they are made of.', prompt: 'e.g. the same room carved out of white marble' },
  'style-guide': { label: 'Style guide', help: 'Makes a new picture in the style of this one.', prompt: 'the new subject, e.g. a fox in a meadow' },
  'style-transfer': { label: 'Style transfer', help: 'Gives the picture the look of the style image.', prompt: 'optional, e.g. keep the faces recognisable' },
  upscale: { label: 'Upscale', help: 'Makes the picture larger (4× for Fast).', prompt: 'what the picture shows, e.g. a lighthouse at dusk' },
  generate: { label: 'Generate', help: 'Make a new picture from the prompt alone.', prompt: 'e.g. a lighthouse at dusk, painted in oils' },
  variation: { label: 'Variation', help: 'A new take on the picture.', prompt: 'e.g. the same scene in autumn' },
};

/** The prompt's example for operation `name` (each operation its own; none where there is no prompt). */
export function promptPlaceholder(name: string): string {
  return OPERATION_LABELS[name]?.prompt ?? '';
}

/** The example of the text to find (replace, recolor). */
export function findPlaceholder(name: string): string {
  return OPERATION_LABELS[name]?.find ?? 'e.g. the car';
}

export function operationLabel(name: string): string {
  return OPERATION_LABELS[name]?.label ?? name;
}

export const STRENGTH_LABELS: Record<string, string> = {
  creativity: 'Creativity',
  controlStrength: 'How closely to follow the sketch/structure',
  fidelity: 'How closely to follow the style',
  styleStrength: 'Style strength',
  strength: 'How much to change',
};

/** The label of a choice's select and of each of its values. */
export const CHOICE_LABELS: Record<Choice['option'], { label: string; values: Record<string, string> }> = {
  upscaler: { label: 'Upscaler', values: { fast: 'Fast', conservative: 'Conservative', creative: 'Creative' } },
  generator: { label: 'Model', values: { core: 'Stable Image Core', ultra: 'Stable Image Ultra', 'sd3.5-large': 'SD 3.5 Large' } },
};

export function choiceLabel(choice: Choice): string {
  return CHOICE_LABELS[choice.option].values[choice.value] ?? choice.value;
}

/** One operation of the picker: its capability entries, one per choice (a single entry otherwise). */
export interface OperationGroup {
  name: OperationName;
  entries: OperationCapability[];
}

/** The capability entries grouped by operation, in the order the API lists them. */
export function operationGroups(caps: Capabilities): OperationGroup[] {
  const groups = new Map<OperationName, OperationGroup>();
  for (const cap of caps.operations) {
    const group = groups.get(cap.name);
    if (group) group.entries.push(cap);
    else groups.set(cap.name, { name: cap.name, entries: [cap] });
  }
  return [...groups.values()];
}

export interface OperationInfo {
  cap: OperationCapability;
  image: Need;
  /** Style transfer: the style reference. */
  styleImage: Need;
  prompt: Need;
  negativePrompt: boolean;
  mask: Need;
  /** The operation finds what to change by a text description (replace/recolor). */
  maskPrompt: boolean;
  /** The description must be given. */
  maskPromptRequired: boolean;
  /** Outpaint: the API takes the pixels to add per side in options.extents. */
  isOutpaint: boolean;
  seed: boolean;
  strength: StrengthLimits | null;
  maxCount: number;
}

/**
 * The entry of operation `name` for the choice `value` (e.g. "conservative"); without one, or when
 * the stack lacks it, the operation's default entry. null: the stack does not offer the operation.
 */
export function operationInfo(caps: Capabilities, name: string, value?: string): OperationInfo | null {
  const entries = caps.operations.filter((o) => o.name === name);
  const cap = entries.find((o) => value !== undefined && o.choice?.value === value) ?? entries.find((o) => o.choice?.default) ?? entries[0];
  if (!cap) return null;
  return {
    cap,
    image: cap.image,
    styleImage: cap.styleImage,
    prompt: cap.prompt,
    negativePrompt: cap.negativePrompt,
    mask: cap.mask,
    maskPrompt: cap.maskPrompt,
    maskPromptRequired: cap.maskPromptRequired,
    isOutpaint: cap.name === 'outpaint',
    seed: cap.seed,
    strength: cap.strength,
    maxCount: Math.max(1, caps.limits.maxCount || 1),
  };
}
