//! Model families: what each one can do, its limits, and (in the submodules) the exact request
//! bodies and response parsing of its InvokeModel schema.
//!
//! One table ([`Family::spec`]) says, per family and operation, which inputs are required, optional
//! or unused. Validation, the request builders and `GET /capabilities` all read it, so the three
//! cannot drift apart.

pub mod stability;

use serde_json::Value;

/// `upscale`'s `options.upscaler`: which Stability upscale service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Upscaler {
    Fast,
    Conservative,
    Creative,
}

/// `generate`'s `options.generator`: which text-to-image model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Generator {
    Core,
    Ultra,
    Sd35Large,
}

/// The operations of `POST /edits`. An operation with a choice of model (`upscale`, `generate`)
/// is one variant per choice: each has its own model, inputs and limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    Inpaint,
    Outpaint,
    Replace,
    Recolor,
    Erase,
    RemoveBackground,
    Sketch,
    Structure,
    StyleGuide,
    StyleTransfer,
    Upscale(Upscaler),
    Generate(Generator),
    Variation,
}

/// An operation's choice of model: the option that picks it and the value that names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub option: &'static str,
    pub value: &'static str,
    /// Chosen when the request does not say.
    pub default: bool,
}

impl Operation {
    /// Canonical order (capabilities, error messages); an operation's default choice first.
    pub const ALL: [Operation; 17] = [
        Operation::Inpaint,
        Operation::Outpaint,
        Operation::Replace,
        Operation::Recolor,
        Operation::Erase,
        Operation::RemoveBackground,
        Operation::Sketch,
        Operation::Structure,
        Operation::StyleGuide,
        Operation::StyleTransfer,
        Operation::Upscale(Upscaler::Fast),
        Operation::Upscale(Upscaler::Conservative),
        Operation::Upscale(Upscaler::Creative),
        Operation::Generate(Generator::Core),
        Operation::Generate(Generator::Ultra),
        Operation::Generate(Generator::Sd35Large),
        Operation::Variation,
    ];

    /// The operation's name in the API (`operation` of a request, of a record).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Inpaint => "inpaint",
            Operation::Outpaint => "outpaint",
            Operation::Replace => "replace",
            Operation::Recolor => "recolor",
            Operation::Erase => "erase",
            Operation::RemoveBackground => "remove-background",
            Operation::Sketch => "sketch",
            Operation::Structure => "structure",
            Operation::StyleGuide => "style-guide",
            Operation::StyleTransfer => "style-transfer",
            Operation::Upscale(_) => "upscale",
            Operation::Generate(_) => "generate",
            Operation::Variation => "variation",
        }
    }

    /// The choice this variant is, for operations that offer one.
    pub fn choice(self) -> Option<Choice> {
        let (option, value, default) = match self {
            Operation::Upscale(u) => (
                "upscaler",
                match u {
                    Upscaler::Fast => "fast",
                    Upscaler::Conservative => "conservative",
                    Upscaler::Creative => "creative",
                },
                u == Upscaler::Fast,
            ),
            Operation::Generate(g) => (
                "generator",
                match g {
                    Generator::Core => "core",
                    Generator::Ultra => "ultra",
                    Generator::Sd35Large => "sd3.5-large",
                },
                g == Generator::Core,
            ),
            _ => return None,
        };
        Some(Choice { option, value, default })
    }

    /// The key of the operation's model in the stack's model ids (`MODEL_IDS`, the stack file's
    /// `models.ids`): its name, with `.value` for a choice other than the default
    /// (`upscale.creative`, `generate.ultra`).
    pub fn key(self) -> String {
        match self.choice() {
            Some(c) if !c.default => format!("{}.{}", self.as_str(), c.value),
            _ => self.as_str().to_owned(),
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.key() == key)
    }

    /// The variant `name` with `choice` (the value of its option, or its default when `None`).
    pub fn parse_with(name: &str, choice: Option<&str>) -> Option<Self> {
        Self::ALL.into_iter().filter(|op| op.as_str() == name).find(|op| match (op.choice(), choice) {
            (None, _) => true,
            (Some(c), None) => c.default,
            (Some(c), Some(v)) => c.value == v,
        })
    }

    /// Whether `name` is an operation of the API.
    pub fn is_name(name: &str) -> bool {
        Self::ALL.iter().any(|op| op.as_str() == name)
    }

    /// The API's operation names, each once, in canonical order.
    pub fn names() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = Vec::new();
        for op in Self::ALL {
            if !names.contains(&op.as_str()) {
                names.push(op.as_str());
            }
        }
        names
    }

    /// The values of this operation's choice, when it has one.
    pub fn choice_values(self) -> Vec<&'static str> {
        Self::ALL
            .into_iter()
            .filter(|op| op.as_str() == self.as_str())
            .filter_map(|op| op.choice().map(|c| c.value))
            .collect()
    }
}

/// The model family of a stack: whose request schema the function speaks. Stability AI is the only
/// live image family on Bedrock; the families the project once shipped (Titan, Nova) are retired
/// and refused by the provisioner (`image_edit_contract::catalogue::RETIRED`). A new family is a
/// variant here, its submodule, and its entry in the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Stability,
}

/// Whether an input is needed by an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Required,
    Optional,
    Unused,
}

impl Need {
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Required => "required",
            Need::Optional => "optional",
            Need::Unused => "none",
        }
    }
}

/// How `maskPrompt` is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskPromptUse {
    Unused,
    /// Stability search-and-replace / search-and-recolor: the text of the thing to find (required).
    SearchText,
}

/// What `options.strength` means for an operation, and its range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StrengthSpec {
    pub min: f64,
    pub max: f64,
    pub default: f64,
    /// What it sets in the model: `creativity`, `controlStrength` (`control_strength`),
    /// `fidelity`, `styleStrength` (`style_strength`) or `strength` (image-to-image).
    pub meaning: &'static str,
}

/// Inputs of one operation in one family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpSpec {
    pub prompt: Need,
    pub image: Need,
    /// Style Transfer: the style reference (`styleImage`).
    pub style_image: Need,
    pub mask: Need,
    pub mask_prompt: MaskPromptUse,
    /// `negativePrompt` is passed to the model.
    pub negative: bool,
    pub strength: Option<StrengthSpec>,
    /// Stability outpaint: `options.extents` (left/right/up/down) is required.
    pub extents: bool,
    /// The request carries a seed.
    pub seed: bool,
    /// A stricter pixel budget than the family's (Stability remove-background, the upscalers):
    /// larger images are scaled down to it.
    pub max_pixels: Option<u64>,
    /// A longest side shorter than the family's (Fast Upscale: 1,536).
    pub max_side: Option<u32>,
}

/// Family-wide limits the SPA should enforce and the Lambda validates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub max_prompt_chars: usize,
    pub min_side: u32,
    pub max_side: u32,
    pub min_pixels: u64,
    pub max_pixels: u64,
    pub max_aspect: f64,
    pub max_count: u32,
    pub max_seed: u64,
}

// Ranges and defaults: "Stability AI Image Services" (bedrock/latest/userguide/stable-image-services.html)
// and "Stable Diffusion 3.5 Large" (…/model-parameters-diffusion-3-5-large.html).
const CREATIVITY: StrengthSpec = StrengthSpec { min: 0.0, max: 1.0, default: 0.5, meaning: "creativity" };
/// Control Sketch / Control Structure `control_strength`.
const CONTROL: StrengthSpec = StrengthSpec { min: 0.0, max: 1.0, default: 0.7, meaning: "controlStrength" };
/// Style Guide `fidelity`.
const FIDELITY: StrengthSpec = StrengthSpec { min: 0.0, max: 1.0, default: 0.5, meaning: "fidelity" };
/// Style Transfer `style_strength`.
const STYLE_STRENGTH: StrengthSpec = StrengthSpec { min: 0.0, max: 1.0, default: 1.0, meaning: "styleStrength" };
/// Conservative Upscale `creativity`: Bedrock says 0.1–0.5, Stability's API 0.2–0.5 (default 0.35
/// in both): the narrower range, so that no value Bedrock might refuse is sent.
const CONSERVATIVE: StrengthSpec = StrengthSpec { min: 0.2, max: 0.5, default: 0.35, meaning: "creativity" };
/// Creative Upscale `creativity` (the same in both references).
const CREATIVE: StrengthSpec = StrengthSpec { min: 0.1, max: 0.5, default: 0.3, meaning: "creativity" };
/// SD3.5 Large image-to-image `strength`: 0 keeps the image, 1 ignores it (no default documented;
/// 0.7 is the AWS example's).
const IMAGE_STRENGTH: StrengthSpec = StrengthSpec { min: 0.0, max: 1.0, default: 0.7, meaning: "strength" };
/// Fast and Creative Upscale take at most 1,048,576 pixels; Fast also at most 1,536 a side.
const ONE_MEGAPIXEL: u64 = 1_048_576;

const BASE: OpSpec = OpSpec {
    prompt: Need::Unused,
    image: Need::Required,
    style_image: Need::Unused,
    mask: Need::Unused,
    mask_prompt: MaskPromptUse::Unused,
    negative: false,
    strength: None,
    extents: false,
    seed: true,
    max_pixels: None,
    max_side: None,
};

impl Family {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "stability" => Some(Family::Stability),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Stability => "stability",
        }
    }

    /// Limits from the model documentation (see docs/openapi.yaml and the Bedrock model pages).
    pub fn limits(self) -> Limits {
        match self {
            Family::Stability => Limits {
                max_prompt_chars: 10_000,
                min_side: 64,
                max_side: 4096,
                min_pixels: 4096,
                max_pixels: 9_437_184,
                max_aspect: 2.5,
                max_count: 1,
                max_seed: 4_294_967_294,
            },
        }
    }

    /// The inputs of `op` in this family, or `None` when the family cannot do it.
    pub fn spec(self, op: Operation) -> Option<OpSpec> {
        use Operation::*;
        match self {
            Family::Stability => match op {
                // The Stability inpaint API requires a prompt; without one, use `erase`.
                Inpaint => Some(OpSpec { prompt: Need::Required, mask: Need::Required, negative: true, ..BASE }),
                Outpaint => Some(OpSpec { prompt: Need::Optional, strength: Some(CREATIVITY), extents: true, ..BASE }),
                Replace | Recolor => Some(OpSpec {
                    prompt: Need::Required,
                    mask_prompt: MaskPromptUse::SearchText,
                    negative: true,
                    ..BASE
                }),
                Erase => Some(OpSpec { mask: Need::Required, ..BASE }),
                RemoveBackground => Some(OpSpec { seed: false, max_pixels: Some(4_194_304), ..BASE }),
                Sketch | Structure => {
                    Some(OpSpec { prompt: Need::Required, negative: true, strength: Some(CONTROL), ..BASE })
                }
                StyleGuide => Some(OpSpec { prompt: Need::Required, negative: true, strength: Some(FIDELITY), ..BASE }),
                StyleTransfer => Some(OpSpec {
                    prompt: Need::Optional,
                    style_image: Need::Required,
                    negative: true,
                    strength: Some(STYLE_STRENGTH),
                    ..BASE
                }),
                // Fast Upscale: the image and nothing else; sides 32–1,536, at most 1 MP.
                Upscale(Upscaler::Fast) => {
                    Some(OpSpec { seed: false, max_pixels: Some(ONE_MEGAPIXEL), max_side: Some(1536), ..BASE })
                }
                Upscale(Upscaler::Conservative) => {
                    Some(OpSpec { prompt: Need::Required, negative: true, strength: Some(CONSERVATIVE), ..BASE })
                }
                Upscale(Upscaler::Creative) => Some(OpSpec {
                    prompt: Need::Required,
                    negative: true,
                    strength: Some(CREATIVE),
                    max_pixels: Some(ONE_MEGAPIXEL),
                    ..BASE
                }),
                Generate(_) => Some(OpSpec { prompt: Need::Required, image: Need::Unused, negative: true, ..BASE }),
                Variation => {
                    Some(OpSpec { prompt: Need::Required, negative: true, strength: Some(IMAGE_STRENGTH), ..BASE })
                }
            },
        }
    }

    pub fn operations(self) -> Vec<Operation> {
        Operation::ALL.into_iter().filter(|op| self.spec(*op).is_some()).collect()
    }
}

/// Stability outpaint extents in pixels; in a record's options as `{left, right, up, down}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extents {
    pub left: u32,
    pub right: u32,
    pub up: u32,
    pub down: u32,
}

/// An image ready for the model: base64 without `data:` prefix, at the size the model will see.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelImage {
    pub base64: String,
    pub width: u32,
    pub height: u32,
}

/// A validated edit, in the family's terms (mask already in the model's polarity).
#[derive(Clone, Debug, PartialEq)]
pub struct EditInput {
    pub operation: Operation,
    pub prompt: Option<String>,
    pub negative_prompt: Option<String>,
    pub mask_prompt: Option<String>,
    pub image: Option<ModelImage>,
    /// Style Transfer's style reference.
    pub style_image: Option<ModelImage>,
    pub mask: Option<ModelImage>,
    /// The seed sent to the model (chosen at random when the caller gave none); `None` when the
    /// operation takes no seed.
    pub seed: Option<u64>,
    pub count: u32,
    /// The operation's strength parameter (its default when not given); `None` when unused.
    pub strength: Option<f64>,
    pub extents: Extents,
}

/// What the model produced.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ModelOutput {
    /// base64 PNGs, no prefix.
    pub images: Vec<String>,
    pub seeds: Vec<u64>,
    pub notices: Vec<String>,
    /// The local Bedrock stand-in made the images.
    pub stand_in: bool,
}

/// The model answered, but not with images.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AnswerError {
    #[error("{0}")]
    Blocked(String),
    #[error("{0}")]
    Failed(String),
}

/// The exact InvokeModel body for `input` in `family`.
pub fn build_request(family: Family, model_id: &str, input: &EditInput) -> Value {
    match family {
        Family::Stability => stability::build_request(model_id, input),
    }
}

/// Reads the model's answer.
pub fn parse_response(family: Family, input: &EditInput, body: &Value) -> Result<ModelOutput, AnswerError> {
    let mut out = match family {
        Family::Stability => stability::parse_response(input, body)?,
    };
    out.stand_in = body.get("standIn").and_then(Value::as_bool).unwrap_or(false);
    Ok(out)
}

pub(crate) fn blocked_notice(blocked: usize, total: usize) -> String {
    if total == 1 {
        "the image was blocked by the content filter".to_owned()
    } else {
        format!("{blocked} of {total} images blocked by the content filter")
    }
}

pub(crate) fn is_filter_message(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.contains("content filter") || s.contains("filter reason")
}
