//! `hgf fpcheck`.

use std::process::ExitCode;

use anyhow::{bail, Result};

pub fn run(_args: &crate::cli::FpcheckArgs) -> Result<ExitCode> {
    bail!("hgf fpcheck is not implemented yet")
}
