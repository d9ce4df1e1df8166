//! Server configuration in layers: defaults, then a TOML file, then `STEWARD_*`
//! environment variables, then command-line flags. Unknown keys are an error.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

mod auth;
mod desk;
mod legacy;
mod releases;
mod retention;
pub use auth::AuthSection;
pub use desk::{
    AttachmentsSection, CategorySla, PartialSlaHours, ServiceDeskSection, SlaHours, SmtpSection,
    SmtpSecurity,
};
pub use legacy::{LegacyInventorySection, Network};
pub use releases::AgentReleasesSection;
pub use retention::RetentionSection;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub server: ServerSection,
    pub database: DatabaseSection,
    pub auth: AuthSection,
    pub alerts: AlertsSection,
    pub tls: TlsSection,
    pub service_desk: ServiceDeskSection,
    pub smtp: SmtpSection,
    pub attachments: AttachmentsSection,
    pub maintenance: MaintenanceSection,
    pub legacy_inventory: LegacyInventorySection,
    pub retention: RetentionSection,
    pub agent_releases: AgentReleasesSection,
    pub log: LogSection,
}

/// A secret from the configuration: never shown by `Debug`, and written out redacted.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

/// HTTPS with rustls. Both files empty: plain HTTP (put a TLS proxy in front, or use
/// this on loopback only).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSection {
    /// PEM certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsSection {
    /// Raise an alert when a filesystem is at least this full (percent, as `df` shows it).
    pub disk_used_percent: f64,
    /// Raise an alert when memory use is at least this (percent).
    pub memory_used_percent: f64,
    /// Raise an alert when an agent has not reported for this many hours.
    pub agent_silent_hours: u64,
    /// How often the server looks for silent agents, in seconds.
    pub sweep_interval_secs: u64,
    /// Open a ticket (linked to the asset) for each new alert.
    pub open_tickets: bool,
}

impl Default for AlertsSection {
    fn default() -> Self {
        Self {
            disk_used_percent: 90.0,
            memory_used_percent: 95.0,
            agent_silent_hours: 24,
            sweep_interval_secs: 300,
            open_tickets: false,
        }
    }
}

/// Preventive maintenance (`crate::maintenance`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MaintenanceSection {
    /// How often the server generates due work orders and records missed ones, in seconds.
    pub interval_secs: u64,
}

impl Default for MaintenanceSection {
    fn default() -> Self {
        Self { interval_secs: 60 }
    }
}

impl AlertsSection {
    pub fn thresholds(&self) -> crate::domain::alerts::Thresholds {
        crate::domain::alerts::Thresholds {
            disk_used_percent: self.disk_used_percent,
            memory_used_percent: self.memory_used_percent,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Address to listen on.
    pub listen: String,
    /// Where the database and attachments live.
    pub data_dir: PathBuf,
    /// Largest request body accepted, in bytes (agent reports are the largest).
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSection {
    /// How long a connection waits for a lock before giving up, in milliseconds.
    pub busy_timeout_ms: u64,
    /// Read connections kept open for queries.
    pub max_readers: usize,
    /// Agent reports waiting for the writer before new ones are answered 503 with
    /// Retry-After (the agents back off and send them later; nothing is lost).
    pub write_queue_limit: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    /// tracing filter, e.g. "info" or "steward_server=debug,info".
    pub level: String,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./steward-data"),
            max_body_bytes: 8 * 1024 * 1024,
        }
    }
}

impl Default for DatabaseSection {
    fn default() -> Self {
        Self {
            busy_timeout_ms: 5000,
            max_readers: 8,
            write_queue_limit: crate::db::DEFAULT_BULK_LIMIT,
        }
    }
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            level: "info".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Command-line flags that override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
}

impl ServerConfig {
    /// Builds the configuration from all layers. `env` is the process environment
    /// (passed in so tests do not touch global state).
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Parse {
                        path: path.to_owned(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        for (key, value) in env {
            apply_env(&mut table, &key, &value)?;
        }
        let mut config: ServerConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))?;
        if let Some(dir) = &overrides.data_dir {
            config.server.data_dir = dir.clone();
        }
        if let Some(listen) = &overrides.listen {
            config.server.listen = listen.clone();
        }
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "server.listen = {:?} is not an address like 127.0.0.1:8080",
                self.server.listen
            )));
        }
        if self.server.max_body_bytes < 64 * 1024 {
            return Err(ConfigError::Invalid(
                "server.max_body_bytes must be at least 65536".into(),
            ));
        }
        if self.database.max_readers == 0 {
            return Err(ConfigError::Invalid(
                "database.max_readers must be at least 1".into(),
            ));
        }
        if self.database.write_queue_limit == 0 {
            return Err(ConfigError::Invalid(
                "database.write_queue_limit must be at least 1".into(),
            ));
        }
        self.auth.validate()?;
        let pct_ok = |p: f64| p > 0.0 && p <= 100.0;
        if !pct_ok(self.alerts.disk_used_percent) || !pct_ok(self.alerts.memory_used_percent) {
            return Err(ConfigError::Invalid(
                "alerts percentages must be above 0 and at most 100".into(),
            ));
        }
        if self.alerts.agent_silent_hours == 0 || self.alerts.sweep_interval_secs < 10 {
            return Err(ConfigError::Invalid(
                "alerts.agent_silent_hours must be at least 1 and alerts.sweep_interval_secs at least 10".into(),
            ));
        }
        if !(5..=3600).contains(&self.maintenance.interval_secs) {
            return Err(ConfigError::Invalid(
                "maintenance.interval_secs must be between 5 and 3600".into(),
            ));
        }
        crate::service_desk::Rules::from_config(&self.service_desk)
            .map_err(|e| ConfigError::Invalid(format!("[service_desk] {e}")))?;
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err(ConfigError::Invalid(
                "tls.cert and tls.key go together: set both or neither".into(),
            ));
        }
        self.smtp.validate()?;
        self.legacy_inventory.validate()?;
        self.attachments.validate()?;
        self.agent_releases.validate()?;
        Ok(())
    }

    /// The commented default configuration, as in `config/server.example.toml`.
    pub fn default_toml() -> &'static str {
        include_str!("../../../config/server.example.toml")
    }
}

/// Applies one environment variable: `STEWARD_DATA_DIR`, `STEWARD_LISTEN`, or
/// `STEWARD_<SECTION>__<KEY>`. Other variables are ignored.
fn apply_env(table: &mut toml::Table, key: &str, raw: &str) -> Result<(), ConfigError> {
    let (section, field) = match key {
        "STEWARD_DATA_DIR" => ("server".to_owned(), "data_dir".to_owned()),
        "STEWARD_LISTEN" => ("server".to_owned(), "listen".to_owned()),
        _ => match key
            .strip_prefix("STEWARD_")
            .and_then(|k| k.split_once("__"))
        {
            Some((s, f)) if !s.is_empty() && !f.is_empty() => (s.to_lowercase(), f.to_lowercase()),
            _ => return Ok(()),
        },
    };
    let value = parse_env_value(raw);
    let entry = table
        .entry(section.clone())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match entry {
        toml::Value::Table(t) => {
            t.insert(field, value);
            Ok(())
        }
        _ => Err(ConfigError::Invalid(format!(
            "{key}: [{section}] is not a section"
        ))),
    }
}

/// Environment values are TOML scalars when they parse as one (`true`, `42`), else strings.
fn parse_env_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match doc.parse::<toml::Table>() {
        Ok(mut t) => match t.remove("v") {
            Some(
                v @ (toml::Value::Boolean(_) | toml::Value::Integer(_) | toml::Value::Float(_)),
            ) => v,
            _ => toml::Value::String(raw.to_owned()),
        },
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn example_file_parses_to_defaults() {
        let table: toml::Table = ServerConfig::default_toml().parse().expect("toml");
        let parsed: ServerConfig = toml::Value::Table(table).try_into().expect("config");
        assert_eq!(parsed, ServerConfig::default());
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("s.toml");
        std::fs::write(
            &file,
            "[server]\nlisten = \"127.0.0.1:9000\"\n[auth]\nsession_ttl_hours = 2\n",
        )
        .expect("write");
        let cfg = ServerConfig::load(
            Some(&file),
            env(&[
                ("STEWARD_AUTH__SESSION_TTL_HOURS", "5"),
                ("STEWARD_AUTH__SECURE_COOKIES", "true"),
                ("STEWARD_DATA_DIR", "/tmp/x"),
                ("STEWARD_ADMIN_PASSWORD", "ignored"),
                ("HOME", "/root"),
            ]),
            &Overrides {
                listen: Some("127.0.0.1:9100".into()),
                data_dir: None,
            },
        )
        .expect("load");
        assert_eq!(cfg.server.listen, "127.0.0.1:9100");
        assert_eq!(cfg.auth.session_ttl_hours, 5);
        assert!(cfg.auth.secure_cookies);
        assert_eq!(cfg.server.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = ServerConfig::load(
            None,
            env(&[("STEWARD_SERVER__LISTNE", "x")]),
            &Overrides::default(),
        )
        .expect_err("unknown key");
        assert!(err.to_string().contains("listne"), "{err}");
    }

    #[test]
    fn smtp_password_stays_out_of_debug_and_comes_from_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("smtp-password");
        std::fs::write(&file, "from file\n").expect("write");
        let cfg = ServerConfig::load(
            None,
            env(&[
                ("STEWARD_SMTP__ENABLED", "true"),
                ("STEWARD_SMTP__HOST", "mail.example.test"),
                ("STEWARD_SMTP__FROM", "Steward <steward@example.test>"),
                ("STEWARD_SMTP__USERNAME", "steward"),
                ("STEWARD_SMTP__PASSWORD", "hunter2 secret"),
            ]),
            &Overrides::default(),
        )
        .expect("load");
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"));
        assert_eq!(
            cfg.smtp
                .password()
                .expect("password")
                .expect("set")
                .expose(),
            "hunter2 secret"
        );
        let from_file = SmtpSection {
            password: None,
            password_file: Some(file),
            ..cfg.smtp.clone()
        };
        assert_eq!(
            from_file.password().expect("read").expect("set").expose(),
            "from file"
        );
        let both = SmtpSection {
            password_file: Some(PathBuf::from("/x")),
            ..cfg.smtp
        };
        assert!(both.validate().is_err());
    }

    #[test]
    fn attachment_settings_are_checked() {
        let cfg = ServerConfig::load(
            None,
            env(&[("STEWARD_ATTACHMENTS__MAX_BYTES", "1024")]),
            &Overrides::default(),
        )
        .expect("load");
        assert_eq!(cfg.attachments.max_bytes, 1024);
        let mut bad = ServerConfig::default();
        bad.attachments.allowed_types.push("*/png".into());
        let err = bad.validate().expect_err("bad pattern");
        assert!(err.to_string().contains("allowed_types"), "{err}");
        bad.attachments = AttachmentsSection {
            max_bytes: 0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn bad_values_are_explained() {
        let err = ServerConfig::load(
            None,
            env(&[("STEWARD_LISTEN", "nowhere")]),
            &Overrides::default(),
        )
        .expect_err("bad listen");
        assert!(err.to_string().contains("127.0.0.1:8080"), "{err}");
    }
}
