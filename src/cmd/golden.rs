//! `hgf golden`.

use std::process::ExitCode;

use anyhow::{bail, Result};

pub fn run(_args: &crate::cli::GoldenArgs) -> Result<ExitCode> {
    bail!("hgf golden is not implemented yet")
}
