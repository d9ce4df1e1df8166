//! The server under load: the release `steward-server` binary as a child process on its
//! own data directory, so that its memory and CPU can be read from `/proc` apart from the
//! load generator's.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Password of the technician whose token the UI probe uses.
const TECH_PASSWORD: &str = "loadgen-technician-password-1";
const TECH_EMAIL: &str = "loadgen-tech@example.invalid";

pub struct Server {
    child: Child,
    pub base: String,
    bin: PathBuf,
    data_dir: PathBuf,
}

/// Memory and CPU of a process, from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcStats {
    pub rss_kib: u64,
    /// Peak resident set size.
    pub hwm_kib: u64,
    /// User plus system CPU time.
    pub cpu_secs: f64,
}

/// Reads `/proc/<pid>` (`self` for this process).
pub fn proc_stats(pid: &str) -> ProcStats {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime is 14th, stime 15th.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    ProcStats {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
        // Linux reports CPU time in USER_HZ, 100 per second.
        cpu_secs: (ticks(11) + ticks(12)) as f64 / 100.0,
    }
}

/// Runs a `steward-server` subcommand on `data_dir` and returns its standard output.
pub fn cli(
    bin: &Path,
    data_dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(env.iter().copied())
        .env("STEWARD_LOG__LEVEL", "warn")
        .output()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "steward-server {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Creates the technician and returns an API token for them.
pub fn technician_token(bin: &Path, data_dir: &Path) -> anyhow::Result<String> {
    cli(
        bin,
        data_dir,
        &[
            "user",
            "add",
            "--email",
            TECH_EMAIL,
            "--name",
            "Load Test",
            "--role",
            "technician",
        ],
        &[("STEWARD_PASSWORD", TECH_PASSWORD)],
    )?;
    let out = cli(
        bin,
        data_dir,
        &["token", "create", "--email", TECH_EMAIL],
        &[],
    )?;
    out.lines()
        .last()
        .map(str::to_owned)
        .context("token create printed nothing")
}

impl Server {
    /// Starts `bin serve` on a free port and waits until `/healthz` answers.
    pub async fn start(
        bin: &Path,
        data_dir: &Path,
        env: &[(&str, String)],
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(data_dir.join("server.log"))?;
        let child = Command::new(bin)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data_dir)
            .env("STEWARD_ADMIN_PASSWORD", "loadgen-admin-password-1")
            .env("STEWARD_LOG__LEVEL", "warn")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            bin: bin.to_owned(),
            data_dir: data_dir.to_owned(),
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(r) = http.get(format!("{}/healthz", server.base)).send().await
                && r.status().is_success()
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!(
                    "the server did not answer /healthz within 2 minutes; see {}",
                    data_dir.join("server.log").display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub fn stats(&self) -> ProcStats {
        proc_stats(&self.pid())
    }

    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// Asks the server to stop (SIGTERM, as systemd does) and waits for it.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let _ = Command::new("kill").arg(self.pid()).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill()?;
        bail!(
            "the server did not stop within a minute of SIGTERM; see {}",
            self.data_dir.join("server.log").display()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn file_len(path: PathBuf) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Bytes of the database file, without its WAL (which is reused, not grown, once the
/// pages in it are copied into the database).
pub fn database_bytes(data_dir: &Path) -> u64 {
    file_len(data_dir.join("steward.db"))
}

/// Bytes of the WAL file.
pub fn wal_bytes(data_dir: &Path) -> u64 {
    file_len(data_dir.join("steward.db-wal"))
}
