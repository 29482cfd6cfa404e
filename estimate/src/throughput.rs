//! Tokens per second of a model on a board: the smaller of two bounds.
//!
//! - memory: the board's sustained bandwidth over the bytes one token reads (every parameter
//!   streams from off-chip memory once per token; nothing is cached on chip);
//! - compute: the core's clock over the cycles one token takes.

use std::fmt;

use hgf_golden::Packing;
use serde::Serialize;

use crate::boards::Board;

/// Which bound sets the tokens per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    Memory,
    Compute,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bound::Memory => "memory",
            Bound::Compute => "compute",
        })
    }
}

/// The throughput of one model, in one packing, on one board.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Throughput {
    pub board: String,
    pub packing: Packing,
    pub bandwidth_mb_s: f64,
    pub clock_mhz: f64,
    pub bytes_per_token: u64,
    pub cycles_per_token: u64,
    /// `bandwidth / bytes_per_token`.
    pub memory_bound_tokens_per_s: f64,
    /// `clock / cycles_per_token`.
    pub compute_bound_tokens_per_s: f64,
    /// The smaller bound.
    pub tokens_per_s: f64,
    pub bound: Bound,
    /// The bandwidth at which the two bounds meet (MB/s): above it, compute binds.
    pub balance_mb_s: f64,
    /// Whether the model's weights fit the board's memory (`None`: capacity unknown). A
    /// model that does not fit cannot run at the rate given.
    pub fits_in_memory: Option<bool>,
}

/// Tokens per second of a model that reads `bytes_per_token` and takes `cycles_per_token`,
/// on `board`. The weights take `bytes_per_token` in memory too (each is read once).
pub fn throughput(
    bytes_per_token: u64,
    cycles_per_token: u64,
    packing: Packing,
    board: &Board,
) -> Throughput {
    let memory = board.bytes_per_second() / bytes_per_token as f64;
    let compute = board.cycles_per_second() / cycles_per_token as f64;
    let bound = if memory < compute {
        Bound::Memory
    } else {
        Bound::Compute
    };
    Throughput {
        board: board.name.clone(),
        packing,
        bandwidth_mb_s: board.sustained_mb_s,
        clock_mhz: board.clock_mhz,
        bytes_per_token,
        cycles_per_token,
        memory_bound_tokens_per_s: memory,
        compute_bound_tokens_per_s: compute,
        tokens_per_s: memory.min(compute),
        bound,
        balance_mb_s: compute * bytes_per_token as f64 / 1e6,
        fits_in_memory: board.capacity_bytes.map(|c| bytes_per_token <= c),
    }
}
