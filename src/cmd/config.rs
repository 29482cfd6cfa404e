//! `hgf config`: the resolved config and its derived quantities.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::ConfigArgs;
use crate::stdout::{out, outln};

pub fn run(args: &ConfigArgs) -> Result<ExitCode> {
    let cfg = super::load_config(&args.source)?;
    if args.json {
        let doc = serde_json::json!({ "config": cfg, "derived": cfg.derived() });
        outln!("{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        out!("{}", cfg.to_toml())?;
        outln!()?;
        outln!("# derived (docs/arithmetic.md, golden/src/derived.rs)")?;
        let derived = serde_json::to_value(cfg.derived())?;
        if let Some(map) = derived.as_object() {
            for (k, v) in map {
                outln!("# {k} = {v}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
