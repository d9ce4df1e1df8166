//! Running a fragile collector on its own thread with a deadline, so that one that hangs
//! (a tool, a sensor, a file system) or panics costs only its own section.
//!
//! [`Runner::start`] spawns the collector on a detached thread and [`Pending::wait`]
//! waits for it until its deadline. A collector that timed out, panicked or returned an
//! error becomes a [`CollectError`] for its section. A timed-out thread cannot be killed:
//! it runs on, and the runner remembers it, so that the next collection of a long-running
//! agent does not start a second copy of the same stuck collector.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use steward_shared::CollectError;

/// Starts collectors and remembers the ones still running (keep one per agent).
#[derive(Debug, Clone, Default)]
pub(crate) struct Runner {
    running: Arc<Mutex<BTreeSet<String>>>,
}

/// A collector started by [`Runner::start`].
#[must_use = "a started collector is only useful when waited for"]
pub(crate) struct Pending<T> {
    section: String,
    state: State<T>,
}

enum State<T> {
    Started {
        rx: Receiver<Result<T, String>>,
        deadline: Instant,
        timeout: Duration,
    },
    NotStarted(String),
}

/// Removes a section from the running set when its thread ends, even by a panic.
struct Finished {
    running: Arc<Mutex<BTreeSet<String>>>,
    section: String,
}

impl Drop for Finished {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.remove(&self.section);
    }
}

impl Runner {
    /// Start `collect` for `section` on its own thread, to be waited for until `timeout`
    /// from now. Not started when the same section is still running from before.
    pub(crate) fn start<T, E, F>(&self, section: &str, timeout: Duration, collect: F) -> Pending<T>
    where
        T: Send + 'static,
        E: Display,
        F: FnOnce() -> Result<T, E> + Send + 'static,
    {
        let section = section.to_string();
        let fresh = {
            let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
            running.insert(section.clone())
        };
        if !fresh {
            let message = "still running since an earlier collection; not started again";
            return Pending::not_started(section, message.to_string());
        }
        let finished = Finished {
            running: Arc::clone(&self.running),
            section: section.clone(),
        };
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name(format!("collect {section}"))
            .spawn(move || {
                let result = match catch_unwind(AssertUnwindSafe(collect)) {
                    Ok(Ok(value)) => Ok(value),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(panic) => Err(format!("panicked: {}", panic_message(panic.as_ref()))),
                };
                // Leave the running set before anyone can see the result, so a waiter
                // that got it may start the section again at once.
                drop(finished);
                // The receiver is gone when the wait timed out: nobody wants it any more.
                let _ = tx.send(result);
            });
        match spawned {
            Ok(_) => Pending {
                section,
                state: State::Started {
                    rx,
                    deadline: Instant::now() + timeout,
                    timeout,
                },
            },
            // The closure (and with it the `Finished` guard) was dropped: not running.
            Err(e) => Pending::not_started(section, format!("cannot start a thread: {e}")),
        }
    }
}

impl<T> Pending<T> {
    fn not_started(section: String, message: String) -> Pending<T> {
        Pending {
            section,
            state: State::NotStarted(message),
        }
    }

    /// The collector's result; `None` with the reason added to `errors`.
    pub(crate) fn wait_noting(self, errors: &mut Vec<CollectError>) -> Option<T> {
        self.wait().map_err(|e| errors.push(e)).ok()
    }

    /// The collector's result, or why there is none.
    pub(crate) fn wait(self) -> Result<T, CollectError> {
        let message = match self.state {
            State::NotStarted(message) => message,
            State::Started {
                rx,
                deadline,
                timeout,
            } => match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(message)) => message,
                Err(RecvTimeoutError::Timeout) => format!("timed out after {}", human(timeout)),
                Err(RecvTimeoutError::Disconnected) => "stopped without a result".to_string(),
            },
        };
        tracing::warn!(section = %self.section, error = %message, "collector failed");
        Err(CollectError {
            section: self.section,
            message,
        })
    }
}

/// The message a panic was raised with.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "no message"
    }
}

/// "10 s", "1.5 s", "50 ms".
fn human(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T: Send + 'static, E: Display>(
        runner: &Runner,
        section: &str,
        timeout: Duration,
        collect: impl FnOnce() -> Result<T, E> + Send + 'static,
    ) -> Result<T, CollectError> {
        runner.start(section, timeout, collect).wait()
    }

    #[test]
    fn a_result_an_error_and_a_panic() {
        let runner = Runner::default();
        let ok = run(&runner, "a", Duration::from_secs(5), || Ok::<_, String>(42));
        assert_eq!(ok, Ok(42));
        let failed = run(&runner, "b", Duration::from_secs(5), || {
            Err::<u8, _>("rpm failed: exit status: 1")
        });
        assert_eq!(
            failed,
            Err(CollectError {
                section: "b".into(),
                message: "rpm failed: exit status: 1".into()
            })
        );
        let panicked = run(
            &runner,
            "software.x",
            Duration::from_secs(5),
            || -> Result<u8, String> { panic!("bad output") },
        );
        let e = panicked.expect_err("panicked");
        assert_eq!(e.section, "software.x");
        assert_eq!(e.message, "panicked: bad output");
        // Every thread ended: the sections can run again.
        assert!(runner.running.lock().expect("lock").is_empty());
    }

    #[test]
    fn a_collector_past_its_deadline_is_left_behind_and_not_started_twice() {
        let runner = Runner::default();
        let (release, hold) = mpsc::channel::<()>();
        let started = Instant::now();
        let slow = runner.start("health.sensors", Duration::from_millis(20), move || {
            let _ = hold.recv_timeout(Duration::from_secs(10));
            Ok::<_, String>(1)
        });
        let quick = runner.start("other", Duration::from_millis(20), || Ok::<_, String>(2));
        let e = slow.wait().expect_err("timed out");
        assert_eq!(e.message, "timed out after 20 ms");
        assert!(started.elapsed() < Duration::from_secs(5));
        // The others are not held up.
        assert_eq!(quick.wait(), Ok(2));
        // Still stuck: the next collection does not start another.
        let again = run(&runner, "health.sensors", Duration::from_secs(5), || {
            Ok::<_, String>(3)
        });
        assert!(
            again
                .expect_err("not started")
                .message
                .contains("still running")
        );
        // Once it ends, it may run again.
        release.send(()).expect("release");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !runner.running.lock().expect("lock").is_empty() && Instant::now() < deadline {
            std::thread::yield_now();
        }
        let again = run(&runner, "health.sensors", Duration::from_secs(5), || {
            Ok::<_, String>(4)
        });
        assert_eq!(again, Ok(4));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_secs(10)), "10 s");
        assert_eq!(human(Duration::from_millis(50)), "50 ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5 s");
    }
}
