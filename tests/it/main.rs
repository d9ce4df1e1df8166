//! End-to-end tests: the real server on 127.0.0.1:0 with a real SQLite file in a temp
//! dir, spoken to over HTTP by the real agent code and by reqwest.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used)]

mod accounts;
mod agents;
mod alerts;
mod asset_audits;
mod asset_lifecycle;
mod asset_records;
mod assets;
mod attachment_access;
mod attachments;
mod audit_log;
mod authz_matrix;
mod backpressure;
mod backup;
mod bad_input;
mod browser;
mod browser_a11y;
mod browser_dashboard;
mod browser_journeys;
mod browser_queue;
mod browser_theme;
mod canned;
mod events;
mod exports;
mod groups;
mod helpers;
mod imports;
mod install_script;
mod legacy;
mod legacy_hostile;
mod licenses;
mod mail;
mod maintenance;
mod maintenance_downtime;
mod maintenance_targets;
mod offline;
mod openapi;
mod packaged_update;
mod packages;
mod packaging_sources;
mod protocol;
mod release_upload;
mod retention;
mod search;
mod self_update;
mod software;
mod tickets;
mod tls;
mod views;
mod web;
mod web_dashboard;
mod web_desk;
mod web_maintenance;
mod webdriver;
