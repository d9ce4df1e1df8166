//! `[legacy_inventory]`: the endpoints FusionInventory, OCS Inventory and GLPI agents
//! already report to. Off unless enabled; HTTP basic credentials always; optionally only
//! from some networks.

use super::{ConfigError, Secret};
use serde::{Deserialize, Deserializer, Serialize};
use std::net::IpAddr;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LegacyInventorySection {
    /// Accept inventories from FusionInventory, OCS Inventory and GLPI agents.
    pub enabled: bool,
    /// The HTTP basic user name those agents send (`--user`).
    pub username: String,
    /// The HTTP basic password (`--password`); required when enabled. Or `password_file`.
    pub password: Option<Secret>,
    /// A file holding the password (its first line).
    pub password_file: Option<std::path::PathBuf>,
    /// Networks allowed to report, e.g. ["10.0.0.0/8", "192.168.1.0/24"] (or one string,
    /// comma-separated, from the environment). Empty: any address.
    #[serde(deserialize_with = "networks")]
    pub allowed_networks: Vec<String>,
    /// Largest request body as sent (compressed), in bytes.
    pub max_body_bytes: usize,
    /// Largest document after decompression, in bytes (a zip bomb stops here).
    pub max_inflated_bytes: usize,
    /// Hours between inventories, told to OCS and FusionInventory agents (PROLOG_FREQ)
    /// and GLPI agents (expiration).
    pub interval_hours: u32,
}

impl Default for LegacyInventorySection {
    fn default() -> Self {
        Self {
            enabled: false,
            username: String::new(),
            password: None,
            password_file: None,
            allowed_networks: Vec::new(),
            max_body_bytes: 8 << 20,
            max_inflated_bytes: 32 << 20,
            interval_hours: 24,
        }
    }
}

fn networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Form::deserialize(d)? {
        Form::List(v) => v,
        Form::Text(s) => s
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
    })
}

/// A network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// "10.0.0.0/8", "2001:db8::/32", or a single address.
    pub fn parse(s: &str) -> Result<Network, String> {
        let bad = || format!("{s:?} is not a network like 10.0.0.0/8 or 2001:db8::/32");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (
                a.parse::<IpAddr>().map_err(|_| bad())?,
                Some(p.parse::<u8>().map_err(|_| bad())?),
            ),
            None => (s.trim().parse::<IpAddr>().map_err(|_| bad())?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer may arrive as an IPv4-mapped IPv6 address.
        let ip = match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl LegacyInventorySection {
    /// The allowed networks, parsed (checked by `validate`).
    pub fn networks(&self) -> Vec<Network> {
        self.allowed_networks
            .iter()
            .filter_map(|n| Network::parse(n).ok())
            .collect()
    }

    /// The password from `password` or `password_file`.
    pub fn password(&self) -> Result<Option<String>, ConfigError> {
        if let Some(p) = &self.password {
            return Ok(Some(p.expose().to_owned()));
        }
        match &self.password_file {
            None => Ok(None),
            Some(path) => std::fs::read_to_string(path)
                .map(|s| s.lines().next().map(|l| l.trim_end().to_owned()))
                .map_err(|e| {
                    ConfigError::Invalid(format!(
                        "[legacy_inventory] cannot read password_file {}: {e}",
                        path.display()
                    ))
                }),
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(format!("[legacy_inventory] {m}")));
        for n in &self.allowed_networks {
            if let Err(e) = Network::parse(n) {
                return bad(e);
            }
        }
        if self.max_body_bytes < 64 * 1024 || self.max_inflated_bytes < self.max_body_bytes {
            return bad(
                "max_body_bytes must be at least 65536 and max_inflated_bytes at least max_body_bytes"
                    .into(),
            );
        }
        if !(1..=24 * 30).contains(&self.interval_hours) {
            return bad("interval_hours must be between 1 and 720".into());
        }
        if self.enabled {
            if self.username.trim().is_empty() {
                return bad(
                    "enabled needs a username (the agents' --user); set legacy_inventory.username"
                        .into(),
                );
            }
            match self.password()? {
                Some(p) if p.chars().count() >= 8 => {}
                _ => {
                    return bad("enabled needs a password of at least 8 characters (the agents' --password); set legacy_inventory.password or password_file".into());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_match_v4_v6_and_mapped_addresses() {
        let n = Network::parse("10.1.0.0/16").expect("net");
        assert!(n.contains("10.1.200.3".parse().expect("ip")));
        assert!(!n.contains("10.2.0.1".parse().expect("ip")));
        assert!(n.contains("::ffff:10.1.0.9".parse().expect("ip")));
        let one = Network::parse("127.0.0.1").expect("net");
        assert!(one.contains("127.0.0.1".parse().expect("ip")));
        assert!(!one.contains("127.0.0.2".parse().expect("ip")));
        let v6 = Network::parse("2001:db8::/32").expect("net");
        assert!(v6.contains("2001:db8:1::5".parse().expect("ip")));
        assert!(!v6.contains("10.1.0.1".parse().expect("ip")));
        assert!(
            Network::parse("0.0.0.0/0")
                .expect("net")
                .contains("8.8.8.8".parse().expect("ip"))
        );
        for bad in ["10.0.0.0/33", "ten/8", "", "10.0.0.0/x"] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enabling_needs_credentials() {
        let mut s = LegacyInventorySection {
            enabled: true,
            ..Default::default()
        };
        assert!(s.validate().is_err());
        s.username = "agents".into();
        s.password = Some("short".into());
        assert!(s.validate().is_err());
        s.password = Some("long enough secret".into());
        assert!(s.validate().is_ok());
        s.allowed_networks = vec!["10.0.0.0/8".into(), "nonsense".into()];
        assert!(s.validate().is_err());
    }
}
