//! The function's configuration: environment variables written by the provisioner, read once at
//! cold start. A missing or malformed variable stops the cold start with a message that names it,
//! so a misconfigured stack fails loudly at deploy time instead of on the first user request.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::cors::AllowedOrigins;
use crate::models::{Family, Operation};
use image_edit_contract::results::MAX_KEEP_DAYS;

/// DynamoDB table of edit records: partition key `userId` (S), sort key `id` (S, a ULID).
pub const ENV_TABLE_NAME: &str = image_edit_contract::env::TABLE_NAME;
/// Region of the bedrock-runtime client. Never defaulted: the Stability Image Services and the
/// in-region Stability models live in different regions.
pub const ENV_BEDROCK_REGION: &str = image_edit_contract::env::BEDROCK_REGION;
/// Model family of the stack: `stability`.
pub const ENV_MODEL_FAMILY: &str = image_edit_contract::env::MODEL_FAMILY;
/// JSON object operation → model id (or `us.` inference profile id). Operations left out are not
/// offered by the stack.
pub const ENV_MODEL_IDS: &str = image_edit_contract::env::MODEL_IDS;
/// Comma-separated origins allowed by CORS, e.g. `https://main.d1.amplifyapp.com,http://localhost:5173`.
/// `*` allows any origin (the request's Origin is echoed back).
pub const ENV_ALLOWED_ORIGINS: &str = image_edit_contract::env::ALLOWED_ORIGINS;
/// Set by the Lambda service; used as the `Function` dimension of the metrics.
pub const ENV_LAMBDA_FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";

/// API Gateway's default integration timeout for REST APIs (29 s, "Amazon API Gateway quotas",
/// docs.aws.amazon.com/apigateway/latest/developerguide/limits.html). Each request's deadline is
/// taken from it and from the invocation's own deadline (`routes::deadline_of`).
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);
/// The SDK's bound on one Bedrock call, retries included; the request's deadline is usually
/// shorter and wins (`routes::edits::run`).
pub const BEDROCK_OPERATION_TIMEOUT: Duration = Duration::from_secs(27);
/// InvokeModel has no idempotency token: at most one retry, and the SDK only retries errors that
/// happen before the model ran (throttling, 5xx, connection failures).
pub const BEDROCK_MAX_ATTEMPTS: u32 = 2;
pub const BEDROCK_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The record write happens after the model answered; it must stay short (and within the
/// request's deadline, whichever is less).
pub const DYNAMODB_OPERATION_TIMEOUT: Duration = Duration::from_secs(2);
pub const DYNAMODB_MAX_ATTEMPTS: u32 = 2;

/// Lambda's limit on the whole event of a synchronous invocation: "N byte payload is too large for
/// the RequestResponse invocation type (limit 6291456 bytes)" ("Lambda quotas",
/// docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). API Gateway allows 10 MB, so
/// this is the limit that binds, and it counts the event around the body too.
pub const MAX_EVENT_BYTES: usize = 6_291_456;
/// What the proxy event adds around the body: the headers twice (`headers` and
/// `multiValueHeaders`, with the ~1 KB ID token), the request context with the token's claims,
/// and the JSON escaping of the body's quotes. Measured at ~6 KB; kept generous.
pub const EVENT_ENVELOPE_RESERVE: usize = 32 * 1024;
/// The largest request body that can reach the function: image and mask (base64) and the JSON
/// around them. `GET /capabilities` tells clients (`limits.maxRequestBytes`); a larger body gets
/// API Gateway's 413 `{"message": "Request Too Long"}` before the function runs.
pub const MAX_BODY_BYTES: usize = MAX_EVENT_BYTES - EVENT_ENVELOPE_RESERVE;
/// Largest decoded upload (image or mask) in bytes; its base64 (6 MB) fits the body limit alone,
/// image and mask together must fit [`MAX_BODY_BYTES`].
pub const MAX_UPLOAD_BYTES: usize = 4_500_000;
/// Largest image we agree to decode at all (decompression-bomb guard): 25 megapixels.
/// Largest decoded image buffer, whatever the bit depth and channels: 25 megapixels of 8-bit
/// RGBA. A 16-bit image may have half as many pixels. Bounds the function's memory per image.
pub const MAX_DECODE_BYTES: u64 = MAX_DECODE_PIXELS * 4;
pub const MAX_DECODE_PIXELS: u64 = 25_000_000;
/// Lambda's limit on a synchronous response (6 MB: "Response payload size exceeded maximum allowed
/// payload size (6291556 bytes)", docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html),
/// less headroom for the proxy envelope around the body: status, headers, and the escaping of the
/// body's few quotes. The body of every answer stays at or under this.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 - 64 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {name} is not set; {hint}")]
    Missing { name: &'static str, hint: &'static str },
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub bedrock_region: String,
    pub family: Family,
    /// Only operations the family supports; never empty.
    pub model_ids: BTreeMap<Operation, String>,
    pub allowed_origins: AllowedOrigins,
    /// The Lambda function name, for metric dimensions (`local` outside Lambda).
    pub function_name: String,
    /// Images a day, per user and for the whole stack.
    pub quota: crate::quota::Limits,
    /// Where made images are kept; `None` when the stack has no results bucket.
    pub results: Option<ResultsConfig>,
}

/// The results bucket and how long it keeps images (`history.keep_days`; 0: none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsConfig {
    pub bucket: String,
    pub keep_days: u32,
}

/// The results bucket (`image_edit_contract::results::bucket_name`).
pub const ENV_RESULTS_BUCKET: &str = image_edit_contract::env::RESULTS_BUCKET;
/// Days the bucket keeps an image; 0 keeps none.
pub const ENV_RESULTS_KEEP_DAYS: &str = image_edit_contract::env::RESULTS_KEEP_DAYS;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get` (tests pass a map instead of mutating the environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str, hint: &'static str| -> Result<String, ConfigError> {
            match get(name) {
                Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
                _ => Err(ConfigError::Missing { name, hint }),
            }
        };
        let table_name = required(ENV_TABLE_NAME, "it names the DynamoDB table of edit records")?;
        if !valid_table_name(&table_name) {
            return Err(ConfigError::Invalid {
                name: ENV_TABLE_NAME,
                reason: format!("`{table_name}` is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)"),
            });
        }
        let bedrock_region = required(ENV_BEDROCK_REGION, "it is the region of the Bedrock models, e.g. us-west-2")?;
        if !valid_region(&bedrock_region) {
            return Err(ConfigError::Invalid {
                name: ENV_BEDROCK_REGION,
                reason: format!("`{bedrock_region}` does not look like an AWS region (e.g. us-west-2)"),
            });
        }
        let family_raw = required(ENV_MODEL_FAMILY, "stability")?;
        let family = Family::parse(&family_raw).ok_or_else(|| ConfigError::Invalid {
            name: ENV_MODEL_FAMILY,
            reason: format!("`{family_raw}` is not a model family the function speaks (stability)"),
        })?;
        let ids_raw = required(ENV_MODEL_IDS, "a JSON object operation → model id, e.g. {\"inpaint\":\"...\"}")?;
        let model_ids = parse_model_ids(&ids_raw, family)?;
        let origins_raw = get(ENV_ALLOWED_ORIGINS).ok_or(ConfigError::Missing {
            name: ENV_ALLOWED_ORIGINS,
            hint: "comma-separated origins of the web app (may be empty to allow none)",
        })?;
        let allowed_origins = AllowedOrigins::parse(&origins_raw)
            .map_err(|reason| ConfigError::Invalid { name: ENV_ALLOWED_ORIGINS, reason })?;
        let function_name =
            get(ENV_LAMBDA_FUNCTION_NAME).filter(|s| !s.is_empty()).unwrap_or_else(|| "local".to_owned());
        let limit = |name: &'static str| -> Result<u32, ConfigError> {
            let raw = required(name, "a number of images a day (the stack file's limits.*)")?;
            raw.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| ConfigError::Invalid {
                name,
                reason: format!("`{raw}` is not a number of images (1 or more)"),
            })
        };
        let quota = crate::quota::Limits {
            per_user: limit(crate::quota::ENV_PER_USER)?,
            per_stack: limit(crate::quota::ENV_PER_STACK)?,
        };
        let results = match get(ENV_RESULTS_BUCKET).map(|b| b.trim().to_owned()).filter(|b| !b.is_empty()) {
            None => None,
            Some(bucket) => {
                if !valid_bucket_name(&bucket) {
                    return Err(ConfigError::Invalid {
                        name: ENV_RESULTS_BUCKET,
                        reason: format!("`{bucket}` is not an S3 bucket name (3-63 of a-z 0-9 . -)"),
                    });
                }
                let raw =
                    required(ENV_RESULTS_KEEP_DAYS, "days the results bucket keeps an image (history.keep_days)")?;
                let keep_days =
                    raw.parse::<u32>().ok().filter(|d| *d <= MAX_KEEP_DAYS).ok_or_else(|| ConfigError::Invalid {
                        name: ENV_RESULTS_KEEP_DAYS,
                        reason: format!("`{raw}` is not a number of days from 0 to {MAX_KEEP_DAYS}"),
                    })?;
                Some(ResultsConfig { bucket, keep_days })
            }
        };
        Ok(Config { table_name, bedrock_region, family, model_ids, allowed_origins, function_name, quota, results })
    }

    /// The model id for `op`, when the stack offers it.
    pub fn model_for(&self, op: Operation) -> Option<&str> {
        self.model_ids.get(&op).map(String::as_str)
    }

    /// The operations this stack offers (each choice of model its own), in the API's canonical
    /// order.
    pub fn operations(&self) -> Vec<Operation> {
        Operation::ALL.into_iter().filter(|op| self.model_ids.contains_key(op)).collect()
    }

    /// The API names of the operations this stack offers, each once.
    pub fn operation_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.operations().into_iter().map(Operation::as_str).collect();
        names.dedup();
        names
    }
}

fn parse_model_ids(raw: &str, family: Family) -> Result<BTreeMap<Operation, String>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid { name: ENV_MODEL_IDS, reason };
    let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| invalid(format!("not valid JSON ({e})")))?;
    let obj = value.as_object().ok_or_else(|| invalid("expected a JSON object operation → model id".to_owned()))?;
    let mut out = BTreeMap::new();
    for (key, id) in obj {
        let op = Operation::from_key(key).ok_or_else(|| {
            let keys: Vec<String> = Operation::ALL.iter().map(|o| o.key()).collect();
            invalid(format!("unknown operation `{key}` (known: {})", keys.join(", ")))
        })?;
        if family.spec(op).is_none() {
            return Err(invalid(format!(
                "the {} family has no `{key}` operation (it offers: {})",
                family.as_str(),
                family.operations().iter().map(|o| o.key()).collect::<Vec<_>>().join(", ")
            )));
        }
        let id = id
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(format!("the model id of `{key}` must be a non-empty string")))?;
        out.insert(op, id.to_owned());
    }
    if out.is_empty() {
        return Err(invalid("no operation configured; the stack would offer nothing".to_owned()));
    }
    Ok(out)
}

/// S3's bucket naming rules, the part a name made by the provisioner could break ("General purpose
/// bucket naming rules", S3 User Guide: 3-63 characters, lowercase letters, digits, dots, hyphens,
/// beginning and ending with a letter or digit).
fn valid_bucket_name(s: &str) -> bool {
    (3..=63).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
}

fn valid_table_name(s: &str) -> bool {
    (3..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

fn valid_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const GOOD: &[(&str, &str)] = &[
        ("TABLE_NAME", "imgedit-dev-edits"),
        ("BEDROCK_REGION", "us-west-2"),
        ("MODEL_FAMILY", "stability"),
        (
            "MODEL_IDS",
            r#"{"inpaint":"us.stability.stable-image-inpaint-v1:0","erase":"stability.stable-image-erase-object-v1:0"}"#,
        ),
        ("ALLOWED_ORIGINS", "https://app.example.com, http://localhost:5173"),
        ("QUOTA_IMAGES_PER_USER_PER_DAY", "50"),
        ("QUOTA_IMAGES_PER_DAY", "500"),
    ];

    #[test]
    fn reads_a_complete_environment() {
        let c = Config::from_lookup(env(GOOD)).unwrap();
        assert_eq!(c.family, Family::Stability);
        assert_eq!(c.bedrock_region, "us-west-2");
        assert_eq!(c.operations(), vec![Operation::Inpaint, Operation::Erase]);
        assert_eq!(c.model_for(Operation::Inpaint), Some("us.stability.stable-image-inpaint-v1:0"));
        assert!(c.allowed_origins.allows("http://localhost:5173"));
        assert_eq!(c.function_name, "local");
    }

    #[test]
    fn every_missing_variable_is_named() {
        for (name, _) in GOOD {
            let rest: Vec<(&str, &str)> = GOOD.iter().copied().filter(|(k, _)| k != name).collect();
            let err = Config::from_lookup(env(&rest)).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn rejects_bad_values_naming_the_variable() {
        let cases: &[(&str, &str)] = &[
            ("MODEL_FAMILY", "dalle"),
            ("MODEL_FAMILY", "titan"),
            ("BEDROCK_REGION", "mars"),
            ("MODEL_IDS", "not json"),
            ("MODEL_IDS", "{}"),
            ("MODEL_IDS", r#"{"teleport":"x"}"#),
            ("MODEL_IDS", r#"{"upscale.huge":"stability.stable-fast-upscale-v1:0"}"#),
            ("ALLOWED_ORIGINS", "app.example.com"),
            ("TABLE_NAME", "a b"),
        ];
        for (name, value) in cases {
            let mut pairs: Vec<(&str, &str)> = GOOD.iter().copied().filter(|(k, _)| k != name).collect();
            pairs.push((name, value));
            let err = Config::from_lookup(env(&pairs)).unwrap_err();
            assert!(err.to_string().contains(name), "{name}={value}: {err}");
        }
    }
}
