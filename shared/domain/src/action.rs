//! A hook's actions: the bot's custom event, run in order by the dispatcher.
//! Every string in an action is a template (see `hooklane-template`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::secret::Secret;

/// One action and how a failure of it is treated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionSpec {
    /// The action, its `type` and fields flattened into this object.
    #[serde(flatten)]
    pub action: Action,
    /// When true, a failure of this action is logged and the run goes on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub continue_on_error: bool,
}

/// What `update_variable` does to a stored number with its `value`:
/// `add`, `subtract`, `multiply` or `divide`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableOp {
    Add,
    Subtract,
    Multiply,
    Divide,
}

/// A condition's `op`: `==`, `!=`, `>`, `>=`, `<`, `<=` or `contains`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "contains")]
    Contains,
}

/// A condition's `if`: `{"left": …, "op": "==", "right": …}`; either side
/// may be a value or a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The left side, rendered before comparing.
    pub left: Value,
    /// How the sides compare.
    pub op: CompareOp,
    /// The right side, rendered before comparing.
    pub right: Value,
}

fn default_method() -> String {
    "POST".to_owned()
}

/// What an action does, tagged by `type` in JSON (`{"type": "log",
/// "message": "…"}`). The `type` names are the variants in snake_case;
/// [`Action::TYPES`] lists them and [`Action::kind`] answers one, both
/// derived from this enum, so a new variant is a new accepted `type`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames, strum::IntoStaticStr,
)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    /// `http_request`: calls `url` with `method` (default `POST`), `headers` and `body`.
    HttpRequest {
        #[serde(default = "default_method")]
        method: String,
        url: String,
        #[serde(default)]
        headers: Map<String, Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<Value>,
    },
    /// `discord_message`: posts `content` and/or up to 10 `embeds` to a Discord webhook.
    DiscordMessage {
        webhook_url: Secret,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        embeds: Option<Vec<Value>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
        /// Discord's `allowed_mentions` object, sent as it is; when left
        /// out, substituted values cannot ping `@everyone`, `@here` or roles.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        allowed_mentions: Option<Value>,
    },
    /// `discord_followup`: answers the Discord interaction that started the
    /// run (its payload's `application_id` and `token`): posts `content`
    /// and/or up to 10 `embeds` as a follow-up message (`ephemeral`: only
    /// the user who interacted sees it), or with `edit_original` replaces
    /// the deferred answer.
    DiscordFollowup {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        embeds: Option<Vec<Value>>,
        /// As for `discord_message`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        allowed_mentions: Option<Value>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ephemeral: bool,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        edit_original: bool,
    },
    /// `slack_message`: posts `text` (and `blocks`) to a Slack incoming webhook.
    SlackMessage {
        webhook_url: Secret,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        blocks: Option<Vec<Value>>,
    },
    /// `telegram_message`: sends `text` to `chat_id` (a number or
    /// `@channel`) as the Telegram bot `bot_token`.
    TelegramMessage {
        bot_token: Secret,
        chat_id: Value,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parse_mode: Option<String>,
    },
    /// `set_variable`: stores `value` (any JSON) under `name`.
    SetVariable { name: String, value: Value },
    /// `update_variable`: applies `op` with the number `value` to the number
    /// stored under `name`.
    UpdateVariable {
        name: String,
        op: VariableOp,
        value: Value,
    },
    /// `delete_variable`: removes the variable `name`.
    DeleteVariable { name: String },
    /// `condition`: runs `then` when `if` holds, else `else`.
    Condition {
        #[serde(rename = "if")]
        condition: Condition,
        #[serde(default)]
        then: Vec<ActionSpec>,
        #[serde(default, rename = "else")]
        otherwise: Vec<ActionSpec>,
    },
    /// `publish`: publishes `event` with `data` as the bot's event, sent to
    /// its endpoints whose filters match.
    Publish {
        event: String,
        #[serde(default)]
        data: Value,
    },
    /// `log`: writes `message` to the function's log and the run's action result.
    Log { message: String },
}

impl Action {
    /// Every action `type` as written in JSON, in declaration order
    /// (`http_request`, `discord_message`, …, `log`).
    pub const TYPES: &'static [&'static str] = <Action as strum::VariantNames>::VARIANTS;

    /// The `type` as written in JSON, such as `http_request`.
    pub fn kind(&self) -> &'static str {
        self.into()
    }

    /// True for actions that change something outside Hooklane's own state.
    pub fn has_outside_effect(&self) -> bool {
        matches!(
            self,
            Action::HttpRequest { .. }
                | Action::DiscordMessage { .. }
                | Action::DiscordFollowup { .. }
                | Action::SlackMessage { .. }
                | Action::TelegramMessage { .. }
                | Action::Publish { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_type_is_a_type_serde_reads_and_kind_answers() {
        for kind in Action::TYPES {
            // A known type with its fields missing fails on a field, not on
            // the type; one whose fields are all optional parses.
            match serde_json::from_value::<Action>(serde_json::json!({"type": kind})) {
                Ok(action) => assert_eq!(action.kind(), *kind),
                Err(e) => assert!(!e.to_string().contains("unknown variant"), "{kind}: {e}"),
            }
        }
        let log: Action =
            serde_json::from_value(serde_json::json!({"type": "log", "message": "x"}))
                .expect("a log action");
        assert_eq!(log.kind(), "log");
        let publish: Action =
            serde_json::from_value(serde_json::json!({"type": "publish", "event": "a.b"}))
                .expect("a publish action");
        assert_eq!(publish.kind(), "publish");
        assert!(Action::TYPES.contains(&"update_variable"));
    }
}
