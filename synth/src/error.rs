//! Why the flow could not produce figures.

use std::path::PathBuf;

use hgf_hdl::block_wrapper::BlockError;
use hgf_hdl::verilog::VerilogError;
use thiserror::Error;

/// An error of the synthesis flow. A design that does not fit is not an error: it is a
/// result ([`crate::PnrOutcome::DoesNotFit`]).
#[derive(Debug, Error)]
pub enum SynthError {
    #[error(
        "`{tool}` not found (looked for {looked_for} on PATH and in .venv-eda/bin of {} and \
         its parents); install it with `{install}`",
        start.display()
    )]
    MissingTool {
        tool: &'static str,
        looked_for: String,
        start: PathBuf,
        install: &'static str,
    },
    /// The inner error is part of the message rather than a `#[source]` (here and in `Io`),
    /// so that printing the error alone or with its chain (as `hgf` does) shows it once.
    #[error("cannot emit the design: {0}")]
    Emit(VerilogError),
    #[error("{tool} failed ({status}; log kept in {}):\n{excerpt}", log.display())]
    ToolFailed {
        tool: &'static str,
        status: String,
        log: PathBuf,
        excerpt: String,
    },
    #[error("cannot read {what} {}: {message}", path.display())]
    BadReport {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("I/O error on {}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A block that could not be put in its wrapper (`hgf synth --blocks`).
    #[error("{0}")]
    Block(BlockError),
    #[error("frequency {value} MHz is out of range; allowed: above 0 and at most 1000 MHz")]
    BadFrequency { value: f64 },
}

impl SynthError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> SynthError {
        let path = path.into();
        move |error| SynthError::Io { path, error }
    }
}

impl From<VerilogError> for SynthError {
    fn from(error: VerilogError) -> Self {
        SynthError::Emit(error)
    }
}
