//! The binary32 functions outside the projections (docs/model.md §M0, §M3, §M7): exp, ln,
//! sin/cos, RMSNorm, SiLU and the sequential sums. Each is a fixed sequence of IEEE binary32
//! operations (through `crate::fp`, so every NaN is canonical), never the platform's libm,
//! so the results are the same bits on every machine.

use crate::fp::{add_f32, div_f32, mul_f32};

/// `1.5 * 2^23`: adding and subtracting it rounds |t| < 2^22 to an integer, ties to even.
const MAGIC: f32 = f32::from_bits(0x4B40_0000);
const INV_LN2: f32 = f32::from_bits(0x3FB8_AA3B);
const LN2_HI: f32 = f32::from_bits(0x3F31_7200);
const LN2_LO: f32 = f32::from_bits(0x35BF_BE8E);
/// `1/k!` for k = 7 down to 0 (§M3.1), Horner order.
const EXP_COEFFS: [u32; 8] = [
    0x3950_0D01,
    0x3AB6_0B61,
    0x3C08_8889,
    0x3D2A_AAAB,
    0x3E2A_AAAB,
    0x3F00_0000,
    0x3F80_0000,
    0x3F80_0000,
];
const SQRT2: f32 = f32::from_bits(0x3FB5_04F3);
/// `2/9, 2/7, 2/5, 2/3` (§M3.2), Horner order.
const LN_COEFFS: [u32; 4] = [0x3E63_8E39, 0x3E92_4925, 0x3ECC_CCCD, 0x3F2A_AAAB];
const TWO_OVER_PI: f32 = f32::from_bits(0x3F22_F983);
const PIO2_A: f32 = f32::from_bits(0x3FC9_0000);
const PIO2_B: f32 = f32::from_bits(0x39FD_A000);
const PIO2_C: f32 = f32::from_bits(0x33A2_2169);
/// `1/9!, -1/7!, 1/5!, -1/3!` (§M3.3), Horner order.
const SIN_COEFFS: [u32; 4] = [0x3638_EF1D, 0xB950_0D01, 0x3C08_8889, 0xBE2A_AAAB];
/// `-1/10!, 1/8!, -1/6!, 1/4!, -1/2!` (§M3.3), Horner order.
const COS_COEFFS: [u32; 5] = [
    0xB493_F27E,
    0x37D0_0D01,
    0xBAB6_0B61,
    0x3D2A_AAAB,
    0xBF00_0000,
];
/// The largest angle `sincos32` reduces exactly (§M3.3): `k < 2^12`.
pub const SINCOS_MAX_ANGLE: f32 = 6433.0;

/// `RNDINT(t)` of §M3: the nearest integer, ties to even, for |t| < 2^22.
fn round_int(t: f32) -> f32 {
    add_f32(add_f32(t, MAGIC), -MAGIC)
}

/// `2^n` for -126 <= n <= 127, from its exponent bits.
fn pow2(n: i32) -> f32 {
    debug_assert!((-126..=127).contains(&n));
    f32::from_bits(((n + 127) as u32) << 23)
}

/// `p = c[0]; p = fl32(fl32(p * z) + c[i])` for the rest (Horner, no FMA).
fn horner(coeffs: &[u32], z: f32) -> f32 {
    coeffs[1..].iter().fold(f32::from_bits(coeffs[0]), |p, &c| {
        add_f32(mul_f32(p, z), f32::from_bits(c))
    })
}

/// `e^x` by §M3.1: Cody-Waite reduction with a split ln 2, a degree-7 Taylor polynomial, and
/// a scaling by `2^n` in two exact-exponent steps.
pub fn exp32(x: f32) -> f32 {
    if x.is_nan() {
        return add_f32(x, 0.0);
    }
    if x > 89.0 {
        return f32::INFINITY;
    }
    if x < -104.0 {
        return 0.0;
    }
    let nf = round_int(mul_f32(x, INV_LN2));
    let n = nf as i32;
    let r = add_f32(add_f32(x, -mul_f32(nf, LN2_HI)), -mul_f32(nf, LN2_LO));
    let p = horner(&EXP_COEFFS, r);
    let n1 = n.div_euclid(2);
    let n2 = n - n1;
    mul_f32(mul_f32(p, pow2(n1)), pow2(n2))
}

/// `ln x` by §M3.2, for finite x > 0 (used once per model, on `rope_base`).
pub fn ln32(x: f32) -> f32 {
    assert!(
        x.is_finite() && x > 0.0,
        "ln32 takes a finite positive value"
    );
    // Normalise a subnormal by 2^64 (exact) first.
    let (x, bias) = if x < f32::MIN_POSITIVE {
        (mul_f32(x, pow2(64)), -64)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xFF) as i32 - 127 + bias;
    let mut m = f32::from_bits((bits & 0x007F_FFFF) | 0x3F80_0000);
    if m > SQRT2 {
        m = mul_f32(m, 0.5);
        e += 1;
    }
    let f = add_f32(m, -1.0);
    let s = div_f32(f, add_f32(2.0, f));
    let z = mul_f32(s, s);
    let p = horner(&LN_COEFFS, z);
    let lm = add_f32(mul_f32(2.0, s), mul_f32(mul_f32(s, z), p));
    let ef = e as f32;
    add_f32(mul_f32(ef, LN2_HI), add_f32(mul_f32(ef, LN2_LO), lm))
}

/// `(sin θ, cos θ)` by §M3.3, for finite `0 <= θ < 6433`: reduction by a three-part π/2 and
/// Taylor polynomials of degree 9 (sin) and 10 (cos) on |r| <= π/4.
pub fn sincos32(theta: f32) -> (f32, f32) {
    assert!(
        (0.0..SINCOS_MAX_ANGLE).contains(&theta),
        "sincos32 takes 0 <= θ < {SINCOS_MAX_ANGLE}"
    );
    let kf = round_int(mul_f32(theta, TWO_OVER_PI));
    let k = kf as i32;
    let r = add_f32(
        add_f32(add_f32(theta, -mul_f32(kf, PIO2_A)), -mul_f32(kf, PIO2_B)),
        -mul_f32(kf, PIO2_C),
    );
    let z = mul_f32(r, r);
    let s = add_f32(r, mul_f32(mul_f32(r, z), horner(&SIN_COEFFS, z)));
    let c = add_f32(1.0, mul_f32(z, horner(&COS_COEFFS, z)));
    match k & 3 {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// `seqsum` of §M0: one accumulator from -0, adding the terms in order.
pub fn seqsum(terms: impl IntoIterator<Item = f32>) -> f32 {
    terms.into_iter().fold(-0.0, add_f32)
}

/// `dot(a, b)` of §M0: the sequential sum of the rounded products.
pub fn dot32(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    seqsum(a.iter().zip(b).map(|(&x, &y)| mul_f32(x, y)))
}

/// `fl32(1 / fl32(sqrt(v)))` (§M3.4): two IEEE operations.
pub fn rsqrt32(v: f32) -> f32 {
    div_f32(1.0, crate::fp::canon_f32(v.sqrt()))
}

/// RMSNorm of §M7: `y_i = fl32(fl32(x_i * r) * w_i)` with
/// `r = 1/sqrt(fl32(fl32(seqsum(x_i^2) / n) + eps))`.
pub fn rmsnorm(x: &[f32], w: &[f32], eps: f32) -> Vec<f32> {
    assert_eq!(x.len(), w.len());
    let ss = seqsum(x.iter().map(|&v| mul_f32(v, v)));
    let ms = add_f32(div_f32(ss, x.len() as f32), eps);
    let r = rsqrt32(ms);
    x.iter()
        .zip(w)
        .map(|(&v, &wi)| mul_f32(mul_f32(v, r), wi))
        .collect()
}

/// `silu(z) = fl32(z / fl32(1 + exp32(-z)))` (§M5 step 7).
pub fn silu32(z: f32) -> f32 {
    div_f32(z, add_f32(1.0, exp32(-z)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_points() {
        assert_eq!(exp32(0.0).to_bits(), 1.0f32.to_bits());
        assert_eq!(exp32(-0.0).to_bits(), 1.0f32.to_bits());
        assert_eq!(exp32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp32(100.0), f32::INFINITY);
        assert_eq!(exp32(f32::NAN).to_bits(), 0x7FC0_0000);
        assert_eq!(ln32(1.0), 0.0);
        assert_eq!(sincos32(0.0), (0.0, 1.0));
        assert_eq!(silu32(0.0), 0.0);
        assert_eq!(silu32(-200.0).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn rmsnorm_of_a_constant_vector_is_the_weights() {
        let y = rmsnorm(&[2.0; 4], &[1.0, 0.5, -1.0, 3.0], 0.0);
        assert_eq!(y, vec![1.0, 0.5, -1.0, 3.0]);
    }
}
