//! Lambda resource-based policies, as far as a service invoking a function needs them: may
//! `service` (e.g. `apigateway.amazonaws.com`) call `lambda:InvokeFunction` on a function whose
//! policy is `policy`, for a request whose source ARN is `source_arn` in `account`?
//!
//! AWS: "Using resource-based policies in Lambda" (lambda/latest/dg/access-control-resource-based.html)
//! — a service principal may invoke the function only through a statement that allows
//! `lambda:InvokeFunction` to it; `AWS:SourceArn` / `AWS:SourceAccount` conditions limit it to one
//! resource or account. Condition operators: IAM User Guide, "IAM JSON policy elements: Condition
//! operators" (`ArnLike`/`ArnEquals` compare each of the ARN's six colon-separated parts, `*` and
//! `?` as wildcards; `StringLike`/`StringEquals` the whole string; keys are case-insensitive).
//! An operator or key this evaluation does not know makes the statement not apply: stricter than
//! AWS, never looser. A `Deny` statement that matches refuses.

use serde_json::Value;

/// A request a service makes to invoke a function.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    pub service: &'a str,
    pub source_arn: &'a str,
    pub source_account: &'a str,
}

/// Whether the policy document (GetPolicy's `Policy`, a JSON string) lets the invocation through.
pub fn allows(policy: &str, inv: Invocation<'_>) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else { return false };
    let statements: Vec<&Value> = match &doc["Statement"] {
        Value::Array(a) => a.iter().collect(),
        s @ Value::Object(_) => vec![s],
        _ => return false,
    };
    let applies = |st: &Value| {
        action_matches(&st["Action"])
            && principal_matches(&st["Principal"], inv.service)
            && conditions_hold(&st["Condition"], inv)
    };
    let matching: Vec<&str> =
        statements.into_iter().filter(|st| applies(st)).map(|st| st["Effect"].as_str().unwrap_or_default()).collect();
    !matching.contains(&"Deny") && matching.contains(&"Allow")
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn action_matches(v: &Value) -> bool {
    strings(v).iter().any(|a| glob(&a.to_ascii_lowercase(), "lambda:invokefunction"))
}

fn principal_matches(v: &Value, service: &str) -> bool {
    match v {
        Value::String(s) => s == "*",
        Value::Object(o) => o.get("Service").is_some_and(|s| strings(s).contains(&service)),
        _ => false,
    }
}

fn conditions_hold(v: &Value, inv: Invocation<'_>) -> bool {
    let Some(ops) = v.as_object() else { return v.is_null() };
    ops.iter().all(|(op, keys)| {
        let Some(keys) = keys.as_object() else { return false };
        keys.iter().all(|(key, wanted)| {
            let actual = match key.to_ascii_lowercase().as_str() {
                "aws:sourcearn" => inv.source_arn,
                "aws:sourceaccount" => inv.source_account,
                _ => return false,
            };
            let wanted = strings(wanted);
            match op.as_str() {
                "ArnLike" | "ArnEquals" => wanted.iter().any(|w| arn_like(w, actual)),
                "StringLike" => wanted.iter().any(|w| glob(w, actual)),
                "StringEquals" => wanted.contains(&actual),
                _ => false,
            }
        })
    })
}

/// ArnLike: the six colon-separated parts compared one by one (the last keeps its colons).
fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6 && a.len() == 6 && p.iter().zip(&a).all(|(p, a)| glob(p, a))
}

/// `*` any run of characters, `?` one character.
fn glob(pattern: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "arn:aws:execute-api:us-west-2:123456789012:abc123/prod/POST/edits";

    fn inv(source_arn: &str) -> Invocation<'_> {
        Invocation { service: "apigateway.amazonaws.com", source_arn, source_account: "123456789012" }
    }

    /// The statement AddPermission writes (as moto and Lambda store it).
    fn policy(principal: &str, source: &str) -> String {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "api", "Effect": "Allow", "Principal": {"Service": principal}, "Action": "lambda:InvokeFunction",
            "Resource": "arn:aws:lambda:us-west-2:123456789012:function:dev-edit",
            "Condition": {"ArnLike": {"AWS:SourceArn": source}}}]})
        .to_string()
    }

    #[test]
    fn the_stacks_permission_lets_its_api_in_and_no_other() {
        let ours = policy("apigateway.amazonaws.com", "arn:aws:execute-api:us-west-2:123456789012:abc123/*/*/*");
        assert!(allows(&ours, inv(SOURCE)));
        assert!(allows(&ours, inv("arn:aws:execute-api:us-west-2:123456789012:abc123/prod/GET/edits/01ABC")));
        assert!(!allows(&ours, inv("arn:aws:execute-api:us-west-2:123456789012:other99/prod/POST/edits")));
        assert!(!allows(&ours, inv("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/edits")));
        let narrow = policy("apigateway.amazonaws.com", "arn:aws:execute-api:us-west-2:123456789012:abc123/prod/GET/*");
        assert!(!allows(&narrow, inv(SOURCE)));
        assert!(!allows(&policy("cognito-idp.amazonaws.com", "*"), inv(SOURCE)));
        assert!(!allows("{}", inv(SOURCE)) && !allows("not json", inv(SOURCE)));
    }

    #[test]
    fn a_deny_or_an_unknown_condition_refuses() {
        let deny = serde_json::json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "lambda:*"},
            {"Effect": "Deny", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "lambda:InvokeFunction"}]})
        .to_string();
        assert!(!allows(&deny, inv(SOURCE)));
        let unknown = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})
        .to_string();
        assert!(!allows(&unknown, inv(SOURCE)));
        assert!(glob("a*c?e", "abbbcde") && !glob("a*c", "abd"));
    }
}
