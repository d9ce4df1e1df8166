//! `legacy-bench`: how many FusionInventory XML inventories per second the legacy
//! endpoint stores. Starts the real server in-process on `127.0.0.1:0` with
//! `[legacy_inventory]` on, makes `--devices` distinct devices from this machine's own
//! FusionInventory 2.6 inventory ([`documents`]), and has `--concurrency` clients send
//! each device's PROLOG and INVENTORY over HTTP twice ([`load`]): (a) first inventories,
//! each creating an asset, (b) the same devices with a few packages upgraded. Then (c)
//! parses the documents in-process without a database, and stores some one at a time into
//! a scratch database ([`phases`]), to show where the time goes. See bench/README.md.

pub mod documents;
pub mod load;
pub mod phases;
pub mod summary;

use crate::harness;
use crate::report::thousands;
use anyhow::bail;
use documents::{Rendered, Template};
use load::Credentials;
use std::path::PathBuf;
use std::sync::Arc;
use steward_server::AppState;
use steward_server::config::{Overrides, ServerConfig};
use summary::Report;

/// Everything the command line sets.
#[derive(Debug, Clone)]
pub struct Options {
    pub devices: usize,
    pub concurrency: usize,
    /// Ingest into this data directory (kept) instead of a temporary one.
    pub data_dir: Option<PathBuf>,
}

/// The `[legacy_inventory]` credentials the server is given and the clients send.
const USER: &str = "legacy-bench";
const PASSWORD: &str = "legacy-bench secret 42";
/// Devices stored one at a time, in-process, for the breakdown.
const PHASE_DEVICES: usize = 200;

/// An opened data directory (a temporary one, removed on drop, when none was given).
struct Opened {
    _temp: Option<tempfile::TempDir>,
    db_path: PathBuf,
    state: AppState,
}

/// `harness::open` with the legacy endpoints enabled.
async fn open(dir: Option<&PathBuf>, prefix: &str) -> anyhow::Result<Opened> {
    steward_server::install_crypto_provider();
    let (temp, data_dir) = match dir {
        Some(d) => (None, d.clone()),
        None => {
            let t = tempfile::Builder::new()
                .prefix(&format!("{prefix}-"))
                .tempdir()?;
            let d = t.path().join("data");
            (Some(t), d)
        }
    };
    let overrides = Overrides {
        data_dir: Some(data_dir.clone()),
        listen: Some("127.0.0.1:0".into()),
    };
    let mut config = ServerConfig::load(None, Vec::new(), &overrides)?;
    config.legacy_inventory.enabled = true;
    config.legacy_inventory.username = USER.into();
    config.legacy_inventory.password = Some(PASSWORD.into());
    let state = tokio::task::spawn_blocking(move || steward_server::open(config)).await??;
    Ok(Opened {
        _temp: temp,
        db_path: data_dir.join(steward_server::DB_FILE),
        state,
    })
}

/// Renders and compresses the devices' documents off the async threads.
async fn render(t: &Arc<Template>, devices: Vec<documents::Device>) -> anyhow::Result<Rendered> {
    let t = t.clone();
    Ok(tokio::task::spawn_blocking(move || documents::render_all(&t, &devices)).await?)
}

/// Runs the benchmark and prints the report to stdout (progress goes to stderr).
pub async fn run(o: Options) -> anyhow::Result<()> {
    let opened = open(o.data_dir.as_ref(), "legacy-bench").await?;
    let state = opened.state.clone();
    let before = harness::count(&state.db, "assets").await?;

    eprintln!("running fusioninventory-inventory ...");
    let source = tokio::task::spawn_blocking(documents::source).await?;
    let template = Arc::new(Template::new(&source.xml)?);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ (u64::from(std::process::id()) << 32);
    let stamp = chrono::DateTime::from_timestamp(steward_server::clock::now(), 0)
        .unwrap_or_default()
        .format("%Y-%m-%d-%H-%M-%S")
        .to_string();
    let devices = documents::fleet(&template, o.devices, seed, &stamp);
    let upgraded = documents::upgraded(&template, &devices, seed ^ 0x5EED);
    eprintln!("rendering and compressing {} inventories ...", o.devices);
    let first = render(&template, devices).await?;

    let running = harness::serve(state.clone()).await?;
    let creds = Credentials {
        user: USER.into(),
        password: PASSWORD.into(),
    };
    let first_docs = Arc::new(first.docs);
    eprintln!("(a) first inventories ...");
    let r1 = load::round(
        "(a) first inventories",
        &running.http,
        &running.base,
        &creds,
        first_docs.clone(),
        o.concurrency,
    )
    .await?;
    eprintln!("rendering and compressing the upgraded inventories ...");
    let second = render(&template, upgraded).await?;
    let second_docs = Arc::new(second.docs);
    eprintln!("(b) second round ...");
    let r2 = load::round(
        "(b) second round",
        &running.http,
        &running.base,
        &creds,
        second_docs.clone(),
        o.concurrency,
    )
    .await?;
    running.stop().await?;
    let after = harness::count(&state.db, "assets").await?;
    let software_rows = harness::count(&state.db, "asset_software").await?;

    eprintln!("(c) parsing in-process ...");
    let docs = second_docs.clone();
    let parsed = tokio::task::spawn_blocking(move || phases::parse_only(&docs)).await??;
    let k = PHASE_DEVICES.min(o.devices);
    eprintln!("storing {k} devices' inventories one at a time into a scratch database ...");
    let scratch = open(None, "legacy-bench-phases").await?;
    let stored = phases::store_only(&scratch.state, &first_docs[..k], &second_docs[..k]).await?;
    drop(scratch);

    let r = Report {
        o: &o,
        source: &source,
        software: template.software(),
        made: [first.made, second.made],
        rounds: [&r1, &r2],
        parsed: &parsed,
        stored: &stored,
        phase_devices: k,
        db_path: &opened.db_path,
        assets: (before, after),
        software_rows,
    };
    r.print();
    let errors = r1.errors + r2.errors;
    let added = after.saturating_sub(before);
    if errors > 0 || added != o.devices as u64 {
        bail!(
            "{errors} failed requests; {} assets added for {} devices",
            thousands(added),
            thousands(o.devices as u64)
        );
    }
    Ok(())
}
