//! The host's alarms end to end on the local cloud: a stack with `monitoring.email` gets its topic,
//! alarms and dashboard; model failures through the gateway turn the model-error alarm, then (a
//! second minute of them) the 5xx alarm, to ALARM as CloudWatch evaluates them, the host's e-mail is "sent" (recorded
//! in the local cloud's notifications.jsonl), `watch` shows the alarm, and `down` leaves none of it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::local_cloud::{Local, client};

const STACK: &str = "name: alarmed\nregion: us-west-2\nmonitoring:\n  email: host@example.com\n";

/// Lines of notifications.jsonl: what SNS "e-mailed".
fn notifications(l: &Local) -> Vec<Value> {
    std::fs::read_to_string(l.log_dir().join("notifications.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|x| serde_json::from_str(x).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_5xx_raises_the_alarm_and_mails_the_host() {
    let l = Local::new();
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("alarmed.yaml");
    std::fs::write(&file, STACK).expect("stack file");
    let sf = file.to_str().expect("utf8");
    // Alarms evaluated every second (CloudWatch: every minute), so the test waits seconds.
    let fast = [("LOCALCLOUD_ALARM_EVALUATION_SECONDS", "1")];

    let up = l.provision_with(&["--stack-file", sf, "--json", "up", "--local"], &fast);
    assert_eq!(up.code, 0, "up --local:\n{}\n{}", up.stdout, up.stderr);
    let outputs = up
        .stdout
        .lines()
        .filter_map(|x| serde_json::from_str::<Value>(x).ok())
        .find(|v| v["event"] == "outputs")
        .map(|v| v["outputs"].clone())
        .expect("outputs event");
    let api = outputs["apiUrl"].as_str().expect("api url").to_owned();
    let standins = l.cloud()["standins"]["endpoint"].as_str().expect("stand-ins").to_owned();

    // The monitoring constructs are in `status`, and a second `up` changes nothing.
    let status = l.provision(&["--stack-file", sf, "status", "--local"]);
    assert_eq!(status.code, 0, "{}\n{}", status.stdout, status.stderr);
    for line in ["AWS::SNS::Topic", "alarmed-alarms", "alarmed-server-errors", "alarmed-image-editor"] {
        assert!(status.stdout.contains(line), "status shows {line}:\n{}", status.stdout);
    }
    let again = l.provision(&["--stack-file", sf, "up", "--local"]);
    assert!(again.stderr.contains(", 0 mutating calls)"), "a second up changes nothing:\n{}", again.stderr);

    let token = l.provision(&["--stack-file", sf, "token", "--local"]);
    assert_eq!(token.code, 0, "{}", token.stderr);
    let token = token.stdout.trim().to_owned();

    // The model fails: each edit is a 502 model_error.
    let switch = reqwest::Client::new()
        .post(format!("{standins}/_localcloud/bedrock/config"))
        .json(&json!({"fail": "model_error"}))
        .send()
        .await
        .expect("bedrock config");
    assert!(switch.status().is_success());
    let http = client();
    let fail = |n: usize| {
        let (http, api, token) = (http.clone(), api.clone(), token.clone());
        async move {
            for _ in 0..n {
                let r = http
                    .post(format!("{api}/edits"))
                    .header("authorization", &token)
                    .json(&json!({"operation": "generate", "prompt": "a lighthouse"}))
                    .send()
                    .await
                    .expect("edit");
                assert_eq!(r.status().as_u16(), 502, "{}", r.text().await.unwrap_or_default());
            }
        }
    };
    let first_burst = Instant::now();
    fail(4).await;

    // The model-errors alarm (3 or more in 5 minutes, 1 of 1) goes to ALARM at the next
    // evaluation and mails the host.
    let started = Instant::now();
    let (watched, mails) = loop {
        let run = l.provision(&["--stack-file", sf, "--json", "watch", "--local", "--once"]);
        let doc: Value = serde_json::from_str(run.stdout.trim()).unwrap_or(Value::Null);
        let state = |name: &str| {
            doc["alarms"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["name"] == name))
                .map(|x| x["state"].as_str().unwrap_or_default().to_owned())
        };
        let mails = notifications(&l);
        let alarmed = |suffix: &str| {
            mails.iter().any(|m| {
                m["endpoint"] == "host@example.com"
                    && m["subject"].as_str().is_some_and(|s| s.starts_with(&format!("ALARM: \"alarmed-{suffix}\"")))
            })
        };
        if state("alarmed-model-errors").as_deref() == Some("ALARM") && alarmed("model-errors") {
            break (doc, mails);
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the model-errors alarm never fired:\n{doc:#}\nmails: {mails:#?}\n{}",
            run.stderr
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mail = mails
        .iter()
        .find(|m| m["subject"].as_str().is_some_and(|s| s.starts_with("ALARM: \"alarmed-model-errors\"")))
        .expect("the model-errors mail");
    let message: Value = serde_json::from_str(mail["message"].as_str().unwrap_or_default()).expect("alarm JSON");
    assert_eq!(message["NewStateValue"], "ALARM", "{message:#}");
    assert_eq!(message["Trigger"]["MetricName"], "ModelErrors", "{message:#}");
    assert_eq!(message["Trigger"]["Namespace"], "ImageEditor", "{message:#}");
    // The others stay quiet: nothing was throttled, and the day is far from its limit.
    for quiet in ["alarmed-throttling", "alarmed-daily-images"] {
        let a = watched["alarms"].as_array().and_then(|a| a.iter().find(|x| x["name"] == quiet)).cloned();
        assert_ne!(a.as_ref().map(|a| a["state"].clone()), Some(json!("ALARM")), "{quiet}: {watched:#}");
    }
    // Only alarms are mailed (not each new alarm's first OK), only to the host, and with no user
    // data: alarm names and figures.
    for m in &mails {
        assert!(m["subject"].as_str().is_some_and(|s| s.starts_with("ALARM: ")), "{m:#}");
        assert_eq!(m["endpoint"], "host@example.com");
        let text = m.to_string();
        assert!(!text.contains(&token) && !text.contains("lighthouse"), "{text}");
    }

    // The 5xx alarm wants 2 breaching minutes of the last 3: one bad minute pages nobody.
    let one_minute =
        notifications(&l).iter().any(|m| m["subject"].as_str().is_some_and(|s| s.contains("server-errors")));
    assert!(!one_minute, "one minute of 5xx is not yet an alarm");
    // A second minute of 5xx (the evaluation's minutes end when it runs, so a burst a minute
    // after the first lands in another one).
    tokio::time::sleep(Duration::from_secs(61).saturating_sub(first_burst.elapsed())).await;
    fail(2).await;
    let started = Instant::now();
    loop {
        if notifications(&l).iter().any(|m| m["subject"].as_str().is_some_and(|s| s.contains("alarmed-server-errors")))
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(150), "the server-errors alarm never fired");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let down = l.provision(&["--stack-file", sf, "down", "--local", "--yes"]);
    assert_eq!(down.code, 0, "down leaves nothing:\n{}\n{}", down.stdout, down.stderr);
    for gone in ["alarmed-server-errors", "alarmed-image-editor", "alarmed-alarms"] {
        assert!(down.stdout.contains(gone) || down.stderr.contains(gone), "down deleted {gone}:\n{}", down.stdout);
    }
}
