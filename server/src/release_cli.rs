//! `steward-server release ...`: the release key, signing a build, storing a signed
//! build. Included by `main.rs`; the work is in `steward_server::signed_releases`.

use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ReleaseCommand {
    /// Make an ed25519 release key pair in DIR (private key mode 0600); print the public
    /// key for the agents' `update.public_keys`.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a build: writes a detached signature (base64) to --out (default FILE.sig).
    Sign {
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        version: String,
        #[arg(long)]
        os: String,
        #[arg(long)]
        arch: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Store a signed build under the data directory and record the release (offered to
    /// nobody until its rollout is set, unless --percentage).
    Add {
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        sig: PathBuf,
        #[arg(long)]
        version: String,
        #[arg(long)]
        os: String,
        #[arg(long)]
        arch: String,
        #[arg(long, default_value_t = 0)]
        percentage: u8,
    },
}

/// Keygen and sign need no data directory; `None` when `cmd` needs one.
pub fn offline(cmd: &ReleaseCommand) -> Option<anyhow::Result<()>> {
    use steward_server::signed_releases;
    match cmd {
        ReleaseCommand::Keygen { out } => Some((|| {
            let public = signed_releases::keygen(out)?;
            eprintln!(
                "Wrote {} (keep it secret, off the server) and {}.",
                out.join(signed_releases::PRIVATE_KEY_FILE).display(),
                out.join(signed_releases::PUBLIC_KEY_FILE).display()
            );
            eprintln!("Agents trust it with: [update] public_keys = [\"{public}\"]");
            println!("{public}");
            Ok(())
        })()),
        ReleaseCommand::Sign {
            key,
            file,
            version,
            os,
            arch,
            out,
        } => Some((|| {
            let sig = signed_releases::sign(key, file, version, os, arch)?;
            let out = out.clone().unwrap_or_else(|| {
                let mut p = file.clone().into_os_string();
                p.push(".sig");
                PathBuf::from(p)
            });
            std::fs::write(&out, format!("{sig}\n"))?;
            println!("{}", out.display());
            Ok(())
        })()),
        ReleaseCommand::Add { .. } => None,
    }
}

/// `release add`, with the server's database and data directory.
pub fn add(
    db: &steward_server::db::Db,
    config: &steward_server::config::ServerConfig,
    cmd: ReleaseCommand,
) -> anyhow::Result<()> {
    let data_dir = &config.server.data_dir;
    if let ReleaseCommand::Add {
        file,
        sig,
        version,
        os,
        arch,
        percentage,
    } = cmd
    {
        let signature = std::fs::read_to_string(&sig)?;
        let meta = steward_server::signed_releases::ReleaseMeta {
            version: version.clone(),
            os: os.clone(),
            arch: arch.clone(),
        };
        let id = steward_server::signed_releases::add_trusted(
            db,
            data_dir,
            &file,
            &signature,
            &meta,
            percentage,
            &config.agent_releases.public_keys,
        )?;
        println!("{id}");
        eprintln!(
            "Release {id} ({version}, {os}/{arch}) stored, offered to {percentage}% of agents; \
             roll it out with PATCH /api/v1/agent-releases/{id}."
        );
    }
    Ok(())
}
