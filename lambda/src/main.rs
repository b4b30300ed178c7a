//! `bootstrap`: the Lambda entry point (runtime provided.al2023). Reads the configuration, builds
//! the SDK clients once, then serves API Gateway events, and the user pool's pre sign-up trigger
//! when the stack restricts self sign-up, until the sandbox is frozen.

use std::sync::Arc;

use aws_config::BehaviorVersion;
use image_edit_lambda::App;
use image_edit_lambda::bedrock::BedrockModel;
use image_edit_lambda::config::Config;
use image_edit_lambda::event::Event;
use image_edit_lambda::records::dynamodb_client;
use image_edit_lambda::sign_up::{self, AllowedDomains};
use lambda_http::request::RequestContext;
use lambda_http::tower::ServiceExt;
use lambda_http::{Body, Request, RequestExt, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    image_edit_lambda::memory::keep_freed_memory();
    init_tracing();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            // Fails the cold start (Runtime.ExitError) with the variable named in the logs.
            tracing::error!(error = %e, "invalid configuration");
            eprintln!("image-edit-lambda: {e}");
            std::process::exit(1);
        }
    };
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let model = BedrockModel::from_sdk_config(&sdk, &config.bedrock_region);
    let dynamodb = dynamodb_client(&sdk);
    tracing::info!(
        family = config.family.as_str(),
        bedrock_region = %config.bedrock_region,
        operations = config.operations().len(),
        "cold start"
    );
    let results = config.results.as_ref().map(|r| {
        image_edit_lambda::results::Results::new(
            image_edit_lambda::results::Results::client(&sdk),
            r.bucket.clone(),
            r.keep_days,
        )
    });
    let mut app = App::new(config, model, dynamodb);
    if let Some(results) = results {
        app = app.with_results(results);
    }
    let app = Arc::new(app);
    let allowed = Arc::new(AllowedDomains::from_env());
    // lambda_http's adapter and responses, but the event parsed once (`event::Event`).
    let handler = lambda_http::Adapter::from(service_fn(move |req: Request| {
        let (app, allowed) = (Arc::clone(&app), Arc::clone(&allowed));
        async move {
            // Any event that is not API Gateway's arrives as lambda_http's pass-through request,
            // its body the raw event; the answer's JSON body is returned to the caller as is.
            if matches!(req.request_context_ref(), Some(RequestContext::PassThrough)) {
                let event = sign_up::handle(&allowed, req.body())?;
                return Ok(trigger_answer(&event));
            }
            Ok::<_, sign_up::Refused>(app.handle(req).await)
        }
    }));
    lambda_http::lambda_runtime::run(ServiceExt::map_request(handler, Event::into_lambda)).await
}

/// The trigger's answer as the pass-through response: a text body holding the event's JSON.
fn trigger_answer(event: &serde_json::Value) -> lambda_http::Response<Body> {
    let mut resp = lambda_http::Response::new(Body::Text(event.to_string()));
    resp.headers_mut().insert("content-type", lambda_http::http::HeaderValue::from_static("application/json"));
    resp
}

/// JSON logs for CloudWatch: one object per line, no ANSI, level from `RUST_LOG` (default info).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .init();
}
