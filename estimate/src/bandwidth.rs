//! Parameter bytes one token reads: per projection, per layer and for the whole model, split
//! into the ternary backbone (packed weights and beta) and the low-rank correction (A, B and
//! g). Every byte count comes from golden/src/derived.rs on the projection's core config;
//! this module only adds them up.

use std::ops::{Add, Mul};

use hgf_golden::Packing;
use serde::Serialize;

use crate::cores::ProjectionCore;
use crate::models::ProjectionKind;

/// Bytes of the parts of one projection, or a sum of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ByteCounts {
    /// The packed ternary weight stream (docs/arithmetic.md §P: rows padded to whole column
    /// blocks).
    pub weight: u64,
    /// beta, binary32.
    pub beta: u64,
    /// A and B, binary16.
    pub factor: u64,
    /// g, binary32.
    pub gate: u64,
    /// The ternary backbone: `weight + beta`.
    pub ternary: u64,
    /// The low-rank correction: `factor + gate`.
    pub lowrank: u64,
    /// Everything: `ternary + lowrank`.
    pub total: u64,
}

impl ByteCounts {
    /// The bytes one token reads for one projection, from golden/src/derived.rs. A
    /// projection without the low-rank correction reads only its ternary backbone.
    pub fn of(core: &ProjectionCore) -> ByteCounts {
        let cfg = &core.config;
        let ternary = ByteCounts {
            weight: cfg.weight_bytes() as u64,
            beta: cfg.beta_bytes() as u64,
            ternary: cfg.ternary_bytes_per_token() as u64,
            total: cfg.ternary_bytes_per_token() as u64,
            ..ByteCounts::default()
        };
        if !core.spec.is_hybrid() {
            return ternary;
        }
        ByteCounts {
            factor: cfg.factor_bytes() as u64,
            gate: cfg.gate_bytes() as u64,
            lowrank: cfg.lowrank_bytes_per_token() as u64,
            total: cfg.bytes_per_token() as u64,
            ..ternary
        }
    }
}

impl Add for ByteCounts {
    type Output = ByteCounts;
    fn add(self, o: ByteCounts) -> ByteCounts {
        ByteCounts {
            weight: self.weight + o.weight,
            beta: self.beta + o.beta,
            factor: self.factor + o.factor,
            gate: self.gate + o.gate,
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
            beta: self.beta * n,
            factor: self.factor * n,
            gate: self.gate * n,
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
    pub rank: Option<usize>,
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

/// Adds up the bytes of one layer's projection cores over `layers` layers.
pub fn model_bytes(cores: &[ProjectionCore], layers: usize, packing: Packing) -> ModelBytes {
    let projections: Vec<ProjectionBytes> = cores
        .iter()
        .map(|core| ProjectionBytes {
            projection: core.spec.kind,
            d_in: core.spec.d_in,
            d_out: core.spec.d_out,
            rank: core.spec.rank,
            bytes: ByteCounts::of(core),
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
