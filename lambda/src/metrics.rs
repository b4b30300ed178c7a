//! CloudWatch Embedded Metric Format: one JSON line per request on stdout, which CloudWatch Logs
//! turns into metrics without any API call (no PutMetricData latency, no extra IAM).
//!
//! Metrics (namespace `image_edit_contract::METRICS_NAMESPACE`, `ImageEditor`; `provision watch`,
//! the stack's dashboard and alarms read them):
//! - by (Function, Route): `Requests`, `Latency`, `Errors`, `RecordWriteErrors`;
//! - by (Function, Operation), for edits: `Requests`, `Images` (made, so billed), `Blocked`,
//!   `ModelLatency`;
//! - by (Function, Model), for requests that invoked a model: `Images`. `Model` is the model id as
//!   invoked — a plain id or an inference profile id (`us.stability.…`), one of the stack's
//!   `MODEL_IDS` — so the images can be priced exactly: an operation may have several models at
//!   different prices (`upscale`: fast, conservative, creative), and one model may serve several
//!   operations;
//! - by (Function, ErrorCode): `Errors`;
//! - by (Function, Status) — the HTTP status as a string, since dimension values are strings: `Requests`;
//! - by (Function): `ServerErrors`, `ModelErrors` and `Throttled`, each 0 or 1 per request so that
//!   their Average is the share of requests (what the alarms compare), `Images`, and
//!   `ImagesToday`, the stack's count of today's images after this request (its Maximum is how
//!   close the day is to `limits.edits_per_day`).

use serde_json::{Value, json};

/// What one request measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestMetrics {
    pub request_id: String,
    /// `METHOD /resource`, e.g. `POST /edits`.
    pub route: String,
    pub operation: Option<&'static str>,
    /// The model id invoked, as invoked (`None` when no model was called).
    pub model: Option<String>,
    pub status: u16,
    pub error_code: Option<&'static str>,
    pub latency_ms: f64,
    pub model_latency_ms: Option<f64>,
    pub blocked: bool,
    pub record_write_failed: bool,
    /// Images the model made for this request (and Bedrock billed).
    pub images: u32,
    /// The stack's images today once this request was counted (edits only).
    pub images_today: Option<u32>,
}

/// Error codes that mean the model, not the request, failed: what the model-errors alarm counts.
pub const MODEL_ERROR_CODES: &[&str] = &["model_error", "model_timeout", "model_unavailable", "model_not_ready"];

/// The EMF document for `m`.
pub fn emf(namespace: &str, function: &str, m: &RequestMetrics, timestamp_ms: i64) -> Value {
    let errors = u8::from(m.status >= 400);
    let count = |name: &str| json!({"Name": name, "Unit": "Count"});
    let mut by_function = vec![count("ServerErrors"), count("ModelErrors"), count("Throttled"), count("Images")];
    let mut directives = vec![
        json!({
            "Namespace": namespace,
            "Dimensions": [["Function", "Route"]],
            "Metrics": [
                count("Requests"),
                {"Name": "Latency", "Unit": "Milliseconds"},
                count("Errors"),
                count("RecordWriteErrors")
            ]
        }),
        json!({"Namespace": namespace, "Dimensions": [["Function", "Status"]], "Metrics": [count("Requests")]}),
    ];
    let mut doc = json!({
        "Function": function,
        "Route": m.route,
        "RequestId": m.request_id,
        "StatusCode": m.status,
        "Status": m.status.to_string(),
        "Requests": 1,
        "Latency": round(m.latency_ms),
        "Errors": errors,
        "RecordWriteErrors": u8::from(m.record_write_failed),
        "ServerErrors": u8::from(m.status >= 500),
        "ModelErrors": u8::from(m.error_code.is_some_and(|c| MODEL_ERROR_CODES.contains(&c))),
        "Throttled": u8::from(m.error_code == Some("throttled")),
        "Images": m.images,
    });
    if let Some(today) = m.images_today {
        by_function.push(count("ImagesToday"));
        doc["ImagesToday"] = json!(today);
    }
    directives.push(json!({"Namespace": namespace, "Dimensions": [["Function"]], "Metrics": by_function}));
    if let Some(op) = m.operation {
        let mut metrics = vec![count("Requests"), count("Images"), count("Blocked")];
        if let Some(ml) = m.model_latency_ms {
            metrics.push(json!({"Name": "ModelLatency", "Unit": "Milliseconds"}));
            doc["ModelLatency"] = json!(round(ml));
        }
        doc["Operation"] = json!(op);
        doc["Blocked"] = json!(u8::from(m.blocked));
        directives.push(json!({"Namespace": namespace, "Dimensions": [["Function", "Operation"]], "Metrics": metrics}));
    }
    // Its own directive: the Operation directive's metrics are not all the model's, and a request
    // that invoked no model must not add a `Model` dimension value (none to price).
    if let Some(model) = &m.model {
        doc["Model"] = json!(model);
        directives
            .push(json!({"Namespace": namespace, "Dimensions": [["Function", "Model"]], "Metrics": [count("Images")]}));
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

/// What an EMF document declares: one (namespace, dimension set, metric name) per metric each
/// directive makes — how CloudWatch reads it, and what the stack's alarms and `provision watch`
/// may ask for.
pub fn declared(doc: &Value) -> Vec<(String, Vec<String>, String)> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_owned)).collect()
    };
    let mut out = Vec::new();
    for d in doc["_aws"]["CloudWatchMetrics"].as_array().into_iter().flatten() {
        let namespace = d["Namespace"].as_str().unwrap_or_default().to_owned();
        let names: Vec<String> = d["Metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["Name"].as_str().map(str::to_owned))
            .collect();
        for set in d["Dimensions"].as_array().into_iter().flatten() {
            for name in &names {
                out.push((namespace.clone(), strings(set), name.clone()));
            }
        }
    }
    out
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
            model: Some("us.stability.stable-image-inpaint-v1:0".into()),
            status: 429,
            error_code: Some("throttled"),
            latency_ms: 12.34,
            model_latency_ms: Some(10.0),
            blocked: false,
            record_write_failed: false,
            images: 0,
            images_today: Some(7),
        };
        let doc = emf("ImageEditor", "fn", &m, 1_700_000_000_000);
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000i64);
        let directives = doc["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 6);
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
        // Dimension values are strings (the EMF specification); the status is one.
        assert_eq!(doc["Status"], "429");
        assert_eq!(
            (doc["Throttled"].clone(), doc["ServerErrors"].clone(), doc["ModelErrors"].clone()),
            (json!(1), json!(0), json!(0))
        );
        assert_eq!(doc["ImagesToday"], 7);
        // The images by the model that made them, by its id as invoked (an inference profile here).
        let by_model: Vec<&Value> =
            directives.iter().filter(|d| d["Dimensions"] == json!([["Function", "Model"]])).collect();
        assert_eq!(by_model.len(), 1, "{directives:?}");
        assert_eq!(by_model[0]["Metrics"], json!([{"Name": "Images", "Unit": "Count"}]));
        assert_eq!(doc["Model"], "us.stability.stable-image-inpaint-v1:0");
    }

    #[test]
    fn images_by_model_are_written_only_when_a_model_was_invoked() {
        let by_model = |doc: &Value| {
            doc["_aws"]["CloudWatchMetrics"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["Dimensions"] == json!([["Function", "Model"]]))
                .count()
        };
        // Refused before the model: no Model dimension, so no images priced at a model.
        let refused = RequestMetrics {
            route: "POST /edits".into(),
            operation: Some("generate"),
            status: 400,
            error_code: Some("validation_error"),
            ..RequestMetrics::default()
        };
        let doc = emf("ImageEditor", "fn", &refused, 1);
        assert_eq!(by_model(&doc), 0);
        assert!(doc.get("Model").is_none());
        // Made two images with Ultra: two images by that model, as by its operation.
        let made = RequestMetrics {
            model: Some("stability.stable-image-ultra-v1:1".into()),
            status: 200,
            error_code: None,
            images: 2,
            ..refused
        };
        let doc = emf("ImageEditor", "fn", &made, 1);
        assert_eq!(by_model(&doc), 1);
        assert_eq!(
            (doc["Model"].clone(), doc["Images"].clone()),
            (json!("stability.stable-image-ultra-v1:1"), json!(2))
        );
    }

    #[test]
    fn a_model_failure_counts_as_a_server_error_and_a_model_error() {
        let m = RequestMetrics { status: 504, error_code: Some("model_timeout"), ..RequestMetrics::default() };
        let doc = emf("ImageEditor", "fn", &m, 1);
        assert_eq!((doc["ServerErrors"].clone(), doc["ModelErrors"].clone()), (json!(1), json!(1)));
        // No ImagesToday without a count: a missing datapoint, not a zero, for the limit alarm.
        assert!(doc.get("ImagesToday").is_none());
    }
}
