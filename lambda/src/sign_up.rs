//! The user pool's pre sign-up trigger: self sign-up only from the stack's e-mail domains.
//!
//! Cognito invokes the function synchronously with a `PreSignUp_*` event before it creates a user;
//! returning the event lets the sign-up go on, failing the invocation refuses it, and Cognito
//! answers the client `UserLambdaValidationException` "PreSignUp failed with error MESSAGE."
//! (Cognito Developer Guide, "Pre sign-up Lambda trigger"). The same function serves the API: an
//! event that is not API Gateway's reaches the handler as lambda_http's pass-through request.
//!
//! The rule is enforced here, server-side, because the app client id is public: anybody can call
//! SignUp without the web app. Invitations (`PreSignUp_AdminCreateUser`) are the owner's choice
//! and always pass.

use serde_json::Value;

/// Comma-separated lower-case e-mail domains allowed to sign themselves up (`auth.allowed_email_domains`).
/// Set only when the stack restricts self sign-up (the pool's trigger is attached then).
pub const ENV_ALLOWED_EMAIL_DOMAINS: &str = image_edit_contract::env::ALLOWED_EMAIL_DOMAINS;

/// Why a sign-up was refused: the text Cognito passes on to the person signing up.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("Sign-up is open only to e-mail addresses at {allowed}. Ask the workshop host for an invitation.")]
    Domain { allowed: String },
    #[error("Sign-up needs an e-mail address.")]
    NoEmail,
    /// Not a pre sign-up event: nothing else may reach the function outside API Gateway.
    #[error("this function handles API Gateway requests and Cognito's pre sign-up trigger, not {0}")]
    NotPreSignUp(String),
}

impl From<Refused> for lambda_http::lambda_runtime::Diagnostic {
    fn from(e: Refused) -> Self {
        let error_type = match e {
            Refused::Domain { .. } | Refused::NoEmail => "SignUpRefused",
            Refused::NotPreSignUp(_) => "UnexpectedEvent",
        };
        Self { error_type: error_type.to_owned(), error_message: e.to_string() }
    }
}

/// The domains allowed to sign up, from [`ENV_ALLOWED_EMAIL_DOMAINS`]; empty = any domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedDomains(Vec<String>);

impl AllowedDomains {
    pub fn parse(text: &str) -> Self {
        AllowedDomains(text.split(',').map(|d| d.trim().to_ascii_lowercase()).filter(|d| !d.is_empty()).collect())
    }

    pub fn from_env() -> Self {
        std::env::var(ENV_ALLOWED_EMAIL_DOMAINS).map(|v| Self::parse(&v)).unwrap_or_default()
    }

    /// The part after the last `@`, compared whole and without case: `example.com` admits
    /// `ann@example.com` and `Ann@EXAMPLE.com`, not `ann@mail.example.com` nor `ann@badexample.com`.
    fn admits(&self, email: &str) -> bool {
        self.0.is_empty()
            || email.rsplit_once('@').is_some_and(|(_, domain)| self.0.iter().any(|d| d.eq_ignore_ascii_case(domain)))
    }
}

/// Answers one trigger event: `Ok(event)` lets Cognito go on, `Err` refuses the sign-up.
pub fn pre_sign_up(allowed: &AllowedDomains, event: Value) -> Result<Value, Refused> {
    let source = event["triggerSource"].as_str().unwrap_or("an event without triggerSource");
    match source {
        // The owner's invitation (`provision users add`): whoever they choose.
        "PreSignUp_AdminCreateUser" => Ok(event),
        "PreSignUp_SignUp" | "PreSignUp_ExternalProvider" => {
            let email = event["request"]["userAttributes"]["email"].as_str().ok_or(Refused::NoEmail)?;
            if allowed.admits(email) { Ok(event) } else { Err(Refused::Domain { allowed: allowed.0.join(", ") }) }
        }
        other => Err(Refused::NotPreSignUp(other.chars().take(64).collect())),
    }
}

/// The pass-through request's body (the raw event) → the trigger's answer.
pub fn handle(allowed: &AllowedDomains, body: &[u8]) -> Result<Value, Refused> {
    let event: Value =
        serde_json::from_slice(body).map_err(|_| Refused::NotPreSignUp("an event that is not JSON".to_owned()))?;
    let result = pre_sign_up(allowed, event);
    match &result {
        // The address is personal data: only the outcome and the reason are logged.
        Ok(_) => tracing::info!("pre sign-up: allowed"),
        Err(e) => tracing::info!(reason = %e, "pre sign-up: refused"),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(source: &str, email: Option<&str>) -> Value {
        let mut attrs = json!({});
        if let Some(e) = email {
            attrs["email"] = json!(e);
        }
        json!({
            "version": "1", "region": "us-east-1", "userPoolId": "us-east-1_abc", "userName": "u",
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "c"},
            "triggerSource": source,
            "request": {"userAttributes": attrs, "validationData": null},
            "response": {"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false},
        })
    }

    #[test]
    fn only_the_listed_domains_sign_themselves_up() {
        let allowed = AllowedDomains::parse("example.com, School.EDU");
        for ok in ["ann@example.com", "Ann@EXAMPLE.COM", "bo@school.edu"] {
            let e = event("PreSignUp_SignUp", Some(ok));
            assert_eq!(pre_sign_up(&allowed, e.clone()), Ok(e), "{ok}");
        }
        for refused in ["ann@mail.example.com", "ann@badexample.com", "ann@example.com.evil.io", "no-at-sign"] {
            let err = pre_sign_up(&allowed, event("PreSignUp_SignUp", Some(refused))).unwrap_err();
            assert_eq!(err, Refused::Domain { allowed: "example.com, school.edu".into() }, "{refused}");
        }
        assert_eq!(pre_sign_up(&allowed, event("PreSignUp_SignUp", None)), Err(Refused::NoEmail));
        assert!(pre_sign_up(&allowed, event("PreSignUp_ExternalProvider", Some("x@other.org"))).is_err());
    }

    #[test]
    fn invitations_always_pass_and_other_events_are_refused() {
        let allowed = AllowedDomains::parse("example.com");
        let invite = event("PreSignUp_AdminCreateUser", Some("guest@other.org"));
        assert_eq!(pre_sign_up(&allowed, invite.clone()), Ok(invite));
        let err = pre_sign_up(&allowed, event("PostConfirmation_ConfirmSignUp", Some("a@example.com"))).unwrap_err();
        assert!(matches!(err, Refused::NotPreSignUp(_)));
        assert!(handle(&allowed, b"not json").is_err());
        // No list: any domain (the trigger is attached only with a list, but the rule holds alone).
        let any = AllowedDomains::parse("");
        assert!(pre_sign_up(&any, event("PreSignUp_SignUp", Some("x@any.where"))).is_ok());
    }

    #[test]
    fn the_refusal_reaches_cognito_as_the_error_message() {
        let d: lambda_http::lambda_runtime::Diagnostic = Refused::Domain { allowed: "example.com".into() }.into();
        assert_eq!(d.error_type, "SignUpRefused");
        assert!(d.error_message.starts_with("Sign-up is open only to e-mail addresses at example.com."));
    }
}
