//! Daily spend caps: images made per user and for the whole stack, counted in the edits table
//! *before* the model is called. Each counter moves by one conditional `UpdateItem` that keeps it
//! at or under its limit, so concurrent requests cannot overshoot; a request that would go over is
//! a 429 `quota_exceeded` and the model is not called. A request the model refused without making
//! (or billing) anything gives its count back, to the day it was counted on.
//!
//! Why not one transaction for both counters: every edit touches the one `quota#stack` item, and
//! DynamoDB cancels transactions that overlap on an item (`TransactionCanceledException`, reason
//! `TransactionConflict`, which the SDK does not retry): a class clicking at once would get 503s.
//! Single-item writes to one item are serialized instead, never cancelled. So the user's counter
//! moves first (its partition is the user's own), then the stack's; when the stack's refuses, the
//! user's is put back. Neither counter ever goes over its limit; a failure between the two can
//! only leave the user counted for an image not made (logged), never an image made uncounted.
//!
//! Items: `userId = "quota#<sub>"` (per user) and `userId = "quota#stack"`, `id = "YYYY-MM-DD"`
//! (UTC), attribute `images`, and `expiresAt` (epoch seconds, the table's TTL attribute) two days
//! later, so DynamoDB removes old counters by itself. They never share a partition with a user's
//! history (`userId = <sub>`).

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
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

/// Images counted for one request: the UTC day they were counted on, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    day: String,
    expires: i64,
    pub images: u32,
    /// The stack's count of the day once this request was counted (what the `ImagesToday` metric
    /// reports).
    pub stack_today: u32,
}

/// Which counter refused, or failed.
#[derive(Clone, Copy)]
enum Counter {
    User,
    Stack,
}

impl Quota {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>, limits: Limits) -> Self {
        Quota { client, table: table.into(), limits }
    }

    /// `ADD images :n` on one counter of `day`, within `limit` when one is given.
    async fn add(
        &self,
        partition: String,
        day: &str,
        expires: i64,
        delta: i64,
        limit: Option<u32>,
    ) -> Result<u32, aws_sdk_dynamodb::error::SdkError<UpdateItemError>> {
        let mut u = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("userId", AttributeValue::S(partition))
            .key("id", AttributeValue::S(day.to_owned()))
            .update_expression("ADD images :n SET expiresAt = :exp")
            .expression_attribute_values(":n", AttributeValue::N(delta.to_string()))
            .expression_attribute_values(":exp", AttributeValue::N(expires.to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew);
        if let Some(limit) = limit {
            // Room for `delta` more: no counter yet, or at most limit - delta made so far.
            let room = i64::from(limit) - delta;
            u = u
                .condition_expression("attribute_not_exists(images) OR images <= :room")
                .expression_attribute_values(":room", AttributeValue::N(room.to_string()));
        }
        let out = u.send().await?;
        Ok(out
            .attributes()
            .and_then(|a| a.get("images"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(u32::MAX)))
    }

    fn refused(&self, counter: Counter, n: u32, now: OffsetDateTime) -> ApiError {
        let message = match counter {
            Counter::User => format!(
                "you have used today's {} images (this request asks for {n}); the count starts again at 00:00 UTC",
                self.limits.per_user
            ),
            Counter::Stack => format!(
                "this app has made its {} images for today; the count starts again at 00:00 UTC",
                self.limits.per_stack
            ),
        };
        ApiError::QuotaExceeded { message, retry_after_secs: seconds_to_midnight(now) }
    }

    /// Counts `n` images for `user` and for the stack, or refuses (429) when either would go over.
    /// A request for more images than a limit allows in a day is refused (400) before counting.
    pub async fn take(&self, user: &str, n: u32) -> Result<Counted, ApiError> {
        let most = self.limits.per_user.min(self.limits.per_stack);
        if n > most {
            return Err(ApiError::validation(
                "count",
                format!("count {n} is more than the {most} images this app allows a day; ask for at most {most}"),
            ));
        }
        let now = OffsetDateTime::now_utc();
        let mut counted =
            Counted { day: today(now), expires: now.unix_timestamp() + 2 * 86_400, images: n, stack_today: 0 };
        let unavailable = |counter: &str, e: &aws_sdk_dynamodb::error::SdkError<UpdateItemError>| {
            tracing::error!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(e), counter, "counting today's images failed");
            ApiError::HistoryUnavailable(
                "today's image count could not be checked, so the edit was not made; try again shortly".to_owned(),
            )
        };
        let over = |e: &aws_sdk_dynamodb::error::SdkError<UpdateItemError>| {
            matches!(e.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_)))
        };
        let delta = i64::from(n);
        if let Err(e) = self.add(user_key(user), &counted.day, counted.expires, delta, Some(self.limits.per_user)).await
        {
            if !over(&e) {
                return Err(unavailable("user", &e));
            }
            // The user's counter also holds requests of theirs still on the way, which the stack's
            // limit may yet refuse: when the app is full, that is the reason to give.
            let stack_full = self
                .count(STACK_KEY.to_owned(), &counted.day)
                .await
                .is_ok_and(|made| u64::from(made) + u64::from(n) > u64::from(self.limits.per_stack));
            return Err(self.refused(if stack_full { Counter::Stack } else { Counter::User }, n, now));
        }
        match self.add(STACK_KEY.to_owned(), &counted.day, counted.expires, delta, Some(self.limits.per_stack)).await {
            Ok(stack_today) => counted.stack_today = stack_today,
            Err(e) => {
                // The user's count goes back: this request makes nothing.
                self.give_back_one(Counter::User, user, &counted, n).await;
                return Err(if over(&e) { self.refused(Counter::Stack, n, now) } else { unavailable("stack", &e) });
            }
        }
        Ok(counted)
    }

    async fn give_back_one(&self, counter: Counter, user: &str, counted: &Counted, n: u32) {
        let (partition, name) = match counter {
            Counter::User => (user_key(user), "user"),
            Counter::Stack => (STACK_KEY.to_owned(), "stack"),
        };
        if let Err(e) = self.add(partition, &counted.day, counted.expires, -i64::from(n), None).await {
            tracing::error!(
                error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e),
                counter = name,
                images = n,
                "could not give back the count of images not made"
            );
        }
    }

    /// Gives `n` of the images `counted` back (nothing was made or billed for them), on the day
    /// they were counted on. Best effort: a failure is logged.
    pub async fn give_back(&self, user: &str, counted: &Counted, n: u32) {
        let n = n.min(counted.images);
        if n == 0 {
            return;
        }
        tokio::join!(
            self.give_back_one(Counter::User, user, counted, n),
            self.give_back_one(Counter::Stack, user, counted, n)
        );
    }

    /// One counter of `day` (0 where there is none yet).
    async fn count(&self, partition: String, day: &str) -> Result<u32, ApiError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("userId", AttributeValue::S(partition))
            .key("id", AttributeValue::S(day.to_owned()))
            .projection_expression("images")
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "reading today's count");
                ApiError::Internal("today's image count could not be read; try again".to_owned())
            })?;
        Ok(out
            .item()
            .and_then(|i| i.get("images"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(u32::MAX)))
    }

    /// Today's counts (0 where none yet).
    pub async fn usage(&self, user: &str) -> Result<Usage, ApiError> {
        let day = today(OffsetDateTime::now_utc());
        let (u, s) = tokio::join!(self.count(user_key(user), &day), self.count(STACK_KEY.to_owned(), &day));
        Ok(Usage { user_today: u?, stack_today: s? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refused before any call: the client points nowhere, so a call would fail otherwise.
    #[tokio::test]
    async fn a_request_over_a_limit_is_refused_before_counting() {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("t", "t", None, None, "t"))
            .build();
        let quota =
            Quota::new(aws_sdk_dynamodb::Client::from_conf(config), "t", Limits { per_user: 3, per_stack: 500 });
        match quota.take("ann", 4).await {
            Err(ApiError::Validation { message, field }) => {
                assert_eq!(field.as_deref(), Some("count"));
                assert!(message.contains("count 4") && message.contains("3 images"), "{message}");
            }
            other => panic!("expected a 400 naming count: {other:?}"),
        }
    }

    #[test]
    fn days_and_midnight() {
        let t = time::macros::datetime!(2026-12-02 23:59:30 UTC);
        assert_eq!(today(t), "2026-12-02");
        assert_eq!(seconds_to_midnight(t), 30);
        assert_eq!(seconds_to_midnight(time::macros::datetime!(2026-12-02 00:00:00 UTC)), 86_400);
    }
}
