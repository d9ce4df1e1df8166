//! Rules for uploaded files that need no I/O: which content types are accepted (with a
//! trailing `*` wildcard), whether the first bytes agree with the declared type, safe
//! file names, and the `Content-Disposition` a download is sent with.

/// A file name is at most this many characters after sanitising.
pub const MAX_FILENAME_CHARS: usize = 200;

/// What a file is called when nothing usable is left of its name.
pub const FALLBACK_FILENAME: &str = "attachment";

/// The essence of a `Content-Type` value (`type/subtype`, lowercase, no parameters), or
/// `None` when it is not one.
pub fn essence(content_type: &str) -> Option<String> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (ty, sub) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    (token(ty) && token(sub)).then_some(essence)
}

/// Checks one `allowed_types` entry: `type/subtype`, a prefix ending in `*`
/// (`image/*`, `application/vnd.openxmlformats-officedocument.*`), or `*` alone.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern == "*" {
        return Ok(());
    }
    let ok = match pattern.strip_suffix('*') {
        Some(prefix) => {
            prefix.matches('/').count() == 1
                && !prefix.starts_with('/')
                && prefix.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b"/!#$&^_.+-".contains(&b)
                })
        }
        None => essence(pattern).as_deref() == Some(pattern),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{pattern:?} is not a lowercase content type like \"image/png\" or a prefix ending in * like \"image/*\""
        ))
    }
}

/// Whether `essence` (from [`essence`]) matches one of the `allowed` patterns.
pub fn allowed(essence: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => essence.starts_with(prefix),
        None => essence == p,
    })
}

/// How many leading bytes [`content_matches`] needs to decide (fewer only at end of file).
pub const SNIFF_BYTES: usize = 12;

/// Whether a file starting with `head` can be of type `essence`. Images, PDF and zip
/// containers (including Office Open XML and OpenDocument files) must start with their
/// signature;
/// other types are not checked. `head` is the first [`SNIFF_BYTES`] (or the whole file
/// when it is shorter).
pub fn content_matches(essence: &str, head: &[u8]) -> bool {
    let zip = |h: &[u8]| {
        h.starts_with(b"PK\x03\x04") || h.starts_with(b"PK\x05\x06") || h.starts_with(b"PK\x07\x08")
    };
    match essence {
        "image/png" => head.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => head.starts_with(b"\xff\xd8\xff"),
        "image/gif" => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        "image/webp" => head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP",
        "application/pdf" => head.starts_with(b"%PDF-"),
        "application/zip" | "application/x-zip-compressed" => zip(head),
        e if e.starts_with("application/vnd.openxmlformats-officedocument.")
            || e.starts_with("application/vnd.oasis.opendocument.") =>
        {
            zip(head)
        }
        _ => true,
    }
}

/// Unicode formatting characters that make a name read differently from what it is
/// (`gpj.exe` shown as `exe.jpg` with a right-to-left override).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A safe file name: the last path component only, without control or bidirectional
/// formatting characters, with `<>:"|?*` replaced, without leading dots or trailing dots
/// and spaces, and at most [`MAX_FILENAME_CHARS`] characters, keeping the extension.
pub fn sanitize_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .map(|c| if "<>:\"|?*".contains(c) { '_' } else { c })
        .collect();
    let trimmed = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        return FALLBACK_FILENAME.to_owned();
    }
    if trimmed.chars().count() <= MAX_FILENAME_CHARS {
        return trimmed.to_owned();
    }
    // Too long: shorten the stem and keep a reasonable extension.
    let ext = trimmed
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.chars().count() <= 20);
    match ext {
        Some(ext) => {
            let keep = MAX_FILENAME_CHARS - 1 - ext.chars().count();
            let stem: String = trimmed.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => trimmed.chars().take(MAX_FILENAME_CHARS).collect(),
    }
}

/// `Content-Disposition` for downloading `filename` (already sanitised): always an
/// attachment, never shown inline; an ASCII `filename` for old clients and the exact
/// name as RFC 8187 `filename*`.
pub fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(filename.len() * 3);
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn essence_drops_parameters_and_case() {
        assert_eq!(
            essence("Text/Plain; charset=UTF-8").as_deref(),
            Some("text/plain")
        );
        assert_eq!(essence("image/png").as_deref(), Some("image/png"));
        assert_eq!(essence("png"), None);
        assert_eq!(essence("image/"), None);
        assert_eq!(essence("image/p ng"), None);
        assert_eq!(essence(""), None);
    }

    #[test]
    fn patterns_match_exactly_or_by_prefix() {
        let allow = list(&[
            "image/png",
            "application/vnd.openxmlformats-officedocument.*",
        ]);
        assert!(allowed("image/png", &allow));
        assert!(!allowed("image/pngx", &allow));
        assert!(!allowed("image/jpeg", &allow));
        assert!(allowed(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            &allow
        ));
        assert!(!allowed("application/vnd.ms-excel", &allow));
        assert!(allowed("anything/else", &list(&["*"])));
        assert!(!allowed("image/png", &[]));
    }

    #[test]
    fn patterns_are_checked() {
        for ok in ["image/png", "image/*", "*", "application/vnd.ms-excel"] {
            assert_eq!(check_pattern(ok), Ok(()), "{ok}");
        }
        for bad in ["png", "image/*/x", "*/png", "Image/PNG", "", "image/p ng"] {
            assert!(check_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signatures_are_checked_for_images_pdf_and_zip() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(content_matches("image/png", png));
        assert!(!content_matches("image/png", b"not a png at all"));
        assert!(!content_matches("image/png", b""));
        assert!(content_matches("image/jpeg", b"\xff\xd8\xff\xe0\0\x10JFIF"));
        assert!(content_matches("image/gif", b"GIF89a\x01\0"));
        assert!(content_matches("image/webp", b"RIFF\x10\0\0\0WEBPVP8 "));
        assert!(!content_matches("image/webp", b"RIFF\x10\0\0\0WAVEfmt "));
        assert!(content_matches("application/pdf", b"%PDF-1.7\n"));
        assert!(!content_matches("application/pdf", b"<html>"));
        assert!(content_matches("application/zip", b"PK\x03\x04\x14\0"));
        assert!(!content_matches(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"<?xml version"
        ));
        // Types without a signature are taken as declared.
        assert!(content_matches("text/plain", b"\x89PNG"));
        assert!(content_matches("text/csv", b""));
    }

    #[test]
    fn filenames_lose_paths_and_control_characters() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitize_filename("C:\\Users\\ann\\Desktop\\report.pdf"),
            "report.pdf"
        );
        assert_eq!(sanitize_filename("a\u{0}b\nc\u{7f}.txt"), "abc.txt");
        assert_eq!(sanitize_filename("in\u{202e}gpj.exe"), "ingpj.exe");
        assert_eq!(sanitize_filename("what?<now>.txt"), "what__now_.txt");
        assert_eq!(sanitize_filename(".."), FALLBACK_FILENAME);
        assert_eq!(sanitize_filename("dir/"), FALLBACK_FILENAME);
        assert_eq!(sanitize_filename("  .hidden. "), "hidden");
        assert_eq!(sanitize_filename("Grüße 📎.png"), "Grüße 📎.png");
    }

    #[test]
    fn long_filenames_keep_their_extension() {
        let long = format!("{}.docx", "ä".repeat(300));
        let short = sanitize_filename(&long);
        assert_eq!(short.chars().count(), MAX_FILENAME_CHARS);
        assert!(short.ends_with("ä.docx"), "{short}");
        let no_ext = "x".repeat(250);
        assert_eq!(sanitize_filename(&no_ext).len(), MAX_FILENAME_CHARS);
    }

    #[test]
    fn disposition_is_an_attachment_with_an_encoded_name() {
        assert_eq!(
            content_disposition("Grüße \"1\".png"),
            "attachment; filename=\"Gr__e _1_.png\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%221%22.png"
        );
        assert_eq!(
            content_disposition("a.txt"),
            "attachment; filename=\"a.txt\"; filename*=UTF-8''a.txt"
        );
    }
}
