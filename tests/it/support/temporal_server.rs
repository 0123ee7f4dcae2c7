//! A private Temporal dev server, for tests that stop and restart it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `temporal server start-dev` child process persisting into a file, killed on drop.
pub struct TemporalServer {
    child: Option<Child>,
    pub port: u16,
    db_file: PathBuf,
    _dir: tempfile::TempDir,
}

fn temporal_bin() -> PathBuf {
    std::env::var_os("HERALD_TEST_TEMPORAL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("temporal"))
}

impl TemporalServer {
    /// Starts a server on a free port and waits until it accepts connections.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_file = dir.path().join("temporal.db");
        let port = super::free_port();
        let mut server = Self { child: None, port, db_file, _dir: dir };
        server.restart().await;
        server
    }

    pub fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn spawn(port: u16, db_file: &Path) -> Child {
        Command::new(temporal_bin())
            .args(["server", "start-dev", "--headless", "--ip", "127.0.0.1", "--log-level", "error"])
            .args(["--port", &port.to_string(), "--db-filename"])
            .arg(db_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run the Temporal CLI ({}): {e}; `make test` installs it",
                    temporal_bin().display()
                )
            })
    }

    /// Kills the server (like an outage).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and file, and waits until it answers.
    pub async fn restart(&mut self) {
        self.stop();
        self.child = Some(Self::spawn(self.port, &self.db_file));
        let addr = format!("127.0.0.1:{}", self.port);
        super::eventually(Duration::from_secs(60), "the private Temporal server to listen", || {
            let addr = addr.clone();
            async move { tokio::net::TcpStream::connect(addr).await.ok().map(|_| ()) }
        })
        .await;
    }
}

impl Drop for TemporalServer {
    fn drop(&mut self) {
        self.stop();
    }
}
