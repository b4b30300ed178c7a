// Types of the REST API contract, as the app reads it. docs/openapi.yaml is the contract: test/contract.test.ts
// fails to typecheck when what the document says the API sends does not fit these types (and the other way
// round for requests).

import type { components } from './openapi.gen';

export type OperationName =
  | 'inpaint'
  | 'outpaint'
  | 'replace'
  | 'recolor'
  | 'erase'
  | 'remove-background'
  | 'sketch'
  | 'structure'
  | 'style-guide'
  | 'style-transfer'
  | 'upscale'
  | 'generate'
  | 'variation';

export type Need = 'required' | 'optional' | 'none';

export type Upscaler = 'fast' | 'conservative' | 'creative';
export type Generator = 'core' | 'ultra' | 'sd3.5-large';

/** The model of an operation that has several (upscale, generate): the option of `POST /edits`
 * that chooses it and its value; `default` marks the one used when the option is absent. */
export type Choice =
  | { option: 'upscaler'; value: Upscaler; default: boolean }
  | { option: 'generator'; value: Generator; default: boolean };

export interface StrengthLimits {
  min: number;
  max: number;
  default: number;
  /** The model parameter it sets: creativity, controlStrength, fidelity, styleStrength or strength. */
  meaning: string;
}

/** One entry of `GET /capabilities` `operations`: an operation, or one choice of it (upscale and
 * generate have one entry per model). */
export interface OperationCapability {
  name: OperationName;
  prompt: Need;
  mask: Need;
  /** true when the operation finds what to change by a text description (replace/recolor) */
  maskPrompt: boolean;
  /** true when that description must be given */
  maskPromptRequired: boolean;
  image: Need;
  /** Style transfer: the style reference (`styleImage`). */
  styleImage: Need;
  /** The operation takes `negativePrompt`. */
  negativePrompt: boolean;
  model: string;
  /** The operation takes `options.seed`. */
  seed: boolean;
  /** Outpaint extents in pixels the API takes (`options.extents`); null for the other operations. */
  extents: { min: number; max: number } | null;
  /** Larger pictures are scaled down to it by the function. */
  maxPixels: number;
  /** The operation's strength setting (`options.strength`); null: none. */
  strength: StrengthLimits | null;
  /** Which model of upscale / generate this entry is; null for the other operations. */
  choice: Choice | null;
}

export interface Limits {
  maxPromptLength: number;
  minSide: number;
  maxSide: number;
  minPixels: number;
  maxPixels: number;
  maxAspect: number;
  maxCount: number;
  maxSeed: number;
  maxUploadBytes: number;
  /** Largest request body: Lambda's 6 MB event limit less the event's envelope. */
  maxRequestBytes?: number;
  /** Daily image limits (`limits.*` of the stack file); over them the API answers 429 quota_exceeded. */
  imagesPerUserPerDay?: number;
  imagesPerDay?: number;
}

/** One daily count of GET /usage. */
export interface UsageCount {
  used: number;
  limit: number;
  left: number;
}

/** GET /usage: images made today (UTC) by the caller and by the whole app, out of the daily limits. */
export interface Usage {
  day: string;
  resetsAt: string;
  secondsToReset: number;
  /** What the caller may still make today: the tighter of `user.left` and `app.left`. */
  left: number;
  user: UsageCount;
  app: UsageCount;
}

export interface Capabilities {
  family: 'stability';
  region: string;
  operations: OperationCapability[];
  limits: Limits;
  standIn?: boolean;
}

export interface Extents {
  left: number;
  right: number;
  up: number;
  down: number;
}

export interface EditOptions {
  seed?: number;
  count?: number;
  strength?: number;
  extents?: Extents;
  upscaler?: Upscaler;
  generator?: Generator;
}

export interface EditRequest {
  operation: OperationName;
  prompt?: string;
  negativePrompt?: string;
  image?: string;
  /** Style transfer: the style reference. */
  styleImage?: string;
  mask?: string;
  maskPrompt?: string;
  options?: EditOptions;
}

/**
 * One image an edit made: a short-lived presigned link to the stack's results bucket (ask
 * `GET /edits/{id}` for fresh links after `expiresAt`), or a `data:` URL when the stack keeps no
 * results (`expiresAt` null).
 */
export interface ResultImage {
  url: string;
  /** The same image, answered with `Content-Disposition: attachment`; null for a `data:` URL
   * (download `url` itself). */
  downloadUrl: string | null;
  contentType: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
  bytes: number;
  expiresAt: string | null;
}

export interface EditResponse {
  id: string;
  images: ResultImage[];
  /** When the results bucket deletes these images; null when they are not kept. */
  keptUntil?: string | null;
  seeds: number[];
  model: string;
  operation: string;
  durationMs: number;
  notices?: string[];
  standIn?: boolean;
}

export type EditStatus = 'running' | 'succeeded' | 'blocked' | 'failed';

/** The options an edit was made with, as validated: what the API writes in a record. */
export type EditOptionsUsed = components['schemas']['EditOptionsUsed'];

/** One history item. Records written before a field existed lack it: every field the contract does not
 * require is optional. */
export interface EditRecord {
  id: string;
  createdAt: string;
  operation: string;
  prompt?: string | null;
  negativePrompt?: string | null;
  maskPrompt?: string | null;
  model: string;
  seeds: number[];
  status: EditStatus | string;
  errorCode?: string | null;
  durationMs: number | null;
  input?: { width: number; height: number; bytes: number } | null;
  output?: { width: number; height: number; bytes: number; count?: number } | null;
  /** A record written before options were validated holds them as sent: any object. */
  options?: EditOptionsUsed | Record<string, unknown>;
  thumbnail?: string | null;
  standIn?: boolean;
  /** The kept images with fresh links; empty when none were made, none are kept, or they were deleted. */
  results?: ResultImage[];
  /** When the kept images are (or were) deleted; null when none were kept. */
  keptUntil?: string | null;
}

export interface EditPage {
  items: EditRecord[];
  nextCursor: string | null;
}
