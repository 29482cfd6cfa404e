//! `hgf infer --rtl`: the transformer with every projection of every layer of every position
//! on one instance of the generated core in Verilator (`hgf_sim::infer`), checked bit for bit
//! against the golden model, and the core's cycles per token against the cycle model and
//! against `hgf estimate`'s figure for the model on this core.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use hgf_estimate::{estimate, Board, Model, ModelEstimate, Throughput};
use hgf_golden::model::{ModelConfig, ProjectionKind, ProjectionSite, Sampling, Transformer};
use hgf_golden::plural::count;
use hgf_golden::{HgfConfig, HgfProjection};
use hgf_hdl::emit::generate;
use hgf_sim::core_driver::RunOptions;
use hgf_sim::cosim::{diagnose_to, Diagnosis};
use hgf_sim::cosim_job::{binary16_text, si, DiagnosisReport, FloatValue};
use hgf_sim::infer::{infer_on_core, CoreInference, InferError, RtlBackend};
use hgf_sim::{cpu_model, thread_cpu_time, BuildOptions};
use ndarray::Array2;
use serde::Serialize;

use super::cosim::build_model;
use crate::cli::InferArgs;
use crate::stdout::outln;

/// File name of the mismatch VCD in the output directory.
pub const DEFAULT_VCD: &str = "infer-mismatch.vcd";
const LABEL: &str = "hgf infer";

/// What a run on the core found.
pub enum RtlOutcome {
    /// Every projection and every logit matched.
    Matched(CoreInference, Box<RtlReport>),
    /// A difference: the report to print, with exit 1.
    Mismatch(Box<MismatchReport>),
}

/// `hgf estimate`'s figures for the model on the core (every board preset). Fails, as
/// `hgf estimate --model-file` does, naming the projection and the maximum, when a
/// projection does not fit the core: before anything is verilated.
pub fn model_estimate(name: &str, config: &ModelConfig, cfg: &HgfConfig) -> Result<ModelEstimate> {
    let model = Model::from_model_config(name, "the model hgf infer runs", config);
    let mut e = estimate(cfg, &[model], &Board::presets())?;
    Ok(e.models.remove(0))
}

/// Refuses a `--flip-expected` site that the run never reaches (a position past the last one
/// processed, a layer past the model's, an output past the projection's `d_out`), as `hgf
/// cosim` does: silently ignored, it would let a run that shows nothing pass as checked.
/// `positions` is the number of positions the run processes.
pub fn check_flip(
    flip: Option<(ProjectionSite, usize)>,
    config: &ModelConfig,
    positions: usize,
) -> Result<()> {
    let Some((site, output)) = flip else {
        return Ok(());
    };
    let d_out = config.shape(site.kind).d_out;
    let flag = format!(
        "--flip-expected {},{},{},{output}",
        site.position, site.layer, site.kind
    );
    if site.position >= positions {
        bail!("{flag}: the run processes positions 0 to {}", positions - 1);
    }
    if site.layer >= config.n_layers {
        bail!("{flag}: the model has layers 0 to {}", config.n_layers - 1);
    }
    if output >= d_out {
        bail!(
            "{flag}: projection {} has outputs 0 to {}",
            site.kind,
            d_out - 1
        );
    }
    Ok(())
}

/// Generates and verilates the core of `cfg` and runs the model on it.
pub fn run(
    args: &InferArgs,
    cfg: &HgfConfig,
    model: &Transformer,
    prompt: &[u32],
    sampling: Sampling,
    estimate: ModelEstimate,
) -> Result<RtlOutcome> {
    eprintln!("{LABEL}: generating {} ...", cfg.name);
    let generated = generate(cfg).context("cannot emit the core")?;
    let sim = build_model(LABEL, "", cfg, &generated.verilog, &BuildOptions::default())
        .context("cannot build the Verilator model")?;
    let mut backend = RtlBackend::new(&sim, model)?;
    backend.flip_expected = args.flip_expected;
    let projections = model.config().n_layers * ProjectionKind::ALL.len();
    eprintln!(
        "{LABEL}: co-simulating {} of {} each ...",
        count(
            (prompt.len() + args.tokens - 1) as u64,
            "position",
            "positions"
        ),
        count(projections as u64, "projection", "projections")
    );
    let started = Instant::now();
    let cpu_started = thread_cpu_time();
    let mut last_report = started;
    let result = {
        let backend = &mut backend;
        infer_on_core(
            model,
            backend,
            prompt,
            args.tokens,
            sampling,
            |done, total| {
                if done < total && last_report.elapsed() >= super::infer::PROGRESS_EVERY {
                    eprintln!("{LABEL}: {done}/{total} positions on the core");
                    last_report = Instant::now();
                }
            },
        )
    };
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = cpu_started
        .zip(thread_cpu_time())
        .map(|(a, b)| (b - a).as_secs_f64());
    let speed = SimulationSpeed {
        simulated_cycles: backend.simulated_cycles,
        seconds,
        cpu_seconds,
        simulated_cycles_per_cpu_second: cpu_seconds
            .filter(|&s| s > 0.0)
            .map(|s| backend.simulated_cycles as f64 / s),
        processor: cpu_model(),
    };
    let core = CoreReport {
        name: cfg.name.clone(),
        target: cfg.target.to_string(),
        engine: cfg.engine_summary(),
        verilator_model: if sim.lib().was_built() {
            "built"
        } else {
            "reused from cache"
        },
    };
    match result {
        Ok(inference) => {
            let report = RtlReport::new(
                core,
                &inference,
                backend.projections.len(),
                backend.outputs_compared,
                estimate,
                speed,
                args.flip_expected.is_some(),
            );
            Ok(RtlOutcome::Matched(inference, Box::new(report)))
        }
        Err(e) if e.is_mismatch() => {
            let vcd = args
                .vcd
                .clone()
                .unwrap_or_else(|| PathBuf::from("out").join(&cfg.name).join(DEFAULT_VCD));
            let diagnosis = match &e {
                InferError::ProjectionMismatch(m) => {
                    Some(diagnose_projection(cfg, &generated.verilog, m, &vcd))
                }
                _ => None,
            };
            Ok(RtlOutcome::Mismatch(Box::new(MismatchReport::new(
                core,
                &e,
                diagnosis,
                speed,
                args.flip_expected.is_some(),
            ))))
        }
        Err(e) => Err(e.into()),
    }
}

/// Runs the failing projection alone again on a fresh traced instance, with a VCD, and
/// names its first differing stage (`hgf cosim`'s diagnosis).
fn diagnose_projection(
    cfg: &HgfConfig,
    verilog: &str,
    m: &hgf_sim::infer::ProjectionMismatch,
    vcd: &std::path::Path,
) -> Result<Diagnosis, String> {
    let first = m.comparison.first.ok_or("no differing output")?;
    eprintln!(
        "{LABEL}: mismatch at position {}, layer {}, projection {}, output {}; running it \
         again alone with a VCD",
        m.site.position, m.site.layer, m.site.kind, first.output
    );
    let traced = build_model(
        LABEL,
        " with tracing support",
        cfg,
        verilog,
        &BuildOptions {
            trace: true,
            ..BuildOptions::default()
        },
    )
    .map_err(|e| format!("cannot build the traced Verilator model: {e}"))?;
    let golden = HgfProjection::new(cfg, m.weights.clone()).map_err(|e| e.to_string())?;
    let tokens = Array2::from_shape_vec((1, m.x.len()), m.x.clone()).map_err(|e| e.to_string())?;
    diagnose_to(
        &traced,
        &m.weights,
        tokens.view(),
        &RunOptions::default(),
        &golden,
        &first,
        vcd,
    )
}

#[derive(Serialize)]
pub struct CoreReport {
    name: String,
    target: String,
    engine: String,
    verilator_model: &'static str,
}

impl CoreReport {
    /// The `core:` line after its label, in both reports.
    fn summary(&self) -> String {
        format!(
            "{} for {} ({}); Verilator model {}",
            self.name, self.target, self.engine, self.verilator_model
        )
    }
}

#[derive(Serialize)]
pub struct SimulationSpeed {
    simulated_cycles: u64,
    seconds: f64,
    /// CPU time of the simulating thread: on a shared machine it leaves out the time other
    /// processes had the core (`None` where the clock is unavailable).
    cpu_seconds: Option<f64>,
    simulated_cycles_per_cpu_second: Option<f64>,
    processor: Option<String>,
}

/// Tokens per second on one board: the estimate's, and the compute bound that the measured
/// cycles give at the board's clock.
#[derive(Serialize)]
struct BoardRate {
    /// `hgf estimate`'s figures for the model on this core and board.
    estimate: Throughput,
    /// The board's clock over the measured cycles per token.
    measured_compute_bound_tokens_per_s: f64,
}

/// One position on the core.
#[derive(Serialize)]
struct PositionReport {
    /// The token fed at the position.
    token: u32,
    /// The core's cycles over the position's projections.
    cycles: u64,
    /// The cycle model's sum over them.
    model_cycles: u64,
}

/// What `hgf infer --rtl` adds to the report.
#[derive(Serialize)]
pub struct RtlReport {
    core: CoreReport,
    /// Projections run on the core, and their outputs compared bit for bit.
    projections: usize,
    outputs_compared: usize,
    /// Logits compared bit for bit (every position's).
    logits_compared: usize,
    /// Mismatches found (0: the run stops at the first).
    mismatches: usize,
    /// Every position: its token, the core's cycles over its projections and the cycle
    /// model's sum over them (the first position's first projection runs after the reset).
    positions: Vec<PositionReport>,
    /// The core's cycles per generated token: the mean over the positions after the first
    /// (the first's when there is only one).
    cycles_per_token: f64,
    /// The cycle model's figure: the sum of `schedule::expected_cycles(..).first_token` over
    /// one position's projections (with a single position, that position's sum, whose first
    /// projection follows the reset: `after_reset`, like `cycles_per_token`).
    model_cycles_per_token: u64,
    /// `hgf estimate`'s cycles per token for this model on this core.
    estimate_cycles_per_token: u64,
    /// Every position took exactly the cycle model's cycles.
    cycles_as_modelled: bool,
    boards: Vec<BoardRate>,
    simulation: SimulationSpeed,
    /// The --flip-expected test hook was given (and never met: the run matched).
    expected_flipped: bool,
}

impl RtlReport {
    fn new(
        core: CoreReport,
        inference: &CoreInference,
        projections: usize,
        outputs_compared: usize,
        estimate: ModelEstimate,
        simulation: SimulationSpeed,
        expected_flipped: bool,
    ) -> Self {
        let positions: Vec<PositionReport> = inference
            .positions
            .iter()
            .map(|p| PositionReport {
                token: p.token,
                cycles: p.cycles,
                model_cycles: p.expected,
            })
            .collect();
        let later = if positions.len() > 1 {
            &positions[1..]
        } else {
            &positions[..]
        };
        let cycles_per_token =
            later.iter().map(|p| p.cycles).sum::<u64>() as f64 / later.len().max(1) as f64;
        // Every position but the first runs each projection as a run that follows another.
        let model_cycles_per_token = later.first().map_or(0, |p| p.model_cycles);
        let boards = estimate
            .boards
            .into_iter()
            .map(|t| BoardRate {
                measured_compute_bound_tokens_per_s: t.clock_mhz * 1e6 / cycles_per_token,
                estimate: t,
            })
            .collect();
        RtlReport {
            core,
            projections,
            outputs_compared,
            logits_compared: inference.logits_compared,
            mismatches: 0,
            cycles_as_modelled: positions.iter().all(|p| p.cycles == p.model_cycles),
            positions,
            cycles_per_token,
            model_cycles_per_token,
            estimate_cycles_per_token: estimate.cycles.per_token,
            boards,
            simulation,
            expected_flipped,
        }
    }

    /// The report's lines after the golden model's.
    pub fn print(&self) -> Result<()> {
        outln!("core:        {}", self.core.summary())?;
        outln!(
            "rtl:         {} on one core instance, {} and {} compared bit for bit, {} mismatches",
            count(self.projections as u64, "projection", "projections"),
            count(self.outputs_compared as u64, "output", "outputs"),
            count(self.logits_compared as u64, "logit", "logits"),
            self.mismatches,
        )?;
        let first = self.positions.first().map_or(0, |p| p.cycles);
        outln!(
            "cycles:      {:.1} per token (first position {first}, after the reset); cycle \
             model {}, {}; hgf estimate {}",
            self.cycles_per_token,
            self.model_cycles_per_token,
            if self.cycles_as_modelled {
                "every position as modelled"
            } else {
                "SOME POSITION MEASURED OTHERWISE"
            },
            self.estimate_cycles_per_token
        )?;
        for b in &self.boards {
            let t = &b.estimate;
            outln!(
                "board:       {}: {} tokens/s estimated ({}-bound at {} MHz, {} MB/s); the \
                 measured cycles allow {} tokens/s",
                t.board,
                hgf_estimate::report::rate(t.tokens_per_s),
                t.bound,
                t.clock_mhz,
                t.bandwidth_mb_s,
                hgf_estimate::report::rate(b.measured_compute_bound_tokens_per_s)
            )?;
        }
        self.simulation.print()?;
        Ok(())
    }
}

impl SimulationSpeed {
    fn print(&self) -> Result<()> {
        let per_cpu_second = self
            .simulated_cycles_per_cpu_second
            .map(|c| format!(" ({} per CPU second)", si(c)))
            .unwrap_or_default();
        outln!(
            "simulation:  {} cycles in {:.2} s, {} simulated cycles/s{per_cpu_second} on {}",
            self.simulated_cycles,
            self.seconds,
            si(self.simulated_cycles as f64 / self.seconds.max(1e-9)),
            self.processor.as_deref().unwrap_or("an unnamed processor")
        )?;
        Ok(())
    }
}

/// The report of a run that found a difference.
#[derive(Serialize)]
pub struct MismatchReport {
    core: CoreReport,
    /// The one line naming the position, its token, the layer, the projection and the values.
    message: String,
    position: usize,
    token: u32,
    /// `None` for a logit mismatch.
    layer: Option<usize>,
    projection: Option<&'static str>,
    /// The first differing output of the projection (or logit index) and its two values.
    output: usize,
    rtl: FloatValue,
    golden: FloatValue,
    /// The VCD rerun of a differing projection (none for a logit).
    #[serde(flatten)]
    diagnosis: DiagnosisReport,
    #[serde(skip)]
    d_out: usize,
    simulation: SimulationSpeed,
    /// The --flip-expected test hook made the difference.
    expected_flipped: bool,
}

impl MismatchReport {
    fn new(
        core: CoreReport,
        e: &InferError,
        diagnosis: Option<Result<Diagnosis, String>>,
        simulation: SimulationSpeed,
        expected_flipped: bool,
    ) -> Self {
        let (message, position, token, layer, projection, output, rtl, golden, d_out) = match e {
            InferError::ProjectionMismatch(m) => {
                let first = m
                    .comparison
                    .first
                    .expect("a mismatch names its first output");
                let (rtl, golden) = (
                    FloatValue::binary16(first.rtl),
                    FloatValue::binary16(first.golden),
                );
                // InferError's own line gives the bits only; the report adds their values.
                let message = format!(
                    "position {} (token {}), layer {}, projection {}: output {} is {} in the \
                     RTL, {} in the golden model ({} of {} outputs differ)",
                    m.site.position,
                    m.token,
                    m.site.layer,
                    m.site.kind,
                    first.output,
                    binary16_text(&rtl),
                    binary16_text(&golden),
                    m.comparison.mismatches,
                    m.comparison.outputs_compared
                );
                (
                    message,
                    m.site.position,
                    m.token,
                    Some(m.site.layer),
                    Some(m.site.kind.name()),
                    first.output,
                    rtl,
                    golden,
                    m.weights.projection_shape().d_out,
                )
            }
            InferError::LogitMismatch {
                position,
                token,
                index,
                rtl,
                golden,
                ..
            } => (
                e.to_string(),
                *position,
                *token,
                None,
                None,
                *index,
                FloatValue::binary32(*rtl),
                FloatValue::binary32(*golden),
                0,
            ),
            _ => unreachable!("only mismatches are reported"),
        };
        let diagnosis = diagnosis
            .as_ref()
            .map(DiagnosisReport::new)
            .unwrap_or_default();
        MismatchReport {
            core,
            message,
            position,
            token,
            layer,
            projection,
            output,
            rtl,
            golden,
            diagnosis,
            d_out,
            simulation,
            expected_flipped,
        }
    }

    pub fn print(&self) -> Result<()> {
        outln!("core:       {}", self.core.summary())?;
        outln!("mismatch:   {}", self.message)?;
        if self.expected_flipped {
            outln!("test hook:  the golden output flipped (--flip-expected)")?;
        }
        let what = format!(
            "the projection alone, rerun on a fresh instance with the input of position {}",
            self.position
        );
        for line in self.diagnosis.lines(&what, self.d_out) {
            outln!("{line}")?;
        }
        self.simulation.print()
    }
}
