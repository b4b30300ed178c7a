//! What `provision watch` reads from a running stack, through the same calls on AWS and on the
//! local cloud:
//!
//! - CloudWatch metrics: the function's own (namespace [`METRICS_NAMESPACE`], written as EMF
//!   lines, see `lambda/src/metrics.rs`) and the services' (`AWS/ApiGateway`, `AWS/Lambda`,
//!   `AWS/Bedrock`), in two batched `GetMetricData` calls per refresh — the last
//!   [`WINDOW_MINUTES`] minutes, and today since 00:00 UTC (the images by operation, and by the
//!   model that made them, which `commands::watch` prices). Which operations, models, statuses and
//!   error codes to ask for comes from the stack file, `ListMetrics` (at most once a minute: it
//!   may lag new metrics by minutes on AWS) and the error lines just read;
//! - `DescribeAlarms` for the alarms named `<stack>-…`;
//! - the daily counters in the edits table (`lambda/src/quota.rs`): the stack's with `GetItem`,
//!   everyone's with a `Scan` (at most once a minute: it reads the whole table);
//! - the function's error lines of the last [`ERRORS_WINDOW`] (`FilterLogEvents`, only what is new
//!   since the previous refresh), parsed here.
//!
//! A metric without data is zero (a count) or `None` (a percentile), never an error. A call that
//! fails becomes a [`Problem`] naming its IAM action; the other readings still come back.
//! [`Readings`] holds the users' Cognito `sub`s: it is not serialisable, so only what
//! `commands::watch` makes of it (anonymous ids) can reach the screen.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::{
    AlarmType, Dimension, DimensionFilter, Metric, MetricDataQuery, MetricStat, ScanBy, StateValue,
};
use aws_sdk_dynamodb::types::AttributeValue;
use image_edit_contract::METRICS_NAMESPACE;
use serde::Serialize;
use time::OffsetDateTime;

use crate::aws::{Aws, AwsError, Ctx as _};
use crate::config::StackConfig;
use crate::stack::Names;

/// The route whose latency is shown.
pub const EDIT_ROUTE: &str = "POST /edits";
/// Minutes of the live window: per-minute counts, and the span of the sums and percentiles.
pub const WINDOW_MINUTES: usize = 5;
/// How far back the recent errors go.
pub const ERRORS_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How many recent errors are kept.
pub const RECENT_ERRORS: usize = 5;
/// How often the table is scanned for the users' counters, and `ListMetrics` asked.
pub const SLOW_EVERY: Duration = Duration::from_secs(60);
/// The events `FilterLogEvents` is asked for: the function's EMF lines of failed requests carry
/// `ErrorCode` (a quoted term, which CloudWatch Logs and moto match alike; the lines are parsed
/// here in any case).
pub const ERROR_FILTER: &str = "\"ErrorCode\"";

/// `GetMetricData` takes at most 500 queries a call.
const MAX_QUERIES: usize = 500;
/// Pages of log events read per refresh at most; the rest is read at the next one.
const MAX_LOG_PAGES: usize = 10;

/// One of the function's metrics as `watch` asks for it: its name and dimension names. The EMF
/// document must declare each (provisioner/tests/it/watch.rs checks it against the function's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionMetric {
    pub name: &'static str,
    pub dimensions: &'static [&'static str],
}

pub const REQUESTS_BY_OPERATION: FunctionMetric =
    FunctionMetric { name: "Requests", dimensions: &["Function", "Operation"] };
pub const IMAGES_BY_OPERATION: FunctionMetric =
    FunctionMetric { name: "Images", dimensions: &["Function", "Operation"] };
/// By the model id as invoked: what the spend is priced from.
pub const IMAGES_BY_MODEL: FunctionMetric = FunctionMetric { name: "Images", dimensions: &["Function", "Model"] };
pub const MODEL_LATENCY: FunctionMetric =
    FunctionMetric { name: "ModelLatency", dimensions: &["Function", "Operation"] };
pub const REQUESTS_BY_STATUS: FunctionMetric = FunctionMetric { name: "Requests", dimensions: &["Function", "Status"] };
pub const ERRORS_BY_CODE: FunctionMetric = FunctionMetric { name: "Errors", dimensions: &["Function", "ErrorCode"] };
pub const THROTTLED: FunctionMetric = FunctionMetric { name: "Throttled", dimensions: &["Function"] };
pub const LATENCY: FunctionMetric = FunctionMetric { name: "Latency", dimensions: &["Function", "Route"] };

/// Every function metric `watch` reads.
pub const FUNCTION_METRICS: &[FunctionMetric] = &[
    REQUESTS_BY_OPERATION,
    IMAGES_BY_OPERATION,
    IMAGES_BY_MODEL,
    MODEL_LATENCY,
    REQUESTS_BY_STATUS,
    ERRORS_BY_CODE,
    THROTTLED,
    LATENCY,
];

/// p50 and p95 of a latency, in milliseconds; `None` without data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Percentiles {
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// One operation's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperationReading {
    /// Requests in each minute of the window, oldest first (the current, partial minute last).
    pub per_minute: [u64; WINDOW_MINUTES],
    pub model_latency: Percentiles,
    /// Images made since 00:00 UTC.
    pub images_today: u64,
}

/// A CloudWatch alarm of the stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alarm {
    pub name: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    pub reason: String,
}

/// A failed request, from the function's EMF line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedError {
    /// RFC 3339, UTC.
    pub time: String,
    pub request_id: String,
    pub route: String,
    pub status: u16,
    pub error_code: Option<String>,
    pub operation: Option<String>,
    #[serde(skip)]
    pub at_ms: i64,
}

/// A call that failed: its IAM action and AWS's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub action: String,
    pub message: String,
}

impl From<AwsError> for Problem {
    fn from(e: AwsError) -> Problem {
        let code = e.code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default();
        let hint = if e.is_not_found() { " (is the stack up? `provision status`)" } else { "" };
        Problem { action: e.operation, message: format!("{code}{}{hint}", e.message) }
    }
}

/// The users' counters of the day, as last scanned.
#[derive(Debug, Clone, PartialEq)]
pub struct UsersToday {
    pub as_of: OffsetDateTime,
    /// (Cognito `sub`, images today): never to be shown as such.
    pub counts: Vec<(String, u64)>,
}

/// One refresh's readings.
#[derive(Debug, Clone, PartialEq)]
pub struct Readings {
    pub at: OffsetDateTime,
    /// Start of the first minute of the window.
    pub window_start: OffsetDateTime,
    /// `YYYY-MM-DD`, the UTC day of the counters.
    pub day: String,
    /// The operations asked for (the stack's, and any other with metrics).
    pub operations: BTreeMap<String, OperationReading>,
    /// Images made since 00:00 UTC by the model id that made them, as invoked (a plain id or an
    /// inference profile id): the stack's models and any other with metrics.
    pub images_by_model: BTreeMap<String, u64>,
    /// Answers by HTTP status over the window.
    pub statuses: BTreeMap<String, u64>,
    pub error_codes: BTreeMap<String, u64>,
    /// API Gateway's requests and 4XX answers over the window.
    pub gateway_requests: u64,
    pub gateway_4xx: u64,
    pub lambda_throttles: u64,
    /// Bedrock's throttled invocations by model id over the window.
    pub bedrock_throttles: BTreeMap<String, u64>,
    /// The function's own 429 `throttled` answers (Bedrock throttled it).
    pub function_throttled: u64,
    pub edit_latency: Percentiles,
    /// The stack's images today (`None` when the table could not be read).
    pub stack_today: Option<u64>,
    pub users_today: Option<UsersToday>,
    pub alarms: Vec<Alarm>,
    /// Newest first.
    pub recent_errors: Vec<LoggedError>,
    pub problems: Vec<Problem>,
}

impl Readings {
    /// Nothing read yet, at `at`.
    pub fn empty(at: OffsetDateTime) -> Readings {
        let window_start = window_end(at) - time::Duration::minutes(WINDOW_MINUTES as i64);
        Readings {
            at,
            window_start,
            day: utc_day(at),
            operations: BTreeMap::new(),
            images_by_model: BTreeMap::new(),
            statuses: BTreeMap::new(),
            error_codes: BTreeMap::new(),
            gateway_requests: 0,
            gateway_4xx: 0,
            lambda_throttles: 0,
            bedrock_throttles: BTreeMap::new(),
            function_throttled: 0,
            edit_latency: Percentiles::default(),
            stack_today: None,
            users_today: None,
            alarms: Vec::new(),
            recent_errors: Vec::new(),
            problems: Vec::new(),
        }
    }
}

/// The end of the window: the next whole minute (so the current minute is its last).
pub fn window_end(at: OffsetDateTime) -> OffsetDateTime {
    let floor = at.replace_second(0).and_then(|t| t.replace_nanosecond(0)).unwrap_or(at);
    floor + time::Duration::minutes(1)
}

/// `YYYY-MM-DD` of `at` in UTC (as the function keys its counters).
pub fn utc_day(at: OffsetDateTime) -> String {
    let d = at.to_offset(time::UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn rfc3339_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The failed request an event of the function's log group reports, if it is one of its EMF
/// lines (`StatusCode` ≥ 400 or an `ErrorCode`).
pub fn logged_error(message: &str, at_ms: i64) -> Option<LoggedError> {
    let v: serde_json::Value = serde_json::from_str(message.trim()).ok()?;
    v.get("_aws")?;
    let status = u16::try_from(v.get("StatusCode")?.as_u64()?).ok()?;
    let code = v.get("ErrorCode").and_then(|c| c.as_str()).map(str::to_owned);
    if status < 400 && code.is_none() {
        return None;
    }
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    Some(LoggedError {
        time: rfc3339_ms(at_ms),
        request_id: text("RequestId")?,
        route: text("Route").unwrap_or_default(),
        status,
        error_code: code,
        operation: text("Operation"),
        at_ms,
    })
}

/// What `ListMetrics` found among the function's metrics.
#[derive(Debug, Clone, Default)]
struct Listed {
    operations: BTreeSet<String>,
    models: BTreeSet<String>,
    statuses: BTreeSet<String>,
    codes: BTreeSet<String>,
}

/// The error lines kept between refreshes, and where the next read starts.
#[derive(Debug, Default)]
struct ErrorLog {
    /// The newest [`RECENT_ERRORS`] of the window, oldest first.
    kept: Vec<LoggedError>,
    /// The newest event timestamp read so far.
    newest: Option<i64>,
    /// Whether the last read stopped at [`MAX_LOG_PAGES`] with more to read.
    capped: bool,
    /// Event id → timestamp of the events read in the overlap, so none is taken twice.
    seen: HashMap<String, i64>,
}

/// How far back each read goes again before the newest event read: the log events of
/// concurrent execution environments arrive (and are filtered) out of timestamp order.
const LOG_OVERLAP_MS: i64 = 60_000;

impl ErrorLog {
    /// Where the next read starts: the window's start, or shortly before the newest event read.
    fn from(&self, oldest: i64) -> i64 {
        match self.newest {
            Some(n) if self.capped => n.max(oldest),
            Some(n) => (n - LOG_OVERLAP_MS).max(oldest),
            None => oldest,
        }
    }

    /// Takes one event (its timestamp, id and message), unless it was taken before.
    fn take(&mut self, ts: i64, id: &str, message: &str) {
        if self.seen.insert(id.to_owned(), ts).is_some() {
            return;
        }
        self.newest = Some(self.newest.map_or(ts, |n| n.max(ts)));
        if let Some(err) = logged_error(message, ts) {
            self.kept.push(err);
        }
    }

    /// After a read: keeps the newest errors of the window, and the ids the next read may meet.
    fn settle(&mut self, oldest: i64, capped: bool) {
        self.capped = capped;
        self.kept.retain(|e| e.at_ms >= oldest);
        self.kept.sort_by_key(|e| e.at_ms);
        let excess = self.kept.len().saturating_sub(RECENT_ERRORS);
        self.kept.drain(..excess);
        let from = self.from(oldest);
        self.seen.retain(|_, ts| *ts >= from);
    }
}

/// The readers of one stack; keeps what the next refresh needs (the log position, the slower
/// readings and when they were made).
pub struct Monitor {
    aws: Aws,
    function: String,
    table: String,
    log_group: String,
    api: String,
    stage: String,
    /// The stack's alarms (`monitoring::ALARMS`).
    alarm_names: Vec<String>,
    /// The operations the stack offers (`upscale.creative` is `upscale`: the function's
    /// `Operation` dimension carries the operation's name).
    operations: BTreeSet<String>,
    /// The model ids the stack invokes (Bedrock's `ModelId` dimension, the function's `Model`).
    model_ids: BTreeSet<String>,
    errors: ErrorLog,
    listed: Option<(Instant, Listed)>,
    users: Option<(Instant, UsersToday)>,
}

/// One metric query and what its answer is for.
struct Query {
    namespace: &'static str,
    metric: &'static str,
    dimensions: Vec<(&'static str, String)>,
    stat: &'static str,
    period: i32,
    slot: Slot,
}

#[derive(Debug, Clone)]
enum Slot {
    OperationRequests(String),
    ModelP50(String),
    ModelP95(String),
    Status(String),
    Code(String),
    GatewayRequests,
    Gateway4xx,
    LambdaThrottles,
    BedrockThrottles(String),
    FunctionThrottled,
    EditP50,
    EditP95,
    ImagesToday(String),
    ModelImagesToday(String),
}

impl Query {
    fn sdk(&self, id: String) -> MetricDataQuery {
        let dimensions =
            self.dimensions.iter().map(|(n, v)| Dimension::builder().name(*n).value(v.clone()).build()).collect();
        let metric = Metric::builder()
            .namespace(self.namespace)
            .metric_name(self.metric)
            .set_dimensions(Some(dimensions))
            .build();
        let stat = MetricStat::builder().metric(metric).period(self.period).stat(self.stat).build();
        MetricDataQuery::builder().id(id).metric_stat(stat).return_data(true).build()
    }
}

/// (epoch seconds, value) of one query's answer.
type Points = Vec<(i64, f64)>;

impl Monitor {
    pub fn new(aws: Aws, config: &StackConfig) -> Monitor {
        let stack = config.name.as_str();
        Monitor {
            aws,
            function: Names::function(stack),
            table: Names::table(stack),
            log_group: Names::function_log_group(stack),
            api: Names::rest_api(stack),
            stage: config.api.stage.clone(),
            alarm_names: crate::stack::Names::alarms(stack),
            operations: config.models.keys().map(|k| k.split('.').next().unwrap_or(k).to_owned()).collect(),
            model_ids: config.models.values().cloned().collect(),
            errors: ErrorLog::default(),
            listed: None,
            users: None,
        }
    }

    /// Reads everything once.
    pub async fn read(&mut self) -> Readings {
        let now = OffsetDateTime::now_utc();
        let mut r = Readings::empty(now);
        let due = |at: Option<Instant>| at.is_none_or(|t| t.elapsed() >= SLOW_EVERY);
        let list_due = due(self.listed.as_ref().map(|l| l.0));
        let users_due = due(self.users.as_ref().map(|u| u.0));

        // First what decides the metric queries, and everything independent of them.
        let (aws, function, table, day) = (&self.aws, self.function.as_str(), self.table.as_str(), r.day.as_str());
        let (listed, logged, alarms, stack_today, users) = tokio::join!(
            async { if list_due { Some(list_metrics(aws, function).await) } else { None } },
            read_errors(aws, &self.log_group, &mut self.errors, now),
            alarms(aws, &self.alarm_names),
            stack_today(aws, table, day),
            async { if users_due { Some(users_today(aws, table, day, now).await) } else { None } },
        );
        match listed {
            Some(Ok(l)) => self.listed = Some((Instant::now(), l)),
            Some(Err(e)) => r.problems.push(e.into()),
            None => {}
        }
        if let Err(e) = logged {
            r.problems.push(e.into());
        }
        r.recent_errors = self.errors.kept.iter().rev().cloned().collect();
        match alarms {
            Ok(a) => r.alarms = a,
            Err(e) => r.problems.push(e.into()),
        }
        match stack_today {
            Ok(n) => r.stack_today = Some(n),
            Err(e) => r.problems.push(e.into()),
        }
        match users {
            Some(Ok(u)) => self.users = Some((Instant::now(), u)),
            Some(Err(e)) => r.problems.push(e.into()),
            None => {}
        }
        // A users' reading older than today is no reading.
        r.users_today = self.users.as_ref().map(|u| u.1.clone()).filter(|u| utc_day(u.as_of) == r.day);

        // Then the metrics, in two calls: the window, and today.
        let listed = self.listed.as_ref().map(|l| l.1.clone()).unwrap_or_default();
        let mut operations = self.operations.clone();
        operations.extend(listed.operations);
        operations.extend(self.errors.kept.iter().filter_map(|e| e.operation.clone()));
        let mut statuses: BTreeSet<String> = BTreeSet::from(["200".to_owned()]);
        statuses.extend(listed.statuses);
        statuses.extend(self.errors.kept.iter().map(|e| e.status.to_string()));
        let mut codes = listed.codes;
        codes.extend(self.errors.kept.iter().filter_map(|e| e.error_code.clone()));
        // A model the stack file no longer names may still have made images today (before a
        // `provision up` changed `models.ids`): those are billed too, so ListMetrics adds them.
        let mut models = self.model_ids.clone();
        models.extend(listed.models);
        let window = self.window_queries(&operations, &statuses, &codes);
        let today = self.today_queries(&operations, &models);
        let end = window_end(now);
        let midnight = now.to_offset(time::UtcOffset::UTC).replace_time(time::Time::MIDNIGHT);
        let (w, t) = tokio::join!(
            metric_data(aws, &window, r.window_start, end),
            metric_data(aws, &today, midnight, end.max(midnight + time::Duration::minutes(1))),
        );
        for op in &operations {
            r.operations.insert(op.clone(), OperationReading::default());
        }
        match w {
            Ok(points) => place(&mut r, &window, points),
            Err(e) => r.problems.push(e.into()),
        }
        match t {
            Ok(points) => place(&mut r, &today, points),
            Err(e) => r.problems.push(e.into()),
        }
        r
    }

    fn function_query(
        &self,
        m: FunctionMetric,
        second: Option<String>,
        stat: &'static str,
        period: i32,
        slot: Slot,
    ) -> Query {
        let mut dimensions = vec![("Function", self.function.clone())];
        if let (Some(name), Some(value)) = (m.dimensions.get(1), second) {
            dimensions.push((*name, value));
        }
        Query { namespace: METRICS_NAMESPACE, metric: m.name, dimensions, stat, period, slot }
    }

    fn window_queries(
        &self,
        operations: &BTreeSet<String>,
        statuses: &BTreeSet<String>,
        codes: &BTreeSet<String>,
    ) -> Vec<Query> {
        let whole = (WINDOW_MINUTES * 60) as i32;
        let mut q = Vec::new();
        for op in operations {
            let o = || Some(op.clone());
            q.push(self.function_query(REQUESTS_BY_OPERATION, o(), "Sum", 60, Slot::OperationRequests(op.clone())));
            q.push(self.function_query(MODEL_LATENCY, o(), "p50", whole, Slot::ModelP50(op.clone())));
            q.push(self.function_query(MODEL_LATENCY, o(), "p95", whole, Slot::ModelP95(op.clone())));
        }
        for s in statuses {
            q.push(self.function_query(REQUESTS_BY_STATUS, Some(s.clone()), "Sum", 60, Slot::Status(s.clone())));
        }
        for c in codes {
            q.push(self.function_query(ERRORS_BY_CODE, Some(c.clone()), "Sum", 60, Slot::Code(c.clone())));
        }
        q.push(self.function_query(THROTTLED, None, "Sum", 60, Slot::FunctionThrottled));
        let route = || Some(EDIT_ROUTE.to_owned());
        q.push(self.function_query(LATENCY, route(), "p50", whole, Slot::EditP50));
        q.push(self.function_query(LATENCY, route(), "p95", whole, Slot::EditP95));
        let gateway = || vec![("ApiName", self.api.clone()), ("Stage", self.stage.clone())];
        q.push(Query {
            namespace: "AWS/ApiGateway",
            metric: "Count",
            dimensions: gateway(),
            stat: "Sum",
            period: 60,
            slot: Slot::GatewayRequests,
        });
        q.push(Query {
            namespace: "AWS/ApiGateway",
            metric: "4XXError",
            dimensions: gateway(),
            stat: "Sum",
            period: 60,
            slot: Slot::Gateway4xx,
        });
        q.push(Query {
            namespace: "AWS/Lambda",
            metric: "Throttles",
            dimensions: vec![("FunctionName", self.function.clone())],
            stat: "Sum",
            period: 60,
            slot: Slot::LambdaThrottles,
        });
        for id in &self.model_ids {
            q.push(Query {
                namespace: "AWS/Bedrock",
                metric: "InvocationThrottles",
                dimensions: vec![("ModelId", id.clone())],
                stat: "Sum",
                period: 60,
                slot: Slot::BedrockThrottles(id.clone()),
            });
        }
        q
    }

    fn today_queries(&self, operations: &BTreeSet<String>, models: &BTreeSet<String>) -> Vec<Query> {
        let by_operation = operations.iter().map(|op| {
            self.function_query(IMAGES_BY_OPERATION, Some(op.clone()), "Sum", 3600, Slot::ImagesToday(op.clone()))
        });
        let by_model = models.iter().map(|id| {
            self.function_query(IMAGES_BY_MODEL, Some(id.clone()), "Sum", 3600, Slot::ModelImagesToday(id.clone()))
        });
        by_operation.chain(by_model).collect()
    }
}

/// Puts each query's answer where it belongs in `r`.
fn place(r: &mut Readings, queries: &[Query], points: Vec<Points>) {
    let start = r.window_start.unix_timestamp();
    for (q, p) in queries.iter().zip(points) {
        let sum = || p.iter().map(|(_, v)| v).sum::<f64>().round().max(0.0) as u64;
        let first = || p.first().map(|(_, v)| (v * 10.0).round() / 10.0);
        match &q.slot {
            Slot::OperationRequests(op) => {
                let o = r.operations.entry(op.clone()).or_default();
                for (ts, v) in &p {
                    let minute = usize::try_from((ts - start).div_euclid(60)).unwrap_or(0).min(WINDOW_MINUTES - 1);
                    o.per_minute[minute] += v.round().max(0.0) as u64;
                }
            }
            Slot::ModelP50(op) => r.operations.entry(op.clone()).or_default().model_latency.p50_ms = first(),
            Slot::ModelP95(op) => r.operations.entry(op.clone()).or_default().model_latency.p95_ms = first(),
            Slot::ImagesToday(op) => r.operations.entry(op.clone()).or_default().images_today = sum(),
            Slot::ModelImagesToday(id) => {
                r.images_by_model.insert(id.clone(), sum());
            }
            Slot::Status(s) => {
                r.statuses.insert(s.clone(), sum());
            }
            Slot::Code(c) => {
                r.error_codes.insert(c.clone(), sum());
            }
            Slot::GatewayRequests => r.gateway_requests = sum(),
            Slot::Gateway4xx => r.gateway_4xx = sum(),
            Slot::LambdaThrottles => r.lambda_throttles = sum(),
            Slot::BedrockThrottles(id) => {
                r.bedrock_throttles.insert(id.clone(), sum());
            }
            Slot::FunctionThrottled => r.function_throttled = sum(),
            Slot::EditP50 => r.edit_latency.p50_ms = first(),
            Slot::EditP95 => r.edit_latency.p95_ms = first(),
        }
    }
}

/// The answers of `queries` over [start, end), in their order: batches of [`MAX_QUERIES`], each
/// one call (and its pages).
async fn metric_data(
    aws: &Aws,
    queries: &[Query],
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<Vec<Points>, AwsError> {
    let mut out: Vec<Points> = vec![Vec::new(); queries.len()];
    let (start, end) = (
        aws_smithy_types::DateTime::from_secs(start.unix_timestamp()),
        aws_smithy_types::DateTime::from_secs(end.unix_timestamp()),
    );
    for (batch, chunk) in queries.chunks(MAX_QUERIES).enumerate() {
        let base = batch * MAX_QUERIES;
        let sdk: Vec<MetricDataQuery> =
            chunk.iter().enumerate().map(|(i, q)| q.sdk(format!("q{}", base + i))).collect();
        let mut next: Option<String> = None;
        loop {
            let page = aws
                .cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(sdk.clone()))
                .start_time(start)
                .end_time(end)
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(next.take())
                .send()
                .await
                .ctx("cloudwatch:GetMetricData")?;
            for result in page.metric_data_results() {
                let index = result.id().and_then(|id| id.strip_prefix('q')).and_then(|n| n.parse::<usize>().ok());
                if let Some(points) = index.and_then(|i| out.get_mut(i)) {
                    points.extend(result.timestamps().iter().map(|t| t.secs()).zip(result.values().iter().copied()));
                }
            }
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

async fn list_metrics(aws: &Aws, function: &str) -> Result<Listed, AwsError> {
    let mut listed = Listed::default();
    let mut next: Option<String> = None;
    loop {
        let page = aws
            .cloudwatch
            .list_metrics()
            .namespace(METRICS_NAMESPACE)
            .dimensions(DimensionFilter::builder().name("Function").value(function).build())
            .set_next_token(next.take())
            .send()
            .await
            .ctx("cloudwatch:ListMetrics")?;
        for m in page.metrics() {
            for d in m.dimensions() {
                let value = d.value().unwrap_or_default().to_owned();
                match d.name() {
                    Some("Operation") => listed.operations.insert(value),
                    Some("Model") => listed.models.insert(value),
                    Some("Status") => listed.statuses.insert(value),
                    Some("ErrorCode") => listed.codes.insert(value),
                    _ => false,
                };
            }
        }
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            return Ok(listed);
        }
    }
}

/// The stack's alarms, those in ALARM first. Asked for by name: a DescribeAlarms by prefix is
/// authorized against `alarm:*`, which the host's policy does not grant (it names the stack's
/// alarms exactly).
async fn alarms(aws: &Aws, names: &[String]) -> Result<Vec<Alarm>, AwsError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    let state = |s: Option<&StateValue>| s.map(|s| s.as_str().to_owned()).unwrap_or_default();
    loop {
        let page = aws
            .cloudwatch
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            .alarm_types(AlarmType::MetricAlarm)
            .set_next_token(next.take())
            .send()
            .await
            .ctx("cloudwatch:DescribeAlarms")?;
        for a in page.metric_alarms() {
            out.push(Alarm {
                name: a.alarm_name().unwrap_or_default().to_owned(),
                state: state(a.state_value()),
                reason: a.state_reason().unwrap_or_default().to_owned(),
            });
        }
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    let rank = |s: &str| match s {
        "ALARM" => 0,
        "INSUFFICIENT_DATA" => 1,
        _ => 2,
    };
    out.sort_by(|a, b| rank(&a.state).cmp(&rank(&b.state)).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

fn images_of(item: Option<&std::collections::HashMap<String, AttributeValue>>) -> u64 {
    item.and_then(|i| i.get("images"))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<f64>().ok())
        .map_or(0, |n| n.max(0.0) as u64)
}

/// The stack's counter of `day` (0 before the first image of the day).
async fn stack_today(aws: &Aws, table: &str, day: &str) -> Result<u64, AwsError> {
    let out = aws
        .dynamodb
        .get_item()
        .table_name(table)
        .key("userId", AttributeValue::S("quota#stack".to_owned()))
        .key("id", AttributeValue::S(day.to_owned()))
        .projection_expression("#n")
        .expression_attribute_names("#n", "images")
        .send()
        .await
        .ctx("dynamodb:GetItem")?;
    Ok(images_of(out.item()))
}

/// Every user's counter of `day`: a Scan (the counters are each in a partition of their own).
async fn users_today(aws: &Aws, table: &str, day: &str, now: OffsetDateTime) -> Result<UsersToday, AwsError> {
    let mut counts = Vec::new();
    let mut start: Option<std::collections::HashMap<String, AttributeValue>> = None;
    loop {
        let page = aws
            .dynamodb
            .scan()
            .table_name(table)
            .filter_expression("begins_with(#u, :prefix) AND #d = :day")
            .projection_expression("#u, #n")
            .expression_attribute_names("#u", "userId")
            .expression_attribute_names("#d", "id")
            .expression_attribute_names("#n", "images")
            .expression_attribute_values(":prefix", AttributeValue::S("quota#".to_owned()))
            .expression_attribute_values(":day", AttributeValue::S(day.to_owned()))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .ctx("dynamodb:Scan")?;
        for item in page.items() {
            let Some(sub) = item.get("userId").and_then(|v| v.as_s().ok()).and_then(|k| k.strip_prefix("quota#"))
            else {
                continue;
            };
            if sub != "stack" {
                counts.push((sub.to_owned(), images_of(Some(item))));
            }
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(UsersToday { as_of: now, counts });
        }
    }
}

/// Reads the error lines logged since the last read (at most [`ERRORS_WINDOW`] back) into `log`,
/// which keeps the newest [`RECENT_ERRORS`] of the window.
async fn read_errors(aws: &Aws, group: &str, log: &mut ErrorLog, now: OffsetDateTime) -> Result<(), AwsError> {
    let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let window_ms = i64::try_from(ERRORS_WINDOW.as_millis()).unwrap_or(i64::MAX);
    let oldest = now_ms.saturating_sub(window_ms);
    let from = log.from(oldest);
    let mut next: Option<String> = None;
    let mut result = Ok(());
    let mut capped = false;
    for page_no in 0..MAX_LOG_PAGES {
        let page = aws
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(from)
            .filter_pattern(ERROR_FILTER)
            .set_next_token(next.take())
            .send()
            .await
            .ctx("logs:FilterLogEvents");
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        for e in page.events() {
            if let (Some(ts), Some(id)) = (e.timestamp(), e.event_id()) {
                log.take(ts, id, e.message().unwrap_or_default());
            }
        }
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
        capped = page_no + 1 == MAX_LOG_PAGES;
    }
    log.settle(oldest, capped);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_error_line_is_read_and_other_lines_are_not() {
        let line = r#"{"Function":"dev-edit","Route":"POST /edits","RequestId":"r-1","StatusCode":429,"ErrorCode":"throttled","Operation":"inpaint","_aws":{"Timestamp":1}}"#;
        let e = logged_error(line, 1_700_000_000_000).expect("an error");
        assert_eq!((e.request_id.as_str(), e.status, e.error_code.as_deref()), ("r-1", 429, Some("throttled")));
        assert_eq!(e.operation.as_deref(), Some("inpaint"));
        assert_eq!(e.time, "2023-11-14T22:13:20Z");
        let ok = r#"{"RequestId":"r-2","StatusCode":200,"_aws":{}}"#;
        assert_eq!(logged_error(ok, 1), None);
        // The tracing line of the same request names its error in snake case: not an EMF line.
        let tracing = r#"{"message":"request done","status":429,"error_code":"throttled","RequestId":"r-1"}"#;
        assert_eq!(logged_error(tracing, 1), None);
        assert_eq!(logged_error("REPORT RequestId: r-1 ErrorCode", 1), None);
    }

    #[test]
    fn error_lines_are_taken_once_even_when_they_arrive_late() {
        let line = |id: &str, status: u16| {
            format!(r#"{{"RequestId":"{id}","Route":"POST /edits","StatusCode":{status},"ErrorCode":"x","_aws":{{}}}}"#)
        };
        let mut log = ErrorLog::default();
        let oldest = 1_000_000;
        assert_eq!(log.from(oldest), oldest, "the first read covers the whole window");
        log.take(1_100_000, "e1", &line("r1", 500));
        log.take(1_200_000, "e2", &line("r2", 429));
        log.take(1_200_500, "e3", "START RequestId: r3");
        log.settle(oldest, false);
        // The next read starts a minute before the newest event: an event of another execution
        // environment, older than the newest but read only now, is taken; those read are not.
        assert_eq!(log.from(oldest), 1_200_500 - LOG_OVERLAP_MS);
        log.take(1_200_000, "e2", &line("r2", 429));
        log.take(1_190_000, "e4", &line("r4", 504));
        log.settle(oldest, false);
        let ids: Vec<&str> = log.kept.iter().map(|e| e.request_id.as_str()).collect();
        assert_eq!(ids, ["r1", "r4", "r2"]);
        // At most RECENT_ERRORS, the newest; none older than the window.
        for i in 0..10 {
            log.take(1_300_000 + i, &format!("n{i}"), &line(&format!("n{i}"), 500));
        }
        log.settle(1_250_000, false);
        let ids: Vec<&str> = log.kept.iter().map(|e| e.request_id.as_str()).collect();
        assert_eq!(ids, ["n5", "n6", "n7", "n8", "n9"]);
        // A read cut short goes on from where it stopped (no overlap to read again).
        log.settle(1_250_000, true);
        assert_eq!(log.from(1_250_000), 1_300_009);
    }

    #[test]
    fn the_window_ends_after_the_current_minute() {
        let at = time::macros::datetime!(2026-12-05 18:40:05 UTC);
        assert_eq!(window_end(at), time::macros::datetime!(2026-12-05 18:41:00 UTC));
        let r = Readings::empty(at);
        assert_eq!(r.window_start, time::macros::datetime!(2026-12-05 18:36:00 UTC));
        assert_eq!(r.day, "2026-12-05");
    }

    #[test]
    fn answers_land_in_their_minute_and_sum() {
        let at = time::macros::datetime!(2026-12-05 18:40:05 UTC);
        let mut r = Readings::empty(at);
        let start = r.window_start.unix_timestamp();
        let q = |slot: Slot| Query {
            namespace: METRICS_NAMESPACE,
            metric: "Requests",
            dimensions: vec![],
            stat: "Sum",
            period: 60,
            slot,
        };
        let queries =
            vec![q(Slot::OperationRequests("inpaint".into())), q(Slot::Status("200".into())), q(Slot::EditP95)];
        place(
            &mut r,
            &queries,
            vec![vec![(start, 2.0), (start + 240, 3.0)], vec![(start, 2.0), (start + 60, 1.0)], vec![(start, 1234.56)]],
        );
        assert_eq!(r.operations["inpaint"].per_minute, [2, 0, 0, 0, 3]);
        assert_eq!(r.statuses["200"], 3);
        assert_eq!(r.edit_latency, Percentiles { p50_ms: None, p95_ms: Some(1234.6) });
    }

    #[test]
    fn todays_images_sum_by_operation_and_by_model() {
        let at = time::macros::datetime!(2026-12-05 18:40:05 UTC);
        let mut r = Readings::empty(at);
        let midnight = time::macros::datetime!(2026-12-05 00:00 UTC).unix_timestamp();
        let q = |slot: Slot| Query {
            namespace: METRICS_NAMESPACE,
            metric: "Images",
            dimensions: vec![],
            stat: "Sum",
            period: 3600,
            slot,
        };
        let core = "stability.stable-image-core-v1:1";
        let ultra = "stability.stable-image-ultra-v1:1";
        let queries = vec![
            q(Slot::ImagesToday("generate".into())),
            q(Slot::ModelImagesToday(core.into())),
            q(Slot::ModelImagesToday(ultra.into())),
            q(Slot::ModelImagesToday("us.stability.stable-image-inpaint-v1:0".into())),
        ];
        // One point per hour with images; an hour without any has no point.
        place(
            &mut r,
            &queries,
            vec![
                vec![(midnight, 2.0), (midnight + 3 * 3600, 3.0)],
                vec![(midnight, 2.0), (midnight + 3 * 3600, 1.0)],
                vec![(midnight + 3 * 3600, 2.0)],
                vec![],
            ],
        );
        assert_eq!(r.operations["generate"].images_today, 5);
        // The same images by model: each priced at its own model, none missing.
        let expected: BTreeMap<String, u64> = BTreeMap::from([
            (core.to_owned(), 3),
            (ultra.to_owned(), 2),
            ("us.stability.stable-image-inpaint-v1:0".to_owned(), 0),
        ]);
        assert_eq!(r.images_by_model, expected);
    }
}
