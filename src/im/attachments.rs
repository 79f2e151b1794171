//! Where attachments' bytes live: files under the data directory
//! (`<data>/attachments/<conversationId>/<attachmentId>`), never in the event log, which
//! keeps only their record (`Event::AttachmentStored`). A file is written whole to a
//! temporary name, synced, and renamed into place before its event is appended; if the
//! append fails the file is removed, so a refused upload leaves nothing. A file left by a
//! crash between the rename and the append has no event: the next upload of that
//! conversation takes the same id and overwrites it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::domain::ids::ConversationId;

/// The folder of the data directory that holds attachments.
pub const ATTACHMENTS_DIR: &str = "attachments";

/// The attachments' folder, once the server knows its data directory.
#[derive(Debug, Default)]
pub struct Store {
    dir: OnceLock<PathBuf>,
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No data directory was given (an embedded desk without storage).
    #[error("attachments are not stored here: no data directory")]
    NoDirectory,
    /// The file system refused.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was tried.
        action: &'static str,
        /// Where.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.display().to_string(),
        source,
    }
}

/// SHA-256 of `bytes`, lowercase hex: an attachment's fingerprint, and how tokens and API
/// key secrets are kept (`crate::api::auth::sha256_hex`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in Sha256::digest(bytes) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

impl Store {
    /// Keeps attachments in `data_dir`'s [`ATTACHMENTS_DIR`] (made 0700 when missing).
    pub fn open(&self, data_dir: &Path) -> Result<(), StoreError> {
        let dir = data_dir.join(ATTACHMENTS_DIR);
        make_private_dir(&dir)?;
        let _ = self.dir.set(dir);
        Ok(())
    }

    fn root(&self) -> Result<&Path, StoreError> {
        self.dir
            .get()
            .map(PathBuf::as_path)
            .ok_or(StoreError::NoDirectory)
    }

    /// Where attachment `id` of `conversation` lives. Both parts are numbers: a client's
    /// file name never reaches the path.
    pub fn path(&self, conversation: ConversationId, id: u32) -> Result<PathBuf, StoreError> {
        Ok(self
            .root()?
            .join(conversation.0.to_string())
            .join(id.to_string()))
    }

    /// Writes the bytes durably (temporary file, fsync, rename).
    pub fn write(
        &self,
        conversation: ConversationId,
        id: u32,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        write_at(&self.path(conversation, id)?, bytes)
    }

    /// Reads an attachment's bytes.
    pub fn read(&self, conversation: ConversationId, id: u32) -> Result<Vec<u8>, StoreError> {
        let path = self.path(conversation, id)?;
        std::fs::read(&path).map_err(io("read", &path))
    }

    /// Removes an attachment's bytes (a refused upload's, or the retention's).
    pub fn remove(&self, conversation: ConversationId, id: u32) {
        if let Ok(path) = self.path(conversation, id)
            && let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove an attachment");
        }
    }

    /// Removes what no event names: files left by a crash between writing the bytes and
    /// appending their event (`recorded(conversation)` says how many attachments the log
    /// holds for a conversation; ids above it, unparsable names and temporary files go).
    /// Answers how many files went.
    pub fn sweep(&self, recorded: impl Fn(ConversationId) -> Option<u32>) -> usize {
        let Ok(root) = self.root() else {
            return 0;
        };
        let Ok(folders) = std::fs::read_dir(root) else {
            return 0;
        };
        let mut removed = 0;
        for folder in folders.filter_map(Result::ok) {
            let Some(conversation) = folder
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u64>().ok())
                .map(ConversationId)
            else {
                continue;
            };
            let known = recorded(conversation).unwrap_or(0);
            let Ok(files) = std::fs::read_dir(folder.path()) else {
                continue;
            };
            for file in files.filter_map(Result::ok) {
                let keep = file
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|id| (1..=known).contains(&id));
                if !keep && std::fs::remove_file(file.path()).is_ok() {
                    tracing::info!(path = %file.path().display(), "removed an attachment no event names");
                    removed += 1;
                }
            }
        }
        removed
    }

    /// How many files a conversation's folder holds (for tests and checks).
    pub fn count(&self, conversation: ConversationId) -> usize {
        let Ok(root) = self.root() else {
            return 0;
        };
        std::fs::read_dir(root.join(conversation.0.to_string()))
            .map(|d| d.filter_map(Result::ok).count())
            .unwrap_or(0)
    }

    /// How many files the whole store holds, in every conversation.
    pub fn total(&self) -> usize {
        let Ok(root) = self.root() else {
            return 0;
        };
        std::fs::read_dir(root)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|c| std::fs::read_dir(c.path()).ok())
                    .map(|files| files.filter_map(Result::ok).count())
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// Writes `bytes` at `path` durably: a temporary file beside it, synced, renamed into place.
pub fn write_at(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().ok_or(StoreError::NoDirectory)?;
    make_private_dir(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.part"));
    let mut file = std::fs::File::create(&temp).map_err(io("create", &temp))?;
    file.write_all(bytes).map_err(io("write", &temp))?;
    file.sync_all().map_err(io("sync", &temp))?;
    drop(file);
    std::fs::rename(&temp, path).map_err(io("rename", path))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn make_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io("create", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_bytes_read_back_and_removal_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::default();
        assert!(matches!(
            store.write(ConversationId(1), 1, b"x"),
            Err(StoreError::NoDirectory)
        ));
        store.open(tmp.path()).unwrap();
        store.write(ConversationId(7), 1, b"hello").unwrap();
        assert_eq!(store.read(ConversationId(7), 1).unwrap(), b"hello");
        assert_eq!(store.count(ConversationId(7)), 1);
        store.remove(ConversationId(7), 1);
        assert_eq!(store.total(), 0);
    }

    #[test]
    fn sha256_is_hex_of_the_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
