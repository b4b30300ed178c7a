//! `provision up`: converge the stack, then print its outputs (and, on the local cloud, a demo login).

use std::time::Duration;

use serde_json::json;

use super::{
    Ctx, build_artifacts, check_identity, check_lifecycles, interrupt_flag,
    outputs::{DemoUser, print_outputs},
    subscribe_models, whoami,
};
use crate::aws::{Aws, AwsError};
use crate::engine::{self};
use crate::error::{CliError, Exit};
use crate::local::{self};
use crate::resources::Outputs;
use crate::stack::{EDITOR, UserPool};
use crate::state::{StateFile, state_dir};

pub async fn up(ctx: &Ctx, force: bool, no_build: bool) -> Result<Exit, CliError> {
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let id = whoami(ctx, &aws).await?;
    let state = StateFile::open(&state_dir(&ctx.root), &ctx.config.name).map_err(CliError::State)?;
    check_identity(&state, &id, force)?;
    let artifacts = build_artifacts(ctx, no_build)?;
    let stack = ctx.live_stack(&aws).await?;
    stack.validate().map_err(CliError::Usage)?;
    // The account's room for the class and for `function.reserved_concurrency`, before anything
    // is created (Lambda refuses a reservation it cannot give only once the function exists).
    // Not readable (no lambda:GetAccountSettings permission, or an emulator without it): said,
    // and Lambda itself remains the judge of a reservation.
    let function = crate::stack::Names::function(&ctx.config.name);
    match crate::capacity::read(&aws, &function).await {
        Ok(capacity) => {
            let reserved = ctx.config.function.reserved_concurrency;
            capacity.check_reservation(reserved, &ctx.config.region).map_err(CliError::Usage)?;
            ctx.say(format!("capacity: {}", capacity.summary(reserved, &ctx.config.region).1));
        }
        Err(e) => ctx.say(format!("capacity: not read ({e}); Lambda's concurrency is not checked")),
    }
    for l in crate::capacity::bedrock_lines(&aws, &ctx.config.models, &ctx.config.region).await {
        ctx.say(format!("bedrock quota: {l}"));
    }
    subscribe_models(ctx, &aws).await?;
    check_lifecycles(ctx, &aws).await?;
    let state = std::sync::Mutex::new(state);
    if let Ok(mut s) = state.lock() {
        s.state.account = id.account.clone();
        s.state.region = id.region.clone();
        s.save().map_err(CliError::State)?;
    }
    let progress = ctx.progress();
    let started = std::time::Instant::now();
    ctx.say(format!("stack {} → {}", ctx.config.name, if ctx.local.is_some() { "local cloud" } else { "AWS" }));
    let report = engine::apply(&stack, &aws, &id.account, &artifacts, &state, &progress, interrupt_flag()).await;
    let elapsed = started.elapsed();
    let mutating = aws.calls.mutating().len();
    if ctx.json {
        let calls = aws.calls.calls();
        let per_node = |id: &str| calls.iter().filter(|c| c.node == id).count() as u64;
        let (path, path_calls) = stack.critical_path_weighted(per_node);
        // The same bound in time: each construct weighs what its (sequential) calls took, so the
        // service's own time per call counts, not only the network's.
        let node_ms =
            |id: &str| calls.iter().filter(|c| c.node == id).filter_map(|c| c.duration).sum::<Duration>().as_millis();
        let (time_path, path_ms) = stack.critical_path_weighted(|id| node_ms(id) as u64);
        let mut by_operation = std::collections::BTreeMap::<String, usize>::new();
        for c in &calls {
            *by_operation.entry(format!("{}:{}", c.service, c.operation)).or_default() += 1;
        }
        ctx.printer().line(
            &json!({"event": "summary", "wall_ms": elapsed.as_millis(), "calls": calls.len(), "mutating_calls": mutating,
                   "critical_path": path, "critical_path_calls": path_calls,
                   "critical_path_by_time": time_path, "critical_path_ms": path_ms, "by_operation": by_operation}),
        );
    }
    if let Some(e) = &report.save_error {
        return Err(CliError::Io(std::io::Error::other(format!(
            "the state file could not be saved ({e}); what was created exists, and the next `provision up` finds it by name"
        ))));
    }
    if report.interrupted {
        ctx.say("interrupted: state saved; run `provision up` again to finish");
        return Ok(Exit::Interrupted);
    }
    let failed = report.failed();
    if !failed.is_empty() {
        let code = if report.changed() > 0 { Exit::Partial } else { Exit::AwsFailure };
        ctx.say(format!(
            "{} of {} resources failed; fix the cause and run `provision up` again (it resumes)",
            failed.len(),
            stack.nodes.len()
        ));
        return Ok(code);
    }
    if report.changed() == 0 {
        ctx.say(format!(
            "no changes ({} resources checked in {:.1}s, {mutating} mutating calls)",
            report.steps.len(),
            elapsed.as_secs_f64()
        ));
    } else {
        ctx.say(format!(
            "{} resources changed in {:.1}s ({mutating} mutating calls)",
            report.changed(),
            elapsed.as_secs_f64()
        ));
    }
    let demo = match &ctx.local {
        Some(_) => Some(ensure_demo_user(&aws, &report.outputs, &ctx.config.name).await.map_err(CliError::Aws)?),
        None => None,
    };
    print_outputs(ctx, &report.outputs, demo);
    // A class whose people together may make more than the stack allows runs out early: said
    // once the pool is known (not read: not a reason to fail a finished `up`).
    if let Some(pool) = report.outputs.known(crate::stack::EDITOR.pool, crate::stack::UserPool::ID)
        && let Ok(people) = crate::users::count_users(&aws, pool).await
        && let Some(warning) = crate::users::limits_warning(people, &ctx.config.limits, &ctx.config.source)
    {
        ctx.say(format!("warning: {warning}"));
    }
    Ok(Exit::Ok)
}

/// The local cloud's demo user: created (or reset) with a permanent password.
async fn ensure_demo_user(aws: &Aws, outputs: &Outputs, stack: &str) -> Result<DemoUser, AwsError> {
    use crate::aws::Ctx as _;
    use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType};
    let pool = outputs.known(EDITOR.pool, UserPool::ID).unwrap_or_default().to_owned();
    let email = format!("demo@{stack}.local");
    let created = aws
        .cognito
        .admin_create_user()
        .user_pool_id(&pool)
        .username(&email)
        .message_action(MessageActionType::Suppress)
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value(&email)
                .build()
                .map_err(|e| AwsError::new("cognito", e.to_string()))?,
        )
        .user_attributes(
            AttributeType::builder()
                .name("email_verified")
                .value("true")
                .build()
                .map_err(|e| AwsError::new("cognito", e.to_string()))?,
        )
        .send()
        .await
        .ctx("cognito-idp:AdminCreateUser");
    if let Err(e) = created
        && !e.code_is("UsernameExistsException")
    {
        return Err(e);
    }
    aws.cognito
        .admin_set_user_password()
        .user_pool_id(&pool)
        .username(&email)
        .password(local::DEMO_PASSWORD)
        .permanent(true)
        .send()
        .await
        .ctx("cognito-idp:AdminSetUserPassword")?;
    Ok(DemoUser { email, password: local::DEMO_PASSWORD.to_owned() })
}
