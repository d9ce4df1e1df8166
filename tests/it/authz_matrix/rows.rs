//! The table: one row per route and method, one expected outcome per caller, in the
//! order anonymous, employee, other employee, technician, admin, agent, revoked agent.
//! The employee owns the ticket, its file, the saved view and the check-outs; the other
//! employee must not see them (404, as for anything that is not theirs).

use super::fixtures::{Fixtures, Fx::*, unique};
use super::{Outcome, Row, api, web};
use serde_json::{Value, json};

const O: Outcome = Outcome::Ok;
const L: Outcome = Outcome::Login;
const U: Outcome = Outcome::Unauth;
const F: Outcome = Outcome::Forbidden;
const H: Outcome = Outcome::Hidden;
const P: Outcome = Outcome::Passed;

/// Anyone at all.
const PUBLIC: [Outcome; 7] = [O, O, O, O, O, O, O];
/// Any person signed in (what they see depends on who they are).
const PEOPLE: [Outcome; 7] = [U, O, O, O, O, U, U];
const STAFF: [Outcome; 7] = [U, F, F, O, O, U, U];
const ADMIN: [Outcome; 7] = [U, F, F, F, O, U, U];
/// The employee's own thing: the other employee does not find it, staff do.
const OWN: [Outcome; 7] = [U, O, H, O, O, U, U];
/// Only for the employee's eyes: even staff do not find it.
const PERSONAL: [Outcome; 7] = [U, O, H, H, H, U, U];
const AGENT: [Outcome; 7] = [U, U, U, U, U, O, U];
/// Legacy inventory needs its own basic credentials, which no caller has.
const LEGACY: [Outcome; 7] = [U, U, U, U, U, U, U];
const PEOPLE_WEB: [Outcome; 7] = [L, O, O, O, O, U, U];
const STAFF_WEB: [Outcome; 7] = [L, F, F, O, O, U, U];
const ADMIN_WEB: [Outcome; 7] = [L, F, F, F, O, U, U];
const OWN_WEB: [Outcome; 7] = [L, O, H, O, O, U, U];

fn int(v: &str) -> i64 {
    v.parse().unwrap()
}

fn empty(_: &Fixtures, _: &[String]) -> Value {
    json!({})
}

fn no_fields(_: &Fixtures, _: &[String]) -> Vec<(&'static str, String)> {
    Vec::new()
}

const XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><REQUEST><DEVICEID>authz-1</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>";
const CSV: &str = "name,type\nImported screen,monitor\n";

pub fn rows() -> Vec<Row> {
    let mut rows = api_rows();
    rows.extend(web_rows());
    rows
}

fn api_rows() -> Vec<Row> {
    vec![
        api("GET", "/api/v1/openapi.json", PUBLIC),
        api("GET", "/healthz", PUBLIC),
        api("GET", "/metrics", PUBLIC),
        // Enrollment is by its token, whoever sends it.
        api("POST", "/api/v1/agent/enroll", PUBLIC)
            .ids(&[EnrollmentToken])
            .json(|_, ids| json!({"token": ids[0], "hostname": unique("enrolled")})),
        api("POST", "/api/v1/agent/checkin", AGENT).json(|_, _| {
            serde_json::to_value(crate::helpers::report(
                "authz-pc",
                "aaaaaaaa-0000-4000-8000-000000000001",
                &[("curl", "8.0")],
            ))
            .unwrap()
        }),
        // An agent revokes itself: a fresh one each time, so the matrix's own lives on.
        api("POST", "/api/v1/agent/deregister", AGENT)
            .fresh_agent()
            .json(empty),
        // The install one-liner: the enrollment token is the credential.
        api("GET", "/install/agent.sh", PUBLIC)
            .ids(&[EnrollmentToken])
            .query("token={0}"),
        api("GET", "/install/agent.ps1", PUBLIC)
            .ids(&[EnrollmentToken])
            .query("token={0}"),
        api("GET", "/install/files/{platform}/{file}", PUBLIC).ids(&[ReleasePlatform, ReleaseFile]),
        api("POST", "/api/v1/agent/tickets", AGENT)
            .json(|_, _| json!({"title": "Disk almost full", "body": "92% used"})),
        api("POST", "/api/v1/enrollment-tokens", ADMIN).json(|_, _| json!({"uses": 1})),
        api("GET", "/api/v1/agents", STAFF),
        api("GET", "/api/v1/agent-releases", ADMIN),
        api("POST", "/api/v1/agent-releases", ADMIN).json(|fx, _| {
            json!({
                "version": unique("98.0.0"), "os": "linux", "arch": "x86_64",
                "sha256": fx.id(ReleaseSha),
                "signature": "A".repeat(86) + "==",
            })
        }),
        api("POST", "/api/v1/agent-releases/binaries", ADMIN)
            .raw("application/octet-stream", "an agent build"),
        api("PATCH", "/api/v1/agent-releases/{id}", ADMIN)
            .ids(&[AgentRelease])
            .json(|_, _| json!({"percentage": 0})),
        api("GET", "/api/v1/agent/releases/{id}/binary", AGENT).ids(&[AgentRelease]),
        api("POST", "/api/v1/agents/{id}/revoke", ADMIN).ids(&[FreshAgent]),
        api("POST", "/api/v1/agents/{id}/commands", STAFF)
            .ids(&[AgentId])
            .json(|_, _| json!({"kind": "collect_now"})),
        api("GET", "/api/v1/alerts", STAFF),
        api("GET", "/api/v1/assets", STAFF),
        api("POST", "/api/v1/assets", STAFF)
            .json(|_, _| json!({"type": "monitor", "name": "Another monitor"})),
        api("GET", "/api/v1/assets/{id}", STAFF).ids(&[Asset]),
        api("PATCH", "/api/v1/assets/{id}", STAFF)
            .ids(&[Asset])
            .json(empty),
        api("GET", "/api/v1/assets/{id}/software", STAFF).ids(&[AgentAsset]),
        api("GET", "/api/v1/assets/{id}/history", STAFF).ids(&[Asset]),
        api("GET", "/api/v1/assets.csv", STAFF),
        api("GET", "/api/v1/tickets.csv", PEOPLE)
            .query("status=all")
            .shows_own(),
        api("POST", "/api/v1/imports/assets", STAFF).raw("text/csv", CSV),
        api("GET", "/api/v1/software", STAFF),
        api("GET", "/api/v1/software/{name}/versions", STAFF).ids(&[Software]),
        api("GET", "/api/v1/software/{name}/assets", STAFF).ids(&[Software]),
        api("GET", "/api/v1/software/{name}/history", STAFF).ids(&[Software]),
        api("GET", "/api/v1/licenses", STAFF),
        api("POST", "/api/v1/licenses", ADMIN)
            .json(|_, _| json!({"name": unique("Editor"), "titles": ["vim"], "seats": 3})),
        api("GET", "/api/v1/licenses/{id}", STAFF).ids(&[License]),
        api("PATCH", "/api/v1/licenses/{id}", ADMIN)
            .ids(&[License])
            .json(empty),
        api("DELETE", "/api/v1/licenses/{id}", ADMIN).ids(&[FreshLicense]),
        api("GET", "/api/v1/licenses/{id}/seats", STAFF).ids(&[License]),
        api("POST", "/api/v1/licenses/{id}/seats", ADMIN)
            .ids(&[License, FreshAsset])
            .json(|_, ids| json!({"asset_id": int(&ids[1])})),
        api("DELETE", "/api/v1/licenses/{id}/seats/{seat_id}", ADMIN).ids(&[License, FreshSeat]),
        api("GET", "/api/v1/asset-types", STAFF),
        api("POST", "/api/v1/asset-types", ADMIN).json(|_, _| {
            let key = unique("kind").replace('-', "_");
            json!({"key": key, "name": key, "category": "it"})
        }),
        api("PATCH", "/api/v1/asset-types/{key}", ADMIN)
            .ids(&[AssetType])
            .json(empty),
        api("GET", "/api/v1/asset-states", STAFF),
        api("POST", "/api/v1/asset-states", ADMIN)
            .json(|_, _| json!({"kind": "archived", "name": unique("Lost")})),
        api("PATCH", "/api/v1/asset-states/{id}", ADMIN)
            .ids(&[FreshState])
            .json(empty),
        api("DELETE", "/api/v1/asset-states/{id}", ADMIN).ids(&[FreshState]),
        api("GET", "/api/v1/locations", STAFF),
        api("POST", "/api/v1/locations", ADMIN).json(|_, _| json!({"name": unique("Depot")})),
        api("GET", "/api/v1/locations/{id}", STAFF).ids(&[Location]),
        api("PATCH", "/api/v1/locations/{id}", ADMIN)
            .ids(&[Location])
            .json(empty),
        api("DELETE", "/api/v1/locations/{id}", ADMIN).ids(&[FreshLocation]),
        api("GET", "/api/v1/locations/{id}/assets", STAFF).ids(&[Location]),
        api("GET", "/api/v1/maintenance/plans", STAFF),
        // A plan without a trigger: checked after the role.
        api("POST", "/api/v1/maintenance/plans", [U, F, F, P, P, U, U])
            .json(|_, _| json!({"title": "Half a plan", "trigger": {}})),
        api("GET", "/api/v1/maintenance/plans/{id}", STAFF).ids(&[Plan]),
        api("PATCH", "/api/v1/maintenance/plans/{id}", STAFF)
            .ids(&[Plan])
            .json(empty),
        api("DELETE", "/api/v1/maintenance/plans/{id}", ADMIN).ids(&[FreshPlan]),
        api("GET", "/api/v1/maintenance/plans/{id}/preview", STAFF).ids(&[Plan]),
        api("GET", "/api/v1/maintenance/plans/{id}/assets", STAFF).ids(&[Plan]),
        api("POST", "/api/v1/maintenance/plans/{id}/work-orders", STAFF)
            .ids(&[FreshPlan, Asset])
            .json(|_, ids| json!({"asset_id": int(&ids[1])})),
        api("POST", "/api/v1/maintenance/evaluate", ADMIN),
        api("GET", "/api/v1/maintenance/calendar", STAFF),
        api("GET", "/api/v1/maintenance/compliance", STAFF),
        api("GET", "/api/v1/maintenance/compliance/evidence.csv", STAFF),
        api("GET", "/api/v1/assets/{id}/meters", STAFF).ids(&[Asset]),
        api("POST", "/api/v1/assets/{id}/meters", STAFF)
            .ids(&[FreshAsset])
            .json(|_, _| json!({"meter": "hours", "value": 10.0})),
        api("GET", "/api/v1/work-orders", STAFF),
        api("GET", "/api/v1/work-orders/{id}", STAFF).ids(&[WorkOrder]),
        api("PATCH", "/api/v1/work-orders/{id}", STAFF)
            .ids(&[WorkOrder])
            .json(empty),
        api("POST", "/api/v1/work-orders/{id}/complete", STAFF).ids(&[FreshWorkOrder]),
        api("POST", "/api/v1/work-orders/{id}/cancel", STAFF)
            .ids(&[FreshWorkOrder])
            .json(|_, _| json!({"reason": "not needed"})),
        api("POST", "/api/v1/assets/{id}/checkout", STAFF)
            .ids(&[FreshAsset, User])
            .json(|_, ids| json!({"user_id": int(&ids[1])})),
        api("POST", "/api/v1/assets/{id}/checkin", STAFF)
            .ids(&[FreshCheckout])
            .json(empty),
        api("POST", "/api/v1/assets/{id}/accept", PERSONAL).ids(&[FreshCheckout]),
        api("POST", "/api/v1/assets/{id}/decline", PERSONAL).ids(&[FreshCheckout]),
        api("GET", "/api/v1/assets/{id}/checkouts", STAFF).ids(&[Asset]),
        api("GET", "/api/v1/me/checkouts", PEOPLE).shows_own(),
        api("POST", "/api/v1/audits", STAFF)
            .ids(&[FreshLocation])
            .json(|_, ids| json!({"location_id": int(&ids[0])})),
        api("GET", "/api/v1/audits/{id}", STAFF).ids(&[Audit]),
        api("POST", "/api/v1/audits/{id}/scans", STAFF)
            .ids(&[Audit])
            .json(|_, _| json!({"code": "AUTHZ-1"})),
        api("POST", "/api/v1/audits/{id}/finish", STAFF)
            .ids(&[FreshAudit])
            .json(empty),
        api("GET", "/api/v1/audit-log", ADMIN),
        api("GET", "/api/v1/audit-log.csv", ADMIN),
        api("GET", "/api/v1/users", STAFF),
        api("POST", "/api/v1/users", ADMIN).json(|_, _| {
            json!({"email": format!("{}@example.test", unique("new")), "name": "New person",
                   "role": "employee"})
        }),
        api("GET", "/api/v1/users/{id}", STAFF).ids(&[User]),
        api("PATCH", "/api/v1/users/{id}", ADMIN)
            .ids(&[User])
            .json(empty),
        api("GET", "/api/v1/assets/labels.svg", STAFF)
            .ids(&[Asset])
            .query("ids={0}"),
        api("GET", "/api/v1/tickets", PEOPLE)
            .query("status=all")
            .shows_own(),
        api("POST", "/api/v1/tickets", PEOPLE).json(|_, _| json!({"title": "Mouse broken"})),
        api("GET", "/api/v1/tickets/counts", STAFF),
        api("GET", "/api/v1/tickets/{id}", OWN)
            .ids(&[Ticket])
            .shows_own(),
        // Only staff change a ticket's fields, even the requester's own.
        api("PATCH", "/api/v1/tickets/{id}", STAFF)
            .ids(&[Ticket])
            .json(empty),
        api("GET", "/api/v1/tickets/{id}/history", OWN).ids(&[Ticket]),
        api("POST", "/api/v1/tickets/{id}/comments", OWN)
            .ids(&[Ticket])
            .json(|_, _| json!({"body": "Any news?"})),
        // Only the requester answers a resolution (this ticket is not resolved yet).
        api("POST", "/api/v1/tickets/{id}/resolution", [U, P, H, F, F, U, U])
            .ids(&[Ticket])
            .json(|_, _| json!({"accept": true})),
        api("POST", "/api/v1/tickets/bulk", STAFF)
            .ids(&[Ticket])
            .json(|_, ids| json!({"ids": [int(&ids[0])]})),
        api("GET", "/api/v1/tickets/{id}/attachments", OWN)
            .ids(&[Ticket])
            .shows_own(),
        api("POST", "/api/v1/tickets/{id}/attachments", OWN)
            .ids(&[Ticket])
            .query("filename=more.txt")
            .raw("text/plain", "more details"),
        api("GET", "/api/v1/attachments/{id}", OWN)
            .ids(&[Attachment])
            .shows_own(),
        api("GET", "/api/v1/groups", STAFF),
        api("POST", "/api/v1/groups", ADMIN).json(|_, _| json!({"name": unique("Field")})),
        api("GET", "/api/v1/groups/{id}", STAFF).ids(&[Group]),
        api("PATCH", "/api/v1/groups/{id}", ADMIN)
            .ids(&[Group])
            .json(empty),
        api("PUT", "/api/v1/groups/{id}/members", ADMIN)
            .ids(&[Group])
            .json(|_, _| json!({"user_ids": []})),
        api("GET", "/api/v1/canned-responses", STAFF),
        api("POST", "/api/v1/canned-responses", STAFF)
            .json(|_, _| json!({"title": unique("Thanks"), "body": "Thanks!"})),
        // Its author (this one is the technician's) or an admin.
        api("DELETE", "/api/v1/canned-responses/{id}", STAFF).ids(&[FreshCanned]),
        // Saved views are personal: everyone lists and makes their own.
        api("GET", "/api/v1/views", PEOPLE).shows_own(),
        api("POST", "/api/v1/views", PEOPLE)
            .json(|_, _| json!({"name": unique("Mine"), "query": "status=all"})),
        api("GET", "/api/v1/views/{id}", PERSONAL)
            .ids(&[View])
            .shows_own(),
        api("DELETE", "/api/v1/views/{id}", PERSONAL).ids(&[FreshView]),
        api("GET", "/api/v1/views/{id}/tickets", PERSONAL)
            .ids(&[View])
            .shows_own(),
        api("GET", "/api/v1/events", STAFF),
        api("GET", "/api/v1/webhooks", ADMIN),
        api("POST", "/api/v1/webhooks", ADMIN)
            .json(|_, _| json!({"url": "https://hooks.example.test/more", "kinds": ["maintenance.missed"]})),
        api("DELETE", "/api/v1/webhooks/{id}", ADMIN).ids(&[FreshWebhook]),
        api("GET", "/api/v1/webhooks/{id}/deliveries", ADMIN).ids(&[Webhook]),
        api("GET", "/api/v1/me", PEOPLE),
        api("POST", "/ocsinventory", LEGACY).raw("application/xml", XML),
        api("POST", "/ocsinventory/", LEGACY).raw("application/xml", XML),
        api("POST", "/plugins/fusioninventory/", LEGACY).raw("application/xml", XML),
        api("POST", "/plugins/fusioninventory/{*rest}", LEGACY)
            .ids(&[Rest])
            .raw("application/xml", XML),
        api("POST", "/", LEGACY).raw("application/xml", XML),
        api("POST", "/front/inventory.php", LEGACY).raw("application/xml", XML),
        api("POST", "/marketplace/glpiinventory/", LEGACY).raw("application/xml", XML),
        api("POST", "/marketplace/glpiinventory/{*rest}", LEGACY)
            .ids(&[Rest])
            .raw("application/xml", XML),
    ]
}

fn web_rows() -> Vec<Row> {
    vec![
        // Home sends everyone signed in to the tickets.
        web("GET", "/", PEOPLE_WEB),
        web("GET", "/static/style.css", PUBLIC),
        web("GET", "/static/app.js", PUBLIC),
        web("GET", "/login", PUBLIC),
        // Without the login form's own cookie the form is refused, whoever sends it.
        web("POST", "/login", [F, F, F, F, F, F, F]).form(|_, _| {
            vec![
                ("csrf", "forged".into()),
                ("email", "ann.authz@example.test".into()),
                ("password", "wrong password!".into()),
            ]
        }),
        // Sign-out (of a fresh session) sends everyone to the login page.
        web("POST", "/logout", [L, L, L, L, L, L, L])
            .fresh_session()
            .form(no_fields),
        web("GET", "/assets", STAFF_WEB),
        web("GET", "/assets/{id}", STAFF_WEB).ids(&[Asset]),
        web("POST", "/assets/bulk", STAFF_WEB).form(|fx, _| {
            vec![
                ("id", fx.id(Asset).to_owned()),
                ("action", format!("location:{}", fx.id(Location))),
            ]
        }),
        web("GET", "/alerts", STAFF_WEB),
        web("GET", "/tickets/new", PEOPLE_WEB),
        web("POST", "/tickets/new", PEOPLE_WEB).form(|_, _| vec![("title", "Chair broken".into())]),
        web("GET", "/tickets/{id}", OWN_WEB)
            .ids(&[Ticket])
            .shows_own(),
        web("POST", "/tickets/{id}/reply", OWN_WEB)
            .ids(&[Ticket])
            .form(|_, _| vec![("body", "Still broken".into())]),
        web("POST", "/tickets/{id}/update", STAFF_WEB)
            .ids(&[Ticket])
            .form(no_fields),
        web("POST", "/tickets/{id}/resolution", [L, P, H, F, F, U, U])
            .ids(&[Ticket])
            .form(|_, _| vec![("accept", "true".into())]),
        web("POST", "/tickets/{id}/attachments", OWN_WEB)
            .ids(&[Ticket])
            .multipart(&[], ("note.txt", "text/plain", "a note")),
        web("GET", "/tickets", PEOPLE_WEB)
            .query("status=all")
            .shows_own(),
        web("POST", "/tickets/bulk", STAFF_WEB).form(|fx, _| {
            vec![
                ("id", fx.id(Ticket).to_owned()),
                ("action", "assign_me".into()),
            ]
        }),
        web("POST", "/tickets/views", PEOPLE_WEB)
            .form(|_, _| vec![("name", unique("Open")), ("query", "status=open".into())]),
        web("POST", "/tickets/views/{id}/delete", [L, O, H, H, H, U, U])
            .ids(&[FreshView])
            .form(no_fields),
        web("GET", "/admin/enrollment", ADMIN_WEB),
        web("POST", "/admin/enrollment", ADMIN_WEB)
            .form(|_, _| vec![("uses", "1".into()), ("expires", "1h".into())]),
        web("GET", "/admin/updates", ADMIN_WEB),
        web("POST", "/admin/updates/{id}", ADMIN_WEB)
            .ids(&[AgentRelease])
            .form(|_, _| vec![("percentage", "0".into())]),
        web("GET", "/admin/groups", ADMIN_WEB),
        web("POST", "/admin/groups", ADMIN_WEB).form(|_, _| vec![("name", unique("Desk"))]),
        web("POST", "/admin/groups/{id}", ADMIN_WEB)
            .ids(&[Group])
            .form(|_, _| vec![("name", unique("Desk"))]),
        web("GET", "/admin/audit", ADMIN_WEB),
        // The QR label's page and problem report: anyone with the label.
        web("GET", "/p/{token}", PUBLIC).ids(&[PublicToken]),
        web("POST", "/p/{token}/report", [P, P, P, P, P, P, P])
            .ids(&[PublicToken])
            .form(|_, _| vec![("summary", String::new())]),
        web("GET", "/p/{token}/t/{follow}", PUBLIC).ids(&[PublicToken, FollowToken]),
        web("GET", "/locations", STAFF_WEB),
        web("GET", "/locations/{id}", STAFF_WEB).ids(&[Location]),
        web("GET", "/me/devices", PEOPLE_WEB).shows_own(),
        web("POST", "/me/devices/{id}/answer", [L, O, H, H, H, U, U])
            .ids(&[FreshCheckout])
            .form(|_, _| vec![("answer", "accept".into())]),
        web("GET", "/assets/new", STAFF_WEB),
        web("POST", "/assets/new", STAFF_WEB)
            .form(|_, _| vec![("type", "monitor".into()), ("name", "Form monitor".into())]),
        web("GET", "/assets/import", STAFF_WEB),
        web("POST", "/assets/import", STAFF_WEB)
            .multipart(&[("dry_run", "true")], ("assets.csv", "text/csv", CSV)),
        web("GET", "/software", STAFF_WEB),
        web("GET", "/software/{name}", STAFF_WEB).ids(&[Software]),
        web("GET", "/licenses", STAFF_WEB),
        web("GET", "/maintenance", STAFF_WEB),
        web("GET", "/maintenance/plans/{id}", STAFF_WEB).ids(&[Plan]),
        web("POST", "/maintenance/plans/{id}/remove", ADMIN_WEB)
            .ids(&[FreshPlan])
            .form(no_fields),
        web("GET", "/maintenance/plans/new", STAFF_WEB),
        web("POST", "/maintenance/plans/new", [L, F, F, P, P, U, U])
            .form(|_, _| vec![("title", "Half a plan".into())]),
        web("GET", "/maintenance/plans/{id}/edit", STAFF_WEB).ids(&[Plan]),
        web(
            "POST",
            "/maintenance/plans/{id}/edit",
            [L, F, F, P, P, U, U],
        )
        .ids(&[Plan])
        .form(|_, _| vec![("title", "Half a plan".into())]),
        web("GET", "/maintenance/calendar", STAFF_WEB),
        web("GET", "/maintenance/compliance", STAFF_WEB),
        web("GET", "/work-orders/{id}", STAFF_WEB).ids(&[WorkOrder]),
        web("POST", "/work-orders/{id}", STAFF_WEB)
            .ids(&[WorkOrder])
            .form(|_, _| vec![("action", "save".into()), ("notes", "Dusted".into())]),
    ]
}
