//! Lambda stand-in: the control plane is moto's (every call is forwarded to it), but the zip of
//! each CreateFunction/UpdateFunctionCode is kept on the way through, so that Invoke — from the
//! API Gateway stand-in or `aws lambda invoke` — runs the very `bootstrap` that was deployed, as a
//! process speaking the Lambda Runtime API, with the function's configuration read from moto.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::logs;
use crate::metrics::{self, Unit};

/// Lambda's limits for a synchronous (RequestResponse) invocation: 6 MB for the event and 6 MB for
/// the response ("Lambda quotas", docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
/// The byte counts are the ones Lambda's own messages name: "N byte payload is too large for the
/// RequestResponse invocation type (limit 6291456 bytes)" and "Response payload size exceeded
/// maximum allowed payload size (6291556 bytes)."
pub const MAX_EVENT_BYTES: usize = 6_291_456;
pub const MAX_RESPONSE_BYTES: usize = 6_291_556;

/// What the Runtime API itself accepts from a function before the limit above is applied (so an
/// over-size response is refused as Lambda refuses it, not cut off by the HTTP server).
const RUNTIME_API_BODY_LIMIT: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("function {0} not found")]
    NotFound(String),
    #[error("the code of function {0} was not deployed through this local cloud; run `provision up --local` again")]
    NoCode(String),
    #[error("the deployed code of {name} (CodeSha256 {expected}) is not the code this local cloud holds")]
    CodeMismatch { name: String, expected: String },
    #[error("function {0} timed out after {1} s")]
    Timeout(String, u64),
    #[error("function {name} failed: {message}")]
    Failed { name: String, message: String },
    /// The event is over Lambda's limit (Lambda answers RequestEntityTooLargeException, HTTP 413).
    #[error("{0} byte payload is too large for the RequestResponse invocation type (limit {MAX_EVENT_BYTES} bytes)")]
    RequestTooLarge(usize),
    /// The function's response is over Lambda's limit (`Function.ResponseSizeTooLarge`).
    #[error("Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).")]
    ResponseTooLarge,
    /// Over a concurrency limit: Lambda answers 429 `TooManyRequestsException` with this reason.
    #[error("Rate Exceeded.")]
    Throttled(ThrottleReason),
    /// Lambda could not assume the function's execution role (its trust policy does not name
    /// `lambda.amazonaws.com`, or the role is gone): CreateFunction's words for it.
    #[error("The role defined for the function cannot be assumed by Lambda. ({0})")]
    RoleNotAssumable(String),
    #[error("{0}")]
    Other(String),
}

/// Why Lambda throttled an invocation (`ThrottleReason` in the Lambda service model; Invoke's
/// documentation: "Lambda returns TooManyRequestsException if running the function would cause
/// you to exceed a concurrency limit at either the account level (ConcurrentInvocationLimitExceeded)
/// or function level (ReservedFunctionConcurrentInvocationLimitExceeded)").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleReason {
    ConcurrentInvocationLimitExceeded,
    ReservedFunctionConcurrentInvocationLimitExceeded,
}

/// Lambda's default concurrency quota per account and Region; a test sets a fresh account's
/// (often 10) through `POST /_localcloud/lambda/config {"accountConcurrency": N}`.
pub const DEFAULT_ACCOUNT_CONCURRENCY: u32 = image_edit_contract::lambda_concurrency::DEFAULT_ACCOUNT;

/// What an account must keep unreserved (the rule and its sources are the contract's).
pub use image_edit_contract::lambda_concurrency::minimum_unreserved;

/// The account's concurrency and what runs against it.
#[derive(Debug, Default)]
struct Concurrency {
    account: u32,
    /// Function name → ReservedConcurrentExecutions.
    reserved: HashMap<String, u32>,
    /// Function name → invocations running now.
    running: HashMap<String, u32>,
}

impl Concurrency {
    fn unreserved(&self) -> u32 {
        self.account.saturating_sub(self.reserved.values().sum())
    }

    /// Claims one execution for `name`, or says which limit it would pass. A function with
    /// reserved concurrency runs within it; the others share what is not reserved.
    fn claim(&mut self, name: &str) -> Result<(), ThrottleReason> {
        let running = self.running.get(name).copied().unwrap_or(0);
        match self.reserved.get(name) {
            Some(&r) if running >= r => return Err(ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded),
            Some(_) => {}
            None => {
                let shared: u32 =
                    self.running.iter().filter(|(f, _)| !self.reserved.contains_key(*f)).map(|(_, n)| n).sum();
                if shared >= self.unreserved() {
                    return Err(ThrottleReason::ConcurrentInvocationLimitExceeded);
                }
            }
        }
        *self.running.entry(name.to_owned()).or_default() += 1;
        Ok(())
    }

    /// What runs now, as Lambda's concurrency metrics count it: `name`'s executions, all of the
    /// account's, and those of functions without reserved concurrency.
    fn load(&self, name: &str) -> Load {
        let all: u32 = self.running.values().sum();
        let unreserved: u32 =
            self.running.iter().filter(|(f, _)| !self.reserved.contains_key(*f)).map(|(_, n)| n).sum();
        Load { function: self.running.get(name).copied().unwrap_or(0), all, unreserved }
    }

    fn release(&mut self, name: &str) {
        if let Some(n) = self.running.get_mut(name) {
            *n = n.saturating_sub(1);
        }
    }
}

/// Executions running at one moment (see [`Concurrency::load`]).
#[derive(Debug, Clone, Copy)]
struct Load {
    function: u32,
    all: u32,
    unreserved: u32,
}

/// One claimed execution; released when dropped, however the invocation ends.
struct Permit {
    concurrency: Arc<std::sync::Mutex<Concurrency>>,
    name: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Ok(mut c) = self.concurrency.lock() {
            c.release(&self.name);
        }
    }
}

/// How an invocation ended, as the Runtime API saw it.
enum Reply {
    Response(Bytes),
    /// The function reported an error (or its init failed).
    Error(String),
    /// The function posted a response over [`MAX_RESPONSE_BYTES`].
    TooLarge,
}

/// One Runtime API exchange.
struct Invocation {
    id: String,
    event: Bytes,
    deadline_ms: u128,
    reply: oneshot::Sender<Answer>,
}

/// How an invocation ended, and how long the function took from receiving the event (its
/// `next` answered) to answering: Lambda's `Duration`, "the amount of time that your function
/// code spends processing an event" ("Types of metrics for Lambda functions"), so a cold start's
/// init is not in it.
type Answer = (Reply, Duration);

/// An execution environment: a running `bootstrap` process and the Runtime API it polls. Like
/// Lambda, an environment serves one invocation at a time; concurrent invocations get environments
/// of their own (created on demand, each with a cold start, and reused when idle).
struct Instance {
    key: String,
    queue: mpsc::Sender<Invocation>,
    child: Mutex<tokio::process::Child>,
    logs: logs::Shipper,
    busy: std::sync::atomic::AtomicBool,
}

impl Instance {
    /// Takes the environment for one invocation if it is idle.
    fn claim(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.busy.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    fn release(&self) {
        self.busy.store(false, std::sync::atomic::Ordering::Release);
    }
}

struct RuntimeApi {
    next: Mutex<mpsc::Receiver<Invocation>>,
    /// Invocation id → where its answer goes, and when the function received the event.
    pending: Mutex<HashMap<String, (oneshot::Sender<Answer>, std::time::Instant)>>,
    arn: String,
}

/// Function name → (CodeSha256 as Lambda reports it, zip bytes).
type CodeStore = HashMap<String, (String, Arc<Vec<u8>>)>;

#[derive(Clone)]
pub struct Lambda {
    moto: String,
    /// Endpoints the function's own SDK clients get (moto for DynamoDB, us for Bedrock).
    function_env: Vec<(String, String)>,
    dir: PathBuf,
    http: reqwest::Client,
    /// Function name → (CodeSha256 as Lambda reports it, zip bytes).
    code: Arc<std::sync::Mutex<CodeStore>>,
    /// Function name → its execution environments.
    instances: Arc<Mutex<HashMap<String, Vec<Arc<Instance>>>>>,
    concurrency: Arc<std::sync::Mutex<Concurrency>>,
    /// Lambda's own CloudWatch metrics (`AWS/Lambda`).
    metrics: metrics::Publisher,
}

fn code_sha(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

impl Lambda {
    pub fn new(moto: &str, function_env: Vec<(String, String)>, dir: PathBuf) -> Lambda {
        Lambda {
            moto: moto.trim_end_matches('/').to_owned(),
            function_env,
            dir,
            http: reqwest::Client::new(),
            code: Arc::default(),
            instances: Arc::default(),
            concurrency: Arc::new(std::sync::Mutex::new(Concurrency {
                account: DEFAULT_ACCOUNT_CONCURRENCY,
                ..Concurrency::default()
            })),
            metrics: metrics::Publisher::default(),
        }
    }

    /// This Lambda, publishing the metrics Lambda publishes about invocations.
    pub fn with_metrics(self, metrics: metrics::Publisher) -> Lambda {
        Lambda { metrics, ..self }
    }

    /// Lambda's REST paths: invocations, concurrency and the account's settings are ours,
    /// everything else is forwarded to moto.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/2015-03-31/functions", post(forward))
            .route("/2015-03-31/functions/{*rest}", get(forward).post(functions_post).put(forward).delete(forward))
            .route("/2017-03-31/tags/{*rest}", get(forward).post(forward).delete(forward))
            // PutFunctionConcurrency / DeleteFunctionConcurrency, GetFunctionConcurrency.
            .route("/2017-10-31/functions/{name}/concurrency", put(put_concurrency).delete(delete_concurrency))
            .route("/2019-09-30/functions/{name}/concurrency", get(forward))
            .route("/2016-08-19/account-settings", get(account_settings))
            .route("/2016-08-19/account-settings/", get(account_settings))
            .route("/_localcloud/lambda/config", get(get_config).post(set_config))
            .with_state(self.clone())
    }

    /// Claims one execution of `name` within the account's and the function's concurrency; with
    /// what runs then, this one included.
    fn claim(&self, name: &str) -> Result<(Permit, Load), InvokeError> {
        let mut c = self.concurrency.lock().map_err(|_| InvokeError::Other("lock".into()))?;
        c.claim(name).map_err(InvokeError::Throttled)?;
        Ok((Permit { concurrency: self.concurrency.clone(), name: name.to_owned() }, c.load(name)))
    }

    /// Publishes Lambda's metrics of one invocation request ("Types of metrics for Lambda
    /// functions", Lambda Developer Guide), by function (`FunctionName`) and across all functions
    /// (no dimension: "View aggregate metrics for all functions in the current AWS Region"), at
    /// the time of the invocation ("The timestamp on a metric reflects when the function was
    /// invoked").
    fn publish(&self, region: &str, name: &str, at: time::OffsetDateTime, samples: &[(&'static str, Unit, f64)]) {
        let sets = [vec![("FunctionName", name.to_owned())], vec![]];
        self.metrics.publish(region, "AWS/Lambda", at, &sets, samples);
    }

    /// Remembers the zip a create/update carries (JSON `Code.ZipFile` / `ZipFile`, base64).
    fn capture(&self, path: &str, body: &[u8]) {
        let Ok(v) = serde_json::from_slice::<Value>(body) else { return };
        let (name, zip) = if path == "/2015-03-31/functions" {
            (v["FunctionName"].as_str().map(str::to_owned), v["Code"]["ZipFile"].as_str())
        } else if let Some(n) = path.strip_prefix("/2015-03-31/functions/").and_then(|p| p.strip_suffix("/code")) {
            (Some(n.to_owned()), v["ZipFile"].as_str())
        } else {
            return;
        };
        let (Some(name), Some(zip)) = (name, zip) else { return };
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(zip)
            && let Ok(mut code) = self.code.lock()
        {
            code.insert(name, (code_sha(&bytes), Arc::new(bytes)));
        }
    }

    /// The function's configuration as moto holds it (in the function's region).
    async fn configuration(&self, region: &str, name: &str) -> Result<Value, InvokeError> {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_owned()))
            .endpoint_url(&self.moto)
            .credentials_provider(aws_sdk_lambda::config::Credentials::new("local", "local", None, None, "local"))
            .load()
            .await;
        let out = aws_sdk_lambda::Client::new(&sdk).get_function().function_name(name).send().await;
        let out = match out {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                return Err(InvokeError::NotFound(name.to_owned()));
            }
            Err(e) => return Err(InvokeError::Other(format!("moto: {e}"))),
        };
        let c = out.configuration().ok_or_else(|| InvokeError::NotFound(name.to_owned()))?;
        let env: serde_json::Map<String, Value> = c
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
            .unwrap_or_default();
        Ok(json!({
            "CodeSha256": c.code_sha256(),
            "Environment": {"Variables": env},
            "Timeout": c.timeout(),
            "MemorySize": c.memory_size(),
            "FunctionArn": c.function_arn(),
            "Handler": c.handler(),
            "Role": c.role(),
        }))
    }

    /// Runs the function on `event` and returns its response payload.
    pub async fn invoke(&self, region: &str, name: &str, event: Bytes) -> Result<Bytes, InvokeError> {
        if event.len() > MAX_EVENT_BYTES {
            return Err(InvokeError::RequestTooLarge(event.len()));
        }
        let cfg = self.configuration(region, name).await?;
        let at = time::OffsetDateTime::now_utc();
        // Within the account's concurrency, or throttled before anything runs: `Throttles` ("The
        // number of invocation requests that are throttled … Throttled requests and other
        // invocation errors don't count as Invocations or Errors").
        let (_permit, load) = match self.claim(name) {
            Ok(claimed) => claimed,
            Err(e) => {
                if matches!(e, InvokeError::Throttled(_)) {
                    self.publish(region, name, at, &[("Throttles", Unit::Count, 1.0)]);
                }
                return Err(e);
            }
        };
        let sha = cfg["CodeSha256"].as_str().unwrap_or_default().to_owned();
        let zip = {
            let code = self.code.lock().map_err(|_| InvokeError::Other("lock".into()))?;
            match code.get(name) {
                None => return Err(InvokeError::NoCode(name.to_owned())),
                Some((held, _)) if *held != sha => {
                    return Err(InvokeError::CodeMismatch { name: name.to_owned(), expected: sha });
                }
                Some((_, zip)) => zip.clone(),
            }
        };
        // Sorted: the key below must not depend on the order the variables come back in.
        let env: std::collections::BTreeMap<String, String> = cfg["Environment"]["Variables"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
            .unwrap_or_default();
        let key = format!("{sha}|{}", serde_json::to_string(&env).unwrap_or_default());
        let timeout = cfg["Timeout"].as_u64().unwrap_or(3);
        let instance = self.instance(name, &key, &cfg, &env, &zip).await?;
        let (tx, rx) = oneshot::channel();
        let deadline =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
                + u128::from(timeout) * 1000;
        let id = uuid::Uuid::new_v4().to_string();
        let inv = Invocation { id: id.clone(), event, deadline_ms: deadline, reply: tx };
        let started = std::time::Instant::now();
        instance.logs.line(format!("START RequestId: {id} Version: $LATEST"));
        if instance.queue.send(inv).await.is_err() {
            self.retire(name, &instance).await;
            return Err(InvokeError::Other("the function's process is gone".into()));
        }
        // The concurrency metrics, sampled as each invocation starts (viewed with Maximum: "To
        // see how close you are to hitting concurrency limits, view these metrics with the Max
        // statistic"): ConcurrentExecutions by function and for the Region, and
        // UnreservedConcurrentExecutions ("For a Region, the number of events that functions
        // without reserved concurrency are processing"; no dimension).
        self.metrics.publish(
            region,
            "AWS/Lambda",
            at,
            &[vec![("FunctionName", name.to_owned())]],
            &[("ConcurrentExecutions", Unit::Count, f64::from(load.function))],
        );
        self.metrics.publish(
            region,
            "AWS/Lambda",
            at,
            &[vec![]],
            &[
                ("ConcurrentExecutions", Unit::Count, f64::from(load.all)),
                ("UnreservedConcurrentExecutions", Unit::Count, f64::from(load.unreserved)),
            ],
        );
        let outcome = tokio::time::timeout(Duration::from_secs(timeout), rx).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        instance.logs.line(format!("END RequestId: {id}"));
        instance.logs.line(format!(
            "REPORT RequestId: {id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB",
            ms.ceil() as u64,
            cfg["MemorySize"].as_u64().unwrap_or(128)
        ));
        // The function ran: it counts in `Invocations` ("including successful invocations and
        // invocations that result in a function error"), `Errors` is 1 for a function error
        // (its exceptions, and the runtime's: timeouts, an exited process, a response over the
        // limit) and 0 otherwise ("Invocation metrics are binary indicators of the outcome"), and
        // `Duration` is the time the function spent on the event.
        let (failed, took) = match &outcome {
            Ok(Ok((reply, took))) => (!matches!(reply, Reply::Response(_)), *took),
            Ok(Err(_)) | Err(_) => (true, started.elapsed()),
        };
        self.publish(
            region,
            name,
            at,
            &[
                ("Invocations", Unit::Count, 1.0),
                ("Errors", Unit::Count, if failed { 1.0 } else { 0.0 }),
                ("Duration", Unit::Milliseconds, took.as_secs_f64() * 1000.0),
            ],
        );
        match outcome {
            Ok(Ok((reply, _))) => {
                instance.release();
                match reply {
                    Reply::Response(body) => Ok(body),
                    Reply::Error(message) => Err(InvokeError::Failed { name: name.to_owned(), message }),
                    Reply::TooLarge => Err(InvokeError::ResponseTooLarge),
                }
            }
            Ok(Err(_)) => {
                self.retire(name, &instance).await;
                Err(InvokeError::Failed { name: name.to_owned(), message: "the process exited".into() })
            }
            Err(_) => {
                // Like Lambda: a timed-out environment is not reused.
                self.retire(name, &instance).await;
                Err(InvokeError::Timeout(name.to_owned(), timeout))
            }
        }
    }

    /// Stops an environment and forgets it.
    async fn retire(&self, name: &str, instance: &Arc<Instance>) {
        let _ = instance.child.lock().await.kill().await;
        if let Some(envs) = self.instances.lock().await.get_mut(name) {
            envs.retain(|e| !Arc::ptr_eq(e, instance));
        }
    }

    /// An idle environment for this code + configuration, claimed for one invocation; a new one
    /// (a cold start) when all are busy. Environments of older code or configuration are stopped.
    async fn instance(
        &self,
        name: &str,
        key: &str,
        cfg: &Value,
        env: &std::collections::BTreeMap<String, String>,
        zip: &[u8],
    ) -> Result<Arc<Instance>, InvokeError> {
        let mut instances = self.instances.lock().await;
        let envs = instances.entry(name.to_owned()).or_default();
        let mut live = Vec::with_capacity(envs.len());
        for e in envs.drain(..) {
            let running = matches!(e.child.lock().await.try_wait(), Ok(None));
            if e.key == key && running {
                live.push(e);
            } else {
                let _ = e.child.lock().await.kill().await;
            }
        }
        *envs = live;
        if let Some(e) = envs.iter().find(|e| e.claim()) {
            return Ok(e.clone());
        }
        let inst = Arc::new(self.start(name, key, cfg, env, zip).await?);
        inst.claim();
        envs.push(inst.clone());
        Ok(inst)
    }

    /// Starts an execution environment: unpacks the code (once per code and configuration) and
    /// runs `bootstrap` against a Runtime API of its own.
    async fn start(
        &self,
        name: &str,
        key: &str,
        cfg: &Value,
        env: &std::collections::BTreeMap<String, String>,
        zip: &[u8],
    ) -> Result<Instance, InvokeError> {
        let root = self.dir.join("functions").join(name).join(hex::encode(&Sha256::digest(key.as_bytes())[..8]));
        unpack(zip, &root).map_err(InvokeError::Other)?;
        let (tx, rx) = mpsc::channel(1);
        let arn = cfg["FunctionArn"].as_str().unwrap_or_default().to_owned();
        let api = Arc::new(RuntimeApi { next: Mutex::new(rx), pending: Mutex::default(), arn });
        let listener =
            tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| InvokeError::Other(e.to_string()))?;
        let port = listener.local_addr().map_err(|e| InvokeError::Other(e.to_string()))?.port();
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .layer(axum::extract::DefaultBodyLimit::max(RUNTIME_API_BODY_LIMIT))
            .with_state(api);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let log_path = self.dir.join(format!("{name}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| InvokeError::Other(format!("{}: {e}", log_path.display())))?;
        let region = cfg["FunctionArn"].as_str().and_then(|a| a.split(':').nth(3)).unwrap_or("us-east-1").to_owned();
        let role = role_credentials(&self.moto, &region, name, cfg["Role"].as_str().unwrap_or_default()).await?;
        let mut cmd = tokio::process::Command::new(root.join("bootstrap"));
        cmd.current_dir(&root)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", cfg["MemorySize"].as_u64().unwrap_or(128).to_string())
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_REGION", &region)
            .env("AWS_DEFAULT_REGION", &region)
            // The execution role's temporary credentials, as Lambda passes them ("Defined runtime
            // environment variables", Lambda Developer Guide): every call the function makes is
            // authorized against the role's policies.
            .env("AWS_ACCESS_KEY_ID", role.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", role.secret_access_key())
            .env("AWS_SESSION_TOKEN", role.session_token().unwrap_or_default())
            .env("LAMBDA_TASK_ROOT", &root)
            .env("_HANDLER", cfg["Handler"].as_str().unwrap_or("bootstrap"))
            .envs(self.function_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| InvokeError::Other(format!("starting {}: {e}", root.join("bootstrap").display())))?;
        // Like Lambda: the process's stdout and stderr go to CloudWatch Logs (moto's), in a
        // stream of their own per execution environment — and to a file beside the cloud's logs.
        let shipper = logs::Shipper::start(&self.moto, &region, name, role, log).await;
        if let Some(out) = child.stdout.take() {
            tokio::spawn(logs::pump(out, shipper.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(logs::pump(err, shipper.clone()));
        }
        Ok(Instance {
            key: key.to_owned(),
            queue: tx,
            child: Mutex::new(child),
            logs: shipper,
            busy: std::sync::atomic::AtomicBool::new(false),
        })
    }
}

/// Assumes the function's execution role as Lambda does, as the service principal
/// `lambda.amazonaws.com` (which the role's trust policy must name), for one execution
/// environment; the session is named after the function, so the function acts as
/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION` ("Lambda execution role", Lambda Developer
/// Guide).
async fn role_credentials(
    moto: &str,
    region: &str,
    function: &str,
    role: &str,
) -> Result<aws_sdk_sts::config::Credentials, InvokeError> {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .endpoint_url(moto)
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "lambda.amazonaws.com",
            "lambda",
            None,
            None,
            "lambda",
        ))
        .load()
        .await;
    let out =
        aws_sdk_sts::Client::new(&sdk).assume_role().role_arn(role).role_session_name(function).send().await.map_err(
            |e| InvokeError::RoleNotAssumable(format!("{role}: {}", aws_sdk_sts::error::DisplayErrorContext(&e))),
        )?;
    let c = out.credentials().ok_or_else(|| InvokeError::RoleNotAssumable(format!("{role}: no credentials")))?;
    Ok(aws_sdk_sts::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "lambda-execution-role",
    ))
}

fn unpack(zip: &[u8], root: &std::path::Path) -> Result<(), String> {
    if root.join("bootstrap").is_file() {
        return Ok(());
    }
    std::fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|e| format!("the function's zip: {e}"))?;
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).map_err(|e| e.to_string())?;
        let Some(rel) = f.enclosed_name() else { continue };
        let path = root.join(rel);
        if f.is_dir() {
            std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
            continue;
        }
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        use std::os::unix::fs::PermissionsExt;
        let mode = f.unix_mode().unwrap_or(0o644);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).map_err(|e| e.to_string())?;
    }
    if !root.join("bootstrap").is_file() {
        return Err("the function's zip has no `bootstrap` at its root (runtime provided.al2023 needs one)".into());
    }
    Ok(())
}

async fn next(State(api): State<Arc<RuntimeApi>>) -> Response {
    let inv = { api.next.lock().await.recv().await };
    let Some(inv) = inv else { return StatusCode::GONE.into_response() };
    api.pending.lock().await.insert(inv.id.clone(), (inv.reply, std::time::Instant::now()));
    let mut h = HeaderMap::new();
    let pairs = [
        ("lambda-runtime-aws-request-id", inv.id.clone()),
        ("lambda-runtime-deadline-ms", inv.deadline_ms.to_string()),
        ("lambda-runtime-invoked-function-arn", api.arn.clone()),
        ("lambda-runtime-trace-id", format!("Root=1-{}", &inv.id[..8])),
        ("content-type", "application/json".into()),
    ];
    for (k, v) in pairs {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    }
    (StatusCode::OK, h, inv.event).into_response()
}

/// The function's response. Over Lambda's limit, the invocation fails with
/// `Function.ResponseSizeTooLarge` and the Runtime API answers the function 413, as Lambda does.
async fn respond(State(api): State<Arc<RuntimeApi>>, Path(id): Path<String>, body: Bytes) -> Response {
    let Some((tx, since)) = api.pending.lock().await.remove(&id) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if body.len() > MAX_RESPONSE_BYTES {
        let _ = tx.send((Reply::TooLarge, since.elapsed()));
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(json!({
                "errorMessage": format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
                "errorType": "RequestEntityTooLarge",
            })),
        )
            .into_response();
    }
    let _ = tx.send((Reply::Response(body), since.elapsed()));
    StatusCode::ACCEPTED.into_response()
}

async fn fail(State(api): State<Arc<RuntimeApi>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    match api.pending.lock().await.remove(&id) {
        Some((tx, since)) => {
            let _ = tx.send((Reply::Error(String::from_utf8_lossy(&body).into_owned()), since.elapsed()));
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn init_error(State(api): State<Arc<RuntimeApi>>, body: Bytes) -> StatusCode {
    let message = format!("init error: {}", String::from_utf8_lossy(&body));
    let mut pending = api.pending.lock().await;
    for (_, (tx, since)) in pending.drain() {
        let _ = tx.send((Reply::Error(message.clone()), since.elapsed()));
    }
    StatusCode::ACCEPTED
}

/// POST under a function: Invoke is ours, the rest (AddPermission, tags, …) goes to moto.
async fn functions_post(State(l): State<Lambda>, Path(rest): Path<String>, req: Request) -> Response {
    match rest.strip_suffix("/invocations") {
        Some(name) if !name.contains('/') => {
            let region = crate::iam::signing_region(req.headers()).unwrap_or_else(|| "us-east-1".to_owned());
            let Ok(body) = axum::body::to_bytes(req.into_body(), RUNTIME_API_BODY_LIMIT).await else {
                return invoke_api_error(&InvokeError::RequestTooLarge(RUNTIME_API_BODY_LIMIT));
            };
            invoke_api(l, &region, name.to_owned(), body).await
        }
        _ => forward(State(l), req).await,
    }
}

/// `lambda:Invoke` (RequestResponse) through the Lambda REST API.
async fn invoke_api(l: Lambda, region: &str, name: String, body: Bytes) -> Response {
    match l.invoke(region, &name, body).await {
        Ok(payload) => (StatusCode::OK, [("x-amz-executed-version", "$LATEST")], payload).into_response(),
        Err(e) => invoke_api_error(&e),
    }
}

/// Invoke's error answers, shaped as Lambda's (the service model's error shapes; the function's
/// own failures are a 200 with `X-Amz-Function-Error`).
fn invoke_api_error(e: &InvokeError) -> Response {
    match e {
        InvokeError::RequestTooLarge(_) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            [("x-amzn-errortype", "RequestTooLargeException")],
            axum::Json(json!({"Type": "User", "message": e.to_string()})),
        )
            .into_response(),
        InvokeError::ResponseTooLarge => (
            StatusCode::OK,
            [("x-amz-function-error", "Unhandled")],
            axum::Json(json!({"errorMessage": e.to_string(), "errorType": "Function.ResponseSizeTooLarge"})),
        )
            .into_response(),
        InvokeError::RoleNotAssumable(_) => (
            StatusCode::BAD_REQUEST,
            [("x-amzn-errortype", "InvalidParameterValueException")],
            axum::Json(json!({"Type": "User", "message": e.to_string()})),
        )
            .into_response(),
        InvokeError::NotFound(n) => (
            StatusCode::NOT_FOUND,
            [("x-amzn-errortype", "ResourceNotFoundException")],
            axum::Json(json!({"Message": format!("Function not found: {n}")})),
        )
            .into_response(),
        // The function's own error document (`{"errorType", "errorMessage"}`, as it posted it to
        // the Runtime API) is Invoke's payload, as Lambda returns it.
        InvokeError::Failed { message, .. }
            if serde_json::from_str::<Value>(message).is_ok_and(|v| v["errorMessage"].is_string()) =>
        {
            let headers = [("x-amz-function-error", "Unhandled"), ("content-type", "application/json")];
            (StatusCode::OK, headers, message.clone()).into_response()
        }
        // Invoke's TooManyRequestsException: 429, the reason in the body (as observed:
        // `{"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User",
        // "message": "Rate Exceeded."}`). Whether Lambda sends Retry-After is not documented: none.
        InvokeError::Throttled(reason) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-amzn-errortype", "TooManyRequestsException")],
            axum::Json(json!({"Reason": format!("{reason:?}"), "Type": "User", "message": e.to_string()})),
        )
            .into_response(),
        InvokeError::Failed { .. } | InvokeError::Timeout(..) => (
            StatusCode::OK,
            [("x-amz-function-error", "Unhandled")],
            axum::Json(json!({"errorMessage": e.to_string()})),
        )
            .into_response(),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("x-amzn-errortype", "ServiceException")],
            axum::Json(json!({"Message": e.to_string()})),
        )
            .into_response(),
    }
}

/// Everything else goes to moto unchanged (the zip is remembered on the way).
async fn forward(State(l): State<Lambda>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 300 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if matches!(parts.method.as_str(), "POST" | "PUT") {
        l.capture(parts.uri.path(), &body);
    }
    crate::passthrough::to_moto(&l.http, &l.moto, &parts, body).await
}

/// `PutFunctionConcurrency`: refused, as Lambda refuses it, when it would leave less than the
/// account's minimum unreserved; otherwise kept here (for the invocations' limits) and in moto.
async fn put_concurrency(State(l): State<Lambda>, Path(name): Path<String>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let wanted = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["ReservedConcurrentExecutions"].as_u64())
        .and_then(|n| u32::try_from(n).ok());
    let Some(wanted) = wanted else {
        return crate::passthrough::to_moto(&l.http, &l.moto, &parts, body).await;
    };
    let refused = {
        let Ok(c) = l.concurrency.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
        let others: u32 = c.reserved.iter().filter(|(f, _)| **f != name).map(|(_, n)| n).sum();
        let minimum = minimum_unreserved(c.account);
        (c.account.saturating_sub(others).saturating_sub(wanted) < minimum).then_some(minimum)
    };
    if let Some(minimum) = refused {
        // InvalidParameterValueException, with Lambda's message.
        return (
            StatusCode::BAD_REQUEST,
            [("x-amzn-errortype", "InvalidParameterValueException")],
            axum::Json(json!({
                "Type": "User",
                "message": format!(
                    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{minimum}]."
                ),
            })),
        )
            .into_response();
    }
    let resp = crate::passthrough::to_moto(&l.http, &l.moto, &parts, body).await;
    if resp.status().is_success()
        && let Ok(mut c) = l.concurrency.lock()
    {
        c.reserved.insert(name, wanted);
    }
    resp
}

async fn delete_concurrency(State(l): State<Lambda>, Path(name): Path<String>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let resp = crate::passthrough::to_moto(&l.http, &l.moto, &parts, Bytes::new()).await;
    if resp.status().is_success()
        && let Ok(mut c) = l.concurrency.lock()
    {
        c.reserved.remove(&name);
    }
    resp
}

/// `GetAccountSettings`: the account's concurrency as this stand-in enforces it (the shape of
/// `GetAccountSettingsResponse` in the Lambda service model; code sizes are Lambda's defaults).
async fn account_settings(State(l): State<Lambda>) -> Response {
    let functions = l.code.lock().map(|c| c.len()).unwrap_or(0);
    let Ok(c) = l.concurrency.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    axum::Json(json!({
        "AccountLimit": {
            "TotalCodeSize": 80_530_636_800_u64,
            "CodeSizeUnzipped": 262_144_000,
            "CodeSizeZipped": 52_428_800,
            "ConcurrentExecutions": c.account,
            "UnreservedConcurrentExecutions": c.unreserved(),
        },
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": functions},
    }))
    .into_response()
}

async fn get_config(State(l): State<Lambda>) -> Response {
    let Ok(c) = l.concurrency.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    axum::Json(json!({"accountConcurrency": c.account, "reserved": c.reserved, "running": c.running})).into_response()
}

/// `{"accountConcurrency": N}`: the account's concurrency quota from now on (1..=100000).
async fn set_config(State(l): State<Lambda>, body: Bytes) -> Response {
    let wanted = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v["accountConcurrency"].as_u64());
    let Some(n) = wanted.and_then(|n| u32::try_from(n).ok()).filter(|n| (1..=100_000).contains(n)) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "accountConcurrency: a whole number of executions, 1..=100000"})),
        )
            .into_response();
    };
    let Ok(mut c) = l.concurrency.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    c.account = n;
    axum::Json(json!({"accountConcurrency": c.account})).into_response()
}
