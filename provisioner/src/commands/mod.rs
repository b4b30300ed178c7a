//! The commands, on resolved settings: one file per command (or family), each on a [`Ctx`].

mod cloudformation;
mod diff;
mod doctor;
mod down;
mod outputs;
mod status;
mod template;
mod up;
mod watch;

pub use cloudformation::*;
pub use diff::*;
pub use doctor::*;
pub use down::*;
pub use outputs::*;
pub use status::*;
pub use template::*;
pub use up::*;
pub use watch::*;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::artifacts::{self, Artifacts};
use crate::aws::{Aws, Identity};
use crate::config::StackConfig;
use crate::error::CliError;
use crate::local::LocalCloud;
use crate::models::ModelAccess;
use crate::printer::Printer;
use crate::progress::Progress;
use crate::stack::{self, Stack};
use crate::state::StateFile;
use crate::target::Target;

/// Everything a command needs, resolved from the command line.
pub struct Ctx {
    pub root: PathBuf,
    pub config: StackConfig,
    pub json: bool,
    /// The running local cloud (`--local`), when there is one.
    pub local: Option<LocalCloud>,
    /// Where the commands act (built from the two above in `main`).
    pub target: Target,
}

impl Ctx {
    fn stack(&self) -> Stack {
        stack::image_editor(&self.config)
    }

    /// The stack with the destination regions of its inference profiles as AWS reports them
    /// (GetInferenceProfile), for everything that creates or compares the role.
    async fn live_stack(&self, aws: &Aws) -> Result<Stack, CliError> {
        let mut stack = self.stack();
        let access = ModelAccess::read(aws, &self.config).await.map_err(CliError::Aws)?;
        stack.set_model_access(&access);
        Ok(stack)
    }

    fn progress(&self) -> Progress {
        Progress::new(self.json)
    }

    /// The one way a command writes to the terminal.
    pub(crate) fn printer(&self) -> Printer {
        Printer::new(self.json)
    }

    /// A note on stderr (silent under `--json`).
    fn say(&self, line: impl AsRef<str>) {
        self.printer().note(line);
    }
}

async fn whoami(ctx: &Ctx, aws: &Aws) -> Result<Identity, CliError> {
    let id = aws.identity().await.map_err(CliError::Aws)?;
    let target = if ctx.local.is_some() { " (local cloud)" } else { "" };
    ctx.say(format!("account {}  region {}{target}  caller {}", id.account, id.region, id.arn));
    Ok(id)
}

fn check_identity(state: &StateFile, id: &Identity, force: bool) -> Result<(), CliError> {
    let s = &state.state;
    if s.account.is_empty() || force {
        return Ok(());
    }
    if s.account != id.account || s.region != id.region {
        return Err(CliError::Usage(format!(
            "state {} belongs to account {} in {}, but these credentials are account {} in {}; use the right profile/region, or --force",
            state.path.display(),
            s.account,
            s.region,
            id.account,
            id.region
        )));
    }
    Ok(())
}

fn build_artifacts(ctx: &Ctx, no_build: bool) -> Result<Artifacts, CliError> {
    let for_aws = ctx.local.is_none();
    ctx.say(if no_build {
        "taking the last build of the function (lambda/) …"
    } else {
        "building the function (lambda/) …"
    });
    let lambda = artifacts::build_lambda(&ctx.root, ctx.config.function.architecture, for_aws, !no_build)
        .map_err(CliError::Artifact)?;
    ctx.say(format!(
        "  bootstrap: {} ({} KB zipped, {:?}, highest glibc {})",
        lambda.binary.display(),
        lambda.bytes.len() / 1024,
        lambda.elf.architecture,
        lambda.elf.max_glibc.map(|(a, b)| format!("{a}.{b}")).unwrap_or_else(|| "none (static)".into())
    ));
    ctx.say("building the web app (frontend/) …");
    let site = artifacts::build_site(&ctx.root, !no_build).map_err(CliError::Artifact)?;
    ctx.say(format!("  site: {} files from {}", site.files.len(), site.root.display()));
    Ok(Artifacts { lambda: Some(lambda), site: Some(site) })
}

fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            f.store(true, Ordering::SeqCst);
            eprintln!("\ninterrupt received: finishing the calls in flight and saving state (Ctrl-C again to abort)");
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    flag
}

/// Bedrock's word on each model's lifecycle, before anything is created: LEGACY is said, past its
/// end of life is refused (the stack file's own check knows only the catalogue's dates).
async fn check_lifecycles(ctx: &Ctx, aws: &Aws) -> Result<(), CliError> {
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let lines = crate::doctor::lifecycle_lines(aws, &ctx.config.models, &ctx.config.region, &today)
        .await
        .map_err(CliError::Usage)?;
    for l in lines {
        ctx.say(format!("model lifecycle: {l}"));
    }
    Ok(())
}

/// Every Marketplace model the stack uses subscribed before anything is created, so that the
/// class's first edit is not refused (subscription.rs says why the function cannot do it).
async fn subscribe_models(ctx: &Ctx, aws: &Aws) -> Result<(), CliError> {
    let say = |l: String| ctx.say(l);
    let lines =
        crate::subscription::ensure(aws, &ctx.config.models, &ctx.config.region, crate::subscription::WAIT, &say)
            .await
            .map_err(CliError::ModelAccess)?;
    for l in lines {
        ctx.say(format!("model access: {l}"));
    }
    Ok(())
}
