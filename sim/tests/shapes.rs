//! One core instance runs projections of every shape within its maxima, back to back
//! (issue 13): random sequences of shapes (ternary-only ones, `d_out` not a multiple of
//! `array_rows`, `d_in` not a multiple of `array_inputs` included) under random stalls and a
//! reset in the middle of a run; every projection of the built-in `hgf-25m` model on the
//! `default` core; and descriptors the core must refuse.

use half::f16;
use hgf_golden::streams::DESCRIPTOR_BEATS;
use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights, Shape};
use hgf_hdl::emit::generate;
use hgf_hdl::fp16_mac::Fp16MacLane;
use hgf_sim::core_driver::{CoreSim, CycleCheck, ProjectionRun, RunOptions};
use hgf_sim::BuildOptions;
use ndarray::Array2;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn build(cfg: &HgfConfig) -> CoreSim {
    let g = generate(cfg).expect("the core emits");
    let untraced = BuildOptions {
        trace: false,
        ..BuildOptions::default()
    };
    CoreSim::build(cfg, &g.verilog, &untraced).expect("verilates")
}

/// One run of the sequence: its weights and tokens.
struct Job {
    weights: HgfWeights,
    tokens: Array2<f16>,
}

fn jobs(shapes: &[(Shape, usize)], seed: u64) -> Vec<Job> {
    shapes
        .iter()
        .enumerate()
        .map(|(i, &(shape, n))| Job {
            weights: HgfWeights::random(shape, seed + i as u64),
            tokens: random_tokens(shape.d_in, n, seed ^ ((i as u64 + 1) * 7919)),
        })
        .collect()
}

/// Runs `jobs` back to back on one instance of `sim` and checks every output bit against
/// the golden model; without stalls or reset, also every token's cycles against the model.
fn run_and_check(sim: &CoreSim, jobs: &[Job], opts: &RunOptions) -> Result<(), TestCaseError> {
    let cfg = sim.config();
    let runs: Vec<ProjectionRun<'_>> = jobs
        .iter()
        .map(|j| ProjectionRun {
            weights: &j.weights,
            tokens: j.tokens.view(),
        })
        .collect();
    let what = || {
        let shapes: Vec<String> = jobs
            .iter()
            .map(|j| format!("{} x{}", j.weights.projection_shape(), j.tokens.nrows()))
            .collect();
        format!(
            "core {} ({}), runs [{}], stall {}, reset at {:?}",
            cfg.name,
            cfg.engine_summary(),
            shapes.join(", "),
            opts.stall,
            opts.reset_at
        )
    };
    let run = sim
        .run_sequence(&runs, opts, &mut |_, _| {})
        .map_err(|e| TestCaseError::fail(format!("{}: {e}", what())))?;
    let mut token = 0;
    for job in jobs {
        let golden = HgfProjection::new(cfg, job.weights.clone()).unwrap();
        for x in job.tokens.rows() {
            let want: Vec<u16> = golden
                .forward(&x.to_vec())
                .iter()
                .map(|y| y.to_bits())
                .collect();
            let got = &run.outputs[token];
            prop_assert_eq!(got.len(), want.len(), "{}: token {}", what(), token);
            if let Some(j) = (0..want.len()).find(|&j| got[j] != want[j]) {
                return Err(TestCaseError::fail(format!(
                    "{}: token {token} output {j}: rtl {:#06x} golden {:#06x}",
                    what(),
                    got[j],
                    want[j]
                )));
            }
            token += 1;
        }
    }
    prop_assert_eq!(token, run.outputs.len());
    if opts.stall == 0.0 && opts.reset_at.is_none() {
        let cycles = CycleCheck::new(cfg, &run);
        prop_assert!(cycles.exact(), "{}: {}", what(), cycles);
    }
    Ok(())
}

/// Two engines: four rows of 10 inputs (`base3`, two bytes a block) on four FP lanes; and
/// the `up5k` shape of engine (one row of four `2bit` inputs, one lane, one gate
/// multiplier, the gate borrowing the lane's adder).
fn engines() -> Vec<HgfConfig> {
    let small = HgfConfig::from_toml_str(
        "name = \"shapes_small\"\nmax_d_in = 45\nmax_d_out = 30\nmax_rank = 6\n\
         array_rows = 4\narray_inputs = 10\nfp_lanes = 4",
    )
    .unwrap();
    let tiny = HgfConfig::from_toml_str(
        "preset = \"up5k\"\nname = \"shapes_up5k\"\nmax_d_in = 24\nmax_d_out = 19\nmax_rank = 5",
    )
    .unwrap();
    vec![small, tiny]
}

/// Sequences of 2 to 4 runs of random shapes within the maxima (rank 0 in about one run in
/// four), 1 to 3 tokens each, without stalls (cycles checked), with random stalls on every
/// stream, and with a reset at a random cycle.
#[test]
fn random_shape_sequences_on_one_core() {
    for cfg in engines() {
        let sim = build(&cfg);
        let max = cfg.max_shape();
        let shape = (
            1..=max.d_in,
            1..=max.d_out,
            0..=max.rank,
            0..4u8,
            1..=3usize,
        )
            .prop_map(|(d_in, d_out, rank, ternary_only, tokens)| {
                let rank = if ternary_only == 0 { 0 } else { rank };
                (Shape::new(d_in, d_out, rank), tokens)
            });
        let case = (
            proptest::collection::vec(shape, 2..=4),
            any::<u64>(),
            prop_oneof![Just(0.0), 0.1..0.8f64],
            proptest::option::weighted(0.3, 0..3000u64),
        );
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 12,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        );
        runner
            .run(&case, |(shapes, seed, stall, reset_at)| {
                let jobs = jobs(&shapes, seed);
                let opts = RunOptions {
                    stall,
                    seed,
                    max_cycles: 2_000_000,
                    reset_at,
                    ..RunOptions::default()
                };
                run_and_check(&sim, &jobs, &opts)
            })
            .unwrap();
    }
}

/// Every run-time rank from 1 to two above the lanes' accumulate loop
/// (`Fp16MacLane::LOOP_LATENCY`), on two lanes (so the tree reads the other lane's registered
/// partial sums) with `d_in` not a multiple of the lanes: ranks below the loop pad each pass
/// with idle cycles, and a pass one cycle too short would read a sum before its last write.
/// One run per rank, back to back on one core, two tokens each: bit-exact, and every token
/// at the modelled cycles.
#[test]
fn every_rank_around_the_accumulate_loop() {
    let max_rank = Fp16MacLane::LOOP_LATENCY + 2;
    let cfg = HgfConfig::from_toml_str(&format!(
        "name = \"shapes_loop\"\nmax_d_in = 13\nmax_d_out = 20\nmax_rank = {max_rank}\n\
         array_rows = 4\narray_inputs = 5\nfp_lanes = 2"
    ))
    .unwrap();
    let sim = build(&cfg);
    let shapes: Vec<(Shape, usize)> = (1..=max_rank)
        .map(|rank| (Shape::new(13, 20, rank), 2))
        .collect();
    let opts = RunOptions {
        max_cycles: 1_000_000,
        ..RunOptions::default()
    };
    run_and_check(&sim, &jobs(&shapes, 77), &opts).unwrap();
}

/// Every projection shape of the built-in `hgf-25m` model (q, k, v, o 512 x 512 at rank 16;
/// gate, up 512 -> 1376 and down 1376 -> 512 ternary-only) on the `default` core, one token
/// each, back to back: bit-exact, and every token at the modelled cycles.
#[test]
fn every_hgf_25m_projection_on_the_default_core() {
    let cfg = HgfConfig::default();
    let sim = build(&cfg);
    let shapes: Vec<(Shape, usize)> = [
        (512, 512, 16),
        (512, 512, 16),
        (512, 512, 16),
        (512, 512, 16),
        (512, 1376, 0),
        (512, 1376, 0),
        (1376, 512, 0),
    ]
    .iter()
    .map(|&(d_in, d_out, rank)| (Shape::new(d_in, d_out, rank), 1))
    .collect();
    let opts = RunOptions {
        max_cycles: 1_000_000,
        ..RunOptions::default()
    };
    run_and_check(&sim, &jobs(&shapes, 25), &opts).unwrap();
}

/// A descriptor with a zero size, a size beyond the maxima, or no tokens puts the core in
/// its error state: `error` high, no output, nothing taken from the token streams, however
/// long the host waits. A reset clears it, and the same instance then runs a projection.
#[test]
fn bad_descriptors_stop_the_core_until_reset() {
    let cfg = engines().remove(0);
    let sim = build(&cfg);
    let max = cfg.max_shape();
    let good = [5u32, 7, 2, 1];
    let word = |v: usize| v as u32;
    let bad: Vec<(&str, [u32; 4])> = vec![
        ("d_in = 0", [0, 7, 2, 1]),
        ("d_in above max_d_in", [word(max.d_in + 1), 7, 2, 1]),
        ("d_in with bit 31", [0x8000_0005, 7, 2, 1]),
        ("d_out = 0", [5, 0, 2, 1]),
        ("d_out above max_d_out", [5, word(max.d_out + 1), 2, 1]),
        ("rank above max_rank", [5, 7, word(max.rank + 1), 1]),
        ("no tokens", [5, 7, 2, 0]),
        ("more tokens than 16 bits count", [5, 7, 2, 1 << 16]),
    ];
    let w = HgfWeights::random(Shape::new(5, 7, 2), 3);
    let x = random_tokens(5, 2, 3);
    let mut m = sim.model().unwrap();
    let port = |name: &str| m.port(name).unwrap();
    let (clock, reset, error) = (port("clock"), port("reset"), port("error"));
    let (s_valid, s_ready, s_data) = (port("s_valid"), port("s_ready"), port("s_data"));
    let (y_valid, y_ready) = (port("y_valid"), port("y_ready"));
    let token_streams =
        ["x", "t", "f"].map(|s| (port(&format!("{s}_valid")), port(&format!("{s}_ready"))));
    for (what, shape_words) in bad.iter().chain(std::iter::once(&("good", good))) {
        m.set(reset, 1).unwrap();
        m.tick(clock).unwrap();
        m.tick(clock).unwrap();
        m.set(reset, 0).unwrap();
        assert_eq!(m.get(error), 0, "{what}: error after reset");
        let words = [
            shape_words[0],
            shape_words[1],
            shape_words[2],
            shape_words[3],
            w.beta.to_bits(),
            w.gate.to_bits(),
        ];
        assert_eq!(words.len(), DESCRIPTOR_BEATS);
        let mut sent = 0;
        for (v, _) in &token_streams {
            m.set(*v, 1).unwrap();
        }
        m.set(y_ready, 1).unwrap();
        let mut token_beats = 0;
        for _ in 0..400 {
            let offer = sent < words.len();
            m.set(s_valid, u64::from(offer)).unwrap();
            if offer {
                m.set(s_data, u64::from(words[sent])).unwrap();
            }
            m.clock_low(clock).unwrap();
            if offer && m.get(s_ready) == 1 {
                sent += 1;
            }
            if *what != "good" {
                assert_eq!(m.get(y_valid), 0, "{what}: an output");
            }
            token_beats += token_streams.iter().filter(|(_, r)| m.get(*r) == 1).count();
            m.clock_high(clock).unwrap();
        }
        assert_eq!(sent, DESCRIPTOR_BEATS, "{what}: descriptor not taken");
        if *what == "good" {
            // The token streams offered beats all along: a good descriptor's run takes them.
            assert_eq!(m.get(error), 0, "good descriptor refused");
            assert!(
                token_beats > token_streams.len(),
                "the good run took no token beat"
            );
        } else {
            assert_eq!(m.get(error), 1, "{what}: no error");
            // Each input slice may take one beat while the descriptor arrives; the core
            // takes none from them, so nothing more enters.
            assert!(
                token_beats <= token_streams.len(),
                "{what}: {token_beats} token beats"
            );
        }
        for (v, _) in &token_streams {
            m.set(*v, 0).unwrap();
        }
        m.set(s_valid, 0).unwrap();
    }
    // After the refused descriptors, the same instance (reset by the run) computes exactly.
    let run = sim
        .run_sequence_on(
            &mut m,
            &[ProjectionRun {
                weights: &w,
                tokens: x.view(),
            }],
            &RunOptions::default(),
            &mut |_, _| {},
        )
        .unwrap();
    let golden = HgfProjection::new(&cfg, w.clone()).unwrap();
    for (t, row) in x.rows().into_iter().enumerate() {
        let want: Vec<u16> = golden
            .forward(&row.to_vec())
            .iter()
            .map(|y| y.to_bits())
            .collect();
        assert_eq!(run.outputs[t], want, "token {t} after the error state");
    }
}
