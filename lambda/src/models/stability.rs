//! Stability AI Image Services on Bedrock (inpaint, outpaint, search-and-replace,
//! search-and-recolor, erase-object, remove-background) and a Stability text-to-image model.
//! snake_case JSON, base64 images, `output_format` png; mask white = change.
//!
//! Answer: `{"seeds": [..], "finish_reasons": [null | "Filter reason: ..." | "Inference error"],
//! "images": [..]}` — a non-null reason means that image was blocked or failed.

use serde_json::{Map, Value, json};

use super::{AnswerError, EditInput, ModelOutput, Operation, blocked_notice, is_filter_message};

pub fn build_request(model_id: &str, input: &EditInput) -> Value {
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        body.insert(k.to_owned(), v);
    };
    if let Some(image) = &input.image {
        put("image", json!(image.base64));
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
        Operation::Generate => {
            put("aspect_ratio", json!("1:1"));
            // The SD3.5 models share the endpoint shape but want the mode spelled out.
            if model_id.contains("sd3") {
                put("mode", json!("text-to-image"));
            }
        }
        Operation::RemoveBackground | Operation::Variation => {}
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
