//! Masking of tokens in URLs before they reach a run log or a log line.

use url::Url;

const MASK: &str = "****";

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
pub fn mask_url(raw: &str) -> String {
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
    let webhook_host = host.ends_with("discord.com")
        || host.ends_with("discordapp.com")
        || host == "hooks.slack.com";
    let masked: Vec<String> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if s.starts_with("bot") && s.contains(':') {
                format!("bot{MASK}")
            } else if webhook_host && i == segments.len() - 1 && s.len() > 8 {
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
}
