//! The one place that reads the wall clock, so that everything else takes time as input.

use chrono::{DateTime, Utc};

/// Source of the current time for the run loop; tests substitute one driven by tokio's
/// paused clock.
pub(crate) trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Unix seconds now.
pub(crate) fn unix_now() -> i64 {
    Utc::now().timestamp()
}

/// A clock that follows tokio's (pausable) clock from a fixed start, for tests.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokioClock {
    start_utc: DateTime<Utc>,
    start: tokio::time::Instant,
}

#[cfg(test)]
impl TokioClock {
    pub(crate) fn starting_at(start_utc: DateTime<Utc>) -> Self {
        TokioClock {
            start_utc,
            start: tokio::time::Instant::now(),
        }
    }
}

#[cfg(test)]
impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now() - self.start;
        self.start_utc + chrono::TimeDelta::from_std(elapsed).unwrap_or_default()
    }
}
