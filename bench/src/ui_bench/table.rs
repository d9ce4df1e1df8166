//! The UI benchmark's results table: one row per page, p50/p95/max against the target.

use super::Row;
use super::pages::Who;
use std::time::Duration;

/// Issue 11's target for every page.
pub const TARGET_P95: Duration = Duration::from_millis(100);

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn who(w: Who) -> &'static str {
    match w {
        Who::Technician => "technician",
        Who::Admin => "admin",
        Who::Employee => "employee",
        Who::Public => "nobody",
    }
}

/// The results as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let header = [
        "page", "as", "body", "n", "p50 ms", "p95 ms", "max ms", "result",
    ];
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            let t = &r.timing;
            let p95 = t.percentile(95.0);
            [
                t.label.clone(),
                who(r.who).to_owned(),
                t.response.clone(),
                t.len().to_string(),
                ms(t.percentile(50.0)),
                ms(p95),
                ms(t.percentile(100.0)),
                if p95 < TARGET_P95 { "PASS" } else { "MISS" }.to_owned(),
            ]
        })
        .collect();
    crate::report::markdown_table(&header, &cells, 2..=6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Timing;

    #[test]
    fn marks_pages_against_100_ms() {
        let row = |label: &str, ms: u64| Row {
            who: Who::Technician,
            timing: Timing::new(
                label.into(),
                vec![Duration::from_millis(ms); 20],
                "3 KB".into(),
            ),
        };
        let t = table(&[row("/fast", 99), row("/slow", 100)]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[2].contains("/fast") && lines[2].contains("| PASS"),
            "{t}"
        );
        assert!(
            lines[3].contains("/slow") && lines[3].contains("| MISS"),
            "{t}"
        );
        assert!(lines[2].contains("| 20 |"), "{t}");
    }
}
