//! Location pages: the site tree with how many assets each place holds, and one place's
//! page listing what should be there (the list an auditor walks with).

use super::{Nav, UiUser, message, render};
use crate::db::{self, assets::AssetFilter};
use crate::http::AppState;
use crate::http::Routes;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

/// Assets listed on one place's page.
const ON_PAGE: u32 = 500;

pub fn router() -> Routes {
    Routes::new()
        .route("/locations", get(tree))
        .route("/locations/{id}", get(place))
}

pub struct PlaceRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    /// Nesting depth, for indentation.
    pub depth: usize,
    pub assets: i64,
    pub timezone: String,
}

#[derive(Template)]
#[template(path = "locations.html")]
struct TreePage {
    nav: Option<Nav>,
    rows: Vec<PlaceRow>,
}

async fn tree(user: UiUser, State(state): State<AppState>) -> Response {
    if let Some(r) = user.staff_only("Locations are for IT staff.") {
        return r;
    }
    let loaded = state
        .db
        .read(|c| {
            let places = db::locations::list(c, db::locations::MAX_LOCATIONS)?;
            let mut stmt = c.prepare_cached(
                "SELECT location_id, count(*) FROM assets WHERE location_id IS NOT NULL GROUP BY location_id",
            )?;
            let counts: std::collections::HashMap<i64, i64> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok((places, counts))
        })
        .await;
    let Ok((places, counts)) = loaded else {
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            user.nav("locations"),
            "Try again",
            "The database is busy.",
        );
    };
    let rows = places
        .into_iter()
        .map(|l| PlaceRow {
            depth: l.path.matches(" / ").count(),
            assets: counts.get(&l.id).copied().unwrap_or(0),
            id: l.id,
            name: l.name,
            kind: l.kind,
            timezone: l.timezone,
        })
        .collect();
    render(&TreePage {
        nav: user.nav("locations"),
        rows,
    })
}

pub struct Item {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub tag: String,
}

#[derive(Template)]
#[template(path = "location.html")]
struct PlacePage {
    nav: Option<Nav>,
    path: String,
    kind: String,
    items: Vec<Item>,
    more: bool,
}

async fn place(user: UiUser, State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    if let Some(r) = user.staff_only("Locations are for IT staff.") {
        return r;
    }
    let loaded = state
        .db
        .read(move |c| {
            let Some(l) = db::locations::get(c, id)? else {
                return Ok(None);
            };
            let filter = AssetFilter {
                locations: db::locations::subtree_ids(c, id)?,
                active_only: true,
                ..Default::default()
            };
            let assets = db::assets::list(c, &filter, None, ON_PAGE)?;
            let mut items = Vec::with_capacity(assets.len());
            for a in assets {
                let tag = db::asset_records::record(c, a.id)?
                    .and_then(|r| r.asset_tag)
                    .unwrap_or_default();
                items.push(Item {
                    id: a.id,
                    name: a.name,
                    kind: a.kind,
                    tag,
                });
            }
            Ok(Some((l, items)))
        })
        .await;
    match loaded {
        Ok(Some((l, items))) => render(&PlacePage {
            nav: user.nav("locations"),
            path: l.path,
            kind: l.kind,
            more: items.len() == ON_PAGE as usize,
            items,
        }),
        Ok(None) => message(
            StatusCode::NOT_FOUND,
            user.nav("locations"),
            "No such place",
            "It may have been deleted.",
        ),
        Err(_) => message(
            StatusCode::SERVICE_UNAVAILABLE,
            user.nav("locations"),
            "Try again",
            "The database is busy.",
        ),
    }
}
