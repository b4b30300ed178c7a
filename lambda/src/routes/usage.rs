//! `GET /usage`: what the signed-in user and the whole app have made today, out of the daily
//! limits (`limits.*` in the stack file), so the web app can say how many images are left before
//! anyone meets a 429 `quota_exceeded`. Read-only: the counts are taken by `POST /edits`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{App, Ctx, json_response};
use crate::bedrock::ImageModel;
use crate::errors::ApiError;
use crate::quota::{Limits, Usage, seconds_to_midnight, today};

/// The answer for counts `usage` under `limits` at `now` (docs/openapi.yaml, `Usage`).
pub(crate) fn document(usage: Usage, limits: Limits, now: OffsetDateTime) -> Value {
    let part = |used: u32, limit: u32| json!({"used": used, "limit": limit, "left": limit.saturating_sub(used)});
    let left = limits.per_user.saturating_sub(usage.user_today).min(limits.per_stack.saturating_sub(usage.stack_today));
    let resets = now.replace_time(time::Time::MIDNIGHT) + time::Duration::days(1);
    json!({
        "day": today(now),
        "resetsAt": resets.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "secondsToReset": seconds_to_midnight(now),
        "left": left,
        "user": part(usage.user_today, limits.per_user),
        "app": part(usage.stack_today, limits.per_stack),
    })
}

pub(super) async fn get<M: ImageModel>(app: &App<M>, ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    let user = ctx.require_user()?;
    let usage = app.quota.usage(user).await?;
    Ok(json_response(StatusCode::OK, &document(usage, app.quota.limits, OffsetDateTime::now_utc())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_is_the_tighter_of_the_two_limits() {
        let now = time::macros::datetime!(2026-12-02 23:00:00 UTC);
        let limits = Limits { per_user: 50, per_stack: 500 };
        let d = document(Usage { user_today: 3, stack_today: 498 }, limits, now);
        assert_eq!(d["left"], 2);
        assert_eq!(d["user"], json!({"used": 3, "limit": 50, "left": 47}));
        assert_eq!(d["app"], json!({"used": 498, "limit": 500, "left": 2}));
        assert_eq!(d["day"], "2026-12-02");
        assert_eq!(d["resetsAt"], "2026-12-03T00:00:00Z");
        assert_eq!(d["secondsToReset"], 3600);
        // Over the limit (a limit lowered during the day): nothing left, never negative.
        let d = document(Usage { user_today: 60, stack_today: 10 }, limits, now);
        assert_eq!(d["left"], 0);
        assert_eq!(d["user"]["left"], 0);
    }
}
