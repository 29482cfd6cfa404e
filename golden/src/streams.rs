//! The beats of the core's input streams (docs/interfaces.md).
//!
//! Each projection starts with a descriptor on the scalar stream (its shape, how many tokens
//! follow, beta and g); then, for every token, the core reads the activations, the ternary
//! weight stream and the low-rank factors (it keeps no weights between tokens). These
//! functions give the exact beat sequences, so the co-simulation driver, the estimator and
//! any host software agree with the hardware on the order.

use half::f16;
use ndarray::ArrayView2;

use crate::packing::{pack_matrix, PackError};
use crate::shape::Layout;
use crate::weights::HgfWeights;

/// Outputs each FP lane interleaves in the up projection (docs/interfaces.md, factor stream):
/// lane `l` works on `V_INTERLEAVE` outputs at once so that consecutive cycles never add
/// into the same accumulator. The hardware requires its accumulate loop latency to be at most
/// this.
pub const V_INTERLEAVE: usize = 8;

impl Layout {
    /// Beats of the activation stream per token: one binary16 value each.
    pub fn x_beats(&self) -> usize {
        self.d_in
    }

    /// Beats of the weight stream per token: one column block of `array_rows` rows each.
    pub fn weight_beats(&self) -> usize {
        self.column_blocks() * self.row_groups()
    }

    /// Bytes per weight beat.
    pub fn weight_beat_bytes(&self) -> usize {
        self.array_rows * self.block_bytes()
    }

    /// Down-projection steps: groups of `fp_lanes` consecutive inputs.
    pub fn u_steps(&self) -> usize {
        self.d_in.div_ceil(self.fp_lanes)
    }

    /// Up-projection blocks: groups of `fp_lanes * V_INTERLEAVE` consecutive outputs.
    pub fn v_blocks(&self) -> usize {
        self.d_out.div_ceil(self.fp_lanes * V_INTERLEAVE)
    }

    /// Beats of the factor stream per token: A, then B, `fp_lanes` binary16 values each;
    /// none for a ternary-only projection (`rank = 0`).
    pub fn factor_beats(&self) -> usize {
        self.u_steps() * self.rank + self.v_blocks() * self.rank * V_INTERLEAVE
    }
}

/// Beats of a projection's descriptor on the scalar stream.
pub const DESCRIPTOR_BEATS: usize = 6;

/// The descriptor of a run of `tokens` tokens of one projection, as binary32 words in the
/// order the core takes them (docs/interfaces.md): `d_in`, `d_out`, `rank`, `tokens` (each an
/// unsigned integer), then beta and g (binary32 bit patterns). The shape is the weights'.
pub fn descriptor_beats(w: &HgfWeights, tokens: u32) -> [u32; DESCRIPTOR_BEATS] {
    let (d_in, d_out, rank) = w.shape();
    let word = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    [
        word(d_in),
        word(d_out),
        word(rank),
        tokens,
        w.beta.to_bits(),
        w.gate.to_bits(),
    ]
}

/// The weight stream of §P3 cut into beats of `weight_beat_bytes` bytes.
pub fn weight_beats(layout: &Layout, w: &HgfWeights) -> Result<Vec<Vec<u8>>, PackError> {
    let stream = pack_matrix(w.t.view(), layout)?;
    Ok(stream
        .chunks(layout.weight_beat_bytes())
        .map(<[u8]>::to_vec)
        .collect())
}

/// The factor stream: `fp_lanes` binary16 values per beat, zero past the matrix edges.
///
/// 1. A, for each step `t` and each `k < rank`: lane `l` carries `A[k][t·F + l]`.
/// 2. B, for each block `b`, each `k < rank` and each `m < V_INTERLEAVE`: lane `l` carries
///    `B[(b·V_INTERLEAVE + m)·F + l][k]`.
pub fn factor_beats(layout: &Layout, w: &HgfWeights) -> Vec<Vec<f16>> {
    let lanes = layout.fp_lanes;
    let at = |m: ArrayView2<'_, f16>, r: usize, c: usize| {
        if r < m.nrows() && c < m.ncols() {
            m[[r, c]]
        } else {
            f16::ZERO
        }
    };
    let mut beats = Vec::with_capacity(layout.factor_beats());
    for t in 0..layout.u_steps() {
        for k in 0..layout.rank {
            beats.push(
                (0..lanes)
                    .map(|l| at(w.a.view(), k, t * lanes + l))
                    .collect(),
            );
        }
    }
    for b in 0..layout.v_blocks() {
        for k in 0..layout.rank {
            for m in 0..V_INTERLEAVE {
                let row = (b * V_INTERLEAVE + m) * lanes;
                beats.push((0..lanes).map(|l| at(w.b.view(), row + l, k)).collect());
            }
        }
    }
    beats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HgfConfig;
    use crate::shape::Shape;

    #[test]
    fn beat_counts_agree_with_the_streams() {
        for preset in crate::config::PRESETS {
            let cfg = HgfConfig::preset(preset).unwrap();
            for shape in [cfg.max_shape(), Shape::new(13, 7, 0), Shape::new(33, 9, 3)] {
                let p = cfg.layout(shape);
                let w = HgfWeights::random(shape, 1);
                let wb = weight_beats(&p, &w).unwrap();
                assert_eq!(wb.len(), p.weight_beats());
                assert!(wb.iter().all(|b| b.len() == p.weight_beat_bytes()));
                let fb = factor_beats(&p, &w);
                assert_eq!(fb.len(), p.factor_beats());
                assert!(fb.iter().all(|b| b.len() == cfg.fp_lanes));
            }
        }
    }

    #[test]
    fn factor_beats_place_every_entry_once() {
        let cfg = HgfConfig::default();
        assert_eq!(cfg.fp_lanes, 4);
        let p = cfg.layout(Shape::new(10, 20, 3));
        let mut w = HgfWeights::random(p.shape(), 2);
        // Distinct values: A entries 1.., B entries 1000..
        w.a = ndarray::Array2::from_shape_fn((3, 10), |(k, i)| {
            f16::from_f32((1 + k * 10 + i) as f32)
        });
        w.b = ndarray::Array2::from_shape_fn((20, 3), |(j, k)| {
            f16::from_f32((1000 + j * 3 + k) as f32)
        });
        let beats = factor_beats(&p, &w);
        let mut values: Vec<f32> = beats
            .iter()
            .flatten()
            .map(|v| v.to_f32())
            .filter(|&v| v != 0.0)
            .collect();
        values.sort_by(f32::total_cmp);
        assert_eq!(values.len(), 30 + 60);
        values.dedup();
        assert_eq!(values.len(), 90);
        // Beat 1 is step 0, k = 1: A[1][0..4].
        assert_eq!(beats[1][3].to_f32(), (1 + 10 + 3) as f32);
        // The first B beat: block 0, k = 0, m = 0: B[0..4][0].
        let first_b = p.u_steps() * p.rank;
        assert_eq!(beats[first_b][2].to_f32(), (1000 + 2 * 3) as f32);
        // m = 1: rows 4..8.
        assert_eq!(beats[first_b + 1][0].to_f32(), (1000 + 4 * 3) as f32);
    }
}
