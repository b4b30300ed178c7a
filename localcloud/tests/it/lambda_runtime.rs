//! The Lambda stand-in against Lambda's documented limits, through the real `aws-sdk-lambda`
//! client: a 6 MB event and response limit, and one execution environment per concurrent
//! invocation. The function is `examples/sized_function.rs`, which answers with as many bytes as
//! it is asked for and names its process.

use std::path::PathBuf;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use localcloud::moto::{MotoServer, free_port};
use serde_json::{Value, json};

struct Cloud {
    _moto: MotoServer,
    lambda: aws_sdk_lambda::Client,
}

async fn cloud() -> Cloud {
    let root = crate::root();
    let logs = tempfile_dir();
    let moto = MotoServer::start(&root, &logs, false).await.expect("moto starts");
    let port = free_port().expect("port");
    let cfg = localcloud::StandInConfig { port, moto: moto.endpoint.clone(), log_dir: logs };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    tokio::spawn(async move { localcloud::serve_on(listener, cfg).await });
    let sdk = |endpoint: String| {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-west-2"))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_lambda::config::Credentials::new("t", "t", None, None, "t"))
            .load()
    };
    let iam = aws_sdk_iam::Client::new(&sdk(moto.endpoint.clone()).await);
    let role = iam
        .create_role()
        .role_name("sized-fn")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string(),
        )
        .send()
        .await
        .expect("role");
    let lambda = aws_sdk_lambda::Client::new(&sdk(format!("http://127.0.0.1:{port}")).await);
    lambda
        .create_function()
        .function_name("sized")
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role.role().map(|r| r.arn()).expect("role arn"))
        .timeout(30)
        .code(FunctionCode::builder().zip_file(Blob::new(crate::zip_of(&crate::sized_function()))).build())
        .send()
        .await
        .expect("create function");
    Cloud { _moto: moto, lambda }
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("lambda-runtime-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp");
    d
}

impl Cloud {
    async fn invoke(&self, event: Vec<u8>) -> Result<(Option<String>, Vec<u8>), String> {
        match self.lambda.invoke().function_name("sized").payload(Blob::new(event)).send().await {
            Ok(out) => Ok((
                out.function_error().map(str::to_owned),
                out.payload().map(|p| p.as_ref().to_vec()).unwrap_or_default(),
            )),
            Err(e) => Err(format!("{}", aws_sdk_lambda::error::DisplayErrorContext(e))),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn responses_and_events_over_6_mb_are_refused_as_lambda_refuses_them() {
    let c = cloud().await;

    // 5 MB back: passes (the old stand-in cut the function off at 2 MiB).
    let (error, payload) = c.invoke(json!({"bytes": 5_000_000}).to_string().into_bytes()).await.expect("invoke");
    assert_eq!(error, None);
    assert_eq!(payload.len(), 5_000_000);

    // 7 MB back: Lambda's Function.ResponseSizeTooLarge, as an unhandled function error.
    let (error, payload) = c.invoke(json!({"bytes": 7_000_000}).to_string().into_bytes()).await.expect("invoke");
    assert_eq!(error.as_deref(), Some("Unhandled"));
    let v: Value = serde_json::from_slice(&payload).expect("json");
    assert_eq!(v["errorType"], "Function.ResponseSizeTooLarge");
    assert_eq!(v["errorMessage"], "Response payload size exceeded maximum allowed payload size (6291556 bytes).");

    // The environment survives, as on Lambda.
    let (error, _) = c.invoke(json!({"bytes": 100}).to_string().into_bytes()).await.expect("invoke");
    assert_eq!(error, None);

    // A 7 MB event: RequestTooLargeException (HTTP 413) before the function runs; 6 MB passes.
    let pad = |n: usize| format!("{{\"bytes\":10,\"pad\":\"{}\"}}", "x".repeat(n)).into_bytes();
    let e = c.invoke(pad(7_000_000)).await.expect_err("over the event limit");
    assert!(e.contains("RequestTooLargeException") && e.contains("(limit 6291456 bytes)"), "{e}");
    assert!(c.invoke(pad(6_291_456 - 30)).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_invocations_get_environments_of_their_own() {
    let c = cloud().await;
    let answers = futures::future::join_all(
        (0..6).map(|_| c.invoke(json!({"bytes": 64, "sleepMs": 1500}).to_string().into_bytes())),
    )
    .await;
    let mut pids: Vec<u64> = answers
        .iter()
        .map(|a| {
            let (error, payload) = a.as_ref().expect("invoke");
            assert_eq!(*error, None);
            serde_json::from_slice::<Value>(payload).expect("json")["pid"].as_u64().expect("pid")
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 6, "six concurrent invocations, six execution environments");

    // Idle environments are reused: one more call runs in one of them (no seventh cold start).
    let (_, payload) = c.invoke(json!({"bytes": 64}).to_string().into_bytes()).await.expect("invoke");
    let pid = serde_json::from_slice::<Value>(&payload).expect("json")["pid"].as_u64().expect("pid");
    assert!(pids.contains(&pid), "{pid} is a new environment");
}
