//! Self-update of the packaged agent, inside the file system its systemd unit gives it.
//!
//! The agent's .deb is unpacked into a throwaway root and its binary run from there, in a
//! private mount namespace (`unshare -m`) where that root is read-only except the paths
//! the unit makes writable (`ReadWritePaths=`, `StateDirectory=`): what
//! `ProtectSystem=strict` leaves the service, applied to the unpacked tree. The server
//! offers a signed release (the packaged binary with a marker appended); the real agent
//! process must download it, verify it, swap it in and exit 75 for systemd to restart it.

use crate::helpers::*;
use crate::packages::{AGENT_BIN, unit_values, unpack_agent_deb};
use crate::self_update::publish;
use std::path::Path;
use std::time::Duration;
use steward_agent::update::{UpdateState, swap};
use steward_server::signed_releases as releases;

/// Makes `root` read-only but for `writable` (absolute paths inside it), checks that it
/// is, then runs the agent's `run` from it. Arguments: root, then the writable paths.
const SANDBOX: &str = r#"
set -e
root=$1; shift
mount --bind "$root" "$root"
for p in "$@"; do mount --bind "$root$p" "$root$p"; done
mount -o remount,bind,ro "$root"
if touch "$root/usr/bin/.probe" 2>/dev/null; then
  echo "sandbox: $root/usr/bin is writable" >&2; exit 90
fi
for p in "$@"; do touch "$root$p/.probe"; rm "$root$p/.probe"; done
exec "$root/usr/bin/steward-agent" --config "$root/etc/steward-agent/agent.toml" \
  --state-dir "$root/var/lib/steward-agent" run
"#;

#[tokio::test]
async fn the_packaged_agent_updates_itself_within_its_units_sandbox() {
    let s = TestServer::spawn().await;
    let unpacked = unpack_agent_deb();
    let root = unpacked.path();
    let unit =
        std::fs::read_to_string(root.join("lib/systemd/system/steward-agent.service")).unwrap();
    let exec = unit_values(&unit, "ExecStart");
    assert_eq!(exec.len(), 1, "one ExecStart in the unit:\n{unit}");
    assert!(exec[0].starts_with(&format!("{AGENT_BIN} ")), "{exec:?}");
    let mut writable = unit_values(&unit, "ReadWritePaths");
    writable.extend(
        unit_values(&unit, "StateDirectory")
            .iter()
            .map(|d| format!("/var/lib/{d}")),
    );
    let state = root.join("var/lib/steward-agent");
    std::fs::create_dir_all(&state).unwrap();

    // The release key in the agent's config, and a signed "newer" build on the server.
    let keys = tempfile::tempdir().unwrap();
    let public = releases::keygen(keys.path()).unwrap();
    let config = root.join("etc/steward-agent/agent.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("\npublic_keys = []\n"), "{text}");
    let text = text.replace(
        "\npublic_keys = []\n",
        &format!("\npublic_keys = [\"{public}\"]\n"),
    );
    std::fs::write(&config, text).unwrap();
    let packaged = std::fs::read(root.join(&AGENT_BIN[1..])).unwrap();
    let mut newer = packaged.clone();
    newer.extend_from_slice(b"\nsteward test release 99.2.0\n");
    let build = s.dir.path().join("build");
    std::fs::write(&build, &newer).unwrap();
    publish(&s, keys.path(), &build, "99.2.0").await;

    // Enrolled the way the postinst does it, outside the sandbox.
    let token = s.enrollment_token(1).await;
    let enroll = tokio::process::Command::new(root.join("usr/bin/steward-agent"))
        .arg("--config")
        .arg(&config)
        .arg("--state-dir")
        .arg(&state)
        .args(["enroll", "--server", &s.url])
        .env("STEWARD_AGENT_TOKEN", &token)
        .output()
        .await
        .unwrap();
    assert!(enroll.status.success(), "enroll: {enroll:?}");

    let mut cmd = tokio::process::Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh", "-c", SANDBOX, "sh"])
        .arg(root)
        .args(&writable)
        .env("RUST_LOG", "info")
        .kill_on_drop(true);
    let run = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("the agent neither updated itself nor exited within 90 s")
        .unwrap_or_else(|e| panic!("cannot run unshare (util-linux): {e}"));
    let log = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        run.status.code(),
        Some(steward_agent::update::RESTART_EXIT_CODE),
        "the agent should have swapped its binary and asked for a restart:\n{log}"
    );

    let exe = root.join(&AGENT_BIN[1..]);
    assert!(std::fs::read(&exe).unwrap() == newer, "not swapped:\n{log}");
    assert!(std::fs::read(swap::previous_path(&exe)).unwrap() == packaged);
    assert!(
        std::fs::read(root.join("usr/bin/steward-agent")).unwrap() == newer,
        "the /usr/bin link names the new binary"
    );
    let pending = UpdateState::load(&state)
        .pending
        .expect("pending confirmation");
    assert_eq!(pending.version, "99.2.0");
    assert_eq!(pending.previous_version, steward_agent::AGENT_VERSION);
    assert!(!Path::new(&exe.with_file_name(".steward-agent.new")).exists());
    s.stop().await;
}
