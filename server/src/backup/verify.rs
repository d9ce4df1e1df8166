//! The checks a restore makes on the unpacked archive before it changes anything: the
//! members against the manifest, and the database against the members.

use super::{Kind, Manifest, Member, attachment_member, has_table, is_digest, kind_of};
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeMap;
use std::path::Path;

/// The members must be exactly the manifest's, with its sizes and digests; every
/// content-addressed member (attachment, signed release) must hash to its name; and only
/// an archive `with_binaries` may hold agent binaries.
pub(super) fn check_members(
    manifest: &Manifest,
    staged: &BTreeMap<String, Member>,
    with_binaries: bool,
) -> Result<(), String> {
    let mut listed = BTreeMap::new();
    for m in &manifest.files {
        if listed.insert(m.path.as_str(), m).is_some() {
            return Err(format!("its manifest lists {:?} twice", m.path));
        }
    }
    for (path, m) in staged {
        let Some(expected) = listed.get(path.as_str()) else {
            return Err(format!("{path:?} is not in its manifest"));
        };
        if *expected != m {
            return Err(format!(
                "{path:?} does not match its manifest (sha256 {} and {} bytes, the manifest says {} and {} bytes)",
                m.sha256, m.size, expected.sha256, expected.size
            ));
        }
        match kind_of(path) {
            Some(Kind::Attachment(sha) | Kind::SignedRelease(sha)) if sha != m.sha256 => {
                return Err(format!("{path:?} does not hash to its name"));
            }
            Some(Kind::SignedRelease(_) | Kind::InstallBinary) if !with_binaries => {
                return Err(format!(
                    "its manifest says format {}, which holds no agent binaries, yet it has {path:?}",
                    manifest.format_version
                ));
            }
            _ => {}
        }
    }
    if let Some(missing) = listed.keys().find(|p| !staged.contains_key(**p)) {
        return Err(format!("{missing:?} is missing"));
    }
    if !staged.contains_key(crate::DB_FILE) {
        return Err("it has no database".into());
    }
    Ok(())
}

/// Why the database was refused.
pub(super) enum Check {
    Damaged(String),
    TooNew(u32),
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for Check {
    fn from(e: rusqlite::Error) -> Self {
        Check::Sqlite(e)
    }
}

/// What the restored database refers to.
pub(super) struct Contents {
    /// Attachment files (all staged).
    pub attachments: usize,
    /// The binaries of its signed releases.
    pub releases: Vec<ReleaseBinary>,
}

/// The binary of one or more `agent_releases` rows.
pub(super) struct ReleaseBinary {
    pub sha256: String,
    /// The releases, for messages (`2.0.0 for linux/x86_64`).
    pub names: String,
}

/// `PRAGMA integrity_check`, the schema version, and every attachment row's file staged;
/// returns what the database refers to.
pub(super) fn check_database(
    db: &Path,
    staged: &BTreeMap<String, Member>,
) -> Result<Contents, Check> {
    let c = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut st = c.prepare("PRAGMA integrity_check")?;
    let problems = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    drop(st);
    if problems != ["ok"] {
        let shown: Vec<_> = problems.iter().take(5).cloned().collect();
        return Err(Check::Damaged(format!(
            "its database fails PRAGMA integrity_check: {}",
            shown.join("; ")
        )));
    }
    let version: u32 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > crate::db::migrations::latest() {
        return Err(Check::TooNew(version));
    }
    let mut attachments = 0;
    if has_table(&c, "attachments")? {
        let mut st = c.prepare("SELECT DISTINCT sha256 FROM attachments")?;
        for sha in st.query_map([], |r| r.get::<_, String>(0))? {
            let sha = sha?;
            if !is_digest(&sha) || !staged.contains_key(&attachment_member(&sha)) {
                return Err(Check::Damaged(format!(
                    "its database refers to the attachment {sha:?}, which it does not contain"
                )));
            }
            attachments += 1;
        }
    }
    let mut releases = Vec::new();
    if has_table(&c, "agent_releases")? {
        let mut st = c.prepare(
            "SELECT sha256, group_concat(version || ' for ' || os || '/' || arch, ', ')
             FROM agent_releases GROUP BY sha256 ORDER BY sha256",
        )?;
        for row in st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
            let (sha256, names) = row?;
            releases.push(ReleaseBinary { sha256, names });
        }
    }
    Ok(Contents {
        attachments,
        releases,
    })
}

/// Every signed release's binary is staged (an archive that holds agent binaries).
pub(super) fn releases_staged(
    releases: &[ReleaseBinary],
    staged: &BTreeMap<String, Member>,
) -> Result<(), String> {
    for r in releases {
        if !is_digest(&r.sha256) || !staged.contains_key(&super::signed_release_member(&r.sha256)) {
            return Err(format!(
                "its database has the agent release {} (binary {:?}), whose binary it does not contain",
                r.names, r.sha256
            ));
        }
    }
    Ok(())
}
