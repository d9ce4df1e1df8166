//! Numbered schema migrations, embedded in the binary. A landed migration is never edited:
//! add a new file instead.

use super::{DbError, DbResult};
use rusqlite::Connection;

/// (version, SQL), in order. Versions are consecutive from 1.
pub const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_agent_reports.sql")),
    (3, include_str!("../../migrations/0003_alerts.sql")),
    (4, include_str!("../../migrations/0004_tickets.sql")),
    (5, include_str!("../../migrations/0005_desk_extras.sql")),
    (6, include_str!("../../migrations/0006_events.sql")),
    (7, include_str!("../../migrations/0007_attachments.sql")),
    (
        8,
        include_str!("../../migrations/0008_ticket_search_rowids.sql"),
    ),
    (9, include_str!("../../migrations/0009_asset_model.sql")),
    (
        10,
        include_str!("../../migrations/0010_software_catalog.sql"),
    ),
    (
        11,
        include_str!("../../migrations/0011_asset_filter_indexes.sql"),
    ),
    (12, include_str!("../../migrations/0012_maintenance.sql")),
    (
        13,
        include_str!("../../migrations/0013_maintenance_sync.sql"),
    ),
    (14, include_str!("../../migrations/0014_legacy_agents.sql")),
    (15, include_str!("../../migrations/0015_retention.sql")),
    (
        16,
        include_str!("../../migrations/0016_software_packages.sql"),
    ),
    (17, include_str!("../../migrations/0017_audit_log.sql")),
    (18, include_str!("../../migrations/0018_token_scopes.sql")),
    (19, include_str!("../../migrations/0019_agent_releases.sql")),
    (
        20,
        include_str!("../../migrations/0020_dashboard_indexes.sql"),
    ),
    (21, include_str!("../../migrations/0021_page_indexes.sql")),
    (22, include_str!("../../migrations/0022_package_blocks.sql")),
    (
        23,
        include_str!("../../migrations/0023_dashboard_assets.sql"),
    ),
    (
        24,
        include_str!("../../migrations/0024_dashboard_tallies.sql"),
    ),
    (
        25,
        include_str!("../../migrations/0025_software_count_batches.sql"),
    ),
];

/// The schema version this build creates.
pub fn latest() -> u32 {
    MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
}

/// Brings the schema up to date, one transaction per migration. Returns how many ran.
pub fn migrate(conn: &mut Connection) -> DbResult<u32> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > latest() {
        return Err(DbError::TooNew {
            found: current,
            known: latest(),
        });
    }
    let mut ran = 0;
    for &(version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", version))
            .map_err(|source| DbError::Migration { version, source })?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
        ran += 1;
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.0 as usize, i + 1);
        }
    }

    #[test]
    fn migrations_apply_once_and_are_idempotent() {
        let mut conn = Connection::open_in_memory().expect("open");
        assert_eq!(migrate(&mut conn).expect("first"), latest());
        assert_eq!(migrate(&mut conn).expect("second"), 0);
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'assets'",
                [],
                |r| r.get(0),
            )
            .expect("query");
        assert_eq!(n, 1);
    }

    #[test]
    fn newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.pragma_update(None, "user_version", latest() + 1)
            .expect("set");
        assert!(matches!(migrate(&mut conn), Err(DbError::TooNew { .. })));
    }
}
