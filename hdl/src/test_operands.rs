//! Random binary32 operands for the FP units' tests, biased to the cases that break
//! rounding and special-value logic.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// A binary32 pattern biased towards special and extreme exponents, subnormals and
/// significands with long runs of ones or zeros.
pub fn interesting(rng: &mut ChaCha8Rng) -> u32 {
    let exp: u32 = match rng.random_range(0..10u32) {
        0 | 1 => 0,
        2 => 255,
        3 => rng.random_range(1..4),
        4 => rng.random_range(250..255),
        5 | 6 => rng.random_range(100..155),
        _ => rng.random_range(0..256),
    };
    (u32::from(rng.random::<bool>()) << 31) | (exp << 23) | frac(rng)
}

/// A 23-bit binary32 fraction: zero, all ones, one bit, runs of ones, a random value with
/// its low bits cleared, or uniform.
pub fn frac(rng: &mut ChaCha8Rng) -> u32 {
    match rng.random_range(0..6u32) {
        0 => 0,
        1 => 0x7F_FFFF,
        2 => 1 << rng.random_range(0..23u32),
        3 => 0x7F_FFFF >> rng.random_range(0..23u32),
        4 => rng.random_range(0..0x80_0000) & !((1 << rng.random_range(0..23u32)) - 1),
        _ => rng.random_range(0..0x80_0000),
    }
}
