//! The Amplify Hosting app: no Git repository (the site is deployed manually, see `site.rs`),
//! one rewrite rule so that client-side routes survive a reload.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_amplify::types::{CustomRule, Platform};
use serde::Serialize;
use serde_json::json;

use super::{Env, Live, Resource, ResourceError, Tags, removed_tags, tags_from};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::cfn_types::amplify_app as cfn;
use crate::stack::{EDITOR, Id, Names, Out};
use crate::state::StateFile;
use crate::synth::{CfnResource, SynthError, Template, Val, tag_list, val};
use crate::teardown::{Step, owned, recorded, tag_map};

#[derive(Debug, Clone)]
pub struct AmplifyApp {
    pub name: String,
}

/// Serve index.html for every path that is not a file, so client-side routes survive a reload.
pub const SPA_REWRITE_SOURCE: &str =
    "</^[^.]+$|\\.(?!(css|gif|ico|jpg|jpeg|js|json|png|svg|txt|webp|woff|woff2|ttf|map)$)([^.]+$)/>";

/// The branch's public origin, as a browser reports it (Amplify's host label for the branch). The
/// local cloud's Amplify serves `*.localhost` over plain HTTP.
pub fn origin(default_domain: &str, branch: &str) -> String {
    let host_only = default_domain.split(':').next().unwrap_or(default_domain);
    let scheme = if host_only == "localhost" || host_only.ends_with(".localhost") { "http" } else { "https" };
    format!("{scheme}://{}.{default_domain}", image_edit_contract::amplify::branch_label(branch))
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rule {
    pub source: String,
    pub target: String,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    pub platform: String,
    /// Always none: an app connected to Git is not this stack's.
    pub repository: Option<String>,
    pub rules: Vec<Rule>,
    pub tags: Tags,
}

fn rewrite() -> Rule {
    Rule { source: SPA_REWRITE_SOURCE.to_owned(), target: "/index.html".to_owned(), status: Some("200".to_owned()) }
}

/// What other constructs (and `synth`) may read of a AmplifyApp.
impl AmplifyApp {
    /// The app id.
    pub const ID: Out<Self> = Out::attribute("id", "AppId");
    /// The branch's public origin (`https://main.<default domain>`).
    pub const ORIGIN: Out<Self> = Out::derived("origin");
    /// Amplify's domain for the app (`<app id>.amplifyapp.com`).
    pub const DEFAULT_DOMAIN: Out<Self> = Out::attribute("default_domain", "DefaultDomain");
}

impl Resource for AmplifyApp {
    const KIND: &'static str = cfn::App::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::ID, Self::ORIGIN, Self::DEFAULT_DOMAIN];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props {
            name: self.name.clone(),
            platform: Platform::Web.as_str().to_owned(),
            repository: None,
            rules: vec![rewrite()],
            tags: env.tags().clone(),
        })
    }

    async fn read(&self, env: &Env<'_>, physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env.aws, &self.name, physical, &env.stack.config.frontend.branch).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        create(env, self, want).await
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        update(env, self, live, want).await
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        let rules = want
            .rules
            .iter()
            .map(|r| cfn::CustomRule {
                source: val(&r.source),
                target: val(&r.target),
                status: r.status.as_ref().map(Val::from),
                ..Default::default()
            })
            .collect();
        t.add(
            id,
            &cfn::App {
                name: val(&want.name),
                platform: val(&want.platform),
                description: val("Image editor web app (deployed by provision)"),
                custom_rules: Some(rules),
                tags: Some(tag_list(t.tags())),
                ..Default::default()
            },
            json!({}),
        )
    }

    /// The origin: the branch's label before the app's default domain.
    fn derived_output(&self, id: Id, key: &str, stack: &crate::stack::Stack) -> Option<String> {
        if key != Self::ORIGIN.key {
            return None;
        }
        let domain = super::cfn_output(self, id, Self::DEFAULT_DOMAIN.key, stack)?;
        Some(format!("https://{}.{domain}", image_edit_contract::amplify::branch_label(&stack.config.frontend.branch)))
    }
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

pub async fn read(
    aws: &Aws,
    name: &str,
    physical: Option<&str>,
    branch: &str,
) -> Result<Option<Live<Props>>, AwsError> {
    let id = match physical {
        Some(id) => Some(id.to_owned()),
        None => super::the_one_named("Amplify app", name, find_apps(aws, name).await?, "amplify:ListApps")?,
    };
    let Some(id) = id else { return Ok(None) };
    let Some(out) = optional(aws.amplify.get_app().app_id(&id).send().await.ctx("amplify:GetApp"))? else {
        return Ok(None);
    };
    let Some(app) = out.app() else { return Ok(None) };
    let rules = app
        .custom_rules()
        .iter()
        .map(|r| Rule {
            source: r.source().to_owned(),
            target: r.target().to_owned(),
            status: r.status().map(str::to_owned),
        })
        .collect();
    let props = Props {
        name: app.name().to_owned(),
        platform: app.platform().as_str().to_owned(),
        repository: Some(app.repository()).filter(|r| !r.is_empty()).map(str::to_owned),
        rules,
        tags: app.tags().map(tags_from).unwrap_or_default(),
    };
    let domain = app.default_domain().to_owned();
    Ok(Some(Live {
        physical: id.clone(),
        outputs: BTreeMap::from([
            (AmplifyApp::ID.key.to_owned(), id),
            (AmplifyApp::DEFAULT_DOMAIN.key.to_owned(), domain.clone()),
            (AmplifyApp::ORIGIN.key.to_owned(), origin(&domain, branch)),
        ]),
        props,
    }))
}

fn rules(want: &Props) -> Result<Vec<CustomRule>, ResourceError> {
    want.rules
        .iter()
        .map(|r| {
            CustomRule::builder()
                .source(&r.source)
                .target(&r.target)
                .set_status(r.status.clone())
                .build()
                .map_err(|e| ResourceError::Request(e.to_string()))
        })
        .collect()
}

async fn create(env: &Env<'_>, c: &AmplifyApp, want: &Props) -> Result<String, ResourceError> {
    let rules = rules(want)?;
    let create = async || {
        let out = env
            .aws
            .amplify
            .create_app()
            .name(&c.name)
            .description("Image editor web app (deployed by provision)")
            .platform(Platform::Web)
            .set_custom_rules(Some(rules.clone()))
            .set_tags(Some(env.tags().clone().into_iter().collect()))
            .customize()
            .config_override(aws_sdk_amplify::config::Builder::default().retry_config(super::no_retries()))
            .send()
            .await
            .ctx("amplify:CreateApp")?;
        Ok(out.app().map(|a| a.app_id().to_owned()).unwrap_or_default())
    };
    Ok(super::create_once("Amplify app", &c.name, async || find_apps(env.aws, &c.name).await, create).await?)
}

async fn update(env: &Env<'_>, c: &AmplifyApp, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
    let have = &live.props;
    if have.repository.is_some() {
        return Err(ResourceError::Refused(format!(
            "Amplify app {} ({}) is connected to a Git repository; this stack deploys manually. Rename the stack or delete that app",
            c.name, live.physical
        )));
    }
    if have.rules != want.rules || have.platform != want.platform {
        env.aws
            .amplify
            .update_app()
            .app_id(&live.physical)
            .platform(Platform::Web)
            .set_custom_rules(Some(rules(want)?))
            .send()
            .await
            .ctx("amplify:UpdateApp")?;
    }
    if have.tags != want.tags {
        let arn = format!("arn:aws:amplify:{}:{}:apps/{}", env.region(), env.account, live.physical);
        retag(env, &arn, &have.tags, &want.tags).await?;
    }
    Ok(())
}

pub async fn delete(aws: &Aws, id: &str) -> Result<(), AwsError> {
    optional(aws.amplify.delete_app().app_id(id).send().await.ctx("amplify:DeleteApp"))?;
    Ok(())
}

/// Tags as the stack file says: removed keys untagged, the rest (re)tagged.
pub(crate) async fn retag(env: &Env<'_>, arn: &str, live: &Tags, want: &Tags) -> Result<(), ResourceError> {
    let removed = removed_tags(live, want);
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

/// Its place in `down`: first, the public front door closes.
impl Step for AmplifyApp {
    const TITLE: &'static str = "Amplify app";
    const WHY: &'static str =
        "the public front door closes before what is behind it; its branch and deployments go with it";

    fn names(stack: &str) -> Vec<String> {
        vec![Names::app(stack)]
    }

    async fn find(aws: &Aws, stack: &str, state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError> {
        let found = find_apps(aws, &Names::app(stack)).await?;
        let tags = async |id: &str| -> Result<Option<BTreeMap<String, String>>, AwsError> {
            Ok(optional(aws.amplify.get_app().app_id(id).send().await.ctx("amplify:GetApp"))?
                .map(|a| tag_map(a.app().and_then(|a| a.tags()))))
        };
        owned(stack, recorded(state, EDITOR.app.id), found, false, tags).await
    }

    async fn delete(aws: &Aws, _stack: &str, id: &str) -> Result<(), AwsError> {
        delete(aws, id).await
    }
}
