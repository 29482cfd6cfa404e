//! Bit-exact golden model of Hybrid Gated Flow (HGF) inference.
//!
//! One HGF projection computes `y = BitLinear(x) + g * B(A x)` for each token, exactly as
//! docs/arithmetic.md specifies. Each module implements one part of that contract and cites
//! its sections; the RTL implements the same contract and is compared with this crate bit for
//! bit.

pub mod config;
pub mod derived;
pub mod fp;
pub mod gate;
pub mod io;
pub mod lowrank;
pub mod model;
pub mod output;
pub mod packing;
pub mod plural;
pub mod projection;
pub mod quantize;
pub mod shape;
pub mod streams;
pub mod ternary;
pub mod testfloat;
pub mod weights;

pub use config::{ConfigError, HgfConfig, Packing, Target};
pub use derived::Derived;
pub use projection::{run_projection, HgfProjection, TokenTrace};
pub use shape::{Layout, Shape, ShapeError};
pub use weights::{HgfWeights, WeightsError};
