//! The stand-ins publish the CloudWatch metrics the real services publish about themselves — API
//! Gateway's `AWS/ApiGateway`, Lambda's `AWS/Lambda`, Bedrock's `AWS/Bedrock` — into moto's
//! CloudWatch, so throttling shows at each layer as on AWS. Driven through the stand-ins the way
//! the app drives them; read back with boto3 (`GetMetricStatistics`, `ListMetrics`), a client
//! nobody here wrote.
//!
//! The assertions query each metric by the most specific dimension set published (moto matches a
//! query's dimensions as a subset, CloudWatch exactly) and check the other sets with ListMetrics.

use std::time::{Duration, Instant};

use aws_sdk_apigateway::types::{IntegrationType, Op, PatchOperation};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use localcloud::moto::{MotoServer, free_port};
use serde_json::{Value, json};

const REGION: &str = "us-west-2";
const FUNCTION: &str = "metered";

/// What the scripts below call: `stat(namespace, name, {dimension: value}, statistic)` over the
/// last ten minutes (the Sum/SampleCount of all datapoints, the greatest Maximum, or None when
/// there is none), `units(…)` the units of the datapoints, `sets(namespace, name)` the distinct
/// dimension sets published (sorted names; moto's ListMetrics repeats some).
const HELPERS: &str = r#"
import json, datetime, boto3
cw = boto3.client("cloudwatch")
now = datetime.datetime.now(datetime.timezone.utc)
def points(ns, name, dims, s):
    return cw.get_metric_statistics(Namespace=ns, MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=now - datetime.timedelta(minutes=10), EndTime=now + datetime.timedelta(minutes=10),
        Period=3600, Statistics=[s])["Datapoints"]
def stat(ns, name, dims, s):
    values = [p[s] for p in points(ns, name, dims, s)]
    if not values:
        return None
    return max(values) if s == "Maximum" else sum(values)
def units(ns, name, dims):
    return sorted({p.get("Unit") for p in points(ns, name, dims, "SampleCount")})
def sets(ns, name):
    listed = cw.list_metrics(Namespace=ns, MetricName=name)["Metrics"]
    return sorted(list(s) for s in {tuple(sorted(d["Name"] for d in m["Dimensions"])) for m in listed})
"#;

/// Reads the metrics with `script` (after [`HELPERS`]) until `done` holds or 30 s have passed:
/// the stand-ins send every second or so. Returns the last reading.
async fn read_until(moto: &MotoServer, script: &str, done: impl Fn(&Value) -> bool) -> Value {
    let program = format!("{HELPERS}\n{script}");
    let start = Instant::now();
    loop {
        let got = crate::boto3(moto, &program, &[]);
        if done(&got) || start.elapsed() > Duration::from_secs(30) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// moto and the stand-ins, with the example function deployed as `metered`.
struct Cloud {
    moto: MotoServer,
    port: u16,
    lambda: aws_sdk_lambda::Client,
    function_arn: String,
    _logs: tempfile::TempDir,
}

async fn sdk(endpoint: String) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_lambda::config::Credentials::new("t", "t", None, None, "t"))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await
}

async fn cloud() -> Cloud {
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = MotoServer::start(&crate::root(), logs.path(), false).await.expect("moto starts");
    let port = free_port().expect("port");
    let cfg = localcloud::StandInConfig { port, moto: moto.endpoint.clone(), log_dir: logs.path().to_owned() };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    tokio::spawn(async move { localcloud::serve_on(listener, cfg).await });
    let iam = aws_sdk_iam::Client::new(&sdk(moto.endpoint.clone()).await);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = iam.create_role().role_name("metered-fn").assume_role_policy_document(trust.to_string()).send().await;
    let role = role.expect("role").role().map(|r| r.arn().to_owned()).expect("role arn");
    let lambda = aws_sdk_lambda::Client::new(&sdk(format!("http://127.0.0.1:{port}")).await);
    let created = lambda
        .create_function()
        .function_name(FUNCTION)
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role)
        .timeout(30)
        .code(FunctionCode::builder().zip_file(Blob::new(crate::zip_of(&crate::sized_function()))).build())
        .send()
        .await
        .expect("create function");
    let function_arn = created.function_arn().expect("function arn").to_owned();
    Cloud { moto, port, lambda, function_arn, _logs: logs }
}

impl Cloud {
    /// A request to the deployed API `api`, as a browser or curl sends it (`Host` names the API).
    async fn request(&self, api: &str, method: reqwest::Method, path: &str, body: Vec<u8>) -> u16 {
        let resp = reqwest::Client::new()
            .request(method, format!("http://127.0.0.1:{}{path}", self.port))
            .header("host", format!("{api}.execute-api.localhost:{}", self.port))
            .body(body)
            .send()
            .await
            .expect("the gateway answers");
        resp.status().as_u16()
    }

    /// Reserves `n` executions for the function (0: every invocation is throttled).
    async fn reserve(&self, n: i32) {
        let put = self.lambda.put_function_concurrency().function_name(FUNCTION).reserved_concurrent_executions(n);
        put.send().await.expect("PutFunctionConcurrency");
    }

    /// A REST API named `name` with a stage `prod`: `GET /hello` and `GET /again` proxy to the
    /// function, `GET /secret` needs a Cognito ID token; every method's throttling is `burst`
    /// requests and (next to) no refill.
    async fn rest_api(&self, name: &str, burst: i32) -> String {
        let conf = sdk(self.moto.endpoint.clone()).await;
        let apigw = aws_sdk_apigateway::Client::new(&conf);
        let api = apigw.create_rest_api().name(name).send().await.expect("CreateRestApi");
        let api = api.id().expect("api id").to_owned();
        let resources = apigw.get_resources().rest_api_id(&api).send().await.expect("GetResources");
        let root = resources.items().iter().find(|r| r.path() == Some("/")).and_then(|r| r.id()).expect("root");
        let uri =
            format!("arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{}/invocations", self.function_arn);
        for part in ["hello", "again"] {
            let r = apigw.create_resource().rest_api_id(&api).parent_id(root).path_part(part).send().await;
            let rid = r.expect("CreateResource").id().expect("resource id").to_owned();
            let m =
                apigw.put_method().rest_api_id(&api).resource_id(&rid).http_method("GET").authorization_type("NONE");
            m.send().await.expect("PutMethod");
            apigw
                .put_integration()
                .rest_api_id(&api)
                .resource_id(&rid)
                .http_method("GET")
                .r#type(IntegrationType::AwsProxy)
                .integration_http_method("POST")
                .uri(&uri)
                .send()
                .await
                .expect("PutIntegration");
        }
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&conf);
        let pool = cognito.create_user_pool().pool_name("metered-users").send().await.expect("CreateUserPool");
        let pool_arn = pool.user_pool().and_then(|p| p.arn()).expect("pool arn").to_owned();
        let authorizer = apigw
            .create_authorizer()
            .rest_api_id(&api)
            .name("cognito")
            .r#type(aws_sdk_apigateway::types::AuthorizerType::CognitoUserPools)
            .provider_arns(pool_arn)
            .identity_source("method.request.header.Authorization")
            .send()
            .await
            .expect("CreateAuthorizer");
        let r = apigw.create_resource().rest_api_id(&api).parent_id(root).path_part("secret").send().await;
        let secret = r.expect("CreateResource").id().expect("resource id").to_owned();
        apigw
            .put_method()
            .rest_api_id(&api)
            .resource_id(&secret)
            .http_method("GET")
            .authorization_type("COGNITO_USER_POOLS")
            .authorizer_id(authorizer.id().expect("authorizer id"))
            .send()
            .await
            .expect("PutMethod");
        apigw
            .put_integration()
            .rest_api_id(&api)
            .resource_id(&secret)
            .http_method("GET")
            .r#type(IntegrationType::Mock)
            .request_templates("application/json", "{\"statusCode\": 200}")
            .send()
            .await
            .expect("PutIntegration");
        apigw.create_deployment().rest_api_id(&api).stage_name("prod").send().await.expect("CreateDeployment");
        let op = |path: &str, value: &str| PatchOperation::builder().op(Op::Replace).path(path).value(value).build();
        apigw
            .update_stage()
            .rest_api_id(&api)
            .stage_name("prod")
            .patch_operations(op("/*/*/throttling/rateLimit", "0.001"))
            .patch_operations(op("/*/*/throttling/burstLimit", &burst.to_string()))
            .send()
            .await
            .expect("UpdateStage");
        self.lambda
            .add_permission()
            .function_name(FUNCTION)
            .statement_id("api")
            .action("lambda:InvokeFunction")
            .principal("apigateway.amazonaws.com")
            .source_arn(format!("arn:aws:execute-api:{REGION}:123456789012:{api}/*/*/*"))
            .send()
            .await
            .expect("AddPermission");
        api
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn api_gateway_counts_every_request_it_answers_those_it_refuses_too() {
    let c = cloud().await;
    let api = c.rest_api("metered-api", 2).await;
    let get = reqwest::Method::GET;

    // Two requests pass the stage's throttling (burst 2) and reach the function, whose answer is
    // not a proxy response (502); the next two are throttled (429).
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(c.request(&api, get.clone(), "/prod/hello", Vec::new()).await);
    }
    assert_eq!(statuses, [502, 502, 429, 429]);
    // No token (401), no such resource (403), over the 10 MB payload limit (413).
    assert_eq!(c.request(&api, get.clone(), "/prod/secret", Vec::new()).await, 401);
    assert_eq!(c.request(&api, get.clone(), "/prod/nowhere", Vec::new()).await, 403);
    assert_eq!(c.request(&api, reqwest::Method::POST, "/prod/hello", vec![b'x'; 10 * 1024 * 1024 + 1]).await, 413);
    // Lambda throttles the function (no concurrency left for it): API Gateway answers 500.
    c.reserve(0).await;
    assert_eq!(c.request(&api, get, "/prod/again", Vec::new()).await, 500);

    let got = read_until(
        &c.moto,
        &format!(
            r#"
d = {{"ApiName": "metered-api", "Stage": "prod"}}
f = {{"FunctionName": "{FUNCTION}"}}
print(json.dumps({{
    "count": stat("AWS/ApiGateway", "Count", d, "SampleCount"),
    "count_sum": stat("AWS/ApiGateway", "Count", d, "Sum"),
    "4xx": stat("AWS/ApiGateway", "4XXError", d, "Sum"),
    "5xx": stat("AWS/ApiGateway", "5XXError", d, "Sum"),
    "5xx_samples": stat("AWS/ApiGateway", "5XXError", d, "SampleCount"),
    "latency": stat("AWS/ApiGateway", "Latency", d, "SampleCount"),
    "latency_units": units("AWS/ApiGateway", "Latency", d),
    "integration": stat("AWS/ApiGateway", "IntegrationLatency", d, "SampleCount"),
    "sets": sets("AWS/ApiGateway", "Count"),
    "invocations": stat("AWS/Lambda", "Invocations", f, "Sum"),
    "throttles": stat("AWS/Lambda", "Throttles", f, "Sum"),
}}))
"#
        ),
        |v| v["count"] == json!(8.0) && v["throttles"] == json!(1.0) && v["invocations"] == json!(2.0),
    )
    .await;
    // Eight requests answered, each counted once; five refused with a 4XX (two throttled, the
    // token, the resource, the size), three 5XX (two bad proxy answers, Lambda's throttle).
    assert_eq!(got["count"], json!(8.0), "{got}");
    assert_eq!(got["count_sum"], json!(8.0), "{got}");
    assert_eq!(got["4xx"], json!(5.0), "{got}");
    assert_eq!(got["5xx"], json!(3.0), "{got}");
    assert_eq!(got["5xx_samples"], json!(8.0), "0 or 1 per request, so Average is the rate: {got}");
    assert_eq!(got["latency"], json!(8.0), "{got}");
    assert_eq!(got["latency_units"], json!(["Milliseconds"]), "{got}");
    // Relayed to the backend: the two that reached the function and the one Lambda throttled.
    assert_eq!(got["integration"], json!(3.0), "{got}");
    // By API and by stage; not by method (the stage has no detailed metrics).
    assert_eq!(got["sets"], json!([["ApiName"], ["ApiName", "Stage"]]), "{got}");
    // Behind the gateway: two invocations, and the throttled one in Throttles only.
    assert_eq!(got["invocations"], json!(2.0), "{got}");
    assert_eq!(got["throttles"], json!(1.0), "{got}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_counts_a_throttled_invoke_in_throttles_and_not_in_invocations() {
    let c = cloud().await;
    let invoke = |ms: u64| {
        c.lambda
            .invoke()
            .function_name(FUNCTION)
            .payload(Blob::new(json!({"bytes": 64, "sleepMs": ms}).to_string()))
            .send()
    };
    invoke(200).await.expect("the first invocation runs");
    c.reserve(0).await;
    let throttled = invoke(0).await.expect_err("no concurrency left for the function");
    let throttled = format!("{}", aws_sdk_lambda::error::DisplayErrorContext(throttled));
    assert!(throttled.contains("TooManyRequestsException"), "{throttled}");

    let got = read_until(
        &c.moto,
        &format!(
            r#"
f = {{"FunctionName": "{FUNCTION}"}}
print(json.dumps({{
    "invocations": stat("AWS/Lambda", "Invocations", f, "Sum"),
    "errors": stat("AWS/Lambda", "Errors", f, "Sum"),
    "errors_samples": stat("AWS/Lambda", "Errors", f, "SampleCount"),
    "throttles": stat("AWS/Lambda", "Throttles", f, "Sum"),
    "duration": stat("AWS/Lambda", "Duration", f, "Maximum"),
    "duration_units": units("AWS/Lambda", "Duration", f),
    "concurrency": stat("AWS/Lambda", "ConcurrentExecutions", f, "Maximum"),
    "invocation_sets": sets("AWS/Lambda", "Invocations"),
    "concurrency_sets": sets("AWS/Lambda", "ConcurrentExecutions"),
    "unreserved_sets": sets("AWS/Lambda", "UnreservedConcurrentExecutions"),
}}))
"#
        ),
        |v| v["throttles"] == json!(1.0) && !v["concurrency"].is_null(),
    )
    .await;
    assert_eq!(got["invocations"], json!(1.0), "the throttled request is no invocation: {got}");
    assert_eq!(got["errors"], json!(0.0), "{got}");
    assert_eq!(got["errors_samples"], json!(1.0), "{got}");
    assert_eq!(got["throttles"], json!(1.0), "{got}");
    // The function slept 200 ms of it.
    let duration = got["duration"].as_f64().expect("a Duration");
    assert!((200.0..10_000.0).contains(&duration), "{got}");
    assert_eq!(got["duration_units"], json!(["Milliseconds"]), "{got}");
    assert_eq!(got["concurrency"], json!(1.0), "{got}");
    // By function and across all functions (no dimension).
    assert_eq!(got["invocation_sets"], json!([[], ["FunctionName"]]), "{got}");
    assert_eq!(got["concurrency_sets"], json!([[], ["FunctionName"]]), "{got}");
    assert_eq!(got["unreserved_sets"], json!([[]]), "{got}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bedrock_counts_throttles_apart_from_invocations_and_errors() {
    use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};

    const CORE: &str = "stability.stable-image-core-v1:1";
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = MotoServer::start(&crate::root(), logs.path(), false).await.expect("moto starts");
    let stand_in =
        localcloud::bedrock::Bedrock::subscribed().with_metrics(localcloud::metrics::Publisher::start(&moto.endpoint));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let router = stand_in.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("AKIDLOCALCLOUD", "secret", None, None, "test"))
        .endpoint_url(format!("http://{addr}"))
        .retry_config(aws_sdk_bedrockruntime::config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    let client = aws_sdk_bedrockruntime::Client::from_conf(conf);
    let call = |body: Value| {
        client
            .invoke_model()
            .model_id(CORE)
            .content_type("application/json")
            .accept("application/json")
            .body(aws_sdk_bedrockruntime::primitives::Blob::new(body.to_string()))
            .send()
    };
    let switches = |settings: Value| {
        reqwest::Client::new().post(format!("http://{addr}/_localcloud/bedrock/config")).json(&settings).send()
    };

    // Answered; refused by validation (not accepted); failed by the model (accepted); throttled.
    call(json!({"prompt": "a lighthouse", "aspect_ratio": "1:1"})).await.expect("an image");
    call(json!({"prompt": 5})).await.expect_err("a ValidationException");
    assert_eq!(switches(json!({"fail": "model_error"})).await.expect("switch").status(), 200);
    call(json!({"prompt": "a lighthouse"})).await.expect_err("a ModelErrorException");
    assert_eq!(switches(json!({"throttle": true})).await.expect("switch").status(), 200);
    let e = call(json!({"prompt": "a lighthouse"})).await.expect_err("a ThrottlingException");
    assert!(e.into_service_error().is_throttling_exception());

    let got = read_until(
        &moto,
        &format!(
            r#"
m = {{"ModelId": "{CORE}"}}
print(json.dumps({{
    "invocations": stat("AWS/Bedrock", "Invocations", m, "Sum"),
    "latency": stat("AWS/Bedrock", "InvocationLatency", m, "SampleCount"),
    "latency_units": units("AWS/Bedrock", "InvocationLatency", m),
    "client_errors": stat("AWS/Bedrock", "InvocationClientErrors", m, "Sum"),
    "server_errors": stat("AWS/Bedrock", "InvocationServerErrors", m, "Sum"),
    "throttles": stat("AWS/Bedrock", "InvocationThrottles", m, "Sum"),
    "sets": sets("AWS/Bedrock", "Invocations"),
}}))
"#
        ),
        |v| v["throttles"] == json!(1.0) && v["client_errors"] == json!(2.0),
    )
    .await;
    assert_eq!(got["invocations"], json!(2.0), "the answered one and the model's failure: {got}");
    assert_eq!(got["latency"], json!(2.0), "{got}");
    assert_eq!(got["latency_units"], json!(["Milliseconds"]), "{got}");
    assert_eq!(got["client_errors"], json!(2.0), "the invalid body and the model's 424: {got}");
    assert_eq!(got["server_errors"], Value::Null, "{got}");
    assert_eq!(got["throttles"], json!(1.0), "a throttle is neither an invocation nor an error: {got}");
    assert_eq!(got["sets"], json!([["ModelId"]]), "{got}");
}
