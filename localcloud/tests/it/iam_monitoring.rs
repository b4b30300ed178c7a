//! IAM on SNS and CloudWatch as the local cloud enforces it (`localcloud/src/moto/iam.py`): each
//! request is checked against the resources the Service Authorization Reference gives its action
//! (a topic's ARN, an alarm's, a dashboard's, "*" for metrics), every one a request names, and a
//! refusal comes in the request's protocol — SNS's and CloudWatch's query XML from boto3, and
//! CloudWatch's Smithy RPC v2 CBOR, the protocol of the AWS SDK for Rust, sent by hand here (the
//! provisioner's `moto::the_documented_host_policy_is_enough_to_run_the_stack` drives that SDK).

use localcloud::moto::MotoServer;
use serde_json::{Value, json};

/// What the scripts share: an IAM user holding exactly `statements` (`user`), a boto3 call's
/// outcome as JSON (`call`), and a CloudWatch call over RPC v2 CBOR, SigV4-signed for `monitoring`
/// as the SDKs sign it (`cbor_call`).
const PRELUDE: &str = r#"
import json, os, datetime, urllib.request, urllib.error, boto3, botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.core import cbor

ACCOUNT = boto3.client("sts").get_caller_identity()["Account"]
iam = boto3.client("iam")

def user(name, statements):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}

def call(f):
    try:
        f()
        return {"ok": True}
    except botocore.exceptions.ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}

def cbor_call(creds, operation, params):
    url = f"{os.environ['AWS_ENDPOINT_URL']}/service/GraniteServiceVersion20100801/operation/{operation}"
    body = cbor.dumps(params)
    request = AWSRequest(method="POST", url=url, data=body, headers={
        "smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor"})
    SigV4Auth(Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"]), "monitoring",
              "us-west-2").add_auth(request)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=dict(request.headers))) as r:
            return {"status": r.status}
    except urllib.error.HTTPError as e:
        headers = {h.lower(): v for h, v in e.headers.items()}
        return {"status": e.code, "body": cbor.loads(e.read()),
                **{h: headers.get(h) for h in ("smithy-protocol", "content-type", "x-amzn-query-error")}}
"#;

/// boto3 with the prelude's helpers (users and their keys).
fn boto3(moto: &MotoServer, script: &str) -> Value {
    crate::boto3(moto, &format!("{PRELUDE}\n{script}"), &[])
}

async fn moto() -> (tempfile::TempDir, MotoServer) {
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = MotoServer::start(&crate::root(), logs.path(), false).await.expect("moto starts");
    (logs, moto)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_topic_is_authorized_by_its_arn_and_refused_as_sns_refuses() {
    let (_logs, moto) = moto().await;
    let got = boto3(
        &moto,
        r#"
creds = user("host", [
    {"Effect": "Allow", "Action": ["sns:CreateTopic", "sns:GetTopicAttributes"],
     "Resource": f"arn:aws:sns:us-west-2:{ACCOUNT}:t-alarms"},
])
sns = boto3.client("sns", **creds)
arn = f"arn:aws:sns:us-west-2:{ACCOUNT}:t-alarms"
print(json.dumps({
    "create": call(lambda: sns.create_topic(Name="t-alarms")),
    "read": call(lambda: sns.get_topic_attributes(TopicArn=arn)),
    "create_other": call(lambda: sns.create_topic(Name="t-other")),
    "delete": call(lambda: sns.delete_topic(TopicArn=arn)),
    "list": call(lambda: sns.list_topics()),
    "unknown_key": call(lambda: boto3.client("sns", aws_access_key_id="AKIAAAAAAAAAAAAAAAAA",
                                             aws_secret_access_key="x").list_topics()),
}))
"#,
    );
    assert_eq!(got["create"], json!({"ok": true}), "{got}");
    assert_eq!(got["read"], json!({"ok": true}), "{got}");
    // SNS's refusal: AuthorizationError, 403, the action written `SNS:…`, the topic's ARN named.
    let who = "User: arn:aws:iam::123456789012:user/host is not authorized to perform";
    assert_eq!(
        got["create_other"],
        json!({
            "code": "AuthorizationError",
            "status": 403,
            "message": format!("{who}: SNS:CreateTopic on resource: arn:aws:sns:us-west-2:123456789012:t-other because no identity-based policy allows the SNS:CreateTopic action"),
        }),
        "{got}"
    );
    assert_eq!(got["delete"]["code"], "AuthorizationError", "{got}");
    assert!(
        got["delete"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("SNS:DeleteTopic on resource: arn:aws:sns:us-west-2:123456789012:t-alarms"),
        "{got}"
    );
    // ListTopics has no resource: "*", which no topic's ARN allows (and the message names none).
    assert_eq!(
        got["list"]["message"],
        format!("{who}: SNS:ListTopics because no identity-based policy allows the SNS:ListTopics action"),
        "{got}"
    );
    assert_eq!(got["unknown_key"]["code"], "InvalidClientTokenId", "{got}");
    assert_eq!(got["unknown_key"]["status"], 403, "{got}");
}

#[tokio::test(flavor = "multi_thread")]
async fn alarms_and_dashboards_are_authorized_by_their_arns_in_query_and_in_cbor() {
    let (_logs, moto) = moto().await;
    let got = boto3(
        &moto,
        r#"
creds = user("host", [
    {"Effect": "Allow",
     "Action": ["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms",
                "cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"],
     "Resource": [f"arn:aws:cloudwatch:us-west-2:{ACCOUNT}:alarm:t-errors",
                  f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/t-board"]},
    {"Effect": "Allow", "Action": ["cloudwatch:GetMetricData"], "Resource": "*"},
])
cw = boto3.client("cloudwatch", **creds)
alarm = dict(Namespace="N", MetricName="M", ComparisonOperator="GreaterThanThreshold", EvaluationPeriods=1,
             Period=60, Threshold=1.0, Statistic="Sum")
now = datetime.datetime.now(datetime.timezone.utc)
query = [{"Id": "a", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 60, "Stat": "Sum"}}]
out = {
    "alarm": call(lambda: cw.put_metric_alarm(AlarmName="t-errors", **alarm)),
    "alarm_other": call(lambda: cw.put_metric_alarm(AlarmName="t-other", **alarm)),
    "describe": call(lambda: cw.describe_alarms(AlarmNames=["t-errors"])),
    "describe_both": call(lambda: cw.describe_alarms(AlarmNames=["t-errors", "t-other"])),
    "describe_prefix": call(lambda: cw.describe_alarms(AlarmNamePrefix="t-")),
    "dashboard": call(lambda: cw.put_dashboard(DashboardName="t-board", DashboardBody="{}")),
    "dashboard_other": call(lambda: cw.put_dashboard(DashboardName="t-other", DashboardBody="{}")),
    "metric_data": call(lambda: cw.get_metric_data(MetricDataQueries=query, StartTime=now - datetime.timedelta(hours=1),
                                                   EndTime=now)),
    "list_metrics": call(lambda: cw.list_metrics()),
    # The same over RPC v2 CBOR.
    "cbor_dashboard": cbor_call(creds, "GetDashboard", {"DashboardName": "t-board"}),
    "cbor_dashboard_other": cbor_call(creds, "GetDashboard", {"DashboardName": "t-other"}),
    "cbor_delete_both": cbor_call(creds, "DeleteAlarms", {"AlarmNames": ["t-errors", "t-other"]}),
    "cbor_metric_data": cbor_call(creds, "GetMetricData", {"MetricDataQueries": query,
                                                           "StartTime": now - datetime.timedelta(hours=1),
                                                           "EndTime": now}),
    "cbor_unknown_key": cbor_call({"aws_access_key_id": "AKIAAAAAAAAAAAAAAAAA", "aws_secret_access_key": "x"},
                                  "ListDashboards", {}),
}
# A request naming an alarm it may not touch did nothing, not even to the one it may.
out["still_there"] = [a["AlarmName"] for a in boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]]
print(json.dumps(out))
"#,
    );
    for allowed in ["alarm", "describe", "dashboard", "metric_data"] {
        assert_eq!(got[allowed], json!({"ok": true}), "{allowed}: {got}");
    }
    let who = "User: arn:aws:iam::123456789012:user/host is not authorized to perform";
    let denied = |action: &str, resource: &str| {
        json!({
            "code": "AccessDenied",
            "status": 403,
            "message": format!("{who}: cloudwatch:{action} on resource: {resource} because no identity-based policy allows the cloudwatch:{action} action"),
        })
    };
    let alarm = "arn:aws:cloudwatch:us-west-2:123456789012:alarm:";
    assert_eq!(got["alarm_other"], denied("PutMetricAlarm", &format!("{alarm}t-other")), "{got}");
    // Every alarm a request names must be allowed; without names, every alarm (`alarm:*`) is asked.
    assert_eq!(got["describe_both"], denied("DescribeAlarms", &format!("{alarm}t-other")), "{got}");
    assert_eq!(got["describe_prefix"], denied("DescribeAlarms", &format!("{alarm}*")), "{got}");
    // A dashboard's ARN has no Region.
    assert_eq!(
        got["dashboard_other"],
        denied("PutDashboard", "arn:aws:cloudwatch::123456789012:dashboard/t-other"),
        "{got}"
    );
    assert_eq!(
        got["list_metrics"]["message"],
        format!(
            "{who}: cloudwatch:ListMetrics because no identity-based policy allows the cloudwatch:ListMetrics action"
        ),
        "{got}"
    );

    // RPC v2 CBOR: a CBOR error map, the query code in `x-amzn-query-error` (CloudWatch is
    // awsQueryCompatible), the protocol's headers.
    assert_eq!(got["cbor_dashboard"], json!({"status": 200}), "{got}");
    assert_eq!(got["cbor_metric_data"], json!({"status": 200}), "{got}");
    let cbor_denied = |action: &str, resource: &str| {
        json!({
            "status": 403,
            "smithy-protocol": "rpc-v2-cbor",
            "content-type": "application/cbor",
            "x-amzn-query-error": "AccessDenied;Sender",
            "body": {
                "__type": "GraniteServiceVersion20100801#AccessDenied",
                "message": format!("{who}: cloudwatch:{action} on resource: {resource} because no identity-based policy allows the cloudwatch:{action} action"),
            },
        })
    };
    assert_eq!(
        got["cbor_dashboard_other"],
        cbor_denied("GetDashboard", "arn:aws:cloudwatch::123456789012:dashboard/t-other"),
        "{got}"
    );
    assert_eq!(got["cbor_delete_both"], cbor_denied("DeleteAlarms", &format!("{alarm}t-other")), "{got}");
    assert_eq!(got["still_there"], json!(["t-errors"]), "{got}");
    assert_eq!(got["cbor_unknown_key"]["status"], 403, "{got}");
    assert_eq!(got["cbor_unknown_key"]["x-amzn-query-error"], "InvalidClientTokenId;Sender", "{got}");
    assert_eq!(
        got["cbor_unknown_key"]["body"]["message"], "The security token included in the request is invalid.",
        "{got}"
    );
}
