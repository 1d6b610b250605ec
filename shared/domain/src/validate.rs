//! Rules for names and tokens that travel in URLs and templates. Event
//! types and filters are [`EventType`](crate::EventType) and
//! [`EventFilter`](crate::EventFilter).

/// A variable name: 1 to 64 of `[A-Za-z0-9_.-]`.
pub fn is_variable_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// A Telegram bot token as @BotFather gives it: the bot's id (digits),
/// `:`, then 1 or more of `[A-Za-z0-9_-]`. It goes into the Bot API's
/// path (`/bot{token}/…`), so nothing else may.
pub fn is_telegram_bot_token(s: &str) -> bool {
    s.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && !secret.is_empty()
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_their_patterns() {
        assert!(is_variable_name("user.balance"));
        assert!(!is_variable_name("a{b}"));
    }

    #[test]
    fn a_bot_token_is_digits_a_colon_and_letters_digits_underscores_or_dashes() {
        for ok in ["123456:ABC-def_ghi", "1:a"] {
            assert!(is_telegram_bot_token(ok), "{ok}");
        }
        for bad in [
            "",
            "notatoken",
            "12345",
            "123:",
            ":abc",
            "abc:def",
            "123:abc/../../x",
            "123:abc:def",
            " 123:abc",
            "123:abc?x=1",
        ] {
            assert!(!is_telegram_bot_token(bad), "{bad}");
        }
    }
}
