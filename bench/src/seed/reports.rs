//! The last inventory and health report of each seeded machine (`assets.inventory_json`
//! and `health_json`), as an agent's would be stored: the asset pages render them, and
//! the rows they widen are what the lists scan. Built from the machine's own columns, so
//! a database seeded before this existed gets them too.

use crate::loadgen::fleet::health;
use crate::report::thousands;
use anyhow::Context;
use rusqlite::{Connection, params};
use std::time::Instant;
use steward_shared::{Cpu, Disk, Hardware, Inventory, Memory, NetInterface, OsInfo};

/// Machines per transaction.
const BATCH: usize = 5_000;

/// Fills the reports of agent-reported machines (those with a first report time) that
/// have none. Returns how many were filled.
pub fn fill(c: &mut Connection, now: i64) -> anyhow::Result<u64> {
    let started = Instant::now();
    let todo: i64 = c.query_row(
        "SELECT count(*) FROM assets WHERE first_seen_at IS NOT NULL AND inventory_json IS NULL",
        [],
        |r| r.get(0),
    )?;
    let mut done = 0u64;
    loop {
        let tx = c.transaction()?;
        let rows = {
            let mut stmt = tx.prepare(
                "SELECT id, hostname, vendor, model, serial, os_name, os_version, kernel, cpu_model,
                        cpu_cores, memory_bytes, primary_ip, primary_mac, last_seen_at
                 FROM assets WHERE first_seen_at IS NOT NULL AND inventory_json IS NULL
                 ORDER BY id LIMIT ?1",
            )?;
            let rows = stmt.query_map([BATCH as i64], |r| {
                Ok(Row {
                    id: r.get(0)?,
                    hostname: r.get(1)?,
                    vendor: r.get(2)?,
                    model: r.get(3)?,
                    serial: r.get(4)?,
                    os_name: r.get(5)?,
                    os_version: r.get(6)?,
                    kernel: r.get(7)?,
                    cpu: r.get(8)?,
                    cores: r.get(9)?,
                    memory: r.get(10)?,
                    ip: r.get(11)?,
                    mac: r.get(12)?,
                    seen: r.get::<_, Option<i64>>(13)?.unwrap_or(now),
                })
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        if rows.is_empty() {
            break;
        }
        {
            let mut update = tx
                .prepare("UPDATE assets SET inventory_json = ?2, health_json = ?3 WHERE id = ?1")?;
            for row in &rows {
                let inventory = serde_json::to_string(&inventory(row))?;
                let index = row.id.unsigned_abs();
                let h = health(index, row.memory >> 30, 1, row.seen);
                update.execute(params![row.id, inventory, serde_json::to_string(&h)?])?;
            }
        }
        tx.commit().context("storing seeded reports")?;
        done += rows.len() as u64;
        eprintln!(
            "seed: machine reports {} of {}",
            thousands(done),
            thousands(todo.unsigned_abs())
        );
    }
    if done > 0 {
        eprintln!(
            "seed: {} machine reports in {:.1} s",
            thousands(done),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(done)
}

struct Row {
    id: i64,
    hostname: String,
    vendor: String,
    model: String,
    serial: String,
    os_name: String,
    os_version: String,
    kernel: String,
    cpu: String,
    cores: i64,
    memory: i64,
    ip: String,
    mac: String,
    seen: i64,
}

/// The stored inventory (software is kept in its own rows, not here).
fn inventory(r: &Row) -> Inventory {
    let family = if r.os_name.contains("Windows") {
        "windows"
    } else if r.os_name.contains("mac") {
        "macos"
    } else {
        "linux"
    };
    Inventory {
        collected_at: r.seen,
        agent_version: "0.1.0".into(),
        hostname: r.hostname.clone(),
        os: OsInfo {
            family: family.into(),
            name: r.os_name.clone(),
            version: r.os_version.clone(),
            kernel: r.kernel.clone(),
            arch: "x86_64".into(),
        },
        hardware: Hardware {
            vendor: r.vendor.clone(),
            model: r.model.clone(),
            serial: r.serial.clone(),
            uuid: format!("4c4c4544-0000-0000-{:012x}", r.id),
            machine_id: format!("{:032x}", u128::from(r.id.unsigned_abs()) * 0x9E37_79B9),
            ..Hardware::default()
        },
        cpu: Cpu {
            model: r.cpu.clone(),
            vendor: "GenuineIntel".into(),
            physical_cores: (r.cores / 2).max(1) as u32,
            logical_cores: r.cores.max(1) as u32,
            frequency_mhz: 2_600,
        },
        memory: Memory {
            total_bytes: r.memory.unsigned_abs(),
            swap_total_bytes: 4 << 30,
        },
        disks: vec![Disk {
            device: "nvme0n1".into(),
            mount_point: if family == "windows" { "C:\\" } else { "/" }.into(),
            filesystem: if family == "windows" { "NTFS" } else { "ext4" }.into(),
            total_bytes: 512 << 30,
            removable: false,
        }],
        network: vec![NetInterface {
            name: "eth0".into(),
            mac: r.mac.clone(),
            ips: vec![r.ip.clone()],
        }],
        logged_in_users: vec![format!("user{}", r.id % 5_000)],
        software: Vec::new(),
        errors: Vec::new(),
    }
}
