//! Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1(auth token, url + params)>`,
//! where `url` is the full public URL Twilio was given (scheme, host, path
//! and query) and `params` are the POST form parameters sorted by name,
//! each name followed at once by its value. A body that is not a form (JSON)
//! is signed through the URL: Twilio adds `bodySHA256=<lowercase hex
//! SHA-256 of the body>` to its query and signs the URL alone. No
//! timestamp; the delivery id is `I-Twilio-Idempotency-Token`.
//!
//! Twilio's rules: <https://www.twilio.com/docs/usage/security#validating-requests>.

use hmac::Hmac;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::common::{any_matches, mac, malformed, optional, required, Encoding, Headers};
use super::common::{SignatureError, Verified};
use crate::constant_time_eq;

const SIGNATURE: &str = "X-Twilio-Signature";
const IDEMPOTENCY_TOKEN: &str = "I-Twilio-Idempotency-Token";
/// The query parameter holding the SHA-256 of a body that is not a form.
const BODY_SHA256: &str = "bodySHA256";

/// The text Twilio signs: `url`, then each form parameter of `form` (an
/// `application/x-www-form-urlencoded` body, decoded) as name then value,
/// sorted by name and, for a repeated name, by value.
pub fn signed_text(url: &str, form: &[u8]) -> String {
    let mut params: Vec<(String, String)> = form_urlencoded::parse(form).into_owned().collect();
    params.sort();
    let mut text = url.to_owned();
    for (name, value) in params {
        text.push_str(&name);
        text.push_str(&value);
    }
    text
}

/// The `X-Twilio-Signature` of a call to `url` with the form body `form`
/// under the account's auth token `secret` (base64 of a 20-byte MAC).
pub fn twilio_sign(secret: &str, url: &str, form: &[u8]) -> String {
    use base64::Engine as _;
    let text = signed_text(url, form);
    base64::engine::general_purpose::STANDARD
        .encode(mac::<Hmac<Sha1>>(secret.as_bytes(), &[text.as_bytes()]))
}

/// Checks a `twilio` request: `url` is the public URL the call was made to,
/// query included; `body` is the body as signed, `form` whether it is a
/// form (`application/x-www-form-urlencoded`).
///
/// What the signature covers besides the URL: a form's parameters; for
/// any other body, nothing but the URL's `bodySHA256` query parameter,
/// which must then be the lowercase hex SHA-256 of `body` (compared in
/// constant time once the signature matches). An empty body without
/// `bodySHA256` (a GET) is checked over the URL alone; a non-empty one is
/// not covered, and refused.
///
/// # Errors
/// [`SignatureError::MissingHeader`] without `X-Twilio-Signature`,
/// [`SignatureError::Malformed`] when it is not base64,
/// [`SignatureError::UnsignedBody`] for a non-empty body that is not a
/// form and a URL without `bodySHA256`, and [`SignatureError::Mismatch`]
/// when it is not the MAC under `secret` (or `secret` is empty) or the
/// body's SHA-256 is not the URL's `bodySHA256`.
pub fn verify_twilio(
    secret: &str,
    headers: &dyn Headers,
    url: &str,
    body: &[u8],
    form: bool,
) -> Result<Verified, SignatureError> {
    let value = required(headers, SIGNATURE)?;
    let presented = Encoding::Base64
        .decode(value)
        .ok_or_else(|| malformed(format!("`{SIGNATURE}` must be base64")))?;
    if secret.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let (params, body_sha256): (&[u8], _) = if form {
        (body, None)
    } else {
        match query_param(url, BODY_SHA256) {
            Some(hash) => (&[], Some(hash)),
            None if body.is_empty() => (&[], None),
            None => return Err(SignatureError::UnsignedBody),
        }
    };
    // Twilio signs the URL as it was configured; its own libraries also
    // accept it with the scheme's default port written out or left out.
    let matched = [Some(url.to_owned()), with_default_port_toggled(url)]
        .into_iter()
        .flatten()
        .any(|url| {
            let text = signed_text(&url, params);
            let expected = mac::<Hmac<Sha1>>(secret.as_bytes(), &[text.as_bytes()]);
            any_matches(&expected, std::slice::from_ref(&presented)).is_ok()
        });
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    if let Some(expected) = body_sha256 {
        let actual = hex::encode(Sha256::digest(body));
        if !constant_time_eq(actual.as_bytes(), expected.as_bytes()) {
            return Err(SignatureError::Mismatch);
        }
    }
    Ok(Verified {
        delivery_id: optional(headers, IDEMPOTENCY_TOKEN).map(|t| format!("twilio:{t}")),
    })
}

/// The value of the query parameter `name` in `url` (decoded; the first
/// when repeated), `None` when it has none.
fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let (_, query) = url.split_once('?')?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` with its scheme's default port (`:443` for https, `:80` for
/// http) added when it has none, or removed when it has it; `None` for
/// another port or a URL without `scheme://`.
fn with_default_port_toggled(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_end = authority.rfind(']').map_or(0, |i| i + 1);
    match authority[host_end..].rsplit_once(':') {
        Some((host, p)) if p == port => {
            Some(format!("{scheme}://{}{host}{tail}", &authority[..host_end]))
        }
        Some(_) => None,
        None => Some(format!("{scheme}://{authority}:{port}{tail}")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{headers, missing};
    use super::*;

    // Twilio's documented example ("Validating Requests are coming from
    // Twilio"): auth token 12345, this URL and these parameters sign to
    // 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const FORM: &[u8] = b"To=%2B18005551212&From=%2B12349013030&Digits=1234&CallSid=CA1234567890ABCDE&Caller=%2B12349013030";
    const SIGNATURE_OF_EXAMPLE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    #[test]
    fn twilio_signs_its_documented_example_as_twilio_does() {
        assert_eq!(
            signed_text(URL, FORM),
            "https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212"
        );
        assert_eq!(twilio_sign(TOKEN, URL, FORM), SIGNATURE_OF_EXAMPLE);
        let h = headers(&[
            ("X-Twilio-Signature", SIGNATURE_OF_EXAMPLE),
            ("I-Twilio-Idempotency-Token", "a1b2"),
        ]);
        assert_eq!(
            verify_twilio(TOKEN, &h, URL, FORM, true),
            Ok(Verified {
                delivery_id: Some("twilio:a1b2".to_owned())
            })
        );
    }

    #[test]
    fn twilio_accepts_the_url_with_or_without_the_default_port() {
        assert_eq!(
            with_default_port_toggled("https://a.example/x?y=1").as_deref(),
            Some("https://a.example:443/x?y=1")
        );
        assert_eq!(
            with_default_port_toggled("https://a.example:443/x").as_deref(),
            Some("https://a.example/x")
        );
        assert_eq!(
            with_default_port_toggled("http://[::1]:80/x").as_deref(),
            Some("http://[::1]/x")
        );
        assert_eq!(with_default_port_toggled("https://a.example:8443/x"), None);
        let with_port = twilio_sign(
            TOKEN,
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            FORM,
        );
        let h = headers(&[("X-Twilio-Signature", with_port.as_str())]);
        assert!(verify_twilio(TOKEN, &h, URL, FORM, true).is_ok());
        let h = headers(&[("X-Twilio-Signature", SIGNATURE_OF_EXAMPLE)]);
        assert!(verify_twilio(
            TOKEN,
            &h,
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            FORM,
            true
        )
        .is_ok());
    }

    #[test]
    fn twilio_refuses_another_url_another_token_changed_parameters_and_no_header() {
        let h = headers(&[("X-Twilio-Signature", SIGNATURE_OF_EXAMPLE)]);
        let cases: [(&str, &str, &str, &[u8], SignatureError); 6] = [
            ("another URL", TOKEN, "https://mycompany.com/myapp.php", FORM, SignatureError::Mismatch),
            ("http instead of https", TOKEN, "http://mycompany.com/myapp.php?foo=1&bar=2", FORM, SignatureError::Mismatch),
            ("another token", "54321", URL, FORM, SignatureError::Mismatch),
            ("an empty token", "", URL, FORM, SignatureError::Mismatch),
            ("a changed parameter", TOKEN, URL, b"To=%2B18005551213&From=%2B12349013030&Digits=1234&CallSid=CA1234567890ABCDE&Caller=%2B12349013030", SignatureError::Mismatch),
            ("no parameters", TOKEN, URL, b"", SignatureError::Mismatch),
        ];
        for (case, token, url, form, expected) in cases {
            assert_eq!(
                verify_twilio(token, &h, url, form, true),
                Err(expected),
                "{case}"
            );
        }
        assert_eq!(
            verify_twilio(TOKEN, &headers(&[]), URL, FORM, true),
            Err(missing("X-Twilio-Signature"))
        );
        assert!(matches!(
            verify_twilio(
                TOKEN,
                &headers(&[("X-Twilio-Signature", "%%%")]),
                URL,
                FORM,
                true
            ),
            Err(SignatureError::Malformed(_))
        ));
    }

    // Twilio's libraries' example of a JSON body (twilio-python's
    // `test_validation_of_body_succeeds`): the body's SHA-256 in the URL's
    // `bodySHA256`, the URL alone signed under token 12345.
    const JSON_BODY: &[u8] = br#"{"property": "value", "boolean": true}"#;
    const JSON_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    const SIGNATURE_OF_JSON_EXAMPLE: &str = "a9nBmqA0ju/hNViExpshrM61xv4=";

    #[test]
    fn twilio_accepts_a_json_body_whose_sha256_is_the_signed_urls_body_sha256() {
        let h = headers(&[("X-Twilio-Signature", SIGNATURE_OF_JSON_EXAMPLE)]);
        assert!(verify_twilio(TOKEN, &h, JSON_URL, JSON_BODY, false).is_ok());
        assert_eq!(
            twilio_sign(TOKEN, JSON_URL, b""),
            SIGNATURE_OF_JSON_EXAMPLE,
            "the URL alone is signed"
        );
    }

    #[test]
    fn twilio_refuses_a_body_the_signature_does_not_cover() {
        // The same signature and URL with another body: its hash differs.
        let h = headers(&[("X-Twilio-Signature", SIGNATURE_OF_JSON_EXAMPLE)]);
        assert_eq!(
            verify_twilio(TOKEN, &h, JSON_URL, br#"{"property": "evil"}"#, false),
            Err(SignatureError::Mismatch)
        );
        // A body that is not a form, under a signature of the URL alone
        // without bodySHA256: the body is covered by nothing.
        let url_only = twilio_sign(TOKEN, URL, b"");
        let h = headers(&[("X-Twilio-Signature", url_only.as_str())]);
        assert_eq!(
            verify_twilio(TOKEN, &h, URL, br#"{"amount": 1000000}"#, false),
            Err(SignatureError::UnsignedBody)
        );
        assert_eq!(
            verify_twilio(TOKEN, &h, URL, b"plain text", false),
            Err(SignatureError::UnsignedBody)
        );
        // No body at all (a GET): the URL alone, as Twilio signs it.
        assert!(verify_twilio(TOKEN, &h, URL, b"", false).is_ok());
        assert_eq!(
            verify_twilio(TOKEN, &h, "https://mycompany.com/myapp.php", b"", false),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn twilio_reads_body_sha256_from_the_query_only() {
        assert_eq!(
            query_param(
                "https://a.example/x?a=1&bodySHA256=ab%63#bodySHA256=no",
                "bodySHA256"
            )
            .as_deref(),
            Some("abc")
        );
        assert_eq!(
            query_param("https://a.example/bodySHA256=ab", "bodySHA256"),
            None
        );
        assert_eq!(
            query_param("https://a.example/x#?bodySHA256=ab", "bodySHA256"),
            None
        );
    }
}
