//! Every answer that is not a success: one enum, one mapping to status, code and JSON body.
//!
//! Body: `{"error": {"code": "...", "message": "...", "field": "optional.json.path"}}`.

use lambda_http::http::StatusCode;
use serde_json::{Value, json};

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ApiError {
    /// 400: bad input; the message names the field and the limit.
    #[error("{message}")]
    Validation { message: String, field: Option<String> },
    /// 400: a known operation this stack's model family (or configuration) does not offer.
    #[error("operation `{operation}` is not supported by this stack ({family}); supported: {}", supported.join(", "))]
    UnsupportedOperation { operation: String, family: &'static str, supported: Vec<&'static str> },
    /// 401: no user identity in the event (the Cognito authorizer did not run).
    #[error("{0}")]
    Unauthorized(String),
    /// 404: unknown route, or an edit that is missing or belongs to someone else.
    #[error("{0}")]
    NotFound(String),
    /// 413: body or decoded image above the limit.
    #[error("{message}")]
    PayloadTooLarge { message: String, field: Option<String> },
    /// 422: the model's content filter blocked the input or every output.
    #[error("{0}")]
    ContentFiltered(String),
    /// 429: throttled by Bedrock (or DynamoDB).
    #[error("{message}")]
    Throttled { message: String, retry_after_secs: u32 },
    /// 429: today's images are used up (the user's or the stack's `limits.*`).
    #[error("{message}")]
    QuotaExceeded { message: String, retry_after_secs: u32 },
    /// 502: the model failed.
    #[error("{0}")]
    ModelError(String),
    /// 502: the answer would exceed Lambda's 6 MB response limit even after it was shrunk.
    #[error("{0}")]
    ResponseTooLarge(String),
    /// 409: this Idempotency-Key was used before for the same request: still being made (with
    /// Retry-After), or made already (the message names the edit).
    #[error("{message}")]
    DuplicateRequest { message: String, retry_after_secs: Option<u32> },
    /// 503: model access not enabled, model not in this region, end of life, or Bedrock unavailable.
    /// `message` is for the person editing; `for_host` what the workshop's host can do.
    #[error("{message}")]
    ModelUnavailable { message: String, retry_after_secs: Option<u32>, for_host: Option<String> },
    /// 503: Bedrock is still preparing the model (ModelNotReadyException); nothing was made and the
    /// same request may be sent again after `retry_after_secs`.
    #[error("{message}")]
    ModelNotReady { message: String, retry_after_secs: u32, for_host: Option<String> },
    /// 503: the history store could not record the request, so the model was not called (no
    /// image is made, and billed, without a record).
    #[error("{0}")]
    HistoryUnavailable(String),
    /// 504: the model did not answer within the API Gateway budget.
    #[error("{0}")]
    ModelTimeout(String),
    /// 500: a bug or an unexpected AWS failure. Never for bad input.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// Every `error.code` the function answers with: docs/openapi.yaml's `Error` schema lists each
    /// (lambda/tests/it/openapi.rs), and a test below keeps this list and [`code`](Self::code) in
    /// step with the variants.
    pub const CODES: &'static [&'static str] = &[
        "validation_error",
        "unsupported_operation",
        "unauthorized",
        "not_found",
        "payload_too_large",
        "content_filtered",
        "duplicate_request",
        "throttled",
        "quota_exceeded",
        "model_error",
        "response_too_large",
        "model_unavailable",
        "model_not_ready",
        "history_unavailable",
        "model_timeout",
        "internal_error",
    ];

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation { message: message.into(), field: Some(field.into()) }
    }

    /// A body that cannot fit in Lambda's event with its envelope (`config::MAX_BODY_BYTES`).
    pub fn body_too_large(len: usize) -> Self {
        use crate::config::{MAX_BODY_BYTES, MAX_EVENT_BYTES};
        ApiError::PayloadTooLarge {
            message: format!(
                "the request body is {len} bytes; at most {MAX_BODY_BYTES} bytes fit in Lambda's {MAX_EVENT_BYTES}-byte \
                 request with the rest of the request; send smaller images"
            ),
            field: None,
        }
    }

    pub fn too_large(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::PayloadTooLarge { message: message.into(), field: Some(field.into()) }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation { .. } | ApiError::UnsupportedOperation { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::ContentFiltered(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::DuplicateRequest { .. } => StatusCode::CONFLICT,
            ApiError::Throttled { .. } | ApiError::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::ModelError(_) | ApiError::ResponseTooLarge(_) => StatusCode::BAD_GATEWAY,
            ApiError::ModelUnavailable { .. } | ApiError::ModelNotReady { .. } | ApiError::HistoryUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::ModelTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code of the contract.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation { .. } => "validation_error",
            ApiError::UnsupportedOperation { .. } => "unsupported_operation",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::NotFound(_) => "not_found",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::ContentFiltered(_) => "content_filtered",
            ApiError::DuplicateRequest { .. } => "duplicate_request",
            ApiError::Throttled { .. } => "throttled",
            ApiError::QuotaExceeded { .. } => "quota_exceeded",
            ApiError::ModelError(_) => "model_error",
            ApiError::ResponseTooLarge(_) => "response_too_large",
            ApiError::ModelUnavailable { .. } => "model_unavailable",
            ApiError::ModelNotReady { .. } => "model_not_ready",
            ApiError::HistoryUnavailable(_) => "history_unavailable",
            ApiError::ModelTimeout(_) => "model_timeout",
            ApiError::Internal(_) => "internal_error",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Validation { field, .. } | ApiError::PayloadTooLarge { field, .. } => field.as_deref(),
            ApiError::UnsupportedOperation { .. } => Some("operation"),
            _ => None,
        }
    }

    pub fn retry_after_secs(&self) -> Option<u32> {
        match self {
            ApiError::Throttled { retry_after_secs, .. } | ApiError::QuotaExceeded { retry_after_secs, .. } => {
                Some(*retry_after_secs)
            }
            ApiError::ModelUnavailable { retry_after_secs, .. }
            | ApiError::DuplicateRequest { retry_after_secs, .. } => *retry_after_secs,
            ApiError::ModelNotReady { retry_after_secs, .. } => Some(*retry_after_secs),
            ApiError::HistoryUnavailable(_) => Some(1),
            _ => None,
        }
    }

    /// What the workshop's host (the stack's operator) can do about it: the app shows it behind a
    /// "for the host" disclosure, never in the message itself.
    pub fn for_host(&self) -> Option<&str> {
        match self {
            ApiError::ModelUnavailable { for_host, .. } | ApiError::ModelNotReady { for_host, .. } => {
                for_host.as_deref()
            }
            _ => None,
        }
    }

    /// Record status of a failed model request.
    pub fn is_blocked(&self) -> bool {
        matches!(self, ApiError::ContentFiltered(_))
    }

    /// The REST API's error body.
    pub fn body(&self) -> Value {
        let mut error = json!({ "code": self.code(), "message": self.to_string() });
        if let Some(field) = self.field() {
            error["field"] = Value::String(field.to_owned());
        }
        if let Some(for_host) = self.for_host() {
            error["forHost"] = Value::String(for_host.to_owned());
        }
        json!({ "error": error })
    }
}

#[cfg(test)]
mod tests {

    /// One of each variant, through an exhaustive match: a new variant does not compile here
    /// until it is listed, and then must have its code in `ApiError::CODES`.
    #[test]
    fn every_variant_has_its_code_listed() {
        let s = String::new;
        let every = [
            ApiError::Validation { message: s(), field: None },
            ApiError::UnsupportedOperation { operation: s(), family: "", supported: vec![] },
            ApiError::Unauthorized(s()),
            ApiError::NotFound(s()),
            ApiError::PayloadTooLarge { message: s(), field: None },
            ApiError::ContentFiltered(s()),
            ApiError::Throttled { message: s(), retry_after_secs: 1 },
            ApiError::QuotaExceeded { message: s(), retry_after_secs: 1 },
            ApiError::ModelError(s()),
            ApiError::ResponseTooLarge(s()),
            ApiError::DuplicateRequest { message: s(), retry_after_secs: None },
            ApiError::ModelUnavailable { message: s(), retry_after_secs: None, for_host: None },
            ApiError::ModelNotReady { message: s(), retry_after_secs: 1, for_host: None },
            ApiError::HistoryUnavailable(s()),
            ApiError::ModelTimeout(s()),
            ApiError::Internal(s()),
        ];
        for e in &every {
            match e {
                ApiError::Validation { .. }
                | ApiError::UnsupportedOperation { .. }
                | ApiError::Unauthorized(_)
                | ApiError::NotFound(_)
                | ApiError::PayloadTooLarge { .. }
                | ApiError::ContentFiltered(_)
                | ApiError::Throttled { .. }
                | ApiError::QuotaExceeded { .. }
                | ApiError::ModelError(_)
                | ApiError::ResponseTooLarge(_)
                | ApiError::DuplicateRequest { .. }
                | ApiError::ModelUnavailable { .. }
                | ApiError::ModelNotReady { .. }
                | ApiError::HistoryUnavailable(_)
                | ApiError::ModelTimeout(_)
                | ApiError::Internal(_) => assert!(ApiError::CODES.contains(&e.code()), "{}", e.code()),
            }
        }
        let codes: std::collections::BTreeSet<&str> = every.iter().map(ApiError::code).collect();
        assert_eq!(codes.len(), ApiError::CODES.len(), "one code per variant, each listed once");
    }

    use super::*;

    #[test]
    fn body_names_the_field() {
        let e = ApiError::validation("options.seed", "options.seed must be >= 0");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            e.body(),
            json!({"error": {"code": "validation_error", "message": "options.seed must be >= 0", "field": "options.seed"}})
        );
        let e = ApiError::UnsupportedOperation {
            operation: "erase".into(),
            family: "titan",
            supported: vec!["inpaint", "outpaint"],
        };
        assert_eq!(
            e.body()["error"]["message"],
            "operation `erase` is not supported by this stack (titan); supported: inpaint, outpaint"
        );
    }
}
