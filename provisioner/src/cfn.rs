//! The CloudFormation engine: `up --engine cloudformation` deploys the synthesized template
//! through a change set (its changes shown, stack events as progress), `down --engine
//! cloudformation` deletes the stack. The function's zip goes to a per-stack asset bucket first
//! (CloudFormation reads Lambda code from S3); the site deployment and the sweep after a delete
//! are the commands' job (commands.rs), shared with the direct engine.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, StackStatus, Tag};

use crate::aws::{Aws, AwsError, Ctx, optional};

/// How long `up`/`down` wait for CloudFormation before giving up (the stack operation goes on).
const STACK_LIMIT: Duration = Duration::from_secs(45 * 60);
/// CloudFormation's limit for an inline template body; larger ones go through the asset bucket.
const TEMPLATE_BODY_MAX: usize = 51_200;

#[derive(Debug, thiserror::Error)]
pub enum CfnError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("CloudFormation stack {stack} ended {status}:{}", reasons.iter().map(|r| format!("\n  {r}")).collect::<String>())]
    Failed { stack: String, status: String, reasons: Vec<String> },
    #[error("the change set for {stack} failed: {reason}")]
    ChangeSet { stack: String, reason: String },
    #[error(
        "CloudFormation stack {stack} is {status} (a failed first create); delete it with `provision down --engine cloudformation`, then run `up` again"
    )]
    NeedsDelete { stack: String, status: String },
    #[error("CloudFormation did not finish {what} within {} minutes; it goes on in AWS: check the stack's events in the console", STACK_LIMIT.as_secs() / 60)]
    Timeout { what: String },
    /// The stack is in a state CloudFormation accepts no change set in; `fix` says how it leaves it.
    #[error("CloudFormation stack {stack} is {status}: {fix}")]
    Stuck { stack: String, status: String, fix: String },
}

/// The CloudFormation stack that holds stack `stack`.
pub fn stack_name(stack: &str) -> String {
    format!("{stack}-image-editor")
}

/// The per-stack bucket the function's zip (and a large template) is uploaded to.
pub fn asset_bucket(stack: &str, account: &str, region: &str) -> String {
    format!("{stack}-assets-{account}-{region}")
}

/// One line of progress: a stack event or a change of the change set.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StackEvent {
    pub time: String,
    pub logical_id: String,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
}

/// A change the change set makes.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Change {
    pub action: String,
    pub logical_id: String,
    pub kind: String,
    pub replacement: Option<String>,
}

#[derive(Debug, Default)]
pub struct Deployed {
    /// Empty when the template and parameters changed nothing.
    pub changes: Vec<Change>,
    pub outputs: BTreeMap<String, String>,
}

/// Creates the asset bucket when missing (private, in the stack's region) and uploads `zip`
/// under its SHA-256; returns (bucket, key).
pub async fn upload_function(aws: &Aws, stack: &str, account: &str, zip: &[u8]) -> Result<(String, String), AwsError> {
    use sha2::Digest;
    let bucket = asset_bucket(stack, account, &aws.region);
    ensure_bucket(aws, &bucket, stack).await?;
    let key = format!("function/{}.zip", hex::encode(sha2::Sha256::digest(zip)));
    let head = aws.s3.head_object().bucket(&bucket).key(&key).send().await;
    if head.is_err() {
        aws.s3.put_object().bucket(&bucket).key(&key).body(zip.to_vec().into()).send().await.ctx("s3:PutObject")?;
    }
    Ok((bucket, key))
}

async fn ensure_bucket(aws: &Aws, bucket: &str, stack: &str) -> Result<(), AwsError> {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, Tag as S3Tag, Tagging};
    if aws.s3.head_bucket().bucket(bucket).send().await.is_ok() {
        return Ok(());
    }
    let mut create = aws.s3.create_bucket().bucket(bucket);
    if aws.region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(aws.region.as_str()))
                .build(),
        );
    }
    let created = create.send().await.ctx("s3:CreateBucket");
    if let Err(e) = created
        && !e.code_is("BucketAlreadyOwnedByYou")
    {
        return Err(e);
    }
    crate::resources::bucket::block_public_access(aws, bucket).await?;
    let tag =
        |k: &str, v: &str| S3Tag::builder().key(k).value(v).build().map_err(|e| AwsError::new("s3", e.to_string()));
    aws.s3
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(
            Tagging::builder()
                .tag_set(tag("stack", stack)?)
                .tag_set(tag("managed-by", "provision")?)
                .build()
                .map_err(|e| AwsError::new("s3", e.to_string()))?,
        )
        .send()
        .await
        .ctx("s3:PutBucketTagging")?;
    Ok(())
}

/// Empties and deletes the asset bucket; a missing bucket is fine.
pub async fn delete_assets(aws: &Aws, stack: &str, account: &str) -> Result<bool, AwsError> {
    let bucket = asset_bucket(stack, account, &aws.region);
    if aws.s3.head_bucket().bucket(&bucket).send().await.is_err() {
        return Ok(false);
    }
    loop {
        let page = aws.s3.list_objects_v2().bucket(&bucket).send().await.ctx("s3:ListObjectsV2")?;
        if page.contents().is_empty() {
            break;
        }
        for o in page.contents() {
            if let Some(k) = o.key() {
                aws.s3.delete_object().bucket(&bucket).key(k).send().await.ctx("s3:DeleteObject")?;
            }
        }
    }
    optional(aws.s3.delete_bucket().bucket(&bucket).send().await.ctx("s3:DeleteBucket"))?;
    Ok(true)
}

/// The stack's status, or None when there is no such stack.
pub async fn status(aws: &Aws, name: &str) -> Result<Option<(StackStatus, BTreeMap<String, String>)>, AwsError> {
    let out = aws.cfn.describe_stacks().stack_name(name).send().await.ctx("cloudformation:DescribeStacks");
    let out = match out {
        Ok(o) => o,
        Err(e) if e.code_is("ValidationError") && e.message.contains("does not exist") => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(s) = out.stacks().first() else { return Ok(None) };
    if s.stack_status() == Some(&StackStatus::DeleteComplete) {
        return Ok(None);
    }
    let outputs =
        s.outputs().iter().filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned()))).collect();
    Ok(s.stack_status().cloned().map(|st| (st, outputs)))
}

/// The states in which CloudFormation refuses a new change set, with the way out of each, instead
/// of its raw "is in … state and can not be updated". UPDATE_ROLLBACK_FAILED stays until someone
/// continues the rollback ("Continue rolling back an update", CloudFormation User Guide:
/// ContinueUpdateRollback, skipping resources it cannot roll back); DELETE_FAILED until the delete
/// is retried; an `…_IN_PROGRESS` state until the operation under way ends.
fn stuck(name: &str, s: &StackStatus) -> Option<CfnError> {
    let fix = match s {
        StackStatus::UpdateRollbackFailed => format!(
            "an update failed and so did its rollback. Let CloudFormation finish the rollback: `aws cloudformation \
             continue-update-rollback --stack-name {name}` (add `--resources-to-skip` with the resources its events \
             say it cannot roll back), wait for UPDATE_ROLLBACK_COMPLETE, then run `provision up` again"
        ),
        StackStatus::DeleteFailed => {
            "a delete failed half-way: run `provision down --engine cloudformation` again (it retries the delete and \
             says what blocks it), then `provision up`"
                .to_owned()
        }
        StackStatus::ReviewInProgress => return None,
        s if !is_terminal(s) => format!(
            "another operation on it is under way. Wait until it ends (`aws cloudformation describe-stacks \
             --stack-name {name}`, or the stack's Events in the console), then run `provision up` again"
        ),
        _ => return None,
    };
    Some(CfnError::Stuck { stack: name.to_owned(), status: s.as_str().to_owned(), fix })
}

fn is_terminal(s: &StackStatus) -> bool {
    let s = s.as_str();
    s.ends_with("_COMPLETE") && !s.ends_with("CLEANUP_IN_PROGRESS") || s.ends_with("_FAILED")
}

/// What to deploy: the stack, its template and parameters.
pub struct DeployRequest<'a> {
    pub name: &'a str,
    pub template: &'a str,
    /// Where a template too large to send inline is uploaded (the asset bucket).
    pub template_bucket: &'a str,
    pub parameters: &'a [(&'a str, String)],
    pub tags: &'a BTreeMap<String, String>,
}

/// Deploys `template` as stack `name`: a change set (its changes returned), executed, followed
/// to the end with each stack event passed to `on_event`.
pub async fn deploy(
    aws: &Aws,
    req: &DeployRequest<'_>,
    on_change: &mut (dyn FnMut(&Change) + Send),
    on_event: &mut (dyn FnMut(&StackEvent) + Send),
) -> Result<Deployed, CfnError> {
    let DeployRequest { name, template, template_bucket, parameters, tags } = *req;
    let kind = match status(aws, name).await? {
        None => ChangeSetType::Create,
        // A CREATE change set that failed leaves an empty stack in REVIEW_IN_PROGRESS; CloudFormation
        // rejects an UPDATE change set for it ("You can't use the UPDATE type to create a change
        // set for a new stack"), so it is created again.
        Some((StackStatus::ReviewInProgress, _)) => ChangeSetType::Create,
        Some((s, _)) if s == StackStatus::RollbackComplete || s == StackStatus::RollbackFailed => {
            return Err(CfnError::NeedsDelete { stack: name.to_owned(), status: s.as_str().to_owned() });
        }
        Some((s, _)) => match stuck(name, &s) {
            Some(e) => return Err(e),
            None => ChangeSetType::Update,
        },
    };
    let change_set = format!("provision-{}", time::OffsetDateTime::now_utc().unix_timestamp());
    let mut req = aws
        .cfn
        .create_change_set()
        .stack_name(name)
        .change_set_name(&change_set)
        .change_set_type(kind.clone())
        .capabilities(Capability::CapabilityNamedIam)
        .set_parameters(Some(
            parameters.iter().map(|(k, v)| Parameter::builder().parameter_key(*k).parameter_value(v).build()).collect(),
        ))
        .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()));
    if template.len() <= TEMPLATE_BODY_MAX {
        req = req.template_body(template);
    } else {
        let key = format!("template/{}.yaml", change_set);
        aws.s3
            .put_object()
            .bucket(template_bucket)
            .key(&key)
            .body(template.as_bytes().to_vec().into())
            .send()
            .await
            .ctx("s3:PutObject")?;
        req = req.template_url(format!("https://{template_bucket}.s3.{}.amazonaws.com/{key}", aws.region));
    }
    req.send().await.ctx("cloudformation:CreateChangeSet")?;

    // Wait for the change set; an empty one means nothing to do.
    let started = Instant::now();
    let changes = loop {
        let cs = aws
            .cfn
            .describe_change_set()
            .stack_name(name)
            .change_set_name(&change_set)
            .send()
            .await
            .ctx("cloudformation:DescribeChangeSet")?;
        match cs.status() {
            Some(ChangeSetStatus::CreateComplete) => {
                break cs
                    .changes()
                    .iter()
                    .filter_map(|c| c.resource_change())
                    .map(|r| Change {
                        action: r.action().map(|a| a.as_str().to_owned()).unwrap_or_default(),
                        logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                        kind: r.resource_type().unwrap_or_default().to_owned(),
                        replacement: r.replacement().map(|x| x.as_str().to_owned()),
                    })
                    .collect::<Vec<_>>();
            }
            Some(ChangeSetStatus::Failed) => {
                let reason = cs.status_reason().unwrap_or_default().to_owned();
                let _ = aws.cfn.delete_change_set().stack_name(name).change_set_name(&change_set).send().await;
                if reason.contains("didn't contain changes") || reason.contains("No updates are to be performed") {
                    let outputs = status(aws, name).await?.map(|x| x.1).unwrap_or_default();
                    return Ok(Deployed { changes: vec![], outputs });
                }
                return Err(CfnError::ChangeSet { stack: name.to_owned(), reason });
            }
            _ if started.elapsed() > STACK_LIMIT => {
                return Err(CfnError::Timeout { what: "the change set".into() });
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    };
    for c in &changes {
        on_change(c);
    }
    let since = time::OffsetDateTime::now_utc() - time::Duration::seconds(5);
    aws.cfn
        .execute_change_set()
        .stack_name(name)
        .change_set_name(&change_set)
        .send()
        .await
        .ctx("cloudformation:ExecuteChangeSet")?;
    let (final_status, reasons) = follow(aws, name, since, on_event).await?;
    let ok = matches!(final_status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE");
    if !ok {
        return Err(CfnError::Failed { stack: name.to_owned(), status: final_status, reasons });
    }
    let outputs = status(aws, name).await?.map(|x| x.1).unwrap_or_default();
    Ok(Deployed { changes, outputs })
}

/// Deletes stack `name` (if it exists) and follows it to the end.
pub async fn delete(aws: &Aws, name: &str, on_event: &mut (dyn FnMut(&StackEvent) + Send)) -> Result<bool, CfnError> {
    if status(aws, name).await?.is_none() {
        return Ok(false);
    }
    let since = time::OffsetDateTime::now_utc() - time::Duration::seconds(5);
    aws.cfn.delete_stack().stack_name(name).send().await.ctx("cloudformation:DeleteStack")?;
    let (final_status, reasons) = follow(aws, name, since, on_event).await?;
    if final_status != "DELETE_COMPLETE" {
        return Err(CfnError::Failed { stack: name.to_owned(), status: final_status, reasons });
    }
    Ok(true)
}

/// Polls the stack's events (oldest first, each once) until its status is terminal; returns
/// that status and the reasons of the failed events.
async fn follow(
    aws: &Aws,
    name: &str,
    since: time::OffsetDateTime,
    on_event: &mut (dyn FnMut(&StackEvent) + Send),
) -> Result<(String, Vec<String>), CfnError> {
    let mut seen = HashSet::new();
    let mut reasons = Vec::new();
    let started = Instant::now();
    loop {
        let out =
            aws.cfn.describe_stack_events().stack_name(name).send().await.ctx("cloudformation:DescribeStackEvents");
        let events = match out {
            Ok(o) => o.stack_events().to_vec(),
            // A deleted stack can no longer be described by name.
            Err(e) if e.code_is("ValidationError") && e.message.contains("does not exist") => {
                return Ok(("DELETE_COMPLETE".into(), reasons));
            }
            Err(e) => return Err(e.into()),
        };
        let mut fresh: Vec<_> = events
            .iter()
            .filter(|e| {
                e.timestamp().map(|t| t.secs() >= since.unix_timestamp()).unwrap_or(true)
                    && seen.insert(e.event_id().unwrap_or_default().to_owned())
            })
            .collect();
        fresh.reverse();
        for e in fresh {
            let ev = StackEvent {
                time: e
                    .timestamp()
                    .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
                    .unwrap_or_default(),
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                kind: e.resource_type().unwrap_or_default().to_owned(),
                status: e.resource_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_owned),
            };
            if ev.status.ends_with("_FAILED")
                && let Some(r) = &ev.reason
            {
                reasons.push(format!("{} ({}): {r}", ev.logical_id, ev.kind));
            }
            on_event(&ev);
        }
        match status(aws, name).await? {
            None => return Ok(("DELETE_COMPLETE".into(), reasons)),
            Some((s, _)) if is_terminal(&s) => return Ok((s.as_str().to_owned(), reasons)),
            Some(_) if started.elapsed() > STACK_LIMIT => {
                return Err(CfnError::Timeout { what: format!("stack {name}") });
            }
            Some(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuck_stacks_get_their_way_out() {
        let msg = |s: StackStatus| stuck("dev-image-editor", &s).map(|e| e.to_string());
        assert!(msg(StackStatus::UpdateRollbackFailed).is_some_and(|m| m.starts_with(
            "CloudFormation stack dev-image-editor is UPDATE_ROLLBACK_FAILED: an update failed and so did its rollback"
        )
            && m.contains("continue-update-rollback --stack-name dev-image-editor")));
        assert!(msg(StackStatus::UpdateInProgress).is_some_and(|m| m.contains("another operation on it is under way")));
        assert!(msg(StackStatus::DeleteFailed).is_some_and(|m| m.contains("provision down --engine cloudformation")));
        for fine in [StackStatus::CreateComplete, StackStatus::UpdateRollbackComplete, StackStatus::ReviewInProgress] {
            assert!(stuck("x", &fine).is_none(), "{fine:?}");
        }
    }

    #[test]
    fn terminal_statuses() {
        assert!(is_terminal(&StackStatus::CreateComplete));
        assert!(is_terminal(&StackStatus::UpdateRollbackComplete));
        assert!(is_terminal(&StackStatus::DeleteFailed));
        assert!(!is_terminal(&StackStatus::CreateInProgress));
        assert!(!is_terminal(&StackStatus::UpdateCompleteCleanupInProgress));
    }

    /// The state moto cannot produce: a stack left in REVIEW_IN_PROGRESS by a failed CREATE change
    /// set. CloudFormation accepts only a CREATE change set for it.
    #[tokio::test]
    async fn a_stack_in_review_gets_a_create_change_set() {
        use aws_sdk_cloudformation::operation::create_change_set::{CreateChangeSetError, CreateChangeSetOutput};
        use aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput;
        use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
        use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
        use aws_sdk_cloudformation::types::Stack;
        use aws_smithy_mocks::{RuleMode, mock, mock_client};

        let stacks = mock!(aws_sdk_cloudformation::Client::describe_stacks).then_output(|| {
            let s = Stack::builder()
                .stack_name("dev-image-editor")
                .stack_status(StackStatus::ReviewInProgress)
                .creation_time(aws_smithy_types::DateTime::from_secs(0))
                .build();
            DescribeStacksOutput::builder().stacks(s).build()
        });
        let create = mock!(aws_sdk_cloudformation::Client::create_change_set)
            .match_requests(|r| r.change_set_type() == Some(&ChangeSetType::Create))
            .then_output(|| CreateChangeSetOutput::builder().id("cs").build());
        let update = mock!(aws_sdk_cloudformation::Client::create_change_set)
            .match_requests(|r| r.change_set_type() != Some(&ChangeSetType::Create))
            .then_error(|| {
                CreateChangeSetError::unhandled(
                    "ValidationError: You can't use the UPDATE type to create a change set for a new stack",
                )
            });
        let describe = mock!(aws_sdk_cloudformation::Client::describe_change_set).then_output(|| {
            DescribeChangeSetOutput::builder()
                .status(ChangeSetStatus::Failed)
                .status_reason("The submitted information didn't contain changes.")
                .build()
        });
        let delete = mock!(aws_sdk_cloudformation::Client::delete_change_set)
            .then_output(|| DeleteChangeSetOutput::builder().build());
        let client =
            mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, &[&stacks, &create, &update, &describe, &delete]);
        let sdk = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let mut aws = Aws::from_sdk(sdk, "us-west-2");
        aws.cfn = client;
        let tags = BTreeMap::new();
        let req = DeployRequest {
            name: "dev-image-editor",
            template: "Resources: {}",
            template_bucket: "b",
            parameters: &[],
            tags: &tags,
        };
        let out = deploy(&aws, &req, &mut |_| {}, &mut |_| {}).await;
        assert!(out.is_ok(), "{:?}", out.err().map(|e| e.to_string()));
        assert_eq!(create.num_calls(), 1);
        assert_eq!(update.num_calls(), 0);
    }

    #[test]
    fn names_fit_their_limits() {
        let b = asset_bucket("abcdefghijklmnopqrstuvwx", "123456789012", "ap-southeast-2");
        assert!(b.len() <= 63, "{b}");
        assert_eq!(stack_name("dev"), "dev-image-editor");
    }
}
