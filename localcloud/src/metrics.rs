//! The CloudWatch metrics AWS services publish about themselves — API Gateway's `AWS/ApiGateway`,
//! Lambda's `AWS/Lambda`, Bedrock's `AWS/Bedrock` — published by their stand-ins into moto's
//! CloudWatch, so dashboards, alarms and `GetMetricStatistics` see each layer on the local cloud
//! as they do on AWS.
//!
//! A stand-in hands its measurements to a [`Publisher`] on the request path; that only puts them
//! on a bounded channel (never waits, never fails the request). A background task gathers what
//! arrives within about a second and sends it with `PutMetricData`, in as many calls as
//! CloudWatch's limits ask for. When moto is unreachable the metrics are dropped, with a warning
//! at most once a minute.
//!
//! The calls are CloudWatch's query protocol (the botocore model of `monitoring` 2010-08-01 gives
//! `"protocol": "query"`), signed for the resource's region. moto checks the key and not the
//! signature (`localcloud/src/moto/iam.py`), and any key it did not issue is the account's
//! administrator, so the stand-ins sign with a fixed key, as they do for their other moto calls.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// PutMetricData's limits ("PutMetricData", CloudWatch API Reference, and the botocore model):
/// at most 1000 metrics per call, 1 MB per HTTP POST request, 30 dimensions per metric; dimension
/// names 1–255 and values 1–1024 ASCII characters without control characters.
const MAX_DATUMS_PER_CALL: usize = 1000;
const MAX_PAYLOAD_BYTES: usize = 1_000_000;
const MAX_DIMENSIONS: usize = 30;
const MAX_DIMENSION_NAME: usize = 255;
const MAX_DIMENSION_VALUE: usize = 1024;

/// How long the task gathers datums before it sends them (the services send every minute; a
/// second keeps tests and `provision watch` quick while sending one call, not one per request).
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// A PutMetricData call that takes longer than this is given up (and its datums dropped).
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Datums waiting to be sent; beyond this (moto far behind) new ones are dropped, not queued.
const QUEUE: usize = 100_000;
/// The least time between two warnings about dropped metrics.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// A metric's unit, as PutMetricData spells it (`StandardUnit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// A dimension set: (name, value) pairs.
pub type Dimensions = Vec<(&'static str, String)>;

/// One value of one metric.
#[derive(Debug, Clone, PartialEq)]
struct Datum {
    region: String,
    namespace: &'static str,
    name: &'static str,
    unit: Unit,
    value: f64,
    dimensions: Dimensions,
    timestamp: OffsetDateTime,
}

/// Where a stand-in's metrics go. Cheap to clone; [`Publisher::default`] drops everything (a
/// stand-in without a moto, as in some tests).
#[derive(Clone, Default)]
pub struct Publisher {
    tx: Option<mpsc::Sender<Datum>>,
    /// Datums dropped because the queue was full, not yet warned about.
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").field("enabled", &self.tx.is_some()).finish()
    }
}

impl Publisher {
    /// A publisher sending to moto at `moto` (`http://127.0.0.1:PORT`). Outside a Tokio runtime
    /// there is no task to send with: that publisher drops everything.
    pub fn start(moto: &str) -> Publisher {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no async runtime: the stand-ins' CloudWatch metrics are not published");
            return Publisher::default();
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        runtime.spawn(send_batches(format!("{}/", moto.trim_end_matches('/')), rx, dropped.clone()));
        Publisher { tx: Some(tx), dropped }
    }

    /// Publishes each of `samples` (metric name, unit, value) under each of `dimension_sets`, in
    /// `namespace` of `region`, at `at` (the time of the request measured). Never waits.
    pub fn publish(
        &self,
        region: &str,
        namespace: &'static str,
        at: OffsetDateTime,
        dimension_sets: &[Dimensions],
        samples: &[(&'static str, Unit, f64)],
    ) {
        let Some(tx) = &self.tx else { return };
        for dimensions in dimension_sets {
            for &(name, unit, value) in samples {
                let datum = Datum {
                    region: region.to_owned(),
                    namespace,
                    name,
                    unit,
                    value,
                    dimensions: dimensions.clone(),
                    timestamp: at,
                };
                if let Err(why) = acceptable(&datum) {
                    // CloudWatch would refuse the whole call for it: it is left out instead.
                    tracing::debug!(namespace, name, why, "metric not published");
                    continue;
                }
                if tx.try_send(datum).is_err() {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// Whether CloudWatch accepts the datum (the limits above; values must be finite numbers,
/// "special values (for example, NaN, +Infinity, -Infinity) are not supported").
fn acceptable(d: &Datum) -> Result<(), &'static str> {
    if !d.value.is_finite() {
        return Err("the value is not a finite number");
    }
    if d.dimensions.len() > MAX_DIMENSIONS {
        return Err("more than 30 dimensions");
    }
    let ascii = |s: &str, max: usize| {
        (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii() && !b.is_ascii_control()) && !s.trim().is_empty()
    };
    for (name, value) in &d.dimensions {
        if !ascii(name, MAX_DIMENSION_NAME) || name.starts_with(':') || !ascii(value, MAX_DIMENSION_VALUE) {
            return Err("a dimension name or value CloudWatch does not accept");
        }
    }
    Ok(())
}

/// The background task: gathers datums for [`FLUSH_EVERY`], then sends them.
async fn send_batches(endpoint: String, mut rx: mpsc::Receiver<Datum>, dropped: Arc<AtomicU64>) {
    let http = reqwest::Client::new();
    let mut last_warning: Option<Instant> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let flush_at = Instant::now() + FLUSH_EVERY;
        while let Ok(Some(d)) = tokio::time::timeout_at(flush_at, rx.recv()).await {
            batch.push(d);
        }
        let mut failure = None;
        let mut lost = 0usize;
        for call in calls(&batch) {
            if let Err(e) = send(&http, &endpoint, &call).await {
                failure = Some(e);
                lost += call.datums;
            }
        }
        let full = dropped.swap(0, Ordering::Relaxed);
        if failure.is_some() || full > 0 {
            let due = last_warning.is_none_or(|t| t.elapsed() >= WARN_EVERY);
            if due {
                last_warning = Some(Instant::now());
                tracing::warn!(
                    endpoint,
                    error = failure.as_deref().unwrap_or("the queue was full"),
                    lost = lost as u64 + full,
                    "the stand-ins' CloudWatch metrics were dropped (this warning repeats at most once a minute)"
                );
            }
        }
    }
}

/// One PutMetricData call: its region, its form body and how many datums it carries.
#[derive(Debug)]
struct Call {
    region: String,
    body: String,
    datums: usize,
}

/// What is not unreserved in a query string (RFC 3986: letters, digits and `-._~`).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn enc(s: &str) -> percent_encoding::PercentEncode<'_> {
    utf8_percent_encode(s, QUERY)
}

/// The timestamp as the query protocol sends it: ISO 8601 in UTC, to the millisecond.
fn iso8601(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&format).unwrap_or_default()
}

/// A datum's members of the form body, as the `n`th of its call.
fn members(n: usize, d: &Datum) -> String {
    let p = format!("MetricData.member.{n}");
    let mut s = format!(
        "&{p}.MetricName={}&{p}.Value={}&{p}.Unit={}&{p}.Timestamp={}",
        enc(d.name),
        d.value,
        d.unit.as_str(),
        enc(&iso8601(d.timestamp))
    );
    for (i, (name, value)) in d.dimensions.iter().enumerate() {
        let i = i + 1;
        s.push_str(&format!(
            "&{p}.Dimensions.member.{i}.Name={}&{p}.Dimensions.member.{i}.Value={}",
            enc(name),
            enc(value)
        ));
    }
    s
}

/// The calls that send `batch`: one namespace of one region each, within PutMetricData's limits
/// of datums per call and bytes per request.
fn calls(batch: &[Datum]) -> Vec<Call> {
    let mut groups: BTreeMap<(&str, &str), Vec<&Datum>> = BTreeMap::new();
    for d in batch {
        groups.entry((d.region.as_str(), d.namespace)).or_default().push(d);
    }
    let mut out = Vec::new();
    for ((region, namespace), datums) in groups {
        let head = format!("Action=PutMetricData&Version=2010-08-01&Namespace={}", enc(namespace));
        let mut call = Call { region: region.to_owned(), body: head.clone(), datums: 0 };
        for d in datums {
            let mut m = members(call.datums + 1, d);
            if call.datums == MAX_DATUMS_PER_CALL || (call.datums > 0 && call.body.len() + m.len() > MAX_PAYLOAD_BYTES)
            {
                out.push(std::mem::replace(
                    &mut call,
                    Call { region: region.to_owned(), body: head.clone(), datums: 0 },
                ));
                m = members(1, d);
            }
            call.body.push_str(&m);
            call.datums += 1;
        }
        if call.datums > 0 {
            out.push(call);
        }
    }
    out
}

/// Sends one call to moto; Err says why it failed.
async fn send(http: &reqwest::Client, endpoint: &str, call: &Call) -> Result<(), String> {
    let today = OffsetDateTime::now_utc().date();
    let scope = format!(
        "{:04}{:02}{:02}/{}/monitoring/aws4_request",
        today.year(),
        u8::from(today.month()),
        today.day(),
        call.region
    );
    let resp = http
        .post(endpoint)
        .timeout(SEND_TIMEOUT)
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .header("authorization", format!("AWS4-HMAC-SHA256 Credential=local/{scope}, SignedHeaders=host, Signature=0"))
        .body(call.body.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let text = resp.text().await.unwrap_or_default();
    Err(format!("PutMetricData answered {status}: {}", text.chars().take(300).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datum(region: &str, namespace: &'static str, dims: usize, value: String) -> Datum {
        Datum {
            region: region.to_owned(),
            namespace,
            name: "Count",
            unit: Unit::Count,
            value: 1.0,
            dimensions: (0..dims).map(|i| ("Dim", format!("{value}{i}"))).collect(),
            timestamp: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn calls_keep_to_put_metric_datas_limits() {
        // 2,500 small datums of one namespace: three calls of at most 1,000.
        let batch: Vec<Datum> = (0..2_500).map(|_| datum("us-west-2", "AWS/Lambda", 1, "f".into())).collect();
        let sizes: Vec<usize> = calls(&batch).iter().map(|c| c.datums).collect();
        assert_eq!(sizes, [1000, 1000, 500]);

        // Large datums (30 dimensions of 1,000 characters): no body over 1 MB, none lost, and
        // each call numbers its members from 1.
        let big: Vec<Datum> = (0..100).map(|_| datum("us-west-2", "AWS/Lambda", 30, "v".repeat(1_000))).collect();
        let out = calls(&big);
        assert!(out.len() > 1, "{} calls", out.len());
        assert!(out.iter().all(|c| c.body.len() <= MAX_PAYLOAD_BYTES));
        assert_eq!(out.iter().map(|c| c.datums).sum::<usize>(), 100);
        assert!(out.iter().all(|c| c.body.contains("MetricData.member.1.MetricName=Count")));

        // One call per region and namespace.
        let mixed = vec![
            datum("us-west-2", "AWS/Lambda", 1, "a".into()),
            datum("us-east-1", "AWS/Lambda", 1, "a".into()),
            datum("us-west-2", "AWS/ApiGateway", 1, "a".into()),
            datum("us-west-2", "AWS/Lambda", 1, "b".into()),
        ];
        let out = calls(&mixed);
        assert_eq!(out.len(), 3);
        assert!(
            out.iter().any(|c| c.region == "us-west-2" && c.datums == 2 && c.body.contains("Namespace=AWS%2FLambda"))
        );
    }

    #[test]
    fn the_body_is_cloudwatchs_query_protocol() {
        let d = Datum {
            region: "us-west-2".into(),
            namespace: "AWS/ApiGateway",
            name: "4XXError",
            unit: Unit::Count,
            value: 0.0,
            dimensions: vec![("ApiName", "dev api".into()), ("Stage", "prod".into())],
            timestamp: OffsetDateTime::from_unix_timestamp_nanos(1_767_225_600_123_456_789)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        };
        let out = calls(&[d]);
        assert_eq!(
            out[0].body,
            "Action=PutMetricData&Version=2010-08-01&Namespace=AWS%2FApiGateway\
             &MetricData.member.1.MetricName=4XXError&MetricData.member.1.Value=0&MetricData.member.1.Unit=Count\
             &MetricData.member.1.Timestamp=2026-01-01T00%3A00%3A00.123Z\
             &MetricData.member.1.Dimensions.member.1.Name=ApiName&MetricData.member.1.Dimensions.member.1.Value=dev%20api\
             &MetricData.member.1.Dimensions.member.2.Name=Stage&MetricData.member.1.Dimensions.member.2.Value=prod"
        );
    }

    #[test]
    fn datums_cloudwatch_refuses_are_left_out() {
        assert!(acceptable(&datum("r", "AWS/Lambda", 30, "v".into())).is_ok());
        assert!(acceptable(&datum("r", "AWS/Lambda", 31, "v".into())).is_err());
        assert!(acceptable(&Datum { value: f64::NAN, ..datum("r", "AWS/Lambda", 1, "v".into()) }).is_err());
        let mut d = datum("r", "AWS/Lambda", 1, "v".into());
        d.dimensions[0].1 = "café".into();
        assert!(acceptable(&d).is_err());
        d.dimensions[0].1 = " ".into();
        assert!(acceptable(&d).is_err());
    }

    #[tokio::test]
    async fn publishing_never_waits_for_an_unreachable_moto() {
        // Nothing listens on port 9 (discard) of the loopback here: every call fails.
        let p = Publisher::start("http://127.0.0.1:9");
        let t = std::time::Instant::now();
        for _ in 0..10_000 {
            p.publish(
                "us-west-2",
                "AWS/Lambda",
                OffsetDateTime::now_utc(),
                &[vec![]],
                &[("Invocations", Unit::Count, 1.0)],
            );
        }
        assert!(t.elapsed() < Duration::from_secs(1), "publishing took {:?}", t.elapsed());
    }
}
