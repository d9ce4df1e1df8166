//! The simulated fleet. Each agent's machine is drawn from its index (same index, same
//! machine, so a run can resume on an existing database): a computer or server of the
//! fleet's mix with 150 to 1,500 packages depending on its OS. Reports are built the way
//! the agent builds them (a full report first, then deltas and heartbeats on the stored
//! digest) and encoded by the agent's own wire code.

use crate::rng::Rng;
use crate::seed::machines::{Drawn, Family, draw_machine};
use crate::seed::packages::Packages;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use steward_shared::{
    CheckinRequest, Cpu, Disk, FsUsage, Hardware, Health, Inventory, InventoryDelta, Memory,
    NetInterface, OsInfo, ReportKind, Software,
};

/// The package every simulated machine has and that its deltas upgrade.
const PROBE: &str = "steward-loadgen-probe";
const SEED: u64 = 0x5EED_10AD_6E4E_u64;

/// One enrolled agent and where its report chain stands. `version` counts inventory
/// changes (the digest is derived from it); `seq` counts reports sent.
#[derive(Debug)]
pub struct Agent {
    pub index: u64,
    pub id: String,
    pub secret: String,
    pub seq: AtomicU64,
    pub version: AtomicU64,
    /// The highest seq the server acknowledged.
    pub acked: AtomicU64,
    /// Whether the server holds a full report of it.
    pub has_full: AtomicBool,
    /// A report of it is in flight (an agent sends one at a time).
    pub busy: AtomicBool,
}

impl Agent {
    pub fn new(index: u64, id: String, secret: String) -> Agent {
        Agent {
            index,
            id,
            secret,
            seq: AtomicU64::new(0),
            version: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            has_full: AtomicBool::new(false),
            busy: AtomicBool::new(false),
        }
    }

    /// Claims the agent for one report; false when one is already in flight.
    pub fn claim(&self) -> bool {
        !self.busy.swap(true, Ordering::AcqRel)
    }

    pub fn release(&self) {
        self.busy.store(false, Ordering::Release);
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}.{}", self.id, self.secret)
    }

    fn digest(&self, version: u64) -> String {
        format!("loadgen-{}-{version}", self.index)
    }
}

/// What kind of report to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Full,
    Delta,
    Heartbeat,
}

/// A machine as its agent sees it.
pub struct Machine {
    pub drawn: Drawn,
    pub hostname: String,
    pub software: Vec<Software>,
}

/// Draws machines; keeps the package catalogs between calls.
pub struct Fleet {
    packages: Packages,
}

impl Default for Fleet {
    fn default() -> Self {
        Fleet {
            packages: Packages::wide(),
        }
    }
}

fn rng_for(index: u64, salt: u64) -> Rng {
    Rng::new(SEED ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt)
}

/// How many packages a machine of `family` has: Windows and macOS desktops 150 to 450,
/// Linux servers 400 to 1,000, Linux desktops 800 to 1,500.
fn package_count(rng: &mut Rng, family: Family, server: bool) -> usize {
    let (lo, hi) = match family {
        Family::Windows => (150, 400),
        Family::MacOs => (150, 450),
        Family::Debian(_) | Family::Rhel(_) if server => (400, 1_000),
        Family::Debian(_) | Family::Rhel(_) => (800, 1_500),
    };
    rng.range(lo, hi) as usize
}

/// The make of machine number `index` (cheap: no packages).
pub fn drawn(index: u64) -> Drawn {
    draw_machine(&mut rng_for(index, 1))
}

impl Fleet {
    /// Machine number `index`, with its packages.
    pub fn machine(&mut self, index: u64) -> Machine {
        let mut rng = rng_for(index, 1);
        let drawn = draw_machine(&mut rng);
        let count = package_count(&mut rng, drawn.os.family, drawn.kind == "server");
        let software = self
            .packages
            .pick(&mut rng, drawn.os.family, count)
            .into_iter()
            .map(|i| Software {
                name: i.name,
                version: i.version,
                arch: i.arch.to_owned(),
                publisher: i.publisher,
                install_date: 1_700_000_000 + rng.range(0, 60_000_000),
                source: i.source.to_owned(),
            })
            .collect();
        Machine {
            hostname: format!("{}-{index:06}", drawn.prefix.to_lowercase()),
            drawn,
            software,
        }
    }
}

fn probe(family: Family, version: u64) -> Software {
    Software {
        name: PROBE.into(),
        version: format!("1.0.{version}"),
        arch: match family {
            Family::Windows => "x64",
            _ => "",
        }
        .into(),
        publisher: "Steward".into(),
        install_date: 0,
        source: match family {
            Family::Windows => "registry",
            Family::MacOs => "pkgutil",
            Family::Debian(_) => "dpkg",
            Family::Rhel(_) => "rpm",
        }
        .into(),
    }
}

fn mac(index: u64) -> String {
    let b = index.to_be_bytes();
    format!("02:5e:{:02x}:{:02x}:{:02x}:{:02x}", b[4], b[5], b[6], b[7])
}

fn ip(index: u64) -> String {
    format!(
        "10.{}.{}.{}",
        16 + (index >> 16) % 16,
        (index >> 8) & 255,
        index & 255
    )
}

/// The whole inventory of `m` at inventory `version`.
pub fn inventory(m: &Machine, index: u64, version: u64, now: i64) -> Inventory {
    let d = &m.drawn;
    let mut software = m.software.clone();
    software.push(probe(d.os.family, version));
    Inventory {
        collected_at: now,
        agent_version: "0.1.0".into(),
        hostname: m.hostname.clone(),
        os: OsInfo {
            family: match d.os.family {
                Family::Windows => "windows",
                Family::MacOs => "macos",
                _ => "linux",
            }
            .into(),
            name: d.os.name.into(),
            version: d.os.version.into(),
            kernel: d.os.kernel.into(),
            arch: "x86_64".into(),
        },
        hardware: Hardware {
            vendor: d.vendor.into(),
            model: d.model.into(),
            serial: d.serial().into(),
            uuid: format!(
                "4c4c4544-{:04x}-{:04x}-{:012x}",
                index >> 48,
                (index >> 32) & 0xffff,
                index
            ),
            machine_id: format!("{:032x}", u128::from(index) * 0x9E37_79B9_7F4A_7C15),
            ..Hardware::default()
        },
        cpu: Cpu {
            model: d.cpu.into(),
            vendor: "GenuineIntel".into(),
            physical_cores: (d.cores / 2).max(1) as u32,
            logical_cores: d.cores as u32,
            frequency_mhz: 2_600,
        },
        memory: Memory {
            total_bytes: (d.memory_gib as u64) << 30,
            swap_total_bytes: 4 << 30,
        },
        disks: vec![Disk {
            device: "nvme0n1".into(),
            mount_point: "/".into(),
            filesystem: "ext4".into(),
            total_bytes: 512 << 30,
            removable: false,
        }],
        network: vec![NetInterface {
            name: "eth0".into(),
            mac: mac(index),
            ips: vec![ip(index)],
        }],
        logged_in_users: vec![format!("user{}", index % 5_000)],
        software,
        errors: Vec::new(),
    }
}

/// Health as the agent samples it: varies from report to report.
pub fn health(index: u64, memory_gib: i64, seq: u64, now: i64) -> Health {
    let mut rng = rng_for(index, seq.wrapping_add(2));
    let total = (memory_gib.max(1) as u64) << 30;
    let disk = 512u64 << 30;
    // A few machines run their disk nearly full, so alerts come and go.
    let used_pct = if index.is_multiple_of(50) {
        93
    } else {
        rng.range(20, 80) as u64
    };
    Health {
        taken_at: now,
        load_1: rng.unit() * 2.0,
        load_5: rng.unit() * 1.5,
        load_15: rng.unit(),
        memory_used_bytes: total / 100 * rng.range(20, 85) as u64,
        memory_total_bytes: total,
        swap_used_bytes: 0,
        swap_total_bytes: 4 << 30,
        uptime_secs: 3_600 + seq * 1_800,
        filesystems: vec![FsUsage {
            mount_point: "/".into(),
            total_bytes: disk,
            used_bytes: disk / 100 * used_pct,
            available_bytes: Some(disk / 100 * (100 - used_pct)),
        }],
        cpu_percent: Some(rng.unit() * 40.0),
        ..Health::default()
    }
}

/// The next report of `agent` of `kind`, with its seq taken. A delta upgrades the probe
/// package; `Full` re-sends everything (a new machine, or the server asked for it).
pub fn report(fleet: &mut Fleet, agent: &Agent, kind: Kind, now: i64) -> CheckinRequest {
    let seq = agent.seq.fetch_add(1, Ordering::AcqRel) + 1;
    let version = agent.version.load(Ordering::Acquire);
    let d = drawn(agent.index);
    let health = health(agent.index, d.memory_gib, seq, now);
    match kind {
        Kind::Full => CheckinRequest {
            kind: ReportKind::Full,
            seq,
            base_digest: String::new(),
            digest: agent.digest(version),
            inventory: inventory(&fleet.machine(agent.index), agent.index, version, now),
            delta: None,
            health,
            update: None,
        },
        Kind::Delta => {
            agent.version.store(version + 1, Ordering::Release);
            CheckinRequest {
                kind: ReportKind::Delta,
                seq,
                base_digest: agent.digest(version),
                digest: agent.digest(version + 1),
                inventory: Inventory::default(),
                delta: Some(InventoryDelta {
                    collected_at: now,
                    agent_version: "0.1.0".into(),
                    software_added: vec![probe(d.os.family, version + 1)],
                    software_removed: vec![probe(d.os.family, version)],
                    ..InventoryDelta::default()
                }),
                health,
                update: None,
            }
        }
        Kind::Heartbeat => CheckinRequest {
            kind: ReportKind::Heartbeat,
            seq,
            base_digest: agent.digest(version),
            digest: agent.digest(version),
            inventory: Inventory::default(),
            delta: None,
            health,
            update: None,
        },
    }
}
