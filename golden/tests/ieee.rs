//! The golden FP primitives (`hgf_golden::fp`, docs/arithmetic.md §F) against references
//! written here without them: integer bit manipulation for the conversions, and wider (f64)
//! arithmetic rounded once where that is provably exact or correctly rounded.
//!
//! The TestFloat vectors (tests/testfloat_vectors.rs) sample the hard cases; these tests are
//! exhaustive wherever the input space allows it and dense elsewhere, and they also pin down
//! what TestFloat leaves open: the canonical NaN bits (§F1) and the int8 rule (§F5).
//!
//! Run time matters: CI runs plain `cargo test`, whose `test` profile (root Cargo.toml) inherits
//! the `dev` profile's `opt-level = 3` for the hgf-golden package, so these sweeps run as
//! optimised code. The heavy sweeps use two threads. Measured on two idle cores with `half`'s
//! F16C path (taken when the CPU has it): about 12 s for the whole file (22 CPU-seconds); see
//! each test for its share. Other load on the machine stretches that proportionally.

use std::thread;

use half::f16;
use hgf_golden::fp::{
    add_f32, div_f32, f16_to_f32, f32_to_f16, f32_to_i8, i32_to_f32, mul_f16_exact, mul_f32,
    CANONICAL_NAN_F16, CANONICAL_NAN_F32,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const THREADS: u64 = 2;

/// Mismatches seen by one worker: how many, and the first few described.
#[derive(Default)]
struct Failures {
    count: u64,
    first: Vec<String>,
}

impl Failures {
    fn note(&mut self, describe: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.len() < 8 {
            self.first.push(describe());
        }
    }
}

/// Panics with the first failures of all workers, if there were any.
fn assert_none(what: &str, parts: impl IntoIterator<Item = Failures>) {
    let mut count = 0;
    let mut first = Vec::new();
    for p in parts {
        count += p.count;
        first.extend(p.first);
    }
    assert_eq!(
        count,
        0,
        "{what}: {count} mismatches, first:\n{}",
        first.join("\n")
    );
}

/// Runs `work(lo, hi)` on THREADS contiguous slices of `lo..hi` at once.
fn in_parallel<T: Send>(lo: u64, hi: u64, work: impl Fn(u64, u64) -> T + Sync) -> Vec<T> {
    let chunk = (hi - lo).div_ceil(THREADS);
    let work = &work;
    thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let a = (lo + t * chunk).min(hi);
                let b = (a + chunk).min(hi);
                s.spawn(move || work(a, b))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn h(bits: u16) -> f16 {
    f16::from_bits(bits)
}

// ---------------------------------------------------------------------------------------------
// binary16 -> binary32
// ---------------------------------------------------------------------------------------------

/// binary16 -> binary32 bits by field arithmetic: rebias the exponent (15 -> 127), widen the
/// mantissa (10 -> 23 bits), normalise subnormals by shifting until the hidden bit appears,
/// and give every NaN the canonical encoding.
fn ref_f16_to_f32_bits(x: u16) -> u32 {
    let sign = u32::from(x >> 15) << 31;
    let exp = i32::from((x >> 10) & 0x1F);
    let man = u32::from(x & 0x3FF);
    match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // man * 2^-24 = 1.f * 2^e once the leading one reaches bit 10.
            let (mut m, mut e) = (man, -14);
            while m & 0x400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | (((e + 127) as u32) << 23) | ((m & 0x3FF) << 13)
        }
        (31, 0) => sign | 0x7F80_0000,
        (31, _) => CANONICAL_NAN_F32,
        _ => sign | (((exp - 15 + 127) as u32) << 23) | (man << 13),
    }
}

/// The value of a binary16 pattern as f64, from [`ref_f16_to_f32_bits`] (f32 -> f64 is exact).
fn ref_f16_value(x: u16) -> f64 {
    f64::from(f32::from_bits(ref_f16_to_f32_bits(x)))
}

#[test]
fn reference_decoder_anchors() {
    // IEEE facts that keep the reference honest.
    assert_eq!(ref_f16_value(0x3C00), 1.0);
    assert_eq!(ref_f16_value(0xC000), -2.0);
    assert_eq!(ref_f16_value(0x7BFF), 65504.0);
    assert_eq!(ref_f16_value(0x0001), 2f64.powi(-24));
    assert_eq!(ref_f16_value(0x03FF), 1023.0 * 2f64.powi(-24));
    assert_eq!(ref_f16_value(0x0400), 2f64.powi(-14));
    assert_eq!(ref_f16_value(0x3555), 1365.0 / 4096.0);
    assert_eq!(ref_f16_to_f32_bits(0x8000), 0x8000_0000);
    assert_eq!(ref_f16_to_f32_bits(0xFC00), 0xFF80_0000);
    assert_eq!(ref_f16_to_f32_bits(0xFD55), CANONICAL_NAN_F32);
}

/// All 65,536 binary16 inputs: f16_to_f32 equals the field-arithmetic decoder (so NaNs come
/// out canonical), and converting back gives the input for every non-NaN.
#[test]
fn f16_to_f32_exhaustive_and_round_trips() {
    let mut fails = Failures::default();
    for x in 0..=u16::MAX {
        let got = f16_to_f32(h(x)).to_bits();
        let want = ref_f16_to_f32_bits(x);
        if got != want {
            fails.note(|| format!("f16_to_f32({x:04X}) = {got:08X}, want {want:08X}"));
        }
        let is_nan = (x & 0x7FFF) > 0x7C00;
        if !is_nan {
            let back = f32_to_f16(f32::from_bits(got)).to_bits();
            if back != x {
                fails.note(|| format!("f32_to_f16(f16_to_f32({x:04X})) = {back:04X}"));
            }
        } else if f32_to_f16(f32::from_bits(got)).to_bits() != CANONICAL_NAN_F16 {
            fails.note(|| format!("NaN {x:04X} does not come back as the canonical f16 NaN"));
        }
    }
    assert_none("f16_to_f32", [fails]);
}

// ---------------------------------------------------------------------------------------------
// binary16 x binary16 -> binary32, exact
// ---------------------------------------------------------------------------------------------

/// What mul_f16_exact must return, given the f64 product of the decoded operands. That product
/// is exact (11 + 11 significant bits in f64's 53, exponents far inside f64's range), so the
/// binary32 result must equal it exactly; a NaN must be the canonical one.
fn product_matches(got: f32, exact: f64) -> bool {
    if exact.is_nan() {
        got.to_bits() == CANONICAL_NAN_F32
    } else {
        f64::from(got).to_bits() == exact.to_bits()
    }
}

/// Every product of two binary16 values, subnormals, zeros, infinities and NaNs included.
///
/// Only non-negative operands with `a <= b` are swept (32768 * 32769 / 2, about 5.4e8 pairs):
/// the sign of a product is the XOR of the operands' signs and the product commutes, so the
/// other three quarters add nothing for an IEEE multiplier. That the golden one obeys both
/// rules is checked in [`f16_products_signs_and_specials`]. Rows are dealt to the two threads
/// alternately, since the row of `a` has `32768 - a` pairs. About 1.3 s on two cores.
#[test]
fn f16_products_are_exact_exhaustive() {
    let table: Vec<f64> = (0..=0x7FFFu16).map(ref_f16_value).collect();
    let table = &table;
    let parts = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS as u16)
            .map(|t| {
                s.spawn(move || {
                    let mut fails = Failures::default();
                    let mut pairs = 0u64;
                    for a in (t..=0x7FFF).step_by(THREADS as usize) {
                        let va = table[usize::from(a)];
                        for b in a..=0x7FFF {
                            pairs += 1;
                            let got = mul_f16_exact(h(a), h(b));
                            let exact = va * table[usize::from(b)];
                            if !product_matches(got, exact) {
                                fails.note(|| {
                                    format!(
                                        "{a:04X} * {b:04X} = {:08X}, want {exact:e}",
                                        got.to_bits()
                                    )
                                });
                            }
                        }
                    }
                    (fails, pairs)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|j| j.join().unwrap())
            .collect::<Vec<_>>()
    });
    let pairs: u64 = parts.iter().map(|p| p.1).sum();
    assert_eq!(
        pairs,
        32768 * 32769 / 2,
        "every non-negative pair with a <= b was swept"
    );
    assert_none("mul_f16_exact", parts.into_iter().map(|p| p.0));
}

/// The rules the exhaustive sweep relies on, on signed operands: 0 * inf is the canonical NaN
/// in every sign combination, infinities take the XOR of the signs, NaN operands give the
/// canonical NaN, and one million random signed pairs (both orders) match the exact product.
#[test]
fn f16_products_signs_and_specials() {
    let inf = 0x7C00u16;
    let zero = 0x0000u16;
    for (a, b) in [(zero, inf), (inf, zero)] {
        for sa in [0, 0x8000] {
            for sb in [0, 0x8000] {
                let r = mul_f16_exact(h(a | sa), h(b | sb)).to_bits();
                assert_eq!(r, CANONICAL_NAN_F32, "{:04X} * {:04X}", a | sa, b | sb);
            }
        }
    }
    // inf * finite non-zero: an infinity whose sign is the XOR of the operands' signs.
    for x in [0x0001u16, 0x03FF, 0x0400, 0x3C00, 0x7BFF, inf] {
        for (sa, sb) in [(0u16, 0u16), (0, 0x8000), (0x8000, 0), (0x8000, 0x8000)] {
            let r = mul_f16_exact(h(inf | sa), h(x | sb));
            let negative = (sa ^ sb) != 0;
            assert!(
                r.is_infinite() && r.is_sign_negative() == negative,
                "{sa:04X} {x:04X} {sb:04X}"
            );
        }
    }
    // Signed zeros: the sign is the XOR too.
    assert_eq!(mul_f16_exact(h(0x8000), h(0x3C00)).to_bits(), 0x8000_0000);
    assert_eq!(mul_f16_exact(h(0x8000), h(0xBC00)).to_bits(), 0x0000_0000);
    for nan in [0x7C01u16, 0x7E00, 0xFFFF, 0xFE00] {
        for x in [0u16, 0x3C00, inf, 0x8001, nan] {
            assert_eq!(mul_f16_exact(h(nan), h(x)).to_bits(), CANONICAL_NAN_F32);
            assert_eq!(mul_f16_exact(h(x), h(nan)).to_bits(), CANONICAL_NAN_F32);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0xF16);
    let mut fails = Failures::default();
    for _ in 0..1_000_000 {
        let a: u16 = rng.random();
        let b: u16 = rng.random();
        let exact = ref_f16_value(a) * ref_f16_value(b);
        for (x, y) in [(a, b), (b, a)] {
            let got = mul_f16_exact(h(x), h(y));
            if !product_matches(got, exact) {
                fails.note(|| format!("{x:04X} * {y:04X} = {:08X}", got.to_bits()));
            }
        }
    }
    assert_none("signed mul_f16_exact", [fails]);
}

// ---------------------------------------------------------------------------------------------
// binary32 -> binary16
// ---------------------------------------------------------------------------------------------

/// binary32 -> binary16, round to nearest even, by integer arithmetic.
///
/// The value is `sig * 2^(exp - 150)` with a 24-bit `sig`. The binary16 quantum (ulp) is
/// `2^(max(E, -14) - 10)` for the unbiased exponent E: normals keep 11 bits, results below
/// 2^-14 share the subnormal quantum 2^-24. Rounding `sig` to a multiple of the quantum gives
/// an integer count `n`; the encoding is then `n` itself for subnormals and
/// `((E + 14) << 10) + n` for normals (n includes the hidden bit 1024), and a rounding carry
/// (n = 2048, or 1024 from the subnormal range) moves into the exponent field by itself.
/// Anything reaching exponent field 31 is infinity: that happens from 65520 up, the midpoint
/// between 65504 and 65536, which ties to the even 65536.
fn ref_f32_to_f16_bits(x: u32) -> u16 {
    let sign = ((x >> 16) & 0x8000) as u16;
    let exp = ((x >> 23) & 0xFF) as i32;
    let man = x & 0x7F_FFFF;
    if exp == 0xFF {
        return if man != 0 {
            CANONICAL_NAN_F16
        } else {
            sign | 0x7C00
        };
    }
    if exp == 0 {
        // |x| < 2^-126, far below 2^-25 (half the least binary16 subnormal): rounds to zero.
        return sign;
    }
    let e = exp - 127;
    if e > 15 {
        return sign | 0x7C00;
    }
    let sig = u64::from(man | 0x80_0000);
    let quantum = e.max(-14) - 10;
    let shift = (quantum - (exp - 150)) as u32; // >= 13
    let n = if shift >= 40 {
        0
    } else {
        let q = sig >> shift;
        let rem = sig & ((1 << shift) - 1);
        let half = 1 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    } as u32;
    let bits = if e < -14 {
        n
    } else {
        (((e + 14) as u32) << 10) + n
    };
    sign | bits.min(0x7C00) as u16
}

#[test]
fn reference_encoder_anchors() {
    let r = |v: f32| ref_f32_to_f16_bits(v.to_bits());
    assert_eq!(r(1.0), 0x3C00);
    assert_eq!(r(-2.0), 0xC000);
    assert_eq!(r(65504.0), 0x7BFF);
    assert_eq!(ref_f32_to_f16_bits(0x477F_EFFF), 0x7BFF); // just below 65520
    assert_eq!(ref_f32_to_f16_bits(0x477F_F000), 0x7C00); // 65520 itself
    assert_eq!(r(65520.0), 0x7C00);
    assert_eq!(r(1e10), 0x7C00);
    assert_eq!(r(2f32.powi(-24)), 0x0001);
    assert_eq!(r(2f32.powi(-25)), 0x0000); // tie between 0 and the least subnormal: even is 0
    assert_eq!(r(f32::from_bits(2f32.powi(-25).to_bits() + 1)), 0x0001);
    assert_eq!(r(1.5 * 2f32.powi(-24)), 0x0002); // tie between 1 and 2 quanta: even is 2
    assert_eq!(r(2.5 * 2f32.powi(-24)), 0x0002);
    assert_eq!(r(1.0 + 2f32.powi(-11)), 0x3C00); // tie: stays on the even 1.0
    assert_eq!(r(1.0 + 3.0 * 2f32.powi(-11)), 0x3C02); // tie: up to the even neighbour
    assert_eq!(r(2f32.powi(-14) - 2f32.powi(-25)), 0x0400); // subnormal rounds up to normal
    assert_eq!(r(-0.0), 0x8000);
    assert_eq!(r(f32::NEG_INFINITY), 0xFC00);
    assert_eq!(ref_f32_to_f16_bits(0xFFC1_2345), CANONICAL_NAN_F16);
}

/// f32_to_f16 on all 2^32 binary32 inputs against [`ref_f32_to_f16_bits`]. Exhaustive rather
/// than strided: it costs about 6 s on two cores (12 CPU-seconds), well inside the budget.
#[test]
fn f32_to_f16_exhaustive() {
    let parts = in_parallel(0, 1 << 32, |lo, hi| {
        let mut fails = Failures::default();
        for x in lo..hi {
            let x = x as u32;
            let got = f32_to_f16(f32::from_bits(x)).to_bits();
            let want = ref_f32_to_f16_bits(x);
            if got != want {
                fails.note(|| format!("f32_to_f16({x:08X}) = {got:04X}, want {want:04X}"));
            }
        }
        fails
    });
    assert_none("f32_to_f16", parts);
}

// ---------------------------------------------------------------------------------------------
// binary32 add, mul, div
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum BinOp {
    Add,
    Mul,
    Div,
}

/// The binary32 result computed in f64 and rounded once to f32.
///
/// For +, * and / the f64 result is the exact result rounded to 53 bits, and rounding that to
/// 24 bits gives the correctly rounded binary32 result because 53 >= 2 * 24 + 2 (double
/// rounding is innocuous; Figueroa 1995). Binary32 subnormal results are covered too: a product
/// of two binary32 values is exact in f64 (at most 48 significant bits, exponent >= -298), a sum
/// that lands in the subnormal range is exact, and a quotient's distance from a (coarser)
/// subnormal midpoint is larger than f64's error. f64 -> f32 (`as`) rounds to nearest even
/// and overflows to infinity like the binary32 operation itself.
fn ref_binop(op: BinOp, a: f32, b: f32) -> u32 {
    let (a, b) = (f64::from(a), f64::from(b));
    let r = match op {
        BinOp::Add => a + b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
    };
    if r.is_nan() {
        CANONICAL_NAN_F32
    } else {
        (r as f32).to_bits()
    }
}

fn golden_binop(op: BinOp, a: f32, b: f32) -> u32 {
    match op {
        BinOp::Add => add_f32(a, b),
        BinOp::Mul => mul_f32(a, b),
        BinOp::Div => div_f32(a, b),
    }
    .to_bits()
}

/// `m * 2^e` as f32; `m * 2^e` must be representable (then every step is exact).
fn scaled(m: u32, e: i32) -> f32 {
    (f64::from(m) * 2f64.powi(e)) as f32
}

/// A binary32 operand biased to the hard cases: zeros, infinities, NaNs with any payload,
/// subnormals, the extreme exponents, and the neighbours of the format's limits.
fn edgy_f32(rng: &mut ChaCha8Rng) -> u32 {
    let sign = if rng.random_bool(0.5) { 0x8000_0000 } else { 0 };
    let man = rng.random_range(0..0x80_0000u32);
    let with_exp = |e: u32| sign | (e << 23) | man;
    match rng.random_range(0..11u32) {
        0 | 1 => rng.random(),
        2 => sign,
        3 => sign | 0x7F80_0000,
        4 => sign | 0x7F80_0000 | man.max(1), // NaN, quiet or signalling
        5 => sign | man.max(1),               // subnormal
        6 => with_exp(rng.random_range(1..=24)),
        7 => with_exp(rng.random_range(230..=254)),
        8 => with_exp(rng.random_range(118..=136)),
        9 => {
            let limits = [
                0x7F7F_FFFFu32,
                0x7F7F_FFFE,
                0x0080_0000,
                0x0080_0001,
                0x007F_FFFF,
                1,
                2,
            ];
            sign | limits[rng.random_range(0..limits.len())]
        }
        // Small integers at any scale (bits shifted out are simply lost).
        _ => sign | rng.random_range(0..(1u32 << 12)) << rng.random_range(0..31),
    }
}

/// An operand pair for `op`: mostly independent edgy operands, plus pairs built so that the
/// exact result is a rounding tie (or one bit beside one) and, for addition, cancellations.
fn pair(op: BinOp, rng: &mut ChaCha8Rng) -> (u32, u32) {
    let neg = |rng: &mut ChaCha8Rng, x: f32| if rng.random_bool(0.5) { -x } else { x };
    let nudge = |rng: &mut ChaCha8Rng, x: f32| {
        let bits = x.to_bits();
        match rng.random_range(0..3) {
            0 => bits,
            1 => bits.wrapping_add(1),
            _ => bits.saturating_sub(1).max(bits & 0x8000_0000),
        }
    };
    match (op, rng.random_range(0..4u32)) {
        (_, 0 | 1) => (edgy_f32(rng), edgy_f32(rng)),
        (BinOp::Add, 2) => {
            // a + k * ulp(a) / 2 with k odd: a tie (a nudge of b moves it off by a hair).
            let ea = rng.random_range(2..=254);
            let a = (ea << 23) | rng.random_range(0..0x80_0000u32);
            let k = [1, 3, 5, 7][rng.random_range(0..4)];
            let b = neg(rng, scaled(k, ea as i32 - 151));
            let a = if rng.random_bool(0.5) {
                a | 0x8000_0000
            } else {
                a
            };
            (a, nudge(rng, b))
        }
        (BinOp::Add, _) => {
            // Cancellation: b close to -a.
            let a = edgy_f32(rng);
            let b = (a ^ 0x8000_0000)
                .wrapping_add(rng.random_range(0..5))
                .wrapping_sub(2);
            (a, b)
        }
        (BinOp::Mul, _) => {
            // Odd 13-bit significands whose product has exactly 25 bits: its last bit is half
            // an ulp, a tie; scaled so that the product falls anywhere from overflow to below
            // the least subnormal.
            let ma = rng.random_range(1 << 12..1u32 << 13) | 1;
            let lo = (1u32 << 24).div_ceil(ma);
            let hi = ((1u32 << 25) - 1) / ma;
            let mb = rng.random_range(lo..=hi) | 1;
            let mb = if ma * mb >= 1 << 25 { mb - 2 } else { mb };
            let s = rng.random_range(-175..=104);
            let ea = rng.random_range((-149i32).max(s - 114)..=114.min(s + 149));
            let a = neg(rng, scaled(ma, ea));
            let b = neg(rng, scaled(mb, s - ea));
            (a.to_bits(), nudge(rng, b))
        }
        (BinOp::Div, _) => {
            // m * 2^e / 2^(e + 150) = (m / 2) * 2^-149: a tie on the subnormal grid (the only
            // place a binary32 quotient can be a tie), or beside one after a nudge.
            let m = rng.random_range(1..1u32 << 24) | 1;
            let e = rng.random_range(-149..=-23);
            let a = neg(rng, scaled(m, e));
            let b = neg(rng, scaled(1, e + 150));
            (nudge(rng, a), b.to_bits())
        }
    }
}

/// Whether `exact` lies halfway between `rounded` and its neighbour on the other side.
/// `exact` is the f64 result, which is exact for every tie the generator builds.
fn is_tie(exact: f64, rounded: u32) -> bool {
    let r = f64::from(f32::from_bits(rounded));
    if !exact.is_finite() || !r.is_finite() || exact == r {
        return false;
    }
    let other = 2.0 * exact - r;
    let o = other as f32;
    f64::from(o) == other && (o.to_bits() & 0x7FFF_FFFF).abs_diff(rounded & 0x7FFF_FFFF) == 1
}

/// Seeded random pairs (2 million per op, both orders for + and *) against [`ref_binop`];
/// NaN results must be the canonical bits. About 0.2 s.
#[test]
fn f32_add_mul_div_match_f64_rounded_once() {
    let ops = [BinOp::Add, BinOp::Mul, BinOp::Div];
    // Two jobs of a million pairs per op, each with its own seed.
    let parts = in_parallel(0, ops.len() as u64 * 2, |lo, hi| {
        let mut fails = Failures::default();
        // Per op: exact ties, NaN results, subnormal results.
        let mut reached = [[0u32; 3]; 3];
        for job in lo..hi {
            let k = (job / 2) as usize;
            let op = ops[k];
            let mut rng = ChaCha8Rng::seed_from_u64(0x0754_2019 + job);
            for _ in 0..1_000_000 {
                let (a, b) = pair(op, &mut rng);
                let (fa, fb) = (f32::from_bits(a), f32::from_bits(b));
                let got = golden_binop(op, fa, fb);
                let want = ref_binop(op, fa, fb);
                if got != want {
                    fails.note(|| format!("{op:?}({a:08X}, {b:08X}) = {got:08X}, want {want:08X}"));
                }
                if !matches!(op, BinOp::Div) && golden_binop(op, fb, fa) != got {
                    fails.note(|| format!("{op:?}({a:08X}, {b:08X}) does not commute"));
                }
                let exact = match op {
                    BinOp::Add => f64::from(fa) + f64::from(fb),
                    BinOp::Mul => f64::from(fa) * f64::from(fb),
                    BinOp::Div => f64::from(fa) / f64::from(fb),
                };
                reached[k][0] += u32::from(is_tie(exact, want));
                reached[k][1] += u32::from(want == CANONICAL_NAN_F32);
                reached[k][2] += u32::from(want & 0x7F80_0000 == 0 && want & 0x7F_FFFF != 0);
            }
        }
        (fails, reached)
    });
    let mut reached = [[0u32; 3]; 3];
    for (_, r) in &parts {
        for (total, part) in reached.iter_mut().zip(r) {
            for (t, p) in total.iter_mut().zip(part) {
                *t += p;
            }
        }
    }
    assert_none("f32 add/mul/div", parts.into_iter().map(|p| p.0));
    // The generator must really reach the hard cases, or passing proves little.
    for (op, [ties, nans, subnormals]) in ops.iter().zip(reached) {
        eprintln!("{op:?}: {ties} ties, {nans} NaN results, {subnormals} subnormal results");
        assert!(ties > 20_000, "{op:?}: only {ties} ties");
        assert!(nans > 20_000, "{op:?}: only {nans} NaN results");
        assert!(
            subnormals > 2_000,
            "{op:?}: only {subnormals} subnormal results"
        );
    }
}

#[test]
fn f32_specials_and_canonical_nans() {
    let q = f32::from_bits;
    let inf = f32::INFINITY;
    let cases: [(BinOp, f32, f32); 10] = [
        (BinOp::Add, inf, -inf),
        (BinOp::Add, q(0xFFC1_2345), 1.0),
        (BinOp::Add, q(0x7F80_0001), inf),
        (BinOp::Mul, 0.0, -inf),
        (BinOp::Mul, q(0x7FFF_FFFF), 0.0),
        (BinOp::Div, 0.0, -0.0),
        (BinOp::Div, inf, -inf),
        (BinOp::Div, q(0xFF80_0001), 2.0),
        (BinOp::Div, 1.0, q(0x7FA0_0000)),
        (BinOp::Mul, -inf, q(0xFFFF_FFFF)),
    ];
    for (op, a, b) in cases {
        assert_eq!(
            golden_binop(op, a, b),
            CANONICAL_NAN_F32,
            "{op:?}({:08X}, {:08X})",
            a.to_bits(),
            b.to_bits()
        );
    }
    assert_eq!(golden_binop(BinOp::Div, 1.0, -0.0), 0xFF80_0000);
    assert_eq!(golden_binop(BinOp::Add, -0.0, -0.0), 0x8000_0000);
    assert_eq!(golden_binop(BinOp::Add, 1.0, -1.0), 0x0000_0000);
    assert_eq!(golden_binop(BinOp::Mul, f32::MAX, 2.0), 0x7F80_0000);
    assert_eq!(golden_binop(BinOp::Mul, q(1), 0.5), 0); // 2^-150: tie to even zero
    assert_eq!(golden_binop(BinOp::Mul, q(3), 0.5), 2); // 1.5 * 2^-149: tie to even 2
}

// ---------------------------------------------------------------------------------------------
// binary32 -> int8
// ---------------------------------------------------------------------------------------------

/// binary32 -> int8 by integer arithmetic: round the significand at the binary point, ties to
/// even, then saturate to [-128, 127]; NaN gives 0 (§F5).
fn ref_f32_to_i8(x: u32) -> i8 {
    let negative = x >> 31 == 1;
    let exp = ((x >> 23) & 0xFF) as i32;
    let man = x & 0x7F_FFFF;
    let saturated = if negative { i8::MIN } else { i8::MAX };
    if exp == 0xFF {
        return if man != 0 { 0 } else { saturated };
    }
    if exp >= 127 + 7 {
        return saturated; // |x| >= 128
    }
    if exp == 0 {
        return 0; // |x| < 2^-126
    }
    let sig = man | 0x80_0000; // |x| = sig * 2^(exp - 150), exp - 150 <= -17
    let shift = (150 - exp) as u32;
    let magnitude = if shift >= 26 {
        0 // |x| < 2^-2
    } else {
        let q = sig >> shift;
        let rem = sig & ((1 << shift) - 1);
        let half = 1 << (shift - 1);
        q + u32::from(rem > half || (rem == half && q & 1 == 1))
    };
    let v = if negative {
        -(magnitude as i32)
    } else {
        magnitude as i32
    };
    v.clamp(-128, 127) as i8
}

/// Every binary32 value in [-200, 200] (about 2.26e9), plus every NaN and infinity, plus a
/// dense stride over the rest (all of which saturate). About 3.4 s on two cores.
#[test]
fn f32_to_i8_exhaustive_in_range() {
    let limit = 200f32.to_bits() as u64;
    // Both signs: index i < limit+1 is +bits(i), the rest are the negatives.
    let parts = in_parallel(0, 2 * (limit + 1), |lo, hi| {
        let mut fails = Failures::default();
        for i in lo..hi {
            let x = if i <= limit {
                i as u32
            } else {
                (i - limit - 1) as u32 | 0x8000_0000
            };
            let got = f32_to_i8(f32::from_bits(x));
            let want = ref_f32_to_i8(x);
            if got != want {
                fails.note(|| format!("f32_to_i8({x:08X}) = {got}, want {want}"));
            }
        }
        fails
    });
    assert_none("f32_to_i8 in [-200, 200]", parts);

    let mut fails = Failures::default();
    let specials = (0x7F80_0000..=0x7FFF_FFFFu32).chain(0xFF80_0000..=0xFFFF_FFFF);
    let rest = (limit as u32..0x7F80_0000)
        .step_by(97)
        .chain((limit as u32 | 0x8000_0000..0xFF80_0000).step_by(97));
    for x in specials.chain(rest) {
        let got = f32_to_i8(f32::from_bits(x));
        let want = ref_f32_to_i8(x);
        if got != want {
            fails.note(|| format!("f32_to_i8({x:08X}) = {got}, want {want}"));
        }
    }
    assert_none("f32_to_i8 specials and the saturating range", [fails]);
    // Anchors for the reference itself.
    let r = |v: f32| ref_f32_to_i8(v.to_bits());
    assert_eq!((r(0.5), r(1.5), r(2.5), r(-0.5), r(-1.5)), (0, 2, 2, 0, -2));
    let below_half = ref_f32_to_i8(0x3EFF_FFFF); // the largest f32 below 0.5
    let above_half = ref_f32_to_i8(0x3F00_0001); // the least f32 above 0.5
    assert_eq!((below_half, above_half), (0, 1));
    assert_eq!((r(127.5), r(-128.5), r(-127.5)), (127, -128, -128));
    assert_eq!(
        (
            r(f32::NAN),
            r(f32::INFINITY),
            r(f32::NEG_INFINITY),
            r(126.5)
        ),
        (0, 127, -128, 126)
    );
}

// ---------------------------------------------------------------------------------------------
// int32 -> binary32
// ---------------------------------------------------------------------------------------------

/// int32 -> binary32 bits by integer arithmetic: keep the top 24 significant bits of |x|,
/// round the rest to nearest even, and build the fields (a carry bumps the exponent).
fn ref_i32_to_f32_bits(x: i32) -> u32 {
    if x == 0 {
        return 0;
    }
    let sign = if x < 0 { 0x8000_0000 } else { 0 };
    let mut m = x.unsigned_abs();
    let top = 31 - m.leading_zeros(); // position of the leading one
    let mut exp = top;
    if top > 23 {
        let shift = top - 23;
        let rem = m & ((1 << shift) - 1);
        let half = 1 << (shift - 1);
        m >>= shift;
        if rem > half || (rem == half && m & 1 == 1) {
            m += 1;
            if m == 1 << 24 {
                m >>= 1;
                exp += 1;
            }
        }
    } else {
        m <<= 23 - top;
    }
    sign | ((exp + 127) << 23) | (m & 0x7F_FFFF)
}

/// Exhaustive for |x| <= 2^24, where the conversion must be exact; a stride of 61 over the
/// rest of the int32 range, every value within 64 of each power of two from 2^24 up, and one
/// million random values, all against both the integer reference and f64 rounding (int32 is
/// exact in f64, so `x as f64 as f32` rounds once). About 0.3 s.
#[test]
fn i32_to_f32_exact_small_and_rounded_large() {
    let check = |x: i32, fails: &mut Failures| {
        let got = i32_to_f32(x).to_bits();
        let want = ref_i32_to_f32_bits(x);
        let via_f64 = (f64::from(x) as f32).to_bits();
        if got != want || want != via_f64 {
            fails.note(|| {
                format!("i32_to_f32({x}) = {got:08X}, want {want:08X} (f64: {via_f64:08X})")
            });
        }
    };
    let mut fails = Failures::default();
    for x in -(1 << 24)..=(1 << 24) {
        check(x, &mut fails);
        if f64::from(i32_to_f32(x)) != f64::from(x) {
            fails.note(|| format!("i32_to_f32({x}) is not exact"));
        }
    }
    for x in (i32::MIN..=i32::MAX).step_by(61) {
        check(x, &mut fails);
    }
    for k in 24..=31 {
        let p = 1i64 << k;
        for d in -64..=64 {
            for v in [p + d, -p + d] {
                if let Ok(x) = i32::try_from(v) {
                    check(x, &mut fails);
                }
            }
        }
    }
    check(i32::MIN, &mut fails);
    check(i32::MAX, &mut fails);
    let mut rng = ChaCha8Rng::seed_from_u64(0x132);
    for _ in 0..1_000_000 {
        check(rng.random(), &mut fails);
    }
    assert_none("i32_to_f32", [fails]);
    // Anchors: 2^24 + 1 is a tie to even, 2^24 + 3 rounds up; i32::MAX rounds to 2^31.
    assert_eq!(ref_i32_to_f32_bits((1 << 24) + 1), 0x4B80_0000);
    assert_eq!(ref_i32_to_f32_bits((1 << 24) + 3), 0x4B80_0002);
    assert_eq!(ref_i32_to_f32_bits(i32::MAX), 0x4F00_0000);
    assert_eq!(ref_i32_to_f32_bits(i32::MIN), 0xCF00_0000);
    assert_eq!(ref_i32_to_f32_bits(-3), 0xC040_0000);
}
