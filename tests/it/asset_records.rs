//! Assets people enter, over HTTP: locations, types with custom fields, the record with
//! depreciation, the web form, and the history of it all.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

/// Creates a location; returns its id.
pub async fn place(s: &TestServer, admin: &str, parent: Option<i64>, name: &str) -> i64 {
    let mut body = json!({ "name": name });
    if let Some(p) = parent {
        body["parent_id"] = json!(p);
    }
    let (status, l) = post(s, "/api/v1/locations", admin, body).await;
    assert_eq!(status, StatusCode::CREATED, "{l}");
    l["id"].as_i64().unwrap()
}

/// Creates an asset; returns it.
pub async fn new_asset(s: &TestServer, token: &str, body: Value) -> Value {
    let (status, a) = post(s, "/api/v1/assets", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    a
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn facility_assets_with_custom_fields_live_in_locations() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let tech = s.token_for(Role::Technician).await;

    let (status, site) = post(
        &s,
        "/api/v1/locations",
        &admin,
        json!({"name": "HQ", "timezone": "Europe/Berlin", "address": "1 Main St"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{site}");
    assert_eq!(site["kind"], "site");
    let hq = site["id"].as_i64().unwrap();
    let building = place(&s, &admin, Some(hq), "Building A").await;
    let floor = place(&s, &admin, Some(building), "Floor 2").await;
    let room = place(&s, &admin, Some(floor), "Room 201").await;
    let (_, r) = s
        .get_json(&format!("/api/v1/locations/{room}"), &tech)
        .await;
    assert_eq!(r["kind"], "room");
    assert_eq!(r["path"], "HQ / Building A / Floor 2 / Room 201");
    assert_eq!(
        r["timezone"], "Europe/Berlin",
        "rooms use their site's zone"
    );
    // A room has no children; a building no time zone of its own; names are unique.
    let (status, e) = post(
        &s,
        "/api/v1/locations",
        &admin,
        json!({"parent_id": room, "name": "Closet"}),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_parent"))
    );
    let (status, e) = post(
        &s,
        "/api/v1/locations",
        &admin,
        json!({"parent_id": hq, "name": "B", "timezone": "UTC"}),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_timezone"))
    );
    let (status, _) = post(
        &s,
        "/api/v1/locations",
        &admin,
        json!({"parent_id": floor, "name": "room 201"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = post(&s, "/api/v1/locations", &tech, json!({"name": "Annex"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // HVAC units get their own fields.
    let (status, t) = patch(
        &s,
        "/api/v1/asset-types/hvac",
        &admin,
        json!({"fields": [
            {"key": "btu", "label": "Cooling (BTU/h)", "type": "number", "required": true, "searchable": true},
            {"key": "refrigerant", "label": "Refrigerant", "type": "select", "options": ["R-410A", "R-32"]}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["fields"][0]["key"], "btu");

    let unit = new_asset(
        &s,
        &tech,
        json!({"type": "HVAC unit", "name": "Rooftop unit 1", "manufacturer": "Carrier",
               "model": "48TC", "serial": "CAR-123", "asset_tag": "HV-0001",
               "location_id": room, "purchase_date": "2024-01-15", "purchase_cost": "12,000.00",
               "warranty_end": "2029-01-14", "criticality": "high",
               "custom_fields": {"btu": "36000", "refrigerant": "R-32"}}),
    )
    .await;
    let id = unit["id"].as_i64().unwrap();
    assert_eq!(unit["kind"], "hvac");
    assert_eq!(unit["vendor"], "Carrier");
    assert_eq!(unit["state"], "In stock");
    assert_eq!(unit["state_kind"], "deployable");
    assert_eq!(unit["purchase_cost_cents"], 1_200_000);
    assert_eq!(unit["expected_life_months"], 180, "the type's default life");
    assert_eq!(
        unit["custom_fields"],
        json!({"btu": 36000.0, "refrigerant": "R-32"})
    );
    assert_eq!(
        unit["location"]["path"],
        "HQ / Building A / Floor 2 / Room 201"
    );
    let value = unit["book_value_cents"].as_i64().unwrap();
    assert!(value < 1_200_000 && value > 0, "{value}");
    assert!(unit["public_path"].as_str().unwrap().starts_with("/p/"));

    // Bad input is refused with a code and creates nothing.
    for (body, code) in [
        (
            json!({"type": "hvac", "name": "x", "asset_tag": "hv-0001", "custom_fields": {"btu": 1}}),
            "asset_tag_taken",
        ),
        (json!({"type": "hvac", "name": "x"}), "invalid_custom_field"),
        (json!({"type": "spaceship", "name": "x"}), "invalid_type"),
        (
            json!({"type": "monitor", "name": "x", "purchase_cost": "lots"}),
            "invalid_cost",
        ),
        (
            json!({"type": "monitor", "name": "x", "location_id": 999}),
            "invalid_location",
        ),
        (
            json!({"type": "monitor", "name": "x", "criticality": "urgent"}),
            "invalid_criticality",
        ),
    ] {
        let (status, e) = post(&s, "/api/v1/assets", &tech, body.clone()).await;
        assert!(status.is_client_error(), "{body}: {status}");
        assert_eq!(e["error"]["code"], code, "{body}: {e}");
    }
    let (_, all) = s.get_json("/api/v1/assets", &tech).await;
    assert_eq!(ids(&all), vec![id]);

    // Filters: by custom field, by location (rooms below a site count), by tag.
    let (_, found) = s
        .get_json("/api/v1/assets?kind=hvac&field=btu:36000", &tech)
        .await;
    assert_eq!(ids(&found), vec![id]);
    let (_, none) = s
        .get_json("/api/v1/assets?kind=hvac&field=btu:12000", &tech)
        .await;
    assert!(ids(&none).is_empty());
    let (_, here) = s
        .get_json(&format!("/api/v1/assets?location={hq}"), &tech)
        .await;
    assert_eq!(ids(&here), vec![id]);
    let (_, room_page) = s
        .get_json(&format!("/api/v1/locations/{room}/assets"), &tech)
        .await;
    assert_eq!(ids(&room_page), vec![id]);
    assert_eq!(room_page["location"]["name"], "Room 201");
    let (status, e) = s.get_json("/api/v1/assets?field=btu:1", &tech).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_field"))
    );

    // Edits land in the history, one entry per field.
    let (status, edited) = patch(
        &s,
        &format!("/api/v1/assets/{id}"),
        &tech,
        json!({"notes": "Filter replaced in May", "custom_fields": {"refrigerant": "R-410A"}, "asset_tag": null}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        edited["custom_fields"],
        json!({"btu": 36000.0, "refrigerant": "R-410A"})
    );
    assert_eq!(edited["asset_tag"], Value::Null);
    let (_, h) = s
        .get_json(&format!("/api/v1/assets/{id}/history"), &tech)
        .await;
    let fields: Vec<&str> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"notes")
            && fields.contains(&"custom_fields")
            && fields.contains(&"asset_tag"),
        "{h}"
    );

    // The asset page shows the record, with the custom field under its label.
    let login = crate::browser::submit_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let cookie = crate::browser::session_cookie(&login);
    let page = crate::browser::page_text(&s, &cookie, &format!("/assets/{id}")).await;
    for text in [
        "HQ / Building A / Floor 2 / Room 201",
        "Cooling (BTU/h)</dt><dd>36000",
        "Print QR label",
        "12,000.00",
        "Filter replaced in May",
    ] {
        assert!(page.contains(text), "{text} missing from {page}");
    }
    assert!(
        !page.contains("id=\"hw\""),
        "no agent, no hardware card: {page}"
    );

    // The same through the web form: choose the type, then its own fields appear.
    let choose = crate::browser::page_text(&s, &cookie, "/assets/new").await;
    assert!(choose.contains("/assets/new?type=hvac"), "{choose}");
    let form = crate::browser::page_text(&s, &cookie, "/assets/new?type=hvac").await;
    assert!(form.contains("Cooling (BTU/h) (required)"), "{form}");
    let csrf = crate::browser::hidden_field(&form, "csrf");
    let room_id = room.to_string();
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("type", "hvac"),
        ("name", "Server room CRAC"),
        ("asset_tag", "HV-0002"),
        ("location_id", room_id.as_str()),
        ("purchase_cost", "8,000"),
        ("cf_refrigerant", "R-32"),
    ];
    let resp = crate::browser::post_form(&s, &cookie, "/assets/new", &fields).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "btu is required");
    assert!(resp.text().await.unwrap().contains("is required"));
    fields.push(("cf_btu", "24000"));
    let resp = crate::browser::post_form(&s, &cookie, "/assets/new", &fields).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, crac) = s.get_json("/api/v1/assets?tag=HV-0002", &tech).await;
    let crac_id = crac["items"][0]["id"].as_i64().expect("created");
    assert_eq!(
        resp.headers()["location"],
        format!("/assets/{crac_id}").as_str()
    );
    let (_, crac) = s
        .get_json(&format!("/api/v1/assets/{crac_id}"), &tech)
        .await;
    assert_eq!(
        crac["custom_fields"],
        json!({"btu": 24000.0, "refrigerant": "R-32"})
    );
    assert_eq!(crac["purchase_cost_cents"], 800_000);

    // People are placed too, by an admin; the room page lists them.
    let (ann_id, _) = person(&s, Role::Employee, "ann@example.test").await;
    let (status, ann) = patch(
        &s,
        &format!("/api/v1/users/{ann_id}"),
        &admin,
        json!({"location_id": room}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ann}");
    assert_eq!(ann["location_id"], room);
    let (status, _) = patch(
        &s,
        &format!("/api/v1/users/{ann_id}"),
        &tech,
        json!({"location_id": null}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, room_page) = s
        .get_json(&format!("/api/v1/locations/{room}/assets"), &tech)
        .await;
    assert_eq!(room_page["people"][0]["email"], "ann@example.test");
    let (_, based) = s
        .get_json(&format!("/api/v1/users?location={hq}"), &tech)
        .await;
    assert_eq!(based["items"].as_array().unwrap().len(), 1, "{based}");
    let status = delete(&s, &format!("/api/v1/locations/{room}"), &admin).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, e) = patch(&s, "/api/v1/users/1", &admin, json!({"role": "employee"})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("last_admin"))
    );
    let (status, created) = post(
        &s,
        "/api/v1/users",
        &admin,
        json!({"email": "facilities@example.test", "name": "Fay", "role": "technician", "location_id": site["id"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, e) = post(
        &s,
        "/api/v1/users",
        &admin,
        json!({"email": "x@example.test", "name": "X", "role": "root"}),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_role"))
    );

    // A place with assets in it cannot be deleted.
    let status = delete(&s, &format!("/api/v1/locations/{room}"), &admin).await;
    assert_eq!(status, StatusCode::CONFLICT);
    s.stop().await;
}
