//! `provision users`: who may sign in. Self sign-up is off unless the stack file turns it on, so
//! the stack's owner invites people: AdminCreateUser, after which Cognito e-mails each a
//! temporary password and the web app asks for a new one at the first sign-in. The local cloud
//! writes each invitation to its mailbox (`.localcloud/logs/notifications.jsonl`) with the password
//! masked, so there the temporary password is printed as well.

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

/// What `users add` did for one address.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invited {
    pub email: String,
    pub result: &'static str,
    /// Known when this tool chose it: on the local cloud, with `--handout`, or on a resend.
    pub temporary_password: Option<String>,
}

pub async fn add(
    ctx: &Ctx,
    emails: Vec<String>,
    csv: Option<&Path>,
    resend: bool,
    handout: Option<&Path>,
) -> Result<Exit, CliError> {
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
    let outputs = deployed_outputs(ctx)?;
    let pool = pool_id(ctx)?;
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let local = ctx.local.is_some();
    let mut results: Vec<Invited> = Vec::new();
    for email in &wanted {
        // The tool chooses the temporary password when it must show it: the local cloud's mailbox
        // masks it (.localcloud/logs/notifications.jsonl), a handout prints it. Cognito e-mails it
        // all the same.
        let temporary = (local || handout.is_some() || resend).then(temporary_password);
        let mut call = aws.cognito.admin_create_user().user_pool_id(&pool).username(email);
        if resend {
            call = call.message_action(MessageActionType::Resend);
        } else {
            call = call
                .user_attributes(AttributeType::builder().name("email").value(email).build().map_err(build_error)?)
                .user_attributes(
                    AttributeType::builder().name("email_verified").value("true").build().map_err(build_error)?,
                );
        }
        // The same call on both clouds: the local one writes the invitation to its mailbox.
        call = call.desired_delivery_mediums(DeliveryMediumType::Email);
        call = call.set_temporary_password(temporary.clone());
        let result = match call.send().await.ctx("cognito-idp:AdminCreateUser") {
            Ok(_) if resend => "invitation sent again",
            Ok(_) => "invited",
            Err(e) if e.code_is("UsernameExistsException") => "already a user (--resend sends the invitation again)",
            Err(e) if e.code_is("UnsupportedUserStateException") => "has signed in already: nothing to resend",
            Err(e) if e.code_is("UserNotFoundException") => "not a user: invite without --resend",
            Err(e) => return Err(partial(results, e)),
        };
        let sent = matches!(result, "invited" | "invitation sent again");
        results.push(Invited { email: email.clone(), result, temporary_password: temporary.filter(|_| sent) });
    }
    let app_url = outputs.known(EDITOR.app, crate::stack::AmplifyApp::ORIGIN).unwrap_or_default().to_owned();
    if let Some(path) = handout {
        let page = handout_page(&ctx.config, &app_url, &results);
        std::fs::write(path, page)
            .map_err(|e| CliError::Usage(format!("--handout {}: cannot write it ({e})", path.display())))?;
    }
    // The whole class, the people just invited included.
    let people = count_users(&aws, &pool).await.map_err(CliError::Aws)?;
    let warning = limits_warning(people, &ctx.config.limits, &ctx.config.source);
    let printer = ctx.printer();
    printer.document(&json!({"users": results, "limitsWarning": warning}), |out| {
        for r in &results {
            let extra =
                r.temporary_password.as_deref().map(|p| format!("  temporary password: {p}")).unwrap_or_default();
            writeln!(out, "{:<40} {}{extra}", r.email, r.result)?;
        }
        Ok(())
    });
    if let Some(path) = handout {
        printer.note(format!("handout for {} people: {}", handout_people(&results), path.display()));
    }
    printer.note(if local {
        "The app asks each for a new password at the first sign-in."
    } else {
        "Cognito e-mails each the invitation with a temporary password (its default sender allows 50 e-mails a \
         day); the app asks for a new one at the first sign-in."
    });
    if let Some(warning) = warning {
        printer.note(format!("warning: {warning}"));
    }
    Ok(Exit::Ok)
}

/// How many people the handout has a password for.
fn handout_people(results: &[Invited]) -> usize {
    results.iter().filter(|r| r.temporary_password.is_some()).count()
}

/// When `people` each using their daily images would exceed the stack's: the class runs out
/// before each person reaches what the app tells them they have left.
pub fn limits_warning(people: usize, limits: &crate::config::Limits, source: &Path) -> Option<String> {
    let people_u32 = u32::try_from(people).unwrap_or(u32::MAX);
    let wanted = u64::from(people_u32) * u64::from(limits.edits_per_user_per_day);
    if people == 0 || wanted <= u64::from(limits.edits_per_day) {
        return None;
    }
    let each = limits.edits_per_day / people_u32.max(1);
    Some(format!(
        "{people} people × {} images each = {wanted} a day, more than limits.edits_per_day ({}): the class runs out \
         at about {each} images each while the app tells each of them {} are left. Raise limits.edits_per_day to \
         {wanted} or lower limits.edits_per_user_per_day to {each} in {}, then `provision up`",
        limits.edits_per_user_per_day,
        limits.edits_per_day,
        limits.edits_per_user_per_day,
        source.display()
    ))
}

/// Everyone in the pool.
async fn all_users(aws: &Aws, pool: &str) -> Result<Vec<UserType>, AwsError> {
    let mut users = Vec::new();
    let mut token = None;
    loop {
        let out = aws
            .cognito
            .list_users()
            .user_pool_id(pool)
            .limit(60)
            .set_pagination_token(token)
            .send()
            .await
            .ctx("cognito-idp:ListUsers")?;
        users.extend(out.users().iter().cloned());
        token = out.pagination_token().map(str::to_owned);
        if token.is_none() {
            return Ok(users);
        }
    }
}

/// The people in the pool.
pub async fn count_users(aws: &Aws, pool: &str) -> Result<usize, AwsError> {
    Ok(all_users(aws, pool).await?.len())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A printable page: one card per person with a temporary password (cut along the lines), each
/// with the app's address, the e-mail to sign in with and the password.
pub fn handout_page(config: &crate::config::StackConfig, app_url: &str, results: &[Invited]) -> String {
    let workshop = config.auth.workshop_name.clone().unwrap_or_else(|| format!("the {} image editor", config.name));
    let mut cards = String::new();
    for r in results {
        let Some(password) = &r.temporary_password else { continue };
        cards.push_str(&format!(
            "<section><h2>{}</h2><p>Open <b>{}</b></p><p>e-mail: <b>{}</b><br>temporary password: <code>{}</code></p>\
             <p>The app asks you to choose your own password at the first sign-in.</p></section>\n",
            escape(&workshop),
            escape(app_url),
            escape(&r.email),
            escape(password)
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}: sign-in cards</title>\
         <style>body{{font:14pt system-ui,sans-serif;margin:1cm}}section{{border:1px dashed #444;padding:.5cm;\
         margin:0 0 .5cm;break-inside:avoid}}h2{{font-size:14pt;margin:0 0 .3cm}}code{{font-size:16pt}}</style>\
         </head><body>\n{cards}</body></html>\n",
        escape(&workshop)
    )
}

/// What was done before an AWS failure, then the failure.
fn partial<T: serde::Serialize>(done: Vec<T>, e: AwsError) -> CliError {
    for r in done.iter().filter_map(|r| serde_json::to_value(r).ok()) {
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
        "sub": attr("sub"),
    })
}

/// What one person did today (UTC), read from the edits table: the images counted against their
/// limit (the function's own counter), the requests that failed, and their last request.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    pub images_today: u64,
    pub failed_today: u64,
    pub last_activity: Option<String>,
}

/// The smallest edit id of a UTC day: edit ids are ULIDs, whose first ten characters are the time.
pub fn first_id_of_day(now: time::OffsetDateTime) -> String {
    let midnight = now.replace_time(time::Time::MIDNIGHT);
    let ms = u64::try_from(midnight.unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
    ulid::Ulid::from_parts(ms, 0).to_string()
}

async fn activity(aws: &Aws, table: &str, sub: &str, now: time::OffsetDateTime) -> Result<Activity, AwsError> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let day = crate::monitor::utc_day(now);
    let counter = aws
        .dynamodb
        .get_item()
        .table_name(table)
        .key("userId", AttributeValue::S(format!("quota#{sub}")))
        .key("id", AttributeValue::S(day))
        .projection_expression("images")
        .send()
        .await
        .ctx("dynamodb:GetItem")?;
    let images_today = counter
        .item()
        .and_then(|i| i.get("images"))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .map_or(0, |n| u64::try_from(n).unwrap_or(0));
    let mut a = Activity { images_today, ..Activity::default() };
    // Today's requests, newest first: how many failed, and the newest one.
    let mut start = None;
    loop {
        let page = aws
            .dynamodb
            .query()
            .table_name(table)
            .key_condition_expression("userId = :u AND id >= :from")
            .expression_attribute_values(":u", AttributeValue::S(sub.to_owned()))
            .expression_attribute_values(":from", AttributeValue::S(first_id_of_day(now)))
            .expression_attribute_names("#s", "status")
            .projection_expression("#s, createdAt")
            .scan_index_forward(false)
            .set_exclusive_start_key(start)
            .send()
            .await
            .ctx("dynamodb:Query")?;
        for item in page.items() {
            let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
            if a.last_activity.is_none() {
                a.last_activity = text("createdAt");
            }
            if matches!(text("status").as_deref(), Some("failed" | "blocked")) {
                a.failed_today += 1;
            }
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    if a.last_activity.is_none() {
        // Nothing today: the newest request of any day.
        let newest = aws
            .dynamodb
            .query()
            .table_name(table)
            .key_condition_expression("userId = :u")
            .expression_attribute_values(":u", AttributeValue::S(sub.to_owned()))
            .projection_expression("createdAt")
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .ctx("dynamodb:Query")?;
        a.last_activity = newest.items().first().and_then(|i| i.get("createdAt")).and_then(|v| v.as_s().ok()).cloned();
    }
    Ok(a)
}

pub async fn list(ctx: &Ctx) -> Result<Exit, CliError> {
    let outputs = deployed_outputs(ctx)?;
    let pool = pool_id(ctx)?;
    let table = outputs.known(EDITOR.table, crate::stack::Table::NAME).map(str::to_owned);
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let mut users: Vec<Value> = all_users(&aws, &pool).await.map_err(CliError::Aws)?.iter().map(describe).collect();
    users.sort_by(|a, b| a["email"].as_str().cmp(&b["email"].as_str()));
    // Each person's day, from the table (two or three reads each): by the `sub`, which is then
    // left out of what is printed.
    let now = time::OffsetDateTime::now_utc();
    for u in &mut users {
        let sub = u.as_object_mut().and_then(|o| o.remove("sub")).and_then(|s| s.as_str().map(str::to_owned));
        if let (Some(table), Some(sub)) = (&table, sub) {
            let a = activity(&aws, table, &sub, now).await.map_err(CliError::Aws)?;
            if let (Some(o), Ok(Value::Object(extra))) = (u.as_object_mut(), serde_json::to_value(a)) {
                o.extend(extra);
            }
        }
    }
    if users.is_empty() {
        ctx.printer().note("no users yet: invite one with `provision users add EMAIL`");
    }
    let per_user = ctx.config.limits.edits_per_user_per_day;
    ctx.printer().document(&json!({"users": users}), |out| {
        for u in &users {
            let state = match (u["signedIn"].as_bool(), u["enabled"].as_bool()) {
                (_, Some(false)) => "disabled",
                (Some(true), _) => "active",
                _ => "invited, has not signed in yet",
            };
            let images = u["imagesToday"].as_u64().unwrap_or(0);
            let failed = u["failedToday"].as_u64().unwrap_or(0);
            let last = u["lastActivity"].as_str().unwrap_or("never");
            writeln!(
                out,
                "{:<40} {state:<31} today {images}/{per_user} images, {failed} failed · last {last}",
                u["email"].as_str().unwrap_or_default()
            )?;
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

    fn limits(per_user: u32, per_stack: u32) -> crate::config::Limits {
        crate::config::Limits { edits_per_user_per_day: per_user, edits_per_day: per_stack }
    }

    #[test]
    fn a_class_larger_than_the_stacks_limit_is_warned_about() {
        let f = Path::new("stacks/dev.yaml");
        // The defaults and a class of 30: 1,500 wanted, 500 allowed, about 16 each.
        let w = limits_warning(30, &limits(50, 500), f).expect("a warning");
        assert!(w.starts_with("30 people × 50 images each = 1500 a day, more than limits.edits_per_day (500)"), "{w}");
        assert!(
            w.contains("about 16 images each") && w.contains("to 1500") && w.contains("to 16 in stacks/dev.yaml"),
            "{w}"
        );
        assert_eq!(limits_warning(10, &limits(50, 500), f), None, "exactly enough is no warning");
        assert_eq!(limits_warning(0, &limits(50, 500), f), None);
    }

    #[test]
    fn the_handout_has_a_card_per_password_and_escapes_what_it_prints() {
        let config = crate::config::parse(
            "region: us-west-2\nauth: {workshop_name: \"R&D <day>\"}\n",
            Path::new("dev.yaml"),
            "dev",
        )
        .expect("config");
        let results = vec![
            Invited {
                email: "ada@example.com".into(),
                result: "invited",
                temporary_password: Some("Tmp-abc<7a".into()),
            },
            Invited {
                email: "bob@example.com".into(),
                result: "has signed in already: nothing to resend",
                temporary_password: None,
            },
        ];
        let page = handout_page(&config, "https://main.d1.amplifyapp.com", &results);
        assert_eq!(page.matches("<section>").count(), 1, "{page}");
        assert!(page.contains("ada@example.com") && !page.contains("bob@example.com"), "{page}");
        assert!(page.contains("Tmp-abc&lt;7a") && page.contains("R&amp;D &lt;day&gt;"), "{page}");
        assert!(page.contains("https://main.d1.amplifyapp.com"));
    }

    #[test]
    fn a_days_first_edit_id_sorts_before_its_edits_and_after_the_day_before() {
        let noon = time::macros::datetime!(2026-12-05 12:00 UTC);
        let first = first_id_of_day(noon);
        let at = |t: time::OffsetDateTime| {
            ulid::Ulid::from_parts(u64::try_from(t.unix_timestamp() * 1000).expect("ms"), u128::MAX).to_string()
        };
        assert!(first.as_str() <= at(time::macros::datetime!(2026-12-05 00:00 UTC)).as_str());
        assert!(first.as_str() < at(noon).as_str());
        assert!(first.as_str() > at(time::macros::datetime!(2026-12-04 23:59:59 UTC)).as_str());
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
