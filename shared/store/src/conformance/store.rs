//! The Store checks: each `pub async fn …(store)` is one behaviour every
//! Store adapter MUST show; `store_suite` and `store_concurrency_suite` in
//! the parent run them all.

use std::sync::Arc;

use hooklane_domain::{
    CallId, DeliveryStatus, EventType, HookId, HookResponse, IdempotencyKey, MediaType, Message,
    MessageId, RunStatus,
};
use serde_json::json;

use super::records::{bot, delivery, endpoint, fresh_bot_id, hook, later, now, run};
use crate::ports::{ClaimScope, Page, RateWindow, SendTarget, Store, StoreError};

/// `s` as an idempotency key.
fn idem(s: &str) -> IdempotencyKey {
    IdempotencyKey::parse(s).unwrap()
}

/// Bots: `Conflict` on a second create, `NotFound` on update or delete of an absent one.
pub async fn bots_are_created_once_read_updated_and_deleted(store: &dyn Store) {
    let id = fresh_bot_id();
    let mut b = bot(&id);
    assert!(store.get_bot(&id).await.unwrap().is_none());
    store.create_bot(&b).await.expect("create bot");
    assert!(matches!(
        store.create_bot(&b).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.get_bot(&id).await.unwrap(), Some(b.clone()));
    b.api_key_hash = "11".repeat(32);
    store.update_bot(&b).await.expect("update bot");
    assert_eq!(
        store.get_bot(&id).await.unwrap().unwrap().api_key_hash,
        b.api_key_hash
    );
    let ghost = bot(&fresh_bot_id());
    assert!(matches!(
        store.update_bot(&ghost).await,
        Err(StoreError::NotFound)
    ));
    store.delete_bot(&id).await.expect("delete bot");
    assert!(store.get_bot(&id).await.unwrap().is_none());
    assert!(matches!(
        store.delete_bot(&id).await,
        Err(StoreError::NotFound)
    ));
}

/// Hooks: create once, list newest first, replace (every field kept, a
/// response's `content_type` too), delete with their runs.
pub async fn hooks_are_created_listed_newest_first_updated_and_deleted(store: &dyn Store) {
    let b = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    let first = hook(&b);
    let mut second = hook(&b);
    store.create_hook(&first).await.unwrap();
    store.create_hook(&second).await.unwrap();
    assert!(matches!(
        store.create_hook(&first).await,
        Err(StoreError::Conflict)
    ));
    let listed = store.list_hooks(&b, &Page::first(10)).await.unwrap();
    let ids: Vec<_> = listed.items.iter().map(|h| h.id.clone()).collect();
    assert_eq!(
        ids,
        vec![second.id.clone(), first.id.clone()],
        "newest first"
    );
    assert_eq!(listed.next, None);

    second.name = "Renamed".into();
    second.enabled = false;
    // Its own answer, with the media type it is sent as.
    second.response = Some(HookResponse::Content {
        status: 200,
        body: json!("<Response><Message>Got {payload.Body}</Message></Response>"),
        content_type: Some(MediaType::parse("text/xml; charset=utf-8").unwrap()),
    });
    store.update_hook(&second).await.unwrap();
    assert_eq!(
        store.get_hook(&b, &second.id).await.unwrap(),
        Some(second.clone())
    );
    let ghost = hook(&b);
    assert!(matches!(
        store.update_hook(&ghost).await,
        Err(StoreError::NotFound)
    ));

    // Hooks are per bot.
    let other = fresh_bot_id();
    assert!(store.get_hook(&other, &first.id).await.unwrap().is_none());

    let r = run(&b, &first.id);
    store.put_run(&r, later()).await.unwrap();
    store.delete_hook(&b, &first.id).await.unwrap();
    assert!(store.get_hook(&b, &first.id).await.unwrap().is_none());
    assert!(store
        .list_runs(&b, &first.id, &Page::first(10))
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(matches!(
        store.delete_hook(&b, &first.id).await,
        Err(StoreError::NotFound)
    ));
}

/// A cursor resumes right after the last item of its page; the last page has none.
pub async fn lists_page_with_cursors(store: &dyn Store) {
    let b = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    let mut made = Vec::new();
    for _ in 0..5 {
        let h = hook(&b);
        store.create_hook(&h).await.unwrap();
        made.push(h.id);
    }
    made.reverse();
    let mut seen = Vec::new();
    let mut page = Page::first(2);
    loop {
        let got = store.list_hooks(&b, &page).await.unwrap();
        assert!(got.items.len() <= 2);
        seen.extend(got.items.into_iter().map(|h| h.id));
        match got.next {
            Some(next) => page.cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, made, "pages cover every hook once, newest first");
}

/// Runs: `put_run` inserts or replaces; lists are newest first.
pub async fn runs_are_upserted_and_listed_newest_first(store: &dyn Store) {
    let b = fresh_bot_id();
    let h = hook(&b);
    store.create_bot(&bot(&b)).await.unwrap();
    store.create_hook(&h).await.unwrap();
    let mut older = run(&b, &h.id);
    older.status = RunStatus::Running;
    store.put_run(&older, later()).await.unwrap();
    let newer = run(&b, &h.id);
    store.put_run(&newer, later()).await.unwrap();
    older.status = RunStatus::Failed;
    older.error = Some("boom".into());
    store.put_run(&older, later()).await.unwrap();
    assert_eq!(
        store.get_run(&b, &h.id, &older.id).await.unwrap(),
        Some(older.clone())
    );
    assert!(store
        .get_run(&b, &h.id, &CallId::generate())
        .await
        .unwrap()
        .is_none());
    let listed = store.list_runs(&b, &h.id, &Page::first(10)).await.unwrap();
    assert_eq!(listed.items, vec![newer, older]);
}

/// Endpoints and their delivery log: found by id alone, deleted together.
pub async fn endpoints_and_their_deliveries_go_together(store: &dyn Store) {
    let b = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    let mut ep = endpoint(&b);
    let other = endpoint(&b);
    store.create_endpoint(&ep).await.unwrap();
    store.create_endpoint(&other).await.unwrap();
    assert!(matches!(
        store.create_endpoint(&ep).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.get_endpoint(&b, &ep.id).await.unwrap(),
        Some(ep.clone())
    );
    let listed = store.list_endpoints(&b, &Page::first(10)).await.unwrap();
    assert_eq!(listed.items.len(), 2);
    assert_eq!(listed.items[0].id, other.id);

    ep.enabled = false;
    ep.disabled_reason = Some("410 Gone".into());
    // A discord endpoint's own allowed_mentions is kept as it was sent.
    ep.kind = hooklane_domain::EndpointType::Discord;
    ep.allowed_mentions = Some(serde_json::json!({"parse": ["users"], "roles": ["12"]}));
    store.update_endpoint(&ep).await.unwrap();
    assert_eq!(
        store.get_endpoint(&b, &ep.id).await.unwrap(),
        Some(ep.clone())
    );

    let msg = MessageId::generate();
    let d1 = delivery(&b, &ep.id, &msg, 1);
    let mut d2 = delivery(&b, &ep.id, &msg, 2);
    let kept = delivery(&b, &other.id, &msg, 1);
    store.put_delivery(&d1, later()).await.unwrap();
    store.put_delivery(&d2, later()).await.unwrap();
    store.put_delivery(&kept, later()).await.unwrap();
    d2.status = DeliveryStatus::Succeeded;
    d2.http_status = Some(200);
    store.put_delivery(&d2, later()).await.unwrap();
    assert_eq!(
        store.get_delivery(&b, &d2.id).await.unwrap(),
        Some(d2.clone())
    );
    assert_eq!(
        store
            .get_endpoint_delivery(&b, &ep.id, &d2.id)
            .await
            .unwrap(),
        Some(d2.clone())
    );
    assert_eq!(
        store
            .get_endpoint_delivery(&b, &other.id, &kept.id)
            .await
            .unwrap(),
        Some(kept.clone())
    );
    assert!(store
        .get_endpoint_delivery(&b, &other.id, &d2.id)
        .await
        .unwrap()
        .is_none());
    let listed = store
        .list_deliveries(&b, &ep.id, &Page::first(10))
        .await
        .unwrap();
    assert_eq!(listed.items, vec![d2.clone(), d1.clone()]);

    store.delete_endpoint(&b, &ep.id).await.unwrap();
    assert!(store.get_endpoint(&b, &ep.id).await.unwrap().is_none());
    assert!(store.get_delivery(&b, &d1.id).await.unwrap().is_none());
    assert!(store
        .get_endpoint_delivery(&b, &ep.id, &d1.id)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .list_deliveries(&b, &ep.id, &Page::first(10))
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(store.get_delivery(&b, &kept.id).await.unwrap(), Some(kept));
    assert!(matches!(
        store.delete_endpoint(&b, &ep.id).await,
        Err(StoreError::NotFound)
    ));
}

/// A delivery is found by id alone among many endpoints (over the 100
/// keys DynamoDB reads in one batch), and not in another bot.
pub async fn a_delivery_is_found_by_id_among_many_endpoints(store: &dyn Store) {
    let b = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    let mut last = None;
    for _ in 0..105 {
        let ep = endpoint(&b);
        store.create_endpoint(&ep).await.unwrap();
        last = Some(ep);
    }
    let last = last.unwrap();
    let d = delivery(&b, &last.id, &MessageId::generate(), 1);
    store.put_delivery(&d, later()).await.unwrap();
    assert_eq!(
        store.get_delivery(&b, &d.id).await.unwrap(),
        Some(d.clone())
    );
    let other = fresh_bot_id();
    store.create_bot(&bot(&other)).await.unwrap();
    assert!(store.get_delivery(&other, &d.id).await.unwrap().is_none());
}

/// Messages: put and read back by id.
pub async fn messages_are_kept_for_resends(store: &dyn Store) {
    let b = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    let m = Message {
        id: MessageId::generate(),
        bot_id: b.clone(),
        event: EventType::parse("order.paid").unwrap(),
        data: json!({"amount": 150, "items": [1, 2]}),
        timestamp: now(),
    };
    store.put_message(&m, later()).await.unwrap();
    assert_eq!(store.get_message(&b, &m.id).await.unwrap(), Some(m.clone()));
    assert!(store
        .get_message(&fresh_bot_id(), &m.id)
        .await
        .unwrap()
        .is_none());
}

/// Variables: compare-and-swap on the version, deletes included.
pub async fn variables_swap_only_from_the_expected_version(store: &dyn Store) {
    let b = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    assert!(store.get_variable(&b, "balance").await.unwrap().is_none());
    assert!(store
        .swap_variable(&b, "balance", None, Some(&json!(10)), now())
        .await
        .unwrap());
    assert!(
        !store
            .swap_variable(&b, "balance", None, Some(&json!(99)), now())
            .await
            .unwrap(),
        "creating an existing variable must fail"
    );
    let v = store.get_variable(&b, "balance").await.unwrap().unwrap();
    assert_eq!((v.value.clone(), v.version), (json!(10), 1));
    assert!(!store
        .swap_variable(&b, "balance", Some(7), Some(&json!(11)), now())
        .await
        .unwrap());
    assert!(store
        .swap_variable(&b, "balance", Some(1), Some(&json!({"n": 11})), now())
        .await
        .unwrap());
    assert!(store
        .swap_variable(&b, "name", None, Some(&json!("Ada")), now())
        .await
        .unwrap());
    let mut all = store.list_variables(&b).await.unwrap();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let pairs: Vec<_> = all
        .iter()
        .map(|v| (v.name.as_str(), v.value.clone(), v.version))
        .collect();
    assert_eq!(
        pairs,
        vec![("balance", json!({"n": 11}), 2), ("name", json!("Ada"), 1)]
    );
    assert!(store
        .swap_variable(&b, "name", Some(1), None, now())
        .await
        .unwrap());
    assert!(store.get_variable(&b, "name").await.unwrap().is_none());
    assert!(!store
        .swap_variable(&b, "name", Some(1), None, now())
        .await
        .unwrap());
}

/// Idempotency claims: the first wins until it expires or is released.
pub async fn keys_are_claimed_once_until_released(store: &dyn Store) {
    let b = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(
                &b,
                ClaimScope::Publish,
                &idem("idem:abc"),
                "evt_1",
                later(),
                now()
            )
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .claim_idempotency_key(
                &b,
                ClaimScope::Publish,
                &idem("idem:abc"),
                "evt_2",
                later(),
                now()
            )
            .await
            .unwrap(),
        Some("evt_1".into())
    );
    // An expired claim no longer counts.
    let past = now() - time::Duration::seconds(5);
    assert_eq!(
        store
            .claim_idempotency_key(
                &b,
                ClaimScope::Publish,
                &idem("idem:old"),
                "evt_3",
                past,
                now()
            )
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .claim_idempotency_key(
                &b,
                ClaimScope::Publish,
                &idem("idem:old"),
                "evt_4",
                later(),
                now()
            )
            .await
            .unwrap(),
        None
    );
    store
        .release_idempotency_key(&b, ClaimScope::Publish, &idem("idem:abc"))
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(
                &b,
                ClaimScope::Publish,
                &idem("idem:abc"),
                "evt_5",
                later(),
                now()
            )
            .await
            .unwrap(),
        None
    );
    // Releasing a claim that is not there is no error.
    store
        .release_idempotency_key(&b, ClaimScope::Publish, &idem("idem:never"))
        .await
        .unwrap();
}

/// One key claimed as a publish and for two hooks: three separate claims.
pub async fn claims_of_one_key_in_other_scopes_do_not_collide(store: &dyn Store) {
    let b = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    let (first, second) = (HookId::generate(), HookId::generate());
    let scopes = [
        ClaimScope::Publish,
        ClaimScope::HookCall(&first),
        ClaimScope::HookCall(&second),
    ];
    for (i, scope) in scopes.into_iter().enumerate() {
        let value = format!("evt_{i}");
        let claimed = store
            .claim_idempotency_key(&b, scope, &idem("same"), &value, later(), now())
            .await
            .unwrap();
        assert_eq!(claimed, None, "{scope:?} is a scope of its own");
    }
    let again = store
        .claim_idempotency_key(
            &b,
            ClaimScope::HookCall(&first),
            &idem("same"),
            "x",
            later(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(again, Some("evt_1".into()));
}

/// Counters start at 1 and count each rate window and hook apart.
pub async fn counters_count_up(store: &dyn Store) {
    let b = fresh_bot_id();
    let (h, other_hook) = (HookId::generate(), HookId::generate());
    let window = RateWindow {
        bot: &b,
        hook: &h,
        window: 42,
    };
    assert_eq!(store.increment_counter(&window, later()).await.unwrap(), 1);
    assert_eq!(store.increment_counter(&window, later()).await.unwrap(), 2);
    let next = RateWindow {
        window: 43,
        ..window
    };
    assert_eq!(store.increment_counter(&next, later()).await.unwrap(), 1);
    let other = RateWindow {
        hook: &other_hook,
        ..window
    };
    assert_eq!(store.increment_counter(&other, later()).await.unwrap(), 1);
}

/// `ms` milliseconds after the Unix epoch (a pause is kept to the millisecond).
fn at_ms(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap()
}

/// A target's sends are counted in its latest window (an earlier window
/// counts in the stored one, a later one starts again at 1), each target
/// and bot apart.
pub async fn send_counts_follow_the_latest_window(store: &dyn Store) {
    let (b, other_bot) = (fresh_bot_id(), fresh_bot_id());
    let ep = SendTarget {
        bot: &b,
        target: "ep_01",
    };
    let counted = store.count_send(&ep, 10, later()).await.unwrap();
    assert_eq!(counted.count, 1);
    assert_eq!(counted.paused_until, None, "never paused");
    assert_eq!(store.count_send(&ep, 10, later()).await.unwrap().count, 2);
    assert_eq!(
        store.count_send(&ep, 9, later()).await.unwrap().count,
        3,
        "a clock behind counts in the stored window"
    );
    assert_eq!(store.count_send(&ep, 11, later()).await.unwrap().count, 1);
    assert_eq!(store.count_send(&ep, 11, later()).await.unwrap().count, 2);
    let chat = SendTarget {
        bot: &b,
        target: "telegram:0123456789abcdef",
    };
    assert_eq!(store.count_send(&chat, 11, later()).await.unwrap().count, 1);
    let elsewhere = SendTarget {
        bot: &other_bot,
        target: "ep_01",
    };
    assert_eq!(
        store
            .count_send(&elsewhere, 11, later())
            .await
            .unwrap()
            .count,
        1
    );
}

/// A pause is answered by every later count of its target (whatever the
/// window, also to a target first counted after it), to the millisecond;
/// a later pause wins, an earlier one changes nothing, and other targets
/// are not paused.
pub async fn paused_targets_answer_their_pause_with_every_count(store: &dyn Store) {
    let b = fresh_bot_id();
    let ep = SendTarget {
        bot: &b,
        target: "ep_01",
    };
    let other = SendTarget {
        bot: &b,
        target: "ep_02",
    };
    let base = now().unix_timestamp() * 1000;
    let first = at_ms(base + 1_234);
    assert_eq!(store.count_send(&ep, 20, later()).await.unwrap().count, 1);
    store.pause_sends(&ep, first, later()).await.unwrap();
    let counted = store.count_send(&ep, 20, later()).await.unwrap();
    assert_eq!(counted.count, 2, "a pause keeps the count");
    assert_eq!(counted.paused_until, Some(first));
    let counted = store.count_send(&ep, 21, later()).await.unwrap();
    assert_eq!(counted.count, 1);
    assert_eq!(
        counted.paused_until,
        Some(first),
        "a new window keeps the pause"
    );

    store
        .pause_sends(&ep, at_ms(base + 500), later())
        .await
        .unwrap();
    assert_eq!(
        store
            .count_send(&ep, 21, later())
            .await
            .unwrap()
            .paused_until,
        Some(first),
        "an earlier pause changes nothing"
    );
    let second = at_ms(base + 5_007);
    store.pause_sends(&ep, second, later()).await.unwrap();
    let counted = store.count_send(&ep, 21, later()).await.unwrap();
    assert_eq!(counted.paused_until, Some(second), "a later pause wins");
    assert_eq!(counted.count, 3);
    assert_eq!(
        store
            .count_send(&other, 21, later())
            .await
            .unwrap()
            .paused_until,
        None
    );

    let fresh = SendTarget {
        bot: &b,
        target: "slack:00112233445566778899aabbccddeeff",
    };
    store.pause_sends(&fresh, first, later()).await.unwrap();
    let counted = store.count_send(&fresh, 3, later()).await.unwrap();
    assert_eq!(counted.count, 1);
    assert_eq!(counted.paused_until, Some(first), "paused before any count");
}

/// Deleting a bot removes its hooks, runs, endpoints, deliveries, variables and claims.
pub async fn deleting_a_bot_removes_everything_under_it(store: &dyn Store) {
    let b = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    let h = hook(&b);
    let ep = endpoint(&b);
    store.create_hook(&h).await.unwrap();
    store.create_endpoint(&ep).await.unwrap();
    store.put_run(&run(&b, &h.id), later()).await.unwrap();
    let d = delivery(&b, &ep.id, &MessageId::generate(), 1);
    store.put_delivery(&d, later()).await.unwrap();
    store
        .swap_variable(&b, "x", None, Some(&json!(1)), now())
        .await
        .unwrap();
    store
        .claim_idempotency_key(&b, ClaimScope::Publish, &idem("k"), "v", later(), now())
        .await
        .unwrap();

    store.delete_bot(&b).await.unwrap();
    // A new bot with the same id starts empty.
    store.create_bot(&bot(&b)).await.unwrap();
    assert!(store.get_hook(&b, &h.id).await.unwrap().is_none());
    assert!(store.get_endpoint(&b, &ep.id).await.unwrap().is_none());
    assert!(store
        .list_runs(&b, &h.id, &Page::first(5))
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(store.get_delivery(&b, &d.id).await.unwrap().is_none());
    assert!(store.list_variables(&b).await.unwrap().is_empty());
    assert_eq!(
        store
            .claim_idempotency_key(&b, ClaimScope::Publish, &idem("k"), "v2", later(), now())
            .await
            .unwrap(),
        None
    );
}

/// Concurrent variable swaps never lose an update.
pub async fn concurrent_increments_never_lose_one(store: Arc<dyn Store>) {
    let b = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let b = b.clone();
            tokio::spawn(async move {
                for _ in 0..5 {
                    loop {
                        let current = store.get_variable(&b, "hits").await.unwrap();
                        let (expected, n) = match &current {
                            Some(v) => (Some(v.version), v.value.as_i64().unwrap()),
                            None => (None, 0),
                        };
                        if store
                            .swap_variable(&b, "hits", expected, Some(&json!(n + 1)), now())
                            .await
                            .unwrap()
                        {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let v = store.get_variable(&b, "hits").await.unwrap().unwrap();
    assert_eq!(v.value, json!(40), "8 writers x 5 increments");
    assert_eq!(v.version, 40);
}

/// Concurrent counter increments never lose one.
pub async fn concurrent_counter_increments_never_lose_one(store: Arc<dyn Store>) {
    let (b, h) = (fresh_bot_id(), HookId::generate());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let (b, h) = (b.clone(), h.clone());
            tokio::spawn(async move {
                let window = RateWindow {
                    bot: &b,
                    hook: &h,
                    window: 7,
                };
                for _ in 0..5 {
                    store.increment_counter(&window, later()).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let window = RateWindow {
        bot: &b,
        hook: &h,
        window: 7,
    };
    let count = store.increment_counter(&window, later()).await.unwrap();
    assert_eq!(count, 41, "8 writers x 5 increments, then one more");
}

/// Concurrent send counts never lose one, also when they start a new
/// window together: exactly one of them answers 1.
pub async fn concurrent_send_counts_never_lose_one(store: Arc<dyn Store>) {
    let b = fresh_bot_id();
    let counts_in = |window: i64, each: usize| {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (store, b) = (store.clone(), b.clone());
                tokio::spawn(async move {
                    let ep = SendTarget {
                        bot: &b,
                        target: "ep_busy",
                    };
                    let mut counts = Vec::new();
                    for _ in 0..each {
                        counts.push(store.count_send(&ep, window, later()).await.unwrap().count);
                    }
                    counts
                })
            })
            .collect::<Vec<_>>();
        async move {
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap());
            }
            all.sort_unstable();
            all
        }
    };
    assert_eq!(
        counts_in(7, 5).await,
        (1..=40).collect::<Vec<u64>>(),
        "8 senders x 5 sends in one window, each count once"
    );
    assert_eq!(
        counts_in(8, 1).await,
        (1..=8).collect::<Vec<u64>>(),
        "8 senders starting the next window together"
    );
}

/// Of concurrent claims of one key exactly one wins.
pub async fn concurrent_claims_of_one_key_let_exactly_one_win(store: Arc<dyn Store>) {
    let b = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let b = b.clone();
            tokio::spawn(async move {
                store
                    .claim_idempotency_key(
                        &b,
                        ClaimScope::Publish,
                        &idem("race"),
                        &format!("evt_{i}"),
                        later(),
                        now(),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        if t.await.unwrap().is_none() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}
