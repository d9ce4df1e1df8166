//! The `steward-agent` command line (clap). `main.rs` parses it and runs the command; it
//! lives in the library so that tests can check that the command lines written in
//! packaging files (the Windows task, the macOS launchd plist, install scripts) parse
//! with the real CLI.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Reports this machine's inventory and health to a Steward server.
#[derive(Debug, Parser)]
#[command(name = "steward-agent", version, about)]
pub struct Cli {
    /// Config file (TOML; see `print-default-config`).
    #[arg(long, global = true, env = "STEWARD_AGENT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the credentials are kept [default: as root /var/lib/steward-agent on Linux,
    /// /Library/Application Support/Steward/state on macOS; %ProgramData%\Steward\state
    /// on Windows; else ~/.local/state/steward-agent].
    #[arg(
        long,
        global = true,
        env = "STEWARD_AGENT_STATE_DIR",
        value_name = "DIR"
    )]
    pub state_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register this machine with a server, using an enrollment token.
    Enroll {
        /// Server URL, e.g. https://steward.example.com
        #[arg(long, value_name = "URL")]
        server: String,
        /// Enrollment token from `steward-server enrollment create`.
        #[arg(
            long,
            env = "STEWARD_AGENT_TOKEN",
            hide_env_values = true,
            value_name = "T"
        )]
        token: String,
        /// PEM file with the CA certificate that signed the server's certificate.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
    },
    /// Enroll with the server and token written in FILE (`STEWARD_SERVER=`,
    /// `STEWARD_ENROLL_TOKEN=`, optional `STEWARD_CA_CERT=`), then delete FILE. Does
    /// nothing when FILE does not exist. Packages and the service use it.
    EnrollPending {
        #[arg(value_name = "FILE", default_value = "/etc/steward-agent/enroll.env")]
        file: PathBuf,
    },
    /// Write FILE for a later `enroll-pending` or `run --enroll-pending`, readable by
    /// this user only. For installers that cannot write files themselves (the MSI):
    /// nothing is sent to the server.
    WriteEnrollment {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Server URL, e.g. https://steward.example.com
        #[arg(long, value_name = "URL")]
        server: String,
        /// Enrollment token from `steward-server enrollment create`.
        #[arg(
            long,
            env = "STEWARD_AGENT_TOKEN",
            hide_env_values = true,
            value_name = "T"
        )]
        token: String,
        /// PEM file with the CA certificate that signed the server's certificate. Empty
        /// means none (an installer passing an unset property).
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<String>,
    },
    /// Ask the server to revoke this agent (the machine leaves the fleet) and forget the
    /// credentials.
    Deregister,
    /// Check in now and then on the schedule, until stopped.
    Run {
        /// Check in once and exit.
        #[arg(long)]
        once: bool,
        /// First enroll from FILE if it exists, as `enroll-pending FILE` does. When that
        /// fails (server unreachable) the agent goes on if it is enrolled, else exits
        /// with an error so that the service manager tries again later.
        #[arg(long, value_name = "FILE")]
        enroll_pending: Option<PathBuf>,
    },
    /// Print the inventory and health as JSON (no server needed).
    Collect {
        /// Indent the JSON.
        #[arg(long)]
        pretty: bool,
        /// Print how many bytes a full report and an unchanged check-in take on the wire
        /// (for the benchmarks) instead of the JSON.
        #[arg(long, hide = true, conflicts_with = "pretty")]
        wire_size: bool,
    },
    /// File a support ticket from this machine, linked to it, with its health attached.
    Ticket {
        /// What is wrong, in a few words.
        subject: String,
        /// More detail.
        #[arg(long, default_value = "")]
        body: String,
    },
    /// Show enrollment, configuration and the next scheduled run.
    Status,
    /// Check the configuration; exit 1 with the reason if it is invalid.
    ValidateConfig,
    /// Print a config file with every key and its default.
    PrintDefaultConfig,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_a_pending_enrollment_file() {
        let cli = Cli::try_parse_from([
            "steward-agent",
            "--config",
            "/c/agent.toml",
            "run",
            "--enroll-pending",
            "/c/enroll.env",
        ])
        .unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("/c/agent.toml")));
        match cli.command {
            Command::Run {
                once: false,
                enroll_pending: Some(f),
            } => assert_eq!(f, PathBuf::from("/c/enroll.env")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn write_enrollment_accepts_an_empty_ca_cert() {
        let cli = Cli::try_parse_from([
            "steward-agent",
            "write-enrollment",
            "/c/enroll.env",
            "--server",
            "https://s.example",
            "--token",
            "enr_x",
            "--ca-cert",
            "",
        ])
        .unwrap();
        match cli.command {
            Command::WriteEnrollment { ca_cert, .. } => assert_eq!(ca_cert.as_deref(), Some("")),
            other => panic!("{other:?}"),
        }
    }
}
