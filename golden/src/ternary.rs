//! The ternary path: exact integer accumulation and dequantization (docs/arithmetic.md §T).

use ndarray::ArrayView2;

use crate::fp::{div_f32, i32_to_f32, mul_f32};

/// `acc_j = sum_i T_ji * q_i` for every row j, exact (§T1, §T2). The array adds or subtracts
/// each q_i; the order does not matter because integer addition is exact at the width
/// `HgfConfig::acc_bits`.
pub fn ternary_accumulate(t: ArrayView2<'_, i8>, q: &[i8]) -> Vec<i32> {
    assert_eq!(t.ncols(), q.len(), "T has d_in columns");
    t.rows()
        .into_iter()
        .map(|row| match row.as_slice() {
            // A contiguous row as a slice: ndarray's general iterator is about 40 times
            // slower here, which made it the golden transformer's bottleneck.
            Some(row) => trit_dot(row.iter(), q),
            None => trit_dot(row.iter(), q),
        })
        .collect()
}

/// `sum_i T_i * q_i` of one row: add, subtract or skip.
fn trit_dot<'a>(row: impl Iterator<Item = &'a i8>, q: &[i8]) -> i32 {
    row.zip(q)
        .map(|(&w, &qi)| match w {
            1 => i32::from(qi),
            -1 => -i32::from(qi),
            _ => 0,
        })
        .sum()
}

/// The per-token dequantization factor `k = fl32(beta / s)` (§T3): one division per token
/// instead of one per output.
pub fn dequant_factor(beta: f32, s: f32) -> f32 {
    div_f32(beta, s)
}

/// `yt_j = fl32(fl32(acc_j) * k)` (§T3). `fl32(acc_j)` is exact because |acc_j| <= 2^24.
pub fn dequantize(acc: i32, k: f32) -> f32 {
    mul_f32(i32_to_f32(acc), k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn adds_subtracts_and_skips() {
        let t = array![[1i8, -1, 0], [-1, -1, -1]];
        assert_eq!(
            ternary_accumulate(t.view(), &[-128, 127, 5]),
            vec![-255, -4]
        );
    }
}
