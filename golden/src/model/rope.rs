//! Rotary position embedding: the tables of docs/model.md §M4 and their application to a
//! head, interleaved pairs `(2i, 2i+1)`.

use half::f16;

use super::math::{exp32, ln32, sincos32};
use crate::fp::{add_f32, div_f32, f16_to_f32, mul_f32};

/// `sin` and `cos` of every position and pair, computed once per model (§M4).
#[derive(Clone, Debug, PartialEq)]
pub struct RopeTable {
    pairs: usize,
    /// `[p * pairs + i]`
    sin: Vec<f32>,
    cos: Vec<f32>,
}

impl RopeTable {
    /// The table for positions `0 .. context_len` of heads of `head_dim` values (even).
    pub fn new(head_dim: usize, context_len: usize, rope_base: f32) -> Self {
        assert!(head_dim % 2 == 0, "head_dim is even");
        let pairs = head_dim / 2;
        let lnb = ln32(rope_base);
        let inv_freq: Vec<f32> = (0..pairs)
            .map(|i| {
                let a = div_f32((2 * i) as f32, head_dim as f32);
                exp32(-mul_f32(a, lnb))
            })
            .collect();
        let mut sin = Vec::with_capacity(context_len * pairs);
        let mut cos = Vec::with_capacity(context_len * pairs);
        for p in 0..context_len {
            for &f in &inv_freq {
                let (s, c) = sincos32(mul_f32(p as f32, f));
                sin.push(s);
                cos.push(c);
            }
        }
        RopeTable { pairs, sin, cos }
    }

    /// `(sin, cos)` of position `p`, pair `i`.
    pub fn get(&self, p: usize, i: usize) -> (f32, f32) {
        let at = p * self.pairs + i;
        (self.sin[at], self.cos[at])
    }

    /// RoPE at position `p` of one head of binary16 values (§M4), in binary32.
    pub fn rotate(&self, p: usize, head: &[f16]) -> Vec<f32> {
        assert_eq!(head.len(), 2 * self.pairs, "a head has head_dim values");
        let mut out = Vec::with_capacity(head.len());
        for (i, pair) in head.chunks_exact(2).enumerate() {
            let (s, c) = self.get(p, i);
            let x0 = f16_to_f32(pair[0]);
            let x1 = f16_to_f32(pair[1]);
            out.push(add_f32(mul_f32(x0, c), -mul_f32(x1, s)));
            out.push(add_f32(mul_f32(x0, s), mul_f32(x1, c)));
        }
        out
    }
}
