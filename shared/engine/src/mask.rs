//! Masking of credentials before they reach a run log, a delivery log, a
//! log line or an admin API answer: tokens in URLs ([`mask_url`],
//! [`mask_webhook_url`]), the credentials known for one call wherever they
//! appear in a text ([`Secrets`]), and credential-shaped text that no one
//! declared ([`mask_patterns`]).

use url::Url;

/// What a masked secret is replaced with.
pub const MASK: &str = "****";

/// True for a query parameter or header name that carries a credential
/// (`token`, `api_key`, `Authorization`, `X-Api-Key`, `Cookie`, …).
pub fn is_sensitive_key(key: &str) -> bool {
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
        "cookie",
        "session",
        "credential",
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

/// The `Location` of a 3xx answer, made absolute against the request's URL
/// and masked with [`mask_url`]; `None` for any other answer or without one.
pub fn redirect_location(response: &reqwest::Response) -> Option<String> {
    if !response.status().is_redirection() {
        return None;
    }
    let raw = response.headers().get(reqwest::header::LOCATION)?;
    let raw = String::from_utf8_lossy(raw.as_bytes());
    Some(match response.url().join(&raw) {
        Ok(url) => mask_url(url.as_str()),
        Err(_) => mask_patterns(&raw.chars().take(200).collect::<String>()),
    })
}

/// The shortest text treated as a credential: shorter ones would garble
/// ordinary text where they happen to appear.
const MIN_SECRET_CHARS: usize = 6;

/// The credentials known for one call (a URL's token and password, a bot
/// token, header values that carry credentials), masked wherever they
/// appear in a text: an error, a target's answer echoing its request, a
/// `Location`. [`Secrets::mask`] also masks [`mask_patterns`].
#[derive(Debug, Clone, Default)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// Adds one credential (ignored under 6 characters), with the forms a
    /// target may echo it in: percent-encoded (hex digits upper-case, as
    /// we encode, and lower-case, as some servers echo: `%2F`, `%2f`),
    /// JSON-escaped, and base64 (standard and URL-safe, padded or not).
    pub fn add(&mut self, secret: &str) {
        use base64::Engine as _;
        let secret = secret.trim();
        let bytes = secret.as_bytes();
        let encoded = url::form_urlencoded::byte_serialize(bytes).collect::<String>();
        let forms = [
            lower_hex_escapes(&encoded),
            encoded,
            serde_json::to_string(secret)
                .map(|j| j[1..j.len() - 1].to_owned())
                .unwrap_or_default(),
            base64::engine::general_purpose::STANDARD.encode(bytes),
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes),
            base64::engine::general_purpose::URL_SAFE.encode(bytes),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        ];
        self.add_one(secret);
        for form in forms {
            self.add_one(&form);
        }
    }

    /// Adds `secret` as it is (ignored under 6 characters).
    fn add_one(&mut self, secret: &str) {
        if secret.chars().count() >= MIN_SECRET_CHARS && !self.0.iter().any(|s| s == secret) {
            self.0.push(secret.to_owned());
            // Longest first, so a token inside a longer one is not masked half.
            self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Adds the credentials of a URL: its password, the values of its
    /// sensitive query parameters, a Telegram token in its path, a Discord
    /// webhook token (`…/webhooks/{id}/{token}`); with `webhook`, also its
    /// last path segment (a chat webhook URL's secret part).
    pub fn add_url(&mut self, raw: &str, webhook: bool) {
        let Ok(url) = Url::parse(raw) else {
            self.add(raw);
            return;
        };
        if let Some(pw) = url.password() {
            self.add(pw);
            self.add(&percent_decoded(pw));
        }
        for (k, v) in url.query_pairs() {
            if is_sensitive_key(&k) {
                self.add(&v);
            }
        }
        let segments: Vec<&str> = url
            .path_segments()
            .map(Iterator::collect)
            .unwrap_or_default();
        for (i, seg) in segments.iter().enumerate() {
            if let Some(token) = seg.strip_prefix("bot").filter(|t| t.contains(':')) {
                self.add(token);
            }
            if i >= 2 && segments[i - 2] == "webhooks" {
                self.add(seg);
            }
        }
        if webhook {
            if let Some(last) = segments.iter().rev().find(|s| !s.is_empty()) {
                self.add(last);
            }
        }
    }

    /// Adds a header's value when its name carries credentials (see
    /// [`is_sensitive_key`]): the value, or the part after its auth scheme
    /// (`Bearer abc` → `abc`, so the log keeps `Bearer ****`), and for `Basic` the decoded
    /// `user:password` and its password.
    pub fn add_header(&mut self, name: &str, value: &str) {
        if !is_sensitive_key(name) {
            return;
        }
        let Some((scheme, cred)) = value.trim().split_once(' ') else {
            self.add(value);
            return;
        };
        {
            self.add(cred);
            if scheme.eq_ignore_ascii_case("basic") {
                use base64::Engine as _;
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(cred.trim()) {
                    if let Ok(pair) = String::from_utf8(bytes) {
                        if let Some((_, pw)) = pair.split_once(':') {
                            self.add(pw);
                        }
                        self.add(&pair);
                    }
                }
            }
        }
    }

    /// The credentials of an endpoint: its URL's (the last path segment
    /// too for a `discord` or `slack` endpoint), its credential headers,
    /// its signing secrets.
    pub fn of_endpoint(endpoint: &hooklane_domain::Endpoint) -> Self {
        let mut secrets = Self::default();
        let webhook = endpoint.kind != hooklane_domain::EndpointType::Custom;
        secrets.add_url(&endpoint.url, webhook);
        for (name, value) in &endpoint.headers {
            if let Some(v) = value.as_str() {
                secrets.add_header(name, v);
            }
        }
        secrets.add(endpoint.secret.expose_secret());
        for old in &endpoint.old_secrets {
            secrets.add(old.secret.expose_secret());
        }
        secrets
    }

    /// `text` with every known credential replaced by [`MASK`], then
    /// [`mask_patterns`] applied.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.0 {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        mask_patterns(&out)
    }

    /// Masks every string inside `value` (keys are left alone) with
    /// [`Secrets::mask`].
    pub fn mask_json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(s) => {
                let masked = self.mask(s);
                if masked != *s {
                    *s = masked;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_json(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.mask_json(v)),
            _ => {}
        }
    }
}

/// `encoded` with the hex digits of its percent escapes in lower case
/// (`%2F` → `%2f`); the text between them as it is.
fn lower_hex_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for d in chars.by_ref().take(2) {
                out.push(d.to_ascii_lowercase());
            }
        }
    }
    out
}

/// A URL's percent-encoded part decoded (`p%40ss` → `p@ss`).
fn percent_decoded(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// `text` with credential-shaped parts masked though no one declared them:
/// Telegram bot tokens (`123456:AA…`, kept `123456:****`), the credentials
/// after `Bearer `, `Basic `, `Bot ` and `token ` (`Bearer ****`), Slack
/// tokens (`xoxb-…`, `xapp-…`), and the token of Discord (`/webhooks/{id}/…`)
/// and Slack (`/services/T…/B…/…`) webhook paths.
pub fn mask_patterns(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let starts_word = |i: usize| i == 0 || !chars[i - 1].is_ascii_alphanumeric();
    let rest_from = |i: usize| -> String { chars[i..chars.len().min(i + 12)].iter().collect() };
    while i < chars.len() {
        // Telegram bot token: 5+ digits, `:`, 30+ token characters.
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()) {
            let digits = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            let after = i + digits;
            if digits >= 5 && chars.get(after) == Some(&':') {
                let tail = chars[after + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                    .count();
                if tail >= 30 {
                    out.extend(&chars[i..=after]);
                    out.push_str(MASK);
                    i = after + 1 + tail;
                    continue;
                }
            }
        }
        // An auth scheme followed by its credentials.
        if starts_word(i) {
            let head = rest_from(i).to_ascii_lowercase();
            let scheme = ["bearer ", "basic ", "bot ", "token "]
                .into_iter()
                .find(|s| head.starts_with(s));
            if let Some(scheme) = scheme {
                let at = i + scheme.len();
                let cred = chars[at..]
                    .iter()
                    .take_while(|c| is_token_char(**c))
                    .count();
                if cred >= 8 {
                    out.extend(&chars[i..at]);
                    out.push_str(MASK);
                    i = at + cred;
                    continue;
                }
            }
            // Slack tokens.
            if ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"]
                .iter()
                .any(|p| head.starts_with(p))
            {
                let len = chars[i..].iter().take_while(|c| is_token_char(**c)).count();
                out.push_str(MASK);
                i += len;
                continue;
            }
        }
        // Webhook paths: the segment after `/webhooks/{digits}/` and after
        // `/services/T…/B…/`.
        if chars[i] == '/' {
            let head: String = chars[i..chars.len().min(i + 10)].iter().collect();
            let skip = if head.starts_with("/webhooks/") {
                Some((10, 1))
            } else if head.starts_with("/services/") {
                Some((10, 2))
            } else {
                None
            };
            if let Some((prefix, ids)) = skip {
                let mut at = i + prefix;
                let mut ok = true;
                for _ in 0..ids {
                    let id = chars[at..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric())
                        .count();
                    if id == 0 || chars.get(at + id) != Some(&'/') {
                        ok = false;
                        break;
                    }
                    at += id + 1;
                }
                let token = chars[at.min(chars.len())..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                    .count();
                if ok && token >= 6 {
                    out.extend(&chars[i..at]);
                    out.push_str(MASK);
                    i = at + token;
                    continue;
                }
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
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

    #[test]
    fn known_credentials_are_masked_wherever_a_text_repeats_them() {
        let mut secrets = Secrets::default();
        secrets.add_url(
            "https://api.telegram.org/bot123456:ABCdef_ghi-jkl/sendMessage",
            false,
        );
        secrets.add_url(
            "https://discord.com/api/webhooks/42/DiscordWebhookTok3n?wait=true",
            true,
        );
        secrets.add_url(
            "https://hooks.slack.com/services/T01/B02/SlackTok3nXYZ",
            true,
        );
        secrets.add_url(
            "https://user:p%40ssw0rd!@crm.example/x?api_key=querysecret1&page=2",
            false,
        );
        secrets.add_header("Authorization", "Bearer sk_live_abcdef123");
        secrets.add_header("X-Api-Key", "apikey-987654");
        secrets.add_header("Proxy-Authorization", "Basic dXNlcjpodW50ZXIyMjI="); // user:hunter222
        secrets.add_header("Content-Type", "application/json");
        secrets.add("abc"); // too short to mask safely
                            // text, masked
        let cases = [
            (
                r#"{"description":"Not Found: /bot123456:ABCdef_ghi-jkl/sendMessage"}"#,
                r#"{"description":"Not Found: /bot****/sendMessage"}"#,
            ),
            ("bad webhook DiscordWebhookTok3n", "bad webhook ****"),
            (
                "no_service at /services/T01/B02/SlackTok3nXYZ",
                "no_service at /services/T01/B02/****",
            ),
            (
                "got Authorization: Bearer sk_live_abcdef123",
                "got Authorization: Bearer ****",
            ),
            ("token=sk_live_abcdef123&x=1", "token=****&x=1"),
            ("key apikey-987654 unknown", "key **** unknown"),
            ("pw p@ssw0rd! / p%40ssw0rd!", "pw **** / ****"),
            ("api_key=querysecret1", "api_key=****"),
            ("user:hunter222 and hunter222", "**** and ****"),
            (
                "Content-Type: application/json; abc",
                "Content-Type: application/json; abc",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(secrets.mask(text), want, "{text}");
        }
    }

    #[test]
    fn encoded_echoes_of_known_credentials_are_masked() {
        let mut secrets = Secrets::default();
        secrets.add("7000003:AAHsecret/x\"y");
        secrets.add("Zk9vYmFyc2VjcmV0?");
        secrets.add("tok>>>secret??");
        let cases = [
            (
                "percent-encoded",
                "/bot7000003%3AAAHsecret%2Fx%22y/sendMessage",
            ),
            (
                "percent-encoded, lower-case hex",
                "/bot7000003%3aAAHsecret%2fx%22y/sendMessage",
            ),
            (
                "percent-encoded, lower-case hex in a query",
                "?t=tok%3e%3e%3esecret%3f%3f&x=1",
            ),
            ("json-escaped", r#"{"h":"7000003:AAHsecret/x\"y"}"#),
            ("base64", "auth Wms5dlltRnljMlZqY21WMD8= end"),
            ("base64 no pad", "auth Wms5dlltRnljMlZqY21WMD8 end"),
            ("base64 standard", "auth dG9rPj4+c2VjcmV0Pz8= end"),
            ("base64 url-safe", "auth dG9rPj4-c2VjcmV0Pz8 end"),
        ];
        for (what, text) in cases {
            let masked = secrets.mask(text);
            for leak in [
                "AAHsecret",
                "Wms5dlltRnljMlZqY21WMD8",
                "WmtsOXZZbUZ5YzJWamNtVjBQdz09",
                "secret%3f",
            ] {
                assert!(!masked.contains(leak), "{what}: {masked}");
            }
        }
    }

    #[test]
    fn credential_shaped_text_is_masked_though_no_one_declared_it() {
        // text, masked
        let cases = [
            (
                "POST /bot987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage",
                "POST /bot987654321:****/sendMessage",
            ),
            (
                "authorization: Bearer eyJhbGciOi.abc.def",
                "authorization: Bearer ****",
            ),
            (
                "Authorization: Bot MTk4NjIyNDgzNDcxOTI1MjQ4",
                "Authorization: Bot ****",
            ),
            ("Basic dXNlcjpwYXNz", "Basic ****"),
            ("slack says xoxb-1234-5678-abcdefgh", "slack says ****"),
            (
                "https://discord.com/api/webhooks/123456/aBcDeF-ghIjKl_mn",
                "https://discord.com/api/webhooks/123456/****",
            ),
            (
                "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX",
                "https://hooks.slack.com/services/T000/B000/****",
            ),
            (
                "order 12345: shipped by bearer bonds",
                "order 12345: shipped by bearer bonds",
            ),
            (
                "time 12:30 at /webhooks/ page",
                "time 12:30 at /webhooks/ page",
            ),
            ("Bearer short", "Bearer short"),
            ("", ""),
            ("héllo wörld 😀", "héllo wörld 😀"),
        ];
        for (text, want) in cases {
            assert_eq!(mask_patterns(text), want, "{text}");
        }
    }
}
