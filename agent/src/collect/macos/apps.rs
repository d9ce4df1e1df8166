//! Parsing `system_profiler -json SPApplicationsDataType`: the application bundles
//! Spotlight knows, with version, architecture, signer and modification time.

use crate::collect::json::{self, date, get, items, text, texts};
use steward_shared::Software;

/// Applications, except those inside another bundle (helpers such as
/// `Teams.app/Contents/Helpers/WebView.app`, which come and go with their app). The
/// publisher is the Developer ID's name, or Apple for Apple's own apps; apps from the
/// App Store are signed by Apple for the developer and name no publisher. The install
/// date is the bundle's modification time, the closest macOS records.
pub(super) fn parse(out: &[u8]) -> Vec<Software> {
    let v = json::parse(out, "system_profiler SPApplicationsDataType");
    let apps = get(&v, "SPApplicationsDataType")
        .map(items)
        .unwrap_or_default();
    let mut list: Vec<Software> = apps
        .iter()
        .filter(|a| !text(a, "_name").is_empty() && !is_nested(&text(a, "path")))
        .map(|a| Software {
            name: text(a, "_name"),
            version: text(a, "version"),
            arch: arch(&text(a, "arch_kind")).to_string(),
            publisher: publisher(&texts(a, "signed_by"), &text(a, "obtained_from")),
            install_date: date(a, "lastModified").unwrap_or(0),
            source: "macos-app".to_string(),
        })
        .collect();
    list.sort();
    list.dedup();
    list
}

/// Whether a bundle path lies inside another bundle.
fn is_nested(path: &str) -> bool {
    path.trim_end_matches('/')
        .rsplit_once('/')
        .is_some_and(|(parent, _)| parent.contains(".app/") || parent.ends_with(".app"))
}

fn arch(kind: &str) -> &'static str {
    match kind {
        "arch_arm_i64" => "universal",
        "arch_arm" => "arm64",
        "arch_i64" => "x86_64",
        "arch_i32" => "i386",
        _ => "",
    }
}

/// "Developer ID Application: Microsoft Corporation (UBF8T346G9)" gives "Microsoft
/// Corporation".
fn publisher(signed_by: &[String], obtained_from: &str) -> String {
    let developer = signed_by
        .first()
        .and_then(|s| s.strip_prefix("Developer ID Application:"))
        .map(|s| {
            let s = s.trim();
            match s.rfind(" (") {
                Some(i) if s.ends_with(')') => s[..i].to_string(),
                _ => s.to_string(),
            }
        });
    match developer {
        Some(d) => d,
        None if obtained_from == "apple" => "Apple Inc.".to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applications() {
        let apps = parse(include_bytes!("fixtures/applications.json"));
        let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "Google Chrome",
                "Microsoft AutoUpdate",
                "Microsoft Teams",
                "OldTool",
                "Safari",
                "Slack",
                "Visual Studio Code",
                "Xcode",
                "Zoom.us",
            ]
        );
        assert_eq!(
            apps[2],
            Software {
                name: "Microsoft Teams".into(),
                version: "24152.405.2925.6762".into(),
                arch: "universal".into(),
                publisher: "Microsoft Corporation".into(),
                install_date: 1_718_350_265, // 2024-06-14T07:31:05Z
                source: "macos-app".into(),
            }
        );
        let find = |n: &str| {
            apps.iter()
                .find(|a| a.name == n)
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(find("Safari").publisher, "Apple Inc.");
        assert_eq!(find("Slack").publisher, "");
        assert_eq!(find("Zoom.us").publisher, "Zoom Video Communications, Inc.");
        assert_eq!(find("Zoom.us").version, "6.1.1 (36333)");
        assert_eq!(find("Visual Studio Code").arch, "arm64");
        assert_eq!(find("OldTool").arch, "x86_64");
        assert_eq!(find("OldTool").publisher, "");
    }

    #[test]
    fn nested_bundles() {
        assert!(is_nested(
            "/Applications/Teams.app/Contents/Helpers/WebView.app"
        ));
        assert!(is_nested("/Applications/Xcode.app/Simulator.app"));
        assert!(!is_nested("/Applications/Teams.app"));
        assert!(!is_nested(
            "/Library/Application Support/Microsoft/MAU2.0/Microsoft AutoUpdate.app"
        ));
        assert!(!is_nested(""));
    }

    #[test]
    fn bad_or_empty_output() {
        for out in [&b""[..], b"{", b"{\"SPApplicationsDataType\": null}", b"[]"] {
            assert!(parse(out).is_empty(), "{out:?}");
        }
    }
}
