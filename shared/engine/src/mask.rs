//! Masking of tokens in URLs before they reach a run log or a log line.

use url::Url;

/// What a masked secret is replaced with.
pub const MASK: &str = "****";

fn is_sensitive_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "token",
        "key",
        "secret",
        "sig",
        "signature",
        "password",
        "auth",
        "code",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// The URL with credentials masked: the password, sensitive query values,
/// the token of Discord and Slack webhook URLs and of Telegram Bot API paths.
///
/// A Discord webhook token is recognised by its path
/// (`…/webhooks/{id}/{token}`) on any host, so a proxy or a test server in
/// Discord's place is masked as well; a Telegram token by its path segment
/// (`bot{id}:{secret}`).
pub fn mask_url(raw: &str) -> String {
    mask(raw, false)
}

/// A chat webhook URL (Discord, Slack) with its token masked whatever the
/// host: the whole URL is the credential, and its last path segment is the
/// secret part.
pub fn mask_webhook_url(raw: &str) -> String {
    mask(raw, true)
}

fn mask(raw: &str, last_segment_is_secret: bool) -> String {
    let Ok(mut url) = Url::parse(raw) else {
        return "<invalid url>".to_owned();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some(MASK));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_sensitive_key(&k) {
                    MASK.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let segments: Vec<String> = url
        .path_segments()
        .map(|s| s.map(str::to_owned).collect())
        .unwrap_or_default();
    let webhook_host = last_segment_is_secret
        || host.ends_with("discord.com")
        || host.ends_with("discordapp.com")
        || host == "hooks.slack.com";
    let last = segments.iter().rposition(|s| !s.is_empty());
    let masked: Vec<String> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let discord_token = i >= 2 && segments[i - 2] == "webhooks" && !s.is_empty();
            if s.starts_with("bot") && s.contains(':') {
                format!("bot{MASK}")
            } else if discord_token
                || (webhook_host && Some(i) == last && (last_segment_is_secret || s.len() > 8))
            {
                MASK.to_owned()
            } else {
                s.clone()
            }
        })
        .collect();
    if masked != segments {
        url.set_path(&masked.join("/"));
    }
    url.to_string()
}

/// `text` with every occurrence of `secret` masked (secrets shorter than 4
/// characters are left alone: masking them would garble ordinary text).
pub fn mask_secret(text: &str, secret: &str) -> String {
    if secret.chars().count() < 4 {
        return text.to_owned();
    }
    text.replace(secret, MASK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_urls_are_masked() {
        let cases = [
            (
                "https://discord.com/api/webhooks/123/abcdefghijklmnop",
                "https://discord.com/api/webhooks/123/****",
            ),
            (
                "https://discord.com/api/webhooks/123/abcdefghijklmnop?wait=true",
                "https://discord.com/api/webhooks/123/****?wait=true",
            ),
            (
                "http://127.0.0.1:9000/api/webhooks/123/short",
                "http://127.0.0.1:9000/api/webhooks/123/****",
            ),
            (
                "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
                "https://hooks.slack.com/services/T000/B000/****",
            ),
            (
                "https://api.telegram.org/bot123456:ABC-DEF/sendMessage",
                "https://api.telegram.org/bot****/sendMessage",
            ),
            (
                "https://user:pw@example.com/x?api_key=abc&page=2",
                "https://user:****@example.com/x?api_key=****&page=2",
            ),
            (
                "https://example.com/orders/42",
                "https://example.com/orders/42",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(mask_url(raw), want, "{raw}");
        }
    }

    #[test]
    fn chat_webhook_urls_are_masked_on_any_host() {
        let cases = [
            (
                "http://127.0.0.1:9000/services/T000/B000/XXXXXXXX",
                "http://127.0.0.1:9000/services/T000/B000/****",
            ),
            (
                "https://chat.example/hook/abc",
                "https://chat.example/hook/****",
            ),
            (
                "https://discord.com/api/webhooks/1/tok?thread_id=7",
                "https://discord.com/api/webhooks/1/****?thread_id=7",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(mask_webhook_url(raw), want, "{raw}");
        }
    }

    #[test]
    fn a_secret_is_masked_wherever_it_appears_in_a_text() {
        assert_eq!(
            mask_secret("bad url bot123:abc/x", "123:abc"),
            "bad url bot****/x"
        );
        assert_eq!(mask_secret("a b c", "b"), "a b c");
    }
}
