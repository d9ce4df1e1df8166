//! Running an OS tool for the collectors, with a timeout so the agent never hangs.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Why a command produced no (usable) output.
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
    #[error("{program}: {message}")]
    BadOutput { program: String, message: String },
}

/// Run `program args..` and return its standard output, killing it after `timeout`.
/// Standard input is empty and standard error is discarded. A non-zero exit is an error.
pub fn output_with_timeout(
    program: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<Vec<u8>, CommandError> {
    let (status, out) = status_with_timeout(program, args, timeout)?;
    if status.success() {
        Ok(out)
    } else {
        Err(CommandError::Failed {
            program: program.display().to_string(),
            status,
        })
    }
}

/// [`output_with_timeout`] for a tool that prints JSON: output that is neither JSON nor
/// empty is an error.
pub fn json_output_with_timeout(
    program: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<Vec<u8>, CommandError> {
    let out = output_with_timeout(program, args, timeout)?;
    super::json::check(&out).map_err(|message| CommandError::BadOutput {
        program: program.display().to_string(),
        message,
    })?;
    Ok(out)
}

/// Run `program args..` and return how it exited and its standard output, killing it
/// after `timeout` (for tools whose exit code is the answer).
pub fn status_with_timeout(
    program: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<(ExitStatus, Vec<u8>), CommandError> {
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
            Ok((status, buf))
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
        let (status, out) =
            status_with_timeout(&sh, &["-c", "echo x; exit 1"], Duration::from_secs(10))
                .expect("runs");
        assert_eq!((status.code(), out.as_slice()), (Some(1), &b"x\n"[..]));
    }

    #[test]
    fn output_that_should_be_json() {
        let sh = find_on_path("sh").expect("sh on PATH");
        let run =
            |script: &str| json_output_with_timeout(&sh, &["-c", script], Duration::from_secs(10));
        assert_eq!(run("echo '{\"a\": 1}'").expect("json"), b"{\"a\": 1}\n");
        assert!(run("true").expect("empty").is_empty());
        let e = run("echo 'WARNING: something'").expect_err("not json");
        assert!(matches!(e, CommandError::BadOutput { .. }), "{e}");
        assert!(e.to_string().contains("output is not JSON"), "{e}");
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
