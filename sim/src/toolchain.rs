//! The external tools (Verilator and g++): finding them, and running them with a kept log.
//!
//! Their versions are part of the cache key, so a Verilator or compiler upgrade rebuilds every
//! design instead of loading a library built by another toolchain. They are probed once per
//! process.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::error::SimError;
use crate::mk;

/// The C++ compiler. Verilator 5.006's runtime is tested with GCC; the flags below are GCC's.
pub(crate) const CXX: &str = "g++";

/// What the bridge knows about the installed tools.
#[derive(Debug)]
pub(crate) struct Toolchain {
    /// First line of `verilator --version`.
    pub verilator_version: String,
    /// `verilator --getenv VERILATOR_ROOT`: `include/` holds the runtime sources.
    pub root: PathBuf,
    /// First line of `g++ --version`.
    pub cxx_version: String,
    /// `CFG_CXXFLAGS_NO_UNUSED` of `verilated.mk` (flags Verilator's own build always passes,
    /// such as `-faligned-new`).
    pub cxx_flags: Vec<String>,
    /// `CFG_CXXFLAGS_COROUTINES`, needed by models verilated with `--timing`.
    pub coroutine_flags: Vec<String>,
    /// `CFG_LDLIBS_THREADS`: the runtime's link libraries.
    pub ldlibs: Vec<String>,
}

impl Toolchain {
    pub(crate) fn include_dir(&self) -> PathBuf {
        self.root.join("include")
    }
}

static TOOLCHAIN: OnceLock<Toolchain> = OnceLock::new();

/// The installed toolchain, probed on first use. A failed probe is not cached, so installing
/// the tools fixes a long-running process too.
pub(crate) fn toolchain() -> Result<&'static Toolchain, SimError> {
    if let Some(t) = TOOLCHAIN.get() {
        return Ok(t);
    }
    let probed = probe()?;
    // Another thread may have won the race; both probes describe the same tools.
    let _ = TOOLCHAIN.set(probed);
    TOOLCHAIN.get().ok_or(SimError::ToolMissing {
        tool: "verilator",
        package: "verilator",
    })
}

fn probe() -> Result<Toolchain, SimError> {
    let verilator_version = first_line(&query("verilator", "verilator", &["--version"])?);
    let root_out = query("verilator", "verilator", &["--getenv", "VERILATOR_ROOT"])?;
    let root = PathBuf::from(String::from_utf8_lossy(&root_out.stdout).trim());
    let include = root.join("include");
    if !include.join("verilated.h").is_file() {
        return Err(SimError::ToolOutput {
            tool: "verilator",
            what: "VERILATOR_ROOT",
            path: root,
            reason: "`verilator --getenv VERILATOR_ROOT` names a directory without \
                     include/verilated.h"
                .into(),
        });
    }
    let cxx_version = first_line(&query(CXX, "g++", &["--version"])?);
    let mk_path = include.join("verilated.mk");
    let mk_text = fs::read_to_string(&mk_path).map_err(SimError::io("reading", &mk_path))?;
    let vars = mk::parse_vars(&mk_text);
    let get = |name: &str, fallback: &[&str]| -> Vec<String> {
        vars.get(name)
            .cloned()
            .unwrap_or_else(|| fallback.iter().map(|s| s.to_string()).collect())
    };
    Ok(Toolchain {
        verilator_version,
        root,
        cxx_version,
        cxx_flags: get("CFG_CXXFLAGS_NO_UNUSED", &["-faligned-new"]),
        coroutine_flags: get("CFG_CXXFLAGS_COROUTINES", &["-fcoroutines"]),
        ldlibs: get("CFG_LDLIBS_THREADS", &["-pthread", "-latomic"]),
    })
}

/// Runs `tool args` for its output; a missing program becomes [`SimError::ToolMissing`].
fn query(tool: &'static str, package: &'static str, args: &[&str]) -> Result<Output, SimError> {
    let out = Command::new(tool).args(args).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            SimError::ToolMissing { tool, package }
        } else {
            SimError::Io {
                action: "running",
                path: PathBuf::from(tool),
                error: e,
            }
        }
    })?;
    if !out.status.success() {
        return Err(SimError::ToolOutput {
            tool,
            what: "version query",
            path: PathBuf::from(format!("{tool} {}", args.join(" "))),
            reason: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(out)
}

fn first_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// One tool run: the command, where to keep its log, and what to say if it fails.
pub(crate) struct Step<'a> {
    pub tool: &'static str,
    pub package: &'static str,
    pub stage: String,
    pub top: &'a str,
    pub log: PathBuf,
}

impl Step<'_> {
    /// Runs `cmd`, writes its command line and output to the log, and fails with an excerpt
    /// of the log if the tool fails.
    pub(crate) fn run(&self, cmd: &mut Command) -> Result<(), SimError> {
        let out = cmd.output().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                SimError::ToolMissing {
                    tool: self.tool,
                    package: self.package,
                }
            } else {
                SimError::Io {
                    action: "running",
                    path: PathBuf::from(self.tool),
                    error: e,
                }
            }
        })?;
        let text = format!(
            "$ {cmd:?}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        write_log(&self.log, &text)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(SimError::ToolFailed {
                tool: self.tool,
                stage: self.stage.clone(),
                top: self.top.to_string(),
                status: out.status,
                log: self.log.clone(),
                excerpt: excerpt(&text),
            })
        }
    }
}

fn write_log(path: &Path, text: &str) -> Result<(), SimError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(SimError::io("creating", dir))?;
    }
    fs::write(path, text).map_err(SimError::io("writing", path))
}

/// Lines worth showing in an error: those that look like errors (at most 15), else the last
/// 15 lines.
pub(crate) fn excerpt(log: &str) -> String {
    const MAX: usize = 15;
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| {
            let lower = l.to_ascii_lowercase();
            lower.contains("error") || lower.contains("undefined reference")
        })
        .take(MAX)
        .collect();
    let lines = if errors.is_empty() {
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(MAX)..].to_vec()
    } else {
        errors
    };
    lines
        .iter()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_prefers_error_lines() {
        let log = "$ verilator x.v\n%Warning-WIDTH: meh\n%Error: x.v:3:1: syntax error\nend\n";
        assert_eq!(excerpt(log), "  | %Error: x.v:3:1: syntax error");
        let quiet = (0..20).map(|i| format!("l{i}\n")).collect::<String>();
        let e = excerpt(&quiet);
        assert!(e.starts_with("  | l5") && e.ends_with("l19"), "{e}");
    }
}
