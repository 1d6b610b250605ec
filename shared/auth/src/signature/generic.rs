//! `generic`: an HMAC of the raw body in a header the hook names, with the
//! hash, the encoding and an optional prefix set per hook ([`Generic`]). No
//! timestamp and no delivery id.

use serde::{Deserialize, Serialize};

use super::{check, decode_all, malformed, required, Algorithm, Encoding, Headers};
use super::{SignatureError, Verified};

/// Settings for [`Scheme::Generic`](super::Scheme::Generic): an HMAC of the
/// raw body in `header`.
///
/// The header may hold several signatures separated by commas or spaces (a
/// secret rotation); any one matching is enough. With a `prefix`, every
/// signature must start with it (e.g. `sha256=`), and it is stripped before
/// decoding; the prefix must not itself contain a comma or a space.
///
/// JSON: `{"header": "X-Signature", "algorithm": "sha256"|"sha512",
/// "encoding": "hex"|"base64", "prefix": "sha256="}`; only `header` is
/// required (`sha256`, `hex` and no prefix by default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generic {
    /// The header carrying the signature, matched case-insensitively. A
    /// blank name makes every call fail as [`SignatureError::Malformed`].
    pub header: String,
    /// The hash behind the HMAC.
    #[serde(default)]
    pub algorithm: Algorithm,
    /// How each signature is spelled.
    #[serde(default)]
    pub encoding: Encoding,
    /// Text every signature starts with, stripped before decoding; `None`
    /// or empty for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// Checks a `generic` request; `generic` missing or naming no header is a
/// misconfigured hook and answers [`SignatureError::Malformed`].
pub(super) fn verify(
    generic: Option<&Generic>,
    secret: &str,
    headers: &dyn Headers,
    body: &[u8],
) -> Result<Verified, SignatureError> {
    let Some(generic) = generic.filter(|g| !g.header.trim().is_empty()) else {
        return Err(malformed(
            "this hook uses the generic scheme but names no signature header; set it in the hook's auth settings"
                .to_owned(),
        ));
    };
    let header = generic.header.trim();
    let value = required(headers, header)?;
    let prefix = generic.prefix.as_deref().filter(|p| !p.is_empty());
    let values = value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|v| !v.is_empty())
        .filter_map(|v| match prefix {
            Some(prefix) => v.strip_prefix(prefix),
            None => Some(v),
        });
    let signatures = decode_all(generic.encoding, values);
    if signatures.is_empty() {
        let prefixed = prefix
            .map(|p| format!(" after the prefix `{p}`"))
            .unwrap_or_default();
        return Err(malformed(format!(
            "`{header}` holds no {} signature{prefixed}",
            generic.encoding
        )));
    }
    check(secret.as_bytes(), generic.algorithm, &[body], &signatures)?;
    Ok(Verified::default())
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::testing::{assert_refusals, headers, missing, Refusal};
    use super::super::{verify, Algorithm, Encoding, Scheme, SignatureError, Verified};
    use super::Generic;

    // Computed with python3 -c 'import hmac,hashlib,base64; m = hmac.new(
    //   b"generic-secret", b"{\"ok\":true}", hashlib.sha256); print(m.hexdigest(),
    //   base64.b64encode(m.digest()).decode())' (and hashlib.sha512).
    const GENERIC_SECRET: &str = "generic-secret";
    const GENERIC_BODY: &[u8] = br#"{"ok":true}"#;
    const GENERIC_SHA256_HEX: &str =
        "bbb3b3c4cbaa75cef706d50357234102354ada79214380626d98fbff276909d2";
    const GENERIC_SHA256_B64: &str = "u7OzxMuqdc73BtUDVyNBAjVK2nkhQ4BibZj7/ydpCdI=";
    const GENERIC_SHA512_HEX: &str = "0db8b804d6086ce18dbae5b505513360cff58c637e6ac557771007ec86c12a42c38d50170d011f11c4d17330aabcbb2c88d63127a2291706dd927f67feef7dbc";
    const GENERIC_SHA512_B64: &str =
        "Dbi4BNYIbOGNuuW1BVEzYM/1jGN+asVXdxAH7IbBKkLDjVAXDQEfEcTRczCqvLssiNYxJ6IpFwbdkn9n/u99vA==";

    pub(in crate::signature) fn generic(
        algorithm: Algorithm,
        encoding: Encoding,
        prefix: Option<&str>,
    ) -> Generic {
        Generic {
            header: "X-Signature".to_owned(),
            algorithm,
            encoding,
            prefix: prefix.map(str::to_owned),
        }
    }

    #[test]
    fn generic_accepts_every_algorithm_encoding_and_prefix() {
        use Algorithm::{Sha256, Sha512};
        use Encoding::{Base64, Hex};
        let upper_hex = GENERIC_SHA256_HEX.to_uppercase();
        let cases: Vec<(Generic, String)> = vec![
            (generic(Sha256, Hex, None), GENERIC_SHA256_HEX.to_owned()),
            (generic(Sha256, Hex, None), upper_hex),
            (generic(Sha256, Base64, None), GENERIC_SHA256_B64.to_owned()),
            (generic(Sha512, Hex, None), GENERIC_SHA512_HEX.to_owned()),
            (generic(Sha512, Base64, None), GENERIC_SHA512_B64.to_owned()),
            (
                generic(Sha256, Hex, Some("sha256=")),
                format!("sha256={GENERIC_SHA256_HEX}"),
            ),
            (
                generic(Sha512, Base64, Some("v1=")),
                format!("v1={GENERIC_SHA512_B64}"),
            ),
            (
                generic(Sha256, Hex, None),
                format!("{GENERIC_SHA512_HEX},{GENERIC_SHA256_HEX}"),
            ),
            (
                generic(Sha256, Base64, None),
                format!("{GENERIC_SHA512_B64} {GENERIC_SHA256_B64}"),
            ),
            (
                generic(Sha256, Hex, Some("sha256=")),
                format!("sha256=00ff, sha256={GENERIC_SHA256_HEX}"),
            ),
        ];
        for (config, value) in cases {
            let h = headers(&[("x-signature", &value)]);
            assert_eq!(
                verify(
                    &Scheme::Generic,
                    Some(&config),
                    GENERIC_SECRET,
                    &h,
                    GENERIC_BODY,
                    0
                ),
                Ok(Verified::default()),
                "{config:?} with {value}"
            );
        }
    }

    #[test]
    fn generic_refuses_forged_tampered_unprefixed_and_incomplete_requests() {
        let sha256_hex = generic(Algorithm::Sha256, Encoding::Hex, None);
        let good = || headers(&[("X-Signature", GENERIC_SHA256_HEX)]);
        let refusal = |case, headers, expected| Refusal {
            case,
            secret: GENERIC_SECRET,
            headers,
            body: GENERIC_BODY,
            now: 0,
            expected,
        };
        assert_refusals(
            &Scheme::Generic,
            Some(&sha256_hex),
            vec![
                Refusal {
                    secret: "other-secret",
                    ..refusal("wrong secret", good(), SignatureError::Mismatch)
                },
                Refusal {
                    body: br#"{"ok":false}"#,
                    ..refusal("tampered body", good(), SignatureError::Mismatch)
                },
                refusal(
                    "missing header",
                    headers(&[("X-Hub-Signature-256", GENERIC_SHA256_HEX)]),
                    missing("X-Signature"),
                ),
                refusal(
                    "a sha512 signature where sha256 is configured",
                    headers(&[("X-Signature", GENERIC_SHA512_HEX)]),
                    SignatureError::Mismatch,
                ),
                refusal(
                    "base64 where hex is configured",
                    headers(&[("X-Signature", "not hex")]),
                    SignatureError::Malformed("`X-Signature` holds no hex signature".to_owned()),
                ),
            ],
        );

        let prefixed = generic(Algorithm::Sha256, Encoding::Hex, Some("sha256="));
        assert_refusals(
            &Scheme::Generic,
            Some(&prefixed),
            vec![refusal(
                "the configured prefix is absent",
                good(),
                SignatureError::Malformed(
                    "`X-Signature` holds no hex signature after the prefix `sha256=`".to_owned(),
                ),
            )],
        );
    }

    #[test]
    fn generic_without_settings_is_refused_as_misconfigured() {
        let h = headers(&[("X-Signature", GENERIC_SHA256_HEX)]);
        let blank = Generic {
            header: " ".to_owned(),
            ..generic(Algorithm::Sha256, Encoding::Hex, None)
        };
        for config in [None, Some(&blank)] {
            assert!(matches!(
                verify(
                    &Scheme::Generic,
                    config,
                    GENERIC_SECRET,
                    &h,
                    GENERIC_BODY,
                    0
                ),
                Err(SignatureError::Malformed(_))
            ));
        }
    }
}
