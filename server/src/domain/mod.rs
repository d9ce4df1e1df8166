//! Domain rules that are not I/O: roles, hardware identity, inventory changes,
//! tickets and their workflow, business-hours calendars and the SLA clock, attachments.
//! Plain functions, unit tested without a database.

pub mod alerts;
pub mod assets;
pub mod assignment;
pub mod attachments;
pub mod calendar;
pub mod changes;
pub mod identity;
pub mod install_scripts;
pub mod labels;
pub mod lockout;
pub mod maintenance;
pub mod recurrence;
pub mod roles;
pub mod rollout;
pub mod sla;
pub mod tickets;
pub mod versions;
