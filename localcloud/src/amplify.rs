//! Amplify Hosting stand-in: the control-plane calls `provision` makes (apps, branches, manual
//! deployments with an upload URL, jobs, tags, delete) in Amplify's REST-JSON wire format, and
//! hosting of each branch's deployed zip at `http://<branch>.<appId>.amplifyapp.localhost:PORT/`
//! with the app's rewrite rules applied.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

/// The suffix of hosted sites' host names.
pub const HOST_SUFFIX: &str = ".amplifyapp.localhost";

#[derive(Debug, Clone)]
struct Job {
    id: String,
    status: &'static str,
    zip: Option<Vec<u8>>,
    reason: Option<String>,
    started: f64,
}

#[derive(Debug, Clone)]
struct Branch {
    name: String,
    description: String,
    stage: String,
    tags: BTreeMap<String, String>,
    jobs: Vec<Job>,
    site: Option<Arc<HashMap<String, Vec<u8>>>>,
    created: f64,
}

#[derive(Debug, Clone)]
struct App {
    id: String,
    name: String,
    description: String,
    platform: String,
    rules: Vec<Value>,
    tags: BTreeMap<String, String>,
    branches: BTreeMap<String, Branch>,
    created: f64,
    /// Where it was created: an app is seen, and named in ARNs, in its region only, as on AWS.
    region: String,
}

#[derive(Clone)]
pub struct Amplify {
    inner: Arc<Mutex<Inner>>,
    /// `127.0.0.1:PORT` of this server, for URLs it hands out.
    authority: String,
    account: String,
}

#[derive(Default)]
struct Inner {
    apps: BTreeMap<String, App>,
    counter: u64,
}

/// The region a request was signed for (SigV4's credential scope).
struct Region(String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Region {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Region(crate::iam::signing_region(&parts.headers).unwrap_or_else(|| "us-east-1".to_owned())))
    }
}

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    let mut r = (status, Json(json!({"message": message.into()}))).into_response();
    if let Ok(v) = HeaderValue::from_str(kind) {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, "NotFoundException", format!("{what} not found"))
}

impl Amplify {
    pub fn new(port: u16) -> Amplify {
        Amplify {
            inner: Arc::new(Mutex::new(Inner::default())),
            authority: format!("127.0.0.1:{port}"),
            account: "123456789012".into(),
        }
    }

    fn default_domain(&self, id: &str) -> String {
        let port = self.authority.rsplit(':').next().unwrap_or("80");
        format!("{id}{HOST_SUFFIX}:{port}")
    }

    fn app_json(&self, a: &App) -> Value {
        json!({
            "appId": a.id,
            "appArn": format!("arn:aws:amplify:{}:{}:apps/{}", a.region, self.account, a.id),
            "name": a.name,
            "description": a.description,
            "repository": "",
            "platform": a.platform,
            "createTime": a.created,
            "updateTime": a.created,
            "environmentVariables": {},
            "defaultDomain": self.default_domain(&a.id),
            "enableBranchAutoBuild": false,
            "enableBasicAuth": false,
            "customRules": a.rules,
            "tags": a.tags,
        })
    }

    fn branch_json(&self, a: &App, b: &Branch) -> Value {
        json!({
            "branchArn": format!("arn:aws:amplify:{}:{}:apps/{}/branches/{}", a.region, self.account, a.id, b.name),
            "branchName": b.name,
            "description": b.description,
            "stage": b.stage,
            "displayName": b.name,
            "enableNotification": false,
            "createTime": b.created,
            "updateTime": b.created,
            "environmentVariables": {},
            "enableAutoBuild": false,
            "customDomains": [],
            "framework": "",
            "activeJobId": b.jobs.last().map(|j| j.id.clone()).unwrap_or_default(),
            "totalNumberOfJobs": b.jobs.len().to_string(),
            "enableBasicAuth": false,
            "ttl": "5",
            "enablePullRequestPreview": false,
            "tags": b.tags,
        })
    }

    fn job_summary(&self, a: &App, b: &Branch, j: &Job) -> Value {
        json!({
            "jobArn": format!("arn:aws:amplify:{}:{}:apps/{}/branches/{}/jobs/{}", a.region, self.account, a.id, b.name, j.id),
            "jobId": j.id,
            "commitId": "manual",
            "commitMessage": j.reason.clone().unwrap_or_else(|| "manual deployment".into()),
            "commitTime": j.started,
            "startTime": j.started,
            "status": j.status,
            "jobType": "MANUAL",
        })
    }

    /// The control-plane routes; mount next to the other stand-ins.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/apps", post(create_app).get(list_apps))
            .route("/apps/{app}", get(get_app).post(update_app).delete(delete_app))
            .route("/apps/{app}/branches", post(create_branch))
            .route("/apps/{app}/branches/{branch}", get(get_branch).post(update_branch).delete(delete_branch))
            .route("/apps/{app}/branches/{branch}/deployments", post(create_deployment))
            .route("/apps/{app}/branches/{branch}/deployments/start", post(start_deployment))
            .route("/apps/{app}/branches/{branch}/jobs", get(list_jobs))
            .route("/apps/{app}/branches/{branch}/jobs/{job}", get(get_job))
            .route("/apps/{app}/branches/{branch}/jobs/{job}/stop", delete(stop_job))
            .route("/tags/{*arn}", post(tag_resource).get(list_tags).delete(untag_resource))
            .route("/_amplify_upload/{app}/{branch}/{job}", put(upload))
            .with_state(self.clone())
    }

    /// Serves a hosted site for a `Host` under [`HOST_SUFFIX`]; None when the host is not ours.
    pub fn serve_site(&self, host: &str, path: &str) -> Option<Response> {
        let host = host.split(':').next().unwrap_or(host);
        let prefix = host.strip_suffix(HOST_SUFFIX)?;
        let (label, app_id) = prefix.split_once('.')?;
        let (site, rules) = {
            let inner = self.inner.lock().ok()?;
            let Some(app) = inner.apps.get(app_id) else { return Some(not_found_page()) };
            // Each branch is served under its host label (`release/1.2` at `release-1-2.…`).
            let label = label.to_ascii_lowercase();
            let found = app.branches.iter().find(|(name, _)| image_edit_contract::amplify::branch_label(name) == label);
            let Some((_, b)) = found else { return Some(not_found_page()) };
            (b.site.clone(), app.rules.clone())
        };
        let Some(site) = site else { return Some(not_found_page()) };
        Some(serve_file(&site, &rules, path))
    }
}

fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html")],
        "<h1>404 Not Found</h1><p>No deployment here (yet).</p>",
    )
        .into_response()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Amplify's rule sources are either `</regex/>` or a path with `<*>` wildcards.
fn rule_matches(source: &str, path: &str) -> bool {
    if let Some(re) = source.strip_prefix("</").and_then(|s| s.strip_suffix("/>")) {
        return fancy_regex::Regex::new(re).ok().and_then(|r| r.is_match(path).ok()).unwrap_or(false);
    }
    match source.split_once("<*>") {
        Some((pre, post)) => path.starts_with(pre) && path.ends_with(post),
        None => source == path,
    }
}

fn serve_file(site: &HashMap<String, Vec<u8>>, rules: &[Value], path: &str) -> Response {
    let clean = path.trim_start_matches('/');
    let key = if clean.is_empty() { "index.html".to_owned() } else { clean.to_owned() };
    let mut status = StatusCode::OK;
    let mut file = site.get(&key).map(|b| (key.clone(), b));
    if file.is_none() {
        for r in rules {
            let source = r["source"].as_str().unwrap_or_default();
            if rule_matches(source, path) {
                let target = r["target"].as_str().unwrap_or("/index.html").trim_start_matches('/').to_owned();
                status = match r["status"].as_str() {
                    Some("404-200") | Some("200") | None => StatusCode::OK,
                    Some("404") => StatusCode::NOT_FOUND,
                    Some(_) => StatusCode::OK,
                };
                file = site.get(&target).map(|b| (target, b));
                break;
            }
        }
    }
    match file {
        Some((name, bytes)) => {
            let cache = if name == "index.html" || name == "config.json" {
                "no-cache"
            } else {
                "public, max-age=31536000, immutable"
            };
            (status, [(header::CONTENT_TYPE, content_type(&name)), (header::CACHE_CONTROL, cache)], bytes.clone())
                .into_response()
        }
        None => not_found_page(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateApp {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    custom_rules: Vec<Value>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    repository: Option<String>,
}

async fn create_app(State(s): State<Amplify>, Region(region): Region, Json(req): Json<CreateApp>) -> Response {
    if req.name.is_empty() || req.name.len() > 255 {
        return error(StatusCode::BAD_REQUEST, "BadRequestException", "name must be 1-255 characters");
    }
    if req.repository.as_deref().is_some_and(|r| !r.is_empty()) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "the local Amplify supports manual deployments only",
        );
    }
    if let Err(m) = check_tags(&req.tags) {
        return error(StatusCode::BAD_REQUEST, "BadRequestException", m);
    }
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    inner.counter += 1;
    let id = format!("d{:012x}", (now() as u64).wrapping_mul(31).wrapping_add(inner.counter) & 0xffff_ffff_ffff);
    let app = App {
        id: id.clone(),
        name: req.name,
        description: req.description,
        platform: req.platform.unwrap_or_else(|| "WEB".into()),
        rules: req.custom_rules,
        tags: req.tags,
        branches: BTreeMap::new(),
        created: now(),
        region,
    };
    let body = json!({"app": s.app_json(&app)});
    inner.apps.insert(id, app);
    Json(body).into_response()
}

async fn list_apps(
    State(s): State<Amplify>,
    Region(region): Region,
    Query(_q): Query<HashMap<String, String>>,
) -> Response {
    let Ok(inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let apps: Vec<Value> = inner.apps.values().filter(|a| a.region == region).map(|a| s.app_json(a)).collect();
    Json(json!({"apps": apps})).into_response()
}

async fn get_app(State(s): State<Amplify>, Region(region): Region, Path(app): Path<String>) -> Response {
    let Ok(inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    match inner.apps.get(&app).filter(|a| a.region == region) {
        Some(a) => Json(json!({"app": s.app_json(a)})).into_response(),
        None => not_found(&format!("App {app}")),
    }
}

async fn update_app(
    State(s): State<Amplify>,
    Region(region): Region,
    Path(app): Path<String>,
    Json(req): Json<Value>,
) -> Response {
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some(a) = inner.apps.get_mut(&app).filter(|a| a.region == region) else {
        return not_found(&format!("App {app}"));
    };
    if let Some(rules) = req.get("customRules").and_then(Value::as_array) {
        a.rules = rules.clone();
    }
    if let Some(p) = req.get("platform").and_then(Value::as_str) {
        a.platform = p.to_owned();
    }
    if let Some(d) = req.get("description").and_then(Value::as_str) {
        a.description = d.to_owned();
    }
    let body = json!({"app": s.app_json(a)});
    Json(body).into_response()
}

async fn delete_app(State(s): State<Amplify>, Region(region): Region, Path(app): Path<String>) -> Response {
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    match inner.apps.get(&app).is_some_and(|a| a.region == region).then(|| inner.apps.remove(&app)).flatten() {
        Some(a) => Json(json!({"app": s.app_json(&a)})).into_response(),
        None => not_found(&format!("App {app}")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBranch {
    branch_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

async fn create_branch(
    State(s): State<Amplify>,
    Region(region): Region,
    Path(app): Path<String>,
    Json(req): Json<CreateBranch>,
) -> Response {
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    if let Err(m) = check_tags(&req.tags) {
        return error(StatusCode::BAD_REQUEST, "BadRequestException", m);
    }
    let Some(a) = inner.apps.get_mut(&app).filter(|a| a.region == region) else {
        return not_found(&format!("App {app}"));
    };
    if a.branches.contains_key(&req.branch_name) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            format!("Branch {} already exists", req.branch_name),
        );
    }
    let b = Branch {
        name: req.branch_name.clone(),
        description: req.description,
        stage: req.stage.unwrap_or_else(|| "NONE".into()),
        tags: req.tags,
        jobs: Vec::new(),
        site: None,
        created: now(),
    };
    a.branches.insert(req.branch_name.clone(), b);
    let a = a.clone();
    let body = json!({"branch": s.branch_json(&a, &a.branches[&req.branch_name])});
    Json(body).into_response()
}

async fn get_branch(
    State(s): State<Amplify>,
    Region(region): Region,
    Path((app, branch)): Path<(String, String)>,
) -> Response {
    let Ok(inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some(a) = inner.apps.get(&app).filter(|a| a.region == region) else { return not_found(&format!("App {app}")) };
    match a.branches.get(&branch) {
        Some(b) => Json(json!({"branch": s.branch_json(a, b)})).into_response(),
        None => not_found(&format!("Branch {branch}")),
    }
}

async fn update_branch(
    State(s): State<Amplify>,
    Region(region): Region,
    Path((app, branch)): Path<(String, String)>,
    Json(req): Json<Value>,
) -> Response {
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some(a) = inner.apps.get_mut(&app).filter(|a| a.region == region) else {
        return not_found(&format!("App {app}"));
    };
    let Some(b) = a.branches.get_mut(&branch) else { return not_found(&format!("Branch {branch}")) };
    if let Some(d) = req.get("description").and_then(Value::as_str) {
        b.description = d.to_owned();
    }
    if let Some(st) = req.get("stage").and_then(Value::as_str) {
        b.stage = st.to_owned();
    }
    let a = a.clone();
    let body = json!({"branch": s.branch_json(&a, &a.branches[&branch])});
    Json(body).into_response()
}

async fn delete_branch(
    State(s): State<Amplify>,
    Region(region): Region,
    Path((app, branch)): Path<(String, String)>,
) -> Response {
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some(a) = inner.apps.get_mut(&app).filter(|a| a.region == region) else {
        return not_found(&format!("App {app}"));
    };
    let Some(b) = a.branches.remove(&branch) else { return not_found(&format!("Branch {branch}")) };
    let a = a.clone();
    Json(json!({"branch": s.branch_json(&a, &b)})).into_response()
}

/// A job that has not reached a terminal status (`JobStatus` of the service model: FAILED, SUCCEED
/// and CANCELLED are the terminal ones).
fn unfinished(j: &Job) -> bool {
    !matches!(j.status, "FAILED" | "SUCCEED" | "CANCELLED")
}

/// Amplify accepts a new manual deployment only when the branch's jobs have finished: otherwise
/// CreateDeployment is a BadRequestException with this message (reported in
/// aws-amplify/amplify-backend #2137 and #1528; shared/reference/aws-fidelity.md).
async fn create_deployment(
    State(s): State<Amplify>,
    Region(region): Region,
    Path((app, branch)): Path<(String, String)>,
) -> Response {
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some(a) = inner.apps.get_mut(&app).filter(|a| a.region == region) else {
        return not_found(&format!("App {app}"));
    };
    let Some(b) = a.branches.get_mut(&branch) else { return not_found(&format!("Branch {branch}")) };
    if let Some(open) = b.jobs.iter().rev().find(|j| unfinished(j)) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            format!(
                "The last job(deployment) {} was not finished, please wait until it finish or use StopJob operation to cancel it before creating a new deployment",
                open.id
            ),
        );
    }
    let id = (b.jobs.len() + 1).to_string();
    b.jobs.push(Job { id: id.clone(), status: "PENDING", zip: None, reason: None, started: now() });
    let url = format!("http://{}/_amplify_upload/{app}/{branch}/{id}", s.authority);
    Json(json!({"jobId": id, "fileUploadUrls": {}, "zipUploadUrl": url})).into_response()
}

async fn upload(
    State(s): State<Amplify>,
    Path((app, branch, job)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some(j) = inner
        .apps
        .get_mut(&app)
        .and_then(|a| a.branches.get_mut(&branch))
        .and_then(|b| b.jobs.iter_mut().find(|j| j.id == job))
    else {
        return (StatusCode::FORBIDDEN, "no such upload").into_response();
    };
    j.zip = Some(body.to_vec());
    StatusCode::OK.into_response()
}

/// Unpacks a deployment zip; Amplify serves it from the zip root, so index.html must be there.
fn unpack(zip_bytes: &[u8]) -> Result<HashMap<String, Vec<u8>>, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).map_err(|e| format!("not a zip: {e}"))?;
    let mut files = HashMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).map_err(|e| e.to_string())?;
        if f.is_dir() {
            continue;
        }
        let name = f.name().map_err(|e| e.to_string())?.trim_start_matches("./").to_owned();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).map_err(|e| e.to_string())?;
        files.insert(name, buf);
    }
    if !files.contains_key("index.html") {
        return Err("index.html is not at the zip root".into());
    }
    Ok(files)
}

async fn start_deployment(
    State(s): State<Amplify>,
    Region(region): Region,
    Path((app, branch)): Path<(String, String)>,
    Json(req): Json<Value>,
) -> Response {
    let job_id = req.get("jobId").and_then(Value::as_str).unwrap_or_default().to_owned();
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some(a) = inner.apps.get_mut(&app).filter(|a| a.region == region) else {
        return not_found(&format!("App {app}"));
    };
    let Some(b) = a.branches.get_mut(&branch) else { return not_found(&format!("Branch {branch}")) };
    let Some(pos) = b.jobs.iter().position(|j| j.id == job_id) else { return not_found(&format!("Job {job_id}")) };
    if b.jobs[pos].status != "PENDING" {
        let status = b.jobs[pos].status;
        return error(StatusCode::BAD_REQUEST, "BadRequestException", format!("Job {job_id} is {status}, not PENDING"));
    }
    let zip = b.jobs[pos].zip.take();
    let result = match zip {
        None => Err("no zip was uploaded to the deployment's zipUploadUrl".to_owned()),
        Some(z) => unpack(&z),
    };
    match result {
        Ok(files) => {
            b.site = Some(Arc::new(files));
            b.jobs[pos].status = "SUCCEED";
        }
        Err(reason) => {
            b.jobs[pos].status = "FAILED";
            b.jobs[pos].reason = Some(reason);
        }
    }
    let a = a.clone();
    let b = &a.branches[&branch];
    Json(json!({"jobSummary": s.job_summary(&a, b, &b.jobs[pos])})).into_response()
}

/// ListJobs: the branch's jobs, most recent first.
async fn list_jobs(
    State(s): State<Amplify>,
    Region(region): Region,
    Path((app, branch)): Path<(String, String)>,
) -> Response {
    let Ok(inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some(a) = inner.apps.get(&app).filter(|a| a.region == region) else { return not_found(&format!("App {app}")) };
    let Some(b) = a.branches.get(&branch) else { return not_found(&format!("Branch {branch}")) };
    let jobs: Vec<Value> = b.jobs.iter().rev().map(|j| s.job_summary(a, b, j)).collect();
    Json(json!({"jobSummaries": jobs})).into_response()
}

/// StopJob: an unfinished job is cancelled; a finished one cannot be stopped.
async fn stop_job(
    State(s): State<Amplify>,
    Region(region): Region,
    Path((app, branch, job)): Path<(String, String, String)>,
) -> Response {
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some(a) = inner.apps.get_mut(&app).filter(|a| a.region == region) else {
        return not_found(&format!("App {app}"));
    };
    let Some(b) = a.branches.get_mut(&branch) else { return not_found(&format!("Branch {branch}")) };
    let Some(j) = b.jobs.iter_mut().find(|j| j.id == job) else { return not_found(&format!("Job {job}")) };
    if !unfinished(j) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            format!("Job {job} has already finished ({})", j.status),
        );
    }
    j.status = "CANCELLED";
    j.zip = None;
    let a = a.clone();
    let b = &a.branches[&branch];
    let Some(j) = b.jobs.iter().find(|j| j.id == job) else { return not_found(&format!("Job {job}")) };
    Json(json!({"jobSummary": s.job_summary(&a, b, j)})).into_response()
}

async fn get_job(
    State(s): State<Amplify>,
    Region(region): Region,
    Path((app, branch, job)): Path<(String, String, String)>,
) -> Response {
    let Ok(inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some(a) = inner.apps.get(&app).filter(|a| a.region == region) else { return not_found(&format!("App {app}")) };
    let Some(b) = a.branches.get(&branch) else { return not_found(&format!("Branch {branch}")) };
    let Some(j) = b.jobs.iter().find(|j| j.id == job) else { return not_found(&format!("Job {job}")) };
    Json(json!({"job": {"summary": s.job_summary(a, b, j), "steps": []}})).into_response()
}

fn arn_target(arn: &str) -> Option<(String, Option<String>)> {
    let rest = arn.split_once(":apps/")?.1;
    match rest.split_once("/branches/") {
        Some((app, branch)) => Some((app.to_owned(), Some(branch.to_owned()))),
        None => Some((rest.to_owned(), None)),
    }
}

/// Amplify's tag constraints, from its service model: `TagKey` 1–128 characters matching
/// `^(?!aws:)[a-zA-Z+-=._:/]+$`, `TagValue` at most 256 matching `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`,
/// at most 50 tags (`TagMap`). Amplify is the strictest of the stack's services.
fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), String> {
    static PATTERNS: std::sync::OnceLock<(fancy_regex::Regex, fancy_regex::Regex)> = std::sync::OnceLock::new();
    let (key, value) = PATTERNS.get_or_init(|| {
        (
            fancy_regex::Regex::new(r"^(?!aws:)[a-zA-Z+-=._:/]+$").expect("TagKey pattern"),
            fancy_regex::Regex::new(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$").expect("TagValue pattern"),
        )
    });
    if tags.len() > 50 {
        return Err(format!(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50 (got {})",
            tags.len()
        ));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || !key.is_match(k).unwrap_or(false) {
            return Err(format!(
                "1 validation error detected: Value '{k}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^(?!aws:)[a-zA-Z+-=._:/]+$]"
            ));
        }
        if v.chars().count() > 256 || !value.is_match(v).unwrap_or(false) {
            return Err(format!(
                "1 validation error detected: Value '{v}' at 'tags.{k}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*)$"
            ));
        }
    }
    Ok(())
}

async fn tag_resource(
    State(s): State<Amplify>,
    Region(region): Region,
    Path(arn): Path<String>,
    Json(req): Json<Value>,
) -> Response {
    let tags: BTreeMap<String, String> = req
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
        .unwrap_or_default();
    if let Err(m) = check_tags(&tags) {
        return error(StatusCode::BAD_REQUEST, "BadRequestException", m);
    }
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some((app, branch)) = arn_target(&arn) else {
        return error(StatusCode::BAD_REQUEST, "BadRequestException", "bad ARN");
    };
    let Some(a) = inner.apps.get_mut(&app).filter(|a| a.region == region) else {
        return not_found(&format!("App {app}"));
    };
    match branch {
        Some(br) => match a.branches.get_mut(&br) {
            Some(b) => b.tags.extend(tags),
            None => return not_found(&format!("Branch {br}")),
        },
        None => a.tags.extend(tags),
    }
    Json(json!({})).into_response()
}

/// UntagResource: `DELETE /tags/{resourceArn}?tagKeys=…&tagKeys=…`.
async fn untag_resource(
    State(s): State<Amplify>,
    Region(region): Region,
    Path(arn): Path<String>,
    uri: axum::http::Uri,
) -> Response {
    let keys: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|p| p.split_once('='))
        .filter(|(k, _)| *k == "tagKeys")
        .map(|(_, v)| crate::gateway::url_decode(v))
        .collect();
    let Ok(mut inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some((app, branch)) = arn_target(&arn) else {
        return error(StatusCode::BAD_REQUEST, "BadRequestException", "bad ARN");
    };
    let Some(a) = inner.apps.get_mut(&app).filter(|a| a.region == region) else {
        return not_found(&format!("App {app}"));
    };
    let tags = match branch {
        Some(br) => match a.branches.get_mut(&br) {
            Some(b) => &mut b.tags,
            None => return not_found(&format!("Branch {br}")),
        },
        None => &mut a.tags,
    };
    for k in keys {
        tags.remove(&k);
    }
    Json(json!({})).into_response()
}

async fn list_tags(
    State(s): State<Amplify>,
    Region(region): Region,
    Path(arn): Path<String>,
    _h: HeaderMap,
) -> Response {
    let Ok(inner) = s.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", "lock");
    };
    let Some((app, branch)) = arn_target(&arn) else {
        return error(StatusCode::BAD_REQUEST, "BadRequestException", "bad ARN");
    };
    let Some(a) = inner.apps.get(&app).filter(|a| a.region == region) else { return not_found(&format!("App {app}")) };
    let tags = match branch {
        Some(br) => a.branches.get(&br).map(|b| b.tags.clone()),
        None => Some(a.tags.clone()),
    };
    match tags {
        Some(t) => Json(json!({"tags": t})).into_response(),
        None => not_found("resource"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_the_service_model() {
        let t = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        assert!(check_tags(&t(&[("team", "imaging"), ("cost-center", "42"), ("a:b/c=d+e", "x y@z")])).is_ok());
        for bad in
            [("aws:owner", "x"), ("has space", "x"), ("at@sign", "x"), ("", "x"), ("ok", "semi;colon"), ("ok", "tab\t")]
        {
            assert!(check_tags(&t(&[bad])).is_err(), "{bad:?}");
        }
        let many: BTreeMap<String, String> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(check_tags(&many).is_err());
    }

    #[test]
    fn spa_rule_rewrites_routes_but_not_assets() {
        let source = "</^[^.]+$|\\.(?!(css|gif|ico|jpg|jpeg|js|json|png|svg|txt|webp|woff|woff2|ttf|map)$)([^.]+$)/>";
        assert!(rule_matches(source, "/history"));
        assert!(rule_matches(source, "/edits/123"));
        assert!(!rule_matches(source, "/assets/app.js"));
        assert!(!rule_matches(source, "/config.json"));
    }
}
