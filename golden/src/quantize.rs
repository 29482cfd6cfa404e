//! The per-token activation quantizer of BitNet b1.58 (docs/arithmetic.md §Q).

use half::f16;

use crate::fp::{abs_f16, div_f32, f16_to_f32, f32_to_i8, mul_f32};

/// The floor of the absmax, the FP32 value nearest 1e-5 (bits 0x3727C5AC), §Q1.
pub const ABSMAX_FLOOR: f32 = 1e-5;

/// A quantized token: the int8 values and the scales that produced them.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedToken {
    /// `m = max(max_i |x_i|, 1e-5)` as FP32 (§Q1); the canonical NaN if any x_i is NaN.
    pub m: f32,
    /// `s = fl32(127 / m)` (§Q2).
    pub s: f32,
    /// `q_i = clamp(round_half_even(fl32(x_i * s)), -128, 127)` (§Q3).
    pub q: Vec<i8>,
}

/// `max_i |x_i|` exactly, as FP32 (§Q1). Any NaN input makes the result the canonical NaN. An
/// empty token gives +0.
pub fn absmax(x: &[f16]) -> f32 {
    let mut max = 0u16;
    for &xi in x {
        let a = abs_f16(xi);
        if a.is_nan() {
            return f16_to_f32(a);
        }
        // For non-negative binary16 values (NaN excluded) the bit patterns order like the
        // values, which is how the hardware compares them.
        max = max.max(a.to_bits());
    }
    f16_to_f32(f16::from_bits(max))
}

/// `max(m, 1e-5)` with NaN kept (§Q1). (`f32::max` would drop the NaN.)
pub fn floor_absmax(m: f32) -> f32 {
    if m.is_nan() || m >= ABSMAX_FLOOR {
        m
    } else {
        ABSMAX_FLOOR
    }
}

/// The quantization scale `s = fl32(127 / m)` (§Q2).
pub fn quant_scale(m: f32) -> f32 {
    div_f32(127.0, m)
}

/// One activation to int8: `clamp(round_half_even(fl32(x * s)), -128, 127)`, NaN to 0 (§Q3).
pub fn quantize_one(x: f16, s: f32) -> i8 {
    f32_to_i8(mul_f32(f16_to_f32(x), s))
}

/// Quantizes one token (§Q).
pub fn activation_quantize(x: &[f16]) -> QuantizedToken {
    let m = floor_absmax(absmax(x));
    let s = quant_scale(m);
    let q = x.iter().map(|&xi| quantize_one(xi, s)).collect();
    QuantizedToken { m, s, q }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: f32) -> f16 {
        f16::from_f32(v)
    }

    #[test]
    fn largest_magnitude_maps_to_127() {
        let t = activation_quantize(&[h(0.5), h(-2.0), h(1.0), h(0.0)]);
        assert_eq!(t.m, 2.0);
        assert_eq!(t.s, 63.5);
        assert_eq!(t.q, vec![32, -127, 64, 0]); // 31.75 -> 32, 63.5 -> 64 (tie to even)
    }

    #[test]
    fn zero_token_uses_the_floor() {
        let t = activation_quantize(&[h(0.0), h(-0.0)]);
        assert_eq!(t.m.to_bits(), 0x3727_C5AC);
        assert_eq!(t.q, vec![0, 0]);
    }

    #[test]
    fn nan_poisons_the_scale() {
        let t = activation_quantize(&[h(1.0), f16::NAN]);
        assert!(t.m.is_nan() && t.s.is_nan());
        assert_eq!(t.q, vec![0, 0]);
    }
}
