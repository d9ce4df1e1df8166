//! Installer packages, as `pkgutil --pkgs` lists them, read from the receipts in
//! `/var/db/receipts` so that each one's version and install date come without running
//! `pkgutil --pkg-info` per package. Receipts are property lists, binary or XML; a
//! minimal reader for their flat top-level dictionary is here (no plist crate needed).
//! Where the receipts cannot be read, `pkgutil --pkgs` gives the names alone.

use crate::collect::json;
use std::path::Path;
use steward_shared::Software;

/// Seconds from the Unix epoch to Apple's (2001-01-01T00:00:00Z).
const APPLE_EPOCH: i64 = 978_307_200;

/// A top-level value of a property list; only what receipts use is kept.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Text(String),
    Int(i64),
    /// Unix seconds.
    Date(i64),
    Other,
}

/// One package per `*.plist` receipt in `dir` (a receipt that cannot be parsed still
/// names its package by its file name); `None` when the directory cannot be read.
pub(super) fn read_receipts(dir: &Path) -> Option<Vec<Software>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut list: Vec<Software> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "plist"))
        .filter_map(|path| {
            let stem = path.file_stem()?.to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).ok()?;
            Some(from_receipt(&stem, &top_level(&bytes)))
        })
        .collect();
    list.sort();
    Some(list)
}

/// `pkgutil --pkgs`: one package id per line, no version.
pub(super) fn parse_pkgutil_pkgs(text: &str) -> Vec<Software> {
    let mut list: Vec<Software> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|id| Software {
            name: id.to_string(),
            source: "pkgutil".to_string(),
            ..Software::default()
        })
        .collect();
    list.sort();
    list.dedup();
    list
}

fn from_receipt(stem: &str, fields: &[(String, Scalar)]) -> Software {
    let field = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let text = |key: &str| match field(key) {
        Some(Scalar::Text(s)) => s.trim().to_string(),
        Some(Scalar::Int(i)) => i.to_string(),
        _ => String::new(),
    };
    let id = text("PackageIdentifier");
    Software {
        name: if id.is_empty() { stem.to_string() } else { id },
        version: text("PackageVersion"),
        install_date: match field("InstallDate") {
            Some(Scalar::Date(t)) => *t,
            _ => 0,
        },
        source: "pkgutil".to_string(),
        ..Software::default()
    }
}

/// The top-level dictionary of a binary or XML property list; empty for anything else.
fn top_level(bytes: &[u8]) -> Vec<(String, Scalar)> {
    if bytes.starts_with(b"bplist00") {
        Binary::new(bytes)
            .and_then(|b| b.top_dict())
            .unwrap_or_default()
    } else {
        xml_top_level(&String::from_utf8_lossy(bytes))
    }
}

/// A binary property list (`bplist00`): objects addressed through an offset table
/// described by the 32-byte trailer. Every read is bounds-checked.
struct Binary<'a> {
    data: &'a [u8],
    offset_size: usize,
    ref_size: usize,
    objects: u64,
    top: u64,
    offset_table: usize,
}

impl<'a> Binary<'a> {
    fn new(data: &'a [u8]) -> Option<Self> {
        let trailer = data.get(data.len().checked_sub(32)?..)?;
        let plist = Binary {
            data,
            offset_size: usize::from(trailer[6]),
            ref_size: usize::from(trailer[7]),
            objects: be(&trailer[8..16])?,
            top: be(&trailer[16..24])?,
            offset_table: usize::try_from(be(&trailer[24..32])?).ok()?,
        };
        let valid = |n: usize| (1..=8).contains(&n);
        (valid(plist.offset_size) && valid(plist.ref_size)).then_some(plist)
    }

    fn offset(&self, object: u64) -> Option<usize> {
        if object >= self.objects {
            return None;
        }
        let index = usize::try_from(object).ok()?;
        let start = self
            .offset_table
            .checked_add(index.checked_mul(self.offset_size)?)?;
        let entry = self.data.get(start..start.checked_add(self.offset_size)?)?;
        usize::try_from(be(entry)?).ok()
    }

    /// An object's type (high nibble of its marker), its count or size, and where its
    /// payload starts. Counts of 15 or more follow the marker as an integer object.
    fn header(&self, offset: usize) -> Option<(u8, usize, usize)> {
        let marker = *self.data.get(offset)?;
        let (kind, info) = (marker >> 4, marker & 0x0f);
        if info != 0x0f || !matches!(kind, 0x4 | 0x5 | 0x6 | 0xa | 0xc | 0xd) {
            return Some((kind, usize::from(info), offset + 1));
        }
        let int_marker = *self.data.get(offset + 1)?;
        if int_marker >> 4 != 0x1 {
            return None;
        }
        let len = 1usize.checked_shl(u32::from(int_marker & 0x0f))?;
        let count = be(self.data.get(offset + 2..offset.checked_add(2 + len)?)?)?;
        Some((kind, usize::try_from(count).ok()?, offset + 2 + len))
    }

    fn bytes(&self, start: usize, len: usize) -> Option<&'a [u8]> {
        self.data.get(start..start.checked_add(len)?)
    }

    fn scalar(&self, object: u64) -> Option<Scalar> {
        let (kind, info, start) = self.header(self.offset(object)?)?;
        Some(match kind {
            0x1 => {
                let b = self.bytes(start, 1usize.checked_shl(u32::try_from(info).ok()?)?)?;
                match <[u8; 8]>::try_from(b) {
                    Ok(eight) => Scalar::Int(i64::from_be_bytes(eight)),
                    Err(_) => Scalar::Int(i64::try_from(be(b)?).ok()?),
                }
            }
            0x3 => {
                let b: [u8; 8] = self.bytes(start, 8)?.try_into().ok()?;
                let secs = f64::from_be_bytes(b);
                if !secs.is_finite() || secs.abs() > 1e12 {
                    return None;
                }
                Scalar::Date(APPLE_EPOCH + secs.floor() as i64)
            }
            0x5 => Scalar::Text(String::from_utf8_lossy(self.bytes(start, info)?).into_owned()),
            0x6 => {
                let b = self.bytes(start, info.checked_mul(2)?)?;
                let units = b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                Scalar::Text(
                    char::decode_utf16(units)
                        .map(|c| c.unwrap_or('\u{fffd}'))
                        .collect(),
                )
            }
            _ => Scalar::Other,
        })
    }

    /// The top object's keys and scalar values, when it is a dictionary.
    fn top_dict(&self) -> Option<Vec<(String, Scalar)>> {
        let (kind, count, start) = self.header(self.offset(self.top)?)?;
        if kind != 0xd {
            return None;
        }
        let refs = self.bytes(start, count.checked_mul(self.ref_size)?.checked_mul(2)?)?;
        let (keys, values) = refs.split_at(refs.len() / 2);
        let entries = keys
            .chunks_exact(self.ref_size)
            .zip(values.chunks_exact(self.ref_size))
            .filter_map(|(k, v)| match self.scalar(be(k)?)? {
                Scalar::Text(key) => Some((key, self.scalar(be(v)?).unwrap_or(Scalar::Other))),
                _ => None,
            })
            .collect();
        Some(entries)
    }
}

/// A big-endian unsigned integer of up to 8 bytes.
fn be(bytes: &[u8]) -> Option<u64> {
    (bytes.len() <= 8).then(|| bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

/// `<key>` elements and the scalar after each, wherever they are (receipts are flat).
fn xml_top_level(text: &str) -> Vec<(String, Scalar)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("<key>") {
        rest = &rest[at + "<key>".len()..];
        let Some(end) = rest.find("</key>") else {
            break;
        };
        let key = unescape(&rest[..end]);
        rest = rest[end + "</key>".len()..].trim_start();
        let element = |tag: &str| {
            let body = rest.strip_prefix(&format!("<{tag}>"))?;
            body.find(&format!("</{tag}>"))
                .map(|e| unescape(&body[..e]))
        };
        let value = if let Some(s) = element("string") {
            Scalar::Text(s)
        } else if let Some(d) = element("date") {
            json::date_value(&serde_json::Value::String(d)).map_or(Scalar::Other, Scalar::Date)
        } else if let Some(i) = element("integer") {
            i.trim().parse().map_or(Scalar::Other, Scalar::Int)
        } else {
            Scalar::Other
        };
        out.push((key, value));
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/collect/macos/fixtures/receipts")
    }

    #[test]
    fn reads_binary_and_xml_receipts() {
        let list = read_receipts(&fixtures()).expect("fixture dir");
        let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "com.apple.pkg.CLTools_Executables",
                "com.crowdstrike.falcon.sensor",
                "com.example.broken",
                "com.microsoft.teams2",
                "de.example.bürotool",
                "org.python.Python.PythonFramework-3.12",
            ]
        );
        assert_eq!(
            list[3],
            Software {
                name: "com.microsoft.teams2".into(),
                version: "24152.405.2925.6762".into(),
                arch: String::new(),
                publisher: String::new(),
                install_date: 1_718_350_212, // 2024-06-14T07:30:12Z
                source: "pkgutil".into(),
            }
        );
        assert_eq!(list[0].version, "15.3.0.0.1.1708646388");
        assert_eq!(list[0].install_date, 1_716_402_000);
        assert_eq!(list[1].version, "7.14.17706.0");
        // UTF-16 strings, and a file name longer than 14 bytes (an extended count).
        assert_eq!(list[4].version, "3.2");
        assert_eq!(list[4].install_date, 1_699_531_200);
        // XML receipt.
        assert_eq!(list[5].version, "3.12.4");
        assert_eq!(list[5].install_date, 1_717_775_040);
        // A corrupt receipt is named after its file, without a version.
        assert_eq!(list[2].version, "");
        assert_eq!(list[2].install_date, 0);
    }

    #[test]
    fn missing_directory() {
        assert!(read_receipts(Path::new("/nonexistent/receipts")).is_none());
    }

    #[test]
    fn truncated_binary_plists_do_not_panic() {
        let whole = std::fs::read(fixtures().join("com.microsoft.teams2.plist")).expect("read");
        for len in 0..whole.len() {
            let _ = top_level(&whole[..len]);
        }
        let mut flipped = whole.clone();
        for i in 8..flipped.len() {
            flipped[i] ^= 0xff;
            let _ = top_level(&flipped);
            flipped[i] ^= 0xff;
        }
        assert_eq!(top_level(b"not a plist"), vec![]);
    }

    #[test]
    fn pkgutil_names() {
        let list = parse_pkgutil_pkgs("com.apple.pkg.MobileAssets\ncom.microsoft.teams2\n\n");
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].name, "com.microsoft.teams2");
        assert_eq!(
            (list[1].version.as_str(), list[1].source.as_str()),
            ("", "pkgutil")
        );
    }
}
