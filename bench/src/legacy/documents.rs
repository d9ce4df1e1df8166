//! The documents legacy-bench sends: one real FusionInventory 2.6 inventory of this
//! machine (from `fusioninventory-inventory`, else the trimmed fixture in the server's
//! tests), turned into a template, and rendered once per device with its own DEVICEID,
//! hostname, BIOS serial and SMBIOS UUID and a few software versions of its own; then
//! zlib-compressed as the agent does.

use crate::rng::Rng;
use flate2::{Compression, write::ZlibEncoder};
use std::io::Write;
use std::time::{Duration, Instant};

/// The trimmed real inventory the server's parser tests use (40 packages, no PROCESSES).
const FIXTURE: &str =
    include_str!("../../../server/src/legacy/fixtures/fusioninventory-2.6-inventory.xml");

/// Share of a device's packages whose version differs from the source machine's.
pub const VARIED_SHARE: f64 = 0.02;
/// Packages upgraded on each device between the first and the second round.
pub const UPDATED_PER_DEVICE: usize = 5;
/// The User-Agent FusionInventory 2.6 sends.
pub const USER_AGENT: &str = "FusionInventory-Agent_v2.6";

/// The inventory every device starts from.
pub struct Source {
    pub xml: String,
    /// Where it came from, for the report.
    pub origin: String,
    pub took: Duration,
}

/// This machine's inventory from `fusioninventory-inventory`, or the fixture (said so).
pub fn source() -> Source {
    let started = Instant::now();
    let run = std::process::Command::new("fusioninventory-inventory").output();
    let took = started.elapsed();
    let why = match run {
        Ok(out) if out.status.success() => match String::from_utf8(out.stdout) {
            Ok(xml) if xml.contains("<QUERY>INVENTORY</QUERY>") => {
                return Source {
                    xml,
                    origin: "`fusioninventory-inventory` on this machine".into(),
                    took,
                };
            }
            Ok(_) => "its output is not an INVENTORY request".to_owned(),
            Err(_) => "its output is not UTF-8".to_owned(),
        },
        Ok(out) => format!(
            "it failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => format!("it cannot run ({e})"),
    };
    Source {
        xml: FIXTURE.to_owned(),
        origin: format!(
            "FALLBACK: server/src/legacy/fixtures/fusioninventory-2.6-inventory.xml (trimmed to 40 packages), because fusioninventory-inventory {why}; install the Debian package fusioninventory-agent for the real ~860-package document"
        ),
        took,
    }
}

/// What a device puts into a slot of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    DeviceId,
    Name,
    Uuid,
    Serial,
    /// The VERSION of the n-th SOFTWARES entry.
    Version(usize),
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Slot(Slot),
}

/// The source document cut at the fields each device rewrites.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
    /// The source's software versions, by SOFTWARES entry.
    versions: Vec<String>,
}

/// One edit of the source: `start..end` becomes `before`, the slot, `after`.
struct Edit {
    start: usize,
    end: usize,
    before: &'static str,
    slot: Slot,
    after: &'static str,
}

/// The text ranges between `<tag>` and `</tag>` in `xml[from..to]`, as absolute offsets.
fn elements(xml: &str, from: usize, to: usize, tag: &str) -> Vec<(usize, usize)> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut at = from;
    while let Some(i) = xml[at..to].find(&open) {
        let start = at + i + open.len();
        let Some(j) = xml[start..to].find(&close) else {
            break;
        };
        out.push((start, start + j));
        at = start + j + close.len();
    }
    out
}

impl Template {
    pub fn new(xml: &str) -> anyhow::Result<Template> {
        let mut edits = Vec::new();
        for (s, e) in elements(xml, 0, xml.len(), "DEVICEID") {
            edits.push(Edit {
                start: s,
                end: e,
                before: "",
                slot: Slot::DeviceId,
                after: "",
            });
        }
        let Some(&(hw_start, hw_end)) = elements(xml, 0, xml.len(), "HARDWARE").first() else {
            anyhow::bail!("the source inventory has no HARDWARE section");
        };
        for (tag, slot) in [("NAME", Slot::Name), ("UUID", Slot::Uuid)] {
            match elements(xml, hw_start, hw_end, tag).first() {
                Some(&(s, e)) => edits.push(Edit {
                    start: s,
                    end: e,
                    before: "",
                    slot,
                    after: "",
                }),
                None if slot == Slot::Uuid => edits.push(Edit {
                    start: hw_end,
                    end: hw_end,
                    before: "  <UUID>",
                    slot,
                    after: "</UUID>\n    ",
                }),
                None => anyhow::bail!("the source inventory has no HARDWARE/NAME"),
            }
        }
        let Some(&(bios_start, bios_end)) = elements(xml, 0, xml.len(), "BIOS").first() else {
            anyhow::bail!("the source inventory has no BIOS section");
        };
        match elements(xml, bios_start, bios_end, "SSN").first() {
            Some(&(s, e)) => edits.push(Edit {
                start: s,
                end: e,
                before: "",
                slot: Slot::Serial,
                after: "",
            }),
            None => edits.push(Edit {
                start: bios_end,
                end: bios_end,
                before: "  <SSN>",
                slot: Slot::Serial,
                after: "</SSN>\n    ",
            }),
        }
        let mut versions = Vec::new();
        for (s, e) in elements(xml, 0, xml.len(), "SOFTWARES") {
            if let Some(&(vs, ve)) = elements(xml, s, e, "VERSION").first() {
                edits.push(Edit {
                    start: vs,
                    end: ve,
                    before: "",
                    slot: Slot::Version(versions.len()),
                    after: "",
                });
                versions.push(xml[vs..ve].to_owned());
            }
        }
        if versions.is_empty() {
            anyhow::bail!("the source inventory lists no software");
        }
        edits.sort_by_key(|e| e.start);
        let mut parts = Vec::with_capacity(edits.len() * 2 + 1);
        let mut at = 0;
        for e in edits {
            parts.push(Part::Text(format!("{}{}", &xml[at..e.start], e.before)));
            parts.push(Part::Slot(e.slot));
            parts.push(Part::Text(e.after.to_owned()));
            at = e.end;
        }
        parts.push(Part::Text(xml[at..].to_owned()));
        Ok(Template { parts, versions })
    }

    /// SOFTWARES entries (with a VERSION) in the source.
    pub fn software(&self) -> usize {
        self.versions.len()
    }

    /// The inventory of `d`, as XML.
    pub fn render(&self, d: &Device) -> String {
        let mut out = String::with_capacity(
            self.parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => t.len(),
                    Part::Slot(_) => 40,
                })
                .sum(),
        );
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Slot(Slot::DeviceId) => out.push_str(&d.device_id),
                Part::Slot(Slot::Name) => out.push_str(&d.name),
                Part::Slot(Slot::Uuid) => out.push_str(&d.uuid),
                Part::Slot(Slot::Serial) => out.push_str(&d.serial),
                Part::Slot(Slot::Version(i)) => {
                    out.push_str(&self.versions[*i]);
                    if let Some(suffix) = d.versions.iter().find(|v| v.0 == *i).map(|v| &v.1) {
                        out.push_str(suffix);
                    }
                }
            }
        }
        out
    }
}

/// What makes a device its own: identity fields, and version suffixes by software entry.
#[derive(Debug, Clone)]
pub struct Device {
    pub device_id: String,
    pub name: String,
    pub uuid: String,
    pub serial: String,
    versions: Vec<(usize, String)>,
}

/// A random version-4 UUID, lower case.
fn uuid(rng: &mut Rng) -> String {
    let (hi, lo) = (rng.next_u64(), rng.next_u64());
    let hi = (hi & !0xF000) | 0x4000;
    let lo = (lo & !(0b11 << 62)) | (0b10 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

/// `n` devices with random UUIDs (from `seed`), `stamp` as their DEVICEID's date part
/// (as FusionInventory makes it: hostname and the date of its first run).
pub fn fleet(t: &Template, n: usize, seed: u64, stamp: &str) -> Vec<Device> {
    let mut rng = Rng::new(seed);
    let varied = ((t.software() as f64 * VARIED_SHARE).round() as usize).max(1);
    (0..n)
        .map(|i| {
            let name = format!("fi-bench-{:05}", i + 1);
            let uuid = uuid(&mut rng);
            let mut versions: Vec<(usize, String)> = Vec::with_capacity(varied);
            while versions.len() < varied.min(t.software()) {
                let at = rng.below(t.software() as u64) as usize;
                if !versions.iter().any(|v| v.0 == at) {
                    // A few builds per package across the fleet, not one per machine.
                    versions.push((at, format!("+fleet{}", 1 + rng.below(3))));
                }
            }
            Device {
                device_id: format!("{name}-{stamp}"),
                serial: format!("FIB{:05}{}", i + 1, &uuid[..8].to_ascii_uppercase()),
                name,
                uuid,
                versions,
            }
        })
        .collect()
}

/// The same devices after `UPDATED_PER_DEVICE` package upgrades each.
pub fn upgraded(t: &Template, devices: &[Device], seed: u64) -> Vec<Device> {
    let mut rng = Rng::new(seed);
    devices
        .iter()
        .map(|d| {
            let mut d = d.clone();
            for _ in 0..UPDATED_PER_DEVICE.min(t.software()) {
                let at = rng.below(t.software() as u64) as usize;
                match d.versions.iter_mut().find(|v| v.0 == at) {
                    Some(v) => v.1.push_str("+upd1"),
                    None => d.versions.push((at, "+upd1".into())),
                }
            }
            d
        })
        .collect()
}

/// What one device sends: PROLOG, then INVENTORY, both zlib-compressed.
pub struct Docs {
    pub prolog: Vec<u8>,
    pub inventory: Vec<u8>,
}

/// Every device's documents, and what making them cost.
pub struct Rendered {
    pub docs: Vec<Docs>,
    pub made: Made,
}

/// What making the documents cost.
#[derive(Debug, Clone, Copy)]
pub struct Made {
    pub documents: usize,
    /// INVENTORY documents only, as XML and as sent.
    pub xml_bytes: u64,
    pub zlib_bytes: u64,
    pub threads: usize,
    pub took: Duration,
}

/// zlib at flate2's default level (6), the default header 78 9c: what the agent sends.
pub fn zlib(doc: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::with_capacity(doc.len() / 6), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(doc);
    e.finish().unwrap_or_default()
}

fn prolog(device_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<REQUEST>\n  <DEVICEID>{device_id}</DEVICEID>\n  <QUERY>PROLOG</QUERY>\n  <TOKEN>12345678</TOKEN>\n</REQUEST>\n"
    )
}

/// Renders and compresses every device's documents on all cores.
pub fn render_all(t: &Template, devices: &[Device]) -> Rendered {
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = devices.len().div_ceil(threads).max(1);
    let parts: Vec<(Vec<Docs>, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = devices
            .chunks(chunk)
            .map(|ds| {
                s.spawn(move || {
                    let mut xml_bytes = 0u64;
                    let docs = ds
                        .iter()
                        .map(|d| {
                            let xml = t.render(d);
                            xml_bytes += xml.len() as u64;
                            Docs {
                                prolog: zlib(prolog(&d.device_id).as_bytes()),
                                inventory: zlib(xml.as_bytes()),
                            }
                        })
                        .collect();
                    (docs, xml_bytes)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut docs = Vec::with_capacity(devices.len());
    let mut xml_bytes = 0;
    for (d, b) in parts {
        docs.extend(d);
        xml_bytes += b;
    }
    let zlib_bytes = docs.iter().map(|d| d.inventory.len() as u64).sum();
    Rendered {
        made: Made {
            documents: docs.len(),
            xml_bytes,
            zlib_bytes,
            threads,
            took: started.elapsed(),
        },
        docs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_differ_where_they_should() {
        let t = Template::new(FIXTURE).expect("template");
        assert_eq!(t.software(), 40);
        let fleet = fleet(&t, 2, 7, "2026-11-25-22-09-44");
        let (a, b) = (t.render(&fleet[0]), t.render(&fleet[1]));
        assert!(
            a.contains("<DEVICEID>fi-bench-00001-2026-11-25-22-09-44</DEVICEID>"),
            "{a}"
        );
        assert!(a.contains("<NAME>fi-bench-00001</NAME>"));
        assert!(a.contains(&format!("<UUID>{}</UUID>", fleet[0].uuid)));
        assert!(a.contains(&format!("<SSN>{}</SSN>", fleet[0].serial)));
        assert_eq!(fleet[0].uuid.len(), 36);
        assert_ne!(fleet[0].uuid, fleet[1].uuid);
        assert_eq!(a.matches("+fleet").count(), 1, "2% of 40, at least one");
        assert_ne!(a, b);
        let up = upgraded(&t, &fleet, 9);
        assert!(t.render(&up[0]).contains("+upd1"));
    }

    #[test]
    fn documents_parse_as_the_server_parses_them() {
        use steward_server::legacy::xml::{self, XmlRequest};
        let t = Template::new(FIXTURE).expect("template");
        let d = &fleet(&t, 1, 1, "2026-11-25-22-09-44")[0];
        let Ok(XmlRequest::Inventory(r)) = xml::parse(t.render(d).as_bytes(), Some(USER_AGENT))
        else {
            panic!("not an inventory");
        };
        assert_eq!(r.device_id, d.device_id);
        assert_eq!(r.inventory.hostname, d.name);
        assert_eq!(r.inventory.hardware.uuid, d.uuid);
        assert_eq!(r.inventory.hardware.serial, d.serial);
        assert_eq!(r.inventory.software.len(), 40);
        let z = zlib(prolog(&d.device_id).as_bytes());
        assert_eq!(&z[..2], &[0x78, 0x9c]);
        let plain = steward_server::legacy::body::decode(&z, 1 << 20)
            .expect("inflate")
            .1;
        assert!(matches!(
            xml::parse(&plain, Some(USER_AGENT)),
            Ok(XmlRequest::Prolog { .. })
        ));
    }
}
