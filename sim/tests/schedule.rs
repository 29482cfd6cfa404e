//! The core's cycle model (`hgf_hdl::schedule`) against co-simulation, cycle for cycle.
//!
//! The co-simulation tests (core_cosim.rs, cosim.rs) check the model on every stall-free run
//! they make, so each config they use is checked where it is defined. This file adds the
//! `up5k` preset (the array paces the blocks) and configs chosen so that each path of the
//! model sets the token's length: the dequantization factor, the quantizer's block pace,
//! phase U waiting for `x`, phase V, and the gate at one issue every other cycle.

use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfConfig, HgfWeights};
use hgf_hdl::emit::generate;
use hgf_hdl::schedule::LimitedBy;
use hgf_sim::core_driver::{CoreSim, CycleCheck};
use hgf_sim::BuildOptions;

/// Runs three tokens of `cfg` without stalls; returns the cycles against the model.
fn check(cfg: &HgfConfig) -> CycleCheck {
    let g = generate(cfg).expect("the core emits");
    let untraced = BuildOptions {
        trace: false,
        ..BuildOptions::default()
    };
    let sim = CoreSim::build(cfg, &g.verilog, &untraced).expect("verilates");
    let w = HgfWeights::random(cfg.max_shape(), 5);
    let x = random_tokens(cfg.max_d_in, 3, 5);
    let run = sim.run(&w, x.view(), 0.0, 5, 1_000_000).unwrap();
    let check = CycleCheck::new(cfg, &run);
    eprintln!("{}: {check}", cfg.name);
    check
}

fn config(name: &str, body: &str) -> HgfConfig {
    HgfConfig::from_toml_str(&format!("name = \"{name}\"\n{body}")).unwrap()
}

#[test]
fn the_model_gives_the_cycles_of_co_simulation() {
    let cases = [
        // One block, one row group: the gate waits for k (two divisions after x).
        (
            config(
                "sched_k",
                "max_d_in = 5\nmax_d_out = 2\nmax_rank = 1\narray_rows = 2\narray_inputs = 5\nfp_lanes = 1",
            ),
            Some(LimitedBy::DequantFactor),
        ),
        // 4 row groups per block: the quantizer (C + 9 cycles a block) paces the blocks.
        (
            config(
                "sched_blocks",
                "max_d_in = 40\nmax_d_out = 16\nmax_rank = 1\narray_rows = 4\narray_inputs = 10\nfp_lanes = 8",
            ),
            Some(LimitedBy::TernaryFlow),
        ),
        // Rank 7 on 8 lanes: both steps of phase U wait for x, and v_0 comes after k and the
        // accumulators.
        (
            config(
                "sched_x_wait",
                "max_d_in = 16\nmax_d_out = 64\nmax_rank = 7\narray_rows = 16\narray_inputs = 8\nfp_lanes = 8\n\
                 packing = \"2bit\"",
            ),
            Some(LimitedBy::LowRankFlow),
        ),
        // A large rank: phase V is the longest path.
        (
            config(
                "sched_v",
                "max_d_in = 20\nmax_d_out = 40\nmax_rank = 12\narray_rows = 4\narray_inputs = 20\nfp_lanes = 2\n\
                 packing = \"2bit\"",
            ),
            Some(LimitedBy::LowRankFlow),
        ),
        // One gate multiplier: an issue every other cycle, behind phase V.
        (
            config(
                "sched_gate2",
                "max_d_in = 16\nmax_d_out = 48\nmax_rank = 10\narray_rows = 2\narray_inputs = 8\nfp_lanes = 1\n\
                 packing = \"2bit\"\ngate_multipliers = 1",
            ),
            Some(LimitedBy::LowRankFlow),
        ),
        (HgfConfig::preset("up5k").unwrap(), None),
    ];
    let mut wrong = Vec::new();
    for (cfg, limited_by) in &cases {
        let check = check(cfg);
        if !check.exact() {
            wrong.push(format!("{}: {check}", cfg.name));
        }
        if let Some(l) = limited_by {
            assert_eq!(check.expected.limited_by, *l, "{}: {check}", cfg.name);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
