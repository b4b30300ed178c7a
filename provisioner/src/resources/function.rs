//! The editing function (Lambda, provided.al2023 + our `bootstrap`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, Runtime};
use serde::Serialize;
use serde_json::json;

use super::amplify_app::AmplifyApp;
use super::bucket::Bucket;
use super::log_group::LogGroup;
use super::role::Role;
use super::table::Table;
use super::{Env, Live, Resource, ResourceError, Tags, tags_from};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::cfn_types::lambda_function as cfn;
use crate::stack::{Id, Names, Out, Ref};
use crate::state::StateFile;
use crate::synth::{CODE_BUCKET_PARAM, CODE_KEY_PARAM, CfnResource, SynthError, Template, Val, tag_list, val};
use crate::teardown::Step;

#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub role: Ref<Role>,
    pub table: Ref<Table>,
    /// Where the images it makes are kept, and for how many days (`history.keep_days`).
    pub results: Ref<Bucket>,
    pub keep_days: u32,
    pub logs: Ref<LogGroup>,
    /// The app whose origin CORS allows.
    pub app: Ref<AmplifyApp>,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub architecture: &'static str,
    pub family: &'static str,
    pub models: BTreeMap<String, String>,
    pub region: String,
    pub extra_origins: Vec<String>,
    /// `function.reserved_concurrency`.
    pub reserved_concurrency: Option<i32>,
    /// `limits.*`: images a day per user and for the stack.
    pub limits: crate::config::Limits,
    /// `auth.allowed_email_domains`: what the pre sign-up trigger admits.
    pub allowed_email_domains: Vec<String>,
}

pub const RUNTIME: &str = "provided.al2023";
pub const HANDLER: &str = "bootstrap";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    pub runtime: String,
    pub handler: String,
    pub role: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub architecture: String,
    pub environment: BTreeMap<String, String>,
    pub code_sha256: String,
    pub tags: Tags,
    pub reserved_concurrency: Option<i32>,
}

/// What other constructs (and `synth`) may read of a Function.
impl Function {
    pub const ARN: Out<Self> = Out::attribute("arn", "Arn");
    pub const NAME: Out<Self> = Out::reference("name");
}

impl Resource for Function {
    const KIND: &'static str = cfn::Function::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::ARN, Self::NAME];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![self.role.id, self.table.id, self.results.id, self.logs.id, self.app.id]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props {
            name: self.name.clone(),
            runtime: RUNTIME.to_owned(),
            handler: HANDLER.to_owned(),
            role: env.outputs.get(self.role, Role::ARN),
            memory_mb: self.memory_mb,
            timeout_s: self.timeout_s,
            architecture: self.architecture.to_owned(),
            environment: environment(self, env),
            code_sha256: env.artifacts.lambda_sha256()?,
            tags: env.tags().clone(),
            reserved_concurrency: self.reserved_concurrency,
        })
    }

    async fn read(&self, env: &Env<'_>, _physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env.aws, &self.name).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        create(env, self, want).await
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        update(env, self, live, want).await
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        let mut skips = vec![
            (
                "CKV_AWS_116",
                "Invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations.",
            ),
            (
                "CKV_AWS_117",
                "Calls only public AWS endpoints (Bedrock, DynamoDB) with IAM auth; a VPC would add NAT cost and nothing to protect.",
            ),
            ("CKV_AWS_173", "The environment holds names and model ids only, no secrets."),
        ];
        // Reserved concurrency is a checkov finding only while the stack reserves none.
        if want.reserved_concurrency.is_none() {
            skips.push((
                "CKV_AWS_115",
                "No function.reserved_concurrency in the stack file: reserving it per workshop stack would exhaust the account's pool; the stage throttle (api.throttle) bounds the request rate.",
            ));
        }
        let props = cfn::Function {
            function_name: val(&want.name),
            runtime: val(&want.runtime),
            handler: val(&want.handler),
            role: val(&want.role),
            memory_size: val(want.memory_mb),
            timeout: val(want.timeout_s),
            architectures: Some(vec![(&want.architecture).into()]),
            environment: Some(cfn::Environment {
                variables: Some(want.environment.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
            }),
            code: Some(cfn::Code {
                s3_bucket: Some(Val::reference(CODE_BUCKET_PARAM)),
                s3_key: Some(Val::reference(CODE_KEY_PARAM)),
                ..Default::default()
            }),
            reserved_concurrent_executions: want.reserved_concurrency.map(Val::from),
            tags: Some(tag_list(t.tags())),
            ..Default::default()
        };
        // The log group (with its retention) before the function can write to it.
        t.add_with_skips(id, &props, json!({"DependsOn": [self.logs.id]}), &skips)
    }
}

/// How long to keep retrying CreateFunction while a new role propagates through IAM.
const ROLE_PROPAGATION_LIMIT: Duration = Duration::from_secs(90);

fn origins(c: &Function, env: &Env<'_>) -> String {
    let mut o = vec![env.outputs.get(c.app, AmplifyApp::ORIGIN)];
    o.extend(c.extra_origins.iter().cloned());
    o.join(",")
}

/// The function's environment: everything the code needs to know about its stack.
pub fn environment(c: &Function, env: &Env<'_>) -> BTreeMap<String, String> {
    use image_edit_contract::env as var;
    let mut vars = BTreeMap::from([
        (var::TABLE_NAME, env.outputs.get(c.table, Table::NAME)),
        (var::BEDROCK_REGION, c.region.clone()),
        (var::MODEL_FAMILY, c.family.to_owned()),
        (var::MODEL_IDS, serde_json::to_string(&c.models).unwrap_or_default()),
        (var::ALLOWED_ORIGINS, origins(c, env)),
        (var::QUOTA_IMAGES_PER_USER_PER_DAY, c.limits.edits_per_user_per_day.to_string()),
        (var::QUOTA_IMAGES_PER_DAY, c.limits.edits_per_day.to_string()),
        (var::RUST_LOG, "info".to_owned()),
        (var::RESULTS_BUCKET, env.outputs.get(c.results, Bucket::NAME)),
        (var::RESULTS_KEEP_DAYS, c.keep_days.to_string()),
    ]);
    if !c.allowed_email_domains.is_empty() {
        vars.insert(var::ALLOWED_EMAIL_DOMAINS, c.allowed_email_domains.join(","));
    }
    vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

pub async fn read(aws: &Aws, name: &str) -> Result<Option<Live<Props>>, AwsError> {
    let Some(out) = optional(aws.lambda.get_function().function_name(name).send().await.ctx("lambda:GetFunction"))?
    else {
        return Ok(None);
    };
    let Some(cfg) = out.configuration() else { return Ok(None) };
    let env: BTreeMap<String, String> = cfg
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let arch = cfg.architectures().first().map_or(Architecture::X8664.as_str(), |a| a.as_str()).to_owned();
    let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
    let props = Props {
        name: text(cfg.function_name()),
        runtime: text(cfg.runtime().map(|r| r.as_str())),
        handler: text(cfg.handler()),
        role: text(cfg.role()),
        memory_mb: cfg.memory_size().unwrap_or_default(),
        timeout_s: cfg.timeout().unwrap_or_default(),
        architecture: arch,
        environment: env,
        code_sha256: text(cfg.code_sha256()),
        tags: out.tags().map(tags_from).unwrap_or_default(),
        reserved_concurrency: out.concurrency().and_then(|c| c.reserved_concurrent_executions()),
    };
    let arn = cfg.function_arn().unwrap_or_default().to_owned();
    Ok(Some(Live {
        physical: name.to_owned(),
        outputs: BTreeMap::from([
            (Function::NAME.key.to_owned(), name.to_owned()),
            (Function::ARN.key.to_owned(), arn),
        ]),
        props,
    }))
}

fn lambda_env(want: &Props) -> Environment {
    Environment::builder().set_variables(Some(want.environment.clone().into_iter().collect())).build()
}

/// IAM is eventually consistent: a role created seconds ago may not be assumable yet.
fn is_role_propagation(e: &AwsError) -> bool {
    e.code_is("InvalidParameterValueException") && e.message.contains("cannot be assumed")
}

async fn create(env: &Env<'_>, c: &Function, want: &Props) -> Result<String, ResourceError> {
    let zip = env.artifacts.lambda_zip()?;
    let started = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        let res = env
            .aws
            .lambda
            .create_function()
            .function_name(&c.name)
            .runtime(Runtime::from(want.runtime.as_str()))
            .handler(&want.handler)
            .role(&want.role)
            .memory_size(want.memory_mb)
            .timeout(want.timeout_s)
            .architectures(Architecture::from(want.architecture.as_str()))
            .environment(lambda_env(want))
            .code(FunctionCode::builder().zip_file(Blob::new(zip.to_vec())).build())
            .description("Image editing API over Amazon Bedrock (deployed by provision)")
            .set_tags(Some(env.tags().clone().into_iter().collect()))
            .send()
            .await
            .ctx("lambda:CreateFunction");
        match res {
            Ok(_) => break,
            Err(e) if e.code_is("ResourceConflictException") => {
                // Created by an earlier, interrupted run: converge it with an update instead.
                let live = read(env.aws, &c.name).await?.ok_or_else(|| ResourceError::Aws(e.clone()))?;
                update(env, c, &live, want).await?;
                return Ok(c.name.clone());
            }
            Err(e) if is_role_propagation(&e) && started.elapsed() < ROLE_PROPAGATION_LIMIT => {
                tracing::warn!(function = %c.name, "waiting for IAM propagation of the new role (retrying CreateFunction for up to 90 s)");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            Err(e) => return Err(e.into()),
        }
    }
    wait_active(env.aws, &c.name).await?;
    set_concurrency(env.aws, want, None).await?;
    Ok(c.name.clone())
}

/// Puts or removes the function's reserved concurrency when it differs from `live`.
async fn set_concurrency(aws: &Aws, want: &Props, live: Option<i32>) -> Result<(), ResourceError> {
    if live == want.reserved_concurrency {
        return Ok(());
    }
    match want.reserved_concurrency {
        Some(n) => {
            aws.lambda
                .put_function_concurrency()
                .function_name(&want.name)
                .reserved_concurrent_executions(n)
                .send()
                .await
                .ctx("lambda:PutFunctionConcurrency")?;
        }
        None => {
            aws.lambda
                .delete_function_concurrency()
                .function_name(&want.name)
                .send()
                .await
                .ctx("lambda:DeleteFunctionConcurrency")?;
        }
    }
    Ok(())
}

async fn wait_active(aws: &Aws, name: &str) -> Result<(), ResourceError> {
    aws.lambda
        .wait_until_function_active_v2()
        .function_name(name)
        .wait(Duration::from_secs(300))
        .await
        .map_err(|e| ResourceError::NotReady(format!("function {name} did not become Active: {e}")))?;
    Ok(())
}

async fn wait_updated(aws: &Aws, name: &str) -> Result<(), ResourceError> {
    aws.lambda
        .wait_until_function_updated_v2()
        .function_name(name)
        .wait(Duration::from_secs(300))
        .await
        .map_err(|e| ResourceError::NotReady(format!("the update of function {name} did not finish: {e}")))?;
    Ok(())
}

async fn update(env: &Env<'_>, c: &Function, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
    let aws = env.aws;
    let have = &live.props;
    let configuration = |p: &Props| (p.runtime.clone(), p.handler.clone(), p.role.clone(), p.memory_mb, p.timeout_s);
    if configuration(have) != configuration(want) || have.environment != want.environment {
        aws.lambda
            .update_function_configuration()
            .function_name(&c.name)
            .runtime(Runtime::from(want.runtime.as_str()))
            .handler(&want.handler)
            .role(&want.role)
            .memory_size(want.memory_mb)
            .timeout(want.timeout_s)
            .environment(lambda_env(want))
            .send()
            .await
            .ctx("lambda:UpdateFunctionConfiguration")?;
        wait_updated(aws, &c.name).await?;
    }
    if have.code_sha256 != want.code_sha256 || have.architecture != want.architecture {
        aws.lambda
            .update_function_code()
            .function_name(&c.name)
            .zip_file(Blob::new(env.artifacts.lambda_zip()?.to_vec()))
            .architectures(Architecture::from(want.architecture.as_str()))
            .send()
            .await
            .ctx("lambda:UpdateFunctionCode")?;
        wait_updated(aws, &c.name).await?;
    }
    set_concurrency(aws, want, have.reserved_concurrency).await?;
    if have.tags != want.tags {
        let arn = live.outputs.get(Function::ARN.key).cloned().unwrap_or_default();
        let removed = super::removed_tags(&have.tags, &want.tags);
        if !removed.is_empty() {
            aws.lambda
                .untag_resource()
                .resource(&arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .ctx("lambda:UntagResource")?;
        }
        aws.lambda
            .tag_resource()
            .resource(arn)
            .set_tags(Some(env.tags().clone().into_iter().collect()))
            .send()
            .await
            .ctx("lambda:TagResource")?;
    }
    Ok(())
}

/// Removes our permission, then the function. Missing = done.
pub async fn delete(aws: &Aws, name: &str, statement_id: &str) -> Result<(), AwsError> {
    optional(
        aws.lambda
            .remove_permission()
            .function_name(name)
            .statement_id(statement_id)
            .send()
            .await
            .ctx("lambda:RemovePermission"),
    )?;
    optional(aws.lambda.delete_function().function_name(name).send().await.ctx("lambda:DeleteFunction"))?;
    Ok(())
}

/// Its place in `down`: once nothing invokes it (the API is gone); its permission goes with it.
impl Step for Function {
    const TITLE: &'static str = "Lambda function (and its permission)";
    const WHY: &'static str = "nothing invokes it now; its resource policy (the API's permission) is removed first";

    fn names(stack: &str) -> Vec<String> {
        vec![Names::function(stack)]
    }

    async fn find(aws: &Aws, stack: &str, _state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError> {
        Ok(read(aws, &Names::function(stack)).await?.map(|_| Names::function(stack)).into_iter().collect())
    }

    async fn delete(aws: &Aws, stack: &str, id: &str) -> Result<(), AwsError> {
        delete(aws, id, &Names::permission(stack)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::{Artifacts, LambdaZip};
    use crate::config;
    use crate::resources::Outputs;
    use crate::resources::Resource;
    use crate::stack::{Construct, image_editor};
    use aws_sdk_lambda::operation::create_function::{CreateFunctionError, CreateFunctionOutput};
    use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
    use aws_sdk_lambda::types::FunctionConfiguration;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn function_and_stack() -> (Function, crate::stack::Stack) {
        let cfg = config::parse("region: us-west-2\n", std::path::Path::new("t.yaml"), "t").expect("config");
        let stack = image_editor(&cfg);
        match stack.node(crate::stack::EDITOR.function.id).map(|n| n.construct.clone()) {
            Some(Construct::Function(f)) => (*f, stack),
            _ => panic!("no function construct"),
        }
    }

    fn with_lambda(client: aws_sdk_lambda::Client) -> (Aws, Artifacts) {
        let sdk = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let mut aws = Aws::from_sdk(sdk, "us-west-2");
        aws.lambda = client;
        let lambda = LambdaZip {
            bytes: b"zip".to_vec(),
            sha256: "x".into(),
            binary: "bootstrap".into(),
            elf: crate::artifacts::ElfInfo { architecture: crate::config::Architecture::X86_64, max_glibc: None },
        };
        (aws, Artifacts { lambda: Some(lambda), site: None })
    }

    fn role_not_ready() -> CreateFunctionError {
        CreateFunctionError::InvalidParameterValueException(
            aws_sdk_lambda::types::error::InvalidParameterValueException::builder()
                .message("The role defined for the function cannot be assumed by Lambda.")
                .meta(aws_smithy_types::error::ErrorMetadata::builder().code("InvalidParameterValueException").build())
                .build(),
        )
    }

    /// A brand-new role is not assumable for a few seconds: CreateFunction is retried on exactly
    /// that error (bounded, with backoff) and succeeds once IAM has caught up.
    #[tokio::test(start_paused = true)]
    async fn create_function_waits_for_iam_propagation() {
        let (f, stack) = function_and_stack();
        let create_calls = mock!(aws_sdk_lambda::Client::create_function)
            .sequence()
            .error(role_not_ready)
            .times(2)
            .output(|| CreateFunctionOutput::builder().build())
            .build();
        let active = mock!(aws_sdk_lambda::Client::get_function)
            .sequence()
            .output(|| {
                GetFunctionOutput::builder()
                    .configuration(
                        FunctionConfiguration::builder()
                            .function_name("t-edit")
                            .state(aws_sdk_lambda::types::State::Active)
                            .last_update_status(aws_sdk_lambda::types::LastUpdateStatus::Successful)
                            .build(),
                    )
                    .build()
            })
            .repeatedly()
            .build();
        let (aws, artifacts) = with_lambda(mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&create_calls, &active]));
        let outputs = Outputs::default();
        let env = Env { aws: &aws, stack: &stack, account: "1", outputs: &outputs, artifacts: &artifacts };
        let want = f.desired(&env).expect("desired");
        let physical = create(&env, &f, &want).await.expect("created after the role propagated");
        assert_eq!(physical, "t-edit");
        assert_eq!(create_calls.num_calls(), 3, "two refusals, then the create");
    }

    #[tokio::test(start_paused = true)]
    async fn other_create_errors_are_not_retried() {
        let (f, stack) = function_and_stack();
        let denied = mock!(aws_sdk_lambda::Client::create_function).then_error(|| {
            CreateFunctionError::InvalidParameterValueException(
                aws_sdk_lambda::types::error::InvalidParameterValueException::builder()
                    .message("Unzipped size must be smaller than 262144000 bytes")
                    .meta(
                        aws_smithy_types::error::ErrorMetadata::builder()
                            .code("InvalidParameterValueException")
                            .build(),
                    )
                    .build(),
            )
        });
        let (aws, artifacts) = with_lambda(mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&denied]));
        let outputs = Outputs::default();
        let env = Env { aws: &aws, stack: &stack, account: "1", outputs: &outputs, artifacts: &artifacts };
        let want = f.desired(&env).expect("desired");
        let err = create(&env, &f, &want).await.expect_err("fails").to_string();
        assert!(err.contains("Unzipped size"), "{err}");
        assert_eq!(denied.num_calls(), 1);
    }
}
