//! The low-rank FP16 path: `u = binary16(A x)`, `v = B u` (docs/arithmetic.md §L).
//!
//! The summation order decides the bits, so the hardware follows it exactly:
//! - `A x` (§L2, §L4): the `F` FP MAC lanes split each sum by input index: lane `l`
//!   accumulates the products of the indices `i = l, l + F, l + 2F, ...` in increasing order,
//!   starting from -0; then the `F` lane sums are combined by a pairwise tree,
//!   `(P0 + P1), (P2 + P3), ...`, level by level, until one value remains.
//! - `B u` (§L5): the lanes split the outputs instead, so each sum is one accumulator that
//!   adds its `rank` products in increasing order of `k`, starting from -0.

use half::f16;
use ndarray::ArrayView2;

use crate::fp::{add_f32, f32_to_f16, mul_f16_exact};

/// The start value of every FP32 accumulator (§L3). -0 is the identity of round-to-nearest
/// addition (`x + -0 == x` for every x, +0 included), so starting here gives the same bits as
/// starting from the first product, and a lane with no products holds the identity.
pub const SUM_START: f32 = -0.0;

/// The lane sums of §L2 for one dot product of `n` products, `product(i)` for `i < n`.
pub fn lane_sums(n: usize, lanes: usize, mut product: impl FnMut(usize) -> f32) -> Vec<f32> {
    assert!(lanes.is_power_of_two(), "fp_lanes is a power of two");
    let mut acc = vec![SUM_START; lanes];
    for i in 0..n {
        // `i % lanes` for a power of two, without the division the compiler cannot avoid
        // for a run-time divisor (it dominated the low-rank path's time).
        let lane = i & (lanes - 1);
        acc[lane] = add_f32(acc[lane], product(i));
    }
    acc
}

/// The pairwise tree of §L2 over the lane sums.
pub fn combine_lanes(mut sums: Vec<f32>) -> f32 {
    assert!(sums.len().is_power_of_two(), "fp_lanes is a power of two");
    while sums.len() > 1 {
        sums = sums.chunks(2).map(|p| add_f32(p[0], p[1])).collect();
    }
    sums[0]
}

/// `sum_i a_i * b_i` of binary16 vectors in FP32, in the order of §L2.
pub fn dot_f16(a: &[f16], b: &[f16], lanes: usize) -> f32 {
    assert_eq!(a.len(), b.len());
    combine_lanes(lane_sums(a.len(), lanes, |i| mul_f16_exact(a[i], b[i])))
}

/// `u_k = binary16(sum_i A_ki * x_i)` (§L4): the down projection, rounded once to binary16.
pub fn project_down(a: ArrayView2<'_, f16>, x: &[f16], lanes: usize) -> Vec<f16> {
    a.rows()
        .into_iter()
        .map(|row| {
            let row = row.to_vec();
            f32_to_f16(dot_f16(&row, x, lanes))
        })
        .collect()
}

/// `v_j = sum_k B_jk * u_k` in FP32 (§L5): the up projection, one sequential sum per output
/// (whatever the lane count), left in FP32 for the gate.
pub fn project_up(b: ArrayView2<'_, f16>, u: &[f16]) -> Vec<f32> {
    b.rows()
        .into_iter()
        .map(|row| {
            let row = row.to_vec();
            dot_f16(&row, u, 1)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_interleave_and_tree_pairs_neighbours() {
        // Products 1e8, 1, -1e8, 1 (n = 4). One lane: ((1e8 + 1) - 1e8) + 1 = 1 (1e8 + 1
        // rounds to 1e8). Two lanes: P0 = 1e8 - 1e8 = 0, P1 = 1 + 1 = 2, sum 2. Four lanes:
        // (1e8 + 1) + (-1e8 + 1) = 1e8 - 1e8 = 0.
        let p = [1e8f32, 1.0, -1e8, 1.0];
        let sum = |lanes| combine_lanes(lane_sums(4, lanes, |i| p[i]));
        assert_eq!(sum(1), 1.0);
        assert_eq!(sum(2), 2.0);
        assert_eq!(sum(4), 0.0);
    }

    #[test]
    fn up_projection_is_sequential_and_down_projection_uses_the_lanes() {
        // Products 65504^2, 1, -65504^2, 1: the big ones swallow a 1 only when they meet it
        // first (the ulp of 4.29e9 in binary32 is 512).
        let h = f16::from_f32;
        let big = h(65504.0);
        let row = [big, h(1.0), -big, h(1.0)];
        let other = [big, h(1.0), big, h(1.0)];
        let b = ndarray::Array2::from_shape_vec((1, 4), row.to_vec()).unwrap();
        assert_eq!(project_up(b.view(), &other), vec![1.0]);
        assert_eq!(project_down(b.view(), &other, 1), vec![h(1.0)]);
        assert_eq!(project_down(b.view(), &other, 2), vec![h(2.0)]);
    }

    #[test]
    fn sum_of_negative_zeros_is_negative_zero() {
        let s = combine_lanes(lane_sums(3, 4, |_| -0.0));
        assert_eq!(s.to_bits(), (-0.0f32).to_bits());
        let s = combine_lanes(lane_sums(3, 4, |i| if i == 1 { 0.0 } else { -0.0 }));
        assert_eq!(s.to_bits(), 0.0f32.to_bits());
    }
}
