//! A fleet of agent-reported machines for the asset benchmark: laptops, desktops and
//! servers with vendor, model, serial, OS, network identity, lifecycle state, a room to
//! live in, purchase and warranty dates, and their `assets_fts` rows the way
//! `db::inventory::update_search_index` writes them. Locations (sites, buildings, floors,
//! rooms) are created first.

use crate::rng::Rng;
use crate::words::{FLEET, Fleet, SITES};
use rusqlite::{Connection, params};

const DAY: i64 = 86_400;

/// An operating system as agents report it, and how its software is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Os {
    pub name: &'static str,
    pub version: &'static str,
    pub kernel: &'static str,
    pub family: Family,
}

/// Which package lists a machine reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Windows,
    MacOs,
    /// Debian and Ubuntu: dpkg, with the release in package revisions.
    Debian(Distro),
    /// Red Hat Enterprise Linux 8 or 9: rpm.
    Rhel(u8),
}

/// Debian-family releases, for the revisions their packages carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Distro {
    Debian11,
    Debian12,
    Ubuntu2004,
    Ubuntu2204,
    Ubuntu2404,
}

const fn os(name: &'static str, version: &'static str, kernel: &'static str, family: Family) -> Os {
    Os {
        name,
        version,
        kernel,
        family,
    }
}

const WIN11: &str = "Microsoft Windows 11 Enterprise";
const UBUNTU: &str = "Ubuntu";
const DEBIAN: &str = "Debian GNU/Linux";
const RHEL: &str = "Red Hat Enterprise Linux";

/// (weight, OS) for laptops and desktops that are not Apple's.
const PC_OS: &[(u32, Os)] = &[
    (30, os(WIN11, "23H2", "10.0.22631", Family::Windows)),
    (22, os(WIN11, "24H2", "10.0.26100", Family::Windows)),
    (
        14,
        os(
            "Microsoft Windows 10 Enterprise",
            "22H2",
            "10.0.19045",
            Family::Windows,
        ),
    ),
    (
        4,
        os(
            UBUNTU,
            "20.04",
            "5.15.0-119-generic",
            Family::Debian(Distro::Ubuntu2004),
        ),
    ),
    (
        7,
        os(
            UBUNTU,
            "22.04",
            "6.5.0-45-generic",
            Family::Debian(Distro::Ubuntu2204),
        ),
    ),
    (
        9,
        os(
            UBUNTU,
            "24.04",
            "6.8.0-45-generic",
            Family::Debian(Distro::Ubuntu2404),
        ),
    ),
    (
        3,
        os(
            DEBIAN,
            "11",
            "5.10.0-32-amd64",
            Family::Debian(Distro::Debian11),
        ),
    ),
    (
        4,
        os(
            DEBIAN,
            "12",
            "6.1.0-26-amd64",
            Family::Debian(Distro::Debian12),
        ),
    ),
];

const MAC_OS: &[(u32, Os)] = &[
    (40, os("macOS", "14.6", "Darwin 23.6.0", Family::MacOs)),
    (60, os("macOS", "15.1", "Darwin 24.1.0", Family::MacOs)),
];

const SERVER_OS: &[(u32, Os)] = &[
    (
        15,
        os(
            "Microsoft Windows Server 2019 Standard",
            "1809",
            "10.0.17763",
            Family::Windows,
        ),
    ),
    (
        25,
        os(
            "Microsoft Windows Server 2022 Standard",
            "21H2",
            "10.0.20348",
            Family::Windows,
        ),
    ),
    (
        10,
        os(
            DEBIAN,
            "11",
            "5.10.0-32-amd64",
            Family::Debian(Distro::Debian11),
        ),
    ),
    (
        20,
        os(
            DEBIAN,
            "12",
            "6.1.0-26-amd64",
            Family::Debian(Distro::Debian12),
        ),
    ),
    (
        10,
        os(
            UBUNTU,
            "22.04",
            "5.15.0-122-generic",
            Family::Debian(Distro::Ubuntu2204),
        ),
    ),
    (
        8,
        os(RHEL, "8.10", "4.18.0-553.el8_10.x86_64", Family::Rhel(8)),
    ),
    (
        12,
        os(RHEL, "9.4", "5.14.0-427.el9.x86_64", Family::Rhel(9)),
    ),
];

/// A seeded machine: what its software depends on.
#[derive(Debug, Clone, Copy)]
pub struct Machine {
    pub id: i64,
    pub os: Os,
}

/// Rooms per floor, floors per building, buildings per site.
const ROOMS: i64 = 4;
const FLOORS: i64 = 3;
const BUILDINGS: i64 = 2;

/// Sites, buildings, floors and rooms; returns the room ids of each site, in site order.
pub fn insert_locations(c: &Connection, now: i64) -> anyhow::Result<Vec<Vec<i64>>> {
    let zones = [
        "Europe/Berlin",
        "Europe/Berlin",
        "Europe/Berlin",
        "Europe/Vienna",
        "Europe/Zurich",
        "Europe/Paris",
        "Europe/Madrid",
        "Europe/Warsaw",
        "Europe/Dublin",
        "Europe/Lisbon",
        "Europe/Prague",
        "Europe/Copenhagen",
    ];
    let mut stmt = c.prepare(
        "INSERT INTO locations (parent_id, kind, name, timezone, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut add = |parent: Option<i64>, kind: &str, name: String, tz: Option<&str>| {
        stmt.execute(params![parent, kind, name, tz, now])
            .map(|_| c.last_insert_rowid())
    };
    let mut rooms = Vec::new();
    for (i, (site, _)) in SITES.iter().enumerate() {
        let site_id = add(None, "site", (*site).to_owned(), zones.get(i).copied())?;
        let mut site_rooms = Vec::new();
        for b in 1..=BUILDINGS {
            let building = add(Some(site_id), "building", format!("Building {b}"), None)?;
            for f in 0..FLOORS {
                let floor = add(Some(building), "floor", format!("Floor {f}"), None)?;
                for r in 1..=ROOMS {
                    site_rooms.push(add(Some(floor), "room", format!("Room {f}.{r:02}"), None)?);
                }
            }
        }
        rooms.push(site_rooms);
    }
    Ok(rooms)
}

fn machine_kinds() -> Vec<&'static Fleet> {
    FLEET
        .iter()
        .filter(|f| matches!(f.0, "computer" | "server"))
        .collect()
}

/// A machine's make and build, drawn at random like the fleet's.
#[derive(Debug, Clone, Copy)]
pub struct Drawn {
    pub kind: &'static str,
    pub prefix: &'static str,
    pub vendor: &'static str,
    pub model: &'static str,
    /// Index into `SITES`.
    pub site: usize,
    pub os: Os,
    pub serial: [u8; 10],
    pub cpu: &'static str,
    pub cores: i64,
    pub memory_gib: i64,
}

impl Drawn {
    pub fn serial(&self) -> &str {
        std::str::from_utf8(&self.serial).unwrap_or("0000000000")
    }
}

/// Draws a computer or server of the fleet's mix.
pub fn draw_machine(rng: &mut Rng) -> Drawn {
    let kinds = machine_kinds();
    let weights: Vec<u32> = kinds.iter().map(|f| f.2).collect();
    draw(rng, &kinds, &weights)
}

fn draw(rng: &mut Rng, kinds: &[&'static Fleet], weights: &[u32]) -> Drawn {
    let (kind, prefix, _, vendors) = *kinds[rng.weighted(weights)];
    let (vendor, models) = *rng.pick(vendors);
    let model = *rng.pick(models);
    let site = rng.below(SITES.len() as u64) as usize;
    let table = match (kind, vendor) {
        ("server", _) => SERVER_OS,
        (_, "Apple Inc.") => MAC_OS,
        _ => PC_OS,
    };
    let os = table[rng.weighted(&table.iter().map(|t| t.0).collect::<Vec<_>>())].1;
    let mut serial = [0u8; 10];
    for b in &mut serial {
        let c = rng.below(36) as u8;
        *b = if c < 10 { b'0' + c } else { b'A' + c - 10 };
    }
    let (cpu, cores, memory_gib) = match (kind, vendor) {
        ("server", _) => (
            "Intel(R) Xeon(R) Gold 6430",
            *rng.pick(&[16, 32, 64]),
            *rng.pick(&[64, 128, 256]),
        ),
        (_, "Apple Inc.") => ("Apple M3 Pro", 12, *rng.pick(&[18, 36])),
        _ => (
            "13th Gen Intel(R) Core(TM) i7-1365U",
            *rng.pick(&[10, 12]),
            *rng.pick(&[16, 32]),
        ),
    };
    Drawn {
        kind,
        prefix,
        vendor,
        model,
        site,
        os,
        serial,
        cpu,
        cores,
        memory_gib,
    }
}

/// Inserts `count` machines (ids after the current maximum) with `software` packages each
/// (the `software_count` column; the rows come from `packages`), placed in `rooms`.
pub fn insert(
    c: &Connection,
    rng: &mut Rng,
    count: u64,
    software: i64,
    rooms: &[Vec<i64>],
    now: i64,
) -> anyhow::Result<Vec<Machine>> {
    let first_id: i64 = c.query_row("SELECT coalesce(max(id), 0) + 1 FROM assets", [], |r| {
        r.get(0)
    })?;
    let kinds = machine_kinds();
    let weights: Vec<u32> = kinds.iter().map(|f| f.2).collect();
    let mut stmt = c.prepare(
        "INSERT INTO assets (id, kind, name, hostname, vendor, model, serial, os_name, os_version, kernel,
            cpu_model, cpu_cores, memory_bytes, primary_ip, primary_mac, software_count,
            first_seen_at, last_seen_at, created_at, updated_at, asset_tag, state_id, location_id,
            purchase_date, purchase_cost_cents, warranty_end, criticality, public_token)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
            ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
    )?;
    let mut machines = Vec::with_capacity(count as usize);
    for n in 0..count {
        let id = first_id + n as i64;
        let Drawn {
            kind,
            prefix,
            vendor,
            model,
            site,
            os,
            serial,
            cpu,
            cores,
            memory_gib,
        } = draw(rng, &kinds, &weights);
        let name = format!("{prefix}-{}-{id:06}", SITES[site].1.to_uppercase());
        let ip = format!(
            "10.{}.{}.{}",
            10 + site,
            rng.range(0, 64),
            rng.range(2, 254)
        );
        let b = rng.next_u64().to_be_bytes();
        let mac = format!("00:1a:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3]);
        let age_days = rng.range(30, 6 * 365);
        let created = now - age_days * DAY;
        let purchased = chrono::DateTime::from_timestamp(created - rng.range(0, 20) * DAY, 0)
            .map(|d| d.date_naive())
            .unwrap_or_default();
        let warranty = purchased
            .checked_add_months(chrono::Months::new(if kind == "server" { 60 } else { 36 }))
            .unwrap_or(purchased);
        let state = match rng.below(100) {
            0..=4 => 1,
            5..=6 => 3,
            7..=9 => 4,
            _ => 2,
        };
        let criticality = match (kind, rng.below(10)) {
            ("server", 0..=3) => "critical",
            ("server", _) => "high",
            (_, 0) => "low",
            (_, 1) => "high",
            _ => "medium",
        };
        let token = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        let last_seen = now - rng.range(60, 3 * DAY);
        stmt.execute(params![
            id,
            kind,
            name,
            name.to_lowercase(),
            vendor,
            model,
            std::str::from_utf8(&serial).unwrap_or_default(),
            os.name,
            os.version,
            os.kernel,
            cpu,
            cores,
            memory_gib << 30,
            ip,
            mac,
            software,
            created,
            last_seen,
            created,
            last_seen,
            format!("AT-{id:07}"),
            state,
            rng.pick(&rooms[site]),
            purchased.to_string(),
            if kind == "server" {
                rng.range(800_000, 2_500_000)
            } else {
                rng.range(90_000, 320_000)
            },
            warranty.to_string(),
            criticality,
            token,
        ])?;
        machines.push(Machine { id, os });
    }
    c.execute(
        "INSERT INTO assets_fts (rowid, name, hostname, serial, vendor, model, os, network)
         SELECT id, name, hostname, serial, vendor, model, os_name || ' ' || os_version, primary_ip || ' ' || primary_mac
         FROM assets WHERE id >= ?1",
        [first_id],
    )?;
    Ok(machines)
}
