//! `POST /edits` bodies → a validated [`EditPlan`], or the 400/413 that names the field and the
//! limit. Everything is checked before the model is called; cheap checks (JSON, options, text)
//! come before decoding images.

use rand::Rng as _;
use serde_json::{Map, Value};

use crate::config::{Config, MAX_BODY_BYTES};
use crate::errors::ApiError;
use crate::images::{self, FitLimits, PreparedImage};
use crate::models::{EditInput, Extents, Family, MaskPromptUse, Need, OpSpec, Operation};

/// Largest Stability outpaint extent per side, in pixels.
pub const MAX_EXTENT: u64 = 2000;
const KNOWN_OPTIONS: &[&str] = &["seed", "count", "strength", "extents", "upscaler", "generator"];
/// The fields of a `POST /edits` body. Anything else is refused by name: an unknown key is a
/// typo or a client built for another API, and only validated values are ever stored.
const KNOWN_FIELDS: &[&str] =
    &["operation", "prompt", "negativePrompt", "maskPrompt", "image", "styleImage", "mask", "options"];

/// How the caller's mask encodes "change".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskConvention {
    /// This API: white = area to change.
    WhiteChanges,
    /// The seed app's INPAINTING masks: black = area to change.
    BlackChanges,
}

/// A request ready for the model.
#[derive(Debug, Clone)]
pub struct EditPlan {
    pub operation: Operation,
    pub model_id: String,
    pub input: EditInput,
    /// Things the caller should know (resizing, ignored fields).
    pub notices: Vec<String>,
    /// The options as validated and used (for the record): never the caller's raw JSON.
    pub options_used: Value,
    /// The uploaded image (absent for `generate`).
    pub source: Option<PreparedImage>,
}

/// Parses and validates a body of `POST /edits`.
pub fn parse_body(body: &[u8], config: &Config) -> Result<EditPlan, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::body_too_large(body.len()));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::Validation {
            message: "the request body is empty; send a JSON object".to_owned(),
            field: None,
        });
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| ApiError::Validation {
        message: format!("the request body is not valid JSON ({e})"),
        field: None,
    })?;
    validate(&value, config, MaskConvention::WhiteChanges)
}

/// Validates a parsed `POST /edits` request.
pub fn validate(value: &Value, config: &Config, mask_convention: MaskConvention) -> Result<EditPlan, ApiError> {
    let obj = value.as_object().ok_or_else(|| ApiError::Validation {
        message: "the request body must be a JSON object".to_owned(),
        field: None,
    })?;
    if let Some(key) = obj.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(unknown_key("", key, KNOWN_FIELDS));
    }
    let family = config.family;
    let limits = family.limits();

    // operation
    let op_name = match obj.get("operation") {
        None | Some(Value::Null) => {
            return Err(ApiError::validation(
                "operation",
                format!("operation is required (one of {})", Operation::names().join(", ")),
            ));
        }
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(ApiError::validation("operation", "operation must be a string"));
        }
    };
    if !Operation::is_name(op_name) {
        return Err(ApiError::validation(
            "operation",
            format!("operation `{op_name}` is not one of {}", Operation::names().join(", ")),
        ));
    }
    let options = match obj.get("options") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => {
            return Err(ApiError::validation("options", "options must be a JSON object"));
        }
    };
    if let Some(key) = options.keys().find(|k| !KNOWN_OPTIONS.contains(&k.as_str())) {
        return Err(unknown_key("options.", key, KNOWN_OPTIONS));
    }
    // An operation with a choice of model (`upscale`, `generate`) is picked by its option.
    let default_variant = Operation::parse_with(op_name, None);
    let choice = default_variant.and_then(Operation::choice);
    let chosen = match choice.map(|c| (c.option, options.get(c.option))) {
        None | Some((_, None | Some(Value::Null))) => None,
        Some((_, Some(Value::String(v)))) => Some(v.as_str()),
        Some((option, Some(_))) => {
            return Err(ApiError::validation(
                format!("options.{option}"),
                format!("options.{option} must be a string"),
            ));
        }
    };
    let operation = match Operation::parse_with(op_name, chosen) {
        Some(op) => op,
        None => {
            let (option, values) = match (choice, default_variant) {
                (Some(c), Some(d)) => (c.option, d.choice_values()),
                _ => ("", Vec::new()),
            };
            return Err(ApiError::validation(
                format!("options.{option}"),
                format!("options.{option} must be one of {} for {op_name}", values.join(", ")),
            ));
        }
    };
    let (spec, model_id) = match (family.spec(operation), config.model_for(operation)) {
        (Some(spec), Some(id)) => (spec, id.to_owned()),
        _ => {
            let what = match operation.choice() {
                Some(c) => format!("{op_name} ({} {})", c.option, c.value),
                None => op_name.to_owned(),
            };
            return Err(ApiError::UnsupportedOperation {
                operation: what,
                family: family.as_str(),
                supported: config.operation_names(),
            });
        }
    };
    let opname = operation.as_str();
    let mut notices = Vec::new();
    let mut ignored =
        |what: &str| notices.push(format!("{what} is not used by {opname} on this stack and was ignored"));

    // options
    for option in ["upscaler", "generator"] {
        if operation.choice().is_none_or(|c| c.option != option) && options.get(option).is_some_and(|v| !v.is_null()) {
            ignored(&format!("options.{option}"));
        }
    }
    let seed = match options.get("seed") {
        None | Some(Value::Null) => None,
        Some(v) => Some(integer(v, "options.seed", 0, limits.max_seed)?),
    };
    let max_count = limits.max_count;
    let count = match options.get("count") {
        None | Some(Value::Null) => 1,
        Some(v) => {
            let n = integer(v, "options.count", 1, u64::from(max_count))?;
            u32::try_from(n).unwrap_or(1)
        }
    };
    let strength = match (options.get("strength"), spec.strength) {
        (None | Some(Value::Null), s) => s.map(|s| s.default),
        (Some(v), Some(s)) => {
            let x = v.as_f64().ok_or_else(|| {
                ApiError::validation(
                    "options.strength",
                    format!("options.strength must be a number from {} to {}", s.min, s.max),
                )
            })?;
            if !(s.min..=s.max).contains(&x) {
                return Err(ApiError::validation(
                    "options.strength",
                    format!("options.strength ({}) must be from {} to {} for {opname}", s.meaning, s.min, s.max),
                ));
            }
            Some(x)
        }
        (Some(_), None) => {
            ignored("options.strength");
            None
        }
    };
    let extents = match options.get("extents") {
        None | Some(Value::Null) => None,
        Some(v) if spec.extents => Some(parse_extents(v)?),
        Some(_) => {
            ignored("options.extents");
            None
        }
    };
    if spec.extents && extents.is_none() {
        return Err(ApiError::validation(
            "options.extents",
            format!(
                "options.extents is required for {opname}: pixels to add on each side, {{\"left\":0,\"right\":256,\"up\":0,\"down\":0}}, 0..{MAX_EXTENT}"
            ),
        ));
    }

    // text: a field the operation does not use is ignored (with a notice) without checking its
    // length, since it goes nowhere.
    let present = |f: &str| obj.get(f).is_some_and(|v| !v.is_null());
    let used_text = |f: &str, used: bool| if used { text(obj, f, limits.max_prompt_chars) } else { Ok(None) };
    let prompt = used_text("prompt", spec.prompt != Need::Unused)?;
    let negative_prompt = used_text("negativePrompt", spec.negative)?;
    let mask_prompt = used_text("maskPrompt", spec.mask_prompt != MaskPromptUse::Unused)?;
    if spec.prompt == Need::Unused && present("prompt") {
        ignored("prompt");
    }
    if !spec.negative && present("negativePrompt") {
        ignored("negativePrompt");
    }
    if spec.mask_prompt == MaskPromptUse::Unused && present("maskPrompt") {
        ignored("maskPrompt");
    }
    if spec.prompt == Need::Required && prompt.is_none() {
        return Err(ApiError::validation("prompt", format!("prompt is required for {opname}")));
    }
    let has_mask = obj.get("mask").is_some_and(|m| !m.is_null() && m.as_str() != Some(""));
    let mask_prompt = match (spec.mask_prompt, mask_prompt) {
        (MaskPromptUse::SearchText, None) => {
            return Err(ApiError::validation(
                "maskPrompt",
                format!("maskPrompt is required for {opname}: the text describing what to find in the image"),
            ));
        }
        (_, m) => m,
    };
    if spec.mask == Need::Required && !has_mask {
        return Err(ApiError::validation("mask", format!("mask is required for {opname} (white = area to change)")));
    }

    // images
    let source = match (spec.image, obj.get("image")) {
        (Need::Unused, Some(v)) if !v.is_null() => {
            ignored("image");
            None
        }
        (Need::Unused, _) => None,
        (_, None | Some(Value::Null)) => {
            return Err(ApiError::validation(
                "image",
                format!("image is required for {opname} (PNG or JPEG, base64 or data URL)"),
            ));
        }
        (_, Some(Value::String(s))) => {
            let upload = images::decode_upload("image", s)?;
            let fit = fit_limits(family, &spec);
            Some(images::prepare_image("image", &upload, &fit)?)
        }
        (_, Some(_)) => {
            return Err(ApiError::validation("image", "image must be a base64 string or data URL"));
        }
    };
    // Style Transfer's style reference: the same checks and fitting as the image.
    let style = match (spec.style_image, obj.get("styleImage")) {
        (Need::Unused, Some(v)) if !v.is_null() => {
            ignored("styleImage");
            None
        }
        (Need::Unused, _) | (Need::Optional, None | Some(Value::Null)) => None,
        (Need::Required, None | Some(Value::Null)) => {
            return Err(ApiError::validation(
                "styleImage",
                format!("styleImage is required for {opname}: the picture whose style to apply (PNG or JPEG)"),
            ));
        }
        (_, Some(Value::String(s))) => {
            let upload = images::decode_upload("styleImage", s)?;
            Some(images::prepare_image("styleImage", &upload, &fit_limits(family, &spec))?)
        }
        (_, Some(_)) => {
            return Err(ApiError::validation("styleImage", "styleImage must be a base64 string or data URL"));
        }
    };
    let mask = match (spec.mask, obj.get("mask"), &source) {
        (Need::Unused, Some(v), _) if !v.is_null() => {
            ignored("mask");
            None
        }
        (Need::Unused, _, _) | (_, None | Some(Value::Null), _) => None,
        (_, Some(Value::String(s)), Some(image)) if !s.is_empty() => {
            let upload = images::decode_upload("mask", s)?;
            let source_white = mask_convention == MaskConvention::WhiteChanges;
            // Every live family's masks are white where the model changes the picture.
            Some(images::prepare_mask("mask", &upload, image, source_white, true)?)
        }
        (_, Some(Value::String(_)), _) => None,
        (_, Some(_), _) => {
            return Err(ApiError::validation("mask", "mask must be a base64 string or data URL"));
        }
    };
    if let Some(image) = &source {
        notices.extend(image.notices.iter().cloned());
    }
    if let Some(style) = &style {
        notices.extend(style.notices.iter().map(|n| n.replacen("image", "styleImage", 1)));
    }

    let seed = if spec.seed {
        Some(seed.unwrap_or_else(|| random_seed(family)))
    } else {
        if seed.is_some() {
            notices.push(format!("options.seed is not used by {opname} on this stack and was ignored"));
        }
        None
    };
    let input = EditInput {
        operation,
        prompt,
        negative_prompt,
        mask_prompt,
        image: source.as_ref().map(|s| s.model.clone()),
        style_image: style.map(|s| s.model),
        mask,
        seed,
        count,
        strength,
        extents: extents.unwrap_or_default(),
    };
    let options_used = used_options(&input, &spec);
    Ok(EditPlan { operation, model_id, input, notices, options_used, source })
}

/// The options the model was asked for, as validated: what the history shows and stores.
fn used_options(input: &EditInput, spec: &OpSpec) -> Value {
    let mut o = Map::new();
    if let Some(seed) = input.seed {
        o.insert("seed".to_owned(), Value::from(seed));
    }
    o.insert("count".to_owned(), Value::from(input.count));
    if let Some(c) = input.operation.choice() {
        o.insert(c.option.to_owned(), Value::from(c.value));
    }
    if let Some(s) = input.strength {
        o.insert("strength".to_owned(), Value::from(s));
    }
    if spec.extents {
        let e = input.extents;
        o.insert(
            "extents".to_owned(),
            serde_json::json!({"left": e.left, "right": e.right, "up": e.up, "down": e.down}),
        );
    }
    Value::Object(o)
}

/// A 400 naming an unknown key and the ones that exist. The key is shown shortened and escaped:
/// it is the caller's text.
fn unknown_key(prefix: &str, key: &str, known: &[&str]) -> ApiError {
    let shown: String = key.chars().take(40).collect::<String>().escape_debug().to_string();
    let ellipsis = if key.chars().count() > 40 { "…" } else { "" };
    ApiError::validation(
        format!("{prefix}{shown}{ellipsis}"),
        format!("`{prefix}{shown}{ellipsis}` is not a field of this request; known: {}", known.join(", ")),
    )
}

fn fit_limits(family: Family, spec: &OpSpec) -> FitLimits {
    let l = family.limits();
    FitLimits {
        min_side: l.min_side,
        max_side: spec.max_side.map_or(l.max_side, |s| s.min(l.max_side)),
        min_pixels: l.min_pixels,
        max_pixels: spec.max_pixels.map_or(l.max_pixels, |p| p.min(l.max_pixels)),
        max_aspect: l.max_aspect,
    }
}

fn random_seed(family: Family) -> u64 {
    let max = family.limits().max_seed;
    // Stability treats 0 as "pick one for me"; start at 1 so the seed we return is the one used.
    let min = u64::from(family == Family::Stability);
    rand::rng().random_range(min..=max)
}

fn integer(v: &Value, field: &str, min: u64, max: u64) -> Result<u64, ApiError> {
    let err = || ApiError::validation(field, format!("{field} must be an integer from {min} to {max}"));
    let n = match v {
        Value::Number(n) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64))
        }
        _ => None,
    }
    .ok_or_else(err)?;
    if !(min..=max).contains(&n) {
        return Err(err());
    }
    Ok(n)
}

fn text(obj: &Map<String, Value>, field: &str, max_chars: usize) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            let n = t.chars().count();
            if n > max_chars {
                return Err(ApiError::validation(
                    field,
                    format!("{field} is {n} characters; this model accepts at most {max_chars}"),
                ));
            }
            Ok(Some(t.to_owned()))
        }
        Some(_) => Err(ApiError::validation(field, format!("{field} must be a string"))),
    }
}

fn parse_extents(v: &Value) -> Result<Extents, ApiError> {
    let obj = v.as_object().ok_or_else(|| {
        ApiError::validation("options.extents", "options.extents must be an object {left, right, up, down}")
    })?;
    let side = |name: &str| -> Result<u32, ApiError> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => {
                let n = integer(v, &format!("options.extents.{name}"), 0, MAX_EXTENT)?;
                Ok(u32::try_from(n).unwrap_or(0))
            }
        }
    };
    let e = Extents { left: side("left")?, right: side("right")?, up: side("up")?, down: side("down")? };
    if e == Extents::default() {
        return Err(ApiError::validation("options.extents", "options.extents needs at least one side above 0"));
    }
    Ok(e)
}
