//! SMBIOS values (from `/sys/class/dmi/id`, WMI or the macOS I/O registry), with the
//! placeholders vendors leave in them filtered out, so that "To be filled by O.E.M."
//! never becomes a machine's identity.

use std::path::Path;

/// Placeholders seen in real SMBIOS tables (compared case-insensitively).
const JUNK: &[&str] = &[
    "to be filled by o.e.m.",
    "to be filled by oem",
    "default string",
    "none",
    "null",
    "n/a",
    "na",
    "not specified",
    "not applicable",
    "not available",
    "unknown",
    "system serial number",
    "system product name",
    "system manufacturer",
    "system version",
    "chassis serial number",
    "base board serial number",
    "type1productconfigid",
    "o.e.m.",
    "oem",
    "0123456789",
    "123456789",
    // The system UUID of many AMI-based boards, the same on every one of them.
    "03000200-0400-0500-0006-000700080009",
];

/// Read one sysfs SMBIOS file; empty when unreadable or a placeholder.
pub(crate) fn read_clean(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| clean(&String::from_utf8_lossy(&b)))
        .unwrap_or_default()
}

/// `value` trimmed, or empty when it is a placeholder: a known junk string, or only
/// zeros or only `F`s once separators are removed (blank serials, nil UUIDs).
pub(crate) fn clean(value: &str) -> String {
    let v = value.trim().trim_matches('\0').trim();
    let lower = v.to_ascii_lowercase();
    if JUNK.contains(&lower.as_str()) {
        return String::new();
    }
    let significant: Vec<char> = lower
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '.' | ':' | '_'))
        .collect();
    if significant.is_empty()
        || significant.iter().all(|c| *c == '0')
        || significant.iter().all(|c| *c == 'f')
    {
        return String::new();
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn real_values_are_kept_and_trimmed() {
        assert_eq!(clean("  Dell Inc.\n"), "Dell Inc.");
        assert_eq!(clean("PF2ABCDE"), "PF2ABCDE");
        assert_eq!(
            clean("4c4c4544-0042-3510-8057-b4c04f4e3332\n"),
            "4c4c4544-0042-3510-8057-b4c04f4e3332"
        );
        assert_eq!(clean("10"), "10");
    }

    #[test]
    fn placeholders_are_empty() {
        for junk in [
            "To be filled by O.E.M.",
            "To Be Filled By O.E.M.",
            "Default string",
            "None",
            "0",
            "System Serial Number",
            "Not Specified",
            "00000000-0000-0000-0000-000000000000",
            "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "0000000000",
            "   ",
            "",
            "\0",
            "03000200-0400-0500-0006-000700080009",
        ] {
            assert_eq!(clean(junk), "", "{junk:?}");
        }
    }
}
