//! The passes after rust-hdl's emission change no circuit: yosys proves the flattened core of
//! each preset, as rust-hdl writes it and as `hgf generate` writes it (`hgf_hdl::readable`),
//! equivalent, and the settled copy for event-driven simulators (`hgf_hdl::settle`,
//! `<name>_sim.v`) equivalent to `<name>.v` (`hgf_hdl::verilog::equivalence_check`); the same
//! check fails on a changed design, after either pass.

use hgf_golden::HgfConfig;
use hgf_hdl::emit::{generate, Generated};
use hgf_hdl::projection_core::HgfCore;
use hgf_hdl::verilog::{emit_rust_hdl, equivalence_check, VerilogError};
use rust_hdl::prelude::Block;

/// The core of `cfg` as rust-hdl writes it, and the files `hgf generate` writes.
fn before_and_after(cfg: &HgfConfig) -> (String, Generated) {
    let mut core = HgfCore::new(cfg);
    core.connect_all();
    let before = emit_rust_hdl(&core, &cfg.name).unwrap();
    (before, generate(cfg).unwrap())
}

fn tiny() -> HgfConfig {
    HgfConfig::from_toml_str(
        "name = \"tiny\"\nmax_d_in = 5\nmax_d_out = 2\nmax_rank = 1\narray_rows = 1\n\
         array_inputs = 5\nfp_lanes = 1",
    )
    .unwrap()
}

fn assert_fails(name: &str, before: &str, changed: &str) {
    match equivalence_check(name, before, changed) {
        Err(VerilogError::ToolFailed { tool: "yosys", .. }) => {}
        other => panic!("a changed design passed the check: {other:?}"),
    }
}

#[test]
fn the_readable_pass_keeps_both_presets_equivalent() {
    for preset in hgf_golden::config::PRESETS {
        let cfg = HgfConfig::preset(preset).unwrap();
        let (before, after) = before_and_after(&cfg);
        assert!(before.contains('$') && !after.verilog.contains('$'));
        equivalence_check(&cfg.name, &before, &after.verilog)
            .unwrap_or_else(|e| panic!("preset {preset}: {e}"));
    }
}

#[test]
fn the_settled_copy_of_both_presets_is_equivalent_to_the_core() {
    for preset in hgf_golden::config::PRESETS {
        let cfg = HgfConfig::preset(preset).unwrap();
        let g = generate(&cfg).unwrap();
        // The pass did settle something, and only in the copy.
        assert!(g.sim_verilog.contains("__comb") && !g.verilog.contains("__comb"));
        equivalence_check(&cfg.name, &g.verilog, &g.sim_verilog)
            .unwrap_or_else(|e| panic!("preset {preset}: {e}"));
    }
}

#[test]
fn the_check_fails_when_a_shared_register_changes() {
    let cfg = tiny();
    let (before, after) = before_and_after(&cfg);
    equivalence_check(&cfg.name, &before, &after.verilog).unwrap();
    // One register module, shared by many instances, now inverts what it stores.
    let changed = after.verilog.replacen("q <= d;", "q <= ~d;", 1);
    assert_ne!(changed, after.verilog);
    assert_fails(&cfg.name, &before, &changed);
}

#[test]
fn the_check_fails_when_a_settled_signal_changes() {
    let cfg = tiny();
    let g = generate(&cfg).unwrap();
    equivalence_check(&cfg.name, &g.verilog, &g.sim_verilog).unwrap();
    // The first signal given its final value from its shadow gets the inverse instead.
    let mut lines: Vec<String> = g.sim_verilog.lines().map(str::to_string).collect();
    let at = lines
        .iter()
        .position(|l| {
            let l = l.trim();
            l.split_once(" = ")
                .is_some_and(|(lhs, rhs)| rhs == format!("{lhs}__comb;"))
        })
        .expect("the copy settles a signal");
    lines[at] = lines[at].replacen(" = ", " = ~", 1);
    assert_fails(&cfg.name, &g.verilog, &(lines.join("\n") + "\n"));
}
