//! One FP16 x FP16 -> FP32 multiply-accumulate lane with its own register file of partial
//! sums: the building block of the low-rank unit (docs/arithmetic.md §L2, §L5).

use rust_hdl::prelude::*;

use crate::fp16_mul::Fp16MulExact;
use crate::fp32_add::Fp32Add;
use crate::resources::Resources;
use crate::tiled_ram::TiledRam;

/// binary32 -0, the start value of every sum (docs/arithmetic.md §L3).
pub const NEG_ZERO: u64 = 0x8000_0000;
/// Width of a slot number (the register-file address; [`TiledRam`] addresses are 20 bits).
pub const SLOT_BITS: usize = 20;

/// Control bits of a beat in the first three pipeline stages: valid, first, tree, last, slot.
const EARLY_BITS: usize = 4 + SLOT_BITS;
/// Control bits of a beat in the last four pipeline stages: valid, last, slot.
const LATE_BITS: usize = 2 + SLOT_BITS;
/// Pipeline stages before the adder (the multiplier's latency).
const EARLY_STAGES: usize = 3;
/// Pipeline stages of the adder.
const LATE_STAGES: usize = 4;
/// Enabled edges from a beat to the register file's read of its slot (address from control
/// stage 0; the data is registered on the next edge, in time for the adder at edge n + 3).
const READ_EDGE: usize = 1;

/// One FP16 x FP16 -> FP32 multiply-accumulate lane (`Fp16MacLane`).
///
/// **Function.** A beat (`issue` high on an enabled edge) names a slot of the lane's register
/// file of FP32 partial sums and computes `P[slot] <- fl32(left + right)` (docs/arithmetic.md
/// §F3, §F4), where
/// - `left` is -0 (`0x80000000`, §L3) if `first` is high (the first term of a sum), else
///   `tree_left` if `tree` is high, else the slot's current partial sum `P[slot]`;
/// - `right` is `tree_right` if `tree` is high, else the exact product `a * b` (§F4).
///
/// So a MAC beat (`tree` low) adds one product into a running sum (§L2 step 1, §L5), and a
/// tree beat (`tree` high, `first` low) adds the partial sums of two lanes, the lower one's
/// on `tree_left` (it may be this lane itself) (§L2 step 2), and stores the result in this
/// lane's slot. The result of every beat also
/// appears on `sum` with `sum_valid` and the beat's `last` tag, for the owner to capture the
/// final value of a sum (on the enabled edge that writes it back).
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous, active high, independent of `enable`: every beat in the pipeline is dropped (nothing more is written); the register file keeps its contents |
/// | `enable` | in | 1 | high: the pipeline advances on this edge; low: every register holds and nothing is written (the owner stalls) |
/// | `issue` | in | 1 | a beat enters on this enabled edge (low: a bubble) |
/// | `first` | in | 1 | the beat starts its sum: `left` = -0, the slot is not read |
/// | `tree` | in | 1 | tree beat: `left` = `tree_left`, `right` = `tree_right` (product unused) |
/// | `last` | in | 1 | tag carried to `sum_last`: this beat completes its sum |
/// | `slot` | in | 20 | partial-sum slot, `< slots` |
/// | `a`, `b` | in | 16 | binary16 factors of a MAC beat |
/// | `tree_left`, `tree_right` | in | 32 | binary32 operands of a tree beat, sampled 3 enabled edges after the beat (the timing of another lane's `part`) |
/// | `part` | out | 32 | this lane's partial sum `P[slot]` for the beat in control stage 2, i.e. after enabled edge `n + 2` for the beat of edge `n` (register-file read data; another lane's tree operand) |
/// | `sum` | out | 32 | binary32 result of the beat that entered 6 enabled edges earlier |
/// | `sum_valid`, `sum_last` | out | 1, 1 | `sum` belongs to an issued beat; that beat's `last` |
/// | `lend` | in | 1 | the adder works for another unit on this edge: it samples `lend_a`, `lend_b` and advances when `lend_enable` is high (whatever `enable` is); its result appears on `sum` after [`Fp32Add::LATENCY`] such edges. Keep low while a beat of the lane is in its adder stages |
/// | `lend_enable` | in | 1 | the borrower's clock enable for the adder while `lend` is high |
/// | `lend_a`, `lend_b` | in | 32, 32 | binary32 operands lent to the adder |
///
/// Timing of a beat presented before enabled edge `n` (all edges counted are enabled edges):
///
/// | edge | event |
/// |---|---|
/// | `n` | multiplier stage 1, control stage 0 |
/// | `n + 1` | the register file reads `P[slot]` (address from control stage 0) |
/// | `n + 2` | the read data is registered: `part`; product ready |
/// | `n + 3` | the adder samples `left`, `right` (and `tree_left`, `tree_right`) |
/// | `n + 6` | `sum`, `sum_valid`, `sum_last` show the result |
/// | `n + 7` | `P[slot] <- sum` |
///
/// **Latency** [`Fp16MacLane::LATENCY`] = 7 enabled edges from the beat to `sum` (the
/// [`Fp16MulExact`] 3 plus the [`Fp32Add`] 4); the slot is written on the following enabled
/// edge. **Accumulate loop** [`Fp16MacLane::LOOP_LATENCY`] = 7: a beat that reads a slot (not
/// `first`) must enter at least 7 enabled edges after the previous beat that writes it (it
/// reads at `m + 1`, which must come after the write at `n + 7`); the same holds for a tree
/// beat reading another lane's slot. The lane does not check this: the sequencer guarantees
/// it. The read is registered (`part`) so that the block RAM's clock-to-out and its routing
/// end in a flip-flop instead of in the adder's first stage (issue 16); it costs one edge of
/// the loop, not of the latency, because the read is issued one stage earlier. The register
/// file reads on every edge (its read has no enable): while `enable` is low its address is
/// the slot of the beat whose data is on the read port (control stage 1), the `part`
/// register holds, and nothing is written, so a stall changes nothing. (A beat entering 6
/// enabled edges after a beat that writes its slot would read the old sum, or the new one if
/// the lane stalled just after the write: the loop rule excludes it.)
/// **Throughput** one beat per enabled edge.
/// **Lending** ([`crate::gate_unit::GateUnit`] with `HgfConfig::gate_shares_adder`): the
/// core raises `lend` only once its low-rank flow is done, when every beat has left the lane,
/// and lowers it before the next token's first beat; `sum_valid` stays low meanwhile, so
/// nothing of the borrower is written to the register file.
/// **Resources** one [`Fp16MulExact`] (one 16x16 multiplier), one [`Fp32Add`], one
/// [`TiledRam<32>`] of `slots` words (one 256-word tile up to 256 slots: one ECP5 `DP16KD`,
/// two iCE40 `SB_RAM40_4K`), 7 stages of control (24 and 22 bits; the slot bits above
/// `ceil(log2 slots)` are constant zero and removed by yosys), 32 FF of registered read data.
/// Synthesis estimate, 16 slots, before the read register (32 FF more now), yosys 0.23:
/// `synth_ecp5` 1,781 LUT4 (+ 415 L6MUX21, 702 PFUMX, 65 CCU2C), 381 FF, 1
/// MULT18X18D, 1 DP16KD; `synth_ice40 -dsp` 853 SB_LUT4, 121 SB_CARRY, 359 FF, 1 SB_MAC16,
/// 2 SB_RAM40_4K.
/// **Golden** `hgf_golden::fp::mul_f16_exact` and `hgf_golden::fp::add_f32`, composed as in
/// `hgf_golden::lowrank::lane_sums` (MAC beats) and `combine_lanes` (tree beats).
/// **Limits** `1 <= slots <= 2^20`; slots `>= slots` alias; the loop rule above.
#[derive(LogicBlock)]
pub struct Fp16MacLane {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: drops every beat in flight, whatever `enable` is.
    pub reset: Signal<In, Bit>,
    /// High: the pipeline advances on this edge. Low: every register holds, nothing is written.
    pub enable: Signal<In, Bit>,
    /// A beat enters on this enabled edge.
    pub issue: Signal<In, Bit>,
    /// The beat's left operand is -0 (the first term of its sum).
    pub first: Signal<In, Bit>,
    /// Tree beat: operands `tree_left`, `tree_right`.
    pub tree: Signal<In, Bit>,
    /// Tag carried to `sum_last`.
    pub last: Signal<In, Bit>,
    /// Partial-sum slot of the beat.
    pub slot: Signal<In, Bits<SLOT_BITS>>,
    /// binary16 factor.
    pub a: Signal<In, Bits<16>>,
    /// binary16 factor.
    pub b: Signal<In, Bits<16>>,
    /// Left operand of a tree beat, sampled 3 enabled edges after the beat.
    pub tree_left: Signal<In, Bits<32>>,
    /// Right operand of a tree beat, sampled 3 enabled edges after the beat.
    pub tree_right: Signal<In, Bits<32>>,
    /// `P[slot]` of the beat that entered 2 enabled edges earlier.
    pub part: Signal<Out, Bits<32>>,
    /// Result of the beat that entered 6 enabled edges earlier.
    pub sum: Signal<Out, Bits<32>>,
    /// `sum` belongs to an issued beat.
    pub sum_valid: Signal<Out, Bit>,
    /// That beat's `last` tag.
    pub sum_last: Signal<Out, Bit>,
    /// The adder takes `lend_a`, `lend_b` and advances with `lend_enable` on this edge.
    pub lend: Signal<In, Bit>,
    /// The borrower's clock enable of the adder.
    pub lend_enable: Signal<In, Bit>,
    /// binary32 operand lent to the adder.
    pub lend_a: Signal<In, Bits<32>>,
    /// binary32 operand lent to the adder.
    pub lend_b: Signal<In, Bits<32>>,
    // Sub-blocks.
    mul: Fp16MulExact,
    add: Fp32Add,
    ram: TiledRam<32>,
    /// `2^ceil(log2 slots) - 1`: the slot bits in use.
    slot_mask: Constant<Bits<SLOT_BITS>>,
    /// The beat's control word: bit 0 valid, 1 first, 2 tree, 3 last, 4.. slot.
    ctl_in: Signal<Local, Bits<EARLY_BITS>>,
    /// The adder's operands.
    left: Signal<Local, Bits<32>>,
    right: Signal<Local, Bits<32>>,
    /// The register file's read data, one enabled edge later: `P[slot]` of the beat in
    /// stage 2 (`part`).
    part_reg: DFF<Bits<32>>,
    /// Control of the beats in the multiplier (stages after edges n, n+1, n+2).
    early: Vec<DFF<Bits<EARLY_BITS>>>,
    /// Control of the beats in the adder (stages after edges n+3 .. n+6): valid, last, slot.
    late: Vec<DFF<Bits<LATE_BITS>>>,
    /// The last and valid flags of stage 3 in their `late` bits, as words: a cast of the
    /// bits would widen them, a width mismatch in the Verilog (docs/lint-waivers.md).
    late_last: Signal<Local, Bits<LATE_BITS>>,
    late_valid: Signal<Local, Bits<LATE_BITS>>,
    // Typed constants (docs/lint-waivers.md).
    /// Bits 0 ..= 3 of a control word: valid, first, tree, last.
    ctl_flag: [Constant<Bits<EARLY_BITS>>; 4],
    early_zero: Constant<Bits<EARLY_BITS>>,
    late_zero: Constant<Bits<LATE_BITS>>,
    late_last_bit: Constant<Bits<LATE_BITS>>,
    late_valid_bit: Constant<Bits<LATE_BITS>>,
    /// binary32 -0, the left operand of a first beat.
    minus_zero: Constant<Bits<32>>,
}

impl Fp16MacLane {
    /// Enabled edges from a beat to its `sum`.
    pub const LATENCY: usize = Fp16MulExact::LATENCY + Fp32Add::LATENCY;
    /// Smallest distance, in enabled edges, from a beat that writes a slot to a later beat
    /// that reads it: the read (`READ_EDGE` edges after its beat) must follow the write
    /// (`LATENCY` edges after its beat).
    pub const LOOP_LATENCY: usize = Self::LATENCY + 1 - READ_EDGE;

    /// The lane's multipliers and memories (the area model's, [`crate::resources`]): an
    /// [`Fp16MulExact`] and the register file of `slots` binary32 partial sums, one word per
    /// slot.
    pub fn resources(slots: usize) -> Resources {
        Fp16MulExact::resources().and(Resources::memory(slots, 32))
    }

    /// A lane with a register file of `slots` partial sums.
    ///
    /// # Panics
    /// If `slots` is 0 or above 2^20.
    pub fn new(slots: usize) -> Self {
        assert!(
            (1..=1 << SLOT_BITS).contains(&slots),
            "Fp16MacLane slots {slots} outside 1..=2^{SLOT_BITS}"
        );
        let mask = (slots.next_power_of_two() - 1) as u64;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            enable: Default::default(),
            issue: Default::default(),
            first: Default::default(),
            tree: Default::default(),
            last: Default::default(),
            slot: Default::default(),
            a: Default::default(),
            b: Default::default(),
            tree_left: Default::default(),
            tree_right: Default::default(),
            part: Default::default(),
            sum: Default::default(),
            sum_valid: Default::default(),
            sum_last: Default::default(),
            lend: Default::default(),
            lend_enable: Default::default(),
            lend_a: Default::default(),
            lend_b: Default::default(),
            mul: Fp16MulExact::new(),
            add: Fp32Add::new(),
            ram: TiledRam::new(slots),
            slot_mask: Constant::new(mask.into()),
            ctl_in: Default::default(),
            left: Default::default(),
            right: Default::default(),
            part_reg: Default::default(),
            early: (0..EARLY_STAGES).map(|_| Default::default()).collect(),
            late: (0..LATE_STAGES).map(|_| Default::default()).collect(),
            late_last: Default::default(),
            late_valid: Default::default(),
            ctl_flag: std::array::from_fn(|k| Constant::new((1u64 << k).into())),
            early_zero: Constant::new(0u64.into()),
            late_zero: Constant::new(0u64.into()),
            late_last_bit: Constant::new(2u64.into()),
            late_valid_bit: Constant::new(1u64.into()),
            minus_zero: Constant::new(0x8000_0000u64.into()),
        }
    }
}

impl Logic for Fp16MacLane {
    #[hdl_gen]
    fn update(&mut self) {
        // Control pipeline: holds unless enabled; reset empties it.
        for i in 0..EARLY_STAGES {
            self.early[i].clock.next = self.clock.val();
            self.early[i].d.next = self.early[i].q.val();
        }
        for i in 0..LATE_STAGES {
            self.late[i].clock.next = self.clock.val();
            self.late[i].d.next = self.late[i].q.val();
        }
        // The slot's casts to the control widths are the width mismatches left here.
        self.ctl_in.next =
            bit_cast::<EARLY_BITS, SLOT_BITS>(self.slot.val() & self.slot_mask.val()) << 4;
        if self.issue.val() {
            self.ctl_in.next = self.ctl_in.val() | self.ctl_flag[0].val();
        }
        if self.first.val() {
            self.ctl_in.next = self.ctl_in.val() | self.ctl_flag[1].val();
        }
        if self.tree.val() {
            self.ctl_in.next = self.ctl_in.val() | self.ctl_flag[2].val();
        }
        if self.last.val() {
            self.ctl_in.next = self.ctl_in.val() | self.ctl_flag[3].val();
        }
        self.late_last.next = self.late_zero.val();
        if self.early[2].q.val().get_bit(3) {
            self.late_last.next = self.late_last_bit.val();
        }
        self.late_valid.next = self.late_zero.val();
        if self.early[2].q.val().get_bit(0) {
            self.late_valid.next = self.late_valid_bit.val();
        }
        if self.enable.val() {
            self.early[0].d.next = self.ctl_in.val();
            for i in 1..EARLY_STAGES {
                self.early[i].d.next = self.early[i - 1].q.val();
            }
            // Stage 3 keeps valid (bit 0), last (bit 3 -> 1) and the slot.
            self.late[0].d.next =
                (bit_cast::<LATE_BITS, SLOT_BITS>(self.early[2].q.val().get_bits::<SLOT_BITS>(4))
                    << 2)
                    | self.late_last.val()
                    | self.late_valid.val();
            for i in 1..LATE_STAGES {
                self.late[i].d.next = self.late[i - 1].q.val();
            }
        }
        if self.reset.val() {
            for i in 0..EARLY_STAGES {
                self.early[i].d.next = self.early_zero.val();
            }
            for i in 0..LATE_STAGES {
                self.late[i].d.next = self.late_zero.val();
            }
        }

        // Multiplier: the beat's factors, sampled on enabled edge n.
        self.mul.clock.next = self.clock.val();
        self.mul.enable.next = self.enable.val();
        self.mul.a.next = self.a.val();
        self.mul.b.next = self.b.val();

        // Register file: read for the beat in stage 0 (data after edge n + 1), registered in
        // `part_reg` (after edge n + 2), so that no block-RAM clock-to-out and routing lies on
        // the adder's first stage; write the result of the beat in the last stage (edge
        // n + 7). The read has no enable: while the lane stalls it re-reads the slot of the
        // beat in stage 1, whose data is on the read port, and nothing is written, so the
        // data holds.
        self.ram.clock.next = self.clock.val();
        self.ram.read_address.next = self.early[1].q.val().get_bits::<SLOT_BITS>(4);
        if self.enable.val() {
            self.ram.read_address.next = self.early[0].q.val().get_bits::<SLOT_BITS>(4);
        }
        self.ram.write_address.next = self.late[3].q.val().get_bits::<SLOT_BITS>(2);
        self.ram.write_data.next = self.add.sum.val();
        self.ram.write_enable.next =
            (self.enable.val() & self.late[3].q.val().get_bit(0)) & !self.reset.val();
        self.part_reg.clock.next = self.clock.val();
        self.part_reg.d.next = self.part_reg.q.val();
        if self.enable.val() {
            self.part_reg.d.next = self.ram.read_data.val();
        }
        self.part.next = self.part_reg.q.val();

        // Adder operands for the beat in stage 2 (sampled on edge n + 3).
        self.left.next = self.part_reg.q.val();
        self.right.next = self.mul.product.val();
        if self.early[2].q.val().get_bit(2) {
            self.left.next = self.tree_left.val();
            self.right.next = self.tree_right.val();
        }
        if self.early[2].q.val().get_bit(1) {
            self.left.next = self.minus_zero.val();
        }
        self.add.clock.next = self.clock.val();
        self.add.enable.next = self.enable.val();
        self.add.a.next = self.left.val();
        self.add.b.next = self.right.val();
        if self.lend.val() {
            self.add.enable.next = self.lend_enable.val();
            self.add.a.next = self.lend_a.val();
            self.add.b.next = self.lend_b.val();
        }

        self.sum.next = self.add.sum.val();
        self.sum_valid.next = self.late[3].q.val().get_bit(0);
        self.sum_last.next = self.late[3].q.val().get_bit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::tick;
    use crate::verilog::{check_all_tools, emit_named};
    use half::f16;
    use hgf_golden::fp;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::VecDeque;

    const SEED: u64 = 0x5eed_ac01;

    fn new_uut(slots: usize) -> Fp16MacLane {
        let mut uut = Fp16MacLane::new(slots);
        uut.connect_all();
        uut
    }

    #[test]
    fn synthesizes() {
        let uut = new_uut(16);
        let v = emit_named(&uut, "fp16_mac_lane_s16").unwrap();
        assert!(v.contains("module fp16_mac_lane_s16("));
        check_all_tools("fp16_mac_lane_s16", &v).unwrap();
    }

    #[test]
    fn loop_latency_is_what_the_sequencers_assume() {
        assert_eq!(Fp16MacLane::LATENCY, 7);
        assert_eq!(Fp16MacLane::LOOP_LATENCY, 7);
        // The up projection interleaves V_INTERLEAVE sums per lane (docs/interfaces.md).
        const { assert!(hgf_golden::streams::V_INTERLEAVE >= Fp16MacLane::LOOP_LATENCY) };
    }

    /// A binary16 value biased to special and extreme values.
    fn f16_bits(rng: &mut ChaCha8Rng) -> u16 {
        match rng.random_range(0..12u32) {
            0 => 0x8000 * rng.random_range(0..2u16),
            1 => 0x7C00 | (0x8000 * rng.random_range(0..2u16)),
            2 => 0x7E00,
            3 => rng.random_range(1..0x400) | (0x8000 * rng.random_range(0..2u16)),
            4 => 0x7BFF | (0x8000 * rng.random_range(0..2u16)),
            _ => rng.random::<u16>() & 0xBFFF, // finite, |x| < 2
        }
    }

    /// A binary32 value biased to special values.
    fn f32_bits(rng: &mut ChaCha8Rng) -> u32 {
        match rng.random_range(0..10u32) {
            0 => 0x8000_0000,
            1 => 0,
            2 => 0x7F80_0000 | (rng.random_range(0..2u32) << 31),
            3 => 0x7FC0_0000,
            4 => rng.random_range(1..0x80_0000) | (rng.random_range(0..2u32) << 31),
            _ => rng.random::<u32>() & 0xBFFF_FFFF,
        }
    }

    #[derive(Clone, Copy, Debug)]
    struct Beat {
        valid: bool,
        first: bool,
        tree: bool,
        last: bool,
        slot: usize,
        a: u16,
        b: u16,
        left: u32,
        right: u32,
    }

    /// Random beats (bubbles, MAC and tree beats, slots never revisited within
    /// `LOOP_LATENCY` beats) with random stalls and one reset: every `sum` with `sum_valid`
    /// captured on an enabled edge, and every `part` of a reading beat, matches a model of
    /// the register file built on the golden FP functions.
    #[test]
    fn random_beats_with_stalls_and_reset_match_golden() {
        let slots = 8;
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let mut uut = new_uut(slots);
        let mut model = [None::<u32>; 8];
        // Beats in flight, indexed by enabled edges since they entered.
        let mut flight: VecDeque<Beat> = VecDeque::new();
        let mut recent: VecDeque<usize> = VecDeque::new();
        let (mut checked_sums, mut checked_parts, mut finals) = (0, 0, 0);
        let cycles = 6000;
        let reset_at = 3000;
        for cycle in 0..cycles {
            let reset = cycle == reset_at;
            let enable = rng.random_range(0..4u32) != 0;
            // The next beat: a bubble, or a slot not used by the last LOOP_LATENCY - 1 beats.
            let free: Vec<usize> = (0..slots).filter(|s| !recent.contains(s)).collect();
            let valid = rng.random_range(0..5u32) != 0;
            let slot = free[rng.random_range(0..free.len())];
            let tree = rng.random_range(0..4u32) == 0;
            let first = model[slot].is_none() || rng.random_range(0..6u32) == 0;
            let beat = Beat {
                valid,
                first: first && !tree,
                tree,
                last: rng.random(),
                slot,
                a: f16_bits(&mut rng),
                b: f16_bits(&mut rng),
                left: f32_bits(&mut rng),
                right: f32_bits(&mut rng),
            };
            uut.reset.next = reset;
            uut.enable.next = enable;
            uut.issue.next = beat.valid;
            uut.first.next = beat.first;
            uut.tree.next = beat.tree;
            uut.last.next = beat.last;
            uut.slot.next = (beat.slot as u64).into();
            uut.a.next = beat.a.to_bits();
            uut.b.next = beat.b.to_bits();
            // Tree operands of the beat in stage 2 (it entered 3 enabled edges before the
            // next one); junk otherwise.
            let (tl, tr) = match flight.get(2) {
                Some(b) if b.tree => (b.left, b.right),
                _ => (rng.random(), rng.random()),
            };
            uut.tree_left.next = (tl as u64).into();
            uut.tree_right.next = (tr as u64).into();
            // `part` of the beat in stage 2 (read after its edge n + 2).
            if let Some(b) = flight.get(2) {
                if b.valid && !b.tree && !b.first {
                    assert_eq!(
                        uut.part.val().to_u64() as u32,
                        model[b.slot].unwrap(),
                        "cycle {cycle}: part of slot {}",
                        b.slot
                    );
                    checked_parts += 1;
                }
            }
            // The result on `sum`, written on this edge if enabled.
            if enable && !reset {
                if let Some(b) = flight.get(LATE_STAGES + EARLY_STAGES - 1) {
                    assert_eq!(uut.sum_valid.val(), b.valid, "cycle {cycle}: sum_valid");
                    if b.valid {
                        let left = if b.first {
                            NEG_ZERO as u32
                        } else if b.tree {
                            b.left
                        } else {
                            model[b.slot].unwrap()
                        };
                        let right = if b.tree {
                            b.right
                        } else {
                            fp::mul_f16_exact(f16::from_bits(b.a), f16::from_bits(b.b)).to_bits()
                        };
                        let want = fp::add_f32(f32::from_bits(left), f32::from_bits(right));
                        let got = uut.sum.val().to_u64() as u32;
                        assert_eq!(
                            got,
                            want.to_bits(),
                            "cycle {cycle}: {b:x?}: rtl {got:08x} gold {:08x}",
                            want.to_bits()
                        );
                        assert_eq!(uut.sum_last.val(), b.last);
                        model[b.slot] = Some(got);
                        checked_sums += 1;
                        finals += usize::from(b.last);
                    }
                }
            }
            let held = (uut.sum.val(), uut.sum_valid.val(), uut.part.val());
            tick(&mut uut, |u| &mut u.clock);
            if reset {
                // Everything in flight is dropped; slots written before stay.
                flight.clear();
                recent.clear();
            } else if enable {
                flight.push_front(beat);
                flight.truncate(LATE_STAGES + EARLY_STAGES);
                recent.push_front(beat.slot);
                recent.truncate(Fp16MacLane::LOOP_LATENCY - 1);
            } else {
                // Nothing moves while the lane is stalled.
                assert_eq!(uut.sum.val(), held.0, "cycle {cycle}: sum moved in a stall");
                assert_eq!(uut.sum_valid.val(), held.1);
                assert_eq!(
                    uut.part.val(),
                    held.2,
                    "cycle {cycle}: part moved in a stall"
                );
            }
        }
        assert!(checked_sums > 2000, "only {checked_sums} sums checked");
        assert!(checked_parts > 500, "only {checked_parts} parts checked");
        assert!(finals > 500);
    }
}
