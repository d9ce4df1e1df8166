//! Reports as a chain: each collection becomes the next report (full, delta or
//! heartbeat), is spooled on disk, and is delivered oldest first.
//!
//! - [`queue`]: [`ReportQueue`], the one type the run loop uses: `produce`, `deliver`.
//! - [`chain`]: the persisted position in the chain (`report-state.json`).
//! - [`spool`]: the reports not yet accepted (`spool/{seq:020}.json`), bounded in size
//!   and age.
//! - [`delta`]: what changed between two inventories; [`digest`]: how both sides tell
//!   whether they hold the same inventory; [`carry`]: the previous software of a source
//!   whose collector failed.
//! - [`wire`]: the body on the wire, gzip-compressed when large.
//!
//! The server applies a delta or heartbeat only on top of the digest it stored for this
//! agent, skips a sequence number it has already applied (so a retried report is
//! harmless), and answers a broken chain with `SendFullReport`.

pub mod carry;
pub mod chain;
#[cfg(test)]
mod delivery_tests;
pub mod delta;
pub mod digest;
pub mod queue;
pub mod spool;
#[cfg(test)]
mod tests;
pub mod wire;

pub use chain::REPORT_STATE_FILE;
pub use queue::{Delivery, ReportQueue};
pub use spool::{SPOOL_DIR, SpoolLimits};
pub use wire::{GZIP_THRESHOLD, encode, wire_size};

use crate::collect::{self, CollectOptions};
use crate::state::StateError;
use std::path::Path;
use steward_shared::ReportKind;

/// Start a new chain: forget the last report and the spooled ones (on enrollment, when
/// the agent gets a new identity whose chain on the server is empty).
pub fn forget(state_dir: &Path) -> Result<(), StateError> {
    let path = state_dir.join(REPORT_STATE_FILE);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(StateError::Io {
                action: "remove",
                path,
                source: e,
            });
        }
        _ => {}
    }
    let dropped = spool::Spool::open(state_dir.join(SPOOL_DIR))?.clear();
    if dropped > 0 {
        tracing::info!(dropped, "dropped the previous enrollment's unsent reports");
    }
    Ok(())
}

/// Bytes on the wire of this machine's reports (`steward-agent collect --wire-size`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireSizes {
    /// The first report: the whole inventory.
    pub full: usize,
    /// Whether that went gzip-compressed, and its size as plain JSON.
    pub full_gzip: bool,
    pub full_json: usize,
    /// A second collection right after: a heartbeat unless something changed between.
    pub second: usize,
    pub second_kind: ReportKind,
    /// A delta with one package upgraded.
    pub one_upgrade: usize,
}

/// Collect twice and produce into a fresh queue in `scratch_dir` (which should not
/// exist; the caller removes it afterwards), measuring each report's body.
pub fn measure_wire_sizes(
    options: &CollectOptions,
    scratch_dir: &Path,
) -> Result<WireSizes, StateError> {
    let mut queue = ReportQueue::open(scratch_dir, SpoolLimits::default())?;
    let (inventory, health) = collect::collect(options);
    let now = health.taken_at;
    let full = queue.produce(inventory, health, now)?;
    let (inventory, health) = collect::collect(options);
    let mut upgraded = inventory.clone();
    let second = queue.produce(inventory, health.clone(), now + 1)?;
    match upgraded.software.first_mut() {
        Some(package) => package.version.push_str("+1"),
        None => upgraded.hostname.push_str("-renamed"),
    }
    let one_upgrade = queue.produce(upgraded, health, now + 2)?;
    Ok(WireSizes {
        full: wire_size(&full),
        full_gzip: encode(&full).1,
        full_json: wire::to_json(&full).len(),
        second: wire_size(&second),
        second_kind: second.kind,
        one_upgrade: wire_size(&one_upgrade),
    })
}
