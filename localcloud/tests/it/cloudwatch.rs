//! CloudWatch as the local cloud runs it (`localcloud/src/moto/cloudwatch.py`): statistics per
//! period from the raw values ("CloudWatch statistics definitions"), one metric per namespace, name
//! and dimension set ("Amazon CloudWatch concepts"), alarms evaluated as "Using Amazon CloudWatch
//! alarms" describes, and their SNS e-mail written to the log folder. Driven with boto3, a client
//! nobody here wrote, against a real moto server.

use std::path::Path;

use localcloud::moto::MotoServer;
use serde_json::{Value, json};

/// boto3 with the prelude's helpers, and `LOG_DIR` (where notifications.jsonl is) for it.
fn boto3(moto: &MotoServer, logs: &Path, script: &str) -> Value {
    crate::boto3(moto, &format!("{PRELUDE}\n{script}"), &[("LOG_DIR", logs.to_str().expect("utf-8 path"))])
}

/// A moto server whose alarms are evaluated every `evaluation_seconds`.
async fn moto(logs: &Path, evaluation_seconds: &str) -> MotoServer {
    MotoServer::start_with_env(
        &crate::root(),
        logs,
        false,
        None,
        &[("LOCALCLOUD_ALARM_EVALUATION_SECONDS", evaluation_seconds)],
    )
    .await
    .expect("moto starts")
}

/// What every script shares: clients, time helpers, an EMF writer and a wait for an alarm state.
const PRELUDE: &str = r#"
import json, os, time, datetime, boto3
cw, logs, sns = boto3.client("cloudwatch"), boto3.client("logs"), boto3.client("sns")
utc = datetime.timezone.utc
def at(seconds):
    return datetime.datetime.fromtimestamp(seconds, utc)
def emf_events(group, events):
    """PutLogEvents of EMF documents [(timestamp s, dimensions {name: value}, {metric: value})]."""
    try:
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    batch = []
    for ts, dims, metrics in sorted(events, key=lambda e: e[0]):
        doc = dict(dims, **metrics)
        doc["_aws"] = {"Timestamp": int(ts * 1000), "CloudWatchMetrics": [{"Namespace": "ImageEditor",
            "Dimensions": [sorted(dims)], "Metrics": [{"Name": m, "Unit": "Milliseconds"} for m in metrics]}]}
        batch.append({"timestamp": int(ts * 1000), "message": json.dumps(doc)})
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=batch)
def alarm(name):
    return cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
def wait_state(name, want, timeout=20):
    end = time.time() + timeout
    while True:
        a = alarm(name)
        if a["StateValue"] == want:
            return a
        if time.time() > end:
            raise SystemExit(f"alarm {name} stayed {a['StateValue']} ({a['StateReason']}), not {want}")
        time.sleep(0.2)
def states(name):
    items = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate", ScanBy="TimestampAscending")
    return [i["HistorySummary"] for i in items["AlarmHistoryItems"]]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn percentiles_and_the_other_statistics_come_from_each_periods_values() {
    let logs = tempfile::tempdir().expect("temp dir");
    // No evaluation during this test: the alarm below must show the state it was created in.
    let moto = moto(logs.path(), "3600").await;
    let got = boto3(
        &moto,
        logs.path(),
        r#"
minute = int(time.time()) // 60 * 60 - 600   # a whole minute, ten minutes ago
dims = [{"Name": "Function", "Value": "t-edit"}]
def put(ts, **datum):
    cw.put_metric_data(Namespace="ImageEditor", MetricData=[dict(MetricName="Latency", Dimensions=dims,
        Unit="Milliseconds", Timestamp=at(ts), **datum)])
# minute 0: 1..100 with PutMetricData (Values), in two calls within the minute.
put(minute + 5, Values=[float(v) for v in range(1, 51)])
put(minute + 50, Values=[float(v) for v in range(51, 101)])
# minute 1: an EMF array (each value counts) and a single EMF value.
emf_events("/aws/lambda/t-edit", [(minute + 70, {"Function": "t-edit"}, {"Latency": [10, 20, 30, 40]}),
                                  (minute + 80, {"Function": "t-edit"}, {"Latency": 1000})])
# minute 2: a statistic set that stands for three 7s, and a raw 9.
put(minute + 130, StatisticValues={"SampleCount": 3, "Sum": 21, "Minimum": 7, "Maximum": 7})
put(minute + 140, Value=9.0)
# minute 3: a statistic set that does not stand for raw values; minute 4: a negative value.
put(minute + 190, StatisticValues={"SampleCount": 2, "Sum": 4, "Minimum": 1, "Maximum": 3})
put(minute + 250, Value=-1.0)
put(minute + 251, Value=5.0)
stats = ["p50", "p95", "p99.9", "SampleCount", "Sum", "Average", "Minimum", "Maximum"]
# StartTime half a minute past `minute`: CloudWatch rounds it down to the whole minute.
out = cw.get_metric_data(StartTime=at(minute + 30), EndTime=at(minute + 300), ScanBy="TimestampAscending",
    MetricDataQueries=[{"Id": s.replace(".", "_").lower(), "MetricStat": {"Metric": {"Namespace": "ImageEditor",
        "MetricName": "Latency", "Dimensions": dims}, "Period": 60, "Stat": s}} for s in stats])
series = {r["Id"]: {str(int(t.timestamp()) - minute): v for t, v in zip(r["Timestamps"], r["Values"])}
          for r in out["MetricDataResults"]}
ext = cw.get_metric_statistics(Namespace="ImageEditor", MetricName="Latency", Dimensions=dims,
    StartTime=at(minute), EndTime=at(minute + 300), Period=60, ExtendedStatistics=["p50", "p95"])
five = cw.get_metric_statistics(Namespace="ImageEditor", MetricName="Latency", Dimensions=dims,
    StartTime=at(minute + 30), EndTime=at(minute + 300), Period=300, Statistics=["SampleCount", "Maximum"])
errors = {}
for key, call in [
    ("both", lambda: cw.get_metric_statistics(Namespace="ImageEditor", MetricName="Latency", Dimensions=dims,
        StartTime=at(minute), EndTime=at(minute + 300), Period=60, Statistics=["Sum"], ExtendedStatistics=["p50"])),
    ("trimmed", lambda: cw.get_metric_data(StartTime=at(minute), EndTime=at(minute + 300), MetricDataQueries=[
        {"Id": "t", "MetricStat": {"Metric": {"Namespace": "ImageEditor", "MetricName": "Latency",
            "Dimensions": dims}, "Period": 60, "Stat": "tm90"}}])),
    ("period", lambda: cw.get_metric_statistics(Namespace="ImageEditor", MetricName="Latency", Dimensions=dims,
        StartTime=at(minute), EndTime=at(minute + 300), Period=45, Statistics=["Sum"])),
]:
    try:
        call()
        errors[key] = None
    except cw.exceptions.ClientError as e:
        errors[key] = e.response["Error"]["Code"]
cw.put_metric_alarm(AlarmName="t-latency", Namespace="ImageEditor", MetricName="Latency", Dimensions=dims,
    ExtendedStatistic="p95", Period=60, EvaluationPeriods=1, Threshold=1000, ComparisonOperator="GreaterThanThreshold")
created = alarm("t-latency")
cw.set_alarm_state(AlarmName="t-latency", StateValue="ALARM", StateReason="testing")
cw.put_metric_alarm(AlarmName="t-latency", Namespace="ImageEditor", MetricName="Latency", Dimensions=dims,
    ExtendedStatistic="p99", Period=60, EvaluationPeriods=1, Threshold=1000, ComparisonOperator="GreaterThanThreshold")
updated = alarm("t-latency")
print(json.dumps({
    "series": series,
    "ext": sorted([int(p["Timestamp"].timestamp()) - minute, p["ExtendedStatistics"], p["Unit"]] for p in ext["Datapoints"]),
    "five": [[int(p["Timestamp"].timestamp()) - minute, p["SampleCount"], p["Maximum"]] for p in five["Datapoints"]],
    "errors": errors,
    "created": [created["StateValue"], created["StateReason"]],
    "updated": [updated["StateValue"], updated["StateReason"], updated["ExtendedStatistic"]],
}))
"#,
    );
    let s = &got["series"];
    // 1..100: the 50th, 95th and 100th smallest; 10, 20, 30, 40, 1000: the 3rd and 5th; three 7s and a 9.
    assert_eq!(s["p50"], json!({"0": 50.0, "60": 30.0, "120": 7.0}), "{got}");
    assert_eq!(s["p95"], json!({"0": 95.0, "60": 1000.0, "120": 9.0}), "{got}");
    assert_eq!(s["p99_9"], json!({"0": 100.0, "60": 1000.0, "120": 9.0}), "{got}");
    // A statistic set with Minimum ≠ Maximum, and a negative value, leave their periods without
    // percentiles; the other statistics are there for every period.
    assert_eq!(s["samplecount"], json!({"0": 100.0, "60": 5.0, "120": 4.0, "180": 2.0, "240": 2.0}), "{got}");
    assert_eq!(s["sum"], json!({"0": 5050.0, "60": 1100.0, "120": 30.0, "180": 4.0, "240": 4.0}), "{got}");
    assert_eq!(s["average"], json!({"0": 50.5, "60": 220.0, "120": 7.5, "180": 2.0, "240": 2.0}), "{got}");
    assert_eq!(s["minimum"], json!({"0": 1.0, "60": 10.0, "120": 7.0, "180": 1.0, "240": -1.0}), "{got}");
    assert_eq!(s["maximum"], json!({"0": 100.0, "60": 1000.0, "120": 9.0, "180": 3.0, "240": 5.0}), "{got}");
    assert_eq!(
        got["ext"],
        json!([
            [0, {"p50": 50.0, "p95": 95.0}, "Milliseconds"],
            [60, {"p50": 30.0, "p95": 1000.0}, "Milliseconds"],
            [120, {"p50": 7.0, "p95": 9.0}, "Milliseconds"]
        ]),
        "{got}"
    );
    // One five-minute period from the rounded StartTime, stamped with its beginning.
    assert_eq!(got["five"], json!([[0, 113.0, 1000.0]]), "{got}");
    assert_eq!(
        got["errors"],
        json!({"both": "InvalidParameterCombination", "trimmed": "InvalidParameterValue", "period": "InvalidParameterValue"}),
        "{got}"
    );
    assert_eq!(got["created"], json!(["INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"]), "{got}");
    // PutMetricAlarm on an existing alarm changes its configuration, not its state.
    assert_eq!(got["updated"], json!(["ALARM", "testing", "p99"]), "{got}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_matches_exactly_one_namespace_name_and_dimension_set() {
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = moto(logs.path(), "3600").await;
    let got = boto3(
        &moto,
        logs.path(),
        r#"
now = int(time.time()) // 60 * 60 - 120
fn_a = {"Name": "Function", "Value": "a"}
route = {"Name": "Route", "Value": "r"}
for namespace, dims, value in [("ImageEditor", [fn_a], 10.0), ("Other", [fn_a], 1000.0),
                               ("ImageEditor", [fn_a, route], 500.0), ("ImageEditor", [], 7000.0),
                               ("ImageEditor", [{"Name": "Function", "Value": "b"}], 20.0)]:
    cw.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "Latency", "Dimensions": dims,
        "Value": value, "Timestamp": at(now + 10)}])
def data(namespace, dims):
    r = cw.get_metric_data(StartTime=at(now), EndTime=at(now + 60), MetricDataQueries=[{"Id": "m", "MetricStat": {
        "Metric": {"Namespace": namespace, "MetricName": "Latency", "Dimensions": dims}, "Period": 60,
        "Stat": "Maximum"}}])
    return r["MetricDataResults"][0]["Values"]
def statistics(namespace, dims):
    r = cw.get_metric_statistics(Namespace=namespace, MetricName="Latency", Dimensions=dims, StartTime=at(now),
        EndTime=at(now + 60), Period=60, Statistics=["Maximum", "SampleCount"])
    return [[p["Maximum"], p["SampleCount"]] for p in r["Datapoints"]]
queries = {"fn a": ("ImageEditor", [fn_a]), "other namespace": ("Other", [fn_a]),
           "fn a and route, either order": ("ImageEditor", [route, fn_a]), "no dimensions": ("ImageEditor", []),
           "route alone": ("ImageEditor", [route]), "unknown namespace": ("Nope", [fn_a])}
out = {k: {"data": data(*q), "statistics": statistics(*q)} for k, q in queries.items()}
# A second datapoint of two of them: each metric is still listed once.
for dims in ([], [fn_a, route]):
    cw.put_metric_data(Namespace="ImageEditor", MetricData=[{"MetricName": "Latency", "Dimensions": dims,
        "Value": 1.0, "Timestamp": at(now + 20)}])
out["listed"] = sorted(sorted(f"{d['Name']}={d['Value']}" for d in m["Dimensions"])
                       for m in cw.list_metrics(Namespace="ImageEditor", MetricName="Latency")["Metrics"])
print(json.dumps(out))
"#,
    );
    let want = json!({
        "fn a": {"data": [10.0], "statistics": [[10.0, 1.0]]},
        "other namespace": {"data": [1000.0], "statistics": [[1000.0, 1.0]]},
        "fn a and route, either order": {"data": [500.0], "statistics": [[500.0, 1.0]]},
        "no dimensions": {"data": [7000.0], "statistics": [[7000.0, 1.0]]},
        "route alone": {"data": [], "statistics": []},
        "unknown namespace": {"data": [], "statistics": []},
        "listed": [[], ["Function=a"], ["Function=a", "Route=r"], ["Function=b"]],
    });
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_on_emf_latency_goes_ok_then_alarm_and_mails_the_host() {
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = moto(logs.path(), "1").await;
    let got = boto3(
        &moto,
        logs.path(),
        r#"
topic = sns.create_topic(Name="t-alarms")["TopicArn"]
sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="host@example.com")
subscription = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"]
dims = {"Function": "t-edit", "Route": "POST /edits"}
# The same metric in another namespace, far over the threshold: not the alarm's metric.
cw.put_metric_data(Namespace="Other", MetricData=[{"MetricName": "Latency", "Value": 99999.0, "Unit": "Milliseconds",
    "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]}])
cw.put_metric_alarm(AlarmName="t-edit-latency", AlarmDescription="edits are slow", Namespace="ImageEditor",
    MetricName="Latency", Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()], ExtendedStatistic="p95",
    Period=60, EvaluationPeriods=1, Threshold=1000, ComparisonOperator="GreaterThanThreshold",
    TreatMissingData="notBreaching", AlarmActions=[topic], OKActions=[topic])
ok = wait_state("t-edit-latency", "OK")
now = time.time()
emf_events("/aws/lambda/t-edit", [(now, dims, {"Latency": [1500, 2000, 2500, 3000]}) for _ in range(3)])
alarmed = wait_state("t-edit-latency", "ALARM")
path = os.path.join(os.environ["LOG_DIR"], "notifications.jsonl")
end = time.time() + 10
while not (os.path.exists(path) and len(open(path).read().splitlines()) >= 2) and time.time() < end:
    time.sleep(0.1)
print(json.dumps({
    "subscription": subscription, "topic": topic,
    "ok_reason": ok["StateReason"],
    "reason": alarmed["StateReason"], "reason_data": json.loads(alarmed["StateReasonData"]),
    "history": states("t-edit-latency"),
    "notifications": [json.loads(line) for line in open(path).read().splitlines()],
}))
"#,
    );
    let topic = got["topic"].as_str().expect("topic ARN");
    // Nobody can follow a confirmation link locally: the subscription is confirmed as it is made.
    assert!(got["subscription"].as_str().is_some_and(|s| s.starts_with(&format!("{topic}:"))), "{got}");
    // No data, treated as not breaching: OK. Then p95 of twelve values up to 3000 is 3000.
    assert_eq!(
        got["ok_reason"],
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as \
         [NonBreaching] (minimum 1 datapoint for INSUFFICIENT_DATA -> OK transition).",
        "{got}"
    );
    let reason = got["reason"].as_str().expect("reason");
    assert!(reason.starts_with("Threshold Crossed: 1 out of the last 1 datapoints [3000.0 ("), "{reason}");
    assert!(
        reason.ends_with("was greater than the threshold (1000.0) (minimum 1 datapoint for OK -> ALARM transition).")
    );
    assert_eq!(got["reason_data"]["recentDatapoints"], json!([3000.0]), "{got}");
    assert_eq!(got["reason_data"]["extendedStatistic"], "p95", "{got}");
    assert_eq!(
        got["history"],
        json!(["Alarm updated from INSUFFICIENT_DATA to OK", "Alarm updated from OK to ALARM"]),
        "{got}"
    );

    let mails = got["notifications"].as_array().expect("notifications");
    assert_eq!(mails.len(), 2, "{got}");
    for (mail, new, old) in [(&mails[0], "OK", "INSUFFICIENT_DATA"), (&mails[1], "ALARM", "OK")] {
        assert_eq!(mail["endpoint"], "host@example.com");
        assert_eq!(mail["protocol"], "email");
        assert_eq!(mail["topicArn"], topic);
        assert_eq!(mail["subject"], format!("{new}: \"t-edit-latency\" in US West (Oregon)"));
        let message: Value = serde_json::from_str(mail["message"].as_str().expect("message")).expect("JSON message");
        assert_eq!(message["NewStateValue"], new, "{message}");
        assert_eq!(message["OldStateValue"], old, "{message}");
        assert_eq!(message["AlarmName"], "t-edit-latency");
        assert_eq!(message["AlarmDescription"], "edits are slow");
        assert_eq!(message["AWSAccountId"], "123456789012");
        assert_eq!(message["Region"], "US West (Oregon)");
        assert_eq!(message["AlarmArn"], "arn:aws:cloudwatch:us-west-2:123456789012:alarm:t-edit-latency");
        assert_eq!(
            message["Trigger"],
            json!({
                "MetricName": "Latency", "Namespace": "ImageEditor", "StatisticType": "ExtendedStatistic",
                "ExtendedStatistic": "p95", "Unit": null,
                "Dimensions": [{"value": "t-edit", "name": "Function"}, {"value": "POST /edits", "name": "Route"}],
                "Period": 60, "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
                "ComparisonOperator": "GreaterThanThreshold", "Threshold": 1000.0,
                "TreatMissingData": "notBreaching", "EvaluateLowSampleCountPercentile": ""
            }),
            "{message}"
        );
    }
    let alarm_message: Value = serde_json::from_str(mails[1]["message"].as_str().expect("message")).expect("JSON");
    assert_eq!(alarm_message["NewStateReason"], got["reason"]);
    let log = std::fs::read_to_string(&moto.log).expect("moto.log");
    assert!(log.contains("sns: e-mail to host@example.com: ALARM: \"t-edit-latency\" in US West (Oregon)\n"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_m_of_n_alarm_needs_m_breaching_periods() {
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = moto(logs.path(), "1").await;
    let got = boto3(
        &moto,
        logs.path(),
        r#"
dims = [{"Name": "Function", "Value": "t-edit"}]
for name, m in [("two-of-three", 2), ("one-of-three", 1)]:
    cw.put_metric_alarm(AlarmName=name, Namespace="ImageEditor", MetricName="Errors", Dimensions=dims,
        Statistic="Sum", Period=60, EvaluationPeriods=3, DatapointsToAlarm=m, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching")
    wait_state(name, "OK")
def error(ts):
    cw.put_metric_data(Namespace="ImageEditor", MetricData=[{"MetricName": "Errors", "Dimensions": dims,
        "Value": 1.0, "Unit": "Count", "Timestamp": at(ts)}])
error(time.time())
# One breaching period: enough for 1 of 3, not for 2 of 3 (through several evaluations).
wait_state("one-of-three", "ALARM")
time.sleep(3.5)
after_one = alarm("two-of-three")["StateValue"]
# A second breaching period, the minute before.
error(time.time() - 70)
two = wait_state("two-of-three", "ALARM")
print(json.dumps({"after_one": after_one, "reason": two["StateReason"], "history": states("two-of-three")}))
"#,
    );
    assert_eq!(got["after_one"], "OK", "{got}");
    let reason = got["reason"].as_str().expect("reason");
    assert!(reason.starts_with("Threshold Crossed: 2 out of the last 3 datapoints [1.0 ("), "{reason}");
    assert!(reason.ends_with("(minimum 2 datapoints for OK -> ALARM transition)."), "{reason}");
    assert_eq!(
        got["history"],
        json!(["Alarm updated from INSUFFICIENT_DATA to OK", "Alarm updated from OK to ALARM"]),
        "{got}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_data_is_treated_as_each_alarm_says() {
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = moto(logs.path(), "1").await;
    let got = boto3(
        &moto,
        logs.path(),
        r#"
def put_alarm(name, metric, treat=None):
    extra = {"TreatMissingData": treat} if treat else {}
    cw.put_metric_alarm(AlarmName=name, Namespace="ImageEditor", MetricName=metric, Statistic="Maximum", Period=60,
        EvaluationPeriods=3, Threshold=5, ComparisonOperator="GreaterThanThreshold", **extra)
# Nothing is ever put for Quiet.
for name, treat in [("missing", None), ("breaching", "breaching"), ("not-breaching", "notBreaching"),
                    ("ignore", "ignore")]:
    put_alarm(name, "Quiet", treat)
# One non-breaching value four minutes ago, older than the last three periods but inside the
# evaluation range: with the missing ones as breaching, 1 of 3 is not breaching, so OK.
cw.put_metric_data(Namespace="ImageEditor", MetricData=[{"MetricName": "Sparse", "Value": 0.0,
    "Timestamp": at(time.time() - 230)}])
put_alarm("sparse-breaching", "Sparse", "breaching")
out = {}
out["breaching"] = wait_state("breaching", "ALARM")["StateReason"]
out["not-breaching"] = wait_state("not-breaching", "OK")["StateValue"]
sparse = alarm("sparse-breaching")
while sparse["StateValue"] == "INSUFFICIENT_DATA":
    time.sleep(0.2)
    sparse = alarm("sparse-breaching")
out["sparse-breaching"] = [sparse["StateValue"], sparse["StateReason"]]
time.sleep(2.5)
out["missing"] = [alarm("missing")["StateValue"], alarm("missing")["StateReason"]]
out["ignore"] = alarm("ignore")["StateValue"]
# SetAlarmState lasts until the next evaluation; with ignore and no data, that keeps it.
cw.set_alarm_state(AlarmName="missing", StateValue="ALARM", StateReason="testing")
cw.set_alarm_state(AlarmName="ignore", StateValue="OK", StateReason="testing")
out["missing back"] = wait_state("missing", "INSUFFICIENT_DATA")["StateReason"]
time.sleep(2.5)
out["ignore kept"] = [alarm("ignore")["StateValue"], alarm("ignore")["StateReason"]]
out["missing history"] = states("missing")
print(json.dumps(out))
"#,
    );
    assert_eq!(
        got["breaching"],
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as \
         [Breaching] (minimum 3 datapoints for INSUFFICIENT_DATA -> ALARM transition).",
        "{got}"
    );
    assert_eq!(got["not-breaching"], "OK", "{got}");
    assert_eq!(got["sparse-breaching"][0], "OK", "{got}");
    assert!(
        got["sparse-breaching"][1]
            .as_str()
            .is_some_and(|r| r.starts_with("Threshold Crossed: 1 out of the last 3 datapoints [0.0 (")
                && r.contains("and 2 missing datapoints were treated as [Breaching]")),
        "{got}"
    );
    assert_eq!(got["missing"], json!(["INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"]), "{got}");
    assert_eq!(got["ignore"], "INSUFFICIENT_DATA", "{got}");
    assert_eq!(got["missing back"], "Insufficient Data: 3 datapoints were unknown.", "{got}");
    assert_eq!(got["ignore kept"], json!(["OK", "testing"]), "{got}");
    assert_eq!(
        got["missing history"],
        json!(["Alarm updated from INSUFFICIENT_DATA to ALARM", "Alarm updated from ALARM to INSUFFICIENT_DATA"]),
        "{got}"
    );
}
