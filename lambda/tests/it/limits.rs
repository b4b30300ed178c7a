//! Lambda's and API Gateway's limits as AWS enforces them, from inside the function: the answer
//! never exceeds Lambda's 6 MB response limit, and the function answers before API Gateway's 29 s
//! integration timeout whatever Bedrock or DynamoDB do.

use crate::common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use image::{DynamicImage, ImageFormat, RgbImage};
use image_edit_lambda::App;
use image_edit_lambda::bedrock::{ImageModel, ModelCallError};
use image_edit_lambda::config::MAX_RESPONSE_BYTES;
use lambda_http::Body;
use serde_json::{Value, json};

/// Lambda's synchronous response limit: "Response payload size exceeded maximum allowed payload
/// size (6291556 bytes)" (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
const LAMBDA_RESPONSE_LIMIT: usize = 6_291_556;

/// Noise compresses badly: the largest PNG a model could send for this size.
fn noise_png_b64(w: u32, h: u32) -> String {
    let mut x: u32 = 0x9E37_79B9;
    let img = RgbImage::from_fn(w, h, |_, _| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
    });
    STANDARD.encode(encode(&DynamicImage::ImageRgb8(img), ImageFormat::Png))
}

/// The answer as the runtime hands it to Lambda: the proxy response JSON around the body.
fn lambda_payload_len(resp: &lambda_http::Response<Body>) -> usize {
    let body = match resp.body() {
        Body::Text(t) => t.clone(),
        _ => String::new(),
    };
    let headers: serde_json::Map<String, Value> =
        resp.headers().iter().map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default()))).collect();
    let multi: serde_json::Map<String, Value> = headers.iter().map(|(k, v)| (k.clone(), json!([v]))).collect();
    json!({"statusCode": resp.status().as_u16(), "headers": headers, "multiValueHeaders": multi,
           "body": body, "isBase64Encoded": false})
    .to_string()
    .len()
}

#[tokio::test]
async fn the_largest_outputs_of_each_family_fit_in_the_response() {
    // Stability: one image of up to 9.4 MP.
    let cases: [(&str, Value, u32, u32, usize); 1] =
        [("stability", json!({"operation": "generate", "prompt": "x"}), 3072, 3072, 1)];
    for (family, request, w, h, n) in cases {
        let image = noise_png_b64(w, h);
        assert!(image.len() * n > LAMBDA_RESPONSE_LIMIT, "{family}: the case must exceed the limit");
        let answer = json!({"seeds": [1], "finish_reasons": [null], "images": vec![image; n]});
        let started = Instant::now();
        let resp = app(family, FakeModel::answering(answer)).handle(post_edit(&request)).await;
        let body = json_body(&resp);
        assert_eq!(status(&resp), 200, "{family}: {}", body["error"]);
        let len = lambda_payload_len(&resp);
        assert!(len < LAMBDA_RESPONSE_LIMIT, "{family}: {len} bytes");
        assert!(json_body(&resp).to_string().len() <= MAX_RESPONSE_BYTES);
        assert!(!body["images"].as_array().unwrap().is_empty());
        let notices = body["notices"].to_string();
        assert!(notices.contains("6 MB"), "{family}: {notices}");
        println!("{family}: {n}×{w}×{h} noise → {len} bytes in {:?}; {notices}", started.elapsed());
    }
}

/// A stack that keeps no results answers the image itself: one that fits the limit once comes back
/// as it was made (PNG, no notice), and once — not also as a download link.
#[tokio::test]
async fn an_image_that_fits_once_is_answered_as_made() {
    let image = noise_png_b64(1100, 1100);
    assert!(image.len() > LAMBDA_RESPONSE_LIMIT / 2 && image.len() < MAX_RESPONSE_BYTES, "{}", image.len());
    let answer = json!({"seeds": [1], "finish_reasons": [null], "images": [image.clone()]});
    let resp = app("stability", FakeModel::answering(answer))
        .handle(post_edit(&json!({"operation": "generate", "prompt": "x"})))
        .await;
    let body = json_body(&resp);
    assert_eq!(status(&resp), 200, "{}", body["error"]);
    assert_eq!(body["images"][0]["url"], json!(format!("data:image/png;base64,{image}")));
    assert_eq!(body["images"][0]["downloadUrl"], Value::Null);
    assert_eq!(body["notices"], json!([]));
    assert!(lambda_payload_len(&resp) < LAMBDA_RESPONSE_LIMIT);
}

/// A model that answers after `delay` (as Bedrock does for a large premium request).
#[derive(Clone)]
struct SlowModel(Duration);

impl ImageModel for SlowModel {
    async fn invoke(&self, _: &str, _: &Value) -> Result<Value, ModelCallError> {
        tokio::time::sleep(self.0).await;
        Ok(json!({"seeds": [1], "finish_reasons": [null], "images": [png_b64(64, 64)]}))
    }
}

fn inpaint() -> Value {
    json!({"operation": "inpaint", "prompt": "a red car", "image": png_b64(256, 256),
           "mask": mask_b64(256, 256, (10, 10, 90, 90))})
}

#[tokio::test]
async fn a_slow_model_gets_the_functions_own_504_before_the_gateways() {
    // API Gateway received the request 26 s ago: 3 s are left, less the reserve to answer.
    let app = App::new(config("stability"), SlowModel(Duration::from_secs(20)), dynamodb_accepting_puts());
    let started = Instant::now();
    let resp = app.handle(post_edit_received_ms_ago(&inpaint(), 26_000)).await;
    let elapsed = started.elapsed();
    assert_eq!(status(&resp), 504, "{}", json_body(&resp));
    assert_eq!(json_body(&resp)["error"]["code"], "model_timeout");
    assert!(resp.headers().get("access-control-allow-origin").is_some());
    assert!(elapsed < Duration::from_secs(3), "answered after {elapsed:?}: API Gateway would have answered first");

    // With the whole budget, the same model is waited for.
    let app = App::new(config("stability"), SlowModel(Duration::from_millis(300)), dynamodb_accepting_puts());
    let resp = app.handle(post_edit_received_ms_ago(&inpaint(), 0)).await;
    assert_eq!(status(&resp), 200, "{}", json_body(&resp));
}

#[tokio::test]
async fn a_dynamodb_that_never_answers_does_not_push_the_answer_past_the_deadline() {
    // A DynamoDB endpoint that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-west-2"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("a", "b", None, None, "t"))
        .endpoint_url(format!("http://{addr}"))
        .build();
    let model = FakeModel::ok("stability", 64, 64);
    let app = App::new(config("stability"), model.clone(), aws_sdk_dynamodb::Client::from_conf(conf));
    let started = Instant::now();
    let resp = app.handle(post_edit_received_ms_ago(&inpaint(), 26_000)).await;
    let elapsed = started.elapsed();
    // The request cannot be recorded, so it is not made: a 503 in time, and no model call.
    assert_eq!(status(&resp), 503, "{}", json_body(&resp));
    assert_eq!(model.call_count(), 0);
    assert!(elapsed < Duration::from_secs(3), "answered after {elapsed:?}: API Gateway would have answered first");
    // From a fresh request too: the first write waits at most FIRST_WRITE_LIMIT, not the whole
    // budget the model needs.
    let started = Instant::now();
    let resp = app.handle(post_edit_received_ms_ago(&inpaint(), 0)).await;
    assert_eq!(status(&resp), 503, "{}", json_body(&resp));
    assert!(started.elapsed() < Duration::from_secs(5), "waited {:?} for the first write", started.elapsed());
}
