//! Failed systemd units, through `systemctl list-units --state=failed`, only where
//! systemd is running (in a container `systemctl` may be installed without it).

use crate::collect::command::{self, CommandError};
use std::path::Path;
use std::time::Duration;

const ARGS: &[&str] = &[
    "list-units",
    "--state=failed",
    "--no-legend",
    "--plain",
    "--no-pager",
    "--full",
];
pub(super) const TIMEOUT: Duration = Duration::from_secs(5);
/// Exists while systemd is the init system (what `sd_booted()` checks).
pub(super) const SYSTEMD_RUNNING: &str = "/run/systemd/system";

/// The failed units, sorted; none without systemd.
pub(super) fn failed(
    systemctl: Option<&Path>,
    systemd_running: bool,
) -> Result<Vec<String>, CommandError> {
    match systemctl {
        Some(systemctl) if systemd_running => {
            let out = command::output_with_timeout(systemctl, ARGS, TIMEOUT)?;
            Ok(parse(&String::from_utf8_lossy(&out)))
        }
        _ => Ok(Vec::new()),
    }
}

/// `UNIT LOAD ACTIVE SUB DESCRIPTION` lines; some versions put a `●` before a failed
/// unit even in plain output.
pub(super) fn parse(text: &str) -> Vec<String> {
    let mut units: Vec<String> = text
        .lines()
        .filter_map(|line| {
            line.split_whitespace()
                .find(|word| !matches!(*word, "●" | "*" | "×"))
        })
        .filter(|unit| unit.contains('.'))
        .map(str::to_string)
        .collect();
    units.sort();
    units.dedup();
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_failed_units() {
        let out = "\
● nginx.service          loaded failed failed A high performance web server
logrotate.service        loaded failed failed Rotate log files
\u{25cf} systemd-networkd-wait-online.service loaded failed failed Wait for Network
backup@home.timer loaded failed failed Nightly backup of /home

";
        assert_eq!(
            parse(out),
            [
                "backup@home.timer",
                "logrotate.service",
                "nginx.service",
                "systemd-networkd-wait-online.service",
            ]
        );
        assert!(parse("").is_empty());
        assert!(parse("0 loaded units listed.\n").is_empty());
    }

    #[test]
    #[cfg(unix)]
    fn only_where_systemd_runs() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let fake = dir.path().join("systemctl");
        std::fs::write(
            &fake,
            "#!/bin/sh\n[ \"$1 $2\" = 'list-units --state=failed' ] || exit 9\n\
             echo 'cups.service loaded failed failed CUPS Scheduler'\n",
        )
        .expect("write");
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(
            failed(Some(&fake), true).ok(),
            Some(vec!["cups.service".to_string()])
        );
        assert_eq!(failed(Some(&fake), false).ok(), Some(vec![]));
        assert_eq!(failed(None, true).ok(), Some(vec![]));
        let broken = Path::new("/nonexistent/systemctl");
        assert!(failed(Some(broken), true).is_err());
    }
}
