//! CloudWatch Logs: the function's log group, created before the function so that it has a
//! retention and is ours to delete.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Env, Live, ResourceError, tags_value};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::stack::LogGroup;

pub fn desired(c: &LogGroup, env: &Env<'_>) -> Value {
    json!({"name": c.name, "retention_days": c.retention_days, "tags": tags_value(env.tags())})
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
        outputs: BTreeMap::from([("name".to_owned(), name), ("arn".to_owned(), arn)]),
    }))
}

pub async fn create(env: &Env<'_>, c: &LogGroup, desired: &Value) -> Result<Live, ResourceError> {
    let created = env
        .aws
        .logs
        .create_log_group()
        .log_group_name(&c.name)
        .set_tags(Some(env.tags().clone().into_iter().collect()))
        .send()
        .await
        .ctx("logs:CreateLogGroup");
    if let Err(e) = created
        && !e.code_is("ResourceAlreadyExistsException")
    {
        return Err(e.into());
    }
    let _ = desired;
    put_retention(env.aws, c).await?;
    read(env.aws, &c.name)
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("log group {} vanished right after it was created", c.name)))
}

async fn put_retention(aws: &Aws, c: &LogGroup) -> Result<(), AwsError> {
    aws.logs
        .put_retention_policy()
        .log_group_name(&c.name)
        .retention_in_days(c.retention_days)
        .send()
        .await
        .ctx("logs:PutRetentionPolicy")?;
    Ok(())
}

pub async fn update(env: &Env<'_>, c: &LogGroup, live: &Live, desired: &Value) -> Result<Live, ResourceError> {
    if live.props["retention_days"] != desired["retention_days"] {
        put_retention(env.aws, c).await?;
    }
    if live.props["tags"] != desired["tags"] {
        let arn = live.outputs.get("arn").cloned().unwrap_or_default();
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
    read(env.aws, &c.name)
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("log group {} vanished during the update", c.name)))
}

pub async fn delete(aws: &Aws, name: &str) -> Result<(), AwsError> {
    optional(aws.logs.delete_log_group().log_group_name(name).send().await.ctx("logs:DeleteLogGroup"))?;
    Ok(())
}
