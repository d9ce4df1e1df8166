//! `steward-agent`: the command line, a thin shim over the `steward_agent` library.
#![forbid(unsafe_code)]

use anyhow::{Context, Result};
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use steward_agent::cli::{Cli, Command};
use steward_agent::collect::{self, CollectOptions};
use steward_agent::config::AgentConfig;
use steward_agent::enrollment::{self, PendingEnrollment, PendingOutcome};
use steward_agent::report;
use steward_agent::run;
use steward_agent::schedule::Schedule;
use steward_agent::state::{self, Credentials};
use steward_shared::{CheckinRequest, ReportKind};
use tokio_util::sync::CancellationToken;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    if let Command::PrintDefaultConfig = cli.command {
        let mut out = std::io::stdout().lock();
        ignore_broken_pipe(out.write_all(AgentConfig::default_toml().as_bytes()))?;
        return Ok(ExitCode::SUCCESS);
    }
    // Needs no config: an installer may run it before there is one.
    if let Command::WriteEnrollment {
        file,
        server,
        token,
        ca_cert,
    } = cli.command
    {
        let pending = PendingEnrollment {
            server,
            token,
            ca_cert: ca_cert.filter(|c| !c.is_empty()).map(Into::into),
        };
        enrollment::write_pending(&file, &pending)?;
        println!(
            "Wrote {}; the agent enrolls with it when it starts (`run --enroll-pending`).",
            file.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let config = AgentConfig::load(cli.config.as_deref());
    if let Command::ValidateConfig = cli.command {
        return Ok(validate_config(cli.config.as_deref(), config));
    }
    let config =
        config.context("invalid configuration (check it with `steward-agent validate-config`)")?;
    init_logging(&config.log_level);
    let state_dir = cli
        .state_dir
        .clone()
        .unwrap_or_else(state::default_state_dir);
    match cli.command {
        Command::Enroll {
            server,
            token,
            ca_cert,
        } => {
            let config = AgentConfig {
                ca_cert: ca_cert.or(config.ca_cert),
                ..config
            };
            let creds = runtime()?.block_on(run::enroll(&config, &server, &token, &state_dir))?;
            println!(
                "Enrolled as agent {} with {}.\nStart reporting with `steward-agent run` \
                 (or the steward-agent service).",
                creds.agent_id, creds.server_url
            );
        }
        Command::EnrollPending { file } => {
            let done =
                runtime()?.block_on(enrollment::enroll_pending(&config, &file, &state_dir))?;
            match done {
                PendingOutcome::NoFile => {
                    println!("{}: no pending enrollment.", file.display());
                }
                PendingOutcome::Enrolled(id) => {
                    println!("Enrolled as agent {id}; deleted {}.", file.display());
                }
            }
        }
        Command::Deregister => {
            match runtime()?.block_on(enrollment::deregister(&config, &state_dir))? {
                Some(id) => println!("Agent {id} is revoked on the server; credentials deleted."),
                None => println!("This machine is not enrolled; nothing to revoke."),
            }
        }
        Command::Run {
            once,
            enroll_pending,
        } => {
            let rt = runtime()?;
            if let Some(file) = &enroll_pending {
                rt.block_on(enrollment::enroll_pending_before_run(
                    &config, file, &state_dir,
                ));
            }
            if once {
                let reply = rt.block_on(run::run_once(&config, &state_dir))?;
                println!("Checked in: asset {}.", reply.asset_id);
                return Ok(ExitCode::SUCCESS);
            }
            let result = rt.block_on(async {
                let shutdown = CancellationToken::new();
                tokio::spawn(cancel_on_signal(shutdown.clone()));
                run::run_with_reload(cli.config, config, state_dir, shutdown).await
            });
            match result {
                // A new (or restored) binary is in place: the service manager starts it.
                Err(run::RunError::Restart) => {
                    let code = steward_agent::update::RESTART_EXIT_CODE;
                    return Ok(ExitCode::from(code as u8));
                }
                other => other?,
            }
        }
        Command::Collect {
            wire_size: true, ..
        } => wire_size(&config)?,
        Command::Collect { pretty, .. } => collect_json(&config, pretty)?,
        Command::Ticket { subject, body } => {
            let who = std::env::var("SUDO_USER")
                .or_else(|_| std::env::var("USER"))
                .unwrap_or_default();
            let reply = runtime()?
                .block_on(run::file_ticket(&config, &state_dir, &subject, &body, &who))?;
            println!(
                "Filed ticket #{} for this machine (asset {}).",
                reply.ticket_id, reply.asset_id
            );
        }
        Command::Status => status(cli.config.as_deref(), &config, &state_dir)?,
        Command::ValidateConfig | Command::PrintDefaultConfig | Command::WriteEnrollment { .. } => {
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn validate_config(
    path: Option<&Path>,
    config: Result<AgentConfig, steward_agent::config::ConfigError>,
) -> ExitCode {
    let source = path.map_or("defaults and environment".to_string(), |p| {
        p.display().to_string()
    });
    match config {
        Ok(_) => {
            println!("{source}: OK");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{source}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; `RUST_LOG` overrides the configured level.
fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .init();
}

/// One thread is plenty for an agent that sleeps most of the time. Collections run on
/// blocking threads, which end soon after (not tokio's default 10 s), so that an idle
/// agent is one thread.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_keep_alive(std::time::Duration::from_secs(2))
        .build()
        .context("cannot start the async runtime")
}

/// Cancel `shutdown` on Ctrl-C or SIGTERM.
async fn cancel_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down");
    shutdown.cancel();
}

fn collect_json(config: &AgentConfig, pretty: bool) -> Result<()> {
    let (inventory, health) = collect::collect(&CollectOptions::from(config));
    let report = CheckinRequest {
        inventory,
        health,
        ..Default::default()
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if pretty {
        serde_json::to_writer_pretty(&mut out, &report)
    } else {
        serde_json::to_writer(&mut out, &report)
    };
    ignore_broken_pipe(written.map_err(std::io::Error::from))?;
    ignore_broken_pipe(writeln!(out).and_then(|()| out.flush()))
}

/// Produce reports of this machine into a scratch state directory and print their sizes.
fn wire_size(config: &AgentConfig) -> Result<()> {
    let scratch =
        std::env::temp_dir().join(format!("steward-agent-wire-size-{}", std::process::id()));
    let sizes = report::measure_wire_sizes(&CollectOptions::from(config), &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    let s = sizes.context("cannot produce reports in a scratch directory")?;
    let encoding = if s.full_gzip { "gzip" } else { "plain JSON" };
    let second = match s.second_kind {
        ReportKind::Heartbeat => "heartbeat".to_string(),
        other => {
            format!("unchanged check-in (a {other:?}: something changed between two collections!)")
        }
    };
    println!(
        "full: {} bytes ({encoding}; {} bytes as JSON), {second}: {} bytes, \
         delta with one package upgraded: {} bytes",
        s.full, s.full_json, s.second, s.one_upgrade
    );
    Ok(())
}

/// A reader that went away (`| head`) is not an error.
fn ignore_broken_pipe(result: std::io::Result<()>) -> Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

fn status(config_path: Option<&Path>, config: &AgentConfig, state_dir: &Path) -> Result<()> {
    let creds = Credentials::load(state_dir)?;
    let schedule = Schedule::parse(&config.schedule)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "state dir:        {}", state_dir.display())?;
    match &creds {
        Some(c) => {
            writeln!(out, "enrolled:         yes")?;
            writeln!(out, "agent id:         {}", c.agent_id)?;
            writeln!(
                out,
                "server:           {}",
                run::effective_server_url(config, c)
            )?;
        }
        None => writeln!(
            out,
            "enrolled:         no (run `steward-agent enroll --server URL --token TOKEN`)"
        )?,
    }
    let ca = config
        .ca_cert
        .clone()
        .or_else(|| state::saved_ca_cert(state_dir));
    writeln!(
        out,
        "config:           {}",
        config_path.map_or("(defaults and environment)".to_string(), |p| p
            .display()
            .to_string())
    )?;
    writeln!(
        out,
        "trusted CA:       {}",
        ca.map_or("system roots".to_string(), |p| p.display().to_string())
    )?;
    writeln!(
        out,
        "schedule:         {schedule} (UTC), plus up to {} s jitter",
        config.jitter_secs
    )?;
    match schedule.next_after(chrono::Utc::now()) {
        Some(next) => writeln!(
            out,
            "next run:         {}",
            next.format("%Y-%m-%d %H:%M:%S UTC")
        )?,
        None => writeln!(out, "next run:         never")?,
    }
    writeln!(
        out,
        "collect software: {}",
        if config.collect_software { "yes" } else { "no" }
    )?;
    writeln!(out, "log level:        {}", config.log_level)?;
    Ok(())
}
