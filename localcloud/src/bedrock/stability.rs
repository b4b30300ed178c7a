//! Stability AI Image Services: each service's request schema checked and turned into the work to do.

use serde_json::Value;

use super::errors::{VResult, malformed};
use super::images_in::{
    CREATIVE_UPSCALE_IMAGES, FAST_UPSCALE_IMAGES, ImageRules, Picture, SD35_IMAGES, STABILITY_IMAGES, ULTRA_IMAGES,
    centre_ellipse, decode_picture, grow, luma_mask, same_size,
};
use super::models::Kind;
use super::pictures::{mean_colour, style_palette};
use super::schema::Obj;
use super::work::{Answer, Job, OutFormat, Render, digest};
use super::{
    ASPECT_RATIOS, FAST_UPSCALE_FACTOR, FAST_UPSCALE_MAX_OUT_PIXELS, ONE_MEGAPIXEL, STAB_MAX_EXTENT, STAB_MAX_PROMPT,
    STAB_MAX_SEED, STAB_RMBG_MAX_PIXELS, STYLE_PRESETS, UPSCALE_OUT_PIXELS,
};

pub(super) fn validate_stability(kind: Kind, body: &Value, request_hash: &[u8; 32]) -> VResult<Job> {
    let root = Obj::root(body)?;
    let keys: &[&str] = match kind {
        Kind::Inpaint => {
            &["image", "prompt", "mask", "negative_prompt", "seed", "output_format", "style_preset", "grow_mask"]
        }
        Kind::Outpaint => {
            &["image", "left", "right", "up", "down", "prompt", "creativity", "seed", "output_format", "style_preset"]
        }
        Kind::SearchReplace => &[
            "image",
            "prompt",
            "search_prompt",
            "negative_prompt",
            "seed",
            "output_format",
            "style_preset",
            "grow_mask",
        ],
        Kind::SearchRecolor => &[
            "image",
            "prompt",
            "select_prompt",
            "negative_prompt",
            "seed",
            "output_format",
            "style_preset",
            "grow_mask",
        ],
        Kind::Erase => &["image", "mask", "seed", "output_format", "grow_mask"],
        Kind::RemoveBackground => &["image", "output_format"],
        // https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html#stable-image-services-1
        // (Control Sketch) and #stable-image-services-2 (Control Structure): the same fields.
        Kind::ControlSketch | Kind::ControlStructure => {
            &["prompt", "image", "control_strength", "negative_prompt", "seed", "output_format", "style_preset"]
        }
        // …/stable-image-services.html#stable-image-services-3 (Style Guide): `image`, not `style_image`.
        Kind::StyleGuide => {
            &["prompt", "image", "aspect_ratio", "fidelity", "negative_prompt", "seed", "output_format", "style_preset"]
        }
        // …/stable-image-services.html#stable-image-services-4 (Style Transfer): no `style_preset`.
        Kind::StyleTransfer => &[
            "init_image",
            "style_image",
            "prompt",
            "negative_prompt",
            "seed",
            "output_format",
            "composition_fidelity",
            "style_strength",
            "change_strength",
        ],
        // …/stable-image-services.html#stable-image-services-7 (Fast Upscale): no prompt, seed or style.
        Kind::FastUpscale => &["image", "output_format"],
        // …/stable-image-services.html#stable-image-services-6 (Conservative Upscale): no `style_preset`.
        Kind::ConservativeUpscale => &["prompt", "image", "creativity", "negative_prompt", "seed", "output_format"],
        // …/stable-image-services.html#stable-image-services-5 (Creative Upscale).
        Kind::CreativeUpscale => {
            &["prompt", "image", "creativity", "negative_prompt", "seed", "output_format", "style_preset"]
        }
        // https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-stability-diffusion.html
        Kind::Core => &["prompt", "negative_prompt", "aspect_ratio", "seed", "output_format", "style_preset"],
        // Ultra (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-stable-ultra-text-image-request-response.html)
        // and SD3.5 Large (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-3-5-large.html).
        Kind::Ultra | Kind::Sd35 => {
            &["prompt", "negative_prompt", "aspect_ratio", "seed", "output_format", "mode", "image", "strength"]
        }
    };
    root.allow(keys)?;
    let required: &[&str] = match kind {
        Kind::Inpaint => &["image", "prompt"],
        Kind::SearchReplace => &["image", "prompt", "search_prompt"],
        Kind::SearchRecolor => &["image", "prompt", "select_prompt"],
        Kind::ControlSketch
        | Kind::ControlStructure
        | Kind::StyleGuide
        | Kind::ConservativeUpscale
        | Kind::CreativeUpscale => &["image", "prompt"],
        // Style Transfer's `prompt` is optional (…/stable-image-services.html#stable-image-services-4).
        Kind::StyleTransfer => &["init_image", "style_image"],
        Kind::Core | Kind::Ultra | Kind::Sd35 => &["prompt"],
        Kind::Outpaint | Kind::Erase | Kind::RemoveBackground | Kind::FastUpscale => &["image"],
    };
    root.require(required)?;

    let prompt_min = usize::from(required.contains(&"prompt"));
    // Style Transfer's `prompt` has no length on Bedrock; Stability's 10000 is the stricter rule.
    let prompt = root.string("prompt", prompt_min, STAB_MAX_PROMPT)?.map(str::to_owned);
    root.string("negative_prompt", 0, STAB_MAX_PROMPT)?;
    root.string("search_prompt", 1, STAB_MAX_PROMPT)?;
    root.string("select_prompt", 1, STAB_MAX_PROMPT)?;
    root.enumeration("style_preset", STYLE_PRESETS)?;
    let formats: &[&str] = match kind {
        Kind::RemoveBackground => &["png", "webp"],
        // The Ultra page lists JPEG and PNG; Stability's API also takes webp: the stricter rule.
        Kind::Ultra => &["png", "jpeg"],
        // Fast Upscale's `output_format` is "required" on the page but has a default (png) and the
        // page's own sample leaves it out: optional here, as the sample says.
        _ => &["png", "jpeg", "webp"],
    };
    // No WebP encoder here: WebP requests get a PNG.
    let format = match root.enumeration("output_format", formats)? {
        Some("jpeg") => OutFormat::Jpeg,
        _ => OutFormat::Png,
    };
    let seed = match root.int("seed", 0, STAB_MAX_SEED)? {
        Some(s) if s > 0 => s as u64,
        // 0 or absent: "random", here derived from the request.
        _ => {
            let d = digest(&[request_hash, prompt.as_deref().unwrap_or_default().as_bytes()]);
            1 + u64::from_be_bytes(d[..8].try_into().unwrap_or_default()) % STAB_MAX_SEED as u64
        }
    };
    let grow_default = match kind {
        Kind::Inpaint | Kind::Erase => 5,
        _ => 3,
    };
    let grow_max = if kind == Kind::Inpaint { 100 } else { 20 };
    let grow_by = root.int("grow_mask", 0, grow_max)?.unwrap_or(grow_default) as u32;

    // The numbers of the newer services, checked before their images are decoded.
    let amounts = Amounts::of(kind, &root)?;
    let rules = match kind {
        Kind::RemoveBackground => ImageRules { max_pixels: STAB_RMBG_MAX_PIXELS, ..STABILITY_IMAGES },
        Kind::FastUpscale => FAST_UPSCALE_IMAGES,
        Kind::CreativeUpscale => CREATIVE_UPSCALE_IMAGES,
        Kind::Ultra => ULTRA_IMAGES,
        Kind::Sd35 => SD35_IMAGES,
        _ => STABILITY_IMAGES,
    };
    let image = match root.map.get("image") {
        Some(v) => Some(decode_picture("#/image", v, &rules)?),
        None => None,
    };

    let render = match (kind, image) {
        (Kind::Inpaint | Kind::Erase, Some(pic)) => {
            let mut change = match root.map.get("mask") {
                Some(v) => {
                    let mask = decode_picture("#/mask", v, &STABILITY_IMAGES)?;
                    same_size("#/mask", &mask, &pic)?;
                    luma_mask(&mask)
                }
                // No mask: the image's alpha channel is the mask (transparent = change).
                None => match &pic.alpha {
                    Some(a) => a.iter().map(|&a| 255 - a).collect(),
                    None => {
                        return Err(malformed(
                            "#",
                            "required key [mask] not found (the image has no alpha channel to use as the mask)",
                        ));
                    }
                },
            };
            grow(&mut change, pic.w, pic.h, grow_by);
            Render::Fill { pic, change, prompt: if kind == Kind::Inpaint { prompt } else { None } }
        }
        (Kind::Outpaint, Some(pic)) => {
            let mut ext = [0usize; 4];
            for (slot, key) in ext.iter_mut().zip(["left", "right", "up", "down"]) {
                *slot = root.int(key, 0, STAB_MAX_EXTENT)?.unwrap_or(0) as usize;
            }
            if ext.iter().all(|&e| e == 0) {
                return Err(malformed("#", "at least one of [left, right, up, down] must be greater than 0"));
            }
            root.number("creativity", 0.0, 1.0)?;
            let [left, right, up, down] = ext;
            Render::Extend { pic, left, right, up, down, prompt }
        }
        (Kind::SearchReplace, Some(pic)) => {
            let mut change = centre_ellipse(pic.w, pic.h);
            grow(&mut change, pic.w, pic.h, grow_by);
            Render::Fill { pic, change, prompt }
        }
        (Kind::SearchRecolor, Some(pic)) => {
            let mut region = centre_ellipse(pic.w, pic.h);
            grow(&mut region, pic.w, pic.h, grow_by);
            Render::Recolor { pic, region, prompt: prompt.unwrap_or_default() }
        }
        (Kind::RemoveBackground, Some(pic)) => Render::RemoveBackground { pic },
        (Kind::ControlSketch | Kind::ControlStructure, Some(source)) => {
            // "The resolution of the generated image will match that of the input image." (Stability's
            // API reference, `POST /v2beta/stable-image/control/sketch` and `…/structure`.) The more
            // the image controls the picture, the less the prompt's tint.
            let (w, h) = (source.w, source.h);
            let amount = 0.2 + 0.5 * (1.0 - amounts.control) as f32;
            Render::Vary { source, w, h, amount, prompt, colour: None }
        }
        (Kind::StyleGuide, Some(style)) => {
            // `aspect_ratio`: 16:9, 1:1, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21, default 1:1
            // (…/stable-image-services.html#stable-image-services-3); "The resolution of the generated
            // image will be 1MP" (Stability's API reference, `POST /v2beta/stable-image/control/style`).
            let (w, h) = aspect_size(&root)?;
            let prompt = prompt.unwrap_or_default();
            let palette = style_palette(&style, &prompt, amounts.fidelity as f32);
            Render::Generate { w, h, prompt, palette, guide: None }
        }
        (Kind::StyleTransfer, None) => {
            // `init_image` and `style_image`: the Image Services' limits
            // (…/stable-image-services.html#stable-image-services-4). The output is 1 MP at
            // `init_image`'s aspect ratio (Stability's API reference, `POST /v2beta/stable-image/control/style-transfer`).
            let init = decode_required(&root, "init_image")?;
            let style = decode_required(&root, "style_image")?;
            let (w, h) = at_pixels(init.w, init.h, ONE_MEGAPIXEL);
            let amount = 0.1 + 0.6 * amounts.style as f32;
            Render::Vary { source: init, w, h, amount, prompt, colour: Some(mean_colour(&style)) }
        }
        (Kind::FastUpscale, Some(source)) => {
            let (w, h) = fast_upscale_size(source.w, source.h);
            Render::Vary { source, w, h, amount: 0.1, prompt: None, colour: None }
        }
        (Kind::ConservativeUpscale | Kind::CreativeUpscale, Some(source)) => {
            // 4 MP (Stability's API reference, `POST /v2beta/stable-image/upscale/conservative`), the
            // input's aspect ratio; an input already larger keeps its size.
            let (w, h) = at_least(source.w, source.h, at_pixels(source.w, source.h, UPSCALE_OUT_PIXELS));
            Render::Vary { source, w, h, amount: amounts.creativity as f32, prompt, colour: None }
        }
        (Kind::Core | Kind::Ultra | Kind::Sd35, image) => text_or_image_to_image(kind, &root, image, prompt)?,
        // Every other kind requires its images, decoded above.
        (_, _) => return Err(malformed("#", "required key [image] not found")),
    };
    let task = match kind {
        Kind::Inpaint => "inpaint",
        Kind::Outpaint => "outpaint",
        Kind::SearchReplace => "search-replace",
        Kind::SearchRecolor => "search-recolor",
        Kind::Erase => "erase-object",
        Kind::RemoveBackground => "remove-background",
        Kind::ControlSketch => "control-sketch",
        Kind::ControlStructure => "control-structure",
        Kind::StyleGuide => "style-guide",
        Kind::StyleTransfer => "style-transfer",
        Kind::FastUpscale => "fast-upscale",
        Kind::ConservativeUpscale => "conservative-upscale",
        Kind::CreativeUpscale => "creative-upscale",
        Kind::Core | Kind::Ultra | Kind::Sd35 => "text-to-image",
    };
    Ok(Job { render, count: 1, seed, format, answer: Answer::Stability, task })
}

/// The numeric knobs of the control and upscale services, each with its range and default.
struct Amounts {
    control: f64,
    fidelity: f64,
    style: f64,
    creativity: f64,
}

impl Amounts {
    fn of(kind: Kind, root: &Obj) -> VResult<Amounts> {
        let mut a = Amounts { control: 0.7, fidelity: 0.5, style: 1.0, creativity: 0.35 };
        match kind {
            // `control_strength`: 0–1, default 0.7
            // (https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html#stable-image-services-1, -2).
            Kind::ControlSketch | Kind::ControlStructure => {
                a.control = root.number("control_strength", 0.0, 1.0)?.unwrap_or(0.7);
            }
            // `fidelity`: 0–1, default 0.5 (…/stable-image-services.html#stable-image-services-3).
            Kind::StyleGuide => a.fidelity = root.number("fidelity", 0.0, 1.0)?.unwrap_or(0.5),
            // `composition_fidelity` 0–1, default 0.9; `style_strength` 0–1, default 1;
            // `change_strength` 0.1–1, default 0.9 (…/stable-image-services.html#stable-image-services-4).
            Kind::StyleTransfer => {
                root.number("composition_fidelity", 0.0, 1.0)?;
                a.style = root.number("style_strength", 0.0, 1.0)?.unwrap_or(1.0);
                root.number("change_strength", 0.1, 1.0)?;
            }
            // `creativity`: AWS says 0.1–0.5, Stability's API reference (the `Creativity` schema of
            // `POST /v2beta/stable-image/upscale/conservative`) 0.2–0.5; the stricter 0.2–0.5 here.
            // Default 0.35 in both (…/stable-image-services.html#stable-image-services-6).
            Kind::ConservativeUpscale => a.creativity = root.number("creativity", 0.2, 0.5)?.unwrap_or(0.35),
            // `creativity`: 0.1–0.5, default 0.3 (…/stable-image-services.html#stable-image-services-5;
            // Stability's API reference the same).
            Kind::CreativeUpscale => a.creativity = root.number("creativity", 0.1, 0.5)?.unwrap_or(0.3),
            _ => {}
        }
        Ok(a)
    }
}

/// A required image other than `image` (Style Transfer's), with the Image Services' limits.
fn decode_required(root: &Obj, key: &str) -> VResult<Picture> {
    match root.map.get(key) {
        Some(v) => decode_picture(&root.at(key), v, &STABILITY_IMAGES),
        None => Err(malformed(&root.path, format!("required key [{key}] not found"))),
    }
}

/// The size drawn for `aspect_ratio` (default 1:1).
fn aspect_size(root: &Obj) -> VResult<(usize, usize)> {
    let ratio = root.enumeration("aspect_ratio", &ASPECT_RATIOS.iter().map(|a| a.0).collect::<Vec<_>>())?;
    let (_, w, h) = ASPECT_RATIOS.iter().find(|a| Some(a.0) == ratio).copied().unwrap_or(("1:1", 1024, 1024));
    Ok((w as usize, h as usize))
}

/// About `pixels` pixels at the aspect ratio of `w`×`h`.
fn at_pixels(w: usize, h: usize, pixels: u64) -> (usize, usize) {
    let s = (pixels as f64 / (w as f64 * h as f64)).sqrt();
    (((w as f64 * s).round() as usize).max(1), ((h as f64 * s).round() as usize).max(1))
}

/// `size`, or the input's `w`×`h` where that is larger (an upscale never shrinks).
fn at_least(w: usize, h: usize, size: (usize, usize)) -> (usize, usize) {
    if size.0 * size.1 <= w * h { (w, h) } else { (size.0.max(w), size.1.max(h)) }
}

/// Fast Upscale: 4× each side, scaled down to fit 16 MP keeping the ratio.
fn fast_upscale_size(w: usize, h: usize) -> (usize, usize) {
    let (w4, h4) = (w * FAST_UPSCALE_FACTOR, h * FAST_UPSCALE_FACTOR);
    let px = (w4 * h4) as u64;
    if px <= FAST_UPSCALE_MAX_OUT_PIXELS {
        return (w4, h4);
    }
    let s = (FAST_UPSCALE_MAX_OUT_PIXELS as f64 / px as f64).sqrt();
    (((w4 as f64 * s).floor() as usize).max(1), ((h4 as f64 * s).floor() as usize).max(1))
}

/// Core, Ultra and SD3.5: text-to-image, and for Ultra and SD3.5 image-to-image.
///
/// - Ultra (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-stable-ultra-text-image-request-response.html):
///   `mode` is "Enum: text-to-image" only; an `image` makes the call image-to-image, with no mode.
///   `strength` has a default of 0.35 on the page, but Stability's API reference requires it with
///   an image: the stricter rule, so it is required here.
/// - SD3.5 Large (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-3-5-large.html):
///   `mode` text-to-image (default) | image-to-image; "image-to-image requires the prompt, image, and
///   strength parameters". The page's sample leaves `mode` out; Stability's `mode` defaults to
///   text-to-image, so an image without `mode: image-to-image` is refused (the stricter reading).
/// - `aspect_ratio` is text-to-image only (both pages): refused with an image. The output keeps the
///   image's ratio at about 1 MP (SD3.5 "outputs 1 MP"; Ultra's page gives 640–1,536 px a side,
///   which the stand-in does not force on images of extreme ratios).
fn text_or_image_to_image(kind: Kind, root: &Obj, image: Option<Picture>, prompt: Option<String>) -> VResult<Render> {
    let modes: &[&str] = if kind == Kind::Sd35 { &["text-to-image", "image-to-image"] } else { &["text-to-image"] };
    let mode = root.enumeration("mode", modes)?;
    let strength = root.number("strength", 0.0, 1.0)?;
    let (w, h) = aspect_size(root)?;
    let prompt = prompt.unwrap_or_default();
    let image_to_image = match kind {
        Kind::Sd35 => mode == Some("image-to-image"),
        _ => image.is_some(),
    };
    if !image_to_image {
        if image.is_some() {
            return Err(malformed("#/image", "an image is only allowed with mode image-to-image"));
        }
        return Ok(Render::Generate { w, h, prompt, palette: Vec::new(), guide: None });
    }
    let Some(source) = image else {
        return Err(malformed("#", "required key [image] not found (mode image-to-image)"));
    };
    let Some(strength) = strength else {
        return Err(malformed("#", "required key [strength] not found (image-to-image)"));
    };
    if root.map.contains_key("aspect_ratio") {
        return Err(malformed(
            "#/aspect_ratio",
            "aspect_ratio is only allowed with text-to-image; image-to-image keeps the image's aspect ratio",
        ));
    }
    let (w, h) = at_pixels(source.w, source.h, ONE_MEGAPIXEL);
    let amount = 0.15 + 0.6 * strength as f32;
    Ok(Render::Vary { source, w, h, amount, prompt: Some(prompt), colour: None })
}
