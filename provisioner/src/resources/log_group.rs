//! The function's log group (CloudWatch Logs), created before the function so that it has a
//! retention and is ours to delete.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Env, Live, Resource, ResourceError, Tags, tags_from};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::cfn_types::logs_log_group as cfn;
use crate::stack::{EDITOR, Id, Names, Out};
use crate::state::StateFile;
use crate::synth::{CfnResource, SynthError, Template, Val, tag_list, val};
use crate::teardown::{Step, recorded};

#[derive(Debug, Clone)]
pub struct LogGroup {
    pub name: String,
    pub retention_days: i32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    /// None: kept forever (a group created by Lambda itself).
    pub retention_days: Option<i32>,
    pub tags: Tags,
}

/// What other constructs (and `synth`) may read of a LogGroup.
impl LogGroup {
    pub const NAME: Out<Self> = Out::reference("name");
    /// Without the `:*` that CloudFormation's `Arn` attribute ends with, so not from the template.
    pub const ARN: Out<Self> = Out::engine_only("arn");
}

impl Resource for LogGroup {
    const KIND: &'static str = cfn::LogGroup::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::NAME, Self::ARN];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props { name: self.name.clone(), retention_days: Some(self.retention_days), tags: env.tags().clone() })
    }

    async fn read(&self, env: &Env<'_>, _physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env.aws, &self.name).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        let created = env
            .aws
            .logs
            .create_log_group()
            .log_group_name(&want.name)
            .set_tags(Some(env.tags().clone().into_iter().collect()))
            .send()
            .await
            .ctx("logs:CreateLogGroup");
        if let Err(e) = created
            && !e.code_is("ResourceAlreadyExistsException")
        {
            return Err(e.into());
        }
        put_retention(env.aws, want).await?;
        Ok(want.name.clone())
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        if live.props.retention_days != want.retention_days {
            put_retention(env.aws, want).await?;
        }
        if live.props.tags != want.tags {
            let arn = live.outputs.get(LogGroup::ARN.key).cloned().unwrap_or_default();
            let removed = super::removed_tags(&live.props.tags, &want.tags);
            if !removed.is_empty() {
                env.aws
                    .logs
                    .untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .ctx("logs:UntagResource")?;
            }
            env.aws
                .logs
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(env.tags().clone().into_iter().collect()))
                .send()
                .await
                .ctx("logs:TagResource")?;
        }
        Ok(())
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        t.add_with_skips(
            id,
            &cfn::LogGroup {
                log_group_name: val(&want.name),
                retention_in_days: want.retention_days.map(Val::from),
                tags: Some(tag_list(t.tags())),
                ..Default::default()
            },
            Template::delete_with_stack(),
            &[(
                "CKV_AWS_158",
                "CloudWatch Logs encrypts at rest by default; the function logs no images, tokens or prompts.",
            )],
        )
    }
}

/// Log groups whose name starts with `prefix`, with their ARN (without the trailing `:*`).
pub async fn find(aws: &Aws, prefix: &str) -> Result<Vec<(String, String, Option<i32>)>, AwsError> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let out = aws
            .logs
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .set_next_token(token)
            .send()
            .await
            .ctx("logs:DescribeLogGroups")?;
        for g in out.log_groups() {
            let name = g.log_group_name().unwrap_or_default().to_owned();
            let arn = g.arn().unwrap_or_default().trim_end_matches(":*").to_owned();
            found.push((name, arn, g.retention_in_days()));
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(found);
        }
    }
}

pub async fn read(aws: &Aws, name: &str) -> Result<Option<Live<Props>>, AwsError> {
    let Some((name, arn, retention)) = find(aws, name).await?.into_iter().find(|g| g.0 == name) else {
        return Ok(None);
    };
    let tags =
        optional(aws.logs.list_tags_for_resource().resource_arn(&arn).send().await.ctx("logs:ListTagsForResource"))?
            .and_then(|t| t.tags().map(tags_from))
            .unwrap_or_default();
    Ok(Some(Live {
        physical: name.clone(),
        props: Props { name: name.clone(), retention_days: retention, tags },
        outputs: BTreeMap::from([(LogGroup::NAME.key.to_owned(), name), (LogGroup::ARN.key.to_owned(), arn)]),
    }))
}

async fn put_retention(aws: &Aws, want: &Props) -> Result<(), AwsError> {
    aws.logs
        .put_retention_policy()
        .log_group_name(&want.name)
        .set_retention_in_days(want.retention_days)
        .send()
        .await
        .ctx("logs:PutRetentionPolicy")?;
    Ok(())
}

pub async fn delete(aws: &Aws, name: &str) -> Result<(), AwsError> {
    optional(aws.logs.delete_log_group().log_group_name(name).send().await.ctx("logs:DeleteLogGroup"))?;
    Ok(())
}

/// Its place in `down`: last, the function's group and the API's access log groups.
impl Step for LogGroup {
    const TITLE: &'static str = "CloudWatch log groups";
    const WHY: &'static str = "last, so that the logs of everything above stay readable until the end";

    fn names(stack: &str) -> Vec<String> {
        vec![Names::function_log_group(stack), Names::api_log_group_prefix("<api-id>") + "<stage>"]
    }

    async fn find(aws: &Aws, stack: &str, state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError> {
        let mut ids = BTreeSet::new();
        let function_group = Names::function_log_group(stack);
        for (name, _, _) in find(aws, &function_group).await? {
            if name == function_group {
                ids.insert(name);
            }
        }
        // The API's access log groups are named after its id, which only the state file knows.
        if let Some(api) = recorded(state, EDITOR.api.id) {
            for (name, _, _) in find(aws, &Names::api_log_group_prefix(&api)).await? {
                ids.insert(name);
            }
        }
        Ok(ids)
    }

    async fn delete(aws: &Aws, _stack: &str, id: &str) -> Result<(), AwsError> {
        delete(aws, id).await
    }
}
