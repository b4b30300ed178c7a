//! Bad inputs → the right status, code and field, without calling the model, with CORS headers.

use crate::common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use serde_json::{Value, json};

const W: u32 = 256;
const H: u32 = 256;

fn img() -> String {
    png_b64(W, H)
}

fn mask() -> String {
    mask_b64(W, H, (64, 64, 128, 128))
}

/// A PNG whose header claims `w`×`h` (valid signature, IHDR with a correct CRC, no pixel data).
fn png_header_only(w: u32, h: u32) -> String {
    png_header(w, h, 8, 2)
}

/// The same, with a bit depth and PNG colour type (6 = RGBA).
fn png_header(w: u32, h: u32, depth: u8, color: u8) -> String {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[depth, color, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    STANDARD.encode(png)
}

struct Case {
    name: &'static str,
    family: &'static str,
    body: String,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
    message_has: &'static str,
}

fn case(
    name: &'static str,
    family: &'static str,
    body: Value,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
    message_has: &'static str,
) -> Case {
    Case { name, family, body: body.to_string(), status, code, field, message_has }
}

fn cases() -> Vec<Case> {
    let long = "x".repeat(10_001);
    let mut v = vec![
        Case {
            name: "malformed JSON",
            family: "stability",
            body: "{\"operation\": ".into(),
            status: 400,
            code: "validation_error",
            field: None,
            message_has: "not valid JSON",
        },
        Case {
            name: "empty body",
            family: "stability",
            body: String::new(),
            status: 400,
            code: "validation_error",
            field: None,
            message_has: "empty",
        },
        case("not an object", "stability", json!([1, 2]), 400, "validation_error", None, "JSON object"),
        case(
            "missing operation",
            "stability",
            json!({"image": img()}),
            400,
            "validation_error",
            Some("operation"),
            "required",
        ),
        case(
            "unknown operation",
            "stability",
            json!({"operation": "teleport", "image": img()}),
            400,
            "validation_error",
            Some("operation"),
            "teleport",
        ),
        case(
            "an upscaler that does not exist",
            "stability",
            json!({"operation": "upscale", "image": img(), "options": {"upscaler": "huge"}}),
            400,
            "validation_error",
            Some("options.upscaler"),
            "must be one of fast, conservative, creative for upscale",
        ),
        case(
            "a generator that is not a string",
            "stability",
            json!({"operation": "generate", "prompt": "x", "options": {"generator": 3}}),
            400,
            "validation_error",
            Some("options.generator"),
            "must be a string",
        ),
        case(
            "style transfer without its style image",
            "stability",
            json!({"operation": "style-transfer", "image": img()}),
            400,
            "validation_error",
            Some("styleImage"),
            "styleImage is required for style-transfer",
        ),
        case(
            "a style image that is not an image",
            "stability",
            json!({"operation": "style-transfer", "image": img(), "styleImage": "bm90IGFuIGltYWdl"}),
            400,
            "validation_error",
            Some("styleImage"),
            "styleImage",
        ),
        case(
            "conservative upscale's creativity below its range",
            "stability",
            json!({"operation": "upscale", "prompt": "x", "image": img(), "options": {"upscaler": "conservative", "strength": 0.1}}),
            400,
            "validation_error",
            Some("options.strength"),
            "from 0.2 to 0.5",
        ),
        case(
            "sketch without a prompt",
            "stability",
            json!({"operation": "sketch", "image": img()}),
            400,
            "validation_error",
            Some("prompt"),
            "required",
        ),
        case(
            "missing image",
            "stability",
            json!({"operation": "inpaint", "prompt": "x", "mask": mask()}),
            400,
            "validation_error",
            Some("image"),
            "required",
        ),
        case(
            "image not a string",
            "stability",
            json!({"operation": "inpaint", "prompt": "x", "image": 5, "mask": mask()}),
            400,
            "validation_error",
            Some("image"),
            "base64",
        ),
        case(
            "bad base64",
            "stability",
            json!({"operation": "erase", "image": "!!!not base64!!!", "mask": mask()}),
            400,
            "validation_error",
            Some("image"),
            "not valid base64",
        ),
        case(
            "data URL not base64",
            "stability",
            json!({"operation": "erase", "image": "data:image/png,abc", "mask": mask()}),
            400,
            "validation_error",
            Some("image"),
            "base64 data URL",
        ),
        case(
            "not an image",
            "stability",
            json!({"operation": "erase", "image": STANDARD.encode("just some text, not pixels"), "mask": mask()}),
            400,
            "validation_error",
            Some("image"),
            "PNG or JPEG",
        ),
        case(
            "webp",
            "stability",
            json!({"operation": "remove-background", "image": STANDARD.encode(b"RIFF\x00\x00\x00\x00WEBPVP8 ")}),
            400,
            "validation_error",
            Some("image"),
            "WebP",
        ),
        case(
            "truncated png",
            "stability",
            json!({"operation": "remove-background", "image": STANDARD.encode(&STANDARD.decode(img()).unwrap_or_default()[..40])}),
            400,
            "validation_error",
            Some("image"),
            "not a valid PNG",
        ),
        case(
            "huge image (bytes)",
            "stability",
            json!({"operation": "remove-background", "image": STANDARD.encode([b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0u8; 4_600_000]].concat())}),
            413,
            "payload_too_large",
            Some("image"),
            "4500000",
        ),
        case(
            "huge image (pixels)",
            "stability",
            json!({"operation": "remove-background", "image": png_header_only(20_000, 20_000)}),
            413,
            "payload_too_large",
            Some("image"),
            "megapixels",
        ),
        case(
            "mask size mismatch",
            "stability",
            json!({"operation": "erase", "image": img(), "mask": mask_b64(128, 128, (0, 0, 64, 64))}),
            400,
            "validation_error",
            Some("mask"),
            "same size",
        ),
        case(
            "grey mask",
            "stability",
            json!({"operation": "erase", "image": img(), "mask": grey_b64(W, H)}),
            400,
            "validation_error",
            Some("mask"),
            "black and white",
        ),
        case(
            "empty mask",
            "stability",
            json!({"operation": "erase", "image": img(), "mask": mask_b64(W, H, (0, 0, 0, 0))}),
            400,
            "validation_error",
            Some("mask"),
            "selects nothing",
        ),
        case(
            "mask missing",
            "stability",
            json!({"operation": "erase", "image": img()}),
            400,
            "validation_error",
            Some("mask"),
            "required",
        ),
        case(
            "prompt too long (10,000)",
            "stability",
            json!({"operation": "generate", "prompt": long}),
            400,
            "validation_error",
            Some("prompt"),
            "10000",
        ),
        case(
            "negative prompt too long",
            "stability",
            json!({"operation": "generate", "prompt": "a", "negativePrompt": long}),
            400,
            "validation_error",
            Some("negativePrompt"),
            "10000",
        ),
        case(
            "an option of the retired families",
            "stability",
            json!({"operation": "generate", "prompt": "a", "options": {"quality": "premium"}}),
            400,
            "validation_error",
            Some("options.quality"),
            "known: seed, count, strength, extents",
        ),
        case(
            "prompt not a string",
            "stability",
            json!({"operation": "generate", "prompt": ["a"]}),
            400,
            "validation_error",
            Some("prompt"),
            "string",
        ),
        case(
            "generate without prompt",
            "stability",
            json!({"operation": "generate"}),
            400,
            "validation_error",
            Some("prompt"),
            "required",
        ),
        case(
            "replace without maskPrompt",
            "stability",
            json!({"operation": "replace", "prompt": "a dog", "image": img()}),
            400,
            "validation_error",
            Some("maskPrompt"),
            "required",
        ),
        case(
            "negative seed",
            "stability",
            json!({"operation": "erase", "image": img(), "mask": mask(), "options": {"seed": -1}}),
            400,
            "validation_error",
            Some("options.seed"),
            "0 to 4294967294",
        ),
        case(
            "fractional seed",
            "stability",
            json!({"operation": "generate", "prompt": "a", "options": {"seed": 1.5}}),
            400,
            "validation_error",
            Some("options.seed"),
            "integer",
        ),
        case(
            "count 2 on stability",
            "stability",
            json!({"operation": "generate", "prompt": "a", "options": {"count": 2}}),
            400,
            "validation_error",
            Some("options.count"),
            "1 to 1",
        ),
        case(
            "strength out of range",
            "stability",
            json!({"operation": "outpaint", "image": img(), "options": {"strength": 2, "extents": {"left": 64}}}),
            400,
            "validation_error",
            Some("options.strength"),
            "0 to 1",
        ),
        case(
            "options not an object",
            "stability",
            json!({"operation": "generate", "prompt": "a", "options": 3}),
            400,
            "validation_error",
            Some("options"),
            "object",
        ),
        case(
            "stability outpaint without extents",
            "stability",
            json!({"operation": "outpaint", "image": img()}),
            400,
            "validation_error",
            Some("options.extents"),
            "required",
        ),
        case(
            "extents too large",
            "stability",
            json!({"operation": "outpaint", "image": img(), "options": {"extents": {"right": 3000}}}),
            400,
            "validation_error",
            Some("options.extents.right"),
            "0 to 2000",
        ),
        case(
            "extents all zero",
            "stability",
            json!({"operation": "outpaint", "image": img(), "options": {"extents": {"left": 0}}}),
            400,
            "validation_error",
            Some("options.extents"),
            "at least one",
        ),
        case(
            "aspect ratio beyond the family limit",
            "stability",
            json!({"operation": "remove-background", "image": png_b64(900, 300)}),
            400,
            "validation_error",
            Some("image"),
            "2.5:1",
        ),
    ];
    // Hostile input: unknown keys are refused by name (nothing unvalidated is ever stored).
    v.push(case(
        "unknown top-level key",
        "stability",
        json!({"operation": "erase", "image": img(), "mask": mask(), "colour": "red"}),
        400,
        "validation_error",
        Some("colour"),
        "known: operation",
    ));
    v.push(case(
        "unknown option (an empty key)",
        "stability",
        json!({"operation": "erase", "image": img(), "mask": mask(), "options": {"": 1}}),
        400,
        "validation_error",
        Some("options."),
        "known: seed",
    ));
    v.push(case(
        "a seed of 1e300",
        "stability",
        json!({"operation": "erase", "image": img(), "mask": mask(), "options": {"seed": 1e300}}),
        400,
        "validation_error",
        Some("options.seed"),
        "integer from 0",
    ));
    v.push(case(
        "a 500 KB option value under an unknown key",
        "stability",
        json!({"operation": "erase", "image": img(), "mask": mask(), "options": {"note": "x".repeat(500_000)}}),
        400,
        "validation_error",
        Some("options.note"),
        "not a field",
    ));
    v.push(case(
        "an option nested 100 deep",
        "stability",
        json!({"operation": "erase", "image": img(), "mask": mask(), "options": {"deep": nested(100)}}),
        400,
        "validation_error",
        Some("options.deep"),
        "not a field",
    ));
    v.push(case(
        "a 16-bit RGBA image too large to decode (header only: refused before decoding)",
        "stability",
        json!({"operation": "remove-background", "image": png_header(4000, 4000, 16, 6)}),
        413,
        "payload_too_large",
        Some("image"),
        "MB to decode",
    ));
    // A real PNG cut at 60 %: a valid header, so only a complete decode finds it.
    let whole = STANDARD.decode(img()).expect("b64");
    let cut = STANDARD.encode(&whole[..whole.len() * 6 / 10]);
    v.push(case(
        "a truncated PNG",
        "stability",
        json!({"operation": "remove-background", "image": cut}),
        400,
        "validation_error",
        Some("image"),
        "could not be decoded",
    ));
    // A body over Lambda's 6 MB limit.
    v.push(Case {
        name: "body over 6 MB",
        family: "stability",
        body: json!({"operation": "erase", "image": "A".repeat(6_400_000)}).to_string(),
        status: 413,
        code: "payload_too_large",
        field: None,
        message_has: "6291456",
    });
    v
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(json!(1), |v, _| json!([v]))
}

#[tokio::test]
async fn every_bad_input_gets_the_right_answer() {
    let mut failures = Vec::new();
    for c in cases() {
        let model = FakeModel::ok(c.family, W, H);
        let app = app(c.family, model.clone());
        let resp = app.handle(event("POST", "/edits", "/edits", Some(&c.body), Some("user-a"))).await;
        let body = json_body(&resp);
        let err = &body["error"];
        let ok = status(&resp) == c.status
            && err["code"] == c.code
            && err.get("field").and_then(Value::as_str) == c.field
            && err["message"].as_str().is_some_and(|m| m.contains(c.message_has))
            && model.call_count() == 0
            && resp.headers().get("access-control-allow-origin").is_some_and(|o| o == ORIGIN)
            && resp.headers().get("content-type").is_some_and(|t| t == "application/json");
        if !ok {
            failures.push(format!("{}: got {} {}", c.name, status(&resp), body));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[tokio::test]
async fn no_identity_is_401_and_the_body_never_names_the_user() {
    let model = FakeModel::ok("stability", W, H);
    let app = app("stability", model.clone());
    let body = json!({"operation": "generate", "prompt": "a", "userId": "someone-else"}).to_string();
    let resp = app.handle(event("POST", "/edits", "/edits", Some(&body), None)).await;
    assert_eq!(status(&resp), 401);
    assert_eq!(json_body(&resp)["error"]["code"], "unauthorized");
    assert_eq!(model.call_count(), 0);
}

#[tokio::test]
async fn unknown_routes_and_bad_queries() {
    let app = app("stability", FakeModel::ok("stability", W, H));
    let resp = app.handle(event("GET", "/nothing", "/nothing", None, Some("user-a"))).await;
    assert_eq!(status(&resp), 404);
    assert_eq!(json_body(&resp)["error"]["code"], "not_found");

    for limit in ["0", "51", "abc", "-3"] {
        let resp =
            app.handle(event_with_query("GET", "/edits", "/edits", None, Some("user-a"), &[("limit", limit)])).await;
        assert_eq!(status(&resp), 400, "limit={limit}");
        assert_eq!(json_body(&resp)["error"]["field"], "limit");
    }
    let resp =
        app.handle(event_with_query("GET", "/edits", "/edits", None, Some("user-a"), &[("cursor", "garbage")])).await;
    assert_eq!(status(&resp), 400);
    assert_eq!(json_body(&resp)["error"]["field"], "cursor");
    // Not an edit id: nothing to find (no store call needed).
    let resp = app.handle(event("GET", "/edits/{id}", "/edits/not-an-id", None, Some("user-a"))).await;
    assert_eq!(status(&resp), 404);
    let resp = app.handle(event("DELETE", "/edits/{id}", "/edits/not-an-id", None, Some("user-a"))).await;
    assert_eq!(status(&resp), 404);
}

#[tokio::test]
async fn seed_contract_errors_keep_the_seed_shape() {
    let app = app("stability", FakeModel::ok("stability", W, H));
    for (body, field_hint) in [
        ("{broken".to_owned(), "not valid JSON"),
        (
            json!({"prompt": {"text": "x", "mode": "SUPER-RES"}, "mask": mask(), "base_image": img()}).to_string(),
            "SUPER-RES",
        ),
        (json!({"prompt": "just a string", "base_image": img()}).to_string(), "prompt must be an object"),
        (
            json!({"prompt": {"text": "x", "mode": "INPAINTING"}, "mask": mask(), "base_image": "%%%"}).to_string(),
            "base_image",
        ),
    ] {
        let resp = app.handle(event("POST", "/", "/", Some(&body), Some("user-a"))).await;
        assert_eq!(status(&resp), 400, "{body:.80}");
        let v = json_body(&resp);
        assert!(v["error"].as_str().is_some_and(|m| m.contains(field_hint)), "{v}");
        // The id of the request's log line (here API Gateway's: the test event has no Lambda context).
        assert_eq!(v["request_id"], "apigw-req-1", "{v}");
        assert!(resp.headers().get("access-control-allow-origin").is_some());
    }
}

#[tokio::test]
async fn cors_only_for_configured_origins_and_preflight() {
    let app = app("stability", FakeModel::ok("stability", W, H));
    let resp = app.handle(event("GET", "/capabilities", "/capabilities", None, Some("user-a"))).await;
    assert_eq!(resp.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(resp.headers()["access-control-allow-headers"], image_edit_lambda::cors::ALLOW_HEADERS);
    assert_eq!(resp.headers()["access-control-allow-methods"], "GET,POST,DELETE,OPTIONS");
    assert_eq!(resp.headers()["vary"], "Origin");

    let mut req = event("GET", "/capabilities", "/capabilities", None, Some("user-a"));
    req.headers_mut().insert("origin", "https://evil.example".parse().unwrap_or_else(|_| unreachable!()));
    let resp = app.handle(req).await;
    assert!(resp.headers().get("access-control-allow-origin").is_none());

    let resp = app.handle(event("OPTIONS", "/edits", "/edits", None, None)).await;
    assert_eq!(status(&resp), 204);
    assert_eq!(resp.headers()["access-control-allow-origin"], ORIGIN);
}

/// Text an operation does not use is ignored with a notice, whatever its length.
#[tokio::test]
async fn unused_text_is_ignored_whatever_its_length() {
    let model = FakeModel::ok("stability", 1024, 1024);
    let app = app("stability", model.clone());
    let body = json!({"operation": "generate", "prompt": "a lighthouse", "maskPrompt": "x".repeat(20_000)});
    let resp = app.handle(post_edit(&body)).await;
    assert_eq!(status(&resp), 200, "{}", json_body(&resp));
    let notices = json_body(&resp)["notices"].to_string();
    assert!(notices.contains("maskPrompt is not used by generate"), "{notices}");
}

/// No model call without a record: DynamoDB failing the first PutItem (a state no emulator
/// produces on demand: an InternalServerError from the service) means a 503 and no model call.
#[tokio::test]
async fn no_record_no_model_call() {
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::InternalServerError;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .then_error(|| PutItemError::InternalServerError(InternalServerError::builder().message("boom").build()));
    let count = mock!(aws_sdk_dynamodb::Client::update_item)
        .then_output(|| aws_sdk_dynamodb::operation::update_item::UpdateItemOutput::builder().build());
    let failing = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&put, &count]);
    let model = FakeModel::ok("stability", W, H);
    let app = image_edit_lambda::App::new(config("stability"), model.clone(), failing);
    let resp = app.handle(post_edit(&json!({"operation": "erase", "image": img(), "mask": mask()}))).await;
    assert_eq!(status(&resp), 503, "{}", json_body(&resp));
    assert_eq!(json_body(&resp)["error"]["code"], "history_unavailable");
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(model.call_count(), 0, "the model was called without a record");
}
