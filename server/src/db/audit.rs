//! The audit log: security-relevant actions (sign-ins, accounts, credentials, agents,
//! exports, webhooks), appended in the same transaction as the change they describe
//! where there is one. Append-only (triggers refuse UPDATE and DELETE; retention never
//! touches it); read newest first, keyed by id.

use super::DbResult;
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};
use serde::Serialize;

/// The stable action codes. Filters match by prefix, so `auth.` finds every sign-in.
pub mod action {
    pub const LOGIN: &str = "auth.login";
    pub const LOGIN_FAILED: &str = "auth.login_failed";
    pub const LOCKED: &str = "auth.locked";
    pub const LOGOUT: &str = "auth.logout";
    pub const USER_CREATED: &str = "user.created";
    pub const USER_ROLE_CHANGED: &str = "user.role_changed";
    pub const USER_DISABLED: &str = "user.disabled";
    pub const USER_ENABLED: &str = "user.enabled";
    pub const USER_UNLOCKED: &str = "user.unlocked";
    pub const API_TOKEN_CREATED: &str = "api_token.created";
    pub const ENROLLMENT_TOKEN_CREATED: &str = "enrollment_token.created";
    pub const AGENT_ENROLLED: &str = "agent.enrolled";
    pub const AGENT_REVOKED: &str = "agent.revoked";
    pub const ASSET_ARCHIVED: &str = "asset.archived";
    pub const EXPORT_ASSETS_CSV: &str = "export.assets_csv";
    pub const EXPORT_TICKETS_CSV: &str = "export.tickets_csv";
    pub const EXPORT_COMPLIANCE_EVIDENCE: &str = "export.compliance_evidence";
    pub const EXPORT_AUDIT_LOG: &str = "export.audit_log";
    pub const WEBHOOK_CREATED: &str = "webhook.created";
    pub const WEBHOOK_DELETED: &str = "webhook.deleted";
    pub const AGENT_RELEASE_PUBLISHED: &str = "agent_release.published";
    pub const AGENT_RELEASE_CHANGED: &str = "agent_release.changed";

    /// Every code, for the page's filter.
    pub const ALL: &[&str] = &[
        LOGIN,
        LOGIN_FAILED,
        LOCKED,
        LOGOUT,
        USER_CREATED,
        USER_ROLE_CHANGED,
        USER_DISABLED,
        USER_ENABLED,
        USER_UNLOCKED,
        API_TOKEN_CREATED,
        ENROLLMENT_TOKEN_CREATED,
        AGENT_ENROLLED,
        AGENT_REVOKED,
        ASSET_ARCHIVED,
        EXPORT_ASSETS_CSV,
        EXPORT_TICKETS_CSV,
        EXPORT_COMPLIANCE_EVIDENCE,
        EXPORT_AUDIT_LOG,
        WEBHOOK_CREATED,
        WEBHOOK_DELETED,
        AGENT_RELEASE_PUBLISHED,
        AGENT_RELEASE_CHANGED,
    ];
}

/// Who did it, and from where.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub user_id: Option<i64>,
    /// The user's email, `agent <id>`, `cli` or `anonymous`.
    pub label: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn user(id: i64, email: &str, ip: Option<String>) -> Actor {
        Actor {
            user_id: Some(id),
            label: email.to_owned(),
            ip,
        }
    }

    pub fn agent(agent_id: &str, ip: Option<String>) -> Actor {
        Actor {
            user_id: None,
            label: format!("agent {agent_id}"),
            ip,
        }
    }

    /// The `steward-server` command line (whoever can run it on the server).
    pub fn cli() -> Actor {
        Actor {
            user_id: None,
            label: "cli".into(),
            ip: None,
        }
    }

    /// Someone not signed in; `label` is what they claimed (the email tried), if anything.
    pub fn anonymous(label: Option<&str>, ip: Option<String>) -> Actor {
        Actor {
            user_id: None,
            label: label.unwrap_or("anonymous").to_owned(),
            ip,
        }
    }
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: i64,
    pub actor: Actor,
    pub action: &'static str,
    pub target: Option<String>,
    pub detail: Option<serde_json::Value>,
}

impl Entry {
    pub fn new(at: i64, actor: &Actor, action: &'static str) -> Entry {
        Entry {
            at,
            actor: actor.clone(),
            action,
            target: None,
            detail: None,
        }
    }

    pub fn target(mut self, target: impl Into<String>) -> Entry {
        self.target = Some(target.into());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Entry {
        self.detail = Some(detail);
        self
    }
}

/// Labels and targets are cut to this many characters (a tried email can be anything).
const MAX_TEXT: usize = 320;

fn cut(s: &str) -> String {
    s.chars().take(MAX_TEXT).collect()
}

/// Appends `e`; returns its id. Call it inside the transaction of the change it records.
pub fn record(c: &Connection, e: &Entry) -> DbResult<i64> {
    c.prepare_cached(
        "INSERT INTO audit_log (at, actor_user_id, actor_label, ip, action, target, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        e.at,
        e.actor.user_id,
        cut(&e.actor.label),
        e.actor.ip,
        e.action,
        e.target.as_deref().map(cut),
        e.detail.as_ref().map(|d| d.to_string()),
    ])?;
    Ok(c.last_insert_rowid())
}

/// An entry as stored.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Record {
    pub id: i64,
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub actor_label: String,
    pub ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<serde_json::Value>,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    let detail: Option<String> = r.get(7)?;
    Ok(Record {
        id: r.get(0)?,
        at: r.get(1)?,
        actor_user_id: r.get(2)?,
        actor_label: r.get(3)?,
        ip: r.get(4)?,
        action: r.get(5)?,
        target: r.get(6)?,
        detail: detail.map(|d| serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d))),
    })
}

/// Which entries to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Actions starting with this (see [`valid_action_prefix`]).
    pub action_prefix: Option<String>,
    pub actor_user_id: Option<i64>,
    /// Exactly this label (an email, also one tried in a failed sign-in; `cli`).
    pub actor_label: Option<String>,
    /// `at >= since`
    pub since: Option<i64>,
    /// `at < until`
    pub until: Option<i64>,
}

/// Whether `p` can be an action prefix: 1 to 64 of `a-z 0-9 . _`. (The range query
/// below relies on it: every such string sorts before `p~`.)
pub fn valid_action_prefix(p: &str) -> bool {
    (1..=64).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The newest entries, or those older than an id.
    Before(Option<i64>),
    /// The oldest entries newer than an id (for a "newer" link).
    After(i64),
}

/// An action filter that at most this many entries match is read through
/// `audit_log_action` and sorted by id; one that more match is found by walking the log
/// newest first, where its entries are close together.
const SPARSE_ACTION: i64 = 10_000;

/// Up to `limit` entries matching `f`, newest first.
pub fn page(c: &Connection, f: &Filter, from: Start, limit: u32) -> DbResult<Vec<Record>> {
    page_with(c, f, from, limit, SPARSE_ACTION)
}

/// Whether at most `sparse` entries have an action in `[low, high)` (counted on the index,
/// and only up to one more than that).
fn few_with_action(c: &Connection, low: &str, high: &str, sparse: i64) -> DbResult<bool> {
    let n: i64 = c
        .prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM audit_log WHERE action >= ?1 AND action < ?2 LIMIT ?3)",
        )?
        .query_row(params![low, high, sparse + 1], |r| r.get(0))?;
    Ok(n <= sparse)
}

/// [`page`], reading an action filter through its index when at most `sparse` entries
/// match it. The SQL names only the filters that are set, so SQLite can find an actor's
/// entries on `audit_log_actor` or `audit_log_actor_label` in id order; a `+` keeps it off
/// an index that would need the matches sorted (time ranges, common actions).
fn page_with(
    c: &Connection,
    f: &Filter,
    from: Start,
    limit: u32,
    sparse: i64,
) -> DbResult<Vec<Record>> {
    let (before, after, order) = match from {
        Start::Before(b) => (b.unwrap_or(i64::MAX), 0, "DESC"),
        Start::After(a) => (i64::MAX, a, "ASC"),
    };
    let mut args: Vec<Value> = vec![Value::Integer(before), Value::Integer(after)];
    let mut arg = |v: Value| {
        args.push(v);
        format!("?{}", args.len())
    };
    let mut w = String::from("id < ?1 AND id > ?2");
    let mut index = "";
    if let Some(id) = f.actor_user_id {
        w += &format!(" AND actor_user_id = {}", arg(Value::Integer(id)));
    }
    if let Some(label) = &f.actor_label {
        w += &format!(" AND actor_label = {}", arg(Value::Text(label.clone())));
    }
    if let Some(prefix) = &f.action_prefix {
        let upper = format!("{prefix}~");
        let by_action = f.actor_user_id.is_none()
            && f.actor_label.is_none()
            && few_with_action(c, prefix, &upper, sparse)?;
        let col = if by_action {
            index = " INDEXED BY audit_log_action";
            "action"
        } else {
            "+action"
        };
        let (low, high) = (arg(Value::Text(prefix.clone())), arg(Value::Text(upper)));
        w += &format!(" AND {col} >= {low} AND {col} < {high}");
    }
    if let Some(since) = f.since {
        w += &format!(" AND +at >= {}", arg(Value::Integer(since)));
    }
    if let Some(until) = f.until {
        w += &format!(" AND +at < {}", arg(Value::Integer(until)));
    }
    let limit = arg(Value::Integer(i64::from(limit)));
    let mut stmt = c.prepare_cached(&format!(
        "SELECT id, at, actor_user_id, actor_label, ip, action, target, detail
         FROM audit_log{index} WHERE {w} ORDER BY id {order} LIMIT {limit}"
    ))?;
    let rows = stmt.query_map(params_from_iter(args), from_row)?;
    let mut items: Vec<Record> = rows.collect::<Result<_, _>>()?;
    if order == "ASC" {
        items.reverse();
    }
    Ok(items)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::migrations::migrate(&mut c).unwrap();
        c
    }

    fn seed(c: &Connection) {
        let ann = Actor::user(1, "ann@example.test", Some("192.0.2.1".into()));
        let bob = Actor::user(2, "bob@example.test", None);
        let entries = [
            Entry::new(100, &ann, action::LOGIN),
            Entry::new(110, &bob, action::LOGIN_FAILED),
            Entry::new(120, &bob, action::LOCKED).target("user:2"),
            Entry::new(130, &ann, action::USER_ROLE_CHANGED)
                .target("user:2")
                .detail(serde_json::json!({"old": "employee", "new": "technician"})),
            Entry::new(140, &Actor::cli(), action::API_TOKEN_CREATED),
            Entry::new(150, &ann, action::LOGOUT),
        ];
        for e in &entries {
            record(c, e).unwrap();
        }
    }

    fn ids(items: &[Record]) -> Vec<i64> {
        items.iter().map(|r| r.id).collect()
    }

    #[test]
    fn the_log_refuses_updates_and_deletes() {
        let c = db();
        seed(&c);
        for sql in [
            "UPDATE audit_log SET action = 'auth.nothing' WHERE id = 1",
            "UPDATE audit_log SET actor_label = 'someone else'",
            "DELETE FROM audit_log WHERE id = 1",
            "DELETE FROM audit_log",
        ] {
            let err = c.execute(sql, []).unwrap_err();
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        let n: i64 = c
            .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 6);
        // No foreign keys: entries stay when the user they name is gone.
        let fks: i64 = c
            .query_row(
                "SELECT count(*) FROM pragma_foreign_key_list('audit_log')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(fks, 0);
    }

    #[test]
    fn entries_read_back_as_written() {
        let c = db();
        seed(&c);
        let all = page(&c, &Filter::default(), Start::Before(None), 10).unwrap();
        assert_eq!(ids(&all), [6, 5, 4, 3, 2, 1]);
        let role = &all[2];
        assert_eq!(role.action, "user.role_changed");
        assert_eq!(role.actor_user_id, Some(1));
        assert_eq!(role.actor_label, "ann@example.test");
        assert_eq!(role.target.as_deref(), Some("user:2"));
        assert_eq!(role.detail.as_ref().unwrap()["new"], "technician");
        assert_eq!(all[5].ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(all[1].actor_label, "cli");
        assert_eq!(all[1].actor_user_id, None);
    }

    #[test]
    fn filters_combine() {
        let c = db();
        seed(&c);
        let f = |action: Option<&str>, actor: Option<i64>, since, until| Filter {
            action_prefix: action.map(str::to_owned),
            actor_user_id: actor,
            since,
            until,
            ..Default::default()
        };
        // Every filter reads the same through the action index (few matches) and by
        // walking the log (many).
        let get = |f: Filter| {
            let read = |sparse| ids(&page_with(&c, &f, Start::Before(None), 10, sparse).unwrap());
            let (indexed, walked) = (read(i64::MAX - 1), read(0));
            assert_eq!(indexed, walked, "{f:?}");
            indexed
        };
        assert_eq!(get(f(Some("auth."), None, None, None)), [6, 3, 2, 1]);
        // A prefix, not an exact match: auth.login finds auth.login_failed too.
        assert_eq!(get(f(Some("auth.login"), None, None, None)), [2, 1]);
        assert_eq!(get(f(Some("auth.login_failed"), None, None, None)), [2]);
        assert_eq!(get(f(Some("user"), None, None, None)), [4]);
        assert!(get(f(Some("zzz"), None, None, None)).is_empty());
        assert_eq!(get(f(None, Some(2), None, None)), [3, 2]);
        assert_eq!(get(f(Some("auth."), Some(1), None, None)), [6, 1]);
        assert_eq!(get(f(None, None, Some(120), Some(140))), [4, 3]);
        assert_eq!(get(f(None, None, Some(151), None)), Vec::<i64>::new());
        let label = |l: &str| Filter {
            actor_label: Some(l.into()),
            ..Default::default()
        };
        assert_eq!(get(label("bob@example.test")), [3, 2]);
        assert_eq!(get(label("cli")), [5]);
        assert!(get(label("bob")).is_empty(), "labels match exactly");
    }

    #[test]
    fn pages_go_older_and_newer_by_id() {
        let c = db();
        seed(&c);
        let all = Filter::default();
        let first = page(&c, &all, Start::Before(None), 2).unwrap();
        assert_eq!(ids(&first), [6, 5]);
        let second = page(&c, &all, Start::Before(Some(5)), 2).unwrap();
        assert_eq!(ids(&second), [4, 3]);
        let third = page(&c, &all, Start::Before(Some(3)), 2).unwrap();
        assert_eq!(ids(&third), [2, 1]);
        assert!(
            page(&c, &all, Start::Before(Some(1)), 2)
                .unwrap()
                .is_empty()
        );
        // Back up from the third page: the two just newer, still newest first.
        let back = page(&c, &all, Start::After(2), 2).unwrap();
        assert_eq!(ids(&back), [4, 3]);
        let auth = Filter {
            action_prefix: Some("auth.".into()),
            ..Default::default()
        };
        for sparse in [0, 100] {
            let newer = page_with(&c, &auth, Start::After(1), 2, sparse).unwrap();
            assert_eq!(ids(&newer), [3, 2], "sparse {sparse}");
        }
        assert_eq!(
            ids(&page(&c, &auth, Start::Before(Some(3)), 5).unwrap()),
            [2, 1]
        );
    }

    #[test]
    fn action_prefixes_are_plain_codes() {
        for ok in ["auth.", "auth.login", "export.audit_log", "user"] {
            assert!(valid_action_prefix(ok), "{ok}");
        }
        for bad in ["", "Auth", "auth%", "a b", "x'--", &"a".repeat(65)] {
            assert!(!valid_action_prefix(bad), "{bad}");
        }
        for a in action::ALL {
            assert!(valid_action_prefix(a), "{a}");
        }
    }

    #[test]
    fn long_labels_are_cut() {
        let c = db();
        let long = "x".repeat(5000);
        record(
            &c,
            &Entry::new(
                1,
                &Actor::anonymous(Some(&long), None),
                action::LOGIN_FAILED,
            ),
        )
        .unwrap();
        let r = page(&c, &Filter::default(), Start::Before(None), 1).unwrap();
        assert_eq!(r[0].actor_label.len(), MAX_TEXT);
    }
}
