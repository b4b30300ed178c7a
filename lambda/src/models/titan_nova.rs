//! Amazon Titan Image Generator v2 and Amazon Nova Canvas: one envelope, `taskType` + one params
//! object + `imageGenerationConfig`. Mask: black pixels are the masked region (INPAINTING changes
//! it, OUTPAINTING keeps it).
//!
//! Answer: `{"images": ["<b64 png>"...], "error": "<optional>"}`; a blocked output is a 200 with
//! fewer images and `error` set.

use serde_json::{Map, Value, json};

use super::{AnswerError, EditInput, Family, ModelOutput, Operation, OutpaintMode, blocked_notice, is_filter_message};

/// Output sizes Titan Image Generator v2 accepts for generation: the larger of each pair of the
/// documented list ("Supported image sizes", docs.aws.amazon.com/bedrock/latest/userguide/
/// model-parameters-titan-image.html). It has 1152×640 and 1173×640 but no portrait 640×1152;
/// the Bedrock stand-in refuses any size not in the list.
const TITAN_SIZES: &[(u32, u32)] = &[
    (1024, 1024),
    (768, 1152),
    (1152, 768),
    (768, 1280),
    (1280, 768),
    (896, 1152),
    (1152, 896),
    (768, 1408),
    (1408, 768),
    (640, 1408),
    (1408, 640),
    (1152, 640),
    (1173, 640),
];

pub fn build_request(family: Family, input: &EditInput) -> Value {
    let image = || input.image.as_ref().map(|i| i.base64.clone());
    let mut params = Map::new();
    let mut put = |k: &str, v: Value| {
        params.insert(k.to_owned(), v);
    };
    let (task, params_key) = match input.operation {
        Operation::Generate => ("TEXT_IMAGE", "textToImageParams"),
        Operation::Inpaint => ("INPAINTING", "inPaintingParams"),
        Operation::Outpaint => ("OUTPAINTING", "outPaintingParams"),
        Operation::Variation => ("IMAGE_VARIATION", "imageVariationParams"),
        // Replace/recolor/erase are not in this family's table; validation never lets them here.
        Operation::RemoveBackground | Operation::Replace | Operation::Recolor | Operation::Erase => {
            ("BACKGROUND_REMOVAL", "backgroundRemovalParams")
        }
    };
    match input.operation {
        Operation::Inpaint | Operation::Outpaint => {
            if let Some(img) = image() {
                put("image", json!(img));
            }
            match (&input.mask, &input.mask_prompt) {
                (Some(mask), _) => put("maskImage", json!(mask.base64)),
                (None, Some(text)) => put("maskPrompt", json!(text)),
                (None, None) => {}
            }
            if input.operation == Operation::Outpaint {
                let mode = match input.outpaint_mode {
                    OutpaintMode::Default => "DEFAULT",
                    OutpaintMode::Precise => "PRECISE",
                };
                put("outPaintingMode", json!(mode));
            }
        }
        Operation::Variation => {
            if let Some(img) = image() {
                put("images", json!([img]));
            }
            if let Some(s) = input.strength {
                put("similarityStrength", json!(s));
            }
        }
        Operation::Generate => {}
        _ => {
            if let Some(img) = image() {
                put("image", json!(img));
            }
        }
    }
    if task != "BACKGROUND_REMOVAL" {
        if let Some(p) = &input.prompt {
            put("text", json!(p));
        }
        if let Some(n) = &input.negative_prompt {
            put("negativeText", json!(n));
        }
    }

    let mut body = Map::new();
    body.insert("taskType".to_owned(), json!(task));
    body.insert(params_key.to_owned(), Value::Object(params));
    if task != "BACKGROUND_REMOVAL" {
        let cfg_scale = match input.operation {
            Operation::Variation => family_default_cfg(family),
            _ => input.strength.unwrap_or_else(|| family_default_cfg(family)),
        };
        let mut config = json!({
            "numberOfImages": input.count,
            "quality": input.quality.as_str(),
            "cfgScale": cfg_scale,
        });
        if let Some(seed) = input.seed {
            config["seed"] = json!(seed);
        }
        // Editing tasks keep the input's size; generation needs one.
        let size = match (input.operation, &input.image) {
            (Operation::Generate, _) => Some((1024, 1024)),
            (Operation::Variation, Some(img)) => Some(output_size(family, img.width, img.height)),
            _ => None,
        };
        if let Some((w, h)) = size {
            config["width"] = json!(w);
            config["height"] = json!(h);
        }
        body.insert("imageGenerationConfig".to_owned(), config);
    }
    Value::Object(body)
}

fn family_default_cfg(family: Family) -> f64 {
    match family {
        Family::Nova => 6.5,
        _ => 8.0,
    }
}

/// The generation size closest to `w`×`h` that the family accepts.
pub fn output_size(family: Family, w: u32, h: u32) -> (u32, u32) {
    let ratio = f64::from(w.max(1)) / f64::from(h.max(1));
    match family {
        Family::Nova => {
            let limits = family.limits();
            let mut scale = 1.0f64;
            let pixels = f64::from(w) * f64::from(h);
            if pixels > limits.max_pixels as f64 {
                scale = (limits.max_pixels as f64 / pixels).sqrt();
            }
            let snap = |v: u32| -> u32 {
                let scaled = (f64::from(v) * scale).floor() as u32;
                (scaled / 16 * 16).clamp(limits.min_side, limits.max_side)
            };
            (snap(w), snap(h))
        }
        _ => TITAN_SIZES
            .iter()
            .copied()
            .min_by(|a, b| {
                let da = (f64::from(a.0) / f64::from(a.1) / ratio).ln().abs();
                let db = (f64::from(b.0) / f64::from(b.1) / ratio).ln().abs();
                da.total_cmp(&db)
            })
            .unwrap_or((1024, 1024)),
    }
}

pub fn parse_response(input: &EditInput, body: &Value) -> Result<ModelOutput, AnswerError> {
    let images: Vec<String> = body
        .get("images")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let error = body.get("error").and_then(Value::as_str).filter(|s| !s.is_empty());
    let requested = usize::try_from(input.count).unwrap_or(1).max(1);
    if images.is_empty() {
        return Err(match error {
            Some(e) if is_filter_message(e) => AnswerError::Blocked(
                "the model's content filter blocked every image; change the prompt or the image".to_owned(),
            ),
            Some(e) => AnswerError::Failed(format!("the model returned no image ({e})")),
            None => AnswerError::Failed("the model returned no image".to_owned()),
        });
    }
    let mut notices = Vec::new();
    if let Some(e) = error {
        if is_filter_message(e) {
            let blocked = requested.saturating_sub(images.len()).max(1);
            notices.push(blocked_notice(blocked, requested.max(images.len() + blocked)));
        } else {
            notices.push(format!("the model reported: {e}"));
        }
    }
    Ok(ModelOutput { images, seeds: input.seed.into_iter().collect(), notices, stand_in: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titan_sizes_follow_the_aspect() {
        assert_eq!(output_size(Family::Titan, 1000, 1000), (1024, 1024));
        assert_eq!(output_size(Family::Titan, 1600, 900), (1152, 640));
        assert_eq!(output_size(Family::Titan, 600, 1400), (640, 1408));
        // 5:9 portrait: 640×1152 is not a Titan size; the nearest documented one is.
        assert_eq!(output_size(Family::Titan, 640, 1152), (768, 1408));
    }

    #[test]
    fn nova_sizes_snap_to_16_within_the_budget() {
        assert_eq!(output_size(Family::Nova, 1000, 750), (992, 736));
        let (w, h) = output_size(Family::Nova, 4096, 1024);
        assert!(u64::from(w) * u64::from(h) <= 4_194_304 && w % 16 == 0 && h % 16 == 0);
    }
}
