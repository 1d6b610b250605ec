//! Item encoding: how a record becomes a DynamoDB item and back.
//!
//! A record is kept whole as JSON in the string attribute `data`, under its
//! `pk` and `sk` (see `keys.rs`); an item that expires also carries `ttl`
//! (epoch seconds, DynamoDB's TTL attribute). Extra attributes: a variable's
//! `version` (N); an idempotency claim's `value` (S) and `exp` (N, epoch
//! milliseconds) with no `data`; a delivery pointer's `endpoint` (S); a
//! counter's `n` (N).

use std::collections::HashMap;

use anyhow::{anyhow, Context as _};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
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

/// The item holding `record` as JSON in `data`, expiring at `expires_at`.
pub(super) fn record_item<T: Serialize>(
    pk: &str,
    sk: &str,
    record: &T,
    expires_at: Option<OffsetDateTime>,
) -> Result<Item, StoreError> {
    let data = serde_json::to_string(record)
        .with_context(|| format!("could not serialize the record {pk} {sk}"))?;
    let mut item = key(pk, sk);
    item.insert("data".to_owned(), s(data));
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

pub(super) fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let data = attr_s(item, "data")?;
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
