//! Whether the OS says a reboot is needed to finish installing updates.
//!
//! - Debian and Ubuntu: package hooks (update-notifier, unattended-upgrades, needrestart)
//!   create `/run/reboot-required`. Its absence means no reboot on a Debian-family system,
//!   which is as good as those hooks are: a plain Debian without them never asks.
//! - RPM systems: `needs-restarting -r` (dnf-utils, yum-utils) exits 1 when a reboot is
//!   needed and 0 when not.
//! - Anything else: unknown.

use crate::collect::command::{self, CommandError};
use std::path::Path;
use std::time::Duration;

/// `needs-restarting` starts dnf's Python: slow, but not this slow.
pub(super) const TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a reboot is pending on the system whose root is `root` (`/`, or a fixture),
/// asking `needs_restarting` where that is installed.
pub(super) fn pending(
    root: &Path,
    needs_restarting: Option<&Path>,
) -> Result<Option<bool>, CommandError> {
    let marker = ["run/reboot-required", "var/run/reboot-required"]
        .iter()
        .any(|p| root.join(p).exists());
    if marker {
        return Ok(Some(true));
    }
    if let Some(tool) = needs_restarting {
        let (status, _) = command::status_with_timeout(tool, &["-r"], TIMEOUT)?;
        return match status.code() {
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            _ => Err(CommandError::Failed {
                program: tool.display().to_string(),
                status,
            }),
        };
    }
    let debian_family = root.join("etc/debian_version").is_file();
    Ok((debian_family && root.join("var/run").is_dir()).then_some(false))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    fn tool(dir: &Path, exit: u8) -> PathBuf {
        let path = dir.join(format!("needs-restarting-{exit}"));
        let script = format!(
            "#!/bin/sh\n[ \"$1\" = -r ] || exit 9\necho 'Reboot is required'\nexit {exit}\n"
        );
        std::fs::write(&path, script).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    #[test]
    fn debian_family_marker() {
        let root = tempfile::tempdir().expect("tempdir");
        let root = root.path();
        // Nothing known about this system.
        assert_eq!(pending(root, None).ok(), Some(None));
        std::fs::create_dir_all(root.join("etc")).expect("mkdir");
        std::fs::create_dir_all(root.join("var/run")).expect("mkdir");
        std::fs::write(root.join("etc/debian_version"), "12.5\n").expect("write");
        assert_eq!(pending(root, None).ok(), Some(Some(false)));
        std::fs::write(
            root.join("var/run/reboot-required"),
            "*** System restart required ***\n",
        )
        .expect("write");
        assert_eq!(pending(root, None).ok(), Some(Some(true)));
    }

    #[test]
    fn rpm_systems_ask_needs_restarting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("var/run")).expect("mkdir");
        let yes = tool(dir.path(), 1);
        let no = tool(dir.path(), 0);
        let broken = tool(dir.path(), 2);
        assert_eq!(pending(&root, Some(&yes)).ok(), Some(Some(true)));
        assert_eq!(pending(&root, Some(&no)).ok(), Some(Some(false)));
        assert!(matches!(
            pending(&root, Some(&broken)),
            Err(CommandError::Failed { .. })
        ));
        assert!(matches!(
            pending(&root, Some(Path::new("/nonexistent/needs-restarting"))),
            Err(CommandError::Spawn { .. })
        ));
    }
}
