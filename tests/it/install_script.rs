//! The install one-liner: `GET /install/agent.sh?token=` run with `sh` against a real
//! server, installing into a temp dir (`STEWARD_DESTDIR`: no root, no systemctl). The
//! agent binary it downloads is the release build from the agent's .deb (see
//! `packages.rs`), served from `<data dir>/releases/linux-<arch>/`. The script checks
//! its SHA-256, installs, enrolls, checks in, and the asset shows up in the API; a
//! tampered binary installs nothing; bad tokens get errors, not scripts.

use crate::helpers::*;
use crate::packages::{AGENT_BIN, unpack_agent_deb};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn releases(s: &TestServer, platform: &str) -> PathBuf {
    let dir = s
        .state
        .config
        .server
        .data_dir
        .join("releases")
        .join(platform);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn get(s: &TestServer, path: &str) -> (StatusCode, String) {
    let resp = s.http.get(s.url(path)).send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// Runs `script` with `sh`, installing under `destdir`.
async fn run_script(script: &str, destdir: &Path) -> std::process::Output {
    let file = destdir.with_extension("sh");
    std::fs::write(&file, script).unwrap();
    tokio::process::Command::new("sh")
        .arg(&file)
        .env("STEWARD_DESTDIR", destdir)
        .env_remove("STEWARD_AGENT_CONFIG")
        .env_remove("STEWARD_AGENT_STATE_DIR")
        .output()
        .await
        .unwrap()
}

fn output(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn one_liner_installs_enrolls_and_the_machine_checks_in() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let token = s.enrollment_token(1).await;
    let arch = std::env::consts::ARCH;

    // No agent build on the server yet: a clear error, not a script.
    let (status, body) = get(&s, &format!("/install/agent.sh?token={token}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("no_agent_release"), "{body}");

    let unpacked = unpack_agent_deb();
    let binary = std::fs::read(unpacked.path().join(&AGENT_BIN[1..])).unwrap();
    let served = releases(&s, &format!("linux-{arch}")).join("steward-agent");
    std::fs::write(&served, &binary).unwrap();
    let sha = hex::encode(Sha256::digest(&binary));

    let (status, script) = get(&s, &format!("/install/agent.sh?token={token}")).await;
    assert_eq!(status, StatusCode::OK, "{script}");
    assert!(script.contains(&format!("  {arch}) sha256={sha} ;;")));
    assert!(script.contains(&format!("server='{}'", s.url)));
    let resp = s
        .http
        .get(s.url(&format!("/install/files/linux-{arch}/steward-agent")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.bytes().await.unwrap() == binary,
        "the served binary differs"
    );

    // A binary swapped after the script was written: refused, nothing installed.
    let tampered = tempfile::tempdir().unwrap();
    let mut other = binary.clone();
    other.extend_from_slice(b"\0tampered");
    std::fs::write(&served, &other).unwrap();
    let dest = tampered.path().join("root");
    let out = run_script(&script, &dest).await;
    assert!(!out.status.success(), "a tampered binary was accepted");
    assert!(
        output(&out).contains("checksum mismatch"),
        "{}",
        output(&out)
    );
    assert!(
        !dest
            .join("usr/local/lib/steward-agent/steward-agent")
            .exists()
    );
    std::fs::write(&served, &binary).unwrap();

    // The real thing: installed, configured, enrolled, checked in.
    let target = tempfile::tempdir().unwrap();
    let dest = target.path().join("root");
    let out = run_script(&script, &dest).await;
    assert!(
        out.status.success(),
        "the install script failed:\n{}",
        output(&out)
    );
    assert!(output(&out).contains("checked in"), "{}", output(&out));
    assert!(
        dest.join("usr/local/lib/steward-agent/steward-agent")
            .is_file()
    );
    assert_eq!(
        std::fs::read_link(dest.join("usr/local/bin/steward-agent")).unwrap(),
        Path::new("../lib/steward-agent/steward-agent")
    );
    assert!(dest.join("etc/steward-agent/agent.toml").is_file());
    let unit =
        std::fs::read_to_string(dest.join("etc/systemd/system/steward-agent.service")).unwrap();
    assert!(unit.contains(
        "\nExecStart=/usr/local/lib/steward-agent/steward-agent --config /etc/steward-agent/agent.toml run\n"
    ));
    assert!(unit.contains("\nReadWritePaths=/usr/local/lib/steward-agent\n"));
    let creds: Value = serde_json::from_slice(
        &std::fs::read(dest.join("var/lib/steward-agent/credentials.json")).unwrap(),
    )
    .unwrap();
    assert!(!output(&out).contains(&token), "the token was echoed");

    let (_, agents) = s.get_json("/api/v1/agents", &admin).await;
    let agent = agents["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == creds["agent_id"])
        .unwrap_or_else(|| panic!("the agent is not listed: {agents}"))
        .clone();
    let asset_id = agent["asset_id"].as_i64().expect("the agent has an asset");
    let (status, asset) = s
        .get_json(&format!("/api/v1/assets/{asset_id}"), &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{asset}");

    // The token had one use, now spent: the same URL now says so.
    let (status, body) = get(&s, &format!("/install/agent.sh?token={token}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "enrollment_token_used_up");
    s.stop().await;
}

#[tokio::test]
async fn bad_tokens_get_errors_not_scripts() {
    let s = TestServer::spawn().await;
    std::fs::write(releases(&s, "linux-x86_64").join("steward-agent"), b"agent").unwrap();
    std::fs::write(
        releases(&s, "windows-x86_64").join("steward-agent.exe"),
        b"agent",
    )
    .unwrap();
    let expired = s
        .with_db(|db| steward_server::accounts::create_enrollment_token(db, 5, Some(-60)).unwrap())
        .await;
    let good = s.enrollment_token(5).await;
    for (query, code) in [
        ("token=enr_0000", "invalid_enrollment_token"),
        ("token=x%27%24(reboot)%27", "invalid_enrollment_token"),
        (&format!("token={expired}"), "enrollment_token_expired"),
        ("", "invalid_query"),
    ] {
        for script in ["agent.sh", "agent.ps1"] {
            let (status, body) = get(&s, &format!("/install/{script}?{query}")).await;
            assert!(
                status.is_client_error(),
                "{script}?{query}: {status} {body}"
            );
            let v: Value = serde_json::from_str(&body)
                .unwrap_or_else(|_| panic!("{script}?{query} is not a JSON error: {body}"));
            assert_eq!(v["error"]["code"], code, "{script}?{query}");
        }
    }
    let (status, ps1) = get(&s, &format!("/install/agent.ps1?token={good}")).await;
    assert_eq!(status, StatusCode::OK, "{ps1}");
    assert!(ps1.contains(&format!("$Token = '{good}'")));
    let sha = hex::encode(Sha256::digest(b"agent"));
    assert!(ps1.contains(&format!("'x86_64' = '{sha}'")), "{ps1}");
    for path in [
        "/install/files/linux-x86_64/steward.db",
        "/install/files/linux-x86_64/..%2F..%2Fsteward.db",
        "/install/files/linux-arm/steward-agent",
    ] {
        let (status, _) = get(&s, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    s.stop().await;
}

/// An admin creates a token on the web page and gets the one-liner for it, which works.
#[tokio::test]
async fn enrollment_page_shows_the_one_liner_for_the_new_token() {
    use crate::browser::*;
    let s = TestServer::spawn().await;
    std::fs::write(releases(&s, "linux-x86_64").join("steward-agent"), b"agent").unwrap();
    let login = submit_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let cookie = session_cookie(&login);
    let form = page_text(&s, &cookie, "/admin/enrollment").await;
    let csrf = hidden_field(&form, "csrf");
    let page = post_form(
        &s,
        &cookie,
        "/admin/enrollment",
        &[("csrf", &csrf), ("uses", "3"), ("expires", "24h")],
    )
    .await
    .text()
    .await
    .unwrap();
    let prefix = format!("curl -fsSL &#39;{}/install/agent.sh?token=", s.url);
    let start = page
        .find(&prefix)
        .unwrap_or_else(|| panic!("no one-liner on the page:\n{page}"))
        + prefix.len();
    let token: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert!(token.starts_with("enr_"), "{token}");
    assert!(page.contains("| sudo sh"));
    let (status, script) = get(&s, &format!("/install/agent.sh?token={token}")).await;
    assert_eq!(status, StatusCode::OK, "{script}");
    assert!(script.contains(&format!("token='{token}'")));
    s.stop().await;
}
