//! Backup and restore bring back an identical system: a backup taken while tickets,
//! attachments and agent reports keep coming in, restored into a fresh data directory,
//! serves the same assets, tickets and attachment bytes for everything acknowledged before
//! the backup started, and the same agent binaries (a signed self-update release, the
//! install one-liner's build). A damaged archive, a data directory that already has data,
//! and one a server is using are all refused without changing anything.

use crate::helpers::*;
use crate::self_update::publish;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use steward_server::backup::{self, BackupError, RestoreOptions};

/// A ticket the test made, with its attachment's id and bytes.
#[derive(Debug, Clone)]
struct Filed {
    ticket: i64,
    attachment: i64,
    bytes: Vec<u8>,
}

/// What a task needs to reach the server under test.
#[derive(Clone)]
struct Api {
    url: String,
    http: reqwest::Client,
}

impl Api {
    fn of(s: &TestServer) -> Api {
        Api {
            url: s.url.clone(),
            http: s.http.clone(),
        }
    }
}

/// Files a ticket with one attachment of `bytes`.
async fn ticket_with_file(api: &Api, token: &str, title: &str, bytes: Vec<u8>) -> Filed {
    let resp = api
        .http
        .post(format!("{}/api/v1/tickets", api.url))
        .bearer_auth(token)
        .json(&serde_json::json!({"title": title}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let ticket = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let resp = api
        .http
        .post(format!(
            "{}/api/v1/tickets/{ticket}/attachments?filename=notes.txt",
            api.url
        ))
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let a: Value = resp.json().await.unwrap();
    Filed {
        ticket,
        attachment: a["id"].as_i64().unwrap(),
        bytes,
    }
}

async fn attachment_bytes(s: &TestServer, token: &str, id: i64) -> (StatusCode, Vec<u8>) {
    let resp = s
        .http
        .get(s.url(&format!("/api/v1/attachments/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.bytes().await.unwrap().to_vec())
}

/// A ticket as the API shows it, without the figure that depends on the clock.
async fn ticket_view(s: &TestServer, token: &str, id: i64) -> (StatusCode, Value) {
    let (status, mut t) = s.get_json(&format!("/api/v1/tickets/{id}"), token).await;
    if let Some(sla) = t.get_mut("sla").and_then(Value::as_object_mut) {
        sla.remove("resolution_remaining_secs");
    }
    (status, t)
}

/// Every ticket id the server lists.
async fn all_tickets(s: &TestServer, token: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = s
            .get_json(&format!("/api/v1/tickets?limit=100{cursor}"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return ids,
        }
    }
}

/// Signs and publishes `build` (bytes) as release `version`, rolled out to every agent;
/// its id. Keys and build file live in the server's temp dir.
async fn signed_release(s: &TestServer, version: &str, build: &[u8]) -> i64 {
    let keys = s.dir.path().join("release-keys");
    if !keys.exists() {
        steward_server::signed_releases::keygen(&keys).unwrap();
    }
    let file = s.dir.path().join(format!("build-{version}"));
    std::fs::write(&file, build).unwrap();
    publish(s, &keys, &file, version).await
}

/// Puts `bytes` where the install one-liner hands out the Linux x86_64 agent.
fn install_binary(data: &Path, bytes: &[u8]) {
    let dir = data.join("releases/linux-x86_64");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("steward-agent"), bytes).unwrap();
}

/// What an enrolled agent downloads as release `id`.
async fn release_download(s: &TestServer, agent: &str, id: i64) -> (StatusCode, Vec<u8>) {
    let resp = s
        .http
        .get(s.url(&format!("/api/v1/agent/releases/{id}/binary")))
        .header("authorization", agent)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.bytes().await.unwrap().to_vec())
}

/// What the install one-liner downloads for Linux x86_64.
async fn install_download(s: &TestServer) -> (StatusCode, Vec<u8>) {
    let resp = s
        .http
        .get(s.url("/install/files/linux-x86_64/steward-agent"))
        .send()
        .await
        .unwrap();
    (resp.status(), resp.bytes().await.unwrap().to_vec())
}

fn restore_into(archive: &Path, data: &Path, force: bool) -> Result<backup::Restored, BackupError> {
    backup::restore(
        archive,
        data,
        RestoreOptions { force },
        steward_server::clock::now(),
        &mut |_| {},
    )
}

/// The names in a directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_an_identical_system() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;

    // Data made through the API: an agent's inventory, tickets with attachments.
    let (client, creds) = s.enrolled_agent().await;
    let reply = client
        .checkin(
            &creds,
            &report(
                "ws-1",
                "b4c0b4c0-0000-1111-2222-333333333333",
                &[("curl", "8.0"), ("git", "2.39")],
            ),
        )
        .await
        .unwrap();
    let asset = reply.asset_id;
    let mut before = Vec::new();
    for i in 0..3 {
        let bytes = format!("attachment {i} made before the backup\n").repeat(100 + i);
        before.push(
            ticket_with_file(
                &Api::of(&s),
                &admin,
                &format!("Printer {i}"),
                bytes.into_bytes(),
            )
            .await,
        );
    }
    // The same bytes twice: one file on disk, two rows.
    before.push(ticket_with_file(&Api::of(&s), &admin, "Same file", before[0].bytes.clone()).await);
    // Agent binaries: a signed self-update release and the install one-liner's build.
    let build = b"signed agent build 99.3.0\n".repeat(500);
    let release = signed_release(&s, "99.3.0", &build).await;
    let installer = b"agent for the install one-liner\n".repeat(300);
    install_binary(&data_dir(s.dir.path()), &installer);

    // Writes go on during the whole backup: tickets with new files, and another agent's
    // reports. Each acknowledged ticket is recorded in order.
    let filed: Arc<Mutex<Vec<Filed>>> = Arc::default();
    let stop = tokio_util::sync::CancellationToken::new();
    let (tick_tx, tick_rx) = std::sync::mpsc::channel::<()>();
    let other = s.enrolled_agent().await;
    let writer = {
        let (filed, stop) = (filed.clone(), stop.clone());
        let api = Api::of(&s);
        let admin = admin.clone();
        tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.is_cancelled() {
                n += 1;
                let bytes = format!("written during the backup, #{n}\n").into_bytes();
                let f = ticket_with_file(&api, &admin, &format!("Load {n}"), bytes).await;
                filed.lock().unwrap().push(f);
                let mut r = report("ws-2", "b4c0b4c0-0000-1111-2222-444444444444", &[]);
                r.seq = u64::from(n);
                other.0.checkin(&other.1, &r).await.unwrap();
                let _ = tick_tx.send(());
            }
        })
    };
    // Let a few writes land, then note what was acknowledged before the backup started.
    for _ in 0..3 {
        tick_rx.recv().unwrap();
    }
    let acked_before = filed.lock().unwrap().len();
    let archive = s.dir.path().join("backup.tar");
    let data_dir = data_dir(s.dir.path());
    let (to, from_dir) = (archive.clone(), data_dir.clone());
    let (summary, tick_rx) = tokio::task::spawn_blocking(move || {
        // Once the snapshot is taken (the first progress report), wait for three more
        // acknowledged writes before copying on: files added after the snapshot.
        let mut waited = false;
        let mut progress = |p: &backup::Progress| {
            if !waited {
                waited = true;
                while tick_rx.try_recv().is_ok() {}
                for _ in 0..3 {
                    tick_rx
                        .recv_timeout(std::time::Duration::from_secs(20))
                        .unwrap();
                }
            }
            assert!(p.bytes_done <= p.bytes_total && p.files_done <= p.files_total);
        };
        let summary = backup::create(&from_dir, &to, steward_server::clock::now(), &mut progress);
        (summary, tick_rx)
    })
    .await
    .unwrap();
    let summary = summary.unwrap();
    let acked_after = filed.lock().unwrap().len();
    // One more write after the backup, which the restored system must not have.
    while filed.lock().unwrap().len() <= acked_after {
        tick_rx.recv().unwrap();
    }
    stop.cancel();
    writer.await.unwrap();
    assert!(
        acked_after >= acked_before + 3,
        "writes went on during the backup"
    );
    assert_eq!(summary.manifest.files[0].path, "steward.db");
    assert_eq!(summary.manifest.format_version, backup::FORMAT_VERSION);
    // A second backup to the same name is refused.
    let again = backup::create(&data_dir, &archive, 0, &mut |_| {}).unwrap_err();
    assert!(matches!(again, BackupError::Exists(_)), "{again}");

    // Restore into a fresh data directory and serve it.
    let restored_dir = tempfile::tempdir().unwrap();
    let restored_data = data_dir_of(&restored_dir);
    let done = restore_into(&archive, &restored_data, false).unwrap();
    assert_eq!(done.attachments, summary.attachments);
    assert_eq!((summary.signed_releases, summary.install_binaries), (1, 1));
    assert_eq!((done.signed_releases, done.install_binaries), (1, 1));
    assert!(done.moved_aside.is_none() && done.missing_releases.is_empty());
    let r = TestServer::spawn_in(restored_dir).await;
    let r_admin = admin.clone(); // API tokens are in the database, so they come back too

    // The agent enrolled before the backup still downloads the release, byte for byte,
    // and the install one-liner still finds its build.
    let agent = agent_auth(&creds);
    assert_eq!(
        release_download(&r, &agent, release).await,
        (StatusCode::OK, build.clone())
    );
    assert_eq!(
        install_download(&r).await,
        (StatusCode::OK, installer.clone())
    );

    // Everything acknowledged before the backup started is there, identical.
    let (status, a) = s.get_json(&format!("/api/v1/assets/{asset}"), &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        r.get_json(&format!("/api/v1/assets/{asset}"), &r_admin)
            .await,
        (status, a)
    );
    assert_eq!(
        software_names(&r, &r_admin, asset).await,
        software_names(&s, &admin, asset).await
    );
    let history = format!("/api/v1/assets/{asset}/history");
    assert_eq!(
        r.get_json(&history, &r_admin).await,
        s.get_json(&history, &admin).await
    );
    let pre: Vec<Filed> = before
        .iter()
        .cloned()
        .chain(filed.lock().unwrap()[..acked_before].iter().cloned())
        .collect();
    for f in &pre {
        let original = ticket_view(&s, &admin, f.ticket).await;
        assert_eq!(original.0, StatusCode::OK);
        assert_eq!(ticket_view(&r, &r_admin, f.ticket).await, original);
        assert_eq!(
            attachment_bytes(&r, &r_admin, f.attachment).await,
            (StatusCode::OK, f.bytes.clone()),
            "attachment {} of ticket {}",
            f.attachment,
            f.ticket
        );
    }
    // What came after the backup finished is not there.
    let after: Vec<Filed> = filed.lock().unwrap()[acked_after..].to_vec();
    assert!(!after.is_empty());
    for f in &after {
        assert_eq!(
            ticket_view(&r, &r_admin, f.ticket).await.0,
            StatusCode::NOT_FOUND
        );
    }
    // Every ticket the restored server has (some written during the backup) has its
    // files, byte for byte.
    let restored_tickets = all_tickets(&r, &r_admin).await;
    assert!(restored_tickets.len() >= pre.len());
    for id in restored_tickets {
        let (_, t) = ticket_view(&r, &r_admin, id).await;
        for a in t["attachments"].as_array().unwrap() {
            let aid = a["id"].as_i64().unwrap();
            let (status, bytes) = attachment_bytes(&r, &r_admin, aid).await;
            assert_eq!(status, StatusCode::OK, "attachment {aid}");
            assert_eq!((status, bytes), attachment_bytes(&s, &admin, aid).await);
        }
    }

    // While the restored server runs, restoring into its directory is refused.
    let busy = restore_into(&archive, &restored_data, true).unwrap_err();
    assert!(
        matches!(busy, BackupError::Lock(_)) && busy.to_string().contains("stop the server"),
        "{busy}"
    );
    let restored_dir = r.stop_keeping_data().await;
    // Stopped, but it has data: refused without --force, nothing moved.
    let before_names = names(&restored_data);
    let full = restore_into(&archive, &restored_data, false).unwrap_err();
    assert!(matches!(full, BackupError::NotEmpty(_)), "{full}");
    assert!(full.to_string().contains("--force"), "{full}");
    assert_eq!(names(&restored_data), before_names);
    // With --force the old data is moved aside, not deleted.
    let forced = restore_into(&archive, &restored_data, true).unwrap();
    let aside = forced.moved_aside.unwrap();
    assert!(aside.join("steward.db").is_file() && aside.join("attachments").is_dir());
    assert!(aside.join("agent-releases").is_dir() && aside.join("releases").is_dir());
    assert!(restored_data.join("steward.db").is_file());
    let r = TestServer::spawn_in(restored_dir).await;
    assert_eq!(
        ticket_view(&r, &r_admin, pre[0].ticket).await.0,
        StatusCode::OK
    );
    assert_eq!(
        release_download(&r, &agent, release).await,
        (StatusCode::OK, build)
    );
    r.stop().await;
    s.stop().await;
}

/// The data directory inside a test's temp dir (as `TestServer::spawn_in` uses it).
fn data_dir_of(dir: &tempfile::TempDir) -> std::path::PathBuf {
    data_dir(dir.path())
}

#[tokio::test]
async fn a_damaged_archive_is_refused_and_nothing_changes() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let f = ticket_with_file(&Api::of(&s), &admin, "Broken", b"some bytes\n".repeat(50)).await;
    let build = b"signed build bytes\n".repeat(50);
    signed_release(&s, "99.4.0", &build).await;
    install_binary(&data_dir(s.dir.path()), &b"one-liner build\n".repeat(50));
    let archive = s.dir.path().join("b.tar");
    backup::create(
        &data_dir(s.dir.path()),
        &archive,
        steward_server::clock::now(),
        &mut |_| {},
    )
    .unwrap();
    let good = std::fs::read(&archive).unwrap();
    let target = tempfile::tempdir().unwrap();
    let data = target.path().join("data");

    // One flipped byte: inside the database (the first member, after its 512-byte
    // header), inside the attachment, inside each agent binary, in the manifest, and in a
    // tar header.
    let find = |needle: &[u8]| {
        good.windows(needle.len())
            .position(|w| w == needle)
            .unwrap()
    };
    let mut cases = vec![(512 + 4096, "database")];
    // A digit of the database's checksum in the manifest.
    cases.push((find(b"\"sha256\": \"") + 12, "manifest"));
    cases.push((find(b"some bytes\n") + 3, "attachment"));
    cases.push((find(b"signed build bytes\n") + 3, "signed release"));
    cases.push((find(b"one-liner build\n") + 3, "install binary"));
    cases.push((10, "header"));
    for (at, what) in cases {
        let mut bad = good.clone();
        bad[at] ^= 0x20;
        let path = target.path().join(format!("bad-{what}.tar"));
        std::fs::write(&path, &bad).unwrap();
        let e = restore_into(&path, &data, false).unwrap_err();
        assert!(matches!(e, BackupError::Damaged { .. }), "{what}: {e}");
        assert!(e.to_string().contains("Nothing was changed"), "{e}");
        // Only the lock file: no database, no attachments, no staging left behind.
        assert_eq!(names(&data), vec!["steward.lock"], "{what}");
    }
    // A truncated archive too.
    let cut = target.path().join("cut.tar");
    std::fs::write(&cut, &good[..good.len() / 2]).unwrap();
    let e = restore_into(&cut, &data, false).unwrap_err();
    assert!(matches!(e, BackupError::Damaged { .. }), "{e}");
    assert_eq!(names(&data), vec!["steward.lock"]);
    // The good one restores, with its file.
    let done = restore_into(&archive, &data, false).unwrap();
    assert_eq!(done.attachments, 1);
    assert_eq!((done.signed_releases, done.install_binaries), (1, 1));
    let r = TestServer::spawn_in(target).await;
    let (status, bytes) = attachment_bytes(&r, &admin, f.attachment).await;
    assert_eq!((status, bytes), (StatusCode::OK, f.bytes));
    assert_eq!(
        install_download(&r).await,
        (StatusCode::OK, b"one-liner build\n".repeat(50))
    );
    r.stop().await;
    s.stop().await;
}
