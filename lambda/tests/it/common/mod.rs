//! Shared test fixtures: configurations, API Gateway REST events, images, a fake model and mocked
//! DynamoDB clients.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use image_edit_lambda::App;
use image_edit_lambda::bedrock::{ImageModel, ModelCallError};
use image_edit_lambda::config::Config;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

pub const ORIGIN: &str = "https://app.example.com";

pub const STABILITY_IDS: &str = r#"{
  "inpaint":"stability.stable-image-inpaint-v1:0",
  "outpaint":"stability.stable-outpaint-v1:0",
  "replace":"stability.stable-image-search-replace-v1:0",
  "recolor":"stability.stable-image-search-recolor-v1:0",
  "erase":"stability.stable-image-erase-object-v1:0",
  "remove-background":"stability.stable-image-remove-background-v1:0",
  "sketch":"us.stability.stable-image-control-sketch-v1:0",
  "structure":"us.stability.stable-image-control-structure-v1:0",
  "style-guide":"us.stability.stable-image-style-guide-v1:0",
  "style-transfer":"us.stability.stable-style-transfer-v1:0",
  "upscale":"us.stability.stable-fast-upscale-v1:0",
  "upscale.conservative":"us.stability.stable-conservative-upscale-v1:0",
  "upscale.creative":"us.stability.stable-creative-upscale-v1:0",
  "generate":"stability.stable-image-core-v1:1",
  "generate.ultra":"stability.stable-image-ultra-v1:1",
  "generate.sd3.5-large":"stability.sd3-5-large-v1:0",
  "variation":"stability.sd3-5-large-v1:0"}"#;
pub fn config(family: &str) -> Config {
    config_with(family, "edits")
}

pub fn config_with(family: &str, table: &str) -> Config {
    assert_eq!(family, "stability", "the only live model family");
    let (ids, region) = (STABILITY_IDS, "us-west-2");
    let env: HashMap<&str, String> = HashMap::from([
        ("TABLE_NAME", table.to_owned()),
        ("BEDROCK_REGION", region.to_owned()),
        ("MODEL_FAMILY", family.to_owned()),
        ("MODEL_IDS", ids.to_owned()),
        ("ALLOWED_ORIGINS", format!("{ORIGIN},http://localhost:5173")),
        ("QUOTA_IMAGES_PER_USER_PER_DAY", "1000".to_owned()),
        ("QUOTA_IMAGES_PER_DAY", "100000".to_owned()),
    ]);
    Config::from_lookup(|k| env.get(k).cloned()).expect("test config")
}

// ---------- events ----------

/// A REST proxy event as API Gateway sends it, with the Cognito authorizer's claims for `user`.
pub fn event(method: &str, resource: &str, path: &str, body: Option<&str>, user: Option<&str>) -> Request {
    event_with_query(method, resource, path, body, user, &[])
}

pub fn event_with_query(
    method: &str,
    resource: &str,
    path: &str,
    body: Option<&str>,
    user: Option<&str>,
    query: &[(&str, &str)],
) -> Request {
    let ev = event_value(method, resource, path, body, user, query);
    lambda_http::request::from_str(&ev.to_string()).expect("valid API Gateway event")
}

/// `POST /edits` of `user` with an `Idempotency-Key` header.
pub fn post_edit_with_key(body: &str, user: &str, key: &str) -> Request {
    let mut ev = event_value("POST", "/edits", "/edits", Some(body), Some(user), &[]);
    ev["headers"]["Idempotency-Key"] = json!(key);
    ev["multiValueHeaders"]["Idempotency-Key"] = json!([key]);
    lambda_http::request::from_str(&ev.to_string()).expect("valid API Gateway event")
}

/// `POST /edits` as API Gateway sends it when it received the request `ms` milliseconds ago
/// (`requestContext.requestTimeEpoch`): its 29 s integration timeout counts from then.
pub fn post_edit_received_ms_ago(body: &Value, ms: i64) -> Request {
    let mut ev = event_value("POST", "/edits", "/edits", Some(&body.to_string()), Some("user-a"), &[]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    ev["requestContext"]["requestTimeEpoch"] = json!(now - ms);
    lambda_http::request::from_str(&ev.to_string()).expect("valid API Gateway event")
}

fn event_value(
    method: &str,
    resource: &str,
    path: &str,
    body: Option<&str>,
    user: Option<&str>,
    query: &[(&str, &str)],
) -> Value {
    let path_params = if resource.contains("{id}") {
        json!({"id": path.rsplit('/').next().unwrap_or_default()})
    } else {
        Value::Null
    };
    let qs: serde_json::Map<String, Value> = query.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    let mqs: serde_json::Map<String, Value> = query.iter().map(|(k, v)| ((*k).to_owned(), json!([v]))).collect();
    let authorizer = match user {
        Some(sub) => {
            json!({"claims": {"sub": sub, "email": format!("{sub}@example.com"), "token_use": "id"}})
        }
        None => Value::Null,
    };
    let ev = json!({
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json", "origin": ORIGIN, "Authorization": "eyJraWQ.token.sig"},
        "multiValueHeaders": {"content-type": ["application/json"], "origin": [ORIGIN], "Authorization": ["eyJraWQ.token.sig"]},
        "queryStringParameters": if qs.is_empty() { Value::Null } else { Value::Object(qs) },
        "multiValueQueryStringParameters": if mqs.is_empty() { Value::Null } else { Value::Object(mqs) },
        "pathParameters": path_params,
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "abc123",
            "stage": "prod",
            "requestId": "apigw-req-1",
            "resourcePath": resource,
            "httpMethod": method,
            "path": format!("/prod{path}"),
            "apiId": "api123",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": authorizer,
        },
        "body": body,
        "isBase64Encoded": false,
    });
    ev
}

pub fn post_edit(body: &Value) -> Request {
    event("POST", "/edits", "/edits", Some(&body.to_string()), Some("user-a"))
}

pub fn status(resp: &Response<Body>) -> u16 {
    resp.status().as_u16()
}

pub fn json_body(resp: &Response<Body>) -> Value {
    match resp.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        Body::Empty => Value::Null,
        _ => Value::Null,
    }
}

// ---------- images ----------

pub fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// A textured RGB photo stand-in.
pub fn photo(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    }))
}

pub fn png_b64(w: u32, h: u32) -> String {
    STANDARD.encode(encode(&photo(w, h), ImageFormat::Png))
}

pub fn png_data_url(w: u32, h: u32) -> String {
    format!("data:image/png;base64,{}", png_b64(w, h))
}

pub fn jpeg_b64(w: u32, h: u32) -> String {
    STANDARD.encode(encode(&photo(w, h), ImageFormat::Jpeg))
}

/// Our convention: white rectangle (x0..x1, y0..y1) = change, black elsewhere.
pub fn mask_b64(w: u32, h: u32, rect: (u32, u32, u32, u32)) -> String {
    let (x0, y0, x1, y1) = rect;
    let img = RgbImage::from_fn(w, h, |x, y| {
        if (x0..x1).contains(&x) && (y0..y1).contains(&y) { Rgb([255, 255, 255]) } else { Rgb([0, 0, 0]) }
    });
    STANDARD.encode(encode(&DynamicImage::ImageRgb8(img), ImageFormat::Png))
}

/// The seed app's convention: black rectangle = painted, white elsewhere.
pub fn seed_mask_b64(w: u32, h: u32, rect: (u32, u32, u32, u32)) -> String {
    let (x0, y0, x1, y1) = rect;
    let img = RgbImage::from_fn(w, h, |x, y| {
        if (x0..x1).contains(&x) && (y0..y1).contains(&y) { Rgb([0, 0, 0]) } else { Rgb([255, 255, 255]) }
    });
    STANDARD.encode(encode(&DynamicImage::ImageRgb8(img), ImageFormat::Png))
}

pub fn grey_b64(w: u32, h: u32) -> String {
    let img = RgbImage::from_pixel(w, h, Rgb([128, 128, 128]));
    STANDARD.encode(encode(&DynamicImage::ImageRgb8(img), ImageFormat::Png))
}

pub fn transparent_png_b64(w: u32, h: u32) -> String {
    let img =
        RgbaImage::from_fn(w, h, |x, _| if x < w / 2 { Rgba([200, 10, 10, 0]) } else { Rgba([10, 200, 10, 255]) });
    STANDARD.encode(encode(&DynamicImage::ImageRgba8(img), ImageFormat::Png))
}

/// Decodes a base64 image (as the model would).
pub fn decode_b64(b64: &str) -> DynamicImage {
    image::load_from_memory(&STANDARD.decode(b64).expect("base64")).expect("image")
}

/// Replaces every base64 image in a model request with `<png WxH>` / `<jpeg WxH>` so request
/// bodies can be compared as literal JSON.
pub fn redact(v: &Value) -> Value {
    match v {
        Value::String(s) if s.len() > 64 => match STANDARD.decode(s) {
            Ok(bytes) => match image::load_from_memory(&bytes) {
                Ok(img) => {
                    let kind = if bytes.starts_with(b"\x89PNG") { "png" } else { "jpeg" };
                    json!(format!("<{kind} {}x{}>", img.width(), img.height()))
                }
                Err(_) => v.clone(),
            },
            Err(_) => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(redact).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), redact(v))).collect()),
        other => other.clone(),
    }
}

// ---------- model and store fakes ----------

type Answer = dyn Fn(&str, &Value) -> Result<Value, ModelCallError> + Send + Sync;

/// An [`ImageModel`] that records each call and answers with `answer`.
#[derive(Clone)]
pub struct FakeModel {
    pub calls: Arc<Mutex<Vec<(String, Value)>>>,
    answer: Arc<Answer>,
}

impl FakeModel {
    pub fn new(answer: impl Fn(&str, &Value) -> Result<Value, ModelCallError> + Send + Sync + 'static) -> Self {
        FakeModel { calls: Arc::default(), answer: Arc::new(answer) }
    }

    /// Answers like the family would, with `n` images of `w`×`h` (Stability with seeds/finish_reasons).
    pub fn ok(family: &'static str, w: u32, h: u32) -> Self {
        let image = png_b64(w, h);
        assert_eq!(family, "stability", "the only live model family");
        FakeModel::new(move |_, body| {
            let seed = body.get("seed").cloned().unwrap_or(json!(0));
            Ok(json!({"seeds": [seed], "finish_reasons": [null], "images": [image]}))
        })
    }

    pub fn answering(value: Value) -> Self {
        FakeModel::new(move |_, _| Ok(value.clone()))
    }

    pub fn failing(err: ModelCallError) -> Self {
        FakeModel::new(move |_, _| Err(err.clone()))
    }

    pub fn last_call(&self) -> Option<(String, Value)> {
        self.calls.lock().ok()?.last().cloned()
    }

    pub fn call_count(&self) -> usize {
        self.calls.lock().map(|c| c.len()).unwrap_or(0)
    }
}

impl ImageModel for FakeModel {
    async fn invoke(&self, model_id: &str, body: &Value) -> Result<Value, ModelCallError> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push((model_id.to_owned(), body.clone()));
        }
        (self.answer)(model_id, body)
    }
}

/// A DynamoDB client whose PutItem (records) and UpdateItem (daily counts) always succeed (no
/// network).
pub fn dynamodb_accepting_puts() -> aws_sdk_dynamodb::Client {
    let put = mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
    let count = mock!(aws_sdk_dynamodb::Client::update_item)
        .then_output(|| aws_sdk_dynamodb::operation::update_item::UpdateItemOutput::builder().build());
    mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&put, &count])
}

pub fn app(family: &str, model: FakeModel) -> App<FakeModel> {
    App::new(config(family), model, dynamodb_accepting_puts())
}

/// The project's root: lambda/'s parent.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("project root").to_path_buf()
}
