//! The macOS launchd plist, the pkg scripts and `build-pkg.sh`. The scripts run here
//! against a temp dir as the target volume, with a stand-in `steward-agent` that records
//! its arguments, which must then parse with the agent's CLI.

use super::xml::Node;
use super::{agent_cli, check_shell_script, parse_xml, read, repo};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use steward_agent::cli::Command;
use steward_agent::state::{self, Os, StateDirEnv};

const PLIST: &str = "packaging/macos/com.steward.agent.plist";
const LABEL: &str = "com.steward.agent";
const BIN: &str = "/Library/Steward/bin/steward-agent";
const EXAMPLE: &str = "/Library/Steward/agent.example.toml";
const SCRIPTS: [&str; 4] = [
    "packaging/macos/scripts/preinstall",
    "packaging/macos/scripts/postinstall",
    "packaging/macos/uninstall.sh",
    "packaging/macos/build-pkg.sh",
];

fn macos_state_dir() -> PathBuf {
    let root = StateDirEnv {
        root: true,
        ..StateDirEnv::default()
    };
    state::state_dir_for(Os::MacOs, &root)
}

fn data(file: &str) -> PathBuf {
    Path::new(state::MACOS_DATA_DIR).join(file)
}

/// The plist's top-level dict as (key, value element) pairs.
fn plist_entries(dict: &Node) -> Vec<(&str, &Node)> {
    assert_eq!(dict.children.len() % 2, 0, "a key without a value");
    dict.children
        .chunks(2)
        .map(|kv| {
            assert_eq!(kv[0].name, "key", "{:?}", kv[0]);
            (kv[0].text.trim(), &kv[1])
        })
        .collect()
}

#[test]
fn the_launchd_daemon_runs_the_agent_where_the_package_puts_it() {
    let doc = parse_xml(PLIST);
    let dict = doc.root.child("dict");
    let entries = plist_entries(dict);
    let get = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("{PLIST} has no {key}"))
    };
    assert_eq!(get("Label").text.trim(), LABEL);
    assert_eq!(format!("packaging/macos/{LABEL}.plist"), PLIST);
    assert_eq!(get("RunAtLoad").name, "true");
    // Started again after an error exit (75 after a self-update), not after a clean stop.
    let keep_alive = plist_entries(get("KeepAlive"));
    assert_eq!(keep_alive.len(), 1);
    assert_eq!(
        (keep_alive[0].0, keep_alive[0].1.name.as_str()),
        ("SuccessfulExit", "false")
    );
    let throttle: u32 = get("ThrottleInterval").text.trim().parse().unwrap();
    assert!(
        (10..=300).contains(&throttle),
        "ThrottleInterval {throttle}"
    );
    for key in ["StandardOutPath", "StandardErrorPath"] {
        let log = get(key).text.trim();
        assert!(log.starts_with("/Library/Logs/Steward/"), "{key} {log}");
    }

    let args = get("ProgramArguments");
    assert_eq!(args.name, "array");
    let argv: Vec<String> = args
        .children
        .iter()
        .map(|s| {
            assert_eq!(s.name, "string");
            s.text.clone()
        })
        .collect();
    assert_eq!(argv[0], BIN);
    let cli = agent_cli(&argv, PLIST);
    assert_eq!(cli.config, Some(data("agent.toml")));
    assert_eq!(cli.state_dir, Some(macos_state_dir()));
    assert_eq!(macos_state_dir(), Path::new(state::MACOS_STATE_DIR));
    match cli.command {
        Command::Run {
            once: false,
            enroll_pending: Some(file),
        } => assert_eq!(file, data("enroll.env")),
        other => panic!("{PLIST}: the daemon must run `run --enroll-pending FILE`, not {other:?}"),
    }
}

#[test]
fn macos_scripts_are_valid_posix_sh() {
    for script in SCRIPTS {
        check_shell_script(script);
    }
}

#[test]
fn every_macos_script_names_the_same_daemon() {
    for script in SCRIPTS {
        let text = read(script);
        let want = if script.ends_with("build-pkg.sh") {
            format!("identifier={LABEL}\n")
        } else {
            format!("label={LABEL}\n")
        };
        assert!(text.contains(&want), "{script} lacks {want:?}");
    }
    let post = read("packaging/macos/scripts/postinstall");
    assert!(post.contains("plist=\"$root/Library/LaunchDaemons/$label.plist\""));
    assert!(post.contains("launchctl bootstrap system \"$plist\""));
    assert!(post.contains(&format!("example=\"$root{EXAMPLE}\"")));
    assert!(post.contains(&format!("bin=\"$root{BIN}\"")));
}

#[test]
fn build_pkg_packs_what_the_daemon_and_scripts_use() {
    let script = read("packaging/macos/build-pkg.sh");
    let mut dests = Vec::new();
    for line in script
        .lines()
        .filter(|l| l.trim_start().starts_with("install -m "))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (src, dest) = (words[3], words[4].trim_matches('"'));
        if !src.starts_with('"') {
            assert!(
                repo().join(src).is_file(),
                "build-pkg.sh packs {src}, which does not exist"
            );
        }
        dests.push(dest.strip_prefix("$root").unwrap_or(dest).to_string());
    }
    for want in [
        BIN.to_string(),
        EXAMPLE.to_string(),
        "/Library/Steward/uninstall.sh".to_string(),
        format!("/Library/LaunchDaemons/{LABEL}.plist"),
    ] {
        assert!(
            dests.contains(&want),
            "build-pkg.sh does not install {want}: {dests:?}"
        );
    }
    assert!(script.contains("--scripts packaging/macos/scripts"));
    assert!(repo().join("packaging/macos/scripts").is_dir());
}

/// A temp dir laid out as the package leaves a Mac, with a stand-in agent.
struct Target {
    dir: tempfile::TempDir,
    calls: PathBuf,
}

impl Target {
    fn new() -> Target {
        let dir = tempfile::tempdir().unwrap();
        let calls = dir.path().join("calls");
        let t = Target { dir, calls };
        let bin = t.path(BIN);
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        std::fs::write(
            &bin,
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >>\"$STEWARD_TEST_CALLS\"\necho '<end>' >>\"$STEWARD_TEST_CALLS\"\n",
        )
        .unwrap();
        set_mode(&bin, 0o755);
        std::fs::copy(repo().join("config/agent.example.toml"), t.path(EXAMPLE)).unwrap();
        let plist = t.path(&format!("/Library/LaunchDaemons/{LABEL}.plist"));
        std::fs::create_dir_all(plist.parent().unwrap()).unwrap();
        std::fs::copy(repo().join(PLIST), plist).unwrap();
        t
    }

    /// `abs` (an absolute macOS path) inside the target.
    fn path(&self, abs: &str) -> PathBuf {
        self.dir.path().join(abs.trim_start_matches('/'))
    }

    fn data(&self, file: &str) -> PathBuf {
        self.path(data(file).to_str().unwrap())
    }

    /// Runs a script with `sh`: pkg scripts get the Installer's arguments, the
    /// uninstaller STEWARD_ROOT.
    fn run(&self, script: &str, args: &[&str]) -> std::process::Output {
        let mut cmd = Process::new("sh");
        cmd.arg(repo().join(script));
        if script.contains("/scripts/") {
            cmd.args(["/tmp/steward-agent.pkg", "/"])
                .arg(self.dir.path());
        } else {
            cmd.env("STEWARD_ROOT", self.dir.path());
        }
        cmd.args(args)
            .env("STEWARD_TEST_CALLS", &self.calls)
            .env_remove("STEWARD_AGENT_CONFIG")
            .env_remove("STEWARD_AGENT_STATE_DIR")
            .output()
            .unwrap()
    }

    /// How the stand-in agent was called, each as argv.
    fn calls(&self) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(&self.calls).unwrap_or_default();
        text.split_terminator("<end>\n")
            .map(|call| {
                let mut argv = vec![BIN.to_string()];
                argv.extend(call.lines().map(str::to_string));
                argv
            })
            .collect()
    }

    /// The one agent call since the last look, parsed with the agent's CLI.
    fn only_call(&self, from: &str) -> steward_agent::cli::Cli {
        let calls = self.calls();
        assert_eq!(calls.len(), 1, "{from}: agent calls {calls:?}");
        let _ = std::fs::remove_file(&self.calls);
        agent_cli(&calls[0], from)
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn ok(out: &std::process::Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{what}: {:?}\n{stderr}", out.status);
    stderr
}

#[test]
fn postinstall_keeps_the_config_protects_the_token_and_enrolls() {
    let t = Target::new();
    ok(
        &t.run("packaging/macos/scripts/preinstall", &[]),
        "preinstall",
    );
    assert!(t.calls().is_empty(), "preinstall ran the agent");

    // An MDM dropped a pending enrollment, world-readable.
    std::fs::create_dir_all(t.data("")).unwrap();
    let pending = t.data("enroll.env");
    std::fs::write(
        &pending,
        "STEWARD_SERVER=https://s.example\nSTEWARD_ENROLL_TOKEN=enr_x\n",
    )
    .unwrap();
    set_mode(&pending, 0o644);
    ok(
        &t.run("packaging/macos/scripts/postinstall", &[]),
        "postinstall",
    );
    let config = t.data("agent.toml");
    assert_eq!(read_file(&config), read("config/agent.example.toml"));
    assert_eq!(mode(&t.path(state::MACOS_STATE_DIR)), 0o700);
    assert_eq!(
        mode(&pending),
        0o600,
        "the token must not stay world-readable"
    );
    assert!(t.path("/Library/Logs/Steward").is_dir());
    let cli = t.only_call("postinstall");
    assert_eq!(cli.config, Some(config.clone()));
    assert_eq!(cli.state_dir, Some(t.path(state::MACOS_STATE_DIR)));
    match cli.command {
        Command::EnrollPending { file } => assert_eq!(file, pending),
        other => panic!("postinstall ran {other:?}, not enroll-pending"),
    }

    // An upgrade keeps the admin's config; with nothing pending the agent is not run.
    std::fs::write(&config, "schedule = \"@hourly\"\n").unwrap();
    std::fs::remove_file(&pending).unwrap();
    let stderr = ok(
        &t.run("packaging/macos/scripts/postinstall", &[]),
        "postinstall again",
    );
    assert_eq!(read_file(&config), "schedule = \"@hourly\"\n");
    assert!(t.calls().is_empty());
    assert!(stderr.contains("not enrolled yet"), "{stderr}");
}

#[test]
fn uninstall_revokes_and_purges_only_when_asked() {
    let t = Target::new();
    ok(
        &t.run("packaging/macos/scripts/postinstall", &[]),
        "postinstall",
    );
    let _ = std::fs::remove_file(&t.calls);

    ok(
        &t.run("packaging/macos/uninstall.sh", &["--revoke"]),
        "uninstall --revoke",
    );
    let cli = t.only_call("uninstall.sh --revoke");
    assert!(
        matches!(cli.command, Command::Deregister),
        "{:?}",
        cli.command
    );
    assert_eq!(cli.config, Some(t.data("agent.toml")));
    assert_eq!(cli.state_dir, Some(t.path(state::MACOS_STATE_DIR)));
    assert!(!t.path("/Library/Steward").exists());
    assert!(
        !t.path(&format!("/Library/LaunchDaemons/{LABEL}.plist"))
            .exists()
    );
    assert!(
        t.data("agent.toml").is_file(),
        "the config goes only with --purge"
    );

    ok(
        &t.run("packaging/macos/uninstall.sh", &["--purge"]),
        "uninstall --purge",
    );
    assert!(t.calls().is_empty(), "no --revoke, no agent call");
    assert!(!t.data("").exists());
    assert!(!t.path("/Library/Logs/Steward").exists());

    let out = t.run("packaging/macos/uninstall.sh", &["--everything"]);
    assert_eq!(out.status.code(), Some(2));
}

fn read_file(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}
