//! The Windows collector: runs Windows PowerShell with the scripts in [`scripts`] and
//! parses their JSON in portable code ([`system`], [`software`]), tested on any system
//! with fixtures of real output shapes.
//!
//! Each section is its own `powershell.exe` run with a timeout. One that fails or times
//! out leaves its section empty and logs a warning; the others still report. When the
//! system script yields nothing, the OS and hardware are what `sysinfo` knows.

mod scripts;
mod software;
mod system;

use super::CollectOptions;
use super::command;
use super::fallback;
use super::platform::PlatformReport;
use std::path::{Path, PathBuf};
use std::time::Duration;
use steward_shared::Hardware;

/// The system script runs several CIM queries of up to 10 s each; WMI can hang.
const SYSTEM_TIMEOUT: Duration = Duration::from_secs(20);
/// The registry is quick, but PowerShell's start can be slow on a busy machine.
const SOFTWARE_TIMEOUT: Duration = Duration::from_secs(20);
const APPX_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) fn collect(opts: &CollectOptions) -> PlatformReport {
    match powershell() {
        Some(ps) => collect_with(&ps, opts),
        None => {
            tracing::warn!("powershell.exe not found; reporting only what sysinfo knows");
            fallback::collect(opts)
        }
    }
}

/// Collect with the PowerShell at `ps`. The system script and the software scripts run
/// side by side, so that at most two PowerShells run at a time.
fn collect_with(ps: &Path, opts: &CollectOptions) -> PlatformReport {
    let (system_out, software) = std::thread::scope(|scope| {
        let software = opts.software.then(|| scope.spawn(|| software(ps)));
        let system_out = run(ps, scripts::SYSTEM, SYSTEM_TIMEOUT, "system information");
        let software = software
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        (system_out, software)
    });
    let mut report = system_out
        .map(|out| system::parse(&out))
        .unwrap_or_default();
    if report.os.name.is_empty() {
        report.os = fallback::os_info();
    }
    if report.hardware == Hardware::default() {
        report.hardware = fallback::hardware();
    }
    report.software = software;
    report
}

/// Programs for the machine, programs per user, and AppX packages, one after the other.
fn software(ps: &Path) -> Vec<steward_shared::Software> {
    let mut list = Vec::new();
    if let Some(out) = run(
        ps,
        scripts::MACHINE_SOFTWARE,
        SOFTWARE_TIMEOUT,
        "installed programs",
    ) {
        list.extend(software::parse_uninstall(&out, "registry"));
    }
    if let Some(out) = run(
        ps,
        scripts::USER_SOFTWARE,
        SOFTWARE_TIMEOUT,
        "users' programs",
    ) {
        list.extend(software::parse_uninstall(&out, "registry-user"));
    }
    if let Some(out) = run(ps, scripts::APPX, APPX_TIMEOUT, "AppX packages") {
        list.extend(software::parse_appx(&out));
    }
    list
}

/// Run one script; its output, or `None` with a warning.
fn run(ps: &Path, script: &str, timeout: Duration, what: &str) -> Option<Vec<u8>> {
    let args = [
        "-NoProfile",
        "-NonInteractive",
        "-NoLogo",
        "-Command",
        script,
    ];
    match command::output_with_timeout(ps, &args, timeout) {
        Ok(out) => Some(out),
        Err(e) => {
            tracing::warn!(error = %e, what, "cannot collect");
            None
        }
    }
}

/// Windows PowerShell 5.1, which every supported Windows has, by its full path (an agent
/// running as SYSTEM should not trust `PATH`), else from `PATH`.
fn powershell() -> Option<PathBuf> {
    let root =
        std::env::var_os("SystemRoot").map_or_else(|| PathBuf::from(r"C:\Windows"), PathBuf::from);
    let path = root
        .join("System32")
        .join("WindowsPowerShell")
        .join("v1.0")
        .join("powershell.exe");
    if path.is_file() {
        Some(path)
    } else {
        command::find_on_path("powershell.exe")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in for powershell.exe that answers each script with a fixture, and fails
    /// for AppX (as without administrator rights).
    #[cfg(unix)]
    fn fake_powershell(dir: &Path) -> PathBuf {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/collect/windows/fixtures");
        let script = format!(
            "#!/bin/sh\n\
             [ \"$1 $2 $3 $4\" = '-NoProfile -NonInteractive -NoLogo -Command' ] || exit 9\n\
             case \"$5\" in\n\
             *Win32_BIOS*) cat '{f}/system.json' ;;\n\
             *HKEY_USERS*) cat '{f}/uninstall-user-single.json' ;;\n\
             *WOW6432Node*) cat '{f}/uninstall-machine.json' ;;\n\
             *Get-AppxPackage*) echo 'Access is denied.' >&2; exit 1 ;;\n\
             esac\n",
            f = fixtures.display()
        );
        let path = dir.join("powershell");
        std::fs::write(&path, script).expect("write fake powershell");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    #[test]
    #[cfg(unix)]
    fn every_section_from_its_script_and_a_failing_one_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ps = fake_powershell(dir.path());
        let r = collect_with(
            &ps,
            &CollectOptions {
                software: true,
                ..Default::default()
            },
        );
        assert_eq!(r.hardware.serial, "7QH4JN3");
        assert_eq!(r.os.name, "Microsoft Windows 11 Enterprise 23H2");
        assert_eq!(r.network.len(), 3);
        let count = |source: &str| r.software.iter().filter(|s| s.source == source).count();
        assert_eq!(count("registry"), 13);
        assert_eq!(count("registry-user"), 1);
        assert_eq!(count("appx"), 0);

        let r = collect_with(
            &ps,
            &CollectOptions {
                software: false,
                ..Default::default()
            },
        );
        assert!(r.software.is_empty());
        assert_eq!(r.hardware.serial, "7QH4JN3");
    }

    #[test]
    fn without_a_working_powershell_sysinfo_fills_in() {
        let r = collect_with(
            Path::new("/nonexistent/powershell.exe"),
            &CollectOptions::default(),
        );
        assert!(!r.os.family.is_empty());
        assert!(r.software.is_empty());
        assert!(r.network.is_empty());
    }
}
