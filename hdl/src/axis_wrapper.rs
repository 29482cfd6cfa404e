//! The core behind AXI4-Stream ports: the top `<name>_axis` that `hgf generate` writes beside
//! the core, for an engineer who connects it to DMA engines and interconnects.

use hgf_golden::streams::DESCRIPTOR_BEATS;
use hgf_golden::HgfConfig;
use rust_hdl::core::ast::{
    Verilog, VerilogBlock, VerilogExpression, VerilogLiteral, VerilogOp, VerilogOpUnary,
    VerilogStatement,
};
use rust_hdl::core::atom::{Atom, AtomKind};
use rust_hdl::core::constraint::PinConstraint;
use rust_hdl::core::probe::Probe;
use rust_hdl::core::synth::VCDValue;
use rust_hdl::core::type_descriptor::{TypeDescriptor, TypeKind};
use rust_hdl::prelude::*;

use crate::projection_core::HgfCore;

/// A data bus whose width is known only at run time (`weight_beat_bytes · 8` bits): rust-hdl's
/// `Signal<_, Bits<N>>` needs `N` at compile time. It is a port of [`AxisWrapper`] and only
/// ever appears in its emitted Verilog (no rust-hdl simulation: the wrapper is co-simulated
/// in Verilator, `sim/tests/axis_cosim.rs`).
#[derive(Clone, Debug)]
pub struct PackedBus {
    bits: usize,
    kind: AtomKind,
    id: usize,
}

impl PackedBus {
    fn input(bits: usize) -> Self {
        Self {
            bits,
            kind: AtomKind::InputParameter,
            id: rust_hdl::core::signal::get_signal_id(),
        }
    }
}

impl Logic for PackedBus {
    fn update(&mut self) {}
}

impl Block for PackedBus {
    fn connect_all(&mut self) {}
    fn update_all(&mut self) {}
    fn has_changed(&self) -> bool {
        false
    }
    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        probe.visit_atom(name, self);
    }
}

impl Atom for PackedBus {
    fn bits(&self) -> usize {
        self.bits
    }
    fn connected(&self) -> bool {
        true
    }
    fn changed(&self) -> bool {
        false
    }
    fn kind(&self) -> AtomKind {
        self.kind
    }
    fn descriptor(&self) -> TypeDescriptor {
        TypeDescriptor {
            name: format!("Bits::<{}>", self.bits),
            kind: TypeKind::Bits(self.bits),
        }
    }
    fn vcd(&self) -> VCDValue {
        VCDValue::String(String::new())
    }
    fn id(&self) -> usize {
        self.id
    }
    fn verilog(&self) -> VerilogLiteral {
        VerilogLiteral::from(false)
    }
    fn constraints(&self) -> Vec<PinConstraint> {
        Vec::new()
    }
}

/// `m_axis_y_tlast`: high while the output on `y` is the last of its token.
///
/// It follows the descriptors on the scalar stream as they transfer at the top's ports: beat 1
/// of each is the run's `d_out`, and outputs are counted modulo it. A descriptor's `d_out`
/// cannot transfer before the previous run's last output has (the core takes a descriptor
/// only between runs, and its one-beat input slice holds at most the next descriptor's beat
/// 0), so the count always uses the current run's `d_out`. Reset clears both counts.
#[derive(LogicBlock)]
pub struct TokenLast {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// A scalar beat transfers at this edge.
    pub s_fire: Signal<In, Bit>,
    pub s_data: Signal<In, Bits<32>>,
    /// An output transfers at this edge.
    pub y_fire: Signal<In, Bit>,
    pub last: Signal<Out, Bit>,
    /// Scalar beats of the current descriptor so far.
    s_count: DFF<Bits<3>>,
    d_out: DFF<Bits<32>>,
    /// Outputs of the current token so far.
    y_count: DFF<Bits<32>>,
    /// Typed constants of the descriptor count, so that no 32-bit literal meets its 3 bits
    /// (the Verilog stays free of width mismatches, docs/lint-waivers.md).
    descriptor_end: Constant<Bits<3>>,
    s_zero: Constant<Bits<3>>,
    s_one: Constant<Bits<3>>,
}

impl TokenLast {
    fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            s_fire: Default::default(),
            s_data: Default::default(),
            y_fire: Default::default(),
            last: Default::default(),
            s_count: Default::default(),
            d_out: Default::default(),
            y_count: Default::default(),
            descriptor_end: Constant::new(((DESCRIPTOR_BEATS - 1) as u64).into()),
            s_zero: Constant::new(0u64.into()),
            s_one: Constant::new(1u64.into()),
        }
    }
}

impl Logic for TokenLast {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, s_count, d_out, y_count);
        self.last.next = self.y_count.q.val() == self.d_out.q.val() - 1;
        if self.s_fire.val() {
            self.s_count.d.next = self.s_count.q.val() + self.s_one.val();
            if self.s_count.q.val() == self.descriptor_end.val() {
                self.s_count.d.next = self.s_zero.val();
            }
            if self.s_count.q.val() == self.s_one.val() {
                self.d_out.d.next = self.s_data.val();
            }
        }
        if self.y_fire.val() {
            self.y_count.d.next = self.y_count.q.val() + 1;
            if self.last.val() {
                self.y_count.d.next = 0.into();
            }
        }
        if self.reset.val() {
            self.s_count.d.next = self.s_zero.val();
            self.y_count.d.next = 0.into();
        }
    }
}

/// The [`HgfCore`] behind AXI4-Stream ports (`AxisWrapper`), the top `<name>_axis`.
///
/// **Function.** Each stream of the core (docs/interfaces.md) becomes an AXI4-Stream
/// interface with the same beats: a beat transfers on a rising edge of `aclk` with `tvalid`
/// and `tready` both high. Multi-lane beats are packed into one `tdata` bus, lane `i` in bits
/// `[i·w, (i+1)·w)` (`w` = 8 for the weight bytes, 16 for the factor lanes). `m_axis_y_tlast` is
/// high on the last output of each token ([`TokenLast`]). The input streams have no `tlast`:
/// the descriptor sets every count. `aresetn` is the core's reset, active low and synchronous,
/// as AXI4-Stream has it. `status`, `block` and `error` are the core's.
///
/// | port | dir | bits | core port |
/// |---|---|---|---|
/// | `aclk` | in | 1 | `clock` |
/// | `aresetn` | in | 1 | `reset`, inverted |
/// | `s_axis_s_tdata`, `_tvalid`, `_tready` | in, in, out | 32, 1, 1 | `s_data`, `s_valid`, `s_ready` |
/// | `s_axis_x_tdata`, `_tvalid`, `_tready` | in, in, out | 16, 1, 1 | `x_data`, `x_valid`, `x_ready` |
/// | `s_axis_t_tdata`, `_tvalid`, `_tready` | in, in, out | 8·`weight_beat_bytes`, 1, 1 | `t_data_0` (bits 7:0) ..., `t_valid`, `t_ready` |
/// | `s_axis_f_tdata`, `_tvalid`, `_tready` | in, in, out | 16·`fp_lanes`, 1, 1 | `f_data_0` (bits 15:0) ..., `f_valid`, `f_ready` |
/// | `m_axis_y_tdata`, `_tvalid`, `_tready`, `_tlast` | out, out, in, out | 16, 1, 1, 1 | `y_data`, `y_valid`, `y_ready`, last of a token |
/// | `status`, `block`, `error` | out | 4, 20, 1 | the same |
///
/// **Latency** none added to the core's. **Resources** the core's and [`TokenLast`]'s 67
/// register bits. **Golden** the core's: co-simulated bit-exact with random stalls by the
/// core's own driver through a port-name mapping (`hgf_sim::core_driver::CorePorts::axis`).
#[derive(LogicBlock)]
pub struct AxisWrapper {
    pub aclk: Signal<In, Clock>,
    pub aresetn: Signal<In, Bit>,
    pub s_axis_s_tdata: Signal<In, Bits<32>>,
    pub s_axis_s_tvalid: Signal<In, Bit>,
    pub s_axis_s_tready: Signal<Out, Bit>,
    pub s_axis_x_tdata: Signal<In, Bits<16>>,
    pub s_axis_x_tvalid: Signal<In, Bit>,
    pub s_axis_x_tready: Signal<Out, Bit>,
    pub s_axis_t_tdata: PackedBus,
    pub s_axis_t_tvalid: Signal<In, Bit>,
    pub s_axis_t_tready: Signal<Out, Bit>,
    pub s_axis_f_tdata: PackedBus,
    pub s_axis_f_tvalid: Signal<In, Bit>,
    pub s_axis_f_tready: Signal<Out, Bit>,
    pub m_axis_y_tdata: Signal<Out, Bits<16>>,
    pub m_axis_y_tvalid: Signal<Out, Bit>,
    pub m_axis_y_tready: Signal<In, Bit>,
    pub m_axis_y_tlast: Signal<Out, Bit>,
    pub status: Signal<Out, Bits<4>>,
    pub block: Signal<Out, Bits<20>>,
    pub error: Signal<Out, Bit>,
    core: HgfCore,
    token_last: TokenLast,
}

impl AxisWrapper {
    /// The wrapper around the core of `cfg`.
    pub fn new(cfg: &HgfConfig) -> Self {
        Self {
            aclk: Default::default(),
            aresetn: Default::default(),
            s_axis_s_tdata: Default::default(),
            s_axis_s_tvalid: Default::default(),
            s_axis_s_tready: Default::default(),
            s_axis_x_tdata: Default::default(),
            s_axis_x_tvalid: Default::default(),
            s_axis_x_tready: Default::default(),
            s_axis_t_tdata: PackedBus::input(8 * cfg.weight_beat_bytes()),
            s_axis_t_tvalid: Default::default(),
            s_axis_t_tready: Default::default(),
            s_axis_f_tdata: PackedBus::input(16 * cfg.fp_lanes),
            s_axis_f_tvalid: Default::default(),
            s_axis_f_tready: Default::default(),
            m_axis_y_tdata: Default::default(),
            m_axis_y_tvalid: Default::default(),
            m_axis_y_tready: Default::default(),
            m_axis_y_tlast: Default::default(),
            status: Default::default(),
            block: Default::default(),
            error: Default::default(),
            core: HgfCore::new(cfg),
            token_last: TokenLast::new(),
        }
    }

    /// Name of the wrapper's top module for the config: `<name>_axis`.
    pub fn top_name(cfg: &HgfConfig) -> String {
        format!("{}_axis", cfg.name)
    }

    /// The wrapper's wiring: every connection is a wire (or an inverter, for the reset, and an
    /// AND for the counter's transfers), written as the statements of one combinational block
    /// in rust-hdl's own representation, which rust-hdl then writes and checks like the blocks
    /// `#[hdl_gen]` builds (names in its naming, `core$t_data$3`, which the readable pass makes
    /// `core_t_data_3`). `#[hdl_gen]` cannot build it: a packed bus's lanes are slices whose
    /// count depends on the config, and its width is not a compile-time constant.
    fn wiring(&self) -> VerilogBlock {
        let wire =
            |to: &str, from: VerilogExpression| VerilogStatement::Assignment(signal(to), from);
        let mut block = vec![
            wire("core$clock", signal("aclk")),
            wire("core$reset", not(signal("aresetn"))),
            wire("token_last$clock", signal("aclk")),
            wire("token_last$reset", not(signal("aresetn"))),
        ];
        for s in ["s", "x", "t", "f"] {
            block.push(wire(
                &format!("core${s}_valid"),
                signal(&format!("s_axis_{s}_tvalid")),
            ));
            block.push(wire(
                &format!("s_axis_{s}_tready"),
                signal(&format!("core${s}_ready")),
            ));
        }
        block.push(wire("core$s_data", signal("s_axis_s_tdata")));
        block.push(wire("core$x_data", signal("s_axis_x_tdata")));
        for i in 0..self.core.t_data.len() {
            block.push(wire(
                &format!("core$t_data${i}"),
                lane("s_axis_t_tdata", 8, i),
            ));
        }
        for l in 0..self.core.f_data.len() {
            block.push(wire(
                &format!("core$f_data${l}"),
                lane("s_axis_f_tdata", 16, l),
            ));
        }
        for (to, from) in [
            ("m_axis_y_tdata", "core$y_data"),
            ("m_axis_y_tvalid", "core$y_valid"),
            ("core$y_ready", "m_axis_y_tready"),
            ("m_axis_y_tlast", "token_last$last"),
            ("token_last$s_data", "s_axis_s_tdata"),
            ("status", "core$status"),
            ("block", "core$block"),
            ("error", "core$error"),
        ] {
            block.push(wire(to, signal(from)));
        }
        block.push(wire(
            "token_last$s_fire",
            and(signal("s_axis_s_tvalid"), signal("core$s_ready")),
        ));
        block.push(wire(
            "token_last$y_fire",
            and(signal("core$y_valid"), signal("m_axis_y_tready")),
        ));
        block
    }
}

fn signal(name: &str) -> VerilogExpression {
    VerilogExpression::Signal(name.to_string())
}

fn not(e: VerilogExpression) -> VerilogExpression {
    VerilogExpression::Unary(VerilogOpUnary::Not, Box::new(e))
}

fn and(a: VerilogExpression, b: VerilogExpression) -> VerilogExpression {
    VerilogExpression::Binary(Box::new(a), VerilogOp::BitAnd, Box::new(b))
}

/// Lane `i` of `bits` bits of the packed bus `bus`: bits `[i·bits, (i+1)·bits)`.
fn lane(bus: &str, bits: usize, i: usize) -> VerilogExpression {
    let offset = u32::try_from(bits * i).expect("a lane's offset fits 32 bits");
    VerilogExpression::Slice(
        Box::new(signal(bus)),
        bits,
        Box::new(VerilogExpression::Literal(offset.into())),
    )
}

impl Logic for AxisWrapper {
    fn update(&mut self) {}

    /// Claims what [`AxisWrapper::wiring`] drives, for rust-hdl's connection check.
    fn connect(&mut self) {
        self.core.clock.connect();
        self.core.reset.connect();
        self.core.s_valid.connect();
        self.core.s_data.connect();
        self.core.x_valid.connect();
        self.core.x_data.connect();
        self.core.t_valid.connect();
        self.core.f_valid.connect();
        self.core.y_ready.connect();
        for t in &mut self.core.t_data {
            t.connect();
        }
        for f in &mut self.core.f_data {
            f.connect();
        }
        self.token_last.clock.connect();
        self.token_last.reset.connect();
        self.token_last.s_fire.connect();
        self.token_last.s_data.connect();
        self.token_last.y_fire.connect();
        self.s_axis_s_tready.connect();
        self.s_axis_x_tready.connect();
        self.s_axis_t_tready.connect();
        self.s_axis_f_tready.connect();
        self.m_axis_y_tdata.connect();
        self.m_axis_y_tvalid.connect();
        self.m_axis_y_tlast.connect();
        self.status.connect();
        self.block.connect();
        self.error.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Combinatorial(self.wiring())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::tiny_config;
    use crate::verilog::{check_all_tools, emit_named};

    #[test]
    fn the_axis_top_passes_the_tools_with_packed_buses() {
        let cfg = tiny_config();
        let mut uut = AxisWrapper::new(&cfg);
        uut.connect_all();
        let top = AxisWrapper::top_name(&cfg);
        let v = emit_named(&uut, &top).unwrap();
        check_all_tools(&top, &v).unwrap();
        let ports = crate::manifest::verilog_ports(&v, &top);
        let bits = |name: &str| ports.iter().find(|p| p.name == name).map(|p| p.bits);
        assert_eq!(bits("s_axis_t_tdata"), Some(8 * cfg.weight_beat_bytes()));
        assert_eq!(bits("s_axis_f_tdata"), Some(32));
        assert_eq!(bits("m_axis_y_tlast"), Some(1));
        assert_eq!(bits("aresetn"), Some(1));
        assert_eq!(ports.len(), 21, "{ports:?}");
    }
}
