//! The function's log group (CloudWatch Logs), created before the function so that it has a
//! retention and is ours to delete.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use super::{Env, Live, Resource, ResourceError, tags_value, to_json};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::cfn_types::logs_log_group as cfn;
use crate::stack::{Id, Names, Out};
use crate::state::StateFile;
use crate::synth::{CfnResource, SynthError, Template, tag_list, val};
use crate::teardown::{Step, recorded};

#[derive(Debug, Clone)]
pub struct LogGroup {
    pub name: String,
    pub retention_days: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Props {
    pub name: String,
    pub retention_days: i32,
    pub tags: Value,
}

/// What other constructs (and `synth`) may read of a LogGroup.
impl LogGroup {
    pub const NAME: Out<Self> = Out::new("name");
    pub const ARN: Out<Self> = Out::new("arn");
}

impl Resource for LogGroup {
    const KIND: &'static str = cfn::LogGroup::TYPE;
    type Props = Props;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props { name: self.name.clone(), retention_days: self.retention_days, tags: tags_value(env.tags()) })
    }

    async fn read(&self, env: &Env<'_>, _physical: Option<&str>) -> Result<Option<Live>, ResourceError> {
        Ok(read(env.aws, &self.name).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<Live, ResourceError> {
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
        read(env.aws, &want.name).await?.ok_or_else(|| ResourceError::Vanished {
            kind: "log group",
            id: want.name.to_string(),
            when: "right after it was created",
        })
    }

    async fn update(&self, env: &Env<'_>, live: &Live, want: &Props) -> Result<Live, ResourceError> {
        let desired = to_json(want)?;
        if live.props["retention_days"] != desired["retention_days"] {
            put_retention(env.aws, want).await?;
        }
        if live.props["tags"] != desired["tags"] {
            let arn = live.outputs.get(LogGroup::ARN.key).cloned().unwrap_or_default();
            let removed = super::removed_tags(&live.props["tags"], &desired["tags"]);
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
        read(env.aws, &want.name).await?.ok_or_else(|| ResourceError::Vanished {
            kind: "log group",
            id: want.name.to_string(),
            when: "during the update",
        })
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        t.add_with_skips(
            id,
            &cfn::LogGroup {
                log_group_name: val(&want.name),
                retention_in_days: val(want.retention_days),
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

    fn cfn_output(&self, id: Id, key: &str, _stack: &crate::stack::Stack) -> Option<String> {
        (key == Self::NAME.key).then(|| format!("${{{id}}}"))
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

pub async fn read(aws: &Aws, name: &str) -> Result<Option<Live>, AwsError> {
    let Some((name, arn, retention)) = find(aws, name).await?.into_iter().find(|g| g.0 == name) else {
        return Ok(None);
    };
    let tags: BTreeMap<String, String> =
        optional(aws.logs.list_tags_for_resource().resource_arn(&arn).send().await.ctx("logs:ListTagsForResource"))?
            .and_then(|t| t.tags().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
            .unwrap_or_default();
    Ok(Some(Live {
        physical: name.clone(),
        props: json!({"name": name, "retention_days": retention, "tags": tags_value(&tags)}),
        outputs: BTreeMap::from([(LogGroup::NAME.key.to_owned(), name), (LogGroup::ARN.key.to_owned(), arn)]),
    }))
}

async fn put_retention(aws: &Aws, want: &Props) -> Result<(), AwsError> {
    aws.logs
        .put_retention_policy()
        .log_group_name(&want.name)
        .retention_in_days(want.retention_days)
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
        if let Some(api) = recorded(state, "Api") {
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
