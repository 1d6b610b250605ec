//! A call's body as its sender encoded it: `Content-Encoding` undone under
//! the hook's size limit.
//!
//! `gzip` (and its old name `x-gzip`) and `deflate` are decoded; `identity`
//! is nothing to undo. `deflate` is the zlib format (RFC 9110 § 8.4.1.2);
//! raw deflate data, which some senders send under that name, is read too.
//! Inflating stops one byte past the limit, so a small body that would
//! inflate to gigabytes costs no more than the limit to refuse.

use std::io::Read;

use axum::http::{header, HeaderMap};
use bytes::Bytes;
use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

use super::BodyError;

/// The most codings one body may carry (`gzip, gzip, gzip` is the most a
/// sender has a reason for; each layer costs up to the limit to undo).
pub const MAX_CODINGS: usize = 3;

/// A content coding Hooklane undoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// `gzip` or `x-gzip`: one or more gzip members (RFC 1952).
    Gzip,
    /// `deflate`: zlib (RFC 1950), or raw deflate data (RFC 1951).
    Deflate,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }
}

/// The codings named by the request's `Content-Encoding` headers, in the
/// order the sender applied them, `identity` left out; empty when there is
/// none.
///
/// # Errors
/// [`BodyError::UnsupportedCoding`] (415 `unsupported_media_type`) naming
/// the first coding that is not
/// `gzip`, `x-gzip`, `deflate` or `identity` (names match
/// case-insensitively), a header that is not text, or more than
/// [`MAX_CODINGS`] codings.
pub fn codings(headers: &HeaderMap) -> Result<Vec<Coding>, BodyError> {
    let mut out = Vec::new();
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let Ok(value) = value.to_str() else {
            return Err(unsupported(
                "the Content-Encoding header is not text".to_owned(),
            ));
        };
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "identity" => {}
                "gzip" | "x-gzip" => out.push(Coding::Gzip),
                "deflate" => out.push(Coding::Deflate),
                _ => {
                    return Err(unsupported(format!(
                        "the body's Content-Encoding `{name}` is not supported; send it as is, or with gzip or deflate"
                    )))
                }
            }
        }
    }
    if out.len() > MAX_CODINGS {
        return Err(unsupported(format!(
            "the body carries {} content codings; at most {MAX_CODINGS} are undone",
            out.len()
        )));
    }
    Ok(out)
}

/// `bytes` with `codings` undone (the last applied is undone first); the
/// bytes themselves when there are none.
///
/// # Errors
/// [`BodyError::TooLargeDecoded`] (413) when a decoded body is over `limit`
/// bytes (found by inflating at most `limit` + 1 bytes);
/// [`BodyError::Corrupt`] (400 `invalid_body`) when the bytes are not what
/// a coding says they are.
pub fn decode(codings: &[Coding], bytes: Bytes, limit: usize) -> Result<Bytes, BodyError> {
    let mut body = bytes;
    for &coding in codings.iter().rev() {
        body = Bytes::from(inflate(coding, &body, limit)?);
    }
    Ok(body)
}

fn inflate(coding: Coding, bytes: &[u8], limit: usize) -> Result<Vec<u8>, BodyError> {
    let reader: Box<dyn Read + '_> = match coding {
        Coding::Gzip => Box::new(MultiGzDecoder::new(bytes)),
        Coding::Deflate if has_zlib_header(bytes) => Box::new(ZlibDecoder::new(bytes)),
        Coding::Deflate => Box::new(DeflateDecoder::new(bytes)),
    };
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    if let Err(source) = reader.take(cap).read_to_end(&mut out) {
        return Err(BodyError::Corrupt {
            coding: coding.name(),
            source,
        });
    }
    if out.len() > limit {
        return Err(BodyError::TooLargeDecoded {
            coding: coding.name(),
            limit,
        });
    }
    Ok(out)
}

/// A zlib stream starts with a method byte of 8 (deflate) and a check
/// that makes the first two bytes a multiple of 31 (RFC 1950 § 2.2).
fn has_zlib_header(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

fn unsupported(message: String) -> BodyError {
    BodyError::UnsupportedCoding(message)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use axum::http::{HeaderValue, StatusCode};
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use hooklane_web::ApiError;

    use super::*;

    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    pub(crate) fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    pub(crate) fn raw_deflate(bytes: &[u8]) -> Vec<u8> {
        let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::CONTENT_ENCODING, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn content_encoding_names_each_coding_in_the_order_applied() {
        use Coding::*;
        let cases: &[(&[&str], &[Coding])] = &[
            (&[], &[]),
            (&["identity"], &[]),
            (&["gzip"], &[Gzip]),
            (&["GZip"], &[Gzip]),
            (&["x-gzip"], &[Gzip]),
            (&["deflate"], &[Deflate]),
            (&["deflate, gzip"], &[Deflate, Gzip]),
            (&["deflate", "gzip"], &[Deflate, Gzip]),
            (&[" gzip ,identity,, "], &[Gzip]),
            (&["gzip, gzip, gzip"], &[Gzip, Gzip, Gzip]),
        ];
        for (values, want) in cases {
            assert_eq!(codings(&headers(values)).unwrap(), *want, "{values:?}");
        }
    }

    #[test]
    fn unknown_codings_answer_415_naming_the_coding() {
        let cases: &[(&[&str], &str)] = &[
            (&["br"], "`br`"),
            (&["zstd"], "`zstd`"),
            (&["compress"], "`compress`"),
            (&["gzip, br"], "`br`"),
            (&["gzip", "snappy"], "`snappy`"),
            (&["gzip, gzip, gzip, gzip"], "at most 3"),
        ];
        for (values, words) in cases {
            let e = ApiError::from(codings(&headers(values)).expect_err("refused"));
            assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{values:?}");
            assert_eq!(e.code, "unsupported_media_type");
            assert!(e.message.contains(words), "{values:?}: {}", e.message);
        }
    }

    #[test]
    fn each_coding_decodes_to_the_bytes_sent() {
        let body = br#"{"order": 7, "note": "caf\u00e9"}"#.repeat(20);
        let cases: Vec<(&str, Vec<Coding>, Vec<u8>)> = vec![
            ("none", vec![], body.clone()),
            ("gzip", vec![Coding::Gzip], gzip(&body)),
            ("zlib deflate", vec![Coding::Deflate], zlib(&body)),
            ("raw deflate", vec![Coding::Deflate], raw_deflate(&body)),
            (
                "deflate then gzip",
                vec![Coding::Deflate, Coding::Gzip],
                gzip(&zlib(&body)),
            ),
            (
                "two gzip members",
                vec![Coding::Gzip],
                [gzip(&body[..100]), gzip(&body[100..])].concat(),
            ),
            ("gzip of nothing", vec![Coding::Gzip], gzip(b"")),
        ];
        for (what, codings, sent) in cases {
            let want: &[u8] = if what == "gzip of nothing" {
                b""
            } else {
                &body
            };
            let got = decode(&codings, Bytes::from(sent), body.len()).unwrap();
            assert_eq!(&got[..], want, "{what}");
        }
    }

    #[test]
    fn the_limit_applies_to_the_decoded_bytes_without_inflating_them_all() {
        // 16 MiB of zeros in about 16 KiB of gzip (1 GiB would be 1 MiB).
        let zeros = vec![0u8; 16 << 20];
        let bomb = gzip(&zeros);
        assert!(bomb.len() < 32 << 10, "{} bytes", bomb.len());
        let limit = 1024;
        let e = ApiError::from(
            decode(&[Coding::Gzip], Bytes::from(bomb), limit).expect_err("over the limit"),
        );
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(e.code, "payload_too_large");
        assert!(e.message.contains("1024 bytes"), "{}", e.message);

        let exact = gzip(&vec![b'a'; limit]);
        assert_eq!(
            decode(&[Coding::Gzip], Bytes::from(exact), limit)
                .unwrap()
                .len(),
            limit
        );
        let one_more = zlib(&vec![b'a'; limit + 1]);
        let e = ApiError::from(
            decode(&[Coding::Deflate], Bytes::from(one_more), limit).expect_err("one more"),
        );
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn bytes_that_are_not_what_the_coding_says_answer_invalid_body() {
        let body = br#"{"order": 7}"#;
        let cases: Vec<(&str, Vec<Coding>, Vec<u8>)> = vec![
            (
                "plain JSON said to be gzip",
                vec![Coding::Gzip],
                body.to_vec(),
            ),
            ("gzip cut short", vec![Coding::Gzip], {
                let g = gzip(body);
                g[..g.len() - 6].to_vec()
            }),
            ("gzip said to be deflate", vec![Coding::Deflate], gzip(body)),
            ("gzip with trailing garbage", vec![Coding::Gzip], {
                let mut g = gzip(body);
                g.extend_from_slice(b"garbage");
                g
            }),
        ];
        for (what, codings, sent) in cases {
            let e = ApiError::from(decode(&codings, Bytes::from(sent), 1 << 20).expect_err(what));
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{what}");
            assert_eq!(e.code, "invalid_body", "{what}");
        }
    }
}
