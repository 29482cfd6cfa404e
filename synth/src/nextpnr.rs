//! Place-and-route with nextpnr: Fmax and site utilisation read from its `--report` JSON, or a
//! clean "does not fit" when it runs out of sites.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::device::{Device, Family};
use crate::error::SynthError;
use crate::run::{error_lines, run_in, version};

const REPORT_FILE: &str = "report.json";
const LOG_FILE: &str = "nextpnr.log";

/// Seed of the placer, fixed so that a run can be repeated.
pub const SEED: u32 = 1;

/// The outcome of place-and-route: the design was placed and routed, or it does not fit.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PnrOutcome {
    Placed(Placement),
    DoesNotFit(NoFit),
}

/// A placed and routed design.
#[derive(Clone, Debug, Serialize)]
pub struct Placement {
    /// nextpnr's name and version.
    pub tool: String,
    /// The command that ran (in the output directory).
    pub command: String,
    pub seconds: f64,
    /// The clock nextpnr reports Fmax for (its name for the net of the `clock` port).
    pub clock: Option<String>,
    /// Fmax of that clock after routing, in MHz. `None` when the design has no path between
    /// two registers of the clock.
    pub fmax_mhz: Option<f64>,
    /// The frequency asked for (`--freq`), in MHz.
    pub requested_mhz: f64,
    /// Fmax at least the requested frequency.
    pub timing_met: bool,
    /// Sites used and available, per site type, as nextpnr reports them.
    pub utilisation: BTreeMap<String, SiteUse>,
    /// The slowest register-to-register path of that clock.
    pub critical_path: Option<CriticalPath>,
    pub report: PathBuf,
    pub log: PathBuf,
}

/// Used and available sites of one type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteUse {
    pub used: u64,
    pub available: u64,
}

/// Where the slowest path of a clock starts and ends (the full path is in `report.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CriticalPath {
    /// The cell it starts at (hierarchical name in the flattened netlist).
    pub from: String,
    /// The cell it ends at.
    pub to: String,
    /// Sum of the path's delays, in ns.
    pub delay_ns: f64,
}

/// A design nextpnr could not place: more cells of some type than the device has sites.
#[derive(Clone, Debug, Serialize)]
pub struct NoFit {
    pub tool: String,
    pub command: String,
    pub seconds: f64,
    /// nextpnr's error lines (which cell, which site type).
    pub errors: Vec<String>,
    pub log: PathBuf,
}

/// The parts of nextpnr's `--report` JSON the flow reads (`fmax` per clock, `utilization`
/// per site type; the critical paths are left in the file).
#[derive(Deserialize)]
struct ReportJson {
    #[serde(default)]
    fmax: BTreeMap<String, FmaxEntry>,
    #[serde(default)]
    utilization: BTreeMap<String, SiteUse>,
    #[serde(default)]
    critical_paths: Vec<PathJson>,
}

#[derive(Deserialize)]
struct PathJson {
    from: String,
    to: String,
    #[serde(default)]
    path: Vec<StepJson>,
}

#[derive(Deserialize)]
struct StepJson {
    from: EndJson,
    to: EndJson,
    delay: f64,
}

#[derive(Deserialize)]
struct EndJson {
    cell: String,
}

#[derive(Deserialize)]
struct FmaxEntry {
    achieved: f64,
}

/// nextpnr's messages when a cell finds no free site: the placer ran out of a site type
/// (logic, DSP, RAM), or of package pins.
const NO_FIT_MESSAGES: &[&str] = &[
    "no BELs remaining",
    "Unable to find a placement location",
    "Failed to expand region",
    "Unable to place cell",
];

/// Places and routes `netlist` (a yosys JSON in `dir`) on `device` with the nextpnr at
/// `nextpnr`, asking for `freq_mhz` on every clock. Pins are left unconstrained (the wrapper's
/// pins are not a board's). Writes `report.json` and `nextpnr.log` into `dir`.
pub fn place_and_route(
    nextpnr: &Path,
    device: &Device,
    netlist: &Path,
    freq_mhz: f64,
    dir: &Path,
) -> Result<PnrOutcome, SynthError> {
    let netlist_name = netlist
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let report_path = dir.join(REPORT_FILE);
    let _ = std::fs::remove_file(&report_path);
    let unconstrained = match device.family {
        Family::Ice40 => "--pcf-allow-unconstrained",
        Family::Ecp5 => "--lpf-allow-unconstrained",
    };
    let args: Vec<String> = [
        device.nextpnr_part,
        "--package",
        device.package,
        "--json",
        &netlist_name,
        unconstrained,
        "--freq",
        &format!("{freq_mhz}"),
        "--timing-allow-fail",
        "--seed",
        &SEED.to_string(),
        "--report",
        REPORT_FILE,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let command = format!(
        "{} {}",
        nextpnr
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        args.join(" ")
    );
    let tool = version(nextpnr, "--version");
    let run = run_in(dir, nextpnr, &args, LOG_FILE)?;
    let seconds = run.elapsed.as_secs_f64();
    if !run.success {
        if NO_FIT_MESSAGES.iter().any(|m| run.output.contains(m)) {
            return Ok(PnrOutcome::DoesNotFit(NoFit {
                tool,
                command,
                seconds,
                errors: error_lines(&run.output, 5),
                log: run.log,
            }));
        }
        return Err(SynthError::ToolFailed {
            tool: "nextpnr",
            status: run.status,
            log: run.log,
            excerpt: error_lines(&run.output, 20).join("\n"),
        });
    }
    let bad = |message: String| SynthError::BadReport {
        what: "nextpnr report",
        path: report_path.clone(),
        message,
    };
    let text = std::fs::read_to_string(&report_path).map_err(|e| bad(e.to_string()))?;
    let report: ReportJson = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let clock = core_clock(&report.fmax);
    let fmax_mhz = clock.as_ref().map(|c| report.fmax[c].achieved);
    let critical_path = clock
        .as_deref()
        .and_then(|c| critical_path(&report.critical_paths, c));
    Ok(PnrOutcome::Placed(Placement {
        tool,
        command,
        seconds,
        timing_met: fmax_mhz.is_some_and(|f| f >= freq_mhz),
        clock,
        fmax_mhz,
        requested_mhz: freq_mhz,
        utilisation: report.utilization,
        critical_path,
        report: report_path,
        log: run.log,
    }))
}

/// The clock of the design's `clock` port among nextpnr's clock names (`clock$SB_IO_IN_$glb_clk`
/// on iCE40, `$glbnet$clock$TRELLIS_IO_IN` on ECP5), or the only clock there is.
fn core_clock(fmax: &BTreeMap<String, FmaxEntry>) -> Option<String> {
    if fmax.len() == 1 {
        return fmax.keys().next().cloned();
    }
    fmax.keys()
        .find(|name| name.split('$').any(|part| part == "clock"))
        .cloned()
}

/// The register-to-register path of `clock` (nextpnr names its ends `posedge <clock>`).
fn critical_path(paths: &[PathJson], clock: &str) -> Option<CriticalPath> {
    let edge = format!("posedge {clock}");
    let p = paths.iter().find(|p| p.from == edge && p.to == edge)?;
    Some(CriticalPath {
        from: p.path.first()?.from.cell.clone(),
        to: p.path.last()?.to.cell.clone(),
        delay_ns: p.path.iter().map(|s| s.delay).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_clock_is_found_among_nextpnr_names() {
        let entry = || FmaxEntry { achieved: 1.0 };
        let mut fmax = BTreeMap::new();
        fmax.insert("$glbnet$clock$TRELLIS_IO_IN".to_string(), entry());
        assert_eq!(
            core_clock(&fmax).as_deref(),
            Some("$glbnet$clock$TRELLIS_IO_IN")
        );
        fmax.insert("other_clk".to_string(), entry());
        assert_eq!(
            core_clock(&fmax).as_deref(),
            Some("$glbnet$clock$TRELLIS_IO_IN")
        );
        assert_eq!(core_clock(&BTreeMap::new()), None);
    }
}
