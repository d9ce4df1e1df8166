//! Domain rules that are not I/O: roles, hardware identity, inventory changes.
//! Plain functions, unit tested without a database.

pub mod alerts;
pub mod changes;
pub mod identity;
pub mod roles;
