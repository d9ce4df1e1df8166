//! `steward-server backup` and `restore` as an operator sees them: a progress line on
//! stderr and a summary on stdout. Included by `main.rs`; the work is in
//! `steward_server::backup`.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use steward_server::backup;

/// A progress line on stderr, redrawn at most four times a second and at the end.
struct ProgressLine {
    verb: &'static str,
    started: Instant,
    shown: Option<Instant>,
}

impl ProgressLine {
    fn new(verb: &'static str) -> ProgressLine {
        ProgressLine {
            verb,
            started: Instant::now(),
            shown: None,
        }
    }

    fn update(&mut self, p: &backup::Progress) {
        let done = p.files_total > 0 && p.files_done == p.files_total;
        if !done
            && self
                .shown
                .is_some_and(|s| s.elapsed() < Duration::from_millis(250))
        {
            return;
        }
        self.shown = Some(Instant::now());
        let files = match p.files_total {
            0 => format!("{} files", p.files_done),
            n => format!("{} / {n} files", p.files_done),
        };
        eprint!(
            "\r{} {files}, {:.1} / {:.1} MB, {:.1} s   ",
            self.verb,
            p.bytes_done as f64 / 1e6,
            p.bytes_total as f64 / 1e6,
            self.started.elapsed().as_secs_f64()
        );
    }

    /// Ends the line, if one was drawn.
    fn finish(&self) {
        if self.shown.is_some() {
            eprintln!();
        }
    }
}

pub async fn backup(data_dir: PathBuf, to: PathBuf) -> anyhow::Result<()> {
    let now = steward_server::clock::now();
    let summary = tokio::task::spawn_blocking(move || {
        let mut line = ProgressLine::new("backed up");
        let r = backup::create(&data_dir, &to, now, &mut |p| line.update(p));
        line.finish();
        r
    })
    .await??;
    println!(
        "backup written to {}: the database (schema {}), {} attachment files and {}, {:.1} MB, as of {}",
        summary.path.display(),
        summary.manifest.schema_version,
        summary.attachments,
        agent_binaries(summary.signed_releases, summary.install_binaries),
        summary.bytes as f64 / 1e6,
        summary.manifest.created_at
    );
    println!(
        "Restore it with: steward-server restore --from {} --data-dir DIR",
        summary.path.display()
    );
    Ok(())
}

/// "3 agent binaries (1 signed release, 2 for the install one-liner)".
fn agent_binaries(signed: usize, install: usize) -> String {
    format!(
        "{} agent binaries ({signed} signed release, {install} for the install one-liner)",
        signed + install
    )
}

pub async fn restore(data_dir: PathBuf, from: PathBuf, force: bool) -> anyhow::Result<()> {
    let now = steward_server::clock::now();
    let dir = data_dir.clone();
    let done = tokio::task::spawn_blocking(move || {
        let mut line = ProgressLine::new("restored");
        let r = backup::restore(
            &from,
            &dir,
            backup::RestoreOptions { force },
            now,
            &mut |p| line.update(p),
        );
        line.finish();
        r
    })
    .await??;
    println!(
        "restored the backup of {} (steward-server {}, schema {}) into {}: the database, {} attachment files and {}",
        done.manifest.created_at,
        done.manifest.server_version,
        done.manifest.schema_version,
        data_dir.display(),
        done.attachments,
        agent_binaries(done.signed_releases, done.install_binaries)
    );
    if !done.missing_releases.is_empty() {
        println!(
            "This backup (format {}) holds no agent binaries, and {} has none for the signed \
             releases {}: agents offered them cannot download them until each build is put \
             back as {}/<its sha256>.",
            done.manifest.format_version,
            data_dir.display(),
            done.missing_releases.join("; "),
            data_dir
                .join(steward_server::signed_releases::DIR)
                .display()
        );
    }
    if let Some(aside) = &done.moved_aside {
        println!(
            "The data that was there before is in {}; delete it once you are sure.",
            aside.display()
        );
    }
    println!(
        "Start the server on it: steward-server serve --data-dir {}",
        data_dir.display()
    );
    Ok(())
}
