//! The stack's outputs: one report for `up`'s summary and `provision outputs`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::Ctx;
use crate::error::{CliError, Exit};
use crate::printer::Report;
use crate::resources::Outputs;
use crate::stack::STACK_OUTPUTS;
use crate::state::{StateFile, state_dir};

/// What a user needs to reach the stack: its outputs (one field per `STACK_OUTPUTS` row), who may
/// sign in, and the spend ceiling.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackOutputs {
    pub stack: String,
    pub region: String,
    #[serde(flatten)]
    pub values: BTreeMap<&'static str, Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo_user: Option<DemoUser>,
    /// How people get in, with its label (human form only).
    #[serde(skip)]
    sign_in: (&'static str, String),
    /// The spend ceiling (human form only).
    #[serde(skip)]
    spend: String,
}

#[derive(Debug, Serialize)]
pub struct DemoUser {
    pub email: String,
    pub password: String,
}

impl StackOutputs {
    pub fn new(ctx: &Ctx, o: &Outputs, demo: Option<DemoUser>) -> StackOutputs {
        let auth = &ctx.config.auth;
        let sign_in = if !auth.self_sign_up {
            let local = if ctx.local.is_some() { " --local" } else { "" };
            ("Sign-in", format!("by invitation (self sign-up is off): provision users add{local} EMAIL…"))
        } else if !auth.allowed_email_domains.is_empty() {
            ("Sign-up", format!("open to addresses at {} (and invited users)", auth.allowed_email_domains.join(", ")))
        } else {
            ("Sign-up", "open to anyone who finds the app (auth.self_sign_up: true)".to_owned())
        };
        StackOutputs {
            stack: ctx.config.name.clone(),
            region: ctx.config.region.clone(),
            values: STACK_OUTPUTS.iter().map(|out| (out.field, o.of(out).map(str::to_owned))).collect(),
            demo_user: demo,
            sign_in,
            spend: crate::spend::ceiling(&ctx.config),
        }
    }

    fn get(&self, field: &str) -> &str {
        self.values.get(field).and_then(|v| v.as_deref()).unwrap_or("-")
    }
}

impl Report for StackOutputs {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out)?;
        writeln!(out, "App URL:      {}", self.get("appUrl"))?;
        writeln!(out, "API URL:      {}", self.get("apiUrl"))?;
        writeln!(out, "User pool:    {}  (client {})", self.get("userPoolId"), self.get("userPoolClientId"))?;
        writeln!(out, "Table:        {}", self.get("table"))?;
        writeln!(out, "Function:     {}  (logs: {})", self.get("function"), self.get("logGroup"))?;
        if let Some(d) = &self.demo_user {
            writeln!(out, "Demo login:   {} / {}", d.email, d.password)?;
        }
        let (label, how) = &self.sign_in;
        writeln!(out, "{label}:{:width$}{how}", "", width = 13 - label.len())?;
        writeln!(out, "Spend:        {}", self.spend)
    }
}

/// `up`'s last word: the outputs, as an `outputs` event under `--json`.
pub(super) fn print_outputs(ctx: &Ctx, o: &Outputs, demo: Option<DemoUser>) {
    let report = StackOutputs::new(ctx, o, demo);
    let printer = ctx.printer();
    if printer.json() {
        printer.line(&serde_json::json!({"event": "outputs", "outputs": report}));
    } else {
        printer.result(&report);
    }
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
    ctx.printer().result(&StackOutputs::new(ctx, &outputs, None));
    Ok(Exit::Ok)
}
