//! `hgf run`: the main job on one config.
//!
//! Today it runs the golden model on a layer and tokens generated from the seed and prints
//! the golden summary. The hardware and co-simulation issues extend it to generate the
//! Verilog, co-simulate it against this golden run, and report.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{GoldenArgs, RunArgs};

pub fn run(args: &RunArgs) -> Result<ExitCode> {
    let golden = GoldenArgs {
        source: args.source.clone(),
        weights: None,
        input: None,
        output: None,
        random: true,
        seed: args.seed,
        force: false,
        tokens: args.tokens,
        json: args.json,
    };
    super::golden::run(&golden)
}
