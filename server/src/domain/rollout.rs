//! Who is offered an agent release: a stable percentage of agents (by a hash of the
//! agent id, so raising 10% to 50% keeps the first 10%), plus the agents and locations
//! the release names; never while paused, never an older or equal version, never
//! another platform.

use crate::db::agent_releases::AgentRelease;
use sha2::{Digest, Sha256};
use steward_shared::release::version_is_newer;

/// The agent's bucket, 0..100: the same for every release, so a canary agent is early
/// for each of them.
pub fn bucket(agent_id: &str) -> u8 {
    let digest = Sha256::digest(format!("steward-rollout:{agent_id}").as_bytes());
    let n = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
    (n % 100) as u8
}

/// The agent asking, as the rollout sees it.
#[derive(Debug, Clone, Default)]
pub struct Target<'a> {
    pub agent_id: &'a str,
    pub version: &'a str,
    pub os: &'a str,
    pub arch: &'a str,
    /// The asset's location and every place above it.
    pub locations: &'a [i64],
}

/// Whether `release` is offered to `target`.
pub fn includes(release: &AgentRelease, target: &Target<'_>) -> bool {
    if release.paused
        || release.os != target.os
        || release.arch != target.arch
        || !version_is_newer(&release.version, target.version)
    {
        return false;
    }
    bucket(target.agent_id) < release.percentage
        || release.agent_ids.iter().any(|a| a == target.agent_id)
        || release
            .location_ids
            .iter()
            .any(|l| target.locations.contains(l))
}

/// The newest release offered to `target`, if any.
pub fn pick<'r>(releases: &'r [AgentRelease], target: &Target<'_>) -> Option<&'r AgentRelease> {
    releases
        .iter()
        .filter(|r| includes(r, target))
        .reduce(|best, r| {
            if version_is_newer(&r.version, &best.version) {
                r
            } else {
                best
            }
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn release(version: &str, percentage: u8) -> AgentRelease {
        AgentRelease {
            id: 1,
            version: version.into(),
            os: "linux".into(),
            arch: "x86_64".into(),
            percentage,
            ..AgentRelease::default()
        }
    }

    fn target(id: &str) -> Target<'_> {
        Target {
            agent_id: id,
            version: "1.0.0",
            os: "linux",
            arch: "x86_64",
            locations: &[],
        }
    }

    fn agents() -> Vec<String> {
        (0..2000).map(|i| format!("agt_{i:06x}")).collect()
    }

    #[test]
    fn buckets_are_stable_and_ten_percent_stays_in_fifty() {
        let ids = agents();
        let at = |p| {
            let r = release("2.0.0", p);
            ids.iter()
                .filter(|id| includes(&r, &target(id)))
                .cloned()
                .collect::<Vec<_>>()
        };
        let (ten, fifty) = (at(10), at(50));
        assert!(ten.iter().all(|id| fifty.contains(id)), "10% ⊂ 50%");
        assert!((150..250).contains(&ten.len()), "about 10%: {}", ten.len());
        assert!(
            (900..1100).contains(&fifty.len()),
            "about 50%: {}",
            fifty.len()
        );
        assert_eq!(at(0).len(), 0);
        assert_eq!(at(100).len(), ids.len());
        assert_eq!(bucket("agt_1"), bucket("agt_1"));
    }

    #[test]
    fn paused_releases_are_offered_to_nobody() {
        let mut r = release("2.0.0", 100);
        r.paused = true;
        r.agent_ids = vec!["agt_named".into()];
        r.location_ids = vec![7];
        let t = Target {
            locations: &[7],
            ..target("agt_named")
        };
        assert!(agents().iter().all(|id| !includes(&r, &target(id))));
        assert!(!includes(&r, &t));
    }

    #[test]
    fn named_agents_and_locations_are_included_at_zero_percent() {
        let mut r = release("2.0.0", 0);
        r.agent_ids = vec!["agt_named".into()];
        r.location_ids = vec![7];
        assert!(includes(&r, &target("agt_named")));
        assert!(!includes(&r, &target("agt_other")));
        let in_building = Target {
            locations: &[12, 7],
            ..target("agt_other")
        };
        assert!(includes(&r, &in_building));
    }

    #[test]
    fn other_platforms_and_older_versions_are_not_offered() {
        let r = release("2.0.0", 100);
        let mut t = target("agt_a");
        t.arch = "aarch64";
        assert!(!includes(&r, &t));
        let t = Target {
            version: "2.0.0",
            ..target("agt_a")
        };
        assert!(!includes(&r, &t));
        let all = [
            release("1.5.0", 100),
            release("3.0.0", 100),
            release("2.0.0", 100),
        ];
        assert_eq!(pick(&all, &target("agt_a")).unwrap().version, "3.0.0");
    }
}
