//! The Windows and macOS packaging sources, which cannot be built here
//! (`packaging/windows`, `packaging/macos`): their XML is well-formed and has the right
//! schema namespaces; names and paths agree between the files, with the one-liner
//! install script and with the agent's own per-system constants; every agent command
//! line in them parses with the agent's real CLI (`steward_agent::cli::Cli`); the shell
//! scripts pass `sh -n` and shellcheck, and the macOS ones run against a temp dir with a
//! stand-in agent that records how it was called.

mod cmdline;
mod macos;
mod windows;
mod xml;

use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::Command;
use steward_agent::cli::Cli;

/// The repository's root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(rel: &str) -> String {
    let path = repo().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// Parses the XML file `rel`, checking what any XML file of ours must satisfy.
fn parse_xml(rel: &str) -> xml::Doc {
    let doc = xml::parse(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    for c in &doc.comments {
        // XML 1.0 section 2.5: "--" is not allowed inside a comment (easy to write with
        // command-line options; some parsers, like the WiX compiler's, refuse it).
        assert!(!c.contains("--"), "{rel}: a comment contains \"--\": {c}");
    }
    doc
}

/// The agent's CLI applied to `argv` (argv[0] is the program), or a panic saying where
/// the command line came from.
fn agent_cli(argv: &[String], from: &str) -> Cli {
    Cli::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("{from}: {argv:?} does not parse with the agent's CLI: {e}"))
}

/// Runs `sh -n` and shellcheck on a POSIX shell script.
fn check_shell_script(rel: &str) {
    let path = repo().join(rel);
    let out = Command::new("sh").arg("-n").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "sh -n {rel}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("shellcheck")
        .args(["--shell=sh", "--severity=style"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run shellcheck ({e}); `bash tests/setup.sh` installs it")
        });
    assert!(
        out.status.success(),
        "shellcheck {rel}:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert!(
            mode & 0o111 != 0,
            "{rel} is not executable (pkgbuild needs it)"
        );
    }
}

#[test]
fn every_xml_source_is_well_formed_and_in_its_schema() {
    let wxs = parse_xml("packaging/windows/steward-agent.wxs");
    assert_eq!(wxs.root.name, "Wix");
    assert_eq!(
        wxs.root.attr("xmlns"),
        Some("http://wixtoolset.org/schemas/v4/wxs")
    );
    assert!(wxs.root.has_child("Package"));

    let task_text = read("packaging/windows/steward-agent-task.xml");
    // schtasks reads the file in whatever encoding it guesses; ASCII reads the same in all.
    assert!(task_text.is_ascii(), "the task XML must be plain ASCII");
    let task = parse_xml("packaging/windows/steward-agent-task.xml");
    assert_eq!(task.root.name, "Task");
    assert_eq!(
        task.root.attr("xmlns"),
        Some("http://schemas.microsoft.com/windows/2004/02/mit/task")
    );
    for part in [
        "RegistrationInfo",
        "Triggers",
        "Principals",
        "Settings",
        "Actions",
    ] {
        assert!(task.root.has_child(part), "the task has no <{part}>");
    }

    let plist = parse_xml("packaging/macos/com.steward.agent.plist");
    assert_eq!(plist.root.name, "plist");
    assert_eq!(plist.root.attr("version"), Some("1.0"));
    let doctype = plist.doctype.expect("the plist has no DOCTYPE");
    assert!(doctype.contains("-//Apple//DTD PLIST 1.0//EN"), "{doctype}");
    assert_eq!(plist.root.children.len(), 1);
    assert_eq!(plist.root.children[0].name, "dict");
}
