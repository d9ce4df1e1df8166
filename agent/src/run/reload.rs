//! The config watcher task: watches the config file's directory (so editors that replace
//! the file are seen too), waits for changes to settle, reloads, and publishes a valid new
//! config; an invalid file is logged and the previous config kept.

use super::RunError;
use crate::config::AgentConfig;
use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecursiveMode, Watcher};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Quiet time after the last change before the file is read.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(500);

/// Start watching `path`; the receiver sees each accepted new config. The task ends when
/// `shutdown` is cancelled.
pub(crate) fn spawn_watcher(
    path: PathBuf,
    current: AgentConfig,
    shutdown: CancellationToken,
) -> Result<watch::Receiver<AgentConfig>, RunError> {
    let watch_err = |e: notify::Error| RunError::Watch {
        path: path.clone(),
        message: e.to_string(),
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name: OsString = path.file_name().map(OsString::from).unwrap_or_default();
    let (event_tx, mut events) = mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res
            && is_change(&event.kind)
            && event
                .paths
                .iter()
                .any(|p| p.file_name() == Some(name.as_os_str()))
        {
            let _ = event_tx.send(());
        }
    })
    .map_err(watch_err)?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(watch_err)?;

    let (tx, rx) = watch::channel(current);
    tokio::spawn(async move {
        let _watcher = watcher; // dropping it stops the OS watch
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                event = events.recv() => if event.is_none() { return },
            }
            // Debounce: wait until no event came for DEBOUNCE.
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(DEBOUNCE) => break,
                    event = events.recv() => if event.is_none() { return },
                }
            }
            reload(&path, &tx);
        }
    });
    Ok(rx)
}

/// Reading the file (which we do ourselves) is not a change; writing, creating, renaming
/// and removing are.
fn is_change(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_)
            | EventKind::Modify(_)
            | EventKind::Remove(_)
            | EventKind::Access(AccessKind::Close(AccessMode::Write))
    )
}

fn reload(path: &Path, tx: &watch::Sender<AgentConfig>) {
    match AgentConfig::load(Some(path)) {
        Ok(new) => {
            tx.send_if_modified(|old| {
                if *old == new {
                    false
                } else {
                    *old = new;
                    true
                }
            });
        }
        Err(e) => {
            tracing::warn!(error = %e, "config file changed but cannot be used; keeping the previous config")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_publishes_valid_changes_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.toml");
        let (tx, mut rx) = watch::channel(AgentConfig::default());

        std::fs::write(&path, "schedule = \"whenever\"\n").expect("write");
        reload(&path, &tx);
        assert!(
            !rx.has_changed().expect("open"),
            "invalid file is not published"
        );

        std::fs::write(&path, "# only a comment\n").expect("write");
        reload(&path, &tx);
        assert!(
            !rx.has_changed().expect("open"),
            "same config is not published"
        );

        std::fs::write(&path, "schedule = \"0 * * * *\"\n").expect("write");
        reload(&path, &tx);
        assert!(rx.has_changed().expect("open"));
        assert_eq!(rx.borrow_and_update().schedule, "0 * * * *");
    }

    #[tokio::test]
    async fn watcher_sees_an_editor_replacing_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.toml");
        std::fs::write(&path, "jitter_secs = 60\n").expect("write");
        let shutdown = CancellationToken::new();
        let mut rx =
            spawn_watcher(path.clone(), AgentConfig::default(), shutdown.clone()).expect("watch");
        let wait = Duration::from_secs(20);

        let tmp = dir.path().join(".agent.toml.swp");
        std::fs::write(&tmp, "schedule = \"0 * * * *\"\njitter_secs = 1\n").expect("write");
        std::fs::rename(&tmp, &path).expect("rename over the config");
        tokio::time::timeout(wait, rx.changed())
            .await
            .expect("reloaded in time")
            .expect("open");
        let config = rx.borrow_and_update().clone();
        assert_eq!(
            (config.schedule.as_str(), config.jitter_secs),
            ("0 * * * *", 1)
        );

        shutdown.cancel();
        tokio::time::timeout(wait, async { while rx.changed().await.is_ok() {} })
            .await
            .expect("watcher stops on shutdown");
    }
}
