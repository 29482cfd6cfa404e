//! `hgf explore`: the core config that runs a model fastest on a board and fits a device,
//! the Pareto front behind the choice, and optionally the real flow on the best points.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use hgf_estimate::area::{estimate_area, Resource};
use hgf_estimate::explore::{engine_config, explore, AreaFigure, Candidate, Space};
use hgf_estimate::pareto_plot::{engine_label, write_pareto};
use hgf_estimate::{Board, Model};
use hgf_golden::output::write_atomically;
use hgf_golden::plural::count;
use hgf_golden::{HgfConfig, Packing, Target};
use hgf_synth::{run_flow, Family, FlowOptions, PnrOutcome, Progress, Toolbox};
use serde::Serialize;

use crate::cli::ExploreArgs;
use crate::progress::Heartbeat;
use crate::stdout::{out, outln};

/// The calibrated area model, as the search sees it: the core alone on the config's target,
/// its logic in packed logic cells on iCE40 (what the UP5K fit is judged on) and in LUT4
/// sites on ECP5.
fn area_figure(cfg: &HgfConfig) -> AreaFigure {
    let area = estimate_area(cfg, cfg.target);
    let logic = area
        .fit
        .iter()
        .find(|f| f.resource == Resource::LogicCell)
        .or_else(|| area.fit.iter().find(|f| f.resource == Resource::Lut4))
        .expect("the area model reports logic");
    AreaFigure {
        logic: logic.used,
        logic_capacity: logic.available,
        // Some of a resource the device lacks is unbounded use; such a core does not fit,
        // and the search drops it before anything is printed or serialised.
        utilisation: area
            .fit
            .iter()
            .map(|f| f.percent.value().map_or(f64::INFINITY, |p| p / 100.0))
            .fold(0.0, f64::max),
        fits: area.fits,
    }
}

/// One candidate through yosys and nextpnr.
#[derive(Serialize)]
struct Confirmation {
    engine: String,
    estimated_logic: u64,
    /// LUT4 sites by yosys (ECP5: LUT4 + 2 per CCU2C).
    yosys_logic: u64,
    /// Whether nextpnr placed it (its packing decides).
    fits: bool,
    fmax_mhz: Option<f64>,
    out_dir: String,
}

pub fn run(args: &ExploreArgs) -> Result<ExitCode> {
    let model = match (&args.model, &args.model_file) {
        (Some(name), _) => Model::preset(name)?,
        (None, Some(path)) => Model::load(path)?,
        (None, None) => bail!("name a model with `--model` or `--model-file`"),
    };
    let inputs: Vec<_> = args
        .model_file
        .as_deref()
        .map(|p| ("--model-file", p))
        .into_iter()
        .collect();
    let outputs: Vec<_> = [
        ("--plot", &args.plot),
        ("--write-config", &args.write_config),
    ]
    .into_iter()
    .filter_map(|(flag, p)| p.as_deref().map(|p| (flag, p)))
    .collect();
    super::check_outputs(&outputs, &inputs)?;
    if args.confirm > 0 {
        super::check_output_dir("--out", &args.out)?;
    }
    let board = Board::preset(&args.board)?.with_overrides(args.bandwidth, args.clock)?;
    let space = match args.packing {
        Some(p) => Space::default().with_packing(p),
        None => Space::default(),
    };
    let exploration = explore(&model, &board, args.target, &space, &area_figure)?;
    if exploration.evaluated == 0 {
        bail!("{}", no_candidate_reason(&model, args.target, &space));
    }
    if let Some(path) = &args.plot {
        // Nothing fits: there is no front to draw; the result below says so (exit code 1).
        if exploration.best.is_some() {
            write_pareto(&exploration, path)?;
            eprintln!("hgf explore: Pareto plot written to {}", path.display());
        } else {
            eprintln!(
                "hgf explore: no Pareto plot written to {}: no candidate fits",
                path.display()
            );
        }
    }
    if let (Some(path), Some(best)) = (&args.write_config, &exploration.best) {
        let text = format!(
            "# The fastest core `hgf explore` found for {} on {} that fits {}.\n\
             # max_d_in, max_d_out and max_rank are the largest d_in, d_out and rank of the\n\
             # model's projections: the core is generated for them and runs every projection\n\
             # of the model, each with its own shape set at run time.\n{}",
            model.name,
            board.name,
            args.target,
            best.config.to_toml()
        );
        write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "hgf explore: best config written to {} (`hgf generate --config {}`)",
            path.display(),
            path.display()
        );
    }
    let confirmations = confirm(&exploration.pareto, args)?;
    if args.json {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            exploration: &'a hgf_estimate::explore::Exploration,
            confirmations: &'a [Confirmation],
        }
        let out = Out {
            exploration: &exploration,
            confirmations: &confirmations,
        };
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        out!("{}", exploration.to_text())?;
        for c in &confirmations {
            outln!(
                "confirmed {}: estimate {} logic sites, yosys {}, nextpnr {}{}",
                c.engine,
                c.estimated_logic,
                c.yosys_logic,
                if c.fits {
                    "placed it"
                } else {
                    "does not fit it"
                },
                c.fmax_mhz
                    .map(|f| format!(", Fmax {f:.2} MHz"))
                    .unwrap_or_default()
            )?;
        }
    }
    if exploration.best.is_none() {
        eprintln!(
            "hgf explore: none of the {} fits {}",
            count(exploration.evaluated as u64, "candidate", "candidates"),
            exploration.target
        );
        return Ok(ExitCode::from(super::EXIT_MISMATCH));
    }
    Ok(ExitCode::SUCCESS)
}

/// The `--confirm` fastest points of the front through `hgf synth`'s flow.
fn confirm(front: &[Candidate], args: &ExploreArgs) -> Result<Vec<Confirmation>> {
    let mut out = Vec::new();
    for c in front.iter().rev().take(args.confirm) {
        let label = engine_label(c);
        let dir = args.out.join(label.replace(' ', "_"));
        eprintln!(
            "hgf explore: confirming {label} with yosys and nextpnr in {} ...",
            dir.display()
        );
        let opts = FlowOptions {
            target: args.target,
            freq_mhz: hgf_hdl::manifest::board_clock_mhz(args.target),
            out_dir: dir.clone(),
            place_and_route: true,
        };
        let mut beat = None;
        let report = run_flow(
            &c.config,
            &opts,
            &Toolbox::from_env(),
            &mut |p: Progress| {
                beat = match p {
                    Progress::Started(stage) => Some(Heartbeat::start(format!(
                        "hgf explore: {label}: {}",
                        stage.name()
                    ))),
                    Progress::Finished(..) => None,
                }
            },
        )
        .with_context(|| format!("synthesis of {label} failed"))?;
        let r = &report.synthesis.resources;
        out.push(Confirmation {
            engine: label,
            estimated_logic: c.area.logic,
            yosys_logic: match report.device.family {
                Family::Ecp5 => r.lut4 + 2 * r.carry,
                Family::Ice40 => r.lut4,
            },
            fits: report.fits(),
            fmax_mhz: match &report.place_and_route {
                Some(PnrOutcome::Placed(p)) => p.fmax_mhz,
                _ => None,
            },
            out_dir: dir.display().to_string(),
        });
    }
    Ok(out)
}

/// Why the config rules accept no engine of `space` for `model` (the search then has no
/// candidate at all: the model, not the device, is the problem): the rule that the widest
/// array of the search breaks, the one with the fewest weight beats per token.
fn no_candidate_reason(model: &Model, target: Target, space: &Space) -> String {
    let widest = |v: &[usize]| v.iter().copied().max().unwrap_or(1);
    let (rows, inputs) = (widest(&space.array_rows), widest(&space.array_inputs));
    let first = |v: &[usize]| v.first().copied().unwrap_or(1);
    let config = engine_config(
        model,
        target,
        "hgf_core",
        rows,
        inputs,
        first(&space.fp_lanes),
        first(&space.gate_multipliers),
        space.gate_shares_adder.first().copied().unwrap_or(false),
        space.packings.first().copied().unwrap_or(Packing::Base3),
    );
    let rule = match config.validate() {
        Err(e) => format!(": even the widest array, {rows}x{inputs}, breaks a rule: {e}"),
        Ok(()) => String::new(),
    };
    format!(
        "no core of the search can run model `{}`: the config rules reject every candidate \
         sized for it (up to {}x{} rank {}){rule}",
        model.name, config.max_d_in, config.max_d_out, config.max_rank
    )
}
