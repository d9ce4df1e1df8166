#![allow(clippy::unwrap_used)]

use super::*;
use std::collections::BTreeSet;

fn doc() -> Value {
    build(1 << 20)
}

/// Every path the router serves outside the web pages is in the document, and the
/// document describes no path that is not served.
#[test]
fn every_served_path_is_described() {
    let served: BTreeSet<String> = crate::http::api_routes(1 << 20)
        .paths()
        .iter()
        .map(|p| openapi_path(p))
        .collect();
    let described: BTreeSet<String> = operations(&doc()).into_iter().map(|(_, p)| p).collect();
    let missing: Vec<_> = served.difference(&described).collect();
    assert!(
        missing.is_empty(),
        "served but not in openapi.json: {missing:?}"
    );
    let extra: Vec<_> = described.difference(&served).collect();
    assert!(
        extra.is_empty(),
        "in openapi.json but not served: {extra:?}"
    );
    assert!(served.len() > 80, "{} paths", served.len());
}

/// Every `$ref` points at a schema that exists, and each operation has an id of its own.
#[test]
fn references_resolve_and_ids_are_unique() {
    let doc = doc();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    match (k.as_str(), c.as_str()) {
                        ("$ref", Some(r)) => out.push(r.to_owned()),
                        _ => refs(c, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50);
    for r in &all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(schemas.contains_key(name), "{r} does not resolve");
    }
    let mut ids = BTreeSet::new();
    for ops in doc["paths"].as_object().unwrap().values() {
        for op in ops.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap().to_owned();
            assert!(ids.insert(id.clone()), "operationId {id} twice");
        }
    }
    assert!(
        !doc.to_string().contains("x-input"),
        "marks left in the document"
    );
}

/// Bodies and responses carry the schemas of the handlers' types.
#[test]
fn schemas_follow_the_handlers_types() {
    let doc = doc();
    let op = &doc["paths"]["/api/v1/tickets"]["post"];
    assert_eq!(
        op["security"],
        json!([{"bearerToken": []}, {"sessionCookie": []}])
    );
    let created = &op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"];
    let name = created.as_str().unwrap().rsplit('/').next().unwrap();
    let ticket = &doc["components"]["schemas"][name];
    assert!(
        ticket["properties"].as_object().unwrap().contains_key("id"),
        "{ticket}"
    );
    let list = &doc["paths"]["/api/v1/assets"]["get"]["parameters"];
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&"limit") && names.contains(&"cursor"),
        "{names:?}"
    );
    let detail = &doc["paths"]["/api/v1/assets/{id}"]["get"]["parameters"][0];
    assert_eq!(detail["in"], "path");
    assert_eq!(detail["schema"]["type"], "integer");
    assert_eq!(
        operation_id("GET", "/api/v1/assets/{id}/software"),
        "getAssetsIdSoftware"
    );
}
