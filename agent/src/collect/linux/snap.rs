//! Snap packages, through `snap list` (only where `snap` is installed, so that machines
//! without it pay nothing), with a timeout.

use crate::collect::command::{self, CommandError};
use std::time::Duration;
use steward_shared::Software;

const ARGS: &[&str] = &["list", "--unicode=never", "--color=never"];
const TIMEOUT: Duration = Duration::from_secs(10);

/// Installed snaps; none when snap is not installed, an error when snapd does not answer.
pub(super) fn installed() -> Result<Vec<Software>, CommandError> {
    let Some(snap) = command::find_on_path("snap") else {
        return Ok(Vec::new());
    };
    let out = command::output_with_timeout(&snap, ARGS, TIMEOUT)?;
    Ok(parse(&String::from_utf8_lossy(&out)))
}

/// Parse the table `Name Version Rev Tracking Publisher Notes`. No column holds
/// spaces, so fields are split on whitespace; lines whose third field is not a revision
/// (the header) are skipped. The publisher loses its marks (`**` or
/// `✓` verified, `*` or `✪` starred) and `-` (none, for a snap installed from a file)
/// becomes empty.
pub(super) fn parse(text: &str) -> Vec<Software> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [name, version, rev, _tracking, publisher, ..] = fields.as_slice() else {
                return None;
            };
            if !is_revision(rev) {
                return None; // the header, or a message
            }
            let publisher = publisher.trim_end_matches(['*', '✓', '✪']);
            Some(Software {
                name: name.to_string(),
                version: version.to_string(),
                arch: String::new(),
                publisher: if publisher == "-" {
                    String::new()
                } else {
                    publisher.to_string()
                },
                install_date: 0,
                source: "snap".to_string(),
            })
        })
        .collect()
}

/// A store revision (`4451`) or a local one (`x1`).
fn is_revision(rev: &str) -> bool {
    let digits = rev.strip_prefix('x').unwrap_or(rev);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_list_output() {
        let sw = parse(include_str!("fixtures/snap-list.txt"));
        assert_eq!(sw.len(), 10);
        assert_eq!(
            sw[0],
            Software {
                name: "bare".into(),
                version: "1.0".into(),
                arch: String::new(),
                publisher: "canonical".into(),
                install_date: 0,
                source: "snap".into(),
            }
        );
        let find = |n: &str| sw.iter().find(|s| s.name == n).cloned().unwrap_or_default();
        assert_eq!(find("firefox").version, "127.0.2-1");
        assert_eq!(find("firefox").publisher, "mozilla");
        assert_eq!(find("spotify").publisher, "spotify");
        assert_eq!(find("code").publisher, "vscode");
        assert_eq!(find("my-tool").publisher, "");
        assert_eq!(find("my-tool").version, "0.3");
        assert!(sw.iter().all(|s| s.name != "Name"));
    }

    #[test]
    fn unicode_marks_and_noise() {
        let sw = parse(
            "Name Version Rev Tracking Publisher Notes\nhello 2.10 42 latest/stable canonical✓ -\n",
        );
        assert_eq!(sw.len(), 1);
        assert_eq!(sw[0].publisher, "canonical");
        assert!(parse("").is_empty());
        assert!(parse("No snaps are installed yet.\n").is_empty());
    }
}
