//! `hgf estimate`: bytes and cycles per token of models on boards, the tokens/s they allow,
//! and an optional roofline plot (docs/estimate.md).

use std::process::ExitCode;

use anyhow::{bail, Result};
use hgf_estimate::plot::write_roofline;
use hgf_estimate::{estimate, Board, Model};

use crate::cli::EstimateArgs;

pub fn run(args: &EstimateArgs) -> Result<ExitCode> {
    let core = super::load_config(&args.source)?;
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
    let estimate = estimate(&core, &models, &boards)?;
    if let Some(path) = &args.plot {
        write_roofline(&estimate, core.packing, path)?;
        eprintln!(
            "hgf: roofline ({} packing) written to {}",
            core.packing,
            path.display()
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&estimate)?);
    } else {
        print!("{}", estimate.to_text());
    }
    Ok(ExitCode::SUCCESS)
}
