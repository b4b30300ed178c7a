//! AWS throttling is normal, not a failure: with a proxy in front of moto and the stand-ins that
//! answers 30% of the calls with throttling errors and 5xx (seeded), `up` and `down` each complete
//! in one run, `status` finds the stack as the stack file says, and nothing is left.

use crate::support;
use crate::support::Run;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use support::proxy::{self, Faults};

fn provision(root: &Path, state: &Path, moto: &str, standins: &str, args: &[&str]) -> Run {
    // A hang (a retry loop without end) fails the test instead of stalling CI.
    let out = Command::new("timeout")
        .arg("300")
        .arg(env!("CARGO_BIN_EXE_provision"))
        .args(args)
        .current_dir(root)
        .env("AWS_ENDPOINT_URL", moto)
        .env("AWS_ENDPOINT_URL_AMPLIFY", standins)
        .env("AWS_ENDPOINT_URL_BEDROCK", standins)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_MAX_ATTEMPTS")
        .env_remove("AWS_PROFILE")
        .env("PROVISION_STATE_DIR", state)
        .env("PROVISION_BOOTSTRAP", "/bin/true")
        .env("PROVISION_SITE_DIR", root.join("provisioner/tests/fixtures/site"))
        .output()
        .expect("run provision");
    Run::from(out)
}

#[tokio::test(flavor = "multi_thread")]
async fn up_and_down_complete_through_throttling_and_5xx() {
    let cloud = support::cloud::start().await;
    let root = cloud.root.clone();
    let faults = Faults { latency: Duration::ZERO, percent: 30, seed: 20261202, lose_create_answers: false };
    let moto_proxy = proxy::start(cloud.moto.endpoint.clone(), faults).await;
    let standins_proxy = proxy::start(cloud.standins.clone(), Faults { seed: 7, ..faults }).await;
    let (m, s) = (moto_proxy.endpoint.as_str(), standins_proxy.endpoint.as_str());

    let dir = tempfile::tempdir().expect("tmp");
    let stack = dir.path().join("theta.yaml");
    std::fs::write(&stack, "name: theta\nregion: us-west-2\n").expect("stack file");
    let sf = stack.to_str().expect("utf8");
    let state = tempfile::tempdir().expect("tmp");

    let up = provision(&root, state.path(), m, s, &["--stack-file", sf, "up"]);
    assert_eq!(up.code, 0, "up failed in one run:\n{}", up.stderr);
    let failed = moto_proxy.failed.load(Ordering::SeqCst) + standins_proxy.failed.load(Ordering::SeqCst);
    let total = moto_proxy.count.load(Ordering::SeqCst) + standins_proxy.count.load(Ordering::SeqCst);
    assert!(failed * 5 > total, "the proxy failed {failed} of {total} calls: not the 30% it should");
    println!("up: {failed} of {total} calls answered with throttling or 5xx");

    let status = provision(&root, state.path(), m, s, &["--stack-file", sf, "status"]);
    assert_eq!(status.code, 0, "status after up:\n{}\n{}", status.stdout, status.stderr);

    let down = provision(&root, state.path(), m, s, &["--stack-file", sf, "down", "--yes"]);
    assert_eq!(down.code, 0, "down failed in one run:\n{}", down.stderr);
    assert!(down.stderr.contains("nothing of stack `theta` is left"), "{}", down.stderr);
}

/// A create that took effect although its answer was lost (a 5xx after the service acted) makes
/// one resource, not two: `up` looks for what the failed attempt made before it creates again.
/// (Retried blindly, as the SDK would, each would leave a second REST API, user pool and Amplify
/// app that no state file records.)
#[tokio::test(flavor = "multi_thread")]
async fn a_create_whose_answer_was_lost_is_made_once() {
    let cloud = support::cloud::start().await;
    let root = cloud.root.clone();
    let faults = Faults { lose_create_answers: true, ..Faults::latency(Duration::ZERO) };
    let moto_proxy = proxy::start(cloud.moto.endpoint.clone(), faults).await;
    let standins_proxy = proxy::start(cloud.standins.clone(), faults).await;
    let (m, s) = (moto_proxy.endpoint.as_str(), standins_proxy.endpoint.as_str());

    let dir = tempfile::tempdir().expect("tmp");
    let stack = dir.path().join("mu.yaml");
    std::fs::write(&stack, "name: mu\nregion: us-west-2\n").expect("stack file");
    let sf = stack.to_str().expect("utf8");
    let state = tempfile::tempdir().expect("tmp");

    let up = provision(&root, state.path(), m, s, &["--stack-file", sf, "up"]);
    assert_eq!(up.code, 0, "up failed:\n{}", up.stderr);
    let lost = moto_proxy.failed.load(Ordering::SeqCst) + standins_proxy.failed.load(Ordering::SeqCst);
    assert_eq!(lost, 3, "the answers of CreateRestApi, CreateUserPool and CreateApp were lost");

    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-west-2"))
        .endpoint_url(&cloud.moto.endpoint)
        .credentials_provider(aws_sdk_sts::config::Credentials::new("local", "local", None, None, "local"))
        .load()
        .await;
    let apis = aws_sdk_apigateway::Client::new(&sdk).get_rest_apis().send().await.expect("apis");
    assert_eq!(apis.items().len(), 1, "one REST API: {:?}", apis.items());
    let pools = aws_sdk_cognitoidentityprovider::Client::new(&sdk)
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("pools");
    assert_eq!(pools.user_pools().len(), 1, "one user pool");
    let amplify_sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-west-2"))
        .endpoint_url(&cloud.standins)
        .credentials_provider(aws_sdk_sts::config::Credentials::new("local", "local", None, None, "local"))
        .load()
        .await;
    let apps = aws_sdk_amplify::Client::new(&amplify_sdk).list_apps().send().await.expect("apps");
    assert_eq!(apps.apps().len(), 1, "one Amplify app");
    for kind in ["REST API", "user pool", "Amplify app"] {
        assert!(up.stderr.contains(&format!("{kind} mu-")), "up says it used what the lost create made: {}", up.stderr);
    }

    let down = provision(&root, state.path(), m, s, &["--stack-file", sf, "down", "--yes"]);
    assert_eq!(down.code, 0, "down:\n{}", down.stderr);
    assert!(down.stderr.contains("nothing of stack `mu` is left"), "{}", down.stderr);
}
