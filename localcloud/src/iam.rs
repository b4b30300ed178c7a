//! Who may call what, for the stand-ins outside moto (Bedrock, Amplify, Service Quotas): each asks
//! moto's own evaluator (`/moto-api/localcloud/authorize`, in moto_iam.py), so one set of rules —
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

/// The access key id a SigV4-signed request was signed with (`Credential=KEY/date/region/…`).
pub fn access_key_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split("Credential=")
        .nth(1)?
        .split('/')
        .next()
        .filter(|k| !k.is_empty())
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
