//! `/api/v1/webhooks` (admins): where events are POSTed, and how each delivery went.
//! A webhook's secret is shown once, when it is created; after that only a prefix.

use super::Routes;
use super::auth::{ClientIp, CurrentUser};
use super::tickets::actor_label;
use super::{ApiJson, ApiResult, AppError, AppState};
use super::{ApiPath, ApiQuery};
use crate::db::audit::{Entry, action};
use crate::db::{
    self,
    webhooks::{Delivery, Webhook},
};
use crate::domain::roles::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_shared::Page;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/webhooks", get(list).post(create))
        .route("/api/v1/webhooks/{id}", delete(remove))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op("GET", "/api/v1/webhooks", "List webhooks", Access::Admin)
        .ok::<Page<WebhookView>>();
    api.op(
        "POST",
        "/api/v1/webhooks",
        "Create a webhook (its secret is shown once)",
        Access::Admin,
    )
    .body::<NewWebhook>()
    .created::<WebhookView>();
    api.op(
        "DELETE",
        "/api/v1/webhooks/{id}",
        "Delete a webhook",
        Access::Admin,
    )
    .no_content();
    api.op(
        "GET",
        "/api/v1/webhooks/{id}/deliveries",
        "A webhook's delivery attempts",
        Access::Admin,
    )
    .query::<DeliveryQuery>()
    .ok::<Page<Delivery>>();
}

/// A webhook as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    /// `"*"` or a list of kinds.
    pub kinds: serde_json::Value,
    pub active: bool,
    pub created_at: i64,
    pub created_by: String,
    /// The start of the secret, to tell webhooks apart.
    pub secret_prefix: String,
    /// Every event up to this id is done for this webhook.
    pub last_event_id: i64,
    /// Only in the answer to `POST`: the whole secret, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Up to a quarter of the secret, at most 10 characters.
fn prefix(secret: &str) -> String {
    let n = (secret.chars().count() / 4).min(10);
    secret.chars().take(n).collect()
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        WebhookView {
            id: w.id,
            url: w.url,
            kinds: match w.kinds {
                Some(k) => serde_json::json!(k),
                None => serde_json::json!("*"),
            },
            active: w.active,
            created_at: w.created_at,
            created_by: w.created_by,
            secret_prefix: prefix(&w.secret),
            last_event_id: w.last_event_id,
            secret: None,
        }
    }
}

/// `kinds` as a list, or `"*"`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum KindsBody {
    List(Vec<String>),
    One(String),
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
    /// Absent: every kind.
    pub kinds: Option<KindsBody>,
    /// Absent: one is generated and returned.
    pub secret: Option<String>,
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

/// An absolute http(s) URL with a host.
pub fn check_url(raw: &str) -> ApiResult<String> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err(bad("invalid_url", "the URL is limited to 2000 characters"));
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|e| bad("invalid_url", format!("not a URL ({e}): {raw:?}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad(
            "invalid_url",
            "webhooks are delivered over http:// or https:// only",
        ));
    }
    Ok(url.to_string())
}

async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(b): ApiJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    user.require(Role::Admin)?;
    let url = check_url(&b.url)?;
    let kinds = match b.kinds {
        None => None,
        Some(KindsBody::One(k)) => {
            crate::events::parse_kinds(&[k]).map_err(|e| bad("invalid_kinds", e))?
        }
        Some(KindsBody::List(k)) => {
            crate::events::parse_kinds(&k).map_err(|e| bad("invalid_kinds", e))?
        }
    };
    let secret = match b.secret {
        None => format!("whsec_{}", crate::crypto::random_hex(32)),
        Some(s) if (16..=200).contains(&s.chars().count()) && !s.trim().is_empty() => s,
        Some(_) => {
            return Err(bad(
                "invalid_secret",
                "a webhook secret has 16 to 200 characters (leave it out to get a random one)",
            ));
        }
    };
    let now = crate::clock::now();
    let actor = actor_label(&user);
    let shown = secret.clone();
    let who = user.actor(&ip);
    let created = state
        .db
        .write(move |c| {
            let id = db::webhooks::insert(c, &url, &secret, kinds.as_deref(), &actor, now)?;
            let e = Entry::new(now, &who, action::WEBHOOK_CREATED)
                .target(format!("webhook:{id}"))
                .detail(json!({ "url": url, "kinds": kinds }));
            db::audit::record(c, &e)?;
            db::webhooks::get(c, id)
        })
        .await?
        .ok_or_else(AppError::internal)?;
    tracing::info!(
        webhook_id = created.id,
        user_id = user.user.id,
        "webhook added"
    );
    let mut view = WebhookView::from(created);
    view.secret = Some(shown);
    Ok((StatusCode::CREATED, Json(view)))
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
) -> ApiResult<Json<Page<WebhookView>>> {
    user.require(Role::Admin)?;
    let hooks = state.db.read(|c| db::webhooks::list(c, false)).await?;
    Ok(Json(Page {
        items: hooks.into_iter().map(WebhookView::from).collect(),
        next_cursor: None,
    }))
}

async fn remove(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    user.require(Role::Admin)?;
    let (now, who) = (crate::clock::now(), user.actor(&ip));
    let removed = state
        .db
        .write(move |c| {
            let url = db::webhooks::get(c, id)?.map(|w| w.url);
            let removed = db::webhooks::delete(c, id)?;
            if removed {
                let e = Entry::new(now, &who, action::WEBHOOK_DELETED)
                    .target(format!("webhook:{id}"))
                    .detail(json!({ "url": url }));
                db::audit::record(c, &e)?;
            }
            Ok(removed)
        })
        .await?;
    if removed {
        tracing::info!(webhook_id = id, user_id = user.user.id, "webhook removed");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::not_found("webhook"))
    }
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Attempts, newest first.
async fn deliveries(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> ApiResult<Json<Page<Delivery>>> {
    user.require(Role::Admin)?;
    let limit = super::assets::limit(q.limit)?;
    let before = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| bad("invalid_cursor", "cursor must come from next_cursor"))
        })
        .transpose()?;
    let found = state
        .db
        .read(move |c| match db::webhooks::get(c, id)? {
            Some(_) => db::webhooks::deliveries(c, id, before, limit).map(Some),
            None => Ok(None),
        })
        .await?
        .ok_or_else(|| AppError::not_found("webhook"))?;
    let next_cursor = (found.len() == limit as usize)
        .then(|| found.last().map(|d| d.id.to_string()))
        .flatten();
    Ok(Json(Page {
        items: found,
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host() {
        assert!(check_url("https://hooks.example.com/steward").is_ok());
        assert!(check_url("http://127.0.0.1:9000/x").is_ok());
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "example.com",
            "http://",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prefixes_show_little() {
        assert_eq!(prefix("0123456789abcdef"), "0123");
        assert_eq!(prefix(&format!("whsec_{}", "a".repeat(64))), "whsec_aaaa");
    }
}
