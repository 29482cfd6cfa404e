//! Calibration of the area model (`hgf_estimate::area`) against yosys: a sweep of core
//! configs synthesised for iCE40 (`synth_ice40 -dsp`) and ECP5 (`synth_ecp5`) inside the P&R
//! wrapper, exactly as `hgf synth --no-pnr` does; the fit of the model's LUT4 and flip-flop
//! coefficients to it; and the error table of the estimate against every run.
//!
//! One command does it all (docs/estimate.md, "Area"):
//! `cargo run --release -p hgf-synth --example calibrate -- --fit` runs the sweep, fits, and
//! rewrites estimate/src/area_coefficients.rs; without `--fit` it checks the compiled
//! coefficients. The fit:
//!
//! 1. Structural terms are taken out of every measured total: the wrapper's register bits
//!    (exact), the read multiplexers of multi-tile memories, and the wrapper's LUT4 sites
//!    (per input register bit, from the reference's hierarchy).
//! 2. The slopes of every block's features are fitted by least squares to the differences
//!    of the flattened totals from the reference config's ([`REFERENCE`]): the model is
//!    exact on the reference and fitted around it.
//! 3. The fixed parts (the reference's total less every slope term) are shared among the
//!    blocks by a `-noflatten` synthesis of the reference: each block's own cells, scaled by
//!    the ratio of the flattened total to the sum of the blocks (flattening removes logic
//!    across block boundaries), less its slopes times its features there (at least 0).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hgf_estimate::area::{
    estimate_area_with, structural_ff, tile_mux_lut4, AreaTotals, Block, BlockCoefficients,
    FamilyCoefficients, Resource, Term,
};
use hgf_golden::{HgfConfig, Packing, Target};
use hgf_hdl::emit::generate_pnr_top;
use hgf_hdl::pnr_wrapper::PnrWrapper;
use serde::Serialize;

use crate::device::{Device, Family};
use crate::error::SynthError;
use crate::flow::{run_flow, FlowOptions, REPORT_FILE};
use crate::nextpnr::pack_only;
use crate::resources::Resources;
use crate::tools::{Tool, Toolbox};
use crate::yosys::{read_hierarchy, synthesize_hierarchy};

/// The two targets the sweep runs on, one per family.
pub const TARGETS: [Target; 2] = [Target::Ice40Up5k, Target::Ecp5_25k];

/// Label of the sweep config the fit is centred on (its blocks are synthesised without
/// flattening for the fixed parts).
pub const REFERENCE: &str = "s01";

/// Largest error of an estimate against yosys the calibration accepts, in percent.
pub const TOLERANCE_PERCENT: f64 = 10.0;

/// One config of the sweep.
#[derive(Clone, Debug, Serialize)]
pub struct SweepPoint {
    pub label: String,
    pub config: HgfConfig,
}

#[allow(clippy::too_many_arguments)]
fn point(
    label: &str,
    d_in: usize,
    d_out: usize,
    rank: usize,
    rows: usize,
    inputs: usize,
    lanes: usize,
    gate_multipliers: usize,
    packing: Packing,
) -> SweepPoint {
    let config = HgfConfig {
        name: "hgf_core".into(),
        max_d_in: d_in,
        max_d_out: d_out,
        max_rank: rank,
        array_rows: rows,
        array_inputs: inputs,
        fp_lanes: lanes,
        gate_multipliers,
        gate_shares_adder: false,
        packing,
        target: Target::Ice40Up5k,
    };
    config.validate().expect("sweep configs are valid");
    SweepPoint {
        label: label.into(),
        config,
    }
}

/// The full sweep: 25 small cores (d_in, d_out 64..256, so that yosys takes a minute or two
/// each) around the reference `s01` (128 x 128, rank 8, 2 x 20 array, 2 lanes, one gate
/// multiplier, `2bit`), each parameter varied on its own and in combinations: array rows
/// and inputs, FP lanes, gate multipliers, packing, rank, d_in, d_out; `s23` to `s25` are
/// `s16`, `s01` and `s17` with the gate borrowing the low-rank adder.
pub fn sweep() -> Vec<SweepPoint> {
    use Packing::{Base3, TwoBit};
    vec![
        point("s01", 128, 128, 8, 2, 20, 2, 1, TwoBit),
        point("s02", 128, 128, 8, 1, 20, 2, 1, TwoBit),
        point("s03", 128, 128, 8, 4, 20, 2, 1, TwoBit),
        point("s04", 128, 128, 8, 2, 12, 2, 1, TwoBit),
        point("s05", 128, 128, 8, 2, 40, 2, 1, TwoBit),
        point("s06", 128, 128, 8, 2, 20, 1, 1, TwoBit),
        point("s07", 128, 128, 8, 2, 20, 4, 1, TwoBit),
        point("s08", 128, 128, 8, 2, 20, 2, 2, TwoBit),
        point("s09", 128, 128, 8, 2, 20, 2, 1, Base3),
        point("s10", 128, 128, 8, 4, 40, 2, 1, Base3),
        point("s11", 128, 128, 4, 2, 20, 2, 1, TwoBit),
        point("s12", 128, 128, 32, 2, 20, 2, 1, TwoBit),
        point("s13", 256, 128, 8, 2, 20, 2, 1, TwoBit),
        point("s14", 128, 256, 8, 2, 20, 2, 1, TwoBit),
        point("s15", 64, 64, 4, 1, 16, 1, 1, TwoBit),
        point("s16", 256, 256, 8, 1, 20, 1, 1, TwoBit),
        point("s17", 256, 256, 16, 4, 25, 4, 2, Base3),
        point("s18", 64, 256, 8, 8, 8, 2, 2, TwoBit),
        point("s19", 256, 64, 8, 2, 60, 1, 1, Base3),
        point("s20", 128, 128, 16, 4, 20, 2, 2, Base3),
        point("s21", 192, 96, 12, 3, 24, 2, 1, TwoBit),
        point("s22", 128, 128, 8, 2, 15, 4, 2, Base3),
        borrowing_adder(point("s23", 256, 256, 8, 1, 20, 1, 1, TwoBit)),
        borrowing_adder(point("s24", 128, 128, 8, 2, 20, 2, 1, TwoBit)),
        borrowing_adder(point("s25", 256, 256, 16, 4, 25, 4, 2, Base3)),
    ]
}

/// `point` with a gate that borrows low-rank lane 0's adder (`gate_shares_adder`).
fn borrowing_adder(mut point: SweepPoint) -> SweepPoint {
    point.config.gate_shares_adder = true;
    point
}

/// The sweep's smallest configs, for the test suite: `s15` (one lane, one gate multiplier,
/// `2bit`) and `s18` (8 rows, two lanes, two gate multipliers).
pub fn quick_sweep() -> Vec<SweepPoint> {
    sweep()
        .into_iter()
        .filter(|p| p.label == "s15" || p.label == "s18")
        .collect()
}

/// The four estimated resources of a measured design (LUT4 sites as `hgf synth` counts
/// them).
pub fn totals(family: Family, r: &Resources) -> AreaTotals {
    AreaTotals {
        lut4: r.lut4_sites(family),
        ff: r.ff,
        dsp: r.dsp,
        bram: r.bram,
        logic_cells: None,
    }
}

/// One config synthesised for one target.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    pub label: String,
    pub target: Target,
    pub config: HgfConfig,
    pub measured: AreaTotals,
    /// yosys's run time (of the run that produced the figures, when reused).
    pub seconds: f64,
}

/// Synthesises `point` for `target` into `dir` (`hgf synth --no-pnr`'s flow). With `reuse`,
/// a `synth.json` already in `dir` for the same config and target is read instead.
pub fn measure(
    point: &SweepPoint,
    target: Target,
    dir: &Path,
    tools: &Toolbox,
    reuse: bool,
) -> Result<Measurement, SynthError> {
    let device = Device::of(target);
    let family = device.family;
    // iCE40: the logic cells of nextpnr's packing pass (seconds) on the netlist.
    let packed = |mut m: Measurement| -> Result<Measurement, SynthError> {
        if family == Family::Ice40 {
            let nextpnr = tools.find(Tool::NextpnrIce40)?;
            let netlist = dir.join(format!("{}_pnr.json", point.config.name));
            let sites = pack_only(&nextpnr, &device, &netlist, dir)?;
            m.measured.logic_cells = sites.get("ICESTORM_LC").map(|u| u.used);
        }
        Ok(m)
    };
    if reuse {
        if let Some((resources, seconds)) = read_report(&dir.join(REPORT_FILE), point, target) {
            return packed(Measurement {
                label: point.label.clone(),
                target,
                config: point.config.clone(),
                measured: totals(family, &resources),
                seconds,
            });
        }
    }
    let opts = FlowOptions {
        target,
        freq_mhz: 12.0,
        out_dir: dir.to_path_buf(),
        place_and_route: false,
    };
    // Once more on a failure (an ABC abort under load, see `measure_blocks`).
    let report = run_flow(&point.config, &opts, tools, &mut |_| {})
        .or_else(|_| run_flow(&point.config, &opts, tools, &mut |_| {}))?;
    packed(Measurement {
        label: point.label.clone(),
        target,
        config: point.config.clone(),
        measured: totals(family, &report.synthesis.resources),
        seconds: report.synthesis.seconds,
    })
}

/// The resources of an earlier run's `synth.json`, if it is one of `point` on `target`.
fn read_report(path: &Path, point: &SweepPoint, target: Target) -> Option<(Resources, f64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let config: HgfConfig = serde_json::from_value(v.get("config")?.clone()).ok()?;
    let same = HgfConfig {
        target: point.config.target,
        name: point.config.name.clone(),
        ..config
    } == point.config;
    if !same || v.get("target")?.as_str()? != target.name() {
        return None;
    }
    let synthesis = v.get("synthesis")?;
    let cells: BTreeMap<String, u64> =
        serde_json::from_value(synthesis.get("cells")?.clone()).ok()?;
    let io = synthesis.get("resources")?.get("io")?.as_u64()?;
    let seconds = synthesis.get("seconds")?.as_f64()?;
    Some((
        Resources::from_cells(Device::of(target).family, &cells, io),
        seconds,
    ))
}

/// LUT4 sites and flip-flops of every block of a `-noflatten` synthesis.
pub type BlockCounts = BTreeMap<&'static str, (f64, f64)>;

/// Synthesises `point`'s wrapped core for `target` without flattening, in `dir`, and sums
/// the cells of every block's modules, by the rust-hdl path of each instance they stand for
/// (`PnrTop::instances`: `<top>` the wrapper, `<top>$core` the control, `<top>$core$<instance>...`
/// the units). With `reuse`, the `stat.json` of an earlier run
/// in `dir` is read instead.
pub fn measure_blocks(
    point: &SweepPoint,
    target: Target,
    dir: &Path,
    tools: &Toolbox,
    reuse: bool,
) -> Result<BlockCounts, SynthError> {
    let device = Device::of(target);
    let top = generate_pnr_top(&point.config)?;
    let stat = dir.join("stat.json");
    let modules = if reuse && stat.exists() {
        read_hierarchy(&stat)?
    } else {
        let yosys = tools.find(Tool::Yosys)?;
        // Once more on a failure: yosys 0.23's ABC has been seen to abort (status 134) on a
        // loaded machine and then pass on the same input.
        synthesize_hierarchy(&yosys, &device, &top.verilog, &top.top, dir)
            .or_else(|_| synthesize_hierarchy(&yosys, &device, &top.verilog, &top.top, dir))?
    };
    let mut counts = BlockCounts::new();
    // A module written once for several identical instances (hgf_hdl::readable) counts once
    // per instance, each under the block of its rust-hdl path.
    let instances = modules.iter().flat_map(|(module, cells)| {
        top.instances
            .get(module)
            .into_iter()
            .flatten()
            .map(move |path| (path, cells))
    });
    for (path, cells) in instances {
        let parts: Vec<&str> = path.split('$').collect();
        let block = match parts.as_slice() {
            [t, "core", instance, ..] if *t == top.top => Block::ALL
                .into_iter()
                .find(|b| b.instance() == Some(*instance))
                // The core's own registers are modules of their own.
                .unwrap_or(Block::Control),
            [t, "core"] if *t == top.top => Block::Control,
            // The wrapper and its registers.
            [t, ..] if *t == top.top => Block::PnrWrapper,
            _ => continue,
        };
        // Cells of submodule instances are named after their module: not counted here.
        let own: BTreeMap<String, u64> = cells
            .iter()
            .filter(|(c, _)| !c.starts_with(&top.top) && !c.starts_with('$'))
            .map(|(c, &n)| (c.clone(), n))
            .collect();
        let r = Resources::from_cells(device.family, &own, 0);
        let e = counts.entry(block.name()).or_default();
        e.0 += r.lut4_sites(device.family) as f64;
        e.1 += r.ff as f64;
    }
    Ok(counts)
}

/// LUT4 sites and flip-flops the model takes as given (not fitted) for `cfg`: the
/// multi-tile read multiplexers, the wrapper's LUT4 sites at `wrapper_lut4_per_bit`, the
/// wrapper's register bits, and the blocks' structural flip-flops (`structural_ff`: the
/// core's input slices).
fn structural(cfg: &HgfConfig, wrapper_lut4_per_bit: f64) -> (f64, f64) {
    let bits = PnrWrapper::input_register_bits(cfg) as f64;
    let muxes: f64 = Block::ALL.iter().map(|&b| tile_mux_lut4(cfg, b)).sum();
    let wrapper_ff =
        (PnrWrapper::input_register_bits(cfg) + PnrWrapper::OUTPUT_REGISTER_BITS + 1) as f64;
    let blocks_ff: f64 = Block::ALL.iter().map(|&b| structural_ff(cfg, b)).sum();
    (muxes + wrapper_lut4_per_bit * bits, wrapper_ff + blocks_ff)
}

/// Fits the LUT4 and flip-flop coefficients of `family` to `measurements` (of that family,
/// the reference among them) around the reference's per-block counts `blocks`.
pub fn fit(
    family: Family,
    measurements: &[Measurement],
    blocks: &BlockCounts,
    source: &'static str,
) -> FamilyCoefficients {
    let reference = measurements
        .iter()
        .find(|m| m.label == REFERENCE)
        .expect("the reference is measured");
    let ref_cfg = &reference.config;
    let wrapper = blocks
        .get(Block::PnrWrapper.name())
        .copied()
        .unwrap_or_default();
    let wrapper_lut4_per_bit = wrapper.0 / PnrWrapper::input_register_bits(ref_cfg) as f64;
    // The fitted columns: every (block, feature) but the wrapper's.
    let fitted: Vec<Block> = Block::ALL
        .into_iter()
        .filter(|&b| b != Block::PnrWrapper)
        .collect();
    let features = |cfg: &HgfConfig| -> Vec<f64> {
        fitted
            .iter()
            .flat_map(|b| b.features(cfg).into_iter().map(|(_, v)| v))
            .collect()
    };
    let ref_features = features(ref_cfg);
    let (ref_s_lut, ref_s_ff) = structural(ref_cfg, wrapper_lut4_per_bit);
    let ref_y = [
        reference.measured.lut4 as f64 - ref_s_lut,
        reference.measured.ff as f64 - ref_s_ff,
    ];
    let rows: Vec<Vec<f64>> = measurements
        .iter()
        .map(|m| {
            features(&m.config)
                .iter()
                .zip(&ref_features)
                .map(|(f, r)| f - r)
                .collect()
        })
        .collect();
    let mut slopes = [Vec::new(), Vec::new()];
    for (k, slope) in slopes.iter_mut().enumerate() {
        let y: Vec<f64> = measurements
            .iter()
            .map(|m| {
                let (s_lut, s_ff) = structural(&m.config, wrapper_lut4_per_bit);
                let measured = [m.measured.lut4 as f64 - s_lut, m.measured.ff as f64 - s_ff];
                measured[k] - ref_y[k]
            })
            .collect();
        *slope = least_squares(&rows, &y);
    }
    // Fixed parts from the reference's blocks, scaled to the flattened total.
    let block_sum = |k: usize| -> f64 {
        fitted
            .iter()
            .map(|b| {
                let c = blocks.get(b.name()).copied().unwrap_or_default();
                if k == 0 {
                    c.0
                } else {
                    c.1 - structural_ff(ref_cfg, *b)
                }
            })
            .sum()
    };
    let scale = [ref_y[0] / block_sum(0), ref_y[1] / block_sum(1)];
    // Per block and resource: the slopes, the block's share of the reference beyond them
    // (`scale · own − slopes · features`, at least 0), and from the shares the fixed parts,
    // which add up to the reference's total less all slope terms (so the model is exact at
    // the reference and no fixed part is negative).
    let mut column = 0;
    let mut parts = Vec::new();
    for &b in &fitted {
        let n = b.features(ref_cfg).len();
        let c = blocks.get(b.name()).copied().unwrap_or_default();
        let mut per_resource = Vec::new();
        for (k, slope) in slopes.iter().enumerate() {
            let per: Vec<f64> = slope[column..column + n]
                .iter()
                .map(|&v| round2(v))
                .collect();
            let at_ref: f64 = per
                .iter()
                .zip(&ref_features[column..column + n])
                .map(|(s, f)| s * f)
                .sum();
            let own = if k == 0 {
                c.0
            } else {
                c.1 - structural_ff(ref_cfg, b)
            };
            per_resource.push((per, at_ref, (scale[k] * own - at_ref).max(0.0)));
        }
        column += n;
        parts.push(per_resource);
    }
    let mut out: Vec<BlockCoefficients> = Vec::new();
    let mut fixed_totals = [0.0; 2];
    for (k, total) in fixed_totals.iter_mut().enumerate() {
        *total = ref_y[k] - parts.iter().map(|p| p[k].1).sum::<f64>();
    }
    let shares: Vec<f64> = (0..2)
        .map(|k| parts.iter().map(|p| p[k].2).sum::<f64>())
        .collect();
    for p in &parts {
        let terms: Vec<Term> = (0..2)
            .map(|k| {
                let (per, _, share) = &p[k];
                let fixed = if shares[k] > 0.0 {
                    fixed_totals[k] * share / shares[k]
                } else {
                    fixed_totals[k] / parts.len() as f64
                };
                Term {
                    fixed: round2(fixed),
                    per: Box::leak(per.clone().into_boxed_slice()),
                }
            })
            .collect();
        out.push(BlockCoefficients {
            lut4: terms[0],
            ff: terms[1],
        });
    }
    out.push(BlockCoefficients {
        lut4: Term {
            fixed: 0.0,
            per: Box::leak(vec![round2(wrapper_lut4_per_bit)].into_boxed_slice()),
        },
        // The wrapper's flip-flops are counted exactly (`estimate_area`), not from here.
        ff: Term {
            fixed: 0.0,
            per: Box::leak(vec![1.0].into_boxed_slice()),
        },
    });
    // iCE40 packing: LC - LUT4 = fraction * FF, least squares through the origin.
    let packed: Vec<(f64, f64)> = measurements
        .iter()
        .filter_map(|m| {
            m.measured
                .logic_cells
                .map(|lc| (lc as f64 - m.measured.lut4 as f64, m.measured.ff as f64))
        })
        .collect();
    let unpaired_ff_fraction = if packed.is_empty() {
        0.0
    } else {
        let num: f64 = packed.iter().map(|(d, f)| d * f).sum();
        let den: f64 = packed.iter().map(|(_, f)| f * f).sum();
        (num / den * 1000.0).round() / 1000.0
    };
    FamilyCoefficients {
        family,
        source,
        unpaired_ff_fraction,
        blocks: out.try_into().expect("one set per block"),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Least squares `min |X s - y|` by the normal equations, with columns that never vary
/// left at 0.
fn least_squares(x: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let n = x.first().map_or(0, Vec::len);
    let used: Vec<usize> = (0..n)
        .filter(|&j| x.iter().any(|row| row[j] != 0.0))
        .collect();
    let m = used.len();
    let mut a = vec![vec![0.0; m + 1]; m];
    for (row, &yi) in x.iter().zip(y) {
        for (p, &j) in used.iter().enumerate() {
            for (q, &k) in used.iter().enumerate() {
                a[p][q] += row[j] * row[k];
            }
            a[p][m] += row[j] * yi;
        }
    }
    // Gauss-Jordan with partial pivoting.
    for col in 0..m {
        let pivot = (col..m)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .expect("a row");
        a.swap(col, pivot);
        let p = a[col][col];
        assert!(
            p.abs() > 1e-9,
            "the sweep does not separate the area model's features (singular fit)"
        );
        for v in a[col].iter_mut() {
            *v /= p;
        }
        for i in 0..m {
            if i != col {
                let f = a[i][col];
                let pivot_row = a[col].clone();
                for (v, pv) in a[i].iter_mut().zip(&pivot_row) {
                    *v -= f * pv;
                }
            }
        }
    }
    let mut s = vec![0.0; n];
    for (p, &j) in used.iter().enumerate() {
        s[j] = a[p][m];
    }
    s
}

/// The estimate of one measured config against yosys.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub label: String,
    pub target: Target,
    pub config: HgfConfig,
    /// The model's figures for the core in its wrapper (what was synthesised).
    pub estimate: AreaTotals,
    pub yosys: AreaTotals,
    /// `(estimate - yosys) / yosys` in percent per resource (LUT4, FF, DSP, BRAM); 0 when
    /// both are 0, infinite when only yosys's is.
    pub error_percent: [f64; 4],
    /// iCE40: the estimated logic cells against nextpnr's packing, in percent.
    pub logic_cell_error_percent: Option<f64>,
    pub yosys_seconds: f64,
}

impl Comparison {
    /// The largest absolute error over the four resources, in percent.
    pub fn worst(&self) -> f64 {
        self.error_percent.iter().fold(0.0, |m, e| m.max(e.abs()))
    }
}

/// Relative error in percent of `estimate` against `measured`.
pub fn error_percent(estimate: u64, measured: u64) -> f64 {
    if measured == 0 {
        if estimate == 0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        100.0 * (estimate as f64 - measured as f64) / measured as f64
    }
}

/// Compares `m` with the model under `coefficients` (of `m`'s family).
pub fn compare(m: &Measurement, coefficients: &FamilyCoefficients) -> Comparison {
    let estimate = estimate_area_with(&m.config, m.target, coefficients).with_wrapper;
    let logic_cell_error_percent = match (estimate.logic_cells, m.measured.logic_cells) {
        (Some(e), Some(y)) => Some(error_percent(e, y)),
        _ => None,
    };
    let error_percent = Resource::ALL.map(|r| error_percent(estimate.get(r), m.measured.get(r)));
    Comparison {
        label: m.label.clone(),
        target: m.target,
        config: m.config.clone(),
        estimate,
        yosys: m.measured,
        error_percent,
        logic_cell_error_percent,
        yosys_seconds: m.seconds,
    }
}

/// The largest absolute error per resource over `comparisons` of one family.
pub fn max_errors(comparisons: &[&Comparison]) -> [f64; 4] {
    let mut worst = [0.0f64; 4];
    for c in comparisons {
        for (w, e) in worst.iter_mut().zip(c.error_percent) {
            *w = w.max(e.abs());
        }
    }
    worst
}

/// The config in short: `d_in x d_out`, rank, `R x C`, lanes, gate multipliers (`+A` when
/// the gate borrows the lane's adder), packing.
fn shape(cfg: &HgfConfig) -> String {
    format!(
        "{}x{} r{} {}x{} F{} G{}{} {}",
        cfg.max_d_in,
        cfg.max_d_out,
        cfg.max_rank,
        cfg.array_rows,
        cfg.array_inputs,
        cfg.fp_lanes,
        cfg.gate_multipliers,
        if cfg.gate_shares_adder { "+A" } else { "" },
        cfg.packing
    )
}

/// The error table as Markdown: one row per config and family, `estimate / yosys (error)`
/// per resource, then the largest error per resource and family.
pub fn markdown(comparisons: &[Comparison]) -> String {
    let mut out = String::from(
        "| config | d_in x d_out, rank, R x C, lanes, gate muls (+A: borrowed adder), packing | target | LUT4 sites | FF | DSP | BRAM | iCE40 LC (nextpnr pack) |\n|---|---|---|---|---|---|---|---|\n",
    );
    for c in comparisons {
        let cells: Vec<String> = Resource::ALL
            .iter()
            .zip(c.error_percent)
            .map(|(&r, e)| {
                format!(
                    "{} / {} ({:+.1}%)",
                    c.estimate.get(r),
                    c.yosys.get(r),
                    if e.is_finite() { e } else { 999.9 }
                )
            })
            .collect();
        let lc = match (
            c.estimate.logic_cells,
            c.yosys.logic_cells,
            c.logic_cell_error_percent,
        ) {
            (Some(e), Some(y), Some(p)) => format!("{e} / {y} ({p:+.1}%)"),
            _ => "-".to_string(),
        };
        out += &format!(
            "| {} | {} | {} | {} | {lc} |\n",
            c.label,
            shape(&c.config),
            c.target,
            cells.join(" | ")
        );
    }
    out += "\nLargest |error| per resource:\n\n| target | LUT4 sites | FF | DSP | BRAM | LC |\n|---|---|---|---|---|---|\n";
    for target in TARGETS {
        let of: Vec<&Comparison> = comparisons.iter().filter(|c| c.target == target).collect();
        if of.is_empty() {
            continue;
        }
        let w = max_errors(&of);
        let lc = of
            .iter()
            .filter_map(|c| c.logic_cell_error_percent)
            .fold(None, |m: Option<f64>, e| {
                Some(m.unwrap_or(0.0).max(e.abs()))
            })
            .map_or("-".to_string(), |e| format!("{e:.1}%"));
        out += &format!(
            "| {target} ({} configs) | {:.1}% | {:.1}% | {:.1}% | {:.1}% | {lc} |\n",
            of.len(),
            w[0],
            w[1],
            w[2],
            w[3]
        );
    }
    out
}

/// The Rust source of estimate/src/area_coefficients.rs for fitted `ice40` and `ecp5`
/// coefficients.
pub fn coefficients_source(sets: &[&FamilyCoefficients]) -> String {
    let mut out = String::from(
        "//! The area model's fitted coefficients (`hgf_estimate::area`), one set per FPGA family.\n\
         //!\n\
         //! GENERATED by `cargo run --release -p hgf-synth --example calibrate -- --fit` (do not\n\
         //! edit by hand): least-squares slopes over the calibration sweep\n\
         //! (`hgf_synth::calibration::sweep`, the core in its P&R wrapper synthesised by yosys,\n\
         //! flattened), fixed parts from the `-noflatten` synthesis of the reference config `s01`\n\
         //! (docs/estimate.md, \"Area\"). Per block: `lut4` (LUT4 sites) and `ff`, each `fixed +\n\
         //! per[i] * feature[i]` with the features of `Block::features` in order.\n\n\
         use crate::area::{BlockCoefficients, FamilyCoefficients, Term};\n\
         use crate::device::Family;\n",
    );
    for set in sets {
        let name = match set.family {
            Family::Ice40 => "ICE40",
            Family::Ecp5 => "ECP5",
        };
        out += &format!(
            "\n/// {}: {}.\npub const {name}: FamilyCoefficients = FamilyCoefficients {{\n    family: Family::{:?},\n    source: {:?},\n    unpaired_ff_fraction: {:?},\n    blocks: [\n",
            set.family.name(),
            set.source,
            set.family,
            set.source,
            set.unpaired_ff_fraction
        );
        for (b, c) in Block::ALL.iter().zip(&set.blocks) {
            let cfg = HgfConfig::default();
            let names: Vec<&str> = b.features(&cfg).into_iter().map(|(n, _)| n).collect();
            out += &format!(
                "        // {}: features [{}]\n        BlockCoefficients {{\n",
                b.name(),
                names.join(", ")
            );
            for (what, t) in [("lut4", c.lut4), ("ff", c.ff)] {
                let per: Vec<String> = t.per.iter().map(|v| format!("{v:?}")).collect();
                out += &format!(
                    "            {what}: Term {{\n                fixed: {:?},\n                per: &[{}],\n            }},\n",
                    t.fixed,
                    per.join(", ")
                );
            }
            out += "        },\n";
        }
        out += "    ],\n};\n";
    }
    out
}

/// Where the sweep of `point` on `target` goes under `root`.
pub fn run_dir(root: &Path, point: &SweepPoint, target: Target) -> PathBuf {
    root.join(format!("{}-{target}", point.label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_recovers_an_exact_linear_law() {
        // y = 3 x0 - 2 x1 (+ a column that never varies, left at 0).
        let x = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![2.0, 5.0, 0.0],
            vec![-1.0, 3.0, 0.0],
        ];
        let y: Vec<f64> = x.iter().map(|r| 3.0 * r[0] - 2.0 * r[1]).collect();
        let s = least_squares(&x, &y);
        assert!(
            (s[0] - 3.0).abs() < 1e-9 && (s[1] + 2.0).abs() < 1e-9,
            "{s:?}"
        );
        assert_eq!(s[2], 0.0);
    }

    /// Measurements made by known coefficients: the fit finds a model that reproduces every
    /// one of them and is exact at the reference.
    #[test]
    fn the_fit_reproduces_measurements_of_a_linear_law() {
        let family = Family::Ice40;
        let truth = |cfg: &HgfConfig| -> (f64, f64) {
            let f =
                |b: Block| -> Vec<f64> { b.features(cfg).into_iter().map(|(_, v)| v).collect() };
            let array = f(Block::TernaryArray);
            let lut = 500.0
                + 8.0 * array[0]
                + 40.0 * f(Block::WeightUnpacker)[0]
                + 2.0 * f(Block::AccumulatorBank)[0]
                + 17.0 * f(Block::Quantizer)[0]
                + 900.0 * f(Block::LowRankUnit)[0]
                + 1500.0 * f(Block::GateUnit)[0];
            let ff = 300.0 + 9.0 * array[0] + 350.0 * f(Block::LowRankUnit)[0];
            let (s_lut, s_ff) = structural(cfg, 1.0);
            (lut + s_lut, ff + s_ff)
        };
        let measurements: Vec<Measurement> = sweep()
            .into_iter()
            .map(|p| {
                let (lut, ff) = truth(&p.config);
                Measurement {
                    label: p.label,
                    target: Target::Ice40Up5k,
                    measured: AreaTotals {
                        lut4: lut.round() as u64,
                        ff: ff.round() as u64,
                        dsp: 0,
                        bram: 0,
                        logic_cells: None,
                    },
                    config: p.config,
                    seconds: 0.0,
                }
            })
            .collect();
        let reference = &measurements[0];
        let bits = PnrWrapper::input_register_bits(&reference.config) as f64;
        let mut blocks = BlockCounts::new();
        for b in Block::ALL {
            blocks.insert(b.name(), (1000.0, 1000.0));
        }
        blocks.insert(Block::PnrWrapper.name(), (bits, 0.0));
        let set = fit(family, &measurements, &blocks, "synthetic");
        for m in &measurements {
            let c = compare(m, &set);
            assert!(
                c.error_percent[0].abs() < 0.5,
                "{}: {:?}",
                m.label,
                c.error_percent
            );
            assert!(
                c.error_percent[1].abs() < 0.5,
                "{}: {:?}",
                m.label,
                c.error_percent
            );
        }
        // The lane slope is the law's (lanes vary on their own in the sweep).
        let lanes = set.block(Block::LowRankUnit);
        assert!((lanes.lut4.per[0] - 900.0).abs() < 1.0, "{:?}", lanes.lut4);
        assert!((lanes.ff.per[0] - 350.0).abs() < 1.0, "{:?}", lanes.ff);
    }

    #[test]
    fn errors_are_relative_to_yosys() {
        assert_eq!(error_percent(110, 100), 10.0);
        assert_eq!(error_percent(0, 0), 0.0);
        assert!(error_percent(1, 0).is_infinite());
    }

    #[test]
    fn the_sweep_has_25_distinct_valid_configs_around_the_reference() {
        let s = sweep();
        // docs/results.md's error table and the fitted model are over these 25.
        assert_eq!(s.len(), 25);
        assert_eq!(s[0].label, REFERENCE);
        for (i, a) in s.iter().enumerate() {
            assert!(a.config.validate().is_ok());
            for b in &s[i + 1..] {
                assert_ne!(a.config, b.config, "{} and {}", a.label, b.label);
            }
        }
        let quick = quick_sweep();
        assert_eq!(quick.len(), 2);
    }
}
