//! Against a real DynamoDB API (moto server): records are written, history paginates newest
//! first, user B can neither read nor delete user A's edits, and the seed contract answers in the
//! seed's shape. One moto server for the whole file (a single test drives every scenario, so
//! the server is stopped when it ends); each scenario uses its own table.

use crate::common;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use common::*;
use image_edit_lambda::App;
use localcloud::moto::MotoServer;
use serde_json::{Value, json};

#[tokio::test]
async fn against_moto() {
    let root = common::root();
    let logs = std::env::temp_dir().join(format!("imgedit-lambda-tests-{}", std::process::id()));
    std::fs::create_dir_all(&logs).expect("log dir");
    let server = MotoServer::start(&root, &logs, false).await.expect("moto server");
    let endpoint = server.endpoint.as_str();
    the_record_is_written(endpoint).await;
    blocked_and_failed_requests_are_recorded_too(endpoint).await;
    history_paginates_newest_first(endpoint).await;
    user_b_cannot_read_or_delete_user_a_edits(endpoint).await;
    the_seed_contract_returns_the_seed_shape(endpoint).await;
    a_failing_store_means_no_model_call(endpoint).await;
    an_item_that_is_not_a_record_is_skipped(endpoint).await;
    daily_quotas_hold_under_concurrency(endpoint).await;
    an_idempotency_key_makes_one_edit(endpoint).await;
    kept_results_are_links_only_their_owner_gets(endpoint).await;
    drop(server);
}

fn dynamodb(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// A fresh table and an app on it (each test its own table, so tests may run in parallel).
async fn setup(
    endpoint: &str,
    family: &'static str,
    model: FakeModel,
) -> (App<FakeModel>, aws_sdk_dynamodb::Client, String) {
    let client = dynamodb(endpoint);
    let table = format!("edits-{}", ulid::Ulid::new().to_string().to_lowercase());
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("userId")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attr"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attr"),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("userId").key_type(KeyType::Hash).build().expect("key"))
        .key_schema(KeySchemaElement::builder().attribute_name("id").key_type(KeyType::Range).build().expect("key"))
        .send()
        .await
        .expect("create table");
    let app = App::new(config_with(family, &table), model, client.clone());
    (app, client, table)
}

fn inpaint(prompt: &str) -> Value {
    json!({"operation": "inpaint", "prompt": prompt, "negativePrompt": "blurry", "image": png_b64(320, 240),
           "mask": mask_b64(320, 240, (10, 10, 100, 100)), "options": {"seed": 77}})
}

async fn create(app: &App<FakeModel>, user: &str, prompt: &str) -> String {
    let resp = app.handle(event("POST", "/edits", "/edits", Some(&inpaint(prompt).to_string()), Some(user))).await;
    assert_eq!(status(&resp), 200, "{}", json_body(&resp));
    json_body(&resp)["id"].as_str().expect("id").to_owned()
}

async fn get(app: &App<FakeModel>, user: &str, id: &str) -> (u16, Value) {
    let resp = app.handle(event("GET", "/edits/{id}", &format!("/edits/{id}"), None, Some(user))).await;
    (status(&resp), json_body(&resp))
}

async fn the_record_is_written(endpoint: &str) {
    let (app, client, table) = setup(endpoint, "stability", FakeModel::ok("stability", 320, 240)).await;
    let id = create(&app, "user-a", "a red car").await;
    let (s, item) = get(&app, "user-a", &id).await;
    assert_eq!(s, 200, "{item}");
    assert_eq!(item["id"], id);
    assert_eq!(item["operation"], "inpaint");
    assert_eq!(item["prompt"], "a red car");
    assert_eq!(item["negativePrompt"], "blurry");
    assert_eq!(item["model"], "stability.stable-image-inpaint-v1:0");
    assert_eq!(item["seeds"], json!([77]));
    assert_eq!(item["status"], "succeeded");
    assert_eq!(item["errorCode"], Value::Null);
    assert_eq!(item["input"]["width"], 320);
    assert_eq!(item["input"]["height"], 240);
    assert!(item["input"]["bytes"].as_u64().is_some_and(|b| b > 0));
    assert_eq!(item["output"]["count"], 1);
    assert_eq!(item["output"]["width"], 320);
    assert_eq!(item["options"], json!({"seed": 77, "count": 1}), "the options as used, not as sent");
    assert!(item["durationMs"].as_u64().is_some());
    assert!(item.get("userId").is_none(), "the user id is not echoed");
    let doc = crate::openapi::document();
    assert_eq!(crate::openapi::problems(&doc, "EditRecord", &item), Vec::<String>::new(), "{item}");
    let thumb = item["thumbnail"].as_str().expect("thumbnail");
    let b64 = thumb.strip_prefix("data:image/jpeg;base64,").expect("jpeg data URL");
    let t = decode_b64(b64);
    assert!(t.width().max(t.height()) <= 128);
    assert!(b64.len() < 12_000, "a few KB, got {}", b64.len());
    // The item in the table is keyed by the authorizer's sub.
    let raw = client
        .get_item()
        .table_name(&table)
        .key("userId", aws_sdk_dynamodb::types::AttributeValue::S("user-a".into()))
        .key("id", aws_sdk_dynamodb::types::AttributeValue::S(id.clone()))
        .send()
        .await
        .expect("get_item");
    assert!(raw.item.is_some());
}

async fn blocked_and_failed_requests_are_recorded_too(endpoint: &str) {
    let model = FakeModel::answering(
        json!({"seeds": [1], "finish_reasons": ["Filter reason: prompt"], "images": [png_b64(8, 8)]}),
    );
    let (app, _, _) = setup(endpoint, "stability", model).await;
    let resp = app.handle(event("POST", "/edits", "/edits", Some(&inpaint("bad").to_string()), Some("user-a"))).await;
    assert_eq!(status(&resp), 422);
    let list = app.handle(event("GET", "/edits", "/edits", None, Some("user-a"))).await;
    let items = json_body(&list)["items"].clone();
    assert_eq!(items.as_array().map(Vec::len), Some(1), "{items}");
    assert_eq!(items[0]["status"], "blocked");
    assert_eq!(items[0]["errorCode"], "content_filtered");
    assert_eq!(items[0]["thumbnail"], Value::Null);
    let doc = crate::openapi::document();
    assert_eq!(crate::openapi::problems(&doc, "EditRecord", &items[0]), Vec::<String>::new(), "{items}");
}

async fn history_paginates_newest_first(endpoint: &str) {
    let (app, _, _) = setup(endpoint, "stability", FakeModel::ok("stability", 320, 240)).await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create(&app, "user-a", &format!("edit {i}")).await);
    }
    create(&app, "user-b", "someone else's").await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut q = vec![("limit", "2")];
        if let Some(c) = &cursor {
            q.push(("cursor", c.as_str()));
        }
        let resp = app.handle(event_with_query("GET", "/edits", "/edits", None, Some("user-a"), &q)).await;
        assert_eq!(status(&resp), 200, "{}", json_body(&resp));
        let body = json_body(&resp);
        let items = body["items"].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap_or_default().to_owned()));
        pages += 1;
        match body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    created.reverse();
    assert_eq!(seen, created, "all of user A's edits, newest first, no one else's");
    assert_eq!(pages, 3);
}

async fn user_b_cannot_read_or_delete_user_a_edits(endpoint: &str) {
    let (app, _, _) = setup(endpoint, "stability", FakeModel::ok("stability", 320, 240)).await;
    let id = create(&app, "user-a", "mine").await;
    let (s, body) = get(&app, "user-b", &id).await;
    assert_eq!(s, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let resp = app.handle(event("DELETE", "/edits/{id}", &format!("/edits/{id}"), None, Some("user-b"))).await;
    assert_eq!(status(&resp), 404);
    let (s, _) = get(&app, "user-a", &id).await;
    assert_eq!(s, 200, "still there for its owner");
    let list = app.handle(event("GET", "/edits", "/edits", None, Some("user-b"))).await;
    assert_eq!(json_body(&list), json!({"items": [], "nextCursor": null}));

    let resp = app.handle(event("DELETE", "/edits/{id}", &format!("/edits/{id}"), None, Some("user-a"))).await;
    assert_eq!(status(&resp), 204);
    let (s, _) = get(&app, "user-a", &id).await;
    assert_eq!(s, 404);
    let resp = app.handle(event("DELETE", "/edits/{id}", &format!("/edits/{id}"), None, Some("user-a"))).await;
    assert_eq!(status(&resp), 404, "deleting twice");
}

async fn the_seed_contract_returns_the_seed_shape(endpoint: &str) {
    let (app, _, _) = setup(endpoint, "stability", FakeModel::ok("stability", 320, 320)).await;
    let body = json!({"prompt": {"text": "Make the driveway clear", "mode": "INPAINTING"},
                      "mask": format!("data:image/png;base64,{}", seed_mask_b64(320, 320, (10, 10, 100, 100))),
                      "base_image": png_data_url(320, 320), "model": "titan"});
    let resp = app.handle(event("POST", "/", "/", Some(&body.to_string()), Some("user-a"))).await;
    assert_eq!(status(&resp), 200, "{}", json_body(&resp));
    let v = json_body(&resp);
    let mut keys: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(keys, vec!["generation_time_ms", "images", "model_used", "request_id"]);
    assert_eq!(v["images"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["model_used"], "stability.stable-image-inpaint-v1:0");
    // The id the request's log line carries, so `provision logs` finds it.
    assert_eq!(v["request_id"], "apigw-req-1");
    assert!(v["generation_time_ms"].as_u64().is_some());
    let list = app.handle(event("GET", "/edits", "/edits", None, Some("user-a"))).await;
    let items = json_body(&list)["items"].clone();
    assert_eq!(items[0]["source"], "seed");
    assert_eq!(items[0]["operation"], "inpaint");
    assert_eq!(items[0]["output"]["count"], 1);
}

async fn a_failing_store_means_no_model_call(endpoint: &str) {
    // No model call without a record: the first write fails (no such table), so the request is
    // answered 503 and nothing is made or billed.
    let model = FakeModel::ok("stability", 320, 240);
    let app = App::new(config_with("stability", "no-such-table"), model.clone(), dynamodb(endpoint));
    let resp = app.handle(event("POST", "/edits", "/edits", Some(&inpaint("x").to_string()), Some("user-a"))).await;
    assert_eq!(status(&resp), 503, "{}", json_body(&resp));
    assert_eq!(json_body(&resp)["error"]["code"], "history_unavailable");
    assert_eq!(model.call_count(), 0);
}

/// An item this API did not write (no status, no createdAt — e.g. written by hand in the console)
/// is skipped with a logged error: the page and the user's other records stay readable.
async fn an_item_that_is_not_a_record_is_skipped(endpoint: &str) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (app, client, table) = setup(endpoint, "stability", FakeModel::ok("stability", 320, 240)).await;
    let resp = app.handle(event("POST", "/edits", "/edits", Some(&inpaint("x").to_string()), Some("user-a"))).await;
    assert_eq!(status(&resp), 200, "{}", json_body(&resp));
    let good = json_body(&resp)["id"].as_str().expect("id").to_owned();
    let bad = ulid::Ulid::new().to_string();
    client
        .put_item()
        .table_name(&table)
        .item("userId", AttributeValue::S("user-a".into()))
        .item("id", AttributeValue::S(bad.clone()))
        .item("note", AttributeValue::S("added by hand".into()))
        .send()
        .await
        .expect("a foreign item");
    let list = app.handle(event("GET", "/edits", "/edits", None, Some("user-a"))).await;
    assert_eq!(status(&list), 200, "{}", json_body(&list));
    let ids: Vec<String> = json_body(&list)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids, vec![good], "the foreign item is skipped, the record stays");
    let one = app.handle(event("GET", "/edits/{id}", &format!("/edits/{bad}"), None, Some("user-a"))).await;
    assert_eq!(status(&one), 404, "{}", json_body(&one));
}

/// With 3 images a user and 5 for the stack a day, 20 concurrent requests of one user make
/// exactly 3 model calls and 17 answers of 429 quota_exceeded (each counter moves by one
/// conditional UpdateItem, so concurrency cannot overshoot); another user gets the stack's
/// remaining 2, then the stack-wide 429. A model call Bedrock refused (throttled) gives its count
/// back; one that timed out may have made and billed an image, so its count stays.
async fn daily_quotas_hold_under_concurrency(endpoint: &str) {
    let (_, client, table) = setup(endpoint, "stability", FakeModel::ok("stability", 320, 240)).await;
    let mut config = config_with("stability", &table);
    config.quota = image_edit_lambda::quota::Limits { per_user: 3, per_stack: 5 };
    let model = FakeModel::ok("stability", 320, 240);
    let app = App::new(config.clone(), model.clone(), client.clone());
    let body = inpaint("x").to_string();
    let burst = (0..20).map(|_| app.handle(event("POST", "/edits", "/edits", Some(&body), Some("user-a"))));
    let answers = futures::future::join_all(burst).await;
    let ok = answers.iter().filter(|r| status(r) == 200).count();
    let over: Vec<&lambda_http::Response<lambda_http::Body>> = answers.iter().filter(|r| status(r) == 429).collect();
    assert_eq!((ok, over.len()), (3, 17), "statuses: {:?}", answers.iter().map(status).collect::<Vec<_>>());
    assert_eq!(model.call_count(), 3, "exactly the allowed model calls");
    let e = json_body(over[0]);
    assert_eq!(e["error"]["code"], "quota_exceeded", "{e}");
    assert!(e["error"]["message"].as_str().is_some_and(|m| m.contains("today's 3 images")), "{e}");
    assert!(
        over[0].headers()["retry-after"].to_str().ok().and_then(|s| s.parse::<u32>().ok()).is_some_and(|s| s <= 86_400)
    );

    // Another user: the stack has 2 left of its 5.
    for expected in [200, 200, 429] {
        let r = app.handle(event("POST", "/edits", "/edits", Some(&body), Some("user-b"))).await;
        assert_eq!(status(&r), expected, "{}", json_body(&r));
        if expected == 429 {
            assert!(
                json_body(&r)["error"]["message"].as_str().is_some_and(|m| m.contains("its 5 images")),
                "{}",
                json_body(&r)
            );
        }
    }
    assert_eq!(model.call_count(), 5);

    // A call Bedrock refused (throttled) made nothing, so it costs no quota.
    use image_edit_lambda::bedrock::ModelCallError;
    let (_, client2, table2) = setup(endpoint, "stability", FakeModel::ok("stability", 320, 240)).await;
    let mut config2 = config_with("stability", &table2);
    config2.quota = image_edit_lambda::quota::Limits { per_user: 1, per_stack: 10 };
    let throttled =
        App::new(config2.clone(), FakeModel::failing(ModelCallError::Throttled("slow down".into())), client2.clone());
    let r = throttled.handle(event("POST", "/edits", "/edits", Some(&body), Some("user-c"))).await;
    assert_eq!(status(&r), 429, "{}", json_body(&r));
    let working = App::new(config2.clone(), FakeModel::ok("stability", 320, 240), client2.clone());
    let r = working.handle(event("POST", "/edits", "/edits", Some(&body), Some("user-c"))).await;
    assert_eq!(status(&r), 200, "the throttled call gave its image back: {}", json_body(&r));

    // A call that timed out may have made (and billed) an image: the count stays.
    let timing_out = App::new(config2, FakeModel::failing(ModelCallError::Timeout), client2);
    let r = timing_out.handle(event("POST", "/edits", "/edits", Some(&body), Some("user-d"))).await;
    assert_eq!(status(&r), 504, "{}", json_body(&r));
    let r = working.handle(event("POST", "/edits", "/edits", Some(&body), Some("user-d"))).await;
    assert_eq!(status(&r), 429, "the timed-out call kept its count: {}", json_body(&r));
}

/// `Idempotency-Key`: the same request sent again (even at once) makes one image, one record and
/// one count; the repeat is told where the edit is. The same key with another body is refused. A
/// first attempt Bedrock refused (throttled) made nothing, so the same key runs again.
async fn an_idempotency_key_makes_one_edit(endpoint: &str) {
    use image_edit_lambda::bedrock::ModelCallError;
    let (_, client, table) = setup(endpoint, "stability", FakeModel::ok("stability", 320, 240)).await;
    let mut config = config_with("stability", &table);
    config.quota = image_edit_lambda::quota::Limits { per_user: 10, per_stack: 100 };
    let model = FakeModel::ok("stability", 320, 240);
    let app = App::new(config.clone(), model.clone(), client.clone());
    let body = inpaint("a lighthouse").to_string();

    // Five copies at once, as a retrying client (or a double click) sends them.
    let copies =
        (0..5).map(|_| app.handle(post_edit_with_key(&body, "user-k", "3f1c9a7e-0d2b-4c55-9e61-7b8a2d4c1e90")));
    let answers = futures::future::join_all(copies).await;
    let statuses: Vec<u16> = answers.iter().map(status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    assert_eq!(model.call_count(), 1, "one model call for one key");
    let made = answers.iter().find(|r| status(r) == 200).map(json_body).expect("the first");
    let id = made["id"].as_str().expect("id").to_owned();
    for r in answers.iter().filter(|r| status(r) == 409) {
        let e = json_body(r);
        assert_eq!(e["error"]["code"], "duplicate_request", "{e}");
        assert!(e["error"]["message"].as_str().is_some_and(|m| m.contains(&id)), "{e}");
    }
    // Afterwards: told it was made, not made again.
    let again = app.handle(post_edit_with_key(&body, "user-k", "3f1c9a7e-0d2b-4c55-9e61-7b8a2d4c1e90")).await;
    assert_eq!(status(&again), 409);
    assert!(again.headers().get("retry-after").is_none(), "made already: nothing to wait for");
    assert!(json_body(&again)["error"]["message"].as_str().is_some_and(|m| m.contains("made already")));
    assert_eq!(model.call_count(), 1);
    let list = json_body(&app.handle(event("GET", "/edits", "/edits", None, Some("user-k"))).await);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "one record: {list}");
    let usage = json_body(&app.handle(event("GET", "/usage", "/usage", None, Some("user-k"))).await);
    assert_eq!(usage["user"]["used"], 1, "one count: {usage}");

    // The same key for another request: refused, naming the header.
    let other = inpaint("a windmill").to_string();
    let r = app.handle(post_edit_with_key(&other, "user-k", "3f1c9a7e-0d2b-4c55-9e61-7b8a2d4c1e90")).await;
    assert_eq!(status(&r), 400);
    assert_eq!(json_body(&r)["error"]["field"], "Idempotency-Key");
    // Keys are the user's own: another user's same key is a new request.
    let r = app.handle(post_edit_with_key(&body, "user-l", "3f1c9a7e-0d2b-4c55-9e61-7b8a2d4c1e90")).await;
    assert_eq!(status(&r), 200, "{}", json_body(&r));

    // Throttled first (nothing made): the same key runs again and makes the edit.
    let throttled =
        App::new(config.clone(), FakeModel::failing(ModelCallError::Throttled("busy".into())), client.clone());
    let r = throttled.handle(post_edit_with_key(&body, "user-m", "retry-me")).await;
    assert_eq!(status(&r), 429, "{}", json_body(&r));
    let r = app.handle(post_edit_with_key(&body, "user-m", "retry-me")).await;
    assert_eq!(status(&r), 200, "the throttled attempt freed its key: {}", json_body(&r));
    let list = json_body(&app.handle(event("GET", "/edits", "/edits", None, Some("user-m"))).await);
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "the retry took the throttled attempt's place: {list}");
    assert_eq!(items[0]["status"], "succeeded");
    assert_eq!(items[0]["id"], json_body(&r)["id"]);
    // A claim whose request died before it recorded anything: a minute later, the next copy goes
    // on in its place (and under its edit id); a fresh one is still "being made".
    use aws_sdk_dynamodb::types::AttributeValue;
    let claim = |user: &str, key: &str, age: i64| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
        let edit_id = image_edit_lambda::records::new_edit_id();
        let put = client
            .put_item()
            .table_name(&table)
            .item("userId", AttributeValue::S(format!("idem#{user}")))
            .item("id", AttributeValue::S(key.to_owned()))
            .item("editId", AttributeValue::S(edit_id.clone()))
            .item("request", AttributeValue::S(image_edit_lambda::idempotency::digest(body.as_bytes())))
            .item("claimedAt", AttributeValue::N((now - age).to_string()))
            .item("expiresAt", AttributeValue::N((now + 3600).to_string()))
            .send();
        async move {
            put.await.expect("PutItem");
            edit_id
        }
    };
    let dead = claim("user-o", "died-early", 120).await;
    let r = app.handle(post_edit_with_key(&body, "user-o", "died-early")).await;
    assert_eq!(status(&r), 200, "{}", json_body(&r));
    assert_eq!(json_body(&r)["id"], dead.as_str(), "the abandoned edit id is taken over");
    claim("user-o", "just-started", 5).await;
    let r = app.handle(post_edit_with_key(&body, "user-o", "just-started")).await;
    assert_eq!(status(&r), 409, "{}", json_body(&r));
    assert_eq!(r.headers()["retry-after"], "2");

    // Timed out (an image may exist): the key stays taken.
    let timing_out = App::new(config, FakeModel::failing(ModelCallError::Timeout), client);
    let r = timing_out.handle(post_edit_with_key(&body, "user-n", "once-only")).await;
    assert_eq!(status(&r), 504);
    let r = app.handle(post_edit_with_key(&body, "user-n", "once-only")).await;
    assert_eq!(status(&r), 409, "{}", json_body(&r));
    assert!(json_body(&r)["error"]["message"].as_str().is_some_and(|m| m.contains("failed")), "{}", json_body(&r));
}

/// The results bucket on moto: the answer carries links (a few kilobytes, not the image), the
/// link serves the image, the history links it again, only to its owner, and a delete deletes it.
async fn kept_results_are_links_only_their_owner_gets(endpoint: &str) {
    use image_edit_lambda::results::Results;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-west-2"))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "test"))
            .build(),
    );
    let bucket = format!("results-{}", ulid::Ulid::new().to_string().to_lowercase());
    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest2)
                .build(),
        )
        .send()
        .await
        .expect("bucket");
    let (app, _, _) = setup(endpoint, "stability", FakeModel::ok("stability", 320, 240)).await;
    let app = app.with_results(Results::new(s3.clone(), bucket.clone(), 7));
    let resp = app.handle(event("POST", "/edits", "/edits", Some(&inpaint("kept").to_string()), Some("user-a"))).await;
    assert_eq!(status(&resp), 200, "{}", json_body(&resp));
    let body = json_body(&resp);
    let doc = crate::openapi::document();
    assert_eq!(crate::openapi::problems(&doc, "EditResponse", &body), Vec::<String>::new(), "{body}");
    let size = body.to_string().len();
    assert!(size < 4096, "links, not images: the answer is {size} bytes");
    let id = body["id"].as_str().expect("id").to_owned();
    let image = &body["images"][0];
    let url = image["url"].as_str().expect("url");
    assert!(url.starts_with(&format!("{endpoint}/{bucket}/results/user-a/{id}/0.png?")), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert_eq!(
        (image["width"].clone(), image["height"].clone(), image["contentType"].clone()),
        (json!(320), json!(240), json!("image/png"))
    );
    assert!(body["keptUntil"].as_str().is_some_and(|t| t.ends_with("T00:00:00Z")), "{body}");
    let fetched = reqwest::get(url).await.expect("fetch").bytes().await.expect("bytes");
    let img = image::load_from_memory(&fetched).expect("the link serves the image");
    assert_eq!((img.width(), img.height()), (320, 240));
    let download = image["downloadUrl"].as_str().expect("downloadUrl");
    let got = reqwest::get(download).await.expect("fetch");
    assert_eq!(
        got.headers().get("content-disposition").and_then(|v| v.to_str().ok()),
        Some(format!("attachment; filename=\"edit-{id}-1.png\"").as_str())
    );

    // The history links it again, to its owner only.
    let (s, item) = get(&app, "user-a", &id).await;
    assert_eq!(s, 200);
    assert_eq!(crate::openapi::problems(&doc, "EditRecord", &item), Vec::<String>::new(), "{item}");
    assert!(item.get("kept").is_none(), "no bucket keys in the history: {item}");
    let again = item["results"][0]["url"].as_str().expect("a fresh link");
    assert_eq!(reqwest::get(again).await.expect("fetch").status(), 200);
    let (s, _) = get(&app, "user-b", &id).await;
    assert_eq!(s, 404);

    // A delete deletes the image too.
    let resp = app.handle(event("DELETE", "/edits/{id}", &format!("/edits/{id}"), None, Some("user-a"))).await;
    assert_eq!(status(&resp), 204);
    let gone = s3.head_object().bucket(&bucket).key(format!("results/user-a/{id}/0.png")).send().await;
    assert!(gone.is_err(), "the object is deleted with its record");

    // A stack that keeps nothing answers the image itself, as a data: URL.
    let (plain, _, _) = setup(endpoint, "stability", FakeModel::ok("stability", 320, 240)).await;
    let resp =
        plain.handle(event("POST", "/edits", "/edits", Some(&inpaint("not kept").to_string()), Some("user-a"))).await;
    let body = json_body(&resp);
    assert!(body["images"][0]["url"].as_str().is_some_and(|u| u.starts_with("data:image/png;base64,")), "{body}");
    assert_eq!(body["keptUntil"], Value::Null);
    assert_eq!(crate::openapi::problems(&doc, "EditResponse", &body), Vec::<String>::new(), "{body}");
}
