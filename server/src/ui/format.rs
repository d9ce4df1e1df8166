//! Formatting for pages: times, durations, URL encoding.

use chrono::{DateTime, Utc};

/// "2026-11-25 14:03 UTC", or "never".
pub fn datetime(ts: Option<i64>) -> String {
    ts.and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "never".into())
}

/// "5 min ago", "3 h ago", "2 days ago" relative to `now`.
pub fn ago(ts: Option<i64>, now: i64) -> String {
    let Some(t) = ts else { return "never".into() };
    let d = (now - t).max(0);
    match d {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", d / 60),
        3600..86_400 => format!("{} h ago", d / 3600),
        86_400..172_800 => "1 day ago".into(),
        _ => format!("{} days ago", d / 86_400),
    }
}

/// "3 d 4 h" for an uptime in seconds.
pub fn duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min")
    }
}

/// Percent-encodes everything but unreserved characters.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(datetime(Some(0)), "1970-01-01 00:00 UTC");
        assert_eq!(datetime(None), "never");
        assert_eq!(ago(Some(100), 100), "just now");
        assert_eq!(ago(Some(0), 7200), "2 h ago");
        assert_eq!(ago(Some(0), 90_000), "1 day ago");
        assert_eq!(ago(Some(0), 180_000), "2 days ago");
        assert_eq!(duration(90_061), "1 d 1 h");
        assert_eq!(duration(3_660), "1 h 1 min");
        assert_eq!(url_encode("/assets?q=a b&x"), "%2Fassets%3Fq%3Da%20b%26x");
    }
}
