//! `provision down`: delete in the documented order, then check nothing is left behind.

use std::io::{IsTerminal, Write};

use serde_json::json;

use super::{Ctx, check_identity, whoami};
use crate::aws::Aws;
use crate::error::{CliError, Exit};
use crate::progress::Event;
use crate::state::{StateFile, state_dir};
use crate::target::Target;
use crate::teardown;

pub(super) fn confirm(ctx: &Ctx, what: &str) -> Result<bool, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!(
            "{what}: refusing without confirmation; pass --yes to proceed non-interactively"
        )));
    }
    eprint!("{what}? Type the stack name ({}) to confirm: ", ctx.config.name);
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(line.trim() == ctx.config.name)
}

pub async fn down(ctx: &Ctx, yes: bool, dry_run: bool, force: bool) -> Result<Exit, CliError> {
    let printer = ctx.printer();
    if dry_run {
        printer.human(|out| {
            writeln!(out, "Teardown order for stack `{}`:", ctx.config.name)?;
            write!(out, "{}", teardown::describe(&ctx.config.name))
        });
    }
    let Some(aws) = down_target(ctx).await else {
        ctx.say("the local cloud is not running: nothing of the stack exists");
        let doc = if dry_run {
            json!({"order": teardown::order(&ctx.config.name), "wouldDelete": []})
        } else {
            json!({"event": "done", "deleted": 0, "leftBehind": []})
        };
        printer.document(&doc, |_| Ok(()));
        return Ok(Exit::Ok);
    };
    let id = whoami(ctx, &aws).await?;
    let state = StateFile::open(&state_dir(&ctx.root), &ctx.config.name).map_err(CliError::State)?;
    check_identity(&state, &id, force)?;
    let state_ref = state.exists().then_some(&state);
    let present = teardown::left_behind(&aws, &ctx.config.name, state_ref).await.map_err(CliError::Aws)?;
    if dry_run {
        printer.document(&json!({"order": teardown::order(&ctx.config.name), "wouldDelete": present}), |out| {
            writeln!(out, "\nWould delete:")?;
            for l in &present {
                writeln!(out, "  {:<46} {}", l.kind, l.id)?;
            }
            if present.is_empty() {
                writeln!(out, "  nothing: no resource of the stack exists")?;
            }
            Ok(())
        });
        return Ok(Exit::Ok);
    }
    if !yes
        && !present.is_empty()
        && !confirm(ctx, &format!("delete {} resources of stack `{}`", present.len(), ctx.config.name))?
    {
        ctx.say("not confirmed: nothing deleted");
        return Ok(Exit::Usage);
    }
    let progress = ctx.progress();
    let report = teardown::down(&aws, &ctx.config.name, state_ref, &progress).await;
    if said_left_behind(ctx, &report) {
        return Ok(Exit::LeftBehind);
    }
    if !report.errors.is_empty() {
        ctx.say(format!(
            "{} deleted, but the errors above leave it open whether anything of stack `{}` is left: fix them and run `down` again",
            report.deleted.len(),
            ctx.config.name
        ));
        return Ok(Exit::AwsFailure);
    }
    ctx.say(format!("nothing of stack `{}` is left ({} deleted)", ctx.config.name, report.deleted.len()));
    progress.emit(Event::info("left-behind check: nothing left"));
    if ctx.json {
        printer.line(&json!({"event": "done", "deleted": report.deleted.len(), "leftBehind": []}));
    }
    state.remove().map_err(CliError::State)?;
    if let Some(cloud) = &ctx.local {
        for p in cloud.stop(&ctx.root) {
            ctx.say(format!("stopped {p}"));
        }
    }
    Ok(Exit::Ok)
}

/// Says the errors of a teardown and what it left behind (an event under `--json`); true when
/// something is left.
pub(super) fn said_left_behind(ctx: &Ctx, report: &teardown::DownReport) -> bool {
    for e in &report.errors {
        ctx.say(format!("error: {e}"));
    }
    if report.left_behind.is_empty() {
        return false;
    }
    ctx.say("left behind (still present):");
    for l in &report.left_behind {
        ctx.say(format!("  {:<46} {}", l.kind, l.id));
    }
    if ctx.json {
        ctx.printer().line(&json!({"event": "left_behind", "resources": report.left_behind}));
    }
    true
}

async fn down_target(ctx: &Ctx) -> Option<Aws> {
    if let Target::Local(None) = ctx.target {
        return None;
    }
    Some(Aws::load(&ctx.config.region, &ctx.target).await)
}
