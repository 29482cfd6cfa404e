//! The passes after rust-hdl's emission (`hgf_hdl::settle`, each combinational signal assigned
//! once per block, and `hgf_hdl::readable`) change no circuit: yosys proves the flattened core
//! of each preset, as rust-hdl writes it and as `hgf generate` writes it, equivalent
//! (`hgf_hdl::verilog::equivalence_check`), and the same check fails on a changed design.

use hgf_golden::HgfConfig;
use hgf_hdl::emit::generate;
use hgf_hdl::projection_core::HgfCore;
use hgf_hdl::verilog::{emit_rust_hdl, equivalence_check, VerilogError};
use rust_hdl::prelude::Block;

/// The core of `cfg` as rust-hdl writes it, and as `hgf generate` writes it.
fn before_and_after(cfg: &HgfConfig) -> (String, String) {
    let mut core = HgfCore::new(cfg);
    core.connect_all();
    let before = emit_rust_hdl(&core, &cfg.name).unwrap();
    let after = generate(cfg).unwrap().verilog;
    (before, after)
}

#[test]
fn the_readable_pass_keeps_both_presets_equivalent() {
    for preset in hgf_golden::config::PRESETS {
        let cfg = HgfConfig::preset(preset).unwrap();
        let (before, after) = before_and_after(&cfg);
        assert!(before.contains('$') && !after.contains('$'));
        equivalence_check(&cfg.name, &before, &after)
            .unwrap_or_else(|e| panic!("preset {preset}: {e}"));
    }
}

#[test]
fn the_check_fails_when_a_shared_register_changes() {
    let cfg = HgfConfig::from_toml_str(
        "name = \"tiny\"\nmax_d_in = 5\nmax_d_out = 2\nmax_rank = 1\narray_rows = 1\n\
         array_inputs = 5\nfp_lanes = 1",
    )
    .unwrap();
    let (before, after) = before_and_after(&cfg);
    equivalence_check(&cfg.name, &before, &after).unwrap();
    // One register module, shared by many instances, now inverts what it stores.
    let changed = after.replacen("q <= d;", "q <= ~d;", 1);
    assert_ne!(changed, after);
    match equivalence_check(&cfg.name, &before, &changed) {
        Err(VerilogError::ToolFailed { tool: "yosys", .. }) => {}
        other => panic!("a changed register passed the check: {other:?}"),
    }
}
