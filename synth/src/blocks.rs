//! Every block of the core synthesised, placed and routed on its own (`hgf synth --blocks`):
//! a per-block Fmax, so that the slowest block is always visible.

use std::path::PathBuf;

use hgf_golden::{HgfConfig, Target};
use hgf_hdl::block_wrapper::{wrap_block, CoreBlock};
use serde::Serialize;

use crate::device::{Device, Family};
use crate::error::SynthError;
use crate::flow::{check_and_find_tools, timed, write, Progress, Stage};
use crate::nextpnr::{place_and_route_seeded, PnrOutcome};
use crate::tools::Toolbox;
use crate::yosys::{synthesize, Synthesis};

/// File name of the report in the output directory.
pub const BLOCKS_REPORT_FILE: &str = "blocks.json";

/// The clock nextpnr is asked for by default, per family, in MHz: the per-block aim of issue
/// 16 (a block at least this fast does not hold the core back).
pub fn block_aim_mhz(family: Family) -> f64 {
    match family {
        Family::Ice40 => 50.0,
        Family::Ecp5 => 150.0,
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct BlockOptions {
    pub target: Target,
    /// Frequency nextpnr is asked for, in MHz.
    pub freq_mhz: f64,
    /// The placer's seed.
    pub seed: u32,
    /// Where every file goes: one directory per block, `blocks.json` beside them.
    pub out_dir: PathBuf,
}

/// One block, synthesised and placed on its own.
#[derive(Clone, Debug, Serialize)]
pub struct BlockResult {
    pub name: String,
    /// What the block is, in a few words.
    pub what: String,
    /// The wrapper's top module.
    pub top: String,
    /// Bits of the wrapper's input chain (the block's data inputs) and output register.
    pub input_bits: usize,
    pub output_bits: usize,
    pub synthesis: Synthesis,
    pub place_and_route: PnrOutcome,
    pub out_dir: PathBuf,
}

impl BlockResult {
    /// Logic sites after placement (`ICESTORM_LC`, `TRELLIS_COMB`): the LUTs, carries and
    /// route-throughs as the device holds them. `None` when the block did not fit.
    pub fn logic_cells(&self) -> Option<u64> {
        match &self.place_and_route {
            PnrOutcome::Placed(p) => ["ICESTORM_LC", "TRELLIS_COMB"]
                .iter()
                .find_map(|site| p.utilisation.get(*site))
                .map(|u| u.used),
            PnrOutcome::DoesNotFit(_) => None,
        }
    }

    /// Fmax of the clock after routing, in MHz (`None`: not placed, or no register path).
    pub fn fmax_mhz(&self) -> Option<f64> {
        match &self.place_and_route {
            PnrOutcome::Placed(p) => p.fmax_mhz,
            PnrOutcome::DoesNotFit(_) => None,
        }
    }
}

/// Every block of one run (`blocks.json`).
#[derive(Clone, Debug, Serialize)]
pub struct BlocksReport {
    pub generator: String,
    pub config: HgfConfig,
    pub target: Target,
    pub device: Device,
    pub requested_mhz: f64,
    pub seed: u32,
    pub blocks: Vec<BlockResult>,
    /// The blocks with the lowest Fmax (several when they tie to 0.01 MHz).
    pub slowest: Vec<String>,
    pub out_dir: PathBuf,
}

impl BlocksReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report always serialises")
    }
}

/// Synthesises, places and routes each of `blocks`, built for `cfg`, in its wrapper
/// ([`hgf_hdl::block_wrapper::wrap_block`]), one after the other, with the flow of
/// [`crate::run_flow`] (the same yosys script and nextpnr passes). `progress` hears of every
/// stage of every block. The tools are looked up first, and every block is put in its wrapper
/// before any tool runs, so that a bad block is reported before minutes of synthesis.
pub fn run_blocks(
    cfg: &HgfConfig,
    blocks: &[CoreBlock],
    opts: &BlockOptions,
    tools: &Toolbox,
    progress: &mut dyn FnMut(&str, Progress),
) -> Result<BlocksReport, SynthError> {
    let (device, yosys, nextpnr) = check_and_find_tools(opts.target, opts.freq_mhz, true, tools)?;
    let nextpnr = nextpnr.expect("asked for with place_and_route");
    std::fs::create_dir_all(&opts.out_dir).map_err(SynthError::io(&opts.out_dir))?;

    let mut wrapped = Vec::new();
    for block in blocks {
        progress(block.name, Progress::Started(Stage::Emit));
        let start = std::time::Instant::now();
        wrapped.push(wrap_block(block, cfg).map_err(SynthError::Block)?);
        progress(block.name, Progress::Finished(Stage::Emit, start.elapsed()));
    }
    let mut results = Vec::new();
    for (block, w) in blocks.iter().zip(wrapped) {
        let dir = opts.out_dir.join(&w.name);
        let mut stage_progress = |p| progress(block.name, p);
        let synthesis = timed(&mut stage_progress, Stage::Synthesis, || {
            synthesize(&yosys, &device, &w.verilog, &w.top, &dir)
        })?;
        let placed = timed(&mut stage_progress, Stage::PlaceAndRoute, || {
            place_and_route_seeded(
                &nextpnr,
                &device,
                &synthesis.netlist,
                opts.freq_mhz,
                opts.seed,
                &dir,
            )
        })?;
        results.push(BlockResult {
            name: w.name,
            what: block.what.to_string(),
            top: w.top,
            input_bits: w.input_bits,
            output_bits: w.output_bits,
            synthesis,
            place_and_route: placed,
            out_dir: dir,
        });
    }
    let report = BlocksReport {
        generator: format!("hgf-hw {}", env!("CARGO_PKG_VERSION")),
        config: cfg.clone(),
        target: opts.target,
        device,
        requested_mhz: opts.freq_mhz,
        seed: opts.seed,
        slowest: slowest(&results),
        blocks: results,
        out_dir: opts.out_dir.clone(),
    };
    write(&opts.out_dir.join(BLOCKS_REPORT_FILE), &report.to_json())?;
    Ok(report)
}

/// The names of the blocks whose Fmax is lowest (within 0.01 MHz of it).
fn slowest(results: &[BlockResult]) -> Vec<String> {
    let lowest = results
        .iter()
        .filter_map(BlockResult::fmax_mhz)
        .fold(f64::INFINITY, f64::min);
    results
        .iter()
        .filter(|r| r.fmax_mhz().is_some_and(|f| f - lowest < 0.01))
        .map(|r| r.name.clone())
        .collect()
}
