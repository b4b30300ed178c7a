//! Cold init of the function: from process start to its first "next invocation" request to the
//! Lambda Runtime API, i.e. ready for its first event. That is the part of a cold start the
//! function owns (Lambda's own sandbox and download time come before it). The bootstrap is the
//! real binary of this build, started the way the provided.al2023 runtime starts it: with
//! `AWS_LAMBDA_RUNTIME_API` and the function's environment.
//!
//! The Runtime API here only answers that first request's arrival: the bench listens on a
//! loopback port, records when the request line `GET /2018-06-01/runtime/invocation/next` arrives,
//! then kills the process.
//!
//! `cargo bench -p image-edit-lambda --bench cold_init` (runs: `BENCH_ITERS`, default 30).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The environment Lambda gives a function, and the stack's settings (as `up` sets them).
fn function_env(runtime_api: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", "bench-edit".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench-edit".to_owned()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".to_owned()),
        ("AWS_REGION", "us-west-2".to_owned()),
        ("AWS_DEFAULT_REGION", "us-west-2".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIDBENCH".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_owned()),
        ("AWS_SESSION_TOKEN", "bench".to_owned()),
        ("TABLE_NAME", "bench-edits".to_owned()),
        ("BEDROCK_REGION", "us-west-2".to_owned()),
        ("MODEL_FAMILY", "stability".to_owned()),
        ("MODEL_IDS", r#"{"inpaint":"stability.stable-image-inpaint-v1:0"}"#.to_owned()),
        ("ALLOWED_ORIGINS", "https://app.example.com".to_owned()),
        ("QUOTA_IMAGES_PER_USER_PER_DAY", "50".to_owned()),
        ("QUOTA_IMAGES_PER_DAY", "1000".to_owned()),
        ("RUST_LOG", "info".to_owned()),
    ]
}

/// One cold start: the time until the bootstrap asks for its first event.
fn one(bootstrap: &str) -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let api = listener.local_addr().expect("addr").to_string();
    let started = Instant::now();
    let mut child = Command::new(bootstrap)
        .env_clear()
        .envs(function_env(&api))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bootstrap");
    let (stream, _) = listener.accept().expect("the bootstrap connects to the Runtime API");
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).expect("request line");
    let ready = started.elapsed();
    assert!(line.starts_with("GET /2018-06-01/runtime/invocation/next"), "first request: {line}");
    let _ = child.kill();
    let _ = child.wait();
    ready
}

fn main() {
    let iters: usize = std::env::var("BENCH_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let bootstrap = env!("CARGO_BIN_EXE_bootstrap");
    let _warm_page_cache = one(bootstrap);
    let mut samples: Vec<Duration> = (0..iters).map(|_| one(bootstrap)).collect();
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "cold init (process start → first invocation/next) n={iters} min {:.2} ms  median {:.2} ms  p95 {:.2} ms",
        ms(samples[0]),
        ms(samples[iters / 2]),
        ms(samples[(iters * 95 / 100).min(iters - 1)])
    );
}
