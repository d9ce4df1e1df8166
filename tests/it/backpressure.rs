//! The single writer under pressure: agent reports beyond `database.write_queue_limit`
//! get 503 with Retry-After (the real agent client reads it as `Busy`), people's writes
//! are never turned away, and every report that was answered 200 is stored. Also: a
//! cached agent credential does not outlive a revocation made behind the server's back.

use crate::helpers::*;
use steward_agent::client::ClientError;
use steward_server::db;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_write_queue_answers_503_with_retry_after_and_loses_nothing() {
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.database.write_queue_limit = 1;
    })
    .await;
    let admin = s.admin_token().await;
    let mut agents = Vec::new();
    for i in 0..3 {
        let (client, creds) = s.enrolled_agent().await;
        let uuid = format!("4c4c4544-0000-0000-0000-00000000000{i}");
        client
            .checkin(
                &creds,
                &report(&format!("pc-{i}"), &uuid, &[("curl", "8.0")]),
            )
            .await
            .unwrap();
        agents.push((client, creds, uuid));
    }

    // Hold the writer: a blocking write that waits for the gate keeps the connection, so
    // the writer thread takes the next report and waits behind it.
    let (gate, wait) = std::sync::mpsc::channel::<()>();
    let (held_tx, held) = std::sync::mpsc::channel::<()>();
    let db = s.state.db.clone();
    let holder = std::thread::spawn(move || {
        db.write_blocking(|_| {
            held_tx.send(()).unwrap();
            let _ = wait.recv();
            Ok(())
        })
    });
    held.recv().unwrap();
    let send = |i: usize, seq: u64| {
        let (client, creds, uuid) = agents[i].clone();
        async move {
            let mut r = report(&format!("pc-{i}"), &uuid, &[("curl", "8.1")]);
            r.seq = seq;
            client.checkin(&creds, &r).await
        }
    };
    let taken = s.state.db.writer_stats().taken;
    let first = tokio::spawn(send(0, 2));
    // The writer takes it and waits for the connection; the next one queues: full.
    until_writer(&s, |w| w.taken == taken + 1).await;
    let second = tokio::spawn(send(1, 2));
    until_writer(&s, |w| w.queued_bulk == 1).await;

    let refused = send(2, 2).await.unwrap_err();
    match &refused {
        ClientError::Busy {
            status,
            retry_after_secs,
            ..
        } => {
            assert_eq!(*status, 503);
            assert!((1..=60).contains(retry_after_secs), "{refused:?}");
        }
        other => panic!("expected 503 busy, got {other:?}"),
    }
    assert!(refused.is_retryable());
    // The raw reply: JSON error with a stable code and the header.
    let (_, creds, _) = &agents[2];
    let raw = s
        .http
        .post(s.url(steward_shared::CHECKIN_PATH))
        .header("authorization", agent_auth(creds))
        .json(&report("pc-2", "x", &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 503);
    assert!(raw.headers().get("retry-after").is_some());
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["error"]["code"], "server_busy");

    // A person's write is queued, not refused, while the agents' lane is full.
    let person = {
        let (s_url, http, admin) = (s.url("/api/v1/locations"), s.http.clone(), admin.clone());
        tokio::spawn(async move {
            http.post(s_url)
                .bearer_auth(admin)
                .json(&serde_json::json!({"name": "Depot"}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    until_writer(&s, |w| w.queued_interactive == 1).await;

    gate.send(()).unwrap();
    holder.join().unwrap().unwrap();
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    assert_eq!(person.await.unwrap(), 201);
    // The refused agent tries again later and is stored.
    send(2, 2).await.unwrap();

    // Every answered report is in the database: seq 2 and curl 8.1 for all three.
    let rows = s
        .with_db(|d| {
            d.read_blocking(|c| {
                let mut st = c.prepare(
                    "SELECT a.last_seq, s.version FROM agents a JOIN asset_software s ON s.asset_id = a.asset_id
                     WHERE s.name = 'curl' ORDER BY a.hostname",
                )?;
                let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
        })
        .await
        .unwrap();
    assert_eq!(rows, vec![(2, "8.1".to_owned()); 3]);
    assert!(s.state.db.writer_stats().refused >= 2);
    let metrics = s
        .http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("steward_writer_refused_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(refused >= 2, "{metrics}");
    s.stop().await;
}

#[tokio::test]
async fn a_revocation_made_elsewhere_stops_a_cached_agent() {
    let s = TestServer::spawn().await;
    let (client, creds) = s.enrolled_agent().await;
    let uuid = "4c4c4544-0000-0000-0000-0000000000aa";
    client
        .checkin(&creds, &report("pc", uuid, &[]))
        .await
        .unwrap();
    assert_eq!(
        s.state.agents.len(),
        1,
        "the credential is cached after a check-in"
    );

    // Revoked straight in the database, as `steward-server agent revoke` does from
    // another process: this server's cache does not know.
    let id = creds.agent_id.clone();
    s.with_db(move |d| {
        d.write_blocking(|tx| db::agents::revoke(tx, &id, steward_server::clock::now()))
            .unwrap()
    })
    .await;
    let mut r = report("pc", uuid, &[("curl", "8.0")]);
    r.seq = 2;
    match client.checkin(&creds, &r).await.unwrap_err() {
        ClientError::Http { status, code, .. } => {
            assert_eq!((status, code.as_str()), (401, "agent_revoked"));
        }
        other => panic!("expected 401, got {other:?}"),
    }
    assert!(
        s.state.agents.is_empty(),
        "the refusal drops the cached credential"
    );
    let ticket = steward_shared::AgentTicketRequest {
        title: "printer jam".into(),
        ..Default::default()
    };
    let err = client.file_ticket(&creds, &ticket).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    s.stop().await;
}
