//! The commands, on resolved settings.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::artifacts::{self, Artifacts};
use crate::aws::{Aws, AwsError, Identity};
use crate::config::StackConfig;
use crate::engine::{self, Action, Report};
use crate::error::{CliError, Exit};
use crate::local::{self, LocalCloud};
use crate::models::ModelAccess;
use crate::progress::{Event, Progress};
use crate::resources::{Env, Outputs, Resource, rest_api};
use crate::stack::{self, AmplifyBranch, EDITOR, RestApi, STACK_OUTPUTS, Stack, UserPool};
use crate::state::{StateFile, state_dir};
use crate::target::Target;
use crate::teardown;
use crate::{cfn, synth};

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

    /// The one way a command prints its result on stdout: `doc` under `--json` (one JSON
    /// document), `human` otherwise. Progress and notes go to stderr through [`Ctx::say`].
    pub(crate) fn print(&self, doc: &serde_json::Value, human: impl FnOnce()) {
        if self.json {
            println!("{doc}");
        } else {
            human();
        }
    }

    fn say(&self, line: impl AsRef<str>) {
        if !self.json {
            eprintln!("{}", line.as_ref());
        }
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
        println!(
            "{}",
            json!({"event": "summary", "wall_ms": elapsed.as_millis(), "calls": calls.len(), "mutating_calls": mutating,
                   "critical_path": path, "critical_path_calls": path_calls,
                   "critical_path_by_time": time_path, "critical_path_ms": path_ms, "by_operation": by_operation})
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
    print_outputs(ctx, &report.outputs, demo.as_ref());
    Ok(Exit::Ok)
}

/// The local cloud's demo user: created (or reset) with a permanent password.
async fn ensure_demo_user(aws: &Aws, outputs: &Outputs, stack: &str) -> Result<(String, String), AwsError> {
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
    Ok((email, local::DEMO_PASSWORD.to_owned()))
}

fn outputs_json(config: &StackConfig, o: &Outputs) -> serde_json::Value {
    let mut doc = json!({"stack": config.name, "region": config.region});
    for out in STACK_OUTPUTS {
        doc[out.field] = json!(o.of(out));
    }
    doc
}

fn print_outputs(ctx: &Ctx, o: &Outputs, demo: Option<&(String, String)>) {
    let mut v = outputs_json(&ctx.config, o);
    if let Some((email, password)) = demo {
        v["demoUser"] = json!({"email": email, "password": password});
    }
    if ctx.json {
        println!("{}", json!({"event": "outputs", "outputs": v}));
        return;
    }
    let get = |k: &str| v[k].as_str().unwrap_or("-").to_owned();
    println!();
    println!("App URL:      {}", get("appUrl"));
    println!("API URL:      {}", get("apiUrl"));
    println!("User pool:    {}  (client {})", get("userPoolId"), get("userPoolClientId"));
    println!("Table:        {}", get("table"));
    println!("Function:     {}  (logs: {})", get("function"), get("logGroup"));
    if let Some((email, password)) = demo {
        println!("Demo login:   {email} / {password}");
    }
    let auth = &ctx.config.auth;
    if !auth.self_sign_up {
        let local = if ctx.local.is_some() { " --local" } else { "" };
        println!("Sign-in:      by invitation (self sign-up is off): provision users add{local} EMAIL…");
    } else if !auth.allowed_email_domains.is_empty() {
        println!("Sign-up:      open to addresses at {} (and invited users)", auth.allowed_email_domains.join(", "));
    } else {
        println!("Sign-up:      open to anyone who finds the app (auth.self_sign_up: true)");
    }
    println!("Spend:        {}", crate::spend::ceiling(&ctx.config));
}

/// The outputs the last `up` recorded, or the advice to run it.
pub(crate) fn deployed_outputs(ctx: &Ctx) -> Result<Outputs, CliError> {
    let state = StateFile::open(&state_dir(&ctx.root), &ctx.config.name).map_err(CliError::State)?;
    if !state.exists() {
        return Err(CliError::Usage(format!(
            "stack `{}` has no state here: run `provision up{}` first",
            ctx.config.name,
            if ctx.local.is_some() { " --local" } else { "" }
        )));
    }
    Ok(state.state.outputs.clone())
}

pub async fn outputs(ctx: &Ctx) -> Result<Exit, CliError> {
    let outputs = deployed_outputs(ctx)?;
    if ctx.json {
        println!("{}", outputs_json(&ctx.config, &outputs));
    } else {
        print_outputs(ctx, &outputs, None);
    }
    Ok(Exit::Ok)
}

fn print_plan(ctx: &Ctx, report: &Report) {
    if ctx.json {
        for s in &report.steps {
            println!("{}", serde_json::to_string(s).unwrap_or_default());
        }
        return;
    }
    for s in &report.steps {
        let sign = match s.action {
            Action::Create => "+",
            Action::Update { .. } => "~",
            Action::NoChange => "=",
        };
        println!("{sign} {:<20} {:<28} {:<10} {}", s.id, s.kind, s.action.label(), s.name);
        if let Action::Update { changes } = &s.action {
            for c in changes {
                println!("    {}: {} → {}", c.field, c.from, c.to);
            }
        }
        if s.touches_iam() {
            println!("    ! IAM change: review the role's permissions above before applying");
        }
    }
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
    ctx.print(&doc, || {
        for r in &resources {
            let word = match r["state"].as_str().unwrap_or_default() {
                "missing" => "MISSING (in state, not in AWS)",
                "exists-not-in-state" => "exists (not in state: `up` adopts it)",
                "in-sync" => "in sync",
                other => other,
            };
            let name = r["physical"].as_str().unwrap_or("-");
            println!(
                "{:<20} {:<28} {:<36} {name}",
                r["id"].as_str().unwrap_or_default(),
                r["kind"].as_str().unwrap_or_default(),
                word
            );
            for c in r["changes"].as_array().into_iter().flatten() {
                println!("    {}: live {} ≠ stack {}", c["field"].as_str().unwrap_or_default(), c["live"], c["stack"]);
            }
        }
        for m in &open {
            println!("! {m} is reachable without a Cognito token (authorizationType is not COGNITO_USER_POOLS)");
        }
    });
    Ok(if drift == 0 && open.is_empty() { Exit::Ok } else { Exit::ChangesPending })
}

fn confirm(ctx: &Ctx, what: &str) -> Result<bool, CliError> {
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
    if dry_run && !ctx.json {
        println!("Teardown order for stack `{}`:", ctx.config.name);
        print!("{}", teardown::describe(&ctx.config.name));
    }
    let Some(aws) = down_target(ctx).await else {
        ctx.say("the local cloud is not running: nothing of the stack exists");
        let doc = if dry_run {
            json!({"order": teardown::order(&ctx.config.name), "wouldDelete": []})
        } else {
            json!({"event": "done", "deleted": 0, "leftBehind": []})
        };
        ctx.print(&doc, || {});
        return Ok(Exit::Ok);
    };
    let id = whoami(ctx, &aws).await?;
    let state = StateFile::open(&state_dir(&ctx.root), &ctx.config.name).map_err(CliError::State)?;
    check_identity(&state, &id, force)?;
    let state_ref = state.exists().then_some(&state);
    let present = teardown::left_behind(&aws, &ctx.config.name, state_ref).await.map_err(CliError::Aws)?;
    if dry_run {
        ctx.print(&json!({"order": teardown::order(&ctx.config.name), "wouldDelete": present}), || {
            println!("\nWould delete:");
            for l in &present {
                println!("  {:<46} {}", l.kind, l.id);
            }
            if present.is_empty() {
                println!("  nothing: no resource of the stack exists");
            }
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
    for e in &report.errors {
        ctx.say(format!("error: {e}"));
    }
    if !report.left_behind.is_empty() {
        ctx.say("left behind (still present):");
        for l in &report.left_behind {
            ctx.say(format!("  {:<46} {}", l.kind, l.id));
        }
        if ctx.json {
            println!("{}", json!({"event": "left_behind", "resources": report.left_behind}));
        }
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
        println!("{}", json!({"event": "done", "deleted": report.deleted.len(), "leftBehind": []}));
    }
    state.remove().map_err(CliError::State)?;
    if let Some(cloud) = &ctx.local {
        for p in cloud.stop(&ctx.root) {
            ctx.say(format!("stopped {p}"));
        }
    }
    Ok(Exit::Ok)
}

async fn down_target(ctx: &Ctx) -> Option<Aws> {
    if let Target::Local(None) = ctx.target {
        return None;
    }
    Some(Aws::load(&ctx.config.region, &ctx.target).await)
}

pub async fn doctor(ctx: &Ctx) -> Result<Exit, CliError> {
    let mut checks: Vec<(bool, String, String)> = Vec::new();
    let mut line = |ok: bool, what: &str, detail: String| checks.push((ok, what.to_owned(), detail));
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    match aws.identity().await {
        Ok(id) => line(true, "credentials", format!("account {} as {}", id.account, id.arn)),
        Err(e) => line(false, "credentials", e.to_string()),
    }
    line(true, "region", format!("{} (from {})", ctx.config.region, ctx.config.source.display()));
    line(true, "spend ceiling", crate::spend::ceiling(&ctx.config));
    // Lambda's concurrency: a warning, not a failure, when a class does not fit at once (the app
    // retries the rest); a reservation the account cannot give fails.
    let function = crate::stack::Names::function(&ctx.config.name);
    match crate::capacity::read(&aws, &function).await {
        Ok(c) => {
            let reserved = ctx.config.function.reserved_concurrency;
            match c.check_reservation(reserved, &ctx.config.region) {
                Ok(()) => line(true, "capacity", c.summary(reserved, &ctx.config.region).1),
                Err(e) => line(false, "capacity", e),
            }
        }
        // Informational: a host without lambda:GetAccountSettings (or an emulator without it) can
        // still deploy, and Lambda remains the judge of a reservation.
        Err(e) => line(true, "capacity", format!("not read ({e}); Lambda's concurrency is unknown")),
    }
    // Informational too: Bedrock throttles over a quota and the app retries.
    for l in crate::capacity::bedrock_lines(&aws, &ctx.config.models, &ctx.config.region).await {
        line(true, "bedrock quota", l);
    }
    let today = time::OffsetDateTime::now_utc().date().to_string();
    for (op, id) in &ctx.config.models {
        let check = crate::doctor::model(&aws, &ctx.config.region, id, &today).await;
        line(check.is_ok(), &format!("model {op}"), check.unwrap_or_else(|e| e));
    }
    for m in crate::subscription::marketplace_models(&ctx.config.models, &ctx.config.region) {
        let check = crate::subscription::check(&aws, m, &ctx.config.region).await;
        line(check.is_ok(), "model access", check.unwrap_or_else(|e| e));
    }
    let tool = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_owned())
    };
    match tool("cargo", &["--version"]) {
        Some(v) => line(true, "cargo", v),
        None => line(false, "cargo", "missing — install Rust with rustup".into()),
    }
    match tool("cargo", &["zigbuild", "--version"]) {
        Some(v) => line(true, "cargo-zigbuild", v),
        None => line(ctx.config.function.architecture == crate::config::Architecture::X86_64, "cargo-zigbuild", "missing — `pip install ziglang && cargo install cargo-zigbuild` (needed for arm64; x86_64 builds natively and is checked for glibc ≤ 2.34)".into()),
    }
    match tool("npm", &["--version"]) {
        Some(v) => line(true, "npm", v),
        None => line(false, "npm", "missing — install Node.js 20 with npm".into()),
    }
    let doc = json!({"checks": checks.iter().map(|(ok, what, detail)| json!({"check": what, "ok": ok, "detail": detail}))
        .collect::<Vec<_>>()});
    ctx.print(&doc, || {
        for (ok, what, detail) in &checks {
            println!("{} {:<26} {detail}", if *ok { "ok  " } else { "FAIL" }, what);
        }
    });
    Ok(if checks.iter().all(|c| c.0) { Exit::Ok } else { Exit::AwsFailure })
}

/// `provision synth`: the CloudFormation template of the stack.
pub async fn synth(ctx: &Ctx, output: Option<&std::path::Path>) -> Result<Exit, CliError> {
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let stack = ctx.stack();
    stack.validate().map_err(CliError::Usage)?;
    let template = synth::template(&stack, &aws)?;
    let yaml = synth::to_yaml(&template)?;
    match output {
        // CloudFormation reads JSON templates as well: under --json the template is the document.
        None => ctx.print(&template, || print!("{yaml}")),
        Some(path) => {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, &yaml)
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| CliError::Usage(format!("-o {}: {e}", path.display())))?;
            let n = template["Resources"].as_object().map(|m| m.len()).unwrap_or(0);
            ctx.say(format!("wrote {} ({n} resources, {} bytes)", path.display(), yaml.len()));
            ctx.print(&json!({"wrote": path, "resources": n, "bytes": yaml.len()}), || {});
        }
    }
    Ok(Exit::Ok)
}

/// `policy`: the host's IAM policy for this stack, as JSON (the document IAM takes).
pub async fn policy(ctx: &Ctx, account: Option<String>) -> Result<Exit, CliError> {
    let account = match account {
        Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => a,
        Some(a) => return Err(CliError::Usage(format!("--account {a}: an AWS account id is 12 digits"))),
        None => Aws::load(&ctx.config.region, &ctx.target).await.identity().await.map_err(CliError::Aws)?.account,
    };
    let doc = crate::host_policy::document(&ctx.config, &account);
    let pretty = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string());
    ctx.print(&doc, || println!("{pretty}"));
    Ok(Exit::Ok)
}

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
    let json = ctx.json;
    let on_change = move |c: &cfn::Change| {
        if json {
            println!("{}", json!({"event": "change", "change": c}));
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
        if json {
            println!("{}", json!({"event": "stack_event", "stack_event": e}));
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
    for e in &report.errors {
        ctx.say(format!("error: {e}"));
    }
    if !report.left_behind.is_empty() {
        ctx.say("left behind (still present):");
        for l in &report.left_behind {
            ctx.say(format!("  {:<46} {}", l.kind, l.id));
        }
        if ctx.json {
            println!("{}", json!({"event": "left_behind", "resources": report.left_behind}));
        }
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
        println!(
            "{}",
            json!({
                "event": "done",
                "deleted": report.deleted.len(),
                "leftBehind": [],
                "cloudFormationStack": {"name": name, "deleted": stack_deleted},
                "assetBucket": {"name": bucket, "deleted": bucket_deleted},
                "sweptAfterTheStack": report.deleted,
            })
        );
    }
    state.remove().map_err(CliError::State)?;
    Ok(Exit::Ok)
}
