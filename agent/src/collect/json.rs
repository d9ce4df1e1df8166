//! Reading the loose JSON that OS tools print (PowerShell's `ConvertTo-Json`,
//! `system_profiler -json`, `brew info --json`): fields that may be missing, null, a
//! number or a string; lists that may be a single bare object; dates in several shapes.
//! Nothing here fails: what cannot be read is empty.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::Value;

/// Why a tool's output is not JSON; `Ok` for JSON and for empty output (the tool found
/// nothing). Checks without building the value.
pub(crate) fn check(bytes: &[u8]) -> Result<(), String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map(|_| ())
        .map_err(|e| format!("output is not JSON: {e}"))
}

/// A tool's output as JSON. Empty output is `Null` (the tool found nothing); output that
/// is not JSON is `Null` too, with a warning naming `what`. A UTF-8 byte order mark is
/// skipped.
pub(crate) fn parse(bytes: &[u8], what: &str) -> Value {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        tracing::warn!(error = %e, what, "tool output is not JSON");
        Value::Null
    })
}

/// The items of a list. PowerShell prints a list of one as the bare object and an
/// empty list as nothing, so an object is a list of one and null a list of none.
/// Windows PowerShell 5.1 sometimes prints a list as `{"value": [...], "Count": n}`
/// (an array wrapped in a PSObject); that is the list.
pub(crate) fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(list) => list,
        Value::Null => &[],
        Value::Object(map) if map.len() == 2 && map.get("Count").is_some_and(Value::is_u64) => {
            match map.get("value") {
                Some(Value::Array(list)) => list,
                _ => std::slice::from_ref(v),
            }
        }
        other => std::slice::from_ref(other),
    }
}

/// Field `key` of an object: the exact name, else the same name in another case
/// (PowerShell property names are case-insensitive).
pub(crate) fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let map = v.as_object()?;
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// A field as trimmed text: strings as they are, numbers and booleans printed, anything
/// else (missing, null, lists, objects) empty.
pub(crate) fn text(v: &Value, key: &str) -> String {
    get(v, key).map(value_text).unwrap_or_default()
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// A field as a list of texts: a list (empty entries dropped) or a single value.
pub(crate) fn texts(v: &Value, key: &str) -> Vec<String> {
    get(v, key)
        .map(|f| {
            items(f)
                .iter()
                .map(value_text)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A field as an unsigned integer: a number (fractions dropped) or a numeric string.
pub(crate) fn uint(v: &Value, key: &str) -> Option<u64> {
    match get(v, key)? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A field as a flag: `true`, a non-zero number, or the strings "1", "true", "yes".
pub(crate) fn flag(v: &Value, key: &str) -> bool {
    match get(v, key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => {
            let s = s.trim();
            s == "1" || s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("yes")
        }
        _ => false,
    }
}

/// A field as a date, in Unix seconds. See [`date_value`] for the shapes understood.
pub(crate) fn date(v: &Value, key: &str) -> Option<i64> {
    get(v, key).and_then(date_value)
}

/// A date in any of the shapes tools print:
/// - Windows PowerShell 5.1: `"/Date(1715904000000)/"` (milliseconds, maybe with an
///   offset such as `+0200`, which does not change the instant), or an object whose
///   `value` is that string (a `DateTime` with PowerShell's `DisplayHint` attached);
/// - PowerShell 7 and macOS: RFC 3339, `"2024-05-17T00:00:00Z"`, or without an offset
///   (taken as UTC);
/// - WMI (CIM_DATETIME): `"20240517000000.000000+000"` (the offset is in minutes);
/// - a number: Unix seconds.
pub(crate) fn date_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::Object(_) => get(v, "value").and_then(date_value),
        Value::String(s) => date_text(s.trim()),
        _ => None,
    }
}

fn date_text(s: &str) -> Option<i64> {
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        // The offset, if any, starts at the first sign after the leading one.
        let end = inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
            .map_or(inner.len(), |(i, _)| i);
        let millis: i64 = inner[..end].parse().ok()?;
        return Some(millis.div_euclid(1000));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc().timestamp());
    }
    cim_datetime(s)
}

/// `yyyymmddHHMMSS.mmmmmm+UUU`, UUU being the offset from UTC in minutes.
fn cim_datetime(s: &str) -> Option<i64> {
    let digits = s.get(..14)?;
    let local = NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S").ok()?;
    let offset_minutes: i64 = s.get(21..).and_then(|o| o.parse().ok()).unwrap_or_default();
    Some(local.and_utc().timestamp() - offset_minutes * 60)
}

/// `yyyymmdd` (as in the registry's `InstallDate`), as Unix seconds at midnight UTC.
pub(crate) fn yyyymmdd(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = NaiveDate::parse_from_str(s, "%Y%m%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_of_one_and_none() {
        assert_eq!(items(&json!([1, 2])).len(), 2);
        assert_eq!(items(&json!({"a": 1})), &[json!({"a": 1})]);
        assert!(items(&Value::Null).is_empty());
        assert!(items(&json!([])).is_empty());
        assert_eq!(
            items(&json!({"value": [1, 2], "Count": 2})),
            &[json!(1), json!(2)]
        );
        assert_eq!(items(&json!({"value": 3, "Count": 1})).len(), 1);
    }

    #[test]
    fn loose_fields() {
        let v = json!({"Name": " Dell Inc. ", "Size": "512", "Cores": 8, "Big": 3.4e10,
                       "On": 1, "Off": "0", "Neg": -5, "Ips": "10.0.0.1", "Ipl": ["a", "", 7]});
        assert_eq!(text(&v, "Name"), "Dell Inc.");
        assert_eq!(text(&v, "name"), "Dell Inc.");
        assert_eq!(text(&v, "Cores"), "8");
        assert_eq!(text(&v, "Missing"), "");
        assert_eq!(text(&v, "Ipl"), "");
        assert_eq!(uint(&v, "Size"), Some(512));
        assert_eq!(uint(&v, "Cores"), Some(8));
        assert_eq!(uint(&v, "Big"), Some(34_000_000_000));
        assert_eq!(uint(&v, "Neg"), None);
        assert_eq!(uint(&v, "Name"), None);
        assert!(flag(&v, "On"));
        assert!(!flag(&v, "Off"));
        assert!(!flag(&v, "Missing"));
        assert_eq!(texts(&v, "Ips"), vec!["10.0.0.1"]);
        assert_eq!(texts(&v, "Ipl"), vec!["a", "7"]);
        assert!(texts(&v, "Missing").is_empty());
    }

    #[test]
    fn dates_in_every_shape() {
        let may17 = 1_715_904_000; // 2024-05-17T00:00:00Z
        for v in [
            json!("/Date(1715904000000)/"),
            json!("/Date(1715904000000+0200)/"),
            json!({"value": "/Date(1715904000000)/", "DisplayHint": 2,
                   "DateTime": "Friday, May 17, 2024 2:00:00 AM"}),
            json!("2024-05-17T00:00:00Z"),
            json!("2024-05-17T02:00:00.1234567+02:00"),
            json!("2024-05-17T00:00:00"),
            json!("20240517000000.000000+000"),
            json!("20240517020000.000000+120"),
            json!(may17),
        ] {
            assert_eq!(date_value(&v), Some(may17), "{v}");
        }
        assert_eq!(date_value(&json!("/Date(-1000)/")), Some(-1));
        for bad in [
            json!(""),
            json!("yesterday"),
            json!("/Date(x)/"),
            json!(null),
            json!([]),
        ] {
            assert_eq!(date_value(&bad), None, "{bad}");
        }
    }

    #[test]
    fn registry_dates() {
        assert_eq!(yyyymmdd("20240517"), Some(1_715_904_000));
        assert_eq!(yyyymmdd(" 20240517 "), Some(1_715_904_000));
        for bad in ["2024-05-17", "20241317", "2024051", "", "5/17/2024"] {
            assert_eq!(yyyymmdd(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_and_empty_output() {
        assert_eq!(parse(b"", "t"), Value::Null);
        assert_eq!(parse(b" \r\n", "t"), Value::Null);
        assert_eq!(parse(b"{not json", "t"), Value::Null);
        assert_eq!(parse(b"\xEF\xBB\xBF[1]", "t"), json!([1]));
    }
}
