//! The results bucket: where the function keeps every image it makes (`history.keep_days`), so a
//! reload, a sign-out or another device finds it in History. Private to the stack: encrypted at
//! rest, every kind of public access blocked, TLS only, objects owned by the bucket's account, a
//! lifecycle rule that deletes images `keep_days` after they were made, and CORS for the app's
//! origins so the page can read an image it is handed a link to ("use as input").
//!
//! Sources: "Blocking public access to your Amazon S3 storage", "Enforce encryption in transit"
//! (the `aws:SecureTransport` deny, S3 User Guide, "Security best practices for Amazon S3"),
//! "Setting default server-side encryption behavior", "Controlling ownership of objects"
//! (BucketOwnerEnforced), "Lifecycle configuration elements", "CORS configuration" (S3 User Guide).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, CorsConfiguration, CorsRule, CreateBucketConfiguration,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::amplify_app::AmplifyApp;
use super::{Env, Live, Resource, ResourceError, Tags, tags_from};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::cfn_types::{s3_bucket as cfn, s3_bucket_policy as cfn_policy};
use crate::stack::{Id, Out, Ref};
use crate::state::StateFile;
use crate::synth::{CfnResource, SynthError, Template, tag_list, val};
use crate::teardown::Step;
use image_edit_contract::results::{PREFIX, bucket_name};

// The calls are labelled with the IAM action each needs (S3's actions are not always the
// operation's name: HeadBucket needs s3:ListBucket, GetBucketEncryption
// s3:GetEncryptionConfiguration, ListObjectVersions s3:ListBucketVersions; Service Authorization
// Reference, "Actions defined by Amazon S3"), so the host policy test reads them as it reads the rest.

/// The lifecycle rule's id.
pub const EXPIRE_RULE: &str = "expire-results";
/// Uploads the function never finishes (it does not use multipart; this is for anything that does).
const ABORT_UPLOADS_DAYS: i32 = 1;
/// How long a browser may cache a CORS preflight answer.
const CORS_MAX_AGE_SECS: i32 = 3600;

#[derive(Debug, Clone)]
pub struct Bucket {
    pub stack: String,
    pub region: String,
    /// `history.keep_days`: 0 keeps nothing (the function writes nothing; the rule still expires
    /// anything after a day, S3's shortest).
    pub keep_days: u32,
    /// The app whose origin may read the images.
    pub app: Ref<AmplifyApp>,
    pub extra_origins: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    /// Default encryption: `AES256` (SSE-S3).
    pub encryption: String,
    /// The four public-access blocks, all on.
    pub public_access_blocked: bool,
    /// `BucketOwnerEnforced`: ACLs off, the account owns every object.
    pub object_ownership: String,
    /// The bucket policy: deny any request not made over TLS.
    pub policy: Value,
    /// Days after which the lifecycle rule deletes objects under `results/`.
    pub expire_after_days: i32,
    /// Origins a page may read images from (GET/HEAD).
    pub cors_origins: Vec<String>,
    pub tags: Tags,
}

impl Bucket {
    /// `Ref` of an `AWS::S3::Bucket` is its name.
    pub const NAME: Out<Self> = Out::reference("name");
    pub const ARN: Out<Self> = Out::attribute("arn", "Arn");

    /// The bucket's name in `account`.
    pub fn name_in(&self, account: &str) -> String {
        bucket_name(&self.stack, account, &self.region)
    }

    fn expire_after_days(&self) -> i32 {
        i32::try_from(self.keep_days.max(1)).unwrap_or(i32::MAX)
    }
}

/// The TLS-only bucket policy of `name`.
pub fn tls_only_policy(name: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })
}

impl Resource for Bucket {
    const KIND: &'static str = cfn::Bucket::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::NAME, Self::ARN];

    fn name(&self) -> String {
        self.name_in("<account>")
    }

    fn deps(&self) -> Vec<Id> {
        vec![self.app.id]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        let name = self.name_in(env.account);
        let mut cors_origins = vec![env.outputs.get(self.app, AmplifyApp::ORIGIN)];
        cors_origins.extend(self.extra_origins.iter().cloned());
        Ok(Props {
            policy: tls_only_policy(&name),
            name,
            encryption: ServerSideEncryption::Aes256.as_str().to_owned(),
            public_access_blocked: true,
            object_ownership: ObjectOwnership::BucketOwnerEnforced.as_str().to_owned(),
            expire_after_days: self.expire_after_days(),
            cors_origins,
            tags: env.tags().clone(),
        })
    }

    async fn read(&self, env: &Env<'_>, physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        let name = physical.map_or_else(|| self.name_in(env.account), str::to_owned);
        Ok(read(env.aws, &name).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        let aws = env.aws;
        let mut create =
            aws.s3.create_bucket().bucket(&want.name).object_ownership(ObjectOwnership::BucketOwnerEnforced);
        // us-east-1 takes no location constraint ("CreateBucket", Amazon S3 API Reference).
        if env.region() != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(env.region()))
                    .build(),
            );
        }
        match create.send().await.ctx("s3:CreateBucket") {
            Ok(_) => {}
            // A retried `up`: the bucket this stack made before.
            Err(e) if e.code_is("BucketAlreadyOwnedByYou") => {}
            Err(e) if e.code_is("BucketAlreadyExists") => {
                return Err(ResourceError::Refused(format!(
                    "the bucket name {} is taken by another account; bucket names are global. Rename the stack (`name:` in the stack file)",
                    want.name
                )));
            }
            Err(e) => return Err(e.into()),
        }
        // Public access blocked before anything else is set on it.
        block_public_access(aws, &want.name).await?;
        put_encryption(aws, &want.name, want).await?;
        put_policy(aws, &want.name, want).await?;
        put_lifecycle(aws, &want.name, want).await?;
        put_cors(aws, &want.name, want).await?;
        put_tags(aws, &want.name, &want.tags).await?;
        Ok(want.name.clone())
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        let (aws, name, have) = (env.aws, &live.physical, &live.props);
        if !have.public_access_blocked {
            block_public_access(aws, name).await?;
        }
        if have.object_ownership != want.object_ownership {
            let rule = OwnershipControlsRule::builder()
                .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                .build()
                .map_err(request)?;
            aws.s3
                .put_bucket_ownership_controls()
                .bucket(name)
                .ownership_controls(OwnershipControls::builder().rules(rule).build().map_err(request)?)
                .send()
                .await
                .ctx("s3:PutBucketOwnershipControls")?;
        }
        if have.encryption != want.encryption {
            put_encryption(aws, name, want).await?;
        }
        if have.policy != want.policy {
            put_policy(aws, name, want).await?;
        }
        if have.expire_after_days != want.expire_after_days {
            put_lifecycle(aws, name, want).await?;
        }
        if have.cors_origins != want.cors_origins {
            put_cors(aws, name, want).await?;
        }
        if have.tags != want.tags {
            // PutBucketTagging replaces the whole set, so removed keys go with it.
            put_tags(aws, name, &want.tags).await?;
        }
        Ok(())
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        let name = want.name.clone();
        t.add_with_skips(
            id,
            &cfn::Bucket {
                bucket_name: val(&name),
                bucket_encryption: Some(cfn::BucketEncryption {
                    server_side_encryption_configuration: Some(vec![cfn::ServerSideEncryptionRule {
                        server_side_encryption_by_default: Some(cfn::ServerSideEncryptionByDefault {
                            sse_algorithm: val(&want.encryption),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }]),
                }),
                public_access_block_configuration: Some(cfn::PublicAccessBlockConfiguration {
                    block_public_acls: val(true),
                    block_public_policy: val(true),
                    ignore_public_acls: val(true),
                    restrict_public_buckets: val(true),
                }),
                ownership_controls: Some(cfn::OwnershipControls {
                    rules: Some(vec![cfn::OwnershipControlsRule { object_ownership: val(&want.object_ownership) }]),
                }),
                lifecycle_configuration: Some(cfn::LifecycleConfiguration {
                    rules: Some(vec![cfn::Rule {
                        id: val(EXPIRE_RULE),
                        status: val("Enabled"),
                        prefix: val(PREFIX),
                        expiration_in_days: val(want.expire_after_days),
                        abort_incomplete_multipart_upload: Some(cfn::AbortIncompleteMultipartUpload {
                            days_after_initiation: val(ABORT_UPLOADS_DAYS),
                        }),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                cors_configuration: Some(cfn::CorsConfiguration {
                    cors_rules: Some(vec![cfn::CorsRule {
                        allowed_methods: Some(vec!["GET".into(), "HEAD".into()]),
                        allowed_origins: Some(want.cors_origins.iter().map(|o| o.as_str().into()).collect()),
                        max_age: val(CORS_MAX_AGE_SECS),
                        ..Default::default()
                    }]),
                }),
                tags: Some(tag_list(t.tags())),
                ..Default::default()
            },
            Template::delete_with_stack(),
            &[
                (
                    "CKV_AWS_18",
                    "Access logging would need a second bucket to empty and delete; the function's own log line records every image written",
                ),
                (
                    "CKV_AWS_21",
                    "Versioning would keep every deleted result; a person's delete and the lifecycle rule must remove the image for good",
                ),
            ],
        )?;
        t.add(
            &format!("{id}Policy"),
            &cfn_policy::BucketPolicy {
                bucket: val(format!("${{{id}.{}}}", Bucket::NAME.key)),
                policy_document: Some(want.policy.clone()),
            },
            Template::delete_with_stack(),
        )
    }
}

fn request(e: impl std::fmt::Display) -> ResourceError {
    ResourceError::Request(format!("S3 request: {e}"))
}

/// Blocks every kind of public access to bucket `name` (this stack's buckets are private).
pub(crate) async fn block_public_access(aws: &Aws, name: &str) -> Result<(), AwsError> {
    aws.s3
        .put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .block_public_policy(true)
                .ignore_public_acls(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .ctx("s3:PutBucketPublicAccessBlock")?;
    Ok(())
}

async fn put_encryption(aws: &Aws, name: &str, want: &Props) -> Result<(), ResourceError> {
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::from(want.encryption.as_str()))
        .build()
        .map_err(request)?;
    let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default).build();
    aws.s3
        .put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder().rules(rule).build().map_err(request)?,
        )
        .send()
        .await
        .ctx("s3:PutEncryptionConfiguration")?;
    Ok(())
}

async fn put_policy(aws: &Aws, name: &str, want: &Props) -> Result<(), ResourceError> {
    aws.s3.put_bucket_policy().bucket(name).policy(want.policy.to_string()).send().await.ctx("s3:PutBucketPolicy")?;
    Ok(())
}

async fn put_lifecycle(aws: &Aws, name: &str, want: &Props) -> Result<(), ResourceError> {
    let rule = LifecycleRule::builder()
        .id(EXPIRE_RULE)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix(PREFIX).build())
        .expiration(LifecycleExpiration::builder().days(want.expire_after_days).build())
        .abort_incomplete_multipart_upload(
            aws_sdk_s3::types::AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(ABORT_UPLOADS_DAYS)
                .build(),
        )
        .build()
        .map_err(request)?;
    aws.s3
        .put_bucket_lifecycle_configuration()
        .bucket(name)
        .lifecycle_configuration(BucketLifecycleConfiguration::builder().rules(rule).build().map_err(request)?)
        .send()
        .await
        .ctx("s3:PutLifecycleConfiguration")?;
    Ok(())
}

async fn put_cors(aws: &Aws, name: &str, want: &Props) -> Result<(), ResourceError> {
    let rule = CorsRule::builder()
        .allowed_methods("GET")
        .allowed_methods("HEAD")
        .set_allowed_origins(Some(want.cors_origins.clone()))
        .max_age_seconds(CORS_MAX_AGE_SECS)
        .build()
        .map_err(request)?;
    aws.s3
        .put_bucket_cors()
        .bucket(name)
        .cors_configuration(CorsConfiguration::builder().cors_rules(rule).build().map_err(request)?)
        .send()
        .await
        .ctx("s3:PutBucketCORS")?;
    Ok(())
}

async fn put_tags(aws: &Aws, name: &str, tags: &Tags) -> Result<(), ResourceError> {
    let set = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(request))
        .collect::<Result<Vec<_>, _>>()?;
    aws.s3
        .put_bucket_tagging()
        .bucket(name)
        .tagging(Tagging::builder().set_tag_set(Some(set)).build().map_err(request)?)
        .send()
        .await
        .ctx("s3:PutBucketTagging")?;
    Ok(())
}

/// The bucket as it exists. A configuration S3 answers "not set" for reads as absent (empty).
pub async fn read(aws: &Aws, name: &str) -> Result<Option<Live<Props>>, AwsError> {
    if optional(aws.s3.head_bucket().bucket(name).send().await.ctx("s3:ListBucket"))?.is_none() {
        return Ok(None);
    }
    let not_set = |e: &AwsError, codes: &[&str]| codes.iter().any(|c| e.code_is(c));
    let encryption = match aws.s3.get_bucket_encryption().bucket(name).send().await.ctx("s3:GetEncryptionConfiguration")
    {
        Ok(out) => out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_owned())
            .unwrap_or_default(),
        Err(e) if not_set(&e, &["ServerSideEncryptionConfigurationNotFoundError"]) => String::new(),
        Err(e) => return Err(e),
    };
    let public_access_blocked =
        match aws.s3.get_public_access_block().bucket(name).send().await.ctx("s3:GetBucketPublicAccessBlock") {
            Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
                c.block_public_acls() == Some(true)
                    && c.block_public_policy() == Some(true)
                    && c.ignore_public_acls() == Some(true)
                    && c.restrict_public_buckets() == Some(true)
            }),
            Err(e) if not_set(&e, &["NoSuchPublicAccessBlockConfiguration"]) => false,
            Err(e) => return Err(e),
        };
    let object_ownership =
        match aws.s3.get_bucket_ownership_controls().bucket(name).send().await.ctx("s3:GetBucketOwnershipControls") {
            Ok(out) => out
                .ownership_controls()
                .and_then(|c| c.rules().first())
                .map(|r| r.object_ownership().as_str().to_owned())
                .unwrap_or_default(),
            Err(e) if not_set(&e, &["OwnershipControlsNotFoundError"]) => String::new(),
            Err(e) => return Err(e),
        };
    let policy = match aws.s3.get_bucket_policy().bucket(name).send().await.ctx("s3:GetBucketPolicy") {
        Ok(out) => out.policy().and_then(|p| serde_json::from_str(p).ok()).unwrap_or(Value::Null),
        Err(e) if not_set(&e, &["NoSuchBucketPolicy"]) => Value::Null,
        Err(e) => return Err(e),
    };
    let expire_after_days =
        match aws.s3.get_bucket_lifecycle_configuration().bucket(name).send().await.ctx("s3:GetLifecycleConfiguration")
        {
            Ok(out) => out
                .rules()
                .iter()
                .find(|r| {
                    r.id() == Some(EXPIRE_RULE)
                        && r.status() == &ExpirationStatus::Enabled
                        && r.filter().and_then(|f| f.prefix()) == Some(PREFIX)
                })
                .and_then(|r| r.expiration())
                .and_then(|e| e.days())
                .unwrap_or(0),
            Err(e) if not_set(&e, &["NoSuchLifecycleConfiguration"]) => 0,
            Err(e) => return Err(e),
        };
    let cors_origins = match aws.s3.get_bucket_cors().bucket(name).send().await.ctx("s3:GetBucketCORS") {
        Ok(out) => out
            .cors_rules()
            .iter()
            .find(|r| {
                let methods: BTreeSet<&str> = r.allowed_methods().iter().map(String::as_str).collect();
                methods == BTreeSet::from(["GET", "HEAD"])
            })
            .map(|r| r.allowed_origins().to_vec())
            .unwrap_or_default(),
        Err(e) if not_set(&e, &["NoSuchCORSConfiguration"]) => Vec::new(),
        Err(e) => return Err(e),
    };
    let tags = match aws.s3.get_bucket_tagging().bucket(name).send().await.ctx("s3:GetBucketTagging") {
        Ok(out) => {
            let read: BTreeMap<String, String> =
                out.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
            tags_from(&read)
        }
        Err(e) if not_set(&e, &["NoSuchTagSet"]) => Tags::new(),
        Err(e) => return Err(e),
    };
    Ok(Some(Live {
        physical: name.to_owned(),
        outputs: BTreeMap::from([
            (Bucket::NAME.key.to_owned(), name.to_owned()),
            (Bucket::ARN.key.to_owned(), format!("arn:aws:s3:::{name}")),
        ]),
        props: Props {
            name: name.to_owned(),
            encryption,
            public_access_blocked,
            object_ownership,
            policy,
            expire_after_days,
            cors_origins,
            tags,
        },
    }))
}

/// Deletes every object (and version, and unfinished upload) in the bucket, then the bucket.
pub async fn empty_and_delete(aws: &Aws, name: &str) -> Result<(), AwsError> {
    loop {
        let page = match aws.s3.list_object_versions().bucket(name).send().await.ctx("s3:ListBucketVersions") {
            Ok(p) => p,
            Err(e) if e.is_not_found() || e.code_is("NoSuchBucket") => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut ids = Vec::new();
        for v in page.versions() {
            ids.push((v.key().unwrap_or_default().to_owned(), v.version_id().map(str::to_owned)));
        }
        for m in page.delete_markers() {
            ids.push((m.key().unwrap_or_default().to_owned(), m.version_id().map(str::to_owned)));
        }
        if ids.is_empty() {
            break;
        }
        // DeleteObjects takes up to 1,000 keys ("DeleteObjects", Amazon S3 API Reference); a page
        // of ListObjectVersions holds at most 1,000.
        let objects = ids
            .into_iter()
            .map(|(key, version)| {
                aws_sdk_s3::types::ObjectIdentifier::builder()
                    .key(key)
                    .set_version_id(version.filter(|v| v != "null"))
                    .build()
                    .map_err(|e| AwsError::new("s3:DeleteObject", e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let delete = aws_sdk_s3::types::Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| AwsError::new("s3:DeleteObject", e.to_string()))?;
        let out = aws.s3.delete_objects().bucket(name).delete(delete).send().await.ctx("s3:DeleteObject")?;
        if let Some(err) = out.errors().first() {
            return Err(AwsError::new(
                "s3:DeleteObjects",
                format!(
                    "{} of the bucket's objects were not deleted (first: {} {})",
                    out.errors().len(),
                    err.key().unwrap_or_default(),
                    err.message().unwrap_or_default()
                ),
            ));
        }
    }
    match aws.s3.delete_bucket().bucket(name).send().await.ctx("s3:DeleteBucket") {
        Err(e) if e.is_not_found() || e.code_is("NoSuchBucket") => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Its place in `down`: with the history the images belong to, once nothing can add to it.
impl Step for Bucket {
    const TITLE: &'static str = "S3 results bucket";
    const WHY: &'static str =
        "the kept images go with the history they belong to, emptied first (a bucket must be empty to be deleted)";

    fn names(stack: &str) -> Vec<String> {
        vec![format!("{stack}-results-<account>-<region>")]
    }

    async fn find(aws: &Aws, stack: &str, state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError> {
        let mut ids = BTreeSet::new();
        let account = aws.identity().await?.account;
        let name = bucket_name(stack, &account, &aws.region);
        if read_exists(aws, &name).await? {
            ids.insert(name);
        }
        if let Some(recorded) = crate::teardown::recorded(state, crate::stack::EDITOR.results.id)
            && read_exists(aws, &recorded).await?
        {
            ids.insert(recorded);
        }
        Ok(ids)
    }

    async fn delete(aws: &Aws, _stack: &str, id: &str) -> Result<(), AwsError> {
        empty_and_delete(aws, id).await
    }
}

async fn read_exists(aws: &Aws, name: &str) -> Result<bool, AwsError> {
    Ok(optional(aws.s3.head_bucket().bucket(name).send().await.ctx("s3:ListBucket"))?.is_some())
}
