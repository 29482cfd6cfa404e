//! Causal attention over the KV cache: standard (grouped-query) and differential
//! (docs/model.md §M6).

use half::f16;

use super::config::{AttentionKind, ModelConfig};
use super::math::{dot32, exp32, rmsnorm, rsqrt32, seqsum};
use super::params::DiffAttnParams;
use crate::fp::{add_f32, div_f32, f16_to_f32, f32_to_f16, mul_f32};

/// The keys (after RoPE) and values of one layer, binary16, one row per position (§M5).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerCache {
    k_width: usize,
    v_width: usize,
    k: Vec<f16>,
    v: Vec<f16>,
}

impl LayerCache {
    pub fn new(k_width: usize, v_width: usize) -> Self {
        LayerCache {
            k_width,
            v_width,
            k: Vec::new(),
            v: Vec::new(),
        }
    }

    /// Positions held.
    pub fn len(&self) -> usize {
        self.k.len().checked_div(self.k_width).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.k.is_empty()
    }

    pub fn push(&mut self, k: &[f16], v: &[f16]) {
        assert_eq!((k.len(), v.len()), (self.k_width, self.v_width));
        self.k.extend_from_slice(k);
        self.v.extend_from_slice(v);
    }

    /// Key head `head` (of `width` values) at position `t`, as binary32.
    fn key(&self, t: usize, head: usize, width: usize) -> Vec<f32> {
        let at = t * self.k_width + head * width;
        self.k[at..at + width]
            .iter()
            .map(|&x| f16_to_f32(x))
            .collect()
    }

    fn value(&self, t: usize, index: usize) -> f32 {
        f16_to_f32(self.v[t * self.v_width + index])
    }
}

/// `scale = fl32(1 / fl32(sqrt(head_dim)))` (§M6).
pub fn score_scale(head_dim: usize) -> f32 {
    rsqrt32(head_dim as f32)
}

/// Softmax of §M6: max by strict comparison from `s_0`, `exp32` of the differences, a
/// sequential sum, one division per weight.
pub fn softmax(scores: &[f32]) -> Vec<f32> {
    let mx = scores[1..]
        .iter()
        .fold(scores[0], |m, &s| if s > m { s } else { m });
    let e: Vec<f32> = scores.iter().map(|&s| exp32(add_f32(s, -mx))).collect();
    let sum = seqsum(e.iter().copied());
    e.iter().map(|&x| div_f32(x, sum)).collect()
}

/// Attention weights of query head `q` against key head `kh` of every cached position.
fn weights(cache: &LayerCache, q: &[f32], kh: usize, scale: f32) -> Vec<f32> {
    let scores: Vec<f32> = (0..cache.len())
        .map(|t| mul_f32(dot32(q, &cache.key(t, kh, q.len())), scale))
        .collect();
    softmax(&scores)
}

/// `out_i = seqsum_t fl32(w_t * v_{t, offset + i})` for `i < width`.
fn weighted_values(cache: &LayerCache, w: &[f32], offset: usize, width: usize) -> Vec<f32> {
    (0..width)
        .map(|i| {
            seqsum(
                w.iter()
                    .enumerate()
                    .map(|(t, &wt)| mul_f32(wt, cache.value(t, offset + i))),
            )
        })
        .collect()
}

/// The context vector of one token (the input of the O projection), binary16. `q` holds the
/// query heads after RoPE (binary32); the cache holds this token's keys and values already.
pub fn attend(
    cfg: &ModelConfig,
    cache: &LayerCache,
    q: &[f32],
    diff: Option<&DiffAttnParams>,
) -> Vec<f16> {
    let d = cfg.head_dim;
    let g = cfg.group_size();
    let scale = score_scale(d);
    let head_q = |h: usize| &q[h * d..(h + 1) * d];
    match cfg.attention {
        AttentionKind::Standard => (0..cfg.n_heads)
            .flat_map(|h| {
                let j = h / g;
                let w = weights(cache, head_q(h), j, scale);
                weighted_values(cache, &w, j * d, d)
            })
            .map(f32_to_f16)
            .collect(),
        AttentionKind::Differential => {
            let diff = diff.expect("differential attention has its parameters");
            let one_minus = add_f32(1.0, -diff.lambda_init);
            (0..cfg.n_heads)
                .flat_map(|h| {
                    let j = h / g;
                    let w1 = weights(cache, head_q(2 * h), 2 * j, scale);
                    let w2 = weights(cache, head_q(2 * h + 1), 2 * j + 1, scale);
                    let o1 = weighted_values(cache, &w1, j * 2 * d, 2 * d);
                    let o2 = weighted_values(cache, &w2, j * 2 * d, 2 * d);
                    let out: Vec<f32> = o1
                        .iter()
                        .zip(&o2)
                        .map(|(&a, &b)| add_f32(a, -mul_f32(diff.lambda, b)))
                        .collect();
                    rmsnorm(&out, &diff.subln, cfg.norm_eps)
                        .into_iter()
                        .map(move |y| mul_f32(y, one_minus))
                })
                .map(f32_to_f16)
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_of_equal_scores_is_uniform_and_of_one_score_is_one() {
        assert_eq!(softmax(&[0.3; 4]), vec![0.25; 4]);
        assert_eq!(softmax(&[-7.0]), vec![1.0]);
        let w = softmax(&[0.0, 100.0]);
        assert_eq!(w[1], 1.0);
        assert!(w[0] > 0.0 && w[0] < 1e-40);
    }

    #[test]
    fn the_cache_grows_one_position_per_push() {
        let mut c = LayerCache::new(2, 3);
        assert!(c.is_empty());
        c.push(&[f16::ONE; 2], &[f16::ZERO; 3]);
        c.push(&[f16::ONE; 2], &[f16::ZERO; 3]);
        assert_eq!(c.len(), 2);
    }
}
