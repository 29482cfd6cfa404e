//! `hgf cosim`: the generated core in Verilator against the golden model, every output bit
//! compared (`hgf_sim::cosim_job::cosimulate`, which `hgf run` shares).
//!
//! On a mismatch the tokens up to the failing one run again with a VCD of that token, and the
//! gate unit's inputs in it (`k`, `acc_j`, `v_j`) are compared with the golden model's stages
//! to name the first stage that differs (`hgf_sim::cosim::diagnose`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use hgf_golden::{HgfConfig, HgfWeights};
use hgf_hdl::emit::generate;
use hgf_sim::core_driver::{CoreSim, ProjectionRun};
use hgf_sim::cosim_job::{cosimulate, CosimReport, Job, Progress};
use hgf_sim::BuildOptions;

use super::{layer, shapes};
use crate::cli::CosimArgs;
use crate::progress::Heartbeat;
use crate::stdout::outln;

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
    let report = cosimulate(
        &Job {
            cfg,
            verilog: &generated.verilog,
            runs,
            weights_origin,
            input_origin,
            stall: args.stall,
            seed: args.seed,
            vcd,
            flip_expected: args.flip_expected,
        },
        &mut StderrProgress("hgf cosim"),
    )?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        outln!(
            "core:       {} for {} ({}); Verilator model {}",
            cfg.name,
            cfg.target,
            cfg.engine_summary(),
            report.verilator_model
        )?;
        print_lines(&report)?;
    }
    Ok(exit_code(&report))
}

/// The report's summary lines after the `core:` line.
pub fn print_lines(report: &CosimReport) -> Result<()> {
    for line in report.lines() {
        outln!("{line}")?;
    }
    Ok(())
}

/// 0 when every output matched, [`super::EXIT_MISMATCH`] otherwise.
pub fn exit_code(report: &CosimReport) -> ExitCode {
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_MISMATCH)
    }
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

/// Progress of a co-simulation on stderr, each line prefixed with the command (`hgf cosim`,
/// `hgf run`), with a heartbeat while Verilator builds.
pub struct StderrProgress(pub &'static str);

impl Progress for StderrProgress {
    fn build(
        &mut self,
        variant: &str,
        cfg: &HgfConfig,
        verilog: &str,
        opts: &BuildOptions,
    ) -> Result<CoreSim, hgf_sim::SimError> {
        build_model(self.0, variant, cfg, verilog, opts)
    }

    fn note(&mut self, line: &str) {
        eprintln!("{}: {line}", self.0);
    }
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
