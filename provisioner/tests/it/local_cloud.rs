//! The local cloud end to end: `provision up --local` (its own moto, stand-ins and state, beside
//! any cloud you run), sign-in through Cognito on moto, requests through the local API Gateway
//! to the real `bootstrap`, then `provision down --local` leaves nothing and stops every process.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use support::cors::{pairs, preflight_allows, response_allows};

use crate::support;
use crate::support::Run;

/// A project of its own on a local cloud of its own (also for other modules: watch.rs).
pub(crate) struct Local {
    root: PathBuf,
    dir: tempfile::TempDir,
    state: tempfile::TempDir,
}

impl Local {
    pub(crate) fn new() -> Local {
        let root = crate::support::root();
        Local { root, dir: tempfile::tempdir().expect("tmp"), state: tempfile::tempdir().expect("tmp") }
    }

    pub(crate) fn provision(&self, args: &[&str]) -> Run {
        self.provision_with(args, &[])
    }

    pub(crate) fn provision_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_provision"))
            .args(args)
            .envs(env.iter().copied())
            .current_dir(&self.root)
            .env("PROVISION_LOCALCLOUD_DIR", self.dir.path())
            .env("PROVISION_STATE_DIR", self.state.path())
            .env("PROVISION_SITE_DIR", self.root.join("provisioner/tests/fixtures/site"))
            .env_remove("AWS_ENDPOINT_URL")
            .env("PROVISION_BOOTSTRAP", bootstrap())
            .output()
            .expect("run provision");
        Run::from(out)
    }

    /// `up --local --json`, which must succeed: the stack's outputs.
    pub(crate) fn up(&self) -> Value {
        let up = self.provision(&["--json", "up", "--local"]);
        assert_eq!(up.code, 0, "up --local failed:\n{}\n{}", up.stdout, up.stderr);
        up.stdout
            .lines()
            .filter_map(|x| serde_json::from_str::<Value>(x).ok())
            .find(|v| v["event"] == "outputs")
            .map(|v| v["outputs"].clone())
            .expect("outputs event")
    }

    /// Where the local cloud writes its logs (moto.log, notifications.jsonl, …).
    pub(crate) fn log_dir(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    pub(crate) fn cloud(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.dir.path().join("cloud.json")).expect("cloud.json"))
            .expect("json")
    }
}

/// A test that fails before its `down --local` leaves the cloud's detached processes running:
/// stop them as `down` would (their process groups), when cloud.json still names them and they
/// are still the cloud's (a pid can be reused once its process is gone).
impl Drop for Local {
    fn drop(&mut self) {
        let Ok(text) = std::fs::read_to_string(self.dir.path().join("cloud.json")) else { return };
        let Ok(cloud) = serde_json::from_str::<Value>(&text) else { return };
        for part in ["standins", "moto"] {
            let Some(pid) = cloud[part]["pid"].as_u64() else { continue };
            let ours = cloud[part]["ours"].as_bool().unwrap_or(false);
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if ours && (cmdline.contains("moto-server.py") || cmdline.contains("local-serve")) {
                let _ = Command::new("kill").args(["-TERM", "--", &format!("-{pid}")]).status();
            }
        }
    }
}

/// The workspace's own debug `bootstrap` (built by `cargo test --workspace` with the lambda
/// crate; a nested cargo build would wait forever on the lock this test run holds).
fn bootstrap() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let b = dir.join("bootstrap");
    assert!(
        b.is_file(),
        "{} is missing: run `cargo build -p image-edit-lambda` (or cargo test --workspace)",
        b.display()
    );
    b
}

/// `*.localhost` resolves to loopback in browsers; tell the HTTP client the same.
/// The AWS SDK's configuration for an endpoint of the local cloud, in the stack's region.
async fn sdk_at(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-west-2"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sts::config::Credentials::new("local", "local", None, None, "local"))
        .load()
        .await
}

pub(crate) fn client() -> reqwest::Client {
    struct Loopback;
    impl reqwest::dns::Resolve for Loopback {
        fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
            let addrs: reqwest::dns::Addrs =
                Box::new(vec![std::net::SocketAddr::from(([127, 0, 0, 1], 0))].into_iter());
            Box::pin(async move { Ok(addrs) })
        }
    }
    reqwest::Client::builder().dns_resolver(std::sync::Arc::new(Loopback)).build().expect("client")
}

/// Signs in as the web app does (SRP: the local cloud's Cognito verifies the proof).
async fn id_token(moto: &str, client_id: &str, user: &str, password: &str) -> String {
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk_at(moto).await);
    let pools = cognito.list_user_pools().max_results(60).send().await.expect("ListUserPools");
    for pool in pools.user_pools() {
        let id = pool.id().unwrap_or_default();
        let clients = cognito.list_user_pool_clients().user_pool_id(id).send().await.expect("clients");
        if clients.user_pool_clients().iter().any(|c| c.client_id() == Some(client_id)) {
            let out = provisioner::session::srp_sign_in(&cognito, id, client_id, user, password)
                .await
                .unwrap_or_else(|e| panic!("SRP sign-in of {user}: {e}"));
            return out
                .authentication_result()
                .and_then(|r| r.id_token())
                .unwrap_or_else(|| panic!("no token for {user}: {out:?}"))
                .to_owned();
        }
    }
    panic!("no pool has the app client {client_id}")
}

async fn cognito(moto: &str, target: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(moto)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{target}"))
        // moto takes the region from the credential scope: the stack's pool lives in us-west-2.
        .header("authorization", "AWS4-HMAC-SHA256 Credential=t/20260101/us-west-2/cognito-idp/aws4_request, SignedHeaders=host, Signature=0")
        .body(body.to_string())
        .send()
        .await
        .expect("cognito call")
        .json()
        .await
        .unwrap_or(Value::Null)
}

/// Re-signs `token`'s claims, changed by `edit`, with moto's own key (so only the change differs).
fn resign(root: &Path, token: &str, edit: impl FnOnce(&mut Value)) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("jwt");
    let mut claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("b64"))
            .expect("claims");
    edit(&mut claims);
    let script = "import json,sys\nfrom joserfc import jwk, jwt\nfrom moto.utilities.utils import load_resource\n\
        key = jwk.RSAKey.import_key(load_resource('cognitoidp/resources/jwks-private.json'))\n\
        print(jwt.encode({'kid': 'dummy', 'alg': 'RS256'}, json.loads(sys.argv[1]), key))";
    let out =
        Command::new(root.join(".venv/bin/python")).args(["-c", script, &claims.to_string()]).output().expect("python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The metrics in the function's namespace (`ImageEditor`), as `Name Dim=Value …` lines, from
/// moto's CloudWatch through boto3.
fn emf_metrics(root: &Path, moto: &str) -> Vec<String> {
    let python = localcloud::moto::installed(root).unwrap_or_else(|e| panic!("{e}"));
    let script = r#"
import boto3
for m in boto3.client("cloudwatch").list_metrics(Namespace="ImageEditor")["Metrics"]:
    print(" ".join([m["MetricName"]] + [f"{d['Name']}={d['Value']}" for d in m["Dimensions"]]))
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .env("AWS_ENDPOINT_URL", moto)
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_DEFAULT_REGION", "us-west-2")
        .output()
        .expect("python runs");
    assert!(out.status.success(), "list_metrics: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.split_whitespace().nth(2) != Some("Z"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_runs_on_the_local_cloud_behind_a_real_authorizer() {
    let l = Local::new();
    let outputs = l.up();
    let api = outputs["apiUrl"].as_str().expect("api url").to_owned();
    let client_id = outputs["userPoolClientId"].as_str().expect("client").to_owned();
    let pool = outputs["userPoolId"].as_str().expect("pool").to_owned();
    let email = outputs["demoUser"]["email"].as_str().expect("demo user").to_owned();
    let password = outputs["demoUser"]["password"].as_str().expect("password").to_owned();
    let cloud = l.cloud();
    let moto = cloud["moto"]["endpoint"].as_str().expect("moto").to_owned();
    let http = client();

    // The site is served at the app URL with its config.
    let app = outputs["appUrl"].as_str().expect("app url");
    let cfg: Value = http.get(format!("{app}/config.json")).send().await.expect("config").json().await.expect("json");
    assert_eq!(cfg["apiUrl"], json!(api));
    assert_eq!(cfg["local"], json!(true));

    let token = id_token(&moto, &client_id, &email, &password).await;
    // User names are case-insensitive: the same user, whatever the case typed.
    let upper = id_token(&moto, &client_id, &email.to_uppercase(), &password).await;
    let sub = |t: &str| {
        use base64::Engine;
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.split('.').nth(1).expect("jwt")).expect("b64"),
        )
        .expect("claims");
        claims["sub"].clone()
    };
    assert_eq!(sub(&upper), sub(&token));
    // `provision token` signs in with SRP, as the web app does, and the local Cognito checks the
    // proof: the wrong password is refused.
    let wrong = l.provision_with(&["token", "--local"], &[("PROVISION_PASSWORD", "Not-the-password-1")]);
    assert_eq!(wrong.code, 2, "a wrong password is refused: {}", wrong.stderr);
    assert!(wrong.stderr.contains("wrong user name or password"), "{}", wrong.stderr);
    let right = l.provision(&["token", "--local"]);
    assert_eq!(right.code, 0, "{}", right.stderr);
    assert_eq!(right.stdout.trim().split('.').count(), 3, "an SRP sign-in gives a JWT: {}", right.stdout);
    let get = |t: Option<String>| {
        let http = http.clone();
        let url = format!("{api}/edits");
        async move {
            let mut r = http.get(url).header("origin", "http://evil.example");
            if let Some(t) = t {
                r = r.header("authorization", t);
            }
            r.send().await.expect("request")
        }
    };

    // No token, an expired one, a tampered one, one from another pool: 401, with CORS headers.
    let expired = resign(&l.root, &token, |c| c["exp"] = json!(c["iat"].as_i64().unwrap_or(0) - 60));
    let mut tampered = resign(&l.root, &token, |c| c["sub"] = json!("someone-else"));
    tampered = {
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_payload = tampered.split('.').nth(1).unwrap_or_default().to_owned();
        parts[1] = &forged_payload;
        parts.join(".")
    };
    let other_pool =
        cognito(&moto, "CreateUserPool", json!({"PoolName": "intruders", "UsernameAttributes": ["email"]})).await;
    let other_id = other_pool["UserPool"]["Id"].as_str().expect("pool id").to_owned();
    let other_client = cognito(&moto, "CreateUserPoolClient", json!({"UserPoolId": other_id, "ClientName": "c", "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]})).await;
    let other_client = other_client["UserPoolClient"]["ClientId"].as_str().expect("client").to_owned();
    cognito(
        &moto,
        "AdminCreateUser",
        json!({"UserPoolId": other_id, "Username": "x@example.com", "MessageAction": "SUPPRESS"}),
    )
    .await;
    cognito(
        &moto,
        "AdminSetUserPassword",
        json!({"UserPoolId": other_id, "Username": "x@example.com", "Password": "Other-pass-123", "Permanent": true}),
    )
    .await;
    let foreign = id_token(&moto, &other_client, "x@example.com", "Other-pass-123").await;
    for (what, t) in
        [("no token", None), ("expired", Some(expired)), ("tampered", Some(tampered)), ("other pool", Some(foreign))]
    {
        let r = get(t).await;
        assert_eq!(r.status(), 401, "{what}");
        assert!(r.headers().contains_key("access-control-allow-origin"), "{what}: CORS on the 401");
    }

    // A good token reaches the function, which answers for this user only.
    let r = get(Some(token.clone())).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["items"], json!([]));
    let caps: Value = http
        .get(format!("{api}/capabilities"))
        .header("authorization", &token)
        .send()
        .await
        .expect("caps")
        .json()
        .await
        .expect("json");
    assert_eq!(caps["family"], "stability");

    // An edit end to end: gateway → the real bootstrap → the Bedrock stand-in → DynamoDB.
    let (photo, mask) = pictures();
    let post = |t: &str, path: &str, body: Value| {
        http.post(format!("{api}{path}")).header("authorization", t).json(&body).send()
    };
    let r = post(
        &token,
        "/edits",
        json!({"operation": "inpaint", "prompt": "a red bicycle", "image": photo, "mask": mask}),
    )
    .await
    .expect("edit");
    assert_eq!(r.status(), 200);
    let edit: Value = r.json().await.expect("json");
    assert_eq!(edit["standIn"], json!(true));
    let id = edit["id"].as_str().expect("id").to_owned();
    // The image is kept in the stack's bucket and handed out as a presigned link, which the
    // page's origin may read (CORS) and the local S3 checks as S3 does (localcloud's s3_links).
    let link = edit["images"][0]["url"].as_str().expect("a link to the kept image").to_owned();
    assert!(link.contains("/results/") && link.contains("X-Amz-Signature="), "{link}");
    let fetched = http.get(&link).header("origin", app).send().await.expect("fetch the kept image");
    assert_eq!(fetched.status(), 200, "{link}");
    assert_eq!(
        fetched.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()),
        Some(app),
        "the bucket's CORS names the app"
    );
    assert!(fetched.bytes().await.expect("bytes").starts_with(b"\x89PNG"), "the image itself");
    let history: Value = get(Some(token.clone())).await.json().await.expect("json");
    assert_eq!(history["items"][0]["id"], json!(id), "the history shows the edit");
    let again = history["items"][0]["results"][0]["url"].as_str().expect("the history links the image").to_owned();
    assert_eq!(http.get(&again).send().await.expect("fetch").status(), 200);
    // A link is good for its object only: another key under the same signature is refused.
    let forged = link.replacen(&format!("/{id}/"), "/01AAAAAAAAAAAAAAAAAAAAAAAA/", 1);
    assert_eq!(http.get(&forged).send().await.expect("fetch").status(), 403, "{forged}");
    // The bucket as `up` made it, read back with the AWS SDK: the image under the user's sub,
    // expired by the lifecycle rule after history.keep_days, private, encrypted.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-west-2"))
            .endpoint_url(&moto)
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "test"))
            .build(),
    );
    let bucket = outputs["resultsBucket"].as_str().expect("the results bucket is an output").to_owned();
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.expect("ListObjectsV2");
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    let owner = sub(&token);
    assert_eq!(keys, [format!("results/{}/{id}/0.png", owner.as_str().expect("sub"))], "one image, under its owner");
    let rules = s3.get_bucket_lifecycle_configuration().bucket(&bucket).send().await.expect("lifecycle");
    let rule = rules.rules().first().expect("a lifecycle rule");
    assert_eq!(rule.filter().and_then(|f| f.prefix()), Some("results/"));
    assert_eq!(rule.expiration().and_then(|e| e.days()), Some(7), "history.keep_days of stacks/dev.yaml");
    let block = s3.get_public_access_block().bucket(&bucket).send().await.expect("public access block");
    let block = block.public_access_block_configuration().expect("configured");
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let encryption = s3.get_bucket_encryption().bucket(&bucket).send().await.expect("encryption");
    let sse = encryption.server_side_encryption_configuration().and_then(|c| c.rules().first()).cloned();
    assert_eq!(
        sse.and_then(|r| r.apply_server_side_encryption_by_default().map(|d| d.sse_algorithm().as_str().to_owned())),
        Some("AES256".to_owned())
    );
    // Nobody reads it without a link.
    let bare = link.split('?').next().expect("url").to_owned();
    assert_eq!(http.get(&bare).send().await.expect("fetch").status(), 403, "{bare}");

    // User B of the same pool cannot see or delete it.
    cognito(
        &moto,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "b@example.com", "MessageAction": "SUPPRESS"}),
    )
    .await;
    cognito(
        &moto,
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "b@example.com", "Password": "User-b-pass-1", "Permanent": true}),
    )
    .await;
    let token_b = id_token(&moto, &client_id, "b@example.com", "User-b-pass-1").await;
    let b_get = http.get(format!("{api}/edits/{id}")).header("authorization", &token_b).send().await.expect("get");
    assert_eq!(b_get.status(), 404);
    let b_del = http.delete(format!("{api}/edits/{id}")).header("authorization", &token_b).send().await.expect("del");
    assert_eq!(b_del.status(), 404);
    let b_list: Value = get(Some(token_b)).await.json().await.expect("json");
    assert_eq!(b_list["items"], json!([]));

    // The seed app's contract on POST /.
    let seed = post(&token, "/", json!({"prompt": {"text": "a red bicycle", "mode": "INPAINTING"}, "mask": edit_mask_black(), "base_image": photo_b64()}))
        .await
        .expect("seed");
    assert_eq!(seed.status(), 200);
    let seed: Value = seed.json().await.expect("json");
    for k in ["images", "model_used", "request_id", "generation_time_ms"] {
        assert!(seed.get(k).is_some(), "seed response has {k}: {seed}");
    }

    // Preflight is open and carries the app's origin.
    let pre = http
        .request(reqwest::Method::OPTIONS, format!("{api}/edits"))
        .header("origin", app)
        .send()
        .await
        .expect("options");
    assert_eq!(pre.status(), 200);
    assert_eq!(pre.headers()["access-control-allow-origin"], app);

    // `provision token` signs the demo user in: its token passes the authorizer as the app's does.
    let tok = l.provision(&["token", "--local"]);
    assert_eq!(tok.code, 0, "{}", tok.stderr);
    let cli_token = tok.stdout.trim().to_owned();
    assert_eq!(cli_token.split('.').count(), 3, "a JWT: {}", tok.stdout);
    let r = get(Some(cli_token.clone())).await;
    assert_eq!(r.status(), 200);
    let bad =
        l.provision_with(&["token", "--local", "--username", &email], &[("PROVISION_PASSWORD", "not-the-password-1")]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("wrong user name or password"));

    // `provision logs`: the function's output reached CloudWatch Logs (moto's), as on AWS, with
    // Lambda's own START/REPORT lines — and no token or image data in it.
    let mut logs = l.provision(&["logs", "--local", "--since", "1h"]);
    for _ in 0..20 {
        if logs.stdout.contains("request done") && logs.stdout.contains("REPORT RequestId") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
        logs = l.provision(&["logs", "--local", "--since", "1h"]);
    }
    assert_eq!(logs.code, 0, "{}", logs.stderr);
    for needle in ["START RequestId", "REPORT RequestId", "Memory Size: 1024 MB", "\"route\":\"POST /edits\""] {
        assert!(logs.stdout.contains(needle), "no {needle} in logs:\n{}", logs.stdout);
    }
    assert!(!logs.stdout.contains(&cli_token[..40]), "a token in the logs");
    // The seed route's `request_id` is the id its log line carries.
    let seed_id = seed["request_id"].as_str().expect("request_id");
    assert!(
        logs.stdout.contains(&format!("\"request_id\":\"{seed_id}\"")),
        "{seed_id} not in the logs:\n{}",
        logs.stdout
    );
    // One execution environment served every request so far: a single cold start, as on Lambda.
    assert_eq!(logs.stdout.matches("\"message\":\"cold start\"").count(), 1, "{}", logs.stdout);
    assert!(!logs.stdout.contains("iVBORw0KGgo"), "image data in the logs");
    // The function's EMF lines became CloudWatch metrics on the way in, as CloudWatch Logs makes
    // them (asked with boto3, a client nobody here wrote).
    let metrics = emf_metrics(&l.root, &moto);
    for wanted in ["Latency Function=dev-edit Route=POST /edits", "ModelLatency Function=dev-edit Operation=inpaint"] {
        assert!(metrics.iter().any(|m| m == wanted), "no {wanted} among {metrics:?}");
    }

    // The gateway interprets the deployed definition: open a method and redeploy → it lets
    // requests through, and the provisioner's own check flags the method.
    let sdk = sdk_at(&moto).await;
    let apigw = aws_sdk_apigateway::Client::new(&sdk);
    let api_id = outputs["restApiId"].as_str().expect("api id");
    let resources = apigw.get_resources().rest_api_id(api_id).send().await.expect("resources");
    let caps_rid =
        resources.items().iter().find(|r| r.path() == Some("/capabilities")).and_then(|r| r.id()).expect("rid");
    // (moto cannot patch authorizationType: replace the method, keeping its integration.)
    let m =
        apigw.get_method().rest_api_id(api_id).resource_id(caps_rid).http_method("GET").send().await.expect("method");
    let uri = m.method_integration().and_then(|i| i.uri()).expect("uri").to_owned();
    apigw.delete_method().rest_api_id(api_id).resource_id(caps_rid).http_method("GET").send().await.expect("delete");
    apigw
        .put_method()
        .rest_api_id(api_id)
        .resource_id(caps_rid)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .expect("put method");
    apigw
        .put_integration()
        .rest_api_id(api_id)
        .resource_id(caps_rid)
        .http_method("GET")
        .r#type(aws_sdk_apigateway::types::IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(uri)
        .send()
        .await
        .expect("put integration");
    let before = http.get(format!("{api}/capabilities")).send().await.expect("caps");
    assert_eq!(before.status(), 401, "not deployed yet: the stage still serves the old definition");
    apigw.create_deployment().rest_api_id(api_id).stage_name("prod").send().await.expect("deploy");
    let open = http.get(format!("{api}/capabilities")).send().await.expect("caps");
    assert_ne!(open.status(), 401, "NONE means no authorizer: the gateway assumes nothing");
    let status = l.provision(&["status", "--local"]);
    assert!(status.stdout.contains("GET /capabilities is reachable without a Cognito token"), "{}", status.stdout);
    assert_ne!(status.code, 0);

    // Every operation of the default stack answers through the ids it is deployed with — the
    // `us.` inference profiles of the Stability Image Services (the Bedrock stand-in refuses their
    // plain ids, as Bedrock does) and Stable Image Core in-region.
    let (photo, mask) = pictures();
    for body in [
        json!({"operation": "inpaint", "prompt": "a red bicycle", "image": photo, "mask": mask}),
        json!({"operation": "outpaint", "prompt": "more sea", "image": photo, "options": {"extents": {"left": 64, "down": 32}}}),
        json!({"operation": "replace", "prompt": "a cat", "maskPrompt": "the box", "image": photo}),
        json!({"operation": "recolor", "prompt": "bright red", "maskPrompt": "the box", "image": photo}),
        json!({"operation": "erase", "image": photo, "mask": mask}),
        json!({"operation": "remove-background", "image": photo}),
        json!({"operation": "sketch", "prompt": "a castle", "image": photo}),
        json!({"operation": "structure", "prompt": "a castle of glass", "image": photo}),
        json!({"operation": "style-guide", "prompt": "a lighthouse", "image": photo}),
        json!({"operation": "style-transfer", "image": photo, "styleImage": photo, "options": {"strength": 0.6}}),
        json!({"operation": "upscale", "image": photo}),
        json!({"operation": "upscale", "prompt": "sharp", "image": photo, "options": {"upscaler": "conservative"}}),
        json!({"operation": "upscale", "prompt": "sharp", "image": photo, "options": {"upscaler": "creative"}}),
        json!({"operation": "generate", "prompt": "a lighthouse"}),
        json!({"operation": "generate", "prompt": "a lighthouse", "options": {"generator": "ultra"}}),
        json!({"operation": "generate", "prompt": "a lighthouse", "options": {"generator": "sd3.5-large"}}),
        json!({"operation": "variation", "prompt": "at night", "image": photo}),
    ] {
        let r =
            http.post(format!("{api}/edits")).header("authorization", &token).json(&body).send().await.expect("edit");
        let status = r.status();
        let answer: Value = r.json().await.expect("json");
        assert_eq!(status, 200, "{}: {answer}", body["operation"]);
        let model = answer["model"].as_str().unwrap_or_default();
        // The text-to-image models (and SD3.5's image-to-image) are in-region, the Image Services
        // behind their `us.` profiles.
        let in_region = body["operation"] == "generate" || body["operation"] == "variation";
        let expected_prefix = if in_region { "stability." } else { "us.stability." };
        assert!(model.starts_with(expected_prefix), "{}: {model}", body["operation"]);
    }

    // `up` subscribed the account to every model the stack uses (the function's role may not):
    // without the agreement an edit is refused, and the next `up` makes it again.
    let standins = cloud["standins"]["endpoint"].as_str().expect("stand-ins").to_owned();
    let sdk = sdk_at(&standins).await;
    let control = aws_sdk_bedrock::Client::new(&sdk);
    let erase_model = "stability.stable-image-erase-object-v1:0";
    control.delete_foundation_model_agreement().model_id(erase_model).send().await.expect("unsubscribe");
    let erase = json!({"operation": "erase", "image": photo, "mask": mask});
    let r = http.post(format!("{api}/edits")).header("authorization", &token).json(&erase).send().await.expect("edit");
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<Value>().await.expect("json")["error"]["code"], "model_unavailable");
    let again = l.provision(&["up", "--local"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stderr.contains("subscribing the account to Stable Image Erase Object"), "{}", again.stderr);
    assert!(again.stderr.contains("model access: Stable Image Inpaint: subscribed"), "{}", again.stderr);
    let r = http.post(format!("{api}/edits")).header("authorization", &token).json(&erase).send().await.expect("edit");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let doctor = l.provision(&["doctor", "--local"]);
    assert!(doctor.stdout.contains("ok   model access"), "{}", doctor.stdout);

    // The gateway invokes the function only as the function's resource policy allows (principal
    // apigateway.amazonaws.com, SourceArn of this API): without the statement API Gateway answers
    // 500 API_CONFIGURATION_ERROR through the stack's DEFAULT_5XX response (with CORS), and `up`
    // puts the statement back.
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    lambda.remove_permission().function_name("dev-edit").statement_id("dev-apigw-invoke").send().await.expect("remove");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // the gateway re-reads policies each second
    let r = http
        .get(format!("{api}/usage"))
        .header("authorization", &token)
        .header("origin", app)
        .send()
        .await
        .expect("usage");
    assert_eq!(r.status(), 500);
    assert!(r.headers().get("access-control-allow-origin").is_some(), "CORS on the gateway's own 500");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "API_CONFIGURATION_ERROR", "{body}");
    let status = l.provision(&["status", "--local"]);
    assert_ne!(status.code, 0, "status sees the missing permission:\n{}", status.stdout);
    let fixed = l.provision(&["up", "--local"]);
    assert_eq!(fixed.code, 0, "{}", fixed.stderr);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = http.get(format!("{api}/usage")).header("authorization", &token).send().await.expect("usage");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());

    // API Gateway URL-decodes the query string: `?limit=%32%30` is `limit=20`.
    let r = http.get(format!("{api}/edits?limit=%32%30")).header("authorization", &token).send().await.expect("get");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());

    // Lambda runs concurrent invocations in separate execution environments: 12 parallel 1 MP
    // edits all answer 200 (one environment serving them one by one would push most past 29 s).
    let (photo_1mp, mask_1mp) = (
        format!("data:image/png;base64,{}", png(noise(1024, 1024))),
        png(image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(1024, 1024, |x, y| {
            if (300..700).contains(&x) && (300..700).contains(&y) { image::Rgb([255; 3]) } else { image::Rgb([0; 3]) }
        }))),
    );
    let body = json!({"operation": "inpaint", "prompt": "a red bicycle", "image": photo_1mp, "mask": mask_1mp});
    let started = std::time::Instant::now();
    let answers = futures::future::join_all((0..12).map(|_| {
        let req = http.post(format!("{api}/edits")).header("authorization", &token).json(&body);
        async move {
            let r = req.send().await.expect("edit");
            (r.status().as_u16(), r.text().await.unwrap_or_default().len())
        }
    }))
    .await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses, vec![200; 12], "12 parallel edits");
    println!(
        "12 parallel 1 MP inpaints: {:?}, answers of {:?} bytes",
        started.elapsed(),
        answers.iter().map(|a| a.1).collect::<Vec<_>>()
    );

    // A Bedrock slower than the request's budget: the function stops waiting in time to answer its
    // own JSON 504 (with CORS) before API Gateway's 29 s timeout would answer a bare one.
    let standins = cloud["standins"]["endpoint"].as_str().expect("stand-ins").to_owned();
    let set = |v: Value| {
        let http = reqwest::Client::new();
        let url = format!("{standins}/_localcloud/bedrock/config");
        async move { assert!(http.post(url).json(&v).send().await.expect("switch").status().is_success()) }
    };
    set(json!({"latencyMs": 40_000})).await;
    let started = std::time::Instant::now();
    let r = http
        .post(format!("{api}/edits"))
        .header("authorization", &token)
        .header("origin", app)
        .json(&json!({"operation": "generate", "prompt": "a lighthouse"}))
        .send()
        .await
        .expect("edit");
    let waited = started.elapsed();
    set(json!({})).await;
    assert_eq!(r.status(), 504);
    assert_eq!(r.headers()["access-control-allow-origin"], app);
    let body: Value = r.json().await.expect("the function's JSON, not the gateway's");
    assert_eq!(body["error"]["code"], "model_timeout", "{body}");
    assert!(waited < std::time::Duration::from_secs(29), "answered after {waited:?}");
    println!(
        "deadline: the function's 504 came {:?} before API Gateway's 29 s",
        std::time::Duration::from_secs(29) - waited
    );

    cors_as_browsers_see_it(&l, &http, &api, app, &token).await;
    a_burst_over_the_stage_throttle_gets_429(&l, &http, &api, app, &token).await;
    lambda_concurrency_as_a_fresh_account_has_it(&l, &http, &api, app, &token).await;
    daily_limits_hold_through_the_gateway(&l, &http, &api, app, &token, &client_id, &pool).await;
    sign_ups_are_vetted_by_the_pools_trigger(&l, &client_id, &pool).await;

    // down --local: the documented teardown, nothing left, every process stopped.
    let pids: Vec<u64> = ["moto", "standins"].iter().filter_map(|p| cloud[p]["pid"].as_u64()).collect();
    assert_eq!(pids.len(), 2);
    let down = l.provision(&["down", "--local", "--yes"]);
    assert_eq!(down.code, 0, "{}\n{}", down.stdout, down.stderr);
    assert!(down.stderr.contains("nothing of stack `dev` is left"), "{}", down.stderr);
    for pid in pids {
        assert!(!alive(pid), "process {pid} still running after down --local");
    }
}

/// `--json` holds for every command: stdout is JSON only (one document, or NDJSON events for long
/// work), errors included; what people read goes to stderr.
#[tokio::test(flavor = "multi_thread")]
async fn every_command_prints_only_json_under_json() {
    let l = Local::new();
    let json_lines = |what: &str, run: &Run| -> Vec<Value> {
        let lines: Vec<Value> = run
            .stdout
            .lines()
            .filter(|x| !x.trim().is_empty())
            .map(|x| serde_json::from_str(x).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {x}\n{}", run.stderr)))
            .collect();
        assert!(!lines.is_empty(), "{what}: nothing on stdout\n{}", run.stderr);
        lines
    };
    let ok = |args: &[&str]| {
        let run = l.provision(args);
        assert_eq!(run.code, 0, "{args:?}\n{}\n{}", run.stdout, run.stderr);
        json_lines(&format!("{args:?}"), &run)
    };
    let up = ok(&["--json", "up", "--local"]);
    assert!(up.iter().any(|e| e["event"] == "outputs"));
    assert!(ok(&["--json", "diff", "--local"]).iter().all(|e| e["action"].is_string()));
    let status = ok(&["--json", "status", "--local"]);
    assert_eq!(status.len(), 1);
    assert!(
        status[0]["resources"].as_array().is_some_and(|r| r.iter().all(|r| r["state"] == "in-sync")),
        "{}",
        status[0]
    );
    assert!(ok(&["--json", "outputs", "--local"])[0]["apiUrl"].is_string());
    let doctor = ok(&["--json", "doctor", "--local"]);
    assert!(doctor[0]["checks"].as_array().is_some_and(|c| c.iter().all(|c| c["ok"] == true)), "{}", doctor[0]);
    // Bedrock's quotas are read through Service Quotas as on AWS; the local cloud lists none.
    let checks = doctor[0]["checks"].as_array().cloned().unwrap_or_default();
    let quota_lines: Vec<&str> =
        checks.iter().filter(|c| c["check"] == "bedrock quota").filter_map(|c| c["detail"].as_str()).collect();
    assert!(
        !quota_lines.is_empty() && quota_lines.iter().all(|d| d.contains("Service Quotas lists no quota")),
        "{}",
        doctor[0]
    );
    assert!(ok(&["--json", "token", "--local"])[0]["idToken"].as_str().is_some_and(|t| t.split('.').count() == 3));
    let logs = l.provision(&["--json", "logs", "--local", "--since", "1h"]);
    assert_eq!(logs.code, 0, "{}", logs.stderr);
    assert!(logs.stdout.lines().all(|x| serde_json::from_str::<Value>(x).is_ok_and(|v| v["event"] == "log")));
    assert_eq!(
        ok(&["--json", "users", "add", "--local", "json@example.com"])[0]["users"][0]["email"],
        "json@example.com"
    );
    assert!(ok(&["--json", "users", "list", "--local"])[0]["users"].is_array());
    assert!(ok(&["--json", "users", "remove", "--local", "json@example.com"])[0]["users"].is_array());
    assert!(ok(&["--json", "synth"])[0]["Resources"].is_object());
    let dry = ok(&["--json", "down", "--local", "--dry-run"]);
    assert_eq!(dry[0]["order"][0]["what"], "CloudWatch alarms", "{}", dry[0]);
    assert_eq!(dry[0]["order"][3]["what"], "Amplify app", "{}", dry[0]);
    assert!(dry[0]["wouldDelete"].as_array().is_some_and(|w| !w.is_empty()));
    let down = ok(&["--json", "down", "--local", "--yes"]);
    assert_eq!(down.last().map(|e| e["event"].clone()), Some(json!("done")));
    // An error is JSON too, with the exit code it ends with.
    let err = l.provision(&["--json", "status", "--local"]);
    assert_eq!(err.code, 2, "{}", err.stderr);
    let doc = &json_lines("status without a local cloud", &err)[0];
    assert_eq!(doc["error"]["exit"], 2, "{doc}");
    assert!(doc["error"]["message"].as_str().is_some_and(|m| m.contains("local cloud is not running")));
}

/// The requests browsers send, replayed: a preflight (Origin, Access-Control-Request-Method,
/// Access-Control-Request-Headers), then the request, judged by the Fetch standard's rules
/// (support/cors.rs) — for the SPA, the seed page's header set, an extra origin and a foreign one.
async fn cors_as_browsers_see_it(l: &Local, http: &reqwest::Client, api: &str, app: &str, token: &str) {
    const SPA: &[&str] = &["content-type", "authorization"];
    // The seed application's api.js sends these two as request headers too.
    const SEED: &[&str] =
        &["content-type", "authorization", "access-control-allow-origin", "access-control-allow-headers"];
    const DEV: &str = "http://localhost:5173";
    const FOREIGN: &str = "https://evil.example";
    let preflight = |origin: &'static str, method: &'static str, path: &'static str, headers: &'static [&str]| {
        let http = http.clone();
        let url = format!("{api}{path}");
        async move {
            let r = http
                .request(reqwest::Method::OPTIONS, url)
                .header("origin", origin)
                .header("access-control-request-method", method)
                .header("access-control-request-headers", headers.join(","))
                .send()
                .await
                .expect("preflight");
            preflight_allows(r.status().as_u16(), &pairs(r.headers()), origin, method, headers)
        }
    };
    let app: &'static str = Box::leak(app.to_owned().into_boxed_str());
    let seed_body = json!({"prompt": {"text": "a red bicycle", "mode": "INPAINTING"}, "mask": edit_mask_black(), "base_image": photo_b64()});
    let seed_post = |origin: &str| {
        http.post(format!("{api}/"))
            .header("origin", origin)
            .header("authorization", token)
            .header("access-control-allow-origin", "*")
            .header("access-control-allow-headers", "Content-Type")
            .json(&seed_body)
            .send()
    };

    // The stack as deployed: the app's origin only.
    for (path, method, headers) in [("/edits", "POST", SPA), ("/edits/{id}", "DELETE", SPA), ("/", "POST", SEED)] {
        let path = if path == "/edits/{id}" { "/edits/some-id" } else { path };
        preflight(app, method, path, headers).await.unwrap_or_else(|e| panic!("app {method} {path}: {e}"));
        assert!(preflight(DEV, method, path, headers).await.is_err(), "{DEV} allowed before it is configured");
        assert!(preflight(FOREIGN, method, path, headers).await.is_err(), "{FOREIGN} allowed");
    }
    let r = seed_post(app).await.expect("seed request");
    assert_eq!(r.status(), 200, "the seed page's request");
    response_allows(&pairs(r.headers()), app).expect("the seed page reads the answer");
    // The gateway's own 401, in the function's error shape, readable by the app.
    let r = http.get(format!("{api}/edits")).header("origin", app).send().await.expect("401");
    assert_eq!(r.status(), 401);
    response_allows(&pairs(r.headers()), app).expect("the app reads the gateway's 401");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body, json!({"error": {"code": "UNAUTHORIZED", "message": "Unauthorized"}}));
    let r = http.get(format!("{api}/edits")).header("origin", FOREIGN).send().await.expect("401");
    assert!(response_allows(&pairs(r.headers()), FOREIGN).is_err(), "a foreign page reads the 401");
    let r = http.get(format!("{api}/no-such-route")).header("authorization", token).send().await.expect("403");
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "MISSING_AUTHENTICATION_TOKEN", "{body}");

    // `cors.extra_origins` added: the update redeploys, and the extra origin passes everywhere.
    // The stack's name is the file's: the same `dev`, from another directory.
    let file = dev_variant(l, "extra-origin", &[("extra_origins: []", &format!("extra_origins: [\"{DEV}\"]"))]);
    let up = l.provision(&["up", "--local", "--stack-file", &file]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    for origin in [app, DEV] {
        preflight(origin, "POST", "/edits", SPA).await.unwrap_or_else(|e| panic!("{origin}: {e}"));
        preflight(origin, "POST", "/", SEED).await.unwrap_or_else(|e| panic!("{origin} seed: {e}"));
        let r = http.get(format!("{api}/edits")).header("origin", origin).header("authorization", token).send().await;
        let r = r.expect("list");
        assert_eq!(r.status(), 200);
        response_allows(&pairs(r.headers()), origin).unwrap_or_else(|e| panic!("{origin} reads its history: {e}"));
        let r = http.get(format!("{api}/edits")).header("origin", origin).send().await.expect("401");
        assert_eq!(r.status(), 401);
        response_allows(&pairs(r.headers()), origin).unwrap_or_else(|e| panic!("{origin} reads the 401: {e}"));
    }
    let r = seed_post(DEV).await.expect("seed request");
    assert_eq!(r.status(), 200);
    response_allows(&pairs(r.headers()), DEV).expect("the seed page on the extra origin reads the answer");
    // A foreign page: refused at the preflight, so its request never carries a token; the
    // function never allows it either.
    assert!(preflight(FOREIGN, "POST", "/edits", SPA).await.is_err());
    assert!(preflight(FOREIGN, "GET", "/edits", &["authorization"]).await.is_err());
    let r = http.get(format!("{api}/edits")).header("origin", FOREIGN).header("authorization", token).send().await;
    assert!(response_allows(&pairs(r.expect("list").headers()), FOREIGN).is_err());
    // Documented limit: a gateway response cannot test the origin (no template logic), so with
    // extra origins its 4XX/5XX allow any origin (`*`, whatever the case of the request's Origin
    // header); they carry no data.
    let r = http.get(format!("{api}/edits")).header("origin", FOREIGN).send().await.expect("401");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");

    // Back to the stack file as it was.
    let up = l.provision(&["up", "--local"]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    assert!(preflight(DEV, "POST", "/edits", SPA).await.is_err(), "{DEV} still allowed after it was removed");
}

/// `api.throttle` reaches the stage (no redeployment needed) and the gateway stand-in applies it
/// per method as API Gateway does: a burst above it gets THROTTLED (429) in the error shape, with
/// CORS, and never reaches the function.
async fn a_burst_over_the_stage_throttle_gets_429(
    l: &Local,
    http: &reqwest::Client,
    api: &str,
    app: &str,
    token: &str,
) {
    let file = dev_variant(l, "throttled", &[("throttle: {rate: 50, burst: 100}", "throttle: {rate: 1, burst: 3}")]);
    let up = l.provision(&["up", "--local", "--stack-file", &file]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let burst = (0..10)
        .map(|_| http.get(format!("{api}/capabilities")).header("authorization", token).header("origin", app).send());
    let answers = futures::future::join_all(burst).await;
    let mut ok = 0;
    let mut throttled = 0;
    for r in answers {
        let r = r.expect("request");
        match r.status().as_u16() {
            200 => ok += 1,
            429 => {
                throttled += 1;
                response_allows(&pairs(r.headers()), app).expect("the app reads the 429");
                assert_eq!(r.headers()["retry-after"], "1", "the gateway's own 429 says when to try again");
                assert_eq!(r.headers()["access-control-expose-headers"], "Retry-After");
                let body: Value = r.json().await.expect("json");
                assert_eq!(body["error"]["code"], "THROTTLED", "{body}");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!((3..=4).contains(&ok) && throttled == 10 - ok, "{ok} answered, {throttled} throttled");
    // Another method has its own bucket.
    let r = http.get(format!("{api}/edits")).header("authorization", token).send().await.expect("list");
    assert_eq!(r.status(), 200);
    let up = l.provision(&["up", "--local"]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
}

/// A fresh account's Lambda concurrency (10, set on the stand-in as Service Quotas would): what
/// `GetAccountSettings` says, a reservation that would leave less than the account's minimum
/// unreserved refused as Lambda refuses it, and a burst above the limit: Lambda throttles, API
/// Gateway answers its INTEGRATION_FAILURE response, which the stack makes a 503 with
/// Retry-After and CORS (nothing ran, so it is safe to send again), and the rest complete.
async fn lambda_concurrency_as_a_fresh_account_has_it(
    l: &Local,
    http: &reqwest::Client,
    api: &str,
    app: &str,
    token: &str,
) {
    let cloud = l.cloud();
    let standins = cloud["standins"]["endpoint"].as_str().expect("stand-ins").to_owned();
    let config = |v: Value| {
        let http = http.clone();
        let url = format!("{standins}/_localcloud/lambda/config");
        async move {
            let r = http.post(url).json(&v).send().await.expect("lambda config");
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        }
    };
    let bedrock = |v: Value| {
        let http = http.clone();
        let url = format!("{standins}/_localcloud/bedrock/config");
        async move {
            let r = http.post(url).json(&v).send().await.expect("bedrock config");
            assert_eq!(r.status(), 200);
        }
    };
    config(json!({"accountConcurrency": 10})).await;
    let sdk = sdk_at(&standins).await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let settings = lambda.get_account_settings().send().await.expect("GetAccountSettings");
    let limit = settings.account_limit().expect("AccountLimit");
    assert_eq!((limit.concurrent_executions(), limit.unreserved_concurrent_executions()), (10, Some(10)));
    let refused = lambda
        .put_function_concurrency()
        .function_name("dev-edit")
        .reserved_concurrent_executions(2)
        .send()
        .await
        .expect_err("an account of 10 has nothing to reserve");
    let message = format!("{:?}", refused.as_service_error());
    assert!(
        refused.as_service_error().is_some_and(|e| e.is_invalid_parameter_value_exception())
            && message.contains("below its minimum value of [10]"),
        "{message}"
    );

    // A stack that would reserve what the account cannot give: exit 2 before anything exists.
    let dev = dev_variant(l, "tiny", &[("  memory_mb: 1024", "  reserved_concurrency: 2\n  memory_mb: 1024")]);
    let tiny = std::path::Path::new(&dev).with_file_name("tiny.yaml");
    std::fs::rename(&dev, &tiny).expect("rename");
    let up = l.provision(&["up", "--local", "--stack-file", tiny.to_str().expect("utf-8")]);
    assert_eq!(up.code, 2, "{}\n{}", up.stdout, up.stderr);
    assert!(
        up.stderr.contains("function.reserved_concurrency: 2 is more than this account can reserve in us-west-2 (0)")
            && up.stderr.contains("minimum value of [10]"),
        "{}",
        up.stderr
    );
    let gone = lambda.get_function().function_name("tiny-edit").send().await.expect_err("no function was created");
    assert!(gone.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()), "{gone:?}");
    let pools = l.provision(&["--json", "status", "--local", "--stack-file", tiny.to_str().expect("utf-8")]);
    assert!(!pools.stdout.contains("tiny-users\""), "{}", pools.stdout);

    // 16 edits at once, each holding the function for a second: 10 run, 6 are throttled.
    bedrock(json!({"latencyMs": 1000})).await;
    let edits = (0..16).map(|_| {
        http.post(format!("{api}/edits"))
            .header("authorization", token)
            .header("origin", app)
            .json(&json!({"operation": "generate", "prompt": "a lighthouse"}))
            .send()
    });
    let answers = futures::future::join_all(edits).await;
    let (mut ok, mut throttled) = (0, 0);
    for r in answers {
        let r = r.expect("edit");
        match r.status().as_u16() {
            200 => ok += 1,
            503 => {
                throttled += 1;
                response_allows(&pairs(r.headers()), app).expect("the app reads the 503");
                assert_eq!(r.headers()["retry-after"], "1");
                let body: Value = r.json().await.expect("json");
                assert_eq!(body["error"]["code"], "INTEGRATION_FAILURE", "{body}");
            }
            other => panic!("unexpected {other}: {}", r.text().await.unwrap_or_default()),
        }
    }
    bedrock(json!({})).await;
    config(json!({"accountConcurrency": 1000})).await;
    println!(
        "lambda concurrency 10: 16 edits at once → {ok} made, {throttled} × 503 INTEGRATION_FAILURE (Retry-After 1)"
    );
    assert_eq!(ok + throttled, 16);
    assert!(ok >= 10 && throttled >= 1, "{ok} made, {throttled} throttled");
}

/// A copy of stacks/dev.yaml with each `from` replaced by its `to` (asserting dev.yaml has `from`).
fn dev_variant(l: &Local, name: &str, edits: &[(&str, &str)]) -> String {
    let file = l.dir.path().join(name).join("dev.yaml");
    std::fs::create_dir_all(file.parent().expect("dir")).expect("mkdir");
    let mut dev = std::fs::read_to_string(l.root.join("stacks/dev.yaml")).expect("dev.yaml");
    for (from, to) in edits {
        assert!(dev.contains(from), "stacks/dev.yaml has `{from}`");
        dev = dev.replace(from, to);
    }
    std::fs::write(&file, dev).expect("write");
    file.to_str().expect("utf-8").to_owned()
}

/// `limits` through the real gateway, authorizer, function and DynamoDB emulator: with 3 images a
/// user and room for 5 more in the app today, 20 concurrent requests of one user make exactly 3
/// model calls (the Bedrock stand-in counts them) and 17 answers of 429 `quota_exceeded` with
/// Retry-After and CORS; another user gets the app's remaining 2, then the app-wide 429. The local
/// cloud's DynamoDB conflicts as DynamoDB does, so this also proves that the counting rides
/// through a burst (a transaction on the app's counter would be cancelled: 503s).
/// `GET /usage` tells each what is left.
async fn daily_limits_hold_through_the_gateway(
    l: &Local,
    http: &reqwest::Client,
    api: &str,
    app: &str,
    token: &str,
    client_id: &str,
    pool: &str,
) {
    let usage = |t: String| {
        let http = http.clone();
        let url = format!("{api}/usage");
        async move {
            let r = http.get(url).header("authorization", t).header("origin", app).send().await.expect("usage");
            assert_eq!(r.status(), 200);
            response_allows(&pairs(r.headers()), app).expect("the app reads its usage");
            r.json::<Value>().await.expect("json")
        }
    };
    // Earlier steps made images today: the app-wide limit is set just above what they made.
    let before = usage(token.to_owned()).await;
    let app_used = before["app"]["used"].as_u64().expect("app used");
    assert_eq!(before["app"]["limit"], 500, "{before}");
    assert_eq!(before["user"]["limit"], 50, "{before}");
    let per_day = format!("edits_per_day: {}", app_used + 5);
    let file = dev_variant(
        l,
        "limited",
        &[
            ("edits_per_user_per_day: 50", "edits_per_user_per_day: 3"),
            ("edits_per_day: 500", &per_day),
            // The burst of 20 reaches the function (the default throttle lets 100 through at once).
        ],
    );
    let up = l.provision(&["up", "--local", "--stack-file", &file]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let cloud = l.cloud();
    let standins = cloud["standins"]["endpoint"].as_str().expect("stand-ins").to_owned();
    let moto = cloud["moto"]["endpoint"].as_str().expect("moto").to_owned();
    let model_calls = || {
        let url = format!("{standins}/_localcloud/bedrock/invocations");
        async move {
            let v: Value = reqwest::get(url).await.expect("count").json().await.expect("json");
            v["count"].as_u64().expect("count")
        }
    };
    let fresh_user = |name: &'static str| {
        let moto = moto.clone();
        async move {
            let email = format!("{name}@example.com");
            let created = cognito(
                &moto,
                "AdminCreateUser",
                json!({"UserPoolId": pool, "Username": email, "MessageAction": "SUPPRESS"}),
            )
            .await;
            assert!(created["User"].is_object(), "{created}");
            cognito(
                &moto,
                "AdminSetUserPassword",
                json!({"UserPoolId": pool, "Username": email, "Password": "Quota-pass-2026", "Permanent": true}),
            )
            .await;
            id_token(&moto, client_id, &email, "Quota-pass-2026").await
        }
    };
    let edit = |t: String| {
        let http = http.clone();
        let url = format!("{api}/edits");
        async move {
            http.post(url)
                .header("authorization", t)
                .header("origin", app)
                .json(&json!({"operation": "generate", "prompt": "a lighthouse"}))
                .send()
                .await
                .expect("edit")
        }
    };
    // 20 at once → (images made, model calls, the refusals' messages).
    let burst = |t: String| async move {
        let calls = model_calls().await;
        let answers = futures::future::join_all((0..20).map(|_| edit(t.clone()))).await;
        let mut made = 0;
        let mut refused = Vec::new();
        for r in answers {
            match r.status().as_u16() {
                200 => made += 1,
                429 => {
                    response_allows(&pairs(r.headers()), app).expect("the app reads the 429");
                    let retry: u64 = r.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
                    assert!((1..=86_400).contains(&retry), "Retry-After {retry}");
                    let body: Value = r.json().await.expect("json");
                    assert_eq!(body["error"]["code"], "quota_exceeded", "{body}");
                    refused.push(body["error"]["message"].as_str().unwrap_or_default().to_owned());
                }
                other => panic!("unexpected {other}: {}", r.text().await.unwrap_or_default()),
            }
        }
        (made, model_calls().await - calls, refused)
    };

    let ann = fresh_user("quota-ann").await;
    let (made, calls, refused) = burst(ann.clone()).await;
    println!("limits: one user's 20 concurrent requests → {made} images, {calls} model calls, {} × 429", refused.len());
    assert_eq!((made, calls, refused.len()), (3, 3, 17));
    assert!(refused.iter().all(|m| m.contains("today's 3 images")), "{refused:?}");
    let u = usage(ann).await;
    assert_eq!((u["left"].as_u64(), u["user"]["used"].as_u64()), (Some(0), Some(3)), "{u}");

    let bo = fresh_user("quota-bo").await;
    let (made, calls, refused) = burst(bo.clone()).await;
    println!("limits: another user's 20 → {made} images, {calls} model calls (the app's last 2)");
    assert_eq!((made, calls, refused.len()), (2, 2, 18));
    // The app is full: that is the reason given (a refusal that raced the last two images to the
    // app's counter may still name the user's own limit, which their requests in flight filled).
    assert!(refused.iter().any(|m| m.contains("this app has made its")), "{refused:?}");
    assert!(
        refused.iter().all(|m| m.contains("this app has made its") || m.contains("today's 3 images")),
        "{refused:?}"
    );
    let u = usage(bo).await;
    assert_eq!(u["app"]["left"], 0, "{u}");
    assert_eq!(u["user"]["left"], 1, "{u}");
    assert_eq!(u["left"], 0, "{u}");

    let up = l.provision(&["up", "--local"]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
}

/// `auth.allowed_email_domains`: the pool's PreSignUp trigger (the function) refuses a self
/// sign-up from another domain, through Cognito as a client meets it, and lets an invitation of
/// any address through; the trigger needs its permission (the stand-in checks it as Cognito does,
/// and `up` puts a removed one back); turning the setting off removes trigger and permission.
async fn sign_ups_are_vetted_by_the_pools_trigger(l: &Local, client_id: &str, pool: &str) {
    let file = dev_variant(
        l,
        "vetted",
        &[
            ("self_sign_up: false", "self_sign_up: true"),
            ("allowed_email_domains: []", "allowed_email_domains: [example.com]"),
        ],
    );
    let up = l.provision(&["up", "--local", "--stack-file", &file]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let cloud = l.cloud();
    let moto = cloud["moto"]["endpoint"].as_str().expect("moto").to_owned();
    let standins = cloud["standins"]["endpoint"].as_str().expect("stand-ins").to_owned();
    let described = cognito(&moto, "DescribeUserPool", json!({"UserPoolId": pool})).await;
    let trigger = described["UserPool"]["LambdaConfig"]["PreSignUp"].as_str().unwrap_or_default().to_owned();
    assert!(trigger.ends_with(":function:dev-edit"), "{described}");
    let sign_up = |email: &str| {
        let body = json!({"ClientId": client_id, "Username": email, "Password": "Signup-pass-2026",
                          "UserAttributes": [{"Name": "email", "Value": email}]});
        let moto = moto.clone();
        async move { cognito(&moto, "SignUp", body).await }
    };

    let ok = sign_up("ann.vetted@example.com").await;
    assert!(ok["UserSub"].is_string(), "{ok}");
    let refused = sign_up("mallory@elsewhere.test").await;
    assert_eq!(refused["__type"], "UserLambdaValidationException", "{refused}");
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("PreSignUp failed with error Sign-up is open only to e-mail addresses at example.com."),
        "{message}"
    );
    // A look-alike domain is another domain.
    let refused = sign_up("eve@badexample.com").await;
    assert_eq!(refused["__type"], "UserLambdaValidationException", "{refused}");
    // The owner invites whom they choose: AdminCreateUser runs the trigger too, which lets it by.
    let invited = l.provision(&["--json", "--local", "--stack-file", &file, "users", "add", "guest@other.org"]);
    assert_eq!(invited.code, 0, "{}\n{}", invited.stdout, invited.stderr);

    // Without Cognito's permission on the function the trigger cannot run: sign-up fails as on
    // AWS, and the next `up` puts the permission back.
    let lambda_call = |method: reqwest::Method, path: String| {
        let url = format!("{standins}/2015-03-31/functions/dev-edit/{path}");
        async move {
            reqwest::Client::new()
                .request(method, url)
                .header("authorization", "AWS4-HMAC-SHA256 Credential=t/20260101/us-west-2/lambda/aws4_request")
                .send()
                .await
                .expect("lambda call")
        }
    };
    let policy_has = |sid: &'static str| async move {
        let v: Value = lambda_call(reqwest::Method::GET, "policy".into()).await.json().await.expect("json");
        v["Policy"].as_str().is_some_and(|p| p.contains(sid))
    };
    assert!(policy_has("dev-cognito-invoke").await);
    let removed = lambda_call(reqwest::Method::DELETE, "policy/dev-cognito-invoke".into()).await;
    assert!(removed.status().is_success(), "{}", removed.status());
    let denied = sign_up("bo.vetted@example.com").await;
    assert_eq!(denied["__type"], "UnexpectedLambdaException", "{denied}");
    assert!(denied["message"].as_str().is_some_and(|m| m.contains("AccessDeniedException")), "{denied}");
    let up = l.provision(&["up", "--local", "--stack-file", &file]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    assert!(sign_up("bo.vetted@example.com").await["UserSub"].is_string());

    // Back to the dev stack: sign-up off, no trigger, and Cognito's permission gone with it.
    let up = l.provision(&["up", "--local"]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let described = cognito(&moto, "DescribeUserPool", json!({"UserPoolId": pool})).await;
    assert!(described["UserPool"]["LambdaConfig"]["PreSignUp"].is_null(), "{described}");
    assert!(!policy_has("dev-cognito-invoke").await, "the trigger's permission outlived it");
    assert!(policy_has("dev-apigw-invoke").await);
    assert_eq!(sign_up("cy.vetted@example.com").await["__type"], "NotAuthorizedException");
}

fn png(img: image::DynamicImage) -> String {
    use base64::Engine;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("png");
    base64::engine::general_purpose::STANDARD.encode(out.into_inner())
}

const W: u32 = 512;
const H: u32 = 384;

fn photo_b64() -> String {
    png(image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(W, H, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    })))
}

/// Our API's mask: white = change (a box in the middle).
fn mask_white() -> String {
    png(image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(W, H, |x, y| {
        let inside = (192..320).contains(&x) && (128..256).contains(&y);
        if inside { image::Rgb([255, 255, 255]) } else { image::Rgb([0, 0, 0]) }
    })))
}

/// The seed app's mask: black strokes on white = change.
fn edit_mask_black() -> String {
    png(image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(W, H, |x, y| {
        let inside = (192..320).contains(&x) && (128..256).contains(&y);
        if inside { image::Rgb([0, 0, 0]) } else { image::Rgb([255, 255, 255]) }
    })))
}

/// Noise: an image that compresses badly (the largest PNG for its size).
fn noise(w: u32, h: u32) -> image::DynamicImage {
    let mut x: u32 = 0x2545_F491;
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |_, _| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
    }))
}

fn pictures() -> (String, String) {
    (format!("data:image/png;base64,{}", photo_b64()), mask_white())
}

/// Least privilege, proven: the function runs as its execution role (the Lambda stand-in assumes
/// it and hands the function the role's temporary credentials, as Lambda does) and moto and the
/// Bedrock stand-in authorize each call against the role's policy. With the policy as `up` makes
/// it, every route works; with any one action removed, the route that needs it fails — so each
/// grant is needed, and (the policy being the only one on the role) nothing else is granted.
#[tokio::test(flavor = "multi_thread")]
async fn the_function_holds_exactly_the_permissions_it_uses() {
    let l = Local::new();
    let outputs = l.up();
    let api = outputs["apiUrl"].as_str().expect("api url").to_owned();
    let client_id = outputs["userPoolClientId"].as_str().expect("client").to_owned();
    let email = outputs["demoUser"]["email"].as_str().expect("demo user").to_owned();
    let password = outputs["demoUser"]["password"].as_str().expect("password").to_owned();
    let moto = l.cloud()["moto"]["endpoint"].as_str().expect("moto").to_owned();
    let sdk = sdk_at(&moto).await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let functions = lambda.list_functions().send().await.expect("ListFunctions");
    let function = functions.functions().first().expect("the stack's function").clone();
    let name = function.function_name().expect("name").to_owned();
    let role = function.role().and_then(|r| r.rsplit('/').next()).expect("role").to_owned();
    assert!(
        iam.list_attached_role_policies()
            .role_name(&role)
            .send()
            .await
            .expect("attached")
            .attached_policies()
            .is_empty(),
        "the role has no managed policy: its one inline policy is all it may do"
    );
    let names = iam.list_role_policies().role_name(&role).send().await.expect("ListRolePolicies");
    let [policy_name] = names.policy_names() else { panic!("one inline policy: {:?}", names.policy_names()) };
    let raw = iam.get_role_policy().role_name(&role).policy_name(policy_name).send().await.expect("GetRolePolicy");
    let decoded = percent_encoding::percent_decode_str(raw.policy_document()).decode_utf8_lossy().into_owned();
    let policy: Value = serde_json::from_str(&decoded).expect("policy JSON");

    let token = id_token(&moto, &client_id, &email, &password).await;
    let http = client();
    let (photo, mask) = pictures();
    let edit_body = json!({"operation": "inpaint", "prompt": "a red bicycle", "image": photo, "mask": mask});
    let first: Value = http
        .post(format!("{api}/edits"))
        .header("authorization", &token)
        .json(&edit_body)
        .send()
        .await
        .expect("edit")
        .json()
        .await
        .expect("json");
    let id =
        first["id"].as_str().unwrap_or_else(|| panic!("the edit works with the policy as made: {first}")).to_owned();

    let absent = {
        let last = if id.ends_with('0') { "1" } else { "0" };
        format!("{}{last}", &id[..id.len() - 1])
    };
    // Each route the function serves, and the status it answers when it works.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Probe {
        Edit,
        List,
        Get,
        Delete,
        Usage,
        /// The kept image of an edit, read through the link the history hands out.
        Open,
        /// An edit made and deleted: its kept image is gone with it (the link then answers 403).
        Forget,
    }
    /// An edit's first image link, when the image was kept (a `data:` URL means it was not).
    fn kept_link(body: &str) -> Option<String> {
        let v: Value = serde_json::from_str(body).ok()?;
        let url = v["images"][0]["url"].as_str().or_else(|| v["results"][0]["url"].as_str())?;
        url.starts_with("http").then(|| url.to_owned())
    }
    let run = |probe: Probe| {
        let (http, api, token, body) = (http.clone(), api.clone(), token.clone(), edit_body.clone());
        let (id, absent) = (id.clone(), absent.clone());
        async move {
            let send = |r: reqwest::RequestBuilder| async {
                let r = r.header("authorization", &token).send().await.expect("request");
                (r.status().as_u16(), r.text().await.unwrap_or_default())
            };
            let fetch = |url: String| async move {
                let r = reqwest::get(&url).await.expect("fetch");
                (r.status().as_u16(), r.text().await.unwrap_or_default().chars().take(200).collect::<String>())
            };
            match probe {
                Probe::Edit => {
                    let (status, body) = send(http.post(format!("{api}/edits")).json(&body)).await;
                    match (status, kept_link(&body)) {
                        (200, None) => (0, format!("the image was not kept: {body}")),
                        _ => (status, body),
                    }
                }
                Probe::List => send(http.get(format!("{api}/edits"))).await,
                Probe::Get => send(http.get(format!("{api}/edits/{id}"))).await,
                // An id of the right shape that is not there: DeleteItem runs (and finds nothing),
                // so the probe can run again and again.
                Probe::Delete => send(http.delete(format!("{api}/edits/{absent}"))).await,
                Probe::Usage => send(http.get(format!("{api}/usage"))).await,
                Probe::Open => {
                    let (status, body) = send(http.get(format!("{api}/edits/{id}"))).await;
                    match kept_link(&body) {
                        Some(link) => fetch(link).await,
                        None => (status, format!("no link in the history: {body}")),
                    }
                }
                Probe::Forget => {
                    let (status, made) = send(http.post(format!("{api}/edits")).json(&body)).await;
                    let Some(link) = kept_link(&made) else { return (status, format!("nothing kept: {made}")) };
                    let new_id =
                        serde_json::from_str::<Value>(&made).ok().and_then(|v| v["id"].as_str().map(str::to_owned));
                    let (deleted, _) = send(http.delete(format!("{api}/edits/{}", new_id.unwrap_or_default()))).await;
                    let (after, text) = fetch(link).await;
                    // Gone: 403, as S3 answers a missing key to a reader without s3:ListBucket (the
                    // role has none; "GetObject", S3 API Reference). 200: still there.
                    (if deleted == 204 && after == 403 { 204 } else { after }, text)
                }
            }
        }
    };
    let works = |probe: Probe, status: u16| match probe {
        Probe::Delete => status == 204 || status == 404,
        Probe::Forget => status == 204,
        _ => status == 200,
    };
    let all = [Probe::Edit, Probe::List, Probe::Get, Probe::Delete, Probe::Usage, Probe::Open, Probe::Forget];
    for p in all {
        let (status, body) = run(p).await;
        assert!(works(p, status), "{p:?} works with the policy as `up` made it: {status} {body}");
    }

    let put = |doc: Value| {
        let (iam, role, policy_name) = (iam.clone(), role.clone(), policy_name.clone());
        async move {
            iam.put_role_policy()
                .role_name(role)
                .policy_name(policy_name)
                .policy_document(doc.to_string())
                .send()
                .await
                .expect("PutRolePolicy");
        }
    };
    // A new execution environment (and so a new log stream) for the next request: a change of
    // configuration retires the running ones, as on Lambda.
    let bump = |n: usize| {
        let (lambda, name, vars) =
            (lambda.clone(), name.clone(), function.environment().and_then(|e| e.variables()).cloned());
        async move {
            let mut vars = vars.unwrap_or_default();
            vars.insert("PROBE".into(), n.to_string());
            let env = aws_sdk_lambda::types::Environment::builder().set_variables(Some(vars)).build();
            lambda.update_function_configuration().function_name(name).environment(env).send().await.expect("config");
        }
    };
    let group = format!("/aws/lambda/{name}");
    let streams = || {
        let (logs, group) = (logs.clone(), group.clone());
        async move {
            let out = logs.describe_log_streams().log_group_name(group).send().await.expect("DescribeLogStreams");
            out.log_streams()
                .iter()
                .map(|s| (s.log_stream_name().unwrap_or_default().to_owned(), s.last_ingestion_time().unwrap_or(0)))
                .collect::<std::collections::BTreeMap<String, i64>>()
        }
    };

    let statements = policy["Statement"].as_array().expect("statements").clone();
    let mut report = Vec::new();
    let mut round = 0;
    for (si, statement) in statements.iter().enumerate() {
        let sid = statement["Sid"].as_str().unwrap_or("?").to_owned();
        let actions: Vec<String> = match &statement["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            other => panic!("{sid}: Action {other}"),
        };
        for action in &actions {
            round += 1;
            let mut without = policy.clone();
            let rest: Vec<&String> = actions.iter().filter(|a| *a != action).collect();
            let list = without["Statement"].as_array_mut().expect("statements");
            if rest.is_empty() {
                list.remove(si);
            } else {
                list[si]["Action"] = json!(rest);
            }
            put(without).await;
            let failed = if action.starts_with("logs:") {
                // Logs are written by Lambda with the role: without the grant, a new environment's
                // lines are not kept (the function itself still answers).
                bump(round).await;
                let before = streams().await;
                let (status, _) = run(Probe::Edit).await;
                assert_eq!(status, 200, "{action}: the edit itself needs no logs permission");
                tokio::time::sleep(std::time::Duration::from_millis(800)).await;
                let after = streams().await;
                let kept = after.iter().any(|(s, t)| before.get(s).is_none_or(|b| b < t) && *t > 0);
                let made = after.keys().any(|s| !before.contains_key(s));
                match action.as_str() {
                    "logs:CreateLogStream" => {
                        (!made).then(|| "the new environment's log stream was not created".into())
                    }
                    _ => (!kept).then(|| "the new environment's lines were not kept".into()),
                }
            } else {
                let mut failed = None;
                for p in all {
                    let (status, body) = run(p).await;
                    if !works(p, status) {
                        failed =
                            Some(format!("{p:?} answered {status} {}", body.chars().take(160).collect::<String>()));
                        break;
                    }
                }
                failed
            };
            let failed =
                failed.unwrap_or_else(|| panic!("without {action} ({sid}) everything still worked: not needed"));
            eprintln!("{sid:<24} {action:<24} needed: without it, {failed}");
            report.push((sid.clone(), action.clone(), failed));
        }
    }
    put(policy.clone()).await;
    for p in all {
        let (status, body) = run(p).await;
        assert!(works(p, status), "{p:?} works again with the policy restored: {status} {body}");
    }
    assert!(report.len() >= 8, "every action was tried: {report:?}");

    let down = l.provision(&["down", "--local", "--yes"]);
    assert_eq!(down.code, 0, "down --local:\n{}", down.stderr);
}
