//! `provision status`: each construct against the stack file, and the open-methods check.

use serde_json::json;

use super::{Ctx, whoami};
use crate::artifacts::{self, Artifacts};
use crate::aws::Aws;
use crate::engine::{self, Action};
use crate::error::{CliError, Exit};
use crate::resources::{Env, Resource, rest_api};
use crate::stack::EDITOR;
use crate::state::{StateFile, state_dir};

pub async fn status(ctx: &Ctx) -> Result<Exit, CliError> {
    if let Some(cloud) = &ctx.local {
        ctx.say(format!("local cloud (logs in {}):", cloud.log_dir.display()));
        ctx.say(format!(
            "  moto        {}  pid {:?}{}",
            cloud.moto.endpoint,
            cloud.moto.pid,
            if cloud.moto.ours { "" } else { " (not started by us)" }
        ));
        ctx.say(format!(
            "  stand-ins   {}  pid {:?}  (Amplify + hosting, API Gateway data plane, Lambda runtime, Bedrock runtime)",
            cloud.standins.endpoint, cloud.standins.pid
        ));
        ctx.say("  for the aws CLI:");
        for line in ctx.target.exports() {
            ctx.say(format!("    {line}"));
        }
    }
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let id = whoami(ctx, &aws).await?;
    let state = StateFile::open(&state_dir(&ctx.root), &ctx.config.name).map_err(CliError::State)?;
    if !state.exists() {
        ctx.say(format!("stack `{}`: no state file here (resources are still found by name)", ctx.config.name));
    }
    // Compare against the last deployed code: no rebuild for a status.
    let mut artifacts = Artifacts::default();
    if let Ok(l) = artifacts::build_lambda(&ctx.root, ctx.config.function.architecture, ctx.local.is_none(), false) {
        artifacts.lambda = Some(l);
    }
    if let Ok(s) = artifacts::build_site(&ctx.root, false) {
        artifacts.site = Some(s);
    }
    let stack = ctx.live_stack(&aws).await?;
    let report = engine::plan(&stack, &aws, &id.account, &artifacts, Some(&state)).await.map_err(|e| {
        CliError::Aws(crate::aws::AwsError::new("status", format!("could not compare everything: {e}")))
    })?;
    let resources: Vec<serde_json::Value> = report
        .steps
        .iter()
        .map(|s| {
            let recorded = state.physical(s.id);
            let word = match (&s.action, recorded) {
                (Action::Create, Some(_)) => "missing",
                (Action::Create, None) => "absent",
                (Action::Update { .. }, _) => "drifted",
                (Action::NoChange, None) => "exists-not-in-state",
                (Action::NoChange, Some(_)) => "in-sync",
            };
            let changes: Vec<serde_json::Value> = match &s.action {
                Action::Update { changes } => {
                    changes.iter().map(|c| json!({"field": c.field, "live": c.from, "stack": c.to})).collect()
                }
                _ => Vec::new(),
            };
            json!({"id": s.id, "kind": s.kind, "state": word, "physical": s.physical.as_deref().or(recorded),
                   "changes": changes})
        })
        .collect();
    let drift = resources.iter().filter(|r| r["state"] != "in-sync").count();
    // The security check: every non-OPTIONS method must be behind the authorizer.
    let env = Env { aws: &aws, stack: &stack, account: &id.account, outputs: &report.outputs, artifacts: &artifacts };
    let mut open = Vec::new();
    if let Ok(api) = stack.resolve("status", EDITOR.api)
        && let Ok(Some(live)) = api.read(&env, state.physical(EDITOR.api.id)).await
    {
        open = rest_api::unauthenticated_methods(&live);
    }
    let doc = json!({
        "stack": ctx.config.name,
        "localCloud": ctx.local.as_ref().map(|c| json!({"moto": c.moto.endpoint, "standIns": c.standins.endpoint,
                                                         "logs": c.log_dir, "exports": ctx.target.exports()})),
        "resources": resources,
        "unauthenticatedMethods": open,
    });
    ctx.printer().document(&doc, |out| {
        for r in &resources {
            let word = match r["state"].as_str().unwrap_or_default() {
                "missing" => "MISSING (in state, not in AWS)",
                "exists-not-in-state" => "exists (not in state: `up` adopts it)",
                "in-sync" => "in sync",
                other => other,
            };
            let name = r["physical"].as_str().unwrap_or("-");
            writeln!(
                out,
                "{:<20} {:<28} {:<36} {name}",
                r["id"].as_str().unwrap_or_default(),
                r["kind"].as_str().unwrap_or_default(),
                word
            )?;
            for c in r["changes"].as_array().into_iter().flatten() {
                let field = c["field"].as_str().unwrap_or_default();
                writeln!(out, "    {field}: live {} ≠ stack {}", c["live"], c["stack"])?;
            }
        }
        for m in &open {
            writeln!(out, "! {m} is reachable without a Cognito token (authorizationType is not COGNITO_USER_POOLS)")?;
        }
        Ok(())
    });
    Ok(if drift == 0 && open.is_empty() { Exit::Ok } else { Exit::ChangesPending })
}
