//! `hgf run`: the main job on one config. Generates the core, co-simulates it in Verilator
//! against the golden model on a layer and tokens generated from the seed, and reports
//! (text, and `report.json` next to the Verilog).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfProjection, HgfWeights};
use hgf_hdl::emit::generate;
use hgf_sim::core_driver::CoreSim;
use hgf_sim::BuildOptions;
use serde_json::json;

use crate::cli::RunArgs;

/// Cycles allowed per token before the run counts as hung.
const MAX_CYCLES_PER_TOKEN: u64 = 1_000_000;

pub fn run(args: &RunArgs) -> Result<ExitCode> {
    let cfg = super::load_config(&args.source)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&cfg.name));
    eprintln!("hgf run: generating {} ...", cfg.name);
    let generated = generate(&cfg).context("cannot emit the core")?;
    generated
        .write(&dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    eprintln!("hgf run: verilating (cached after the first run) ...");
    let sim = CoreSim::build(&cfg, &generated.verilog, &BuildOptions::default())
        .context("cannot build the Verilator model")?;
    let weights = HgfWeights::random(&cfg, args.seed);
    let tokens = random_tokens(&cfg, args.tokens, args.seed);
    let golden = HgfProjection::new(&cfg, weights.clone())?;
    eprintln!("hgf run: co-simulating {} tokens ...", args.tokens);
    let started = Instant::now();
    let run = sim
        .run(
            &weights,
            tokens.view(),
            0.0,
            args.seed,
            MAX_CYCLES_PER_TOKEN * (args.tokens as u64 + 1),
        )
        .context("co-simulation failed")?;
    let seconds = started.elapsed().as_secs_f64();

    let mut mismatches = 0usize;
    let mut first = None;
    for (t, (row, got)) in tokens.rows().into_iter().zip(&run.outputs).enumerate() {
        let want = golden.forward(&row.to_vec());
        for (j, (&y, w)) in got.iter().zip(&want).enumerate() {
            if y != w.to_bits() {
                mismatches += 1;
                first.get_or_insert((t, j, y, w.to_bits()));
            }
        }
    }
    let mut per_token = vec![run.token_end_cycles.first().copied().unwrap_or(0)];
    per_token.extend(run.token_end_cycles.windows(2).map(|w| w[1] - w[0]));
    let steady = *per_token.last().unwrap_or(&0);
    let ideal = cfg.ideal_cycles() as u64;
    let report = json!({
        "config": cfg,
        "tokens": args.tokens,
        "seed": args.seed,
        "outputs_compared": args.tokens * cfg.d_out,
        "mismatches": mismatches,
        "cycles_per_token": per_token,
        "steady_cycles_per_token": steady,
        "ideal_cycles_per_token": ideal,
        "ratio_to_ideal": steady as f64 / ideal as f64,
        "simulated_cycles": run.cycles,
        "simulated_cycles_per_second": run.cycles as f64 / seconds,
        "verilator_model": if sim.lib().was_built() { "built" } else { "reused from cache" },
        "verilog_lines": generated.verilog.lines().count(),
        "directory": dir.display().to_string(),
    });
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )
    .with_context(|| format!("cannot write {}", dir.join("report.json").display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "core:       {} for {} (d_in {}, d_out {}, rank {}), {} Verilog lines in {}",
            cfg.name,
            cfg.target,
            cfg.d_in,
            cfg.d_out,
            cfg.rank,
            generated.verilog.lines().count(),
            dir.display()
        );
        println!(
            "cosim:      {} tokens, {} outputs compared bit for bit, {} mismatches",
            args.tokens,
            args.tokens * cfg.d_out,
            mismatches
        );
        println!(
            "cycles:     {steady} per token (ideal {ideal}, ratio {:.2}); {:.2} M simulated cycles/s",
            steady as f64 / ideal as f64,
            run.cycles as f64 / seconds / 1e6
        );
        println!("report:     {}", dir.join("report.json").display());
    }
    if let Some((t, j, rtl, gold)) = first {
        eprintln!(
            "hgf run: first mismatch at token {t}, output {j}: rtl {rtl:#06x}, golden {gold:#06x}"
        );
        return Ok(ExitCode::from(super::EXIT_MISMATCH));
    }
    Ok(ExitCode::SUCCESS)
}
