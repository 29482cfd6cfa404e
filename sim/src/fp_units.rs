//! The RTL FP units against Berkeley TestFloat vectors, in Verilator.
//!
//! [`rtl_check`] emits the unit of one [`FpOp`] from `hgf-hdl`, verilates it (the bridge's
//! cache makes every later run a `dlopen`), drives every vector through it and judges the
//! results with the same [`check`] as the golden model, so RTL and golden are held to one
//! set of rules (bit-exact, any NaN matches an expected NaN, flags not compared).
//!
//! How each kind of unit is driven:
//!
//! - **Pipelined** (`Fp32Add`, `Fp32Mul`, `Fp16MulExact`): one vector per clock cycle with
//!   `enable` high; the result of the vector presented before edge `n` is read after edge
//!   `n + LATENCY - 1` (the blocks' documented latency), so the results come back in order.
//! - **Iterative** (`Fp32Div`): one division at a time after a reset: `start` with the
//!   operands, then clock until `done`, which must come within twice [`Fp32Div::CYCLES`].
//! - **Combinational** (the conversions): set the input, `eval`, read the output.
//!
//! Two ops need a step around the unit, as in the blocks' own tests: `f16_mul` vectors expect
//! a binary16 product, so the exact binary32 product of `Fp16MulExact` is rounded with the
//! golden `f32_to_f16` (§F4: the product is exact, so this is one IEEE rounding), and
//! `f32_to_i8`'s 8-bit output is the int8 result as the checker encodes it (low 8 bits,
//! zero-extended). `f16_add` has no unit of its own and is refused with
//! [`SimError::NoRtlUnit`].

use half::f16;
use hgf_golden::fp;
use hgf_golden::testfloat::{check, CheckReport, FpOp, Vector};
use hgf_hdl::f16_to_f32::F16ToF32;
use hgf_hdl::f32_to_f16::F32ToF16;
use hgf_hdl::f32_to_i8::F32ToI8;
use hgf_hdl::fp16_mul::Fp16MulExact;
use hgf_hdl::fp32_add::Fp32Add;
use hgf_hdl::fp32_div::Fp32Div;
use hgf_hdl::fp32_mul::Fp32Mul;
use hgf_hdl::i32_to_f32::I32ToF32;
use hgf_hdl::verilog::emit_named;
use rust_hdl::prelude::Block;

use crate::{BuildOptions, Model, SimError, VerilatedLib};

/// The ops that have an RTL unit, in [`FpOp::ALL`]'s order (every op but `f16_add`).
pub const RTL_OPS: [FpOp; 8] = [
    FpOp::F32Mul,
    FpOp::F32Add,
    FpOp::F32Div,
    FpOp::F16ToF32,
    FpOp::F32ToF16,
    FpOp::I32ToF32,
    FpOp::F32ToI8,
    FpOp::F16Mul,
];

/// How a unit's ports are driven.
#[derive(Clone, Copy, Debug)]
enum Drive {
    /// `clock`, `enable` and the operand ports `inputs` in; `output` valid `latency` enabled
    /// edges after.
    Pipelined {
        latency: usize,
        inputs: &'static [&'static str],
        output: &'static str,
    },
    /// `Fp32Div`'s `clock`, `reset`, `start`, `a`, `b` in; `ready`, `done`, `quotient` out.
    Divider { cycles: usize },
    /// `x` in, `y` out, no clock.
    Combinational,
}

/// One op's unit: its Verilog, top module name and how to drive it.
struct Unit {
    top: &'static str,
    verilog: String,
    drive: Drive,
}

/// `Ok` when `op` has an RTL unit, else [`SimError::NoRtlUnit`] naming the ops that have one.
pub fn require_rtl_unit(op: FpOp) -> Result<(), SimError> {
    if RTL_OPS.contains(&op) {
        Ok(())
    } else {
        Err(no_rtl_unit(op))
    }
}

/// The [`SimError::NoRtlUnit`] of `op`.
fn no_rtl_unit(op: FpOp) -> SimError {
    SimError::NoRtlUnit {
        op: op.name().to_string(),
        available: RTL_OPS
            .iter()
            .map(|op| op.name())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `uut`, connected and emitted as Verilog whose top module is `top`.
fn emit<B: Block>(mut uut: B, top: &str) -> Result<String, SimError> {
    uut.connect_all();
    emit_named(&uut, top).map_err(|e| SimError::Emit {
        top: top.to_string(),
        message: e.to_string(),
    })
}

/// The unit of `op`, emitted.
fn unit(op: FpOp) -> Result<Unit, SimError> {
    let pipelined = |latency, output| Drive::Pipelined {
        latency,
        inputs: &["a", "b"],
        output,
    };
    let (top, verilog, drive) = match op {
        FpOp::F32Add => {
            let top = "fp32_add";
            let drive = pipelined(Fp32Add::LATENCY, "sum");
            (top, emit(Fp32Add::new(), top)?, drive)
        }
        FpOp::F32Mul => {
            let top = "fp32_mul";
            let drive = pipelined(Fp32Mul::LATENCY, "product");
            (top, emit(Fp32Mul::new(), top)?, drive)
        }
        FpOp::F16Mul => {
            let top = "fp16_mul_exact";
            let drive = pipelined(Fp16MulExact::LATENCY, "product");
            (top, emit(Fp16MulExact::new(), top)?, drive)
        }
        FpOp::F32Div => {
            let top = "fp32_div";
            let drive = Drive::Divider {
                cycles: Fp32Div::CYCLES,
            };
            (top, emit(Fp32Div::new(), top)?, drive)
        }
        FpOp::F16ToF32 => {
            let top = "f16_to_f32";
            (top, emit(F16ToF32::new(), top)?, Drive::Combinational)
        }
        FpOp::F32ToF16 => {
            let top = "f32_to_f16";
            (top, emit(F32ToF16::new(), top)?, Drive::Combinational)
        }
        FpOp::F32ToI8 => {
            let top = "f32_to_i8";
            (top, emit(F32ToI8::new(), top)?, Drive::Combinational)
        }
        FpOp::I32ToF32 => {
            let top = "i32_to_f32";
            let drive = Drive::Pipelined {
                latency: I32ToF32::LATENCY,
                inputs: &["x"],
                output: "y",
            };
            (top, emit(I32ToF32::new(), top)?, drive)
        }
        FpOp::F16Add => return Err(no_rtl_unit(op)),
    };
    Ok(Unit {
        top,
        verilog,
        drive,
    })
}

/// Checks `vectors` (read for `op` with `hgf_golden::testfloat::read_vectors`) on `op`'s RTL
/// unit in Verilator, with the same rules as the golden check. The unit is emitted and
/// verilated on the first call (later calls reuse the cached model; no VCD support is built
/// in, for speed).
///
/// Errors: [`SimError::NoRtlUnit`] for an op without a unit (`f16_add`), a vector without
/// exactly the op's operand count ([`SimError::Driver`], naming its line), an operand too wide
/// for its port ([`SimError::ValueTooWide`]), a divider that never signals `done`, and every
/// build error of [`VerilatedLib::build`].
pub fn rtl_check(op: FpOp, vectors: &[Vector]) -> Result<CheckReport, SimError> {
    let unit = unit(op)?;
    let arity = op.operand_formats().len();
    if let Some(v) = vectors.iter().find(|v| v.operands.len() != arity) {
        return Err(SimError::Driver(format!(
            "line {}: {op} takes {arity} operand(s), the vector has {}",
            v.line,
            v.operands.len()
        )));
    }
    let opts = BuildOptions {
        trace: false,
        ..BuildOptions::default()
    };
    let lib = VerilatedLib::build(&unit.verilog, unit.top, &opts)?;
    let mut m = Model::new(&lib)?;
    let raw = match unit.drive {
        Drive::Pipelined {
            latency,
            inputs,
            output,
        } => run_pipelined(&mut m, latency, inputs, output, vectors)?,
        Drive::Divider { cycles } => run_divider(&mut m, cycles, vectors)?,
        Drive::Combinational => run_combinational(&mut m, vectors)?,
    };
    let results: Vec<u32> = raw.into_iter().map(|bits| finish(op, bits)).collect();
    let mut next = results.iter().copied();
    // One result per vector, in order; the fallback is never taken.
    Ok(check(op, vectors, |_| next.next().unwrap_or(u32::MAX)))
}

/// The unit's output bits as the checker wants the op's result.
fn finish(op: FpOp, bits: u64) -> u32 {
    match op {
        // The exact binary32 product, rounded once to binary16.
        FpOp::F16Mul => {
            let h: f16 = fp::f32_to_f16(f32::from_bits(bits as u32));
            u32::from(h.to_bits())
        }
        // Every other output port is at most 32 bits wide; f32_to_i8's 8-bit `y` already
        // is the low byte, zero-extended.
        _ => bits as u32,
    }
}

/// Streams one vector per enabled cycle, operand `k` on port `inputs[k]`; result `i` is read
/// after edge `i + latency - 1`.
fn run_pipelined(
    m: &mut Model,
    latency: usize,
    inputs: &[&str],
    output: &str,
    vectors: &[Vector],
) -> Result<Vec<u64>, SimError> {
    let (clock, enable) = (m.port("clock")?, m.port("enable")?);
    let ports = inputs
        .iter()
        .map(|name| m.port(name))
        .collect::<Result<Vec<_>, _>>()?;
    let out = m.port(output)?;
    let latency = latency.max(1);
    m.set(enable, 1)?;
    let mut results = Vec::with_capacity(vectors.len());
    for t in 0..vectors.len() + latency - 1 {
        // Past the last vector the pipeline drains on zero operands.
        for (k, &port) in ports.iter().enumerate() {
            let operand = vectors.get(t).map_or(0, |v| v.operands[k]);
            m.set(port, u64::from(operand))?;
        }
        m.tick(clock)?;
        if t + 1 >= latency {
            results.push(m.get(out));
        }
    }
    Ok(results)
}

/// One division at a time: reset, then per vector `start` for one edge and clock until
/// `done` (at most `2 * cycles` edges).
fn run_divider(m: &mut Model, cycles: usize, vectors: &[Vector]) -> Result<Vec<u64>, SimError> {
    let (clock, reset, start) = (m.port("clock")?, m.port("reset")?, m.port("start")?);
    let (a, b) = (m.port("a")?, m.port("b")?);
    let (ready, done, quotient) = (m.port("ready")?, m.port("done")?, m.port("quotient")?);
    m.set(start, 0)?;
    m.set(reset, 1)?;
    m.tick(clock)?;
    m.set(reset, 0)?;
    m.tick(clock)?;
    let mut results = Vec::with_capacity(vectors.len());
    for v in vectors {
        if m.get(ready) == 0 {
            return Err(SimError::Driver(format!(
                "fp32_div is not ready for the division of line {}",
                v.line
            )));
        }
        m.set(a, u64::from(v.operands[0]))?;
        m.set(b, u64::from(v.operands[1]))?;
        m.set(start, 1)?;
        m.tick(clock)?;
        m.set(start, 0)?;
        let mut waited = 0;
        while m.get(done) == 0 {
            if waited >= 2 * cycles {
                return Err(SimError::Driver(format!(
                    "fp32_div gave no `done` within {waited} cycles of the start of line {} \
                     (documented: {cycles})",
                    v.line
                )));
            }
            m.tick(clock)?;
            waited += 1;
        }
        results.push(m.get(quotient));
    }
    Ok(results)
}

/// Sets `x`, evaluates, reads `y`, for each vector.
fn run_combinational(m: &mut Model, vectors: &[Vector]) -> Result<Vec<u64>, SimError> {
    let (x, y) = (m.port("x")?, m.port("y")?);
    let mut results = Vec::with_capacity(vectors.len());
    for v in vectors {
        m.set(x, u64::from(v.operands[0]))?;
        m.eval();
        results.push(m.get(y));
    }
    Ok(results)
}
