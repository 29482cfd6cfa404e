//! The low-rank flow's x buffer: one token's activations, in F banks for the F MAC lanes.

use hgf_golden::HgfConfig;
use rust_hdl::prelude::*;

use crate::counter_mask::counter_mask;
use crate::lowrank_sequencer::COUNT_BITS;
use crate::tiled_ram::TiledRam;

/// The x buffer of the low-rank flow (`LowRankXBuffer`).
///
/// **Function.** Takes the token's binary16 activations `x_0, x_1, ...` from the `x` stream
/// and writes `x_i` to bank `i mod F` at address `i div F`, so that phase U reads step `t`'s
/// F values (one per lane) at address `t` in one cycle. A beat is taken on the `start` edge
/// (the count begins again at 0) and, while a token is in progress (`busy`), until `d_in`
/// have arrived; `count` is the number taken, which the sequencer compares with what the
/// next step needs. Every bank reads `read_address` on every edge.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous: `count` back to 0 (the banks keep their contents) |
/// | `start`, `busy` | in | 1, 1 | the sequencer's `start_taken` (a token begins on this edge) and `busy` |
/// | `d_in` | in | 20 | the token's `d_in` (the sequencer's register) |
/// | `x_valid`, `x_data` | in | 1, 16 | one binary16 activation, taken when `start` or `busy` and fewer than `d_in` taken (no ready) |
/// | `read_address` | in | 20 | the step whose values the banks read on this edge |
/// | `count` | out | 20 | activations of the token taken so far |
/// | `read_data$l` | out | 16 each | bank `l` at the `read_address` of the previous edge |
///
/// **Latency** a value taken on edge `n` can be read from edge `n + 1` (`count` counts it
/// after edge `n`); reads take one edge. **Throughput** one activation per cycle.
/// **Resources** F [`TiledRam`] banks of `ceil(max_d_in/F)` x 16 bits; the count, bank and
/// address registers (masked to `max_d_in`). **Golden** none (storage). **Limits** F a
/// power of two in 1..=64; `d_in <= max_d_in`.
#[derive(LogicBlock)]
pub struct LowRankXBuffer {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    pub busy: Signal<In, Bit>,
    pub d_in: Signal<In, Bits<COUNT_BITS>>,
    pub x_valid: Signal<In, Bit>,
    pub x_data: Signal<In, Bits<16>>,
    pub read_address: Signal<In, Bits<COUNT_BITS>>,
    pub count: Signal<Out, Bits<COUNT_BITS>>,
    pub read_data: Vec<Signal<Out, Bits<16>>>,
    banks: Vec<TiledRam<16>>,
    /// Width of `x_count` (up to `max_d_in`).
    x_count_mask: Constant<Bits<COUNT_BITS>>,
    c_lanes_m1: Constant<Bits<8>>,
    /// Lane `l`'s number.
    lane_index: Vec<Constant<Bits<8>>>,
    // Typed constants (no WIDTH mismatch in the Verilog): counts, addresses and banks' 0
    // and step.
    count_zero: Constant<Bits<COUNT_BITS>>,
    count_one: Constant<Bits<COUNT_BITS>>,
    sel_zero: Constant<Bits<8>>,
    sel_one: Constant<Bits<8>>,
    /// `x` beats taken.
    x_count: DFF<Bits<COUNT_BITS>>,
    /// Bank and address of the next `x` beat.
    x_sel: DFF<Bits<8>>,
    x_addr: DFF<Bits<COUNT_BITS>>,
    /// Count, bank and address of a beat on this edge (0 on a `start` edge).
    x_base: Signal<Local, Bits<COUNT_BITS>>,
    x_wsel: Signal<Local, Bits<8>>,
    x_waddr: Signal<Local, Bits<COUNT_BITS>>,
    x_take: Signal<Local, Bit>,
}

impl LowRankXBuffer {
    /// The buffer for `cfg`'s `max_d_in` and `fp_lanes` (the unit checks them).
    pub fn new(cfg: &HgfConfig) -> Self {
        let lanes = cfg.fp_lanes;
        let max = cfg.max_layout();
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            busy: Default::default(),
            d_in: Default::default(),
            x_valid: Default::default(),
            x_data: Default::default(),
            read_address: Default::default(),
            count: Default::default(),
            read_data: (0..lanes).map(|_| Default::default()).collect(),
            banks: (0..lanes).map(|_| TiledRam::new(max.u_steps())).collect(),
            x_count_mask: counter_mask(max.d_in),
            c_lanes_m1: Constant::new(((lanes - 1) as u64).into()),
            lane_index: (0..lanes)
                .map(|l| Constant::new((l as u64).into()))
                .collect(),
            count_zero: Constant::new(0u64.into()),
            count_one: Constant::new(1u64.into()),
            sel_zero: Constant::new(0u64.into()),
            sel_one: Constant::new(1u64.into()),
            x_count: Default::default(),
            x_sel: Default::default(),
            x_addr: Default::default(),
            x_base: Default::default(),
            x_wsel: Default::default(),
            x_waddr: Default::default(),
            x_take: Default::default(),
        }
    }
}

impl Logic for LowRankXBuffer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, x_count, x_sel, x_addr);
        // x_i to bank i mod F, address i div F. On the start edge the count begins again
        // at 0.
        self.x_base.next = self.x_count.q.val();
        self.x_wsel.next = self.x_sel.q.val();
        self.x_waddr.next = self.x_addr.q.val();
        if self.start.val() {
            self.x_base.next = self.count_zero.val();
            self.x_wsel.next = self.sel_zero.val();
            self.x_waddr.next = self.count_zero.val();
        }
        self.x_take.next = self.x_valid.val()
            & (self.start.val() | (self.busy.val() & (self.x_count.q.val() < self.d_in.val())));
        self.x_count.d.next = self.x_base.val();
        self.x_sel.d.next = self.x_wsel.val();
        self.x_addr.d.next = self.x_waddr.val();
        if self.x_take.val() {
            self.x_count.d.next =
                (self.x_base.val() + self.count_one.val()) & self.x_count_mask.val();
            if self.x_wsel.val() == self.c_lanes_m1.val() {
                self.x_sel.d.next = self.sel_zero.val();
                self.x_addr.d.next = self.x_waddr.val() + self.count_one.val();
            } else {
                self.x_sel.d.next = self.x_wsel.val() + self.sel_one.val();
            }
        }
        if self.reset.val() {
            self.x_count.d.next = self.count_zero.val();
            self.x_sel.d.next = self.sel_zero.val();
            self.x_addr.d.next = self.count_zero.val();
        }
        self.count.next = self.x_count.q.val();
        for l in 0..self.banks.len() {
            self.banks[l].clock.next = self.clock.val();
            self.banks[l].write_enable.next =
                self.x_take.val() & (self.x_wsel.val() == self.lane_index[l].val());
            self.banks[l].write_address.next = self.x_waddr.val();
            self.banks[l].write_data.next = self.x_data.val();
            self.banks[l].read_address.next = self.read_address.val();
            self.read_data[l].next = self.banks[l].read_data.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{settle, tick};
    use crate::verilog::{check_all_tools, emit_named};

    fn new_uut(cfg: &HgfConfig) -> LowRankXBuffer {
        let mut uut = LowRankXBuffer::new(cfg);
        uut.connect_all();
        uut
    }

    #[test]
    fn synthesizes() {
        let cfg = HgfConfig::preset("up5k").unwrap();
        let v = emit_named(&new_uut(&cfg), "lowrank_x_buffer").unwrap();
        check_all_tools("lowrank_x_buffer", &v).unwrap();
    }

    /// Eleven values offered on every edge from `start` into four banks: ten (`d_in`) are
    /// taken, and step `t` reads `x[4t + l]` in bank `l`.
    #[test]
    fn values_land_in_bank_i_mod_f_at_i_div_f() {
        let cfg = HgfConfig {
            max_d_in: 12,
            fp_lanes: 4,
            ..HgfConfig::default()
        };
        let mut uut = new_uut(&cfg);
        uut.d_in.next = 10.into();
        for i in 0..11u64 {
            uut.start.next = i == 0;
            uut.busy.next = i > 0;
            uut.x_valid.next = true;
            uut.x_data.next = (0x100 + i).into();
            tick(&mut uut, |u| &mut u.clock);
        }
        uut.x_valid.next = false;
        settle(&mut uut);
        assert_eq!(uut.count.val().index(), 10);
        for t in 0..3u64 {
            uut.read_address.next = t.into();
            tick(&mut uut, |u| &mut u.clock);
            for l in 0..4u64 {
                let i = 4 * t + l;
                if i < 10 {
                    assert_eq!(
                        uut.read_data[l as usize].val().to_u64(),
                        0x100 + i,
                        "x[{i}]"
                    );
                }
            }
        }
    }
}
