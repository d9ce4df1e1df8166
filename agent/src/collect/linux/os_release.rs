//! Parser for `/etc/os-release` (systemd's os-release(5): shell-style `KEY=value` lines).

use std::collections::HashMap;

/// The keys of an os-release file.
#[derive(Debug, Default)]
pub(super) struct OsRelease {
    fields: HashMap<String, String>,
}

impl OsRelease {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `PRETTY_NAME`, else `NAME VERSION`, else `NAME`, else "Linux".
    pub(super) fn pretty_name(&self) -> String {
        if let Some(p) = self.get("PRETTY_NAME") {
            return p.to_string();
        }
        match (self.get("NAME"), self.get("VERSION")) {
            (Some(n), Some(v)) => format!("{n} {v}"),
            (Some(n), None) => n.to_string(),
            _ => "Linux".to_string(),
        }
    }

    /// `VERSION_ID`, else `VERSION`, else `BUILD_ID`, else empty (rolling releases).
    pub(super) fn version(&self) -> String {
        self.get("VERSION_ID")
            .or_else(|| self.get("VERSION"))
            .or_else(|| self.get("BUILD_ID"))
            .unwrap_or_default()
            .to_string()
    }
}

/// Parse os-release text; malformed lines are skipped.
pub(super) fn parse(text: &str) -> OsRelease {
    let fields = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .map(|(k, v)| (k.to_string(), unquote(v.trim())))
        .collect();
    OsRelease { fields }
}

/// Remove shell quotes: `"..."` with backslash escapes, or `'...'` taken literally.
fn unquote(v: &str) -> String {
    let bytes = v.as_bytes();
    if bytes.len() >= 2 && bytes[0] == b'\'' && bytes[bytes.len() - 1] == b'\'' {
        return v[1..v.len() - 1].to_string();
    }
    if bytes.len() >= 2 && bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"' {
        let mut out = String::with_capacity(v.len());
        let mut chars = v[1..v.len() - 1].chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = r#"PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
"#;

    #[test]
    fn debian() {
        let r = parse(DEBIAN);
        assert_eq!(r.pretty_name(), "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(r.version(), "12");
    }

    #[test]
    fn quoting_comments_and_fallbacks() {
        let r = parse("# comment\nNAME='Arch Linux'\nBUILD_ID=rolling\nbroken line\n");
        assert_eq!(r.pretty_name(), "Arch Linux");
        assert_eq!(r.version(), "rolling");
        let r = parse("NAME=\"My \\\"OS\\\"\"\nVERSION=\"1.0 LTS\"\n");
        assert_eq!(r.pretty_name(), "My \"OS\" 1.0 LTS");
        assert_eq!(r.version(), "1.0 LTS");
        let r = parse("");
        assert_eq!(r.pretty_name(), "Linux");
        assert_eq!(r.version(), "");
    }
}
