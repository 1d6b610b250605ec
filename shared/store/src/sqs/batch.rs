//! `SendMessageBatch` and `DeleteMessageBatch`: up to 10 entries (and, for
//! sends, at most [`MAX_MESSAGE_BYTES`] of bodies) per call, each entry's
//! failure reported on its own.

use std::future::Future;
use std::time::Duration;

use anyhow::anyhow;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry,
};

use super::{seconds_up, SqsQueue, MAX_BATCH, MAX_DELAY, MAX_MESSAGE_BYTES};
use crate::ports::QueueError;

/// Groups of entry positions for one batch call each: at most
/// [`MAX_BATCH`] entries and [`MAX_MESSAGE_BYTES`] of `sizes` per group.
fn chunks(sizes: &[usize]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0;
    for (i, size) in sizes.iter().enumerate() {
        match out.last_mut() {
            Some(group) if group.len() < MAX_BATCH && bytes + size <= MAX_MESSAGE_BYTES => {
                group.push(i);
                bytes += size;
            }
            _ => {
                out.push(vec![i]);
                bytes = *size;
            }
        }
    }
    out
}

/// An entry that could not be built (a missing required field).
fn build_error(what: &str, e: aws_sdk_sqs::error::BuildError) -> QueueError {
    QueueError::Unexpected(anyhow::Error::new(e).context(format!("SQS {what}: a bad entry")))
}

/// The error of a whole batch call, once for each of its entries.
fn copy(e: &QueueError) -> QueueError {
    match e {
        QueueError::TooLarge { size, max } => QueueError::TooLarge {
            size: *size,
            max: *max,
        },
        QueueError::Unavailable(a) => QueueError::Unavailable(anyhow!("{a:#}")),
        QueueError::Unexpected(a) => QueueError::Unexpected(anyhow!("{a:#}")),
    }
}

impl SqsQueue {
    /// The error of one failed batch entry.
    fn entry_error(&self, what: &str, failed: &BatchResultErrorEntry) -> QueueError {
        QueueError::Unexpected(anyhow!(
            "SQS {what} on {}: entry failed with {}: {}",
            self.queue_url,
            failed.code(),
            failed.message().unwrap_or_default()
        ))
    }

    /// One batch call per group of entry positions (`groups`, each of at
    /// most [`MAX_BATCH`]): `build(i)` makes the entry of position `i` (its
    /// batch id is `i`), `call(entries)` sends them and answers the failed
    /// ones. A slot in `slots` still empty gets the error of its entry (not
    /// built, failed, or in a call that failed as a whole); the caller
    /// takes every slot left empty as a success.
    async fn chunked<E, B, C, F>(
        &self,
        what: &str,
        slots: &mut [Option<Result<(), QueueError>>],
        groups: Vec<Vec<usize>>,
        build: B,
        call: C,
    ) where
        B: Fn(usize) -> Result<E, aws_sdk_sqs::error::BuildError>,
        C: Fn(Vec<E>) -> F,
        F: Future<Output = Result<Vec<BatchResultErrorEntry>, QueueError>>,
    {
        for positions in groups {
            let mut entries = Vec::with_capacity(positions.len());
            for i in &positions {
                match build(*i) {
                    Ok(entry) => entries.push(entry),
                    Err(e) => slots[*i] = Some(Err(build_error(what, e))),
                }
            }
            match call(entries).await {
                Ok(failed) => {
                    for failed in &failed {
                        if let Some(slot) = failed
                            .id()
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| slots.get_mut(i))
                        {
                            *slot = Some(Err(self.entry_error(what, failed)));
                        }
                    }
                }
                Err(e) => {
                    for i in &positions {
                        slots[*i].get_or_insert_with(|| Err(copy(&e)));
                    }
                }
            }
        }
    }

    /// Every message as `send` takes it, in calls of up to 10.
    pub(super) async fn send_in_batches(
        &self,
        messages: &[(String, Duration)],
    ) -> Vec<Result<(), QueueError>> {
        let mut results: Vec<Option<Result<(), QueueError>>> =
            messages.iter().map(|_| None).collect();
        let mut fitting = Vec::new();
        for (i, (body, _)) in messages.iter().enumerate() {
            if body.len() > MAX_MESSAGE_BYTES {
                results[i] = Some(Err(QueueError::TooLarge {
                    size: body.len(),
                    max: MAX_MESSAGE_BYTES,
                }));
            } else {
                fitting.push(i);
            }
        }
        let sizes: Vec<usize> = fitting.iter().map(|i| messages[*i].0.len()).collect();
        let groups = chunks(&sizes)
            .into_iter()
            .map(|group| group.iter().map(|g| fitting[*g]).collect())
            .collect();
        let build = |i: usize| {
            let (body, delay) = &messages[i];
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(body)
                .delay_seconds(seconds_up(*delay, MAX_DELAY.as_secs()))
                .build()
        };
        let call = |entries| async move {
            self.client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map(|out| out.failed().to_vec())
                .map_err(|e| {
                    QueueError::Unexpected(
                        anyhow::Error::new(e)
                            .context(format!("SQS SendMessageBatch on {}", self.queue_url)),
                    )
                })
        };
        self.chunked("SendMessageBatch", &mut results, groups, build, call)
            .await;
        results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect()
    }

    /// Every receipt as `delete` takes it, in calls of up to 10.
    pub(super) async fn delete_in_batches(
        &self,
        receipts: &[String],
    ) -> Vec<Result<(), QueueError>> {
        let mut results: Vec<Option<Result<(), QueueError>>> =
            receipts.iter().map(|_| None).collect();
        let positions: Vec<usize> = (0..receipts.len()).collect();
        let groups = positions.chunks(MAX_BATCH).map(<[usize]>::to_vec).collect();
        let build = |i: usize| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(&receipts[i])
                .build()
        };
        let call = |entries| async move {
            self.client
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map(|out| out.failed().to_vec())
                .map_err(|e| self.sdk_error("DeleteMessageBatch", e))
        };
        self.chunked("DeleteMessageBatch", &mut results, groups, build, call)
            .await;
        results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_ten_entries_and_a_megabyte_of_bodies() {
        assert_eq!(
            chunks(&[1; 23]).iter().map(Vec::len).collect::<Vec<_>>(),
            vec![10, 10, 3]
        );
        let half = MAX_MESSAGE_BYTES / 2;
        assert_eq!(chunks(&[half, half, 1, half]), vec![vec![0, 1], vec![2, 3]]);
        assert!(chunks(&[]).is_empty());
    }
}
