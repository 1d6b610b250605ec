//! The embedded backend for in-process tests: a SQLite store and queue in
//! a fresh temporary directory, and the [`Services`] over them, built the
//! way `hooklane dev` builds them.

use std::sync::Arc;

use hooklane_runtime::config::Settings;
use hooklane_runtime::Services;
use hooklane_store::sqlite::{Sqlite, SqliteQueueSettings};
use hooklane_store::{Queue, Store};

/// A fresh SQLite store and queue (one file, `hooklane.db`) and the
/// services over them. The directory is removed when this is dropped.
pub struct Embedded {
    /// The temporary directory holding the database file.
    pub dir: tempfile::TempDir,
    /// The store and queue (one SQLite file serves both).
    pub db: Sqlite,
    /// The services over `db` as store and queue, with `settings`.
    pub svc: Services,
}

impl Embedded {
    /// The backend with `settings` and the queue's default settings.
    ///
    /// # Panics
    /// When the database or the services cannot be made.
    pub fn start(settings: Settings) -> Self {
        Self::with_queue(settings, SqliteQueueSettings::default())
    }

    /// The backend with `settings` and the queue's own `queue` settings
    /// (such as its `max_receives`).
    ///
    /// # Panics
    /// When the database or the services cannot be made.
    pub fn with_queue(settings: Settings, queue: SqliteQueueSettings) -> Self {
        let (dir, db) = sqlite_with(queue);
        let svc = services(Arc::new(db.clone()), Arc::new(db.clone()), settings);
        Self { dir, db, svc }
    }
}

/// A fresh SQLite store and queue in its own temporary directory (the
/// directory is removed when the returned `TempDir` is dropped).
///
/// # Panics
/// When the directory or the database cannot be made.
pub fn sqlite() -> (tempfile::TempDir, Sqlite) {
    sqlite_with(SqliteQueueSettings::default())
}

/// [`sqlite`] with the queue's own settings.
///
/// # Panics
/// When the directory or the database cannot be made.
pub fn sqlite_with(queue: SqliteQueueSettings) -> (tempfile::TempDir, Sqlite) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = Sqlite::open(&dir.path().join("hooklane.db"), queue).expect("the SQLite store opens");
    (dir, db)
}

/// The services over `store` and `queue` with `settings` (any backend,
/// wrappers included).
///
/// # Panics
/// When the outbound client cannot be built.
pub fn services(store: Arc<dyn Store>, queue: Arc<dyn Queue>, settings: Settings) -> Services {
    Services::new(store, queue, settings).expect("services build")
}
