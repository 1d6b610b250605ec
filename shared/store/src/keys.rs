//! The storage key scheme: the one place a record's key is written.
//!
//! Both adapters keep every record under a string partition key (`pk`) and a
//! sort key (`sk`), built only by the functions here. The SQLite adapter
//! stores them in the `pk` and `sk` columns of its `records` table; the
//! DynamoDB adapter in the `pk` and `sk` attributes of its one table. Stored
//! SQLite files and DynamoDB items are read back with these same keys, so a
//! change here is a data migration.
//!
//! | what | pk | sk |
//! |---|---|---|
//! | bot | `BOT#{bot}` | `BOT` |
//! | hook | `BOT#{bot}` | `HOOK#{hook}` |
//! | endpoint | `BOT#{bot}` | `EP#{endpoint}` |
//! | message | `BOT#{bot}` | `MSG#{message}` |
//! | variable | `BOT#{bot}` | `VAR#{name}` |
//! | idempotency claim of a hook call | `BOT#{bot}` | `IDEM#call:{hook}:{key}` |
//! | idempotency claim of a publish | `BOT#{bot}` | `IDEM#publish:{key}` |
//! | delivery pointer (DynamoDB, earlier versions; deleted with its endpoint) | `BOT#{bot}` | `DLVPTR#{delivery}` |
//! | run | `RUN#{bot}#{hook}` | `{run}` |
//! | delivery | `DLV#{bot}#{endpoint}` | `{delivery}` |
//! | hook call rate counter | `CTR#rate:{bot}:{hook}:{window}` | `CTR` |
//! | outbound target's count and pause | `CTR#send:{bot}:{target}` | `CTR` |
//! | bot list entry (DynamoDB only) | `BOTS` | `BOT#{bot}` |
//! | installation setting | `SETTING#{name}` | `SETTING` |
//!
//! Ids end in a time-sortable ULID, so ordering by `sk` descending lists
//! newest first. Bot, hook and endpoint ids never contain `#` or `:`
//! (`[A-Za-z0-9_-]`), so no two kinds of key can collide. A list cursor is
//! the last item's `sk` less the kind prefix (`HOOK#`, `EP#`, …), which for
//! runs and deliveries is the whole `sk`.

use std::fmt::Display;

use hooklane_domain::IdempotencyKey;

use crate::ports::{ClaimScope, RateWindow, SendTarget};

/// The sort key of a bot record in its own partition.
pub(crate) const BOT_SK: &str = "BOT";
/// The sort key prefix of hooks in a bot's partition.
pub(crate) const HOOK_PREFIX: &str = "HOOK#";
/// The sort key prefix of endpoints in a bot's partition.
pub(crate) const ENDPOINT_PREFIX: &str = "EP#";
/// The sort key prefix of messages in a bot's partition.
pub(crate) const MESSAGE_PREFIX: &str = "MSG#";
/// The sort key prefix of variables in a bot's partition.
pub(crate) const VARIABLE_PREFIX: &str = "VAR#";
/// The sort key prefix of idempotency claims in a bot's partition.
pub(crate) const CLAIM_PREFIX: &str = "IDEM#";
/// The sort key prefix of delivery pointers in a bot's partition (DynamoDB).
pub(crate) const DELIVERY_POINTER_PREFIX: &str = "DLVPTR#";
/// The sort key of a counter in its own partition.
pub(crate) const COUNTER_SK: &str = "CTR";
/// The partition of the bot list (DynamoDB: one entry per bot).
pub(crate) const BOTS_PK: &str = "BOTS";
/// The sort key of an installation setting in its own partition.
pub(crate) const SETTING_SK: &str = "SETTING";
/// A key no record has: reading it tells whether the store answers.
pub(crate) const PING: &str = "PING";

/// `BOT#{bot}`: the partition of a bot and its hooks, endpoints, messages,
/// variables, claims and delivery pointers.
pub(crate) fn bot_pk(bot: impl Display) -> String {
    format!("BOT#{bot}")
}

/// The bot id in a `BOT#{bot}` key (the key itself when it has no such prefix).
pub(crate) fn bot_of_pk(pk: &str) -> &str {
    pk.strip_prefix("BOT#").unwrap_or(pk)
}

/// `SETTING#{name}`: the partition of one installation setting (sort key
/// [`SETTING_SK`]).
pub(crate) fn setting_pk(name: &str) -> String {
    format!("SETTING#{name}")
}

/// `HOOK#{hook}`.
pub(crate) fn hook_sk(hook: impl Display) -> String {
    format!("{HOOK_PREFIX}{hook}")
}

/// `EP#{endpoint}`.
pub(crate) fn endpoint_sk(endpoint: impl Display) -> String {
    format!("{ENDPOINT_PREFIX}{endpoint}")
}

/// `MSG#{message}`.
pub(crate) fn message_sk(message: impl Display) -> String {
    format!("{MESSAGE_PREFIX}{message}")
}

/// `VAR#{name}`.
pub(crate) fn variable_sk(name: &str) -> String {
    format!("{VARIABLE_PREFIX}{name}")
}

/// `DLVPTR#{delivery}`.
pub(crate) fn delivery_pointer_sk(delivery: impl Display) -> String {
    format!("{DELIVERY_POINTER_PREFIX}{delivery}")
}

/// `IDEM#call:{hook}:{key}` or `IDEM#publish:{key}`: a claim of `key` in
/// `scope`, in the bot's partition.
pub(crate) fn claim_sk(scope: &ClaimScope<'_>, key: &IdempotencyKey) -> String {
    match scope {
        ClaimScope::HookCall(hook) => format!("{CLAIM_PREFIX}call:{hook}:{key}"),
        ClaimScope::Publish => format!("{CLAIM_PREFIX}publish:{key}"),
    }
}

/// `RUN#{bot}#{hook}`: the partition of a hook's runs (sort key: the run id).
pub(crate) fn run_pk(bot: impl Display, hook: impl Display) -> String {
    format!("{}{hook}", runs_of_bot(bot))
}

/// `RUN#{bot}#`: the start of every run partition of a bot.
pub(crate) fn runs_of_bot(bot: impl Display) -> String {
    format!("RUN#{bot}#")
}

/// `DLV#{bot}#{endpoint}`: the partition of an endpoint's delivery log
/// (sort key: the delivery id).
pub(crate) fn delivery_pk(bot: impl Display, endpoint: impl Display) -> String {
    format!("{}{endpoint}", deliveries_of_bot(bot))
}

/// `DLV#{bot}#`: the start of every delivery partition of a bot.
pub(crate) fn deliveries_of_bot(bot: impl Display) -> String {
    format!("DLV#{bot}#")
}

/// `CTR#rate:{bot}:{hook}:{window}`: the partition of a hook's call count
/// in one rate window (sort key [`COUNTER_SK`]).
pub(crate) fn counter_pk(window: &RateWindow<'_>) -> String {
    let RateWindow { bot, hook, window } = window;
    format!("CTR#rate:{bot}:{hook}:{window}")
}

/// `CTR#send:{bot}:{target}`: the partition of an outbound target's count
/// (of its latest window) and pause (sort key [`COUNTER_SK`]).
pub(crate) fn send_target_pk(target: &SendTarget<'_>) -> String {
    let SendTarget { bot, target } = target;
    format!("CTR#send:{bot}:{target}")
}

#[cfg(test)]
mod tests {
    use hooklane_domain::{BotId, HookId};

    use super::*;

    #[test]
    fn keys_keep_the_stored_scheme() {
        let bot = BotId::parse("bot_01").unwrap();
        let hook = HookId::parse("hk_01").unwrap();
        assert_eq!(bot_pk(&bot), "BOT#bot_01");
        assert_eq!(hook_sk(&hook), "HOOK#hk_01");
        assert_eq!(run_pk(&bot, &hook), "RUN#bot_01#hk_01");
        assert_eq!(delivery_pk(&bot, "ep_1"), "DLV#bot_01#ep_1");
        let abc = IdempotencyKey::parse("abc").unwrap();
        assert_eq!(
            claim_sk(&ClaimScope::HookCall(&hook), &abc),
            "IDEM#call:hk_01:abc"
        );
        assert_eq!(claim_sk(&ClaimScope::Publish, &abc), "IDEM#publish:abc");
        let window = RateWindow {
            bot: &bot,
            hook: &hook,
            window: 42,
        };
        assert_eq!(counter_pk(&window), "CTR#rate:bot_01:hk_01:42");
        let target = SendTarget {
            bot: &bot,
            target: "ep_01",
        };
        assert_eq!(send_target_pk(&target), "CTR#send:bot_01:ep_01");
    }
}
