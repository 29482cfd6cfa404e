//! `hgf synth`: the core through yosys and nextpnr, with real counts, utilisation and Fmax.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use hgf_hdl::manifest::board_clock_mhz;
use hgf_synth::nextpnr::{NoFit, Placement};
use hgf_synth::resources::Use;
use hgf_synth::{run_flow, FlowOptions, PnrOutcome, Progress, Stage, SynthReport, Toolbox};

use crate::cli::SynthArgs;

pub fn run(args: &SynthArgs) -> Result<ExitCode> {
    let cfg = super::load_config(&args.source)?;
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
    let log_dir = opts.out_dir.clone();
    let mut progress = |p: Progress| match p {
        Progress::Started(Stage::PlaceAndRoute) => eprintln!(
            "hgf synth: {} ... (can take many minutes; follow {})",
            Stage::PlaceAndRoute.name(),
            log_dir.join("nextpnr.log").display()
        ),
        Progress::Started(stage) => eprintln!("hgf synth: {} ...", stage.name()),
        Progress::Finished(stage, took) => {
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
        println!("{}", report.to_json());
    } else {
        print_table(&report);
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

fn print_table(r: &SynthReport) {
    let cfg = &r.config;
    println!(
        "core:      {} (d_in {}, d_out {}, rank {}, array {}x{}, {} FP lanes, {}) in `{}` ({} pins, {} input register bits)",
        cfg.name,
        cfg.d_in,
        cfg.d_out,
        cfg.rank,
        cfg.array_rows,
        cfg.array_inputs,
        cfg.fp_lanes,
        cfg.packing,
        r.top,
        r.wrapper.pins,
        r.wrapper.input_register_bits
    );
    println!(
        "device:    {} = {} {}",
        r.target, r.device.part, r.device.package
    );
    let s = &r.synthesis;
    println!(
        "synthesis: {}, `{}`, {:.1} s",
        s.tool,
        r.device.synth_command(&r.top),
        s.seconds
    );
    print_uses(&s.utilisation);
    println!(
        "           (LUT4 = LUT4 cells{}: a lower bound; nextpnr's packing below decides)",
        if r.device.family == hgf_synth::Family::Ecp5 {
            " + 2 per CCU2C carry cell"
        } else {
            ""
        }
    );
    let res = &s.resources;
    println!(
        "           {} LUT4, {} carry, {} FF, {} DSP, {} BRAM, {} SPRAM cells",
        thousands(res.lut4),
        thousands(res.carry),
        thousands(res.ff),
        res.dsp,
        res.bram,
        res.spram
    );
    match &r.place_and_route {
        None => println!("place and route: not run (--no-pnr)"),
        Some(PnrOutcome::Placed(p)) => print_placement(p),
        Some(PnrOutcome::DoesNotFit(no)) => print_no_fit(no),
    }
    println!("files:     {}", r.out_dir.display());
}

fn print_uses(uses: &[Use]) {
    println!(
        "           {:<8} {:>9} {:>10} {:>7}",
        "resource", "used", "available", "use"
    );
    for u in uses {
        println!(
            "           {:<8} {:>9} {:>10} {:>6.1}%{}",
            u.resource,
            thousands(u.used),
            thousands(u.available),
            u.percent,
            if u.fits() { "" } else { "  OVER" }
        );
    }
}

fn print_placement(p: &Placement) {
    println!("place and route: {}, {:.1} s", p.tool, p.seconds);
    for (site, u) in p.utilisation.iter().filter(|(_, u)| u.used > 0) {
        let uses = Use::new("", u.used, u.available);
        println!(
            "           {:<16} {:>9} of {:>9} {:>6.1}%",
            site,
            thousands(u.used),
            thousands(u.available),
            uses.percent
        );
    }
    match p.fmax_mhz {
        Some(f) => println!(
            "Fmax:      {f:.2} MHz (clock `{}`); requested {} MHz: {}",
            p.clock.as_deref().unwrap_or("?"),
            p.requested_mhz,
            if p.timing_met { "met" } else { "NOT met" }
        ),
        None => println!("Fmax:      none reported (no register-to-register path)"),
    }
    if let Some(c) = &p.critical_path {
        println!(
            "critical:  {:.2} ns from `{}` to `{}`",
            c.delay_ns, c.from, c.to
        );
    }
}

fn print_no_fit(no: &NoFit) {
    println!(
        "place and route: {}, {:.1} s: DOES NOT FIT",
        no.tool, no.seconds
    );
    for o in &no.over {
        let u = Use::new("", o.used, o.available);
        println!(
            "           {:<16} {:>9} of {:>9} {:>6.1}%  OVER",
            o.site,
            thousands(o.used),
            thousands(o.available),
            u.percent
        );
    }
    for e in &no.errors {
        println!("           {e}");
    }
    println!("           (log: {})", no.log.display());
}

/// 12345 as "12,345".
fn thousands(n: u64) -> String {
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
