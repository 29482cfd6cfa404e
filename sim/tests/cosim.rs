//! The core in Verilator against the golden model: random small configs with edge tokens
//! (property test), the same runs under heavy random stalls, a reset in the middle of a token,
//! and the mismatch diagnosis (VCD of the failing token, first stage that differs).

use half::f16;
use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights, Packing};
use hgf_hdl::emit::generate;
use hgf_sim::core_driver::{CoreRun, CoreSim, CycleCheck, RunOptions};
use hgf_sim::cosim::{compare, diagnose, golden_outputs, Stage};
use hgf_sim::BuildOptions;
use ndarray::Array2;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Cycles a small core may take per token, stalls included, before a run counts as hung.
const MAX_CYCLES_PER_TOKEN: u64 = 200_000;

/// Verilates the core of `cfg` (with tracing support, for the VCD tests).
fn build(cfg: &HgfConfig) -> CoreSim {
    let traced = BuildOptions {
        trace: true,
        ..BuildOptions::default()
    };
    build_with(cfg, &traced)
}

fn build_with(cfg: &HgfConfig, opts: &BuildOptions) -> CoreSim {
    let g = generate(cfg).expect("the core emits");
    CoreSim::build(cfg, &g.verilog, opts).expect("verilates")
}

fn options(tokens: usize, stall: f64, seed: u64) -> RunOptions {
    RunOptions {
        stall,
        seed,
        max_cycles: MAX_CYCLES_PER_TOKEN * (tokens as u64 + 1),
        ..RunOptions::default()
    }
}

/// Runs and checks every output bit against the golden model, naming the stage values of the
/// first output that differs; without stalls or reset, also every token's cycles against the
/// core's cycle model (`hgf_hdl::schedule`).
fn run_and_check(
    sim: &CoreSim,
    w: &HgfWeights,
    x: &Array2<f16>,
    opts: &RunOptions,
) -> Result<CoreRun, TestCaseError> {
    let cfg = sim.config();
    let run = sim
        .run_with(w, x.view(), opts, &mut |_, _| {})
        .map_err(|e| TestCaseError::fail(format!("{}: {e}", cfg.to_toml())))?;
    let golden = HgfProjection::new(cfg, w.clone()).unwrap();
    let c = compare(&golden_outputs(&golden, x.view()), &run.outputs);
    prop_assert_eq!(c.outputs_compared, x.nrows() * cfg.max_d_out);
    if let Some(m) = c.first {
        let trace = golden.run_token(&x.row(m.token).to_vec());
        return Err(TestCaseError::fail(format!(
            "{}stall {}: {} mismatches; first at token {} output {}: rtl {:#06x} golden {:#06x} \
             (k {:#010x}, acc {}, v {:#010x})",
            cfg.to_toml(),
            opts.stall,
            c.mismatches,
            m.token,
            m.output,
            m.rtl,
            m.golden,
            trace.k.to_bits(),
            trace.acc[m.output],
            trace.v[m.output].to_bits()
        )));
    }
    if opts.stall == 0.0 && opts.reset_at.is_none() {
        let cycles = CycleCheck::new(cfg, &run);
        prop_assert!(cycles.exact(), "{}{}", cfg.to_toml(), cycles);
    }
    Ok(run)
}

/// Tokens with every edge of the contract, then random ones:
/// - all zeros (signed), a NaN, +infinity, -infinity;
/// - all subnormal; huge values (±65504, 60000) beside small ones;
/// - the absmax negative (quantizes to -127, the most negative value a finite token reaches:
///   §Q3, -128 is out of reach) and positive (+127);
/// - rounding ties: absmax 127 makes s = 1, so every `k + 0.5` is a tie, and absmax 2 makes
///   s = 63.5, so 1.0 and -1.0 are ties;
/// - random binary16 bit patterns (any value, NaN and infinities included).
fn edge_tokens(d_in: usize, random: usize, seed: u64) -> Array2<f16> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows: Vec<Vec<f16>> = Vec::new();
    let h = f16::from_f32;
    let base = |rng: &mut ChaCha8Rng, span: f32| -> Vec<f16> {
        (0..d_in)
            .map(|_| h(rng.random_range(-span..span)))
            .collect()
    };
    rows.push(
        (0..d_in)
            .map(|i| if i % 2 == 0 { f16::ZERO } else { f16::NEG_ZERO })
            .collect(),
    );
    for special in [f16::NAN, f16::INFINITY, f16::NEG_INFINITY] {
        let mut r = base(&mut rng, 2.0);
        let at = rng.random_range(0..d_in);
        r[at] = special;
        rows.push(r);
    }
    rows.push(
        (0..d_in)
            .map(|i| {
                let bits = rng.random_range(1u16..0x0400);
                f16::from_bits(if i % 3 == 1 { bits | 0x8000 } else { bits })
            })
            .collect(),
    );
    rows.push(
        (0..d_in)
            .map(|i| match i % 4 {
                0 => h(65504.0),
                1 => h(-0.75),
                2 => h(-65504.0),
                _ => h(60000.0),
            })
            .collect(),
    );
    for absmax in [-3.0f32, 3.0] {
        let mut r = base(&mut rng, 2.9);
        let at = rng.random_range(0..d_in);
        r[at] = h(absmax);
        rows.push(r);
    }
    let mut ties: Vec<f16> = (0..d_in)
        .map(|i| h((i as f32 % 40.0) - 20.0 + 0.5))
        .collect();
    ties[0] = h(127.0);
    rows.push(ties);
    let mut ties: Vec<f16> = (0..d_in)
        .map(|i| h([1.0, -1.0, 0.5, -0.25][i % 4]))
        .collect();
    ties[d_in - 1] = h(2.0);
    rows.push(ties);
    rows.push(
        (0..d_in)
            .map(|_| f16::from_bits(rng.random::<u16>()))
            .collect(),
    );
    for _ in 0..random {
        rows.push(base(&mut rng, 2.0));
    }
    Array2::from_shape_fn((rows.len(), d_in), |(t, i)| rows[t][i])
}

/// Rows of [`edge_tokens`] whose golden quantization is checked.
const ABSMAX_NEGATIVE: usize = 6;
const ABSMAX_POSITIVE: usize = 7;
const TIES: [usize; 2] = [8, 9];

/// The edge tokens reach what they are meant to: -127 and +127, and exact rounding ties.
fn check_edges(golden: &HgfProjection, x: &Array2<f16>) -> Result<(), TestCaseError> {
    let q = |row: usize| golden.run_token(&x.row(row).to_vec()).q;
    prop_assert!(q(ABSMAX_NEGATIVE).contains(&-127));
    prop_assert!(q(ABSMAX_POSITIVE).contains(&127));
    for row in TIES {
        let s = golden.run_token(&x.row(row).to_vec()).s;
        let tie = x
            .row(row)
            .iter()
            .any(|v| (v.to_f32() * s).fract().abs() == 0.5);
        prop_assert!(tie, "no rounding tie in row {row}");
    }
    Ok(())
}

/// The free choices of [`small_config`]: (d_in, d_out, rank, rows, inputs, lanes, 2bit
/// packing), and the gate variant.
type ShapeChoice = ((usize, usize, usize, usize, usize, usize, bool), usize);

/// A valid small config from free choices: each choice picks among the values the
/// validation allows (divisors of d_out, multiples of the trits per byte, powers of two).
fn small_config(
    ((d_in, d_out, rank, rows, inputs, lanes, two_bit), gate): ShapeChoice,
) -> Option<HgfConfig> {
    let packing = if two_bit {
        Packing::TwoBit
    } else {
        Packing::Base3
    };
    let tpb = packing.trits_per_byte();
    let divisors: Vec<usize> = (1..=d_out.min(4)).filter(|r| d_out % r == 0).collect();
    let rank = 1 + rank % d_in.min(d_out);
    let array_rows = divisors[rows % divisors.len()];
    let row_trits = d_in.div_ceil(tpb) * tpb;
    let array_inputs = tpb * (1 + inputs % (row_trits / tpb).min(3));
    let powers: Vec<usize> = [1, 2, 4, 8].into_iter().filter(|&l| l <= d_in).collect();
    let fp_lanes = powers[lanes % powers.len()];
    // The gate: 2 or 1 multipliers, its own adder or low-rank lane 0's.
    let gate_multipliers = 2 - gate % 2;
    let gate_shares_adder = gate / 2 % 2 == 1;
    let text = format!(
        "name = \"prop_core\"\nmax_d_in = {d_in}\nmax_d_out = {d_out}\nmax_rank = {rank}\n\
         array_rows = {array_rows}\narray_inputs = {array_inputs}\nfp_lanes = {fp_lanes}\n\
         gate_multipliers = {gate_multipliers}\ngate_shares_adder = {gate_shares_adder}\n\
         packing = \"{}\"\n",
        packing.name()
    );
    HgfConfig::from_toml_str(&text).ok()
}

/// Random valid small configs, random layers, edge and random tokens: every output bit-exact;
/// and the same run under random stalls (up to 90% on every stream) gives the same outputs.
/// Few cases (each verilates a new core) from a fixed seed, so that CI runs the same configs.
#[test]
fn random_small_configs_match_golden_with_and_without_stalls() {
    let config = Config {
        cases: 6,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[0x5e; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let choices = (
        (
            (
                2usize..=40, // d_in 1 has no rounding ties (one value is its own absmax)
                1usize..=24,
                0usize..8,
                0usize..4,
                0usize..4,
                0usize..4,
                any::<bool>(),
            ),
            0usize..4,
        ),
        any::<u64>(),
        0.3f64..0.9,
    );
    runner
        .run(&choices, |(shape, seed, stall)| {
            let Some(cfg) = small_config(shape) else {
                return Err(TestCaseError::reject("not a valid config"));
            };
            eprintln!("case: {}; stall {stall:.2}", cfg.engine_summary());
            // No tracing support (the default): it doubles the build time and these runs
            // write no VCD.
            let sim = build_with(&cfg, &BuildOptions::default());
            let w = HgfWeights::random(cfg.max_shape(), seed);
            let x = edge_tokens(cfg.max_d_in, 2, seed);
            check_edges(&HgfProjection::new(&cfg, w.clone()).unwrap(), &x)?;
            let plain = run_and_check(&sim, &w, &x, &options(x.nrows(), 0.0, seed))?;
            let stalled = run_and_check(&sim, &w, &x, &options(x.nrows(), stall, seed))?;
            prop_assert_eq!(&stalled.outputs, &plain.outputs);
            prop_assert!(stalled.cycles > plain.cycles, "stalls cost cycles");
            Ok(())
        })
        .unwrap();
}

/// The config `core_cosim.rs` uses too, so both share one cached model.
fn small() -> HgfConfig {
    HgfConfig::from_toml_str(
        "name = \"core_small\"\nmax_d_in = 12\nmax_d_out = 8\nmax_rank = 2\narray_rows = 2\narray_inputs = 5\nfp_lanes = 2",
    )
    .unwrap()
}

/// A reset at points spread over a token (while its inputs stream in, while the flows work,
/// while its outputs leave), with and without stalls: the token is streamed anew and it and
/// every later token come out right.
#[test]
fn a_reset_in_the_middle_of_a_token_leaves_the_next_tokens_correct() {
    reset_mid_token(&small());
    // The gate on one multiplier and the low-rank lane's adder: a reset while the gate
    // borrows it.
    reset_mid_token(&HgfConfig {
        name: "core_small_lean".into(),
        gate_multipliers: 1,
        gate_shares_adder: true,
        ..small()
    });
}

fn reset_mid_token(cfg: &HgfConfig) {
    let cfg = cfg.clone();
    let sim = build(&cfg);
    let w = HgfWeights::random(cfg.max_shape(), 21);
    let x = random_tokens(cfg.max_d_in, 4, 21);
    for stall in [0.0, 0.5] {
        let clean = run_and_check(&sim, &w, &x, &options(4, stall, 3)).unwrap();
        let (start, end) = (clean.token_end_cycles[0], clean.token_end_cycles[1]);
        // Three points while the token's inputs stream in and the flows work, and one two
        // cycles before its last output, when all but two of its outputs have left (one
        // leaves per cycle at most).
        let len = end - start;
        for at in [
            start + len / 8,
            start + len * 3 / 8,
            start + len * 5 / 8,
            end - 2,
        ] {
            let opts = RunOptions {
                reset_at: Some(at),
                ..options(4, stall, 3)
            };
            let run = run_and_check(&sim, &w, &x, &opts)
                .unwrap_or_else(|e| panic!("reset at cycle {at} (stall {stall}): {e}"));
            assert_eq!(run.outputs, clean.outputs, "reset at cycle {at}");
            assert!(
                run.token_end_cycles[1] > end,
                "the reset token takes longer than without the reset"
            );
            if at == end - 2 {
                assert!(
                    run.dropped_outputs >= cfg.max_d_out - 2,
                    "{} outputs dropped",
                    run.dropped_outputs
                );
            }
        }
    }
}

/// Folds a VCD vector into an integer.
fn vcd_value(bits: &vcd::Vector) -> u64 {
    bits.iter()
        .fold(0, |acc, v| (acc << 1) | u64::from(v == vcd::Value::V1))
}

/// A deliberately wrong expected output: the mismatch is found, the VCD of the failing token is
/// written and readable, holds every port of the core, and shows the output the core gave;
/// all gate inputs match the golden model, so the stage named is the gate.
#[test]
fn a_broken_comparison_writes_a_readable_vcd_with_the_core_ports() {
    let cfg = small();
    let sim = build(&cfg);
    let w = HgfWeights::random(cfg.max_shape(), 8);
    let x = random_tokens(cfg.max_d_in, 3, 8);
    let opts = options(3, 0.3, 8);
    let run = sim.run_with(&w, x.view(), &opts, &mut |_, _| {}).unwrap();
    let golden = HgfProjection::new(&cfg, w.clone()).unwrap();
    let mut expected = golden_outputs(&golden, x.view());
    expected[2][5] ^= 0x0001;
    let c = compare(&expected, &run.outputs);
    assert_eq!(c.mismatches, 1);
    let m = c.first.expect("the injected mismatch");
    assert_eq!((m.token, m.output), (2, 5));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fail.vcd");
    let d = diagnose(&sim, &w, x.view(), &opts, &golden, &m, &path).unwrap();
    assert_eq!(d.vcd, path);
    assert!(d.reproduced);
    let stage = d.stage.expect("the gate's signals are in the VCD");
    assert_eq!(stage.stage, Stage::Gate);
    assert_eq!(stage.difference, None);
    assert_eq!(stage.rows_differing, 0);

    let mut parser = vcd::Parser::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let header = parser.parse_header().unwrap();
    for port in sim.lib().ports() {
        assert!(
            header.find_var(&["TOP", port.name.as_str()]).is_some(),
            "port `{}` missing from the VCD",
            port.name
        );
    }
    // The values y_data had while y_valid was high include the output the core gave.
    let code = |name: &str| header.find_var(&["TOP", name]).unwrap().code;
    let (y_valid, y_data) = (code("y_valid"), code("y_data"));
    let (mut valid, mut data, mut seen) = (false, 0u64, Vec::new());
    for cmd in parser {
        match cmd.unwrap() {
            vcd::Command::ChangeScalar(id, v) if id == y_valid => valid = v == vcd::Value::V1,
            vcd::Command::ChangeVector(id, v) if id == y_data => data = vcd_value(&v),
            vcd::Command::Timestamp(_) if valid => seen.push(data as u16),
            _ => {}
        }
    }
    assert!(seen.contains(&m.rtl), "{:#06x} not in {seen:x?}", m.rtl);
}

/// The golden model run with one parameter changed stands in for a core with a broken stage:
/// the diagnosis names the stage whose gate input shows the change.
#[test]
fn the_diagnosis_names_the_first_stage_that_differs() {
    let cfg = small();
    let sim = build(&cfg);
    let w = HgfWeights::random(cfg.max_shape(), 13);
    let x = random_tokens(cfg.max_d_in, 2, 13);
    let opts = options(2, 0.0, 13);
    let run = sim.run_with(&w, x.view(), &opts, &mut |_, _| {}).unwrap();
    let trace = HgfProjection::new(&cfg, w.clone())
        .unwrap()
        .run_token(&x.row(0).to_vec());
    let row = trace
        .acc
        .iter()
        .position(|&a| a != 0)
        .expect("a non-zero sum");

    let mut beta = w.clone();
    beta.beta *= 2.0;
    let mut ternary = w.clone();
    ternary.t.row_mut(row).mapv_inplace(|t| -t);
    let mut lowrank = w.clone();
    lowrank.a.mapv_inplace(|a| a * f16::from_f32(2.0));
    let mut gate = w.clone();
    gate.gate *= 2.0;
    let dir = tempfile::tempdir().unwrap();
    for (wrong, stage, signal) in [
        (beta, Stage::Quantizer, Some("k")),
        (ternary, Stage::TernaryFlow, Some("acc")),
        (lowrank, Stage::LowRankFlow, Some("v")),
        (gate, Stage::Gate, None),
    ] {
        let golden = HgfProjection::new(&cfg, wrong).unwrap();
        let c = compare(&golden_outputs(&golden, x.view()), &run.outputs);
        let m = c
            .first
            .unwrap_or_else(|| panic!("{stage:?}: no output changed"));
        let path = dir.path().join(format!("{}.vcd", stage.key()));
        let d = diagnose(&sim, &w, x.view(), &opts, &golden, &m, &path).unwrap();
        let report = d.stage.unwrap();
        assert_eq!(report.stage, stage, "{report:?}");
        assert_eq!(report.difference.map(|d| d.signal), signal);
        if stage == Stage::TernaryFlow {
            assert_eq!((m.token, m.output, report.rows_differing), (0, row, 1));
            let diff = report.difference.unwrap();
            assert_eq!(diff.rtl, -diff.golden);
        }
    }
}

// See: issue #17: under heavy stalls one token took minutes, and progress came only at the
// end of a token.
#[test]
fn progress_is_reported_between_the_ends_of_tokens_too() {
    use hgf_sim::core_driver::PROGRESS_CYCLES;
    let cfg = small();
    let sim = build(&cfg);
    let w = HgfWeights::random(cfg.max_shape(), 5);
    let x = random_tokens(cfg.max_d_in, 4, 5);
    let opts = RunOptions {
        stall: 0.999,
        seed: 5,
        max_cycles: 50_000_000,
        ..RunOptions::default()
    };
    let mut calls = Vec::new();
    let run = sim
        .run_with(&w, x.view(), &opts, &mut |done, cycles| {
            calls.push((done, cycles))
        })
        .unwrap();
    assert!(
        run.cycles > 2 * PROGRESS_CYCLES,
        "the run takes long enough: {} cycles",
        run.cycles
    );
    let between: Vec<u64> = calls
        .iter()
        .map(|&(_, cycles)| cycles)
        .filter(|c| !run.token_end_cycles.contains(c))
        .collect();
    let expected: Vec<u64> = (1..=run.cycles / PROGRESS_CYCLES)
        .map(|k| k * PROGRESS_CYCLES)
        .filter(|c| !run.token_end_cycles.contains(c))
        .collect();
    assert_eq!(between, expected, "a call every {PROGRESS_CYCLES} cycles");
    assert_eq!(calls.last(), Some(&(4, run.cycles)), "and one at the end");
}
