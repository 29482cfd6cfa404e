//! `hgf generate`: the core's Verilog, manifest and constraints for one config, its FuseSoC
//! core description and place-and-route top, and with `--testbench` a self-checking
//! testbench with its vectors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use half::f16;
use hgf_golden::output::OutputFiles;
use hgf_golden::plural::count;
use hgf_golden::{HgfConfig, HgfWeights};
use hgf_hdl::emit::{generate, generate_pnr_top, Generated};
use hgf_hdl::manifest::stage_files;
use hgf_hdl::settle::simulation_file_name;
use hgf_hdl::testbench::{run_commands, testbench, Testbench, TestbenchSpec};
use hgf_hdl::width_waiver::{waiver_file, waiver_file_name};
use hgf_synth::fusesoc::{core_file, core_file_name, CoreFiles};

use super::layer;
use crate::cli::GenerateArgs;
use crate::stdout::outln;

pub fn run(args: &GenerateArgs) -> Result<ExitCode> {
    super::cosim::check_stall(args.stall)?;
    let mut inputs = super::config_input(&args.source);
    inputs.extend(args.weights.as_deref().map(|p| ("--weights", p)));
    inputs.extend(args.input.as_deref().map(|p| ("--input", p)));
    let (cfg, layer) = match &args.weights {
        Some(path) => {
            let (cfg, w) = layer::read_weights(&args.source, path)?;
            (cfg, Some((w, path.display().to_string())))
        }
        None => (super::load_config(&args.source)?, None),
    };
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&cfg.name));
    super::check_output_dir("--out", &dir)?;
    // The tokens are read (or their count checked) before the long emission.
    let bench_inputs = if args.testbench {
        Some(testbench_inputs(args, &cfg, layer)?)
    } else {
        None
    };
    let mut generated = generate(&cfg).context("cannot emit the core")?;
    let pnr = generate_pnr_top(&cfg).context("cannot emit the place-and-route top")?;
    let bench = match &bench_inputs {
        Some((weights, tokens, origin)) => Some(
            testbench(&TestbenchSpec {
                cfg: &cfg,
                ports: &generated.manifest.ports,
                axis_ports: &generated.manifest.axis.ports,
                weights,
                tokens,
                origin: origin.clone(),
                stall: args.stall,
                seed: args.seed,
            })
            .context("cannot write the testbench")?,
        ),
        None => None,
    };
    let extra = extra_files(&cfg, &generated, &pnr.top, pnr.verilog, bench.as_ref());
    generated
        .manifest
        .files
        .extend(extra.iter().map(|(n, _)| PathBuf::from(n)));

    let files: Vec<PathBuf> = generated
        .file_names()
        .chain(extra.iter().map(|(n, _)| n.clone()))
        .map(|n| dir.join(n))
        .collect();
    let outputs: Vec<(&str, &Path)> = files.iter().map(|f| ("--out", f.as_path())).collect();
    super::check_outputs(&outputs, &inputs)?;
    let written = write_all(&generated, &extra, &dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    if args.json {
        outln!("{}", generated.manifest.to_json())?;
        return Ok(ExitCode::SUCCESS);
    }
    let d = &generated.manifest.derived;
    outln!(
        "core:      {} for {} ({})",
        cfg.name,
        cfg.target,
        cfg.engine_summary()
    )?;
    outln!(
        "derived:   acc_bits {}; largest projection: {} bytes per token, ideal {} cycles \
         per token",
        d.acc_bits,
        d.max_projection.bytes_per_token,
        d.max_projection.ideal_cycles
    )?;
    let cycles = &generated.manifest.expected_cycles_per_token;
    outln!(
        "cycles:    {} per token of the largest projection without stalls (a run's first \
         token {}), limited by {}",
        cycles.steady,
        cycles.first_token,
        cycles.limited_by.text()
    )?;
    outln!(
        "ports:     {} ({} Verilog lines)",
        generated.manifest.ports.len(),
        generated.verilog.lines().count()
    )?;
    if let (Some(tb), Some((w, tokens, _))) = (&bench, &bench_inputs) {
        outln!(
            "testbench: {} compares {} outputs ({} of a {} projection); in {}:",
            tb.top,
            tb.outputs,
            count(tokens.len() as u64, "token", "tokens"),
            w.projection_shape(),
            dir.display()
        )?;
        // The core's testbench, then the AXI4-Stream top's.
        for top in [&cfg.name, &generated.manifest.axis.top] {
            for command in run_commands(&cfg.name, top) {
                outln!("           {command}")?;
            }
        }
    }
    for f in written {
        outln!("wrote:     {}", f.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The testbench's layer and tokens, and where they came from.
fn testbench_inputs(
    args: &GenerateArgs,
    cfg: &HgfConfig,
    layer: Option<(HgfWeights, String)>,
) -> Result<(HgfWeights, Vec<Vec<f16>>, String)> {
    let (weights, weights_origin) = layer.unwrap_or_else(|| {
        (
            HgfWeights::random(cfg.max_shape(), args.seed),
            format!("random layer (seed {})", args.seed),
        )
    });
    let shape = weights.projection_shape();
    let (tokens, tokens_origin) = match &args.input {
        Some(path) => {
            let shape_from = match &args.weights {
                Some(w) => format!("the weights in {}", w.display()),
                None => layer::config_origin(&args.source),
            };
            let x = layer::read_tokens(path, shape.d_in, &shape_from)?;
            (x, format!("tokens from {}", path.display()))
        }
        None => (
            layer::random_tokens_checked(shape, args.tokens, args.seed)?,
            format!("random tokens (seed {})", args.seed),
        ),
    };
    let rows = tokens.rows().into_iter().map(|r| r.to_vec()).collect();
    Ok((weights, rows, format!("{weights_origin}, {tokens_origin}")))
}

/// The files written beside the core's own: the place-and-route top, the testbench and its
/// vectors, and the FuseSoC core description that names them all.
fn extra_files(
    cfg: &HgfConfig,
    generated: &Generated,
    pnr_top: &str,
    pnr_verilog: String,
    bench: Option<&Testbench>,
) -> Vec<(String, String)> {
    let names: Vec<String> = generated.file_names().collect();
    let pnr_file = format!("{pnr_top}.v");
    let sim_file = simulation_file_name(&cfg.name);
    // The settled copies hold the same modules as the files they copy: `rtl` has the
    // originals only.
    let sim_copies = [
        sim_file.clone(),
        simulation_file_name(&generated.manifest.axis.top),
    ];
    let core = CoreFiles {
        rtl: names
            .iter()
            .filter(|n| n.ends_with(".v") && !sim_copies.contains(n))
            .cloned()
            .collect(),
        sim_rtl: sim_file.clone(),
        pnr: (pnr_file.clone(), pnr_top.to_string()),
        constraints: generated
            .constraints
            .iter()
            .map(|(n, _)| n.clone())
            .collect(),
        width_waivers: waiver_file_name(&cfg.name),
        testbench: bench.map(|tb| {
            let (verilog, vectors) = tb.files.split_first().expect("a testbench has a file");
            (
                verilog.0.clone(),
                tb.top.clone(),
                vectors.iter().map(|(n, _)| n.clone()).collect(),
            )
        }),
    };
    // `WIDTH` is waived on the lines of rust-hdl's casts in every Verilog file written.
    let axis_file = format!("{}.v", generated.manifest.axis.top);
    let waivers = waiver_file(&[
        (&format!("{}.v", cfg.name), &generated.verilog),
        (&axis_file, &generated.axis_verilog),
        (&sim_file, &generated.sim_verilog),
        (&pnr_file, &pnr_verilog),
    ]);
    let mut extra = vec![
        (waiver_file_name(&cfg.name), waivers),
        (pnr_file, pnr_verilog),
    ];
    if let Some(tb) = bench {
        extra.extend(tb.files.iter().cloned());
        extra.push(tb.axis_file.clone());
    }
    extra.push((core_file_name(cfg), core_file(cfg, &core)));
    extra
}

/// Writes the core's files and `extra` into `dir`, all or none of them.
fn write_all(
    generated: &Generated,
    extra: &[(String, String)],
    dir: &Path,
) -> std::io::Result<Vec<PathBuf>> {
    let mut outputs = OutputFiles::new();
    generated.stage(dir, &mut outputs)?;
    stage_files(dir, extra, &mut outputs)?;
    let written = outputs.commit()?;
    generated.remove_stale_constraints(dir)?;
    Ok(written)
}
