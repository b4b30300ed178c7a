//! `provision watch`: a live view of a running stack for the workshop's host. What it reads is
//! `crate::monitor`'s; this file makes the document (one [`WatchReport`] per refresh, the same
//! under `--json` and on screen) and refreshes it until Ctrl-C.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal as _, Write};
use std::time::Duration;

use image_edit_contract::catalogue::{self, PRICES_AS_OF, PRICES_SOURCE};
use serde::Serialize;

use super::Ctx;
use crate::aws::Aws;
use crate::config::StackConfig;
use crate::error::{CliError, Exit};
use crate::monitor::{
    Alarm, EDIT_ROUTE, LoggedError, Monitor, Percentiles, Problem, Readings, UsersToday, WINDOW_MINUTES,
};
use crate::printer::Report;

/// How many of the day's busiest users are shown.
pub const BUSIEST: usize = 5;

/// One refresh of `provision watch`: `--json --once` prints exactly this document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchReport {
    pub stack: String,
    pub region: String,
    pub local: bool,
    /// When it was read (RFC 3339, UTC).
    pub at: String,
    /// The live window: `minutes` whole minutes from `start`, the current one last.
    pub window: Window,
    pub edits: Edits,
    pub answers: Answers,
    pub throttling: Throttling,
    pub latency: Latency,
    pub today: Today,
    pub spend: Spend,
    /// The stack's CloudWatch alarms (`<stack>-…`), those in ALARM first; empty: none.
    pub alarms: Vec<Alarm>,
    /// The last failed requests of the past 15 minutes, newest first.
    pub recent_errors: Vec<LoggedError>,
    /// Calls that failed (their IAM action and AWS's answer); the rest of the document stands.
    pub problems: Vec<Problem>,
    /// Seconds between refreshes (human form only; `None` with `--once`).
    #[serde(skip)]
    pub every: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub start: String,
    pub minutes: usize,
}

/// `POST /edits` requests per minute, by operation (those with any in the window).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Edits {
    /// All operations, oldest minute first.
    pub per_minute: Vec<u64>,
    pub total: u64,
    pub by_operation: Vec<OperationEdits>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationEdits {
    pub operation: String,
    pub per_minute: Vec<u64>,
    pub total: u64,
    /// The model call's latency.
    pub model_latency: Percentiles,
}

/// The function's answers over the window.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answers {
    /// HTTP status → answers (statuses with none are left out).
    pub by_status: BTreeMap<String, u64>,
    /// Error code → answers.
    pub by_error_code: BTreeMap<String, u64>,
}

/// Refusals at each layer over the window.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    /// API Gateway: requests to the stage and its 4XX answers (its own 429s, but also 401s and
    /// the function's 4xx).
    pub gateway_requests: u64,
    pub gateway_4xx: u64,
    /// Lambda: invocations refused for want of concurrency.
    pub lambda: u64,
    /// Bedrock: throttled invocations by model id (every model the stack uses).
    pub bedrock: BTreeMap<String, u64>,
    /// The function's 429 `throttled` answers (Bedrock throttled it, after its retries).
    pub function: u64,
}

/// `POST /edits`, whole request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    pub route: &'static str,
    #[serde(flatten)]
    pub percentiles: Percentiles,
}

/// Today's images (UTC day) against `limits`, from the function's counters.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Today {
    pub day: String,
    /// The stack's images today (`null` when the table could not be read).
    pub images: Option<u64>,
    /// `limits.edits_per_day`.
    pub limit: u32,
    /// `limits.edits_per_user_per_day`.
    pub per_user_limit: u32,
    /// The busiest users, by the anonymous id their log lines carry (`user`).
    pub busiest_users: Vec<UserToday>,
    /// When the users' counters were read (they are read at most once a minute).
    pub users_as_of: Option<String>,
    /// Images made today by operation (the function's `Images` metric; operations with none are
    /// left out).
    pub images_by_operation: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserToday {
    /// `image_edit_contract::user_hash` of the user's `sub`: never the sub or the e-mail.
    pub user: String,
    pub images: u64,
}

/// What today's images cost at the catalogue's list prices: an estimate (list prices, not the
/// bill), but of the images each model actually made — the function counts them by model id.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spend {
    pub usd: f64,
    /// Where the prices come from.
    pub basis: String,
    /// The models that made images today, the largest spend first.
    pub by_model: Vec<ModelSpend>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelSpend {
    /// The id as the function invoked it (a plain id or an inference profile id).
    pub model_id: String,
    /// The catalogue's name and list price per image (`null`: not in the catalogue, so not
    /// counted in `usd`).
    pub model: Option<String>,
    /// The stack's operations that invoke it (`models.ids` keys; empty: no longer in the stack
    /// file).
    pub operations: Vec<String>,
    pub images: u64,
    pub price_usd: Option<f64>,
    pub usd: Option<f64>,
}

fn cents(usd: f64) -> f64 {
    (usd * 10_000.0).round() / 10_000.0
}

/// The catalogue model `id` invokes, wherever it is invoked from: the price is per model, not per
/// region, and the function invoked the id from the stack's region already, so there is nothing
/// to check about where it is offered (which `catalogue::resolve` would).
fn priced(id: &str) -> Option<&'static catalogue::Model> {
    let id = catalogue::strip_arn(id);
    catalogue::model(id).or_else(|| catalogue::profile(id).map(|(m, _)| m))
}

/// The spend of `images_by_model` (model id as invoked → images today) at each model's list price.
pub fn spend(config: &StackConfig, images_by_model: &BTreeMap<String, u64>) -> Spend {
    let mut by_model: Vec<ModelSpend> = images_by_model
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(id, &images)| {
            let model = priced(id);
            let price_usd = model.map(|m| m.price_usd);
            ModelSpend {
                model_id: id.clone(),
                model: model.map(|m| m.name.to_owned()),
                operations: config.models.iter().filter(|(_, v)| *v == id).map(|(k, _)| k.clone()).collect(),
                images,
                price_usd,
                usd: price_usd.map(|p| cents(images as f64 * p)),
            }
        })
        .collect();
    // Summed before rounding, so the total is not off by the models' rounding; folded from 0.0
    // because an empty `f64` sum is -0.0, which would show as `$-0.00`.
    let usd = by_model.iter().filter_map(|m| m.price_usd.map(|p| m.images as f64 * p)).fold(0.0, |a, b| a + b);
    by_model.sort_by(|a, b| {
        b.usd.unwrap_or(0.0).total_cmp(&a.usd.unwrap_or(0.0)).then_with(|| a.model_id.cmp(&b.model_id))
    });
    Spend {
        usd: cents(usd),
        basis: format!("list-price estimate: catalogue prices of {PRICES_AS_OF} ({PRICES_SOURCE})"),
        by_model,
    }
}

/// The `n` users with the most images today, by anonymous id (most first; ties by id).
pub fn busiest(users: &UsersToday, n: usize) -> Vec<UserToday> {
    let mut ranked: Vec<UserToday> = users
        .counts
        .iter()
        .filter(|(_, images)| *images > 0)
        .map(|(sub, images)| UserToday { user: image_edit_contract::user_hash(sub), images: *images })
        .collect();
    ranked.sort_by(|a, b| b.images.cmp(&a.images).then_with(|| a.user.cmp(&b.user)));
    ranked.truncate(n);
    ranked
}

/// RFC 3339 to the second.
fn rfc3339(t: time::OffsetDateTime) -> String {
    t.replace_nanosecond(0).unwrap_or(t).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

impl WatchReport {
    pub fn new(config: &StackConfig, r: &Readings, every: Option<u64>) -> WatchReport {
        let mut by_operation: Vec<OperationEdits> = r
            .operations
            .iter()
            .map(|(op, o)| OperationEdits {
                operation: op.clone(),
                per_minute: o.per_minute.to_vec(),
                total: o.per_minute.iter().sum(),
                model_latency: o.model_latency,
            })
            .filter(|o| o.total > 0)
            .collect();
        by_operation.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.operation.cmp(&b.operation)));
        let mut per_minute = vec![0; WINDOW_MINUTES];
        for o in r.operations.values() {
            for (sum, n) in per_minute.iter_mut().zip(o.per_minute) {
                *sum += n;
            }
        }
        let images_by_operation: BTreeMap<String, u64> =
            r.operations.iter().map(|(op, o)| (op.clone(), o.images_today)).collect();
        let nonzero = |m: &BTreeMap<String, u64>| -> BTreeMap<String, u64> {
            m.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), *n)).collect()
        };
        WatchReport {
            stack: config.name.clone(),
            region: config.region.clone(),
            local: config.local,
            at: rfc3339(r.at),
            window: Window { start: rfc3339(r.window_start), minutes: WINDOW_MINUTES },
            edits: Edits { total: per_minute.iter().sum(), per_minute, by_operation },
            answers: Answers { by_status: nonzero(&r.statuses), by_error_code: nonzero(&r.error_codes) },
            throttling: Throttling {
                gateway_requests: r.gateway_requests,
                gateway_4xx: r.gateway_4xx,
                lambda: r.lambda_throttles,
                bedrock: r.bedrock_throttles.clone(),
                function: r.function_throttled,
            },
            latency: Latency { route: EDIT_ROUTE, percentiles: r.edit_latency },
            today: Today {
                day: r.day.clone(),
                images: r.stack_today,
                limit: config.limits.edits_per_day,
                per_user_limit: config.limits.edits_per_user_per_day,
                busiest_users: r.users_today.as_ref().map(|u| busiest(u, BUSIEST)).unwrap_or_default(),
                users_as_of: r.users_today.as_ref().map(|u| rfc3339(u.as_of)),
                images_by_operation: nonzero(&images_by_operation),
            },
            spend: spend(config, &r.images_by_model),
            alarms: r.alarms.clone(),
            recent_errors: r.recent_errors.clone(),
            problems: r.problems.clone(),
            every,
        }
    }
}

/// A latency as people read it: `–` without data, milliseconds under a second, else seconds.
pub fn duration(ms: Option<f64>) -> String {
    match ms {
        None => "–".to_owned(),
        Some(ms) if ms < 1000.0 => format!("{ms:.0} ms"),
        Some(ms) => format!("{:.1} s", ms / 1000.0),
    }
}

/// `p50 820 ms · p95 2.4 s`, or `no data` when neither is known.
pub fn percentiles(p: Percentiles) -> String {
    if p.p50_ms.is_none() && p.p95_ms.is_none() {
        return "no data".to_owned();
    }
    format!("p50 {} · p95 {}", duration(p.p50_ms), duration(p.p95_ms))
}

fn share(n: u64, of: u32) -> String {
    if of == 0 { String::new() } else { format!(" ({}%)", n * 100 / u64::from(of)) }
}

fn counts(m: &BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "none".to_owned();
    }
    m.iter().map(|(k, n)| format!("{k} ×{n}")).collect::<Vec<_>>().join(" · ")
}

fn clock(rfc: &str) -> &str {
    // 2026-12-05T18:40:05Z → 18:40:05
    rfc.get(11..19).unwrap_or(rfc)
}

impl Report for WatchReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let place = if self.local { "local cloud" } else { "AWS" };
        let every = self.every.map(|s| format!(" · every {s} s, Ctrl-C to stop")).unwrap_or_default();
        writeln!(out, "stack {} · {} ({place}) · {} UTC{every}", self.stack, self.region, clock(&self.at))?;
        writeln!(out)?;

        let minutes = |v: &[u64]| v.iter().map(|n| format!("{n:>4}")).collect::<String>();
        writeln!(out, "Edits per minute, last {} minutes (oldest → now)", self.window.minutes)?;
        if self.edits.by_operation.is_empty() {
            writeln!(out, "  none")?;
        }
        for o in &self.edits.by_operation {
            writeln!(
                out,
                "  {:<18}{}  = {:<5} model {}",
                o.operation,
                minutes(&o.per_minute),
                o.total,
                percentiles(o.model_latency)
            )?;
        }
        if self.edits.by_operation.len() > 1 {
            writeln!(out, "  {:<18}{}  = {}", "all", minutes(&self.edits.per_minute), self.edits.total)?;
        }
        writeln!(out, "Latency {}: {}", self.latency.route, percentiles(self.latency.percentiles))?;
        writeln!(out, "Answers by status: {}", counts(&self.answers.by_status))?;
        writeln!(out, "Errors by code:    {}", counts(&self.answers.by_error_code))?;
        writeln!(out)?;

        let t = &self.throttling;
        writeln!(out, "Throttling, last {} minutes", self.window.minutes)?;
        writeln!(
            out,
            "  API Gateway  {} 4XX of {} requests (its own 429s and 401s, and the function's 4xx)",
            t.gateway_4xx, t.gateway_requests
        )?;
        writeln!(out, "  Lambda       {} throttled invocations", t.lambda)?;
        let bedrock: BTreeMap<String, u64> =
            t.bedrock.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), *n)).collect();
        writeln!(
            out,
            "  Bedrock      {} (of {} models)",
            if bedrock.is_empty() { "0".to_owned() } else { counts(&bedrock) },
            t.bedrock.len()
        )?;
        writeln!(out, "  function     {} answers 429 throttled", t.function)?;
        writeln!(out)?;

        let d = &self.today;
        let images =
            d.images.map_or_else(|| "?".to_owned(), |n| format!("{n} of {} images{}", d.limit, share(n, d.limit)));
        writeln!(out, "Today ({} UTC): {images}", d.day)?;
        if !d.images_by_operation.is_empty() {
            writeln!(out, "  by operation: {}", counts(&d.images_by_operation))?;
        }
        if d.busiest_users.is_empty() {
            writeln!(out, "  busiest users: none yet")?;
        } else {
            let as_of = d.users_as_of.as_deref().map(|t| format!(", as of {}", clock(t))).unwrap_or_default();
            writeln!(out, "  busiest users (of {} each{as_of}):", d.per_user_limit)?;
            for u in &d.busiest_users {
                writeln!(out, "    {}  {:>5}{}", u.user, u.images, share(u.images, d.per_user_limit))?;
            }
        }
        let s = &self.spend;
        writeln!(out, "Spend today ≈ ${:.2}", s.usd)?;
        writeln!(out, "  {}", s.basis)?;
        for m in &s.by_model {
            let operations =
                if m.operations.is_empty() { "not in the stack file".to_owned() } else { m.operations.join(", ") };
            match (m.price_usd, m.usd, &m.model) {
                (Some(p), Some(usd), Some(name)) => {
                    writeln!(out, "  {name:<34}{:>5} × ${p:.2} = ${usd:.2}  ({operations})", m.images)?
                }
                _ => writeln!(out, "  {:<34}{:>5} × ? (not in the catalogue)  ({operations})", m.model_id, m.images)?,
            }
        }
        writeln!(out)?;

        if self.alarms.is_empty() {
            writeln!(out, "Alarms: none")?;
        } else {
            writeln!(out, "Alarms")?;
            let width = self.alarms.iter().map(|a| a.name.len()).max().unwrap_or(0);
            for a in &self.alarms {
                // An alarm that is OK needs no reason read out.
                let reason = if a.state == "OK" { "" } else { a.reason.as_str() };
                let line = format!("  {:<17} {:<width$}  {reason}", a.state, a.name);
                writeln!(out, "{}", line.trim_end())?;
            }
        }
        if self.recent_errors.is_empty() {
            writeln!(out, "Recent errors (15 min): none")?;
        } else {
            writeln!(out, "Recent errors (15 min, newest first)")?;
            for e in &self.recent_errors {
                let op = e.operation.as_deref().map(|o| format!(" {o}")).unwrap_or_default();
                writeln!(
                    out,
                    "  {}  {}  {}{op}  {} {}",
                    clock(&e.time),
                    e.request_id,
                    e.route,
                    e.status,
                    e.error_code.as_deref().unwrap_or("-")
                )?;
            }
        }
        for p in &self.problems {
            writeln!(out, "! {}: {}", p.action, p.message)?;
        }
        Ok(())
    }
}

/// Refreshes until Ctrl-C (or once). On a terminal each refresh redraws the screen; otherwise
/// (and under `--json`, one document per line) each is printed after the last.
pub async fn watch(ctx: &Ctx, interval: u64, once: bool) -> Result<Exit, CliError> {
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let mut monitor = Monitor::new(aws, &ctx.config);
    let printer = ctx.printer();
    let redraw = !once && !printer.json() && io::stdout().is_terminal();
    // Ctrl-C ends the view (exit 0); a handler that cannot be installed never fires.
    let mut stop = std::pin::pin!(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    });
    let mut first = true;
    loop {
        let readings = tokio::select! {
            r = monitor.read() => r,
            () = &mut stop => return Ok(Exit::Ok),
        };
        let report = WatchReport::new(&ctx.config, &readings, (!once).then_some(interval));
        if once {
            printer.result(&report);
            return Ok(if report.problems.is_empty() { Exit::Ok } else { Exit::AwsFailure });
        }
        if printer.json() {
            printer.line(&report);
        } else {
            printer.human(|out| {
                if redraw {
                    // Home, clear the screen, draw.
                    write!(out, "\x1b[H\x1b[2J")?;
                } else if !first {
                    writeln!(out)?;
                }
                report.human(out)
            });
        }
        first = false;
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(interval)) => {}
            () = &mut stop => return Ok(Exit::Ok),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> StackConfig {
        crate::config::parse("region: us-west-2\n", std::path::Path::new("stacks/dev.yaml"), "dev").expect("config")
    }

    #[test]
    fn spend_is_each_models_images_times_its_list_price() {
        let c = dev();
        let core = c.models["generate"].clone();
        let creative = c.models["upscale.creative"].clone();
        let inpaint = c.models["inpaint"].clone();
        // The stack invokes the Image Services by their `us.` profile: priced as the model.
        assert!(inpaint.starts_with("us.stability."), "{inpaint}");
        let images = BTreeMap::from([
            (core.clone(), 2),
            (inpaint.clone(), 3),
            (creative.clone(), 1),
            (c.models["generate.ultra"].clone(), 0),
            ("vendor.unknown-model-v1:0".to_owned(), 4),
        ]);
        let s = spend(&c, &images);
        // Core $0.04, Inpaint $0.07, Creative Upscale $0.60 (the catalogue's prices), each at the
        // model that made the images: an `upscale` at Creative is not priced as Fast.
        assert_eq!(s.usd, 0.89, "{s:?}");
        let ids: Vec<&str> = s.by_model.iter().map(|m| m.model_id.as_str()).collect();
        assert_eq!(
            ids,
            [creative.as_str(), inpaint.as_str(), core.as_str(), "vendor.unknown-model-v1:0"],
            "dearest first"
        );
        let m = &s.by_model[0];
        assert_eq!((m.images, m.price_usd, m.usd), (1, Some(0.6), Some(0.6)));
        assert_eq!(
            (m.model.as_deref(), m.operations.as_slice()),
            (Some("Stable Image Creative Upscale"), &["upscale.creative".to_owned()][..])
        );
        assert_eq!(s.by_model[1].usd, Some(0.21));
        // A model with no image today is not listed; one not in the catalogue is, unpriced.
        assert!(s.by_model.iter().all(|m| m.images > 0));
        let unknown = &s.by_model[3];
        assert_eq!((unknown.price_usd, unknown.usd, unknown.operations.len()), (None, None, 0));
        assert!(s.basis.starts_with("list-price estimate"), "{}", s.basis);
    }

    #[test]
    fn a_model_two_operations_share_and_its_plain_and_profile_ids_price_alike() {
        let c = dev();
        // `variation` and `generate.sd3.5-large` both invoke SD3.5 Large: its images are counted
        // once, by the model, whichever operation made them.
        let sd = c.models["variation"].clone();
        let s = spend(&c, &BTreeMap::from([(sd.clone(), 5)]));
        assert_eq!(s.usd, 0.4, "{s:?}");
        assert_eq!(s.by_model[0].operations, ["generate.sd3.5-large", "variation"]);
        let plain = "stability.stable-image-inpaint-v1:0";
        let profile = "us.stability.stable-image-inpaint-v1:0";
        assert_eq!(priced(plain).map(|m| m.price_usd), Some(0.07));
        assert_eq!(priced(profile).map(|m| m.id), Some(plain));
        assert_eq!(priced("vendor.unknown-model-v1:0"), None);
    }

    #[test]
    fn the_spend_is_shown_by_model_and_the_images_by_operation() {
        let c = dev();
        let mut r = Readings::empty(time::macros::datetime!(2026-12-05 18:40:05 UTC));
        r.stack_today = Some(3);
        r.operations
            .insert("generate".to_owned(), crate::monitor::OperationReading { images_today: 3, ..Default::default() });
        r.images_by_model =
            BTreeMap::from([(c.models["generate"].clone(), 2), (c.models["generate.ultra"].clone(), 1)]);
        let report = WatchReport::new(&c, &r, None);
        let mut text = Vec::new();
        report.human(&mut text).expect("render");
        let text = String::from_utf8(text).expect("utf-8");
        for line in [
            "  by operation: generate ×3",
            "Spend today ≈ $0.22\n",
            "  Stable Image Ultra 1.1                1 × $0.14 = $0.14  (generate.ultra)",
            "  Stable Image Core 1.1                 2 × $0.04 = $0.08  (generate)",
        ] {
            assert!(text.contains(line), "no `{line}` in:\n{text}");
        }
        let doc = serde_json::to_value(&report).expect("json");
        assert_eq!(doc["today"]["imagesByOperation"], serde_json::json!({"generate": 3}));
        assert_eq!(doc["spend"]["byModel"][0]["modelId"], "stability.stable-image-ultra-v1:1");
        assert!(doc["spend"].get("atMostUsd").is_none(), "the spend is exact: no upper bound");
    }

    #[test]
    fn the_busiest_users_are_ranked_by_images_and_shown_by_their_log_id_only() {
        let users = UsersToday {
            as_of: time::OffsetDateTime::UNIX_EPOCH,
            counts: vec![
                ("sub-a".into(), 3),
                ("sub-b".into(), 9),
                ("sub-c".into(), 0),
                ("sub-d".into(), 3),
                ("sub-e".into(), 1),
                ("sub-f".into(), 2),
                ("sub-g".into(), 5),
            ],
        };
        let top = busiest(&users, 5);
        let images: Vec<u64> = top.iter().map(|u| u.images).collect();
        assert_eq!(images, [9, 5, 3, 3, 2]);
        assert_eq!(top[0].user, image_edit_contract::user_hash("sub-b"));
        // Equal counts: ordered by id, so the view does not flicker between refreshes.
        assert!(top[2].user < top[3].user);
        let shown = serde_json::to_string(&top).expect("json");
        assert!(!shown.contains("sub-"), "a sub reached the document: {shown}");
        assert!(top.iter().all(|u| u.user.len() == 16 && u.user.chars().all(|c| c.is_ascii_hexdigit())));
    }

    #[test]
    fn latencies_read_as_milliseconds_or_seconds_and_absent_ones_as_a_dash() {
        assert_eq!(duration(None), "–");
        assert_eq!(duration(Some(820.4)), "820 ms");
        assert_eq!(duration(Some(999.4)), "999 ms");
        assert_eq!(duration(Some(2449.0)), "2.4 s");
        assert_eq!(percentiles(Percentiles { p50_ms: Some(820.0), p95_ms: Some(2400.0) }), "p50 820 ms · p95 2.4 s");
        assert_eq!(percentiles(Percentiles { p50_ms: None, p95_ms: Some(31.0) }), "p50 – · p95 31 ms");
        assert_eq!(percentiles(Percentiles::default()), "no data");
        // Under --json an absent percentile is null, not 0.
        let json =
            serde_json::to_value(Latency { route: EDIT_ROUTE, percentiles: Percentiles::default() }).expect("json");
        assert_eq!(json, serde_json::json!({"route": "POST /edits", "p50Ms": null, "p95Ms": null}));
    }

    #[test]
    fn a_quiet_stack_reads_as_zeros_and_none() {
        let c = dev();
        let r = Readings::empty(time::macros::datetime!(2026-12-05 18:40:05 UTC));
        let report = WatchReport::new(&c, &r, Some(5));
        let mut text = Vec::new();
        report.human(&mut text).expect("render");
        let text = String::from_utf8(text).expect("utf-8");
        for line in ["Alarms: none", "Recent errors (15 min): none", "Today (2026-12-05 UTC): ?", "Spend today ≈ $0.00"]
        {
            assert!(text.contains(line), "no `{line}` in:\n{text}");
        }
        let doc = serde_json::to_value(&report).expect("json");
        assert_eq!(doc["edits"]["perMinute"], serde_json::json!([0, 0, 0, 0, 0]));
        assert_eq!(doc["alarms"], serde_json::json!([]));
        assert_eq!(doc["today"]["limit"], 500);
        assert!(doc.get("every").is_none());
    }
}
