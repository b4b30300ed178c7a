//! Using a stack that is up: `token` (an ID token to call the API with curl) and `logs` (the
//! function's CloudWatch Logs). Both work the same on AWS and on the local cloud.

use crate::stack::{EDITOR, UserPool, UserPoolClient};
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};

use crate::aws::{Aws, AwsError, Ctx as _};
use crate::commands::{Ctx, deployed_outputs};
use crate::error::{CliError, Exit};
use crate::local;

/// Signs a user in and prints the ID token — the value the API's Cognito authorizer expects in
/// `Authorization`. With SRP, as the web app does (the app client allows no other password flow),
/// on AWS and on the local cloud, whose Cognito verifies the proof.
pub async fn token(ctx: &Ctx, username: Option<String>) -> Result<Exit, CliError> {
    let outputs = deployed_outputs(ctx)?;
    let client_id = outputs
        .known(EDITOR.client, UserPoolClient::ID)
        .ok_or_else(|| CliError::Usage("the state file has no app client id: run `provision up` again".into()))?
        .to_owned();
    let (username, password) = match (username, ctx.local.is_some()) {
        (Some(u), _) => {
            let p = password_for(&u)?;
            (u, p)
        }
        (None, true) => {
            let u = format!("demo@{}.local", ctx.config.name);
            let p = std::env::var("PROVISION_PASSWORD").unwrap_or_else(|_| local::DEMO_PASSWORD.to_owned());
            (u, p)
        }
        (None, false) => {
            return Err(CliError::Usage("--username is required (the e-mail you signed up with in the app)".into()));
        }
    };
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let pool = outputs
        .known(EDITOR.pool, UserPool::ID)
        .ok_or_else(|| CliError::Usage("the state file has no user pool id: run `provision up` again".into()))?
        .to_owned();
    let out = srp_sign_in(&aws.cognito, &pool, &client_id, &username, &password).await;
    let out = match out {
        Ok(o) => o,
        Err(e) if e.code_is("NotAuthorizedException") => {
            return Err(CliError::Usage(format!("{username}: wrong user name or password ({})", e.message)));
        }
        Err(e) if e.code_is("UserNotConfirmedException") => {
            return Err(CliError::Usage(format!(
                "{username} has not confirmed the sign-up yet: enter the code from the e-mail in the app first"
            )));
        }
        Err(e) => return Err(CliError::Aws(e)),
    };
    if let Some(challenge) = out.challenge_name() {
        return Err(CliError::Usage(format!(
            "{username} must answer the {} challenge first: sign in once in the app",
            challenge.as_str()
        )));
    }
    let token = out
        .authentication_result()
        .and_then(|r| r.id_token())
        .ok_or_else(|| CliError::Aws(AwsError::new("cognito-idp:InitiateAuth", "no ID token in the answer")))?;
    ctx.printer().document(&serde_json::json!({"idToken": token}), |out| writeln!(out, "{token}"));
    Ok(Exit::Ok)
}

/// USER_SRP_AUTH, then the PASSWORD_VERIFIER challenge answered with the SRP proof: the password
/// never leaves this machine. The answer holds either a further challenge or the tokens.
pub async fn srp_sign_in(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<InitiateAuthOutput, AwsError> {
    use aws_cognito_srp::{SrpClient, User};
    let srp = SrpClient::new(User::new(pool, username, password), client_id, None);
    let start = srp.get_auth_parameters();
    let first = cognito
        .initiate_auth()
        .auth_flow(AuthFlowType::UserSrpAuth)
        .client_id(client_id)
        .auth_parameters("USERNAME", &start.username)
        .auth_parameters("SRP_A", &start.a)
        .send()
        .await
        .ctx("cognito-idp:InitiateAuth")?;
    if first.challenge_name() != Some(&ChallengeNameType::PasswordVerifier) {
        return Ok(first);
    }
    let p = first.challenge_parameters().cloned().unwrap_or_default();
    let param = |k: &str| p.get(k).map(String::as_str).unwrap_or_default();
    let proof =
        srp.verify(param("SECRET_BLOCK"), param("USER_ID_FOR_SRP"), param("SALT"), param("SRP_B")).map_err(|e| {
            AwsError::new("cognito-idp:InitiateAuth", format!("the SRP challenge could not be answered: {e}"))
        })?;
    let answer = cognito
        .respond_to_auth_challenge()
        .client_id(client_id)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .set_session(first.session().map(str::to_owned))
        .challenge_responses("USERNAME", param("USER_ID_FOR_SRP"))
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", &proof.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", &proof.password_claim_signature)
        .challenge_responses("TIMESTAMP", &proof.timestamp)
        .send()
        .await
        .ctx("cognito-idp:RespondToAuthChallenge")?;
    // The two answers carry the same fields; the caller reads the challenge or the tokens.
    Ok(InitiateAuthOutput::builder()
        .set_challenge_name(answer.challenge_name().cloned())
        .set_session(answer.session().map(str::to_owned))
        .set_authentication_result(answer.authentication_result().cloned())
        .build())
}

fn password_for(username: &str) -> Result<String, CliError> {
    if let Ok(p) = std::env::var("PROVISION_PASSWORD") {
        return Ok(p);
    }
    rpassword::prompt_password(format!("password for {username}: "))
        .map_err(|e| CliError::Usage(format!("cannot read the password ({e}); set PROVISION_PASSWORD instead")))
}

/// `--since` values: `30s`, `10m`, `2h`, `1d`.
pub fn parse_since(s: &str) -> Result<Duration, String> {
    let err = || format!("`{s}` is not a duration like 30s, 10m, 2h or 1d");
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?);
    let n: u64 = n.parse().map_err(|_| err())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(err()),
    };
    if n == 0 {
        return Err(format!("`{s}`: must be more than zero"));
    }
    if n.saturating_mul(secs) > 30 * 86_400 {
        return Err(format!("`{s}`: at most 30d"));
    }
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

/// Prints the function's log events (`<time> <message>`), oldest first; with `follow`, keeps
/// polling for new ones until interrupted.
pub async fn logs(ctx: &Ctx, since: Duration, follow: bool) -> Result<Exit, CliError> {
    let group = format!("/aws/lambda/{}-edit", ctx.config.name);
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let now = time::OffsetDateTime::now_utc();
    let mut start = (now - since).unix_timestamp() * 1000;
    let mut seen = std::collections::HashSet::new();
    loop {
        let mut next: Option<String> = None;
        let mut newest = start;
        loop {
            let page = aws
                .logs
                .filter_log_events()
                .log_group_name(&group)
                .start_time(start)
                .set_next_token(next.take())
                .send()
                .await
                .ctx("logs:FilterLogEvents");
            let page = match page {
                Ok(p) => p,
                Err(e) if e.code_is("ResourceNotFoundException") => {
                    return Err(CliError::Usage(format!(
                        "log group {group} does not exist: is the stack up (`provision status{}`)?",
                        if ctx.local.is_some() { " --local" } else { "" }
                    )));
                }
                Err(e) => return Err(CliError::Aws(e)),
            };
            for e in page.events() {
                let id = e.event_id().unwrap_or_default().to_owned();
                if !seen.insert(id) {
                    continue;
                }
                let ts = e.timestamp().unwrap_or_default();
                newest = newest.max(ts);
                let when = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts) * 1_000_000)
                    .ok()
                    .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                    .unwrap_or_default();
                let message = e.message().unwrap_or_default().trim_end();
                // Long work: one JSON event per log event (NDJSON) under --json.
                ctx.printer().document(&serde_json::json!({"event": "log", "time": when, "message": message}), |out| {
                    writeln!(out, "{when} {message}")
                });
            }
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        if !follow {
            return Ok(Exit::Ok);
        }
        start = newest;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_units_and_names_the_limit() {
        assert_eq!(parse_since("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_since("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_since("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_since("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_since("10").unwrap_err().contains("like 30s"));
        assert!(parse_since("m").unwrap_err().contains("like 30s"));
        assert!(parse_since("5w").unwrap_err().contains("like 30s"));
        assert!(parse_since("0m").unwrap_err().contains("more than zero"));
        assert!(parse_since("31d").unwrap_err().contains("at most 30d"));
    }
}
