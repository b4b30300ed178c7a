//! The local cloud: the whole app on one machine without an AWS account.
//!
//! moto serves the control planes it covers; the modules here stand in for what no offline
//! emulator provides. All of them listen on one loopback port and are told apart by path and
//! by `Host` (hosted sites are `<branch>.<appId>.amplifyapp.localhost:PORT`).

pub mod amplify;
pub mod moto;

use std::path::PathBuf;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;

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
}

async fn by_host(State(h): State<Hosts>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if let Some(resp) = h.amplify.serve_site(&host, req.uri().path()) {
        return resp;
    }
    next.run(req).await
}

/// The stand-ins' router (control planes by path, hosted sites by `Host`).
pub fn router(cfg: &StandInConfig) -> Router {
    let amplify = amplify::Amplify::new(cfg.port);
    let hosts = Hosts { amplify: amplify.clone() };
    Router::new()
        .merge(amplify.router())
        .route("/_localcloud/health", axum::routing::get(|| async { "ok" }))
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
