//! Everything done to pixels: decoding uploads (base64 or data URL, PNG or JPEG), size checks,
//! fitting an image to the model, mask thresholding and polarity, thumbnails.
//!
//! Images are passed to the model untouched whenever they already fit (no decode, no re-encode);
//! they are decoded only to resize, to rotate by their EXIF orientation, to convert their pixel
//! format.

use std::io::Cursor;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{
    ColorType, DynamicImage, GrayImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits, RgbImage,
};

use crate::config::{MAX_DECODE_BYTES, MAX_DECODE_PIXELS, MAX_UPLOAD_BYTES};
use crate::errors::ApiError;
use crate::models::ModelImage;
use crate::png_stream::{self, Integrity};

/// Accepts padded and unpadded base64.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes standard base64, padded or not. The SIMD decoder takes the usual forms (~4× faster on
/// a 2.8 MB image: `cargo bench --bench overhead`); what it refuses goes to the lenient decoder,
/// so exactly what `LENIENT_B64` accepts is accepted (a partial `=` padding, for one).
fn decode_b64(s: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
    let fast = if s.len().is_multiple_of(4) { base64_simd::STANDARD } else { base64_simd::STANDARD_NO_PAD };
    fast.decode_to_vec(s).or_else(|_| LENIENT_B64.decode(s))
}

/// Canonical (padded) base64.
fn encode_b64(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

/// Long side of history thumbnails.
pub const THUMBNAIL_SIDE: u32 = 128;
const THUMBNAIL_QUALITY: u8 = 70;
/// Quality of JPEG uploads that had to be re-encoded (resized or rotated).
const REENCODE_JPEG_QUALITY: u8 = 95;
/// Fraction of mid-grey pixels above which a mask is refused as "not black and white".
const MAX_GREY_FRACTION: f64 = 0.5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
}

impl ImageKind {
    fn format(self) -> ImageFormat {
        match self {
            ImageKind::Png => ImageFormat::Png,
            ImageKind::Jpeg => ImageFormat::Jpeg,
        }
    }
}

/// Bytes of an uploaded image and what they are.
#[derive(Debug)]
pub struct Upload {
    pub bytes: Vec<u8>,
    pub kind: ImageKind,
    /// The caller's base64 when it is canonical (padded, no whitespace), reused verbatim when the
    /// image goes to the model untouched.
    pub base64: Option<String>,
}

impl Upload {
    /// Canonical base64 of the bytes.
    fn to_base64(&self) -> String {
        self.base64.clone().unwrap_or_else(|| encode_b64(&self.bytes))
    }
}

/// Size rules an image must satisfy for a model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitLimits {
    pub min_side: u32,
    pub max_side: u32,
    pub min_pixels: u64,
    pub max_pixels: u64,
    pub max_aspect: f64,
}

/// The image as the model gets it, plus what the caller sent.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedImage {
    pub model: ModelImage,
    /// Size after EXIF orientation, before fitting: what the user saw and drew the mask on.
    pub source_width: u32,
    pub source_height: u32,
    /// Decoded bytes of the upload.
    pub source_bytes: usize,
    pub notices: Vec<String>,
}

/// Decodes a data URL or bare base64 string into bytes and sniffs PNG/JPEG.
/// Too large → 413 before decoding; not base64 / not PNG or JPEG → 400.
pub fn decode_upload(field: &str, value: &str) -> Result<Upload, ApiError> {
    let payload = match value.strip_prefix("data:") {
        Some(rest) => {
            let (header, data) = rest
                .split_once(',')
                .ok_or_else(|| ApiError::validation(field, format!("{field} is a data URL without a comma")))?;
            if !header.to_ascii_lowercase().ends_with(";base64") {
                return Err(ApiError::validation(
                    field,
                    format!("{field} must be a base64 data URL (data:image/png;base64,...)"),
                ));
            }
            data
        }
        None => value,
    };
    let cleaned: std::borrow::Cow<'_, str> = if payload.bytes().any(|b| b.is_ascii_whitespace()) {
        payload.chars().filter(|c| !c.is_ascii_whitespace()).collect::<String>().into()
    } else {
        payload.into()
    };
    if cleaned.is_empty() {
        return Err(ApiError::validation(field, format!("{field} is empty")));
    }
    let estimated = cleaned.len() / 4 * 3;
    if estimated > MAX_UPLOAD_BYTES + 3 {
        return Err(ApiError::too_large(
            field,
            format!("{field} is about {} bytes; at most {MAX_UPLOAD_BYTES} bytes are accepted", estimated),
        ));
    }
    let bytes = decode_b64(cleaned.as_bytes())
        .map_err(|_| ApiError::validation(field, format!("{field} is not valid base64")))?;
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(ApiError::too_large(
            field,
            format!("{field} is {} bytes; at most {MAX_UPLOAD_BYTES} bytes are accepted", bytes.len()),
        ));
    }
    let kind = sniff(&bytes)
        .map_err(|what| ApiError::validation(field, format!("{field} must be a PNG or JPEG image (got {what})")))?;
    let canonical = cleaned.len().is_multiple_of(4) && matches!(cleaned, std::borrow::Cow::Borrowed(_));
    let base64 = canonical.then(|| cleaned.into_owned());
    Ok(Upload { bytes, kind, base64 })
}

fn sniff(bytes: &[u8]) -> Result<ImageKind, &'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(ImageKind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(ImageKind::Jpeg)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Err("WebP")
    } else if bytes.starts_with(b"GIF8") {
        Err("GIF")
    } else {
        Err("something that is not an image")
    }
}

/// A decoder with our safety limits, plus the facts read from the header.
struct Opened<'a> {
    decoder: Box<dyn ImageDecoder + 'a>,
    width: u32,
    height: u32,
    color: ColorType,
    orientation: Orientation,
}

fn open<'a>(field: &str, upload: &'a Upload) -> Result<Opened<'a>, ApiError> {
    let not_valid = |e: image::ImageError| {
        let kind = match upload.kind {
            ImageKind::Png => "PNG",
            ImageKind::Jpeg => "JPEG",
        };
        ApiError::validation(field, format!("{field} is not a valid {kind} image ({e})"))
    };
    // Refuse decompression bombs from the header alone, before any decoder allocates.
    if let Some((w, h)) = header_dimensions(&upload.bytes, upload.kind) {
        check_pixels(field, w, h)?;
        check_bytes(field, w, h, png_bytes_per_pixel(&upload.bytes, upload.kind))?;
    }
    let mut reader = ImageReader::with_format(Cursor::new(upload.bytes.as_slice()), upload.kind.format());
    let mut limits = Limits::default();
    limits.max_image_width = Some(65_535);
    limits.max_image_height = Some(65_535);
    limits.max_alloc = Some(MAX_DECODE_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => ApiError::too_large(
            field,
            format!(
                "{field} is too large to decode; at most {:.0} megapixels can be processed",
                MAX_DECODE_PIXELS as f64 / 1e6
            ),
        ),
        other => not_valid(other),
    })?;
    let (raw_w, raw_h) = decoder.dimensions();
    if raw_w == 0 || raw_h == 0 {
        return Err(ApiError::validation(field, format!("{field} has no pixels")));
    }
    check_pixels(field, raw_w, raw_h)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let (width, height) = match orientation {
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH => {
            (raw_h, raw_w)
        }
        _ => (raw_w, raw_h),
    };
    let color = decoder.color_type();
    // The decoded buffer, bit depth and channels included: `max_alloc` is not applied to the
    // buffer `DynamicImage::from_decoder` allocates, so it is bounded here, before any decode.
    check_bytes(field, raw_w, raw_h, u64::from(color.bytes_per_pixel()))?;
    Ok(Opened { decoder: Box::new(decoder), width, height, color, orientation })
}

/// Bytes per decoded pixel from a PNG's IHDR (bit depth and colour type; palettes and low bit
/// depths decode to 8-bit RGB(A)); JPEG decodes to at most 3 bytes.
fn png_bytes_per_pixel(bytes: &[u8], kind: ImageKind) -> u64 {
    match kind {
        ImageKind::Jpeg => 3,
        ImageKind::Png => {
            let (depth, color) = (bytes.get(24).copied().unwrap_or(8), bytes.get(25).copied().unwrap_or(6));
            let channels = match color {
                0 => 1,
                2 => 3,
                4 => 2,
                _ => 4, // 6 = RGBA; 3 = palette, at worst RGBA
            };
            if depth == 16 { channels * 2 } else { channels }
        }
    }
}

fn check_bytes(field: &str, w: u32, h: u32, bytes_per_pixel: u64) -> Result<(), ApiError> {
    let bytes = u64::from(w) * u64::from(h) * bytes_per_pixel;
    if bytes > MAX_DECODE_BYTES {
        return Err(ApiError::too_large(
            field,
            format!(
                "{field} ({w}×{h}, {bytes_per_pixel} bytes a pixel) needs {} MB to decode; at most {} MB can be \
                 processed (send 8 bits per channel, or fewer pixels)",
                bytes.div_ceil(1 << 20),
                MAX_DECODE_BYTES >> 20
            ),
        ));
    }
    Ok(())
}

fn check_pixels(field: &str, w: u32, h: u32) -> Result<(), ApiError> {
    let pixels = u64::from(w) * u64::from(h);
    if pixels > MAX_DECODE_PIXELS {
        return Err(ApiError::too_large(
            field,
            format!(
                "{field} is {w}×{h} ({:.1} megapixels); at most {:.0} megapixels can be processed",
                pixels as f64 / 1e6,
                MAX_DECODE_PIXELS as f64 / 1e6
            ),
        ));
    }
    Ok(())
}

/// Width and height from the PNG IHDR or the JPEG SOF marker, without a decoder.
fn header_dimensions(bytes: &[u8], kind: ImageKind) -> Option<(u32, u32)> {
    let be16 = |i: usize| -> Option<u32> { Some(u32::from(u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]))) };
    match kind {
        ImageKind::Png => {
            let be32 = |i: usize| -> Option<u32> { Some(u32::from_be_bytes(bytes.get(i..i + 4)?.try_into().ok()?)) };
            (bytes.get(12..16) == Some(b"IHDR")).then_some(())?;
            Some((be32(16)?, be32(20)?))
        }
        ImageKind::Jpeg => {
            let mut i = 2;
            while i + 3 < bytes.len() {
                if bytes[i] != 0xFF {
                    return None;
                }
                let marker = bytes[i + 1];
                match marker {
                    0xFF => i += 1,
                    0x01 | 0xD0..=0xD9 => i += 2,
                    0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                        return Some((be16(i + 7)?, be16(i + 5)?));
                    }
                    _ => i += 2 + usize::try_from(be16(i + 2)?).ok()?,
                }
            }
            None
        }
    }
}

/// Decodes the whole image into a scratch buffer (bounded by [`MAX_DECODE_BYTES`] in [`open`]).
fn check_decodes(field: &str, opened: Opened<'_>) -> Result<(), ApiError> {
    let decoder = opened.decoder;
    let mut buf = vec![0u8; usize::try_from(decoder.total_bytes()).unwrap_or(usize::MAX)];
    decoder.read_image(&mut buf).map_err(|e| ApiError::validation(field, format!("{field} could not be decoded ({e})")))
}

fn decode(field: &str, opened: Opened<'_>) -> Result<DynamicImage, ApiError> {
    let orientation = opened.orientation;
    let mut img = DynamicImage::from_decoder(opened.decoder)
        .map_err(|e| ApiError::validation(field, format!("{field} could not be decoded ({e})")))?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// The size `w`×`h` must be scaled to so that it satisfies `limits`, or a 400 when no scaling
/// can (aspect ratio).
pub fn fit(field: &str, w: u32, h: u32, limits: &FitLimits) -> Result<(u32, u32), ApiError> {
    let (long, short) = (w.max(h), w.min(h).max(1));
    let aspect = f64::from(long) / f64::from(short);
    if aspect > limits.max_aspect + 1e-9 {
        return Err(ApiError::validation(
            field,
            format!(
                "{field} is {w}×{h}, an aspect ratio of {aspect:.2}:1; the model accepts at most {}:1",
                limits.max_aspect
            ),
        ));
    }
    let pixels = f64::from(w) * f64::from(h);
    let mut scale = 1.0f64;
    if long > limits.max_side {
        scale = scale.min(f64::from(limits.max_side) / f64::from(long));
    }
    if pixels > limits.max_pixels as f64 {
        scale = scale.min((limits.max_pixels as f64 / pixels).sqrt());
    }
    if scale < 1.0 {
        let mut nw = ((f64::from(w) * scale).floor() as u32).max(1);
        let mut nh = ((f64::from(h) * scale).floor() as u32).max(1);
        while u64::from(nw) * u64::from(nh) > limits.max_pixels || nw.max(nh) > limits.max_side {
            nw = nw.saturating_sub(1).max(1);
            nh = ((f64::from(nw) * f64::from(h) / f64::from(w)).floor() as u32).max(1);
        }
        return Ok((nw, nh));
    }
    if short < limits.min_side || (pixels as u64) < limits.min_pixels {
        let up = (f64::from(limits.min_side) / f64::from(short)).max((limits.min_pixels as f64 / pixels).sqrt());
        let nw = (f64::from(w) * up).ceil() as u32;
        let nh = (f64::from(h) * up).ceil() as u32;
        if nw.max(nh) > limits.max_side || u64::from(nw) * u64::from(nh) > limits.max_pixels {
            return Err(ApiError::validation(
                field,
                format!("{field} is {w}×{h}; each side must be at least {} px", limits.min_side),
            ));
        }
        return Ok((nw, nh));
    }
    Ok((w, h))
}

/// Checks and fits an uploaded image for the model (transparency is kept: the Stability services
/// take RGBA).
pub fn prepare_image(field: &str, upload: &Upload, limits: &FitLimits) -> Result<PreparedImage, ApiError> {
    let opened = open(field, upload)?;
    let (sw, sh) = (opened.width, opened.height);
    let (tw, th) = fit(field, sw, sh, limits)?;
    let mut notices = Vec::new();
    let resize = (tw, th) != (sw, sh);
    let oriented = opened.orientation != Orientation::NoTransforms;
    let pass_through_color = matches!(opened.color, ColorType::Rgb8 | ColorType::Rgba8);
    if !resize && !oriented && pass_through_color {
        // Passed on as sent, but only once it is known to decode: a truncated or corrupt file is
        // the caller's 400 here, not the model's error (and a billed call) later. A PNG is checked
        // without unfiltering it (png_stream.rs says why that finds the same files).
        let integrity = match upload.kind {
            ImageKind::Png => png_stream::check(&upload.bytes),
            ImageKind::Jpeg => Integrity::NeedsFullDecode,
        };
        match integrity {
            Integrity::Intact => {}
            Integrity::Corrupt(why) => {
                return Err(ApiError::validation(field, format!("{field} could not be decoded ({why})")));
            }
            Integrity::NeedsFullDecode => check_decodes(field, opened)?,
        }
        return Ok(PreparedImage {
            model: ModelImage { base64: upload.to_base64(), width: sw, height: sh },
            source_width: sw,
            source_height: sh,
            source_bytes: upload.bytes.len(),
            notices,
        });
    }
    let mut img = decode(field, opened)?;
    if resize {
        img = scale(&img, tw, th);
        notices.push(format!("image resized to {tw}×{th} to fit the model (was {sw}×{sh})"));
    }
    let img = match img {
        DynamicImage::ImageRgba8(_) | DynamicImage::ImageRgb8(_) => img,
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    };
    // Photos stay JPEG (a PNG of a large photo can exceed InvokeModel's 25 MB body); anything
    // else, and anything with alpha, becomes PNG.
    let encoded = if upload.kind == ImageKind::Jpeg && !img.color().has_alpha() {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, REENCODE_JPEG_QUALITY).encode_image(&img).map(|()| out)
    } else {
        encode_png(&img)
    }
    .map_err(|e| ApiError::Internal(format!("could not encode the image: {e}")))?;
    Ok(PreparedImage {
        model: ModelImage { base64: encode_b64(&encoded), width: tw, height: th },
        source_width: sw,
        source_height: sh,
        source_bytes: upload.bytes.len(),
        notices,
    })
}

/// `img` at `w`×`h`. Shrinking averages each output pixel's source area with integers
/// (`thumbnail_exact`): a good filter for reduction, and it allocates only the output, where a
/// separable filter would hold an f32 RGBA copy of the image (16 bytes a pixel: 400 MB for a
/// 25-megapixel upload). Enlarging (small images only) interpolates.
fn scale(img: &DynamicImage, w: u32, h: u32) -> DynamicImage {
    if w <= img.width() && h <= img.height() {
        img.thumbnail_exact(w, h)
    } else {
        img.resize_exact(w, h, FilterType::Triangle)
    }
}

fn flatten_on_white(img: &DynamicImage) -> RgbImage {
    let rgba = img.to_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(p[3]);
        for c in 0..3 {
            o[c] = ((u32::from(p[c]) * a + 255 * (255 - a) + 127) / 255) as u8;
        }
    }
    out
}

fn encode_png(img: &DynamicImage) -> image::ImageResult<Vec<u8>> {
    let mut out = Vec::new();
    let enc = PngEncoder::new_with_quality(&mut out, CompressionType::Fast, PngFilter::Adaptive);
    img.write_with_encoder(enc)?;
    Ok(out)
}

/// A mask thresholded to pure black/white, checked against the image size the user drew on,
/// resized with the image, and converted to the model's polarity. `source_white_changes`: the
/// caller's convention (this API: white = change; the seed app's inpainting: black = change).
/// `model_white_changes`: the model changes white pixels.
///
/// The mask must have exactly the size of the image (after EXIF orientation); it is never
/// stretched to fit, because a mask of another size would select the wrong pixels.
pub fn prepare_mask(
    field: &str,
    upload: &Upload,
    image: &PreparedImage,
    source_white_changes: bool,
    model_white_changes: bool,
) -> Result<ModelImage, ApiError> {
    let opened = open(field, upload)?;
    if (opened.width, opened.height) != (image.source_width, image.source_height) {
        return Err(ApiError::validation(
            field,
            format!(
                "{field} is {}×{} but the image is {}×{}; the mask must be the same size as the image",
                opened.width, opened.height, image.source_width, image.source_height
            ),
        ));
    }
    let img = decode(field, opened)?;
    let (w, h) = (img.width(), img.height());
    // Effective brightness: grey level × opacity. Transparent pixels count as black (keep), so a
    // canvas overlay with white strokes works as is.
    let luma = mask_levels(&img);
    drop(img);
    let mut grey = 0u64;
    let mut change = 0u64;
    for &v in luma.as_raw() {
        grey += u64::from((33..=222).contains(&v));
        change += u64::from((v >= 128) == source_white_changes);
    }
    let total = u64::from(w) * u64::from(h);
    if grey as f64 > total as f64 * MAX_GREY_FRACTION {
        return Err(ApiError::validation(
            field,
            format!(
                "{field} must be black and white (white = area to change); {:.0}% of its pixels are grey",
                grey as f64 * 100.0 / total as f64
            ),
        ));
    }
    if change == 0 {
        return Err(ApiError::validation(
            field,
            format!(
                "{field} selects nothing; paint the area to change in {}",
                if source_white_changes { "white" } else { "black" }
            ),
        ));
    }
    let (tw, th) = (image.model.width, image.model.height);
    let luma = match (tw, th) {
        s if s == (w, h) => luma,
        // Shrinking: integer area averaging, no f32 copy (see `scale`).
        (tw, th) if tw <= w && th <= h => image::imageops::thumbnail(&luma, tw, th),
        (tw, th) => image::imageops::resize(&luma, tw, th, FilterType::Triangle),
    };
    // Source white → model value for "white in the source".
    let (white, black) = if source_white_changes == model_white_changes { (255u8, 0u8) } else { (0u8, 255u8) };
    let mut rgb = RgbImage::new(tw, th);
    for (o, p) in rgb.pixels_mut().zip(luma.pixels()) {
        let v = if p[0] >= 128 { white } else { black };
        o.0 = [v, v, v];
    }
    let mut png = Vec::new();
    // Long runs of identical bytes: deflate needs no filter, and adaptive filtering is the
    // slowest part of encoding a large mask.
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, PngFilter::NoFilter)
        .write_image(rgb.as_raw(), tw, th, image::ExtendedColorType::Rgb8)
        .map_err(|e| ApiError::Internal(format!("could not encode the mask: {e}")))?;
    Ok(ModelImage { base64: encode_b64(&png), width: tw, height: th })
}

/// The mask's grey level × opacity per pixel; straight from the bytes for the usual 8-bit
/// layouts (the generic conversion goes through floats and is several times slower).
fn mask_levels(img: &DynamicImage) -> GrayImage {
    let (w, h) = (img.width(), img.height());
    let level = |c: &[u8]| -> u8 {
        match *c {
            [l] => l,
            [l, a] => ((u32::from(l) * u32::from(a) + 127) / 255) as u8,
            [r, g, b] => ((u32::from(r) + u32::from(g) + u32::from(b)) / 3) as u8,
            [r, g, b, a] => (((u32::from(r) + u32::from(g) + u32::from(b)) / 3 * u32::from(a) + 127) / 255) as u8,
            _ => 0,
        }
    };
    let raw: Option<(&[u8], usize)> = match img {
        DynamicImage::ImageLuma8(b) => Some((b.as_raw(), 1)),
        DynamicImage::ImageLumaA8(b) => Some((b.as_raw(), 2)),
        DynamicImage::ImageRgb8(b) => Some((b.as_raw(), 3)),
        DynamicImage::ImageRgba8(b) => Some((b.as_raw(), 4)),
        _ => None,
    };
    match raw {
        Some((bytes, n)) => GrayImage::from_vec(w, h, bytes.chunks_exact(n).map(level).collect())
            .unwrap_or_else(|| GrayImage::new(w, h)),
        None => {
            let la = img.to_luma_alpha8();
            GrayImage::from_vec(w, h, la.as_raw().chunks_exact(2).map(level).collect())
                .unwrap_or_else(|| GrayImage::new(w, h))
        }
    }
}

/// Facts about a model output image, and the history thumbnail of the first one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputFacts {
    pub width: u32,
    pub height: u32,
    /// Decoded bytes of all images.
    pub bytes: usize,
    /// `data:image/jpeg;base64,...`, ≤ 128 px on the long side.
    pub thumbnail: Option<String>,
}

/// Reads the outputs' size and makes the thumbnail; an output we cannot read gives no thumbnail
/// (the user still gets the images).
pub fn output_facts(images: &[String]) -> OutputFacts {
    let bytes = images.iter().map(|b| decoded_len(b)).sum();
    let Some(first) = images.first() else {
        return OutputFacts::default();
    };
    let Ok(raw) = decode_b64(first.as_bytes()) else {
        return OutputFacts { bytes, ..OutputFacts::default() };
    };
    let Ok(kind) = sniff(&raw) else {
        return OutputFacts { bytes, ..OutputFacts::default() };
    };
    let upload = Upload { bytes: raw, kind, base64: None };
    let Ok(opened) = open("output", &upload) else {
        return OutputFacts { bytes, ..OutputFacts::default() };
    };
    let (width, height) = (opened.width, opened.height);
    // A PNG (what the models answer) row by row, without a full-size buffer; else a decode.
    let small = match upload.kind {
        ImageKind::Png => png_stream::thumbnail(&upload.bytes, THUMBNAIL_SIDE),
        ImageKind::Jpeg => None,
    };
    let thumbnail = match small {
        Some(rgb) => jpeg_of(&rgb),
        None => decode("output", opened).ok().and_then(|img| thumbnail_jpeg(&img)),
    }
    .map(|jpeg| {
        let mut s = String::from("data:image/jpeg;base64,");
        STANDARD.encode_string(jpeg, &mut s);
        s
    });
    OutputFacts { width, height, bytes, thumbnail }
}

/// One image the model made, decoded: its bytes, type and size (from its header alone).
#[derive(Debug, Clone, PartialEq)]
pub struct MadeImage {
    pub bytes: Vec<u8>,
    /// `image/png` or `image/jpeg`.
    pub content_type: &'static str,
    /// `png` or `jpg`.
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// The model's base64 image as bytes; `None` when it is not a PNG or JPEG that opens.
pub fn made_image(b64: &str) -> Option<MadeImage> {
    let raw = decode_b64(b64.as_bytes()).ok()?;
    let kind = sniff(&raw).ok()?;
    let upload = Upload { bytes: raw, kind, base64: None };
    let (width, height) = {
        let opened = open("output", &upload).ok()?;
        (opened.width, opened.height)
    };
    let (content_type, extension) = match kind {
        ImageKind::Png => ("image/png", "png"),
        ImageKind::Jpeg => ("image/jpeg", "jpg"),
    };
    Some(MadeImage { bytes: upload.bytes, content_type, extension, width, height })
}

fn thumbnail_jpeg(img: &DynamicImage) -> Option<Vec<u8>> {
    let small = img.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let rgb = if small.color().has_alpha() { flatten_on_white(&small) } else { small.to_rgb8() };
    jpeg_of(&rgb)
}

fn jpeg_of(rgb: &RgbImage) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, THUMBNAIL_QUALITY).encode_image(rgb).ok()?;
    Some(out)
}

/// Decoded length of a base64 string without decoding it.
pub fn decoded_len(b64: &str) -> usize {
    let trimmed = b64.trim_end_matches('=');
    trimmed.len() * 3 / 4
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAB: FitLimits =
        FitLimits { min_side: 64, max_side: 4096, min_pixels: 4096, max_pixels: 9_437_184, max_aspect: 2.5 };
    const NOVA: FitLimits =
        FitLimits { min_side: 320, max_side: 4096, min_pixels: 102_400, max_pixels: 4_194_304, max_aspect: 4.0 };

    #[test]
    fn fast_base64_accepts_and_refuses_what_the_lenient_decoder_does() {
        let long = STANDARD.encode((0..=255u8).cycle().take(100_003).collect::<Vec<_>>());
        let unpadded = long.trim_end_matches('=').to_owned();
        let cases = [
            "QQ==", "QR==", "QQ", "QR", "QQ=", "QUI=", "QUI", "QUJD", "Q===", "Q", "", "QQ==QQ==", "A-B_", "=QUJ",
            "QU=D", "QUJD\n", &long, &unpadded,
        ];
        for case in cases {
            assert_eq!(decode_b64(case.as_bytes()).ok(), LENIENT_B64.decode(case).ok(), "{case:.12}");
        }
        assert_eq!(encode_b64(b"image bytes"), STANDARD.encode(b"image bytes"));
    }

    #[test]
    fn fit_keeps_good_sizes_and_shrinks_big_ones() {
        assert_eq!(fit("image", 1024, 768, &STAB).unwrap(), (1024, 768));
        let (w, h) = fit("image", 4032, 3024, &NOVA).unwrap();
        assert!(u64::from(w) * u64::from(h) <= 4_194_304 && w <= 4096, "{w}×{h}");
        assert!((f64::from(w) / f64::from(h) - 4.0 / 3.0).abs() < 0.01);
        assert_eq!(fit("image", 200, 200, &NOVA).unwrap(), (320, 320));
        let err = fit("image", 3000, 1000, &STAB).unwrap_err();
        assert_eq!(err.field(), Some("image"));
        assert!(err.to_string().contains("2.5"), "{err}");
    }

    #[test]
    fn header_dimensions_of_png_and_jpeg() {
        for kind in [ImageFormat::Png, ImageFormat::Jpeg] {
            let mut out = Cursor::new(Vec::new());
            DynamicImage::ImageRgb8(RgbImage::new(37, 21)).write_to(&mut out, kind).unwrap();
            let k = if kind == ImageFormat::Png { ImageKind::Png } else { ImageKind::Jpeg };
            assert_eq!(header_dimensions(out.get_ref(), k), Some((37, 21)), "{kind:?}");
        }
        assert_eq!(header_dimensions(b"\x89PNG", ImageKind::Png), None);
        assert_eq!(header_dimensions(&[0xFF, 0xD8, 0xFF], ImageKind::Jpeg), None);
    }

    #[test]
    fn decoded_len_matches() {
        for n in 0..10 {
            let data = vec![7u8; n];
            assert_eq!(decoded_len(&STANDARD.encode(&data)), n);
        }
    }
}
