//! CloudWatch Embedded Metric Format: one JSON line per request on stdout, which CloudWatch Logs
//! turns into metrics without any API call (no PutMetricData latency, no extra IAM).
//!
//! Metrics: `Latency` and `Errors` by (Function, Route); `ModelLatency` and `Blocked` by
//! (Function, Operation); `Errors` by (Function, ErrorCode); `RecordWriteErrors` by (Function, Route).

use serde_json::{Value, json};

/// What one request measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestMetrics {
    pub request_id: String,
    /// `METHOD /resource`, e.g. `POST /edits`.
    pub route: String,
    pub operation: Option<&'static str>,
    pub status: u16,
    pub error_code: Option<&'static str>,
    pub latency_ms: f64,
    pub model_latency_ms: Option<f64>,
    pub blocked: bool,
    pub record_write_failed: bool,
}

/// The EMF document for `m`.
pub fn emf(namespace: &str, function: &str, m: &RequestMetrics, timestamp_ms: i64) -> Value {
    let errors = u8::from(m.status >= 400);
    let mut directives = vec![json!({
        "Namespace": namespace,
        "Dimensions": [["Function", "Route"]],
        "Metrics": [
            {"Name": "Latency", "Unit": "Milliseconds"},
            {"Name": "Errors", "Unit": "Count"},
            {"Name": "RecordWriteErrors", "Unit": "Count"}
        ]
    })];
    let mut doc = json!({
        "Function": function,
        "Route": m.route,
        "RequestId": m.request_id,
        "StatusCode": m.status,
        "Latency": round(m.latency_ms),
        "Errors": errors,
        "RecordWriteErrors": u8::from(m.record_write_failed),
    });
    if let Some(op) = m.operation {
        let mut metrics = vec![json!({"Name": "Blocked", "Unit": "Count"})];
        if let Some(ml) = m.model_latency_ms {
            metrics.push(json!({"Name": "ModelLatency", "Unit": "Milliseconds"}));
            doc["ModelLatency"] = json!(round(ml));
        }
        doc["Operation"] = json!(op);
        doc["Blocked"] = json!(u8::from(m.blocked));
        directives.push(json!({"Namespace": namespace, "Dimensions": [["Function", "Operation"]], "Metrics": metrics}));
    }
    if let Some(code) = m.error_code {
        doc["ErrorCode"] = json!(code);
        directives.push(json!({
            "Namespace": namespace,
            "Dimensions": [["Function", "ErrorCode"]],
            "Metrics": [{"Name": "Errors", "Unit": "Count"}]
        }));
    }
    doc["_aws"] = json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": directives});
    doc
}

fn round(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

/// Writes the EMF line to stdout (its own line, outside the tracing JSON, as EMF requires).
pub fn emit(namespace: &str, function: &str, m: &RequestMetrics) {
    let now = time::OffsetDateTime::now_utc();
    let ts = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
    println!("{}", emf(namespace, function, m, ts));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_declares_what_it_carries() {
        let m = RequestMetrics {
            request_id: "r1".into(),
            route: "POST /edits".into(),
            operation: Some("inpaint"),
            status: 429,
            error_code: Some("throttled"),
            latency_ms: 12.34,
            model_latency_ms: Some(10.0),
            blocked: false,
            record_write_failed: false,
        };
        let doc = emf("ImageEditor", "fn", &m, 1_700_000_000_000);
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000i64);
        let directives = doc["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 3);
        // Every dimension and metric named in a directive is a member of the document.
        for d in directives {
            for set in d["Dimensions"].as_array().unwrap() {
                for key in set.as_array().unwrap() {
                    assert!(doc.get(key.as_str().unwrap()).is_some(), "{key}");
                }
            }
            for metric in d["Metrics"].as_array().unwrap() {
                assert!(doc.get(metric["Name"].as_str().unwrap()).is_some());
            }
        }
        assert_eq!(doc["Errors"], 1);
        assert_eq!(doc["ErrorCode"], "throttled");
        assert_eq!(doc["Latency"], 12.3);
    }
}
