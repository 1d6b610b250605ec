//! `generic`: an HMAC of the raw body in a header the hook names, with the
//! hash, the encoding and an optional prefix set per hook ([`Generic`]). No
//! timestamp and no delivery id.

use hooklane_domain::{HookAuth, Scheme};
use http::HeaderName;

use super::common::{check, decode_all, malformed, required, Algorithm, Encoding, Headers};
use super::common::{SignatureError, Verified};

/// Settings for [`Scheme::Generic`](super::Scheme::Generic): an HMAC of the
/// raw body in `header`.
///
/// The header may hold several signatures separated by commas or spaces (a
/// secret rotation); any one matching is enough. With a `prefix`, every
/// signature must start with it (e.g. `sha256=`), and it is stripped before
/// decoding; the prefix must not itself contain a comma or a space.
///
/// Made from the hook's stored (or sent) settings by [`Generic::parse`]:
/// `header`, `algorithm` (`sha256`, the default, or `sha512`), `encoding`
/// (`hex`, the default, or `base64`) and `prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generic {
    /// The header carrying the signature (a header name is lowercase, so
    /// it matches case-insensitively).
    pub header: HeaderName,
    /// The hash behind the HMAC.
    pub algorithm: Algorithm,
    /// How each signature is spelled.
    pub encoding: Encoding,
    /// Text every signature starts with, stripped before decoding; `None`
    /// for none (an empty prefix is none).
    pub prefix: Option<String>,
}

/// The longest `prefix` of [`Generic`] settings, in bytes.
pub const MAX_PREFIX_BYTES: usize = 64;

/// Which of the [`Generic`] settings does not parse. The text says what the
/// setting must be, to follow its name (`algorithm` "is sha256 or sha512").
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum GenericError {
    /// `header` is not a header name; holds it as given.
    #[error("`{0}` is not a usable header name")]
    Header(String),
    /// `algorithm` is neither `sha256` nor `sha512`.
    #[error("is sha256 or sha512")]
    Algorithm,
    /// `encoding` is neither `hex` nor `base64`.
    #[error("is hex or base64")]
    Encoding,
    /// `prefix` is longer than [`MAX_PREFIX_BYTES`].
    #[error("is at most 64 characters")]
    Prefix,
}

impl GenericError {
    /// The name of the setting at fault: `header`, `algorithm`, `encoding`
    /// or `prefix`.
    pub fn field(&self) -> &'static str {
        match self {
            GenericError::Header(_) => "header",
            GenericError::Algorithm => "algorithm",
            GenericError::Encoding => "encoding",
            GenericError::Prefix => "prefix",
        }
    }
}

impl Generic {
    /// The settings from their text: `header` (trimmed; any case),
    /// `algorithm` and `encoding` (their defaults when `None`), `prefix`
    /// (none when `None` or empty).
    ///
    /// # Errors
    /// [`GenericError`] naming the first setting that does not parse, in
    /// the order header, algorithm, encoding, prefix.
    pub fn parse(
        header: &str,
        algorithm: Option<&str>,
        encoding: Option<&str>,
        prefix: Option<&str>,
    ) -> Result<Self, GenericError> {
        let name = header.trim().to_ascii_lowercase();
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| GenericError::Header(header.to_owned()))?;
        let algorithm = match algorithm {
            None | Some("sha256") => Algorithm::Sha256,
            Some("sha512") => Algorithm::Sha512,
            Some(_) => return Err(GenericError::Algorithm),
        };
        let encoding = match encoding {
            None | Some("hex") => Encoding::Hex,
            Some("base64") => Encoding::Base64,
            Some(_) => return Err(GenericError::Encoding),
        };
        let prefix = prefix.filter(|p| !p.is_empty());
        if prefix.is_some_and(|p| p.len() > MAX_PREFIX_BYTES) {
            return Err(GenericError::Prefix);
        }
        Ok(Self {
            header,
            algorithm,
            encoding,
            prefix: prefix.map(str::to_owned),
        })
    }

    /// The settings of a stored `hmac` auth of the generic scheme, parsed;
    /// `None` for any other auth or scheme.
    ///
    /// # Errors
    /// [`GenericError`] when the stored settings do not parse (a hook
    /// written past the admin API's checks).
    pub fn of_auth(auth: &HookAuth) -> Result<Option<Self>, GenericError> {
        match auth {
            HookAuth::Hmac {
                scheme: Scheme::Generic,
                header,
                algorithm,
                encoding,
                prefix,
                ..
            } => Self::parse(
                header.as_deref().unwrap_or_default(),
                algorithm.as_deref(),
                encoding.as_deref(),
                prefix.as_deref(),
            )
            .map(Some),
            _ => Ok(None),
        }
    }

    /// The stored text of `algorithm`: `"sha256"` or `"sha512"`.
    pub fn algorithm_name(&self) -> &'static str {
        match self.algorithm {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// The stored text of `encoding`: `"hex"` or `"base64"`.
    pub fn encoding_name(&self) -> &'static str {
        match self.encoding {
            Encoding::Hex => "hex",
            Encoding::Base64 => "base64",
        }
    }
}

/// Checks a `generic` request; `generic` missing is a misconfigured hook
/// and answers [`SignatureError::Malformed`].
pub(super) fn verify(
    generic: Option<&Generic>,
    secret: &str,
    headers: &dyn Headers,
    body: &[u8],
) -> Result<Verified, SignatureError> {
    let Some(generic) = generic else {
        return Err(malformed(
            "this hook uses the generic scheme but names no signature header; set it in the hook's auth settings"
                .to_owned(),
        ));
    };
    let header = generic.header.as_str();
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
    use super::{Generic, GenericError};

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
            header: http::HeaderName::from_static("x-signature"),
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
                    missing("x-signature"),
                ),
                refusal(
                    "a sha512 signature where sha256 is configured",
                    headers(&[("X-Signature", GENERIC_SHA512_HEX)]),
                    SignatureError::Mismatch,
                ),
                refusal(
                    "base64 where hex is configured",
                    headers(&[("X-Signature", "not hex")]),
                    SignatureError::Malformed("`x-signature` holds no hex signature".to_owned()),
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
                    "`x-signature` holds no hex signature after the prefix `sha256=`".to_owned(),
                ),
            )],
        );
    }

    #[test]
    fn generic_without_settings_is_refused_as_misconfigured() {
        let h = headers(&[("X-Signature", GENERIC_SHA256_HEX)]);
        assert!(matches!(
            verify(&Scheme::Generic, None, GENERIC_SECRET, &h, GENERIC_BODY, 0),
            Err(SignatureError::Malformed(_))
        ));
        // A blank header name is no settings at all: it does not parse.
        assert_eq!(
            Generic::parse(" ", None, None, None),
            Err(GenericError::Header(" ".to_owned()))
        );
    }

    #[test]
    fn settings_parse_with_their_defaults_and_name_the_one_at_fault() {
        use Algorithm::{Sha256, Sha512};
        use Encoding::{Base64, Hex};
        let named = |header: &'static str, algorithm, encoding, prefix: Option<&str>| Generic {
            header: http::HeaderName::from_static(header),
            ..generic(algorithm, encoding, prefix)
        };
        let long_prefix = "p".repeat(65);
        type Settings<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
        let cases: Vec<(Settings, Result<Generic, GenericError>)> = vec![
            (
                ("X-Sig", None, None, None),
                Ok(named("x-sig", Sha256, Hex, None)),
            ),
            (
                (" X-Sig ", Some("sha512"), Some("base64"), Some("v1=")),
                Ok(named("x-sig", Sha512, Base64, Some("v1="))),
            ),
            (
                ("X-Sig", None, None, Some("")),
                Ok(named("x-sig", Sha256, Hex, None)),
            ),
            (
                ("", None, None, None),
                Err(GenericError::Header(String::new())),
            ),
            (
                ("bad header", None, None, None),
                Err(GenericError::Header("bad header".to_owned())),
            ),
            (
                ("X-Sig", Some("md5"), None, None),
                Err(GenericError::Algorithm),
            ),
            (
                ("X-Sig", Some("SHA256"), None, None),
                Err(GenericError::Algorithm),
            ),
            (
                ("X-Sig", None, Some("base32"), None),
                Err(GenericError::Encoding),
            ),
            (
                ("X-Sig", None, None, Some(long_prefix.as_str())),
                Err(GenericError::Prefix),
            ),
        ];
        for ((header, algorithm, encoding, prefix), want) in cases {
            let got = Generic::parse(header, algorithm, encoding, prefix);
            assert_eq!(
                got, want,
                "{header:?} {algorithm:?} {encoding:?} {prefix:?}"
            );
        }
        let parsed = Generic::parse("X-Sig", Some("sha512"), Some("base64"), None).unwrap();
        assert_eq!(
            (parsed.algorithm_name(), parsed.encoding_name()),
            ("sha512", "base64")
        );
        assert_eq!(GenericError::Algorithm.field(), "algorithm");
        assert_eq!(GenericError::Algorithm.to_string(), "is sha256 or sha512");
    }
}
