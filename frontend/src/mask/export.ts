// Mask export. Our convention (the API contract): WHITE = area to change, BLACK = keep. The Lambda
// converts to each model family's own polarity; the browser never does.
//
// The editor paints on a transparent layer the size of the picture; a pixel counts as painted when its
// alpha is at least `threshold` (brush edges are anti-aliased). The exported mask is fully opaque and
// contains only pure black (0,0,0) and pure white (255,255,255) — the models reject grey.

export const MASK_THRESHOLD = 128;

export interface MaskPixels {
  /** RGBA, width*height*4 bytes, every pixel 0,0,0,255 or 255,255,255,255. */
  pixels: Uint8ClampedArray;
  width: number;
  height: number;
  /** Number of white (to change) pixels. */
  changed: number;
}

/** Paint layer (RGBA, alpha = painted) → black/white mask of the same size. Pure. */
export function paintToMask(paint: Uint8ClampedArray, width: number, height: number, threshold = MASK_THRESHOLD): MaskPixels {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`mask size must be positive integers, got ${width}×${height}`);
  }
  if (paint.length !== width * height * 4) {
    throw new RangeError(`paint layer has ${paint.length} bytes, expected ${width * height * 4} for ${width}×${height}`);
  }
  const pixels = new Uint8ClampedArray(paint.length);
  let changed = 0;
  for (let i = 0; i < paint.length; i += 4) {
    const v = paint[i + 3]! >= threshold ? 255 : 0;
    if (v) changed++;
    pixels[i] = v;
    pixels[i + 1] = v;
    pixels[i + 2] = v;
    pixels[i + 3] = 255;
  }
  return { pixels, width, height, changed };
}

/** PNG data URL of a mask (DOM: needs a canvas). */
export function maskToPngDataUrl(mask: MaskPixels): string {
  const canvas = document.createElement('canvas');
  canvas.width = mask.width;
  canvas.height = mask.height;
  const ctx = canvas.getContext('2d')!;
  ctx.putImageData(new ImageData(new Uint8ClampedArray(mask.pixels), mask.width, mask.height), 0, 0);
  return canvas.toDataURL('image/png');
}
