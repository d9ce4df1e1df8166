//! The event log over HTTP: the replayable feed, signed webhook deliveries to a real local
//! receiver (with retries), SLA breach reports.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use steward_server::domain::roles::Role;
use steward_server::notify::webhooks;
use tokio::sync::mpsc;

fn kinds(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn feed_lists_ticket_events_in_order_and_resumes_from_a_cursor() {
    let s = TestServer::spawn().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (tech_id, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let id = file_ticket(&s, &ann, "Printer jams").await;
    let path = format!("/api/v1/tickets/{id}");
    let (status, _) = patch(&s, &path, &tech, json!({"assignee_id": tech_id})).await;
    assert_eq!(status, StatusCode::OK);
    let comments = format!("{path}/comments");
    post(&s, &comments, &tech, json!({"body": "Try the rear tray"})).await;
    post(
        &s,
        &comments,
        &tech,
        json!({"body": "Fuser is worn", "internal": true}),
    )
    .await;

    let (status, all) = s.get_json("/api/v1/events", &tech).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        kinds(&all),
        [
            "ticket.created",
            "ticket.updated",
            "ticket.assigned",
            "ticket.commented",
            // The public reply opened the new ticket.
            "ticket.updated",
            "ticket.commented",
        ]
    );
    let items = all["items"].as_array().unwrap();
    assert!(items.iter().all(|e| e["ticket_id"] == id), "{all}");
    assert_eq!(items[0]["payload"]["title"], "Printer jams");
    assert_eq!(
        items[0]["actor"],
        format!("user:{}", items[0]["payload"]["requester_id"])
    );
    assert_eq!(items[1]["payload"]["fields"], json!(["assignee_id"]));
    assert_eq!(items[2]["payload"]["assignee_id"], tech_id);
    assert_eq!(items[3]["payload"]["body"], "Try the rear tray");
    assert_eq!(
        items[4]["payload"]["changes"]["status"],
        json!({"from": "new", "to": "open"})
    );
    assert_eq!(items[5]["payload"]["internal"], true);
    assert!(
        !all.to_string().contains("Fuser"),
        "internal text leaked: {all}"
    );
    let ids: Vec<i64> = items.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(all["next_cursor"], ids[5].to_string());

    // Page by page, then poll at the end.
    let (_, first) = s.get_json("/api/v1/events?limit=2", &tech).await;
    assert_eq!(kinds(&first), ["ticket.created", "ticket.updated"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = s
        .get_json(&format!("/api/v1/events?cursor={cursor}&limit=100"), &tech)
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 4);
    let end = rest["next_cursor"].as_str().unwrap().to_owned();
    let (_, empty) = s
        .get_json(&format!("/api/v1/events?cursor={end}"), &tech)
        .await;
    assert!(empty["items"].as_array().unwrap().is_empty());
    assert_eq!(empty["next_cursor"], end.as_str());
    // A new event shows up for the poller.
    post(&s, &comments, &ann, json!({"body": "Thanks"})).await;
    let (_, more) = s
        .get_json(&format!("/api/v1/events?cursor={end}"), &tech)
        .await;
    assert_eq!(kinds(&more), ["ticket.commented"]);

    let (_, commented) = s
        .get_json(
            "/api/v1/events?kind=ticket.commented,ticket.assigned",
            &tech,
        )
        .await;
    assert_eq!(
        kinds(&commented),
        [
            "ticket.assigned",
            "ticket.commented",
            "ticket.commented",
            "ticket.commented"
        ]
    );
    // A filtered poll resumes after everything it read, matched or not.
    let (_, assigned) = s
        .get_json("/api/v1/events?kind=ticket.assigned", &tech)
        .await;
    assert_eq!(kinds(&assigned), ["ticket.assigned"]);
    assert_eq!(assigned["next_cursor"], more["next_cursor"]);
    assert_eq!(
        s.get_json("/api/v1/events?kind=ticket.deleted", &tech)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.get_json("/api/v1/events?cursor=abc", &tech).await.0,
        StatusCode::BAD_REQUEST
    );
    // Events are for staff.
    assert_eq!(
        s.get_json("/api/v1/events", &ann).await.0,
        StatusCode::FORBIDDEN
    );
}

/// What a webhook receiver saw.
struct Hit {
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Hit {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A real HTTP receiver on 127.0.0.1:0 answering with `replies` in turn, then 200.
struct Receiver {
    url: String,
    hits: mpsc::UnboundedReceiver<Hit>,
}

impl Receiver {
    async fn start(replies: &[u16]) -> Receiver {
        let (tx, hits) = mpsc::unbounded_channel();
        let replies = Arc::new(Mutex::new(replies.iter().copied().collect::<VecDeque<_>>()));
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let code = replies.lock().unwrap().pop_front().unwrap_or(200);
                    tx.send(Hit {
                        headers,
                        body: body.to_vec(),
                    })
                    .unwrap();
                    async move { axum::http::StatusCode::from_u16(code).unwrap() }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, hits }
    }

    async fn next(&mut self) -> Hit {
        tokio::time::timeout(Duration::from_secs(15), self.hits.recv())
            .await
            .expect("no delivery arrived")
            .unwrap()
    }
}

/// Checks the signature as a receiver would: HMAC-SHA256 over "{timestamp}.{body}".
fn signature_ok(secret: &str, hit: &Hit) -> bool {
    use hmac::Mac;
    let sig = hit.header("x-steward-signature");
    let Some(Ok(sig)) = sig.strip_prefix("sha256=").map(hex::decode) else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(hit.header("x-steward-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&hit.body);
    mac.verify_slice(&sig).is_ok()
}

async fn deliveries(s: &TestServer, admin: &str, webhook: i64) -> Vec<Value> {
    let (status, page) = s
        .get_json(&format!("/api/v1/webhooks/{webhook}/deliveries"), admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn webhook_receives_signed_events_of_the_kinds_it_asked_for() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let mut hook = Receiver::start(&[]).await;
    let (status, created) = post(
        &s,
        "/api/v1/webhooks",
        &admin,
        json!({"url": hook.url, "kinds": ["ticket.created"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let webhook = created["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    // Listed without the secret.
    let (_, list) = s.get_json("/api/v1/webhooks", &admin).await;
    assert_eq!(list["items"][0]["kinds"], json!(["ticket.created"]));
    assert!(secret.starts_with(list["items"][0]["secret_prefix"].as_str().unwrap()));
    assert!(!list.to_string().contains(&secret), "{list}");
    assert!(list["items"][0].get("secret").is_none());

    let now = steward_server::clock::now();
    let id = file_ticket(&s, &ann, "VPN drops").await;
    webhooks::deliver_due(&s.state, now).await.unwrap();
    let hit = hook.next().await;
    assert!(signature_ok(&secret, &hit), "bad signature");
    assert!(!signature_ok("another secret of 16+", &hit));
    assert_eq!(hit.header("x-steward-event"), "ticket.created");
    assert_eq!(hit.header("content-type"), "application/json");
    let ts: i64 = hit.header("x-steward-timestamp").parse().unwrap();
    assert!((ts - now).abs() < 60, "timestamp {ts} vs now {now}");
    let body = hit.json();
    assert_eq!(body["kind"], "ticket.created");
    assert_eq!(body["ticket_id"], id);
    assert_eq!(body["payload"]["title"], "VPN drops");
    assert!(body["id"].is_i64() && body["at"].is_i64() && body["actor"].is_string());

    let d = deliveries(&s, &admin, webhook).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["status_code"], 200);
    assert!(d[0]["delivered_at"].is_i64());
    assert_eq!(d[0]["event_id"], body["id"]);
    assert_eq!(hit.header("x-steward-delivery"), d[0]["id"].to_string());

    // A comment is not a kind this webhook wants.
    post(
        &s,
        &format!("/api/v1/tickets/{id}/comments"),
        &ann,
        json!({"body": "still dropping"}),
    )
    .await;
    webhooks::deliver_due(&s.state, steward_server::clock::now())
        .await
        .unwrap();
    assert!(hook.hits.try_recv().is_err(), "unwanted delivery");
    assert_eq!(deliveries(&s, &admin, webhook).await.len(), 1);
}

#[tokio::test]
async fn failing_receiver_is_retried_after_the_backoff_in_order() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let mut hook = Receiver::start(&[500]).await;
    let (status, created) = post(&s, "/api/v1/webhooks", &admin, json!({"url": hook.url})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let webhook = created["id"].as_i64().unwrap();

    let now = steward_server::clock::now();
    let first = file_ticket(&s, &ann, "Screen flickers").await;
    webhooks::deliver_due(&s.state, now).await.unwrap();
    let failed = hook.next().await;
    assert_eq!(failed.json()["ticket_id"], first);
    let d = deliveries(&s, &admin, webhook).await;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["status_code"], 500);
    assert_eq!(d[0]["attempt"], 1);
    assert!(d[0]["delivered_at"].is_null());
    let retry_at = d[0]["next_attempt_at"].as_i64().unwrap();
    assert!(
        (now + 8..=now + 30).contains(&retry_at),
        "retry at {retry_at}, now {now}"
    );

    // A later event waits behind the failing one.
    let second = file_ticket(&s, &ann, "Mouse missing").await;
    assert_eq!(webhooks::deliver_due(&s.state, now + 1).await.unwrap(), 0);
    assert!(hook.hits.try_recv().is_err(), "delivered out of turn");
    assert_eq!(deliveries(&s, &admin, webhook).await.len(), 1);

    // After the backoff: the retry succeeds, then the next event goes out.
    assert_eq!(webhooks::deliver_due(&s.state, now + 60).await.unwrap(), 2);
    let retried = hook.next().await;
    assert_eq!(retried.json()["ticket_id"], first);
    assert_eq!(retried.json()["id"], failed.json()["id"]);
    assert_ne!(
        retried.header("x-steward-delivery"),
        failed.header("x-steward-delivery")
    );
    assert_eq!(hook.next().await.json()["ticket_id"], second);
    let d = deliveries(&s, &admin, webhook).await;
    let attempts: Vec<(i64, i64)> = d
        .iter()
        .map(|d| {
            (
                d["attempt"].as_i64().unwrap(),
                d["status_code"].as_i64().unwrap(),
            )
        })
        .collect();
    // Newest first: the second event, then the retry, then the failure.
    assert_eq!(attempts, [(1, 200), (2, 200), (1, 500)]);
    assert!(d[1]["next_attempt_at"].is_null() && d[1]["delivered_at"].is_i64());
}

#[tokio::test]
async fn webhooks_are_for_admins_and_only_http_urls() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let tech = s.token_for(Role::Technician).await;
    let employee = s.token_for(Role::Employee).await;
    let good = json!({"url": "https://hooks.example.test/steward"});
    for token in [&tech, &employee] {
        assert_eq!(
            post(&s, "/api/v1/webhooks", token, good.clone()).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            s.get_json("/api/v1/webhooks", token).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(
                &s,
                reqwest::Method::DELETE,
                "/api/v1/webhooks/1",
                token,
                json!({})
            )
            .await
            .0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            s.get_json("/api/v1/webhooks/1/deliveries", token).await.0,
            StatusCode::FORBIDDEN
        );
    }
    for url in [
        "ftp://hooks.example.test/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "hooks.example.test/steward",
        "http://",
        "",
    ] {
        let (status, body) = post(&s, "/api/v1/webhooks", &admin, json!({"url": url})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert_eq!(body["error"]["code"], "invalid_url", "{url}: {body}");
    }
    let (status, body) = post(
        &s,
        "/api/v1/webhooks",
        &admin,
        json!({"url": "https://x.example.test/", "kinds": ["ticket.exploded"]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_kinds");
    let (status, body) = post(
        &s,
        "/api/v1/webhooks",
        &admin,
        json!({"url": "https://x.example.test/", "secret": "short"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_secret");

    // A chosen secret is kept (and shown once); "*" means everything.
    let (status, created) = post(
        &s,
        "/api/v1/webhooks",
        &admin,
        json!({"url": "https://x.example.test/", "kinds": "*", "secret": "a shared secret, long enough"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["secret"], "a shared secret, long enough");
    assert_eq!(created["kinds"], "*");
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v1/webhooks/{id}");
    assert_eq!(
        send(&s, reqwest::Method::DELETE, &path, &admin, json!({}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(&s, reqwest::Method::DELETE, &path, &admin, json!({}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get_json(&format!("{path}/deliveries"), &admin).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn sla_breach_is_reported_once_and_escalated() {
    const ESCALATION: i64 = 4242;
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.service_desk.business_hours = Vec::new();
        c.service_desk.escalate_to_group = ESCALATION as u64;
    })
    .await;
    s.with_db(|db| {
        db.write_blocking(|c| {
            c.execute(
                "INSERT INTO groups (id, name, created_at) VALUES (?1, 'Escalations', 0)",
                [ESCALATION],
            )?;
            Ok(())
        })
        .unwrap()
    })
    .await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let tech = s.token_for(Role::Technician).await;
    let now = steward_server::clock::now();
    let id = file_ticket(&s, &ann, "Laptop will not boot").await;
    let (_, t) = s.get_json(&format!("/api/v1/tickets/{id}"), &tech).await;
    let response_due = t["sla"]["first_response_due"].as_i64().unwrap();
    let resolution_due = t["sla"]["resolution_due"].as_i64().unwrap();
    assert!(response_due < resolution_due);

    let sweep = |at: i64| steward_server::events::sla::sweep_breaches(&s.state, at);
    assert_eq!(sweep(now).await.unwrap(), 0);
    assert_eq!(sweep(response_due + 1).await.unwrap(), 1);
    assert_eq!(sweep(response_due + 2).await.unwrap(), 0);
    assert_eq!(sweep(resolution_due + 3600).await.unwrap(), 0);

    let (_, feed) = s.get_json("/api/v1/events?kind=sla.breached", &tech).await;
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{feed}");
    let e = &items[0];
    assert_eq!(e["ticket_id"], id);
    assert_eq!(e["actor"], "system:sla");
    assert_eq!(e["payload"]["targets"], json!(["first_response"]));
    assert_eq!(e["payload"]["breached_at"], response_due);
    assert_eq!(e["payload"]["escalated_to_group"], ESCALATION);
    let (_, t) = s.get_json(&format!("/api/v1/tickets/{id}"), &tech).await;
    assert_eq!(t["group_id"], ESCALATION);
    assert_eq!(t["breached_at"], response_due);
    // The move shows up as an update too.
    let (_, all) = s.get_json("/api/v1/events", &tech).await;
    assert_eq!(kinds(&all)[1..], ["sla.breached", "ticket.updated"]);
    assert_eq!(all["items"][2]["payload"]["fields"], json!(["group_id"]));
}
