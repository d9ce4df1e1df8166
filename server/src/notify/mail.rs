//! Mail about tickets over SMTP (`[smtp]`), read from the event log with its own cursor
//! (`event_cursors`, consumer `mail`), so nothing is lost across restarts.
//!
//! Who hears what: a new ticket goes to its assignee, else to the admins; a staff reply to
//! the requester; a requester's reply and internal notes to the assignee; an assignment to
//! the new assignee; an SLA breach to the assignee and the admins. Nobody is told about
//! what they did themselves; internal notes only ever go to staff.
//!
//! Delivery is at least once: when the relay cannot be reached, the pass stops and the same
//! event is tried again later. A recipient the relay refuses for good is skipped.

use crate::AppState;
use crate::config::SmtpSecurity;
use crate::db::{
    self, DbResult,
    events::{Contact, Event},
};
use crate::events::{SLA_BREACHED, TICKET_ASSIGNED, TICKET_COMMENTED, TICKET_CREATED};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rusqlite::Connection;

/// The mailer's name in `event_cursors`.
pub const CONSUMER: &str = "mail";
/// Events older than this are not mailed (e.g. after mail was off for a while).
pub const MAX_AGE_SECS: i64 = 24 * 3600;
/// Events handled per pass.
const PER_PASS: u32 = 100;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("invalid [smtp] configuration: {0}")]
    Config(String),
    #[error("SMTP relay {host}:{port}: {message}")]
    Relay {
        host: String,
        port: u16,
        message: String,
    },
}

/// One message to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub to: Contact,
    pub subject: String,
    pub body: String,
}

/// Seconds to wait after `failures` passes in a row could not reach the relay.
pub fn retry_delay_secs(failures: u32) -> i64 {
    15i64 << failures.saturating_sub(1).min(5)
}

fn user_id(actor: &str) -> Option<i64> {
    actor.strip_prefix("user:")?.parse().ok()
}

/// The messages an event calls for (none for most kinds).
pub fn compose(c: &Connection, e: &Event, public_url: &str) -> DbResult<Vec<Mail>> {
    let Some(ticket_id) = e.ticket_id else {
        return Ok(Vec::new());
    };
    let Some(t) = db::tickets::get(c, ticket_id)? else {
        return Ok(Vec::new());
    };
    let s = &t.summary;
    let person = |id: Option<i64>| -> DbResult<Option<Contact>> {
        Ok(match id {
            Some(id) => db::events::contact(c, id)?,
            None => None,
        })
    };
    // Who was assigned when it happened (the event says), else who is now.
    let assignee = match e.payload.get("assignee_id") {
        Some(v) => person(v.as_i64())?,
        None => person(s.assignee.as_ref().map(|a| a.id))?,
    };
    let actor_name = match user_id(&e.actor) {
        Some(id) => person(Some(id))?.map_or_else(|| e.actor.clone(), |p| p.name),
        None if e.actor.starts_with("system:") => "Steward".to_owned(),
        None => e.actor.clone(),
    };
    let head = format!("#{} {}", s.id, s.title);
    let link = if public_url.is_empty() {
        String::new()
    } else {
        format!("\n\n{}/tickets/{}", public_url.trim_end_matches('/'), s.id)
    };
    let mut staff_only = false;
    let (to, subject, body): (Vec<Contact>, String, String) = match e.kind.as_str() {
        TICKET_CREATED => (
            match assignee {
                Some(a) => vec![a],
                None => db::events::admin_contacts(c)?,
            },
            format!("New ticket {head}"),
            format!(
                "{} filed a ticket (priority P{}):\n\n{}{}",
                s.requester.name,
                s.priority,
                s.title,
                match t.description.trim() {
                    "" => String::new(),
                    d => format!("\n\n{d}"),
                }
            ),
        ),
        TICKET_COMMENTED => {
            let id = e.payload["comment_id"].as_i64().unwrap_or(0);
            let Some(m) = db::events::comment(c, id)? else {
                return Ok(Vec::new());
            };
            let (internal, author, text) = (m.internal, m.author_id, m.body);
            let by_requester = author == Some(s.requester.id);
            staff_only = internal;
            let to = if internal || by_requester {
                assignee.into_iter().collect()
            } else {
                person(Some(s.requester.id))?.into_iter().collect()
            };
            let what = if internal {
                "Internal note"
            } else {
                "New reply"
            };
            (
                to,
                format!("{what} on {head}"),
                format!("{actor_name} wrote:\n\n{text}"),
            )
        }
        TICKET_ASSIGNED => (
            person(e.payload["assignee_id"].as_i64())?
                .into_iter()
                .collect(),
            format!("Assigned to you: {head}"),
            format!(
                "{actor_name} assigned you ticket {head} (priority P{}), filed by {}.",
                s.priority, s.requester.name
            ),
        ),
        SLA_BREACHED => {
            let mut to: Vec<Contact> = assignee.into_iter().collect();
            to.extend(db::events::admin_contacts(c)?);
            let when = e.payload["breached_at"]
                .as_i64()
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            let targets = e.payload["targets"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .map(|t| t.replace('_', " "))
                        .collect::<Vec<_>>()
                        .join(" and ")
                })
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "its target".into());
            let mut body = format!(
                "Ticket {head} (priority P{}) missed {targets} at {when}.",
                s.priority
            );
            if let Some(g) = e.payload["escalated_to_group"].as_i64() {
                body.push_str(&format!("\nIt was escalated to group {g}."));
            }
            (to, format!("SLA breached: {head}"), body)
        }
        _ => return Ok(Vec::new()),
    };
    let mut seen = Vec::new();
    let actor = user_id(&e.actor);
    Ok(to
        .into_iter()
        .filter(|p| Some(p.id) != actor && (p.staff || !staff_only))
        .filter(|p| {
            !p.email
                .eq_ignore_ascii_case(crate::http::ticket_comments::MACHINE_REQUESTER)
        })
        .filter(|p| {
            let new = !seen.contains(&p.id);
            seen.push(p.id);
            new
        })
        .map(|to| Mail {
            to,
            subject: format!("[Steward] {subject}"),
            body: format!("{body}{link}\n"),
        })
        .collect())
}

fn transport(state: &AppState) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let smtp = &state.config.smtp;
    let bad_host =
        |e: lettre::transport::smtp::Error| MailError::Config(format!("host {:?}: {e}", smtp.host));
    let tls = || -> Result<TlsParameters, MailError> {
        let mut params = TlsParameters::builder(smtp.host.clone());
        if let Some(path) = &smtp.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| MailError::Config(format!("ca_file {}: {e}", path.display())))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| MailError::Config(format!("ca_file {}: {e}", path.display())))?;
            params = params.add_root_certificate(cert);
        }
        params.build_rustls().map_err(bad_host)
    };
    let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host);
    let builder = match smtp.security {
        SmtpSecurity::Starttls => builder.tls(Tls::Required(tls()?)),
        SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
        SmtpSecurity::None => builder,
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(std::time::Duration::from_secs(30)));
    if !smtp.username.is_empty() {
        let password = smtp
            .password()
            .map_err(|e| MailError::Config(e.to_string()))?
            .map(|p| p.expose().to_owned())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(smtp.username.clone(), password));
    }
    Ok(builder.build())
}

fn message(from: &Mailbox, m: &Mail) -> Result<Message, String> {
    let to = Mailbox::new(
        Some(m.to.name.clone()),
        m.to.email.parse().map_err(|e| format!("{e}"))?,
    );
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.replace(char::is_control, " "))
        .header(ContentType::TEXT_PLAIN)
        .body(m.body.clone())
        .map_err(|e| e.to_string())
}

/// One mail pass at `now`: sends what the events after the mailer's cursor call for.
/// Returns how many messages went out. Does nothing when `[smtp]` is off.
pub async fn mail_due(state: &AppState, now: i64) -> Result<usize, MailError> {
    let smtp = &state.config.smtp;
    if !smtp.enabled {
        return Ok(0);
    }
    let _one_pass = state.notify.mail.lock().await;
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| MailError::Config(format!("from {:?}: {e}", smtp.from)))?;
    let public_url = smtp.public_url.clone();
    let batch = state
        .db
        .read(move |c| {
            let cursor = db::events::cursor(c, CONSUMER)?;
            let mut out = Vec::new();
            for e in db::events::after(c, cursor, &[], PER_PASS)? {
                let mails = if e.at < now - MAX_AGE_SECS {
                    Vec::new()
                } else {
                    compose(c, &e, &public_url)?
                };
                out.push((e.id, mails));
            }
            Ok(out)
        })
        .await?;
    if batch.is_empty() {
        return Ok(0);
    }
    let save = |event_id: i64| {
        state
            .db
            .write(move |c| db::events::set_cursor(c, CONSUMER, event_id))
    };
    let mut relay = None;
    let mut sent = 0;
    // The last event handled; saved after each event that sent mail, and at the end.
    let mut done = None;
    for (event_id, mails) in batch {
        for m in &mails {
            let msg = match message(&from, m) {
                Ok(msg) => msg,
                Err(e) => {
                    tracing::warn!(event_id, user_id = m.to.id, error = %e, "cannot address mail; skipped");
                    continue;
                }
            };
            let relay = match &relay {
                Some(r) => r,
                None => relay.insert(transport(state)?),
            };
            match relay.send(msg).await {
                Ok(_) => sent += 1,
                Err(e) if e.is_permanent() => {
                    tracing::warn!(event_id, user_id = m.to.id, error = %e, "mail refused by the relay; skipped");
                }
                Err(e) => {
                    if let Some(id) = done {
                        save(id).await?;
                    }
                    return Err(MailError::Relay {
                        host: smtp.host.clone(),
                        port: smtp.port,
                        message: e.to_string(),
                    });
                }
            }
        }
        done = Some(event_id);
        if !mails.is_empty() {
            save(event_id).await?;
        }
    }
    if let Some(id) = done {
        save(id).await?;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_retries_back_off_to_eight_minutes() {
        let d: Vec<i64> = (1..=8).map(retry_delay_secs).collect();
        assert_eq!(d, [15, 30, 60, 120, 240, 480, 480, 480]);
    }
}
