//! The stack's CloudWatch dashboard: the figures `provision watch` shows, for a host who prefers
//! the console. Its widgets are decided in `monitoring.rs`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::{Env, Live, Resource, ResourceError, Tags};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::cfn_types::cloudwatch_dashboard as cfn;
use crate::stack::{Id, Names, Out};
use crate::state::StateFile;
use crate::synth::{CfnResource, SynthError, Template, tag_list, val};
use crate::teardown::Step;

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub name: String,
    /// The dashboard body ("Dashboard body structure and syntax", CloudWatch API Reference).
    pub body: Value,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    /// Compared as JSON, so that CloudWatch's own spacing is no change.
    pub body: Value,
    pub tags: Tags,
}

/// What other constructs (and `synth`) may read of a Dashboard.
impl Dashboard {
    /// `Ref` of an `AWS::CloudWatch::Dashboard` is its name.
    pub const NAME: Out<Self> = Out::reference("name");
    pub const ARN: Out<Self> = Out::engine_only("arn");
}

impl Resource for Dashboard {
    const KIND: &'static str = cfn::Dashboard::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::NAME, Self::ARN];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props { name: self.name.clone(), body: self.body.clone(), tags: env.tags().clone() })
    }

    async fn read(&self, env: &Env<'_>, _physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env.aws, &self.name).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        put(env.aws, want).await?;
        // PutDashboard takes no tags: they are added to the dashboard's ARN once it exists.
        if let Some(live) = read(env.aws, &want.name).await? {
            tag(env.aws, &live, want).await?;
        }
        Ok(want.name.clone())
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        if live.props.body != want.body {
            put(env.aws, want).await?;
        }
        if live.props.tags != want.tags {
            tag(env.aws, live, want).await?;
        }
        Ok(())
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        let body =
            serde_json::to_string(&want.body).map_err(|e| SynthError::Properties(id.to_owned(), e.to_string()))?;
        t.add(
            id,
            &cfn::Dashboard {
                dashboard_name: val(&want.name),
                dashboard_body: val(&body),
                tags: Some(tag_list(t.tags())),
            },
            Template::delete_with_stack(),
        )
    }
}

async fn put(aws: &Aws, want: &Props) -> Result<(), AwsError> {
    let out = aws
        .cloudwatch
        .put_dashboard()
        .dashboard_name(&want.name)
        .dashboard_body(want.body.to_string())
        .send()
        .await
        .ctx("cloudwatch:PutDashboard")?;
    // The dashboard is saved even with validation messages (widgets CloudWatch could not read);
    // they are a bug in the body this tool writes, so they are logged rather than ignored.
    for m in out.dashboard_validation_messages() {
        tracing::warn!(dashboard = %want.name, path = m.data_path().unwrap_or_default(), message = m.message().unwrap_or_default(), "dashboard validation");
    }
    Ok(())
}

async fn tag(aws: &Aws, live: &Live<Props>, want: &Props) -> Result<(), AwsError> {
    let arn = live.outputs.get(Dashboard::ARN.key).cloned().unwrap_or_default();
    super::alarm::retag(aws, &arn, &live.props.tags, &want.tags).await
}

pub async fn read(aws: &Aws, name: &str) -> Result<Option<Live<Props>>, AwsError> {
    let Some(out) =
        optional(aws.cloudwatch.get_dashboard().dashboard_name(name).send().await.ctx("cloudwatch:GetDashboard"))?
    else {
        return Ok(None);
    };
    let raw = out.dashboard_body().unwrap_or_default();
    let body = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    let arn = out.dashboard_arn().unwrap_or_default().to_owned();
    let tags = super::alarm::tags_of(aws, &arn).await?;
    Ok(Some(Live {
        physical: name.to_owned(),
        props: Props { name: name.to_owned(), body, tags },
        outputs: BTreeMap::from([
            (Dashboard::NAME.key.to_owned(), name.to_owned()),
            (Dashboard::ARN.key.to_owned(), arn),
        ]),
    }))
}

/// Its place in `down`: with the alarms, before the app it shows.
impl Step for Dashboard {
    const TITLE: &'static str = "CloudWatch dashboard";
    const WHY: &'static str = "with the alarms: it only shows the app's metrics, which outlive it";

    fn names(stack: &str) -> Vec<String> {
        vec![Names::dashboard(stack)]
    }

    async fn find(aws: &Aws, stack: &str, _state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError> {
        Ok(read(aws, &Names::dashboard(stack)).await?.map(|l| l.physical).into_iter().collect())
    }

    async fn delete(aws: &Aws, _stack: &str, id: &str) -> Result<(), AwsError> {
        optional(
            aws.cloudwatch.delete_dashboards().dashboard_names(id).send().await.ctx("cloudwatch:DeleteDashboards"),
        )?;
        Ok(())
    }
}
