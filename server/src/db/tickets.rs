//! Tickets: create, read, queue lists with filters and search, field changes with history.
//! Conversation lives in `db/comments.rs`.

use super::{DbResult, optional};
use rusqlite::{Connection, params, params_from_iter, types::Value};
use serde::Serialize;

/// A user as shown on a ticket.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct UserRef {
    pub id: i64,
    pub name: String,
}

/// One row of a queue.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TicketSummary {
    pub id: i64,
    #[serde(rename = "type")]
    pub ticket_type: String,
    pub status: String,
    pub title: String,
    /// P-number: 1 (critical) to 5 (planning).
    pub priority: i64,
    pub requester: UserRef,
    pub assignee: Option<UserRef>,
    pub group_id: Option<i64>,
    pub category: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolution_due_at: Option<i64>,
    pub breached_at: Option<i64>,
}

/// A whole ticket (without its conversation).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Ticket {
    #[serde(flatten)]
    pub summary: TicketSummary,
    pub description: String,
    pub impact: i64,
    pub urgency: i64,
    pub location: String,
    pub source: String,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub response_due_at: Option<i64>,
    pub satisfaction: Option<i64>,
    pub satisfaction_note: Option<String>,
    pub asset_ids: Vec<i64>,
    pub tags: Vec<String>,
    pub watcher_ids: Vec<i64>,
}

/// What a new ticket needs; checked by the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct NewTicket {
    pub ticket_type: String,
    pub title: String,
    pub description: String,
    pub category_id: Option<i64>,
    pub requester_id: i64,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
    pub impact: i64,
    pub urgency: i64,
    pub priority: i64,
    pub location: String,
    pub source: String,
    pub asset_ids: Vec<i64>,
    pub tags: Vec<String>,
}

const SUMMARY: &str =
    "t.id, t.type, t.status, t.title, t.priority, t.requester_id, ru.name, t.assignee_id, au.name,
    t.group_id, c.name, t.created_at, t.updated_at, t.resolution_due_at, t.breached_at";
const JOINS: &str = "JOIN users ru ON ru.id = t.requester_id
    LEFT JOIN users au ON au.id = t.assignee_id LEFT JOIN categories c ON c.id = t.category_id";

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<TicketSummary> {
    let assignee = match (r.get::<_, Option<i64>>(7)?, r.get::<_, Option<String>>(8)?) {
        (Some(id), Some(name)) => Some(UserRef { id, name }),
        _ => None,
    };
    Ok(TicketSummary {
        id: r.get(0)?,
        ticket_type: r.get(1)?,
        status: r.get(2)?,
        title: r.get(3)?,
        priority: r.get(4)?,
        requester: UserRef {
            id: r.get(5)?,
            name: r.get(6)?,
        },
        assignee,
        group_id: r.get(9)?,
        category: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
        resolution_due_at: r.get(13)?,
        breached_at: r.get(14)?,
    })
}

pub fn insert(c: &Connection, t: &NewTicket, actor: &str, now: i64) -> DbResult<i64> {
    c.prepare_cached(
        "INSERT INTO tickets (type, status, title, description, category_id, requester_id, assignee_id, group_id,
            impact, urgency, priority, location, source, created_at, updated_at)
         VALUES (?1, 'new', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
    )?
    .execute(params![
            t.ticket_type, t.title, t.description, t.category_id, t.requester_id, t.assignee_id, t.group_id,
            t.impact, t.urgency, t.priority, t.location, t.source, now
    ])?;
    let id = c.last_insert_rowid();
    for a in &t.asset_ids {
        c.prepare_cached(
            "INSERT OR IGNORE INTO ticket_assets (ticket_id, asset_id) VALUES (?1, ?2)",
        )?
        .execute(params![id, a])?;
    }
    for tag in &t.tags {
        c.prepare_cached("INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (?1, ?2)")?
            .execute(params![id, tag])?;
    }
    c.prepare_cached("INSERT OR IGNORE INTO ticket_watchers (ticket_id, user_id) VALUES (?1, ?2)")?
        .execute(params![id, t.requester_id])?;
    history(c, id, now, actor, "status", None, Some("new"))?;
    c.prepare_cached(
        "INSERT INTO ticket_search (rowid, ticket_id, internal, text) VALUES (?1 << 32, ?1, 0, ?2 || ' ' || ?3)",
    )?
    .execute(params![id, t.title, t.description])?;
    Ok(id)
}

pub fn history(
    c: &Connection,
    ticket_id: i64,
    at: i64,
    actor: &str,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> DbResult<()> {
    c.prepare_cached(
        "INSERT INTO ticket_history (ticket_id, at, actor, field, old_value, new_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![ticket_id, at, actor, field, old, new])?;
    Ok(())
}

pub fn get(c: &Connection, id: i64) -> DbResult<Option<Ticket>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SUMMARY}, t.description, t.impact, t.urgency, t.location, t.source, t.first_response_at,
                t.resolved_at, t.closed_at, t.response_due_at, t.satisfaction, t.satisfaction_note
         FROM tickets t {JOINS} WHERE t.id = ?1"
    ))?;
    let row = optional(stmt.query_row([id], |r| {
        Ok(Ticket {
            summary: summary(r)?,
            description: r.get(15)?,
            impact: r.get(16)?,
            urgency: r.get(17)?,
            location: r.get(18)?,
            source: r.get(19)?,
            first_response_at: r.get(20)?,
            resolved_at: r.get(21)?,
            closed_at: r.get(22)?,
            response_due_at: r.get(23)?,
            satisfaction: r.get(24)?,
            satisfaction_note: r.get(25)?,
            asset_ids: Vec::new(),
            tags: Vec::new(),
            watcher_ids: Vec::new(),
        })
    }))?;
    let Some(mut t) = row else { return Ok(None) };
    let ids = |sql: &str| -> DbResult<Vec<i64>> {
        let mut stmt = c.prepare_cached(sql)?;
        let v = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(v)
    };
    t.asset_ids = ids("SELECT asset_id FROM ticket_assets WHERE ticket_id = ?1 ORDER BY asset_id")?;
    t.watcher_ids =
        ids("SELECT user_id FROM ticket_watchers WHERE ticket_id = ?1 ORDER BY user_id")?;
    let mut stmt =
        c.prepare_cached("SELECT tag FROM ticket_tags WHERE ticket_id = ?1 ORDER BY tag")?;
    t.tags = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Some(t))
}

/// Queue filters. `requester` scopes the list to one person's tickets (employees).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketFilter {
    pub statuses: Vec<String>,
    pub assignee: Option<i64>,
    pub unassigned: bool,
    pub group: Option<i64>,
    pub priority: Option<i64>,
    pub requester: Option<i64>,
    pub category: Option<i64>,
    pub asset: Option<i64>,
    /// Breached or overdue at `now`.
    pub breached_at_now: Option<i64>,
    /// Full-text search over titles, descriptions and comments (internal notes only
    /// when `search_internal`).
    pub q: Option<String>,
    pub search_internal: bool,
}

/// Sort orders for queues: newest first, or most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Newest,
    Priority,
}

/// A status filter alone, newest first, that this share of the tickets or more passes
/// (resolved and closed are most of a desk) is checked while walking the newest tickets,
/// where a page is found within a few hundred rows; `tickets_status` would hand over every
/// match to be sorted. The shares come from `ticket_counts`.
const DENSE_STATUS_SHARE: f64 = 0.1;

fn walk_newest(c: &Connection, f: &TicketFilter, sort: Sort) -> DbResult<bool> {
    let only_statuses = TicketFilter {
        statuses: f.statuses.clone(),
        search_internal: f.search_internal,
        ..TicketFilter::default()
    };
    if sort != Sort::Newest || f.statuses.is_empty() || *f != only_statuses {
        return Ok(false);
    }
    let counts = counts(c)?;
    let sum = |keep: &dyn Fn(&str) -> bool| -> i64 {
        let of = |k: &String| k.strip_prefix("status:").is_some_and(keep);
        counts.iter().filter(|(k, _)| of(k)).map(|c| c.1).sum()
    };
    let mine = sum(&|s| f.statuses.iter().any(|x| x == s));
    Ok(mine as f64 >= DENSE_STATUS_SHARE * sum(&|_| true).max(1) as f64)
}

/// A page of tickets after the cursor (the last row's sort key).
///
/// Queues choose the page's ids on the indexes first (`tickets_status` and friends cover
/// the sort) and join users and categories for those rows only. A search walks the
/// matches newest ticket first, since a search row's rowid starts with its ticket id
/// (migration 0008), and stops once the page is full.
pub fn list(
    c: &Connection,
    f: &TicketFilter,
    sort: Sort,
    after: Option<(i64, i64)>,
    limit: u32,
) -> DbResult<Vec<TicketSummary>> {
    let mut w = String::new();
    let mut args: Vec<Value> = Vec::new();
    let arg = |v: Value, args: &mut Vec<Value>| -> String {
        args.push(v);
        format!("?{}", args.len())
    };
    if !f.statuses.is_empty() {
        let marks: Vec<String> = f
            .statuses
            .iter()
            .map(|s| arg(Value::Text(s.clone()), &mut args))
            .collect();
        let col = if walk_newest(c, f, sort)? {
            "+t.status"
        } else {
            "t.status"
        };
        w += &format!(" AND {col} IN ({})", marks.join(", "));
    }
    if let Some(a) = f.assignee {
        w += &format!(" AND t.assignee_id = {}", arg(Value::Integer(a), &mut args));
    }
    if f.unassigned {
        w += " AND t.assignee_id IS NULL";
    }
    for (col, val) in [
        ("t.group_id", f.group),
        ("t.priority", f.priority),
        ("t.requester_id", f.requester),
        ("t.category_id", f.category),
    ] {
        if let Some(v) = val {
            w += &format!(" AND {col} = {}", arg(Value::Integer(v), &mut args));
        }
    }
    if let Some(a) = f.asset {
        w += &format!(
            " AND t.id IN (SELECT ticket_id FROM ticket_assets WHERE asset_id = {})",
            arg(Value::Integer(a), &mut args)
        );
    }
    if let Some(now) = f.breached_at_now {
        w += &format!(
            " AND (t.breached_at IS NOT NULL OR (t.status IN ('new', 'open') AND t.resolution_due_at < {}))",
            arg(Value::Integer(now), &mut args)
        );
    }
    let internal = if f.search_internal {
        ""
    } else {
        " AND internal = 0"
    };
    if let Some(q) = f.q.as_deref().and_then(fts_query) {
        if sort == Sort::Newest && f.requester.is_none() {
            let before = after.map_or(i64::MAX, |(_, id)| id << 32);
            return search_newest(c, &w, args, &q, before, internal, limit);
        }
        let prefix = q.contains("\"*");
        let q = arg(Value::Text(q), &mut args);
        if f.requester.is_some() && !prefix {
            // One person's tickets are few: look in each one's own search rows (not for a
            // prefix, which FTS5 would expand again for every ticket).
            w += &format!(
                " AND EXISTS (SELECT 1 FROM ticket_search WHERE ticket_search MATCH {q}
                   AND rowid BETWEEN t.id << 32 AND (t.id << 32) | 4294967295{internal})"
            );
        } else {
            // Sorted by priority: every match is a candidate, its ticket id read from the
            // rowid.
            w += &format!(
                " AND t.id IN (SELECT rowid >> 32 FROM ticket_search WHERE ticket_search MATCH {q}{internal})"
            );
        }
    }
    match (sort, after) {
        (Sort::Newest, Some((_, id))) => {
            w += &format!(" AND t.id < {}", arg(Value::Integer(id), &mut args))
        }
        (Sort::Priority, Some((p, id))) => {
            let (p, id) = (
                arg(Value::Integer(p), &mut args),
                arg(Value::Integer(id), &mut args),
            );
            w += &format!(" AND (t.priority > {p} OR (t.priority = {p} AND t.id < {id}))");
        }
        (_, None) => {}
    }
    let order = match sort {
        Sort::Newest => "t.id DESC",
        Sort::Priority => "t.priority ASC, t.id DESC",
    };
    let limit = arg(Value::Integer(i64::from(limit)), &mut args);
    let sql = format!(
        "SELECT {SUMMARY} FROM (SELECT t.id FROM tickets t WHERE 1 = 1{w} ORDER BY {order} LIMIT {limit}) k
         JOIN tickets t ON t.id = k.id {JOINS} ORDER BY {order}"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), summary)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A search newest first: takes the ids of tickets matching `q` (below `before`, a rowid)
/// from the search index in descending order, a growing batch at a time, keeps those that
/// pass the filters `w` (over `args`), and stops when `limit` are found or matches run out.
fn search_newest(
    c: &Connection,
    w: &str,
    mut args: Vec<Value>,
    q: &str,
    before: i64,
    internal: &str,
    limit: u32,
) -> DbResult<Vec<TicketSummary>> {
    let ids_mark = args.len() + 1;
    let mut hits = c.prepare_cached(&format!(
        "SELECT rowid >> 32 FROM ticket_search WHERE ticket_search MATCH ?1 AND rowid < ?2{internal}
         ORDER BY rowid DESC"
    ))?;
    let mut page = c.prepare_cached(&format!(
        "SELECT {SUMMARY} FROM tickets t {JOINS}
         WHERE t.id IN (SELECT value FROM json_each(?{ids_mark})){w} ORDER BY t.id DESC"
    ))?;
    let mut matches = hits.query(params![q, before])?;
    let limit = limit as usize;
    let mut found = Vec::with_capacity(limit);
    let mut batch: Vec<i64> = Vec::new();
    let mut batch_size = limit.max(1);
    let mut last = None;
    loop {
        let next: Option<i64> = match matches.next()? {
            Some(r) => Some(r.get(0)?),
            None => None,
        };
        // Rows of one ticket come together (its id is the rowid's high half).
        if let Some(id) = next
            && last != Some(id)
        {
            last = Some(id);
            batch.push(id);
        }
        if batch.len() >= batch_size || (next.is_none() && !batch.is_empty()) {
            let ids = batch
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            args.push(Value::Text(format!("[{ids}]")));
            let rows = page.query_map(params_from_iter(args.iter()), summary)?;
            for row in rows {
                found.push(row?);
            }
            args.pop();
            batch.clear();
            batch_size = (batch_size * 4).min(10_000);
            if found.len() >= limit {
                found.truncate(limit);
                break;
            }
        }
        if next.is_none() {
            break;
        }
    }
    Ok(found)
}

/// The FTS5 query for a ticket search: every word must occur, as a whole word (case and
/// accents folded); a word typed with a trailing `*` matches as a prefix. Whole words keep
/// search fast at any size: FTS5 reads a prefix's entire posting list before it returns the
/// first match, a whole word's only as far as needed.
pub fn fts_query(q: &str) -> Option<String> {
    let terms: Vec<String> = q
        .split_whitespace()
        .flat_map(|word| {
            let prefix = word.ends_with('*');
            let cleaned: String = word
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || "-_.:".contains(c) {
                        c
                    } else {
                        ' '
                    }
                })
                .collect();
            let parts: Vec<String> = cleaned.split_whitespace().map(str::to_owned).collect();
            let n = parts.len();
            parts.into_iter().enumerate().map(move |(i, p)| {
                if prefix && i + 1 == n {
                    format!("\"{p}\"*")
                } else {
                    format!("\"{p}\"")
                }
            })
        })
        .take(16)
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

/// The rowid of a search row (migration 0008): the ticket id in the high 32 bits, the
/// comment id (0 for the ticket's own title and description) in the low 32.
pub fn search_rowid(ticket_id: i64, comment_id: Option<i64>) -> i64 {
    (ticket_id << 32) | comment_id.unwrap_or(0)
}

/// Queue counts kept by triggers: 'status:open', 'unassigned', 'assignee:7', 'group:2'.
pub fn counts(c: &Connection) -> DbResult<Vec<(String, i64)>> {
    let mut stmt =
        c.prepare_cached("SELECT key, n FROM ticket_counts WHERE n <> 0 ORDER BY key")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Sets one column of a ticket and records the change; no-op when unchanged.
/// `column` is from a fixed list in the caller, never user input.
pub fn set_field(
    c: &Connection,
    id: i64,
    column: &'static str,
    value: Value,
    shown: Option<&str>,
    actor: &str,
    now: i64,
) -> DbResult<bool> {
    let Some(old_text) = super::replace_column(c, "tickets", id, column, &value, now)? else {
        return Ok(false);
    };
    history(c, id, now, actor, column, old_text.as_deref(), shown)?;
    if column == "title" || column == "description" {
        c.execute(
            "UPDATE ticket_search SET text = (SELECT title || ' ' || description FROM tickets WHERE id = ?1)
             WHERE rowid = ?1 << 32",
            [id],
        )?;
    }
    Ok(true)
}

/// Status changes of a ticket, oldest first: (at, status).
pub fn status_history(c: &Connection, id: i64) -> DbResult<Vec<(i64, String)>> {
    let mut stmt = c.prepare_cached(
        "SELECT at, new_value FROM ticket_history WHERE ticket_id = ?1 AND field = 'status' ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get(0)?,
            r.get::<_, Option<String>>(1)?.unwrap_or_default(),
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One entry of a ticket's history.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TicketChange {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

pub fn changes(c: &Connection, id: i64) -> DbResult<Vec<TicketChange>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, at, actor, field, old_value, new_value FROM ticket_history WHERE ticket_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(TicketChange {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            field: r.get(3)?,
            old_value: r.get(4)?,
            new_value: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Stores the SLA figures computed by the caller.
pub fn store_sla(
    c: &Connection,
    id: i64,
    response_due: Option<i64>,
    resolution_due: Option<i64>,
    paused: bool,
    breached_at: Option<i64>,
) -> DbResult<()> {
    c.prepare_cached(
        "UPDATE tickets SET response_due_at = ?2, resolution_due_at = ?3, sla_paused = ?4,
            breached_at = coalesce(breached_at, ?5) WHERE id = ?1",
    )?
    .execute(params![
        id,
        response_due,
        resolution_due,
        paused,
        breached_at
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn search_words_are_whole_unless_starred() {
        assert_eq!(
            fts_query("Printer jam").as_deref(),
            Some("\"Printer\" \"jam\"")
        );
        assert_eq!(
            fts_query("print* jam").as_deref(),
            Some("\"print\"* \"jam\"")
        );
        assert_eq!(fts_query("srv-fs-02*").as_deref(), Some("\"srv-fs-02\"*"));
        assert_eq!(fts_query("a\"b*").as_deref(), Some("\"a\" \"b\"*"));
        assert_eq!(
            fts_query("NEAR(x* OR").as_deref(),
            Some("\"NEAR\" \"x\"* \"OR\"")
        );
        assert_eq!(fts_query(" * "), None);
    }
}
