//! The agent's cron schedule: crontab syntax over the `cron` crate, shared with the
//! server's maintenance plans (`steward_shared::schedule`). The agent evaluates it in UTC.

pub use steward_shared::schedule::{Schedule, ScheduleError};
