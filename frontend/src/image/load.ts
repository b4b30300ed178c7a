// Turns a file (picked, dropped, pasted or a previous result) into the picture we send: decoded,
// flattened onto white (the models reject transparent pixels), resized to the family's limits and
// encoded as PNG — or JPEG when PNG would exceed the upload budget.

import {
  type SizeLimits,
  MAX_DECODE_PIXELS,
  base64Bytes,
  checkFile,
  fitToLimits,
  formatBytes,
  formatSize,
  shrinkForBytes,
} from './downscale';

export class ImageInputError extends Error {
  override name = 'ImageInputError';
}

export interface PreparedImage {
  /** The picture at the size we send. */
  canvas: HTMLCanvasElement;
  dataUrl: string;
  mime: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
  bytes: number;
  original: { width: number; height: number; bytes: number; name: string };
  /** What was changed and why, for the user. */
  notes: string[];
}

async function decode(blob: Blob): Promise<CanvasImageSource & { width: number; height: number }> {
  try {
    return await createImageBitmap(blob);
  } catch {
    // Older Safari: fall back to an <img>.
    const url = URL.createObjectURL(blob);
    try {
      const img = new Image();
      img.decoding = 'async';
      img.src = url;
      await img.decode();
      return Object.assign(img, { width: img.naturalWidth, height: img.naturalHeight });
    } catch {
      throw new ImageInputError('This file could not be read as a picture. It may be damaged or not an image at all.');
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}

function draw(source: CanvasImageSource, width: number, height: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new ImageInputError('This browser cannot draw pictures (no canvas support).');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0, width, height);
  return canvas;
}

/** What was read and what is sent, e.g. "4032×3024, 3.1 MB → sent as 3537×2653 JPEG, 2.9 MB." */
export function describePrepared(p: PreparedImage): string {
  return `${formatSize(p.original.width, p.original.height)}, ${formatBytes(p.original.bytes)} → sent as ${formatSize(p.width, p.height)} ${p.mime === 'image/png' ? 'PNG' : 'JPEG'}, ${formatBytes(p.bytes)}.`;
}

export async function prepareImage(
  blob: Blob,
  name: string,
  limits: SizeLimits,
  maxUploadBytes: number,
): Promise<PreparedImage> {
  const problem = checkFile({ type: blob.type, size: blob.size, name });
  if (problem) throw new ImageInputError(problem);
  const source = await decode(blob);
  const { width: ow, height: oh } = source;
  if (ow * oh > MAX_DECODE_PIXELS) {
    throw new ImageInputError(`The picture is ${formatSize(ow, oh)} — too large to process in the browser. Please use a smaller one.`);
  }
  const fit = fitToLimits(ow, oh, limits);
  if (!fit.ok) throw new ImageInputError(fit.reason);

  const notes: string[] = [];
  if (fit.resized === 'down') notes.push(`Downscaled from ${formatSize(ow, oh)} to ${formatSize(fit.width, fit.height)}: ${fit.why}.`);
  if (fit.resized === 'up') notes.push(`Enlarged from ${formatSize(ow, oh)} to ${formatSize(fit.width, fit.height)}: ${fit.why}.`);

  // Leave a tenth of the upload budget for the mask and the JSON around them.
  const budget = Math.floor(maxUploadBytes * 0.9);
  let width = fit.width;
  let height = fit.height;
  let canvas = draw(source, width, height);
  let mime: 'image/png' | 'image/jpeg' = 'image/png';
  let dataUrl = canvas.toDataURL(mime);
  let bytes = base64Bytes(dataUrl);
  for (let attempt = 0; bytes > budget && attempt < 6; attempt++) {
    if (mime === 'image/png') {
      mime = 'image/jpeg';
    } else {
      const next = shrinkForBytes(width, height, bytes, budget)!;
      if (Math.min(next.width, next.height) < limits.minSide) break;
      width = next.width;
      height = next.height;
      canvas = draw(source, width, height);
    }
    dataUrl = canvas.toDataURL(mime, 0.92);
    bytes = base64Bytes(dataUrl);
  }
  if (bytes > budget) {
    throw new ImageInputError(`The picture is still ${formatBytes(bytes)} after compression; the limit is ${formatBytes(budget)}. Please use a smaller picture.`);
  }
  if (mime === 'image/jpeg') notes.push(`Sent as JPEG (${formatSize(width, height)}) to stay under the ${formatBytes(maxUploadBytes)} upload limit.`);
  if ('close' in source && typeof source.close === 'function') source.close();
  return { canvas, dataUrl, mime, width, height, bytes, original: { width: ow, height: oh, bytes: blob.size, name }, notes };
}
