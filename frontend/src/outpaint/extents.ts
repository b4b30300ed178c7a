// Outpainting extents: how many pixels to add on each side. On Stability the API takes them as
// options.extents; on Titan/Nova the browser pads the picture itself and sends a mask whose new border
// is white (to be drawn). The arithmetic is pure and tested; padPicture() needs a canvas.

import type { Extents } from '../api/types';
import type { SizeLimits } from '../image/downscale';

export const MAX_EXTENT = 2000;
export const SIDES = ['left', 'right', 'up', 'down'] as const;
export type Side = (typeof SIDES)[number];

export const NO_EXTENTS: Extents = { left: 0, right: 0, up: 0, down: 0 };

export function clampExtent(value: number, max = MAX_EXTENT): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(max, Math.max(0, Math.round(value)));
}

export function normalizeExtents(e: Partial<Extents>, max = MAX_EXTENT): Extents {
  return {
    left: clampExtent(e.left ?? 0, max),
    right: clampExtent(e.right ?? 0, max),
    up: clampExtent(e.up ?? 0, max),
    down: clampExtent(e.down ?? 0, max),
  };
}

export function paddedSize(width: number, height: number, e: Extents): { width: number; height: number } {
  return { width: width + e.left + e.right, height: height + e.up + e.down };
}

export function hasExtents(e: Extents): boolean {
  return e.left > 0 || e.right > 0 || e.up > 0 || e.down > 0;
}

/**
 * null when the extents can be sent; otherwise what is wrong. `padInBrowser` adds the family's size
 * limits, since the padded picture is what the model receives.
 */
export function extentsProblem(width: number, height: number, e: Extents, limits: SizeLimits, padInBrowser: boolean): string | null {
  if (!hasExtents(e)) return 'Outpainting needs at least one side to grow: drag an edge or type a number of pixels.';
  if (!padInBrowser) return null;
  const p = paddedSize(width, height, e);
  const long = Math.max(p.width, p.height);
  const short = Math.min(p.width, p.height);
  if (long > limits.maxSide) return `The extended picture would be ${p.width}×${p.height}; this model accepts at most ${limits.maxSide} px per side.`;
  if (p.width * p.height > limits.maxPixels)
    return `The extended picture would be ${p.width}×${p.height} (${((p.width * p.height) / 1e6).toFixed(1)} MP); this model accepts at most ${(limits.maxPixels / 1e6).toFixed(1)} MP.`;
  if (long / short > limits.maxAspect)
    return `The extended picture would be ${p.width}×${p.height}, more elongated than this model accepts (${limits.maxAspect}:1).`;
  return null;
}

/** The picture with a neutral grey border added (DOM). */
export function padPicture(source: HTMLCanvasElement, e: Extents): HTMLCanvasElement {
  const p = paddedSize(source.width, source.height, e);
  const canvas = document.createElement('canvas');
  canvas.width = p.width;
  canvas.height = p.height;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#808080';
  ctx.fillRect(0, 0, p.width, p.height);
  ctx.drawImage(source, e.left, e.up);
  return canvas;
}
