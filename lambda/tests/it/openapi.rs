//! docs/openapi.yaml documents exactly the routes the function serves, and what the function
//! answers matches the document's shapes where it matters most.

use crate::common;

use std::collections::BTreeSet;

use common::*;
use image_edit_lambda::ROUTES;
use image_edit_lambda::edit_request::{EditOptions, EditRequest};
use image_edit_lambda::models::Extents;
use image_edit_lambda::record::{Dimensions, EditRecord, OptionsUsed, RecordOptions, Source, Status};
use image_edit_lambda::results::KeptImage;
use image_edit_lambda::sent::field_names;
use serde_json::{Value, json};

pub fn document() -> Value {
    let path = common::root().join("docs/openapi.yaml");
    let text = std::fs::read_to_string(path).expect("docs/openapi.yaml");
    serde_norway::from_str(&text).expect("valid YAML")
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head"];

#[test]
fn documented_routes_are_the_served_routes() {
    let doc = document();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.0")));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if METHODS.contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let served: BTreeSet<(String, String)> = ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    assert_eq!(documented, served);
}

#[test]
fn security_is_the_cognito_id_token_in_authorization() {
    let doc = document();
    let scheme = &doc["components"]["securitySchemes"]["cognitoIdToken"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], "Authorization");
    assert_eq!(doc["security"][0]["cognitoIdToken"], serde_json::json!([]));
}

#[test]
fn every_error_code_the_function_uses_is_documented() {
    let doc = document();
    let codes: BTreeSet<&str> =
        doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
            .as_array()
            .expect("codes")
            .iter()
            .filter_map(Value::as_str)
            .collect();
    for code in image_edit_lambda::errors::ApiError::CODES {
        assert!(codes.contains(code), "{code} is not in docs/openapi.yaml's Error.code enum");
    }
}

#[tokio::test]
async fn capabilities_have_the_documented_required_fields() {
    let doc = document();
    let required = |schema: &str| -> Vec<String> {
        doc["components"]["schemas"][schema]["required"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    for family in ["stability"] {
        let app = app(family, FakeModel::ok(family, 8, 8));
        let resp = app.handle(event("GET", "/capabilities", "/capabilities", None, Some("user-a"))).await;
        assert_eq!(status(&resp), 200);
        let caps = json_body(&resp);
        for field in required("Capabilities") {
            assert!(caps.get(&field).is_some(), "{family}: {field}");
        }
        assert_eq!(caps["family"], family);
        let ops = caps["operations"].as_array().expect("operations");
        assert!(!ops.is_empty());
        for op in ops {
            for field in ["name", "prompt", "mask", "maskPrompt", "model"] {
                assert!(op.get(field).is_some(), "{family}: {field}");
            }
        }
    }
}

/// What is wrong with `value` as the document's schema `name` (`components/schemas/<name>`): empty
/// when nothing is.
pub fn problems(doc: &Value, name: &str, value: &Value) -> Vec<String> {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name}");
    let mut out = Vec::new();
    check(doc, schema, value, name, &mut out);
    out
}

/// Checks `value` against `schema` in the subset of OpenAPI 3.0 the document uses: `$ref`, `type`,
/// `nullable`, `enum`, `required`, `properties`, `additionalProperties: false`, `items`, `allOf`,
/// `anyOf`, `oneOf`, `minimum`, `maximum` and `format: date-time`.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let path = target.strip_prefix("#/").expect("a reference within the document");
        let referenced = path.split('/').fold(doc, |v, key| &v[key]);
        assert!(referenced.is_object(), "{target} names nothing");
        return check(doc, referenced, value, at, out);
    }
    if value.is_null() && schema["nullable"] == true {
        return;
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check(doc, part, value, at, out);
    }
    for (key, at_least, at_most) in [("anyOf", 1, usize::MAX), ("oneOf", 1, 1)] {
        if let Some(parts) = schema[key].as_array() {
            let fitting = parts
                .iter()
                .filter(|part| {
                    let mut problems = Vec::new();
                    check(doc, part, value, at, &mut problems);
                    problems.is_empty()
                })
                .count();
            if !(at_least..=at_most).contains(&fitting) {
                out.push(format!("{at}: {value} fits {fitting} of the {key} schemas"));
            }
        }
    }
    let fits_type = match schema["type"].as_str() {
        None => !value.is_null() || schema.get("allOf").is_some(),
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some(other) => panic!("{at}: type {other}"),
    };
    if !fits_type {
        out.push(format!("{at}: {value} is not of type {}", schema["type"]));
        return;
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {}", schema["enum"]));
    }
    if let Some(x) = value.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|min| x < min) {
            out.push(format!("{at}: {x} is below {}", schema["minimum"]));
        }
        if schema["maximum"].as_f64().is_some_and(|max| x > max) {
            out.push(format!("{at}: {x} is above {}", schema["maximum"]));
        }
    }
    if schema["format"] == "date-time"
        && let Some(s) = value.as_str()
        && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_err()
    {
        out.push(format!("{at}: {s} is not an RFC 3339 date-time"));
    }
    if let Some(object) = value.as_object() {
        let properties = schema["properties"].as_object();
        for key in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(key) {
                out.push(format!("{at}: {key} is required"));
            }
        }
        for (key, v) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(property) => check(doc, property, v, &format!("{at}.{key}"), out),
                None if schema["additionalProperties"] == false => {
                    out.push(format!("{at}: {key} is not a documented field"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            check(doc, items, v, &format!("{at}[{i}]"), out);
        }
    }
}

/// The keys of `schema`'s documented properties.
fn documented(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"].as_object().expect("properties").keys().cloned().collect()
}

/// A record with every field given: an upscale (`upscaler`) or an outpaint (`extents`, and a
/// generator it would not have, to give every option).
fn full_record(outpaint: bool) -> EditRecord {
    let options = OptionsUsed {
        seed: Some(4_294_967_294),
        count: 1,
        upscaler: (!outpaint).then(|| "conservative".to_owned()),
        generator: outpaint.then(|| "sd3.5-large".to_owned()),
        strength: Some(0.35),
        extents: outpaint.then_some(Extents { left: 0, right: 256, up: 2000, down: 0 }),
    };
    EditRecord {
        id: image_edit_lambda::records::new_edit_id(),
        created_at: "2026-11-25T15:09:10Z".to_owned(),
        source: Some(Source::Edits),
        operation: if outpaint { "outpaint" } else { "upscale" }.to_owned(),
        prompt: Some("a sharp photo".to_owned()),
        negative_prompt: Some("blurry".to_owned()),
        mask_prompt: Some("the cat".to_owned()),
        model: "us.stability.stable-conservative-upscale-v1:0".to_owned(),
        input: Some(Dimensions { width: 512, height: 384, bytes: 48_213, count: None }),
        options: Some(RecordOptions::Used(options)),
        status: Status::Succeeded,
        error_code: Some("content_filtered".to_owned()),
        seeds: vec![4_294_967_294],
        duration_ms: Some(5210),
        model_ms: Some(4987),
        output: Some(Dimensions { width: 2048, height: 1536, bytes: 9_437_184, count: Some(1) }),
        thumbnail: Some("data:image/jpeg;base64,/9j/4AAQ".to_owned()),
        notices: vec!["image resized to 1024×768 to fit the model (was 4032×3024)".to_owned()],
        kept: vec![KeptImage {
            key: "results/sub/01KAB3VQ3M2J8Y5X6Z7W8V9T0S/0.png".to_owned(),
            content_type: "image/png".to_owned(),
            width: 2048,
            height: 1536,
            bytes: 9_437_184,
        }],
        kept_until: Some("2026-12-02T00:00:00Z".to_owned()),
    }
}

/// A kept image's link as `Results::links` answers it.
fn link() -> Value {
    json!({
        "url": "https://dev-results-123456789012-us-west-2.s3.us-west-2.amazonaws.com/results/sub/01K/0.png?X-Amz-Signature=0",
        "downloadUrl": "https://dev-results-123456789012-us-west-2.s3.us-west-2.amazonaws.com/results/sub/01K/0.png?response-content-disposition=attachment",
        "contentType": "image/png", "width": 2048, "height": 1536, "bytes": 9_437_184,
        "expiresAt": "2026-11-25T16:09:10Z",
    })
}

/// The least a record the history reads may hold.
fn minimal_record() -> EditRecord {
    EditRecord {
        id: image_edit_lambda::records::new_edit_id(),
        created_at: "2026-11-25T15:09:10Z".to_owned(),
        source: None,
        operation: "generate".to_owned(),
        prompt: None,
        negative_prompt: None,
        mask_prompt: None,
        model: "stability.stable-image-core-v1:1".to_owned(),
        input: None,
        options: None,
        status: Status::Running,
        error_code: None,
        seeds: vec![],
        duration_ms: None,
        model_ms: None,
        output: None,
        thumbnail: None,
        notices: vec![],
        kept: vec![],
        kept_until: None,
    }
}

/// The history item the function writes and answers is the document's `EditRecord`, field for
/// field, and its options the document's `EditOptionsUsed`.
#[test]
fn edit_records_are_the_documented_history_items() {
    let doc = document();
    let mut as_sent = minimal_record();
    as_sent.options =
        Some(RecordOptions::AsSent(json!({"seed": 5, "quality": "premium"}).as_object().cloned().expect("an object")));
    for record in [full_record(false), full_record(true), minimal_record(), as_sent] {
        let value = record.view(record.kept.iter().map(|_| link()).collect());
        assert_eq!(problems(&doc, "EditRecord", &value), Vec::<String>::new(), "{value}");
        assert!(value.get("kept").is_none(), "the history never shows the bucket's keys: {value}");
    }
    // Every field the history answers is documented, and every documented field is one it answers.
    let written: BTreeSet<String> =
        full_record(true).view(vec![link()]).as_object().expect("object").keys().cloned().collect();
    assert_eq!(written, documented(&doc, "EditRecord"));
    // The options the function writes are `EditOptionsUsed` (the record's `anyOf` also takes any
    // object: older records' options as sent).
    let mut options_written = BTreeSet::new();
    for outpaint in [false, true] {
        let Some(options) = full_record(outpaint).options else { panic!("options") };
        let value = serde_json::to_value(&options).expect("serializes");
        assert_eq!(problems(&doc, "EditOptionsUsed", &value), Vec::<String>::new(), "{value}");
        options_written.extend(value.as_object().expect("object").keys().cloned());
    }
    assert_eq!(options_written, documented(&doc, "EditOptionsUsed"));

    // The checks find what is wrong.
    let mut wrong = full_record(false).view(vec![]);
    wrong["status"] = json!("lost");
    wrong["input"] = json!({"width": 1});
    wrong["createdAt"] = json!("yesterday");
    wrong["seeds"] = json!([1.5]);
    wrong.as_object_mut().expect("object").remove("model");
    assert_eq!(
        problems(&doc, "EditRecord", &wrong),
        [
            "EditRecord: model is required",
            "EditRecord.createdAt: yesterday is not an RFC 3339 date-time",
            "EditRecord.input: height is required",
            "EditRecord.input: bytes is required",
            "EditRecord.status: \"lost\" is not one of [\"running\",\"succeeded\",\"blocked\",\"failed\"]",
            "EditRecord.seeds[0]: 1.5 is not of type \"integer\"",
        ]
    );
    assert_eq!(
        problems(&doc, "EditOptionsUsed", &json!({"count": 0, "upscaler": "huge", "colour": "red"})),
        [
            "EditOptionsUsed.count: 0 is below 1",
            "EditOptionsUsed.upscaler: \"huge\" is not one of [\"fast\",\"conservative\",\"creative\"]",
            "EditOptionsUsed: colour is not a documented field",
        ]
    );
}

/// The request's fields, as the function's types list them, are the document's.
#[test]
fn edit_requests_have_the_documented_fields() {
    let doc = document();
    let names = |fields: &[&str]| fields.iter().map(|f| (*f).to_owned()).collect::<BTreeSet<String>>();
    assert_eq!(names(field_names::<EditRequest>()), documented(&doc, "EditRequest"));
    assert_eq!(names(field_names::<EditOptions>()), documented(&doc, "EditOptions"));
}
