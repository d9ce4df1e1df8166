//! The service desk's sections: business hours and SLA targets, mail, attachments.

use super::{ConfigError, Secret};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Service desk: business hours for SLA clocks, SLA targets, the priority matrix.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceDeskSection {
    /// IANA time zone of the business hours, e.g. "Europe/Berlin".
    pub timezone: String,
    /// Lines like "mon-fri 09:00-17:00"; empty means around the clock.
    pub business_hours: Vec<String>,
    /// Dates without business hours, "YYYY-MM-DD".
    pub holidays: Vec<String>,
    /// First-response target per priority, in business hours.
    pub first_response_hours: SlaHours,
    /// Resolution target per priority, in business hours.
    pub resolution_hours: SlaHours,
    /// SLA targets for tickets of one category (by category name), overriding the ones
    /// above for the priorities it lists.
    pub category_sla: BTreeMap<String, CategorySla>,
    /// Impact (rows: low, medium, high, critical) x urgency (columns, same order) ->
    /// priority name. Empty means the ITIL-style default.
    pub priority_matrix: Vec<Vec<String>>,
    /// Resolved tickets close by themselves after this many days.
    pub auto_close_days: u32,
    /// Requesters may reopen a closed ticket for this many days.
    pub reopen_days: u32,
    /// Move tickets that breach their SLA to this group (0: leave them where they are).
    pub escalate_to_group: u64,
}

/// Hours per priority; 0 means no target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SlaHours {
    pub critical: f64,
    pub high: f64,
    pub medium: f64,
    pub low: f64,
    pub planning: f64,
}

/// One category's SLA targets in business hours; a priority left out keeps the general
/// target.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CategorySla {
    pub first_response_hours: PartialSlaHours,
    pub resolution_hours: PartialSlaHours,
}

/// Hours for some priorities; 0 means no target.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PartialSlaHours {
    pub critical: Option<f64>,
    pub high: Option<f64>,
    pub medium: Option<f64>,
    pub low: Option<f64>,
    pub planning: Option<f64>,
}

impl Default for SlaHours {
    fn default() -> Self {
        Self {
            critical: 1.0,
            high: 4.0,
            medium: 8.0,
            low: 24.0,
            planning: 0.0,
        }
    }
}

impl Default for ServiceDeskSection {
    fn default() -> Self {
        Self {
            timezone: "UTC".into(),
            business_hours: vec!["mon-fri 09:00-17:00".into()],
            holidays: Vec::new(),
            first_response_hours: SlaHours::default(),
            category_sla: BTreeMap::new(),
            resolution_hours: SlaHours {
                critical: 4.0,
                high: 16.0,
                medium: 40.0,
                low: 80.0,
                planning: 0.0,
            },
            priority_matrix: Vec::new(),
            auto_close_days: 7,
            reopen_days: 14,
            escalate_to_group: 0,
        }
    }
}

/// Mail about tickets over SMTP (off by default).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSection {
    pub enabled: bool,
    /// The mail server (relay) to hand messages to.
    pub host: String,
    pub port: u16,
    /// How the connection is protected: "starttls" (port 587), "tls" (implicit TLS, port
    /// 465) or "none" (in the clear: only for a relay on the same machine or network).
    pub security: SmtpSecurity,
    /// PEM file of CA certificates to trust for the relay besides the system's (a relay
    /// with a certificate from a private CA).
    pub ca_file: Option<PathBuf>,
    /// Empty: no authentication.
    pub username: String,
    pub password: Option<Secret>,
    /// A file holding the password (instead of `password`), read when mail is sent.
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. "Steward <steward@example.com>".
    pub from: String,
    /// The server's address as users reach it, e.g. "https://steward.example.com";
    /// mails link to the ticket when set.
    pub public_url: String,
}

/// Transport security towards the SMTP relay.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required (submission, port 587).
    Starttls,
    /// TLS from the first byte (submissions, port 465).
    Tls,
    /// No encryption.
    None,
}

impl Default for SmtpSection {
    fn default() -> Self {
        Self {
            enabled: false,
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            ca_file: None,
            username: String::new(),
            password: None,
            password_file: None,
            from: String::new(),
            public_url: String::new(),
        }
    }
}

impl SmtpSection {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        let bad = |m: &str| Err(ConfigError::Invalid(format!("[smtp] {m}")));
        if self.host.trim().is_empty() {
            return bad("host is required when enabled = true");
        }
        if self.port == 0 {
            return bad("port must be a port number");
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return bad("from must be an address like \"Steward <steward@example.com>\"");
        }
        if self.ca_file.is_some() && self.security == SmtpSecurity::None {
            return bad("ca_file needs security = \"starttls\" or \"tls\"");
        }
        if self.password.is_some() && self.password_file.is_some() {
            return bad("set password or password_file, not both");
        }
        if (self.password.is_some() || self.password_file.is_some()) && self.username.is_empty() {
            return bad("a password needs a username");
        }
        let url = &self.public_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return bad("public_url must start with http:// or https://");
        }
        Ok(())
    }

    /// The password from `password` or `password_file` (trailing newline removed).
    pub fn password(&self) -> Result<Option<Secret>, ConfigError> {
        if let Some(p) = &self.password {
            return Ok(Some(p.clone()));
        }
        let Some(path) = &self.password_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Ok(Some(Secret(text.trim_end_matches(['\r', '\n']).to_owned())))
    }
}

/// Files attached to tickets (stored under `<data_dir>/attachments`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AttachmentsSection {
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Content types accepted: `type/subtype`, or a prefix ending in `*`. Empty: no uploads.
    pub allowed_types: Vec<String>,
}

impl Default for AttachmentsSection {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            allowed_types: [
                "image/png",
                "image/jpeg",
                "image/gif",
                "image/webp",
                "application/pdf",
                "text/plain",
                "text/csv",
                "application/zip",
                "application/vnd.openxmlformats-officedocument.*",
                "application/msword",
                "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint",
                "application/vnd.oasis.opendocument.*",
                "message/rfc822",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl AttachmentsSection {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_bytes == 0 {
            return Err(ConfigError::Invalid(
                "attachments.max_bytes must be at least 1".into(),
            ));
        }
        for t in &self.allowed_types {
            crate::domain::attachments::check_pattern(t)
                .map_err(|e| ConfigError::Invalid(format!("attachments.allowed_types: {e}")))?;
        }
        Ok(())
    }
}
