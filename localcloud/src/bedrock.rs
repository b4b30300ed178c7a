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
//! - search-and-replace / search-and-recolor and Titan/Nova `maskPrompt`: there is no segmentation;
//!   "the object" is a centred ellipse (half the width and height);
//! - remove-background: what a flood fill from the border reaches through similar colours becomes
//!   transparent;
//! - text-to-image / colour-guided: a gradient from the prompt hash (or the given colours);
//! - variation / image-to-image: a tinted, striped copy of the (first) image at the output size.
//!
//! Every successful body carries `"standIn": true`. Test switches (`POST /_localcloud/bedrock/config`)
//! add latency, throttling, content-filter blocks and model failures; `GET
//! /_localcloud/bedrock/invocations` counts the InvokeModel calls received.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageFormat, ImageReader};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::catalogue;

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

const NOVA_MIN_SIDE: u32 = 320;
const NOVA_MAX_SIDE: u32 = 4_096;
const NOVA_MAX_PIXELS: u64 = 4_194_304;
const NOVA_MAX_SEED: i64 = 858_993_459;
const TITAN_MAX_SIDE: u32 = 1_408;
const TITAN_MAX_SEED: i64 = 2_147_483_646;
/// Titan's documented input image limit.
const TITAN_MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// Titan Image Generator v2's output sizes (width, height): the documented list ("Supported image
/// sizes", docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-image.html).
const TITAN_SIZES: &[(u32, u32)] = &[
    (1024, 1024),
    (768, 768),
    (512, 512),
    (768, 1152),
    (384, 576),
    (1152, 768),
    (576, 384),
    (768, 1280),
    (384, 640),
    (1280, 768),
    (640, 384),
    (896, 1152),
    (448, 576),
    (1152, 896),
    (576, 448),
    (768, 1408),
    (384, 704),
    (1408, 768),
    (704, 384),
    (640, 1408),
    (320, 704),
    (1408, 640),
    (704, 320),
    (1152, 640),
    (1173, 640),
];

const NOVA_STYLES: &[&str] = &[
    "3D_ANIMATED_FAMILY_FILM",
    "DESIGN_SKETCH",
    "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION",
    "MAXIMALISM",
    "MIDCENTURY_RETRO",
    "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
];

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

// ---------------------------------------------------------------------------------------------
// Models

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Inpaint,
    Outpaint,
    SearchReplace,
    SearchRecolor,
    Erase,
    RemoveBackground,
    Core,
    Ultra,
    Sd35,
    TitanV2,
    Nova,
}

/// The request schema each model speaks. Where and how AWS offers each one (regions, on-demand
/// or inference profile, lifecycle) is the catalogue's (`crate::catalogue`), with its sources.
const KINDS: &[(&str, Kind)] = &[
    ("stability.stable-image-inpaint-v1:0", Kind::Inpaint),
    ("stability.stable-outpaint-v1:0", Kind::Outpaint),
    ("stability.stable-image-search-replace-v1:0", Kind::SearchReplace),
    ("stability.stable-image-search-recolor-v1:0", Kind::SearchRecolor),
    ("stability.stable-image-erase-object-v1:0", Kind::Erase),
    ("stability.stable-image-remove-background-v1:0", Kind::RemoveBackground),
    ("stability.stable-image-core-v1:1", Kind::Core),
    ("stability.stable-image-ultra-v1:1", Kind::Ultra),
    ("stability.sd3-5-large-v1:0", Kind::Sd35),
    ("amazon.titan-image-generator-v2:0", Kind::TitanV2),
    ("amazon.nova-canvas-v1:0", Kind::Nova),
];

#[derive(Clone, Copy)]
struct ModelInfo {
    id: &'static str,
    kind: Kind,
    model: &'static catalogue::Model,
}

impl ModelInfo {
    fn input_modalities(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::RemoveBackground | Kind::Erase => &["IMAGE"],
            Kind::Core => &["TEXT"],
            _ => &["TEXT", "IMAGE"],
        }
    }

    /// GetFoundationModel's `modelDetails` (and a ListFoundationModels summary) in `region`.
    fn details(&self, region: &str, status: &str) -> Value {
        json!({
            "modelArn": catalogue::foundation_model_arn(region, self.id),
            "modelId": self.id,
            "modelName": self.model.name,
            "providerName": self.model.provider,
            "inputModalities": self.input_modalities(),
            "outputModalities": ["IMAGE"],
            "responseStreamingSupported": false,
            "customizationsSupported": [],
            "inferenceTypesSupported": self.model.inference_types(region),
            "modelLifecycle": {"status": status},
        })
    }
}

fn find_model(id: &str) -> Option<ModelInfo> {
    let kind = KINDS.iter().find(|(k, _)| *k == id)?.1;
    let model = catalogue::model(id)?;
    Some(ModelInfo { id: model.id, kind, model })
}

/// The model an InvokeModel `modelId` (an id or ARN of a foundation model or an inference
/// profile) reaches from `region`, or Bedrock's ValidationException: the plain id of a model that
/// is offered there only through a profile gets Bedrock's "on-demand throughput isn’t supported"
/// message; an id not offered in the region, "The provided model identifier is invalid."
/// (observed for Nova Canvas outside its regions; shared/reference/aws-fidelity.md).
fn resolve_invoke(raw: &str, region: &str) -> VResult<ModelInfo> {
    let invalid = || ApiError::validation("The provided model identifier is invalid.");
    match catalogue::resolve(raw, region) {
        Ok((m, _)) => find_model(m.id).ok_or_else(invalid),
        Err(e @ catalogue::Refusal::ProfileOnly { .. }) => Err(ApiError::validation(e.to_string())),
        Err(_) => Err(invalid()),
    }
}

// ---------------------------------------------------------------------------------------------
// Switches

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Block {
    Input,
    Output,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Fail {
    ModelError,
    Timeout,
    NotReady,
    AccessDenied,
}

/// The test switches; `POST /_localcloud/bedrock/config` replaces them all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    /// Sleep this long before every InvokeModel answer.
    #[serde(default)]
    latency_ms: u64,
    /// Answer every InvokeModel with ThrottlingException.
    #[serde(default)]
    throttle: bool,
    /// Content filter: `input` rejects valid requests, `output` blocks the generated images.
    #[serde(default)]
    block: Option<Block>,
    /// Fail InvokeModel this way: `access_denied` before looking at the body (as IAM does), the
    /// others only for valid requests (as a model does).
    #[serde(default)]
    fail: Option<Fail>,
    /// GetFoundationModel `modelLifecycle.status` per model id (default `ACTIVE`), e.g.
    /// `{"amazon.nova-canvas-v1:0": "LEGACY"}`.
    #[serde(default)]
    lifecycle: BTreeMap<String, String>,
}

/// The Bedrock stand-in. Cloning shares the switches and the count.
#[derive(Clone)]
pub struct Bedrock {
    settings: Arc<Mutex<Settings>>,
    /// InvokeModel calls received (`GET /_localcloud/bedrock/invocations`): what a test counts
    /// to prove that a refused request never reached the model.
    invocations: Arc<std::sync::atomic::AtomicU64>,
}

impl Default for Bedrock {
    fn default() -> Self {
        Self::new()
    }
}

impl Bedrock {
    /// A stand-in with no switches on, except the latency from `LOCALCLOUD_BEDROCK_LATENCY_MS`.
    pub fn new() -> Bedrock {
        let mut settings = Settings::default();
        if let Ok(v) = std::env::var(LATENCY_ENV) {
            match v.trim().parse::<u64>() {
                Ok(ms) => settings.latency_ms = ms,
                Err(_) => tracing::warn!(value = %v, "{LATENCY_ENV} is not a number of milliseconds; ignored"),
            }
        }
        Bedrock { settings: Arc::new(Mutex::new(settings)), invocations: Arc::default() }
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
            .route("/_localcloud/bedrock/config", get(get_config).post(set_config))
            .route("/_localcloud/bedrock/invocations", get(invocations))
            .with_state(self.clone())
    }

    fn settings(&self) -> Settings {
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

type VResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, kind, message: message.into() }
    }

    fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(json!({"message": self.message}))).into_response();
        // Bedrock appends its coral namespace; the SDK keeps what is before the first ':'.
        let kind = format!("{}:http://internal.amazon.com/coral/com.amazon.bedrock/", self.kind);
        if let Ok(v) = HeaderValue::from_str(&kind) {
            r.headers_mut().insert("x-amzn-errortype", v);
        }
        add_request_id(&mut r);
        r
    }
}

fn add_request_id(r: &mut Response) {
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
}

/// Bedrock's schema-violation wording.
fn malformed(path: &str, what: impl Display) -> ApiError {
    ApiError::validation(format!("Malformed input request: {path}: {what}, please reformat your input and try again."))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_f64() => "BigDecimal",
        Value::Number(_) => "Integer",
        Value::String(_) => "String",
        Value::Array(_) => "JSONArray",
        Value::Object(_) => "JSONObject",
    }
}

fn type_error(path: &str, expected: &str, found: &Value) -> ApiError {
    malformed(path, format!("expected type: {expected}, found: {}", type_name(found)))
}

// ---------------------------------------------------------------------------------------------
// Schema checks

/// A JSON object at a JSON-pointer-ish path (`#`, `#/inPaintingParams`).
struct Obj<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    fn root(v: &'a Value) -> VResult<Obj<'a>> {
        match v {
            Value::Object(map) => Ok(Obj { path: "#".to_owned(), map }),
            other => Err(type_error("#", "JSONObject", other)),
        }
    }

    fn at(&self, key: &str) -> String {
        format!("{}/{key}", self.path)
    }

    fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Rejects keys not in `keys` (the first, in key order).
    fn allow(&self, keys: &[&str]) -> VResult<()> {
        match self.map.keys().find(|k| !keys.contains(&k.as_str())) {
            Some(k) => Err(malformed(&self.path, format!("extraneous key [{k}] is not permitted"))),
            None => Ok(()),
        }
    }

    fn require(&self, keys: &[&str]) -> VResult<()> {
        match keys.iter().find(|k| !self.map.contains_key(**k)) {
            Some(k) => Err(malformed(&self.path, format!("required key [{k}] not found"))),
            None => Ok(()),
        }
    }

    fn string(&self, key: &str, min: usize, max: usize) -> VResult<Option<&'a str>> {
        let Some(v) = self.map.get(key) else { return Ok(None) };
        let s = v.as_str().ok_or_else(|| type_error(&self.at(key), "String", v))?;
        let n = s.chars().count();
        if n < min {
            return Err(malformed(&self.at(key), format!("expected minLength: {min}, actual: {n}")));
        }
        if n > max {
            return Err(malformed(&self.at(key), format!("expected maxLength: {max}, actual: {n}")));
        }
        Ok(Some(s))
    }

    fn req_string(&self, key: &str, min: usize, max: usize) -> VResult<&'a str> {
        self.require(&[key])?;
        Ok(self.string(key, min, max)?.unwrap_or_default())
    }

    fn int(&self, key: &str, min: i64, max: i64) -> VResult<Option<i64>> {
        let Some(v) = self.map.get(key) else { return Ok(None) };
        let path = self.at(key);
        let i = match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
            other => return Err(type_error(&path, "Integer", other)),
        };
        if i < min {
            return Err(malformed(&path, format!("{v} is not greater or equal to {min}")));
        }
        if i > max {
            return Err(malformed(&path, format!("{v} is not less or equal to {max}")));
        }
        Ok(Some(i))
    }

    fn number(&self, key: &str, min: f64, max: f64) -> VResult<Option<f64>> {
        let Some(v) = self.map.get(key) else { return Ok(None) };
        let path = self.at(key);
        let x = v.as_f64().ok_or_else(|| type_error(&path, "Number", v))?;
        if x < min {
            return Err(malformed(&path, format!("{v} is not greater or equal to {min:?}")));
        }
        if x > max {
            return Err(malformed(&path, format!("{v} is not less or equal to {max:?}")));
        }
        Ok(Some(x))
    }

    fn enumeration(&self, key: &str, allowed: &[&str]) -> VResult<Option<&'a str>> {
        let Some(v) = self.map.get(key) else { return Ok(None) };
        match v.as_str() {
            Some(s) if allowed.contains(&s) => Ok(Some(s)),
            Some(s) => Err(malformed(&self.at(key), format!("{s} is not a valid enum value"))),
            None => Err(malformed(&self.at(key), format!("{v} is not a valid enum value"))),
        }
    }

    fn object(&self, key: &str) -> VResult<Option<Obj<'a>>> {
        let Some(v) = self.map.get(key) else { return Ok(None) };
        match v {
            Value::Object(map) => Ok(Some(Obj { path: self.at(key), map })),
            other => Err(type_error(&self.at(key), "JSONObject", other)),
        }
    }

    fn req_object(&self, key: &str) -> VResult<Obj<'a>> {
        self.require(&[key])?;
        self.object(key)?.ok_or_else(|| malformed(&self.path, format!("required key [{key}] not found")))
    }

    fn array(&self, key: &str, min: usize, max: usize) -> VResult<Option<&'a [Value]>> {
        let Some(v) = self.map.get(key) else { return Ok(None) };
        let path = self.at(key);
        let a = v.as_array().ok_or_else(|| type_error(&path, "JSONArray", v))?;
        if a.len() < min {
            return Err(malformed(&path, format!("expected minimum item count: {min}, found: {}", a.len())));
        }
        if a.len() > max {
            return Err(malformed(&path, format!("expected maximum item count: {max}, found: {}", a.len())));
        }
        Ok(Some(a))
    }
}

// ---------------------------------------------------------------------------------------------
// Images in

/// A decoded image: 8-bit RGB plus alpha when the file had an alpha channel.
#[derive(Clone)]
struct Picture {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
    alpha: Option<Vec<u8>>,
}

/// What an input image must satisfy.
#[derive(Clone, Copy)]
struct ImageRules {
    min_side: u32,
    max_side: u32,
    min_pixels: u64,
    max_pixels: u64,
    /// Longest side / shortest side at most `num / den`.
    max_aspect: (u64, u64),
    max_bytes: usize,
    /// Titan/Nova: 8 bits per channel and no transparent or translucent pixel.
    opaque_8bit: bool,
}

const STABILITY_IMAGES: ImageRules = ImageRules {
    min_side: STAB_MIN_SIDE,
    max_side: u32::MAX,
    min_pixels: STAB_MIN_PIXELS,
    max_pixels: STAB_MAX_PIXELS,
    max_aspect: (5, 2),
    max_bytes: usize::MAX,
    opaque_8bit: false,
};

const NOVA_IMAGES: ImageRules = ImageRules {
    min_side: NOVA_MIN_SIDE,
    max_side: NOVA_MAX_SIDE,
    min_pixels: 0,
    max_pixels: NOVA_MAX_PIXELS,
    max_aspect: (4, 1),
    max_bytes: usize::MAX,
    opaque_8bit: true,
};

const TITAN_IMAGES: ImageRules = ImageRules {
    min_side: 1,
    max_side: TITAN_MAX_SIDE,
    min_pixels: 0,
    max_pixels: u64::MAX,
    max_aspect: (u64::MAX, 1),
    max_bytes: TITAN_MAX_IMAGE_BYTES,
    opaque_8bit: true,
};

fn b64() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

fn decode_picture(path: &str, v: &Value, rules: &ImageRules) -> VResult<Picture> {
    let s = v.as_str().ok_or_else(|| type_error(path, "String", v))?;
    let bytes = b64().decode(s.as_bytes()).map_err(|e| {
        malformed(path, format!("the image is not a valid base64 string ({e}); send the bare base64, no data: prefix"))
    })?;
    if bytes.len() > rules.max_bytes {
        return Err(malformed(
            path,
            format!("the image is {} bytes, more than the maximum of {} bytes", bytes.len(), rules.max_bytes),
        ));
    }
    let format = match image::guess_format(&bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
        Ok(f) => {
            return Err(malformed(path, format!("unsupported image format {f:?}; the image must be a PNG or JPEG")));
        }
        Err(_) => return Err(malformed(path, "the image is not a PNG or JPEG file")),
    };
    let reader = ImageReader::with_format(Cursor::new(&bytes[..]), format);
    let decoder = reader.into_decoder().map_err(|e| malformed(path, format!("the image cannot be decoded ({e})")))?;
    let (w, h) = decoder.dimensions();
    check_size(path, w, h, rules)?;
    let color = decoder.color_type();
    if rules.opaque_8bit && color.bytes_per_pixel() != color.channel_count() {
        return Err(malformed(path, format!("the image must have 8 bits per color channel, found {color:?}")));
    }
    let img = DynamicImage::from_decoder(decoder)
        .map_err(|e| malformed(path, format!("the image cannot be decoded ({e})")))?;
    let (w, h) = (w as usize, h as usize);
    let pic = if color.has_alpha() {
        let rgba = img.into_rgba8().into_raw();
        let mut rgb = Vec::with_capacity(w * h * 3);
        let mut alpha = Vec::with_capacity(w * h);
        for px in rgba.chunks_exact(4) {
            rgb.extend_from_slice(&px[..3]);
            alpha.push(px[3]);
        }
        Picture { w, h, rgb, alpha: Some(alpha) }
    } else {
        Picture { w, h, rgb: img.into_rgb8().into_raw(), alpha: None }
    };
    if rules.opaque_8bit
        && let Some(i) = pic.alpha.as_ref().and_then(|a| a.iter().position(|&a| a != 255))
    {
        return Err(malformed(
            path,
            format!(
                "the image has transparent or translucent pixels (the first at x={}, y={}); alpha must be 255 everywhere",
                i % w,
                i / w
            ),
        ));
    }
    Ok(pic)
}

fn check_size(path: &str, w: u32, h: u32, r: &ImageRules) -> VResult<()> {
    let px = u64::from(w) * u64::from(h);
    let (lo, hi) = (w.min(h), w.max(h));
    if lo < r.min_side {
        return Err(malformed(path, format!("the image is {w}x{h}; each side must be at least {} pixels", r.min_side)));
    }
    if hi > r.max_side {
        return Err(malformed(path, format!("the image is {w}x{h}; each side must be at most {} pixels", r.max_side)));
    }
    if px < r.min_pixels {
        return Err(malformed(path, format!("the image has {px} pixels ({w}x{h}); the minimum is {}", r.min_pixels)));
    }
    if px > r.max_pixels {
        return Err(malformed(path, format!("the image has {px} pixels ({w}x{h}); the maximum is {}", r.max_pixels)));
    }
    let (num, den) = r.max_aspect;
    if u128::from(hi) * u128::from(den) > u128::from(lo) * u128::from(num) {
        let ratio = if den == 1 { format!("{num}") } else { format!("{}", num as f64 / den as f64) };
        return Err(malformed(
            path,
            format!("the image is {w}x{h}; its aspect ratio must be between 1:{ratio} and {ratio}:1"),
        ));
    }
    Ok(())
}

fn same_size(path: &str, mask: &Picture, image: &Picture) -> VResult<()> {
    if mask.w != image.w || mask.h != image.h {
        return Err(malformed(
            path,
            format!(
                "the mask is {}x{} but the image is {}x{}; the mask must have the same size as the image",
                mask.w, mask.h, image.w, image.h
            ),
        ));
    }
    Ok(())
}

/// Titan/Nova mask: pure black and pure white only. Returns 255 where the mask is black.
fn black_white_mask(path: &str, mask: &Picture) -> VResult<Vec<u8>> {
    let mut black = Vec::with_capacity(mask.w * mask.h);
    for (i, px) in mask.rgb.chunks_exact(3).enumerate() {
        match (px[0], px[1], px[2]) {
            (0, 0, 0) => black.push(255),
            (255, 255, 255) => black.push(0),
            (r, g, b) => {
                return Err(malformed(
                    path,
                    format!(
                        "the mask image must contain only pure black (0,0,0) and pure white (255,255,255) pixels; \
                         found ({r},{g},{b}) at x={}, y={}",
                        i % mask.w,
                        i / mask.w
                    ),
                ));
            }
        }
    }
    Ok(black)
}

/// Stability mask: the luminance, white = change, grey = partial.
fn luma_mask(mask: &Picture) -> Vec<u8> {
    mask.rgb.chunks_exact(3).map(luma).collect()
}

fn luma(px: &[u8]) -> u8 {
    ((u32::from(px[0]) * 299 + u32::from(px[1]) * 587 + u32::from(px[2]) * 114) / 1000) as u8
}

/// "The object" of the search models and of `maskPrompt`: a centred ellipse of half the size.
fn centre_ellipse(w: usize, h: usize) -> Vec<u8> {
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (rx, ry) = ((w as f32 * 0.25).max(1.0), (h as f32 * 0.25).max(1.0));
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        let dy = (y as f32 + 0.5 - cy) / ry;
        for x in 0..w {
            let dx = (x as f32 + 0.5 - cx) / rx;
            if dx * dx + dy * dy <= 1.0 {
                out[y * w + x] = 255;
            }
        }
    }
    out
}

/// An inclusive pixel rectangle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rect {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Rect {
    /// The bounding box of the non-zero pixels of a `w`-wide mask.
    fn around(mask: &[u8], w: usize) -> Option<Rect> {
        let mut bb: Option<Rect> = None;
        for (y, row) in mask.chunks_exact(w).enumerate() {
            if let (Some(a), Some(b)) = (row.iter().position(|&c| c > 0), row.iter().rposition(|&c| c > 0)) {
                bb = Some(match bb {
                    None => Rect { x0: a, y0: y, x1: b, y1: y },
                    Some(r) => Rect { x0: r.x0.min(a), y0: r.y0, x1: r.x1.max(b), y1: y },
                });
            }
        }
        bb
    }

    /// Widened by `by` on every side, within a `w`×`h` image.
    fn widen(self, by: usize, w: usize, h: usize) -> Rect {
        Rect {
            x0: self.x0.saturating_sub(by),
            y0: self.y0.saturating_sub(by),
            x1: (self.x1 + by).min(w - 1),
            y1: (self.y1 + by).min(h - 1),
        }
    }
}

/// Grows the change area by `r` pixels (chessboard distance) with a linear fall-off, like
/// Stability's `grow_mask` (which also feathers the edge).
fn grow(change: &mut [u8], w: usize, h: usize, r: u32) {
    // Work in the changed pixels' bounding box widened by r + 1: nothing farther can change.
    let Some(bb) = Rect::around(change, w) else { return };
    if r == 0 {
        return;
    }
    let Rect { x0, y0, x1, y1 } = bb.widen(r as usize + 1, w, h);
    let (ww, wh) = (x1 - x0 + 1, y1 - y0 + 1);
    let cap = (r + 1) as u16;
    // Chessboard distance to the nearest changed pixel, capped at r + 1: two raster passes.
    let mut d = vec![cap; ww * wh];
    for y in 0..wh {
        for x in 0..ww {
            if change[(y + y0) * w + x + x0] > 0 {
                d[y * ww + x] = 0;
            }
        }
    }
    for y in 0..wh {
        for x in 0..ww {
            let i = y * ww + x;
            let mut m = d[i];
            if m == 0 {
                continue;
            }
            if x > 0 {
                m = m.min(d[i - 1] + 1);
            }
            if y > 0 {
                m = m.min(d[i - ww] + 1);
                if x > 0 {
                    m = m.min(d[i - ww - 1] + 1);
                }
                if x + 1 < ww {
                    m = m.min(d[i - ww + 1] + 1);
                }
            }
            d[i] = m.min(cap);
        }
    }
    for y in (0..wh).rev() {
        for x in (0..ww).rev() {
            let i = y * ww + x;
            let mut m = d[i];
            if m == 0 {
                continue;
            }
            if x + 1 < ww {
                m = m.min(d[i + 1] + 1);
            }
            if y + 1 < wh {
                m = m.min(d[i + ww] + 1);
                if x + 1 < ww {
                    m = m.min(d[i + ww + 1] + 1);
                }
                if x > 0 {
                    m = m.min(d[i + ww - 1] + 1);
                }
            }
            d[i] = m.min(cap);
        }
    }
    for y in 0..wh {
        for x in 0..ww {
            let dist = d[y * ww + x];
            let c = &mut change[(y + y0) * w + x + x0];
            if *c == 0 && dist < cap {
                *c = (255 * u32::from(cap - dist) / u32::from(cap)) as u8;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The work to do

#[derive(Clone, Copy, PartialEq, Eq)]
enum OutFormat {
    Png,
    Jpeg,
}

enum Render {
    /// Change the pixels with `change` > 0 (a blend weight): fill from the unchanged pixels, tint with
    /// the prompt's colour (if any), stripe.
    Fill {
        pic: Picture,
        change: Vec<u8>,
        prompt: Option<String>,
    },
    /// Stability outpaint: a larger canvas around the image, the new border filled and tinted.
    Extend {
        pic: Picture,
        left: usize,
        right: usize,
        up: usize,
        down: usize,
        prompt: Option<String>,
    },
    /// Recolor `region` in the prompt's colour, keeping the luminance.
    Recolor {
        pic: Picture,
        region: Vec<u8>,
        prompt: String,
    },
    RemoveBackground {
        pic: Picture,
    },
    /// A gradient of `palette` (or of colours hashed from the prompt and the seed), optionally
    /// shaded by a guide image's luminance.
    Generate {
        w: usize,
        h: usize,
        prompt: String,
        palette: Vec<[u8; 3]>,
        guide: Option<Picture>,
    },
    /// A tinted, striped copy of `source` at `w`×`h`; `amount` is the tint weight.
    Vary {
        source: Picture,
        w: usize,
        h: usize,
        amount: f32,
        prompt: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// `{"images": [...], "error": null}`
    TitanNova,
    /// `{"seeds": [..], "finish_reasons": [null], "images": [..]}`
    Stability,
}

struct Job {
    render: Render,
    count: u32,
    seed: u64,
    format: OutFormat,
    answer: Answer,
    /// For the log line.
    task: &'static str,
}

/// A digest of a request, for the seeds callers leave to chance: the whole body when small, else its
/// length and a sample of its bytes (hashing megabytes of base64 is slow in debug builds).
fn request_digest(model: &str, body: &[u8]) -> [u8; 32] {
    if body.len() <= 65_536 {
        return digest(&[model.as_bytes(), body]);
    }
    let sample: Vec<u8> = body.iter().step_by(body.len() / 16_384).copied().collect();
    digest(&[model.as_bytes(), &(body.len() as u64).to_be_bytes(), &sample])
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}

// ---------------------------------------------------------------------------------------------
// Titan Image Generator / Nova Canvas

fn validate_titan_nova(kind: Kind, body: &Value) -> VResult<Job> {
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

// ---------------------------------------------------------------------------------------------
// Stability AI Image Services

fn validate_stability(kind: Kind, body: &Value, request_hash: &[u8; 32]) -> VResult<Job> {
    let root = Obj::root(body)?;
    let keys: &[&str] = match kind {
        Kind::Inpaint => {
            &["image", "prompt", "mask", "negative_prompt", "seed", "output_format", "style_preset", "grow_mask"]
        }
        Kind::Outpaint => {
            &["image", "left", "right", "up", "down", "prompt", "creativity", "seed", "output_format", "style_preset"]
        }
        Kind::SearchReplace => &[
            "image",
            "prompt",
            "search_prompt",
            "negative_prompt",
            "seed",
            "output_format",
            "style_preset",
            "grow_mask",
        ],
        Kind::SearchRecolor => &[
            "image",
            "prompt",
            "select_prompt",
            "negative_prompt",
            "seed",
            "output_format",
            "style_preset",
            "grow_mask",
        ],
        Kind::Erase => &["image", "mask", "seed", "output_format", "grow_mask"],
        Kind::RemoveBackground => &["image", "output_format"],
        Kind::Core => &["prompt", "negative_prompt", "aspect_ratio", "seed", "output_format", "style_preset"],
        _ => &["prompt", "negative_prompt", "aspect_ratio", "seed", "output_format", "mode", "image", "strength"],
    };
    root.allow(keys)?;
    let text_to_image = matches!(kind, Kind::Core | Kind::Ultra | Kind::Sd35);
    let required: &[&str] = match kind {
        Kind::Inpaint => &["image", "prompt"],
        Kind::SearchReplace => &["image", "prompt", "search_prompt"],
        Kind::SearchRecolor => &["image", "prompt", "select_prompt"],
        _ if text_to_image => &["prompt"],
        _ => &["image"],
    };
    root.require(required)?;

    let prompt_min = usize::from(required.contains(&"prompt"));
    let prompt = root.string("prompt", prompt_min, STAB_MAX_PROMPT)?.map(str::to_owned);
    root.string("negative_prompt", 0, STAB_MAX_PROMPT)?;
    root.string("search_prompt", 1, STAB_MAX_PROMPT)?;
    root.string("select_prompt", 1, STAB_MAX_PROMPT)?;
    root.enumeration("style_preset", STYLE_PRESETS)?;
    let formats: &[&str] = if kind == Kind::RemoveBackground { &["png", "webp"] } else { &["png", "jpeg", "webp"] };
    // No WebP encoder here: WebP requests get a PNG.
    let format = match root.enumeration("output_format", formats)? {
        Some("jpeg") => OutFormat::Jpeg,
        _ => OutFormat::Png,
    };
    let seed = match root.int("seed", 0, STAB_MAX_SEED)? {
        Some(s) if s > 0 => s as u64,
        // 0 or absent: "random", here derived from the request.
        _ => {
            let d = digest(&[request_hash, prompt.as_deref().unwrap_or_default().as_bytes()]);
            1 + u64::from_be_bytes(d[..8].try_into().unwrap_or_default()) % STAB_MAX_SEED as u64
        }
    };
    let grow_default = match kind {
        Kind::Inpaint | Kind::Erase => 5,
        _ => 3,
    };
    let grow_max = if kind == Kind::Inpaint { 100 } else { 20 };
    let grow_by = root.int("grow_mask", 0, grow_max)?.unwrap_or(grow_default) as u32;

    let rules = if kind == Kind::RemoveBackground {
        ImageRules { max_pixels: STAB_RMBG_MAX_PIXELS, ..STABILITY_IMAGES }
    } else {
        STABILITY_IMAGES
    };
    let image = match root.map.get("image") {
        Some(v) => Some(decode_picture("#/image", v, &rules)?),
        None => None,
    };

    let render = match (kind, image) {
        (Kind::Inpaint | Kind::Erase, Some(pic)) => {
            let mut change = match root.map.get("mask") {
                Some(v) => {
                    let mask = decode_picture("#/mask", v, &STABILITY_IMAGES)?;
                    same_size("#/mask", &mask, &pic)?;
                    luma_mask(&mask)
                }
                // No mask: the image's alpha channel is the mask (transparent = change).
                None => match &pic.alpha {
                    Some(a) => a.iter().map(|&a| 255 - a).collect(),
                    None => {
                        return Err(malformed(
                            "#",
                            "required key [mask] not found (the image has no alpha channel to use as the mask)",
                        ));
                    }
                },
            };
            grow(&mut change, pic.w, pic.h, grow_by);
            Render::Fill { pic, change, prompt: if kind == Kind::Inpaint { prompt } else { None } }
        }
        (Kind::Outpaint, Some(pic)) => {
            let mut ext = [0usize; 4];
            for (slot, key) in ext.iter_mut().zip(["left", "right", "up", "down"]) {
                *slot = root.int(key, 0, STAB_MAX_EXTENT)?.unwrap_or(0) as usize;
            }
            if ext.iter().all(|&e| e == 0) {
                return Err(malformed("#", "at least one of [left, right, up, down] must be greater than 0"));
            }
            root.number("creativity", 0.0, 1.0)?;
            let [left, right, up, down] = ext;
            Render::Extend { pic, left, right, up, down, prompt }
        }
        (Kind::SearchReplace, Some(pic)) => {
            let mut change = centre_ellipse(pic.w, pic.h);
            grow(&mut change, pic.w, pic.h, grow_by);
            Render::Fill { pic, change, prompt }
        }
        (Kind::SearchRecolor, Some(pic)) => {
            let mut region = centre_ellipse(pic.w, pic.h);
            grow(&mut region, pic.w, pic.h, grow_by);
            Render::Recolor { pic, region, prompt: prompt.unwrap_or_default() }
        }
        (Kind::RemoveBackground, Some(pic)) => Render::RemoveBackground { pic },
        (_, image) => {
            // Text-to-image (Core, Ultra, SD3.5); Ultra and SD3.5 also image-to-image.
            let mode = root.enumeration("mode", &["text-to-image", "image-to-image"])?;
            let strength = root.number("strength", 0.0, 1.0)?;
            let image_to_image = mode == Some("image-to-image") || (kind == Kind::Ultra && image.is_some());
            let prompt = prompt.unwrap_or_default();
            if image_to_image {
                let Some(source) = image else {
                    return Err(malformed("#", "required key [image] not found (mode image-to-image)"));
                };
                if kind == Kind::Sd35 && strength.is_none() {
                    return Err(malformed("#", "required key [strength] not found (mode image-to-image)"));
                }
                let (w, h) = (source.w, source.h);
                let amount = 0.15 + 0.6 * strength.unwrap_or(0.35) as f32;
                Render::Vary { source, w, h, amount, prompt: Some(prompt) }
            } else {
                if image.is_some() {
                    return Err(malformed("#/image", "an image is only allowed with mode image-to-image"));
                }
                let ratio = root.enumeration("aspect_ratio", &ASPECT_RATIOS.iter().map(|a| a.0).collect::<Vec<_>>())?;
                let (_, w, h) =
                    ASPECT_RATIOS.iter().find(|a| Some(a.0) == ratio).copied().unwrap_or(("1:1", 1024, 1024));
                Render::Generate { w: w as usize, h: h as usize, prompt, palette: Vec::new(), guide: None }
            }
        }
    };
    let task = match kind {
        Kind::Inpaint => "inpaint",
        Kind::Outpaint => "outpaint",
        Kind::SearchReplace => "search-replace",
        Kind::SearchRecolor => "search-recolor",
        Kind::Erase => "erase-object",
        Kind::RemoveBackground => "remove-background",
        _ => "text-to-image",
    };
    Ok(Job { render, count: 1, seed, format, answer: Answer::Stability, task })
}

// ---------------------------------------------------------------------------------------------
// Pictures out

/// An output image, encoded and base64'd.
struct Encoded {
    w: usize,
    h: usize,
    b64: String,
}

/// Fills unknown pixels from known ones: averages of the known pixels over a pyramid of 2×2
/// blocks ("pull"), then each level's gaps filled from the coarser level ("push").
struct PullPush {
    /// The window's top left corner in the image.
    x0: usize,
    y0: usize,
    /// Levels from half size down to 1×1: width, height, colour.
    levels: Vec<(usize, usize, Vec<[f32; 3]>)>,
}

impl PullPush {
    /// Over the pixels of `win` in a `w`-wide image; known are those where `change` is 0.
    fn new(rgb: &[u8], w: usize, change: &[u8], win: Rect) -> PullPush {
        let mut levels: Vec<Level> = Vec::new();
        // Level 1 straight from the pixels.
        let (ww, wh) = (win.x1 - win.x0 + 1, win.y1 - win.y0 + 1);
        let (lw, lh) = (ww.div_ceil(2), wh.div_ceil(2));
        let mut c = vec![[0f32; 3]; lw * lh];
        let mut wt = vec![0f32; lw * lh];
        for y in 0..wh {
            let row = (y / 2) * lw;
            for x in 0..ww {
                let i = (y + win.y0) * w + x + win.x0;
                if change[i] == 0 {
                    let j = row + x / 2;
                    let p = &rgb[i * 3..i * 3 + 3];
                    c[j][0] += f32::from(p[0]);
                    c[j][1] += f32::from(p[1]);
                    c[j][2] += f32::from(p[2]);
                    wt[j] += 1.0;
                }
            }
        }
        normalise(&mut c, &mut wt);
        let mut cur = (lw, lh, c, wt);
        // Coarser levels.
        while cur.0 > 1 || cur.1 > 1 {
            let next = Self::pull(&cur);
            levels.push(std::mem::replace(&mut cur, next));
        }
        levels.push(cur);
        // Push: nothing known at all → mid grey; then fill each level's gaps from the coarser one.
        if let Some(top) = levels.last_mut()
            && top.3[0] == 0.0
        {
            top.2[0] = [128.0; 3];
            top.3[0] = 1.0;
        }
        for k in (0..levels.len().saturating_sub(1)).rev() {
            let (upper, lower) = levels.split_at_mut(k + 1);
            let (lw, lh, lc, lwt) = &mut upper[k];
            let (uw, uh, uc, _) = &lower[0];
            for y in 0..*lh {
                for x in 0..*lw {
                    let i = y * *lw + x;
                    let a = lwt[i];
                    if a < 1.0 {
                        let p = bilinear(*uw, *uh, uc, (x as f32 + 0.5) / 2.0 - 0.5, (y as f32 + 0.5) / 2.0 - 0.5);
                        for ch in 0..3 {
                            lc[i][ch] = lc[i][ch] * a + p[ch] * (1.0 - a);
                        }
                        lwt[i] = 1.0;
                    }
                }
            }
        }
        PullPush { x0: win.x0, y0: win.y0, levels: levels.into_iter().map(|(w, h, c, _)| (w, h, c)).collect() }
    }

    /// The next coarser level: weighted averages of 2×2 blocks.
    fn pull((pw, ph, pc, pwt): &Level) -> Level {
        let (pw, ph) = (*pw, *ph);
        let (nw, nh) = (pw.div_ceil(2), ph.div_ceil(2));
        let mut c = vec![[0f32; 3]; nw * nh];
        let mut wt = vec![0f32; nw * nh];
        for y in 0..ph {
            for x in 0..pw {
                let i = y * pw + x;
                let j = (y / 2) * nw + x / 2;
                let a = pwt[i];
                if a > 0.0 {
                    c[j][0] += pc[i][0] * a;
                    c[j][1] += pc[i][1] * a;
                    c[j][2] += pc[i][2] * a;
                    wt[j] += a;
                }
            }
        }
        normalise(&mut c, &mut wt);
        (nw, nh, c, wt)
    }

    /// The fill colour of full-size pixel (x, y).
    fn at(&self, x: usize, y: usize) -> [f32; 3] {
        let (w, h, c) = &self.levels[0];
        let (x, y) = (x - self.x0, y - self.y0);
        bilinear(*w, *h, c, (x as f32 + 0.5) / 2.0 - 0.5, (y as f32 + 0.5) / 2.0 - 0.5)
    }
}

/// Width, height, colour and weight (1 = known) of a pyramid level.
type Level = (usize, usize, Vec<[f32; 3]>, Vec<f32>);

/// Sums of weighted colours → averages; weights capped at 1.
fn normalise(c: &mut [[f32; 3]], wt: &mut [f32]) {
    for (cj, wj) in c.iter_mut().zip(wt.iter_mut()) {
        if *wj > 0.0 {
            for ch in cj.iter_mut() {
                *ch /= *wj;
            }
            *wj = wj.min(1.0);
        }
    }
}

fn bilinear(w: usize, h: usize, c: &[[f32; 3]], fx: f32, fy: f32) -> [f32; 3] {
    let fx = fx.clamp(0.0, (w - 1) as f32);
    let fy = fy.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (fx as usize, fy as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
    let (a, b, cc, d) = (c[y0 * w + x0], c[y0 * w + x1], c[y1 * w + x0], c[y1 * w + x1]);
    let mut out = [0f32; 3];
    for ch in 0..3 {
        let top = a[ch] + (b[ch] - a[ch]) * tx;
        let bottom = cc[ch] + (d[ch] - cc[ch]) * tx;
        out[ch] = top + (bottom - top) * ty;
    }
    out
}

fn hsv(h: f32, s: f32, v: f32) -> [f32; 3] {
    let h6 = (h.rem_euclid(1.0)) * 6.0;
    let i = h6.floor();
    let f = h6 - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    let (r, g, b) = match i as u32 % 6 {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    };
    [r * 255.0, g * 255.0, b * 255.0]
}

/// The prompt's colour; `variant` turns the hue for the 2nd, 3rd… image.
fn tint_of(prompt: &str, variant: u32) -> [f32; 3] {
    let d = digest(&[prompt.as_bytes()]);
    let hue = f32::from(u16::from_be_bytes([d[0], d[1]])) / 65536.0;
    hsv(hue + variant as f32 * 0.13, 0.8, 0.95)
}

/// The stand-in's mark: diagonal stripes.
fn stripe(x: usize, y: usize, variant: u32) -> bool {
    ((x + y + variant as usize * 3) / 6).is_multiple_of(4)
}

/// Stripes in black on light colours, white on dark ones.
fn striped(c: [f32; 3], weight: f32) -> [f32; 3] {
    let l = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    let target = if l < 110.0 { 255.0 } else { 0.0 };
    [mix(c[0], target, weight), mix(c[1], target, weight), mix(c[2], target, weight)]
}

fn mix(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

const TINT: f32 = 0.45;
const STRIPE: f32 = 0.35;

fn render(job: &Job, block_output: bool) -> VResult<Vec<Encoded>> {
    let mut out = Vec::new();
    match &job.render {
        Render::Fill { pic, change, prompt } => {
            for v in 0..job.count {
                let rgb = fill_change(pic, change, prompt.as_deref(), v);
                out.push(encode_rgb(pic.w, pic.h, &rgb, job.format)?);
            }
        }
        Render::Extend { pic, left, right, up, down, prompt } => {
            let (pic, [left, right, up, down]) = fit_extension(pic, [*left, *right, *up, *down]);
            let (w, h) = (pic.w + left + right, pic.h + up + down);
            let mut rgb = vec![0u8; w * h * 3];
            let mut change = vec![255u8; w * h];
            for y in 0..pic.h {
                let dst = ((y + up) * w + left) * 3;
                rgb[dst..dst + pic.w * 3].copy_from_slice(&pic.rgb[y * pic.w * 3..(y + 1) * pic.w * 3]);
                change[(y + up) * w + left..(y + up) * w + left + pic.w].fill(0);
            }
            let canvas = Picture { w, h, rgb, alpha: None };
            let rgb = fill_change(&canvas, &change, prompt.as_deref(), 0);
            out.push(encode_rgb(w, h, &rgb, job.format)?);
        }
        Render::Recolor { pic, region, prompt } => {
            let t = tint_of(prompt, 0);
            let mut rgb = pic.rgb.clone();
            for (i, &a) in region.iter().enumerate() {
                if a == 0 {
                    continue;
                }
                let (x, y) = (i % pic.w, i / pic.w);
                let px = &pic.rgb[i * 3..i * 3 + 3];
                let l = f32::from(luma(px)) / 255.0;
                let mut c = [t[0] * (0.3 + 0.8 * l), t[1] * (0.3 + 0.8 * l), t[2] * (0.3 + 0.8 * l)];
                if stripe(x, y, 0) {
                    c = striped(c, STRIPE);
                }
                let a = f32::from(a) / 255.0;
                for ch in 0..3 {
                    rgb[i * 3 + ch] = to_u8(mix(f32::from(px[ch]), c[ch], a));
                }
            }
            out.push(encode_rgb(pic.w, pic.h, &rgb, job.format)?);
        }
        Render::RemoveBackground { pic } => {
            let rgba = remove_background(pic);
            out.push(encode(pic.w, pic.h, &rgba, ExtendedColorType::Rgba8, OutFormat::Png)?);
        }
        Render::Generate { w, h, prompt, palette, guide } => {
            for v in 0..job.count {
                let rgb = generate(*w, *h, prompt, palette, guide.as_ref(), job.seed + u64::from(v), v);
                out.push(encode_rgb(*w, *h, &rgb, job.format)?);
            }
        }
        Render::Vary { source, w, h, amount, prompt } => {
            for v in 0..job.count {
                let rgb = vary(source, *w, *h, *amount, prompt.as_deref().unwrap_or(""), job.seed, v);
                out.push(encode_rgb(*w, *h, &rgb, job.format)?);
            }
        }
    }
    // Stability answers a blocked output with a placeholder and a finish reason.
    if block_output && job.answer == Answer::Stability {
        out = out
            .iter()
            .map(|e| encode_rgb(e.w, e.h, &vec![128u8; e.w * e.h * 3], job.format))
            .collect::<VResult<_>>()?;
    }
    Ok(out)
}

/// `pic` with its `change` area filled from the surroundings, tinted and striped.
fn fill_change(pic: &Picture, change: &[u8], prompt: Option<&str>, variant: u32) -> Vec<u8> {
    let mut rgb = pic.rgb.clone();
    let Some(bb) = Rect::around(change, pic.w) else { return rgb };
    // The fill comes from a window around the change area, its own size wider on each side.
    let margin = (bb.x1 - bb.x0).max(bb.y1 - bb.y0).max(32);
    let fill = PullPush::new(&pic.rgb, pic.w, change, bb.widen(margin, pic.w, pic.h));
    let tint = prompt.filter(|p| !p.is_empty()).map(|p| tint_of(p, variant));
    for y in bb.y0..=bb.y1 {
        for x in bb.x0..=bb.x1 {
            let i = y * pic.w + x;
            let a = change[i];
            if a == 0 {
                continue;
            }
            let mut c = fill.at(x, y);
            if let Some(t) = tint {
                c = [mix(c[0], t[0], TINT), mix(c[1], t[1], TINT), mix(c[2], t[2], TINT)];
            }
            if stripe(x, y, variant) {
                c = striped(c, STRIPE);
            }
            let a = f32::from(a) / 255.0;
            for ch in 0..3 {
                rgb[i * 3 + ch] = to_u8(mix(f32::from(pic.rgb[i * 3 + ch]), c[ch], a));
            }
        }
    }
    rgb
}

/// Scales an outpaint down (nearest neighbour) when the result would exceed Stability's pixel budget.
fn fit_extension(pic: &Picture, ext: [usize; 4]) -> (Picture, [usize; 4]) {
    let total = ((pic.w + ext[0] + ext[1]) * (pic.h + ext[2] + ext[3])) as f64;
    if total <= STAB_MAX_PIXELS as f64 {
        return (pic.clone(), ext);
    }
    let s = (STAB_MAX_PIXELS as f64 / total).sqrt();
    let scale = |v: usize| (v as f64 * s).floor() as usize;
    let (w, h) = (scale(pic.w).max(1), scale(pic.h).max(1));
    (resample(pic, w, h), ext.map(scale))
}

fn resample(pic: &Picture, w: usize, h: usize) -> Picture {
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let sy = (y * pic.h / h).min(pic.h - 1);
        for x in 0..w {
            let sx = (x * pic.w / w).min(pic.w - 1);
            let i = (sy * pic.w + sx) * 3;
            rgb.extend_from_slice(&pic.rgb[i..i + 3]);
        }
    }
    Picture { w, h, rgb, alpha: None }
}

/// Background = pixels connected to the image border through colours close to the border pixel
/// the region started from (a flood fill from every border pixel); it becomes transparent.
fn remove_background(pic: &Picture) -> Vec<u8> {
    const TOLERANCE: u32 = 60;
    let (w, h) = (pic.w, pic.h);
    let px = |i: usize| &pic.rgb[i * 3..i * 3 + 3];
    let close = |a: &[u8], b: &[u8]| a.iter().zip(b).map(|(&x, &y)| u32::from(x.abs_diff(y))).sum::<u32>() <= TOLERANCE;
    // The border pixel each background pixel was reached from.
    let mut seed = vec![usize::MAX; w * h];
    let mut queue = std::collections::VecDeque::new();
    for y in 0..h {
        for x in 0..w {
            if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
                let i = y * w + x;
                seed[i] = i;
                queue.push_back(i);
            }
        }
    }
    while let Some(i) = queue.pop_front() {
        let (x, y, s) = (i % w, i / w, seed[i]);
        let mut visit = |j: usize| {
            if seed[j] == usize::MAX && close(px(j), px(s)) {
                seed[j] = s;
                queue.push_back(j);
            }
        };
        if x > 0 {
            visit(i - 1);
        }
        if x + 1 < w {
            visit(i + 1);
        }
        if y > 0 {
            visit(i - w);
        }
        if y + 1 < h {
            visit(i + w);
        }
    }
    let mut rgba = Vec::with_capacity(w * h * 4);
    for (i, p) in pic.rgb.chunks_exact(3).enumerate() {
        let a = if seed[i] == usize::MAX { 255 } else { 0 };
        let a = pic.alpha.as_ref().map_or(a, |al| a.min(al[i]));
        rgba.extend_from_slice(&[p[0], p[1], p[2], a]);
    }
    rgba
}

fn generate(
    w: usize,
    h: usize,
    prompt: &str,
    palette: &[[u8; 3]],
    guide: Option<&Picture>,
    seed: u64,
    v: u32,
) -> Vec<u8> {
    let colours: Vec<[f32; 3]> = if palette.is_empty() {
        let d = digest(&[prompt.as_bytes(), &seed.to_be_bytes()]);
        let hue = f32::from(u16::from_be_bytes([d[0], d[1]])) / 65536.0;
        vec![hsv(hue, 0.7, 0.95), hsv(hue + 0.33, 0.6, 0.55), hsv(hue + 0.5, 0.8, 0.85)]
    } else {
        palette.iter().map(|c| c.map(f32::from)).collect()
    };
    let guide = guide.map(|g| resample(g, w, h));
    let k = colours.len();
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let t = 0.6 * x as f32 / w as f32 + 0.4 * y as f32 / h as f32;
            let pos = t * (k.max(2) - 1) as f32;
            let (i0, f) = ((pos.floor() as usize).min(k - 1), pos.fract());
            let i1 = (i0 + 1).min(k - 1);
            let mut c = [0f32; 3];
            for ch in 0..3 {
                c[ch] = mix(colours[i0][ch], colours[i1][ch], f);
            }
            if let Some(g) = &guide {
                let l = f32::from(luma(&g.rgb[(y * w + x) * 3..(y * w + x) * 3 + 3])) / 255.0;
                c = c.map(|v| v * (0.35 + 0.9 * l));
            }
            if stripe(x, y, v) {
                c = striped(c, 0.2);
            }
            rgb.extend(c.map(to_u8));
        }
    }
    rgb
}

fn vary(source: &Picture, w: usize, h: usize, amount: f32, prompt: &str, seed: u64, v: u32) -> Vec<u8> {
    let base = if (source.w, source.h) == (w, h) { source.clone() } else { resample(source, w, h) };
    let t = tint_of(&format!("{prompt}\u{0}{seed}"), v);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for (i, px) in base.rgb.chunks_exact(3).enumerate() {
        let mut c = [0f32; 3];
        for ch in 0..3 {
            c[ch] = mix(f32::from(px[ch]), t[ch], amount);
        }
        if stripe(i % w, i / w, v) {
            c = striped(c, 0.2);
        }
        rgb.extend(c.map(to_u8));
    }
    rgb
}

fn encode_rgb(w: usize, h: usize, rgb: &[u8], format: OutFormat) -> VResult<Encoded> {
    encode(w, h, rgb, ExtendedColorType::Rgb8, format)
}

fn encode(w: usize, h: usize, data: &[u8], color: ExtendedColorType, format: OutFormat) -> VResult<Encoded> {
    let mut buf = Vec::new();
    let (wu, hu) = (w as u32, h as u32);
    let res = match format {
        OutFormat::Png => PngEncoder::new_with_quality(&mut buf, CompressionType::Fast, FilterType::Up)
            .write_image(data, wu, hu, color),
        OutFormat::Jpeg => JpegEncoder::new_with_quality(&mut buf, 90).write_image(data, wu, hu, color),
    };
    res.map_err(|e| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException", format!("stand-in encoder: {e}"))
    })?;
    Ok(Encoded { w, h, b64: base64::engine::general_purpose::STANDARD.encode(&buf) })
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn invoke(State(b): State<Bedrock>, Path(model_id): Path<String>, headers: HeaderMap, body: Body) -> Response {
    b.invocations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let settings = b.settings();
    let region = region_of(&headers);
    let started = Instant::now();
    if settings.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(settings.latency_ms)).await;
    }
    let result = invoke_model(&settings, &model_id, &region, body).await;
    match result {
        Ok(answer) => {
            tracing::info!(model = %model_id, ms = started.elapsed().as_millis() as u64, "bedrock stand-in: InvokeModel");
            let mut r = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], answer).into_response();
            add_request_id(&mut r);
            r
        }
        Err(e) => {
            tracing::info!(model = %model_id, error = e.kind, message = %e.message, "bedrock stand-in: InvokeModel failed");
            e.into_response()
        }
    }
}

async fn invoke_model(settings: &Settings, model_id: &str, region: &str, body: Body) -> VResult<Vec<u8>> {
    let model = resolve_invoke(model_id, region)?;
    if settings.fail == Some(Fail::AccessDenied) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
        ));
    }
    if settings.throttle {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::validation(format!(
            "1 validation error detected: Value at 'body' failed to satisfy constraint: Member must have length less \
             than or equal to {MAX_BODY}"
        ))
    })?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| malformed("#", format!("the body is not valid JSON ({e})")))?;
    let hash = request_digest(model.id, &bytes);
    let kind = model.kind;
    let block_output = settings.block == Some(Block::Output);
    // Decoding, validation and drawing are CPU work: off the async workers.
    let checked = {
        let fail = settings.fail;
        let block = settings.block;
        tokio::task::spawn_blocking(move || -> VResult<(Job, Vec<Encoded>)> {
            let t0 = Instant::now();
            let job = match kind {
                Kind::TitanV2 | Kind::Nova => validate_titan_nova(kind, &value)?,
                _ => validate_stability(kind, &value, &hash)?,
            };
            drop(value);
            if block == Some(Block::Input) {
                return Err(ApiError::validation(
                    "This request has been blocked by our content filters. Please adjust your text prompt to submit a \
                     new request.",
                ));
            }
            match fail {
                Some(Fail::NotReady) => {
                    return Err(ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "ModelNotReadyException",
                        "The model is not ready to serve inference requests. Try your request again later.",
                    ));
                }
                Some(Fail::Timeout) => {
                    return Err(ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "ModelTimeoutException",
                        "Model has timed out in processing the request. Try your request again.",
                    ));
                }
                Some(Fail::ModelError) => {
                    return Err(ApiError::new(
                        StatusCode::FAILED_DEPENDENCY,
                        "ModelErrorException",
                        "The model encountered an error while processing the request (local stand-in switch \
                         fail=model_error).",
                    ));
                }
                _ => {}
            }
            let images = render(&job, block_output)?;
            tracing::debug!(task = job.task, ms = t0.elapsed().as_millis() as u64, "bedrock stand-in: rendered");
            Ok((job, images))
        })
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException", e.to_string()))?
    };
    let (job, images) = checked?;
    let b64: Vec<String> = images.into_iter().map(|e| e.b64).collect();
    let answer = match job.answer {
        Answer::TitanNova => {
            if block_output {
                let kept: Vec<&String> = b64.iter().take(b64.len().saturating_sub(1)).collect();
                let which = if kept.is_empty() { "All" } else { "Some" };
                json!({
                    "images": kept,
                    "error": format!("{which} of the generated images have been blocked by our content filters."),
                    "standIn": true,
                })
            } else {
                json!({"images": b64, "error": null, "standIn": true})
            }
        }
        Answer::Stability => {
            let reason = if block_output { json!("Filter reason: output image") } else { Value::Null };
            json!({
                "seeds": vec![job.seed; b64.len()],
                "finish_reasons": vec![reason; b64.len()],
                "images": b64,
                "standIn": true,
            })
        }
    };
    Ok(serde_json::to_vec(&answer).unwrap_or_default())
}

/// The region of the request's SigV4 credential scope (`Credential=AKID/DATE/REGION/...`).
fn region_of(headers: &HeaderMap) -> String {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(2))
        .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or("us-east-1")
        .to_owned()
}

/// The model's lifecycle: the catalogue's, unless a test switch says otherwise.
fn lifecycle(settings: &Settings, m: &ModelInfo) -> String {
    settings.lifecycle.get(m.id).cloned().unwrap_or_else(|| m.model.lifecycle.status().to_owned())
}

/// A foundation model offered in `region` (in-region or as a profile's source region).
fn offered_in(id: &str, region: &str) -> Option<ModelInfo> {
    find_model(id).filter(|m| m.model.regions().contains(&region))
}

fn not_found(what: &str) -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", what.to_owned()).into_response()
}

async fn get_foundation_model(State(b): State<Bedrock>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let settings = b.settings();
    let region = region_of(&headers);
    // Inference-profile ids (`us.…`) are not foundation models.
    match offered_in(catalogue::strip_arn(&id), &region) {
        Some(m) => {
            let mut r = Json(json!({"modelDetails": m.details(&region, &lifecycle(&settings, &m))})).into_response();
            add_request_id(&mut r);
            r
        }
        None => not_found("Could not resolve the foundation model from the provided model identifier."),
    }
}

async fn list_foundation_models(
    State(b): State<Bedrock>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let settings = b.settings();
    let region = region_of(&headers);
    let provider = q.get("byProvider").map(|p| p.to_ascii_lowercase());
    let summaries: Vec<Value> = KINDS
        .iter()
        .filter_map(|(id, _)| offered_in(id, &region))
        .filter(|m| {
            let name = m.model.provider.to_ascii_lowercase();
            provider.as_deref().is_none_or(|p| name == p || name.starts_with(p))
        })
        .filter(|_| q.get("byOutputModality").is_none_or(|o| o == "IMAGE"))
        .filter(|m| q.get("byInferenceType").is_none_or(|t| m.model.inference_types(&region).contains(&t.as_str())))
        .map(|m| m.details(&region, &lifecycle(&settings, &m)))
        .collect();
    let mut r = Json(json!({"modelSummaries": summaries})).into_response();
    add_request_id(&mut r);
    r
}

/// The account of the local cloud (moto's default account; STS answers it to every caller).
const LOCAL_ACCOUNT: &str = "123456789012";

/// GetInferenceProfile's answer for a system-defined profile, from the catalogue (required members
/// per the service model: name, ARN, models, id, status, type).
fn profile_json(m: &catalogue::Model, p: &catalogue::Profile, region: &str) -> Value {
    json!({
        "inferenceProfileName": format!("US {}", m.name),
        "description": format!("Routes requests to {} in {}.", m.name, p.destinations.join(", ")),
        "inferenceProfileArn": catalogue::profile_arn(region, LOCAL_ACCOUNT, p.id),
        "inferenceProfileId": p.id,
        "models": p.destinations.iter().map(|r| json!({"modelArn": catalogue::foundation_model_arn(r, m.id)})).collect::<Vec<_>>(),
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    })
}

async fn get_inference_profile(Path(id): Path<String>, headers: HeaderMap) -> Response {
    let region = region_of(&headers);
    match catalogue::profile(catalogue::strip_arn(&id)).filter(|(_, p)| p.sources.contains(&region.as_str())) {
        Some((m, p)) => {
            let mut r = Json(profile_json(m, p, &region)).into_response();
            add_request_id(&mut r);
            r
        }
        None => not_found("The specified inference profile doesn't exist."),
    }
}

async fn list_inference_profiles(Query(q): Query<HashMap<String, String>>, headers: HeaderMap) -> Response {
    let region = region_of(&headers);
    let summaries: Vec<Value> = if q.get("type").is_some_and(|t| t != "SYSTEM_DEFINED") {
        Vec::new()
    } else {
        catalogue::MODELS
            .iter()
            .flat_map(|m| m.profiles.iter().map(move |p| (m, p)))
            .filter(|(_, p)| p.sources.contains(&region.as_str()))
            .map(|(m, p)| profile_json(m, p, &region))
            .collect()
    };
    let mut r = Json(json!({"inferenceProfileSummaries": summaries})).into_response();
    add_request_id(&mut r);
    r
}

async fn invocations(State(b): State<Bedrock>) -> Response {
    Json(json!({"count": b.invocations.load(std::sync::atomic::Ordering::Relaxed)})).into_response()
}

async fn get_config(State(b): State<Bedrock>) -> Response {
    Json(b.settings()).into_response()
}

async fn set_config(State(b): State<Bedrock>, body: Bytes) -> Response {
    match serde_json::from_slice::<Settings>(&body) {
        Ok(s) => {
            tracing::info!(settings = ?s, "bedrock stand-in: switches set");
            if let Ok(mut cur) = b.settings.lock() {
                *cur = s.clone();
            }
            Json(s).into_response()
        }
        Err(e) => ApiError::validation(format!(
            "invalid stand-in settings ({e}); expected {{\"latencyMs\": u64, \"throttle\": bool, \"block\": null|\"input\"|\"output\", \
             \"fail\": null|\"model_error\"|\"timeout\"|\"not_ready\"|\"access_denied\", \"lifecycle\": {{modelId: status}}}}"
        ))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_resolve_as_aws_offers_them() {
        let kind = |id: &str, region: &str| resolve_invoke(id, region).map(|m| m.kind).map_err(|e| e.message);
        assert_eq!(kind("us.stability.stable-image-inpaint-v1:0", "us-west-2"), Ok(Kind::Inpaint));
        assert_eq!(kind("us.stability.stable-outpaint-v1:0", "us-east-2"), Ok(Kind::Outpaint));
        assert_eq!(
            kind("arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1", "us-west-2"),
            Ok(Kind::Core)
        );
        assert_eq!(
            kind(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.stability.stable-image-erase-object-v1:0",
                "us-east-1"
            ),
            Ok(Kind::Erase)
        );
        assert_eq!(kind("amazon.nova-canvas-v1:0", "eu-west-1"), Ok(Kind::Nova));
        // The plain id of a profile-only model: Bedrock's own words.
        assert_eq!(
            kind("stability.stable-image-inpaint-v1:0", "us-west-2"),
            Err("Invocation of model ID stability.stable-image-inpaint-v1:0 with on-demand throughput isn’t supported. \
                 Retry your request with the ID or ARN of an inference profile that contains this model."
                .to_owned())
        );
        // Not offered in the region, no such profile, unknown version.
        let invalid = Err("The provided model identifier is invalid.".to_owned());
        assert_eq!(kind("amazon.nova-canvas-v1:0", "us-west-2"), invalid);
        assert_eq!(kind("stability.stable-image-core-v1:1", "us-east-1"), invalid);
        assert_eq!(kind("us.stability.stable-image-inpaint-v1:0", "eu-west-1"), invalid);
        assert_eq!(kind("us.amazon.nova-canvas-v1:0", "us-east-1"), invalid);
        assert_eq!(kind("stability.stable-image-inpaint-v9:0", "us-west-2"), invalid);
    }

    #[test]
    fn grow_feathers_outward_by_r() {
        let (w, h) = (9, 1);
        let mut m = vec![0u8; w * h];
        m[4] = 255;
        grow(&mut m, w, h, 2);
        assert_eq!(m, vec![0, 0, 85, 170, 255, 170, 85, 0, 0]);
    }

    #[test]
    fn grow_matches_brute_force_chessboard_distance() {
        let (w, h, r) = (40usize, 30usize, 4u32);
        let set = [(1usize, 1usize), (20, 15), (21, 15), (38, 28), (10, 25)];
        let mut m = vec![0u8; w * h];
        for (x, y) in set {
            m[y * w + x] = 255;
        }
        grow(&mut m, w, h, r);
        for y in 0..h {
            for x in 0..w {
                let d = set.iter().map(|&(sx, sy)| x.abs_diff(sx).max(y.abs_diff(sy))).min().unwrap() as u32;
                let want = if d == 0 {
                    255
                } else if d <= r {
                    (255 * (r + 1 - d) / (r + 1)) as u8
                } else {
                    0
                };
                assert_eq!(m[y * w + x], want, "at ({x}, {y})");
            }
        }
    }

    #[test]
    fn pull_push_fills_holes_with_the_surroundings() {
        let (w, h) = (16, 16);
        let rgb: Vec<u8> = (0..w * h).flat_map(|_| [200u8, 10, 10]).collect();
        let hole: Vec<u8> =
            (0..w * h).map(|i| u8::from((4..12).contains(&(i % w)) && (4..12).contains(&(i / w)))).collect();
        let f = PullPush::new(&rgb, w, &hole, Rect { x0: 0, y0: 0, x1: w - 1, y1: h - 1 });
        let c = f.at(8, 8);
        assert!((c[0] - 200.0).abs() < 1.0 && (c[1] - 10.0).abs() < 1.0, "{c:?}");
    }

    #[test]
    fn nothing_known_fills_grey() {
        let rgb = vec![0u8; 4 * 4 * 3];
        let f = PullPush::new(&rgb, 4, &[1; 16], Rect { x0: 0, y0: 0, x1: 3, y1: 3 });
        assert_eq!(f.at(1, 1), [128.0; 3]);
    }

    #[test]
    fn hex_colours() {
        assert_eq!(parse_hex_color("#FF9800"), Some([255, 152, 0]));
        assert_eq!(parse_hex_color("FF9800"), None);
        assert_eq!(parse_hex_color("#FF980"), None);
    }

    #[test]
    fn aspect_limits_are_exact() {
        assert!(check_size("#", 160, 64, &STABILITY_IMAGES).is_ok());
        assert!(check_size("#", 161, 64, &STABILITY_IMAGES).is_err());
        assert!(check_size("#", 63, 100, &STABILITY_IMAGES).is_err());
        assert!(check_size("#", 3072, 3072, &STABILITY_IMAGES).is_ok());
        assert!(check_size("#", 3073, 3072, &STABILITY_IMAGES).is_err());
    }
}
