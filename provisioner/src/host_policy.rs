//! The IAM policy a host needs to run `provision up`, `down`, `doctor`, `status`, `diff`,
//! `outputs`, `users` and `logs` for one stack (default engine), scoped to the stack's names where
//! AWS allows it. `provision policy` prints it; docs/setup.md shows it; a test runs `up` and `down`
//! on the local cloud, with IAM enforced, as a user holding exactly this policy.
//!
//! Resource formats are the Service Authorization Reference's
//! (docs.aws.amazon.com/service-authorization/latest/reference/list_<service>.html). Where AWS
//! gives resources random ids (user pools, REST APIs, Amplify apps), the policy allows the kind in
//! the stack's region and account; creates and lists that take no resource are on `*`.

use serde_json::{Value, json};

use crate::config::StackConfig;
use crate::models::ModelAccess;
use crate::stack::Names;
use image_edit_contract::catalogue;

/// One statement: its id, actions and resources.
struct Statement {
    sid: &'static str,
    actions: Vec<String>,
    resources: Vec<String>,
}

fn actions(service: &str, names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("{service}:{n}")).collect()
}

/// The policy document for `config`'s stack in `account`.
pub fn document(config: &StackConfig, account: &str) -> Value {
    let (s, r, a) = (config.name.as_str(), config.region.as_str(), account);
    let mut statements = vec![
        Statement {
            sid: "CreateAndListWhatHasNoResource",
            actions: [
                actions("cognito-idp", &["CreateUserPool", "ListUserPools"]),
                actions("amplify", &["CreateApp", "ListApps"]),
                actions("logs", &["DescribeLogGroups"]),
                actions("lambda", &["GetAccountSettings"]),
                actions("servicequotas", &["ListServiceQuotas"]),
                // The model access agreements (Marketplace subscriptions) `up` makes.
                actions(
                    "bedrock",
                    &[
                        "GetFoundationModelAvailability",
                        "ListFoundationModelAgreementOffers",
                        "CreateFoundationModelAgreement",
                    ],
                ),
                actions("aws-marketplace", &["Subscribe", "ViewSubscriptions"]),
                // Metrics have no resource-level permissions; `watch` reads them.
                actions("cloudwatch", &["GetMetricData", "ListMetrics", "ListDashboards"]),
                // Unsubscribe names a subscription, which policies cannot scope.
                actions("sns", &["ListTopics", "Unsubscribe"]),
            ]
            .concat(),
            resources: vec!["*".into()],
        },
        Statement {
            sid: "UserPool",
            actions: actions(
                "cognito-idp",
                &[
                    "AdminCreateUser",
                    "AdminDeleteUser",
                    "AdminSetUserPassword",
                    "CreateUserPoolClient",
                    "DeleteUserPool",
                    "DeleteUserPoolClient",
                    "DeleteUserPoolDomain",
                    "DescribeUserPool",
                    "DescribeUserPoolClient",
                    "ListUserPoolClients",
                    "ListUsers",
                    "UpdateUserPool",
                    "UpdateUserPoolClient",
                ],
            ),
            resources: vec![format!("arn:aws:cognito-idp:{r}:{a}:userpool/*")],
        },
        Statement {
            sid: "FunctionRole",
            actions: actions(
                "iam",
                &[
                    "CreateRole",
                    "DeleteRole",
                    "DeleteRolePolicy",
                    "DetachRolePolicy",
                    "GetRole",
                    "GetRolePolicy",
                    "ListAttachedRolePolicies",
                    "ListRolePolicies",
                    "PassRole",
                    "PutRolePolicy",
                    "TagRole",
                    "UntagRole",
                    "UpdateAssumeRolePolicy",
                ],
            ),
            resources: vec![format!("arn:aws:iam::{a}:role/{}", Names::role(s))],
        },
        Statement {
            sid: "EditsTable",
            actions: actions(
                "dynamodb",
                &[
                    "CreateTable",
                    "DeleteTable",
                    "DescribeTable",
                    "DescribeTimeToLive",
                    // `watch` reads today's image counters (quota#… items).
                    "GetItem",
                    "ListTagsOfResource",
                    // `users list`: each person's requests of the day.
                    "Query",
                    "Scan",
                    "TagResource",
                    "UntagResource",
                    "UpdateTable",
                    "UpdateTimeToLive",
                ],
            ),
            resources: vec![format!("arn:aws:dynamodb:{r}:{a}:table/{}", Names::table(s))],
        },
        Statement {
            sid: "EditFunction",
            actions: actions(
                "lambda",
                &[
                    "AddPermission",
                    "CreateFunction",
                    "DeleteFunction",
                    "DeleteFunctionConcurrency",
                    "GetFunction",
                    "GetFunctionConcurrency",
                    "GetPolicy",
                    "PutFunctionConcurrency",
                    "RemovePermission",
                    "TagResource",
                    "UntagResource",
                    "UpdateFunctionCode",
                    "UpdateFunctionConfiguration",
                ],
            ),
            resources: vec![format!("arn:aws:lambda:{r}:{a}:function:{}", Names::function(s))],
        },
        Statement {
            sid: "LogGroups",
            actions: actions(
                "logs",
                &[
                    "CreateLogGroup",
                    "DeleteLogGroup",
                    "FilterLogEvents",
                    "ListTagsForResource",
                    "PutRetentionPolicy",
                    "TagResource",
                    "UntagResource",
                ],
            ),
            // The function's group (by its ARN, and with `:*` as the Logs API reference asks for
            // the group's own actions) and API Gateway's execution-log groups of the stack's API,
            // which `down` removes when logging was ever turned on.
            resources: vec![
                format!("arn:aws:logs:{r}:{a}:log-group:{}", Names::function_log_group(s)),
                format!("arn:aws:logs:{r}:{a}:log-group:{}:*", Names::function_log_group(s)),
                format!("arn:aws:logs:{r}:{a}:log-group:API-Gateway-Execution-Logs_*"),
            ],
        },
        Statement {
            sid: "Monitoring",
            actions: actions(
                "cloudwatch",
                &[
                    "DeleteAlarms",
                    "DeleteDashboards",
                    "DescribeAlarms",
                    "GetDashboard",
                    "ListTagsForResource",
                    "PutDashboard",
                    "PutMetricAlarm",
                    "TagResource",
                    "UntagResource",
                ],
            ),
            // Alarms are regional; dashboards are global to the account (no region in their ARN).
            resources: Names::alarms(s)
                .iter()
                .map(|n| format!("arn:aws:cloudwatch:{r}:{a}:alarm:{n}"))
                .chain([format!("arn:aws:cloudwatch::{a}:dashboard/{}", Names::dashboard(s))])
                .collect(),
        },
        Statement {
            sid: "AlarmTopic",
            actions: actions(
                "sns",
                &[
                    "CreateTopic",
                    "DeleteTopic",
                    "GetTopicAttributes",
                    "ListSubscriptionsByTopic",
                    "ListTagsForResource",
                    "Subscribe",
                    "TagResource",
                    "UntagResource",
                ],
            ),
            resources: vec![format!("arn:aws:sns:{r}:{a}:{}", Names::topic(s))],
        },
        Statement {
            sid: "RestApi",
            // API Gateway's actions are the HTTP methods of its management API, on its paths.
            actions: actions("apigateway", &["DELETE", "GET", "PATCH", "POST", "PUT"]),
            resources: vec![
                format!("arn:aws:apigateway:{r}::/restapis"),
                format!("arn:aws:apigateway:{r}::/restapis/*"),
                format!("arn:aws:apigateway:{r}::/tags/*"),
            ],
        },
        Statement {
            sid: "WebApp",
            actions: actions(
                "amplify",
                &[
                    "CreateBranch",
                    "CreateDeployment",
                    "DeleteApp",
                    "GetApp",
                    "GetBranch",
                    "GetJob",
                    "ListJobs",
                    "StartDeployment",
                    "StopJob",
                    "TagResource",
                    "UntagResource",
                    "UpdateApp",
                    "UpdateBranch",
                ],
            ),
            resources: vec![format!("arn:aws:amplify:{r}:{a}:apps/*")],
        },
        Statement {
            sid: "ResultsBucket",
            actions: actions(
                "s3",
                &[
                    "CreateBucket",
                    "DeleteBucket",
                    "GetBucketCORS",
                    "GetBucketOwnershipControls",
                    "GetBucketPolicy",
                    "GetBucketPublicAccessBlock",
                    "GetBucketTagging",
                    "GetEncryptionConfiguration",
                    "GetLifecycleConfiguration",
                    // HeadBucket; ListObjectVersions (emptying it for `down`).
                    "ListBucket",
                    "ListBucketVersions",
                    "PutBucketCORS",
                    // Also what CreateBucket with ObjectOwnership needs.
                    "PutBucketOwnershipControls",
                    "PutBucketPolicy",
                    "PutBucketPublicAccessBlock",
                    "PutBucketTagging",
                    "PutEncryptionConfiguration",
                    "PutLifecycleConfiguration",
                ],
            ),
            resources: vec![format!("arn:aws:s3:::{}", image_edit_contract::results::bucket_name(s, a, r))],
        },
        Statement {
            sid: "ResultsObjects",
            // `down` empties the bucket (DeleteObjects needs s3:DeleteObject for each key).
            actions: actions("s3", &["DeleteObject"]),
            resources: vec![format!("arn:aws:s3:::{}/*", image_edit_contract::results::bucket_name(s, a, r))],
        },
    ];
    // The stack's models: their lifecycle and inference profiles, read by `up` and `doctor`. Both
    // are AWS's public catalogue entries (GetFoundationModel and GetInferenceProfile of a
    // system-defined `us.` profile read what the List calls show anyone), so the policy names
    // their provider's in the region (`stability.*`, `us.stability.*`): one line instead of one
    // per model keeps the document under IAM's 6,144 characters for a managed policy.
    let mut models = Vec::new();
    let provider_models = |id: &str| {
        let provider = id.split('.').next().unwrap_or(id);
        catalogue::foundation_model_arn(r, &format!("{provider}.*"))
    };
    for grant in ModelAccess::documented(config).grants {
        match catalogue::profile(&grant.id) {
            Some((m, _)) => {
                // `us.stability.…` → the account's `us.stability.*` profiles.
                let mut parts = grant.id.splitn(3, '.');
                let (geo, provider) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
                models.push(catalogue::profile_arn(r, a, &format!("{geo}.{provider}.*")));
                models.push(provider_models(m.id));
            }
            None => models.push(provider_models(&grant.id)),
        }
    }
    models.sort();
    models.dedup();
    statements.push(Statement {
        sid: "StackModels",
        actions: actions("bedrock", &["GetFoundationModel", "GetInferenceProfile"]),
        resources: models,
    });
    json!({
        "Version": "2012-10-17",
        "Statement": statements
            .into_iter()
            .map(|st| json!({"Sid": st.sid, "Effect": "Allow", "Action": st.actions, "Resource": st.resources}))
            .collect::<Vec<_>>(),
    })
}

/// The IAM action a call labelled `service:Operation` (the labels of `Ctx::ctx`) needs, or None
/// for calls that need none: STS GetCallerIdentity (always allowed), Cognito's unsigned sign-in
/// operations, and the CloudFormation engine's calls (not covered by this policy).
pub fn action_of(label: &str) -> Option<String> {
    let (service, operation) = label.split_once(':')?;
    match service {
        "sts" | "cloudformation" => None,
        "cognito-idp" if matches!(operation, "InitiateAuth" | "RespondToAuthChallenge") => None,
        // API Gateway's actions are HTTP methods: the operation's verb says which.
        "apigateway" => Some(format!(
            "apigateway:{}",
            match operation {
                o if o.starts_with("Get") => "GET",
                o if o.starts_with("Create") => "POST",
                o if o.starts_with("Put") => "PUT",
                o if o.starts_with("Update") => "PATCH",
                o if o.starts_with("Delete") => "DELETE",
                "TagResource" => "PUT",
                "UntagResource" => "DELETE",
                _ => return None,
            }
        )),
        _ => Some(label.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every AWS call the provisioner makes (each is labelled `service:Operation` where it is
    /// made) is allowed by the policy: read from the sources, so a new call cannot be forgotten.
    #[test]
    fn the_policy_allows_every_call_the_provisioner_makes() {
        let config = crate::config::parse("name: dev\nregion: us-west-2\n", std::path::Path::new("dev.yaml"), "dev")
            .expect("config");
        let doc = document(&config, "123456789012");
        let allowed: Vec<String> = doc["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        // The label literal after `.ctx(`, `AwsError::new(` or `from_sdk(`.
        let labels = |text: &str| -> Vec<String> {
            let mut found = Vec::new();
            for call in [".ctx(\"", "AwsError::new(\"", "from_sdk(\""] {
                for (i, _) in text.match_indices(call) {
                    let rest = &text[i + call.len()..];
                    let l = rest.split('"').next().unwrap_or_default();
                    if l.split_once(':')
                        .is_some_and(|(s, o)| !s.is_empty() && o.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
                    {
                        found.push(l.to_owned());
                    }
                }
            }
            found
        };
        let mut missing = Vec::new();
        let mut seen = 0;
        let mut dirs = vec![src];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("src dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                // The CloudFormation engine's calls (its artifact bucket's too) are not this
                // policy's (docs/cloudformation.md lists what that engine needs).
                if path.file_name().is_some_and(|f| f == "cfn.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for l in labels(&text) {
                    seen += 1;
                    if let Some(action) = action_of(&l)
                        && !allowed.contains(&action)
                    {
                        missing.push(format!("{l} ({})", path.display()));
                    }
                }
            }
        }
        assert!(seen > 100, "the calls were found ({seen})");
        assert!(missing.is_empty(), "calls the host policy does not allow: {missing:#?}");
    }

    #[test]
    fn the_policy_names_the_stacks_resources() {
        let config = crate::config::parse("name: dev\nregion: us-west-2\n", std::path::Path::new("dev.yaml"), "dev")
            .expect("config");
        let doc = document(&config, "111122223333").to_string();
        for arn in [
            "arn:aws:iam::111122223333:role/dev-edit-fn",
            "arn:aws:dynamodb:us-west-2:111122223333:table/dev-edits",
            "arn:aws:lambda:us-west-2:111122223333:function:dev-edit",
            "arn:aws:bedrock:us-west-2:111122223333:inference-profile/us.stability.*",
            "arn:aws:cloudwatch:us-west-2:111122223333:alarm:dev-server-errors",
            "arn:aws:cloudwatch::111122223333:dashboard/dev-image-editor",
            "arn:aws:sns:us-west-2:111122223333:dev-alarms",
            "arn:aws:s3:::dev-results-111122223333-us-west-2",
        ] {
            assert!(doc.contains(arn), "{arn} in {doc}");
        }
        // IAM's limit for a user's inline policies: 2,048 characters without white space.
        assert!(doc.len() < 6144, "{} characters: fits a customer managed policy", doc.len());
    }
}
