//! `hgf generate`: the core's Verilog, manifest and constraints for one config.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use hgf_hdl::emit::generate;

use crate::cli::GenerateArgs;
use crate::stdout::outln;

pub fn run(args: &GenerateArgs) -> Result<ExitCode> {
    let cfg = super::load_config(&args.source)?;
    let generated = generate(&cfg).context("cannot emit the core")?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&cfg.name));
    super::check_output_dir("--out", &dir)?;
    let files: Vec<PathBuf> = generated.file_names().map(|n| dir.join(n)).collect();
    let outputs: Vec<(&str, &Path)> = files.iter().map(|f| ("--out", f.as_path())).collect();
    super::check_outputs(&outputs, &super::config_input(&args.source))?;
    let files = generated
        .write(&dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    if args.json {
        outln!("{}", generated.manifest.to_json())?;
    } else {
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
        for f in files {
            outln!("wrote:     {}", f.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
