//! The macOS collector: runs `system_profiler -json`, `sw_vers`, `ioreg`, `who` and
//! Homebrew, reads the installer receipts, and parses all of it in portable code
//! ([`profiler`], [`apps`], [`brew`], [`receipts`], [`text_output`]), tested on any
//! system with fixtures of real output.
//!
//! Every tool runs with a timeout; one that fails leaves its part empty and an entry in
//! the report's errors. The system part and each software source (the slow
//! `SPApplicationsDataType`, the installer packages, Homebrew) run side by side, each on
//! its own thread with a deadline ([`Runner`]). When `system_profiler` yields no
//! identity, the I/O registry's platform UUID and serial number stand in, then what
//! `sysinfo` knows.

mod apps;
mod brew;
mod profiler;
mod receipts;
mod text_output;

use super::CollectOptions;
use super::command::{self, CommandError};
use super::deadline::{Pending, Runner};
use super::fallback;
use super::platform::PlatformReport;
use super::smbios;
use std::convert::Infallible;
use std::path::PathBuf;
use std::time::Duration;
use steward_shared::{CollectError, Hardware, Software};

/// Machine details. `basic` rather than `mini`: `mini` leaves out the serial number,
/// the hardware UUID and the network addresses.
const PROFILE_ARGS: &[&str] = &[
    "-json",
    "-detailLevel",
    "basic",
    "SPHardwareDataType",
    "SPSoftwareDataType",
    "SPStorageDataType",
    "SPNetworkDataType",
];
const PROFILE_TIMEOUT: Duration = Duration::from_secs(30);
/// Listing applications walks Spotlight's index and can take a minute on a full disk.
const APPS_TIMEOUT: Duration = Duration::from_secs(90);
const QUICK_TIMEOUT: Duration = Duration::from_secs(10);
const BREW_TIMEOUT: Duration = Duration::from_secs(60);
/// A part's deadline is its tools' timeouts and this, so a timeout reports first.
const MARGIN: Duration = Duration::from_secs(5);

/// Where the tools and files are; tests point these at stand-ins.
#[derive(Debug, Clone)]
struct Tools {
    system_profiler: PathBuf,
    sw_vers: PathBuf,
    ioreg: PathBuf,
    who: PathBuf,
    pkgutil: PathBuf,
    receipts: PathBuf,
    /// Homebrew prefixes (`brew` is `bin/brew` in the first that has one).
    brew_prefixes: Vec<PathBuf>,
}

impl Tools {
    fn system() -> Tools {
        Tools {
            system_profiler: "/usr/sbin/system_profiler".into(),
            sw_vers: "/usr/bin/sw_vers".into(),
            ioreg: "/usr/sbin/ioreg".into(),
            who: "/usr/bin/who".into(),
            pkgutil: "/usr/sbin/pkgutil".into(),
            receipts: "/var/db/receipts".into(),
            brew_prefixes: brew::PREFIXES.iter().map(PathBuf::from).collect(),
        }
    }
}

pub(super) fn collect(opts: &CollectOptions, runner: &Runner) -> PlatformReport {
    collect_with(&Tools::system(), opts, runner)
}

fn collect_with(tools: &Tools, opts: &CollectOptions, runner: &Runner) -> PlatformReport {
    let software = if opts.software {
        start_software(tools, runner)
    } else {
        Vec::new()
    };
    let system_deadline = PROFILE_TIMEOUT + QUICK_TIMEOUT * 3 + MARGIN;
    let system_tools = tools.clone();
    let system = runner.start("system", system_deadline, move || {
        Ok::<_, Infallible>(system(&system_tools))
    });
    let mut report = system.wait().unwrap_or_else(|e| PlatformReport {
        os: fallback::os_info(),
        hardware: fallback::hardware(),
        errors: vec![e],
        ..PlatformReport::default()
    });
    for part in software {
        let list = part.wait_noting(&mut report.errors);
        report.software.extend(list.into_iter().flatten());
    }
    report
}

/// Each software source on its own thread (section `software.<source>`).
fn start_software(tools: &Tools, runner: &Runner) -> Vec<Pending<Vec<Software>>> {
    let profiler = tools.system_profiler.clone();
    let installer = tools.clone();
    let prefixes = tools.brew_prefixes.clone();
    vec![
        runner.start("software.macos-app", APPS_TIMEOUT + MARGIN, move || {
            let args = ["-json", "SPApplicationsDataType"];
            command::json_output_with_timeout(&profiler, &args, APPS_TIMEOUT)
                .map(|out| apps::parse(&out))
        }),
        runner.start("software.pkgutil", QUICK_TIMEOUT + MARGIN, move || {
            installer_packages(&installer)
        }),
        runner.start("software.brew", BREW_TIMEOUT + MARGIN, move || {
            Ok::<_, Infallible>(homebrew(&prefixes))
        }),
    ]
}

/// Identity, OS, users, CPU, memory, volumes and network; a tool that fails is an error
/// of its section (`system.profiler`, `system.ioreg`, `system.sw_vers`, `users`).
fn system(tools: &Tools) -> PlatformReport {
    let mut errors = Vec::new();
    let mut noted = |section: &str, result: Result<Vec<u8>, CommandError>| {
        result
            .map_err(|e| {
                errors.push(CollectError {
                    section: section.to_string(),
                    message: e.to_string(),
                })
            })
            .ok()
    };
    let run = command::output_with_timeout;
    let profile = noted(
        "system.profiler",
        command::json_output_with_timeout(&tools.system_profiler, PROFILE_ARGS, PROFILE_TIMEOUT),
    )
    .map(|out| profiler::parse(&out))
    .unwrap_or_default();
    let ioreg_args = ["-rd1", "-c", "IOPlatformExpertDevice"];
    let ioreg = noted(
        "system.ioreg",
        run(&tools.ioreg, &ioreg_args, QUICK_TIMEOUT),
    )
    .map(|out| String::from_utf8_lossy(&out).into_owned())
    .unwrap_or_default();
    let sw_vers = noted("system.sw_vers", run(&tools.sw_vers, &[], QUICK_TIMEOUT));
    let who = noted("users", run(&tools.who, &[], QUICK_TIMEOUT));

    let mut hardware = identity(profile.hardware, &ioreg);
    if hardware == Hardware::default() {
        hardware = fallback::hardware();
    }
    let mut os = sw_vers
        .map(|out| text_output::parse_sw_vers(&String::from_utf8_lossy(&out)))
        .unwrap_or_default();
    if os.name.is_empty() {
        os = profile.os;
    }
    if os.name.is_empty() {
        os = fallback::os_info();
    }

    PlatformReport {
        os,
        hardware,
        logged_in_users: who
            .map(|out| text_output::parse_who(&String::from_utf8_lossy(&out)))
            .unwrap_or_default(),
        cpu: profile.cpu,
        memory: profile.memory,
        disks: profile.disks,
        network: profile.network,
        errors,
        ..PlatformReport::default()
    }
}

/// The profile's identity completed from the I/O registry: the platform UUID is the
/// machine id, and stands in, with the platform serial number, vendor and model, for
/// what `system_profiler` did not say.
fn identity(profiled: Hardware, ioreg: &str) -> Hardware {
    let property = |key: &str| smbios::clean(&text_output::ioreg_property(ioreg, key));
    let platform_uuid = property("IOPlatformUUID").to_ascii_lowercase();
    let or = |value: String, other: String| if value.is_empty() { other } else { value };
    Hardware {
        machine_id: or(platform_uuid.clone(), profiled.uuid.clone()),
        uuid: or(profiled.uuid, platform_uuid),
        serial: or(profiled.serial, property("IOPlatformSerialNumber")),
        vendor: or(profiled.vendor, property("manufacturer")),
        model: or(profiled.model, property("model")),
        ..profiled
    }
}

/// Installer packages: the receipts, else `pkgutil --pkgs`.
fn installer_packages(tools: &Tools) -> Result<Vec<Software>, CommandError> {
    if let Some(list) = receipts::read_receipts(&tools.receipts) {
        return Ok(list);
    }
    let out = command::output_with_timeout(&tools.pkgutil, &["--pkgs"], QUICK_TIMEOUT)?;
    Ok(receipts::parse_pkgutil_pkgs(&String::from_utf8_lossy(&out)))
}

/// `brew info` where brew runs; where it does not (as root), the Cellar and Caskroom of
/// every prefix.
fn homebrew(prefixes: &[PathBuf]) -> Vec<Software> {
    let Some(brew) = prefixes
        .iter()
        .map(|p| p.join("bin/brew"))
        .find(|b| b.is_file())
    else {
        return Vec::new();
    };
    let args = ["info", "--json=v2", "--installed"];
    match command::output_with_timeout(&brew, &args, BREW_TIMEOUT) {
        Ok(out) => brew::parse_info(&out),
        Err(e) => {
            tracing::debug!(error = %e, "brew info failed; reading the Cellar instead");
            prefixes.iter().flat_map(|p| brew::scan(p)).collect()
        }
    }
}

#[cfg(all(test, unix))]
mod tests;
