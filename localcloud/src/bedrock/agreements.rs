//! Model access agreements: the AWS Marketplace subscription a third-party model (every Stability
//! model) needs in an account before anyone may invoke it, and the control-plane operations that
//! read and make it.
//!
//! As on AWS ("Request access to models", bedrock/latest/userguide/model-access.html): a fresh
//! account has no agreement; `CreateFoundationModelAgreement` with a token from
//! `ListFoundationModelAgreementOffers` starts one, which is `PENDING` for a while and then
//! `AVAILABLE` (AWS: up to 15 minutes; here `agreementDelayMs`, default 0); an agreement can fail
//! (`ERROR`, e.g. no valid payment method for Marketplace purchases: the `agreementError` switch).
//! An InvokeModel of a model without an available agreement is refused with the AccessDenied
//! text AWS sends a caller that cannot subscribe (quoted below). On AWS the first InvokeModel of a
//! caller *with* `aws-marketplace:Subscribe` starts the subscription itself; the stand-in treats
//! every InvokeModel caller as one without that permission — the function's role rightly lacks
//! it, and this stand-in does not evaluate IAM — so only the agreement `provision up` makes lets
//! the function in. Stricter than AWS for other callers, never looser for the product.
//!
//! Shapes: botocore `bedrock/2023-04-20/service-2.json` (GetFoundationModelAvailability
//! `GET /foundation-model-availability/{modelId}`, ListFoundationModelAgreementOffers
//! `GET /list-foundation-model-agreement-offers/{modelId}`, CreateFoundationModelAgreement
//! `POST /create-foundation-model-agreement` → 202, DeleteFoundationModelAgreement
//! `POST /delete-foundation-model-agreement` → 202; statuses `AVAILABLE | PENDING | NOT_AVAILABLE |
//! ERROR`, `AUTHORIZED | NOT_AUTHORIZED`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use image_edit_contract::catalogue;
use serde_json::{Value, json};

use super::Bedrock;
use super::errors::{ApiError, VResult, add_request_id};

/// What Bedrock answers an InvokeModel of a Marketplace model whose subscription the caller could
/// not make (quoted in aws-samples/sample-host-openclaw-on-amazon-bedrock-agentcore#41 and
/// ministryofjustice/modernisation-platform-environments#18323, 2026).
pub const MARKETPLACE_DENIED: &str = "Model access is denied due to IAM user or service role is not authorized to \
perform the required AWS Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable \
access to this model. Refer to the Amazon Bedrock documentation for further details. Your AWS Marketplace \
subscription for this model cannot be completed at this time. If you recently fixed this issue, try again after 2 \
minutes.";

#[derive(Clone, Debug)]
enum Agreement {
    Pending { ready_at: Instant },
    Available,
    Error(String),
}

/// The account's agreements, by foundation-model id.
#[derive(Clone, Default)]
pub(super) struct Agreements(Arc<Mutex<HashMap<String, Agreement>>>);

impl Agreements {
    /// Every Marketplace model of the catalogue already subscribed (for tests of other rules).
    pub(super) fn all_in_place() -> Agreements {
        let a = Agreements::default();
        if let Ok(mut m) = a.0.lock() {
            for model in catalogue::MODELS.iter().filter(|m| m.marketplace) {
                m.insert(model.id.to_owned(), Agreement::Available);
            }
        }
        a
    }

    /// `agreementAvailability.status` (and its error message) of `model`.
    fn status(&self, model: &catalogue::Model) -> (&'static str, Option<String>) {
        if !model.marketplace {
            return ("AVAILABLE", None);
        }
        let Ok(mut m) = self.0.lock() else { return ("ERROR", Some("the stand-in's state is poisoned".into())) };
        let now = Instant::now();
        match m.get(model.id).cloned() {
            None => ("NOT_AVAILABLE", None),
            Some(Agreement::Pending { ready_at }) if now >= ready_at => {
                m.insert(model.id.to_owned(), Agreement::Available);
                ("AVAILABLE", None)
            }
            Some(Agreement::Pending { .. }) => ("PENDING", None),
            Some(Agreement::Available) => ("AVAILABLE", None),
            Some(Agreement::Error(e)) => ("ERROR", Some(e)),
        }
    }

    /// InvokeModel's gate: a Marketplace model is invocable only with an available agreement.
    pub(super) fn check_invoke(&self, model: &catalogue::Model) -> VResult<()> {
        match self.status(model).0 {
            "AVAILABLE" => Ok(()),
            _ => Err(ApiError::new(StatusCode::FORBIDDEN, "AccessDeniedException", MARKETPLACE_DENIED)),
        }
    }
}

/// The foundation model an agreement operation names (a plain catalogue id offered in `region`).
fn model_in(id: &str, region: &str) -> VResult<&'static catalogue::Model> {
    catalogue::model(catalogue::strip_arn(id)).filter(|m| m.regions().contains(&region)).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "Could not resolve the foundation model from the provided model identifier.",
        )
    })
}

fn ok(status: StatusCode, v: Value) -> Response {
    let mut r = (status, Json(v)).into_response();
    add_request_id(&mut r);
    r
}

/// The offer token of a model's public offer (opaque to clients, checked on create).
fn offer_token(model_id: &str) -> String {
    format!("local-offer-token:{model_id}")
}

pub(super) async fn get_availability(State(b): State<Bedrock>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let region = super::handlers::region_of(&headers);
    let m = match model_in(&id, &region) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let (status, error) = b.agreements.status(m);
    let mut agreement = json!({"status": status});
    if let Some(e) = error {
        agreement["errorMessage"] = json!(e);
    }
    ok(
        StatusCode::OK,
        json!({
            "modelId": m.id,
            "agreementAvailability": agreement,
            "authorizationStatus": "AUTHORIZED",
            "entitlementAvailability": if status == "AVAILABLE" { "AVAILABLE" } else { "NOT_AVAILABLE" },
            "regionAvailability": "AVAILABLE",
        }),
    )
}

pub(super) async fn list_offers(
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let region = super::handlers::region_of(&headers);
    let m = match model_in(&id, &region) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    if let Some(t) = q.get("offerType").filter(|t| !matches!(t.as_str(), "ALL" | "PUBLIC")) {
        return ApiError::validation(format!(
            "1 validation error detected: Value '{t}' at 'offerType' failed to satisfy constraint: Member must \
             satisfy enum value set: [ALL, PUBLIC]"
        ))
        .into_response();
    }
    let offers = if m.marketplace {
        vec![json!({
            "offerId": format!("local-offer:{}", m.id),
            "offerToken": offer_token(m.id),
            "termDetails": {
                "usageBasedPricingTerm": {"rateCard": [{
                    "dimension": "images",
                    "price": "see https://aws.amazon.com/bedrock/pricing/",
                    "description": format!("{}: per image generated", m.name),
                    "unit": "Images",
                }]},
                "legalTerm": {"url": "https://aws.amazon.com/marketplace"},
                "supportTerm": {"refundPolicyDescription": "No refunds (the local cloud's stand-in offer)."},
            },
        })]
    } else {
        Vec::new()
    };
    ok(StatusCode::OK, json!({"modelId": m.id, "offers": offers}))
}

pub(super) async fn create_agreement(State(b): State<Bedrock>, headers: HeaderMap, body: Bytes) -> Response {
    let region = super::handlers::region_of(&headers);
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (Some(id), Some(token)) = (req["modelId"].as_str(), req["offerToken"].as_str()) else {
        return ApiError::validation("modelId and offerToken are required").into_response();
    };
    let m = match model_in(id, &region) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    if token != offer_token(m.id) {
        return ApiError::validation("The provided offer token is invalid.").into_response();
    }
    let settings = b.settings();
    let Ok(mut map) = b.agreements.0.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if matches!(map.get(m.id), Some(Agreement::Available | Agreement::Pending { .. })) {
        return ApiError::new(
            StatusCode::CONFLICT,
            "ConflictException",
            format!("An agreement for {} already exists.", m.id),
        )
        .into_response();
    }
    let state = match settings.agreement_error {
        Some(e) => Agreement::Error(e),
        None => Agreement::Pending { ready_at: Instant::now() + Duration::from_millis(settings.agreement_delay_ms) },
    };
    tracing::info!(model = m.id, ?state, "bedrock stand-in: model access agreement created");
    map.insert(m.id.to_owned(), state);
    ok(StatusCode::ACCEPTED, json!({"modelId": m.id}))
}

pub(super) async fn delete_agreement(State(b): State<Bedrock>, headers: HeaderMap, body: Bytes) -> Response {
    let region = super::handlers::region_of(&headers);
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(id) = req["modelId"].as_str() else {
        return ApiError::validation("modelId is required").into_response();
    };
    let m = match model_in(id, &region) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    if let Ok(mut map) = b.agreements.0.lock() {
        map.remove(m.id);
    }
    ok(StatusCode::ACCEPTED, json!({}))
}
