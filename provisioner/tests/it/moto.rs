//! `provision up`/`down` against a real moto server (started here on a free loopback port) and
//! the local Amplify stand-in, read back with the SDK.

use crate::support::Run;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_config::{BehaviorVersion, Region};
use localcloud::moto::{MotoServer, free_port};
use serde_json::{Value, json};

/// A small real x86_64 glibc executable: moto stores the zip without running it, so the
/// control-plane tests need no Lambda build (the local-cloud tests run the real bootstrap).
const TEST_BOOTSTRAP: &str = "/bin/true";

struct Cloud {
    moto: MotoServer,
    standins: String,
    _server: tokio::task::JoinHandle<()>,
    root: PathBuf,
    state: tempfile::TempDir,
}

async fn cloud() -> Cloud {
    let root = crate::support::root();
    let logs = tempfile::tempdir().expect("tmp").keep();
    let moto = MotoServer::start(&root, &logs, false).await.expect("moto starts");
    let port = free_port().expect("port");
    let cfg = localcloud::StandInConfig { port, moto: moto.endpoint.clone(), log_dir: logs };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    let server = tokio::spawn(async move {
        let _ = axum_serve(listener, cfg).await;
    });
    Cloud {
        moto,
        standins: format!("http://127.0.0.1:{port}"),
        _server: server,
        root,
        state: tempfile::tempdir().expect("tmp"),
    }
}

async fn axum_serve(listener: tokio::net::TcpListener, cfg: localcloud::StandInConfig) -> std::io::Result<()> {
    localcloud::serve_on(listener, cfg).await
}

fn stack_file(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, format!("name: {name}\nregion: us-west-2\ntags: {{team: tests}}\n{extra}"))
        .expect("write stack");
    p
}

impl Cloud {
    /// `provision` pointed at this cloud, with the test's own state directory.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_provision"));
        cmd.args(args)
            .current_dir(&self.root)
            .env("AWS_ENDPOINT_URL", &self.moto.endpoint)
            .env("AWS_ENDPOINT_URL_AMPLIFY", &self.standins)
            // moto has no GetInferenceProfile: the Bedrock control plane is the stand-in.
            .env("AWS_ENDPOINT_URL_BEDROCK", &self.standins)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("PROVISION_STATE_DIR", self.state.path())
            .env("PROVISION_BOOTSTRAP", TEST_BOOTSTRAP)
            .env("PROVISION_SITE_DIR", self.root.join("provisioner/tests/fixtures/site"))
            .env_remove("AWS_PROFILE");
        cmd
    }

    fn provision(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("run provision");
        Run::from(out)
    }

    async fn sdk(&self) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-west-2"))
            .endpoint_url(&self.moto.endpoint)
            .credentials_provider(aws_sdk_sts::config::Credentials::new("test", "test", None, None, "tests"))
            .load()
            .await
    }
}

fn outputs(run: &Run) -> Value {
    run.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "outputs")
        .map(|v| v["outputs"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn up_is_complete_idempotent_and_down_leaves_nothing() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    let a = stack_file(dir.path(), "alpha", "logs: {retention_days: 14}\n");
    let b = stack_file(dir.path(), "beta", "");
    let a = a.to_str().expect("utf8");
    let b = b.to_str().expect("utf8");

    let first = c.provision(&["--stack-file", a, "--json", "up"]);
    assert_eq!(first.code, 0, "up failed:\n{}\n{}", first.stdout, first.stderr);
    let out = outputs(&first);
    assert!(out["apiUrl"].as_str().is_some_and(|u| u.ends_with("/prod")), "{out}");

    // Read everything back with the SDK.
    let sdk = c.sdk().await;
    let apigw = aws_sdk_apigateway::Client::new(&sdk);
    let api_id = out["restApiId"].as_str().expect("api id");
    let resources = apigw.get_resources().rest_api_id(api_id).send().await.expect("resources");
    let mut methods = 0;
    for r in resources.items() {
        for verb in r.resource_methods().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            let m = apigw
                .get_method()
                .rest_api_id(api_id)
                .resource_id(r.id().unwrap_or_default())
                .http_method(&verb)
                .send()
                .await
                .expect("method");
            if verb == "OPTIONS" {
                assert_eq!(m.authorization_type(), Some("NONE"));
                // The template as stored, rendered as API Gateway does: the app's origin only.
                let app = out["appUrl"].as_str().expect("app url");
                let tpl = m
                    .method_integration()
                    .and_then(|i| i.integration_responses())
                    .and_then(|r| r.get("200"))
                    .and_then(|r| r.response_templates())
                    .and_then(|t| t.get("application/json"))
                    .expect("preflight template");
                for (origin, allowed) in
                    [(app, true), ("https://evil.example", false), ("http://localhost:5173", false)]
                {
                    let mut h = axum::http::HeaderMap::new();
                    h.insert("origin", origin.parse().expect("header"));
                    let rendered = localcloud::vtl::render(tpl, &h).expect("renders");
                    let got = rendered.override_headers.get("Access-Control-Allow-Origin");
                    assert_eq!(got.is_some_and(|o| o == origin), allowed, "{origin}: {got:?}");
                }
            } else {
                methods += 1;
                assert_eq!(m.authorization_type(), Some("COGNITO_USER_POOLS"), "{verb} {:?}", r.path());
                assert!(m.authorizer_id().is_some());
            }
        }
    }
    assert_eq!(methods, provisioner::stack::ROUTES.len(), "every route of the function is a method");
    for t in ["DEFAULT_4XX", "DEFAULT_5XX"] {
        let g = apigw
            .get_gateway_response()
            .rest_api_id(api_id)
            .response_type(aws_sdk_apigateway::types::GatewayResponseType::from(t))
            .send()
            .await
            .expect("gateway response");
        let origin =
            g.response_parameters().and_then(|p| p.get("gatewayresponse.header.Access-Control-Allow-Origin")).cloned();
        assert!(origin.as_deref().is_some_and(|o| o != "'*'" && o.contains("amplifyapp")), "{t}: {origin:?}");
    }

    let iam = aws_sdk_iam::Client::new(&sdk);
    let policy = iam
        .get_role_policy()
        .role_name("alpha-edit-fn")
        .policy_name("alpha-edit-fn-least-privilege")
        .send()
        .await
        .expect("policy");
    let doc: Value = serde_json::from_str(&urldecode(policy.policy_document())).expect("json");
    let resources: Vec<String> = doc["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|s| match &s["Resource"] {
            Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect::<Vec<_>>(),
            Value::String(s) => vec![s.clone()],
            _ => vec![],
        })
        .collect();
    assert!(
        resources.contains(&"arn:aws:dynamodb:us-west-2:123456789012:table/alpha-edits".to_owned()),
        "{resources:?}"
    );
    assert!(resources.contains(&"arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/alpha-edit:*".to_owned()));
    // Bedrock, exactly: each Stability Image Service through its `us.` profile (the profile, and the
    // model in each region GetInferenceProfile routes to), the text-to-image models in-region.
    let mut bedrock: Vec<&str> =
        resources.iter().map(String::as_str).filter(|r| r.starts_with("arn:aws:bedrock:")).collect();
    bedrock.sort_unstable();
    let services = [
        "stable-conservative-upscale-v1:0",
        "stable-creative-upscale-v1:0",
        "stable-fast-upscale-v1:0",
        "stable-image-control-sketch-v1:0",
        "stable-image-control-structure-v1:0",
        "stable-image-erase-object-v1:0",
        "stable-image-inpaint-v1:0",
        "stable-image-remove-background-v1:0",
        "stable-image-search-recolor-v1:0",
        "stable-image-search-replace-v1:0",
        "stable-image-style-guide-v1:0",
        "stable-outpaint-v1:0",
        "stable-style-transfer-v1:0",
    ];
    let mut expected: Vec<String> = ["stable-image-core-v1:1", "stable-image-ultra-v1:1", "sd3-5-large-v1:0"]
        .iter()
        .map(|m| format!("arn:aws:bedrock:us-west-2::foundation-model/stability.{m}"))
        .collect();
    for s in services {
        expected.push(format!("arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.stability.{s}"));
        for r in ["us-east-1", "us-east-2", "us-west-2"] {
            expected.push(format!("arn:aws:bedrock:{r}::foundation-model/stability.{s}"));
        }
    }
    expected.sort_unstable();
    assert_eq!(bedrock, expected);
    assert!(resources.iter().all(|r| r != "*"), "no wildcard resources: {resources:?}");
    let attached = iam.list_attached_role_policies().role_name("alpha-edit-fn").send().await.expect("attached");
    assert!(attached.attached_policies().is_empty(), "no managed policies");

    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let groups =
        logs.describe_log_groups().log_group_name_prefix("/aws/lambda/alpha-edit").send().await.expect("groups");
    assert_eq!(groups.log_groups().first().and_then(|g| g.retention_in_days()), Some(14));

    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let t = ddb.describe_table().table_name("alpha-edits").send().await.expect("table");
    let arn = t.table().and_then(|t| t.table_arn()).expect("arn").to_owned();
    let tags = ddb.list_tags_of_resource().resource_arn(arn).send().await.expect("tags");
    assert!(tags.tags().iter().any(|t| t.key() == "stack" && t.value() == "alpha"));
    assert!(tags.tags().iter().any(|t| t.key() == "team" && t.value() == "tests"));

    // A second `up` changes nothing and makes no mutating call. Meanwhile Bedrock has marked a
    // model LEGACY (GetFoundationModel's lifecycle, set on the stand-in): `up` says so and goes on.
    let switches = format!("{}/_localcloud/bedrock/config", c.standins);
    let legacy = json!({"lifecycle": {"stability.stable-image-ultra-v1:1": "LEGACY"}});
    assert!(reqwest::Client::new().post(&switches).json(&legacy).send().await.expect("switch").status().is_success());
    let second = c.provision(&["--stack-file", a, "up"]);
    reqwest::Client::new().post(&switches).json(&json!({})).send().await.expect("switch back");
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.stderr.contains("no changes") && second.stderr.contains(" 0 mutating calls"), "{}", second.stderr);
    assert!(
        second.stderr.contains("model lifecycle: Stable Image Ultra 1.1: LEGACY — new accounts cannot use it"),
        "{}",
        second.stderr
    );

    // Signing in as on AWS: the app client allows SRP and refresh only (moto is patched to
    // refuse a flow the client does not allow, as Cognito does), and user names are
    // case-insensitive.
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let pool = out["userPoolId"].as_str().expect("pool");
    let client_id = out["userPoolClientId"].as_str().expect("client");
    cognito
        .admin_create_user()
        .user_pool_id(pool)
        .username("Ada@Example.com")
        .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
        .send()
        .await
        .expect("user");
    cognito
        .admin_set_user_password()
        .user_pool_id(pool)
        .username("ada@example.com")
        .password("Secret-pass-123")
        .permanent(true)
        .send()
        .await
        .expect("the same user, in lower case");
    let password_flow = cognito
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ada@example.com")
        .auth_parameters("PASSWORD", "Secret-pass-123")
        .send()
        .await;
    let e = password_flow.expect_err("the password flow is refused on AWS");
    assert!(format!("{:?}", e.into_service_error()).contains("USER_PASSWORD_AUTH flow not enabled"));
    let token = c
        .command(&["--stack-file", a, "token", "--username", "ADA@example.com"])
        .env("PROVISION_PASSWORD", "Secret-pass-123")
        .output()
        .expect("token");
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    assert_eq!(String::from_utf8_lossy(&token.stdout).trim().split('.').count(), 3, "an SRP sign-in gives a JWT");

    // The user pool replaced under a live API (deleted behind our back): `up` makes a new one
    // and points the authorizer at it with add/remove on /providerARNs (moto is patched to take
    // exactly those operations and refuse others, as API Gateway does).
    cognito.delete_user_pool().user_pool_id(pool).send().await.expect("delete pool");
    let again = c.provision(&["--stack-file", a, "--json", "up"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let new_pool = outputs(&again)["userPoolId"].as_str().expect("pool").to_owned();
    assert_ne!(new_pool, pool);
    let auths = apigw.get_authorizers().rest_api_id(api_id).send().await.expect("authorizers");
    let arns: Vec<&str> = auths.items().iter().flat_map(|a| a.provider_arns()).map(String::as_str).collect();
    assert_eq!(arns.len(), 1, "{arns:?}");
    assert!(arns[0].ends_with(&format!("userpool/{new_pool}")), "{arns:?}");

    // A changed setting is updated in place, and `diff` says so first.
    let changed = stack_file(dir.path(), "alpha", "logs: {retention_days: 30}\n");
    let diff = c.provision(&["--stack-file", changed.to_str().expect("utf8"), "diff"]);
    assert_eq!(diff.code, 6, "{}", diff.stdout);
    assert!(diff.stdout.contains("retention_days: 14 → 30"), "{}", diff.stdout);
    let third = c.provision(&["--stack-file", a, "up"]);
    assert_eq!(third.code, 0, "{}", third.stderr);

    // A second stack beside the first; `down` of one leaves the other intact.
    let beta = c.provision(&["--stack-file", b, "up"]);
    assert_eq!(beta.code, 0, "{}", beta.stderr);
    let down = c.provision(&["--stack-file", a, "down", "--yes"]);
    assert_eq!(down.code, 0, "{}\n{}", down.stdout, down.stderr);
    assert!(down.stderr.contains("nothing of stack `alpha` is left"), "{}", down.stderr);
    assert!(ddb.describe_table().table_name("beta-edits").send().await.is_ok(), "beta's table survives");
    let beta_status = c.provision(&["--stack-file", b, "status"]);
    assert_eq!(beta_status.code, 0, "{}\n{}", beta_status.stdout, beta_status.stderr);

    // `down` works without a state file: everything is found by name and tags.
    std::fs::remove_file(c.state.path().join("beta.json")).expect("state exists");
    let down_b = c.provision(&["--stack-file", b, "down", "--yes"]);
    assert_eq!(down_b.code, 0, "{}\n{}", down_b.stdout, down_b.stderr);
    let left = c.provision(&["--stack-file", b, "down", "--dry-run"]);
    assert!(left.stdout.contains("nothing: no resource of the stack exists"), "{}", left.stdout);
    assert!(ddb.describe_table().table_name("beta-edits").send().await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_stack_files_are_refused_before_anything_is_created() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    for (extra, needle) in [
        ("logs: {retention_days: 15}\n", "logs.retention_days"),
        ("funtion: {}\n", "funtion"),
        ("function: {memory_mb: lots}\n", "memory_mb"),
        // Bedrock as AWS offers it (image_edit_contract::catalogue): retired models are refused with
        // their end of life, the Stability Image Services are invoked only through their `us.` profile.
        (
            "models: {family: nova}\n",
            "`models.family` Nova Canvas (`amazon.nova-canvas-v1:0`) reached end of life on 2026-09-30",
        ),
        (
            "models: {ids: {inpaint: stability.stable-image-inpaint-v1:0}}\n",
            "use `us.stability.stable-image-inpaint-v1:0`",
        ),
        ("models: {ids: {inpaint: eu.stability.stable-image-inpaint-v1:0}}\n", "`models.ids.inpaint`"),
        (
            "models: {ids: {generate: amazon.titan-image-generator-v2:0}}\n",
            "`models.ids.generate` Titan Image Generator G1 v2 (`amazon.titan-image-generator-v2:0`) reached end of life on 2026-06-30",
        ),
    ] {
        let f = stack_file(dir.path(), "gamma", extra);
        for cmd in ["up", "diff", "synth", "doctor"] {
            let run = c.provision(&["--stack-file", f.to_str().expect("utf8"), cmd]);
            assert_eq!(run.code, 2, "{cmd} {extra}: {}", run.stderr);
            assert!(run.stderr.contains(needle) && run.stderr.contains("gamma.yaml"), "{cmd} {extra}: {}", run.stderr);
        }
    }
    let missing = c.provision(&["--stack", "nope", "up"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("nope.yaml") && missing.stderr.contains("stacks available"), "{}", missing.stderr);
    let bad_name = c.provision(&["--stack", "Bad_Name", "up"]);
    assert_eq!(bad_name.code, 2, "{}", bad_name.stderr);
    let sdk = c.sdk().await;
    let tables = aws_sdk_dynamodb::Client::new(&sdk).list_tables().send().await.expect("tables");
    assert!(tables.table_names().is_empty(), "nothing was created");
}

fn urldecode(s: &str) -> String {
    provisioner::resources::percent_decode(s)
}

/// Number of constructs the state file records as created (intent entries excluded).
fn created(state: &Path) -> usize {
    std::fs::read_to_string(state)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["resources"].as_object().map(|m| m.values().filter(|e| e["status"] == "created").count()))
        .unwrap_or(0)
}

fn spawn_up(c: &Cloud, stack_file: &str) -> std::process::Child {
    c.command(&["--stack-file", stack_file, "up"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn up")
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_up_then_up_completes_and_down_leaves_nothing() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    let f = stack_file(dir.path(), "kappa", "");
    let f = f.to_str().expect("utf8");
    let state = c.state.path().join("kappa.json");
    // Kill -9 after 1, 4 and 7 constructs exist: every run resumes where the last one died.
    for after in [1, 4, 7] {
        let mut child = spawn_up(&c, f);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while created(&state) < after && std::time::Instant::now() < deadline {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    let again = c.provision(&["--stack-file", f, "up"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let status = c.provision(&["--stack-file", f, "status"]);
    assert_eq!(status.code, 0, "all in sync after the resumed run:\n{}{}", status.stdout, status.stderr);
    // Nothing was duplicated by the interrupted runs.
    let sdk = c.sdk().await;
    let apis = aws_sdk_apigateway::Client::new(&sdk).get_rest_apis().send().await.expect("apis");
    assert_eq!(apis.items().iter().filter(|a| a.name() == Some("kappa-api")).count(), 1);
    let pools = aws_sdk_cognitoidentityprovider::Client::new(&sdk)
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("pools");
    assert_eq!(pools.user_pools().iter().filter(|p| p.name() == Some("kappa-users")).count(), 1);

    let down = c.provision(&["--stack-file", f, "down", "--yes"]);
    assert_eq!(down.code, 0, "{}\n{}", down.stdout, down.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn interrupt_lets_in_flight_calls_finish_and_saves_state() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    let f = stack_file(dir.path(), "iota", "");
    let f = f.to_str().expect("utf8");
    let state = c.state.path().join("iota.json");
    let mut child = spawn_up(&c, f);
    while created(&state) < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    let status = child.wait().expect("wait");
    // Either it stopped early (130) or it had already scheduled the last constructs and finished.
    assert!(matches!(status.code(), Some(130) | Some(0)), "{status:?}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state saved")).expect("valid json");
    assert!(saved["resources"].as_object().is_some_and(|m| !m.is_empty()));
    let again = c.provision(&["--stack-file", f, "up"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let down = c.provision(&["--stack-file", f, "down", "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_says_what_up_would_do_and_exits_nonzero_only_for_changes() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    let file = stack_file(dir.path(), "delta", "");
    let f = file.to_str().expect("utf8").to_owned();
    let lines = |out: &str, sign: char| out.lines().filter(|l| l.starts_with(sign)).count();

    // Nothing exists: every construct would be created, the role called out; nothing is created.
    let d = c.provision(&["--stack-file", &f, "diff"]);
    assert_eq!(d.code, 6, "{}\n{}", d.stdout, d.stderr);
    for id in ["UserPool", "WebClient", "EditsTable", "FunctionLogs", "FunctionRole", "Function", "Api", "WebApp"] {
        assert!(d.stdout.lines().any(|l| l.starts_with(&format!("+ {id} "))), "{id}:\n{}", d.stdout);
    }
    assert_eq!(lines(&d.stdout, '~') + lines(&d.stdout, '='), 0, "{}", d.stdout);
    assert!(d.stdout.contains("! IAM change"), "{}", d.stdout);
    let dry = c.provision(&["--stack-file", &f, "down", "--dry-run"]);
    assert!(dry.stdout.contains("nothing: no resource of the stack exists"), "diff created something:\n{}", dry.stdout);

    // Up, then no change: exit 0, every construct unchanged, no IAM call-out.
    let up = c.provision(&["--stack-file", &f, "up"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let d = c.provision(&["--stack-file", &f, "diff"]);
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert_eq!(lines(&d.stdout, '+') + lines(&d.stdout, '~'), 0, "{}", d.stdout);
    assert!(lines(&d.stdout, '=') >= 10 && !d.stdout.contains("IAM change"), "{}", d.stdout);

    // One setting changed: that construct only, field by field; IAM untouched.
    stack_file(dir.path(), "delta", "function: {memory_mb: 2048}\n");
    let d = c.provision(&["--stack-file", &f, "diff"]);
    assert_eq!(d.code, 6, "{}", d.stdout);
    assert!(d.stdout.lines().any(|l| l.starts_with("~ Function ")), "{}", d.stdout);
    assert_eq!(lines(&d.stdout, '~'), 1, "{}", d.stdout);
    assert!(d.stdout.contains("memory_mb: 1024 → 2048"), "{}", d.stdout);
    assert!(!d.stdout.contains("IAM change"), "{}", d.stdout);

    // IAM changed: another model for `generate` changes the granted model ARN.
    stack_file(dir.path(), "delta", "models: {ids: {generate: 'stability.stable-image-ultra-v1:1'}}\n");
    let d = c.provision(&["--stack-file", &f, "diff"]);
    assert_eq!(d.code, 6, "{}", d.stdout);
    assert!(d.stdout.lines().any(|l| l.starts_with("~ FunctionRole ")), "{}", d.stdout);
    assert!(d.stdout.contains("! IAM change"), "{}", d.stdout);
    assert!(d.stdout.contains("arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-ultra-v1:1"));

    let down = c.provision(&["--stack-file", &f, "down", "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
}

/// `doctor` asks the Bedrock stand-in (which answers as the catalogue says AWS does) about each
/// configured model: lifecycle, the way the stack invokes it, and the profile's routes.
#[tokio::test(flavor = "multi_thread")]
async fn doctor_checks_each_model_the_way_the_stack_invokes_it() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    let f = stack_file(dir.path(), "delta", "");
    let run = c.provision(&["--stack-file", f.to_str().expect("utf8"), "doctor"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "ok   model inpaint              us.stability.stable-image-inpaint-v1:0: ACTIVE, inference profile routing to us-east-1, us-east-2, us-west-2"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ok   model generate             stability.stable-image-core-v1:1: ACTIVE"));

    // A model Bedrock marks LEGACY (GetFoundationModel's lifecycle, set on the stand-in): a warning
    // with the fix, not a failure — the account may still use it.
    let url = format!("{}/_localcloud/bedrock/config", c.standins);
    let legacy = json!({"lifecycle": {"stability.stable-image-core-v1:1": "LEGACY"}});
    assert!(reqwest::Client::new().post(&url).json(&legacy).send().await.expect("switch").status().is_success());
    let run = c.provision(&["--stack-file", f.to_str().expect("utf8"), "doctor"]);
    reqwest::Client::new().post(&url).json(&json!({})).send().await.expect("switch back");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let line = run.stdout.lines().find(|l| l.contains("model generate")).unwrap_or_default();
    assert!(line.starts_with("ok ") && line.contains("LEGACY — warning: a legacy model"), "{}", run.stdout);
}

/// Amplify takes a new manual deployment only when the branch's last job has finished. A job
/// left PENDING (an `up` killed between CreateDeployment and StartDeployment) is stopped by the
/// next `up`, which then deploys and serves the new site.
#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_left_pending_is_stopped_by_the_next_up() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    let f = stack_file(dir.path(), "eta", "");
    let f = f.to_str().expect("utf8");
    let up = c.provision(&["--json", "--stack-file", f, "up"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let out = outputs(&up);
    let (app, branch) = (out["amplifyAppId"].as_str().expect("app id").to_owned(), "main");

    // What a killed `up` leaves: a created, never started deployment. Amplify refuses the next one.
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-west-2"))
        .endpoint_url(&c.standins)
        .credentials_provider(aws_sdk_sts::config::Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await;
    let amplify = aws_sdk_amplify::Client::new(&sdk);
    let left = amplify.create_deployment().app_id(&app).branch_name(branch).send().await.expect("deployment");
    let left = left.job_id().expect("job id").to_owned();
    let refused = amplify.create_deployment().app_id(&app).branch_name(branch).send().await.expect_err("refused");
    let refused = format!("{}", aws_sdk_amplify::error::DisplayErrorContext(refused));
    assert!(
        refused.contains("BadRequestException")
            && refused.contains(&format!("The last job(deployment) {left} was not finished")),
        "{refused}"
    );

    // A change to the site's configuration: `up` stops the pending job, deploys, and serves.
    stack_file(dir.path(), "eta", "auth: {self_sign_up: true}\n");
    let up = c.provision(&["--json", "--stack-file", f, "up"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let jobs = amplify.list_jobs().app_id(&app).branch_name(branch).send().await.expect("jobs");
    let status = |id: &str| {
        jobs.job_summaries().iter().find(|j| j.job_id() == id).map(|j| j.status().as_str().to_owned()).expect("job")
    };
    assert_eq!(status(&left), "CANCELLED");
    let newest = jobs.job_summaries().first().expect("a job");
    assert_eq!(newest.status().as_str(), "SUCCEED");
    let host = format!("{branch}.{app}.amplifyapp.localhost");
    let cfg: Value = reqwest::Client::new()
        .get(format!("{}/config.json", c.standins))
        .header("host", host)
        .send()
        .await
        .expect("site")
        .json()
        .await
        .expect("config.json");
    assert_eq!(cfg["selfSignUp"], json!(true), "the new site is served: {cfg}");

    let down = c.provision(&["--stack-file", f, "down", "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
}

/// A tag removed from the stack file is removed from every tagged resource (TagResource only
/// adds; UpdateUserPool replaces the pool's tags), and the next `up` has nothing to do (moto is
/// patched to keep what UpdateUserPool cannot change, as AWS does).
#[tokio::test(flavor = "multi_thread")]
async fn a_removed_tag_is_untagged() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    let f = stack_file(dir.path(), "iota", "").to_str().expect("utf8").to_owned();
    // stack_file's tags are {team: tests}; add one more, then take it away again.
    std::fs::write(&f, "name: iota\nregion: us-west-2\ntags: {team: tests, temporary: 'yes'}\n").expect("write");
    let up = c.provision(&["--json", "--stack-file", &f, "up"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let out = outputs(&up);
    std::fs::write(&f, "name: iota\nregion: us-west-2\ntags: {team: tests}\n").expect("write");
    let d = c.provision(&["--stack-file", &f, "diff"]);
    assert!(d.stdout.contains("tags.temporary: \"yes\" → null"), "{}", d.stdout);
    let up = c.provision(&["--stack-file", &f, "up"]);
    assert_eq!(up.code, 0, "{}", up.stderr);

    let sdk = c.sdk().await;
    let table_arn = aws_sdk_dynamodb::Client::new(&sdk)
        .describe_table()
        .table_name("iota-edits")
        .send()
        .await
        .expect("table")
        .table()
        .and_then(|t| t.table_arn().map(str::to_owned))
        .expect("arn");
    let keys = |tags: Vec<String>| {
        assert!(tags.contains(&"team".to_owned()), "{tags:?}");
        assert!(!tags.contains(&"temporary".to_owned()), "the removed tag is still there: {tags:?}");
    };
    let t = aws_sdk_dynamodb::Client::new(&sdk)
        .list_tags_of_resource()
        .resource_arn(&table_arn)
        .send()
        .await
        .expect("tags");
    keys(t.tags().iter().map(|t| t.key().to_owned()).collect());
    let t = aws_sdk_iam::Client::new(&sdk).list_role_tags().role_name("iota-edit-fn").send().await.expect("tags");
    keys(t.tags().iter().map(|t| t.key().to_owned()).collect());
    let fn_arn = aws_sdk_lambda::Client::new(&sdk).get_function().function_name("iota-edit").send().await.expect("fn");
    let fn_arn = fn_arn.configuration().and_then(|c| c.function_arn()).expect("arn").to_owned();
    let t = aws_sdk_lambda::Client::new(&sdk).list_tags().resource(&fn_arn).send().await.expect("tags");
    keys(t.tags().map(|m| m.keys().cloned().collect()).unwrap_or_default());
    // The REST API too: its tags are set at creation, and kept in step by TagResource/UntagResource
    // on its ARN (moto is patched to take a REST API's ARN, as API Gateway does).
    let api_id = out["restApiId"].as_str().expect("api id");
    let apigw = aws_sdk_apigateway::Client::new(&sdk);
    let api = apigw.get_rest_api().rest_api_id(api_id).send().await.expect("api");
    keys(api.tags().map(|m| m.keys().cloned().collect()).unwrap_or_default());
    let arn = format!("arn:aws:apigateway:us-west-2::/restapis/{api_id}");
    let t = apigw.get_tags().resource_arn(&arn).send().await.expect("GetTags");
    keys(t.tags().map(|m| m.keys().cloned().collect()).unwrap_or_default());
    let amplify = aws_sdk_amplify::Client::new(
        &aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-west-2"))
            .endpoint_url(&c.standins)
            .credentials_provider(aws_sdk_sts::config::Credentials::new("test", "test", None, None, "tests"))
            .load()
            .await,
    );
    let app_arn = format!("arn:aws:amplify:us-west-2:123456789012:apps/{}", out["amplifyAppId"].as_str().expect("app"));
    let t = amplify.list_tags_for_resource().resource_arn(&app_arn).send().await.expect("tags");
    keys(t.tags().map(|m| m.keys().cloned().collect()).unwrap_or_default());

    // Nothing is left to change.
    let d = c.provision(&["--stack-file", &f, "diff"]);
    assert_eq!(d.code, 0, "{}", d.stdout);
    let again = c.provision(&["--stack-file", &f, "up"]);
    assert!(again.stderr.contains(" 0 mutating calls"), "{}", again.stderr);

    let down = c.provision(&["--stack-file", &f, "down", "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
}

/// Self sign-up is off unless the stack file turns it on: Cognito refuses SignUp (moto is
/// patched to, as AWS does), and the owner invites people with `provision users`.
#[tokio::test(flavor = "multi_thread")]
async fn people_are_invited_unless_sign_up_is_on() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    // Limits a class of three outgrows: 3 × 2 images a day is more than the stack's 5.
    let limits = "limits: {edits_per_user_per_day: 2, edits_per_day: 5}\nauth: {workshop_name: the Bedrock day}\n";
    let f = stack_file(dir.path(), "kappa", limits).to_str().expect("utf8").to_owned();
    let up = c.provision(&["--json", "--stack-file", &f, "up"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let out = outputs(&up);
    // The invitation Cognito sends names the workshop and carries the app's address, the user
    // name and the temporary password.
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&c.sdk().await);
    let pool = out["userPoolId"].as_str().expect("pool").to_owned();
    let described = cognito.describe_user_pool().user_pool_id(&pool).send().await.expect("pool");
    let template = described
        .user_pool()
        .and_then(|p| p.admin_create_user_config())
        .and_then(|c| c.invite_message_template())
        .cloned()
        .expect("an invitation template");
    assert_eq!(template.email_subject(), Some("Your invitation to the Bedrock day"));
    let message = template.email_message().unwrap_or_default();
    for part in ["{username}", "{####}", "the Bedrock day", out["appUrl"].as_str().expect("app url")] {
        assert!(message.contains(part), "{part} in {message}");
    }
    let human = c.provision(&["--stack-file", &f, "outputs"]);
    assert!(human.stdout.contains("provision users add EMAIL"), "{}", human.stdout);

    let refused = cognito
        .sign_up()
        .client_id(out["userPoolClientId"].as_str().expect("client"))
        .username("mallory@example.com")
        .password("Mallory-pass-1")
        .send()
        .await
        .expect_err("sign-up is off");
    assert!(format!("{:?}", refused.into_service_error()).contains("SignUp is not permitted"));

    let class = dir.path().join("class.csv");
    std::fs::write(&class, "email,name\nbob@example.org,Bob\ncy@example.net,Cy\n").expect("csv");
    let add = c.provision(&[
        "--json",
        "--stack-file",
        &f,
        "users",
        "add",
        "Ada@Example.com",
        "--csv",
        class.to_str().expect("utf8"),
    ]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    let added: Value = serde_json::from_str(&add.stdout).expect("json");
    let results: Vec<(&str, &str)> = added["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| (u["email"].as_str().unwrap_or_default(), u["result"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(
        results,
        vec![("ada@example.com", "invited"), ("bob@example.org", "invited"), ("cy@example.net", "invited")]
    );
    // On AWS Cognito e-mails the temporary password; it is never printed.
    assert!(added["users"].as_array().expect("users").iter().all(|u| u["temporaryPassword"].is_null()));
    // The class is larger than the limits allow: the host is told, with the numbers to change.
    assert!(
        added["limitsWarning"]
            .as_str()
            .is_some_and(|w| w.starts_with("3 people × 2 images each = 6 a day, more than limits.edits_per_day (5)")),
        "{added}"
    );
    let again = c.provision(&["--json", "--stack-file", &f, "users", "add", "ada@example.com"]);
    assert!(again.stdout.contains("already a user"), "{}", again.stdout);

    // A lost invitation is sent again, to the same user (same `sub`, so the same history), with a
    // new temporary password the handout prints; someone who signed in has none to resend.
    let sub = |email: &str| {
        let cognito = cognito.clone();
        let (pool, email) = (pool.clone(), email.to_owned());
        async move {
            let u = cognito.admin_get_user().user_pool_id(pool).username(email).send().await.expect("user");
            u.user_attributes().iter().find(|a| a.name() == "sub").and_then(|a| a.value()).map(str::to_owned)
        }
    };
    let bob = sub("bob@example.org").await;
    cognito
        .admin_set_user_password()
        .user_pool_id(&pool)
        .username("cy@example.net")
        .password("Cy-own-pass-1")
        .permanent(true)
        .send()
        .await
        .expect("cy signs in");
    let handout = dir.path().join("handout.html");
    let resend = c.provision(&[
        "--json",
        "--stack-file",
        &f,
        "users",
        "add",
        "--resend",
        "bob@example.org",
        "cy@example.net",
        "dan@example.com",
        "--handout",
        handout.to_str().expect("utf8"),
    ]);
    assert_eq!(resend.code, 0, "{}", resend.stderr);
    let resent: Value = serde_json::from_str(&resend.stdout).expect("json");
    let by = |email: &str| resent["users"].as_array().and_then(|u| u.iter().find(|x| x["email"] == email)).cloned();
    assert_eq!(by("bob@example.org").map(|u| u["result"].clone()), Some(json!("invitation sent again")), "{resent}");
    assert_eq!(
        by("cy@example.net").map(|u| u["result"].clone()),
        Some(json!("has signed in already: nothing to resend"))
    );
    assert_eq!(by("dan@example.com").map(|u| u["result"].clone()), Some(json!("not a user: invite without --resend")));
    assert_eq!(sub("bob@example.org").await, bob, "the same user");
    let password = by("bob@example.org").and_then(|u| u["temporaryPassword"].as_str().map(str::to_owned)).expect("pw");
    let page = std::fs::read_to_string(&handout).expect("handout");
    assert!(page.contains("bob@example.org") && page.contains(&password) && !page.contains("cy@example.net"), "{page}");
    assert!(page.contains(out["appUrl"].as_str().expect("app url")), "{page}");
    let bad = c.provision(&["--stack-file", &f, "users", "add", "not-an-address"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("is not an e-mail address"), "{}", bad.stderr);

    let list = c.provision(&["--json", "--stack-file", &f, "users", "list"]);
    let listed: Value = serde_json::from_str(&list.stdout).expect("json");
    let users = listed["users"].as_array().expect("users");
    assert_eq!(users.len(), 3, "{listed}");
    let invited: Vec<&Value> = users.iter().filter(|u| u["email"] != "cy@example.net").collect();
    assert!(invited.iter().all(|u| u["status"] == "FORCE_CHANGE_PASSWORD" && u["signedIn"] == false), "{listed}");
    // Each person's day: nothing yet, and no `sub` printed.
    for u in users {
        assert_eq!((u["imagesToday"].as_u64(), u["failedToday"].as_u64()), (Some(0), Some(0)), "{u}");
        assert!(u["lastActivity"].is_null() && u.get("sub").is_none(), "{u}");
    }

    let remove =
        c.provision(&["--json", "--stack-file", &f, "users", "remove", "ada@example.com", "nobody@example.com"]);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    assert!(remove.stdout.contains("\"removed\"") && remove.stdout.contains("not a user"), "{}", remove.stdout);
    let list = c.provision(&["--json", "--stack-file", &f, "users", "list"]);
    let listed: Value = serde_json::from_str(&list.stdout).expect("json");
    assert_eq!(listed["users"].as_array().map(Vec::len), Some(2), "{listed}");

    let down = c.provision(&["--stack-file", &f, "down", "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
}

/// `function.reserved_concurrency` is put on the function, and taken off when the stack file
/// drops it; 900, the most the stack file allows, leaves exactly Lambda's 100 unreserved of the
/// default 1,000 and is accepted (moto is told that quota, and enforces it as Lambda does).
#[tokio::test(flavor = "multi_thread")]
async fn reserved_concurrency_follows_the_stack_file() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    let f =
        stack_file(dir.path(), "lambda5", "function: {reserved_concurrency: 5}\n").to_str().expect("utf8").to_owned();
    let up = c.provision(&["--stack-file", &f, "up"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let lambda = aws_sdk_lambda::Client::new(&c.sdk().await);
    let got = lambda.get_function_concurrency().function_name("lambda5-edit").send().await.expect("concurrency");
    assert_eq!(got.reserved_concurrent_executions(), Some(5));
    let again = c.provision(&["--stack-file", &f, "up"]);
    assert!(again.stderr.contains(" 0 mutating calls"), "{}", again.stderr);

    stack_file(dir.path(), "lambda5", "");
    let d = c.provision(&["--stack-file", &f, "diff"]);
    assert!(d.stdout.contains("reserved_concurrency: 5 → null"), "{}", d.stdout);
    let up = c.provision(&["--stack-file", &f, "up"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let got = lambda.get_function_concurrency().function_name("lambda5-edit").send().await.expect("concurrency");
    assert_eq!(got.reserved_concurrent_executions(), None);

    stack_file(dir.path(), "lambda5", "function: {reserved_concurrency: 900}\n");
    let fits = c.provision(&["--stack-file", &f, "up"]);
    assert_eq!(fits.code, 0, "900 leaves exactly 100 unreserved: {}", fits.stderr);
    let down = c.provision(&["--stack-file", &f, "down", "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
}

/// REST API names are not unique: two APIs under the stack's name (a create that took effect
/// although its answer was lost, then a retry) and no state file to say which is the stack's —
/// `up` adopts neither and names both; with one left, it adopts that one.
#[tokio::test(flavor = "multi_thread")]
async fn two_resources_under_the_stack_name_are_refused_not_adopted() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    let f = stack_file(dir.path(), "kappa", "").to_str().expect("utf8").to_owned();
    let apigw = aws_sdk_apigateway::Client::new(&c.sdk().await);
    let name = provisioner::stack::Names::rest_api("kappa");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let api = apigw.create_rest_api().name(&name).send().await.expect("CreateRestApi");
        ids.push(api.id().expect("id").to_owned());
    }
    let up = c.provision(&["--stack-file", &f, "up"]);
    assert_ne!(up.code, 0, "up must not adopt one of two: {}", up.stderr);
    for id in &ids {
        assert!(up.stderr.contains(id.as_str()), "the refusal names {id}: {}", up.stderr);
    }
    assert!(up.stderr.contains(&format!("2 REST APIs are named {name}")), "{}", up.stderr);
    apigw.delete_rest_api().rest_api_id(&ids[1]).send().await.expect("delete one");
    let up = c.provision(&["--json", "--stack-file", &f, "up"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert!(outputs(&up)["apiUrl"].as_str().is_some_and(|u| u.contains(&ids[0])), "the one left is adopted");
    let apis = apigw.get_rest_apis().send().await.expect("apis");
    assert_eq!(apis.items().iter().filter(|a| a.name() == Some(name.as_str())).count(), 1, "no second copy made");
    let down = c.provision(&["--stack-file", &f, "down", "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
}

/// A host who is not an administrator: an IAM user holding exactly the policy `provision policy`
/// prints stands the stack up, invites someone, reads its status and tears it down, with every
/// call authorized by IAM (moto's evaluator for moto's services, the same for the Amplify and
/// Bedrock stand-ins). Without one of its statements, `up` stops at the call that needs it.
#[tokio::test(flavor = "multi_thread")]
async fn the_documented_host_policy_is_enough_to_run_the_stack() {
    let c = cloud().await;
    let dir = tempfile::tempdir().expect("tmp");
    let f = stack_file(dir.path(), "nu", "").to_str().expect("utf8").to_owned();
    let printed = c.provision(&["--stack-file", &f, "policy", "--account", "123456789012"]);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    let policy: Value = serde_json::from_str(&printed.stdout).expect("the policy is JSON");

    // The account's administrator (any key the local cloud did not issue) makes the host.
    let iam = aws_sdk_iam::Client::new(&c.sdk().await);
    iam.create_user().user_name("host").send().await.expect("CreateUser");
    let attach = |doc: Value| {
        let iam = iam.clone();
        async move {
            iam.put_user_policy()
                .user_name("host")
                .policy_name("provision-host")
                .policy_document(doc.to_string())
                .send()
                .await
                .expect("PutUserPolicy");
        }
    };
    attach(policy.clone()).await;
    let key = iam.create_access_key().user_name("host").send().await.expect("CreateAccessKey");
    let key = key.access_key().expect("key").clone();
    let as_host = |args: &[&str]| {
        let out = c
            .command(args)
            .env("AWS_ACCESS_KEY_ID", key.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", key.secret_access_key())
            .output()
            .expect("provision");
        Run::from(out)
    };
    let denied = |r: &Run| r.stderr.contains("not authorized") || r.stderr.contains("AccessDenied");

    let up = as_host(&["--stack-file", &f, "up"]);
    assert_eq!(up.code, 0, "up as the host:\n{}", up.stderr);
    assert!(up.stderr.contains("caller arn:aws:iam::123456789012:user/host"), "{}", up.stderr);
    for args in [&["--stack-file", &f, "users", "add", "ada@example.com"][..], &["--stack-file", &f, "status"]] {
        let r = as_host(args);
        assert_eq!(r.code, 0, "{args:?} as the host:\n{}", r.stderr);
    }
    let doctor = as_host(&["--stack-file", &f, "doctor"]);
    assert!(!denied(&doctor), "doctor as the host:\n{}", doctor.stderr);
    let down = as_host(&["--stack-file", &f, "down", "--yes"]);
    assert_eq!(down.code, 0, "down as the host:\n{}", down.stderr);

    // The statements are used, by moto's services and by the stand-ins alike: without one, `up`
    // stops at the first call that needs it, naming the action and the resource.
    let without = |sids: &[&str]| {
        let mut narrower = policy.clone();
        narrower["Statement"].as_array_mut().expect("statements").retain(|s| !sids.iter().any(|sid| s["Sid"] == *sid));
        narrower
    };
    attach(without(&["StackModels"])).await;
    let up = as_host(&["--stack-file", &f, "up"]);
    assert_ne!(up.code, 0, "up without the models' statement must fail:\n{}", up.stderr);
    assert!(
        up.stderr.contains("is not authorized to perform: bedrock:GetInferenceProfile on resource: arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.stability."),
        "{}",
        up.stderr
    );
    attach(without(&["EditsTable", "WebApp"])).await;
    let up = as_host(&["--stack-file", &f, "up"]);
    assert_ne!(up.code, 0, "up without the table's and the app's statements must fail:\n{}", up.stderr);
    for denial in [
        "is not authorized to perform: dynamodb:DescribeTable on resource: arn:aws:dynamodb:us-west-2:123456789012:table/nu-edits",
        "is not authorized to perform: amplify:GetApp on resource: arn:aws:amplify:us-west-2:123456789012:apps/",
    ] {
        assert!(up.stderr.contains(denial), "{denial}:\n{}", up.stderr);
    }
    attach(policy).await;
    let down = as_host(&["--stack-file", &f, "down", "--yes"]);
    assert_eq!(down.code, 0, "down as the host:\n{}", down.stderr);
}
