//! Stability AI on Bedrock: the thirteen Image Services (edit, control, upscale) and the
//! text-to-image models (Stable Image Core, Ultra, SD3.5 Large, which also does image-to-image).
//! snake_case JSON, base64 images, `output_format` png; mask white = change. Field names and
//! ranges: "Stability AI Image Services" (bedrock/latest/userguide/stable-image-services.html),
//! the Ultra and SD3.5 Large parameter pages.
//!
//! Answer: `{"seeds": [..], "finish_reasons": [null | "Filter reason: ..." | "Inference error"],
//! "images": [..]}` — a non-null reason means that image was blocked or failed.

use serde_json::{Map, Value, json};

use super::{AnswerError, EditInput, Generator, ModelOutput, Operation, Upscaler, blocked_notice, is_filter_message};

/// The aspect ratios Style Guide and the text-to-image models draw at ("aspect_ratio": 16:9, 1:1,
/// 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21), as width / height.
const ASPECT_RATIOS: &[(&str, f64)] = &[
    ("21:9", 21.0 / 9.0),
    ("16:9", 16.0 / 9.0),
    ("3:2", 1.5),
    ("5:4", 1.25),
    ("1:1", 1.0),
    ("4:5", 0.8),
    ("2:3", 2.0 / 3.0),
    ("9:16", 9.0 / 16.0),
    ("9:21", 9.0 / 21.0),
];

/// The listed aspect ratio nearest to `w`×`h` (compared as logarithms, so 2:1 is as far from 1:1
/// as 1:2 is).
fn nearest_aspect(w: u32, h: u32) -> &'static str {
    let r = (f64::from(w.max(1)) / f64::from(h.max(1))).ln();
    ASPECT_RATIOS.iter().min_by(|a, b| (a.1.ln() - r).abs().total_cmp(&(b.1.ln() - r).abs())).map_or("1:1", |a| a.0)
}

pub fn build_request(model_id: &str, input: &EditInput) -> Value {
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        body.insert(k.to_owned(), v);
    };
    if let Some(image) = &input.image {
        // Style Transfer names its two images `init_image` and `style_image`.
        let key = if input.operation == Operation::StyleTransfer { "init_image" } else { "image" };
        put(key, json!(image.base64));
    }
    match input.operation {
        Operation::Inpaint | Operation::Erase => {
            if let Some(mask) = &input.mask {
                put("mask", json!(mask.base64));
            }
        }
        Operation::Outpaint => {
            put("left", json!(input.extents.left));
            put("right", json!(input.extents.right));
            put("up", json!(input.extents.up));
            put("down", json!(input.extents.down));
            if let Some(c) = input.strength {
                put("creativity", json!(c));
            }
        }
        Operation::Replace => {
            if let Some(s) = &input.mask_prompt {
                put("search_prompt", json!(s));
            }
        }
        Operation::Recolor => {
            if let Some(s) = &input.mask_prompt {
                put("select_prompt", json!(s));
            }
        }
        Operation::Generate(g) => {
            put("aspect_ratio", json!("1:1"));
            // SD3.5 Large takes both modes on one endpoint: say which.
            if g == Generator::Sd35Large || model_id.contains("sd3") {
                put("mode", json!("text-to-image"));
            }
        }
        Operation::Variation => {
            // SD3.5 Large image-to-image: "requires the prompt, image, and strength parameters".
            put("mode", json!("image-to-image"));
            if let Some(s) = input.strength {
                put("strength", json!(s));
            }
        }
        Operation::Sketch | Operation::Structure => {
            if let Some(s) = input.strength {
                put("control_strength", json!(s));
            }
        }
        Operation::StyleGuide => {
            if let Some(s) = input.strength {
                put("fidelity", json!(s));
            }
            // The output takes the listed aspect ratio nearest the style picture's.
            if let Some(image) = &input.image {
                put("aspect_ratio", json!(nearest_aspect(image.width, image.height)));
            }
        }
        Operation::StyleTransfer => {
            if let Some(style) = &input.style_image {
                put("style_image", json!(style.base64));
            }
            if let Some(s) = input.strength {
                put("style_strength", json!(s));
            }
        }
        Operation::Upscale(Upscaler::Conservative | Upscaler::Creative) => {
            if let Some(c) = input.strength {
                put("creativity", json!(c));
            }
        }
        Operation::Upscale(Upscaler::Fast) | Operation::RemoveBackground => {}
    }
    if let Some(p) = &input.prompt {
        put("prompt", json!(p));
    }
    if let Some(n) = &input.negative_prompt {
        put("negative_prompt", json!(n));
    }
    if let Some(seed) = input.seed {
        put("seed", json!(seed));
    }
    put("output_format", json!("png"));
    Value::Object(body)
}

pub fn parse_response(input: &EditInput, body: &Value) -> Result<ModelOutput, AnswerError> {
    let images: Vec<&str> = body
        .get("images")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let reasons: Vec<Option<&str>> = body
        .get("finish_reasons")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(Value::as_str).collect())
        .unwrap_or_default();
    let seeds: Vec<Option<u64>> =
        body.get("seeds").and_then(Value::as_array).map(|a| a.iter().map(Value::as_u64).collect()).unwrap_or_default();

    let mut out = ModelOutput::default();
    let mut blocked = Vec::new();
    let mut failed = Vec::new();
    for (i, image) in images.iter().enumerate() {
        match reasons.get(i).copied().flatten() {
            None => {
                out.images.push((*image).to_owned());
                if let Some(seed) = seeds.get(i).copied().flatten().or(input.seed) {
                    out.seeds.push(seed);
                }
            }
            Some(r) if is_filter_message(r) => blocked.push(r),
            Some(r) => failed.push(r),
        }
    }
    // An answer with reasons but no images counts each reason.
    if images.is_empty() {
        for r in reasons.iter().flatten() {
            if is_filter_message(r) { blocked.push(r) } else { failed.push(r) }
        }
    }
    let total = images.len().max(reasons.len()).max(1);
    if out.images.is_empty() {
        if let Some(reason) = blocked.first() {
            let what = reason.split(':').nth(1).map(str::trim).filter(|s| !s.is_empty()).unwrap_or("content");
            return Err(AnswerError::Blocked(format!(
                "the model's content filter blocked this request ({what}); change the prompt or the image"
            )));
        }
        let why = failed.first().copied().or_else(|| body.get("message").and_then(Value::as_str));
        return Err(AnswerError::Failed(match why {
            Some(r) => format!("the model returned no image ({r})"),
            None => "the model returned no image".to_owned(),
        }));
    }
    if !blocked.is_empty() {
        out.notices.push(blocked_notice(blocked.len(), total));
    }
    if !failed.is_empty() {
        out.notices.push(format!("{} of {total} images failed in the model", failed.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::nearest_aspect;

    #[test]
    fn the_nearest_listed_aspect_ratio() {
        assert_eq!(nearest_aspect(1024, 1024), "1:1");
        assert_eq!(nearest_aspect(1920, 1080), "16:9");
        assert_eq!(nearest_aspect(1080, 1920), "9:16");
        assert_eq!(nearest_aspect(640, 480), "5:4");
        assert_eq!(nearest_aspect(4000, 1000), "21:9");
    }
}
