//! A hook's `auth`: `api_key`, `none`, `signed_url` (its key),
//! `secret_header` (header and secret), `hmac` (scheme, secret, and for
//! the generic scheme its header, algorithm, encoding and prefix),
//! `discord` (the application's public key) and `telegram` (the secret
//! token given to `setWebhook`).

use base64::Engine as _;
use hooklane_auth::signature::{Generic, Scheme};
use hooklane_domain::HookAuth;
use hooklane_web::{ApiError, ErrorCode};
use serde_json::Value;

use super::fields::{invalid, kind_of, Fields};

/// `prefix` followed by 24 random bytes in unpadded base64url.
fn random_secret(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Headers that cannot carry a hook's secret.
const UNUSABLE_SECRET_HEADERS: &[&str] = &[
    "authorization",
    "host",
    "content-type",
    "content-length",
    "cookie",
    "origin",
];

/// The header `raw` names, lower case; refused (as `key`) when it is not a
/// header name or is one that cannot carry a secret.
fn header_name(f: &Fields<'_>, key: &str, raw: &str) -> Result<String, ApiError> {
    let header = raw.trim().to_ascii_lowercase();
    if header.is_empty()
        || axum::http::HeaderName::from_bytes(header.as_bytes()).is_err()
        || UNUSABLE_SECRET_HEADERS.contains(&header.as_str())
    {
        return Err(f.err(key, format!("`{raw}` is not a usable header name")));
    }
    Ok(header)
}

/// Checks `auth`, answering the auth and a `secret_header` secret made for
/// it (shown once). Left out, it is `api_key`. Secrets and keys left out
/// are kept from `previous` when the type stays, else made (`secret_header`,
/// `signed_url`) or refused as missing (`hmac`).
///
/// # Errors
/// 400 `invalid_auth` naming the field at fault (`auth.type`,
/// `auth.secret`, …).
pub(super) fn check_auth(
    raw: Option<&Value>,
    previous: Option<&HookAuth>,
) -> Result<(HookAuth, Option<String>), ApiError> {
    let raw = match raw {
        None => return Ok((HookAuth::ApiKey, None)),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(invalid(
                ErrorCode::InvalidAuth,
                format!(
                    "`auth` must be an object with a `type`, not {}",
                    kind_of(other)
                ),
            ))
        }
    };
    let f = Fields::new(raw, "auth", ErrorCode::InvalidAuth);
    let kind = f.required_str(
        "type",
        "one of api_key, secret_header, hmac, signed_url, discord, telegram, none",
    )?;
    match kind {
        "api_key" => {
            f.only(&["type"], "api_key auth")?;
            Ok((HookAuth::ApiKey, None))
        }
        "none" => {
            f.only(&["type"], "none auth")?;
            Ok((HookAuth::None, None))
        }
        "signed_url" => {
            f.only(&["type", "key"], "signed_url auth")?;
            let key = match (f.str("key")?, previous) {
                (Some(k), _) => {
                    if hooklane_auth::signed_url::decode_key(k).is_err() {
                        return Err(f.err("key", "must be the base64 of 16 to 64 random bytes"));
                    }
                    k.to_owned()
                }
                (None, Some(HookAuth::SignedUrl { key })) => key.expose_secret().to_owned(),
                (None, _) => base64::engine::general_purpose::STANDARD
                    .encode(hooklane_auth::signed_url::generate_key()),
            };
            Ok((HookAuth::SignedUrl { key: key.into() }, None))
        }
        "secret_header" => {
            f.only(&["type", "header", "secret"], "secret_header auth")?;
            let header = header_name(&f, "header", f.str("header")?.unwrap_or("x-hook-secret"))?;
            let (secret, generated) = match (f.str("secret")?, previous) {
                (Some(s), _) => (s.to_owned(), None),
                (None, Some(HookAuth::SecretHeader { secret, .. })) => {
                    (secret.expose_secret().to_owned(), None)
                }
                (None, _) => {
                    let s = random_secret("hks_");
                    (s.clone(), Some(s))
                }
            };
            if secret.len() < 8 || secret.len() > 512 {
                return Err(f.err("secret", "must be 8 to 512 characters"));
            }
            if axum::http::HeaderValue::from_str(&secret).is_err() {
                return Err(f.err("secret", "must be text a header can carry"));
            }
            Ok((
                HookAuth::SecretHeader {
                    header,
                    secret: secret.into(),
                },
                generated,
            ))
        }
        "hmac" => {
            f.only(
                &[
                    "type",
                    "scheme",
                    "secret",
                    "header",
                    "algorithm",
                    "encoding",
                    "prefix",
                ],
                "hmac auth",
            )?;
            let scheme_name = f.required_str(
                "scheme",
                "one of standard, github, stripe, slack, shopify, twilio, generic",
            )?;
            let scheme: Scheme = serde_json::from_value(Value::String(scheme_name.to_owned()))
                .map_err(|_| {
                    f.err(
                        "scheme",
                        format!("`{scheme_name}` is not one of standard, github, stripe, slack, shopify, twilio, generic"),
                    )
                })?;
            let secret = match (f.str("secret")?, previous) {
                (Some(s), _) => s.to_owned(),
                (None, Some(HookAuth::Hmac { secret, .. })) => secret.expose_secret().to_owned(),
                (None, _) => {
                    return Err(f.err("secret", "is missing: the provider's signing secret"))
                }
            };
            if secret.is_empty() || secret.len() > 1024 {
                return Err(f.err("secret", "must be 1 to 1024 characters"));
            }
            let (header, algorithm, encoding, prefix) = if scheme == Scheme::Generic {
                let header = f.required_str("header", "the header carrying the signature")?;
                let header = header_name(&f, "header", header)?;
                let generic = Generic::parse(
                    &header,
                    f.str("algorithm")?,
                    f.str("encoding")?,
                    f.str("prefix")?,
                )
                .map_err(|e| f.err(e.field(), e))?;
                (
                    Some(header),
                    Some(generic.algorithm_name().to_owned()),
                    Some(generic.encoding_name().to_owned()),
                    generic.prefix,
                )
            } else {
                if let Some(k) = ["header", "algorithm", "encoding", "prefix"]
                    .into_iter()
                    .find(|k| f.get(k).is_some())
                {
                    return Err(f.err(k, "goes with the generic scheme only"));
                }
                (None, None, None, None)
            };
            Ok((
                HookAuth::Hmac {
                    scheme,
                    secret: secret.into(),
                    header,
                    algorithm,
                    encoding,
                    prefix,
                },
                None,
            ))
        }
        "discord" => {
            f.only(&["type", "public_key"], "discord auth")?;
            let public_key = f.required_str(
                "public_key",
                "the application's public key (Developer Portal → General Information)",
            )?;
            hooklane_auth::signature::discord_public_key(public_key)
                .map_err(|reason| f.err("public_key", reason))?;
            Ok((
                HookAuth::Discord {
                    public_key: public_key.trim().to_ascii_lowercase(),
                },
                None,
            ))
        }
        "telegram" => {
            f.only(&["type", "secret_token"], "telegram auth")?;
            let (token, generated) = match (f.str("secret_token")?, previous) {
                (Some(t), _) => (t.to_owned(), None),
                (None, Some(HookAuth::Telegram { secret_token })) => (secret_token.expose_secret().to_owned(), None),
                (None, _) => {
                    let t = random_secret("tgs_");
                    (t.clone(), Some(t))
                }
            };
            if !hooklane_auth::signature::is_telegram_secret_token(&token) {
                return Err(f.err(
                    "secret_token",
                    "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule for setWebhook)",
                ));
            }
            Ok((HookAuth::Telegram {
                    secret_token: token.into(),
                }, generated))
        }
        other => Err(f.err(
            "type",
            format!("`{other}` is not one of api_key, secret_header, hmac, signed_url, discord, telegram, none"),
        )),
    }
}
