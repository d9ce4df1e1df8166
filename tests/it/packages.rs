//! The Linux packages that `packaging/build.sh` writes to `target/packages/` (CI runs it
//! before the tests; `tests/setup.sh` runs it when they are missing or older than the
//! sources). The agent's .deb is unpacked into a throwaway root with `dpkg -x`, and its
//! own maintainer scripts run there (`STEWARD_ROOT`) against a real test server: the
//! postinst enrolls from `enroll.env` and deletes it, survives an unreachable server,
//! the prerm revokes the agent when asked, and purge removes its state. The .rpm and the
//! server's .deb are checked for files, config files and scripts.

use crate::helpers::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where the agent's packages install its binary (`/usr/bin/steward-agent` links to it).
pub const AGENT_BIN: &str = "/usr/lib/steward-agent/steward-agent";

/// `target/packages/<name>_*<suffix>` (or `<name>-*`), failing with what to do when missing.
pub fn package(name: &str, suffix: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or(root.join("target"), PathBuf::from);
    let dir = target.join("packages");
    let found = std::fs::read_dir(&dir).ok().and_then(|entries| {
        entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            (n.starts_with(&format!("{name}_")) || n.starts_with(&format!("{name}-")))
                && n.ends_with(suffix)
        })
    });
    found.unwrap_or_else(|| {
        panic!(
            "no {name} *{suffix} in {}: build the packages first with `bash packaging/build.sh` \
             (tests/setup.sh and .ci/run do)",
            dir.display()
        )
    })
}

/// Runs `cmd`, insisting that it could start; returns its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (tests/setup.sh installs it)"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The agent's .deb unpacked (`dpkg -x`) into a new directory, its control files in
/// `DEBIAN/` (`dpkg-deb -e`).
pub fn unpack_agent_deb() -> tempfile::TempDir {
    let deb = package("steward-agent", ".deb");
    let root = tempfile::tempdir().unwrap();
    ok(Command::new("dpkg").arg("-x").arg(&deb).arg(root.path()));
    ok(Command::new("dpkg-deb")
        .arg("-e")
        .arg(&deb)
        .arg(root.path().join("DEBIAN")));
    root
}

/// A maintainer script of the unpacked package, run with `STEWARD_ROOT` (in the
/// background: the test server answers on this same runtime).
async fn script(root: &Path, name: &str, arg: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg(root.join("DEBIAN").join(name))
        .arg(arg)
        .env("STEWARD_ROOT", root)
        .env_remove("STEWARD_REVOKE_ON_REMOVE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.unwrap()
}

fn write_enroll_env(root: &Path, server: &str, token: &str) -> PathBuf {
    let path = root.join("etc/steward-agent/enroll.env");
    std::fs::write(
        &path,
        format!(
            "# left by provisioning\nSTEWARD_SERVER={server}\nSTEWARD_ENROLL_TOKEN=\"{token}\"\n"
        ),
    )
    .unwrap();
    path
}

/// `Key=value` lines of a systemd unit.
pub fn unit_values(unit: &str, key: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_owned)
        .collect()
}

#[test]
fn agent_deb_holds_binary_config_unit_and_scripts() {
    let deb = package("steward-agent", ".deb");
    let info = ok(Command::new("dpkg-deb").arg("-I").arg(&deb));
    for want in [
        "Package: steward-agent",
        "Section: admin",
        "postinst",
        "prerm",
        "postrm",
    ] {
        assert!(info.contains(want), "dpkg-deb -I lacks {want:?}:\n{info}");
    }
    let name = ok(Command::new("dpkg-deb").arg("-f").arg(&deb).arg("Package"));
    assert_eq!(name.trim(), "steward-agent");
    let list = ok(Command::new("dpkg-deb").arg("-c").arg(&deb));
    assert!(
        list.contains("./usr/bin/steward-agent -> ../lib/steward-agent/steward-agent"),
        "/usr/bin/steward-agent is not a link to the binary:\n{list}"
    );
    for file in [
        "./usr/lib/steward-agent/steward-agent",
        "./etc/steward-agent/agent.toml",
        "./lib/systemd/system/steward-agent.service",
    ] {
        assert!(list.contains(file), "the .deb lacks {file}:\n{list}");
    }
    let root = unpack_agent_deb();
    let conffiles = std::fs::read_to_string(root.path().join("DEBIAN/conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/steward-agent/agent.toml");

    // Every path the unit names is one the package installs or the agent uses.
    let unit =
        std::fs::read_to_string(root.path().join("lib/systemd/system/steward-agent.service"))
            .unwrap();
    let mut commands = unit_values(&unit, "ExecStart");
    commands.extend(unit_values(&unit, "ExecStartPre"));
    assert_eq!(commands.len(), 3, "{unit}");
    for c in &commands {
        let c = c.trim_start_matches(['-', '+']);
        assert!(
            c.starts_with(&format!(
                "{AGENT_BIN} --config /etc/steward-agent/agent.toml "
            )),
            "{c}"
        );
        let sub = c.split_whitespace().nth(3).unwrap();
        assert!(
            ["validate-config", "enroll-pending", "run"].contains(&sub),
            "{c}"
        );
    }
    assert!(root.path().join(&AGENT_BIN[1..]).is_file());
    assert!(
        root.path().join("usr/bin/steward-agent").is_file(),
        "the link resolves"
    );
    assert!(root.path().join("etc/steward-agent/agent.toml").is_file());
    // Self-update swaps the binary in its directory: the unit must let it write there
    // (and only there, besides its state).
    assert_eq!(
        unit_values(&unit, "ReadWritePaths"),
        ["/usr/lib/steward-agent"]
    );
    // The state directory systemd makes is the agent's own default for root.
    assert_eq!(unit_values(&unit, "StateDirectory"), ["steward-agent"]);
    assert!(unit.contains("Environment=STEWARD_AGENT_STATE_DIR=/var/lib/steward-agent\n"));
    assert!(unit.contains("ConditionPathExists=|/var/lib/steward-agent/credentials.json\n"));
    for hardening in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "Restart=on-failure",
    ] {
        assert!(unit.contains(hardening), "the unit lacks {hardening}");
    }
    // The example config the package installs is valid as it is.
    ok(Command::new(root.path().join("usr/bin/steward-agent"))
        .arg("--config")
        .arg(root.path().join("etc/steward-agent/agent.toml"))
        .arg("validate-config"));
}

#[tokio::test]
async fn agent_deb_scripts_enroll_survive_an_unreachable_server_revoke_and_purge() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let unpacked = unpack_agent_deb();
    let root = unpacked.path();
    let state = root.join("var/lib/steward-agent");
    // The .rpm has no /usr/bin link: the postinst makes it (here, for the .deb's tree).
    let link = root.join("usr/bin/steward-agent");
    std::fs::remove_file(&link).unwrap();

    // Server unreachable: the install goes on, the token file stays for the service.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let token = s.enrollment_token(1).await;
    let env_file = write_enroll_env(root, &closed, &token);
    let out = script(root, "postinst", "configure", &[]).await;
    assert!(out.status.success(), "postinst failed: {}", text(&out));
    assert!(
        text(&out).contains("could not enroll now"),
        "{}",
        text(&out)
    );
    assert!(env_file.exists(), "the token file must stay for a retry");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("../lib/steward-agent/steward-agent")
    );
    assert!(!state.join("credentials.json").exists());

    // Reachable: enrolled, the token file deleted, the machine reports.
    write_enroll_env(root, &s.url, &token);
    let out = script(root, "postinst", "configure", &[]).await;
    assert!(out.status.success(), "postinst failed: {}", text(&out));
    assert!(
        !env_file.exists(),
        "the token file must be deleted once enrolled"
    );
    let creds: Value =
        serde_json::from_slice(&std::fs::read(state.join("credentials.json")).unwrap()).unwrap();
    let agent_id = creds["agent_id"].as_str().unwrap().to_owned();
    let once = tokio::process::Command::new(root.join("usr/bin/steward-agent"))
        .arg("--config")
        .arg(root.join("etc/steward-agent/agent.toml"))
        .arg("--state-dir")
        .arg(&state)
        .args(["run", "--once"])
        .output()
        .await
        .unwrap();
    assert!(once.status.success(), "run --once: {}", text(&once));
    let (_, agents) = s.get_json("/api/v1/agents", &admin).await;
    let ours = agents["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == agent_id.as_str())
        .unwrap_or_else(|| panic!("{agent_id} not among {agents}"))
        .clone();
    assert!(ours["asset_id"].is_i64(), "the agent has no asset: {ours}");
    assert!(ours["revoked_at"].is_null());

    // Removal without the flag leaves the agent alone; with it, the agent is revoked.
    let out = script(root, "prerm", "remove", &[]).await;
    assert!(out.status.success(), "prerm failed: {}", text(&out));
    assert!(state.join("credentials.json").exists());
    std::fs::write(root.join("etc/steward-agent/revoke-on-remove"), "").unwrap();
    let out = script(root, "prerm", "remove", &[]).await;
    assert!(out.status.success(), "prerm failed: {}", text(&out));
    let (_, agents) = s.get_json("/api/v1/agents", &admin).await;
    let ours = agents["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == agent_id.as_str())
        .unwrap()
        .clone();
    assert!(ours["revoked_at"].is_i64(), "not revoked: {ours}");
    assert!(!state.join("credentials.json").exists());

    // Upgrades leave everything; purge removes the state and the flag.
    let out = script(root, "postrm", "upgrade", &[]).await;
    assert!(out.status.success() && state.exists());
    // What self-update left beside the binary goes with the package.
    let lib = root.join("usr/lib/steward-agent");
    std::fs::write(lib.join("steward-agent.previous"), "old").unwrap();
    let out = script(root, "postrm", "purge", &[]).await;
    assert!(out.status.success(), "postrm failed: {}", text(&out));
    assert!(!lib.join("steward-agent.previous").exists());
    assert!(!state.exists(), "purge must remove the agent's state");
    assert!(!root.join("etc/steward-agent/revoke-on-remove").exists());
    s.stop().await;
}

#[test]
fn rpms_and_server_deb_hold_files_config_and_scripts() {
    let rpm = package("steward-agent", ".rpm");
    let files = ok(Command::new("rpm").arg("-qlp").arg(&rpm));
    for f in [
        AGENT_BIN,
        "/etc/steward-agent/agent.toml",
        "/usr/lib/systemd/system/steward-agent.service",
    ] {
        assert!(
            files.lines().any(|l| l == f),
            "the .rpm lacks {f}:\n{files}"
        );
    }
    let config = ok(Command::new("rpm").arg("-qcp").arg(&rpm));
    assert_eq!(config.trim(), "/etc/steward-agent/agent.toml");
    let scripts = ok(Command::new("rpm").args(["-qp", "--scripts"]).arg(&rpm));
    for want in [
        "postinstall scriptlet",
        "enroll-pending",
        "ln -s ../lib/steward-agent/steward-agent",
        "preuninstall scriptlet",
        "deregister",
        "postuninstall scriptlet",
    ] {
        assert!(
            scripts.contains(want),
            "rpm scripts lack {want:?}:\n{scripts}"
        );
    }

    let rpm = package("steward-server", ".rpm");
    let files = ok(Command::new("rpm").arg("-qlp").arg(&rpm));
    for f in [
        "/usr/bin/steward-server",
        "/etc/steward/server.toml",
        "/usr/lib/systemd/system/steward-server.service",
    ] {
        assert!(
            files.lines().any(|l| l == f),
            "the .rpm lacks {f}:\n{files}"
        );
    }
    let scripts = ok(Command::new("rpm").args(["-qp", "--scripts"]).arg(&rpm));
    assert!(scripts.contains("useradd --system"), "{scripts}");

    let deb = package("steward-server", ".deb");
    let list = ok(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for file in [
        "./usr/bin/steward-server",
        "./etc/steward/server.toml",
        "./lib/systemd/system/steward-server.service",
    ] {
        assert!(list.contains(file), "the server .deb lacks {file}:\n{list}");
    }
    let root = tempfile::tempdir().unwrap();
    ok(Command::new("dpkg").arg("-x").arg(&deb).arg(root.path()));
    ok(Command::new("dpkg-deb")
        .arg("-e")
        .arg(&deb)
        .arg(root.path().join("DEBIAN")));
    let conffiles = std::fs::read_to_string(root.path().join("DEBIAN/conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/steward/server.toml");
    let postinst = std::fs::read_to_string(root.path().join("DEBIAN/postinst")).unwrap();
    assert!(postinst.contains("useradd --system"));
    let unit = std::fs::read_to_string(
        root.path()
            .join("lib/systemd/system/steward-server.service"),
    )
    .unwrap();
    for line in [
        "User=steward",
        "StateDirectory=steward",
        "Environment=STEWARD_DATA_DIR=/var/lib/steward",
        "ExecStartPre=/usr/bin/steward-server --config /etc/steward/server.toml validate-config",
        "ExecStart=/usr/bin/steward-server --config /etc/steward/server.toml serve",
        "CapabilityBoundingSet=",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "Restart=on-failure",
    ] {
        assert!(
            unit.lines().any(|l| l == line),
            "the server unit lacks {line:?}"
        );
    }
    // The config the package installs passes the check the unit runs before each start.
    let data = root.path().join("data");
    ok(Command::new(root.path().join("usr/bin/steward-server"))
        .env("STEWARD_DATA_DIR", &data)
        .arg("--config")
        .arg(root.path().join("etc/steward/server.toml"))
        .arg("validate-config"));
}
