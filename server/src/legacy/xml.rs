//! The OCS Inventory XML protocol, as FusionInventory 2.x and OCS Inventory 2.x agents
//! speak it: parsing their `<REQUEST>` documents (PROLOG, INVENTORY, others) and the
//! `<REPLY>` documents they expect back. Pure: no I/O, no clock; the caller decompresses
//! the body and compresses the reply.
//!
//! The reader refuses any DTD (so no entity is ever declared, let alone expanded), decodes
//! only the five predefined entities and character references, and bounds nesting,
//! element count and text length. Only the sections we map are kept in memory.

#[path = "xml_map.rs"]
mod map;

use super::report::{LegacyError, LegacyReport};
use quick_xml::events::{BytesRef, Event};
use quick_xml::reader::Reader;
use std::borrow::Cow;

/// Deeper nesting than any inventory has (they go five levels deep).
pub const MAX_DEPTH: usize = 32;
/// More elements than any inventory has (a machine with 20,000 packages has ~200,000).
pub const MAX_ELEMENTS: usize = 2_000_000;
/// Longest text of one element (a process's command line can be long; PROCESSES is read
/// and dropped, but still bounded).
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// Sections of `<CONTENT>` that are mapped; the others are read and dropped.
const KEPT_SECTIONS: &[&str] = &[
    "ACCESSLOG",
    "BIOS",
    "CPUS",
    "DRIVES",
    "HARDWARE",
    "MEMORIES",
    "NETWORKS",
    "OPERATINGSYSTEM",
    "SOFTWARES",
    "USERS",
];
/// Text elements directly under `<CONTENT>` that are kept.
const CONTENT_LEAVES: &[&str] = &["DEVICEID", "VERSIONCLIENT"];

/// What an agent asked for.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one value per request, matched at once; a Box would buy nothing"
)]
pub enum XmlRequest {
    /// `<QUERY>PROLOG</QUERY>`: the agent asks whether to send an inventory.
    Prolog { device_id: String, agent: String },
    /// `<QUERY>INVENTORY</QUERY>` with `<CONTENT>`.
    Inventory(LegacyReport),
    /// Any other query (e.g. SNMPQUERY, UPDATE): answered with an empty reply by the caller.
    /// `device_id` is empty when the document has none.
    Other { query: String, device_id: String },
}

/// Parse a request document (already decompressed). `user_agent` is the HTTP User-Agent
/// (e.g. "FusionInventory-Agent_v2.6", "OCS-NG_unified_unix_agent_v2.10.0"), used for
/// `agent` when the document has no VERSIONCLIENT.
pub fn parse(body: &[u8], user_agent: Option<&str>) -> Result<XmlRequest, LegacyError> {
    let text = decode(body)?;
    let doc = read(&text)?;
    let device_id = doc.device_id()?;
    let query = doc.query.trim().to_ascii_uppercase();
    match query.as_str() {
        "" => Err(malformed("the request has no QUERY")),
        "PROLOG" => Ok(XmlRequest::Prolog {
            device_id: required(device_id)?,
            agent: agent_name(user_agent.unwrap_or_default()),
        }),
        "INVENTORY" => {
            let device_id = required(device_id)?;
            if !doc.has_content {
                return Err(malformed("the inventory has no CONTENT"));
            }
            let agent = agent_name(match doc.versionclient.trim() {
                "" => user_agent.unwrap_or_default(),
                v => v,
            });
            Ok(XmlRequest::Inventory(map::report(&doc, device_id, agent)))
        }
        _ => Ok(XmlRequest::Other {
            query: printable(&query),
            device_id,
        }),
    }
}

/// The reply to a PROLOG: send an inventory, and come back every `freq_hours` hours (at
/// least 1: FusionInventory would otherwise ask again at once, forever).
pub fn prolog_reply(freq_hours: u32) -> String {
    format!(
        "{DECL}<REPLY><PROLOG_FREQ>{}</PROLOG_FREQ><RESPONSE>SEND</RESPONSE></REPLY>",
        freq_hours.max(1)
    )
}

/// The reply to an INVENTORY, as the OCS server sends it when it has no account
/// information (administrative fields) to push back to the agent.
pub fn inventory_reply() -> String {
    format!("{DECL}<REPLY><RESPONSE>NO_ACCOUNT_UPDATE</RESPONSE></REPLY>")
}

/// The reply to any other query: a well-formed reply that asks for nothing.
pub fn empty_reply() -> String {
    format!("{DECL}<REPLY></REPLY>")
}

const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

fn malformed(msg: impl Into<String>) -> LegacyError {
    LegacyError::Malformed(msg.into())
}

fn too_big(msg: impl Into<String>) -> LegacyError {
    LegacyError::TooBig(msg.into())
}

fn forbidden() -> LegacyError {
    LegacyError::Forbidden("DTDs and entity declarations are not accepted".into())
}

fn required(device_id: String) -> Result<String, LegacyError> {
    if device_id.is_empty() {
        Err(malformed("the request has no DEVICEID"))
    } else {
        Ok(device_id)
    }
}

/// The body as text: UTF-8 (a BOM is dropped), or Latin-1 when the XML declaration says
/// so (some FusionInventory setups). Anything else that is not UTF-8 is refused.
fn decode(body: &[u8]) -> Result<Cow<'_, str>, LegacyError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if declared_latin1(body) {
        return Ok(Cow::Owned(body.iter().map(|&b| char::from(b)).collect()));
    }
    std::str::from_utf8(body).map(Cow::Borrowed).map_err(|e| {
        malformed(format!(
            "the document is not UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// Whether the XML declaration at the start of `body` names ISO-8859-1.
fn declared_latin1(body: &[u8]) -> bool {
    let Some(rest) = body.strip_prefix(b"<?xml") else {
        return false;
    };
    let end = rest.iter().take(256).position(|&b| b == b'>');
    let Some(decl) = end.map(|e| &rest[..e]) else {
        return false;
    };
    let decl = String::from_utf8_lossy(decl).to_ascii_lowercase();
    let Some(after) = decl.split("encoding").nth(1) else {
        return false;
    };
    let value = after
        .trim_start()
        .trim_start_matches('=')
        .trim_start()
        .trim_start_matches(['"', '\''])
        .split(['"', '\''])
        .next()
        .unwrap_or_default()
        .trim();
    matches!(
        value,
        "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1"
    )
}

/// "FusionInventory-Agent_v2.6-3" → "FusionInventory 2.6",
/// "OCS-NG_unified_unix_agent_v2.10.0" → "OCS 2.10", "GLPI-Agent_v1.7" → "GLPI Agent 1.7";
/// anything else is kept (control characters removed, at most 64 characters).
pub fn agent_name(raw: &str) -> String {
    let raw = raw.trim();
    if let Some((product, version)) = raw.rsplit_once("_v")
        && version.starts_with(|c: char| c.is_ascii_digit())
    {
        let version: String = version
            .split(['.', '-', ' '])
            .take(2)
            .collect::<Vec<_>>()
            .join(".");
        let lower = product.to_ascii_lowercase();
        let product = if lower.starts_with("fusioninventory") {
            "FusionInventory".to_string()
        } else if lower.starts_with("ocs") {
            "OCS".to_string()
        } else if lower.starts_with("glpi") {
            "GLPI Agent".to_string()
        } else {
            product.replace(['-', '_'], " ")
        };
        return printable(&format!("{product} {version}"));
    }
    printable(raw)
}

fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// One element of a kept section (one `<SOFTWARES>`, the `<HARDWARE>`): its text fields
/// by path below the section ("NAME", "TIMEZONE/OFFSET"), in document order.
#[derive(Debug, Default)]
pub(super) struct Item {
    fields: Vec<(String, String)>,
}

impl Item {
    /// The first value of `key`, trimmed; empty when absent.
    pub(super) fn get(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.trim())
    }

    /// Every value of `key` (NETWORKS may repeat IPADDRESS), trimmed.
    pub(super) fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> {
        self.fields
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.trim())
    }
}

/// What was kept of a request document.
#[derive(Debug, Default)]
pub(super) struct Doc {
    query: String,
    request_device_id: String,
    content_device_id: String,
    versionclient: String,
    has_content: bool,
    sections: Vec<(String, Item)>,
}

impl Doc {
    /// The items of a section, in document order.
    pub(super) fn items<'a>(&'a self, section: &'a str) -> impl Iterator<Item = &'a Item> {
        self.sections
            .iter()
            .filter(move |(name, _)| name == section)
            .map(|(_, item)| item)
    }

    /// The first item of a section, or an empty one.
    pub(super) fn first(&self, section: &str) -> &Item {
        static EMPTY: Item = Item { fields: Vec::new() };
        self.sections
            .iter()
            .find(|(name, _)| name == section)
            .map_or(&EMPTY, |(_, item)| item)
    }

    /// REQUEST/DEVICEID, else CONTENT/DEVICEID (as the OCS server reads it); control
    /// characters are refused.
    fn device_id(&self) -> Result<String, LegacyError> {
        let id = match self.request_device_id.trim() {
            "" => self.content_device_id.trim(),
            id => id,
        };
        if id.len() > 255 || id.chars().any(char::is_control) {
            return Err(malformed("DEVICEID is too long or has control characters"));
        }
        Ok(id.to_string())
    }
}

/// An open element.
struct Open {
    name: String,
    /// Its text, when it is kept.
    text: String,
    keep_text: bool,
    text_len: usize,
    has_child: bool,
}

/// Read the document, keeping what [`map`] needs.
fn read(text: &str) -> Result<Doc, LegacyError> {
    if contains_ignore_case(text, "<!DOCTYPE") || contains_ignore_case(text, "<!ENTITY") {
        return Err(forbidden());
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut doc = Doc::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut item: Option<Item> = None;
    let mut elements = 0usize;
    let mut root_seen = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            malformed(format!(
                "not well-formed XML at byte {}: {e}",
                reader.error_position()
            ))
        })?;
        match event {
            Event::Start(e) => {
                open(e.name().0, &mut stack, &mut item, &mut doc, &mut root_seen)?;
                elements += 1;
            }
            Event::Empty(e) => {
                open(e.name().0, &mut stack, &mut item, &mut doc, &mut root_seen)?;
                elements += 1;
                close(&mut stack, &mut item, &mut doc);
            }
            Event::End(_) => close(&mut stack, &mut item, &mut doc),
            Event::Text(t) => add_text(&mut stack, &t.xml10_content())?,
            Event::CData(t) => add_text(&mut stack, &t.xml10_content())?,
            Event::GeneralRef(r) => add_text(&mut stack, &resolve(&r)?)?,
            Event::DocType(_) => return Err(forbidden()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
        if elements > MAX_ELEMENTS {
            return Err(too_big(format!("more than {MAX_ELEMENTS} elements")));
        }
    }
    if !stack.is_empty() {
        return Err(malformed("the document is truncated (elements left open)"));
    }
    if !root_seen {
        return Err(malformed("the document has no root element"));
    }
    Ok(doc)
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// An element starts: check the root and the depth, and decide what to keep.
fn open(
    name: &str,
    stack: &mut Vec<Open>,
    item: &mut Option<Item>,
    doc: &mut Doc,
    root_seen: &mut bool,
) -> Result<(), LegacyError> {
    if stack.is_empty() {
        if *root_seen {
            return Err(malformed("the document has more than one root element"));
        }
        if name != "REQUEST" {
            return Err(malformed(format!(
                "the root element is <{}>, not <REQUEST>",
                printable(name)
            )));
        }
        *root_seen = true;
    }
    if stack.len() >= MAX_DEPTH {
        return Err(too_big(format!("elements nested deeper than {MAX_DEPTH}")));
    }
    if let Some(parent) = stack.last_mut() {
        parent.has_child = true;
    }
    let under_content = stack.len() == 2 && stack[1].name == "CONTENT";
    let keep_text = match stack.len() {
        1 => {
            doc.has_content |= name == "CONTENT";
            name == "DEVICEID" || name == "QUERY"
        }
        2 if under_content => {
            if KEPT_SECTIONS.contains(&name) {
                *item = Some(Item::default());
            }
            CONTENT_LEAVES.contains(&name)
        }
        _ => item.is_some() && stack.len() >= 3,
    };
    stack.push(Open {
        name: name.to_string(),
        text: String::new(),
        keep_text,
        text_len: 0,
        has_child: false,
    });
    Ok(())
}

/// An element ends (quick-xml has checked that its name matches): store what is kept.
fn close(stack: &mut Vec<Open>, item: &mut Option<Item>, doc: &mut Doc) {
    let Some(done) = stack.pop() else {
        return;
    };
    match stack.len() {
        1 if done.keep_text => match done.name.as_str() {
            "DEVICEID" => doc.request_device_id = done.text,
            _ => doc.query = done.text,
        },
        2 if done.keep_text => match done.name.as_str() {
            "DEVICEID" => doc.content_device_id = done.text,
            _ => doc.versionclient = done.text,
        },
        2 => {
            if let Some(finished) = item.take() {
                doc.sections.push((done.name, finished));
            }
        }
        depth if depth >= 3 && done.keep_text && !done.has_child => {
            if let Some(current) = item.as_mut() {
                let mut path: Vec<&str> = stack[3..].iter().map(|o| o.name.as_str()).collect();
                path.push(&done.name);
                current.fields.push((path.join("/"), done.text));
            }
        }
        _ => {}
    }
}

fn add_text(stack: &mut [Open], text: &str) -> Result<(), LegacyError> {
    let Some(top) = stack.last_mut() else {
        if text.trim().is_empty() {
            return Ok(());
        }
        return Err(malformed("text outside the root element"));
    };
    top.text_len = top.text_len.saturating_add(text.len());
    if top.text_len > MAX_TEXT_BYTES {
        return Err(too_big(format!(
            "<{}> has more than {MAX_TEXT_BYTES} bytes of text",
            printable(&top.name)
        )));
    }
    if top.keep_text {
        top.text.push_str(text);
    }
    Ok(())
}

/// `&lt;` and the other predefined entities, `&#233;` and `&#xE9;`; nothing else (no DTD
/// can declare more).
fn resolve(r: &BytesRef<'_>) -> Result<String, LegacyError> {
    let bad = || malformed("an invalid character reference");
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            _ => Err(bad()),
        };
    }
    let name = r.xml10_content();
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_string)
        .ok_or_else(|| malformed(format!("undefined entity &{};", printable(&name))))
}

#[cfg(test)]
#[path = "xml_tests.rs"]
mod tests;
