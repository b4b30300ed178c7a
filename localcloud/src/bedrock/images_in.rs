//! Images in: the request's base64 images decoded and checked against each family's rules, masks,
//! and the geometry of the area to change.

use std::io::Cursor;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use serde_json::Value;

use super::errors::{VResult, malformed, type_error};
use super::{
    CREATIVE_UPSCALE_MAX_PIXELS, FAST_UPSCALE_MAX_PIXELS, FAST_UPSCALE_MAX_SIDE, FAST_UPSCALE_MIN_PIXELS,
    FAST_UPSCALE_MIN_SIDE, STAB_MAX_PIXELS, STAB_MIN_PIXELS, STAB_MIN_SIDE, ULTRA_MAX_SIDE,
};

/// A decoded image: 8-bit RGB plus alpha when the file had an alpha channel.
#[derive(Clone)]
pub(super) struct Picture {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) rgb: Vec<u8>,
    pub(super) alpha: Option<Vec<u8>>,
}

/// What an input image must satisfy.
#[derive(Clone, Copy)]
pub(super) struct ImageRules {
    pub(super) min_side: u32,
    pub(super) max_side: u32,
    pub(super) min_pixels: u64,
    pub(super) max_pixels: u64,
    /// Longest side / shortest side at most `num / den` (None: no rule).
    pub(super) max_aspect: Option<(u64, u64)>,
    pub(super) max_bytes: usize,
}

/// The Image Services' `image` (and Style Transfer's `init_image`, `style_image`): every side at
/// least 64 px, 4,096–9,437,184 px, aspect ratio 1:2.5–2.5:1
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html).
pub(super) const STABILITY_IMAGES: ImageRules = ImageRules {
    min_side: STAB_MIN_SIDE,
    max_side: u32::MAX,
    min_pixels: STAB_MIN_PIXELS,
    max_pixels: STAB_MAX_PIXELS,
    max_aspect: Some((5, 2)),
    max_bytes: usize::MAX,
};

/// Fast Upscale's `image`: width and height 32–1,536 px, 1,024–1,048,576 px; no aspect-ratio rule
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html#stable-image-services-7).
pub(super) const FAST_UPSCALE_IMAGES: ImageRules = ImageRules {
    min_side: FAST_UPSCALE_MIN_SIDE,
    max_side: FAST_UPSCALE_MAX_SIDE,
    min_pixels: FAST_UPSCALE_MIN_PIXELS,
    max_pixels: FAST_UPSCALE_MAX_PIXELS,
    max_aspect: None,
    max_bytes: usize::MAX,
};

/// Creative Upscale's `image`: every side at least 64 px, 4,096–1,048,576 px; no aspect-ratio rule
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html#stable-image-services-5).
pub(super) const CREATIVE_UPSCALE_IMAGES: ImageRules =
    ImageRules { max_pixels: CREATIVE_UPSCALE_MAX_PIXELS, max_aspect: None, ..STABILITY_IMAGES };

/// Stable Image Ultra's `image`: width and height 64–16,384 px, at least 4,096 px (Stability's API
/// reference, `POST /v2beta/stable-image/generate/ultra`; AWS's page,
/// https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-stable-ultra-text-image-request-response.html,
/// states none). Images over 512 MiB of pixels are refused by the stand-in's own memory guard.
pub(super) const ULTRA_IMAGES: ImageRules =
    ImageRules { max_side: ULTRA_MAX_SIDE, max_pixels: u64::MAX, max_aspect: None, ..STABILITY_IMAGES };

/// SD3.5 Large's `image`: "Minimum 64 px per side", nothing more
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-3-5-large.html;
/// Stability's API reference, `POST /v2beta/stable-image/generate/sd3`, the same). Images over
/// 512 MiB of pixels are refused by the stand-in's own memory guard.
pub(super) const SD35_IMAGES: ImageRules = ImageRules { max_pixels: u64::MAX, max_aspect: None, ..STABILITY_IMAGES };

/// The most pixel bytes the stand-in decodes (the `image` crate's default allocation limit).
const STAND_IN_MAX_DECODED_BYTES: u64 = 512 * 1024 * 1024;

fn b64() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

pub(super) fn decode_picture(path: &str, v: &Value, rules: &ImageRules) -> VResult<Picture> {
    let s = v.as_str().ok_or_else(|| type_error(path, "String", v))?;
    let bytes = b64().decode(s.as_bytes()).map_err(|e| {
        malformed(path, format!("the image is not a valid base64 string ({e}); send the bare base64, no data: prefix"))
    })?;
    if bytes.len() > rules.max_bytes {
        return Err(malformed(
            path,
            format!("the image is {} bytes, more than the maximum of {} bytes", bytes.len(), rules.max_bytes),
        ));
    }
    let format = match image::guess_format(&bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
        Ok(f) => {
            return Err(malformed(path, format!("unsupported image format {f:?}; the image must be a PNG or JPEG")));
        }
        Err(_) => return Err(malformed(path, "the image is not a PNG or JPEG file")),
    };
    let reader = ImageReader::with_format(Cursor::new(&bytes[..]), format);
    let decoder = reader.into_decoder().map_err(|e| malformed(path, format!("the image cannot be decoded ({e})")))?;
    let (w, h) = decoder.dimensions();
    check_size(path, w, h, rules)?;
    // Not a Bedrock rule: the stand-in's own memory guard, for the models with no pixel limit.
    if decoder.total_bytes() > STAND_IN_MAX_DECODED_BYTES {
        return Err(malformed(
            path,
            format!(
                "the image is {w}x{h}; the local Bedrock stand-in decodes at most {STAND_IN_MAX_DECODED_BYTES} bytes \
                 of pixels"
            ),
        ));
    }
    let color = decoder.color_type();
    let img = DynamicImage::from_decoder(decoder)
        .map_err(|e| malformed(path, format!("the image cannot be decoded ({e})")))?;
    let (w, h) = (w as usize, h as usize);
    let pic = if color.has_alpha() {
        let rgba = img.into_rgba8().into_raw();
        let mut rgb = Vec::with_capacity(w * h * 3);
        let mut alpha = Vec::with_capacity(w * h);
        for px in rgba.chunks_exact(4) {
            rgb.extend_from_slice(&px[..3]);
            alpha.push(px[3]);
        }
        Picture { w, h, rgb, alpha: Some(alpha) }
    } else {
        Picture { w, h, rgb: img.into_rgb8().into_raw(), alpha: None }
    };
    Ok(pic)
}

pub(super) fn check_size(path: &str, w: u32, h: u32, r: &ImageRules) -> VResult<()> {
    let px = u64::from(w) * u64::from(h);
    let (lo, hi) = (w.min(h), w.max(h));
    if lo < r.min_side {
        return Err(malformed(path, format!("the image is {w}x{h}; each side must be at least {} pixels", r.min_side)));
    }
    if hi > r.max_side {
        return Err(malformed(path, format!("the image is {w}x{h}; each side must be at most {} pixels", r.max_side)));
    }
    if px < r.min_pixels {
        return Err(malformed(path, format!("the image has {px} pixels ({w}x{h}); the minimum is {}", r.min_pixels)));
    }
    if px > r.max_pixels {
        return Err(malformed(path, format!("the image has {px} pixels ({w}x{h}); the maximum is {}", r.max_pixels)));
    }
    if let Some((num, den)) = r.max_aspect
        && u128::from(hi) * u128::from(den) > u128::from(lo) * u128::from(num)
    {
        let ratio = if den == 1 { format!("{num}") } else { format!("{}", num as f64 / den as f64) };
        return Err(malformed(
            path,
            format!("the image is {w}x{h}; its aspect ratio must be between 1:{ratio} and {ratio}:1"),
        ));
    }
    Ok(())
}

pub(super) fn same_size(path: &str, mask: &Picture, image: &Picture) -> VResult<()> {
    if mask.w != image.w || mask.h != image.h {
        return Err(malformed(
            path,
            format!(
                "the mask is {}x{} but the image is {}x{}; the mask must have the same size as the image",
                mask.w, mask.h, image.w, image.h
            ),
        ));
    }
    Ok(())
}

/// Stability mask: the luminance, white = change, grey = partial.
pub(super) fn luma_mask(mask: &Picture) -> Vec<u8> {
    mask.rgb.chunks_exact(3).map(luma).collect()
}

pub(super) fn luma(px: &[u8]) -> u8 {
    ((u32::from(px[0]) * 299 + u32::from(px[1]) * 587 + u32::from(px[2]) * 114) / 1000) as u8
}

/// "The object" of the search models and of `maskPrompt`: a centred ellipse of half the size.
pub(super) fn centre_ellipse(w: usize, h: usize) -> Vec<u8> {
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (rx, ry) = ((w as f32 * 0.25).max(1.0), (h as f32 * 0.25).max(1.0));
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        let dy = (y as f32 + 0.5 - cy) / ry;
        for x in 0..w {
            let dx = (x as f32 + 0.5 - cx) / rx;
            if dx * dx + dy * dy <= 1.0 {
                out[y * w + x] = 255;
            }
        }
    }
    out
}

/// An inclusive pixel rectangle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Rect {
    pub(super) x0: usize,
    pub(super) y0: usize,
    pub(super) x1: usize,
    pub(super) y1: usize,
}

impl Rect {
    /// The bounding box of the non-zero pixels of a `w`-wide mask.
    pub(super) fn around(mask: &[u8], w: usize) -> Option<Rect> {
        let mut bb: Option<Rect> = None;
        for (y, row) in mask.chunks_exact(w).enumerate() {
            if let (Some(a), Some(b)) = (row.iter().position(|&c| c > 0), row.iter().rposition(|&c| c > 0)) {
                bb = Some(match bb {
                    None => Rect { x0: a, y0: y, x1: b, y1: y },
                    Some(r) => Rect { x0: r.x0.min(a), y0: r.y0, x1: r.x1.max(b), y1: y },
                });
            }
        }
        bb
    }

    /// Widened by `by` on every side, within a `w`×`h` image.
    pub(super) fn widen(self, by: usize, w: usize, h: usize) -> Rect {
        Rect {
            x0: self.x0.saturating_sub(by),
            y0: self.y0.saturating_sub(by),
            x1: (self.x1 + by).min(w - 1),
            y1: (self.y1 + by).min(h - 1),
        }
    }
}

/// Grows the change area by `r` pixels (chessboard distance) with a linear fall-off, like
/// Stability's `grow_mask` (which also feathers the edge).
pub(super) fn grow(change: &mut [u8], w: usize, h: usize, r: u32) {
    // Work in the changed pixels' bounding box widened by r + 1: nothing farther can change.
    let Some(bb) = Rect::around(change, w) else { return };
    if r == 0 {
        return;
    }
    let Rect { x0, y0, x1, y1 } = bb.widen(r as usize + 1, w, h);
    let (ww, wh) = (x1 - x0 + 1, y1 - y0 + 1);
    let cap = (r + 1) as u16;
    // Chessboard distance to the nearest changed pixel, capped at r + 1: two raster passes.
    let mut d = vec![cap; ww * wh];
    for y in 0..wh {
        for x in 0..ww {
            if change[(y + y0) * w + x + x0] > 0 {
                d[y * ww + x] = 0;
            }
        }
    }
    for y in 0..wh {
        for x in 0..ww {
            let i = y * ww + x;
            let mut m = d[i];
            if m == 0 {
                continue;
            }
            if x > 0 {
                m = m.min(d[i - 1] + 1);
            }
            if y > 0 {
                m = m.min(d[i - ww] + 1);
                if x > 0 {
                    m = m.min(d[i - ww - 1] + 1);
                }
                if x + 1 < ww {
                    m = m.min(d[i - ww + 1] + 1);
                }
            }
            d[i] = m.min(cap);
        }
    }
    for y in (0..wh).rev() {
        for x in (0..ww).rev() {
            let i = y * ww + x;
            let mut m = d[i];
            if m == 0 {
                continue;
            }
            if x + 1 < ww {
                m = m.min(d[i + 1] + 1);
            }
            if y + 1 < wh {
                m = m.min(d[i + ww] + 1);
                if x + 1 < ww {
                    m = m.min(d[i + ww + 1] + 1);
                }
                if x > 0 {
                    m = m.min(d[i + ww - 1] + 1);
                }
            }
            d[i] = m.min(cap);
        }
    }
    for y in 0..wh {
        for x in 0..ww {
            let dist = d[y * ww + x];
            let c = &mut change[(y + y0) * w + x + x0];
            if *c == 0 && dist < cap {
                *c = (255 * u32::from(cap - dist) / u32::from(cap)) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grow_feathers_outward_by_r() {
        let (w, h) = (9, 1);
        let mut m = vec![0u8; w * h];
        m[4] = 255;
        grow(&mut m, w, h, 2);
        assert_eq!(m, vec![0, 0, 85, 170, 255, 170, 85, 0, 0]);
    }

    #[test]
    fn grow_matches_brute_force_chessboard_distance() {
        let (w, h, r) = (40usize, 30usize, 4u32);
        let set = [(1usize, 1usize), (20, 15), (21, 15), (38, 28), (10, 25)];
        let mut m = vec![0u8; w * h];
        for (x, y) in set {
            m[y * w + x] = 255;
        }
        grow(&mut m, w, h, r);
        for y in 0..h {
            for x in 0..w {
                let d = set.iter().map(|&(sx, sy)| x.abs_diff(sx).max(y.abs_diff(sy))).min().unwrap() as u32;
                let want = if d == 0 {
                    255
                } else if d <= r {
                    (255 * (r + 1 - d) / (r + 1)) as u8
                } else {
                    0
                };
                assert_eq!(m[y * w + x], want, "at ({x}, {y})");
            }
        }
    }

    #[test]
    fn aspect_limits_are_exact() {
        assert!(check_size("#", 160, 64, &STABILITY_IMAGES).is_ok());
        assert!(check_size("#", 161, 64, &STABILITY_IMAGES).is_err());
        assert!(check_size("#", 63, 100, &STABILITY_IMAGES).is_err());
        assert!(check_size("#", 3072, 3072, &STABILITY_IMAGES).is_ok());
        assert!(check_size("#", 3073, 3072, &STABILITY_IMAGES).is_err());
    }
}
