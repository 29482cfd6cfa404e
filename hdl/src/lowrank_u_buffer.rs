//! The low-rank flow's u buffer: `u = binary16(A x)` of one token, written in order of `k`.

use hgf_golden::HgfConfig;
use rust_hdl::prelude::*;

use crate::lowrank_sequencer::COUNT_BITS;
use crate::tiled_ram::TiledRam;

/// The u buffer of the low-rank flow (`LowRankUBuffer`).
///
/// **Function.** Keeps `u_0 … u_(rank−1)` of the token (binary16, docs/arithmetic.md §L4):
/// each `write` edge stores `write_data` at the next entry, `k = 0, 1, ...` from the token's
/// `start`; phase V reads `u_k` at `read_address`.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous: nothing is written on this edge, the next entry is 0 again |
/// | `start` | in | 1 | a token begins (the sequencer's `start_taken`): the next entry is 0 |
/// | `write`, `write_data` | in | 1, 16 | `u_k` (binary16) is written at the next entry on this edge |
/// | `read_address` | in | 20 | the entry read on this edge |
/// | `read_data` | out | 16 | the entry at the `read_address` of the previous edge |
///
/// **Latency** reads take one edge; an entry written on edge `n` can be read from edge
/// `n + 1`. **Throughput** one write and one read per cycle. **Resources** a [`TiledRam`] of
/// `max_rank` x 16 bits and a 20-bit write pointer. **Golden** the `u` of
/// `hgf_golden::lowrank::project_down`. **Limits** `rank <= max_rank`.
#[derive(LogicBlock)]
pub struct LowRankUBuffer {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    pub write: Signal<In, Bit>,
    pub write_data: Signal<In, Bits<16>>,
    pub read_address: Signal<In, Bits<COUNT_BITS>>,
    pub read_data: Signal<Out, Bits<16>>,
    pub(crate) ram: TiledRam<16>,
    /// Next entry.
    u_wr: DFF<Bits<COUNT_BITS>>,
    we: Signal<Local, Bit>,
    // Typed constants (no WIDTH mismatch in the Verilog): the first entry and the step.
    entry_zero: Constant<Bits<COUNT_BITS>>,
    entry_one: Constant<Bits<COUNT_BITS>>,
}

impl LowRankUBuffer {
    /// The buffer for `cfg`'s `max_rank`.
    pub fn new(cfg: &HgfConfig) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            write: Default::default(),
            write_data: Default::default(),
            read_address: Default::default(),
            read_data: Default::default(),
            ram: TiledRam::new(cfg.max_rank),
            u_wr: Default::default(),
            we: Default::default(),
            entry_zero: Constant::new(0u64.into()),
            entry_one: Constant::new(1u64.into()),
        }
    }
}

impl Logic for LowRankUBuffer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, u_wr);
        self.we.next = self.write.val() & !self.reset.val();
        self.ram.clock.next = self.clock.val();
        self.ram.write_enable.next = self.we.val();
        self.ram.write_address.next = self.u_wr.q.val();
        self.ram.write_data.next = self.write_data.val();
        self.ram.read_address.next = self.read_address.val();
        self.read_data.next = self.ram.read_data.val();
        if self.we.val() {
            self.u_wr.d.next = self.u_wr.q.val() + self.entry_one.val();
        }
        if self.start.val() | self.reset.val() {
            self.u_wr.d.next = self.entry_zero.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::tick;
    use crate::verilog::{check_all_tools, emit_named};

    fn new_uut(rank: usize) -> LowRankUBuffer {
        let mut uut = LowRankUBuffer::new(&HgfConfig {
            max_rank: rank,
            ..HgfConfig::default()
        });
        uut.connect_all();
        uut
    }

    #[test]
    fn synthesizes() {
        let v = emit_named(&new_uut(8), "lowrank_u_buffer").unwrap();
        check_all_tools("lowrank_u_buffer", &v).unwrap();
    }

    /// Writes land at 0, 1, ... (a write under reset is dropped; `start` begins again at 0).
    #[test]
    fn writes_land_in_order_from_start() {
        let mut uut = new_uut(8);
        for (i, (write, reset, start)) in [(true, false, false), (true, true, false)]
            .into_iter()
            .chain((0..3).map(|k| (true, false, k == 0)))
            .enumerate()
        {
            uut.write.next = write;
            uut.reset.next = reset;
            uut.start.next = start;
            uut.write_data.next = (0x3c00 + i as u64).into();
            tick(&mut uut, |u| &mut u.clock);
        }
        uut.write.next = false;
        uut.start.next = false;
        // The write on the start edge goes to entry 0 and the pointer restarts at 0 after
        // it: the next write overwrites it (the unit never writes on a start edge).
        let want = [0x3c03, 0x3c04];
        for (k, want) in want.into_iter().enumerate() {
            uut.read_address.next = (k as u64).into();
            tick(&mut uut, |u| &mut u.clock);
            assert_eq!(uut.read_data.val().to_u64(), want, "u[{k}]");
        }
    }
}
