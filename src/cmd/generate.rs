//! `hgf generate`: the core's Verilog, manifest and constraints for one config.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use hgf_hdl::emit::generate;

use crate::cli::GenerateArgs;

pub fn run(args: &GenerateArgs) -> Result<ExitCode> {
    let cfg = super::load_config(&args.source)?;
    let generated = generate(&cfg).context("cannot emit the core")?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&cfg.name));
    let files = generated
        .write(&dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    if args.json {
        println!("{}", generated.manifest.to_json());
    } else {
        let d = &generated.manifest.derived;
        println!(
            "core:      {} for {} ({})",
            cfg.name,
            cfg.target,
            cfg.engine_summary()
        );
        println!(
            "derived:   acc_bits {}; largest projection: {} bytes per token, ideal {} cycles \
             per token",
            d.acc_bits, d.max_projection.bytes_per_token, d.max_projection.ideal_cycles
        );
        let cycles = &generated.manifest.expected_cycles_per_token;
        println!(
            "cycles:    {} per token without stalls (first token {}), limited by {}",
            cycles.steady,
            cycles.first_token,
            cycles.limited_by.text()
        );
        println!(
            "ports:     {} ({} Verilog lines)",
            generated.manifest.ports.len(),
            generated.verilog.lines().count()
        );
        for f in files {
            println!("wrote:     {}", f.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
