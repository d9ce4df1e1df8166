//! The asset list's "with selected" form (`POST /assets/bulk`): set the state or the
//! location of the ticked assets, or check them out to a person. Each asset is changed
//! alone, through the same functions as the single-asset API (`PATCH /api/v1/assets/{id}`,
//! `POST /api/v1/assets/{id}/checkout`), so with the same checks, history and audit
//! entries; the ones refused are listed, the others stay changed.

use super::admin::{Fields, field};
use super::{UiUser, message};
use crate::db;
use crate::http::asset_input::AssetInput;
use crate::http::asset_records::{actor, update_one};
use crate::http::auth::ClientIp;
use crate::http::checkouts::{Target, check_out_one};
use crate::http::{AppError, AppState, Routes};
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;

pub fn router() -> Routes {
    Routes::new().route("/assets/bulk", post(bulk_form))
}

/// At most this many assets in one go (a page of the list holds 50).
const MAX_IDS: usize = 500;

/// What a "with selected" choice does.
#[derive(Debug, PartialEq)]
enum Action {
    State(i64),
    Location(i64),
    /// Check out to the person with this email.
    CheckOut(String),
}

/// Reads the form's `action` (`state:ID`, `location:ID`, `checkout`) and, for a
/// checkout, its `person`.
fn action(action: &str, person: &str) -> Result<Action, &'static str> {
    if action == "checkout" {
        let person = person.trim();
        return if person.is_empty() {
            Err("Type the email of the person to check the assets out to.")
        } else {
            Ok(Action::CheckOut(person.to_owned()))
        };
    }
    let choose = "Choose what to do with the selected assets.";
    let (what, id) = action.split_once(':').ok_or(choose)?;
    let id = id.parse::<i64>().map_err(|_| choose)?;
    match what {
        "state" => Ok(Action::State(id)),
        "location" => Ok(Action::Location(id)),
        _ => Err(choose),
    }
}

/// Where to go back after the change: an asset list of this site, or the list.
fn back_to(url: Option<&str>) -> String {
    super::back_to_list(url, "/assets")
}

fn refused(user: &UiUser, status: StatusCode, why: &str) -> Response {
    message(status, user.nav("assets"), "That did not work", why)
}

/// What happened to each asset: changed, or refused with the reason.
struct Outcome {
    changed: usize,
    refused: Vec<String>,
}

async fn bulk_form(
    user: UiUser,
    State(state): State<AppState>,
    ip: ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    if let Some(r) = user.staff_only("Changing assets is for IT staff.") {
        return r;
    }
    if !user.csrf_ok(field(&f, "csrf").unwrap_or_default()) {
        return user.csrf_refused();
    }
    let mut ids = Vec::new();
    for (k, v) in &f {
        if k == "id" {
            match v.parse::<i64>() {
                Ok(id) => ids.push(id),
                Err(_) => return refused(&user, StatusCode::BAD_REQUEST, "Asset ids are numbers."),
            }
        }
    }
    if ids.is_empty() || ids.len() > MAX_IDS {
        let why = "Select between 1 and 500 assets first (the boxes in the first column).";
        return refused(&user, StatusCode::BAD_REQUEST, why);
    }
    let todo = match action(
        field(&f, "action").unwrap_or_default(),
        field(&f, "person").unwrap_or_default(),
    ) {
        Ok(a) => a,
        Err(why) => return refused(&user, StatusCode::BAD_REQUEST, why),
    };
    let back = back_to(field(&f, "back"));
    let now = crate::clock::now();
    let who = actor(&user.0);
    let auditor = user.0.actor(&ip);
    let done = state
        .db
        .write(move |tx| {
            let person = match &todo {
                Action::CheckOut(email) => match db::users::by_email(tx, email)? {
                    Some(u) if !u.disabled => Some(u.id),
                    _ => return Ok(Err(format!("There is no active user {email}."))),
                },
                _ => None,
            };
            let mut out = Outcome {
                changed: 0,
                refused: Vec::new(),
            };
            for id in ids {
                // Each asset succeeds or fails alone; a refusal leaves that asset untouched.
                tx.execute_batch("SAVEPOINT one")?;
                let result = match (&todo, person) {
                    (Action::State(s), _) => {
                        let input = AssetInput {
                            state_id: Some(*s),
                            ..Default::default()
                        };
                        update_one(tx, id, &input, &who, &auditor, now)?.map(|_| ())
                    }
                    (Action::Location(l), _) => {
                        let input = AssetInput {
                            location_id: Some(Some(*l)),
                            ..Default::default()
                        };
                        update_one(tx, id, &input, &who, &auditor, now)?.map(|_| ())
                    }
                    (Action::CheckOut(_), Some(person)) => {
                        let target = Target {
                            kind: "user",
                            id: person,
                            expected_back: None,
                            note: "",
                        };
                        check_out_one(tx, id, &target, &who, now)?
                    }
                    (Action::CheckOut(_), None) => Err(AppError::internal()),
                };
                match result {
                    Ok(()) => {
                        tx.execute_batch("RELEASE one")?;
                        out.changed += 1;
                    }
                    Err(e) => {
                        tx.execute_batch("ROLLBACK TO one; RELEASE one")?;
                        out.refused.push(format!("#{id}: {}", e.message));
                    }
                }
            }
            Ok(Ok(out))
        })
        .await;
    match done {
        Ok(Ok(out)) if out.refused.is_empty() => Redirect::to(&back).into_response(),
        Ok(Ok(out)) => message(
            StatusCode::CONFLICT,
            user.nav("assets"),
            "Some assets were not changed",
            &format!(
                "{} changed. Not changed: {}",
                out.changed,
                out.refused.join("; ")
            ),
        ),
        Ok(Err(why)) => refused(&user, StatusCode::BAD_REQUEST, &why),
        Err(e) => AppError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Action, action, back_to};

    #[test]
    fn actions_and_the_way_back_are_checked() {
        assert_eq!(action("state:3", ""), Ok(Action::State(3)));
        assert_eq!(action("location:12", "x"), Ok(Action::Location(12)));
        assert_eq!(
            action("checkout", " ann@example.test "),
            Ok(Action::CheckOut("ann@example.test".into()))
        );
        for bad in ["", "state", "state:", "state:x", "delete:1", "checkout"] {
            assert!(action(bad, "").is_err(), "{bad}");
        }
        assert_eq!(back_to(Some("/assets?q=printer")), "/assets?q=printer");
        for bad in [
            "https://evil.test/",
            "//evil.test",
            "/assets\r\nX: y",
            "/tickets",
        ] {
            assert_eq!(back_to(Some(bad)), "/assets", "{bad}");
        }
        assert_eq!(back_to(None), "/assets");
    }
}
