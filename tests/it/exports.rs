//! CSV exports over HTTP: every row the asset list's filters match (across chunks),
//! quoting and the formula guard, a round trip through the import, tickets, and who may
//! export what.

use crate::asset_records::{new_asset, place};
use crate::helpers::*;
use crate::imports::{asset_count, import};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use steward_server::domain::roles::Role;

/// GET a CSV export: status, content type, body.
async fn export(s: &TestServer, token: &str, path: &str) -> (StatusCode, String, String) {
    let resp = s
        .http
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap())
}

/// The rows of a CSV as column -> cell maps (read with the importer's own reader, which
/// takes the formula guard off).
fn rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let t = steward_server::imports::table::parse(text.as_bytes()).unwrap();
    t.rows
        .iter()
        .map(|r| {
            t.headers
                .iter()
                .cloned()
                .zip(r.cells.iter().cloned())
                .collect()
        })
        .collect()
}

fn csv_ids(text: &str) -> Vec<i64> {
    rows(text)
        .iter()
        .map(|r| r["id"].parse().unwrap())
        .collect()
}

async fn list_ids(s: &TestServer, token: &str, query: &str) -> Vec<i64> {
    let (status, page) = s
        .get_json(&format!("/api/v1/assets?limit=500&{query}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

/// Types and places both servers of the round trip share.
async fn set_up(s: &TestServer, admin: &str) -> (i64, i64) {
    let (status, t) = patch(
        s,
        "/api/v1/asset-types/hvac",
        admin,
        json!({"fields": [
            {"key": "btu", "label": "Cooling (BTU/h)", "type": "number", "searchable": true},
            {"key": "refrigerant", "label": "Refrigerant", "type": "select", "options": ["R-410A", "R-32"]}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let hq = place(s, admin, None, "HQ").await;
    let building = place(s, admin, Some(hq), "Building A").await;
    let floor = place(s, admin, Some(building), "Floor 2").await;
    let room = place(s, admin, Some(floor), "Room 201").await;
    let annex = place(s, admin, None, "Annex").await;
    (room, annex)
}

#[tokio::test]
async fn the_asset_export_has_every_row_the_lists_filters_match() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let tech = s.token_for(Role::Technician).await;
    let (room, annex) = set_up(&s, &admin).await;
    for i in 0..3 {
        let state = if i == 2 { "Retired" } else { "In stock" };
        new_asset(
            &s,
            &tech,
            json!({"type": "monitor", "name": format!("Screen {i}"), "manufacturer": "Eizo",
                   "asset_tag": format!("MON-{i}"), "location_id": room, "state": state,
                   "purchase_cost": "1,299.50", "purchase_date": "2024-01-15"}),
        )
        .await;
    }
    for i in 0..2 {
        new_asset(
            &s,
            &tech,
            json!({"type": "printer", "name": format!("Printer {i}"), "location_id": annex,
                   "warranty_end": "2026-06-30"}),
        )
        .await;
    }
    new_asset(
        &s,
        &tech,
        json!({"type": "hvac", "name": "Rooftop 1", "criticality": "critical",
               "custom_fields": {"btu": 36000, "refrigerant": "R-32"}}),
    )
    .await;

    let (status, ct, all) = export(&s, &tech, "/api/v1/assets.csv").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert!(all.starts_with(
        "id,asset_tag,name,type,manufacturer,model,serial,state,location,purchase_date,purchase_cost,supplier,order_number,warranty_end,criticality,hostname,os,last_seen,"
    ), "{all}");
    assert!(
        all.lines()
            .next()
            .unwrap()
            .ends_with(",custom:btu,custom:refrigerant")
    );
    let r = rows(&all);
    assert_eq!(r.len(), 6);
    let screen = r.iter().find(|r| r["name"] == "Screen 0").unwrap();
    assert_eq!(screen["type"], "monitor");
    assert_eq!(screen["manufacturer"], "Eizo");
    assert_eq!(screen["asset_tag"], "MON-0");
    assert_eq!(screen["state"], "In stock");
    assert_eq!(screen["location"], "HQ / Building A / Floor 2 / Room 201");
    assert_eq!(screen["purchase_cost"], "1299.50");
    assert_eq!(screen["purchase_date"], "2024-01-15");
    assert_eq!(screen["criticality"], "medium");
    let rooftop = r.iter().find(|r| r["name"] == "Rooftop 1").unwrap();
    assert_eq!(rooftop["custom:btu"], "36000.0");
    assert_eq!(rooftop["custom:refrigerant"], "R-32");
    assert_eq!(rooftop["criticality"], "critical");

    // The same filters as the list, and the same rows.
    let hq = s
        .with_db(|db| {
            db.read_blocking(|c| steward_server::db::locations::id_by_name(c, None, "HQ"))
                .unwrap()
                .unwrap()
        })
        .await;
    for query in [
        String::new(),
        "kind=monitor".into(),
        format!("location={hq}"),
        format!("location={annex}"),
        "state=4".into(),
        "active=true".into(),
        "q=screen".into(),
        "criticality=critical".into(),
        "warranty_before=2026-12-31".into(),
        "kind=hvac&field=btu:36000".into(),
    ] {
        let (status, _, text) = export(&s, &tech, &format!("/api/v1/assets.csv?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {text}");
        let expected = list_ids(&s, &tech, &query).await;
        assert!(!expected.is_empty(), "{query} matches something");
        assert_eq!(csv_ids(&text), expected, "{query}");
    }
    // Only the type's own custom columns when the export is of one type.
    let (_, _, monitors) = export(&s, &tech, "/api/v1/assets.csv?kind=monitor").await;
    assert!(!monitors.contains("custom:"), "{monitors}");

    let (status, _, body) = export(&s, &tech, "/api/v1/assets.csv?warranty_before=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let e: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(e["error"]["code"], "invalid_date");
    let (status, _, _) = export(&s, &tech, "/api/v1/assets.csv?colour=red").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_big_export_streams_every_row_once() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    // More rows than one chunk of the export.
    let mut csv = String::from("name,type,asset_tag\n");
    for i in 0..5_200 {
        csv += &format!("Chair {i},furniture,CH-{i:05}\n");
    }
    let (status, r) = import(&s, &tech, "dry_run=false", &csv).await;
    assert_eq!(
        (status, &r["imported"]),
        (StatusCode::OK, &json!(5_200)),
        "{r}"
    );
    let (status, _, text) = export(&s, &tech, "/api/v1/assets.csv").await;
    assert_eq!(status, StatusCode::OK);
    let ids = csv_ids(&text);
    assert_eq!(ids.len(), 5_200);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
    assert_eq!(asset_count(&s).await, 5_200);
    let last = rows(&text).pop().unwrap();
    assert_eq!(last["asset_tag"], "CH-05199");
}

#[tokio::test]
async fn formula_cells_are_guarded_and_an_export_imports_again_unchanged() {
    let a = TestServer::spawn().await;
    let admin = a.admin_token().await;
    let tech = a.token_for(Role::Technician).await;
    let (room, _) = set_up(&a, &admin).await;
    new_asset(
        &a,
        &tech,
        json!({"type": "monitor", "name": "=HYPERLINK(\"http://evil.example\",\"click\")",
               "notes": "+1 555 0100, ask for \"Bob\"", "model": "@SUM(1)",
               "serial": "-5", "asset_tag": "MON-1", "location_id": room}),
    )
    .await;
    new_asset(
        &a,
        &tech,
        json!({"type": "HVAC unit", "name": "Rooftop, east", "manufacturer": "Carrier",
               "model": "48TC", "serial": "CAR-1", "asset_tag": "HV-1", "state": "Deployed",
               "location_id": room, "purchase_date": "2024-01-15", "purchase_cost": 12000.5,
               "supplier": "Cool Co", "order_number": "PO-7", "warranty_end": "2029-01-14",
               "expected_life_months": 180, "criticality": "high",
               "custom_fields": {"btu": 36000, "refrigerant": "R-32"}}),
    )
    .await;
    new_asset(
        &a,
        &tech,
        json!({"type": "furniture", "name": "Plain desk"}),
    )
    .await;
    let (_, _, first) = export(&a, &tech, "/api/v1/assets.csv").await;

    // Every cell a spreadsheet would run starts with an apostrophe, quoted as needed.
    assert!(
        first.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\""),
        "{first}"
    );
    assert!(first.contains("\"'+1 555 0100, ask for \"\"Bob\"\"\""));
    assert!(first.contains(",'@SUM(1),"));
    assert!(first.contains(",'-5,"));
    assert!(!first.contains(",=") && !first.contains(",+1") && !first.contains(",@"));

    // Into a second server with the same types and places, and out again: the same.
    let b = TestServer::spawn().await;
    let admin_b = b.admin_token().await;
    let tech_b = b.token_for(Role::Technician).await;
    set_up(&b, &admin_b).await;
    let (status, r) = import(&b, &tech_b, "dry_run=false", &first).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (&r["imported"], &r["invalid"]),
        (&json!(3), &json!(0)),
        "{r}"
    );
    let (_, _, second) = export(&b, &tech_b, "/api/v1/assets.csv").await;
    let strip = |text: &str| {
        rows(text)
            .into_iter()
            .map(|mut r| {
                r.remove("id");
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&first), strip(&second));
    assert_eq!(first.lines().next(), second.lines().next());
}

#[tokio::test]
async fn tickets_export_with_their_filters_and_each_sees_their_own() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, bob) = person(&s, Role::Employee, "bob@example.test").await;
    file_ticket(&s, &ann, "=cmd|' /C calc'!A0").await;
    file_ticket(&s, &ann, "Printer jammed, again").await;
    file_ticket_with(
        &s,
        &bob,
        json!({"title": "VPN down", "urgency": "high", "impact": "high"}),
    )
    .await;

    let (status, ct, all) = export(&s, &tech, "/api/v1/tickets.csv").await;
    assert_eq!(
        (status, ct.as_str()),
        (StatusCode::OK, "text/csv; charset=utf-8")
    );
    assert!(all.starts_with("id,type,status,priority,title,requester_id,requester,"));
    let r = rows(&all);
    assert_eq!(r.len(), 3);
    assert!(all.contains(",'=cmd|' /C calc'!A0,"), "{all}");
    assert!(r.iter().any(|t| t["title"] == "Printer jammed, again"));

    // The list's filters: a search, a priority.
    let (_, page) = s.get_json("/api/v1/tickets?q=printer", &tech).await;
    let (_, _, found) = export(&s, &tech, "/api/v1/tickets.csv?q=printer").await;
    let ids: Vec<String> = rows(&found).iter().map(|t| t["id"].clone()).collect();
    assert_eq!(ids, [page["items"][0]["id"].to_string()]);
    let vpn = r.iter().find(|t| t["title"] == "VPN down").unwrap();
    let (_, _, urgent) = export(
        &s,
        &tech,
        &format!("/api/v1/tickets.csv?priority=P{}", vpn["priority"]),
    )
    .await;
    assert!(
        rows(&urgent).iter().any(|t| t["title"] == "VPN down"),
        "{urgent}"
    );

    // Employees export their own tickets, and no assets.
    let (status, _, own) = export(&s, &ann, "/api/v1/tickets.csv").await;
    assert_eq!(status, StatusCode::OK);
    let titles: Vec<String> = rows(&own).iter().map(|t| t["title"].clone()).collect();
    assert_eq!(titles.len(), 2, "{own}");
    assert!(!titles.contains(&"VPN down".to_owned()));
    let (status, _, _) = export(&s, &ann, "/api/v1/assets.csv").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = export(&s, &tech, "/api/v1/tickets.csv?sort=sideways").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
