//! `provision users`: who may sign in. Self sign-up is off unless the stack file turns it on, so
//! the stack's owner invites people: AdminCreateUser, after which Cognito e-mails each a
//! temporary password and the web app asks for a new one at the first sign-in. The local cloud
//! sends no e-mail, so there the temporary password is printed instead.

use crate::stack::{EDITOR, UserPool};
use std::path::Path;

use aws_sdk_cognitoidentityprovider::types::{AttributeType, DeliveryMediumType, MessageActionType, UserType};
use serde_json::{Value, json};

use crate::aws::{Aws, AwsError, Ctx as _};
use crate::commands::{Ctx, deployed_outputs};
use crate::error::{CliError, Exit};

/// Cognito user names (here: e-mail addresses) are at most 128 characters.
const MAX_EMAIL: usize = 128;

/// A plausible e-mail address, lower-cased (user names are case-insensitive), or why not.
pub fn check_email(raw: &str) -> Result<String, String> {
    let e = raw.trim();
    let shown: String = e.chars().take(60).collect();
    let ok = e.len() <= MAX_EMAIL
        && !e.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == ';')
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if ok {
        Ok(e.to_ascii_lowercase())
    } else {
        Err(format!("`{shown}` is not an e-mail address (at most {MAX_EMAIL} characters)"))
    }
}

/// The addresses of a class list: one per line, or the first column of a CSV (a header line
/// without an `@`, blank lines and `#` comments are skipped). Errors name the line.
pub fn read_list(path: &Path) -> Result<Vec<String>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("--csv {}: cannot read it ({e})", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let first = line.split(',').next().unwrap_or_default().trim().trim_matches('"');
        if first.is_empty() || first.starts_with('#') || (i == 0 && !first.contains('@')) {
            continue;
        }
        out.push(
            check_email(first).map_err(|m| CliError::Usage(format!("--csv {} line {}: {m}", path.display(), i + 1)))?,
        );
    }
    if out.is_empty() {
        return Err(CliError::Usage(format!("--csv {}: no e-mail addresses in it", path.display())));
    }
    Ok(out)
}

fn pool_id(ctx: &Ctx) -> Result<String, CliError> {
    deployed_outputs(ctx)?
        .known(EDITOR.pool, UserPool::ID)
        .map(str::to_owned)
        .ok_or_else(|| CliError::Usage("the state file has no user pool id: run `provision up` again".into()))
}

/// A temporary password that meets the pool's policy (upper, lower, digit; long enough).
fn temporary_password() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let body: String = (0..12).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("Tmp-{body}7a")
}

pub async fn add(ctx: &Ctx, emails: Vec<String>, csv: Option<&Path>) -> Result<Exit, CliError> {
    let mut wanted = Vec::new();
    for e in &emails {
        wanted.push(check_email(e).map_err(CliError::Usage)?);
    }
    if let Some(path) = csv {
        wanted.extend(read_list(path)?);
    }
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() {
        return Err(CliError::Usage("name at least one e-mail address, or --csv FILE".into()));
    }
    let pool = pool_id(ctx)?;
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let local = ctx.local.is_some();
    let mut results = Vec::new();
    for email in &wanted {
        let mut call = aws
            .cognito
            .admin_create_user()
            .user_pool_id(&pool)
            .username(email)
            .user_attributes(AttributeType::builder().name("email").value(email).build().map_err(build_error)?)
            .user_attributes(
                AttributeType::builder().name("email_verified").value("true").build().map_err(build_error)?,
            );
        let mut temporary = None;
        if local {
            // No e-mail on the local cloud: set the temporary password and show it.
            let p = temporary_password();
            call = call.message_action(MessageActionType::Suppress).temporary_password(&p);
            temporary = Some(p);
        } else {
            call = call.desired_delivery_mediums(DeliveryMediumType::Email);
        }
        match call.send().await.ctx("cognito-idp:AdminCreateUser") {
            Ok(_) => results.push(json!({"email": email, "result": "invited", "temporaryPassword": temporary})),
            Err(e) if e.code_is("UsernameExistsException") => {
                results.push(json!({"email": email, "result": "already a user", "temporaryPassword": null}));
            }
            Err(e) => return Err(partial(results, e)),
        }
    }
    let printer = ctx.printer();
    printer.document(&json!({"users": results}), |out| {
        for r in &results {
            let extra =
                r["temporaryPassword"].as_str().map(|p| format!("  temporary password: {p}")).unwrap_or_default();
            let (email, result) = (r["email"].as_str().unwrap_or_default(), r["result"].as_str().unwrap_or_default());
            writeln!(out, "{email:<40} {result}{extra}")?;
        }
        Ok(())
    });
    printer.note(if local {
        "The app asks each for a new password at the first sign-in."
    } else {
        "Cognito e-mails each a temporary password (its default sender allows 50 e-mails a day); the app asks for \
         a new one at the first sign-in."
    });
    Ok(Exit::Ok)
}

/// What was done before an AWS failure, then the failure.
fn partial(done: Vec<Value>, e: AwsError) -> CliError {
    for r in done {
        eprintln!("{}: {}", r["email"].as_str().unwrap_or_default(), r["result"].as_str().unwrap_or_default());
    }
    CliError::Aws(e)
}

fn build_error(e: aws_sdk_cognitoidentityprovider::error::BuildError) -> CliError {
    CliError::Aws(AwsError::new("cognito-idp:AdminCreateUser", e.to_string()))
}

fn describe(u: &UserType) -> Value {
    let attr = |n: &str| u.attributes().iter().find(|a| a.name() == n).and_then(|a| a.value()).map(str::to_owned);
    let status = u.user_status().map(|s| s.as_str()).unwrap_or("UNKNOWN");
    json!({
        "email": attr("email").or_else(|| u.username().map(str::to_owned)),
        "status": status,
        "signedIn": status != "FORCE_CHANGE_PASSWORD" && status != "UNCONFIRMED",
        "enabled": u.enabled(),
        "created": u.user_create_date().map(|d| d.to_string()),
    })
}

pub async fn list(ctx: &Ctx) -> Result<Exit, CliError> {
    let pool = pool_id(ctx)?;
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let mut users = Vec::new();
    let mut token = None;
    loop {
        let out = aws
            .cognito
            .list_users()
            .user_pool_id(&pool)
            .limit(60)
            .set_pagination_token(token)
            .send()
            .await
            .ctx("cognito-idp:ListUsers")
            .map_err(CliError::Aws)?;
        users.extend(out.users().iter().map(describe));
        token = out.pagination_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    users.sort_by(|a, b| a["email"].as_str().cmp(&b["email"].as_str()));
    if users.is_empty() {
        ctx.printer().note("no users yet: invite one with `provision users add EMAIL`");
    }
    ctx.printer().document(&json!({"users": users}), |out| {
        for u in &users {
            let state = match (u["signedIn"].as_bool(), u["enabled"].as_bool()) {
                (_, Some(false)) => "disabled",
                (Some(true), _) => "active",
                _ => "invited, has not signed in yet",
            };
            writeln!(out, "{:<40} {state}", u["email"].as_str().unwrap_or_default())?;
        }
        Ok(())
    });
    Ok(Exit::Ok)
}

pub async fn remove(ctx: &Ctx, emails: Vec<String>) -> Result<Exit, CliError> {
    let mut wanted = Vec::new();
    for e in &emails {
        wanted.push(check_email(e).map_err(CliError::Usage)?);
    }
    let pool = pool_id(ctx)?;
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let mut results = Vec::new();
    for email in &wanted {
        let out = aws.cognito.admin_delete_user().user_pool_id(&pool).username(email).send().await;
        match out.ctx("cognito-idp:AdminDeleteUser") {
            Ok(_) => results.push(json!({"email": email, "result": "removed"})),
            Err(e) if e.code_is("UserNotFoundException") => {
                results.push(json!({"email": email, "result": "not a user"}));
            }
            Err(e) => return Err(partial(results, e)),
        }
    }
    ctx.printer().document(&json!({"users": results}), |out| {
        for r in &results {
            writeln!(
                out,
                "{:<40} {}",
                r["email"].as_str().unwrap_or_default(),
                r["result"].as_str().unwrap_or_default()
            )?;
        }
        Ok(())
    });
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses() {
        assert_eq!(check_email(" Ada@Example.com "), Ok("ada@example.com".to_owned()));
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "a@b@example.com", "a@.com"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_email(&format!("{}@example.com", "a".repeat(130))).is_err());
    }

    #[test]
    fn class_lists() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("class.csv");
        std::fs::write(&f, "email,name\n\"Ada@Example.com\",Ada\n\n# late\nbob@example.org\n").expect("write");
        assert_eq!(read_list(&f).expect("list"), vec!["ada@example.com", "bob@example.org"]);
        std::fs::write(&f, "email\nnot-an-address\n").expect("write");
        let e = read_list(&f).expect_err("refused").to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}
