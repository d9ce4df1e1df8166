//! Writing generated tickets with prepared statements, into the same tables and search rows
//! as `db::tickets::insert` and `db::comments::insert` (search rowids from
//! `db::tickets::search_rowid`). The `ticket_counts` triggers run on every insert.

use super::tickets::Ticket;
use rusqlite::{Statement, Transaction, params};
use steward_server::db::tickets::search_rowid;

/// Prepared statements for one transaction.
pub struct Store<'tx> {
    ticket: Statement<'tx>,
    comment: Statement<'tx>,
    search: Statement<'tx>,
    history: Statement<'tx>,
    watcher: Statement<'tx>,
    asset: Statement<'tx>,
    tag: Statement<'tx>,
    next_comment_id: i64,
}

impl<'tx> Store<'tx> {
    pub fn new(tx: &'tx Transaction<'_>, next_comment_id: i64) -> rusqlite::Result<Self> {
        Ok(Store {
            ticket: tx.prepare(
                "INSERT INTO tickets (id, type, status, title, description, category_id, requester_id,
                    assignee_id, group_id, impact, urgency, priority, location, source, created_at,
                    updated_at, first_response_at, resolved_at, closed_at, response_due_at,
                    resolution_due_at, sla_paused, breached_at, satisfaction, sla_breach_notified_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                    ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?23)",
            )?,
            comment: tx.prepare(
                "INSERT INTO ticket_comments (id, ticket_id, author_id, internal, body, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?,
            search: tx.prepare(
                "INSERT INTO ticket_search (rowid, ticket_id, internal, text) VALUES (?1, ?2, ?3, ?4)",
            )?,
            history: tx.prepare(
                "INSERT INTO ticket_history (ticket_id, at, actor, field, old_value, new_value)
                 VALUES (?1, ?2, ?3, 'status', ?4, ?5)",
            )?,
            watcher: tx.prepare(
                "INSERT OR IGNORE INTO ticket_watchers (ticket_id, user_id) VALUES (?1, ?2)",
            )?,
            asset: tx.prepare("INSERT INTO ticket_assets (ticket_id, asset_id) VALUES (?1, ?2)")?,
            tag: tx.prepare("INSERT INTO ticket_tags (ticket_id, tag) VALUES (?1, ?2)")?,
            next_comment_id,
        })
    }

    /// The id the next comment gets.
    pub fn next_comment_id(&self) -> i64 {
        self.next_comment_id
    }

    /// Inserts the ticket and everything that hangs off it; returns the rows written.
    /// A breach is stored as already reported (`sla_breach_notified_at`), as the SLA sweep
    /// would have done long ago, so the running server does not start reporting old breaches.
    pub fn insert(&mut self, t: &Ticket) -> rusqlite::Result<u64> {
        self.ticket.execute(params![
            t.id,
            t.ticket_type,
            t.status,
            t.title,
            t.description,
            t.category_id,
            t.requester_id,
            t.assignee_id,
            t.group_id,
            t.impact,
            t.urgency,
            t.priority,
            t.location,
            t.source,
            t.created_at,
            t.updated_at,
            t.first_response_at,
            t.resolved_at,
            t.closed_at,
            t.response_due_at,
            t.resolution_due_at,
            t.sla_paused,
            t.breached_at,
            t.satisfaction,
        ])?;
        let mut rows = 1;
        let text = format!("{} {}", t.title, t.description);
        rows += self
            .search
            .execute(params![search_rowid(t.id, None), t.id, false, text])? as u64;
        for (at, actor, old, new) in &t.history {
            rows += self.history.execute(params![t.id, at, actor, old, new])? as u64;
        }
        rows += self.watcher.execute(params![t.id, t.requester_id])? as u64;
        if let Some(a) = t.assignee_id {
            rows += self.watcher.execute(params![t.id, a])? as u64;
        }
        if let Some(a) = t.asset_id {
            rows += self.asset.execute(params![t.id, a])? as u64;
        }
        if let Some(tag) = t.tag {
            rows += self.tag.execute(params![t.id, tag])? as u64;
        }
        for c in &t.comments {
            let id = self.next_comment_id;
            self.next_comment_id += 1;
            rows += self.comment.execute(params![
                id,
                t.id,
                c.author_id,
                c.internal,
                c.body,
                c.created_at
            ])? as u64;
            rows += self.search.execute(params![
                search_rowid(t.id, Some(id)),
                t.id,
                c.internal,
                c.body
            ])? as u64;
        }
        Ok(rows)
    }
}
