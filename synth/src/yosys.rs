//! Synthesis with yosys: the device's `synth_*` script, the cell counts read from
//! `stat -json`, and the netlist for nextpnr.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hgf_hdl::manifest::verilog_ports;
use serde::{Deserialize, Serialize};

use crate::device::{Device, Family};
use crate::error::SynthError;
use crate::resources::{Resources, Use};
use crate::run::{error_lines, run_in};

/// File names of a synthesis run, inside its directory.
const STAT_FILE: &str = "stat.json";
const LOG_FILE: &str = "yosys.log";
const NETLIST_VERILOG_LOG: &str = "yosys-write-verilog.log";

/// What synthesis produced.
#[derive(Clone, Debug, Serialize)]
pub struct Synthesis {
    /// yosys's own name and version, from the stat report.
    pub tool: String,
    /// The script that ran (`yosys -p '<script>'` in the output directory).
    pub script: String,
    pub seconds: f64,
    /// Every cell type and its count, as `stat -json` reports it for the whole design.
    pub cells: BTreeMap<String, u64>,
    pub resources: Resources,
    /// Use of each resource of the device.
    pub utilisation: Vec<Use>,
    /// Every resource within the device's capacity.
    pub fits: bool,
    /// The netlist for nextpnr (yosys JSON).
    pub netlist: PathBuf,
    pub stat: PathBuf,
    pub log: PathBuf,
}

/// Writes the mapped netlist `json` (the yosys JSON that [`synthesize`] leaves for nextpnr) as
/// structural Verilog beside it, `<stem>_netlist.v`, and returns its path: the design as the
/// device's cells (`SB_LUT4`, `SB_CARRY`, `SB_DFF*`, `SB_MAC16`, `SB_RAM40_4K`, ...), for
/// gate-level simulation with the family's [`cell_models`]. Attributes are left out
/// (`write_verilog -noattr`); they carry no function.
pub fn write_netlist_verilog(yosys: &Path, json: &Path) -> Result<PathBuf, SynthError> {
    let bad = |message: &str| SynthError::BadReport {
        what: "netlist",
        path: json.to_path_buf(),
        message: message.to_string(),
    };
    let dir = json.parent().ok_or_else(|| bad("it has no directory"))?;
    let stem = json
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| bad("its file name is not UTF-8"))?;
    let json_name = json
        .file_name()
        .and_then(|s| s.to_str())
        .ok_or_else(|| bad("its file name is not UTF-8"))?;
    let verilog_name = format!("{stem}_netlist.v");
    let script = format!("read_json {json_name}; write_verilog -noattr {verilog_name}");
    run_script(dir, yosys, script, NETLIST_VERILOG_LOG)?;
    Ok(dir.join(verilog_name))
}

/// The simulation models of `family`'s cells that ship with the yosys at `yosys`
/// (`<prefix>/share/yosys/<family>/cells_sim.v` beside `<prefix>/bin/yosys`): the behaviour
/// yosys itself assumes for the cells it maps to.
pub fn cell_models(yosys: &Path, family: Family) -> Result<PathBuf, SynthError> {
    let exe = std::fs::canonicalize(yosys).map_err(SynthError::io(yosys))?;
    let subdir = match family {
        Family::Ice40 => "ice40",
        Family::Ecp5 => "ecp5",
    };
    let models = exe
        .parent()
        .and_then(Path::parent)
        .map(|prefix| prefix.join("share/yosys").join(subdir).join("cells_sim.v"))
        .filter(|p| p.is_file());
    models.ok_or_else(|| SynthError::BadReport {
        what: "yosys installation",
        path: exe.clone(),
        message: format!("no share/yosys/{subdir}/cells_sim.v beside its bin directory"),
    })
}

/// `stat -json` output: per module and, for a whole design, `design`.
#[derive(Deserialize)]
struct StatJson {
    creator: Option<String>,
    #[serde(default)]
    modules: BTreeMap<String, StatModule>,
    design: Option<StatModule>,
}

#[derive(Deserialize)]
struct StatModule {
    #[serde(default)]
    num_cells_by_type: BTreeMap<String, u64>,
}

/// Synthesises `verilog` (top module `top`) for `device` with the yosys at `yosys`, in `dir`:
/// writes `<top>.v`, the netlist `<top>.json`, `stat.json` and `yosys.log`.
pub fn synthesize(
    yosys: &Path,
    device: &Device,
    verilog: &str,
    top: &str,
    dir: &Path,
) -> Result<Synthesis, SynthError> {
    let (stat_path, script, run) =
        run_yosys(yosys, &device.synth_command(top), verilog, top, dir, true)?;
    let (tool, cells) = read_stat(&stat_path, top)?;
    let io = verilog_ports(verilog, top)
        .iter()
        .map(|p| p.bits as u64)
        .sum();
    let resources = Resources::from_cells(device.family, &cells, io);
    let utilisation = resources.utilisation(device);
    Ok(Synthesis {
        tool,
        script,
        seconds: run.elapsed.as_secs_f64(),
        fits: utilisation.iter().all(Use::fits),
        cells,
        resources,
        utilisation,
        netlist: dir.join(format!("{top}.json")),
        stat: stat_path,
        log: run.log,
    })
}

/// Writes `verilog` into `dir` and runs `read_verilog; <synth_command>; stat -json` on it
/// (and `write_json` of the netlist when `netlist` is set): the stat file, the script and
/// the run.
fn run_yosys(
    yosys: &Path,
    synth_command: &str,
    verilog: &str,
    top: &str,
    dir: &Path,
    netlist: bool,
) -> Result<(PathBuf, String, crate::run::ToolRun), SynthError> {
    let files = YosysFiles {
        stat: STAT_FILE,
        log: LOG_FILE,
    };
    run_yosys_into(yosys, synth_command, verilog, top, dir, netlist, files)
}

/// Where a yosys run leaves its statistics and its log, in its directory.
#[derive(Clone, Copy)]
pub(crate) struct YosysFiles {
    pub stat: &'static str,
    pub log: &'static str,
}

/// [`run_yosys`] with the file names given (the ASIC flow keeps its own beside the FPGA's).
pub(crate) fn run_yosys_into(
    yosys: &Path,
    synth_command: &str,
    verilog: &str,
    top: &str,
    dir: &Path,
    netlist: bool,
    files: YosysFiles,
) -> Result<(PathBuf, String, crate::run::ToolRun), SynthError> {
    std::fs::create_dir_all(dir).map_err(SynthError::io(dir))?;
    let source = format!("{top}.v");
    std::fs::write(dir.join(&source), verilog).map_err(SynthError::io(dir.join(&source)))?;
    // A stale stat file must not pass for this run's.
    let stat_path = dir.join(files.stat);
    let _ = std::fs::remove_file(&stat_path);
    let mut script = format!(
        "read_verilog {source}; {synth_command}; tee -q -o {} stat -json",
        files.stat
    );
    if netlist {
        script += &format!("; write_json {top}.json");
    }
    let run = run_script(dir, yosys, script.clone(), files.log)?;
    Ok((stat_path, script, run))
}

/// `yosys -p script` in `dir`, its whole output (every pass, not only warnings: `-q` would
/// keep the log empty) logged to `log`; a failure is
/// [`SynthError::ToolFailed`] with the log's error lines.
fn run_script(
    dir: &Path,
    yosys: &Path,
    script: String,
    log: &str,
) -> Result<crate::run::ToolRun, SynthError> {
    let run = run_in(dir, yosys, &["-p".into(), script], log)?;
    if !run.success {
        return Err(SynthError::ToolFailed {
            tool: "yosys",
            status: run.status,
            log: run.log,
            excerpt: error_lines(&run.output, 20).join("\n"),
        });
    }
    Ok(run)
}

/// Synthesises `verilog` for `device` without flattening (`synth_* -noflatten`) and returns
/// the cells of every module (names without yosys's leading `\\`), for the area model's
/// per-block reference. Writes `<top>.v`, `stat.json` and `yosys.log` in `dir`.
pub fn synthesize_hierarchy(
    yosys: &Path,
    device: &Device,
    verilog: &str,
    top: &str,
    dir: &Path,
) -> Result<BTreeMap<String, BTreeMap<String, u64>>, SynthError> {
    let command = format!("{} -noflatten", device.synth_command(top));
    let (stat_path, _, _) = run_yosys(yosys, &command, verilog, top, dir, false)?;
    read_hierarchy(&stat_path)
}

/// The cells of every module of a `stat -json` file (names without the leading `\\`).
pub fn read_hierarchy(
    stat_path: &Path,
) -> Result<BTreeMap<String, BTreeMap<String, u64>>, SynthError> {
    let bad = |message: String| SynthError::BadReport {
        what: "yosys stat report",
        path: stat_path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(stat_path).map_err(|e| bad(e.to_string()))?;
    // yosys 0.23 writes the design's hierarchy as plain text after `"modules"` when there is
    // one (not JSON): keep the document up to the end of `"modules"` (the first line `   },`,
    // at the indent of the top-level keys) and close it.
    let modules_only = match text.find("\n   },\n") {
        Some(end) if serde_json::from_str::<serde_json::Value>(&text).is_err() => {
            format!("{}\n   }}\n}}\n", &text[..end])
        }
        _ => text,
    };
    let stat: StatJson = serde_json::from_str(&modules_only).map_err(|e| bad(e.to_string()))?;
    Ok(stat
        .modules
        .into_iter()
        .map(|(name, m)| {
            (
                name.trim_start_matches('\\').to_string(),
                m.num_cells_by_type,
            )
        })
        .collect())
}

/// Reads the cell counts of the whole design from a `stat -json` file.
fn read_stat(path: &Path, top: &str) -> Result<(String, BTreeMap<String, u64>), SynthError> {
    let bad = |message: String| SynthError::BadReport {
        what: "yosys stat report",
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let stat: StatJson = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let tool = stat.creator.unwrap_or_else(|| "yosys".to_string());
    let design = match stat.design {
        Some(d) => d,
        None => stat
            .modules
            .into_iter()
            .find(|(name, _)| name.trim_start_matches('\\') == top)
            .map(|(_, m)| m)
            .ok_or_else(|| bad(format!("no `design` entry and no module `{top}`")))?,
    };
    if design.num_cells_by_type.is_empty() {
        return Err(bad("the design has no cells".to_string()));
    }
    Ok((tool, design.num_cells_by_type))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::{Tool, Toolbox};

    #[test]
    fn cell_models_are_found_beside_the_installed_yosys() {
        let yosys = Toolbox::from_env()
            .find(Tool::Yosys)
            .expect("yosys installed");
        for family in [Family::Ice40, Family::Ecp5] {
            let models = cell_models(&yosys, family).unwrap();
            let text = std::fs::read_to_string(&models).unwrap();
            let cell = match family {
                Family::Ice40 => "module SB_LUT4",
                Family::Ecp5 => "module LUT4",
            };
            assert!(text.contains(cell), "{}", models.display());
        }
        let missing = cell_models(Path::new("/nonexistent/bin/yosys"), Family::Ice40);
        assert!(matches!(missing, Err(SynthError::Io { .. })), "{missing:?}");
    }
}
