//! `hgf synth --blocks` / `--block NAME`: every block of the core placed and routed on its
//! own, and a table of their resources and Fmax.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use hgf_golden::HgfConfig;
use hgf_hdl::block_wrapper::{core_block, core_blocks};
use hgf_synth::blocks::{block_aim_mhz, BlockResult, BlocksReport};
use hgf_synth::nextpnr::SEED;
use hgf_synth::{run_blocks, BlockOptions, Device, Family, PnrOutcome, Progress, Stage, Toolbox};

use super::synth::thousands;
use crate::cli::SynthArgs;
use crate::progress::Heartbeat;
use crate::stdout::outln;

/// Highest seed nextpnr takes (its `--seed` is a C `int`).
const MAX_SEED: i64 = i32::MAX as i64;

pub fn run(args: &SynthArgs, cfg: &HgfConfig) -> Result<ExitCode> {
    let blocks = match &args.block {
        Some(name) => vec![core_block(name)?],
        None => core_blocks(),
    };
    let seed = match args.seed {
        None => SEED,
        Some(s) if (0..=MAX_SEED).contains(&s) => s as u32,
        Some(s) => anyhow::bail!("--seed {s} is out of range; allowed: 0 to {MAX_SEED}"),
    };
    let target = args.target.unwrap_or(cfg.target);
    let family = Device::of(target).family;
    let opts = BlockOptions {
        target,
        freq_mhz: args.freq.unwrap_or_else(|| block_aim_mhz(family)),
        seed,
        out_dir: args.out.clone().unwrap_or_else(|| {
            PathBuf::from("out")
                .join(&cfg.name)
                .join(format!("synth-blocks-{target}"))
        }),
    };
    super::check_output_dir("--out", &opts.out_dir)?;
    let out_dir = opts.out_dir.clone();
    let count = blocks.len();
    let mut done = 0;
    let mut beat = None;
    // The same progress lines as the core's run, each naming its block; emitting every block
    // comes first (seconds), then each block's synthesis and place-and-route.
    let mut progress = |block: &str, p: Progress| match p {
        Progress::Started(Stage::Emit) => {}
        Progress::Finished(Stage::Emit, _) => {}
        Progress::Started(stage) => {
            let log = match stage {
                Stage::PlaceAndRoute => "nextpnr.log",
                _ => "yosys.log",
            };
            let log = out_dir.join(block).join(log);
            eprintln!(
                "hgf synth: [{}/{count}] {block}: {} ... (follow {})",
                done + 1,
                stage.name(),
                log.display()
            );
            beat = Some(Heartbeat::following(
                format!("hgf synth: {block}: {}", stage.name()),
                log,
            ));
        }
        Progress::Finished(stage, took) => {
            beat = None;
            eprintln!(
                "hgf synth: [{}/{count}] {block}: {} done in {:.1} s",
                done + 1,
                stage.name(),
                took.as_secs_f64()
            );
            if stage == Stage::PlaceAndRoute {
                done += 1;
            }
        }
    };
    let report = run_blocks(cfg, &blocks, &opts, &Toolbox::from_env(), &mut progress)
        .with_context(|| {
            format!(
                "synthesis of the blocks of `{}` for {target} failed",
                cfg.name
            )
        })?;
    if args.json {
        outln!("{}", report.to_json())?;
    } else {
        print_table(&report)?;
    }
    let ok = report.blocks.iter().all(|b| match &b.place_and_route {
        PnrOutcome::Placed(p) => p.timing_met,
        PnrOutcome::DoesNotFit(_) => false,
    });
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_MISMATCH)
    })
}

fn print_table(r: &BlocksReport) -> Result<()> {
    outln!(
        "blocks:    {} ({}), each alone in its wrapper",
        r.config.name,
        r.config.engine_summary()
    )?;
    outln!(
        "device:    {} = {} {}; nextpnr --freq {} --seed {}",
        r.target,
        r.device.part,
        r.device.package,
        r.requested_mhz,
        r.seed
    )?;
    let logic = match r.device.family {
        Family::Ice40 => "LC",
        Family::Ecp5 => "COMB",
    };
    outln!(
        "{:<17} {:>5} {:>5} {:>7} {:>6} {:>6} {:>4} {:>5} {:>9}  critical path (from -> to)",
        "block",
        "in",
        "out",
        "LUT4",
        logic,
        "FF",
        "DSP",
        "BRAM",
        "Fmax MHz"
    )?;
    for b in &r.blocks {
        outln!("{}", row(b, r.device.family))?;
    }
    outln!(
        "           (in/out: the block's data bits, in the wrapper's registers; LUT4, FF, DSP, \
         BRAM: yosys; {logic}: logic sites after placement; FF includes the wrapper's)"
    )?;
    if !r.slowest.is_empty() {
        let fmax = r
            .blocks
            .iter()
            .find(|b| b.name == r.slowest[0])
            .and_then(BlockResult::fmax_mhz)
            .unwrap_or_default();
        outln!("slowest:   {} ({fmax:.2} MHz)", r.slowest.join(", "))?;
    }
    outln!("files:     {}", r.out_dir.display())?;
    Ok(())
}

fn row(b: &BlockResult, family: Family) -> String {
    let res = &b.synthesis.resources;
    let (fmax, path) = match &b.place_and_route {
        PnrOutcome::Placed(p) => (
            p.fmax_mhz.map_or("none".to_string(), |f| format!("{f:.2}")),
            p.critical_path.as_ref().map_or(String::new(), |c| {
                format!(
                    "{:.2} ns, {} -> {}",
                    c.delay_ns,
                    short_cell(&c.start),
                    short_cell(&c.to)
                )
            }),
        ),
        PnrOutcome::DoesNotFit(no) => ("no fit".to_string(), no.summary()),
    };
    format!(
        "{:<17} {:>5} {:>5} {:>7} {:>6} {:>6} {:>4} {:>5} {:>9}  {path}",
        b.name,
        b.input_bits,
        b.output_bits,
        thousands(res.lut4_sites(family)),
        b.logic_cells().map_or("-".to_string(), thousands),
        thousands(res.ff),
        res.dsp,
        res.bram,
        fmax
    )
}

/// A placed cell's (or net's) name up to where yosys and nextpnr appended the cell kinds they mapped it
/// through (`block.s1_exp.q_SB_DFFE_Q_1_D_SB_LUT4_O_I3_SB_CARRY_CO_CI_..._LC` is
/// `block.s1_exp.q`): the register or memory the path starts or ends at. `block.` is inside
/// the block; `in_chain` and `out_reg` are the wrapper's registers. The JSON keeps the full
/// names.
fn short_cell(name: &str) -> &str {
    let end = ["_SB_", "_TRELLIS_", "$"]
        .iter()
        .filter_map(|mark| name.find(mark))
        .min()
        .unwrap_or(name.len());
    &name[..end]
}

#[cfg(test)]
mod tests {
    use super::short_cell;

    #[test]
    fn cell_names_are_cut_before_the_mapped_cell_kinds() {
        assert_eq!(
            short_cell("block.s1_exp.q_SB_DFFE_Q_1_D_SB_LUT4_O_I3_SB_CARRY_CO_CI_LC"),
            "block.s1_exp.q"
        );
        assert_eq!(short_cell("in_chain_TRELLIS_FF_Q_31"), "in_chain");
        assert_eq!(
            short_cell("block.banks_0.tiles_0.mem.0.0_RDATA_15_SB_LUT4_I1_LC"),
            "block.banks_0.tiles_0.mem.0.0_RDATA_15"
        );
        assert_eq!(short_cell("sdo$tr_io"), "sdo");
        assert_eq!(short_cell("plain"), "plain");
    }
}
