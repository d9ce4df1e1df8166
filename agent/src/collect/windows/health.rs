//! The health extras in the Windows system script's JSON (see
//! [`super::scripts::SYSTEM`]): whether a reboot is pending, and the services set to
//! start automatically that are stopped.

use crate::collect::json::{get, texts};
use crate::collect::platform::HealthExtras;
use serde_json::Value;

/// Automatic services that routinely stop on their own and are no failure: trigger-start
/// or delayed-start services that exit when idle, and updaters that run and stop.
/// Compared without case.
const ROUTINELY_STOPPED: &[&str] = &[
    "sppsvc",           // Software Protection (licensing), trigger-started
    "edgeupdate",       // Microsoft Edge updater
    "gupdate",          // Google updater (old)
    "MapsBroker",       // Downloaded Maps Manager, delayed start
    "RemoteRegistry",   // trigger-started, stops when idle
    "tiledatamodelsvc", // Tile Data model server (Windows 10 before 1803)
    "WbioSrvc",         // Windows Biometric Service, trigger-started
    "DoSvc",            // Delivery Optimization, stops when idle
];

/// Name prefixes of the same, for services named with a version: .NET's native image
/// generator (`clr_optimization_v4.0.30319_64`) and Google's updater
/// (`GoogleUpdaterService123.0.6309.0`).
const ROUTINELY_STOPPED_PREFIXES: &[&str] = &["clr_optimization_", "GoogleUpdater"];

/// The pending reboot and the stopped services; absent keys (an older script) are
/// unknown and empty.
pub(super) fn parse(v: &Value) -> HealthExtras {
    HealthExtras {
        pending_reboot: pending_reboot(v),
        failed_services: stopped_services(v),
        ..HealthExtras::default()
    }
}

/// `PendingReboot` is an object of checks (`ComponentBasedServicing`, `WindowsUpdate`),
/// each true when its registry marker exists: a reboot is pending when any is.
fn pending_reboot(v: &Value) -> Option<bool> {
    let checks = get(v, "PendingReboot")?.as_object()?;
    let answers: Vec<bool> = checks.values().filter_map(Value::as_bool).collect();
    (!answers.is_empty()).then(|| answers.contains(&true))
}

/// `StoppedAutoServices`: service names, without the routinely stopped ones, sorted.
fn stopped_services(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = texts(v, "StoppedAutoServices")
        .into_iter()
        .filter(|name| !name.is_empty() && !routinely_stopped(name))
        .collect();
    names.sort_by_key(|n| n.to_ascii_lowercase());
    names.dedup();
    names
}

fn routinely_stopped(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ROUTINELY_STOPPED
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
        || ROUTINELY_STOPPED_PREFIXES
            .iter()
            .any(|p| lower.starts_with(&p.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_json(text: &str) -> HealthExtras {
        parse(&serde_json::from_str(text).expect("json"))
    }

    #[test]
    fn pending_reboot_from_either_marker() {
        let h = parse_json(
            r#"{"PendingReboot":{"ComponentBasedServicing":false,"WindowsUpdate":true}}"#,
        );
        assert_eq!(h.pending_reboot, Some(true));
        let h = parse_json(
            r#"{"PendingReboot":{"ComponentBasedServicing":false,"WindowsUpdate":false}}"#,
        );
        assert_eq!(h.pending_reboot, Some(false));
        for unknown in [
            r#"{}"#,
            r#"{"PendingReboot":null}"#,
            r#"{"PendingReboot":{}}"#,
        ] {
            assert_eq!(parse_json(unknown).pending_reboot, None, "{unknown}");
        }
    }

    #[test]
    fn stopped_services_without_the_routine_ones() {
        let h = parse_json(
            r#"{"StoppedAutoServices":["Spooler","sppsvc","MapsBroker","edgeupdate",
                "clr_optimization_v4.0.30319_64","GoogleUpdaterService123.0.6309.0",
                "CrowdStrike Falcon","REMOTEREGISTRY","Spooler",""]}"#,
        );
        assert_eq!(h.failed_services, ["CrowdStrike Falcon", "Spooler"]);
        // A single service is a bare string; none at all is null or missing.
        let h = parse_json(r#"{"StoppedAutoServices":"wuauserv"}"#);
        assert_eq!(h.failed_services, ["wuauserv"]);
        assert!(
            parse_json(r#"{"StoppedAutoServices":null}"#)
                .failed_services
                .is_empty()
        );
        assert!(parse_json("{}").failed_services.is_empty());
    }
}
