//! Maintenance that never silently slips: a server down across due dates records every
//! occurrence (missed or overdue, with the reason) and duplicates none, and two servers
//! on one database generate each work order once.

use crate::asset_records::{new_asset, place};
use crate::helpers::*;
use crate::maintenance::{DAY, next_due, now, pass, plan, work_orders};
use serde_json::json;
use steward_server::domain::roles::Role;
use steward_server::maintenance::evaluate;

#[tokio::test]
async fn downtime_across_two_due_dates_records_both_and_duplicates_none() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    let site = place(&s, &s.admin_token().await, None, "Plant").await;
    let hvac = new_asset(
        &s,
        &tech,
        json!({"type": "hvac", "name": "Rooftop unit 1", "location_id": site}),
    )
    .await;
    let p = plan(
        &s,
        &tech,
        json!({
            "title": "Filter check",
            "checklist": ["Check filter", "Log pressure"],
            "trigger": {"calendar": {"kind": "cron", "expr": "0 2 * * *"}},
            "timezone": "Europe/Berlin",
            "targets": [{"kind": "asset", "id": hvac["id"]}],
        }),
    )
    .await;
    let plan_id = p["id"].as_i64().unwrap();
    assert_eq!(p["asset_count"], 1, "{p}");
    let first = next_due(&s, &tech, plan_id).await;
    assert!(first > now() && first <= now() + DAY);

    // The server stops before the first due date and comes back three hours after the
    // second one.
    let dir = s.stop_keeping_data().await;
    let s = TestServer::spawn_in(dir).await;
    let back = first + DAY + 3 * 3600;
    let done = pass(&s, back).await;
    assert_eq!(done.generated, 2, "{done:?}");
    assert_eq!(done.missed, 1, "{done:?}");

    let wos = work_orders(&s, &tech, &format!("plan_id={plan_id}")).await;
    assert_eq!(wos.len(), 2, "{wos:#?}");
    let (older, newer) = (&wos[0], &wos[1]);
    assert_eq!(older["due_at"], first);
    assert_eq!(newer["due_at"], first + DAY);
    assert_eq!(older["state"], "missed");
    assert!(
        older["missed_reason"]
            .as_str()
            .unwrap()
            .contains("next occurrence came due"),
        "{older}"
    );
    assert_eq!(newer["state"], "open");
    for w in &wos {
        let why = w["late_reason"].as_str().unwrap_or_default();
        assert!(why.contains("was not running"), "{w}");
        assert_eq!(w["checklist"][0]["item"], "Check filter");
    }
    // The missed one's ticket was closed; the overdue one's is open, type maintenance.
    let (_, t_old) = s
        .get_json(&format!("/api/v1/tickets/{}", older["ticket_id"]), &tech)
        .await;
    assert_eq!(t_old["status"], "closed", "{t_old}");
    let (_, t_new) = s
        .get_json(&format!("/api/v1/tickets/{}", newer["ticket_id"]), &tech)
        .await;
    assert_eq!(t_new["type"], "maintenance");
    assert_eq!(t_new["status"], "new");
    assert_eq!(t_new["asset_ids"], json!([hvac["id"]]));
    // Overdue as of the (injected) time the server came back.
    let overdue = s
        .with_db(move |db| {
            db.read_blocking(|c| {
                let filter = steward_server::db::work_orders::Filter {
                    state: Some("overdue".into()),
                    ..Default::default()
                };
                steward_server::db::work_orders::list(c, &filter, back, 10)
            })
            .unwrap()
        })
        .await;
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].due_at, first + DAY);
    assert!(overdue[0].overdue);
    // The compliance report as of that time: two came due, one missed, one overdue.
    let rows = s
        .with_db(move |db| {
            db.read_blocking(|c| {
                use steward_server::db::work_orders::{GroupBy, compliance};
                compliance(c, GroupBy::Plan, first - DAY, back + DAY, back)
            })
            .unwrap()
        })
        .await;
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(
        (r.due, r.on_time, r.missed, r.overdue),
        (2, 0, 1, 1),
        "{r:?}"
    );
    assert_eq!(r.on_time_rate, Some(0.0));

    // Evaluating again, and after another restart, generates nothing more.
    assert_eq!(pass(&s, back).await.generated, 0);
    assert_eq!(pass(&s, back + 600).await.generated, 0);
    let dir = s.stop_keeping_data().await;
    let s = TestServer::spawn_in(dir).await;
    let again = pass(&s, back + 1200).await;
    assert_eq!((again.generated, again.missed), (0, 0), "{again:?}");
    assert_eq!(work_orders(&s, &tech, "").await.len(), 2);
    let (_, missed_events) = s
        .get_json("/api/v1/events?kind=maintenance.missed", &tech)
        .await;
    assert_eq!(missed_events["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn two_servers_on_one_database_generate_each_work_order_once() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    for i in 0..60 {
        new_asset(
            &s,
            &tech,
            json!({"type": "fire_extinguisher", "name": format!("Extinguisher {i}")}),
        )
        .await;
    }
    let type_id: i64 = s
        .with_db(|db| {
            db.read_blocking(|c| {
                Ok(c.query_row(
                    "SELECT id FROM asset_types WHERE key = 'fire_extinguisher'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap()
        })
        .await;
    let p = plan(
        &s,
        &tech,
        json!({
            "title": "Extinguisher inspection",
            "trigger": {"calendar": {"kind": "cron", "expr": "0 */6 * * *"}},
            "targets": [{"kind": "type", "id": type_id}],
        }),
    )
    .await;
    assert_eq!(p["asset_count"], 60);
    // A second server process on the same database file: its own connections and writer.
    let config = (*s.state.config).clone();
    let other = tokio::task::spawn_blocking(move || steward_server::open(config).unwrap())
        .await
        .unwrap();
    let start = now();
    let mut total = 0;
    for step in 1..=4 {
        let at = start + step * 6 * 3600;
        let (a, b) = tokio::join!(evaluate(&s.state, at), evaluate(&other, at));
        let (a, b) = (a.unwrap(), b.unwrap());
        total += a.generated + b.generated;
        assert_eq!(a.generated + b.generated, 60, "step {step}: {a:?} {b:?}");
    }
    assert_eq!(total, 240);
    let (tickets, pairs): (i64, i64) = s
        .with_db(|db| {
            db.read_blocking(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT count(*) FROM tickets WHERE type = 'maintenance'),
                            (SELECT count(DISTINCT plan_id || ':' || asset_id || ':' || due_at) FROM work_orders)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .unwrap()
        })
        .await;
    assert_eq!((tickets, pairs), (240, 240));
}
