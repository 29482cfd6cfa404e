//! The low-rank flow's v buffer: `v = B u` of one token, for the gate to read row by row.

use hgf_golden::HgfConfig;
use rust_hdl::prelude::*;

use crate::counter_mask::counter_mask;
use crate::lowrank_sequencer::COUNT_BITS;
use crate::tiled_ram::TiledRam;

/// The v buffer of the low-rank flow (`LowRankVBuffer`).
///
/// **Function.** Phase V finishes the rows of `v` (binary32, docs/arithmetic.md §L5) a group
/// of F at a time: group `g = 8b + m` holds rows `gF … gF + F − 1`, lane `l`'s sum being row
/// `gF + l`. On a `write` edge on which lane `l`'s sum is final (`sum_final$l`), it goes to bank
/// `l` at address `g`, unless its row is at or beyond `d_out`; lane 0's final sum moves the
/// buffer to the next group and `ready_count` to `min((g + 1)F, d_out)`. Row `j` is read
/// from bank `j mod F` at address `j div F`. A ternary-only token (`rank = 0` at `start`)
/// has every row ready at once, each reading as binary32 −0 (§G2).
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous: nothing is written on this edge; the next group is 0 and `ready_count` 0 after it |
/// | `start` | in | 1 | a token begins (the sequencer's `start_taken`): `d_out` and `rank` are sampled, group and `ready_count` back to 0 (`d_out` at `rank = 0`) |
/// | `d_out`, `rank` | in | 20 each | the token's shape |
/// | `write` | in | 1 | the lanes' results on this edge are phase V's (the sequencer's `v_phase` and `advance`) |
/// | `sum$l`, `sum_final$l` | in | 32, 1 each | lane `l`'s binary32 result and whether it is final (`sum_valid & sum_last`) |
/// | `read_row` | in | 20 | row `j < d_out` to read, sampled on every edge |
/// | `ready_count` | out | 20 | every row below it is final and written |
/// | `read_data` | out | 32 | row `j` of the `read_row` of the previous edge |
///
/// **Latency** a row written on edge `n` counts in `ready_count` and can be read from edge
/// `n + 1`; reads take one edge. **Throughput** one group written and one row read per cycle.
/// **Resources** F [`TiledRam`] banks of `ceil(max_d_out/F)` x 32 bits, the read
/// multiplexer, the group, base and ready registers. **Golden** the `v` of
/// `hgf_golden::lowrank::project_up`. **Limits** F a power of two in 1..=64;
/// `d_out <= max_d_out < 2^20`.
#[derive(LogicBlock)]
pub struct LowRankVBuffer {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    pub d_out: Signal<In, Bits<COUNT_BITS>>,
    pub rank: Signal<In, Bits<COUNT_BITS>>,
    pub write: Signal<In, Bit>,
    pub sum: Vec<Signal<In, Bits<32>>>,
    pub sum_final: Vec<Signal<In, Bit>>,
    pub read_row: Signal<In, Bits<COUNT_BITS>>,
    pub ready_count: Signal<Out, Bits<COUNT_BITS>>,
    pub read_data: Signal<Out, Bits<32>>,
    pub(crate) banks: Vec<TiledRam<32>>,
    /// Width of `d_out` (up to `max_d_out`).
    d_out_mask: Constant<Bits<COUNT_BITS>>,
    c_lanes21: Constant<Bits<21>>,
    c_lanes_m1: Constant<Bits<8>>,
    c_lane_shift: Constant<Bits<8>>,
    /// binary32 -0.
    c_neg_zero: Constant<Bits<32>>,
    /// Lane `l`'s number.
    lane_index: Vec<Constant<Bits<8>>>,
    lane_index21: Vec<Constant<Bits<21>>>,
    // Typed constants (no WIDTH mismatch in the Verilog): counts' and rows' 0, the step.
    count_zero: Constant<Bits<COUNT_BITS>>,
    count_one: Constant<Bits<COUNT_BITS>>,
    row_zero: Constant<Bits<21>>,
    /// The token's `d_out`, and `rank = 0`.
    r_d_out: DFF<Bits<21>>,
    r_bypass: DFF<Bit>,
    /// Next group `g` (the bank address) and `g F`.
    v_group: DFF<Bits<COUNT_BITS>>,
    v_base: DFF<Bits<21>>,
    v_ready: DFF<Bits<COUNT_BITS>>,
    /// Bank of the row sampled on the last edge.
    v_sel: DFF<Bits<8>>,
    /// Lane `l` writes row `v_base + l` of the group only below `d_out`.
    v_row: Vec<Signal<Local, Bits<21>>>,
    group_we: Signal<Local, Bit>,
    v_next_base: Signal<Local, Bits<21>>,
    v_row_addr: Signal<Local, Bits<COUNT_BITS>>,
}

impl LowRankVBuffer {
    /// The buffer for `cfg`'s `max_d_out` and `fp_lanes` (the unit checks them).
    pub fn new(cfg: &HgfConfig) -> Self {
        let lanes = cfg.fp_lanes;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            d_out: Default::default(),
            rank: Default::default(),
            write: Default::default(),
            sum: (0..lanes).map(|_| Default::default()).collect(),
            sum_final: (0..lanes).map(|_| Default::default()).collect(),
            read_row: Default::default(),
            ready_count: Default::default(),
            read_data: Default::default(),
            banks: (0..lanes)
                .map(|_| TiledRam::new(cfg.max_d_out.div_ceil(lanes)))
                .collect(),
            d_out_mask: counter_mask(cfg.max_d_out),
            c_lanes21: Constant::new((lanes as u64).into()),
            c_lanes_m1: Constant::new(((lanes - 1) as u64).into()),
            c_lane_shift: Constant::new(u64::from(lanes.trailing_zeros()).into()),
            c_neg_zero: Constant::new(0x8000_0000u64.into()),
            lane_index: (0..lanes)
                .map(|l| Constant::new((l as u64).into()))
                .collect(),
            lane_index21: (0..lanes)
                .map(|l| Constant::new((l as u64).into()))
                .collect(),
            count_zero: Constant::new(0u64.into()),
            count_one: Constant::new(1u64.into()),
            row_zero: Constant::new(0u64.into()),
            r_d_out: Default::default(),
            r_bypass: Default::default(),
            v_group: Default::default(),
            v_base: Default::default(),
            v_ready: Default::default(),
            v_sel: Default::default(),
            v_row: (0..lanes).map(|_| Default::default()).collect(),
            group_we: Default::default(),
            v_next_base: Default::default(),
            v_row_addr: Default::default(),
        }
    }
}

impl Logic for LowRankVBuffer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r_d_out, r_bypass, v_group, v_base, v_ready, v_sel);
        // The final sums of phase V, group g = 8b + m at a time (lane l's in bank l at
        // address g), skipping rows j >= d_out.
        self.group_we.next = self.write.val() & (self.sum_final[0].val() & !self.reset.val());
        self.v_row_addr.next = self.read_row.val() >> self.c_lane_shift.val();
        for l in 0..self.banks.len() {
            self.banks[l].clock.next = self.clock.val();
            self.v_row[l].next = self.v_base.q.val() + self.lane_index21[l].val();
            self.banks[l].write_enable.next = (self.write.val() & self.sum_final[l].val())
                & ((self.v_row[l].val() < self.r_d_out.q.val()) & !self.reset.val());
            self.banks[l].write_address.next = self.v_group.q.val();
            self.banks[l].write_data.next = self.sum[l].val();
            self.banks[l].read_address.next = self.v_row_addr.val();
        }
        self.v_next_base.next = self.v_base.q.val() + self.c_lanes21.val();
        if self.group_we.val() {
            self.v_group.d.next = self.v_group.q.val() + self.count_one.val();
            self.v_base.d.next = self.v_next_base.val();
            self.v_ready.d.next = self.v_next_base.val().get_bits::<COUNT_BITS>(0);
            if self.v_next_base.val() > self.r_d_out.q.val() {
                self.v_ready.d.next = self.r_d_out.q.val().get_bits::<COUNT_BITS>(0);
            }
        }
        self.v_sel.d.next = self.read_row.val().get_bits::<8>(0) & self.c_lanes_m1.val();
        self.read_data.next = 0.into();
        for l in 0..self.banks.len() {
            if self.v_sel.q.val() == self.lane_index[l].val() {
                self.read_data.next = self.banks[l].read_data.val();
            }
        }
        // A ternary-only projection's correction is -0, the identity of the gate's sum.
        if self.r_bypass.q.val() {
            self.read_data.next = self.c_neg_zero.val();
        }
        self.ready_count.next = self.v_ready.q.val();
        if self.start.val() {
            self.r_d_out.d.next =
                bit_cast::<21, COUNT_BITS>(self.d_out.val() & self.d_out_mask.val());
            self.r_bypass.d.next = self.rank.val() == self.count_zero.val();
            self.v_group.d.next = self.count_zero.val();
            self.v_base.d.next = self.row_zero.val();
            self.v_ready.d.next = self.count_zero.val();
            if self.rank.val() == self.count_zero.val() {
                // Ternary-only: every v_j (-0) is ready at once.
                self.v_ready.d.next = self.d_out.val();
            }
        }
        if self.reset.val() {
            self.v_group.d.next = self.count_zero.val();
            self.v_base.d.next = self.row_zero.val();
            self.v_ready.d.next = self.count_zero.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{settle, tick};
    use crate::verilog::{check_all_tools, emit_named};

    fn new_uut(d_out: usize, lanes: usize) -> LowRankVBuffer {
        let mut uut = LowRankVBuffer::new(&HgfConfig {
            max_d_out: d_out,
            fp_lanes: lanes,
            ..HgfConfig::default()
        });
        uut.connect_all();
        uut
    }

    #[test]
    fn synthesizes() {
        let v = emit_named(&new_uut(20, 2), "lowrank_v_buffer").unwrap();
        check_all_tools("lowrank_v_buffer", &v).unwrap();
    }

    /// Two lanes, `d_out = 5`: three groups written, row 5 skipped, `ready_count` 2, 4, 5;
    /// every row reads back; then a `rank = 0` token reads -0 everywhere, all ready at once.
    #[test]
    fn groups_fill_rows_and_rank_zero_reads_minus_zero() {
        let mut uut = new_uut(6, 2);
        uut.d_out.next = 5.into();
        uut.rank.next = 3.into();
        uut.start.next = true;
        tick(&mut uut, |u| &mut u.clock);
        uut.start.next = false;
        for g in 0..3u64 {
            uut.write.next = true;
            for l in 0..2 {
                uut.sum_final[l].next = true;
                uut.sum[l].next = (0x100 + 2 * g + l as u64).into();
            }
            tick(&mut uut, |u| &mut u.clock);
            uut.write.next = false;
            tick(&mut uut, |u| &mut u.clock);
            assert_eq!(uut.ready_count.val().index(), [2, 4, 5][g as usize]);
        }
        for j in 0..5u64 {
            uut.read_row.next = j.into();
            tick(&mut uut, |u| &mut u.clock);
            assert_eq!(uut.read_data.val().to_u64(), 0x100 + j, "v[{j}]");
        }
        uut.rank.next = 0.into();
        uut.start.next = true;
        tick(&mut uut, |u| &mut u.clock);
        uut.start.next = false;
        settle(&mut uut);
        assert_eq!(uut.ready_count.val().index(), 5);
        assert_eq!(uut.read_data.val().to_u64(), 0x8000_0000);
    }
}
