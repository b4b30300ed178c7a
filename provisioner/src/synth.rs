//! `provision synth`: the stack as a CloudFormation template, rendered from the very constructs
//! and desired-state functions `up` converges (resources/*::desired, the IAM policy document,
//! the API definition with its CORS values) — not a second description of the app.
//!
//! References between constructs are the engine's `${Id.key}` placeholders (what a plan shows
//! before anything exists); here each becomes the CloudFormation `Ref`/`GetAtt` it stands for,
//! inside `Fn::Sub`. The account is `${AWS::AccountId}`; the region is the stack file's, which a
//! template rule enforces (the model family decides the region).
//!
//! What CloudFormation does not do is left out and named in the template's metadata: uploading
//! the function's zip (the `FunctionCodeBucket`/`FunctionCodeKey` parameters point at it) and
//! the Amplify deployment of the built site (`provision up --engine cloudformation` does both).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::artifacts::Artifacts;
use crate::aws::Aws;
use crate::resources::{Env, Outputs, Resource, ResourceError};
use crate::stack::{Stack, with_resource};

pub const CODE_BUCKET_PARAM: &str = "FunctionCodeBucket";
pub const CODE_KEY_PARAM: &str = "FunctionCodeKey";

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("the template cannot express `{0}`: add the key to its kind's Resource::cfn_output")]
    UnknownReference(String),
    #[error(transparent)]
    Resource(#[from] ResourceError),
    #[error("{0}: its properties do not serialize: {1}")]
    Properties(String, String),
    #[error("rendering YAML: {0}")]
    Yaml(String),
}

/// A `${Id.key}` placeholder of the engine as CloudFormation `Fn::Sub` syntax: the construct's
/// kind says (`Resource::cfn_output`).
fn attribute(id: &str, key: &str, stack: &Stack) -> Option<String> {
    let node = stack.node(id)?;
    with_resource!(&node.construct, r => crate::resources::cfn_output(r, node.id, key, stack))
}

/// Rewrites every string that holds engine placeholders into `Fn::Sub`.
fn sub(v: Value, stack: &Stack) -> Result<Value, SynthError> {
    Ok(match v {
        Value::String(s) if s.contains("${") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${") {
                out.push_str(&rest[..i]);
                let end = rest[i..].find('}').map(|e| i + e).ok_or_else(|| SynthError::UnknownReference(s.clone()))?;
                let inner = &rest[i + 2..end];
                if inner.starts_with("AWS::") {
                    out.push_str(&rest[i..=end]);
                } else {
                    let (id, key) = inner.split_once('.').ok_or_else(|| SynthError::UnknownReference(inner.into()))?;
                    out.push_str(&attribute(id, key, stack).ok_or_else(|| SynthError::UnknownReference(inner.into()))?);
                }
                rest = &rest[end + 1..];
            }
            out.push_str(rest);
            whole_reference(&out).unwrap_or_else(|| json!({"Fn::Sub": out}))
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|x| sub(x, stack)).collect::<Result<_, _>>()?),
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, x)| Ok((k, sub(x, stack)?))).collect::<Result<_, SynthError>>()?)
        }
        other => other,
    })
}

/// `${X}` alone is `Ref: X`, `${X.Attr}` alone is `Fn::GetAtt: [X, Attr]`.
fn whole_reference(s: &str) -> Option<Value> {
    let inner = s.strip_prefix("${")?.strip_suffix('}')?;
    if inner.contains(['$', '{', '}']) {
        return None;
    }
    Some(match inner.split_once('.') {
        None => json!({"Ref": inner}),
        Some((id, attr)) => json!({"Fn::GetAtt": [id, attr]}),
    })
}

/// The stack's tags in CloudFormation's `[{Key, Value}]` form, as the resource type's own tag type.
pub fn tag_list<T: KeyValue>(tags: &BTreeMap<String, String>) -> Vec<T> {
    tags.iter().map(|(k, v)| T::pair(k, v)).collect()
}

/// A resource type's typed properties (generated in `cfn_types` from the provider schemas).
pub trait CfnResource: Serialize {
    /// `AWS::Service::Resource`.
    const TYPE: &'static str;
}

/// A property type made of exactly a `Key` and a `Value` (tags).
pub trait KeyValue {
    fn pair(key: &str, value: &str) -> Self;
}

/// A property value: a literal, or an intrinsic function. Literal strings may hold the engine's
/// `${Id.key}` placeholders, which [`Template::add`] turns into `Ref`/`GetAtt`/`Fn::Sub`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Val<T> {
    Lit(T),
    Fn(Value),
}

impl<T> Val<T> {
    /// `Ref: logical_id` (a resource's or a parameter's).
    pub fn reference(logical_id: &str) -> Self {
        Val::Fn(json!({"Ref": logical_id}))
    }
    /// `Fn::GetAtt: [logical_id, attribute]`.
    pub fn get_att(logical_id: &str, attribute: &str) -> Self {
        Val::Fn(json!({"Fn::GetAtt": [logical_id, attribute]}))
    }
}

/// A property set to `x`: `table_name: val(&want.name)`.
pub fn val<T>(x: impl Into<Val<T>>) -> Option<Val<T>> {
    Some(x.into())
}

impl From<&str> for Val<String> {
    fn from(s: &str) -> Self {
        Val::Lit(s.to_owned())
    }
}
impl From<&String> for Val<String> {
    fn from(s: &String) -> Self {
        Val::Lit(s.clone())
    }
}
impl From<String> for Val<String> {
    fn from(s: String) -> Self {
        Val::Lit(s)
    }
}
impl From<bool> for Val<bool> {
    fn from(b: bool) -> Self {
        Val::Lit(b)
    }
}
impl From<f64> for Val<f64> {
    fn from(x: f64) -> Self {
        Val::Lit(x)
    }
}
/// The stack's integer settings are `i32`, as the SDK takes them.
impl From<i32> for Val<i64> {
    fn from(n: i32) -> Self {
        Val::Lit(i64::from(n))
    }
}

/// The template's resources as the constructs render them (`Resource::synth`).
pub struct Template {
    resources: Map<String, Value>,
    stack: Stack,
}

impl Template {
    /// The stack's tags, in CloudFormation's `[{Key, Value}]` form via [`tag_list`].
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.stack.config.tags
    }

    /// Stateful resources go with the stack (a workshop stack keeps nothing).
    pub fn delete_with_stack() -> Value {
        json!({"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"})
    }

    /// Adds a resource whose every check must pass. `extra` holds resource attributes
    /// (`DependsOn`, `Metadata`, deletion policies); engine placeholders in `props` become
    /// `Ref`/`GetAtt`/`Fn::Sub`.
    pub fn add<R: CfnResource>(&mut self, id: &str, props: &R, extra: Value) -> Result<(), SynthError> {
        self.add_with_skips(id, props, extra, &[])
    }

    /// Adds a resource with the checks it skips, each with the reason that holds for this app
    /// (checkov reads `Metadata.checkov.skip`).
    pub fn add_with_skips<R: CfnResource>(
        &mut self,
        id: &str,
        props: &R,
        extra: Value,
        skip: &[(&str, &str)],
    ) -> Result<(), SynthError> {
        let props = serde_json::to_value(props).map_err(|e| SynthError::Properties(id.to_owned(), e.to_string()))?;
        let mut r = json!({"Type": R::TYPE, "Properties": sub(props, &self.stack)?});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                r[k] = v;
            }
        }
        if !skip.is_empty() {
            r["Metadata"]["checkov"] =
                json!({"skip": skip.iter().map(|(id, why)| json!({"id": id, "comment": why})).collect::<Vec<_>>()});
        }
        self.resources.insert(id.to_owned(), r);
        Ok(())
    }
}

/// The CloudFormation template of `stack`, as a JSON value (render with [`to_yaml`]).
pub fn template(stack: &Stack, aws: &Aws) -> Result<Value, SynthError> {
    let outputs = Outputs::default();
    let artifacts = Artifacts::for_template();
    let env = Env { aws, stack, account: "${AWS::AccountId}", outputs: &outputs, artifacts: &artifacts };
    let mut t = Template { resources: Map::new(), stack: stack.clone() };
    for node in stack.topological() {
        with_resource!(&node.construct, r => {
            let want = r.desired(&env)?;
            r.synth(node.id, &want, &mut t)?;
        });
    }

    let region = &stack.config.region;
    let mut outputs = Map::new();
    for o in crate::stack::STACK_OUTPUTS {
        let value = sub(json!(format!("${{{}.{}}}", o.id, o.key)), stack)?;
        outputs.insert(o.name.into(), json!({"Description": o.description, "Value": value}));
    }
    outputs.insert("Region".into(), json!({"Description": "The SPA's region", "Value": {"Ref": "AWS::Region"}}));
    outputs.insert(
        "SelfSignUp".into(),
        json!({"Description": "Whether the sign-in page offers sign-up (the SPA's selfSignUp)", "Value": stack.config.auth.self_sign_up.to_string()}),
    );

    Ok(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "Serverless AI image editor, stack `{}` (rendered by `provision synth` from stacks/{}; edit the stack file, not this template)",
            stack.config.name,
            stack.config.source.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
        ),
        "Metadata": {
            "provision": {
                "stack": stack.config.name,
                "region": region,
                "notInTemplate": [
                    "The function's zip: build it, upload it to S3, pass its bucket and key as FunctionCodeBucket/FunctionCodeKey (docs/cloudformation.md).",
                    format!("The site: the built frontend with its config.json, deployed to the Amplify branch `{}` (an Amplify manual deployment).", stack.config.frontend.branch),
                ],
            }
        },
        "Parameters": {
            CODE_BUCKET_PARAM: {
                "Type": "String",
                "Description": "S3 bucket holding the function's zip (bootstrap at its root)",
                "AllowedPattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                "ConstraintDescription": "an S3 bucket name",
            },
            CODE_KEY_PARAM: {
                "Type": "String",
                "Description": "S3 key of the function's zip",
                "MinLength": 1,
            },
        },
        "Rules": {
            "StackRegion": {
                "Assertions": [{
                    "Assert": {"Fn::Equals": [{"Ref": "AWS::Region"}, region]},
                    "AssertDescription": format!(
                        "Deploy in {region}: the stack file's region, where its model family ({}) is offered",
                        stack.config.family.as_str()
                    ),
                }],
            },
        },
        "Resources": t.resources,
        "Outputs": outputs,
    }))
}

/// The template as YAML.
pub fn to_yaml(template: &Value) -> Result<String, SynthError> {
    serde_norway::to_string(template).map_err(|e| SynthError::Yaml(e.to_string()))
}
