// Writes e2e/fixtures/photo.png: a deterministic 512×384 RGB test picture (sky, sun, hills, house),
// encoded with node:zlib only. Run: node e2e/make-fixture.mjs
import { writeFileSync } from 'node:fs';
import { encodePng } from './png.mjs';

const W = 512;
const H = 384;

function pixel(x, y) {
  // house: walls and roof
  if (x >= 300 && x < 420 && y >= 220 && y < 320) return x >= 345 && x < 375 && y >= 260 ? [90, 60, 40] : [200, 190, 170];
  if (y >= 160 && y < 220 && Math.abs(x - 360) <= (y - 160) * 1.1) return [150, 40, 40];
  // sun
  if ((x - 110) ** 2 + (y - 90) ** 2 < 40 ** 2) return [250, 210, 80];
  // hills
  const hill = 260 + 30 * Math.sin(x / 60);
  if (y > hill) return [60 + ((y - hill) >> 2), 140, 60];
  // sky gradient (in steps, so it compresses well)
  const t = Math.floor((y / hill) * 12) / 12;
  return [Math.round(120 + 80 * t), Math.round(170 + 50 * t), 235];
}

const png = encodePng(W, H, pixel);
const out = new URL('./fixtures/photo.png', import.meta.url);
writeFileSync(out, png);
console.log(`wrote ${out.pathname} (${png.length} bytes, ${W}×${H})`);
