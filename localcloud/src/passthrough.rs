//! Passing a call on to moto as it came: the stand-ins that only watch a control plane (Lambda
//! keeps each deployed zip on the way through) or add what moto lacks around it (Cognito's CORS)
//! send the rest of the work here.

use axum::body::Bytes;
use axum::http::{StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};

/// Sends the request to `moto` (`http://127.0.0.1:PORT`) with its method, path, query, headers
/// and body, and answers with moto's status, headers and body. 502 when moto cannot be reached.
pub(crate) async fn to_moto(http: &reqwest::Client, moto: &str, parts: &Parts, body: Bytes) -> Response {
    let url =
        format!("{}{}", moto.trim_end_matches('/'), parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    // The Host header stays as the caller signed it: moto checks the SigV4 signature of the keys
    // it issued, and the signature covers Host.
    let headers = parts.headers.clone();
    let resp = http.request(parts.method.clone(), url).headers(headers).body(body).send().await;
    let Ok(resp) = resp else { return StatusCode::BAD_GATEWAY.into_response() };
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap_or_default();
    let mut out = (status, bytes).into_response();
    for (k, v) in headers.iter().filter(|(k, _)| *k != "content-length" && *k != "transfer-encoding") {
        out.headers_mut().insert(k.clone(), v.clone());
    }
    out
}
