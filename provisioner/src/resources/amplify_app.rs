//! Amplify Hosting: an app without a Git repository, its branch, and the manual deployment of
//! the built SPA (CreateDeployment → PUT zip → StartDeployment → wait for the job).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_amplify::types::{CustomRule, JobStatus, Platform, Stage};
use serde_json::{Value, json};

use super::{Env, Live, ResourceError, removed_tags, tags_value};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::stack::{AmplifyApp, AmplifyBranch, Site};

/// Serve index.html for every path that is not a file, so client-side routes survive a reload.
pub const SPA_REWRITE_SOURCE: &str =
    "</^[^.]+$|\\.(?!(css|gif|ico|jpg|jpeg|js|json|png|svg|txt|webp|woff|woff2|ttf|map)$)([^.]+$)/>";
const SITE_MARKER: &str = "site sha256:";
/// How long a deployment job may take before `up` gives up waiting (it keeps running in AWS).
const JOB_LIMIT: Duration = Duration::from_secs(600);

/// The branch's public origin. The local cloud's Amplify serves `*.localhost` over plain HTTP.
pub fn origin(default_domain: &str, branch: &str) -> String {
    let host_only = default_domain.split(':').next().unwrap_or(default_domain);
    let scheme = if host_only == "localhost" || host_only.ends_with(".localhost") { "http" } else { "https" };
    format!("{scheme}://{branch}.{default_domain}")
}

pub fn app_desired(c: &AmplifyApp, env: &Env<'_>) -> Value {
    json!({
        "name": c.name,
        "platform": "WEB",
        "repository": null,
        "rules": [{"source": SPA_REWRITE_SOURCE, "target": "/index.html", "status": "200"}],
        "tags": tags_value(env.tags()),
    })
}

pub async fn find_apps(aws: &Aws, name: &str) -> Result<Vec<String>, AwsError> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let out =
            aws.amplify.list_apps().max_results(100).set_next_token(token).send().await.ctx("amplify:ListApps")?;
        ids.extend(out.apps().iter().filter(|a| a.name() == name).map(|a| a.app_id().to_owned()));
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(ids);
        }
    }
}

pub async fn app_read(aws: &Aws, name: &str, physical: Option<&str>, branch: &str) -> Result<Option<Live>, AwsError> {
    let id = match physical {
        Some(id) => Some(id.to_owned()),
        None => find_apps(aws, name).await?.into_iter().next(),
    };
    let Some(id) = id else { return Ok(None) };
    let Some(out) = optional(aws.amplify.get_app().app_id(&id).send().await.ctx("amplify:GetApp"))? else {
        return Ok(None);
    };
    let Some(app) = out.app() else { return Ok(None) };
    let rules: Vec<Value> = app
        .custom_rules()
        .iter()
        .map(|r| json!({"source": r.source(), "target": r.target(), "status": r.status()}))
        .collect();
    let tags: BTreeMap<String, String> =
        app.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    let repo = Some(app.repository()).filter(|r| !r.is_empty());
    let props = json!({
        "name": app.name(),
        "platform": app.platform().as_str(),
        "repository": repo,
        "rules": rules,
        "tags": tags_value(&tags),
    });
    let domain = app.default_domain().to_owned();
    Ok(Some(Live {
        physical: id.clone(),
        outputs: BTreeMap::from([
            ("id".to_owned(), id),
            ("default_domain".to_owned(), domain.clone()),
            ("origin".to_owned(), origin(&domain, branch)),
        ]),
        props,
    }))
}

fn rule() -> Result<CustomRule, ResourceError> {
    CustomRule::builder()
        .source(SPA_REWRITE_SOURCE)
        .target("/index.html")
        .status("200")
        .build()
        .map_err(|e| ResourceError::Refused(e.to_string()))
}

pub async fn app_create(env: &Env<'_>, c: &AmplifyApp, _desired: &Value) -> Result<Live, ResourceError> {
    let out = env
        .aws
        .amplify
        .create_app()
        .name(&c.name)
        .description("Image editor web app (deployed by provision)")
        .platform(Platform::Web)
        .custom_rules(rule()?)
        .set_tags(Some(env.tags().clone().into_iter().collect()))
        .send()
        .await
        .ctx("amplify:CreateApp")?;
    let id = out.app().map(|a| a.app_id().to_owned()).unwrap_or_default();
    app_read(env.aws, &c.name, Some(&id), &env.stack.config.frontend.branch)
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("Amplify app {id} vanished right after it was created")))
}

pub async fn app_update(env: &Env<'_>, c: &AmplifyApp, live: &Live, desired: &Value) -> Result<Live, ResourceError> {
    if live.props["repository"] != Value::Null {
        return Err(ResourceError::Refused(format!(
            "Amplify app {} ({}) is connected to a Git repository; this stack deploys manually. Rename the stack or delete that app",
            c.name, live.physical
        )));
    }
    if live.props["rules"] != desired["rules"] || live.props["platform"] != desired["platform"] {
        env.aws
            .amplify
            .update_app()
            .app_id(&live.physical)
            .platform(Platform::Web)
            .custom_rules(rule()?)
            .send()
            .await
            .ctx("amplify:UpdateApp")?;
    }
    if live.props["tags"] != desired["tags"] {
        let arn = format!("arn:aws:amplify:{}:{}:apps/{}", env.region(), env.account, live.physical);
        retag(env, &arn, &live.props["tags"], &desired["tags"]).await?;
    }
    app_read(env.aws, &c.name, Some(&live.physical), &env.stack.config.frontend.branch)
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("Amplify app {} vanished during the update", live.physical)))
}

pub async fn app_delete(aws: &Aws, id: &str) -> Result<(), AwsError> {
    optional(aws.amplify.delete_app().app_id(id).send().await.ctx("amplify:DeleteApp"))?;
    Ok(())
}

pub fn branch_desired(c: &AmplifyBranch, env: &Env<'_>) -> Value {
    json!({"name": c.name, "stage": "PRODUCTION", "tags": tags_value(env.tags())})
}

pub async fn branch_read(env: &Env<'_>, c: &AmplifyBranch) -> Result<Option<Live>, AwsError> {
    let Some(app) = env.outputs.known(c.app.id, "id") else { return Ok(None) };
    let Some(out) =
        optional(env.aws.amplify.get_branch().app_id(app).branch_name(&c.name).send().await.ctx("amplify:GetBranch"))?
    else {
        return Ok(None);
    };
    let Some(b) = out.branch() else { return Ok(None) };
    let tags: BTreeMap<String, String> =
        b.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    Ok(Some(Live {
        physical: b.branch_name().to_owned(),
        props: json!({"name": b.branch_name(), "stage": b.stage().as_str(), "tags": tags_value(&tags)}),
        outputs: BTreeMap::from([
            ("name".to_owned(), b.branch_name().to_owned()),
            ("arn".to_owned(), b.branch_arn().to_owned()),
        ]),
    }))
}

pub async fn branch_create(env: &Env<'_>, c: &AmplifyBranch, _desired: &Value) -> Result<Live, ResourceError> {
    env.aws
        .amplify
        .create_branch()
        .app_id(env.outputs.get(c.app.id, "id"))
        .branch_name(&c.name)
        .stage(Stage::Production)
        .set_tags(Some(env.tags().clone().into_iter().collect()))
        .send()
        .await
        .ctx("amplify:CreateBranch")?;
    branch_read(env, c)
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("Amplify branch {} vanished right after it was created", c.name)))
}

pub async fn branch_update(
    env: &Env<'_>,
    c: &AmplifyBranch,
    live: &Live,
    desired: &Value,
) -> Result<Live, ResourceError> {
    if live.props["stage"] != desired["stage"] {
        env.aws
            .amplify
            .update_branch()
            .app_id(env.outputs.get(c.app.id, "id"))
            .branch_name(&c.name)
            .stage(Stage::Production)
            .send()
            .await
            .ctx("amplify:UpdateBranch")?;
    }
    if live.props["tags"] != desired["tags"]
        && let Some(arn) = live.outputs.get("arn")
    {
        retag(env, arn, &live.props["tags"], &desired["tags"]).await?;
    }
    branch_read(env, c)
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("Amplify branch {} vanished during the update", c.name)))
}

/// The SPA's runtime settings, written into the deployment as `/config.json`.
pub fn site_config(c: &Site, env: &Env<'_>) -> Value {
    let cognito_endpoint = std::env::var("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")
        .ok()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .filter(|s| !s.is_empty());
    json!({
        "region": env.region(),
        "userPoolId": env.outputs.get(c.pool.id, "id"),
        "userPoolClientId": env.outputs.get(c.client.id, "id"),
        "apiUrl": env.outputs.get(c.api.id, "url"),
        "cognitoEndpoint": cognito_endpoint,
        "selfSignUp": c.self_sign_up,
        "local": crate::local::is_local(),
        "stackName": env.stack.config.name,
    })
}

pub fn site_desired(c: &Site, env: &Env<'_>) -> Result<Value, ResourceError> {
    let config = site_config(c, env);
    Ok(json!({"content_sha256": env.artifacts.site_sha256(&config)?}))
}

pub async fn site_read(env: &Env<'_>, c: &Site) -> Result<Option<Live>, AwsError> {
    let (Some(app), Some(branch)) = (env.outputs.known(c.app.id, "id"), env.outputs.known(c.branch.id, "name")) else {
        return Ok(None);
    };
    let Some(out) =
        optional(env.aws.amplify.get_branch().app_id(app).branch_name(branch).send().await.ctx("amplify:GetBranch"))?
    else {
        return Ok(None);
    };
    let Some(sha) = out.branch().map(|b| b.description()).and_then(|d| d.strip_prefix(SITE_MARKER)) else {
        return Ok(None);
    };
    Ok(Some(Live {
        physical: format!("{app}/{branch}"),
        props: json!({"content_sha256": sha}),
        outputs: BTreeMap::from([("url".to_owned(), env.outputs.get(c.app.id, "origin"))]),
    }))
}

/// Uploads the built app with its config and waits for Amplify to publish it.
pub async fn site_deploy(env: &Env<'_>, c: &Site, desired: &Value) -> Result<Live, ResourceError> {
    let aws = env.aws;
    let app = env.outputs.get(c.app.id, "id");
    let branch = env.outputs.get(c.branch.id, "name");
    let zip = env.artifacts.site_zip(&site_config(c, env))?;
    settle_unfinished_jobs(aws, &app, &branch).await?;
    let dep = aws
        .amplify
        .create_deployment()
        .app_id(&app)
        .branch_name(&branch)
        .send()
        .await
        .ctx("amplify:CreateDeployment")?;
    let job = dep.job_id().unwrap_or_default().to_owned();
    // A job that is never started blocks every later deployment of the branch: stop it when the
    // upload or the start fails.
    if let Err(e) = upload_and_start(aws, &app, &branch, &job, dep.zip_upload_url(), zip).await {
        let stopped = stop_job(aws, &app, &branch, &job).await;
        return Err(ResourceError::Refused(match stopped {
            Ok(()) => format!("{e} (deployment job {job} stopped; run `provision up` again)"),
            Err(s) => format!("{e}; stopping deployment job {job} failed too ({s}): `provision up` stops it next time"),
        }));
    }
    match wait_for_job(aws, &app, &branch, &job).await? {
        JobStatus::Succeed => {}
        s => {
            return Err(ResourceError::Refused(format!(
                "Amplify deployment job {job} ended {}: see the app's console page for the log",
                s.as_str()
            )));
        }
    }
    aws.amplify
        .update_branch()
        .app_id(&app)
        .branch_name(&branch)
        .description(format!("{SITE_MARKER}{}", desired["content_sha256"].as_str().unwrap_or_default()))
        .send()
        .await
        .ctx("amplify:UpdateBranch")?;
    site_read(env, c)
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("Amplify branch {branch} vanished after the deployment")))
}

/// Tags as the stack file says: removed keys untagged, the rest (re)tagged.
async fn retag(env: &Env<'_>, arn: &str, live: &Value, desired: &Value) -> Result<(), ResourceError> {
    let removed = removed_tags(live, desired);
    if !removed.is_empty() {
        env.aws
            .amplify
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .ctx("amplify:UntagResource")?;
    }
    env.aws
        .amplify
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(env.tags().clone().into_iter().collect()))
        .send()
        .await
        .ctx("amplify:TagResource")?;
    Ok(())
}

async fn upload_and_start(
    aws: &Aws,
    app: &str,
    branch: &str,
    job: &str,
    url: &str,
    zip: Vec<u8>,
) -> Result<(), ResourceError> {
    let put = reqwest::Client::new()
        .put(url)
        .header("content-type", "application/zip")
        .body(zip)
        .send()
        .await
        .map_err(|e| ResourceError::Refused(format!("uploading the site to Amplify failed: {e}")))?;
    if !put.status().is_success() {
        return Err(ResourceError::Refused(format!("uploading the site to Amplify failed: HTTP {}", put.status())));
    }
    aws.amplify
        .start_deployment()
        .app_id(app)
        .branch_name(branch)
        .job_id(job)
        .send()
        .await
        .ctx("amplify:StartDeployment")?;
    Ok(())
}

/// Amplify accepts a new manual deployment only when the branch's last job has finished
/// (CreateDeployment answers BadRequestException "The last job(deployment) N was not finished …
/// use StopJob operation to cancel it"; shared/reference/aws-fidelity.md). A job an interrupted
/// `up` left behind is settled first: one that was created but never started (nothing will ever
/// start it) is stopped; one that is running is waited for.
async fn settle_unfinished_jobs(aws: &Aws, app: &str, branch: &str) -> Result<(), ResourceError> {
    let jobs =
        aws.amplify.list_jobs().app_id(app).branch_name(branch).max_results(10).send().await.ctx("amplify:ListJobs")?;
    for j in jobs.job_summaries() {
        match j.status() {
            JobStatus::Created | JobStatus::Pending => {
                tracing::warn!(job = j.job_id(), "stopping a deployment job an interrupted `up` left pending");
                stop_job(aws, app, branch, j.job_id()).await?;
            }
            JobStatus::Provisioning | JobStatus::Running | JobStatus::Cancelling => {
                tracing::warn!(job = j.job_id(), "waiting for an earlier deployment job to finish");
                wait_for_job(aws, app, branch, j.job_id()).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn stop_job(aws: &Aws, app: &str, branch: &str, job: &str) -> Result<(), ResourceError> {
    aws.amplify.stop_job().app_id(app).branch_name(branch).job_id(job).send().await.ctx("amplify:StopJob")?;
    Ok(())
}

/// Waits until the job has finished; its terminal status, or an error after [`JOB_LIMIT`].
async fn wait_for_job(aws: &Aws, app: &str, branch: &str, job: &str) -> Result<JobStatus, ResourceError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        let out =
            aws.amplify.get_job().app_id(app).branch_name(branch).job_id(job).send().await.ctx("amplify:GetJob")?;
        match out.job().and_then(|j| j.summary()).map(|s| s.status().clone()) {
            Some(s @ (JobStatus::Succeed | JobStatus::Failed | JobStatus::Cancelled)) => return Ok(s),
            _ if started.elapsed() > JOB_LIMIT => {
                return Err(ResourceError::Refused(format!(
                    "Amplify deployment job {job} still running after {} s; run `provision up` again to wait",
                    JOB_LIMIT.as_secs()
                )));
            }
            _ => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
