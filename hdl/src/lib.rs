//! rust-hdl descriptions of the HGF projection core (docs/arithmetic.md is the contract).
//!
//! One block per file, each with its doc comment (function, ports, latency, throughput,
//! resources, golden counterpart) and its own tests. Blocks are composed into the projection
//! core and emitted as Verilog by [`verilog`].

pub mod harness;
pub mod verilog;
