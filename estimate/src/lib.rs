//! Estimates of HGF inference on FPGA boards before anything is built: the parameter bytes a
//! token reads, the cycles the core spends on it, and the tokens per second that the board's
//! memory bandwidth and the core's clock allow (docs/estimate.md).
//!
//! The pieces, one per module:
//! - [`models`]: transformer models (presets and TOML files), layer by layer;
//! - [`boards`]: boards, their memory and clock;
//! - [`cores`]: the one core every projection runs on, each as a run-time shape within the
//!   core's maxima (or the projections that exceed them);
//! - [`bandwidth`]: bytes per token, from golden/src/derived.rs;
//! - [`compute`]: cycles per token, from the core's cycle model (`hgf_hdl::schedule`)
//!   through one function;
//! - [`throughput`]: the memory and compute bounds and which one binds;
//! - [`report`]: the whole estimate, as JSON-serialisable data and as text;
//! - [`plot`]: the roofline as SVG;
//! - [`explore`]: the search for the fastest core that fits a device, and
//!   [`pareto_plot`], its Pareto front as SVG.
//!
//! - [`area`]: LUT4 sites, flip-flops, DSPs and block RAMs of the core per block, and its fit
//!   on the target ([`area_coefficients`]: the fitted coefficients; [`device`]: capacities).

pub mod area;
pub mod area_coefficients;
pub mod bandwidth;
pub mod boards;
pub mod compute;
pub mod cores;
pub mod device;
pub mod error;
pub mod explore;
pub mod models;
pub mod pareto_plot;
pub mod plot;
pub mod report;
pub mod throughput;

pub use area::{estimate_area, AreaEstimate};
pub use boards::{Board, BoardFpga, ClockSource};
pub use cores::ProjectionBeyond;
pub use error::EstimateError;
pub use models::{Model, ProjectionKind, ProjectionSpec};
pub use report::{estimate, estimate_each, CoreOnBoard, Estimate, ModelEstimate, UnmappedModel};
pub use throughput::{Bound, Throughput};
