//! The MSI source (`steward-agent.wxs`) and the scheduled task it registers
//! (`steward-agent-task.xml`), checked against each other, the agent's CLI and state
//! directory rule, and the PowerShell one-liner.

use super::cmdline::split_windows;
use super::xml::Node;
use super::{agent_cli, parse_xml, read, repo};
use std::collections::HashMap;
use std::path::PathBuf;
use steward_agent::cli::Command;
use steward_agent::state::{self, Os, StateDirEnv};

const WXS: &str = "packaging/windows/steward-agent.wxs";
const TASK: &str = "packaging/windows/steward-agent-task.xml";
const TASK_NAME: &str = "Steward agent";
// What the folders resolve to on a typical machine.
const PROGRAM_FILES: &str = r"C:\Program Files";
const PROGRAM_DATA: &str = r"C:\ProgramData";
const SYSTEM32: &str = r"C:\Windows\System32";
// Values an admin passes on the msiexec command line.
const SERVER_URL: &str = "https://steward.example.com";
const ENROLL_TOKEN: &str = "enr_token";

/// The agent's own idea of its data and state directories on Windows.
fn data_dir() -> String {
    format!(r"{PROGRAM_DATA}\{}", state::WINDOWS_DATA_SUBDIR)
}

fn state_dir() -> PathBuf {
    let env = StateDirEnv {
        program_data: Some(PROGRAM_DATA.into()),
        ..StateDirEnv::default()
    };
    state::state_dir_for(Os::Windows, &env)
}

/// The WiX source with its folders and files resolved as Windows Installer would.
struct Msi {
    root: Node,
    /// Directory id -> path, with a trailing backslash as MSI has it.
    dirs: HashMap<String, String>,
    /// File id -> installed path.
    files: HashMap<String, String>,
}

impl Msi {
    fn load() -> Msi {
        let root = parse_xml(WXS).root;
        let mut dirs = HashMap::from([
            (
                "ProgramFiles64Folder".to_string(),
                format!(r"{PROGRAM_FILES}\"),
            ),
            (
                "CommonAppDataFolder".to_string(),
                format!(r"{PROGRAM_DATA}\"),
            ),
            ("System64Folder".to_string(), format!(r"{SYSTEM32}\")),
        ]);
        fn walk(node: &Node, parent: &str, dirs: &mut HashMap<String, String>) {
            for d in node.children.iter().filter(|c| c.name == "Directory") {
                let path = format!(r"{parent}{}\", d.req("Name"));
                dirs.insert(d.req("Id").to_string(), path.clone());
                walk(d, &path, dirs);
            }
        }
        let package = root.child("Package");
        for sd in package.all("StandardDirectory") {
            let base = dirs[sd.req("Id")].clone();
            walk(sd, &base, &mut dirs);
        }
        let mut files = HashMap::new();
        for c in package.all("Component") {
            for f in c.children.iter().filter(|f| f.name == "File") {
                let dir = &dirs[c.req("Directory")];
                files.insert(f.req("Id").to_string(), format!("{dir}{}", f.req("Name")));
            }
        }
        Msi { root, dirs, files }
    }

    fn package(&self) -> &Node {
        self.root.child("Package")
    }

    /// Resolves `[Property]`, `[#FileId]` and `[DirectoryId]` references.
    fn format(&self, text: &str, properties: &HashMap<&str, &str>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find('[') {
            out.push_str(&rest[..start]);
            let end = rest[start..].find(']').expect("unclosed [") + start;
            let name = &rest[start + 1..end];
            let value = if let Some(file) = name.strip_prefix('#') {
                self.files.get(file).cloned()
            } else {
                self.dirs
                    .get(name)
                    .cloned()
                    .or_else(|| properties.get(name).map(|v| v.to_string()))
            };
            out.push_str(&value.unwrap_or_else(|| panic!("{text:?}: unknown [{name}]")));
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The command line a custom action runs, as program and arguments.
    fn command_line(&self, ca: &Node, properties: &HashMap<&str, &str>) -> Vec<String> {
        let line = self.format(ca.req("ExeCommand"), properties);
        match ca.attr("FileRef") {
            // Type 18: the installed file, with ExeCommand as its arguments.
            Some(file) => {
                let mut argv = vec![self.files[file].clone()];
                argv.extend(split_windows(&line));
                argv
            }
            // Type 34: ExeCommand is the whole command line.
            None => {
                assert!(ca.attr("Directory").is_some(), "{ca:?}");
                split_windows(&line)
            }
        }
    }
}

fn expand_env(text: &str) -> String {
    let mut out = text.to_string();
    for (var, value) in [
        ("%ProgramFiles%", PROGRAM_FILES),
        ("%ProgramData%", PROGRAM_DATA),
    ] {
        out = out.replace(var, value);
    }
    assert!(
        !out.contains('%'),
        "{text:?}: an unexpected environment variable"
    );
    out
}

#[test]
fn the_task_runs_the_agent_at_boot_as_system_and_restarts_it() {
    let task = parse_xml(TASK).root;
    assert_eq!(
        task.child("RegistrationInfo").text_of("URI"),
        format!(r"\{TASK_NAME}")
    );
    let boot = task.child("Triggers").child("BootTrigger");
    assert_eq!(boot.text_of("Enabled"), "true");
    // A process that exits is started again by the repetition: RestartOnFailure only
    // covers a task that failed to start.
    let repeat = boot.child("Repetition");
    assert!(
        ["PT1M", "PT2M", "PT5M", "PT10M"].contains(&repeat.text_of("Interval")),
        "restart interval {}",
        repeat.text_of("Interval")
    );
    assert!(!repeat.has_child("Duration"), "the repetition must not end");

    let principal = task.child("Principals").child("Principal");
    assert_eq!(principal.text_of("UserId"), "S-1-5-18", "not SYSTEM");
    assert_eq!(principal.text_of("RunLevel"), "HighestAvailable");
    let actions = task.child("Actions");
    assert_eq!(actions.attr("Context"), principal.attr("id"));

    let settings = task.child("Settings");
    for (key, want) in [
        ("MultipleInstancesPolicy", "IgnoreNew"),
        ("ExecutionTimeLimit", "PT0S"),
        ("DisallowStartIfOnBatteries", "false"),
        ("StopIfGoingOnBatteries", "false"),
        ("Enabled", "true"),
    ] {
        assert_eq!(settings.text_of(key), want, "<Settings><{key}>");
    }
    let restart = settings.child("RestartOnFailure");
    let count: u32 = restart.text_of("Count").parse().unwrap();
    assert!(
        (1..=255).contains(&count),
        "Count {count} is outside 1..=255"
    );
    assert!(restart.text_of("Interval").starts_with("PT"));

    let exec = actions.child("Exec");
    let program = expand_env(exec.text_of("Command"));
    let mut argv = vec![program];
    argv.extend(split_windows(&expand_env(exec.text_of("Arguments"))));
    let cli = agent_cli(&argv, TASK);
    assert_eq!(
        cli.config,
        Some(format!(r"{}\agent.toml", data_dir()).into())
    );
    assert_eq!(cli.state_dir, Some(state_dir()));
    match cli.command {
        Command::Run {
            once: false,
            enroll_pending: Some(file),
        } => assert_eq!(file, PathBuf::from(format!(r"{}\enroll.env", data_dir()))),
        other => panic!("{TASK}: the task must run `run --enroll-pending FILE`, not {other:?}"),
    }

    // The MSI installs the binary where the task looks for it.
    let msi = Msi::load();
    assert_eq!(argv[0], msi.files["AgentExe"], "the task's Command");
}

#[test]
fn the_msi_installs_what_the_task_and_the_agent_expect() {
    let msi = Msi::load();
    let package = msi.package();
    assert_eq!(package.attr("Scope"), Some("perMachine"));
    assert_eq!(package.attr("Version"), Some("$(var.Version)"));
    let upgrade = package.req("UpgradeCode");
    assert_eq!(upgrade.len(), 36, "UpgradeCode {upgrade:?} is not a GUID");
    assert!(package.has_child("MajorUpgrade"));

    for id in ["SERVER_URL", "ENROLL_TOKEN", "CA_CERT", "REVOKE_ON_REMOVE"] {
        let p = package.by_id("Property", id);
        assert_eq!(
            p.attr("Secure"),
            Some("yes"),
            "{id} must be Secure to reach the server side"
        );
    }
    let token = package.by_id("Property", "ENROLL_TOKEN");
    assert_eq!(
        token.attr("Hidden"),
        Some("yes"),
        "ENROLL_TOKEN must stay out of the log"
    );

    assert_eq!(msi.dirs["DataFolder"], format!(r"{}\", data_dir()));
    assert_eq!(
        msi.dirs["StateFolder"].trim_end_matches('\\'),
        state_dir().to_str().unwrap()
    );
    assert_eq!(
        msi.files["AgentExe"],
        format!(r"{PROGRAM_FILES}\Steward\steward-agent.exe")
    );
    assert_eq!(
        msi.files["AgentToml"],
        format!(r"{}\agent.toml", data_dir())
    );

    // Sources that are in the repository exist there.
    let sources: HashMap<&str, &str> = package
        .all("File")
        .into_iter()
        .map(|f| (f.req("Id"), f.req("Source")))
        .collect();
    assert_eq!(sources["AgentExe"], "$(var.AgentExe)");
    for (id, want) in [
        ("TaskXml", TASK),
        ("AgentToml", "config/agent.example.toml"),
    ] {
        let rel = sources[id]
            .strip_prefix("$(sys.SOURCEFILEDIR)")
            .unwrap_or_else(|| panic!("{id}: a source relative to the .wxs"))
            .replace('\\', "/");
        let path = repo().join("packaging/windows").join(&rel);
        let (got, want) = (
            path.canonicalize().unwrap(),
            repo().join(want).canonicalize().unwrap(),
        );
        assert_eq!(got, want, "File {id}");
    }

    // The config is the admin's: never overwritten by an upgrade, kept on uninstall.
    let config = package
        .all("Component")
        .into_iter()
        .find(|c| c.children.iter().any(|f| f.attr("Id") == Some("AgentToml")))
        .unwrap();
    assert_eq!(config.attr("NeverOverwrite"), Some("yes"));
    assert_eq!(config.attr("Permanent"), Some("yes"));

    // The data folder (secret, token) is for SYSTEM and Administrators only, not
    // inherited from ProgramData, where Users may read.
    let acl = package
        .all("CreateFolder")
        .into_iter()
        .find(|c| c.has_child("PermissionEx"))
        .expect("no PermissionEx on a folder");
    let component = package
        .all("Component")
        .into_iter()
        .find(|c| c.children.iter().any(|x| std::ptr::eq(x, acl)))
        .unwrap();
    assert_eq!(component.attr("Directory"), Some("DataFolder"));
    let sddl = acl.child("PermissionEx").req("Sddl");
    assert!(
        sddl.starts_with("D:P"),
        "{sddl}: the DACL must be protected"
    );
    let trustees: Vec<&str> = sddl
        .split('(')
        .skip(1)
        .map(|ace| ace.trim_end_matches(')').rsplit(';').next().unwrap())
        .collect();
    assert_eq!(trustees, vec!["SY", "BA"], "{sddl}");

    // What a self-update leaves beside the binary is removed with it.
    let exe = std::path::Path::new("steward-agent.exe");
    let previous = steward_agent::update::swap::previous_path(exe);
    let removed: Vec<&str> = package
        .all("RemoveFile")
        .iter()
        .map(|r| r.req("Name"))
        .collect();
    assert!(removed.contains(&previous.to_str().unwrap()), "{removed:?}");
}

#[test]
fn msi_custom_actions_run_the_real_cli_and_the_task() {
    let msi = Msi::load();
    let package = msi.package();
    let task_xml = &msi.files["TaskXml"];
    let schtasks = format!(r"{SYSTEM32}\schtasks.exe");
    let mut seen = Vec::new();
    for ca_cert in ["", r"C:\certs\ca.pem"] {
        let props = HashMap::from([
            ("SERVER_URL", SERVER_URL),
            ("ENROLL_TOKEN", ENROLL_TOKEN),
            ("CA_CERT", ca_cert),
        ]);
        for ca in package.all("CustomAction") {
            let id = ca.req("Id");
            assert_eq!(
                ca.attr("Impersonate"),
                Some("no"),
                "{id} must run as SYSTEM"
            );
            assert!(
                matches!(ca.attr("Execute"), Some("deferred" | "rollback")),
                "{id}: only deferred actions may change the machine"
            );
            let argv = msi.command_line(ca, &props);
            let from = format!("{WXS} CustomAction {id}");
            if ca.attr("FileRef") == Some("AgentExe") {
                let cli = agent_cli(&argv, &from);
                match (id, cli.command) {
                    (
                        "WriteEnrollment",
                        Command::WriteEnrollment {
                            file,
                            server,
                            token,
                            ca_cert: ca_arg,
                        },
                    ) => {
                        assert_eq!(file, PathBuf::from(format!(r"{}\enroll.env", data_dir())));
                        assert_eq!(
                            (server.as_str(), token.as_str()),
                            (SERVER_URL, ENROLL_TOKEN)
                        );
                        assert_eq!(ca_arg.as_deref(), Some(ca_cert));
                        assert_eq!(
                            ca.attr("HideTarget"),
                            Some("yes"),
                            "the token would be logged"
                        );
                        assert_eq!(ca.attr("Return"), Some("check"));
                    }
                    ("Deregister", Command::Deregister) => {
                        assert_eq!(
                            cli.config,
                            Some(format!(r"{}\agent.toml", data_dir()).into())
                        );
                        assert_eq!(cli.state_dir, Some(state_dir()));
                        assert_eq!(
                            ca.attr("Return"),
                            Some("ignore"),
                            "removal must not fail on it"
                        );
                    }
                    (id, other) => panic!("{id}: unexpected agent command {other:?}"),
                }
            } else {
                assert_eq!(argv[0], schtasks, "{id}");
                let tn = argv.iter().position(|a| a == "/TN").expect("no /TN");
                assert_eq!(argv[tn + 1], TASK_NAME, "{id}");
                if argv[1] == "/Create" {
                    let xml = argv.iter().position(|a| a == "/XML").expect("no /XML");
                    assert_eq!(&argv[xml + 1], task_xml, "{id}");
                    assert!(
                        argv.contains(&"/F".to_string()),
                        "{id}: /F replaces an old task"
                    );
                }
            }
            seen.push(id.to_string());
        }
    }
    for id in [
        "WriteEnrollment",
        "Deregister",
        "RegisterTask",
        "DeleteTask",
        "StopTask",
    ] {
        assert!(seen.iter().any(|s| s == id), "no custom action {id}");
    }
}

#[test]
fn msi_custom_actions_run_in_the_right_order_and_cases() {
    let msi = Msi::load();
    let package = msi.package();
    let customs = package.child("InstallExecuteSequence").all("Custom");
    let actions: Vec<&str> = package
        .all("CustomAction")
        .iter()
        .map(|c| c.req("Id"))
        .collect();
    for id in &actions {
        let n = customs.iter().filter(|c| c.req("Action") == *id).count();
        assert_eq!(n, 1, "{id} is scheduled {n} times");
    }
    let after: HashMap<&str, &str> = customs
        .iter()
        .map(|c| (c.req("Action"), c.req("After")))
        .collect();
    // (standard action it follows, position after it).
    let place = |id: &str| {
        let (mut at, mut steps) = (id.to_string(), 0);
        while let Some(prev) = after.get(at.as_str()) {
            at = prev.to_string();
            steps += 1;
            assert!(steps <= after.len(), "{id}: the After= chain has a cycle");
        }
        (at, steps)
    };
    let condition = |id: &str| {
        customs
            .iter()
            .find(|c| c.req("Action") == id)
            .and_then(|c| c.attr("Condition"))
            .unwrap_or("")
    };
    // Before files change: stop the agent, revoke, delete the task.
    for id in ["DisableTask", "StopTask", "Deregister", "DeleteTask"] {
        assert_eq!(place(id).0, "InstallInitialize", "{id}");
    }
    assert!(place("StopTask").1 < place("Deregister").1);
    assert!(place("Deregister").1 < place("DeleteTask").1);
    // After the files: write the enrollment before the task can first run.
    for id in ["WriteEnrollment", "RegisterTask", "StartTask"] {
        assert_eq!(place(id).0, "InstallFiles", "{id}");
    }
    assert!(place("WriteEnrollment").1 < place("RegisterTask").1);
    assert!(place("RegisterTask").1 < place("StartTask").1);
    // Each rollback action comes just before the action it undoes.
    for (rollback, action) in [
        ("RegisterTaskRollback", "RegisterTask"),
        ("DeleteTaskRollback", "DeleteTask"),
        ("DisableTaskRollback", "DisableTask"),
    ] {
        assert_eq!(after[action], rollback);
    }

    let deregister = condition("Deregister");
    for part in [
        "REMOVE~=\"ALL\"",
        "NOT UPGRADINGPRODUCTCODE",
        "REVOKE_ON_REMOVE=\"1\"",
    ] {
        assert!(
            deregister.contains(part),
            "Deregister condition {deregister:?} lacks {part}"
        );
    }
    assert!(condition("DeleteTask").starts_with("REMOVE~=\"ALL\""));
    let write = condition("WriteEnrollment");
    for part in ["NOT REMOVE~=\"ALL\"", "SERVER_URL", "ENROLL_TOKEN"] {
        assert!(
            write.contains(part),
            "WriteEnrollment condition {write:?} lacks {part}"
        );
    }
    for id in ["RegisterTask", "StartTask"] {
        assert_eq!(condition(id), "NOT REMOVE~=\"ALL\"", "{id}");
    }
}

#[test]
fn the_powershell_one_liner_registers_the_same_task_and_folders() {
    let ps1 = read("packaging/install/agent.ps1");
    for want in [
        format!("-TaskName '{TASK_NAME}'"),
        "Join-Path $env:ProgramFiles 'Steward'".to_string(),
        format!(
            "Join-Path $env:ProgramData '{}'",
            state::WINDOWS_DATA_SUBDIR
        ),
        "Join-Path $data 'state'".to_string(),
        "Join-Path $data 'agent.toml'".to_string(),
    ] {
        assert!(
            ps1.contains(&want),
            "agent.ps1 no longer has {want:?}: MSI and one-liner differ"
        );
    }
}
