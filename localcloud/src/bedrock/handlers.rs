//! Handlers: the stand-in's routes (InvokeModel, the control plane's foundation-model and
//! inference-profile reads, the test switches and the count of InvokeModel calls).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use image_edit_contract::catalogue;
use serde_json::{Value, json};

use super::errors::{ApiError, VResult, add_request_id, malformed};
use super::models::{KINDS, ModelInfo, find_model, invoke_resources, resolve_invoke};
use super::pictures::{Encoded, render};
use super::stability::validate_stability;
use super::switches::{Block, Fail, Settings};
use super::work::{Answer, Job, request_digest};
use super::{Bedrock, MAX_BODY};

pub(super) async fn invoke(
    State(b): State<Bedrock>,
    Path(model_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    b.invocations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let settings = b.settings();
    let region = region_of(&headers);
    let at = time::OffsetDateTime::now_utc();
    let started = Instant::now();
    // Who calls: the function's role must allow bedrock:InvokeModel on each ARN the call may use.
    if let (Some(iam), Some(resources)) = (&b.iam, invoke_resources(&model_id, &region, crate::iam::ACCOUNT))
        && let Err(refused) = iam.authorize(&headers, &region, "bedrock:InvokeModel", &resources).await
    {
        tracing::info!(model = %model_id, code = refused.code, "bedrock stand-in: InvokeModel not authorized");
        let e = ApiError::new(refused.status, refused.code, refused.message);
        publish(&b, &region, &model_id, at, &Err(&e), started);
        return e.into_response();
    }
    // Over the model's concurrency quota: refused at once, as Bedrock refuses a call over quota.
    let Some(_running) = b.start(&model_id, settings.max_concurrent) else {
        tracing::info!(model = %model_id, "bedrock stand-in: InvokeModel over the concurrency quota");
        let e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        );
        publish(&b, &region, &model_id, at, &Err(&e), started);
        return e.into_response();
    };
    if settings.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(settings.latency_ms)).await;
    }
    let result = invoke_model(&settings, &b.agreements, &model_id, &region, body).await;
    publish(&b, &region, &model_id, at, &result.as_ref().map(|_| ()), started);
    match result {
        Ok(answer) => {
            b.answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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

/// Bedrock's runtime metrics of one InvokeModel call, by `ModelId` (the id as invoked: a model
/// or an inference profile), in the caller's region, at the time of the request ("Monitor
/// bedrock-runtime inference using CloudWatch metrics", Amazon Bedrock User Guide):
/// - a throttled call counts in `InvocationThrottles` only ("Throttled requests and other
///   invocation errors don't count as either Invocations or Errors");
/// - a call accepted for processing counts in `Invocations` — answered, or failed after it was
///   accepted ("This count includes requests that later failed with a client-side or server-side
///   error. It doesn't include throttled requests, or requests that were rejected during input
///   validation") — with its `InvocationLatency`;
/// - a failure counts in `InvocationClientErrors` (a 4XX answer) or `InvocationServerErrors` (5XX).
fn publish(
    b: &Bedrock,
    region: &str,
    model_id: &str,
    at: time::OffsetDateTime,
    result: &Result<(), &ApiError>,
    started: Instant,
) {
    use crate::metrics::Unit;
    let mut samples = Vec::new();
    match result {
        Err(e) if e.kind == "ThrottlingException" => samples.push(("InvocationThrottles", Unit::Count, 1.0)),
        Ok(()) | Err(ApiError { accepted: true, .. }) => {
            samples.push(("Invocations", Unit::Count, 1.0));
            samples.push(("InvocationLatency", Unit::Milliseconds, started.elapsed().as_secs_f64() * 1000.0));
        }
        Err(_) => {}
    }
    if let Err(e) = result
        && e.kind != "ThrottlingException"
    {
        if e.status.is_client_error() {
            samples.push(("InvocationClientErrors", Unit::Count, 1.0));
        } else if e.status.is_server_error() {
            samples.push(("InvocationServerErrors", Unit::Count, 1.0));
        }
    }
    let model = catalogue::strip_arn(model_id).to_owned();
    b.metrics.publish(region, "AWS/Bedrock", at, &[vec![("ModelId", model)]], &samples);
}

async fn invoke_model(
    settings: &Settings,
    agreements: &super::agreements::Agreements,
    model_id: &str,
    region: &str,
    body: Body,
) -> VResult<Vec<u8>> {
    let model = resolve_invoke(model_id, region)?;
    agreements.check_invoke(model.model)?;
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
            let job = validate_stability(kind, &value, &hash)?;
            drop(value);
            // Valid: from here on the request was accepted for processing.
            let images = process(&job, block, fail, block_output).map_err(ApiError::after_acceptance)?;
            tracing::debug!(task = job.task, ms = t0.elapsed().as_millis() as u64, "bedrock stand-in: rendered");
            Ok((job, images))
        })
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException", e.to_string()))?
    };
    let (job, images) = checked?;
    let b64: Vec<String> = images.into_iter().map(|e| e.b64).collect();
    let answer = match job.answer {
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

/// What a model does with a valid request: the content filter on its input, the switched-on
/// failures, then the pictures.
fn process(job: &Job, block: Option<Block>, fail: Option<Fail>, block_output: bool) -> VResult<Vec<Encoded>> {
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
    render(job, block_output)
}

/// The region of the request's SigV4 credential scope (`Credential=AKID/DATE/REGION/...`).
pub(super) fn region_of(headers: &HeaderMap) -> String {
    crate::iam::signing_region(headers)
        .filter(|r| r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or_else(|| "us-east-1".to_owned())
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

pub(super) async fn get_foundation_model(
    State(b): State<Bedrock>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
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

pub(super) async fn list_foundation_models(
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

pub(super) async fn get_inference_profile(Path(id): Path<String>, headers: HeaderMap) -> Response {
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

pub(super) async fn list_inference_profiles(Query(q): Query<HashMap<String, String>>, headers: HeaderMap) -> Response {
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

pub(super) async fn invocations(State(b): State<Bedrock>) -> Response {
    let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
    Json(json!({"count": load(&b.invocations), "answered": load(&b.answered)})).into_response()
}

pub(super) async fn get_config(State(b): State<Bedrock>) -> Response {
    Json(b.settings()).into_response()
}

pub(super) async fn set_config(State(b): State<Bedrock>, body: Bytes) -> Response {
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
             \"fail\": null|\"model_error\"|\"timeout\"|\"not_ready\"|\"access_denied\", \"lifecycle\": {{modelId: status}}, \
             \"maxConcurrent\": u32, \"agreementDelayMs\": u64, \"agreementError\": null|string}}"
        ))
        .into_response(),
    }
}
