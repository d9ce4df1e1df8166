//! Entering an asset that no agent reports (a monitor, an HVAC unit): pick the type, then
//! fill in the record and the type's own fields. The same checks as `POST /api/v1/assets`.

use super::{Nav, UiUser, message, render};
use crate::db::{self, asset_types::AssetType};
use crate::domain::assets::FieldType;
use crate::http::AppState;
use crate::http::Routes;
use crate::http::asset_input::{AssetInput, Money};
use crate::http::asset_records::create_asset;
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Map, Value};

pub fn router() -> Routes {
    Routes::new().route("/assets/new", get(form).post(submit))
}

/// A custom field as a form control.
pub struct FieldInput {
    pub name: String,
    pub label: String,
    /// "text", "number", "date", "checkbox" or "select".
    pub control: &'static str,
    pub required: bool,
    pub options: Vec<String>,
}

#[derive(Template)]
#[template(path = "asset_new.html")]
struct NewPage {
    nav: Option<Nav>,
    csrf: String,
    types: Vec<(String, String)>,
    chosen: Option<(String, String)>,
    fields: Vec<FieldInput>,
    locations: Vec<(i64, String)>,
    states: Vec<(i64, String)>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct TypeQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
}

fn inputs(t: &AssetType) -> Vec<FieldInput> {
    t.fields
        .iter()
        .map(|f| FieldInput {
            name: format!("cf_{}", f.key),
            label: f.label.clone(),
            control: match f.field_type {
                FieldType::Text => "text",
                FieldType::Number => "number",
                FieldType::Date => "date",
                FieldType::Bool => "checkbox",
                FieldType::Select => "select",
            },
            required: f.required,
            options: f.options.clone(),
        })
        .collect()
}

async fn new_page(
    state: &AppState,
    user: &UiUser,
    kind: Option<String>,
    error: Option<String>,
) -> Response {
    if let Some(r) = user.staff_only("Assets are entered by IT staff.") {
        return r;
    }
    let loaded = state
        .db
        .read(move |c| {
            let types = db::asset_types::list(c)?;
            let chosen = match kind.as_deref() {
                Some(k) => db::asset_types::by_key(c, k)?,
                None => None,
            };
            let locations = db::locations::list(c, db::locations::MAX_LOCATIONS)?;
            let states = db::asset_types::states(c)?;
            Ok((types, chosen, locations, states))
        })
        .await;
    let Ok((types, chosen, locations, states)) = loaded else {
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            user.nav("assets"),
            "Try again",
            "The database is busy.",
        );
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut resp = render(&NewPage {
        nav: user.nav("assets"),
        csrf: user.0.csrf().unwrap_or_default().to_owned(),
        types: types
            .iter()
            .map(|t| (t.key.clone(), t.name.clone()))
            .collect(),
        fields: chosen.as_ref().map(inputs).unwrap_or_default(),
        chosen: chosen.map(|t| (t.key, t.name)),
        locations: locations.into_iter().map(|l| (l.id, l.path)).collect(),
        states: states.into_iter().map(|s| (s.id, s.name)).collect(),
        error,
    });
    *resp.status_mut() = status;
    resp
}

async fn form(user: UiUser, State(state): State<AppState>, Query(q): Query<TypeQuery>) -> Response {
    new_page(&state, &user, q.kind, None).await
}

/// The form's fields in order (custom fields come as `cf_<key>`).
type Fields = Vec<(String, String)>;

fn input_from(f: &Fields) -> AssetInput {
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
    };
    let nonempty = |k: &str| get(k).filter(|v| !v.is_empty());
    let mut custom = Map::new();
    for (k, v) in f {
        if let Some(key) = k.strip_prefix("cf_") {
            custom.insert(key.to_owned(), Value::String(v.clone()));
        }
    }
    AssetInput {
        kind: get("type"),
        name: get("name"),
        vendor: get("vendor"),
        model: get("model"),
        serial: get("serial"),
        asset_tag: Some(nonempty("asset_tag")),
        state_id: nonempty("state_id").and_then(|s| s.parse().ok()),
        location_id: Some(nonempty("location_id").and_then(|s| s.parse().ok())),
        purchase_date: Some(nonempty("purchase_date")),
        purchase_cost: Some(nonempty("purchase_cost").map(Money::Text)),
        supplier: get("supplier"),
        warranty_end: Some(nonempty("warranty_end")),
        criticality: nonempty("criticality"),
        notes: get("notes"),
        custom_fields: Some(custom),
        ..Default::default()
    }
}

async fn submit(user: UiUser, State(state): State<AppState>, Form(f): Form<Fields>) -> Response {
    let csrf = f
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if !user.csrf_ok(csrf) {
        return user.csrf_refused();
    }
    if let Some(r) = user.staff_only("Assets are entered by IT staff.") {
        return r;
    }
    let input = input_from(&f);
    let kind = input.kind.clone();
    match create_asset(&state, &user.0, input).await {
        Ok(id) => Redirect::to(&format!("/assets/{id}")).into_response(),
        Err(e) => new_page(&state, &user, kind, Some(e.message)).await,
    }
}
