//! Cycles the core spends per token. The core runs a model's projections one after another,
//! so a token costs the sum of its projections' cycles over all layers.
//!
//! [`projection_cycles`] is the only place the estimator takes a cycle count from
//! golden/src/derived.rs. Today that is the ideal count (`ideal_cycles`: the busier of the
//! two flows, no pipeline tails); when derived.rs gains the cycle formula that co-simulation
//! measures, only this function changes.

use serde::Serialize;

use crate::cores::ProjectionCore;
use crate::models::ProjectionKind;

/// Cycles per token of one projection on its core config: `ideal_cycles` for a hybrid
/// projection; for one without the low-rank correction, the ternary array's cycles alone.
pub fn projection_cycles(core: &ProjectionCore) -> u64 {
    let cfg = &core.config;
    let cycles = if core.spec.is_hybrid() {
        cfg.ideal_cycles()
    } else {
        cfg.ternary_cycles()
    };
    cycles as u64
}

/// The cycles of one projection of a layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProjectionCycles {
    pub projection: ProjectionKind,
    pub cycles: u64,
}

/// The cycles of a whole model per token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModelCycles {
    /// The projections of one layer.
    pub projections: Vec<ProjectionCycles>,
    /// One layer: the sum of its projections (they run one after another).
    pub per_layer: u64,
    pub layers: usize,
    /// All layers.
    pub per_token: u64,
}

/// Adds up the cycles of one layer's projection cores over `layers` layers.
pub fn model_cycles(cores: &[ProjectionCore], layers: usize) -> ModelCycles {
    let projections: Vec<ProjectionCycles> = cores
        .iter()
        .map(|core| ProjectionCycles {
            projection: core.spec.kind,
            cycles: projection_cycles(core),
        })
        .collect();
    let per_layer = projections.iter().map(|p| p.cycles).sum::<u64>();
    ModelCycles {
        projections,
        per_layer,
        layers,
        per_token: per_layer * layers as u64,
    }
}
