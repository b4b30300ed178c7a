//! PNG work that needs no full decode: the integrity check of an upload passed to the model as
//! sent, and the history thumbnail of a model output made row by row.
//!
//! Why: a full decode (inflate, unfilter, one buffer of the whole image) of the pass-through
//! upload and of the model's answer was about half of the function's time around the model call
//! (`cargo bench -p image-edit-lambda --bench overhead`).
//!
//! The check refuses what a full decode with the `png` crate refuses, without unfiltering: once
//! every chunk is whole with its CRC, the image data inflates to at least its exact size and every
//! row's filter type is one of the five the PNG specification defines (section 9.2), unfiltering
//! cannot fail — inflating is the only part of a decode that can find a corrupt file. It is
//! stricter in two places, both of which the specification requires: the file must end with IEND
//! (a truncated file usually loses it first) and the zlib stream's Adler-32 checksum is verified
//! when the stream ends (the `png` crate skips it; zlib, which most decoders use, does not).
//! Interlaced images are left to the full decode.

use std::io::Cursor;

/// What the check found.
#[derive(Debug, PartialEq, Eq)]
pub enum Integrity {
    Intact,
    /// Why the file cannot be decoded, for the caller's 400.
    Corrupt(String),
    /// Interlaced (or an IHDR this module does not read): decode it fully instead.
    NeedsFullDecode,
}

/// Deflate's window: back-references reach at most this far (RFC 1951, 3.2.5).
const WINDOW: usize = 32 * 1024;
/// Inflate into this much memory at a time instead of the whole image.
const BUFFER: usize = 256 * 1024;

struct Header {
    width: u64,
    height: u64,
    /// Bytes of one filtered row, its filter type byte included.
    row_len: u64,
    interlaced: bool,
}

fn header(bytes: &[u8]) -> Option<Header> {
    if bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let be = |at: usize| bytes.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes);
    let (width, height) = (u64::from(be(16)?), u64::from(be(20)?));
    let (depth, color, interlace) = (*bytes.get(24)?, *bytes.get(25)?, *bytes.get(28)?);
    // Samples per pixel by colour type (PNG specification, table 11.1).
    let channels: u64 = match color {
        0 | 3 => 1,
        2 => 3,
        4 => 2,
        6 => 4,
        _ => return None,
    };
    let bits = width * channels * u64::from(depth);
    Some(Header { width, height, row_len: 1 + bits.div_ceil(8), interlaced: interlace != 0 })
}

/// Checks a PNG whose header was already read by a decoder (size limits included).
pub fn check(bytes: &[u8]) -> Integrity {
    let Some(h) = header(bytes) else { return Integrity::NeedsFullDecode };
    if h.interlaced || h.width == 0 || h.height == 0 {
        return Integrity::NeedsFullDecode;
    }
    let expected = h.row_len * h.height;
    let mut inflater = fdeflate::Decompressor::new();
    let mut out = vec![0u8; BUFFER];
    let mut at = 0usize; // where the next output goes in `out`
    let mut total = 0u64; // bytes inflated so far
    let mut next_row = 0u64; // stream offset of the next row's filter type byte
    let mut row = 0u64;
    let mut pos = 8usize;
    let mut idat = IdatState::Before;
    loop {
        let Some(len_bytes) = bytes.get(pos..pos + 8) else {
            return corrupt("the file ends before its IEND chunk (truncated?)");
        };
        let len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        let kind = &len_bytes[4..8];
        let name = String::from_utf8_lossy(kind).into_owned();
        if len > i32::MAX as u32 {
            return Integrity::Corrupt(format!("chunk {name} claims {len} bytes"));
        }
        let end = pos + 8 + len as usize;
        let Some(crc) = bytes.get(end..end + 4) else {
            return Integrity::Corrupt(format!("the file ends inside chunk {name} (truncated?)"));
        };
        if crc32fast::hash(&bytes[pos + 4..end]) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Integrity::Corrupt(format!("chunk {name} fails its CRC check"));
        }
        let data = &bytes[pos + 8..end];
        match (kind, idat) {
            (b"IDAT", IdatState::After) => return corrupt("its IDAT chunks are not consecutive"),
            (b"IDAT", _) => {
                idat = IdatState::Within;
                let mut input = data;
                while !input.is_empty() && !inflater.is_done() {
                    if at > BUFFER - WINDOW {
                        out.copy_within(at - WINDOW..at, 0);
                        at = WINDOW;
                    }
                    let (used, made) = match inflater.read(input, &mut out, at, false) {
                        Ok(r) => r,
                        Err(e) => {
                            return Integrity::Corrupt(format!("its image data is not a valid zlib stream ({e:?})"));
                        }
                    };
                    // Every row starts with its filter type: 0 to 4 (PNG specification, 9.2).
                    while row < h.height && next_row < total + made as u64 {
                        let filter = out[at + (next_row - total) as usize];
                        if filter > 4 {
                            return Integrity::Corrupt(format!("row {row} has filter type {filter} (0 to 4 exist)"));
                        }
                        row += 1;
                        next_row += h.row_len;
                    }
                    input = &input[used..];
                    at += made;
                    total += made as u64;
                    if used == 0 && made == 0 {
                        break;
                    }
                }
            }
            (b"IEND", _) => break,
            (_, IdatState::Within) => idat = IdatState::After,
            _ => {}
        }
        pos = end + 4;
    }
    if total < expected {
        return Integrity::Corrupt(format!("its image data ends early ({total} of {expected} bytes)"));
    }
    Integrity::Intact
}

fn corrupt(why: &str) -> Integrity {
    Integrity::Corrupt(why.to_owned())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum IdatState {
    Before,
    Within,
    After,
}

/// The thumbnail of a PNG, at most `side` on its long side, as 8-bit RGB with transparency
/// flattened on white: each row is decoded, then added into the thumbnail's row it falls in
/// (each thumbnail pixel the average of its source area). None when the file cannot be read
/// this way (interlaced) or is corrupt; the caller decides what to do then.
pub fn thumbnail(bytes: &[u8], side: u32) -> Option<image::RgbImage> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    // Palettes, low bit depths and tRNS become 8-bit gray/RGB(A); 16-bit samples become 8-bit.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().ok()?;
    let info = reader.info();
    if info.interlaced {
        return None;
    }
    let (w, h) = (info.width, info.height);
    let (color, _) = reader.output_color_type();
    let channels = color.samples();
    let (tw, th) = fit_within(w, h, side);
    // Sums per thumbnail pixel: R, G, B (each × alpha), alpha, and the pixel count.
    let mut sums = vec![[0u64; 5]; (tw * th) as usize];
    // The source columns of each thumbnail column: x belongs to column ⌊x·tw/w⌋.
    let mut spans = vec![(0usize, 0usize); tw as usize];
    for x in 0..w {
        let tx = (u64::from(x) * u64::from(tw) / u64::from(w)) as usize;
        if spans[tx].1 == 0 {
            spans[tx].0 = x as usize;
        }
        spans[tx].1 = x as usize + 1;
    }
    let mut y = 0u32;
    while let Some(r) = reader.next_row().ok()? {
        let ty = (u64::from(y) * u64::from(th) / u64::from(h)) as usize;
        let band = &mut sums[ty * tw as usize..(ty + 1) * tw as usize];
        let data = r.data();
        for (s, &(x0, x1)) in band.iter_mut().zip(&spans) {
            let px = data.get(x0 * channels..x1 * channels)?;
            add_span(s, px, channels);
        }
        y += 1;
    }
    if y != h {
        return None;
    }
    let mut out = image::RgbImage::new(tw, th);
    for (o, s) in out.pixels_mut().zip(&sums) {
        let n = s[4].max(1);
        let alpha_sum = s[3];
        // Average colour (alpha-weighted) composited on white by the average opacity.
        for c in 0..3 {
            let over_white = s[c] + 255 * (255 * n - alpha_sum);
            o[c] = ((over_white + 255 * n / 2) / (255 * n)) as u8;
        }
    }
    Some(out)
}

/// Adds one row's pixels of one thumbnail column into its sums (the opaque layouts without the
/// alpha products: most model outputs are RGB).
fn add_span(s: &mut [u64; 5], px: &[u8], channels: usize) {
    let n = (px.len() / channels.max(1)) as u64;
    let (mut r, mut g, mut b, mut a) = (0u64, 0u64, 0u64, 0u64);
    match channels {
        3 => {
            for p in px.chunks_exact(3) {
                r += u64::from(p[0]);
                g += u64::from(p[1]);
                b += u64::from(p[2]);
            }
            (r, g, b, a) = (r * 255, g * 255, b * 255, 255 * n);
        }
        1 => {
            for &l in px {
                r += u64::from(l);
            }
            (r, g, b, a) = (r * 255, r * 255, r * 255, 255 * n);
        }
        2 | 4 => {
            for p in px.chunks_exact(channels) {
                let alpha = u64::from(p[channels - 1]);
                let (pr, pg, pb) = if channels == 2 { (p[0], p[0], p[0]) } else { (p[0], p[1], p[2]) };
                r += u64::from(pr) * alpha;
                g += u64::from(pg) * alpha;
                b += u64::from(pb) * alpha;
                a += alpha;
            }
        }
        _ => {}
    }
    s[0] += r;
    s[1] += g;
    s[2] += b;
    s[3] += a;
    s[4] += n;
}

/// `w`×`h` scaled to fit in `side`×`side`, aspect ratio kept, never enlarged, at least 1×1.
pub fn fit_within(w: u32, h: u32, side: u32) -> (u32, u32) {
    if w <= side && h <= side {
        return (w.max(1), h.max(1));
    }
    let (w64, h64, s) = (u64::from(w), u64::from(h), u64::from(side));
    if w >= h {
        (side, ((h64 * s + w64 / 2) / w64).max(1) as u32)
    } else {
        (((w64 * s + h64 / 2) / h64).max(1) as u32, side)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

    fn png_of(img: DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).expect("png");
        out.into_inner()
    }

    fn photo(w: u32, h: u32) -> Vec<u8> {
        let mut s = 0x2545_F491u32;
        png_of(DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let n = s & 7;
            Rgb([(x * 240 / w + n) as u8, (y * 240 / h + n) as u8, ((x + y) * 240 / (w + h) + n) as u8])
        })))
    }

    fn full_decode_ok(bytes: &[u8]) -> bool {
        image::load_from_memory_with_format(bytes, ImageFormat::Png).is_ok()
    }

    /// The chunk that starts at `pos` (length, type, data, CRC) with its CRC recomputed.
    fn fix_crc(bytes: &mut [u8], pos: usize) {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let crc = crc32fast::hash(&bytes[pos + 4..pos + 8 + len]);
        bytes[pos + 8 + len..pos + 12 + len].copy_from_slice(&crc.to_be_bytes());
    }

    fn idat_at(bytes: &[u8]) -> usize {
        bytes.windows(4).position(|w| w == b"IDAT").expect("IDAT") - 4
    }

    #[test]
    fn intact_files_pass_and_agree_with_a_full_decode() {
        for png in [
            photo(300, 200),
            photo(1, 1),
            png_of(DynamicImage::ImageLuma8(image::GrayImage::from_fn(33, 7, |x, _| image::Luma([x as u8])))),
            png_of(DynamicImage::ImageRgba8(RgbaImage::from_pixel(9, 9, Rgba([1, 2, 3, 4])))),
        ] {
            assert_eq!(check(&png), Integrity::Intact);
            assert!(full_decode_ok(&png));
        }
    }

    #[test]
    fn truncation_anywhere_is_refused() {
        let png = photo(120, 80);
        for cut in [png.len() - 1, png.len() - 12, png.len() * 6 / 10, 60] {
            assert!(matches!(check(&png[..cut]), Integrity::Corrupt(_)), "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_byte_fails_the_crc() {
        let mut png = photo(120, 80);
        let at = idat_at(&png) + 8 + 40;
        png[at] ^= 0x55;
        assert!(!full_decode_ok(&png));
        assert_eq!(check(&png), Integrity::Corrupt("chunk IDAT fails its CRC check".into()));
    }

    #[test]
    fn a_broken_stream_with_a_good_crc_is_refused_like_a_full_decode() {
        // Corrupt the deflate data and recompute the CRC: only inflating can find it.
        let mut png = photo(120, 80);
        let at = idat_at(&png);
        for b in &mut png[at + 8 + 2..at + 8 + 40] {
            *b = 0xFF;
        }
        fix_crc(&mut png, at);
        assert!(!full_decode_ok(&png));
        assert!(matches!(check(&png), Integrity::Corrupt(_)));
    }

    #[test]
    fn a_bad_filter_type_is_refused_like_a_full_decode() {
        // Stored (uncompressed) deflate so that a row's filter byte can be set by hand.
        let (w, h) = (4u32, 3u32);
        let row_len = 1 + w as usize * 3;
        let mut raw = vec![0u8; row_len * h as usize];
        raw[row_len] = 7; // row 1: filter type 7
        let mut z = vec![0x78, 0x01, 0x01];
        z.extend_from_slice(&(raw.len() as u16).to_le_bytes());
        z.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
        z.extend_from_slice(&raw);
        z.extend_from_slice(&adler32(&raw).to_be_bytes());
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            png.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let start = png.len();
            png.extend_from_slice(kind);
            png.extend_from_slice(data);
            let crc = crc32fast::hash(&png[start..]);
            png.extend_from_slice(&crc.to_be_bytes());
        };
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(b"IHDR", &ihdr);
        chunk(b"IDAT", &z);
        chunk(b"IEND", &[]);
        assert!(!full_decode_ok(&png));
        assert_eq!(check(&png), Integrity::Corrupt("row 1 has filter type 7 (0 to 4 exist)".into()));
    }

    fn adler32(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &d in data {
            a = (a + u32::from(d)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }

    #[test]
    fn the_thumbnail_matches_the_image_crates_area_average() {
        let png = photo(301, 157);
        let ours = thumbnail(&png, 128).expect("thumbnail");
        let theirs = image::load_from_memory(&png).expect("decode").thumbnail(128, 128).to_rgb8();
        assert_eq!(ours.dimensions(), theirs.dimensions());
        let worst = ours.as_raw().iter().zip(theirs.as_raw()).map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
        assert!(worst <= 24, "largest channel difference {worst}");
    }

    #[test]
    fn transparent_thumbnails_are_flattened_on_white() {
        let png = png_of(DynamicImage::ImageRgba8(RgbaImage::from_pixel(256, 256, Rgba([0, 0, 0, 0]))));
        let t = thumbnail(&png, 128).expect("thumbnail");
        assert_eq!(t.dimensions(), (128, 128));
        assert!(t.pixels().all(|p| p.0 == [255, 255, 255]));
        let half = png_of(DynamicImage::ImageRgba8(RgbaImage::from_pixel(4, 4, Rgba([0, 0, 0, 128]))));
        let t = thumbnail(&half, 128).expect("thumbnail");
        assert!(t.pixels().all(|p| p.0 == [127, 127, 127]), "{:?}", t.get_pixel(0, 0));
    }

    #[test]
    fn fit_within_keeps_the_aspect_ratio() {
        assert_eq!(fit_within(1024, 1024, 128), (128, 128));
        assert_eq!(fit_within(1024, 512, 128), (128, 64));
        assert_eq!(fit_within(100, 4000, 128), (3, 128));
        assert_eq!(fit_within(64, 32, 128), (64, 32));
        assert_eq!(fit_within(10_000, 1, 128), (128, 1));
    }
}
