//! A CloudWatch alarm on one of the stack's metrics, notifying the stack's SNS topic when it goes
//! to ALARM. Not when it is OK again: OK actions also run on the first INSUFFICIENT_DATA → OK of
//! every new alarm ("Using Amazon CloudWatch alarms", Alarm actions), which would mail the host
//! once per alarm after each `up`; `provision watch` and the dashboard show the recovery. What each alarm watches is decided in `stack.rs`
//! (`monitoring`); docs/workshop.md, "During the workshop", says what to do when one fires.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, Dimension, MetricAlarm, Statistic, Tag};
use serde::Serialize;

use super::topic::Topic;
use super::{Env, Live, Resource, ResourceError, Tags, removed_tags};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::cfn_types::cloudwatch_alarm as cfn;
use crate::stack::{Id, Names, Out, Ref};
use crate::state::StateFile;
use crate::synth::{CfnResource, SynthError, Template, Val, tag_list, val};
use crate::teardown::Step;

#[derive(Debug, Clone)]
pub struct Alarm {
    pub name: String,
    pub description: String,
    pub metric: Metric,
    /// `Sum`, `Average`, `Maximum`…
    pub statistic: &'static str,
    pub period_s: i32,
    /// The alarm looks at this many periods…
    pub evaluation_periods: i32,
    /// …and goes to ALARM when this many of them breach (M of N).
    pub datapoints_to_alarm: i32,
    pub threshold: f64,
    /// `GreaterThanOrEqualToThreshold`, …
    pub comparison: &'static str,
    /// `notBreaching`: no requests is not a problem.
    pub treat_missing_data: &'static str,
    pub topic: Ref<Topic>,
}

/// The metric an alarm watches.
#[derive(Debug, Clone)]
pub struct Metric {
    pub namespace: &'static str,
    pub name: &'static str,
    pub dimensions: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    pub description: String,
    pub namespace: String,
    pub metric: String,
    pub dimensions: BTreeMap<String, String>,
    pub statistic: String,
    pub period_s: i32,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: f64,
    pub comparison: String,
    pub treat_missing_data: Option<String>,
    pub actions_enabled: bool,
    /// Notified on ALARM.
    pub actions: Vec<String>,
    pub tags: Tags,
}

/// What other constructs (and `synth`) may read of an Alarm.
impl Alarm {
    /// `Ref` of an `AWS::CloudWatch::Alarm` is its name.
    pub const NAME: Out<Self> = Out::reference("name");
    pub const ARN: Out<Self> = Out::attribute("arn", "Arn");
}

impl Resource for Alarm {
    const KIND: &'static str = cfn::Alarm::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::NAME, Self::ARN];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![self.topic.id]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props {
            name: self.name.clone(),
            description: self.description.clone(),
            namespace: self.metric.namespace.to_owned(),
            metric: self.metric.name.to_owned(),
            dimensions: self.metric.dimensions.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            statistic: self.statistic.to_owned(),
            period_s: self.period_s,
            evaluation_periods: self.evaluation_periods,
            datapoints_to_alarm: Some(self.datapoints_to_alarm),
            threshold: self.threshold,
            comparison: self.comparison.to_owned(),
            treat_missing_data: Some(self.treat_missing_data.to_owned()),
            actions_enabled: true,
            actions: vec![env.outputs.get(self.topic, Topic::ARN)],
            tags: env.tags().clone(),
        })
    }

    async fn read(&self, env: &Env<'_>, _physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env.aws, &self.name).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        // Tags are taken only when the alarm is created ("PutMetricAlarm", CloudWatch API Reference).
        put(env.aws, want, Some(&want.tags)).await?;
        Ok(want.name.clone())
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        let definition = |p: &Props| Props { tags: Tags::new(), ..p.clone() };
        if definition(&live.props) != definition(want) {
            // PutMetricAlarm replaces the whole definition of an alarm of that name.
            put(env.aws, want, None).await?;
        }
        if live.props.tags != want.tags {
            let arn = live.outputs.get(Alarm::ARN.key).cloned().unwrap_or_default();
            retag(env.aws, &arn, &live.props.tags, &want.tags).await?;
        }
        Ok(())
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        let actions: Vec<Val<String>> = want.actions.iter().map(|a| a.as_str().into()).collect();
        t.add(
            id,
            &cfn::Alarm {
                alarm_name: val(&want.name),
                alarm_description: val(&want.description),
                namespace: val(&want.namespace),
                metric_name: val(&want.metric),
                dimensions: Some(
                    want.dimensions
                        .iter()
                        .map(|(k, v)| cfn::Dimension { name: val(k.as_str()), value: val(v.as_str()) })
                        .collect(),
                ),
                statistic: val(&want.statistic),
                period: val(want.period_s),
                evaluation_periods: val(want.evaluation_periods),
                datapoints_to_alarm: want.datapoints_to_alarm.map(Val::from),
                threshold: val(want.threshold),
                comparison_operator: val(&want.comparison),
                treat_missing_data: want.treat_missing_data.as_deref().map(Into::into),
                actions_enabled: val(want.actions_enabled),
                alarm_actions: Some(actions),
                tags: Some(tag_list(t.tags())),
                ..Default::default()
            },
            Template::delete_with_stack(),
        )
    }
}

fn cloudwatch_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// A CloudWatch resource's tags (an alarm's, a dashboard's), without AWS's own.
pub(super) async fn tags_of(aws: &Aws, arn: &str) -> Result<Tags, AwsError> {
    let listed = optional(
        aws.cloudwatch.list_tags_for_resource().resource_arn(arn).send().await.ctx("cloudwatch:ListTagsForResource"),
    )?;
    Ok(listed
        .map(|t| {
            t.tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                .filter(|(k, _)| !k.starts_with("aws:"))
                .collect()
        })
        .unwrap_or_default())
}

/// Makes a CloudWatch resource's tags `want` (TagResource only adds and overwrites).
pub(super) async fn retag(aws: &Aws, arn: &str, live: &Tags, want: &Tags) -> Result<(), AwsError> {
    let removed = removed_tags(live, want);
    if !removed.is_empty() {
        aws.cloudwatch
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .ctx("cloudwatch:UntagResource")?;
    }
    aws.cloudwatch
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(cloudwatch_tags(want)))
        .send()
        .await
        .ctx("cloudwatch:TagResource")?;
    Ok(())
}

async fn put(aws: &Aws, want: &Props, tags: Option<&Tags>) -> Result<(), AwsError> {
    let dimensions = want.dimensions.iter().map(|(k, v)| Dimension::builder().name(k).value(v).build()).collect();
    aws.cloudwatch
        .put_metric_alarm()
        .alarm_name(&want.name)
        .alarm_description(&want.description)
        .namespace(&want.namespace)
        .metric_name(&want.metric)
        .set_dimensions(Some(dimensions))
        .statistic(Statistic::from(want.statistic.as_str()))
        .period(want.period_s)
        .evaluation_periods(want.evaluation_periods)
        .set_datapoints_to_alarm(want.datapoints_to_alarm)
        .threshold(want.threshold)
        .comparison_operator(ComparisonOperator::from(want.comparison.as_str()))
        .set_treat_missing_data(want.treat_missing_data.clone())
        .actions_enabled(want.actions_enabled)
        .set_alarm_actions(Some(want.actions.clone()))
        .set_tags(tags.map(cloudwatch_tags))
        .send()
        .await
        .ctx("cloudwatch:PutMetricAlarm")?;
    Ok(())
}

/// The metric alarms named `names` (at most 100 a call, as DescribeAlarms takes).
async fn describe(aws: &Aws, names: &[String]) -> Result<Vec<MetricAlarm>, AwsError> {
    let mut found = Vec::new();
    for chunk in names.chunks(100) {
        let mut token = None;
        loop {
            let page = aws
                .cloudwatch
                .describe_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .alarm_types(AlarmType::MetricAlarm)
                .set_next_token(token)
                .send()
                .await
                .ctx("cloudwatch:DescribeAlarms")?;
            found.extend(page.metric_alarms().iter().cloned());
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(found)
}

pub async fn read(aws: &Aws, name: &str) -> Result<Option<Live<Props>>, AwsError> {
    let Some(a) = describe(aws, &[name.to_owned()]).await?.into_iter().find(|a| a.alarm_name() == Some(name)) else {
        return Ok(None);
    };
    let arn = a.alarm_arn().unwrap_or_default().to_owned();
    let tags = tags_of(aws, &arn).await?;
    let props = Props {
        name: name.to_owned(),
        description: a.alarm_description().unwrap_or_default().to_owned(),
        namespace: a.namespace().unwrap_or_default().to_owned(),
        metric: a.metric_name().unwrap_or_default().to_owned(),
        dimensions: a.dimensions().iter().filter_map(|d| Some((d.name()?.to_owned(), d.value()?.to_owned()))).collect(),
        statistic: a.statistic().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        period_s: a.period().unwrap_or_default(),
        evaluation_periods: a.evaluation_periods().unwrap_or_default(),
        datapoints_to_alarm: a.datapoints_to_alarm(),
        threshold: a.threshold().unwrap_or_default(),
        comparison: a.comparison_operator().map(|c| c.as_str().to_owned()).unwrap_or_default(),
        treat_missing_data: a.treat_missing_data().map(str::to_owned),
        actions_enabled: a.actions_enabled().unwrap_or_default(),
        actions: a.alarm_actions().to_vec(),
        tags,
    };
    Ok(Some(Live {
        physical: name.to_owned(),
        props,
        outputs: BTreeMap::from([(Alarm::NAME.key.to_owned(), name.to_owned()), (Alarm::ARN.key.to_owned(), arn)]),
    }))
}

/// Its place in `down`: first, so that taking the app down pages nobody.
impl Step for Alarm {
    const TITLE: &'static str = "CloudWatch alarms";
    const WHY: &'static str = "first, so that taking the app down raises no alarm and e-mails nobody";

    fn names(stack: &str) -> Vec<String> {
        Names::alarms(stack)
    }

    async fn find(aws: &Aws, stack: &str, _state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError> {
        Ok(describe(aws, &Names::alarms(stack)).await?.into_iter().filter_map(|a| a.alarm_name).collect())
    }

    async fn delete(aws: &Aws, _stack: &str, id: &str) -> Result<(), AwsError> {
        optional(aws.cloudwatch.delete_alarms().alarm_names(id).send().await.ctx("cloudwatch:DeleteAlarms"))?;
        Ok(())
    }
}
