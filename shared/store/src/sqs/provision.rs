//! Creating the queue and its dead-letter queue with the SAM template's
//! settings, for `hooklane dev --backend aws` and tests (in Lambda the
//! template creates them).

use anyhow::Context as _;
use aws_sdk_sqs::types::QueueAttributeName;
use tokio::sync::OnceCell;

use super::{queue_attribute, SqsQueue};

/// The same queue settings as the SAM template's `Queue` and `DeadLetterQueue`.
const VISIBILITY_TIMEOUT: &str = "360";
const QUEUE_RETENTION: &str = "345600"; // 4 days
const DLQ_RETENTION: &str = "1209600"; // 14 days

/// [`super::MAX_MESSAGE_BYTES`] as the `MaximumMessageSize` attribute.
const MAX_MESSAGE_BYTES_ATTR: &str = "1048576";

impl SqsQueue {
    /// Creates (or brings up to date) `{name}-dlq` and `{name}`, with a
    /// RedrivePolicy of `max_receives` and the SAM template's settings, and
    /// returns the adapter on them. For `hooklane dev --backend aws` and
    /// tests; in Lambda the template creates the queues. Errors (with the
    /// queue's name) when a queue cannot be created, found or updated.
    pub async fn ensure_queue(
        config: &aws_config::SdkConfig,
        name: &str,
        max_receives: u32,
    ) -> anyhow::Result<SqsQueue> {
        let client = aws_sdk_sqs::Client::new(config);
        let dlq_name = format!("{name}-dlq");
        let dlq_url = create_or_update(
            &client,
            &dlq_name,
            &[
                (QueueAttributeName::MessageRetentionPeriod, DLQ_RETENTION),
                (QueueAttributeName::SqsManagedSseEnabled, "true"),
            ],
        )
        .await?;
        let dlq_arn = queue_attribute(&client, &dlq_url, QueueAttributeName::QueueArn)
            .await?
            .with_context(|| format!("the SQS queue `{dlq_name}` has no QueueArn"))?;
        let redrive = serde_json::json!({
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": max_receives,
        })
        .to_string();
        let queue_url = create_or_update(
            &client,
            name,
            &[
                (QueueAttributeName::VisibilityTimeout, VISIBILITY_TIMEOUT),
                (QueueAttributeName::MessageRetentionPeriod, QUEUE_RETENTION),
                (
                    QueueAttributeName::MaximumMessageSize,
                    MAX_MESSAGE_BYTES_ATTR,
                ),
                (QueueAttributeName::SqsManagedSseEnabled, "true"),
                (QueueAttributeName::RedrivePolicy, &redrive),
            ],
        )
        .await?;
        Ok(SqsQueue {
            client,
            queue_url,
            dlq_url: OnceCell::new_with(Some(dlq_url)),
            max_receives: OnceCell::new_with(Some(max_receives)),
            timeouts: config.timeout_config().cloned(),
        })
    }
}

/// Creates the queue; when it exists with other settings, sets them.
async fn create_or_update(
    client: &aws_sdk_sqs::Client,
    name: &str,
    attributes: &[(QueueAttributeName, &str)],
) -> anyhow::Result<String> {
    let mut create = client.create_queue().queue_name(name);
    for (attribute, value) in attributes {
        create = create.attributes(attribute.clone(), *value);
    }
    match create.send().await {
        Ok(out) => out
            .queue_url
            .with_context(|| format!("SQS created `{name}` but answered no URL")),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_queue_name_exists()) =>
        {
            let url = client
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .with_context(|| format!("could not find the SQS queue `{name}`"))?
                .queue_url
                .with_context(|| format!("SQS answered no URL for `{name}`"))?;
            let mut set = client.set_queue_attributes().queue_url(&url);
            for (attribute, value) in attributes {
                set = set.attributes(attribute.clone(), *value);
            }
            set.send()
                .await
                .with_context(|| format!("could not update the SQS queue `{name}`"))?;
            tracing::info!(queue = %name, "updated the settings of an SQS queue");
            Ok(url)
        }
        Err(e) => Err(anyhow::Error::new(e))
            .with_context(|| format!("could not create SQS queue `{name}`")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_maximum_message_size_attribute_is_the_adapters_limit() {
        assert_eq!(
            super::MAX_MESSAGE_BYTES_ATTR,
            super::super::MAX_MESSAGE_BYTES.to_string()
        );
    }
}
