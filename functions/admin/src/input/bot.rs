//! The body that creates a bot.

use hooklane_domain::BotId;
use hooklane_web::{ApiError, ErrorCode};
use serde_json::Value;

use super::fields::{invalid, Fields};

/// What creating a bot takes: `{"name": "My bot", "id": "…"}`. Answers the
/// trimmed name (1 to [`MAX_NAME_CHARS`](super::MAX_NAME_CHARS) characters) and the caller's own
/// id, if one was given.
///
/// # Errors
/// 400 with the code naming what is wrong: `invalid_json` (not an object),
/// `invalid_name`, `invalid_id` (not a valid bot id), `invalid_bot` (a
/// field a bot does not take).
pub fn check_bot(value: Value) -> Result<(String, Option<BotId>), ApiError> {
    let Value::Object(obj) = value else {
        return Err(invalid(
            ErrorCode::InvalidJson,
            "the body must be a JSON object such as {\"name\": \"My bot\"}",
        ));
    };
    let f = Fields::new(&obj, "", ErrorCode::InvalidBot);
    f.only(&["name", "id"], "a bot")?;
    let names = Fields::new(&obj, "", ErrorCode::InvalidName);
    names.required_str("name", "the bot's display name")?;
    let name = names.name("name", "")?;
    let id = f.with_code(ErrorCode::InvalidId).id("id", BotId::parse)?;
    Ok((name, id))
}
