//! Administration pages: technician groups, their members and how each assigns new
//! tickets. Admins only; everyone else gets a 403 page.

use super::{Nav, UiUser, message, render};
use crate::db::{self, groups::Group};
use crate::domain::roles::Role;
use crate::http::Routes;
use crate::http::groups::{MAX_GROUPS, create_group, set_group_members, update_group};
use crate::http::{AppError, AppState};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

/// People offered as members on the page.
const MAX_STAFF: u32 = 2000;

pub fn router() -> Routes {
    Routes::new()
        .route("/admin/groups", get(groups).post(create))
        .route("/admin/groups/{id}", post(update))
}

fn refused(user: &UiUser, e: AppError) -> Response {
    message(e.status, user.nav("admin"), "That did not work", &e.message)
}

/// The 403 page for a signed-in user who is not an admin.
fn admins_only(user: &UiUser) -> Option<Response> {
    (user.0.user.role != Role::Admin).then(|| {
        message(
            StatusCode::FORBIDDEN,
            user.nav("admin"),
            "Admins only",
            "Ask an administrator to change groups.",
        )
    })
}

/// A staff member as a checkbox in one group's form.
pub struct MemberBox {
    pub id: i64,
    pub name: String,
    pub checked: bool,
}

pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub assignment: String,
    pub member_names: String,
    pub boxes: Vec<MemberBox>,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    nav: Option<Nav>,
    csrf: String,
    groups: Vec<GroupRow>,
    strategies: &'static [(&'static str, &'static str)],
}

/// The assignment rules as (value, label).
const STRATEGIES: &[(&str, &str)] = &[
    ("manual", "Manual: tickets wait in the group's queue"),
    ("round_robin", "Round robin: members in turn"),
    ("least_loaded", "Least loaded: fewest open tickets"),
];

async fn groups(user: UiUser, State(state): State<AppState>) -> Response {
    if let Some(r) = admins_only(&user) {
        return r;
    }
    let loaded = state
        .db
        .read(|c| {
            Ok((
                db::groups::list(c, MAX_GROUPS)?,
                db::users::active_staff(c, MAX_STAFF)?,
            ))
        })
        .await;
    let (groups, staff): (Vec<Group>, _) = match loaded {
        Ok(v) => v,
        Err(e) => return refused(&user, e.into()),
    };
    let groups = groups
        .into_iter()
        .map(|g| {
            let boxes = staff
                .iter()
                .map(|u| MemberBox {
                    id: u.id,
                    name: u.name.clone(),
                    checked: g.members.iter().any(|m| m.id == u.id),
                })
                .collect();
            GroupRow {
                id: g.id,
                name: g.name,
                assignment: g.assignment.to_string(),
                member_names: g
                    .members
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                boxes,
            }
        })
        .collect();
    render(&GroupsPage {
        nav: user.nav("admin"),
        csrf: user.0.csrf().unwrap_or_default().to_owned(),
        groups,
        strategies: STRATEGIES,
    })
}

/// A form's fields in order; checkboxes repeat their name (`member`, `id`).
pub(super) type Fields = Vec<(String, String)>;

/// The first value of the field `name`.
pub(super) fn field<'a>(f: &'a Fields, name: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn create(user: UiUser, State(state): State<AppState>, Form(f): Form<Fields>) -> Response {
    if let Some(r) = admins_only(&user) {
        return r;
    }
    if !user.csrf_ok(field(&f, "csrf").unwrap_or_default()) {
        return user.csrf_refused();
    }
    let name = field(&f, "name").unwrap_or_default();
    match create_group(&state, name, field(&f, "assignment")).await {
        Ok(_) => Redirect::to("/admin/groups").into_response(),
        Err(e) => refused(&user, e),
    }
}

async fn update(
    user: UiUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Response {
    if let Some(r) = admins_only(&user) {
        return r;
    }
    if !user.csrf_ok(field(&f, "csrf").unwrap_or_default()) {
        return user.csrf_refused();
    }
    let mut members = Vec::new();
    for (k, v) in &f {
        if k == "member" {
            match v.parse() {
                Ok(id) => members.push(id),
                Err(_) => {
                    let e = AppError::bad_request("invalid_member", "members are user ids");
                    return refused(&user, e);
                }
            }
        }
    }
    let done = async {
        update_group(&state, id, field(&f, "name"), field(&f, "assignment")).await?;
        set_group_members(&state, id, members).await
    };
    match done.await {
        Ok(_) => Redirect::to("/admin/groups").into_response(),
        Err(e) => refused(&user, e),
    }
}
