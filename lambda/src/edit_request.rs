//! `POST /edits` bodies → a validated [`EditPlan`], or the 400/413 that names the field and the
//! limit. Everything is checked before the model is called; cheap checks (JSON, options, text)
//! come before decoding images.
//!
//! [`EditRequest`] and [`EditOptions`] list the body's fields once: an unknown key is refused by
//! name, with the known ones read from the type. Their values are [`Sent`], so that
//! [`EditRequest::validate`] names a value of the wrong type in its own order, with the range.

use rand::Rng as _;
use serde::Deserialize;
use serde_json::{Number, Value};

use crate::config::{Config, MAX_BODY_BYTES};
use crate::errors::ApiError;
use crate::images::{self, FitLimits, PreparedImage};
use crate::models::{EditInput, Extents, Family, MaskPromptUse, Need, OpSpec, Operation};
use crate::record::OptionsUsed;
use crate::sent::{Sent, field_names};

/// Largest Stability outpaint extent per side, in pixels.
pub const MAX_EXTENT: u64 = 2000;

/// The body of `POST /edits` (docs/openapi.yaml `EditRequest`). Anything else is refused by name:
/// an unknown key is a typo or a client built for another API, and only validated values are
/// ever stored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditRequest {
    pub operation: Option<Sent<String>>,
    pub prompt: Option<Sent<String>>,
    pub negative_prompt: Option<Sent<String>>,
    pub mask_prompt: Option<Sent<String>>,
    /// PNG or JPEG, base64 or a data URL; so are `style_image` and `mask`.
    pub image: Option<Sent<String>>,
    pub style_image: Option<Sent<String>>,
    pub mask: Option<Sent<String>>,
    pub options: Option<Sent<EditOptions>>,
}

/// The `options` of a `POST /edits` body (docs/openapi.yaml `EditOptions`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditOptions {
    /// Any JSON number, checked for an integer in range: 5.0 is 5, and -1 or 1.5 get the message
    /// with the range.
    pub seed: Option<Sent<Number>>,
    pub count: Option<Sent<Number>>,
    pub strength: Option<Sent<f64>>,
    pub extents: Option<Sent<ExtentsSent>>,
    pub upscaler: Option<Sent<String>>,
    pub generator: Option<Sent<String>>,
}

/// `options.extents` as sent. Other keys are ignored (not refused), as they always were.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ExtentsSent {
    pub left: Option<Sent<Number>>,
    pub right: Option<Sent<Number>>,
    pub up: Option<Sent<Number>>,
    pub down: Option<Sent<Number>>,
}

impl EditOptions {
    /// The options that choose an operation's model, by their name ([`crate::models::Choice`]'s
    /// `option`; a test keeps the names those of the fields and of the operations' choices).
    fn choices(&self) -> [(&'static str, Option<&Sent<String>>); 2] {
        [("upscaler", self.upscaler.as_ref()), ("generator", self.generator.as_ref())]
    }

    fn choice(&self, option: &str) -> Option<&Sent<String>> {
        self.choices().into_iter().find_map(|(name, value)| (name == option).then_some(value)).flatten()
    }
}

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
    pub options_used: OptionsUsed,
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
    EditRequest::from_value(value)?.validate(config, MaskConvention::WhiteChanges)
}

/// Validates a parsed `POST /edits` request. It copies `value` (images included):
/// [`EditRequest::from_value`] takes one without a copy.
pub fn validate(value: &Value, config: &Config, mask_convention: MaskConvention) -> Result<EditPlan, ApiError> {
    EditRequest::from_value(value.clone())?.validate(config, mask_convention)
}

impl EditRequest {
    /// Reads a parsed body: a 400 when it is not an object or has a key this request does not.
    pub fn from_value(value: Value) -> Result<Self, ApiError> {
        match Sent::from_value(value) {
            Sent::Valid(request) => Ok(request),
            Sent::WrongType => {
                Err(ApiError::Validation { message: "the request body must be a JSON object".to_owned(), field: None })
            }
            Sent::UnknownKey(key) => Err(unknown_key("", &key, field_names::<EditRequest>())),
        }
    }

    /// Checks the request against the stack's family and models: the plan, or the first problem.
    pub fn validate(&self, config: &Config, mask_convention: MaskConvention) -> Result<EditPlan, ApiError> {
        let family = config.family;
        let limits = family.limits();

        // operation
        let op_name = match &self.operation {
            None => {
                return Err(ApiError::validation(
                    "operation",
                    format!("operation is required (one of {})", Operation::names().join(", ")),
                ));
            }
            Some(Sent::Valid(s)) => s.as_str(),
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
        let no_options = EditOptions::default();
        let options = match &self.options {
            None => &no_options,
            Some(Sent::Valid(o)) => o,
            Some(Sent::WrongType) => {
                return Err(ApiError::validation("options", "options must be a JSON object"));
            }
            Some(Sent::UnknownKey(key)) => return Err(unknown_key("options.", key, field_names::<EditOptions>())),
        };
        // An operation with a choice of model (`upscale`, `generate`) is picked by its option.
        let default_variant = Operation::parse_with(op_name, None);
        let choice = default_variant.and_then(Operation::choice);
        let chosen = match choice.map(|c| (c.option, options.choice(c.option))) {
            None | Some((_, None)) => None,
            Some((_, Some(Sent::Valid(v)))) => Some(v.as_str()),
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
        for (option, value) in options.choices() {
            if operation.choice().is_none_or(|c| c.option != option) && value.is_some() {
                ignored(&format!("options.{option}"));
            }
        }
        let seed = options.seed.as_ref().map(|v| integer(v, "options.seed", 0, limits.max_seed)).transpose()?;
        let count = match &options.count {
            None => 1,
            Some(v) => {
                let n = integer(v, "options.count", 1, u64::from(limits.max_count))?;
                u32::try_from(n).unwrap_or(1)
            }
        };
        let strength = match (&options.strength, spec.strength) {
            (None, s) => s.map(|s| s.default),
            (Some(v), Some(s)) => {
                let &Sent::Valid(x) = v else {
                    return Err(ApiError::validation(
                        "options.strength",
                        format!("options.strength must be a number from {} to {}", s.min, s.max),
                    ));
                };
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
        let extents = match &options.extents {
            None => None,
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
        let used_text = |value: &Option<Sent<String>>, field: &str, used: bool| {
            if used { text(value.as_ref(), field, limits.max_prompt_chars) } else { Ok(None) }
        };
        let prompt = used_text(&self.prompt, "prompt", spec.prompt != Need::Unused)?;
        let negative_prompt = used_text(&self.negative_prompt, "negativePrompt", spec.negative)?;
        let mask_prompt = used_text(&self.mask_prompt, "maskPrompt", spec.mask_prompt != MaskPromptUse::Unused)?;
        if spec.prompt == Need::Unused && self.prompt.is_some() {
            ignored("prompt");
        }
        if !spec.negative && self.negative_prompt.is_some() {
            ignored("negativePrompt");
        }
        if spec.mask_prompt == MaskPromptUse::Unused && self.mask_prompt.is_some() {
            ignored("maskPrompt");
        }
        if spec.prompt == Need::Required && prompt.is_none() {
            return Err(ApiError::validation("prompt", format!("prompt is required for {opname}")));
        }
        let has_mask = match &self.mask {
            None => false,
            Some(Sent::Valid(m)) => !m.is_empty(),
            Some(_) => true,
        };
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
            return Err(ApiError::validation(
                "mask",
                format!("mask is required for {opname} (white = area to change)"),
            ));
        }

        // images
        let source = match (spec.image, &self.image) {
            (Need::Unused, Some(_)) => {
                ignored("image");
                None
            }
            (Need::Unused, None) => None,
            (_, None) => {
                return Err(ApiError::validation(
                    "image",
                    format!("image is required for {opname} (PNG or JPEG, base64 or data URL)"),
                ));
            }
            (_, Some(Sent::Valid(s))) => {
                let upload = images::decode_upload("image", s)?;
                let fit = fit_limits(family, &spec);
                Some(images::prepare_image("image", &upload, &fit)?)
            }
            (_, Some(_)) => {
                return Err(ApiError::validation("image", "image must be a base64 string or data URL"));
            }
        };
        // Style Transfer's style reference: the same checks and fitting as the image.
        let style = match (spec.style_image, &self.style_image) {
            (Need::Unused, Some(_)) => {
                ignored("styleImage");
                None
            }
            (Need::Unused | Need::Optional, None) => None,
            (Need::Required, None) => {
                return Err(ApiError::validation(
                    "styleImage",
                    format!("styleImage is required for {opname}: the picture whose style to apply (PNG or JPEG)"),
                ));
            }
            (_, Some(Sent::Valid(s))) => {
                let upload = images::decode_upload("styleImage", s)?;
                Some(images::prepare_image("styleImage", &upload, &fit_limits(family, &spec))?)
            }
            (_, Some(_)) => {
                return Err(ApiError::validation("styleImage", "styleImage must be a base64 string or data URL"));
            }
        };
        let mask = match (spec.mask, &self.mask, &source) {
            (Need::Unused, Some(_), _) => {
                ignored("mask");
                None
            }
            (_, None, _) => None,
            (_, Some(Sent::Valid(s)), Some(image)) if !s.is_empty() => {
                let upload = images::decode_upload("mask", s)?;
                let source_white = mask_convention == MaskConvention::WhiteChanges;
                // Every live family's masks are white where the model changes the picture.
                Some(images::prepare_mask("mask", &upload, image, source_white, true)?)
            }
            (_, Some(Sent::Valid(_)), _) => None,
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
}

/// The options the model was asked for, as validated: what the history shows and stores.
fn used_options(input: &EditInput, spec: &OpSpec) -> OptionsUsed {
    let chosen = input.operation.choice().map(|c| c.value.to_owned());
    let (upscaler, generator) = match input.operation {
        Operation::Upscale(_) => (chosen, None),
        Operation::Generate(_) => (None, chosen),
        _ => (None, None),
    };
    OptionsUsed {
        seed: input.seed,
        count: input.count,
        upscaler,
        generator,
        strength: input.strength,
        extents: spec.extents.then_some(input.extents),
    }
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

fn integer(v: &Sent<Number>, field: &str, min: u64, max: u64) -> Result<u64, ApiError> {
    let err = || ApiError::validation(field, format!("{field} must be an integer from {min} to {max}"));
    let n = match v {
        Sent::Valid(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64)),
        _ => None,
    }
    .ok_or_else(err)?;
    if !(min..=max).contains(&n) {
        return Err(err());
    }
    Ok(n)
}

fn text(value: Option<&Sent<String>>, field: &str, max_chars: usize) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(Sent::Valid(s)) => {
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

fn parse_extents(v: &Sent<ExtentsSent>) -> Result<Extents, ApiError> {
    let Sent::Valid(sent) = v else {
        return Err(ApiError::validation(
            "options.extents",
            "options.extents must be an object {left, right, up, down}",
        ));
    };
    let side = |value: &Option<Sent<Number>>, name: &str| -> Result<u32, ApiError> {
        match value {
            None => Ok(0),
            Some(v) => {
                let n = integer(v, &format!("options.extents.{name}"), 0, MAX_EXTENT)?;
                Ok(u32::try_from(n).unwrap_or(0))
            }
        }
    };
    let e = Extents {
        left: side(&sent.left, "left")?,
        right: side(&sent.right, "right")?,
        up: side(&sent.up, "up")?,
        down: side(&sent.down, "down")?,
    };
    if e == Extents::default() {
        return Err(ApiError::validation("options.extents", "options.extents needs at least one side above 0"));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config() -> Config {
        let ids = r#"{"inpaint":"stability.stable-image-inpaint-v1:0","erase":"stability.stable-image-erase-object-v1:0",
            "outpaint":"stability.stable-outpaint-v1:0","upscale":"us.stability.stable-fast-upscale-v1:0",
            "upscale.conservative":"us.stability.stable-conservative-upscale-v1:0",
            "generate":"stability.stable-image-core-v1:1","generate.ultra":"stability.stable-image-ultra-v1:1"}"#;
        let env = [
            ("TABLE_NAME", "edits"),
            ("BEDROCK_REGION", "us-west-2"),
            ("MODEL_FAMILY", "stability"),
            ("MODEL_IDS", ids),
            ("ALLOWED_ORIGINS", ""),
            ("QUOTA_IMAGES_PER_USER_PER_DAY", "10"),
            ("QUOTA_IMAGES_PER_DAY", "100"),
        ];
        Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())).expect("config")
    }

    /// (field, message) of the 400 `body` gets.
    fn refusal(body: Value) -> (Option<String>, String) {
        match validate(&body, &config(), MaskConvention::WhiteChanges) {
            Err(ApiError::Validation { message, field }) => (field, message),
            other => panic!("{body}: {other:?}"),
        }
    }

    /// The known keys a 400 lists are the types' fields, in this order.
    #[test]
    fn the_fields_are_the_types() {
        assert_eq!(
            field_names::<EditRequest>(),
            ["operation", "prompt", "negativePrompt", "maskPrompt", "image", "styleImage", "mask", "options"]
        );
        assert_eq!(field_names::<EditOptions>(), ["seed", "count", "strength", "extents", "upscaler", "generator"]);
        assert_eq!(
            refusal(json!({"operation": "erase", "options": {"colour": "red"}})),
            (
                Some("options.colour".to_owned()),
                "`options.colour` is not a field of this request; known: seed, count, strength, extents, upscaler, \
                 generator"
                    .to_owned()
            )
        );
        assert_eq!(
            refusal(json!({"operation": "erase", "colour": "red"})).1,
            "`colour` is not a field of this request; known: operation, prompt, negativePrompt, maskPrompt, image, \
             styleImage, mask, options"
        );
    }

    /// Every operation's choice of model is an option of the request, by the same name, and the
    /// record's options name it the same way.
    #[test]
    fn choices_are_options() {
        let options = EditOptions::default();
        for (name, _) in options.choices() {
            assert!(field_names::<EditOptions>().contains(&name), "{name}");
        }
        let spec = Family::Stability.spec(Operation::Inpaint).expect("inpaint");
        for op in Operation::ALL {
            let Some(c) = op.choice() else { continue };
            assert!(options.choices().iter().any(|(name, _)| *name == c.option), "{}", c.option);
            let input = EditInput {
                operation: op,
                prompt: None,
                negative_prompt: None,
                mask_prompt: None,
                image: None,
                style_image: None,
                mask: None,
                seed: None,
                count: 1,
                strength: None,
                extents: Extents::default(),
            };
            let used = serde_json::to_value(used_options(&input, &spec)).expect("serializes");
            let mut want = json!({"count": 1});
            want[c.option] = json!(c.value);
            assert_eq!(used, want);
        }
    }

    /// Problems are named in the order validation checks them, whatever order the keys came in.
    #[test]
    fn the_first_problem_is_validations_not_the_documents() {
        assert_eq!(refusal(json!({"prompt": 5, "operation": 7})).0.as_deref(), Some("operation"));
        assert_eq!(refusal(json!({"options": 3})).0.as_deref(), Some("operation"));
        assert_eq!(refusal(json!({"options": {"colour": 1}, "operation": "teleport"})).0.as_deref(), Some("operation"));
        assert_eq!(
            refusal(json!({"image": 5, "options": {"seed": -1}, "operation": "erase"})).0.as_deref(),
            Some("options.seed")
        );
        assert_eq!(refusal(json!({"colour": 1, "operation": 7})).0.as_deref(), Some("colour"));
        assert_eq!(refusal(json!([{"operation": "erase"}])).1, "the request body must be a JSON object");
        assert_eq!(
            refusal(json!({"operation": "outpaint", "options": {"extents": [0, 256, 0, 0]}})),
            (
                Some("options.extents".to_owned()),
                "options.extents must be an object {left, right, up, down}".to_owned()
            )
        );
        assert_eq!(
            refusal(json!({"operation": "outpaint", "options": {"extents": {"top": 5}}})).1,
            "options.extents needs at least one side above 0",
            "keys other than the sides are ignored"
        );
    }
}
