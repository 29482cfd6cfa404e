//! Shared helpers: run the `hgf` binary and capture what it printed.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `hgf` with `args` in `dir`.
pub fn hgf_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hgf"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the hgf binary runs")
}

/// Runs `hgf` with `args` in the crate directory.
pub fn hgf(args: &[&str]) -> Output {
    hgf_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
