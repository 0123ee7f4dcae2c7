//! Graceful shutdown: one flag tripped by SIGTERM or Ctrl-C, awaited by every loop.

use tokio::sync::watch;

/// Cloneable "stop now" flag that can be awaited.
#[derive(Clone, Debug)]
pub struct CancelToken(watch::Receiver<bool>);

/// The sending half of a [`CancelToken`].
#[derive(Debug)]
pub struct CancelSource(watch::Sender<bool>);

/// A new token and the handle that trips it.
pub fn cancel_pair() -> (CancelSource, CancelToken) {
    let (tx, rx) = watch::channel(false);
    (CancelSource(tx), CancelToken(rx))
}

impl CancelSource {
    /// Trips every token.
    pub fn cancel(&self) {
        let _ = self.0.send(true);
    }
}

impl CancelToken {
    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once cancellation is requested (or the source is gone).
    pub async fn cancelled(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// Resolves on the first SIGTERM or Ctrl-C.
pub async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
