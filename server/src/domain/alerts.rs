//! Which alerts a machine's health raises, given the thresholds in server config.

use steward_shared::Health;

/// Thresholds from the `[alerts]` config section.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub disk_used_percent: f64,
    pub memory_used_percent: f64,
}

/// A condition that should have an open alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub kind: &'static str,
    /// Tells apart alerts of one kind on one asset (e.g. the mount point).
    pub key: String,
    pub severity: &'static str,
    pub message: String,
}

/// Kinds this module decides; others (agent silence) are raised elsewhere.
pub const HEALTH_KINDS: [&str; 5] = [
    "disk_full",
    "memory_full",
    "failed_services",
    "pending_reboot",
    "overheating",
];

/// The conditions `h` shows.
pub fn evaluate(h: &Health, t: &Thresholds) -> Vec<Condition> {
    let mut out = Vec::new();
    for fs in &h.filesystems {
        let pct = fs.used_percent();
        if fs.total_bytes > 0 && pct >= t.disk_used_percent {
            let severity = if pct >= 98.0 { "critical" } else { "warning" };
            out.push(Condition {
                kind: "disk_full",
                key: fs.mount_point.clone(),
                severity,
                message: format!("{} is {:.0}% full", fs.mount_point, pct),
            });
        }
    }
    if h.memory_total_bytes > 0 {
        let pct = h.memory_used_bytes as f64 * 100.0 / h.memory_total_bytes as f64;
        if pct >= t.memory_used_percent {
            out.push(Condition {
                kind: "memory_full",
                key: String::new(),
                severity: "warning",
                message: format!("memory is {pct:.0}% used"),
            });
        }
    }
    if !h.failed_services.is_empty() {
        let mut names = h.failed_services.clone();
        names.sort();
        let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
        let more = names.len().saturating_sub(shown.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        out.push(Condition {
            kind: "failed_services",
            key: String::new(),
            severity: "warning",
            message: format!("failed services: {}{tail}", shown.join(", ")),
        });
    }
    if h.pending_reboot == Some(true) {
        out.push(Condition {
            kind: "pending_reboot",
            key: String::new(),
            severity: "warning",
            message: "a reboot is needed to finish installing updates".into(),
        });
    }
    for s in &h.temperatures {
        if let Some(crit) = s
            .critical_celsius
            .filter(|c| *c > 0.0 && s.celsius >= *c - 5.0)
        {
            out.push(Condition {
                kind: "overheating",
                key: s.label.clone(),
                severity: if s.celsius >= crit {
                    "critical"
                } else {
                    "warning"
                },
                message: format!(
                    "{} at {:.0} °C (critical {:.0} °C)",
                    s.label, s.celsius, crit
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_shared::{FsUsage, Temperature};

    fn t() -> Thresholds {
        Thresholds {
            disk_used_percent: 90.0,
            memory_used_percent: 95.0,
        }
    }

    #[test]
    fn healthy_machine_raises_nothing() {
        let h = Health {
            memory_total_bytes: 100,
            memory_used_bytes: 50,
            filesystems: vec![FsUsage {
                mount_point: "/".into(),
                total_bytes: 100,
                used_bytes: 50,
                available_bytes: Some(50),
            }],
            pending_reboot: Some(false),
            ..Default::default()
        };
        assert!(evaluate(&h, &t()).is_empty());
    }

    #[test]
    fn each_condition_is_raised() {
        let h = Health {
            memory_total_bytes: 100,
            memory_used_bytes: 99,
            filesystems: vec![
                FsUsage {
                    mount_point: "/".into(),
                    total_bytes: 100,
                    used_bytes: 91,
                    available_bytes: Some(9),
                },
                FsUsage {
                    mount_point: "/home".into(),
                    total_bytes: 100,
                    used_bytes: 99,
                    available_bytes: Some(0),
                },
                FsUsage {
                    mount_point: "/boot".into(),
                    total_bytes: 100,
                    used_bytes: 10,
                    available_bytes: Some(90),
                },
            ],
            failed_services: vec!["b.service".into(), "a.service".into()],
            pending_reboot: Some(true),
            temperatures: vec![
                Temperature {
                    label: "Package id 0".into(),
                    celsius: 99.0,
                    critical_celsius: Some(100.0),
                },
                Temperature {
                    label: "nvme".into(),
                    celsius: 40.0,
                    critical_celsius: Some(84.0),
                },
            ],
            ..Default::default()
        };
        let c = evaluate(&h, &t());
        let kinds: Vec<(&str, &str, &str)> = c
            .iter()
            .map(|c| (c.kind, c.key.as_str(), c.severity))
            .collect();
        assert_eq!(
            kinds,
            [
                ("disk_full", "/", "warning"),
                ("disk_full", "/home", "critical"),
                ("memory_full", "", "warning"),
                ("failed_services", "", "warning"),
                ("pending_reboot", "", "warning"),
                ("overheating", "Package id 0", "warning"),
            ]
        );
        assert_eq!(c[3].message, "failed services: a.service, b.service");
        for cond in &c {
            assert!(HEALTH_KINDS.contains(&cond.kind));
        }
    }
}
