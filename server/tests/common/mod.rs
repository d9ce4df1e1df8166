//! The real `steward-server` binary as a child process, for the tests in this folder.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Safety net for every wait on a real event; never reached when things work.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The admin password every server started here gets.
pub const ADMIN_PASSWORD: &str = "binary test password";

/// The built `steward-server`, with a quiet log and no configuration from the environment.
pub fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_steward-server"));
    cmd.env("STEWARD_LOG__LEVEL", "warn")
        .env("STEWARD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env_remove("STEWARD_DATA_DIR")
        .env_remove("STEWARD_LISTEN")
        .env_remove("STEWARD_CONFIG");
    cmd
}

/// Runs `steward-server --data-dir DATA ARGS...` to the end; returns (success, stdout,
/// stderr).
pub fn run(data: &Path, args: &[&str]) -> (bool, String, String) {
    let out = binary()
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running `steward-server serve` child.
pub struct Server {
    child: Child,
    pub url: String,
}

/// Starts the server on `data` and a free port, and waits for the line that says where it
/// listens (printed once it is bound and serving).
pub fn start(data: &Path) -> Server {
    let mut child = binary()
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut err_pipe = child.stderr.take().unwrap();
    let log = stderr.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err_pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            log.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    // Read stdout on a thread to the end (the server must never write to a closed pipe);
    // the first "running at" line is the address.
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.strip_prefix("Steward is running at ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(url) => Server { child, url },
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server did not start on {}:\n{}",
                data.display(),
                stderr.lock().unwrap()
            );
        }
    }
}

impl Server {
    /// SIGKILL (what `Child::kill` sends on Unix), and wait until the process is gone.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    /// A failing test leaves no server behind.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
