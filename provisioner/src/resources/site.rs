//! The site: the built SPA with its runtime config, deployed to the Amplify branch manually
//! (CreateDeployment → PUT zip → StartDeployment → wait for the job). Not a CloudFormation
//! resource: `up --engine cloudformation` deploys it after the stack.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_amplify::types::JobStatus;
use serde::Serialize;
use serde_json::{Value, json};

use super::amplify_app::AmplifyApp;
use super::amplify_branch::AmplifyBranch;
use super::rest_api::RestApi;
use super::user_pool::UserPool;
use super::user_pool_client::UserPoolClient;
use super::{Env, Live, Resource, ResourceError};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::stack::{Id, Out, Ref};
use crate::synth::{SynthError, Template};

const SITE_MARKER: &str = "site sha256:";
/// How long a deployment job may take before `up` gives up waiting (it keeps running in AWS).
const JOB_LIMIT: Duration = Duration::from_secs(600);

/// The built frontend plus its runtime config, deployed to the branch.
#[derive(Debug, Clone)]
pub struct Site {
    pub branch: Ref<AmplifyBranch>,
    pub app: Ref<AmplifyApp>,
    pub api: Ref<RestApi>,
    pub pool: Ref<UserPool>,
    pub client: Ref<UserPoolClient>,
    pub self_sign_up: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    /// The hash of the built site with its config.json (the branch's description records the
    /// deployed one).
    pub content_sha256: String,
}

/// What other constructs (and `outputs`) may read of the site.
impl Site {
    /// Where the deployed app is served (the app's origin).
    pub const URL: Out<Self> = Out::engine_only("url");
}

impl Resource for Site {
    const KIND: &'static str = "Amplify manual deployment";
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::URL];

    fn name(&self) -> String {
        "site".to_owned()
    }

    fn deps(&self) -> Vec<Id> {
        vec![self.branch.id, self.app.id, self.api.id, self.pool.id, self.client.id]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props { content_sha256: env.artifacts.site_sha256(&site_config(self, env))? })
    }

    async fn read(&self, env: &Env<'_>, _physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env, self).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        deploy(env, self, want).await
    }

    async fn update(&self, env: &Env<'_>, _live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        deploy(env, self, want).await.map(drop)
    }

    /// Not in the template (see the module docs).
    fn synth(&self, _id: Id, _want: &Props, _t: &mut Template) -> Result<(), SynthError> {
        Ok(())
    }
}

/// The SPA's runtime settings, written into the deployment as `/config.json`.
pub fn site_config(c: &Site, env: &Env<'_>) -> Value {
    let target = &env.aws.target;
    let cognito_endpoint = target.endpoint("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER");
    json!({
        "region": env.region(),
        "userPoolId": env.outputs.get(c.pool, UserPool::ID),
        "userPoolClientId": env.outputs.get(c.client, UserPoolClient::ID),
        "apiUrl": env.outputs.get(c.api, RestApi::URL),
        "cognitoEndpoint": cognito_endpoint,
        "selfSignUp": c.self_sign_up,
        "local": target.is_local(),
        "stackName": env.stack.config.name,
    })
}

pub async fn read(env: &Env<'_>, c: &Site) -> Result<Option<Live<Props>>, AwsError> {
    let (Some(app), Some(branch)) =
        (env.outputs.known(c.app, AmplifyApp::ID), env.outputs.known(c.branch, AmplifyBranch::NAME))
    else {
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
        props: Props { content_sha256: sha.to_owned() },
        outputs: BTreeMap::from([(Site::URL.key.to_owned(), env.outputs.get(c.app, AmplifyApp::ORIGIN))]),
    }))
}

/// Uploads the built app with its config and waits for Amplify to publish it. Returns the
/// deployment's physical id (`app/branch`).
pub async fn deploy(env: &Env<'_>, c: &Site, want: &Props) -> Result<String, ResourceError> {
    let aws = env.aws;
    let app = env.outputs.get(c.app, AmplifyApp::ID);
    let branch = env.outputs.get(c.branch, AmplifyBranch::NAME);
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
        return Err(ResourceError::Deployment(match stopped {
            Ok(()) => format!("{e} (deployment job {job} stopped; run `provision up` again)"),
            Err(s) => format!("{e}; stopping deployment job {job} failed too ({s}): `provision up` stops it next time"),
        }));
    }
    match wait_for_job(aws, &app, &branch, &job).await? {
        JobStatus::Succeed => {}
        s => {
            return Err(ResourceError::Deployment(format!(
                "Amplify deployment job {job} ended {}: see the app's console page for the log",
                s.as_str()
            )));
        }
    }
    aws.amplify
        .update_branch()
        .app_id(&app)
        .branch_name(&branch)
        .description(format!("{SITE_MARKER}{}", want.content_sha256))
        .send()
        .await
        .ctx("amplify:UpdateBranch")?;
    Ok(format!("{app}/{branch}"))
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
        .map_err(|e| ResourceError::Deployment(format!("uploading the site to Amplify failed: {e}")))?;
    if !put.status().is_success() {
        return Err(ResourceError::Deployment(format!("uploading the site to Amplify failed: HTTP {}", put.status())));
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
                return Err(ResourceError::NotReady(format!(
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
