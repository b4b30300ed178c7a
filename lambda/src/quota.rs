//! Daily spend caps: images made per user and for the whole stack, counted in the edits table
//! *before* the model is called. Both counters move in one DynamoDB transaction whose conditions
//! keep each at or under its limit, so concurrent requests cannot overshoot; a request that would
//! go over is a 429 `quota_exceeded` and the model is not called. A request whose model call makes
//! nothing (it failed, or was blocked) gives its count back.
//!
//! Items: `userId = "quota#<sub>"` (per user) and `userId = "quota#stack"`, `id = "YYYY-MM-DD"`
//! (UTC), attribute `images`, and `expiresAt` (epoch seconds, the table's TTL attribute) two days
//! later, so DynamoDB removes old counters by itself. They never share a partition with a user's
//! history (`userId = <sub>`).

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use time::OffsetDateTime;

use crate::errors::ApiError;

pub const ENV_PER_USER: &str = image_edit_contract::env::QUOTA_IMAGES_PER_USER_PER_DAY;
pub const ENV_PER_STACK: &str = image_edit_contract::env::QUOTA_IMAGES_PER_DAY;

/// The limits, from the stack file (`limits.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_user: u32,
    pub per_stack: u32,
}

/// What a user has made today, and may still make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub user_today: u32,
    pub stack_today: u32,
}

#[derive(Clone)]
pub struct Quota {
    client: aws_sdk_dynamodb::Client,
    table: String,
    pub limits: Limits,
}

/// The UTC day the counters are kept for, `YYYY-MM-DD`.
pub fn today(now: OffsetDateTime) -> String {
    let d = now.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Seconds until 00:00 UTC, when the counters start again.
pub fn seconds_to_midnight(now: OffsetDateTime) -> u32 {
    let secs = i64::from(now.hour()) * 3600 + i64::from(now.minute()) * 60 + i64::from(now.second());
    u32::try_from(86_400 - secs).unwrap_or(1).max(1)
}

fn user_key(user: &str) -> String {
    format!("quota#{user}")
}
const STACK_KEY: &str = "quota#stack";

impl Quota {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>, limits: Limits) -> Self {
        Quota { client, table: table.into(), limits }
    }

    /// The two counters' updates for today: `+n` within each limit (`take`), or `-n` (`give_back`).
    fn counters(&self, user: &str, n: u32, now: OffsetDateTime, take: bool) -> Vec<TransactWriteItem> {
        let day = today(now);
        let expires = now.unix_timestamp() + 2 * 86_400;
        [(user_key(user), self.limits.per_user), (STACK_KEY.to_owned(), self.limits.per_stack)]
            .into_iter()
            .filter_map(|(partition, limit)| {
                let delta = if take { n.to_string() } else { format!("-{n}") };
                let mut u = Update::builder()
                    .table_name(&self.table)
                    .key("userId", AttributeValue::S(partition))
                    .key("id", AttributeValue::S(day.clone()))
                    .update_expression("ADD images :n SET expiresAt = :exp")
                    .expression_attribute_values(":n", AttributeValue::N(delta))
                    .expression_attribute_values(":exp", AttributeValue::N(expires.to_string()));
                if take {
                    // Room for n more: no counter yet, or at most limit - n made so far.
                    u = u
                        .condition_expression("attribute_not_exists(images) OR images <= :room")
                        .expression_attribute_values(":room", AttributeValue::N(limit.saturating_sub(n).to_string()));
                }
                // Every required field is set above, so this cannot fail.
                u.build().ok().map(|u| TransactWriteItem::builder().update(u).build())
            })
            .collect()
    }

    /// Counts `n` images for `user` and for the stack, or refuses (429) when either would go over.
    pub async fn take(&self, user: &str, n: u32) -> Result<(), ApiError> {
        let now = OffsetDateTime::now_utc();
        let items = self.counters(user, n, now, true);
        let out = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match out {
            Ok(_) => Ok(()),
            Err(e) => {
                let reasons: Vec<Option<String>> = e
                    .as_service_error()
                    .and_then(|s| match s {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                            Some(c.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect())
                        }
                        _ => None,
                    })
                    .unwrap_or_default();
                let over = |i: usize| reasons.get(i).and_then(Option::as_deref) == Some("ConditionalCheckFailed");
                let retry = seconds_to_midnight(now);
                if over(0) {
                    return Err(ApiError::QuotaExceeded {
                        message: format!(
                            "you have used today's {} images (this request asks for {n}); the count starts again at 00:00 UTC",
                            self.limits.per_user
                        ),
                        retry_after_secs: retry,
                    });
                }
                if over(1) {
                    return Err(ApiError::QuotaExceeded {
                        message: format!(
                            "this app has made its {} images for today; the count starts again at 00:00 UTC",
                            self.limits.per_stack
                        ),
                        retry_after_secs: retry,
                    });
                }
                tracing::error!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "quota transaction failed");
                Err(ApiError::HistoryUnavailable(
                    "today's image count could not be checked, so the edit was not made; try again shortly".to_owned(),
                ))
            }
        }
    }

    /// Gives `n` images back (the model made nothing). Best effort: a failure is logged.
    pub async fn give_back(&self, user: &str, n: u32) {
        let items = self.counters(user, n, OffsetDateTime::now_utc(), false);
        if let Err(e) = self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            tracing::error!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "could not give back the quota of a failed edit");
        }
    }

    /// Today's counts (0 where none yet).
    pub async fn usage(&self, user: &str) -> Result<Usage, ApiError> {
        let day = today(OffsetDateTime::now_utc());
        let get = |partition: String| {
            self.client
                .get_item()
                .table_name(&self.table)
                .key("userId", AttributeValue::S(partition))
                .key("id", AttributeValue::S(day.clone()))
                .projection_expression("images")
                .send()
        };
        let (u, s) = tokio::join!(get(user_key(user)), get(STACK_KEY.to_owned()));
        let count = |r: Result<aws_sdk_dynamodb::operation::get_item::GetItemOutput, _>| -> Result<u32, ApiError> {
            let out = r.map_err(|e: aws_sdk_dynamodb::error::SdkError<_, _>| {
                tracing::error!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "reading today's count");
                ApiError::Internal("today's image count could not be read; try again".to_owned())
            })?;
            Ok(out
                .item()
                .and_then(|i| i.get("images"))
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<i64>().ok())
                .map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(u32::MAX)))
        };
        Ok(Usage { user_today: count(u)?, stack_today: count(s)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_midnight() {
        let t = time::macros::datetime!(2026-12-02 23:59:30 UTC);
        assert_eq!(today(t), "2026-12-02");
        assert_eq!(seconds_to_midnight(t), 30);
        assert_eq!(seconds_to_midnight(time::macros::datetime!(2026-12-02 00:00:00 UTC)), 86_400);
    }
}
