//! `POST /edits`, `GET /edits`, `GET /edits/{id}`, `DELETE /edits/{id}`.

use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Value, json};

use super::{App, Ctx, Outcome, empty, json_response};
use crate::bedrock::{ImageModel, ModelCallError};
use crate::config::MAX_RESPONSE_BYTES;
use crate::edit_request::{self, EditPlan};
use crate::errors::ApiError;
use crate::images;
use crate::models::{self, AnswerError, ModelOutput};
use crate::record::{EditRecord, Source, Status};
use crate::records::{DEFAULT_PAGE, MAX_PAGE};
use crate::results::KeptImage;

/// A finished edit.
pub(super) struct EditResult {
    pub id: String,
    /// The images as base64: what the seed route answers, and `POST /edits` when none were kept.
    pub images: Vec<String>,
    /// The images in the results bucket (empty when the stack keeps none, or the write failed).
    pub kept: Vec<KeptImage>,
    pub kept_until: Option<String>,
    pub seeds: Vec<u64>,
    pub notices: Vec<String>,
    pub stand_in: bool,
    pub duration_ms: u64,
    pub model_ms: u64,
}

pub(super) async fn create<M: ImageModel>(
    app: &App<M>,
    ctx: &Ctx,
    headers: &lambda_http::http::HeaderMap,
    body: &[u8],
    outcome: &mut Outcome,
) -> Result<Response<Body>, ApiError> {
    let user = ctx.require_user()?;
    let key = crate::idempotency::key_of(headers)?;
    let plan = edit_request::parse_body(body, &app.config)?;
    let operation = plan.operation.as_str();
    let model = plan.model_id.clone();
    let mut id = crate::records::new_edit_id();
    if let Some(key) = &key {
        use crate::idempotency::Claim;
        match app.keys.claim(user, key, &crate::idempotency::digest(body), &id).await? {
            Claim::New => {}
            // The earlier attempt made nothing: this one takes its place in the history.
            Claim::Resumed { edit_id } => id = edit_id,
            Claim::Earlier { edit_id, same_request, claimed_at } => {
                id = earlier(app, user, key, &edit_id, same_request, claimed_at).await?;
            }
        }
    }
    let result = run(app, ctx, user, plan, id.clone(), Source::Edits, outcome).await;
    if let (Some(key), Err(_)) = (&key, &result)
        && !outcome.may_have_made
    {
        // Nothing was made: the same request may run again.
        app.keys.release(user, key, &id).await;
    }
    let mut r = result?;
    let images = answer_images(app, user, &mut r).await;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "id": r.id,
            "images": images,
            "keptUntil": r.kept_until,
            "seeds": r.seeds,
            "model": model,
            "operation": operation,
            "durationMs": r.duration_ms,
            "notices": r.notices,
            "standIn": r.stand_in,
        }),
    ))
}

/// The answer's images: links to the kept images, else `data:` URLs (shrunk to fit Lambda's
/// response limit, as the seed route's base64 is).
async fn answer_images<M: ImageModel>(app: &App<M>, user: &str, r: &mut EditResult) -> Vec<Value> {
    if let Some(results) = &app.results
        && !r.kept.is_empty()
    {
        let links = results.links(user, &r.id, &r.kept, r.kept_until.as_deref()).await;
        if links.len() == r.kept.len() {
            return links;
        }
        tracing::error!(kept = r.kept.len(), linked = links.len(), "kept images could not all be linked");
        let mut out = ModelOutput {
            images: std::mem::take(&mut r.images),
            seeds: Vec::new(),
            notices: Vec::new(),
            stand_in: false,
        };
        fit_response(&mut out, &mut r.notices);
        r.images = out.images;
    }
    r.images
        .iter()
        .map(|b64| {
            let (width, height) = images::made_image(b64).map(|m| (m.width, m.height)).unwrap_or_default();
            crate::results::data_link(b64, width, height)
        })
        .collect()
}

/// Writes the images to the results bucket within what is left of the request's time (plus
/// [`KEEP_RESERVE`]). `None` when the stack keeps none, or the write failed: the answer then
/// carries the images themselves, and a notice says they are not kept.
async fn keep_images<M: ImageModel>(
    app: &App<M>,
    ctx: &Ctx,
    user: &str,
    id: &str,
    images: &[String],
    notices: &mut Vec<String>,
) -> Option<(Vec<KeptImage>, String)> {
    let results = app.results.as_ref().filter(|r| r.keeps())?;
    let made: Option<Vec<images::MadeImage>> = images.iter().map(|b| images::made_image(b)).collect();
    let Some(made) = made else {
        tracing::error!("an image the model made could not be read to keep it");
        return None;
    };
    let now = time::OffsetDateTime::now_utc();
    let budget = (ctx.deadline + KEEP_RESERVE).saturating_duration_since(Instant::now());
    match results.keep(user, id, made, budget).await {
        Ok(kept) => Some((kept, results.kept_until(now))),
        Err(e) => {
            tracing::error!(error = %e, "the images could not be kept");
            notices.push(
                "this result could not be kept in your history (only its thumbnail is); download it now to keep it"
                    .to_owned(),
            );
            None
        }
    }
}

/// The part of [`super::ANSWER_RESERVE`] writing the images may use, before the record's.
const KEEP_RESERVE: std::time::Duration = std::time::Duration::from_millis(500);

/// The answer to a request whose Idempotency-Key an earlier request holds: an error, or the edit id
/// to go on with when the earlier request died before it recorded anything.
async fn earlier<M: ImageModel>(
    app: &App<M>,
    user: &str,
    key: &str,
    edit_id: &str,
    same_request: bool,
    claimed_at: Option<i64>,
) -> Result<String, ApiError> {
    if !same_request {
        return Err(ApiError::validation(
            image_edit_contract::IDEMPOTENCY_KEY_HEADER,
            "this Idempotency-Key was used for another request; use a new key for a new edit",
        ));
    }
    let status = match app.records.get(user, edit_id).await {
        Ok(Some(record)) => record.status,
        Ok(None) => {
            // Claimed, not yet recorded: the first request is just starting — or died before it
            // wrote anything, and this copy goes on in its place.
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            if let Some(at) = claimed_at.filter(|at| now - at > crate::idempotency::ABANDONED_AFTER_SECS)
                && app.keys.take_over(user, key, edit_id, at).await
            {
                return Ok(edit_id.to_owned());
            }
            Status::Running
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the edit an Idempotency-Key names");
            return Err(ApiError::HistoryUnavailable(
                "the earlier request could not be read; try again shortly".to_owned(),
            ));
        }
    };
    if status == Status::Running {
        return Err(ApiError::DuplicateRequest {
            message: format!(
                "this request is already being made (edit {edit_id}); its answer comes to the first request"
            ),
            retry_after_secs: Some(2),
        });
    }
    Err(ApiError::DuplicateRequest {
        message: format!(
            "this request was made already: edit {edit_id} ({status}) is in your history (GET /edits/{edit_id}); \
             nothing was made or counted again"
        ),
        retry_after_secs: None,
    })
}

/// Calls the model for a validated plan and writes the record (whatever the outcome).
pub(super) async fn run<M: ImageModel>(
    app: &App<M>,
    ctx: &Ctx,
    user: &str,
    plan: EditPlan,
    id: String,
    source: Source,
    outcome: &mut Outcome,
) -> Result<EditResult, ApiError> {
    let family = app.config.family;
    outcome.operation = Some(plan.operation.as_str());
    outcome.model = Some(plan.model_id.clone());

    // No model call without a record: the request is recorded as running first; if that write
    // fails, the answer is a 503 and nothing is made (or billed).
    let mut record = EditRecord::running(id.clone(), source, &plan);
    // Today's images, counted before anything is made (a 429 when the user or the stack is over).
    let asked = plan.input.count;
    // The count and the first record share FIRST_WRITE_LIMIT, and never pass the deadline.
    let first_budget = FIRST_WRITE_LIMIT.min(ctx.deadline.saturating_duration_since(Instant::now()));
    let first_until = Instant::now() + first_budget;
    let counted = match tokio::time::timeout(first_budget, app.quota.take(user, asked)).await {
        Ok(counted) => counted?,
        Err(_) => {
            tracing::error!("no answer from DynamoDB within {} ms for today's count", FIRST_WRITE_LIMIT.as_millis());
            return Err(ApiError::HistoryUnavailable(
                "today's image count could not be checked, so the edit was not made; try again shortly".to_owned(),
            ));
        }
    };
    outcome.images_today = Some(counted.stack_today);
    if let Err(failure) = put_first_record(app, ctx, user, &record, first_until).await {
        app.quota.give_back(user, &counted, asked).await;
        outcome.record_write_failed = true;
        tracing::error!(error = %failure, "could not record the request; the model was not called");
        return Err(ApiError::HistoryUnavailable(
            "the edit could not be recorded in your history, so it was not made; try again shortly".to_owned(),
        ));
    }

    let request = models::build_request(family, &plan.model_id, &plan.input);
    outcome.may_have_made = true;
    let model_started = Instant::now();
    // Stop waiting in time to answer a JSON 504 ourselves, before API Gateway's own 504.
    let budget = ctx.deadline.saturating_duration_since(model_started);
    let answer = match tokio::time::timeout(budget, app.model.invoke(&plan.model_id, &request)).await {
        Ok(answer) => answer,
        Err(_) => Err(ModelCallError::Timeout),
    };
    drop(request);
    // Whether Bedrock may have made (and billed) an image: only a refusal before the model ran
    // gives the count back; after a time-out or a cut connection the image may exist.
    let may_be_billed = answer.as_ref().err().is_none_or(ModelCallError::may_have_run);
    outcome.may_have_made = may_be_billed;
    let model_ms = model_started.elapsed().as_secs_f64() * 1000.0;
    outcome.model_ms = Some(model_ms);

    let result: Result<ModelOutput, ApiError> = match answer {
        Ok(body) => models::parse_response(family, &plan.input, &body).map_err(|e| match e {
            AnswerError::Blocked(m) => ApiError::ContentFiltered(m),
            AnswerError::Failed(m) => ApiError::ModelError(m),
        }),
        Err(e) => {
            tracing::warn!(error = %e, model = %plan.model_id, "model call failed");
            Err(e.into_api_error(&plan.model_id, &app.config.bedrock_region))
        }
    };
    record.model_ms = Some(model_ms.round() as u64);

    match result {
        Ok(mut out) => {
            let facts = images::output_facts(&out.images);
            let mut notices = plan.notices;
            notices.append(&mut out.notices);
            let kept = keep_images(app, ctx, user, &id, &out.images, &mut notices).await;
            // Base64 answers (the seed route's, and any when nothing was kept) must fit Lambda's
            // response limit; links are a few hundred bytes each.
            if kept.is_none() || source == Source::Seed {
                fit_response(&mut out, &mut notices);
            }
            let duration_ms = ctx.started.elapsed().as_millis() as u64;
            record.succeeded(&out.seeds, out.images.len(), facts, &notices, duration_ms);
            let (kept, kept_until) = kept.map_or((Vec::new(), None), |(k, until)| (k, Some(until)));
            record.kept = kept.clone();
            record.kept_until = kept_until.clone();
            write_record(app, ctx, user, &record, outcome).await;
            // Counted per image made: what the model did not make is given back.
            let made = u32::try_from(out.images.len()).unwrap_or(asked);
            outcome.images = made;
            if made < asked {
                app.quota.give_back(user, &counted, asked - made).await;
            }
            Ok(EditResult {
                id,
                images: out.images,
                kept,
                kept_until,
                seeds: out.seeds,
                notices,
                stand_in: out.stand_in,
                duration_ms,
                model_ms: model_ms.round() as u64,
            })
        }
        Err(e) => {
            outcome.blocked = e.is_blocked();
            record.failed(&e, ctx.started.elapsed().as_millis() as u64);
            write_record(app, ctx, user, &record, outcome).await;
            if !may_be_billed {
                app.quota.give_back(user, &counted, asked).await;
            }
            Err(e)
        }
    }
}

/// Completes the record. The user gets the images even when this write fails (the record then
/// stays `running`); the failure is logged and counted. The write may use the time left before
/// the deadline (plus the part of the reserve kept for it), never more, so a slow DynamoDB cannot
/// push the answer past API Gateway's timeout.
async fn write_record<M: ImageModel>(app: &App<M>, ctx: &Ctx, user: &str, record: &EditRecord, outcome: &mut Outcome) {
    if let Err(failure) = put_record(app, ctx, user, record, RECORD_RESERVE).await {
        outcome.record_write_failed = true;
        tracing::error!(error = %failure, "could not complete the edit record");
    }
}

/// How long the first write may take: DynamoDB answers in milliseconds, and the rest of the
/// request's time belongs to the model.
const FIRST_WRITE_LIMIT: std::time::Duration = std::time::Duration::from_secs(3);

async fn put_first_record<M: ImageModel>(
    app: &App<M>,
    ctx: &Ctx,
    user: &str,
    record: &EditRecord,
    until: Instant,
) -> Result<(), String> {
    let budget = until.saturating_duration_since(Instant::now());
    match tokio::time::timeout(budget, put_record(app, ctx, user, record, std::time::Duration::ZERO)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer from DynamoDB within {} ms", FIRST_WRITE_LIMIT.as_millis())),
    }
}

/// One bounded PutItem: at most until the deadline plus `extra`.
async fn put_record<M: ImageModel>(
    app: &App<M>,
    ctx: &Ctx,
    user: &str,
    record: &EditRecord,
    extra: std::time::Duration,
) -> Result<(), String> {
    let budget = (ctx.deadline + extra).saturating_duration_since(Instant::now());
    match tokio::time::timeout(budget, app.records.put(user, record)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer from DynamoDB within {} ms (the request's deadline)", budget.as_millis())),
    }
}

/// The part of [`super::ANSWER_RESERVE`] the record write may use; the rest is for the answer.
const RECORD_RESERVE: std::time::Duration = std::time::Duration::from_millis(1000);

/// Keeps the answer under Lambda's 6 MB response limit: large PNGs become JPEGs; if that is not
/// enough, trailing images are left out; if one JPEG alone is still too large, it is scaled down.
/// Each step is reported in `notices`.
fn fit_response(out: &mut ModelOutput, notices: &mut Vec<String>) {
    if response_size(&out.images) <= MAX_RESPONSE_BYTES {
        return;
    }
    let mut converted = 0;
    for img in &mut out.images {
        if let Some(jpeg) = to_jpeg(img, 1.0) {
            *img = jpeg;
            converted += 1;
        }
    }
    if converted > 0 {
        notices.push(format!(
            "{converted} image(s) sent as JPEG to fit the 6 MB response limit; ask for fewer or smaller images for PNG"
        ));
    }
    let before = out.images.len();
    while out.images.len() > 1 && response_size(&out.images) > MAX_RESPONSE_BYTES {
        out.images.pop();
    }
    if out.images.len() < before {
        // One seed per image (Stability) follows the images; a single request seed stays.
        if out.seeds.len() == before {
            out.seeds.truncate(out.images.len());
        }
        notices.push(format!(
            "{} of {before} images left out: the response would exceed the 6 MB limit; ask for fewer images",
            before - out.images.len()
        ));
    }
    // One image still too large: scale it by the square root of the excess (JPEG size follows the
    // pixel count), with a margin, until it fits.
    let mut scale = 1.0f64;
    let original = out.images.first().cloned().unwrap_or_default();
    while response_size(&out.images) > MAX_RESPONSE_BYTES && scale > 0.05 {
        let excess = MAX_RESPONSE_BYTES as f64 / response_size(&out.images) as f64;
        scale *= excess.sqrt() * 0.9;
        match to_jpeg(&original, scale) {
            Some(smaller) => out.images[0] = smaller,
            None => break,
        }
    }
    if scale < 1.0 {
        notices
            .push(format!("the image was scaled to {:.0}% of its size to fit the 6 MB response limit", scale * 100.0));
    }
}

/// The answer's size for these images: their base64, quoted, plus room for the rest of the body.
fn response_size(imgs: &[String]) -> usize {
    imgs.iter().map(|s| s.len() + 3).sum::<usize>() + 16 * 1024
}

/// The image as a JPEG (quality 90), scaled by `scale` (≤ 1).
fn to_jpeg(b64: &str, scale: f64) -> Option<String> {
    let bytes = STANDARD.decode(b64).ok()?;
    let mut img = image::load_from_memory(&bytes).ok()?;
    if scale < 1.0 {
        let w = ((f64::from(img.width()) * scale).round() as u32).max(1);
        let h = ((f64::from(img.height()) * scale).round() as u32).max(1);
        img = img.resize_exact(w, h, image::imageops::FilterType::Triangle);
    }
    let rgb = img.to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&rgb).ok()?;
    Some(STANDARD.encode(jpeg))
}

pub(super) async fn list<M: ImageModel>(app: &App<M>, ctx: &Ctx, req: &Request) -> Result<Response<Body>, ApiError> {
    let user = ctx.require_user()?;
    let query = req.query_string_parameters_ref();
    let limit =
        match query.and_then(|q| q.first("limit")) {
            None | Some("") => DEFAULT_PAGE,
            Some(s) => s.parse::<u32>().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| {
                ApiError::validation("limit", format!("limit must be an integer from 1 to {MAX_PAGE}"))
            })?,
        };
    let cursor = query.and_then(|q| q.first("cursor")).filter(|c| !c.is_empty());
    let page = app.records.list(user, limit, cursor).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for record in &page.items {
        items.push(view(app, user, record).await);
    }
    Ok(json_response(StatusCode::OK, &json!({"items": items, "nextCursor": page.next_cursor})))
}

pub(super) async fn get<M: ImageModel>(app: &App<M>, ctx: &Ctx, id: &str) -> Result<Response<Body>, ApiError> {
    let user = ctx.require_user()?;
    match app.records.get(user, id).await? {
        Some(record) => Ok(json_response(StatusCode::OK, &view(app, user, &record).await)),
        None => Err(ApiError::NotFound(format!("no edit {id}"))),
    }
}

/// A record as the history answers it, with fresh links to its kept images. Presigning is
/// computed here (no call to S3), so a page of 50 records costs no more round trips.
async fn view<M: ImageModel>(app: &App<M>, user: &str, record: &EditRecord) -> Value {
    let links = match &app.results {
        Some(results) if !record.kept.is_empty() => {
            results.links(user, &record.id, &record.kept, record.kept_until.as_deref()).await
        }
        _ => Vec::new(),
    };
    record.view(links)
}

/// Deletes the record, then its kept images: the person's "delete" deletes the picture too.
pub(super) async fn delete<M: ImageModel>(app: &App<M>, ctx: &Ctx, id: &str) -> Result<Response<Body>, ApiError> {
    let user = ctx.require_user()?;
    match app.records.delete(user, id).await? {
        Some(record) => {
            if let Some(results) = &app.results {
                results.forget(user, &record.kept).await;
            }
            Ok(empty(StatusCode::NO_CONTENT))
        }
        None => Err(ApiError::NotFound(format!("no edit {id}"))),
    }
}
