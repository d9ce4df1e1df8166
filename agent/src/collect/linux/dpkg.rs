//! Installed Debian packages, read from the dpkg database directly (`dpkg-query` is
//! several times slower).
//!
//! The list matches `dpkg-query -W`: every package in `status` (with the pending journal
//! in `updates/` applied) whose state is not `not-installed`. That includes packages that
//! were removed but left their configuration files (`rc` in `dpkg -l`), as dpkg-query does.

use std::io::BufRead;
use std::path::Path;
use std::time::UNIX_EPOCH;
use steward_shared::Software;

/// The fields we use from one stanza of the status file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Stanza {
    pub package: String,
    pub status: String,
    pub version: String,
    pub arch: String,
    pub maintainer: String,
}

impl Stanza {
    /// Whether `dpkg-query -W` lists it: its state (third word of Status) is known and
    /// is not `not-installed`.
    pub(super) fn is_listed(&self) -> bool {
        !self.package.is_empty()
            && self
                .status
                .split_whitespace()
                .nth(2)
                .is_some_and(|s| s != "not-installed")
    }
}

/// Parse a dpkg status (or updates) file as it is read, line by line: the status file is
/// often megabytes, of which only a few fields are kept. Continuation lines (multi-line
/// fields such as Description) and unknown fields are skipped; stanzas are separated by
/// blank lines. Bytes that are not UTF-8 become U+FFFD.
pub(super) fn parse_status(mut reader: impl BufRead) -> std::io::Result<Vec<Stanza>> {
    let mut out = Vec::new();
    let mut cur = Stanza::default();
    let mut in_stanza = false;
    let mut raw = Vec::new();
    loop {
        raw.clear();
        if reader.read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.strip_suffix('\n').unwrap_or(&line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if in_stanza {
                out.push(std::mem::take(&mut cur));
                in_stanza = false;
            }
            continue;
        }
        in_stanza = true;
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let field = if name.eq_ignore_ascii_case("Package") {
            &mut cur.package
        } else if name.eq_ignore_ascii_case("Status") {
            &mut cur.status
        } else if name.eq_ignore_ascii_case("Version") {
            &mut cur.version
        } else if name.eq_ignore_ascii_case("Architecture") {
            &mut cur.arch
        } else if name.eq_ignore_ascii_case("Maintainer") {
            &mut cur.maintainer
        } else {
            continue;
        };
        value.trim().clone_into(field);
    }
    if in_stanza {
        out.push(cur);
    }
    Ok(out)
}

/// Apply journal entries: a stanza replaces the one with the same package and arch.
pub(super) fn apply_updates(base: &mut Vec<Stanza>, updates: Vec<Stanza>) {
    for u in updates {
        match base
            .iter_mut()
            .find(|s| s.package == u.package && s.arch == u.arch)
        {
            Some(slot) => *slot = u,
            None => base.push(u),
        }
    }
}

pub(super) const STATUS_FILE: &str = "/var/lib/dpkg/status";

pub(super) fn installed(status: &Path) -> Vec<Software> {
    let admin_dir = status.parent().unwrap_or(Path::new("."));
    let Ok(mut stanzas) = read_status(status) else {
        return Vec::new();
    };
    for update in read_updates(&admin_dir.join("updates")) {
        apply_updates(&mut stanzas, update);
    }
    let info = admin_dir.join("info");
    // Sized exactly: the list is kept until the report is made.
    let mut software = Vec::with_capacity(stanzas.iter().filter(|s| s.is_listed()).count());
    software.extend(
        stanzas
            .into_iter()
            .filter(Stanza::is_listed)
            .map(|s| Software {
                install_date: install_date(&info, &s.package, &s.arch),
                name: s.package,
                version: s.version,
                arch: s.arch,
                publisher: s.maintainer,
                source: "dpkg".to_string(),
            }),
    );
    software
}

fn read_status(path: &Path) -> std::io::Result<Vec<Stanza>> {
    parse_status(std::io::BufReader::new(std::fs::File::open(path)?))
}

/// The journal files in `updates/`, parsed, in the order dpkg applies them.
fn read_updates(dir: &Path) -> Vec<Vec<Stanza>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| {
            n.to_str()
                .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|n| read_status(&dir.join(n)).ok())
        .collect()
}

fn install_date(info: &Path, package: &str, arch: &str) -> i64 {
    [format!("{package}.list"), format!("{package}:{arch}.list")]
        .iter()
        .find_map(|name| std::fs::metadata(info.join(name)).ok())
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "\
Package: adduser
Status: install ok installed
Priority: important
Architecture: all
Maintainer: Debian Adduser Developers <adduser@packages.debian.org>
Version: 3.134
Description: add and remove users and groups
 This package includes the 'adduser' and 'deluser' commands for creating
 and removing users.
 .
 Version: 9.9 (a continuation line that looks like a field)

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Maintainer: Someone <s@example.org>
Version: 1.0-1
Conffiles:
 /etc/oldpkg.conf 0123456789abcdef

Package: gone
Status: purge ok not-installed
Architecture: amd64

Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Version: 2.36-9+deb12u9
";

    fn parse(text: &str) -> Vec<Stanza> {
        parse_status(text.as_bytes()).expect("read from memory")
    }

    #[test]
    fn parses_stanzas_and_skips_continuations() {
        let s = parse(STATUS);
        assert_eq!(s.len(), 4);
        assert_eq!(
            s[0],
            Stanza {
                package: "adduser".into(),
                status: "install ok installed".into(),
                version: "3.134".into(),
                arch: "all".into(),
                maintainer: "Debian Adduser Developers <adduser@packages.debian.org>".into(),
            }
        );
        assert_eq!(s[3].package, "libc6");
        assert_eq!(s[3].version, "2.36-9+deb12u9");
    }

    #[test]
    fn crlf_bad_bytes_and_no_final_newline() {
        let text = b"Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n\r\n\
                     Package: b\nMaintainer: Jos\xe9 <j@example.org>\nVersion: 2";
        let s = parse_status(&text[..]).expect("read from memory");
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].package.as_str(), s[0].version.as_str()), ("a", "1"));
        assert!(s[0].is_listed());
        assert_eq!(s[1].maintainer, "Jos\u{fffd} <j@example.org>");
        assert_eq!(s[1].version, "2");
        assert!(parse("\n\n").is_empty());
    }

    #[test]
    fn lists_what_dpkg_query_lists() {
        let stanzas = parse(STATUS);
        let listed: Vec<&str> = stanzas
            .iter()
            .filter(|s| s.is_listed())
            .map(|s| s.package.as_str())
            .collect();
        // config-files packages are listed by `dpkg-query -W`; not-installed ones are not.
        assert_eq!(listed, vec!["adduser", "oldpkg", "libc6"]);
    }

    #[test]
    fn updates_replace_by_package_and_arch() {
        let mut base = parse(STATUS);
        let upd = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n\
                   Version: 2.36-10\n\nPackage: libc6\nStatus: install ok installed\n\
                   Architecture: i386\nVersion: 2.36-10\n";
        apply_updates(&mut base, parse(upd));
        assert_eq!(base.len(), 5);
        assert_eq!(base[3].version, "2.36-10");
        assert_eq!(base[4].arch, "i386");
    }

    #[test]
    fn reads_a_database_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("info")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("updates")).expect("mkdir");
        std::fs::write(dir.path().join("status"), STATUS).expect("write");
        std::fs::write(dir.path().join("info/adduser.list"), "/.\n").expect("write");
        std::fs::write(dir.path().join("info/libc6:amd64.list"), "/.\n").expect("write");
        std::fs::write(
            dir.path().join("updates/0001"),
            "Package: newpkg\nStatus: install ok unpacked\nArchitecture: amd64\nVersion: 2\n\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("updates/tmp.i"), "Package: junk\n").expect("write");
        let sw = installed(&dir.path().join("status"));
        let names: Vec<&str> = sw.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["adduser", "oldpkg", "libc6", "newpkg"]);
        assert!(sw[0].install_date > 0);
        assert_eq!(
            sw[1].install_date, 0,
            "config-files packages have no file list"
        );
        assert!(sw[2].install_date > 0, "found via the :arch list file");
        assert_eq!(
            sw[2].publisher,
            "GNU Libc Maintainers <debian-glibc@lists.debian.org>"
        );
        assert!(sw.iter().all(|s| s.source == "dpkg"));
    }

    #[test]
    fn count_matches_dpkg_query_on_this_machine() {
        let Some(dpkg_query) = crate::collect::command::find_on_path("dpkg-query") else {
            return;
        };
        let out = crate::collect::command::output_with_timeout(
            &dpkg_query,
            &["-W"],
            std::time::Duration::from_secs(60),
        )
        .expect("dpkg-query runs");
        let expected = out.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
        assert_eq!(installed(Path::new(STATUS_FILE)).len(), expected);
    }
}
