//! Attachment bytes on disk, content-addressed and deduplicated:
//! `<data_dir>/attachments/<first 2 hex of sha256>/<sha256>`.
//!
//! Durability order: an upload streams into `attachments/tmp/<random>.part` (the name is
//! not known until the last byte is hashed, so the temporary file lives in a directory of
//! its own on the same filesystem), is fsynced, renamed to its final name, and the
//! directory is fsynced; only then does the caller commit the database row. So a
//! committed row always has its file, while a crash in between leaves either a `.part`
//! file or a file no row points at. Both are harmless: nothing reads them, the next
//! upload of the same content reuses the file, and `.part` files may be deleted while
//! the server is stopped. Files are never deleted by the server (other rows may share
//! them).

use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// The attachment store of one data directory (or, with [`Blobs::agent_releases`], the
/// store of signed agent builds, which has no fan-out directories).
#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
    fanout: bool,
}

/// A file that is stored durably.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
}

impl Blobs {
    pub fn new(data_dir: &Path) -> Blobs {
        Blobs {
            root: data_dir.join("attachments"),
            fanout: true,
        }
    }

    /// `<data_dir>/agent-releases/<sha256>`: the binaries of signed agent releases (see
    /// `crate::signed_releases`), uploaded the same way.
    pub fn agent_releases(data_dir: &Path) -> Blobs {
        Blobs {
            root: data_dir.join(crate::signed_releases::DIR),
            fanout: false,
        }
    }

    fn dir_of(root: &Path, fanout: bool, sha256: &str) -> PathBuf {
        if fanout {
            root.join(&sha256[..2])
        } else {
            root.to_path_buf()
        }
    }

    /// Where the file with this digest lives; `None` unless `sha256` is 64 lowercase hex.
    pub fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| Self::dir_of(&self.root, self.fanout, sha256).join(sha256))
    }

    /// Starts an upload: a new temporary file that [`Upload::commit`] moves into place.
    pub async fn begin(&self) -> io::Result<Upload> {
        let dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&dir).await?;
        let tmp = dir.join(format!("{}.part", crate::crypto::random_hex(16)));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .await?;
        Ok(Upload {
            root: self.root.clone(),
            fanout: self.fanout,
            tmp,
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Opens a stored file for reading.
    pub async fn open(&self, sha256: &str) -> io::Result<tokio::fs::File> {
        let path = self.path_of(sha256).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "not a SHA-256 hex digest")
        })?;
        tokio::fs::File::open(path).await
    }
}

/// An upload in progress. Dropping it without [`Upload::commit`] removes the temporary file.
pub struct Upload {
    root: PathBuf,
    fanout: bool,
    tmp: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    size: u64,
}

impl Upload {
    pub async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        let file = self.file.as_mut().ok_or_else(closed)?;
        file.write_all(chunk).await?;
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Makes the file durable under its digest (reusing an identical stored file).
    pub async fn commit(mut self) -> io::Result<Stored> {
        let mut file = self.file.take().ok_or_else(closed)?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        let sha256 = hex::encode(self.hasher.clone().finalize());
        let dir = Blobs::dir_of(&self.root, self.fanout, &sha256);
        let target = dir.join(&sha256);
        tokio::fs::create_dir_all(&dir).await?;
        let existing = tokio::fs::metadata(&target).await.ok();
        if existing.is_some_and(|m| m.is_file() && m.len() == self.size) {
            // Same digest and length: the same bytes, already durable.
            tokio::fs::remove_file(&self.tmp).await?;
        } else {
            tokio::fs::rename(&self.tmp, &target).await?;
            sync_dir(&dir).await?;
            if self.fanout {
                sync_dir(&self.root).await?;
            }
        }
        // The temporary file is gone either way; nothing left for `drop` to remove.
        self.tmp = PathBuf::new();
        Ok(Stored {
            sha256,
            size: self.size,
        })
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn closed() -> io::Error {
    io::Error::other("the upload was already finished")
}

/// fsyncs a directory so a rename in it survives a crash.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[tokio::test]
    async fn same_content_is_stored_once_and_aborted_uploads_leave_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blobs = Blobs::new(dir.path());
        let mut stored = Vec::new();
        for _ in 0..2 {
            let mut up = blobs.begin().await.expect("begin");
            up.write(b"hello ").await.expect("write");
            up.write(b"world").await.expect("write");
            stored.push(up.commit().await.expect("commit"));
        }
        assert_eq!(stored[0], stored[1]);
        assert_eq!(
            stored[0].sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(stored[0].size, 11);

        let mut aborted = blobs.begin().await.expect("begin");
        aborted.write(b"never committed").await.expect("write");
        drop(aborted);

        let files = files_under(&dir.path().join("attachments"));
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(
            Some(files[0].clone()),
            blobs.path_of(&stored[0].sha256),
            "stored under its digest"
        );
        assert_eq!(
            std::fs::read(&files[0]).expect("read"),
            b"hello world".to_vec()
        );
    }

    #[test]
    fn only_digests_name_files() {
        let blobs = Blobs::new(Path::new("/data"));
        assert!(blobs.path_of("../../etc/passwd").is_none());
        assert!(blobs.path_of(&"A".repeat(64)).is_none());
        assert_eq!(
            blobs.path_of(&"ab".repeat(32)),
            Some(PathBuf::from(format!(
                "/data/attachments/ab/{}",
                "ab".repeat(32)
            )))
        );
    }
}
