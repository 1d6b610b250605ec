//! The one SQLite connection, and the two ways to use it: `read` and
//! `write`. Every Store and Queue write goes through `write`, one
//! transaction per call, so a write batcher (group commit) can sit here
//! without the Store methods changing.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use rusqlite::{Connection, Transaction};

use super::schema;

/// The shared connection; calls run one at a time on a blocking thread.
#[derive(Clone)]
pub(super) struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens the database at `path` (see [`schema::open`]).
    pub(super) fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            conn: Arc::new(Mutex::new(schema::open(path)?)),
        })
    }

    /// Runs `f` on the connection, outside any transaction of ours.
    pub(super) async fn read<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    {
        self.with_connection(move |c| f(c)).await
    }

    /// Runs `f` in a transaction and commits it before returning; when `f`
    /// fails nothing it wrote is kept. With `synchronous=FULL` a write that
    /// returned `Ok` is on disk.
    pub(super) async fn write<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> anyhow::Result<T> + Send + 'static,
    {
        self.with_connection(move |c| {
            let tx = c.transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn with_connection<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> anyhow::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut guard)
        })
        .await
        .context("the SQLite worker stopped")?
    }
}
