//! Agent credentials that checked out recently, so that a check-in is authenticated
//! without a database read. An entry lives for [`TTL`]; revoking an agent through this
//! server forgets it at once, and the check-in's own write transaction refuses a revoked
//! agent in any case (a revocation by another process is caught there).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a checked credential is trusted without looking again.
pub const TTL: Duration = Duration::from_secs(300);
/// Most agents remembered; past this the cache starts over (100,000 agents take ~15 MB).
const MAX_ENTRIES: usize = 250_000;

#[derive(Default)]
pub struct AgentCache {
    entries: Mutex<HashMap<String, (String, Instant)>>,
}

impl AgentCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `id` with `secret_hash` was verified within the TTL.
    pub fn verified(&self, id: &str, secret_hash: &str, now: Instant) -> bool {
        self.lock().get(id).is_some_and(|(hash, at)| {
            now.duration_since(*at) < TTL && crate::crypto::constant_time_eq(hash, secret_hash)
        })
    }

    pub fn remember(&self, id: &str, secret_hash: String, now: Instant) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(id) {
            entries.clear();
        }
        entries.insert(id.to_owned(), (secret_hash, now));
    }

    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn trusts_a_checked_secret_until_it_expires_or_is_forgotten() {
        let cache = AgentCache::default();
        let t0 = Instant::now();
        assert!(!cache.verified("agt_1", "h1", t0));
        cache.remember("agt_1", "h1".into(), t0);
        assert!(cache.verified("agt_1", "h1", t0 + Duration::from_secs(10)));
        assert!(
            !cache.verified("agt_1", "other", t0),
            "a wrong secret is never trusted"
        );
        assert!(!cache.verified("agt_2", "h1", t0));
        assert!(!cache.verified("agt_1", "h1", t0 + TTL), "expired");
        cache.forget("agt_1");
        assert!(!cache.verified("agt_1", "h1", t0));
        assert!(cache.is_empty());
    }
}
