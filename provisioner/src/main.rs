use std::process::ExitCode;

use clap::Parser;

use provisioner::cli::{AppCommand, Cli, Command, Engine, Global, UsersAction};
use provisioner::commands::{self, Ctx};
use provisioner::config;
use provisioner::error::{CliError, Exit};
use provisioner::local::LocalCloud;
use provisioner::target::Target;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PROVISION_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let json = cli.global.json;
    match run(cli) {
        Ok(code) => code.into(),
        Err(e) => {
            if json {
                // stdout stays JSON whatever happens; the readable report still goes to stderr.
                provisioner::printer::Printer::new(true).line(&e.to_json());
            }
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            e.exit().into()
        }
    }
}

fn runtime(multi: bool) -> Result<tokio::runtime::Runtime, CliError> {
    let mut b =
        if multi { tokio::runtime::Builder::new_multi_thread() } else { tokio::runtime::Builder::new_current_thread() };
    Ok(b.enable_all().build()?)
}

fn run(cli: Cli) -> Result<Exit, CliError> {
    match cli.command {
        Command::LocalServe { port, moto, log_dir } => {
            let cfg = localcloud::StandInConfig { port, moto, log_dir };
            runtime(true)?.block_on(localcloud::serve(cfg))?;
            Ok(Exit::Ok)
        }
        Command::App(command) => run_app(cli.global, command),
    }
}

/// Runs one of the app's commands on the stack the global flags name.
fn run_app(global: Global, command: AppCommand) -> Result<Exit, CliError> {
    let cwd = std::env::current_dir()?;
    let root = config::project_root(&cwd).ok_or_else(|| {
        CliError::Usage(format!("{} is not inside the project (no stacks/ and Cargo.toml above it)", cwd.display()))
    })?;
    let path = match &global.stack_file {
        Some(p) => p.clone(),
        None => {
            config::validate_stack_name(&global.stack).map_err(|m| CliError::Usage(format!("--stack {m}")))?;
            config::stack_path(&root, &global.stack)
        }
    };
    let purpose =
        if matches!(command, AppCommand::Down { .. }) { config::Purpose::Teardown } else { config::Purpose::Deploy };
    let mut config = config::load_for(&path, purpose)?;
    config.local = global.local;

    // The local cloud is found (or started) on a short-lived single-threaded runtime; the commands
    // get its endpoints as their `Target`.
    if global.local
        && matches!(
            command,
            AppCommand::Up { engine: Engine::Cloudformation, .. }
                | AppCommand::Down { engine: Engine::Cloudformation, .. }
        )
    {
        return Err(CliError::Usage(provisioner::commands::CFN_NOT_LOCAL.into()));
    }
    let local = if global.local {
        let exe = std::env::current_exe()?;
        let rt = runtime(false)?;
        let cloud = match command {
            AppCommand::Up { .. } => Some(rt.block_on(LocalCloud::ensure(&root, &exe))?),
            _ => rt.block_on(LocalCloud::find(&root)),
        };
        drop(rt);
        // Never fall through to AWS: without a running local cloud, only `down` (nothing to
        // delete) and `synth` (no calls) make sense.
        if cloud.is_none() && !matches!(command, AppCommand::Down { .. } | AppCommand::Synth { .. }) {
            return Err(CliError::Usage(
                "the local cloud is not running: start it with `provision up --local` (`--local` never falls back to AWS)"
                    .into(),
            ));
        }
        cloud
    } else {
        None
    };
    let target = if global.local { Target::local(local.as_ref()) } else { Target::Aws };
    let ctx = Ctx { root, config, json: global.json, local, target };
    let rt = runtime(true)?;
    rt.block_on(async {
        match command {
            AppCommand::Up { force, no_build, engine: Engine::Direct } => commands::up(&ctx, force, no_build).await,
            AppCommand::Up { force, no_build, engine: Engine::Cloudformation } => {
                commands::up_cloudformation(&ctx, force, no_build).await
            }
            AppCommand::Down { yes, dry_run: false, force, engine: Engine::Cloudformation } => {
                commands::down_cloudformation(&ctx, yes, force).await
            }
            // A dry run lists the stack's resources by name and tags, whichever engine made them.
            AppCommand::Down { yes, dry_run, force, engine: _ } => commands::down(&ctx, yes, dry_run, force).await,
            AppCommand::Synth { output } => commands::synth(&ctx, output.as_deref()).await,
            AppCommand::Diff { no_build } => commands::diff(&ctx, no_build).await,
            AppCommand::Status => commands::status(&ctx).await,
            AppCommand::Outputs => commands::outputs(&ctx).await,
            AppCommand::Doctor => commands::doctor(&ctx).await,
            AppCommand::Policy { account } => commands::policy(&ctx, account).await,
            AppCommand::Token { username } => provisioner::session::token(&ctx, username).await,
            AppCommand::Logs { since, follow } => provisioner::session::logs(&ctx, since, follow).await,
            AppCommand::Watch { interval, once } => commands::watch(&ctx, interval, once).await,
            AppCommand::Users { action: UsersAction::Add { emails, csv, resend, handout } } => {
                provisioner::users::add(&ctx, emails, csv.as_deref(), resend, handout.as_deref()).await
            }
            AppCommand::Users { action: UsersAction::List } => provisioner::users::list(&ctx).await,
            AppCommand::Users { action: UsersAction::Remove { emails } } => {
                provisioner::users::remove(&ctx, emails).await
            }
        }
    })
}
