# --- CloudWatch Logs: metrics embedded in log events (EMF) ----------------------------------------
# CloudWatch Logs extracts metrics from log events in the embedded metric format as it ingests
# them, with no PutMetricData call and no cloudwatch:PutMetricData permission of the writer
# ("Specification: Embedded metric format", CloudWatch User Guide). moto stores the events and
# extracts nothing. Here each event PutLogEvents accepts is read as the specification says:
# - the message is one JSON object (nothing before or after it) with `_aws`, an object holding
#   `Timestamp` (a number: milliseconds since the epoch) and `CloudWatchMetrics`, an array of
#   MetricDirectives;
# - a MetricDirective has `Namespace` (a string), `Dimensions` (an array of DimensionSets: arrays
#   of at most 30 member names whose values are strings) and `Metrics` (at most 100
#   MetricDefinitions: `Name`, optional `Unit` and `StorageResolution` 1 or 60);
# - each metric's value is the root member of its name: a number, or an array of at most 100
#   numbers; each DimensionSet makes one metric of each definition.
# A document that breaks a rule yields no metric (its event is stored all the same, as CloudWatch
# Logs does), and the count of such events is kept as AWS/Logs EMFValidationErrors by LogGroupName
# ("Monitoring with CloudWatch metrics", CloudWatch Logs User Guide; the dimension as aws-cdk-lib's
# generated LogsMetrics.emfValidationErrorsSum names it).
import datetime as _datetime  # noqa: E402

from moto.cloudwatch.models import cloudwatch_backends as _cloudwatch_backends  # noqa: E402
from moto.logs import models as _logs_models  # noqa: E402

_EMF_MAX_DIMENSIONS = 30
_EMF_MAX_METRICS = 100
_EMF_MAX_VALUES = 100
_EMF_MAX_PAST_MS = 14 * 24 * 3600 * 1000
_EMF_MAX_FUTURE_MS = 2 * 3600 * 1000
_CLOUDWATCH_UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}


class _EmfInvalid(Exception):
    pass


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def emf_metric_data(message):
    """The metrics an EMF log message carries: [(namespace, [MetricDatum dict, …])]; [] for a
    message that is not EMF; _EmfInvalid when it is EMF that breaks the specification."""
    text = message.strip() if isinstance(message, str) else ""
    if not (text.startswith("{") and text.endswith("}")):
        return []
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    if not isinstance(doc, dict) or "_aws" not in doc:
        return []
    meta = doc["_aws"]
    if not isinstance(meta, dict) or not _number(meta.get("Timestamp")):
        raise _EmfInvalid("_aws.Timestamp must be a number")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        raise _EmfInvalid("_aws.CloudWatchMetrics must be an array")
    # CloudWatch takes an EMF timestamp up to 14 days in the past and 2 hours in the future (AWS's
    # own EMF writer, Powertools for AWS Lambda, refuses outside the same window:
    # EMF_MAX_TIMESTAMP_PAST_AGE, EMF_MAX_TIMESTAMP_FUTURE_AGE).
    age_ms = time.time() * 1000 - meta["Timestamp"]
    if age_ms > _EMF_MAX_PAST_MS or -age_ms > _EMF_MAX_FUTURE_MS:
        raise _EmfInvalid("_aws.Timestamp is more than 14 days in the past or 2 hours in the future")
    timestamp = _datetime.datetime.fromtimestamp(meta["Timestamp"] / 1000, _datetime.timezone.utc).replace(tzinfo=None)
    out = []
    for d in directives:
        if not isinstance(d, dict) or not isinstance(d.get("Namespace"), str) or not d["Namespace"]:
            raise _EmfInvalid("a MetricDirective needs a Namespace")
        sets, metrics = d.get("Dimensions"), d.get("Metrics")
        if not isinstance(sets, list) or not isinstance(metrics, list) or len(metrics) > _EMF_MAX_METRICS:
            raise _EmfInvalid("a MetricDirective needs Dimensions and at most 100 Metrics")
        data = []
        for dimension_set in sets:
            if not isinstance(dimension_set, list) or len(dimension_set) > _EMF_MAX_DIMENSIONS:
                raise _EmfInvalid("a DimensionSet is an array of at most 30 names")
            dimensions = []
            for name in dimension_set:
                if not isinstance(name, str) or not isinstance(doc.get(name), str):
                    raise _EmfInvalid(f"dimension {name!r} needs a string value at the root")
                dimensions.append({"Name": name, "Value": doc[name]})
            for m in metrics:
                if not isinstance(m, dict) or not isinstance(m.get("Name"), str) or not m["Name"]:
                    raise _EmfInvalid("a MetricDefinition needs a Name")
                unit = m.get("Unit", "None")
                if unit not in _CLOUDWATCH_UNITS or m.get("StorageResolution", 60) not in (1, 60):
                    raise _EmfInvalid(f"metric {m['Name']}: unit {unit!r} or its storage resolution is not valid")
                value = doc.get(m["Name"])
                values = value if isinstance(value, list) else [value]
                if not values or len(values) > _EMF_MAX_VALUES or not all(_number(v) for v in values):
                    raise _EmfInvalid(f"metric {m['Name']} needs a number or up to 100 numbers at the root")
                datum = {"MetricName": m["Name"], "Dimensions": dimensions, "Timestamp": timestamp, "Unit": unit}
                if len(values) == 1:
                    datum["Value"] = float(values[0])
                else:
                    datum["Values"] = [float(v) for v in values]
                data.append(datum)
        out.append((d["Namespace"], data))
    return out


_put_log_events = _original(
    _logs_models.LogsBackend, "put_log_events", ("self", "log_group_name", "log_stream_name", "log_events")
)


def _put_log_events_extracting_metrics(self, log_group_name, log_stream_name, log_events):
    answer = _put_log_events(self, log_group_name, log_stream_name, log_events)
    # Events PutLogEvents rejected (too old, too new: its rejectedLogEventsInfo) are not ingested,
    # so nothing is extracted from them.
    rejected = answer[1] if isinstance(answer, tuple) and isinstance(answer[1], dict) else {}
    too_old = rejected.get("tooOldLogEventEndIndex", -1)
    too_new = rejected.get("tooNewLogEventStartIndex", len(log_events or []))
    cloudwatch = _cloudwatch_backends[self.account_id][self.region_name]
    invalid = 0
    for index, event in enumerate(log_events or []):
        if index <= too_old or index >= too_new:
            continue
        try:
            extracted = emf_metric_data(event.get("message"))
        except _EmfInvalid:
            invalid += 1
            continue
        for namespace, data in extracted:
            if data:
                cloudwatch.put_metric_data(namespace, data)
    if invalid:
        cloudwatch.put_metric_data("AWS/Logs", [{
            "MetricName": "EMFValidationErrors",
            "Dimensions": [{"Name": "LogGroupName", "Value": log_group_name}],
            "Value": float(invalid),
            "Unit": "Count",
        }])
    return answer


_logs_models.LogsBackend.put_log_events = _put_log_events_extracting_metrics
