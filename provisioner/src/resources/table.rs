//! The edits table (DynamoDB, on demand; `userId` partition key, time-ordered `id` sort key).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, Tag};
use serde::Serialize;

use super::{Env, Live, Resource, ResourceError, Tags, tags_from};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::cfn_types::dynamodb_table as cfn;
use crate::stack::{Id, Names, Out};
use crate::state::StateFile;
use crate::synth::{CfnResource, SynthError, Template, tag_list, val};
use crate::teardown::Step;

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
}

/// A key attribute: its name and scalar type (`S`).
#[derive(Debug, Clone, Serialize)]
pub struct Key {
    pub name: &'static str,
    pub r#type: &'static str,
}

impl Key {
    /// As plans show (and `read` reports) it: `userId:S`.
    fn label(&self) -> String {
        format!("{}:{}", self.name, self.r#type)
    }
}

/// The partition and sort keys: the function's access pattern (a user's edits, newest first).
pub const PARTITION_KEY: Key = Key { name: "userId", r#type: "S" };
pub const SORT_KEY: Key = Key { name: "id", r#type: "S" };

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    pub billing_mode: String,
    pub keys: Keys,
    /// The time-to-live attribute, when TTL is on.
    pub ttl_attribute: Option<String>,
    pub tags: Tags,
}

/// The key schema as plans show it: `{"partition": "userId:S", "sort": "id:S"}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Keys {
    pub partition: Option<String>,
    pub sort: Option<String>,
}

/// What other constructs (and `synth`) may read of a Table.
impl Table {
    pub const NAME: Out<Self> = Out::reference("name");
    pub const ARN: Out<Self> = Out::attribute("arn", "Arn");
}

impl Resource for Table {
    const KIND: &'static str = cfn::Table::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::NAME, Self::ARN];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props {
            name: self.name.clone(),
            billing_mode: BillingMode::PayPerRequest.as_str().to_owned(),
            keys: Keys { partition: Some(PARTITION_KEY.label()), sort: Some(SORT_KEY.label()) },
            // The function's daily image counters carry `expiresAt`; DynamoDB deletes them after it.
            ttl_attribute: Some(TTL_ATTRIBUTE.to_owned()),
            tags: env.tags().clone(),
        })
    }

    async fn read(&self, env: &Env<'_>, _physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env.aws, &self.name).await?)
    }

    async fn create(&self, env: &Env<'_>, _want: &Props) -> Result<String, ResourceError> {
        create(env, self).await
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        update(env, self, live, want).await
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        let attribute =
            |k: &Key| cfn::AttributeDefinition { attribute_name: val(k.name), attribute_type: val(k.r#type) };
        let key = |k: &Key, key_type: &str| cfn::KeySchema { attribute_name: val(k.name), key_type: val(key_type) };
        t.add_with_skips(
            id,
            &cfn::Table {
                table_name: val(&want.name),
                billing_mode: val(&want.billing_mode),
                attribute_definitions: Some(vec![attribute(&PARTITION_KEY), attribute(&SORT_KEY)]),
                key_schema: Some(vec![key(&PARTITION_KEY, "HASH"), key(&SORT_KEY, "RANGE")]),
                time_to_live_specification: want.ttl_attribute.as_ref().map(|a| cfn::TimeToLiveSpecification {
                    attribute_name: val(a),
                    enabled: val(true),
                }),
                tags: Some(tag_list(t.tags())),
                ..Default::default()
            },
            Template::delete_with_stack(),
            &[
                (
                    "CKV_AWS_28",
                    "Edit history of a workshop stack is disposable; point-in-time recovery would bill for backups that `down` deletes anyway.",
                ),
                (
                    "CKV_AWS_119",
                    "Encrypted at rest with the AWS owned key; a customer managed KMS key adds cost and a key to clean up, for no gain on workshop data.",
                ),
            ],
        )
    }
}

/// The time-to-live attribute of the table (the quota counters' expiry, epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expiresAt";

pub async fn read(aws: &Aws, name: &str) -> Result<Option<Live<Props>>, AwsError> {
    let Some(out) =
        optional(aws.dynamodb.describe_table().table_name(name).send().await.ctx("dynamodb:DescribeTable"))?
    else {
        return Ok(None);
    };
    let Some(t) = out.table() else { return Ok(None) };
    let attr_type = |n: &str| {
        t.attribute_definitions()
            .iter()
            .find(|a| a.attribute_name() == n)
            .map(|a| a.attribute_type().as_str().to_owned())
            .unwrap_or_default()
    };
    let key = |kt: KeyType| {
        t.key_schema()
            .iter()
            .find(|k| *k.key_type() == kt)
            .map(|k| format!("{}:{}", k.attribute_name(), attr_type(k.attribute_name())))
    };
    let arn = t.table_arn().unwrap_or_default().to_owned();
    let tags = if arn.is_empty() {
        Tags::new()
    } else {
        let tl =
            aws.dynamodb.list_tags_of_resource().resource_arn(&arn).send().await.ctx("dynamodb:ListTagsOfResource")?;
        let read: BTreeMap<String, String> =
            tl.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
        tags_from(&read)
    };
    let billing = t
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
        .map(|b| b.as_str().to_owned())
        .unwrap_or_else(|| "PROVISIONED".to_owned());
    let ttl = aws.dynamodb.describe_time_to_live().table_name(name).send().await.ctx("dynamodb:DescribeTimeToLive")?;
    let ttl_attribute = ttl
        .time_to_live_description()
        .filter(|d| {
            matches!(
                d.time_to_live_status(),
                Some(
                    aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled
                        | aws_sdk_dynamodb::types::TimeToLiveStatus::Enabling
                )
            )
        })
        .and_then(|d| d.attribute_name())
        .map(str::to_owned);
    let props = Props {
        name: t.table_name().unwrap_or_default().to_owned(),
        billing_mode: billing,
        keys: Keys { partition: key(KeyType::Hash), sort: key(KeyType::Range) },
        ttl_attribute,
        tags,
    };
    Ok(Some(Live {
        physical: name.to_owned(),
        outputs: BTreeMap::from([(Table::NAME.key.to_owned(), name.to_owned()), (Table::ARN.key.to_owned(), arn)]),
        props,
    }))
}

fn tags(env: &Env<'_>) -> Result<Vec<Tag>, ResourceError> {
    env.tags()
        .iter()
        .map(|(k, v)| {
            Tag::builder().key(k).value(v).build().map_err(|e| ResourceError::Request(format!("tag {k}: {e}")))
        })
        .collect()
}

async fn create(env: &Env<'_>, c: &Table) -> Result<String, ResourceError> {
    let def = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| ResourceError::Request(e.to_string()))
    };
    let key = |n: &str, k: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(k)
            .build()
            .map_err(|e| ResourceError::Request(e.to_string()))
    };
    let created = env
        .aws
        .dynamodb
        .create_table()
        .table_name(&c.name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(def(PARTITION_KEY.name)?)
        .attribute_definitions(def(SORT_KEY.name)?)
        .key_schema(key(PARTITION_KEY.name, KeyType::Hash)?)
        .key_schema(key(SORT_KEY.name, KeyType::Range)?)
        .set_tags(Some(tags(env)?))
        .send()
        .await
        .ctx("dynamodb:CreateTable");
    if let Err(e) = created
        && !e.code_is("ResourceInUseException")
    {
        return Err(e.into());
    }
    env.aws
        .dynamodb
        .wait_until_table_exists()
        .table_name(&c.name)
        .wait(std::time::Duration::from_secs(300))
        .await
        .map_err(|e| ResourceError::NotReady(format!("table {} did not become ACTIVE: {e}", c.name)))?;
    enable_ttl(env.aws, &c.name).await?;
    Ok(c.name.clone())
}

async fn update(env: &Env<'_>, c: &Table, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
    let (have, need) = (&live.props, want);
    if have.keys != need.keys {
        let show = |k: &Keys| super::to_json(k).map(|v| v.to_string()).unwrap_or_default();
        return Err(ResourceError::Refused(format!(
            "table {} has keys {} but the stack needs {}: keys cannot change in place. Export what you need, run `provision down`, then `provision up`",
            c.name,
            show(&have.keys),
            show(&need.keys)
        )));
    }
    let aws = env.aws;
    if have.billing_mode != need.billing_mode {
        aws.dynamodb
            .update_table()
            .table_name(&c.name)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .ctx("dynamodb:UpdateTable")?;
    }
    if have.ttl_attribute != need.ttl_attribute {
        enable_ttl(aws, &c.name).await?;
    }
    if have.tags != need.tags {
        let arn = live.outputs.get(Table::ARN.key).cloned().unwrap_or_default();
        let removed = super::removed_tags(&have.tags, &need.tags);
        if !removed.is_empty() {
            aws.dynamodb
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .ctx("dynamodb:UntagResource")?;
        }
        aws.dynamodb
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(tags(env)?))
            .send()
            .await
            .ctx("dynamodb:TagResource")?;
    }
    Ok(())
}

async fn enable_ttl(aws: &Aws, name: &str) -> Result<(), AwsError> {
    let spec = aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(TTL_ATTRIBUTE)
        .build()
        .map_err(|e| AwsError::new("dynamodb:UpdateTimeToLive", e.to_string()))?;
    aws.dynamodb
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(spec)
        .send()
        .await
        .ctx("dynamodb:UpdateTimeToLive")?;
    Ok(())
}

pub async fn delete(aws: &Aws, name: &str) -> Result<(), AwsError> {
    match aws.dynamodb.delete_table().table_name(name).send().await.ctx("dynamodb:DeleteTable") {
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
        Ok(_) => {
            let _ = aws
                .dynamodb
                .wait_until_table_not_exists()
                .table_name(name)
                .wait(std::time::Duration::from_secs(300))
                .await;
            Ok(())
        }
    }
}

/// Its place in `down`: deleted while nothing can write to it.
impl Step for Table {
    const TITLE: &'static str = "DynamoDB table";
    const WHY: &'static str = "the edit history is deleted while nothing can write to it";

    fn names(stack: &str) -> Vec<String> {
        vec![Names::table(stack)]
    }

    async fn find(aws: &Aws, stack: &str, _state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError> {
        Ok(read(aws, &Names::table(stack)).await?.map(|l| l.physical).into_iter().collect())
    }

    async fn delete(aws: &Aws, _stack: &str, id: &str) -> Result<(), AwsError> {
        delete(aws, id).await
    }
}
