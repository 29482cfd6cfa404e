//! Cycles the core spends per token. The core runs a model's projections one after another,
//! so a token costs the sum of its projections' cycles over all layers.
//!
//! [`projection_cycles`] is the only place the estimator takes a cycle count: the core's
//! cycle model (`hgf_hdl::schedule::expected_cycles`), the cycles that co-simulation
//! measures when no stream stalls (sim/tests/schedule.rs checks the equality).

use hgf_golden::HgfConfig;
use serde::Serialize;

use crate::cores::ProjectionRun;
use crate::models::ProjectionKind;

/// Cycles of one token of generation on one projection: the cycle model's first token of a
/// run (`ExpectedCycles::first_token`: from the previous projection's last output to this
/// one's, its descriptor included), since generation runs every projection once per token,
/// each with its own descriptor. A ternary-only projection (rank 0) bypasses the low-rank
/// flow and costs its ternary flow's cycles alone.
pub fn projection_cycles(core: &HgfConfig, run: &ProjectionRun) -> u64 {
    hgf_hdl::schedule::expected_cycles(core, run.layout.shape()).first_token
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

/// Adds up the cycles of one layer's projections on `core` over `layers` layers.
pub fn model_cycles(core: &HgfConfig, runs: &[ProjectionRun], layers: usize) -> ModelCycles {
    let projections: Vec<ProjectionCycles> = runs
        .iter()
        .map(|run| ProjectionCycles {
            projection: run.spec.kind,
            cycles: projection_cycles(core, run),
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
    use crate::cores::projection_runs;
    use crate::models::Model;
    use hgf_golden::Shape;
    use hgf_hdl::schedule::{expected_cycles, LimitedBy, DESCRIPTOR_CYCLES};

    /// A ternary-only projection is costed as the rank-0 shape it is, on the core as built:
    /// no low-rank flow can set its cycles, and a token costs its descriptor too.
    #[test]
    fn ternary_only_projections_cost_their_rank_0_shape_with_the_descriptor() {
        let core = HgfConfig::default();
        let model = Model::preset("hgf-25m").unwrap();
        let runs = projection_runs(&model, &core).unwrap();
        let ffn: Vec<&ProjectionRun> = runs.iter().filter(|r| !r.spec.is_hybrid()).collect();
        assert_eq!(ffn.len(), 3);
        for run in ffn {
            let shape = run.layout.shape();
            assert_eq!(shape.rank, 0);
            let e = expected_cycles(&core, shape);
            assert_ne!(e.limited_by, LimitedBy::LowRankFlow, "{shape}");
            assert_eq!(projection_cycles(&core, run), e.first_token);
            assert_eq!(e.first_token, e.steady + DESCRIPTOR_CYCLES as u64);
            // The same projection with a rank-1 correction is never faster.
            let hybrid = Shape::new(shape.d_in, shape.d_out, 1);
            assert!(expected_cycles(&core, hybrid).first_token >= e.first_token);
        }
    }
}
