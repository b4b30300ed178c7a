//! What a browser decides about a cross-origin answer, per the Fetch standard ("CORS check" and
//! "CORS-preflight fetch", fetch.spec.whatwg.org): the tests replay a browser's requests and ask
//! these whether the page would get the answer. No credentials mode (the app sends its token in
//! `Authorization`, not in cookies).

/// Methods a preflight need not list (CORS-safelisted methods).
const SAFE_METHODS: &[&str] = &["GET", "HEAD", "POST"];

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// `Access-Control-Allow-Origin` is `*` or equals the page's origin byte for byte.
pub fn response_allows(headers: &[(String, String)], origin: &str) -> Result<(), String> {
    match header(headers, "access-control-allow-origin") {
        Some(v) if v == origin || v == "*" => Ok(()),
        Some(v) => Err(format!("Access-Control-Allow-Origin is {v:?}, not {origin:?}")),
        None => Err("no Access-Control-Allow-Origin".to_owned()),
    }
}

/// The preflight answer lets a page of `origin` send `method` with `request_headers`.
/// `Authorization` is never covered by a `*` in `Access-Control-Allow-Headers`.
pub fn preflight_allows(
    status: u16,
    headers: &[(String, String)],
    origin: &str,
    method: &str,
    request_headers: &[&str],
) -> Result<(), String> {
    if !(200..300).contains(&status) {
        return Err(format!("preflight status {status}"));
    }
    response_allows(headers, origin)?;
    let list = |name: &str| -> Vec<String> {
        header(headers, name)
            .map(|v| v.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    };
    let methods = list("access-control-allow-methods");
    if !SAFE_METHODS.contains(&method) && !methods.iter().any(|m| m == &method.to_ascii_lowercase() || m == "*") {
        return Err(format!("method {method} not in Access-Control-Allow-Methods {methods:?}"));
    }
    let allowed = list("access-control-allow-headers");
    for h in request_headers {
        let h = h.to_ascii_lowercase();
        let star = allowed.iter().any(|a| a == "*") && h != "authorization";
        if !star && !allowed.contains(&h) {
            return Err(format!("request header {h} not in Access-Control-Allow-Headers {allowed:?}"));
        }
    }
    Ok(())
}

/// Headers of a reqwest response as (name, value) pairs.
pub fn pairs(h: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    h.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect()
}

#[test]
fn the_browser_rules() {
    let h = |v: &[(&str, &str)]| v.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect::<Vec<_>>();
    let ok = h(&[
        ("Access-Control-Allow-Origin", "https://a.example"),
        ("Access-Control-Allow-Methods", "GET,POST,DELETE"),
        ("Access-Control-Allow-Headers", "Content-Type,Authorization"),
    ]);
    assert!(preflight_allows(200, &ok, "https://a.example", "DELETE", &["authorization"]).is_ok());
    assert!(preflight_allows(200, &ok, "https://b.example", "GET", &[]).is_err());
    assert!(preflight_allows(500, &ok, "https://a.example", "GET", &[]).is_err());
    assert!(preflight_allows(200, &ok, "https://a.example", "POST", &["x-other"]).is_err());
    let star = h(&[("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Headers", "*")]);
    assert!(preflight_allows(200, &star, "https://a.example", "POST", &["authorization"]).is_err());
    assert!(preflight_allows(200, &star, "https://a.example", "PUT", &[]).is_err());
}
