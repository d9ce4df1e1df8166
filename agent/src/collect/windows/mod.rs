//! The Windows collector: runs Windows PowerShell with the scripts in [`scripts`] and
//! parses their JSON in portable code ([`system`], [`software`], [`health`]), tested on
//! any system with fixtures of real output shapes.
//!
//! Each section is its own `powershell.exe` run with a timeout, on its own thread with a
//! deadline ([`Runner`]). One that fails or times out leaves its section empty and an
//! entry in the report's errors; the others still report. When the system script yields
//! nothing, the OS and hardware are what `sysinfo` knows.

mod health;
mod scripts;
mod software;
mod system;

use super::CollectOptions;
use super::command::{self, CommandError};
use super::deadline::Runner;
use super::fallback;
use super::platform::PlatformReport;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::time::Duration;
use steward_shared::{CollectError, Hardware, Software};

/// The system script runs several CIM queries of up to 10 s each; WMI can hang.
const SYSTEM_TIMEOUT: Duration = Duration::from_secs(20);
/// The registry is quick, but PowerShell's start can be slow on a busy machine.
const SOFTWARE_TIMEOUT: Duration = Duration::from_secs(20);
const APPX_TIMEOUT: Duration = Duration::from_secs(30);
/// A section's deadline is its script's timeout and this, so the timeout reports first.
const MARGIN: Duration = Duration::from_secs(5);

/// One software script: its section, script, timeout and parser.
type SoftwareScript = (
    &'static str,
    &'static str,
    Duration,
    fn(&[u8]) -> Vec<Software>,
);

/// Programs for the machine, programs per user, and AppX packages.
const SOFTWARE_SCRIPTS: [SoftwareScript; 3] = [
    (
        "software.registry",
        scripts::MACHINE_SOFTWARE,
        SOFTWARE_TIMEOUT,
        |out| software::parse_uninstall(out, "registry"),
    ),
    (
        "software.registry-user",
        scripts::USER_SOFTWARE,
        SOFTWARE_TIMEOUT,
        |out| software::parse_uninstall(out, "registry-user"),
    ),
    (
        "software.appx",
        scripts::APPX,
        APPX_TIMEOUT,
        software::parse_appx,
    ),
];

pub(super) fn collect(opts: &CollectOptions, runner: &Runner) -> PlatformReport {
    match powershell() {
        Some(ps) => collect_with(&ps, opts, runner),
        None => {
            let e = CollectError {
                section: "system".to_string(),
                message: "powershell.exe not found; only what sysinfo knows is reported"
                    .to_string(),
            };
            without_system_script(fallback::collect(opts), e)
        }
    }
}

/// Collect with the PowerShell at `ps`. The system script runs beside the software
/// scripts, which run one after the other, so that at most two PowerShells run at a time.
fn collect_with(ps: &Path, opts: &CollectOptions, runner: &Runner) -> PlatformReport {
    let software = opts.software.then(|| {
        let (ps, inner) = (ps.to_path_buf(), runner.clone());
        let deadline = SOFTWARE_SCRIPTS
            .iter()
            .map(|s| s.2 + MARGIN)
            .sum::<Duration>()
            + MARGIN;
        runner.start("software", deadline, move || {
            Ok::<_, Infallible>(software(&ps, &inner))
        })
    });
    let system = {
        let ps = ps.to_path_buf();
        runner.start("system", SYSTEM_TIMEOUT + MARGIN, move || {
            run(&ps, scripts::SYSTEM, SYSTEM_TIMEOUT).map(|out| system::parse(&out))
        })
    };
    let mut report = match system.wait() {
        Ok(report) => report,
        Err(e) => without_system_script(PlatformReport::default(), e),
    };
    if let Some(software) = software
        && let Some((list, failed)) = software.wait_noting(&mut report.errors)
    {
        report.software = list;
        report.errors.extend(failed);
    }
    if report.os.name.is_empty() {
        report.os = fallback::os_info();
    }
    if report.hardware == Hardware::default() {
        report.hardware = fallback::hardware();
    }
    report
}

/// `report` noting that the system script failed with `e`: its sections, and the health
/// extras that come from it, are missing.
fn without_system_script(mut report: PlatformReport, e: CollectError) -> PlatformReport {
    report.health.errors = ["health.pending_reboot", "health.failed_services"]
        .map(|section| CollectError {
            section: section.to_string(),
            message: format!("the system script failed: {}", e.message),
        })
        .into();
    report.errors.push(e);
    report
}

/// The software scripts one after the other, each with its deadline: what they listed,
/// and the sections that failed.
fn software(ps: &Path, runner: &Runner) -> (Vec<Software>, Vec<CollectError>) {
    let mut list = Vec::new();
    let mut errors = Vec::new();
    for (section, script, timeout, parse) in SOFTWARE_SCRIPTS {
        let ps = ps.to_path_buf();
        let found = runner
            .start(section, timeout + MARGIN, move || {
                run(&ps, script, timeout).map(|out| parse(&out))
            })
            .wait_noting(&mut errors);
        list.extend(found.into_iter().flatten());
    }
    (list, errors)
}

/// Run one script; its output, which must be JSON.
fn run(ps: &Path, script: &str, timeout: Duration) -> Result<Vec<u8>, CommandError> {
    let args = [
        "-NoProfile",
        "-NonInteractive",
        "-NoLogo",
        "-Command",
        script,
    ];
    command::json_output_with_timeout(ps, &args, timeout)
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
        let runner = Runner::default();
        let r = collect_with(
            &ps,
            &CollectOptions {
                software: true,
                ..Default::default()
            },
            &runner,
        );
        assert_eq!(r.hardware.serial, "7QH4JN3");
        assert_eq!(r.os.name, "Microsoft Windows 11 Enterprise 23H2");
        assert_eq!(r.network.len(), 3);
        let count = |source: &str| r.software.iter().filter(|s| s.source == source).count();
        assert_eq!(count("registry"), 13);
        assert_eq!(count("registry-user"), 1);
        assert_eq!(count("appx"), 0);
        // The AppX script failed: its section says so, and only it.
        let sections: Vec<&str> = r.errors.iter().map(|e| e.section.as_str()).collect();
        assert_eq!(sections, ["software.appx"]);
        assert!(r.errors[0].message.contains("failed"), "{:?}", r.errors);
        assert_eq!(r.health.pending_reboot, Some(true));
        assert_eq!(r.health.failed_services, ["IntelAudioService"]);
        assert!(r.health.errors.is_empty());

        let r = collect_with(
            &ps,
            &CollectOptions {
                software: false,
                ..Default::default()
            },
            &runner,
        );
        assert!(r.software.is_empty());
        assert!(r.errors.is_empty());
        assert_eq!(r.hardware.serial, "7QH4JN3");
    }

    #[test]
    fn without_a_working_powershell_sysinfo_fills_in() {
        let r = collect_with(
            Path::new("/nonexistent/powershell.exe"),
            &CollectOptions::default(),
            &Runner::default(),
        );
        assert!(!r.os.family.is_empty());
        assert!(r.software.is_empty());
        assert!(r.network.is_empty());
        let sections: Vec<&str> = r.errors.iter().map(|e| e.section.as_str()).collect();
        assert_eq!(
            sections,
            [
                "system",
                "software.registry",
                "software.registry-user",
                "software.appx"
            ]
        );
        assert!(
            r.errors[0].message.starts_with("cannot start"),
            "{:?}",
            r.errors
        );
        let health: Vec<&str> = r.health.errors.iter().map(|e| e.section.as_str()).collect();
        assert_eq!(health, ["health.pending_reboot", "health.failed_services"]);
        assert_eq!(r.health.pending_reboot, None);
    }
}
