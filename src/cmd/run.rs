//! `hgf run`: the main job on one config. Generates the core, co-simulates it in Verilator
//! against the golden model on a layer and tokens generated from the seed (the `hgf cosim`
//! step), and reports (text, and `report.json` next to the Verilog).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use hgf_golden::HgfWeights;
use hgf_hdl::emit::generate;
use serde_json::json;

use super::cosim::{cosimulate, Job, DEFAULT_VCD};
use super::layer;
use crate::cli::RunArgs;

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
    eprintln!("hgf run: generating {} ...", cfg.name);
    let generated = generate(&cfg).context("cannot emit the core")?;
    generated
        .write(&dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    let origin = format!("random (seed {})", args.seed);
    let outcome = cosimulate(&Job {
        label: "hgf run",
        cfg: &cfg,
        verilog: &generated.verilog,
        weights: &weights,
        tokens: tokens.view(),
        weights_origin: origin.clone(),
        input_origin: origin,
        stall: 0.0,
        seed: args.seed,
        vcd: dir.join(DEFAULT_VCD),
        flip_expected: None,
    })?;

    let verilog_lines = generated.verilog.lines().count();
    let mut report = outcome.to_json();
    report["verilog_lines"] = json!(verilog_lines);
    report["directory"] = json!(dir.display().to_string());
    let report_path = dir.join("report.json");
    std::fs::write(&report_path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("cannot write {}", report_path.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "core:       {} for {} (d_in {}, d_out {}, rank {}), {} Verilog lines in {}; \
             Verilator model {}",
            cfg.name,
            cfg.target,
            shape.d_in,
            shape.d_out,
            shape.rank,
            verilog_lines,
            dir.display(),
            outcome.model_text()
        );
        outcome.print();
        println!("report:     {}", report_path.display());
    }
    Ok(outcome.exit_code())
}
