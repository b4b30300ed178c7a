//! Kept results: every image the model makes is written to the stack's S3 bucket, under the
//! caller's Cognito `sub` (`image_edit_contract::results::key`), and handed out as short-lived
//! presigned links instead of base64 in the answer. The record keeps the keys ([`KeptImage`]);
//! each read of the history presigns fresh links, for the caller's own records only.
//!
//! What this does to the answer: `POST /edits` answers a few kilobytes whatever the images weigh,
//! so Lambda's 6 MB response limit no longer shrinks, converts or drops images; the browser
//! fetches the image from S3 directly. The bucket's lifecycle rule deletes the images after
//! `history.keep_days`; past that day no link is made.
//!
//! Sources: presigned GETs are signed with the function's role credentials and "expire when the
//! credentials expire, even if the URL was created with a later expiration time" (S3 User Guide,
//! "Sharing objects with presigned URLs"), so links are kept short ([`LINK_LIFETIME`]) and the
//! app asks `GET /edits/{id}` again for fresh ones. Lifecycle expiry "rounds the resulting time to
//! the next day midnight UTC" (S3 User Guide, "Lifecycle configuration elements": "Expiration
//! action"), which [`kept_until`] follows.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::presigning::PresigningConfig;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::images::MadeImage;

/// How long a link works.
pub const LINK_LIFETIME: Duration = Duration::from_secs(3600);
/// One PutObject of a few megabytes in the function's region takes well under a second; the
/// request's deadline bounds the whole write anyway.
const S3_OPERATION_TIMEOUT: Duration = Duration::from_secs(6);
/// A PutObject of the same key and bytes may be repeated safely.
const S3_MAX_ATTEMPTS: u32 = 3;

/// One kept image as the record stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeptImage {
    pub key: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// The stack's results bucket, and how long it keeps images.
#[derive(Clone, Debug)]
pub struct Results {
    client: aws_sdk_s3::Client,
    bucket: String,
    keep_days: u32,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KeepError {
    #[error("S3 {operation} of {key} failed: {detail}")]
    Failed { operation: &'static str, key: String, detail: String },
    #[error("no answer from S3 within {0} ms")]
    TimedOut(u128),
}

impl Results {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, keep_days: u32) -> Self {
        Results { client, bucket: bucket.into(), keep_days }
    }

    /// An S3 client for the results: short calls, a few attempts; path-style addressing when an
    /// endpoint is configured (`AWS_ENDPOINT_URL_S3`, the local cloud), where a bucket name cannot
    /// be a host name.
    pub fn client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(sdk)
            .timeout_config(TimeoutConfig::builder().operation_timeout(S3_OPERATION_TIMEOUT).build())
            .retry_config(RetryConfig::standard().with_max_attempts(S3_MAX_ATTEMPTS))
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// Whether images are kept at all (`history.keep_days` > 0).
    pub fn keeps(&self) -> bool {
        self.keep_days > 0
    }

    /// Writes edit `id`'s images under `sub`, all at once, within `budget`. All or nothing: on a
    /// failure the ones written are deleted again (best effort; the lifecycle rule takes any left).
    pub async fn keep(
        &self,
        sub: &str,
        id: &str,
        images: Vec<MadeImage>,
        budget: Duration,
    ) -> Result<Vec<KeptImage>, KeepError> {
        let mut kept = Vec::with_capacity(images.len());
        let mut writes = tokio::task::JoinSet::new();
        for (n, image) in images.into_iter().enumerate() {
            let key = image_edit_contract::results::key(sub, id, n, image.extension);
            kept.push(KeptImage {
                key: key.clone(),
                content_type: image.content_type.to_owned(),
                width: image.width,
                height: image.height,
                bytes: image.bytes.len() as u64,
            });
            let put = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .content_type(image.content_type)
                .body(image.bytes.into());
            writes.spawn(async move { put.send().await.map(|_| ()).map_err(|e| (key, e)) });
        }
        let all = async {
            while let Some(done) = writes.join_next().await {
                match done {
                    Ok(Ok(())) => {}
                    Ok(Err((key, e))) => {
                        return Err(KeepError::Failed {
                            operation: "PutObject",
                            key,
                            detail: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
                        });
                    }
                    Err(e) => {
                        return Err(KeepError::Failed {
                            operation: "PutObject",
                            key: String::new(),
                            detail: e.to_string(),
                        });
                    }
                }
            }
            Ok(())
        };
        let outcome = match tokio::time::timeout(budget, all).await {
            Ok(r) => r,
            Err(_) => Err(KeepError::TimedOut(budget.as_millis())),
        };
        match outcome {
            Ok(()) => Ok(kept),
            Err(e) => {
                writes.abort_all();
                self.forget(sub, &kept).await;
                Err(e)
            }
        }
    }

    /// Deletes kept images (a deleted edit's). Failures are logged: the lifecycle rule deletes
    /// what is left.
    pub async fn forget(&self, sub: &str, kept: &[KeptImage]) {
        for image in kept.iter().filter(|k| owned_by(sub, k)) {
            if let Err(e) = self.client.delete_object().bucket(&self.bucket).key(&image.key).send().await {
                tracing::warn!(
                    error = %aws_sdk_s3::error::DisplayErrorContext(&e),
                    "a deleted edit's image was not deleted; the lifecycle rule will"
                );
            }
        }
    }

    /// Fresh links to `sub`'s kept images, in order; none once `kept_until` has passed. A key
    /// outside `sub`'s prefix is never signed.
    pub async fn links(&self, sub: &str, edit_id: &str, kept: &[KeptImage], kept_until: Option<&str>) -> Vec<Value> {
        if kept_until.is_some_and(|until| is_past(until, OffsetDateTime::now_utc())) {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(kept.len());
        for (n, image) in kept.iter().enumerate().filter(|(_, k)| owned_by(sub, k)) {
            match self.link(edit_id, n, image).await {
                Ok(link) => out.push(link),
                Err(e) => tracing::error!(error = %e, "presigning a kept image"),
            }
        }
        out
    }

    async fn link(&self, edit_id: &str, n: usize, image: &KeptImage) -> Result<Value, String> {
        let start = SystemTime::now();
        let config = || {
            PresigningConfig::builder().start_time(start).expires_in(LINK_LIFETIME).build().map_err(|e| e.to_string())
        };
        let get = self.client.get_object().bucket(&self.bucket).key(&image.key);
        let url = get.clone().presigned(config()?).await.map_err(|e| e.to_string())?;
        let extension = image.key.rsplit('.').next().unwrap_or("png");
        let download = get
            .response_content_disposition(format!("attachment; filename=\"edit-{edit_id}-{}.{extension}\"", n + 1))
            .presigned(config()?)
            .await
            .map_err(|e| e.to_string())?;
        let expires = OffsetDateTime::from(start + LINK_LIFETIME);
        Ok(json!({
            "url": url.uri(),
            "downloadUrl": download.uri(),
            "contentType": image.content_type,
            "width": image.width,
            "height": image.height,
            "bytes": image.bytes,
            "expiresAt": rfc3339(expires),
        }))
    }

    /// When the lifecycle rule deletes images written at `now`: `keep_days` later, at the next
    /// midnight UTC.
    pub fn kept_until(&self, now: OffsetDateTime) -> String {
        rfc3339(kept_until(now, self.keep_days))
    }
}

/// A key under the caller's own prefix.
fn owned_by(sub: &str, image: &KeptImage) -> bool {
    !sub.is_empty()
        && !sub.contains('/')
        && image.key.starts_with(&format!("{}{sub}/", image_edit_contract::results::PREFIX))
}

/// `now` + `days`, rounded up to the next midnight UTC.
pub fn kept_until(now: OffsetDateTime, days: u32) -> OffsetDateTime {
    let later = now + time::Duration::days(i64::from(days));
    let midnight = later.replace_time(time::Time::MIDNIGHT);
    if midnight == later { midnight } else { midnight + time::Duration::days(1) }
}

fn is_past(until: &str, now: OffsetDateTime) -> bool {
    OffsetDateTime::parse(until, &time::format_description::well_known::Rfc3339).is_ok_and(|t| t <= now)
}

fn rfc3339(t: OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.to_offset(time::UtcOffset::UTC).format(&fmt).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// A made image as a `data:` URL result (a stack that keeps nothing, or a failed write). No
/// `downloadUrl`: a second copy of megabytes of base64 would double the answer past Lambda's 6 MB.
pub fn data_link(b64: &str, width: u32, height: u32) -> Value {
    let content_type = if b64.starts_with("/9j/") { "image/jpeg" } else { "image/png" };
    let url = format!("data:{content_type};base64,{b64}");
    json!({
        "url": url,
        "downloadUrl": Value::Null,
        "contentType": content_type,
        "width": width,
        "height": height,
        "bytes": crate::images::decoded_len(b64),
        "expiresAt": Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn kept_until_is_the_next_midnight_utc_after_the_days() {
        assert_eq!(kept_until(datetime!(2026-12-05 22:11:34 UTC), 7), datetime!(2026-12-13 00:00 UTC));
        assert_eq!(kept_until(datetime!(2026-12-05 00:00 UTC), 1), datetime!(2026-12-06 00:00 UTC));
        assert_eq!(rfc3339(datetime!(2026-12-13 00:00 UTC)), "2026-12-13T00:00:00Z");
        assert!(is_past("2026-12-13T00:00:00Z", datetime!(2026-12-13 00:00:01 UTC)));
        assert!(!is_past("2026-12-13T00:00:00Z", datetime!(2026-12-12 23:59:59 UTC)));
    }

    #[test]
    fn only_the_callers_own_keys_are_signed() {
        let image = |key: &str| KeptImage {
            key: key.to_owned(),
            content_type: "image/png".to_owned(),
            width: 1,
            height: 1,
            bytes: 1,
        };
        assert!(owned_by("abc", &image("results/abc/01K/0.png")));
        assert!(!owned_by("abc", &image("results/abcd/01K/0.png")));
        assert!(!owned_by("ab", &image("results/abc/01K/0.png")));
        assert!(!owned_by("", &image("results//01K/0.png")));
        assert!(!owned_by("a/b", &image("results/a/b/0.png")));
    }

    #[test]
    fn a_data_link_says_what_it_holds() {
        let png = crate::images::made_image(TINY_PNG).expect("a PNG");
        assert_eq!((png.width, png.height, png.content_type), (1, 1, "image/png"));
        let link = data_link(TINY_PNG, 1, 1);
        assert_eq!(link["contentType"], "image/png");
        assert!(link["url"].as_str().is_some_and(|u| u.starts_with("data:image/png;base64,iVBOR")));
        assert_eq!(link["expiresAt"], Value::Null);
        assert_eq!(link["downloadUrl"], Value::Null, "the image is in the answer once");
        assert!(link.to_string().len() < TINY_PNG.len() + 300);
    }

    const TINY_PNG: &str =
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
}
