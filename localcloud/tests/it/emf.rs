//! CloudWatch Logs turns embedded-metric-format log events into CloudWatch metrics as it ingests
//! them ("Specification: Embedded metric format", CloudWatch User Guide); the local cloud does the
//! same. Driven with boto3, a client nobody here wrote: events go in with PutLogEvents, metrics
//! come back from GetMetricStatistics.

use localcloud::moto::MotoServer;

#[tokio::test(flavor = "multi_thread")]
async fn emf_log_events_become_metrics_and_invalid_ones_are_counted() {
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = MotoServer::start(&crate::root(), logs.path(), false).await.expect("moto starts");
    let got = crate::boto3(
        &moto,
        r#"
import json, time, datetime, boto3
logs, cw = boto3.client("logs"), boto3.client("cloudwatch")
logs.create_log_group(logGroupName="/aws/lambda/t-edit")
logs.create_log_stream(logGroupName="/aws/lambda/t-edit", logStreamName="s")
now = int(time.time() * 1000)
def emf(latency, route="POST /edits", **extra):
    doc = {"Function": "t-edit", "Route": route, "Latency": latency, "Errors": 0,
           "_aws": {"Timestamp": now, "CloudWatchMetrics": [{"Namespace": "ImageEditor",
               "Dimensions": [["Function", "Route"]],
               "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "Errors", "Unit": "Count"}]}]}}
    doc.update(extra)
    return json.dumps(doc)
old = json.loads(emf(1)); old["_aws"]["Timestamp"] = now - 15 * 24 * 3600 * 1000
events = [emf(100), emf(300), emf([50, 70]), "a plain line", emf(1, route=5), emf("fast"), json.dumps(old)]
logs.put_log_events(logGroupName="/aws/lambda/t-edit", logStreamName="s",
                    logEvents=[{"timestamp": now, "message": m} for m in events])
def stats(namespace, name, dims, stat):
    out = cw.get_metric_statistics(Namespace=namespace, MetricName=name, Dimensions=dims,
        StartTime=datetime.datetime.fromtimestamp(now / 1000 - 600, datetime.timezone.utc),
        EndTime=datetime.datetime.fromtimestamp(now / 1000 + 600, datetime.timezone.utc),
        Period=3600, Statistics=[stat])
    return [(p[stat], p.get("Unit")) for p in out["Datapoints"]]
dims = [{"Name": "Function", "Value": "t-edit"}, {"Name": "Route", "Value": "POST /edits"}]
print(json.dumps({
    "latency_count": stats("ImageEditor", "Latency", dims, "SampleCount"),
    "latency_max": stats("ImageEditor", "Latency", dims, "Maximum"),
    "errors_sum": stats("ImageEditor", "Errors", dims, "Sum"),
    "invalid": stats("AWS/Logs", "EMFValidationErrors", [{"Name": "LogGroupName", "Value": "/aws/lambda/t-edit"}], "Sum"),
    "stored": len(logs.get_log_events(logGroupName="/aws/lambda/t-edit", logStreamName="s")["events"]),
}))
"#,
        &[],
    );
    // 100, 300, and the array 50 and 70: four samples; the invalid documents add none.
    assert_eq!(got["latency_count"], serde_json::json!([[4.0, "Milliseconds"]]), "{got}");
    assert_eq!(got["latency_max"], serde_json::json!([[300.0, "Milliseconds"]]), "{got}");
    assert_eq!(got["errors_sum"], serde_json::json!([[0.0, "Count"]]), "{got}");
    // A dimension that is not a string, a metric that is not a number, a timestamp 15 days old:
    // no metric, counted.
    assert_eq!(got["invalid"], serde_json::json!([[3.0, "Count"]]), "{got}");
    // Every event is stored all the same, EMF or not, valid or not.
    assert_eq!(got["stored"], 7, "{got}");
}
