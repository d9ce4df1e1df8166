//! Groups over HTTP: tickets handed out round robin or to the least loaded member, who may
//! manage and see groups, and the codes for bad input.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

async fn admin_id(s: &TestServer) -> i64 {
    let (_, me) = s.get_json("/api/v1/me", &s.admin_token().await).await;
    me["id"].as_i64().unwrap()
}

/// A group with `assignment` and `members`, made by the admin; its id.
async fn group(s: &TestServer, admin: &str, name: &str, assignment: &str, members: &[i64]) -> i64 {
    let (status, g) = post(
        s,
        "/api/v1/groups",
        admin,
        json!({"name": name, "assignment": assignment}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{g}");
    let id = g["id"].as_i64().unwrap();
    let (status, g) = put(
        s,
        &format!("/api/v1/groups/{id}/members"),
        admin,
        json!({"user_ids": members}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{g}");
    id
}

#[tokio::test]
async fn round_robin_hands_tickets_to_members_in_turn() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let admin_id = admin_id(&s).await;
    let (a, _) = person(&s, Role::Technician, "a@example.test").await;
    let (b, _) = person(&s, Role::Technician, "b@example.test").await;
    let (c, tech) = person(&s, Role::Technician, "c@example.test").await;
    // Member order in the request does not matter: turns go by user id.
    let g = group(&s, &admin, "Network", "round_robin", &[c, a, b]).await;

    let mut assignees = Vec::new();
    let mut first = 0;
    for i in 0..4 {
        let t = file_ticket_with(
            &s,
            &admin,
            json!({"title": format!("Switch port {i} dead"), "group_id": g}),
        )
        .await;
        assert_eq!(t["group_id"], g);
        if i == 0 {
            first = t["id"].as_i64().unwrap();
        }
        assignees.push(t["assignee"]["id"].as_i64().unwrap());
    }
    assert_eq!(assignees, [a, b, c, a]);

    let (_, g_now) = s.get_json(&format!("/api/v1/groups/{g}"), &tech).await;
    assert_eq!(g_now["last_assignee_id"], a);
    let ids: Vec<i64> = g_now["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [a, b, c]);

    // The history says who assigned it, and to whom.
    let (_, hist) = s
        .get_json(&format!("/api/v1/tickets/{first}/history"), &tech)
        .await;
    let change = hist
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["field"] == "assignee_id")
        .unwrap_or_else(|| panic!("no assignee change in {hist}"));
    assert_eq!(change["old_value"], Value::Null);
    assert_eq!(change["new_value"], a.to_string());
    assert_eq!(change["actor"], format!("user:{admin_id}"));

    // Moving an unassigned ticket into the group assigns it too (b is next) ...
    let t = file_ticket_with(&s, &admin, json!({"title": "Wi-Fi slow"})).await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["assignee"], Value::Null);
    let (status, t) = patch(
        &s,
        &format!("/api/v1/tickets/{id}"),
        &tech,
        json!({"group_id": g}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["assignee"]["id"], b);
    // ... but an assignee chosen by hand, or already there, wins.
    let t = file_ticket_with(
        &s,
        &admin,
        json!({"title": "VPN", "group_id": g, "assignee_id": a}),
    )
    .await;
    assert_eq!(t["assignee"]["id"], a);
    let t = file_ticket_with(&s, &admin, json!({"title": "DNS"})).await;
    let id = t["id"].as_i64().unwrap();
    let (_, t) = patch(
        &s,
        &format!("/api/v1/tickets/{id}"),
        &tech,
        json!({"group_id": g, "assignee_id": c}),
    )
    .await;
    assert_eq!(t["assignee"]["id"], c);
    let (_, g_now) = s.get_json(&format!("/api/v1/groups/{g}"), &tech).await;
    assert_eq!(g_now["last_assignee_id"], b, "manual picks are not turns");

    // A manual group leaves tickets in its queue.
    let m = group(&s, &admin, "Facilities", "manual", &[a, b]).await;
    let t = file_ticket_with(&s, &admin, json!({"title": "Door", "group_id": m})).await;
    assert_eq!(t["assignee"], Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn least_loaded_picks_the_member_with_fewer_open_tickets() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (busy, _) = person(&s, Role::Technician, "busy@example.test").await;
    let (idle, tech) = person(&s, Role::Technician, "idle@example.test").await;
    let g = group(&s, &admin, "Desk", "least_loaded", &[busy, idle]).await;
    for i in 0..2 {
        file_ticket_with(
            &s,
            &admin,
            json!({"title": format!("Old {i}"), "assignee_id": busy}),
        )
        .await;
    }
    // One closed-out ticket does not count against idle.
    let t = file_ticket_with(&s, &admin, json!({"title": "Done", "assignee_id": idle})).await;
    let done = t["id"].as_i64().unwrap();
    let (status, _) = patch(
        &s,
        &format!("/api/v1/tickets/{done}"),
        &tech,
        json!({"status": "resolved"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // busy has 2 open, idle 0: idle gets the next two, then it is a tie (lowest id).
    let mut picked = Vec::new();
    for i in 0..3 {
        let t = file_ticket_with(
            &s,
            &admin,
            json!({"title": format!("New {i}"), "group_id": g}),
        )
        .await;
        picked.push(t["assignee"]["id"].as_i64().unwrap());
    }
    assert_eq!(picked, [idle, idle, busy.min(idle)]);
    let (_, counts) = s.get_json("/api/v1/tickets/counts", &tech).await;
    assert_eq!(counts[format!("group:{g}")], 3);
    s.stop().await;
}

#[tokio::test]
async fn only_admins_manage_groups_and_only_staff_see_them() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (tech_id, tech) = person(&s, Role::Technician, "tech@example.test").await;
    let employee = s.token_for(Role::Employee).await;
    let g = group(&s, &admin, "Network", "manual", &[tech_id]).await;

    for token in [&employee, &tech] {
        let (status, err) = post(&s, "/api/v1/groups", token, json!({"name": "Mine"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
        assert_eq!(err["error"]["code"], "forbidden");
        let (status, _) = put(
            &s,
            &format!("/api/v1/groups/{g}/members"),
            token,
            json!({"user_ids": []}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = patch(
            &s,
            &format!("/api/v1/groups/{g}"),
            token,
            json!({"assignment": "round_robin"}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        s.get_json("/api/v1/groups", &employee).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, list) = s.get_json("/api/v1/groups", &tech).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"][0]["name"], "Network");
    assert_eq!(list["items"][0]["members"][0]["id"], tech_id);

    let (status, g2) = patch(
        &s,
        &format!("/api/v1/groups/{g}"),
        &admin,
        json!({"name": "Networking", "assignment": "least_loaded"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{g2}");
    assert_eq!(g2["name"], "Networking");
    assert_eq!(g2["assignment"], "least_loaded");
    s.stop().await;
}

#[tokio::test]
async fn bad_group_input_gets_400_with_codes() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (emp_id, _) = person(&s, Role::Employee, "emp@example.test").await;
    let (tech_id, tech) = person(&s, Role::Technician, "tech@example.test").await;
    let g = group(&s, &admin, "Network", "manual", &[tech_id]).await;

    let cases = [
        (
            json!({"name": "X", "assignment": "random"}),
            StatusCode::BAD_REQUEST,
            "invalid_assignment",
        ),
        (
            json!({"name": "  "}),
            StatusCode::BAD_REQUEST,
            "invalid_name",
        ),
        (
            json!({"name": "x".repeat(81)}),
            StatusCode::BAD_REQUEST,
            "invalid_name",
        ),
        (
            json!({"name": "X", "colour": "red"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"name": "network"}),
            StatusCode::CONFLICT,
            "group_exists",
        ),
    ];
    for (body, want, code) in cases {
        let (status, err) = post(&s, "/api/v1/groups", &admin, body.clone()).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (want, Some(code)),
            "{body}: {err}"
        );
    }

    let members = format!("/api/v1/groups/{g}/members");
    for (ids, code) in [
        (json!([emp_id]), "invalid_member"),
        (json!([tech_id, 999_999]), "invalid_member"),
    ] {
        let (status, err) = put(&s, &members, &admin, json!({"user_ids": ids})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert_eq!(err["error"]["code"], code);
    }
    let (_, still) = s.get_json(&format!("/api/v1/groups/{g}"), &tech).await;
    assert_eq!(
        still["members"].as_array().unwrap().len(),
        1,
        "refusals change nothing"
    );
    let (status, err) = put(
        &s,
        "/api/v1/groups/999/members",
        &admin,
        json!({"user_ids": []}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    let (_, other) = post(&s, "/api/v1/groups", &admin, json!({"name": "Other"})).await;
    let (status, err) = patch(
        &s,
        &format!("/api/v1/groups/{}", other["id"]),
        &admin,
        json!({"name": "NETWORK"}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("group_exists"))
    );
    let (status, err) = patch(&s, "/api/v1/groups/999", &admin, json!({"name": "Z"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");

    // Tickets name groups that exist.
    let (status, err) = post(
        &s,
        "/api/v1/tickets",
        &tech,
        json!({"title": "Lost", "group_id": 999}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_group"))
    );
    s.stop().await;
}
