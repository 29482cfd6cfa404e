//! Accuracy of the stated transcendental algorithms (docs/model.md §M3.5) against f64 `std`,
//! measured in binary32 ulps of the exact result over sweeps of binary32 inputs.

use hgf_golden::model::math::{exp32, ln32, sincos32};

/// The binary32 ulp at `x` (normal range): the spacing of the binades containing |x|.
fn ulp(x: f64) -> f64 {
    let x = (x.abs() as f32).max(f32::MIN_POSITIVE);
    let e = ((x.to_bits() >> 23) & 0xFF) as i32 - 127;
    2f64.powi(e - 23)
}

/// Every `step`-th binary32 from `lo` to `hi` (same sign, `lo < hi`, by bit pattern order).
fn sweep(lo: f32, hi: f32, step: u32) -> impl Iterator<Item = f32> {
    let (a, b) = (lo.to_bits(), hi.to_bits());
    let (a, b, neg) = if lo < 0.0 {
        (b, a, true)
    } else {
        (a, b, false)
    };
    (a..=b).step_by(step as usize).map(move |bits| {
        let v = f32::from_bits(bits);
        if neg {
            -v.abs()
        } else {
            v
        }
    })
}

fn max_ulp(
    inputs: impl Iterator<Item = f32>,
    f: impl Fn(f32) -> f32,
    exact: impl Fn(f64) -> f64,
) -> (f64, f32) {
    inputs
        .map(|x| {
            let e = exact(x as f64);
            ((f(x) as f64 - e).abs() / ulp(e), x)
        })
        .fold((0.0, 0.0), |m, v| if v.0 > m.0 { v } else { m })
}

#[test]
fn exp32_is_within_2_ulp() {
    let neg = max_ulp(sweep(-87.0, -1e-30, 97), exp32, f64::exp);
    let pos = max_ulp(sweep(1e-30, 88.0, 97), exp32, f64::exp);
    println!(
        "exp32: max {:.3} ulp (negative, at {}), {:.3} ulp (positive, at {})",
        neg.0, neg.1, pos.0, pos.1
    );
    assert!(neg.0 <= 2.0 && pos.0 <= 2.0, "exp32 error {neg:?} {pos:?}");
}

#[test]
fn exp32_edges() {
    assert_eq!(exp32(-0.0), 1.0);
    assert_eq!(exp32(-104.5), 0.0);
    assert_eq!(exp32(88.8), f32::INFINITY);
    // A subnormal result is one rounding of the exact value (2 ulp of the subnormal grid).
    let x = -100.0f32;
    let got = exp32(x) as f64;
    assert!((got - (x as f64).exp()).abs() <= 2.0 * 2f64.powi(-149));
}

#[test]
fn ln32_is_within_2_ulp() {
    let small = max_ulp(sweep(f32::MIN_POSITIVE, 0.999, 997), ln32, f64::ln);
    let big = max_ulp(sweep(1.001, 1.0e38, 997), ln32, f64::ln);
    println!(
        "ln32: max {:.3} ulp (below 1, at {}), {:.3} ulp (above 1, at {})",
        small.0, small.1, big.0, big.1
    );
    assert!(
        small.0 <= 2.0 && big.0 <= 2.0,
        "ln32 error {small:?} {big:?}"
    );
    assert!((ln32(10000.0) as f64 - 10000f64.ln()).abs() <= ulp(10000f64.ln()));
}

#[test]
fn sincos32_is_within_2_ulp_or_2_pow_minus_30() {
    // Near a zero of sin or cos, the reduced argument r carries the rounding error of the
    // reduction (about 2^-24 of θ's ulp): the error is then small in absolute terms but many
    // ulps of a tiny result. Measure ulps where the result is not tiny, absolute error where
    // it is.
    let (mut worst_ulp, mut worst_abs) = ((0.0f64, 0.0f32), (0.0f64, 0.0f32));
    for theta in sweep(1e-30, 4095.9, 61) {
        let (s, c) = sincos32(theta);
        for (got, exact) in [(s, (theta as f64).sin()), (c, (theta as f64).cos())] {
            let err = (got as f64 - exact).abs();
            if exact.abs() >= 2f64.powi(-7) {
                if err / ulp(exact) > worst_ulp.0 {
                    worst_ulp = (err / ulp(exact), theta);
                }
            } else if err > worst_abs.0 {
                worst_abs = (err, theta);
            }
        }
    }
    println!(
        "sincos32: max {:.3} ulp where |result| >= 2^-7 (at {}), max absolute error 2^{:.2} below (at {})",
        worst_ulp.0,
        worst_ulp.1,
        worst_abs.0.log2(),
        worst_abs.1
    );
    assert!(worst_ulp.0 <= 2.0, "sincos32 error {worst_ulp:?}");
    assert!(
        worst_abs.0 <= 2f64.powi(-30),
        "sincos32 error {worst_abs:?}"
    );
}
