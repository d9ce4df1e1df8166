//! The install one-liner's scripts (`GET /install/agent.sh`, `/install/agent.ps1`):
//! templates from `packaging/install/` filled in with the server's address, the
//! enrollment token and the SHA-256 of each agent binary offered. Everything that goes
//! into a script is checked against a narrow alphabet first, and placed inside single
//! quotes, so that nothing a request carries can become shell or PowerShell code.

const SH: &str = include_str!("../../../packaging/install/agent.sh");
const PS1: &str = include_str!("../../../packaging/install/agent.ps1");
const UNIT: &str = include_str!("../../../packaging/systemd/steward-agent.service");
const TASK_XML: &str = include_str!("../../../packaging/windows/steward-agent-task.xml");

/// Where the one-liner installs the agent binary on Linux: a directory of its own, which
/// the unit lets the agent write for self-update (`/usr/local/bin/steward-agent` links
/// to it). The packages use [`PACKAGE_LIB`] instead.
pub const LINUX_LIB: &str = "/usr/local/lib/steward-agent";

/// The binary's directory in the packages and in the unit file template.
pub const PACKAGE_LIB: &str = "/usr/lib/steward-agent";

/// Which script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// POSIX sh, for Linux.
    Sh,
    /// PowerShell, for Windows.
    PowerShell,
}

impl Shell {
    /// The operating system the script installs on, as in `releases/<os>-<arch>/`.
    pub fn os(self) -> &'static str {
        match self {
            Shell::Sh => "linux",
            Shell::PowerShell => "windows",
        }
    }

    /// The agent binary's file name on that system.
    pub const fn binary(self) -> &'static str {
        match self {
            Shell::Sh => "steward-agent",
            Shell::PowerShell => "steward-agent.exe",
        }
    }
}

/// A binary offered for one architecture: `x86_64` and its SHA-256 in hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    pub arch: String,
    pub sha256: String,
}

/// Whether `token` looks like an enrollment token: letters, digits, `_` and `-`, at most
/// 200 characters (what the enroll endpoint accepts). Checked before the database is.
pub fn valid_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 200
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `url` is a plain `http(s)://host[:port][/path]` with nothing a shell or
/// PowerShell string could read as code: no quotes, `$`, backticks, spaces, `;`, `&`...
pub fn valid_base_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or_default();
    !host.is_empty()
        && url.len() <= 512
        && !url.ends_with('/')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]/_~".contains(&b))
}

/// Whether `name` can be an architecture or OS in `releases/<os>-<arch>/`.
pub fn valid_platform_part(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Why a script was not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    #[error("the enrollment token may only hold letters, digits, '_' and '-'")]
    Token,
    #[error(
        "the server's address {0:?} cannot go into a script; set [smtp] public_url to a plain http(s)://host[:port] address"
    )]
    Url(String),
    #[error("a checksum entry is malformed")]
    Checksum,
}

/// The script for `shell`, installing from `base_url` with `token`; `checksums` lists the
/// binaries this server offers for that shell's OS.
pub fn render(
    shell: Shell,
    base_url: &str,
    token: &str,
    checksums: &[Checksum],
) -> Result<String, ScriptError> {
    if !valid_token(token) {
        return Err(ScriptError::Token);
    }
    if !valid_base_url(base_url) {
        return Err(ScriptError::Url(base_url.to_owned()));
    }
    let sane = |c: &Checksum| {
        valid_platform_part(&c.arch)
            && c.sha256.len() == 64
            && c.sha256.bytes().all(|b| b.is_ascii_hexdigit())
    };
    if !checksums.iter().all(sane) {
        return Err(ScriptError::Checksum);
    }
    let (template, arms) = match shell {
        Shell::Sh => (
            SH.replace("@UNIT@", UNIT.replace(PACKAGE_LIB, LINUX_LIB).trim_end()),
            checksums
                .iter()
                .map(|c| format!("  {}) sha256={} ;;\n", c.arch, c.sha256))
                .collect::<String>(),
        ),
        Shell::PowerShell => (
            PS1.replace("@TASK_XML@", TASK_XML.trim_end()),
            checksums
                .iter()
                .map(|c| format!("  '{}' = '{}'\n", c.arch, c.sha256))
                .collect::<String>(),
        ),
    };
    Ok(template
        .replace("@CHECKSUMS@\n", &arms)
        .replace("@SERVER@", base_url)
        .replace("@TOKEN@", token))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sums() -> Vec<Checksum> {
        vec![Checksum {
            arch: "x86_64".into(),
            sha256: "ab".repeat(32),
        }]
    }

    #[test]
    fn tokens_are_checked() {
        assert!(valid_token("enr_0123456789abcdef"));
        assert!(valid_token("A-b_9"));
        for bad in [
            "",
            "enr_x'; rm -rf / #",
            "enr $(id)",
            "enr`id`",
            "a\nb",
            "é",
            "a/b",
            &"x".repeat(201),
        ] {
            assert!(!valid_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn urls_are_checked() {
        for good in [
            "https://steward.example.com",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
            "https://example.com/steward",
        ] {
            assert!(valid_base_url(good), "{good}");
        }
        for bad in [
            "",
            "ftp://example.com",
            "https://",
            "https://example.com/",
            "https://exa'mple.com",
            "https://example.com/$(reboot)",
            "https://example.com;reboot",
            "https://example.com/a b",
            "https://example.com/`x`",
            "https://ex\"ample.com",
            "https://example.com/?x=1",
            "https://user@example.com",
        ] {
            assert!(!valid_base_url(bad), "{bad}");
        }
    }

    #[test]
    fn scripts_carry_server_token_and_checksums() {
        let sh = render(Shell::Sh, "http://127.0.0.1:8080", "enr_abc", &sums()).unwrap();
        assert!(sh.starts_with("#!/bin/sh\n"));
        assert!(sh.contains("server='http://127.0.0.1:8080'\n"));
        assert!(sh.contains("token='enr_abc'\n"));
        assert!(sh.contains(&format!("  x86_64) sha256={} ;;\n", "ab".repeat(32))));
        assert!(sh.contains("ExecStart=/usr/local/lib/steward-agent/steward-agent "));
        assert!(sh.contains("ReadWritePaths=/usr/local/lib/steward-agent\n"));
        assert!(!sh.contains("/usr/lib/steward-agent"));
        assert!(!sh.contains("/usr/bin/steward-agent"));
        assert!(!sh.contains('@'), "a placeholder is left");
        let ps = render(Shell::PowerShell, "https://s.example", "enr_abc", &sums()).unwrap();
        assert!(ps.contains("$Token = 'enr_abc'"));
        assert!(ps.contains("<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>"));
        assert!(
            ps.contains("\n'@\nRegister-ScheduledTask -TaskName 'Steward agent' -Xml $TaskXml")
        );
        assert!(!ps.contains("RestartCount"), "the task is the MSI's");
        assert!(ps.contains(&format!("  'x86_64' = '{}'\n", "ab".repeat(32))));
        assert!(
            !ps.contains("@SERVER@") && !ps.contains("@CHECKSUMS@") && !ps.contains("@TASK_XML@")
        );
    }

    #[test]
    fn nothing_unchecked_reaches_a_script() {
        let url = "http://127.0.0.1:8080";
        assert_eq!(
            render(Shell::Sh, url, "x'$(id)'", &sums()),
            Err(ScriptError::Token)
        );
        assert!(matches!(
            render(Shell::PowerShell, "http://h';calc;'", "enr_a", &sums()),
            Err(ScriptError::Url(_))
        ));
        let bad_arch = vec![Checksum {
            arch: "x86_64) reboot ;;".into(),
            sha256: "ab".repeat(32),
        }];
        assert_eq!(
            render(Shell::Sh, url, "enr_a", &bad_arch),
            Err(ScriptError::Checksum)
        );
        let bad_sum = vec![Checksum {
            arch: "x86_64".into(),
            sha256: "zz".repeat(32),
        }];
        assert_eq!(
            render(Shell::Sh, url, "enr_a", &bad_sum),
            Err(ScriptError::Checksum)
        );
    }

    /// `sh -n` parses the generated script: a template edit that breaks the syntax fails.
    #[test]
    fn the_sh_script_parses() {
        let sh = render(Shell::Sh, "http://127.0.0.1:8080", "enr_abc", &sums()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sh");
        std::fs::write(&path, sh).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-n")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
