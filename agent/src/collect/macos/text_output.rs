//! Parsers for the macOS tools that print text rather than JSON: `sw_vers` (the OS
//! release), `ioreg -rd1 -c IOPlatformExpertDevice` (the platform UUID and serial
//! number) and `who` (who is logged in).

use steward_shared::OsInfo;

/// `ProductName:\tmacOS` lines; the name carries the version and build, as
/// `system_profiler` writes it: "macOS 14.5 (23F79)", version "14.5".
pub(super) fn parse_sw_vers(text: &str) -> OsInfo {
    let field = |key: &str| {
        text.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let (product, version, build) = (
        field("ProductName"),
        field("ProductVersion"),
        field("BuildVersion"),
    );
    let mut name = [product.as_str(), version.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if !build.is_empty() && !name.is_empty() {
        name = format!("{name} ({build})");
    }
    OsInfo {
        family: "macos".to_string(),
        name,
        version,
        ..OsInfo::default()
    }
}

/// A property of the I/O registry dump: `"KEY" = "value"` or `"KEY" = <"value">`
/// (data holding a C string). Empty when missing or not text.
pub(super) fn ioreg_property(text: &str, key: &str) -> String {
    let quoted = format!("\"{key}\"");
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(quoted.as_str()))
        .filter_map(|rest| rest.trim_start().strip_prefix('='))
        .map(str::trim)
        .find_map(|v| {
            let v = v
                .strip_prefix('<')
                .and_then(|v| v.strip_suffix('>'))
                .unwrap_or(v);
            let inner = v.strip_prefix('"')?;
            let end = inner.find('"')?;
            Some(inner[..end].trim().to_string())
        })
        .unwrap_or_default()
}

/// The users of `who`'s lines (first column), sorted and without duplicates.
pub(super) fn parse_who(text: &str) -> Vec<String> {
    let mut users: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    users.sort();
    users.dedup();
    users
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sw_vers() {
        let os = parse_sw_vers(include_str!("fixtures/sw_vers.txt"));
        assert_eq!(os.family, "macos");
        assert_eq!(os.name, "macOS 14.5 (23F79)");
        assert_eq!(os.version, "14.5");
        let os = parse_sw_vers("ProductName: Mac OS X\nProductVersion: 10.15.7\n");
        assert_eq!(os.name, "Mac OS X 10.15.7");
        assert_eq!(parse_sw_vers("").name, "");
    }

    #[test]
    fn ioreg() {
        let text = include_str!("fixtures/ioreg.txt");
        assert_eq!(
            ioreg_property(text, "IOPlatformUUID"),
            "8E3C0A7B-52F1-5D6A-9B4C-1E2F3A4B5C6D"
        );
        assert_eq!(ioreg_property(text, "IOPlatformSerialNumber"), "H4V7QX9K2L");
        assert_eq!(ioreg_property(text, "manufacturer"), "Apple Inc.");
        assert_eq!(ioreg_property(text, "model"), "Mac14,9");
        // Binary data and missing keys are empty.
        assert_eq!(ioreg_property(text, "serial-number"), "");
        assert_eq!(ioreg_property(text, "board-id"), "");
        assert_eq!(ioreg_property("", "IOPlatformUUID"), "");
    }

    #[test]
    fn who() {
        assert_eq!(
            parse_who(include_str!("fixtures/who.txt")),
            vec!["admin", "anna"]
        );
        assert!(parse_who("\n").is_empty());
    }
}
