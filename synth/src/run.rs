//! Running one tool of the flow in the output directory, with its log kept.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::SynthError;

/// What a finished tool run left behind.
pub(crate) struct ToolRun {
    pub success: bool,
    /// Exit status as text ("exit status: 255", "signal: 9").
    pub status: String,
    /// Everything it printed (stdout, then stderr).
    pub output: String,
    /// Where that output was written.
    pub log: PathBuf,
    pub elapsed: Duration,
}

/// Runs `exe args` in `dir` and writes its output to `dir/log_name`. The tools get relative
/// file names and run in `dir`: YoWASP's WebAssembly builds see the working directory only.
pub(crate) fn run_in(
    dir: &Path,
    exe: &Path,
    args: &[String],
    log_name: &str,
) -> Result<ToolRun, SynthError> {
    let start = Instant::now();
    let out = Command::new(exe)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(SynthError::io(exe))?;
    let elapsed = start.elapsed();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = dir.join(log_name);
    std::fs::write(&log, &output).map_err(SynthError::io(&log))?;
    Ok(ToolRun {
        success: out.status.success(),
        status: out.status.to_string(),
        output,
        log,
        elapsed,
    })
}

/// The lines of a tool's output that say what went wrong (at most `max`).
pub(crate) fn error_lines(output: &str, max: usize) -> Vec<String> {
    output
        .lines()
        .filter(|l| l.starts_with("ERROR") || l.contains("Error") || l.starts_with("error"))
        .take(max)
        .map(str::to_string)
        .collect()
}

/// The first line `exe --version` (or `-V`) prints, for the report.
pub(crate) fn version(exe: &Path, flag: &str) -> String {
    Command::new(exe)
        .arg(flag)
        .output()
        .ok()
        .and_then(|o| {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            text.lines().next().map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}
