//! CORS headers on every response. API Gateway answers the preflight (OPTIONS, a MOCK integration);
//! the actual responses need the headers too, or the browser hides them (and their error bodies).

use lambda_http::http::{HeaderMap, HeaderValue};

/// Request headers a page may send: the contract's two, and the two the seed application's
/// frontend sends as request headers (see `ALLOW_HEADERS` in the provisioner's apigateway.rs).
pub use image_edit_contract::CORS_ALLOW_HEADERS as ALLOW_HEADERS;
pub const ALLOW_METHODS: &str = "GET,POST,DELETE,OPTIONS";
/// The SPA reads `Retry-After` on 429/503 answers.
pub const EXPOSE_HEADERS: &str = "Retry-After";

/// The configured origins. `Access-Control-Allow-Origin` echoes the request's Origin when it is one
/// of them, and is absent otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins {
    any: bool,
    origins: Vec<String>,
}

impl AllowedOrigins {
    /// Parses `ALLOWED_ORIGINS`: comma-separated `scheme://host[:port]`, or `*`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut out = AllowedOrigins::default();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "*" {
                out.any = true;
                continue;
            }
            let origin = part.trim_end_matches('/');
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .ok_or_else(|| format!("`{part}` is not an origin (expected http(s)://host[:port])"))?;
            if rest.is_empty() || rest.contains('/') || rest.contains(char::is_whitespace) {
                return Err(format!("`{part}` is not an origin (expected http(s)://host[:port], no path)"));
            }
            out.origins.push(origin.to_ascii_lowercase());
        }
        Ok(out)
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.any || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

/// Adds the CORS headers for a request that came with `origin`.
pub fn apply(headers: &mut HeaderMap, origin: Option<&str>, allowed: &AllowedOrigins) {
    if let Some(origin) = origin.filter(|o| allowed.allows(o))
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        headers.insert("access-control-allow-origin", value);
    }
    headers.insert("access-control-allow-headers", HeaderValue::from_static(ALLOW_HEADERS));
    headers.insert("access-control-allow-methods", HeaderValue::from_static(ALLOW_METHODS));
    headers.insert("access-control-expose-headers", HeaderValue::from_static(EXPOSE_HEADERS));
    headers.insert("vary", HeaderValue::from_static("Origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_only_listed_origins() {
        let allowed = AllowedOrigins::parse("https://app.example.com/, http://localhost:5173").unwrap();
        let mut h = HeaderMap::new();
        apply(&mut h, Some("https://app.example.com"), &allowed);
        assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
        assert_eq!(h["vary"], "Origin");
        let mut h = HeaderMap::new();
        apply(&mut h, Some("https://evil.example"), &allowed);
        assert!(h.get("access-control-allow-origin").is_none());
        assert_eq!(h["access-control-allow-headers"], ALLOW_HEADERS);
    }

    #[test]
    fn star_allows_any_and_garbage_is_rejected() {
        assert!(AllowedOrigins::parse("*").unwrap().allows("https://x.example"));
        assert!(AllowedOrigins::parse("").unwrap() == AllowedOrigins::default());
        assert!(AllowedOrigins::parse("example.com").is_err());
        assert!(AllowedOrigins::parse("https://example.com/app").is_err());
    }
}
