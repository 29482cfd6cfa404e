//! The floating-point primitives of the contract (docs/arithmetic.md §F).
//!
//! Each is one IEEE 754 operation with round-to-nearest-even, subnormals kept, overflow to
//! infinity, and every NaN result replaced by the canonical NaN (§F1). Native `f32`
//! arithmetic and the `half` crate provide the IEEE operation; this module adds the canonical
//! NaN and the operations IEEE does not name (the exact binary16 product, the saturating
//! int8 conversion). The hardware implements exactly these, one block per primitive.

use half::f16;

/// The one NaN encoding of binary32 results (§F1): quiet, positive, zero payload.
pub const CANONICAL_NAN_F32: u32 = 0x7FC0_0000;
/// The one NaN encoding of binary16 results (§F1): quiet, positive, zero payload.
pub const CANONICAL_NAN_F16: u16 = 0x7E00;

/// Replaces any NaN by the canonical binary32 NaN.
#[inline]
pub fn canon_f32(x: f32) -> f32 {
    if x.is_nan() {
        f32::from_bits(CANONICAL_NAN_F32)
    } else {
        x
    }
}

/// Replaces any NaN by the canonical binary16 NaN.
#[inline]
pub fn canon_f16(x: f16) -> f16 {
    if x.is_nan() {
        f16::from_bits(CANONICAL_NAN_F16)
    } else {
        x
    }
}

/// binary16 -> binary32 (§F2). Always exact; a NaN becomes the canonical NaN.
#[inline]
pub fn f16_to_f32(x: f16) -> f32 {
    canon_f32(x.to_f32())
}

/// binary32 -> binary16 with round-to-nearest-even (§F2): subnormal results kept, magnitudes
/// at or above 65520 become infinity, a NaN becomes the canonical NaN.
#[inline]
pub fn f32_to_f16(x: f32) -> f16 {
    canon_f16(f16::from_f32(x))
}

/// binary32 addition, round-to-nearest-even (§F3).
#[inline]
pub fn add_f32(a: f32, b: f32) -> f32 {
    canon_f32(a + b)
}

/// binary32 multiplication, round-to-nearest-even (§F3).
#[inline]
pub fn mul_f32(a: f32, b: f32) -> f32 {
    canon_f32(a * b)
}

/// binary32 division, round-to-nearest-even (§F3).
#[inline]
pub fn div_f32(a: f32, b: f32) -> f32 {
    canon_f32(a / b)
}

/// Exact product of two binary16 values as binary32 (§F4).
///
/// Every such product is representable: the significands multiply to at most 22 bits (24
/// available) and the exponents to 2^-48 ..= 2^32 (binary32 normals cover 2^-126 ..= 2^127), so
/// the binary32 multiplication below never rounds. `0 * inf` is the canonical NaN.
#[inline]
pub fn mul_f16_exact(a: f16, b: f16) -> f32 {
    mul_f32(f16_to_f32(a), f16_to_f32(b))
}

/// binary32 -> int8 (§F5): round to nearest, ties to even, then saturate to [-128, 127].
/// NaN gives 0.
#[inline]
pub fn f32_to_i8(x: f32) -> i8 {
    // `as` saturates and maps NaN to 0, which is what §F5 states.
    x.round_ties_even() as i8
}

/// int32 -> binary32 with round-to-nearest-even (§F6). Exact while |x| <= 2^24.
#[inline]
pub fn i32_to_f32(x: i32) -> f32 {
    x as f32
}

/// |x| of a binary16 value: the sign bit cleared. Exact, NaN included.
#[inline]
pub fn abs_f16(x: f16) -> f16 {
    f16::from_bits(x.to_bits() & 0x7FFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nans_are_canonical() {
        let weird = f32::from_bits(0xFFC1_2345);
        assert_eq!(add_f32(weird, 1.0).to_bits(), CANONICAL_NAN_F32);
        assert_eq!(mul_f32(0.0, f32::INFINITY).to_bits(), CANONICAL_NAN_F32);
        assert_eq!(div_f32(0.0, 0.0).to_bits(), CANONICAL_NAN_F32);
        assert_eq!(f32_to_f16(weird).to_bits(), CANONICAL_NAN_F16);
        assert_eq!(
            f16_to_f32(f16::from_bits(0xFE01)).to_bits(),
            CANONICAL_NAN_F32
        );
    }

    #[test]
    fn int8_conversion_rounds_ties_to_even_and_saturates() {
        assert_eq!(f32_to_i8(2.5), 2);
        assert_eq!(f32_to_i8(3.5), 4);
        assert_eq!(f32_to_i8(-2.5), -2);
        assert_eq!(f32_to_i8(127.49), 127);
        assert_eq!(f32_to_i8(127.5), 127);
        assert_eq!(f32_to_i8(-128.5), -128);
        assert_eq!(f32_to_i8(-1e30), -128);
        assert_eq!(f32_to_i8(f32::INFINITY), 127);
        assert_eq!(f32_to_i8(f32::NAN), 0);
    }
}
