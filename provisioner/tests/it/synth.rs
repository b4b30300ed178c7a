//! `provision synth`: the template is a snapshot, lints clean (cfn-lint: 0 errors, 0 warnings),
//! passes checkov (0 failed; every skip is used and justified), and says what the constructs say.

use crate::support::root;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use provisioner::stack::{Construct, ROUTES, image_editor};
use serde_json::{Value, json};
use sha2::Digest as _;

/// A variant far from dev.yaml: another region (no Stable Image Core there, so no `generate`), arm64, sign-up on for two domains,
/// extra origins, reserved concurrency, its own throttling.
const VARIANT: &str = "region: us-east-1
tags: {team: imaging}
auth: {self_sign_up: true, allowed_email_domains: [example.com, school.edu], password_min_length: 12}
function: {memory_mb: 2048, timeout_s: 20, architecture: arm64, reserved_concurrency: 5}
logs: {retention_days: 30}
api: {stage: v1, throttle: {rate: 2.5, burst: 7}}
cors: {extra_origins: ['http://localhost:5173']}
";

fn synth(dir: &Path, stack_file: Option<&Path>, out: &Path) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_provision"));
    cmd.current_dir(root()).env_remove("AWS_ENDPOINT_URL").env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(f) = stack_file {
        cmd.arg("--stack-file").arg(f).arg("--stack").arg("variant");
    }
    let run = cmd.arg("synth").arg("-o").arg(out).output().expect("provision synth");
    assert!(run.status.success(), "synth failed: {}", String::from_utf8_lossy(&run.stderr));
    assert!(dir.exists());
}

fn templates() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let dev = dir.path().join("dev.yaml");
    synth(dir.path(), None, &dev);
    let stack_file = dir.path().join("variant-stack.yaml");
    std::fs::write(&stack_file, VARIANT).expect("write");
    let variant = dir.path().join("variant.yaml");
    synth(dir.path(), Some(&stack_file), &variant);
    (dir, dev, variant)
}

fn load(p: &Path) -> Value {
    serde_norway::from_str(&std::fs::read_to_string(p).expect("read")).expect("YAML")
}

/// cfn-lint and checkov from PyPI, in the project's .venv at the versions
/// scripts/python/test-tools.lock pins: installed by the scripts, never by the tests.
fn tool(name: &str) -> PathBuf {
    let lock = std::fs::read(root().join("scripts/python/test-tools.lock")).expect("test-tools.lock");
    let sum = hex::encode(sha2::Sha256::digest(&lock));
    let record = std::fs::read_to_string(root().join(".venv/.installed-test-tools.lock")).unwrap_or_default();
    let path = root().join(".venv/bin").join(name);
    assert!(
        record.trim() == sum && path.exists(),
        "{name} is not installed in .venv at the version scripts/python/test-tools.lock pins: `./scripts/test-all` \
         installs it (to install only the test tools: `bash -c 'source scripts/lib.sh && ensure_test_tools'`)"
    );
    path
}

#[test]
fn template_snapshot() {
    let (_dir, dev, _) = templates();
    let yaml = std::fs::read_to_string(dev).expect("read");
    insta::assert_snapshot!("template_dev", yaml);
}

/// The typed template properties are what scripts/gen-cfn-types makes of the schemas cfn-lint
/// checks the template against: a property the schemas do not have cannot be written.
#[test]
fn template_property_types_are_generated_from_the_schemas() {
    let python = tool("python");
    let out =
        Command::new(python).arg("scripts/gen-cfn-types").arg("--check").current_dir(root()).output().expect("run");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn cfn_lint_finds_nothing() {
    let (_dir, dev, variant) = templates();
    let out = Command::new(tool("cfn-lint")).arg(&dev).arg(&variant).output().expect("cfn-lint");
    assert!(
        out.status.success(),
        "cfn-lint (errors and warnings fail this test):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A broken template does fail it (the linter really runs on our files).
    let broken = dev.with_file_name("broken.yaml");
    std::fs::write(&broken, std::fs::read_to_string(&dev).expect("read").replace("provided.al2023", "provided.al9"))
        .expect("write");
    let out = Command::new(tool("cfn-lint")).arg(&broken).output().expect("cfn-lint");
    assert!(!out.status.success());
}

#[test]
fn checkov_fails_nothing_and_every_skip_is_justified_and_used() {
    let (_dir, dev, variant) = templates();
    for t in [dev, variant] {
        let out = Command::new(tool("checkov"))
            .args(["--framework", "cloudformation", "--skip-download", "-o", "json", "-f"])
            .arg(&t)
            .output()
            .expect("checkov");
        let report: Value = serde_json::from_slice(&out.stdout).expect("checkov JSON");
        let results = &report["results"];
        let failed: Vec<String> = results["failed_checks"]
            .as_array()
            .map(|a| a.iter().map(|c| format!("{} on {}", c["check_id"], c["resource"])).collect())
            .unwrap_or_default();
        assert!(failed.is_empty(), "checkov failed checks: {failed:?}");
        assert!(results["passed_checks"].as_array().is_some_and(|a| a.len() >= 15), "checkov ran no checks");

        let template = load(&t);
        let mut declared = BTreeSet::new();
        for (id, r) in template["Resources"].as_object().expect("resources") {
            for s in r["Metadata"]["checkov"]["skip"].as_array().into_iter().flatten() {
                let why = s["comment"].as_str().unwrap_or_default();
                assert!(why.len() > 30, "{id}: skip {} needs a reason", s["id"]);
                declared.insert(s["id"].as_str().unwrap_or_default().to_owned());
            }
        }
        let used: BTreeSet<String> = results["skipped_checks"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["check_id"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        assert_eq!(declared, used, "a skip that no check needs is noise; remove it");
    }
}

#[test]
fn the_template_says_what_the_constructs_say() {
    let (_dir, dev, variant) = templates();
    let t = load(&dev);
    let resources = t["Resources"].as_object().expect("resources");
    let cfg = provisioner::config::load(&root().join("stacks/dev.yaml")).expect("dev.yaml");
    let stack = image_editor(&cfg);
    for n in &stack.nodes {
        if matches!(n.construct, Construct::Site(_)) {
            continue;
        }
        assert_eq!(resources[n.id]["Type"], Value::from(n.construct.kind()), "{} in the template", n.id);
    }

    // Every route, behind the authorizer; OPTIONS open on each resource; nothing else.
    let paths: std::collections::BTreeMap<String, String> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::ApiGateway::Resource")
        .map(|(id, r)| (id.clone(), r["Properties"]["PathPart"].as_str().unwrap_or_default().to_owned()))
        .collect();
    let path_of = |m: &Value| -> String {
        let rid = &m["Properties"]["ResourceId"];
        match rid["Ref"].as_str() {
            None => "/".to_owned(),
            Some(id) => {
                let parent = &resources[id]["Properties"]["ParentId"];
                let prefix = parent["Ref"].as_str().map(|p| format!("/{}", paths[p])).unwrap_or_default();
                format!("{prefix}/{}", paths[id])
            }
        }
    };
    let mut routes = BTreeSet::new();
    let mut preflights = BTreeSet::new();
    for m in resources.values().filter(|r| r["Type"] == "AWS::ApiGateway::Method") {
        let verb = m["Properties"]["HttpMethod"].as_str().unwrap_or_default().to_owned();
        if verb == "OPTIONS" {
            assert_eq!(m["Properties"]["Integration"]["Type"], "MOCK");
            preflights.insert(path_of(m));
        } else {
            assert_eq!(m["Properties"]["AuthorizationType"], "COGNITO_USER_POOLS", "{verb} {}", path_of(m));
            assert_eq!(m["Properties"]["AuthorizerId"]["Ref"], "ApiAuthorizer");
            routes.insert((verb, path_of(m)));
        }
    }
    let expected: BTreeSet<(String, String)> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    assert_eq!(routes, expected);
    assert_eq!(
        preflights,
        BTreeSet::from(["/".into(), "/edits".into(), "/edits/{id}".into(), "/capabilities".into(), "/usage".into()])
    );

    // Least privilege: exact resources, no managed policies, the CORS origin is the app's only.
    let role = &resources["FunctionRole"]["Properties"];
    assert!(role["ManagedPolicyArns"].is_null());
    let doc = serde_json::to_string(&role["Policies"]).expect("json");
    assert!(!doc.contains("\"*\"") && !doc.contains(":*:") && !doc.contains("bedrock:*"), "{doc}");
    assert!(doc.contains("table/dev-edits"), "{doc}");
    let cors = serde_json::to_string(&resources["ApiResponseDefault4xx"]).expect("json");
    assert!(cors.contains("'https://main.${WebApp.DefaultDomain}'") && !cors.contains("'*'"), "{cors}");
    // The preflights, as API Gateway renders their template: the app's origin only (dev), the
    // app's and the extra one (variant); a foreign origin never.
    let app = "https://main.d1example.amplifyapp.com";
    assert_eq!(preflight_origins(&t, app), vec![app.to_owned()]);
    let v = load(&variant);
    assert_eq!(preflight_origins(&v, app), vec![app.to_owned(), "http://localhost:5173".to_owned()]);
    let gw = &v["Resources"]["ApiResponseDefault4xx"]["Properties"];
    // With extra origins the gateway's own errors allow any origin: their bodies carry no data,
    // and `*` does not depend on how the request's Origin header is spelled.
    assert_eq!(gw["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"], "'*'");
    assert!(
        gw["ResponseTemplates"]["application/json"].as_str().is_some_and(|b| b.contains("$context.error.responseType"))
    );

    // The region is pinned by a rule; the variant's settings reach the template.
    assert_eq!(t["Rules"]["StackRegion"]["Assertions"][0]["Assert"]["Fn::Equals"][1], "us-west-2");
    let f = &v["Resources"]["Function"]["Properties"];
    assert_eq!(f["Architectures"][0], "arm64");
    assert_eq!(f["MemorySize"], 2048);
    assert_eq!(v["Resources"]["FunctionLogs"]["Properties"]["RetentionInDays"], 30);
    assert_eq!(v["Resources"]["UserPool"]["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"], false);
    assert_eq!(t["Resources"]["UserPool"]["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"], true);
    assert_eq!(f["ReservedConcurrentExecutions"], 5);
    assert!(t["Resources"]["Function"]["Properties"].get("ReservedConcurrentExecutions").is_none());
    let settings = &v["Resources"]["ApiStage"]["Properties"]["MethodSettings"][0];
    assert_eq!(
        (settings["ThrottlingRateLimit"].clone(), settings["ThrottlingBurstLimit"].clone()),
        (json!(2.5), json!(7))
    );
    assert_eq!(v["Resources"]["ApiStage"]["Properties"]["StageName"], "v1");
    assert!(f["Environment"]["Variables"]["ALLOWED_ORIGINS"].to_string().contains("http://localhost:5173"));
    let role = serde_json::to_string(&v["Resources"]["FunctionRole"]).expect("json");
    assert!(role.contains("us.stability.stable-image-inpaint-v1:0") && !role.contains("stable-image-core"), "{role}");

    // Sign-ups vetted by domain (variant): the pool's PreSignUp trigger is the function, which
    // only that pool may invoke for it; dev has neither.
    let pool = &v["Resources"]["UserPool"]["Properties"];
    assert_eq!(pool["LambdaConfig"], json!({"PreSignUp": {"Fn::GetAtt": ["Function", "Arn"]}}));
    let p = &v["Resources"]["SignUpInvokePermission"]["Properties"];
    assert_eq!(p["Principal"], "cognito-idp.amazonaws.com");
    assert_eq!(p["SourceArn"], json!({"Fn::GetAtt": ["UserPool", "Arn"]}));
    assert_eq!(f["Environment"]["Variables"]["ALLOWED_EMAIL_DOMAINS"], "example.com,school.edu");
    assert!(t["Resources"]["UserPool"]["Properties"].get("LambdaConfig").is_none());
    assert!(t["Resources"].get("SignUpInvokePermission").is_none());
    assert!(
        t["Resources"]["Function"]["Properties"]["Environment"]["Variables"].get("ALLOWED_EMAIL_DOMAINS").is_none()
    );
}

/// The origins a template's preflights allow, found by rendering each OPTIONS method's
/// integration response template (with the app's domain put in for `${WebApp.DefaultDomain}`) as
/// the gateway stand-in does, for the candidate origins. Every preflight must agree.
fn preflight_origins(t: &Value, app: &str) -> Vec<String> {
    let candidates =
        [app, "http://localhost:5173", "https://evil.example", "https://main.d1example.amplifyapp.com.evil"];
    let mut seen: Option<Vec<String>> = None;
    for m in t["Resources"].as_object().expect("resources").values() {
        if m["Type"] != "AWS::ApiGateway::Method" || m["Properties"]["HttpMethod"] != "OPTIONS" {
            continue;
        }
        let tpl = &m["Properties"]["Integration"]["IntegrationResponses"][0]["ResponseTemplates"]["application/json"];
        let tpl = tpl["Fn::Sub"]
            .as_str()
            .or(tpl.as_str())
            .expect("a template")
            .replace("https://main.${WebApp.DefaultDomain}", app);
        let declared = m["Properties"]["MethodResponses"][0]["ResponseParameters"].clone();
        assert!(declared.get("method.response.header.Access-Control-Allow-Origin").is_some(), "{declared}");
        let allowed: Vec<String> = candidates
            .iter()
            .filter(|o| {
                let mut h = axum::http::HeaderMap::new();
                h.insert("origin", o.parse().expect("header"));
                let out = localcloud::vtl::render(&tpl, &h).expect("renders");
                out.override_headers.get("Access-Control-Allow-Origin").is_some_and(|v| v == *o)
            })
            .map(|o| (*o).to_owned())
            .collect();
        assert!(seen.as_ref().is_none_or(|s| s == &allowed), "preflights disagree");
        seen = Some(allowed);
    }
    seen.expect("OPTIONS methods")
}

#[test]
fn the_function_and_the_gateway_allow_the_same_headers() {
    assert_eq!(provisioner::resources::rest_api::ALLOW_HEADERS, image_edit_lambda::cors::ALLOW_HEADERS);
    assert_eq!(provisioner::resources::rest_api::ALLOW_METHODS, image_edit_lambda::cors::ALLOW_METHODS);
}

#[test]
fn bad_output_path_is_named() {
    let run = Command::new(env!("CARGO_BIN_EXE_provision"))
        .current_dir(root())
        .args(["synth", "-o", "/nonexistent-dir/t.yaml"])
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("-o /nonexistent-dir/t.yaml"));
}

/// The gateway's methods are exactly the routes the function serves: a route added to one side
/// only would be a 403 "Missing Authentication Token" (or a method nothing answers).
#[test]
fn the_gateway_routes_are_the_functions_routes() {
    let gateway: BTreeSet<(&str, &str)> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
    let function: BTreeSet<(&str, &str)> = image_edit_lambda::ROUTES.iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(gateway, function);
}

/// `bedrock:InvokeModel`'s resources for each family in a region that offers it, exactly as
/// `synth` renders them from the catalogue (`up` reads the profiles' destinations from Bedrock
/// instead; tests/moto.rs asserts what it grants there). No `eu.`/`apac.` case: AWS offers no
/// geography profile but `us.` for these models, and the stack file refuses other prefixes.
#[test]
fn bedrock_grants_per_family_and_region() {
    let mut out = String::new();
    for (family, region) in [("stability", "us-west-2"), ("stability", "us-east-2"), ("stability", "us-east-1")] {
        let text = format!("region: {region}\nmodels: {{family: {family}}}\n");
        let config = provisioner::config::parse(&text, Path::new("stacks/grants.yaml"), "grants").expect("valid");
        let access = image_editor(&config).model_access().expect("the role grants models").clone();
        out.push_str(&format!("{family} in {region}:\n"));
        for arn in access.arns(region, "111122223333") {
            out.push_str(&format!("  {arn}\n"));
        }
    }
    insta::assert_snapshot!("bedrock_grants", out);
}
