//! Request and reply bodies of the legacy protocols: zlib (`application/x-compress`,
//! `application/x-compress-zlib`), gzip or plain, told apart by their first bytes as the
//! agents themselves do. Inflating stops at a limit, so a zip bomb costs at most that
//! much memory.

use flate2::read::{GzDecoder, ZlibDecoder};
use std::io::Read;

/// How a body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Zlib,
    Gzip,
    Plain,
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the document is larger than {limit} bytes once decompressed")]
    TooLarge { limit: usize },
    #[error("the {0} stream is corrupt or truncated")]
    Corrupt(&'static str),
    #[error("the body is empty")]
    Empty,
}

/// Tells the encoding from the first bytes: zlib has a header whose first two bytes are
/// a multiple of 31 with deflate as the method; gzip starts 1f 8b.
pub fn sniff(body: &[u8]) -> Encoding {
    match body {
        [0x1f, 0x8b, ..] => Encoding::Gzip,
        [a, b, ..] if a & 0x0f == 8 && (u16::from(*a) << 8 | u16::from(*b)) % 31 == 0 => {
            Encoding::Zlib
        }
        _ => Encoding::Plain,
    }
}

/// The document in `body`, decompressed, at most `limit` bytes.
pub fn decode(body: &[u8], limit: usize) -> Result<(Encoding, Vec<u8>), BodyError> {
    if body.is_empty() {
        return Err(BodyError::Empty);
    }
    let enc = sniff(body);
    let out = match enc {
        Encoding::Plain => {
            if body.len() > limit {
                return Err(BodyError::TooLarge { limit });
            }
            body.to_vec()
        }
        Encoding::Zlib => inflate(ZlibDecoder::new(body), limit, "zlib")?,
        Encoding::Gzip => inflate(GzDecoder::new(body), limit, "gzip")?,
    };
    Ok((enc, out))
}

fn inflate(r: impl Read, limit: usize, what: &'static str) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    r.take(cap)
        .read_to_end(&mut out)
        .map_err(|_| BodyError::Corrupt(what))?;
    if out.len() > limit {
        return Err(BodyError::TooLarge { limit });
    }
    Ok(out)
}

/// `doc` zlib-compressed with the default header (78 9c), which FusionInventory and OCS
/// agents recognise.
pub fn zlib(doc: &[u8]) -> Vec<u8> {
    use flate2::{Compression, write::ZlibEncoder};
    use std::io::Write;
    let mut e = ZlibEncoder::new(
        Vec::with_capacity(doc.len() / 2 + 16),
        Compression::default(),
    );
    // Writing to a Vec cannot fail.
    let _ = e.write_all(doc);
    e.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(doc: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(doc).expect("write");
        e.finish().expect("finish")
    }

    #[test]
    fn all_three_encodings_decode() {
        let doc = b"<?xml version=\"1.0\"?><REQUEST><QUERY>PROLOG</QUERY></REQUEST>";
        let z = zlib(doc);
        assert_eq!(
            &z[..2],
            &[0x78, 0x9c],
            "the default header the agents look for"
        );
        assert_eq!(decode(&z, 1 << 20), Ok((Encoding::Zlib, doc.to_vec())));
        assert_eq!(
            decode(&gzip(doc), 1 << 20),
            Ok((Encoding::Gzip, doc.to_vec()))
        );
        assert_eq!(decode(doc, 1 << 20), Ok((Encoding::Plain, doc.to_vec())));
        assert_eq!(sniff(b"{\"action\":\"contact\"}"), Encoding::Plain);
    }

    #[test]
    fn a_bomb_stops_at_the_limit_and_truncation_is_an_error() {
        // 64 MiB of zeros compresses to ~64 KiB.
        let bomb = zlib(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 100 << 10);
        assert_eq!(
            decode(&bomb, 1 << 20),
            Err(BodyError::TooLarge { limit: 1 << 20 })
        );
        let doc = zlib(&[b'x'; 10_000]);
        assert_eq!(
            decode(&doc[..doc.len() / 2], 1 << 20),
            Err(BodyError::Corrupt("zlib"))
        );
        let g = gzip(&[b'y'; 10_000]);
        assert_eq!(
            decode(&g[..g.len() - 6], 1 << 20),
            Err(BodyError::Corrupt("gzip"))
        );
        assert_eq!(decode(b"", 10), Err(BodyError::Empty));
        assert_eq!(
            decode(&[b'<'; 20], 10),
            Err(BodyError::TooLarge { limit: 10 })
        );
    }
}
