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

use serde_json::{Map, Value, json};

use crate::artifacts::Artifacts;
use crate::aws::Aws;
use crate::resources::{Env, Outputs, ResourceError, amplify, apigateway, cognito, dynamodb, iam, lambda, logs};
use crate::stack::{Construct, Stack};

pub const CODE_BUCKET_PARAM: &str = "FunctionCodeBucket";
pub const CODE_KEY_PARAM: &str = "FunctionCodeKey";

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("the template cannot express `{0}`: add it to synth::attribute")]
    UnknownReference(String),
    #[error(transparent)]
    Resource(#[from] ResourceError),
    #[error("rendering YAML: {0}")]
    Yaml(String),
}

/// Checks a template skips, each with the reason that holds for this app (checkov reads
/// `Metadata.checkov.skip`). Everything else must pass.
fn skips(kind: &str) -> Vec<(&'static str, &'static str)> {
    match kind {
        "AWS::DynamoDB::Table" => vec![
            (
                "CKV_AWS_28",
                "Edit history of a workshop stack is disposable; point-in-time recovery would bill for backups that `down` deletes anyway.",
            ),
            (
                "CKV_AWS_119",
                "Encrypted at rest with the AWS owned key; a customer managed KMS key adds cost and a key to clean up, for no gain on workshop data.",
            ),
        ],
        "AWS::Logs::LogGroup" => vec![(
            "CKV_AWS_158",
            "CloudWatch Logs encrypts at rest by default; the function logs no images, tokens or prompts.",
        )],
        "AWS::Lambda::Function" => vec![
            (
                "CKV_AWS_116",
                "Invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations.",
            ),
            (
                "CKV_AWS_117",
                "Calls only public AWS endpoints (Bedrock, DynamoDB) with IAM auth; a VPC would add NAT cost and nothing to protect.",
            ),
            (
                "CKV_AWS_115",
                "No function.reserved_concurrency in the stack file: reserving it per workshop stack would exhaust the account's pool; the stage throttle (api.throttle) bounds the request rate.",
            ),
            ("CKV_AWS_173", "The environment holds names and model ids only, no secrets."),
        ],
        "AWS::ApiGateway::Stage" => vec![
            ("CKV_AWS_120", "Responses are per-user and per-request (edits); caching them would be wrong."),
            ("CKV_AWS_73", "X-Ray tracing is optional for a workshop; the function emits its own timing metrics."),
            (
                "CKV_AWS_76",
                "Access logging needs an account-wide CloudWatch role for API Gateway that this stack does not own.",
            ),
        ],
        _ => vec![],
    }
}

/// The checkov skip of an OPTIONS preflight method.
const OPEN_PREFLIGHT: &[(&str, &str)] = &[(
    "CKV_AWS_59",
    "Only the OPTIONS preflight methods are open (browsers send preflights without credentials); every other method uses the Cognito authorizer.",
)];

/// A `${Id.key}` placeholder of the engine as CloudFormation `Fn::Sub` syntax.
fn attribute(id: &str, key: &str, stack: &Stack) -> Option<String> {
    let branch = &stack.config.frontend.branch;
    let stage = &stack.config.api.stage;
    Some(match (id, key) {
        ("UserPool", "id") => "${UserPool}".into(),
        ("UserPool", "arn") => "${UserPool.Arn}".into(),
        ("WebClient", "id") => "${WebClient}".into(),
        ("EditsTable", "name") => "${EditsTable}".into(),
        ("EditsTable", "arn") => "${EditsTable.Arn}".into(),
        ("FunctionLogs", "name") => "${FunctionLogs}".into(),
        ("FunctionRole", "arn") => "${FunctionRole.Arn}".into(),
        ("Function", "arn") => "${Function.Arn}".into(),
        ("Function", "name") => "${Function}".into(),
        ("WebApp", "id") => "${WebApp.AppId}".into(),
        ("WebApp", "origin") => format!("https://{branch}.${{WebApp.DefaultDomain}}"),
        ("Api", "id") => "${Api}".into(),
        ("Api", "url") => format!("https://${{Api}}.execute-api.${{AWS::Region}}.amazonaws.com/{stage}"),
        _ => return None,
    })
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

fn tag_list(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect())
}

/// `/edits/{id}` → `EditsId`; `/` → `Root`.
fn path_id(path: &str) -> String {
    let id: String = path
        .split(['/', '{', '}', '-', '_'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    if id.is_empty() { "Root".to_owned() } else { id }
}

fn verb_id(verb: &str) -> String {
    let lower = verb.to_ascii_lowercase();
    let mut c = lower.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

struct Template {
    resources: Map<String, Value>,
    stack: Stack,
}

impl Template {
    fn add(&mut self, id: &str, kind: &str, props: Value, extra: Value) -> Result<(), SynthError> {
        self.add_with_skips(id, kind, props, extra, &skips(kind))
    }

    fn add_with_skips(
        &mut self,
        id: &str,
        kind: &str,
        props: Value,
        extra: Value,
        skip: &[(&str, &str)],
    ) -> Result<(), SynthError> {
        let mut r = json!({"Type": kind, "Properties": sub(props, &self.stack)?});
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
    let artifacts = Artifacts::default();
    let env = Env { aws, stack, account: "${AWS::AccountId}", outputs: &outputs, artifacts: &artifacts };
    let tags = &stack.config.tags;
    let mut t = Template { resources: Map::new(), stack: stack.clone() };
    let delete = json!({"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"});
    for node in stack.topological() {
        let id = node.id;
        match &node.construct {
            Construct::UserPool(c) => {
                let d = cognito::pool_desired(c, &env);
                let p = &d["password"];
                t.add(
                    id,
                    "AWS::Cognito::UserPool",
                    json!({
                        "UserPoolName": d["name"],
                        "UsernameAttributes": [d["sign_in"]],
                        "UsernameConfiguration": {"CaseSensitive": d["case_sensitive_user_names"]},
                        "AutoVerifiedAttributes": d["auto_verified"],
                        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": !c.self_sign_up},
                        "Policies": {"PasswordPolicy": {
                            "MinimumLength": p["min_length"],
                            "RequireLowercase": p["require_lowercase"],
                            "RequireUppercase": p["require_uppercase"],
                            "RequireNumbers": p["require_numbers"],
                            "RequireSymbols": p["require_symbols"],
                        }},
                        "DeletionProtection": d["deletion_protection"],
                        "UserPoolTags": d["tags"],
                    }),
                    delete.clone(),
                )?;
                if !d["pre_sign_up"].is_null() {
                    t.resources[id]["Properties"]["LambdaConfig"] =
                        json!({"PreSignUp": sub(d["pre_sign_up"].clone(), stack)?});
                }
            }
            Construct::UserPoolClient(c) => {
                let d = cognito::client_desired(c);
                let v = &d["token_validity"];
                t.add(
                    id,
                    "AWS::Cognito::UserPoolClient",
                    json!({
                        "ClientName": d["name"],
                        "UserPoolId": format!("${{{}.id}}", c.pool.id),
                        "GenerateSecret": d["secret"],
                        "ExplicitAuthFlows": d["auth_flows"],
                        "PreventUserExistenceErrors": d["prevent_user_existence_errors"],
                        "IdTokenValidity": v["id_minutes"],
                        "AccessTokenValidity": v["access_minutes"],
                        "RefreshTokenValidity": v["refresh_days"],
                        "TokenValidityUnits": {"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "days"},
                    }),
                    json!({}),
                )?;
            }
            Construct::Table(c) => {
                let d = dynamodb::desired(c, &env);
                let key = |k: &str| d["keys"][k].as_str().and_then(|s| s.split_once(':')).unwrap_or(("", "S"));
                let (pk, pt) = key("partition");
                let (sk, st) = key("sort");
                t.add(
                    id,
                    "AWS::DynamoDB::Table",
                    json!({
                        "TableName": d["name"],
                        "BillingMode": d["billing_mode"],
                        "AttributeDefinitions": [
                            {"AttributeName": pk, "AttributeType": pt},
                            {"AttributeName": sk, "AttributeType": st},
                        ],
                        "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
                        "TimeToLiveSpecification": {"AttributeName": d["ttl_attribute"], "Enabled": true},
                        "Tags": tag_list(tags),
                    }),
                    delete.clone(),
                )?;
            }
            Construct::LogGroup(c) => {
                let d = logs::desired(c, &env);
                t.add(
                    id,
                    "AWS::Logs::LogGroup",
                    json!({"LogGroupName": d["name"], "RetentionInDays": d["retention_days"], "Tags": tag_list(tags)}),
                    delete.clone(),
                )?;
            }
            Construct::Role(c) => {
                let d = iam::desired(c, &env);
                let policies: Vec<Value> = d["inline_policies"]
                    .as_object()
                    .map(|m| m.iter().map(|(n, doc)| json!({"PolicyName": n, "PolicyDocument": doc})).collect())
                    .unwrap_or_default();
                t.add(
                    id,
                    "AWS::IAM::Role",
                    json!({
                        "RoleName": d["name"],
                        "AssumeRolePolicyDocument": d["assume_role_policy"],
                        "Policies": policies,
                        "Tags": tag_list(tags),
                    }),
                    // Which Bedrock ARNs the policy grants, and why (see provisioner/src/models.rs).
                    match stack.model_access() {
                        Some(a) => json!({"Metadata": {"provision": {"bedrockInvokeModel": a.explanation()}}}),
                        None => json!({}),
                    },
                )?;
            }
            Construct::AmplifyApp(c) => {
                let d = amplify::app_desired(c, &env);
                let rules: Vec<Value> = d["rules"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|r| json!({"Source": r["source"], "Target": r["target"], "Status": r["status"]}))
                            .collect()
                    })
                    .unwrap_or_default();
                t.add(
                    id,
                    "AWS::Amplify::App",
                    json!({
                        "Name": d["name"],
                        "Platform": d["platform"],
                        "Description": "Image editor web app (deployed by provision)",
                        "CustomRules": rules,
                        "Tags": tag_list(tags),
                    }),
                    json!({}),
                )?;
            }
            Construct::AmplifyBranch(c) => {
                let d = amplify::branch_desired(c, &env);
                t.add(
                    id,
                    "AWS::Amplify::Branch",
                    json!({
                        "AppId": format!("${{{}.id}}", c.app.id),
                        "BranchName": d["name"],
                        "Stage": d["stage"],
                        "Tags": tag_list(tags),
                    }),
                    json!({}),
                )?;
            }
            Construct::Function(c) => {
                // CKV_AWS_115 (reserved concurrency) is skipped only while the stack reserves none.
                let skip: Vec<(&str, &str)> = skips("AWS::Lambda::Function")
                    .into_iter()
                    .filter(|(check, _)| c.reserved_concurrency.is_none() || *check != "CKV_AWS_115")
                    .collect();
                let mut props = json!({
                        "FunctionName": c.name,
                        "Runtime": "provided.al2023",
                        "Handler": "bootstrap",
                        "Role": format!("${{{}.arn}}", c.role.id),
                        "MemorySize": c.memory_mb,
                        "Timeout": c.timeout_s,
                        "Architectures": [c.architecture],
                        "Environment": {"Variables": lambda::environment(c, &env)},
                        "Code": {"S3Bucket": {"Ref": CODE_BUCKET_PARAM}, "S3Key": {"Ref": CODE_KEY_PARAM}},
                        "Tags": tag_list(tags),
                });
                if let Some(n) = c.reserved_concurrency {
                    props["ReservedConcurrentExecutions"] = json!(n);
                }
                // The log group (with its retention) before the function can write to it.
                t.add_with_skips(id, "AWS::Lambda::Function", props, json!({"DependsOn": [c.logs.id]}), &skip)?;
            }
            Construct::Permission(c) => {
                let d = lambda::permission_desired(c, &env);
                t.add(
                    id,
                    "AWS::Lambda::Permission",
                    json!({
                        "Action": d["action"],
                        "FunctionName": format!("${{{}.arn}}", c.function.id),
                        "Principal": d["principal"],
                        "SourceArn": d["source_arn"],
                    }),
                    json!({}),
                )?;
            }
            Construct::RestApi(c) => rest_api(&mut t, id, c, &env)?,
            // The built site is deployed to the branch after the stack (see the module docs).
            Construct::Site(_) => {}
        }
    }

    let region = &stack.config.region;
    let out = |desc: &str, value: &str| -> Result<Value, SynthError> {
        Ok(json!({"Description": desc, "Value": sub(json!(value), stack)?}))
    };
    let mut outputs = Map::new();
    outputs.insert("AppUrl".into(), out("The web app (after the site is deployed to the branch)", "${WebApp.origin}")?);
    outputs.insert("ApiUrl".into(), out("The REST API's stage URL (the SPA's apiUrl)", "${Api.url}")?);
    outputs.insert("UserPoolId".into(), out("Cognito user pool (the SPA's userPoolId)", "${UserPool.id}")?);
    outputs.insert("UserPoolClientId".into(), out("App client (the SPA's userPoolClientId)", "${WebClient.id}")?);
    outputs.insert("Region".into(), json!({"Description": "The SPA's region", "Value": {"Ref": "AWS::Region"}}));
    outputs.insert(
        "SelfSignUp".into(),
        json!({"Description": "Whether the sign-in page offers sign-up (the SPA's selfSignUp)", "Value": stack.config.auth.self_sign_up.to_string()}),
    );
    outputs.insert("AmplifyAppId".into(), out("Amplify app to deploy the built site to", "${WebApp.id}")?);
    outputs.insert("RestApiId".into(), out("REST API id", "${Api.id}")?);
    outputs.insert("TableName".into(), out("Edit history table", "${EditsTable.name}")?);
    outputs.insert("FunctionName".into(), out("Editing function", "${Function.name}")?);
    outputs.insert("LogGroupName".into(), out("The function's log group", "${FunctionLogs.name}")?);

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

/// The REST API: what `apigateway::definition` describes, as CloudFormation resources.
fn rest_api(t: &mut Template, id: &str, c: &crate::stack::RestApi, env: &Env<'_>) -> Result<(), SynthError> {
    let def = apigateway::definition(c, env);
    let tags = tag_list(&t.stack.config.tags);
    t.add(
        id,
        "AWS::ApiGateway::RestApi",
        json!({"Name": def["name"], "EndpointConfiguration": {"Types": [def["endpoint"]]}, "Tags": tags}),
        json!({}),
    )?;
    let auth = &def["authorizer"];
    let authorizer_id = format!("{id}Authorizer");
    t.add(
        &authorizer_id,
        "AWS::ApiGateway::Authorizer",
        json!({
            "Name": auth["name"],
            "Type": auth["type"],
            "ProviderARNs": auth["provider_arns"],
            "IdentitySource": auth["identity_source"],
            "RestApiId": {"Ref": id},
        }),
        json!({}),
    )?;
    // Resources, parents first (paths are sorted, so a parent precedes its children).
    let resource_ref = |path: &str| -> Value {
        if path == "/" {
            json!({"Fn::GetAtt": [id, "RootResourceId"]})
        } else {
            json!({"Ref": format!("{id}Resource{}", path_id(path))})
        }
    };
    for path in apigateway::resource_paths(c) {
        if path == "/" {
            continue;
        }
        let (parent, part) = path.rsplit_once('/').unwrap_or(("", &path));
        let parent = if parent.is_empty() { "/" } else { parent };
        t.add(
            &format!("{id}Resource{}", path_id(&path)),
            "AWS::ApiGateway::Resource",
            json!({"RestApiId": {"Ref": id}, "ParentId": resource_ref(parent), "PathPart": part}),
            json!({}),
        )?;
    }
    let mut methods = Vec::new();
    for (key, m) in def["methods"].as_object().cloned().unwrap_or_default() {
        let (verb, path) = key.split_once(' ').unwrap_or((&key, "/"));
        let mid = format!("{id}Method{}{}", verb_id(verb), path_id(path));
        let mut props = json!({
            "RestApiId": {"Ref": id},
            "ResourceId": resource_ref(path),
            "HttpMethod": verb,
            "AuthorizationType": m["authorization"],
        });
        if m["integration"] == "MOCK" {
            let headers = m["headers"].as_object().cloned().unwrap_or_default();
            props["Integration"] = json!({
                "Type": "MOCK",
                "RequestTemplates": {"application/json": "{\"statusCode\": 200}"},
                "IntegrationResponses": [{
                    "StatusCode": "200",
                    "ResponseParameters": headers.iter().map(|(h, v)| (format!("method.response.header.{h}"), v.clone())).collect::<Map<_, _>>(),
                    "ResponseTemplates": {"application/json": m["template"]},
                }],
            });
            props["MethodResponses"] = json!([{
                "StatusCode": "200",
                "ResponseParameters": crate::resources::apigateway::preflight_response_headers(&m)
                    .iter()
                    .map(|h| (format!("method.response.header.{h}"), json!(false)))
                    .collect::<Map<_, _>>(),
            }]);
        } else {
            props["AuthorizerId"] = json!({"Ref": authorizer_id});
            props["Integration"] = json!({"Type": m["integration"], "IntegrationHttpMethod": "POST", "Uri": m["uri"]});
        }
        // The preflights are open by design; every other method is behind the authorizer.
        let skip: &[(&str, &str)] = if m["authorization"] == "NONE" { OPEN_PREFLIGHT } else { &[] };
        t.add_with_skips(&mid, "AWS::ApiGateway::Method", props, json!({}), skip)?;
        methods.push(mid);
    }
    // Gateway responses, like methods, take effect only in a new deployment ("Changes to methods,
    // integrations or gateway responses take effect only in a new deployment"): the deployment
    // depends on them too, so an update that changes only them is deployed after they change.
    let mut deployed = methods.clone();
    for (kind, spec) in def["gateway_responses"].as_object().cloned().unwrap_or_default() {
        let params: Map<String, Value> = spec["headers"]
            .as_object()
            .map(|h| h.iter().map(|(k, v)| (format!("gatewayresponse.header.{k}"), v.clone())).collect())
            .unwrap_or_default();
        let rid = format!("{id}Response{}", path_id(&kind.to_ascii_lowercase().replace('_', "-")));
        deployed.push(rid.clone());
        t.add(
            &rid,
            "AWS::ApiGateway::GatewayResponse",
            json!({"RestApiId": {"Ref": id}, "ResponseType": kind, "ResponseParameters": params,
                   "ResponseTemplates": {"application/json": spec["template"]}}),
            json!({}),
        )?;
    }
    // A deployment per definition (its hash in the logical id, as the engine's marker), so any
    // change of the definition deploys anew.
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(def.to_string().as_bytes()))
    };
    let deployment = format!("{id}Deployment{}", &hash[..12]);
    t.add(
        &deployment,
        "AWS::ApiGateway::Deployment",
        json!({"RestApiId": {"Ref": id}, "Description": format!("definition sha256:{hash}")}),
        json!({"DependsOn": deployed}),
    )?;
    t.add(
        &format!("{id}Stage"),
        "AWS::ApiGateway::Stage",
        json!({"RestApiId": {"Ref": id}, "DeploymentId": {"Ref": deployment}, "StageName": def["stage"],
               "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*",
                                   "ThrottlingRateLimit": c.throttle.rate, "ThrottlingBurstLimit": c.throttle.burst}],
               "Tags": tag_list(&t.stack.config.tags)}),
        json!({}),
    )?;
    Ok(())
}

/// The template as YAML.
pub fn to_yaml(template: &Value) -> Result<String, SynthError> {
    serde_norway::to_string(template).map_err(|e| SynthError::Yaml(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids_are_cloudformation_logical_ids() {
        assert_eq!(path_id("/"), "Root");
        assert_eq!(path_id("/edits"), "Edits");
        assert_eq!(path_id("/edits/{id}"), "EditsId");
        assert_eq!(path_id("default-4xx"), "Default4xx");
        assert_eq!(verb_id("DELETE"), "Delete");
    }
}
