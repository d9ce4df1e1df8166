//! Installed RPM packages, through `rpm -qa` (the database format is not stable enough
//! to read directly), with a timeout.

use crate::collect::command::{self, CommandError};
use std::path::Path;
use std::time::Duration;
use steward_shared::Software;

const QUERY_FORMAT: &str =
    "%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\t%{INSTALLTIME}\\n";
const TIMEOUT: Duration = Duration::from_secs(10);

/// Packages in the rpm database, when there is one and `rpm` is installed; an error when
/// `rpm` fails.
pub(super) fn installed() -> Result<Vec<Software>, CommandError> {
    if !Path::new("/var/lib/rpm").is_dir() {
        return Ok(Vec::new());
    }
    let Some(rpm) = command::find_on_path("rpm") else {
        return Ok(Vec::new());
    };
    let out = command::output_with_timeout(&rpm, &["-qa", "--queryformat", QUERY_FORMAT], TIMEOUT)?;
    Ok(parse(&String::from_utf8_lossy(&out)))
}

/// Parse `NAME\tVERSION-RELEASE\tARCH\tVENDOR\tINSTALLTIME` lines; `(none)` means empty.
pub(super) fn parse(text: &str) -> Vec<Software> {
    let none = |s: &str| {
        if s == "(none)" {
            String::new()
        } else {
            s.to_string()
        }
    };
    text.lines()
        .filter_map(|line| {
            let mut f = line.split('\t');
            let name = f.next().filter(|n| !n.is_empty())?;
            let version = f.next().unwrap_or_default();
            let arch = f.next().unwrap_or_default();
            let vendor = f.next().unwrap_or_default();
            let installed = f.next().unwrap_or_default();
            Some(Software {
                name: name.to_string(),
                version: version.to_string(),
                arch: none(arch),
                publisher: none(vendor),
                install_date: installed.trim().parse().unwrap_or(0),
                source: "rpm".to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_query_output() {
        let out = "bash\t5.2.26-3.fc40\tx86_64\tFedora Project\t1714000000\n\
                   gpg-pubkey\t18b8e74c-62f2920f\t(none)\t(none)\t1714000001\n\
                   \n";
        let sw = parse(out);
        assert_eq!(sw.len(), 2);
        assert_eq!(
            sw[0],
            Software {
                name: "bash".into(),
                version: "5.2.26-3.fc40".into(),
                arch: "x86_64".into(),
                publisher: "Fedora Project".into(),
                install_date: 1_714_000_000,
                source: "rpm".into(),
            }
        );
        assert_eq!(sw[1].arch, "");
        assert_eq!(sw[1].publisher, "");
    }
}
