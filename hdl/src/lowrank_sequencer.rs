//! The low-rank flow's sequencer: the phases of one token, the flow control and the beat
//! register that feeds the MAC lanes (docs/arithmetic.md §L).

use hgf_golden::streams::V_INTERLEAVE;
use hgf_golden::HgfConfig;
use rust_hdl::prelude::*;

use crate::counter_mask::counter_mask;
use crate::fp16_mac::{Fp16MacLane, SLOT_BITS};

/// Widest count or index of the low-rank blocks' ports (`d_in`, `v_read_row`, ...).
pub const COUNT_BITS: usize = 20;

/// Enabled cycles the sequencer waits after the last beat of the tree (so that every `u_k` is
/// written before phase V reads it) and after the last beat of phase V (so that every `v_j`
/// is written before `done`): a beat's result is written [`Fp16MacLane::LATENCY`] + 1
/// enabled edges after it leaves the sequencer's beat register.
pub const DRAIN_CYCLES: usize = Fp16MacLane::LATENCY + 1;

/// Cycles of one pass over the `rank` sums: `max(rank, LOOP_LATENCY)`. A pass shorter than
/// the lanes' accumulate loop is padded with idle cycles, so that a slot is never revisited
/// sooner than [`Fp16MacLane::LOOP_LATENCY`] cycles after its last write was issued.
pub fn pass_cycles(rank: usize) -> usize {
    rank.max(Fp16MacLane::LOOP_LATENCY)
}

/// The sequencer's phases, as the values of its 3-bit state register. (Not a rust-hdl
/// `LogicState` enum: its register module would declare the enum's values as parameters it
/// never uses, which Verilator's lint rejects.)
pub mod phase {
    /// Waiting for `start`.
    pub const IDLE: u64 = 0;
    /// Phase U: the lanes accumulate `A x` (§L2 step 1).
    pub const DOWN: u64 = 1;
    /// The lane tree (§L2 step 2), then `u = binary16(sum)` (§L4).
    pub const TREE: u64 = 2;
    /// Idle cycles until every result in the lanes is written.
    pub const DRAIN: u64 = 3;
    /// Phase V: `v = B u` (§L5).
    pub const UP: u64 = 4;
    /// Every `v_j` of the token is written.
    pub const DONE: u64 = 5;
}

/// The low-rank flow's sequencer (`LowRankSequencer`): which factor beat, which lane
/// operation and which buffer address come next, for one token of any shape within the
/// engine's maxima.
///
/// **Function.** On a taken `start` it registers the token's shape (`rank`, `max(rank, 7)`,
/// `ceil(d_in/F)`, `ceil(d_out/8F)`, `d_in`, the lanes with no input in the last step) and
/// walks the phases of [`crate::lowrank_unit::LowRankUnit`] (its doc lists them): phase U
/// (`ceil(d_in/F)` steps of `max(rank, 7)` cycles, step `t` waiting for its `x` values),
/// the lane tree (`log2 F` rounds), a drain of [`DRAIN_CYCLES`], phase V (`ceil(d_out/8F)`
/// blocks of `rank · 8` beats), a drain, done; `rank = 0` goes straight to done. Each
/// enabled cycle it loads the *beat register* with what the lanes do on the next enabled
/// edge: the factor beat (`beat_data`), which lanes issue, whether the sum starts from -0
/// (`beat_first`), is a tree addition, is final, is of phase V, its register-file slot, and
/// which lanes are padding (past `d_in` in the last step). Flow control: the unit advances
/// (`advance`) unless the next thing to do is a factor beat and either `f_valid` is low or
/// (phase U) its `x` values have not arrived (`x_count` below the step's need). The x banks
/// and the u buffer read `read_address` on every edge: the offered beat's address when the
/// flow advances, else the address of the beat in the beat register, whose data thus holds.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous: back to idle, the beat register empty, `f_ready` low on this cycle |
/// | `start` | in | 1 | a new token (taken when idle or done: `start_taken`) |
/// | `d_in`, `d_out`, `rank` | in | 20 each | the token's shape, sampled on a taken `start` |
/// | `f_valid` | in | 1 | a factor beat is offered |
/// | `f_data$l` | in | 16 each | the offered beat, lane `l`'s value |
/// | `x_count` | in | 20 | `x` values of the token in the x buffer |
/// | `f_ready` | out | 1 | the offered factor beat is taken on this edge (never depends on `f_valid`) |
/// | `advance` | out | 1 | the clock enable of the lanes and of the sequencer on this edge |
/// | `start_taken`, `busy` | out | 1, 1 | `start` is taken on this edge; a token is in progress (not idle, not done) |
/// | `token_d_in` | out | 20 | the token's `d_in` (registered with `start`) |
/// | `read_address` | out | 20 | the x banks' and the u buffer's read address on this edge |
/// | `beat_issue$l`, `beat_pad$l`, `beat_data$l` | out | 1, 1, 16 each | lane `l` takes the beat; adds `-0 · +0` instead (past `d_in`); its factor value |
/// | `beat_first`, `beat_tree`, `beat_last`, `beat_up`, `beat_slot` | out | 1, 1, 1, 1, SLOT_BITS | the beat register's lane operation ([`Fp16MacLane`]'s `first`, `tree`, `last`; phase V; the slot) |
/// | `v_phase` | out | 1 | lane results now belong to phase V (phase V, or its drain) |
/// | `done` | out | 1 | the token is done; high until a taken `start` or `reset` |
///
/// **Latency** a taken `start` moves to phase U (or, at `rank = 0`, done) on its edge; from
/// there the phases take [`crate::lowrank_unit::cycles_per_token`] enabled cycles. A beat
/// loaded into the beat register on an enabled edge reaches the lanes at once (it is their
/// input until the next enabled edge). **Throughput** one beat per enabled cycle.
/// **Resources** the state, counters and the shape registers (masked to the maxima), the
/// beat register (`F · 16` + a few bits), a few comparators; no RAM, no DSP.
/// **Golden** the beat order of `hgf_golden::streams::factor_beats`. **Limits** those of
/// [`crate::lowrank_unit::LowRankUnit`].
#[derive(LogicBlock)]
pub struct LowRankSequencer {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    pub d_in: Signal<In, Bits<COUNT_BITS>>,
    pub d_out: Signal<In, Bits<COUNT_BITS>>,
    pub rank: Signal<In, Bits<COUNT_BITS>>,
    pub f_valid: Signal<In, Bit>,
    pub f_data: Vec<Signal<In, Bits<16>>>,
    /// `x` values of the token received so far.
    pub x_count: Signal<In, Bits<COUNT_BITS>>,
    pub f_ready: Signal<Out, Bit>,
    /// The clock enable of the lanes and the sequencer.
    pub advance: Signal<Out, Bit>,
    pub start_taken: Signal<Out, Bit>,
    pub busy: Signal<Out, Bit>,
    pub token_d_in: Signal<Out, Bits<COUNT_BITS>>,
    /// The address the x banks and the u buffer read on this edge.
    pub read_address: Signal<Out, Bits<COUNT_BITS>>,
    // The beat register: the beat the lanes take on the next enabled edge.
    pub beat_issue: Vec<Signal<Out, Bit>>,
    pub beat_pad: Vec<Signal<Out, Bit>>,
    pub beat_data: Vec<Signal<Out, Bits<16>>>,
    pub beat_first: Signal<Out, Bit>,
    pub beat_tree: Signal<Out, Bit>,
    pub beat_last: Signal<Out, Bit>,
    pub beat_up: Signal<Out, Bit>,
    pub beat_slot: Signal<Out, Bits<SLOT_BITS>>,
    pub v_phase: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    // ---- Sizes of the engine.
    /// `log2 F - 1` (0 when F = 1: the tree is skipped).
    c_rounds_m1: Constant<Bits<COUNT_BITS>>,
    /// Widths of `r_d_in` (up to `max_d_in`) and of `outer` (up to its largest last value
    /// over the phases of the largest projection), `counter_mask`.
    x_count_mask: Constant<Bits<COUNT_BITS>>,
    outer_mask: Constant<Bits<COUNT_BITS>>,
    /// Width of the rank and pass registers (up to `max(max_rank, LOOP_LATENCY)`).
    pass_mask: Constant<Bits<COUNT_BITS>>,
    c_lanes: Constant<Bits<COUNT_BITS>>,
    c_lanes_m1: Constant<Bits<8>>,
    /// `log2 F`: `d_in - 1` shifted by it is the last step; by it + 3, the last block.
    c_lane_bits: Constant<Bits<5>>,
    c_block_bits: Constant<Bits<5>>,
    c_half: Constant<Bits<8>>,
    c_has_tree: Constant<Bit>,
    c_drain_m1: Constant<Bits<4>>,
    c_loop_m1: Constant<Bits<COUNT_BITS>>,
    /// Every lane's bit.
    c_all_lanes: Constant<Bits<64>>,
    /// Lane `l`'s number.
    lane_index: Vec<Constant<Bits<8>>>,
    // ---- Phase values (module [`phase`]).
    p_idle: Constant<Bits<3>>,
    p_down: Constant<Bits<3>>,
    p_tree: Constant<Bits<3>>,
    p_drain: Constant<Bits<3>>,
    p_up: Constant<Bits<3>>,
    p_done: Constant<Bits<3>>,
    // ---- Sizes of the token's projection, registered with `start`.
    r_rank: DFF<Bits<COUNT_BITS>>,
    r_rank_m1: DFF<Bits<COUNT_BITS>>,
    /// `max(rank, LOOP_LATENCY) - 1`.
    r_pass_m1: DFF<Bits<COUNT_BITS>>,
    /// `ceil(d_in / F) - 1`.
    r_steps_m1: DFF<Bits<COUNT_BITS>>,
    /// `ceil(d_out / 8F) - 1`.
    r_blocks_m1: DFF<Bits<COUNT_BITS>>,
    r_d_in: DFF<Bits<COUNT_BITS>>,
    /// Bit `l`: lane `l` has no input in the last step (`l > (d_in - 1) mod F`).
    r_pad_lanes: DFF<Bits<64>>,
    /// The shape ports' values as the registers above take them on a `start` edge.
    d_in_m1: Signal<Local, Bits<COUNT_BITS>>,
    rank_m1: Signal<Local, Bits<COUNT_BITS>>,
    pass_m1: Signal<Local, Bits<COUNT_BITS>>,
    /// `min(F, d_in)`: the `x` values step 0 needs.
    x_need0: Signal<Local, Bits<COUNT_BITS>>,
    // ---- Combinational signals.
    needs_beat: Signal<Local, Bit>,
    /// Read address (x banks: step; u buffer: k) of the beat the sequencer offers now.
    in_raddr: Signal<Local, Bits<COUNT_BITS>>,
    x_need_next: Signal<Local, Bits<COUNT_BITS>>,
    // ---- State.
    /// The phase (values in [`phase`]).
    pub(crate) state: DFF<Bits<3>>,
    /// Step `t` (phase U), round `r` (tree) or block `b` (phase V).
    outer: DFF<Bits<COUNT_BITS>>,
    /// Sum `k` within the pass (phases U, tree) or the block (phase V).
    k: DFF<Bits<COUNT_BITS>>,
    /// Interleaved output `m` (phase V).
    m: DFF<Bits<3>>,
    drain: DFF<Bits<4>>,
    /// The running drain ends the token (else it leads to phase V).
    to_done: DFF<Bit>,
    /// Lanes that write in this tree round: F / 2^(r+1).
    tree_lanes: DFF<Bits<8>>,
    /// `x` beats the current step needs.
    x_need: DFF<Bits<COUNT_BITS>>,
    // ---- The beat register.
    s1_valid: DFF<Bit>,
    s1_first: DFF<Bit>,
    s1_tree: DFF<Bit>,
    s1_last: DFF<Bit>,
    s1_last_step: DFF<Bit>,
    s1_up: DFF<Bit>,
    s1_slot: DFF<Bits<SLOT_BITS>>,
    s1_raddr: DFF<Bits<COUNT_BITS>>,
    s1_tree_lanes: DFF<Bits<8>>,
    s1_f: Vec<DFF<Bits<16>>>,
}

impl LowRankSequencer {
    /// The sequencer for `cfg`'s maxima and `fp_lanes` (the unit checks them).
    pub fn new(cfg: &HgfConfig) -> Self {
        let lanes = cfg.fp_lanes;
        let max = cfg.max_layout();
        let steps = max.u_steps();
        let rounds = lanes.trailing_zeros() as u64;
        const { assert!(V_INTERLEAVE == 8 && V_INTERLEAVE >= Fp16MacLane::LOOP_LATENCY) };
        let c = |v: usize| Constant::new((v as u64).into());
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            d_in: Default::default(),
            d_out: Default::default(),
            rank: Default::default(),
            f_valid: Default::default(),
            f_data: (0..lanes).map(|_| Default::default()).collect(),
            x_count: Default::default(),
            f_ready: Default::default(),
            advance: Default::default(),
            start_taken: Default::default(),
            busy: Default::default(),
            token_d_in: Default::default(),
            read_address: Default::default(),
            beat_issue: (0..lanes).map(|_| Default::default()).collect(),
            beat_pad: (0..lanes).map(|_| Default::default()).collect(),
            beat_data: (0..lanes).map(|_| Default::default()).collect(),
            beat_first: Default::default(),
            beat_tree: Default::default(),
            beat_last: Default::default(),
            beat_up: Default::default(),
            beat_slot: Default::default(),
            v_phase: Default::default(),
            done: Default::default(),
            c_rounds_m1: Constant::new(rounds.saturating_sub(1).into()),
            x_count_mask: counter_mask(max.d_in),
            outer_mask: counter_mask((steps - 1).max(rounds as usize).max(max.v_blocks() - 1)),
            pass_mask: counter_mask(pass_cycles(max.rank)),
            c_lanes: c(lanes),
            c_lanes_m1: Constant::new(((lanes - 1) as u64).into()),
            c_lane_bits: Constant::new(rounds.into()),
            c_block_bits: Constant::new((rounds + V_INTERLEAVE.trailing_zeros() as u64).into()),
            c_half: Constant::new(((lanes / 2) as u64).into()),
            c_has_tree: Constant::new(lanes > 1),
            c_drain_m1: Constant::new(((DRAIN_CYCLES - 1) as u64).into()),
            c_loop_m1: c(Fp16MacLane::LOOP_LATENCY - 1),
            c_all_lanes: Constant::new(u64::MAX.into()),
            lane_index: (0..lanes)
                .map(|l| Constant::new((l as u64).into()))
                .collect(),
            p_idle: Constant::new(phase::IDLE.into()),
            p_down: Constant::new(phase::DOWN.into()),
            p_tree: Constant::new(phase::TREE.into()),
            p_drain: Constant::new(phase::DRAIN.into()),
            p_up: Constant::new(phase::UP.into()),
            p_done: Constant::new(phase::DONE.into()),
            r_rank: Default::default(),
            r_rank_m1: Default::default(),
            r_pass_m1: Default::default(),
            r_steps_m1: Default::default(),
            r_blocks_m1: Default::default(),
            r_d_in: Default::default(),
            r_pad_lanes: Default::default(),
            d_in_m1: Default::default(),
            rank_m1: Default::default(),
            pass_m1: Default::default(),
            x_need0: Default::default(),
            needs_beat: Default::default(),
            in_raddr: Default::default(),
            x_need_next: Default::default(),
            state: Default::default(),
            outer: Default::default(),
            k: Default::default(),
            m: Default::default(),
            drain: Default::default(),
            to_done: Default::default(),
            tree_lanes: Default::default(),
            x_need: Default::default(),
            s1_valid: Default::default(),
            s1_first: Default::default(),
            s1_tree: Default::default(),
            s1_last: Default::default(),
            s1_last_step: Default::default(),
            s1_up: Default::default(),
            s1_slot: Default::default(),
            s1_raddr: Default::default(),
            s1_tree_lanes: Default::default(),
            s1_f: (0..lanes).map(|_| Default::default()).collect(),
        }
    }
}

impl Logic for LowRankSequencer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            outer,
            k,
            m,
            drain,
            to_done,
            tree_lanes,
            x_need,
            s1_valid,
            s1_first,
            s1_tree,
            s1_last,
            s1_last_step,
            s1_up,
            s1_slot,
            s1_raddr,
            s1_tree_lanes,
            r_rank,
            r_rank_m1,
            r_pass_m1,
            r_steps_m1,
            r_blocks_m1,
            r_d_in,
            r_pad_lanes
        );
        for l in 0..self.s1_f.len() {
            self.s1_f[l].clock.next = self.clock.val();
            self.s1_f[l].d.next = self.s1_f[l].q.val();
        }

        // ---- Token control.
        self.busy.next = !((self.state.q.val() == self.p_idle.val())
            | (self.state.q.val() == self.p_done.val()));
        self.start_taken.next = self.start.val() & !self.busy.val();
        self.token_d_in.next = self.r_d_in.q.val();

        // ---- Flow control. A factor beat is offered in phase U (except in the idle cycles
        // that pad a pass) and in phase V; everything else advances freely.
        self.needs_beat.next = false;
        self.f_ready.next = false;
        if self.state.q.val() == self.p_down.val() {
            self.needs_beat.next = self.k.q.val() < self.r_rank.q.val();
            self.f_ready.next = (self.k.q.val() < self.r_rank.q.val())
                & (self.x_count.val() >= self.x_need.q.val());
        }
        if self.state.q.val() == self.p_up.val() {
            self.needs_beat.next = true;
            self.f_ready.next = true;
        }
        if self.reset.val() {
            self.f_ready.next = false;
        }
        self.advance.next = !self.needs_beat.val() | (self.f_valid.val() & self.f_ready.val());

        // The x banks and the u buffer read every edge: the offered beat's address when the
        // flow advances (its data is then ready with the beat register), else the address of
        // the beat in the beat register, whose data thus holds.
        self.in_raddr.next = self.outer.q.val();
        if self.state.q.val() == self.p_up.val() {
            self.in_raddr.next = self.k.q.val();
        }
        self.read_address.next = self.s1_raddr.q.val();
        if self.advance.val() {
            self.read_address.next = self.in_raddr.val();
        }

        // ---- The phases.
        self.x_need_next.next = self.x_need.q.val() + self.c_lanes.val();
        if self.x_need_next.val() > self.r_d_in.q.val() {
            self.x_need_next.next = self.r_d_in.q.val();
        }
        if self.advance.val() {
            self.s1_valid.d.next = false;
            self.s1_first.d.next = false;
            self.s1_tree.d.next = false;
            self.s1_last.d.next = false;
            self.s1_last_step.d.next = false;
            self.s1_up.d.next = false;
            self.s1_slot.d.next = self.k.q.val();
            self.s1_raddr.d.next = self.in_raddr.val();
            self.s1_tree_lanes.d.next = self.tree_lanes.q.val();
            for l in 0..self.s1_f.len() {
                self.s1_f[l].d.next = self.f_data[l].val();
            }
            if self.state.q.val() == self.p_down.val() {
                self.s1_valid.d.next = self.k.q.val() < self.r_rank.q.val();
                self.s1_first.d.next = self.outer.q.val() == 0;
                self.s1_last_step.d.next = self.outer.q.val() == self.r_steps_m1.q.val();
                self.s1_last.d.next =
                    (self.outer.q.val() == self.r_steps_m1.q.val()) & !self.c_has_tree.val();
                self.k.d.next = self.k.q.val() + 1;
                if self.k.q.val() == self.r_pass_m1.q.val() {
                    self.k.d.next = 0.into();
                    self.outer.d.next = (self.outer.q.val() + 1) & self.outer_mask.val();
                    self.x_need.d.next = self.x_need_next.val();
                    if self.outer.q.val() == self.r_steps_m1.q.val() {
                        self.outer.d.next = 0.into();
                        self.to_done.d.next = false;
                        self.state.d.next = self.p_drain.val();
                        if self.c_has_tree.val() {
                            self.state.d.next = self.p_tree.val();
                        }
                    }
                }
            }
            if self.state.q.val() == self.p_tree.val() {
                self.s1_valid.d.next = self.k.q.val() < self.r_rank.q.val();
                self.s1_tree.d.next = true;
                self.s1_last.d.next = self.outer.q.val() == self.c_rounds_m1.val();
                self.k.d.next = self.k.q.val() + 1;
                if self.k.q.val() == self.r_pass_m1.q.val() {
                    self.k.d.next = 0.into();
                    self.outer.d.next = (self.outer.q.val() + 1) & self.outer_mask.val();
                    self.tree_lanes.d.next = self.tree_lanes.q.val() >> 1;
                    if self.outer.q.val() == self.c_rounds_m1.val() {
                        self.outer.d.next = 0.into();
                        self.to_done.d.next = false;
                        self.state.d.next = self.p_drain.val();
                    }
                }
            }
            if self.state.q.val() == self.p_drain.val() {
                self.drain.d.next = self.drain.q.val() + 1;
                if self.drain.q.val() == self.c_drain_m1.val() {
                    self.drain.d.next = 0.into();
                    self.state.d.next = self.p_up.val();
                    if self.to_done.q.val() {
                        self.state.d.next = self.p_done.val();
                    }
                }
            }
            if self.state.q.val() == self.p_up.val() {
                self.s1_valid.d.next = true;
                self.s1_first.d.next = self.k.q.val() == 0;
                self.s1_last.d.next = self.k.q.val() == self.r_rank_m1.q.val();
                self.s1_up.d.next = true;
                self.s1_slot.d.next = bit_cast::<SLOT_BITS, 3>(self.m.q.val());
                self.m.d.next = self.m.q.val() + 1;
                if self.m.q.val() == 7 {
                    self.k.d.next = self.k.q.val() + 1;
                    if self.k.q.val() == self.r_rank_m1.q.val() {
                        self.k.d.next = 0.into();
                        self.outer.d.next = (self.outer.q.val() + 1) & self.outer_mask.val();
                        if self.outer.q.val() == self.r_blocks_m1.q.val() {
                            self.outer.d.next = 0.into();
                            self.to_done.d.next = true;
                            self.state.d.next = self.p_drain.val();
                        }
                    }
                }
            }
        }

        // ---- The beat register's outputs; lanes past d_in in the last step are padding.
        for l in 0..self.s1_f.len() {
            self.beat_issue[l].next = self.s1_valid.q.val()
                & (!self.s1_tree.q.val() | (self.lane_index[l].val() < self.s1_tree_lanes.q.val()));
            self.beat_pad[l].next = self.s1_last_step.q.val() & self.r_pad_lanes.q.val().get_bit(l);
            self.beat_data[l].next = self.s1_f[l].q.val();
        }
        self.beat_first.next = self.s1_first.q.val();
        self.beat_tree.next = self.s1_tree.q.val();
        self.beat_last.next = self.s1_last.q.val();
        self.beat_up.next = self.s1_up.q.val();
        self.beat_slot.next = self.s1_slot.q.val();
        self.v_phase.next = (self.state.q.val() == self.p_up.val())
            | ((self.state.q.val() == self.p_drain.val()) & self.to_done.q.val());
        self.done.next = self.state.q.val() == self.p_done.val();

        // ---- The token's shape, taken with `start`.
        self.d_in_m1.next = self.d_in.val() - 1;
        self.rank_m1.next = self.rank.val() - 1;
        self.pass_m1.next = self.rank_m1.val();
        if self.rank.val() < self.c_loop_m1.val() + 1 {
            self.pass_m1.next = self.c_loop_m1.val();
        }
        self.x_need0.next = self.c_lanes.val();
        if self.d_in.val() < self.c_lanes.val() {
            self.x_need0.next = self.d_in.val();
        }

        // ---- A new token, and reset (which wins).
        if self.start_taken.val() {
            // Each kept to the bits its largest value needs (the shape is within the maxima).
            self.r_rank.d.next = self.rank.val() & self.pass_mask.val();
            self.r_rank_m1.d.next = self.rank_m1.val() & self.pass_mask.val();
            self.r_pass_m1.d.next = self.pass_m1.val() & self.pass_mask.val();
            self.r_steps_m1.d.next =
                (self.d_in_m1.val() >> self.c_lane_bits.val()) & self.outer_mask.val();
            self.r_blocks_m1.d.next =
                ((self.d_out.val() - 1) >> self.c_block_bits.val()) & self.outer_mask.val();
            self.r_d_in.d.next = self.d_in.val() & self.x_count_mask.val();
            self.r_pad_lanes.d.next = (self.c_all_lanes.val()
                << (self.d_in_m1.val().get_bits::<8>(0) & self.c_lanes_m1.val()))
                << 1;
            self.state.d.next = self.p_down.val();
            self.outer.d.next = 0.into();
            self.k.d.next = 0.into();
            self.m.d.next = 0.into();
            self.drain.d.next = 0.into();
            self.x_need.d.next = self.x_need0.val();
            self.tree_lanes.d.next = self.c_half.val();
            if self.rank.val() == 0 {
                // Ternary-only: no low-rank flow.
                self.state.d.next = self.p_done.val();
            }
        }
        if self.reset.val() {
            self.state.d.next = self.p_idle.val();
            self.outer.d.next = 0.into();
            self.k.d.next = 0.into();
            self.m.d.next = 0.into();
            self.drain.d.next = 0.into();
            self.to_done.d.next = false;
            self.s1_valid.d.next = false;
            self.s1_last_step.d.next = false;
            self.s1_up.d.next = false;
            self.s1_tree.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{settle, tick};
    use crate::verilog::{check_all_tools, emit_named};

    fn new_uut(cfg: &HgfConfig) -> LowRankSequencer {
        let mut uut = LowRankSequencer::new(cfg);
        uut.connect_all();
        uut
    }

    #[test]
    fn synthesizes() {
        let cfg = HgfConfig::preset("up5k").unwrap();
        let v = emit_named(&new_uut(&cfg), "lowrank_sequencer").unwrap();
        check_all_tools("lowrank_sequencer", &v).unwrap();
    }

    /// One token with every beat offered and every `x` value present: the phases follow
    /// each other as the unit's doc says, taking [`crate::lowrank_unit::cycles_per_token`]
    /// cycles to done, with one factor beat taken per beat cycle of phases U and V.
    #[test]
    fn one_token_walks_the_phases_in_the_modelled_cycles() {
        let cfg = HgfConfig {
            max_d_in: 10,
            max_d_out: 20,
            max_rank: 3,
            fp_lanes: 2,
            ..HgfConfig::default()
        };
        let layout = cfg.max_layout();
        let mut uut = new_uut(&cfg);
        uut.d_in.next = 10.into();
        uut.d_out.next = 20.into();
        uut.rank.next = 3.into();
        uut.x_count.next = 10.into();
        uut.f_valid.next = true;
        uut.start.next = true;
        tick(&mut uut, |u| &mut u.clock);
        uut.start.next = false;
        let mut phases = vec![uut.state.q.val().to_u64()];
        let (mut cycles, mut beats) = (0, 0);
        while !uut.done.val() {
            settle(&mut uut);
            assert!(uut.advance.val(), "stalled with every input present");
            beats += usize::from(uut.f_ready.val());
            tick(&mut uut, |u| &mut u.clock);
            cycles += 1;
            let p = uut.state.q.val().to_u64();
            if phases.last() != Some(&p) {
                phases.push(p);
            }
            assert!(cycles < 10_000, "no done");
        }
        use phase::*;
        assert_eq!(phases, [DOWN, TREE, DRAIN, UP, DRAIN, DONE]);
        assert_eq!(cycles, crate::lowrank_unit::cycles_per_token(&layout));
        // ceil(10/2) steps of 3 beats, then ceil(20/16) blocks of 3 · 8 beats.
        assert_eq!(beats, 5 * 3 + 2 * 3 * 8);
    }
}
