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
const PACK_REPORT_FILE: &str = "pack.json";
const PACK_LOG_FILE: &str = "nextpnr-pack.log";

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
    /// The net the start cell drives: the register's own name (`in_chain[0]`), where the
    /// cell's name can be another's (nextpnr-ice40 names a logic cell after the LUT packed in
    /// it, and the first step of its paths names the cell of the path's first LUT).
    pub from_net: Option<String>,
    /// The name the reports give its start: `from_net` where nextpnr names one (the
    /// register's), else `from`.
    pub start: String,
    /// The cell it ends at.
    pub to: String,
    /// Sum of the path's delays, in ns.
    pub delay_ns: f64,
}

/// A design nextpnr could not place: more cells of some type than the device has sites.
#[derive(Clone, Debug, Serialize)]
pub struct NoFit {
    pub tool: String,
    /// The nextpnr run that found it.
    pub command: String,
    pub seconds: f64,
    /// Site types the packed design needs more of than the device has (from the packing
    /// pass's report; empty when the placer found the shortage).
    pub over: Vec<Overuse>,
    /// nextpnr's error lines when the placer found the shortage (which cell, which site type
    /// or pin).
    pub errors: Vec<String>,
    pub log: PathBuf,
}

/// One site type the design needs more of than the device has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Overuse {
    pub site: String,
    pub used: u64,
    pub available: u64,
}

impl NoFit {
    /// What ran out, in one line.
    pub fn summary(&self) -> String {
        if self.over.is_empty() {
            return self.errors.join("; ");
        }
        self.over
            .iter()
            .map(|o| format!("{} {} of {}", o.site, o.used, o.available))
            .collect::<Vec<_>>()
            .join(", ")
    }
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
    #[serde(default)]
    net: Option<String>,
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
    "Unable to find legal placement",
    "Failed to expand region",
    "Unable to place cell",
];

/// One nextpnr run: the command line and where its report and log go.
struct Pass<'a> {
    nextpnr: &'a Path,
    dir: &'a Path,
    args: Vec<String>,
    report: PathBuf,
    log_name: &'static str,
}

impl Pass<'_> {
    fn command(&self) -> String {
        let exe = self
            .nextpnr
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("{exe} {}", self.args.join(" "))
    }

    /// Runs the pass: its report, or the "does not fit" it ended with.
    fn run(&self, tool: &str) -> Result<Result<ReportJson, NoFit>, SynthError> {
        let _ = std::fs::remove_file(&self.report);
        let run = run_in(self.dir, self.nextpnr, &self.args, self.log_name)?;
        if !run.success {
            if NO_FIT_MESSAGES.iter().any(|m| run.output.contains(m)) {
                return Ok(Err(NoFit {
                    tool: tool.to_string(),
                    command: self.command(),
                    seconds: run.elapsed.as_secs_f64(),
                    over: Vec::new(),
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
            path: self.report.clone(),
            message,
        };
        let text = std::fs::read_to_string(&self.report).map_err(|e| bad(e.to_string()))?;
        serde_json::from_str(&text)
            .map(Ok)
            .map_err(|e| bad(e.to_string()))
    }
}

/// Places and routes `netlist` (a yosys JSON in `dir`) on `device` with the nextpnr at
/// `nextpnr`, asking for `freq_mhz` on every clock. Pins are left unconstrained (the wrapper's
/// pins are not a board's).
///
/// A packing pass comes first (`--pack-only`, seconds): when the packed design needs more
/// sites of some type than the device has, that is the answer, read from the pass's report
/// (`pack.json`), instead of a placer searching for many minutes. Otherwise the full run
/// writes `report.json` and `nextpnr.log` into `dir`.
pub fn place_and_route(
    nextpnr: &Path,
    device: &Device,
    netlist: &Path,
    freq_mhz: f64,
    dir: &Path,
) -> Result<PnrOutcome, SynthError> {
    place_and_route_seeded(nextpnr, device, netlist, freq_mhz, SEED, dir)
}

/// [`place_and_route`] with the placer's seed given (`--seed`) instead of [`SEED`].
pub fn place_and_route_seeded(
    nextpnr: &Path,
    device: &Device,
    netlist: &Path,
    freq_mhz: f64,
    seed: u32,
    dir: &Path,
) -> Result<PnrOutcome, SynthError> {
    let args = |extra: &[&str], report: &str| -> Vec<String> {
        let mut args = device_args(device, netlist);
        args.extend(
            [
                "--freq",
                &format!("{freq_mhz}"),
                "--timing-allow-fail",
                "--seed",
                &seed.to_string(),
            ]
            .iter()
            .chain(extra)
            .chain(&["--report", report])
            .map(|s| s.to_string()),
        );
        args
    };
    let tool = version(nextpnr, "--version");

    let pack = Pass {
        nextpnr,
        dir,
        args: args(&["--pack-only"], PACK_REPORT_FILE),
        report: dir.join(PACK_REPORT_FILE),
        log_name: PACK_LOG_FILE,
    };
    let pack_start = std::time::Instant::now();
    let packed = match pack.run(&tool)? {
        Ok(report) => report,
        Err(no_fit) => return Ok(PnrOutcome::DoesNotFit(no_fit)),
    };
    let over: Vec<Overuse> = packed
        .utilization
        .iter()
        .filter(|(_, u)| u.used > u.available)
        .map(|(site, u)| Overuse {
            site: site.clone(),
            used: u.used,
            available: u.available,
        })
        .collect();
    if !over.is_empty() {
        return Ok(PnrOutcome::DoesNotFit(NoFit {
            tool,
            command: pack.command(),
            seconds: pack_start.elapsed().as_secs_f64(),
            over,
            errors: Vec::new(),
            log: dir.join(PACK_LOG_FILE),
        }));
    }

    let full = Pass {
        nextpnr,
        dir,
        args: args(&[], REPORT_FILE),
        report: dir.join(REPORT_FILE),
        log_name: LOG_FILE,
    };
    let start = std::time::Instant::now();
    let report = match full.run(&tool)? {
        Ok(report) => report,
        Err(no_fit) => return Ok(PnrOutcome::DoesNotFit(no_fit)),
    };
    let seconds = start.elapsed().as_secs_f64();
    let command = full.command();
    let report_path = full.report;
    let run_log = dir.join(LOG_FILE);
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
        log: run_log,
    }))
}

/// The part, the package, the netlist (by its name: nextpnr runs in its directory) and
/// unconstrained pins: the arguments every nextpnr run here starts with.
fn device_args(device: &Device, netlist: &Path) -> Vec<String> {
    let netlist_name = netlist
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unconstrained = match device.family {
        Family::Ice40 => "--pcf-allow-unconstrained",
        Family::Ecp5 => "--lpf-allow-unconstrained",
    };
    [
        device.nextpnr_part,
        "--package",
        device.package,
        "--json",
        &netlist_name,
        unconstrained,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// nextpnr's packing pass alone (`--pack-only`, seconds) on `netlist` in `dir`: the sites
/// the packed design needs, per site type, whether or not they fit (`pack.json`,
/// `nextpnr-pack.log`). The area calibration reads iCE40's `ICESTORM_LC` from it.
pub fn pack_only(
    nextpnr: &Path,
    device: &Device,
    netlist: &Path,
    dir: &Path,
) -> Result<BTreeMap<String, SiteUse>, SynthError> {
    let mut args = device_args(device, netlist);
    args.extend(
        ["--pack-only", "--report", PACK_REPORT_FILE]
            .iter()
            .map(|s| s.to_string()),
    );
    let pack = Pass {
        nextpnr,
        dir,
        args,
        report: dir.join(PACK_REPORT_FILE),
        log_name: PACK_LOG_FILE,
    };
    match pack.run(&version(nextpnr, "--version"))? {
        Ok(report) => Ok(report.utilization),
        Err(no_fit) => Err(SynthError::ToolFailed {
            tool: "nextpnr",
            status: "packing failed".to_string(),
            log: no_fit.log,
            excerpt: no_fit.errors.join("\n"),
        }),
    }
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
    let from = p.path.first()?.from.cell.clone();
    let from_net = p.path.iter().find_map(|s| s.net.clone());
    Some(CriticalPath {
        start: from_net.clone().unwrap_or_else(|| from.clone()),
        from,
        from_net,
        to: p.path.last()?.to.cell.clone(),
        delay_ns: p.path.iter().map(|s| s.delay).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_critical_path_starts_at_the_net_of_its_first_register() {
        // The shape of nextpnr-ice40's report: the clk-to-q step names the cell of the first
        // LUT, the routing step after it the register's net.
        let json = r#"[{"from": "posedge clk", "to": "posedge clk", "path": [
            {"type": "clk-to-q", "delay": 1.0, "from": {"cell": "out_reg_LUT_LC"},
             "to": {"cell": "x_DFFLC"}},
            {"type": "routing", "delay": 2.5, "net": "in_chain[0]",
             "from": {"cell": "x_DFFLC"}, "to": {"cell": "out_reg_LUT_LC"}},
            {"type": "setup", "delay": 0.5, "from": {"cell": "out_reg_LUT_LC"},
             "to": {"cell": "out_reg_LUT_LC"}}]}]"#;
        let paths: Vec<PathJson> = serde_json::from_str(json).unwrap();
        let p = critical_path(&paths, "clk").unwrap();
        assert_eq!(p.from, "out_reg_LUT_LC");
        assert_eq!(p.from_net.as_deref(), Some("in_chain[0]"));
        assert_eq!(p.start, "in_chain[0]");
        assert_eq!(p.to, "out_reg_LUT_LC");
        assert!((p.delay_ns - 4.0).abs() < 1e-9);
        assert!(critical_path(&paths, "other").is_none());

        // A path whose steps name no net starts at its first cell.
        let json = r#"[{"from": "posedge clk", "to": "posedge clk", "path": [
            {"type": "clk-to-q", "delay": 1.0, "from": {"cell": "q_DFF"},
             "to": {"cell": "d_DFF"}}]}]"#;
        let paths: Vec<PathJson> = serde_json::from_str(json).unwrap();
        assert_eq!(critical_path(&paths, "clk").unwrap().start, "q_DFF");
    }

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
