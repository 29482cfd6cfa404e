//! Cycles the core spends per token. The core runs a model's projections one after another,
//! so a token costs the sum of its projections' cycles over all layers.
//!
//! [`projection_cycles`] is the only place the estimator takes a cycle count: the core's
//! cycle model (`hgf_hdl::schedule::expected_cycles_per_token`), the cycles per token that
//! co-simulation measures when no stream stalls (sim/tests/schedule.rs checks the equality).

use serde::Serialize;

use crate::cores::ProjectionCore;
use crate::models::ProjectionKind;

/// Cycles per token of one projection on its core config, as the core is built: the cycle
/// model's steady cycles per token. A projection without the low-rank correction runs on the
/// same core with rank 1 (`cores::projection_cores`) and a zero correction: the core has no
/// bypass of its low-rank flow, which then costs cycles only where it is the slower flow.
pub fn projection_cycles(core: &ProjectionCore) -> u64 {
    hgf_hdl::schedule::expected_cycles_per_token(&core.config)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cores::projection_cores;
    use crate::models::Model;
    use hgf_golden::{HgfConfig, Packing};
    use hgf_hdl::schedule::{expected_cycles, LimitedBy};

    /// docs/estimate.md: a projection without the correction runs the rank-1 low-rank flow
    /// beside its ternary flow; for the built-in models that flow never sets the cycles.
    #[test]
    fn the_rank_1_flow_of_ternary_only_projections_never_binds() {
        for model in Model::presets() {
            for packing in Packing::ALL {
                let cores = projection_cores(&model, &HgfConfig::default(), packing).unwrap();
                for core in cores.iter().filter(|c| !c.spec.is_hybrid()) {
                    let e = expected_cycles(&core.config);
                    assert_ne!(e.limited_by, LimitedBy::LowRankFlow, "{}", model.name);
                    assert_eq!(projection_cycles(core), e.steady);
                }
            }
        }
    }
}
