//! Installed software for the asset benchmark's machines, as their agents would report it:
//! dpkg packages with Debian or Ubuntu revisions, rpm packages of RHEL 8 and 9, Windows
//! programs from the registry, macOS receipts. Each machine gets a fixed number of
//! distinct titles: a few with hand-written versions spread over the fleet (openssl 1.1.1
//! on older releases and 3.0 on newer ones, browsers a few builds apart), the titles every
//! machine of its family has, then a random pick of the rest and of in-house tools.
//! Rows are stored by the server's own `db::packages`, which keeps the catalog's install
//! counts.

use super::machines::{Distro, Family, Machine};
use crate::rng::Rng;
use crate::words::{
    DEPARTMENTS, DPKG_LIBS, DPKG_TOOLS, MACOS_PACKAGES, RPM_PACKAGES, WINDOWS_PROGRAMS,
};
use rusqlite::{Connection, params};
use std::collections::{HashMap, HashSet};
use steward_server::db::packages;
use steward_shared::Software;

/// How often the newest, second, third and fourth version of a title is seen.
const VERSION_WEIGHTS: [u32; 4] = [55, 25, 13, 7];

/// A title and the versions the fleet has of it, newest first, with weights.
#[derive(Debug, Clone)]
struct Title {
    name: String,
    versions: Vec<(u32, String)>,
}

impl Title {
    fn pick(&self, rng: &mut Rng) -> &str {
        let w: Vec<u32> = self.versions.iter().map(|v| v.0).collect();
        &self.versions[rng.weighted(&w)].1
    }
}

/// What machines of one family report.
#[derive(Debug, Clone)]
struct Catalog {
    source: &'static str,
    /// (chance of being installed, title).
    specials: Vec<(f64, Title)>,
    /// On every machine.
    core: Vec<Title>,
    /// Picked at random to fill up.
    optional: Vec<Title>,
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn weighted(versions: &[&str]) -> Vec<(u32, String)> {
    versions
        .iter()
        .zip(VERSION_WEIGHTS.iter().chain(std::iter::repeat(&5)))
        .map(|(v, w)| (*w, (*v).to_owned()))
        .collect()
}

/// A title's versions on `family`, derived from its name so every run seeds the same.
fn generic(name: &str, family: Family) -> Title {
    let h = fnv(name);
    let count = 1 + (h % 4) as i64;
    let (maj, min, patch) = (h % 20, (h >> 8) % 30, 3 + (h >> 16) % 40);
    let versions = (0..count)
        .map(|k| match family {
            Family::Windows => format!(
                "{}.{min}.{}.{}",
                maj + 1,
                1000 + (h >> 24) % 9000 - 3 * k as u64,
                (h >> 40) % 1000
            ),
            Family::MacOs => format!("{}.{min}.{}", maj + 1, patch - k as u64),
            Family::Rhel(r) => format!("{maj}.{min}.{patch}-{}.el{r}", 12 - k),
            Family::Debian(d) => {
                let (up, rev) = match d {
                    Distro::Debian11 => (min, format!("1+deb11u{}", 4 - k)),
                    Distro::Debian12 => (min + 1, format!("2+deb12u{}", 4 - k)),
                    Distro::Ubuntu2004 => (min, format!("1ubuntu0.{}", 4 - k)),
                    Distro::Ubuntu2204 => (min + 1, format!("0ubuntu1.{}", 4 - k)),
                    Distro::Ubuntu2404 => (min + 2, format!("1ubuntu{}", 4 - k)),
                };
                format!("{maj}.{up}.{patch}-{rev}")
            }
        })
        .collect::<Vec<_>>();
    let refs: Vec<&str> = versions.iter().map(String::as_str).collect();
    Title {
        name: name.to_owned(),
        versions: weighted(&refs),
    }
}

fn special(p: f64, name: &str, versions: &[&str]) -> (f64, Title) {
    (
        p,
        Title {
            name: name.to_owned(),
            versions: weighted(versions),
        },
    )
}

fn debian_specials(d: Distro) -> Vec<(f64, Title)> {
    let (ssl, libssl, curl, ssh, sudo): (&[&str], &str, &[&str], &[&str], &[&str]) = match d {
        Distro::Debian11 => (
            &["1.1.1w-0+deb11u1", "1.1.1n-0+deb11u5", "1.1.1w-0+deb11u2"],
            "libssl1.1",
            &["7.74.0-1.3+deb11u13", "7.74.0-1.3+deb11u12"],
            &["1:8.4p1-5+deb11u3"],
            &["1.9.5p2-3+deb11u1"],
        ),
        Distro::Debian12 => (
            &["3.0.15-1~deb12u1", "3.0.13-1~deb12u1", "3.0.11-1~deb12u2"],
            "libssl3",
            &["7.88.1-10+deb12u8", "7.88.1-10+deb12u7"],
            &["1:9.2p1-2+deb12u3", "1:9.2p1-2+deb12u2"],
            &["1.9.13p3-1+deb12u1"],
        ),
        Distro::Ubuntu2004 => (
            &[
                "1.1.1f-1ubuntu2.23",
                "1.1.1f-1ubuntu2.22",
                "1.1.1f-1ubuntu2.20",
            ],
            "libssl1.1",
            &["7.68.0-1ubuntu2.24", "7.68.0-1ubuntu2.23"],
            &["1:8.2p1-4ubuntu0.11"],
            &["1.8.31-1ubuntu1.5"],
        ),
        Distro::Ubuntu2204 => (
            &[
                "3.0.2-0ubuntu1.18",
                "3.0.2-0ubuntu1.15",
                "3.0.2-0ubuntu1.12",
            ],
            "libssl3",
            &["7.81.0-1ubuntu1.18", "7.81.0-1ubuntu1.17"],
            &["1:8.9p1-3ubuntu0.10"],
            &["1.9.9-1ubuntu2.4"],
        ),
        Distro::Ubuntu2404 => (
            &["3.0.13-0ubuntu3.4", "3.0.13-0ubuntu3.1"],
            "libssl3",
            &["8.5.0-2ubuntu10.4", "8.5.0-2ubuntu10.1"],
            &["1:9.6p1-3ubuntu13.5"],
            &["1.9.15p5-3ubuntu5"],
        ),
    };
    vec![
        special(1.0, "openssl", ssl),
        special(1.0, libssl, ssl),
        special(0.8, "curl", curl),
        special(0.95, "libcurl4", curl),
        special(1.0, "openssh-client", ssh),
        special(0.4, "openssh-server", ssh),
        special(1.0, "sudo", sudo),
    ]
}

fn rhel_specials(release: u8) -> Vec<(f64, Title)> {
    let ssl: &[&str] = if release == 8 {
        &["1.1.1k-12.el8_9", "1.1.1k-9.el8_7", "1.1.1k-7.el8_6"]
    } else {
        &["3.0.7-28.el9_4", "3.0.7-27.el9", "3.0.7-24.el9"]
    };
    vec![
        special(1.0, "openssl", ssl),
        special(1.0, "openssl-libs", ssl),
    ]
}

fn windows_specials() -> Vec<(f64, Title)> {
    vec![
        special(
            0.85,
            "Google Chrome",
            &[
                "126.0.6478.127",
                "126.0.6478.115",
                "125.0.6422.142",
                "124.0.6367.208",
                "120.0.6099.225",
            ],
        ),
        special(
            1.0,
            "Microsoft Edge",
            &["126.0.2592.87", "126.0.2592.81", "125.0.2535.92"],
        ),
        special(
            0.3,
            "Mozilla Firefox (x64 en-US)",
            &["127.0.2", "127.0.1", "126.0.1", "115.12.0"],
        ),
        special(
            0.6,
            "Zoom Workplace (64-bit)",
            &["6.1.1.41705", "6.0.12.38690", "5.17.11.34827"],
        ),
        special(
            0.85,
            "Microsoft 365 Apps for enterprise - en-us",
            &["16.0.17726.20160", "16.0.17628.20144", "16.0.17531.20152"],
        ),
        special(
            0.4,
            "Adobe Acrobat (64-bit)",
            &["24.002.20933", "24.002.20895", "23.008.20470"],
        ),
        special(0.5, "7-Zip 23.01 (x64)", &["23.01"]),
    ]
}

fn macos_specials() -> Vec<(f64, Title)> {
    vec![
        special(
            0.9,
            "com.google.Chrome",
            &["126.0.6478.127", "126.0.6478.115", "125.0.6422.142"],
        ),
        special(
            0.7,
            "us.zoom.pkg.videomeeting",
            &["6.1.1.36333", "6.0.11.35001"],
        ),
        special(
            0.8,
            "com.microsoft.package.Microsoft_Word.app",
            &["16.86.24060916", "16.85.24051214"],
        ),
    ]
}

const IN_HOUSE_TOOLS: &[&str] = &[
    "Time Tracker",
    "Expense Client",
    "Label Printer",
    "Report Viewer",
    "Shift Planner",
    "Badge Reader",
    "Scanner Bridge",
    "Contract Archive",
    "Price Calculator",
    "Stock Monitor",
    "Route Planner",
    "Quality Audit",
    "Travel Booking",
    "Training Portal",
    "Print Agent",
    "Document Signer",
    "Ticket Kiosk",
    "Fleet Tracker",
    "Survey Tool",
    "Budget Planner",
];

/// In-house tools as each family names them.
fn in_house(family: Family) -> Vec<String> {
    let mut out = Vec::new();
    for dept in DEPARTMENTS {
        for tool in IN_HOUSE_TOOLS {
            let slug = |s: &str| s.to_lowercase().replace(' ', "-");
            out.push(match family {
                Family::Windows => format!("Contoso {dept} {tool}"),
                Family::MacOs => format!("com.contoso.{}.{}", slug(dept), slug(tool)),
                Family::Debian(_) | Family::Rhel(_) => {
                    format!("contoso-{}-{}", slug(dept), slug(tool))
                }
            });
        }
    }
    out
}

fn catalog(family: Family) -> Catalog {
    let (source, specials, names, core_len): (&str, _, Vec<&str>, usize) = match family {
        Family::Windows => (
            "registry",
            windows_specials(),
            WINDOWS_PROGRAMS.to_vec(),
            60,
        ),
        Family::MacOs => ("pkgutil", macos_specials(), MACOS_PACKAGES.to_vec(), 40),
        Family::Debian(d) => (
            "dpkg",
            debian_specials(d),
            DPKG_TOOLS.iter().chain(DPKG_LIBS).copied().collect(),
            120,
        ),
        Family::Rhel(r) => ("rpm", rhel_specials(r), RPM_PACKAGES.to_vec(), 120),
    };
    let taken: HashSet<&str> = specials.iter().map(|(_, t)| t.name.as_str()).collect();
    let mut titles: Vec<Title> = names
        .into_iter()
        .filter(|n| !taken.contains(n))
        .map(|n| generic(n, family))
        .collect();
    let mut optional = titles.split_off(core_len.min(titles.len()));
    optional.extend(in_house(family).iter().map(|n| generic(n, family)));
    Catalog {
        source,
        specials,
        core: titles,
        optional,
    }
}

/// One installed package as an agent reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub source: &'static str,
    pub name: String,
    pub arch: &'static str,
    pub version: String,
    pub publisher: String,
}

/// Picks packages for machines, keeping each family's catalog.
pub struct Packages {
    catalogs: HashMap<Family, Catalog>,
    per_machine: usize,
    wide: bool,
}

impl Packages {
    pub fn new(per_machine: usize) -> Packages {
        Packages {
            catalogs: HashMap::new(),
            per_machine,
            wide: false,
        }
    }

    /// Catalogs with enough titles for 1,500 packages per Linux machine: every dpkg and
    /// rpm title also comes as `-dev`, `-doc`, `python3-` and `golang-` packages.
    pub fn wide() -> Packages {
        Packages {
            wide: true,
            ..Packages::new(0)
        }
    }

    /// `count` distinct packages for a machine of `family`: the specials it draws, the
    /// family's core titles, then a random pick of the rest.
    pub fn pick(&mut self, rng: &mut Rng, family: Family, count: usize) -> Vec<Item> {
        let wide = self.wide;
        let cat = self.catalogs.entry(family).or_insert_with(|| {
            let mut c = catalog(family);
            if wide {
                widen(&mut c, family);
            }
            c
        });
        let mut items: Vec<(&str, &str)> = Vec::with_capacity(count);
        for (p, t) in &cat.specials {
            if rng.chance(*p) {
                items.push((&t.name, t.pick(rng)));
            }
        }
        for t in &cat.core {
            if items.len() >= count {
                break;
            }
            items.push((&t.name, t.pick(rng)));
        }
        let wanted = count.saturating_sub(items.len()).min(cat.optional.len());
        let mut chosen: HashSet<usize> = HashSet::with_capacity(wanted);
        while chosen.len() < wanted {
            chosen.insert(rng.below(cat.optional.len() as u64) as usize);
        }
        let mut picked: Vec<usize> = chosen.into_iter().collect();
        picked.sort_unstable();
        for i in picked {
            let t = &cat.optional[i];
            items.push((&t.name, t.pick(rng)));
        }
        items
            .into_iter()
            .map(|(name, version)| Item {
                source: cat.source,
                name: name.to_owned(),
                arch: arch(family, name),
                version: version.to_owned(),
                publisher: name
                    .split([' ', '.', '-'])
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect()
    }

    /// Stores the packages of `machines` as their first reports would, with the
    /// catalog's counts added up and written once; returns the rows.
    pub fn insert(
        &mut self,
        c: &Connection,
        rng: &mut Rng,
        machines: &[Machine],
        now: i64,
    ) -> anyhow::Result<u64> {
        let mut rows = 0u64;
        packages::with_deferred_counts(c, || {
            for m in machines {
                let list: Vec<Software> = self
                    .pick(rng, m.os.family, self.per_machine)
                    .into_iter()
                    .map(|item| Software {
                        install_date: now - rng.range(86_400, 900 * 86_400),
                        source: item.source.to_owned(),
                        name: item.name,
                        arch: item.arch.to_owned(),
                        version: item.version,
                        publisher: item.publisher,
                    })
                    .collect();
                rows += list.len() as u64;
                packages::store(c, m.id, &[], &list)?;
            }
            Ok(())
        })?;
        Ok(rows)
    }
}

fn arch(family: Family, name: &str) -> &'static str {
    match family {
        Family::Windows => "x64",
        Family::MacOs => "",
        Family::Debian(_) if fnv(name).is_multiple_of(5) => "all",
        Family::Debian(_) => "amd64",
        Family::Rhel(_) if fnv(name).is_multiple_of(5) => "noarch",
        Family::Rhel(_) => "x86_64",
    }
}

/// Adds the development, documentation and language-binding packages of each Linux title.
fn widen(cat: &mut Catalog, family: Family) {
    if !matches!(family, Family::Debian(_) | Family::Rhel(_)) {
        return;
    }
    let base: Vec<String> = cat
        .core
        .iter()
        .chain(&cat.optional)
        .map(|t| t.name.clone())
        .collect();
    for name in base {
        for variant in [
            format!("{name}-dev"),
            format!("{name}-doc"),
            format!("python3-{name}"),
            format!("golang-{name}"),
        ] {
            cat.optional.push(generic(&variant, family));
        }
    }
}

/// Installs, removals and upgrades per title and day over the last `days` days, in
/// proportion to each title's installs, with monthly patch waves.
pub fn insert_history(c: &Connection, rng: &mut Rng, now: i64, days: i64) -> anyhow::Result<u64> {
    let titles: Vec<(String, i64)> = {
        let mut stmt = c.prepare("SELECT name, installs FROM software_titles")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let today = now.div_euclid(86_400);
    let mut stmt = c.prepare(
        "INSERT INTO software_daily (name, day, installed, removed, upgraded, downgraded) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut rows = 0;
    for (name, installs) in titles {
        let scale = (installs / 500).max(0) as u64;
        for day in today - days + 1..=today {
            let wave = day.rem_euclid(30) < 3;
            let installed = rng.below(scale / 4 + 1) + u64::from(rng.chance(0.2));
            let removed = rng.below(scale / 8 + 1);
            let upgraded = if wave {
                rng.below(scale * 3 + 1)
            } else {
                rng.below(scale / 4 + 1)
            };
            let downgraded = u64::from(rng.chance(0.01));
            if installed + removed + upgraded + downgraded > 0 {
                let n = |x: u64| x as i64;
                stmt.execute(params![
                    name,
                    day,
                    n(installed),
                    n(removed),
                    n(upgraded),
                    n(downgraded)
                ])?;
                rows += 1;
            }
        }
    }
    Ok(rows)
}

/// Licenses for popular commercial titles, with seats near their installs, and seats
/// assigned to machines that have the title. Returns the rows written.
pub fn insert_licenses(c: &Connection, now: i64) -> anyhow::Result<u64> {
    let licenses: &[(&str, &[&str], f64)] = &[
        (
            "Microsoft 365 E3",
            &[
                "Microsoft 365 Apps for enterprise - en-us",
                "com.microsoft.package.Microsoft_Word.app",
            ],
            1.02,
        ),
        ("Adobe Acrobat Pro", &["Adobe Acrobat (64-bit)"], 0.95),
        (
            "Zoom Business",
            &["Zoom Workplace (64-bit)", "us.zoom.pkg.videomeeting"],
            1.1,
        ),
        ("Microsoft Visio Plan 2", &["Microsoft Visio - en-us"], 0.9),
        (
            "Microsoft Project Plan 3",
            &["Microsoft Project - en-us"],
            1.05,
        ),
        (
            "AutoCAD LT",
            &["Autodesk AutoCAD LT 2025", "com.autodesk.AutoCAD.2025"],
            0.8,
        ),
        (
            "MATLAB",
            &["MATLAB R2024a", "com.mathworks.matlab.R2024a"],
            1.0,
        ),
        (
            "Tableau Creator",
            &[
                "Tableau Desktop 2024.1",
                "com.tableausoftware.tableaudesktop",
            ],
            1.2,
        ),
        (
            "SPSS Statistics",
            &["IBM SPSS Statistics", "com.ibm.spss.statistics"],
            0.7,
        ),
        ("Snagit", &["Snagit 2024"], 1.0),
        ("Camtasia", &["Camtasia 2024"], 1.0),
        ("TeamViewer Corporate", &["TeamViewer"], 0.5),
        ("Red Hat Enterprise Linux Server", &["openssl-libs"], 1.0),
    ];
    let mut rows = 0u64;
    for (name, titles, ratio) in licenses {
        let installs: i64 = titles
            .iter()
            .map(|t| {
                c.query_row(
                    "SELECT coalesce((SELECT installs FROM software_titles WHERE name = ?1), 0)",
                    [t],
                    |r| r.get::<_, i64>(0),
                )
            })
            .sum::<rusqlite::Result<i64>>()?;
        let seats = ((installs as f64) * ratio).round() as i64;
        c.execute(
            "INSERT INTO licenses (name, seats, expires_on, cost_cents, notes, created_at, updated_at)
             VALUES (?1, ?2, '2026-12-31', ?3, 'seeded by asset-bench', ?4, ?4)",
            params![name, seats, seats * 25_000, now],
        )?;
        let id = c.last_insert_rowid();
        for t in *titles {
            c.execute(
                "INSERT INTO license_titles (license_id, name) VALUES (?1, ?2)",
                params![id, t],
            )?;
        }
        rows += 1 + titles.len() as u64;
        rows += c.execute(
            "INSERT INTO license_seats (license_id, asset_id, assigned_at, assigned_by)
             SELECT ?1, asset_id, ?2, 'asset-bench' FROM
               (SELECT DISTINCT asset_id FROM asset_packages
                WHERE package_id IN (SELECT id FROM software_packages WHERE name = ?3)
                ORDER BY asset_id LIMIT ?4)",
            params![id, now, titles[0], seats],
        )? as u64;
    }
    Ok(rows)
}
