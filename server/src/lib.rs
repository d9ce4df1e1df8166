//! Steward server: IT assets, facilities and service desk over embedded SQLite.
//!
//! `main.rs` is a thin CLI; everything it does is a function here, so tests call the same
//! code: [`open`] builds the state, [`serve`] runs the HTTP server until shutdown.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod agent_cache;
pub mod backup;
pub mod blobs;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod datadir;
pub mod db;
pub mod domain;
pub mod events;
pub mod http;
pub mod imports;
pub mod legacy;
pub mod maintenance;
pub mod notify;
pub mod quickstart;
pub mod releases;
pub mod retention;
pub mod service_desk;
pub mod sign_in_limit;
pub mod signed_releases;
pub mod sweeper;
pub mod ui;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub use config::ServerConfig;
pub use http::AppState;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "steward.db";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Lock(#[from] datadir::LockError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("invalid [service_desk] configuration: {0}")]
    Config(String),
}

/// Creates the data directory, takes its lock (shared: see [`datadir`]), opens and
/// migrates the database.
pub fn open(config: ServerConfig) -> Result<AppState, StartError> {
    let dir = &config.server.data_dir;
    std::fs::create_dir_all(dir).map_err(|source| StartError::DataDir {
        path: dir.clone(),
        source,
    })?;
    let lock = datadir::DirLock::shared(dir)?;
    let db = db::Db::open_with_limit(
        &dir.join(DB_FILE),
        Duration::from_millis(config.database.busy_timeout_ms),
        config.database.max_readers,
        config.database.write_queue_limit,
    )?;
    let desk =
        service_desk::Rules::from_config(&config.service_desk).map_err(StartError::Config)?;
    let sign_ins = Arc::new(config.auth.ip_limit());
    Ok(AppState {
        db,
        config: Arc::new(config),
        desk: Arc::new(desk),
        notify: notify::Hub::default(),
        agents: Arc::default(),
        dashboard: Arc::default(),
        sign_ins,
        data_dir_lock: Arc::new(lock),
    })
}

/// Serves HTTP (or HTTPS when `[tls]` is configured) on `listener` until `shutdown` is
/// cancelled, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let sweeper = tokio::spawn(sweeper::run(state.clone(), shutdown.clone()));
    let notifier = tokio::spawn(notify::run(state.clone(), shutdown.clone()));
    let planner = tokio::spawn(maintenance::run(state.clone(), shutdown.clone()));
    let tls = state.config.tls.clone();
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = match (tls.cert, tls.key) {
        (Some(cert), Some(key)) => {
            let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!(
                            "cannot load TLS certificate {} / key {}: {e}",
                            cert.display(),
                            key.display()
                        ),
                    )
                })?;
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                stop.cancelled().await;
                h.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(listener.into_std()?, rustls)?
                .handle(handle)
                .serve(app)
                .await
        }
        _ => {
            let stop = shutdown.clone();
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        }
    };
    shutdown.cancel();
    let _ = sweeper.await;
    let _ = notifier.await;
    let _ = planner.await;
    result
}

/// Installs the process-wide rustls crypto provider (ring). Safe to call more than once.
pub fn install_crypto_provider() {
    steward_agent::install_crypto_provider();
}
