//! The matrix's world: one server, its callers (tokens, web sessions, agents) and the
//! things they act on, created through the API once; plus throwaway objects for the cells
//! that delete or change state.

use crate::browser::{session_cookie, submit_login};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use steward_server::domain::roles::Role;

/// In every name the employee's own things carry; nobody else may ever read it.
pub const MARKER: &str = "ann-private-7f3a";

pub(super) const EMPLOYEE: &str = "ann.authz@example.test";
pub(super) const OTHER: &str = "bob.authz@example.test";
pub(super) const TECHNICIAN: &str = "tess.authz@example.test";

/// What a path placeholder (or body field) stands for. `Fresh*` ones are made anew for
/// every cell, for requests that delete or move them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fx {
    /// The employee's ticket, its file, its saved view.
    Ticket,
    Attachment,
    View,
    FreshView,
    /// An asset (the agent's machine is [`Fx::AgentAsset`]).
    Asset,
    AgentAsset,
    /// An asset checked out to the employee and left waiting for their answer.
    Checkout,
    /// A deployable asset nobody holds.
    FreshAsset,
    /// An asset checked out to the employee, waiting for their answer.
    FreshCheckout,
    Software,
    AssetType,
    FreshState,
    Location,
    FreshLocation,
    License,
    FreshLicense,
    FreshSeat,
    Plan,
    FreshPlan,
    WorkOrder,
    FreshWorkOrder,
    Audit,
    FreshAudit,
    Webhook,
    FreshWebhook,
    Group,
    FreshCanned,
    /// The employee (as a user id).
    User,
    /// The live agent's id, and one to revoke.
    AgentId,
    FreshAgent,
    EnrollmentToken,
    /// A signed agent release, and the digest of its stored binary.
    AgentRelease,
    ReleaseSha,
    /// An agent build the install one-liner serves: `linux-x86_64`, `steward-agent`.
    ReleasePlatform,
    ReleaseFile,
    /// An asset's QR label token and a problem report's follow token.
    PublicToken,
    FollowToken,
    /// Anything for a catch-all.
    Rest,
}

/// A signed-in browser.
#[derive(Clone)]
pub struct Session {
    pub(super) cookie: String,
    pub(super) csrf: String,
}

pub struct Fixtures {
    pub(super) ids: HashMap<Fx, String>,
    pub(super) tokens: HashMap<&'static str, String>,
    pub(super) sessions: HashMap<&'static str, Session>,
    pub(super) agent: String,
    pub(super) revoked: String,
}

/// The server: legacy inventory on (with basic credentials none of the callers has).
pub async fn server() -> TestServer {
    TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.legacy_inventory.enabled = true;
        c.legacy_inventory.username = "legacy".into();
        c.legacy_inventory.password = Some("legacy password".into());
    })
    .await
}

/// POSTs `body` and insists it worked; returns the reply.
async fn made(s: &TestServer, path: &str, token: &str, body: Value) -> Value {
    let (status, v) = post(s, path, token, body).await;
    assert!(status.is_success(), "fixture {path}: {status} {v}");
    v
}

fn id(v: &Value) -> String {
    v["id"].as_i64().unwrap().to_string()
}

/// A name no other cell uses.
/// A release stored as `steward-server release add` would (the signature's shape is all
/// the server checks; agents check what it signs).
async fn agent_release(s: &TestServer) -> (String, String) {
    let data_dir = s.state.config.server.data_dir.clone();
    let file = s.dir.path().join("authz-agent-build");
    std::fs::write(&file, b"#!/bin/sh\nexit 0\n").unwrap();
    s.with_db(move |db| {
        use base64::Engine;
        let sig = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        let meta = steward_server::signed_releases::ReleaseMeta {
            version: "99.0.0".into(),
            os: "linux".into(),
            arch: "x86_64".into(),
        };
        let id =
            steward_server::signed_releases::add(db, &data_dir, &file, &sig, &meta, 0).unwrap();
        let (sha, _) = steward_server::signed_releases::digest_file(&file).unwrap();
        (id.to_string(), hex::encode(sha))
    })
    .await
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", steward_server::crypto::random_hex(4))
}

pub(super) async fn sign_in(s: &TestServer, email: &str, password: &str) -> Session {
    let resp = submit_login(s, email, password, None).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "sign-in of {email}");
    let cookie = session_cookie(&resp);
    let me: Value = crate::browser::get_page(s, &cookie, "/api/v1/me")
        .await
        .json()
        .await
        .unwrap();
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    Session { cookie, csrf }
}

impl Fixtures {
    pub async fn create(s: &TestServer) -> Fixtures {
        let (ann_id, ann) = person(s, Role::Employee, EMPLOYEE).await;
        let (_, bob) = person(s, Role::Employee, OTHER).await;
        let (_, tess) = person(s, Role::Technician, TECHNICIAN).await;
        let admin = s.admin_token().await;
        let mut sessions = HashMap::new();
        for (who, email, password) in [
            ("employee", EMPLOYEE, USER_PASSWORD),
            ("other", OTHER, USER_PASSWORD),
            ("technician", TECHNICIAN, USER_PASSWORD),
            ("admin", ADMIN_EMAIL, ADMIN_PASSWORD),
        ] {
            sessions.insert(who, sign_in(s, email, password).await);
        }

        let (client, creds) = s.enrolled_agent().await;
        let reply = client
            .checkin(
                &creds,
                &report(
                    "authz-pc",
                    "aaaaaaaa-0000-4000-8000-000000000001",
                    &[("curl", "8.0")],
                ),
            )
            .await
            .unwrap();
        // The revoked agent had checked in, so the server had trusted its credential.
        let (gone_client, gone) = s.enrolled_agent().await;
        gone_client
            .checkin(
                &gone,
                &report("authz-gone", "aaaaaaaa-0000-4000-8000-000000000002", &[]),
            )
            .await
            .unwrap();
        made(
            s,
            &format!("/api/v1/agents/{}/revoke", gone.agent_id),
            &admin,
            json!({}),
        )
        .await;

        let mut ids = HashMap::new();
        ids.insert(Fx::User, ann_id.to_string());
        ids.insert(Fx::AgentId, creds.agent_id.clone());
        ids.insert(Fx::AgentAsset, reply.asset_id.to_string());
        ids.insert(Fx::Software, "curl".into());
        ids.insert(Fx::AssetType, "monitor".into());
        ids.insert(Fx::Rest, "inventory".into());
        ids.insert(Fx::EnrollmentToken, s.enrollment_token(100).await);
        let (release, sha) = agent_release(s).await;
        ids.insert(Fx::AgentRelease, release);
        ids.insert(Fx::ReleaseSha, sha);
        // Agent builds for the install scripts to offer (their bytes do not matter here).
        for (platform, file) in [
            ("linux-x86_64", "steward-agent"),
            ("windows-x86_64", "steward-agent.exe"),
        ] {
            let dir = s
                .state
                .config
                .server
                .data_dir
                .join("releases")
                .join(platform);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(file), b"not really an agent").unwrap();
        }
        ids.insert(Fx::ReleasePlatform, "linux-x86_64".into());
        ids.insert(Fx::ReleaseFile, "steward-agent".into());

        let ticket = file_ticket(s, &ann, &format!("Printer jams {MARKER}")).await;
        ids.insert(Fx::Ticket, ticket.to_string());
        let (status, file) = crate::attachments::upload(
            s,
            &ann,
            ticket,
            &format!("filename={MARKER}.txt"),
            "text/plain",
            MARKER.as_bytes().to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{file}");
        ids.insert(Fx::Attachment, id(&file));
        let view = made(
            s,
            "/api/v1/views",
            &ann,
            json!({"name": format!("view {MARKER}"), "query": "status=all"}),
        )
        .await;
        ids.insert(Fx::View, id(&view));

        let asset = made(
            s,
            "/api/v1/assets",
            &admin,
            json!({"type": "monitor", "name": "Shared monitor", "asset_tag": "AUTHZ-1"}),
        )
        .await;
        let asset_id = id(&asset);
        let public = asset["public_path"].as_str().unwrap().to_owned();
        let token = public.rsplit('/').next().unwrap().to_owned();
        let resp = s
            .http
            .post(s.url(&format!("{public}/report")))
            .form(&[("summary", "The screen is dark")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let follow = resp.headers()["location"].to_str().unwrap();
        let follow = follow
            .split("/t/")
            .nth(1)
            .unwrap()
            .split('?')
            .next()
            .unwrap();
        ids.insert(Fx::FollowToken, follow.to_owned());
        ids.insert(Fx::PublicToken, token);

        let location = made(s, "/api/v1/locations", &admin, json!({"name": "HQ"})).await;
        ids.insert(Fx::Location, id(&location));
        let license = made(
            s,
            "/api/v1/licenses",
            &admin,
            json!({"name": "Curl support", "titles": ["curl"], "seats": 1000}),
        )
        .await;
        ids.insert(Fx::License, id(&license));
        ids.insert(Fx::Asset, asset_id);
        let mut fx = Fixtures {
            ids,
            tokens: HashMap::from([
                ("employee", ann),
                ("other", bob),
                ("technician", tess),
                ("admin", admin),
            ]),
            sessions,
            agent: agent_auth(&creds),
            revoked: agent_auth(&gone),
        };
        for shared in [
            Fx::Checkout,
            Fx::Plan,
            Fx::WorkOrder,
            Fx::Audit,
            Fx::Webhook,
            Fx::Group,
        ] {
            let made = fx.fresh(s, shared).await;
            fx.ids.insert(shared, made);
        }
        fx
    }

    pub(super) fn token(&self, who: &str) -> &str {
        &self.tokens[who]
    }

    pub fn id(&self, fx: Fx) -> &str {
        &self.ids[&fx]
    }

    /// The id `fx` stands for in one cell: a shared fixture, or a new throwaway object.
    pub(super) async fn resolve(&self, s: &TestServer, fx: Fx) -> String {
        match self.ids.get(&fx) {
            Some(v) => v.clone(),
            None => self.fresh(s, fx).await,
        }
    }

    async fn fresh(&self, s: &TestServer, fx: Fx) -> String {
        let admin = self.token("admin");
        let ann = self.token("employee");
        let asset = || self.id(Fx::Asset);
        match fx {
            Fx::FreshView => id(&made(
                s,
                "/api/v1/views",
                ann,
                json!({"name": unique(&format!("view {MARKER}")), "query": "status=all"}),
            )
            .await),
            Fx::FreshAsset | Fx::FreshCheckout | Fx::Checkout => {
                let a = id(&made(
                    s,
                    "/api/v1/assets",
                    admin,
                    json!({"type": "monitor", "name": unique(&format!("laptop {MARKER}"))}),
                )
                .await);
                if fx != Fx::FreshAsset {
                    made(
                        s,
                        &format!("/api/v1/assets/{a}/checkout"),
                        admin,
                        json!({"user_id": self.id(Fx::User).parse::<i64>().unwrap(), "note": MARKER}),
                    )
                    .await;
                }
                a
            }
            Fx::FreshState => id(&made(
                s,
                "/api/v1/asset-states",
                admin,
                json!({"kind": "archived", "name": unique("Scrapped")}),
            )
            .await),
            Fx::FreshLocation => id(&made(
                s,
                "/api/v1/locations",
                admin,
                json!({"name": unique("Annex")}),
            )
            .await),
            Fx::FreshLicense => id(&made(
                s,
                "/api/v1/licenses",
                admin,
                json!({"name": unique("Spare"), "titles": ["curl"], "seats": 1}),
            )
            .await),
            Fx::FreshSeat => {
                let a: i64 = Box::pin(self.fresh(s, Fx::FreshAsset)).await.parse().unwrap();
                let license = self.id(Fx::License);
                let seat = made(
                    s,
                    &format!("/api/v1/licenses/{license}/seats"),
                    admin,
                    json!({"asset_id": a}),
                )
                .await;
                id(&seat)
            }
            Fx::Plan | Fx::FreshPlan => id(&made(
                s,
                "/api/v1/maintenance/plans",
                admin,
                json!({
                    "title": unique("Dust the monitor"),
                    "trigger": {"calendar": {"kind": "interval", "every_days": 90,
                        "from": "floating", "at": "10:00", "starts_on": "2031-01-06"}},
                    "timezone": "UTC",
                    "targets": [{"kind": "asset", "id": asset().parse::<i64>().unwrap()}],
                }),
            )
            .await),
            Fx::WorkOrder | Fx::FreshWorkOrder => {
                let plan = Box::pin(self.fresh(s, Fx::FreshPlan)).await;
                let wo = made(
                    s,
                    &format!("/api/v1/maintenance/plans/{plan}/work-orders"),
                    admin,
                    json!({"asset_id": asset().parse::<i64>().unwrap()}),
                )
                .await;
                wo["id"]
                    .as_i64()
                    .or_else(|| wo["work_order"]["id"].as_i64())
                    .unwrap()
                    .to_string()
            }
            Fx::Audit | Fx::FreshAudit => {
                let place = Box::pin(self.fresh(s, Fx::FreshLocation)).await;
                id(&made(
                    s,
                    "/api/v1/audits",
                    admin,
                    json!({"location_id": place.parse::<i64>().unwrap()}),
                )
                .await)
            }
            Fx::Webhook | Fx::FreshWebhook => id(&made(
                s,
                "/api/v1/webhooks",
                admin,
                json!({"url": "https://hooks.example.test/steward", "kinds": ["maintenance.missed"]}),
            )
            .await),
            Fx::Group => id(&made(
                s,
                "/api/v1/groups",
                admin,
                json!({"name": unique("Desk")}),
            )
            .await),
            // Made by the technician: its author (or an admin) may delete it.
            Fx::FreshCanned => id(&made(
                s,
                "/api/v1/canned-responses",
                self.token("technician"),
                json!({"title": unique("Reboot"), "body": "Please reboot."}),
            )
            .await),
            Fx::FreshAgent => s.enrolled_agent().await.1.agent_id,
            other => panic!("{other:?} is not made per cell"),
        }
    }
}
