//! Credential rotation: a new API key or secret works at once while the
//! old one was cached.

use hooklane_domain::{BotId, HookAuth, HookId, Job};
use hooklane_store::Store;

use crate::support::*;

#[tokio::test]
async fn a_new_api_key_or_secret_works_at_once_while_the_old_one_was_cached() {
    let t = Ingress::start().await;
    let with_key = |key: &str| {
        Call::post(path("hk_apikey"))
            .json("{}")
            .header("authorization", format!("Bearer {key}"))
            .build()
    };
    // The bot and its key hash are now cached.
    assert_eq!(t.send(with_key(&t.key)).await.status, 202);
    let rotated = hooklane_auth::api_key::generate();
    let mut bot = t
        .store
        .get_bot(&BotId::parse(BOT).unwrap())
        .await
        .unwrap()
        .unwrap();
    bot.api_key_hash = hooklane_auth::api_key::hash(&rotated);
    t.store.update_bot(&bot).await.unwrap();
    assert_eq!(t.send(with_key(&rotated)).await.status, 202);
    // Checking the new key refreshed the cache: the old key is refused here at once.
    let old = t.send(with_key(&t.key)).await;
    assert_eq!(old.status, 401);
    assert_eq!(old.body["error"]["code"], "unauthorized");

    // Publishing takes the rotated key at once too.
    let publish = |key: &str| {
        Call::post(format!("/v1/bots/{BOT}/events"))
            .json(r#"{"event": "order.created", "data": {"n": 1}}"#)
            .header("authorization", format!("Bearer {key}"))
            .build()
    };
    assert_eq!(t.send(publish(&t.key)).await.status, 401);
    let again = hooklane_auth::api_key::generate();
    bot.api_key_hash = hooklane_auth::api_key::hash(&again);
    t.store.update_bot(&bot).await.unwrap();
    assert_eq!(t.send(publish(&again)).await.status, 202);
    assert_eq!(t.send(publish(&rotated)).await.status, 401);
    assert_eq!(t.drain().await.len(), 3, "two calls and one publish");

    let with_secret = |secret: &str| {
        Call::post(path("hk_botpress"))
            .json("{}")
            .header("x-bp-secret", secret)
            .build()
    };
    assert_eq!(t.send(with_secret(BOTPRESS_SECRET)).await.status, 202);
    let mut hook = t
        .store
        .get_hook(
            &BotId::parse(BOT).unwrap(),
            &HookId::parse("hk_botpress").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    // A new secret in a new header: it works at once, and that header is
    // kept from the actions like the old one.
    hook.auth = HookAuth::SecretHeader {
        header: "x-team-secret".into(),
        secret: "team-secret-rotated".into(),
    };
    t.store.update_hook(&hook).await.unwrap();
    let rotated_call = Call::post(path("hk_botpress"))
        .json("{}")
        .header("x-team-secret", "team-secret-rotated")
        .build();
    assert_eq!(t.send(rotated_call).await.status, 202);
    assert_eq!(t.send(with_secret(BOTPRESS_SECRET)).await.status, 401);
    let queued = t.drain().await;
    assert_eq!(queued.len(), 2, "only the accepted calls");
    let Job::HookCall(call) = &queued[1].job else {
        panic!("not a hook call")
    };
    assert!(
        !call.request.headers.contains_key("x-team-secret"),
        "the new secret reached the actions: {:?}",
        call.request.headers
    );
}
