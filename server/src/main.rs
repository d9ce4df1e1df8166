//! `steward-server`: a thin command line over the `steward_server` library.
#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use steward_server::config::{Overrides, ServerConfig};
use steward_server::domain::roles::Role;
use steward_server::{accounts, db, imports};
use tokio_util::sync::CancellationToken;

mod backup_cli;
mod release_cli;
use release_cli::ReleaseCommand;

#[derive(Parser)]
#[command(
    name = "steward-server",
    version,
    about = "Steward: IT assets, facilities and service desk"
)]
struct Cli {
    /// Configuration file (TOML). Env: STEWARD_CONFIG.
    #[arg(long, global = true, env = "STEWARD_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (database, attachments). Default ./steward-data.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Run the server with this machine's own agent enrolled and reporting.
    Quickstart {
        #[arg(long)]
        listen: Option<String>,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage enrollment tokens for agents.
    #[command(subcommand)]
    Enrollment(EnrollmentCommand),
    /// Manage enrolled agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Preventive maintenance.
    #[command(subcommand)]
    Maintenance(MaintenanceCommand),
    /// Signed agent releases: keygen, sign, add.
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Apply database migrations and exit.
    Migrate,
    /// Write a backup to a new file: a consistent snapshot of the database (safe while the
    /// server runs), the attachment files and signed release binaries it refers to, and
    /// the install one-liner's agent binaries, as a tar archive with a manifest of
    /// checksums. Progress goes to stderr.
    Backup {
        /// The archive to write; it must not exist yet.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into the data directory. Checks the whole archive first; refused
    /// while a server uses the data directory, and if it already has data unless --force.
    Restore {
        /// The archive written by `steward-server backup`.
        #[arg(long)]
        from: PathBuf,
        /// Move the current database, attachments and agent binaries aside (to
        /// <data dir>/replaced-<time>/) instead of refusing.
        #[arg(long)]
        force: bool,
    },
    /// Import assets from a CSV file: our own export, Snipe-IT's asset export as it is, or
    /// any CSV with a mapping. Progress goes to stderr, the bad rows to stdout at the end.
    ImportAssets {
        /// The CSV file (UTF-8; comma, semicolon or tab separated; header row first).
        file: PathBuf,
        /// Check every row and import nothing; exits with status 2 if any row is invalid.
        #[arg(long)]
        dry_run: bool,
        /// Column -> field overrides as a JSON object, e.g. '{"Device": "name"}'.
        #[arg(long)]
        mapping: Option<String>,
        /// The asset type (key or name) for rows whose type or category is empty or unknown.
        #[arg(long)]
        default_type: Option<String>,
        /// Create the locations the file names that do not exist yet.
        #[arg(long)]
        create_locations: bool,
    },
    /// Check the configuration and exit.
    ValidateConfig,
    /// Print the default configuration, with comments.
    PrintDefaultConfig,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password comes from STEWARD_PASSWORD or a prompt.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: Role,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (shown once).
    Create {
        #[arg(long)]
        email: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Expiry such as 30d; none by default.
        #[arg(long)]
        expires: Option<String>,
        /// `read` (GET only, for reports and dashboards) or `write`.
        #[arg(long, default_value = "write")]
        scope: db::tokens::Scope,
    },
}

#[derive(Subcommand)]
enum EnrollmentCommand {
    /// Create an enrollment token and print it (shown once).
    Create {
        /// How many agents may enroll with it.
        #[arg(long, default_value_t = 1)]
        uses: u32,
        /// Expiry such as 24h or 7d; none by default.
        #[arg(long)]
        expires: Option<String>,
    },
}

#[derive(Subcommand)]
enum MaintenanceCommand {
    /// Generate the work orders due now, record missed ones and escalate overdue work (what
    /// the running server does every `maintenance.interval_secs`), and print what it did.
    /// Safe while the server runs: a work order is never generated twice.
    Run {
        /// Evaluate as of this time instead of now (RFC 3339, e.g. 2027-03-01T09:00:00Z).
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Revoke an agent: its check-ins are refused from now on.
    Revoke { id: String },
}

fn load_config(cli: &Cli, listen: Option<String>) -> anyhow::Result<ServerConfig> {
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        listen,
    };
    Ok(ServerConfig::load(
        cli.config.as_deref(),
        std::env::vars(),
        &overrides,
    )?)
}

fn init_logging(config: &ServerConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        t.cancel();
                        return;
                    }
                };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        t.cancel();
    });
    token
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("STEWARD_PASSWORD") {
        return Ok(p);
    }
    let p = rpassword::prompt_password("Password (at least 12 characters): ")?;
    let again = rpassword::prompt_password("Repeat: ")?;
    if p != again {
        bail!("the passwords differ; try again");
    }
    Ok(p)
}

fn parse_expiry(e: Option<&str>) -> anyhow::Result<Option<i64>> {
    e.map(db::enrollment::parse_duration)
        .transpose()
        .map_err(anyhow::Error::msg)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    steward_server::install_crypto_provider();
    match &cli.command {
        Command::PrintDefaultConfig => {
            print!("{}", ServerConfig::default_toml());
            return Ok(());
        }
        Command::Release(cmd) => {
            if let Some(done) = release_cli::offline(cmd) {
                return done;
            }
        }
        Command::ValidateConfig => {
            let config = load_config(&cli, None)?;
            println!(
                "configuration is valid (data dir {}, listening on {})",
                config.server.data_dir.display(),
                config.server.listen
            );
            return Ok(());
        }
        _ => {}
    }
    let listen = match &cli.command {
        Command::Serve { listen } | Command::Quickstart { listen } => listen.clone(),
        _ => None,
    };
    let config = load_config(&cli, listen)?;
    init_logging(&config);
    let data_dir = config.server.data_dir.clone();
    match &cli.command {
        Command::Backup { to } => return backup_cli::backup(data_dir, to.clone()).await,
        Command::Restore { from, force } => {
            return backup_cli::restore(data_dir, from.clone(), *force).await;
        }
        _ => {}
    }
    let state = tokio::task::spawn_blocking(move || steward_server::open(config)).await??;
    let db = state.db.clone();
    match cli.command {
        Command::Serve { .. } | Command::Quickstart { .. } => {
            let quick = matches!(cli.command, Command::Quickstart { .. });
            run_server(state, quick).await?;
        }
        Command::User(UserCommand::Add { email, name, role }) => {
            let password = read_password()?;
            let id = tokio::task::spawn_blocking(move || {
                accounts::add_user(&db, &email, &name, role, &password)
            })
            .await??;
            println!("created user {id} ({role})");
        }
        Command::Token(TokenCommand::Create {
            email,
            name,
            expires,
            scope,
        }) => {
            let exp = parse_expiry(expires.as_deref())?;
            let token = tokio::task::spawn_blocking(move || {
                accounts::create_scoped_api_token(&db, &email, &name, exp, scope)
            })
            .await??;
            println!("{token}");
            eprintln!(
                "Keep this token secret; it is shown only once. Use it as `Authorization: Bearer <token>`."
            );
        }
        Command::Enrollment(EnrollmentCommand::Create { uses, expires }) => {
            let exp = parse_expiry(expires.as_deref())?;
            let token = tokio::task::spawn_blocking(move || {
                accounts::create_enrollment_token(&db, uses, exp)
            })
            .await??;
            println!("{token}");
            eprintln!("On each machine: steward-agent enroll --server URL --token {token}");
        }
        Command::Agent(AgentCommand::Revoke { id }) => {
            let done =
                tokio::task::spawn_blocking(move || accounts::revoke_agent(&db, &id)).await??;
            if !done {
                bail!("no active agent with that id");
            }
            println!("agent revoked");
        }
        Command::Maintenance(MaintenanceCommand::Run { at }) => {
            let now = match at {
                None => steward_server::clock::now(),
                Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
                    .with_context(|| format!("--at {t:?} is not a time like 2027-03-01T09:00:00Z"))?
                    .timestamp(),
            };
            let pass = steward_server::maintenance::evaluate(&state, now).await?;
            println!(
                "maintenance evaluated: {} work orders generated, {} missed, {} escalated ({} schedules added, {} removed, {} computed)",
                pass.generated,
                pass.missed,
                pass.escalated,
                pass.schedules_added,
                pass.schedules_removed,
                pass.computed
            );
        }
        Command::Release(cmd) => {
            let config = state.config.clone();
            tokio::task::spawn_blocking(move || release_cli::add(&db, &config, cmd)).await??;
        }
        Command::Migrate => println!("database is at schema version {}", db::migrations::latest()),
        Command::ImportAssets {
            file,
            dry_run,
            mapping,
            default_type,
            create_locations,
        } => {
            let mapping = mapping
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .context("--mapping must be a JSON object like '{\"Device\": \"name\"}'")?;
            let opts = imports::Options {
                dry_run,
                mapping,
                default_type,
                create_locations,
                max_errors: 0,
            };
            if import_assets(db, &file, opts).await? {
                std::process::exit(2);
            }
        }
        Command::ValidateConfig
        | Command::PrintDefaultConfig
        | Command::Backup { .. }
        | Command::Restore { .. } => {}
    }
    Ok(())
}

/// Runs a CSV import with progress on stderr and prints the report; true when a dry run
/// found invalid rows.
async fn import_assets(db: db::Db, file: &Path, opts: imports::Options) -> anyhow::Result<bool> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let now = steward_server::clock::now();
    let o = opts.clone();
    let (report, took) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut shown = started;
        let mut progress = |done: usize, total: usize| {
            if done < total && shown.elapsed() < Duration::from_millis(250) {
                return;
            }
            shown = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            eprint!(
                "\r{done} / {total} rows, {:.1} s, {:.0} rows/s   ",
                secs,
                done as f64 / secs.max(1e-9)
            );
        };
        let report =
            imports::import_blocking(&db, &bytes, &o, "cli:import-assets", now, &mut progress);
        eprintln!();
        (report, started.elapsed())
    })
    .await?;
    let report = report?.map_err(|e| anyhow::anyhow!("{} ({})", e.message, e.code))?;
    let rate = report.rows as f64 / took.as_secs_f64().max(1e-9);
    if report.dry_run {
        println!(
            "dry run: {} rows, {} valid, {} invalid; nothing imported ({:.1} s, {rate:.0} rows/s)",
            report.rows,
            report.valid,
            report.invalid,
            took.as_secs_f64()
        );
    } else {
        println!(
            "imported {} of {} rows; {} invalid rows skipped ({:.1} s, {rate:.0} rows/s)",
            report.imported,
            report.rows,
            report.invalid,
            took.as_secs_f64()
        );
    }
    if report.locations_created > 0 {
        let verb = if report.dry_run { "would be" } else { "were" };
        println!("{} locations {verb} created", report.locations_created);
    }
    for e in &report.errors {
        match &e.column {
            Some(c) => println!("row {} ({c}): {}: {}", e.row, e.code, e.message),
            None => println!("row {}: {}: {}", e.row, e.code, e.message),
        }
    }
    Ok(report.dry_run && report.invalid > 0)
}

async fn run_server(state: steward_server::AppState, quickstart: bool) -> anyhow::Result<()> {
    let config = state.config.clone();
    let db = state.db.clone();
    let email = config.auth.admin_email.clone();
    let env_password = std::env::var("STEWARD_ADMIN_PASSWORD").ok();
    let generated =
        tokio::task::spawn_blocking(move || accounts::ensure_admin(&db, &email, env_password))
            .await??;
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: is another server running? Choose another with --listen",
                config.server.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let scheme = if config.tls.cert.is_some() {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://{addr}");
    let shutdown = shutdown_on_signal();
    let server = tokio::spawn(steward_server::serve(
        listener,
        state.clone(),
        shutdown.clone(),
    ));
    tracing::info!(%addr, data_dir = %config.server.data_dir.display(), "Steward server listening");
    println!("Steward is running at {url}");
    match &generated {
        Some(p) => println!(
            "  Sign in as {} with password {p}\n  (shown once; set STEWARD_ADMIN_PASSWORD to choose it)",
            config.auth.admin_email
        ),
        None => println!(
            "  Sign in as {} (or any user you created)",
            config.auth.admin_email
        ),
    }
    if quickstart {
        match steward_server::quickstart::start_local_agent(&state, &url, shutdown.clone()).await {
            Ok(s) => println!(
                "  This machine reports as asset {}: {}/assets/{}",
                s.asset_id, s.url, s.asset_id
            ),
            Err(e) => eprintln!("  The built-in agent could not report: {e:#}"),
        }
    }
    server.await??;
    Ok(())
}
