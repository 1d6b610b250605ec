//! The conformance suite against the AWS adapters, on a real moto server.
//!
//! The test script exports `AWS_ENDPOINT_URL` (moto), test credentials,
//! `AWS_REGION` and runs these ignored tests (`--include-ignored`); a plain
//! `cargo test` lists them as ignored (`needs moto`), and one run without
//! moto fails.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{KeyType, TimeToLiveStatus};
use aws_sdk_sqs::types::QueueAttributeName;
use hooklane_store::conformance::{self, QueueTraits};
use hooklane_store::dynamodb::DynamoStore;
use hooklane_store::sqs::SqsQueue;
use hooklane_store::{Page, Queue, Store};

/// The SDK config pointed at moto (the test kit's `moto()` fails the test
/// when there is none).
async fn moto() -> aws_config::SdkConfig {
    hooklane_testkit::moto();
    hooklane_store::aws_config()
        .await
        .expect("the AWS settings")
}

/// A name no other test (or earlier run) uses.
fn fresh_name(kind: &str) -> String {
    format!(
        "hooklane-test-{kind}-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

async fn fresh_store(config: &aws_config::SdkConfig) -> DynamoStore {
    let store = DynamoStore::new(config, fresh_name("table"));
    store.ensure_table().await.expect("create the table");
    store
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn dynamodb_store_passes_the_conformance_suite() {
    let config = moto().await;
    let store = fresh_store(&config).await;
    conformance::store_suite(&store).await;
    conformance::store_concurrency_suite(Arc::new(store) as Arc<dyn Store>).await;
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn sqs_queue_passes_the_conformance_suite() {
    let config = moto().await;
    let queue = SqsQueue::ensure_queue(&config, &fresh_name("queue"), 3)
        .await
        .expect("create the queues");
    conformance::queue_suite(&queue, QueueTraits { max_receives: 3 }).await;
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn ensure_table_creates_the_template_schema_and_is_idempotent() {
    let config = moto().await;
    let store = fresh_store(&config).await;
    store.ensure_table().await.expect("a second ensure_table");

    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = client
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys: Vec<_> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name().to_owned(), k.key_type().clone()))
        .collect();
    assert_eq!(
        keys,
        vec![("pk".into(), KeyType::Hash), ("sk".into(), KeyType::Range)]
    );
    let ttl = client
        .describe_time_to_live()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.attribute_name(), Some("ttl"));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    store.ping().await.expect("ping");
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn deleting_a_bot_removes_more_items_than_one_batch_write_holds() {
    let config = moto().await;
    // BatchWriteItem takes 25 items a call: 60 runs and 30 deliveries take
    // several, in partitions other than the bot's.
    let store = fresh_store(&config).await;
    let bot = hooklane_domain::BotId::generate();
    store.create_bot(&conformance::bot(&bot)).await.unwrap();
    let hook = conformance::hook(&bot);
    let endpoint = conformance::endpoint(&bot);
    store.create_hook(&hook).await.unwrap();
    store.create_endpoint(&endpoint).await.unwrap();
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    for _ in 0..60 {
        let run = hooklane_domain::Run {
            id: hooklane_domain::CallId::generate(),
            bot_id: bot.clone(),
            hook_id: hook.id.clone(),
            status: hooklane_domain::RunStatus::Succeeded,
            received_at: later,
            finished_at: None,
            attempt: 1,
            actions: vec![],
            unknown_placeholders: vec![],
            error: None,
            request: None,
        };
        store.put_run(&run, later).await.unwrap();
    }
    let mut deliveries = Vec::new();
    for attempt in 1..=30 {
        let delivery = hooklane_domain::Delivery {
            id: hooklane_domain::DeliveryId::generate(),
            bot_id: bot.clone(),
            message_id: hooklane_domain::MessageId::generate(),
            endpoint_id: endpoint.id.clone(),
            event: hooklane_domain::EventType::parse("order.paid").unwrap(),
            attempt,
            status: hooklane_domain::DeliveryStatus::Failed,
            http_status: Some(500),
            error: None,
            triggered_at: later,
            response_time_ms: None,
            next_attempt_at: None,
        };
        store.put_delivery(&delivery, later).await.unwrap();
        deliveries.push(delivery.id);
    }
    let listed = store
        .list_runs(&bot, &hook.id, &Page::first(100))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 60);

    store.delete_bot(&bot).await.unwrap();
    store.create_bot(&conformance::bot(&bot)).await.unwrap();
    assert!(store
        .list_runs(&bot, &hook.id, &Page::first(100))
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(store
        .list_deliveries(&bot, &endpoint.id, &Page::first(100))
        .await
        .unwrap()
        .items
        .is_empty());
    for id in &deliveries {
        assert!(store.get_delivery(&bot, id).await.unwrap().is_none());
    }
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn a_large_record_is_kept_compressed_and_read_back_whole() {
    let config = moto().await;
    let store = fresh_store(&config).await;
    let bot = hooklane_domain::BotId::generate();
    store.create_bot(&conformance::bot(&bot)).await.unwrap();
    let hook = conformance::hook(&bot);
    store.create_hook(&hook).await.unwrap();
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let items: Vec<_> = (0..40)
        .map(|i| serde_json::json!({"sku": format!("sku-{i}"), "qty": i, "note": "blue, size M"}))
        .collect();
    let run = hooklane_domain::Run {
        id: hooklane_domain::CallId::generate(),
        bot_id: bot.clone(),
        hook_id: hook.id.clone(),
        status: hooklane_domain::RunStatus::Succeeded,
        received_at: later,
        finished_at: Some(later),
        attempt: 1,
        actions: vec![],
        unknown_placeholders: vec![],
        error: None,
        request: Some(hooklane_domain::envelope::InboundRequest {
            method: "POST".into(),
            payload: serde_json::json!({"order": 42, "items": items}),
            ..Default::default()
        }),
    };
    let json_len = serde_json::to_string(&run).unwrap().len();
    store.put_run(&run, later).await.unwrap();
    assert_eq!(
        store.get_run(&bot, &hook.id, &run.id).await.unwrap(),
        Some(run.clone())
    );
    let listed = store
        .list_runs(&bot, &hook.id, &Page::first(5))
        .await
        .unwrap();
    assert_eq!(listed.items, vec![run]);

    // The item itself: `dataz` (binary) in place of `data`, and smaller.
    let client = aws_sdk_dynamodb::Client::new(&config);
    let scanned = client
        .scan()
        .table_name(store.table())
        .send()
        .await
        .unwrap();
    let item = scanned
        .items()
        .iter()
        .find(|item| item.contains_key("dataz"))
        .expect("the run's item holds `dataz`");
    assert!(!item.contains_key("data"));
    let stored = item["dataz"].as_b().unwrap().as_ref().len();
    assert!(
        stored * 2 < json_len,
        "{stored} bytes stored for {json_len} bytes of JSON"
    );
    // Small records stay plain JSON.
    assert!(scanned
        .items()
        .iter()
        .filter(|item| !item.contains_key("dataz"))
        .any(|item| item.contains_key("data")));
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn ensure_table_refuses_a_table_with_another_key() {
    let config = moto().await;
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, ScalarAttributeType,
    };
    let name = fresh_name("table");
    aws_sdk_dynamodb::Client::new(&config)
        .create_table()
        .table_name(&name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let err = DynamoStore::new(&config, &name)
        .ensure_table()
        .await
        .expect_err("a table keyed on `id` is not Hooklane's");
    assert!(err.to_string().contains("pk"), "{err:#}");
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn a_missing_table_is_an_error_not_a_panic() {
    let config = moto().await;
    let store = DynamoStore::new(&config, fresh_name("absent"));
    assert!(store.ping().await.is_err());
    let bot = hooklane_domain::BotId::generate();
    assert!(store.get_bot(&bot).await.is_err());
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn ensure_queue_sets_the_redrive_policy_and_is_idempotent() {
    let config = moto().await;
    let name = fresh_name("queue");
    let first = SqsQueue::ensure_queue(&config, &name, 5).await.unwrap();
    let again = SqsQueue::ensure_queue(&config, &name, 5).await.unwrap();
    assert_eq!(first.queue_url(), again.queue_url());
    // Other settings on an existing queue are brought up to date.
    let changed = SqsQueue::ensure_queue(&config, &name, 7).await.unwrap();
    assert_eq!(first.queue_url(), changed.queue_url());

    let client = aws_sdk_sqs::Client::new(&config);
    let attributes = client
        .get_queue_attributes()
        .queue_url(first.queue_url())
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(
        attributes[&QueueAttributeName::VisibilityTimeout].as_str(),
        "360"
    );
    let policy: serde_json::Value =
        serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
    assert_eq!(policy["maxReceiveCount"].to_string().trim_matches('"'), "7");
    assert!(policy["deadLetterTargetArn"]
        .as_str()
        .unwrap()
        .ends_with(&format!(":{name}-dlq")));

    // An adapter made from the URL alone finds the dead-letter queue itself.
    let plain = SqsQueue::new(&config, first.queue_url());
    assert!(plain
        .dead_letter_queue_url()
        .await
        .unwrap()
        .ends_with(&format!("{name}-dlq")));
    assert_eq!(plain.dead_letter_count().await.unwrap(), 0);
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn long_delays_are_cut_to_fifteen_minutes() {
    let config = moto().await;
    let queue = SqsQueue::ensure_queue(&config, &fresh_name("queue"), 3)
        .await
        .unwrap();
    assert_eq!(queue.max_delay(), Duration::from_secs(900));
    // SQS refuses DelaySeconds above 900; the adapter cuts it instead.
    queue
        .send("in a day", Duration::from_secs(86_400))
        .await
        .expect("a delay above the cap is cut, not refused");
    assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn sqs_sends_and_deletes_in_batches_of_ten_and_reports_each_failed_entry() {
    let config = moto().await;
    let queue = SqsQueue::ensure_queue(&config, &fresh_name("queue"), 3)
        .await
        .expect("create the queues");
    // 23 messages (three calls), one of them too large: it alone fails.
    let mut messages: Vec<(String, Duration)> = (0..23)
        .map(|n| (format!("{{\"n\": {n}}}"), Duration::ZERO))
        .collect();
    messages[5].0 = "x".repeat(queue.max_message_bytes() + 1);
    let sent = queue.send_batch(&messages).await;
    assert_eq!(sent.len(), 23);
    for (n, result) in sent.iter().enumerate() {
        assert_eq!(result.is_ok(), n != 5, "entry {n}: {result:?}");
    }
    let mut received = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while received.len() < 22 && std::time::Instant::now() < deadline {
        received.extend(queue.receive(10, Duration::from_secs(1)).await.unwrap());
    }
    let mut bodies: Vec<String> = received.iter().map(|m| m.body.clone()).collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 22, "every message but the large one, once");

    // 22 receipts and a bogus one: only the bogus one fails.
    let mut receipts: Vec<String> = received.iter().map(|m| m.receipt.clone()).collect();
    receipts.insert(3, "not-a-receipt".into());
    let deleted = queue.delete_batch(&receipts).await;
    assert_eq!(deleted.len(), 23);
    for (n, result) in deleted.iter().enumerate() {
        assert_eq!(result.is_ok(), n != 3, "entry {n}: {result:?}");
    }
    assert!(queue
        .receive(10, Duration::from_secs(1))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn the_backfill_lists_bots_stored_before_the_bot_list_once_and_only_those_still_there() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use hooklane_domain::{Bot, BotId};

    let config = moto().await;
    let store = fresh_store(&config).await;
    let bot = |id: &str| Bot {
        id: BotId::parse(id).unwrap(),
        name: format!("Bot {id}"),
        api_key_hash: "0".repeat(64),
        created_at: time::OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap(),
    };
    store.create_bot(&bot("listed")).await.unwrap();
    // Two bots as an older version stored them: the record alone, no entry.
    let client = aws_sdk_dynamodb::Client::new(&config);
    for old in ["older-a", "older-b"] {
        client
            .put_item()
            .table_name(store.table())
            .item("pk", AttributeValue::S(format!("BOT#{old}")))
            .item("sk", AttributeValue::S("BOT".into()))
            .item(
                "data",
                AttributeValue::S(serde_json::to_string(&bot(old)).unwrap()),
            )
            .send()
            .await
            .unwrap();
    }
    let ids = |page: hooklane_store::Paged<Bot>| -> Vec<String> {
        page.items.iter().map(|b| b.id.to_string()).collect()
    };
    assert_eq!(
        ids(store.list_bots(&Page::first(10)).await.unwrap()),
        vec!["listed"]
    );

    assert_eq!(store.backfill_bot_list().await.unwrap(), 2);
    let listed = store.list_bots(&Page::first(10)).await.unwrap();
    assert_eq!(
        listed.items[0],
        bot("older-b"),
        "the entry is the bot as stored"
    );
    assert_eq!(ids(listed), vec!["older-b", "older-a", "listed"]);
    // Again: nothing left to write; a deleted bot leaves the list as usual.
    assert_eq!(store.backfill_bot_list().await.unwrap(), 0);
    store
        .delete_bot(&BotId::parse("older-a").unwrap())
        .await
        .unwrap();
    assert_eq!(store.backfill_bot_list().await.unwrap(), 0);
    assert_eq!(
        ids(store.list_bots(&Page::first(10)).await.unwrap()),
        vec!["older-b", "listed"]
    );
}
