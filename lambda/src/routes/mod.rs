//! The router: API Gateway REST proxy events → handlers → JSON responses with CORS headers, one
//! log line and one metrics line per request. [`App::handle`] never fails and never panics on
//! input: every outcome is an HTTP answer.

mod capabilities;
mod edits;
mod seed;
mod usage;

use std::time::{Duration, Instant};

use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;
use tracing::Instrument as _;

use crate::bedrock::ImageModel;
use crate::config::{Config, INTEGRATION_TIMEOUT, MAX_RESPONSE_BYTES};
use crate::errors::ApiError;
use crate::metrics::{self, RequestMetrics};
use crate::records::Records;

/// Every (method, resource) the function serves, shared with the provisioner, which creates
/// these API Gateway resources and methods (plus an OPTIONS MOCK per resource); docs/openapi.yaml
/// documents them.
use image_edit_contract::Endpoint;
/// The namespace of the metrics line, shared with the provisioner's readers of it.
use image_edit_contract::METRICS_NAMESPACE;
pub use image_edit_contract::ROUTES;
/// The user's tag in the log lines (shared with `provision watch`, which names the day's busiest
/// users by it).
use image_edit_contract::user_hash;

/// `GET /capabilities` for a stack configured as `config`: what the web app offers and enforces.
/// The frontend's fixtures are these answers (provisioner/tests/it/contract.rs keeps them equal).
pub fn capabilities_document(config: &Config) -> Value {
    capabilities::document(config)
}

/// The function: configuration, the model seam and the history store, built once at cold start.
pub struct App<M> {
    config: Config,
    model: M,
    records: Records,
    quota: crate::quota::Quota,
    keys: crate::idempotency::Keys,
    /// The results bucket; `None` for a function without one (the images travel in the answer).
    results: Option<crate::results::Results>,
}

/// What a handler learned that the request's log line and metrics need.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub operation: Option<&'static str>,
    pub model: Option<String>,
    pub model_ms: Option<f64>,
    pub blocked: bool,
    pub record_write_failed: bool,
    /// Images the model made (and Bedrock billed).
    pub images: u32,
    /// The stack's images today once this request was counted.
    pub images_today: Option<u32>,
    /// The model was called and may have made (and billed) an image: the request is not free to
    /// run again (its Idempotency-Key stays taken).
    pub may_have_made: bool,
    /// Set by handlers that format their own errors (the seed contract).
    pub error_code: Option<&'static str>,
}

/// Per-request facts the handlers need.
pub(crate) struct Ctx {
    pub user: Option<String>,
    /// The id the request's log line carries (the Lambda request id), so an answer that names it
    /// (the seed route's `request_id`) can be found with `provision logs`.
    pub request_id: String,
    pub started: Instant,
    /// When the answer must be sent: the earlier of the invocation's deadline and API Gateway's
    /// integration timeout, less [`ANSWER_RESERVE`].
    pub deadline: Instant,
}

/// Time kept back from the deadline to write the record and send the answer.
pub(crate) const ANSWER_RESERVE: Duration = Duration::from_millis(1500);

/// The request's deadline: API Gateway stops waiting [`INTEGRATION_TIMEOUT`] after it received the
/// request (`requestContext.requestTimeEpoch`), Lambda stops the function at the invocation's
/// deadline (`Lambda-Runtime-Deadline-Ms`); whichever is first, less the reserve to answer.
fn deadline_of(req: &Request, started: Instant) -> Instant {
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    let mut left_ms = INTEGRATION_TIMEOUT.as_millis() as i64;
    if let Some(RequestContext::ApiGatewayV1(ctx)) = req.request_context_ref()
        && ctx.request_time_epoch > 0
    {
        left_ms = left_ms.min(ctx.request_time_epoch + INTEGRATION_TIMEOUT.as_millis() as i64 - now_ms);
    }
    if let Some(lambda) = req.lambda_context_ref()
        && lambda.deadline > 0
    {
        left_ms = left_ms.min(lambda.deadline as i64 - now_ms);
    }
    let left = Duration::from_millis(left_ms.max(0) as u64).saturating_sub(ANSWER_RESERVE);
    started + left
}

impl<M: ImageModel> App<M> {
    pub fn new(config: Config, model: M, dynamodb: aws_sdk_dynamodb::Client) -> Self {
        let quota = crate::quota::Quota::new(dynamodb.clone(), config.table_name.clone(), config.quota);
        let keys = crate::idempotency::Keys::new(dynamodb.clone(), config.table_name.clone());
        let records = Records::new(dynamodb, config.table_name.clone());
        App { config, model, records, quota, keys, results: None }
    }

    /// Keeps each image made in the results bucket and answers links to it.
    pub fn with_results(mut self, results: crate::results::Results) -> Self {
        self.results = Some(results);
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Answers one API Gateway event.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let started = Instant::now();
        let origin = req.headers().get("origin").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let request_id = request_id(&req);
        let method = req.method().clone();
        let resolved = resolve(&req);
        let route_name = match &resolved {
            Some((template, _)) => format!("{method} {template}"),
            None => format!("{method} (unknown)"),
        };
        let ctx =
            Ctx { user: user_sub(&req), request_id: request_id.clone(), started, deadline: deadline_of(&req, started) };
        let mut outcome = Outcome::default();
        let span = tracing::info_span!("request", request_id = %request_id, route = %route_name);
        let result = self.dispatch(&req, &method, resolved, &ctx, &mut outcome).instrument(span.clone()).await;
        let mut response = match result.and_then(within_response_limit) {
            Ok(r) => r,
            Err(e) => {
                outcome.error_code = Some(e.code());
                error_response(&e)
            }
        };
        crate::cors::apply(response.headers_mut(), origin.as_deref(), &self.config.allowed_origins);

        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let status = response.status().as_u16();
        let _enter = span.enter();
        tracing::info!(
            status,
            duration_ms = latency_ms.round() as u64,
            operation = outcome.operation.unwrap_or(""),
            model = outcome.model.as_deref().unwrap_or(""),
            model_ms = outcome.model_ms.map(|m| m.round() as u64).unwrap_or(0),
            error_code = outcome.error_code.unwrap_or(""),
            user = %ctx.user.as_deref().map(user_hash).unwrap_or_default(),
            "request done"
        );
        metrics::emit(
            METRICS_NAMESPACE,
            &self.config.function_name,
            &RequestMetrics {
                request_id,
                route: route_name,
                operation: outcome.operation,
                status,
                error_code: outcome.error_code,
                latency_ms,
                model_latency_ms: outcome.model_ms,
                blocked: outcome.blocked,
                record_write_failed: outcome.record_write_failed,
                model: outcome.model,
                images: outcome.images,
                images_today: outcome.images_today,
            },
        );
        response
    }

    async fn dispatch(
        &self,
        req: &Request,
        method: &Method,
        resolved: Option<(&'static str, Option<String>)>,
        ctx: &Ctx,
        outcome: &mut Outcome,
    ) -> Result<Response<Body>, ApiError> {
        let Some((template, id)) = resolved else {
            if method == Method::OPTIONS {
                return Ok(empty(StatusCode::NO_CONTENT));
            }
            return Err(ApiError::NotFound(format!("no route for {method} {}", path_of(req))));
        };
        if method == Method::OPTIONS {
            return Ok(empty(StatusCode::NO_CONTENT));
        }
        let body = req.body().as_ref();
        let Some(route) = image_edit_contract::route(method.as_str(), template) else {
            return Err(ApiError::NotFound(format!("no route for {method} {template}")));
        };
        let id = || id.as_deref().unwrap_or_default();
        match route.endpoint {
            Endpoint::CreateEdit => edits::create(self, ctx, req.headers(), body, outcome).await,
            Endpoint::ListEdits => edits::list(self, ctx, req).await,
            Endpoint::GetEdit => edits::get(self, ctx, id()).await,
            Endpoint::DeleteEdit => edits::delete(self, ctx, id()).await,
            Endpoint::Capabilities => Ok(capabilities::get(&self.config)),
            Endpoint::Usage => usage::get(self, ctx).await,
            Endpoint::Seed => Ok(seed::create(self, ctx, body, outcome).await),
        }
    }
}

/// The user: the `sub` claim the Cognito authorizer put in the request context. Never the body.
fn user_sub(req: &Request) -> Option<String> {
    let Some(RequestContext::ApiGatewayV1(ctx)) = req.request_context_ref() else {
        return None;
    };
    let claims = ctx.authorizer.fields.get("claims")?;
    let sub = match claims {
        Value::Object(map) => map.get("sub").and_then(Value::as_str).map(str::to_owned),
        // Some integrations serialise the claims map as a JSON string.
        Value::String(s) => {
            serde_json::from_str::<Value>(s).ok().and_then(|v| v.get("sub").and_then(Value::as_str).map(str::to_owned))
        }
        _ => None,
    }?;
    let sub = sub.trim();
    (!sub.is_empty()).then(|| sub.to_owned())
}

impl Ctx {
    pub fn require_user(&self) -> Result<&str, ApiError> {
        self.user.as_deref().ok_or_else(|| {
            ApiError::Unauthorized("no user identity in the request (the Cognito authorizer did not run)".to_owned())
        })
    }
}

fn request_id(req: &Request) -> String {
    if let Some(ctx) = req.lambda_context_ref()
        && !ctx.request_id.is_empty()
    {
        return ctx.request_id.clone();
    }
    if let Some(RequestContext::ApiGatewayV1(ctx)) = req.request_context_ref()
        && let Some(id) = ctx.request_id.as_deref().filter(|s| !s.is_empty())
    {
        return id.to_owned();
    }
    uuid::Uuid::new_v4().to_string()
}

fn path_of(req: &Request) -> String {
    let raw = req.raw_http_path();
    if raw.is_empty() { req.uri().path().to_owned() } else { raw.to_owned() }
}

/// The route template and `{id}` of a request: API Gateway's `resourcePath` when present, else
/// the path itself (with or without a leading stage segment).
fn resolve(req: &Request) -> Option<(&'static str, Option<String>)> {
    let path_id = || req.path_parameters_ref().and_then(|p| p.first("id")).map(str::to_owned);
    if let Some(RequestContext::ApiGatewayV1(ctx)) = req.request_context_ref()
        && let Some(resource) = ctx.resource_path.as_deref()
        && let Some(template) = ROUTES.iter().map(|r| r.path).find(|t| *t == resource)
    {
        let id = path_id().or_else(|| match_template(template, &path_of(req)).flatten());
        return Some((template, id));
    }
    let path = path_of(req);
    let mut candidates = vec![path.clone()];
    // A custom domain or a local gateway may leave the stage in the path.
    if let Some(RequestContext::ApiGatewayV1(ctx)) = req.request_context_ref()
        && let Some(stage) = ctx.stage.as_deref().filter(|s| !s.is_empty())
        && path.trim_start_matches('/').split('/').next() == Some(stage)
    {
        candidates.push(strip_first_segment(&path));
    }
    for candidate in &candidates {
        for template in ROUTES.iter().map(|r| r.path) {
            if let Some(id) = match_template(template, candidate) {
                return Some((template, path_id().or(id)));
            }
        }
    }
    None
}

fn strip_first_segment(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    match trimmed.split_once('/') {
        Some((_, rest)) => format!("/{rest}"),
        None => "/".to_owned(),
    }
}

/// `Some(id)` when `path` matches `template` (`{id}` matches one segment).
fn match_template(template: &str, path: &str) -> Option<Option<String>> {
    let t: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if t.len() != p.len() {
        return None;
    }
    let mut id = None;
    for (ts, ps) in t.iter().zip(&p) {
        if ts.starts_with('{') {
            id = Some((*ps).to_owned());
        } else if ts != ps {
            return None;
        }
    }
    Some(id)
}

/// Lambda refuses a response over 6 MB (`Function.ResponseSizeTooLarge`) and API Gateway then
/// answers a bare 502; the handlers shrink their images to fit ([`edits`]), and this is the last
/// guard: an answer that would still not fit becomes a clear JSON error instead.
fn within_response_limit(r: Response<Body>) -> Result<Response<Body>, ApiError> {
    let len = match r.body() {
        Body::Text(t) => t.len(),
        Body::Binary(b) => b.len().div_ceil(3) * 4,
        Body::Empty => 0,
        _ => 0,
    };
    if len > MAX_RESPONSE_BYTES {
        tracing::error!(bytes = len, limit = MAX_RESPONSE_BYTES, "answer over Lambda's response limit");
        return Err(ApiError::ResponseTooLarge(format!(
            "the answer would be {len} bytes, over the {MAX_RESPONSE_BYTES} bytes Lambda can return; ask for fewer or \
             smaller images"
        )));
    }
    Ok(r)
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut resp = Response::new(Body::Text(body.to_string()));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    resp
}

pub(crate) fn empty(status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(Body::Empty);
    *resp.status_mut() = status;
    resp
}

pub(crate) fn error_response(e: &ApiError) -> Response<Body> {
    let mut resp = json_response(e.status(), &e.body());
    if let Some(secs) = e.retry_after_secs() {
        resp.headers_mut().insert("retry-after", HeaderValue::from(secs));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_paths() {
        assert_eq!(match_template("/edits/{id}", "/edits/01ABC"), Some(Some("01ABC".to_owned())));
        assert_eq!(match_template("/edits", "/edits/"), Some(None));
        assert_eq!(match_template("/", "/"), Some(None));
        assert_eq!(match_template("/edits", "/capabilities"), None);
        assert_eq!(strip_first_segment("/prod/edits"), "/edits");
        assert_eq!(strip_first_segment("/prod"), "/");
    }
}
