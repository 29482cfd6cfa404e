//! `hgf cosim`: the generated core in Verilator against the golden model, every output bit
//! compared, and the co-simulation step that `hgf run` shares ([`cosimulate`], [`Outcome`]).
//!
//! On a mismatch the tokens up to the failing one run again with a VCD of that token, and the
//! gate unit's inputs in it (`k`, `acc_j`, `v_j`) are compared with the golden model's stages
//! to name the first stage that differs (`hgf_sim::cosim::diagnose`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use half::f16;
use hgf_golden::plural::count;
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights};
use hgf_hdl::emit::generate;
use hgf_sim::core_driver::{CoreRun, CoreSim, CycleCheck, ProjectionRun, RunOptions};
use hgf_sim::cosim::{compare, diagnose_to, golden_outputs, Comparison, Diagnosis, Stage};
use hgf_sim::{cpu_model, thread_cpu_time, BuildOptions};
use serde_json::{json, Value};

use super::show::{f16_json, f16_text};
use super::{layer, shapes};
use crate::cli::CosimArgs;
use crate::progress::Heartbeat;
use crate::stdout::outln;

/// Cycles allowed per token without stalls before the run counts as hung (stalls scale it).
const MAX_CYCLES_PER_TOKEN: u64 = 1_000_000;
/// Interval between progress reports on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// File name of the mismatch VCD in the output directory.
pub const DEFAULT_VCD: &str = "cosim-mismatch.vcd";

pub fn run(args: &CosimArgs) -> Result<ExitCode> {
    check_stall(args.stall)?;
    let mut inputs = super::config_input(&args.source);
    inputs.extend(args.weights.as_deref().map(|p| ("--weights", p)));
    inputs.extend(args.input.as_deref().map(|p| ("--input", p)));
    inputs.extend(args.shapes.as_deref().map(|p| ("--shapes", p)));
    let outputs: Vec<_> = args
        .vcd
        .as_deref()
        .map(|p| ("--vcd", p))
        .into_iter()
        .collect();
    super::check_outputs(&outputs, &inputs)?;
    if let Some(path) = &args.shapes {
        let cfg = super::load_config(&args.source)?;
        let runs = shapes::read_runs(path, &cfg, args.seed)?;
        let origin = format!(
            "random (seed {} + run index), shapes from {}",
            args.seed,
            path.display()
        );
        return cosim_and_report(
            args,
            &cfg,
            runs.iter()
                .map(|r| ProjectionRun {
                    weights: &r.weights,
                    tokens: r.tokens.view(),
                })
                .collect(),
            origin.clone(),
            origin,
        );
    }
    let (cfg, weights, weights_origin) = match &args.weights {
        Some(path) => {
            let (cfg, w) = layer::read_weights(&args.source, path)?;
            (cfg, w, path.display().to_string())
        }
        None => {
            let cfg = super::load_config(&args.source)?;
            let w = HgfWeights::random(cfg.max_shape(), args.seed);
            (cfg, w, format!("random (seed {})", args.seed))
        }
    };
    let (tokens, input_origin) = match &args.input {
        Some(path) => {
            let shape_from = match &args.weights {
                Some(w) => format!("the weights in {}", w.display()),
                None => layer::config_origin(&args.source),
            };
            let x = layer::read_tokens(path, weights.projection_shape().d_in, &shape_from)?;
            (x, path.display().to_string())
        }
        None => {
            let x =
                layer::random_tokens_checked(weights.projection_shape(), args.tokens, args.seed)?;
            (x, format!("random (seed {})", args.seed))
        }
    };
    cosim_and_report(
        args,
        &cfg,
        vec![ProjectionRun {
            weights: &weights,
            tokens: tokens.view(),
        }],
        weights_origin,
        input_origin,
    )
}

/// Generates the core, co-simulates `runs` on it and prints the report.
fn cosim_and_report(
    args: &CosimArgs,
    cfg: &HgfConfig,
    runs: Vec<ProjectionRun<'_>>,
    weights_origin: String,
    input_origin: String,
) -> Result<ExitCode> {
    let vcd = args
        .vcd
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&cfg.name).join(DEFAULT_VCD));
    eprintln!("hgf cosim: generating {} ...", cfg.name);
    let generated = generate(cfg).context("cannot emit the core")?;
    let outcome = cosimulate(&Job {
        label: "hgf cosim",
        cfg,
        verilog: &generated.verilog,
        runs,
        weights_origin,
        input_origin,
        stall: args.stall,
        seed: args.seed,
        vcd,
        flip_expected: args.flip_expected,
    })?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&outcome.to_json())?)?;
    } else {
        outln!(
            "core:       {} for {} ({}); Verilator model {}",
            cfg.name,
            cfg.target,
            cfg.engine_summary(),
            outcome.model_text()
        )?;
        outcome.print()?;
    }
    Ok(outcome.exit_code())
}

/// `0 <= p < 1`; NaN is refused too.
pub fn check_stall(p: f64) -> Result<()> {
    if !(0.0..1.0).contains(&p) {
        anyhow::bail!(
            "--stall {p} is out of range: it is the probability of a stall per cycle and \
             stream, 0 <= P < 1 (0 for none)"
        );
    }
    Ok(())
}

/// One co-simulation: a core, a layer and tokens, and how to drive them.
pub struct Job<'a, 'r> {
    /// Prefix of the progress lines (`hgf cosim`, `hgf run`).
    pub label: &'static str,
    pub cfg: &'a HgfConfig,
    /// The core emitted for `cfg`.
    pub verilog: &'a str,
    /// The runs of tokens, each of one projection shape, streamed back to back on one core
    /// instance (one run for a single layer).
    pub runs: Vec<ProjectionRun<'r>>,
    /// Where the weights and tokens came from, for the report.
    pub weights_origin: String,
    pub input_origin: String,
    /// Stall probability per cycle and stream.
    pub stall: f64,
    /// Seed of the stall pattern (and, for the report, of the generated layer).
    pub seed: u64,
    /// Where the VCD of the first failing token goes.
    pub vcd: PathBuf,
    /// Test hook: flip the lowest bit of this expected output (token, output).
    pub flip_expected: Option<(usize, usize)>,
}

/// What a co-simulation found.
pub struct Outcome {
    cfg: HgfConfig,
    weights_origin: String,
    input_origin: String,
    seed: u64,
    stall: f64,
    tokens: usize,
    comparison: Comparison,
    run: CoreRun,
    seconds: f64,
    /// The same span in CPU time of the simulating thread: on a shared machine it leaves
    /// out the time other processes had the core (`None` where the clock is unavailable).
    cpu_seconds: Option<f64>,
    /// The processor that ran it (`None` where the system does not name it).
    processor: Option<String>,
    model_built: bool,
    flip_expected: Option<(usize, usize)>,
    /// On a mismatch: the VCD and the stage, or why the rerun failed.
    diagnosis: Option<Result<Diagnosis, String>>,
}

/// Builds (or reuses) the Verilator model, streams the tokens through it with progress on
/// stderr, compares every output with the golden model and, on a mismatch, diagnoses the
/// first one.
pub fn cosimulate(job: &Job<'_, '_>) -> Result<Outcome> {
    let label = job.label;
    let goldens: Vec<HgfProjection> = job
        .runs
        .iter()
        .map(|r| HgfProjection::new(job.cfg, r.weights.clone()))
        .collect::<Result<_, _>>()
        .context("the weights do not fit the config")?;
    // Without tracing support (the default) the model builds in about half the time and
    // runs faster; a mismatch builds the traced model (cached too) for its VCD.
    let sim = build_model(label, "", job.cfg, job.verilog, &BuildOptions::default())
        .context("cannot build the Verilator model")?;
    let n: usize = job.runs.iter().map(|r| r.tokens.nrows()).sum();
    let max_cycles = (MAX_CYCLES_PER_TOKEN as f64 * (n as f64 + 1.0) / (1.0 - job.stall)) as u64;
    let opts = RunOptions {
        stall: job.stall,
        seed: job.seed,
        max_cycles,
        ..RunOptions::default()
    };
    eprintln!(
        "{label}: co-simulating {} ...",
        count(n as u64, "token", "tokens")
    );
    let started = Instant::now();
    let cpu_started = thread_cpu_time();
    let mut last_report = started;
    let mut progress = |done: usize, cycles: u64| {
        if done < n && last_report.elapsed() >= PROGRESS_EVERY {
            let rate = cycles as f64 / started.elapsed().as_secs_f64();
            eprintln!(
                "{label}: {done}/{n} tokens done, {cycles} cycles, {} simulated cycles/s",
                si(rate)
            );
            last_report = Instant::now();
        }
    };
    let run = sim
        .run_sequence(&job.runs, &opts, &mut progress)
        .context("co-simulation failed")?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = cpu_started
        .zip(thread_cpu_time())
        .map(|(a, b)| (b - a).as_secs_f64());
    let mut expected: Vec<Vec<u16>> = goldens
        .iter()
        .zip(&job.runs)
        .flat_map(|(golden, r)| golden_outputs(golden, r.tokens))
        .collect();
    if let Some((t, j)) = job.flip_expected {
        let slot = expected
            .get_mut(t)
            .and_then(|row| row.get_mut(j))
            .with_context(|| {
                format!("--flip-expected {t},{j}: the run has no output {j} of token {t}")
            })?;
        *slot ^= 1;
    }
    let comparison = compare(&expected, &run.outputs);

    let diagnosis = comparison.first.map(|m| {
        eprintln!(
            "{label}: mismatch at token {}, output {}; running up to it again with a VCD",
            m.token, m.output
        );
        let traced_opts = BuildOptions {
            trace: true,
            ..BuildOptions::default()
        };
        // The VCD diagnosis reruns one layer's tokens up to the failing one.
        let [single] = job.runs.as_slice() else {
            return Err(format!(
                "the VCD diagnosis covers one layer; this sequence of {} runs is not \
                 diagnosed (the mismatch is at token {} over all runs)",
                job.runs.len(),
                m.token
            ));
        };
        let traced = build_model(
            label,
            " with tracing support",
            job.cfg,
            job.verilog,
            &traced_opts,
        )
        .map_err(|e| format!("cannot build the traced Verilator model: {e}"))?;
        diagnose_to(
            &traced,
            single.weights,
            single.tokens,
            &opts,
            &goldens[0],
            &m,
            &job.vcd,
        )
    });
    Ok(Outcome {
        cfg: job.cfg.clone(),
        weights_origin: job.weights_origin.clone(),
        input_origin: job.input_origin.clone(),
        seed: job.seed,
        stall: job.stall,
        tokens: n,
        comparison,
        run,
        seconds,
        cpu_seconds,
        processor: cpu_model(),
        model_built: sim.lib().was_built(),
        flip_expected: job.flip_expected,
        diagnosis,
    })
}

/// The Verilator model of `verilog`, built or taken from the cache, with progress on stderr:
/// which of the two it was, and the time every few seconds while it builds.
pub(super) fn build_model(
    label: &str,
    variant: &str,
    cfg: &HgfConfig,
    verilog: &str,
    opts: &BuildOptions,
) -> Result<CoreSim, hgf_sim::SimError> {
    eprintln!("{label}: Verilator model{variant}: verilating, or reusing the cached one ...");
    let started = Instant::now();
    let sim = {
        let _beat = Heartbeat::start(format!("{label}: verilating{variant}"));
        CoreSim::build(cfg, verilog, opts)?
    };
    if sim.lib().was_built() {
        eprintln!(
            "{label}: verilated{variant} in {:.0} s (cached for later runs)",
            started.elapsed().as_secs_f64()
        );
    } else {
        eprintln!("{label}: Verilator model{variant} reused from the cache");
    }
    Ok(sim)
}

/// A rate with an SI prefix: `1.23 M`.
pub(super) fn si(v: f64) -> String {
    match v {
        v if v >= 1e6 => format!("{:.2} M", v / 1e6),
        v if v >= 1e3 => format!("{:.1} k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

fn path_text(p: &Path) -> String {
    p.display().to_string()
}

impl Outcome {
    /// 0 when every output matched, [`super::EXIT_MISMATCH`] otherwise.
    pub fn exit_code(&self) -> ExitCode {
        if self.comparison.mismatches == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(super::EXIT_MISMATCH)
        }
    }

    /// "built" or "reused from cache".
    pub fn model_text(&self) -> &'static str {
        if self.model_built {
            "built"
        } else {
            "reused from cache"
        }
    }

    /// The ideal cycles per token (busier stream's beats), over every token of every run.
    fn ideal(&self) -> u64 {
        let (sum, tokens) = self.run.runs.iter().fold((0, 0), |(sum, n), &(shape, t)| {
            (sum + self.cfg.layout(shape).ideal_cycles() * t, n + t)
        });
        (sum as f64 / tokens.max(1) as f64).round() as u64
    }

    /// The runs' shapes and token counts, as `512x1376 rank 0 x2`.
    fn runs_text(&self) -> String {
        let runs: Vec<String> = self
            .run
            .runs
            .iter()
            .map(|(shape, t)| format!("{shape} x{t}"))
            .collect();
        runs.join(", ")
    }

    fn steady(&self) -> f64 {
        self.run.steady_cycles_per_token()
    }

    /// The run's cycles against the core's cycle model (which assumes no stalls).
    fn cycle_check(&self) -> CycleCheck {
        CycleCheck::new(&self.cfg, &self.run)
    }

    /// Without stalls: whether every token took the model's cycles (`None` with stalls).
    fn cycles_as_expected(&self) -> Option<bool> {
        (self.stall == 0.0).then(|| self.cycle_check().exact())
    }

    /// Ideal cycles over measured steady cycles per token (`None` without a finished token).
    fn utilisation(&self) -> Option<f64> {
        let steady = self.steady();
        (steady > 0.0).then(|| self.ideal() as f64 / steady)
    }

    fn cycles_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.run.cycles as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Simulated cycles per second of CPU time of the simulating thread.
    fn cycles_per_cpu_second(&self) -> Option<f64> {
        self.cpu_seconds
            .filter(|&s| s > 0.0)
            .map(|s| self.run.cycles as f64 / s)
    }

    /// The summary lines after the `core:` line.
    pub fn print(&self) -> Result<()> {
        let c = &self.comparison;
        outln!(
            "layer:      weights {}; tokens {}",
            self.weights_origin,
            self.input_origin
        )?;
        outln!(
            "runs:       {} on one core instance, back to back: {}",
            count(self.run.runs.len() as u64, "run", "runs"),
            self.runs_text()
        )?;
        if self.stall > 0.0 {
            outln!(
                "stalls:     {}% per cycle on every stream (seed {})",
                self.stall * 100.0,
                self.seed
            )?;
        } else {
            outln!("stalls:     none")?;
        }
        outln!(
            "cosim:      {}, {} compared bit for bit, {}",
            count(self.tokens as u64, "token", "tokens"),
            count(c.outputs_compared as u64, "output", "outputs"),
            count(c.mismatches as u64, "mismatch", "mismatches")
        )?;
        let utilisation = self
            .utilisation()
            .map_or_else(|| "n/a".to_string(), |u| format!("{:.1}%", u * 100.0));
        outln!(
            "cycles:     first token {}, steady {:.1} per token; ideal {}, utilisation {}",
            self.run.first_token_cycles(),
            self.steady(),
            self.ideal(),
            utilisation
        )?;
        let expected = self.cycle_check().expected;
        outln!(
            "model:      first token {} (after reset), steady {} per token without stalls, \
             limited by {}{}",
            expected.after_reset,
            expected.steady,
            expected.limited_by.text(),
            match self.cycles_as_expected() {
                Some(true) => "; measured the same",
                Some(false) => "; MEASURED OTHERWISE",
                None => "",
            }
        )?;
        let per_cpu_second = self
            .cycles_per_cpu_second()
            .map(|c| format!(" ({} per CPU second)", si(c)))
            .unwrap_or_default();
        outln!(
            "speed:      {} cycles in {:.2} s, {} simulated cycles/s{per_cpu_second} on {}",
            self.run.cycles,
            self.seconds,
            si(self.cycles_per_second()),
            self.processor.as_deref().unwrap_or("an unnamed processor")
        )?;
        if let Some((t, j)) = self.flip_expected {
            outln!("test hook:  expected output {j} of token {t} flipped (--flip-expected)")?;
        }
        let Some(m) = c.first else { return Ok(()) };
        outln!(
            "mismatch:   token {}, output {}: rtl {}, golden {} (first of {})",
            m.token,
            m.output,
            f16_text(f16::from_bits(m.rtl)),
            f16_text(f16::from_bits(m.golden)),
            c.mismatches
        )?;
        let what = format!("token {}", m.token);
        for line in diagnosis_lines(&self.diagnosis, &what, self.run.runs[0].0.d_out) {
            outln!("{line}")?;
        }
        Ok(())
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        let c = &self.comparison;
        let first = c.first.map(|m| {
            let mut v = json!({
                "token": m.token,
                "output": m.output,
                "rtl": f16_json(f16::from_bits(m.rtl)),
                "golden": f16_json(f16::from_bits(m.golden)),
            });
            let (vcd, reproduced, stage, error) = diagnosis_json(&self.diagnosis);
            v["vcd"] = json!(vcd);
            v["reproduced"] = json!(reproduced);
            v["stage"] = json!(stage);
            v["diagnosis_error"] = json!(error);
            v
        });
        json!({
            "config": self.cfg,
            "runs": self.run.runs.iter().map(|(shape, tokens)| json!({
                "d_in": shape.d_in,
                "d_out": shape.d_out,
                "rank": shape.rank,
                "tokens": tokens,
            })).collect::<Vec<_>>(),
            "weights": self.weights_origin,
            "input": self.input_origin,
            "seed": self.seed,
            "stall": self.stall,
            "tokens": self.tokens,
            "outputs_compared": c.outputs_compared,
            "mismatches": c.mismatches,
            "first_token_cycles": self.run.first_token_cycles(),
            "steady_cycles_per_token": self.steady(),
            "ideal_cycles_per_token": self.ideal(),
            "expected_cycles_per_token": self.cycle_check().expected,
            "cycles_as_expected": self.cycles_as_expected(),
            "utilisation": self.utilisation(),
            "simulated_cycles": self.run.cycles,
            "seconds": self.seconds,
            "simulated_cycles_per_second": self.cycles_per_second(),
            "cpu_seconds": self.cpu_seconds,
            "simulated_cycles_per_cpu_second": self.cycles_per_cpu_second(),
            "processor": self.processor,
            "verilator_model": self.model_text(),
            "first_mismatch": first,
            "expected_flipped": self.flip_expected.map(|(t, j)| json!({"token": t, "output": j})),
        })
    }
}

/// The report lines of a mismatch's diagnosis (`stage:`, `note:`, `vcd:`), shared with
/// `hgf infer --rtl`: `what` names the rerun the VCD holds, `d_out` the rows of the token.
pub(super) fn diagnosis_lines(
    diagnosis: &Option<Result<Diagnosis, String>>,
    what: &str,
    d_out: usize,
) -> Vec<String> {
    let mut lines = Vec::new();
    match diagnosis {
        Some(Ok(d)) => {
            lines.push(match &d.stage {
                Ok(s) => match s.difference {
                    Some(diff) => format!(
                        "stage:      {} differs first: gate input `{}` of row {} is {} in the \
                         RTL, {} in the golden model (VCD time {}, {}; {} of {d_out} rows \
                         differ)",
                        s.stage.name(),
                        diff.signal,
                        s.row,
                        stage_value_text(diff.signal, diff.rtl),
                        stage_value_text(diff.signal, diff.golden),
                        s.time,
                        s.scope,
                        s.rows_differing,
                    ),
                    None => format!(
                        "stage:      {}: every gate input of row {} (k, acc, v) matches the \
                         golden model, so the gate or the output path differs (VCD time {}, {})",
                        Stage::Gate.name(),
                        s.row,
                        s.time,
                        s.scope
                    ),
                },
                Err(e) => format!("stage:      not named: {e}"),
            });
            if !d.reproduced {
                lines.push(
                    "note:       the run with the VCD gave another value at the mismatch (the \
                     core is not deterministic?)"
                        .to_string(),
                );
            }
            lines.push(format!(
                "vcd:        {} ({what}, from its first cycle)",
                path_text(&d.vcd)
            ));
        }
        Some(Err(e)) => lines.push(format!("vcd:        not written: {e}")),
        None => {}
    }
    lines
}

/// A mismatch's diagnosis as JSON values: the VCD, whether the rerun reproduced the
/// mismatch, the stage, and why there is no VCD or stage (shared with `hgf infer --rtl`).
pub(super) fn diagnosis_json(
    diagnosis: &Option<Result<Diagnosis, String>>,
) -> (Option<String>, Option<bool>, Option<Value>, Option<String>) {
    match diagnosis {
        Some(Ok(d)) => match &d.stage {
            Ok(s) => (
                Some(path_text(&d.vcd)),
                Some(d.reproduced),
                Some(json!({
                    "name": s.stage.key(),
                    "row": s.row,
                    "signal": s.difference.map(|d| d.signal),
                    "rtl": s.difference.map(|d| stage_value_json(d.signal, d.rtl)),
                    "golden": s.difference.map(|d| stage_value_json(d.signal, d.golden)),
                    "rows_differing": s.rows_differing,
                    "vcd_time": s.time,
                    "scope": s.scope,
                })),
                None,
            ),
            Err(e) => (
                Some(path_text(&d.vcd)),
                Some(d.reproduced),
                None,
                Some(e.clone()),
            ),
        },
        Some(Err(e)) => (None, None, None, Some(e.clone())),
        None => (None, None, None, None),
    }
}

/// A gate input as text: `acc` is an integer, `k` and `v` are binary32.
fn stage_value_text(signal: &str, v: i64) -> String {
    if signal == "acc" {
        v.to_string()
    } else {
        super::show::f32_text(f32::from_bits(v as u32))
    }
}

fn stage_value_json(signal: &str, v: i64) -> Value {
    if signal == "acc" {
        json!(v)
    } else {
        super::show::f32_json(f32::from_bits(v as u32))
    }
}
