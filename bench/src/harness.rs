//! What both benchmarks do around their cases: open (and migrate) a data directory,
//! count what is already seeded, make a technician's API token, and serve the database
//! in-process on `127.0.0.1:0`.

use anyhow::Context;
use std::path::PathBuf;
use std::time::Duration;
use steward_server::AppState;
use steward_server::accounts::{self, AccountError};
use steward_server::config::{Overrides, ServerConfig};
use steward_server::db::Db;
use steward_server::domain::roles::Role;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// An opened data directory (a temporary one, removed on drop, when none was given).
pub struct Opened {
    _temp: Option<tempfile::TempDir>,
    pub data_dir: PathBuf,
    pub db_path: PathBuf,
    pub state: AppState,
}

/// Opens `dir`, or a fresh temporary directory named after `bench`.
pub async fn open(dir: Option<&PathBuf>, bench: &str) -> anyhow::Result<Opened> {
    steward_server::install_crypto_provider();
    let (temp, data_dir) = match dir {
        Some(d) => (None, d.clone()),
        None => {
            let t = tempfile::Builder::new()
                .prefix(&format!("{bench}-"))
                .tempdir()?;
            let d = t.path().join("data");
            (Some(t), d)
        }
    };
    let overrides = Overrides {
        data_dir: Some(data_dir.clone()),
        listen: Some("127.0.0.1:0".into()),
    };
    let config = ServerConfig::load(None, Vec::new(), &overrides)?;
    let state = tokio::task::spawn_blocking(move || steward_server::open(config)).await??;
    Ok(Opened {
        _temp: temp,
        db_path: data_dir.join(steward_server::DB_FILE),
        data_dir,
        state,
    })
}

/// Rows in `table` (a fixed name from the caller).
pub async fn count(db: &Db, table: &'static str) -> anyhow::Result<u64> {
    let n: i64 = db
        .read(move |c| Ok(c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?))
        .await?;
    Ok(n.max(0) as u64)
}

/// An API token of the technician `<bench>@it.example.com` (created on first use).
pub async fn technician_token(db: &Db, bench: &str) -> anyhow::Result<String> {
    let db = db.clone();
    let bench = bench.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let email = format!("{bench}@it.example.com");
        let password = format!("{bench} password 123");
        match accounts::add_user(&db, &email, "Bench Technician", Role::Technician, &password) {
            Ok(_) | Err(AccountError::Exists(_)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(accounts::create_api_token(&db, &email, &bench, None)?)
    })
    .await?
}

/// The server running in-process, and a client for it.
pub struct Running {
    pub base: String,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
}

/// Serves `state` on an OS-chosen port of 127.0.0.1.
pub async fn serve(state: AppState) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(steward_server::serve(listener, state, shutdown.clone()));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    Ok(Running {
        base,
        http,
        shutdown,
        server,
    })
}

impl Running {
    /// Shuts the server down and waits for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.server.await?.context("the server failed")?;
        Ok(())
    }
}
