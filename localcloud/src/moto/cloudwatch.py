# --- CloudWatch: statistics as CloudWatch computes them, alarms that evaluate, e-mail in the log ---
# moto stores metric data and alarms but (moto 5.2.6):
# - answers GetMetricData for a percentile with a 500 and GetMetricStatistics' ExtendedStatistics
#   with empty datapoints;
# - matches a query's Dimensions as a subset and, when Dimensions are given, ignores the Namespace;
#   a query without Dimensions gets every dimension combination's data;
# - starts GetMetricStatistics' periods at the first datapoint, not at the query's StartTime;
# - lists a metric once per datapoint in ListMetrics when it has no dimension or several;
# - creates an alarm in OK, resets its state when PutMetricAlarm updates it, never evaluates it,
#   and runs no action;
# - "delivers" nothing to an e-mail subscription.
# Here each of those is done as CloudWatch and SNS do it; every rule names its source.
import calendar as _cw_calendar
import datetime as _cw_datetime
import decimal as _cw_decimal
import math as _cw_math
import re as _cw_re
import traceback as _cw_traceback

import botocore.session as _cw_botocore_session
from moto.cloudwatch import models as _cw_models
from moto.cloudwatch import responses as _cw_responses
from moto.cloudwatch.exceptions import InvalidParameterCombination as _CwInvalidCombination
from moto.cloudwatch.exceptions import InvalidParameterValue as _CwInvalidValue
from moto.cloudwatch.exceptions import ValidationError as _CwValidationError
from moto.sns import models as _sns_models

_CW_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
# "CloudWatch statistics definitions" (CloudWatch User Guide): pNN.NN, "up to ten decimal places"
# ("Amazon CloudWatch concepts", Percentiles); GetMetricStatistics' ExtendedStatistics: "between
# p0.0 and p100" (botocore cloudwatch service model).
_CW_PERCENTILE = _cw_re.compile(r"p(\d{1,3}(?:\.\d{1,10})?)")
# The other extended statistics of that page (trimmed mean, winsorized mean, trimmed count and sum,
# percentile rank, IQM). CloudWatch interpolates them in ways it does not document, so the local
# cloud refuses them by name rather than answer with figures AWS would not give (stricter than AWS).
_CW_OTHER_EXTENDED = _cw_re.compile(r"(?:tm|wm|tc|ts)\d.*|(?:TM|WM|TC|TS|PR)\(.*\)|IQM")
_CW_DAY = 86400


def _cw_epoch(value):
    """Seconds since the epoch of a datetime moto keeps (naive UTC) or an aware one."""
    if value.tzinfo is not None:
        return value.timestamp()
    return _cw_calendar.timegm(value.timetuple()) + value.microsecond / 1e6


def _cw_datetime_of(seconds):
    """The naive UTC datetime moto keeps, for an epoch second."""
    return _cw_datetime.datetime.fromtimestamp(seconds, _cw_datetime.timezone.utc).replace(tzinfo=None)


def _cw_statistic(name, where):
    """("basic", name) or ("percentile", Decimal) for a statistic name; InvalidParameterValue for
    one it does not know (CloudWatch's error code; the wording is the local cloud's)."""
    if name in _CW_STATISTICS:
        return ("basic", name)
    match = _CW_PERCENTILE.fullmatch(name or "")
    if match and _cw_decimal.Decimal(match.group(1)) <= 100:
        return ("percentile", _cw_decimal.Decimal(match.group(1)))
    if _CW_OTHER_EXTENDED.fullmatch(name or ""):
        raise _CwInvalidValue(
            f"The value {name} for parameter {where} is a CloudWatch statistic the local cloud does not "
            f"compute: it computes SampleCount, Sum, Average, Minimum, Maximum and percentiles (pNN.NN)."
        )
    raise _CwInvalidValue(f"The value {name} for parameter {where} is not a valid statistic.")


def _cw_compute(data, statistic):
    """The statistic of one period's datapoints (moto's MetricDatum and MetricAggregatedDatum), or
    None when the period has none or the statistic is not available for them."""
    singles = [d.value for d in data if isinstance(d, _cw_models.MetricDatum)]
    sets = [d for d in data if isinstance(d, _cw_models.MetricAggregatedDatum)]
    count = len(singles) + sum(s.sample_count for s in sets)
    if not count:
        return None
    kind, which = statistic
    # "CloudWatch statistics definitions": SampleCount is the number of data points, Sum their sum,
    # Average Sum/SampleCount, Minimum and Maximum the lowest and highest value, during the period.
    if which == "SampleCount":
        return float(count)
    if which in ("Sum", "Average"):
        total = sum(singles) + sum(s.sum for s in sets)
        return total if which == "Sum" else total / count
    if which == "Minimum":
        return min(singles + [s.min for s in sets])
    if which == "Maximum":
        return max(singles + [s.max for s in sets])
    # Percentiles need the raw values. A statistic set stands for raw values only when "the
    # SampleCount value of the statistic set is 1 and Min, Max, and Sum are all equal" or "the Min
    # and Max are equal, and Sum is equal to Min multiplied by SampleCount"; and "Percentile
    # statistics are not available for metrics when any of the metric values are negative numbers"
    # (GetMetricStatistics, botocore cloudwatch service model; "Amazon CloudWatch concepts",
    # Percentiles).
    values = list(singles)
    for s in sets:
        if s.min != s.max or s.sum != s.min * s.sample_count or s.sample_count != int(s.sample_count):
            return None
        values.extend([s.min] * int(s.sample_count))
    if any(v < 0 for v in values):
        return None
    # "p95 ... means that 95 percent of the data within the period is lower than this value"
    # ("CloudWatch statistics definitions"): the smallest value with at least that share of the
    # values at or below it (nearest rank, always a value that was put). Decimal, so that p99.9 of
    # 1,000 values is the 999th and not, by float rounding, the 1,000th.
    values.sort()
    rank = max(1, _cw_math.ceil(which * len(values) / 100))
    return values[rank - 1]


def _cw_period_is_valid(period):
    # "valid values for period are 1, 5, 10, 30, or any multiple of 60" ("Amazon CloudWatch
    # concepts", Periods; MetricStat.Period in the botocore cloudwatch service model).
    return isinstance(period, int) and period > 0 and (period in (1, 5, 10, 30) or period % 60 == 0)


def _cw_check_period(period, where):
    if not _cw_period_is_valid(period):
        raise _CwInvalidValue(f"The parameter {where} must be 1, 5, 10, 30 or a multiple of 60.")


def _cw_aligned_start(start, period, now):
    """The start CloudWatch uses for a query: "Start time less than 15 days ago - Round down to the
    nearest whole minute", "between 15 and 63 days ago" to 5 minutes, "greater than 63 days ago" to
    the hour; with a Period of 5, 10 or 30 to those divisions of a minute (StartTime of GetMetricData
    and GetMetricStatistics, botocore cloudwatch service model). Periods follow from it, each stamped
    with its beginning ("Amazon CloudWatch concepts", Periods)."""
    age = now - start
    if period in (1, 5, 10, 30):
        step = period
    elif age < 15 * _CW_DAY:
        step = 60
    elif age < 63 * _CW_DAY:
        step = 300
    else:
        step = 3600
    return _cw_math.floor(start / step) * step


def _cw_period_is_retained(start, period, now):
    # "If the StartTime parameter specifies a time stamp that is greater than 3 hours ago, you must
    # specify the period as follows or no data points in that time range is returned": a multiple
    # of 60 from 3 hours, of 300 from 15 days, of 3600 from 63 days (MetricStat.Period).
    age = now - start
    if age > 63 * _CW_DAY:
        return period % 3600 == 0
    if age > 15 * _CW_DAY:
        return period % 300 == 0
    if age > 3 * 3600:
        return period % 60 == 0
    return True


def _cw_dimension_set(dimensions):
    """A metric's or a query's dimensions as a comparable set of (name, value)."""
    out = []
    for d in dimensions or []:
        if isinstance(d, dict):
            out.append((d.get("Name"), d.get("Value")))
        else:
            out.append((d.name, d.value))
    return tuple(sorted(out, key=lambda nv: (str(nv[0]), str(nv[1]))))


def _cw_series(backend, namespace, name, dimensions, unit=None):
    """The datapoints of exactly one metric: "CloudWatch treats each unique combination of
    dimensions as a separate metric ... You can only retrieve statistics using combinations of
    dimensions that you specifically published ... specify the same values for the namespace,
    metric name, and dimension parameters that were used when the metrics were created" ("Amazon
    CloudWatch concepts", Dimension combinations). With a Unit, only data "collected with that unit"
    (MetricStat.Unit; data put without one has the unit None)."""
    want = _cw_dimension_set(dimensions)
    out = []
    for d in backend.get_all_metrics():
        if d.namespace != namespace or d.name != name or _cw_dimension_set(d.dimensions) != want:
            continue
        if unit is not None and (d.unit or "None") != unit:
            continue
        out.append(d)
    return out


def _cw_buckets(data, start, end, period):
    """{period start (epoch seconds): [datapoints]} for the datapoints in [start, end)."""
    out = {}
    for d in data:
        t = _cw_epoch(d.timestamp)
        if start <= t < end:
            out.setdefault(start + int((t - start) // period) * period, []).append(d)
    return out


# --- ListMetrics: each metric once ---------------------------------------------------------------
# moto lists a metric once per datapoint when it has no dimensions or more than one (its
# are_dimensions_same compares every dimension with every other). A metric is a namespace, a name
# and a dimension set ("Amazon CloudWatch concepts", Dimension combinations), listed once; and
# "ListMetrics doesn't return information about metrics if those metrics haven't reported data in
# the past two weeks" (ListMetrics, botocore cloudwatch service model). moto's filter by Namespace,
# MetricName and Dimensions stays as it is.
_original(_cw_models.CloudWatchBackend, "get_filtered_metrics", ("self", "metric_name", "namespace", "dimensions"))
_original(_cw_models.MetricDatumBase, "filter", ("self", "namespace", "name", "dimensions", "already_present_metrics"))


def _cw_get_filtered_metrics_once(self, metric_name, namespace, dimensions):
    newest, first = {}, {}
    for d in self.get_all_metrics():
        if not d.filter(namespace=namespace, name=metric_name, dimensions=dimensions):
            continue
        key = (d.namespace, d.name, _cw_dimension_set(d.dimensions))
        first.setdefault(key, d)
        newest[key] = max(newest.get(key, 0), _cw_epoch(d.timestamp))
    fortnight_ago = time.time() - 14 * _CW_DAY
    return [d for key, d in first.items() if newest[key] >= fortnight_ago]


_cw_models.CloudWatchBackend.get_filtered_metrics = _cw_get_filtered_metrics_once


# --- GetMetricData -------------------------------------------------------------------------------
_cw_get_metric_data = _original(
    _cw_models.CloudWatchBackend, "get_metric_data", ("self", "queries", "start_time", "end_time", "scan_by")
)


def _cw_get_metric_data_as_cloudwatch(self, queries, start_time, end_time, scan_by="TimestampAscending"):
    if start_time > end_time:
        raise _CwValidationError("The parameter EndTime must be greater than StartTime.")
    if start_time == end_time:
        raise _CwValidationError("The parameter StartTime must not equal parameter EndTime.")
    now = time.time()
    end = _cw_epoch(end_time)
    results = []
    for index, query in enumerate(queries):
        if "MetricStat" not in query:
            continue
        metric_stat = query["MetricStat"]
        metric = metric_stat["Metric"]
        where = f"MetricDataQueries.member.{index + 1}.MetricStat"
        statistic = _cw_statistic(metric_stat["Stat"], f"{where}.Stat")
        period = int(metric_stat["Period"])
        _cw_check_period(period, f"{where}.Period")
        start = _cw_aligned_start(_cw_epoch(start_time), period, now)
        values, timestamps = [], []
        if _cw_period_is_retained(start, period, now):
            data = _cw_series(self, metric.get("Namespace"), metric.get("MetricName"), metric.get("Dimensions"),
                              metric_stat.get("Unit"))
            for at, period_data in sorted(_cw_buckets(data, start, end, period).items()):
                value = _cw_compute(period_data, statistic)
                if value is not None:
                    values.append(value)
                    timestamps.append(_cw_datetime_of(at))
        # ScanBy: "If you omit this parameter, the default of TimestampDescending is used"
        # (GetMetricData, botocore cloudwatch service model).
        if scan_by != "TimestampAscending":
            values.reverse()
            timestamps.reverse()
        results.append({
            "id": query["Id"],
            "label": query.get("Label") or f"{metric.get('MetricName')} {metric_stat['Stat']}",
            "values": values,
            "timestamps": timestamps,
            "status_code": "Complete",
            "return_data": query.get("ReturnData", True),
        })
    # Metric math and Metrics Insights queries stay moto's: its math resolves only an expression that
    # names another query's Id, its Insights query sums everything.
    answers = [r for r in results if r.pop("return_data")]
    for query in queries:
        if "Expression" not in query:
            continue
        if query["Expression"].startswith("SELECT"):
            answers.extend(_cw_get_metric_data(self, [query], start_time, end_time, scan_by))
        else:
            values, timestamps = _cw_models.parse_expression(query["Expression"], results)
            answers.append({
                "id": query["Id"], "label": query.get("Label") or query["Id"], "values": values,
                "timestamps": timestamps, "status_code": "Complete",
            })
    return answers


_cw_models.CloudWatchBackend.get_metric_data = _cw_get_metric_data_as_cloudwatch


# --- GetMetricStatistics -------------------------------------------------------------------------
_original(_cw_responses.CloudWatchResponse, "get_metric_statistics", ("self",))
# "The maximum number of data points returned from a single call is 1,440. If you request more than
# 1,440 data points, CloudWatch returns an error" (GetMetricStatistics, botocore cloudwatch model).
_CW_MAX_STATISTICS_DATAPOINTS = 1440


def _cw_get_metric_statistics_as_cloudwatch(self):
    namespace = self._get_param("Namespace")
    metric_name = self._get_param("MetricName")
    start_time = self._get_param("StartTime")
    end_time = self._get_param("EndTime")
    period = self._get_int_param("Period")
    statistics = self._get_param("Statistics", []) or []
    extended = self._get_param("ExtendedStatistics", []) or []
    dimensions = self._get_param("Dimensions", []) or []
    unit = self._get_param("Unit")
    # "you must specify either Statistics or ExtendedStatistics, but not both"; ExtendedStatistics
    # are "The percentile statistics. Specify values between p0.0 and p100" (GetMetricStatisticsInput,
    # botocore cloudwatch service model).
    if statistics and extended:
        raise _CwInvalidCombination(
            "The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both."
        )
    if not statistics and not extended:
        raise _CwInvalidCombination("Must specify either Statistics or ExtendedStatistics")
    wanted = []
    for i, name in enumerate(statistics):
        if name not in _CW_STATISTICS:  # the Statistic enum of the botocore cloudwatch model
            raise _CwInvalidValue(f"The value {name} for parameter Statistics.member.{i + 1} is not a valid statistic.")
        wanted.append((name, ("basic", name)))
    for i, name in enumerate(extended):
        statistic = _cw_statistic(name, f"ExtendedStatistics.member.{i + 1}")
        if statistic[0] != "percentile":
            raise _CwInvalidValue(
                f"The value {name} for parameter ExtendedStatistics.member.{i + 1} is not a percentile."
            )
        wanted.append((name, statistic))
    if start_time >= end_time:
        raise _CwInvalidValue("The parameter StartTime must be less than the parameter EndTime.")
    _cw_check_period(period, "Period")
    now = time.time()
    start = _cw_aligned_start(_cw_epoch(start_time), period, now)
    end = _cw_epoch(end_time)
    requested = _cw_math.ceil((end - start) / period)
    if requested > _CW_MAX_STATISTICS_DATAPOINTS:
        raise _CwInvalidCombination(
            f"You have requested up to {requested:,} datapoints, which exceeds the limit of 1,440. You may reduce "
            f"the datapoints requested by increasing Period, or decreasing the time range."
        )
    datapoints = []
    if _cw_period_is_retained(start, period, now):
        data = _cw_series(self.cloudwatch_backend, namespace, metric_name, dimensions, unit)
        for at, period_data in sorted(_cw_buckets(data, start, end, period).items()):
            # "Metric data points that specify a unit of measure are aggregated separately ... If you
            # have two otherwise identical metrics with different units, two separate data streams
            # are returned, one for each unit" ("Amazon CloudWatch concepts", Units).
            by_unit = {}
            for d in period_data:
                by_unit.setdefault(d.unit or "None", []).append(d)
            for unit_of, unit_data in sorted(by_unit.items()):
                point = {"Timestamp": _cw_datetime_of(at), "Unit": unit_of}
                for name, statistic in wanted:
                    value = _cw_compute(unit_data, statistic)
                    if value is None:
                        continue
                    if statistic[0] == "basic":
                        point[name] = value
                    else:
                        point.setdefault("ExtendedStatistics", {})[name] = value
                if len(point) > 2:
                    datapoints.append(point)
    return ActionResult({"Label": metric_name, "Datapoints": datapoints})


_cw_responses.CloudWatchResponse.get_metric_statistics = _cw_get_metric_statistics_as_cloudwatch


# --- Alarms: created INSUFFICIENT_DATA, kept on update, their history ------------------------------
# "When this operation creates an alarm, the alarm state is immediately set to INSUFFICIENT_DATA
# ... When you update an existing alarm, its state is left unchanged, but the update completely
# overwrites the previous configuration of the alarm" (PutMetricAlarm, botocore cloudwatch model).
# History: "CloudWatch retains the history of an alarm even if you delete the alarm"
# (DescribeAlarmHistory), so it is kept on the backend, not on the alarm.
_CW_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
# TreatMissingData: "Valid Values: breaching | notBreaching | ignore | missing" (PutMetricAlarm).
_CW_TREAT_MISSING = ("breaching", "notBreaching", "ignore", "missing")
_cw_lock = threading.RLock()


def _cw_history(backend):
    # On the backend instance, so that /moto-api/reset (which re-initialises backends) forgets it.
    if not hasattr(backend, "_localcloud_alarm_history"):
        backend._localcloud_alarm_history = []
    return backend._localcloud_alarm_history


def _cw_time(value):
    """The time format of CloudWatch's alarm notifications and reason data: 2019-06-26T03:54:21.746+0000."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _cw_record(backend, alarm, item_type, summary, data):
    _cw_history(backend).append({
        "AlarmName": alarm.name,
        "AlarmType": "CompositeAlarm" if alarm.rule is not None else "MetricAlarm",
        "Timestamp": _cw_models.utcnow(),
        "HistoryItemType": item_type,
        "HistorySummary": summary,
        "HistoryData": json.dumps(data),
    })


def _cw_validate_alarm(kwargs):
    """PutMetricAlarm's rules for an alarm on one metric (PutMetricAlarmInput, botocore cloudwatch
    service model), the ones the evaluation below relies on."""
    if kwargs.get("rule") is not None:
        return
    if kwargs.get("metric_data_queries"):
        # "If you use the Metrics parameter, you cannot include the Namespace, MetricName,
        # Dimensions, Period, Unit, Statistic, or ExtendedStatistic parameters".
        named = [p for p, k in (("Namespace", "namespace"), ("MetricName", "metric_name"), ("Dimensions", "dimensions"),
                                ("Period", "period"), ("Unit", "unit"), ("Statistic", "statistic"),
                                ("ExtendedStatistic", "extended_statistic")) if kwargs.get(k)]
        if named:
            raise _CwValidationError(f"Metrics cannot be combined with {', '.join(named)}.")
        return
    if not kwargs.get("metric_name"):
        raise _CwValidationError("Either MetricName or Metrics must be specified.")
    # "you must specify either Statistic or ExtendedStatistic, but not both".
    if bool(kwargs.get("statistic")) == bool(kwargs.get("extended_statistic")):
        raise _CwValidationError("Exactly one of Statistic or ExtendedStatistic must be specified.")
    if kwargs.get("statistic"):
        if kwargs["statistic"] not in _CW_STATISTICS:
            raise _CwValidationError(
                f"1 validation error detected: Value '{kwargs['statistic']}' at 'statistic' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{', '.join(_CW_STATISTICS)}]"
            )
    else:
        _cw_statistic(kwargs["extended_statistic"], "ExtendedStatistic")
    # Period: "Valid values are 10, 30, and any multiple of 60" and "Period multiplied by
    # EvaluationPeriods cannot be more than 86,400 seconds".
    period, periods = kwargs.get("period"), kwargs.get("evaluation_periods")
    if not isinstance(period, int) or not (period in (10, 30) or (period > 0 and period % 60 == 0)):
        raise _CwValidationError("Period must be 10, 30 or a multiple of 60.")
    if not isinstance(periods, int) or periods < 1 or period * periods > _CW_DAY:
        raise _CwValidationError("Period * EvaluationPeriods must not be more than 86400 seconds.")
    # DatapointsToAlarm is the M of "M out of N", EvaluationPeriods the N ("Evaluating an alarm",
    # "Using Amazon CloudWatch alarms").
    m = kwargs.get("datapoints_to_alarm")
    if m is not None and not 1 <= m <= periods:
        raise _CwValidationError("DatapointsToAlarm must be between 1 and EvaluationPeriods.")
    # "This parameter is required for alarms based on static thresholds" (Threshold).
    if kwargs.get("threshold") is None and not kwargs.get("threshold_metric_id"):
        raise _CwValidationError("Threshold must be specified for an alarm on a static threshold.")
    if kwargs.get("comparison_operator") not in _CW_COMPARISONS and not kwargs.get("threshold_metric_id"):
        raise _CwValidationError(
            f"ComparisonOperator {kwargs.get('comparison_operator')} is used only for alarms based on anomaly "
            f"detection models."
        )
    treat = kwargs.get("treat_missing_data")
    if treat is not None and treat not in _CW_TREAT_MISSING:
        raise _CwValidationError(f"TreatMissingData must be one of {', '.join(_CW_TREAT_MISSING)}.")


_cw_put_metric_alarm = _original(_cw_models.CloudWatchBackend, "put_metric_alarm")


def _cw_put_metric_alarm_keeping_state(self, **kwargs):
    _cw_validate_alarm(kwargs)
    with _cw_lock:
        before = self.alarms.get(kwargs.get("name"))
        alarm = _cw_put_metric_alarm(self, **kwargs)
        if before is None:
            alarm.state_value = "INSUFFICIENT_DATA"
            alarm.state_reason = "Unchecked: Initial alarm creation"
            alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
            _cw_record(self, alarm, "ConfigurationUpdate", f'Alarm "{alarm.name}" created',
                       {"version": "1.0", "type": "Create"})
        else:
            for attr in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history"):
                setattr(alarm, attr, getattr(before, attr))
            alarm.state_transitioned_timestamp = getattr(before, "state_transitioned_timestamp",
                                                         before.state_updated_timestamp)
            _cw_record(self, alarm, "ConfigurationUpdate", f'Alarm "{alarm.name}" updated',
                       {"version": "1.0", "type": "Update"})
    return alarm


_cw_models.CloudWatchBackend.put_metric_alarm = _cw_put_metric_alarm_keeping_state


def _cw_describe_alarm_history(self):
    """DescribeAlarmHistory (moto has none): "If an alarm name is not specified, the histories for
    either all metric alarms or all composite alarms are returned"; AlarmTypes: "If you omit this
    parameter, only metric alarms are returned"; ScanBy defaults to TimestampDescending (botocore
    cloudwatch service model)."""
    name = self._get_param("AlarmName")
    types = self._get_param("AlarmTypes") or ["MetricAlarm"]
    item_type = self._get_param("HistoryItemType")
    start, end = self._get_param("StartDate"), self._get_param("EndDate")
    limit = self._get_int_param("MaxRecords") or 100
    offset = int(self._get_param("NextToken") or 0)
    items = [
        i for i in _cw_history(self.cloudwatch_backend)
        if (name is None or i["AlarmName"] == name) and i["AlarmType"] in types
        and (item_type is None or i["HistoryItemType"] == item_type)
        and (start is None or _cw_epoch(i["Timestamp"]) >= _cw_epoch(start))
        and (end is None or _cw_epoch(i["Timestamp"]) <= _cw_epoch(end))
    ]
    if self._get_param("ScanBy") != "TimestampAscending":
        items.reverse()
    page = items[offset:offset + limit]
    result = {"AlarmHistoryItems": page}
    if offset + limit < len(items):
        result["NextToken"] = str(offset + limit)
    return ActionResult(result)


if hasattr(_cw_responses.CloudWatchResponse, "describe_alarm_history"):
    raise PatchDoesNotFit(
        f"moto patches: moto {moto.__version__} now has CloudWatchResponse.describe_alarm_history; drop the "
        f"local cloud's in localcloud/src/moto/cloudwatch.py or make it keep moto's"
    )
_cw_responses.CloudWatchResponse.describe_alarm_history = _cw_describe_alarm_history


# --- Alarm evaluation ----------------------------------------------------------------------------
# "Using Amazon CloudWatch alarms" (CloudWatch User Guide), "Evaluating an alarm": an alarm's Period
# makes one data point per period; EvaluationPeriods (N) is "the number of the most recent periods,
# or data points, to evaluate"; DatapointsToAlarm (M, N when not given) is how many of those must be
# breaching for ALARM. "For any period of one minute or longer, an alarm is evaluated every minute
# and the evaluation is based on the window of time defined by the Period and Evaluation Periods.
# For example, if the Period is 5 minutes ... at the end of minute 5 the alarm evaluates based on
# data from minutes 1 to 5. Then at the end of minute 6 ... from minutes 2 to 6": the periods end
# at the evaluation. The local cloud evaluates every LOCALCLOUD_ALARM_EVALUATION_SECONDS (10 by
# default), each time over the periods that end then.
#
# "Configuring how CloudWatch alarms treat missing data", "How alarm state is evaluated when data is
# missing": CloudWatch looks at an evaluation range longer than N (its tables: N=3, range 5); with
# at least N real data points in it, the most recent N decide and TreatMissingData plays no part;
# with fewer, the missing ones are filled as TreatMissingData says, "all real data points in the
# evaluation range are included ... CloudWatch uses missing data points only as few times as
# possible". For missing and ignore the tables give: no real point at all -> INSUFFICIENT_DATA
# (missing) or the current state (ignore); a non-breaching real point -> OK; only breaching points,
# fewer than M -> ALARM when "the oldest available breaching datapoint ... is at least as old as the
# value of Datapoints to Alarm" ("Avoiding premature transitions to alarm state"; missing), the
# current state (ignore), INSUFFICIENT_DATA otherwise. And "Alarms that evaluate metrics in the
# AWS/DynamoDB namespace always ignore missing data".
_CW_EXTRA_RANGE = 2  # the evaluation range is N + 2 periods, as in that page's tables (N=3: 5)


def _cw_low_sample_threshold(percentile):
    """EvaluateLowSampleCountPercentile: "For percentiles between 0.5 (inclusive) and 1.00
    (exclusive), this setting is used when there are fewer than 10/(1-percentile) data points during
    the evaluation period ... For percentiles between 0 and 0.5 (exclusive) ... fewer than
    10/percentile" ("Percentile-based CloudWatch alarms and low data samples")."""
    p = float(percentile) / 100
    if 0.5 <= p < 1:
        return 10 / (1 - p)
    if 0 < p < 0.5:
        return 10 / p
    return 0


def _cw_plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _cw_listed(points):
    """Data points as CloudWatch's StateReason lists them, newest first: 5.0 (14/05/25 01:55:00)."""
    return ", ".join(f"{v!r} ({_cw_datetime_of(at).strftime('%d/%m/%y %H:%M:%S')})" for at, v in reversed(points))


def _cw_evaluate(backend, alarm, now):
    """(state, reason, reason data) of a single-metric alarm now; None to keep its state or for an
    alarm this evaluation does not cover (metric math, anomaly detection, composite)."""
    if alarm.rule is not None or alarm.metric_data_queries or not alarm.metric_name:
        return None
    if alarm.comparison_operator not in _CW_COMPARISONS or alarm.threshold is None:
        return None
    n = int(alarm.evaluation_periods)
    m = int(alarm.datapoints_to_alarm or n)
    period = int(alarm.period)
    threshold = float(alarm.threshold)
    label, compare = _CW_COMPARISONS[alarm.comparison_operator]
    if alarm.statistic:
        statistic = ("basic", alarm.statistic)
    else:
        statistic = _cw_statistic(alarm.extended_statistic, "ExtendedStatistic")
    treat = alarm.treat_missing_data or "missing"
    if alarm.namespace == "AWS/DynamoDB":
        treat = "ignore"
    size = n + _CW_EXTRA_RANGE
    first = now - size * period
    buckets = _cw_buckets(_cw_series(backend, alarm.namespace, alarm.metric_name, alarm.dimensions, alarm.unit),
                          first, now, period)
    windows = [first + i * period for i in range(size)]  # oldest first
    real = []  # (index, window start, value, sample count)
    for i, at in enumerate(windows):
        value = _cw_compute(buckets.get(at, []), statistic)
        if value is not None:
            real.append((i, at, value, _cw_compute(buckets.get(at, []), ("basic", "SampleCount"))))
    if statistic[0] == "percentile" and alarm.evaluate_low_sample_count_percentile == "ignore":
        # "If you specify ignore, the alarm state does not change during periods with too few data
        # points to be statistically significant" (EvaluateLowSampleCountPercentile).
        if sum(r[3] for r in real[-n:]) < _cw_low_sample_threshold(statistic[1]):
            return None
    shown = alarm.extended_statistic or alarm.statistic
    data = {
        "version": "1.0",
        "queryDate": _cw_time(_cw_datetime_of(now)),
        "startDate": _cw_time(_cw_datetime_of(windows[-n])),
        ("extendedStatistic" if alarm.extended_statistic else "statistic"): shown,
        "period": period,
        "recentDatapoints": [r[2] for r in real[-n:]],
        "threshold": threshold,
        "evaluatedDatapoints": [
            {"timestamp": _cw_time(_cw_datetime_of(at)), "sampleCount": count, "value": value}
            for _, at, value, count in reversed(real[-n:])
        ],
    }
    if alarm.unit:
        data["unit"] = alarm.unit
    old = alarm.state_value

    def reached(points, fill=0, filled_as=None):
        """ALARM when M of the N evaluated data points breach (the real ones, and `fill` missing ones
        treated as `filled_as`), OK otherwise; with CloudWatch's kind of StateReason."""
        breaching = [(at, v) for _, at, v, _ in points if compare(v, threshold)]
        within = [(at, v) for _, at, v, _ in points if not compare(v, threshold)]
        if len(breaching) + (fill if filled_as == "Breaching" else 0) >= m:
            state, listed, relation, minimum = "ALARM", breaching, label, m
        else:
            state, listed, relation, minimum = "OK", within, f"not {label}", n - m + 1
        filled = f"{_cw_plural(fill, 'missing datapoint')} {'was' if fill == 1 else 'were'} treated as [{filled_as}]"
        if listed:
            head = (f"{len(listed)} out of the last {n} datapoints [{_cw_listed(listed)}] "
                    f"{'was' if len(listed) == 1 else 'were'} {relation} the threshold ({threshold!r})")
            if fill:
                head += f" and {filled}"
        else:
            head = f"no datapoints were received for {_cw_plural(fill, 'period')} and {filled}"
        return state, (f"Threshold Crossed: {head} (minimum {_cw_plural(minimum, 'datapoint')} for {old} -> "
                       f"{state} transition).")

    if len(real) >= n:
        state, reason = reached(real[-n:])
    elif treat in ("breaching", "notBreaching"):
        state, reason = reached(real, n - len(real), "Breaching" if treat == "breaching" else "NonBreaching")
    elif not real:
        if treat == "ignore":
            return None
        state, reason = "INSUFFICIENT_DATA", (
            f"Insufficient Data: {_cw_plural(n, 'datapoint')} {'was' if n == 1 else 'were'} unknown."
        )
    else:
        breaching = [r for r in real if compare(r[2], threshold)]
        if len(breaching) >= m or len(breaching) < len(real):
            state, reason = reached(real)
        elif treat == "ignore":
            return None
        elif size - breaching[0][0] >= m:
            state, reason = "ALARM", (
                f"Threshold Crossed: {len(breaching)} out of the last {n} datapoints "
                f"[{_cw_listed([(at, v) for _, at, v, _ in breaching])}] "
                f"{'was' if len(breaching) == 1 else 'were'} {label} the threshold ({threshold!r}) and the other "
                f"datapoints were missing."
            )
        else:
            state, reason = "INSUFFICIENT_DATA", (
                f"Insufficient Data: {_cw_plural(n - len(real), 'datapoint')} "
                f"{'was' if n - len(real) == 1 else 'were'} unknown."
            )
    return state, reason, json.dumps(data)


# The Region as CloudWatch names it in notifications: "Region": "US East (Ohio)", and the Subject
# 'ALARM: "name" in US East (Ohio)' — the region's description in botocore's endpoint data.
_cw_region_names = {
    code: region.get("description", code)
    for partition in _cw_botocore_session.get_session().get_data("endpoints")["partitions"]
    for code, region in partition.get("regions", {}).items()
}


def _cw_notification(backend, alarm, old):
    """CloudWatch's alarm notification: the SNS message's JSON and its Subject."""
    trigger = {
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
    }
    if alarm.extended_statistic:
        trigger["ExtendedStatistic"] = alarm.extended_statistic
    else:
        trigger["Statistic"] = (alarm.statistic or "").upper()
    trigger.update({
        "Unit": alarm.unit,
        "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
        "Period": alarm.period,
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm or alarm.evaluation_periods,
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": alarm.threshold,
        "TreatMissingData": alarm.treat_missing_data or "",
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
    })
    region = _cw_region_names.get(backend.region_name, backend.region_name)
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": backend.account_id,
        "AlarmConfigurationUpdatedTimestamp": _cw_time(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _cw_time(alarm.state_updated_timestamp),
        "Region": region,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": trigger,
    }
    # SNS: the Subject "must be less than 100 characters long" (Publish, botocore sns service model).
    subject = f'{alarm.state_value}: "{alarm.name}" in {region}'[:99]
    return json.dumps(message), subject


def _cw_run_actions(backend, alarm, delivery):
    """Runs what _cw_transition decided: SNS topics of the alarm's account and Region get
    CloudWatch's notification; any other action is named in the log and not run."""
    actions, message, subject = delivery
    for arn in actions:
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "sns" or parts[3] != backend.region_name or parts[4] != backend.account_id:
            print(f"cloudwatch: alarm {alarm.name}: action {arn} is not run by the local cloud", file=sys.stderr,
                  flush=True)
            continue
        try:
            sns = _sns_models.sns_backends[backend.account_id][backend.region_name]
            topic = sns.get_topic(arn)
            # A topic encrypted with the AWS managed key (alias/aws/sns) cannot take CloudWatch's
            # messages: that key's policy cannot let cloudwatch.amazonaws.com use it ("Data encryption",
            # Amazon SNS Developer Guide: AWS services publishing to encrypted topics need a customer
            # managed key).
            if (getattr(topic, "kms_master_key_id", "") or "").endswith("alias/aws/sns"):
                raise RuntimeError("the topic is encrypted with the AWS managed key alias/aws/sns")
            sns.publish(message, arn=arn, subject=subject)
            _cw_record(backend, alarm, "Action", f"Successfully executed action {arn}",
                       {"actionState": "Succeeded", "notificationResource": arn})
        except Exception as e:  # CloudWatch "doesn't test or validate the actions" it runs
            print(f"cloudwatch: alarm {alarm.name}: action {arn} failed: {e}", file=sys.stderr, flush=True)
            _cw_record(backend, alarm, "Action", f"Failed to execute action {arn}. Received error: \"{e}\"",
                       {"actionState": "Failed", "notificationResource": arn, "error": str(e)})


def _cw_transition(backend, alarm, old):
    """What follows every change of an alarm's state: the timestamp and history, and what its
    actions are to deliver (run by _cw_run_actions once the lock is released: an HTTP subscriber
    may be slow to answer). The actions are the new state's, when ActionsEnabled ("Alarm actions",
    "Using Amazon CloudWatch alarms": actions happen on state transitions)."""
    alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
    _cw_record(backend, alarm, "StateUpdate", f"Alarm updated from {old} to {alarm.state_value}", {
        "version": "1.0",
        "oldState": {"stateValue": old},
        "newState": {"stateValue": alarm.state_value, "stateReason": alarm.state_reason,
                     "stateReasonData": json.loads(alarm.state_reason_data or "{}")},
    })
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
               "INSUFFICIENT_DATA": alarm.insufficient_data_actions}.get(alarm.state_value) or []
    if alarm.actions_enabled is False or not actions:
        return [], None, None
    message, subject = _cw_notification(backend, alarm, old)
    return list(actions), message, subject


_original(_sns_models.SNSBackend, "get_topic", ("self", "arn"))
_original(
    _sns_models.SNSBackend, "publish",
    ("self", "message", "arn", "phone_number", "subject", "message_attributes", "group_id", "deduplication_id",
     "message_structure"),
)
_cw_set_alarm_state = _original(
    _cw_models.CloudWatchBackend, "set_alarm_state", ("self", "alarm_name", "reason", "reason_data", "state_value")
)


def _cw_set_alarm_state_with_actions(self, alarm_name, reason, reason_data, state_value):
    # "When the updated state differs from the previous value, the action configured for the
    # appropriate state is invoked" and the alarm "returns to their actual state quickly"
    # (SetAlarmState, botocore cloudwatch service model): the next evaluation does that.
    with _cw_lock:
        before = self.alarms.get(alarm_name)
        old = before.state_value if before is not None else None
        _cw_set_alarm_state(self, alarm_name, reason, reason_data, state_value)
        alarm = self.alarms[alarm_name]
        delivery = _cw_transition(self, alarm, old) if old != alarm.state_value else ([], None, None)
    _cw_run_actions(self, alarm, delivery)


_cw_models.CloudWatchBackend.set_alarm_state = _cw_set_alarm_state_with_actions
_cw_reported = set()


def evaluate_alarms(now=None):
    """Evaluates every alarm of every account's and Region's CloudWatch once."""
    # Whole seconds: the periods' edges then read as CloudWatch's do in reasons and reason data.
    now = float(int(time.time())) if now is None else now
    for _, account in list(_cw_models.cloudwatch_backends.items()):
        for _, backend in list(account.items()):
            for alarm in list(backend.alarms.values()):
                try:
                    with _cw_lock:
                        if backend.alarms.get(alarm.name) is not alarm:
                            continue
                        outcome = _cw_evaluate(backend, alarm, now)
                        if outcome is None or outcome[0] == alarm.state_value:
                            continue
                        old = alarm.state_value
                        alarm.update_state(outcome[1], outcome[2], outcome[0])
                        delivery = _cw_transition(backend, alarm, old)
                    _cw_run_actions(backend, alarm, delivery)
                except Exception:
                    # One alarm that cannot be evaluated must not stop the others: reported once.
                    if alarm.alarm_arn not in _cw_reported:
                        _cw_reported.add(alarm.alarm_arn)
                        print(f"cloudwatch: alarm {alarm.alarm_arn} cannot be evaluated:\n"
                              f"{_cw_traceback.format_exc()}", file=sys.stderr, flush=True)


def start_alarm_evaluation():
    """The thread that evaluates alarms every LOCALCLOUD_ALARM_EVALUATION_SECONDS (10 by default)."""
    raw = os.environ.get("LOCALCLOUD_ALARM_EVALUATION_SECONDS") or "10"
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise SystemExit(f"LOCALCLOUD_ALARM_EVALUATION_SECONDS must be a number of seconds above 0, not {raw!r}")

    def run():
        while True:
            time.sleep(seconds)
            try:
                evaluate_alarms()
            except Exception:
                print(f"cloudwatch: alarm evaluation failed:\n{_cw_traceback.format_exc()}", file=sys.stderr,
                      flush=True)

    threading.Thread(target=run, name="cloudwatch-alarm-evaluation", daemon=True).start()


# --- SNS e-mail: "sent" to the local cloud's log ---------------------------------------------------
# SNS keeps an email/email-json subscription "PendingConfirmation" until the person follows the
# link SNS mails them, and delivers nothing to it until then (Subscribe and
# ListSubscriptionsByTopic, botocore sns service model: SubscriptionArn "pending confirmation").
# moto confirms every subscription as it is made (PendingConfirmation false, a real
# SubscriptionArn). The local cloud keeps that: it has no inbox and nobody to follow a link, so
# this is the one place it is more lenient than AWS; what the host sees instead of the e-mail is
# the line below. A subscription still pending (should a moto release start keeping them so) gets
# nothing, as on AWS.
_cw_subscription_publish = _original(
    _sns_models.Subscription, "publish",
    ("self", "message", "message_id", "subject", "message_attributes", "group_id", "deduplication_id",
     "message_structure"),
)


def _cw_subscription_publish_mailing(self, message, message_id, subject=None, message_attributes=None,
                                     group_id=None, deduplication_id=None, message_structure=None):
    _cw_subscription_publish(self, message, message_id, subject=subject, message_attributes=message_attributes,
                             group_id=group_id, deduplication_id=deduplication_id,
                             message_structure=message_structure)
    if self.protocol not in ("email", "email-json"):
        return
    if str(self.attributes.get("PendingConfirmation", False)).lower() == "true":
        return
    # A filter policy applies to e-mail as to any protocol ("Amazon SNS message filtering").
    if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(message_attributes, message):
        return
    if message_structure == "json":
        message = self._parse_message_structure(message, self.protocol)
    if self.protocol == "email-json":
        message = json.dumps(self.get_post_data(message, message_id, subject, message_attributes=message_attributes))
    _mail({
        "time": _cw_time(_cw_models.utcnow()),
        "topicArn": self.topic.arn,
        "protocol": self.protocol,
        "endpoint": self.endpoint,
        "subject": subject,
        "message": message,
    }, f"sns: e-mail to {self.endpoint}: {subject if subject is not None else '(no subject)'}")


_sns_models.Subscription.publish = _cw_subscription_publish_mailing


def _cw_check_state():
    """The attributes of moto's models the CloudWatch and SNS patches read, checked on throwaway
    objects (the server's backends are not touched)."""
    backend = _cw_models.CloudWatchBackend("us-east-1", "123456789012")
    _cw_put_metric_alarm(
        backend, name="patch-check", namespace="N", metric_name="M", comparison_operator="GreaterThanThreshold",
        evaluation_periods=1, period=60, threshold=1.0, statistic="Sum", description="", dimensions=[],
        alarm_actions=[],
    )
    alarm = backend.alarms["patch-check"]
    topic = _sns_models.Topic("patch-check", _sns_models.SNSBackend("us-east-1", "123456789012"))
    subscription = _sns_models.Subscription("123456789012", topic, "patch-check@example.com", "email")
    wanted = [
        ("CloudWatchBackend", backend, ("alarms", "get_all_metrics", "region_name", "account_id")),
        ("Alarm", alarm, (
            "name", "namespace", "metric_name", "metric_data_queries", "comparison_operator", "evaluation_periods",
            "datapoints_to_alarm", "period", "threshold", "statistic", "extended_statistic", "description",
            "dimensions", "alarm_actions", "ok_actions", "insufficient_data_actions", "unit", "actions_enabled",
            "treat_missing_data", "evaluate_low_sample_count_percentile", "rule", "state_value", "state_reason",
            "state_reason_data", "state_updated_timestamp", "configuration_updated_timestamp", "alarm_arn",
            "history", "update_state",
        )),
        ("Topic", topic, ("arn", "kms_master_key_id")),
        ("Subscription", subscription, (
            "protocol", "endpoint", "topic", "attributes", "_filter_policy_matcher", "_parse_message_structure",
            "get_post_data",
        )),
    ]
    for kind, obj, attrs in wanted:
        for attr in attrs:
            if not hasattr(obj, attr):
                raise PatchDoesNotFit(
                    f"moto patches: moto {moto.__version__}'s {kind} has no attribute {attr!r}, which the "
                    f"CloudWatch patches use; rewrite them in localcloud/src/moto/cloudwatch.py"
                )
    data = (_cw_models.MetricDatum("N", "M", 1.0, [], None),
            _cw_models.MetricAggregatedDatum("N", "M", 1.0, 1.0, 1.0, 1.0, [], None))
    for datum, attrs in zip(data, (("value",), ("sum", "min", "max", "sample_count"))):
        for attr in attrs + ("namespace", "name", "dimensions", "timestamp", "unit"):
            if not hasattr(datum, attr):
                raise PatchDoesNotFit(
                    f"moto patches: moto {moto.__version__}'s {type(datum).__name__} has no attribute {attr!r}, "
                    f"which the CloudWatch patches use; rewrite them in localcloud/src/moto/cloudwatch.py"
                )

_cw_check_state()


# --- CloudWatch over Smithy RPC v2 CBOR ------------------------------------------------------------
# The AWS SDK for Rust (aws-sdk-cloudwatch 1.140) calls CloudWatch with the Smithy RPC v2 CBOR
# protocol: POST /service/GraniteServiceVersion20100801/operation/<Operation>, `smithy-protocol:
# rpc-v2-cbor` (the service model's `protocols` list it beside `query` since 2025; "Smithy RPC v2
# CBOR protocol", smithy.io). moto can parse and answer it, but picks the protocols a service speaks
# from the botocore model it runs with, and the pinned botocore's CloudWatch model predates CBOR
# (`protocols: ["query"]`, no `targetPrefix`): every SDK call was a 404. The model is told what the
# current one says; the shapes, and so the checks on each request, are the same.
def _cloudwatch_speaks_cbor():
    from moto.core.utils import get_service_model

    metadata = get_service_model("cloudwatch").metadata
    if not isinstance(metadata, dict) or "protocols" not in metadata and "protocol" not in metadata:
        raise PatchDoesNotFit(
            f"moto patches: moto {moto.__version__}'s CloudWatch service model has no protocol list; "
            "rewrite the CBOR patch in localcloud/src/moto/cloudwatch.py"
        )
    protocols = list(metadata.get("protocols") or [metadata.get("protocol")])
    if "smithy-rpc-v2-cbor" not in protocols:
        metadata["protocols"] = protocols + ["smithy-rpc-v2-cbor"]
    metadata.setdefault("targetPrefix", "GraniteServiceVersion20100801")


_cloudwatch_speaks_cbor()


# --- Tags on dashboards -----------------------------------------------------------------------------
# "Currently, the only CloudWatch resources that can be tagged are alarms, dashboards, metric streams
# and Contributor Insights rules"; a dashboard's ARN is arn:aws:cloudwatch::account-id:dashboard/name
# ("TagResource", CloudWatch API Reference). moto tags alarms only and answers ResourceNotFound for a
# dashboard. A dashboard's tags go with it when it is deleted.
_cw_tag_resource = _original(_cw_models.CloudWatchBackend, "tag_resource", ("self", "arn", "tags"))
_cw_delete_dashboards = _original(_cw_models.CloudWatchBackend, "delete_dashboards", ("self", "dashboards"))


def _cw_tag_dashboards_too(self, arn, tags):
    dashboard = next((d for d in self.dashboards.values() if d.arn == arn), None)
    if dashboard is None:
        return _cw_tag_resource(self, arn, tags)
    self.tagger.tag_resource(arn, self.tagger.convert_dict_to_tags_input(tags))


def _cw_delete_dashboards_and_tags(self, dashboards):
    arns = [d.arn for name, d in self.dashboards.items() if name in dashboards]
    result = _cw_delete_dashboards(self, dashboards)
    for arn in arns:
        if arn not in {d.arn for d in self.dashboards.values()}:
            self.tagger.delete_all_tags_for_resource(arn)
    return result


_cw_models.CloudWatchBackend.tag_resource = _cw_tag_dashboards_too
_cw_models.CloudWatchBackend.delete_dashboards = _cw_delete_dashboards_and_tags
