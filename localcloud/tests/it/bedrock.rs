//! The Bedrock stand-in through the real `aws-sdk-bedrockruntime` client: valid edits of the
//! Stability AI models, Bedrock's validation errors, the retired models' end of life, and the test
//! switches.

use image_edit_contract::catalogue;
use localcloud::bedrock;

use std::io::Cursor;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelError;
use aws_sdk_bedrockruntime::primitives::Blob;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use image::{ImageFormat, RgbImage, RgbaImage};
use serde_json::{Value, json};

/// The Stability Image Services are invoked through their `us.` inference profiles.
const INPAINT: &str = "us.stability.stable-image-inpaint-v1:0";
/// Every Stability model is offered here except Stable Image Core/Ultra and SD3.5 (us-west-2).
const REGION: &str = "us-east-1";

struct Server {
    addr: SocketAddr,
    client: Client,
    http: reqwest::Client,
}

async fn start() -> Server {
    start_in(REGION).await
}

async fn start_in(region: &'static str) -> Server {
    start_with(bedrock::Bedrock::subscribed(), region).await
}

async fn start_with(stand_in: bedrock::Bedrock, region: &'static str) -> Server {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = stand_in.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(Credentials::new("AKIDLOCALCLOUD", "secret", None, None, "test"))
        .endpoint_url(format!("http://{addr}"))
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build();
    Server { addr, client: Client::from_conf(conf), http: reqwest::Client::new() }
}

impl Server {
    /// Bedrock's control plane (aws-sdk-bedrock) in the server's region.
    fn control(&self, region: &'static str) -> aws_sdk_bedrock::Client {
        let conf = aws_sdk_bedrock::Config::builder()
            .behavior_version(aws_sdk_bedrock::config::BehaviorVersion::latest())
            .region(aws_sdk_bedrock::config::Region::new(region))
            .credentials_provider(aws_sdk_bedrock::config::Credentials::new(
                "AKIDLOCALCLOUD",
                "secret",
                None,
                None,
                "t",
            ))
            .endpoint_url(format!("http://{}", self.addr))
            .build();
        aws_sdk_bedrock::Client::from_conf(conf)
    }

    async fn call(&self, model: &str, body: &Value) -> Result<Value, InvokeModelError> {
        let out = self
            .client
            .invoke_model()
            .model_id(model)
            .content_type("application/json")
            .accept("application/json")
            .body(Blob::new(serde_json::to_vec(body).unwrap()))
            .send()
            .await
            .map_err(|e| e.into_service_error())?;
        assert_eq!(out.content_type(), "application/json");
        Ok(serde_json::from_slice(out.body().as_ref()).unwrap())
    }

    async fn ok(&self, model: &str, body: &Value) -> Value {
        match self.call(model, body).await {
            Ok(v) => v,
            Err(e) => panic!("{model}: {e:?}"),
        }
    }

    /// The ValidationException's message.
    async fn invalid(&self, model: &str, body: &Value) -> String {
        match self.call(model, body).await {
            Err(InvokeModelError::ValidationException(e)) => e.message().unwrap_or_default().to_owned(),
            other => panic!("{model}: expected ValidationException, got {other:?}"),
        }
    }

    async fn switches(&self, settings: Value) {
        let r = self.http.post(format!("http://{}/_localcloud/bedrock/config", self.addr)).json(&settings).send().await;
        assert_eq!(r.unwrap().status(), 200);
    }
}

fn png_of(img: &RgbImage) -> String {
    let mut buf = Cursor::new(Vec::new());
    img.write_to(&mut buf, ImageFormat::Png).unwrap();
    B64.encode(buf.into_inner())
}

/// A busy test picture (every pixel differs from its neighbours).
fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 3 % 256) as u8, (y * 5 % 256) as u8, ((x + y) % 256) as u8]))
}

/// A mask of `inside` colour in the square [a, b)² and `outside` elsewhere.
fn square_mask(w: u32, h: u32, a: u32, b: u32, inside: u8, outside: u8) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let v = if (a..b).contains(&x) && (a..b).contains(&y) { inside } else { outside };
        image::Rgb([v, v, v])
    })
}

fn decode(b64: &Value) -> RgbaImage {
    let bytes = B64.decode(b64.as_str().expect("a base64 string")).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    image::load_from_memory(&bytes).unwrap().into_rgba8()
}

/// A PNG with a header and no pixel data (enough for a size check, which comes before decoding).
fn png_header_only(w: u32, h: u32) -> String {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    // IHDR, the start of a zlib stream, IEND.
    for chunk in [ihdr, b"IDAT\x78\x01".to_vec(), b"IEND".to_vec()] {
        png.extend(((chunk.len() - 4) as u32).to_be_bytes());
        png.extend(&chunk);
        png.extend(crc32(&chunk).to_be_bytes());
    }
    B64.encode(png)
}

/// Counts (changed pixels inside [a,b)², changed pixels outside [a-margin, b+margin)²).
fn changes(before: &RgbImage, after: &RgbaImage, a: u32, b: u32, margin: u32) -> (u32, u32, u32) {
    let (mut inside, mut inside_total, mut outside) = (0, 0, 0);
    for (x, y, p) in before.enumerate_pixels() {
        let q = after.get_pixel(x, y);
        let changed = p.0 != [q[0], q[1], q[2]];
        let is_in = (a..b).contains(&x) && (a..b).contains(&y);
        let near =
            (a.saturating_sub(margin)..b + margin).contains(&x) && (a.saturating_sub(margin)..b + margin).contains(&y);
        if is_in {
            inside_total += 1;
            inside += u32::from(changed);
        } else if !near {
            outside += u32::from(changed);
        }
    }
    (inside, inside_total, outside)
}

#[tokio::test]
async fn stability_inpaint_changes_only_the_white_area() {
    let s = start().await;
    let img = picture(640, 480);
    // Stability: white = the area to change; grow_mask (default 5) feathers 5 px around it.
    let mask = square_mask(640, 480, 200, 300, 255, 0);
    let body = json!({"image": png_of(&img), "mask": png_of(&mask), "prompt": "a cat", "output_format": "png"});
    let out = s.ok(INPAINT, &body).await;
    assert_eq!(out["finish_reasons"], json!([null]));
    assert_eq!(out["standIn"], true);
    let seed = out["seeds"][0].as_u64().unwrap();
    assert!((1..=4_294_967_294).contains(&seed));
    let after = decode(&out["images"][0]);
    assert_eq!(after.dimensions(), (640, 480));
    let (inside, total, outside) = changes(&img, &after, 200, 300, 6);
    assert!(inside * 10 > total * 9, "only {inside} of {total} masked pixels changed");
    assert_eq!(outside, 0, "pixels away from the mask changed");

    // The seed given is the seed answered; grow_mask 0 changes nothing outside the mask.
    let body = json!({"image": png_of(&img), "mask": png_of(&mask), "prompt": "a cat", "seed": 99, "grow_mask": 0});
    let out = s.ok(INPAINT, &body).await;
    assert_eq!(out["seeds"], json!([99]));
    let (_, _, outside) = changes(&img, &decode(&out["images"][0]), 200, 300, 0);
    assert_eq!(outside, 0);
}

#[tokio::test]
async fn answers_are_deterministic() {
    let s = start().await;
    let img = picture(512, 512);
    let mask = square_mask(512, 512, 100, 200, 0, 255);
    let stab = json!({"image": png_of(&img), "mask": png_of(&mask), "prompt": "a boat"});
    let (a, b) = (s.ok(INPAINT, &stab).await, s.ok(INPAINT, &stab).await);
    assert_eq!(a, b);
    // A different prompt gives a different picture.
    let tree = json!({"image": png_of(&img), "mask": png_of(&mask), "prompt": "a tree"});
    assert_ne!(s.ok(INPAINT, &tree).await["images"], a["images"]);
}

#[tokio::test]
async fn wrong_size_masks_are_rejected_and_grey_is_partial() {
    let s = start().await;
    let img = picture(512, 512);
    let grey = square_mask(512, 512, 100, 200, 128, 255);

    let small = square_mask(256, 256, 10, 20, 0, 255);
    let body = json!({"image": png_of(&img), "mask": png_of(&small), "prompt": "x"});
    let m = s.invalid(INPAINT, &body).await;
    assert!(m.contains("#/mask") && m.contains("same size"), "{m}");

    // Stability takes grey as a partial mask.
    let body = json!({"image": png_of(&img), "mask": png_of(&grey), "prompt": "x"});
    s.ok(INPAINT, &body).await;
}

#[tokio::test]
async fn images_outside_the_size_limits_are_rejected() {
    let s = start().await;
    // Stability: 4,096–9,437,184 pixels, each side ≥ 64, aspect 1:2.5..2.5:1.
    let body = json!({"image": png_header_only(3073, 3072), "prompt": "x", "mask": png_header_only(3073, 3072)});
    let m = s.invalid(INPAINT, &body).await;
    assert!(m.contains("#/image") && m.contains("9437184"), "{m}");
    let m = s.invalid(INPAINT, &json!({"image": png_of(&picture(63, 100)), "prompt": "x"})).await;
    assert!(m.contains("at least 64"), "{m}");
    let m = s.invalid(INPAINT, &json!({"image": png_of(&picture(400, 100)), "prompt": "x"})).await;
    assert!(m.contains("aspect ratio"), "{m}");
    let rmbg = "us.stability.stable-image-remove-background-v1:0";
    let m = s.invalid(rmbg, &json!({"image": png_header_only(2100, 2000)})).await;
    assert!(m.contains("4194304"), "{m}");
}

#[tokio::test]
async fn prompts_that_are_too_long_are_rejected() {
    let s = start().await;
    let img = picture(512, 512);
    let mask = square_mask(512, 512, 100, 200, 0, 255);
    let body = json!({"image": png_of(&img), "mask": png_of(&mask), "prompt": "a".repeat(10_001)});
    let m = s.invalid(INPAINT, &body).await;
    assert!(m.contains("#/prompt: expected maxLength: 10000, actual: 10001"), "{m}");
}

#[tokio::test]
async fn missing_and_extraneous_fields_are_rejected() {
    let s = start().await;
    let img = png_of(&picture(512, 512));
    let mask = png_of(&square_mask(512, 512, 100, 200, 0, 255));
    let m = s.invalid(INPAINT, &json!({"image": img, "mask": mask})).await;
    assert!(m.contains("#: required key [prompt] not found"), "{m}");
    let m = s.invalid("us.stability.stable-image-search-replace-v1:0", &json!({"image": img, "prompt": "x"})).await;
    assert!(m.contains("required key [search_prompt] not found"), "{m}");

    let m = s.invalid(INPAINT, &json!({"image": img, "mask": mask, "prompt": "x", "strength": 0.5})).await;
    assert!(m.contains("extraneous key [strength] is not permitted"), "{m}");
}

#[tokio::test]
async fn other_field_rules() {
    let s = start().await;
    let img = picture(512, 512);

    let outpaint = "us.stability.stable-outpaint-v1:0";
    let m = s.invalid(outpaint, &json!({"image": png_of(&img), "left": 0})).await;
    assert!(m.contains("at least one of [left, right, up, down]"), "{m}");
    let m = s.invalid(outpaint, &json!({"image": png_of(&img), "left": 2001})).await;
    assert!(m.contains("#/left: 2001 is not less or equal to 2000"), "{m}");
    let m = s.invalid(INPAINT, &json!({"image": "data:image/png;base64,AAAA", "prompt": "x"})).await;
    assert!(m.contains("#/image") && m.contains("base64"), "{m}");
    let m = s.invalid(INPAINT, &json!({"image": B64.encode(b"GIF89a not really"), "prompt": "x"})).await;
    assert!(m.contains("PNG or JPEG"), "{m}");
    // No mask and no alpha channel: nothing says what to change.
    let m = s.invalid(INPAINT, &json!({"image": png_of(&img), "prompt": "x"})).await;
    assert!(m.contains("required key [mask]"), "{m}");
}

#[tokio::test]
async fn unknown_models_are_invalid_identifiers() {
    let s = start().await;
    for id in ["stability.stable-image-inpaint-v9:0", "us.stability.stable-image-core-v1:1", "anthropic.claude-v2"] {
        let m = s.invalid(id, &json!({})).await;
        assert_eq!(m, "The provided model identifier is invalid.");
    }
    // Profiles and ARNs of known models work.
    let img = picture(256, 256);
    let mask = square_mask(256, 256, 10, 50, 255, 0);
    let body = json!({"image": png_of(&img), "mask": png_of(&mask), "prompt": "x"});
    s.ok("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.stability.stable-image-inpaint-v1:0", &body)
        .await;
    let oregon = start_in("us-west-2").await;
    oregon
        .ok("arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1", &json!({"prompt": "x"}))
        .await;
    // As AWS: the plain id of a profile-only model, and ids not offered in the caller's region.
    assert_eq!(
        s.invalid("stability.stable-image-inpaint-v1:0", &body).await,
        "Invocation of model ID stability.stable-image-inpaint-v1:0 with on-demand throughput isn’t supported. \
         Retry your request with the ID or ARN of an inference profile that contains this model."
    );
    for id in ["eu.stability.stable-image-inpaint-v1:0", "stability.stable-image-core-v1:1"] {
        assert_eq!(s.invalid(id, &body).await, "The provided model identifier is invalid.", "{id}");
    }
    // The `us.` profiles are offered from the three US regions only.
    let ireland = start_in("eu-west-1").await;
    assert_eq!(ireland.invalid(INPAINT, &body).await, "The provided model identifier is invalid.");
}

/// Titan Image Generator v2 and Nova Canvas are retired: Bedrock answers their ids (plain, ARN or
/// a profile of them) with a 404 ResourceNotFoundException and its end-of-life message.
#[tokio::test]
async fn retired_models_have_reached_their_end_of_life() {
    let s = start().await;
    let body = json!({"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"}});
    for id in [
        "amazon.nova-canvas-v1:0",
        "us.amazon.titan-image-generator-v2:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-image-generator-v2:0",
    ] {
        let e = s
            .client
            .invoke_model()
            .model_id(id)
            .content_type("application/json")
            .accept("application/json")
            .body(Blob::new(serde_json::to_vec(&body).unwrap()))
            .send()
            .await
            .expect_err(id);
        let raw = e.raw_response().expect("an HTTP answer");
        assert_eq!(raw.status().as_u16(), 404, "{id}");
        let kind = raw.headers().get("x-amzn-errortype").unwrap_or_default();
        assert!(kind.starts_with("ResourceNotFoundException"), "{id}: {kind}");
        match e.into_service_error() {
            InvokeModelError::ResourceNotFoundException(e) => {
                assert_eq!(e.message(), Some(catalogue::END_OF_LIFE_MESSAGE), "{id}")
            }
            other => panic!("{id}: expected ResourceNotFoundException, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn every_operation_makes_a_picture() {
    let s = start().await;
    let img = picture(512, 384);
    let b64 = png_of(&img);

    // Stability outpaint grows the canvas and keeps the original in place.
    let out = s
        .ok("us.stability.stable-outpaint-v1:0", &json!({"image": b64, "left": 64, "down": 32, "prompt": "sea"}))
        .await;
    let after = decode(&out["images"][0]);
    assert_eq!(after.dimensions(), (576, 416));
    assert_eq!(after.get_pixel(64 + 10, 10).0[..3], img.get_pixel(10, 10).0);
    assert_ne!(after.get_pixel(5, 5).0[..3], after.get_pixel(6, 200).0[..3]);

    // Background removal: PNG with alpha, border colour transparent.
    let framed = RgbImage::from_fn(512, 384, |x, y| {
        if (100..400).contains(&x) && (100..300).contains(&y) {
            image::Rgb([200, 30, 30])
        } else {
            image::Rgb([240, 240, 240])
        }
    });
    let rmbg = "us.stability.stable-image-remove-background-v1:0";
    let after = decode(&s.ok(rmbg, &json!({"image": png_of(&framed)})).await["images"][0]);
    assert_eq!(after.get_pixel(5, 5)[3], 0);
    assert_eq!(after.get_pixel(200, 200)[3], 255);

    // Erase, search-and-replace, search-and-recolor.
    let white = square_mask(512, 384, 100, 200, 255, 0);
    let erase =
        s.ok("us.stability.stable-image-erase-object-v1:0", &json!({"image": b64, "mask": png_of(&white)})).await;
    let (inside, total, outside) = changes(&img, &decode(&erase["images"][0]), 100, 200, 6);
    assert!(inside * 10 > total * 9 && outside == 0);
    for (model, key) in [
        ("us.stability.stable-image-search-replace-v1:0", "search_prompt"),
        ("us.stability.stable-image-search-recolor-v1:0", "select_prompt"),
    ] {
        let out = s.ok(model, &json!({"image": b64, "prompt": "a red car", key: "the car"})).await;
        let after = decode(&out["images"][0]);
        assert_ne!(after.get_pixel(256, 192).0[..3], img.get_pixel(256, 192).0, "{model}");
        assert_eq!(after.get_pixel(1, 1).0[..3], img.get_pixel(1, 1).0, "{model}");
    }

    // Text to image by aspect ratio (default 1:1); Stable Image Core and SD3.5 are offered in
    // us-west-2 only.
    let oregon = start_in("us-west-2").await;
    let out =
        oregon.ok("stability.stable-image-core-v1:1", &json!({"prompt": "a lighthouse", "aspect_ratio": "16:9"})).await;
    assert_eq!(decode(&out["images"][0]).dimensions(), (1344, 768));
    let out =
        oregon.ok("stability.sd3-5-large-v1:0", &json!({"prompt": "a lighthouse", "mode": "text-to-image"})).await;
    assert_eq!(decode(&out["images"][0]).dimensions(), (1024, 1024));

    // JPEG when asked.
    let mask = png_of(&square_mask(512, 384, 10, 60, 255, 0));
    let out = s.ok(INPAINT, &json!({"image": b64, "mask": mask, "prompt": "x", "output_format": "jpeg"})).await;
    let bytes = B64.decode(out["images"][0].as_str().unwrap()).unwrap();
    assert_eq!(&bytes[..3], b"\xFF\xD8\xFF");
}

/// A reduced quota, as a new account may have: at most `maxConcurrent` calls of one model at
/// once; the others get ThrottlingException at once (and another model has its own quota).
#[tokio::test]
async fn a_concurrency_quota_throttles_the_calls_over_it() {
    let s = start().await;
    let img = picture(256, 256);
    let mask = square_mask(256, 256, 10, 50, 255, 0);
    let body = json!({"image": png_of(&img), "mask": png_of(&mask), "prompt": "x"});
    s.switches(json!({"maxConcurrent": 2, "latencyMs": 500})).await;
    let answers = futures::future::join_all((0..6).map(|_| s.call(INPAINT, &body))).await;
    let made = answers.iter().filter(|a| a.is_ok()).count();
    let throttled = answers.iter().filter(|a| matches!(a, Err(InvokeModelError::ThrottlingException(_)))).count();
    assert_eq!((made, throttled), (2, 4), "{answers:?}");
    // The quota counts calls under way, not calls made: once they end, there is room again.
    s.ok(INPAINT, &body).await;
    s.switches(json!({})).await;
}

#[tokio::test]
async fn switches_latency_throttle_and_failures() {
    let s = start().await;
    let img = picture(256, 256);
    let mask = square_mask(256, 256, 10, 50, 255, 0);
    let body = json!({"image": png_of(&img), "mask": png_of(&mask), "prompt": "x"});

    s.switches(json!({"latencyMs": 300})).await;
    let t = Instant::now();
    s.ok(INPAINT, &body).await;
    assert!(t.elapsed() >= Duration::from_millis(300), "{:?}", t.elapsed());
    let got: Value =
        s.http.get(format!("http://{}/_localcloud/bedrock/config", s.addr)).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["latencyMs"], 300);
    assert_eq!(got["block"], Value::Null);

    s.switches(json!({"throttle": true})).await;
    match s.call(INPAINT, &body).await {
        Err(InvokeModelError::ThrottlingException(e)) => {
            assert_eq!(e.message(), Some("Too many requests, please wait before trying again."))
        }
        other => panic!("{other:?}"),
    }
    s.switches(json!({"fail": "model_error"})).await;
    assert!(matches!(s.call(INPAINT, &body).await, Err(InvokeModelError::ModelErrorException(_))));
    s.switches(json!({"fail": "timeout"})).await;
    assert!(matches!(s.call(INPAINT, &body).await, Err(InvokeModelError::ModelTimeoutException(_))));
    s.switches(json!({"fail": "not_ready"})).await;
    assert!(matches!(s.call(INPAINT, &body).await, Err(InvokeModelError::ModelNotReadyException(_))));
    s.switches(json!({"fail": "access_denied"})).await;
    match s.call(INPAINT, &body).await {
        Err(InvokeModelError::AccessDeniedException(e)) => {
            assert_eq!(e.message(), Some("You don't have access to the model with the specified model ID."))
        }
        other => panic!("{other:?}"),
    }
    // Invalid requests stay invalid while a model failure is switched on.
    s.switches(json!({"fail": "model_error"})).await;
    assert!(s.invalid(INPAINT, &json!({"image": png_of(&img)})).await.contains("required key [prompt]"));

    // Bad switches are refused and change nothing.
    let r = s
        .http
        .post(format!("http://{}/_localcloud/bedrock/config", s.addr))
        .json(&json!({"fail": "boom"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    s.switches(json!({})).await;
    s.ok(INPAINT, &body).await;
}

#[tokio::test]
async fn content_filter_switches() {
    let s = start().await;
    let img = picture(512, 512);
    let stab = json!({"image": png_of(&img), "mask": png_of(&square_mask(512, 512, 100, 200, 255, 0)), "prompt": "x"});

    s.switches(json!({"block": "input"})).await;
    let m = s.invalid(INPAINT, &stab).await;
    assert!(m.contains("blocked by our content filters"), "{m}");

    s.switches(json!({"block": "output"})).await;
    let out = s.ok(INPAINT, &stab).await;
    assert_eq!(out["finish_reasons"], json!(["Filter reason: output image"]));
    assert_eq!(out["images"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn get_foundation_model() {
    let s = start().await;
    let url = |id: &str| format!("http://{}/foundation-models/{}", s.addr, id.replace(':', "%3A"));
    let r = s.http.get(url("stability.stable-image-inpaint-v1:0")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let d = &v["modelDetails"];
    assert_eq!(d["modelId"], "stability.stable-image-inpaint-v1:0");
    assert_eq!(d["modelArn"], "arn:aws:bedrock:us-east-1::foundation-model/stability.stable-image-inpaint-v1:0");
    assert_eq!(d["providerName"], "Stability AI");
    assert_eq!(d["outputModalities"], json!(["IMAGE"]));
    assert_eq!(d["modelLifecycle"]["status"], "ACTIVE");
    // Offered through the `us.` profile only (ListFoundationModels' inferenceTypesSupported).
    assert_eq!(d["inferenceTypesSupported"], json!(["INFERENCE_PROFILE"]));

    // A switch can say the lifecycle is otherwise.
    s.switches(json!({"lifecycle": {"stability.stable-image-inpaint-v1:0": "LEGACY"}})).await;
    let v: Value = s.http.get(url("stability.stable-image-inpaint-v1:0")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["modelDetails"]["modelLifecycle"]["status"], "LEGACY");

    // Unknown and retired models, profiles (not foundation models), and a model not offered in
    // the region (Stable Image Core: us-west-2 only).
    for id in [
        "amazon.nova-canvas-v9:0",
        "amazon.nova-canvas-v1:0",
        "amazon.titan-image-generator-v2:0",
        "us.stability.stable-image-inpaint-v1:0",
        "stability.stable-image-core-v1:1",
    ] {
        let r = s.http.get(url(id)).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let kind = r.headers()["x-amzn-errortype"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("ResourceNotFoundException"), "{id}: {kind}");
    }
    let v: Value = s
        .http
        .get(format!("http://{}/foundation-models?byProvider=stability", s.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The thirteen Stability Image Services (Core, Ultra and SD3.5 are in us-west-2 only).
    assert_eq!(v["modelSummaries"].as_array().unwrap().len(), 13);
    // Fast Upscale takes no prompt.
    let v: Value = s.http.get(url("stability.stable-fast-upscale-v1:0")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["modelDetails"]["inputModalities"], json!(["IMAGE"]));
    assert_eq!(v["modelDetails"]["inferenceTypesSupported"], json!(["INFERENCE_PROFILE"]));
}

#[tokio::test]
async fn inference_profiles_through_the_sdk() {
    use aws_sdk_bedrock::operation::get_inference_profile::GetInferenceProfileError;
    let s = start().await;
    let conf = aws_sdk_bedrock::Config::builder()
        .behavior_version(aws_sdk_bedrock::config::BehaviorVersion::latest())
        .region(aws_sdk_bedrock::config::Region::new("us-east-2"))
        .credentials_provider(aws_sdk_bedrock::config::Credentials::new("AKIDLOCALCLOUD", "secret", None, None, "t"))
        .endpoint_url(format!("http://{}", s.addr))
        .build();
    let bedrock = aws_sdk_bedrock::Client::from_conf(conf);
    let p = bedrock.get_inference_profile().inference_profile_identifier(INPAINT).send().await.unwrap();
    assert_eq!(p.inference_profile_id(), INPAINT);
    assert_eq!(
        p.inference_profile_arn(),
        format!("arn:aws:bedrock:us-east-2:123456789012:inference-profile/{INPAINT}")
    );
    assert_eq!(p.status().as_str(), "ACTIVE");
    assert_eq!(p.r#type().as_str(), "SYSTEM_DEFINED");
    let routes: Vec<&str> = p.models().iter().filter_map(|m| m.model_arn()).collect();
    assert_eq!(
        routes,
        [
            "arn:aws:bedrock:us-east-1::foundation-model/stability.stable-image-inpaint-v1:0",
            "arn:aws:bedrock:us-east-2::foundation-model/stability.stable-image-inpaint-v1:0",
            "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-inpaint-v1:0",
        ]
    );
    let all = bedrock.list_inference_profiles().send().await.unwrap();
    // One `us.` profile for each of the thirteen Image Services.
    assert_eq!(all.inference_profile_summaries().len(), 13);
    for missing in ["us.amazon.nova-canvas-v1:0", "eu.stability.stable-image-inpaint-v1:0"] {
        let e = bedrock.get_inference_profile().inference_profile_identifier(missing).send().await.unwrap_err();
        assert!(matches!(e.into_service_error(), GetInferenceProfileError::ResourceNotFoundException(_)), "{missing}");
    }
}

/// Not a benchmark: prints how long a 1024×1024 inpaint takes end to end (run with --nocapture).
#[tokio::test]
async fn timing_of_a_1024_inpaint() {
    let s = start().await;
    let img = picture(1024, 1024);
    let body =
        json!({"image": png_of(&img), "mask": png_of(&square_mask(1024, 1024, 300, 700, 255, 0)), "prompt": "x"});
    // Warm up.
    s.ok(INPAINT, &body).await;
    let t = Instant::now();
    s.ok(INPAINT, &body).await;
    println!("1024x1024 inpaint via the SDK, {INPAINT}: {:?}", t.elapsed());
    // The stand-in alone (no SigV4 signing or SDK parsing).
    let bytes = serde_json::to_vec(&body).unwrap();
    let url = format!("http://{}/model/{}/invoke", s.addr, INPAINT.replace(':', "%3A"));
    let t = Instant::now();
    let r = s.http.post(url).body(bytes).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap();
    println!("1024x1024 inpaint over plain HTTP, {INPAINT}: {:?}", t.elapsed());
}

/// A fresh account has no model access agreement: the Stability models are refused with AWS's
/// Marketplace text until one is made the documented way (offers → agreement → PENDING →
/// AVAILABLE), through the real aws-sdk-bedrock client; a failed agreement (no payment method)
/// keeps them refused.
#[tokio::test]
async fn a_fresh_account_invokes_a_marketplace_model_only_after_its_agreement() {
    use aws_sdk_bedrock::types::OfferType;
    let s = start_with(bedrock::Bedrock::new(), REGION).await;
    let control = s.control(REGION);
    let body = json!({"image": png_of(&picture(128, 128)), "mask": png_of(&square_mask(128, 128, 10, 50, 255, 0)),
                      "prompt": "x"});
    let model = "stability.stable-image-inpaint-v1:0";
    let denied = |r: Result<Value, InvokeModelError>| match r {
        Err(InvokeModelError::AccessDeniedException(e)) => e.message().unwrap_or_default().to_owned(),
        other => panic!("expected AccessDeniedException, got {other:?}"),
    };
    let refused = denied(s.call(INPAINT, &body).await);
    assert!(refused.starts_with("Model access is denied due to IAM user or service role is not authorized to perform the required AWS Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe)"), "{refused}");

    let a = control.get_foundation_model_availability().model_id(model).send().await.unwrap();
    assert_eq!(a.agreement_availability().map(|a| a.status().as_str()), Some("NOT_AVAILABLE"));
    assert_eq!(
        (a.authorization_status().as_str(), a.entitlement_availability().as_str(), a.region_availability().as_str()),
        ("AUTHORIZED", "NOT_AVAILABLE", "AVAILABLE")
    );

    s.switches(json!({"agreementDelayMs": 300})).await;
    let offers = control
        .list_foundation_model_agreement_offers()
        .model_id(model)
        .offer_type(OfferType::Public)
        .send()
        .await
        .unwrap();
    let token = offers.offers()[0].offer_token().to_owned();
    let bad = control.create_foundation_model_agreement().model_id(model).offer_token("forged").send().await;
    assert!(bad.is_err_and(|e| e.into_service_error().is_validation_exception()));
    control.create_foundation_model_agreement().model_id(model).offer_token(&token).send().await.unwrap();
    let a = control.get_foundation_model_availability().model_id(model).send().await.unwrap();
    assert_eq!(a.agreement_availability().map(|a| a.status().as_str()), Some("PENDING"));
    denied(s.call(INPAINT, &body).await);
    let again = control.create_foundation_model_agreement().model_id(model).offer_token(&token).send().await;
    assert!(again.is_err_and(|e| e.into_service_error().is_conflict_exception()));
    tokio::time::sleep(Duration::from_millis(350)).await;
    let a = control.get_foundation_model_availability().model_id(model).send().await.unwrap();
    assert_eq!(a.agreement_availability().map(|a| a.status().as_str()), Some("AVAILABLE"));
    assert_eq!(a.entitlement_availability().as_str(), "AVAILABLE");
    s.ok(INPAINT, &body).await;

    // Without a payment method the agreement fails, and the model stays refused.
    control.delete_foundation_model_agreement().model_id(model).send().await.unwrap();
    s.switches(json!({"agreementError": "A valid payment method is required"})).await;
    control.create_foundation_model_agreement().model_id(model).offer_token(&token).send().await.unwrap();
    let a = control.get_foundation_model_availability().model_id(model).send().await.unwrap();
    let agreement = a.agreement_availability().expect("agreement");
    assert_eq!(
        (agreement.status().as_str(), agreement.error_message()),
        ("ERROR", Some("A valid payment method is required"))
    );
    denied(s.call(INPAINT, &body).await);
    // Models the region does not offer are not found.
    let missing = control.get_foundation_model_availability().model_id("stability.stable-image-core-v1:1").send().await;
    assert!(missing.is_err_and(|e| e.into_service_error().is_resource_not_found_exception()));
    s.switches(json!({})).await;
}

/// The control, style and upscale services of the Stability AI Image Services.
const SKETCH: &str = "us.stability.stable-image-control-sketch-v1:0";
const STRUCTURE: &str = "us.stability.stable-image-control-structure-v1:0";
const STYLE_GUIDE: &str = "us.stability.stable-image-style-guide-v1:0";
const STYLE_TRANSFER: &str = "us.stability.stable-style-transfer-v1:0";
const FAST_UPSCALE: &str = "us.stability.stable-fast-upscale-v1:0";
const CONSERVATIVE_UPSCALE: &str = "us.stability.stable-conservative-upscale-v1:0";
const CREATIVE_UPSCALE: &str = "us.stability.stable-creative-upscale-v1:0";

fn solid(w: u32, h: u32, c: [u8; 3]) -> RgbImage {
    RgbImage::from_pixel(w, h, image::Rgb(c))
}

/// The one picture of a Stability answer (`{"seeds": [s], "finish_reasons": [null], "images": [b64]}`).
fn only_picture(out: &Value) -> RgbaImage {
    assert_eq!(out["finish_reasons"], json!([null]));
    assert_eq!(out["seeds"].as_array().map(Vec::len), Some(1));
    assert!((1..=4_294_967_294).contains(&out["seeds"][0].as_u64().unwrap()));
    assert_eq!(out["images"].as_array().map(Vec::len), Some(1));
    decode(&out["images"][0])
}

/// Asserts `img` has about `pixels` pixels (±0.5 %) at the aspect ratio `w`:`h` (±0.5 %).
fn assert_about(img: &RgbaImage, pixels: f64, w: f64, h: f64) {
    let (iw, ih) = img.dimensions();
    let px = f64::from(iw) * f64::from(ih);
    assert!((px / pixels - 1.0).abs() < 0.005, "{iw}x{ih} is not about {pixels} pixels");
    let ratio = f64::from(iw) / f64::from(ih);
    assert!((ratio / (w / h) - 1.0).abs() < 0.005, "{iw}x{ih} is not {w}:{h}");
}

/// The mean of each channel.
fn mean(img: &RgbaImage) -> [f64; 3] {
    let mut sum = [0f64; 3];
    for p in img.pixels() {
        for ch in 0..3 {
            sum[ch] += f64::from(p[ch]);
        }
    }
    let n = f64::from(img.width() * img.height());
    sum.map(|v| v / n)
}

fn changed(before: &RgbImage, after: &RgbaImage) -> usize {
    before.pixels().zip(after.pixels()).filter(|(p, q)| p.0 != [q[0], q[1], q[2]]).count()
}

#[tokio::test]
async fn control_and_style_services_make_pictures_of_the_documented_size() {
    let s = start().await;
    let img = picture(512, 384);
    let b64 = png_of(&img);

    // Control Sketch and Structure: "The resolution of the generated image will match that of the
    // input image"; visibly changed.
    for (model, body) in [
        (SKETCH, json!({"image": b64, "prompt": "a house by a river"})),
        (
            STRUCTURE,
            json!({"image": b64, "prompt": "a castle", "control_strength": 0.2, "seed": 7,
                           "negative_prompt": "fog", "style_preset": "line-art", "output_format": "png"}),
        ),
    ] {
        let out = s.ok(model, &body).await;
        let after = only_picture(&out);
        assert_eq!(after.dimensions(), (512, 384), "{model}");
        assert!(changed(&img, &after) > 512 * 384 / 2, "{model}: barely changed");
    }
    assert_eq!(s.ok(STRUCTURE, &json!({"image": b64, "prompt": "x", "seed": 7})).await["seeds"], json!([7]));

    // Style Guide: 1 MP at `aspect_ratio` (default 1:1), in the style image's colours.
    let red = png_of(&solid(300, 200, [220, 20, 20]));
    let out = s.ok(STYLE_GUIDE, &json!({"image": red, "prompt": "a lighthouse"})).await;
    let after = only_picture(&out);
    assert_eq!(after.dimensions(), (1024, 1024));
    let [r, g, b] = mean(&after);
    assert!(r > g + 40.0 && r > b + 40.0, "not red: {:?}", [r, g, b]);
    let out = s
        .ok(STYLE_GUIDE, &json!({"image": red, "prompt": "a lighthouse", "aspect_ratio": "16:9", "fidelity": 1.0}))
        .await;
    assert_eq!(only_picture(&out).dimensions(), (1344, 768));

    // Style Transfer: 1 MP at init_image's aspect ratio, drawn towards the style image's colour.
    let init = picture(640, 480);
    let blue = png_of(&solid(256, 256, [10, 20, 230]));
    let out = s.ok(STYLE_TRANSFER, &json!({"init_image": png_of(&init), "style_image": blue})).await;
    let after = only_picture(&out);
    assert_about(&after, 1_048_576.0, 4.0, 3.0);
    let (before, now) = (mean(&image::DynamicImage::ImageRgb8(init).into_rgba8()), mean(&after));
    assert!(now[2] > before[2] + 30.0 && now[0] < before[0], "not bluer: {before:?} → {now:?}");
    let out = s
        .ok(
            STYLE_TRANSFER,
            &json!({"init_image": b64, "style_image": blue, "prompt": "statue", "negative_prompt": "x",
                    "composition_fidelity": 0.2, "style_strength": 0.0, "change_strength": 0.1, "seed": 3}),
        )
        .await;
    assert_eq!(out["seeds"], json!([3]));
    assert_about(&only_picture(&out), 1_048_576.0, 4.0, 3.0);
}

#[tokio::test]
async fn upscale_services_make_pictures_of_the_documented_size() {
    let s = start().await;
    let img = picture(256, 192);
    let b64 = png_of(&img);

    // Fast Upscale: 4× (16 MP at most, which the largest input, 1 MP, reaches exactly).
    let out = s.ok(FAST_UPSCALE, &json!({"image": b64})).await;
    let after = only_picture(&out);
    assert_eq!(after.dimensions(), (1024, 768));
    assert_eq!(after.get_pixel(1023, 3).0[..3], after.get_pixel(1022, 2).0[..3], "not a 4x4 block");
    let out = s.ok(FAST_UPSCALE, &json!({"image": png_of(&picture(1024, 1024)), "output_format": "png"})).await;
    assert_eq!(only_picture(&out).dimensions(), (4096, 4096));

    // Conservative and Creative Upscale: 4 MP at the input's ratio.
    for (model, body) in [
        (CONSERVATIVE_UPSCALE, json!({"image": b64, "prompt": "a cat"})),
        (CONSERVATIVE_UPSCALE, json!({"image": b64, "prompt": "a cat", "creativity": 0.2, "negative_prompt": "x"})),
        (CREATIVE_UPSCALE, json!({"image": b64, "prompt": "a cat"})),
        (CREATIVE_UPSCALE, json!({"image": b64, "prompt": "a cat", "creativity": 0.1, "style_preset": "anime"})),
    ] {
        let after = only_picture(&s.ok(model, &body).await);
        assert_about(&after, 4_194_304.0, 4.0, 3.0);
    }
    // An input over 4 MP (Conservative takes up to 9.4 MP) keeps its size.
    let big = picture(2400, 1800);
    let out = s.ok(CONSERVATIVE_UPSCALE, &json!({"image": png_of(&big), "prompt": "x"})).await;
    assert_eq!(only_picture(&out).dimensions(), (2400, 1800));

    // JPEG when asked; WebP is accepted (answered with a PNG, as the other services).
    let out = s.ok(CREATIVE_UPSCALE, &json!({"image": b64, "prompt": "x", "output_format": "jpeg"})).await;
    assert_eq!(&B64.decode(out["images"][0].as_str().unwrap()).unwrap()[..3], b"\xFF\xD8\xFF");
    s.ok(FAST_UPSCALE, &json!({"image": b64, "output_format": "webp"})).await;

    // Profile-only, as the other Image Services.
    assert!(
        s.invalid("stability.stable-fast-upscale-v1:0", &json!({"image": b64})).await.contains("on-demand throughput"),
    );
}

#[tokio::test]
async fn control_style_and_upscale_services_refuse_what_bedrock_refuses() {
    let s = start().await;
    let img = png_of(&picture(256, 256));
    let style = png_of(&solid(128, 128, [1, 2, 3]));

    // Bedrock's exact wording for a number out of range.
    assert_eq!(
        s.invalid(SKETCH, &json!({"image": img, "prompt": "x", "control_strength": 1.5})).await,
        "Malformed input request: #/control_strength: 1.5 is not less or equal to 1.0, please reformat your input and \
         try again."
    );
    let cases: Vec<(&str, Value, &str)> = vec![
        // Missing required keys.
        (SKETCH, json!({"image": img}), "#: required key [prompt] not found"),
        (STRUCTURE, json!({"prompt": "x"}), "#: required key [image] not found"),
        (STYLE_GUIDE, json!({"image": img}), "#: required key [prompt] not found"),
        (STYLE_TRANSFER, json!({"init_image": img}), "#: required key [style_image] not found"),
        (STYLE_TRANSFER, json!({"style_image": style}), "#: required key [init_image] not found"),
        (FAST_UPSCALE, json!({}), "#: required key [image] not found"),
        (CONSERVATIVE_UPSCALE, json!({"image": img}), "#: required key [prompt] not found"),
        (CREATIVE_UPSCALE, json!({"prompt": "x"}), "#: required key [image] not found"),
        (SKETCH, json!({"image": img, "prompt": ""}), "#/prompt: expected minLength: 1, actual: 0"),
        // Out of range.
        (
            STRUCTURE,
            json!({"image": img, "prompt": "x", "control_strength": -0.1}),
            "#/control_strength: -0.1 is not greater or equal to 0.0",
        ),
        (STYLE_GUIDE, json!({"image": img, "prompt": "x", "fidelity": 2}), "#/fidelity: 2 is not less or equal to 1.0"),
        (
            STYLE_GUIDE,
            json!({"image": img, "prompt": "x", "aspect_ratio": "4:3"}),
            "#/aspect_ratio: 4:3 is not a valid enum value",
        ),
        (
            STYLE_TRANSFER,
            json!({"init_image": img, "style_image": style, "style_strength": 1.2}),
            "#/style_strength: 1.2 is not less or equal to 1.0",
        ),
        (
            STYLE_TRANSFER,
            json!({"init_image": img, "style_image": style, "change_strength": 0.05}),
            "#/change_strength: 0.05 is not greater or equal to 0.1",
        ),
        (
            STYLE_TRANSFER,
            json!({"init_image": img, "style_image": style, "composition_fidelity": 1.1}),
            "#/composition_fidelity: 1.1 is not less or equal to 1.0",
        ),
        // Conservative: AWS says 0.1–0.5, Stability 0.2–0.5; the stricter holds.
        (
            CONSERVATIVE_UPSCALE,
            json!({"image": img, "prompt": "x", "creativity": 0.1}),
            "#/creativity: 0.1 is not greater or equal to 0.2",
        ),
        (
            CONSERVATIVE_UPSCALE,
            json!({"image": img, "prompt": "x", "creativity": 0.6}),
            "#/creativity: 0.6 is not less or equal to 0.5",
        ),
        (
            CREATIVE_UPSCALE,
            json!({"image": img, "prompt": "x", "creativity": 0.05}),
            "#/creativity: 0.05 is not greater or equal to 0.1",
        ),
        (
            CREATIVE_UPSCALE,
            json!({"image": img, "prompt": "x", "creativity": 0.51}),
            "#/creativity: 0.51 is not less or equal to 0.5",
        ),
        (
            CREATIVE_UPSCALE,
            json!({"image": img, "prompt": "x", "creativity": "0.3"}),
            "#/creativity: expected type: Number, found: String",
        ),
        // Keys the service does not have.
        (FAST_UPSCALE, json!({"image": img, "prompt": "x"}), "#: extraneous key [prompt] is not permitted"),
        (FAST_UPSCALE, json!({"image": img, "seed": 1}), "#: extraneous key [seed] is not permitted"),
        (
            CONSERVATIVE_UPSCALE,
            json!({"image": img, "prompt": "x", "style_preset": "anime"}),
            "#: extraneous key [style_preset] is not permitted",
        ),
        (STYLE_GUIDE, json!({"style_image": img, "prompt": "x"}), "#: extraneous key [style_image] is not permitted"),
        (STYLE_TRANSFER, json!({"image": img, "style_image": style}), "#: extraneous key [image] is not permitted"),
        (
            SKETCH,
            json!({"image": img, "prompt": "x", "strength": 0.5}),
            "#: extraneous key [strength] is not permitted",
        ),
        // Images over the limits: Fast Upscale 32–1,536 px a side and ≤ 1,048,576 px, Creative
        // ≤ 1,048,576 px, the others ≤ 9,437,184 px and 1:2.5–2.5:1.
        (
            FAST_UPSCALE,
            json!({"image": png_header_only(1100, 1000)}),
            "the image has 1100000 pixels (1100x1000); the maximum is 1048576",
        ),
        (FAST_UPSCALE, json!({"image": png_header_only(1600, 100)}), "each side must be at most 1536 pixels"),
        (FAST_UPSCALE, json!({"image": png_of(&picture(31, 64))}), "each side must be at least 32 pixels"),
        (FAST_UPSCALE, json!({"image": png_of(&picture(32, 31))}), "each side must be at least 32 pixels"),
        (
            CREATIVE_UPSCALE,
            json!({"image": png_header_only(1100, 1000), "prompt": "x"}),
            "#/image: the image has 1100000 pixels (1100x1000); the maximum is 1048576",
        ),
        (CONSERVATIVE_UPSCALE, json!({"image": png_header_only(3073, 3072), "prompt": "x"}), "the maximum is 9437184"),
        (
            STYLE_TRANSFER,
            json!({"init_image": img, "style_image": png_of(&picture(400, 100))}),
            "#/style_image: the image is 400x100; its aspect ratio must be between 1:2.5 and 2.5:1",
        ),
        (STYLE_GUIDE, json!({"image": png_of(&picture(63, 100)), "prompt": "x"}), "at least 64"),
    ];
    for (model, body, want) in cases {
        let m = s.invalid(model, &body).await;
        assert!(m.starts_with("Malformed input request: ") && m.contains(want), "{model}: {m} (wanted {want})");
    }
    // Fast Upscale's limits have no aspect-ratio rule: 1536×32 is fine (→ 6144×128).
    let out = s.ok(FAST_UPSCALE, &json!({"image": png_of(&picture(1536, 32))})).await;
    assert_eq!(only_picture(&out).dimensions(), (6144, 128));
}

/// Stable Image Ultra image-to-image is `image` + `strength` with no `mode`; SD3.5 Large's is
/// `mode: "image-to-image"`, `image` and `strength`, all required. Both answer 1 MP at the image's
/// aspect ratio; both are offered in us-west-2 only.
#[tokio::test]
async fn ultra_and_sd35_image_to_image() {
    let s = start_in("us-west-2").await;
    const ULTRA: &str = "stability.stable-image-ultra-v1:1";
    const SD35: &str = "stability.sd3-5-large-v1:0";
    let img = png_of(&picture(512, 384));

    let out = s.ok(ULTRA, &json!({"prompt": "a cat", "image": img, "strength": 0.5})).await;
    assert_about(&only_picture(&out), 1_048_576.0, 4.0, 3.0);
    let out = s.ok(ULTRA, &json!({"prompt": "a cat", "image": img, "strength": 0.5, "mode": "text-to-image"})).await;
    assert_about(&only_picture(&out), 1_048_576.0, 4.0, 3.0);
    // Ultra's image limits are Stability's (64–16,384 px a side), with no aspect-ratio rule.
    let out = s.ok(ULTRA, &json!({"prompt": "a cat", "image": png_of(&picture(300, 100)), "strength": 0.2})).await;
    assert_about(&only_picture(&out), 1_048_576.0, 3.0, 1.0);
    let out = s.ok(SD35, &json!({"prompt": "a cat", "mode": "image-to-image", "image": img, "strength": 0.7})).await;
    assert_about(&only_picture(&out), 1_048_576.0, 4.0, 3.0);
    // Text to image still draws the aspect ratio asked.
    let out = s.ok(ULTRA, &json!({"prompt": "a cat", "aspect_ratio": "9:21"})).await;
    assert_eq!(only_picture(&out).dimensions(), (640, 1536));

    let cases: Vec<(&str, Value, &str)> = vec![
        (
            ULTRA,
            json!({"prompt": "x", "mode": "image-to-image", "image": img, "strength": 0.5}),
            "#/mode: image-to-image is not a valid enum value",
        ),
        (ULTRA, json!({"prompt": "x", "image": img}), "#: required key [strength] not found"),
        (ULTRA, json!({"prompt": "x", "image": img, "strength": 1.5}), "#/strength: 1.5 is not less or equal to 1.0"),
        (ULTRA, json!({"prompt": "x", "output_format": "webp"}), "#/output_format: webp is not a valid enum value"),
        (
            ULTRA,
            json!({"prompt": "x", "image": img, "strength": 0.5, "aspect_ratio": "1:1"}),
            "#/aspect_ratio: aspect_ratio is only allowed with text-to-image",
        ),
        (
            ULTRA,
            json!({"prompt": "x", "image": png_header_only(16_385, 64), "strength": 0.5}),
            "each side must be at most 16384 pixels",
        ),
        (ULTRA, json!({"image": img, "strength": 0.5}), "#: required key [prompt] not found"),
        (SD35, json!({"prompt": "x", "mode": "image-to-image", "image": img}), "#: required key [strength] not found"),
        (SD35, json!({"prompt": "x", "mode": "image-to-image", "strength": 0.5}), "#: required key [image] not found"),
        (
            SD35,
            json!({"prompt": "x", "image": img, "strength": 0.5}),
            "#/image: an image is only allowed with mode image-to-image",
        ),
        (
            SD35,
            json!({"prompt": "x", "mode": "image-to-image", "image": img, "strength": 0.5, "aspect_ratio": "16:9"}),
            "#/aspect_ratio: aspect_ratio is only allowed with text-to-image",
        ),
        (SD35, json!({"prompt": "x", "mode": "variation"}), "#/mode: variation is not a valid enum value"),
        (
            SD35,
            json!({"prompt": "x", "mode": "image-to-image", "image": png_of(&picture(63, 64)), "strength": 0.5}),
            "each side must be at least 64 pixels",
        ),
        (SD35, json!({"mode": "image-to-image", "image": img, "strength": 0.5}), "#: required key [prompt] not found"),
    ];
    for (model, body, want) in cases {
        let m = s.invalid(model, &body).await;
        assert!(m.contains(want), "{model}: {m} (wanted {want})");
    }
}
