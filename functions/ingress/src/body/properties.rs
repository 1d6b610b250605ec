//! Property tests of body reading (proptest): `parse_body` and the
//! `variables` parser never panic on any content type and bytes; a valid
//! `variables` array comes back as its map and the rest as the payload;
//! `Content-Encoding` handling never panics, and encoding then decoding
//! gives the bytes back (or 413 past the limit).

use std::io::Write;

use axum::http::{header, HeaderMap, HeaderValue};
use bytes::Bytes;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::Compression;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::decode::{codings, decode, Coding};
use super::{parse_body, BodyError};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        Just("application/json".to_owned()),
        Just("application/x-www-form-urlencoded".to_owned()),
        Just("text/plain; charset=utf-8".to_owned()),
        Just("application/octet-stream".to_owned()),
        Just("application/vnd.x+json".to_owned()),
        any::<String>(),
    ])
}

/// Bodies that are JSON-ish (with and without `variables`) as often as not.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        any::<String>().prop_map(String::into_bytes),
        "\\{\"variables\": ?(\\[|\\{|null|1|\"x\")[\\[\\]{}\",:a-z0-9 ]{0,80}"
            .prop_map(String::into_bytes),
        "[a-z=&%0-9+]{0,80}".prop_map(String::into_bytes),
    ]
}

fn encode(coding: Coding, bytes: &[u8], zlib: bool) -> Vec<u8> {
    match coding {
        Coding::Gzip => {
            let mut e = GzEncoder::new(Vec::new(), Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        Coding::Deflate if zlib => {
            let mut e = ZlibEncoder::new(Vec::new(), Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        Coding::Deflate => {
            let mut e = DeflateEncoder::new(Vec::new(), Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_body_panics_the_parser(ct in content_type(), bytes in body()) {
        let _ = parse_body(ct.as_deref(), &bytes);
    }

    #[test]
    fn a_valid_variables_array_comes_back_as_its_map_and_the_rest_as_the_payload(
        vars in proptest::collection::btree_map("[A-Za-z0-9_.-]{1,64}", (any::<String>(), any::<String>()), 0..6),
        rest in proptest::collection::btree_map("[a-z]{1,8}", any::<String>(), 0..4),
        bom in any::<bool>(),
    ) {
        let entries: Vec<Value> = vars
            .iter()
            .map(|(var, (name, value))| json!({"name": name, "variable": format!("{{{var}}}"), "value": value}))
            .collect();
        let mut sent: Map<String, Value> = rest.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        sent.insert("variables".into(), Value::Array(entries));
        let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        bytes.extend(Value::Object(sent).to_string().into_bytes());

        let parsed = parse_body(Some("application/json"), &bytes).unwrap();
        let want: Map<String, Value> = vars.iter().map(|(var, (_, value))| (var.clone(), json!(value))).collect();
        prop_assert_eq!(parsed.variables, want);
        let payload: Map<String, Value> = rest.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        prop_assert_eq!(parsed.payload, Value::Object(payload));
    }

    #[test]
    fn a_malformed_variables_entry_is_invalid_variables_not_a_panic(
        entry in prop_oneof![
            Just(json!(1)),
            Just(json!({})),
            "[ -~]{0,70}".prop_map(|v| json!({"name": "n", "variable": v, "value": "x"})),
            any::<i64>().prop_map(|n| json!({"name": "n", "variable": "{a}", "value": {"deep": n}})),
            Just(json!({"name": "n", "value": "x"})),
        ],
    ) {
        let bytes = json!({"variables": [entry]}).to_string();
        match parse_body(Some("application/json"), bytes.as_bytes()) {
            Ok(parsed) => {
                // Only a well-formed entry passes: it names one variable.
                prop_assert_eq!(parsed.variables.len(), 1);
            }
            Err(e) => prop_assert!(matches!(e, BodyError::InvalidVariables(_)), "{e:?}"),
        }
    }

    #[test]
    fn no_content_encoding_header_or_coded_body_panics(
        names in proptest::collection::vec(prop_oneof![
            Just("gzip"), Just("x-gzip"), Just("deflate"), Just("identity"), Just("br"), Just(" , "), Just("GZIP")
        ], 0..6),
        raw in any::<String>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        limit in 0usize..1024,
    ) {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&names.join(",")) {
            headers.append(header::CONTENT_ENCODING, v);
        }
        if let Ok(v) = HeaderValue::from_str(&raw) {
            headers.append(header::CONTENT_ENCODING, v);
        }
        let _ = codings(&headers);
        for c in [vec![Coding::Gzip], vec![Coding::Deflate], vec![Coding::Gzip, Coding::Deflate]] {
            let _ = decode(&c, Bytes::from(bytes.clone()), limit);
        }
    }

    #[test]
    fn encoding_then_decoding_gives_the_body_back_or_413_past_the_limit(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        layers in proptest::collection::vec(prop_oneof![Just(Coding::Gzip), Just(Coding::Deflate)], 1..=3),
        zlib in any::<bool>(),
        limit in 0usize..3000,
    ) {
        let mut coded = bytes.clone();
        for &c in &layers {
            coded = encode(c, &coded, zlib);
        }
        match decode(&layers, Bytes::from(coded), limit) {
            Ok(decoded) => {
                prop_assert!(bytes.len() <= limit);
                prop_assert_eq!(decoded.as_ref(), bytes.as_slice());
            }
            Err(e) => prop_assert!(matches!(e, BodyError::TooLargeDecoded { .. }), "{e:?}"),
        }
    }
}
