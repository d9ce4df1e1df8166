//! CPU busy share between two collections, for `Health.cpu_percent`.
//!
//! A share needs two readings. Taking both within one collection would mean waiting
//! ~200 ms, far over the collection's budget, so the long-running agent keeps the
//! previous reading in [`CpuUsage`] and reports the average since the previous
//! collection. A one-off collection (`steward-agent collect`) has none and reports
//! nothing. On Linux the readings are `/proc/stat`'s counters; elsewhere `sysinfo`'s,
//! which keeps its previous reading itself.

use sysinfo::System;

/// Jiffies spent by all CPUs: busy, and in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CpuTimes {
    busy: u64,
    total: u64,
}

/// The aggregate `cpu` line of `/proc/stat`: user nice system idle iowait irq softirq
/// steal guest guest_nice. Idle and iowait are idle time; guest time is already counted
/// in user and nice.
pub(super) fn parse_proc_stat(text: &str) -> Option<CpuTimes> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let field = |i: usize| values.get(i).copied().unwrap_or(0);
    if values.len() < 4 {
        return None;
    }
    let total = (0..8).map(field).fold(0u64, u64::saturating_add);
    let idle = field(3).saturating_add(field(4));
    Some(CpuTimes {
        busy: total.saturating_sub(idle),
        total,
    })
}

/// The busy share from `before` to `after` in percent, to one decimal; `None` when no
/// time passed or the counters went back (a reading from before a reboot).
pub(super) fn busy_percent(before: CpuTimes, after: CpuTimes) -> Option<f64> {
    let total = after.total.checked_sub(before.total).filter(|t| *t > 0)?;
    let busy = after.busy.checked_sub(before.busy)?;
    let percent = (busy as f64 * 100.0 / total as f64).clamp(0.0, 100.0);
    Some((percent * 10.0).round() / 10.0)
}

/// The previous reading, kept from one collection to the next.
#[derive(Debug, Default)]
pub struct CpuUsage {
    last: Option<CpuTimes>,
    system: Option<System>,
}

impl CpuUsage {
    /// The busy share since the previous call; `None` on the first.
    pub(super) fn sample(&mut self) -> Option<f64> {
        if cfg!(target_os = "linux") {
            let now = std::fs::read_to_string("/proc/stat")
                .ok()
                .and_then(|text| parse_proc_stat(&text));
            let before = std::mem::replace(&mut self.last, now);
            busy_percent(before?, now?)
        } else {
            self.sample_sysinfo()
        }
    }

    fn sample_sysinfo(&mut self) -> Option<f64> {
        let first = self.system.is_none();
        if first {
            self.system = Some(System::new().ok()?);
        }
        let system = self.system.as_mut()?;
        system.refresh_cpu_usage();
        if first {
            return None;
        }
        let percent = f64::from(system.global_cpu_usage()).clamp(0.0, 100.0);
        Some((percent * 10.0).round() / 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  1000 10 290 8000 500 0 100 100 50 0\n\
                        cpu0 500 5 145 4000 250 0 50 50 25 0\n\
                        intr 12345\n";

    #[test]
    fn parses_the_aggregate_line() {
        // busy: user+nice+system+irq+softirq+steal; guest is inside user already.
        assert_eq!(
            parse_proc_stat(STAT),
            Some(CpuTimes {
                busy: 1500,
                total: 10_000
            })
        );
        // Old kernels print only four columns.
        assert_eq!(
            parse_proc_stat("cpu 10 0 10 80\n"),
            Some(CpuTimes {
                busy: 20,
                total: 100
            })
        );
        assert_eq!(parse_proc_stat("cpu0 1 2 3 4\n"), None);
        assert_eq!(parse_proc_stat("cpu  1 x 3 4\n"), None);
        assert_eq!(parse_proc_stat("cpu  1 2\n"), None);
        assert_eq!(parse_proc_stat(""), None);
    }

    #[test]
    fn share_between_two_readings() {
        let t = |busy, total| CpuTimes { busy, total };
        assert_eq!(busy_percent(t(1500, 10_000), t(1750, 11_000)), Some(25.0));
        assert_eq!(busy_percent(t(0, 0), t(1, 3)), Some(33.3));
        assert_eq!(busy_percent(t(0, 0), t(3, 3)), Some(100.0));
        // No time passed, or the counters restarted.
        assert_eq!(busy_percent(t(5, 10), t(5, 10)), None);
        assert_eq!(busy_percent(t(5, 1000), t(1, 10)), None);
    }

    #[test]
    fn first_sample_is_unknown_and_later_ones_are_measured() {
        let mut usage = CpuUsage::default();
        assert_eq!(usage.sample(), None);
        // Some when the counters moved in between (they count in 10 ms steps).
        if let Some(p) = usage.sample() {
            assert!((0.0..=100.0).contains(&p), "{p}");
        }
    }
}
