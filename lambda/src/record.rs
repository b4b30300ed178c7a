//! One edit's record: an item of the history (docs/openapi.yaml `EditRecord`). It is written as
//! `running` before the model is called ([`EditRecord::running`]) and completed after
//! ([`EditRecord::succeeded`], [`EditRecord::failed`]); `GET /edits`, `GET /edits/{id}` and a
//! repeated `Idempotency-Key` read it back. [`crate::records`] stores its JSON in DynamoDB,
//! attribute by attribute.
//!
//! Every field is written, an absent value as null (NULL in DynamoDB), as records always were.
//! Reading is lenient where records this API wrote earlier differ: options stored as sent (before
//! they were validated) are kept as they are, and fields the history can do without may be missing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::edit_request::EditPlan;
use crate::errors::ApiError;
use crate::images::OutputFacts;
use crate::models::Extents;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditRecord {
    /// A ULID (see [`crate::records::new_edit_id`]).
    pub id: String,
    /// When the request was recorded: `2026-11-25T15:09:10Z`.
    pub created_at: String,
    /// The contract the request came through (always written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The operation's name. Text, not [`crate::models::Operation`]: a record outlives the
    /// operations of the build that wrote it.
    pub operation: String,
    pub prompt: Option<String>,
    pub negative_prompt: Option<String>,
    pub mask_prompt: Option<String>,
    /// The model id or inference profile the request went to.
    pub model: String,
    /// The uploaded image as the user saw it; `None` for `generate`.
    pub input: Option<Dimensions>,
    /// Always written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<RecordOptions>,
    pub status: Status,
    /// The API error code when not succeeded.
    pub error_code: Option<String>,
    /// The seed sent while running or after a failure; one per image after success.
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// The whole request, once completed.
    pub duration_ms: Option<u64>,
    /// The model call, once it answered (or failed).
    pub model_ms: Option<u64>,
    pub output: Option<Dimensions>,
    /// `data:image/jpeg;base64,…`, at most 128 px on the long side.
    pub thumbnail: Option<String>,
    /// What was adjusted (resizing, ignored fields, JPEG fallback).
    #[serde(default)]
    pub notices: Vec<String>,
    /// The images kept in the results bucket (the history answers links to them, never the keys).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<crate::results::KeptImage>,
    /// When the bucket's lifecycle rule deletes them: `2026-12-13T00:00:00Z`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_until: Option<String>,
}

/// The contract a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// `POST /edits`.
    Edits,
    /// `POST /`, the seed app's contract.
    Seed,
}

/// Where an edit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Recorded before the model was called and not completed yet (or the function stopped
    /// before it could complete the record).
    Running,
    Succeeded,
    /// Refused by the content filter.
    Blocked,
    Failed,
}

impl Status {
    /// The name the record holds (its serde name; a test keeps the two equal).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Blocked => "blocked",
            Status::Failed => "failed",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The size of an image (or of the outputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
    /// Decoded bytes (of all the outputs).
    pub bytes: u64,
    /// Outputs only: how many images were made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// A record's `options`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordOptions {
    Used(OptionsUsed),
    /// What records written before options were validated hold: the caller's options as sent.
    /// Kept as they are (a key [`OptionsUsed`] does not have makes a record this).
    AsSent(Map<String, Value>),
}

/// The options the model was asked for, as validated (docs/openapi.yaml `EditOptionsUsed`):
/// what the history shows, never the caller's raw JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OptionsUsed {
    /// The seed sent; `None` when the operation takes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    pub count: u32,
    /// `upscale`'s model (`Choice::value`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upscaler: Option<String>,
    /// `generate`'s model (`Choice::value`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    /// The operation's strength setting (its default when not given); `None` when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<f64>,
    /// Outpaint only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extents: Option<Extents>,
}

impl EditRecord {
    /// A deleted record DynamoDB did not hand back readable: nothing of it is known but its id.
    pub fn gone(id: &str) -> Self {
        EditRecord {
            id: id.to_owned(),
            created_at: String::new(),
            source: None,
            operation: String::new(),
            prompt: None,
            negative_prompt: None,
            mask_prompt: None,
            model: String::new(),
            input: None,
            options: None,
            status: Status::Failed,
            error_code: None,
            seeds: Vec::new(),
            duration_ms: None,
            model_ms: None,
            output: None,
            thumbnail: None,
            notices: Vec::new(),
            kept: Vec::new(),
            kept_until: None,
        }
    }

    /// The record as the history answers it (docs/openapi.yaml `EditRecord`): the kept images as
    /// `results` links (`crate::results::Results::links`), never their keys.
    pub fn view(&self, results: Vec<Value>) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or_else(|_| Value::Object(Map::new()));
        if let Value::Object(fields) = &mut value {
            fields.remove("kept");
            fields.insert("results".to_owned(), Value::Array(results));
            fields.entry("keptUntil").or_insert(Value::Null);
        }
        value
    }

    /// The record of a validated request about to go to the model.
    pub fn running(id: String, source: Source, plan: &EditPlan) -> Self {
        EditRecord {
            id,
            created_at: now_rfc3339(),
            source: Some(source),
            operation: plan.operation.as_str().to_owned(),
            prompt: plan.input.prompt.clone(),
            negative_prompt: plan.input.negative_prompt.clone(),
            mask_prompt: plan.input.mask_prompt.clone(),
            model: plan.model_id.clone(),
            input: plan.source.as_ref().map(|s| Dimensions {
                width: s.source_width,
                height: s.source_height,
                bytes: s.source_bytes as u64,
                count: None,
            }),
            options: Some(RecordOptions::Used(plan.options_used.clone())),
            status: Status::Running,
            error_code: None,
            seeds: plan.input.seed.into_iter().collect(),
            duration_ms: None,
            model_ms: None,
            output: None,
            thumbnail: None,
            notices: plan.notices.clone(),
            kept: Vec::new(),
            kept_until: None,
        }
    }

    /// The model made `count` images (`facts`), with these seeds; `notices` are all of them.
    pub fn succeeded(&mut self, seeds: &[u64], count: usize, facts: OutputFacts, notices: &[String], duration_ms: u64) {
        self.status = Status::Succeeded;
        self.error_code = None;
        self.seeds = seeds.to_vec();
        self.duration_ms = Some(duration_ms);
        self.output = Some(Dimensions {
            width: facts.width,
            height: facts.height,
            bytes: facts.bytes as u64,
            count: Some(count as u64),
        });
        self.thumbnail = facts.thumbnail;
        self.notices = notices.to_vec();
    }

    /// The request ended in `error`. The seeds, notices, output and thumbnail stay as recorded
    /// while running: the request's seed and notices, nothing made.
    pub fn failed(&mut self, error: &ApiError, duration_ms: u64) {
        self.status = if error.is_blocked() { Status::Blocked } else { Status::Failed };
        self.error_code = Some(error.code().to_owned());
        self.duration_ms = Some(duration_ms);
    }
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    now.format(&fmt).unwrap_or_else(|_| now.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A record as every field is written: all 18 keys, absent values as null (DynamoDB NULL).
    #[test]
    fn a_running_record_is_stored_as_it_always_was() {
        let record = EditRecord {
            id: "01KAB3VQ3M2J8Y5X6Z7W8V9T0S".to_owned(),
            created_at: "2026-11-25T15:09:10Z".to_owned(),
            source: Some(Source::Seed),
            operation: "inpaint".to_owned(),
            prompt: Some("a red car".to_owned()),
            negative_prompt: None,
            mask_prompt: None,
            model: "stability.stable-image-inpaint-v1:0".to_owned(),
            input: Some(Dimensions { width: 320, height: 240, bytes: 1234, count: None }),
            options: Some(RecordOptions::Used(OptionsUsed {
                seed: Some(77),
                count: 1,
                upscaler: None,
                generator: None,
                strength: None,
                extents: None,
            })),
            status: Status::Running,
            error_code: None,
            seeds: vec![77],
            duration_ms: None,
            model_ms: None,
            output: None,
            thumbnail: None,
            notices: vec![],
            kept: vec![],
            kept_until: None,
        };
        let text = serde_json::to_string(&record).expect("serializes");
        assert_eq!(
            text,
            json!({
                "id": "01KAB3VQ3M2J8Y5X6Z7W8V9T0S", "createdAt": "2026-11-25T15:09:10Z", "source": "seed",
                "operation": "inpaint", "prompt": "a red car", "negativePrompt": null, "maskPrompt": null,
                "model": "stability.stable-image-inpaint-v1:0", "input": {"width": 320, "height": 240, "bytes": 1234},
                "options": {"seed": 77, "count": 1}, "status": "running", "errorCode": null, "seeds": [77],
                "durationMs": null, "modelMs": null, "output": null, "thumbnail": null, "notices": []
            })
            .to_string(),
            "the keys and their order of the json! literal the record used to be"
        );
        let back: EditRecord = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back, record);
    }

    #[test]
    fn options_stored_as_sent_read_as_they_are() {
        let old = json!({"seed": 5, "quality": "premium", "cfgScale": 6.5});
        let options: RecordOptions = serde_json::from_value(old.clone()).expect("any object");
        assert!(matches!(options, RecordOptions::AsSent(_)));
        assert_eq!(serde_json::to_value(&options).expect("serializes"), old);
        // The options of today's records are the typed ones.
        let used = json!({"seed": 8, "count": 1, "upscaler": "conservative", "strength": 0.35});
        let options: RecordOptions = serde_json::from_value(used.clone()).expect("used");
        assert!(matches!(&options, RecordOptions::Used(o) if o.upscaler.as_deref() == Some("conservative")));
        assert_eq!(serde_json::to_value(&options).expect("serializes"), used);
    }

    #[test]
    fn status_names_are_the_serde_names() {
        for s in [Status::Running, Status::Succeeded, Status::Blocked, Status::Failed] {
            assert_eq!(serde_json::to_value(s).expect("serializes"), json!(s.as_str()));
        }
    }
}
