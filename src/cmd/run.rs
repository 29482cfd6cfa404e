//! `hgf run`: the main job on one config. Generates the core, co-simulates it in Verilator
//! against the golden model on a layer and tokens generated from the seed (the `hgf cosim`
//! step), and reports (text, and `report.json` next to the Verilog).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use hgf_golden::output::OutputFiles;
use hgf_golden::HgfWeights;
use hgf_hdl::emit::generate;
use hgf_sim::core_driver::ProjectionRun;
use hgf_sim::cosim_job::{cosimulate, CosimReport, Job};
use serde::Serialize;

use super::cosim::{exit_code, print_lines, StderrProgress, DEFAULT_VCD};
use super::layer;
use crate::cli::RunArgs;
use crate::stdout::outln;

pub fn run(args: &RunArgs) -> Result<ExitCode> {
    let cfg = super::load_config(&args.source)?;
    // The core's largest projection: what its buffers and counters are sized for.
    let shape = cfg.max_shape();
    let tokens = layer::random_tokens_checked(shape, args.tokens, args.seed)?;
    let weights = HgfWeights::random(shape, args.seed);
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&cfg.name));
    super::check_output_dir("--out", &dir)?;
    eprintln!("hgf run: generating {} ...", cfg.name);
    let generated = generate(&cfg).context("cannot emit the core")?;
    let report_path = dir.join("report.json");
    let files: Vec<PathBuf> = generated
        .file_names()
        .map(|name| dir.join(name))
        .chain([report_path.clone()])
        .collect();
    let outputs: Vec<(&str, &Path)> = files.iter().map(|f| ("--out", f.as_path())).collect();
    super::check_outputs(&outputs, &super::config_input(&args.source))?;
    let origin = format!("random (seed {})", args.seed);
    let cosim = cosimulate(
        &Job {
            cfg: &cfg,
            verilog: &generated.verilog,
            runs: vec![ProjectionRun {
                weights: &weights,
                tokens: tokens.view(),
            }],
            weights_origin: origin.clone(),
            input_origin: origin,
            stall: 0.0,
            seed: args.seed,
            vcd: dir.join(DEFAULT_VCD),
            flip_expected: None,
        },
        &mut StderrProgress("hgf run"),
    )?;

    // Written only now that the co-simulation ran (a mismatch is a result, and is written
    // too): all files or none (`OutputFiles`).
    let report = RunReport {
        verilog_lines: generated.verilog.lines().count(),
        directory: dir.display().to_string(),
        cosim,
    };
    let json = serde_json::to_string_pretty(&report)?;
    let cannot_write = || format!("cannot write into {}", dir.display());
    let mut written = OutputFiles::new();
    generated
        .stage(&dir, &mut written)
        .with_context(cannot_write)?;
    written
        .stage(&report_path, json.as_bytes())
        .with_context(cannot_write)?;
    written.commit().with_context(cannot_write)?;
    generated
        .remove_stale_constraints(&dir)
        .with_context(cannot_write)?;
    if args.json {
        // The same text as report.json.
        outln!("{json}")?;
    } else {
        outln!(
            "core:       {} for {} (d_in {}, d_out {}, rank {}), {} Verilog lines in {}; \
             Verilator model {}",
            cfg.name,
            cfg.target,
            shape.d_in,
            shape.d_out,
            shape.rank,
            report.verilog_lines,
            dir.display(),
            report.cosim.verilator_model
        )?;
        print_lines(&report.cosim)?;
        outln!("report:     {}", report_path.display())?;
    }
    Ok(exit_code(&report.cosim))
}

/// `report.json`: the co-simulation's report with where the core was written.
#[derive(Serialize)]
struct RunReport {
    #[serde(flatten)]
    cosim: CosimReport,
    verilog_lines: usize,
    directory: String,
}
