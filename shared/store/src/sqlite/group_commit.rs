//! Group commit: every write of the embedded backend (Store records, queue
//! sends, receives, deletes) runs on one writer thread that owns the write
//! connection. The thread takes every write waiting in its channel, runs
//! each in its own `SAVEPOINT` inside one transaction, commits once (one
//! fsync under `synchronous=FULL`), and only then answers each caller.
//!
//! So a caller's `Ok` still means "on disk" (it survives `kill -9` and a
//! power cut), while many callers share one fsync. A write whose closure
//! fails (or panics) is rolled back to its savepoint alone and answered
//! with its error; the others of its group are kept. A failed `BEGIN` or
//! `COMMIT`, or an error after which SQLite has rolled back the whole
//! transaction (a full disk, an I/O error), fails every write of the group
//! that had run; writes not yet run go into the next group.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use anyhow::{anyhow, Context as _};
use rusqlite::Connection;
use tokio::sync::oneshot;

/// The most writes one transaction carries; the rest wait for the next.
const MAX_GROUP: usize = 1024;

/// Answers a caller once its group's outcome is known: `Ok` when the
/// group committed, the commit's error otherwise.
type Reply = Box<dyn FnOnce(Result<(), &anyhow::Error>) + Send>;

/// One write waiting for its group.
trait Job: Send {
    /// Runs the write's statements in the open savepoint; returns how to
    /// answer its caller once the group is committed (or not).
    fn run(self: Box<Self>, conn: &Connection) -> Reply;
    /// Answers the caller with `e` without running the write.
    fn fail(self: Box<Self>, e: &anyhow::Error);
}

/// A caller's closure and where its answer goes.
struct Pending<T, F> {
    f: F,
    done: oneshot::Sender<anyhow::Result<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> Reply {
        let done = self.done;
        match in_savepoint(conn, self.f) {
            Ok(value) => Box::new(move |committed: Result<(), &anyhow::Error>| {
                let _ = done.send(committed.map(|()| value).map_err(share));
            }),
            Err(e) => Box::new(move |_| {
                let _ = done.send(Err(e));
            }),
        }
    }

    fn fail(self: Box<Self>, e: &anyhow::Error) {
        let _ = self.done.send(Err(share(e)));
    }
}

/// The sending side of the writer thread; the thread ends (closing its
/// connection) when every clone is dropped.
#[derive(Clone)]
pub(super) struct GroupCommit {
    jobs: mpsc::Sender<Box<dyn Job>>,
    /// How many groups have been committed.
    commits: Arc<AtomicU64>,
}

impl GroupCommit {
    /// Starts the writer thread on `conn`, which must be in autocommit mode.
    pub(super) fn start(conn: Connection) -> anyhow::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        let commits = Arc::new(AtomicU64::new(0));
        let counted = commits.clone();
        std::thread::Builder::new()
            .name("hooklane-sqlite-writer".into())
            .spawn(move || writer(conn, queue, &counted))
            .context("starting the SQLite writer thread")?;
        Ok(Self { jobs, commits })
    }

    /// How many groups have been committed so far.
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs `f` in a savepoint of the next group and answers once that
    /// group is committed: `Ok` is durable. When `f` fails (or panics),
    /// nothing it wrote is kept and its error is returned; when the group
    /// cannot commit, that error is returned and nothing is kept.
    pub(super) async fn write<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(Pending { f, done }))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// SQLite rolled a group's transaction back under it (it does so on a full
/// disk or an I/O error): none of the group's writes were kept.
#[derive(Debug, thiserror::Error)]
#[error("SQLite rolled back the write transaction (the disk may be full or failing)")]
pub(super) struct RolledBack;

fn stopped() -> anyhow::Error {
    anyhow!("the SQLite writer thread stopped")
}

/// The writer thread: waits for a write, gathers every other one waiting,
/// runs them as one group; until the channel closes.
fn writer(conn: Connection, queue: mpsc::Receiver<Box<dyn Job>>, commits: &AtomicU64) {
    let mut waiting: VecDeque<Box<dyn Job>> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match queue.recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => return,
            }
        }
        while waiting.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => break,
            }
        }
        run_group(&conn, &mut waiting, commits);
    }
}

/// Runs writes from the front of `waiting` in one transaction and commits
/// it, answering each. Writes left in `waiting` (after SQLite rolled the
/// transaction back under them) run in the next group. Counts a commit in
/// `commits` before answering.
fn run_group(conn: &Connection, waiting: &mut VecDeque<Box<dyn Job>>, commits: &AtomicU64) {
    if let Err(e) = conn
        .prepare_cached("BEGIN IMMEDIATE")
        .and_then(|mut s| s.execute([]))
    {
        let e = anyhow::Error::new(e).context("starting a write transaction");
        for job in waiting.drain(..) {
            job.fail(&e);
        }
        return;
    }
    let mut replies: Vec<Reply> = Vec::with_capacity(waiting.len().min(MAX_GROUP));
    let mut aborted = None;
    while replies.len() < MAX_GROUP {
        let Some(job) = waiting.pop_front() else {
            break;
        };
        replies.push(job.run(conn));
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (SQLITE_FULL,
            // SQLITE_IOERR…): nothing of this group is kept.
            aborted = Some(anyhow::Error::new(RolledBack));
            break;
        }
    }
    let outcome = match aborted {
        Some(e) => Err(e),
        None => conn
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
            .map(drop)
            .context("committing a group of writes"),
    };
    if outcome.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    if outcome.is_ok() {
        commits.fetch_add(1, Ordering::Relaxed);
    }
    for reply in replies {
        reply(outcome.as_ref().map(|_| ()));
    }
}

/// Runs `f` inside a savepoint: released when `f` succeeds, rolled back
/// (alone) when it fails or panics.
fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    // Prepared once per connection (cached): these run around every write.
    conn.prepare_cached("SAVEPOINT write")
        .and_then(|mut s| s.execute([]))
        .context("opening a savepoint")?;
    let out = match catch_unwind(AssertUnwindSafe(|| f(conn))) {
        Ok(out) => out,
        Err(_) => Err(anyhow!("a write panicked; it was rolled back")),
    };
    match out {
        Ok(value) => {
            conn.prepare_cached("RELEASE write")
                .and_then(|mut s| s.execute([]))
                .context("releasing a savepoint")?;
            Ok(value)
        }
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK TO write; RELEASE write");
            }
            Err(e)
        }
    }
}

/// A copy of a group's error for each of its callers: SQLite's own error
/// (so a full disk stays recognisable) with the same message.
fn share(e: &anyhow::Error) -> anyhow::Error {
    let root = e
        .chain()
        .find_map(|c| c.downcast_ref::<rusqlite::Error>())
        .and_then(|r| match r {
            rusqlite::Error::SqliteFailure(code, msg) => {
                Some(rusqlite::Error::SqliteFailure(*code, msg.clone()))
            }
            _ => None,
        });
    match root {
        Some(root) => anyhow::Error::new(root).context(format!("{e:#}")),
        None if e.downcast_ref::<RolledBack>().is_some() => anyhow::Error::new(RolledBack),
        None => anyhow!("{e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rusqlite::params;

    use super::*;

    fn writer_on(dir: &tempfile::TempDir) -> (GroupCommit, Connection) {
        let path = dir.path().join("t.db");
        let conn = super::super::schema::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (v INTEGER NOT NULL);
             CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
             PRAGMA foreign_keys = ON;",
        )
        .unwrap();
        let reader = super::super::schema::open_reader(&path).unwrap();
        (GroupCommit::start(conn).unwrap(), reader)
    }

    fn values(reader: &Connection) -> Vec<i64> {
        let mut stmt = reader.prepare("SELECT v FROM t ORDER BY v").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    /// Holds the writer thread inside a write until `release` is sent, so
    /// the writes sent meanwhile wait together for the next group.
    fn hold(gc: &GroupCommit) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let gc = gc.clone();
        let task = tokio::spawn(async move {
            gc.write(move |_| {
                held.recv().unwrap();
                Ok(())
            })
            .await
            .unwrap();
        });
        (release, task)
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    fn insert(gc: &GroupCommit, v: i64) -> tokio::task::JoinHandle<anyhow::Result<()>> {
        let gc = gc.clone();
        tokio::spawn(async move {
            gc.write(move |c| {
                c.execute("INSERT INTO t (v) VALUES (?1)", params![v])?;
                Ok(())
            })
            .await
        })
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn writes_that_wait_together_share_one_commit_and_each_is_answered_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let (gc, reader) = writer_on(&dir);
        let (release, held) = hold(&gc);
        settle().await;
        let writes: Vec<_> = (0..200).map(|v| insert(&gc, v)).collect();
        settle().await;
        assert!(
            values(&reader).is_empty(),
            "nothing is visible before the commit"
        );
        release.send(()).unwrap();
        held.await.unwrap();
        for w in writes {
            w.await.unwrap().unwrap();
        }
        assert_eq!(values(&reader), (0..200).collect::<Vec<_>>());
        assert_eq!(
            gc.commits(),
            2,
            "the held write's group, then one for all 200"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_write_that_fails_or_panics_is_rolled_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (gc, reader) = writer_on(&dir);
        let (release, held) = hold(&gc);
        settle().await;
        let first = insert(&gc, 1);
        let failing = {
            let gc = gc.clone();
            tokio::spawn(async move {
                gc.write(|c| -> anyhow::Result<()> {
                    c.execute("INSERT INTO t (v) VALUES (2)", [])?;
                    anyhow::bail!("this write changes its mind")
                })
                .await
            })
        };
        let panicking = {
            let gc = gc.clone();
            tokio::spawn(async move {
                gc.write(|c| -> anyhow::Result<()> {
                    c.execute("INSERT INTO t (v) VALUES (3)", []).unwrap();
                    panic!("a bug in one write")
                })
                .await
            })
        };
        let last = insert(&gc, 4);
        settle().await;
        release.send(()).unwrap();
        held.await.unwrap();
        first.await.unwrap().unwrap();
        let err = failing.await.unwrap().unwrap_err().to_string();
        assert!(err.contains("changes its mind"), "{err}");
        let err = panicking.await.unwrap().unwrap_err().to_string();
        assert!(err.contains("panicked"), "{err}");
        last.await.unwrap().unwrap();
        assert_eq!(values(&reader), vec![1, 4]);
        assert_eq!(gc.commits(), 2);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_group_whose_commit_fails_fails_every_write_in_it_and_keeps_none() {
        let dir = tempfile::tempdir().unwrap();
        let (gc, reader) = writer_on(&dir);
        let (release, held) = hold(&gc);
        settle().await;
        let innocent = insert(&gc, 1);
        // A deferred foreign key is checked at COMMIT: the whole group fails there.
        let dangling = {
            let gc = gc.clone();
            tokio::spawn(async move {
                gc.write(|c| {
                    c.execute("INSERT INTO child (p) VALUES (42)", [])?;
                    Ok(())
                })
                .await
            })
        };
        settle().await;
        release.send(()).unwrap();
        held.await.unwrap();
        let err = format!("{:#}", innocent.await.unwrap().unwrap_err());
        assert!(err.contains("committing a group"), "{err}");
        assert!(dangling.await.unwrap().is_err());
        assert!(values(&reader).is_empty());
        let rows: i64 = reader
            .query_row("SELECT COUNT(*) FROM child", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0);

        // The writer goes on with the next group.
        insert(&gc, 5).await.unwrap().unwrap();
        assert_eq!(values(&reader), vec![5]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_full_database_fails_the_write_that_needs_room_and_writes_go_on_once_there_is_some() {
        let dir = tempfile::tempdir().unwrap();
        let (gc, reader) = writer_on(&dir);
        let pages: i64 = gc
            .write(|c| Ok(c.query_row("PRAGMA page_count", [], |r| r.get(0))?))
            .await
            .unwrap();
        gc.write(move |c| {
            c.query_row(
                &format!("PRAGMA max_page_count = {}", pages + 2),
                [],
                |_| Ok(()),
            )?;
            Ok(())
        })
        .await
        .unwrap();
        let big = "x".repeat(64 * 1024);
        let err = gc
            .write(move |c| {
                c.execute("INSERT INTO t (v) VALUES (length(?1))", params![big])?;
                c.execute("CREATE TABLE filler AS SELECT ?1 AS b", params![big])?;
                Ok(())
            })
            .await
            .unwrap_err();
        let code = err
            .chain()
            .find_map(|e| e.downcast_ref::<rusqlite::Error>())
            .and_then(rusqlite::Error::sqlite_error_code);
        assert_eq!(code, Some(rusqlite::ErrorCode::DiskFull), "{err:#}");
        assert!(values(&reader).is_empty(), "the failed write left nothing");

        gc.write(|c| {
            c.query_row("PRAGMA max_page_count = 1000000", [], |_| Ok(()))?;
            Ok(())
        })
        .await
        .unwrap();
        insert(&gc, 7).await.unwrap().unwrap();
        assert_eq!(values(&reader), vec![7]);
    }
}
