//! Who may call what, for the stand-ins outside moto (Bedrock, Amplify, Service Quotas): each asks
//! moto's own evaluator (`/moto-api/localcloud/authorize`, in localcloud/src/moto/iam.py), so one set of rules —
//! the caller's identity policies, the administrator key, issued keys and session tokens — decides
//! for every service of the local cloud.

use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

/// The account moto answers for (its default account).
pub const ACCOUNT: &str = "123456789012";

/// Asks moto whether a request's caller may take an action.
#[derive(Clone, Debug)]
pub struct Authorizer {
    endpoint: String,
    http: reqwest::Client,
}

/// Why a request is refused, in the words AWS uses (the status, the error code, the message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    allowed: bool,
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: Option<String>,
}

/// The parts of a SigV4 credential scope (`Credential=KEY/date/region/service/aws4_request`).
fn credential(headers: &HeaderMap) -> Option<std::str::Split<'_, char>> {
    Some(headers.get(header::AUTHORIZATION)?.to_str().ok()?.split("Credential=").nth(1)?.split('/'))
}

/// The access key id a SigV4-signed request was signed with.
pub fn access_key_id(headers: &HeaderMap) -> Option<&str> {
    credential(headers)?.next().filter(|k| !k.is_empty())
}

/// The region a SigV4-signed request was signed for.
pub fn signing_region(headers: &HeaderMap) -> Option<String> {
    credential(headers)?.nth(2).filter(|r| !r.is_empty()).map(str::to_owned)
}

impl Refused {
    /// The refusal as the REST and JSON control planes send it: the status, the error type in
    /// `x-amzn-ErrorType` and the body (`message`, and `Message` for the services that spell it so).
    pub fn into_response(self) -> axum::response::Response {
        use axum::response::IntoResponse;
        let body = serde_json::json!({"__type": self.code, "message": self.message, "Message": self.message});
        (self.status, [("x-amzn-errortype", self.code)], axum::Json(body)).into_response()
    }
}

impl Authorizer {
    /// `moto`: moto's endpoint (`http://127.0.0.1:PORT`).
    pub fn new(moto: &str) -> Authorizer {
        Authorizer { endpoint: format!("{moto}/moto-api/localcloud/authorize"), http: reqwest::Client::new() }
    }

    /// Whether the signer of `headers` may take `action` on every one of `resources` (an identity
    /// policy must allow each, none deny it: "Policy evaluation logic", IAM User Guide).
    pub async fn authorize(
        &self,
        headers: &HeaderMap,
        region: &str,
        action: &str,
        resources: &[String],
    ) -> Result<(), Refused> {
        // An unsigned request: "MissingAuthenticationTokenException … Request must contain a
        // signature that conforms to AWS standards" (Bedrock API reference, common errors).
        let Some(key) = access_key_id(headers) else {
            return Err(Refused {
                status: StatusCode::FORBIDDEN,
                code: "MissingAuthenticationTokenException",
                message: "Missing Authentication Token".into(),
            });
        };
        let token = headers.get("x-amz-security-token").and_then(|v| v.to_str().ok());
        let ask = serde_json::json!({
            "accessKeyId": key,
            "sessionToken": token,
            "region": region,
            "account": ACCOUNT,
            "action": action,
            "resources": resources,
        });
        let unavailable = |e: String| Refused {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "InternalServerException",
            message: format!("the local cloud could not authorize the request: {e}"),
        };
        let resp = self.http.post(&self.endpoint).json(&ask).send().await.map_err(|e| unavailable(e.to_string()))?;
        let status = resp.status();
        let answer: Answer = resp.json().await.map_err(|e| unavailable(e.to_string()))?;
        if status == StatusCode::FORBIDDEN {
            // A key the local cloud issued but no longer knows (or a wrong session token): "The
            // security token included in the request is invalid." (UnrecognizedClientException,
            // HTTP 403, common errors of the JSON APIs).
            return Err(Refused {
                status: StatusCode::FORBIDDEN,
                code: "UnrecognizedClientException",
                message: if answer.message.is_empty() {
                    "The security token included in the request is invalid.".into()
                } else {
                    answer.message
                },
            });
        }
        if !status.is_success() {
            return Err(unavailable(format!("{status} {}", answer.code.unwrap_or_default())));
        }
        if answer.allowed {
            Ok(())
        } else {
            Err(Refused { status: StatusCode::FORBIDDEN, code: "AccessDeniedException", message: answer.message })
        }
    }
}

/// What a control-plane call to a stand-in asks IAM: each action and the ARNs it acts on, as the
/// Service Authorization Reference lists them (list_awsamplify.html, list_amazonbedrock.html,
/// list_servicequotas.html; Bedrock's agreement calls also need AWS Marketplace's, per "Access
/// Amazon Bedrock foundation models", Bedrock User Guide). Empty: not a control-plane call (a
/// hosted site, the upload URL, the stand-ins' own `/_localcloud` switches).
pub fn control_plane(
    method: &str,
    path: &str,
    target: Option<&str>,
    body: &[u8],
    region: &str,
) -> Vec<(String, Vec<String>)> {
    let one = |action: &str, resource: String| vec![(action.to_owned(), vec![resource])];
    let any = |action: &str| one(action, "*".to_owned());
    if target.is_some_and(|t| t.starts_with("ServiceQuotasV20190624.")) {
        let op = target.and_then(|t| t.split('.').nth(1)).unwrap_or_default();
        return any(&format!("servicequotas:{op}"));
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let app = |id: &str| format!("arn:aws:amplify:{region}:{ACCOUNT}:apps/{id}");
    let branch = |id: &str, b: &str| format!("{}/branches/{b}", app(id));
    let body_field = |field: &str| {
        serde_json::from_slice::<serde_json::Value>(body).ok().and_then(|v| v[field].as_str().map(str::to_owned))
    };
    match (method, parts.as_slice()) {
        // Amplify.
        ("POST", ["apps"]) => any("amplify:CreateApp"),
        ("GET", ["apps"]) => any("amplify:ListApps"),
        ("GET", ["apps", id]) => one("amplify:GetApp", app(id)),
        ("POST", ["apps", id]) => one("amplify:UpdateApp", app(id)),
        ("DELETE", ["apps", id]) => one("amplify:DeleteApp", app(id)),
        ("POST", ["apps", id, "branches"]) => {
            one("amplify:CreateBranch", branch(id, &body_field("branchName").unwrap_or_default()))
        }
        ("GET", ["apps", id, "branches"]) => one("amplify:ListBranches", app(id)),
        ("GET", ["apps", id, "branches", b]) => one("amplify:GetBranch", branch(id, b)),
        ("POST", ["apps", id, "branches", b]) => one("amplify:UpdateBranch", branch(id, b)),
        ("DELETE", ["apps", id, "branches", b]) => one("amplify:DeleteBranch", branch(id, b)),
        ("POST", ["apps", id, "branches", b, "deployments"]) => one("amplify:CreateDeployment", branch(id, b)),
        ("POST", ["apps", id, "branches", b, "deployments", "start"]) => one("amplify:StartDeployment", branch(id, b)),
        ("GET", ["apps", id, "branches", b, "jobs"]) => one("amplify:ListJobs", branch(id, b)),
        ("GET", ["apps", id, "branches", b, "jobs", job]) => {
            one("amplify:GetJob", format!("{}/jobs/{job}", branch(id, b)))
        }
        ("DELETE", ["apps", id, "branches", b, "jobs", job, "stop"]) => {
            one("amplify:StopJob", format!("{}/jobs/{job}", branch(id, b)))
        }
        (m, ["tags", ..]) => {
            let arn = percent_decode(path.trim_start_matches("/tags/"));
            let action = match m {
                "POST" => "amplify:TagResource",
                "DELETE" => "amplify:UntagResource",
                _ => "amplify:ListTagsForResource",
            };
            one(action, arn)
        }
        // Bedrock's control plane.
        ("GET", ["foundation-models"]) => any("bedrock:ListFoundationModels"),
        ("GET", ["foundation-models", id]) => one(
            "bedrock:GetFoundationModel",
            format!("arn:aws:bedrock:{region}::foundation-model/{}", percent_decode(id)),
        ),
        ("GET", ["inference-profiles"]) => any("bedrock:ListInferenceProfiles"),
        ("GET", ["inference-profiles", id]) => one(
            "bedrock:GetInferenceProfile",
            format!("arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/{}", percent_decode(id)),
        ),
        ("GET", ["foundation-model-availability", _]) => any("bedrock:GetFoundationModelAvailability"),
        ("GET", ["list-foundation-model-agreement-offers", _]) => any("bedrock:ListFoundationModelAgreementOffers"),
        ("POST", ["create-foundation-model-agreement"]) => vec![
            ("bedrock:CreateFoundationModelAgreement".to_owned(), vec!["*".to_owned()]),
            ("aws-marketplace:Subscribe".to_owned(), vec!["*".to_owned()]),
            ("aws-marketplace:ViewSubscriptions".to_owned(), vec!["*".to_owned()]),
        ],
        ("POST", ["delete-foundation-model-agreement"]) => vec![
            ("bedrock:DeleteFoundationModelAgreement".to_owned(), vec!["*".to_owned()]),
            ("aws-marketplace:Unsubscribe".to_owned(), vec!["*".to_owned()]),
            ("aws-marketplace:ViewSubscriptions".to_owned(), vec!["*".to_owned()]),
        ],
        _ => Vec::new(),
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_key_is_read_from_the_authorization_header() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261205/us-west-2/bedrock/aws4_request, SignedHeaders=host, \
             Signature=abc"
                .parse()
                .expect("header"),
        );
        assert_eq!(access_key_id(&h), Some("ASIAEXAMPLE"));
        assert_eq!(access_key_id(&HeaderMap::new()), None);
    }
}
