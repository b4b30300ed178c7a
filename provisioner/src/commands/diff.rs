//! `provision diff`: what `up` would change.

use super::{Ctx, build_artifacts, whoami};
use crate::aws::Aws;
use crate::engine::{self, Action, Report};
use crate::error::{CliError, Exit};
use crate::state::{StateFile, state_dir};

/// The plan: one JSON line per construct under `--json`, a table otherwise.
fn print_plan(ctx: &Ctx, report: &Report) {
    let printer = ctx.printer();
    if printer.json() {
        report.steps.iter().for_each(|s| printer.line(s));
        return;
    }
    printer.human(|out| {
        for s in &report.steps {
            let sign = match s.action {
                Action::Create => "+",
                Action::Update { .. } => "~",
                Action::NoChange => "=",
            };
            writeln!(out, "{sign} {:<20} {:<28} {:<10} {}", s.id, s.kind, s.action.label(), s.name)?;
            if let Action::Update { changes } = &s.action {
                for c in changes {
                    writeln!(out, "    {}: {} → {}", c.field, c.from, c.to)?;
                }
            }
            if s.touches_iam() {
                writeln!(out, "    ! IAM change: review the role's permissions above before applying")?;
            }
        }
        Ok(())
    });
}

pub async fn diff(ctx: &Ctx, no_build: bool) -> Result<Exit, CliError> {
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let id = whoami(ctx, &aws).await?;
    let state = StateFile::open(&state_dir(&ctx.root), &ctx.config.name).map_err(CliError::State)?;
    let artifacts = build_artifacts(ctx, no_build)?;
    let stack = ctx.live_stack(&aws).await?;
    let report = engine::plan(&stack, &aws, &id.account, &artifacts, Some(&state)).await.map_err(CliError::Resource)?;
    print_plan(ctx, &report);
    let pending = report.steps.iter().filter(|s| s.action != Action::NoChange).count();
    ctx.say(if pending == 0 { "no changes".to_owned() } else { format!("{pending} resources would change") });
    Ok(if pending == 0 { Exit::Ok } else { Exit::ChangesPending })
}
