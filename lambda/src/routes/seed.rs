//! `POST /` — the seed app's contract, unchanged, so its own frontend works against this API:
//! `{prompt: {text, mode}, mask, base_image, model?}` →
//! `{images, model_used, request_id, generation_time_ms}`; errors `{error, request_id}`.
//!
//! The seed's UI paints BLACK on white. For INPAINTING black is the area to change; for
//! OUTPAINTING black is the area to keep and everything else is redrawn, which on the Stability
//! services is inpainting of the unmasked area; `precise-outpaint` (the seed sent it as a task
//! type) is the same. Inpainting without text becomes erase (when the stack has it). One image per
//! request: the Stability services make one.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde_json::{Value, json};

use super::edits;
use super::{App, Ctx, Outcome, json_response};
use crate::bedrock::ImageModel;
use crate::config::MAX_BODY_BYTES;
use crate::edit_request::{EditOptions, EditRequest, MaskConvention};
use crate::errors::ApiError;
use crate::models::Operation;
use crate::record::Source;
use crate::sent::Sent;

pub(super) async fn create<M: ImageModel>(
    app: &App<M>,
    ctx: &Ctx,
    body: &[u8],
    outcome: &mut Outcome,
) -> Response<Body> {
    let request_id = ctx.request_id.clone();
    match inner(app, ctx, body, outcome).await {
        Ok((images, model_used, generation_time_ms)) => json_response(
            StatusCode::OK,
            &json!({
                "images": images,
                "model_used": model_used,
                "request_id": request_id,
                "generation_time_ms": generation_time_ms,
            }),
        ),
        Err(e) => {
            outcome.error_code = Some(e.code());
            let mut resp = json_response(e.status(), &json!({"error": e.to_string(), "request_id": request_id}));
            if let Some(secs) = e.retry_after_secs() {
                resp.headers_mut().insert("retry-after", HeaderValue::from(secs));
            }
            resp
        }
    }
}

async fn inner<M: ImageModel>(
    app: &App<M>,
    ctx: &Ctx,
    body: &[u8],
    outcome: &mut Outcome,
) -> Result<(Vec<String>, String, u64), ApiError> {
    let user = ctx.require_user()?;
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::body_too_large(body.len()));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| ApiError::Validation {
        message: format!("the request body is not valid JSON ({e})"),
        field: None,
    })?;
    // Owned, so that the images move into the request rather than being copied.
    let Value::Object(mut obj) = value else {
        return Err(ApiError::Validation { message: "the request body must be a JSON object".to_owned(), field: None });
    };
    let prompt = obj
        .get("prompt")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::validation("prompt", "prompt must be an object {text, mode}"))?;
    let text = match prompt.get("text") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(_) => {
            return Err(ApiError::validation("prompt.text", "prompt.text must be a string"));
        }
    };
    let mode = prompt.get("mode").and_then(Value::as_str).unwrap_or_default();
    let has = |op: Operation| app.config.model_for(op).is_some();
    let (operation, convention) = match mode.to_ascii_uppercase().as_str() {
        "INPAINTING" if text.is_empty() && has(Operation::Erase) => (Operation::Erase, MaskConvention::BlackChanges),
        "INPAINTING" => (Operation::Inpaint, MaskConvention::BlackChanges),
        "OUTPAINTING" | "PRECISE-OUTPAINT" => (Operation::Inpaint, MaskConvention::WhiteChanges),
        _ => {
            return Err(ApiError::validation(
                "prompt.mode",
                format!("prompt.mode `{mode}` is not one of INPAINTING, OUTPAINTING, precise-outpaint"),
            ));
        }
    };
    // Absent or null is not given; any other value is checked (and named) like POST /edits's.
    let mut given = |key: &str| obj.remove(key).filter(|v| !v.is_null()).map(Sent::from_value);
    let request = EditRequest {
        operation: Some(Sent::Valid(operation.as_str().to_owned())),
        prompt: (!text.is_empty()).then_some(Sent::Valid(text)),
        image: given("base_image"),
        mask: given("mask"),
        // One image per request, as the seed app expects.
        options: Some(Sent::Valid(EditOptions { count: Some(Sent::Valid(1.into())), ..EditOptions::default() })),
        ..EditRequest::default()
    };
    let plan = request.validate(&app.config, convention).map_err(|e| match e {
        ApiError::Validation { message, field } if field.as_deref() == Some("image") => ApiError::Validation {
            message: message.replacen("image", "base_image", 1),
            field: Some("base_image".to_owned()),
        },
        other => other,
    })?;
    let model = plan.model_id.clone();
    let r = edits::run(app, ctx, user, plan, crate::records::new_edit_id(), Source::Seed, outcome).await?;
    Ok((r.images, model, r.model_ms))
}
