//! Item encoding: how a record becomes a DynamoDB item and back.
//!
//! A record is kept whole as JSON in the string attribute `data`, under its
//! `pk` and `sk` (see `keys.rs`); a record whose JSON is over
//! [`COMPRESS_OVER`] bytes is kept zlib-compressed in the binary attribute
//! `dataz` instead when that is smaller (DynamoDB bills writes per KB
//! written, and a run keeps the request it ran for replays); an item that expires also carries `ttl`
//! (epoch seconds, DynamoDB's TTL attribute). Extra attributes: a variable's
//! `version` (N); an idempotency claim's `value` (S) and `exp` (N, epoch
//! milliseconds) with no `data`; a delivery pointer's `endpoint` (S); a
//! counter's `n` (N); an outbound target's `w`, `n` and `pause` (N; see
//! `targets.rs`).

use std::collections::HashMap;
use std::io::{Read as _, Write as _};

use anyhow::{anyhow, Context as _};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use serde::de::DeserializeOwned;
use serde::Serialize;
use time::OffsetDateTime;

use crate::ports::StoreError;

/// One DynamoDB item: attribute name to value.
pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

pub(super) fn epoch_seconds(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

pub(super) fn epoch_millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Records whose JSON is longer than this many bytes are compressed.
pub(super) const COMPRESS_OVER: usize = 512;

/// The most bytes a `dataz` attribute inflates to (an item holds at most
/// 400 KB, and JSON compresses well under 10:1 as a rule).
const MAX_INFLATED: u64 = 16 * 1024 * 1024;

/// The item holding `record` as JSON in `data` (or compressed in `dataz`),
/// expiring at `expires_at`.
pub(super) fn record_item<T: Serialize>(
    pk: &str,
    sk: &str,
    record: &T,
    expires_at: Option<OffsetDateTime>,
) -> Result<Item, StoreError> {
    let data = serde_json::to_string(record)
        .with_context(|| format!("could not serialize the record {pk} {sk}"))?;
    let mut item = key(pk, sk);
    match compressed(&data) {
        Some(z) => item.insert("dataz".to_owned(), AttributeValue::B(Blob::new(z))),
        None => item.insert("data".to_owned(), s(data)),
    };
    if let Some(at) = expires_at {
        item.insert("ttl".to_owned(), n(epoch_seconds(at)));
    }
    Ok(item)
}

pub(super) fn attr_s(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(StoreError::Unexpected(anyhow!(
            "a DynamoDB item has no string attribute `{name}`"
        ))),
    }
}

pub(super) fn attr_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().map_err(|_| {
            StoreError::Unexpected(anyhow!(
                "the DynamoDB attribute `{name}` holds `{value}`, not the number expected"
            ))
        }),
        _ => Err(StoreError::Unexpected(anyhow!(
            "a DynamoDB item has no number attribute `{name}`"
        ))),
    }
}

/// `data` zlib-compressed at the fast level, when it is over
/// [`COMPRESS_OVER`] bytes and the result is smaller.
fn compressed(data: &str) -> Option<Vec<u8>> {
    if data.len() <= COMPRESS_OVER {
        return None;
    }
    let mut z = ZlibEncoder::new(Vec::with_capacity(data.len() / 2), Compression::fast());
    z.write_all(data.as_bytes()).ok()?;
    let z = z.finish().ok()?;
    (z.len() < data.len()).then_some(z)
}

/// The record's JSON: `data`, or `dataz` inflated.
fn record_json(item: &Item) -> Result<String, StoreError> {
    let Some(AttributeValue::B(z)) = item.get("dataz") else {
        return attr_s(item, "data");
    };
    let mut json = String::new();
    ZlibDecoder::new(z.as_ref())
        .take(MAX_INFLATED)
        .read_to_string(&mut json)
        .map_err(|e| {
            StoreError::Unexpected(
                anyhow::Error::new(e).context("a stored record does not inflate"),
            )
        })?;
    Ok(json)
}

pub(super) fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let data = record_json(item)?;
    serde_json::from_str(&data).map_err(|e| {
        let pk = attr_s(item, "pk").unwrap_or_default();
        let sk = attr_s(item, "sk").unwrap_or_default();
        StoreError::Unexpected(
            anyhow::Error::new(e).context(format!("the stored record {pk} {sk} does not parse")),
        )
    })
}

pub(super) fn decode_all<T: DeserializeOwned>(items: &[Item]) -> Result<Vec<T>, StoreError> {
    items.iter().map(decode).collect()
}

pub(super) fn is_condition_failed<E: ProvideErrorMetadata>(err: &SdkError<E>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}
