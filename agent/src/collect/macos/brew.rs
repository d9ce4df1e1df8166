//! Homebrew formulae and casks: from `brew info --json=v2 --installed`, or, where brew
//! will not run (it refuses to as root, which is how the agent runs as a daemon), from
//! the Cellar and Caskroom directories it installs into.

use crate::collect::json::{self, date, get, items, text};
use std::path::Path;
use steward_shared::Software;

/// Where Homebrew lives: Apple silicon, then Intel.
pub(super) const PREFIXES: &[&str] = &["/opt/homebrew", "/usr/local"];

/// Every installed version of every formula, and every installed cask. The publisher
/// is the tap ("homebrew/core"). A cask's version is the installed one, not the latest.
pub(super) fn parse_info(out: &[u8]) -> Vec<Software> {
    let v = json::parse(out, "brew info");
    let mut list = Vec::new();
    for formula in get(&v, "formulae").map(items).unwrap_or_default() {
        let name = text(formula, "name");
        if name.is_empty() {
            continue;
        }
        for installed in get(formula, "installed").map(items).unwrap_or_default() {
            list.push(Software {
                name: name.clone(),
                version: text(installed, "version"),
                publisher: text(formula, "tap"),
                install_date: date(installed, "time")
                    .or_else(|| text(installed, "time").parse().ok())
                    .unwrap_or(0),
                source: "brew".to_string(),
                ..Software::default()
            });
        }
    }
    for cask in get(&v, "casks").map(items).unwrap_or_default() {
        let token = text(cask, "token");
        if token.is_empty() {
            continue;
        }
        let installed = text(cask, "installed");
        list.push(Software {
            name: token,
            version: if installed.is_empty() {
                text(cask, "version")
            } else {
                installed
            },
            publisher: text(cask, "tap"),
            install_date: date(cask, "installed_time").unwrap_or(0),
            source: "brew".to_string(),
            ..Software::default()
        });
    }
    list.sort();
    list
}

/// Formulae from `<prefix>/Cellar/<name>/<version>` (tap and time from each keg's
/// `INSTALL_RECEIPT.json`) and casks from `<prefix>/Caskroom/<token>/<version>`
/// (modification time of the version directory).
pub(super) fn scan(prefix: &Path) -> Vec<Software> {
    let mut list = Vec::new();
    for (name, version, dir) in versions(&prefix.join("Cellar")) {
        let receipt = std::fs::read(dir.join("INSTALL_RECEIPT.json"))
            .map(|b| json::parse(&b, "Homebrew install receipt"))
            .unwrap_or_default();
        let tap = get(&receipt, "source")
            .map(|s| text(s, "tap"))
            .unwrap_or_default();
        list.push(Software {
            name,
            version,
            publisher: tap,
            install_date: date(&receipt, "time").unwrap_or(0),
            source: "brew".to_string(),
            ..Software::default()
        });
    }
    for (name, version, dir) in versions(&prefix.join("Caskroom")) {
        list.push(Software {
            name,
            version,
            install_date: modified(&dir),
            source: "brew".to_string(),
            ..Software::default()
        });
    }
    list.sort();
    list
}

/// `(name, version, path)` of each `<dir>/<name>/<version>` directory; hidden entries
/// (the Caskroom's `.metadata`) are skipped.
fn versions(dir: &Path) -> Vec<(String, String, std::path::PathBuf)> {
    let visible_dirs = |d: &Path| {
        std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (!name.starts_with('.')).then(|| (name, e.path()))
            })
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    for (name, path) in visible_dirs(dir) {
        for (version, version_path) in visible_dirs(&path) {
            out.push((name.clone(), version, version_path));
        }
    }
    out
}

fn modified(path: &Path) -> i64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brew_info() {
        let list = parse_info(include_bytes!("fixtures/brew-info.json"));
        let rows: Vec<(&str, &str)> = list
            .iter()
            .map(|s| (s.name.as_str(), s.version.as_str()))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("docker", "4.31.0,153195"),
                ("firefox", "127.0"),
                ("git", "2.45.2"),
                ("iterm2", "3.5.2"),
                ("openssl@3", "3.3.0"),
                ("openssl@3", "3.3.1"),
                ("python@3.12", "3.12.4"),
                ("terraform", "1.8.5"),
            ]
        );
        let git = &list[2];
        assert_eq!(git.publisher, "homebrew/core");
        assert_eq!(git.install_date, 1_718_265_010);
        assert_eq!(git.source, "brew");
        assert_eq!(list[1].install_date, 1_717_600_000);
        assert_eq!(list[1].publisher, "homebrew/cask");
        // A time printed as a string.
        assert_eq!(list[7].install_date, 1_718_100_000);
        assert_eq!(list[7].publisher, "hashicorp/tap");
    }

    #[test]
    fn cellar_and_caskroom() {
        let prefix = tempfile::tempdir().expect("tempdir");
        let p = prefix.path();
        let keg = p.join("Cellar/git/2.45.2");
        std::fs::create_dir_all(&keg).expect("mkdir");
        std::fs::write(
            keg.join("INSTALL_RECEIPT.json"),
            r#"{"time":1718265010,"source":{"tap":"homebrew/core","spec":"stable"}}"#,
        )
        .expect("write");
        std::fs::create_dir_all(p.join("Cellar/jq/1.7.1")).expect("mkdir");
        std::fs::create_dir_all(p.join("Caskroom/firefox/127.0")).expect("mkdir");
        std::fs::create_dir_all(p.join("Caskroom/firefox/.metadata/127.0")).expect("mkdir");
        std::fs::write(p.join("Cellar/.keepme"), "").expect("write");
        let list = scan(p);
        let rows: Vec<(&str, &str, &str)> = list
            .iter()
            .map(|s| (s.name.as_str(), s.version.as_str(), s.publisher.as_str()))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("firefox", "127.0", ""),
                ("git", "2.45.2", "homebrew/core"),
                ("jq", "1.7.1", ""),
            ]
        );
        assert_eq!(list[1].install_date, 1_718_265_010);
        assert_eq!(list[2].install_date, 0);
        assert!(list[0].install_date > 0);
        assert!(scan(&p.join("nothing")).is_empty());
    }

    #[test]
    fn bad_or_empty_output() {
        for out in [&b""[..], b"{", b"{\"formulae\": 3}", b"[]"] {
            assert!(parse_info(out).is_empty(), "{out:?}");
        }
    }
}
