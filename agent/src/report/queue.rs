//! [`ReportQueue`]: turns each collection into the next report of the chain (full, delta
//! or heartbeat), spools it, and delivers the spool to the server oldest first.

use super::chain::{Baseline, Loaded, ReportState};
use super::digest::inventory_digest;
use super::spool::{self, SPOOL_DIR, Spool, SpoolEntry, SpoolLimits};
use super::wire;
use super::{carry, delta};
use crate::client::{Client, ClientError};
use crate::run::RunError;
use crate::state::{Credentials, StateError};
use std::path::{Path, PathBuf};
use steward_shared::{
    AgentCommand, CheckinRequest, CheckinResponse, Health, Inventory, ReportKind, UpdateStatus,
};

/// What one [`ReportQueue::deliver`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    /// Sequence numbers the server accepted, in order.
    pub delivered: Vec<u64>,
    /// The server's reply to the last of them.
    pub last_response: Option<CheckinResponse>,
    /// The commands of every reply, in order.
    pub commands: Vec<AgentCommand>,
    /// The server asked for a full report: the spool was emptied and the next report
    /// produced is full.
    pub full_requested: bool,
    /// Reports the server refused as invalid (4xx) and that were dropped.
    pub dropped: usize,
}

/// The chain of reports of the agent whose state directory this is. One process owns it.
#[derive(Debug)]
pub struct ReportQueue {
    state_dir: PathBuf,
    limits: SpoolLimits,
    state: ReportState,
    /// The state was lost: the next report's sequence number must also be above any the
    /// server may have seen, so it is raised to a floor taken from the clock.
    reseed: bool,
    spool: Spool,
    /// What a delivery that then failed had already done, handed out by the next one.
    carried: Delivery,
    /// The agent's version and last update outcome, added to each report as it is sent
    /// (not spooled: a report sent later says what is true then).
    update: Option<UpdateStatus>,
}

/// What to do about a refused report.
enum Verdict {
    /// Credentials refused: the agent was revoked.
    Revoked,
    /// The server will never accept this report: drop it and go on.
    Drop,
    /// Try again later (network, server trouble, a reply we do not understand).
    Stop,
}

impl ReportQueue {
    /// The queue in `state_dir`. A missing or damaged `report-state.json` is not an error:
    /// the next report is a full one.
    pub fn open(state_dir: &Path, limits: SpoolLimits) -> Result<ReportQueue, StateError> {
        let mut spool = Spool::open(state_dir.join(SPOOL_DIR))?;
        let after_spool = spool.max_seq().map_or(1, |s| s.saturating_add(1));
        let (state, reseed) = match ReportState::load(state_dir)? {
            Loaded::Found(state) => {
                // Written by a produce whose state update never landed (the agent
                // stopped in between): that sequence number is produced again.
                for seq in spool.seqs().into_iter().filter(|s| *s >= state.next_seq) {
                    tracing::info!(seq, "discarding a report that was spooled but not recorded");
                    spool.remove(seq);
                }
                (state, false)
            }
            Loaded::Missing => {
                if after_spool > 1 {
                    tracing::warn!(
                        "the report state is missing but reports are spooled; starting over \
                         with a full report"
                    );
                }
                let state = ReportState {
                    next_seq: after_spool,
                    ..ReportState::default()
                };
                (state, false)
            }
            Loaded::Corrupt(message) => {
                tracing::warn!(
                    error = %message,
                    "the report state is damaged; starting over with a full report"
                );
                let state = ReportState {
                    next_seq: after_spool,
                    ..ReportState::default()
                };
                (state, true)
            }
        };
        Ok(ReportQueue {
            state_dir: state_dir.to_path_buf(),
            limits,
            state,
            reseed,
            spool,
            carried: Delivery::default(),
            update: None,
        })
    }

    /// New spool limits, applied at the next [`ReportQueue::produce`].
    pub fn set_limits(&mut self, limits: SpoolLimits) {
        self.limits = limits;
    }

    /// Make the next report from `inventory` and `health` collected at `now` (Unix
    /// seconds), spool it, and return it: full when there is no previous report to
    /// compare with, a heartbeat when nothing changed, a delta otherwise. Software
    /// sources that failed keep their previous items ([`carry`]). The spool file
    /// is written before the state, so a crash in between makes the same sequence number
    /// again.
    ///
    /// The previous report's inventory is read back from the state file only when this
    /// report needs it (a delta, or a failed source), and the new one is kept there, not
    /// in memory.
    pub fn produce(
        &mut self,
        mut inventory: Inventory,
        health: Health,
        now: i64,
    ) -> Result<CheckinRequest, StateError> {
        // `None` until read; then the previous inventory, if it could be read.
        let mut base: Option<Option<Inventory>> = None;
        if carry::has_failed_sources(&inventory) {
            let read = base.insert(self.state.read_baseline(&self.state_dir));
            if let Some(read) = read {
                carry::keep_failed_sources(read, &mut inventory);
            }
        }
        delta::normalize(&mut inventory);
        if self.reseed {
            let floor = u64::try_from(now).unwrap_or(0).saturating_mul(1000);
            self.state.next_seq = self.state.next_seq.max(floor);
        }
        let seq = self.state.next_seq;
        let digest = inventory_digest(&inventory);
        // A new agent version on an unchanged machine is sent as an empty delta, so
        // the server learns the version.
        let unchanged = self.state.baseline.as_ref().is_some_and(|b| {
            digest == self.state.digest && b.agent_version == inventory.agent_version
        });
        let base = if unchanged {
            None
        } else {
            base.get_or_insert_with(|| self.state.read_baseline(&self.state_dir))
                .as_ref()
        };
        // The new baseline: kept in the request of a full report, else beside it.
        let (request, baseline) = if unchanged {
            let request = CheckinRequest {
                kind: ReportKind::Heartbeat,
                seq,
                base_digest: self.state.digest.clone(),
                digest: digest.clone(),
                health,
                ..CheckinRequest::default()
            };
            (request, Some(inventory))
        } else if let Some(base) = base {
            let request = CheckinRequest {
                kind: ReportKind::Delta,
                seq,
                base_digest: self.state.digest.clone(),
                digest: digest.clone(),
                delta: Some(delta::build(base, &inventory)),
                health,
                ..CheckinRequest::default()
            };
            (request, Some(inventory))
        } else {
            let request = CheckinRequest {
                kind: ReportKind::Full,
                seq,
                base_digest: String::new(),
                digest: digest.clone(),
                inventory,
                delta: None,
                health,
                update: None,
            };
            (request, None)
        };
        let entry = SpoolEntry {
            produced_at: now,
            request,
        };
        self.spool.write(seq, &entry)?;
        let baseline = baseline.as_ref().unwrap_or(&entry.request.inventory);
        let next = ReportState {
            next_seq: seq.saturating_add(1),
            digest,
            baseline: Some(Baseline::of(baseline)),
        };
        if let Err(e) = next.save(&self.state_dir, Some(baseline)) {
            // Not recorded: do not deliver it; the next produce makes this seq again.
            self.spool.remove(seq);
            return Err(e);
        }
        self.state = next;
        self.reseed = false;
        self.spool.enforce(self.limits, now, seq);
        tracing::debug!(seq, kind = ?entry.request.kind, "report spooled");
        Ok(entry.request)
    }

    /// Make the next report a full one.
    pub fn request_full(&mut self) {
        if self.state.baseline.take().is_none() {
            return;
        }
        if let Err(e) = self.state.save(&self.state_dir, None) {
            tracing::warn!(error = %e, "cannot record that the next report must be full");
        }
    }

    /// Sequence numbers waiting in the spool, oldest first.
    pub fn pending(&self) -> Vec<u64> {
        self.spool.seqs()
    }

    /// Send the spooled reports, oldest first, removing each the server accepts.
    ///
    /// A reply asking for a full report empties the rest of the spool (those reports build
    /// on a chain the server lost) and makes the next report full. A report the server
    /// refuses as invalid is dropped and the next one sent. On anything worth retrying
    /// (network, 5xx, 429) it stops with that error and the rest stays spooled; a
    /// refused credential is [`RunError::Revoked`].
    /// What each report sent from now on says about the agent's version and updates.
    pub fn set_update_status(&mut self, status: Option<UpdateStatus>) {
        self.update = status;
    }

    pub async fn deliver(
        &mut self,
        client: &Client,
        creds: &Credentials,
    ) -> Result<Delivery, RunError> {
        let mut out = std::mem::take(&mut self.carried);
        for seq in self.spool.seqs() {
            let path = self.spool.path(seq);
            let body = match read_spooled(path.clone(), self.update.clone(), wire::encode).await {
                Ok(body) => body,
                Err(e) => {
                    tracing::warn!(seq, error = %e, "dropping a spooled report that cannot be read");
                    self.spool.remove(seq);
                    out.dropped += 1;
                    continue;
                }
            };
            let response = match send(client, creds, path, self.update.clone(), body).await {
                Ok(response) => response,
                Err(e) => match verdict(&e) {
                    Verdict::Revoked => {
                        self.carried = out;
                        return Err(RunError::Revoked);
                    }
                    Verdict::Drop => {
                        tracing::error!(seq, error = %e, "the server refused a report; dropping it");
                        self.spool.remove(seq);
                        out.dropped += 1;
                        continue;
                    }
                    Verdict::Stop => {
                        self.carried = out;
                        return Err(RunError::Client(e));
                    }
                },
            };
            self.spool.remove(seq);
            out.delivered.push(seq);
            out.commands.extend(response.commands.iter().cloned());
            let full = response.commands.contains(&AgentCommand::SendFullReport);
            out.last_response = Some(response);
            if full {
                let discarded = self.spool.clear();
                tracing::warn!(
                    seq,
                    discarded,
                    "the server cannot apply this agent's reports; the next one is full"
                );
                self.request_full();
                out.full_requested = true;
                break;
            }
        }
        Ok(out)
    }
}

/// Send one report, encoded by [`wire::encode`] from the spool file `path`. A gzip body
/// refused as unreadable (a server without gzip support) is sent again as plain JSON.
async fn send(
    client: &Client,
    creds: &Credentials,
    path: PathBuf,
    update: Option<UpdateStatus>,
    (body, gzip): (Vec<u8>, bool),
) -> Result<CheckinResponse, ClientError> {
    let result = client.checkin_body(creds, body, gzip).await;
    match result {
        Err(e) if gzip && matches!(e.status(), Some(400 | 415)) => {
            tracing::debug!(error = %e, "compressed report refused; sending it uncompressed");
            match read_spooled(path, update, wire::to_json).await {
                Ok(json) => client.checkin_body(creds, json, false).await,
                // Gone from the spool meanwhile: the refusal stands.
                Err(_) => Err(e),
            }
        }
        other => other,
    }
}

/// Read the spooled report in `path` and encode it with `encode`, on a blocking thread:
/// a full report is several hundred KB as structs, kept off the runtime's thread.
async fn read_spooled<T: Send + 'static>(
    path: PathBuf,
    update: Option<UpdateStatus>,
    encode: fn(&CheckinRequest) -> T,
) -> Result<T, String> {
    tokio::task::spawn_blocking(move || {
        spool::read_entry(path).map(|mut e| {
            if update.is_some() {
                e.request.update = update;
            }
            encode(&e.request)
        })
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())
}

fn verdict(e: &ClientError) -> Verdict {
    match e.status() {
        Some(401) => Verdict::Revoked,
        // 404: the wrong URL or a server without this API; 408 and 429: try later.
        Some(404 | 408 | 429) => Verdict::Stop,
        Some(400..=499) => Verdict::Drop,
        // Transport, 5xx, a 2xx reply we cannot read, a local setup problem.
        _ => Verdict::Stop,
    }
}
