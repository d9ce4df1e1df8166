//! What the asset benchmark times: (a) the asset list with its filters, (b) the software
//! catalog ("which machines have openssl below 3.0", versions, history, licenses), and
//! (c) the CSV export of all assets, in rows per second.

use crate::measure::{self, Case, Timing};
use crate::report::thousands;
use crate::rng::Rng;
use anyhow::Context;
use serde_json::Value;
use steward_server::db::Db;
use steward_server::domain::versions;

/// Printed in place of the export figure when it could not be measured.
pub const EXPORT_PENDING: &str =
    "(c) CSV export of all assets: NOT MEASURED (target: at least 50,000 rows/s)";

/// The export's target rate.
pub const EXPORT_TARGET_ROWS_PER_SEC: f64 = 50_000.0;

/// Full downloads of `GET /api/v1/assets.csv` timed (after one unmeasured).
const EXPORT_RUNS: usize = 3;

/// What the seeded fleet looks like, and ids the cases need.
#[derive(Debug, Default)]
pub struct Shape {
    pub assets: u64,
    pub max_asset_id: i64,
    pub software_rows: u64,
    pub titles: u64,
    pub versions: u64,
    pub licenses: u64,
    /// `OS n, ...`, most common first.
    pub by_os: String,
    /// openssl's versions with their installs, oldest first.
    pub openssl: String,
    pub first_site: Option<i64>,
    pub first_license: Option<i64>,
}

pub async fn shape(db: &Db) -> anyhow::Result<Shape> {
    Ok(db
        .read(|c| {
            let n = |sql: &str| -> rusqlite::Result<u64> {
                Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))?.max(0) as u64)
            };
            let mut stmt = c.prepare(
                "SELECT os_name || ' ' || os_version, count(*) FROM assets GROUP BY 1 ORDER BY 2 DESC",
            )?;
            let by_os: Vec<String> = stmt
                .query_map([], |r| {
                    Ok(format!(
                        "{} {}",
                        r.get::<_, String>(0)?,
                        thousands(r.get::<_, i64>(1)?.max(0) as u64)
                    ))
                })?
                .collect::<Result<_, _>>()?;
            let mut ssl = steward_server::db::software::versions(c, "openssl")?;
            ssl.reverse();
            let below: i64 = ssl
                .iter()
                .filter(|v| versions::compare(&v.version, "3.0").is_lt())
                .map(|v| v.installs)
                .sum();
            let openssl = format!(
                "{} machines below 3.0, {} at or above; {}",
                thousands(below.max(0) as u64),
                thousands((ssl.iter().map(|v| v.installs).sum::<i64>() - below).max(0) as u64),
                ssl.iter()
                    .map(|v| format!("{} {}", v.version, thousands(v.installs.max(0) as u64)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let id = |sql: &str| -> rusqlite::Result<Option<i64>> {
                c.query_row(sql, [], |r| r.get(0))
            };
            Ok(Shape {
                assets: n("SELECT count(*) FROM assets")?,
                max_asset_id: n("SELECT coalesce(max(id), 0) FROM assets")? as i64,
                software_rows: n("SELECT coalesce(sum(software_count), 0) FROM assets")?,
                titles: n("SELECT count(*) FROM software_titles")?,
                versions: n("SELECT count(*) FROM software_versions")?,
                licenses: n("SELECT count(*) FROM licenses")?,
                by_os: by_os.join(", "),
                openssl,
                first_site: id("SELECT min(id) FROM locations WHERE kind = 'site'")?,
                first_license: id("SELECT min(id) FROM licenses")?,
            })
        })
        .await?)
}

/// The timings, the cases that could not be measured (an endpoint or filter missing),
/// and lines worth printing above the table.
#[derive(Debug, Default)]
pub struct Outcome {
    pub timings: Vec<Timing>,
    pub failed: Vec<(String, String)>,
    pub notes: Vec<String>,
    /// (c) the CSV export's line for the report.
    pub export: Option<String>,
}

async fn get(http: &reqwest::Client, base: &str, token: &str, path: &str) -> anyhow::Result<Value> {
    let resp = http
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        anyhow::bail!("GET {path} answered {status}: {body}");
    }
    Ok(body)
}

const BELOW_3: &str = "/api/v1/software/openssl/assets?below=3.0";

/// Cursors of the pages of "openssl below 3.0", walked once before timing.
async fn openssl_cursors(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    pages: usize,
) -> anyhow::Result<(Vec<String>, Value)> {
    let first = get(http, base, token, BELOW_3).await?;
    let mut cursors = Vec::new();
    let mut next = first["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = next.take() {
        if cursors.len() >= pages {
            break;
        }
        let page = get(http, base, token, &format!("{BELOW_3}&cursor={c}")).await?;
        cursors.push(c);
        next = page["next_cursor"].as_str().map(str::to_owned);
    }
    Ok((cursors, first))
}

fn asset_cases(shape: &Shape, n: usize) -> Vec<Case> {
    let mut rng = Rng::new(7);
    let mut cases = vec![
        Case::one("(a) assets: first page", "/api/v1/assets"),
        Case {
            label: "(a) assets: a page at a random cursor".into(),
            paths: (0..n)
                .map(|_| format!("/api/v1/assets?cursor={}", rng.range(1, shape.max_asset_id)))
                .collect(),
        },
        Case::one("(a) assets: kind=server", "/api/v1/assets?kind=server"),
        Case::one("(a) assets: vendor=LENOVO", "/api/v1/assets?vendor=LENOVO"),
        Case::one("(a) assets: os=Ubuntu", "/api/v1/assets?os=Ubuntu"),
        Case::one(
            "(a) assets: vendor=Apple Inc.&os=macOS",
            "/api/v1/assets?vendor=Apple%20Inc.&os=macOS",
        ),
        Case::one("(a) assets: q=thinkpad", "/api/v1/assets?q=thinkpad"),
        Case::one("(a) assets: q=srv-ber", "/api/v1/assets?q=srv-ber"),
        Case::one("(a) assets: q=10.12", "/api/v1/assets?q=10.12"),
        Case::one(
            "(a) assets: kind=computer&os=Red Hat Enterprise Linux (no match)",
            "/api/v1/assets?kind=computer&os=Red%20Hat%20Enterprise%20Linux",
        ),
        Case::one("(a) assets: state=3 (in repair)", "/api/v1/assets?state=3"),
        Case::one(
            "(a) assets: criticality=critical",
            "/api/v1/assets?criticality=critical",
        ),
        Case::one("(a) assets: active=true", "/api/v1/assets?active=true"),
        Case::one(
            "(a) assets: warranty_before=2025-06-30",
            "/api/v1/assets?warranty_before=2025-06-30",
        ),
    ];
    if let Some(site) = shape.first_site {
        cases.push(Case::one(
            format!("(a) assets: location={site} (a site and the rooms below it)"),
            format!("/api/v1/assets?location={site}"),
        ));
    }
    cases
}

fn software_cases(shape: &Shape, cursors: &[String]) -> Vec<Case> {
    let mut cases = vec![
        Case::one("(b) catalog: /software", "/api/v1/software"),
        Case::one("(b) catalog: q=ssl", "/api/v1/software?q=ssl"),
        Case::one("(b) catalog: q=microsoft", "/api/v1/software?q=microsoft"),
        Case::one("(b) openssl versions", "/api/v1/software/openssl/versions"),
        Case::one(
            "(b) which machines have openssl below 3.0: first page",
            BELOW_3,
        ),
    ];
    if !cursors.is_empty() {
        cases.push(Case {
            label: format!(
                "(b) which machines have openssl below 3.0: pages 2-{}",
                cursors.len() + 1
            ),
            paths: cursors
                .iter()
                .map(|c| format!("{BELOW_3}&cursor={c}"))
                .collect(),
        });
    }
    cases.extend([
        Case::one(
            "(b) openssl at_or_above=3.0&below=3.0.13",
            "/api/v1/software/openssl/assets?at_or_above=3.0&below=3.0.13",
        ),
        Case::one(
            "(b) Google Chrome below 126",
            "/api/v1/software/Google%20Chrome/assets?below=126",
        ),
        Case::one(
            "(b) Microsoft Edge version=126.0.2592.81",
            "/api/v1/software/Microsoft%20Edge/assets?version=126.0.2592.81",
        ),
        Case::one(
            "(b) coreutils, every version",
            "/api/v1/software/coreutils/assets",
        ),
        Case::one(
            "(b) openssl history, 30 days",
            "/api/v1/software/openssl/history?days=30",
        ),
        Case::one(
            "(b) openssl history, 366 days",
            "/api/v1/software/openssl/history?days=366",
        ),
        Case::one("(b) licenses", "/api/v1/licenses"),
    ]);
    if let Some(id) = shape.first_license {
        cases.push(Case::one(
            "(b) one license with its counts",
            format!("/api/v1/licenses/{id}"),
        ));
    }
    cases
}

/// Times every case in turn; a case whose endpoint or filter is missing is reported, not
/// fatal.
pub async fn measure_all(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    shape: &Shape,
    warmup: usize,
    samples: usize,
) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let (cursors, first) = openssl_cursors(http, base, token, samples.min(100))
        .await
        .context("walking the pages of openssl below 3.0")?;
    out.notes.push(format!(
        "GET {BELOW_3}: {} machines ({} matching versions), pages of {}",
        thousands(first["installs"].as_u64().unwrap_or(0)),
        first["versions"].as_array().map_or(0, Vec::len),
        first["items"].as_array().map_or(0, Vec::len),
    ));
    let mut cases = asset_cases(shape, warmup + samples);
    cases.extend(software_cases(shape, &cursors));
    eprintln!("measuring (c) CSV export of all assets ...");
    match measure_export(http, base, token).await {
        Ok(line) => out.export = Some(line),
        Err(e) => out
            .failed
            .push(("(c) CSV export of all assets".into(), e.to_string())),
    }
    for case in &cases {
        eprintln!("measuring {} ...", case.label);
        match measure::run(http, base, token, case, warmup, samples).await {
            Ok(t) => out.timings.push(t),
            Err(e) => out.failed.push((case.label.clone(), e.to_string())),
        }
    }
    Ok(out)
}

/// (c) Downloads the whole `GET /api/v1/assets.csv` once unmeasured and `EXPORT_RUNS`
/// times measured, each from sending the request to having read the last byte, and
/// says how many rows per second that is against the target.
async fn measure_export(http: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<String> {
    let mut times = Vec::with_capacity(EXPORT_RUNS);
    let (mut rows, mut bytes) = (0u64, 0usize);
    for run in 0..=EXPORT_RUNS {
        let started = std::time::Instant::now();
        let resp = http
            .get(format!("{base}/api/v1/assets.csv"))
            .bearer_auth(token)
            .send()
            .await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        let took = started.elapsed();
        if !status.is_success() {
            anyhow::bail!(
                "GET /api/v1/assets.csv answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        // Every row ends in CRLF (cells never hold a carriage return); the header too.
        rows = (body.windows(2).filter(|w| w == b"\r\n").count() as u64).saturating_sub(1);
        bytes = body.len();
        if run > 0 {
            times.push(took);
        }
    }
    times.sort_unstable();
    let median = times[times.len() / 2].as_secs_f64();
    let rate = rows as f64 / median.max(1e-9);
    Ok(format!(
        "(c) CSV export of all assets: {} rows, {:.1} MB, median {:.2} s of {} downloads (best {:.2} s) = {} rows/s; target at least {} rows/s: {}",
        thousands(rows),
        bytes as f64 / 1e6,
        median,
        times.len(),
        times[0].as_secs_f64(),
        thousands(rate as u64),
        thousands(EXPORT_TARGET_ROWS_PER_SEC as u64),
        if rate >= EXPORT_TARGET_ROWS_PER_SEC {
            "met"
        } else {
            "MISSED"
        }
    ))
}
