//! The service desk over HTTP: employees file and follow, technicians triage and reply,
//! nobody sees what is not theirs.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

#[tokio::test]
async fn employee_files_technician_triages_and_replies() {
    let s = TestServer::spawn().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, bob) = person(&s, Role::Employee, "bob@example.test").await;
    let (tech_id, tech) = person(&s, Role::Technician, "tess@example.test").await;

    let (status, t) = post(
        &s,
        "/api/v1/tickets",
        &ann,
        json!({"title": "Printer jams", "description": "Page 2 always jams", "urgency": "high"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["status"], "new");
    assert_eq!(t["type"], "request");
    assert!(
        t["sla"]["resolution_due"].is_i64(),
        "medium impact x high urgency has an SLA: {t}"
    );

    // The technician's unassigned queue has it, and the counts know.
    let (_, q) = s.get_json("/api/v1/tickets?unassigned=true", &tech).await;
    assert!(
        q["items"].as_array().unwrap().iter().any(|i| i["id"] == id),
        "{q}"
    );
    let (_, counts) = s.get_json("/api/v1/tickets/counts", &tech).await;
    assert_eq!(counts["unassigned"], 1);
    assert_eq!(counts["status:new"], 1);

    let (status, t) = patch(
        &s,
        &format!("/api/v1/tickets/{id}"),
        &tech,
        json!({"assignee_id": tech_id, "status": "open"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["assignee"]["id"], tech_id);
    let (_, counts) = s.get_json("/api/v1/tickets/counts", &tech).await;
    assert!(counts.get("unassigned").is_none(), "{counts}");
    assert_eq!(counts[format!("assignee:{tech_id}")], 1);
    let (_, mine) = s.get_json("/api/v1/tickets?assignee=me", &tech).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    assert_eq!(
        post(
            &s,
            &format!("/api/v1/tickets/{id}/comments"),
            &tech,
            json!({"body": "Try the rear tray"})
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(
            &s,
            &format!("/api/v1/tickets/{id}/comments"),
            &tech,
            json!({"body": "Fuser is worn; order part 4411", "internal": true})
        )
        .await
        .0,
        StatusCode::CREATED
    );

    // Ann sees the reply but not the internal note.
    let (status, seen) = s.get_json(&format!("/api/v1/tickets/{id}"), &ann).await;
    assert_eq!(status, StatusCode::OK);
    let bodies: Vec<&str> = seen["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Try the rear tray"]);
    assert!(
        !seen.to_string().contains("Fuser"),
        "internal note leaked: {seen}"
    );
    assert!(seen["first_response_at"].is_i64());
    // Staff see both.
    let (_, staff_view) = s.get_json(&format!("/api/v1/tickets/{id}"), &tech).await;
    assert_eq!(staff_view["comments"].as_array().unwrap().len(), 2);

    // Bob cannot see or touch Ann's ticket: 404, not 403.
    assert_eq!(
        s.get_json(&format!("/api/v1/tickets/{id}"), &bob).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(
            &s,
            &format!("/api/v1/tickets/{id}/comments"),
            &bob,
            json!({"body": "me too"})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (_, bobs) = s.get_json("/api/v1/tickets?status=all", &bob).await;
    assert!(bobs["items"].as_array().unwrap().is_empty());
    // Employees cannot triage or write internal notes.
    assert_eq!(
        patch(
            &s,
            &format!("/api/v1/tickets/{id}"),
            &ann,
            json!({"status": "resolved"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            &s,
            &format!("/api/v1/tickets/{id}/comments"),
            &ann,
            json!({"body": "x", "internal": true})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // Searching the internal note finds nothing for Ann, the ticket for staff.
    let (_, found) = s.get_json("/api/v1/tickets?q=fuser&status=all", &ann).await;
    assert!(found["items"].as_array().unwrap().is_empty());
    let (_, found) = s
        .get_json("/api/v1/tickets?q=fuser&status=all", &tech)
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);

    // Resolve, Ann confirms with a rating; the history has every step.
    assert_eq!(
        patch(
            &s,
            &format!("/api/v1/tickets/{id}"),
            &tech,
            json!({"status": "resolved"})
        )
        .await
        .0,
        StatusCode::OK
    );
    let (status, closed) = post(
        &s,
        &format!("/api/v1/tickets/{id}/resolution"),
        &ann,
        json!({"accept": true, "rating": 5}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["satisfaction"], 5);
    let (_, hist) = s
        .get_json(&format!("/api/v1/tickets/{id}/history"), &ann)
        .await;
    let steps: Vec<String> = hist
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["field"] == "status")
        .map(|h| h["new_value"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(steps, ["new", "open", "resolved", "closed"]);
    s.stop().await;
}

#[tokio::test]
async fn the_workflow_refuses_impossible_moves_with_a_clear_message() {
    let s = TestServer::spawn().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let (_, t) = post(&s, "/api/v1/tickets", &ann, json!({"title": "VPN drops"})).await;
    let id = t["id"].as_i64().unwrap();
    let (status, err) = patch(
        &s,
        &format!("/api/v1/tickets/{id}"),
        &tech,
        json!({"status": "closed"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "invalid_transition");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may move it to"),
        "{err}"
    );
    // Confirming a resolution that never happened is refused too.
    assert_eq!(
        post(
            &s,
            &format!("/api/v1/tickets/{id}/resolution"),
            &ann,
            json!({"accept": true})
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    // Bad input is a 400 with a code.
    for body in [
        json!({"title": ""}),
        json!({"title": "x", "type": "complaint"}),
        json!({"title": "x", "impact": "galactic"}),
        json!({"title": "x", "asset_ids": [999]}),
    ] {
        let (status, err) = post(&s, "/api/v1/tickets", &ann, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {err}");
        assert!(err["error"]["code"].is_string());
    }
    s.stop().await;
}

#[tokio::test]
async fn the_sla_clock_pauses_while_pending() {
    let s = TestServer::spawn().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let (_, t) = post(
        &s,
        "/api/v1/tickets",
        &ann,
        json!({"title": "Laptop slow", "impact": "high", "urgency": "high"}),
    )
    .await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["sla"]["paused"], false);
    let (_, t) = patch(
        &s,
        &format!("/api/v1/tickets/{id}"),
        &tech,
        json!({"status": "pending"}),
    )
    .await;
    assert_eq!(t["sla"]["paused"], true, "{t}");
    // Ann answers: the ticket reopens and the clock runs again.
    let (_, t) = post(
        &s,
        &format!("/api/v1/tickets/{id}/comments"),
        &ann,
        json!({"body": "It happens after lunch"}),
    )
    .await;
    assert_eq!(t["status"], "open");
    assert_eq!(t["sla"]["paused"], false);
    s.stop().await;
}

#[tokio::test]
async fn a_machine_files_a_ticket_linked_to_its_asset_with_health() {
    let s = TestServer::spawn().await;
    let (_, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let (client, creds) = s.enrolled_agent().await;
    let mut r = report("desk-17", "71c4e700-0000-1111-2222-333333333333", &[]);
    r.health.uptime_secs = 7200;
    r.health.failed_services = vec!["cups.service".into()];
    let asset = client.checkin(&creds, &r).await.unwrap().asset_id;

    let resp = s
        .http
        .post(s.url("/api/v1/agent/tickets"))
        .header("authorization", agent_auth(&creds))
        .json(&json!({"title": "Printer jams", "body": "again", "reported_by": "ann"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let reply: Value = resp.json().await.unwrap();
    assert_eq!(reply["asset_id"], asset);
    let (_, t) = s
        .get_json(&format!("/api/v1/tickets/{}", reply["ticket_id"]), &tech)
        .await;
    assert_eq!(t["asset_ids"], json!([asset]));
    assert_eq!(t["source"], "agent");
    let d = t["description"].as_str().unwrap();
    assert!(
        d.contains("desk-17") && d.contains("uptime 2 h") && d.contains("cups.service"),
        "{d}"
    );
    let (_, by_asset) = s
        .get_json(&format!("/api/v1/tickets?asset={asset}"), &tech)
        .await;
    assert_eq!(by_asset["items"].as_array().unwrap().len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn bulk_actions_apply_per_ticket() {
    let s = TestServer::spawn().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (tech_id, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (_, t) = post(
            &s,
            "/api/v1/tickets",
            &ann,
            json!({"title": format!("Issue {i}")}),
        )
        .await;
        ids.push(t["id"].as_i64().unwrap());
    }
    let (status, r) = post(
        &s,
        "/api/v1/tickets/bulk",
        &tech,
        json!({"ids": [ids[0], ids[1], 999], "assignee_id": tech_id}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["updated"], json!([ids[0], ids[1]]));
    assert_eq!(r["refused"][0]["id"], 999);
    let (_, mine) = s
        .get_json("/api/v1/tickets?assignee=me&sort=priority", &tech)
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        post(
            &s,
            "/api/v1/tickets/bulk",
            &ann,
            json!({"ids": [ids[2]], "status": "open"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    s.stop().await;
}

#[tokio::test]
async fn steward_agent_ticket_files_for_this_machine() {
    let s = TestServer::spawn().await;
    let (_, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let (config, state_dir) = s.enrolled_agent_dir().await;
    // The agent reports first, then files: the ticket is linked to this machine's asset.
    let reply = steward_agent::run::file_ticket(
        &config,
        &state_dir,
        "Screen flickers",
        "since this morning",
        "ann",
    )
    .await
    .unwrap();
    let (_, asset) = s
        .get_json(&format!("/api/v1/assets/{}", reply.asset_id), &tech)
        .await;
    let (_, t) = s
        .get_json(&format!("/api/v1/tickets/{}", reply.ticket_id), &tech)
        .await;
    assert_eq!(t["title"], "Screen flickers");
    assert_eq!(t["asset_ids"], json!([reply.asset_id]));
    let d = t["description"].as_str().unwrap();
    assert!(
        d.contains("since this morning") && d.contains("by ann"),
        "{d}"
    );
    assert!(d.contains(asset["name"].as_str().unwrap()), "{d}");
    s.stop().await;
}
