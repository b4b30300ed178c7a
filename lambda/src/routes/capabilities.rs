//! `GET /capabilities`: the stack's family, operations and the limits the SPA should enforce,
//! all read from the same table validation uses.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};

use crate::config::{Config, MAX_BODY_BYTES, MAX_UPLOAD_BYTES};
use crate::edit_request::MAX_EXTENT;
use crate::models::{MaskPromptUse, StrengthSpec};

fn strength(s: Option<StrengthSpec>) -> Value {
    match s {
        Some(s) => json!({"min": s.min, "max": s.max, "default": s.default, "meaning": s.meaning}),
        None => Value::Null,
    }
}

pub(super) fn document(config: &Config) -> Value {
    let family = config.family;
    let limits = family.limits();
    let mut main_strength = None;
    let operations: Vec<Value> = config
        .operations()
        .into_iter()
        .filter_map(|op| {
            let spec = family.spec(op)?;
            let model = config.model_for(op)?;
            if main_strength.is_none() && spec.strength.is_some() {
                main_strength = spec.strength;
            }
            Some(json!({
                "name": op.as_str(),
                "prompt": spec.prompt.as_str(),
                "mask": spec.mask.as_str(),
                "maskPrompt": spec.mask_prompt != MaskPromptUse::Unused,
                "maskPromptRequired": spec.mask_prompt == MaskPromptUse::SearchText,
                "image": spec.image.as_str(),
                "styleImage": spec.style_image.as_str(),
                "negativePrompt": spec.negative,
                "model": model,
                "maxCount": limits.max_count,
                "seed": spec.seed,
                "extents": if spec.extents { json!({"min": 0, "max": MAX_EXTENT}) } else { Value::Null },
                "maxPixels": spec.max_pixels.unwrap_or(limits.max_pixels),
                "strength": strength(spec.strength),
                // One entry per choice of model; the app offers the option's values.
                "choice": op.choice().map_or(Value::Null, |c| {
                    json!({"option": c.option, "value": c.value, "default": c.default})
                }),
            }))
        })
        .collect();
    json!({
        "family": family.as_str(),
        "region": config.bedrock_region,
        "operations": operations,
        "maskConvention": "white = area to change, black = keep; same size as the image",
        "limits": {
            "maxPromptLength": limits.max_prompt_chars,
            "minSide": limits.min_side,
            "maxSide": limits.max_side,
            "minPixels": limits.min_pixels,
            "maxPixels": limits.max_pixels,
            "maxAspect": limits.max_aspect,
            "maxCount": limits.max_count,
            "maxSeed": limits.max_seed,
            "maxUploadBytes": MAX_UPLOAD_BYTES,
            "maxRequestBytes": MAX_BODY_BYTES,
            "imagesPerUserPerDay": config.quota.per_user,
            "imagesPerDay": config.quota.per_stack,
            "strength": strength(main_strength),
        },
        "standIn": false,
    })
}

pub(super) fn get(config: &Config) -> Response<Body> {
    super::json_response(StatusCode::OK, &document(config))
}
