//! Per-request overhead of the function: a 1024×1024 PNG + mask inpaint, with a model that
//! answers instantly (a 1024×1024 PNG) and a DynamoDB that accepts the write instantly. Everything
//! the Lambda does except waiting for Bedrock and DynamoDB: event parsing, validation, decoding
//! and converting the mask, building and serialising the model request, parsing the model answer,
//! the thumbnail, the record, the response.
//!
//! `cargo bench -p image-edit-lambda --bench overhead` (iterations: `BENCH_ITERS`, default 40).

use std::hint::black_box;
use std::io::Cursor;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use image_edit_lambda::App;
use image_edit_lambda::bedrock::{ImageModel, ModelCallError};
use image_edit_lambda::config::Config;
use image_edit_lambda::event::Event;
use serde_json::{Value, json};

/// Answers instantly, but does what the SDK path does with bodies: serialise the request, parse
/// the answer from bytes.
struct InstantModel {
    answer: Vec<u8>,
}

impl ImageModel for InstantModel {
    async fn invoke(&self, _model_id: &str, body: &Value) -> Result<Value, ModelCallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ModelCallError::Other(e.to_string()))?;
        black_box(bytes);
        serde_json::from_slice(&self.answer).map_err(|e| ModelCallError::BadResponse(e.to_string()))
    }
}

/// A photo-like 1024×1024 PNG: smooth gradients with mild noise (≈ the size of a real photo PNG).
fn photo_png(w: u32, h: u32, salt: u32) -> Vec<u8> {
    let mut state = 0x2545_F491u32 ^ salt;
    let img = RgbImage::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state % 17) as i32 - 8;
        let c = |v: u32| (v as i32 + n).clamp(0, 255) as u8;
        Rgb([c(x * 255 / w), c(y * 255 / h), c((x + y) * 127 / w)])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Png).expect("png");
    out.into_inner()
}

fn mask_png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as i64 - 512, y as i64 - 512);
        if dx * dx + dy * dy < 200 * 200 { Rgb([255, 255, 255]) } else { Rgb([0, 0, 0]) }
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Png).expect("png");
    out.into_inner()
}

fn config(family: &str, ids: &str) -> Config {
    let env = [
        ("TABLE_NAME", "bench-edits".to_owned()),
        ("BEDROCK_REGION", "us-west-2".to_owned()),
        ("MODEL_FAMILY", family.to_owned()),
        ("MODEL_IDS", ids.to_owned()),
        ("ALLOWED_ORIGINS", "https://app.example.com".to_owned()),
        ("QUOTA_IMAGES_PER_USER_PER_DAY", "1000000".to_owned()),
        ("QUOTA_IMAGES_PER_DAY", "1000000".to_owned()),
    ];
    Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).expect("config")
}

fn event(body: &str) -> String {
    json!({
        "resource": "/edits", "path": "/edits", "httpMethod": "POST",
        "headers": {"content-type": "application/json", "origin": "https://app.example.com"},
        "multiValueHeaders": {"content-type": ["application/json"], "origin": ["https://app.example.com"]},
        "queryStringParameters": null, "multiValueQueryStringParameters": null, "pathParameters": null,
        "stageVariables": null,
        "requestContext": {"resourcePath": "/edits", "httpMethod": "POST", "stage": "prod", "requestId": "bench",
                           "identity": {"sourceIp": "127.0.0.1"},
                           "authorizer": {"claims": {"sub": "bench-user"}}},
        "body": body, "isBase64Encoded": false
    })
    .to_string()
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = samples.len();
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / n as f64;
    println!(
        "{name:<34} n={n:<4} min {:>7.2} ms  median {:>7.2} ms  p95 {:>7.2} ms  mean {:>7.2} ms",
        ms(samples[0]),
        ms(samples[n / 2]),
        ms(samples[(n * 95 / 100).min(n - 1)]),
        mean
    );
}

/// Where the time goes: the library's steps, timed one by one (Stability inpaint).
fn phases(input: &[u8], mask: &[u8], output: &str, iters: usize) {
    use image_edit_lambda::images::{self, FitLimits};
    use image_edit_lambda::models::{self, Family, Operation};
    let image_b64 = STANDARD.encode(input);
    let mask_b64 = STANDARD.encode(mask);
    let limits = Family::Stability.limits();
    let fit = FitLimits {
        min_side: limits.min_side,
        max_side: limits.max_side,
        min_pixels: limits.min_pixels,
        max_pixels: limits.max_pixels,
        max_aspect: limits.max_aspect,
    };
    let answer =
        serde_json::to_vec(&json!({"seeds": [42], "finish_reasons": [null], "images": [output]})).expect("answer");
    let body =
        json!({"operation": "inpaint", "prompt": "a red sports car", "image": image_b64, "mask": mask_b64}).to_string();
    let ev = event(&body);
    let mut t = [Duration::ZERO; 9];
    for _ in 0..iters {
        let s = Instant::now();
        black_box(lambda_http::request::from_str(&ev).expect("event"));
        t[6] += s.elapsed();
        let s = Instant::now();
        black_box(serde_json::from_str::<Event>(&ev).expect("event").into_request());
        t[7] += s.elapsed();
        let s = Instant::now();
        black_box(serde_json::from_str::<Value>(&body).expect("body"));
        t[8] += s.elapsed();
        let s = Instant::now();
        let upload = images::decode_upload("image", &image_b64).expect("upload");
        let prepared = images::prepare_image("image", &upload, &fit).expect("image");
        t[0] += s.elapsed();
        let s = Instant::now();
        let m = images::decode_upload("mask", &mask_b64).expect("mask upload");
        let model_mask = images::prepare_mask("mask", &m, &prepared, true, true).expect("mask");
        t[1] += s.elapsed();
        let input = models::EditInput {
            operation: Operation::Inpaint,
            prompt: Some("a red sports car".into()),
            negative_prompt: None,
            mask_prompt: None,
            image: Some(prepared.model.clone()),
            style_image: None,
            mask: Some(model_mask),
            seed: Some(42),
            count: 1,
            strength: None,
            extents: models::Extents::default(),
        };
        let s = Instant::now();
        let body = models::build_request(Family::Stability, "stability.stable-image-inpaint-v1:0", &input);
        black_box(serde_json::to_vec(&body).expect("body"));
        t[2] += s.elapsed();
        let s = Instant::now();
        let v: Value = serde_json::from_slice(&answer).expect("answer");
        let out = models::parse_response(Family::Stability, &input, &v).expect("parsed");
        t[3] += s.elapsed();
        let s = Instant::now();
        black_box(images::output_facts(&out.images));
        t[4] += s.elapsed();
        let s = Instant::now();
        black_box(json!({"images": out.images, "seeds": out.seeds}).to_string());
        t[5] += s.elapsed();
    }
    let names = [
        "decode + check image (pass-through)",
        "decode + threshold + encode mask",
        "build + serialise model request",
        "parse model answer",
        "output size + thumbnail",
        "serialise response",
        "parse the event: lambda_http's way",
        "parse the event: event::Event (used)",
        "parse the body",
    ];
    for (name, d) in names.iter().zip(t) {
        println!("  {name:<36} {:>7.2} ms", d.as_secs_f64() * 1000.0 / iters as f64);
    }
    compare_png_paths(input, output, iters);
}

/// The fast paths (PNG, base64) against what they replace, interleaved in one loop so that the
/// machine's noise falls on both alike (medians).
fn compare_png_paths(input: &[u8], output_b64: &str, iters: usize) {
    use image_edit_lambda::png_stream;
    let output = STANDARD.decode(output_b64).expect("output");
    let mut t: [Vec<Duration>; 6] = Default::default();
    for _ in 0..iters {
        let s = Instant::now();
        black_box(STANDARD.decode(output_b64).expect("decode"));
        t[4].push(s.elapsed());
        let s = Instant::now();
        black_box(base64_simd::STANDARD.decode_to_vec(output_b64).expect("decode"));
        t[5].push(s.elapsed());
        let s = Instant::now();
        black_box(image::load_from_memory_with_format(input, ImageFormat::Png).expect("decode"));
        t[0].push(s.elapsed());
        let s = Instant::now();
        assert_eq!(png_stream::check(input), png_stream::Integrity::Intact);
        t[1].push(s.elapsed());
        let s = Instant::now();
        let img = image::load_from_memory_with_format(&output, ImageFormat::Png).expect("decode");
        black_box(img.thumbnail(128, 128).to_rgb8());
        t[2].push(s.elapsed());
        let s = Instant::now();
        black_box(png_stream::thumbnail(&output, 128).expect("thumbnail"));
        t[3].push(s.elapsed());
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1000.0
    };
    let [a, b, c, d, e, f] = &mut t;
    println!("  pass-through check: full decode {:.2} ms, png_stream::check {:.2} ms (medians)", median(a), median(b));
    println!("  thumbnail: decode + resize {:.2} ms, png_stream::thumbnail {:.2} ms (medians)", median(c), median(d));
    println!("  base64 decode of the output: base64 {:.2} ms, base64-simd {:.2} ms (medians)", median(e), median(f));
}

fn main() {
    // As `bootstrap` does first thing.
    image_edit_lambda::memory::keep_freed_memory();
    let iters: usize = std::env::var("BENCH_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(40);
    // bootstrap's runtime (`#[tokio::main]`: multi-threaded); each request runs on a worker
    // thread, as lambda_http runs the handler there, not on the thread that blocks.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");

    let input = photo_png(1024, 1024, 1);
    let output = STANDARD.encode(photo_png(1024, 1024, 2));
    let mask = mask_png(1024, 1024);
    println!(
        "input PNG {} KB, mask PNG {} KB, model output PNG {} KB (base64)",
        input.len() / 1024,
        mask.len() / 1024,
        output.len() / 1024
    );
    let body = json!({
        "operation": "inpaint", "prompt": "a red sports car",
        "image": format!("data:image/png;base64,{}", STANDARD.encode(&input)),
        "mask": format!("data:image/png;base64,{}", STANDARD.encode(&mask)),
        "options": {"seed": 42}
    })
    .to_string();
    let ev = event(&body);
    println!("event {} KB", ev.len() / 1024);

    let families = [(
        "stability",
        r#"{"inpaint":"stability.stable-image-inpaint-v1:0"}"#,
        json!({"seeds": [42], "finish_reasons": [null], "images": [output]}),
    )];
    for (family, ids, answer) in families {
        let put = mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
        let count = mock!(aws_sdk_dynamodb::Client::update_item)
            .then_output(|| aws_sdk_dynamodb::operation::update_item::UpdateItemOutput::builder().build());
        let dynamodb = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&put, &count]);
        let model = InstantModel { answer: serde_json::to_vec(&answer).expect("answer") };
        let app = std::sync::Arc::new(App::new(config(family, ids), model, dynamodb));
        let mut samples = Vec::with_capacity(iters);
        for i in 0..(iters + 3) {
            let t = Instant::now();
            // As bootstrap reads it (`event::Event`), then as lambda_http's adapter converts it.
            let req = serde_json::from_str::<Event>(&ev).expect("event").into_request();
            let worker = std::sync::Arc::clone(&app);
            let resp = rt.block_on(rt.spawn(async move { worker.handle(req).await })).expect("handler task");
            assert_eq!(resp.status().as_u16(), 200);
            black_box(resp);
            if i >= 3 {
                samples.push(t.elapsed());
            }
        }
        stats(&format!("{family} inpaint 1024x1024 + mask"), samples);
    }
    // Peak over the whole requests (the phases below hold extra copies of their own).
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS {:.1} MB", kib as f64 / 1024.0);
    }
    phases(&input, &mask, &output, iters);
}
