//! CSV files both ways. Reading one as people hand it over: UTF-8 (a byte-order mark is
//! dropped), comma, semicolon or tab as the delimiter (whichever the header line uses
//! most), quoted fields, and a header row. Writing rows for exports (RFC 4180), with the
//! cell guard against formula injection that imports take off again.

use std::borrow::Cow;

/// The parsed file: column names and the data rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub delimiter: u8,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The row number a spreadsheet shows: the header is row 1, the first data row 2. A
    /// record with line breaks inside quotes is still one row.
    pub number: usize,
    /// One cell per header column (missing trailing cells are empty), guard removed.
    pub cells: Vec<String>,
    /// How many non-empty cells lie beyond the header's columns.
    pub extra: usize,
}

/// Why a file cannot be read at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not UTF-8 text (first bad byte at offset {0}); save it as CSV UTF-8")]
    NotUtf8(usize),
    #[error("the first row must name the columns (a header row), but it is empty")]
    NoHeader,
    #[error("the CSV cannot be read: {0}")]
    Malformed(String),
}

impl TableError {
    /// The stable code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            TableError::Empty => "empty_file",
            TableError::NotUtf8(_) => "invalid_encoding",
            TableError::NoHeader => "missing_header",
            TableError::Malformed(_) => "invalid_csv",
        }
    }
}

/// The delimiter the header line uses most: `,` (also on a tie or with a single column),
/// `;` or tab. Separators inside quotes do not count.
pub fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for ch in text.chars() {
        match ch {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = [b',', b';', b'\t']
        .into_iter()
        .zip(counts)
        .fold(
            (b',', 0),
            |best, (d, n)| if n > best.1 { (d, n) } else { best },
        );
    best.0
}

/// Reads the whole file.
pub fn parse(bytes: &[u8]) -> Result<Table, TableError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| TableError::NotUtf8(e.valid_up_to()))?;
    if text.trim().is_empty() {
        return Err(TableError::Empty);
    }
    let delimiter = detect_delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let malformed = |e: csv::Error| TableError::Malformed(e.to_string());
    if !reader.read_record(&mut record).map_err(malformed)? {
        return Err(TableError::Empty);
    }
    let headers: Vec<String> = record.iter().map(|h| h.trim().to_owned()).collect();
    if headers.iter().all(String::is_empty) {
        return Err(TableError::NoHeader);
    }
    let width = headers.len();
    let mut rows = Vec::new();
    while reader.read_record(&mut record).map_err(malformed)? {
        let mut cells: Vec<String> = record
            .iter()
            .take(width)
            .map(|c| unguard(c).to_owned())
            .collect();
        cells.resize(width, String::new());
        let extra = record
            .iter()
            .skip(width)
            .filter(|c| !c.trim().is_empty())
            .count();
        rows.push(Row {
            number: rows.len() + 2,
            cells,
            extra,
        });
    }
    Ok(Table {
        delimiter,
        headers,
        rows,
    })
}

/// Characters that make a spreadsheet read a cell as a formula.
fn formula_start(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Whether [`guard`] puts an apostrophe before `s`: a formula start, after any number of
/// apostrophes (so that a cell that merely looks guarded, like `'=1`, is guarded too).
fn needs_guard(s: &str) -> bool {
    formula_start(s.trim_start_matches('\''))
}

/// A cell as an export writes it: text a spreadsheet would run as a formula gets a
/// leading apostrophe, which spreadsheets show as text.
pub fn guard(cell: &str) -> Cow<'_, str> {
    if needs_guard(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Takes off the apostrophe [`guard`] added, so an export imports as it was.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

/// Appends one row to `out` as RFC 4180 has it: comma-separated, a field quoted when it
/// holds a comma, quote or line break (quotes doubled), `\r\n` at the end. Every cell is
/// [`guard`]ed.
pub fn write_row<'a>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = &'a str>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let cell = guard(cell);
        if cell.contains([',', '"', '\n', '\r']) {
            out.push(b'"');
            for part in cell.split_inclusive('"') {
                out.extend_from_slice(part.as_bytes());
                if part.ends_with('"') {
                    out.push(b'"');
                }
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_line_decides_the_delimiter() {
        assert_eq!(detect_delimiter("a,b,c\n1;2;3;4;5"), b',');
        assert_eq!(detect_delimiter("a;b;c\n1,2"), b';');
        assert_eq!(detect_delimiter("\"a,b\";c;d"), b';');
        assert_eq!(detect_delimiter("a\tb"), b'\t');
        assert_eq!(detect_delimiter("name"), b',');
    }

    #[test]
    fn reads_quotes_bom_and_short_rows() {
        let t = parse(
            "\u{feff}Name;Notes;Cost\n\"Desk; oak\";\"two\nlines\";\"1.299,50\"\nChair\n\n"
                .as_bytes(),
        )
        .expect("parses");
        assert_eq!(t.delimiter, b';');
        assert_eq!(t.headers, ["Name", "Notes", "Cost"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells, ["Desk; oak", "two\nlines", "1.299,50"]);
        assert_eq!(t.rows[1].number, 3);
        assert_eq!(t.rows[1].cells, ["Chair", "", ""]);
    }

    #[test]
    fn extra_cells_are_counted() {
        let t = parse(b"a,b\n1,2,,\n1,2,3\n").expect("parses");
        assert_eq!(t.rows[0].extra, 0);
        assert_eq!(t.rows[1].extra, 1);
    }

    #[test]
    fn bad_files_say_why() {
        assert_eq!(parse(b""), Err(TableError::Empty));
        assert_eq!(parse(b"\xEF\xBB\xBF \n"), Err(TableError::Empty));
        assert_eq!(parse(b"a,b\n\xff\xfe"), Err(TableError::NotUtf8(4)));
        assert_eq!(parse(b",,\n1,2,3").map(|_| ()), Err(TableError::NoHeader));
    }

    #[test]
    fn written_rows_read_back() {
        let mut out = Vec::new();
        write_row(&mut out, ["id", "name", "notes"]);
        write_row(&mut out, ["1", "Desk, oak", "say \"hi\"\nthen go"]);
        write_row(&mut out, ["2", "=HYPERLINK(\"x\")", ""]);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "id,name,notes\r\n1,\"Desk, oak\",\"say \"\"hi\"\"\nthen go\"\r\n2,\"'=HYPERLINK(\"\"x\"\")\",\r\n"
        );
        let t = parse(&out).expect("parses");
        assert_eq!(t.rows[0].cells, ["1", "Desk, oak", "say \"hi\"\nthen go"]);
        assert_eq!(t.rows[1].cells, ["2", "=HYPERLINK(\"x\")", ""]);
    }

    #[test]
    fn the_formula_guard_round_trips() {
        for cell in ["=1+1", "+49 30 1234", "-5", "@SUM(A1)", "\tx"] {
            assert!(guard(cell).starts_with('\''));
            assert_eq!(unguard(&guard(cell)), cell);
        }
        assert_eq!(guard("Laptop"), "Laptop");
        assert_eq!(unguard("'quoted'"), "'quoted'");
        // Found by `written_rows_read_back_cell_for_cell`: a cell that already starts
        // with the guard's apostrophe lost it on import.
        for cell in ["'@", "'=1+1", "''-5"] {
            assert_eq!(guard(cell), format!("'{cell}"));
            assert_eq!(unguard(&guard(cell)), cell);
        }
        assert_eq!(unguard("Laptop"), "Laptop");
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod props;
