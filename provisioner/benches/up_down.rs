//! `up` and `down` wall time against moto with a fixed latency injected per AWS call, beside two
//! critical-path bounds and the number of calls. The bounds: the heaviest chain of dependent calls
//! counted × that latency (what the network alone costs), and the heaviest chain timed, each call
//! weighing what it took (the injected latency plus the emulator's own time to answer) — the
//! physical limit of a concurrent `up` against this cloud; `up`'s engine time over it is what the
//! provisioner itself adds. Run: `cargo bench -p provisioner --bench up_down` (LATENCIES_MS=0,25,50 to choose).
//!
//! Every AWS call goes through a local HTTP proxy that sleeps for the latency, then forwards.

// Shared with the tests (the fault-injecting proxy: the bench uses its latency only).
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::proxy::{self, Faults};

fn provision(root: &Path, state: &Path, moto: &str, standins: &str, args: &[&str]) -> (Duration, String) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_provision"))
        .args(args)
        .current_dir(root)
        .env("AWS_ENDPOINT_URL", moto)
        .env("AWS_ENDPOINT_URL_AMPLIFY", standins)
        .env("AWS_ENDPOINT_URL_BEDROCK", standins)
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("PROVISION_STATE_DIR", state)
        .env("PROVISION_BOOTSTRAP", "/bin/true")
        .env("PROVISION_SITE_DIR", root.join("provisioner/tests/fixtures/site"))
        .output()
        .expect("run provision");
    let elapsed = started.elapsed();
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    (elapsed, String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::main]
async fn main() {
    let cloud = support::cloud::start().await;
    let (root, moto, standins) = (&cloud.root, &cloud.moto, cloud.standins.clone());
    let latencies: Vec<u64> = std::env::var("LATENCIES_MS")
        .unwrap_or_else(|_| "0,25,50".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let stack_dir = tempfile::tempdir().expect("tmp");
    let stack_file = stack_dir.path().join("bench.yaml");
    std::fs::write(&stack_file, "name: bench\nregion: us-west-2\n").expect("stack file");
    let sf = stack_file.to_str().expect("utf8");

    println!(
        "latency/call | up wall (engine) | bound: crit. calls × latency | bound: crit. chain timed (engine ÷ it) | up calls (mutating) | 2nd up wall (calls) | down wall (calls)"
    );
    for ms in latencies {
        moto.reset().await.expect("reset");
        let delay = Faults::latency(Duration::from_millis(ms));
        let moto_proxy = proxy::start(moto.endpoint.clone(), delay).await;
        let standins_proxy = proxy::start(standins.clone(), delay).await;
        let (moto_ep, amplify_ep) = (moto_proxy.endpoint.clone(), standins_proxy.endpoint.clone());
        let count = || moto_proxy.count.swap(0, Ordering::SeqCst) + standins_proxy.count.swap(0, Ordering::SeqCst);
        let state = tempfile::tempdir().expect("tmp");
        let (up, out) = provision(root, state.path(), &moto_ep, &amplify_ep, &["--stack-file", sf, "--json", "up"]);
        let summary = out
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["event"] == "summary")
            .unwrap_or(Value::Null);
        let crit = summary["critical_path_calls"].as_u64().unwrap_or(0);
        let engine_ms = summary["wall_ms"].as_u64().unwrap_or(0);
        let chain_ms = summary["critical_path_ms"].as_u64().unwrap_or(0);
        let up_calls = count();
        let (again, _) = provision(root, state.path(), &moto_ep, &amplify_ep, &["--stack-file", sf, "up"]);
        let again_calls = count();
        let (down, _) = provision(root, state.path(), &moto_ep, &amplify_ep, &["--stack-file", sf, "down", "--yes"]);
        let down_calls = count();
        println!(
            "{ms:>9} ms | {:>6.2}s ({:.2}s) | {:>6.2}s ({crit} calls on {}) | {:>6.2}s ({:.2}×) | {up_calls} ({}) | {:>5.2}s ({again_calls}) | {:>5.2}s ({down_calls})",
            up.as_secs_f64(),
            engine_ms as f64 / 1000.0,
            (crit * ms) as f64 / 1000.0,
            summary["critical_path"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("→"))
                .unwrap_or_default(),
            chain_ms as f64 / 1000.0,
            engine_ms as f64 / chain_ms.max(1) as f64,
            summary["mutating_calls"],
            again.as_secs_f64(),
            down.as_secs_f64(),
        );
        if ms == 0 {
            println!("  calls by operation: {}", summary["by_operation"]);
        }
    }
}
