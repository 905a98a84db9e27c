//! Temporaries: the hidden `.demandsim-PID-*` siblings that outputs are
//! written to before they are renamed into place. Ctrl-C removes this
//! run's own before it ends the run ([`on_interrupt`]); a run killed
//! otherwise (SIGKILL, out of memory) cannot, and the next output written
//! into the same folder removes those whose run has ended (its process is
//! gone; on systems without `/proc`, those older than [`STALE_AFTER`]).
//! A folder of files (`export librede`) is staged whole in one such
//! temporary and moved into place only when every file is written.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

/// The prefix of every temporary.
pub const PREFIX: &str = ".demandsim-";

/// Age after which a temporary is taken to be left by a killed run (no
/// run writes one output for a day).
pub const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The prefix of this run's temporaries: [`PREFIX`] and the process id.
pub fn own_prefix() -> String {
    format!("{PREFIX}{}-", std::process::id())
}

/// This run's temporaries not yet moved into place.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The flag of a run that stops cleanly on its first Ctrl-C (a
/// simulation reports what it has), if one is running.
static GRACEFUL: OnceLock<Mutex<Option<Arc<AtomicBool>>>> = OnceLock::new();

/// Notes a temporary (removed on Ctrl-C until [`done`]).
pub fn live(path: &Path) {
    LIVE.lock().map(|mut v| v.push(path.to_path_buf())).ok();
}

/// A temporary moved into place or removed.
pub fn done(path: &Path) {
    LIVE.lock().map(|mut v| v.retain(|p| p != path)).ok();
}

/// Installs the Ctrl-C handler: the first Ctrl-C of a run that stops
/// cleanly ([`stop_cleanly_on_interrupt`]) sets its flag; otherwise (or on a
/// second Ctrl-C) this run's temporaries are removed and it ends with
/// exit code 130, leaving no file half-written.
pub fn on_interrupt() {
    ctrlc::set_handler(|| {
        let flag = GRACEFUL
            .get()
            .and_then(|g| g.lock().ok().and_then(|mut f| f.take()));
        if let Some(flag) = flag {
            flag.store(true, Ordering::Relaxed);
            return;
        }
        let live = LIVE.lock().map(|v| v.clone()).unwrap_or_default();
        for p in live {
            let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
        }
        eprintln!("interrupted");
        std::process::exit(130);
    })
    .ok();
}

/// Makes the next Ctrl-C set `flag` instead of ending the run.
pub fn stop_cleanly_on_interrupt(flag: Arc<AtomicBool>) {
    let g = GRACEFUL.get_or_init(|| Mutex::new(None));
    g.lock().map(|mut f| *f = Some(flag)).ok();
}

/// Whether the run that wrote temporary `name` has ended: its process id
/// (after [`PREFIX`]) names no running process. Only where `/proc` tells.
fn owner_gone(name: &str) -> bool {
    let Some(pid) = name
        .strip_prefix(PREFIX)
        .and_then(|r| r.split_once('-'))
        .and_then(|(pid, _)| pid.parse::<u32>().ok())
    else {
        return false;
    };
    let proc = Path::new("/proc");
    pid != std::process::id() && proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

/// Removes the temporaries in `dir` whose run has ended, or last modified
/// more than [`STALE_AFTER`] before `now`; best effort (a folder that
/// cannot be listed, or a file another user owns, is left alone).
pub fn remove_stale(dir: &Path, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(PREFIX) {
            continue;
        }
        let Ok(meta) = e.metadata() else { continue };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if !old && !owner_gone(&name) {
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
    let stage = tempfile::Builder::new()
        .prefix(&own_prefix())
        .tempdir_in(parent)
        .with_context(|| format!("cannot create a folder in {}", parent.display()))?;
    live(stage.path());
    Ok(stage)
}

/// Moves the staged files into `dir`: the whole folder in one rename when
/// `dir` does not exist, else file by file (each replaced whole).
pub fn publish(stage: tempfile::TempDir, dir: &Path) -> Result<()> {
    if !dir.exists() {
        let path = stage.keep();
        let moved = std::fs::rename(&path, dir);
        done(&path);
        return moved.with_context(|| format!("cannot move the files into {}", dir.display()));
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

    #[cfg(target_os = "linux")]
    #[test]
    fn temporaries_of_runs_that_ended_are_removed_at_once() {
        let dir = tempfile::tempdir().unwrap();
        // Process ids stop at 2^22 on Linux: 99999999 is no process; this
        // test's own process and its parent are running.
        let parent = std::os::unix::process::parent_id();
        let names = [
            ".demandsim-99999999-abc".to_string(),
            format!("{}abc", own_prefix()),
            format!(".demandsim-{parent}-abc"),
            ".demandsim-abc".to_string(),
        ];
        for name in &names {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        remove_stale(dir.path(), SystemTime::now());
        let left: Vec<bool> = names.iter().map(|n| dir.path().join(n).exists()).collect();
        assert_eq!(left, [false, true, true, true]);
    }
}
