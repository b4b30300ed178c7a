//! The function's IAM role, with one inline policy derived from the grants of the stack.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use super::bucket::Bucket;
use super::log_group::LogGroup;
use super::table::Table;
use super::{Env, Live, Resource, ResourceError, Tags, percent_decode, tags_from};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::cfn_types::iam_role as cfn;
use crate::models::ModelAccess;
use crate::stack::{Id, Names, Out, Ref};
use crate::state::StateFile;
use crate::synth::{CfnResource, SynthError, Template, tag_list, val};
use crate::teardown::Step;

/// A permission the function's role must have; the role's single inline policy is derived
/// from the grants of the constructs that use it.
#[derive(Debug, Clone)]
pub enum Grant {
    /// bedrock:InvokeModel on exactly what these model ids need (foundation models, or inference
    /// profiles and their destination models).
    InvokeModels(ModelAccess),
    /// Item reads/writes on exactly this table.
    TableReadWrite(Ref<Table>),
    /// Writing, reading (for presigned links) and deleting the kept results in exactly this
    /// bucket, under `results/` only.
    KeepResults(Ref<Bucket>),
    /// Writing log events to exactly this log group.
    WriteLogs(Ref<LogGroup>),
}

#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub policy_name: String,
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    pub assume_role_policy: Value,
    /// Policy name → document: exactly one, the least-privilege policy.
    pub inline_policies: BTreeMap<String, Value>,
    /// Always none: an attached managed policy would grant more than the stack declares.
    pub managed_policies: Vec<String>,
    pub tags: Tags,
}

/// What other constructs (and `synth`) may read of a Role.
impl Role {
    pub const ARN: Out<Self> = Out::attribute("arn", "Arn");
    pub const NAME: Out<Self> = Out::reference("name");
}

impl Resource for Role {
    const KIND: &'static str = cfn::Role::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::ARN, Self::NAME];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        self.grants
            .iter()
            .filter_map(|g| match g {
                Grant::InvokeModels(_) => None,
                Grant::TableReadWrite(t) => Some(t.id),
                // The bucket's name is known before it exists (stack, account, region), and IAM
                // takes a grant on a bucket yet to be made: the role need not wait for it.
                Grant::KeepResults(_) => None,
                Grant::WriteLogs(l) => Some(l.id),
            })
            .collect()
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props {
            name: self.name.clone(),
            assume_role_policy: trust_policy(),
            inline_policies: BTreeMap::from([(self.policy_name.clone(), policy_document(self, env)?)]),
            managed_policies: vec![],
            tags: env.tags().clone(),
        })
    }

    async fn read(&self, env: &Env<'_>, _physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env.aws, self).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        create(env, self, want).await
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        update(env, self, live, want).await
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        let policies = want
            .inline_policies
            .iter()
            .map(|(n, doc)| cfn::Policy { policy_name: val(n), policy_document: Some(doc.clone()) })
            .collect();
        // Which Bedrock ARNs the policy grants, and why (see provisioner/src/models.rs).
        let explained = self.grants.iter().find_map(|g| match g {
            Grant::InvokeModels(a) => Some(json!({"Metadata": {"provision": {"bedrockInvokeModel": a.explanation()}}})),
            _ => None,
        });
        t.add(
            id,
            &cfn::Role {
                role_name: val(&want.name),
                assume_role_policy_document: Some(want.assume_role_policy.clone()),
                policies: Some(policies),
                tags: Some(tag_list(t.tags())),
                ..Default::default()
            },
            explained.unwrap_or_else(|| json!({})),
        )
    }
}

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
pub fn policy_document(role: &Role, env: &Env<'_>) -> Result<Value, ResourceError> {
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
                let name = &env.stack.resolve(&role.name, *t)?.name;
                statements.push(json!({
                    "Sid": "EditsTableItems",
                    "Effect": "Allow",
                    // UpdateItem: the daily image counters (conditional, one item at a time).
                    "Action": ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
                    "Resource": format!("arn:aws:dynamodb:{region}:{account}:table/{name}"),
                }));
            }
            Grant::KeepResults(b) => {
                let name = env.stack.resolve(&role.name, *b)?.name_in(account);
                // GetObject: a presigned link is the role's own read, signed in advance.
                statements.push(json!({
                    "Sid": "KeptResults",
                    "Effect": "Allow",
                    "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                    "Resource": format!("arn:aws:s3:::{name}/{}*", image_edit_contract::results::PREFIX),
                }));
            }
            Grant::WriteLogs(l) => {
                let name = &env.stack.resolve(&role.name, *l)?.name;
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
    Ok(json!({"Version": "2012-10-17", "Statement": statements}))
}

pub async fn read(aws: &Aws, c: &Role) -> Result<Option<Live<Props>>, AwsError> {
    let Some(out) = optional(aws.iam.get_role().role_name(&c.name).send().await.ctx("iam:GetRole"))? else {
        return Ok(None);
    };
    let Some(role) = out.role() else { return Ok(None) };
    let trust: Value = role
        .assume_role_policy_document()
        .map(|d| serde_json::from_str(&percent_decode(d)).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    let mut inline = BTreeMap::new();
    let names = aws.iam.list_role_policies().role_name(&c.name).send().await.ctx("iam:ListRolePolicies")?;
    for name in names.policy_names() {
        let doc =
            aws.iam.get_role_policy().role_name(&c.name).policy_name(name).send().await.ctx("iam:GetRolePolicy")?;
        let v: Value = serde_json::from_str(&percent_decode(doc.policy_document())).unwrap_or(Value::Null);
        inline.insert(name.clone(), v);
    }
    let attached =
        aws.iam.list_attached_role_policies().role_name(&c.name).send().await.ctx("iam:ListAttachedRolePolicies")?;
    let managed = attached.attached_policies().iter().filter_map(|p| p.policy_arn()).map(str::to_owned).collect();
    let tags: BTreeMap<String, String> =
        role.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
    let props = Props {
        name: role.role_name().to_owned(),
        assume_role_policy: trust,
        inline_policies: inline,
        managed_policies: managed,
        tags: tags_from(&tags),
    };
    Ok(Some(Live {
        physical: role.role_name().to_owned(),
        outputs: BTreeMap::from([
            (Role::ARN.key.to_owned(), role.arn().to_owned()),
            (Role::NAME.key.to_owned(), role.role_name().to_owned()),
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
                .map_err(|e| ResourceError::Request(format!("tag {k}: {e}")))
        })
        .collect()
}

async fn create(env: &Env<'_>, c: &Role, want: &Props) -> Result<String, ResourceError> {
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
    put_policy(env, c, want).await?;
    Ok(c.name.clone())
}

async fn put_policy(env: &Env<'_>, c: &Role, want: &Props) -> Result<(), ResourceError> {
    let doc = want.inline_policies.get(&c.policy_name).map(Value::to_string).unwrap_or_default();
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

async fn update(env: &Env<'_>, c: &Role, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
    let aws = env.aws;
    let have = &live.props;
    if have.assume_role_policy != want.assume_role_policy {
        aws.iam
            .update_assume_role_policy()
            .role_name(&c.name)
            .policy_document(trust_policy().to_string())
            .send()
            .await
            .ctx("iam:UpdateAssumeRolePolicy")?;
    }
    if have.inline_policies != want.inline_policies {
        // Anything not declared goes: the role has exactly one inline policy.
        for name in have.inline_policies.keys().filter(|n| **n != c.policy_name) {
            aws.iam
                .delete_role_policy()
                .role_name(&c.name)
                .policy_name(name)
                .send()
                .await
                .ctx("iam:DeleteRolePolicy")?;
        }
        put_policy(env, c, want).await?;
    }
    for arn in have.managed_policies.iter().filter(|a| !want.managed_policies.contains(a)) {
        aws.iam.detach_role_policy().role_name(&c.name).policy_arn(arn).send().await.ctx("iam:DetachRolePolicy")?;
    }
    if have.tags != want.tags {
        let removed = super::removed_tags(&have.tags, &want.tags);
        if !removed.is_empty() {
            aws.iam.untag_role().role_name(&c.name).set_tag_keys(Some(removed)).send().await.ctx("iam:UntagRole")?;
        }
        aws.iam.tag_role().role_name(&c.name).set_tags(Some(iam_tags(env)?)).send().await.ctx("iam:TagRole")?;
    }
    Ok(())
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

/// Its place in `down`: after the function that assumes it.
impl Step for Role {
    const TITLE: &'static str = "IAM role (inline policies first)";
    const WHY: &'static str = "no function assumes it now; IAM refuses to delete a role that still has policies";

    fn names(stack: &str) -> Vec<String> {
        vec![Names::role(stack)]
    }

    async fn find(aws: &Aws, stack: &str, _state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError> {
        let name = Names::role(stack);
        let found = optional(aws.iam.get_role().role_name(&name).send().await.ctx("iam:GetRole"))?;
        Ok(found.map(|_| name).into_iter().collect())
    }

    async fn delete(aws: &Aws, _stack: &str, id: &str) -> Result<(), AwsError> {
        delete(aws, id).await
    }
}
