//! The one place that reads the wall clock. Everything else takes time as an argument.

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
