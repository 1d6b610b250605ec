//! A short-lived cache of bots and hooks for the hot path. Entries live
//! `CACHE_TTL` (5 s): a rotated API key, a changed or deleted hook is in
//! force everywhere within that time. A credential that the cached entry
//! refuses is checked once more against the store (`reload_if_changed`),
//! so a new key or secret works at once. A hook's generic signature
//! settings are parsed once, as it is read from the store ([`LoadedHook`]).

use hooklane_auth::signature::{Generic, GenericError};
use hooklane_domain::{Bot, BotId, Hook, HookAuth, HookId};
use hooklane_runtime::cache::TtlCache;
use hooklane_store::{Store, StoreError};

/// A hook as read from the store, with what its calls are checked against
/// parsed once: the generic scheme's settings. Reads as the [`Hook`].
#[derive(Debug, Clone)]
pub struct LoadedHook {
    hook: Hook,
    /// [`Generic::of_auth`] of the hook's auth: `Ok(None)` unless it is
    /// `hmac` with the generic scheme; `Err` for stored settings that do not
    /// parse (its calls answer 500).
    pub generic: Result<Option<Generic>, GenericError>,
}

impl LoadedHook {
    /// `hook` with its settings parsed.
    pub fn new(hook: Hook) -> Self {
        let generic = Generic::of_auth(&hook.auth);
        Self { hook, generic }
    }

    /// The hook itself.
    pub fn into_hook(self) -> Hook {
        self.hook
    }
}

impl std::ops::Deref for LoadedHook {
    type Target = Hook;

    fn deref(&self) -> &Hook {
        &self.hook
    }
}

pub use hooklane_runtime::cache::CACHE_TTL;
const MAX_ENTRIES: usize = 10_000;

/// The ingress's bots and hooks, each kept [`CACHE_TTL`], "none" included.
#[derive(Clone)]
pub struct Cache {
    bots: TtlCache<BotId, Option<Bot>>,
    hooks: TtlCache<(BotId, HookId), Option<LoadedHook>>,
}

impl Default for Cache {
    fn default() -> Self {
        Self {
            bots: TtlCache::new(CACHE_TTL, MAX_ENTRIES),
            hooks: TtlCache::new(CACHE_TTL, MAX_ENTRIES),
        }
    }
}

impl Cache {
    pub async fn bot(&self, store: &dyn Store, id: &BotId) -> Result<Option<Bot>, StoreError> {
        self.bots.get_or_load(id, || store.get_bot(id)).await
    }

    pub async fn hook(
        &self,
        store: &dyn Store,
        bot: &BotId,
        id: &HookId,
    ) -> Result<Option<LoadedHook>, StoreError> {
        let key = (bot.clone(), id.clone());
        self.hooks
            .get_or_load(&key, || async {
                Ok(store.get_hook(bot, id).await?.map(LoadedHook::new))
            })
            .await
    }

    /// Reads `hook` (and, for an `api_key` hook, its bot) again from the
    /// store, past the cache, and caches what it read. Returns the hook as
    /// stored when what authenticates its calls changed (its auth, its
    /// `enabled`, or its bot's key); `None` when nothing did or the hook is
    /// gone.
    pub async fn reload_if_changed(
        &self,
        store: &dyn Store,
        hook: &Hook,
    ) -> Result<Option<LoadedHook>, StoreError> {
        let key = (hook.bot_id.clone(), hook.id.clone());
        let fresh = store
            .get_hook(&hook.bot_id, &hook.id)
            .await?
            .map(LoadedHook::new);
        self.hooks.put(key, fresh.clone());
        let Some(fresh) = fresh else {
            return Ok(None);
        };
        let mut changed = fresh.auth != hook.auth || fresh.enabled != hook.enabled;
        if matches!(fresh.auth, HookAuth::ApiKey) {
            changed |= self.reload_bot(store, &hook.bot_id).await?.is_some();
        }
        Ok(changed.then_some(fresh))
    }

    /// Reads the bot again from the store, past the cache, and caches it.
    /// Returns it when its API key changed from the cached one (or it was
    /// not cached); `None` when the key is the same or the bot is gone.
    pub async fn reload_bot(
        &self,
        store: &dyn Store,
        id: &BotId,
    ) -> Result<Option<Bot>, StoreError> {
        let cached = self.bots.fresh(id).flatten();
        let bot = store.get_bot(id).await?;
        self.bots.put(id.clone(), bot.clone());
        Ok(bot.filter(|b| cached.is_none_or(|c| c.api_key_hash != b.api_key_hash)))
    }
}
