//! `provision doctor`: what this machine and account need, checked.

use std::io::{self, Write};

use serde::Serialize;

use super::Ctx;
use crate::aws::Aws;
use crate::error::{CliError, Exit};
use crate::printer::Report;

/// Each check: what, whether it passed, and what was found (or what to do).
#[derive(Debug, Serialize)]
pub struct Checks {
    pub checks: Vec<Check>,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub check: String,
    pub ok: bool,
    pub detail: String,
}

impl Report for Checks {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        for c in &self.checks {
            writeln!(out, "{} {:<26} {}", if c.ok { "ok  " } else { "FAIL" }, c.check, c.detail)?;
        }
        Ok(())
    }
}

pub async fn doctor(ctx: &Ctx) -> Result<Exit, CliError> {
    let mut checks: Vec<Check> = Vec::new();
    let mut line = |ok: bool, what: &str, detail: String| checks.push(Check { check: what.to_owned(), ok, detail });
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
    let report = Checks { checks };
    ctx.printer().result(&report);
    Ok(if report.checks.iter().all(|c| c.ok) { Exit::Ok } else { Exit::AwsFailure })
}
