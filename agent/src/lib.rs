//! The Steward agent: collects this machine's inventory and health and reports them to a
//! Steward server on a cron schedule.
//!
//! `main.rs` is a thin CLI over this library; the server's `quickstart` and the end-to-end
//! tests call the same functions ([`run::run`], [`run::enroll`], [`collect::collect`]).
#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub(crate) mod clock;
pub mod collect;
pub mod config;
pub mod enrollment;
pub mod report;
pub mod run;
pub mod schedule;
pub mod state;
pub mod update;

/// Version of this agent, reported to the server.
pub const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Install the ring rustls crypto provider for this process.
///
/// Idempotent: a provider that is already installed (by us or by the embedding program,
/// such as the server's `quickstart`) is kept.
pub fn install_crypto_provider() {
    // `Err` only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
