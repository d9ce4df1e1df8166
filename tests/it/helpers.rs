//! `TestServer::spawn()`: a real server in a temp dir, and helpers to talk to it.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};
use steward_agent::client::Client;
use steward_agent::config::AgentConfig;
use steward_agent::state::Credentials;
use steward_server::config::{Overrides, ServerConfig};
use steward_server::domain::roles::Role;
use steward_server::{AppState, accounts};
use steward_shared::{CheckinRequest, Health, Inventory, Software};
use tokio_util::sync::CancellationToken;

pub const ADMIN_EMAIL: &str = "admin@example.test";
pub const ADMIN_PASSWORD: &str = "admin password 123";
/// The password of every user the tests add with [`TestServer::token_for`] or [`person`].
pub const USER_PASSWORD: &str = "long enough password";

pub struct TestServer {
    pub url: String,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn spawn() -> TestServer {
        Self::spawn_in(tempfile::tempdir().unwrap()).await
    }

    /// Stops the server, keeping its data directory for [`TestServer::spawn_in`].
    /// Returns once nothing holds the data directory's lock any more: the server's
    /// connection tasks drop their handles on other threads a moment after it stops.
    pub async fn stop_keeping_data(mut self) -> tempfile::TempDir {
        self.shutdown.cancel();
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        drop(self);
        let data = data_dir(dir.path());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while let Err(e) = steward_server::datadir::DirLock::exclusive(&data) {
            assert!(std::time::Instant::now() < deadline, "{e}");
            tokio::task::yield_now().await;
        }
        dir
    }

    /// A server on an existing data directory (a new port).
    pub async fn spawn_in(dir: tempfile::TempDir) -> TestServer {
        Self::spawn_with(dir, |_| {}).await
    }

    /// A server whose configuration `tweak` adjusts (TLS, thresholds, ...).
    pub async fn spawn_with(
        dir: tempfile::TempDir,
        tweak: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        steward_server::install_crypto_provider();
        let overrides = Overrides {
            data_dir: Some(dir.path().join("data")),
            listen: Some("127.0.0.1:0".into()),
        };
        let mut config = ServerConfig::load(None, Vec::new(), &overrides).unwrap();
        tweak(&mut config);
        let scheme = if config.tls.cert.is_some() {
            "https"
        } else {
            "http"
        };
        let state = tokio::task::spawn_blocking(move || {
            let state = steward_server::open(config).unwrap();
            accounts::ensure_admin(&state.db, ADMIN_EMAIL, Some(ADMIN_PASSWORD.into())).unwrap();
            state
        })
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(steward_server::serve(
            listener,
            state.clone(),
            shutdown.clone(),
        ));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestServer {
            url,
            state,
            dir,
            http,
            shutdown,
            task: Some(task),
        }
    }

    /// Stops the server and waits for it to finish in-flight requests.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Runs blocking setup code against the server's database.
    pub async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&steward_server::db::Db) -> T + Send + 'static,
    ) -> T {
        let db = self.state.db.clone();
        tokio::task::spawn_blocking(move || f(&db)).await.unwrap()
    }

    /// An API token for a new user with `role`.
    pub async fn token_for(&self, role: Role) -> String {
        let email = format!(
            "{}-{}@example.test",
            role,
            steward_server::crypto::random_hex(4)
        );
        self.with_db(move |db| {
            accounts::add_user(db, &email, "Test User", role, USER_PASSWORD).unwrap();
            accounts::create_api_token(db, &email, "test", None).unwrap()
        })
        .await
    }

    pub async fn admin_token(&self) -> String {
        self.with_db(|db| accounts::create_api_token(db, ADMIN_EMAIL, "test", None).unwrap())
            .await
    }

    pub async fn enrollment_token(&self, uses: u32) -> String {
        self.with_db(move |db| accounts::create_enrollment_token(db, uses, None).unwrap())
            .await
    }

    /// An agent enrolled through the real HTTP endpoint with the real client.
    pub async fn enrolled_agent(&self) -> (Client, Credentials) {
        let token = self.enrollment_token(1).await;
        let client = agent_client(&self.url);
        let reply = client.enroll(&token, "test-host").await.unwrap();
        let creds = Credentials {
            server_url: self.url.clone(),
            agent_id: reply.agent_id,
            secret: reply.secret,
        };
        (client, creds)
    }

    /// Enrolls the real agent (`run::enroll`) into `<dir>/agent`; returns its config and
    /// state directory.
    pub async fn enrolled_agent_dir(&self) -> (AgentConfig, PathBuf) {
        let state_dir = self.dir.path().join("agent");
        let config = AgentConfig {
            server_url: self.url.clone(),
            ..Default::default()
        };
        let token = self.enrollment_token(1).await;
        steward_agent::run::enroll(&config, &self.url, &token, &state_dir)
            .await
            .unwrap();
        (config, state_dir)
    }

    /// GET with a bearer token; returns status and JSON body.
    pub async fn get_json(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

pub fn agent_client(url: &str) -> Client {
    Client::new(url, None, std::time::Duration::from_secs(10)).unwrap()
}

/// A small report for a machine with the given identity.
pub fn report(hostname: &str, uuid: &str, software: &[(&str, &str)]) -> CheckinRequest {
    let mut inv = Inventory {
        hostname: hostname.into(),
        agent_version: "test".into(),
        ..Default::default()
    };
    inv.hardware.uuid = uuid.into();
    inv.hardware.vendor = "Test Vendor".into();
    inv.hardware.model = "T-1000".into();
    inv.os.name = "Debian GNU/Linux".into();
    inv.memory.total_bytes = 8 << 30;
    inv.software = software
        .iter()
        .map(|(n, v)| Software {
            name: (*n).into(),
            version: (*v).into(),
            arch: "amd64".into(),
            source: "dpkg".into(),
            ..Default::default()
        })
        .collect();
    CheckinRequest {
        inventory: inv,
        health: Health {
            memory_total_bytes: 8 << 30,
            memory_used_bytes: 2 << 30,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The names of an asset's software, in the order the API lists them.
pub async fn software_names(s: &TestServer, token: &str, asset_id: i64) -> Vec<String> {
    let (_, sw) = s
        .get_json(&format!("/api/v1/assets/{asset_id}/software"), token)
        .await;
    sw["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The `Authorization` header an agent with `creds` sends.
pub fn agent_auth(creds: &Credentials) -> String {
    format!("Bearer {}.{}", creds.agent_id, creds.secret)
}

pub fn data_dir(dir: &Path) -> PathBuf {
    dir.join("data")
}

/// A JSON request with a bearer token; returns the status and the JSON body (or null).
pub async fn send(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let resp = s
        .http
        .request(method, s.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

pub async fn post(
    s: &TestServer,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    send(s, reqwest::Method::POST, path, token, body).await
}

pub async fn patch(
    s: &TestServer,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    send(s, reqwest::Method::PATCH, path, token, body).await
}

pub async fn put(
    s: &TestServer,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    send(s, reqwest::Method::PUT, path, token, body).await
}

/// DELETE with a bearer token; returns the status.
pub async fn delete(s: &TestServer, path: &str, token: &str) -> StatusCode {
    s.http
        .delete(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// (user id, API token) of a new user with `role`.
pub async fn person(s: &TestServer, role: Role, email: &str) -> (i64, String) {
    let email = email.to_owned();
    s.with_db(move |db| {
        let id = accounts::add_user(db, &email, &email, role, USER_PASSWORD).unwrap();
        (
            id,
            accounts::create_api_token(db, &email, "t", None).unwrap(),
        )
    })
    .await
}

/// Writes a CA and a server certificate for 127.0.0.1 and localhost; returns (ca, cert, key).
pub fn make_pki(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} test CA"));
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let paths = (
        dir.join(format!("{name}-ca.pem")),
        dir.join(format!("{name}-cert.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

/// Files a ticket with just a title; returns its id.
pub async fn file_ticket(s: &TestServer, token: &str, title: &str) -> i64 {
    file_ticket_with(s, token, serde_json::json!({"title": title})).await["id"]
        .as_i64()
        .unwrap()
}

/// Files a ticket from a JSON body, checking it was created; returns the ticket.
pub async fn file_ticket_with(s: &TestServer, token: &str, body: Value) -> Value {
    let (status, t) = post(s, "/api/v1/tickets", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    t
}

/// Waits (yielding, no sleeps) until `pred` holds for the server's writer counters;
/// fails after 20 s.
pub async fn until_writer(
    s: &TestServer,
    pred: impl Fn(steward_server::db::WriterSnapshot) -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !pred(s.state.db.writer_stats()) {
        assert!(
            std::time::Instant::now() < deadline,
            "writer never reached the state: {:?}",
            s.state.db.writer_stats()
        );
        tokio::task::yield_now().await;
    }
}
