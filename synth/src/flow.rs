//! The whole flow for one config: emit the core in its place-and-route wrapper, synthesise,
//! place and route, and report.

use hgf_golden::output::write_atomically;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hgf_estimate::area::{estimate_area, AreaEstimate, Resource};
use hgf_golden::{HgfConfig, Target};
use hgf_hdl::emit::generate_pnr_top;
use hgf_hdl::pnr_wrapper::PnrWrapper;
use serde::Serialize;

use crate::calibration::{error_percent, totals};
use crate::device::Device;
use crate::error::SynthError;
use crate::nextpnr::{place_and_route, PnrOutcome};
use crate::tools::{Tool, Toolbox};
use crate::yosys::{synthesize, Synthesis};

/// Highest frequency the flow accepts, in MHz (far above anything these parts reach).
pub const MAX_FREQ_MHZ: f64 = 1000.0;

/// What to run.
#[derive(Clone, Debug)]
pub struct FlowOptions {
    pub target: Target,
    /// Frequency nextpnr is asked for, in MHz.
    pub freq_mhz: f64,
    /// Where every file goes (created if missing).
    pub out_dir: PathBuf,
    /// Run nextpnr after yosys.
    pub place_and_route: bool,
}

/// A step of the flow, for progress reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Emit,
    Synthesis,
    PlaceAndRoute,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Emit => "emit Verilog (core in its P&R wrapper)",
            Stage::Synthesis => "synthesis (yosys)",
            Stage::PlaceAndRoute => "place and route (nextpnr)",
        }
    }
}

/// Progress of the flow: a stage starts, or ends after some time.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    Started(Stage),
    Finished(Stage, Duration),
}

/// The wrapper the core was placed in.
#[derive(Clone, Debug, Serialize)]
pub struct WrapperInfo {
    /// Pins of the wrapper (all one bit).
    pub pins: usize,
    /// Register bits that hold the core's data inputs (none can be trimmed).
    pub input_register_bits: usize,
    pub output_register_bits: usize,
}

/// Everything one run of the flow measured (`synth.json`).
#[derive(Clone, Debug, Serialize)]
pub struct SynthReport {
    pub generator: String,
    pub config: HgfConfig,
    pub target: Target,
    pub device: Device,
    /// Top module that was synthesised: the core inside its wrapper.
    pub top: String,
    pub wrapper: WrapperInfo,
    pub requested_mhz: f64,
    pub synthesis: Synthesis,
    /// `None` when place-and-route was not asked for.
    pub place_and_route: Option<PnrOutcome>,
    /// The area model's figures for this config and target (`hgf_estimate::area`), made
    /// before synthesis.
    pub estimate: AreaEstimate,
    /// The estimate of the wrapped core against synthesis, per resource.
    pub estimate_check: Vec<EstimateCheck>,
    pub out_dir: PathBuf,
}

impl SynthReport {
    /// The design fits the device: by place-and-route when it ran, else by the synthesis
    /// counts.
    pub fn fits(&self) -> bool {
        match &self.place_and_route {
            Some(PnrOutcome::Placed(_)) => true,
            Some(PnrOutcome::DoesNotFit(_)) => false,
            None => self.synthesis.fits,
        }
    }

    /// Placed, routed and at least as fast as requested.
    pub fn timing_met(&self) -> Option<bool> {
        match &self.place_and_route {
            Some(PnrOutcome::Placed(p)) => Some(p.timing_met),
            _ => None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report always serialises")
    }
}

/// One resource of the area estimate against the synthesis count.
#[derive(Clone, Debug, Serialize)]
pub struct EstimateCheck {
    pub resource: Resource,
    pub estimate: u64,
    pub yosys: u64,
    /// `(estimate - yosys) / yosys` in percent.
    pub error_percent: f64,
}

/// File name of the report in the output directory.
pub const REPORT_FILE: &str = "synth.json";

/// Runs the flow on the core of `cfg`: the tools are looked up in `tools` first, so that a
/// missing one is reported before minutes of synthesis.
pub fn run_flow(
    cfg: &HgfConfig,
    opts: &FlowOptions,
    tools: &Toolbox,
    progress: &mut dyn FnMut(Progress),
) -> Result<SynthReport, SynthError> {
    let (device, yosys, nextpnr) =
        check_and_find_tools(opts.target, opts.freq_mhz, opts.place_and_route, tools)?;
    let dir = &opts.out_dir;
    std::fs::create_dir_all(dir).map_err(SynthError::io(dir))?;

    let pnr_top = timed(progress, Stage::Emit, || {
        generate_pnr_top(cfg).map_err(SynthError::from)
    })?;
    let synthesis = timed(progress, Stage::Synthesis, || {
        synthesize(&yosys, &device, &pnr_top.verilog, &pnr_top.top, dir)
    })?;
    let place_and_route = match nextpnr {
        Some(exe) => Some(timed(progress, Stage::PlaceAndRoute, || {
            place_and_route(&exe, &device, &synthesis.netlist, opts.freq_mhz, dir)
        })?),
        None => None,
    };
    let estimate = estimate_area(cfg, opts.target);
    let measured = totals(device.family, &synthesis.resources);
    let estimate_check = Resource::ALL
        .iter()
        .map(|&resource| EstimateCheck {
            resource,
            estimate: estimate.with_wrapper.get(resource),
            yosys: measured.get(resource),
            error_percent: error_percent(
                estimate.with_wrapper.get(resource),
                measured.get(resource),
            ),
        })
        .collect();
    let report = SynthReport {
        generator: format!("hgf-hw {}", env!("CARGO_PKG_VERSION")),
        config: cfg.clone(),
        target: opts.target,
        device,
        top: pnr_top.top,
        wrapper: WrapperInfo {
            pins: pnr_top.ports.len(),
            input_register_bits: PnrWrapper::input_register_bits(cfg),
            output_register_bits: PnrWrapper::OUTPUT_REGISTER_BITS,
        },
        requested_mhz: opts.freq_mhz,
        synthesis,
        place_and_route,
        estimate,
        estimate_check,
        out_dir: dir.clone(),
    };
    write(&dir.join(REPORT_FILE), &report.to_json())?;
    Ok(report)
}

/// The checks every run makes before anything is written or run: the frequency is one the
/// flow accepts, and yosys (and nextpnr for the target's family, when `place_and_route`) can
/// be found. Returns the target's device and the tools' paths.
pub(crate) fn check_and_find_tools(
    target: Target,
    freq_mhz: f64,
    place_and_route: bool,
    tools: &Toolbox,
) -> Result<(Device, PathBuf, Option<PathBuf>), SynthError> {
    if !(freq_mhz > 0.0 && freq_mhz <= MAX_FREQ_MHZ) {
        return Err(SynthError::BadFrequency { value: freq_mhz });
    }
    let device = Device::of(target);
    let yosys = tools.find(Tool::Yosys)?;
    let nextpnr = if place_and_route {
        Some(tools.find(Tool::nextpnr(device.family))?)
    } else {
        None
    };
    Ok((device, yosys, nextpnr))
}

pub(crate) fn timed<T>(
    progress: &mut dyn FnMut(Progress),
    stage: Stage,
    f: impl FnOnce() -> Result<T, SynthError>,
) -> Result<T, SynthError> {
    progress(Progress::Started(stage));
    let start = Instant::now();
    let out = f()?;
    progress(Progress::Finished(stage, start.elapsed()));
    Ok(out)
}

/// Through a temporary file renamed into place: the report appears whole or not at all.
pub(crate) fn write(path: &Path, text: &str) -> Result<(), SynthError> {
    write_atomically(path, text.as_bytes()).map_err(SynthError::io(path))
}
