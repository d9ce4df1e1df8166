//! `/healthz` for load balancers and `/metrics` for Prometheus.

use super::Routes;
use super::{ApiResult, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

pub fn router() -> Routes {
    Routes::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/healthz",
        "Liveness and database check",
        Access::Public,
    )
    .ok_raw("application/json", "Healthy");
    api.op("GET", "/metrics", "Prometheus metrics", Access::Public)
        .ok_raw("text/plain", "Metrics");
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
    let w = state.db.writer_stats();
    let body = format!(
        "# HELP steward_assets Assets in the database.\n# TYPE steward_assets gauge\nsteward_assets {assets}\n\
         # HELP steward_agents Enrolled agents by state.\n# TYPE steward_agents gauge\n\
         steward_agents{{state=\"active\"}} {agents}\nsteward_agents{{state=\"revoked\"}} {revoked}\n\
         # HELP steward_writer_jobs_total Writes run by the single writer.\n# TYPE steward_writer_jobs_total counter\n\
         steward_writer_jobs_total {}\n\
         # HELP steward_writer_batches_total Transactions the writer committed or rolled back (a batch holds one or more writes).\n\
         # TYPE steward_writer_batches_total counter\nsteward_writer_batches_total {}\n\
         # HELP steward_writer_refused_total Agent reports answered 503 because the write queue was full.\n\
         # TYPE steward_writer_refused_total counter\nsteward_writer_refused_total {}\n\
         # HELP steward_writer_busy_seconds_total Time the writer spent running writes.\n\
         # TYPE steward_writer_busy_seconds_total counter\nsteward_writer_busy_seconds_total {:.3}\n\
         # HELP steward_writer_queued Writes waiting for the writer, by lane.\n# TYPE steward_writer_queued gauge\n\
         steward_writer_queued{{lane=\"interactive\"}} {}\nsteward_writer_queued{{lane=\"bulk\"}} {}\n",
        w.jobs,
        w.batches,
        w.refused,
        w.busy_micros as f64 / 1e6,
        w.queued_interactive,
        w.queued_bulk
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body))
}
