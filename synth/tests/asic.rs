//! `hgf synth --asic`'s flow on the smallest core: every cell is a cell of the area-only
//! sky130_fd_sc_hd liberty (or a memory), the area is their sum, and the core keeps the
//! flip-flops that the FPGA flow finds.

use hgf_estimate::area::estimate_area;
use hgf_golden::{HgfConfig, Target};
use hgf_synth::asic::{asic_area, cell_areas, FLIP_FLOP_CELL};
use hgf_synth::Toolbox;

#[test]
fn the_smallest_core_maps_onto_the_area_liberty() {
    let cfg = HgfConfig::from_toml_str(
        "name = \"tiny\"\nmax_d_in = 5\nmax_d_out = 2\nmax_rank = 1\narray_rows = 1\narray_inputs = 5\nfp_lanes = 1\ngate_multipliers = 1",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = asic_area(&cfg, &Toolbox::from_env(), dir.path()).unwrap();
    let areas = cell_areas();
    let sum: f64 = a
        .cells
        .iter()
        .filter_map(|(c, &n)| areas.get(c).map(|x| x * n as f64))
        .sum();
    assert!((a.area_um2 - sum).abs() < 1e-6);
    // Logic of many kinds, not only flip-flops; the multipliers are logic (no DSP cells).
    assert!(a.cells.len() >= 10, "{:?}", a.cells);
    assert!(a
        .cells
        .keys()
        .all(|c| c.starts_with("sky130_fd_sc_hd__") || c.starts_with("$mem")));
    assert!(a.flip_flop_um2 > 0.0 && a.flip_flop_um2 < 0.8 * a.area_um2);
    assert_eq!(a.flip_flop_um2, a.flip_flops as f64 * areas[FLIP_FLOP_CELL]);
    // The memories stay memories: quantizer, accumulator bank, x, v, register file, u, the
    // output queue: one yosys memory per memory the area model lists.
    let listed = hgf_estimate::area::Block::ALL
        .iter()
        .flat_map(|b| b.memories(&cfg))
        .count() as u64;
    assert_eq!(listed, 7);
    assert_eq!(a.memories, listed, "{:?}", a.unmapped);
    assert!(a.memory_bits > 0);
    // The same registers as on an FPGA: the area model's core flip-flops for iCE40, within
    // 15%. iCE40, whose flow (ABC9 with `-dff`) removes redundant registers as the generic
    // flow's `opt -full` does; ECP5's mapping keeps more of them.
    let ff = estimate_area(&cfg, Target::Ice40Up5k).core.ff as f64;
    let ratio = a.flip_flops as f64 / ff;
    assert!(
        (0.85..=1.15).contains(&ratio),
        "{} ASIC FF, {ff} estimated",
        a.flip_flops
    );
}
