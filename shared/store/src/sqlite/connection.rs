//! The ways the adapter reaches the file: `write` through the group commit
//! (`group_commit.rs`: one writer thread, many writes per transaction and
//! fsync) and `read` on a small pool of read-only connections, which WAL
//! lets run beside the writer, so reads never wait behind writes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use rusqlite::{Connection, ErrorCode};
use tokio::sync::Semaphore;

use super::group_commit::{GroupCommit, RolledBack};
use super::schema;
use crate::ports::{QueueError, StoreError};

/// How many reads run at once (each on its own connection).
const READERS: usize = 4;

/// Why a read or write failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum DbError {
    /// The file cannot take the call now (full disk, I/O error, locked past
    /// the busy timeout); trying again later may work.
    #[error(transparent)]
    Unavailable(anyhow::Error),
    /// Anything else (a bug, a record that does not parse).
    #[error(transparent)]
    Failed(anyhow::Error),
}

impl DbError {
    fn classify(e: anyhow::Error) -> Self {
        let unavailable = e.chain().any(|cause| {
            cause.is::<RolledBack>()
                || cause
                    .downcast_ref::<rusqlite::Error>()
                    .and_then(rusqlite::Error::sqlite_error_code)
                    .is_some_and(|code| {
                        matches!(
                            code,
                            ErrorCode::DiskFull
                                | ErrorCode::SystemIoFailure
                                | ErrorCode::DatabaseBusy
                                | ErrorCode::DatabaseLocked
                                | ErrorCode::CannotOpen
                                | ErrorCode::OutOfMemory
                        )
                    })
        });
        if unavailable {
            Self::Unavailable(e)
        } else {
            Self::Failed(e)
        }
    }
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(e) => StoreError::Unavailable(e),
            DbError::Failed(e) => StoreError::Unexpected(e),
        }
    }
}

impl From<DbError> for QueueError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(e) => QueueError::Unavailable(e),
            DbError::Failed(e) => QueueError::Unexpected(e),
        }
    }
}

/// The database: one writer (group commit) and a pool of readers.
/// Cheap to clone; clones share both.
#[derive(Clone)]
pub(super) struct Db {
    writer: GroupCommit,
    readers: Arc<Readers>,
}

struct Readers {
    path: PathBuf,
    /// Connections not in use; at most [`READERS`] exist.
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Db {
    /// Opens the database at `path` (see [`schema::open`]), runs `prepare`
    /// on the write connection before anything else may write, and starts
    /// the writer thread.
    pub(super) fn open(
        path: &Path,
        prepare: impl FnOnce(&Connection) -> anyhow::Result<()>,
    ) -> anyhow::Result<Self> {
        let conn = schema::open(path)?;
        // Every statement of the writer's hot paths stays prepared.
        conn.set_prepared_statement_cache_capacity(64);
        prepare(&conn)?;
        Ok(Self {
            writer: GroupCommit::start(conn)?,
            readers: Arc::new(Readers {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(READERS),
            }),
        })
    }

    /// Runs `f` on a read-only connection; it sees every write that has
    /// been answered `Ok`. Does not wait for writes in progress.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    {
        let _permit = self
            .readers
            .permits
            .acquire()
            .await
            .map_err(|e| DbError::Failed(e.into()))?;
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let idle = readers.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match idle {
                Some(conn) => conn,
                None => schema::open_reader(&readers.path)?,
            };
            let out = f(&conn);
            readers
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
            out
        })
        .await
        .context("a SQLite read stopped")
        .and_then(|out| out)
        .map_err(DbError::classify)
    }

    /// How many groups of writes have been committed since the file was
    /// opened (each is one transaction and one fsync).
    pub(super) fn commits(&self) -> u64 {
        self.writer.commits()
    }

    /// Runs `f` as one write of the group commit (see
    /// [`GroupCommit::write`]): `Ok` once it is on disk; when `f` fails,
    /// nothing it wrote is kept.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    {
        self.writer.write(f).await.map_err(DbError::classify)
    }
}
