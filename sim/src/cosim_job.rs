//! One co-simulation from start to report, shared by `hgf cosim`, `hgf run` and (its
//! diagnosis) `hgf infer --rtl`: build (or reuse) the Verilator model, stream the runs of
//! tokens through one core instance, compare every output with the golden model and, on a
//! mismatch, rerun up to it with a VCD and name the first differing stage ([`cosimulate`]).
//!
//! The result is one serialisable [`CosimReport`]: JSON is its serialisation, and the text
//! summary ([`CosimReport::lines`]) reads the same fields, so the two cannot disagree.

use std::path::PathBuf;
use std::time::Instant;

use half::f16;
use hgf_golden::plural::count;
use hgf_golden::{HgfConfig, HgfProjection, Shape, WeightsError};
use hgf_hdl::schedule::ExpectedCycles;
use serde::Serialize;
use thiserror::Error;

use crate::core_driver::{CoreRun, CoreSim, CycleCheck, ProjectionRun, RunOptions};
use crate::cosim::{compare, diagnose_to, golden_outputs, Diagnosis, Stage};
use crate::{cpu_model, thread_cpu_time, BuildOptions, SimError};

/// Cycles allowed per token without stalls before the run counts as hung (stalls scale it).
const MAX_CYCLES_PER_TOKEN: u64 = 1_000_000;

/// One co-simulation: a core, runs of tokens, and how to drive them.
pub struct Job<'a, 'r> {
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

/// What the caller does around the long steps: build the Verilator model (with or without
/// tracing; the caller can show progress while it builds) and show progress lines.
pub trait Progress {
    /// Builds the model of `verilog` for `cfg`, or takes it from the cache. `variant` is ""
    /// or " with tracing support".
    fn build(
        &mut self,
        variant: &str,
        cfg: &HgfConfig,
        verilog: &str,
        opts: &BuildOptions,
    ) -> Result<CoreSim, SimError>;
    /// A line of progress.
    fn note(&mut self, line: &str);
}

/// Why a co-simulation could not run (a mismatch is not an error: it is in the report).
#[derive(Debug, Error)]
pub enum CosimError {
    #[error("the weights do not fit the config: {0}")]
    Weights(#[from] WeightsError),
    #[error("cannot build the Verilator model: {0}")]
    Build(SimError),
    #[error("co-simulation failed: {0}")]
    Run(SimError),
    #[error("--flip-expected {token},{output}: the run has no output {output} of token {token}")]
    FlipOutOfRange { token: usize, output: usize },
}

/// A binary16 or binary32 value in a report: the exact bits, then the decimal reading (null
/// for NaN and infinities, which JSON has no number for).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FloatValue {
    pub hex: String,
    pub value: f64,
}

impl FloatValue {
    pub fn binary16(bits: u16) -> Self {
        FloatValue {
            hex: format!("{bits:#06x}"),
            value: f64::from(f16::from_bits(bits).to_f32()),
        }
    }

    pub fn binary32(bits: u32) -> Self {
        FloatValue {
            hex: format!("{bits:#010x}"),
            value: f64::from(f32::from_bits(bits)),
        }
    }
}

/// A gate input: `acc` is an integer, `k` and `v` are binary32.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum StageValue {
    Integer(i64),
    Binary32(FloatValue),
}

impl StageValue {
    fn of(signal: &str, v: i64) -> Self {
        if signal == "acc" {
            StageValue::Integer(v)
        } else {
            StageValue::Binary32(FloatValue::binary32(v as u32))
        }
    }

    fn text(&self) -> String {
        match self {
            StageValue::Integer(v) => v.to_string(),
            StageValue::Binary32(f) => {
                format!("{} ({:e})", f.hex, f32::from_bits(parse_hex(&f.hex)))
            }
        }
    }
}

fn parse_hex(hex: &str) -> u32 {
    u32::from_str_radix(hex.trim_start_matches("0x"), 16).unwrap_or(0)
}

/// The first differing stage, as a report gives it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StageFinding {
    /// Machine name ([`Stage::key`]).
    pub name: &'static str,
    #[serde(skip)]
    pub stage: Stage,
    pub row: usize,
    /// The differing gate input (`k`, `acc`, `v`); none when every one matches.
    pub signal: Option<&'static str>,
    pub rtl: Option<StageValue>,
    pub golden: Option<StageValue>,
    pub rows_differing: usize,
    pub vcd_time: u64,
    pub scope: String,
}

/// What the VCD rerun of a mismatch found: the VCD, whether the rerun gave the same value,
/// the first differing stage, and why any of these is missing.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DiagnosisReport {
    pub vcd: Option<String>,
    pub reproduced: Option<bool>,
    pub stage: Option<StageFinding>,
    pub diagnosis_error: Option<String>,
}

impl DiagnosisReport {
    pub fn new(diagnosis: &Result<Diagnosis, String>) -> Self {
        match diagnosis {
            Ok(d) => {
                let (stage, error) = match &d.stage {
                    Ok(s) => (
                        Some(StageFinding {
                            name: s.stage.key(),
                            stage: s.stage,
                            row: s.row,
                            signal: s.difference.map(|d| d.signal),
                            rtl: s.difference.map(|d| StageValue::of(d.signal, d.rtl)),
                            golden: s.difference.map(|d| StageValue::of(d.signal, d.golden)),
                            rows_differing: s.rows_differing,
                            vcd_time: s.time,
                            scope: s.scope.clone(),
                        }),
                        None,
                    ),
                    Err(e) => (None, Some(e.clone())),
                };
                DiagnosisReport {
                    vcd: Some(d.vcd.display().to_string()),
                    reproduced: Some(d.reproduced),
                    stage,
                    diagnosis_error: error,
                }
            }
            Err(e) => DiagnosisReport {
                diagnosis_error: Some(e.clone()),
                ..DiagnosisReport::default()
            },
        }
    }

    /// The report lines (`stage:`, `note:`, `vcd:`): `what` names the rerun the VCD holds,
    /// `d_out` the rows of the token.
    pub fn lines(&self, what: &str, d_out: usize) -> Vec<String> {
        let mut lines = Vec::new();
        let Some(vcd) = &self.vcd else {
            if let Some(e) = &self.diagnosis_error {
                lines.push(format!("vcd:        not written: {e}"));
            }
            return lines;
        };
        lines.push(match (&self.stage, &self.diagnosis_error) {
            (Some(s), _) => match (s.signal, &s.rtl, &s.golden) {
                (Some(signal), Some(rtl), Some(golden)) => format!(
                    "stage:      {} differs first: gate input `{signal}` of row {} is {} in the \
                     RTL, {} in the golden model (VCD time {}, {}; {} of {d_out} rows differ)",
                    s.stage.name(),
                    s.row,
                    rtl.text(),
                    golden.text(),
                    s.vcd_time,
                    s.scope,
                    s.rows_differing,
                ),
                _ => format!(
                    "stage:      {}: every gate input of row {} (k, acc, and v unless the rank \
                     is 0) matches the golden model, so the gate or the output path differs (VCD \
                     time {}, {})",
                    Stage::Gate.name(),
                    s.row,
                    s.vcd_time,
                    s.scope
                ),
            },
            (None, Some(e)) => format!("stage:      not named: {e}"),
            (None, None) => "stage:      not named".to_string(),
        });
        if self.reproduced == Some(false) {
            lines.push(
                "note:       the run with the VCD gave another value at the mismatch (the core \
                 is not deterministic?)"
                    .to_string(),
            );
        }
        lines.push(format!("vcd:        {vcd} ({what}, from its first cycle)"));
        lines
    }
}

/// The first differing output of a co-simulation and its diagnosis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MismatchReport {
    pub token: usize,
    pub output: usize,
    pub rtl: FloatValue,
    pub golden: FloatValue,
    #[serde(flatten)]
    pub diagnosis: DiagnosisReport,
}

/// One run of the sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunShape {
    pub d_in: usize,
    pub d_out: usize,
    pub rank: usize,
    pub tokens: usize,
}

/// An expected output flipped by the test hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FlippedOutput {
    pub token: usize,
    pub output: usize,
}

/// Everything a co-simulation found (the JSON of `hgf cosim --json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CosimReport {
    pub config: HgfConfig,
    pub runs: Vec<RunShape>,
    pub weights: String,
    pub input: String,
    pub seed: u64,
    pub stall: f64,
    pub tokens: usize,
    pub outputs_compared: usize,
    pub mismatches: usize,
    pub first_token_cycles: u64,
    pub steady_cycles_per_token: f64,
    /// The busier stream's beats per token, over every token of every run.
    pub ideal_cycles_per_token: u64,
    /// The cycle model for the first run's shape.
    pub expected_cycles_per_token: ExpectedCycles,
    /// Without stalls: whether every token took the model's cycles (null with stalls).
    pub cycles_as_expected: Option<bool>,
    /// Ideal over measured steady cycles per token (null without a finished token).
    pub utilisation: Option<f64>,
    pub simulated_cycles: u64,
    pub seconds: f64,
    pub simulated_cycles_per_second: f64,
    /// CPU time of the simulating thread: on a shared machine it leaves out the time other
    /// processes had the core (null where the clock is unavailable).
    pub cpu_seconds: Option<f64>,
    pub simulated_cycles_per_cpu_second: Option<f64>,
    /// The processor that ran it (null where the system does not name it).
    pub processor: Option<String>,
    /// "built" or "reused from cache".
    pub verilator_model: &'static str,
    pub first_mismatch: Option<MismatchReport>,
    pub expected_flipped: Option<FlippedOutput>,
}

/// Builds (or reuses) the Verilator model, streams the runs through one instance, compares
/// every output with the golden model and, on a mismatch, diagnoses the first one.
pub fn cosimulate(
    job: &Job<'_, '_>,
    progress: &mut dyn Progress,
) -> Result<CosimReport, CosimError> {
    let cfg = job.cfg;
    let goldens: Vec<HgfProjection> = job
        .runs
        .iter()
        .map(|r| HgfProjection::new(cfg, r.weights.clone()))
        .collect::<Result<_, _>>()?;
    // Without tracing support (the default) the model builds in about half the time and
    // runs faster; a mismatch builds the traced model (cached too) for its VCD.
    let sim = progress
        .build("", cfg, job.verilog, &BuildOptions::default())
        .map_err(CosimError::Build)?;
    let n: usize = job.runs.iter().map(|r| r.tokens.nrows()).sum();
    let max_cycles = (MAX_CYCLES_PER_TOKEN as f64 * (n as f64 + 1.0) / (1.0 - job.stall)) as u64;
    let opts = RunOptions {
        stall: job.stall,
        seed: job.seed,
        max_cycles,
        ..RunOptions::default()
    };
    progress.note(&format!(
        "co-simulating {} ...",
        count(n as u64, "token", "tokens")
    ));
    let started = Instant::now();
    let cpu_started = thread_cpu_time();
    let mut last_report = started;
    let run = sim
        .run_sequence(&job.runs, &opts, &mut |done: usize, cycles: u64| {
            if done < n && last_report.elapsed() >= PROGRESS_EVERY {
                let rate = cycles as f64 / started.elapsed().as_secs_f64();
                progress.note(&format!(
                    "{done}/{n} tokens done, {cycles} cycles, {} simulated cycles/s",
                    si(rate)
                ));
                last_report = Instant::now();
            }
        })
        .map_err(CosimError::Run)?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = cpu_started
        .zip(thread_cpu_time())
        .map(|(a, b)| (b - a).as_secs_f64());
    let mut expected: Vec<Vec<u16>> = goldens
        .iter()
        .zip(&job.runs)
        .flat_map(|(golden, r)| golden_outputs(golden, r.tokens))
        .collect();
    if let Some((token, output)) = job.flip_expected {
        let slot = expected
            .get_mut(token)
            .and_then(|row| row.get_mut(output))
            .ok_or(CosimError::FlipOutOfRange { token, output })?;
        *slot ^= 1;
    }
    let comparison = compare(&expected, &run.outputs);

    let first_mismatch = comparison.first.map(|m| {
        progress.note(&format!(
            "mismatch at token {}, output {}; running up to it again with a VCD",
            m.token, m.output
        ));
        let diagnosis = (|| {
            // The VCD diagnosis reruns one layer's tokens up to the failing one.
            let [single] = job.runs.as_slice() else {
                return Err(format!(
                    "the VCD diagnosis covers one layer; this sequence of {} runs is not \
                     diagnosed (the mismatch is at token {} over all runs)",
                    job.runs.len(),
                    m.token
                ));
            };
            let traced_opts = BuildOptions {
                trace: true,
                ..BuildOptions::default()
            };
            let traced = progress
                .build(" with tracing support", cfg, job.verilog, &traced_opts)
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
        })();
        MismatchReport {
            token: m.token,
            output: m.output,
            rtl: FloatValue::binary16(m.rtl),
            golden: FloatValue::binary16(m.golden),
            diagnosis: DiagnosisReport::new(&diagnosis),
        }
    });
    Ok(CosimReport::new(
        job,
        &run,
        n,
        comparison.outputs_compared,
        comparison.mismatches,
        seconds,
        cpu_seconds,
        sim.lib().was_built(),
        first_mismatch,
    ))
}

/// Interval between progress lines during the run.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// A rate with an SI prefix: `1.23 M`.
pub fn si(v: f64) -> String {
    match v {
        v if v >= 1e6 => format!("{:.2} M", v / 1e6),
        v if v >= 1e3 => format!("{:.1} k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

impl CosimReport {
    #[allow(clippy::too_many_arguments)]
    fn new(
        job: &Job<'_, '_>,
        run: &CoreRun,
        tokens: usize,
        outputs_compared: usize,
        mismatches: usize,
        seconds: f64,
        cpu_seconds: Option<f64>,
        model_built: bool,
        first_mismatch: Option<MismatchReport>,
    ) -> Self {
        let cfg = job.cfg;
        let (sum, counted) = run.runs.iter().fold((0, 0), |(sum, n), &(shape, t)| {
            (sum + cfg.layout(shape).ideal_cycles() * t, n + t)
        });
        let ideal = (sum as f64 / counted.max(1) as f64).round() as u64;
        let steady = run.steady_cycles_per_token();
        let check = CycleCheck::new(cfg, run);
        CosimReport {
            config: cfg.clone(),
            runs: run
                .runs
                .iter()
                .map(|&(shape, tokens)| RunShape {
                    d_in: shape.d_in,
                    d_out: shape.d_out,
                    rank: shape.rank,
                    tokens,
                })
                .collect(),
            weights: job.weights_origin.clone(),
            input: job.input_origin.clone(),
            seed: job.seed,
            stall: job.stall,
            tokens,
            outputs_compared,
            mismatches,
            first_token_cycles: run.first_token_cycles(),
            steady_cycles_per_token: steady,
            ideal_cycles_per_token: ideal,
            cycles_as_expected: (job.stall == 0.0).then(|| check.exact()),
            expected_cycles_per_token: check.expected,
            utilisation: (steady > 0.0).then(|| ideal as f64 / steady),
            simulated_cycles: run.cycles,
            seconds,
            simulated_cycles_per_second: if seconds > 0.0 {
                run.cycles as f64 / seconds
            } else {
                0.0
            },
            cpu_seconds,
            simulated_cycles_per_cpu_second: cpu_seconds
                .filter(|&s| s > 0.0)
                .map(|s| run.cycles as f64 / s),
            processor: cpu_model(),
            verilator_model: if model_built {
                "built"
            } else {
                "reused from cache"
            },
            first_mismatch,
            expected_flipped: job
                .flip_expected
                .map(|(token, output)| FlippedOutput { token, output }),
        }
    }

    /// Whether every output matched.
    pub fn passed(&self) -> bool {
        self.mismatches == 0
    }

    /// The summary lines after the `core:` line.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "layer:      weights {}; tokens {}",
                self.weights, self.input
            ),
            format!(
                "runs:       {} on one core instance, back to back: {}",
                count(self.runs.len() as u64, "run", "runs"),
                self.runs
                    .iter()
                    .map(|r| format!("{} x{}", Shape::new(r.d_in, r.d_out, r.rank), r.tokens))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            if self.stall > 0.0 {
                format!(
                    "stalls:     {}% per cycle on every stream (seed {})",
                    self.stall * 100.0,
                    self.seed
                )
            } else {
                "stalls:     none".to_string()
            },
            format!(
                "cosim:      {}, {} compared bit for bit, {}",
                count(self.tokens as u64, "token", "tokens"),
                count(self.outputs_compared as u64, "output", "outputs"),
                count(self.mismatches as u64, "mismatch", "mismatches")
            ),
            format!(
                "cycles:     first token {}, steady {:.1} per token; ideal {}, utilisation {}",
                self.first_token_cycles,
                self.steady_cycles_per_token,
                self.ideal_cycles_per_token,
                self.utilisation
                    .map_or_else(|| "n/a".to_string(), |u| format!("{:.1}%", u * 100.0))
            ),
        ];
        let expected = &self.expected_cycles_per_token;
        lines.push(format!(
            "model:      first token {} (after reset), steady {} per token without stalls, \
             limited by {}{}",
            expected.after_reset,
            expected.steady,
            expected.limited_by.text(),
            match self.cycles_as_expected {
                Some(true) => "; measured the same",
                Some(false) => "; MEASURED OTHERWISE",
                None => "",
            }
        ));
        let per_cpu_second = self
            .simulated_cycles_per_cpu_second
            .map(|c| format!(" ({} per CPU second)", si(c)))
            .unwrap_or_default();
        lines.push(format!(
            "speed:      {} cycles in {:.2} s, {} simulated cycles/s{per_cpu_second} on {}",
            self.simulated_cycles,
            self.seconds,
            si(self.simulated_cycles_per_second),
            self.processor.as_deref().unwrap_or("an unnamed processor")
        ));
        if let Some(f) = self.expected_flipped {
            lines.push(format!(
                "test hook:  expected output {} of token {} flipped (--flip-expected)",
                f.output, f.token
            ));
        }
        if let Some(m) = &self.first_mismatch {
            lines.push(format!(
                "mismatch:   token {}, output {}: rtl {}, golden {} (first of {})",
                m.token,
                m.output,
                binary16_text(&m.rtl),
                binary16_text(&m.golden),
                self.mismatches
            ));
            let d_out = self.runs.first().map_or(0, |r| r.d_out);
            lines.extend(m.diagnosis.lines(&format!("token {}", m.token), d_out));
        }
        lines
    }
}

/// A binary16 value as text: bits and decimal (as `hgf golden` prints them).
pub fn binary16_text(v: &FloatValue) -> String {
    let bits = u16::from_str_radix(v.hex.trim_start_matches("0x"), 16).unwrap_or(0);
    format!("{} ({})", v.hex, f16::from_bits(bits))
}
