//! The conformance suite against the embedded adapter: a real SQLite file.

use std::sync::Arc;
use std::time::Duration;

use hooklane_store::conformance::{self, QueueTraits};
use hooklane_store::sqlite::{Sqlite, SqliteQueueSettings};
use hooklane_store::{Queue, Store};

fn open(dir: &tempfile::TempDir) -> Sqlite {
    Sqlite::open(
        &dir.path().join("hooklane.db"),
        SqliteQueueSettings {
            max_receives: 3,
            visibility: Duration::from_secs(30),
            ..Default::default()
        },
    )
    .expect("open sqlite")
}

#[tokio::test]
async fn sqlite_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    conformance::store_suite(&db).await;
    conformance::store_concurrency_suite(Arc::new(db) as Arc<dyn Store>).await;
}

#[tokio::test]
async fn sqlite_queue_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    conformance::queue_suite(&db, QueueTraits { max_receives: 3 }).await;
}

#[tokio::test]
async fn sqlite_data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(&dir);
        db.send("kept", Duration::ZERO).await.unwrap();
    }
    let db = open(&dir);
    let got = db.receive(10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "kept");
}
