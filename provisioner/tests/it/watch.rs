//! `provision watch`: what it reads is what the function writes (the EMF contract of
//! lambda/src/metrics.rs), and on the local cloud it reports edits made through the gateway —
//! counts by operation and status, the day's images and who made them, the spend by the model that
//! made the images, the errors.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::local_cloud::{Local, client};
use crate::support::Run;

/// Every metric `watch` asks the function's namespace for is one the function's EMF documents
/// declare, with exactly those dimensions. (Both name the namespace by
/// `image_edit_contract::METRICS_NAMESPACE`, the one constant.)
#[test]
fn the_function_writes_every_metric_watch_reads() {
    use image_edit_lambda::metrics::{RequestMetrics, emf};
    let edit = RequestMetrics {
        request_id: "r".into(),
        route: provisioner::monitor::EDIT_ROUTE.into(),
        operation: Some("inpaint"),
        model: Some("us.stability.stable-image-inpaint-v1:0".into()),
        status: 429,
        error_code: Some("throttled"),
        latency_ms: 10.0,
        model_latency_ms: Some(5.0),
        images: 1,
        images_today: Some(1),
        ..RequestMetrics::default()
    };
    let doc = emf(image_edit_contract::METRICS_NAMESPACE, "dev-edit", &edit, 1);
    let declared = image_edit_lambda::metrics::declared(&doc);
    for m in provisioner::monitor::FUNCTION_METRICS {
        let dims: Vec<String> = m.dimensions.iter().map(|d| (*d).to_owned()).collect();
        assert!(
            declared
                .iter()
                .any(|(ns, set, n)| ns == image_edit_contract::METRICS_NAMESPACE && n == m.name && *set == dims),
            "watch reads {} by {dims:?}, which the function does not write: {declared:?}",
            m.name
        );
    }
    // The status dimension is the status as a string, as watch asks for it; the model dimension is
    // the id as invoked, which watch prices (an inference profile id here).
    assert_eq!(doc["Status"], "429");
    assert_eq!(doc["Model"], "us.stability.stable-image-inpaint-v1:0");
}

/// The one JSON document of `watch --json --once`.
fn watch_once(l: &Local) -> (Run, Value) {
    let run = l.provision(&["--json", "watch", "--local", "--once"]);
    let lines: Vec<&str> = run.stdout.lines().filter(|x| !x.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one document:\n{}\n{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("not JSON ({e}): {}", lines[0]));
    (run, doc)
}

/// The model of `generate` in stacks/dev.yaml's region.
const CORE: &str = "stability.stable-image-core-v1:1";
/// The model of `generate.ultra` (`options.generator: ultra`) there: the same operation, another
/// price.
const ULTRA: &str = "stability.stable-image-ultra-v1:1";

fn sub_of(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("jwt");
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("b64"))
            .expect("claims");
    claims["sub"].as_str().expect("sub").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_reports_the_edits_made_through_the_local_gateway() {
    let l = Local::new();
    let outputs = l.up();
    let api = outputs["apiUrl"].as_str().expect("api url").to_owned();
    let standins = l.cloud()["standins"]["endpoint"].as_str().expect("stand-ins").to_owned();
    let token = l.provision(&["token", "--local"]);
    assert_eq!(token.code, 0, "{}", token.stderr);
    let token = token.stdout.trim().to_owned();
    let http = client();
    let edit = |body: Value| {
        let req = http.post(format!("{api}/edits")).header("authorization", &token).json(&body);
        async move {
            let r = req.send().await.expect("edit");
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let bedrock = |v: Value| {
        let req = reqwest::Client::new().post(format!("{standins}/_localcloud/bedrock/config")).json(&v);
        async move { assert!(req.send().await.expect("switch").status().is_success()) }
    };

    // Before anything: a quiet stack reads as zeros and nones, and is no error.
    let (run, quiet) = watch_once(&l);
    assert_eq!(run.code, 0, "{quiet}\n{}", run.stderr);
    assert_eq!(quiet["edits"]["total"], 0, "{quiet}");
    assert_eq!(quiet["today"]["limit"], 500);
    assert_eq!(quiet["latency"]["p95Ms"], Value::Null, "{quiet}");
    assert_eq!(quiet["spend"]["usd"], 0.0);

    // Three images — two with Stable Image Core, one with Ultra, all `generate` — one request the
    // function refuses (no prompt), one Bedrock throttles.
    let generate = json!({"operation": "generate", "prompt": "a lighthouse"});
    for _ in 0..2 {
        let (status, body) = edit(generate.clone()).await;
        assert_eq!(status, 200, "{body}");
    }
    let ultra = json!({"operation": "generate", "prompt": "a lighthouse", "options": {"generator": "ultra"}});
    let (status, body) = edit(ultra).await;
    assert_eq!(status, 200, "{body}");
    let (status, refused) = edit(json!({"operation": "generate"})).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("validation_error")), "{refused}");
    bedrock(json!({"throttle": true})).await;
    let (status, throttled) = edit(generate.clone()).await;
    bedrock(json!({})).await;
    assert_eq!((status, throttled["error"]["code"].as_str()), (429, Some("throttled")), "{throttled}");

    // The metrics come from the log lines (the local Lambda ships them, moto's CloudWatch Logs
    // extracts them): wait for them.
    let started = Instant::now();
    let (run, doc) = loop {
        let (run, doc) = watch_once(&l);
        let generated = doc["edits"]["byOperation"]
            .as_array()
            .and_then(|ops| ops.iter().find(|o| o["operation"] == "generate"))
            .map(|o| o["total"].as_u64().unwrap_or(0));
        // Each layer publishes on its own (the stand-ins about once a second): wait for all.
        let seen = generated == Some(4)
            && doc["answers"]["byStatus"]["429"] == 1
            && doc["recentErrors"].as_array().is_some_and(|e| e.len() == 2)
            && doc["spend"]["byModel"].as_array().is_some_and(|m| m.len() == 2)
            && doc["throttling"]["gatewayRequests"] == 5
            && doc["throttling"]["bedrock"][CORE].as_u64().is_some_and(|n| n > 0);
        if seen {
            break (run, doc);
        }
        assert!(started.elapsed() < Duration::from_secs(30), "watch never saw the edits:\n{doc:#}\n{}", run.stderr);
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!("watch saw the edits after {:?}", started.elapsed());
    assert_eq!(run.code, 0, "no call failed: {}", doc["problems"]);
    assert_eq!(doc["problems"], json!([]));
    assert_eq!((doc["stack"].as_str(), doc["local"].as_bool()), (Some("dev"), Some(true)));

    // By operation (the refused request named none), by status, by error code.
    let by_op = &doc["edits"]["byOperation"];
    assert_eq!(by_op.as_array().map(Vec::len), Some(1), "{by_op}");
    assert_eq!(by_op[0]["perMinute"].as_array().map(Vec::len), Some(5));
    assert_eq!(doc["edits"]["total"], 4);
    assert_eq!(doc["answers"]["byStatus"], json!({"200": 3, "400": 1, "429": 1}), "{doc:#}");
    assert_eq!(doc["answers"]["byErrorCode"], json!({"validation_error": 1, "throttled": 1}), "{doc:#}");
    // Each layer: the gateway passed the function's 400 and 429 on (4XX), Lambda ran everything,
    // Bedrock throttled Stable Image Core (each of the function's attempts), the function said so.
    let t = &doc["throttling"];
    let layers =
        (t["gatewayRequests"].as_u64(), t["gateway4xx"].as_u64(), t["lambda"].as_u64(), t["function"].as_u64());
    assert_eq!(layers, (Some(5), Some(2), Some(0), Some(1)), "{t}");
    let bedrock = t["bedrock"].as_object().expect("bedrock");
    assert_eq!(bedrock.len(), 16, "every model of the stack is asked for: {t}");
    assert!(bedrock.iter().all(|(id, n)| (id == CORE) == (n != 0)), "{t}");
    // Latencies as percentiles of the requests' own figures (milliseconds), p50 ≤ p95.
    for p in [&doc["latency"], &doc["edits"]["byOperation"][0]["modelLatency"]] {
        let (p50, p95) = (p["p50Ms"].as_f64(), p["p95Ms"].as_f64());
        assert!(p50.zip(p95).is_some_and(|(a, b)| 0.0 < a && a <= b), "{p}");
    }

    // Today: the stack's counter and the one user, by the id of their log lines only.
    let user = image_edit_contract::user_hash(&sub_of(&token));
    assert_eq!(doc["today"]["images"], 3, "{doc:#}");
    assert_eq!(doc["today"]["busiestUsers"], json!([{"user": user, "images": 3}]), "{doc:#}");
    assert_eq!(doc["today"]["imagesByOperation"], json!({"generate": 3}), "{doc:#}");
    let text = doc.to_string();
    assert!(!text.contains(&sub_of(&token)) && !text.contains("demo@"), "an identity in the document: {text}");

    // The spend at list prices, by the model that made each image (the function's `Images` by
    // `Model`): one Ultra at $0.14 and two Core at $0.04 — not three `generate` at Core's price.
    let spend = &doc["spend"];
    assert_eq!(spend["usd"], 0.22, "{spend:#}");
    let by_model: Vec<(&str, u64, f64)> = spend["byModel"]
        .as_array()
        .expect("byModel")
        .iter()
        .map(|m| {
            (m["modelId"].as_str().unwrap_or(""), m["images"].as_u64().unwrap_or(0), m["usd"].as_f64().unwrap_or(0.0))
        })
        .collect();
    assert_eq!(by_model, [(ULTRA, 1, 0.14), (CORE, 2, 0.08)], "{spend:#}");
    assert_eq!(
        (spend["byModel"][0]["model"].as_str(), spend["byModel"][1]["model"].as_str()),
        (Some("Stable Image Ultra 1.1"), Some("Stable Image Core 1.1"))
    );
    assert_eq!(spend["byModel"][0]["operations"], json!(["generate.ultra"]));
    assert!(spend.get("atMostUsd").is_none(), "no upper bound: the spend is exact: {spend:#}");
    assert!(spend["basis"].as_str().is_some_and(|b| b.contains("estimate")));

    // The last errors, newest first, with the request ids the answers' log lines carry.
    let errors = doc["recentErrors"].as_array().expect("errors");
    assert_eq!(
        errors.iter().map(|e| (e["status"].as_u64(), e["errorCode"].as_str())).collect::<Vec<_>>(),
        [(Some(429), Some("throttled")), (Some(400), Some("validation_error"))]
    );
    assert!(errors.iter().all(|e| e["requestId"].as_str().is_some_and(|id| !id.is_empty())));
    assert!(
        doc["alarms"]
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["name"].as_str().is_some_and(|n| n.starts_with("dev-"))))
    );

    // The user id is the `user` field of the function's log lines; the request id is in them too.
    let logs = l.provision(&["logs", "--local", "--since", "1h"]);
    assert!(logs.stdout.contains(&format!("\"user\":\"{user}\"")), "no user {user} in the logs:\n{}", logs.stdout);
    let request_id = errors[0]["requestId"].as_str().unwrap_or_default();
    assert!(logs.stdout.contains(request_id), "no {request_id} in the logs");

    // Without --json and off a terminal: the same refresh as plain lines.
    let plain = l.provision(&["watch", "--local", "--once"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    for line in
        ["Answers by status: 200 ×3 · 400 ×1 · 429 ×1", "Today ([..] UTC): 3 of 500 images (0%)", "Spend today ≈ $0.22"]
    {
        let (head, tail) = line.split_once("[..]").unwrap_or((line, ""));
        assert!(
            plain.stdout.lines().any(|l| l.starts_with(head) && l.contains(tail)),
            "no `{line}` in:\n{}",
            plain.stdout
        );
    }
    assert!(!plain.stdout.contains('\u{1b}'), "no terminal codes when stdout is not a terminal");

    let down = l.provision(&["down", "--local", "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
}
