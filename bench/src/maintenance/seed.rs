//! Seeding the maintenance benchmark: four sites in different time zones (each with two
//! office buildings, a plant building and a data centre, three floors of four rooms),
//! IT and facility assets placed by kind, two auto-assigning groups of technicians, and
//! maintenance plans written with `steward_server::db::maintenance::insert`.
//!
//! Every asset falls under exactly one plan, so there are as many plan-asset pairs as
//! assets: office equipment by location (one plan per office floor, or per building when
//! there are few plans), facility equipment by type, data-centre network gear by floor,
//! servers as single assets. No asset is archived.

use crate::report::thousands;
use crate::rng::Rng;
use anyhow::{Context, bail};
use rusqlite::{Connection, params};
use std::path::Path;
use std::time::{Duration, Instant};
use steward_server::db::maintenance::{self, PlanFields, Target};
use steward_server::domain::maintenance::Trigger;
use steward_server::domain::roles::Role;

/// (site, code, time zone, weight in percent of the assets).
pub const SITES: &[(&str, &str, &str, u32)] = &[
    ("Berlin", "BER", "Europe/Berlin", 40),
    ("New York", "NYC", "America/New_York", 30),
    ("Tokyo", "TYO", "Asia/Tokyo", 20),
    ("Sydney", "SYD", "Australia/Sydney", 10),
];

const BUILDINGS: &[&str] = &["Office 1", "Office 2", "Plant", "Data centre"];
const FLOORS: usize = 3;
const ROOMS: usize = 4;

/// Where a kind of asset lives, which decides the plan it falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Either office building, any floor: office plans (location).
    Office,
    /// The plant building: plans by type.
    Plant,
    /// The data centre's ground floor: the daily server-room check (location).
    DcFloor0,
    /// The data centre's upper floors: the server plans (single assets).
    DcUpper,
}

/// A kind of asset: its name prefix, share in percent, place, vendor and models.
struct Kind {
    key: &'static str,
    prefix: &'static str,
    weight: u32,
    place: Place,
    vendor: &'static str,
    models: [&'static str; 2],
}

const fn kind(
    key: &'static str,
    prefix: &'static str,
    weight: u32,
    place: Place,
    vendor: &'static str,
    models: [&'static str; 2],
) -> Kind {
    Kind {
        key,
        prefix,
        weight,
        place,
        vendor,
        models,
    }
}

use Place::{DcFloor0, DcUpper, Office, Plant};

const KINDS: &[Kind] = &[
    kind(
        "computer",
        "LT",
        28,
        Office,
        "LENOVO",
        ["ThinkPad T14", "ThinkPad X1 Carbon"],
    ),
    kind(
        "monitor",
        "MON",
        18,
        Office,
        "Dell Inc.",
        ["P2423D", "U2723QE"],
    ),
    kind(
        "phone",
        "PH",
        8,
        Office,
        "Apple Inc.",
        ["iPhone 15", "iPhone 14"],
    ),
    kind(
        "printer",
        "PRN",
        4,
        Office,
        "HP",
        ["LaserJet M611", "Color LaserJet M555"],
    ),
    kind(
        "projector",
        "PRJ",
        2,
        Office,
        "Epson",
        ["EB-L520U", "EB-992F"],
    ),
    kind(
        "furniture",
        "FUR",
        6,
        Office,
        "Steelcase",
        ["Series 2 chair", "Migration desk"],
    ),
    kind(
        "fire_extinguisher",
        "FEX",
        10,
        Plant,
        "Gloria",
        ["PD6GA", "KS5SG"],
    ),
    kind("hvac", "HVAC", 8, Plant, "Daikin", ["FXFQ63A", "VRV IV"]),
    kind(
        "generator",
        "GEN",
        1,
        Plant,
        "Caterpillar",
        ["C15", "3512C"],
    ),
    kind("elevator", "ELV", 1, Plant, "Schindler", ["3300", "5500"]),
    kind(
        "network",
        "NET",
        2,
        DcFloor0,
        "Cisco",
        ["Catalyst 9300", "Nexus 93180"],
    ),
    kind(
        "server",
        "SRV",
        12,
        DcUpper,
        "Dell Inc.",
        ["PowerEdge R760", "PowerEdge R660"],
    ),
];

const DAY: i64 = 86_400;
/// Plans that are not office plans: four by type, the server-room check, one per site
/// for servers.
pub const FIXED_PLANS: usize = 5 + 4;
/// Office floors there are to spread office plans over.
pub const OFFICE_FLOORS: usize = 4 * 2 * FLOORS;

/// Location ids of one site.
struct Site {
    /// [building][floor] -> floor id.
    floors: Vec<Vec<i64>>,
    /// [building][floor] -> room ids.
    rooms: Vec<Vec<Vec<i64>>>,
    buildings: Vec<i64>,
}

/// What seeding wrote and how long it took.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub assets: u64,
    pub plans: u64,
    pub elapsed: Duration,
}

/// Seeds the (migrated, asset-free) database at `path` with `assets` assets and
/// `plans` plans (at least [`FIXED_PLANS`] + 1). `now` is when the plans were written.
pub fn seed(path: &Path, assets: u64, plans: usize, now: i64) -> anyhow::Result<Seeded> {
    if plans <= FIXED_PLANS {
        bail!("--plans must be more than {FIXED_PLANS}");
    }
    let mut conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -524_288)?; // 512 MiB
    let started = Instant::now();
    let mut rng = Rng::new(0x3A1_7E4A);

    let tx = conn.transaction()?;
    let sites = insert_locations(&tx, now)?;
    let servers = insert_assets(&tx, &mut rng, &sites, assets, now)?;
    let (facilities, it_ops) = insert_groups(&tx, now)?;
    let written = insert_plans(&tx, &sites, &servers, plans, facilities, it_ops, now)?;
    tx.commit()?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let elapsed = started.elapsed();
    eprintln!(
        "seed: {} assets, {} plans in {:.1} s",
        thousands(assets),
        written,
        elapsed.as_secs_f64()
    );
    Ok(Seeded {
        assets,
        plans: written as u64,
        elapsed,
    })
}

fn insert_locations(c: &Connection, now: i64) -> anyhow::Result<Vec<Site>> {
    let mut stmt = c.prepare(
        "INSERT INTO locations (parent_id, kind, name, timezone, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut add = |parent: Option<i64>, kind: &str, name: String, tz: Option<&str>| {
        stmt.execute(params![parent, kind, name, tz, now])
            .map(|_| c.last_insert_rowid())
    };
    let mut sites = Vec::new();
    for (name, _, tz, _) in SITES {
        let site_id = add(None, "site", (*name).to_owned(), Some(tz))?;
        let mut site = Site {
            floors: Vec::new(),
            rooms: Vec::new(),
            buildings: Vec::new(),
        };
        for b in BUILDINGS {
            let building = add(Some(site_id), "building", (*b).to_owned(), None)?;
            let (mut floors, mut rooms) = (Vec::new(), Vec::new());
            for f in 0..FLOORS {
                let floor = add(Some(building), "floor", format!("Floor {f}"), None)?;
                let ids = (1..=ROOMS)
                    .map(|r| add(Some(floor), "room", format!("Room {f}.{r:02}"), None))
                    .collect::<Result<Vec<_>, _>>()?;
                floors.push(floor);
                rooms.push(ids);
            }
            site.buildings.push(building);
            site.floors.push(floors);
            site.rooms.push(rooms);
        }
        sites.push(site);
    }
    Ok(sites)
}

/// Inserts the assets and their search rows; returns the servers' ids by site.
fn insert_assets(
    c: &Connection,
    rng: &mut Rng,
    sites: &[Site],
    count: u64,
    now: i64,
) -> anyhow::Result<Vec<Vec<i64>>> {
    let first_id: i64 = c.query_row("SELECT coalesce(max(id), 0) + 1 FROM assets", [], |r| {
        r.get(0)
    })?;
    let site_weights: Vec<u32> = SITES.iter().map(|s| s.3).collect();
    let kind_weights: Vec<u32> = KINDS.iter().map(|k| k.weight).collect();
    let mut stmt = c.prepare(
        "INSERT INTO assets (id, kind, name, vendor, model, serial, asset_tag, state_id, location_id,
            criticality, purchase_date, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
    )?;
    let mut servers = vec![Vec::new(); sites.len()];
    for n in 0..count {
        let id = first_id + n as i64;
        let s = rng.weighted(&site_weights);
        let k = &KINDS[rng.weighted(&kind_weights)];
        let (building, floors) = match k.place {
            Office => (rng.below(2) as usize, 0..FLOORS),
            Plant => (2, 0..FLOORS),
            DcFloor0 => (3, 0..1),
            DcUpper => (3, 1..FLOORS),
        };
        let floor = rng.range(floors.start as i64, floors.end as i64) as usize;
        let room = *rng.pick(&sites[s].rooms[building][floor]);
        let serial: String = (0..10)
            .map(|_| {
                let c = rng.below(36) as u8;
                char::from(if c < 10 { b'0' + c } else { b'A' + c - 10 })
            })
            .collect();
        let state = match rng.below(100) {
            0..=4 => 1, // in stock
            5..=6 => 3, // in repair
            _ => 2,     // deployed
        };
        let created = now - rng.range(30, 8 * 365) * DAY;
        let purchased = chrono::DateTime::from_timestamp(created, 0)
            .map(|d| d.date_naive().to_string())
            .unwrap_or_default();
        stmt.execute(params![
            id,
            k.key,
            format!("{}-{}-{id:06}", k.prefix, SITES[s].1),
            k.vendor,
            rng.pick(&k.models),
            serial,
            format!("AT-{id:07}"),
            state,
            room,
            if matches!(k.key, "server" | "elevator" | "generator") {
                "critical"
            } else {
                "medium"
            },
            purchased,
            created,
        ])?;
        if k.key == "server" {
            servers[s].push(id);
        }
    }
    c.execute(
        "INSERT INTO assets_fts (rowid, name, hostname, serial, vendor, model, os, network)
         SELECT id, name, hostname, serial, vendor, model, os_name || ' ' || os_version, primary_ip || ' ' || primary_mac
         FROM assets WHERE id >= ?1",
        [first_id],
    )?;
    Ok(servers)
}

/// Two round-robin groups with technicians: (Facilities, IT Operations).
fn insert_groups(c: &Connection, now: i64) -> anyhow::Result<(i64, i64)> {
    let mut ids = Vec::new();
    for (name, people) in [("Facilities", 6), ("IT Operations", 8)] {
        c.execute(
            "INSERT INTO groups (name, assignment, created_at) VALUES (?1, 'round_robin', ?2)",
            params![name, now],
        )?;
        let group = c.last_insert_rowid();
        for n in 1..=people {
            let slug = name.to_lowercase().replace(' ', "-");
            let user = steward_server::db::users::insert(
                c,
                &format!("{slug}-{n}@maint.example.com"),
                &format!("{name} technician {n}"),
                Role::Technician,
                None,
                now,
            )?;
            c.execute(
                "INSERT INTO group_members (group_id, user_id) VALUES (?1, ?2)",
                params![group, user],
            )?;
        }
        ids.push(group);
    }
    Ok((ids[0], ids[1]))
}

fn trigger(v: serde_json::Value) -> anyhow::Result<Trigger> {
    let t: Trigger = serde_json::from_value(v)?;
    if let Err(e) = t.compile() {
        bail!("bad trigger {t:?}: {e}");
    }
    Ok(t)
}

/// A plan with the defaults the benchmark does not vary.
fn plan(
    title: String,
    trigger: Trigger,
    lead_days: i64,
    group: i64,
    targets: Vec<Target>,
) -> PlanFields {
    PlanFields {
        title,
        instructions: "Follow the checklist; note anything unusual.".into(),
        checklist: vec![
            "Visual inspection".into(),
            "Function test".into(),
            "Label updated".into(),
        ],
        parts: Vec::new(),
        estimated_minutes: Some(20),
        trigger,
        timezone: None,
        lead_secs: lead_days * DAY,
        assignee_id: None,
        group_id: Some(group),
        priority: 4,
        escalate_after_secs: None,
        escalate_group_id: None,
        active: true,
        targets,
    }
}

fn target(kind: &str, id: i64) -> Target {
    Target {
        kind: kind.into(),
        id,
    }
}

fn type_id(c: &Connection, key: &str) -> anyhow::Result<i64> {
    c.query_row("SELECT id FROM asset_types WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .with_context(|| format!("asset type {key}"))
}

/// Writes `count` plans; returns how many.
fn insert_plans(
    c: &Connection,
    sites: &[Site],
    servers: &[Vec<i64>],
    count: usize,
    facilities: i64,
    it_ops: i64,
    now: i64,
) -> anyhow::Result<usize> {
    use serde_json::json;
    let mut plans = vec![
        plan(
            "Fire extinguisher inspection".into(),
            trigger(json!({"max_interval_days": 30}))?,
            0,
            facilities,
            vec![target("type", type_id(c, "fire_extinguisher")?)],
        ),
        plan(
            "HVAC filter change".into(),
            trigger(
                json!({"calendar": {"kind": "interval", "every_days": 90, "from": "floating", "at": "08:00"}}),
            )?,
            0,
            facilities,
            vec![target("type", type_id(c, "hvac")?)],
        ),
        plan(
            "Generator load test".into(),
            trigger(json!({"calendar": {"kind": "cron", "expr": "0 6 * * 1"}}))?,
            0,
            facilities,
            vec![target("type", type_id(c, "generator")?)],
        ),
        plan(
            "Elevator safety inspection".into(),
            trigger(
                json!({"calendar": {"kind": "monthly_weekday", "nth": "first", "weekday": "monday", "at": "09:00"}}),
            )?,
            7,
            facilities,
            vec![target("type", type_id(c, "elevator")?)],
        ),
        plan(
            "Server room daily check".into(),
            trigger(json!({"calendar": {"kind": "cron", "expr": "0 2 * * *"}}))?,
            0,
            it_ops,
            sites
                .iter()
                .map(|s| target("location", s.floors[3][0]))
                .collect(),
        ),
    ];
    for ((name, ..), ids) in SITES.iter().zip(servers) {
        plans.push(plan(
            format!("Server hardware check, {name}"),
            trigger(json!({"calendar": {"kind": "cron", "expr": "0 4 * * 6"}}))?,
            0,
            it_ops,
            ids.iter().map(|&id| target("asset", id)).collect(),
        ));
    }
    // Office plans: whole buildings when there are few, else floors, spread round-robin.
    let office = count - FIXED_PLANS;
    let mut places: Vec<(String, Target)> = Vec::new();
    for ((name, ..), s) in SITES.iter().zip(sites) {
        for (b, building) in BUILDINGS.iter().enumerate().take(2) {
            if office <= 2 * SITES.len() {
                places.push((
                    format!("{name} {building}"),
                    target("location", s.buildings[b]),
                ));
            } else {
                for (f, &floor) in s.floors[b].iter().enumerate() {
                    places.push((
                        format!("{name} {building} floor {f}"),
                        target("location", floor),
                    ));
                }
            }
        }
    }
    let office = office.min(places.len());
    for k in 0..office {
        let mine: Vec<&(String, Target)> = places.iter().skip(k).step_by(office).collect();
        let (rule, lead, what) = match k % 3 {
            0 => (
                json!({"calendar": {"kind": "interval", "every_days": 30, "from": "fixed", "at": "08:00"}}),
                0,
                "Workplace equipment check",
            ),
            1 => (
                json!({"calendar": {"kind": "monthly_weekday", "nth": "last", "weekday": "friday", "at": "15:00"}}),
                7,
                "Electrical safety test",
            ),
            _ => (
                json!({"calendar": {"kind": "cron", "expr": "0 7 * * 3"}}),
                0,
                "Meeting room equipment round",
            ),
        };
        let title = format!(
            "{what}, {}",
            mine.first().map(|p| p.0.as_str()).unwrap_or("")
        );
        let targets = mine.iter().map(|p| p.1.clone()).collect();
        plans.push(plan(title, trigger(rule)?, lead, it_ops, targets));
    }
    for p in &plans {
        maintenance::insert(c, p, now)?;
    }
    Ok(plans.len())
}
