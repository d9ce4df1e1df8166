//! Two real `steward-server` processes on one database file, evaluating maintenance at the
//! same moment, generate each work order exactly once. (This test lives here, not in
//! tests/it, because Cargo gives the path of the built binary only to its own package's
//! integration tests.)
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command};
use steward_server::config::{Overrides, ServerConfig};
use steward_server::db::maintenance::{PlanFields, Target, insert};
use steward_server::domain::maintenance::{Calendar, Trigger};

const ASSETS: i64 = 800;
const ROUNDS: i64 = 3;
const SIX_HOURS: i64 = 6 * 3600;

fn run_at(data: &Path, at: i64) -> Child {
    let when = chrono::DateTime::from_timestamp(at, 0)
        .unwrap()
        .to_rfc3339();
    Command::new(env!("CARGO_BIN_EXE_steward-server"))
        .arg("--data-dir")
        .arg(data)
        .args(["maintenance", "run", "--at", &when])
        .env("STEWARD_LOG__LEVEL", "warn")
        .spawn()
        .unwrap()
}

fn both_at(data: &Path, at: i64) {
    let (mut a, mut b) = (run_at(data, at), run_at(data, at));
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
}

#[test]
fn two_server_processes_generate_each_work_order_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let overrides = Overrides {
        data_dir: Some(data.clone()),
        listen: None,
    };
    let state =
        steward_server::open(ServerConfig::load(None, Vec::new(), &overrides).unwrap()).unwrap();
    let now = steward_server::clock::now();
    // Every six hours on the hour, for 800 fire extinguishers.
    state
        .db
        .write_blocking(|tx| {
            let type_id: i64 = tx.query_row(
                "SELECT id FROM asset_types WHERE key = 'fire_extinguisher'",
                [],
                |r| r.get(0),
            )?;
            for i in 0..ASSETS {
                tx.execute(
                    "INSERT INTO assets (kind, name, created_at, updated_at) VALUES ('fire_extinguisher', ?1, ?2, ?2)",
                    rusqlite::params![format!("Extinguisher {i}"), now],
                )?;
            }
            let fields = PlanFields {
                title: "Extinguisher check".into(),
                instructions: String::new(),
                checklist: vec!["Pressure in the green".into()],
                parts: Vec::new(),
                estimated_minutes: Some(5),
                trigger: Trigger {
                    calendar: Some(Calendar::Cron {
                        expr: "0 */6 * * *".into(),
                    }),
                    ..Default::default()
                },
                timezone: Some("UTC".into()),
                lead_secs: 0,
                assignee_id: None,
                group_id: None,
                priority: 4,
                escalate_after_secs: None,
                escalate_group_id: None,
                active: true,
                targets: vec![Target {
                    kind: "type".into(),
                    id: type_id,
                }],
            };
            insert(tx, &fields, now)
        })
        .unwrap();
    drop(state);

    // Both start at once: the schedules are set up once, then each round brings exactly
    // one occurrence per extinguisher, which only one of the two processes may generate.
    let start = now - now.rem_euclid(SIX_HOURS) + 60;
    both_at(&data, start);
    for round in 1..=ROUNDS {
        both_at(&data, start + round * SIX_HOURS);
    }

    let c = rusqlite::Connection::open(data.join(steward_server::DB_FILE)).unwrap();
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM maintenance_schedules"), ASSETS);
    assert_eq!(count("SELECT count(*) FROM work_orders"), ASSETS * ROUNDS);
    assert_eq!(
        count("SELECT count(*) FROM (SELECT DISTINCT plan_id, asset_id, due_at FROM work_orders)"),
        ASSETS * ROUNDS
    );
    assert_eq!(
        count("SELECT count(*) FROM tickets WHERE type = 'maintenance'"),
        ASSETS * ROUNDS
    );
    assert_eq!(
        count("SELECT count(*) FROM work_orders WHERE ticket_id IS NULL"),
        0
    );
    // Each round's occurrence superseded the one before it, so all but the last round's
    // are recorded as missed, once each.
    assert_eq!(
        count("SELECT count(*) FROM work_orders WHERE state = 'missed'"),
        ASSETS * (ROUNDS - 1)
    );
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}
