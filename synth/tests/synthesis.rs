//! yosys on the smallest core, in its place-and-route wrapper, for both families: the cell
//! counts read from `stat -json` are complete and consistent with what the design must hold.

use hgf_golden::{HgfConfig, Target};
use hgf_hdl::emit::generate_pnr_top;
use hgf_hdl::pnr_wrapper::PnrWrapper;
use hgf_synth::{synthesize, Device, Family, Synthesis, Tool, Toolbox};

fn tiny() -> HgfConfig {
    HgfConfig::from_toml_str(
        "name = \"tiny\"\nmax_d_in = 5\nmax_d_out = 2\nmax_rank = 1\narray_rows = 1\narray_inputs = 5\nfp_lanes = 1",
    )
    .unwrap()
}

fn synth(cfg: &HgfConfig, target: Target) -> (Synthesis, tempfile::TempDir) {
    let top = generate_pnr_top(cfg).expect("the wrapper emits");
    let dir = tempfile::tempdir().unwrap();
    let yosys = Toolbox::from_env()
        .find(Tool::Yosys)
        .expect("yosys installed");
    let s = synthesize(
        &yosys,
        &Device::of(target),
        &top.verilog,
        &top.top,
        dir.path(),
    )
    .unwrap_or_else(|e| panic!("{target}: {e}"));
    (s, dir)
}

fn check(cfg: &HgfConfig, target: Target) {
    let (s, _dir) = synth(cfg, target);
    let device = Device::of(target);
    let r = &s.resources;
    // Every cell is counted once, in exactly one kind.
    let classified = r.lut4
        + r.carry
        + r.ff
        + r.dsp
        + r.bram
        + r.spram
        + r.lutram
        + r.other.values().sum::<u64>();
    assert_eq!(classified, s.cells.values().sum::<u64>(), "{:?}", s.cells);
    assert!(r.lut4 > 0 && r.carry > 0, "{:?}", s.cells);
    // The wrapper's registers survive: nothing was trimmed.
    let wrapper_bits =
        (PnrWrapper::input_register_bits(cfg) + PnrWrapper::OUTPUT_REGISTER_BITS) as u64;
    assert!(
        r.ff > wrapper_bits,
        "{} FF, wrapper alone {wrapper_bits}",
        r.ff
    );
    // Each FP16 MAC lane multiplies mantissas in a DSP; the binary32 multipliers add more.
    assert!(r.dsp > cfg.fp_lanes as u64, "{:?}", s.cells);
    // The accumulators and the low-rank store are block RAM.
    assert!(r.bram > 0, "{:?}", s.cells);
    assert_eq!(r.io, 19);
    let lut_row = &s.utilisation[0];
    assert_eq!(lut_row.resource, "LUT4");
    assert_eq!(lut_row.used, r.lut4_sites(device.family));
    assert_eq!(lut_row.available, device.capacity.lut4);
    assert!(s.tool.starts_with("Yosys"), "{}", s.tool);
    let marker = match device.family {
        Family::Ice40 => "SB_LUT4",
        Family::Ecp5 => "TRELLIS_FF",
    };
    assert!(s.cells.contains_key(marker), "{:?}", s.cells);
    assert!(s.netlist.is_file());
}

#[test]
fn tiny_core_synthesises_for_ice40_up5k_with_dsps() {
    check(&tiny(), Target::Ice40Up5k);
}

#[test]
fn tiny_core_synthesises_for_ecp5() {
    check(&tiny(), Target::Ecp5_25k);
}
