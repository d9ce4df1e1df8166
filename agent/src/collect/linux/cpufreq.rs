//! The CPU's maximum clock from cpufreq: a fixed figure, where the current clock (what
//! `sysinfo` reads) changes from one collection to the next on any machine that scales
//! its frequency, and would make every check-in an inventory change.

use std::path::Path;

/// Where the kernel describes the CPUs.
pub(super) const CPU_DIR: &str = "/sys/devices/system/cpu";

/// The highest `cpuinfo_max_freq` (kHz) of the cpufreq policies under `cpu_dir` (each
/// cluster of a big.LITTLE CPU has its own), else `cpu0`'s, in MHz; 0 when there is no
/// cpufreq (most VMs and containers).
pub(super) fn max_mhz(cpu_dir: &Path) -> u64 {
    let policies = std::fs::read_dir(cpu_dir.join("cpufreq"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("policy"))
        .filter_map(|e| khz(&e.path().join("cpuinfo_max_freq")))
        .max();
    policies
        .or_else(|| khz(&cpu_dir.join("cpu0/cpufreq/cpuinfo_max_freq")))
        .map_or(0, |khz| khz / 1000)
}

fn khz(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn the_fastest_policy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cpu = dir.path();
        assert_eq!(max_mhz(cpu), 0);
        write(&cpu.join("cpu0/cpufreq/cpuinfo_max_freq"), "1800000\n");
        assert_eq!(max_mhz(cpu), 1800);
        // A big.LITTLE CPU: cpu0 is a little core.
        write(&cpu.join("cpufreq/policy0/cpuinfo_max_freq"), "1800000\n");
        write(&cpu.join("cpufreq/policy4/cpuinfo_max_freq"), "2400000\n");
        write(&cpu.join("cpufreq/policy6/cpuinfo_max_freq"), "garbage\n");
        write(&cpu.join("cpufreq/boost"), "1\n");
        assert_eq!(max_mhz(cpu), 2400);
    }
}
