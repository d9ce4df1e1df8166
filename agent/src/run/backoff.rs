//! Pure timing rules of the run loop: retry backoff and schedule jitter.

use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;

/// First retry delay.
pub(crate) const BACKOFF_START: Duration = Duration::from_secs(5);
/// Longest retry delay.
pub(crate) const BACKOFF_CAP: Duration = Duration::from_secs(600);

/// Delay before retry number `attempt` (0-based): exponential from 5 s, capped at 10 min,
/// with "equal jitter" (a random point in the upper half), so it is never below 2.5 s and
/// a fleet that lost its server does not come back in lockstep.
pub(crate) fn backoff_delay(attempt: u32, random: u64) -> Duration {
    let factor = 1u32 << attempt.min(16);
    let base = BACKOFF_START.saturating_mul(factor).min(BACKOFF_CAP);
    let half = base / 2;
    let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(random % spread.saturating_add(1))
}

/// Delay before retry number `attempt`: the backoff, or longer when a busy server asked
/// for a wait (`Retry-After`), spread by up to half that wait again so that the agents it
/// turned away do not all return in the same second.
pub(crate) fn retry_delay(attempt: u32, retry_after: Option<Duration>, random: u64) -> Duration {
    let backoff = backoff_delay(attempt, random);
    match retry_after {
        Some(wait) => {
            let spread = u64::try_from(wait.as_millis() / 2).unwrap_or(u64::MAX);
            let asked = wait + Duration::from_millis(random % spread.saturating_add(1));
            asked.max(backoff)
        }
        None => backoff,
    }
}

/// `occurrence` delayed by a random 0..=`jitter_secs` seconds, but always before the
/// `following` occurrence, so that a run is never skipped.
pub(crate) fn jittered(
    occurrence: DateTime<Utc>,
    following: Option<DateTime<Utc>>,
    jitter_secs: u64,
    random: u64,
) -> DateTime<Utc> {
    let mut max = jitter_secs;
    if let Some(next) = following {
        let gap = u64::try_from((next - occurrence).num_seconds()).unwrap_or(0);
        max = max.min(gap.saturating_sub(1));
    }
    let secs = i64::try_from(random % max.saturating_add(1)).unwrap_or(0);
    occurrence + TimeDelta::seconds(secs)
}

/// A random number; falls back to the clock's nanoseconds if the OS has no entropy.
pub(crate) fn random_u64() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::from(d.subsec_nanos()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_busy_servers_wait_is_honoured_and_spread() {
        let wait = Some(Duration::from_secs(30));
        // Never sooner than asked, at most half again, and never below the backoff.
        for r in [0, 1, 7_777, 14_999, 15_000, u64::MAX] {
            let d = retry_delay(0, wait, r);
            assert!(
                d >= Duration::from_secs(30) && d <= Duration::from_secs(45),
                "{d:?}"
            );
        }
        assert_ne!(retry_delay(0, wait, 0), retry_delay(0, wait, 9_000));
        let late = retry_delay(8, Some(Duration::from_secs(1)), 0);
        assert!(late >= Duration::from_secs(300), "{late:?}");
        assert_eq!(retry_delay(3, None, 42), backoff_delay(3, 42));
    }

    #[test]
    fn backoff_grows_then_caps() {
        let secs = |a, r| backoff_delay(a, r).as_secs_f64();
        // Lowest and highest possible delays per attempt.
        assert_eq!(secs(0, 0), 2.5);
        assert_eq!(secs(0, 2500), 5.0);
        assert_eq!(secs(1, 0), 5.0);
        assert_eq!(secs(2, 0), 10.0);
        assert_eq!(secs(6, 0), 160.0);
        assert_eq!(secs(7, 0), 300.0); // 640 s capped at 600, half of it
        assert_eq!(secs(50, 0), 300.0);
        for attempt in 0..64 {
            for r in [0, 1, 12_345, u64::MAX] {
                let d = backoff_delay(attempt, r);
                assert!(d >= Duration::from_millis(2500), "{attempt} {r}: {d:?}");
                assert!(d <= BACKOFF_CAP, "{attempt} {r}: {d:?}");
            }
        }
    }

    #[test]
    fn jitter_stays_before_the_next_occurrence() {
        let t = |m| {
            Utc.with_ymd_and_hms(2025, 1, 1, 12, m, 0)
                .single()
                .expect("date")
        };
        assert_eq!(
            jittered(t(0), Some(t(30)), 60, 42),
            t(0) + TimeDelta::seconds(42)
        );
        assert_eq!(jittered(t(0), Some(t(30)), 60, 61), t(0));
        assert_eq!(jittered(t(0), Some(t(30)), 0, 12_345), t(0));
        // Every minute with a 60 s jitter: at most 59 s late.
        for r in 0..200 {
            assert!(jittered(t(0), Some(t(1)), 60, r) < t(1));
        }
        assert_eq!(jittered(t(0), None, 10, 10), t(0) + TimeDelta::seconds(10));
    }
}
