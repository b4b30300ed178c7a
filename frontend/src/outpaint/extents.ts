// Outpainting extents: how many pixels to add on each side; the API takes them as options.extents.
// The arithmetic is pure and tested; padPicture() (the "before" picture beside the result) needs a canvas.

import type { Extents } from '../api/types';

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

/** null when the extents can be sent; otherwise what is wrong. */
export function extentsProblem(e: Extents): string | null {
  return hasExtents(e) ? null : 'Outpainting needs at least one side to grow: drag an edge or type a number of pixels.';
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
