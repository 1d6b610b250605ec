//! The `Queue` on SQLite: the `queue` and `dead_letters` tables of the same
//! file as the records. A message is durable once `send` returns.

use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection};

use super::handle::Sqlite;
use super::schema::now_ms;
use crate::ports::{Queue, QueueError, Received};

#[async_trait]
impl Queue for Sqlite {
    fn max_delay(&self) -> Duration {
        Duration::from_secs(900)
    }

    fn max_message_bytes(&self) -> usize {
        self.queue.max_message_bytes
    }

    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        if body.len() > self.queue.max_message_bytes {
            return Err(QueueError::TooLarge {
                size: body.len(),
                max: self.queue.max_message_bytes,
            });
        }
        let visible_at = now_ms() + delay.min(self.max_delay()).as_millis() as i64;
        let body = body.to_owned();
        self.db
            .write(move |c| {
                c.prepare_cached("INSERT INTO queue (body, visible_at) VALUES (?1, ?2)")?
                    .execute(params![body, visible_at])?;
                Ok(())
            })
            .await?;
        self.sent.notify_waiters();
        Ok(())
    }

    /// Every message that fits goes in one write (one transaction of the
    /// group commit, one fsync): all of them are queued or none is.
    async fn send_batch(&self, messages: &[(String, Duration)]) -> Vec<Result<(), QueueError>> {
        let max = self.queue.max_message_bytes;
        let now = now_ms();
        let mut results = Vec::with_capacity(messages.len());
        let mut rows = Vec::with_capacity(messages.len());
        for (body, delay) in messages {
            if body.len() > max {
                results.push(Err(QueueError::TooLarge {
                    size: body.len(),
                    max,
                }));
            } else {
                let visible_at = now + (*delay).min(self.max_delay()).as_millis() as i64;
                rows.push((body.clone(), visible_at));
                results.push(Ok(()));
            }
        }
        if rows.is_empty() {
            return results;
        }
        let written = self
            .db
            .write(move |c| {
                let mut insert =
                    c.prepare_cached("INSERT INTO queue (body, visible_at) VALUES (?1, ?2)")?;
                for (body, visible_at) in &rows {
                    insert.execute(params![body, visible_at])?;
                }
                Ok(())
            })
            .await;
        match written {
            Ok(()) => {
                self.sent.notify_waiters();
                results
            }
            Err(e) => {
                let e = QueueError::from(e);
                results
                    .into_iter()
                    .map(|r| r.and_then(|()| Err(same(&e))))
                    .collect()
            }
        }
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.sent.notified();
            let got = self.receive_now(max).await?;
            let now = tokio::time::Instant::now();
            if !got.is_empty() || now >= deadline {
                return Ok(got);
            }
            let nap = (deadline - now).min(Duration::from_millis(100));
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let receipt = receipt.to_owned();
        self.db
            .write(move |c| {
                c.prepare_cached(DELETE_BY_RECEIPT)?
                    .execute(params![id_of(&receipt), receipt])?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// One write for the whole batch (one transaction of the group commit,
    /// one fsync), so the poller's deletes keep up with its work: all are
    /// deleted or none is (a finished message not yet deleted runs again
    /// after a crash).
    async fn delete_batch(&self, receipts: &[String]) -> Vec<Result<(), QueueError>> {
        if receipts.is_empty() {
            return Vec::new();
        }
        let owned = receipts.to_vec();
        let deleted = self
            .db
            .write(move |c| {
                let mut delete = c.prepare_cached(DELETE_BY_RECEIPT)?;
                for receipt in &owned {
                    delete.execute(params![id_of(receipt), receipt])?;
                }
                Ok(())
            })
            .await;
        match deleted {
            Ok(()) => receipts.iter().map(|_| Ok(())).collect(),
            Err(e) => {
                let e = QueueError::from(e);
                receipts.iter().map(|_| Err(same(&e))).collect()
            }
        }
    }

    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let receipt = receipt.to_owned();
        let visible_at = now_ms() + delay.as_millis() as i64;
        self.db
            .write(move |c| {
                c.execute(
                    "UPDATE queue SET visible_at = ?2, receipt = NULL WHERE id = ?3 AND receipt = ?1",
                    params![receipt, visible_at, id_of(&receipt)],
                )?;
                Ok(())
            })
            .await?;
        self.sent.notify_waiters();
        Ok(())
    }

    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        Ok(self
            .db
            .read(|c| {
                Ok(c.query_row("SELECT COUNT(*) FROM dead_letters", [], |r| {
                    r.get::<_, i64>(0)
                })? as usize)
            })
            .await?)
    }

    async fn max_receives(&self) -> Option<u32> {
        Some(self.queue.max_receives)
    }

    async fn ping(&self) -> Result<(), QueueError> {
        self.db
            .read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await?;
        Ok(())
    }
}

/// Deletes the message a receipt names, looked up by the id the receipt
/// starts with (the primary key: no scan of the queue), and only while the
/// receipt is still its latest.
const DELETE_BY_RECEIPT: &str = "DELETE FROM queue WHERE id = ?1 AND receipt = ?2";

/// The message id a receipt (`{id}:{ulid}`, see `receive_now`) starts
/// with; -1 (no message) for a receipt of another shape.
fn id_of(receipt: &str) -> i64 {
    receipt
        .split_once(':')
        .and_then(|(id, _)| id.parse().ok())
        .unwrap_or(-1)
}

/// The same failure again, for each message of a batch that failed as one.
fn same(e: &QueueError) -> QueueError {
    match e {
        QueueError::TooLarge { size, max } => QueueError::TooLarge {
            size: *size,
            max: *max,
        },
        QueueError::Unavailable(e) => QueueError::Unavailable(anyhow::anyhow!("{e:#}")),
        QueueError::Unexpected(e) => QueueError::Unexpected(anyhow::anyhow!("{e:#}")),
    }
}

/// Makes every received, undeleted message visible now, keeping its
/// receive count; returns how many. Run when the file is opened: the
/// process that received them is gone (the data dir is held by one process
/// at a time), so waiting out their visibility timeout would only delay
/// them. Messages delayed by `send` or `retry_after` hold no receipt and
/// keep their time.
pub(super) fn release_receipts(conn: &Connection) -> anyhow::Result<()> {
    let released = conn.execute(
        "UPDATE queue SET visible_at = ?1, receipt = NULL WHERE receipt IS NOT NULL",
        params![now_ms()],
    )?;
    if released > 0 {
        tracing::info!(
            released,
            "messages the previous process had received and not finished are visible again"
        );
    }
    Ok(())
}

impl Sqlite {
    async fn receive_now(&self, max: usize) -> Result<Vec<Received>, QueueError> {
        let settings = self.queue;
        Ok(self
            .db
            .write(move |tx| {
                let now = now_ms();
                let due: Vec<(i64, String, u32)> = {
                    let mut stmt = tx.prepare_cached(
                        "SELECT id, body, receive_count FROM queue WHERE visible_at <= ?1
                         ORDER BY visible_at, id LIMIT ?2",
                    )?;
                    let rows = stmt
                        .query_map(params![now, max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                        .collect::<Result<Vec<_>, _>>()?;
                    rows
                };
                let mut out = Vec::new();
                for (id, body, count) in due {
                    if count >= settings.max_receives {
                        tx.execute(
                            "INSERT INTO dead_letters (id, body, receive_count, died_at) VALUES (?1, ?2, ?3, ?4)",
                            params![id, body, count, now],
                        )?;
                        tx.execute("DELETE FROM queue WHERE id = ?1", params![id])?;
                        tracing::warn!(
                            queue_message_id = id,
                            receive_count = count,
                            "a message received the most times allowed and not finished went to the dead-letter table"
                        );
                        continue;
                    }
                    let receipt = format!("{id}:{}", ulid::Ulid::new());
                    tx.execute(
                        "UPDATE queue SET receive_count = receive_count + 1, visible_at = ?2, receipt = ?3 WHERE id = ?1",
                        params![id, now + settings.visibility.as_millis() as i64, receipt],
                    )?;
                    out.push(Received {
                        receipt,
                        body,
                        receive_count: count + 1,
                    });
                }
                Ok(out)
            })
            .await?)
    }
}
