//! `[retention]`: how long the tables that grow on their own keep their rows
//! (`crate::retention` deletes the older ones). 0 keeps rows forever.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSection {
    /// Days of health samples (one per agent check-in) to keep; 0: forever.
    pub health_days: u32,
    /// Days of asset history (inventory and record changes) to keep; 0: forever. Each
    /// asset's "created" entry is kept as long as the asset.
    pub history_days: u32,
    /// Days to keep an alert after it was resolved; 0: forever. Open alerts are kept.
    pub resolved_alerts_days: u32,
}

impl Default for RetentionSection {
    fn default() -> Self {
        Self {
            health_days: 90,
            history_days: 730,
            resolved_alerts_days: 365,
        }
    }
}

impl RetentionSection {
    /// Rows older than the returned time (unix seconds) are due for deletion at `now`;
    /// `None` when `days` is 0 (keep forever).
    pub fn cutoff(days: u32, now: i64) -> Option<i64> {
        (days > 0).then(|| now.saturating_sub(i64::from(days) * 86_400))
    }
}

#[cfg(test)]
mod tests {
    use super::RetentionSection;
    use crate::config::{Overrides, ServerConfig};

    fn load(pairs: &[(&str, &str)]) -> Result<ServerConfig, crate::config::ConfigError> {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        ServerConfig::load(None, env, &Overrides::default())
    }

    #[test]
    fn environment_sets_each_period_and_bad_values_are_refused() {
        let cfg = load(&[
            ("STEWARD_RETENTION__HEALTH_DAYS", "30"),
            ("STEWARD_RETENTION__HISTORY_DAYS", "0"),
            ("STEWARD_RETENTION__RESOLVED_ALERTS_DAYS", "7"),
        ])
        .expect("load");
        assert_eq!(
            cfg.retention,
            RetentionSection {
                health_days: 30,
                history_days: 0,
                resolved_alerts_days: 7,
            }
        );
        assert_eq!(load(&[]).expect("defaults").retention.health_days, 90);
        for bad in [
            ("STEWARD_RETENTION__HEALTH_DAYS", "-1"),
            ("STEWARD_RETENTION__HEALTH_DAYS", "ninety"),
            ("STEWARD_RETENTION__HEALTH", "90"),
        ] {
            assert!(load(&[bad]).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn zero_days_keeps_forever_and_days_are_whole_days() {
        assert_eq!(RetentionSection::cutoff(0, 1_000_000), None);
        assert_eq!(
            RetentionSection::cutoff(1, 1_000_000),
            Some(1_000_000 - 86_400)
        );
        assert_eq!(
            RetentionSection::cutoff(u32::MAX, 0),
            Some(-i64::from(u32::MAX) * 86_400)
        );
    }
}
