//! Benchmarks that need the workspace's code rather than its binaries.
//!
//! `desk-bench` ([`desk::run`]) seeds a service desk of realistic size into a data
//! directory and times the technician's queries against the real server over HTTP;
//! `asset-bench` ([`asset_bench::run`]) does the same for a fleet of machines with their
//! installed software: the asset list and the software catalog; `maintenance-bench`
//! ([`maintenance::run`]) seeds assets with maintenance plans and times the evaluator;
//! `loadgen` ([`loadgen::run`]) simulates a fleet of agents against the release server;
//! `ui-bench` ([`ui_bench::run`]) seeds assets and tickets together and times every page of
//! the web UI.
#![forbid(unsafe_code)]

pub mod asset_bench;
pub mod asset_cases;
pub mod desk;
pub mod harness;
pub mod legacy;
pub mod loadgen;
pub mod maintenance;
pub mod measure;
pub mod report;
pub mod rng;
pub mod seed;
pub mod ui_bench;
pub mod words;
