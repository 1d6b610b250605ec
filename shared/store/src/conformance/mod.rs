//! The behaviour every `Store` and `Queue` adapter must show, written once
//! (only with the `conformance` feature: it is test support, not part of
//! the production API). Each adapter's tests call `store_suite`,
//! `store_concurrency_suite` and `queue_suite` on a fresh instance; a failing
//! check panics with what was expected. The checks are in `store.rs` and
//! `queue.rs`; the records they write are built in `records.rs`.

mod catalog;
mod queue;
mod records;
mod store;

pub use self::catalog::*;
pub use self::queue::*;
pub use self::records::{bot, endpoint, hook};
pub use self::store::*;

use std::sync::Arc;

use crate::ports::Store;

/// Runs every Store check against one adapter.
pub async fn store_suite(store: &dyn Store) {
    bots_are_created_once_read_updated_and_deleted(store).await;
    hooks_are_created_listed_newest_first_updated_and_deleted(store).await;
    lists_page_with_cursors(store).await;
    runs_are_upserted_and_listed_newest_first(store).await;
    endpoints_and_their_deliveries_go_together(store).await;
    a_delivery_is_found_by_id_among_many_endpoints(store).await;
    messages_are_kept_for_resends(store).await;
    variables_swap_only_from_the_expected_version(store).await;
    keys_are_claimed_once_until_released(store).await;
    claims_of_one_key_in_other_scopes_do_not_collide(store).await;
    counters_count_up(store).await;
    send_counts_follow_the_latest_window(store).await;
    paused_targets_answer_their_pause_with_every_count(store).await;
    deleting_a_bot_removes_everything_under_it(store).await;
    bots_are_listed_by_id_descending(store).await;
    messages_are_listed_newest_first(store).await;
    settings_are_stored_once(store).await;
    store.ping().await.expect("ping");
}

/// Runs the concurrency checks that need a shareable store.
pub async fn store_concurrency_suite(store: Arc<dyn Store>) {
    concurrent_increments_never_lose_one(store.clone()).await;
    concurrent_counter_increments_never_lose_one(store.clone()).await;
    concurrent_send_counts_never_lose_one(store.clone()).await;
    concurrent_claims_of_one_key_let_exactly_one_win(store.clone()).await;
    concurrent_settings_agree_on_one_value(store).await;
}
