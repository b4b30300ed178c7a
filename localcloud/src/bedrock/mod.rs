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
//! - variation / image-to-image: a tinted, striped copy of the (first) image at the output size.
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

const STAB_MIN_SIDE: u32 = 64;
const STAB_MIN_PIXELS: u64 = 4_096;
const STAB_MAX_PIXELS: u64 = 9_437_184;
const STAB_RMBG_MAX_PIXELS: u64 = 4_194_304;
const STAB_MAX_PROMPT: usize = 10_000;
const STAB_MAX_SEED: i64 = 4_294_967_294;
const STAB_MAX_EXTENT: i64 = 2_000;

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
        }
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
