//! Bedrock failures through the real SDK path (aws-smithy-mocks), and blocked-content answers,
//! → the right status, code, Retry-After and notices.

use crate::common;

use aws_sdk_bedrockruntime::error::ErrorMetadata;
use aws_sdk_bedrockruntime::operation::invoke_model::{InvokeModelError, InvokeModelOutput};
use aws_sdk_bedrockruntime::types::error::{
    AccessDeniedException, InternalServerException, ModelErrorException, ModelNotReadyException, ModelTimeoutException,
    ResourceNotFoundException, ServiceQuotaExceededException, ServiceUnavailableException, ThrottlingException,
    ValidationException,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::Blob;
use common::*;
use image_edit_lambda::App;
use image_edit_lambda::bedrock::{BedrockModel, ModelCallError, client_config};
use serde_json::{Value, json};

const MODEL: &str = "stability.stable-image-inpaint-v1:0";

fn inpaint() -> Value {
    json!({"operation": "inpaint", "prompt": "a red car", "image": png_b64(256, 256),
           "mask": mask_b64(256, 256, (10, 10, 90, 90)), "options": {"seed": 5}})
}

/// A modeled error as the SDK parses it from Bedrock's answer (code and message in the metadata
/// too: the retry classifier reads the code).
fn make(kind: &str, msg: &str) -> InvokeModelError {
    let meta = |code: &str| ErrorMetadata::builder().code(code).message(msg).build();
    match kind {
        "AccessDenied" => InvokeModelError::AccessDeniedException(
            AccessDeniedException::builder().message(msg).meta(meta("AccessDeniedException")).build(),
        ),
        "ResourceNotFound" => InvokeModelError::ResourceNotFoundException(
            ResourceNotFoundException::builder().message(msg).meta(meta("ResourceNotFoundException")).build(),
        ),
        "Validation" => InvokeModelError::ValidationException(
            ValidationException::builder().message(msg).meta(meta("ValidationException")).build(),
        ),
        "Throttling" => InvokeModelError::ThrottlingException(
            ThrottlingException::builder().message(msg).meta(meta("ThrottlingException")).build(),
        ),
        "Quota" => InvokeModelError::ServiceQuotaExceededException(
            ServiceQuotaExceededException::builder().message(msg).meta(meta("ServiceQuotaExceededException")).build(),
        ),
        "ModelTimeout" => InvokeModelError::ModelTimeoutException(
            ModelTimeoutException::builder().message(msg).meta(meta("ModelTimeoutException")).build(),
        ),
        "ModelError" => InvokeModelError::ModelErrorException(
            ModelErrorException::builder().message(msg).meta(meta("ModelErrorException")).build(),
        ),
        "NotReady" => InvokeModelError::ModelNotReadyException(
            ModelNotReadyException::builder().message(msg).meta(meta("ModelNotReadyException")).build(),
        ),
        "Unavailable" => InvokeModelError::ServiceUnavailableException(
            ServiceUnavailableException::builder().message(msg).meta(meta("ServiceUnavailableException")).build(),
        ),
        _ => InvokeModelError::InternalServerException(
            InternalServerException::builder().message(msg).meta(meta("InternalServerException")).build(),
        ),
    }
}

/// (error kind, Bedrock message, status, code, Retry-After, text the message must contain)
type ErrorCase = (&'static str, &'static str, u16, &'static str, Option<&'static str>, &'static str);

const ERROR_CASES: &[ErrorCase] = &[
    (
        "AccessDenied",
        "You don't have access to the model with the specified model ID.",
        503,
        "model_unavailable",
        None,
        "Run `provision up`, which subscribes the account",
    ),
    (
        "ResourceNotFound",
        "This model version has reached the end of its life.",
        503,
        "model_unavailable",
        None,
        "us-west-2",
    ),
    (
        "Validation",
        "This request has been blocked by our content filters.",
        422,
        "content_filtered",
        None,
        "content filter",
    ),
    (
        "Validation",
        "Invocation of model ID stability.x with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model.",
        503,
        "model_unavailable",
        None,
        "inference profile",
    ),
    ("Validation", "Malformed input request: image dimensions", 400, "validation_error", None, "Malformed input"),
    ("Throttling", "Too many requests", 429, "throttled", Some("5"), "try again"),
    ("Quota", "quota", 429, "throttled", Some("5"), "try again"),
    ("ModelTimeout", "timed out", 504, "model_timeout", None, "29 s"),
    ("ModelError", "boom", 502, "model_error", None, "boom"),
    ("NotReady", "warming", 503, "model_not_ready", Some("20"), "ModelNotReadyException"),
    ("Unavailable", "down", 503, "model_unavailable", Some("10"), "temporarily"),
    ("Internal", "oops", 502, "model_error", None, "internal"),
];

/// Every operator instruction names the region it is about.
fn region_of(_code: &str) -> &'static str {
    "us-west-2"
}

#[tokio::test]
async fn sdk_errors_map_to_the_contract() {
    for &(kind, msg, status_code, code, retry_after, message_has) in ERROR_CASES {
        let rule = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(move || make(kind, msg));
        let client = mock_client!(aws_sdk_bedrockruntime, RuleMode::MatchAny, &[&rule], |b| {
            b.retry_config(aws_sdk_bedrockruntime::config::retry::RetryConfig::disabled())
        });
        let app = App::new(config("stability"), BedrockModel::new(client), dynamodb_accepting_puts());
        let resp = app.handle(post_edit(&inpaint())).await;
        let body = json_body(&resp);
        let name = format!("{kind}: {msg}");
        assert_eq!(status(&resp), status_code, "{name}: {body}");
        assert_eq!(body["error"]["code"], code, "{name}");
        // The operator's instructions are `forHost`; the message is for the person editing.
        let said = format!("{} {}", body["error"]["message"], body["error"]["forHost"]);
        assert!(said.contains(message_has), "{name}: {body}");
        if status_code == 503 && retry_after.is_none() {
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("Ask your host") && !message.contains("provision"), "{name}: {body}");
            assert!(body["error"]["forHost"].as_str().is_some_and(|h| h.contains(region_of(code))), "{name}: {body}");
        }
        assert_eq!(resp.headers().get("retry-after").and_then(|v| v.to_str().ok()), retry_after, "{name}");
        assert!(resp.headers().get("access-control-allow-origin").is_some(), "{name}");
    }
}

#[tokio::test]
async fn sdk_success_sends_json_to_the_configured_model() {
    let answer = json!({"seeds": [5], "finish_reasons": [null], "images": [png_b64(256, 256)]}).to_string();
    let rule = mock!(aws_sdk_bedrockruntime::Client::invoke_model)
        .match_requests(|r| {
            r.model_id() == Some(MODEL)
                && r.content_type() == Some("application/json")
                && r.accept() == Some("application/json")
                && r.body()
                    .and_then(|b| serde_json::from_slice::<Value>(b.as_ref()).ok())
                    .is_some_and(|v| v["prompt"] == "a red car" && v["seed"] == 5)
        })
        .then_output(move || {
            InvokeModelOutput::builder()
                .body(Blob::new(answer.clone()))
                .content_type("application/json")
                .build()
                .expect("output")
        });
    let client = mock_client!(aws_sdk_bedrockruntime, RuleMode::MatchAny, &[&rule]);
    let app = App::new(config("stability"), BedrockModel::new(client), dynamodb_accepting_puts());
    let resp = app.handle(post_edit(&inpaint())).await;
    assert_eq!(status(&resp), 200, "{}", json_body(&resp));
    assert_eq!(json_body(&resp)["seeds"], json!([5]));
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn throttling_is_retried_once_then_answered_429() {
    let rule = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(|| make("Throttling", "slow down"));
    // The function's own client settings: 2 attempts at most.
    let client =
        mock_client!(aws_sdk_bedrockruntime, RuleMode::MatchAny, &[&rule], |b| { client_config(b, "us-west-2") });
    let app = App::new(config("stability"), BedrockModel::new(client), dynamodb_accepting_puts());
    let resp = app.handle(post_edit(&inpaint())).await;
    assert_eq!(status(&resp), 429);
    assert_eq!(rule.num_calls(), 2, "InvokeModel is not idempotent: bounded attempts");
}

#[tokio::test]
async fn a_model_error_is_not_retried() {
    let rule = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(|| make("ModelError", "bad"));
    let client =
        mock_client!(aws_sdk_bedrockruntime, RuleMode::MatchAny, &[&rule], |b| { client_config(b, "us-west-2") });
    let app = App::new(config("stability"), BedrockModel::new(client), dynamodb_accepting_puts());
    let resp = app.handle(post_edit(&inpaint())).await;
    assert_eq!(status(&resp), 502);
    assert_eq!(rule.num_calls(), 1);
}

// ---------- blocked or failed answers (HTTP 200 from Bedrock) ----------

async fn answer(family: &'static str, body: Value, answer: Value) -> (u16, Value) {
    let app = app(family, FakeModel::answering(answer));
    let resp = app.handle(post_edit(&body)).await;
    (status(&resp), json_body(&resp))
}

#[tokio::test]
async fn stability_finish_reasons() {
    let gen_ = json!({"operation": "generate", "prompt": "x", "options": {"seed": 3}});
    let (s, body) = answer(
        "stability",
        gen_.clone(),
        json!({"seeds": [3], "finish_reasons": ["Filter reason: output image"], "images": [png_b64(64, 64)]}),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["code"], "content_filtered");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("output image")));

    let (s, body) =
        answer("stability", gen_.clone(), json!({"seeds": [3], "finish_reasons": ["Inference error"], "images": []}))
            .await;
    assert_eq!(s, 502, "{body}");
    assert_eq!(body["error"]["code"], "model_error");

    let (s, body) = answer("stability", gen_, json!({"unexpected": true})).await;
    assert_eq!(s, 502, "{body}");
}

#[tokio::test]
async fn stand_in_flag_passes_through() {
    let (s, body) = answer(
        "stability",
        json!({"operation": "generate", "prompt": "x"}),
        json!({"seeds": [9], "finish_reasons": [null], "images": [png_b64(64, 64)], "standIn": true}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(body["standIn"], true);
    assert_eq!(body["seeds"], json!([9]));
}

#[tokio::test]
async fn network_and_timeouts_map_to_502_and_504() {
    for (err, code) in [
        (ModelCallError::Timeout, 504),
        (ModelCallError::Network("refused".into()), 502),
        (ModelCallError::BadResponse("not json".into()), 502),
    ] {
        let app = app("stability", FakeModel::failing(err.clone()));
        let resp = app.handle(post_edit(&inpaint())).await;
        assert_eq!(status(&resp), code, "{err}");
    }
}
