//! Every block of the core on its own behind five or six pins, for a per-block Fmax (`hgf synth
//! --blocks`).

use hgf_golden::streams::V_INTERLEAVE;
use hgf_golden::HgfConfig;
use rust_hdl::prelude::*;
use thiserror::Error;

use crate::accumulator_bank::AccumulatorBank;
use crate::f16_to_f32::F16ToF32;
use crate::f32_to_f16::F32ToF16;
use crate::f32_to_i8::F32ToI8;
use crate::fp16_mac::Fp16MacLane;
use crate::fp16_mul::Fp16MulExact;
use crate::fp32_add::Fp32Add;
use crate::fp32_div::Fp32Div;
use crate::fp32_mul::Fp32Mul;
use crate::gate_unit::GateUnit;
use crate::i32_to_f32::I32ToF32;
use crate::lowrank_unit::LowRankUnit;
use crate::lzc::Lzc;
use crate::manifest::{verilog_ports, Port, PortDir};
use crate::output_queue::OutputQueue;
use crate::quantizer::QuantizerUnit;
use crate::shift_sticky::ShiftRightSticky;
use crate::ternary_array::TernaryArray;
use crate::verilog::{emit_named, header, VerilogError};
use crate::weight_unpacker::WeightUnpacker;

/// The block's ports the wrapper drives from its own pins rather than from the input chain.
const CLOCK_PORT: &str = "clock";
const RESET_PORT: &str = "reset";

/// Why a block could not be put in its wrapper.
#[derive(Debug, Error)]
pub enum BlockError {
    #[error("unknown block `{name}`; allowed: {}", allowed.join(", "))]
    Unknown { name: String, allowed: Vec<String> },
    #[error("cannot emit block `{name}`: {error}")]
    // Boxed: a `VerilogError` is large, and this error is returned by every lookup.
    Emit {
        name: String,
        error: Box<VerilogError>,
    },
    #[error("block `{name}` has no {what} besides clock and reset: nothing to measure")]
    NoData { name: String, what: &'static str },
}

/// One block of the core and how to build it for a config: the adapter that puts a block in
/// the [`wrap_block`] wrapper. Adding a block is one [`core_blocks`] entry.
#[derive(Clone, Copy)]
pub struct CoreBlock {
    /// Name on the command line and in the table (`fp32_add`, `ternary_array`, ...).
    pub name: &'static str,
    /// What it is and which instance of the core it stands for, in a few words.
    pub what: &'static str,
    /// Emits the block, built for the config, as Verilog whose top module has the given name.
    emit: fn(&HgfConfig, &str) -> Result<String, VerilogError>,
}

impl std::fmt::Debug for CoreBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreBlock")
            .field("name", &self.name)
            .finish()
    }
}

/// Connects `block` and emits it with top module `top`: what every adapter does once it has
/// built its block.
fn emit_block<B: Block>(mut block: B, top: &str) -> Result<String, VerilogError> {
    block.connect_all();
    emit_named(&block, top)
}

/// A [`CoreBlock`] from its name, description and constructor (`|cfg| expression`).
macro_rules! core_block {
    ($name:literal, $what:literal, |$cfg:tt| $build:expr) => {
        CoreBlock {
            name: $name,
            what: $what,
            emit: |$cfg: &HgfConfig, top: &str| {
                let block = $build;
                emit_block(block, top)
            },
        }
    };
}

/// Every block of the core that `hgf synth --blocks` measures, built as the core builds it for
/// a config (the same constructors, with the config's fields). Where the core holds several
/// shapes of a generic block, the widest on the binary32 adder's or converter's path is taken.
pub fn core_blocks() -> Vec<CoreBlock> {
    vec![
        core_block!("fp32_add", "binary32 adder (gate, low-rank lanes)", |_| {
            Fp32Add::new()
        }),
        core_block!(
            "fp32_mul",
            "binary32 multiplier (gate, dequantisation)",
            |_| { Fp32Mul::new() }
        ),
        core_block!(
            "fp32_mul_b16",
            "binary32 multiplier with a binary16 operand (quantizer)",
            |_| Fp32Mul::with_binary16_a()
        ),
        core_block!("fp32_div", "binary32 divider (quantizer's scale)", |_| {
            Fp32Div::new()
        }),
        core_block!(
            "fp16_mul",
            "exact binary16 multiplier (low-rank lanes)",
            |_| { Fp16MulExact::new() }
        ),
        core_block!("i32_to_f32", "int32 to binary32 (dequantisation)", |_| {
            I32ToF32::new()
        }),
        core_block!("f32_to_f16", "binary32 to binary16 (gate output)", |_| {
            F32ToF16::new()
        }),
        core_block!("f32_to_i8", "binary32 to int8 (quantizer)", |_| {
            F32ToI8::new()
        }),
        core_block!("f16_to_f32", "binary16 to binary32 (inputs)", |_| {
            F16ToF32::new()
        }),
        core_block!("lzc", "leading-zero counter, 28 bits (fp32_add)", |_| {
            Lzc::<28, 5>::new()
        }),
        core_block!(
            "shift_sticky",
            "right shift with sticky bit, 27 bits (fp32_add)",
            |_| ShiftRightSticky::<27, 5>::new()
        ),
        core_block!("ternary_array", "ternary MAC array", |cfg| {
            TernaryArray::new(cfg)
        }),
        core_block!("accumulator_bank", "int32 accumulators", |cfg| {
            AccumulatorBank::new(cfg)
        }),
        core_block!("weight_unpacker", "packed weights to trits", |cfg| {
            WeightUnpacker::new(cfg)
        }),
        core_block!("quantizer", "absmax int8 quantizer", |cfg| {
            QuantizerUnit::new(cfg)
        }),
        core_block!("gate_unit", "dequantisation and gate", |cfg| {
            GateUnit::new(cfg.gate_multipliers, cfg.gate_shares_adder)
        }),
        core_block!(
            "fp16_mac_lane",
            "one low-rank lane: binary16 MAC into binary32 (slots as the low-rank unit's)",
            |cfg| Fp16MacLane::new(cfg.max_layout().rank.max(V_INTERLEAVE))
        ),
        core_block!("lowrank_unit", "low-rank unit (all lanes)", |cfg| {
            LowRankUnit::new(cfg)
        }),
        core_block!("output_queue", "output FIFO", |_| OutputQueue::new()),
    ]
}

/// The block called `name`, or the error that lists every name.
pub fn core_block(name: &str) -> Result<CoreBlock, BlockError> {
    let blocks = core_blocks();
    blocks
        .iter()
        .find(|b| b.name == name)
        .copied()
        .ok_or_else(|| BlockError::Unknown {
            name: name.to_string(),
            allowed: blocks.iter().map(|b| b.name.to_string()).collect(),
        })
}

/// A block inside its wrapper, ready for synthesis and place-and-route.
#[derive(Clone, Debug)]
pub struct WrappedBlock {
    /// The block's name ([`CoreBlock::name`]).
    pub name: String,
    /// Name of the wrapper's top module: `<name>_blk`.
    pub top: String,
    /// Verilog of the block (module `<name>`) and of the wrapper.
    pub verilog: String,
    /// The wrapper's pins (six, one bit each; five when the block has no reset).
    pub pins: Vec<Port>,
    /// The block's data input bits: the length of the input chain.
    pub input_bits: usize,
    /// The block's output bits: the length of the output register.
    pub output_bits: usize,
}

/// `block`, built for `cfg`, inside its wrapper (`<name>_blk`).
///
/// **Function.** The same kind of wrapper as [`crate::pnr_wrapper::PnrWrapper`], for any
/// block: every data input of the block (every input port but `clock` and `reset`) is a
/// slice of one input chain, a register of all their bits loaded bit by bit from pin `sdi`;
/// every output port is a slice of one output register, loaded from the block and shifted out
/// on pin `sdo`. Nothing is constant and nothing is unobserved, so synthesis keeps all of the
/// block's logic, and every path measured starts and ends at a register: the block's own
/// register-to-register paths, and its inputs' and outputs' paths through its combinational
/// logic (all of it, for a combinational block). The wrapper is written from the block's
/// emitted ports (so an adapter is only the block's constructor, [`core_blocks`]); its own
/// logic is a shift and a load per register bit.
///
/// Input chain: on an edge with `shift` high it moves up by one and `sdi` enters bit 0; the
/// block's input ports take consecutive slices of it, in the order the block declares them,
/// the first from bit 0. Output register: on an edge with `out_load` high it takes the
/// block's outputs (the same slicing); on every other edge it shifts down by one. `sdo` is its
/// bit 0.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | the block's clock (unused by a combinational block but for the wrapper's registers) |
/// | `reset` | in | 1 | registered once, then the block's `reset` (only for a block that has one) |
/// | `sdi` | in | 1 | serial data into the input chain |
/// | `shift` | in | 1 | shift `sdi` into the input chain |
/// | `out_load` | in | 1 | load the block's outputs into the output register |
/// | `sdo` | out | 1 | bit 0 of the output register |
///
/// **Latency** none added to the block's paths. **Resources** the block's, plus one register
/// bit per data input bit and per output bit ([`WrappedBlock::input_bits`],
/// [`WrappedBlock::output_bits`]), one reset register. **Golden** none (a fixture for the
/// synthesis flow).
pub fn wrap_block(block: &CoreBlock, cfg: &HgfConfig) -> Result<WrappedBlock, BlockError> {
    let name = block.name;
    let block_verilog = (block.emit)(cfg, name).map_err(|error| BlockError::Emit {
        name: name.to_string(),
        error: Box::new(error),
    })?;
    let ports = verilog_ports(&block_verilog, name);
    let is_data = |p: &&Port| p.name != CLOCK_PORT && p.name != RESET_PORT;
    let inputs: Vec<&Port> = ports
        .iter()
        .filter(|p| p.dir == PortDir::Input)
        .filter(is_data)
        .collect();
    let outputs: Vec<&Port> = ports.iter().filter(|p| p.dir == PortDir::Output).collect();
    let input_bits: usize = inputs.iter().map(|p| p.bits).sum();
    let output_bits: usize = outputs.iter().map(|p| p.bits).sum();
    let no_data = |what| BlockError::NoData {
        name: name.to_string(),
        what,
    };
    if input_bits == 0 {
        return Err(no_data("data input"));
    }
    if output_bits == 0 {
        return Err(no_data("output"));
    }
    let top = format!("{name}_blk");
    let has = |port: &str| ports.iter().any(|p| p.name == port);
    let mut connections = Vec::new();
    if has(CLOCK_PORT) {
        connections.push(format!(".{CLOCK_PORT}(clock)"));
    }
    if has(RESET_PORT) {
        connections.push(format!(".{RESET_PORT}(reset_q)"));
    }
    connections.extend(slices(&inputs, "in_chain"));
    connections.extend(slices(&outputs, "out_word"));
    let chain_next = if input_bits == 1 {
        "sdi".to_string()
    } else {
        format!("{{in_chain[{}:0], sdi}}", input_bits - 2)
    };
    // A block without a reset gets no reset pin: an unused pin and register would only be
    // trimmed (and verilator rejects them).
    let (reset_pin, reset_decl, reset_reg, reset_update) = if has(RESET_PORT) {
        (
            " reset,",
            "    input wire reset;\n",
            "    reg reset_q;\n",
            "        reset_q <= reset;\n",
        )
    } else {
        ("", "", "", "")
    };
    let wrapper = format!(
        "// {name} ({what}) in its place-and-route wrapper: {input_bits} input chain bits from \
         `sdi`,\n// {output_bits} output register bits to `sdo` (hgf_hdl::block_wrapper).\n\
         module {top}(clock,{reset_pin} sdi, shift, out_load, sdo);\n\
         \x20   input wire clock;\n\
         {reset_decl}\
         \x20   input wire sdi;\n\
         \x20   input wire shift;\n\
         \x20   input wire out_load;\n\
         \x20   output wire sdo;\n\
         {reset_reg}\
         \x20   reg [{in_msb}:0] in_chain;\n\
         \x20   reg [{out_msb}:0] out_reg;\n\
         \x20   wire [{out_msb}:0] out_word;\n\
         \x20   always @(posedge clock) begin\n\
         {reset_update}\
         \x20       if (shift) in_chain <= {chain_next};\n\
         \x20       if (out_load) out_reg <= out_word;\n\
         \x20       else out_reg <= out_reg >> 1;\n\
         \x20   end\n\
         \x20   assign sdo = out_reg[0];\n\
         \x20   {name} block(\n{connections}\n\
         \x20   );\n\
         endmodule\n",
        what = block.what,
        in_msb = input_bits - 1,
        out_msb = output_bits - 1,
        connections = connections
            .iter()
            .map(|c| format!("        {c}"))
            .collect::<Vec<_>>()
            .join(",\n"),
    );
    let verilog = format!(
        "{}\n{}\n{wrapper}",
        header(&top, &[format!("block `{name}` alone: hgf synth --blocks")]),
        strip_header(&block_verilog)
    );
    let pins = verilog_ports(&verilog, &top);
    Ok(WrappedBlock {
        name: name.to_string(),
        top,
        verilog,
        pins,
        input_bits,
        output_bits,
    })
}

/// `.port(bus[hi:lo])` for consecutive slices of `bus`, one per port, from bit 0.
fn slices(ports: &[&Port], bus: &str) -> Vec<String> {
    let mut low = 0;
    ports
        .iter()
        .map(|p| {
            let slice = format!(".{}({bus}[{}:{low}])", p.name, low + p.bits - 1);
            low += p.bits;
            slice
        })
        .collect()
}

/// The emitted block without its header comment (the wrapped file gets one of its own).
fn strip_header(verilog: &str) -> &str {
    let start = verilog.find("module ").unwrap_or(0);
    &verilog[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::tiny_config;
    use crate::verilog::check_all_tools;

    #[test]
    fn block_names_are_unique_and_found() {
        let blocks = core_blocks();
        let mut names: Vec<&str> = blocks.iter().map(|b| b.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), blocks.len());
        assert_eq!(core_block("fp32_add").unwrap().name, "fp32_add");
        let err = core_block("fp32_sub").unwrap_err().to_string();
        assert!(err.contains("unknown block `fp32_sub`"), "{err}");
        assert!(err.contains("ternary_array"), "{err}");
    }

    #[test]
    fn a_wrapped_block_has_five_pins_and_every_data_bit_in_its_registers() {
        let cfg = tiny_config();
        let wrapped = wrap_block(&core_block("fp32_add").unwrap(), &cfg).unwrap();
        assert_eq!(wrapped.top, "fp32_add_blk");
        let names: Vec<&str> = wrapped.pins.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["clock", "sdi", "shift", "out_load", "sdo"],
            "{:?}",
            wrapped.pins
        );
        // enable, a and b in; sum out.
        assert_eq!(wrapped.input_bits, 1 + 32 + 32);
        assert_eq!(wrapped.output_bits, 32);
        assert!(wrapped.verilog.contains(".a(in_chain[32:1])"));
        assert!(wrapped.verilog.contains(".sum(out_word[31:0])"));
        // The tools run on it in the next test (one run per block name: their directories
        // are named after the design and the process).
    }

    #[test]
    fn every_block_wraps_for_the_tiny_config_and_passes_the_tools() {
        let cfg = tiny_config();
        for block in core_blocks() {
            let wrapped = wrap_block(&block, &cfg).unwrap();
            let has_reset = wrapped.pins.iter().any(|p| p.name == "reset");
            assert_eq!(
                wrapped.pins.len(),
                5 + usize::from(has_reset),
                "{}: {:?}",
                block.name,
                wrapped.pins
            );
            assert!(wrapped.input_bits > 0 && wrapped.output_bits > 0);
            check_all_tools(&wrapped.top, &wrapped.verilog)
                .unwrap_or_else(|e| panic!("{}: {e}", block.name));
        }
    }
}
