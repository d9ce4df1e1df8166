//! The GLPI Agent JSON protocol (GLPI Agent 1.x talking to GLPI 10's native inventory):
//! requests parsed into our model, and the replies the agent needs. Pure: no I/O, no
//! clock. The caller handles HTTP, the `GLPI-Agent-ID` header, decompression
//! (`application/x-compress-zlib`, `-gzip`) and storage.
//!
//! The exchange, as `GLPI::Agent::runTarget` drives it:
//! 1. CONTACT: `{"action": "contact", "deviceid", "name": "GLPI-Agent", "version",
//!    "installed-tasks", "enabled-tasks", "httpd-port", "tag"}`. The answer must carry a
//!    `status` of `"ok"` and an `expiration` above 0 (hours when it has no unit), or the
//!    agent ignores it. It must also list the inventory task under `tasks` with a
//!    `server` other than `"glpiinventory"`: an agent that gets no `tasks` (or one
//!    served by `glpiinventory`) falls back to an XML PROLOG first.
//! 2. INVENTORY: `{"action": "inventory", "deviceid", "itemtype": "Computer",
//!    "partial": bool, "content": {..}}` (a message without `action` is an inventory).
//!    Any answer with a non-empty `status` other than `"error"` is success.
//!
//! Errors are answered `{"status": "error", "message": ..}`; the agent logs the message
//! whatever the HTTP status (GLPI sends it with a 4xx or 5xx). Replies go uncompressed
//! with `Content-Type: application/json`.

use super::report::{LegacyError, LegacyReport};
use serde_json::{Map, Value, json};

#[path = "glpi_map.rs"]
mod map;

/// The GLPI version we announce for the inventory task. The agent passes it to its
/// inventory formatter; any GLPI 10 version makes it send the current format.
pub const GLPI_COMPAT_VERSION: &str = "10.0.18";

/// Most software items one inventory may list (real machines have a few thousand).
pub const MAX_SOFTWARE: usize = 100_000;
/// Most items in any other list (CPUs, drives, networks, users, memories).
pub const MAX_ITEMS: usize = 10_000;
/// Longest `deviceid` accepted.
const MAX_DEVICE_ID: usize = 255;

/// What a GLPI Agent asked for.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one value per request, moved once; boxing would only add an indirection"
)]
pub enum GlpiRequest {
    /// CONTACT: answer with [`contact_reply`] (or [`contact_reply_for`]).
    Contact {
        device_id: String,
        /// "GLPI Agent 1.7".
        agent: String,
        /// Lower-case task names, as sent ("inventory", "deploy", ...).
        enabled_tasks: Vec<String>,
    },
    /// INVENTORY: store it, answer with [`inventory_reply`].
    Inventory(LegacyReport),
    /// Anything else ("register", "configuration", "get_params", "netdiscovery", ...):
    /// answered by the caller, usually with [`error_reply`].
    Other { action: String, device_id: String },
}

/// Parses one (already decompressed) request body.
///
/// `agent_id_header` is the `GLPI-Agent-ID` header: the device id when the body has
/// none. `user_agent` (e.g. "GLPI-Agent_v1.7") names the agent when the body does not.
pub fn parse(
    body: &[u8],
    user_agent: Option<&str>,
    agent_id_header: Option<&str>,
) -> Result<GlpiRequest, LegacyError> {
    let value: Value = serde_json::from_slice(body).map_err(json_error)?;
    let Value::Object(root) = value else {
        return Err(malformed("the request must be a JSON object"));
    };
    let root = Obj::new(&root, "");
    let action = root.string("action")?.to_ascii_lowercase();
    let device_id = device_id(&root, agent_id_header)?;
    match action.as_str() {
        "contact" => {
            let client = format!("{}_v{}", root.string("name")?, root.string("version")?);
            let enabled_tasks = root
                .strings("enabled-tasks")?
                .into_iter()
                .map(|t| t.to_ascii_lowercase())
                .collect();
            Ok(GlpiRequest::Contact {
                device_id,
                agent: agent_label(Some(&client), user_agent),
                enabled_tasks,
            })
        }
        // GLPI Agent's `Message::action` defaults to "inventory".
        "" | "inventory" => {
            let itemtype = root.string("itemtype")?;
            if !itemtype.is_empty() && !itemtype.eq_ignore_ascii_case("computer") {
                return Err(malformed(format!(
                    "itemtype \"{itemtype}\" is not supported: only Computer inventories are stored"
                )));
            }
            let partial = root.flag("partial")?;
            let Some(content) = root.obj("content")? else {
                return Err(malformed("an inventory needs a \"content\" object"));
            };
            let report = map::report(device_id, &content, partial, user_agent)?;
            Ok(GlpiRequest::Inventory(report))
        }
        _ => Ok(GlpiRequest::Other { action, device_id }),
    }
}

/// The CONTACT answer that makes the agent run its inventory task against us now and
/// contact us again within `expiration_hours` (at least 1).
pub fn contact_reply(expiration_hours: u32) -> Value {
    json!({
        "status": "ok",
        "expiration": expiration_hours.max(1),
        "tasks": {
            "inventory": {"server": "glpi", "version": GLPI_COMPAT_VERSION},
        },
    })
}

/// [`contact_reply`], also disabling the agent's other enabled tasks (deploy, collect,
/// esx, netdiscovery, ...), which we do not serve, as GLPI does for tasks it lacks.
pub fn contact_reply_for(expiration_hours: u32, enabled_tasks: &[String]) -> Value {
    let mut reply = contact_reply(expiration_hours);
    let disabled: Vec<&str> = enabled_tasks
        .iter()
        .map(String::as_str)
        .filter(|t| !t.eq_ignore_ascii_case("inventory"))
        .collect();
    if !disabled.is_empty()
        && let Some(obj) = reply.as_object_mut()
    {
        obj.insert(
            "message".into(),
            Value::from(format!("{} not supported", disabled.join(", "))),
        );
        obj.insert("disabled".into(), json!(disabled));
    }
    reply
}

/// The answer to an accepted inventory.
pub fn inventory_reply() -> Value {
    json!({"status": "ok"})
}

/// The answer to a request we refuse; the agent logs `message`.
pub fn error_reply(message: &str) -> Value {
    json!({"status": "error", "message": message})
}

/// "GLPI Agent 1.7" from the document's `versionclient` ("GLPI-Agent_v1.7.3"), else
/// from the User-Agent, else "GLPI Agent".
pub(crate) fn agent_label(client: Option<&str>, user_agent: Option<&str>) -> String {
    [client, user_agent]
        .into_iter()
        .flatten()
        .find_map(|s| {
            let (product, version) = split_client(s)?;
            let short: Vec<&str> = version.split('.').take(2).collect();
            Some(format!("{product} {}", short.join(".")))
        })
        .unwrap_or_else(|| "GLPI Agent".to_string())
}

/// ("GLPI Agent", "1.7.3") from "GLPI-Agent_v1.7.3-1"; `None` without a version.
pub(crate) fn split_client(s: &str) -> Option<(String, String)> {
    let (product, version) = s.trim().rsplit_once("_v")?;
    let version: String = version
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let version = version.trim_matches('.').to_string();
    if version.is_empty() || product.is_empty() {
        return None;
    }
    let product = match product {
        p if p.eq_ignore_ascii_case("GLPI-Agent") => "GLPI Agent".to_string(),
        p if p.eq_ignore_ascii_case("FusionInventory-Agent") => "FusionInventory".to_string(),
        p => p.replace(['-', '_'], " ").chars().take(40).collect(),
    };
    Some((product, version))
}

fn device_id(root: &Obj<'_>, header: Option<&str>) -> Result<String, LegacyError> {
    let body = root.string("deviceid")?;
    let id = if body.is_empty() {
        header.map(str::trim).unwrap_or_default().to_string()
    } else {
        body
    };
    if id.is_empty() {
        return Err(malformed(
            "deviceid is missing (neither the body nor the GLPI-Agent-ID header has one)",
        ));
    }
    if id.len() > MAX_DEVICE_ID || id.chars().any(char::is_control) {
        return Err(malformed("deviceid is too long or has control characters"));
    }
    Ok(id)
}

fn json_error(e: serde_json::Error) -> LegacyError {
    let text = e.to_string();
    if text.contains("recursion limit") {
        LegacyError::TooBig(format!("JSON nested too deeply: {text}"))
    } else {
        malformed(format!("not valid JSON: {text}"))
    }
}

pub(crate) fn malformed(message: impl Into<String>) -> LegacyError {
    LegacyError::Malformed(message.into())
}

/// A JSON object with its path in the document, for error messages. Accessors accept
/// what agents send (numbers as strings and strings as numbers, `null` as absent) and
/// refuse the wrong kind of value with the field's path.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>, path: &str) -> Obj<'a> {
        Obj {
            map,
            path: path.to_string(),
        }
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }

    fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn wrong(&self, key: &str, expected: &str) -> LegacyError {
        malformed(format!("{} must be {expected}", self.field(key)))
    }

    /// A text field, trimmed; empty when absent.
    pub(crate) fn string(&self, key: &str) -> Result<String, LegacyError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.trim().to_string()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err(self.wrong(key, "a string")),
        }
    }

    /// A whole non-negative number (a JSON number or a string of digits); `None` when
    /// absent or empty. Fractions are truncated.
    pub(crate) fn uint(&self, key: &str) -> Result<Option<u64>, LegacyError> {
        let number = match self.map.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(u) => return Ok(Some(u)),
                None => n.as_f64(),
            },
            Some(Value::String(s)) => match s.trim() {
                "" => return Ok(None),
                t => match t.parse::<u64>() {
                    Ok(u) => return Ok(Some(u)),
                    Err(_) => t.parse::<f64>().ok(),
                },
            },
            Some(_) => None,
        };
        match number {
            Some(f) if f.is_finite() && f >= 0.0 => Ok(Some(f as u64)),
            _ => Err(self.wrong(key, "a non-negative number")),
        }
    }

    /// `true`, `1`, `"1"`, `"true"`, `"yes"`; false when absent.
    pub(crate) fn flag(&self, key: &str) -> Result<bool, LegacyError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Number(n)) => Ok(n.as_f64().is_some_and(|f| f != 0.0)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => Ok(true),
                "" | "0" | "false" | "no" => Ok(false),
                _ => Err(self.wrong(key, "a boolean")),
            },
            Some(_) => Err(self.wrong(key, "a boolean")),
        }
    }

    pub(crate) fn obj(&self, key: &str) -> Result<Option<Obj<'a>>, LegacyError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Obj {
                map: m,
                path: self.field(key),
            })),
            Some(_) => Err(self.wrong(key, "an object")),
        }
    }

    /// A list of objects (one object alone counts as a list of one); empty when absent.
    /// More than `max` items is `TooBig`.
    pub(crate) fn list(&self, key: &str, max: usize) -> Result<Vec<Obj<'a>>, LegacyError> {
        let items: &[Value] = match self.map.get(key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(a)) => a,
            Some(one @ Value::Object(_)) => std::slice::from_ref(one),
            Some(_) => return Err(self.wrong(key, "a list of objects")),
        };
        if items.len() > max {
            return Err(LegacyError::TooBig(format!(
                "{} has {} items, more than the {max} accepted",
                self.field(key),
                items.len()
            )));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Object(m) => Ok(Obj {
                    map: m,
                    path: format!("{}[{i}]", self.field(key)),
                }),
                _ => Err(malformed(format!(
                    "{}[{i}] must be an object",
                    self.field(key)
                ))),
            })
            .collect()
    }

    /// A list of strings (one string alone counts); empty when absent.
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, LegacyError> {
        let items: &[Value] = match self.map.get(key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(a)) => a,
            Some(one @ Value::String(_)) => std::slice::from_ref(one),
            Some(_) => return Err(self.wrong(key, "a list of strings")),
        };
        if items.len() > MAX_ITEMS {
            return Err(LegacyError::TooBig(format!(
                "{} has too many items",
                self.field(key)
            )));
        }
        items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_string()),
                _ => Err(self.wrong(key, "a list of strings")),
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "glpi_tests.rs"]
mod tests;
