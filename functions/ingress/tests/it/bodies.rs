//! Bodies as senders really send them: JSON under a form type or none, a
//! byte order mark, gzip and deflate; each either reaches the envelope as
//! sent or is refused with a clear 4xx and nothing queued.

use std::io::Write;

use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::Compression;
use hooklane_domain::envelope::HookCall;
use hooklane_domain::Job;
use serde_json::{json, Value};

use crate::signatures::*;
use crate::support::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(bytes: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The BotGhost example: `curl -X POST $URL -H "Authorization: $KEY" -d '…'`.
const BOTGHOST: &str =
    r#"{"variables": [{"name": "Amount", "variable": "{amount}", "value": "12"}], "order": 7}"#;

fn open(content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Call {
    let call = Call::post(path("hk_open")).body(body.into());
    match content_type {
        Some(t) => call.header("content-type", t),
        None => call,
    }
}

fn encoded(coding: &str, content_type: &str, body: Vec<u8>) -> Call {
    open(Some(content_type), body).header("content-encoding", coding)
}

/// What a call must come to.
enum Want {
    /// Queued, with this payload and these variables.
    Queued(Value, Value),
    /// Refused with this status and code, the message holding these words.
    Refused(u16, &'static str, &'static str),
}

#[tokio::test]
async fn every_way_a_sender_sends_a_body_is_read_as_sent_or_refused_clearly() {
    use Want::*;
    let t = Ingress::start().await;
    let form = Some("application/x-www-form-urlencoded");
    let order = || Queued(json!({"order": 7}), json!({}));
    let botghost = || Queued(json!({"order": 7}), json!({"amount": "12"}));
    let big = format!(r#"{{"pad": "{}"}}"#, "x".repeat(SMALL_LIMIT));
    let cases: Vec<(&str, Call, Want)> = vec![
        // --- JSON whatever form-ish or missing type it came with ----------
        (
            "curl -d (a form type) with BotGhost variables",
            open(form, BOTGHOST).header("authorization", &t.key),
            botghost(),
        ),
        ("no content type", open(None, BOTGHOST), botghost()),
        ("text/plain", open(Some("text/plain"), BOTGHOST), botghost()),
        (
            "text/plain; charset=utf-8",
            open(Some("text/plain; charset=utf-8"), BOTGHOST),
            botghost(),
        ),
        (
            "application/octet-stream",
            open(Some("application/octet-stream"), BOTGHOST),
            botghost(),
        ),
        ("text/json", open(Some("text/json"), BOTGHOST), botghost()),
        (
            "application/cloudevents+json",
            open(Some("application/cloudevents+json"), BOTGHOST),
            botghost(),
        ),
        (
            "a JSON array as a form",
            open(form, "[1, 2.50]"),
            Queued(serde_json::from_str("[1, 2.50]").unwrap(), json!({})),
        ),
        (
            "a JSON array after ASCII whitespace as a form",
            open(form, b"\x0C\r\n\t [1, 2.50]".to_vec()),
            Queued(serde_json::from_str("[1, 2.50]").unwrap(), json!({})),
        ),
        (
            "JSON after a form feed as a form, with BotGhost variables",
            open(form, format!("\x0C\n{BOTGHOST}")),
            botghost(),
        ),
        (
            "a real form stays a form",
            open(form, "order=7&amount=12"),
            Queued(json!({"order": "7", "amount": "12"}), json!({})),
        ),
        (
            "text that starts like JSON stays text",
            open(Some("text/plain"), "{not json"),
            Queued(json!("{not json"), json!({})),
        ),
        // --- a byte order mark -------------------------------------------
        (
            "BOM before JSON",
            open(
                Some("application/json"),
                b"\xEF\xBB\xBF{\"order\": 7}".to_vec(),
            ),
            order(),
        ),
        (
            "BOM before untyped JSON",
            open(None, b"\xEF\xBB\xBF{\"order\": 7}".to_vec()),
            order(),
        ),
        (
            "BOM before JSON sent as a form",
            open(form, b"\xEF\xBB\xBF{\"order\": 7}".to_vec()),
            order(),
        ),
        (
            "BOM before a form",
            open(form, b"\xEF\xBB\xBForder=7".to_vec()),
            Queued(json!({"order": "7"}), json!({})),
        ),
        (
            "BOM before text",
            open(Some("text/plain"), b"\xEF\xBB\xBFhello".to_vec()),
            Queued(json!("hello"), json!({})),
        ),
        // --- content codings ----------------------------------------------
        (
            "gzip JSON",
            encoded("gzip", "application/json", gzip(BOTGHOST.as_bytes())),
            botghost(),
        ),
        (
            "x-gzip JSON",
            encoded("x-gzip", "application/json", gzip(BOTGHOST.as_bytes())),
            botghost(),
        ),
        (
            "GZIP spelled in capitals",
            encoded("GZIP", "application/json", gzip(BOTGHOST.as_bytes())),
            botghost(),
        ),
        (
            "deflate (zlib) JSON",
            encoded("deflate", "application/json", zlib(BOTGHOST.as_bytes())),
            botghost(),
        ),
        (
            "raw deflate JSON",
            encoded(
                "deflate",
                "application/json",
                raw_deflate(BOTGHOST.as_bytes()),
            ),
            botghost(),
        ),
        (
            "gzip of a form",
            encoded(
                "gzip",
                "application/x-www-form-urlencoded",
                gzip(b"order=7"),
            ),
            Queued(json!({"order": "7"}), json!({})),
        ),
        (
            "gzip of a BOM and JSON",
            encoded(
                "gzip",
                "application/json",
                gzip(b"\xEF\xBB\xBF{\"order\": 7}"),
            ),
            order(),
        ),
        (
            "gzip of JSON sent as a form",
            encoded(
                "gzip",
                "application/x-www-form-urlencoded",
                gzip(BOTGHOST.as_bytes()),
            ),
            botghost(),
        ),
        (
            "deflate then gzip",
            encoded(
                "deflate, gzip",
                "application/json",
                gzip(&zlib(BOTGHOST.as_bytes())),
            ),
            botghost(),
        ),
        (
            "identity",
            encoded("identity", "application/json", BOTGHOST.into()),
            botghost(),
        ),
        (
            "gzip of nothing",
            encoded("gzip", "application/json", gzip(b"")),
            Queued(Value::Null, json!({})),
        ),
        (
            "br",
            encoded("br", "application/json", BOTGHOST.into()),
            Refused(415, "unsupported_media_type", "`br`"),
        ),
        (
            "zstd",
            encoded("zstd", "application/json", BOTGHOST.into()),
            Refused(415, "unsupported_media_type", "`zstd`"),
        ),
        (
            "gzip then compress",
            encoded("gzip, compress", "application/json", BOTGHOST.into()),
            Refused(415, "unsupported_media_type", "`compress`"),
        ),
        (
            "plain JSON said to be gzip",
            encoded("gzip", "application/json", BOTGHOST.into()),
            Refused(400, "invalid_body", "gzip"),
        ),
        (
            "gzip said to be deflate",
            encoded("deflate", "application/json", gzip(BOTGHOST.as_bytes())),
            Refused(400, "invalid_body", "deflate"),
        ),
        (
            "gzip cut short",
            encoded("gzip", "application/json", {
                let g = gzip(BOTGHOST.as_bytes());
                g[..g.len() / 2].to_vec()
            }),
            Refused(400, "invalid_body", "gzip"),
        ),
        (
            "gzip of bytes that are not UTF-8",
            encoded("gzip", "text/plain", gzip(b"caf\xe9")),
            Refused(400, "invalid_body", "UTF-8"),
        ),
        (
            "gzip of broken JSON",
            encoded("gzip", "application/json", gzip(b"{\"a\":")),
            Refused(400, "invalid_json", "not valid JSON"),
        ),
        // The limit holds for what the body decodes to.
        (
            "a small gzip over the limit once decoded",
            Call::post(path("hk_small"))
                .header("content-type", "application/json")
                .header("content-encoding", "gzip")
                .body(gzip(big.as_bytes())),
            Refused(413, "payload_too_large", "1024 bytes"),
        ),
        (
            "a gzip bomb: 256 KiB in a few hundred bytes",
            Call::post(path("hk_small"))
                .header("content-type", "text/plain")
                .header("content-encoding", "gzip")
                .body(gzip(&vec![b'a'; 256 << 10])),
            Refused(413, "payload_too_large", "once its gzip coding is undone"),
        ),
        (
            "a gzip exactly at the limit once decoded",
            Call::post(path("hk_small"))
                .header("content-type", "text/plain")
                .header("content-encoding", "gzip")
                .body(gzip(&vec![b'a'; SMALL_LIMIT])),
            Queued(json!("a".repeat(SMALL_LIMIT)), json!({})),
        ),
    ];
    let size = cases.len();
    let mut failures = Vec::new();
    for (what, call, want) in cases {
        let answer = t.send(call.build()).await;
        let queued = t.drain().await;
        let wrong = match want {
            Queued(payload, variables) => match (answer.status, queued.as_slice()) {
                (202, [envelope]) => {
                    let call = hook_call(&envelope.job);
                    let got = (
                        &call.request.payload,
                        Value::Object(call.request.variables.clone()),
                    );
                    (got != (&payload, variables.clone())).then(|| {
                        format!(
                            "payload {} variables {} (want {payload} {variables})",
                            got.0, got.1
                        )
                    })
                }
                (status, q) => Some(format!("{status} {} with {} queued", answer.body, q.len())),
            },
            Refused(status, code, words) => {
                let message = answer.body["error"]["message"].as_str().unwrap_or_default();
                let right = answer.status == status
                    && answer.body["error"]["code"] == code
                    && message.contains(words)
                    && queued.is_empty();
                (!right).then(|| {
                    format!(
                        "{} {} with {} queued (want {status} {code} saying {words:?})",
                        answer.status,
                        answer.body,
                        queued.len()
                    )
                })
            }
        };
        if let Some(wrong) = wrong {
            failures.push(format!("{what}: {wrong}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {size} bodies went wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn hook_call(job: &Job) -> &HookCall {
    match job {
        Job::HookCall(call) => call,
        other => panic!("not a hook call: {other:?}"),
    }
}

#[tokio::test]
async fn a_signature_over_a_compressed_body_is_checked_over_the_bytes_sent_or_decoded() {
    let t = Ingress::start().await;
    let compressed = gzip(BODY.as_bytes());
    let github_gzip = |signed: &[u8]| {
        Call::post(path("hk_github"))
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .header(
                "x-hub-signature-256",
                github_signature(GITHUB_SECRET, signed),
            )
            .body(compressed.clone())
    };
    let cases: Vec<(&str, Call, u16)> = vec![
        (
            "signed over the gzip bytes sent",
            github_gzip(&compressed),
            202,
        ),
        (
            "signed over the JSON before compression",
            github_gzip(BODY.as_bytes()),
            202,
        ),
        ("signed over other bytes", github_gzip(b"{}"), 401),
        (
            "an unknown coding without credentials is refused for the credentials",
            Call::post(path("hk_github"))
                .header("content-type", "application/json")
                .header("content-encoding", "br")
                .body(BODY),
            401,
        ),
        (
            "an unknown coding with a good signature is refused for the coding",
            Call::post(path("hk_github"))
                .header("content-type", "application/json")
                .header("content-encoding", "br")
                .header(
                    "x-hub-signature-256",
                    github_signature(GITHUB_SECRET, BODY.as_bytes()),
                )
                .body(BODY),
            415,
        ),
    ];
    for (what, call, status) in cases {
        let answer = t.send(call.build()).await;
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        let queued = t.drain().await;
        assert_eq!(queued.len(), usize::from(status == 202), "{what}");
        if let [envelope] = queued.as_slice() {
            let call = hook_call(&envelope.job);
            assert_eq!(call.request.payload["order"]["total"], "12.50", "{what}");
        }
    }
}

#[tokio::test]
async fn json_numbers_reach_the_envelope_with_the_digits_they_were_sent_with() {
    let t = Ingress::start().await;
    let body = r#"{"price": 12.50, "huge": 1e400, "long": 123456789012345678901234567890, "zero": -0.0, "int": 150, "variables": [{"name": "Amount", "variable": "{amount}", "value": 12.50}]}"#;
    for (what, call) in [
        ("JSON", open(Some("application/json"), body)),
        (
            "JSON as a form",
            open(Some("application/x-www-form-urlencoded"), body),
        ),
        (
            "gzip JSON",
            encoded("gzip", "application/json", gzip(body.as_bytes())),
        ),
    ] {
        let answer = t.send(call.build()).await;
        assert_eq!(answer.status, 202, "{what}: {}", answer.body);
        let queued = t.drain().await;
        let call = hook_call(&queued[0].job);
        let p = &call.request.payload;
        for (key, sent) in [
            ("price", "12.50"),
            ("huge", "1e+400"),
            ("long", "123456789012345678901234567890"),
            ("zero", "-0.0"),
            ("int", "150"),
        ] {
            assert_eq!(p[key].to_string(), sent, "{what}: {key}");
        }
        assert_eq!(
            call.request.variables["amount"].to_string(),
            "12.50",
            "{what}"
        );
    }
}
