//! Command-line definitions (clap). `main` resolves the global flags and the stack file into a
//! [`crate::commands::Ctx`] and calls one command function with the subcommand's arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "provision",
    version,
    about = "Stand the serverless image editor up on AWS (or on the local cloud) and tear it down",
    long_about = "Stand the serverless image editor up on AWS (or on the local cloud) and tear it down.\n\n\
        Cognito user pool → IAM role → DynamoDB table → Lambda → API Gateway (Cognito authorizer) → Amplify app.\n\
        Credentials and region come from the standard AWS chain; AWS_ENDPOINT_URL[_SERVICE] is honoured.",
    after_help = crate::error::exit_codes_help()
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Stack to act on: its settings are stacks/<STACK>.yaml.
    #[arg(long, global = true, default_value = "dev", env = "PROVISION_STACK")]
    pub stack: String,
    /// Settings file to use instead of stacks/<STACK>.yaml.
    #[arg(long, global = true, value_name = "FILE")]
    pub stack_file: Option<PathBuf>,
    /// Run against the local cloud on this machine (moto + the project's stand-ins) instead of AWS.
    #[arg(long, global = true)]
    pub local: bool,
    /// Machine-readable output: NDJSON progress events / JSON results on stdout.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    // The app's commands, listed by `--help` in their order; the hidden `local-serve` comes after.
    #[command(flatten)]
    App(AppCommand),
    /// Run the local cloud's stand-ins in the foreground (started for you by `up --local`).
    #[command(hide = true)]
    LocalServe {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        moto: String,
        #[arg(long)]
        log_dir: PathBuf,
    },
}

/// The commands that act on a stack (everything but the hidden `local-serve`).
#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create or update every resource of the stack (idempotent; resumes an interrupted run).
    Up {
        /// Proceed although the state file names another account or region.
        #[arg(long)]
        force: bool,
        /// Who creates the resources: this tool's own engine, or CloudFormation (the template of `synth`).
        #[arg(long, value_enum, default_value_t = Engine::Direct)]
        engine: Engine,
        /// Deploy the existing builds (frontend/dist, the last bootstrap) without rebuilding.
        #[arg(long)]
        no_build: bool,
    },
    /// Delete every resource of the stack in the documented order, then check nothing is left.
    Down {
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Print the teardown order and what would be deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Proceed although the state file names another account or region.
        #[arg(long)]
        force: bool,
        /// The engine the stack was stood up with (`up --engine`).
        #[arg(long, value_enum, default_value_t = Engine::Direct)]
        engine: Engine,
    },
    /// Write the stack as a CloudFormation template (YAML), rendered from the same constructs as `up`.
    Synth {
        /// Write the template to FILE instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Show what `up` would create, update (field by field) or leave; exit 6 when changes are pending.
    Diff {
        /// Compare with the existing builds instead of rebuilding.
        #[arg(long)]
        no_build: bool,
    },
    /// Compare the state file with what exists; on the local cloud also show what runs where.
    Status,
    /// Print the stack's URLs and ids.
    Outputs,
    /// Check credentials, region, Bedrock model access and the build tools, with the fix for each.
    Doctor,
    /// Print the IAM policy a host needs to run this tool for the stack (`up`, `down`, `doctor`,
    /// `users`, `logs`…), scoped to the stack's names: for an administrator to attach to the host.
    Policy {
        /// The account to scope it to (default: the credentials' account).
        #[arg(long, value_name = "ID")]
        account: Option<String>,
    },
    /// Print a Cognito ID token for a user of the stack (for `curl -H "Authorization: $TOKEN"`).
    ///
    /// The password comes from PROVISION_PASSWORD or is asked for; with --local and no
    /// --username, the local demo user signs in.
    Token {
        /// The user's e-mail address.
        #[arg(long)]
        username: Option<String>,
    },
    /// Invite, list and remove the people who may sign in (self sign-up is off unless the stack
    /// file turns it on).
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Print the editing function's CloudWatch Logs events (START/END/REPORT and its own lines).
    Logs {
        /// How far back to start: 30s, 10m, 2h, 1d (at most 30d).
        #[arg(long, default_value = "10m", value_parser = crate::session::parse_since)]
        since: std::time::Duration,
        /// Keep printing new events until interrupted.
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// A live view of the running stack for the workshop's host: edits per minute, answers and
    /// errors, throttling at each layer, latency, today's images against the limits, the spend so
    /// far, alarms and the last errors.
    ///
    /// Redraws every --interval seconds until Ctrl-C on a terminal; otherwise (or with --json,
    /// one document per line) prints each refresh after the last.
    Watch {
        /// Seconds between refreshes.
        #[arg(long, default_value_t = 5, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
        interval: u64,
        /// Print one refresh and exit (with --json: exactly one JSON document).
        #[arg(long)]
        once: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// Invite people: Cognito e-mails each a temporary password (printed too on the local cloud,
    /// whose mailbox masks it); the app asks for a new one at the first sign-in.
    Add {
        /// E-mail addresses.
        emails: Vec<String>,
        /// A class list: one address per line, or the first column of a CSV.
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
        /// Send the invitation again, with a new temporary password, to people who were invited
        /// but have not signed in yet (a lost or expired invitation).
        #[arg(long)]
        resend: bool,
        /// Also write a printable page (HTML) with the app's address and each person's e-mail and
        /// temporary password, to hand out in the room.
        #[arg(long, value_name = "FILE")]
        handout: Option<PathBuf>,
    },
    /// The stack's users and whether they have signed in yet.
    List,
    /// Remove people (they can no longer sign in; their history stays until `down`).
    Remove {
        /// E-mail addresses.
        #[arg(required = true)]
        emails: Vec<String>,
    },
}

/// Who converges the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// Call each service's API directly: read, compare field by field, create or update (the default).
    Direct,
    /// Deploy the synthesized template as a CloudFormation stack (change set, stack events).
    Cloudformation,
}
