//! From the sections of a FusionInventory / OCS inventory to our [`Inventory`] and
//! [`Health`], in the shape `steward-agent` gives them: bytes not MB, lower-case UUIDs and
//! MACs, placeholder SMBIOS values dropped, the same software sources ("dpkg", "rpm",
//! "registry"), disks limited to real local file systems, loopback left out, lists sorted.

use super::{Doc, Item};
use crate::legacy::report::LegacyReport;
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;
use steward_shared::inventory::{
    Cpu, Disk, FsUsage, Hardware, Health, Inventory, Memory, NetInterface, OsInfo, Software,
};

const MIB: f64 = 1024.0 * 1024.0;

pub(super) fn report(doc: &Doc, device_id: String, agent: String) -> LegacyReport {
    let offset = tz_offset(doc.first("OPERATINGSYSTEM").get("TIMEZONE/OFFSET"));
    let logdate = local_time(doc.first("ACCESSLOG").get("LOGDATE"), offset);
    let taken_at = logdate.unwrap_or(0);
    let os = os(doc);
    let memory = memory(doc);
    let (disks, filesystems) = drives(doc);
    let health = Health {
        taken_at,
        memory_total_bytes: memory.total_bytes,
        swap_total_bytes: memory.swap_total_bytes,
        uptime_secs: uptime(doc, logdate, offset),
        filesystems,
        ..Health::default()
    };
    let inventory = Inventory {
        collected_at: taken_at,
        agent_version: agent.clone(),
        hostname: doc.first("HARDWARE").get("NAME").to_string(),
        hardware: hardware(doc),
        cpu: cpu(doc, &os.family),
        memory,
        disks,
        network: network(doc),
        logged_in_users: users(doc),
        software: software(doc, &os.family, offset),
        errors: Vec::new(),
        os,
    };
    LegacyReport {
        device_id,
        agent,
        inventory,
        health,
        partial: None,
    }
}

/// Placeholders firmware vendors leave in SMBIOS fields (the agent's list).
#[rustfmt::skip]
const JUNK: &[&str] = &[
    "to be filled by o.e.m.", "to be filled by oem", "default string", "none", "null", "n/a",
    "na", "not specified", "not applicable", "not available", "unknown", "system serial number",
    "system product name", "system manufacturer", "system version", "chassis serial number",
    "base board serial number", "type1productconfigid", "o.e.m.", "oem", "0123456789",
    "123456789", "03000200-0400-0500-0006-000700080009",
];

/// An SMBIOS value trimmed, or empty when it is a placeholder (as the agent cleans them).
fn clean(value: &str) -> String {
    let v = value.trim().trim_matches('\0').trim();
    let lower = v.to_ascii_lowercase();
    let significant: Vec<char> = lower
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '.' | ':' | '_'))
        .collect();
    if JUNK.contains(&lower.as_str())
        || significant.iter().all(|c| *c == '0')
        || significant.iter().all(|c| *c == 'f')
    {
        return String::new();
    }
    v.to_string()
}

fn hardware(doc: &Doc) -> Hardware {
    let bios = doc.first("BIOS");
    let field = |key: &str| clean(bios.get(key));
    Hardware {
        vendor: field("SMANUFACTURER"),
        model: field("SMODEL"),
        serial: field("SSN"),
        uuid: clean(doc.first("HARDWARE").get("UUID")).to_ascii_lowercase(),
        board_vendor: field("MMANUFACTURER"),
        board_model: field("MMODEL"),
        board_serial: field("MSN"),
        bios_vendor: field("BMANUFACTURER"),
        bios_version: field("BVERSION"),
        bios_date: field("BDATE"),
        machine_id: String::new(),
    }
}

/// Our OS family ("linux", "windows", "macos", "freebsd", ...) from FusionInventory's
/// KERNEL_NAME, else from the OS names.
fn family(kernel_name: &str, names: &str) -> String {
    #[rustfmt::skip]
    const DISTROS: &[&str] = &[
        "linux", "debian", "ubuntu", "centos", "fedora", "red hat", "suse", "mint", "rocky",
        "gentoo", "slackware", "alpine", "manjaro", "mageia", "mandriva", "raspbian",
    ];
    const UNIXES: &[&str] = &["freebsd", "openbsd", "netbsd", "dragonfly", "aix"];
    let kernel = kernel_name.trim().to_ascii_lowercase();
    let all = format!("{kernel} {}", names.to_ascii_lowercase());
    let found = if kernel == "mswin32" || all.contains("windows") {
        "windows"
    } else if kernel == "darwin" || all.contains("mac os") || all.contains("macos") {
        "macos"
    } else if DISTROS.iter().any(|d| all.contains(d)) {
        "linux"
    } else if all.contains("solaris") || all.contains("sunos") {
        "solaris"
    } else if let Some(unix) = UNIXES.iter().find(|u| all.contains(*u)) {
        unix
    } else {
        kernel.as_str()
    };
    found.to_string()
}

fn os(doc: &Doc) -> OsInfo {
    let hw = doc.first("HARDWARE");
    let os = doc.first("OPERATINGSYSTEM");
    let names = format!(
        "{} {} {}",
        os.get("NAME"),
        os.get("FULL_NAME"),
        hw.get("OSNAME")
    );
    let family = family(os.get("KERNEL_NAME"), &names);
    let arch_from_description = hw.get("DESCRIPTION").split_once('/').map(|(a, _)| a);
    let arch = match first(&[
        os.get("ARCH"),
        hw.get("ARCHNAME"),
        doc.first("CPUS").get("CPUARCH"),
        arch_from_description.unwrap_or_default(),
    ]) {
        "64-bit" if family == "windows" => "x86_64",
        "32-bit" if family == "windows" => "x86",
        arch => arch,
    }
    .to_string();
    if doc.items("OPERATINGSYSTEM").next().is_some() {
        // FusionInventory: HARDWARE/OSVERSION is the kernel there.
        // On Windows VERSION is the release ("23H2"), named as the agent names it.
        let windows = family == "windows";
        let name = format!(
            "{} {}",
            os.get("FULL_NAME"),
            if windows { os.get("VERSION") } else { "" }
        );
        let version = os.get(if windows { "KERNEL_VERSION" } else { "VERSION" });
        return OsInfo {
            family,
            name: first(&[name.trim(), hw.get("OSNAME")]).to_string(),
            version: version.to_string(),
            kernel: first(&[os.get("KERNEL_VERSION"), hw.get("OSVERSION")]).to_string(),
            arch,
        };
    }
    // OCS: on Linux OSCOMMENTS is the pretty name and OSVERSION the distribution's
    // version; on Windows OSVERSION is the kernel's.
    let comments = hw.get("OSCOMMENTS");
    let pretty = family == "linux"
        && !comments.is_empty()
        && !comments.starts_with('#')
        && comments != "Unknown Linux distribution";
    let kernel = if family == "windows" {
        hw.get("OSVERSION")
    } else {
        ""
    };
    OsInfo {
        name: first(&[if pretty { comments } else { "" }, hw.get("OSNAME")]).to_string(),
        version: hw.get("OSVERSION").to_string(),
        kernel: kernel.to_string(),
        family,
        arch,
    }
}

/// The first value that is not empty.
fn first<'a>(values: &[&'a str]) -> &'a str {
    values
        .iter()
        .find(|v| !v.is_empty())
        .copied()
        .unwrap_or_default()
}

/// The leading number of "2400", "0 Mbps", "274877.906944".
fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    s[..end].parse::<f64>().ok().filter(|v| v.is_finite())
}

fn count(s: &str) -> u32 {
    number(s).map_or(0, |v| v as u32)
}

/// Megabytes (as both agents count them) in bytes.
fn mb(s: &str) -> u64 {
    number(s).map_or(0, |v| (v * MIB) as u64)
}

/// The vendor id the agent reports (the CPUID string), from the agents' short names.
fn cpu_vendor(manufacturer: &str) -> String {
    match manufacturer.trim() {
        "AMD" => "AuthenticAMD".to_string(),
        "Intel" => "GenuineIntel".to_string(),
        other => other.to_string(),
    }
}

/// One CPUS item per socket. FusionInventory: CORE per socket, THREAD logical CPUs per
/// socket (per core on Windows without dmidecode). OCS: CORES per socket, LOGICAL_CPUS.
fn cpu(doc: &Doc, family: &str) -> Cpu {
    let hw = doc.first("HARDWARE");
    let sockets: Vec<&Item> = doc.items("CPUS").collect();
    let Some(one) = sockets.first() else {
        return Cpu {
            model: hw.get("PROCESSORT").to_string(),
            vendor: String::new(),
            physical_cores: count(hw.get("PROCESSORN")),
            logical_cores: count(hw.get("PROCESSORN")),
            frequency_mhz: number(hw.get("PROCESSORS")).map_or(0, |v| v.round() as u64),
        };
    };
    let (mut physical, mut logical) = (0u32, 0u32);
    for s in &sockets {
        let ocs = ["CORES", "LOGICAL_CPUS", "THREADS"]
            .iter()
            .any(|k| !s.get(k).is_empty());
        let (cores, threads) = if ocs {
            let cores = count(s.get("CORES")).max(1);
            let logical = count(first(&[s.get("LOGICAL_CPUS"), s.get("THREADS")]));
            (cores, if logical == 0 { cores } else { logical })
        } else {
            let cores = count(s.get("CORE")).max(1);
            let thread = count(s.get("THREAD"));
            let logical = if thread == 0 {
                cores
            } else if family == "windows" && thread <= cores {
                cores.saturating_mul(thread)
            } else {
                thread
            };
            (cores, logical)
        };
        physical = physical.saturating_add(cores);
        logical = logical.saturating_add(threads);
    }
    let model = first(&[one.get("NAME"), one.get("TYPE"), hw.get("PROCESSORT")]);
    Cpu {
        model: model.to_string(),
        vendor: cpu_vendor(one.get("MANUFACTURER")),
        physical_cores: physical,
        logical_cores: logical,
        frequency_mhz: sockets
            .iter()
            .filter_map(|s| number(s.get("SPEED")))
            .map(|v| v.round() as u64)
            .max()
            .unwrap_or(0),
    }
}

/// HARDWARE/MEMORY, else the sum of the memory modules.
fn memory(doc: &Doc) -> Memory {
    let hw = doc.first("HARDWARE");
    let mut total = mb(hw.get("MEMORY"));
    if total == 0 {
        total = doc
            .items("MEMORIES")
            .map(|m| mb(m.get("CAPACITY")))
            .fold(0u64, u64::saturating_add);
    }
    Memory {
        total_bytes: total,
        swap_total_bytes: mb(hw.get("SWAP")),
    }
}

/// File systems the agent reports (its `disks::keep_filesystem`): real local ones, and
/// `/` whatever it is unless it is a network file system.
fn keep_filesystem(fs_type: &str, mount_point: &str) -> bool {
    const REAL: &[&str] = &[
        "ext2", "ext3", "ext4", "xfs", "btrfs", "bcachefs", "zfs", "f2fs", "jfs", "reiserfs",
        "nilfs2", "vfat", "fat", "msdos", "exfat", "ntfs", "ntfs3", "fuseblk", "hfs", "hfsplus",
        "apfs", "ufs", "refs",
    ];
    #[rustfmt::skip]
    const NETWORK: &[&str] = &[
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "9p", "ceph", "glusterfs", "lustre",
        "afs", "davfs", "sshfs", "afpfs", "webdav",
    ];
    let fs = fs_type.trim().to_ascii_lowercase();
    !(NETWORK.contains(&fs.as_str()) || fs.starts_with("fuse."))
        && (mount_point == "/" || REAL.contains(&fs.as_str()))
}

/// DRIVES as disks and file system use: on Unix TYPE is the mount point and VOLUMN the
/// device; on Windows LETTER is the drive ("C:", mounted at "C:\" as the agent names it)
/// and only local disks are kept. One file system per device, sorted by mount point.
fn drives(doc: &Doc) -> (Vec<Disk>, Vec<FsUsage>) {
    let mut by_device: BTreeMap<String, (Disk, FsUsage)> = BTreeMap::new();
    for d in doc.items("DRIVES") {
        let letter = d.get("LETTER");
        let filesystem = d.get("FILESYSTEM");
        let (device, mount_point) = if letter.is_empty() {
            let mount = d.get("TYPE");
            if mount.is_empty() || !keep_filesystem(filesystem, mount) {
                continue;
            }
            (d.get("VOLUMN").to_string(), mount.to_string())
        } else {
            let kind = d.get("TYPE");
            if !kind.is_empty() && !kind.eq_ignore_ascii_case("Local Disk") {
                continue;
            }
            let letter = letter.trim_end_matches('\\');
            (letter.to_string(), format!("{letter}\\"))
        };
        let total = mb(d.get("TOTAL"));
        let free = mb(d.get("FREE")).min(total);
        let key = first(&[&device, &mount_point]).to_string();
        if by_device
            .get(&key)
            .is_some_and(|(old, _)| old.mount_point.len() <= mount_point.len())
        {
            continue;
        }
        let usage = FsUsage {
            mount_point: mount_point.clone(),
            total_bytes: total,
            used_bytes: total - free,
            available_bytes: Some(free),
        };
        let disk = Disk {
            device,
            mount_point,
            filesystem: filesystem.to_string(),
            total_bytes: total,
            removable: false,
        };
        by_device.insert(key, (disk, usage));
    }
    let mut list: Vec<(Disk, FsUsage)> = by_device.into_values().collect();
    list.sort_by(|a, b| a.0.mount_point.cmp(&b.0.mount_point));
    list.into_iter().unzip()
}

/// "AA-BB-CC-DD-EE-FF" or "aa:bb:..." as "aa:bb:cc:dd:ee:ff"; all zeros as empty.
fn mac(raw: &str) -> String {
    let mac = raw.trim().to_ascii_lowercase().replace('-', ":");
    if mac.chars().all(|c| c == '0' || c == ':') {
        String::new()
    } else {
        mac
    }
}

/// NETWORKS has one item per address (FusionInventory repeats the interface for each):
/// merged by interface name, loopback left out, sorted by name, addresses sorted.
fn network(doc: &Doc) -> Vec<NetInterface> {
    let mut by_name: BTreeMap<String, NetInterface> = BTreeMap::new();
    for n in doc.items("NETWORKS") {
        let name = n.get("DESCRIPTION");
        if name == "lo" || n.get("TYPE").eq_ignore_ascii_case("loopback") {
            continue;
        }
        let mac = mac(n.get("MACADDR"));
        if name.is_empty() && mac.is_empty() {
            continue;
        }
        let key = if name.is_empty() { &mac } else { name };
        let nic = by_name
            .entry(key.to_string())
            .or_insert_with(|| NetInterface {
                name: key.to_string(),
                ..NetInterface::default()
            });
        if nic.mac.is_empty() {
            nic.mac = mac;
        }
        nic.ips.extend(
            n.all("IPADDRESS")
                .chain(n.all("IPADDRESS6"))
                .filter(|ip| !ip.is_empty())
                .map(str::to_string),
        );
    }
    let mut list: Vec<NetInterface> = by_name.into_values().collect();
    for nic in &mut list {
        nic.ips.sort();
        nic.ips.dedup();
    }
    list
}

/// Logged-in users (USERS, not the LOCAL_USERS accounts), `DOMAIN\login` when there is a
/// domain, as the agent reports Windows sessions; else HARDWARE/USERID ("a/b").
fn users(doc: &Doc) -> Vec<String> {
    let mut users: Vec<String> = doc
        .items("USERS")
        .filter(|u| !u.get("LOGIN").is_empty())
        .map(|u| match u.get("DOMAIN") {
            "" => u.get("LOGIN").to_string(),
            domain => format!("{domain}\\{}", u.get("LOGIN")),
        })
        .collect();
    if users.is_empty() {
        users = doc
            .first("HARDWARE")
            .get("USERID")
            .split('/')
            .map(str::trim)
            .filter(|u| !u.is_empty() && *u != "N/A")
            .map(str::to_string)
            .collect();
    }
    users.sort();
    users.dedup();
    users
}

/// Our source names for FROM ("deb" is dpkg's database, "registry" Windows').
fn source(item: &Item, family: &str) -> String {
    let from = item.get("FROM").to_ascii_lowercase();
    match from.as_str() {
        "deb" | "dpkg" => "dpkg".to_string(),
        "registry" if !item.get("USERNAME").is_empty() || !item.get("USERID").is_empty() => {
            "registry-user".to_string()
        }
        "" => match family {
            "windows" => "registry",
            "macos" => "macos-app",
            _ => "",
        }
        .to_string(),
        _ => from,
    }
}

/// INSTALLDATE: "DD/MM/YYYY" (FusionInventory), "YYYY/MM/DD HH:MM:SS" (OCS), or ISO-like,
/// in the agent's local time; 0 when absent or not a date.
fn install_date(raw: &str, offset: i64) -> i64 {
    let raw = raw.trim();
    let datetime = ["%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok());
    let date = || {
        ["%d/%m/%Y", "%Y/%m/%d", "%Y-%m-%d"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    };
    datetime
        .or_else(date)
        .map_or(0, |t| (t.and_utc().timestamp() - offset).max(0))
}

/// A package's name as our agent reports it: OCS names multi-arch dpkg packages with
/// their architecture ("libbz2-dev:amd64"); dpkg's own name has none.
fn package_name(name: &str, arch: &str, source: &str) -> String {
    if source == "dpkg"
        && !arch.is_empty()
        && let Some(bare) = name.strip_suffix(arch).and_then(|n| n.strip_suffix(':'))
    {
        return bare.to_string();
    }
    name.to_string()
}

fn software(doc: &Doc, family: &str, offset: i64) -> Vec<Software> {
    let mut list: Vec<Software> = doc
        .items("SOFTWARES")
        .filter(|s| !s.get("NAME").is_empty())
        .map(|s| {
            let arch = first(&[s.get("ARCH"), s.get("ARCHITECTURE")]).to_string();
            let source = source(s, family);
            Software {
                name: package_name(s.get("NAME"), &arch, &source),
                version: s.get("VERSION").to_string(),
                arch,
                publisher: s.get("PUBLISHER").to_string(),
                install_date: install_date(s.get("INSTALLDATE"), offset),
                source,
            }
        })
        .collect();
    list.sort_by(|a, b| (&a.name, &a.arch, &a.version).cmp(&(&b.name, &b.arch, &b.version)));
    list
}

/// OPERATINGSYSTEM/TIMEZONE/OFFSET ("+0100", "-0530") in seconds east of UTC; 0 (UTC)
/// when absent.
fn tz_offset(raw: &str) -> i64 {
    let raw = raw.trim();
    let (sign, digits) = match raw.as_bytes().first() {
        Some(b'+') => (1, &raw[1..]),
        Some(b'-') => (-1, &raw[1..]),
        _ => return 0,
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let hours: i64 = digits[..2].parse().unwrap_or(0);
    let minutes: i64 = digits[2..].parse().unwrap_or(0);
    sign * (hours * 3600 + minutes * 60)
}

/// "YYYY-MM-DD HH:MM:SS" in the agent's local time (`offset` east of UTC) as Unix seconds.
fn local_time(raw: &str, offset: i64) -> Option<i64> {
    NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc().timestamp() - offset)
}

/// FusionInventory: LOGDATE - OPERATINGSYSTEM/BOOT_TIME. OCS: the uptime in
/// HARDWARE/DESCRIPTION ("x86_64/00-00-02 07:20:53": gmtime of the uptime, written as
/// years since 1970, zero-based month, day - 1). 0 when unknown.
fn uptime(doc: &Doc, logdate: Option<i64>, offset: i64) -> u64 {
    let boot = local_time(doc.first("OPERATINGSYSTEM").get("BOOT_TIME"), offset);
    if let (Some(now), Some(boot)) = (logdate, boot) {
        return u64::try_from(now - boot).unwrap_or(0);
    }
    let description = doc.first("HARDWARE").get("DESCRIPTION");
    let Some((_, up)) = description.split_once('/') else {
        return 0;
    };
    let parts: Vec<u32> = up
        .split(['-', ' ', ':'])
        .map(|p| p.parse::<u32>().ok().filter(|_| p.len() >= 2))
        .collect::<Option<_>>()
        .unwrap_or_default();
    let [years, month, day, h, m, s] = parts[..] else {
        return 0;
    };
    let time = i32::try_from(years)
        .ok()
        .and_then(|y| {
            NaiveDate::from_ymd_opt(
                y.checked_add(1970)?,
                month.checked_add(1)?,
                day.checked_add(1)?,
            )
        })
        .and_then(|d| d.and_hms_opt(h, m, s));
    time.map_or(0, |t| u64::try_from(t.and_utc().timestamp()).unwrap_or(0))
}
