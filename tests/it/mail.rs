//! Mail about tickets to a real SMTP peer on 127.0.0.1 (a small relay written here): the
//! right people, nothing internal, retried while the relay is down, and over implicit TLS
//! and STARTTLS with the relay's certificate checked against a private CA.

use crate::helpers::*;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use steward_server::config::SmtpSecurity;
use steward_server::domain::roles::Role;
use steward_server::notify::mail;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

/// One mail as the relay received it: (recipients, message).
type Mail = (Vec<String>, String);

/// What the relay does about TLS.
#[derive(Clone)]
enum RelayTls {
    Plain,
    /// TLS from the first byte.
    Implicit(TlsAcceptor),
    /// Plain, offering STARTTLS.
    Starttls(TlsAcceptor),
}

/// A TLS acceptor with the certificate and key made by `make_pki`.
fn acceptor(cert: &Path, key: &Path) -> TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    steward_server::install_crypto_provider();
    let certs = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// A real SMTP peer on 127.0.0.1:0 speaking just enough SMTP; yields each mail, and
/// whether it came over TLS.
async fn fake_smtp_with(tls: RelayTls) -> (u16, mpsc::UnboundedReceiver<(Mail, bool)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let (tx, tls) = (tx.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    RelayTls::Plain => {
                        session(BufReader::new(sock), &tx, false, true).await;
                    }
                    RelayTls::Implicit(acceptor) => {
                        // A client that does not trust the certificate gives up here.
                        if let Ok(s) = acceptor.accept(sock).await {
                            session(BufReader::new(s), &tx, true, true).await;
                        }
                    }
                    RelayTls::Starttls(acceptor) => {
                        let plain = BufReader::new(sock);
                        if let Some(plain) = session(plain, &tx, false, true).await {
                            // Nothing is buffered: the client waits for our 220.
                            if let Ok(s) = acceptor.accept(plain.into_inner()).await {
                                session(BufReader::new(s), &tx, true, false).await;
                            }
                        }
                    }
                }
            });
        }
    });
    (port, rx)
}

/// Serves one SMTP session. With `offer_starttls` and a plain stream it offers STARTTLS
/// and hands the stream back when the client takes it up.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut io: BufReader<S>,
    tx: &mpsc::UnboundedSender<(Mail, bool)>,
    secure: bool,
    greet: bool,
) -> Option<BufReader<S>> {
    let offer_starttls = !secure;
    if greet {
        io.get_mut().write_all(b"220 fake ESMTP\r\n").await.ok()?;
    }
    let mut rcpts = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let text = line.trim_end().to_owned();
        let cmd = text.to_ascii_uppercase();
        let reply: &[u8] = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
            if offer_starttls {
                b"250-fake\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
            } else {
                b"250-fake\r\n250 8BITMIME\r\n"
            }
        } else if cmd == "STARTTLS" && offer_starttls {
            io.get_mut().write_all(b"220 go ahead\r\n").await.ok()?;
            return Some(io);
        } else if cmd.starts_with("RCPT TO:") {
            rcpts.push(text[8..].trim().trim_matches(['<', '>']).to_owned());
            b"250 ok\r\n"
        } else if cmd.starts_with("DATA") {
            io.get_mut().write_all(b"354 go ahead\r\n").await.ok()?;
            let mut data = String::new();
            loop {
                line.clear();
                if io.read_line(&mut line).await.ok()? == 0 {
                    return None;
                }
                let l = line.trim_end_matches(['\r', '\n']);
                if l == "." {
                    break;
                }
                data.push_str(l);
                data.push('\n');
            }
            tx.send(((std::mem::take(&mut rcpts), data), secure)).ok()?;
            b"250 queued\r\n"
        } else if cmd.starts_with("QUIT") {
            io.get_mut().write_all(b"221 bye\r\n").await.ok()?;
            return None;
        } else {
            b"250 ok\r\n"
        };
        io.get_mut().write_all(reply).await.ok()?;
    }
}

/// A plain relay that yields (recipients, message) per mail.
async fn fake_smtp() -> (u16, mpsc::UnboundedReceiver<Mail>) {
    let (port, mut rx) = fake_smtp_with(RelayTls::Plain).await;
    let (tx, out) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some((m, _)) = rx.recv().await {
            if tx.send(m).is_err() {
                return;
            }
        }
    });
    (port, out)
}

/// Sends the mail for one new ticket through a relay with `security`, trusting `ca`;
/// returns whether the relay got it over TLS, or the error of the pass.
async fn send_one(
    security: SmtpSecurity,
    relay: RelayTls,
    ca: Option<&Path>,
) -> Result<bool, String> {
    let (port, mut mails) = fake_smtp_with(relay).await;
    let ca = ca.map(Path::to_path_buf);
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), move |c| {
        c.smtp.enabled = true;
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = port;
        c.smtp.security = security;
        c.smtp.ca_file = ca;
        c.smtp.from = "steward@example.test".into();
    })
    .await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    file_ticket(&s, &ann, "Mail over TLS").await;
    let sent = mail::mail_due(&s.state, steward_server::clock::now()).await;
    let result = match sent {
        Ok(_) => {
            let ((rcpt, data), secure) =
                tokio::time::timeout(Duration::from_secs(15), mails.recv())
                    .await
                    .expect("mail did not arrive")
                    .unwrap();
            assert_eq!(rcpt, [ADMIN_EMAIL]);
            assert!(data.contains("Mail over TLS"), "{data}");
            Ok(secure)
        }
        Err(e) => Err(e.to_string()),
    };
    s.stop().await;
    result
}

#[tokio::test]
async fn mail_goes_over_implicit_tls_and_starttls_to_a_trusted_relay_only() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_pki(dir.path(), "relay");
    let (other_ca, _, _) = make_pki(dir.path(), "other");
    let tls = acceptor(&cert, &key);

    let implicit = RelayTls::Implicit(tls.clone());
    assert_eq!(
        send_one(SmtpSecurity::Tls, implicit.clone(), Some(&ca)).await,
        Ok(true)
    );
    let starttls = RelayTls::Starttls(tls.clone());
    assert_eq!(
        send_one(SmtpSecurity::Starttls, starttls.clone(), Some(&ca)).await,
        Ok(true)
    );
    // A relay whose certificate the server cannot verify gets nothing.
    let err = send_one(SmtpSecurity::Tls, implicit, Some(&other_ca))
        .await
        .expect_err("untrusted relay");
    assert!(err.contains("127.0.0.1"), "{err}");
    send_one(SmtpSecurity::Starttls, starttls, None)
        .await
        .expect_err("no CA given: the system store does not know the test CA");
    // STARTTLS is required: a relay that does not offer it gets nothing in the clear.
    send_one(SmtpSecurity::Starttls, RelayTls::Plain, Some(&ca))
        .await
        .expect_err("relay without STARTTLS");
}

#[tokio::test]
async fn mail_goes_to_the_right_people_over_smtp() {
    let (port, mut mails) = fake_smtp().await;
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.smtp.enabled = true;
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = port;
        c.smtp.security = SmtpSecurity::None;
        c.smtp.from = "Steward <steward@example.test>".into();
        c.smtp.public_url = "https://steward.example.test".into();
    })
    .await;
    let admin = s.admin_token().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (tess_id, tess) = person(&s, Role::Technician, "tess@example.test").await;
    let id = file_ticket(&s, &ann, "Badge reader broken").await;
    let path = format!("/api/v1/tickets/{id}");
    patch(&s, &path, &admin, json!({"assignee_id": tess_id})).await;
    let comments = format!("{path}/comments");
    post(&s, &comments, &tess, json!({"body": "On my way up"})).await;
    post(
        &s,
        &comments,
        &tess,
        json!({"body": "Reader firmware is ancient", "internal": true}),
    )
    .await;
    post(&s, &comments, &ann, json!({"body": "Thank you"})).await;

    mail::mail_due(&s.state, steward_server::clock::now())
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 4 {
        let m = tokio::time::timeout(Duration::from_secs(15), mails.recv())
            .await
            .expect("mail did not arrive")
            .unwrap();
        got.push(m);
    }
    // Everything due was sent: another pass adds nothing.
    assert_eq!(
        mail::mail_due(&s.state, steward_server::clock::now())
            .await
            .unwrap(),
        0
    );
    assert!(mails.try_recv().is_err(), "more mail than expected");
    let find = |to: &str, subject: &str| {
        got.iter()
            .find(|(rcpt, data)| rcpt == &[to] && data.contains(subject))
            .unwrap_or_else(|| panic!("no mail to {to} about {subject:?}: {got:#?}"))
            .1
            .clone()
    };
    let created = find(ADMIN_EMAIL, "New ticket #");
    assert!(created.contains("Badge reader broken"), "{created}");
    assert!(created.contains("From: Steward <steward@example.test>"));
    assert!(created.contains(&format!("https://steward.example.test/tickets/{id}")));
    find("tess@example.test", "Assigned to you");
    let reply = find("ann@example.test", "New reply");
    assert!(reply.contains("On my way up"), "{reply}");
    let answer = find("tess@example.test", "New reply");
    assert!(answer.contains("Thank you"), "{answer}");
    // Tess wrote the internal note herself; nobody else hears of it, the requester never.
    assert!(got.iter().all(|(_, d)| !d.contains("firmware")), "{got:#?}");
}

#[tokio::test]
async fn mail_waits_while_the_relay_is_down() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.smtp.enabled = true;
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = port;
        c.smtp.security = SmtpSecurity::None;
        c.smtp.from = "steward@example.test".into();
    })
    .await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    file_ticket(&s, &ann, "No mail today").await;
    let err = mail::mail_due(&s.state, steward_server::clock::now())
        .await
        .expect_err("relay is down");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
    // Nothing was marked sent: the next pass tries the same event again.
    let cursor = s
        .with_db(|db| {
            db.read_blocking(|c| steward_server::db::events::cursor(c, mail::CONSUMER))
                .unwrap()
        })
        .await;
    assert_eq!(cursor, 0);
}
