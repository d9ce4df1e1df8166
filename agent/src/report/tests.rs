//! Tests of [`ReportQueue`] without a server: which kind of report each collection
//! becomes, and what survives a restart, a crash or a damaged state file.

use super::chain::REPORT_STATE_FILE;
use super::digest::inventory_digest;
use super::*;
use steward_shared::{
    CheckinRequest, Disk, FsUsage, Health, Inventory, NetInterface, ReportKind, Software,
};

fn sw(name: &str, version: &str) -> Software {
    Software {
        name: name.into(),
        version: version.into(),
        arch: "amd64".into(),
        publisher: "Debian".into(),
        install_date: 1_700_000_000,
        source: "dpkg".into(),
    }
}

fn inventory() -> Inventory {
    Inventory {
        collected_at: 1_000,
        agent_version: "0.1.0".into(),
        hostname: "pc1".into(),
        disks: vec![Disk {
            device: "/dev/sda1".into(),
            mount_point: "/".into(),
            total_bytes: 500 << 30,
            ..Default::default()
        }],
        network: vec![NetInterface {
            name: "eth0".into(),
            mac: "aa:bb:cc:dd:ee:ff".into(),
            ips: vec!["10.0.0.2".into()],
        }],
        software: (0..300).map(|i| sw(&format!("pkg{i}"), "1.0")).collect(),
        ..Default::default()
    }
}

fn health(at: i64) -> Health {
    Health {
        taken_at: at,
        load_1: 0.42,
        memory_used_bytes: 3 << 30,
        memory_total_bytes: 16 << 30,
        uptime_secs: 86_400,
        filesystems: ["/", "/boot", "/home"]
            .iter()
            .map(|m| FsUsage {
                mount_point: (*m).into(),
                total_bytes: 500 << 30,
                used_bytes: 200 << 30,
                available_bytes: Some(280 << 30),
            })
            .collect(),
        ..Default::default()
    }
}

fn open(dir: &std::path::Path) -> ReportQueue {
    ReportQueue::open(dir, SpoolLimits::default()).expect("open")
}

fn produce(q: &mut ReportQueue, inv: &Inventory, at: i64) -> CheckinRequest {
    let inv = Inventory {
        collected_at: at,
        ..inv.clone()
    };
    q.produce(inv, health(at), at).expect("produce")
}

#[test]
fn full_then_heartbeat_then_delta() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = open(dir.path());
    let inv = inventory();

    let full = produce(&mut q, &inv, 1_000);
    assert_eq!((full.kind, full.seq), (ReportKind::Full, 1));
    assert_eq!(full.base_digest, "");
    assert_eq!(full.digest, inventory_digest(&inv));
    assert_eq!(full.inventory.software.len(), 300);
    assert!(full.delta.is_none());

    let heartbeat = produce(&mut q, &inv, 2_800);
    assert_eq!((heartbeat.kind, heartbeat.seq), (ReportKind::Heartbeat, 2));
    assert_eq!(heartbeat.base_digest, full.digest);
    assert_eq!(heartbeat.digest, full.digest);
    assert_eq!(heartbeat.inventory, Inventory::default());
    assert!(heartbeat.delta.is_none());
    assert_eq!(heartbeat.health.taken_at, 2_800);
    let (body, gzip) = encode(&heartbeat);
    assert!(
        !gzip && body.len() < 1024,
        "heartbeat is {} bytes",
        body.len()
    );

    let mut changed = inv.clone();
    changed.software.retain(|s| s.name != "pkg7");
    changed.software.push(sw("htop", "3"));
    changed.logged_in_users = vec!["alice".into()];
    let delta = produce(&mut q, &changed, 4_600);
    assert_eq!((delta.kind, delta.seq), (ReportKind::Delta, 3));
    assert_eq!(delta.base_digest, full.digest);
    assert_eq!(delta.digest, inventory_digest(&changed));
    assert_eq!(delta.inventory, Inventory::default());
    let d = delta.delta.clone().expect("a delta");
    assert_eq!(d.software_added, vec![sw("htop", "3")]);
    assert_eq!(d.software_removed, vec![sw("pkg7", "1.0")]);
    assert_eq!(d.logged_in_users, Some(vec!["alice".to_string()]));
    assert!(d.system.is_none() && d.disks.is_none() && d.network.is_none());
    assert_eq!(d.collected_at, 4_600);
    assert!(wire_size(&delta) < GZIP_THRESHOLD, "{}", wire_size(&delta));

    // What the server holds after applying the chain is the agent's inventory exactly.
    let mut server = full.inventory.clone();
    d.apply_to(&mut server);
    let mut expected = Inventory {
        collected_at: 4_600,
        ..changed
    };
    delta::normalize(&mut expected);
    assert_eq!(server, expected);
    assert_eq!(inventory_digest(&server), delta.digest);

    assert_eq!(q.pending(), vec![1, 2, 3]);
    // The sequence and baseline survive a restart.
    let mut q = open(dir.path());
    assert_eq!(q.pending(), vec![1, 2, 3]);
    let next = produce(&mut q, &expected, 6_400);
    assert_eq!((next.kind, next.seq), (ReportKind::Heartbeat, 4));
}

#[test]
fn a_new_agent_version_is_an_empty_delta() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = open(dir.path());
    let full = produce(&mut q, &inventory(), 1_000);
    let upgraded = Inventory {
        agent_version: "0.2.0".into(),
        ..inventory()
    };
    let r = produce(&mut q, &upgraded, 2_000);
    assert_eq!(r.kind, ReportKind::Delta);
    assert_eq!(
        (r.base_digest.as_str(), r.digest.as_str()),
        (full.digest.as_str(), full.digest.as_str())
    );
    let d = r.delta.expect("delta");
    assert!(d.is_empty());
    assert_eq!(d.agent_version, "0.2.0");
    assert_eq!(
        produce(&mut q, &upgraded, 3_000).kind,
        ReportKind::Heartbeat
    );
}

#[test]
fn request_full_is_persisted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = open(dir.path());
    produce(&mut q, &inventory(), 1_000);
    q.request_full();
    let mut q = open(dir.path());
    let r = produce(&mut q, &inventory(), 2_000);
    assert_eq!((r.kind, r.seq), (ReportKind::Full, 2));
    assert_eq!(r.base_digest, "");
}

#[test]
fn a_crash_between_spool_and_state_makes_the_same_seq_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_file = dir.path().join(REPORT_STATE_FILE);
    let mut q = open(dir.path());
    produce(&mut q, &inventory(), 1_000);
    let recorded = std::fs::read(&state_file).expect("read");
    let mut changed = inventory();
    changed.hostname = "renamed".into();
    let lost = produce(&mut q, &changed, 2_000);
    assert_eq!(lost.seq, 2);
    // As if the agent died after spooling seq 2 but before recording it.
    std::fs::write(&state_file, recorded).expect("write");
    drop(q);

    let mut q = open(dir.path());
    assert_eq!(
        q.pending(),
        vec![1],
        "the unrecorded report is not delivered"
    );
    let again = produce(&mut q, &inventory(), 3_000);
    assert_eq!((again.kind, again.seq), (ReportKind::Heartbeat, 2));
    assert_eq!(q.pending(), vec![1, 2]);
    let spooled = std::fs::read_to_string(dir.path().join("spool/00000000000000000002.json"))
        .expect("spool file");
    assert!(spooled.contains("\"heartbeat\""), "{spooled}");
    assert!(!spooled.contains("renamed"), "overwritten: {spooled}");
}

#[test]
fn a_damaged_or_lost_state_starts_over_with_a_full_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = open(dir.path());
    for at in [1_000, 2_000, 3_000] {
        produce(&mut q, &inventory(), at);
    }
    drop(q);
    let state_file = dir.path().join(REPORT_STATE_FILE);

    // Lost, with reports still spooled: carry on after them.
    std::fs::remove_file(&state_file).expect("remove");
    let mut q = open(dir.path());
    let r = produce(&mut q, &inventory(), 4_000);
    assert_eq!((r.kind, r.seq), (ReportKind::Full, 4));
    drop(q);

    // Damaged: never a crash; a full report whose seq is above anything sent before,
    // even though the spool no longer says how far the chain went.
    std::fs::write(&state_file, b"{\"next_seq\": 5, \"dig").expect("write");
    for seq in 1..=4 {
        let _ = std::fs::remove_file(
            dir.path()
                .join(spool::SPOOL_DIR)
                .join(format!("{seq:020}.json")),
        );
    }
    let mut q = open(dir.path());
    assert!(q.pending().is_empty());
    let r = produce(&mut q, &inventory(), 5_000);
    assert_eq!(r.kind, ReportKind::Full);
    assert_eq!(r.seq, 5_000_000);
    assert_eq!(produce(&mut q, &inventory(), 6_000).seq, 5_000_001);
    let mut q = open(dir.path());
    assert_eq!(produce(&mut q, &inventory(), 7_000).seq, 5_000_002);
}

#[test]
fn the_spool_is_bounded_by_size_and_age() {
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = SpoolLimits {
        max_bytes: 1 << 20,
        max_age_secs: 3_600,
    };
    let mut q = ReportQueue::open(dir.path(), limits).expect("open");
    // Full (about 60 KB as JSON), then heartbeats every 10 minutes.
    for i in 0..10 {
        produce(&mut q, &inventory(), 1_000 + i * 600);
    }
    // At 6400 the cutoff is 2800: seqs 1..=3 (1000, 1600, 2200) are too old.
    assert_eq!(q.pending(), (4..=10).collect::<Vec<_>>());

    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = ReportQueue::open(
        dir.path(),
        SpoolLimits {
            max_bytes: 2_000,
            max_age_secs: 3_600,
        },
    )
    .expect("open");
    for i in 0..3 {
        produce(&mut q, &inventory(), 1_000 + i);
    }
    // The full report alone is over 2000 bytes; the latest is always kept.
    assert_eq!(q.pending(), vec![2, 3]);
    q.set_limits(SpoolLimits {
        max_bytes: 1,
        max_age_secs: 3_600,
    });
    produce(&mut q, &inventory(), 1_010);
    assert_eq!(q.pending(), vec![4]);
}

#[test]
fn a_failed_collector_is_a_heartbeat_not_a_removal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = open(dir.path());
    let mut inv = inventory();
    inv.software.push(Software {
        source: "snap".into(),
        ..sw("firefox", "127")
    });
    let full = produce(&mut q, &inv, 1_000);
    assert_eq!(full.kind, ReportKind::Full);
    // snap timed out: it listed nothing, and said so.
    let mut failed = inv.clone();
    failed.software.retain(|s| s.source != "snap");
    failed.errors = vec![steward_shared::CollectError {
        section: "software.snap".into(),
        message: "timed out after 15 s".into(),
    }];
    let next = produce(&mut q, &failed, 2_800);
    assert_eq!(next.kind, ReportKind::Heartbeat, "{:?}", next.delta);
    assert_eq!(next.digest, full.digest);
}

#[test]
fn the_last_inventory_is_read_back_from_the_state_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_file = dir.path().join(REPORT_STATE_FILE);
    let mut q = open(dir.path());
    let full = produce(&mut q, &inventory(), 1_000);
    // The file holds the whole inventory the next report is compared with.
    let text = std::fs::read_to_string(&state_file).expect("read");
    let saved: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(saved["digest"], full.digest.as_str());
    assert_eq!(
        saved["baseline"]["software"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0),
        300
    );

    // Unchanged: a heartbeat needs only the digest.
    std::fs::remove_file(&state_file).expect("remove");
    let heartbeat = produce(&mut q, &inventory(), 2_000);
    assert_eq!((heartbeat.kind, heartbeat.seq), (ReportKind::Heartbeat, 2));
    assert!(state_file.exists(), "written again");

    // Changed, with the file gone: no base to build a delta on, so a full report.
    std::fs::remove_file(&state_file).expect("remove");
    let mut changed = inventory();
    changed.hostname = "renamed".into();
    let r = produce(&mut q, &changed, 3_000);
    assert_eq!((r.kind, r.seq), (ReportKind::Full, 3));
    assert_eq!(r.base_digest, "");
    assert_eq!(r.inventory.hostname, "renamed");

    // And with it back, a delta again.
    changed.hostname = "renamed-again".into();
    let r = produce(&mut q, &changed, 4_000);
    assert_eq!((r.kind, r.seq), (ReportKind::Delta, 4));
    assert_eq!(
        r.delta.and_then(|d| d.system).map(|s| s.hostname),
        Some("renamed-again".to_string())
    );
}
