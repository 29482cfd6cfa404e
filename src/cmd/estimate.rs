//! `hgf estimate`: bytes and cycles per token of models on boards, the tokens/s they allow,
//! and an optional roofline plot (docs/estimate.md).

use std::process::ExitCode;

use anyhow::{bail, Result};
use hgf_estimate::plot::write_roofline;
use hgf_estimate::{estimate, estimate_each, Board, Model};

use crate::cli::EstimateArgs;
use crate::stdout::{out, outln};

pub fn run(args: &EstimateArgs) -> Result<ExitCode> {
    let core = super::load_config(&args.source)?;
    let mut inputs = super::config_input(&args.source);
    inputs.extend(args.model_file.as_deref().map(|p| ("--model-file", p)));
    let outputs: Vec<_> = args
        .plot
        .as_deref()
        .map(|p| ("--plot", p))
        .into_iter()
        .collect();
    super::check_outputs(&outputs, &inputs)?;
    let models = match (&args.model, &args.model_file) {
        (Some(name), _) => vec![Model::preset(name)?],
        (None, Some(path)) => vec![Model::load(path)?],
        (None, None) => Model::presets(),
    };
    let boards = match (&args.board, args.bandwidth) {
        (Some(name), _) => vec![Board::preset(name)?.with_overrides(args.bandwidth, args.clock)?],
        (None, Some(bandwidth)) => {
            let Some(clock) = args.clock else {
                bail!(
                    "`--bandwidth` without `--board` describes a custom board and needs \
                     `--clock` (MHz) too; or name a board with `--board`"
                );
            };
            vec![Board::custom(bandwidth, clock)?]
        }
        (None, None) => Board::presets()
            .into_iter()
            .map(|b| b.with_overrides(None, args.clock))
            .collect::<Result<_, _>>()?,
    };
    // A model the user named must be estimated: if it does not fit the core, that is the
    // error. Of the built-in models, those that fit are estimated and the others are named
    // with the reason (`Estimate::unmapped`).
    let named = args.model.is_some() || args.model_file.is_some();
    let estimate = if named {
        estimate(&core, &models, &boards)?
    } else {
        estimate_each(&core, &models, &boards)?
    };
    if estimate.models.is_empty() {
        let reasons: Vec<String> = estimate.unmapped.iter().map(|u| u.error.clone()).collect();
        bail!(
            "none of the models runs on this core: {}",
            reasons.join(" | ")
        );
    }
    if let Some(path) = &args.plot {
        write_roofline(&estimate, path)?;
        let skipped: Vec<&str> = estimate
            .unmapped
            .iter()
            .map(|u| u.model.name.as_str())
            .collect();
        eprintln!(
            "hgf: roofline ({} packing) written to {}{}",
            core.packing,
            path.display(),
            if skipped.is_empty() {
                String::new()
            } else {
                format!(" (not plotted, not estimated: {})", skipped.join(", "))
            }
        );
    }
    if args.json {
        // The text names them on stdout; JSON readers get them on stderr too.
        for u in &estimate.unmapped {
            eprintln!("hgf: model `{}` not estimated: {}", u.model.name, u.error);
        }
        outln!("{}", serde_json::to_string_pretty(&estimate)?)?;
    } else {
        out!("{}", estimate.to_text())?;
    }
    Ok(ExitCode::SUCCESS)
}
