// Writes e2e/fixtures/photo.png: a deterministic 512×384 RGB test picture (sky, sun, hills, house),
// encoded with node:zlib only. Run: node e2e/make-fixture.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

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

const raw = Buffer.alloc((W * 3 + 1) * H);
for (let y = 0; y < H; y++) {
  const row = y * (W * 3 + 1);
  raw[row] = 0; // filter: none
  for (let x = 0; x < W; x++) raw.set(pixel(x, y), row + 1 + x * 3);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(W, 0);
ihdr.writeUInt32BE(H, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 2; // RGB
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const out = new URL('./fixtures/photo.png', import.meta.url);
writeFileSync(out, png);
console.log(`wrote ${out.pathname} (${png.length} bytes, ${W}×${H})`);
