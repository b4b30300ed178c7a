//! One file per construct kind: what it is (its construct type, built by `stack::image_editor`),
//! its typed desired properties, how it is read, created and updated, and its CloudFormation
//! rendering — all behind [`Resource`], the one trait the engine (`up`, `diff`, `status`) and
//! `synth` use. Its deletion (by name, for `down`) is in the same file; `teardown.rs` holds only
//! the documented order.
//!
//! Every construct has *desired properties* (computed from the stack settings and the outputs
//! of the constructs it refers to) and *live properties* (read back from AWS into the same
//! type, [`Live<Props>`]). Equal (`==`) → nothing to do; different → an in-place update, which
//! compares field by field; absent → create. After a create or an update the engine reads the
//! construct back itself. The same comparison drives `up`, `diff` and `status`; the properties are
//! serialised only to show a plan.

pub mod alarm;
pub mod amplify_app;
pub mod amplify_branch;
pub mod bucket;
pub mod dashboard;
pub mod function;
pub mod log_group;
pub mod permission;
pub mod rest_api;
pub mod role;
pub mod site;
pub mod table;
pub mod topic;
pub mod user_pool;
pub mod user_pool_client;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::artifacts::Artifacts;
use crate::aws::{Aws, AwsError};
use crate::stack::{Cfn, Id, Out, Ref, Stack};
use crate::synth::{SynthError, Template};

/// A construct kind. Implemented once per kind, in that kind's file; adding a kind means its
/// file and its line in `stack.rs`'s `constructs!` list.
// The engine drives these futures on its own task (never spawned), so they need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Resource: Sized + 'static {
    /// The CloudFormation type name, also used in plans, state and progress.
    const KIND: &'static str;
    /// The properties, typed: what the stack wants and, read back, what exists. The engine
    /// decides by `==`; plans show the fields whose JSON differs.
    type Props: Serialize + PartialEq;

    /// The physical name in the account.
    fn name(&self) -> String;
    /// The constructs this one refers to: the edges of the graph.
    fn deps(&self) -> Vec<Id>;
    fn desired(&self, env: &Env<'_>) -> Result<Self::Props, ResourceError>;
    /// The construct as it exists: by its recorded physical id, else by its name.
    async fn read(&self, env: &Env<'_>, physical: Option<&str>) -> Result<Option<Live<Self::Props>>, ResourceError>;
    /// Makes the construct and returns its physical id; the engine reads it back.
    async fn create(&self, env: &Env<'_>, want: &Self::Props) -> Result<String, ResourceError>;
    /// Changes the construct in place so that its live properties equal `want`; the engine reads
    /// it back.
    async fn update(&self, env: &Env<'_>, live: &Live<Self::Props>, want: &Self::Props) -> Result<(), ResourceError>;
    /// Its CloudFormation resources (`want` holds `${Id.key}` placeholders for references).
    fn synth(&self, id: Id, want: &Self::Props, t: &mut Template) -> Result<(), SynthError>;
    /// Every output of the kind: the keys `read` fills in `Live::outputs`, each with how a
    /// template names it.
    const OUTPUTS: &'static [Out<Self>];
    /// A [`Cfn::Derived`] output in CloudFormation's `Fn::Sub` syntax.
    fn derived_output(&self, id: Id, key: &str, stack: &Stack) -> Option<String> {
        let _ = (id, key, stack);
        None
    }
}

/// One of a construct's outputs (`${Id.key}` in other constructs' properties) in
/// CloudFormation's `Fn::Sub` syntax, as its [`Out`] says: `${Id}` for what `Ref` returns,
/// `${Id.Attribute}` for `Fn::GetAtt`. None: the template has no way to name it.
pub fn cfn_output<R: Resource>(r: &R, id: Id, key: &str, stack: &Stack) -> Option<String> {
    match R::OUTPUTS.iter().find(|o| o.key == key)?.cfn {
        Cfn::Ref => Some(format!("${{{id}}}")),
        Cfn::Attr(attribute) => Some(format!("${{{id}.{attribute}}}")),
        Cfn::Derived => r.derived_output(id, key, stack),
        Cfn::Absent => None,
    }
}

/// Desired properties as the JSON plans compare.
pub fn to_json(props: &impl Serialize) -> Result<Value, ResourceError> {
    serde_json::to_value(props).map_err(|e| ResourceError::Request(format!("desired properties: {e}")))
}

/// Outputs of applied constructs: logical id → key → value (ids, ARNs, URLs).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Outputs(pub BTreeMap<String, BTreeMap<String, String>>);

impl Outputs {
    /// The value, or a `${Id.key}` placeholder when the construct does not exist yet (plans,
    /// `synth`, which turns it into a `Ref`/`GetAtt`).
    pub fn get<T>(&self, r: Ref<T>, out: Out<T>) -> String {
        let (id, key) = (r.id, out.key);
        self.0.get(id).and_then(|m| m.get(key)).cloned().unwrap_or_else(|| format!("${{{id}.{key}}}"))
    }

    /// The value when the construct exists.
    pub fn known<T>(&self, r: Ref<T>, out: Out<T>) -> Option<&str> {
        self.0.get(r.id).and_then(|m| m.get(out.key)).map(String::as_str)
    }

    /// A stack output's value (`STACK_OUTPUTS`), when known.
    pub fn of(&self, o: &crate::stack::StackOutput) -> Option<&str> {
        self.0.get(o.id).and_then(|m| m.get(o.key)).map(String::as_str)
    }

    pub fn set(&mut self, id: &str, outputs: BTreeMap<String, String>) {
        self.0.insert(id.to_owned(), outputs);
    }

    /// Adds one value to a construct's outputs.
    pub fn insert<T>(&mut self, r: Ref<T>, out: Out<T>, value: String) {
        self.0.entry(r.id.to_owned()).or_default().insert(out.key.to_owned(), value);
    }

    /// Adds a stack output's value (read back from a CloudFormation deploy).
    pub fn insert_output(&mut self, o: &crate::stack::StackOutput, value: String) {
        self.0.entry(o.id.to_owned()).or_default().insert(o.key.to_owned(), value);
    }
}

/// What the engine needs to compute desired properties.
pub struct Env<'a> {
    pub aws: &'a Aws,
    pub stack: &'a Stack,
    pub account: &'a str,
    pub outputs: &'a Outputs,
    pub artifacts: &'a Artifacts,
}

impl Env<'_> {
    pub fn region(&self) -> &str {
        &self.stack.config.region
    }
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.stack.config.tags
    }
}

/// A construct as it exists in the account: its properties in the type the stack declares them.
#[derive(Debug, Clone)]
pub struct Live<P> {
    pub physical: String,
    pub props: P,
    pub outputs: BTreeMap<String, String>,
}

/// Resource tags as every `Props` holds them. The stack file owns them whole: a tag removed from
/// it is removed from the resources, as CloudFormation does.
pub type Tags = BTreeMap<String, String>;

/// Tags from any map-like AWS answer, without AWS's own (`aws:` keys, which no caller may set or
/// remove), so that they compare equal to the stack file's.
pub fn tags_from<'a>(it: impl IntoIterator<Item = (&'a String, &'a String)>) -> Tags {
    it.into_iter().filter(|(k, _)| !k.starts_with("aws:")).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Keys the resource carries that the stack file no longer names: TagResource only adds and
/// overwrites, so these must be removed with the service's UntagResource.
pub fn removed_tags(live: &Tags, want: &Tags) -> Vec<String> {
    live.keys().filter(|k| !want.contains_key(*k)).cloned().collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// What `up` will not do to a live resource: it would lose data, or fight another tool.
    #[error("{0}")]
    Refused(String),
    /// A resource gone between two calls (deleted behind `up`'s back, or not yet readable).
    #[error("{kind} {id} vanished {when}")]
    Vanished { kind: &'static str, id: String, when: &'static str },
    /// A resource that did not reach the state the next step needs in the time allowed.
    #[error("{0}")]
    NotReady(String),
    /// The web app's deployment to Amplify failed (the upload, the start or the job).
    #[error("{0}")]
    Deployment(String),
    /// A request this tool could not build: a value the SDK's builders refused.
    #[error("{0}")]
    Request(String),
    /// The state file could not record the result.
    #[error("{0}")]
    State(String),
    #[error(transparent)]
    Artifact(#[from] crate::artifacts::ArtifactError),
    /// A reference to a construct the stack does not hold (or holds as another kind).
    #[error("{from} refers to {to}, which is not a {kind} of this stack")]
    Unresolved { from: String, to: Id, kind: &'static str },
}

/// One field that differs between live and desired (a dotted JSON path).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

/// The fields whose value differs between the live and the desired properties (dotted JSON
/// paths), to show a plan; the decision itself is `==` on the typed properties. A key only in
/// `live` is a map entry the stack no longer declares (a removed tag, say) and shows as removed.
pub fn diff(live: &Value, desired: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    diff_into("", live, desired, &mut out);
    out
}

fn diff_into(path: &str, live: &Value, desired: &Value, out: &mut Vec<FieldChange>) {
    let join = |k: &str| if path.is_empty() { k.to_owned() } else { format!("{path}.{k}") };
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => {
            for (k, dv) in d {
                diff_into(&join(k), l.get(k).unwrap_or(&Value::Null), dv, out);
            }
            for (k, lv) in l.iter().filter(|(k, _)| !d.contains_key(*k)) {
                out.push(FieldChange { field: join(k), from: lv.clone(), to: Value::Null });
            }
        }
        (l, d) if l != d => out.push(FieldChange { field: path.to_owned(), from: l.clone(), to: d.clone() }),
        _ => {}
    }
}

/// Decodes the %-encoding IAM applies to policy documents.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The one resource named `name` among `ids` (what a list by name found), when no state file says
/// which is the stack's. REST APIs, user pools and Amplify apps may share a name, so a create that
/// took effect although its answer was lost (a 5xx or a dropped connection after the service acted,
/// then a retry) can leave two: adopting either would leave the other running and billed unseen,
/// so `up` stops and names them all.
pub fn the_one_named(kind: &str, name: &str, ids: Vec<String>, operation: &str) -> Result<Option<String>, AwsError> {
    if ids.len() <= 1 {
        return Ok(ids.into_iter().next());
    }
    Err(AwsError::new(
        operation,
        format!(
            "{} {kind}s are named {name} ({}) and no state file says which one is this stack's — a create whose \
             answer was lost can leave a second copy. Delete the copies not in use, or run `provision down` (it \
             removes each one tagged as this stack's), then `provision up` again",
            ids.len(),
            ids.join(", ")
        ),
    ))
}

/// Creates a resource whose name is not unique (a REST API, a user pool, an Amplify app) at most
/// once. The SDK would retry a create that failed with a 5xx or a lost connection, and if the
/// first attempt had taken effect, that makes a second copy nobody records. So `send` runs with the
/// SDK's retries off (see [`no_retries`]), and after a transient failure this looks for what the
/// attempt may have made — by name, a few times, as lists can lag a create — and adopts it (saying
/// so), or creates again after a backoff.
pub async fn create_once(
    kind: &str,
    name: &str,
    find: impl AsyncFn() -> Result<Vec<String>, AwsError>,
    send: impl AsyncFn() -> Result<String, AwsError>,
) -> Result<String, AwsError> {
    const ATTEMPTS: u32 = 8;
    let before = find().await?;
    let mut backoff = std::time::Duration::from_millis(200);
    for attempt in 1..=ATTEMPTS {
        let err = match send().await {
            Ok(id) => return Ok(id),
            Err(e) if e.transient && attempt < ATTEMPTS => e,
            Err(e) => return Err(e),
        };
        for look in 0..3 {
            let made: Vec<String> = find().await?.into_iter().filter(|id| !before.contains(id)).collect();
            match made.len() {
                0 => {}
                1 => {
                    tracing::warn!(
                        "{kind} {name}: the create failed ({err}) but had taken effect; using {} instead of making a \
                         second",
                        made[0]
                    );
                    return Ok(made[0].clone());
                }
                _ => return Err(the_one_named(kind, name, made, &err.operation).err().unwrap_or(err)),
            }
            if look < 2 {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(std::time::Duration::from_secs(10));
    }
    Err(AwsError::new(&format!("{kind}:create"), format!("{kind} {name} could not be created")))
}

/// The SDK configuration override that turns its retries off for one call (for [`create_once`]).
pub fn no_retries() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::disabled()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_reports_changed_fields_only() {
        let live = json!({"a": 1, "b": {"c": 2}, "tags": {"kept": "1", "gone": "2"}});
        let desired = json!({"a": 1, "b": {"c": 3}, "tags": {"kept": "1"}});
        let d = diff(&live, &desired);
        assert_eq!(
            d,
            vec![
                FieldChange { field: "b.c".into(), from: json!(2), to: json!(3) },
                FieldChange { field: "tags.gone".into(), from: json!("2"), to: Value::Null },
            ]
        );
    }

    #[test]
    fn tags_read_back_leave_out_aws_own() {
        let read = BTreeMap::from([
            ("aws:cloudformation:stack-name".to_owned(), "x".to_owned()),
            ("app".to_owned(), "image-editor".to_owned()),
        ]);
        let tags = tags_from(&read);
        assert_eq!(tags, BTreeMap::from([("app".to_owned(), "image-editor".to_owned())]));
        let want = BTreeMap::from([("team".to_owned(), "a".to_owned())]);
        assert_eq!(removed_tags(&tags, &want), vec!["app".to_owned()]);
    }

    #[test]
    fn percent_decoding_of_policy_documents() {
        assert_eq!(percent_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(percent_decode("{\"a\":1}"), "{\"a\":1}");
        // Not an escape: kept as it is, never a panic on a character after `%`.
        assert_eq!(percent_decode("100%é%4"), "100%é%4");
    }
}
