//! The part of API Gateway's Velocity (VTL) mapping templates that a MOCK integration response
//! needs to answer a CORS preflight for several origins: read a request header, compare it with
//! literals, and set `$context.responseOverride.header.<name>`
//! ("Override your API's request and response parameters and status codes",
//! docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-override-request-response-parameters.html;
//! `$input.params()` in "Variables for data transformations",
//! …/developerguide/api-gateway-mapping-template-reference.html).
//!
//! Strict on purpose: a construct outside this subset is an error, which the gateway answers as
//! API Gateway answers a template it cannot render (500 `Internal server error`). So a template
//! the provisioner writes either works here exactly as written, or fails loudly — it is never
//! silently accepted.
//!
//! Header names: `$input.params().header` is the request's headers *as sent*. Browsers send
//! `Origin` over HTTP/1.1 and `origin` over HTTP/2; this server only sees lower-case names (HTTP/1
//! parsing folds them), so `get('Origin')` finds nothing here and a template must also try
//! `get('origin')` — which is what it must do on AWS for HTTP/2 clients anyway.

use std::collections::BTreeMap;

use axum::http::HeaderMap;

/// What rendering produced: the body text and the `responseOverride` values.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    pub body: String,
    pub override_headers: BTreeMap<String, String>,
    pub override_status: Option<u16>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("mapping template, line {line}: {message}")]
pub struct VtlError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Lit(String),
    /// `"…"`: a string with `$var` / `$!var` references.
    Interp(String),
    Var(String),
    /// `$input.params().header.get('Name')`
    Header(String),
}

/// Renders `template` for a request with `headers`.
pub fn render(template: &str, headers: &HeaderMap) -> Result<Rendered, VtlError> {
    let mut out = Rendered::default();
    let mut vars: BTreeMap<String, Option<String>> = BTreeMap::new();
    // One frame per open #if: (this frame's branch is active, a branch was already taken).
    let mut stack: Vec<(bool, bool)> = Vec::new();
    for (i, raw) in template.lines().enumerate() {
        let line = i + 1;
        let err = |message: String| VtlError { line, message };
        let active = stack.iter().all(|(a, _)| *a);
        let t = raw.trim();
        if let Some(inner) = directive(t, "#if") {
            let cond = if active { eval_cond(inner, &vars, headers).map_err(err)? } else { false };
            stack.push((cond, cond));
        } else if let Some(inner) = directive(t, "#elseif") {
            let Some((_, taken)) = stack.last().copied() else { return Err(err("#elseif without #if".into())) };
            let outer = stack[..stack.len() - 1].iter().all(|(a, _)| *a);
            let cond = if outer && !taken { eval_cond(inner, &vars, headers).map_err(err)? } else { false };
            if let Some(top) = stack.last_mut() {
                *top = (cond, taken || cond);
            }
        } else if t == "#else" {
            let Some(top) = stack.last_mut() else { return Err(err("#else without #if".into())) };
            *top = (!top.1, true);
        } else if t == "#end" {
            if stack.pop().is_none() {
                return Err(err("#end without #if".into()));
            }
        } else if let Some(inner) = directive(t, "#set") {
            let (target, value) = inner.split_once('=').ok_or_else(|| err(format!("`#set({inner})` has no `=`")))?;
            let target =
                target.trim().strip_prefix('$').ok_or_else(|| err(format!("`{target}` is not a reference")))?;
            if !is_name(target) {
                return Err(err(format!("`${target}` is not a reference this template language supports")));
            }
            let value = eval(&parse_expr(value.trim()).map_err(err)?, &vars, headers);
            if !active {
                continue;
            }
            if let Some(h) = target.strip_prefix("context.responseOverride.header.") {
                if let Some(v) = value {
                    out.override_headers.insert(h.to_owned(), v);
                }
            } else if target == "context.responseOverride.status" {
                let v = value.unwrap_or_default();
                out.override_status = Some(v.parse().map_err(|_| err(format!("status `{v}` is not a number")))?);
            } else if target.contains('.') {
                return Err(err(format!("cannot assign to `${target}`")));
            } else {
                vars.insert(target.to_owned(), value);
            }
        } else if t.starts_with('#') && !t.starts_with("##") {
            return Err(err(format!("unsupported directive `{t}`")));
        } else if t.starts_with("##") {
            continue; // a comment
        } else if active {
            if t.contains('$') {
                return Err(err(format!("references in template text are not supported here: `{t}`")));
            }
            out.body.push_str(raw);
            out.body.push('\n');
        }
    }
    if !stack.is_empty() {
        return Err(VtlError { line: template.lines().count(), message: "#if without #end".into() });
    }
    Ok(out)
}

/// `#name( inner )` → inner.
fn directive<'a>(t: &'a str, name: &str) -> Option<&'a str> {
    let rest = t.strip_prefix(name)?.trim_start();
    rest.strip_prefix('(')?.strip_suffix(')')
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|p| {
            p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

fn parse_expr(s: &str) -> Result<Expr, String> {
    if let Some(l) = s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        if l.contains('\'') {
            return Err(format!("`{s}`: quotes inside a literal are not supported"));
        }
        return Ok(Expr::Lit(l.to_owned()));
    }
    if let Some(l) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Ok(Expr::Interp(l.to_owned()));
    }
    if let Some(rest) = s.strip_prefix("$input.params().header.get(") {
        let name = rest
            .strip_suffix(')')
            .and_then(|n| n.strip_prefix('\''))
            .and_then(|n| n.strip_suffix('\''))
            .ok_or_else(|| format!("`{s}`: expected a quoted header name"))?;
        return Ok(Expr::Header(name.to_owned()));
    }
    if let Some(v) = s.strip_prefix('$')
        && is_name(v)
        && !v.contains('.')
    {
        return Ok(Expr::Var(v.to_owned()));
    }
    Err(format!("unsupported expression `{s}`"))
}

fn eval(e: &Expr, vars: &BTreeMap<String, Option<String>>, headers: &HeaderMap) -> Option<String> {
    match e {
        Expr::Lit(s) => Some(s.clone()),
        Expr::Var(v) => vars.get(v).cloned().flatten(),
        // Exact, case-sensitive name as received (see the module comment).
        Expr::Header(name) => {
            headers.iter().find(|(k, _)| k.as_str() == name).and_then(|(_, v)| v.to_str().ok()).map(str::to_owned)
        }
        Expr::Interp(s) => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(pos) = rest.find('$') {
                out.push_str(&rest[..pos]);
                let after = &rest[pos + 1..];
                let (quiet, after) = match after.strip_prefix('!') {
                    Some(a) => (true, a),
                    None => (false, after),
                };
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                let name = &after[..end];
                match vars.get(name).cloned().flatten() {
                    Some(v) => out.push_str(&v),
                    // Velocity renders an unset `$x` as itself and `$!x` as nothing.
                    None if quiet => {}
                    None => out.push_str(&format!("${name}")),
                }
                rest = &after[end..];
            }
            out.push_str(rest);
            Some(out)
        }
    }
}

/// `a == b`, `a != b`, joined by all-`||` or all-`&&`.
fn eval_cond(s: &str, vars: &BTreeMap<String, Option<String>>, headers: &HeaderMap) -> Result<bool, String> {
    let (parts, any): (Vec<&str>, bool) = match (s.contains("||"), s.contains("&&")) {
        (true, true) => return Err(format!("`{s}`: mixing || and && is not supported")),
        (true, false) => (s.split("||").collect(), true),
        (false, _) => (s.split("&&").collect(), false),
    };
    let mut results = Vec::new();
    for p in parts {
        let (l, r, eq) = if let Some((l, r)) = p.split_once("==") {
            (l, r, true)
        } else if let Some((l, r)) = p.split_once("!=") {
            (l, r, false)
        } else {
            return Err(format!("`{}`: expected a comparison", p.trim()));
        };
        let l = eval(&parse_expr(l.trim())?, vars, headers);
        let r = eval(&parse_expr(r.trim())?, vars, headers);
        // A null reference equals nothing (Velocity compares null as unequal to any string).
        let same = matches!((&l, &r), (Some(a), Some(b)) if a == b);
        results.push(if eq { same } else { !same });
    }
    Ok(if any { results.iter().any(|b| *b) } else { results.iter().all(|b| *b) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "#set($origin = $input.params().header.get('Origin'))
#if(\"$!origin\" == \"\")
#set($origin = $input.params().header.get('origin'))
#end
#if($origin == 'https://a.example' || $origin == 'http://localhost:5173')
#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)
#end
";

    fn h(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(axum::http::HeaderName::try_from(*k).expect("name"), v.parse().expect("value"));
        }
        m
    }

    #[test]
    fn allows_exactly_the_listed_origins() {
        for o in ["https://a.example", "http://localhost:5173"] {
            let r = render(T, &h(&[("origin", o)])).expect("renders");
            assert_eq!(r.override_headers.get("Access-Control-Allow-Origin").map(String::as_str), Some(o));
        }
        for o in ["https://evil.example", "https://a.example.evil", "HTTPS://A.EXAMPLE", ""] {
            let r = render(T, &h(&[("origin", o)])).expect("renders");
            assert!(r.override_headers.is_empty(), "{o}: {r:?}");
        }
        assert!(render(T, &HeaderMap::new()).expect("renders").override_headers.is_empty());
    }

    #[test]
    fn anything_outside_the_subset_is_an_error() {
        for bad in [
            "#foreach($x in $y)\n#end",
            "#if($a == 'x')",
            "#end",
            "#set($context.requestOverride.header.X = 'y')",
            "#set($x = $input.json('$'))",
            "#if($a == 'x' || $b == 'y' && $c == 'z')\n#end",
            "{\"origin\": \"$origin\"}",
        ] {
            assert!(render(bad, &HeaderMap::new()).is_err(), "{bad}");
        }
    }

    #[test]
    fn else_branches() {
        let t = "#if($x == 'a')\nA\n#elseif($x != 'b')\nB\n#else\nC\n#end";
        assert_eq!(render(t, &HeaderMap::new()).expect("ok").body, "B\n");
        let t = "#set($x = 'b')\n#if($x == 'a')\nA\n#elseif($x != 'b')\nB\n#else\nC\n#end";
        assert_eq!(render(t, &HeaderMap::new()).expect("ok").body, "C\n");
    }
}
