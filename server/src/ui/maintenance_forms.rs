//! The maintenance plan form, new and edit: plain fields in, a `PlanInput` out, saved by
//! the same code as `POST /api/v1/maintenance/plans`. A refused form comes back with the
//! message and everything the user typed. The fields themselves are in
//! `maintenance_form_values`.

use super::maintenance::{STAFF_ONLY, busy};
use super::maintenance_form_values::{Fields, Values};
use super::{Nav, UiUser, message, render};
use crate::db;
use crate::http::AppState;
use crate::http::Routes;
use crate::http::maintenance::save_plan;
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

pub fn router() -> Routes {
    Routes::new()
        .route("/maintenance/plans/new", get(new_form).post(create))
        .route("/maintenance/plans/{id}/edit", get(edit_form).post(update))
}

/// An `<option>`.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn opts(items: impl IntoIterator<Item = (String, String)>, chosen: &[String]) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: chosen.contains(&value),
            value,
            label,
        })
        .collect()
}

fn fixed(items: &[(&str, &str)], chosen: &str) -> Vec<Opt> {
    opts(
        items
            .iter()
            .map(|(v, l)| ((*v).to_owned(), (*l).to_owned())),
        &[chosen.to_owned()],
    )
}

#[derive(Template)]
#[template(path = "maintenance_plan_form.html")]
struct FormPage {
    nav: Option<Nav>,
    csrf: String,
    /// The plan being edited.
    id: Option<i64>,
    error: Option<String>,
    v: Values,
    kinds: Vec<Opt>,
    nths: Vec<Opt>,
    weekdays: Vec<Opt>,
    froms: Vec<Opt>,
    priorities: Vec<Opt>,
    assignees: Vec<Opt>,
    groups: Vec<Opt>,
    escalation_groups: Vec<Opt>,
    types: Vec<Opt>,
    locations: Vec<Opt>,
}

async fn form_page(
    state: &AppState,
    user: &UiUser,
    id: Option<i64>,
    v: Values,
    error: Option<String>,
) -> Response {
    let loaded = state
        .db
        .read(|c| {
            let staff = db::users::active_staff(c, 1_000)?;
            let groups = db::groups::list(c, 1_000)?;
            let types = db::asset_types::list(c)?;
            let locations = db::locations::list(c, db::locations::MAX_LOCATIONS)?;
            Ok((staff, groups, types, locations))
        })
        .await;
    let Ok((staff, groups, types, locations)) = loaded else {
        return busy(user);
    };
    let none = || (String::new(), "(none)".to_owned());
    let group_items =
        || std::iter::once(none()).chain(groups.iter().map(|g| (g.id.to_string(), g.name.clone())));
    let page = FormPage {
        nav: user.nav("maintenance"),
        csrf: user.0.csrf().unwrap_or_default().to_owned(),
        id,
        error: error.clone(),
        kinds: fixed(
            &[
                ("interval", "Every N days"),
                ("monthly", "N-th weekday of the month"),
                ("cron", "Cron expression"),
                ("none", "No calendar (meter or maximum interval only)"),
            ],
            &v.kind,
        ),
        nths: fixed(
            &[
                ("first", "First"),
                ("second", "Second"),
                ("third", "Third"),
                ("fourth", "Fourth"),
                ("last", "Last"),
            ],
            &v.nth,
        ),
        weekdays: fixed(
            &[
                ("monday", "Monday"),
                ("tuesday", "Tuesday"),
                ("wednesday", "Wednesday"),
                ("thursday", "Thursday"),
                ("friday", "Friday"),
                ("saturday", "Saturday"),
                ("sunday", "Sunday"),
            ],
            &v.weekday,
        ),
        froms: fixed(
            &[
                ("fixed", "fixed to the schedule"),
                ("floating", "from the last completion"),
            ],
            &v.interval_from,
        ),
        priorities: fixed(
            &[
                ("1", "1 critical"),
                ("2", "2 high"),
                ("3", "3 medium"),
                ("4", "4 low"),
                ("5", "5 planning"),
            ],
            &v.priority,
        ),
        assignees: opts(
            std::iter::once((String::new(), "(the group decides)".to_owned()))
                .chain(staff.iter().map(|u| (u.id.to_string(), u.name.clone()))),
            std::slice::from_ref(&v.assignee_id),
        ),
        groups: opts(group_items(), std::slice::from_ref(&v.group_id)),
        escalation_groups: opts(group_items(), std::slice::from_ref(&v.escalate_group_id)),
        types: opts(
            types.iter().map(|t| (t.id.to_string(), t.name.clone())),
            &v.types,
        ),
        locations: opts(
            locations.iter().map(|l| (l.id.to_string(), l.path.clone())),
            &v.locations,
        ),
        v,
    };
    let mut resp = render(&page);
    if error.is_some() {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    resp
}

async fn new_form(user: UiUser, State(state): State<AppState>) -> Response {
    if let Some(r) = user.staff_only(STAFF_ONLY) {
        return r;
    }
    form_page(&state, &user, None, Values::fresh(), None).await
}

async fn edit_form(user: UiUser, State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    if let Some(r) = user.staff_only(STAFF_ONLY) {
        return r;
    }
    match state.db.read(move |c| db::maintenance::get(c, id)).await {
        Ok(Some(p)) => form_page(&state, &user, Some(id), Values::of(&p), None).await,
        Ok(None) => message(
            StatusCode::NOT_FOUND,
            user.nav("maintenance"),
            "No such plan",
            "It may have been deleted.",
        ),
        Err(_) => busy(&user),
    }
}

async fn submit(state: AppState, user: UiUser, id: Option<i64>, f: Fields) -> Response {
    let csrf = f
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if !user.csrf_ok(csrf) {
        return user.csrf_refused();
    }
    if let Some(r) = user.staff_only(STAFF_ONLY) {
        return r;
    }
    let v = Values::from_form(&f);
    let input = match v.input() {
        Ok(i) => i,
        Err(e) => return form_page(&state, &user, id, v, Some(e)).await,
    };
    match save_plan(&state, id, input).await {
        Ok(p) => Redirect::to(&format!("/maintenance/plans/{}", p.id)).into_response(),
        Err(e) if e.status == StatusCode::NOT_FOUND => message(
            StatusCode::NOT_FOUND,
            user.nav("maintenance"),
            "No such plan",
            "It may have been deleted.",
        ),
        Err(e) if e.status.is_server_error() => busy(&user),
        Err(e) => form_page(&state, &user, id, v, Some(e.message)).await,
    }
}

async fn create(user: UiUser, State(state): State<AppState>, Form(f): Form<Fields>) -> Response {
    submit(state, user, None, f).await
}

async fn update(
    user: UiUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Response {
    submit(state, user, Some(id), f).await
}
