//! Desk extras over HTTP: groups that hand out tickets (round robin, least loaded),
//! canned responses, and saved views that stay private to their owner.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

async fn put(s: &TestServer, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    send(s, Method::PUT, path, token, body).await
}

async fn delete(s: &TestServer, path: &str, token: &str) -> StatusCode {
    s.http
        .delete(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

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

/// Files a ticket; its JSON.
async fn file(s: &TestServer, token: &str, body: Value) -> Value {
    let (status, t) = post(s, "/api/v1/tickets", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    t
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
        let t = file(
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
    let t = file(&s, &admin, json!({"title": "Wi-Fi slow"})).await;
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
    let t = file(
        &s,
        &admin,
        json!({"title": "VPN", "group_id": g, "assignee_id": a}),
    )
    .await;
    assert_eq!(t["assignee"]["id"], a);
    let t = file(&s, &admin, json!({"title": "DNS"})).await;
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
    let t = file(&s, &admin, json!({"title": "Door", "group_id": m})).await;
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
        file(
            &s,
            &admin,
            json!({"title": format!("Old {i}"), "assignee_id": busy}),
        )
        .await;
    }
    // One closed-out ticket does not count against idle.
    let t = file(&s, &admin, json!({"title": "Done", "assignee_id": idle})).await;
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
        let t = file(
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

#[tokio::test]
async fn canned_responses_are_shared_by_staff_and_deleted_by_author_or_admin() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (tess_id, tess) = person(&s, Role::Technician, "tess@example.test").await;
    let (_, tom) = person(&s, Role::Technician, "tom@example.test").await;
    let employee = s.token_for(Role::Employee).await;
    let path = "/api/v1/canned-responses";

    let (status, r) = post(
        &s,
        path,
        &tess,
        json!({"title": " Password reset ", "body": "Go to https://id.example/reset"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["title"], "Password reset");
    assert_eq!(r["created_by"]["id"], tess_id);
    let first = r["id"].as_i64().unwrap();
    let (_, r) = post(
        &s,
        path,
        &tess,
        json!({"title": "VPN", "body": "Reinstall the client"}),
    )
    .await;
    let second = r["id"].as_i64().unwrap();

    let (status, list) = s.get_json(path, &tom).await;
    assert_eq!(status, StatusCode::OK);
    let titles: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Password reset", "VPN"]);

    // Employees neither read nor write them.
    assert_eq!(s.get_json(path, &employee).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        post(&s, path, &employee, json!({"title": "t", "body": "b"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&s, &format!("{path}/{first}"), &employee).await,
        StatusCode::FORBIDDEN
    );

    // Another technician may not delete Tess's; Tess and the admin may.
    assert_eq!(
        delete(&s, &format!("{path}/{first}"), &tom).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&s, &format!("{path}/{first}"), &tess).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&s, &format!("{path}/{second}"), &admin).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&s, &format!("{path}/{second}"), &admin).await,
        StatusCode::NOT_FOUND
    );
    let (_, list) = s.get_json(path, &tom).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");

    for (body, code) in [
        (json!({"title": "", "body": "b"}), "invalid_title"),
        (
            json!({"title": "x".repeat(201), "body": "b"}),
            "invalid_title",
        ),
        (
            json!({"title": "t", "body": "b".repeat(20_001)}),
            "invalid_body_text",
        ),
        (json!({"title": "t", "body": "  "}), "invalid_body_text"),
        (json!({"title": "t"}), "invalid_body"),
    ] {
        let (status, err) = post(&s, path, &tess, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert_eq!(err["error"]["code"], code);
    }
    s.stop().await;
}

#[tokio::test]
async fn saved_views_run_their_query_and_stay_private() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (ann_id, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, bob) = person(&s, Role::Employee, "bob@example.test").await;
    let (_, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let high = json!({"impact": "high", "urgency": "high"});
    let mut urgent = Vec::new();
    for i in 0..3 {
        let mut body = high.clone();
        body["title"] = json!(format!("Server {i} down"));
        urgent.push(file(&s, &admin, body).await["id"].as_i64().unwrap());
    }
    file(&s, &admin, json!({"title": "New mouse"})).await;
    let anns = file(&s, &ann, json!({"title": "Ann's laptop"})).await["id"]
        .as_i64()
        .unwrap();

    let (status, v) = post(
        &s,
        "/api/v1/views",
        &tech,
        json!({"name": "Hot", "query": "?status=new,open&priority=high"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["query"], "status=new,open&priority=high");
    let hot = v["id"].as_i64().unwrap();
    let (_, mine) = s.get_json("/api/v1/views", &tech).await;
    assert_eq!(mine["items"][0]["name"], "Hot");

    let (status, page) = s
        .get_json(&format!("/api/v1/views/{hot}/tickets"), &tech)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let ids: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    let newest_first: Vec<i64> = urgent.iter().rev().copied().collect();
    assert_eq!(ids, newest_first);
    // Paging through a view.
    let (_, p1) = s
        .get_json(&format!("/api/v1/views/{hot}/tickets?limit=2"), &tech)
        .await;
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    let cursor = p1["next_cursor"].as_str().unwrap().to_owned();
    let (_, p2) = s
        .get_json(
            &format!("/api/v1/views/{hot}/tickets?limit=2&cursor={cursor}"),
            &tech,
        )
        .await;
    assert_eq!(p2["items"][0]["id"], urgent[0]);

    // Someone else's view does not exist for them.
    assert_eq!(
        s.get_json(&format!("/api/v1/views/{hot}"), &ann).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get_json(&format!("/api/v1/views/{hot}/tickets"), &ann)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(&s, &format!("/api/v1/views/{hot}"), &ann).await,
        StatusCode::NOT_FOUND
    );
    let (_, anns_views) = s.get_json("/api/v1/views", &ann).await;
    assert!(anns_views["items"].as_array().unwrap().is_empty());

    // An employee's view runs as their own list: only their tickets.
    let (status, v) = post(
        &s,
        "/api/v1/views",
        &ann,
        json!({"name": "All mine", "query": "status=all"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (_, page) = s
        .get_json(&format!("/api/v1/views/{}/tickets", v["id"]), &ann)
        .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(
        (
            items[0]["id"].as_i64(),
            items[0]["requester"]["id"].as_i64()
        ),
        (Some(anns), Some(ann_id))
    );
    // Bob may use the same name; names are per user.
    let (status, _) = post(
        &s,
        "/api/v1/views",
        &bob,
        json!({"name": "All mine", "query": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    for (body, want, code) in [
        (
            json!({"name": "x", "query": "colour=red"}),
            StatusCode::BAD_REQUEST,
            "invalid_view_query",
        ),
        (
            json!({"name": "x", "query": "group=abc"}),
            StatusCode::BAD_REQUEST,
            "invalid_view_query",
        ),
        (
            json!({"name": "x", "query": "cursor=3.14"}),
            StatusCode::BAD_REQUEST,
            "invalid_view_query",
        ),
        (
            json!({"name": "x", "query": "status=bogus"}),
            StatusCode::BAD_REQUEST,
            "invalid_status",
        ),
        (
            json!({"name": "x", "query": "priority=urgent"}),
            StatusCode::BAD_REQUEST,
            "invalid_priority",
        ),
        (
            json!({"name": "x", "query": "limit=0"}),
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            json!({"name": "", "query": ""}),
            StatusCode::BAD_REQUEST,
            "invalid_name",
        ),
        (
            json!({"name": "x"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"name": "hot", "query": ""}),
            StatusCode::CONFLICT,
            "view_exists",
        ),
    ] {
        let (status, err) = post(&s, "/api/v1/views", &tech, body.clone()).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (want, Some(code)),
            "{body}: {err}"
        );
    }
    let (status, err) = s
        .get_json(&format!("/api/v1/views/{hot}/tickets?status=open"), &tech)
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );

    assert_eq!(
        delete(&s, &format!("/api/v1/views/{hot}"), &tech).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get_json(&format!("/api/v1/views/{hot}"), &tech).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get_json("/api/v1/views", &s.token_for(Role::Employee).await)
            .await
            .0,
        StatusCode::OK
    );
    s.stop().await;
}
