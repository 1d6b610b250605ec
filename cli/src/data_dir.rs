//! The data dir of `hooklane dev`: private to its owner and held by one
//! process at a time.
//!
//! It holds signing secrets, chat tokens and the admin token, so the folder
//! is made `0700` and the database with its WAL and shared-memory files
//! `0600`, whatever the umask (SQLite gives the `-wal` and `-shm` files the
//! database file's permissions). A second `hooklane dev` on the same folder
//! is refused: two processes would each take the other's queued work for
//! their own and hand it out twice after a restart.

use std::fs::{File, OpenOptions};
use std::path::Path;

use anyhow::Context as _;

/// The files of the embedded backend, as the SQLite adapter names them.
const DATABASE_FILES: [&str; 3] = ["hooklane.db", "hooklane.db-wal", "hooklane.db-shm"];

/// The lock file's name; it holds no data.
const LOCK_FILE: &str = "lock";

/// Creates `dir` (and its parents) when absent, makes it and the database
/// files private, and takes the process-wide lock on it. The lock is held
/// while the returned file is open and released by the system when the
/// process ends, `kill -9` included.
///
/// Errors: the folder cannot be created or made private, or another process
/// holds it (the message says which folder and what to do).
pub fn prepare(dir: &Path) -> anyhow::Result<File> {
    create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    let lock_path = dir.join(LOCK_FILE);
    let lock =
        private_file(&lock_path).with_context(|| format!("opening {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another hooklane dev is using the data dir {}; stop it first, or give this one its own --data-dir",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(anyhow::Error::new(e).context(format!("locking {}", lock_path.display())))
        }
    }
    for (i, name) in DATABASE_FILES.iter().enumerate() {
        let path = dir.join(name);
        // The database is created private before SQLite opens it; its WAL
        // and shared-memory files follow its permissions, and are fixed
        // here when an older version left them readable.
        let create = i == 0;
        if create || path.exists() {
            private_file(&path).with_context(|| format!("making {} private", path.display()))?;
        }
    }
    for name in SECRET_FILES {
        let path = dir.join(name);
        if path.exists() {
            private_file(&path).with_context(|| format!("making {} private", path.display()))?;
        }
    }
    Ok(lock)
}

/// The data dir's secrets, made `0600` at start when an older version left
/// them readable (they are created `0600`).
const SECRET_FILES: [&str; 2] = ["admin-token", "portal-key"];

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Opens (creating when absent) `path` for writing, mode `0600`.
fn private_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        options.open(path)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_data_dir_and_database_are_private_even_when_they_were_not() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("hooklane.db-wal"), b"").unwrap();
        std::fs::set_permissions(
            dir.join("hooklane.db-wal"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();

        for name in SECRET_FILES {
            std::fs::write(dir.join(name), b"secret").unwrap();
            std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o644))
                .unwrap();
        }

        let _lock = prepare(&dir).unwrap();

        for name in SECRET_FILES {
            assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
            assert_eq!(std::fs::read(dir.join(name)).unwrap(), b"secret", "{name}");
        }
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("hooklane.db")), 0o600);
        assert_eq!(mode(&dir.join("hooklane.db-wal")), 0o600);
        assert!(!dir.join("hooklane.db-shm").exists());
    }

    #[test]
    fn a_second_holder_of_the_data_dir_is_refused_until_the_first_lets_go() {
        let root = tempfile::tempdir().unwrap();
        let first = prepare(root.path()).unwrap();
        let err = prepare(root.path()).unwrap_err().to_string();
        assert!(err.contains("another hooklane dev"), "{err}");
        drop(first);
        prepare(root.path()).unwrap();
    }
}
