//! Saves, as file events: notify's watcher over the exercise's folder (its
//! `src/` and its manifest), debounced here, so that an editor's burst of
//! writes on one save (a temporary file, a rename, a touch) is one change.
//!
//! Reads are not saves: notify reports a file opened for reading too (the
//! build, and the runner's own fingerprint of the file), and those are
//! dropped, or every grade would start the next.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

/// A save is reported once no event has come for this long.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

pub struct Watch {
    _watcher: RecommendedWatcher,
    events: Receiver<notify::Result<Event>>,
    folder: PathBuf,
    /// When the last write to a source was seen, if it is not reported yet.
    last_write: Cell<Option<Instant>>,
}

impl Watch {
    /// Watches `folder`'s `src/` (recursively) and its `Cargo.toml`.
    pub fn start(folder: &Path) -> Result<Watch, String> {
        let (tx, events) = channel();
        let mut watcher = notify::recommended_watcher(tx).map_err(|e| e.to_string())?;
        watcher.watch(&folder.join("src"), RecursiveMode::Recursive).map_err(|e| e.to_string())?;
        watcher.watch(folder, RecursiveMode::NonRecursive).map_err(|e| e.to_string())?;
        let folder = folder.canonicalize().unwrap_or_else(|_| folder.to_path_buf());
        Ok(Watch { _watcher: watcher, events, folder, last_write: Cell::new(None) })
    }

    /// Whether a source was written and then left alone for [`DEBOUNCE`]:
    /// a `.rs` file under `src/`, or `Cargo.toml` (not an editor's swap file).
    pub fn changed(&self) -> bool {
        while let Ok(result) = self.events.try_recv() {
            let Ok(event) = result else { continue };
            if !matches!(event.kind, EventKind::Access(_))
                && event.paths.iter().any(|p| self.is_source(p))
            {
                self.last_write.set(Some(Instant::now()));
            }
        }
        match self.last_write.get() {
            Some(at) if at.elapsed() >= DEBOUNCE => {
                self.last_write.set(None);
                true
            }
            _ => false,
        }
    }

    fn is_source(&self, path: &Path) -> bool {
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let Ok(relative) = path.strip_prefix(&self.folder) else {
            // A path the OS reports in another spelling: a save all the same.
            return path.extension().is_some_and(|e| e == "rs");
        };
        relative == Path::new("Cargo.toml")
            || (relative.starts_with("src") && relative.extension().is_some_and(|e| e == "rs"))
    }
}
