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
    /// stored + value.
    Add,
    /// stored − value.
    Subtract,
    /// stored × value.
    Multiply,
    /// stored ÷ value (a zero `value` fails the action).
    Divide,
}

/// A condition's `op`: `==`, `!=`, `>`, `>=`, `<`, `<=` or `contains`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    /// `==`: equal (as numbers when both sides are numbers, else as text).
    #[serde(rename = "==")]
    Eq,
    /// `!=`: not equal, compared as `==` does.
    #[serde(rename = "!=")]
    Ne,
    /// `>`: left after right (as numbers when both are, else in text order).
    #[serde(rename = ">")]
    Gt,
    /// `>=`: left after or equal to right, compared as `>` does.
    #[serde(rename = ">=")]
    Ge,
    /// `<`: left before right, compared as `>` does.
    #[serde(rename = "<")]
    Lt,
    /// `<=`: left before or equal to right, compared as `>` does.
    #[serde(rename = "<=")]
    Le,
    /// `contains`: the left array holds the right value, or the left
    /// side's text holds the right side's text.
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
        /// The HTTP method, `POST` when left out.
        #[serde(default = "default_method")]
        method: String,
        /// The http(s) URL called (a template; checked against the SSRF guard).
        url: String,
        /// Request headers: names to template texts.
        #[serde(default)]
        headers: Map<String, Value>,
        /// The JSON body (a template); none when left out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<Value>,
    },
    /// `discord_message`: posts `content` and/or up to 10 `embeds` to a Discord webhook.
    DiscordMessage {
        /// The Discord webhook URL (a template); its token is a credential.
        webhook_url: Secret,
        /// The message text (a template), cut to Discord's 2000 characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        /// Discord embed objects (templates), at most 10.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        embeds: Option<Vec<Value>>,
        /// The name the message is posted under (a template, 1 to 80
        /// characters, without the names Discord refuses).
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
        /// The message text (a template), as for `discord_message`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        /// Discord embed objects (templates), at most 10.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        embeds: Option<Vec<Value>>,
        /// As for `discord_message`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        allowed_mentions: Option<Value>,
        /// Only the user who interacted sees the message (Discord flag 64).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ephemeral: bool,
        /// Replaces the interaction's deferred answer instead of posting a
        /// follow-up (`PATCH …/messages/@original`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        edit_original: bool,
    },
    /// `slack_message`: posts `text` (and `blocks`) to a Slack incoming webhook.
    SlackMessage {
        /// The Slack incoming-webhook URL (a template); its path is a credential.
        webhook_url: Secret,
        /// The message text (a template, mrkdwn).
        text: String,
        /// Slack Block Kit blocks (templates).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        blocks: Option<Vec<Value>>,
    },
    /// `telegram_message`: sends `text` to `chat_id` (a number or
    /// `@channel`) as the Telegram bot `bot_token`.
    TelegramMessage {
        /// The bot's token from BotFather (`123456:ABC…`, a template).
        bot_token: Secret,
        /// The chat: a number or an `@channel` name (a template).
        chat_id: Value,
        /// The message text (a template), cut to Telegram's 4096 UTF-16 code units.
        text: String,
        /// Telegram's `parse_mode`: `HTML`, `Markdown` or `MarkdownV2`;
        /// plain text when left out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parse_mode: Option<String>,
    },
    /// `set_variable`: stores `value` (any JSON) under `name`.
    SetVariable {
        /// The variable's name (a template).
        name: String,
        /// The value stored (a template).
        value: Value,
    },
    /// `update_variable`: applies `op` with the number `value` to the number
    /// stored under `name`.
    UpdateVariable {
        /// The variable's name (a template).
        name: String,
        /// What is done to the stored number.
        op: VariableOp,
        /// The number (or a template that renders one).
        value: Value,
    },
    /// `delete_variable`: removes the variable `name`.
    DeleteVariable {
        /// The variable's name (a template).
        name: String,
    },
    /// `condition`: runs `then` when `if` holds, else `else`.
    Condition {
        /// The test (JSON: `if`).
        #[serde(rename = "if")]
        condition: Condition,
        /// The actions run when it holds.
        #[serde(default)]
        then: Vec<ActionSpec>,
        /// The actions run when it does not (JSON: `else`).
        #[serde(default, rename = "else")]
        otherwise: Vec<ActionSpec>,
    },
    /// `publish`: publishes `event` with `data` as the bot's event, sent to
    /// its endpoints whose filters match.
    Publish {
        /// The event type (a template; rendered, it must be an [`EventType`](crate::EventType)).
        event: String,
        /// The event's data (a template); `null` when left out.
        #[serde(default)]
        data: Value,
    },
    /// `log`: writes `message` to the function's log and the run's action result.
    Log {
        /// The text logged (a template), cut to 2000 characters.
        message: String,
    },
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
