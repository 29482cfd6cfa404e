//! The gate unit: ternary output plus gated correction, rounded to binary16 (§G).

use half::f16;

use crate::fp::{add_f32, f32_to_f16, mul_f32};

/// `y = binary16(fl32(yt + fl32(g * v)))` (§G1): two FP32 roundings, not fused, then one
/// rounding to binary16.
pub fn gate(yt: f32, g: f32, v: f32) -> f16 {
    f32_to_f16(add_f32(yt, mul_f32(g, v)))
}

/// The output of a ternary-only projection (`rank = 0`, §G2): `y = binary16(yt)`, whatever
/// g is. The same as [`gate`] with `g = +0` and `v = -0`, which is how the hardware computes
/// it: `fl32(+0 · -0) = -0`, and `yt + (-0) = yt` for every `yt` (§L3).
pub fn ternary_only(yt: f32) -> f16 {
    f32_to_f16(yt)
}
