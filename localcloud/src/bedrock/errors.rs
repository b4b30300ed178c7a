//! Errors: Bedrock's error answers (the status, `x-amzn-errortype`, `{"message": ...}`) and its
//! wording for a request body that breaks the schema.

use std::fmt::Display;

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug)]
pub(super) struct ApiError {
    pub(super) status: StatusCode,
    pub(super) kind: &'static str,
    pub(super) message: String,
    /// Whether the request had been accepted for processing (it passed validation) when it
    /// failed: such a call counts in Bedrock's `Invocations` metric, one refused before does not.
    pub(super) accepted: bool,
}

pub(super) type VResult<T> = Result<T, ApiError>;

impl ApiError {
    pub(super) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, kind, message: message.into(), accepted: false }
    }

    /// This error, raised after the request was accepted for processing.
    pub(super) fn after_acceptance(self) -> Self {
        ApiError { accepted: true, ..self }
    }

    pub(super) fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(json!({"message": self.message}))).into_response();
        // Bedrock appends its coral namespace; the SDK keeps what is before the first ':'.
        let kind = format!("{}:http://internal.amazon.com/coral/com.amazon.bedrock/", self.kind);
        if let Ok(v) = HeaderValue::from_str(&kind) {
            r.headers_mut().insert("x-amzn-errortype", v);
        }
        add_request_id(&mut r);
        r
    }
}

pub(super) fn add_request_id(r: &mut Response) {
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
}

/// Bedrock's schema-violation wording.
pub(super) fn malformed(path: &str, what: impl Display) -> ApiError {
    ApiError::validation(format!("Malformed input request: {path}: {what}, please reformat your input and try again."))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_f64() => "BigDecimal",
        Value::Number(_) => "Integer",
        Value::String(_) => "String",
        Value::Array(_) => "JSONArray",
        Value::Object(_) => "JSONObject",
    }
}

pub(super) fn type_error(path: &str, expected: &str, found: &Value) -> ApiError {
    malformed(path, format!("expected type: {expected}, found: {}", type_name(found)))
}
