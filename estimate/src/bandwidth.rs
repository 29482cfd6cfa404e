//! Parameter bytes one token reads: per projection, per layer and for the whole model, split
//! into the ternary backbone (packed weights, and the descriptor that carries beta) and the
//! low-rank correction (A and B). Every byte count comes from golden/src/derived.rs on the
//! projection's layout on the core; this module only adds them up.

use std::ops::{Add, Mul};

use hgf_golden::{Layout, Packing};
use serde::Serialize;

use crate::cores::ProjectionRun;
use crate::models::ProjectionKind;

/// Bytes of the parts of one projection, or a sum of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ByteCounts {
    /// The packed ternary weight stream (docs/arithmetic.md §P: rows padded to whole column
    /// blocks, `d_out` to whole row groups).
    pub weight: u64,
    /// The projection's descriptor: its shape, token count, beta and g (binary32 words,
    /// docs/interfaces.md), sent with every token of generation.
    pub descriptor: u64,
    /// A and B, binary16; 0 for a ternary-only projection.
    pub factor: u64,
    /// The ternary backbone: `weight + descriptor`.
    pub ternary: u64,
    /// The low-rank correction: `factor`.
    pub lowrank: u64,
    /// Everything: `ternary + lowrank`.
    pub total: u64,
}

impl ByteCounts {
    /// The bytes one token of generation reads for one projection (its descriptor
    /// included), from golden/src/derived.rs. A ternary-only projection (rank 0) has no
    /// factor bytes.
    pub fn of(layout: &Layout) -> ByteCounts {
        let n = |v: usize| v as u64;
        ByteCounts {
            weight: n(layout.weight_bytes()),
            descriptor: n(layout.descriptor_bytes()),
            factor: n(layout.factor_bytes()),
            ternary: n(layout.ternary_bytes_per_token()),
            lowrank: n(layout.lowrank_bytes_per_token()),
            total: n(layout.bytes_per_token()),
        }
    }
}

impl Add for ByteCounts {
    type Output = ByteCounts;
    fn add(self, o: ByteCounts) -> ByteCounts {
        ByteCounts {
            weight: self.weight + o.weight,
            descriptor: self.descriptor + o.descriptor,
            factor: self.factor + o.factor,
            ternary: self.ternary + o.ternary,
            lowrank: self.lowrank + o.lowrank,
            total: self.total + o.total,
        }
    }
}

impl Mul<u64> for ByteCounts {
    type Output = ByteCounts;
    fn mul(self, n: u64) -> ByteCounts {
        ByteCounts {
            weight: self.weight * n,
            descriptor: self.descriptor * n,
            factor: self.factor * n,
            ternary: self.ternary * n,
            lowrank: self.lowrank * n,
            total: self.total * n,
        }
    }
}

/// The bytes of one projection of a layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjectionBytes {
    pub projection: ProjectionKind,
    pub d_in: usize,
    pub d_out: usize,
    /// 0 for a ternary-only projection.
    pub rank: usize,
    #[serde(flatten)]
    pub bytes: ByteCounts,
}

/// The bytes one token reads through a whole model in one packing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelBytes {
    pub packing: Packing,
    /// The projections of one layer.
    pub projections: Vec<ProjectionBytes>,
    /// One layer: the sum of its projections.
    pub per_layer: ByteCounts,
    pub layers: usize,
    /// All layers: the bytes per token, and the bytes the weights take in memory.
    pub per_token: ByteCounts,
    /// What the low-rank correction adds to the ternary backbone: `lowrank / ternary`.
    pub lowrank_overhead: f64,
    /// The low-rank correction's share of all bytes: `lowrank / total`.
    pub lowrank_share: f64,
}

/// Adds up the bytes of one layer's projections on the core over `layers` layers.
pub fn model_bytes(runs: &[ProjectionRun], layers: usize, packing: Packing) -> ModelBytes {
    let projections: Vec<ProjectionBytes> = runs
        .iter()
        .map(|run| ProjectionBytes {
            projection: run.spec.kind,
            d_in: run.spec.d_in,
            d_out: run.spec.d_out,
            rank: run.layout.rank,
            bytes: ByteCounts::of(&run.layout),
        })
        .collect();
    let per_layer = projections
        .iter()
        .fold(ByteCounts::default(), |sum, p| sum + p.bytes);
    let per_token = per_layer * layers as u64;
    let ratio = |num: u64, den: u64| {
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    };
    ModelBytes {
        packing,
        projections,
        per_layer,
        layers,
        lowrank_overhead: ratio(per_token.lowrank, per_token.ternary),
        lowrank_share: ratio(per_token.lowrank, per_token.total),
        per_token,
    }
}
