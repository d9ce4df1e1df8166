//! The macOS collector: runs `system_profiler -json`, `sw_vers`, `ioreg`, `who` and
//! Homebrew, reads the installer receipts, and parses all of it in portable code
//! ([`profiler`], [`apps`], [`brew`], [`receipts`], [`text_output`]), tested on any
//! system with fixtures of real output.
//!
//! Every tool runs with a timeout; one that fails leaves its part empty with a
//! warning. The slow `SPApplicationsDataType` and the package lists run beside the
//! system part. When `system_profiler` yields no identity, the I/O registry's platform
//! UUID and serial number stand in, then what `sysinfo` knows.

mod apps;
mod brew;
mod profiler;
mod receipts;
mod text_output;

use super::CollectOptions;
use super::command;
use super::fallback;
use super::platform::PlatformReport;
use super::smbios;
use std::path::{Path, PathBuf};
use std::time::Duration;
use steward_shared::{Hardware, Software};

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

/// Where the tools and files are; tests point these at stand-ins.
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

pub(super) fn collect(opts: &CollectOptions) -> PlatformReport {
    collect_with(&Tools::system(), opts)
}

fn collect_with(tools: &Tools, opts: &CollectOptions) -> PlatformReport {
    std::thread::scope(|scope| {
        let apps = opts.software.then(|| {
            scope.spawn(|| {
                run(
                    &tools.system_profiler,
                    &["-json", "SPApplicationsDataType"],
                    APPS_TIMEOUT,
                    "applications",
                )
                .map(|out| apps::parse(&out))
                .unwrap_or_default()
            })
        });
        let packages = opts.software.then(|| scope.spawn(|| packages(tools)));
        let mut report = system(tools);
        for part in [apps, packages].into_iter().flatten() {
            report.software.extend(part.join().unwrap_or_default());
        }
        report
    })
}

/// Identity, OS, users, CPU, memory, volumes and network.
fn system(tools: &Tools) -> PlatformReport {
    let profile = run(
        &tools.system_profiler,
        PROFILE_ARGS,
        PROFILE_TIMEOUT,
        "system profile",
    )
    .map(|out| profiler::parse(&out))
    .unwrap_or_default();
    let ioreg = run(
        &tools.ioreg,
        &["-rd1", "-c", "IOPlatformExpertDevice"],
        QUICK_TIMEOUT,
        "I/O registry",
    )
    .map(|out| String::from_utf8_lossy(&out).into_owned())
    .unwrap_or_default();
    let mut hardware = identity(profile.hardware, &ioreg);
    if hardware == Hardware::default() {
        hardware = fallback::hardware();
    }

    let mut os = run(&tools.sw_vers, &[], QUICK_TIMEOUT, "OS version")
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
        logged_in_users: run(&tools.who, &[], QUICK_TIMEOUT, "logged-in users")
            .map(|out| text_output::parse_who(&String::from_utf8_lossy(&out)))
            .unwrap_or_default(),
        software: Vec::new(),
        cpu: profile.cpu,
        memory: profile.memory,
        disks: profile.disks,
        network: profile.network,
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

/// Installer packages (the receipts, else `pkgutil --pkgs`) and Homebrew's.
fn packages(tools: &Tools) -> Vec<Software> {
    let mut list = receipts::read_receipts(&tools.receipts).unwrap_or_else(|| {
        run(
            &tools.pkgutil,
            &["--pkgs"],
            QUICK_TIMEOUT,
            "installer packages",
        )
        .map(|out| receipts::parse_pkgutil_pkgs(&String::from_utf8_lossy(&out)))
        .unwrap_or_default()
    });
    list.extend(homebrew(&tools.brew_prefixes));
    list
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

/// Run a tool; its output, or `None` with a warning.
fn run(program: &Path, args: &[&str], timeout: Duration, what: &str) -> Option<Vec<u8>> {
    match command::output_with_timeout(program, args, timeout) {
        Ok(out) => Some(out),
        Err(e) => {
            tracing::warn!(error = %e, what, "cannot collect");
            None
        }
    }
}

#[cfg(all(test, unix))]
mod tests;
