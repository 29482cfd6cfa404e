//! The core behind a handful of pins, for place-and-route and Fmax measurements.

use hgf_golden::HgfConfig;
use rust_hdl::prelude::*;

use crate::projection_core::HgfCore;

/// Bits of the output shift register: `error` (1), `block` (20), `status` (4) and `y_data` (16).
const OUT_BITS: usize = 41;

/// The [`HgfCore`] with its wide data ports behind shift registers (`PnrWrapper`).
///
/// **Function.** The core's data ports are hundreds of bits wide (every `t_data_i` and
/// `f_data_l` beat in parallel): far more than the pins of an iCE40 UP5K SG48 (39) or an ECP5
/// CABGA256 (197). A design placed with unconstrained wide I/O either does not fit the
/// package or measures pad-to-pad paths instead of the core. This wrapper is what a user
/// measuring Fmax would write: every core data input comes from a register loaded bit by bit
/// from one serial pin, and every core data output goes into a register shifted out on one
/// pin. Nothing is constant and nothing is unobserved, so synthesis cannot trim any of the
/// core's logic; the handshakes stay pins so the core's control paths are real too.
///
/// Input shift registers, one per stream, all fed from `sdi`: `s` (32 bits), `x` (16 bits),
/// `t` (`weight_beat_bytes` registers of 8 bits), `f` (`fp_lanes` registers of 16 bits). On
/// an edge with `<s>_shift` high the stream's chain shifts up by one: `sdi` enters bit 0 of
/// register 0, and the top bit of register `i` moves into bit 0 of register `i + 1`. The
/// registers drive `s_data`, `x_data`, `t_data_i` and `f_data_l` directly.
///
/// Output shift register (40 bits): on an edge with `out_load` high it takes
/// `{error, block, status, y_data}`; on every other edge it shifts down by one. `sdo` is its bit 0,
/// so `y_data` comes out first, least significant bit first.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | the core's clock |
/// | `reset` | in | 1 | registered once, then the core's `reset` |
/// | `sdi` | in | 1 | serial data into the input shift registers |
/// | `s_shift`, `x_shift`, `t_shift`, `f_shift` | in | 1 each | shift `sdi` into that stream's register chain |
/// | `s_valid`, `x_valid`, `t_valid`, `f_valid` | in | 1 each | the core's input valids |
/// | `s_ready`, `x_ready`, `t_ready`, `f_ready` | out | 1 each | the core's input readies |
/// | `y_valid`, `y_ready` | out, in | 1, 1 | the core's output handshake |
/// | `out_load` | in | 1 | load `{error, block, status, y_data}` into the output shift register |
/// | `sdo` | out | 1 | bit 0 of the output shift register |
///
/// 19 pins in all, whatever the config. **Latency** none added to the core's. **Resources**
/// the core's, plus `48 + 8·weight_beat_bytes + 16·fp_lanes` input register bits
/// ([`PnrWrapper::input_register_bits`]), 40 output register bits and one reset register.
/// **Golden** none (a test fixture for the synthesis flow, not part of the core).
#[derive(LogicBlock)]
pub struct PnrWrapper {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub sdi: Signal<In, Bit>,
    pub s_shift: Signal<In, Bit>,
    pub x_shift: Signal<In, Bit>,
    pub t_shift: Signal<In, Bit>,
    pub f_shift: Signal<In, Bit>,
    pub s_valid: Signal<In, Bit>,
    pub x_valid: Signal<In, Bit>,
    pub t_valid: Signal<In, Bit>,
    pub f_valid: Signal<In, Bit>,
    pub s_ready: Signal<Out, Bit>,
    pub x_ready: Signal<Out, Bit>,
    pub t_ready: Signal<Out, Bit>,
    pub f_ready: Signal<Out, Bit>,
    pub y_valid: Signal<Out, Bit>,
    pub y_ready: Signal<In, Bit>,
    pub out_load: Signal<In, Bit>,
    pub sdo: Signal<Out, Bit>,
    core: HgfCore,
    reset_reg: DFF<Bit>,
    s_reg: DFF<Bits<32>>,
    x_reg: DFF<Bits<16>>,
    t_reg: Vec<DFF<Bits<8>>>,
    f_reg: Vec<DFF<Bits<16>>>,
    out_reg: DFF<Bits<OUT_BITS>>,
    out_word: Signal<Local, Bits<OUT_BITS>>,
    /// The bit shifted into each input register, and `error` in its output bit, as words of
    /// their register's width (0 or the bit): added or cast as a bit, it would meet the
    /// register at 1 bit, a width mismatch in the Verilog (docs/lint-waivers.md).
    s_in: Signal<Local, Bits<32>>,
    x_in: Signal<Local, Bits<16>>,
    t_in: Vec<Signal<Local, Bits<8>>>,
    f_in: Vec<Signal<Local, Bits<16>>>,
    error_word: Signal<Local, Bits<OUT_BITS>>,
    // Typed constants of those widths.
    zero8: Constant<Bits<8>>,
    one8: Constant<Bits<8>>,
    zero16: Constant<Bits<16>>,
    one16: Constant<Bits<16>>,
    out_zero: Constant<Bits<OUT_BITS>>,
    error_bit: Constant<Bits<OUT_BITS>>,
}

impl PnrWrapper {
    /// The wrapper around the core of `cfg`.
    pub fn new(cfg: &HgfConfig) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            sdi: Default::default(),
            s_shift: Default::default(),
            x_shift: Default::default(),
            t_shift: Default::default(),
            f_shift: Default::default(),
            s_valid: Default::default(),
            x_valid: Default::default(),
            t_valid: Default::default(),
            f_valid: Default::default(),
            s_ready: Default::default(),
            x_ready: Default::default(),
            t_ready: Default::default(),
            f_ready: Default::default(),
            y_valid: Default::default(),
            y_ready: Default::default(),
            out_load: Default::default(),
            sdo: Default::default(),
            core: HgfCore::new(cfg),
            reset_reg: Default::default(),
            s_reg: Default::default(),
            x_reg: Default::default(),
            t_reg: (0..cfg.weight_beat_bytes())
                .map(|_| Default::default())
                .collect(),
            f_reg: (0..cfg.fp_lanes).map(|_| Default::default()).collect(),
            out_reg: Default::default(),
            out_word: Default::default(),
            s_in: Default::default(),
            x_in: Default::default(),
            t_in: (0..cfg.weight_beat_bytes())
                .map(|_| Default::default())
                .collect(),
            f_in: (0..cfg.fp_lanes).map(|_| Default::default()).collect(),
            error_word: Default::default(),
            zero8: Constant::new(0u64.into()),
            one8: Constant::new(1u64.into()),
            zero16: Constant::new(0u64.into()),
            one16: Constant::new(1u64.into()),
            out_zero: Constant::new(0u64.into()),
            error_bit: Constant::new((1u64 << 40).into()),
        }
    }

    /// Name of the wrapper's top module for the config: `<name>_pnr`.
    pub fn top_name(cfg: &HgfConfig) -> String {
        format!("{}_pnr", cfg.name)
    }

    /// Register bits that hold the core's data inputs: a lower bound on the flip-flops of any
    /// synthesis of the wrapper, since none of them can be trimmed.
    pub fn input_register_bits(cfg: &HgfConfig) -> usize {
        HgfCore::input_data_bits(cfg)
    }

    /// Bits of the output shift register.
    pub const OUTPUT_REGISTER_BITS: usize = OUT_BITS;
}

impl Logic for PnrWrapper {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, reset_reg, s_reg, x_reg, out_reg);
        clock!(self, clock, core);
        for i in 0..self.t_reg.len() {
            self.t_reg[i].clock.next = self.clock.val();
            self.t_reg[i].d.next = self.t_reg[i].q.val();
        }
        for l in 0..self.f_reg.len() {
            self.f_reg[l].clock.next = self.clock.val();
            self.f_reg[l].d.next = self.f_reg[l].q.val();
        }

        // Reset: one register between the pin and the core.
        self.reset_reg.d.next = self.reset.val();
        self.core.reset.next = self.reset_reg.q.val();

        // Input shift registers.
        self.s_in.next = 0.into();
        self.x_in.next = self.zero16.val();
        self.t_in[0].next = self.zero8.val();
        self.f_in[0].next = self.zero16.val();
        if self.sdi.val() {
            self.s_in.next = 1.into();
            self.x_in.next = self.one16.val();
            self.t_in[0].next = self.one8.val();
            self.f_in[0].next = self.one16.val();
        }
        for i in 1..self.t_reg.len() {
            self.t_in[i].next = self.zero8.val();
            if self.t_reg[i - 1].q.val().get_bit(7) {
                self.t_in[i].next = self.one8.val();
            }
        }
        for l in 1..self.f_reg.len() {
            self.f_in[l].next = self.zero16.val();
            if self.f_reg[l - 1].q.val().get_bit(15) {
                self.f_in[l].next = self.one16.val();
            }
        }
        if self.s_shift.val() {
            self.s_reg.d.next = (self.s_reg.q.val() << 1) + self.s_in.val();
        }
        if self.x_shift.val() {
            self.x_reg.d.next = (self.x_reg.q.val() << 1) + self.x_in.val();
        }
        if self.t_shift.val() {
            for i in 0..self.t_reg.len() {
                self.t_reg[i].d.next = (self.t_reg[i].q.val() << 1) + self.t_in[i].val();
            }
        }
        if self.f_shift.val() {
            for l in 0..self.f_reg.len() {
                self.f_reg[l].d.next = (self.f_reg[l].q.val() << 1) + self.f_in[l].val();
            }
        }
        self.core.s_data.next = self.s_reg.q.val();
        self.core.x_data.next = self.x_reg.q.val();
        for i in 0..self.t_reg.len() {
            self.core.t_data[i].next = self.t_reg[i].q.val();
        }
        for l in 0..self.f_reg.len() {
            self.core.f_data[l].next = self.f_reg[l].q.val();
        }

        // Handshakes stay pins.
        self.core.s_valid.next = self.s_valid.val();
        self.core.x_valid.next = self.x_valid.val();
        self.core.t_valid.next = self.t_valid.val();
        self.core.f_valid.next = self.f_valid.val();
        self.s_ready.next = self.core.s_ready.val();
        self.x_ready.next = self.core.x_ready.val();
        self.t_ready.next = self.core.t_ready.val();
        self.f_ready.next = self.core.f_ready.val();
        self.y_valid.next = self.core.y_valid.val();
        self.core.y_ready.next = self.y_ready.val();

        // Output shift register.
        self.error_word.next = self.out_zero.val();
        if self.core.error.val() {
            self.error_word.next = self.error_bit.val();
        }
        // The casts of the core's fields to the output word are the width mismatches left.
        self.out_word.next = self.error_word.val()
            | (bit_cast::<OUT_BITS, 20>(self.core.block.val()) << 20)
            | (bit_cast::<OUT_BITS, 4>(self.core.status.val()) << 16)
            | bit_cast::<OUT_BITS, 16>(self.core.y_data.val());
        if self.out_load.val() {
            self.out_reg.d.next = self.out_word.val();
        } else {
            self.out_reg.d.next = self.out_reg.q.val() >> 1;
        }
        self.sdo.next = self.out_reg.q.val().get_bit(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{settle, tick, tiny_config};
    use crate::verilog::{check_all_tools, emit_named};

    #[test]
    fn wrapper_verilog_passes_the_tools_and_has_19_pins() {
        let cfg = tiny_config();
        let mut uut = PnrWrapper::new(&cfg);
        uut.connect_all();
        let top = PnrWrapper::top_name(&cfg);
        let v = emit_named(&uut, &top).unwrap();
        assert!(v.contains("module tiny_pnr("));
        check_all_tools(&top, &v).unwrap();
        let ports = crate::manifest::verilog_ports(&v, &top);
        assert_eq!(ports.len(), 19, "{ports:?}");
        assert!(ports.iter().all(|p| p.bits == 1), "{ports:?}");
    }

    /// Shifts `bits` (first element first) into one stream's chain.
    fn shift_in(
        uut: &mut PnrWrapper,
        stream: impl Fn(&mut PnrWrapper) -> &mut Signal<In, Bit>,
        bits: &[bool],
    ) {
        for &b in bits {
            uut.sdi.next = b;
            stream(uut).next = true;
            tick(uut, |u| &mut u.clock);
        }
        stream(uut).next = false;
        settle(uut);
    }

    /// The bits that load `words` (word 0 = register 0, `width` bits each) into a chain: the
    /// last register's most significant bit goes first.
    fn serial(words: &[u64], width: usize) -> Vec<bool> {
        words
            .iter()
            .rev()
            .flat_map(|w| (0..width).rev().map(move |b| (w >> b) & 1 == 1))
            .collect()
    }

    /// The output side, and the whole wrapper against the golden model, are checked in
    /// Verilator (`synth/tests/wrapper_cosim.rs`): rust-hdl's own simulation of the whole core
    /// is not what the Verilog does (docs: README, "How the hardware is checked").
    #[test]
    fn serial_inputs_reach_the_core_data_ports() {
        let cfg = tiny_config();
        let mut uut = PnrWrapper::new(&cfg);
        uut.connect_all();
        uut.reset.next = true;
        tick(&mut uut, |u| &mut u.clock);
        tick(&mut uut, |u| &mut u.clock);
        uut.reset.next = false;
        tick(&mut uut, |u| &mut u.clock);

        let s = 0x8765_4321u64;
        let x = 0xbeefu64;
        let t: Vec<u64> = (0..cfg.weight_beat_bytes() as u64)
            .map(|i| 0x5a ^ (i * 37))
            .map(|v| v & 0xff)
            .collect();
        let f: Vec<u64> = (0..cfg.fp_lanes as u64).map(|l| 0x3c00 + 17 * l).collect();
        shift_in(&mut uut, |u| &mut u.s_shift, &serial(&[s], 32));
        shift_in(&mut uut, |u| &mut u.x_shift, &serial(&[x], 16));
        shift_in(&mut uut, |u| &mut u.t_shift, &serial(&t, 8));
        shift_in(&mut uut, |u| &mut u.f_shift, &serial(&f, 16));
        assert_eq!(uut.core.s_data.val().to_u64(), s);
        assert_eq!(uut.core.x_data.val().to_u64(), x);
        for (i, &byte) in t.iter().enumerate() {
            assert_eq!(uut.core.t_data[i].val().to_u64(), byte, "t_data${i}");
        }
        for (l, &word) in f.iter().enumerate() {
            assert_eq!(uut.core.f_data[l].val().to_u64(), word, "f_data${l}");
        }
    }
}
