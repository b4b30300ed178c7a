//! `down`: the documented teardown order — it exists here once; `provision down --dry-run`
//! prints it and docs/cleanup.md shows the same list (a test keeps them equal).
//!
//! Each step finds the stack's resources by the ids in the state file and, when the state file
//! is gone, by their names and the stack's tags. A resource that is already gone counts as done.
//! The run ends with a left-behind check.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::progress::{Event, Progress};
use crate::resources::{amplify_app, function, log_group, rest_api, role, table, user_pool};
use crate::stack::Names;
use crate::state::StateFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Teardown {
    AmplifyApp,
    RestApi,
    Table,
    Function,
    Role,
    UserPool,
    LogGroups,
}

/// The order `down` deletes in. Edit here, and docs/cleanup.md follows (the docs test says so).
pub const ORDER: &[Teardown] = &[
    Teardown::AmplifyApp,
    Teardown::RestApi,
    Teardown::Table,
    Teardown::Function,
    Teardown::Role,
    Teardown::UserPool,
    Teardown::LogGroups,
];

impl Teardown {
    pub fn title(self) -> &'static str {
        match self {
            Teardown::AmplifyApp => "Amplify app",
            Teardown::RestApi => "API Gateway REST API",
            Teardown::Table => "DynamoDB table",
            Teardown::Function => "Lambda function (and its permission)",
            Teardown::Role => "IAM role (inline policies first)",
            Teardown::UserPool => "Cognito user pool (domain and clients first)",
            Teardown::LogGroups => "CloudWatch log groups",
        }
    }

    pub fn why(self) -> &'static str {
        match self {
            Teardown::AmplifyApp => "the public front door closes first; its branch and deployments go with it",
            Teardown::RestApi => {
                "no request can reach the function any more; stages, deployments and the authorizer go with it"
            }
            Teardown::Table => "the edit history is deleted while nothing can write to it",
            Teardown::Function => "nothing invokes it now; its resource policy (the API's permission) is removed first",
            Teardown::Role => "no function assumes it now; IAM refuses to delete a role that still has policies",
            Teardown::UserPool => {
                "sign-in is no longer needed; Cognito refuses to delete a pool that still has a domain"
            }
            Teardown::LogGroups => "last, so that the logs of everything above stay readable until the end",
        }
    }

    /// The physical names this step covers for `stack`.
    pub fn names(self, stack: &str) -> Vec<String> {
        match self {
            Teardown::AmplifyApp => vec![Names::app(stack)],
            Teardown::RestApi => vec![Names::rest_api(stack)],
            Teardown::Table => vec![Names::table(stack)],
            Teardown::Function => vec![Names::function(stack)],
            Teardown::Role => vec![Names::role(stack)],
            Teardown::UserPool => vec![Names::user_pool(stack)],
            Teardown::LogGroups => {
                vec![Names::function_log_group(stack), Names::api_log_group_prefix("<api-id>") + "<stage>"]
            }
        }
    }
}

/// The order as text, as `down --dry-run` prints it.
/// The documented order as data: one object per step (`--json` of `down --dry-run`).
pub fn order(stack: &str) -> Vec<serde_json::Value> {
    ORDER
        .iter()
        .enumerate()
        .map(|(i, t)| serde_json::json!({"step": i + 1, "what": t.title(), "names": t.names(stack), "why": t.why()}))
        .collect()
}

pub fn describe(stack: &str) -> String {
    let mut s = String::new();
    for (i, t) in ORDER.iter().enumerate() {
        s.push_str(&format!("{}. {} — {}\n   {}\n", i + 1, t.title(), t.names(stack).join(", "), t.why()));
    }
    s
}

/// A resource of the stack that still exists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Leftover {
    pub kind: String,
    pub id: String,
}

fn tagged_as(tags: &BTreeMap<String, String>, stack: &str) -> bool {
    tags.get("stack").map(String::as_str) == Some(stack)
        && tags.get("managed-by").map(String::as_str) == Some("provision")
}

fn tag_map(t: Option<&std::collections::HashMap<String, String>>) -> BTreeMap<String, String> {
    t.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

/// The tags of a pool, API or app; None when it does not exist (any more).
async fn tags_of(aws: &Aws, step: Teardown, id: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    Ok(match step {
        Teardown::AmplifyApp => optional(aws.amplify.get_app().app_id(id).send().await.ctx("amplify:GetApp"))?
            .map(|a| tag_map(a.app().and_then(|a| a.tags()))),
        Teardown::RestApi => {
            optional(aws.apigateway.get_rest_api().rest_api_id(id).send().await.ctx("apigateway:GetRestApi"))?
                .map(|a| tag_map(a.tags()))
        }
        _ => optional(
            aws.cognito.describe_user_pool().user_pool_id(id).send().await.ctx("cognito-idp:DescribeUserPool"),
        )?
        .map(|p| tag_map(p.user_pool().and_then(|p| p.user_pool_tags()))),
    })
}

/// Kinds whose names are not unique (pools, APIs, apps): a candidate found by name is the
/// stack's only when it carries the stack's tags; one the state file names always is. Ids that no
/// longer exist (a stale state entry) are dropped.
async fn owned(
    aws: &Aws,
    stack: &str,
    step: Teardown,
    recorded: Option<String>,
    by_name: Vec<String>,
    untagged_ok: bool,
) -> Result<BTreeSet<String>, AwsError> {
    let mut ids = BTreeSet::new();
    for id in recorded.iter().cloned().chain(by_name) {
        let Some(tags) = tags_of(aws, step, &id).await? else { continue };
        if Some(&id) == recorded.as_ref() || tagged_as(&tags, stack) || untagged_ok && tags.is_empty() {
            ids.insert(id);
        }
    }
    Ok(ids)
}

/// The stack's resources that one teardown step covers.
async fn stack_resources(
    aws: &Aws,
    stack: &str,
    step: Teardown,
    state: Option<&StateFile>,
) -> Result<Vec<String>, AwsError> {
    let from_state = |id: &str| state.and_then(|s| s.physical(id)).map(str::to_owned);
    let mut ids: BTreeSet<String> = BTreeSet::new();
    match step {
        Teardown::AmplifyApp => {
            let found = amplify_app::find_apps(aws, &Names::app(stack)).await?;
            ids = owned(aws, stack, step, from_state("WebApp"), found, false).await?;
        }
        Teardown::RestApi => {
            // moto cannot tag a REST API after creation; without a state file an untagged API
            // with the stack's name is taken as the stack's.
            let found = rest_api::find(aws, &Names::rest_api(stack)).await?;
            ids = owned(aws, stack, step, from_state("Api"), found, state.is_none()).await?;
        }
        Teardown::Table => {
            if table::read(aws, &Names::table(stack)).await?.is_some() {
                ids.insert(Names::table(stack));
            }
        }
        Teardown::Function => {
            if function::read(aws, &Names::function(stack)).await?.is_some() {
                ids.insert(Names::function(stack));
            }
        }
        Teardown::Role => {
            if optional(aws.iam.get_role().role_name(Names::role(stack)).send().await.ctx("iam:GetRole"))?.is_some() {
                ids.insert(Names::role(stack));
            }
        }
        Teardown::UserPool => {
            let found = user_pool::find_pools(aws, &Names::user_pool(stack)).await?;
            ids = owned(aws, stack, step, from_state("UserPool"), found, false).await?;
        }
        Teardown::LogGroups => {
            for (name, _, _) in log_group::find(aws, &Names::function_log_group(stack)).await? {
                if name == Names::function_log_group(stack) {
                    ids.insert(name);
                }
            }
            let api_ids: BTreeSet<String> = state
                .map(|s| s.state.resources.get("Api").and_then(|e| e.physical.clone()).into_iter().collect())
                .unwrap_or_default();
            for api in api_ids {
                for (name, _, _) in log_group::find(aws, &Names::api_log_group_prefix(&api)).await? {
                    ids.insert(name);
                }
            }
        }
    }
    Ok(ids.into_iter().collect())
}

async fn delete(aws: &Aws, stack: &str, step: Teardown, id: &str) -> Result<(), AwsError> {
    match step {
        Teardown::AmplifyApp => amplify_app::delete(aws, id).await,
        Teardown::RestApi => rest_api::delete(aws, id).await,
        Teardown::Table => table::delete(aws, id).await,
        Teardown::Function => function::delete(aws, id, &Names::permission(stack)).await,
        Teardown::Role => role::delete(aws, id).await,
        Teardown::UserPool => user_pool::delete(aws, id).await,
        Teardown::LogGroups => log_group::delete(aws, id).await,
    }
}

#[derive(Debug, Default)]
pub struct DownReport {
    pub deleted: Vec<Leftover>,
    pub errors: Vec<String>,
    pub left_behind: Vec<Leftover>,
}

/// Deletes the stack in the documented order, then checks that nothing of it is left.
pub async fn down(aws: &Aws, stack: &str, state: Option<&StateFile>, progress: &Progress) -> DownReport {
    let mut report = DownReport::default();
    for step in ORDER {
        let started = Instant::now();
        let found = match stack_resources(aws, stack, *step, state).await {
            Ok(f) => f,
            Err(e) => {
                progress.emit(Event::resource("failed", step.title(), "", "", "delete").message(e.to_string()));
                report.errors.push(format!("{}: {e}", step.title()));
                continue;
            }
        };
        if found.is_empty() {
            progress.emit(Event::resource("done", step.title(), "", "(none)", "absent").elapsed(started.elapsed()));
            continue;
        }
        for id in found {
            progress.emit(Event::resource("start", step.title(), "", &id, "delete"));
            match delete(aws, stack, *step, &id).await {
                Ok(()) => {
                    progress.emit(Event::resource("done", step.title(), "", &id, "deleted").elapsed(started.elapsed()));
                    report.deleted.push(Leftover { kind: step.title().to_owned(), id });
                }
                Err(e) => {
                    progress.emit(Event::resource("failed", step.title(), "", &id, "delete").message(e.to_string()));
                    report.errors.push(format!("{} {id}: {e}", step.title()));
                }
            }
        }
    }
    match left_behind(aws, stack, state).await {
        Ok(l) => report.left_behind = l,
        Err(e) => report.errors.push(format!("left-behind check: {e}")),
    }
    report
}

/// Everything of the stack that still exists, in teardown order.
pub async fn left_behind(aws: &Aws, stack: &str, state: Option<&StateFile>) -> Result<Vec<Leftover>, AwsError> {
    let mut out = Vec::new();
    for step in ORDER {
        for id in stack_resources(aws, stack, *step, state).await? {
            out.push(Leftover { kind: step.title().to_owned(), id });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/cleanup.md shows exactly the order the code uses.
    #[test]
    fn cleanup_doc_lists_the_same_order() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cleanup.md"))
            .expect("docs/cleanup.md");
        let start = doc.find("<!-- teardown-order:start -->").expect("start marker");
        let end = doc.find("<!-- teardown-order:end -->").expect("end marker");
        let listed: Vec<String> =
            doc[start..end].lines().filter_map(|l| l.split_once(". ").map(|(_, t)| t.trim().to_owned())).collect();
        let code: Vec<String> = ORDER.iter().map(|t| t.title().to_owned()).collect();
        assert_eq!(listed, code);
    }

    #[test]
    fn order_is_the_documented_one() {
        let titles: Vec<&str> = ORDER.iter().map(|t| t.title()).collect();
        assert_eq!(titles[0], "Amplify app");
        assert_eq!(titles[6], "CloudWatch log groups");
    }
}
