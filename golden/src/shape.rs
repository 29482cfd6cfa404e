//! The shape of one projection, which a core takes at run time, and its layout on an engine.
//!
//! An [`HgfConfig`] describes an engine: what is built (array, FP lanes, gate, packing,
//! target) and the largest projection it runs (`max_d_in`, `max_d_out`, `max_rank`). Each
//! projection a host runs on it has its own [`Shape`], sent to the core in a descriptor
//! (docs/interfaces.md). A [`Layout`] is one shape on one engine: everything about the
//! projection's streams and cycles (beats, bytes, column blocks) follows from it, in
//! [`crate::derived`] and [`crate::streams`].

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::{HgfConfig, Packing};

/// The shape of one projection `y = BitLinear(x) + g · B(A x)`: T is `d_out × d_in`, A is
/// `rank × d_in`, B is `d_out × rank`. `rank = 0` is a ternary-only projection (no A, B, or
/// factor beats; docs/arithmetic.md §G2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    pub d_in: usize,
    pub d_out: usize,
    pub rank: usize,
}

impl Shape {
    pub fn new(d_in: usize, d_out: usize, rank: usize) -> Self {
        Shape { d_in, d_out, rank }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{} rank {}", self.d_in, self.d_out, self.rank)
    }
}

/// Why a projection shape cannot run on an engine. The core reports the same cases with its
/// `error` output (docs/interfaces.md, "Descriptor").
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ShapeError {
    #[error(
        "projection {shape}: `{field}` = {value} is outside 1..={max} (the core's `max_{field}`)"
    )]
    OutOfRange {
        shape: Shape,
        field: &'static str,
        value: usize,
        max: usize,
    },
    #[error("projection {shape}: rank {rank} is above the core's max_rank = {max}")]
    RankTooLarge {
        shape: Shape,
        rank: usize,
        max: usize,
    },
}

impl HgfConfig {
    /// The largest projection the engine runs.
    pub fn max_shape(&self) -> Shape {
        Shape::new(self.max_d_in, self.max_d_out, self.max_rank)
    }

    /// Checks that the engine runs `shape`: `1 <= d_in <= max_d_in`, `1 <= d_out <=
    /// max_d_out`, `rank <= max_rank` (0 allowed: ternary-only). These are exactly the
    /// descriptors the core accepts; any other puts it in its error state.
    pub fn check_shape(&self, shape: Shape) -> Result<(), ShapeError> {
        for (field, value, max) in [
            ("d_in", shape.d_in, self.max_d_in),
            ("d_out", shape.d_out, self.max_d_out),
        ] {
            if !(1..=max).contains(&value) {
                return Err(ShapeError::OutOfRange {
                    shape,
                    field,
                    value,
                    max,
                });
            }
        }
        if shape.rank > self.max_rank {
            return Err(ShapeError::RankTooLarge {
                shape,
                rank: shape.rank,
                max: self.max_rank,
            });
        }
        Ok(())
    }

    /// `shape` on this engine. The shape is not checked (see [`HgfConfig::check_shape`]);
    /// the estimator also lays out shapes that exceed the maxima, to say by how much.
    pub fn layout(&self, shape: Shape) -> Layout {
        Layout {
            d_in: shape.d_in,
            d_out: shape.d_out,
            rank: shape.rank,
            array_rows: self.array_rows,
            array_inputs: self.array_inputs,
            fp_lanes: self.fp_lanes,
            packing: self.packing,
        }
    }

    /// The largest projection on this engine: what buffers and counters are sized for.
    pub fn max_layout(&self) -> Layout {
        self.layout(self.max_shape())
    }
}

/// One projection shape on one engine: the sizes that fix its streams (docs/interfaces.md)
/// and its cycles. Methods in [`crate::derived`] and [`crate::streams`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub d_in: usize,
    pub d_out: usize,
    pub rank: usize,
    pub array_rows: usize,
    pub array_inputs: usize,
    pub fp_lanes: usize,
    pub packing: Packing,
}

impl Layout {
    pub fn shape(&self) -> Shape {
        Shape::new(self.d_in, self.d_out, self.rank)
    }
}
