//! The `hgf` subcommands: each turns parsed arguments into a validated plan and runs it.

mod config;
mod cosim;
mod estimate;
mod explore;
mod fpcheck;
mod generate;
mod golden;
mod infer;
mod layer;
mod run;
mod show;
mod synth;

use std::process::ExitCode;

use anyhow::Result;
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
