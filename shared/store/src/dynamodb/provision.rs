//! Creating the DynamoDB table with the SAM template's schema, for
//! `hooklane dev --backend aws` and tests (in Lambda the template creates it).

use std::time::Duration;

use anyhow::Context as _;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    Tag, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::DynamoStore;

impl DynamoStore {
    /// Creates the table when it does not exist, with the SAM template's
    /// schema (`pk` S HASH, `sk` S RANGE, on demand, TTL on `ttl`), and waits
    /// until it is ACTIVE. An existing table is checked, not changed, except
    /// that TTL is turned on when it is off. For `hooklane dev --backend aws`
    /// and tests; in Lambda the template creates the table.
    ///
    /// Errors (naming the table) when a table of that name has another key,
    /// is not ACTIVE within 2 minutes, has TTL on another attribute, or
    /// DynamoDB refuses a request.
    pub async fn ensure_table(&self) -> anyhow::Result<()> {
        let table = &self.table;
        match self.client.describe_table().table_name(table).send().await {
            Ok(out) => {
                let keys = out.table().map(|t| t.key_schema()).unwrap_or_default();
                let has = |name: &str, kind: KeyType| {
                    keys.iter()
                        .any(|k| k.attribute_name() == name && *k.key_type() == kind)
                };
                if keys.len() != 2 || !has("pk", KeyType::Hash) || !has("sk", KeyType::Range) {
                    anyhow::bail!(
                        "DynamoDB table `{table}` exists but its key is not `pk` (HASH) + `sk` \
                         (RANGE); point HOOKLANE_TABLE at a Hooklane table or a new name"
                    );
                }
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                self.create_table().await?;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e))
                    .with_context(|| format!("could not describe DynamoDB table `{table}`"));
            }
        }
        self.wait_until_active().await?;
        self.ensure_ttl().await
    }

    async fn create_table(&self) -> anyhow::Result<()> {
        let table = &self.table;
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let created = self
            .client
            .create_table()
            .table_name(table)
            .attribute_definitions(attribute("pk")?)
            .attribute_definitions(attribute("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .billing_mode(BillingMode::PayPerRequest)
            .tags(Tag::builder().key("app").value("hooklane").build()?)
            .send()
            .await;
        match created {
            Ok(_) => {
                tracing::info!(table = %table, "created DynamoDB table");
                Ok(())
            }
            // Someone else created it at the same time.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(anyhow::Error::new(e))
                .with_context(|| format!("could not create DynamoDB table `{table}`")),
        }
    }

    async fn wait_until_active(&self) -> anyhow::Result<()> {
        let table = &self.table;
        for _ in 0..240 {
            let out = self
                .client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .with_context(|| format!("could not describe DynamoDB table `{table}`"))?;
            match out.table().and_then(|t| t.table_status()) {
                Some(TableStatus::Active) => return Ok(()),
                Some(TableStatus::Creating) | Some(TableStatus::Updating) | None => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Some(other) => {
                    anyhow::bail!("DynamoDB table `{table}` is {other}, not ACTIVE")
                }
            }
        }
        anyhow::bail!("DynamoDB table `{table}` did not become ACTIVE within 2 minutes")
    }

    async fn ensure_ttl(&self) -> anyhow::Result<()> {
        let table = &self.table;
        let out = self
            .client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .with_context(|| format!("could not read the TTL setting of `{table}`"))?;
        let ttl = out.time_to_live_description();
        let status = ttl.and_then(|t| t.time_to_live_status());
        let attribute = ttl.and_then(|t| t.attribute_name());
        match status {
            Some(TimeToLiveStatus::Enabled) | Some(TimeToLiveStatus::Enabling) => {
                if attribute.is_some_and(|a| a != "ttl") {
                    anyhow::bail!(
                        "DynamoDB table `{table}` has TTL on `{}`, Hooklane needs it on `ttl`",
                        attribute.unwrap_or_default()
                    );
                }
                Ok(())
            }
            _ => {
                self.client
                    .update_time_to_live()
                    .table_name(table)
                    .time_to_live_specification(
                        TimeToLiveSpecification::builder()
                            .attribute_name("ttl")
                            .enabled(true)
                            .build()?,
                    )
                    .send()
                    .await
                    .with_context(|| format!("could not turn on TTL for `{table}`"))?;
                Ok(())
            }
        }
    }
}
