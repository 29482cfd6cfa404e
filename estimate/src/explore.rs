//! Design-space exploration (`hgf explore`): which core config runs a model fastest on a
//! board and still fits a device.
//!
//! Every candidate engine (array rows × inputs per row, FP lanes, gate multipliers, packing)
//! has its maxima sized for the model's largest projection (`max_d_in`, `max_d_out` and
//! `max_rank` the largest of any projection, so that the one core runs every projection of
//! the model as a run-time shape), is costed with the area model, and is run through the
//! same estimate as `hgf estimate`: bytes per token, cycles per token from the core's cycle
//! model, tokens/s bounded by the board's memory and the core's clock. Among the candidates
//! that fit, the Pareto front of tokens/s against logic is kept: no candidate off the front
//! is both smaller and faster than one on it. The best candidate is the fastest on the
//! front, the smallest of equally fast ones (on a memory-bound board many engines reach the
//! same rate, and the smallest of them is the one to build).
//!
//! The area model comes in as a function ([`AreaFn`]), so the search is tested on its own
//! and the CLI passes the calibrated model (`crate::area`).

use hgf_golden::plural::count;
use hgf_golden::{HgfConfig, Packing, Target};
use serde::Serialize;

use crate::boards::Board;
use crate::error::EstimateError;
use crate::models::Model;
use crate::report::estimate;
use crate::throughput::Bound;

/// What the search needs to know of a candidate's area on the target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AreaFigure {
    /// Logic sites the core takes: LUT4 sites on ECP5 (LUT4 + 2 per `CCU2C`), logic cells
    /// on iCE40. The x axis of the Pareto front.
    pub logic: u64,
    /// Logic sites of the device.
    pub logic_capacity: u64,
    /// The largest utilisation of any resource (logic, flip-flops, DSP, block RAM), 1.0 =
    /// full.
    pub utilisation: f64,
    /// Whether every resource fits the device.
    pub fits: bool,
}

/// The area model as the search sees it.
pub type AreaFn<'a> = dyn Fn(&HgfConfig) -> AreaFigure + 'a;

/// The engines to try. Every combination is a candidate; those that the config rules reject
/// (for example `array_inputs` not a multiple of the packing's trits per byte) are skipped.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Space {
    pub array_rows: Vec<usize>,
    pub array_inputs: Vec<usize>,
    pub fp_lanes: Vec<usize>,
    pub gate_multipliers: Vec<usize>,
    /// `gate_shares_adder` values.
    pub gate_shares_adder: Vec<bool>,
    pub packings: Vec<Packing>,
}

impl Default for Space {
    /// Array rows 1–16 and inputs per row 4–320 (multiples of 20 suit both packings; 4, 8
    /// and 5, 10 one each, for small devices), 1–16 FP lanes, both gate sizes, the gate's
    /// own adder or lane 0's, and both packings: 3,000 combinations, of which the config
    /// rules accept 2,600 for `hgf-25m` (an array width suits one packing only).
    fn default() -> Self {
        Space {
            array_rows: vec![1, 2, 4, 8, 16],
            array_inputs: vec![
                4, 5, 8, 10, 20, 40, 60, 80, 100, 120, 140, 160, 200, 240, 320,
            ],
            fp_lanes: vec![1, 2, 4, 8, 16],
            gate_multipliers: vec![1, 2],
            gate_shares_adder: vec![false, true],
            packings: Packing::ALL.to_vec(),
        }
    }
}

impl Space {
    /// Only `packing`.
    pub fn with_packing(mut self, packing: Packing) -> Self {
        self.packings = vec![packing];
        self
    }
}

/// One evaluated engine.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// The core config (sized for the model's largest projection; `hgf generate --config`
    /// takes it as it is).
    pub config: HgfConfig,
    pub area: AreaFigure,
    pub bytes_per_token: u64,
    pub cycles_per_token: u64,
    pub tokens_per_s: f64,
    pub bound: Bound,
}

impl Candidate {
    /// Whether `self` is at least as good as `other` in both logic and tokens/s.
    fn dominates(&self, other: &Candidate) -> bool {
        self.area.logic <= other.area.logic && self.tokens_per_s >= other.tokens_per_s
    }
}

/// The result of a search.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exploration {
    pub model: String,
    pub board: Board,
    pub target: Target,
    pub space: Space,
    /// Candidates the config rules accept (each runs every projection of the model: its
    /// maxima are the model's largest sizes).
    pub evaluated: usize,
    /// Of the evaluated candidates, the ones that fit the device.
    pub fitting: usize,
    /// The Pareto front of the fitting candidates, by logic ascending (and so tokens/s
    /// ascending).
    pub pareto: Vec<Candidate>,
    /// The fastest fitting candidate, the smallest of equally fast ones: the last point of
    /// the front. `None` when nothing fits.
    pub best: Option<Candidate>,
    /// Every fitting candidate, for the plot (by logic ascending).
    #[serde(skip)]
    pub all_fitting: Vec<Candidate>,
}

/// The core config of an engine for `model` on `target`: the engine's fields, and maxima
/// that are the model's largest `d_in`, `d_out` and rank (at least 1: a model without
/// low-rank corrections still gets the smallest low-rank unit), named `name`.
#[allow(clippy::too_many_arguments)]
pub fn engine_config(
    model: &Model,
    target: Target,
    name: &str,
    array_rows: usize,
    array_inputs: usize,
    fp_lanes: usize,
    gate_multipliers: usize,
    gate_shares_adder: bool,
    packing: Packing,
) -> HgfConfig {
    let max = |f: fn(&crate::models::ProjectionSpec) -> usize| {
        model.projections.iter().map(f).max().unwrap_or(1)
    };
    HgfConfig {
        name: name.to_string(),
        max_d_in: max(|p| p.d_in),
        max_d_out: max(|p| p.d_out),
        max_rank: max(|p| p.rank.unwrap_or(1)),
        array_rows,
        array_inputs,
        fp_lanes,
        gate_multipliers,
        gate_shares_adder,
        packing,
        target,
    }
}

/// The gate of an engine in short: its multipliers, `+A` when it borrows low-rank lane 0's
/// adder (`gate_shares_adder`).
pub fn gate_label(cfg: &HgfConfig) -> String {
    format!(
        "{}{}",
        cfg.gate_multipliers,
        if cfg.gate_shares_adder { "+A" } else { "" }
    )
}

/// Searches `space` for `model` on `board`, with the core built for `target` and costed by
/// `area`.
pub fn explore(
    model: &Model,
    board: &Board,
    target: Target,
    space: &Space,
    area: &AreaFn<'_>,
) -> Result<Exploration, EstimateError> {
    let mut candidates = Vec::new();
    for &packing in &space.packings {
        for &rows in &space.array_rows {
            for &inputs in &space.array_inputs {
                for &lanes in &space.fp_lanes {
                    for (&gates, &borrow) in space
                        .gate_multipliers
                        .iter()
                        .flat_map(|g| space.gate_shares_adder.iter().map(move |b| (g, b)))
                    {
                        let cfg = engine_config(
                            model, target, "hgf_core", rows, inputs, lanes, gates, borrow, packing,
                        );
                        if cfg.validate().is_err() {
                            continue;
                        }
                        candidates.push(evaluate(cfg, model, board, area)?);
                    }
                }
            }
        }
    }
    let evaluated = candidates.len();
    let mut all_fitting: Vec<Candidate> = candidates.into_iter().filter(|c| c.area.fits).collect();
    all_fitting.sort_by(|a, b| {
        a.area
            .logic
            .cmp(&b.area.logic)
            .then(b.tokens_per_s.total_cmp(&a.tokens_per_s))
    });
    let pareto = pareto_front(&all_fitting);
    Ok(Exploration {
        model: model.name.clone(),
        board: board.clone(),
        target,
        space: space.clone(),
        evaluated,
        fitting: all_fitting.len(),
        best: pareto.last().cloned(),
        pareto,
        all_fitting,
    })
}

fn evaluate(
    config: HgfConfig,
    model: &Model,
    board: &Board,
    area: &AreaFn<'_>,
) -> Result<Candidate, EstimateError> {
    let est = estimate(
        &config,
        std::slice::from_ref(model),
        std::slice::from_ref(board),
    )?;
    let t = &est.models[0].boards[0];
    Ok(Candidate {
        area: area(&config),
        bytes_per_token: t.bytes_per_token,
        cycles_per_token: t.cycles_per_token,
        tokens_per_s: t.tokens_per_s,
        bound: t.bound,
        config,
    })
}

/// The Pareto front of `sorted` (by logic ascending, then tokens/s descending): walking up
/// in logic, a candidate joins when it is strictly faster than every smaller one.
pub fn pareto_front(sorted: &[Candidate]) -> Vec<Candidate> {
    let mut front: Vec<Candidate> = Vec::new();
    for c in sorted {
        if front.last().is_none_or(|f| c.tokens_per_s > f.tokens_per_s) {
            front.push(c.clone());
        }
    }
    debug_assert!(sorted.iter().all(|c| front.iter().any(|f| f.dominates(c))));
    front
}

impl Exploration {
    /// The front as a table, then the best candidate.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let b = &self.board;
        let _ = writeln!(
            out,
            "model {} on {} ({} MB/s sustained, {} MHz {}), core on {}: {}, {} fit",
            self.model,
            b.name,
            crate::report::short(b.sustained_mb_s),
            crate::report::short(b.clock_mhz),
            b.clock_source.name(),
            self.target,
            count(self.evaluated as u64, "candidate", "candidates"),
            self.fitting
        );
        if self.pareto.is_empty() {
            let _ = writeln!(out, "no candidate fits {}", self.target);
            return out;
        }
        let _ = writeln!(
            out,
            "Pareto front (tokens/s against logic; no other fitting candidate is both smaller and faster):"
        );
        let _ = writeln!(
            out,
            "  {:>6} {:>4} {:>5} {:>6}  {:>12} {:>6}  {:>14} {:>10} {:>10}  bound",
            "array",
            "F",
            "gate",
            "pack",
            "logic sites",
            "use",
            "cycles/token",
            "MB/token",
            "tokens/s"
        );
        for c in &self.pareto {
            let k = &c.config;
            let _ = writeln!(
                out,
                "  {:>6} {:>4} {:>5} {:>6}  {:>12} {:>5.0}%  {:>14} {:>10.2} {:>10}  {}",
                format!("{}x{}", k.array_rows, k.array_inputs),
                k.fp_lanes,
                gate_label(k),
                k.packing.to_string(),
                crate::report::thousands(c.area.logic),
                c.area.utilisation * 100.0,
                crate::report::thousands(c.cycles_per_token),
                c.bytes_per_token as f64 / 1e6,
                crate::report::rate(c.tokens_per_s),
                c.bound
            );
        }
        if let Some(best) = &self.best {
            let k = &best.config;
            let _ = writeln!(
                out,
                "best: array {}x{}, {}, {}{}, {} packing: {} tokens/s \
                 ({}-bound), {} logic sites ({:.0}% of the most used resource)",
                k.array_rows,
                k.array_inputs,
                count(k.fp_lanes as u64, "FP lane", "FP lanes"),
                count(
                    k.gate_multipliers as u64,
                    "gate multiplier",
                    "gate multipliers"
                ),
                if k.gate_shares_adder {
                    " and the lane's adder"
                } else {
                    ""
                },
                k.packing,
                crate::report::rate(best.tokens_per_s),
                best.bound,
                crate::report::thousands(best.area.logic),
                best.area.utilisation * 100.0
            );
        }
        out
    }
}
