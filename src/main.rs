//! `hgf`: generate, co-simulate, estimate and check Hybrid Gated Flow (HGF) inference hardware.

mod cli;
mod cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cmd::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hgf: error: {err:#}");
            ExitCode::from(cmd::exit_code_for(&err))
        }
    }
}
