// Pure size arithmetic for input pictures: which files we accept and what size we send, given the
// model family's limits from GET /capabilities. No DOM here, so it is unit-tested directly.

export interface SizeLimits {
  minSide: number;
  maxSide: number;
  minPixels: number;
  maxPixels: number;
  maxAspect: number;
}

export type FitResult =
  | { ok: true; width: number; height: number; resized: 'down' | 'up' | null; why: string | null }
  | { ok: false; reason: string };

export const ACCEPTED_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
/** Larger files are refused before decoding: a phone photo is ~3–12 MB; 40 MB means something else. */
export const MAX_FILE_BYTES = 40 * 1024 * 1024;
/** Decoding more than this many pixels could exhaust a phone's memory. */
export const MAX_DECODE_PIXELS = 100_000_000;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export function formatSize(width: number, height: number): string {
  return `${width}×${height}`;
}

function formatRatio(r: number): string {
  return `${Number(r.toFixed(2))}:1`;
}

/** null when the file may be an image we accept; otherwise the message to show. */
export function checkFile(file: { type: string; size: number; name?: string }, maxBytes = MAX_FILE_BYTES): string | null {
  const type = file.type.toLowerCase();
  const byName = /\.(jpe?g|png|webp)$/i.test(file.name ?? '');
  if (type ? !(ACCEPTED_TYPES as readonly string[]).includes(type) : !byName) {
    const what = type || (file.name ? `"${file.name}"` : 'this file');
    return `${what} is not a picture this app can use. Please choose a JPEG, PNG or WebP image.`;
  }
  if (file.size === 0) return 'The file is empty.';
  if (file.size > maxBytes) {
    return `The file is too big (${formatBytes(file.size)}); the limit is ${formatBytes(maxBytes)}. Please choose a smaller picture.`;
  }
  return null;
}

/**
 * The size to send: the largest size ≤ the original that fits maxSide and maxPixels, or the smallest
 * enlargement that reaches minSide and minPixels. The aspect ratio is kept; an aspect beyond maxAspect
 * cannot be fixed by scaling and is refused (crop first).
 */
export function fitToLimits(width: number, height: number, limits: SizeLimits): FitResult {
  if (!Number.isFinite(width) || !Number.isFinite(height) || width < 1 || height < 1) {
    return { ok: false, reason: 'The picture has no size; it may be damaged.' };
  }
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  const aspect = long / short;
  if (aspect > limits.maxAspect + 1e-9) {
    return {
      ok: false,
      reason: `The picture is ${formatSize(width, height)}, an aspect ratio of ${formatRatio(aspect)}; this model accepts at most ${formatRatio(limits.maxAspect)}. Crop it and try again.`,
    };
  }

  let scale = 1;
  let why: string | null = null;
  if (long > limits.maxSide) {
    scale = limits.maxSide / long;
    why = `the model accepts at most ${limits.maxSide} px per side`;
  }
  if (width * height * scale * scale > limits.maxPixels) {
    scale = Math.sqrt(limits.maxPixels / (width * height));
    why = `the model accepts at most ${(limits.maxPixels / 1e6).toFixed(1)} megapixels`;
  }
  let resized: 'down' | 'up' | null = scale < 1 ? 'down' : null;
  if (scale === 1 && (short < limits.minSide || width * height < limits.minPixels)) {
    scale = Math.max(limits.minSide / short, Math.sqrt(limits.minPixels / (width * height)));
    resized = 'up';
    why = `the model needs at least ${limits.minSide} px per side and ${limits.minPixels} pixels`;
  }
  if (resized === null) return { ok: true, width, height, resized: null, why: null };

  // Round towards the limit that matters: down when shrinking, up when enlarging.
  const round = resized === 'down' ? Math.floor : Math.ceil;
  let w = Math.max(1, round(width * scale));
  let h = Math.max(1, round(height * scale));
  // Rounding must not push the aspect ratio past the limit.
  if (Math.max(w, h) / Math.min(w, h) > limits.maxAspect) {
    if (w >= h) w = Math.floor(h * limits.maxAspect);
    else h = Math.floor(w * limits.maxAspect);
  }
  const fits =
    w <= limits.maxSide &&
    h <= limits.maxSide &&
    w * h <= limits.maxPixels &&
    Math.min(w, h) >= limits.minSide &&
    w * h >= limits.minPixels;
  if (!fits) {
    return {
      ok: false,
      reason: `The picture (${formatSize(width, height)}) cannot be scaled to fit this model's limits (${limits.minSide}–${limits.maxSide} px per side, at most ${formatRatio(limits.maxAspect)}). Crop it and try again.`,
    };
  }
  return { ok: true, width: w, height: h, resized, why };
}

/**
 * When an encoded picture is over the byte budget: the next, smaller size to try (10 % under the
 * estimate, as compressed size does not scale exactly with the pixel count). null = it already fits.
 */
export function shrinkForBytes(
  width: number,
  height: number,
  bytes: number,
  budget: number,
): { width: number; height: number } | null {
  if (bytes <= budget) return null;
  const scale = Math.sqrt(budget / bytes) * 0.9;
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}

/** Bytes a base64 string (with or without a data: prefix) decodes to. */
export function base64Bytes(data: string): number {
  const comma = data.startsWith('data:') ? data.indexOf(',') : -1;
  const b64 = comma >= 0 ? data.slice(comma + 1) : data;
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - padding;
}
