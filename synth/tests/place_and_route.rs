//! nextpnr-ice40 on a small block of the core: Fmax and utilisation come from its report, and
//! a design with more pins or block RAMs than the device has is a clean "does not fit".

use hgf_golden::Target;
use hgf_hdl::output_queue::OutputQueue;
use hgf_hdl::tiled_ram::{TiledRam, TILE_WORDS};
use hgf_hdl::verilog::emit_named;
use hgf_synth::{place_and_route, synthesize, Device, PnrOutcome, Synthesis, Tool, Toolbox};
use rust_hdl::prelude::Block;

/// The output queue: a few hundred cells, 42 pins.
fn queue_synthesis(target: Target, dir: &std::path::Path) -> Synthesis {
    let mut uut = OutputQueue::new();
    uut.connect_all();
    let verilog = emit_named(&uut, "output_queue").unwrap();
    let yosys = Toolbox::from_env().find(Tool::Yosys).unwrap();
    synthesize(&yosys, &Device::of(target), &verilog, "output_queue", dir).unwrap()
}

#[test]
fn a_small_block_places_on_hx8k_with_an_fmax() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::of(Target::Ice40Hx8k);
    let s = queue_synthesis(device.target, dir.path());
    assert!(s.fits);
    let nextpnr = Toolbox::from_env().find(Tool::NextpnrIce40).unwrap();
    let outcome = place_and_route(&nextpnr, &device, &s.netlist, 12.0, dir.path()).unwrap();
    let PnrOutcome::Placed(p) = outcome else {
        panic!("does not fit: {outcome:?}");
    };
    let fmax = p.fmax_mhz.expect("register-to-register paths exist");
    assert!(fmax > 12.0, "{fmax}");
    assert!(p.timing_met);
    assert!(
        p.clock.as_deref().unwrap().contains("clock"),
        "{:?}",
        p.clock
    );
    let lc = p.utilisation["ICESTORM_LC"];
    assert_eq!(lc.available, device.capacity.lut4);
    // Every LUT and every flip-flop of the synthesis sits in a logic cell.
    assert!(lc.used >= s.resources.lut4.max(s.resources.ff), "{lc:?}");
    assert!(p.report.is_file());
    let path = p
        .critical_path
        .as_ref()
        .expect("a register-to-register path");
    // The slowest path sets Fmax (nextpnr rounds; allow 1%).
    assert!(
        (1000.0 / path.delay_ns / fmax - 1.0).abs() < 0.01,
        "{path:?} vs {fmax} MHz"
    );
    // Asking for more than it reaches is reported as a timing failure, not an error.
    let outcome = place_and_route(&nextpnr, &device, &s.netlist, 999.0, dir.path()).unwrap();
    let PnrOutcome::Placed(p) = outcome else {
        panic!("{outcome:?}");
    };
    assert!(!p.timing_met);
    assert_eq!(p.requested_mhz, 999.0);
}

#[test]
fn more_pins_than_up5k_sg48_has_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::of(Target::Ice40Up5k);
    let s = queue_synthesis(device.target, dir.path());
    let io = s.utilisation.iter().find(|u| u.resource == "I/O").unwrap();
    assert_eq!((io.used, io.available), (42, 39));
    assert!(!s.fits);
    let nextpnr = Toolbox::from_env().find(Tool::NextpnrIce40).unwrap();
    let outcome = place_and_route(&nextpnr, &device, &s.netlist, 12.0, dir.path()).unwrap();
    let PnrOutcome::DoesNotFit(no) = outcome else {
        panic!("placed 42 pins in a 39-pin package: {outcome:?}");
    };
    // The package's pins run out in the placer, not in packing (the die has more pads).
    assert!(no.over.is_empty(), "{:?}", no.over);
    assert!(
        no.errors.iter().any(|e| e.contains("placement location")),
        "{:?}",
        no.errors
    );
    assert!(no.log.is_file());
}

#[test]
fn more_block_rams_than_up5k_has_is_found_by_packing() {
    // 32 tiles of 256 x 16 bits: 32 SB_RAM40_4K, the UP5K has 30.
    let mut ram = TiledRam::<16>::new(32 * TILE_WORDS);
    ram.connect_all();
    let verilog = emit_named(&ram, "big_ram").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let device = Device::of(Target::Ice40Up5k);
    let yosys = Toolbox::from_env().find(Tool::Yosys).unwrap();
    let s = synthesize(&yosys, &device, &verilog, "big_ram", dir.path()).unwrap();
    assert_eq!(s.resources.bram, 32);
    let nextpnr = Toolbox::from_env().find(Tool::NextpnrIce40).unwrap();
    let outcome = place_and_route(&nextpnr, &device, &s.netlist, 12.0, dir.path()).unwrap();
    let PnrOutcome::DoesNotFit(no) = outcome else {
        panic!("placed 32 block RAMs on 30: {outcome:?}");
    };
    let ram_sites = no.over.iter().find(|o| o.site == "ICESTORM_RAM");
    assert_eq!(
        ram_sites.map(|o| (o.used, o.available)),
        Some((32, 30)),
        "{:?}",
        no.over
    );
    assert!(
        no.summary().contains("ICESTORM_RAM 32 of 30"),
        "{}",
        no.summary()
    );
    assert!(no.command.contains("--pack-only"));
}

/// The `up5k` preset, wrapped as `hgf synth` wraps it, places and routes on the UP5K and
/// meets the iCEBreaker's 12 MHz oscillator (issue 3's fit; docs/results.md has the figures).
#[test]
fn the_up5k_preset_places_and_routes_on_the_up5k() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = hgf_golden::HgfConfig::preset("up5k").unwrap();
    let opts = hgf_synth::FlowOptions {
        target: Target::Ice40Up5k,
        freq_mhz: 12.0,
        out_dir: dir.path().to_path_buf(),
        place_and_route: true,
    };
    let report = hgf_synth::run_flow(&cfg, &opts, &Toolbox::from_env(), &mut |_| {}).unwrap();
    let Some(PnrOutcome::Placed(p)) = &report.place_and_route else {
        panic!("does not fit: {:?}", report.place_and_route);
    };
    assert!(report.fits());
    let lc = p.utilisation["ICESTORM_LC"];
    assert!(lc.used <= lc.available, "{lc:?}");
    assert_eq!(p.utilisation["ICESTORM_DSP"].used, 5);
    assert!(p.timing_met, "Fmax {:?} MHz below 12", p.fmax_mhz);
    // The area model's packed estimate is within 10% of nextpnr's logic cells.
    let est = report
        .estimate
        .with_wrapper
        .logic_cells
        .expect("iCE40 estimates logic cells") as f64;
    assert!(
        (est / lc.used as f64 - 1.0).abs() < 0.10,
        "estimate {est} LC, nextpnr {}",
        lc.used
    );
}
