//! How a delivery is signed: the Standard Webhooks headers (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`) and the plain
//! `x-webhook-signature`, and which secrets sign while a rotation is in its
//! grace period.

use hmac::{Hmac, Mac};
use hooklane_auth::signature::{standard_key, standard_sign};
use hooklane_domain::Endpoint;
use sha2::Sha256;

/// Every signing secret in force at `now`: the endpoint's current secret
/// first, then each old secret whose grace has not yet ended.
pub fn signing_secrets(endpoint: &Endpoint, now: time::OffsetDateTime) -> Vec<&str> {
    let mut secrets = vec![endpoint.secret.expose_secret()];
    secrets.extend(
        endpoint
            .old_secrets
            .iter()
            .filter(|o| o.expires_at > now)
            .map(|o| o.secret.expose_secret()),
    );
    secrets
}

/// The signature headers of one attempt, as `(name, value)` pairs in this
/// order:
/// - `webhook-id`: `msg_id`;
/// - `webhook-timestamp`: `timestamp`, in Unix seconds;
/// - `webhook-signature`: one `v1,{base64}` per secret of
///   [`signing_secrets`] at `now`, space-separated (Standard Webhooks:
///   HMAC-SHA256 over `{msg_id}.{timestamp}.{body}`);
/// - `x-webhook-signature`: `sha256={hex}`, HMAC-SHA256 of `body` alone
///   with the current secret only (its key read as for
///   `webhook-signature`).
///
/// The values are signatures: they go on the request, never to a log.
pub fn signature_headers(
    endpoint: &Endpoint,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    now: time::OffsetDateTime,
) -> Vec<(&'static str, String)> {
    let signatures: Vec<String> = signing_secrets(endpoint, now)
        .into_iter()
        .map(|s| standard_sign(&standard_key(s), msg_id, timestamp, body))
        .collect();
    let mut mac =
        match Hmac::<Sha256>::new_from_slice(&standard_key(endpoint.secret.expose_secret())) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
    mac.update(body);
    vec![
        ("webhook-id", msg_id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signatures.join(" ")),
        (
            "x-webhook-signature",
            format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        ),
    ]
}
