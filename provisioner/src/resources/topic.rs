//! The SNS topic the stack's alarms notify, and the host's e-mail subscription to it
//! (`monitoring.email`). On AWS, SNS first e-mails a confirmation link; until the host follows it
//! the subscription is "PendingConfirmation" and receives nothing ("Email notifications", Amazon
//! SNS Developer Guide). The local cloud writes each notification to its log instead.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_sns::types::Tag;
use serde::Serialize;

use super::{Env, Live, Resource, ResourceError, Tags, removed_tags};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::cfn_types::sns_topic as cfn;
use crate::stack::{Id, Names, Out};
use crate::state::StateFile;
use crate::synth::{CfnResource, SynthError, Template, tag_list, val};
use crate::teardown::Step;

/// What `ListSubscriptionsByTopic` shows as the ARN of an e-mail subscription nobody confirmed yet.
const PENDING: &str = "PendingConfirmation";

#[derive(Debug, Clone)]
pub struct Topic {
    pub name: String,
    /// The host's address (`monitoring.email`).
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    /// The `email` subscriptions: confirmed ones, and the wanted one while it waits for the host.
    pub emails: BTreeSet<String>,
    pub tags: Tags,
}

/// What other constructs (and `synth`) may read of a Topic.
impl Topic {
    /// `Ref` of an `AWS::SNS::Topic` is its ARN.
    pub const ARN: Out<Self> = Out::reference("arn");
    pub const NAME: Out<Self> = Out::attribute("name", "TopicName");
}

impl Resource for Topic {
    const KIND: &'static str = cfn::Topic::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::ARN, Self::NAME];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props { name: self.name.clone(), emails: self.email.iter().cloned().collect(), tags: env.tags().clone() })
    }

    async fn read(&self, env: &Env<'_>, physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        let arn = match physical {
            Some(arn) => Some(arn.to_owned()),
            None => find(env.aws, &self.name).await?,
        };
        let Some(arn) = arn else { return Ok(None) };
        Ok(read(env.aws, &arn, self.email.as_deref()).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        // CreateTopic is idempotent for a name with the same attributes and tags ("CreateTopic",
        // Amazon SNS API Reference), so a retried create returns the same topic.
        let arn = env
            .aws
            .sns
            .create_topic()
            .name(&want.name)
            .set_tags(Some(sns_tags(&want.tags)?))
            .send()
            .await
            .ctx("sns:CreateTopic")?
            .topic_arn()
            .unwrap_or_default()
            .to_owned();
        for email in &want.emails {
            subscribe(env.aws, &arn, email).await?;
        }
        Ok(arn)
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        let arn = &live.physical;
        for email in want.emails.difference(&live.props.emails) {
            subscribe(env.aws, arn, email).await?;
        }
        for (sub_arn, email) in subscriptions(env.aws, arn).await? {
            if !want.emails.contains(&email) && sub_arn != PENDING {
                env.aws.sns.unsubscribe().subscription_arn(sub_arn).send().await.ctx("sns:Unsubscribe")?;
            }
        }
        if live.props.tags != want.tags {
            let removed = removed_tags(&live.props.tags, &want.tags);
            if !removed.is_empty() {
                env.aws
                    .sns
                    .untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .ctx("sns:UntagResource")?;
            }
            env.aws
                .sns
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(sns_tags(&want.tags)?))
                .send()
                .await
                .ctx("sns:TagResource")?;
        }
        Ok(())
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        let subscriptions: Vec<cfn::Subscription> = want
            .emails
            .iter()
            .map(|e| cfn::Subscription { endpoint: val(e.as_str()), protocol: val("email") })
            .collect();
        t.add_with_skips(
            id,
            &cfn::Topic {
                topic_name: val(&want.name),
                subscription: (!subscriptions.is_empty()).then_some(subscriptions),
                tags: Some(tag_list(t.tags())),
                ..Default::default()
            },
            Template::delete_with_stack(),
            &[(
                "CKV_AWS_26",
                "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and the \
                 notifications carry alarm names and figures only (no user data)",
            )],
        )
    }
}

fn sns_tags(tags: &Tags) -> Result<Vec<Tag>, ResourceError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder().key(k).value(v).build().map_err(|e| ResourceError::Request(format!("SNS tag {k}: {e}")))
        })
        .collect()
}

async fn subscribe(aws: &Aws, arn: &str, email: &str) -> Result<(), AwsError> {
    aws.sns.subscribe().topic_arn(arn).protocol("email").endpoint(email).send().await.ctx("sns:Subscribe")?;
    Ok(())
}

/// The topic's `email` subscriptions: (subscription ARN or "PendingConfirmation", address).
async fn subscriptions(aws: &Aws, arn: &str) -> Result<Vec<(String, String)>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = aws
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(arn)
            .set_next_token(token)
            .send()
            .await
            .ctx("sns:ListSubscriptionsByTopic")?;
        for s in page.subscriptions() {
            if s.protocol() == Some("email") {
                out.push((
                    s.subscription_arn().unwrap_or_default().to_owned(),
                    s.endpoint().unwrap_or_default().to_owned(),
                ));
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// The ARN of the topic named `name` in the account and region, if it exists.
pub async fn find(aws: &Aws, name: &str) -> Result<Option<String>, AwsError> {
    let suffix = format!(":{name}");
    let mut token = None;
    loop {
        let page = aws.sns.list_topics().set_next_token(token).send().await.ctx("sns:ListTopics")?;
        if let Some(arn) = page.topics().iter().filter_map(|t| t.topic_arn()).find(|a| a.ends_with(&suffix)) {
            return Ok(Some(arn.to_owned()));
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(None);
        }
    }
}

/// The topic as it exists; a pending subscription counts only when it is the wanted address (one
/// SNS will not let anyone remove before it is confirmed or expires).
pub async fn read(aws: &Aws, arn: &str, wanted: Option<&str>) -> Result<Option<Live<Props>>, AwsError> {
    if optional(aws.sns.get_topic_attributes().topic_arn(arn).send().await.ctx("sns:GetTopicAttributes"))?.is_none() {
        return Ok(None);
    }
    let name = arn.rsplit(':').next().unwrap_or_default().to_owned();
    let emails = subscriptions(aws, arn)
        .await?
        .into_iter()
        .filter(|(sub_arn, email)| sub_arn != PENDING || Some(email.as_str()) == wanted)
        .map(|(_, email)| email)
        .collect();
    let tags = aws
        .sns
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .ctx("sns:ListTagsForResource")?
        .tags()
        .iter()
        .filter(|t| !t.key().starts_with("aws:"))
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    Ok(Some(Live {
        physical: arn.to_owned(),
        props: Props { name: name.clone(), emails, tags },
        outputs: BTreeMap::from([(Topic::ARN.key.to_owned(), arn.to_owned()), (Topic::NAME.key.to_owned(), name)]),
    }))
}

/// Its place in `down`: after the alarms that publish to it.
impl Step for Topic {
    const TITLE: &'static str = "SNS topic of the alarms";
    const WHY: &'static str = "after the alarms that notify it; its subscriptions go with it";

    fn names(stack: &str) -> Vec<String> {
        vec![Names::topic(stack)]
    }

    async fn find(aws: &Aws, stack: &str, state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError> {
        let mut ids: BTreeSet<String> = find(aws, &Names::topic(stack)).await?.into_iter().collect();
        if let Some(arn) = crate::teardown::recorded(state, crate::stack::EDITOR.topic.id)
            && optional(aws.sns.get_topic_attributes().topic_arn(&arn).send().await.ctx("sns:GetTopicAttributes"))?
                .is_some()
        {
            ids.insert(arn);
        }
        Ok(ids)
    }

    async fn delete(aws: &Aws, _stack: &str, id: &str) -> Result<(), AwsError> {
        // DeleteTopic also deletes its subscriptions, and succeeds for a topic already gone.
        optional(aws.sns.delete_topic().topic_arn(id).send().await.ctx("sns:DeleteTopic"))?;
        Ok(())
    }
}
