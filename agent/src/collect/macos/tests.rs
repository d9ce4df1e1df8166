//! The macOS collector end to end, with shell scripts standing in for the tools.

use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/collect/macos/fixtures")
        .join(name)
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn cat(name: &str) -> String {
    format!("cat '{}'", fixture(name).display())
}

/// Tools that answer with the fixtures; brew refuses to run, as it does for root.
fn working_tools(dir: &Path) -> Tools {
    let profiler = format!(
        "case \"$*\" in\n\
         *SPApplicationsDataType*) {} ;;\n\
         '-json -detailLevel basic SPHardwareDataType SPSoftwareDataType SPStorageDataType SPNetworkDataType') {} ;;\n\
         *) exit 2 ;;\n\
         esac",
        cat("applications.json"),
        cat("profiler.json")
    );
    let prefix = dir.join("homebrew");
    std::fs::create_dir_all(prefix.join("bin")).expect("mkdir");
    std::fs::create_dir_all(prefix.join("Cellar/jq/1.7.1")).expect("mkdir");
    script(
        &prefix.join("bin"),
        "brew",
        "echo 'Error: Running Homebrew as root is extremely dangerous' >&2; exit 1",
    );
    Tools {
        system_profiler: script(dir, "system_profiler", &profiler),
        sw_vers: script(dir, "sw_vers", &cat("sw_vers.txt")),
        ioreg: script(
            dir,
            "ioreg",
            &format!(
                "[ \"$*\" = '-rd1 -c IOPlatformExpertDevice' ] && {}",
                cat("ioreg.txt")
            ),
        ),
        who: script(dir, "who", &cat("who.txt")),
        pkgutil: script(dir, "pkgutil", "exit 3"),
        receipts: fixture("receipts"),
        brew_prefixes: vec![prefix],
    }
}

#[test]
fn every_part_from_its_tool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tools = working_tools(dir.path());
    let r = collect_with(
        &tools,
        &CollectOptions {
            software: true,
            ..CollectOptions::default()
        },
        &Runner::default(),
    );
    assert_eq!(r.os.family, "macos");
    assert_eq!(r.os.name, "macOS 14.5 (23F79)");
    assert_eq!(r.hardware.serial, "H4V7QX9K2L");
    assert_eq!(r.hardware.model, "Mac14,9");
    assert_eq!(
        r.hardware.machine_id,
        "8e3c0a7b-52f1-5d6a-9b4c-1e2f3a4b5c6d"
    );
    assert_eq!(r.logged_in_users, vec!["admin", "anna"]);
    assert_eq!(r.cpu.model, "Apple M2 Pro");
    assert_eq!(r.memory.total_bytes, 17_179_869_184);
    assert_eq!(r.disks.len(), 3);
    assert_eq!(r.network.len(), 3);
    let count = |source: &str| r.software.iter().filter(|s| s.source == source).count();
    assert_eq!(count("macos-app"), 9);
    assert_eq!(count("pkgutil"), 6);
    // brew refused to run: the Cellar was read instead.
    assert_eq!(count("brew"), 1);
    assert_eq!(r.errors, vec![]);

    let r = collect_with(
        &tools,
        &CollectOptions {
            software: false,
            ..CollectOptions::default()
        },
        &Runner::default(),
    );
    assert!(r.software.is_empty());
    assert_eq!(r.hardware.serial, "H4V7QX9K2L");
}

#[test]
fn failing_tools_leave_their_part_to_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tools = working_tools(dir.path());
    tools.system_profiler = script(dir.path(), "system_profiler_broken", "exit 1");
    tools.receipts = dir.path().join("no-receipts");
    tools.pkgutil = script(
        dir.path(),
        "pkgutil_ok",
        "[ \"$1\" = --pkgs ] && printf 'com.apple.pkg.XProtectPayloads\\ncom.microsoft.teams2\\n'",
    );
    script(
        &tools.brew_prefixes[0].join("bin"),
        "brew",
        &format!(
            "[ \"$*\" = 'info --json=v2 --installed' ] && {}",
            cat("brew-info.json")
        ),
    );
    let r = collect_with(
        &tools,
        &CollectOptions {
            software: true,
            ..CollectOptions::default()
        },
        &Runner::default(),
    );
    // Identity from the I/O registry, OS from sw_vers.
    assert_eq!(r.hardware.serial, "H4V7QX9K2L");
    assert_eq!(r.hardware.uuid, "8e3c0a7b-52f1-5d6a-9b4c-1e2f3a4b5c6d");
    assert_eq!(r.hardware.vendor, "Apple Inc.");
    assert_eq!(r.hardware.model, "Mac14,9");
    assert_eq!(r.os.version, "14.5");
    assert!(r.disks.is_empty() && r.network.is_empty());
    let count = |source: &str| r.software.iter().filter(|s| s.source == source).count();
    assert_eq!(count("macos-app"), 0);
    assert_eq!(count("pkgutil"), 2);
    assert_eq!(count("brew"), 8);
    let mut sections: Vec<&str> = r.errors.iter().map(|e| e.section.as_str()).collect();
    sections.sort();
    assert_eq!(sections, ["software.macos-app", "system.profiler"]);
}

#[test]
fn without_any_tool_sysinfo_fills_in() {
    let missing = PathBuf::from("/nonexistent/tool");
    let tools = Tools {
        system_profiler: missing.clone(),
        sw_vers: missing.clone(),
        ioreg: missing.clone(),
        who: missing.clone(),
        pkgutil: missing.clone(),
        receipts: missing.clone(),
        brew_prefixes: vec![missing],
    };
    let r = collect_with(&tools, &CollectOptions::default(), &Runner::default());
    assert!(!r.os.family.is_empty());
    assert!(r.software.is_empty());
    assert!(r.logged_in_users.is_empty());
    let mut sections: Vec<&str> = r.errors.iter().map(|e| e.section.as_str()).collect();
    sections.sort();
    assert_eq!(
        sections,
        [
            "software.macos-app",
            "software.pkgutil",
            "system.ioreg",
            "system.profiler",
            "system.sw_vers",
            "users"
        ]
    );
}
