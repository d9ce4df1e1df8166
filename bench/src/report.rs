//! Formatting figures for people: thousands separators, sizes, and the results table.

use crate::measure::Timing;
use std::time::Duration;

/// The p95 every measured request must stay under.
pub const TARGET_P95: Duration = Duration::from_millis(50);

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Bytes in decimal units with the binary figure beside: `2.41 GB (2.25 GiB)`.
pub fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes >= 1_000_000_000 {
        format!("{:.2} GB ({:.2} GiB)", b / 1e9, b / f64::from(1u32 << 30))
    } else {
        format!("{:.1} MB ({:.1} MiB)", b / 1e6, b / f64::from(1u32 << 20))
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// The results as a Markdown table, one row per query.
pub fn table(rows: &[Timing]) -> String {
    let header = [
        "query", "response", "p50 ms", "p95 ms", "p99 ms", "max ms", "target", "result",
    ];
    let target = format!("p95 < {} ms", TARGET_P95.as_millis());
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|t| {
            [
                t.label.clone(),
                t.response.clone(),
                ms(t.percentile(50.0)),
                ms(t.percentile(95.0)),
                ms(t.percentile(99.0)),
                ms(t.percentile(100.0)),
                target.clone(),
                if t.percentile(95.0) < TARGET_P95 {
                    "PASS".into()
                } else {
                    "MISS".into()
                },
            ]
        })
        .collect();
    markdown_table(&header, &cells, 2..=5)
}

/// A Markdown table with its columns padded to their widest cell; the columns in `right`
/// (figures) are right-aligned, the others left-aligned.
pub fn markdown_table<const N: usize>(
    header: &[&str; N],
    cells: &[[String; N]],
    right: std::ops::RangeInclusive<usize>,
) -> String {
    let mut widths = header.map(str::len);
    for row in cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| -> String {
        let mut s = String::from("|");
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            let pad = " ".repeat(w - c.chars().count());
            if right.contains(&i) {
                s += &format!(" {pad}{c} |");
            } else {
                s += &format!(" {c}{pad} |");
            }
        }
        s
    };
    let mut out = line(&header.map(String::from));
    out.push('\n');
    out += &line(&widths.map(|w| "-".repeat(w)));
    for row in cells {
        out.push('\n');
        out += &line(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn sizes() {
        assert_eq!(size(2_500_000_000), "2.50 GB (2.33 GiB)");
        assert_eq!(size(1_500_000), "1.5 MB (1.4 MiB)");
    }

    #[test]
    fn table_marks_pass_and_miss() {
        let fast = Timing::new(
            "fast".into(),
            vec![Duration::from_millis(2); 10],
            "1 item".into(),
        );
        let slow = Timing::new(
            "slow".into(),
            vec![Duration::from_millis(80); 10],
            "1 item".into(),
        );
        let t = table(&[fast, slow]);
        assert!(t.lines().nth(2).is_some_and(|l| l.contains("PASS")), "{t}");
        assert!(t.lines().nth(3).is_some_and(|l| l.contains("MISS")), "{t}");
    }
}
