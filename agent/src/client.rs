//! HTTP client for the server's agent API: enroll once, then check in.

use crate::state::Credentials;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::time::Duration;
use steward_shared::{
    CHECKIN_PATH, CheckinRequest, CheckinResponse, ENROLL_PATH, EnrollRequest, EnrollResponse,
    ErrorBody,
};

/// Longest error body quoted back when the server did not send the JSON error shape.
const MAX_QUOTED_BODY: usize = 200;

/// How long a connection is kept open after a request. Long enough to send a backlog of
/// spooled reports over one connection; an agent that checks in every half hour should
/// not hold a socket and its buffers in between.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for one server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status.
    #[error("server answered {status} {code}: {message}")]
    Http {
        status: u16,
        code: String,
        message: String,
    },
    /// The server is overloaded (503 or 429) and said when to come back (`Retry-After`).
    #[error("server is busy ({status}): {message}; retrying after {retry_after_secs} s")]
    Busy {
        status: u16,
        retry_after_secs: u64,
        message: String,
    },
    /// The server could not be reached or did not answer in time.
    #[error("cannot reach the server: {0}")]
    Transport(String),
    /// The client could not be set up (bad URL, unreadable CA certificate, ...).
    #[error("{0}")]
    Config(String),
}

impl ClientError {
    /// Worth trying again later: the network, a server error, or rate limiting.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Transport(_) => true,
            ClientError::Http { status, .. } => *status >= 500 || *status == 429,
            ClientError::Busy { .. } => true,
            ClientError::Config(_) => false,
        }
    }

    /// How long the server asked us to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Busy {
                retry_after_secs, ..
            } => Some(Duration::from_secs(*retry_after_secs)),
            _ => None,
        }
    }

    /// HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Http { status, .. } | ClientError::Busy { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl Client {
    /// A client for the server at `server_url`. With `ca_cert`, only the certificate(s) in
    /// that PEM file are trusted; otherwise the system's roots.
    pub fn new(
        server_url: &str,
        ca_cert: Option<&Path>,
        timeout: Duration,
    ) -> Result<Client, ClientError> {
        crate::install_crypto_provider();
        let url = reqwest::Url::parse(server_url).map_err(|e| {
            ClientError::Config(format!("server URL {server_url:?} is not valid: {e}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ClientError::Config(format!(
                "server URL {server_url:?} must start with https://"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .user_agent(concat!("steward-agent/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = ca_cert {
            let pem = std::fs::read(path).map_err(|e| {
                ClientError::Config(format!(
                    "cannot read CA certificate {}: {e}",
                    path.display()
                ))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ClientError::Config(format!("{} is not a PEM certificate: {e}", path.display()))
            })?;
            if certs.is_empty() {
                return Err(ClientError::Config(format!(
                    "{} contains no PEM certificate",
                    path.display()
                )));
            }
            builder = builder.tls_certs_only(certs);
        }
        let http = builder.build().map_err(|e| {
            ClientError::Config(format!("cannot set up HTTP client: {}", chain(&e)))
        })?;
        Ok(Client {
            http,
            base: server_url.trim_end_matches('/').to_string(),
        })
    }

    /// The server's base URL, without a trailing slash.
    pub fn server_url(&self) -> &str {
        &self.base
    }

    /// Register this machine with an enrollment token.
    pub async fn enroll(&self, token: &str, hostname: &str) -> Result<EnrollResponse, ClientError> {
        let body = EnrollRequest {
            token: token.to_string(),
            hostname: hostname.to_string(),
            agent_version: crate::AGENT_VERSION.to_string(),
        };
        self.post(ENROLL_PATH, &body, None).await
    }

    /// Send a report with the agent's credentials, encoded with [`crate::report::encode`].
    pub async fn checkin(
        &self,
        creds: &Credentials,
        req: &CheckinRequest,
    ) -> Result<CheckinResponse, ClientError> {
        let (body, gzip) = crate::report::encode(req);
        self.checkin_body(creds, body, gzip).await
    }

    /// File a ticket for this machine (linked to its asset, with its health on record).
    pub async fn file_ticket(
        &self,
        creds: &Credentials,
        req: &steward_shared::AgentTicketRequest,
    ) -> Result<steward_shared::AgentTicketResponse, ClientError> {
        let auth = agent_auth(creds)?;
        self.post(steward_shared::AGENT_TICKET_PATH, req, Some(auth))
            .await
    }

    /// Download `path` (an agent route) into the file `dest`, at most `max_bytes`, within
    /// `timeout` in all; returns the SHA-256 and size of what was written (fsynced).
    pub async fn download(
        &self,
        creds: &Credentials,
        path: &str,
        dest: &Path,
        max_bytes: u64,
        timeout: Duration,
    ) -> Result<([u8; 32], u64), ClientError> {
        match tokio::time::timeout(timeout, self.download_inner(creds, path, dest, max_bytes)).await
        {
            Ok(result) => result,
            Err(_) => Err(ClientError::Transport(format!(
                "the download of {path} took longer than {} s",
                timeout.as_secs()
            ))),
        }
    }

    async fn download_inner(
        &self,
        creds: &Credentials,
        path: &str,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<([u8; 32], u64), ClientError> {
        use sha2::Digest;
        use tokio::io::AsyncWriteExt;
        let url = format!("{}{}", self.base, path);
        let auth = agent_auth(creds)?;
        // The client's own timeout is for small requests; this one is bounded by `download`.
        let mut response = self
            .http
            .get(&url)
            .header(AUTHORIZATION, auth)
            .timeout(Duration::from_secs(24 * 3600))
            .send()
            .await
            .map_err(|e| ClientError::Transport(chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            let bytes = response.bytes().await.unwrap_or_default();
            return Err(error_from_body(
                status.as_u16(),
                status.canonical_reason(),
                &bytes,
            ));
        }
        let io = |e: std::io::Error| ClientError::Config(format!("{}: {e}", dest.display()));
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        let mut hasher = sha2::Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ClientError::Transport(chain(&e)))?
        {
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(ClientError::Http {
                    status: status.as_u16(),
                    code: "too_large".into(),
                    message: format!("the download is larger than {max_bytes} bytes"),
                });
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.sync_all().await.map_err(io)?;
        Ok((hasher.finalize().into(), size))
    }

    /// Revoke this agent's own credential on the server (the machine leaves the fleet).
    pub async fn deregister(
        &self,
        creds: &Credentials,
    ) -> Result<steward_shared::DeregisterResponse, ClientError> {
        let auth = agent_auth(creds)?;
        self.post(
            steward_shared::DEREGISTER_PATH,
            &serde_json::json!({}),
            Some(auth),
        )
        .await
    }

    /// Send an already encoded report (JSON, gzip-compressed when `gzip`).
    pub async fn checkin_body(
        &self,
        creds: &Credentials,
        body: Vec<u8>,
        gzip: bool,
    ) -> Result<CheckinResponse, ClientError> {
        let auth = agent_auth(creds)?;
        self.post_bytes(CHECKIN_PATH, body, gzip, Some(auth)).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        auth: Option<HeaderValue>,
    ) -> Result<T, ClientError> {
        let json = serde_json::to_vec(body).map_err(|e| {
            ClientError::Config(format!("cannot encode the request to {path}: {e}"))
        })?;
        self.post_bytes(path, json, false, auth).await
    }

    /// POST a JSON body (gzip-compressed when `gzip`) and parse the JSON reply.
    async fn post_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Vec<u8>,
        gzip: bool,
        auth: Option<HeaderValue>,
    ) -> Result<T, ClientError> {
        let url = format!("{}{}", self.base, path);
        let mut request = self
            .http
            .post(&url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if gzip {
            request = request.header(CONTENT_ENCODING, "gzip");
        }
        if let Some(auth) = auth {
            request = request.header(AUTHORIZATION, auth);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::Transport(chain(&e)))?;
        let status = response.status();
        let retry_after = retry_after_secs(status.as_u16(), response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::Transport(chain(&e)))?;
        if status.is_success() {
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Http {
                status: status.as_u16(),
                code: "invalid_response".to_string(),
                message: format!(
                    "the server's reply to {path} is not what this agent expects: {e}"
                ),
            })
        } else {
            let error = error_from_body(status.as_u16(), status.canonical_reason(), &bytes);
            Err(match (retry_after, error) {
                (
                    Some(secs),
                    ClientError::Http {
                        status, message, ..
                    },
                ) => ClientError::Busy {
                    status,
                    retry_after_secs: secs,
                    message,
                },
                (_, error) => error,
            })
        }
    }
}

/// Longest wait honoured from a `Retry-After` header: an hour.
const MAX_RETRY_AFTER_SECS: u64 = 3600;

/// `Retry-After` in seconds on a 503 or 429 (the HTTP-date form is not used by Steward
/// and is ignored).
fn retry_after_secs(status: u16, headers: &reqwest::header::HeaderMap) -> Option<u64> {
    if status != 503 && status != 429 {
        return None;
    }
    let secs: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(secs.min(MAX_RETRY_AFTER_SECS))
}

/// The server's `{"error": {"code", "message"}}`, or the status text and start of the body.
fn error_from_body(status: u16, reason: Option<&str>, body: &[u8]) -> ClientError {
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        return ClientError::Http {
            status,
            code: parsed.error.code,
            message: parsed.error.message,
        };
    }
    let reason = reason.unwrap_or("error");
    let code = reason.to_ascii_lowercase().replace([' ', '-'], "_");
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = if text.is_empty() {
        reason.to_string()
    } else {
        text.chars().take(MAX_QUOTED_BODY).collect()
    };
    ClientError::Http {
        status,
        code,
        message,
    }
}

/// An error and its sources on one line ("error sending request: connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The `Authorization` header an enrolled agent sends (marked sensitive: never logged).
fn agent_auth(creds: &Credentials) -> Result<HeaderValue, ClientError> {
    let mut auth = HeaderValue::from_str(&format!("Bearer {}.{}", creds.agent_id, creds.secret))
        .map_err(|_| {
            ClientError::Config(
                "the stored credentials contain invalid characters; enroll again".to_string(),
            )
        })?;
    auth.set_sensitive(true);
    Ok(auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_retry_after_only_when_busy() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after_secs(503, &h), None);
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static(" 7 "),
        );
        assert_eq!(retry_after_secs(503, &h), Some(7));
        assert_eq!(retry_after_secs(429, &h), Some(7));
        assert_eq!(retry_after_secs(500, &h), None);
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("999999"),
        );
        assert_eq!(retry_after_secs(503, &h), Some(MAX_RETRY_AFTER_SECS));
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        assert_eq!(retry_after_secs(503, &h), None);
        let busy = ClientError::Busy {
            status: 503,
            retry_after_secs: 7,
            message: "busy".into(),
        };
        assert!(busy.is_retryable());
        assert_eq!(busy.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(busy.status(), Some(503));
    }

    #[test]
    fn parses_the_error_body() {
        let body = br#"{"error":{"code":"invalid_token","message":"token expired"}}"#;
        assert_eq!(
            error_from_body(401, Some("Unauthorized"), body),
            ClientError::Http {
                status: 401,
                code: "invalid_token".into(),
                message: "token expired".into()
            }
        );
        let e = error_from_body(502, Some("Bad Gateway"), b"<html>nginx</html>");
        assert_eq!(e.status(), Some(502));
        assert!(
            matches!(&e, ClientError::Http { code, .. } if code == "bad_gateway"),
            "{e:?}"
        );
        let e = error_from_body(503, Some("Service Unavailable"), b"");
        assert!(
            matches!(&e, ClientError::Http { message, .. } if message == "Service Unavailable")
        );
    }

    #[test]
    fn retryable_errors() {
        let http = |status| ClientError::Http {
            status,
            code: String::new(),
            message: String::new(),
        };
        assert!(ClientError::Transport("refused".into()).is_retryable());
        assert!(http(500).is_retryable());
        assert!(http(503).is_retryable());
        assert!(http(429).is_retryable());
        assert!(!http(400).is_retryable());
        assert!(!http(401).is_retryable());
        assert!(!ClientError::Config("x".into()).is_retryable());
    }

    #[test]
    fn bad_setup_is_a_config_error() {
        let t = Duration::from_secs(1);
        assert!(matches!(
            Client::new("not a url", None, t),
            Err(ClientError::Config(_))
        ));
        assert!(matches!(
            Client::new("ftp://x", None, t),
            Err(ClientError::Config(_))
        ));
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate").expect("write");
        assert!(matches!(
            Client::new("https://x", Some(&ca), t),
            Err(ClientError::Config(_))
        ));
        let c = Client::new("https://steward.example/", None, t).expect("builds");
        assert_eq!(c.server_url(), "https://steward.example");
    }

    #[tokio::test]
    async fn unreachable_server_is_a_transport_error() {
        // A port that was just free: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let c =
            Client::new(&format!("http://{addr}"), None, Duration::from_secs(5)).expect("client");
        let e = c.enroll("tok", "host").await.expect_err("nothing listens");
        assert!(matches!(e, ClientError::Transport(_)), "{e:?}");
        assert!(e.is_retryable());
    }
}
