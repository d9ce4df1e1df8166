//! `/healthz` for load balancers and `/metrics` for Prometheus.

use super::{ApiResult, AppState};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

async fn healthz(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    state
        .db
        .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await?;
    Ok(Json(
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}),
    ))
}

async fn metrics(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let (assets, agents, revoked) = state
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT (SELECT count(*) FROM assets),
                        (SELECT count(*) FROM agents WHERE revoked_at IS NULL),
                        (SELECT count(*) FROM agents WHERE revoked_at IS NOT NULL)",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )?)
        })
        .await?;
    let body = format!(
        "# HELP steward_assets Assets in the database.\n# TYPE steward_assets gauge\nsteward_assets {assets}\n\
         # HELP steward_agents Enrolled agents by state.\n# TYPE steward_agents gauge\n\
         steward_agents{{state=\"active\"}} {agents}\nsteward_agents{{state=\"revoked\"}} {revoked}\n"
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body))
}
