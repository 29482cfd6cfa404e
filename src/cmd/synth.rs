//! `hgf synth`: the core through yosys and nextpnr, with real counts, utilisation and Fmax.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use hgf_golden::output::write_atomically;
use hgf_golden::HgfConfig;
use hgf_hdl::manifest::board_clock_mhz;
use hgf_synth::asic::{asic_area, AsicArea};
use hgf_synth::device::UsePercent;
use hgf_synth::nextpnr::{NoFit, Placement};
use hgf_synth::resources::Use;
use hgf_synth::{run_flow, FlowOptions, PnrOutcome, Progress, Stage, SynthReport, Toolbox};

use crate::cli::SynthArgs;
use crate::progress::Heartbeat;
use crate::stdout::outln;

pub fn run(args: &SynthArgs) -> Result<ExitCode> {
    let cfg = super::load_config(&args.source)?;
    if args.asic {
        return run_asic(args, &cfg);
    }
    if args.blocks || args.block.is_some() {
        return super::synth_blocks::run(args, &cfg);
    }
    if args.seed.is_some() {
        anyhow::bail!(
            "--seed applies to --blocks and --block only (the core's run uses seed {})",
            hgf_synth::nextpnr::SEED
        );
    }
    let target = args.target.unwrap_or(cfg.target);
    let opts = FlowOptions {
        target,
        freq_mhz: args.freq.unwrap_or_else(|| board_clock_mhz(target)),
        out_dir: args.out.clone().unwrap_or_else(|| {
            PathBuf::from("out")
                .join(&cfg.name)
                .join(format!("synth-{target}"))
        }),
        place_and_route: !args.no_pnr,
    };
    super::check_output_dir("--out", &opts.out_dir)?;
    let log_dir = opts.out_dir.clone();
    // A line every few seconds while a tool runs: yosys and nextpnr report nothing until
    // they end, minutes later on the larger parts.
    let mut beat = None;
    let mut progress = |p: Progress| match p {
        Progress::Started(stage) => {
            let log = match stage {
                Stage::Synthesis => Some("yosys.log"),
                Stage::PlaceAndRoute => Some("nextpnr.log"),
                _ => None,
            };
            match log {
                Some(log) => eprintln!(
                    "hgf synth: {} ... (can take minutes; follow {})",
                    stage.name(),
                    log_dir.join(log).display()
                ),
                None => eprintln!("hgf synth: {} ...", stage.name()),
            }
            let what = format!("hgf synth: {}", stage.name());
            beat = Some(match log {
                Some(log) => Heartbeat::following(what, log_dir.join(log)),
                None => Heartbeat::start(what),
            });
        }
        Progress::Finished(stage, took) => {
            beat = None;
            eprintln!(
                "hgf synth: {} done in {:.1} s",
                stage.name(),
                took.as_secs_f64()
            )
        }
    };
    let report = run_flow(&cfg, &opts, &Toolbox::from_env(), &mut progress)
        .with_context(|| format!("synthesis of `{}` for {target} failed", cfg.name))?;
    if args.json {
        outln!("{}", report.to_json())?;
    } else {
        print_table(&report)?;
    }
    if let Some(PnrOutcome::DoesNotFit(no)) = &report.place_and_route {
        eprintln!(
            "hgf synth: the design does not fit {} ({} {}): {}",
            report.target,
            report.device.part,
            report.device.package,
            no.summary()
        );
    }
    let ok = report.fits() && report.timing_met() != Some(false);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_MISMATCH)
    })
}

fn print_table(r: &SynthReport) -> Result<()> {
    let cfg = &r.config;
    outln!(
        "core:      {} ({}) in `{}` ({} pins, {} input register bits)",
        cfg.name,
        cfg.engine_summary(),
        r.top,
        r.wrapper.pins,
        r.wrapper.input_register_bits
    )?;
    outln!(
        "device:    {} = {} {}",
        r.target,
        r.device.part,
        r.device.package
    )?;
    let s = &r.synthesis;
    outln!(
        "synthesis: {}, `{}`, {:.1} s",
        s.tool,
        r.device.synth_command(&r.top),
        s.seconds
    )?;
    print_uses(&s.utilisation)?;
    outln!(
        "           (LUT4 = LUT4 cells{}: a lower bound; nextpnr's packing below decides)",
        if r.device.family == hgf_synth::Family::Ecp5 {
            " + 2 per CCU2C carry cell"
        } else {
            ""
        }
    )?;
    let res = &s.resources;
    outln!(
        "           {} LUT4, {} carry, {} FF, {} DSP, {} BRAM, {} SPRAM cells",
        thousands(res.lut4),
        thousands(res.carry),
        thousands(res.ff),
        res.dsp,
        res.bram,
        res.spram
    )?;
    print_estimate(r)?;
    match &r.place_and_route {
        None => outln!("place and route: not run (--no-pnr)")?,
        Some(PnrOutcome::Placed(p)) => print_placement(p)?,
        Some(PnrOutcome::DoesNotFit(no)) => print_no_fit(no)?,
    }
    outln!("files:     {}", r.out_dir.display())?;
    Ok(())
}

/// The ASIC report (`synth.json` in the output directory, and `--json`).
#[derive(serde::Serialize)]
struct AsicReport<'a> {
    generator: String,
    config: &'a HgfConfig,
    /// The core alone (no FPGA wrapper).
    top: &'a str,
    asic: &'a AsicArea,
}

fn run_asic(args: &SynthArgs, cfg: &HgfConfig) -> Result<ExitCode> {
    let dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("out")
            .join(&cfg.name)
            .join("synth-asic-sky130")
    });
    super::check_output_dir("--out", &dir)?;
    eprintln!(
        "hgf synth: ASIC synthesis (yosys onto sky130_fd_sc_hd cells) ... (follow {})",
        dir.join("yosys-asic.log").display()
    );
    let beat = Heartbeat::start("hgf synth: ASIC synthesis (yosys)".to_string());
    let area = asic_area(cfg, &Toolbox::from_env(), &dir);
    drop(beat);
    let area = area.with_context(|| format!("ASIC synthesis of `{}` failed", cfg.name))?;
    let report = AsicReport {
        generator: format!("hgf-hw {}", env!("CARGO_PKG_VERSION")),
        config: cfg,
        top: &cfg.name,
        asic: &area,
    };
    let json = serde_json::to_string_pretty(&report)?;
    write_atomically(&dir.join("synth.json"), json.as_bytes())
        .with_context(|| format!("cannot write {}", dir.join("synth.json").display()))?;
    if args.json {
        outln!("{json}")?;
    } else {
        outln!(
            "core:      {} ({}), without the FPGA wrapper",
            cfg.name,
            cfg.engine_summary()
        )?;
        outln!(
            "synthesis: {}, generic `synth -flatten` onto {} (area only), {:.1} s",
            area.tool,
            area.liberty,
            area.seconds
        )?;
        outln!(
            "area:      {:.0} um^2 = {:.4} mm^2 of standard cells ({} cells; multipliers as logic)",
            area.area_um2,
            area.area_um2 / 1e6,
            thousands(area.cells.values().sum::<u64>())
        )?;
        outln!(
            "           flip-flops: {} sky130_fd_sc_hd__dfxtp_1, {:.0} um^2 ({:.0}%)",
            thousands(area.flip_flops),
            area.flip_flop_um2,
            100.0 * area.flip_flop_um2 / area.area_um2.max(1.0)
        )?;
        outln!(
            "           memories: {} ({} bits) left as memories (SRAM macros), not in the area",
            area.memories,
            thousands(area.memory_bits)
        )?;
        outln!("files:     {}", dir.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_estimate(r: &SynthReport) -> Result<()> {
    outln!(
        "estimate:  area model (hgf estimate) of the wrapped core against yosys; the core alone: {} LUT4, {} FF, {} DSP, {} BRAM",
        thousands(r.estimate.core.lut4),
        thousands(r.estimate.core.ff),
        r.estimate.core.dsp,
        r.estimate.core.bram
    )?;
    outln!(
        "           {:<8} {:>9} {:>9} {:>8}",
        "resource",
        "estimate",
        "yosys",
        "error"
    )?;
    for c in &r.estimate_check {
        outln!(
            "           {:<8} {:>9} {:>9} {:>+7.1}%",
            c.resource.name(),
            thousands(c.estimate),
            thousands(c.yosys),
            c.error_percent
        )?;
    }
    if let Some(lc) = r.estimate.with_wrapper.logic_cells {
        outln!(
            "           {:<8} {:>9}  (logic cells after packing, estimated; nextpnr's below)",
            "LC",
            thousands(lc)
        )?;
    }
    Ok(())
}

fn print_uses(uses: &[Use]) -> Result<()> {
    outln!(
        "           {:<8} {:>9} {:>10} {:>7}",
        "resource",
        "used",
        "available",
        "use"
    )?;
    for u in uses {
        outln!(
            "           {:<8} {:>9} {:>10} {:>7}{}",
            u.resource,
            thousands(u.used),
            thousands(u.available),
            u.percent,
            if u.fits() { "" } else { "  OVER" }
        )?;
    }
    Ok(())
}

fn print_placement(p: &Placement) -> Result<()> {
    outln!("place and route: {}, {:.1} s", p.tool, p.seconds)?;
    for (site, u) in p.utilisation.iter().filter(|(_, u)| u.used > 0) {
        outln!(
            "           {:<16} {:>9} of {:>9} {:>7}",
            site,
            thousands(u.used),
            thousands(u.available),
            UsePercent::of(u.used, u.available)
        )?;
    }
    match p.fmax_mhz {
        Some(f) => outln!(
            "Fmax:      {f:.2} MHz (clock `{}`); requested {} MHz: {}",
            p.clock.as_deref().unwrap_or("?"),
            p.requested_mhz,
            if p.timing_met { "met" } else { "NOT met" }
        )?,
        None => outln!("Fmax:      none reported (no register-to-register path)")?,
    }
    if let Some(c) = &p.critical_path {
        outln!(
            "critical:  {:.2} ns from `{}` to `{}`",
            c.delay_ns,
            c.start,
            c.to
        )?;
    }
    Ok(())
}

fn print_no_fit(no: &NoFit) -> Result<()> {
    outln!(
        "place and route: {}, {:.1} s: DOES NOT FIT",
        no.tool,
        no.seconds
    )?;
    for o in &no.over {
        outln!(
            "           {:<16} {:>9} of {:>9} {:>7}  OVER",
            o.site,
            thousands(o.used),
            thousands(o.available),
            UsePercent::of(o.used, o.available)
        )?;
    }
    for e in &no.errors {
        outln!("           {e}")?;
    }
    outln!("           (log: {})", no.log.display())?;
    Ok(())
}

/// 12345 as "12,345".
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
