//! The local cloud: the whole app on one machine without an AWS account.
//!
//! moto serves the control planes it covers; the modules here stand in for what no offline
//! emulator provides, and front the Cognito endpoint that browsers call (its CORS is ours). All of
//! them listen on one loopback port and are told apart by path and by `Host` (hosted sites are
//! `<branch>.<appId>.amplifyapp.localhost:PORT`).

pub mod amplify;
pub mod bedrock;
pub mod cognito;
pub mod gateway;
pub mod iam;
pub mod lambda_policy;
pub mod logs;
pub mod metrics;
pub mod moto;
mod passthrough;
pub mod runtime;
pub mod service_quotas;
pub mod vtl;

use std::path::PathBuf;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

/// Where the stand-ins find the rest of the local cloud.
#[derive(Debug, Clone)]
pub struct StandInConfig {
    pub port: u16,
    /// moto's endpoint (`http://127.0.0.1:PORT`).
    pub moto: String,
    pub log_dir: PathBuf,
}

#[derive(Clone)]
struct Hosts {
    amplify: amplify::Amplify,
    gateway: gateway::Gateway,
}

async fn by_host(State(h): State<Hosts>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if let Some(resp) = h.amplify.serve_site(&host, req.uri().path()) {
        return resp;
    }
    if host.split(':').next().is_some_and(|h| h.ends_with(gateway::HOST_SUFFIX)) {
        let (parts, body) = req.into_parts();
        // Over the gateway's payload limit the body is not read; the gateway answers 413 itself.
        let body = axum::body::to_bytes(body, gateway::MAX_BODY).await.ok();
        return match h.gateway.handle(&host, parts.method, &parts.uri, parts.headers, body).await {
            Some(resp) => resp,
            None => axum::http::StatusCode::NOT_FOUND.into_response(),
        };
    }
    next.run(req).await
}

/// Control-plane calls to the stand-ins (Amplify, Bedrock's control plane, Service Quotas) are
/// authorized as AWS authorizes them, by the caller's IAM policies (`iam::control_plane` says
/// what each call asks for; moto's evaluator decides).
async fn authorize(State(iam): State<iam::Authorizer>, req: Request, next: Next) -> Response {
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    if iam::control_plane(&method, &path, target.as_deref(), &[], "us-east-1").is_empty() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    // Control-plane bodies are small JSON documents (the zip goes to the upload URL).
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let region = iam::signing_region(&parts.headers).unwrap_or_else(|| "us-east-1".to_owned());
    for (action, resources) in iam::control_plane(&method, &path, target.as_deref(), &bytes, &region) {
        if let Err(refused) = iam.authorize(&parts.headers, &region, &action, &resources).await {
            tracing::info!(%action, code = refused.code, "stand-in: not authorized");
            return refused.into_response();
        }
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// The stand-ins' router (control planes by path, hosted sites and APIs by `Host`).
pub fn router(cfg: &StandInConfig) -> Router {
    let amplify = amplify::Amplify::new(cfg.port);
    // The function's SDK clients: DynamoDB (and the rest) on moto, Bedrock on this server.
    let function_env = vec![
        ("AWS_ENDPOINT_URL".to_owned(), cfg.moto.clone()),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME".to_owned(), format!("http://127.0.0.1:{}", cfg.port)),
    ];
    // The metrics API Gateway, Lambda and Bedrock publish about themselves, into moto's CloudWatch.
    let metrics = metrics::Publisher::start(&cfg.moto);
    let lambda = runtime::Lambda::new(&cfg.moto, function_env, cfg.log_dir.clone()).with_metrics(metrics.clone());
    let gateway = gateway::Gateway::new(&cfg.moto, lambda.clone()).with_metrics(metrics.clone());
    let hosts = Hosts { amplify: amplify.clone(), gateway };
    let authorizer = iam::Authorizer::new(&cfg.moto);
    let bedrock = bedrock::Bedrock::new().with_iam(authorizer.clone()).with_metrics(metrics);
    Router::new()
        .merge(amplify.router())
        .merge(cognito::Cognito::new(&cfg.moto).router())
        .merge(bedrock.router())
        .merge(lambda.router())
        .route("/_localcloud/health", axum::routing::get(|| async { "ok" }))
        .layer(middleware::from_fn_with_state(authorizer, authorize))
        .layer(middleware::from_fn_with_state(hosts, by_host))
}

/// Runs the stand-ins until the process is stopped.
pub async fn serve(cfg: StandInConfig) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port)).await?;
    serve_on(listener, cfg).await
}

/// Runs the stand-ins on a listener the caller bound (tests).
pub async fn serve_on(listener: tokio::net::TcpListener, cfg: StandInConfig) -> std::io::Result<()> {
    axum::serve(listener, router(&cfg)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_of_every_stand_in_fit_together() {
        let cfg = StandInConfig { port: 1, moto: "http://127.0.0.1:2".into(), log_dir: std::env::temp_dir() };
        let _ = router(&cfg);
    }
}
