//! `Idempotency-Key` on `POST /edits`: a request sent again with the same key never makes a
//! second image, a second record or a second count. The first request claims the key with a
//! conditional `PutItem` (one item per user and key, `userId = "idem#<sub>"`, `id = <key>`, kept
//! 24 hours by the table's TTL) naming its edit and a digest of its body; a request that finds the
//! key taken is answered from that edit's record instead of running. A first attempt that made
//! nothing (refused before the model ran: throttled, over a quota, the history unavailable) frees
//! the key, so sending it again makes the edit then — under the same edit id, so the history holds
//! one record for the edit, not one per attempt.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::http::HeaderMap;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::errors::ApiError;
use crate::records::{ATTR_ID, ATTR_USER};

/// How long a key is kept: a day covers any retry.
const KEEP_SECS: i64 = 86_400;
/// A claim whose edit has no record this long after it was made belongs to a request that died
/// before it wrote one (a request lasts at most API Gateway's 29 s): the next copy takes it over.
pub const ABANDONED_AFTER_SECS: i64 = 60;
const MAX_LEN: usize = 64;

/// The request's key, if it sent one: 1–64 letters, digits, `-` or `_` (a UUID fits).
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(image_edit_contract::IDEMPOTENCY_KEY_HEADER) else { return Ok(None) };
    let key = value.to_str().unwrap_or_default();
    let valid =
        (1..=MAX_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(ApiError::validation(
            image_edit_contract::IDEMPOTENCY_KEY_HEADER,
            format!("Idempotency-Key must be 1 to {MAX_LEN} letters, digits, '-' or '_' (e.g. a UUID)"),
        ));
    }
    Ok(Some(key.to_owned()))
}

/// The digest a key is bound to: the same key with another body is another request.
pub fn digest(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// What claiming a key found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's now.
    New,
    /// An earlier attempt of this very request made nothing and freed the key: it is this
    /// request's now, with the earlier attempt's edit id.
    Resumed { edit_id: String },
    /// An earlier request holds it, for the edit `edit_id`; `same_request` when its body was this
    /// one; `claimed_at` (epoch seconds) when it was claimed.
    Earlier { edit_id: String, same_request: bool, claimed_at: Option<i64> },
}

#[derive(Clone)]
pub struct Keys {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn partition(user: &str) -> String {
    format!("idem#{user}")
}

impl Keys {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Keys { client, table: table.into() }
    }

    fn unavailable(operation: &str, e: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, operation, "idempotency key store failed");
        ApiError::HistoryUnavailable(
            "the request could not be checked against an earlier one with its Idempotency-Key, so the edit was not \
             made; try again shortly"
                .to_owned(),
        )
    }

    /// Claims `key` for `edit_id`, or says who holds it.
    pub async fn claim(&self, user: &str, key: &str, digest: &str, edit_id: &str) -> Result<Claim, ApiError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let expires = now + KEEP_SECS;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(ATTR_USER, AttributeValue::S(partition(user)))
            .item(ATTR_ID, AttributeValue::S(key.to_owned()))
            .item("editId", AttributeValue::S(edit_id.to_owned()))
            .item("request", AttributeValue::S(digest.to_owned()))
            .item("expiresAt", AttributeValue::N(expires.to_string()))
            .item("claimedAt", AttributeValue::N(now.to_string()))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", ATTR_ID)
            .send()
            .await;
        match put {
            Ok(_) => return Ok(Claim::New),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(Self::unavailable("PutItem", &aws_sdk_dynamodb::error::DisplayErrorContext(&e))),
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ATTR_USER, AttributeValue::S(partition(user)))
            .key(ATTR_ID, AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| Self::unavailable("GetItem", &aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
        let item = out.item();
        let text = |name: &str| item.and_then(|i| i.get(name)).and_then(|v| v.as_s().ok()).cloned();
        let free = item.and_then(|i| i.get("free")).and_then(|v| v.as_bool().ok()).copied() == Some(true);
        let Some(earlier) = text("editId") else {
            // Gone between the two calls (expired): try once more.
            return Box::pin(self.claim(user, key, digest, edit_id)).await;
        };
        let same_request = text("request").as_deref() == Some(digest);
        let claimed_at =
            item.and_then(|i| i.get("claimedAt")).and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok());
        if !(free && same_request) {
            return Ok(Claim::Earlier { edit_id: earlier, same_request, claimed_at });
        }
        // Take the freed key over; another copy of the request may be doing the same.
        match self.set_free(user, key, &earlier, false).await {
            Ok(()) => Ok(Claim::Resumed { edit_id: earlier }),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(Claim::Earlier { edit_id: earlier, same_request: true, claimed_at })
            }
            Err(e) => Err(Self::unavailable("UpdateItem", &aws_sdk_dynamodb::error::DisplayErrorContext(&e))),
        }
    }

    /// Frees `key` when it still names `edit_id` (the attempt made nothing), keeping the edit id
    /// for the next attempt of the same request. Best effort.
    pub async fn release(&self, user: &str, key: &str, edit_id: &str) {
        if let Err(e) = self.set_free(user, key, edit_id, true).await
            && !e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception())
        {
            tracing::error!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "could not free an Idempotency-Key");
        }
    }

    /// Takes over a claim its request abandoned (see [`ABANDONED_AFTER_SECS`]): only while it is
    /// still the claim of `edit_id` made at `claimed_at`, so one copy wins.
    pub async fn take_over(&self, user: &str, key: &str, edit_id: &str, claimed_at: i64) -> bool {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.client
            .update_item()
            .table_name(&self.table)
            .key(ATTR_USER, AttributeValue::S(partition(user)))
            .key(ATTR_ID, AttributeValue::S(key.to_owned()))
            .update_expression("SET claimedAt = :now")
            .condition_expression("editId = :e AND claimedAt = :then")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":e", AttributeValue::S(edit_id.to_owned()))
            .expression_attribute_values(":then", AttributeValue::N(claimed_at.to_string()))
            .send()
            .await
            .is_ok()
    }

    /// Marks `key` free (`true`) or taken again (`false`), only while it names `edit_id` — and, to
    /// take it, only while it is free (one copy of a request wins).
    async fn set_free(
        &self,
        user: &str,
        key: &str,
        edit_id: &str,
        free: bool,
    ) -> Result<(), aws_sdk_dynamodb::error::SdkError<UpdateItemError>> {
        let condition = if free { "editId = :e" } else { "editId = :e AND #free = :was" };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(ATTR_USER, AttributeValue::S(partition(user)))
            .key(ATTR_ID, AttributeValue::S(key.to_owned()))
            .update_expression("SET #free = :free")
            .condition_expression(condition)
            .expression_attribute_names("#free", "free")
            .expression_attribute_values(":free", AttributeValue::Bool(free))
            .expression_attribute_values(":e", AttributeValue::S(edit_id.to_owned()));
        if !free {
            update = update.expression_attribute_values(":was", AttributeValue::Bool(true));
        }
        update.send().await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("idempotency-key", v.parse().expect("header"));
        h
    }

    #[test]
    fn keys_are_short_and_plain() {
        assert_eq!(key_of(&HeaderMap::new()).expect("none"), None);
        assert_eq!(key_of(&headers("0b9c-4f_A")).expect("ok").as_deref(), Some("0b9c-4f_A"));
        for bad in ["", "a b", "ключ", &"k".repeat(65)] {
            let mut h = HeaderMap::new();
            if let Ok(v) = bad.parse() {
                h.insert("idempotency-key", v);
                let e = key_of(&h).expect_err(bad);
                assert_eq!(e.field(), Some("Idempotency-Key"));
            }
        }
    }
}
