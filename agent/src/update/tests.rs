#![allow(clippy::unwrap_used)]

use super::state::Pending;
use super::*;

fn setup(version: &str) -> (tempfile::TempDir, Updater) {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("bin").join("steward-agent");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    std::fs::write(&exe, b"new binary").unwrap();
    std::fs::write(swap::previous_path(&exe), b"old binary").unwrap();
    let config = UpdateConfig {
        public_keys: vec![base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            [7u8; 32],
        )],
        confirm_attempts: 2,
        ..UpdateConfig::default()
    };
    let install = Installation {
        exe,
        version: version.into(),
        os: "linux".into(),
        arch: "x86_64".into(),
    };
    let updater = Updater::new(&config, install, dir.path());
    (dir, updater)
}

fn pend(dir: &Path) {
    UpdateState {
        pending: Some(Pending {
            version: "2.0.0".into(),
            previous_version: "1.0.0".into(),
            release: "5:abc".into(),
            attempts: 0,
        }),
        ..UpdateState::default()
    }
    .save(dir)
    .unwrap();
}

#[test]
fn an_unconfirmed_update_is_rolled_back_after_its_attempts() {
    let (dir, updater) = setup("2.0.0");
    pend(dir.path());
    assert_eq!(updater.on_start(), Verdict::Run);
    assert_eq!(updater.failed_round(), Verdict::Run);
    assert_eq!(updater.on_start(), Verdict::Restart);
    let exe = &updater.installation().exe;
    assert_eq!(std::fs::read(exe).unwrap(), b"old binary");
    let status = updater.status();
    assert!(status.error.unwrap().contains("rolled back to 1.0.0"));
    let st = UpdateState::load(dir.path());
    assert_eq!(st.pending, None);
    assert_eq!(st.refused.as_deref(), Some("5:abc"), "not offered again");
}

#[test]
fn a_check_in_confirms_the_update() {
    let (dir, updater) = setup("2.0.0");
    pend(dir.path());
    assert_eq!(updater.on_start(), Verdict::Run);
    updater.confirm();
    assert_eq!(UpdateState::load(dir.path()).pending, None);
    for _ in 0..5 {
        assert_eq!(updater.on_start(), Verdict::Run);
    }
    assert_eq!(
        std::fs::read(&updater.installation().exe).unwrap(),
        b"new binary"
    );
}

#[test]
fn the_previous_binary_running_clears_the_pending_update() {
    let (dir, updater) = setup("1.0.0");
    pend(dir.path());
    assert_eq!(updater.on_start(), Verdict::Run);
    assert_eq!(UpdateState::load(dir.path()).pending, None);
}

#[tokio::test]
async fn no_key_or_no_newer_version_means_no_download() {
    let dir = tempfile::tempdir().unwrap();
    let install = Installation {
        exe: dir.path().join("steward-agent"),
        version: "1.0.0".into(),
        os: "linux".into(),
        arch: "x86_64".into(),
    };
    // Port 9 (discard) is never contacted: nothing here may reach the network.
    let client = Client::new("http://127.0.0.1:9", None, Duration::from_secs(1)).unwrap();
    let creds = Credentials {
        server_url: "http://127.0.0.1:9".into(),
        agent_id: "agt_x".into(),
        secret: "s".into(),
    };
    let offer = UpdateOffer {
        release_id: 1,
        version: "2.0.0".into(),
        os: "linux".into(),
        arch: "x86_64".into(),
        ..UpdateOffer::default()
    };
    let off = Updater::new(&UpdateConfig::default(), install.clone(), dir.path());
    assert!(!off.status().enabled);
    assert!(off.offer(&client, &creds, &offer).await.unwrap().is_none());
    let (_dir2, on) = setup("2.0.0");
    assert!(on.offer(&client, &creds, &offer).await.unwrap().is_none());
    assert_eq!(UpdateState::load(dir.path()), UpdateState::default());
}
