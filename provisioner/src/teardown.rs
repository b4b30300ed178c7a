//! `down`: the documented teardown order — it exists here once; `provision down --dry-run`
//! prints it and docs/cleanup.md shows the same list (a test keeps them equal).
//!
//! What one step is — its title, why it comes where it does, how it finds the stack's resources
//! and deletes them — lives with its construct kind (`impl Step` in `resources/<kind>.rs`); this
//! file holds only the order, which is a fact about all of them together.
//!
//! Each step finds the stack's resources by the ids in the state file and, when the state file
//! is gone, by their names and the stack's tags. A resource that is already gone counts as done.
//! The run ends with a left-behind check.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::aws::{Aws, AwsError};
use crate::progress::{Event, Progress};
use crate::resources::alarm::Alarm;
use crate::resources::amplify_app::AmplifyApp;
use crate::resources::bucket::Bucket;
use crate::resources::dashboard::Dashboard;
use crate::resources::function::Function;
use crate::resources::log_group::LogGroup;
use crate::resources::rest_api::RestApi;
use crate::resources::role::Role;
use crate::resources::table::Table;
use crate::resources::topic::Topic;
use crate::resources::user_pool::UserPool;
use crate::state::StateFile;

/// One step of `down`, implemented by the construct kind it deletes (with what belongs to it:
/// the app's branch, the pool's clients and domain, the function's permission).
// `down` awaits these futures on its own task (never spawned), so they need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Step {
    /// As `down` reports it and docs/cleanup.md lists it.
    const TITLE: &'static str;
    /// Why the step comes where it does.
    const WHY: &'static str;
    /// The physical names this step covers for `stack` (as `down --dry-run` shows them).
    fn names(stack: &str) -> Vec<String>;
    /// The stack's resources of this step that exist now.
    async fn find(aws: &Aws, stack: &str, state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError>;
    /// Deletes one of them; one that is already gone counts as done.
    async fn delete(aws: &Aws, stack: &str, id: &str) -> Result<(), AwsError>;
}

/// The order `down` deletes in: the `Teardown` enum, `ORDER` and the dispatch to each kind's
/// `Step`. Edit the list, and docs/cleanup.md follows (the docs test says so).
macro_rules! teardown_order {
    ($($kind:ident),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Teardown {
            $($kind),+
        }

        pub const ORDER: &[Teardown] = &[$(Teardown::$kind),+];

        impl Teardown {
            pub fn title(self) -> &'static str {
                match self {
                    $(Teardown::$kind => <$kind as Step>::TITLE),+
                }
            }

            pub fn why(self) -> &'static str {
                match self {
                    $(Teardown::$kind => <$kind as Step>::WHY),+
                }
            }

            pub fn names(self, stack: &str) -> Vec<String> {
                match self {
                    $(Teardown::$kind => <$kind as Step>::names(stack)),+
                }
            }

            async fn find(
                self,
                aws: &Aws,
                stack: &str,
                state: Option<&StateFile>,
            ) -> Result<BTreeSet<String>, AwsError> {
                match self {
                    $(Teardown::$kind => <$kind as Step>::find(aws, stack, state).await),+
                }
            }

            async fn delete(self, aws: &Aws, stack: &str, id: &str) -> Result<(), AwsError> {
                match self {
                    $(Teardown::$kind => <$kind as Step>::delete(aws, stack, id).await),+
                }
            }
        }
    };
}

teardown_order![Alarm, Dashboard, Topic, AmplifyApp, RestApi, Table, Bucket, Function, Role, UserPool, LogGroup];

/// The documented order as data: one object per step (`--json` of `down --dry-run`).
pub fn order(stack: &str) -> Vec<serde_json::Value> {
    ORDER
        .iter()
        .enumerate()
        .map(|(i, t)| serde_json::json!({"step": i + 1, "what": t.title(), "names": t.names(stack), "why": t.why()}))
        .collect()
}

/// The order as text, as `down --dry-run` prints it.
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

/// The physical id the state file records for construct `id`.
pub fn recorded(state: Option<&StateFile>, id: &str) -> Option<String> {
    state.and_then(|s| s.physical(id)).map(str::to_owned)
}

pub fn tag_map(t: Option<&std::collections::HashMap<String, String>>) -> BTreeMap<String, String> {
    t.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

fn tagged_as(tags: &BTreeMap<String, String>, stack: &str) -> bool {
    tags.get("stack").map(String::as_str) == Some(stack)
        && tags.get("managed-by").map(String::as_str) == Some("provision")
}

/// For kinds whose names are not unique (pools, APIs, apps): a candidate found by name is the
/// stack's only when it carries the stack's tags; one the state file names always is. Ids that no
/// longer exist (a stale state entry) are dropped. `tags_of` gives an id's tags, None when it does
/// not exist (any more).
pub async fn owned(
    stack: &str,
    recorded: Option<String>,
    by_name: Vec<String>,
    untagged_ok: bool,
    tags_of: impl AsyncFn(&str) -> Result<Option<BTreeMap<String, String>>, AwsError>,
) -> Result<BTreeSet<String>, AwsError> {
    let mut ids = BTreeSet::new();
    for id in recorded.iter().cloned().chain(by_name) {
        let Some(tags) = tags_of(&id).await? else { continue };
        if Some(&id) == recorded.as_ref() || tagged_as(&tags, stack) || untagged_ok && tags.is_empty() {
            ids.insert(id);
        }
    }
    Ok(ids)
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
        let found = match step.find(aws, stack, state).await {
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
            match step.delete(aws, stack, &id).await {
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
        for id in step.find(aws, stack, state).await? {
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
        let doc = std::fs::read_to_string(format!(
            "{}/../docs/cleanup.md",
            std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR when it runs tests")
        ))
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
        // The host's monitoring first (so that tearing down pages nobody), then the app's
        // resources in the order docs/cleanup.md explains.
        assert_eq!(&titles[..3], ["CloudWatch alarms", "CloudWatch dashboard", "SNS topic of the alarms"]);
        assert_eq!(titles[3], "Amplify app");
        assert_eq!(titles[6], "S3 results bucket");
        assert_eq!(titles[10], "CloudWatch log groups");
    }
}
