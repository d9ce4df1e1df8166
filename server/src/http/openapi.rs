//! The OpenAPI 3.0 document, `GET /api/v1/openapi.json`.
//!
//! Each HTTP module describes its own routes next to its handlers (`describe`), with
//! the Rust types its handlers take and return; the schemas are derived from those
//! types (`schemars`, following their serde attributes), so they cannot drift apart.
//! A test checks the document against the paths the router serves, and the API tests
//! check methods and responses against the running server.

use super::{AppState, Routes};
use axum::Json;
use axum::extract::State;
use schemars::generate::{Contract, SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub fn router() -> Routes {
    Routes::new().route("/api/v1/openapi.json", axum::routing::get(document))
}

pub(super) fn describe(api: &mut Api) {
    api.op(
        "GET",
        "/api/v1/openapi.json",
        "This OpenAPI document",
        Access::Public,
    )
    .ok_raw("application/json", "An OpenAPI 3.0 document");
}

async fn document(State(state): State<AppState>) -> Json<Value> {
    static DOC: OnceLock<Value> = OnceLock::new();
    let doc = DOC.get_or_init(|| build(state.config.legacy_inventory.max_body_bytes));
    Json(doc.clone())
}

/// Who may call an operation. The authorization matrix test holds the details
/// (which employee sees what); this is what the document promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, no credentials.
    Public,
    /// Any signed-in user or API token (what they see depends on their role).
    User,
    /// Technicians and administrators.
    Staff,
    /// Administrators.
    Admin,
    /// An enrolled agent with its own credential.
    Agent,
    /// An agent enrolling with an enrollment token.
    Enrolling,
    /// FusionInventory/GLPI/OCS agents, with HTTP basic credentials when configured.
    LegacyAgent,
}

impl Access {
    fn security(self) -> Value {
        match self {
            Access::Public | Access::Enrolling => json!([]),
            Access::User | Access::Staff | Access::Admin => {
                json!([{"bearerToken": []}, {"sessionCookie": []}])
            }
            Access::Agent => json!([{"agentCredential": []}]),
            Access::LegacyAgent => json!([{}, {"legacyBasic": []}]),
        }
    }

    fn roles(self) -> &'static str {
        match self {
            Access::Public => "anyone",
            Access::User => "employee, technician, admin",
            Access::Staff => "technician, admin",
            Access::Admin => "admin",
            Access::Agent => "agent",
            Access::Enrolling => "an agent with an enrollment token",
            Access::LegacyAgent => "legacy inventory agents",
        }
    }
}

/// The document being built: operations by path and method, and the schemas they use.
pub struct Api {
    /// Responses are described as the server writes them, request bodies as it reads
    /// them (defaults and optional fields differ).
    out: SchemaGenerator,
    input: SchemaGenerator,
    paths: BTreeMap<String, Map<String, Value>>,
}

fn generator(contract: Contract) -> SchemaGenerator {
    let mut settings = SchemaSettings::openapi3();
    settings.contract = contract;
    settings.into_generator()
}

impl Api {
    fn new() -> Api {
        Api {
            out: generator(Contract::Serialize),
            input: generator(Contract::Deserialize),
            paths: BTreeMap::new(),
        }
    }

    /// Starts the operation `method path`; it is added when the builder is dropped.
    pub fn op(&mut self, method: &str, path: &str, summary: &str, access: Access) -> Op<'_> {
        let mut op = Map::new();
        op.insert("summary".into(), summary.into());
        op.insert(
            "description".into(),
            format!("Allowed: {}.", access.roles()).into(),
        );
        op.insert("operationId".into(), operation_id(method, path).into());
        op.insert("security".into(), access.security());
        let params: Vec<Value> = path_params(path)
            .map(|(name, integer)| {
                // The first of each kind: what a fuzzer should try besides random ids.
                json!({"name": name, "in": "path", "required": true,
                       "schema": if integer { json!({"type": "integer", "format": "int64", "example": 1}) }
                                 else { json!({"type": "string"}) }})
            })
            .collect();
        op.insert("parameters".into(), Value::Array(params));
        let mut responses = Map::new();
        responses.insert("4XX".into(), error_response("The request was refused"));
        responses.insert(
            "503".into(),
            error_response("Busy; retry after Retry-After"),
        );
        op.insert("responses".into(), Value::Object(responses));
        Op {
            api: self,
            method: method.to_ascii_lowercase(),
            path: openapi_path(path),
            op,
        }
    }

    fn finish(mut self) -> Value {
        let mut schemas: Map<String, Value> = Map::new();
        for (name, schema) in self.out.take_definitions(true) {
            schemas.insert(name, schema);
        }
        // A type read and written alike shares one schema; one read differently gets
        // its own (`…Input`), and the request parts refer to that.
        let input: Vec<(String, Value)> = self.input.take_definitions(true).into_iter().collect();
        let renamed: std::collections::HashMap<String, String> = input
            .iter()
            .filter(|(name, schema)| schemas.get(name).is_some_and(|s| s != schema))
            .map(|(name, _)| (name.clone(), format!("{name}Input")))
            .collect();
        for (name, mut schema) in input {
            rename_refs(&mut schema, &renamed, true);
            let name = renamed.get(&name).cloned().unwrap_or(name);
            schemas.insert(name, schema);
        }
        schemas.insert(
            "Error".into(),
            json!({"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "description": "Stable, snake_case"},
                    "message": {"type": "string"}}}}}),
        );
        let mut paths = Value::Object(
            self.paths
                .into_iter()
                .map(|(p, ops)| (p, Value::Object(ops)))
                .collect(),
        );
        rename_refs(&mut paths, &renamed, false);
        let components = Value::Object(schemas);
        json!({
            "openapi": "3.0.3",
            "info": {
                "title": "Steward",
                "version": env!("CARGO_PKG_VERSION"),
                "description": "IT assets, facilities and service desk. Errors are \
                    {\"error\": {\"code\", \"message\"}}; lists are keyset-paginated \
                    with ?limit= and ?cursor=."
            },
            "paths": paths,
            "components": {
                "schemas": components,
                "securitySchemes": {
                    "bearerToken": {"type": "http", "scheme": "bearer",
                        "description": "An API token (steward-server token create); a read-scoped one \
                            may only GET (403 insufficient_scope otherwise)"},
                    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "steward_session",
                        "description": "The web session; state changes also need the X-CSRF-Token header"},
                    "agentCredential": {"type": "http", "scheme": "bearer",
                        "description": "The credential an agent received when it enrolled"},
                    "legacyBasic": {"type": "http", "scheme": "basic"}
                }
            }
        })
    }
}

/// Points the `$ref`s of request parts (inside `x-input` marks, or everywhere when
/// `inside`) at the renamed input schemas, and drops the marks.
fn rename_refs(v: &mut Value, renamed: &std::collections::HashMap<String, String>, inside: bool) {
    const PREFIX: &str = "#/components/schemas/";
    match v {
        Value::Object(m) => {
            let inside = inside || m.remove("x-input").is_some();
            for (k, child) in m.iter_mut() {
                let target = child.as_str().and_then(|r| r.strip_prefix(PREFIX));
                match target.and_then(|t| renamed.get(t)) {
                    Some(new) if inside && k == "$ref" => {
                        *child = Value::String(format!("{PREFIX}{new}"));
                    }
                    _ => rename_refs(child, renamed, inside),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rename_refs(c, renamed, inside)),
        _ => {}
    }
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}})
}

/// `/x/{*rest}` (an axum catch-all) is `/x/{rest}` in OpenAPI.
fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

/// The names of a path's parameters, and whether each is an integer id.
fn path_params(path: &str) -> impl Iterator<Item = (String, bool)> + '_ {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let name = name.trim_start_matches('*');
            (name.to_owned(), name == "id" || name.ends_with("_id"))
        })
}

fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for seg in path
        .split('/')
        .filter(|s| !s.is_empty() && *s != "api" && *s != "v1")
    {
        let seg = seg.trim_start_matches('{').trim_start_matches('*');
        let seg = seg.trim_end_matches('}');
        let mut upper = true;
        for c in seg.chars() {
            if c.is_ascii_alphanumeric() {
                if upper {
                    id.extend(c.to_uppercase());
                } else {
                    id.push(c);
                }
                upper = false;
            } else {
                upper = true;
            }
        }
    }
    // The legacy agents use `/x` and `/x/` alike.
    if path == "/" {
        id.push_str("Root");
    } else if path.ends_with('/') {
        id.push_str("Slash");
    }
    id
}

/// One operation being described.
pub struct Op<'a> {
    api: &'a mut Api,
    method: String,
    path: String,
    op: Map<String, Value>,
}

impl Op<'_> {
    /// Query parameters: the fields of `T` (a flat struct read with `Query<T>`).
    pub fn query<T: JsonSchema>(mut self) -> Self {
        let generator = &mut self.api.input;
        let mut schema = generator.subschema_for::<T>().to_value();
        if let Some(name) = schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            let def = generator
                .definitions()
                .get(name)
                .cloned()
                .unwrap_or_default();
            schema = Schema::try_from(def).map_or(Value::Null, |s| transformed(generator, s));
        }
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut added = Vec::new();
        for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
            let mut prop = prop.clone();
            if let Some(m) = prop.as_object_mut() {
                m.remove("nullable");
                m.remove("default");
            }
            added.push(json!({"name": name, "in": "query", "x-input": true,
                "required": required.contains(&name.as_str()), "schema": prop}));
        }
        if let Some(params) = self.op.get_mut("parameters").and_then(Value::as_array_mut) {
            params.extend(added);
        }
        self
    }

    /// A query parameter read by hand (not through a typed struct).
    pub fn param(mut self, name: &str, ty: &str, description: &str) -> Self {
        if let Some(params) = self.op.get_mut("parameters").and_then(Value::as_array_mut) {
            params.push(json!({"name": name, "in": "query", "required": false,
                "description": description, "schema": {"type": ty}}));
        }
        self
    }

    /// A JSON request body read as `T`.
    pub fn body<T: JsonSchema>(mut self) -> Self {
        let schema = self.api.input.subschema_for::<T>();
        let schema = transformed(&mut self.api.input, schema);
        self.op.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {
                "schema": schema}}, "x-input": true}),
        );
        self
    }

    /// A request body that is not JSON (a CSV, a multipart upload, an XML inventory).
    pub fn raw_body(mut self, content_type: &str, description: &str) -> Self {
        let schema = if content_type == "multipart/form-data" {
            json!({"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}})
        } else {
            json!({"type": "string", "format": "binary"})
        };
        self.op.insert(
            "requestBody".into(),
            json!({"required": true, "description": description,
                   "content": {content_type: {"schema": schema}}}),
        );
        self
    }

    fn response(mut self, status: &str, description: &str, content: Option<Value>) -> Self {
        let mut r = json!({ "description": description });
        if let Some(c) = content {
            r["content"] = c;
        }
        if let Some(responses) = self.op.get_mut("responses").and_then(Value::as_object_mut) {
            responses.insert(status.into(), r);
        }
        self
    }

    /// 200 with a JSON `T`.
    pub fn ok<T: JsonSchema>(self) -> Self {
        self.json_response::<T>("200", "OK")
    }

    /// 201 with the created `T`.
    pub fn created<T: JsonSchema>(self) -> Self {
        self.json_response::<T>("201", "Created")
    }

    fn json_response<T: JsonSchema>(self, status: &str, description: &str) -> Self {
        let schema = self.api.out.subschema_for::<T>();
        let schema = transformed(&mut self.api.out, schema);
        self.response(
            status,
            description,
            Some(json!({"application/json": {"schema": schema}})),
        )
    }

    /// 204, no body.
    pub fn no_content(self) -> Self {
        self.response("204", "Done", None)
    }

    /// Another status without a body (202 Accepted, say).
    pub fn empty(self, status: &str, description: &str) -> Self {
        self.response(status, description, None)
    }

    /// 200 with a body of `content_type` that is not described by a schema here.
    pub fn ok_raw(self, content_type: &str, description: &str) -> Self {
        let schema = if content_type == "application/json" {
            json!({"type": "object"})
        } else {
            json!({"type": "string"})
        };
        self.response(
            "200",
            description,
            Some(json!({ content_type: {"schema": schema} })),
        )
    }

    /// Another status this operation answers with, and its body type.
    pub fn also<T: JsonSchema>(self, status: &str, description: &str) -> Self {
        self.json_response::<T>(status, description)
    }
}

impl Drop for Op<'_> {
    fn drop(&mut self) {
        let op = std::mem::take(&mut self.op);
        self.api
            .paths
            .entry(self.path.clone())
            .or_default()
            .insert(self.method.clone(), Value::Object(op));
    }
}

/// `schema` with the generator's OpenAPI 3.0 transforms applied (`nullable` for
/// `Option`s, ...): only definitions get them on their own.
fn transformed(generator: &mut SchemaGenerator, mut schema: Schema) -> Value {
    for t in generator.transforms_mut() {
        t.transform(&mut schema);
    }
    schema.to_value()
}

/// The whole document.
pub fn build(legacy_max_body_bytes: usize) -> Value {
    let _ = legacy_max_body_bytes;
    let mut api = Api::new();
    super::describe_all(&mut api);
    api.finish()
}

/// `(method, path)` of every operation in `doc`, paths as the router writes them
/// (`{*rest}` for a catch-all is `{rest}` here).
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, ops) in paths {
            for method in ops.as_object().into_iter().flat_map(|o| o.keys()) {
                out.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod tests;
