//! Per-stack settings: `stacks/<name>.yaml`, parsed strictly (unknown keys are errors) and
//! validated before anything is created.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image_edit_contract::catalogue::{self, Refusal};
use image_edit_contract::results::MAX_KEEP_DAYS;
use serde::{Deserialize, Serialize};

/// Stack names become prefixes of every physical name; the tightest limit is the IAM role name
/// (64 characters) and Cognito's pool name rules, so keep them short and DNS-friendly.
pub const STACK_NAME_MAX: usize = 24;

/// The retention values CloudWatch Logs accepts (PutRetentionPolicy).
pub const LOG_RETENTION_DAYS: &[i32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// Regions where the project's model families are offered (Bedrock image models are not in every region).
pub const KNOWN_REGIONS: &[&str] = image_edit_contract::REGIONS;

/// The keys of the editing API's models (`models.ids`, the function's `MODEL_IDS`), in the order the
/// docs list them: one per operation, and `operation.choice` for an operation's other choices of
/// model (`upscale.creative`, `generate.ultra`).
pub const OPERATIONS: &[&str] = &[
    "inpaint",
    "outpaint",
    "replace",
    "recolor",
    "erase",
    "remove-background",
    "sketch",
    "structure",
    "style-guide",
    "style-transfer",
    "upscale",
    "upscale.conservative",
    "upscale.creative",
    "generate",
    "generate.ultra",
    "generate.sd3.5-large",
    "variation",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("stack file {path} not found{hint}")]
    Missing { path: PathBuf, hint: String },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: `{key}` {message}")]
    Invalid { path: PathBuf, key: String, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelFamily {
    Stability,
}

impl ModelFamily {
    pub const ALL: [ModelFamily; 1] = [ModelFamily::Stability];

    pub fn parse(s: &str) -> Option<ModelFamily> {
        ModelFamily::ALL.into_iter().find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ModelFamily::Stability => "stability",
        }
    }

    /// The foundation model of each operation the family offers (operations it lacks are absent).
    /// Which id invokes it depends on the region: see [`ModelFamily::models_in`].
    pub fn base_models(self) -> BTreeMap<&'static str, &'static str> {
        let pairs: &[(&str, &str)] = match self {
            ModelFamily::Stability => &[
                ("inpaint", "stability.stable-image-inpaint-v1:0"),
                ("outpaint", "stability.stable-outpaint-v1:0"),
                ("replace", "stability.stable-image-search-replace-v1:0"),
                ("recolor", "stability.stable-image-search-recolor-v1:0"),
                ("erase", "stability.stable-image-erase-object-v1:0"),
                ("remove-background", "stability.stable-image-remove-background-v1:0"),
                ("sketch", "stability.stable-image-control-sketch-v1:0"),
                ("structure", "stability.stable-image-control-structure-v1:0"),
                ("style-guide", "stability.stable-image-style-guide-v1:0"),
                ("style-transfer", "stability.stable-style-transfer-v1:0"),
                ("upscale", "stability.stable-fast-upscale-v1:0"),
                ("upscale.conservative", "stability.stable-conservative-upscale-v1:0"),
                ("upscale.creative", "stability.stable-creative-upscale-v1:0"),
                ("generate", "stability.stable-image-core-v1:1"),
                ("generate.ultra", "stability.stable-image-ultra-v1:1"),
                ("generate.sd3.5-large", "stability.sd3-5-large-v1:0"),
                ("variation", "stability.sd3-5-large-v1:0"),
            ],
        };
        pairs.iter().copied().collect()
    }

    /// The default model id per operation as AWS offers it in `region` (the plain id where the
    /// model is on demand there, else its inference profile; see `image_edit_contract::catalogue`).
    /// Operations whose model is not offered in `region` are absent.
    pub fn models_in(self, region: &str) -> BTreeMap<String, String> {
        self.base_models()
            .into_iter()
            .filter_map(|(op, base)| {
                let id = catalogue::model(base)?.invocable_id(region)?;
                Some((op.to_owned(), id.to_owned()))
            })
            .collect()
    }

    /// Regions where the family offers at least one operation, sorted.
    pub fn regions(self) -> Vec<&'static str> {
        let mut r: Vec<&'static str> =
            self.base_models().values().filter_map(|b| catalogue::model(b)).flat_map(|m| m.regions()).collect();
        r.sort_unstable();
        r.dedup();
        r
    }

    /// Operations the family can serve at all.
    pub fn supports(self, operation: &str) -> bool {
        self.base_models().contains_key(operation)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    X86_64,
    Arm64,
}

impl Architecture {
    pub fn as_lambda(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

/// The stack file as written by a person. Every section has defaults so a file can be short.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StackFile {
    /// Stack name: the prefix of every resource name. Defaults to the file's stem.
    #[serde(default)]
    pub name: Option<String>,
    /// AWS region of every resource and of the Bedrock calls.
    pub region: String,
    /// Tags put on every resource that takes tags (plus `stack: <name>` and `managed-by: provision`).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub auth: AuthSettings,
    #[serde(default)]
    pub function: FunctionSettings,
    #[serde(default)]
    pub logs: LogSettings,
    #[serde(default)]
    pub models: ModelSettings,
    #[serde(default)]
    pub api: ApiSettings,
    #[serde(default)]
    pub cors: CorsSettings,
    #[serde(default)]
    pub frontend: FrontendSettings,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub monitoring: MonitoringSettings,
    #[serde(default)]
    pub history: HistorySettings,
}

/// What the history keeps of each edit (docs/workshop.md, "What the app keeps").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySettings {
    /// Days the results bucket keeps each image the model made; 0 keeps only the history's
    /// thumbnails (the image travels in the answer, as the app then says).
    #[serde(default = "default_keep_days")]
    pub keep_days: u32,
}

impl Default for HistorySettings {
    fn default() -> Self {
        HistorySettings { keep_days: default_keep_days() }
    }
}

fn default_keep_days() -> u32 {
    7
}

/// The host's alarms: what they watch for, and who is told (docs/workshop.md, "During the
/// workshop").
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringSettings {
    /// Who the alarms e-mail (an SNS e-mail subscription: AWS sends a confirmation e-mail first).
    #[serde(default)]
    pub email: Option<String>,
    /// The share of answers that are 5xx, in a minute, that raises the server-errors alarm.
    #[serde(default = "default_server_errors_percent")]
    pub server_errors_percent: u32,
    /// The share of `limits.edits_per_day` made today that raises the daily-images alarm.
    #[serde(default = "default_daily_images_percent")]
    pub daily_images_percent: u32,
}

impl Default for MonitoringSettings {
    fn default() -> Self {
        MonitoringSettings {
            email: None,
            server_errors_percent: default_server_errors_percent(),
            daily_images_percent: default_daily_images_percent(),
        }
    }
}

fn default_server_errors_percent() -> u32 {
    5
}
fn default_daily_images_percent() -> u32 {
    80
}

/// Daily spend caps, counted per image made (a request for 5 images counts 5), before the model
/// is called; over a cap the API answers 429 `quota_exceeded` until 00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Images one user may make a day.
    #[serde(default = "default_per_user")]
    pub edits_per_user_per_day: u32,
    /// Images the whole stack may make a day.
    #[serde(default = "default_per_stack")]
    pub edits_per_day: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { edits_per_user_per_day: default_per_user(), edits_per_day: default_per_stack() }
    }
}

fn default_per_user() -> u32 {
    50
}
fn default_per_stack() -> u32 {
    500
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Let people create their own account from the sign-in page. Off unless turned on: the app
    /// client id is public in the web app, so with sign-up on anyone who finds the URL can make an
    /// account and spend the owner's Bedrock budget; the owner invites people instead
    /// (`provision users add`).
    #[serde(default)]
    pub self_sign_up: bool,
    /// With self sign-up on: only addresses at these domains may sign themselves up (exact
    /// domains, lower case). Enforced by the user pool's pre sign-up trigger (the function), so a
    /// direct SignUp call is refused too; invitations are not restricted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_email_domains: Vec<String>,
    /// Minimum password length (Cognito allows 6..=99).
    #[serde(default = "default_password_length")]
    pub password_min_length: i32,
    /// What the invitation e-mail calls the event ("You are invited to …"); by default the
    /// stack's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workshop_name: Option<String>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            self_sign_up: false,
            allowed_email_domains: Vec::new(),
            password_min_length: default_password_length(),
            workshop_name: None,
        }
    }
}

/// The longest `auth.workshop_name`: it is the invitation's subject line, which Cognito caps at
/// 140 characters (MessageTemplateType.EmailSubject, Cognito API Reference) with room for the rest.
pub const MAX_WORKSHOP_NAME: usize = 100;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSettings {
    /// Lambda memory in MB (256..=10240). Image work is CPU-bound; more memory = more CPU.
    #[serde(default = "default_memory")]
    pub memory_mb: i32,
    /// Lambda timeout in seconds (1..=900). API Gateway stops waiting at 29 s.
    #[serde(default = "default_timeout")]
    pub timeout_s: i32,
    #[serde(default = "default_arch")]
    pub architecture: Architecture,
    /// Reserved concurrency: at most this many requests run at once, and Lambda keeps them for
    /// this function. Off by default: it is taken from the account's pool (1,000 by default, of
    /// which Lambda keeps 100 unreserved; new accounts may have far less), so every stack of a
    /// class in one account reserving it would exhaust the pool.
    #[serde(default)]
    pub reserved_concurrency: Option<i32>,
}

impl Default for FunctionSettings {
    fn default() -> Self {
        FunctionSettings {
            memory_mb: default_memory(),
            timeout_s: default_timeout(),
            architecture: default_arch(),
            reserved_concurrency: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Retention of the function's log group, in days (one of CloudWatch's allowed values).
    #[serde(default = "default_retention")]
    pub retention_days: i32,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings { retention_days: default_retention() }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// Read as text so that a retired family (`titan`, `nova`) gets its end-of-life date and what
    /// to use instead, not serde's "unknown variant".
    #[serde(default = "default_family")]
    pub family: String,
    /// Model id per operation, overriding the family's defaults (e.g. a `us.` inference profile).
    #[serde(default)]
    pub ids: BTreeMap<String, String>,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings { family: default_family(), ids: BTreeMap::new() }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// The API Gateway stage name (the first path segment of the API URL).
    #[serde(default = "default_stage")]
    pub stage: String,
    /// The stage's throttling, applied by API Gateway to each method (a 429 above it).
    #[serde(default)]
    pub throttle: Throttle,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings { stage: default_stage(), throttle: Throttle::default() }
    }
}

/// API Gateway's stage throttling (method settings `*/*`): a token bucket per method that holds
/// `burst` requests and refills at `rate` a second ("Throttle requests to your REST APIs",
/// api-gateway-request-throttling.html). The defaults are far above what people clicking in the
/// app send (a few requests a minute each) and well below what a script in a loop sends.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// Steady requests per second, per method.
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// Requests that may arrive at once, per method.
    #[serde(default = "default_burst")]
    pub burst: i32,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle { rate: default_rate(), burst: default_burst() }
    }
}

/// A class of up to 100 pressing "Edit" in the same second gets through the gateway; the daily
/// `limits` bound the spend, not a throttle that turns a class's burst away.
fn default_rate() -> f64 {
    50.0
}
fn default_burst() -> i32 {
    100
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    /// Origins allowed besides the Amplify app's own, e.g. `http://localhost:5173` for `npm run dev`.
    #[serde(default)]
    pub extra_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FrontendSettings {
    /// The Amplify branch that serves the app.
    #[serde(default = "default_branch")]
    pub branch: String,
}

impl Default for FrontendSettings {
    fn default() -> Self {
        FrontendSettings { branch: default_branch() }
    }
}

fn default_password_length() -> i32 {
    8
}
fn default_memory() -> i32 {
    1024
}
fn default_timeout() -> i32 {
    29
}
fn default_arch() -> Architecture {
    Architecture::X86_64
}
fn default_retention() -> i32 {
    7
}
fn default_family() -> String {
    ModelFamily::Stability.as_str().to_owned()
}
fn default_stage() -> String {
    "prod".to_owned()
}
fn default_branch() -> String {
    "main".to_owned()
}

/// The smallest function memory the stack file allows (see `validate`).
pub const MIN_MEMORY_MB: i32 = 256;

/// A validated stack: what the constructs are built from.
#[derive(Debug, Clone, Serialize)]
pub struct StackConfig {
    pub name: String,
    pub region: String,
    /// User tags plus the stack's own (`stack`, `managed-by`).
    pub tags: BTreeMap<String, String>,
    pub auth: AuthSettings,
    pub function: FunctionSettings,
    pub logs: LogSettings,
    pub family: ModelFamily,
    /// Operation → model id, after applying overrides to the family defaults.
    pub models: BTreeMap<String, String>,
    pub api: ApiSettings,
    pub cors: CorsSettings,
    pub frontend: FrontendSettings,
    pub limits: Limits,
    pub monitoring: MonitoringSettings,
    pub history: HistorySettings,
    /// The file it came from (for messages only).
    #[serde(skip)]
    pub source: PathBuf,
    /// Deployed to the local cloud (`--local`) rather than AWS. Set from the command line, not
    /// the file: what differs is only what the emulator needs (the password sign-in flow).
    #[serde(skip)]
    pub local: bool,
}

/// The project's root directory: the nearest ancestor of `start` holding `stacks/` and
/// `Cargo.toml`.
pub fn project_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|d| d.join("stacks").is_dir() && d.join("Cargo.toml").is_file()).map(Path::to_path_buf)
}

/// Finds `stacks/<name>.yaml` under `root`.
pub fn stack_path(root: &Path, stack: &str) -> PathBuf {
    root.join("stacks").join(format!("{stack}.yaml"))
}

pub fn load(path: &Path) -> Result<StackConfig, ConfigError> {
    load_for(path, Purpose::Deploy)
}

/// What a stack file is read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Everything is checked: the models must be live and offered in the region.
    Deploy,
    /// `down`: only what finds and deletes the stack matters, so a stack of a retired model
    /// family, or in a region that only a retired model served, can still be torn down.
    Teardown,
}

pub fn load_for(path: &Path, purpose: Purpose) -> Result<StackConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let hint = available_stacks(path).map(|names| format!(" (stacks available: {names})")).unwrap_or_default();
            return Err(ConfigError::Missing { path: path.to_owned(), hint });
        }
        Err(source) => return Err(ConfigError::Read { path: path.to_owned(), source }),
    };
    let default_name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("dev").to_owned();
    parse_for(&text, path, &default_name, purpose)
}

fn available_stacks(path: &Path) -> Option<String> {
    let dir = path.parent()?;
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            (p.extension()? == "yaml").then(|| p.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    (!names.is_empty()).then(|| names.join(", "))
}

pub fn parse(text: &str, path: &Path, default_name: &str) -> Result<StackConfig, ConfigError> {
    parse_for(text, path, default_name, Purpose::Deploy)
}

pub fn parse_for(text: &str, path: &Path, default_name: &str, purpose: Purpose) -> Result<StackConfig, ConfigError> {
    let file: StackFile = serde_norway::from_str(text)
        .map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })?;
    validate(file, path, default_name, purpose)
}

fn invalid(path: &Path, key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { path: path.to_owned(), key: key.to_owned(), message: message.into() }
}

/// At most this many domains: they travel in one environment variable of the function, and
/// Lambda allows 4 KB for all of them ("Lambda quotas").
const MAX_EMAIL_DOMAINS: usize = 20;

fn check_email_domains(a: &AuthSettings) -> Result<(), (String, String)> {
    let key = "auth.allowed_email_domains".to_owned();
    if a.allowed_email_domains.is_empty() {
        return Ok(());
    }
    if !a.self_sign_up {
        return Err((key, "restricts self sign-up, which is off: set `auth.self_sign_up: true` or remove it".into()));
    }
    if a.allowed_email_domains.len() > MAX_EMAIL_DOMAINS {
        return Err((key, format!("at most {MAX_EMAIL_DOMAINS} domains (got {})", a.allowed_email_domains.len())));
    }
    for (i, d) in a.allowed_email_domains.iter().enumerate() {
        // A host name as e-mail addresses carry it (RFC 1035 labels), in lower case: the trigger
        // compares the part after `@` whole, so `example.com` never admits `badexample.com`.
        let labels_ok = d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
        if d.len() > 253 || !d.contains('.') || !labels_ok {
            return Err((
                format!("{key}[{i}]"),
                format!("{d:?} is not an e-mail domain: lower-case labels joined by '.', like `example.com` (no `@`)"),
            ));
        }
    }
    Ok(())
}

pub fn validate_stack_name(name: &str) -> Result<(), String> {
    let ok_chars = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let starts = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if name.is_empty() || name.len() > STACK_NAME_MAX || !ok_chars || !starts || name.ends_with('-') {
        return Err(format!(
            "must be 1-{STACK_NAME_MAX} characters of a-z, 0-9 and '-', starting with a letter and not ending with '-' (got {name:?})"
        ));
    }
    Ok(())
}

/// A failed check: the key it names (`function.memory_mb`) and why.
type Check<T = ()> = Result<T, (String, String)>;

fn fail<T>(key: impl Into<String>, message: impl Into<String>) -> Check<T> {
    Err((key.into(), message.into()))
}

fn validate(file: StackFile, path: &Path, default_name: &str, purpose: Purpose) -> Result<StackConfig, ConfigError> {
    let teardown = purpose == Purpose::Teardown;
    let name = file.name.clone().unwrap_or_else(|| default_name.to_owned());
    let at = |(key, message): (String, String)| invalid(path, &key, message);
    validate_stack_name(&name).map_err(|m| invalid(path, "name", m))?;
    // The family before the region: a retired family's regions may be gone too, and its end of
    // life is the news (a Nova stack in eu-west-1).
    let family = check_family(&file.models, teardown).map_err(at)?;
    check_region(&file.region, teardown).map_err(at)?;
    check_tags(&file.tags).map_err(at)?;
    check_auth(&file.auth).map_err(at)?;
    check_function(&file.function).map_err(at)?;
    check_logs(&file.logs).map_err(at)?;
    let models = check_models(&file.models, family, &file.region, teardown).map_err(at)?;
    check_api(&file.api).map_err(at)?;
    check_capacity(&file).map_err(at)?;
    check_cors(&file.cors).map_err(at)?;
    check_frontend(&file.frontend).map_err(at)?;
    check_monitoring(&file.monitoring).map_err(at)?;
    check_history(&file.history).map_err(at)?;

    let mut tags = file.tags.clone();
    tags.insert("stack".to_owned(), name.clone());
    tags.insert("managed-by".to_owned(), "provision".to_owned());

    Ok(StackConfig {
        name,
        region: file.region,
        tags,
        auth: file.auth,
        function: file.function,
        logs: file.logs,
        family,
        models,
        api: file.api,
        cors: file.cors,
        limits: file.limits,
        frontend: file.frontend,
        monitoring: file.monitoring,
        history: file.history,
        source: path.to_owned(),
        local: false,
    })
}

/// `models.family`: a family this project knows (a retired one is read for teardown only).
fn check_family(m: &ModelSettings, teardown: bool) -> Check<ModelFamily> {
    match ModelFamily::parse(&m.family) {
        Some(f) => Ok(f),
        None if teardown && catalogue::retired_family(&m.family).is_some() => Ok(ModelFamily::Stability),
        None => {
            let message = match catalogue::retired_family(&m.family) {
                Some(r) => r.to_string(),
                None => format!(
                    "{:?} is not a model family; families: {}",
                    m.family,
                    ModelFamily::ALL.map(ModelFamily::as_str).join(", ")
                ),
            };
            fail("models.family", message)
        }
    }
}

/// `region`: one the catalogue's models are offered in (or, for teardown, a retired model's).
fn check_region(region: &str, teardown: bool) -> Check {
    let retired_region = catalogue::RETIRED.iter().any(|r| r.regions.contains(&region));
    if KNOWN_REGIONS.contains(&region) || (teardown && retired_region) {
        return Ok(());
    }
    fail(
        "region",
        format!("{region:?} is not a region this project supports; use one of: {}", KNOWN_REGIONS.join(", ")),
    )
}

/// `tags`: AWS's tag rules, and room for the stack's own two.
fn check_tags(tags: &BTreeMap<String, String>) -> Check {
    for (k, v) in tags {
        check_tag(k, v).map_err(|m| (format!("tags.{k}"), m))?;
    }
    if tags.len() > MAX_TAGS - 2 {
        return fail(
            "tags",
            format!(
                "at most {} tags: AWS allows {MAX_TAGS} per resource and the stack adds 2 of its own",
                MAX_TAGS - 2
            ),
        );
    }
    Ok(())
}

/// `auth`: Cognito's password length range and the e-mail domains.
fn check_auth(a: &AuthSettings) -> Check {
    if !(6..=99).contains(&a.password_min_length) {
        return fail("auth.password_min_length", format!("must be 6..=99 (got {})", a.password_min_length));
    }
    if let Some(name) = &a.workshop_name {
        let name = name.trim();
        // Braces would read as Cognito's placeholders ({username}, {####}) in the invitation.
        if name.is_empty()
            || name.chars().count() > MAX_WORKSHOP_NAME
            || name.contains(['{', '}'])
            || name.contains(char::is_control)
        {
            return fail(
                "auth.workshop_name",
                format!("must be 1..={MAX_WORKSHOP_NAME} characters without braces or line breaks (got {name:?})"),
            );
        }
    }
    check_email_domains(a)
}

/// `function`: Lambda's memory and timeout ranges, and its reserved concurrency.
fn check_function(f: &FunctionSettings) -> Check {
    // Lambda takes 128..=10240; below 256 the largest images the function accepts (121 MB peak
    // in the handler alone, `cargo bench -p image-edit-lambda --bench worst_memory`) would not
    // fit with the runtime beside them.
    if !(MIN_MEMORY_MB..=10240).contains(&f.memory_mb) {
        return fail(
            "function.memory_mb",
            format!(
                "must be {MIN_MEMORY_MB}..=10240 MB (got {}): the largest images the function accepts need about \
                 121 MB besides the runtime",
                f.memory_mb
            ),
        );
    }
    if !(1..=900).contains(&f.timeout_s) {
        return fail("function.timeout_s", format!("must be 1..=900 seconds (got {})", f.timeout_s));
    }
    Ok(())
}

/// `logs.retention_days`: a retention CloudWatch Logs offers.
/// `monitoring`: an address SNS accepts for an e-mail subscription, shares that can be reached.
fn check_monitoring(m: &MonitoringSettings) -> Check {
    if let Some(email) = &m.email {
        // SNS takes the endpoint of an `email` subscription as one address; the shape checked here
        // is what makes Subscribe succeed rather than what makes the mail arrive.
        let parts: Vec<&str> = email.split('@').collect();
        let ok = email.len() <= 254
            && parts.len() == 2
            && !parts[0].is_empty()
            && parts[1].contains('.')
            && !parts[1].starts_with('.')
            && !parts[1].ends_with('.')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '<' | '>'));
        if !ok {
            return fail("monitoring.email", format!("{email:?} is not one e-mail address (like host@example.com)"));
        }
    }
    for (key, value) in [
        ("monitoring.server_errors_percent", m.server_errors_percent),
        ("monitoring.daily_images_percent", m.daily_images_percent),
    ] {
        if !(1..=100).contains(&value) {
            return fail(key, format!("{value} is not a share between 1 and 100 (percent)"));
        }
    }
    Ok(())
}

/// `history.keep_days`: within what the function accepts (the same `MAX_KEEP_DAYS`).
fn check_history(h: &HistorySettings) -> Check {
    if h.keep_days > MAX_KEEP_DAYS {
        return fail(
            "history.keep_days",
            format!(
                "{} days is more than {MAX_KEEP_DAYS}; results are workshop copies (0 keeps thumbnails only)",
                h.keep_days
            ),
        );
    }
    Ok(())
}

fn check_logs(l: &LogSettings) -> Check {
    if LOG_RETENTION_DAYS.contains(&l.retention_days) {
        return Ok(());
    }
    let allowed: Vec<String> = LOG_RETENTION_DAYS.iter().map(i32::to_string).collect();
    fail(
        "logs.retention_days",
        format!("{} is not a CloudWatch retention; allowed: {}", l.retention_days, allowed.join(", ")),
    )
}

/// `models.ids`: the family's models in the region, with each override checked against the
/// catalogue (the operation, the id's shape, its lifecycle and where it is offered).
fn check_models(
    m: &ModelSettings,
    family: ModelFamily,
    region: &str,
    teardown: bool,
) -> Check<BTreeMap<String, String>> {
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let mut models = family.models_in(region);
    if models.is_empty() && !teardown {
        return fail(
            "models.family",
            format!(
                "the {} family is not offered in region {region}; it is offered in: {} (change `region` or `models.family`)",
                family.as_str(),
                family.regions().join(", ")
            ),
        );
    }
    for (op, id) in m.ids.iter().filter(|_| !teardown) {
        let key = format!("models.ids.{op}");
        if !OPERATIONS.contains(&op.as_str()) {
            return fail(key, format!("unknown operation; operations are: {}", OPERATIONS.join(", ")));
        }
        if !family.supports(op) {
            let supported: Vec<&str> = family.base_models().into_keys().collect();
            return fail(
                key,
                format!("the {} family has no `{op}`; it supports: {}", family.as_str(), supported.join(", ")),
            );
        }
        if let Some(why) = catalogue::end_of_life(id, &today) {
            return fail(key, why);
        }
        if !valid_model_id(id) {
            return fail(
                key,
                format!(
                    "{id:?} is not a Bedrock model id (e.g. `stability.stable-image-core-v1:1` or `us.stability.…`)"
                ),
            );
        }
        check_model_id(family, op, id, region).map_err(|m| (key.clone(), m))?;
        models.insert(op.clone(), id.clone());
    }
    Ok(models)
}

/// `api`: the stage name API Gateway takes, and the stage's throttle.
fn check_api(api: &ApiSettings) -> Check {
    let stage = &api.stage;
    if stage.is_empty() || stage.len() > 64 || !stage.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return fail("api.stage", "must be 1-64 characters of letters, digits, '-' and '_'");
    }
    Ok(())
}

/// How much the class may use: the function's reserved concurrency, the daily image limits and
/// the stage's throttle.
fn check_capacity(file: &StackFile) -> Check {
    // API Gateway's account-level defaults per Region are 10,000 requests a second and a burst of
    // 5,000 (Amazon API Gateway quotas); a stage cannot usefully go above them.
    // Lambda keeps at least 100 of the account's concurrency (1,000 by default) unreserved
    // ("Lambda function scaling", lambda/latest/dg/lambda-concurrency.html); 0 would stop the
    // function altogether.
    if let Some(n) = file.function.reserved_concurrency
        && !(1..=900).contains(&n)
    {
        return fail(
            "function.reserved_concurrency",
            format!("must be 1..=900 (got {n}): Lambda keeps 100 of the account's default 1,000 unreserved"),
        );
    }
    for (key, n) in [
        ("limits.edits_per_user_per_day", file.limits.edits_per_user_per_day),
        ("limits.edits_per_day", file.limits.edits_per_day),
    ] {
        if !(1..=100_000).contains(&n) {
            return fail(key, format!("must be 1..=100000 images a day (got {n})"));
        }
    }
    if file.limits.edits_per_user_per_day > file.limits.edits_per_day {
        return fail(
            "limits.edits_per_user_per_day",
            format!(
                "({}) is more than limits.edits_per_day ({}): one user could never use it",
                file.limits.edits_per_user_per_day, file.limits.edits_per_day
            ),
        );
    }
    let t = file.api.throttle;
    if !(t.rate.is_finite() && t.rate >= 0.1 && t.rate <= 10_000.0) {
        return fail("api.throttle.rate", format!("must be 0.1..=10000 requests a second (got {})", t.rate));
    }
    if !(1..=5_000).contains(&t.burst) {
        return fail("api.throttle.burst", format!("must be 1..=5000 requests (got {})", t.burst));
    }
    Ok(())
}

/// `cors.extra_origins`: exact origins, as browsers send them.
fn check_cors(c: &CorsSettings) -> Check {
    for (i, o) in c.extra_origins.iter().enumerate() {
        let key = format!("cors.extra_origins[{i}]");
        if o == "*" {
            return fail(key, "`*` is not allowed: list exact origins like `http://localhost:5173`");
        }
        let scheme_ok = o.starts_with("https://") || o.starts_with("http://");
        let rest = o.split_once("://").map(|x| x.1).unwrap_or("");
        if !scheme_ok || rest.is_empty() || rest.contains('/') || o.ends_with('/') {
            return fail(key, format!("{o:?} is not an origin: scheme://host[:port], no path"));
        }
        // Browsers send the Origin header in lower case; the preflight compares it exactly.
        if !rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-:[]".contains(c)) {
            return fail(
                key,
                format!("{o:?}: a host name in lower case (letters, digits, '.', '-') and an optional :port"),
            );
        }
    }
    Ok(())
}

/// `frontend.branch`: a name Amplify takes, whose host label is the app's origin.
fn check_frontend(f: &FrontendSettings) -> Check {
    match image_edit_contract::amplify::branch_problem(&f.branch) {
        Some(why) => fail("frontend.branch", format!("{:?}: {why}", f.branch)),
        None => Ok(()),
    }
}

/// `family.model-v1:0`, optionally behind a geography prefix (`us.`, `eu.`, `apac.`, `global.`).
fn valid_model_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 2048
        && id.contains('.')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
}

/// Tags per resource (the service models' `TagMap`/`tagListType` maximum, the same for every
/// tagged service of the stack).
pub const MAX_TAGS: usize = 50;

/// A tag every tagged service of the stack accepts, checked before anything is created so `up`
/// never fails half-way on one. The rules are the intersection of the service models' (botocore):
/// Amplify's `TagKey` `^(?!aws:)[a-zA-Z+-=._:/]+$` (letters, digits, `+ - = . _ : /` — no spaces,
/// no `@`), IAM's and CloudWatch Logs' `[\p{L}\p{Z}\p{N}_.:/=+\-@]` for keys and values; keys
/// 1–128 characters, values at most 256; `aws:` is reserved.
fn check_tag(key: &str, value: &str) -> Result<(), String> {
    let key_char = |c: char| c.is_ascii_alphanumeric() || "+-=._:/".contains(c);
    let value_char = |c: char| {
        c.is_alphabetic() || c.is_numeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
    };
    if key.is_empty() || key.chars().count() > 128 {
        return Err("tag keys are 1-128 characters".to_owned());
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err("tag keys may not start with `aws:` (reserved by AWS)".to_owned());
    }
    if let Some(c) = key.chars().find(|c| !key_char(*c)) {
        return Err(format!(
            "{c:?} is not allowed in a tag key: use letters, digits and + - = . _ : / (Amplify's rule, the strictest of the stack's services)"
        ));
    }
    if value.chars().count() > 256 {
        return Err("tag values are at most 256 characters".to_owned());
    }
    if let Some(c) = value.chars().find(|c| !value_char(*c)) {
        return Err(format!("{c:?} is not allowed in a tag value: use letters, digits, spaces and _ . : / = + - @"));
    }
    Ok(())
}

/// A model id given for `op` must be one AWS lets the stack invoke from `region`, of the
/// stack's family (the function speaks one family's request schema).
fn check_model_id(family: ModelFamily, op: &str, id: &str, region: &str) -> Result<(), String> {
    let known = || {
        let mut ids: Vec<&str> = catalogue::MODELS
            .iter()
            .filter(|m| m.family == family.as_str())
            .filter_map(|m| m.invocable_id(region))
            .collect();
        ids.sort_unstable();
        if ids.is_empty() { "none".to_owned() } else { ids.join(", ") }
    };
    match catalogue::resolve(id, region) {
        Ok((m, _)) if m.family != family.as_str() => Err(format!(
            "{id} is a {} model, but the stack's `models.family` is {}; for `{op}` in {region} use one of: {}",
            m.family,
            family.as_str(),
            known()
        )),
        Ok(_) => Ok(()),
        Err(Refusal::ProfileOnly { profile: p, .. }) => Err(format!(
            "{id} is offered in {region} only through a cross-region inference profile: use `{p}` (AWS refuses the plain id: \"on-demand throughput isn’t supported\")"
        )),
        Err(Refusal::NotInRegion { offered, .. }) => Err(format!(
            "{id} is not offered in region {region}; it is offered in: {} (change `region`, or use one of: {})",
            offered.join(", "),
            known()
        )),
        Err(Refusal::Unknown(_)) => Err(format!(
            "{id} is not a {} model this project knows; in {region} use one of: {}",
            family.as_str(),
            known()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_root_is_found_from_below_it() {
        let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR when it runs tests");
        let root = Path::new(&manifest).parent().expect("provisioner/ has a parent");
        assert_eq!(project_root(&root.join("provisioner/src")).as_deref(), Some(root));
        assert_eq!(project_root(root).as_deref(), Some(root));
        assert_eq!(project_root(Path::new("/")), None);
    }

    fn p(text: &str) -> Result<StackConfig, ConfigError> {
        parse(text, Path::new("stacks/t.yaml"), "t")
    }

    #[test]
    fn minimal_file_gets_defaults() {
        let c = p("region: us-west-2\n").expect("valid");
        assert_eq!(c.name, "t");
        assert_eq!(c.family, ModelFamily::Stability);
        assert_eq!(c.logs.retention_days, 7);
        assert_eq!(c.tags.get("stack").map(String::as_str), Some("t"));
        assert!(c.models.contains_key("inpaint"));
    }

    #[test]
    fn bad_input_names_file_key_and_allowed() {
        let cases = [
            ("region: us-west-2\nfuncton: {}\n", "funct"),
            ("region: us-west-2\nlogs: {retention_days: 15}\n", "logs.retention_days"),
            ("region: mars-1\n", "region"),
            ("region: us-west-2\nname: Bad_Name\n", "name"),
            ("region: us-west-2\nfunction: {memory_mb: 'lots'}\n", "memory_mb"),
            ("region: us-west-2\nfunction: {memory_mb: 128}\n", "function.memory_mb"),
            ("region: us-west-2\napi: {throttle: {rate: 0}}\n", "api.throttle.rate"),
            ("region: us-west-2\nlimits: {edits_per_day: 0}\n", "limits.edits_per_day"),
            ("region: us-west-2\nlimits: {edits_per_user_per_day: 600}\n", "limits.edits_per_user_per_day"),
            ("region: us-west-2\nfunction: {reserved_concurrency: 0}\n", "function.reserved_concurrency"),
            ("region: us-west-2\napi: {throttle: {burst: 6000}}\n", "api.throttle.burst"),
            ("region: us-west-2\nmodels: {ids: {variation: x.y}}\n", "models.ids.variation"),
            ("region: us-west-2\nmodels: {family: dall-e}\n", "models.family"),
            ("region: us-west-2\ncors: {extra_origins: ['*']}\n", "cors.extra_origins[0]"),
            ("region: us-west-2\ncors: {extra_origins: ['http://LocalHost:5173']}\n", "cors.extra_origins[0]"),
            ("region: us-west-2\ncors: {extra_origins: [\"https://a.example', 'x\"]}\n", "cors.extra_origins[0]"),
            ("region: us-west-2\nauth: {allowed_email_domains: [example.com]}\n", "auth.self_sign_up: true"),
            (
                "region: us-west-2\nauth: {self_sign_up: true, allowed_email_domains: ['@Example.com']}\n",
                "auth.allowed_email_domains[0]",
            ),
            ("region: us-west-2\nauth: {self_sign_up: true, allowed_email_domains: [com]}\n", "like `example.com`"),
            ("region: us-west-2\ntags: {'cost center': x}\n", "tags.cost center"),
            ("region: us-west-2\ntags: {'owner@team': x}\n", "tags.owner@team"),
            ("region: us-west-2\ntags: {'AWS:x': y}\n", "tags.AWS:x"),
            ("region: us-west-2\ntags: {team: 'a;b'}\n", "tags.team"),
            ("region: us-west-2\nauth: {workshop_name: 'Day {1}'}\n", "auth.workshop_name"),
            ("region: us-west-2\nauth: {workshop_name: ''}\n", "auth.workshop_name"),
            ("region: us-west-2\nmonitoring: {email: 'host at example'}\n", "monitoring.email"),
            ("region: us-west-2\nmonitoring: {server_errors_percent: 0}\n", "monitoring.server_errors_percent"),
            ("region: us-west-2\nmonitoring: {daily_images_percent: 101}\n", "monitoring.daily_images_percent"),
            ("region: us-west-2\nhistory: {keep_days: 400}\n", "history.keep_days"),
        ];
        for (text, key) in cases {
            let err = p(text).expect_err(text).to_string();
            assert!(err.contains("stacks/t.yaml"), "{err}");
            assert!(err.contains(key), "{text:?} → {err}");
        }
    }

    #[test]
    fn retention_error_lists_allowed_values() {
        let err = p("region: us-west-2\nlogs: {retention_days: 15}\n").expect_err("15 is invalid").to_string();
        assert!(err.contains("14, 30"), "{err}");
    }

    /// A stack file naming a retired model, by family or by id, is refused with the date, the
    /// model card and what to use instead.
    #[test]
    fn retired_models_are_refused_with_their_end_of_life() {
        for (text, key, date) in [
            ("region: us-east-1\nmodels: {family: titan}\n", "models.family", "2026-06-30"),
            ("region: eu-west-1\nmodels: {family: Nova}\n", "models.family", "2026-09-30"),
            (
                "region: us-west-2\nmodels: {ids: {generate: amazon.titan-image-generator-v2:0}}\n",
                "models.ids.generate",
                "2026-06-30",
            ),
            (
                "region: us-east-1\nmodels: {ids: {inpaint: us.amazon.nova-canvas-v1:0}}\n",
                "models.ids.inpaint",
                "2026-09-30",
            ),
        ] {
            let err = p(text).expect_err(text).to_string();
            assert!(err.contains(&format!("`{key}`")), "{text:?} → {err}");
            assert!(err.contains(&format!("reached end of life on {date}")), "{err}");
            assert!(err.contains("docs.aws.amazon.com/bedrock/latest/userguide/model-card-"), "{err}");
            assert!(err.contains("use `models.family: stability`"), "{err}");
        }
    }

    /// `down` still reads the stack file of a retired family, even in a region only it served:
    /// deleting must not depend on the models being alive.
    #[test]
    fn a_retired_stack_can_still_be_torn_down() {
        let text = "region: eu-west-1\nname: old\nmodels: {family: nova, ids: {inpaint: amazon.nova-canvas-v1:0}}\n";
        let path = Path::new("stacks/old.yaml");
        assert!(parse(text, path, "old").is_err());
        let c = parse_for(text, path, "old", Purpose::Teardown).expect("readable for teardown");
        assert_eq!((c.name.as_str(), c.region.as_str()), ("old", "eu-west-1"));
        assert!(parse_for("region: mars-1\n", path, "x", Purpose::Teardown).is_err());
    }

    /// Amplify serves a branch under a host label of its own: `/` and `.` become `-`, lower case.
    /// A branch whose label no browser can reach is refused.
    #[test]
    fn branch_names_become_reachable_host_labels() {
        let c = p("region: us-west-2\nfrontend: {branch: Release/1.2}\n").expect("valid");
        assert_eq!(
            crate::resources::amplify_app::origin("d1example.amplifyapp.com", &c.frontend.branch),
            "https://release-1-2.d1example.amplifyapp.com"
        );
        for bad in ["feature_x", "'-dash'", "x/", &"a".repeat(64)] {
            let err = p(&format!("region: us-west-2\nfrontend: {{branch: {bad}}}\n")).expect_err(bad).to_string();
            assert!(err.contains("`frontend.branch`"), "{bad}: {err}");
        }
    }
}
