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

#[tokio::test]
async fn reopening_the_file_makes_the_previous_process_received_messages_visible_at_once() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(&dir);
        db.send("in flight 1", Duration::ZERO).await.unwrap();
        db.send("in flight 2", Duration::ZERO).await.unwrap();
        db.send("delayed", Duration::from_secs(600)).await.unwrap();
        db.send("retried later", Duration::ZERO).await.unwrap();
        let got = db.receive(10, Duration::from_secs(1)).await.unwrap();
        assert_eq!(got.len(), 3, "{got:?}");
        let retried = got.iter().find(|m| m.body == "retried later").unwrap();
        db.retry_after(&retried.receipt, Duration::from_secs(600))
            .await
            .unwrap();
        // The process dies here: the two other messages keep their receipts
        // and 30 s of visibility.
    }
    let db = open(&dir);
    let started = std::time::Instant::now();
    let got = db.receive(10, Duration::ZERO).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    let mut bodies: Vec<_> = got.iter().map(|m| m.body.as_str()).collect();
    bodies.sort();
    assert_eq!(
        bodies,
        ["in flight 1", "in flight 2"],
        "delayed messages keep their time"
    );
    assert!(
        got.iter().all(|m| m.receive_count == 2),
        "the receive count is kept: {got:?}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_wal_are_created_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    db.send("a secret", Duration::ZERO).await.unwrap();
    for name in ["hooklane.db", "hooklane.db-wal", "hooklane.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
    }

    // A file another program created readable is made private on open.
    let other = tempfile::tempdir().unwrap();
    let path = other.path().join("hooklane.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    Sqlite::open(&path, SqliteQueueSettings::default()).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_sends_share_commits_and_every_one_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    let before = db.commits();
    let sends: Vec<_> = (0..500)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.send(&format!("m{i}"), Duration::ZERO).await.unwrap();
            })
        })
        .collect();
    for s in sends {
        s.await.unwrap();
    }
    let commits = db.commits() - before;
    assert!(commits < 500, "500 sends took {commits} commits");
    let mut seen = 0;
    loop {
        let got = db.receive(100, Duration::ZERO).await.unwrap();
        if got.is_empty() {
            break;
        }
        seen += got.len();
    }
    assert_eq!(seen, 500);
}

#[tokio::test]
async fn a_batch_of_sends_or_deletes_is_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    let batch: Vec<_> = (0..50).map(|i| (format!("m{i}"), Duration::ZERO)).collect();
    let before = db.commits();
    let sent = db.send_batch(&batch).await;
    assert!(sent.iter().all(Result::is_ok), "{sent:?}");
    assert_eq!(db.commits() - before, 1, "50 sends in one batch");

    let got = db.receive(100, Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 50);
    let receipts: Vec<_> = got.into_iter().map(|m| m.receipt).collect();
    let before = db.commits();
    let deleted = db.delete_batch(&receipts).await;
    assert!(deleted.iter().all(Result::is_ok), "{deleted:?}");
    assert_eq!(db.commits() - before, 1, "50 deletes in one batch");
    assert!(db.receive(100, Duration::ZERO).await.unwrap().is_empty());
}
