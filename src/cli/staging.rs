//! Temporaries: the hidden `.demandsim-*` siblings that outputs are
//! written to before they are renamed into place. A run that is killed
//! (Ctrl-C, out of memory) cannot remove its own; the next output written
//! into the same folder removes those older than [`STALE_AFTER`]. A folder
//! of files (`export librede`) is staged whole in one such temporary and
//! moved into place only when every file is written.

use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

/// The prefix of every temporary.
pub const PREFIX: &str = ".demandsim-";

/// Age after which a temporary is taken to be left by a killed run (no
/// run writes one output for a day).
pub const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Removes the temporaries in `dir` last modified more than
/// [`STALE_AFTER`] before `now`; best effort (a folder that cannot be
/// listed, or a file another user owns, is left alone).
pub fn remove_stale(dir: &Path, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let Ok(meta) = e.metadata() else { continue };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if !old {
            continue;
        }
        let removed = if meta.is_dir() {
            std::fs::remove_dir_all(e.path())
        } else {
            std::fs::remove_file(e.path())
        };
        if removed.is_ok() {
            log::info!(
                "removed {}, left by a run that was stopped",
                e.path().display()
            );
        }
    }
}

/// A temporary folder beside `dir` (in its parent) to write a folder's
/// files into; removed when dropped unless [`publish`]ed.
pub fn stage_for(dir: &Path) -> Result<tempfile::TempDir> {
    let parent = dir
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    remove_stale(parent, SystemTime::now());
    tempfile::Builder::new()
        .prefix(PREFIX)
        .tempdir_in(parent)
        .with_context(|| format!("cannot create a folder in {}", parent.display()))
}

/// Moves the staged files into `dir`: the whole folder in one rename when
/// `dir` does not exist, else file by file (each replaced whole).
pub fn publish(stage: tempfile::TempDir, dir: &Path) -> Result<()> {
    if !dir.exists() {
        let path = stage.keep();
        return std::fs::rename(&path, dir)
            .with_context(|| format!("cannot move the files into {}", dir.display()));
    }
    for e in std::fs::read_dir(stage.path())? {
        let e = e?;
        let to = dir.join(e.file_name());
        std::fs::rename(e.path(), &to).with_context(|| format!("cannot write {}", to.display()))?;
    }
    Ok(())
}

/// The mode a file written over `path` keeps: `path`'s own when it
/// exists (a 600 file stays 600), else an ordinary file's 644.
#[cfg(unix)]
pub fn mode_for(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporaries_older_than_a_day_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        for name in [".demandsim-old", ".demandsim-new", "kept.csv"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join(".demandsim-olddir")).unwrap();
        // Seen from 25 hours later, everything is old; only the
        // temporaries go.
        let later = SystemTime::now() + Duration::from_secs(25 * 3600);
        remove_stale(dir.path(), later);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["kept.csv"]);
        // From now, none is old.
        std::fs::write(dir.path().join(".demandsim-new"), "x").unwrap();
        remove_stale(dir.path(), SystemTime::now());
        assert!(dir.path().join(".demandsim-new").exists());
    }
}
