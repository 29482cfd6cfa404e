//! The core config each projection of a model runs on: the user's core (array, FP lanes,
//! target) adapted to the projection's shape and to a packing by
//! [`HgfConfig::adapted_to`] (golden/src/config.rs). Bandwidth and compute read every figure
//! from these configs through golden/src/derived.rs, so the estimator never restates a
//! packing or cycle rule.

use hgf_golden::{HgfConfig, Packing};
use serde::Serialize;

use crate::error::EstimateError;
use crate::models::{Model, ProjectionSpec};

/// Rank written into the config of a projection without the low-rank correction. A config
/// needs a rank of at least 1: the core runs such a projection with a zero correction of
/// rank 1 (its cycles are that config's, `compute::projection_cycles`); its bytes are the
/// ternary ones alone (`ternary_bytes_per_token`), which do not depend on the rank.
const RANK_OF_TERNARY_ONLY: usize = 1;

/// One projection of a layer and the core config it runs on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjectionCore {
    pub spec: ProjectionSpec,
    pub config: HgfConfig,
}

/// The core configs of one layer's projections, in execution order, for `packing`.
pub fn projection_cores(
    model: &Model,
    core: &HgfConfig,
    packing: Packing,
) -> Result<Vec<ProjectionCore>, EstimateError> {
    model
        .projections
        .iter()
        .map(|spec| {
            let rank = spec.rank.unwrap_or(RANK_OF_TERNARY_ONLY);
            let config = core
                .adapted_to(spec.d_in, spec.d_out, rank, packing)
                .map_err(|error| EstimateError::Core {
                    model: model.name.clone(),
                    projection: spec.kind.name(),
                    d_in: spec.d_in,
                    d_out: spec.d_out,
                    packing,
                    error,
                })?;
            Ok(ProjectionCore {
                spec: spec.clone(),
                config,
            })
        })
        .collect()
}
