//! The AXI4-Stream top `<name>_axis` (hgf_hdl::axis_wrapper) in Verilator against the golden
//! model, bit for bit, driven by the core's own driver through the AXI4-Stream port names
//! (`CorePorts::axis`): packed `tdata` buses, active-low `aresetn`, and `m_axis_y_tlast`
//! checked on every output. Runs of several shapes back to back, with random stalls on every
//! stream and a reset in the middle of a run.

use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights, Shape};
use hgf_hdl::emit::generate;
use hgf_sim::core_driver::{CorePorts, CoreSim, CycleCheck, ProjectionRun, RunOptions};
use hgf_sim::BuildOptions;

fn check(cfg: &HgfConfig, shapes: &[(Shape, usize)], opts: &RunOptions) {
    let g = generate(cfg).expect("the core emits");
    let untraced = BuildOptions {
        trace: false,
        ..BuildOptions::default()
    };
    let sim = CoreSim::build_top(cfg, &g.axis_verilog, CorePorts::axis(cfg), &untraced)
        .expect("verilates");
    let weights: Vec<HgfWeights> = shapes
        .iter()
        .enumerate()
        .map(|(i, &(shape, _))| HgfWeights::random(shape, 40 + i as u64))
        .collect();
    let tokens: Vec<_> = shapes
        .iter()
        .enumerate()
        .map(|(i, &(shape, n))| random_tokens(shape.d_in, n, 90 + i as u64))
        .collect();
    let runs: Vec<ProjectionRun<'_>> = weights
        .iter()
        .zip(&tokens)
        .map(|(w, t)| ProjectionRun {
            weights: w,
            tokens: t.view(),
        })
        .collect();
    let run = sim
        .run_sequence(&runs, opts, &mut |_, _| {})
        .unwrap_or_else(|e| panic!("{} {opts:?}: {e}", cfg.name));
    let mut compared = 0;
    let mut token = 0;
    for (w, t) in weights.iter().zip(&tokens) {
        let golden = HgfProjection::new(cfg, w.clone()).unwrap();
        for x in t.rows() {
            let want: Vec<u16> = golden
                .forward(&x.to_vec())
                .iter()
                .map(|y| y.to_bits())
                .collect();
            assert_eq!(run.outputs[token], want, "{}: token {token}", cfg.name);
            compared += want.len();
            token += 1;
        }
    }
    assert_eq!(token, run.outputs.len());
    assert!(compared > 0);
    if opts.stall == 0.0 && opts.reset_at.is_none() {
        let cycles = CycleCheck::new(cfg, &run);
        assert!(cycles.exact(), "the wrapper adds no cycle: {cycles}");
    }
}

fn small() -> HgfConfig {
    HgfConfig::from_toml_str(
        "name = \"axis_small\"\nmax_d_in = 23\nmax_d_out = 9\nmax_rank = 3\narray_rows = 3\n\
         array_inputs = 10\nfp_lanes = 4",
    )
    .unwrap()
}

#[test]
fn the_axis_top_matches_golden_with_stalls_and_a_reset() {
    let cfg = small();
    let shapes = [
        (Shape::new(23, 9, 3), 3),
        (Shape::new(7, 4, 0), 2),
        (Shape::new(15, 9, 2), 2),
    ];
    check(&cfg, &shapes, &RunOptions::default());
    for (stall, seed) in [(0.3, 7), (0.6, 8)] {
        let opts = RunOptions {
            stall,
            seed,
            ..RunOptions::default()
        };
        check(&cfg, &shapes, &opts);
    }
    let opts = RunOptions {
        stall: 0.2,
        seed: 9,
        reset_at: Some(150),
        ..RunOptions::default()
    };
    check(&cfg, &shapes, &opts);
}

#[test]
fn the_up5k_axis_top_matches_golden_with_stalls() {
    let cfg = HgfConfig::preset("up5k").unwrap();
    let shapes = [(Shape::new(40, 12, 8), 2), (Shape::new(256, 5, 0), 1)];
    let opts = RunOptions {
        stall: 0.3,
        seed: 11,
        ..RunOptions::default()
    };
    check(&cfg, &shapes, &opts);
}

#[test]
fn the_driver_catches_a_tlast_on_the_wrong_output() {
    let cfg = small();
    let g = generate(&cfg).expect("the core emits");
    // A `tlast` that is high on every output: wrong on all but each token's last.
    let mut ports = CorePorts::axis(&cfg);
    ports.output.last = Some("m_axis_y_tvalid".into());
    let untraced = BuildOptions {
        trace: false,
        ..BuildOptions::default()
    };
    let sim = CoreSim::build_top(&cfg, &g.axis_verilog, ports, &untraced).expect("verilates");
    let w = HgfWeights::random(Shape::new(23, 9, 3), 1);
    let x = random_tokens(23, 1, 2);
    let err = sim.run(&w, x.view(), 0.0, 1, 100_000).unwrap_err();
    assert!(
        err.to_string()
            .contains("`m_axis_y_tvalid` is high on output 0 of token 0 (9 outputs a token)"),
        "{err}"
    );
}
