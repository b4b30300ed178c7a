//! IAM: the function's role, with one inline policy derived from the grants of the stack.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Env, Live, ResourceError, percent_decode, tags_value};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::stack::{Construct, Grant, Role};

pub fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }],
    })
}

/// The one inline policy: exactly what the grants name, no wildcards on resources.
pub fn policy_document(role: &Role, env: &Env<'_>) -> Value {
    let (region, account) = (env.region(), env.account);
    let mut statements = Vec::new();
    for g in &role.grants {
        match g {
            Grant::InvokeModels(access) => {
                let arns = access.arns(region, account);
                statements.push(json!({
                    "Sid": "InvokeConfiguredModels",
                    "Effect": "Allow",
                    "Action": "bedrock:InvokeModel",
                    "Resource": arns,
                }));
            }
            Grant::TableReadWrite(t) => {
                let name = match env.stack.node(t.id).map(|n| &n.construct) {
                    Some(Construct::Table(t)) => t.name.clone(),
                    _ => String::new(),
                };
                statements.push(json!({
                    "Sid": "EditsTableItems",
                    "Effect": "Allow",
                    // UpdateItem: the daily image counters (conditional, in TransactWriteItems).
                    "Action": ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
                    "Resource": format!("arn:aws:dynamodb:{region}:{account}:table/{name}"),
                }));
            }
            Grant::WriteLogs(l) => {
                let name = match env.stack.node(l.id).map(|n| &n.construct) {
                    Some(Construct::LogGroup(l)) => l.name.clone(),
                    _ => String::new(),
                };
                // The group is created by `up` (not by Lambda), so no logs:CreateLogGroup.
                statements.push(json!({
                    "Sid": "FunctionLogStreams",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": format!("arn:aws:logs:{region}:{account}:log-group:{name}:*"),
                }));
            }
        }
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

pub fn desired(c: &Role, env: &Env<'_>) -> Value {
    json!({
        "name": c.name,
        "assume_role_policy": trust_policy(),
        "inline_policies": {c.policy_name.clone(): policy_document(c, env)},
        "managed_policies": [],
        "tags": tags_value(env.tags()),
    })
}

pub async fn read(aws: &Aws, c: &Role) -> Result<Option<Live>, AwsError> {
    let Some(out) = optional(aws.iam.get_role().role_name(&c.name).send().await.ctx("iam:GetRole"))? else {
        return Ok(None);
    };
    let Some(role) = out.role() else { return Ok(None) };
    let trust: Value = role
        .assume_role_policy_document()
        .map(|d| serde_json::from_str(&percent_decode(d)).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    let mut inline = serde_json::Map::new();
    let names = aws.iam.list_role_policies().role_name(&c.name).send().await.ctx("iam:ListRolePolicies")?;
    for name in names.policy_names() {
        let doc =
            aws.iam.get_role_policy().role_name(&c.name).policy_name(name).send().await.ctx("iam:GetRolePolicy")?;
        let v: Value = serde_json::from_str(&percent_decode(doc.policy_document())).unwrap_or(Value::Null);
        inline.insert(name.clone(), v);
    }
    let attached =
        aws.iam.list_attached_role_policies().role_name(&c.name).send().await.ctx("iam:ListAttachedRolePolicies")?;
    let managed: Vec<&str> = attached.attached_policies().iter().filter_map(|p| p.policy_arn()).collect();
    let tags: BTreeMap<String, String> =
        role.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
    let props = json!({
        "name": role.role_name(),
        "assume_role_policy": trust,
        "inline_policies": inline,
        "managed_policies": managed,
        "tags": tags_value(&tags),
    });
    Ok(Some(Live {
        physical: role.role_name().to_owned(),
        outputs: BTreeMap::from([
            ("arn".to_owned(), role.arn().to_owned()),
            ("name".to_owned(), role.role_name().to_owned()),
        ]),
        props,
    }))
}

fn iam_tags(env: &Env<'_>) -> Result<Vec<aws_sdk_iam::types::Tag>, ResourceError> {
    env.tags()
        .iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ResourceError::Refused(format!("tag {k}: {e}")))
        })
        .collect()
}

pub async fn create(env: &Env<'_>, c: &Role, desired: &Value) -> Result<Live, ResourceError> {
    let created = env
        .aws
        .iam
        .create_role()
        .role_name(&c.name)
        .assume_role_policy_document(trust_policy().to_string())
        .description("Runs the image editing function: Bedrock models, its table and its log group only")
        .set_tags(Some(iam_tags(env)?))
        .send()
        .await
        .ctx("iam:CreateRole");
    if let Err(e) = created
        && !e.code_is("EntityAlreadyExists")
    {
        return Err(e.into());
    }
    put_policy(env, c, desired).await?;
    read(env.aws, c)
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("role {} vanished right after it was created", c.name)))
}

async fn put_policy(env: &Env<'_>, c: &Role, desired: &Value) -> Result<(), ResourceError> {
    let doc = desired["inline_policies"][&c.policy_name].to_string();
    env.aws
        .iam
        .put_role_policy()
        .role_name(&c.name)
        .policy_name(&c.policy_name)
        .policy_document(doc)
        .send()
        .await
        .ctx("iam:PutRolePolicy")?;
    Ok(())
}

pub async fn update(env: &Env<'_>, c: &Role, live: &Live, desired: &Value) -> Result<Live, ResourceError> {
    let aws = env.aws;
    if live.props["assume_role_policy"] != desired["assume_role_policy"] {
        aws.iam
            .update_assume_role_policy()
            .role_name(&c.name)
            .policy_document(trust_policy().to_string())
            .send()
            .await
            .ctx("iam:UpdateAssumeRolePolicy")?;
    }
    if live.props["inline_policies"] != desired["inline_policies"] {
        // Anything not declared goes: the role has exactly one inline policy.
        if let Some(existing) = live.props["inline_policies"].as_object() {
            for name in existing.keys().filter(|n| **n != c.policy_name) {
                aws.iam
                    .delete_role_policy()
                    .role_name(&c.name)
                    .policy_name(name)
                    .send()
                    .await
                    .ctx("iam:DeleteRolePolicy")?;
            }
        }
        put_policy(env, c, desired).await?;
    }
    if let Some(managed) = live.props["managed_policies"].as_array() {
        for arn in managed.iter().filter_map(Value::as_str) {
            aws.iam.detach_role_policy().role_name(&c.name).policy_arn(arn).send().await.ctx("iam:DetachRolePolicy")?;
        }
    }
    if live.props["tags"] != desired["tags"] {
        let removed = super::removed_tags(&live.props["tags"], &desired["tags"]);
        if !removed.is_empty() {
            aws.iam.untag_role().role_name(&c.name).set_tag_keys(Some(removed)).send().await.ctx("iam:UntagRole")?;
        }
        aws.iam.tag_role().role_name(&c.name).set_tags(Some(iam_tags(env)?)).send().await.ctx("iam:TagRole")?;
    }
    read(aws, c).await?.ok_or_else(|| ResourceError::Refused(format!("role {} vanished during the update", c.name)))
}

/// Inline policies first, managed policies detached, then the role. Missing = done.
pub async fn delete(aws: &Aws, name: &str) -> Result<(), AwsError> {
    let Some(policies) =
        optional(aws.iam.list_role_policies().role_name(name).send().await.ctx("iam:ListRolePolicies"))?
    else {
        return Ok(());
    };
    for p in policies.policy_names() {
        optional(aws.iam.delete_role_policy().role_name(name).policy_name(p).send().await.ctx("iam:DeleteRolePolicy"))?;
    }
    if let Some(att) = optional(
        aws.iam.list_attached_role_policies().role_name(name).send().await.ctx("iam:ListAttachedRolePolicies"),
    )? {
        for p in att.attached_policies().iter().filter_map(|p| p.policy_arn()) {
            optional(
                aws.iam.detach_role_policy().role_name(name).policy_arn(p).send().await.ctx("iam:DetachRolePolicy"),
            )?;
        }
    }
    optional(aws.iam.delete_role().role_name(name).send().await.ctx("iam:DeleteRole"))?;
    Ok(())
}
