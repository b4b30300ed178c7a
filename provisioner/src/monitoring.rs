//! What the host watches: the stack's alarms and its dashboard, built from the metrics the
//! function writes (lambda/src/metrics.rs: namespace [`METRICS_NAMESPACE`]) and those AWS
//! publishes for the API, the function and the models. `provision watch` reads the same metrics.
//!
//! Each alarm is something a host must act on during a workshop; docs/workshop.md ("During the
//! workshop") says what to do about each.

use image_edit_contract::METRICS_NAMESPACE;
use serde_json::{Value, json};

use crate::config::StackConfig;
use crate::resources::alarm::{Alarm, Metric};
use crate::resources::topic::Topic;
use crate::stack::{Names, Ref};

/// One alarm of the stack: its name's suffix and how it is made.
pub struct AlarmKind {
    pub suffix: &'static str,
    make: fn(&StackConfig) -> AlarmSpec,
}

/// An alarm's definition, before it is given its topic.
struct AlarmSpec {
    description: String,
    metric: &'static str,
    statistic: &'static str,
    period_s: i32,
    evaluation_periods: i32,
    datapoints_to_alarm: i32,
    threshold: f64,
}

/// The stack's alarms, in the order docs/workshop.md explains them.
pub const ALARMS: &[AlarmKind] = &[
    AlarmKind { suffix: "server-errors", make: server_errors },
    AlarmKind { suffix: "throttling", make: throttling },
    AlarmKind { suffix: "model-errors", make: model_errors },
    AlarmKind { suffix: "daily-images", make: daily_images },
];

/// 5xx answers: `ServerErrors` is 0 or 1 per request, so its Average over a minute is their share.
/// Two of the last three minutes, so one unlucky request in a quiet minute does not page anyone.
fn server_errors(c: &StackConfig) -> AlarmSpec {
    let percent = c.monitoring.server_errors_percent;
    AlarmSpec {
        description: format!(
            "{percent}% or more of the API's answers were 5xx in 2 of the last 3 minutes: see `provision watch` \
             (last errors) and docs/workshop.md, During the workshop"
        ),
        metric: "ServerErrors",
        statistic: "Average",
        period_s: 60,
        evaluation_periods: 3,
        datapoints_to_alarm: 2,
        threshold: f64::from(percent) / 100.0,
    }
}

/// Bedrock (or DynamoDB) throttled the function even after its retries: people see 429
/// `throttled`. The account's Bedrock quota is too small for the class.
fn throttling(_: &StackConfig) -> AlarmSpec {
    AlarmSpec {
        description: "Requests were answered 429 throttled (Bedrock or DynamoDB refused them after retries) in 2 of \
                      the last 3 minutes: the account's quotas are below the class's pace; see docs/workshop.md"
            .to_owned(),
        metric: "Throttled",
        statistic: "Sum",
        period_s: 60,
        evaluation_periods: 3,
        datapoints_to_alarm: 2,
        threshold: 1.0,
    }
}

/// The model failed, timed out or is unavailable (502/503/504 with a model error code).
fn model_errors(_: &StackConfig) -> AlarmSpec {
    AlarmSpec {
        description: "The model failed, timed out or was unavailable 3 times or more in 5 minutes: check \
                      `provision doctor` (model access) and docs/workshop.md"
            .to_owned(),
        metric: "ModelErrors",
        statistic: "Sum",
        period_s: 300,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        threshold: 3.0,
    }
}

/// `ImagesToday` is the stack's count of the day after each edit; its Maximum crossing the share
/// of `limits.edits_per_day` means the class will soon read "this app has made its images".
fn daily_images(c: &StackConfig) -> AlarmSpec {
    let limit = c.limits.edits_per_day;
    let percent = c.monitoring.daily_images_percent;
    let threshold = (f64::from(limit) * f64::from(percent) / 100.0).ceil().max(1.0);
    AlarmSpec {
        description: format!(
            "Today's images reached {threshold} of the stack's {limit} (limits.edits_per_day): raise the limit in \
             the stack file and `provision up`, or tell the class; the count starts again at 00:00 UTC"
        ),
        metric: "ImagesToday",
        statistic: "Maximum",
        period_s: 300,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        threshold,
    }
}

impl AlarmKind {
    /// The alarm construct for `config`'s stack, notifying `topic`.
    pub fn alarm(&self, config: &StackConfig, topic: Ref<Topic>) -> Alarm {
        let spec = (self.make)(config);
        Alarm {
            name: Names::alarm(&config.name, self.suffix),
            description: spec.description,
            metric: Metric {
                namespace: METRICS_NAMESPACE,
                name: spec.metric,
                dimensions: vec![("Function", Names::function(&config.name))],
            },
            statistic: spec.statistic,
            period_s: spec.period_s,
            evaluation_periods: spec.evaluation_periods,
            datapoints_to_alarm: spec.datapoints_to_alarm,
            threshold: spec.threshold,
            comparison: "GreaterThanOrEqualToThreshold",
            // No requests is not a problem ("Configuring how CloudWatch alarms treat missing data").
            treat_missing_data: "notBreaching",
            topic,
        }
    }
}

/// The dashboard ("Dashboard body structure and syntax", CloudWatch API Reference): the figures
/// of `provision watch`, one widget each.
pub fn dashboard_body(c: &StackConfig) -> Value {
    let function = Names::function(&c.name);
    let region = c.region.as_str();
    let api = Names::rest_api(&c.name);
    let ops: Vec<&String> = c.models.keys().collect();
    let by_op = |metric: &str, stat: &str| -> Vec<Value> {
        ops.iter()
            .map(|op| json!([METRICS_NAMESPACE, metric, "Function", function, "Operation", op, {"stat": stat}]))
            .collect()
    };
    let search = |dimension: &str, metric: &str| {
        json!([{
            "expression": format!(
                "SEARCH('{{{METRICS_NAMESPACE},Function,{dimension}}} MetricName=\"{metric}\" Function=\"{function}\"', 'Sum', 60)"
            ),
            "id": format!("by{}", dimension.to_lowercase()),
        }])
    };
    let widget = |x: u32, y: u32, title: &str, properties: Value| {
        let mut p = properties;
        p["title"] = json!(title);
        p["region"] = json!(region);
        p["view"] = p.get("view").cloned().unwrap_or(json!("timeSeries"));
        json!({"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": p})
    };
    let limit = c.limits.edits_per_day;
    let warn = (f64::from(limit) * f64::from(c.monitoring.daily_images_percent) / 100.0).ceil();
    let mut throttles = vec![
        json!(["AWS/ApiGateway", "4XXError", "ApiName", api, "Stage", c.api.stage, {"stat": "Sum", "label": "API Gateway 4xx (throttled, refused)"}]),
        json!(["AWS/Lambda", "Throttles", "FunctionName", function, {"stat": "Sum", "label": "Lambda throttles"}]),
        json!([METRICS_NAMESPACE, "Throttled", "Function", function, {"stat": "Sum", "label": "answered 429 throttled"}]),
    ];
    let mut models: Vec<&String> = c.models.values().collect();
    models.sort();
    models.dedup();
    for m in models {
        throttles.push(json!(["AWS/Bedrock", "InvocationThrottles", "ModelId", m, {"stat": "Sum"}]));
    }
    let mut latency = vec![
        json!([METRICS_NAMESPACE, "Latency", "Function", function, "Route", "POST /edits", {"stat": "p50", "label": "edit p50"}]),
        json!([METRICS_NAMESPACE, "Latency", "Function", function, "Route", "POST /edits", {"stat": "p95", "label": "edit p95"}]),
    ];
    latency.extend(by_op("ModelLatency", "p95"));
    json!({
        "periodOverride": "inherit",
        "widgets": [
            widget(0, 0, "Edits per minute by operation", json!({"metrics": by_op("Requests", "Sum"), "period": 60, "stat": "Sum"})),
            widget(12, 0, "Answers by status", json!({"metrics": search("Status", "Requests"), "period": 60})),
            widget(0, 6, "Errors by code", json!({"metrics": search("ErrorCode", "Errors"), "period": 60})),
            widget(12, 6, "Throttling at each layer", json!({"metrics": throttles, "period": 60})),
            widget(0, 12, "Latency (ms)", json!({"metrics": latency, "period": 60})),
            widget(12, 12, "Images today (the stack's count)", json!({
                "metrics": [[METRICS_NAMESPACE, "ImagesToday", "Function", function, {"stat": "Maximum"}]],
                "period": 300,
                "annotations": {"horizontal": [
                    {"label": "limits.edits_per_day", "value": limit},
                    {"label": "daily-images alarm", "value": warn}
                ]}
            })),
            widget(0, 18, "Images made by operation (billed)", json!({"metrics": by_op("Images", "Sum"), "period": 3600})),
            {"type": "log", "x": 12, "y": 18, "width": 12, "height": 6, "properties": {
                "title": "Last errors",
                "region": region,
                "view": "table",
                "query": format!(
                    "SOURCE '{}' | fields @timestamp, RequestId, Route, StatusCode, ErrorCode \
                     | filter Errors = 1 | sort @timestamp desc | limit 20",
                    Names::function_log_group(&c.name)
                )
            }}
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> StackConfig {
        crate::config::parse(&format!("region: us-west-2\n{extra}"), std::path::Path::new("stacks/dev.yaml"), "dev")
            .expect("config")
    }

    #[test]
    fn the_daily_images_alarm_is_a_share_of_the_stack_limit() {
        let c =
            config("limits: {edits_per_day: 45, edits_per_user_per_day: 10}\nmonitoring: {daily_images_percent: 80}\n");
        let a =
            ALARMS.iter().find(|a| a.suffix == "daily-images").expect("alarm").alarm(&c, crate::stack::EDITOR.topic);
        // 80% of 45 is 36: the alarm fires at the 36th image, not the 37th.
        assert_eq!((a.threshold, a.statistic, a.metric.name), (36.0, "Maximum", "ImagesToday"));
        assert_eq!(a.name, "dev-daily-images");
    }

    #[test]
    fn the_server_errors_alarm_compares_the_share_of_5xx() {
        let c = config("monitoring: {server_errors_percent: 10}\n");
        let a = ALARMS[0].alarm(&c, crate::stack::EDITOR.topic);
        assert_eq!((a.metric.name, a.statistic, a.threshold), ("ServerErrors", "Average", 0.1));
        assert_eq!(a.metric.dimensions, vec![("Function", "dev-edit".to_owned())]);
    }

    /// Every metric an alarm watches is one the function's EMF document declares (the function's
    /// own code), by the alarm's dimensions, in the alarm's namespace.
    #[test]
    fn alarms_watch_metrics_the_function_writes() {
        use image_edit_lambda::metrics::{RequestMetrics, emf};
        let c = config("");
        let request = RequestMetrics { status: 200, images: 1, images_today: Some(3), ..RequestMetrics::default() };
        let doc = emf(METRICS_NAMESPACE, &Names::function(&c.name), &request, 0);
        let declared = image_edit_lambda::metrics::declared(&doc);
        for kind in ALARMS {
            let a = kind.alarm(&c, crate::stack::EDITOR.topic);
            let dims: Vec<String> = a.metric.dimensions.iter().map(|(k, _)| (*k).to_owned()).collect();
            assert!(
                declared.contains(&(a.metric.namespace.to_owned(), dims.clone(), a.metric.name.to_owned())),
                "{} by {dims:?} is not a metric the function writes: {declared:?}",
                a.metric.name
            );
            assert_eq!(doc["Function"], a.metric.dimensions[0].1);
        }
    }
}
