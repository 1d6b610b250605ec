//! Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1(auth token, url + params)>`,
//! where `url` is the full public URL Twilio was given (scheme, host, path
//! and query) and `params` are the POST form parameters sorted by name,
//! each name followed at once by its value. No timestamp; the delivery id
//! is `I-Twilio-Idempotency-Token`.
//!
//! Twilio's rules: <https://www.twilio.com/docs/usage/security#validating-requests>.

use hmac::Hmac;
use sha1::Sha1;

use super::common::{any_matches, mac, malformed, optional, required, Encoding, Headers};
use super::common::{SignatureError, Verified};

const SIGNATURE: &str = "X-Twilio-Signature";
const IDEMPOTENCY_TOKEN: &str = "I-Twilio-Idempotency-Token";

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
/// query included; `form` is the body when it is a form (empty otherwise:
/// a GET, or a body Twilio does not sign as parameters).
///
/// # Errors
/// [`SignatureError::MissingHeader`] without `X-Twilio-Signature`,
/// [`SignatureError::Malformed`] when it is not base64, and
/// [`SignatureError::Mismatch`] when it is not the MAC under `secret` (or
/// `secret` is empty).
pub fn verify_twilio(
    secret: &str,
    headers: &dyn Headers,
    url: &str,
    form: &[u8],
) -> Result<Verified, SignatureError> {
    let value = required(headers, SIGNATURE)?;
    let presented = Encoding::Base64
        .decode(value)
        .ok_or_else(|| malformed(format!("`{SIGNATURE}` must be base64")))?;
    if secret.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    // Twilio signs the URL as it was configured; its own libraries also
    // accept it with the scheme's default port written out or left out.
    let matched = [Some(url.to_owned()), with_default_port_toggled(url)]
        .into_iter()
        .flatten()
        .any(|url| {
            let text = signed_text(&url, form);
            let expected = mac::<Hmac<Sha1>>(secret.as_bytes(), &[text.as_bytes()]);
            any_matches(&expected, std::slice::from_ref(&presented)).is_ok()
        });
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    Ok(Verified {
        delivery_id: optional(headers, IDEMPOTENCY_TOKEN).map(|t| format!("twilio:{t}")),
    })
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
            verify_twilio(TOKEN, &h, URL, FORM),
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
        assert!(verify_twilio(TOKEN, &h, URL, FORM).is_ok());
        let h = headers(&[("X-Twilio-Signature", SIGNATURE_OF_EXAMPLE)]);
        assert!(verify_twilio(
            TOKEN,
            &h,
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            FORM
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
            assert_eq!(verify_twilio(token, &h, url, form), Err(expected), "{case}");
        }
        assert_eq!(
            verify_twilio(TOKEN, &headers(&[]), URL, FORM),
            Err(missing("X-Twilio-Signature"))
        );
        assert!(matches!(
            verify_twilio(TOKEN, &headers(&[("X-Twilio-Signature", "%%%")]), URL, FORM),
            Err(SignatureError::Malformed(_))
        ));
    }
}
