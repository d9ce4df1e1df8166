//! Property tests of the CSV reader: any bytes are read or refused with a reason, a row
//! always has one cell per column and a spreadsheet row number, and whatever an export
//! writes reads back cell for cell.
#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;

/// A cell as people and attackers fill them: separators, quotes, line breaks, formula
/// starts and the apostrophe that guards them, NUL, a BOM, odd unicode.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9 ]{0,6}",
        3 => "[,;\t\"'\r\n=+@a\u{0}\u{feff}é😀 -]{0,8}",
        1 => "(?s).{0,10}",
    ]
}

fn table() -> impl Strategy<Value = Vec<Vec<String>>> {
    (2usize..5)
        .prop_flat_map(|width| prop::collection::vec(prop::collection::vec(cell(), width), 0..6))
}

fn header(width: usize) -> Vec<String> {
    (0..width).map(|i| format!("col{i}")).collect()
}

fn write(headers: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = Vec::new();
    write_row(&mut out, headers.iter().map(String::as_str));
    for r in rows {
        write_row(&mut out, r.iter().map(String::as_str));
    }
    out
}

/// What every successful read promises.
fn check_shape(t: &Table) -> Result<(), TestCaseError> {
    prop_assert!(!t.headers.iter().all(String::is_empty));
    prop_assert!([b',', b';', b'\t'].contains(&t.delimiter));
    for (i, r) in t.rows.iter().enumerate() {
        prop_assert_eq!(r.number, i + 2);
        prop_assert_eq!(r.cells.len(), t.headers.len());
    }
    Ok(())
}

fn check_read(bytes: &[u8]) -> Result<(), TestCaseError> {
    match parse(bytes) {
        Ok(t) => check_shape(&t),
        Err(e) => {
            prop_assert!(!e.code().is_empty() && !e.to_string().trim().is_empty());
            Ok(())
        }
    }
}

/// Ways a valid file gets damaged on its way to us.
#[derive(Debug, Clone)]
enum Damage {
    Insert(usize, Vec<u8>),
    Cut(usize, usize),
    Bom,
    Semicolons,
    Tabs,
    BareNewlines,
    Latin1,
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (
            any::<usize>(),
            prop::collection::vec(
                prop::sample::select(&b"\",;\t\r\n'\0\xff\xef\xbb\xbfa"[..]),
                1..4
            )
        )
            .prop_map(|(at, b)| Damage::Insert(at, b)),
        (any::<usize>(), 1usize..20).prop_map(|(at, n)| Damage::Cut(at, n)),
        Just(Damage::Bom),
        Just(Damage::Semicolons),
        Just(Damage::Tabs),
        Just(Damage::BareNewlines),
        Just(Damage::Latin1),
    ]
}

fn apply(mut b: Vec<u8>, d: &Damage) -> Vec<u8> {
    match d {
        Damage::Insert(at, bytes) => {
            let at = at % (b.len() + 1);
            b.splice(at..at, bytes.iter().copied());
            b
        }
        Damage::Cut(at, n) => {
            let at = at % (b.len() + 1);
            let end = (at + n).min(b.len());
            b.drain(at..end);
            b
        }
        Damage::Bom => [&b"\xEF\xBB\xBF"[..], &b].concat(),
        Damage::Semicolons => b
            .iter()
            .map(|&c| if c == b',' { b';' } else { c })
            .collect(),
        Damage::Tabs => b
            .iter()
            .map(|&c| if c == b',' { b'\t' } else { c })
            .collect(),
        Damage::BareNewlines => b.into_iter().filter(|&c| c != b'\r').collect(),
        // What a spreadsheet saving "CSV" in Windows-1252 does to é.
        Damage::Latin1 => {
            let mut out = Vec::with_capacity(b.len());
            let mut rest = &b[..];
            while let Some((&first, tail)) = rest.split_first() {
                if let Some(after) = rest.strip_prefix(&[0xc3, 0xa9][..]) {
                    out.push(0xe9);
                    rest = after;
                } else {
                    out.push(first);
                    rest = tail;
                }
            }
            out
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_bytes_are_read_or_refused_with_a_reason(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        check_read(&bytes)?;
    }

    #[test]
    fn damaged_files_are_read_or_refused_with_a_reason(
        rows in table(),
        damages in prop::collection::vec(damage(), 1..4),
    ) {
        let mut bytes = write(&header(rows.first().map_or(2, Vec::len)), &rows);
        for d in &damages {
            bytes = apply(bytes, d);
        }
        check_read(&bytes)?;
    }

    /// What an export writes, the importer reads back: same columns, same rows, same
    /// cells (formula guard taken off), the BOM a spreadsheet adds or not.
    #[test]
    fn written_rows_read_back_cell_for_cell(rows in table(), bom in any::<bool>()) {
        let headers = header(rows.first().map_or(2, Vec::len));
        let mut bytes = write(&headers, &rows);
        if bom {
            bytes = [&b"\xEF\xBB\xBF"[..], &bytes].concat();
        }
        let t = parse(&bytes).unwrap();
        check_shape(&t)?;
        prop_assert_eq!(t.delimiter, b',');
        prop_assert_eq!(&t.headers, &headers);
        let cells: Vec<Vec<String>> = t.rows.into_iter().map(|r| r.cells).collect();
        prop_assert_eq!(cells, rows);
    }
}
