//! The agent's state directory: its credentials (`credentials.json`, mode 0600) and the CA
//! certificate it enrolled with (`ca.pem`); and where it is by default on each system
//! (the packages in `packaging/` pass it explicitly, and a test checks they agree).

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the credentials file inside the state directory.
pub const CREDENTIALS_FILE: &str = "credentials.json";
/// Name of the CA certificate kept from `enroll --ca-cert`.
pub const CA_FILE: &str = "ca.pem";

/// What the agent needs to check in: where, and as whom.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub server_url: String,
    pub agent_id: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("server_url", &self.server_url)
            .field("agent_id", &self.agent_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Why the state directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is corrupt ({message}); enroll again with `steward-agent enroll`")]
    Corrupt { path: PathBuf, message: String },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
    let path = path.to_path_buf();
    move |source| StateError::Io {
        action,
        path,
        source,
    }
}

impl Credentials {
    /// The credentials in `state_dir`, or `None` when the agent has not enrolled.
    pub fn load(state_dir: &Path) -> Result<Option<Credentials>, StateError> {
        let path = state_dir.join(CREDENTIALS_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("read", &path)(e)),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StateError::Corrupt {
                path,
                message: e.to_string(),
            })
    }

    /// Write the credentials to `state_dir` atomically, readable by this user only.
    pub fn save(&self, state_dir: &Path) -> Result<(), StateError> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| StateError::Corrupt {
            path: state_dir.join(CREDENTIALS_FILE),
            message: e.to_string(),
        })?;
        write_private(state_dir, CREDENTIALS_FILE, &json)
    }
}

/// Atomically replace `dir/name` with `contents`: temp file, fsync, mode 0600, rename,
/// fsync of the directory. Creates `dir` (mode 0700) if needed.
pub(crate) fn write_private(dir: &Path, name: &str, contents: &[u8]) -> Result<(), StateError> {
    write_private_with(dir, name, |out| out.write_all(contents)).map(|_| ())
}

/// [`write_private`] with contents that `write` writes out (through a buffer), so that a
/// large file is never held in memory whole; returns the file's size.
pub(crate) fn write_private_with(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<u64, StateError> {
    create_dir(dir)?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&tmp).map_err(io_err("create", &tmp))?;
    // The mode above only applies to a new file; make sure of it for an old one too.
    set_mode(&tmp, 0o600)?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out).map_err(io_err("write", &tmp))?;
    let file = out
        .into_inner()
        .map_err(|e| io_err("write", &tmp)(e.into_error()))?;
    file.sync_all().map_err(io_err("sync", &tmp))?;
    let size = file.metadata().map_err(io_err("stat", &tmp))?.len();
    drop(file);
    std::fs::rename(&tmp, &path).map_err(io_err("rename into", &path))?;
    // Make the rename durable; not all platforms can open a directory, so best effort.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(size)
}

fn create_dir(dir: &Path) -> Result<(), StateError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_err("create directory", dir))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), StateError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io_err("set permissions of", path))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), StateError> {
    Ok(())
}

/// The CA certificate saved by `enroll --ca-cert`, if any.
pub fn saved_ca_cert(state_dir: &Path) -> Option<PathBuf> {
    let path = state_dir.join(CA_FILE);
    path.is_file().then_some(path)
}

/// Keep a copy of the CA certificate the agent enrolled with, for later runs.
pub(crate) fn save_ca_cert(state_dir: &Path, ca_cert: &Path) -> Result<(), StateError> {
    let pem = std::fs::read(ca_cert).map_err(io_err("read", ca_cert))?;
    write_private(state_dir, CA_FILE, &pem)
}

/// The state directory of the root agent on Linux (and other Unixes but macOS).
pub const LINUX_STATE_DIR: &str = "/var/lib/steward-agent";
/// Where the macOS package keeps the agent's config (`agent.toml`) and a pending
/// enrollment (`enroll.env`).
pub const MACOS_DATA_DIR: &str = "/Library/Application Support/Steward";
/// The state directory of the root agent on macOS (the launchd daemon's).
pub const MACOS_STATE_DIR: &str = "/Library/Application Support/Steward/state";
/// Under `%ProgramData%`, where the MSI keeps the agent's config and pending enrollment.
pub const WINDOWS_DATA_SUBDIR: &str = "Steward";
/// Under `%ProgramData%`, the agent's state directory on Windows (the SYSTEM task's).
pub const WINDOWS_STATE_SUBDIR: &str = r"Steward\state";
/// `%ProgramData%` when the variable is missing.
pub const WINDOWS_PROGRAM_DATA: &str = r"C:\ProgramData";

/// The systems whose default state directory differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    /// Linux and any other Unix but macOS.
    Linux,
    MacOs,
    Windows,
}

impl Os {
    /// The system this agent was built for.
    pub const CURRENT: Os = if cfg!(windows) {
        Os::Windows
    } else if cfg!(target_os = "macos") {
        Os::MacOs
    } else {
        Os::Linux
    };
}

/// What the default state directory depends on, read from the process by
/// [`default_state_dir`].
#[derive(Clone, Debug, Default)]
pub struct StateDirEnv {
    /// Running as root (Unix; ignored on Windows, where the one agent is the SYSTEM task).
    pub root: bool,
    /// `$XDG_STATE_HOME`
    pub xdg_state_home: Option<PathBuf>,
    /// `$HOME`
    pub home: Option<PathBuf>,
    /// `%ProgramData%`
    pub program_data: Option<PathBuf>,
}

/// As root, [`LINUX_STATE_DIR`] on Linux and [`MACOS_STATE_DIR`] on macOS; on Windows
/// `%ProgramData%\Steward\state`; else `$XDG_STATE_HOME/steward-agent` or
/// `~/.local/state/steward-agent`.
pub fn default_state_dir() -> PathBuf {
    let status = std::fs::read_to_string("/proc/self/status").ok();
    let user = std::env::var("USER").ok();
    let env = StateDirEnv {
        root: is_root(status.as_deref(), user.as_deref()),
        xdg_state_home: std::env::var_os("XDG_STATE_HOME").map(PathBuf::from),
        home: std::env::var_os("HOME").map(PathBuf::from),
        program_data: std::env::var_os("PROGRAMDATA").map(PathBuf::from),
    };
    state_dir_for(Os::CURRENT, &env)
}

/// [`default_state_dir`] for `os` in the environment `env`: a pure function, so that each
/// system's rule is tested on any system.
pub fn state_dir_for(os: Os, env: &StateDirEnv) -> PathBuf {
    match os {
        Os::Windows => {
            // Built as a string: a Windows path, whatever system computes it.
            let base = env
                .program_data
                .as_deref()
                .map(|p| p.to_string_lossy().into_owned())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| WINDOWS_PROGRAM_DATA.to_string());
            let base = base.trim_end_matches(['\\', '/']);
            PathBuf::from(format!("{base}\\{WINDOWS_STATE_SUBDIR}"))
        }
        Os::MacOs if env.root => PathBuf::from(MACOS_STATE_DIR),
        Os::Linux if env.root => PathBuf::from(LINUX_STATE_DIR),
        Os::MacOs | Os::Linux => env
            .xdg_state_home
            .clone()
            .filter(|p| p.is_absolute())
            .or_else(|| env.home.as_ref().map(|h| h.join(".local/state")))
            .unwrap_or_else(|| PathBuf::from("."))
            .join("steward-agent"),
    }
}

/// Whether we run as root: the effective uid from `/proc/self/status` when readable,
/// else `$USER`.
fn is_root(proc_status: Option<&str>, user: Option<&str>) -> bool {
    let effective_uid = proc_status.and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .map(str::to_string)
    });
    match effective_uid {
        Some(uid) => uid == "0",
        None => user == Some("root"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            server_url: "https://s.example".into(),
            agent_id: "agt_1".into(),
            secret: "s3cr3t-value".into(),
        }
    }

    #[test]
    fn save_load_roundtrip_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("nested/state");
        assert_eq!(Credentials::load(&state).expect("load"), None);
        creds().save(&state).expect("save");
        assert_eq!(Credentials::load(&state).expect("load"), Some(creds()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(state.join(CREDENTIALS_FILE)).expect("meta");
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
        // Overwrite keeps it private and leaves no temp file behind.
        let other = Credentials {
            agent_id: "agt_2".into(),
            ..creds()
        };
        other.save(&state).expect("save again");
        assert_eq!(Credentials::load(&state).expect("load"), Some(other));
        let names: Vec<_> = std::fs::read_dir(&state)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(CREDENTIALS_FILE)]);
    }

    #[test]
    fn corrupt_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(CREDENTIALS_FILE), "{").expect("write");
        let e = Credentials::load(dir.path()).expect_err("corrupt");
        assert!(e.to_string().contains("enroll again"), "{e}");
    }

    #[test]
    fn debug_redacts_secret() {
        let shown = format!("{:?}", creds());
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("agt_1"));
    }

    #[test]
    fn root_detection_and_dirs() {
        let root = "Name:\tx\nUid:\t1000\t0\t0\t0\n";
        let user = "Uid:\t0\t1000\t1000\t1000\n";
        assert!(is_root(Some(root), Some("alice")));
        assert!(!is_root(Some(user), Some("root")));
        assert!(is_root(None, Some("root")));
        assert!(!is_root(None, None));
        let root = StateDirEnv {
            root: true,
            home: Some("/root".into()),
            ..Default::default()
        };
        assert_eq!(
            state_dir_for(Os::Linux, &root),
            PathBuf::from("/var/lib/steward-agent")
        );
        let user = |xdg: Option<&str>| StateDirEnv {
            root: false,
            xdg_state_home: xdg.map(PathBuf::from),
            home: Some("/home/a".into()),
            program_data: None,
        };
        assert_eq!(
            state_dir_for(Os::Linux, &user(Some("/x/state"))),
            PathBuf::from("/x/state/steward-agent")
        );
        assert_eq!(
            state_dir_for(Os::Linux, &user(Some("relative"))),
            PathBuf::from("/home/a/.local/state/steward-agent")
        );
        assert_eq!(
            state_dir_for(Os::Linux, &StateDirEnv::default()),
            PathBuf::from("./steward-agent")
        );
    }

    #[test]
    fn macos_and_windows_dirs() {
        let root = StateDirEnv {
            root: true,
            home: Some("/var/root".into()),
            ..Default::default()
        };
        assert_eq!(
            state_dir_for(Os::MacOs, &root),
            PathBuf::from("/Library/Application Support/Steward/state")
        );
        assert!(Path::new(MACOS_STATE_DIR).starts_with(MACOS_DATA_DIR));
        let user = StateDirEnv {
            home: Some("/Users/a".into()),
            ..Default::default()
        };
        assert_eq!(
            state_dir_for(Os::MacOs, &user),
            PathBuf::from("/Users/a/.local/state/steward-agent")
        );
        // On Windows %ProgramData%, whoever runs it (the task runs as SYSTEM).
        for (program_data, want) in [
            (Some(r"D:\Data"), r"D:\Data\Steward\state"),
            (Some(r"D:\Data\"), r"D:\Data\Steward\state"),
            (Some(""), r"C:\ProgramData\Steward\state"),
            (None, r"C:\ProgramData\Steward\state"),
        ] {
            let env = StateDirEnv {
                program_data: program_data.map(PathBuf::from),
                ..user.clone()
            };
            assert_eq!(state_dir_for(Os::Windows, &env), PathBuf::from(want));
        }
        assert_eq!(
            WINDOWS_STATE_SUBDIR,
            format!("{WINDOWS_DATA_SUBDIR}\\state")
        );
    }
}
