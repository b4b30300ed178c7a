//! `--engine cloudformation`: the synthesized template through CloudFormation.

use serde_json::json;

use super::{
    Ctx, build_artifacts, check_identity, check_lifecycles,
    down::{confirm, said_left_behind},
    outputs::print_outputs,
    subscribe_models, whoami,
};
use crate::aws::Aws;
use crate::error::{CliError, Exit};
use crate::resources::{Outputs, Resource};
use crate::stack::{AmplifyBranch, EDITOR, RestApi, STACK_OUTPUTS};
use crate::state::{StateFile, state_dir};
use crate::teardown;
use crate::{cfn, synth};

/// Why `--engine cloudformation` does not run on the local cloud.
pub const CFN_NOT_LOCAL: &str = "--engine cloudformation needs AWS CloudFormation: moto's CloudFormation reports \
    Cognito, the API authorizer, the stage and Amplify as created without creating them (docs/cloudformation.md). \
    On the local cloud use the default engine.";

fn cfn_refuse_local(ctx: &Ctx) -> Result<(), CliError> {
    if ctx.local.is_some() {
        return Err(CliError::Usage(CFN_NOT_LOCAL.into()));
    }
    Ok(())
}

fn cfn_printers(ctx: &Ctx) -> (impl FnMut(&cfn::Change) + Send + use<>, impl FnMut(&cfn::StackEvent) + Send + use<>) {
    let printer = ctx.printer();
    let on_change = move |c: &cfn::Change| {
        if printer.json() {
            printer.line(&json!({"event": "change", "change": c}));
        } else {
            let replace = match c.replacement.as_deref() {
                Some("True") => "  (replacement)",
                Some("Conditional") => "  (may be replaced)",
                _ => "",
            };
            let iam = if c.kind.starts_with("AWS::IAM::") { "  ! IAM change" } else { "" };
            eprintln!("  {:<8} {:<34} {}{replace}{iam}", c.action, c.logical_id, c.kind);
        }
    };
    let on_event = move |e: &cfn::StackEvent| {
        if printer.json() {
            printer.line(&json!({"event": "stack_event", "stack_event": e}));
        } else {
            let reason = e.reason.as_deref().map(|r| format!("  {r}")).unwrap_or_default();
            eprintln!("  {}  {:<34} {:<36} {}{reason}", e.time, e.logical_id, e.kind, e.status);
        }
    };
    (on_change, on_event)
}

/// `up --engine cloudformation`: the synthesized template through a change set, then the site.
pub async fn up_cloudformation(ctx: &Ctx, force: bool, no_build: bool) -> Result<Exit, CliError> {
    cfn_refuse_local(ctx)?;
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let id = whoami(ctx, &aws).await?;
    let mut state = StateFile::open(&state_dir(&ctx.root), &ctx.config.name).map_err(CliError::State)?;
    check_identity(&state, &id, force)?;
    let artifacts = build_artifacts(ctx, no_build)?;
    let stack = ctx.live_stack(&aws).await?;
    stack.validate().map_err(CliError::Usage)?;
    subscribe_models(ctx, &aws).await?;
    check_lifecycles(ctx, &aws).await?;
    let template = synth::to_yaml(&synth::template(&stack, &aws)?)?;
    let started = std::time::Instant::now();

    let zip = artifacts.lambda_zip().map_err(CliError::Artifact)?;
    let (bucket, key) = cfn::upload_function(&aws, &ctx.config.name, &id.account, zip).await.map_err(CliError::Aws)?;
    ctx.say(format!("function zip: s3://{bucket}/{key}"));
    let name = cfn::stack_name(&ctx.config.name);
    ctx.say(format!("CloudFormation stack {name}: change set"));
    let (mut on_change, mut on_event) = cfn_printers(ctx);
    let params = [(synth::CODE_BUCKET_PARAM, bucket.clone()), (synth::CODE_KEY_PARAM, key)];
    let req = cfn::DeployRequest {
        name: &name,
        template: &template,
        template_bucket: &bucket,
        parameters: &params,
        tags: &ctx.config.tags,
    };
    let deployed = cfn::deploy(&aws, &req, &mut on_change, &mut on_event).await?;
    if deployed.changes.is_empty() {
        ctx.say("the CloudFormation stack is up to date");
    }

    // The stack's outputs in the engine's terms (stack::STACK_OUTPUTS says which is which),
    // then what CloudFormation does not do: the site.
    let mut outputs = Outputs::default();
    for o in STACK_OUTPUTS {
        if let Some(v) = deployed.outputs.get(o.name) {
            outputs.insert_output(o, v.clone());
        }
    }
    // Known from the stack file rather than from an output.
    outputs.insert(EDITOR.api, RestApi::STAGE, ctx.config.api.stage.clone());
    outputs.insert(EDITOR.branch, AmplifyBranch::NAME, ctx.config.frontend.branch.clone());
    if let Ok(site) = stack.resolve("up", EDITOR.site) {
        let env = crate::resources::Env {
            aws: &aws,
            stack: &stack,
            account: &id.account,
            outputs: &outputs,
            artifacts: &artifacts,
        };
        let want = site.desired(&env).map_err(CliError::Resource)?;
        let mut live = site.read(&env, None).await.map_err(CliError::Resource)?;
        if live.as_ref().map(|l| &l.props) != Some(&want) {
            ctx.say("deploying the site to the Amplify branch");
            let physical = site.create(&env, &want).await.map_err(CliError::Resource)?;
            live = site.read(&env, Some(&physical)).await.map_err(CliError::Resource)?;
        }
        if let Some(l) = live {
            outputs.set(EDITOR.site.id, l.outputs);
        }
    }
    state.state.account = id.account.clone();
    state.state.region = id.region.clone();
    state.state.outputs = outputs.clone();
    state.save().map_err(CliError::State)?;
    ctx.say(format!("{} CloudFormation changes in {:.1}s", deployed.changes.len(), started.elapsed().as_secs_f64()));
    print_outputs(ctx, &outputs, None);
    Ok(Exit::Ok)
}

/// `down --engine cloudformation`: delete the stack, then the asset bucket and whatever of the
/// stack the template does not own (log groups created by Lambda or API Gateway, anything
/// CloudFormation retained), then the left-behind check.
pub async fn down_cloudformation(ctx: &Ctx, yes: bool, force: bool) -> Result<Exit, CliError> {
    cfn_refuse_local(ctx)?;
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let id = whoami(ctx, &aws).await?;
    let state = StateFile::open(&state_dir(&ctx.root), &ctx.config.name).map_err(CliError::State)?;
    check_identity(&state, &id, force)?;
    let name = cfn::stack_name(&ctx.config.name);
    let exists = cfn::status(&aws, &name).await.map_err(CliError::Aws)?.is_some();
    if exists && !yes && !confirm(ctx, &format!("delete CloudFormation stack {name}"))? {
        ctx.say("not confirmed: nothing deleted");
        return Ok(Exit::Usage);
    }
    let (_, mut on_event) = cfn_printers(ctx);
    let stack_deleted = cfn::delete(&aws, &name, &mut on_event).await?;
    if stack_deleted {
        ctx.say(format!("CloudFormation stack {name} deleted"));
    } else {
        ctx.say(format!("no CloudFormation stack {name}"));
    }
    let bucket = cfn::asset_bucket(&ctx.config.name, &id.account, &aws.region);
    let bucket_deleted = cfn::delete_assets(&aws, &ctx.config.name, &id.account).await.map_err(CliError::Aws)?;
    if bucket_deleted {
        ctx.say(format!("deleted the asset bucket {bucket}"));
    }
    let state_ref = state.exists().then_some(&state);
    let progress = ctx.progress();
    let report = teardown::down(&aws, &ctx.config.name, state_ref, &progress).await;
    for d in &report.deleted {
        ctx.say(format!("deleted what the stack did not: {} {}", d.kind, d.id));
    }
    if said_left_behind(ctx, &report) {
        return Ok(Exit::LeftBehind);
    }
    if !report.errors.is_empty() {
        ctx.say(format!(
            "the errors above leave it open whether anything of stack `{}` is left: fix them and run `down` again",
            ctx.config.name
        ));
        return Ok(Exit::AwsFailure);
    }
    ctx.say(format!("nothing of stack `{}` is left", ctx.config.name));
    // Under --json, the direct engine's closing document, with what only this engine deletes.
    if ctx.json {
        ctx.printer().line(&json!({
            "event": "done",
            "deleted": report.deleted.len(),
            "leftBehind": [],
            "cloudFormationStack": {"name": name, "deleted": stack_deleted},
            "assetBucket": {"name": bucket, "deleted": bucket_deleted},
            "sweptAfterTheStack": report.deleted,
        }));
    }
    state.remove().map_err(CliError::State)?;
    Ok(Exit::Ok)
}
