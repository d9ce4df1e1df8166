//! Agent configuration in layers: defaults, then a TOML file, then `STEWARD_AGENT_<KEY>`
//! environment variables; checked as soon as it is loaded.

use crate::schedule::Schedule;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Prefix of the environment variables that override config keys.
pub const ENV_PREFIX: &str = "STEWARD_AGENT_";

/// Smallest allowed `spool_max_bytes`.
const MIN_SPOOL_BYTES: u64 = 1024 * 1024;

/// The example file, which is also what `print-default-config` prints.
const DEFAULT_TOML: &str = include_str!("../../config/agent.example.toml");

/// Everything the agent can be configured with. See `config/agent.example.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// Base URL of the Steward server; empty means "the one this agent enrolled with".
    pub server_url: String,
    /// When to collect and check in (crontab syntax, evaluated in UTC).
    pub schedule: String,
    /// Random delay of up to this many seconds after each scheduled time.
    pub jitter_secs: u64,
    /// Timeout of one HTTP request to the server.
    pub request_timeout_secs: u64,
    /// PEM file with the CA certificate(s) to trust instead of the system's roots.
    pub ca_cert: Option<PathBuf>,
    /// Allow plain `http://` to a host other than localhost.
    pub allow_insecure_http: bool,
    /// Include installed software in the inventory.
    pub collect_software: bool,
    /// Log filter (`error`, `warn`, `info`, `debug`, `trace` or a tracing directive).
    pub log_level: String,
    /// Most bytes of reports kept on disk while the server cannot be reached.
    pub spool_max_bytes: u64,
    /// Oldest report kept on disk while the server cannot be reached, in hours.
    pub spool_max_age_hours: u64,
    /// The dpkg status file to read instead of `/var/lib/dpkg/status` (for tests and
    /// chroots).
    pub dpkg_status_path: Option<PathBuf>,
    /// Signed self-update (`[update]`): off unless release keys are configured.
    pub update: crate::update::UpdateConfig,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            server_url: String::new(),
            schedule: "*/30 * * * *".to_string(),
            jitter_secs: 60,
            request_timeout_secs: 30,
            ca_cert: None,
            allow_insecure_http: false,
            collect_software: true,
            log_level: "info".to_string(),
            spool_max_bytes: 50 * 1024 * 1024,
            spool_max_age_hours: 168,
            dpkg_status_path: None,
            update: crate::update::UpdateConfig::default(),
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("config key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl AgentConfig {
    /// Defaults, then the TOML file at `path` (which must exist when given), then the
    /// process environment; validated.
    pub fn load(path: Option<&Path>) -> Result<AgentConfig, ConfigError> {
        Self::load_with_env(path, std::env::vars_os())
    }

    /// [`AgentConfig::load`] with the environment passed in (for tests and embedders).
    pub fn load_with_env<I>(path: Option<&Path>, env: I) -> Result<AgentConfig, ConfigError>
    where
        I: IntoIterator<Item = (OsString, OsString)>,
    {
        let mut config = match path {
            Some(path) => Self::from_file(path)?,
            None => AgentConfig::default(),
        };
        config.apply_env(env)?;
        config.validate()?;
        Ok(config)
    }

    /// Parse a TOML file (missing keys take their defaults; unknown keys are an error).
    fn from_file(path: &Path) -> Result<AgentConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// Override keys from `STEWARD_AGENT_<KEY>` variables. Other variables with that
    /// prefix (such as `STEWARD_AGENT_CONFIG` and `STEWARD_AGENT_STATE_DIR`) are ignored.
    fn apply_env<I>(&mut self, env: I) -> Result<(), ConfigError>
    where
        I: IntoIterator<Item = (OsString, OsString)>,
    {
        for (name, value) in env {
            let Some(key) = name.to_str().and_then(|n| n.strip_prefix(ENV_PREFIX)) else {
                continue;
            };
            let var = format!("{ENV_PREFIX}{key}");
            let err = |message: String| ConfigError::Env {
                var: var.clone(),
                message,
            };
            let Some(value) = value.to_str() else {
                return Err(err("value is not valid UTF-8".to_string()));
            };
            match key.to_ascii_lowercase().as_str() {
                "server_url" => self.server_url = value.to_string(),
                "schedule" => self.schedule = value.to_string(),
                "jitter_secs" => self.jitter_secs = parse_u64(value).map_err(err)?,
                "request_timeout_secs" => {
                    self.request_timeout_secs = parse_u64(value).map_err(err)?
                }
                "ca_cert" => {
                    self.ca_cert = (!value.is_empty()).then(|| PathBuf::from(value));
                }
                "allow_insecure_http" => {
                    self.allow_insecure_http = parse_bool(value).map_err(err)?
                }
                "collect_software" => self.collect_software = parse_bool(value).map_err(err)?,
                "log_level" => self.log_level = value.to_string(),
                "spool_max_bytes" => self.spool_max_bytes = parse_u64(value).map_err(err)?,
                "spool_max_age_hours" => {
                    self.spool_max_age_hours = parse_u64(value).map_err(err)?
                }
                "dpkg_status_path" => {
                    self.dpkg_status_path = (!value.is_empty()).then(|| PathBuf::from(value));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Check every key; the schedule is parsed here, not when it first fires.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Schedule::parse(&self.schedule).map_err(|e| ConfigError::Invalid {
            key: "schedule",
            message: e.to_string(),
        })?;
        if !self.server_url.is_empty() {
            check_server_url(&self.server_url, self.allow_insecure_http).map_err(|message| {
                ConfigError::Invalid {
                    key: "server_url",
                    message,
                }
            })?;
        }
        if self.request_timeout_secs == 0 {
            return Err(ConfigError::Invalid {
                key: "request_timeout_secs",
                message: "must be at least 1".to_string(),
            });
        }
        if let Some(ca) = &self.ca_cert
            && !ca.is_file()
        {
            return Err(ConfigError::Invalid {
                key: "ca_cert",
                message: format!("{} is not a readable file", ca.display()),
            });
        }
        if self.spool_max_bytes < MIN_SPOOL_BYTES {
            return Err(ConfigError::Invalid {
                key: "spool_max_bytes",
                message: format!(
                    "must be at least {MIN_SPOOL_BYTES} (1 MiB): a full report of a machine \
                     with thousands of packages is several hundred KB"
                ),
            });
        }
        if self.spool_max_age_hours == 0 {
            return Err(ConfigError::Invalid {
                key: "spool_max_age_hours",
                message: "must be at least 1".to_string(),
            });
        }
        if let Some(path) = &self.dpkg_status_path
            && !path.is_file()
        {
            return Err(ConfigError::Invalid {
                key: "dpkg_status_path",
                message: format!("{} is not a readable file", path.display()),
            });
        }
        self.update.validate()?;
        tracing_subscriber::EnvFilter::try_new(&self.log_level).map_err(|e| {
            ConfigError::Invalid {
                key: "log_level",
                message: format!("{e} (try \"info\")"),
            }
        })?;
        Ok(())
    }

    /// A commented TOML file listing every key with its default.
    pub fn default_toml() -> String {
        DEFAULT_TOML.to_string()
    }
}

/// Check a server URL: http(s) with a host; plain http only to a loopback host unless
/// `allow_insecure_http`. The message says what to do.
pub fn check_server_url(url: &str, allow_insecure_http: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        format!("{url:?} is not a URL ({e}); expected e.g. https://steward.example.com")
    })?;
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err(format!("{url:?} has no host"));
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(host) => Ok(()),
        "http" => Err(format!(
            "{url:?} uses plain http to a remote host, which would send the agent's secret \
             unencrypted; use https, or set allow_insecure_http = true if you really mean it"
        )),
        other => Err(format!(
            "{url:?}: scheme {other:?} is not supported; use https"
        )),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn parse_u64(value: &str) -> Result<u64, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a whole number"))
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{value:?} is not a boolean (use true or false)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    #[test]
    fn example_file_is_the_default() {
        let parsed: AgentConfig = toml::from_str(include_str!("../../config/agent.example.toml"))
            .expect("example parses");
        assert_eq!(parsed, AgentConfig::default());
        assert_eq!(AgentConfig::default_toml(), DEFAULT_TOML);
        AgentConfig::default()
            .validate()
            .expect("defaults are valid");
    }

    #[test]
    fn example_file_lists_every_key() {
        let all = AgentConfig {
            ca_cert: Some(PathBuf::from("/x")),
            dpkg_status_path: Some(PathBuf::from("/x")),
            ..AgentConfig::default()
        };
        let keys = toml::to_string(&all).expect("serializes");
        for line in keys
            .lines()
            .filter(|l| !l.starts_with('[') && !l.is_empty())
        {
            let key = line.split(" =").next().unwrap_or_default();
            assert!(
                DEFAULT_TOML.contains(&format!("{key} =")),
                "{key} missing from example"
            );
        }
    }

    #[test]
    fn file_then_env_overlay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.toml");
        std::fs::write(
            &path,
            "server_url = \"https://s.example\"\njitter_secs = 5\n",
        )
        .expect("write");
        let c = AgentConfig::load_with_env(
            Some(&path),
            env(&[
                ("STEWARD_AGENT_SCHEDULE", "0 * * * *"),
                ("STEWARD_AGENT_COLLECT_SOFTWARE", "false"),
                ("STEWARD_AGENT_CONFIG", "/ignored"),
                ("STEWARD_AGENT_STATE_DIR", "/ignored"),
                ("OTHER", "x"),
            ]),
        )
        .expect("loads");
        assert_eq!(c.server_url, "https://s.example");
        assert_eq!(c.jitter_secs, 5);
        assert_eq!(c.schedule, "0 * * * *");
        assert!(!c.collect_software);
        assert_eq!(c.request_timeout_secs, 30);

        let c = AgentConfig::load_with_env(
            Some(&path),
            env(&[("STEWARD_AGENT_SERVER_URL", "http://127.0.0.1:8080")]),
        )
        .expect("env wins over the file");
        assert_eq!(c.server_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn bad_values_are_reported_with_their_source() {
        let e = AgentConfig::load_with_env(None, env(&[("STEWARD_AGENT_JITTER_SECS", "soon")]))
            .expect_err("rejected");
        assert!(e.to_string().contains("STEWARD_AGENT_JITTER_SECS"), "{e}");

        let e = AgentConfig::load_with_env(None, env(&[("STEWARD_AGENT_SCHEDULE", "hourly")]))
            .expect_err("rejected");
        assert!(
            matches!(
                e,
                ConfigError::Invalid {
                    key: "schedule",
                    ..
                }
            ),
            "{e}"
        );

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.toml");
        std::fs::write(&path, "sever_url = \"https://x\"\n").expect("write");
        let e = AgentConfig::load_with_env(Some(&path), env(&[])).expect_err("unknown key");
        assert!(matches!(e, ConfigError::Parse { .. }), "{e}");
        assert!(e.to_string().contains("sever_url"), "{e}");

        let missing = dir.path().join("nope.toml");
        let e = AgentConfig::load_with_env(Some(&missing), env(&[])).expect_err("missing");
        assert!(matches!(e, ConfigError::Read { .. }), "{e}");
    }

    #[test]
    fn spool_and_dpkg_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = dir.path().join("status");
        std::fs::write(
            &status,
            "Package: only-this\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n",
        )
        .expect("write");
        let c = AgentConfig::load_with_env(
            None,
            env(&[
                ("STEWARD_AGENT_SPOOL_MAX_BYTES", "2097152"),
                ("STEWARD_AGENT_SPOOL_MAX_AGE_HOURS", "24"),
                (
                    "STEWARD_AGENT_DPKG_STATUS_PATH",
                    status.to_str().expect("utf-8"),
                ),
            ]),
        )
        .expect("loads");
        assert_eq!((c.spool_max_bytes, c.spool_max_age_hours), (2 << 20, 24));
        let limits = crate::report::SpoolLimits::from(&c);
        assert_eq!(
            (limits.max_bytes, limits.max_age_secs),
            (2 << 20, 24 * 3600)
        );
        let options = crate::collect::CollectOptions::from(&c);
        assert_eq!(options.dpkg_status.as_deref(), Some(status.as_path()));
        #[cfg(target_os = "linux")]
        {
            let inv = crate::collect::collect_inventory(&options);
            let dpkg: Vec<_> = inv
                .software
                .iter()
                .filter(|s| s.source == "dpkg")
                .map(|s| s.name.as_str())
                .collect();
            assert_eq!(dpkg, ["only-this"]);
        }

        for (var, value) in [
            ("STEWARD_AGENT_SPOOL_MAX_BYTES", "1000"),
            ("STEWARD_AGENT_SPOOL_MAX_AGE_HOURS", "0"),
            ("STEWARD_AGENT_DPKG_STATUS_PATH", "/nonexistent/status"),
        ] {
            let e = AgentConfig::load_with_env(None, env(&[(var, value)])).expect_err(var);
            assert!(matches!(e, ConfigError::Invalid { .. }), "{e}");
        }
    }

    #[test]
    fn server_url_rules() {
        assert!(check_server_url("https://steward.example.com", false).is_ok());
        assert!(check_server_url("http://127.0.0.1:8080", false).is_ok());
        assert!(check_server_url("http://localhost:8080/", false).is_ok());
        assert!(check_server_url("http://[::1]:8080", false).is_ok());
        let e = check_server_url("http://steward.example.com", false).expect_err("insecure");
        assert!(e.contains("allow_insecure_http"), "{e}");
        assert!(check_server_url("http://steward.example.com", true).is_ok());
        assert!(check_server_url("ftp://steward.example.com", true).is_err());
        assert!(check_server_url("steward.example.com", true).is_err());

        let c = AgentConfig {
            server_url: "http://10.0.0.1".into(),
            ..AgentConfig::default()
        };
        assert!(c.validate().is_err());
        let c = AgentConfig {
            allow_insecure_http: true,
            ..c
        };
        assert!(c.validate().is_ok());
    }
}
