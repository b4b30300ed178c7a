//! One module per AWS service: how each construct is read, created, updated and deleted.
//!
//! Every construct has *desired properties* (computed from the stack settings and the outputs
//! of the constructs it refers to) and *live properties* (read back from AWS in the same
//! shape). Equal → nothing to do; different → an in-place update of exactly the fields that
//! differ; absent → create. The same comparison drives `up`, `diff` and `status`.

pub mod amplify;
pub mod apigateway;
pub mod cognito;
pub mod dynamodb;
pub mod iam;
pub mod lambda;
pub mod logs;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::artifacts::Artifacts;
use crate::aws::{Aws, AwsError};
use crate::stack::{Construct, Id, Node, Stack};

/// Outputs of applied constructs: logical id → key → value (ids, ARNs, URLs).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Outputs(pub BTreeMap<String, BTreeMap<String, String>>);

impl Outputs {
    /// The value, or a `${Id.key}` placeholder when the construct does not exist yet (plans).
    pub fn get(&self, id: Id, key: &str) -> String {
        self.0.get(id).and_then(|m| m.get(key)).cloned().unwrap_or_else(|| format!("${{{id}.{key}}}"))
    }

    pub fn known(&self, id: Id, key: &str) -> Option<&str> {
        self.0.get(id).and_then(|m| m.get(key)).map(String::as_str)
    }

    pub fn set(&mut self, id: &str, outputs: BTreeMap<String, String>) {
        self.0.insert(id.to_owned(), outputs);
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

/// A construct as it exists in the account.
#[derive(Debug, Clone)]
pub struct Live {
    pub physical: String,
    pub props: Value,
    pub outputs: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Artifact(String),
}

/// The desired properties of a node.
pub fn desired(node: &Node, env: &Env<'_>) -> Result<Value, ResourceError> {
    Ok(match &node.construct {
        Construct::UserPool(c) => cognito::pool_desired(c, env),
        Construct::UserPoolClient(c) => cognito::client_desired(c),
        Construct::Role(c) => iam::desired(c, env),
        Construct::Table(c) => dynamodb::desired(c, env),
        Construct::LogGroup(c) => logs::desired(c, env),
        Construct::Function(c) => lambda::desired(c, env)?,
        Construct::RestApi(c) => apigateway::desired(c, env),
        Construct::Permission(c) => lambda::permission_desired(c, env),
        Construct::AmplifyApp(c) => amplify::app_desired(c, env),
        Construct::AmplifyBranch(c) => amplify::branch_desired(c, env),
        Construct::Site(c) => amplify::site_desired(c, env)?,
    })
}

/// Reads the live construct: by its recorded physical id, else by its name.
pub async fn read(node: &Node, env: &Env<'_>, physical: Option<&str>) -> Result<Option<Live>, ResourceError> {
    Ok(match &node.construct {
        Construct::UserPool(c) => cognito::pool_read(env.aws, &c.name, physical).await?,
        Construct::UserPoolClient(c) => cognito::client_read(env, c, physical).await?,
        Construct::Role(c) => iam::read(env.aws, c).await?,
        Construct::Table(c) => dynamodb::read(env.aws, &c.name).await?,
        Construct::LogGroup(c) => logs::read(env.aws, &c.name).await?,
        Construct::Function(c) => lambda::read(env.aws, &c.name).await?,
        Construct::RestApi(c) => apigateway::read(env, c, physical).await?,
        Construct::Permission(c) => lambda::permission_read(env, c).await?,
        Construct::AmplifyApp(c) => {
            amplify::app_read(env.aws, &c.name, physical, &env.stack.config.frontend.branch).await?
        }
        Construct::AmplifyBranch(c) => amplify::branch_read(env, c).await?,
        Construct::Site(c) => amplify::site_read(env, c).await?,
    })
}

/// Creates the construct; returns it as it now exists.
pub async fn create(node: &Node, env: &Env<'_>, desired: &Value) -> Result<Live, ResourceError> {
    match &node.construct {
        Construct::UserPool(c) => cognito::pool_create(env, c, desired).await,
        Construct::UserPoolClient(c) => cognito::client_create(env, c, desired).await,
        Construct::Role(c) => iam::create(env, c, desired).await,
        Construct::Table(c) => dynamodb::create(env, c, desired).await,
        Construct::LogGroup(c) => logs::create(env, c, desired).await,
        Construct::Function(c) => lambda::create(env, c, desired).await,
        Construct::RestApi(c) => apigateway::apply(env, c, desired, None).await,
        Construct::Permission(c) => lambda::permission_create(env, c, desired).await,
        Construct::AmplifyApp(c) => amplify::app_create(env, c, desired).await,
        Construct::AmplifyBranch(c) => amplify::branch_create(env, c, desired).await,
        Construct::Site(c) => amplify::site_deploy(env, c, desired).await,
    }
}

/// Updates the construct in place so that its live properties equal `desired`.
pub async fn update(node: &Node, env: &Env<'_>, live: &Live, desired: &Value) -> Result<Live, ResourceError> {
    match &node.construct {
        Construct::UserPool(c) => cognito::pool_update(env, c, live, desired).await,
        Construct::UserPoolClient(c) => cognito::client_update(env, c, live, desired).await,
        Construct::Role(c) => iam::update(env, c, live, desired).await,
        Construct::Table(c) => dynamodb::update(env, c, live, desired).await,
        Construct::LogGroup(c) => logs::update(env, c, live, desired).await,
        Construct::Function(c) => lambda::update(env, c, live, desired).await,
        Construct::RestApi(c) => apigateway::apply(env, c, desired, Some(live)).await,
        Construct::Permission(c) => lambda::permission_update(env, c, live, desired).await,
        Construct::AmplifyApp(c) => amplify::app_update(env, c, live, desired).await,
        Construct::AmplifyBranch(c) => amplify::branch_update(env, c, live, desired).await,
        Construct::Site(c) => amplify::site_deploy(env, c, desired).await,
    }
}

/// One field that differs between live and desired (a dotted JSON path).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

/// The fields of `desired` whose live value differs. Keys only in `live` are ignored: we only
/// manage what we declare — except in `tags`, which the stack file owns whole (a tag removed from
/// it is removed from the resources, as CloudFormation does), `aws:` tags aside (AWS's own).
pub fn diff(live: &Value, desired: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    diff_into("", live, desired, &mut out);
    for k in removed_tags(&live["tags"], &desired["tags"]) {
        out.push(FieldChange { field: format!("tags.{k}"), from: live["tags"][&k].clone(), to: Value::Null });
    }
    out
}

fn diff_into(path: &str, live: &Value, desired: &Value, out: &mut Vec<FieldChange>) {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => {
            for (k, dv) in d {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                diff_into(&p, l.get(k).unwrap_or(&Value::Null), dv, out);
            }
        }
        (l, d) if l != d => out.push(FieldChange { field: path.to_owned(), from: l.clone(), to: d.clone() }),
        _ => {}
    }
}

/// Tags as a sorted JSON object, the shape every `props` uses.
pub fn tags_value(tags: &BTreeMap<String, String>) -> Value {
    serde_json::to_value(tags).unwrap_or(Value::Null)
}

/// Keys the resource carries that the stack file no longer names: TagResource only adds and
/// overwrites, so these must be removed with the service's UntagResource.
pub fn removed_tags(live: &Value, desired: &Value) -> Vec<String> {
    let (Some(have), Some(want)) = (live.as_object(), desired.as_object()) else { return Vec::new() };
    have.keys().filter(|k| !want.contains_key(k.as_str()) && !k.starts_with("aws:")).cloned().collect()
}

/// Tags from any map-like AWS answer.
pub fn tags_from<'a>(it: impl IntoIterator<Item = (&'a String, &'a String)>) -> BTreeMap<String, String> {
    it.into_iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Decodes the %-encoding IAM applies to policy documents.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_reports_changed_fields_only() {
        let live = json!({"a": 1, "b": {"c": 2, "x": 9}, "extra": true});
        let desired = json!({"a": 1, "b": {"c": 3}});
        let d = diff(&live, &desired);
        assert_eq!(d, vec![FieldChange { field: "b.c".into(), from: json!(2), to: json!(3) }]);
    }

    #[test]
    fn percent_decoding_of_policy_documents() {
        assert_eq!(percent_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(percent_decode("{\"a\":1}"), "{\"a\":1}");
        // Not an escape: kept as it is, never a panic on a character after `%`.
        assert_eq!(percent_decode("100%é%4"), "100%é%4");
    }
}
