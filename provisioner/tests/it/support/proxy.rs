//! An HTTP proxy in front of moto or the stand-ins, for tests and benches: it counts the calls,
//! adds a fixed latency to each, and can answer a seeded share of them with the transient
//! failures AWS control planes produce (throttling, 5xx) instead of forwarding them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use localcloud::moto::free_port;

/// What the proxy does to each request.
#[derive(Clone, Copy, Debug)]
pub struct Faults {
    pub latency: Duration,
    /// Share of requests answered with a throttling error or a 5xx, in percent.
    pub percent: u64,
    pub seed: u64,
    /// The first create of each resource whose name is not unique (CreateRestApi, CreateUserPool,
    /// CreateApp) is forwarded — it takes effect — and then answered with a 500, as when the
    /// service acted but its answer was lost.
    pub lose_create_answers: bool,
}

impl Faults {
    pub fn latency(latency: Duration) -> Faults {
        Faults { latency, percent: 0, seed: 0, lose_create_answers: false }
    }
}

/// Which create of a resource with a non-unique name a request is, if any.
fn named_create(method: &axum::http::Method, path: &str, headers: &HeaderMap) -> Option<&'static str> {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    match (method.as_str(), path) {
        ("POST", "/restapis") => Some("CreateRestApi"),
        ("POST", "/apps") => Some("CreateApp"),
        _ if target == "AWSCognitoIdentityProviderService.CreateUserPool" => Some("CreateUserPool"),
        _ => None,
    }
}

#[derive(Clone)]
struct Proxy {
    target: String,
    faults: Faults,
    count: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    rng: Arc<AtomicU64>,
    client: reqwest::Client,
    /// The creates whose answer was already lost once.
    lost: Arc<std::sync::Mutex<std::collections::BTreeSet<&'static str>>>,
}

/// A running proxy: its endpoint and counters.
pub struct Running {
    pub endpoint: String,
    pub count: Arc<AtomicUsize>,
    pub failed: Arc<AtomicUsize>,
}

impl Proxy {
    /// xorshift64*: a fixed sequence for a seed.
    fn roll(&self) -> u64 {
        let mut x = self.rng.load(Ordering::SeqCst);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.store(x, Ordering::SeqCst);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % 100
    }
}

/// A CBOR map of text keys to text values (RFC 8949: major type 5 of major type 3 items).
fn cbor_text_map(pairs: &[(&str, &str)]) -> Vec<u8> {
    fn text(out: &mut Vec<u8>, s: &str) {
        match s.len() {
            n @ 0..=23 => out.push(0x60 | n as u8),
            n @ 24..=255 => out.extend([0x78, n as u8]),
            n => out.extend([0x79, (n >> 8) as u8, n as u8]),
        }
        out.extend(s.as_bytes());
    }
    let mut out = vec![0xa0 | pairs.len() as u8];
    for (k, v) in pairs {
        text(&mut out, k);
        text(&mut out, v);
    }
    out
}

/// The failure as the service's protocol would carry it: a throttling error (the SDK retries the
/// codes it knows, e.g. `Throttling` for the query protocol, `ThrottlingException`/
/// `TooManyRequestsException` for JSON) or an internal error with a 500/503.
fn fault(headers: &HeaderMap, n: u64) -> Response {
    let query =
        headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("x-www-form-urlencoded"));
    // Smithy RPC v2 CBOR (CloudWatch from the Rust SDK): a CBOR error body; CloudWatch is
    // query-compatible, so the query protocol's code also comes in `x-amzn-query-error`.
    let cbor = headers.get("smithy-protocol").is_some_and(|v| v == "rpc-v2-cbor");
    if cbor {
        let (status, code, kind) = if n.is_multiple_of(2) {
            (StatusCode::BAD_REQUEST, "Throttling", "Sender")
        } else {
            (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "Receiver")
        };
        let body = cbor_text_map(&[("__type", code), ("message", "Rate exceeded")]);
        let mut r = (status, body).into_response();
        r.headers_mut().insert("content-type", HeaderValue::from_static("application/cbor"));
        r.headers_mut().insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
        if let Ok(v) = HeaderValue::from_str(&format!("{code};{kind}")) {
            r.headers_mut().insert("x-amzn-query-error", v);
        }
        return r;
    }
    // S3 (REST-XML, SigV4 scope `…/s3/aws4_request`): throttling is 503 SlowDown, a failure 500
    // InternalError, in S3's `<Error>` body ("Error responses", Amazon S3 API Reference).
    let s3 = headers.get("authorization").and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("/s3/aws4_request"));
    if s3 {
        let (status, code) = if n.is_multiple_of(2) {
            (StatusCode::SERVICE_UNAVAILABLE, "SlowDown")
        } else {
            (StatusCode::INTERNAL_SERVER_ERROR, "InternalError")
        };
        let xml = format!(
            "<Error><Code>{code}</Code><Message>Please reduce your request rate.</Message><RequestId>f</RequestId></Error>"
        );
        return (status, [("content-type", "application/xml")], xml).into_response();
    }
    if n.is_multiple_of(2) {
        if query {
            let xml = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>f</RequestId></ErrorResponse>";
            return (StatusCode::BAD_REQUEST, [("content-type", "text/xml")], xml).into_response();
        }
        let mut r =
            (StatusCode::TOO_MANY_REQUESTS, r#"{"__type":"TooManyRequestsException","message":"Too Many Requests"}"#)
                .into_response();
        r.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("TooManyRequestsException"));
        r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
        return r;
    }
    let status = if n % 4 == 1 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::SERVICE_UNAVAILABLE };
    if query {
        let xml = "<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>try again</Message></Error><RequestId>f</RequestId></ErrorResponse>";
        return (status, [("content-type", "text/xml")], xml).into_response();
    }
    let mut r = (status, r#"{"message":"Internal server error"}"#).into_response();
    r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    r
}

async fn forward(State(p): State<Proxy>, req: Request) -> Response {
    p.count.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(p.faults.latency).await;
    if p.faults.percent > 0 {
        let n = p.roll();
        if n < p.faults.percent {
            p.failed.fetch_add(1, Ordering::SeqCst);
            return fault(req.headers(), n);
        }
    }
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 64 << 20).await else { return StatusCode::BAD_REQUEST.into_response() };
    let url = format!("{}{}", p.target, parts.uri.path_and_query().map(|q| q.as_str()).unwrap_or("/"));
    let mut headers = HeaderMap::new();
    for (k, v) in parts.headers.iter().filter(|(k, _)| *k != "host") {
        headers.insert(k.clone(), v.clone());
    }
    let create = named_create(&parts.method, parts.uri.path(), &parts.headers);
    let Ok(resp) = p.client.request(parts.method, url).headers(headers).body(body.to_vec()).send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    if p.faults.lose_create_answers
        && let Some(create) = create
        && p.lost.lock().is_ok_and(|mut lost| lost.insert(create))
    {
        p.failed.fetch_add(1, Ordering::SeqCst);
        let mut r = (StatusCode::INTERNAL_SERVER_ERROR, r#"{"message":"Internal server error"}"#).into_response();
        r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
        return r;
    }
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes: Bytes = resp.bytes().await.unwrap_or_default();
    let mut out = (status, bytes).into_response();
    for (k, v) in headers.iter().filter(|(k, _)| *k != "content-length" && *k != "transfer-encoding") {
        out.headers_mut().insert(k.clone(), v.clone());
    }
    out
}

/// Starts a proxy to `target` on a free loopback port.
pub async fn start(target: String, faults: Faults) -> Running {
    let port = free_port().expect("port");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    let (count, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let state = Proxy {
        target,
        faults,
        count: count.clone(),
        failed: failed.clone(),
        rng: Arc::new(AtomicU64::new(faults.seed | 1)),
        client: reqwest::Client::new(),
        lost: Arc::default(),
    };
    let app = axum::Router::new().fallback(forward).with_state(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Running { endpoint: format!("http://127.0.0.1:{port}"), count, failed }
}
