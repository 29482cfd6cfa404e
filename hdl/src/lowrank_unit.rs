//! The low-rank flow of one token: `u = binary16(A x)` on F FP16 MAC lanes, the lane tree,
//! then `v = B u` (docs/arithmetic.md §L). The unit wires its blocks together: the
//! sequencer ([`LowRankSequencer`], hdl/src/lowrank_sequencer.rs), the x buffer
//! ([`LowRankXBuffer`]), the u and v buffers ([`LowRankUBuffer`], [`LowRankVBuffer`]) and the
//! MAC lanes ([`Fp16MacLane`]).

use hgf_golden::streams::V_INTERLEAVE;
use hgf_golden::{HgfConfig, Layout};
use rust_hdl::prelude::*;

use crate::f32_to_f16::F32ToF16;
use crate::fp16_mac::Fp16MacLane;
use crate::lowrank_sequencer::LowRankSequencer;
pub use crate::lowrank_sequencer::{pass_cycles, phase, COUNT_BITS, DRAIN_CYCLES};
use crate::lowrank_u_buffer::LowRankUBuffer;
use crate::lowrank_v_buffer::LowRankVBuffer;
use crate::lowrank_x_buffer::LowRankXBuffer;
use crate::resources::Resources;

/// Enabled cycles of [`LowRankUnit`] per token, from the edge that takes `start` to the edge
/// after which `done` is high, when no stream ever holds it up:
/// `(ceil(d_in/F) + log2 F) · max(rank, 7) + ceil(d_out/(8F)) · rank · 8 + 2 · 8`, or 0 for
/// a ternary-only projection (`rank = 0`: `done` right after the `start` edge).
pub fn cycles_per_token(p: &Layout) -> usize {
    if p.rank == 0 {
        return 0;
    }
    (p.u_steps() + p.fp_lanes.trailing_zeros() as usize) * pass_cycles(p.rank)
        + p.v_blocks() * p.rank * V_INTERLEAVE
        + 2 * DRAIN_CYCLES
}

/// The low-rank flow of one token on F FP16 MAC lanes, for any shape within the engine's
/// maxima (`LowRankUnit`).
///
/// **Function.** For one token `x` (binary16, `d_in` values on the `x` stream) and the factor
/// stream (A, then B, in the order of `hgf_golden::streams::factor_beats`, docs/interfaces.md),
/// computes `u = binary16(A x)` (docs/arithmetic.md §L2 to §L4) and `v = B u` (§L5) bit for
/// bit, and keeps `v` (binary32, `d_out` values) in a buffer that the gate reads.
///
/// 1. *x buffer.* Each accepted `x` beat `x_i` (the unit counts `i`) goes to bank `i mod F`
///    at address `i div F`.
/// 2. *Phase U.* For each step `t < ceil(d_in/F)` and each `k < rank`, one factor beat:
///    lane `l` adds `A[k][tF+l] · x[tF+l]` into its partial sum `P_l[k]` (slot `k` of its
///    register file), starting from -0 at `t = 0` (§L3). Lanes past `d_in` in the last step
///    add `-0 · +0 = -0`, which changes no sum. Step `t` waits until the `x` values up to
///    `min((t+1)F, d_in)` have arrived. A step takes `max(rank, 7)` cycles: when `rank` is
///    below the lanes' accumulate loop ([`Fp16MacLane::LOOP_LATENCY`] = 7), idle cycles pad
///    it.
/// 3. *Tree.* `log2 F` rounds of `max(rank, 7)` cycles; in round `r` lane `j < F/2^(r+1)`
///    adds the partial sums of lanes `2j` (left) and `2j+1` (right) for every `k` and keeps
///    the result in its slot `k`. This is the tree of §L2 with the results compacted to the
///    low lanes: after round `r`, lane `j` holds the node that the in-place formulation keeps
///    in lane `j·2^(r+1)`, `fl32(left + right)` of the same two operands in the same order, so
///    the bits are the same. Compacting makes every lane's tree operands fixed wires (lane
///    `j` reads lanes `2j` and `2j+1`) instead of a per-round multiplexer. The last round's
///    results (or, for F = 1, the last step's) are rounded to binary16 (`u_k`, §L4, §F2) and
///    written to the u buffer (`rank` entries).
/// 4. *Drain* ([`DRAIN_CYCLES`] = 8 cycles), so that all of `u` is written.
/// 5. *Phase V.* For each block `b < ceil(d_out/(8F))`, each `k < rank`, each `m < 8`, one
///    factor beat: lane `l` adds `B[(8b+m)F+l][k] · u_k` into its slot `m` (from -0 at
///    `k = 0`). The 8 interleaved sums per lane exceed the accumulate loop, so phase V never
///    pads. When `k = rank - 1` completes, `v_j` for `j = (8b+m)F + l` is final and goes to
///    bank `l` of the v buffer at address `8b+m` (`j >= d_out` is skipped), and
///    `v_ready_count` becomes `min((8b+m+1)F, d_out)`.
/// 6. *Drain* (8 cycles), then `done`.
///
/// Stalls: the lanes and the sequencer advance together under one clock enable, which is low
/// when the next thing to do is a factor beat and either `f_valid` is low or (phase U) its
/// `x` values have not arrived. A stall loses and repeats nothing; the `x` buffer keeps
/// accepting beats meanwhile.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous, active high: back to idle from any state, every beat in the lanes dropped, `f_ready`, `done`, `v_ready_count` low at the next edge; no beat transfers on an edge with `reset` high |
/// | `start` | in | 1 | a new token begins on this edge (taken when idle or done, ignored while a token is in progress) |
/// | `x_valid`, `x_data` | in | 1, 16 | one binary16 activation per edge with `x_valid` high, `x_0` first; taken on the `start` edge and after it until `d_in` have arrived (no ready: the unit never refuses one then) |
/// | `d_in`, `d_out`, `rank` | in | 20 each | the token's projection shape, sampled on the `start` edge (`1 <= d_in <= max_d_in`, `1 <= d_out <= max_d_out`, `rank <= max_rank`); `rank = 0`: no low-rank flow, `done` right after `start` and every `v_j` reads as binary32 −0 (docs/arithmetic.md §G2) |
/// | `f_valid` | in | 1 | a factor beat is offered |
/// | `f_data$0 … f_data$(F−1)` | in | 16 each | the beat's F binary16 values, lane `l` on `f_data$l` |
/// | `v_read_row` | in | 20 | row `j < d_out` of `v` to read, sampled on every edge |
/// | `f_ready` | out | 1 | the unit takes the offered factor beat on this edge (depends on the state and on `reset`, never on `f_valid`) |
/// | `v_ready_count` | out | 20 | every `v_j` with `j` below it is final and written; grows during a token, 0 after `start` and `reset` |
/// | `v_read_data` | out | 32 | binary32 `v_j` of the `v_read_row` sampled on the previous edge (1 cycle) |
/// | `done` | out | 1 | every `v_j` of the token is written (`v_ready_count = d_out`); high until `start` or `reset` |
/// | `lend`, `lend_enable`, `lend_a`, `lend_b` | in | 1, 1, 32, 32 | lane 0's binary32 adder lent to the gate ([`Fp16MacLane`]'s ports of the same names; raise `lend` only while `done` is high) |
/// | `lent_sum16` | out | 16 | lane 0's adder result rounded to binary16 by the unit's [`F32ToF16`] (combinational: the lent adder's result, [`crate::fp32_add::Fp32Add::LATENCY`] lent edges after its operands) |
///
/// **Latency** [`cycles_per_token`] enabled cycles (cycles in which the flow advances) after
/// the `start` edge until `done`: `(ceil(d_in/F) + log2 F) · max(rank, 7) + ceil(d_out/(8F))
/// · rank · 8 + 16`; for the default config (512, 512, rank 16, F = 4) `(128 + 2) · 16 + 16 ·
/// 16 · 8 + 16 = 4,144`. Every cycle in which the factor stream or a missing `x` holds the
/// flow up adds one (with `x` arriving one per cycle from `start`, step 0 waits `F - 1`
/// cycles, and later steps wait if `max(rank, 7) < F`). `v_read_data` follows `v_read_row`
/// after one edge.
/// **Throughput** one factor beat per cycle in phases U (when `rank >= 7`) and V; the factor
/// stream (`hgf_golden::HgfConfig::factor_beats`, 4,096 beats for the default config) is the
/// bottleneck, plus the tree and two drains.
/// **Resources** F [`Fp16MacLane`]s (F 16x16 multipliers, F binary32 adders, F register files
/// of `max(rank, 8)` words), one [`F32ToF16`], RAM: F x banks of `ceil(d_in/F)` x 16 bits, F v
/// banks of `ceil(d_out/F)` x 32 bits, a u buffer of `rank` x 16 bits, each a [`TiledRam`]
/// (256-word tiles); F x 16 bits of beat register. Synthesis estimate, yosys 0.23, for the earlier
/// 8-lane default config (F = 8): `synth_ecp5` 10,332 LUT4 (+ 1,280 L6MUX21, 2,936 PFUMX, 669
/// CCU2C), 3,165 FF, 8 MULT18X18D, 25 DP16KD; `synth_ice40 -dsp` 7,738 SB_LUT4, 2,988 FF, 8
/// SB_MAC16, 41 SB_RAM40_4K. For the earlier `up5k` preset (F = 2): `synth_ecp5` 3,216 LUT4, 1,020
/// FF, 2 MULT18X18D, 7 DP16KD; `synth_ice40 -dsp` 2,510 SB_LUT4, 975 FF, 2 SB_MAC16, 11
/// SB_RAM40_4K; the F = 1 `up5k` of now: `synth_ice40 -dsp` 1,550 SB_LUT4, 641 FF, 1 SB_MAC16, 6
/// SB_RAM40_4K. The lanes are most of it (iCE40: 853 SB_LUT4 and 359 FF each).
/// **Golden** `hgf_golden::lowrank::project_down` (u) and `project_up` (v), with the factor
/// stream of `hgf_golden::streams::factor_beats`.
/// **Limits** F a power of two in 1..=64; `max_d_in <= 2^17`; `max_d_out < 2^20`
/// (`v_ready_count` is 20 bits); buffers and register files are sized for the maxima, and a
/// shape beyond them is the core's to refuse (it never reaches the unit); the host must
/// raise `start` no later than with the first `x` beat of the token
/// (beats offered on `x` while idle or done are dropped). `v` of a token stays readable until
/// the next token's phase V writes it, at least `(ceil(d_in/F) + log2 F) · max(rank, 7) + 8`
/// cycles after the next `start`, but `v_ready_count` drops to 0 at that `start`.
#[derive(LogicBlock)]
pub struct LowRankUnit {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// A new token begins (taken when idle or done).
    pub start: Signal<In, Bit>,
    /// An activation is offered.
    pub x_valid: Signal<In, Bit>,
    /// binary16 activation `x_i`.
    pub x_data: Signal<In, Bits<16>>,
    /// The projection's shape, sampled with `start` (`1 <= d_in <= max_d_in`, `1 <= d_out
    /// <= max_d_out`, `rank <= max_rank`; `rank = 0`: ternary-only).
    pub d_in: Signal<In, Bits<COUNT_BITS>>,
    pub d_out: Signal<In, Bits<COUNT_BITS>>,
    pub rank: Signal<In, Bits<COUNT_BITS>>,
    /// A factor beat is offered.
    pub f_valid: Signal<In, Bit>,
    /// The factor beat: one binary16 value per lane.
    pub f_data: Vec<Signal<In, Bits<16>>>,
    /// Row of `v` to read.
    pub v_read_row: Signal<In, Bits<COUNT_BITS>>,
    /// The offered factor beat is taken on this edge.
    pub f_ready: Signal<Out, Bit>,
    /// Every `v_j` with `j` below this count is final.
    pub v_ready_count: Signal<Out, Bits<COUNT_BITS>>,
    /// `v` at the row sampled on the previous edge.
    pub v_read_data: Signal<Out, Bits<32>>,
    /// All of `v` is written.
    pub done: Signal<Out, Bit>,
    /// Lane 0's adder takes `lend_a`, `lend_b` and advances with `lend_enable`.
    pub lend: Signal<In, Bit>,
    /// The borrower's clock enable of lane 0's adder.
    pub lend_enable: Signal<In, Bit>,
    /// binary32 operand lent to lane 0's adder.
    pub lend_a: Signal<In, Bits<32>>,
    /// binary32 operand lent to lane 0's adder.
    pub lend_b: Signal<In, Bits<32>>,
    /// Lane 0's adder result rounded to binary16 (the rounding of `u`, shared).
    pub lent_sum16: Signal<Out, Bits<16>>,
    // ---- Blocks.
    pub(crate) sequencer: LowRankSequencer,
    pub(crate) x_buffer: LowRankXBuffer,
    pub(crate) u_buffer: LowRankUBuffer,
    pub(crate) v_buffer: LowRankVBuffer,
    pub(crate) lanes: Vec<Fp16MacLane>,
    to_f16: F32ToF16,
    /// Lane 0's result is final: the last of a `u_k` or of a group of `v`.
    lane0_final: Signal<Local, Bit>,
    /// A padding lane's operands, binary16 -0 and +0 (typed: no WIDTH mismatch in the
    /// Verilog).
    pad_a: Constant<Bits<16>>,
    pad_b: Constant<Bits<16>>,
}

impl LowRankUnit {
    /// Edges from `v_read_row` to `v_read_data` (one `TiledRam` read).
    pub const V_READ_LATENCY: usize = 1;

    /// The unit for `cfg`'s maxima (`max_d_in`, `max_d_out`, `max_rank`) and `fp_lanes`.
    ///
    /// # Panics
    /// If `fp_lanes` is not a power of two in 1..=64, `max_d_in` is 0 or above 2^17,
    /// `max_d_out` is 0 or not below 2^20, or `max_rank` is 0 or above 2^17.
    pub fn new(cfg: &HgfConfig) -> Self {
        let lanes = cfg.fp_lanes;
        assert!(
            lanes.is_power_of_two() && lanes <= 64,
            "fp_lanes {lanes} is not a power of two in 1..=64"
        );
        let max = cfg.max_layout();
        assert!((1..=1 << 17).contains(&max.d_in), "max_d_in {}", max.d_in);
        assert!(
            (1..1 << COUNT_BITS).contains(&max.d_out),
            "max_d_out {} (below 2^20)",
            max.d_out
        );
        assert!((1..=1 << 17).contains(&max.rank), "max_rank {}", max.rank);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            x_valid: Default::default(),
            x_data: Default::default(),
            d_in: Default::default(),
            d_out: Default::default(),
            rank: Default::default(),
            f_valid: Default::default(),
            f_data: (0..lanes).map(|_| Default::default()).collect(),
            v_read_row: Default::default(),
            f_ready: Default::default(),
            v_ready_count: Default::default(),
            v_read_data: Default::default(),
            done: Default::default(),
            lend: Default::default(),
            lend_enable: Default::default(),
            lend_a: Default::default(),
            lend_b: Default::default(),
            lent_sum16: Default::default(),
            sequencer: LowRankSequencer::new(cfg),
            x_buffer: LowRankXBuffer::new(cfg),
            u_buffer: LowRankUBuffer::new(cfg),
            v_buffer: LowRankVBuffer::new(cfg),
            lanes: (0..lanes)
                .map(|_| Fp16MacLane::new(max.rank.max(V_INTERLEAVE)))
                .collect(),
            to_f16: F32ToF16::new(),
            lane0_final: Default::default(),
            pad_a: Constant::new(0x8000u64.into()),
            pad_b: Constant::new(0u64.into()),
        }
    }

    /// Number of lanes (F).
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// The unit's multipliers and memories (the area model's, [`crate::resources`]), in the
    /// order [`LowRankUnit::new`] builds them: per lane an x bank of binary16 inputs
    /// ([`LowRankXBuffer`], `u_steps` words), then per lane a v bank of binary32 rows
    /// ([`LowRankVBuffer`], `ceil(max_d_out / fp_lanes)` words), then the lanes
    /// ([`Fp16MacLane::resources`] of `max(max_rank, V_INTERLEAVE)` slots), then the u buffer
    /// ([`LowRankUBuffer`], `max_rank` binary16 words).
    pub fn resources(cfg: &HgfConfig) -> Resources {
        let lanes = cfg.fp_lanes;
        let max = cfg.max_layout();
        let x_banks = Resources::memory(max.u_steps(), 16).times(lanes);
        let v_banks = Resources::memory(cfg.max_d_out.div_ceil(lanes), 32).times(lanes);
        let mac_lanes = Fp16MacLane::resources(max.rank.max(V_INTERLEAVE)).times(lanes);
        let u_buffer = Resources::memory(cfg.max_rank, 16);
        x_banks.and(v_banks).and(mac_lanes).and(u_buffer)
    }
}

impl Logic for LowRankUnit {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, sequencer, x_buffer, u_buffer, v_buffer);

        // ---- The sequencer: the token's shape, the factor stream, the x buffer's count.
        self.sequencer.reset.next = self.reset.val();
        self.sequencer.start.next = self.start.val();
        self.sequencer.d_in.next = self.d_in.val();
        self.sequencer.d_out.next = self.d_out.val();
        self.sequencer.rank.next = self.rank.val();
        self.sequencer.f_valid.next = self.f_valid.val();
        for l in 0..self.f_data.len() {
            self.sequencer.f_data[l].next = self.f_data[l].val();
        }
        self.sequencer.x_count.next = self.x_buffer.count.val();
        self.f_ready.next = self.sequencer.f_ready.val();
        self.done.next = self.sequencer.done.val();

        // ---- The x buffer: the x stream while the sequencer's token takes it.
        self.x_buffer.reset.next = self.reset.val();
        self.x_buffer.start.next = self.sequencer.start_taken.val();
        self.x_buffer.busy.next = self.sequencer.busy.val();
        self.x_buffer.d_in.next = self.sequencer.token_d_in.val();
        self.x_buffer.x_valid.next = self.x_valid.val();
        self.x_buffer.x_data.next = self.x_data.val();
        self.x_buffer.read_address.next = self.sequencer.read_address.val();

        // ---- Lanes: the beat register's beat; x from the lane's bank (phase U) or u_k
        // (phase V); lanes past d_in in the last step add -0 * +0.
        for l in 0..self.lanes.len() {
            self.lanes[l].clock.next = self.clock.val();
            self.lanes[l].reset.next = self.reset.val();
            self.lanes[l].enable.next = self.sequencer.advance.val();
            self.lanes[l].lend.next = false;
            self.lanes[l].lend_enable.next = false;
            self.lanes[l].lend_a.next = 0.into();
            self.lanes[l].lend_b.next = 0.into();
            self.lanes[l].issue.next = self.sequencer.beat_issue[l].val();
            self.lanes[l].first.next = self.sequencer.beat_first.val();
            self.lanes[l].tree.next = self.sequencer.beat_tree.val();
            self.lanes[l].last.next = self.sequencer.beat_last.val();
            self.lanes[l].slot.next = self.sequencer.beat_slot.val();
            self.lanes[l].a.next = self.sequencer.beat_data[l].val();
            self.lanes[l].b.next = self.x_buffer.read_data[l].val();
            if self.sequencer.beat_up.val() {
                self.lanes[l].b.next = self.u_buffer.read_data.val();
            }
            if self.sequencer.beat_pad[l].val() {
                self.lanes[l].a.next = self.pad_a.val();
                self.lanes[l].b.next = self.pad_b.val();
            }
            // Lanes that take no part in the tree get their own partial sum (never used).
            self.lanes[l].tree_left.next = self.lanes[l].part.val();
            self.lanes[l].tree_right.next = self.lanes[l].part.val();
        }
        // The tree: lane j adds lanes 2j (left) and 2j + 1 (right).
        for j in 0..(self.lanes.len() / 2) {
            self.lanes[j].tree_left.next = self.lanes[2 * j].part.val();
            self.lanes[j].tree_right.next = self.lanes[2 * j + 1].part.val();
        }
        self.lanes[0].lend.next = self.lend.val();
        self.lanes[0].lend_enable.next = self.lend_enable.val();
        self.lanes[0].lend_a.next = self.lend_a.val();
        self.lanes[0].lend_b.next = self.lend_b.val();
        self.to_f16.x.next = self.lanes[0].sum.val();
        self.lent_sum16.next = self.to_f16.y.val();

        // ---- u buffer: lane 0's final sums of the tree (or of phase U for F = 1), in the
        // order k = 0, 1, ..., rounded to binary16.
        self.lane0_final.next = self.lanes[0].sum_valid.val() & self.lanes[0].sum_last.val();
        self.u_buffer.reset.next = self.reset.val();
        self.u_buffer.start.next = self.sequencer.start_taken.val();
        self.u_buffer.write.next =
            (self.sequencer.advance.val() & !self.sequencer.v_phase.val()) & self.lane0_final.val();
        self.u_buffer.write_data.next = self.to_f16.y.val();
        self.u_buffer.read_address.next = self.sequencer.read_address.val();

        // ---- v buffer: the final sums of phase V.
        self.v_buffer.reset.next = self.reset.val();
        self.v_buffer.start.next = self.sequencer.start_taken.val();
        self.v_buffer.d_out.next = self.d_out.val();
        self.v_buffer.rank.next = self.rank.val();
        self.v_buffer.write.next = self.sequencer.advance.val() & self.sequencer.v_phase.val();
        for l in 0..self.lanes.len() {
            self.v_buffer.sum[l].next = self.lanes[l].sum.val();
            self.v_buffer.sum_final[l].next =
                self.lanes[l].sum_valid.val() & self.lanes[l].sum_last.val();
        }
        self.v_buffer.read_row.next = self.v_read_row.val();
        self.v_ready_count.next = self.v_buffer.ready_count.val();
        self.v_read_data.next = self.v_buffer.read_data.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{settle, tick};
    use crate::verilog::{check_all_tools, emit_named};
    use half::f16;
    use hgf_golden::lowrank::{project_down, project_up};
    use hgf_golden::streams::factor_beats;
    use hgf_golden::{HgfWeights, Shape};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const SEED: u64 = 0x5eed_10a4;

    fn new_uut(cfg: &HgfConfig) -> LowRankUnit {
        let mut uut = LowRankUnit::new(cfg);
        uut.connect_all();
        uut
    }

    /// An engine for projections of up to the given shape with `lanes` FP lanes (built
    /// without `validate`: F may exceed `d_in`, and the unit needs nothing else).
    fn config(d_in: usize, d_out: usize, rank: usize, lanes: usize) -> HgfConfig {
        HgfConfig {
            max_d_in: d_in,
            max_d_out: d_out,
            max_rank: rank,
            fp_lanes: lanes,
            ..HgfConfig::default()
        }
    }

    /// A binary16 value that stresses the arithmetic: signed zeros, subnormals, the largest
    /// finite values, tiny normals and, if `non_finite`, infinities and NaNs.
    fn special(rng: &mut ChaCha8Rng, non_finite: bool) -> f16 {
        let sign = if rng.random() { 0x8000 } else { 0 };
        let kinds = if non_finite { 7 } else { 5 };
        let mag: u16 = match rng.random_range(0..kinds) {
            0 => 0,
            1 => rng.random_range(1..0x400),
            2 => 0x7BFF - rng.random_range(0..4),
            3 => 0x0400 + rng.random_range(0..0x400),
            4 => 0x5800 + rng.random_range(0..0x800), // 128 .. 256
            5 => 0x7C00,
            _ => 0x7C00 | rng.random_range(1..0x400),
        };
        f16::from_bits(sign | mag)
    }

    /// How special a token is.
    #[derive(Clone, Copy, Debug)]
    enum Flavour {
        /// Random weights and activations with some zeros, subnormals and large values.
        Plain,
        /// Plus infinities and NaNs in A and B (poisoning a few u_k and v_j) and rarely in x.
        NonFinite,
        /// Every activation a signed zero: u and v are signed zeros (§L3, §S).
        Zeros,
        /// Large values everywhere: sums overflow to infinity.
        Huge,
        /// Every product -0 (x = +0, A < 0): every u_k must be -0, which any +0 term (an
        /// input past d_in, a lane that started from +0) would turn into +0.
        NegZeros,
    }

    /// Random weights and a token for `cfg`.
    fn token(shape: Shape, flavour: Flavour, rng: &mut ChaCha8Rng) -> (HgfWeights, Vec<f16>) {
        let mut w = HgfWeights::random(shape, rng.random());
        let mut x: Vec<f16> = (0..shape.d_in)
            .map(|_| f16::from_f32(rng.random_range(-2.0f32..2.0)))
            .collect();
        let (p_w, p_x, non_finite) = match flavour {
            Flavour::Plain => (0.1, 0.1, false),
            Flavour::NonFinite => (0.03, 0.01, true),
            Flavour::Zeros => (0.1, 0.0, false),
            Flavour::Huge | Flavour::NegZeros => (0.0, 0.0, false),
        };
        for v in w.a.iter_mut().chain(w.b.iter_mut()) {
            if rng.random_bool(p_w) {
                *v = special(rng, non_finite);
            }
        }
        for v in x.iter_mut() {
            if rng.random_bool(p_x) {
                *v = special(rng, non_finite);
            }
        }
        match flavour {
            Flavour::Zeros => {
                for v in x.iter_mut() {
                    *v = f16::from_bits(if rng.random() { 0x8000 } else { 0 });
                }
            }
            Flavour::Huge => {
                let big = |rng: &mut ChaCha8Rng| {
                    let sign = if rng.random_bool(0.2) { 0x8000 } else { 0 };
                    f16::from_bits(sign | (0x7800 + rng.random_range(0..0x3FF)))
                };
                for v in w.a.iter_mut().chain(w.b.iter_mut()).chain(x.iter_mut()) {
                    *v = big(rng);
                }
            }
            Flavour::NegZeros => {
                x.fill(f16::ZERO);
                for v in w.a.iter_mut() {
                    *v = f16::from_bits(0x8000 | (v.to_bits() & 0x7FFF).max(1));
                }
            }
            _ => {}
        }
        (w, x)
    }

    /// Probabilities that a source withholds its next beat in a cycle.
    #[derive(Clone, Copy, Debug)]
    struct Gaps {
        x: f64,
        f: f64,
    }

    /// What one token did.
    #[derive(Debug, Default)]
    struct Outcome {
        /// u buffer writes in order: (address, binary16 bits).
        u_writes: Vec<(u64, u16)>,
        /// Enabled cycles (the flow advanced) from the start edge (excluded) to `done`.
        enabled_cycles: usize,
        /// Rows of v read while the token ran, as soon as `v_ready_count` allowed.
        early_reads: usize,
    }

    /// Drives one token: `start`, the `x` beats and the factor beats with random gaps, and a
    /// gate-like reader that reads each row of v as soon as `v_ready_count` passes it and
    /// checks it against the golden `v` there and then. Returns at `done`, or at the start
    /// of the first cycle where `stop` says so (for the reset test).
    fn run_token(
        uut: &mut LowRankUnit,
        cfg: &HgfConfig,
        w: &HgfWeights,
        x: &[f16],
        gaps: Gaps,
        rng: &mut ChaCha8Rng,
        mut stop: Option<&mut dyn FnMut(&LowRankUnit) -> bool>,
    ) -> Outcome {
        let p = cfg.layout(w.projection_shape());
        let beats = factor_beats(&p, w);
        let u_gold = project_down(w.a.view(), x, cfg.fp_lanes);
        let v_gold = project_up(w.b.view(), &u_gold);
        let mut out = Outcome::default();
        let (mut xi, mut fi, mut next_read) = (0, 0, 0);
        let mut last_ready = 0;
        let limit = 200 * (cycles_per_token(&p) + p.d_in) + 1000;
        for cycle in 0.. {
            if let Some(stop) = stop.as_mut() {
                if cycle > 0 && stop(uut) {
                    return out;
                }
            }
            assert!(cycle < limit, "{cfg:?}: no done after {cycle} cycles");
            uut.start.next = cycle == 0;
            uut.d_in.next = (p.d_in as u64).into();
            uut.d_out.next = (p.d_out as u64).into();
            uut.rank.next = (p.rank as u64).into();
            let offer_x = xi < p.d_in && (cycle == 0 || !rng.random_bool(gaps.x));
            uut.x_valid.next = offer_x;
            uut.x_data.next = if offer_x {
                u64::from(x[xi].to_bits()).into()
            } else {
                u64::from(rng.random::<u16>()).into()
            };
            let offer_f = fi < beats.len() && !rng.random_bool(gaps.f);
            uut.f_valid.next = offer_f;
            for (l, port) in uut.f_data.iter_mut().enumerate() {
                port.next = if offer_f {
                    u64::from(beats[fi][l].to_bits()).into()
                } else {
                    u64::from(rng.random::<u16>()).into()
                };
            }
            // On the start edge the count is still the previous token's.
            let ready = if cycle == 0 {
                0
            } else {
                uut.v_ready_count.val().index()
            };
            assert!(ready >= last_ready, "v_ready_count went down");
            assert!(ready <= p.d_out);
            last_ready = ready;
            let read = (next_read < ready).then_some(next_read);
            uut.v_read_row.next = (read.unwrap_or(rng.random_range(0..p.d_out)) as u64).into();
            settle(uut);
            let took_f = offer_f && uut.f_ready.val();
            if uut.u_buffer.ram.write_enable.val() {
                out.u_writes.push((
                    uut.u_buffer.ram.write_address.val().to_u64(),
                    uut.u_buffer.ram.write_data.val().to_u64() as u16,
                ));
            }
            if cycle > 0 && uut.sequencer.advance.val() {
                out.enabled_cycles += 1;
            }
            tick(uut, |u| &mut u.clock);
            xi += usize::from(offer_x);
            fi += usize::from(took_f);
            if let Some(j) = read {
                let got = uut.v_read_data.val().to_u64() as u32;
                assert_eq!(
                    got,
                    v_gold[j].to_bits(),
                    "{cfg:?}: v[{j}] read at cycle {cycle} (ready {ready}): rtl {got:08x} \
                     gold {:08x}",
                    v_gold[j].to_bits()
                );
                next_read += 1;
                out.early_reads += 1;
            }
            if uut.done.val() {
                break;
            }
        }
        assert_eq!(fi, beats.len(), "{cfg:?}: factor beats left at done");
        if p.rank > 0 {
            assert_eq!(xi, p.d_in, "{cfg:?}: x beats at done");
        }
        assert_eq!(uut.v_ready_count.val().index(), p.d_out);
        assert!(!uut.f_ready.val(), "f_ready after done");
        // u: every entry written once, in order, bit for bit.
        let want: Vec<(u64, u16)> = u_gold
            .iter()
            .enumerate()
            .map(|(k, u)| (k as u64, u.to_bits()))
            .collect();
        assert_eq!(out.u_writes, want, "{cfg:?}: u (address, bits)");
        // v: every row read back after done.
        for (j, want) in v_gold.iter().enumerate() {
            uut.v_read_row.next = (j as u64).into();
            tick(uut, |u| &mut u.clock);
            let got = uut.v_read_data.val().to_u64() as u32;
            assert_eq!(
                got,
                want.to_bits(),
                "{cfg:?}: v[{j}] after done: rtl {got:08x} gold {:08x}",
                want.to_bits()
            );
        }
        assert!(uut.done.val(), "done dropped while idle");
        out
    }

    /// Several tokens per config, back to back on one unit, with random stream gaps.
    fn random_tokens(shapes: &[(usize, usize, usize, usize)], seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let flavours = [
            Flavour::Plain,
            Flavour::NonFinite,
            Flavour::Zeros,
            Flavour::Huge,
            Flavour::NegZeros,
        ];
        for &(d_in, d_out, rank, lanes) in shapes {
            let cfg = config(d_in, d_out, rank, lanes);
            let mut uut = new_uut(&cfg);
            for (i, &flavour) in flavours.iter().enumerate() {
                let (w, x) = token(cfg.max_shape(), flavour, &mut rng);
                let gaps = match i {
                    0 => Gaps { x: 0.0, f: 0.0 },
                    1 => Gaps { x: 0.5, f: 0.3 },
                    2 => Gaps { x: 0.9, f: 0.5 },
                    3 => Gaps { x: 0.2, f: 0.9 },
                    _ => Gaps { x: 0.7, f: 0.7 },
                };
                let out = run_token(&mut uut, &cfg, &w, &x, gaps, &mut rng, None);
                assert_eq!(
                    out.enabled_cycles,
                    cycles_per_token(&cfg.max_layout()),
                    "{cfg:?}: enabled cycles per token"
                );
                assert!(out.early_reads > 0, "{cfg:?}: the reader never ran");
            }
        }
    }

    /// One unit per F (1, 2, 4, 8) for projections of up to 40 x 40, rank 8, runs twelve
    /// random shapes within those maxima back to back (d_in, d_out 1..=40, rank 0..=8),
    /// two tokens each with random flavours and gaps.
    #[test]
    fn random_shapes_match_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 4);
        let flavours = [
            Flavour::Plain,
            Flavour::NonFinite,
            Flavour::Zeros,
            Flavour::Huge,
            Flavour::NegZeros,
        ];
        for lanes in [1, 2, 4, 8] {
            let cfg = config(40, 40, 8, lanes);
            let mut uut = new_uut(&cfg);
            for _ in 0..12 {
                let shape = Shape::new(
                    rng.random_range(1..=40),
                    rng.random_range(1..=40),
                    rng.random_range(0..=8),
                );
                for _ in 0..2 {
                    let flavour = flavours[rng.random_range(0..flavours.len())];
                    let (w, x) = token(shape, flavour, &mut rng);
                    let gaps = Gaps {
                        x: rng.random_range(0.0..0.9),
                        f: rng.random_range(0.0..0.9),
                    };
                    let out = run_token(&mut uut, &cfg, &w, &x, gaps, &mut rng, None);
                    assert_eq!(
                        out.enabled_cycles,
                        cycles_per_token(&cfg.layout(shape)),
                        "{cfg:?} {shape}"
                    );
                }
            }
        }
    }

    /// Reset in every phase of a token and while done, with every input high on the reset
    /// edge: from the next edge the unit is idle (`f_ready`, `done` low, `v_ready_count` 0)
    /// and writes nothing more (the lanes' pipelines are empty), and the next token is exact.
    #[test]
    fn reset_in_any_phase_then_a_clean_token() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 3);
        for &(d_in, d_out, rank, lanes) in &[(37, 29, 5, 4), (16, 20, 8, 8), (7, 5, 2, 1)] {
            let cfg = config(d_in, d_out, rank, lanes);
            let mut uut = new_uut(&cfg);
            for target in [
                phase::DOWN,
                phase::TREE,
                phase::DRAIN,
                phase::UP,
                phase::DONE,
            ] {
                if target == phase::TREE && lanes == 1 {
                    continue;
                }
                let (w, x) = token(cfg.max_shape(), Flavour::Plain, &mut rng);
                let extra = rng.random_range(0..4);
                let mut seen = 0;
                let mut stop = |u: &LowRankUnit| {
                    seen += usize::from(u.sequencer.state.q.val().to_u64() == target);
                    seen > extra
                };
                let gaps = Gaps { x: 0.3, f: 0.3 };
                run_token(&mut uut, &cfg, &w, &x, gaps, &mut rng, Some(&mut stop));
                assert_eq!(uut.sequencer.state.q.val().to_u64(), target, "{cfg:?}");
                uut.reset.next = true;
                uut.start.next = true;
                uut.x_valid.next = true;
                uut.f_valid.next = true;
                tick(&mut uut, |u| &mut u.clock);
                uut.reset.next = false;
                uut.start.next = false;
                uut.x_valid.next = false;
                uut.f_valid.next = false;
                for cycle in 0..2 * DRAIN_CYCLES {
                    settle(&mut uut);
                    let what = format!("{cfg:?}: reset in phase {target}, cycle {cycle}");
                    assert_eq!(uut.sequencer.state.q.val().to_u64(), phase::IDLE, "{what}");
                    assert!(!uut.f_ready.val(), "{what}: f_ready");
                    assert!(!uut.done.val(), "{what}: done");
                    assert_eq!(uut.v_ready_count.val().to_u64(), 0, "{what}");
                    assert!(!uut.u_buffer.ram.write_enable.val(), "{what}: u written");
                    for bank in &uut.v_buffer.banks {
                        assert!(!bank.write_enable.val(), "{what}: v written");
                    }
                    for lane in &uut.lanes {
                        assert!(!lane.sum_valid.val(), "{what}: lane not flushed");
                    }
                    tick(&mut uut, |u| &mut u.clock);
                }
                let (w, x) = token(cfg.max_shape(), Flavour::NonFinite, &mut rng);
                let gaps = Gaps { x: 0.5, f: 0.5 };
                let out = run_token(&mut uut, &cfg, &w, &x, gaps, &mut rng, None);
                assert_eq!(
                    out.enabled_cycles,
                    cycles_per_token(&cfg.max_layout()),
                    "{cfg:?}"
                );
            }
        }
    }

    #[test]
    fn synthesizes() {
        for preset in hgf_golden::config::PRESETS {
            let cfg = HgfConfig::preset(preset).unwrap();
            let uut = new_uut(&cfg);
            let name = format!("lowrank_unit_{preset}");
            let v = emit_named(&uut, &name).unwrap();
            assert!(v.contains(&format!("module {name}(")));
            check_all_tools(&name, &v).unwrap();
        }
    }

    #[test]
    fn cycles_per_token_of_pinned_shapes() {
        // Shapes pinned here, not taken from the presets (which change).
        let shape = |d_in, d_out, rank, fp_lanes| {
            HgfConfig {
                fp_lanes,
                ..HgfConfig::preset("default").unwrap()
            }
            .layout(Shape::new(d_in, d_out, rank))
        };
        // (64 + 3) * 16 + 8 * 16 * 8 + 16.
        assert_eq!(cycles_per_token(&shape(512, 512, 16, 8)), 2112);
        // (128 + 2) * 16 + 16 * 16 * 8 + 16.
        assert_eq!(cycles_per_token(&shape(512, 512, 16, 4)), 4144);
        // One lane: (256 + 0) * 8 + 32 * 8 * 8 + 16.
        assert_eq!(cycles_per_token(&shape(256, 256, 8, 1)), 4112);
        // Ternary-only: done right after the start edge.
        assert_eq!(cycles_per_token(&shape(256, 256, 0, 1)), 0);
    }

    /// One lane: plain sequential sums, no tree (d_in, d_out, rank, F).
    #[test]
    fn one_lane_tokens_match_golden() {
        random_tokens(
            &[(1, 1, 1, 1), (7, 5, 2, 1), (20, 20, 4, 1), (11, 17, 8, 1)],
            SEED,
        );
    }

    /// Two and four lanes, d_in and d_out not multiples of F or 8F, rank below and above
    /// the accumulate loop.
    #[test]
    fn two_and_four_lane_tokens_match_golden() {
        random_tokens(
            &[
                (13, 40, 3, 2),
                (40, 9, 8, 2),
                (37, 29, 5, 4),
                (16, 33, 7, 4),
                (31, 1, 1, 4),
            ],
            SEED + 1,
        );
    }

    /// Eight lanes, F > d_in and F > d_out included.
    #[test]
    fn eight_lane_tokens_match_golden() {
        random_tokens(
            &[(40, 40, 8, 8), (9, 40, 6, 8), (3, 17, 1, 8), (2, 5, 2, 8)],
            SEED + 2,
        );
    }

    #[test]
    fn the_lowrank_statement_matches_the_built_unit() {
        // The memories that the built unit's lanes, v banks and u buffer hold (the x banks
        // are private to their buffer: `u_steps` words each, checked by the count).
        let cfg = HgfConfig::from_toml_str(
            "max_d_in = 100\nmax_d_out = 30\nmax_rank = 5\narray_rows = 4\n\
             array_inputs = 10\nfp_lanes = 2",
        )
        .unwrap();
        let unit = LowRankUnit::new(&cfg);
        let stated = LowRankUnit::resources(&cfg);
        assert_eq!(stated.multipliers, unit.lanes() as u64);
        assert_eq!(stated.memories.len(), 3 * unit.lanes() + 1);
        let v_tiles: Vec<usize> = unit.v_buffer.banks.iter().map(|b| b.tiles()).collect();
        let stated_v: Vec<usize> = stated.memories[2..4].iter().map(|m| m.tiles()).collect();
        assert_eq!(v_tiles, stated_v);
        assert_eq!(
            stated.memories.last().map(|m| m.tiles()),
            Some(unit.u_buffer.ram.tiles())
        );
    }
}
