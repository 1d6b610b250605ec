//! The `Queue` on SQS: one standard queue whose RedrivePolicy moves a message
//! to its dead-letter queue after `maxReceiveCount` receives. The queue
//! adapter is here; `provision.rs` creates the queues.

mod batch;
mod provision;

use std::time::Duration;

use anyhow::{anyhow, Context as _};
use async_trait::async_trait;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use tokio::sync::OnceCell;

use crate::aws_errors::cannot_answer;
use crate::ports::{Queue, QueueError, Received};

/// SQS's longest `DelaySeconds`: 15 minutes.
const MAX_DELAY: Duration = Duration::from_secs(900);
/// The longest `WaitTimeSeconds` of a long poll.
const MAX_WAIT_SECONDS: u64 = 20;
/// The longest visibility timeout SQS takes: 12 hours.
const MAX_VISIBILITY_SECONDS: u64 = 12 * 60 * 60;
/// The largest body: 1 MiB, SQS's maximum. The SAM template and
/// [`SqsQueue::ensure_queue`] set the queue's `MaximumMessageSize` to it, so
/// a hook body at the default 256 KiB limit fits in its envelope with room
/// to spare.
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// The most messages one ReceiveMessage returns.
const MAX_BATCH: usize = 10;
/// How long a message received through [`SqsQueue::receive`] stays hidden
/// (the queue's own visibility timeout, 6 minutes, applies to Lambda's
/// receives): a receive whose answer is lost (a timeout while SQS was slow
/// or frozen) frees its messages after this, not after 6 minutes. A
/// receiver working on a message longer extends it with
/// [`Queue::extend_visibility`].
pub const RECEIVE_VISIBILITY: Duration = Duration::from_secs(20);

/// The SQS adapter of [`Queue`]: bodies up to 1 MiB, delays up to 15
/// minutes (longer ones are cut), long polls up to 20 s and 10 messages.
///
/// Cheap to clone. Every call is bounded by the SDK configuration's
/// timeouts (see [`crate::aws_config`]; a long poll's by its wait on top).
/// Every method answers `QueueError::Unavailable` when SQS cannot answer
/// now (timed out, unreachable, throttling) and `Unexpected` when it fails
/// otherwise or the queue is missing.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    /// Known when `ensure_queue` made the queues, else read once from the
    /// queue's RedrivePolicy.
    dlq_url: OnceCell<String>,
    /// The RedrivePolicy's `maxReceiveCount`, read once.
    max_receives: OnceCell<u32>,
    /// The SDK's timeouts, which a long poll extends by its wait.
    timeouts: Option<aws_config::timeout::TimeoutConfig>,
}

impl SqsQueue {
    /// The adapter on the queue at `queue_url`, with the SDK settings of
    /// `config`. Makes no request; the dead-letter queue is found on first
    /// need from the queue's RedrivePolicy.
    pub fn new(config: &aws_config::SdkConfig, queue_url: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_sqs::Client::new(config),
            queue_url: queue_url.into(),
            dlq_url: OnceCell::new(),
            max_receives: OnceCell::new(),
            timeouts: config.timeout_config().cloned(),
        }
    }

    /// The queue this adapter sends to and receives from.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// The dead-letter queue's URL, read from the queue's RedrivePolicy the
    /// first time. Errors when the queue has no RedrivePolicy, the policy
    /// names no SQS queue ARN, or SQS cannot be reached.
    pub async fn dead_letter_queue_url(&self) -> anyhow::Result<&str> {
        self.dlq_url
            .get_or_try_init(|| async {
                let policy = queue_attribute(
                    &self.client,
                    &self.queue_url,
                    QueueAttributeName::RedrivePolicy,
                )
                .await?
                .with_context(|| {
                    format!(
                        "the SQS queue {} has no RedrivePolicy, so no dead-letter queue",
                        self.queue_url
                    )
                })?;
                let policy: serde_json::Value = serde_json::from_str(&policy)
                    .context("the queue's RedrivePolicy is not JSON")?;
                let arn = policy["deadLetterTargetArn"]
                    .as_str()
                    .context("the queue's RedrivePolicy has no deadLetterTargetArn")?;
                // arn:aws:sqs:<region>:<account>:<name>
                let parts: Vec<&str> = arn.split(':').collect();
                let [_, _, "sqs", _, account, name] = parts[..] else {
                    anyhow::bail!("`{arn}` is not the ARN of an SQS queue");
                };
                let out = self
                    .client
                    .get_queue_url()
                    .queue_name(name)
                    .queue_owner_aws_account_id(account)
                    .send()
                    .await
                    .with_context(|| format!("could not find the dead-letter queue {arn}"))?;
                out.queue_url
                    .with_context(|| format!("SQS answered no URL for {arn}"))
            })
            .await
            .map(String::as_str)
    }

    /// An SDK error of `what`: `Unavailable` when SQS could not be reached
    /// or could not answer now, `Unexpected` otherwise.
    fn sdk_error<E, R>(&self, what: &str, err: SdkError<E, R>) -> QueueError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let unavailable = cannot_answer(&err);
        let err = anyhow::Error::new(err).context(format!("SQS {what} on {}", self.queue_url));
        if unavailable {
            QueueError::Unavailable(err)
        } else {
            QueueError::Unexpected(err)
        }
    }
}

async fn queue_attribute(
    client: &aws_sdk_sqs::Client,
    url: &str,
    attribute: QueueAttributeName,
) -> anyhow::Result<Option<String>> {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(attribute.clone())
        .send()
        .await
        .with_context(|| format!("could not read {attribute} of the SQS queue {url}"))?;
    Ok(out.attributes.and_then(|mut a| a.remove(&attribute)))
}

/// The `maxReceiveCount` of the queue's RedrivePolicy (SQS writes it as a
/// number or as a string of one).
async fn max_receive_count(client: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<u32> {
    let policy = queue_attribute(client, url, QueueAttributeName::RedrivePolicy)
        .await?
        .with_context(|| format!("the SQS queue {url} has no RedrivePolicy"))?;
    let policy: serde_json::Value = serde_json::from_str(&policy)?;
    let count = match &policy["maxReceiveCount"] {
        serde_json::Value::String(n) => n.parse().ok(),
        n => n.as_u64().and_then(|n| u32::try_from(n).ok()),
    };
    count.with_context(|| format!("the RedrivePolicy of {url} has no maxReceiveCount"))
}

/// Whole seconds, rounded up so a message is never seen early, at most `max`.
fn seconds_up(duration: Duration, max: u64) -> i32 {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    // `max` is at most 12 hours, well within i32.
    i32::try_from(secs.min(max)).unwrap_or(i32::MAX)
}

#[async_trait]
impl Queue for SqsQueue {
    fn max_delay(&self) -> Duration {
        MAX_DELAY
    }

    fn max_message_bytes(&self) -> usize {
        MAX_MESSAGE_BYTES
    }

    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        if body.len() > MAX_MESSAGE_BYTES {
            return Err(QueueError::TooLarge {
                size: body.len(),
                max: MAX_MESSAGE_BYTES,
            });
        }
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(seconds_up(delay, MAX_DELAY.as_secs()))
            .send()
            .await
            .map_err(|e| self.sdk_error("SendMessage", e))?;
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        // Whole seconds, rounded down: never wait longer than asked.
        let wait_seconds = wait.as_secs().min(MAX_WAIT_SECONDS);
        let mut call = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(i32::try_from(max.min(MAX_BATCH)).unwrap_or(1))
            .wait_time_seconds(i32::try_from(wait_seconds).unwrap_or(0))
            .visibility_timeout(seconds_up(RECEIVE_VISIBILITY, MAX_VISIBILITY_SECONDS))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .customize();
        if let Some(timeouts) = &self.timeouts {
            // A long poll may wait its whole wait time on top of the usual bounds.
            let extended = crate::aws::extended(timeouts, Duration::from_secs(wait_seconds));
            call = call
                .config_override(aws_sdk_sqs::config::Builder::default().timeout_config(extended));
        }
        let out = call
            .send()
            .await
            .map_err(|e| self.sdk_error("ReceiveMessage", e))?;
        out.messages
            .unwrap_or_default()
            .into_iter()
            .map(|message| {
                let receive_count = message
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                let receipt = message.receipt_handle.ok_or_else(|| {
                    QueueError::Unexpected(anyhow!(
                        "SQS ReceiveMessage on {} answered a message without a receipt handle",
                        self.queue_url
                    ))
                })?;
                Ok(Received {
                    receipt,
                    body: message.body.unwrap_or_default(),
                    receive_count,
                })
            })
            .collect()
    }

    async fn send_batch(&self, messages: &[(String, Duration)]) -> Vec<Result<(), QueueError>> {
        self.send_in_batches(messages).await
    }

    async fn delete_batch(&self, receipts: &[String]) -> Vec<Result<(), QueueError>> {
        self.delete_in_batches(receipts).await
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| self.sdk_error("DeleteMessage", e))?;
        Ok(())
    }

    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(seconds_up(delay, MAX_VISIBILITY_SECONDS))
            .send()
            .await
            .map_err(|e| self.sdk_error("ChangeMessageVisibility", e))?;
        Ok(())
    }

    async fn extend_visibility(
        &self,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        self.retry_after(receipt, visibility).await
    }

    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        let dlq = self.dead_letter_queue_url().await?;
        let count = queue_attribute(
            &self.client,
            dlq,
            QueueAttributeName::ApproximateNumberOfMessages,
        )
        .await?
        .with_context(|| format!("SQS answered no ApproximateNumberOfMessages for {dlq}"))?;
        count.parse().map_err(|_| {
            QueueError::Unexpected(anyhow!(
                "SQS answered ApproximateNumberOfMessages `{count}` for {dlq}, not a count"
            ))
        })
    }

    async fn max_receives(&self) -> Option<u32> {
        self.max_receives
            .get_or_try_init(|| max_receive_count(&self.client, &self.queue_url))
            .await
            .ok()
            .copied()
    }

    async fn ping(&self) -> Result<(), QueueError> {
        queue_attribute(&self.client, &self.queue_url, QueueAttributeName::QueueArn).await?;
        Ok(())
    }
}
