//! Printable label sheets: one QR code per asset (its public page's URL) with its name and
//! tag, laid out on A4 as SVG, which every browser prints at true size.

use qrcodegen::{QrCode, QrCodeEcc};

/// One label: what the QR code holds and the two lines printed beside it.
#[derive(Debug, Clone)]
pub struct Label {
    pub url: String,
    pub name: String,
    pub tag: String,
}

/// Labels per sheet row and rows per A4 sheet (63.5 x 38.1 mm, the common 21-up layout).
const COLUMNS: usize = 3;
const ROWS: usize = 7;
const LABEL_W: f64 = 63.5;
const LABEL_H: f64 = 38.1;
const MARGIN_X: f64 = 7.2;
const MARGIN_Y: f64 = 15.15;
const GAP_X: f64 = 2.5;

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Cuts `s` to `max` characters, with an ellipsis when cut.
fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The dark modules of the QR code for `text` as one SVG path in module units, and the
/// code's size in modules; `None` when the text is too long for a QR code.
pub fn qr_path(text: &str) -> Option<(String, i32)> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let n = qr.size();
    let mut d = String::new();
    for y in 0..n {
        for x in 0..n {
            if qr.get_module(x, y) {
                d.push_str(&format!("M{x} {y}h1v1h-1z"));
            }
        }
    }
    Some((d, n))
}

/// An SVG document of A4 pages (stacked vertically) holding `labels`.
pub fn sheet(labels: &[Label]) -> String {
    let per_page = COLUMNS * ROWS;
    let pages = labels.len().div_ceil(per_page).max(1);
    let height = 297.0 * pages as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"210mm\" height=\"{height}mm\" viewBox=\"0 0 210 {height}\">\n"
    );
    for (i, l) in labels.iter().enumerate() {
        let page = i / per_page;
        let slot = i % per_page;
        let (col, row) = (slot % COLUMNS, slot / COLUMNS);
        let x = MARGIN_X + col as f64 * (LABEL_W + GAP_X);
        let y = 297.0 * page as f64 + MARGIN_Y + row as f64 * LABEL_H;
        svg.push_str(&format!(
            "<g class=\"label\" transform=\"translate({x:.2} {y:.2})\">\n"
        ));
        if let Some((path, n)) = qr_path(&l.url) {
            // 30 mm square with a 4-module quiet zone.
            let scale = 30.0 / f64::from(n + 8);
            svg.push_str(&format!(
                "<g transform=\"translate(4 4) scale({scale:.4})\"><rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{w}\" fill=\"#fff\"/><path transform=\"translate(4 4)\" d=\"{path}\" fill=\"#000\"/></g>\n",
                w = n + 8
            ));
        }
        svg.push_str(&format!(
            "<text x=\"36\" y=\"14\" font-family=\"sans-serif\" font-size=\"3.6\" font-weight=\"bold\">{}</text>\n",
            xml_escape(&fit(&l.name, 16))
        ));
        svg.push_str(&format!(
            "<text x=\"36\" y=\"20\" font-family=\"monospace\" font-size=\"3.4\">{}</text>\n",
            xml_escape(&fit(&l.tag, 16))
        ));
        svg.push_str(
            "<text x=\"36\" y=\"30\" font-family=\"sans-serif\" font-size=\"2.4\">Problem? Scan to report</text>\n</g>\n",
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_draws_every_dark_module_once() {
        let url = "https://steward.example.com/p/0123456789abcdef0123456789abcdef";
        let (path, n) = qr_path(url).expect("fits");
        let qr = QrCode::encode_text(url, QrCodeEcc::Medium).expect("fits");
        let dark = (0..n)
            .flat_map(|y| (0..n).map(move |x| (x, y)))
            .filter(|&(x, y)| qr.get_module(x, y))
            .count();
        assert_eq!(path.matches('M').count(), dark);
        assert!(
            path.starts_with("M0 0h1v1h-1z"),
            "a finder pattern starts top left"
        );
    }

    #[test]
    fn sheets_hold_21_labels_and_escape_text() {
        let labels: Vec<Label> = (0..22)
            .map(|i| Label {
                url: format!("https://x/p/{i:032}"),
                name: format!("<Printer & {i}>"),
                tag: format!("PR-{i}"),
            })
            .collect();
        let svg = sheet(&labels);
        assert_eq!(svg.matches("class=\"label\"").count(), 22);
        assert!(svg.contains("height=\"594mm\""), "two A4 pages");
        assert!(svg.contains("&lt;Printer &amp; 0&gt;"));
        assert!(!svg.contains("<Printer"));
        assert_eq!(fit("abcdefghijklmnopqrstuvwxyz", 16).chars().count(), 16);
    }
}
