//! The Store checks of installation-wide records: the bot list, published
//! messages listed per bot, and settings stored once.

use std::sync::Arc;

use hooklane_domain::{BotId, EventType, Message, MessageId};
use serde_json::json;

use super::records::{bot, fresh_bot_id, later, now};
use crate::ports::{Page, Store};

/// Every bot id `list_bots` answers, following `next` with pages of `limit`.
async fn every_listed_bot(store: &dyn Store, limit: usize) -> Vec<(BotId, String)> {
    let mut page = Page::first(limit);
    let mut all = Vec::new();
    loop {
        let listed = store.list_bots(&page).await.expect("list bots");
        assert!(listed.items.len() <= limit.max(1));
        all.extend(listed.items.into_iter().map(|b| (b.id, b.name)));
        match listed.next {
            Some(next) => page.cursor = Some(next),
            None => return all,
        }
    }
}

/// Bots: listed by id descending across pages, with their latest name, and
/// gone from the list once deleted.
pub async fn bots_are_listed_by_id_descending(store: &dyn Store) {
    let ids: Vec<BotId> = (0..3).map(|_| fresh_bot_id()).collect();
    for id in &ids {
        store.create_bot(&bot(id)).await.expect("create bot");
    }
    let ours = |all: Vec<(BotId, String)>| -> Vec<(BotId, String)> {
        all.into_iter().filter(|(id, _)| ids.contains(id)).collect()
    };
    let listed: Vec<BotId> = ours(every_listed_bot(store, 2).await)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let expected: Vec<BotId> = ids.iter().rev().cloned().collect();
    assert_eq!(listed, expected, "bots by id descending");

    let mut renamed = bot(&ids[1]);
    renamed.name = "Renamed".into();
    store.update_bot(&renamed).await.expect("update bot");
    store.delete_bot(&ids[0]).await.expect("delete bot");
    let listed = ours(every_listed_bot(store, 100).await);
    assert_eq!(
        listed,
        vec![
            (ids[2].clone(), "Conformance".to_owned()),
            (ids[1].clone(), "Renamed".to_owned())
        ],
        "the list shows updates and drops deleted bots"
    );
    for id in &ids[1..] {
        store.delete_bot(id).await.expect("delete bot");
    }
}

/// Messages: one bot's, newest first, paged; another bot's are not listed.
pub async fn messages_are_listed_newest_first(store: &dyn Store) {
    let b = fresh_bot_id();
    let other = fresh_bot_id();
    store.create_bot(&bot(&b)).await.unwrap();
    store.create_bot(&bot(&other)).await.unwrap();
    let message = |bot: &BotId, n: u32| Message {
        id: MessageId::generate(),
        bot_id: bot.clone(),
        event: EventType::parse(&format!("order.{n}")).unwrap(),
        data: json!({"n": n}),
        timestamp: now(),
    };
    let mine: Vec<Message> = (0..3).map(|n| message(&b, n)).collect();
    for m in &mine {
        store.put_message(m, later()).await.unwrap();
    }
    store
        .put_message(&message(&other, 9), later())
        .await
        .unwrap();

    let first = store.list_messages(&b, &Page::first(2)).await.unwrap();
    assert_eq!(first.items, vec![mine[2].clone(), mine[1].clone()]);
    let next = first.next.expect("a second page");
    let second = store
        .list_messages(
            &b,
            &Page {
                limit: 2,
                cursor: Some(next),
            },
        )
        .await
        .unwrap();
    assert_eq!(second.items, vec![mine[0].clone()]);
    assert_eq!(second.next, None);
    let fresh = fresh_bot_id();
    assert!(store
        .list_messages(&fresh, &Page::first(10))
        .await
        .unwrap()
        .items
        .is_empty());
}

/// Settings: the first value stored under a name stays.
pub async fn settings_are_stored_once(store: &dyn Store) {
    let name = format!("conformance-{}", fresh_bot_id());
    assert_eq!(
        store.put_setting_once(&name, "first").await.unwrap(),
        "first"
    );
    assert_eq!(
        store.put_setting_once(&name, "second").await.unwrap(),
        "first"
    );
    let other = format!("{name}-other");
    assert_eq!(
        store.put_setting_once(&other, "second").await.unwrap(),
        "second"
    );
}

/// Settings: of concurrent first writes with different values, all answer
/// the same one.
pub async fn concurrent_settings_agree_on_one_value(store: Arc<dyn Store>) {
    let name = format!("conformance-race-{}", fresh_bot_id());
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let name = name.clone();
            tokio::spawn(async move { store.put_setting_once(&name, &format!("v{i}")).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task").expect("put setting"));
    }
    answers.dedup();
    assert_eq!(
        answers.len(),
        1,
        "every caller gets the stored value: {answers:?}"
    );
}
