//! §S: NaN, infinity, all-zero and subnormal tokens, stage by stage, as the contract's table
//! states them.

use half::f16;
use hgf_golden::fp::{CANONICAL_NAN_F16, CANONICAL_NAN_F32};
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights, Shape};

/// The projection of every test: 20 inputs, 8 outputs, rank 4, on an engine of that size.
const SHAPE: Shape = Shape {
    d_in: 20,
    d_out: 8,
    rank: 4,
};

fn small_config() -> HgfConfig {
    HgfConfig::from_toml_str(
        "max_d_in = 20\nmax_d_out = 8\nmax_rank = 4\n\
         array_rows = 4\narray_inputs = 10\nfp_lanes = 4",
    )
    .unwrap()
}

fn projection(beta: f32) -> HgfProjection {
    let cfg = small_config();
    let mut w = HgfWeights::random(SHAPE, 7);
    w.beta = beta;
    HgfProjection::new(&cfg, w).unwrap()
}

fn token(values: impl Fn(usize) -> f32) -> Vec<f16> {
    (0..20).map(|i| f16::from_f32(values(i))).collect()
}

fn all_canonical_nan(y: &[f16]) -> bool {
    y.iter().all(|v| v.to_bits() == CANONICAL_NAN_F16)
}

#[test]
fn nan_input_gives_all_nan_outputs() {
    let p = projection(0.02);
    for pos in [0, 7, 19] {
        let mut x = token(|i| i as f32 * 0.1 - 1.0);
        x[pos] = f16::from_bits(0xFD55); // a negative NaN with a payload
        let t = p.run_token(&x);
        assert_eq!(t.m.to_bits(), CANONICAL_NAN_F32);
        assert_eq!(t.s.to_bits(), CANONICAL_NAN_F32);
        assert!(t.q.iter().all(|&q| q == 0));
        assert!(t.acc.iter().all(|&a| a == 0));
        assert_eq!(t.k.to_bits(), CANONICAL_NAN_F32);
        assert!(t.yt.iter().all(|v| v.to_bits() == CANONICAL_NAN_F32));
        assert!(all_canonical_nan(&t.y), "{:?}", t.y);
    }
}

#[test]
fn infinite_input_gives_all_nan_outputs() {
    for beta in [0.02f32, 0.0, -0.5] {
        let p = projection(beta);
        for inf in [f16::INFINITY, f16::NEG_INFINITY] {
            let mut x = token(|i| i as f32 * 0.1 - 1.0);
            x[3] = inf;
            let t = p.run_token(&x);
            assert_eq!(t.m, f32::INFINITY);
            assert_eq!(t.s.to_bits(), 0); // +0
            assert!(t.q.iter().all(|&q| q == 0));
            assert!(t.acc.iter().all(|&a| a == 0));
            assert!(t.k.is_infinite() || t.k.to_bits() == CANONICAL_NAN_F32);
            assert!(all_canonical_nan(&t.y), "beta {beta}: {:?}", t.y);
        }
    }
}

#[test]
fn zero_token_gives_signed_zeros() {
    let p = projection(0.02);
    for neg in [false, true] {
        let x = token(|i| if neg && i % 2 == 1 { -0.0 } else { 0.0 });
        let t = p.run_token(&x);
        assert_eq!(t.m.to_bits(), 0x3727_C5AC, "m = the binary32 value of 1e-5");
        assert_eq!(t.s.to_bits(), 0x4B41_C960, "s = fl32(127 / 1e-5)");
        assert!(t.q.iter().all(|&q| q == 0));
        assert!(t.yt.iter().all(|v| v.to_bits() == 0), "beta > 0: yt = +0");
        assert!(t.u.iter().all(|v| v.to_f32() == 0.0));
        assert!(t.v.iter().all(|&v| v == 0.0));
        // yt = +0, so y = binary16(+0 + (±0)) = +0 whatever the sign of g·v.
        assert!(t.y.iter().all(|v| v.to_bits() == 0), "{:?}", t.y);
    }
    let p = projection(-0.02);
    let t = p.run_token(&token(|_| 0.0));
    assert!(
        t.yt.iter().all(|v| v.to_bits() == 0x8000_0000),
        "beta < 0: yt = -0"
    );
}

#[test]
fn subnormal_tokens_are_not_flushed() {
    let p = projection(0.02);
    // Every |x| is subnormal (< 2^-14): the 1e-5 floor is below 2^-14 = 6.1e-5, so m is the
    // largest of them and the quantizer still spreads them over int8.
    let x: Vec<f16> = (0..20)
        .map(|i| f16::from_bits(0x0001 + 50 * i as u16))
        .collect();
    let t = p.run_token(&x);
    let m = x.iter().map(|v| v.to_f32()).fold(0.0, f32::max);
    assert!(m > 1e-5);
    assert_eq!(t.m, m);
    assert_eq!(*t.q.last().unwrap(), 127);
    assert!(t.q.iter().filter(|&&q| q != 0).count() > 10);
    // Token below the floor: m = 1e-5 and |q| < 127.
    let tiny: Vec<f16> = (0..20).map(|i| f16::from_bits(0x0001 + i as u16)).collect();
    let t = p.run_token(&tiny);
    assert_eq!(t.m.to_bits(), 0x3727_C5AC);
    assert!(t.q.iter().all(|&q| q.abs() < 127) && t.q.iter().any(|&q| q != 0));
}

#[test]
fn huge_values_overflow_to_infinity_not_nan() {
    let cfg = small_config();
    let mut w = HgfWeights::random(SHAPE, 11);
    w.a.fill(f16::from_f32(60000.0));
    w.b.fill(f16::from_f32(1.0));
    w.gate = 1.0;
    let p = HgfProjection::new(&cfg, w).unwrap();
    let t = p.run_token(&token(|_| 1000.0));
    assert!(
        t.u.iter().all(|u| *u == f16::INFINITY),
        "u overflows: {:?}",
        t.u
    );
    assert!(t.v.iter().all(|v| *v == f32::INFINITY));
    assert!(t.y.iter().all(|y| *y == f16::INFINITY));
}

#[test]
fn gate_zero_gives_exactly_bitlinear() {
    let cfg = small_config();
    let mut w = HgfWeights::random(SHAPE, 5);
    w.gate = 0.0;
    let p = HgfProjection::new(&cfg, w).unwrap();
    let t = p.run_token(&token(|i| (i as f32 - 9.5) * 0.37));
    for (y, yt) in t.y.iter().zip(&t.yt) {
        assert_eq!(y.to_bits(), f16::from_f32(*yt).to_bits());
    }
}
