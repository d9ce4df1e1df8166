//! Running an OS tool for the collectors, with a timeout so the agent never hangs.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Why a command produced no output.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} did not finish within {timeout:?} and was killed")]
    Timeout { program: String, timeout: Duration },
    #[error("{program} failed: {status}")]
    Failed {
        program: String,
        status: std::process::ExitStatus,
    },
}

/// Run `program args..` and return its standard output, killing it after `timeout`.
/// Standard input is empty and standard error is discarded.
pub fn output_with_timeout(
    program: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<Vec<u8>, CommandError> {
    let name = program.display().to_string();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| CommandError::Spawn {
            program: name.clone(),
            source,
        })?;
    let mut stdout = child.stdout.take();
    let (tx, rx) = mpsc::channel();
    // The reader finishes when the child closes its stdout: on exit or when killed.
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(out) = stdout.as_mut() {
            let _ = out.read_to_end(&mut buf);
        }
        let _ = tx.send(buf);
    });
    match rx.recv_timeout(timeout) {
        Ok(buf) => {
            let status = child.wait().map_err(|source| CommandError::Spawn {
                program: name.clone(),
                source,
            })?;
            if status.success() {
                Ok(buf)
            } else {
                Err(CommandError::Failed {
                    program: name,
                    status,
                })
            }
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(CommandError::Timeout {
                program: name,
                timeout,
            })
        }
    }
}

/// The first executable called `name` on `$PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output() {
        let sh = find_on_path("sh").expect("sh on PATH");
        let out =
            output_with_timeout(&sh, &["-c", "echo hi"], Duration::from_secs(10)).expect("runs");
        assert_eq!(out, b"hi\n");
    }

    #[test]
    fn failure_and_missing_program() {
        let sh = find_on_path("sh").expect("sh on PATH");
        let e = output_with_timeout(&sh, &["-c", "exit 3"], Duration::from_secs(10));
        assert!(matches!(e, Err(CommandError::Failed { .. })));
        let e = output_with_timeout(Path::new("/nonexistent/x"), &[], Duration::from_secs(1));
        assert!(matches!(e, Err(CommandError::Spawn { .. })));
    }

    #[test]
    fn a_hanging_program_is_killed() {
        let sh = find_on_path("sh").expect("sh on PATH");
        // `exec` so that killing the child kills the process holding stdout.
        let e = output_with_timeout(
            &sh,
            &["-c", "exec tail -f /dev/null"],
            Duration::from_millis(50),
        );
        assert!(matches!(e, Err(CommandError::Timeout { .. })), "{e:?}");
    }
}
