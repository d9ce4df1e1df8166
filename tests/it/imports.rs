//! CSV import of assets over HTTP: Snipe-IT's asset export as it is, with a dry run that
//! lists exactly the bad rows; mappings, semicolons, default types, new locations,
//! custom fields, and files that cannot be read at all.

use crate::asset_records::place;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

/// Snipe-IT's asset list exported with every column shown.
const SNIPE_HEADER: &str = "ID,Company,Asset Name,Device Image,Asset Tag,Serial,Model,Model No.,Category,Status,Checked Out To,Employee Number,Location,Default Location,Manufacturer,Supplier,Purchase Date,Age,Purchase Cost,Order Number,EOL,Warranty,Warranty Expires,Notes,Checkouts,Checkins,Requests,Created At,Updated at,Checkout Date,Expected Checkin Date,Last Audit,Next Audit Date,BYOD,Checkin/Checkout,Actions";

/// Posts `csv` to the import endpoint with `query`; returns status and JSON body.
pub async fn import(s: &TestServer, token: &str, query: &str, csv: &str) -> (StatusCode, Value) {
    let resp = s
        .http
        .post(s.url(&format!("/api/v1/imports/assets?{query}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub async fn asset_count(s: &TestServer) -> i64 {
    s.with_db(|db| db.read_blocking(steward_server::db::assets::count).unwrap())
        .await
}

/// (row, column, code) of each reported error.
fn errors(report: &Value) -> Vec<(i64, Option<String>, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["column"].as_str().map(str::to_owned),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// One Snipe-IT row; `bad` spoils it in one way.
fn snipe_row(i: usize, bad: Option<&str>) -> String {
    const CATEGORIES: [&str; 6] = [
        "Laptops",
        "Desktops",
        "Monitors",
        "Printers",
        "Mobile Phones",
        "Projectors",
    ];
    const STATUSES: [&str; 7] = [
        "Ready to Deploy",
        "Deployed",
        "Pending",
        "Archived",
        "Broken - Not Fixable",
        "Lost/Stolen",
        "Out for Repair",
    ];
    const PLACES: [&str; 3] = ["", "Room 201", "HQ / Building A / Floor 2 / Room 201"];
    let mut name = format!("\"Device {i}, spare\"");
    let mut tag = format!("SN-{i:05}");
    let mut category = CATEGORIES[i % 6].to_owned();
    let mut date = "2024-03-15".to_owned();
    let mut cost = "\"1,299.50\"".to_owned();
    match bad {
        Some("date") => date = "2024-13-45".into(),
        Some("category") => category = "Keyboards".into(),
        Some("duplicate") => tag = "SN-00003".into(),
        Some("cost") => cost = "lots".into(),
        Some("name") => name = String::new(),
        _ => {}
    }
    let status = STATUSES[i % 7];
    let location = PLACES[i % 3];
    format!(
        "{id},Acme Corp,{name},,{tag},SER{i:06},Latitude 5440,5440-X,{category},{status},,,{location},,Dell,CDW,{date},1 year,{cost},PO-{i},,36 months,,\"Imported \"\"as is\"\"\",0,0,0,2024-03-16 10:00:00,2024-03-16 10:00:00,,,,,No,Checkout,",
        id = i + 1
    )
}

#[tokio::test]
async fn a_snipe_it_export_imports_as_is_and_a_dry_run_lists_the_bad_rows() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let tech = s.token_for(Role::Technician).await;
    let hq = place(&s, &admin, None, "HQ").await;
    let building = place(&s, &admin, Some(hq), "Building A").await;
    let floor = place(&s, &admin, Some(building), "Floor 2").await;
    let room = place(&s, &admin, Some(floor), "Room 201").await;

    // 1,000 assets; five rows are bad in five ways. Data row i is spreadsheet row i + 2.
    let spoiled = [
        (10, "date"),
        (200, "category"),
        (450, "duplicate"),
        (700, "cost"),
        (999, "name"),
    ];
    let mut csv = format!("{SNIPE_HEADER}\n");
    for i in 0..1000 {
        let bad = spoiled.iter().find(|(r, _)| *r == i).map(|(_, k)| *k);
        csv += &snipe_row(i, bad);
        csv += "\n";
    }
    let expected = vec![
        (
            12,
            Some("Purchase Date".to_owned()),
            "invalid_date".to_owned(),
        ),
        (202, Some("Category".into()), "unknown_category".into()),
        (452, Some("Asset Tag".into()), "duplicate_tag".into()),
        (702, Some("Purchase Cost".into()), "invalid_cost".into()),
        (1001, Some("Asset Name".into()), "invalid_name".into()),
    ];

    let (status, dry) = import(&s, &tech, "dry_run=true", &csv).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(
        (
            &dry["rows"],
            &dry["valid"],
            &dry["invalid"],
            &dry["imported"]
        ),
        (&json!(1000), &json!(995), &json!(5), &json!(0))
    );
    assert_eq!(errors(&dry), expected, "{:#}", dry["errors"]);
    assert!(
        dry["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("Keyboards"),
        "the error names the category: {}",
        dry["errors"][1]
    );
    assert_eq!(asset_count(&s).await, 0, "a dry run imports nothing");
    let mapped = |column: &str| {
        dry["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["column"] == column)
            .map(|c| c["field"].clone())
    };
    assert_eq!(mapped("Asset Name"), Some(json!("name")));
    assert_eq!(mapped("Category"), Some(json!("type")));
    assert_eq!(mapped("Company"), Some(Value::Null));

    let (status, real) = import(&s, &tech, "dry_run=false", &csv).await;
    assert_eq!(status, StatusCode::OK, "{real}");
    assert_eq!(
        (&real["valid"], &real["invalid"], &real["imported"]),
        (&json!(995), &json!(5), &json!(995))
    );
    assert_eq!(errors(&real), expected);
    assert_eq!(asset_count(&s).await, 995);

    // Row 0: a laptop ready to deploy, nowhere in particular.
    let (_, page) = s.get_json("/api/v1/assets?tag=SN-00000", &tech).await;
    let id = page["items"][0]["id"].as_i64().unwrap();
    let (_, a) = s.get_json(&format!("/api/v1/assets/{id}"), &tech).await;
    assert_eq!(a["kind"], "computer");
    assert_eq!(a["name"], "Device 0, spare");
    assert_eq!(a["vendor"], "Dell");
    assert_eq!(a["model"], "Latitude 5440");
    assert_eq!(a["serial"], "SER000000");
    assert_eq!(a["state"], "In stock");
    assert_eq!(a["purchase_date"], "2024-03-15");
    assert_eq!(a["purchase_cost_cents"], 129_950);
    assert_eq!(a["warranty_end"], "2027-03-15", "36 months after purchase");
    assert_eq!(a["supplier"], "CDW");
    assert_eq!(a["order_number"], "PO-0");
    assert_eq!(a["notes"], "Imported \"as is\"");
    assert!(a["location_id"].is_null());
    // Row 1: a deployed desktop in Room 201, found by its name alone.
    let (_, page) = s.get_json("/api/v1/assets?tag=SN-00001", &tech).await;
    let (_, a) = s
        .get_json(&format!("/api/v1/assets/{}", page["items"][0]["id"]), &tech)
        .await;
    assert_eq!(
        (a["kind"].as_str(), a["state"].as_str()),
        (Some("computer"), Some("Deployed"))
    );
    assert_eq!(a["location_id"], room);
    // Statuses and categories land where they should.
    for (tag, kind, state) in [
        ("SN-00002", "monitor", "In stock"),
        ("SN-00003", "printer", "Retired"),
        ("SN-00004", "phone", "Disposed"),
        ("SN-00005", "projector", "Disposed"),
        ("SN-00006", "computer", "In repair"),
    ] {
        let (_, page) = s
            .get_json(&format!("/api/v1/assets?tag={tag}"), &tech)
            .await;
        let (_, a) = s
            .get_json(&format!("/api/v1/assets/{}", page["items"][0]["id"]), &tech)
            .await;
        assert_eq!(
            (a["kind"].as_str(), a["state"].as_str()),
            (Some(kind), Some(state)),
            "{tag}"
        );
    }
    // Each imported asset has its creation in its history.
    let (_, h) = s
        .get_json(&format!("/api/v1/assets/{id}/history"), &tech)
        .await;
    let created: Vec<&Value> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "created")
        .collect();
    assert_eq!(created.len(), 1, "{h}");
    assert!(created[0]["actor"].as_str().unwrap().starts_with("user:"));

    // Importing the same file again: every tag is taken now.
    let (_, again) = import(&s, &tech, "dry_run=true", &csv).await;
    assert_eq!(again["valid"], 0);
    assert_eq!(again["errors"][0]["code"], "asset_tag_taken");
}

#[tokio::test]
async fn a_mapping_reads_any_header_and_semicolons_and_decimal_commas_work() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    let csv = "\u{feff}Gerät;Inventarnummer;Typ;Kosten;Bemerkung;Farbe\n\
               \"Bildschirm; links\";INV-1;Monitor;1.299,50;erster;rot\n\
               Drucker;INV-2;printer;\"12,5\";;blau\n";
    let mapping = json!({
        "Gerät": "name", "Inventarnummer": "asset_tag", "Typ": "type",
        "Kosten": "purchase_cost", "Bemerkung": "notes", "Farbe": "ignore"
    })
    .to_string();
    let q = format!("dry_run=false&mapping={}", urlencode(&mapping));
    let (status, r) = import(&s, &tech, &q, csv).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (&r["imported"], &r["invalid"]),
        (&json!(2), &json!(0)),
        "{r}"
    );
    let (_, page) = s.get_json("/api/v1/assets?tag=INV-1", &tech).await;
    let (_, a) = s
        .get_json(&format!("/api/v1/assets/{}", page["items"][0]["id"]), &tech)
        .await;
    assert_eq!(a["name"], "Bildschirm; links");
    assert_eq!(a["kind"], "monitor");
    assert_eq!(a["purchase_cost_cents"], 129_950);
    assert_eq!(a["notes"], "erster");
    let (_, page) = s.get_json("/api/v1/assets?tag=INV-2", &tech).await;
    let (_, a) = s
        .get_json(&format!("/api/v1/assets/{}", page["items"][0]["id"]), &tech)
        .await;
    assert_eq!(a["purchase_cost_cents"], 1_250);

    // Mappings that cannot be right are refused before any row is read.
    for (mapping, code) in [
        (json!({"Gerät": "colour"}).to_string(), "invalid_mapping"),
        (json!({"Nope": "name"}).to_string(), "invalid_mapping"),
        ("{not json".to_owned(), "invalid_mapping"),
        (
            json!({"Gerät": "name", "Typ": "type", "Farbe": "custom:nothing_has_this"}).to_string(),
            "invalid_mapping",
        ),
        (
            json!({"Gerät": "ignore", "Typ": "type"}).to_string(),
            "missing_column",
        ),
    ] {
        let q = format!("mapping={}", urlencode(&mapping));
        let (status, e) = import(&s, &tech, &q, csv).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{mapping}: {e}"
        );
    }
}

/// Percent-encodes a query parameter value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn default_types_new_locations_and_custom_fields_by_label() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let tech = s.token_for(Role::Technician).await;
    let (status, t) = patch(
        &s,
        "/api/v1/asset-types/hvac",
        &admin,
        json!({"fields": [
            {"key": "btu", "label": "Cooling (BTU/h)", "type": "number", "required": true},
            {"key": "refrigerant", "label": "Refrigerant", "type": "select", "options": ["R-410A", "R-32"]}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");

    // Unknown categories take the default type; a custom field column is found by its
    // label, another by custom:<key>.
    let csv = "Asset Name,Category,Cooling (BTU/h),custom:refrigerant,Location\n\
               Rooftop 1,HVAC unit,36000,R-32,\n\
               Rooftop 2,HVAC unit,,R-32,\n\
               Office chair,Seating,,,\n";
    let (_, r) = import(&s, &tech, "dry_run=true", csv).await;
    assert_eq!(r["valid"], 1, "{r}");
    assert_eq!(
        errors(&r),
        vec![
            (
                3,
                Some("Cooling (BTU/h)".to_owned()),
                "invalid_custom_field".to_owned()
            ),
            (4, Some("Category".into()), "unknown_category".into()),
        ],
        "{r}"
    );
    let (_, r) = import(&s, &tech, "dry_run=false&default_type=furniture", csv).await;
    assert_eq!(
        (&r["imported"], &r["invalid"]),
        (&json!(2), &json!(1)),
        "{r}"
    );
    let (_, page) = s
        .get_json("/api/v1/assets?kind=hvac&field=btu:36000", &tech)
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    let (_, a) = s
        .get_json(&format!("/api/v1/assets/{}", page["items"][0]["id"]), &tech)
        .await;
    assert_eq!(
        a["custom_fields"],
        json!({"btu": 36000.0, "refrigerant": "R-32"})
    );
    let (_, page) = s.get_json("/api/v1/assets?kind=furniture", &tech).await;
    assert_eq!(page["items"][0]["name"], "Office chair");

    // Locations that do not exist: an error, unless an admin asks to create them.
    let hq = place(&s, &admin, None, "HQ").await;
    let csv = "name,type,location\n\
               Printer 1,printer,HQ / Annex / Ground / Copy room\n\
               Printer 2,printer,Annex / Ground / Copy room\n\
               Printer 3,printer,Nowhere Street\n\
               Printer 4,printer,HQ / Annex / Ground / Copy room / Shelf\n";
    let (_, r) = import(&s, &tech, "dry_run=true", csv).await;
    assert_eq!(r["invalid"], 4);
    assert_eq!(r["errors"][0]["code"], "unknown_location", "{r}");
    let (status, _) = import(&s, &tech, "dry_run=true&create_locations=true", csv).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only admins create places");
    let (_, dry) = import(&s, &admin, "dry_run=true&create_locations=true", csv).await;
    assert_eq!(
        (&dry["valid"], &dry["locations_created"]),
        (&json!(3), &json!(4)),
        "{dry}"
    );
    assert_eq!(
        errors(&dry),
        vec![(
            5,
            Some("location".to_owned()),
            "invalid_location".to_owned()
        )]
    );
    let (_, places) = s.get_json("/api/v1/locations", &admin).await;
    assert_eq!(
        places["items"].as_array().unwrap().len(),
        1,
        "a dry run creates nothing"
    );
    let (_, real) = import(&s, &admin, "dry_run=false&create_locations=true", csv).await;
    assert_eq!(
        (&real["imported"], &real["locations_created"]),
        (&json!(3), &json!(4))
    );
    let (_, places) = s.get_json("/api/v1/locations", &admin).await;
    let paths: Vec<&str> = places["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "HQ",
            "HQ / Annex",
            "HQ / Annex / Ground",
            "HQ / Annex / Ground / Copy room",
            "Nowhere Street"
        ]
    );
    let (_, below) = s
        .get_json(&format!("/api/v1/assets?location={hq}"), &admin)
        .await;
    let names: Vec<&str> = below["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Printer 1", "Printer 2"]);
}

#[tokio::test]
async fn files_that_cannot_be_read_are_refused_with_a_code() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    for (csv, code) in [
        ("", "empty_file"),
        ("\u{feff}\n\n", "empty_file"),
        (",,\nx,y,z\n", "missing_header"),
        ("serial,model\nS1,M1\n", "missing_column"),
        ("name,model\nA,M1\n", "missing_column"),
    ] {
        let (status, e) = import(&s, &tech, "", csv).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{csv:?}: {e}"
        );
    }
    let latin1 = s
        .http
        .post(s.url("/api/v1/imports/assets"))
        .bearer_auth(&tech)
        .header("content-type", "text/csv")
        .body(b"name,type\nCaf\xe9,printer\n".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(latin1.status(), StatusCode::BAD_REQUEST);
    let e: Value = latin1.json().await.unwrap();
    assert_eq!(e["error"]["code"], "invalid_encoding");

    let csv = "name,type\nA,printer\n";
    let (status, e) = import(&s, &tech, "default_type=spaceship", csv).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_default_type"))
    );
    let (status, e) = import(&s, &tech, "colour=red", csv).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
    let json_body = s
        .http
        .post(s.url("/api/v1/imports/assets"))
        .bearer_auth(&tech)
        .json(&json!({"name": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A short row is padded; a row with cells beyond the header is refused.
    let (_, r) = import(
        &s,
        &tech,
        "",
        "name,type,serial\nA,printer\nB,printer,S,extra\n",
    )
    .await;
    assert_eq!((&r["valid"], &r["invalid"]), (&json!(1), &json!(1)), "{r}");
    assert_eq!(r["errors"][0]["code"], "invalid_row");
    assert_eq!(r["dry_run"], true, "a dry run unless asked otherwise");

    let employee = s.token_for(Role::Employee).await;
    let (status, _) = import(&s, &employee, "", csv).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(asset_count(&s).await, 0);
}

#[tokio::test]
async fn the_import_page_checks_then_imports_an_uploaded_file() {
    use crate::attachments::{multipart_body, multipart_type};
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    let login = crate::browser::submit_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let cookie = crate::browser::session_cookie(&login);
    let form = crate::browser::page_text(&s, &cookie, "/assets/import").await;
    let csrf = crate::browser::hidden_field(&form, "csrf");
    let csv = "Asset Tag,Asset Name,Category,Purchase Date\n\
               MON-1,Left monitor,Monitors,2024-02-01\n\
               MON-2,Right monitor,Monitors,yesterday\n\
               PR-1,Hall printer,Printers,2023-11-30\n";
    let send = |fields: Vec<(&'static str, String)>| {
        let fields: Vec<(&str, String)> = fields;
        let body = {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            multipart_body(&pairs, ("assets.csv", "text/csv", csv.as_bytes()))
        };
        s.http
            .post(s.url("/assets/import"))
            .header("cookie", &cookie)
            .header("content-type", multipart_type())
            .body(body)
            .send()
    };
    let checked = send(vec![("csrf", csrf.clone()), ("dry_run", "1".into())])
        .await
        .unwrap();
    assert_eq!(checked.status(), StatusCode::OK);
    let page = checked.text().await.unwrap();
    assert!(
        page.contains("Check: 3 rows, 2 valid, 1 with problems"),
        "{page}"
    );
    assert!(
        page.contains("<td class=\"num\">3</td><td>Purchase Date</td>"),
        "{page}"
    );
    let (_, none) = s.get_json("/api/v1/assets", &tech).await;
    assert_eq!(none["items"], json!([]), "a check imports nothing");

    let forged = send(vec![("csrf", "forged".into())]).await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let done = send(vec![("csrf", csrf)]).await.unwrap();
    let page = done.text().await.unwrap();
    assert!(
        page.contains("Import: 3 rows, 2 valid, 1 with problems, 2 imported"),
        "{page}"
    );
    let (_, all) = s.get_json("/api/v1/assets", &tech).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);

    // The list links its CSV and the labels of the assets on the page.
    let list = crate::browser::page_text(&s, &cookie, "/assets").await;
    assert!(list.contains("/api/v1/assets.csv?q="), "{list}");
    let ids: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].to_string())
        .collect();
    assert!(
        list.contains(&format!("labels.svg?ids={}", ids.join(","))),
        "{list}"
    );
    s.stop().await;
}
