//! The desk benchmark from start to end: open (and migrate) a data directory with
//! `steward_server::open`, seed it unless it already holds the tickets, serve it on
//! `127.0.0.1:0` in-process, and time the technician's queries over real HTTP.

use crate::harness;
use crate::measure::{self, Case, Timing};
use crate::report::{self, size, thousands};
use crate::rng::Rng;
use crate::seed::{self, SeedOptions, SeedSummary};
use anyhow::bail;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything the command line sets.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: SeedOptions,
    pub samples: usize,
    pub warmup: usize,
    /// Seed into (or reuse) this data directory instead of a temporary one.
    pub data_dir: Option<PathBuf>,
}

/// Written beside the database after seeding, so a reused directory can report it.
const SEED_FILE: &str = "desk-bench-seed.json";

/// Search words by how often they occur in the seeded text.
const SEARCHES: &[(&str, &str)] = &[
    ("rare word", "plotter"),
    ("uncommon word", "bitlocker"),
    ("common word", "vpn"),
    ("common word", "printer"),
    ("very common word", "thanks"),
    ("two words", "password reset"),
    ("two words", "vpn timeout"),
];

/// Searches a technician types in the open queue, where most matches are closed tickets
/// the walk has to skip.
const OPEN_QUEUE_SEARCHES: &[&str] = &["printer", "password reset", "plotter"];

/// Runs the benchmark and prints the report to stdout (progress goes to stderr).
pub async fn run(o: Options) -> anyhow::Result<()> {
    let opened = harness::open(o.data_dir.as_ref(), "desk-bench").await?;
    let (data_dir, db_path, state) = (&opened.data_dir, &opened.db_path, opened.state.clone());
    let existing = harness::count(&state.db, "tickets").await?;
    let (seeded, reused) = if existing == 0 {
        eprintln!("seeding {} ...", db_path.display());
        let (path, opts) = (db_path.clone(), o.seed.clone());
        let now = steward_server::clock::now();
        let s = tokio::task::spawn_blocking(move || seed::seed(&path, &opts, now)).await??;
        save_summary(data_dir, &s)?;
        (s, false)
    } else if existing >= o.seed.tickets {
        eprintln!(
            "reusing {} ({} tickets)",
            db_path.display(),
            thousands(existing)
        );
        (load_summary(data_dir, &state.db).await?, true)
    } else {
        bail!(
            "{} already has {} tickets, fewer than --tickets {}; remove it or pass another --data-dir",
            data_dir.display(),
            thousands(existing),
            thousands(o.seed.tickets)
        );
    };

    let token = harness::technician_token(&state.db, "desk-bench").await?;

    let doc_counts = search_counts(&state.db).await?;
    let shape = shape(&state.db).await?;
    let max_id = seeded.tickets.max(existing) as i64;

    let running = harness::serve(state).await?;
    let (http, base) = (&running.http, running.base.as_str());

    let cases = cases(&doc_counts, max_id, o.warmup + o.samples);
    let mut timings: Vec<Timing> = Vec::new();
    let mut failed = None;
    for case in &cases {
        eprintln!("measuring {} ...", case.label);
        match measure::run(http, base, &token, case, o.warmup, o.samples).await {
            Ok(t) => timings.push(t),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    running.stop().await?;
    if let Some(e) = failed {
        return Err(e);
    }

    print_report(&o, db_path, &seeded, reused, &shape, &timings)?;
    Ok(())
}

fn cases(doc_counts: &[u64], max_id: i64, n: usize) -> Vec<Case> {
    let mut cases = vec![
        Case::one(
            "(a) queue: status=open priority=high sort=priority limit=50",
            "/api/v1/tickets?status=open&priority=high&sort=priority&limit=50",
        ),
        Case::one(
            "(a) open queue (new+open+pending): sort=priority",
            "/api/v1/tickets?sort=priority",
        ),
        Case::one(
            "(a) open queue (new+open+pending): default sort (newest)",
            "/api/v1/tickets",
        ),
    ];
    for ((what, words), docs) in SEARCHES.iter().zip(doc_counts) {
        cases.push(Case::one(
            format!(
                "(b) search status=all, {what}: q={words} ({} matches)",
                thousands(*docs)
            ),
            format!("/api/v1/tickets?status=all&q={}", words.replace(' ', "+")),
        ));
    }
    for words in OPEN_QUEUE_SEARCHES {
        cases.push(Case::one(
            format!("(b) search in the open queue (default status): q={words}"),
            format!("/api/v1/tickets?q={}", words.replace(' ', "+")),
        ));
    }
    let mut rng = Rng::new(42);
    cases.push(Case {
        label: "(c) one ticket with its conversation: /tickets/{random id}".into(),
        paths: (0..n)
            .map(|_| format!("/api/v1/tickets/{}", rng.range(1, max_id + 1)))
            .collect(),
    });
    cases.push(Case::one(
        "(d) queue counts: /tickets/counts",
        "/api/v1/tickets/counts",
    ));
    cases
}

/// How many search rows (tickets and comments) each search matches, as the API's query.
async fn search_counts(db: &steward_server::db::Db) -> anyhow::Result<Vec<u64>> {
    Ok(db
        .read(|c| {
            let mut stmt =
                c.prepare("SELECT count(*) FROM ticket_search WHERE ticket_search MATCH ?1")?;
            SEARCHES
                .iter()
                .map(|(_, words)| {
                    let q = steward_server::db::tickets::fts_query(words).unwrap_or_default();
                    Ok(stmt.query_row([q], |r| r.get::<_, i64>(0))?.max(0) as u64)
                })
                .collect()
        })
        .await?)
}

/// What the seeded desk looks like.
#[derive(Debug, Default)]
struct Shape {
    /// Tickets per status, from the counts the triggers keep.
    statuses: Vec<(String, u64)>,
    /// Tickets per P-number.
    priorities: Vec<(i64, u64)>,
    /// Tickets that link at least one asset.
    with_assets: u64,
}

async fn shape(db: &steward_server::db::Db) -> anyhow::Result<Shape> {
    Ok(db
        .read(|c| {
            let count = |r: &rusqlite::Row<'_>, i| Ok(r.get::<_, i64>(i)?.max(0) as u64);
            let mut stmt = c.prepare(
                "SELECT substr(key, 8), n FROM ticket_counts WHERE key LIKE 'status:%' ORDER BY n DESC",
            )?;
            let statuses = stmt
                .query_map([], |r| Ok((r.get(0)?, count(r, 1)?)))?
                .collect::<Result<_, _>>()?;
            let mut stmt =
                c.prepare("SELECT priority, count(*) FROM tickets GROUP BY priority ORDER BY 1")?;
            let priorities = stmt
                .query_map([], |r| Ok((r.get(0)?, count(r, 1)?)))?
                .collect::<Result<_, _>>()?;
            let with_assets = c.query_row(
                "SELECT count(DISTINCT ticket_id) FROM ticket_assets",
                [],
                |r| count(r, 0),
            )?;
            Ok(Shape {
                statuses,
                priorities,
                with_assets,
            })
        })
        .await?)
}

fn save_summary(dir: &Path, s: &SeedSummary) -> anyhow::Result<()> {
    let json = serde_json::json!({
        "tickets": s.tickets,
        "comments": s.comments,
        "assets": s.assets,
        "users": s.users,
        "rows": s.rows,
        "seconds": s.elapsed.as_secs_f64(),
    });
    std::fs::write(dir.join(SEED_FILE), serde_json::to_vec_pretty(&json)?)?;
    Ok(())
}

/// The summary saved when the directory was seeded, or counts from the database.
async fn load_summary(dir: &Path, db: &steward_server::db::Db) -> anyhow::Result<SeedSummary> {
    if let Ok(bytes) = std::fs::read(dir.join(SEED_FILE)) {
        let v: serde_json::Value = serde_json::from_slice(&bytes)?;
        let n = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
        return Ok(SeedSummary {
            tickets: n("tickets"),
            comments: n("comments"),
            assets: n("assets"),
            users: n("users"),
            rows: n("rows"),
            elapsed: Duration::from_secs_f64(
                v.get("seconds")
                    .and_then(serde_json::Value::as_f64)
                    .unwrap_or(0.0),
            ),
        });
    }
    let counts: [u64; 4] = db
        .read(|c| {
            let n = |t: &str| -> rusqlite::Result<u64> {
                let n: i64 = c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))?;
                Ok(n.max(0) as u64)
            };
            Ok([
                n("tickets")?,
                n("ticket_comments")?,
                n("assets")?,
                n("users")?,
            ])
        })
        .await?;
    Ok(SeedSummary {
        tickets: counts[0],
        comments: counts[1],
        assets: counts[2],
        users: counts[3],
        ..Default::default()
    })
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn print_report(
    o: &Options,
    db_path: &Path,
    s: &SeedSummary,
    reused: bool,
    shape: &Shape,
    timings: &[Timing],
) -> anyhow::Result<()> {
    let with_suffix = |suffix: &str| {
        let mut p = db_path.as_os_str().to_owned();
        p.push(suffix);
        file_size(Path::new(&p))
    };
    let (db, wal, shm) = (file_size(db_path), with_suffix("-wal"), with_suffix("-shm"));
    println!();
    println!(
        "desk-bench: {} tickets, {} comments ({:.2} per ticket), {} assets, {} users",
        thousands(s.tickets),
        thousands(s.comments),
        s.comments as f64 / s.tickets.max(1) as f64,
        thousands(s.assets),
        thousands(s.users)
    );
    let by_status: Vec<String> = shape
        .statuses
        .iter()
        .map(|(k, n)| format!("{k} {}", thousands(*n)))
        .collect();
    println!("tickets by status: {}", by_status.join(", "));
    let by_priority: Vec<String> = shape
        .priorities
        .iter()
        .map(|(p, n)| format!("P{p} {}", thousands(*n)))
        .collect();
    println!(
        "tickets by priority: {}; {} tickets link an asset",
        by_priority.join(", "),
        thousands(shape.with_assets)
    );
    println!("database: {}", db_path.display());
    println!(
        "database size on disk: {} (steward.db {}, -wal {}, -shm {})",
        size(db + wal + shm),
        thousands(db),
        thousands(wal),
        thousands(shm)
    );
    if s.elapsed.is_zero() {
        println!("seeding: reused an existing data directory; seeding time unknown");
    } else {
        println!(
            "seeding{}: {:.1} s ({:.1} min), {} tickets/s, {} rows/s ({} rows by the seeder; triggers and FTS internals not counted)",
            if reused { " (earlier run, reused)" } else { "" },
            s.elapsed.as_secs_f64(),
            s.elapsed.as_secs_f64() / 60.0,
            thousands(s.tickets_per_sec() as u64),
            thousands(s.rows_per_sec() as u64),
            thousands(s.rows)
        );
        println!(
            "seeding used PRAGMA synchronous=OFF on its own connection (only while seeding; the server runs with WAL and synchronous=NORMAL); ticket_counts filled by the product's triggers"
        );
    }
    println!(
        "requests: sequential over HTTP/1.1 keep-alive to 127.0.0.1, {} warm-up + {} measured per query, technician API token",
        o.warmup, o.samples
    );
    println!();
    println!("{}", report::table(timings));
    let misses = timings
        .iter()
        .filter(|t| t.percentile(95.0) >= report::TARGET_P95)
        .count();
    println!();
    println!(
        "{} of {} queries meet p95 < {} ms",
        timings.len() - misses,
        timings.len(),
        report::TARGET_P95.as_millis()
    );
    Ok(())
}
