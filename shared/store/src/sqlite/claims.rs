//! Idempotency claims on the embedded adapter: a claim is a record in the
//! bot's partition (`keys::claim_sk`: `IDEM#call:{hook}:{key}` or
//! `IDEM#publish:{key}`) whose `data` is the claimed value and whose
//! `expires_at` ends it. Claiming reads and writes in one write
//! transaction, so of concurrent claims exactly one wins.

use hooklane_domain::{BotId, IdempotencyKey};
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use super::handle::Sqlite;
use super::schema::unix_ms;
use crate::keys;
use crate::ports::{ClaimScope, StoreError};

impl Sqlite {
    /// [`Store::claim_idempotency_key`](crate::Store::claim_idempotency_key):
    /// `None` when the claim is new or took over an expired one, else the
    /// value of the unexpired claim.
    pub(super) async fn claim(
        &self,
        bot: &BotId,
        scope: ClaimScope<'_>,
        key: &IdempotencyKey,
        value: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        let pk = keys::bot_pk(bot);
        let sk = keys::claim_sk(&scope, key);
        let value = value.to_owned();
        let (now, expires) = (unix_ms(now), unix_ms(expires_at));
        Ok(self
            .db
            .write(move |tx| {
                let existing: Option<(String, Option<i64>)> = tx
                    .query_row(
                        "SELECT data, expires_at FROM records WHERE pk = ?1 AND sk = ?2",
                        params![pk, sk],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let answer = match existing {
                    Some((held, exp)) if exp.is_none_or(|e| e > now) => Some(held),
                    _ => {
                        tx.execute(
                            "INSERT INTO records (pk, sk, data, expires_at) VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT (pk, sk) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
                            params![pk, sk, value, expires],
                        )?;
                        None
                    }
                };
                Ok(answer)
            })
            .await?)
    }

    /// [`Store::release_idempotency_key`](crate::Store::release_idempotency_key):
    /// deletes the claim; no error when there is none.
    pub(super) async fn release_claim(
        &self,
        bot: &BotId,
        scope: ClaimScope<'_>,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        let pk = keys::bot_pk(bot);
        let sk = keys::claim_sk(&scope, key);
        self.db
            .write(move |c| {
                c.execute(
                    "DELETE FROM records WHERE pk = ?1 AND sk = ?2",
                    params![pk, sk],
                )?;
                Ok(())
            })
            .await?;
        Ok(())
    }
}
