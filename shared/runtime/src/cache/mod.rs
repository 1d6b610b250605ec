//! What the dispatcher reads again and again, kept [`CACHE_TTL`] per
//! process: hooks (their actions) and each bot's endpoints (fan-out and
//! deliveries), so a warm Lambda instance reads none of them per job. The
//! ingress keeps its bots and hooks in the same [`TtlCache`], for the same
//! time.
//!
//! Staleness is bounded: a value is never used more than [`CACHE_TTL`]
//! after it was read. A change made in another process (the admin
//! function in Lambda) is in force everywhere within that time; a change
//! made through this process's [`Services`](crate::Services) store (the
//! admin API under `hooklane dev`) drops the entries it touches at once
//! (see [`Invalidating`]).

mod invalidating;
mod ttl;

use std::sync::Arc;
use std::time::Duration;

use hooklane_domain::{BotId, Endpoint, EndpointId, Hook, HookId};
use hooklane_store::{Page, Store, StoreError};

pub use invalidating::Invalidating;
pub use ttl::TtlCache;

/// How long a cached bot, hook or endpoint is used before it is read
/// again: 5 s.
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// The most keys each kind of entry holds (hooks, bots' endpoint lists).
const MAX_ENTRIES: usize = 10_000;

/// The cached hooks and endpoint lists of one process; cheap to clone
/// (the clones share the entries). Hooks keep the answer "no such hook"
/// too; see each method for how a missing record is read again.
#[derive(Clone)]
pub struct Lookups {
    hooks: TtlCache<(BotId, HookId), Option<Hook>>,
    endpoints: TtlCache<BotId, Arc<[Endpoint]>>,
}

impl Default for Lookups {
    fn default() -> Self {
        Self::with_ttl(CACHE_TTL)
    }
}

impl Lookups {
    /// Empty, keeping each entry `ttl` (the default is [`CACHE_TTL`]).
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            hooks: TtlCache::new(ttl, MAX_ENTRIES),
            endpoints: TtlCache::new(ttl, MAX_ENTRIES),
        }
    }

    /// The hook, or `None` when there is none (both cached).
    ///
    /// # Errors
    /// The store's error when it had to be read and could not be.
    pub async fn hook(
        &self,
        store: &dyn Store,
        bot: &BotId,
        id: &HookId,
    ) -> Result<Option<Hook>, StoreError> {
        let key = (bot.clone(), id.clone());
        self.hooks
            .get_or_load(&key, || store.get_hook(bot, id))
            .await
    }

    /// The hook as [`Lookups::hook`] answers it, except that a cached "no
    /// such hook" is read again past the cache (the hook may be newer than
    /// the entry): for work the ingress accepted, whose hook existed then.
    ///
    /// # Errors
    /// The store's error when it had to be read and could not be.
    pub async fn existing_hook(
        &self,
        store: &dyn Store,
        bot: &BotId,
        id: &HookId,
    ) -> Result<Option<Hook>, StoreError> {
        if let Some(hook) = self.hook(store, bot, id).await? {
            return Ok(Some(hook));
        }
        let hook = store.get_hook(bot, id).await?;
        self.hooks.put((bot.clone(), id.clone()), hook.clone());
        Ok(hook)
    }

    /// Every endpoint of the bot, enabled or not, newest first (all pages
    /// of [`Store::list_endpoints`], cached as one entry).
    ///
    /// # Errors
    /// The store's error when it had to be read and could not be.
    pub async fn endpoints(
        &self,
        store: &dyn Store,
        bot: &BotId,
    ) -> Result<Arc<[Endpoint]>, StoreError> {
        self.endpoints
            .get_or_load(bot, || all_endpoints(store, bot))
            .await
    }

    /// One endpoint of the bot, from [`Lookups::endpoints`]; one that is not
    /// there is read past the cache (it may be newer than the entry).
    /// `None` when it does not exist.
    ///
    /// # Errors
    /// The store's error when it had to be read and could not be.
    pub async fn endpoint(
        &self,
        store: &dyn Store,
        bot: &BotId,
        id: &EndpointId,
    ) -> Result<Option<Endpoint>, StoreError> {
        let all = self.endpoints(store, bot).await?;
        if let Some(found) = all.iter().find(|e| &e.id == id) {
            return Ok(Some(found.clone()));
        }
        store.get_endpoint(bot, id).await
    }

    /// Drops the bot's cached hooks and endpoints (the bot was deleted).
    pub fn forget_bot(&self, id: &BotId) {
        self.hooks.forget_where(|(bot, _)| bot == id);
        self.endpoints.forget(id);
    }

    /// Drops the cached hook.
    pub fn forget_hook(&self, bot: &BotId, id: &HookId) {
        self.hooks.forget(&(bot.clone(), id.clone()));
    }

    /// Drops the bot's cached endpoints.
    pub fn forget_endpoints(&self, bot: &BotId) {
        self.endpoints.forget(bot);
    }
}

/// Every endpoint of the bot, page after page.
async fn all_endpoints(store: &dyn Store, bot: &BotId) -> Result<Arc<[Endpoint]>, StoreError> {
    let mut all = Vec::new();
    let mut page = Page::first(100);
    loop {
        let got = store.list_endpoints(bot, &page).await?;
        all.extend(got.items);
        match got.next {
            Some(next) => page.cursor = Some(next),
            None => return Ok(all.into()),
        }
    }
}
