//! Flatpak applications and runtimes, through `flatpak list` (only where `flatpak` is
//! installed, so that machines without it pay nothing), with a timeout.

use crate::collect::command::{self, CommandError};
use std::time::Duration;
use steward_shared::Software;

/// The columns asked for, in this order; without a terminal flatpak prints them
/// tab-separated and without a header.
const ARGS: &[&str] = &[
    "list",
    "--columns=application,version,arch,origin,installation",
];
const TIMEOUT: Duration = Duration::from_secs(10);

/// Installed flatpaks, system-wide and this user's; none when flatpak is not installed.
pub(super) fn installed() -> Result<Vec<Software>, CommandError> {
    let Some(flatpak) = command::find_on_path("flatpak") else {
        return Ok(Vec::new());
    };
    let out = command::output_with_timeout(&flatpak, ARGS, TIMEOUT)?;
    Ok(parse(&String::from_utf8_lossy(&out)))
}

/// Parse `APPLICATION\tVERSION\tARCH\tORIGIN\tINSTALLATION` lines. The version is often
/// empty (runtimes and extensions rarely declare one). The origin remote ("flathub")
/// is the closest flatpak has to a publisher. A header line, should one be printed, is
/// skipped.
pub(super) fn parse(text: &str) -> Vec<Software> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split('\t').map(str::trim);
            let application = f.next().filter(|a| !a.is_empty())?;
            if application.eq_ignore_ascii_case("Application ID")
                || application.eq_ignore_ascii_case("Application")
            {
                return None;
            }
            let version = f.next().unwrap_or_default();
            let arch = f.next().unwrap_or_default();
            let origin = f.next().unwrap_or_default();
            Some(Software {
                name: application.to_string(),
                version: version.to_string(),
                arch: arch.to_string(),
                publisher: origin.to_string(),
                install_date: 0,
                source: "flatpak".to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_list_output() {
        let sw = parse(include_str!("fixtures/flatpak-list.txt"));
        assert_eq!(sw.len(), 9);
        assert_eq!(
            sw[0],
            Software {
                name: "org.mozilla.firefox".into(),
                version: "127.0.2".into(),
                arch: "x86_64".into(),
                publisher: "flathub".into(),
                install_date: 0,
                source: "flatpak".into(),
            }
        );
        let gnome = sw.iter().find(|s| s.name == "org.gnome.Platform");
        assert_eq!(gnome.map(|s| s.version.as_str()), Some(""));
        let code = sw.iter().find(|s| s.name == "com.visualstudio.code");
        assert_eq!(code.map(|s| s.version.as_str()), Some("1.90.2-1718751586"));
        assert!(
            sw.iter()
                .all(|s| s.source == "flatpak" && s.arch == "x86_64")
        );
    }

    #[test]
    fn header_blank_and_short_lines() {
        let sw = parse("Application ID\tVersion\tArch\tOrigin\tInstallation\n\norg.x.App\n");
        assert_eq!(sw.len(), 1);
        assert_eq!(sw[0].name, "org.x.App");
        assert_eq!(sw[0].version, "");
        assert!(parse("").is_empty());
    }
}
