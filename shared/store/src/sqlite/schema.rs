//! The SQLite file's tables, and how times are stored in them.
//!
//! `records` holds every Store record under the key scheme of `keys.rs`
//! (`pk`, `sk`) with its JSON in `data`; `version` is a variable's version or
//! a counter's count (for an outbound target, the count of its latest
//! window); `expires_at` (Unix milliseconds, NULL = never) hides a record
//! from reads once past and lets `purge_expired` drop it. An
//! idempotency claim keeps the claimed value in `data` (not JSON).
//! `queue` holds the queued messages (`visible_at` in Unix milliseconds;
//! `receipt` set while a message is received) and `dead_letters` the ones
//! received too often.
//!
//! Every statement is `IF NOT EXISTS`: opening an existing file keeps its
//! data, so the schema can only grow by adding tables or indexes here.

use std::path::Path;

use anyhow::Context as _;
use rusqlite::{Connection, OpenFlags};
use time::OffsetDateTime;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS records (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    data TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS queue_visible ON queue (visible_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    receive_count INTEGER NOT NULL,
    died_at INTEGER NOT NULL
);
";

/// How long a connection waits for a lock held by another, in milliseconds.
const BUSY_TIMEOUT_MS: u32 = 5000;

/// Opens (creating it and its directory when absent) the database at
/// `path` for writing, in WAL mode with `synchronous=FULL` and a 5 s busy
/// timeout, and creates any missing table. The file is made `0600` (owner
/// only; SQLite gives its `-wal` and `-shm` files the same mode), whatever
/// the umask: it holds signing secrets and tokens. Errors name the path or
/// step that failed.
pub(super) fn open(path: &Path) -> anyhow::Result<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    make_private(path).with_context(|| format!("making {} private", path.display()))?;
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "busy_timeout", BUSY_TIMEOUT_MS)?;
    conn.set_prepared_statement_cache_capacity(64);
    conn.execute_batch(SCHEMA).context("creating the schema")?;
    Ok(conn)
}

/// Opens a read-only connection to the database at `path`, which
/// [`open`] has created.
pub(super) fn open_reader(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {} to read", path.display()))?;
    conn.pragma_update(None, "busy_timeout", BUSY_TIMEOUT_MS)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Creates `path` with mode `0600` when absent, and takes the group and
/// others' permissions off it when present.
#[cfg(unix)]
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    let mode = file.metadata()?.permissions().mode();
    if mode & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// `t` as stored: Unix milliseconds.
pub(super) fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The current time as stored: Unix milliseconds.
pub(super) fn now_ms() -> i64 {
    unix_ms(OffsetDateTime::now_utc())
}
