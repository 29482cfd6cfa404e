//! Running one tool of the flow in the output directory, with its log kept.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::SynthError;

/// What a finished tool run left behind.
pub(crate) struct ToolRun {
    pub success: bool,
    /// Exit status as text ("exit status: 255", "signal: 9").
    pub status: String,
    /// Everything it printed (stdout and stderr, interleaved).
    pub output: String,
    /// Where that output was written.
    pub log: PathBuf,
    pub elapsed: Duration,
}

/// Runs `exe args` in `dir` with its output going straight into `dir/log_name` (so a long
/// place-and-route can be followed with `tail -f`). The tools get relative file names and
/// run in `dir`: YoWASP's WebAssembly builds see the working directory only.
pub(crate) fn run_in(
    dir: &Path,
    exe: &Path,
    args: &[String],
    log_name: &str,
) -> Result<ToolRun, SynthError> {
    let log = dir.join(log_name);
    let file = File::create(&log).map_err(SynthError::io(&log))?;
    let file_err = file.try_clone().map_err(SynthError::io(&log))?;
    let start = Instant::now();
    let status = Command::new(exe)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(file_err))
        .status()
        .map_err(SynthError::io(exe))?;
    let elapsed = start.elapsed();
    let bytes = std::fs::read(&log).map_err(SynthError::io(&log))?;
    Ok(ToolRun {
        success: status.success(),
        status: status.to_string(),
        output: String::from_utf8_lossy(&bytes).into_owned(),
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
            text.lines()
                .next()
                .map(|l| l.replace('"', "").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}
