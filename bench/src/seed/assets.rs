//! The asset fleet: laptops, desktops, monitors, phones, servers, printers, network gear,
//! each with vendor, model, serial, OS and network identity, indexed in `assets_fts` the
//! way `db::inventory::update_search_index` does it.

use crate::rng::Rng;
use crate::words::{FLEET, SITES};
use rusqlite::{Connection, params};

/// A computer as tickets mention it.
#[derive(Debug, Clone)]
pub struct Computer {
    pub id: i64,
    pub name: String,
    pub model: String,
}

/// What tickets need to know about the fleet.
#[derive(Debug, Default)]
pub struct Fleet {
    /// Computers assigned to each employee, by employee index.
    pub computers: Vec<Vec<Computer>>,
    pub servers: Vec<i64>,
}

const DAY: i64 = 86_400;

/// Inserts `count` assets (ids after the current maximum) and their search rows, assigning
/// personal devices round-robin to the `employees` starting at `first_employee`.
/// Returns the fleet and the number of rows written.
pub fn insert(
    c: &Connection,
    rng: &mut Rng,
    count: u64,
    first_employee: i64,
    employees: u64,
    now: i64,
) -> anyhow::Result<(Fleet, u64)> {
    let mut fleet = Fleet {
        computers: vec![Vec::new(); employees as usize],
        servers: Vec::new(),
    };
    let first_id: i64 = c.query_row("SELECT coalesce(max(id), 0) + 1 FROM assets", [], |r| {
        r.get(0)
    })?;
    let weights: Vec<u32> = FLEET.iter().map(|f| f.2).collect();
    let mut stmt = c.prepare(
        "INSERT INTO assets (id, kind, name, hostname, vendor, model, serial, os_name, os_version, kernel,
            cpu_model, cpu_cores, memory_bytes, primary_ip, primary_mac, software_count,
            first_seen_at, last_seen_at, created_at, updated_at, assigned_user_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    )?;
    let mut personal = 0u64;
    for n in 0..count {
        let id = first_id + n as i64;
        let (kind, prefix, _, vendors) = FLEET[rng.weighted(&weights)];
        let (vendor, models) = *rng.pick(vendors);
        let model = *rng.pick(models);
        let site = rng.below(SITES.len() as u64) as usize;
        let code = SITES[site].1;
        let name = format!("{prefix}-{}-{id:06}", code.to_uppercase());
        let managed = matches!(kind, "computer" | "server");
        let hostname = if matches!(kind, "computer" | "server" | "printer" | "network") {
            name.to_lowercase()
        } else {
            String::new()
        };
        let serial: String = (0..10)
            .map(|_| {
                let c = rng.below(36) as u8;
                char::from(if c < 10 { b'0' + c } else { b'A' + c - 10 })
            })
            .collect();
        let (os_name, os_version, kernel) = os(rng, kind, vendor);
        let (cpu, cores, memory_gib) = match kind {
            "server" => (
                *rng.pick(&["Intel(R) Xeon(R) Gold 6430", "AMD EPYC 9124"]),
                *rng.pick(&[16, 32, 64]),
                *rng.pick(&[64, 128, 256]),
            ),
            "computer" if vendor == "Apple Inc." => ("Apple M3 Pro", 12, *rng.pick(&[18, 36])),
            "computer" => (
                *rng.pick(&[
                    "13th Gen Intel(R) Core(TM) i5-1345U",
                    "13th Gen Intel(R) Core(TM) i7-1365U",
                    "AMD Ryzen 7 PRO 7840U",
                ]),
                *rng.pick(&[10, 12, 16]),
                *rng.pick(&[16, 32]),
            ),
            _ => ("", 0, 0),
        };
        let ip = if kind == "monitor" || kind == "peripheral" {
            String::new()
        } else {
            format!(
                "10.{}.{}.{}",
                10 + site,
                rng.range(0, 64),
                rng.range(2, 254)
            )
        };
        let mac = if ip.is_empty() {
            String::new()
        } else {
            let b = rng.next_u64().to_be_bytes();
            format!("00:1a:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3])
        };
        let created = now - rng.range(30 * DAY, 6 * 365 * DAY);
        let last_seen = managed.then(|| now - rng.range(60, 3 * DAY));
        let owner =
            if matches!(kind, "computer" | "phone" | "monitor" | "peripheral") && employees > 0 {
                let e = personal % employees;
                personal += 1;
                Some(e)
            } else {
                None
            };
        stmt.execute(params![
            id,
            kind,
            name,
            hostname,
            vendor,
            model,
            serial,
            os_name,
            os_version,
            kernel,
            cpu,
            cores,
            i64::from(memory_gib) << 30,
            ip,
            mac,
            if managed { rng.range(150, 2500) } else { 0 },
            last_seen.map(|_| created),
            last_seen,
            created,
            last_seen.unwrap_or(created),
            owner.map(|e| first_employee + e as i64),
        ])?;
        match (kind, owner) {
            ("computer", Some(e)) => fleet.computers[e as usize].push(Computer {
                id,
                name,
                model: model.to_owned(),
            }),
            ("server", _) => fleet.servers.push(id),
            _ => {}
        }
    }
    let indexed = c.execute(
        "INSERT INTO assets_fts (rowid, name, hostname, serial, vendor, model, os, network)
         SELECT id, name, hostname, serial, vendor, model, os_name || ' ' || os_version, primary_ip || ' ' || primary_mac
         FROM assets WHERE id >= ?1",
        [first_id],
    )?;
    Ok((fleet, count + indexed as u64))
}

fn os(rng: &mut Rng, kind: &str, vendor: &str) -> (&'static str, &'static str, &'static str) {
    match (kind, vendor) {
        ("computer", "Apple Inc.") => ("macOS", *rng.pick(&["14.6", "15.1"]), "Darwin 24.1.0"),
        ("computer", _) => *rng.pick(&[
            ("Microsoft Windows 11 Enterprise", "23H2", "10.0.22631"),
            ("Microsoft Windows 11 Enterprise", "24H2", "10.0.26100"),
            ("Microsoft Windows 10 Enterprise", "22H2", "10.0.19045"),
            ("Ubuntu", "24.04", "6.8.0-45-generic"),
        ]),
        ("server", _) => *rng.pick(&[
            (
                "Microsoft Windows Server 2022 Standard",
                "21H2",
                "10.0.20348",
            ),
            ("Debian GNU/Linux", "12", "6.1.0-26-amd64"),
            ("Red Hat Enterprise Linux", "9.4", "5.14.0-427.el9.x86_64"),
        ]),
        ("phone", "Apple Inc.") => ("iOS", *rng.pick(&["17.6", "18.1"]), ""),
        ("phone", _) => ("Android", *rng.pick(&["14", "15"]), ""),
        _ => ("", "", ""),
    }
}
