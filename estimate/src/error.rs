//! Why an estimate could not be made. Every message names the bad field, option or file and
//! says what is allowed.

use std::path::PathBuf;

use thiserror::Error;

use crate::cores::ProjectionBeyond;

/// Why a model, board, override, estimate or plot was rejected.
#[derive(Debug, Error)]
pub enum EstimateError {
    /// The I/O error is part of the message rather than a `#[source]`, so that printing the
    /// error alone or with its chain (as `hgf` does) shows it exactly once.
    #[error("cannot read model file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}{message}", path.as_ref().map(|p| format!("model file {}: ", p.display())).unwrap_or_default())]
    Syntax {
        path: Option<PathBuf>,
        message: String,
    },
    #[error("model field `{field}` is missing; {required}")]
    Missing { field: String, required: String },
    #[error("model field `{field}` = {value} is out of range; allowed: {allowed}")]
    OutOfRange {
        field: String,
        value: String,
        allowed: String,
    },
    /// An error in a model file. The message includes the inner error, so it is not also
    /// reported as the source (that would print it twice).
    #[error("{}: {error}", path.display())]
    InFile {
        path: PathBuf,
        error: Box<EstimateError>,
    },
    #[error("unknown model `{name}`; allowed: {allowed}")]
    UnknownModel { name: String, allowed: String },
    #[error("unknown board `{name}`; allowed: {allowed}")]
    UnknownBoard { name: String, allowed: String },
    #[error("`{option}` = {value} is out of range; allowed: {allowed}")]
    BadOverride {
        option: &'static str,
        value: f64,
        allowed: String,
    },
    /// Some projections of the model exceed the maxima of the core (`max_d_in`,
    /// `max_d_out`, `max_rank`): the core's descriptor check would refuse them.
    #[error(
        "model `{model}` is not runnable on this core ({core}): {}",
        projections.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    NotRunnable {
        model: String,
        /// The core in one line (`HgfConfig::engine_summary`).
        core: String,
        /// Every projection of a layer that the core cannot run, in execution order.
        projections: Vec<ProjectionBeyond>,
    },
    #[error("cannot write plot {path}: {message}")]
    Plot { path: PathBuf, message: String },
}

impl EstimateError {
    /// The model field, option or config field this error is about, when it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            EstimateError::Missing { field, .. } | EstimateError::OutOfRange { field, .. } => {
                Some(field)
            }
            EstimateError::BadOverride { option, .. } => Some(option),
            EstimateError::NotRunnable { projections, .. } => {
                projections.first().map(|p| p.field.as_str())
            }
            EstimateError::InFile { error, .. } => error.field(),
            _ => None,
        }
    }
}
