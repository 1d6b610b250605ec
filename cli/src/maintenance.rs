//! `hooklane backfill-bot-list`: one-off repairs of a deployed stack's
//! table, made with the caller's AWS credentials (not through the admin
//! API).

use anyhow::Context as _;
use hooklane_store::dynamodb::DynamoStore;

/// Lists the bots that the table `table` holds without a bot list entry
/// (created before `GET /v1/bots` existed), and prints how many.
///
/// Errors: no AWS settings, or the table cannot be read or written.
pub async fn backfill_bot_list(table: &str) -> anyhow::Result<()> {
    let aws = hooklane_store::aws_config().await?;
    let store = DynamoStore::new(&aws, table);
    let written = crate::output::with_progress(
        "scanning the table for bots missing from the bot list",
        store.backfill_bot_list(),
    )
    .await
    .with_context(|| format!("backfilling the bot list of the table {table}"))?;
    println!("{written} bot(s) added to the bot list of {table}");
    Ok(())
}
