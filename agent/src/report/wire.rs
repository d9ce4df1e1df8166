//! How a report goes on the wire: compact JSON without the parts a report of its kind
//! leaves empty, gzip-compressed when it is over [`GZIP_THRESHOLD`].
//!
//! The JSON is written straight from the report (`WireForm`), into the gzip encoder
//! for a large one: a full report is ~150 KB of JSON, and a few times that as a
//! `serde_json::Value`, neither of which is ever held in memory.

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use std::io::Write;
use steward_shared::{CheckinRequest, Health, Inventory, InventoryDelta, ReportKind, UpdateStatus};

/// Bodies larger than this many bytes are sent gzip-compressed.
pub const GZIP_THRESHOLD: usize = 2048;

/// The body of a check-in, and whether it is gzip-compressed (`Content-Encoding: gzip`).
pub fn encode(req: &CheckinRequest) -> (Vec<u8>, bool) {
    let form = WireForm::of(req);
    let len = json_len(&form);
    if len <= GZIP_THRESHOLD {
        return (to_json(req), false);
    }
    match gzip(&form, len) {
        Ok(compressed) => (compressed, true),
        // Compressing into memory does not fail; if it did, plain JSON still works.
        Err(_) => (to_json(req), false),
    }
}

/// Bytes of the body [`encode`] makes.
pub fn wire_size(req: &CheckinRequest) -> usize {
    encode(req).0.len()
}

/// Compact JSON of `req`. A delta or heartbeat leaves out the (empty) `inventory`, and a
/// report without a delta the `null` delta: the server's `#[serde(default)]` fills them
/// in, and a heartbeat stays a few hundred bytes.
pub fn to_json(req: &CheckinRequest) -> Vec<u8> {
    // Serializing these plain structs cannot fail (no maps with non-string keys).
    serde_json::to_vec(&WireForm::of(req)).unwrap_or_default()
}

/// [`to_json`] as a JSON value.
pub fn to_value(req: &CheckinRequest) -> serde_json::Value {
    serde_json::to_value(WireForm::of(req)).unwrap_or_default()
}

/// A report as it is sent and spooled: the fields of [`CheckinRequest`], without the
/// ones its kind leaves empty.
#[derive(Serialize)]
pub(crate) struct WireForm<'a> {
    kind: ReportKind,
    seq: u64,
    base_digest: &'a str,
    digest: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory: Option<&'a Inventory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<&'a InventoryDelta>,
    health: &'a Health,
    #[serde(skip_serializing_if = "Option::is_none")]
    update: Option<&'a UpdateStatus>,
}

impl<'a> WireForm<'a> {
    pub(crate) fn of(req: &'a CheckinRequest) -> WireForm<'a> {
        // Every field is named, so a field added to the request does not compile until
        // it is sent here too.
        let CheckinRequest {
            kind,
            seq,
            base_digest,
            digest,
            inventory,
            delta,
            health,
            update,
        } = req;
        let empty_inventory = *kind != ReportKind::Full && *inventory == Inventory::default();
        WireForm {
            kind: *kind,
            seq: *seq,
            base_digest,
            digest,
            inventory: (!empty_inventory).then_some(inventory),
            delta: delta.as_ref(),
            health,
            update: update.as_ref(),
        }
    }
}

/// Bytes of `value` as compact JSON.
fn json_len(value: &impl Serialize) -> usize {
    let mut counter = Counter(0);
    // Writing into a counter cannot fail.
    let _ = serde_json::to_writer(std::io::BufWriter::new(&mut counter), value);
    counter.0
}

/// `value` as compact JSON of `len` bytes, gzip-compressed.
fn gzip(value: &impl Serialize, len: usize) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(len / 4), Compression::default());
    let mut out = std::io::BufWriter::new(&mut encoder);
    serde_json::to_writer(&mut out, value)?;
    out.flush()?;
    drop(out);
    encoder.finish()
}

/// Counts the bytes written to it.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
pub(crate) fn decode(body: &[u8], gzip: bool) -> CheckinRequest {
    use std::io::Read;
    let mut json = Vec::new();
    if gzip {
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut json)
            .expect("valid gzip");
    } else {
        json = body.to_vec();
    }
    serde_json::from_slice(&json).expect("valid JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_shared::{Health, Software};

    fn full(packages: usize) -> CheckinRequest {
        CheckinRequest {
            kind: ReportKind::Full,
            seq: 1,
            digest: "ab".repeat(32),
            inventory: Inventory {
                hostname: "pc1".into(),
                software: (0..packages)
                    .map(|i| Software {
                        name: format!("package-{i}"),
                        version: "1.0".into(),
                        source: "dpkg".into(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            },
            health: Health {
                taken_at: 1_700_000_000,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn small_bodies_are_plain_large_ones_gzip() {
        let small = full(0);
        let (body, gzip) = encode(&small);
        assert!(!gzip);
        assert!(body.len() <= GZIP_THRESHOLD);
        assert_eq!(decode(&body, gzip), small);

        let large = full(200);
        assert!(to_json(&large).len() > GZIP_THRESHOLD);
        let (body, gzip) = encode(&large);
        assert!(gzip);
        assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip magic");
        assert!(body.len() < to_json(&large).len() / 4, "{}", body.len());
        assert_eq!(decode(&body, gzip), large);
        assert_eq!(wire_size(&large), body.len());
    }

    /// The request's own JSON, less what its kind leaves empty (in any key order).
    #[test]
    fn the_wire_form_is_the_request_less_its_empty_parts() {
        let heartbeat = CheckinRequest {
            kind: ReportKind::Heartbeat,
            seq: 2,
            base_digest: "ab".repeat(32),
            digest: "ab".repeat(32),
            ..full(0)
        };
        let delta = CheckinRequest {
            kind: ReportKind::Delta,
            inventory: Inventory::default(),
            delta: Some(steward_shared::InventoryDelta {
                collected_at: 7,
                software_added: full(2).inventory.software,
                ..Default::default()
            }),
            ..heartbeat.clone()
        };
        for req in [
            full(3),
            full(0),
            heartbeat,
            delta,
            CheckinRequest::default(),
        ] {
            let mut expected = serde_json::to_value(&req).expect("json");
            let fields = expected.as_object_mut().expect("an object");
            if req.kind != ReportKind::Full && req.inventory == Inventory::default() {
                fields.remove("inventory");
            }
            if req.delta.is_none() {
                fields.remove("delta");
            }
            let sent: serde_json::Value = serde_json::from_slice(&to_json(&req)).expect("json");
            assert_eq!(sent, expected, "{:?}", req.kind);
            assert_eq!(to_value(&req), expected);
            let (body, gzip) = encode(&req);
            assert_eq!(decode(&body, gzip), req);
        }
    }

    #[test]
    fn heartbeats_leave_out_the_empty_inventory_and_delta() {
        let heartbeat = CheckinRequest {
            kind: ReportKind::Heartbeat,
            seq: 7,
            base_digest: "ab".repeat(32),
            digest: "ab".repeat(32),
            health: Health {
                taken_at: 1_700_000_000,
                ..Default::default()
            },
            ..Default::default()
        };
        let json: serde_json::Value = serde_json::from_slice(&to_json(&heartbeat)).expect("json");
        assert!(json.get("inventory").is_none(), "{json}");
        assert!(json.get("delta").is_none(), "{json}");
        assert_eq!(json["kind"], "heartbeat");
        let (body, gzip) = encode(&heartbeat);
        assert!(!gzip);
        assert!(body.len() < 1024, "{}", body.len());
        assert_eq!(decode(&body, gzip), heartbeat);
        // A full report keeps its inventory even when empty.
        let empty_full = CheckinRequest::default();
        let json: serde_json::Value = serde_json::from_slice(&to_json(&empty_full)).expect("json");
        assert!(json.get("inventory").is_some());
    }
}
