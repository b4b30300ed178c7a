//! The CloudFormation engine against moto's CloudFormation, as far as moto goes: it creates the
//! table, role, log group, function and permission (and REST API resources) of the synthesized
//! template, and reports Cognito, the authorizer, gateway responses, the stage and Amplify as
//! created without creating them — so the site step of `up --engine cloudformation` cannot run
//! here; docs/cloudformation.md says what was not tested.

use std::process::Command;

use aws_config::{BehaviorVersion, Region};
use localcloud::moto::MotoServer;
use provisioner::aws::Aws;
use provisioner::{cfn, config, stack, synth};

fn function_zip() -> Vec<u8> {
    let bootstrap = std::fs::read("/bin/true").expect("/bin/true");
    provisioner::artifacts::zip_files(&[("bootstrap", &bootstrap)], 0o755).expect("zip")
}

/// Resource types moto's CloudFormation cannot model at all (it rejects any `Fn::GetAtt` on
/// them) are taken out, and their attributes replaced by fixed values.
const NOT_IN_MOTO: &[(&str, &str, &str)] = &[
    ("WebApp", "DefaultDomain", "d0moto.amplifyapp.com"),
    ("WebApp", "AppId", "d0moto"),
    ("WebBranch", "BranchName", "main"),
];

fn for_moto(mut t: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    fn walk(v: &mut Value) {
        match v {
            Value::String(s) => {
                for (id, attr, fixed) in NOT_IN_MOTO {
                    *s = s.replace(&format!("${{{id}.{attr}}}"), fixed);
                }
            }
            Value::Object(m) => {
                if let Some(Value::Array(a)) = m.get("Fn::GetAtt")
                    && let Some((_, _, fixed)) = NOT_IN_MOTO.iter().find(|(id, attr, _)| a[0] == *id && a[1] == *attr)
                {
                    *v = Value::String((*fixed).to_owned());
                    return;
                }
                m.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if let Some(r) = t["Resources"].as_object_mut() {
        for (id, _, _) in NOT_IN_MOTO {
            r.remove(*id);
        }
    }
    walk(&mut t);
    t
}

async fn deploy(
    aws: &Aws,
    cfg: &config::StackConfig,
    account: &str,
) -> (Result<cfn::Deployed, cfn::CfnError>, Vec<cfn::StackEvent>) {
    let s = stack::image_editor(cfg);
    let template = synth::to_yaml(&for_moto(synth::template(&s, aws).expect("template"))).expect("yaml");
    let (bucket, key) = cfn::upload_function(aws, &cfg.name, account, &function_zip()).await.expect("upload");
    let mut events = Vec::new();
    let params = [(synth::CODE_BUCKET_PARAM, bucket.clone()), (synth::CODE_KEY_PARAM, key)];
    let name = cfn::stack_name(&cfg.name);
    let req = cfn::DeployRequest {
        name: &name,
        template: &template,
        template_bucket: &bucket,
        parameters: &params,
        tags: &cfg.tags,
    };
    let out = cfn::deploy(aws, &req, &mut |_| {}, &mut |e| events.push(e.clone())).await;
    (out, events)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_synthesized_template_deploys_updates_and_deletes_through_cloudformation() {
    let root = crate::support::root();
    let logs = tempfile::tempdir().expect("tmp");
    let moto = MotoServer::start(&root, logs.path(), false).await.expect("moto");
    // The Amplify stand-in (moto has no Amplify): `down` looks for the stack's apps there.
    let port = localcloud::moto::free_port().expect("port");
    let standins = format!("http://127.0.0.1:{port}");
    let cfg = localcloud::StandInConfig { port, moto: moto.endpoint.clone(), log_dir: logs.path().to_owned() };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    tokio::spawn(async move {
        let _ = localcloud::serve_on(listener, cfg).await;
    });
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-west-2"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(aws_sdk_sts::config::Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await;
    let aws = Aws::from_sdk(sdk, "us-west-2");
    let account = aws.identity().await.expect("sts").account;
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("cfn.yaml");
    std::fs::write(&file, "name: cfn\nregion: us-west-2\nlogs: {retention_days: 7}\n").expect("write");
    let cfg = config::load(&file).expect("config");

    // Create: a change set, executed, followed to CREATE_COMPLETE.
    let (created, events) = deploy(&aws, &cfg, &account).await;
    let created = created.expect("stack created");
    let adds: Vec<&str> = created.changes.iter().filter(|c| c.action == "Add").map(|c| c.logical_id.as_str()).collect();
    for id in ["EditsTable", "FunctionRole", "FunctionLogs", "Function", "ApiInvokePermission", "Api"] {
        assert!(adds.contains(&id), "{id} not added: {adds:?}");
    }
    assert!(events.iter().any(|e| e.logical_id == "cfn-image-editor" && e.status == "CREATE_COMPLETE"), "{events:?}");

    // What moto creates is what the constructs say.
    let table = aws.dynamodb.describe_table().table_name("cfn-edits").send().await.expect("table");
    let keys: Vec<&str> =
        table.table().map(|t| t.key_schema().iter().map(|k| k.attribute_name()).collect()).unwrap_or_default();
    assert_eq!(keys, ["userId", "id"]);
    let policy = aws
        .iam
        .get_role_policy()
        .role_name("cfn-edit-fn")
        .policy_name("cfn-edit-fn-least-privilege")
        .send()
        .await
        .expect("inline policy");
    let doc = provisioner::resources::percent_decode(policy.policy_document());
    assert!(doc.contains(&format!("arn:aws:dynamodb:us-west-2:{account}:table/cfn-edits")), "{doc}");
    assert!(!doc.contains("\"*\""), "{doc}");
    let f = aws.lambda.get_function().function_name("cfn-edit").send().await.expect("function");
    let fc = f.configuration().expect("configuration");
    assert_eq!(fc.runtime().map(|r| r.as_str()), Some("provided.al2023"));
    assert_eq!(fc.memory_size(), Some(1024));
    let env = fc.environment().and_then(|e| e.variables()).cloned().unwrap_or_default();
    assert_eq!(env.get("TABLE_NAME").map(String::as_str), Some("cfn-edits"));
    let retention = |aws: &Aws| {
        let logs = aws.logs.clone();
        async move {
            logs.describe_log_groups()
                .log_group_name_prefix("/aws/lambda/cfn-edit")
                .send()
                .await
                .expect("log groups")
                .log_groups()
                .first()
                .and_then(|g| g.retention_in_days())
        }
    };
    assert_eq!(retention(&aws).await, Some(7));

    // One setting changed: the change set modifies that resource only, and CloudFormation applies
    // it. (moto applies an update of the function's memory; it accepts but ignores one of a log
    // group's retention, so memory is the setting changed here.)
    std::fs::write(&file, "name: cfn\nregion: us-west-2\nlogs: {retention_days: 7}\nfunction: {memory_mb: 2048}\n")
        .expect("write");
    let cfg2 = config::load(&file).expect("config");
    let (updated, _) = deploy(&aws, &cfg2, &account).await;
    let updated = updated.expect("stack updated");
    let modified: Vec<&str> =
        updated.changes.iter().filter(|c| c.action == "Modify").map(|c| c.logical_id.as_str()).collect();
    assert!(modified.contains(&"Function"), "{:?}", updated.changes);
    assert!(!updated.changes.iter().any(|c| c.action == "Add" || c.action == "Remove"), "{:?}", updated.changes);
    let f = aws.lambda.get_function().function_name("cfn-edit").send().await.expect("function");
    assert_eq!(f.configuration().and_then(|c| c.memory_size()), Some(2048));

    // `down --engine cloudformation`: the stack, the asset bucket, then the sweep and the check;
    // with --dry-run it only lists what is there.
    let provision = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_provision"))
            .args(["--stack-file"])
            .arg(&file)
            .args(args)
            .current_dir(&root)
            .env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("AWS_ENDPOINT_URL_AMPLIFY", &standins)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("PROVISION_STATE_DIR", dir.path())
            .env_remove("AWS_PROFILE")
            .output()
            .expect("provision")
    };
    let dry = provision(&["down", "--engine", "cloudformation", "--dry-run"]);
    let listed = String::from_utf8_lossy(&dry.stdout);
    assert_eq!(dry.status.code(), Some(0), "{listed}");
    assert!(listed.contains("Would delete:") && listed.contains("cfn-edits"), "{listed}");
    assert!(aws.dynamodb.describe_table().table_name("cfn-edits").send().await.is_ok(), "a dry run deleted");
    let down = provision(&["--json", "down", "--engine", "cloudformation", "--yes"]);
    let stderr = String::from_utf8_lossy(&down.stderr);
    assert_eq!(down.status.code(), Some(0), "{stderr}");
    // --json: stdout is JSON only, and ends with the closing document.
    let stdout = String::from_utf8_lossy(&down.stdout);
    let docs: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let done = docs.last().expect("a closing document");
    assert_eq!(done["event"], "done", "{stdout}");
    assert_eq!(done["cloudFormationStack"], serde_json::json!({"name": "cfn-image-editor", "deleted": true}));
    assert_eq!(done["assetBucket"]["deleted"], true, "{done}");
    assert!(done["assetBucket"]["name"].as_str().is_some_and(|b| b.starts_with("cfn-assets-")), "{done}");
    // moto's delete-stack leaves the REST API behind; the sweep after the stack removes it.
    let swept = done["sweptAfterTheStack"].as_array().expect("swept");
    assert!(swept.iter().any(|d| d["kind"] == "API Gateway REST API"), "{done}");
    assert_eq!(done["leftBehind"], serde_json::json!([]), "{done}");
    assert!(aws.dynamodb.describe_table().table_name("cfn-edits").send().await.is_err());
    assert!(aws.lambda.get_function().function_name("cfn-edit").send().await.is_err());
    assert!(aws.iam.get_role().role_name("cfn-edit-fn").send().await.is_err());
    assert!(cfn::status(&aws, "cfn-image-editor").await.expect("status").is_none());
}

#[test]
fn the_cloudformation_engine_refuses_the_local_cloud_before_starting_it() {
    let root = crate::support::root();
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_provision"))
        .args(["up", "--local", "--engine", "cloudformation"])
        .current_dir(&root)
        .env("PROVISION_LOCALCLOUD_DIR", dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("docs/cloudformation.md"));
    assert!(!dir.path().join("cloud.json").exists(), "the local cloud was started");
}
