//! The Cognito user-pool endpoint (`https://cognito-idp.<region>.amazonaws.com/`) as a browser
//! meets it. The web app signs up, signs in and refreshes its tokens by calling that endpoint
//! straight from the page, so the endpoint answers the browser's CORS preflight itself and puts
//! CORS headers on every answer. moto serves the operations; this stand-in owns the CORS part, so
//! that signing in never depends on how a moto release routes `OPTIONS /` (moto 5.2.6 sent it to
//! its S3 handler, which answered 500: the browser saw a network error and nobody could sign in).
//!
//! Sources: the JSON 1.1 protocol and target prefix are the service model's
//! (botocore `cognito-idp/2016-04-18/service-2.json`: `"protocol": "json"`, `"jsonVersion": "1.1"`,
//! `"targetPrefix": "AWSCognitoIdentityProviderService"`); that the endpoint serves browsers
//! cross-origin is how AWS's own browser clients (amazon-cognito-identity-js, Amplify) use it. The
//! exact preflight headers AWS sends are not documented: the answer below allows `*` origins (the
//! calls carry no cookies), the `POST` method and the request headers AWS SDK clients send, and no
//! more, so a client that needs anything else fails here before it could fail on AWS. The
//! `Access-Control-Max-Age` of two days is what AWS's JSON endpoints send (Cognito Identity's
//! preflight, quoted in aws-amplify/amplify-js#4346).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

/// `X-Amz-Target` of every user-pool operation: `AWSCognitoIdentityProviderService.<Operation>`.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// The request headers a browser may send: what AWS's clients put on a JSON-protocol call.
/// amazon-cognito-identity-js (`Client.request`, which the web app uses against Cognito) sends the
/// first four, `cache-control: no-store` among them; the AWS SDK for JavaScript adds the
/// `amz-sdk-*` pair, and SigV4-signed calls the rest.
pub const ALLOWED_HEADERS: &str = "content-type,x-amz-target,x-amz-user-agent,cache-control,amz-sdk-invocation-id,\
amz-sdk-request,authorization,x-amz-date,x-amz-security-token,x-amz-content-sha256";
/// What the page's script may read from an answer: the request id and, on errors, the error type.
pub const EXPOSED_HEADERS: &str = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date";
pub const MAX_AGE_SECS: &str = "172800";
/// Every operation is a `POST /` (JSON 1.1 protocol).
pub const ALLOWED_METHODS: &str = "POST";

#[derive(Clone)]
pub struct Cognito {
    moto: String,
    http: reqwest::Client,
}

impl Cognito {
    pub fn new(moto: &str) -> Cognito {
        Cognito { moto: moto.trim_end_matches('/').to_owned(), http: reqwest::Client::new() }
    }

    /// `POST /` (the operations), `OPTIONS /` (the preflight) and each pool's published keys,
    /// which Cognito serves under the same host.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", post(operation).options(preflight))
            .route("/{pool}/.well-known/{file}", get(well_known))
            .with_state(self.clone())
    }
}

/// The CORS headers Cognito puts on every answer to a browser.
fn cors(headers: &mut HeaderMap) {
    // moto's own CORS headers (if a release sends any) are replaced, never mixed with ours.
    let theirs: Vec<_> = headers.keys().filter(|k| k.as_str().starts_with("access-control-")).cloned().collect();
    for k in theirs {
        headers.remove(k);
    }
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
}

async fn preflight() -> Response {
    let mut resp = StatusCode::OK.into_response();
    let h = resp.headers_mut();
    cors(h);
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOWED_METHODS));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOWED_HEADERS));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE_SECS));
    resp
}

async fn operation(State(c): State<Cognito>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut resp = if target.starts_with(crate::service_quotas::TARGET_PREFIX) {
        // Service Quotas shares the JSON 1.1 shape of this endpoint (`POST /` with a target).
        match axum::body::to_bytes(body, 1 << 20).await {
            Ok(body) => crate::service_quotas::answer(target, &body),
            Err(_) => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        }
    } else if !target.starts_with(TARGET_PREFIX) {
        // Another service's operation sent to this endpoint: the JSON protocol's answer.
        let body = json!({"__type": "UnknownOperationException"});
        (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/x-amz-json-1.1")], body.to_string())
            .into_response()
    } else {
        // Cognito's request bodies are small; 1 MiB is far above any of its operations' limits.
        match axum::body::to_bytes(body, 1 << 20).await {
            Ok(body) => crate::passthrough::to_moto(&c.http, &c.moto, &parts, body).await,
            Err(_) => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        }
    };
    cors(resp.headers_mut());
    resp
}

async fn well_known(State(c): State<Cognito>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let mut resp = crate::passthrough::to_moto(&c.http, &c.moto, &parts, Bytes::new()).await;
    cors(resp.headers_mut());
    resp
}
