//! `GET /api/v1/audit-log` and `GET /api/v1/audit-log.csv` (admins): the audit log,
//! newest first, with filters (`action` prefix, `actor` user id, `actor_label` exactly,
//! `since`/`until` as unix seconds, RFC 3339 or a date) and keyset paging by id. The CSV has every matching
//! entry, streamed in chunks of short reads; the export itself is audited.

use super::Routes;
use super::auth::{ClientIp, CurrentUser};
use super::exports::{abort, csv_response, record_export};
use super::{ApiResult, AppError, AppState};
use crate::db::audit::{self, Filter, Record, Start, action};
use crate::domain::roles::Role;
use crate::imports::table::write_row;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use steward_shared::Page;

/// Entries per read of the CSV export.
const CSV_CHUNK: u32 = 5_000;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/audit-log", get(list))
        .route("/api/v1/audit-log.csv", get(csv))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/audit-log",
        "The audit log, newest first",
        Access::Admin,
    )
    .query::<AuditQuery>()
    .ok::<Page<Record>>();
    api.op(
        "GET",
        "/api/v1/audit-log.csv",
        "Export the audit log as CSV",
        Access::Admin,
    )
    .query::<AuditQuery>()
    .ok_raw("text/csv", "Audit entries");
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

/// The query parameters, as text so each bad one gets its own error code.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// An action or the start of one: `auth.`, `user.role_changed`.
    pub action: Option<String>,
    /// A user id.
    pub actor: Option<String>,
    /// An actor's label exactly: an email (also one tried in a failed sign-in), `cli`.
    pub actor_label: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// Unix seconds, RFC 3339 (`2026-03-01T09:00:00Z`) or a date (midnight UTC).
pub fn parse_time(name: &str, s: &str) -> ApiResult<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc().timestamp());
    }
    Err(bad(
        "invalid_time",
        format!("{name} must be unix seconds, an RFC 3339 time or a date like 2026-03-01"),
    ))
}

fn present(o: &Option<String>) -> Option<&str> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AuditQuery {
    /// The filter these parameters ask for.
    pub fn filter(&self) -> ApiResult<Filter> {
        let action_prefix = match present(&self.action) {
            Some(a) if audit::valid_action_prefix(a) => Some(a.to_owned()),
            Some(_) => {
                return Err(bad(
                    "invalid_action",
                    "action is an action code or its start, like auth. or user.role_changed",
                ));
            }
            None => None,
        };
        let actor_user_id = present(&self.actor)
            .map(|a| {
                a.parse::<i64>()
                    .map_err(|_| bad("invalid_actor", "actor is a user id"))
            })
            .transpose()?;
        let actor_label = present(&self.actor_label).map(str::to_owned);
        if actor_label.as_ref().is_some_and(|l| l.len() > 320) {
            return Err(bad(
                "invalid_actor",
                "actor_label is at most 320 characters",
            ));
        }
        let since = present(&self.since)
            .map(|s| parse_time("since", s))
            .transpose()?;
        let until = present(&self.until)
            .map(|s| parse_time("until", s))
            .transpose()?;
        Ok(Filter {
            action_prefix,
            actor_user_id,
            actor_label,
            since,
            until,
        })
    }

    pub fn limit(&self) -> ApiResult<u32> {
        match present(&self.limit) {
            None => Ok(super::assets::DEFAULT_LIMIT),
            Some(l) => match l.parse::<u32>() {
                Ok(n @ 1..=super::assets::MAX_LIMIT) => Ok(n),
                _ => Err(bad(
                    "invalid_limit",
                    format!("limit must be between 1 and {}", super::assets::MAX_LIMIT),
                )),
            },
        }
    }

    pub fn cursor(&self) -> ApiResult<Option<i64>> {
        super::assets::id_cursor(present(&self.cursor))
    }
}

fn admin(user: &CurrentUser) -> ApiResult<()> {
    user.require(Role::Admin)
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> ApiResult<Json<Page<Record>>> {
    admin(&user)?;
    let q = super::software::query(query)?;
    let (filter, limit, before) = (q.filter()?, q.limit()?, q.cursor()?);
    let items = state
        .db
        .read(move |c| audit::page(c, &filter, Start::Before(before), limit))
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}

const HEADER: &[&str] = &[
    "id",
    "at",
    "actor_user_id",
    "actor_label",
    "ip",
    "action",
    "target",
    "detail",
];

fn rows(out: &mut Vec<u8>, items: &[Record]) {
    for r in items {
        let at = chrono::DateTime::from_timestamp(r.at, 0)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        let cells = [
            r.id.to_string(),
            at,
            r.actor_user_id.map(|i| i.to_string()).unwrap_or_default(),
            r.actor_label.clone(),
            r.ip.clone().unwrap_or_default(),
            r.action.clone(),
            r.target.clone().unwrap_or_default(),
            r.detail.as_ref().map(|d| d.to_string()).unwrap_or_default(),
        ];
        write_row(out, cells.iter().map(String::as_str));
    }
}

/// One chunk of CSV rows older than `before`, and where the next starts (`None`: done).
fn chunk(
    c: &rusqlite::Connection,
    f: &Filter,
    before: Option<i64>,
    out: &mut Vec<u8>,
) -> crate::db::DbResult<Option<i64>> {
    let items = audit::page(c, f, Start::Before(before), CSV_CHUNK)?;
    rows(out, &items);
    Ok((items.len() == CSV_CHUNK as usize)
        .then(|| items.last().map(|r| r.id))
        .flatten())
}

async fn csv(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    RawQuery(raw): RawQuery,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> ApiResult<Response> {
    admin(&user)?;
    let q = super::software::query(query)?;
    let filter = q.filter()?;
    // Recorded before the first read: the file (newest first) starts with this export.
    record_export(
        &state,
        &user.actor(&ip),
        action::EXPORT_AUDIT_LOG,
        raw.as_deref(),
    )
    .await?;
    let f = filter.clone();
    let (first, mut next) = state
        .db
        .read(move |c| {
            let mut out = Vec::with_capacity(1 << 20);
            write_row(&mut out, HEADER.iter().copied());
            let next = chunk(c, &f, None, &mut out)?;
            Ok((out, next))
        })
        .await?;
    let (response, tx) = csv_response("audit-log.csv", first);
    tokio::spawn(async move {
        while let Some(before) = next {
            let f = filter.clone();
            let read = state
                .db
                .read(move |c| {
                    let mut out = Vec::with_capacity(1 << 20);
                    let next = chunk(c, &f, Some(before), &mut out)?;
                    Ok((out, next))
                })
                .await;
            match read {
                Ok((out, n)) => {
                    if tx.send(Ok(Bytes::from(out))).await.is_err() {
                        return; // The client went away.
                    }
                    next = n;
                }
                Err(e) => return abort(&tx, "audit log", &AppError::from(e)).await,
            }
        }
    });
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_three_ways() {
        assert_eq!(parse_time("since", "1700000000").ok(), Some(1_700_000_000));
        assert_eq!(
            parse_time("since", "2026-03-01T09:00:00Z").ok(),
            Some(1_772_355_600)
        );
        assert_eq!(parse_time("since", "2026-03-01").ok(), Some(1_772_323_200));
        let e = parse_time("until", "yesterday").expect_err("not a time");
        assert_eq!(e.code, "invalid_time");
    }

    #[test]
    fn bad_parameters_have_their_own_codes() {
        let q = |f: fn(&mut AuditQuery)| {
            let mut q = AuditQuery::default();
            f(&mut q);
            q
        };
        let code = |r: ApiResult<Filter>| r.expect_err("refused").code;
        assert_eq!(
            code(q(|q| q.action = Some("AUTH'".into())).filter()),
            "invalid_action"
        );
        assert_eq!(
            code(q(|q| q.actor = Some("ann".into())).filter()),
            "invalid_actor"
        );
        assert_eq!(
            code(q(|q| q.since = Some("soon".into())).filter()),
            "invalid_time"
        );
        assert_eq!(
            q(|q| q.limit = Some("501".into()))
                .limit()
                .expect_err("limit")
                .code,
            "invalid_limit"
        );
        assert_eq!(
            q(|q| q.limit = Some("0".into()))
                .limit()
                .expect_err("limit")
                .code,
            "invalid_limit"
        );
        assert_eq!(
            q(|q| q.cursor = Some("x".into()))
                .cursor()
                .expect_err("cursor")
                .code,
            "invalid_cursor"
        );
        let ok = q(|q| {
            q.action = Some("auth.".into());
            q.actor = Some("5".into());
            q.limit = Some(" ".into());
        });
        assert_eq!(ok.limit().ok(), Some(super::super::assets::DEFAULT_LIMIT));
        let f = ok.filter().expect("filter");
        assert_eq!(
            (f.action_prefix.as_deref(), f.actor_user_id),
            (Some("auth."), Some(5))
        );
    }
}
