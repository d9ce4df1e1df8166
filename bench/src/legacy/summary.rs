//! legacy-bench's report: what was sent, the rates and latencies per phase, where the
//! time goes, and what the database holds afterwards.

use super::Options;
use super::documents::{self, Made, Source};
use super::load::{self, Round};
use super::phases::{ParseOnly, StoreOnly};
use crate::measure::Timing;
use crate::report::{size, thousands};
use std::path::Path;
use std::time::Duration;

/// Everything the report shows.
pub struct Report<'a> {
    pub o: &'a Options,
    pub source: &'a Source,
    pub software: usize,
    pub made: [Made; 2],
    pub rounds: [&'a Round; 2],
    pub parsed: &'a ParseOnly,
    pub stored: &'a StoreOnly,
    pub phase_devices: usize,
    pub db_path: &'a Path,
    /// Assets before and after the rounds.
    pub assets: (u64, u64),
    pub software_rows: u64,
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn per_second(n: usize, d: Duration) -> String {
    format!("{:.1}", n as f64 / d.as_secs_f64().max(1e-9))
}

fn percentiles(t: &Timing) -> [String; 4] {
    [50.0, 95.0, 99.0, 100.0].map(|p| ms(t.percentile(p)))
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// A Markdown table; every column but the first right-aligned.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| -> String {
        let mut s = String::from("|");
        for (i, (c, w)) in cols.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(w - c.chars().count());
            s += &if i == 0 {
                format!(" {c}{pad} |")
            } else {
                format!(" {pad}{c} |")
            };
        }
        s
    };
    let mut out = line(&header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    out.push('\n');
    out += &line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
    for row in rows {
        out.push('\n');
        out += &line(row);
    }
    out
}

fn round_rows(r: &Round, what: &str) -> [Vec<String>; 2] {
    let row = |label: String, n: usize, rate: String, t: &Timing, errors: usize| {
        let mut v = vec![label, thousands(n as u64), rate];
        v.extend(percentiles(t));
        v.push(errors.to_string());
        v
    };
    [
        row(
            format!("{}: INVENTORY, {what}", r.label),
            r.sent,
            format!("{:.1}", r.rate()),
            &r.inventory,
            r.errors - r.prolog_errors,
        ),
        row(
            format!("{}: PROLOG", r.label),
            r.sent,
            "-".into(),
            &r.prolog,
            r.prolog_errors,
        ),
    ]
}

impl Report<'_> {
    pub fn print(&self) {
        let o = self.o;
        let [r1, r2] = self.rounds;
        let p = self.parsed;
        println!();
        println!(
            "legacy-bench: {} devices, {} concurrent clients; FusionInventory 2.6 XML, zlib, POST {} with basic auth, HTTP/1.1 keep-alive to the server in-process on 127.0.0.1",
            thousands(o.devices as u64),
            o.concurrency,
            load::PATH
        );
        println!(
            "source: {} (ran in {:.2} s): {} bytes of XML, {} packages",
            self.source.origin,
            self.source.took.as_secs_f64(),
            thousands(self.source.xml.len() as u64),
            thousands(self.software as u64)
        );
        let varied = ((self.software as f64 * documents::VARIED_SHARE).round() as usize).max(1);
        println!(
            "devices: each its own DEVICEID, HARDWARE/NAME, BIOS/SSN and random HARDWARE/UUID (so its own asset); {varied} of {} package versions ({:.0}%) differ per device",
            self.software,
            documents::VARIED_SHARE * 100.0
        );
        for (m, what) in self.made.iter().zip([
            "(a)".to_owned(),
            format!(
                "(b) ({} packages upgraded per device)",
                documents::UPDATED_PER_DEVICE
            ),
        ]) {
            println!(
                "documents {what}: {} INVENTORY, {} XML -> {} zlib ({:.1} KB per document, {:.1}% of the XML), rendered and compressed in {:.1} s on {} threads (not in any rate below)",
                thousands(m.documents as u64),
                size(m.xml_bytes),
                size(m.zlib_bytes),
                m.zlib_bytes as f64 / m.documents.max(1) as f64 / 1e3,
                m.zlib_bytes as f64 * 100.0 / m.xml_bytes.max(1) as f64,
                m.took.as_secs_f64(),
                m.threads
            );
        }
        println!();
        let mut rows = Vec::new();
        rows.extend(round_rows(r1, "new asset each"));
        rows.extend(round_rows(
            r2,
            &format!("{} upgrades each", documents::UPDATED_PER_DEVICE),
        ));
        let mut parse_row = vec![
            "(c) parse only (xml::parse), 1 thread".to_owned(),
            thousands(p.documents as u64),
            per_second(p.documents, p.parse_total),
        ];
        parse_row.extend(percentiles(&p.parse));
        parse_row.push("0".into());
        rows.push(parse_row);
        let dash = || "-".to_owned();
        rows.push(vec![
            "(c) inflate + parse, 1 thread".to_owned(),
            thousands(p.documents as u64),
            per_second(p.documents, p.inflate + p.parse_total),
            dash(),
            dash(),
            dash(),
            dash(),
            "0".into(),
        ]);
        rows.push(vec![
            format!("(c) inflate + parse, {} threads", p.threads),
            thousands(p.documents as u64),
            per_second(p.documents, p.parallel_wall),
            dash(),
            dash(),
            dash(),
            dash(),
            "0".into(),
        ]);
        println!(
            "{}",
            table(
                &[
                    "phase",
                    "requests",
                    "inventories/s",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "max ms",
                    "errors"
                ],
                &rows
            )
        );
        println!();
        println!(
            "wall time: (a) {:.1} s, (b) {:.1} s, PROLOGs included; the rates count stored INVENTORY requests only (PROLOG is about as many requests again)",
            r1.wall.as_secs_f64(),
            r2.wall.as_secs_f64()
        );
        self.print_breakdown();
        for r in self.rounds {
            if r.errors > 0 {
                println!("{}: {} failed requests; the first ones:", r.label, r.errors);
                for e in &r.shown {
                    println!("  {e}");
                }
            }
        }
        self.print_database();
    }

    fn print_breakdown(&self) {
        let (p, s) = (self.parsed, self.stored);
        let n = u32::try_from(p.documents.max(1)).unwrap_or(u32::MAX);
        println!();
        println!(
            "where the time goes: one inventory at a time, no HTTP; inflate and parse over all {} documents of (b), store over the first {} devices' (a) then (b) documents into a scratch database (the handler's own db.write of db::legacy::store):",
            thousands(p.documents as u64),
            self.phase_devices
        );
        let row = |label: &str, t: Option<&Timing>, mean: Duration| {
            let mut v = vec![label.to_owned()];
            match t {
                Some(t) => v.extend(percentiles(t)),
                None => v.extend(["-", "-", "-", "-"].map(String::from)),
            }
            v.push(ms(mean));
            v
        };
        let rows = vec![
            row("inflate (body::decode)", None, p.inflate / n),
            row("parse (xml::parse)", Some(&p.parse), p.parse_total / n),
            row("store, new asset", Some(&s.create), s.create_mean),
            row(
                &format!("store, update ({} upgrades)", documents::UPDATED_PER_DEVICE),
                Some(&s.update),
                s.update_mean,
            ),
        ];
        println!(
            "{}",
            table(
                &["step", "p50 ms", "p95 ms", "p99 ms", "max ms", "mean ms"],
                &rows
            )
        );
        for (r, mean) in self.rounds.iter().zip([s.create_mean, s.update_mean]) {
            let busy = mean * u32::try_from(r.sent).unwrap_or(u32::MAX);
            println!(
                "{}: {} stores x {} ms = {:.1} s of the single writer for {:.1} s of wall time ({:.0}%)",
                r.label,
                thousands(r.sent as u64),
                ms(mean),
                busy.as_secs_f64(),
                r.wall.as_secs_f64(),
                busy.as_secs_f64() * 100.0 / r.wall.as_secs_f64().max(1e-9)
            );
        }
    }

    fn print_database(&self) {
        let with_suffix = |suffix: &str| {
            let mut p = self.db_path.as_os_str().to_owned();
            p.push(suffix);
            file_size(Path::new(&p))
        };
        let (db, wal, shm) = (
            file_size(self.db_path),
            with_suffix("-wal"),
            with_suffix("-shm"),
        );
        println!();
        println!("database: {}", self.db_path.display());
        println!(
            "database size on disk: {} (steward.db {}, -wal {}, -shm {})",
            size(db + wal + shm),
            thousands(db),
            thousands(wal),
            thousands(shm)
        );
        let (before, after) = self.assets;
        let added = after.saturating_sub(before);
        let devices = self.o.devices as u64;
        println!(
            "assets: {} added for {} devices: {}; {} in the database, {} installed software rows ({:.0} per asset)",
            thousands(added),
            thousands(devices),
            if added == devices { "OK" } else { "MISMATCH" },
            thousands(after),
            thousands(self.software_rows),
            self.software_rows as f64 / after.max(1) as f64
        );
    }
}
