//! A moto server a test starts for itself (not the shared one of
//! `tests/run.sh`), so it can freeze it (`SIGSTOP`), thaw it (`SIGCONT`) or
//! kill it without disturbing other tests.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `moto_server` on a free loopback port; stopped on drop.
pub struct OwnMoto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    child: Child,
}

/// `.venv/bin/moto_server` of the workspace, else `moto_server` on `PATH`.
fn moto_server() -> Option<PathBuf> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("moto_server"))
            .find(|p| p.is_file())
    })
}

impl OwnMoto {
    /// Starts moto and waits until it answers. A test that uses it is marked
    /// `#[ignore = "needs moto: tests/run.sh starts one"]`.
    ///
    /// # Panics
    /// When there is no `moto_server` (tests/run.sh installs it in .venv) or
    /// it does not answer within 30 s.
    pub async fn start() -> Self {
        let bin = moto_server().expect(
            "this test needs moto_server: none in .venv/bin nor on PATH (tests/run.sh installs it)",
        );
        let port = crate::free_addr().port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if client
                .get(format!("{}/moto-api/", moto.endpoint))
                .send()
                .await
                .is_ok()
            {
                return moto;
            }
            assert!(Instant::now() < deadline, "moto did not start within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} moto");
    }

    /// SIGSTOP: moto keeps its connections open and answers nothing.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT: moto answers again, what was sent meanwhile included.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    /// SIGKILL: connections are refused from now on.
    pub fn kill(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return; // already gone
        }
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        self.kill();
    }
}
