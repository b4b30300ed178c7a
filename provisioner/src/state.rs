//! The per-stack state file (`.provision/<stack>.json`): the account and region the stack lives
//! in, and each construct's physical id — written before a create (intent) and after it
//! (result), atomically. It holds ids and ARNs only: no secrets, tokens or images.
//! A lock file makes one run per stack at a time.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::resources::Outputs;

pub const STATE_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("another `provision` run holds the lock on stack `{stack}` ({path}); wait for it to finish")]
    Locked { stack: String, path: PathBuf },
    #[error("state file {path} is not valid: {message}; move it away and run again (resources are found by name)")]
    Corrupt { path: PathBuf, message: String },
    #[error("i/o error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A create was about to be sent; the physical id may or may not exist.
    Creating,
    Created,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub kind: String,
    pub name: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub stack: String,
    pub account: String,
    pub region: String,
    pub resources: BTreeMap<String, Entry>,
    #[serde(default)]
    pub outputs: Outputs,
}

/// An open state file with its lock held.
#[derive(Debug)]
pub struct StateFile {
    pub path: PathBuf,
    pub state: State,
    _lock: File,
}

pub fn state_dir(root: &Path) -> PathBuf {
    std::env::var_os("PROVISION_STATE_DIR").map(PathBuf::from).unwrap_or_else(|| root.join(".provision"))
}

impl StateFile {
    /// Opens (or starts) the state of `stack` under `dir`, taking the stack's lock.
    pub fn open(dir: &Path, stack: &str) -> Result<StateFile, StateError> {
        std::fs::create_dir_all(dir).map_err(|source| StateError::Io { path: dir.to_owned(), source })?;
        let lock_path = dir.join(format!("{stack}.lock"));
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StateError::Io { path: lock_path.clone(), source })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::Locked { stack: stack.to_owned(), path: lock_path });
            }
            Err(std::fs::TryLockError::Error(source)) => return Err(StateError::Io { path: lock_path, source }),
        }
        let path = dir.join(format!("{stack}.json"));
        let state = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| StateError::Corrupt { path: path.clone(), message: e.to_string() })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                State { version: STATE_VERSION, stack: stack.to_owned(), ..State::default() }
            }
            Err(source) => return Err(StateError::Io { path, source }),
        };
        Ok(StateFile { path, state, _lock: lock })
    }

    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Writes the whole state atomically (temp file + rename), so a kill never leaves half a file.
    pub fn save(&self) -> Result<(), StateError> {
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(&self.state)
            .map_err(|e| StateError::Corrupt { path: self.path.clone(), message: e.to_string() })?;
        std::fs::write(&tmp, text + "\n").map_err(|source| StateError::Io { path: tmp.clone(), source })?;
        std::fs::rename(&tmp, &self.path).map_err(|source| StateError::Io { path: self.path.clone(), source })
    }

    pub fn physical(&self, id: &str) -> Option<&str> {
        self.state.resources.get(id).and_then(|e| e.physical.as_deref())
    }

    pub fn record(&mut self, id: &str, entry: Entry) -> Result<(), StateError> {
        self.state.resources.insert(id.to_owned(), entry);
        self.save()
    }

    /// Forgets the stack: called when `down` has removed everything.
    pub fn remove(self) -> Result<(), StateError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StateError::Io { path: self.path.clone(), source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_open_of_a_stack_is_refused_while_locked() {
        let dir = tempfile::tempdir().expect("tmp");
        let first = StateFile::open(dir.path(), "a").expect("first");
        let err = StateFile::open(dir.path(), "a").expect_err("locked");
        assert!(matches!(err, StateError::Locked { .. }));
        assert!(StateFile::open(dir.path(), "b").is_ok(), "other stacks are independent");
        drop(first);
        assert!(StateFile::open(dir.path(), "a").is_ok());
    }

    #[test]
    fn saves_atomically_and_reads_back() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut f = StateFile::open(dir.path(), "s").expect("open");
        f.record(
            "Table",
            Entry { kind: "t".into(), name: "n".into(), status: Status::Created, physical: Some("p".into()) },
        )
        .expect("save");
        drop(f);
        let f = StateFile::open(dir.path(), "s").expect("reopen");
        assert_eq!(f.physical("Table"), Some("p"));
        assert!(!dir.path().join("s.json.tmp").exists());
    }
}
