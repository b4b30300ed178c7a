//! Bedrock stand-in: the runtime's `InvokeModel` for the image models the app uses, and the
//! control plane's `GetFoundationModel` / `ListFoundationModels`, in the REST-JSON wire format the
//! Rust SDK speaks (`aws-sdk-bedrockruntime`, `aws-sdk-bedrock`).
//!
//! Requests are validated by each family's documented rules (see
//! `shared/reference/bedrock-image-models.md`) and rejected as Bedrock does: HTTP 400,
//! `x-amzn-errortype: ValidationException`, `{"message": "..."}` naming the field. Valid requests get a
//! deterministic, visibly edited picture (same request, same bytes), never a real model's:
//!
//! - inpaint / erase / outpaint: the change area is filled from its unchanged surroundings
//!   (pull-push interpolation), tinted with a colour hashed from the prompt, and striped diagonally
//!   so nobody mistakes it for a model's work;
//! - search-and-replace / search-and-recolor: there is no segmentation;
//!   "the object" is a centred ellipse (half the width and height);
//! - remove-background: what a flood fill from the border reaches through similar colours becomes
//!   transparent;
//! - text-to-image / colour-guided: a gradient from the prompt hash (or the given colours);
//! - variation / image-to-image: a tinted, striped copy of the (first) image at the output size;
//! - control sketch / structure: the same, at the input's size; upscales: the same, scaled (nearest
//!   neighbour) to 4× (fast) or about 4 MP (conservative, creative);
//! - style guide: a gradient in the style image's colours; style transfer: `init_image` at 1 MP,
//!   tinted towards the style image's mean colour.
//!
//! Every successful body carries `"standIn": true`. Test switches (`POST /_localcloud/bedrock/config`)
//! add latency, throttling, a concurrency quota, content-filter blocks and model failures; `GET
//! /_localcloud/bedrock/invocations` counts the InvokeModel calls received (`count`) and those
//! answered with images (`answered`).

// A request's way through the files: handlers → models (which schema) → stability
// (schema checks, images in) → the work to do → pictures out; errors are everyone's.
mod agreements;
mod errors;
mod handlers;
mod images_in;
mod models;
mod pictures;
mod schema;
mod stability;
mod switches;
mod work;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};

use handlers::{
    get_config, get_foundation_model, get_inference_profile, invocations, invoke, list_foundation_models,
    list_inference_profiles, set_config,
};
use switches::Settings;

/// InvokeModel's body limit [SDK].
const MAX_BODY: usize = 25_000_000;

/// The env var with the initial latency in milliseconds.
pub const LATENCY_ENV: &str = "LOCALCLOUD_BEDROCK_LATENCY_MS";

// Sources: AWS's "Stability AI Image Services" page (request fields of each service, one section
// each), https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html, and
// Stability's API reference, https://platform.stability.ai/docs/api-reference. Where the two
// disagree the stand-in takes the stricter rule and says so where the rule is checked.

/// Input images: every side at least 64 px, at most 9,437,184 px, aspect ratio 1:2.5–2.5:1
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html); at least
/// 4,096 px in all (Stability's API reference; 64×64 is that anyway).
const STAB_MIN_SIDE: u32 = 64;
const STAB_MIN_PIXELS: u64 = 4_096;
const STAB_MAX_PIXELS: u64 = 9_437_184;
const STAB_RMBG_MAX_PIXELS: u64 = 4_194_304;
/// `prompt` and `negative_prompt`: at most 10000 characters
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html).
const STAB_MAX_PROMPT: usize = 10_000;
/// `seed`: 0–4294967294, 0 = random
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html; the Ultra
/// page's "0 to 4294967295" is stricter-read as Stability's 4294967294).
const STAB_MAX_SEED: i64 = 4_294_967_294;
const STAB_MAX_EXTENT: i64 = 2_000;

/// Fast Upscale's input: width and height 32–1,536 px, 1,024–1,048,576 px in all
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html#stable-image-services-7;
/// Stability's API reference, `POST /v2beta/stable-image/upscale/fast`, says the same).
const FAST_UPSCALE_MIN_SIDE: u32 = 32;
const FAST_UPSCALE_MAX_SIDE: u32 = 1_536;
const FAST_UPSCALE_MIN_PIXELS: u64 = 1_024;
const FAST_UPSCALE_MAX_PIXELS: u64 = 1_048_576;
/// Fast Upscale's output: "4 times that of the input image with a maximum size of 16 megapixels"
/// (Stability's API reference, `POST /v2beta/stable-image/upscale/fast`; AWS, same page as above:
/// "enhances image resolution by 4 times"). 16 MP read as 4096×4096, the 4× of the largest input.
const FAST_UPSCALE_FACTOR: usize = 4;
const FAST_UPSCALE_MAX_OUT_PIXELS: u64 = 16_777_216;
/// Creative Upscale's input: every side at least 64 px, 4,096–1,048,576 px in all, no aspect-ratio
/// rule (https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html#stable-image-services-5).
const CREATIVE_UPSCALE_MAX_PIXELS: u64 = 1_048_576;
/// Conservative Upscale's output: "The resolution of the generated image will be 4 megapixels"
/// (Stability's API reference, `POST /v2beta/stable-image/upscale/conservative`; AWS only says
/// "4K"), about 2048×2048 at 1:1. Creative Upscale's is stated nowhere; the stand-in draws it the
/// same size.
const UPSCALE_OUT_PIXELS: u64 = 4_194_304;
/// Style Guide, Style Transfer and Ultra/SD3.5 image-to-image: "The resolution of the generated
/// image will be 1MP" (Stability's API reference, tag Control); SD3.5 "outputs 1 MP"
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-3-5-large.html).
const ONE_MEGAPIXEL: u64 = 1_048_576;
/// Stable Image Ultra's input image: width and height 64–16,384 px, at least 4,096 px in all
/// (Stability's API reference, `POST /v2beta/stable-image/generate/ultra`; AWS's page,
/// https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-stable-ultra-text-image-request-response.html,
/// states no limit).
const ULTRA_MAX_SIDE: u32 = 16_384;

const STYLE_PRESETS: &[&str] = &[
    "3d-model",
    "analog-film",
    "anime",
    "cinematic",
    "comic-book",
    "digital-art",
    "enhance",
    "fantasy-art",
    "isometric",
    "line-art",
    "low-poly",
    "modeling-compound",
    "neon-punk",
    "origami",
    "photographic",
    "pixel-art",
    "tile-texture",
];

/// Stability text-to-image `aspect_ratio` and the size the stand-in draws for it.
const ASPECT_RATIOS: &[(&str, u32, u32)] = &[
    ("16:9", 1344, 768),
    ("1:1", 1024, 1024),
    ("21:9", 1536, 640),
    ("2:3", 832, 1216),
    ("3:2", 1216, 832),
    ("4:5", 896, 1088),
    ("5:4", 1088, 896),
    ("9:16", 768, 1344),
    ("9:21", 640, 1536),
];

/// The Bedrock stand-in. Cloning shares the switches and the count.
#[derive(Clone)]
pub struct Bedrock {
    settings: Arc<Mutex<Settings>>,
    /// InvokeModel calls received (`GET /_localcloud/bedrock/invocations`): what a test counts
    /// to prove that a refused request never reached the model.
    invocations: Arc<std::sync::atomic::AtomicU64>,
    /// InvokeModel calls answered with images (200): what made an image, to tell a duplicate.
    answered: Arc<std::sync::atomic::AtomicU64>,
    /// Model id → InvokeModel calls under way (for `maxConcurrent`).
    running: Arc<Mutex<std::collections::HashMap<String, u32>>>,
    /// The account's model access agreements (Marketplace subscriptions).
    agreements: agreements::Agreements,
    /// Who may invoke what: the caller's IAM policies, evaluated by moto (None: a Bedrock on its
    /// own, without a moto to ask; the local cloud always has one).
    iam: Option<crate::iam::Authorizer>,
    /// Bedrock's runtime metrics (`AWS/Bedrock`), published into moto's CloudWatch.
    metrics: crate::metrics::Publisher,
}

/// One InvokeModel call counted against its model's concurrency; released when dropped.
pub(super) struct Running {
    running: Arc<Mutex<std::collections::HashMap<String, u32>>>,
    model: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut r) = self.running.lock()
            && let Some(n) = r.get_mut(&self.model)
        {
            *n = n.saturating_sub(1);
        }
    }
}

impl Default for Bedrock {
    fn default() -> Self {
        Self::new()
    }
}

impl Bedrock {
    /// A fresh account's Bedrock: no switches on (except the latency from
    /// `LOCALCLOUD_BEDROCK_LATENCY_MS`) and no model access agreement yet.
    pub fn new() -> Bedrock {
        let mut settings = Settings::default();
        if let Ok(v) = std::env::var(LATENCY_ENV) {
            match v.trim().parse::<u64>() {
                Ok(ms) => settings.latency_ms = ms,
                Err(_) => tracing::warn!(value = %v, "{LATENCY_ENV} is not a number of milliseconds; ignored"),
            }
        }
        Bedrock {
            settings: Arc::new(Mutex::new(settings)),
            invocations: Arc::default(),
            answered: Arc::default(),
            running: Arc::default(),
            agreements: agreements::Agreements::default(),
            iam: None,
            metrics: crate::metrics::Publisher::default(),
        }
    }

    /// This Bedrock, publishing the runtime metrics Bedrock publishes about InvokeModel calls.
    pub fn with_metrics(self, metrics: crate::metrics::Publisher) -> Bedrock {
        Bedrock { metrics, ..self }
    }

    /// This Bedrock, authorizing each InvokeModel call against the caller's IAM policies.
    pub fn with_iam(self, iam: crate::iam::Authorizer) -> Bedrock {
        Bedrock { iam: Some(iam), ..self }
    }

    /// An account that has already subscribed to every Marketplace model (for tests of the other
    /// rules; `provision up` makes the agreements on a fresh one).
    pub fn subscribed() -> Bedrock {
        Bedrock { agreements: agreements::Agreements::all_in_place(), ..Bedrock::new() }
    }

    /// The routes (`/model/{modelId}/invoke`, `/foundation-models[/{id}]`, `/_localcloud/bedrock/config`);
    /// mount next to the other stand-ins.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/model/{model_id}/invoke", post(invoke))
            .route("/foundation-models", get(list_foundation_models))
            .route("/foundation-models/{model_id}", get(get_foundation_model))
            .route("/inference-profiles", get(list_inference_profiles))
            .route("/inference-profiles/{profile_id}", get(get_inference_profile))
            .route("/foundation-model-availability/{model_id}", get(agreements::get_availability))
            .route("/list-foundation-model-agreement-offers/{model_id}", get(agreements::list_offers))
            .route("/create-foundation-model-agreement", post(agreements::create_agreement))
            .route("/delete-foundation-model-agreement", post(agreements::delete_agreement))
            .route("/_localcloud/bedrock/config", get(get_config).post(set_config))
            .route("/_localcloud/bedrock/invocations", get(invocations))
            .with_state(self.clone())
    }

    fn settings(&self) -> Settings {
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Counts a call to `model` against `limit` concurrent calls; None when it is over.
    pub(super) fn start(&self, model: &str, limit: Option<u32>) -> Option<Running> {
        let mut r = self.running.lock().ok()?;
        let n = r.entry(model.to_owned()).or_default();
        if limit.is_some_and(|l| *n >= l) {
            return None;
        }
        *n += 1;
        Some(Running { running: self.running.clone(), model: model.to_owned() })
    }
}
