//! Property tests of every signature header parser and of signed URLs:
//! arbitrary headers, bodies and secrets never panic; a request signed the
//! way each provider signs verifies, and the same request with its body
//! changed does not; a minted signed URL gives back its context, and any
//! other `sig` is refused. Case counts are modest so the whole file runs in
//! a few seconds.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use hooklane_auth::signature::{
    standard_key, standard_sign, twilio_sign, verify, verify_discord, verify_telegram,
    verify_twilio, Algorithm, Encoding, Generic, Scheme,
};
use hooklane_auth::signed_url;
use proptest::prelude::*;
use serde_json::{json, Value};
use sha2::{Sha256, Sha512};

const NOW: i64 = 1_750_000_000;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn hmac256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hmac512(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(key).unwrap();
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

const SCHEMES: [Scheme; 7] = [
    Scheme::Standard,
    Scheme::Github,
    Scheme::Stripe,
    Scheme::Slack,
    Scheme::Shopify,
    Scheme::Generic,
    Scheme::Twilio,
];

/// The headers every scheme reads, each maybe present with any text.
fn header_names() -> Vec<&'static str> {
    vec![
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "svix-id",
        "svix-timestamp",
        "svix-signature",
        "X-Hub-Signature-256",
        "X-GitHub-Delivery",
        "Stripe-Signature",
        "X-Slack-Signature",
        "X-Slack-Request-Timestamp",
        "X-Shopify-Hmac-Sha256",
        "X-Shopify-Webhook-Id",
        "X-Signature",
        "X-Twilio-Signature",
        "X-Signature-Ed25519",
        "X-Signature-Timestamp",
        "X-Telegram-Bot-Api-Secret-Token",
    ]
}

/// Header values that look like the schemes' own formats as often as not.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,80}",
        "(t=[0-9]{0,12},)?(v[01]=[0-9a-f]{0,70},? ?){0,3}",
        "(v1,[A-Za-z0-9+/=]{0,50} ?){0,3}",
        "(sha256=|v0=)?[0-9a-fA-F]{0,70}",
        "-?[0-9]{1,20}",
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(
        (proptest::sample::select(header_names()), header_value())
            .prop_map(|(n, v)| (n.to_owned(), v)),
        0..8,
    )
}

fn generic() -> impl Strategy<Value = Generic> {
    (
        prop_oneof![
            Just(http::HeaderName::from_static("x-signature")),
            "[a-z0-9-]{1,20}".prop_map(|n| http::HeaderName::from_bytes(n.as_bytes()).unwrap()),
        ],
        any::<bool>(),
        any::<bool>(),
        proptest::option::of("[ -~]{0,8}"),
    )
        .prop_map(|(header, sha512, base64, prefix)| Generic {
            header,
            algorithm: if sha512 {
                Algorithm::Sha512
            } else {
                Algorithm::Sha256
            },
            encoding: if base64 {
                Encoding::Base64
            } else {
                Encoding::Hex
            },
            prefix,
        })
}

/// `headers` signed for `scheme` with `secret` over `body` at `NOW`.
fn signed(scheme: &Scheme, g: &Generic, secret: &str, body: &[u8]) -> Vec<(String, String)> {
    let ts = NOW.to_string();
    let pairs: Vec<(&str, String)> = match scheme {
        Scheme::Standard => vec![
            ("webhook-id", "msg_p".to_owned()),
            ("webhook-timestamp", ts.clone()),
            (
                "webhook-signature",
                standard_sign(&standard_key(secret), "msg_p", NOW, body),
            ),
        ],
        Scheme::Github => vec![(
            "X-Hub-Signature-256",
            format!(
                "sha256={}",
                hex::encode(hmac256(secret.as_bytes(), &[body]))
            ),
        )],
        Scheme::Stripe => vec![(
            "Stripe-Signature",
            format!(
                "t={ts},v1={}",
                hex::encode(hmac256(secret.as_bytes(), &[ts.as_bytes(), b".", body]))
            ),
        )],
        Scheme::Slack => vec![
            ("X-Slack-Request-Timestamp", ts.clone()),
            (
                "X-Slack-Signature",
                format!(
                    "v0={}",
                    hex::encode(hmac256(
                        secret.as_bytes(),
                        &[b"v0:", ts.as_bytes(), b":", body]
                    ))
                ),
            ),
        ],
        Scheme::Shopify => vec![(
            "X-Shopify-Hmac-Sha256",
            STANDARD.encode(hmac256(secret.as_bytes(), &[body])),
        )],
        Scheme::Generic => {
            let mac = match g.algorithm {
                Algorithm::Sha256 => hmac256(secret.as_bytes(), &[body]),
                Algorithm::Sha512 => hmac512(secret.as_bytes(), &[body]),
            };
            let text = match g.encoding {
                Encoding::Hex => hex::encode(mac),
                Encoding::Base64 => STANDARD.encode(mac),
            };
            vec![(
                "X-Signature",
                format!("{}{text}", g.prefix.clone().unwrap_or_default()),
            )]
        }
        Scheme::Twilio => unreachable!("signed over the URL: see twilio_sign"),
    };
    pairs.into_iter().map(|(n, v)| (n.to_owned(), v)).collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_signature_header_parser_panics_on_arbitrary_headers_bodies_and_secrets(
        scheme in proptest::sample::select(SCHEMES.to_vec()),
        g in generic(),
        secret in any::<String>(),
        h in headers(),
        body in proptest::collection::vec(any::<u8>(), 0..256),
        now in any::<i64>(),
        url in any::<String>(),
    ) {
        let _ = verify(&scheme, Some(&g), &secret, &h, &body, now);
        let _ = verify(&scheme, None, &secret, &h, &body, now);
        let _ = verify_twilio(&secret, &h, &url, &body, true);
        let _ = verify_twilio(&secret, &h, &url, &body, false);
        let _ = verify_discord(&secret, &h, &body, now);
        let _ = verify_telegram(&secret, &h);
    }

    #[test]
    fn a_request_signed_as_its_provider_signs_verifies_and_a_changed_body_does_not(
        scheme in proptest::sample::select(SCHEMES[..6].to_vec()),
        prefix in proptest::option::of("[a-z0-9]{1,6}="),
        sha512 in any::<bool>(),
        base64 in any::<bool>(),
        secret in "[ -~]{1,64}",
        body in proptest::collection::vec(any::<u8>(), 0..512),
        flip in any::<proptest::sample::Index>(),
    ) {
        let g = Generic {
            header: http::HeaderName::from_static("x-signature"),
            algorithm: if sha512 { Algorithm::Sha512 } else { Algorithm::Sha256 },
            encoding: if base64 { Encoding::Base64 } else { Encoding::Hex },
            prefix,
        };
        let h = signed(&scheme, &g, &secret, &body);
        prop_assert!(verify(&scheme, Some(&g), &secret, &h, &body, NOW).is_ok(), "{scheme:?} {h:?}");
        let mut changed = body.clone();
        if changed.is_empty() {
            changed.push(b'x');
        } else {
            let i = flip.index(changed.len());
            changed[i] ^= 0x01;
        }
        prop_assert!(verify(&scheme, Some(&g), &secret, &h, &changed, NOW).is_err());
    }

    #[test]
    fn a_standard_webhooks_secret_signs_what_it_verifies_whatever_its_spelling(
        raw in proptest::collection::vec(any::<u8>(), 1..64),
        whsec in any::<bool>(),
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let secret = if whsec { format!("whsec_{}", STANDARD.encode(&raw)) } else { hex::encode(&raw) };
        let h = signed(&Scheme::Standard, &generic_default(), &secret, &body);
        prop_assert!(verify(&Scheme::Standard, None, &secret, &h, &body, NOW).is_ok());
        let stale = verify(&Scheme::Standard, None, &secret, &h, &body, NOW + 301);
        prop_assert!(stale.is_err());
    }

    #[test]
    fn a_twilio_signature_over_url_and_form_verifies_and_a_changed_url_does_not(
        secret in "[ -~]{1,40}",
        path in "[a-z0-9/]{0,30}",
        form in proptest::collection::vec(("[a-zA-Z]{1,8}", "[ -~]{0,16}"), 0..6),
    ) {
        let url = format!("https://hooks.example.com/{path}");
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let h = vec![("X-Twilio-Signature".to_owned(), twilio_sign(&secret, &url, body.as_bytes()))];
        prop_assert!(verify_twilio(&secret, &h, &url, body.as_bytes(), true).is_ok());
        let other_url = format!("{url}x");
        prop_assert!(verify_twilio(&secret, &h, &other_url, body.as_bytes(), true).is_err());
    }

    #[test]
    fn a_minted_signed_url_gives_back_its_context_and_no_other_sig_passes(
        key in proptest::collection::vec(any::<u8>(), 16..64),
        context in json_value(),
        expires_in in proptest::option::of(1i64..1_000_000),
        other in "[A-Za-z0-9_-]{0,60}",
    ) {
        let expires_at = expires_in.map(|s| NOW + s);
        let (ctx, sig) = signed_url::mint(&key, "bot_1", "hk_1", &context, expires_at);
        prop_assert_eq!(signed_url::verify(&key, "bot_1", "hk_1", &ctx, &sig, NOW), Ok(context.clone()));
        prop_assert!(signed_url::verify(&key, "bot_1", "hk_2", &ctx, &sig, NOW).is_err());
        if let Some(at) = expires_at {
            prop_assert!(signed_url::verify(&key, "bot_1", "hk_1", &ctx, &sig, at).is_err());
        }
        if other != sig {
            prop_assert!(signed_url::verify(&key, "bot_1", "hk_1", &ctx, &other, NOW).is_err());
        }
    }

    #[test]
    fn no_signed_url_check_panics_on_arbitrary_ctx_and_sig(
        key in proptest::collection::vec(any::<u8>(), 0..64),
        ctx in prop_oneof![any::<String>(), "[A-Za-z0-9_-]{0,80}"],
        sig in prop_oneof![any::<String>(), "[A-Za-z0-9_-]{0,60}"],
        stored in any::<String>(),
        now in any::<i64>(),
    ) {
        let _ = signed_url::verify(&key, "bot_1", "hk_1", &ctx, &sig, now);
        let _ = signed_url::decode_key(&stored);
        // A ctx signed with the key but not minted by it is refused, not a panic.
        let forged_sig = URL_SAFE_NO_PAD.encode(b"x");
        let _ = signed_url::verify(&key, "bot_1", "hk_1", &ctx, &forged_sig, now);
    }
}

fn generic_default() -> Generic {
    Generic {
        header: http::HeaderName::from_static("x-signature"),
        algorithm: Algorithm::Sha256,
        encoding: Encoding::Hex,
        prefix: None,
    }
}

fn url_encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// JSON values a context may hold: nested objects and arrays of strings,
/// numbers, booleans and nulls.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
