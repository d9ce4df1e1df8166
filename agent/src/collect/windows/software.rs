//! Parsing installed software on Windows: entries of the registry's Uninstall keys (see
//! [`super::scripts::MACHINE_SOFTWARE`] and [`super::scripts::USER_SOFTWARE`]) and AppX
//! packages ([`super::scripts::APPX`]).

use crate::collect::json::{self, flag, get, items, text};
use serde_json::Value;
use steward_shared::Software;

/// Programs from Uninstall keys, as "Programs and Features" lists them: entries without
/// a `DisplayName`, hidden ones (`SystemComponent` = 1) and updates of another product
/// (with a `ParentKeyName`, or a `ReleaseType` such as "Security Update") are skipped.
/// Entries from the 32-bit view (`WOW6432Node`) get the arch "x86"; the registry does
/// not say more. Identical entries (the same program installed for two users) are
/// listed once.
pub(super) fn parse_uninstall(out: &[u8], source: &str) -> Vec<Software> {
    let v = json::parse(out, "Uninstall keys");
    let mut list: Vec<Software> = items(&v)
        .iter()
        .filter(|e| is_listed(e))
        .map(|e| Software {
            name: text(e, "DisplayName"),
            version: text(e, "DisplayVersion"),
            arch: if text(e, "PSPath")
                .to_ascii_lowercase()
                .contains("\\wow6432node\\")
            {
                "x86".to_string()
            } else {
                String::new()
            },
            publisher: text(e, "Publisher"),
            install_date: json::yyyymmdd(&text(e, "InstallDate")).unwrap_or(0),
            source: source.to_string(),
        })
        .collect();
    list.sort();
    list.dedup();
    list
}

const UPDATE_RELEASE_TYPES: &[&str] = &["update", "hotfix", "security update", "service pack"];

fn is_listed(entry: &Value) -> bool {
    !text(entry, "DisplayName").is_empty()
        && !flag(entry, "SystemComponent")
        && text(entry, "ParentKeyName").is_empty()
        && !UPDATE_RELEASE_TYPES.contains(&text(entry, "ReleaseType").to_ascii_lowercase().as_str())
}

/// AppX/MSIX packages (apps and the frameworks they use; language and scale resource
/// packages are skipped). The publisher is the organisation (`O=`) of the signing
/// certificate's subject, else its common name.
pub(super) fn parse_appx(out: &[u8]) -> Vec<Software> {
    let v = json::parse(out, "AppX packages");
    let mut list: Vec<Software> = items(&v)
        .iter()
        .filter(|p| !text(p, "Name").is_empty() && !flag(p, "IsResourcePackage"))
        .map(|p| Software {
            name: text(p, "Name"),
            version: text(p, "Version"),
            arch: get(p, "Architecture").map(appx_arch).unwrap_or_default(),
            publisher: publisher_from_subject(&text(p, "Publisher")),
            install_date: 0,
            source: "appx".to_string(),
        })
        .collect();
    list.sort();
    list.dedup();
    list
}

/// `ProcessorArchitecture` by name ("X64") or, where PowerShell printed the enum as a
/// number, by value; lower-case.
fn appx_arch(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_ascii_lowercase(),
        Value::Number(n) => match n.as_u64() {
            Some(0) => "x86",
            Some(5) => "arm",
            Some(9) => "x64",
            Some(11) => "neutral",
            Some(12) => "arm64",
            Some(14) => "x86a64",
            _ => "",
        }
        .to_string(),
        _ => String::new(),
    }
}

/// The `O=` of a distinguished name such as `CN=Microsoft Corporation, O=Microsoft
/// Corporation, L=Redmond, S=Washington, C=US`, else its `CN=`, else the whole text.
/// Values may be quoted (`O="Dell Technologies, Inc."`).
fn publisher_from_subject(subject: &str) -> String {
    let mut parts: Vec<(String, String)> = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in subject.chars().chain(std::iter::once(',')) {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                if let Some((k, v)) = current.split_once('=') {
                    parts.push((k.trim().to_ascii_uppercase(), v.trim().to_string()));
                }
                current.clear();
            }
            c => current.push(c),
        }
    }
    let find = |key: &str| parts.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    find("O")
        .or_else(|| find("CN"))
        .unwrap_or_else(|| subject.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(list: &'a [Software], name: &str) -> &'a Software {
        list.iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} not in {list:#?}"))
    }

    #[test]
    fn machine_programs() {
        let sw = parse_uninstall(
            include_bytes!("fixtures/uninstall-machine.json"),
            "registry",
        );
        assert_eq!(sw.len(), 13, "{sw:#?}");
        assert!(
            sw.iter()
                .all(|s| s.source == "registry" && !s.name.is_empty())
        );
        assert_eq!(
            find(&sw, "Git"),
            &Software {
                name: "Git".into(),
                version: "2.45.2".into(),
                arch: String::new(),
                publisher: "The Git Development Community".into(),
                install_date: 1_720_137_600, // 2024-07-05
                source: "registry".into(),
            }
        );
        // From WOW6432Node: a 32-bit program.
        let edge = find(&sw, "Microsoft Edge");
        assert_eq!(
            (edge.version.as_str(), edge.arch.as_str()),
            ("126.0.2592.68", "x86")
        );
        assert_eq!(edge.install_date, 1_718_841_600); // 2024-06-20
        // Trailing blanks trimmed; no InstallDate is 0; a numeric InstallDate still works.
        assert_eq!(
            find(&sw, "Cisco AnyConnect Secure Mobility Client").arch,
            "x86"
        );
        assert_eq!(find(&sw, "7-Zip 23.01 (x64)").install_date, 0);
        assert_eq!(
            find(&sw, "Java 8 Update 411 (64-bit)").install_date,
            1_713_398_400
        );
        // Escaped non-ASCII comes back as it was.
        assert_eq!(
            find(&sw, "Reiner SCT cyberJack® Base Components").publisher,
            "REINER SCT"
        );
        // Hidden components, updates and keys without a name are not programs.
        for skipped in [
            "Microsoft Visual C++ 2022 X86 Minimum Runtime - 14.38.33135",
            "Office 16 Click-to-Run Extensibility Component",
            "Security Update for Microsoft Office 2016 (KB5002138) 64-Bit Edition",
        ] {
            assert!(sw.iter().all(|s| s.name != skipped), "{skipped}");
        }
        assert!(sw.iter().all(|s| !s.name.starts_with("Zoom")));
    }

    #[test]
    fn user_programs() {
        let sw = parse_uninstall(
            include_bytes!("fixtures/uninstall-user.json"),
            "registry-user",
        );
        // Zoom is installed for two users: listed once.
        assert_eq!(sw.len(), 5, "{sw:#?}");
        let zoom = find(&sw, "Zoom Workplace");
        assert_eq!(zoom.version, "6.1.1 (36333)");
        assert_eq!(zoom.publisher, "Zoom Video Communications, Inc.");
        assert_eq!(zoom.source, "registry-user");
        assert_eq!(find(&sw, "Microsoft Teams classic").version, "1.7.00.13456");
    }

    #[test]
    fn a_single_entry_is_a_bare_object() {
        let sw = parse_uninstall(
            include_bytes!("fixtures/uninstall-user-single.json"),
            "registry-user",
        );
        assert_eq!(
            sw,
            vec![Software {
                name: "Microsoft Visual Studio Code (User)".into(),
                version: "1.90.2".into(),
                arch: String::new(),
                publisher: "Microsoft Corporation".into(),
                install_date: 1_718_236_800, // 2024-06-13
                source: "registry-user".into(),
            }]
        );
    }

    #[test]
    fn appx_packages() {
        let sw = parse_appx(include_bytes!("fixtures/appx.json"));
        assert_eq!(sw.len(), 8, "{sw:#?}");
        assert!(sw.iter().all(|s| s.source == "appx"));
        let calc = find(&sw, "Microsoft.WindowsCalculator");
        assert_eq!(calc.version, "11.2405.2.0");
        assert_eq!(calc.arch, "x64");
        assert_eq!(calc.publisher, "Microsoft Corporation");
        // The architecture printed as the enum's number.
        assert_eq!(find(&sw, "Microsoft.DesktopAppInstaller").arch, "x64");
        assert_eq!(find(&sw, "Microsoft.VCLibs.140.00.UWPDesktop").arch, "x86");
        assert_eq!(
            find(&sw, "Dell.CommandUpdate").publisher,
            "Dell Technologies, Inc."
        );
        assert_eq!(
            find(&sw, "SpotifyAB.SpotifyMusic").publisher,
            "453637B3-4E12-4CDF-B0D3-2A3C863BF6EF"
        );
        assert!(
            sw.iter()
                .all(|s| !s.name.starts_with("Microsoft.LanguageExperiencePack"))
        );
    }

    #[test]
    fn bad_or_empty_output_is_no_software() {
        for out in [&b""[..], b"null", b"[", b"\"text\"", b"[1, 2]", b"{}"] {
            assert!(parse_uninstall(out, "registry").is_empty(), "{out:?}");
            assert!(parse_appx(out).is_empty(), "{out:?}");
        }
    }

    #[test]
    fn publishers_from_subjects() {
        assert_eq!(publisher_from_subject("CN=Foo"), "Foo");
        assert_eq!(publisher_from_subject("Plain Name"), "Plain Name");
        assert_eq!(publisher_from_subject("cn=A, o=\"B, Inc.\""), "B, Inc.");
        assert_eq!(publisher_from_subject(""), "");
    }
}
