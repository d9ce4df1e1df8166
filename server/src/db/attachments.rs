//! Files attached to tickets: the rows that point at content-addressed files on disk
//! (`crate::blobs`).

use super::tickets::UserRef;
use super::{DbResult, optional};
use rusqlite::{Connection, params};
use serde::Serialize;

/// One attachment as the API shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    pub comment_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploader: Option<UserRef>,
    pub internal: bool,
    pub created_at: i64,
    /// Where to download it.
    pub url: String,
}

/// A file to record; its bytes are already stored under `sha256`.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub ticket_id: i64,
    pub comment_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploader_id: i64,
    pub internal: bool,
}

pub fn insert(c: &Connection, a: &NewAttachment, now: i64) -> DbResult<i64> {
    c.prepare_cached(
        "INSERT INTO attachments (ticket_id, comment_id, filename, content_type, size, sha256,
                                  uploader_id, internal, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        a.ticket_id,
        a.comment_id,
        a.filename,
        a.content_type,
        a.size,
        a.sha256,
        a.uploader_id,
        a.internal,
        now
    ])?;
    let id = c.last_insert_rowid();
    c.execute(
        "UPDATE tickets SET updated_at = ?2 WHERE id = ?1",
        params![a.ticket_id, now],
    )?;
    Ok(id)
}

const SELECT: &str = "SELECT a.id, a.ticket_id, a.comment_id, a.filename, a.content_type, a.size,
        a.sha256, a.uploader_id, u.name, a.internal, a.created_at
     FROM attachments a LEFT JOIN users u ON u.id = a.uploader_id";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attachment> {
    let id: i64 = r.get(0)?;
    let uploader = match (r.get::<_, Option<i64>>(7)?, r.get::<_, Option<String>>(8)?) {
        (Some(id), Some(name)) => Some(UserRef { id, name }),
        _ => None,
    };
    Ok(Attachment {
        id,
        ticket_id: r.get(1)?,
        comment_id: r.get(2)?,
        filename: r.get(3)?,
        content_type: r.get(4)?,
        size: r.get(5)?,
        sha256: r.get(6)?,
        uploader,
        internal: r.get(9)?,
        created_at: r.get(10)?,
        url: format!("/api/v1/attachments/{id}"),
    })
}

/// One attachment, whoever may see it.
pub fn get(c: &Connection, id: i64) -> DbResult<Option<Attachment>> {
    optional(
        c.prepare_cached(&format!("{SELECT} WHERE a.id = ?1"))?
            .query_row([id], row),
    )
}

/// A ticket's attachments, oldest first; internal ones only when `with_internal`.
pub fn list(c: &Connection, ticket_id: i64, with_internal: bool) -> DbResult<Vec<Attachment>> {
    let mut stmt = c.prepare_cached(&format!(
        "{SELECT} WHERE a.ticket_id = ?1 AND (?2 OR a.internal = 0) ORDER BY a.id"
    ))?;
    let rows = stmt
        .query_map(params![ticket_id, with_internal], row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A comment on `ticket_id`: (author id, internal), or `None` when it is not there.
pub fn comment_on(
    c: &Connection,
    ticket_id: i64,
    comment_id: i64,
) -> DbResult<Option<(Option<i64>, bool)>> {
    optional(c.query_row(
        "SELECT author_id, internal FROM ticket_comments WHERE id = ?1 AND ticket_id = ?2",
        params![comment_id, ticket_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ))
}
