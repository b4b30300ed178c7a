//! API Gateway data plane stand-in: serves `http://<apiId>.execute-api.localhost:PORT/<stage>/…`
//! by interpreting the REST API definition `up` created in moto — resources, methods,
//! authorizers, integrations, MOCK OPTIONS, gateway responses. It assumes nothing: a method
//! whose authorizationType is NONE is open, a COGNITO_USER_POOLS method gets a real JWT check.
//!
//! Like API Gateway, it serves what was *deployed*: the definition is re-read when the stage
//! points at a new deployment.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::metrics::{self, Unit};
use crate::runtime::{InvokeError, Lambda};

/// Host names of deployed APIs end with this (before the port).
pub const HOST_SUFFIX: &str = ".execute-api.localhost";
/// API Gateway's payload limit: 10 MB ("Amazon API Gateway quotas",
/// docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
pub const MAX_BODY: usize = 10 * 1024 * 1024;
/// API Gateway's default integration timeout for REST APIs: 29 s (same page).
const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);

#[derive(Debug, Clone)]
struct MethodDef {
    authorization: String,
    authorizer: Option<Authorizer>,
    integration: String,
    uri: String,
    /// MOCK integration response 200: its header mappings and its `application/json` template.
    mock_headers: Vec<(String, String)>,
    mock_template: Option<String>,
}

#[derive(Debug, Clone)]
struct Authorizer {
    kind: String,
    /// (region, pool id) of each provider ARN.
    pools: Vec<(String, String)>,
    header: String,
}

#[derive(Debug, Clone)]
struct Definition {
    deployment: String,
    region: String,
    /// The `ApiName` dimension of the API's metrics: its name without non-ASCII characters, or
    /// its id when nothing is left ("API Gateway removes non-ASCII characters from the ApiName
    /// dimension before sending metrics to CloudWatch. If the APIName contains no ASCII
    /// characters, the API ID is used as the ApiName": "Amazon API Gateway dimensions and
    /// metrics").
    metrics_name: String,
    account: String,
    /// resource path ("/edits/{id}") → resource id, method → definition.
    resources: Vec<(String, String, HashMap<String, MethodDef>)>,
    /// The customized gateway responses, by response type.
    gateway_responses: HashMap<String, GatewayResponse>,
}

/// A customized gateway response: its status (when overridden), header mappings and templates.
#[derive(Debug, Clone, Default)]
struct GatewayResponse {
    status: Option<u16>,
    headers: Vec<(String, String)>,
    templates: HashMap<String, String>,
}

/// The gateway responses the stand-in produces, with their documented default statuses
/// ("Gateway response types for API Gateway",
/// docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
/// A type that is not customized falls back to DEFAULT_4XX or DEFAULT_5XX by its status class,
/// keeping its own status — as the same page describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// 401: no token, or the Cognito authorizer rejected it.
    Unauthorized,
    /// 403: no such resource or method.
    MissingAuthenticationToken,
    /// 413: above the payload limit.
    RequestTooLarge,
    /// 429: above the stage's throttling limits.
    Throttled,
    /// 504: the integration did not answer within 29 s.
    IntegrationTimeout,
    /// Lambda refused to run the function (throttled: over the account's or the function's
    /// concurrency). The Lambda developer guide ("Handling Lambda errors with an API Gateway
    /// API"): "If the Lambda API rejects the invocation request, API Gateway returns a 500 error
    /// code", body `{"message": "Internal server error"}`, and it does not retry; access logs show
    /// the type INTEGRATION_FAILURE ("Execution failed due to configuration error: Rate
    /// Exceeded."), whose customization applies. The types table gives 504 as that type's default,
    /// but a throttled invocation is observed as 500: 500 it is.
    IntegrationFailure,
    /// 502 for a failed or malformed Lambda proxy answer. No documented type has 502 as its
    /// status, so it is served as a 5XX without a specific type: DEFAULT_5XX applies.
    BadGateway,
    /// 500: the API's definition cannot be served (e.g. a template that does not render).
    ApiConfigurationError,
}

impl ResponseType {
    fn name(self) -> &'static str {
        match self {
            ResponseType::Unauthorized => "UNAUTHORIZED",
            ResponseType::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            ResponseType::RequestTooLarge => "REQUEST_TOO_LARGE",
            ResponseType::Throttled => "THROTTLED",
            ResponseType::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            ResponseType::IntegrationFailure => "INTEGRATION_FAILURE",
            ResponseType::BadGateway => "DEFAULT_5XX",
            ResponseType::ApiConfigurationError => "API_CONFIGURATION_ERROR",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ResponseType::Unauthorized => StatusCode::UNAUTHORIZED,
            ResponseType::MissingAuthenticationToken => StatusCode::FORBIDDEN,
            ResponseType::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ResponseType::Throttled => StatusCode::TOO_MANY_REQUESTS,
            ResponseType::IntegrationTimeout => StatusCode::GATEWAY_TIMEOUT,
            ResponseType::IntegrationFailure => StatusCode::INTERNAL_SERVER_ERROR,
            ResponseType::BadGateway => StatusCode::BAD_GATEWAY,
            ResponseType::ApiConfigurationError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// API Gateway's default message for the type.
    fn message(self) -> &'static str {
        match self {
            ResponseType::Unauthorized => "Unauthorized",
            ResponseType::MissingAuthenticationToken => "Missing Authentication Token",
            ResponseType::RequestTooLarge => "Request Too Long",
            ResponseType::Throttled => "Too Many Requests",
            ResponseType::IntegrationTimeout => "Endpoint request timed out",
            ResponseType::BadGateway | ResponseType::ApiConfigurationError | ResponseType::IntegrationFailure => {
                "Internal server error"
            }
        }
    }
}

/// A stage's method throttling (`*/*`): rate per second and burst.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Throttle {
    rate: f64,
    burst: f64,
}

/// What the stage says now (stage settings apply without a deployment): its method throttling,
/// and whether detailed CloudWatch metrics (per method) are on.
#[derive(Debug, Clone, Copy, Default)]
struct StageSettings {
    throttle: Option<Throttle>,
    detailed_metrics: bool,
}

/// What the chain learned about a request, for its metrics: the resource it was routed to, and
/// how long the backend took when the request was relayed to one.
#[derive(Debug, Default)]
struct Seen {
    resource: Option<String>,
    integration: Option<Duration>,
}

/// One method's token bucket ("API Gateway throttles requests to your API using the token bucket
/// algorithm, where a token counts for a request"; per-stage limits "are applied at the API
/// method level", api-gateway-request-throttling.html).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: std::time::Instant,
}

#[derive(Clone)]
pub struct Gateway {
    moto: String,
    lambda: Lambda,
    http: reqwest::Client,
    sdk: Arc<Mutex<HashMap<String, aws_config::SdkConfig>>>,
    apis: Arc<Mutex<HashMap<String, Arc<Definition>>>>,
    jwks: Arc<Mutex<HashMap<String, JwkSet>>>,
    /// "api/stage/VERB /resource" → its bucket.
    buckets: Arc<std::sync::Mutex<HashMap<String, Bucket>>>,
    /// "region/function" → when its resource policy was read, and the policy.
    policies: Arc<Mutex<HashMap<String, (std::time::Instant, String)>>>,
    /// API Gateway's own CloudWatch metrics (`AWS/ApiGateway`).
    metrics: metrics::Publisher,
}

/// How long a function's resource policy is trusted before it is read again.
const POLICY_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// A response API Gateway makes itself, before any API is known (no customization applies).
fn gw_error(status: StatusCode, message: &str) -> Response {
    let mut r = (status, axum::Json(json!({"message": message}))).into_response();
    r.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("GatewayError"));
    r
}

/// The gateway response of `kind` for a request to a deployed API, customized as the API says:
/// its header mappings (a `'static'` value or `method.request.header.<name>`, the request's header,
/// case-insensitive), and its `application/json` template, which API Gateway renders with simple
/// variable substitution only ("A GatewayResponse mapping template isn't processed by the VTL
/// engine", …/api-gateway-swagger-extensions-gateway-responses.responseTemplates.html).
fn gateway_response(def: &Definition, kind: ResponseType, request: &HeaderMap, request_id: &str) -> Response {
    let status = kind.status();
    let fallback = if status.is_client_error() { "DEFAULT_4XX" } else { "DEFAULT_5XX" };
    let custom = def.gateway_responses.get(kind.name()).or_else(|| def.gateway_responses.get(fallback));
    let status = custom.and_then(|c| c.status).and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(status);
    let message = kind.message();
    let body = match custom.and_then(|c| c.templates.get("application/json")) {
        Some(t) => t
            .replace("$context.error.messageString", &Value::from(message).to_string())
            .replace("$context.error.message", message)
            .replace("$context.error.responseType", kind.name())
            .replace("$context.requestId", request_id),
        None => json!({"message": message}).to_string(),
    };
    let mut r = (status, body).into_response();
    r.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("GatewayError"));
    for (k, mapping) in custom.map(|c| c.headers.as_slice()).unwrap_or_default() {
        let value = if let Some(h) = mapping.strip_prefix("method.request.header.") {
            request.get(h).and_then(|v| v.to_str().ok()).map(str::to_owned)
        } else if mapping.starts_with('\'') {
            Some(static_value(mapping))
        } else {
            tracing::error!("gateway response {}: mapping `{mapping}` is not supported here", kind.name());
            None
        };
        if let (Ok(k), Some(Ok(v))) = (HeaderName::try_from(k.as_str()), value.map(|v| HeaderValue::from_str(&v))) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

/// `'value'` (a static mapping) → `value`.
fn static_value(v: &str) -> String {
    v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(v).to_owned()
}

/// Matches `/edits/123` against `/edits/{id}`; returns the path parameters.
fn match_path(template: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let t: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = BTreeMap::new();
    for (ts, ps) in t.iter().zip(&p) {
        if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            params.insert(name.trim_end_matches('+').to_owned(), (*ps).to_owned());
        } else if ts != ps {
            return None;
        }
    }
    Some(params)
}

impl Gateway {
    pub fn new(moto: &str, lambda: Lambda) -> Gateway {
        Gateway {
            moto: moto.trim_end_matches('/').to_owned(),
            lambda,
            http: reqwest::Client::new(),
            sdk: Arc::default(),
            apis: Arc::default(),
            jwks: Arc::default(),
            buckets: Arc::default(),
            policies: Arc::default(),
            metrics: metrics::Publisher::default(),
        }
    }

    /// This gateway, publishing the metrics API Gateway publishes about the requests it answers.
    pub fn with_metrics(self, metrics: metrics::Publisher) -> Gateway {
        Gateway { metrics, ..self }
    }

    async fn sdk(&self, region: &str) -> aws_config::SdkConfig {
        let mut cache = self.sdk.lock().await;
        if let Some(c) = cache.get(region) {
            return c.clone();
        }
        let c = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(&self.moto)
            .credentials_provider(aws_sdk_apigateway::config::Credentials::new("local", "local", None, None, "local"))
            .load()
            .await;
        cache.insert(region.to_owned(), c.clone());
        c
    }

    /// The deployed definition of `api` at `stage` (re-read when the stage's deployment changes),
    /// and the stage's settings as they are now (stage settings apply without a deployment).
    async fn definition(&self, api: &str, stage: &str) -> Result<Option<(Arc<Definition>, StageSettings)>, String> {
        let cached_region = self.apis.lock().await.get(api).map(|d| d.region.clone());
        let regions: Vec<String> = match cached_region {
            Some(r) => vec![r],
            None => image_edit_contract::REGIONS.iter().map(|s| (*s).to_owned()).collect(),
        };
        for region in regions {
            let client = aws_sdk_apigateway::Client::new(&self.sdk(&region).await);
            let Ok(stage_out) = client.get_stage().rest_api_id(api).stage_name(stage).send().await else { continue };
            let deployment = stage_out.deployment_id().unwrap_or_default().to_owned();
            let all_methods = stage_out.method_settings().and_then(|m| m.get("*/*"));
            let settings = StageSettings {
                throttle: all_methods.map(|m| Throttle {
                    rate: m.throttling_rate_limit(),
                    burst: f64::from(m.throttling_burst_limit()),
                }),
                detailed_metrics: all_methods.is_some_and(|m| m.metrics_enabled()),
            };
            if let Some(d) = self.apis.lock().await.get(api)
                && d.deployment == deployment
            {
                return Ok(Some((d.clone(), settings)));
            }
            let def = Arc::new(self.load(&client, api, &region, deployment).await?);
            self.apis.lock().await.insert(api.to_owned(), def.clone());
            return Ok(Some((def, settings)));
        }
        Ok(None)
    }

    async fn load(
        &self,
        client: &aws_sdk_apigateway::Client,
        api: &str,
        region: &str,
        deployment: String,
    ) -> Result<Definition, String> {
        let e = |e: &dyn std::fmt::Display| format!("reading API {api} from moto: {e}");
        let name = client
            .get_rest_api()
            .rest_api_id(api)
            .send()
            .await
            .map_err(|x| e(&x))?
            .name()
            .unwrap_or_default()
            .to_owned();
        let ascii: String = name.chars().filter(char::is_ascii).collect();
        // (Nothing but spaces left is no dimension value CloudWatch accepts either.)
        let metrics_name = if ascii.trim().is_empty() { api.to_owned() } else { ascii };
        let mut authorizers = HashMap::new();
        for a in client.get_authorizers().rest_api_id(api).send().await.map_err(|x| e(&x))?.items() {
            let pools = a
                .provider_arns()
                .iter()
                .filter_map(|arn| {
                    // arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID
                    let region = arn.split(':').nth(3)?.to_owned();
                    let id = arn.rsplit('/').next()?.to_owned();
                    Some((region, id))
                })
                .collect();
            let header = a
                .identity_source()
                .and_then(|s| s.strip_prefix("method.request.header."))
                .unwrap_or("Authorization")
                .to_ascii_lowercase();
            authorizers.insert(
                a.id().unwrap_or_default().to_owned(),
                Authorizer { kind: a.r#type().map(|t| t.as_str().to_owned()).unwrap_or_default(), pools, header },
            );
        }
        let mut resources = Vec::new();
        let out = client.get_resources().rest_api_id(api).limit(500).send().await.map_err(|x| e(&x))?;
        for r in out.items() {
            let rid = r.id().unwrap_or_default();
            let mut methods = HashMap::new();
            for verb in r.resource_methods().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                let m = client
                    .get_method()
                    .rest_api_id(api)
                    .resource_id(rid)
                    .http_method(&verb)
                    .send()
                    .await
                    .map_err(|x| e(&x))?;
                let integ = m.method_integration();
                let response_200 = integ.and_then(|i| i.integration_responses()).and_then(|r| r.get("200"));
                let mock_headers = response_200
                    .and_then(|r| r.response_parameters())
                    .map(|p| {
                        p.iter()
                            .filter_map(|(k, v)| {
                                Some((k.strip_prefix("method.response.header.")?.to_owned(), v.clone()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let mock_template =
                    response_200.and_then(|r| r.response_templates()).and_then(|t| t.get("application/json")).cloned();
                methods.insert(
                    verb,
                    MethodDef {
                        authorization: m.authorization_type().unwrap_or("NONE").to_owned(),
                        authorizer: m.authorizer_id().and_then(|id| authorizers.get(id).cloned()),
                        integration: integ.and_then(|i| i.r#type()).map(|t| t.as_str().to_owned()).unwrap_or_default(),
                        uri: integ.and_then(|i| i.uri()).unwrap_or_default().to_owned(),
                        mock_headers,
                        mock_template,
                    },
                );
            }
            resources.push((r.path().unwrap_or("/").to_owned(), rid.to_owned(), methods));
        }
        let mut gateway_responses = HashMap::new();
        for g in client.get_gateway_responses().rest_api_id(api).send().await.map_err(|x| e(&x))?.items() {
            // GetGatewayResponses lists every type; only the customized ones change anything.
            if g.default_response() {
                continue;
            }
            let headers = g
                .response_parameters()
                .map(|p| {
                    p.iter()
                        .filter_map(|(k, v)| Some((k.strip_prefix("gatewayresponse.header.")?.to_owned(), v.clone())))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(t) = g.response_type() {
                gateway_responses.insert(
                    t.as_str().to_owned(),
                    GatewayResponse {
                        status: g.status_code().and_then(|s| s.parse().ok()),
                        headers,
                        templates: g.response_templates().cloned().unwrap_or_default(),
                    },
                );
            }
        }
        Ok(Definition {
            deployment,
            region: region.to_owned(),
            metrics_name,
            account: "123456789012".into(),
            resources,
            gateway_responses,
        })
    }

    async fn jwks(&self, region: &str, pool: &str) -> Result<JwkSet, String> {
        let key = format!("{region}/{pool}");
        if let Some(set) = self.jwks.lock().await.get(&key) {
            return Ok(set.clone());
        }
        // moto serves each pool's JWKS where Cognito does, under its own endpoint.
        let url = format!("{}/{pool}/.well-known/jwks.json", self.moto);
        let set: JwkSet = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| format!("JWKS of {pool}: {e}"))?;
        self.jwks.lock().await.insert(key, set.clone());
        Ok(set)
    }

    /// The Cognito authorizer's check; Ok(claims) or Err(reason) (the reason is only logged).
    async fn authorize(
        &self,
        auth: &Authorizer,
        headers: &HeaderMap,
    ) -> Result<serde_json::Map<String, Value>, String> {
        if auth.kind != "COGNITO_USER_POOLS" {
            return Err(format!("authorizer type {} is not supported by the local gateway", auth.kind));
        }
        let token = headers.get(auth.header.as_str()).and_then(|v| v.to_str().ok()).ok_or("no token")?;
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
        let unverified: Value = {
            let payload = token.split('.').nth(1).ok_or("not a JWT")?;
            use base64::Engine;
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).map_err(|e| e.to_string())?;
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())?
        };
        let iss = unverified["iss"].as_str().unwrap_or_default();
        let (region, pool) = auth
            .pools
            .iter()
            .find(|(r, p)| iss == format!("https://cognito-idp.{r}.amazonaws.com/{p}"))
            .ok_or_else(|| format!("issuer {iss} is not a user pool of this authorizer"))?;
        let set = self.jwks(region, pool).await?;
        let kid = header.kid.ok_or("token has no kid")?;
        let jwk = set.find(&kid).ok_or_else(|| format!("kid {kid} not in the pool's JWKS"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[iss]);
        validation.validate_aud = false; // checked below against the pool's clients
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &validation)
            .map_err(|e| format!("token rejected: {e}"))?;
        let claims = data.claims;
        if claims.get("token_use").and_then(Value::as_str) != Some("id") {
            return Err("not an ID token".into());
        }
        let aud = claims.get("aud").and_then(Value::as_str).unwrap_or_default().to_owned();
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&self.sdk(region).await);
        let clients = cognito
            .list_user_pool_clients()
            .user_pool_id(pool)
            .max_results(60)
            .send()
            .await
            .map_err(|e| format!("listing the pool's clients: {e}"))?;
        if !clients.user_pool_clients().iter().any(|c| c.client_id() == Some(aud.as_str())) {
            return Err(format!("audience {aud} is not a client of {pool}"));
        }
        Ok(claims)
    }

    /// Whether the function's resource policy lets API Gateway invoke it for `source_arn`. API
    /// Gateway answers a request it may not pass on with a 500 "Internal server error", type
    /// API_CONFIGURATION_ERROR, and logs "Execution failed due to configuration error: Invalid
    /// permissions on Lambda function" (AWS re:Post, "How do I resolve 'Invalid permissions on
    /// Lambda function' errors from API Gateway REST APIs?"). The policy is read from moto, where
    /// AddPermission keeps it, once a second at most per function (permission changes reach API
    /// Gateway within seconds on AWS too).
    async fn may_invoke(&self, region: &str, function: &str, source_arn: &str, account: &str) -> bool {
        let key = format!("{region}/{function}");
        let cached =
            self.policies.lock().await.get(&key).filter(|(at, _)| at.elapsed() < POLICY_TTL).map(|(_, p)| p.clone());
        let policy = match cached {
            Some(p) => p,
            None => {
                let client = aws_sdk_lambda::Client::new(&self.sdk(region).await);
                let p = match client.get_policy().function_name(function).send().await {
                    Ok(out) => out.policy().unwrap_or_default().to_owned(),
                    // No policy at all (ResourceNotFoundException): nothing allows API Gateway.
                    Err(e) => {
                        tracing::debug!(function, error = %aws_sdk_lambda::error::DisplayErrorContext(&e), "no resource policy");
                        String::new()
                    }
                };
                self.policies.lock().await.insert(key, (std::time::Instant::now(), p.clone()));
                p
            }
        };
        crate::lambda_policy::allows(
            &policy,
            crate::lambda_policy::Invocation {
                service: "apigateway.amazonaws.com",
                source_arn,
                source_account: account,
            },
        )
    }

    /// Takes a token from the method's bucket (refilled at `rate` a second up to `burst`).
    fn take_token(&self, key: &str, t: Throttle) -> bool {
        let now = std::time::Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else { return true };
        let b = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: t.burst, at: now });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * t.rate).min(t.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Serves one request for a `Host` under [`HOST_SUFFIX`]; None when the host is not ours.
    pub async fn handle(
        &self,
        host: &str,
        method: Method,
        uri: &axum::http::Uri,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Option<Response> {
        let hostname = host.split(':').next().unwrap_or(host);
        let api = hostname.strip_suffix(HOST_SUFFIX)?.to_owned();
        Some(self.serve(&api, method, uri, headers, body).await)
    }

    /// One request, as API Gateway handles it, in its order: find what the stage deployed, then
    /// the chain parse → route → throttle → authorize → integrate. A step that refuses the
    /// request answers with a gateway response of its type (`ResponseType`), customized as the
    /// API's definition says.
    async fn serve(
        &self,
        api: &str,
        method: Method,
        uri: &axum::http::Uri,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Response {
        let received = time::OffsetDateTime::now_utc();
        let started = std::time::Instant::now();
        let path = uri.path();
        let (stage, rest) = match path.trim_start_matches('/').split_once('/') {
            Some((s, r)) => (s.to_owned(), format!("/{r}")),
            None => (path.trim_start_matches('/').to_owned(), "/".to_owned()),
        };
        let (def, settings) = match self.definition(api, &stage).await {
            Ok(Some(d)) => d,
            // No such API or stage: no metrics either (there is no ApiName and Stage to count
            // the request under).
            Ok(None) => return gw_error(StatusCode::FORBIDDEN, "Forbidden"),
            Err(e) => {
                tracing::error!("{e}");
                return gw_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
            }
        };
        let request = Request {
            api,
            stage,
            rest,
            method,
            uri,
            headers,
            // The id API Gateway gives the request: in the proxy event, and in gateway
            // responses (`$context.requestId`).
            request_id: uuid::Uuid::new_v4().to_string(),
        };
        let mut seen = Seen::default();
        let answer = async {
            let body = parse(body)?;
            let route = route(&def, &request)?;
            seen.resource = Some(route.template.to_owned());
            self.throttle(settings.throttle, &request, &route)?;
            let claims = self.authorize_method(route.method, &request).await?;
            self.integrate(&def, &request, &route, claims, &body, &mut seen.integration).await
        };
        let response =
            answer.await.unwrap_or_else(|kind| gateway_response(&def, kind, &request.headers, &request.request_id));
        self.publish(&def, &request, settings, received, started.elapsed(), &seen, response.status());
        response
    }

    /// The metrics API Gateway publishes about a request ("Amazon API Gateway dimensions and
    /// metrics"): every request it answers counts — those it refuses itself too (403, 413, 429,
    /// 401: their gateway responses are 4XX answers, and "API Gateway counts modified gateway
    /// response status codes as 4XXError errors") — with `4XXError` and `5XXError` 0 or 1 by the
    /// status sent ("The Average statistic represents the 4XXError error rate … The denominator
    /// corresponds to the Count metric"), `Latency` from receiving the request to answering it
    /// and `IntegrationLatency` from relaying it to the backend to its answer. By API
    /// (`ApiName`) and by stage (`ApiName`, `Stage`); by method (`ApiName`, `Method`, `Resource`,
    /// `Stage`) only when the stage turns on detailed CloudWatch metrics, as API Gateway does.
    #[allow(clippy::too_many_arguments)]
    fn publish(
        &self,
        def: &Definition,
        r: &Request<'_>,
        settings: StageSettings,
        at: time::OffsetDateTime,
        latency: Duration,
        seen: &Seen,
        status: StatusCode,
    ) {
        let name = || ("ApiName", def.metrics_name.clone());
        let stage = || ("Stage", r.stage.clone());
        let mut sets = vec![vec![name()], vec![name(), stage()]];
        if settings.detailed_metrics
            && let Some(resource) = &seen.resource
        {
            sets.push(vec![name(), ("Method", r.method.as_str().to_owned()), ("Resource", resource.clone()), stage()]);
        }
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mut samples = vec![
            ("Count", Unit::Count, 1.0),
            ("4XXError", Unit::Count, flag(status.is_client_error())),
            ("5XXError", Unit::Count, flag(status.is_server_error())),
            ("Latency", Unit::Milliseconds, ms(latency)),
        ];
        if let Some(integration) = seen.integration {
            samples.push(("IntegrationLatency", Unit::Milliseconds, ms(integration)));
        }
        self.metrics.publish(&def.region, "AWS/ApiGateway", at, &sets, &samples);
    }

    /// Throttling comes before the authorizer and the integration: a throttled request costs
    /// nothing behind the gateway.
    fn throttle(&self, throttle: Option<Throttle>, r: &Request<'_>, route: &Route<'_>) -> Result<(), ResponseType> {
        let Some(t) = throttle else { return Ok(()) };
        let bucket = format!("{}/{}/{} {}", r.api, r.stage, r.method.as_str(), route.template);
        if self.take_token(&bucket, t) {
            return Ok(());
        }
        tracing::info!(api = r.api, "429: over the stage's throttling ({} a second, burst {})", t.rate, t.burst);
        Err(ResponseType::Throttled)
    }

    /// The method's authorization: open (`NONE`), or the Cognito authorizer's claims.
    async fn authorize_method(
        &self,
        m: &MethodDef,
        r: &Request<'_>,
    ) -> Result<Option<serde_json::Map<String, Value>>, ResponseType> {
        match m.authorization.as_str() {
            "NONE" => Ok(None),
            "COGNITO_USER_POOLS" => {
                let auth = m.authorizer.as_ref().ok_or(ResponseType::ApiConfigurationError)?;
                match self.authorize(auth, &r.headers).await {
                    Ok(c) => Ok(Some(c)),
                    Err(reason) => {
                        tracing::info!(api = r.api, %reason, "401 from the Cognito authorizer");
                        Err(ResponseType::Unauthorized)
                    }
                }
            }
            other => {
                tracing::error!("authorizationType {other} is not supported by the local gateway");
                Err(ResponseType::ApiConfigurationError)
            }
        }
    }

    /// The method's integration: a MOCK answer, or the function through Lambda (as its resource
    /// policy allows), and its answer as the response.
    async fn integrate(
        &self,
        def: &Definition,
        r: &Request<'_>,
        route: &Route<'_>,
        claims: Option<serde_json::Map<String, Value>>,
        body: &Bytes,
        integration_latency: &mut Option<Duration>,
    ) -> Result<Response, ResponseType> {
        let (api, m) = (r.api, route.method);
        match m.integration.as_str() {
            "MOCK" => mock_response(m, &r.headers).map_err(|e| {
                tracing::error!(api, "MOCK integration of {} {}: {e}", r.method.as_str(), route.template);
                ResponseType::ApiConfigurationError
            }),
            "AWS_PROXY" => {
                let function = m
                    .uri
                    .split("functions/")
                    .nth(1)
                    .and_then(|s| s.split('/').next())
                    .ok_or(ResponseType::ApiConfigurationError)?;
                // arn:aws:lambda:REGION:ACCOUNT:function:NAME
                let region = function.split(':').nth(3).unwrap_or(&def.region).to_owned();
                let account = function.split(':').nth(4).unwrap_or_default().to_owned();
                let function = function.rsplit(':').next().unwrap_or(function).to_owned();
                // API Gateway may invoke the function only as its resource policy allows, for
                // this API, stage, method and path (the execute-api ARN of the request).
                let source_arn = format!(
                    "arn:aws:execute-api:{}:{account}:{api}/{}/{}/{}",
                    def.region,
                    r.stage,
                    r.method.as_str(),
                    r.rest.trim_start_matches('/')
                );
                if !self.may_invoke(&region, &function, &source_arn, &account).await {
                    tracing::error!(
                        api,
                        function,
                        source_arn,
                        "Execution failed due to configuration error: Invalid permissions on Lambda function"
                    );
                    return Err(ResponseType::ApiConfigurationError);
                }
                let event = proxy_event(
                    def,
                    api,
                    &r.stage,
                    route.template,
                    route.resource_id,
                    &r.method,
                    r.uri,
                    &r.headers,
                    &route.params,
                    claims,
                    body,
                    &r.rest,
                    &r.request_id,
                );
                let payload = Bytes::from(event.to_string());
                let relayed = std::time::Instant::now();
                let answer =
                    tokio::time::timeout(INTEGRATION_TIMEOUT, self.lambda.invoke(&region, &function, payload)).await;
                *integration_latency = Some(relayed.elapsed());
                match answer {
                    Err(_) | Ok(Err(InvokeError::Timeout(..))) => Err(ResponseType::IntegrationTimeout),
                    // Lambda refused the event (over its 6 MB request limit): observed as a 413
                    // "Request Too Long" from API Gateway, while the 10 MB check let the body
                    // through.
                    Ok(Err(InvokeError::RequestTooLarge(n))) => {
                        tracing::info!(api, bytes = n, "413: the Lambda event is over 6 MB");
                        Err(ResponseType::RequestTooLarge)
                    }
                    Ok(Err(InvokeError::Throttled(reason))) => {
                        tracing::warn!(api, ?reason, "Lambda throttled the invocation: Rate Exceeded.");
                        Err(ResponseType::IntegrationFailure)
                    }
                    Ok(Err(e)) => {
                        tracing::error!("{e}");
                        Err(ResponseType::BadGateway)
                    }
                    Ok(Ok(out)) => proxy_response(&out).ok_or_else(|| {
                        tracing::error!("malformed Lambda proxy response");
                        ResponseType::BadGateway
                    }),
                }
            }
            other => {
                tracing::error!("integration type {other} is not supported by the local gateway");
                Err(ResponseType::ApiConfigurationError)
            }
        }
    }
}

/// A request to a deployed stage, parsed: which API and stage, the path within the stage.
struct Request<'a> {
    api: &'a str,
    stage: String,
    /// The path after the stage (`/edits/01ABC`).
    rest: String,
    method: Method,
    uri: &'a axum::http::Uri,
    headers: HeaderMap,
    request_id: String,
}

/// The resource and method a request is for.
struct Route<'d> {
    /// The resource's path template (`/edits/{id}`).
    template: &'d str,
    resource_id: &'d str,
    method: &'d MethodDef,
    /// The path parameters.
    params: BTreeMap<String, String>,
}

/// Over the 10 MB payload limit: the REQUEST_TOO_LARGE gateway response (413, its default body
/// "Request Too Long"; api-gateway-gatewayResponse-definition.html).
fn parse(body: Option<Bytes>) -> Result<Bytes, ResponseType> {
    body.filter(|b| b.len() <= MAX_BODY).ok_or(ResponseType::RequestTooLarge)
}

/// The resource and method the request names; literal segments win over `{params}`, as in API
/// Gateway. Neither found: 403 Missing Authentication Token, API Gateway's answer to both.
fn route<'d>(def: &'d Definition, r: &Request<'_>) -> Result<Route<'d>, ResponseType> {
    let mut candidates: Vec<_> = def
        .resources
        .iter()
        .filter_map(|(tpl, rid, methods)| match_path(tpl, &r.rest).map(|p| (tpl, rid, methods, p)))
        .collect();
    candidates.sort_by_key(|(tpl, ..)| tpl.matches('{').count());
    let (template, resource_id, methods, params) =
        candidates.into_iter().next().ok_or(ResponseType::MissingAuthenticationToken)?;
    let method = methods
        .get(r.method.as_str())
        .or_else(|| methods.get("ANY"))
        .ok_or(ResponseType::MissingAuthenticationToken)?;
    Ok(Route { template, resource_id, method, params })
}

/// A MOCK integration's answer: status 200 (the request template `{"statusCode": 200}` selects
/// it), the integration response's static header mappings, then its template's
/// `$context.responseOverride` values, which win over the mappings.
fn mock_response(m: &MethodDef, request: &HeaderMap) -> Result<Response, String> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for (k, mapping) in &m.mock_headers {
        if !mapping.starts_with('\'') {
            return Err(format!("header mapping `{mapping}` for {k}: a MOCK integration has only static values"));
        }
        headers.push((k.clone(), static_value(mapping)));
    }
    let mut status = StatusCode::OK;
    let mut body = String::new();
    if let Some(t) = &m.mock_template {
        let out = crate::vtl::render(t, request).map_err(|e| e.to_string())?;
        headers.retain(|(k, _)| !out.override_headers.keys().any(|o| o.eq_ignore_ascii_case(k)));
        headers.extend(out.override_headers);
        if let Some(s) = out.override_status {
            status = StatusCode::from_u16(s).map_err(|e| e.to_string())?;
        }
        body = out.body.trim().to_owned();
    }
    let mut r = (status, body).into_response();
    r.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (k, v) in headers {
        let k = HeaderName::try_from(k.as_str()).map_err(|e| format!("{k}: {e}"))?;
        let v = HeaderValue::from_str(&v).map_err(|e| format!("{k}: {e}"))?;
        r.headers_mut().insert(k, v);
    }
    Ok(r)
}

fn push_multi(map: &mut serde_json::Map<String, Value>, k: &str, v: &str) {
    if let Some(a) = map.entry(k.to_owned()).or_insert_with(|| json!([])).as_array_mut() {
        a.push(json!(v));
    }
}

/// The REST API proxy event, shaped as API Gateway builds it.
#[allow(clippy::too_many_arguments)]
fn proxy_event(
    def: &Definition,
    api: &str,
    stage: &str,
    template: &str,
    resource_id: &str,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    params: &BTreeMap<String, String>,
    claims: Option<serde_json::Map<String, Value>>,
    body: &Bytes,
    path: &str,
    request_id: &str,
) -> Value {
    let mut single = serde_json::Map::new();
    let mut multi: serde_json::Map<String, Value> = serde_json::Map::new();
    for (k, v) in headers {
        let v = v.to_str().unwrap_or_default().to_owned();
        single.insert(k.as_str().to_owned(), json!(v));
        push_multi(&mut multi, k.as_str(), &v);
    }
    let mut q = serde_json::Map::new();
    let mut mq: serde_json::Map<String, Value> = serde_json::Map::new();
    // API Gateway URL-decodes query string names and values for the proxy event
    // (`?limit=%32%30` arrives as `"limit": "20"`); the last value of a repeated name wins in
    // `queryStringParameters`, all of them are in `multiValueQueryStringParameters`.
    for pair in uri.query().unwrap_or_default().split('&').filter(|s| !s.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (url_decode(k), url_decode(v));
        q.insert(k.clone(), json!(v));
        push_multi(&mut mq, &k, &v);
    }
    // API Gateway passes every claim as a string.
    let claims = claims.map(|c| {
        let m: serde_json::Map<String, Value> = c
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, json!(s))
            })
            .collect();
        json!({"claims": m})
    });
    let text = std::str::from_utf8(body).ok();
    let now = time::OffsetDateTime::now_utc();
    json!({
        "resource": template,
        "path": path,
        "httpMethod": method.as_str(),
        "headers": if single.is_empty() { Value::Null } else { Value::Object(single) },
        "multiValueHeaders": if multi.is_empty() { Value::Null } else { Value::Object(multi) },
        "queryStringParameters": if q.is_empty() { Value::Null } else { Value::Object(q) },
        "multiValueQueryStringParameters": if mq.is_empty() { Value::Null } else { Value::Object(mq) },
        "pathParameters": if params.is_empty() { Value::Null } else { json!(params) },
        "stageVariables": null,
        "requestContext": {
            "resourceId": resource_id,
            "resourcePath": template,
            "httpMethod": method.as_str(),
            "extendedRequestId": request_id,
            "requestTime": now.format(&time::format_description::well_known::Rfc2822).unwrap_or_default(),
            "path": format!("/{stage}{path}"),
            "accountId": def.account,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": api,
            "requestTimeEpoch": (now.unix_timestamp_nanos() / 1_000_000) as i64,
            "requestId": request_id,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok())},
            "domainName": format!("{api}{HOST_SUFFIX}"),
            "apiId": api,
            "authorizer": claims,
        },
        "body": match text { Some(t) if !body.is_empty() => json!(t), _ if body.is_empty() => Value::Null, _ => {
            use base64::Engine;
            json!(base64::engine::general_purpose::STANDARD.encode(body))
        } },
        "isBase64Encoded": text.is_none(),
    })
}

/// `%XX` escapes decoded (invalid ones kept as they are); `+` stays `+`, as in a URL's query.
pub(crate) fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The function's `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}`.
fn proxy_response(out: &[u8]) -> Option<Response> {
    let v: Value = serde_json::from_slice(out).ok()?;
    let status = StatusCode::from_u16(u16::try_from(v["statusCode"].as_u64()?).ok()?).ok()?;
    let body = match v["body"].as_str() {
        Some(b) if v["isBase64Encoded"].as_bool() == Some(true) => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(b).ok()?
        }
        Some(b) => b.as_bytes().to_vec(),
        None => Vec::new(),
    };
    let mut r = (status, body).into_response();
    // API Gateway's default when the function names no content type.
    r.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // multiValueHeaders win over headers for the same name, as in API Gateway.
    if let Some(h) = v["headers"].as_object() {
        for (k, v) in h {
            if let (Ok(k), Some(Ok(v))) = (HeaderName::try_from(k.as_str()), v.as_str().map(HeaderValue::from_str)) {
                r.headers_mut().insert(k, v);
            }
        }
    }
    if let Some(h) = v["multiValueHeaders"].as_object() {
        for (k, vals) in h {
            let Ok(name) = HeaderName::try_from(k.as_str()) else { continue };
            r.headers_mut().remove(&name);
            for v in vals.as_array().into_iter().flatten() {
                if let Some(Ok(v)) = v.as_str().map(HeaderValue::from_str) {
                    r.headers_mut().append(name.clone(), v);
                }
            }
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_templates() {
        assert_eq!(match_path("/edits/{id}", "/edits/42").and_then(|p| p.get("id").cloned()), Some("42".to_owned()));
        assert!(match_path("/edits", "/edits/42").is_none());
        assert!(match_path("/", "/").is_some_and(|p| p.is_empty()));
    }

    #[test]
    fn query_strings_are_url_decoded() {
        assert_eq!(url_decode("%32%30"), "20");
        assert_eq!(url_decode("a%2Fb+c"), "a/b+c");
        assert_eq!(url_decode("100%"), "100%");
        assert_eq!(url_decode("%zz%4"), "%zz%4");
        assert_eq!(url_decode("caf%C3%A9"), "café");
    }
}
