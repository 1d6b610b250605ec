//! The handle on one SQLite file that every part of the adapter works
//! through (`Sqlite`: the connections, the queue's settings, the wake-up of
//! waiting receivers), and those settings. Constructors and the `Store`
//! methods are in `mod.rs`, the `Queue` methods in `queue.rs`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::connection::Db;

/// One SQLite file serving as both `Store` and `Queue`.
///
/// Cheap to clone: clones share the writer thread and the read pool.
/// Writes are answered once they are on disk; every method answers
/// `Unavailable` when the file cannot take the call now (a full disk, an
/// I/O error) and `Unexpected` when SQLite fails otherwise or a stored
/// record does not parse.
#[derive(Clone)]
pub struct Sqlite {
    pub(super) db: Db,
    pub(super) queue: SqliteQueueSettings,
    /// Wakes receivers waiting for a message.
    pub(super) sent: Arc<Notify>,
}

/// How the embedded queue behaves; the default is 5 receives, 360 s
/// visibility and 1 MiB bodies, as the SAM template's SQS queue.
#[derive(Debug, Clone, Copy)]
pub struct SqliteQueueSettings {
    /// Receives after which a message goes to the dead-letter table.
    pub max_receives: u32,
    /// How long a received message stays invisible.
    pub visibility: Duration,
    /// The largest message body, in bytes.
    pub max_message_bytes: usize,
}

impl Default for SqliteQueueSettings {
    fn default() -> Self {
        Self {
            max_receives: 5,
            visibility: Duration::from_secs(360),
            max_message_bytes: 1024 * 1024,
        }
    }
}
