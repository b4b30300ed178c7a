//! DynamoDB on the local cloud conflicts where DynamoDB does, through the real
//! `aws-sdk-dynamodb` client: transactions that overlap on an item are cancelled with the reason
//! `TransactionConflict`, a standard write to an item a transaction holds fails with
//! `TransactionConflictException`, and single-item writes to one item are serialized, never lost.
//! ("Transaction conflict handling in DynamoDB", DynamoDB Developer Guide.)

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TransactWriteItem, Update,
};
use localcloud::moto::MotoServer;

const TABLE: &str = "conflicts";

async fn dynamodb(moto: &MotoServer) -> aws_sdk_dynamodb::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("t", "t", None, None, "t"))
        // One attempt: what DynamoDB answers, not what a retry hides.
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let attr =
        |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();
    client
        .create_table()
        .table_name(TABLE)
        .key_schema(key("userId", KeyType::Hash).expect("key"))
        .key_schema(key("id", KeyType::Range).expect("key"))
        .attribute_definitions(attr("userId").expect("attr"))
        .attribute_definitions(attr("id").expect("attr"))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    client
}

fn key(user: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("userId".to_owned(), AttributeValue::S(user.to_owned())),
        ("id".to_owned(), AttributeValue::S("2026-12-05".to_owned())),
    ])
}

/// `ADD images 1` on `user`'s item, as one item of a transaction.
fn add_one(user: &str) -> Update {
    Update::builder()
        .table_name(TABLE)
        .set_key(Some(key(user)))
        .update_expression("ADD images :n")
        .expression_attribute_values(":n", AttributeValue::N("1".to_owned()))
        .build()
        .expect("update")
}

/// The same as a standard (single-item) write.
async fn add_one_alone(
    client: &aws_sdk_dynamodb::Client,
    user: &str,
) -> Result<(), aws_sdk_dynamodb::error::SdkError<UpdateItemError>> {
    client
        .update_item()
        .table_name(TABLE)
        .set_key(Some(key(user)))
        .update_expression("ADD images :n")
        .expression_attribute_values(":n", AttributeValue::N("1".to_owned()))
        .send()
        .await
        .map(|_| ())
}

async fn count(client: &aws_sdk_dynamodb::Client, user: &str) -> u64 {
    let out = client
        .get_item()
        .table_name(TABLE)
        .set_key(Some(key(user)))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem");
    out.item().and_then(|i| i.get("images")).and_then(|v| v.as_n().ok()).map_or(0, |n| n.parse().expect("number"))
}

#[tokio::test(flavor = "multi_thread")]
async fn overlapping_transactions_conflict_and_single_writes_serialize() {
    let root = crate::root();
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = MotoServer::start(&root, logs.path(), false).await.expect("moto starts");
    let client = dynamodb(&moto).await;

    // 30 transactions at once, each counting its own user and the one shared item.
    let txn = |i: usize| {
        let client = client.clone();
        async move {
            client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(add_one(&format!("user-{i}"))).build())
                .transact_items(TransactWriteItem::builder().update(add_one("shared")).build())
                .send()
                .await
        }
    };
    let answers = futures::future::join_all((0..30).map(txn)).await;
    let mut committed = 0;
    let mut conflicts = 0;
    for a in &answers {
        match a {
            Ok(_) => committed += 1,
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    let codes: Vec<_> = c.cancellation_reasons().iter().map(|r| r.code().unwrap_or("")).collect();
                    assert_eq!(codes, ["None", "TransactionConflict"], "only the shared item conflicts");
                    conflicts += 1;
                }
                other => panic!("unexpected answer: {other:?}"),
            },
        }
    }
    println!("30 overlapping transactions: {committed} committed, {conflicts} cancelled (TransactionConflict)");
    assert!(committed >= 1, "transactions that do not overlap commit");
    assert!(conflicts >= 1, "transactions that overlap on an item conflict, as on DynamoDB");
    assert_eq!(count(&client, "shared").await, committed, "a cancelled transaction changes nothing");

    // A standard write to an item a transaction holds fails; one to another item does not. The
    // writes go on until the transaction is done, so one of them meets it under way.
    let held = tokio::spawn(txn(100));
    let mut refused = None;
    while !held.is_finished() {
        add_one_alone(&client, "user-x").await.expect("a write to an item no transaction holds");
        if let Err(e) = add_one_alone(&client, "shared").await {
            refused = Some(e);
            break;
        }
    }
    held.await.expect("join").expect("the transaction commits");
    let refused = refused.expect("a write to an item a transaction holds is refused");
    assert!(
        matches!(refused.as_service_error(), Some(UpdateItemError::TransactionConflictException(_))),
        "{refused:?}"
    );

    // Single-item writes to one item, all at once: serialized, none lost.
    let before = count(&client, "shared").await;
    let answers = futures::future::join_all((0..40).map(|_| add_one_alone(&client, "shared"))).await;
    assert!(answers.iter().all(Result::is_ok), "single-item updates do not conflict with each other");
    assert_eq!(count(&client, "shared").await, before + 40);
}
