//! Lambda: the editing function (provided.al2023 + our `bootstrap`) and the permission that lets
//! exactly this API invoke it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, Runtime};
use serde_json::{Value, json};

use super::{Env, Live, ResourceError, tags_value};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::stack::{Function, Invoker, Permission};

/// How long to keep retrying CreateFunction while a new role propagates through IAM.
const ROLE_PROPAGATION_LIMIT: Duration = Duration::from_secs(90);

fn origins(c: &Function, env: &Env<'_>) -> String {
    let mut o = vec![env.outputs.get(c.app.id, "origin")];
    o.extend(c.extra_origins.iter().cloned());
    o.join(",")
}

/// The function's environment: everything the code needs to know about its stack.
pub fn environment(c: &Function, env: &Env<'_>) -> BTreeMap<String, String> {
    use image_edit_contract::env as var;
    let mut vars = BTreeMap::from([
        (var::TABLE_NAME, env.outputs.get(c.table.id, "name")),
        (var::BEDROCK_REGION, c.region.clone()),
        (var::MODEL_FAMILY, c.family.to_owned()),
        (var::MODEL_IDS, serde_json::to_string(&c.models).unwrap_or_default()),
        (var::ALLOWED_ORIGINS, origins(c, env)),
        (var::QUOTA_IMAGES_PER_USER_PER_DAY, c.limits.edits_per_user_per_day.to_string()),
        (var::QUOTA_IMAGES_PER_DAY, c.limits.edits_per_day.to_string()),
        (var::RUST_LOG, "info".to_owned()),
    ]);
    if !c.allowed_email_domains.is_empty() {
        vars.insert(var::ALLOWED_EMAIL_DOMAINS, c.allowed_email_domains.join(","));
    }
    vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

pub fn desired(c: &Function, env: &Env<'_>) -> Result<Value, ResourceError> {
    let code = env.artifacts.lambda_sha256()?;
    Ok(json!({
        "name": c.name,
        "runtime": "provided.al2023",
        "handler": "bootstrap",
        "role": env.outputs.get(c.role.id, "arn"),
        "memory_mb": c.memory_mb,
        "timeout_s": c.timeout_s,
        "architecture": c.architecture,
        "environment": environment(c, env),
        "code_sha256": code,
        "tags": tags_value(env.tags()),
        "reserved_concurrency": c.reserved_concurrency,
    }))
}

pub async fn read(aws: &Aws, name: &str) -> Result<Option<Live>, AwsError> {
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
    let tags: BTreeMap<String, String> =
        out.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    let arch = cfg.architectures().first().map(|a| a.as_str().to_owned()).unwrap_or_else(|| "x86_64".to_owned());
    let props = json!({
        "name": cfg.function_name(),
        "runtime": cfg.runtime().map(|r| r.as_str()),
        "handler": cfg.handler(),
        "role": cfg.role(),
        "memory_mb": cfg.memory_size(),
        "timeout_s": cfg.timeout(),
        "architecture": arch,
        "environment": env,
        "code_sha256": cfg.code_sha256(),
        "tags": tags_value(&tags),
        "reserved_concurrency": out.concurrency().and_then(|c| c.reserved_concurrent_executions()),
    });
    let arn = cfg.function_arn().unwrap_or_default().to_owned();
    Ok(Some(Live {
        physical: name.to_owned(),
        outputs: BTreeMap::from([("name".to_owned(), name.to_owned()), ("arn".to_owned(), arn)]),
        props,
    }))
}

fn lambda_env(c: &Function, env: &Env<'_>) -> Environment {
    Environment::builder().set_variables(Some(environment(c, env).into_iter().collect())).build()
}

/// IAM is eventually consistent: a role created seconds ago may not be assumable yet.
fn is_role_propagation(e: &AwsError) -> bool {
    e.code_is("InvalidParameterValueException") && e.message.contains("cannot be assumed")
}

pub async fn create(env: &Env<'_>, c: &Function, _desired: &Value) -> Result<Live, ResourceError> {
    let zip = env.artifacts.lambda_zip()?;
    let started = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        let res = env
            .aws
            .lambda
            .create_function()
            .function_name(&c.name)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(env.outputs.get(c.role.id, "arn"))
            .memory_size(c.memory_mb)
            .timeout(c.timeout_s)
            .architectures(Architecture::from(c.architecture))
            .environment(lambda_env(c, env))
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
                return update(env, c, &live, &desired(c, env)?).await;
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
    set_concurrency(env.aws, c, &Value::Null).await?;
    read(env.aws, &c.name)
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("function {} vanished right after it was created", c.name)))
}

/// Puts or removes the function's reserved concurrency when it differs from `live`.
async fn set_concurrency(aws: &Aws, c: &Function, live: &Value) -> Result<(), ResourceError> {
    if *live == serde_json::json!(c.reserved_concurrency) {
        return Ok(());
    }
    match c.reserved_concurrency {
        Some(n) => {
            aws.lambda
                .put_function_concurrency()
                .function_name(&c.name)
                .reserved_concurrent_executions(n)
                .send()
                .await
                .ctx("lambda:PutFunctionConcurrency")?;
        }
        None => {
            aws.lambda
                .delete_function_concurrency()
                .function_name(&c.name)
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
        .map_err(|e| ResourceError::Refused(format!("function {name} did not become Active: {e}")))?;
    Ok(())
}

async fn wait_updated(aws: &Aws, name: &str) -> Result<(), ResourceError> {
    aws.lambda
        .wait_until_function_updated_v2()
        .function_name(name)
        .wait(Duration::from_secs(300))
        .await
        .map_err(|e| ResourceError::Refused(format!("the update of function {name} did not finish: {e}")))?;
    Ok(())
}

pub async fn update(env: &Env<'_>, c: &Function, live: &Live, desired: &Value) -> Result<Live, ResourceError> {
    let aws = env.aws;
    let changed = |k: &str| live.props[k] != desired[k];
    let config_fields = ["runtime", "handler", "role", "memory_mb", "timeout_s", "environment"];
    if config_fields.iter().any(|f| changed(f)) {
        aws.lambda
            .update_function_configuration()
            .function_name(&c.name)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(env.outputs.get(c.role.id, "arn"))
            .memory_size(c.memory_mb)
            .timeout(c.timeout_s)
            .environment(lambda_env(c, env))
            .send()
            .await
            .ctx("lambda:UpdateFunctionConfiguration")?;
        wait_updated(aws, &c.name).await?;
    }
    if changed("code_sha256") || changed("architecture") {
        aws.lambda
            .update_function_code()
            .function_name(&c.name)
            .zip_file(Blob::new(env.artifacts.lambda_zip()?.to_vec()))
            .architectures(Architecture::from(c.architecture))
            .send()
            .await
            .ctx("lambda:UpdateFunctionCode")?;
        wait_updated(aws, &c.name).await?;
    }
    set_concurrency(aws, c, &live.props["reserved_concurrency"]).await?;
    if changed("tags") {
        let arn = live.outputs.get("arn").cloned().unwrap_or_default();
        let removed = super::removed_tags(&live.props["tags"], &desired["tags"]);
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
    read(aws, &c.name)
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("function {} vanished during the update", c.name)))
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

/// Only this API, any stage/method/path of it, may invoke the function.
pub fn source_arn(env: &Env<'_>, api_id: &str) -> String {
    format!("arn:aws:execute-api:{}:{}:{api_id}/*/*/*", env.region(), env.account)
}

/// The service that invokes, and exactly which of its resources may (Lambda's resource-based
/// policy; Cognito's triggers need `cognito-idp.amazonaws.com` with the pool's ARN, Cognito
/// Developer Guide "Customizing user pool workflows with Lambda triggers").
pub fn permission_desired(c: &Permission, env: &Env<'_>) -> Value {
    let (principal, source) = match c.invoker {
        Invoker::Api(api) => ("apigateway.amazonaws.com", source_arn(env, &env.outputs.get(api.id, "id"))),
        Invoker::UserPool(pool) => ("cognito-idp.amazonaws.com", env.outputs.get(pool.id, "arn")),
    };
    json!({
        "statement_id": c.statement_id,
        "action": "lambda:InvokeFunction",
        "principal": principal,
        "source_arn": source,
    })
}

pub async fn permission_read(env: &Env<'_>, c: &Permission) -> Result<Option<Live>, AwsError> {
    let Some(function) = env.outputs.known(c.function.id, "name") else { return Ok(None) };
    let Some(out) = optional(env.aws.lambda.get_policy().function_name(function).send().await.ctx("lambda:GetPolicy"))?
    else {
        return Ok(None);
    };
    let policy: Value = serde_json::from_str(out.policy().unwrap_or("{}")).unwrap_or(Value::Null);
    let Some(st) = policy["Statement"].as_array().and_then(|s| s.iter().find(|s| s["Sid"] == c.statement_id.as_str()))
    else {
        return Ok(None);
    };
    let principal = st["Principal"]["Service"].as_str().or(st["Principal"].as_str()).unwrap_or_default();
    let source = st["Condition"]["ArnLike"]["AWS:SourceArn"].as_str().unwrap_or_default();
    let props = json!({
        "statement_id": c.statement_id,
        "action": st["Action"],
        "principal": principal,
        "source_arn": source,
    });
    Ok(Some(Live { physical: c.statement_id.clone(), props, outputs: BTreeMap::new() }))
}

pub async fn permission_create(env: &Env<'_>, c: &Permission, desired: &Value) -> Result<Live, ResourceError> {
    env.aws
        .lambda
        .add_permission()
        .function_name(env.outputs.get(c.function.id, "name"))
        .statement_id(&c.statement_id)
        .action("lambda:InvokeFunction")
        .principal(desired["principal"].as_str().unwrap_or_default())
        .source_arn(desired["source_arn"].as_str().unwrap_or_default())
        .send()
        .await
        .ctx("lambda:AddPermission")?;
    permission_read(env, c).await?.ok_or_else(|| {
        ResourceError::Refused(format!("permission {} vanished right after it was added", c.statement_id))
    })
}

pub async fn permission_update(
    env: &Env<'_>,
    c: &Permission,
    _live: &Live,
    desired: &Value,
) -> Result<Live, ResourceError> {
    optional(
        env.aws
            .lambda
            .remove_permission()
            .function_name(env.outputs.get(c.function.id, "name"))
            .statement_id(&c.statement_id)
            .send()
            .await
            .ctx("lambda:RemovePermission"),
    )?;
    permission_create(env, c, desired).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::{Artifacts, LambdaZip};
    use crate::config;
    use crate::resources::Outputs;
    use crate::stack::{Construct, image_editor};
    use aws_sdk_lambda::operation::create_function::{CreateFunctionError, CreateFunctionOutput};
    use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
    use aws_sdk_lambda::types::FunctionConfiguration;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn function_and_stack() -> (Function, crate::stack::Stack) {
        let cfg = config::parse("region: us-west-2\n", std::path::Path::new("t.yaml"), "t").expect("config");
        let stack = image_editor(&cfg);
        match stack.node("Function").map(|n| n.construct.clone()) {
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
        let live = create(&env, &f, &Value::Null).await.expect("created after the role propagated");
        assert_eq!(live.physical, "t-edit");
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
        let err = create(&env, &f, &Value::Null).await.expect_err("fails").to_string();
        assert!(err.contains("Unzipped size"), "{err}");
        assert_eq!(denied.num_calls(), 1);
    }
}
