//! The gate unit: ternary output plus gated correction, rounded to binary16 (§G).

use half::f16;

use crate::fp::{add_f32, f32_to_f16, mul_f32};

/// `y = binary16(fl32(yt + fl32(g * v)))` (§G1): two FP32 roundings, not fused, then one
/// rounding to binary16.
pub fn gate(yt: f32, g: f32, v: f32) -> f16 {
    f32_to_f16(add_f32(yt, mul_f32(g, v)))
}
