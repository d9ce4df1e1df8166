//! How a report goes on the wire: compact JSON without the parts a report of its kind
//! leaves empty, gzip-compressed when it is over [`GZIP_THRESHOLD`].

use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use steward_shared::{CheckinRequest, Inventory, ReportKind};

/// Bodies larger than this many bytes are sent gzip-compressed.
pub const GZIP_THRESHOLD: usize = 2048;

/// The body of a check-in, and whether it is gzip-compressed (`Content-Encoding: gzip`).
pub fn encode(req: &CheckinRequest) -> (Vec<u8>, bool) {
    let json = to_json(req);
    if json.len() <= GZIP_THRESHOLD {
        return (json, false);
    }
    match gzip(&json) {
        Ok(compressed) => (compressed, true),
        // Compressing into memory does not fail; if it did, plain JSON still works.
        Err(_) => (json, false),
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
    serde_json::to_vec(&to_value(req)).unwrap_or_default()
}

/// [`to_json`] as a JSON value (the spool stores reports in this form too).
pub fn to_value(req: &CheckinRequest) -> serde_json::Value {
    // Serializing these plain structs cannot fail (no maps with non-string keys).
    let mut value = serde_json::to_value(req).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        if req.kind != ReportKind::Full && req.inventory == Inventory::default() {
            fields.remove("inventory");
        }
        if req.delta.is_none() {
            fields.remove("delta");
        }
    }
    value
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
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
