//! Saved views over HTTP: a named ticket query that runs as its owner's list, pages, and
//! stays private to the one who saved it.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;
use steward_server::domain::roles::Role;

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
        urgent.push(
            file_ticket_with(&s, &admin, body).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    file_ticket_with(&s, &admin, json!({"title": "New mouse"})).await;
    let anns = file_ticket_with(&s, &ann, json!({"title": "Ann's laptop"})).await["id"]
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
