//! rust-hdl descriptions of the HGF projection core (docs/arithmetic.md is the contract).
//!
//! One block per file, each with its doc comment (function, ports, latency, throughput,
//! resources, golden counterpart) and its own tests. Blocks are composed into the projection
//! core and emitted as Verilog by [`verilog`].

pub mod accumulator_bank;
pub mod axis_wrapper;
pub mod block_wrapper;
pub mod counter_mask;
pub mod descriptor_control;
pub mod emit;
pub mod f16_to_f32;
pub mod f32_to_f16;
pub mod f32_to_i8;
pub mod fp16_mac;
pub mod fp16_mul;
pub mod fp32_add;
pub mod fp32_div;
pub mod fp32_mul;
pub mod gate_unit;
pub mod harness;
pub mod i32_to_f32;
pub mod lowrank_sequencer;
pub mod lowrank_u_buffer;
pub mod lowrank_unit;
pub mod lowrank_v_buffer;
pub mod lowrank_x_buffer;
pub mod lzc;
pub mod manifest;
pub mod output_queue;
pub mod output_stream;
pub mod pnr_wrapper;
pub mod projection_core;
pub mod quantizer;
pub mod readable;
pub mod resources;
pub mod round_nearest_even;
pub mod schedule;
pub mod settle;
pub mod shift_sticky;
pub mod stream_slice;
pub mod ternary_array;
#[cfg(test)]
mod test_operands;
pub mod testbench;
pub mod tiled_ram;
pub mod verilog;
pub mod weight_sequencer;
pub mod weight_unpacker;
pub mod width_waiver;
