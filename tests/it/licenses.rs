//! Licenses over agent-reported software: seats for machines and people, over-use when
//! installs or assignments exceed the seats, admins write and technicians read.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

const OFFICE: &str = "Microsoft 365 Apps for enterprise - en-us";

fn uuid(i: usize) -> String {
    format!("11cc0000-0000-0000-0000-{i:012}")
}

async fn license(s: &TestServer, token: &str, id: i64) -> Value {
    let (status, l) = s.get_json(&format!("/api/v1/licenses/{id}"), token).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    l
}

fn counts(l: &Value) -> Value {
    json!({
        "seats": l["seats"], "assigned": l["assigned"], "installs": l["installs"],
        "available": l["available"], "over_use": l["over_use"], "over_by": l["over_by"],
    })
}

#[tokio::test]
async fn over_use_shows_when_installs_or_assignments_exceed_seats() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let tech = s.token_for(Role::Technician).await;
    let (person_id, _) = person(&s, Role::Employee, "ana@example.test").await;

    let (status, created) = post(
        &s,
        "/api/v1/licenses",
        &admin,
        json!({"name": " Microsoft 365 E3 ", "titles": [OFFICE, "Microsoft Teams"], "seats": 2,
               "expires_on": "2030-06-30", "cost_cents": 4_560_000, "notes": "EA 2025"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["name"], "Microsoft 365 E3");
    assert_eq!(
        created["titles"],
        json!([
            "Microsoft 365 Apps for enterprise - en-us",
            "Microsoft Teams"
        ])
    );
    assert_eq!(created["expired"], false);
    assert_eq!(
        counts(&created),
        json!({"seats": 2, "assigned": 0, "installs": 0, "available": 2, "over_use": false, "over_by": 0})
    );

    // Three machines report the title: one more install than seats.
    let mut agents = Vec::new();
    for i in 0..3 {
        let (client, creds) = s.enrolled_agent().await;
        let reply = client
            .checkin(
                &creds,
                &report(
                    &format!("ws-{i}"),
                    &uuid(i),
                    &[(OFFICE, "16.0.17231.20194"), ("7-Zip", "23.01")],
                ),
            )
            .await
            .unwrap();
        agents.push((client, creds, reply.asset_id));
    }
    let l = license(&s, &tech, id).await;
    assert_eq!(
        counts(&l),
        json!({"seats": 2, "assigned": 0, "installs": 3, "available": 2, "over_use": true, "over_by": 1})
    );
    // The licenses page says so too.
    let login = crate::browser::submit_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let cookie = crate::browser::session_cookie(&login);
    let page = crate::browser::page_text(&s, &cookie, "/licenses").await;
    assert!(
        page.contains("over by 1") && page.contains("fill w100 over"),
        "{page}"
    );

    // Seats: a machine, a person; the third finds none free.
    let asset0 = agents[0].2;
    let (status, seat) = post(
        &s,
        &format!("/api/v1/licenses/{id}/seats"),
        &admin,
        json!({"asset_id": asset0}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{seat}");
    assert_eq!(seat["asset_name"], "ws-0");
    let seat0 = seat["id"].as_i64().unwrap();
    let (status, again) = post(
        &s,
        &format!("/api/v1/licenses/{id}/seats"),
        &admin,
        json!({"asset_id": asset0}),
    )
    .await;
    assert_eq!(
        (status, again["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("already_assigned"))
    );
    let (status, seat) = post(
        &s,
        &format!("/api/v1/licenses/{id}/seats"),
        &admin,
        json!({"user_id": person_id}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{seat}");
    assert_eq!(seat["user_name"], "ana@example.test");
    let (status, full) = post(
        &s,
        &format!("/api/v1/licenses/{id}/seats"),
        &admin,
        json!({"asset_id": agents[1].2}),
    )
    .await;
    assert_eq!(
        (status, full["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("no_free_seats"))
    );
    let (_, seats) = s
        .get_json(&format!("/api/v1/licenses/{id}/seats"), &tech)
        .await;
    assert_eq!(seats["items"].as_array().unwrap().len(), 2, "{seats}");
    let (_, hist) = s
        .get_json(&format!("/api/v1/assets/{asset0}/history"), &admin)
        .await;
    assert!(
        hist["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["kind"] == "license_assigned" && h["new_value"] == "Microsoft 365 E3"),
        "{hist}"
    );

    // One machine uninstalls it: installs back within the seats.
    let (client, creds, _) = &agents[2];
    client
        .checkin(creds, &report("ws-2", &uuid(2), &[("7-Zip", "24.07")]))
        .await
        .unwrap();
    let l = license(&s, &tech, id).await;
    assert_eq!(
        counts(&l),
        json!({"seats": 2, "assigned": 2, "installs": 2, "available": 0, "over_use": false, "over_by": 0})
    );

    // Fewer seats than assignments is over-use too.
    let (status, l) = patch(
        &s,
        &format!("/api/v1/licenses/{id}"),
        &admin,
        json!({"seats": 1, "expires_on": "2020-01-31"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(
        counts(&l),
        json!({"seats": 1, "assigned": 2, "installs": 2, "available": 0, "over_use": true, "over_by": 1})
    );
    assert_eq!(
        (
            l["expired"].clone(),
            l["notes"].clone(),
            l["cost_cents"].clone()
        ),
        (json!(true), json!("EA 2025"), json!(4_560_000))
    );
    let (_, l) = patch(
        &s,
        &format!("/api/v1/licenses/{id}"),
        &admin,
        json!({"expires_on": null, "cost_cents": null, "titles": ["7-Zip"]}),
    )
    .await;
    assert_eq!(
        (
            l["expires_on"].clone(),
            l["cost_cents"].clone(),
            l["installs"].clone()
        ),
        (Value::Null, Value::Null, json!(3))
    );

    assert_eq!(
        delete(&s, &format!("/api/v1/licenses/{id}/seats/{seat0}"), &admin).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&s, &format!("/api/v1/licenses/{id}/seats/{seat0}"), &admin).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(license(&s, &tech, id).await["assigned"], 1);

    let (_, list) = s.get_json("/api/v1/licenses?title=7-Zip", &tech).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let (_, none) = s.get_json("/api/v1/licenses?q=adobe", &tech).await;
    assert_eq!(none["items"], json!([]));

    assert_eq!(
        delete(&s, &format!("/api/v1/licenses/{id}"), &admin).await,
        StatusCode::NO_CONTENT
    );
    let (status, _) = s.get_json(&format!("/api/v1/licenses/{id}"), &tech).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn technicians_read_admins_write_employees_are_refused() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let tech = s.token_for(Role::Technician).await;
    let employee = s.token_for(Role::Employee).await;
    let (_, l) = post(
        &s,
        "/api/v1/licenses",
        &admin,
        json!({"name": "Acrobat", "titles": ["Adobe Acrobat"], "seats": 5}),
    )
    .await;
    let id = l["id"].as_i64().unwrap();

    for path in [
        "/api/v1/licenses".to_owned(),
        format!("/api/v1/licenses/{id}"),
        format!("/api/v1/licenses/{id}/seats"),
    ] {
        let (status, body) = s.get_json(&path, &employee).await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (StatusCode::FORBIDDEN, json!("forbidden")),
            "{path}"
        );
        let (status, _) = s.get_json(&path, &tech).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let body = json!({"name": "X", "titles": ["X"], "seats": 1});
    for token in [&tech, &employee] {
        let (status, _) = post(&s, "/api/v1/licenses", token, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = patch(
            &s,
            &format!("/api/v1/licenses/{id}"),
            token,
            json!({"seats": 9}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = post(
            &s,
            &format!("/api/v1/licenses/{id}/seats"),
            token,
            json!({"user_id": 1}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            delete(&s, &format!("/api/v1/licenses/{id}"), token).await,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(license(&s, &tech, id).await["seats"], 5);
    s.stop().await;
}

#[tokio::test]
async fn bad_license_input_gets_400_with_a_code() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (_, l) = post(
        &s,
        "/api/v1/licenses",
        &admin,
        json!({"name": "Acrobat", "titles": ["Adobe Acrobat"], "seats": 5}),
    )
    .await;
    let id = l["id"].as_i64().unwrap();
    let bodies = [
        (
            json!({"name": "", "titles": ["a"], "seats": 1}),
            "invalid_name",
        ),
        (
            json!({"name": "n".repeat(201), "titles": ["a"], "seats": 1}),
            "invalid_name",
        ),
        (
            json!({"name": "a", "titles": [], "seats": 1}),
            "invalid_titles",
        ),
        (
            json!({"name": "a", "titles": [" "], "seats": 1}),
            "invalid_titles",
        ),
        (
            json!({"name": "a", "titles": ["a\u{7}"], "seats": 1}),
            "invalid_titles",
        ),
        (
            json!({"name": "a", "titles": ["a"], "seats": -1}),
            "invalid_seats",
        ),
        (
            json!({"name": "a", "titles": ["a"], "seats": 1, "expires_on": "31/12/2030"}),
            "invalid_expires_on",
        ),
        (
            json!({"name": "a", "titles": ["a"], "seats": 1, "expires_on": "2030-02-30"}),
            "invalid_expires_on",
        ),
        (
            json!({"name": "a", "titles": ["a"], "seats": 1, "cost_cents": -5}),
            "invalid_cost",
        ),
        (
            json!({"name": "a", "titles": ["a"], "seats": 1, "notes": "n".repeat(10_001)}),
            "invalid_notes",
        ),
        (
            json!({"name": "a", "titles": ["a"], "seats": 1, "colour": "red"}),
            "invalid_body",
        ),
        (
            json!({"name": "a", "titles": ["a"], "seats": "many"}),
            "invalid_body",
        ),
    ];
    for (body, code) in bodies {
        let (status, err) = post(&s, "/api/v1/licenses", &admin, body.clone()).await;
        assert_eq!(
            (status, err["error"]["code"].clone()),
            (StatusCode::BAD_REQUEST, json!(code)),
            "{body}"
        );
    }
    let (_, list) = s.get_json("/api/v1/licenses", &admin).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "nothing bad was stored"
    );

    let seats = format!("/api/v1/licenses/{id}/seats");
    for (body, code) in [
        (json!({}), "invalid_holder"),
        (json!({"asset_id": 1, "user_id": 1}), "invalid_holder"),
        (json!({"asset_id": 999_999}), "invalid_asset"),
        (json!({"user_id": 999_999}), "invalid_user"),
    ] {
        let (status, err) = post(&s, &seats, &admin, body.clone()).await;
        assert_eq!(
            (status, err["error"]["code"].clone()),
            (StatusCode::BAD_REQUEST, json!(code)),
            "{body}"
        );
    }
    for (path, status, code) in [
        (
            "/api/v1/licenses/abc",
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            "/api/v1/licenses/999999",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/licenses?limit=0",
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            "/api/v1/licenses?cursor=x",
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
        ),
        (
            "/api/v1/licenses?over=1",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "/api/v1/licenses/999999/seats",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        let (got, err) = s.get_json(path, &admin).await;
        assert_eq!(
            (got, err["error"]["code"].clone()),
            (status, json!(code)),
            "{path}"
        );
    }
    let (status, err) = patch(
        &s,
        &format!("/api/v1/licenses/{id}"),
        &admin,
        json!({"seats": 20_000_000}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_seats"))
    );
    let (status, err) = patch(&s, "/api/v1/licenses/999999", &admin, json!({"seats": 1})).await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
    assert_eq!(
        delete(&s, &format!("/api/v1/licenses/{id}/seats/x"), &admin).await,
        StatusCode::BAD_REQUEST
    );
    s.stop().await;
}
