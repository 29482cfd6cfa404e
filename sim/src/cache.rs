//! The on-disk cache of verilated designs, and its atomic creation.
//!
//! Verilating and compiling a design takes seconds, loading a built library milliseconds, so
//! every built design is kept under `<cache root>/<key>/`. Test threads and test processes
//! race to build the same design, so an entry is never written in place: it is built in a
//! private temporary directory, marked complete, and then renamed into place. `rename(2)` of
//! a directory onto an existing, non-empty one fails, so the first finisher wins, the others
//! discard their copy, and nobody ever sees (or `dlopen`s) a half-written entry. Within one
//! process a per-entry mutex makes the other threads wait for the first build instead of
//! repeating it; across processes the work may be done twice, but the result is the same.
//! Temporary directories of killed builds are swept after a few hours; `failed-<key>`
//! directories (the logs of the last failed build of a design) stay until the next failure
//! of the same design replaces them.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::error::SimError;

/// Environment variable that overrides the cache root.
pub const CACHE_ENV: &str = "HGF_SIM_CACHE";

/// Name of the file that marks a complete entry; written last, before the rename.
const COMPLETE: &str = "COMPLETE";

/// Temporary directories older than this were left by a process that died mid-build (no
/// build takes hours) and are deleted.
const ABANDONED_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Whether [`crate::VerilatedLib::build`] ran the tools or found the design in the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// This call ran Verilator and g++. (A thread that waited for another thread's build of
    /// the same design gets [`CacheOutcome::Reused`].)
    Built,
    /// The entry existed; only the library was loaded.
    Reused,
}

/// The cache root: `$HGF_SIM_CACHE` if set, else `hgf-sim-cache` in the workspace's target
/// directory (`CARGO_TARGET_DIR` when this crate was compiled, else `<workspace>/target`).
pub fn default_cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().unwrap_or(manifest);
    let target = match option_env!("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace.join(dir),
        _ => workspace.join("target"),
    };
    target.join("hgf-sim-cache")
}

/// The mutex serialising builds of one entry within this process.
fn entry_lock(path: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let map = LOCKS.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    map.entry(path.to_path_buf()).or_default().clone()
}

/// Deletes the temporary directories of builds that were killed, once per root and process.
fn sweep_abandoned(root: &Path) {
    static SWEPT: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    let swept = SWEPT.get_or_init(Default::default);
    if !swept
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(root.to_path_buf())
    {
        return;
    }
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".tmp-") || name.starts_with(".stale-")) {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        if age.is_some_and(|age| age > ABANDONED_AFTER) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn is_complete(entry: &Path) -> bool {
    entry.join(COMPLETE).is_file()
}

/// A directory name no other build (thread or process) uses.
fn unique_name(prefix: &str, name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(".{prefix}-{name}-{}-{n}", std::process::id())
}

/// Returns the complete entry `root/name`, creating it with `build` if it does not exist.
///
/// `build` fills the empty directory it is given. If it fails, that directory is kept as
/// `root/failed-<name>` (replacing an older one) and the paths in the error point there, so
/// the logs can be read.
pub(crate) fn ensure_entry(
    root: &Path,
    name: &str,
    build: impl FnOnce(&Path) -> Result<(), SimError>,
) -> Result<(PathBuf, CacheOutcome), SimError> {
    fs::create_dir_all(root).map_err(SimError::io("creating the cache root", root))?;
    sweep_abandoned(root);
    let entry = root.join(name);
    let lock = entry_lock(&entry);
    let _guard = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if is_complete(&entry) {
        return Ok((entry, CacheOutcome::Reused));
    }
    if entry.exists() {
        // Not made by this cache (entries appear complete or not at all): move it out of
        // the way atomically, then delete it.
        let stale = root.join(unique_name("stale", name));
        if fs::rename(&entry, &stale).is_ok() {
            let _ = fs::remove_dir_all(&stale);
        }
    }
    let tmp = root.join(unique_name("tmp", name));
    fs::create_dir(&tmp).map_err(SimError::io("creating", &tmp))?;
    if let Err(e) = build(&tmp) {
        let failed = root.join(format!("failed-{name}"));
        let _ = fs::remove_dir_all(&failed);
        return Err(match fs::rename(&tmp, &failed) {
            Ok(()) => e.relocate(&tmp, &failed),
            Err(_) => e,
        });
    }
    let marker = tmp.join(COMPLETE);
    fs::write(&marker, b"").map_err(SimError::io("writing", &marker))?;
    match fs::rename(&tmp, &entry) {
        Ok(()) => Ok((entry, CacheOutcome::Built)),
        Err(_) if is_complete(&entry) => {
            // Another process finished first; its entry is equivalent to ours.
            let _ = fs::remove_dir_all(&tmp);
            Ok((entry, CacheOutcome::Built))
        }
        Err(e) => Err(SimError::Io {
            action: "moving a finished build into the cache at",
            path: entry,
            error: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(unique_name(&format!("hgf-sim-cache-test-{tag}"), "x"));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn builds_once_then_reuses() {
        let root = scratch("reuse");
        let (dir, outcome) = ensure_entry(&root, "k", |d| {
            fs::write(d.join("payload"), b"1").map_err(SimError::io("writing", d))
        })
        .unwrap();
        assert_eq!(outcome, CacheOutcome::Built);
        assert_eq!(fs::read(dir.join("payload")).unwrap(), b"1");
        let (_, outcome) = ensure_entry(&root, "k", |_| panic!("must not rebuild")).unwrap();
        assert_eq!(outcome, CacheOutcome::Reused);
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn racing_threads_build_one_entry() {
        let root = scratch("race");
        let builds = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let (dir, _) = ensure_entry(&root, "k", |d| {
                        builds.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        fs::write(d.join("payload"), b"ok").map_err(SimError::io("writing", d))
                    })
                    .unwrap();
                    assert_eq!(fs::read(dir.join("payload")).unwrap(), b"ok");
                });
            }
        });
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        let leftovers: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "temporary dirs left: {leftovers:?}");
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn losing_a_race_to_another_process_uses_the_winners_entry() {
        let root = scratch("lose");
        // The "other process" completes the entry while this build is still running.
        let (dir, outcome) = ensure_entry(&root, "k", |d| {
            let theirs = root.join("k");
            fs::create_dir(&theirs).unwrap();
            fs::write(theirs.join("payload"), b"theirs").unwrap();
            fs::write(theirs.join(COMPLETE), b"").unwrap();
            fs::write(d.join("payload"), b"ours").map_err(SimError::io("writing", d))
        })
        .unwrap();
        assert_eq!(outcome, CacheOutcome::Built);
        assert_eq!(fs::read(dir.join("payload")).unwrap(), b"theirs");
        let names: Vec<String> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["k".to_string()], "our copy was not removed");
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn an_incomplete_directory_is_replaced() {
        let root = scratch("stale");
        fs::create_dir_all(root.join("k")).unwrap();
        fs::write(root.join("k").join("junk"), b"").unwrap();
        let (dir, outcome) = ensure_entry(&root, "k", |d| {
            fs::write(d.join("payload"), b"new").map_err(SimError::io("writing", d))
        })
        .unwrap();
        assert_eq!(outcome, CacheOutcome::Built);
        assert!(!dir.join("junk").exists());
        assert_eq!(fs::read(dir.join("payload")).unwrap(), b"new");
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn abandoned_temporaries_are_swept() {
        let root = scratch("sweep");
        for name in [".tmp-old-1-0", ".tmp-young-1-0", "failed-x"] {
            fs::create_dir(root.join(name)).unwrap();
        }
        let long_ago = std::time::SystemTime::now() - ABANDONED_AFTER - Duration::from_secs(60);
        fs::File::open(root.join(".tmp-old-1-0"))
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        ensure_entry(&root, "k", |_| Ok(())).unwrap();
        assert!(!root.join(".tmp-old-1-0").exists());
        assert!(
            root.join(".tmp-young-1-0").exists(),
            "a running build was swept"
        );
        assert!(root.join("failed-x").exists());
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn a_failed_build_keeps_its_logs_and_is_not_an_entry() {
        let root = scratch("fail");
        let err = ensure_entry(&root, "k", |d| {
            let log = d.join("tool.log");
            fs::write(&log, b"boom").unwrap();
            Err(SimError::ToolFailed {
                tool: "g++",
                stage: "linking".into(),
                top: "t".into(),
                status: std::os::unix::process::ExitStatusExt::from_raw(256),
                log,
                excerpt: String::new(),
            })
        })
        .unwrap_err();
        let SimError::ToolFailed { log, .. } = err else {
            panic!("wrong error: {err}")
        };
        assert_eq!(log, root.join("failed-k").join("tool.log"));
        assert_eq!(fs::read(&log).unwrap(), b"boom");
        assert!(!root.join("k").exists());
        let _ = fs::remove_dir_all(&root);
    }
}
