//! The `hgf` subcommands: each turns parsed arguments into a validated plan and runs it.

mod config;
mod cosim;
mod estimate;
mod explore;
mod fpcheck;
mod generate;
mod golden;
mod infer;
mod infer_rtl;
mod layer;
mod run;
mod shapes;
mod show;
mod synth;
mod synth_blocks;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use hgf_golden::output::same_file;
use hgf_golden::HgfConfig;

use crate::cli::{Cli, Command, ConfigSource};

/// Exit code of a check that ran and found a mismatch.
pub const EXIT_MISMATCH: u8 = 1;
/// Exit code of an error: bad config, bad or missing file, missing tool.
pub const EXIT_ERROR: u8 = 2;

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Cosim(args) => cosim::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Golden(args) => golden::run(&args),
        Command::Fpcheck(args) => fpcheck::run(&args),
        Command::Config(args) => config::run(&args),
        Command::Estimate(args) => estimate::run(&args),
        Command::Synth(args) => synth::run(&args),
        Command::Explore(args) => explore::run(&args),
        Command::Infer(args) => infer::run(&args),
    }
}

/// Every error that reaches `main` is a usage, input or tool error.
pub fn exit_code_for(_err: &anyhow::Error) -> u8 {
    EXIT_ERROR
}

/// Resolves `--config FILE` / `--preset NAME` / nothing (the default preset).
pub fn load_config(source: &ConfigSource) -> Result<HgfConfig> {
    let cfg = match (&source.config, &source.preset) {
        (Some(path), _) => HgfConfig::load(path)?,
        (None, Some(name)) => HgfConfig::preset(name)?,
        (None, None) => HgfConfig::default(),
    };
    Ok(cfg)
}

/// The file `--config` names, as an input that no output may replace.
pub fn config_input(source: &ConfigSource) -> Vec<(&'static str, &Path)> {
    source
        .config
        .as_deref()
        .map(|p| ("--config", p))
        .into_iter()
        .collect()
}

/// Refuses, before anything is written, an output that is one of the inputs or another
/// output, whatever the paths look like (`same_file`: links, `..`, hard links). Each entry is
/// (the option that names it, the path).
pub fn check_outputs(outputs: &[(&str, &Path)], inputs: &[(&str, &Path)]) -> Result<()> {
    for (i, &(flag, path)) in outputs.iter().enumerate() {
        if let Some(&(input_flag, input)) = inputs.iter().find(|(_, p)| same_file(path, p)) {
            anyhow::bail!(
                "{flag} {} is the file {input_flag} {} reads; hgf does not write over its \
                 inputs (name another output file)",
                path.display(),
                input.display()
            );
        }
        if let Some(&(other, _)) = outputs[i + 1..].iter().find(|(_, p)| same_file(path, p)) {
            anyhow::bail!(
                "{flag} and {other} both name {}; each output needs a file of its own",
                path.display()
            );
        }
    }
    Ok(())
}

/// Refuses an output directory that exists as something other than a directory, before any
/// work is done.
pub fn check_output_dir(flag: &str, dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(
            "{flag} {} is not a directory (a file of that name exists)",
            dir.display()
        );
    }
    Ok(())
}
