//! The generated core in Verilator against the golden model, bit for bit.

use half::f16;
use hgf_golden::weights::{edge_tokens, random_tokens};
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights};
use hgf_hdl::emit::generate;
use hgf_sim::core_driver::{CoreSim, CycleCheck};
use hgf_sim::BuildOptions;
use ndarray::Array2;

fn cosim(cfg: &HgfConfig, tokens: &Array2<f16>, stall: f64, seed: u64) {
    let g = generate(cfg).expect("the core emits");
    let sim = CoreSim::build(cfg, &g.verilog, &BuildOptions::default()).expect("verilates");
    let w = HgfWeights::random(cfg.max_shape(), seed);
    let golden = HgfProjection::new(cfg, w.clone()).unwrap();
    let run = sim
        .run(
            &w,
            tokens.view(),
            stall,
            seed,
            200_000 + 50_000 * tokens.nrows() as u64,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", cfg.to_toml()));
    assert_eq!(run.outputs.len(), tokens.nrows());
    let mut compared = 0;
    for (t, (row, got)) in tokens.rows().into_iter().zip(&run.outputs).enumerate() {
        let trace = golden.run_token(&row.to_vec());
        for (j, (&y, gold)) in got.iter().zip(&trace.y).enumerate() {
            assert_eq!(
                y,
                gold.to_bits(),
                "token {t} output {j}: rtl {y:#06x} golden {:#06x} (yt {:#010x}, v {:#010x}, acc {})",
                gold.to_bits(),
                trace.yt[j].to_bits(),
                trace.v[j].to_bits(),
                trace.acc[j]
            );
            compared += 1;
        }
    }
    assert_eq!(compared, tokens.nrows() * cfg.max_d_out);
    if stall == 0.0 {
        let cycles = CycleCheck::new(cfg, &run);
        assert!(cycles.exact(), "{}{cycles}", cfg.to_toml());
    }
}

fn small() -> HgfConfig {
    HgfConfig::from_toml_str(
        "name = \"core_small\"\nmax_d_in = 12\nmax_d_out = 8\nmax_rank = 2\narray_rows = 2\narray_inputs = 5\nfp_lanes = 2",
    )
    .unwrap()
}

#[test]
fn small_core_matches_golden_without_stalls() {
    let cfg = small();
    cosim(&cfg, &random_tokens(cfg.max_d_in, 3, 5), 0.0, 1);
}

#[test]
fn cores_match_golden_on_edge_tokens_with_stalls() {
    let configs = [
        "name = \"core_a\"\nmax_d_in = 12\nmax_d_out = 8\nmax_rank = 2\narray_rows = 2\narray_inputs = 5\nfp_lanes = 2",
        "name = \"core_b\"\nmax_d_in = 23\nmax_d_out = 6\nmax_rank = 5\narray_rows = 3\narray_inputs = 8\nfp_lanes = 4\npacking = \"2bit\"",
        "name = \"core_c\"\nmax_d_in = 9\nmax_d_out = 17\nmax_rank = 9\narray_rows = 1\narray_inputs = 10\nfp_lanes = 8",
        "name = \"core_d\"\nmax_d_in = 14\nmax_d_out = 9\nmax_rank = 3\narray_rows = 3\narray_inputs = 10\nfp_lanes = 1\ngate_multipliers = 1",
    ];
    for (i, text) in configs.iter().enumerate() {
        let cfg = HgfConfig::from_toml_str(text).unwrap();
        // Without stalls first: the outputs, and the cycles against the cycle model.
        cosim(
            &cfg,
            &edge_tokens(cfg.max_d_in, i as u64),
            0.0,
            10 + i as u64,
        );
        cosim(
            &cfg,
            &edge_tokens(cfg.max_d_in, i as u64),
            0.5,
            10 + i as u64,
        );
    }
}

/// The default preset: bit-exact, and every token's cycles equal to the cycle model's
/// (`hgf_hdl::schedule`), which is at least the ideal of docs/config.md (the slower flow's
/// beats per token).
#[test]
fn default_preset_matches_golden_and_takes_the_modelled_cycles() {
    let cfg = HgfConfig::default();
    let g = generate(&cfg).expect("the core emits");
    let sim = CoreSim::build(&cfg, &g.verilog, &BuildOptions::default()).expect("verilates");
    let w = HgfWeights::random(cfg.max_shape(), 3);
    let x = random_tokens(cfg.max_d_in, 3, 3);
    let run = sim.run(&w, x.view(), 0.0, 3, 100_000).unwrap();
    let golden = HgfProjection::new(&cfg, w).unwrap();
    for (row, got) in x.rows().into_iter().zip(&run.outputs) {
        let want: Vec<u16> = golden
            .forward(&row.to_vec())
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(got, &want);
    }
    let cycles = CycleCheck::new(&cfg, &run);
    eprintln!("default preset: {cycles}");
    assert!(cycles.exact(), "{cycles}");
    assert!(cycles.expected.steady >= cfg.max_layout().ideal_cycles() as u64);
}
