//! Output files that exist only when complete, and the check that no output is an input.
//!
//! Every file a command writes goes through [`OutputFiles`]: each is first written to a
//! temporary file in its own directory and renamed over its final name only when every file of
//! the command has been written. A rename within a directory is atomic, so a reader (or a
//! crash, a full disk, an unwritable path) sees either the old file or the whole new one, and
//! a command that fails while writing leaves none of its outputs behind. The temporary names
//! start with a dot and end in `.hgf-tmp`, and are removed when the files are dropped without
//! [`OutputFiles::commit`].
//!
//! [`same_file`] is the one test of whether two paths name one file: the device and inode
//! numbers for files that exist (so that symbolic links, `..` and hard links are seen through),
//! the canonical directory and the file name for files that do not exist yet.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes the temporary files of one process.
static NEXT_TEMPORARY: AtomicU64 = AtomicU64::new(0);

/// Files written to temporary names, to be renamed into place together.
#[derive(Debug, Default)]
pub struct OutputFiles {
    staged: Vec<Staged>,
}

#[derive(Debug)]
struct Staged {
    temporary: PathBuf,
    path: PathBuf,
}

impl OutputFiles {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `bytes` to a temporary file beside `path`.
    pub fn stage(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.stage_with(path, |w| w.write_all(bytes))
    }

    /// Writes a temporary file beside `path` with `write` (buffered, flushed here).
    pub fn stage_with(
        &mut self,
        path: &Path,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let temporary = temporary_beside(path)?;
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
            .and_then(|file| {
                // Registered before writing, so that a failed write is cleaned up on drop.
                self.staged.push(Staged {
                    temporary: temporary.clone(),
                    path: path.to_path_buf(),
                });
                let mut out = io::BufWriter::new(file);
                write(&mut out)?;
                let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.sync_all()
            })
    }

    /// The final paths of the staged files, in the order they were staged.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.staged.iter().map(|s| s.path.as_path())
    }

    /// Renames every staged file to its final name, in order. Should a rename fail, the error
    /// names the files already in place (the others are removed).
    pub fn commit(mut self) -> io::Result<Vec<PathBuf>> {
        let mut done = Vec::new();
        for staged in std::mem::take(&mut self.staged).into_iter() {
            if let Err(e) = fs::rename(&staged.temporary, &staged.path) {
                let _ = fs::remove_file(&staged.temporary);
                let kept = if done.is_empty() {
                    String::new()
                } else {
                    let names: Vec<String> = done
                        .iter()
                        .map(|p: &PathBuf| p.display().to_string())
                        .collect();
                    format!(" (already written: {})", names.join(", "))
                };
                // The files not yet renamed are removed by `drop`.
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot rename into {}: {e}{kept}", staged.path.display()),
                ));
            }
            done.push(staged.path);
        }
        Ok(done)
    }
}

impl Drop for OutputFiles {
    fn drop(&mut self) {
        for staged in &self.staged {
            let _ = fs::remove_file(&staged.temporary);
        }
    }
}

/// Writes one file through a temporary file renamed into place.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut files = OutputFiles::new();
    files.stage(path, bytes)?;
    files.commit().map(drop)
}

/// `.<name>.<pid>-<n>.hgf-tmp` in the directory of `path`: where a tool that writes a file
/// itself (Verilator's VCD) can write it, for the caller to rename to `path` when it is whole.
pub fn temporary_beside(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", path.display()),
        )
    })?;
    let n = NEXT_TEMPORARY.fetch_add(1, Ordering::Relaxed);
    let temporary = format!(
        ".{}.{}-{n}.hgf-tmp",
        name.to_string_lossy(),
        std::process::id()
    );
    Ok(path.with_file_name(temporary))
}

/// Whether `a` and `b` name the same file: the same device and inode when both exist (through
/// symbolic links and hard links), else the same canonical directory and file name.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(ma), Ok(mb)) => ma.dev() == mb.dev() && ma.ino() == mb.ino(),
        (Err(_), Err(_)) => match (location(a), location(b)) {
            (Some(la), Some(lb)) => la == lb,
            _ => a == b,
        },
        // One exists and the other does not: two files.
        _ => false,
    }
}

/// The canonical directory of `path` joined with its file name, when the directory exists.
fn location(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(dir).ok()?.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .expect("reads the directory")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|n| n.ends_with(".hgf-tmp"))
            .collect()
    }

    #[test]
    fn staged_files_appear_only_on_commit() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt");
        fs::write(&a, b"old").expect("writes");
        let mut files = OutputFiles::new();
        files.stage(&a, b"new a").expect("stages a");
        files.stage(&b, b"new b").expect("stages b");
        assert_eq!(fs::read(&a).expect("reads a"), b"old");
        assert!(!b.exists());
        let written = files.commit().expect("commits");
        assert_eq!(written, vec![a.clone(), b.clone()]);
        assert_eq!(fs::read(&a).expect("reads a"), b"new a");
        assert_eq!(fs::read(&b).expect("reads b"), b"new b");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_stage_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let a = dir.path().join("a.txt");
        let mut files = OutputFiles::new();
        files.stage(&a, b"a").expect("stages a");
        let missing = dir.path().join("no-such-dir").join("b.txt");
        assert!(files.stage(&missing, b"b").is_err());
        let failing = dir.path().join("c.txt");
        let err = files
            .stage_with(&failing, |_| Err(io::Error::other("disk full")))
            .expect_err("the writer fails");
        assert!(err.to_string().contains("disk full"), "{err}");
        drop(files);
        assert!(!a.exists());
        assert!(!failing.exists());
        assert!(
            leftovers(dir.path()).is_empty(),
            "{:?}",
            leftovers(dir.path())
        );
    }

    #[test]
    fn same_file_sees_through_links_and_dot_dot() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("f");
        fs::write(&file, b"x").expect("writes");
        let hard = dir.path().join("hard");
        fs::hard_link(&file, &hard).expect("links");
        let soft = dir.path().join("soft");
        std::os::unix::fs::symlink(&file, &soft).expect("links");
        fs::create_dir(dir.path().join("sub")).expect("creates");
        let dotted = dir.path().join("sub").join("..").join("f");
        for other in [&hard, &soft, &dotted] {
            assert!(same_file(&file, other), "{}", other.display());
        }
        let other = dir.path().join("g");
        fs::write(&other, b"x").expect("writes");
        assert!(!same_file(&file, &other));
        // Neither exists: their locations decide.
        let new = dir.path().join("new");
        let new_dotted = dir.path().join("sub").join("..").join("new");
        assert!(same_file(&new, &new_dotted));
        assert!(!same_file(&new, &dir.path().join("new2")));
    }
}
