//! The one core a model runs on: every projection of the model is a run-time shape
//! ([`Shape`]) on the same engine, the core as built. A projection beyond the core's maxima
//! (`max_d_in`, `max_d_out`, `max_rank`, [`HgfConfig::check_shape`]) makes the model not
//! runnable on that core. Bandwidth and compute read every figure from the projections'
//! [`Layout`]s through golden/src/derived.rs and from the core's cycle model, so the
//! estimator never restates a packing or cycle rule.

use std::fmt;

use hgf_golden::{HgfConfig, Layout, ShapeError};
use serde::Serialize;

use crate::error::EstimateError;
use crate::models::{Model, ProjectionKind, ProjectionSpec};

/// One projection of a layer on the core: its shape laid out on the engine.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionRun {
    pub spec: ProjectionSpec,
    pub layout: Layout,
}

/// A projection that the core cannot run, and the first of its limits that the projection
/// exceeds (the same check as the core's descriptor, [`HgfConfig::check_shape`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProjectionBeyond {
    pub projection: ProjectionKind,
    pub d_in: usize,
    pub d_out: usize,
    /// 0 for a ternary-only projection.
    pub rank: usize,
    /// The core's config field that the projection exceeds (`max_d_in`, `max_d_out` or
    /// `max_rank`).
    pub field: String,
    /// The projection's size, and the core's limit.
    pub value: usize,
    pub limit: usize,
}

impl ProjectionBeyond {
    fn new(spec: &ProjectionSpec, error: &ShapeError) -> Self {
        let (field, value, limit) = match error {
            ShapeError::OutOfRange {
                field, value, max, ..
            } => (format!("max_{field}"), *value, *max),
            ShapeError::RankTooLarge { rank, max, .. } => ("max_rank".to_string(), *rank, *max),
        };
        let shape = spec.shape();
        ProjectionBeyond {
            projection: spec.kind,
            d_in: shape.d_in,
            d_out: shape.d_out,
            rank: shape.rank,
            field,
            value,
            limit,
        }
    }
}

impl fmt::Display for ProjectionBeyond {
    /// `down 1376x512 rank 0: d_in 1376 exceeds max_d_in 512`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = self.field.trim_start_matches("max_");
        write!(
            f,
            "{} {}x{} rank {}: {size} {} ",
            self.projection, self.d_in, self.d_out, self.rank, self.value
        )?;
        if self.value > self.limit {
            write!(f, "exceeds {} {}", self.field, self.limit)
        } else {
            write!(f, "is outside 1..={} ({})", self.limit, self.field)
        }
    }
}

/// One layer's projections on the engine `core`, in execution order; or, when some exceed
/// the core's maxima, [`EstimateError::NotRunnable`] naming every one of them.
pub fn projection_runs(
    model: &Model,
    core: &HgfConfig,
) -> Result<Vec<ProjectionRun>, EstimateError> {
    let beyond: Vec<ProjectionBeyond> = model
        .projections
        .iter()
        .filter_map(|spec| {
            core.check_shape(spec.shape())
                .err()
                .map(|e| ProjectionBeyond::new(spec, &e))
        })
        .collect();
    if !beyond.is_empty() {
        return Err(EstimateError::NotRunnable {
            model: model.name.clone(),
            core: core.engine_summary(),
            projections: beyond,
        });
    }
    Ok(model
        .projections
        .iter()
        .map(|spec| ProjectionRun {
            spec: spec.clone(),
            layout: core.layout(spec.shape()),
        })
        .collect())
}
