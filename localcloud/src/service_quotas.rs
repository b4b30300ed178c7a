//! Service Quotas, as far as `provision up`/`doctor` read it: `ListServiceQuotas` for Amazon
//! Bedrock. moto does not implement the operation (NotImplementedError, moto 5.2.6), and its 500
//! would be retried for minutes by the provisioner's clients, so the stand-ins answer it.
//!
//! The answer is honest about the local cloud: its Bedrock has no per-minute token quotas (it
//! throttles on concurrency, `POST /_localcloud/bedrock/config {"maxConcurrent": N}`), so it lists
//! no Bedrock quota, and the provisioner says "Service Quotas lists no quota for it". On AWS the
//! list holds each model's "… InvokeModel tokens per minute for ${model}" rows
//! (bedrock/latest/userguide/quotas-runtime.html).
//!
//! Sources: botocore `service-quotas/2019-06-24/service-2.json` (JSON 1.1, target prefix
//! `ServiceQuotasV20190624`, `ServiceCode` required, `NoSuchResourceException` for an unknown
//! service).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// `X-Amz-Target` of every Service Quotas operation.
pub const TARGET_PREFIX: &str = "ServiceQuotasV20190624.";

/// The service codes the stand-in knows (it lists quotas of none of them; see the module doc).
const SERVICES: &[&str] = &["bedrock"];

fn error(code: &str, message: &str) -> Response {
    let body = json!({"__type": code, "message": message});
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/x-amz-json-1.1")], body.to_string()).into_response()
}

/// Answers one Service Quotas operation.
pub fn answer(target: &str, body: &[u8]) -> Response {
    let op = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
    if op != "ListServiceQuotas" {
        return error("UnknownOperationException", &format!("the local cloud does not serve Service Quotas' {op}"));
    }
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return error("IllegalArgumentException", "the request body is not JSON");
    };
    let Some(code) = req.get("ServiceCode").and_then(Value::as_str) else {
        return error("IllegalArgumentException", "ServiceCode is required");
    };
    if !SERVICES.contains(&code) {
        return error(
            "NoSuchResourceException",
            &format!("The request failed because the specified service {code} does not exist."),
        );
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/x-amz-json-1.1")], json!({"Quotas": []}).to_string())
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_no_bedrock_quota_and_refuses_the_rest() {
        assert_eq!(answer("ServiceQuotasV20190624.ListServiceQuotas", br#"{"ServiceCode":"bedrock"}"#).status(), 200);
        assert_eq!(answer("ServiceQuotasV20190624.ListServiceQuotas", br#"{"ServiceCode":"nope"}"#).status(), 400);
        assert_eq!(answer("ServiceQuotasV20190624.ListServiceQuotas", b"{}").status(), 400);
        assert_eq!(answer("ServiceQuotasV20190624.RequestServiceQuotaIncrease", b"{}").status(), 400);
    }
}
