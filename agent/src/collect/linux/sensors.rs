//! Temperature sensors: hwmon (`/sys/class/hwmon`), else the thermal zones
//! (`/sys/class/thermal`), which on most machines hwmon lists too.
//!
//! Values are in millidegrees Celsius. Readings outside -40..=150 °C are a disconnected
//! or broken sensor and are skipped, as are sensors that fail to read (many report an
//! I/O error when their device sleeps).

use std::path::{Path, PathBuf};
use steward_shared::Temperature;

pub(super) const HWMON: &str = "/sys/class/hwmon";
pub(super) const THERMAL: &str = "/sys/class/thermal";

/// The sensors under `hwmon_root`, or if it has none those under `thermal_root`, in the
/// kernel's order. Labels are made unique.
pub(super) fn read(hwmon_root: &Path, thermal_root: &Path) -> Vec<Temperature> {
    let mut list = hwmon(hwmon_root);
    if list.is_empty() {
        list = thermal_zones(thermal_root);
    }
    number_duplicate_labels(&mut list);
    list
}

/// Each `hwmonN` device's `tempM_input`, labelled "`name` `tempM_label`" ("coretemp
/// Core 0", "nvme Composite"), or by the device's name alone (with "tempM" when it has
/// several unlabelled sensors); `tempM_crit` is the critical threshold.
fn hwmon(root: &Path) -> Vec<Temperature> {
    let mut list = Vec::new();
    for (n, dir) in numbered(root, "hwmon", "") {
        let name = read_text(&dir.join("name")).unwrap_or_else(|| format!("hwmon{n}"));
        let inputs = numbered(&dir, "temp", "_input");
        let several = inputs.len() > 1;
        for (m, input) in inputs {
            let Some(celsius) = millidegrees(&input) else {
                continue;
            };
            let label = match read_text(&dir.join(format!("temp{m}_label"))) {
                Some(label) => format!("{name} {label}"),
                None if several => format!("{name} temp{m}"),
                None => name.clone(),
            };
            list.push(Temperature {
                label,
                celsius,
                critical_celsius: critical(&dir.join(format!("temp{m}_crit"))),
            });
        }
    }
    list
}

/// Each `thermal_zoneN/temp`, labelled by its `type`; the critical threshold is the
/// trip point of type `critical`.
fn thermal_zones(root: &Path) -> Vec<Temperature> {
    let mut list = Vec::new();
    for (n, dir) in numbered(root, "thermal_zone", "") {
        let Some(celsius) = millidegrees(&dir.join("temp")) else {
            continue;
        };
        let critical_trip = numbered(&dir, "trip_point_", "_type")
            .into_iter()
            .find(|(_, path)| read_text(path).as_deref() == Some("critical"))
            .and_then(|(k, _)| critical(&dir.join(format!("trip_point_{k}_temp"))));
        list.push(Temperature {
            label: read_text(&dir.join("type")).unwrap_or_else(|| format!("thermal_zone{n}")),
            celsius,
            critical_celsius: critical_trip,
        });
    }
    list
}

/// Entries of `dir` named `{prefix}N{suffix}`, by N.
fn numbered(dir: &Path, prefix: &str, suffix: &str) -> Vec<(u32, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut list: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let n = name
                .to_str()?
                .strip_prefix(prefix)?
                .strip_suffix(suffix)?
                .parse()
                .ok()?;
            Some((n, e.path()))
        })
        .collect();
    list.sort();
    list
}

fn read_text(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// A reading in millidegrees, in °C; `None` when unreadable or absurd.
fn millidegrees(path: &Path) -> Option<f64> {
    let value: i64 = read_text(path)?.parse().ok()?;
    let celsius = value as f64 / 1000.0;
    (-40.0..=150.0).contains(&celsius).then_some(celsius)
}

/// A critical threshold: a sane reading above 0 °C.
fn critical(path: &Path) -> Option<f64> {
    millidegrees(path).filter(|c| *c > 0.0)
}

/// "nvme Composite", "nvme Composite #2": two drives of the same kind stay apart.
fn number_duplicate_labels(list: &mut [Temperature]) {
    for i in 1..list.len() {
        let (before, rest) = list.split_at_mut(i);
        let label = &mut rest[0].label;
        let same = before.iter().filter(|t| t.label == *label).count();
        if same > 0 {
            label.push_str(&format!(" #{}", same + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir).expect("mkdir");
        std::fs::write(dir.join(name), text).expect("write");
    }

    #[test]
    fn hwmon_devices_with_labels_thresholds_and_broken_sensors() {
        let root = tempfile::tempdir().expect("tempdir");
        let hwmon = root.path().join("hwmon");
        let coretemp = hwmon.join("hwmon2");
        write(&coretemp, "name", "coretemp\n");
        write(&coretemp, "temp1_input", "45000\n");
        write(&coretemp, "temp1_label", "Package id 0\n");
        write(&coretemp, "temp1_crit", "100000\n");
        write(&coretemp, "temp10_input", "43500\n");
        write(&coretemp, "temp10_label", "Core 8\n");
        write(&coretemp, "temp2_input", "44000\n");
        write(&coretemp, "temp2_label", "Core 0\n");
        // A disconnected probe and a sensor that cannot be read.
        write(&coretemp, "temp3_input", "-273150\n");
        write(&coretemp, "temp4_input", "");
        let acpi = hwmon.join("hwmon0");
        write(&acpi, "name", "acpitz");
        write(&acpi, "temp1_input", "27800");
        write(&acpi, "temp1_crit", "255000");
        for (dir, value) in [("hwmon3", "38850"), ("hwmon4", "41850")] {
            let nvme = hwmon.join(dir);
            write(&nvme, "name", "nvme");
            write(&nvme, "temp1_input", value);
            write(&nvme, "temp1_label", "Composite");
            write(&nvme, "temp1_crit", "84850");
        }
        let unnamed = hwmon.join("hwmon7");
        write(&unnamed, "temp1_input", "30000");
        write(&unnamed, "temp2_input", "31000");
        let t = |label: &str, celsius: f64, critical_celsius: Option<f64>| Temperature {
            label: label.into(),
            celsius,
            critical_celsius,
        };
        assert_eq!(
            read(&hwmon, &root.path().join("thermal")),
            vec![
                t("acpitz", 27.8, None),
                t("coretemp Package id 0", 45.0, Some(100.0)),
                t("coretemp Core 0", 44.0, None),
                t("coretemp Core 8", 43.5, None),
                t("nvme Composite", 38.85, Some(84.85)),
                t("nvme Composite #2", 41.85, Some(84.85)),
                t("hwmon7 temp1", 30.0, None),
                t("hwmon7 temp2", 31.0, None),
            ]
        );
    }

    #[test]
    fn thermal_zones_when_there_is_no_hwmon() {
        let root = tempfile::tempdir().expect("tempdir");
        let thermal = root.path().join("thermal");
        let zone = thermal.join("thermal_zone0");
        write(&zone, "type", "x86_pkg_temp\n");
        write(&zone, "temp", "52000\n");
        write(&zone, "trip_point_0_type", "passive\n");
        write(&zone, "trip_point_0_temp", "95000\n");
        write(&zone, "trip_point_1_type", "critical\n");
        write(&zone, "trip_point_1_temp", "105000\n");
        write(&thermal.join("thermal_zone1"), "temp", "151000");
        write(&thermal.join("thermal_zone2"), "temp", "-5000");
        write(&thermal.join("cooling_device0"), "type", "Processor");
        let list = read(&root.path().join("no-hwmon"), &thermal);
        assert_eq!(
            list,
            vec![
                Temperature {
                    label: "x86_pkg_temp".into(),
                    celsius: 52.0,
                    critical_celsius: Some(105.0),
                },
                Temperature {
                    label: "thermal_zone2".into(),
                    celsius: -5.0,
                    critical_celsius: None,
                },
            ]
        );
        // Neither: no sensors (a VM, a container).
        assert!(read(&root.path().join("a"), &root.path().join("b")).is_empty());
    }
}
