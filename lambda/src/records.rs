//! Edit records in DynamoDB: one item per request that reached the model.
//!
//! Key: `userId` (partition, the Cognito `sub`) + `id` (sort, a ULID, so a query in reverse key
//! order is newest first). Every read names the caller's `userId` in the key, so another user's
//! edit is simply not found. The item is an [`EditRecord`]'s JSON (the history's, see
//! docs/openapi.yaml) plus `userId`, converted attribute by attribute.

use std::collections::HashMap;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Number, Value, json};

use crate::config::{DYNAMODB_MAX_ATTEMPTS, DYNAMODB_OPERATION_TIMEOUT};
use crate::errors::ApiError;
use crate::record::EditRecord;

pub const ATTR_USER: &str = "userId";
pub const ATTR_ID: &str = "id";
pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 50;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordsError {
    #[error("DynamoDB throttled the request")]
    Throttled,
    #[error("DynamoDB {operation} failed: {detail}")]
    Failed { operation: &'static str, detail: String },
}

impl From<RecordsError> for ApiError {
    fn from(e: RecordsError) -> Self {
        match e {
            RecordsError::Throttled => ApiError::Throttled {
                message: "the history store is busy; try again shortly".to_owned(),
                retry_after_secs: 1,
            },
            RecordsError::Failed { operation, detail } => {
                // The answer says little; the log says what DynamoDB said.
                tracing::error!(operation, detail = %detail, "history store failure");
                ApiError::Internal("the history store failed; try again".to_owned())
            }
        }
    }
}

fn sdk_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    operation: &'static str,
    err: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> RecordsError {
    match err.code() {
        Some("ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded") => {
            RecordsError::Throttled
        }
        _ => RecordsError::Failed { operation, detail: aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string() },
    }
}

/// A DynamoDB client whose calls stay short (the write follows a model call of up to 25 s).
/// `AWS_ENDPOINT_URL_DYNAMODB` is honoured through `sdk`.
pub fn dynamodb_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::config::Builder::from(sdk)
        .timeout_config(TimeoutConfig::builder().operation_timeout(DYNAMODB_OPERATION_TIMEOUT).build())
        .retry_config(RetryConfig::standard().with_max_attempts(DYNAMODB_MAX_ATTEMPTS))
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// One page of history.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<EditRecord>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Records {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Records {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Records { client, table: table.into() }
    }

    /// Writes `record` for `user_id`.
    pub async fn put(&self, user_id: &str, record: &EditRecord) -> Result<(), RecordsError> {
        let fields = match serde_json::to_value(record) {
            Ok(Value::Object(fields)) => fields,
            Ok(_) => {
                return Err(RecordsError::Failed {
                    operation: "PutItem",
                    detail: "record is not an object".to_owned(),
                });
            }
            Err(e) => return Err(RecordsError::Failed { operation: "PutItem", detail: e.to_string() }),
        };
        let mut item: HashMap<String, AttributeValue> =
            fields.iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect();
        item.insert(ATTR_USER.to_owned(), AttributeValue::S(user_id.to_owned()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", &e))?;
        Ok(())
    }

    /// The caller's edit `id`, or `None` (missing, someone else's, or not an id at all).
    pub async fn get(&self, user_id: &str, id: &str) -> Result<Option<EditRecord>, RecordsError> {
        if !is_edit_id(id) {
            return Ok(None);
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ATTR_USER, AttributeValue::S(user_id.to_owned()))
            .key(ATTR_ID, AttributeValue::S(id.to_owned()))
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", &e))?;
        Ok(out.item.as_ref().and_then(readable))
    }

    /// Deletes the caller's edit `id`: the record it was (its kept images are the caller's to
    /// delete next), `None` when there was none.
    pub async fn delete(&self, user_id: &str, id: &str) -> Result<Option<EditRecord>, RecordsError> {
        if !is_edit_id(id) {
            return Ok(None);
        }
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(ATTR_USER, AttributeValue::S(user_id.to_owned()))
            .key(ATTR_ID, AttributeValue::S(id.to_owned()))
            .condition_expression("attribute_exists(#id)")
            .expression_attribute_names("#id", ATTR_ID)
            // The deleted item comes back in the same call (no extra read, no extra permission).
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        match res {
            Ok(out) => Ok(Some(out.attributes.as_ref().and_then(readable).unwrap_or_else(|| EditRecord::gone(id)))),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(None),
            Err(e) => Err(sdk_error("DeleteItem", &e)),
        }
    }

    /// The caller's history, newest first. `cursor` comes from a previous page's `next_cursor`.
    pub async fn list(&self, user_id: &str, limit: u32, cursor: Option<&str>) -> Result<Page, ApiError> {
        let start = match cursor {
            Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                ApiError::validation("cursor", "cursor is not one this API returned; start again without it")
            })?),
            None => None,
        };
        let limit = limit.clamp(1, MAX_PAGE);
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#u = :u")
            .expression_attribute_names("#u", ATTR_USER)
            .expression_attribute_values(":u", AttributeValue::S(user_id.to_owned()))
            .scan_index_forward(false)
            // One more than asked tells whether another page exists.
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
        if let Some(id) = start {
            query = query
                .exclusive_start_key(ATTR_USER, AttributeValue::S(user_id.to_owned()))
                .exclusive_start_key(ATTR_ID, AttributeValue::S(id));
        }
        let out = query.send().await.map_err(|e| ApiError::from(sdk_error("Query", &e)))?;
        let raw = out.items.unwrap_or_default();
        let more = raw.len() > limit as usize || out.last_evaluated_key.is_some();
        let items: Vec<EditRecord> = raw.iter().take(limit as usize).filter_map(readable).collect();
        let next_cursor = if more { items.last().map(|r| encode_cursor(&r.id)) } else { None };
        Ok(Page { items, next_cursor })
    }
}

/// A new edit id: a ULID, monotonic within this process so that edits made in the same
/// millisecond still list newest first.
pub fn new_edit_id() -> String {
    static GENERATOR: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    if let Ok(mut guard) = GENERATOR.lock()
        && let Ok(id) = guard.get_or_insert_with(ulid::Generator::new).generate()
    {
        return id.to_string();
    }
    ulid::Ulid::new().to_string()
}

/// ULIDs: 26 Crockford base32 characters.
pub fn is_edit_id(id: &str) -> bool {
    id.len() == 26 && ulid::Ulid::from_string(id).is_ok()
}

pub fn encode_cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(json!({ "id": id }).to_string())
}

pub fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim().trim_end_matches('=')).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    let id = v.get("id")?.as_str()?;
    is_edit_id(id).then(|| id.to_owned())
}

/// The item as a record, or None (logged) when it is not a record this API wrote: one bad item
/// never makes a page, or the history, unreadable.
fn readable(item: &HashMap<String, AttributeValue>) -> Option<EditRecord> {
    let problem = match serde_json::from_value::<EditRecord>(public_item(item)) {
        Ok(record) if is_edit_id(&record.id) => return Some(record),
        Ok(_) => "its id is not an edit id".to_owned(),
        Err(e) => e.to_string(),
    };
    let id = item.get(ATTR_ID).and_then(|a| a.as_s().ok()).map(String::as_str).unwrap_or("?");
    tracing::error!(id, problem, "skipping a history item that is not a valid record");
    None
}

/// The item as the API shows it (without `userId`).
fn public_item(item: &HashMap<String, AttributeValue>) -> Value {
    let mut out = Map::new();
    for (k, v) in item {
        if k != ATTR_USER {
            out.insert(k.clone(), from_attribute(v));
        }
    }
    Value::Object(out)
}

/// The smallest magnitude a DynamoDB number may have ("Numbers can have up to 38 digits of
/// precision … Positive range: 1E-130 to 9.9999999999999999999999999999999999999E+125", Developer
/// Guide, "Supported data types"). DynamoDB refuses a smaller one ("Number underflow"); the
/// request's values are validated to their ranges, which only bounds them from above.
const SMALLEST_NUMBER: f64 = 1e-130;

pub fn to_attribute(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        // A float too small for DynamoDB is 0 in the record (the model got the value as sent).
        Value::Number(n) if n.as_f64().is_some_and(|f| f != 0.0 && f.abs() < SMALLEST_NUMBER) => {
            AttributeValue::N("0".to_owned())
        }
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(to_attribute).collect()),
        Value::Object(o) => AttributeValue::M(o.iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect()),
    }
}

pub fn from_attribute(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attribute).collect()),
        AttributeValue::M(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), from_attribute(v))).collect()),
        AttributeValue::Ss(ss) => Value::Array(ss.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(ns) => Value::Array(ns.iter().map(|n| number(n)).collect()),
        _ => Value::Null,
    }
}

fn number(n: &str) -> Value {
    if let Ok(i) = n.parse::<i64>() {
        Value::Number(i.into())
    } else if let Ok(u) = n.parse::<u64>() {
        Value::Number(u.into())
    } else {
        n.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_too_small_for_dynamodb_are_stored_as_zero() {
        assert_eq!(to_attribute(&json!(1e-200)), AttributeValue::N("0".to_owned()));
        assert_eq!(to_attribute(&json!(-5e-324)), AttributeValue::N("0".to_owned()));
        assert_eq!(to_attribute(&json!(1e-130)), AttributeValue::N("1e-130".to_owned()));
        assert_eq!(to_attribute(&json!(0.5)), AttributeValue::N("0.5".to_owned()));
    }

    #[test]
    fn values_round_trip_through_attributes() {
        let v = json!({"a": null, "b": [1, 2.5, "x"], "c": {"d": true}, "e": 4294967294u64});
        assert_eq!(from_attribute(&to_attribute(&v)), v);
    }

    /// `item` as DynamoDB holds it: `json`'s attributes plus the user's id.
    fn item(json: &Value) -> HashMap<String, AttributeValue> {
        let mut item: HashMap<String, AttributeValue> =
            json.as_object().expect("an object").iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect();
        item.insert(ATTR_USER.to_owned(), AttributeValue::S("user-a".to_owned()));
        item
    }

    /// Items as the function wrote them before records were typed (a `json!` literal) read as
    /// records, and the API answers them as it did (the item's attributes, without `userId`).
    #[test]
    fn items_written_before_read_as_records_and_answer_the_same() {
        let id = ulid::Ulid::new().to_string();
        let succeeded = json!({
            "id": id, "createdAt": "2026-11-25T15:09:10Z", "source": "edits", "operation": "upscale",
            "prompt": "a sharp photo", "negativePrompt": null, "maskPrompt": null,
            "model": "us.stability.stable-conservative-upscale-v1:0",
            "input": {"width": 512, "height": 384, "bytes": 48213},
            "options": {"seed": 8, "count": 1, "upscaler": "conservative", "strength": 0.35},
            "status": "succeeded", "errorCode": null, "seeds": [8], "durationMs": 5210, "modelMs": 4987,
            "output": {"width": 2048, "height": 1536, "bytes": 9437184, "count": 1},
            "thumbnail": "data:image/jpeg;base64,/9j/4AAQ", "notices": ["image resized to 1024×768"]
        });
        // Before options were validated, they were stored as sent (here with a retired family's).
        let mut as_sent = succeeded.clone();
        as_sent["options"] = json!({"seed": 8, "quality": "premium", "extents": {"right": 256}});
        let mut outpaint = succeeded.clone();
        outpaint["options"] =
            json!({"seed": 1, "count": 1, "strength": 0.0, "extents": {"left": 0, "right": 256, "up": 0, "down": 0}});
        let mut blocked = succeeded.clone();
        for (k, v) in [
            ("status", json!("blocked")),
            ("errorCode", json!("content_filtered")),
            ("output", Value::Null),
            ("thumbnail", Value::Null),
            ("input", Value::Null),
            ("source", json!("seed")),
        ] {
            blocked[k] = v;
        }
        for v in [succeeded, as_sent, outpaint, blocked] {
            let record = readable(&item(&v)).unwrap_or_else(|| panic!("readable: {v}"));
            assert_eq!(serde_json::to_value(&record).expect("serializes"), v);
            assert_eq!(serde_json::to_value(&record).expect("serializes"), public_item(&item(&v)));
        }
    }

    #[test]
    fn items_that_are_not_records_are_skipped() {
        let id = ulid::Ulid::new().to_string();
        assert_eq!(readable(&item(&json!({"id": id, "note": "added by hand"}))), None);
        let record = json!({"id": id, "createdAt": "2026-11-25T15:09:10Z", "operation": "erase", "model": "m",
                            "status": "running", "durationMs": null});
        assert!(readable(&item(&record)).is_some(), "the fields the history can do without may be missing");
        let mut bad = record.clone();
        bad["status"] = json!("lost");
        assert_eq!(readable(&item(&bad)), None);
        let mut bad = record;
        bad["id"] = json!("not-an-edit-id");
        assert_eq!(readable(&item(&bad)), None);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let id = ulid::Ulid::new().to_string();
        assert_eq!(decode_cursor(&encode_cursor(&id)), Some(id));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode(r#"{"id":"x"}"#)), None);
    }
}
