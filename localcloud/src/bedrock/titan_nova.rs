//! Titan Image Generator / Nova Canvas: their shared request schema (task types, parameters,
//! `imageGenerationConfig`, output sizes) checked and turned into the work to do.

use serde_json::Value;

use super::errors::{VResult, malformed, type_error};
use super::images_in::{
    ImageRules, NOVA_IMAGES, TITAN_IMAGES, black_white_mask, centre_ellipse, check_size, decode_picture, same_size,
};
use super::models::Kind;
use super::schema::Obj;
use super::work::{Answer, Job, OutFormat, Render};
use super::{NOVA_MAX_PIXELS, NOVA_MAX_SEED, NOVA_MAX_SIDE, NOVA_MIN_SIDE, NOVA_STYLES, TITAN_MAX_SEED, TITAN_SIZES};

pub(super) fn validate_titan_nova(kind: Kind, body: &Value) -> VResult<Job> {
    let nova = kind == Kind::Nova;
    let max_text = if nova { 1024 } else { 512 };
    let rules = if nova { NOVA_IMAGES } else { TITAN_IMAGES };
    let root = Obj::root(body)?;

    let mut tasks = vec![
        "TEXT_IMAGE",
        "INPAINTING",
        "OUTPAINTING",
        "IMAGE_VARIATION",
        "COLOR_GUIDED_GENERATION",
        "BACKGROUND_REMOVAL",
    ];
    if nova {
        tasks.push("VIRTUAL_TRY_ON");
    }
    root.require(&["taskType"])?;
    let task = root.enumeration("taskType", &tasks)?.unwrap_or_default();
    let (task, params_key): (&'static str, &str) = match task {
        "TEXT_IMAGE" => ("TEXT_IMAGE", "textToImageParams"),
        "INPAINTING" => ("INPAINTING", "inPaintingParams"),
        "OUTPAINTING" => ("OUTPAINTING", "outPaintingParams"),
        "IMAGE_VARIATION" => ("IMAGE_VARIATION", "imageVariationParams"),
        "COLOR_GUIDED_GENERATION" => ("COLOR_GUIDED_GENERATION", "colorGuidedGenerationParams"),
        "BACKGROUND_REMOVAL" => ("BACKGROUND_REMOVAL", "backgroundRemovalParams"),
        _ => {
            return Err(malformed(
                "#/taskType",
                format!("{task} is valid for Nova Canvas but not implemented by the local Bedrock stand-in"),
            ));
        }
    };
    if task == "BACKGROUND_REMOVAL" {
        root.allow(&["taskType", params_key])?;
    } else {
        root.allow(&["taskType", params_key, "imageGenerationConfig"])?;
    }
    let p = root.req_object(params_key)?;

    // imageGenerationConfig
    let cfg = root.object("imageGenerationConfig")?;
    let (mut count, mut seed, mut size) = (1u32, if nova { 12 } else { 42 }, None);
    if let Some(c) = &cfg {
        c.allow(&["numberOfImages", "width", "height", "cfgScale", "seed", "quality"])?;
        count = c.int("numberOfImages", 1, 5)?.unwrap_or(1) as u32;
        c.number("cfgScale", 1.1, 10.0)?;
        if let Some(s) = c.int("seed", 0, if nova { NOVA_MAX_SEED } else { TITAN_MAX_SEED })? {
            seed = s as u64;
        }
        c.enumeration("quality", &["standard", "premium"])?;
        let w = c.int("width", 0, i64::from(u32::MAX))?;
        let h = c.int("height", 0, i64::from(u32::MAX))?;
        if w.is_some() || h.is_some() {
            size = Some((w.unwrap_or(1024) as u32, h.unwrap_or(1024) as u32));
        }
    }
    // Editing tasks answer at the input's size; the others at the configured (or default) size.
    let generates = matches!(task, "TEXT_IMAGE" | "COLOR_GUIDED_GENERATION" | "IMAGE_VARIATION");
    let (w, h) = size.unwrap_or((1024, 1024));
    if generates && size.is_some() {
        check_output_size(nova, w, h)?;
    }
    let (w, h) = (w as usize, h as usize);

    let text = |obj: &Obj, key: &str| obj.string(key, 1, max_text).map(|o| o.map(str::to_owned));
    let render = match task {
        "TEXT_IMAGE" => {
            let mut keys = vec!["text", "negativeText", "conditionImage", "controlMode", "controlStrength"];
            if nova {
                keys.push("style");
            }
            p.allow(&keys)?;
            let prompt = p.req_string("text", 1, max_text)?.to_owned();
            text(&p, "negativeText")?;
            p.enumeration("controlMode", &["CANNY_EDGE", "SEGMENTATION"])?;
            p.number("controlStrength", 0.0, 1.0)?;
            p.enumeration("style", NOVA_STYLES)?;
            let guide = match p.map.get("conditionImage") {
                Some(v) => Some(decode_picture(&p.at("conditionImage"), v, &rules)?),
                None => None,
            };
            Render::Generate { w, h, prompt, palette: Vec::new(), guide }
        }
        "COLOR_GUIDED_GENERATION" => {
            p.allow(&["colors", "referenceImage", "text", "negativeText"])?;
            p.require(&["colors"])?;
            let prompt = p.req_string("text", 1, max_text)?.to_owned();
            text(&p, "negativeText")?;
            let colors = p.array("colors", 1, 10)?.unwrap_or_default();
            let mut palette = Vec::new();
            for (i, c) in colors.iter().enumerate() {
                let path = format!("{}/{i}", p.at("colors"));
                let s = c.as_str().ok_or_else(|| type_error(&path, "String", c))?;
                palette.push(parse_hex_color(s).ok_or_else(|| {
                    malformed(&path, format!("string [{s}] does not match pattern ^#[0-9A-Fa-f]{{6}}$"))
                })?);
            }
            if let Some(v) = p.map.get("referenceImage") {
                decode_picture(&p.at("referenceImage"), v, &rules)?;
            }
            Render::Generate { w, h, prompt, palette, guide: None }
        }
        "IMAGE_VARIATION" => {
            p.allow(&["images", "similarityStrength", "text", "negativeText"])?;
            p.require(&["images"])?;
            let prompt = Some(p.req_string("text", 1, max_text)?.to_owned());
            text(&p, "negativeText")?;
            let similarity = p.number("similarityStrength", 0.2, 1.0)?.unwrap_or(0.7) as f32;
            let images = p.array("images", 1, 5)?.unwrap_or_default();
            let mut decoded = Vec::new();
            for (i, v) in images.iter().enumerate() {
                decoded.push(decode_picture(&format!("{}/{i}", p.at("images")), v, &rules)?);
            }
            let source = decoded.swap_remove(0);
            Render::Vary { source, w, h, amount: 0.15 + 0.5 * (1.0 - similarity), prompt }
        }
        "BACKGROUND_REMOVAL" => {
            p.allow(&["image"])?;
            p.require(&["image"])?;
            let pic = decode_picture(&p.at("image"), &p.map["image"], &rules)?;
            Render::RemoveBackground { pic }
        }
        _ => {
            let inpaint = task == "INPAINTING";
            if inpaint {
                p.allow(&["image", "maskImage", "maskPrompt", "text", "negativeText"])?;
            } else {
                p.allow(&["image", "maskImage", "maskPrompt", "outPaintingMode", "text", "negativeText"])?;
            }
            p.require(&["image"])?;
            let prompt = if inpaint { text(&p, "text")? } else { Some(p.req_string("text", 1, max_text)?.to_owned()) };
            text(&p, "negativeText")?;
            text(&p, "maskPrompt")?;
            p.enumeration("outPaintingMode", &["DEFAULT", "PRECISE"])?;
            if p.has("maskImage") == p.has("maskPrompt") {
                return Err(malformed(&p.path, "exactly one of [maskImage, maskPrompt] must be provided"));
            }
            let pic = decode_picture(&p.at("image"), &p.map["image"], &rules)?;
            // 255 where the mask is black: the masked region.
            let masked = match p.map.get("maskImage") {
                Some(v) => {
                    let path = p.at("maskImage");
                    let mask = decode_picture(&path, v, &rules)?;
                    same_size(&path, &mask, &pic)?;
                    black_white_mask(&path, &mask)?
                }
                None => centre_ellipse(pic.w, pic.h),
            };
            // INPAINTING changes the masked (black) region, OUTPAINTING everything else (the white).
            let change = if inpaint { masked } else { masked.into_iter().map(|m| 255 - m).collect() };
            Render::Fill { pic, change, prompt }
        }
    };
    Ok(Job { render, count, seed, format: OutFormat::Png, answer: Answer::TitanNova, task })
}

fn check_output_size(nova: bool, w: u32, h: u32) -> VResult<()> {
    let path = "#/imageGenerationConfig";
    if !nova {
        if TITAN_SIZES.contains(&(w, h)) {
            return Ok(());
        }
        let list: Vec<String> = TITAN_SIZES.iter().map(|(w, h)| format!("{w}x{h}")).collect();
        return Err(malformed(
            path,
            format!("width {w} and height {h} is not a supported image size; supported sizes: {}", list.join(", ")),
        ));
    }
    for (name, v) in [("width", w), ("height", h)] {
        if !(NOVA_MIN_SIDE..=NOVA_MAX_SIDE).contains(&v) {
            return Err(malformed(
                &format!("{path}/{name}"),
                format!("{v} is not between {NOVA_MIN_SIDE} and {NOVA_MAX_SIDE}"),
            ));
        }
        if !v.is_multiple_of(16) {
            return Err(malformed(&format!("{path}/{name}"), format!("{v} is not divisible by 16")));
        }
    }
    let rules = ImageRules { min_side: 0, max_side: u32::MAX, ..NOVA_IMAGES };
    check_size(path, w, h, &rules).map_err(|_| {
        malformed(
            path,
            format!(
                "{w}x{h} is not a supported size: the aspect ratio must be between 1:4 and 4:1 and the image at most \
                 {NOVA_MAX_PIXELS} pixels"
            ),
        )
    })
}

fn parse_hex_color(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let v = u32::from_str_radix(hex, 16).ok()?;
    Some([(v >> 16) as u8, (v >> 8) as u8, v as u8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colours() {
        assert_eq!(parse_hex_color("#FF9800"), Some([255, 152, 0]));
        assert_eq!(parse_hex_color("FF9800"), None);
        assert_eq!(parse_hex_color("#FF980"), None);
    }
}
