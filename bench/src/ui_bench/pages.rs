//! Every page of the web UI that answers a GET (the routers in `server/src/ui/`), as
//! measured cases: who asks (technician, administrator, employee, nobody) and the paths to
//! request in turn, at random ids where the page takes one. The ids come from the seeded
//! database ([`Picks`]).

use super::seed;
use super::session::encode;
use crate::rng::Rng;
use steward_server::db::Db;

/// Who requests a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Technician,
    Admin,
    Employee,
    Public,
}

/// One row of the table: a label and the paths to request, used in turn.
#[derive(Debug, Clone)]
pub struct Page {
    pub label: String,
    pub who: Who,
    pub paths: Vec<String>,
}

fn page(label: &str, who: Who, paths: Vec<String>) -> Page {
    Page {
        label: label.to_owned(),
        who,
        paths,
    }
}

fn one(label: &str, who: Who, path: &str) -> Page {
    page(label, who, vec![path.to_owned()])
}

/// Ids and names from the seeded database that pages take.
#[derive(Debug, Default, Clone)]
pub struct Picks {
    /// The signed-in employee's and technician's ids.
    pub employee: i64,
    pub technician: i64,
    pub max_ticket: i64,
    /// Tickets the signed-in employee filed.
    pub employee_tickets: Vec<i64>,
    /// Machines with software, and assets of every kind.
    pub machines: Vec<i64>,
    pub assets: Vec<i64>,
    pub public_tokens: Vec<String>,
    /// Software titles, most installed first, then random ones.
    pub titles: Vec<String>,
    pub sites: Vec<i64>,
    pub rooms: Vec<i64>,
    pub plans: Vec<i64>,
    pub work_orders: Vec<i64>,
    /// `?ids=` for sheets of QR labels: 24 assets each (one A4 page).
    pub label_sheets: Vec<String>,
    /// (site id for `location=`, a host name for `q=`)
    pub site_filter: i64,
    pub hostname: String,
    pub previous_month: String,
    /// The seeded QR report's follow page.
    pub qr_follow: Option<String>,
}

/// Reads what the pages need from the database; `employee` and `technician` are the
/// signed-in users.
pub async fn picks(
    db: &Db,
    employee: i64,
    technician: i64,
    n: usize,
    seed: u64,
) -> anyhow::Result<Picks> {
    Ok(db
        .read(move |c| {
            let mut rng = Rng::new(seed);
            let ids = |sql: &str| -> rusqlite::Result<Vec<i64>> {
                let mut stmt = c.prepare(sql)?;
                stmt.query_map([], |r| r.get(0))?.collect()
            };
            let max_ticket: i64 =
                c.query_row("SELECT coalesce(max(id), 0) FROM tickets", [], |r| r.get(0))?;
            let mut stmt = c.prepare(
                "SELECT id FROM tickets WHERE requester_id = ?1 ORDER BY id DESC LIMIT 200",
            )?;
            let mine: Vec<i64> = stmt
                .query_map([employee], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let machines = sample(
                &mut rng,
                &ids("SELECT id FROM assets a
                     WHERE EXISTS (SELECT 1 FROM asset_packages p WHERE p.asset_id = a.id)")?,
                n,
            );
            let assets = sample(&mut rng, &ids("SELECT id FROM assets")?, n);
            let plans = sample(&mut rng, &ids("SELECT id FROM maintenance_plans")?, n);
            let work_orders = sample(&mut rng, &ids("SELECT id FROM work_orders")?, n);
            let all_assets = ids("SELECT id FROM assets")?;
            let label_sheets = (0..n)
                .map(|_| {
                    let sheet: Vec<String> = sample(&mut rng, &all_assets, 24)
                        .iter()
                        .map(i64::to_string)
                        .collect();
                    sheet.join(",")
                })
                .filter(|s| !s.is_empty())
                .collect();
            let sites = ids("SELECT id FROM locations WHERE kind = 'site'")?;
            let rooms = sample(
                &mut rng,
                &ids("SELECT id FROM locations WHERE kind = 'room'")?,
                n,
            );
            let mut stmt = c.prepare(
                "SELECT public_token FROM assets WHERE public_token IS NOT NULL LIMIT 5000",
            )?;
            let tokens: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let public_tokens = sample(&mut rng, &tokens, n);
            let mut stmt = c.prepare("SELECT name FROM software_titles ORDER BY installs DESC")?;
            let all_titles: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            // Half the most installed titles, half at random.
            let mut titles: Vec<String> = all_titles.iter().take(n / 2).cloned().collect();
            titles.extend(sample(&mut rng, &all_titles, n - titles.len()));
            let site_filter = c
                .query_row(
                    "SELECT l.id FROM locations l WHERE l.kind = 'site' ORDER BY l.id LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .unwrap_or(0);
            let hostname = c
                .query_row(
                    "SELECT hostname FROM assets WHERE hostname != '' ORDER BY id DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .unwrap_or_default();
            let today = chrono::Utc::now().date_naive();
            let previous_month = today
                .checked_sub_months(chrono::Months::new(1))
                .unwrap_or(today)
                .format("%Y-%m")
                .to_string();
            let qr_follow = c
                .query_row(
                    "SELECT a.public_token FROM public_reports p JOIN assets a ON a.id = p.asset_id
                     WHERE p.follow_hash = ?1",
                    [steward_server::crypto::token_hash(seed::FOLLOW)],
                    |r| r.get::<_, String>(0),
                )
                .ok()
                .map(|t| format!("/p/{t}/t/{}", seed::FOLLOW));
            Ok(Picks {
                employee,
                technician,
                qr_follow,
                max_ticket,
                employee_tickets: sample(&mut rng, &mine, n),
                machines,
                assets,
                public_tokens,
                titles,
                sites,
                rooms,
                plans,
                work_orders,
                label_sheets,
                site_filter,
                hostname,
                previous_month,
            })
        })
        .await?)
}

/// `n` values drawn from `all` (none when it is empty).
fn sample<T: Clone>(rng: &mut Rng, all: &[T], n: usize) -> Vec<T> {
    if all.is_empty() {
        return Vec::new();
    }
    (0..n)
        .map(|_| all[rng.below(all.len() as u64) as usize].clone())
        .collect()
}

fn paths(ids: &[i64], f: impl Fn(i64) -> String) -> Vec<String> {
    ids.iter().map(|&id| f(id)).collect()
}

/// The pages, in the order they are measured (the staff dashboard's cached row comes after
/// its first request, which the benchmark times on its own).
pub fn pages(p: &Picks, n: usize) -> Vec<Page> {
    use Who::{Admin, Employee, Public, Technician};
    let mut rng = Rng::new(7);
    let random_tickets: Vec<i64> = (0..n)
        .map(|_| rng.range(1, p.max_ticket.max(1) + 1))
        .collect();
    let mut out = vec![
        one("/ staff dashboard (cached figures)", Technician, "/"),
        one("/tickets (All open, by priority)", Technician, "/tickets"),
        one("/tickets?view=mine", Technician, "/tickets?view=mine"),
        one(
            "/tickets?view=unassigned",
            Technician,
            "/tickets?view=unassigned",
        ),
        one(
            "/tickets?view=breached",
            Technician,
            "/tickets?view=breached",
        ),
        one(
            "/tickets?view=resolved",
            Technician,
            "/tickets?view=resolved",
        ),
        one("/tickets?view=all", Technician, "/tickets?view=all"),
        one(
            "/tickets?q=printer (open queue)",
            Technician,
            "/tickets?q=printer",
        ),
        one(
            "/tickets?view=all&q=printer",
            Technician,
            "/tickets?view=all&q=printer",
        ),
        one(
            "/tickets?view=all&q=password+reset",
            Technician,
            "/tickets?view=all&q=password+reset",
        ),
        one(
            "/tickets?view=all&q=plotter",
            Technician,
            "/tickets?view=all&q=plotter",
        ),
        page(
            "/tickets/{id} (random)",
            Technician,
            paths(&random_tickets, |id| format!("/tickets/{id}")),
        ),
        one("/tickets/new", Technician, "/tickets/new"),
        one("/assets (first page)", Technician, "/assets"),
        one("/assets?kind=server", Technician, "/assets?kind=server"),
        one(
            "/assets?os=Ubuntu&active=true",
            Technician,
            "/assets?os=Ubuntu&active=true",
        ),
        one("/assets?vendor=LENOVO", Technician, "/assets?vendor=LENOVO"),
        one(
            "/assets?criticality=critical",
            Technician,
            "/assets?criticality=critical",
        ),
        one(
            "/assets?warranty_before=2026-01-01",
            Technician,
            "/assets?warranty_before=2026-01-01",
        ),
        one(
            "/assets?location={site}",
            Technician,
            &format!("/assets?location={}", p.site_filter),
        ),
        one("/assets?q=ThinkPad", Technician, "/assets?q=ThinkPad"),
        one(
            "/assets?q={host name}",
            Technician,
            &format!("/assets?q={}", encode(&p.hostname)),
        ),
        one(
            "/assets?q=nothing-matches (walks all)",
            Technician,
            "/assets?q=zzqx",
        ),
        one(
            "/assets?cursor=50000",
            Technician,
            &format!("/assets?cursor={}", p.assets.iter().max().unwrap_or(&1) / 2),
        ),
        page(
            "/assets/{id} (machine with software)",
            Technician,
            paths(&p.machines, |id| format!("/assets/{id}")),
        ),
        page(
            "/assets/{id}?sq=lib (software search)",
            Technician,
            paths(&p.machines, |id| format!("/assets/{id}?sq=lib")),
        ),
        page(
            "/assets/{id} (any asset)",
            Technician,
            paths(&p.assets, |id| format!("/assets/{id}")),
        ),
        one("/assets/new", Technician, "/assets/new"),
        one("/assets/import", Technician, "/assets/import"),
        one("/software", Technician, "/software"),
        one("/software?q=lib", Technician, "/software?q=lib"),
        page(
            "/software/{name}",
            Technician,
            p.titles
                .iter()
                .map(|t| format!("/software/{}", encode(t)))
                .collect(),
        ),
        one(
            "/software/openssl?below=3.0",
            Technician,
            "/software/openssl?below=3.0",
        ),
        one("/licenses", Technician, "/licenses"),
        one("/locations", Technician, "/locations"),
        page(
            "/locations/{site}",
            Technician,
            paths(&p.sites, |id| format!("/locations/{id}")),
        ),
        page(
            "/locations/{room}",
            Technician,
            paths(&p.rooms, |id| format!("/locations/{id}")),
        ),
        one("/maintenance", Technician, "/maintenance"),
        page(
            "/maintenance/plans/{id}",
            Technician,
            paths(&p.plans, |id| format!("/maintenance/plans/{id}")),
        ),
        page(
            "/maintenance/plans/{id}/edit",
            Technician,
            paths(&p.plans, |id| format!("/maintenance/plans/{id}/edit")),
        ),
        one(
            "/maintenance/plans/new",
            Technician,
            "/maintenance/plans/new",
        ),
        one("/maintenance/calendar", Technician, "/maintenance/calendar"),
        one(
            "/maintenance/calendar?month={last month}",
            Technician,
            &format!("/maintenance/calendar?month={}", p.previous_month),
        ),
        one(
            "/maintenance/compliance (by plan)",
            Technician,
            "/maintenance/compliance",
        ),
        one(
            "/maintenance/compliance?by=site",
            Technician,
            "/maintenance/compliance?by=site",
        ),
        one(
            "/maintenance/compliance?by=type",
            Technician,
            "/maintenance/compliance?by=type",
        ),
        page(
            "/work-orders/{id}",
            Technician,
            paths(&p.work_orders, |id| format!("/work-orders/{id}")),
        ),
        one("/alerts", Technician, "/alerts"),
        page(
            "/api/v1/assets/labels.svg?ids= (24 QR labels)",
            Technician,
            p.label_sheets
                .iter()
                .map(|ids| format!("/api/v1/assets/labels.svg?ids={ids}"))
                .collect(),
        ),
        one("/me/devices (technician)", Technician, "/me/devices"),
        one("/admin/groups", Admin, "/admin/groups"),
        one("/admin/enrollment", Admin, "/admin/enrollment"),
        one("/admin/updates", Admin, "/admin/updates"),
        one("/admin/audit", Admin, "/admin/audit"),
        one(
            "/admin/audit?action=auth.login_failed",
            Admin,
            "/admin/audit?action=auth.login_failed",
        ),
        one(
            "/admin/audit?action=agent. (none logged)",
            Admin,
            "/admin/audit?action=agent.",
        ),
        one(
            "/admin/audit?actor={employee id}",
            Admin,
            &format!("/admin/audit?actor={}", p.employee),
        ),
        one(
            "/admin/audit?actor={technician id} (few entries)",
            Admin,
            &format!("/admin/audit?actor={}", p.technician),
        ),
        one(
            "/admin/audit?actor=cli (label, few entries)",
            Admin,
            "/admin/audit?actor=cli",
        ),
        one("/ employee home", Employee, "/"),
        one("/tickets (employee: their requests)", Employee, "/tickets"),
        page(
            "/tickets/{id} (employee's own)",
            Employee,
            paths(&p.employee_tickets, |id| format!("/tickets/{id}")),
        ),
        one("/tickets/new (employee)", Employee, "/tickets/new"),
        one("/me/devices (employee)", Employee, "/me/devices"),
        one("/login", Public, "/login"),
        page(
            "/p/{token} (QR asset page)",
            Public,
            p.public_tokens.iter().map(|t| format!("/p/{t}")).collect(),
        ),
        one("/static/style.css", Public, "/static/style.css"),
        one("/static/app.js", Public, "/static/app.js"),
    ];
    if let Some(path) = &p.qr_follow {
        out.push(one("/p/{token}/t/{follow} (QR report)", Public, path));
    }
    out.retain(|pg| !pg.paths.is_empty());
    out
}
