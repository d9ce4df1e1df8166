//! `[auth]`: web sessions, the first admin, and how failed sign-ins lock an account
//! (and limit a client address); see `domain::lockout`.

use super::ConfigError;
use crate::domain::lockout::Policy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSection {
    /// Web sessions expire after this many hours.
    pub session_ttl_hours: u64,
    /// Mark cookies `Secure` (set this when users reach the server over HTTPS).
    pub secure_cookies: bool,
    /// Email of the admin created on an empty database.
    pub admin_email: String,
    /// Consecutive failed sign-ins to one account within `lockout_window_minutes` that
    /// lock it.
    pub max_failed_logins: u32,
    /// The window in which failed sign-ins are counted, in minutes.
    pub lockout_window_minutes: u64,
    /// How long a locked account stays locked, in minutes (an admin can unlock sooner).
    pub lockout_minutes: u64,
    /// Failed sign-ins from one client address (IPv6: one /64) within
    /// `lockout_window_minutes`, whatever the email, before it is refused (429) for a window.
    pub max_failed_logins_per_ip: u32,
}

impl Default for AuthSection {
    fn default() -> Self {
        Self {
            session_ttl_hours: 12,
            secure_cookies: false,
            admin_email: "admin@steward.local".into(),
            max_failed_logins: 5,
            lockout_window_minutes: 15,
            lockout_minutes: 15,
            max_failed_logins_per_ip: 30,
        }
    }
}

/// A week: longer windows or locks are a mistake rather than a policy.
const MAX_MINUTES: u64 = 7 * 24 * 60;

impl AuthSection {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.session_ttl_hours == 0 {
            return Err(ConfigError::Invalid(
                "auth.session_ttl_hours must be at least 1".into(),
            ));
        }
        if !self.admin_email.contains('@') {
            return Err(ConfigError::Invalid(
                "auth.admin_email must be an email address".into(),
            ));
        }
        if !(1..=1000).contains(&self.max_failed_logins) {
            return Err(ConfigError::Invalid(
                "auth.max_failed_logins must be between 1 and 1000".into(),
            ));
        }
        if !(1..=100_000).contains(&self.max_failed_logins_per_ip) {
            return Err(ConfigError::Invalid(
                "auth.max_failed_logins_per_ip must be between 1 and 100000".into(),
            ));
        }
        for (key, v) in [
            ("lockout_window_minutes", self.lockout_window_minutes),
            ("lockout_minutes", self.lockout_minutes),
        ] {
            if !(1..=MAX_MINUTES).contains(&v) {
                return Err(ConfigError::Invalid(format!(
                    "auth.{key} must be between 1 and {MAX_MINUTES} (a week)"
                )));
            }
        }
        Ok(())
    }

    /// The per-account lockout rule.
    pub fn lockout_policy(&self) -> Policy {
        Policy {
            max_failures: self.max_failed_logins,
            window_secs: (self.lockout_window_minutes * 60) as i64,
            lockout_secs: (self.lockout_minutes * 60) as i64,
        }
    }

    /// The per-address limiter these settings describe.
    pub fn ip_limit(&self) -> crate::sign_in_limit::SignInLimit {
        crate::sign_in_limit::SignInLimit::new(
            self.max_failed_logins_per_ip,
            (self.lockout_window_minutes * 60) as i64,
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Overrides, ServerConfig};

    fn load(pairs: &[(&str, &str)]) -> Result<ServerConfig, crate::config::ConfigError> {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        ServerConfig::load(None, env, &Overrides::default())
    }

    #[test]
    fn lockout_settings_load_and_bad_ones_are_refused() {
        let cfg = load(&[
            ("STEWARD_AUTH__MAX_FAILED_LOGINS", "3"),
            ("STEWARD_AUTH__LOCKOUT_WINDOW_MINUTES", "10"),
            ("STEWARD_AUTH__LOCKOUT_MINUTES", "60"),
            ("STEWARD_AUTH__MAX_FAILED_LOGINS_PER_IP", "100"),
        ])
        .expect("load");
        let p = cfg.auth.lockout_policy();
        assert_eq!(
            (p.max_failures, p.window_secs, p.lockout_secs),
            (3, 600, 3600)
        );
        assert_eq!(cfg.auth.max_failed_logins_per_ip, 100);
        for (k, v) in [
            ("STEWARD_AUTH__MAX_FAILED_LOGINS", "0"),
            ("STEWARD_AUTH__LOCKOUT_WINDOW_MINUTES", "0"),
            ("STEWARD_AUTH__LOCKOUT_MINUTES", "100000"),
            ("STEWARD_AUTH__MAX_FAILED_LOGINS_PER_IP", "0"),
        ] {
            let err = load(&[(k, v)]).expect_err(k);
            assert!(err.to_string().contains("auth."), "{err}");
        }
    }
}
