//! Keeping the dev storefront's sales across restarts (`--state PATH`).
//!
//! A real storefront does not forget a sale because its process restarted;
//! one that did would make the bot's reconciler see an approved sale missing,
//! publish it again and alarm the team, which is right for a shop that lost a
//! sale and wrong for a developer who restarted `scripts/start.sh`. So, when
//! given a file, the shop writes its sales and the revisions it applied there
//! after every applied write, and reads them back at start.
//!
//! Only what decides the shop's answers is kept: the sales (with their last
//! revision and early end) and the tombstones. The call log, pending faults
//! and the answers remembered per `webhook-id` are for tests and retries
//! within one run; a retry after a restart meets the revision check instead
//! (a repeat of the applied revision is answered `stale_revision`, and the
//! bot decides again with a newer one).
//!
//! Each save writes a sibling temporary file and renames it over the old one,
//! so a crash mid-write leaves the previous state, never half a file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::stored::StoredSale;

/// The file's layout version; a file of another version is refused, not guessed at.
const VERSION: u32 = 1;

/// What the file holds.
#[derive(Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SavedState {
    pub version: u32,
    /// By session id.
    pub sales: BTreeMap<i64, StoredSale>,
    /// The last revision applied to sessions without a stored sale.
    pub tombstones: BTreeMap<i64, i64>,
}

/// Why the saved state could not be read at start. The shop refuses to start
/// rather than start empty: an empty shop would make the bot put every
/// approved sale up again.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// The file exists but could not be read.
    #[error("cannot read the dev storefront's state file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not a state this version wrote.
    #[error(
        "{} is not a dev storefront state file of version {VERSION} ({problem}); move it away to start with no sales",
        path.display()
    )]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What did not match.
        problem: String,
    },
}

impl SavedState {
    /// The state in `path`; an empty one when the file does not exist yet.
    pub(crate) fn load(path: &Path) -> Result<SavedState, StateFileError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SavedState {
                    version: VERSION,
                    ..SavedState::default()
                })
            }
            Err(source) => {
                return Err(StateFileError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        let invalid = |problem: String| StateFileError::Invalid {
            path: path.to_owned(),
            problem,
        };
        let state: SavedState = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        if state.version != VERSION {
            return Err(invalid(format!("it says version {}", state.version)));
        }
        if let Some(id) = state
            .sales
            .keys()
            .find(|id| state.tombstones.contains_key(id))
        {
            return Err(invalid(format!(
                "session {id} is both a sale and a tombstone"
            )));
        }
        Ok(state)
    }

    /// A copy of the shop's sales and tombstones, ready to write.
    pub(crate) fn of(
        sales: &BTreeMap<i64, StoredSale>,
        tombstones: &HashMap<i64, i64>,
    ) -> SavedState {
        SavedState {
            version: VERSION,
            sales: sales.clone(),
            tombstones: tombstones.iter().map(|(k, v)| (*k, *v)).collect(),
        }
    }

    /// Writes the state to `path` through a temporary sibling and a rename.
    pub(crate) fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        std::fs::write(&temporary, json)?;
        std::fs::rename(&temporary, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "devstore-saved-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        dir
    }

    #[test]
    fn a_missing_file_is_an_empty_shop() {
        let path = dir().join("state.json");
        let state = SavedState::load(&path).expect("no file is fine");
        assert!(state.sales.is_empty() && state.tombstones.is_empty());
        assert_eq!(state.version, VERSION);
    }

    #[test]
    fn tombstones_survive_a_save_and_a_load() {
        let path = dir().join("state.json");
        let tombstones = HashMap::from([(7, 3), (9, 1)]);
        SavedState::of(&BTreeMap::new(), &tombstones)
            .save(&path)
            .expect("saved");
        let back = SavedState::load(&path).expect("loads");
        assert_eq!(back.tombstones, BTreeMap::from([(7, 3), (9, 1)]));
        assert!(!path.with_extension("json.tmp").exists(), "no leftover");
    }

    #[test]
    fn a_file_that_is_not_a_state_is_refused_naming_it() {
        let path = dir().join("state.json");
        std::fs::write(&path, "{\"sales\": 3}").expect("written");
        let error = SavedState::load(&path).expect_err("refused");
        let text = error.to_string();
        assert!(
            text.contains("state.json") && text.contains("move it away"),
            "{text}"
        );

        std::fs::write(&path, r#"{"version": 2, "sales": {}, "tombstones": {}}"#).expect("written");
        let text = SavedState::load(&path).expect_err("refused").to_string();
        assert!(text.contains("version 2"), "{text}");
    }
}
