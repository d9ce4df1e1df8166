//! A GLPI inventory's `content` (glpi-project/inventory_format, lower-case keys) mapped
//! onto our model, following our own agent's conventions: sizes in bytes, lower-case
//! colon MACs, SMBIOS UUIDs in lower case, software sources named as our collectors
//! name them, loopback and pseudo file systems left out.
//!
//! Not mapped, for want of a place in our model: `monitors`, `batteries`, `storages`,
//! `videos`, `printers`, `antivirus`, `virtualmachines`, `hardware.workgroup` and the
//! like. Unknown sections and fields are ignored.

use super::{MAX_ITEMS, MAX_SOFTWARE, Obj, split_client};
use crate::legacy::report::{LegacyError, LegacyReport, Section};
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;
use steward_shared::inventory::{
    Cpu, Disk, FsUsage, Hardware, Health, Inventory, Memory, NetInterface, OsInfo, Software,
};

const MIB: u64 = 1024 * 1024;

/// Maps one inventory. `partial`: the document's `partial` flag.
pub(super) fn report(
    device_id: String,
    content: &Obj<'_>,
    partial: bool,
    user_agent: Option<&str>,
) -> Result<LegacyReport, LegacyError> {
    let hardware = content.obj("hardware")?;
    let bios = content.obj("bios")?;
    let os_obj = content.obj("operatingsystem")?;
    let client = content.string("versionclient")?;

    // Times are the machine's local time; the offset, when sent, makes them UTC.
    let offset = match &os_obj {
        Some(os) => match os.obj("timezone")? {
            Some(tz) => tz_offset_secs(&tz.string("offset")?),
            None => 0,
        },
        None => 0,
    };
    let logdate = match content.obj("accesslog")? {
        Some(log) => local_datetime(&log.string("logdate")?),
        None => None,
    };
    let collected_at = logdate.map_or(0, |t| t - offset);

    let mut inv = Inventory {
        collected_at,
        agent_version: split_client(&client)
            .or_else(|| user_agent.and_then(split_client))
            .map(|(_, v)| v)
            .unwrap_or_default(),
        ..Inventory::default()
    };
    let mut health = Health {
        taken_at: collected_at,
        ..Health::default()
    };

    if let Some(hw) = &hardware {
        inv.hostname = hw.string("name")?;
        inv.memory = Memory {
            total_bytes: hw.uint("memory")?.unwrap_or(0).saturating_mul(MIB),
            swap_total_bytes: hw.uint("swap")?.unwrap_or(0).saturating_mul(MIB),
        };
    }
    inv.hardware = map_hardware(hardware.as_ref(), bios.as_ref())?;
    let memories = content.list("memories", MAX_ITEMS)?;
    if inv.memory.total_bytes == 0 {
        let mut sum = 0u64;
        for m in &memories {
            sum = sum.saturating_add(m.uint("capacity")?.unwrap_or(0).saturating_mul(MIB));
        }
        inv.memory.total_bytes = sum;
    }
    health.memory_total_bytes = inv.memory.total_bytes;
    health.swap_total_bytes = inv.memory.swap_total_bytes;

    if let Some(os) = &os_obj {
        inv.os = map_os(os)?;
        let boot = local_datetime(&os.string("boot_time")?);
        if let (Some(boot), Some(now)) = (boot, logdate) {
            health.uptime_secs = u64::try_from(now - boot).unwrap_or(0);
        }
    }
    inv.cpu = map_cpu(&content.list("cpus", MAX_ITEMS)?)?;
    let (disks, filesystems) = map_drives(&content.list("drives", MAX_ITEMS)?)?;
    inv.disks = disks;
    health.filesystems = filesystems;
    inv.network = map_networks(&content.list("networks", MAX_ITEMS)?)?;
    inv.logged_in_users = map_users(&content.list("users", MAX_ITEMS)?)?;
    inv.software = map_software(&content.list("softwares", MAX_SOFTWARE)?)?;

    let partial = partial.then(|| {
        let memory_in_hardware = hardware
            .as_ref()
            .is_some_and(|h| h.has("memory") || h.has("swap"));
        [
            (Section::Hardware, hardware.is_some() || bios.is_some()),
            (Section::Os, os_obj.is_some()),
            (Section::Cpu, content.has("cpus")),
            (
                Section::Memory,
                memory_in_hardware || content.has("memories"),
            ),
            (Section::Disks, content.has("drives")),
            (Section::Network, content.has("networks")),
            (Section::Users, content.has("users")),
            (Section::Software, content.has("softwares")),
        ]
        .into_iter()
        .filter_map(|(section, present)| present.then_some(section))
        .collect()
    });

    Ok(LegacyReport {
        device_id,
        agent: super::agent_label(Some(&client), user_agent),
        inventory: inv,
        health,
        partial,
    })
}

/// SMBIOS identity: system from `bios.s*`, board from `bios.m*`, firmware from `bios.b*`,
/// UUID from `hardware.uuid`. GLPI sends no OS machine id.
fn map_hardware(hw: Option<&Obj<'_>>, bios: Option<&Obj<'_>>) -> Result<Hardware, LegacyError> {
    let mut out = Hardware::default();
    if let Some(hw) = hw {
        out.uuid = hw.string("uuid")?.to_ascii_lowercase();
    }
    if let Some(b) = bios {
        out.vendor = b.string("smanufacturer")?;
        out.model = b.string("smodel")?;
        out.serial = b.string("ssn")?;
        out.board_vendor = b.string("mmanufacturer")?;
        out.board_model = b.string("mmodel")?;
        out.board_serial = b.string("msn")?;
        out.bios_vendor = b.string("bmanufacturer")?;
        out.bios_version = b.string("bversion")?;
        // Our agents report the SMBIOS form, MM/DD/YYYY; GLPI sends YYYY-MM-DD.
        let date = b.string("bdate")?;
        out.bios_date = match NaiveDate::parse_from_str(&date, "%Y-%m-%d") {
            Ok(d) => d.format("%m/%d/%Y").to_string(),
            Err(_) => date,
        };
    }
    Ok(out)
}

fn map_os(os: &Obj<'_>) -> Result<OsInfo, LegacyError> {
    let name = os.string("name")?;
    let full_name = os.string("full_name")?;
    let version = os.string("version")?;
    let kernel = os.string("kernel_version")?;
    let kernel_name = os.string("kernel_name")?.to_ascii_lowercase();
    let lower_name = format!("{name} {full_name}").to_ascii_lowercase();
    let family = match kernel_name.as_str() {
        "linux" => "linux".to_string(),
        "darwin" => "macos".to_string(),
        k if k.starts_with("mswin") || k.starts_with("win") => "windows".to_string(),
        "" if lower_name.contains("windows") => "windows".to_string(),
        "" if ["macos", "mac os", "os x"]
            .iter()
            .any(|m| lower_name.contains(m)) =>
        {
            "macos".to_string()
        }
        "" if lower_name.contains("linux") => "linux".to_string(),
        k => k.to_string(),
    };
    let mut out = OsInfo {
        family,
        name: if full_name.is_empty() {
            name
        } else {
            full_name
        },
        version,
        kernel: kernel.clone(),
        arch: os.string("arch")?,
    };
    if out.family == "windows" {
        // As our Windows collector: "Microsoft Windows 11 Pro 23H2", version
        // "10.0.22631.3737". GLPI sends the display version ("23H2") as `version`, the
        // build as `kernel_version` and "<build>.<UBR>" as `service_pack`.
        if !out.version.is_empty() && !out.name.contains(&out.version) {
            out.name = format!("{} {}", out.name, out.version);
        }
        out.version = kernel.clone();
        let sp = os.string("service_pack")?;
        if let Some((build, ubr)) = sp.split_once('.')
            && kernel.rsplit('.').next() == Some(build)
            && !ubr.is_empty()
            && ubr.bytes().all(|b| b.is_ascii_digit())
        {
            out.version = format!("{kernel}.{ubr}");
        }
    }
    Ok(out)
}

/// All sockets summed. `thread` is threads per core (inventory_format); agents that
/// fell back to /proc/cpuinfo send threads per socket there, which shows as more
/// threads than cores.
fn map_cpu(cpus: &[Obj<'_>]) -> Result<Cpu, LegacyError> {
    let mut out = Cpu::default();
    let (mut physical, mut logical) = (0u64, 0u64);
    for (i, c) in cpus.iter().enumerate() {
        let (name, vendor) = (c.string("name")?, c.string("manufacturer")?);
        if i == 0 {
            out.model = name;
            out.vendor = cpu_vendor(&vendor);
        }
        let core = c.uint("core")?.unwrap_or(0);
        let thread = c.uint("thread")?.unwrap_or(0);
        physical = physical.saturating_add(core);
        logical = logical.saturating_add(match (core, thread) {
            (c, 0) => c,
            (c, t) if t > c => t,
            (c, t) => c.saturating_mul(t),
        });
        out.frequency_mhz = out.frequency_mhz.max(c.uint("speed")?.unwrap_or(0));
    }
    out.physical_cores = u32::try_from(physical).unwrap_or(u32::MAX);
    out.logical_cores = u32::try_from(logical).unwrap_or(u32::MAX);
    Ok(out)
}

/// Our agents report the CPUID vendor string; GLPI Agent shortens it.
fn cpu_vendor(manufacturer: &str) -> String {
    match manufacturer.to_ascii_lowercase().as_str() {
        "intel" => "GenuineIntel".to_string(),
        "amd" => "AuthenticAMD".to_string(),
        _ => manufacturer.to_string(),
    }
}

/// File systems our agent keeps (its `REAL_FILESYSTEMS`, plus Windows' FAT names).
const REAL_FILESYSTEMS: &[&str] = &[
    "ext2", "ext3", "ext4", "xfs", "btrfs", "bcachefs", "zfs", "f2fs", "jfs", "reiserfs", "nilfs2",
    "vfat", "fat", "fat16", "fat32", "msdos", "exfat", "ntfs", "ntfs3", "fuseblk", "hfs",
    "hfsplus", "apfs", "ufs", "refs",
];
const NETWORK_FILESYSTEMS: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "ncpfs",
    "9p",
    "ceph",
    "glusterfs",
    "lustre",
    "afs",
    "davfs",
    "sshfs",
    "afpfs",
    "webdav",
];

/// Drives as our agent lists mounts: real local file systems, one per device (the
/// shortest mount point), sorted by mount point. Linux: `type` is the mount point and
/// `volumn` the device; Windows: `letter` is the drive, `volumn` its label (what our
/// agent reports as the device there) and `type` its kind.
fn map_drives(drives: &[Obj<'_>]) -> Result<(Vec<Disk>, Vec<FsUsage>), LegacyError> {
    let mut by_device: BTreeMap<String, (Disk, FsUsage)> = BTreeMap::new();
    for d in drives {
        let letter = d.string("letter")?;
        let kind = d.string("type")?;
        let fs = d.string("filesystem")?;
        let fs_lower = fs.to_ascii_lowercase();
        let device = d.string("volumn")?;
        let mount_point = if letter.is_empty() {
            kind.clone()
        } else {
            format!("{}\\", letter.trim_end_matches('\\'))
        };
        let network = NETWORK_FILESYSTEMS.contains(&fs_lower.as_str())
            || fs_lower.starts_with("fuse.")
            || (!letter.is_empty() && kind.to_ascii_lowercase().contains("network"));
        let real = REAL_FILESYSTEMS.contains(&fs_lower.as_str()) || mount_point == "/";
        let total = d.uint("total")?.unwrap_or(0).saturating_mul(MIB);
        let free = d.uint("free")?.unwrap_or(0).saturating_mul(MIB).min(total);
        if mount_point.is_empty() || network || !real {
            continue;
        }
        let disk = Disk {
            device: device.clone(),
            mount_point: mount_point.clone(),
            filesystem: fs,
            total_bytes: total,
            removable: kind.to_ascii_lowercase().contains("removable"),
        };
        let usage = FsUsage {
            mount_point,
            total_bytes: total,
            used_bytes: total - free,
            available_bytes: Some(free),
        };
        // Windows volume names (labels) are not unique: one entry per drive letter.
        let key = if device.is_empty() || !letter.is_empty() {
            disk.mount_point.clone()
        } else {
            device
        };
        match by_device.get(&key) {
            Some((old, _)) if old.mount_point.len() <= disk.mount_point.len() => {}
            _ => {
                by_device.insert(key, (disk, usage));
            }
        }
    }
    let mut list: Vec<(Disk, FsUsage)> = by_device.into_values().collect();
    list.sort_by(|a, b| a.0.mount_point.cmp(&b.0.mount_point));
    Ok(list.into_iter().unzip())
}

/// GLPI sends one entry per address; entries of one interface (same name and MAC) are
/// merged. Loopback is left out, as our agent does.
fn map_networks(networks: &[Obj<'_>]) -> Result<Vec<NetInterface>, LegacyError> {
    let mut by_name: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for n in networks {
        let name = n.string("description")?;
        let mac = normalize_mac(&n.string("mac")?);
        let ips: Vec<String> = [n.string("ipaddress")?, n.string("ipaddress6")?]
            .into_iter()
            .filter(|ip| !ip.is_empty())
            .collect();
        let loopback = n.string("type")?.eq_ignore_ascii_case("loopback")
            || name == "lo"
            || name.to_ascii_lowercase().contains("loopback")
            || (mac.is_empty() && !ips.is_empty() && ips.iter().all(|ip| is_loopback(ip)));
        if loopback || (name.is_empty() && mac.is_empty()) {
            continue;
        }
        by_name.entry((name, mac)).or_default().extend(ips);
    }
    Ok(by_name
        .into_iter()
        .map(|((name, mac), mut ips)| {
            ips.sort();
            ips.dedup();
            NetInterface { name, mac, ips }
        })
        .collect())
}

fn is_loopback(ip: &str) -> bool {
    ip.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Lower-case, colon separated; empty for the all-zero placeholder.
pub(super) fn normalize_mac(mac: &str) -> String {
    let mac = mac.trim().to_ascii_lowercase().replace('-', ":");
    if mac.chars().all(|c| c == '0' || c == ':') {
        String::new()
    } else {
        mac
    }
}

/// "DOMAIN\user" where a domain is sent (as our Windows collector names users), sorted,
/// without duplicates.
fn map_users(users: &[Obj<'_>]) -> Result<Vec<String>, LegacyError> {
    let mut out = Vec::with_capacity(users.len());
    for u in users {
        let login = u.string("login")?;
        let domain = u.string("domain")?;
        if login.is_empty() {
            continue;
        }
        out.push(if domain.is_empty() {
            login
        } else {
            format!("{domain}\\{login}")
        });
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Release types our Windows collector leaves out (updates of another product).
const UPDATE_RELEASE_TYPES: &[&str] = &["update", "hotfix", "security update", "service pack"];

/// Software as our collectors list it. `from` becomes our source name ("deb" is
/// "dpkg", "uwp" is "appx", registry entries of a user profile are "registry-user").
/// As in "Programs and Features", Windows updates, hotfixes (`from` "WMI") and system
/// components are left out, and the 32-bit registry view is arch "x86".
fn map_software(items: &[Obj<'_>]) -> Result<Vec<Software>, LegacyError> {
    let mut out = Vec::with_capacity(items.len());
    for s in items {
        let from = s.string("from")?.to_ascii_lowercase();
        let release = s.string("release_type")?.to_ascii_lowercase();
        let category = s.string("system_category")?.to_ascii_lowercase();
        let user = s.string("userid")?;
        let mut item = Software {
            name: s.string("name")?,
            version: s.string("version")?,
            arch: s.string("arch")?,
            publisher: s.string("publisher")?,
            install_date: install_date(&s.string("install_date")?),
            source: from.clone(),
        };
        match from.as_str() {
            _ if item.name.is_empty() => continue,
            "wmi" => continue,
            "deb" => item.source = "dpkg".to_string(),
            "uwp" => {
                item.source = "appx".to_string();
                item.arch = item.arch.to_ascii_lowercase();
            }
            "registry" => {
                if UPDATE_RELEASE_TYPES.contains(&release.as_str())
                    || category == "system_component"
                {
                    continue;
                }
                if !user.is_empty() {
                    item.source = "registry-user".to_string();
                }
                item.arch = match item.arch.as_str() {
                    "i386" | "i586" | "i686" | "x86" => "x86".to_string(),
                    _ => String::new(),
                };
            }
            _ => {}
        }
        out.push(item);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// "YYYY-MM-DD" (or a datetime starting with it, or "DD/MM/YYYY" from older agents) as
/// Unix seconds at midnight UTC, as our collectors count install dates; 0 otherwise.
pub(super) fn install_date(s: &str) -> i64 {
    let date = s
        .get(..10)
        .and_then(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(d, "%d/%m/%Y"))
                .ok()
        })
        .and_then(|d| d.and_hms_opt(0, 0, 0));
    date.map_or(0, |d| d.and_utc().timestamp())
}

/// "2024-05-13 08:12:44" (local time) as seconds, as if it were UTC.
pub(super) fn local_datetime(s: &str) -> Option<i64> {
    let s = s.get(..19).unwrap_or(s);
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc().timestamp())
}

/// "+0200" or "-05:30" as seconds east of UTC; 0 when unreadable.
pub(super) fn tz_offset_secs(s: &str) -> i64 {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return 0,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let hours: i64 = digits[..2].parse().unwrap_or(0);
    let minutes: i64 = digits[2..].parse().unwrap_or(0);
    if hours > 14 || minutes > 59 {
        return 0;
    }
    sign * (hours * 3600 + minutes * 60)
}
