//! The AWS side: one client per service, built once from the standard `aws-config` chain
//! (profiles, SSO, environment; `AWS_ENDPOINT_URL[_SERVICE]` honoured), with an interceptor that
//! records every call so the engine can prove "no changes = no mutating calls".

use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::target::Target;

tokio::task_local! {
    /// The construct whose convergence is making the current SDK calls (set by the engine).
    pub static CURRENT_NODE: &'static str;
}

/// One SDK call made through [`Aws`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The construct it was made for, or "" outside the engine.
    pub node: &'static str,
    pub service: String,
    pub operation: String,
    /// From the start of the call to its final answer, retries included (`None` while in flight).
    pub duration: Option<std::time::Duration>,
}

/// Every SDK call made through [`Aws`].
#[derive(Debug, Default, Clone)]
pub struct CallLog(Arc<Mutex<Vec<Call>>>);

impl CallLog {
    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Calls that change something: everything but Get*/List*/Describe*/Query/Scan.
    pub fn mutating(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|c| is_mutating(&c.operation)).collect()
    }
}

pub fn is_mutating(operation: &str) -> bool {
    const READS: &[&str] = &["Get", "List", "Describe", "Query", "Scan", "Head", "Export"];
    !READS.iter().any(|p| operation.starts_with(p))
}

#[derive(Debug)]
struct Recorder(CallLog);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "provision-call-log"
    }

    // Not read_before_execution: client-level interceptors run that before the operation's
    // config (and so its Metadata) is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(m) = cfg.load::<Metadata>()
            && let Ok(mut v) = (self.0).0.lock()
        {
            let node = CURRENT_NODE.try_with(|n| *n).unwrap_or("");
            let call = Call { node, service: m.service().to_owned(), operation: m.name().to_owned(), duration: None };
            cfg.interceptor_state().store_put(Started { index: v.len(), at: std::time::Instant::now() });
            v.push(call);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(started) = cfg.load::<Started>()
            && let Ok(mut v) = (self.0).0.lock()
            && let Some(call) = v.get_mut(started.index)
        {
            call.duration = Some(started.at.elapsed());
        }
        Ok(())
    }
}

/// Which [`Call`] an operation in flight is, and when it started (kept in its config bag).
#[derive(Debug, Clone)]
struct Started {
    index: usize,
    at: std::time::Instant,
}

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

/// Attempts per call unless `AWS_MAX_ATTEMPTS` says otherwise.
pub const MAX_ATTEMPTS: u32 = 10;

/// Throttling and transient 5xx answers are normal on AWS control planes — API Gateway's limits
/// are a few requests per second per account for most write operations ("Amazon API Gateway
/// quotas", API Gateway throttling quotas for configuring and running a REST API) and `up` makes
/// about fifty calls to it in a row — so every call is retried well beyond the SDK's default
/// three attempts, with exponential backoff and full jitter (200 ms doubling up to 20 s: ten
/// attempts span about two minutes). Not the SDK's adaptive mode: its client-side rate limiter
/// is tuned for steady traffic and slows a short burst of calls like `up` to a crawl after the
/// first throttle. The SDK retries throttling, 5xx and connection failures — except for the creates
/// of resources whose names are not unique, which `resources::create_once` retries itself, after
/// looking for what a failed attempt may have made. Waiters poll through the same retrying clients, so a transient
/// error while waiting is one more attempt, not a failure. `AWS_MAX_ATTEMPTS` (the SDK's own
/// variable) overrides the attempts.
pub fn retry_config() -> aws_config::retry::RetryConfig {
    let attempts = std::env::var("AWS_MAX_ATTEMPTS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(MAX_ATTEMPTS);
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(attempts.max(1))
        .with_initial_backoff(std::time::Duration::from_millis(200))
        .with_max_backoff(std::time::Duration::from_secs(20))
}

/// The clients the provisioner uses, and who/where we are.
#[derive(Clone, Debug)]
pub struct Aws {
    pub sdk: SdkConfig,
    pub region: String,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub iam: aws_sdk_iam::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    pub amplify: aws_sdk_amplify::Client,
    pub bedrock: aws_sdk_bedrock::Client,
    pub sts: aws_sdk_sts::Client,
    pub cfn: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub quotas: aws_sdk_servicequotas::Client,
    pub calls: CallLog,
    /// Where the clients point: AWS or the local cloud.
    pub target: Target,
}

/// Who is calling: printed before any change, remembered in the state file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub region: String,
}

/// A client of one service, recording its calls; on the local cloud, pointed at the endpoint
/// the target names for it (`$var` is the SDK's variable for the service).
macro_rules! client {
    ($krate:ident, $var:literal, $sdk:expr, $target:expr, $rec:expr) => {{
        let local = match $target {
            Target::Local(_) => $target.endpoint($var),
            Target::Aws => None,
        };
        let mut b = $krate::config::Builder::from($sdk).interceptor(Recorder($rec.clone()));
        // Only a local endpoint replaces what the SDK configuration already holds.
        if local.is_some() {
            b.set_endpoint_url(local);
        }
        $krate::Client::from_conf(b.build())
    }};
}

impl Aws {
    /// Loads the standard chain for `region`, with [`retry_config`]; on the local cloud, with its
    /// credentials and endpoints instead.
    pub async fn load(region: &str, target: &Target) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .retry_config(retry_config());
        if target.is_local() {
            // The local cloud issues its own keys (IAM users', roles'); these are its account's root.
            loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "provision --local",
            ));
        }
        Aws::for_target(loader.load().await, region, target.clone())
    }

    /// Clients from an SDK configuration, for AWS (tests build theirs so).
    pub fn from_sdk(sdk: SdkConfig, region: &str) -> Aws {
        Aws::for_target(sdk, region, Target::Aws)
    }

    fn for_target(sdk: SdkConfig, region: &str, target: Target) -> Aws {
        let calls = CallLog::default();
        let t = &target;
        // Emulators answer on one host: address buckets by path there.
        let path_style = t.is_local() || sdk.endpoint_url().is_some() || t.endpoint("AWS_ENDPOINT_URL_S3").is_some();
        Aws {
            region: region.to_owned(),
            cognito: client!(
                aws_sdk_cognitoidentityprovider,
                "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
                &sdk,
                t,
                calls
            ),
            iam: client!(aws_sdk_iam, "AWS_ENDPOINT_URL_IAM", &sdk, t, calls),
            dynamodb: client!(aws_sdk_dynamodb, "AWS_ENDPOINT_URL_DYNAMODB", &sdk, t, calls),
            logs: client!(aws_sdk_cloudwatchlogs, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", &sdk, t, calls),
            cloudwatch: client!(aws_sdk_cloudwatch, "AWS_ENDPOINT_URL_CLOUDWATCH", &sdk, t, calls),
            sns: client!(aws_sdk_sns, "AWS_ENDPOINT_URL_SNS", &sdk, t, calls),
            lambda: client!(aws_sdk_lambda, "AWS_ENDPOINT_URL_LAMBDA", &sdk, t, calls),
            apigateway: client!(aws_sdk_apigateway, "AWS_ENDPOINT_URL_API_GATEWAY", &sdk, t, calls),
            amplify: client!(aws_sdk_amplify, "AWS_ENDPOINT_URL_AMPLIFY", &sdk, t, calls),
            bedrock: client!(aws_sdk_bedrock, "AWS_ENDPOINT_URL_BEDROCK", &sdk, t, calls),
            sts: client!(aws_sdk_sts, "AWS_ENDPOINT_URL_STS", &sdk, t, calls),
            cfn: client!(aws_sdk_cloudformation, "AWS_ENDPOINT_URL_CLOUDFORMATION", &sdk, t, calls),
            quotas: client!(aws_sdk_servicequotas, "AWS_ENDPOINT_URL_SERVICE_QUOTAS", &sdk, t, calls),
            s3: {
                let local = if t.is_local() { t.endpoint("AWS_ENDPOINT_URL_S3") } else { None };
                let mut b = aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(path_style)
                    .interceptor(Recorder(calls.clone()));
                if local.is_some() {
                    b.set_endpoint_url(local);
                }
                aws_sdk_s3::Client::from_conf(b.build())
            },
            sdk,
            calls,
            target,
        }
    }

    pub async fn identity(&self) -> Result<Identity, AwsError> {
        let out =
            self.sts.get_caller_identity().send().await.map_err(|e| AwsError::from_sdk("sts:GetCallerIdentity", e))?;
        Ok(Identity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
            region: self.region.clone(),
        })
    }
}

/// The error codes the SDKs retry as throttling or transient (aws-runtime's
/// `retries::classifiers::THROTTLING_ERRORS` and `TRANSIENT_ERRORS`).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// An AWS call that failed, with the service's error code when there is one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed: {}{message}", code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct AwsError {
    pub operation: String,
    pub code: Option<String>,
    pub message: String,
    /// Worth trying again, and possibly already done: throttling, a 5xx, a timeout or a lost
    /// connection (the SDK's standard retry classes). A create failing so may have taken effect.
    pub transient: bool,
}

impl AwsError {
    pub fn from_sdk<E, R>(operation: &str, err: aws_sdk_sts::error::SdkError<E, R>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        use aws_sdk_sts::error::SdkError;
        let transient = match &err {
            SdkError::ServiceError(se) => {
                let status = (se.raw() as &dyn std::any::Any)
                    .downcast_ref::<aws_smithy_runtime_api::http::Response>()
                    .map(|r| r.status().as_u16());
                status.is_some_and(|s| s >= 500 || s == 429)
                    || se.err().code().is_some_and(|c| THROTTLING_CODES.contains(&c))
            }
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
            _ => false,
        };
        let (code, message) = match &err {
            SdkError::ServiceError(se) => {
                let e = se.err();
                (e.code().map(str::to_owned), e.message().map(str::to_owned).unwrap_or_else(|| e.to_string()))
            }
            SdkError::DispatchFailure(d) => (None, format!("could not reach the endpoint: {d:?}")),
            SdkError::TimeoutError(_) => (None, "the request timed out".to_owned()),
            other => (None, format!("{}", aws_smithy_types::error::display::DisplayErrorContext(other))),
        };
        let message = friendly(code.as_deref(), message);
        AwsError { operation: operation.to_owned(), code, message, transient }
    }

    pub fn new(operation: &str, message: impl Into<String>) -> AwsError {
        AwsError { operation: operation.to_owned(), code: None, message: message.into(), transient: false }
    }

    /// The resource does not exist (every service spells it differently).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some(
                "ResourceNotFoundException"
                    | "ResourceNotFound"
                    | "NoSuchEntity"
                    | "NotFoundException"
                    | "NotFound"
                    | "UserPoolNotFound"
            )
        )
    }

    pub fn code_is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// Adds the fix to the errors users meet most (expired SSO, missing credentials).
fn friendly(code: Option<&str>, message: String) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("sso") && (lower.contains("expired") || lower.contains("token")) {
        return format!(
            "{message} — your SSO session has expired: run `aws sso login` (with your --profile) and retry"
        );
    }
    if lower.contains("no credentials")
        || lower.contains("failed to load credentials")
        || lower.contains("credentialsnotloaded")
    {
        return format!(
            "{message} — no AWS credentials found: set AWS_PROFILE, run `aws configure` or `aws sso login`, or use `provision up --local`"
        );
    }
    match code {
        Some("ExpiredToken" | "ExpiredTokenException") => {
            format!("{message} — your credentials have expired; refresh them and retry")
        }
        Some("UnrecognizedClientException" | "InvalidClientTokenId") => {
            format!("{message} — these credentials are not valid in this account/region")
        }
        _ => message,
    }
}

/// `Ok(None)` for "does not exist", the value otherwise.
pub fn optional<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// `Ok(())` when the thing is already gone.
pub fn gone_ok(r: Result<(), AwsError>) -> Result<(), AwsError> {
    match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

/// Shorthand for mapping an SDK result.
pub trait Ctx<T> {
    fn ctx(self, operation: &str) -> Result<T, AwsError>;
}

impl<T, E, R> Ctx<T> for Result<T, aws_sdk_sts::error::SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    fn ctx(self, operation: &str) -> Result<T, AwsError> {
        self.map_err(|e| AwsError::from_sdk(operation, e))
    }
}
