//! §R: `HgfProjection` against a plain f64 evaluation of
//! `Y = (T Q)(M/127)·beta + g·B(A x)`, within the tolerance that docs/arithmetic.md §R derives
//! from the contract's rounding steps, on random shapes, lane counts and values.

use half::f16;
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights, Shape, TokenTrace};
use ndarray::Array2;
use proptest::prelude::*;

const U: f64 = 1.0 / (1u64 << 24) as f64; // binary32 unit roundoff
const H: f64 = 1.0 / (1u64 << 11) as f64; // binary16 unit roundoff
const F16_HALF_MIN_SUB: f64 = 1.0 / (1u64 << 25) as f64;
const F32_MIN_SUB: f64 = 1.401298464324817e-45; // 2^-149

fn gamma(n: usize) -> f64 {
    let nu = n as f64 * U;
    nu / (1.0 - nu)
}

/// Additions that one product passes through in the order of §L2.
fn additions(n: usize, lanes: usize) -> usize {
    n.div_ceil(lanes) + lanes.trailing_zeros() as usize
}

/// Checks one token; returns the largest error/tolerance ratio seen.
// The indices i, j, k address several matrices at once, as the formulas of §R do.
#[allow(clippy::needless_range_loop)]
fn check_token(p: &HgfProjection, x: &[f16]) -> Result<f64, TestCaseError> {
    let lanes = p.config().fp_lanes;
    let w = p.weights();
    let (d_in, d_out, rank) = w.shape();
    let t: TokenTrace = p.run_token(x);
    let xf: Vec<f64> = x.iter().map(|v| v.to_f64()).collect();

    // §G2: a ternary-only projection outputs binary16(yt) exactly, whatever g is.
    if rank == 0 {
        prop_assert!(t.u.is_empty() && t.v.is_empty());
        for (j, (y, yt)) in t.y.iter().zip(&t.yt).enumerate() {
            prop_assert_eq!(y.to_bits(), f16::from_f32(*yt).to_bits(), "y[{}]", j);
        }
    }

    // §R1: quantization against f64.
    let m = xf
        .iter()
        .fold(0.0f64, |a, v| a.max(v.abs()))
        .max(1e-5f32 as f64);
    prop_assert_eq!(t.m as f64, m);
    for (i, &xi) in xf.iter().enumerate() {
        let r = xi * 127.0 / m;
        let exact = r.round_ties_even().clamp(-128.0, 127.0) as i8;
        let near_tie = ((r.abs().fract()) - 0.5).abs() < 2e-5;
        if near_tie {
            let lo = r.floor().clamp(-128.0, 127.0) as i8;
            let hi = r.ceil().clamp(-128.0, 127.0) as i8;
            prop_assert!(
                t.q[i] == lo || t.q[i] == hi,
                "q[{}] = {} for r = {}",
                i,
                t.q[i],
                r
            );
        } else {
            prop_assert_eq!(t.q[i], exact, "q[{}] for r = {}", i, r);
        }
    }

    // Reference values, in f64.
    let beta = w.beta as f64;
    let g = w.gate as f64;
    let yt_ref: Vec<f64> = (0..d_out)
        .map(|j| {
            let acc: i64 = (0..d_in).map(|i| w.t[[j, i]] as i64 * t.q[i] as i64).sum();
            prop_assert_eq!(acc, t.acc[j] as i64, "acc[{}]", j);
            Ok(acc as f64 * m / 127.0 * beta)
        })
        .collect::<Result<_, TestCaseError>>()?;
    let u_ref: Vec<f64> = (0..rank)
        .map(|k| (0..d_in).map(|i| w.a[[k, i]].to_f64() * xf[i]).sum())
        .collect();
    let u_abs: Vec<f64> = (0..rank)
        .map(|k| {
            (0..d_in)
                .map(|i| (w.a[[k, i]].to_f64() * xf[i]).abs())
                .sum()
        })
        .collect();

    // §R3: error of u.
    let g1 = gamma(additions(d_in, lanes));
    let e_u: Vec<f64> = (0..rank)
        .map(|k| {
            let e_s = g1 * u_abs[k];
            e_s + H * (u_ref[k].abs() + e_s) + F16_HALF_MIN_SUB
        })
        .collect();
    let g2 = gamma(rank); // §L5: one sequential sum per output

    let mut worst = 0.0f64;
    for j in 0..d_out {
        let v_ref: f64 = (0..rank).map(|k| w.b[[j, k]].to_f64() * u_ref[k]).sum();
        let y_ref = yt_ref[j] + g * v_ref;
        // §R2, §R4, §R5.
        let e_t = 3.01 * U * yt_ref[j].abs() + (t.acc[j].unsigned_abs() as f64 + 1.0) * F32_MIN_SUB;
        let e_v: f64 = (0..rank)
            .map(|k| w.b[[j, k]].to_f64().abs() * (g2 * t.u[k].to_f64().abs() + e_u[k]))
            .sum();
        // A ternary-only projection has no v (§G2): its output is yt's, the gate adds nothing.
        let gv = t.v.get(j).map_or(0.0, |&v| (w.gate * v) as f64);
        let z = t.yt[j] as f64 + gv;
        let tol = 1.001
            * (e_t + g.abs() * e_v + U * gv.abs() + U * z.abs() + H * z.abs() + F16_HALF_MIN_SUB);
        let y = t.y[j].to_f64();
        let err = (y - y_ref).abs();
        prop_assert!(
            err <= tol,
            "y[{}] = {} ({:#06x}), reference {}, error {:e} > tolerance {:e}",
            j,
            y,
            t.y[j].to_bits(),
            y_ref,
            err,
            tol
        );
        // The tolerance is not vacuous: a few binary16 ulps of the magnitudes involved.
        let scale: f64 = yt_ref[j].abs()
            + g.abs()
                * (0..rank)
                    .map(|k| (w.b[[j, k]].to_f64() * u_ref[k]).abs())
                    .sum::<f64>()
            + g.abs()
                * (0..rank)
                    .map(|k| w.b[[j, k]].to_f64().abs() * u_abs[k])
                    .sum::<f64>()
                * H;
        prop_assert!(
            tol <= 4.0 * H * scale + 4.0 * F16_HALF_MIN_SUB,
            "tolerance {:e} vs scale {:e}",
            tol,
            scale
        );
        if tol > 0.0 {
            worst = worst.max(err / tol);
        }
    }
    Ok(worst)
}

/// A random small projection on a random engine that runs it: maxima at or above the shape,
/// any power-of-two lane count up to `max_d_in` (so possibly more lanes than the projection
/// has inputs), rank 0 (ternary-only) included.
fn engine_and_shape() -> impl Strategy<Value = (HgfConfig, Shape)> {
    (
        (1usize..48, 1usize..24, 0usize..8),
        (0usize..40, 0usize..20, 0usize..4),
        0u32..7,
    )
        .prop_map(
            |((d_in, d_out, rank), (slack_in, slack_out, slack_rank), lanes_log)| {
                let shape = Shape::new(d_in, d_out, rank);
                let max_rank = rank.max(1) + slack_rank;
                let max_d_in = (d_in + slack_in).max(max_rank);
                let max_d_out = (d_out + slack_out).max(max_rank);
                let mut fp_lanes = 1usize << lanes_log;
                while fp_lanes > max_d_in {
                    fp_lanes /= 2;
                }
                let base = HgfConfig::default();
                let cfg = HgfConfig {
                    max_d_in,
                    max_d_out,
                    max_rank,
                    array_rows: base.array_rows.min(max_d_out),
                    array_inputs: base.trits_per_byte(),
                    fp_lanes,
                    ..base
                };
                cfg.validate().unwrap();
                cfg.check_shape(shape).unwrap();
                (cfg, shape)
            },
        )
}

/// Values with a random magnitude (including subnormal binary16 values) and sign.
fn value(bits: u32, scale: f32) -> f16 {
    let unit = (bits & 0xFFFF) as f32 / 65536.0 * 2.0 - 1.0;
    let v = match (bits >> 16) % 16 {
        0 => 0.0,
        1 => unit * 1e-6, // binary16 subnormal range
        _ => unit * scale,
    };
    f16::from_f32(v)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn golden_matches_float_math_within_the_derived_tolerance(
        (cfg, shape) in engine_and_shape(),
        seed in any::<u64>(),
        x_bits in proptest::collection::vec(any::<u32>(), 48),
        x_scale in prop_oneof![Just(1e-3f32), Just(1.0), Just(30.0)],
        beta in 1e-3f32..2.0,
        gate in -1.0f32..1.0,
    ) {
        let mut w = HgfWeights::random(shape, seed);
        w.beta = beta;
        w.gate = gate;
        let p = HgfProjection::new(&cfg, w).unwrap();
        let x: Vec<f16> = x_bits[..shape.d_in].iter().map(|&b| value(b, x_scale)).collect();
        let worst = check_token(&p, &x)?;
        prop_assert!(worst <= 1.0);
    }
}

/// Ties in the quantizer: values chosen so that x·127/m is exactly k + 0.5.
#[test]
fn quantizer_ties_round_to_even() {
    let cfg = HgfConfig {
        fp_lanes: 1,
        ..HgfConfig::default()
    };
    let w = HgfWeights {
        t: Array2::from_elem((4, 4), 1),
        beta: 1.0,
        a: Array2::from_elem((1, 4), f16::ONE),
        b: Array2::from_elem((4, 1), f16::ONE),
        gate: 0.0,
    };
    let p = HgfProjection::new(&cfg, w).unwrap();
    // m = 127 gives s = 1, so q = RNE(x): 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -3.5 -> -4.
    let x: Vec<f16> = [127.0, 1.5, 2.5, -3.5]
        .iter()
        .map(|&v| f16::from_f32(v))
        .collect();
    assert_eq!(p.run_token(&x).q, vec![127, 2, 2, -4]);
    let x: Vec<f16> = [-127.0, 0.5, -0.5, 126.5]
        .iter()
        .map(|&v| f16::from_f32(v))
        .collect();
    assert_eq!(p.run_token(&x).q, vec![-127, 0, 0, 126]);
}
