//! Failed sign-ins per client address, in memory: past `auth.max_failed_logins_per_ip`
//! failures within `auth.lockout_window_minutes` the address gets 429 for a window,
//! whatever email it tries, so unknown emails cannot be sprayed. The per-account lock
//! (which survives restarts) is in `users`; both follow `domain::lockout`.
//!
//! IPv6 addresses count per /64 (one machine usually has a whole /64). The map is
//! bounded: when full, entries that no longer matter are dropped, then the oldest.

use crate::domain::lockout::{Failures, Gate, Policy};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Most addresses remembered (each entry is ~64 bytes).
const MAX_ENTRIES: usize = 50_000;

pub struct SignInLimit {
    policy: Policy,
    max_entries: usize,
    entries: Mutex<HashMap<IpAddr, Failures>>,
}

/// The key an address counts under: IPv4 as it is (IPv4-mapped IPv6 too), IPv6 by /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl SignInLimit {
    /// `max_failures` per `window_secs`; a limited address waits a window.
    pub fn new(max_failures: u32, window_secs: i64) -> SignInLimit {
        Self::with_capacity(max_failures, window_secs, MAX_ENTRIES)
    }

    fn with_capacity(max_failures: u32, window_secs: i64, max_entries: usize) -> SignInLimit {
        SignInLimit {
            policy: Policy {
                max_failures,
                window_secs,
                lockout_secs: window_secs,
            },
            max_entries: max_entries.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Some(until)` when `ip` may not try to sign in now.
    pub fn blocked(&self, ip: IpAddr, now: i64) -> Option<i64> {
        match self.lock().get(&key(ip)).map(|f| f.gate(now)) {
            Some(Gate::Locked { until }) => Some(until),
            _ => None,
        }
    }

    /// Counts a failed sign-in from `ip`; true when this one reached the limit.
    pub fn failed(&self, ip: IpAddr, now: i64) -> bool {
        let k = key(ip);
        let mut entries = self.lock();
        if !entries.contains_key(&k) && entries.len() >= self.max_entries {
            self.make_room(&mut entries, now);
        }
        let current = entries.get(&k).copied().unwrap_or_default();
        let (next, limited) = current.after_failure(&self.policy, now);
        entries.insert(k, next);
        limited
    }

    /// Drops entries that no longer limit or count; if none, the one that started first.
    fn make_room(&self, entries: &mut HashMap<IpAddr, Failures>, now: i64) {
        let window = self.policy.window_secs;
        entries.retain(|_, f| {
            matches!(f.gate(now), Gate::Locked { .. })
                || f.since.is_some_and(|s| now >= s && now - s < window)
        });
        if entries.len() >= self.max_entries {
            let oldest = entries
                .iter()
                .min_by_key(|(_, f)| f.locked_until.or(f.since).unwrap_or(i64::MIN))
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                entries.remove(&k);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_is_limited_after_its_failures_for_a_window() {
        let l = SignInLimit::new(3, 900);
        let a = ip("192.0.2.1");
        assert!(!l.failed(a, 0));
        assert!(!l.failed(a, 1));
        assert_eq!(l.blocked(a, 2), None);
        assert!(l.failed(a, 2));
        assert_eq!(l.blocked(a, 3), Some(902));
        assert_eq!(
            l.blocked(ip("192.0.2.2"), 3),
            None,
            "others are not limited"
        );
        assert_eq!(l.blocked(a, 902), None);
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let l = SignInLimit::new(2, 900);
        l.failed(ip("2001:db8:1:2::1"), 0);
        l.failed(ip("2001:db8:1:2::ffff"), 1);
        assert!(l.blocked(ip("2001:db8:1:2:abcd::9"), 2).is_some());
        assert!(l.blocked(ip("2001:db8:1:3::1"), 2).is_none());
        l.failed(ip("::ffff:198.51.100.7"), 0);
        l.failed(ip("198.51.100.7"), 1);
        assert!(l.blocked(ip("198.51.100.7"), 2).is_some());
    }

    #[test]
    fn the_map_stays_bounded_and_keeps_limited_addresses() {
        let l = SignInLimit::with_capacity(2, 900, 3);
        let bad = ip("10.0.0.1");
        l.failed(bad, 0);
        l.failed(bad, 0);
        for i in 2..50u8 {
            l.failed(ip(&format!("10.0.1.{i}")), i64::from(i));
            assert!(l.len() <= 3);
        }
        assert!(l.blocked(bad, 60).is_some(), "a limited address is kept");
        // Later, stale entries make room without evicting anyone who still counts.
        l.failed(ip("10.0.2.1"), 2000);
        assert!(l.len() <= 3);
    }
}
