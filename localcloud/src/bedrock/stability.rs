//! Stability AI Image Services: each service's request schema checked and turned into the work to do.

use serde_json::Value;

use super::errors::{VResult, malformed};
use super::images_in::{ImageRules, STABILITY_IMAGES, centre_ellipse, decode_picture, grow, luma_mask, same_size};
use super::models::Kind;
use super::schema::Obj;
use super::work::{Answer, Job, OutFormat, Render, digest};
use super::{ASPECT_RATIOS, STAB_MAX_EXTENT, STAB_MAX_PROMPT, STAB_MAX_SEED, STAB_RMBG_MAX_PIXELS, STYLE_PRESETS};

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
        Kind::Core => &["prompt", "negative_prompt", "aspect_ratio", "seed", "output_format", "style_preset"],
        _ => &["prompt", "negative_prompt", "aspect_ratio", "seed", "output_format", "mode", "image", "strength"],
    };
    root.allow(keys)?;
    let text_to_image = matches!(kind, Kind::Core | Kind::Ultra | Kind::Sd35);
    let required: &[&str] = match kind {
        Kind::Inpaint => &["image", "prompt"],
        Kind::SearchReplace => &["image", "prompt", "search_prompt"],
        Kind::SearchRecolor => &["image", "prompt", "select_prompt"],
        _ if text_to_image => &["prompt"],
        _ => &["image"],
    };
    root.require(required)?;

    let prompt_min = usize::from(required.contains(&"prompt"));
    let prompt = root.string("prompt", prompt_min, STAB_MAX_PROMPT)?.map(str::to_owned);
    root.string("negative_prompt", 0, STAB_MAX_PROMPT)?;
    root.string("search_prompt", 1, STAB_MAX_PROMPT)?;
    root.string("select_prompt", 1, STAB_MAX_PROMPT)?;
    root.enumeration("style_preset", STYLE_PRESETS)?;
    let formats: &[&str] = if kind == Kind::RemoveBackground { &["png", "webp"] } else { &["png", "jpeg", "webp"] };
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

    let rules = if kind == Kind::RemoveBackground {
        ImageRules { max_pixels: STAB_RMBG_MAX_PIXELS, ..STABILITY_IMAGES }
    } else {
        STABILITY_IMAGES
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
        (_, image) => {
            // Text-to-image (Core, Ultra, SD3.5); Ultra and SD3.5 also image-to-image.
            let mode = root.enumeration("mode", &["text-to-image", "image-to-image"])?;
            let strength = root.number("strength", 0.0, 1.0)?;
            let image_to_image = mode == Some("image-to-image") || (kind == Kind::Ultra && image.is_some());
            let prompt = prompt.unwrap_or_default();
            if image_to_image {
                let Some(source) = image else {
                    return Err(malformed("#", "required key [image] not found (mode image-to-image)"));
                };
                if kind == Kind::Sd35 && strength.is_none() {
                    return Err(malformed("#", "required key [strength] not found (mode image-to-image)"));
                }
                let (w, h) = (source.w, source.h);
                let amount = 0.15 + 0.6 * strength.unwrap_or(0.35) as f32;
                Render::Vary { source, w, h, amount, prompt: Some(prompt) }
            } else {
                if image.is_some() {
                    return Err(malformed("#/image", "an image is only allowed with mode image-to-image"));
                }
                let ratio = root.enumeration("aspect_ratio", &ASPECT_RATIOS.iter().map(|a| a.0).collect::<Vec<_>>())?;
                let (_, w, h) =
                    ASPECT_RATIOS.iter().find(|a| Some(a.0) == ratio).copied().unwrap_or(("1:1", 1024, 1024));
                Render::Generate { w: w as usize, h: h as usize, prompt, palette: Vec::new(), guide: None }
            }
        }
    };
    let task = match kind {
        Kind::Inpaint => "inpaint",
        Kind::Outpaint => "outpaint",
        Kind::SearchReplace => "search-replace",
        Kind::SearchRecolor => "search-recolor",
        Kind::Erase => "erase-object",
        Kind::RemoveBackground => "remove-background",
        _ => "text-to-image",
    };
    Ok(Job { render, count: 1, seed, format, answer: Answer::Stability, task })
}
