//! A self-checking Verilog testbench of the generated core and its vector files (`hgf
//! generate --testbench`), so that the core can be checked in any simulator without Rust.
//!
//! The vectors come from the golden model and the golden stream functions that the
//! co-simulation driver uses ([`hgf_golden::streams`]): the descriptors
//! ([`descriptor_beats`]), one token's weight beats ([`weight_beats`]) and factor beats
//! ([`factor_beats`]), which the testbench repeats for every token, the tokens and the
//! expected outputs ([`HgfProjection::forward`]). Each goes into a hex file read with
//! `$readmemh`, one beat per line with lane 0 in the lowest bits.
//!
//! The core's ports come from the manifest's port list ([`crate::manifest::Port`]): a stream
//! `<p>` has `<p>_valid`, `<p>_ready` and either one data port `<p>_data` or lanes
//! `<p>_data<sep><i>` (any one separator character before the lane number), so the testbench
//! follows the port names of the Verilog it is generated with.
//!
//! A second testbench, `<core>_axis_tb.v`, drives the core's AXI4-Stream top `<core>_axis`
//! ([`crate::axis_wrapper::AxisWrapper`]) with the same vector files and checks `tlast` on
//! every output: high on each token's last, low elsewhere.
//!
//! The testbench is Verilog-2005 but for one system task: it ends with `$fatal` on a failure,
//! which iverilog (`-g2005`) and Verilator accept and which makes both exit non-zero (vvp
//! with 1, a Verilator `--binary` model by aborting); `$finish` ends a passing run with 0.
//! Random stalls come from a seeded xorshift32 in the testbench itself, so every simulator
//! sees the same pattern: per cycle, an input stream with no beat waiting holds off, and
//! `y_ready` is low, each with probability `STALL / 65536`. A beat once offered stays
//! offered, unchanged, until it is taken (docs/interfaces.md, "Handshake").

use std::fmt::Write as _;

use half::f16;
use hgf_golden::streams::{descriptor_beats, factor_beats, weight_beats};
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights};
use thiserror::Error;

use crate::manifest::{Port, PortDir};
use crate::projection_core::MAX_RUN_TOKENS;
use crate::schedule::expected_cycles;
use crate::settle::simulation_file_name;

/// Why a testbench could not be made.
#[derive(Debug, Error)]
pub enum TestbenchError {
    #[error("the layer does not fit the core `{core}`: {message}")]
    Layer { core: String, message: String },
    #[error("no tokens: a testbench that compares nothing would always pass")]
    NoTokens,
    #[error("token {index} has {got} values; the layer's d_in is {d_in}")]
    TokenLength {
        index: usize,
        got: usize,
        d_in: usize,
    },
    #[error("the stall probability {0} is outside 0 <= p < 1")]
    Stall(f64),
    #[error("the core's ports do not match its streams: {0}")]
    Ports(String),
}

/// What the testbench runs.
#[derive(Clone, Debug)]
pub struct TestbenchSpec<'a> {
    /// The config the core was generated for.
    pub cfg: &'a HgfConfig,
    /// The core's ports, from its manifest.
    pub ports: &'a [Port],
    /// The ports of its AXI4-Stream top, from its manifest (`axis.ports`).
    pub axis_ports: &'a [Port],
    pub weights: &'a HgfWeights,
    /// The tokens, `d_in` binary16 values each.
    pub tokens: &'a [Vec<f16>],
    /// Where the layer and tokens came from, for the header comment.
    pub origin: String,
    /// The default stall probability per cycle and stream (parameter `STALL`).
    pub stall: f64,
    /// The default seed of the stall pattern (parameter `SEED`).
    pub seed: u64,
}

/// The testbench and its vectors.
#[derive(Clone, Debug)]
pub struct Testbench {
    /// The testbench module's name, `<core>_tb`.
    pub top: String,
    /// (file name, contents): the testbench first, then the hex files.
    pub files: Vec<(String, String)>,
    /// The AXI4-Stream top's testbench module, `<core>_axis_tb`.
    pub axis_top: String,
    /// Its Verilog (file name, contents); it reads the hex files of `files`.
    pub axis_file: (String, String),
    /// Outputs it compares.
    pub outputs: usize,
}

/// Width in bits of the stall threshold: `STALL` counts in `1 / 2^16`.
const STALL_ONE: f64 = 65536.0;

/// Mismatches printed one by one before the testbench only counts them.
const MISMATCHES_SHOWN: usize = 10;

/// One stream's ports in the core, data lanes in order.
struct StreamPorts {
    prefix: &'static str,
    /// Data port names, lane 0 first.
    lanes: Vec<String>,
    lane_bits: usize,
}

impl StreamPorts {
    fn find(ports: &[Port], prefix: &'static str, dir: PortDir) -> Result<Self, TestbenchError> {
        let data = format!("{prefix}_data");
        let mut lanes: Vec<(usize, &Port)> = Vec::new();
        for p in ports {
            let Some(rest) = p.name.strip_prefix(&data) else {
                continue;
            };
            let mut chars = rest.chars();
            let lane = match chars.next() {
                None => 0,
                Some(sep) if !sep.is_ascii_alphanumeric() => {
                    match chars.as_str().parse::<usize>() {
                        Ok(i) => i,
                        Err(_) => continue,
                    }
                }
                Some(_) => continue,
            };
            if p.dir != dir {
                return Err(TestbenchError::Ports(format!(
                    "`{}` is an {:?} port; the stream `{prefix}` needs {dir:?}",
                    p.name, p.dir
                )));
            }
            lanes.push((lane, p));
        }
        lanes.sort_by_key(|(i, _)| *i);
        let in_order = lanes.iter().enumerate().all(|(k, (i, _))| k == *i);
        if lanes.is_empty() || !in_order {
            return Err(TestbenchError::Ports(format!(
                "the data ports of stream `{prefix}` are not `{data}` or lanes numbered from 0"
            )));
        }
        let lane_bits = lanes[0].1.bits;
        if lanes.iter().any(|(_, p)| p.bits != lane_bits) {
            return Err(TestbenchError::Ports(format!(
                "the data lanes of stream `{prefix}` differ in width"
            )));
        }
        let handshake = [
            (format!("{prefix}_valid"), dir.clone()),
            (format!("{prefix}_ready"), flip(&dir)),
        ];
        for (name, want) in handshake {
            if !ports
                .iter()
                .any(|p| p.name == name && p.dir == want && p.bits == 1)
            {
                return Err(TestbenchError::Ports(format!(
                    "no 1-bit {want:?} port `{name}`"
                )));
            }
        }
        Ok(StreamPorts {
            prefix,
            lanes: lanes.into_iter().map(|(_, p)| p.name.clone()).collect(),
            lane_bits,
        })
    }

    fn beat_bits(&self) -> usize {
        self.lanes.len() * self.lane_bits
    }

    /// Checks the lanes against what the config says the stream carries.
    fn expect(&self, lanes: usize, lane_bits: usize) -> Result<(), TestbenchError> {
        if self.lanes.len() != lanes || self.lane_bits != lane_bits {
            return Err(TestbenchError::Ports(format!(
                "stream `{}` has {} data lanes of {} bits; the config needs {lanes} of \
                 {lane_bits}",
                self.prefix,
                self.lanes.len(),
                self.lane_bits
            )));
        }
        Ok(())
    }
}

fn flip(dir: &PortDir) -> PortDir {
    match dir {
        PortDir::Input => PortDir::Output,
        PortDir::Output => PortDir::Input,
    }
}

/// One input stream's vectors: one period of beats (packed, lane 0 lowest), sent `repeats`
/// times.
struct InputVectors {
    ports: StreamPorts,
    what: &'static str,
    beats: Vec<String>,
    repeats: usize,
}

/// A hex word of `bits` bits from lanes of `lane_bits` bits each, lane 0 in the lowest bits.
fn hex_beat(lanes: impl DoubleEndedIterator<Item = u64>, lane_bits: usize) -> String {
    let digits = lane_bits.div_ceil(4);
    lanes.rev().fold(String::new(), |mut s, v| {
        let _ = write!(s, "{v:0digits$x}");
        s
    })
}

/// The names of the testbench's files for core `top`: the Verilog, then the hex files of
/// the streams `s`, `x`, `t`, `f` and the expected outputs `y`, then the AXI4-Stream top's
/// testbench.
pub fn file_names(top: &str) -> Vec<String> {
    let mut names = vec![format!("{top}_tb.v")];
    names.extend(["s", "x", "t", "f", "y"].map(|p| hex_name(top, p)));
    names.push(format!("{}_tb.v", axis_top_name(top)));
    names
}

/// The AXI4-Stream top of core `top` (as [`crate::axis_wrapper::AxisWrapper::top_name`]).
fn axis_top_name(top: &str) -> String {
    format!("{top}_axis")
}

fn hex_name(top: &str, stream: &str) -> String {
    format!("{top}_tb_{stream}.hex")
}

/// The testbench of `spec.weights` on `spec.tokens`, with its vector files.
pub fn testbench(spec: &TestbenchSpec<'_>) -> Result<Testbench, TestbenchError> {
    let cfg = spec.cfg;
    let top = cfg.name.clone();
    if !(0.0..1.0).contains(&spec.stall) {
        return Err(TestbenchError::Stall(spec.stall));
    }
    if spec.tokens.is_empty() {
        return Err(TestbenchError::NoTokens);
    }
    let shape = spec.weights.projection_shape();
    let layer_error = |message: String| TestbenchError::Layer {
        core: top.clone(),
        message,
    };
    let golden =
        HgfProjection::new(cfg, spec.weights.clone()).map_err(|e| layer_error(e.to_string()))?;
    if let Some((index, t)) = spec
        .tokens
        .iter()
        .enumerate()
        .find(|(_, t)| t.len() != shape.d_in)
    {
        return Err(TestbenchError::TokenLength {
            index,
            got: t.len(),
            d_in: shape.d_in,
        });
    }
    let layout = cfg.layout(shape);
    let n = spec.tokens.len();

    let s = StreamPorts::find(spec.ports, "s", PortDir::Input)?;
    let x = StreamPorts::find(spec.ports, "x", PortDir::Input)?;
    let t = StreamPorts::find(spec.ports, "t", PortDir::Input)?;
    let f = StreamPorts::find(spec.ports, "f", PortDir::Input)?;
    let y = StreamPorts::find(spec.ports, "y", PortDir::Output)?;
    s.expect(1, 32)?;
    x.expect(1, 16)?;
    t.expect(cfg.weight_beat_bytes(), 8)?;
    f.expect(cfg.fp_lanes, 16)?;
    y.expect(1, 16)?;

    // A descriptor announces at most MAX_RUN_TOKENS tokens: a longer run goes as several,
    // back to back on `s` (the driver does the same).
    let runs: Vec<usize> = (0..n)
        .step_by(MAX_RUN_TOKENS)
        .map(|first| (n - first).min(MAX_RUN_TOKENS))
        .collect();
    let descriptors: Vec<String> = runs
        .iter()
        .flat_map(|&k| {
            let tokens = u32::try_from(k).unwrap_or(u32::MAX);
            descriptor_beats(spec.weights, tokens)
        })
        .map(|w| hex_beat(std::iter::once(u64::from(w)), 32))
        .collect();
    let activations: Vec<String> = spec
        .tokens
        .iter()
        .flatten()
        .map(|v| hex_beat(std::iter::once(u64::from(v.to_bits())), 16))
        .collect();
    let weights: Vec<String> = weight_beats(&layout, spec.weights)
        .map_err(|e| layer_error(e.to_string()))?
        .iter()
        .map(|beat| hex_beat(beat.iter().map(|&b| u64::from(b)), 8))
        .collect();
    let factors: Vec<String> = factor_beats(&layout, spec.weights)
        .iter()
        .map(|beat| hex_beat(beat.iter().map(|v| u64::from(v.to_bits())), 16))
        .collect();
    let expected: Vec<String> = spec
        .tokens
        .iter()
        .flat_map(|token| golden.forward(token))
        .map(|v| hex_beat(std::iter::once(u64::from(v.to_bits())), 16))
        .collect();

    let inputs = [
        InputVectors {
            ports: s,
            what: "scalars: the descriptors (hgf_golden::streams::descriptor_beats)",
            beats: descriptors,
            repeats: 1,
        },
        InputVectors {
            ports: x,
            what: "activations: every token's d_in binary16 values",
            beats: activations,
            repeats: 1,
        },
        InputVectors {
            ports: t,
            what: "ternary weights: one token's beats (hgf_golden::streams::weight_beats), \
                   sent for every token",
            beats: weights,
            repeats: n,
        },
        InputVectors {
            ports: f,
            what: "low-rank factors: one token's beats (hgf_golden::streams::factor_beats), \
                   sent for every token",
            beats: factors,
            repeats: n,
        },
    ];

    let e = expected_cycles(cfg, shape);
    let ideal = e.after_reset + e.first_token * runs.len() as u64 + e.steady * n as u64;
    // Generous: four times the stall-free cycles, scaled by the stalls, plus slack for tiny
    // runs; the default is the parameter's, which a run with other stalls can override.
    let max_cycles = ((4 * ideal + 1000) as f64 / (1.0 - spec.stall)).ceil() as u64;
    let stall = (spec.stall * STALL_ONE).round() as u64;

    let header = Header {
        top: &top,
        cfg,
        origin: &spec.origin,
        shape: format!("{shape}"),
        tokens: n,
        runs: runs.len(),
        d_out: shape.d_out,
        outputs: expected.len(),
        max_cycles,
        stall,
        seed: spec.seed,
    };
    let core = core_connections(&top, spec.ports, &inputs, &y)?;
    let axis = axis_connections(&top, spec.axis_ports, &inputs)?;
    let mut files = vec![(format!("{top}_tb.v"), verilog(&header, &core, &inputs))];
    let axis_file = (
        format!("{}_tb.v", axis.module),
        verilog(&header, &axis, &inputs),
    );
    for v in &inputs {
        files.push(hex_file(&top, v.ports.prefix, v.what, &v.beats));
    }
    files.push(hex_file(
        &top,
        "y",
        "expected outputs: every token's d_out binary16 values, from the golden model",
        &expected,
    ));
    Ok(Testbench {
        top: format!("{top}_tb"),
        files,
        axis_top: format!("{}_tb", axis.module),
        axis_file,
        outputs: expected.len(),
    })
}

fn hex_file(top: &str, stream: &str, what: &str, beats: &[String]) -> (String, String) {
    let mut text = format!("// {top}_tb, stream {stream}: {what}\n");
    for b in beats {
        text.push_str(b);
        text.push('\n');
    }
    (hex_name(top, stream), text)
}

/// The run the testbench makes: what its header says, and its parameters.
struct Header<'a> {
    top: &'a str,
    cfg: &'a HgfConfig,
    origin: &'a str,
    shape: String,
    tokens: usize,
    runs: usize,
    d_out: usize,
    /// Outputs compared.
    outputs: usize,
    /// The defaults of the parameters `MAX_CYCLES`, `STALL` and `SEED`.
    max_cycles: u64,
    stall: u64,
    seed: u64,
}

/// The commands that run the testbench of `top` (the core `core` or its AXI4-Stream top), for
/// the header comment and the docs: iverilog on `top`'s settled copy (`<top>_sim.v`,
/// [`crate::settle`]), Verilator on `top` itself with the core's width waivers (`<core>.vlt`,
/// one file for every Verilog file of the core).
pub fn run_commands(core: &str, top: &str) -> [String; 2] {
    let waivers: String = crate::verilog::LINT_WAIVERS
        .iter()
        .map(|w| format!(" -Wno-{w}"))
        .collect();
    let width_waivers = crate::width_waiver::waiver_file_name(core);
    let sim = simulation_file_name(top);
    [
        format!(
            "iverilog -g2005 -s {top}_tb -o {top}_tb.vvp {top}_tb.v {sim} && vvp -n {top}_tb.vvp"
        ),
        format!(
            "verilator --binary{waivers} --top-module {top}_tb -o {top}_tb {width_waivers} {top}_tb.v {top}.v \
             && obj_dir/{top}_tb"
        ),
    ]
}

/// The design a testbench drives, connected.
struct Dut {
    /// Its top module: the core `<core>` or its AXI4-Stream top `<core>_axis`.
    module: String,
    /// `.port(signal)`, one per port.
    connections: Vec<String>,
    /// Declarations of the wires of the outputs the testbench does not read.
    other_outputs: String,
    /// It has `tlast` on `y`, which the testbench checks (wire `y_last`).
    tlast: bool,
}

/// The core's ports connected to the testbench's signals: the clock, the reset, `error` and
/// the streams' ports (each data lane to its bits of the beat).
fn core_connections(
    top: &str,
    ports: &[Port],
    inputs: &[InputVectors],
    y: &StreamPorts,
) -> Result<Dut, TestbenchError> {
    let mut connections: Vec<String> = Vec::new();
    let mut other_outputs = String::new();
    for port in ports {
        let name = &port.name;
        let signal = match (name.as_str(), &port.dir) {
            ("clock", PortDir::Input) => "clock".to_string(),
            ("reset", PortDir::Input) => "reset".to_string(),
            ("error", PortDir::Output) => "error".to_string(),
            _ => connect(port, inputs, y).unwrap_or_else(|| other_output(port, &mut other_outputs)),
        };
        if signal.is_empty() {
            return Err(TestbenchError::Ports(format!(
                "the input `{name}` is none of clock, reset or a stream's"
            )));
        }
        connections.push(format!("        .{name}({signal})"));
    }
    if !ports
        .iter()
        .any(|p| p.name == "error" && p.dir == PortDir::Output)
    {
        return Err(TestbenchError::Ports("no output `error`".into()));
    }
    Ok(Dut {
        module: top.to_string(),
        connections,
        other_outputs,
        tlast: false,
    })
}

/// A wire for an output the testbench does not read (its name, declared in `decls`), or ""
/// for an input.
fn other_output(port: &Port, decls: &mut String) -> String {
    if port.dir != PortDir::Output {
        return String::new();
    }
    let wire = format!("core_{}", plain(&port.name));
    let _ = writeln!(
        decls,
        "    wire [{}:0] {wire};",
        port.bits.saturating_sub(1)
    );
    wire
}

/// The AXI4-Stream top's ports connected to the testbench's signals: `aclk`, `aresetn` (the
/// testbench's reset inverted), `error`, and per stream `tdata` (the whole packed beat, lane 0
/// lowest as in the hex files), `tvalid`, `tready`, and `m_axis_y_tlast`. Every one of them
/// must be there, with its width.
fn axis_connections(
    core: &str,
    ports: &[Port],
    inputs: &[InputVectors],
) -> Result<Dut, TestbenchError> {
    use PortDir::{Input, Output};
    let mut wanted: Vec<(String, PortDir, usize, String)> = vec![
        ("aclk".into(), Input, 1, "clock".into()),
        ("aresetn".into(), Input, 1, "~reset".into()),
        ("error".into(), Output, 1, "error".into()),
        ("m_axis_y_tdata".into(), Output, 16, "y_data".into()),
        ("m_axis_y_tvalid".into(), Output, 1, "y_valid".into()),
        ("m_axis_y_tready".into(), Input, 1, "y_ready".into()),
        ("m_axis_y_tlast".into(), Output, 1, "y_last".into()),
    ];
    for s in inputs {
        let p = s.ports.prefix;
        let bits = s.ports.beat_bits();
        wanted.push((
            format!("s_axis_{p}_tdata"),
            Input,
            bits,
            format!("{p}_beat"),
        ));
        wanted.push((format!("s_axis_{p}_tvalid"), Input, 1, format!("{p}_valid")));
        wanted.push((
            format!("s_axis_{p}_tready"),
            Output,
            1,
            format!("{p}_ready"),
        ));
    }
    for (name, dir, bits, _) in &wanted {
        if !ports
            .iter()
            .any(|p| p.name == *name && p.dir == *dir && p.bits == *bits)
        {
            return Err(TestbenchError::Ports(format!(
                "the AXI4-Stream top has no {bits}-bit {dir:?} port `{name}`"
            )));
        }
    }
    let mut connections = Vec::new();
    let mut other_outputs = String::new();
    for port in ports {
        let name = &port.name;
        let signal = match wanted.iter().find(|w| w.0 == *name) {
            Some(w) => w.3.clone(),
            None => other_output(port, &mut other_outputs),
        };
        if signal.is_empty() {
            return Err(TestbenchError::Ports(format!(
                "the AXI4-Stream top's input `{name}` is none of aclk, aresetn or a stream's"
            )));
        }
        connections.push(format!("        .{name}({signal})"));
    }
    Ok(Dut {
        module: axis_top_name(core),
        connections,
        other_outputs,
        tlast: true,
    })
}

/// The testbench of `dut`'s Verilog.
fn verilog(h: &Header<'_>, dut: &Dut, inputs: &[InputVectors]) -> String {
    let top = h.top;
    let module = &dut.module;
    let mut v = String::new();
    let [iverilog, verilator] = run_commands(top, module);
    let sim = simulation_file_name(module);
    let (what, tlast) = if dut.tlast {
        (
            format!("the AXI4-Stream top `{module}` of `{top}`"),
            ",\n// checks tlast on each (high on a token's last output only)",
        )
    } else {
        (format!("`{top}`"), "")
    };
    let _ = write!(
        v,
        "// Self-checking testbench of {what} ({target}; {engine}), written by hgf-hw {version}
// (`hgf generate --testbench`). It streams {tokens} token(s) of a {shape} projection ({origin})
// through the core in {runs} run(s), compares every output with the golden model's
// ({top}_tb_y.hex){tlast} and prints one PASS or FAIL line; a failure ends with a non-zero
// exit. Run it in the directory of the hex files, with iverilog (on {sim}, the copy for
// event-driven simulators) or Verilator (on {module}.v):
//   $ {iverilog}
//   $ {verilator}
// Parameters: SEED (stall pattern), STALL (stall probability per cycle and stream, in
// 1/65536), MAX_CYCLES (gives up after that many cycles).
`timescale 1ns / 1ps

module {module}_tb;
    parameter SEED = {seed};
    parameter STALL = {stall};
    parameter MAX_CYCLES = {max_cycles};

    localparam D_OUT = {d_out};
    localparam Y_TOTAL = {outputs};

    reg clock = 1'b0;
    reg reset = 1'b1;
    always #5 clock = ~clock;

    // Stall pattern: xorshift32, never zero; a stall when its top 16 bits are below the
    // level (a variable, so that no comparison is constant when STALL = 0).
    reg [31:0] rng;
    reg [16:0] stall_level;
    function [31:0] xorshift;
        input [31:0] a;
        reg [31:0] b;
        begin
            b = a ^ (a << 13);
            b = b ^ (b >> 17);
            xorshift = b ^ (b << 5);
        end
    endfunction

    integer cycle;
    integer mismatches;
    integer tlast_errors;
",
        target = h.cfg.target,
        engine = h.cfg.engine_summary(),
        version = env!("CARGO_PKG_VERSION"),
        tokens = h.tokens,
        shape = h.shape,
        origin = h.origin,
        runs = h.runs,
        seed = h.seed,
        stall = h.stall,
        max_cycles = h.max_cycles,
        d_out = h.d_out,
        outputs = h.outputs,
    );
    for s in inputs {
        let p = s.ports.prefix;
        let up = p.to_uppercase();
        let bits = s.ports.beat_bits();
        let period = s.beats.len();
        let _ = write!(
            v,
            "
    // Stream {p}: {what}.
    localparam {up}_TOTAL = {total};
    localparam {up}_MEM = {mem};
    reg [{msb}:0] {p}_mem [0:{mem_last}];
    reg [{msb}:0] {p}_beat;
    reg {p}_valid;
    wire {p}_ready;
    integer {p}_sent;
",
            what = s.what,
            total = period * s.repeats,
            msb = bits - 1,
            mem = period.max(1),
            mem_last = period.max(1) - 1,
        );
    }
    let _ = write!(
        v,
        "
    // Stream y: the outputs, compared with the golden model's.
    reg [15:0] y_mem [0:Y_TOTAL-1];
    wire [15:0] y_data;
    wire y_valid;
    reg y_ready;
    integer y_got;
"
    );
    if dut.tlast {
        v.push_str("    wire y_last;\n");
    }

    let _ = write!(
        v,
        "
    // The core's other outputs.
    wire error;
{other_outputs}
    {module} core (
{}
    );
",
        dut.connections.join(",\n"),
        other_outputs = dut.other_outputs,
    );

    // Vectors.
    v.push_str("\n    initial begin\n");
    for s in inputs {
        if !s.beats.is_empty() {
            let _ = writeln!(
                v,
                "        $readmemh(\"{}\", {}_mem);",
                hex_name(top, s.ports.prefix),
                s.ports.prefix
            );
        }
    }
    let _ = write!(
        v,
        "        $readmemh(\"{}\", y_mem);
        stall_level = STALL;
        rng = SEED ^ 32'h9e3779b9;
        if (rng == 32'd0) rng = 32'h9e3779b9;
        cycle = 0;
        mismatches = 0;
        tlast_errors = 0;
        y_got = 0;
        y_ready = 1'b0;
",
        hex_name(top, "y")
    );
    for s in inputs {
        let p = s.ports.prefix;
        let _ = writeln!(
            v,
            "        {p}_sent = 0;\n        {p}_valid = 1'b0;\n        {p}_beat = 0;"
        );
    }
    v.push_str(
        "        // Synchronous reset for two rising edges, released between edges.
        repeat (2) @(posedge clock);
        @(negedge clock) reset = 1'b0;
    end
",
    );

    // The host: one clocked process, non-blocking on every signal the core reads.
    let _ = write!(
        v,
        "
    // The host: at each rising edge, count the beats that transferred (valid and ready
    // before the edge), check the output taken, and offer the next beats.
    always @(posedge clock) begin
        if (!reset) begin
            cycle = cycle + 1;
            if (y_valid && y_ready) begin
                if (y_got < Y_TOTAL && y_data !== y_mem[y_got]) begin
                    mismatches = mismatches + 1;
                    if (mismatches <= {MISMATCHES_SHOWN})
                        $display(\"mismatch: token %0d output %0d: core %h, golden model %h\",
                                 y_got / D_OUT, y_got % D_OUT, y_data, y_mem[y_got]);
                end
{tlast_check}                y_got = y_got + 1;
            end
",
        tlast_check = if dut.tlast {
            format!(
                "                if (y_last !== (y_got % D_OUT == D_OUT - 1)) begin
                    tlast_errors = tlast_errors + 1;
                    if (tlast_errors <= {MISMATCHES_SHOWN})
                        $display(\"tlast: token %0d output %0d: core %b, expected %b\",
                                 y_got / D_OUT, y_got % D_OUT, y_last, y_got % D_OUT == D_OUT - 1);
                end
"
            )
        } else {
            String::new()
        }
    );
    for s in inputs {
        let p = s.ports.prefix;
        let up = p.to_uppercase();
        let _ = write!(
            v,
            "            if ({p}_valid && {p}_ready) {p}_sent = {p}_sent + 1;
            if (!{p}_valid || {p}_ready) begin
                rng = xorshift(rng);
                if ({p}_sent < {up}_TOTAL && {{1'b0, rng[31:16]}} >= stall_level) begin
                    {p}_valid <= 1'b1;
                    {p}_beat <= {p}_mem[{p}_sent % {up}_MEM];
                end else
                    {p}_valid <= 1'b0;
            end
"
        );
    }
    let _ = write!(
        v,
        "            rng = xorshift(rng);
            y_ready <= ({{1'b0, rng[31:16]}} >= stall_level);
            if (y_got >= Y_TOTAL || error || cycle >= MAX_CYCLES) begin
                if (y_got == Y_TOTAL && mismatches == 0 && tlast_errors == 0 && !error) begin
                    $display(\"PASS: {module}_tb: %0d of %0d outputs match the golden model (tokens %0d, cycles %0d, STALL %0d/65536, SEED %0d)\",
                             Y_TOTAL, Y_TOTAL, Y_TOTAL / D_OUT, cycle, STALL, SEED);
                    $finish;
                end else begin
                    if (error)
                        $display(\"FAIL: {module}_tb: the core refused a descriptor (error) after %0d of %0d outputs, %0d differ (%0d cycles, STALL %0d/65536, SEED %0d)\",
                                 y_got, Y_TOTAL, mismatches, cycle, STALL, SEED);
                    else if (y_got < Y_TOTAL)
                        $display(\"FAIL: {module}_tb: %0d of %0d outputs after MAX_CYCLES = %0d cycles, %0d differ (STALL %0d/65536, SEED %0d)\",
                                 y_got, Y_TOTAL, MAX_CYCLES, mismatches, STALL, SEED);
                    else if (mismatches > 0)
                        $display(\"FAIL: {module}_tb: %0d of %0d outputs differ from the golden model (tokens %0d, cycles %0d, STALL %0d/65536, SEED %0d)\",
                                 mismatches, Y_TOTAL, Y_TOTAL / D_OUT, cycle, STALL, SEED);
                    else
                        $display(\"FAIL: {module}_tb: %0d of %0d outputs have a wrong tlast (tokens %0d, cycles %0d, STALL %0d/65536, SEED %0d)\",
                                 tlast_errors, Y_TOTAL, Y_TOTAL / D_OUT, cycle, STALL, SEED);
                    $fatal(1, \"{module}_tb failed\");
                end
            end
        end
    end
endmodule
"
    );
    v
}

/// The testbench signal a core port connects to, if it is one of a stream's.
fn connect(port: &Port, inputs: &[InputVectors], y: &StreamPorts) -> Option<String> {
    let streams = inputs.iter().map(|s| &s.ports).chain(std::iter::once(y));
    for s in streams {
        let p = s.prefix;
        if port.name == format!("{p}_valid") {
            return Some(format!("{p}_valid"));
        }
        if port.name == format!("{p}_ready") {
            return Some(format!("{p}_ready"));
        }
        if let Some(lane) = s.lanes.iter().position(|l| *l == port.name) {
            if p == "y" {
                return Some("y_data".into());
            }
            let w = s.lane_bits;
            return Some(if s.lanes.len() == 1 {
                format!("{p}_beat")
            } else {
                format!("{p}_beat[{}:{}]", lane * w + w - 1, lane * w)
            });
        }
    }
    None
}

/// A Verilog identifier from a port name, `$` replaced.
fn plain(name: &str) -> String {
    name.replace('$', "_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hgf_golden::Shape;

    /// The ports of a core of `cfg`, data lanes named `<p>_data<sep><i>`.
    fn ports(cfg: &HgfConfig, sep: char) -> Vec<Port> {
        let port = |name: String, dir: PortDir, bits: usize| Port { name, dir, bits };
        let mut ports = vec![
            port("clock".into(), PortDir::Input, 1),
            port("reset".into(), PortDir::Input, 1),
        ];
        for (p, lanes, bits) in [
            ("s", 0, 32),
            ("x", 0, 16),
            ("t", cfg.weight_beat_bytes(), 8),
            ("f", cfg.fp_lanes, 16),
        ] {
            ports.push(port(format!("{p}_valid"), PortDir::Input, 1));
            ports.push(port(format!("{p}_ready"), PortDir::Output, 1));
            if lanes == 0 {
                ports.push(port(format!("{p}_data"), PortDir::Input, bits));
            }
            // Declared out of order: the lane number decides, not the position.
            for i in (0..lanes).rev() {
                ports.push(port(format!("{p}_data{sep}{i}"), PortDir::Input, bits));
            }
        }
        ports.push(port("y_valid".into(), PortDir::Output, 1));
        ports.push(port("y_ready".into(), PortDir::Input, 1));
        ports.push(port("y_data".into(), PortDir::Output, 16));
        ports.push(port("status".into(), PortDir::Output, 4));
        ports.push(port("error".into(), PortDir::Output, 1));
        ports
    }

    /// The ports of the AXI4-Stream top of a core of `cfg`.
    fn axis_ports(cfg: &HgfConfig) -> Vec<Port> {
        let port = |name: &str, dir: PortDir, bits: usize| Port {
            name: name.to_string(),
            dir,
            bits,
        };
        let mut ports = vec![
            port("aclk", PortDir::Input, 1),
            port("aresetn", PortDir::Input, 1),
        ];
        for (p, bits) in [
            ("s", 32),
            ("x", 16),
            ("t", 8 * cfg.weight_beat_bytes()),
            ("f", 16 * cfg.fp_lanes),
        ] {
            ports.push(port(&format!("s_axis_{p}_tdata"), PortDir::Input, bits));
            ports.push(port(&format!("s_axis_{p}_tvalid"), PortDir::Input, 1));
            ports.push(port(&format!("s_axis_{p}_tready"), PortDir::Output, 1));
        }
        ports.push(port("m_axis_y_tdata", PortDir::Output, 16));
        ports.push(port("m_axis_y_tvalid", PortDir::Output, 1));
        ports.push(port("m_axis_y_tready", PortDir::Input, 1));
        ports.push(port("m_axis_y_tlast", PortDir::Output, 1));
        ports.push(port("status", PortDir::Output, 4));
        ports.push(port("error", PortDir::Output, 1));
        ports
    }

    fn bench(cfg: &HgfConfig, ports: &[Port]) -> Result<Testbench, TestbenchError> {
        let w = HgfWeights::random(Shape::new(12, 9, 1), 3);
        let tokens = vec![vec![f16::from_f32(0.5); 12]; 2];
        testbench(&TestbenchSpec {
            cfg,
            ports,
            axis_ports: &axis_ports(cfg),
            weights: &w,
            tokens: &tokens,
            origin: "test".into(),
            stall: 0.5,
            seed: 9,
        })
    }

    #[test]
    fn lanes_connect_by_number_whatever_the_separator() {
        let cfg = HgfConfig::default();
        let lanes = cfg.weight_beat_bytes();
        assert!(lanes > 10, "the default core has lanes 0..{lanes}");
        for sep in ['$', '_'] {
            let tb = bench(&cfg, &ports(&cfg, sep)).unwrap();
            let v = &tb.files[0].1;
            assert!(v.contains(&format!(".t_data{sep}10(t_beat[87:80])")), "{v}");
            assert!(v.contains(&format!(".f_data{sep}3(f_beat[63:48])")), "{v}");
            assert!(v.contains(".status(core_status)"));
            assert!(v.contains("parameter STALL = 32768;"));
            assert_eq!(tb.outputs, 18);
        }
        assert_eq!(file_names(&cfg.name)[0], "hgf_core_tb.v");
    }

    #[test]
    fn the_axis_testbench_drives_the_packed_buses_and_checks_tlast() {
        let cfg = HgfConfig::default();
        let tb = bench(&cfg, &ports(&cfg, '_')).unwrap();
        assert_eq!(tb.axis_top, "hgf_core_axis_tb");
        assert_eq!(tb.axis_file.0, "hgf_core_axis_tb.v");
        assert_eq!(file_names(&cfg.name).last().unwrap(), "hgf_core_axis_tb.v");
        let v = &tb.axis_file.1;
        assert!(v.contains("hgf_core_axis core ("), "{v}");
        assert!(v.contains(".aresetn(~reset)"));
        assert!(v.contains(".s_axis_t_tdata(t_beat)"));
        assert!(v.contains(".m_axis_y_tlast(y_last)"));
        assert!(v.contains("$readmemh(\"hgf_core_tb_y.hex\", y_mem);"));
        assert!(v.contains("iverilog -g2005 -s hgf_core_axis_tb"));
        assert!(v.contains("hgf_core_axis_sim.v"));
        // One width-waiver file covers every Verilog file of the core.
        assert!(
            v.contains("hgf_core.vlt hgf_core_axis_tb.v hgf_core_axis.v"),
            "{v}"
        );
        assert!(!tb.files[0].1.contains("y_last"), "the core has no tlast");

        let mut axis = axis_ports(&cfg);
        axis.retain(|p| p.name != "m_axis_y_tlast");
        let w = HgfWeights::random(Shape::new(12, 9, 1), 3);
        let tokens = vec![vec![f16::from_f32(0.5); 12]];
        let err = testbench(&TestbenchSpec {
            cfg: &cfg,
            ports: &ports(&cfg, '_'),
            axis_ports: &axis,
            weights: &w,
            tokens: &tokens,
            origin: "test".into(),
            stall: 0.0,
            seed: 1,
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("`m_axis_y_tlast`"), "{err}");
    }

    #[test]
    fn vectors_hold_one_beat_per_line_lane_0_lowest() {
        let cfg = HgfConfig::default();
        let tb = bench(&cfg, &ports(&cfg, '_')).unwrap();
        let file = |stream: &str| {
            let name = format!("hgf_core_tb_{stream}.hex");
            let text = &tb.files.iter().find(|(n, _)| *n == name).unwrap().1;
            text.lines().skip(1).map(str::to_string).collect::<Vec<_>>()
        };
        // The descriptor: d_in, d_out, rank, tokens, then beta and g.
        assert_eq!(
            file("s")[..4],
            ["0000000c", "00000009", "00000001", "00000002"]
        );
        assert_eq!(file("x").len(), 24);
        assert!(file("x").iter().all(|w| w == "3800"));
        let layout = cfg.layout(Shape::new(12, 9, 1));
        assert_eq!(file("t").len(), layout.weight_beats());
        assert!(file("t")
            .iter()
            .all(|b| b.len() == 2 * cfg.weight_beat_bytes()));
        assert_eq!(file("f").len(), layout.factor_beats());
        assert_eq!(file("y").len(), 18);
    }

    #[test]
    fn a_core_without_a_stream_or_with_other_lanes_is_refused() {
        let cfg = HgfConfig::default();
        let mut ports = ports(&cfg, '$');
        ports.retain(|p| p.name != "f_data$2");
        let err = bench(&cfg, &ports).unwrap_err().to_string();
        assert!(err.contains("stream `f`"), "{err}");
        let up5k = HgfConfig::preset("up5k").unwrap();
        let err = bench(&up5k, &self::ports(&cfg, '$'))
            .unwrap_err()
            .to_string();
        assert!(err.contains("data lanes"), "{err}");
    }
}
