//! The HGF projection core: the two flows side by side, the gate, and the five streams.

use hgf_golden::HgfConfig;
use rust_hdl::prelude::*;

use crate::accumulator_bank::AccumulatorBank;
use crate::counter_mask::counter_mask;
use crate::descriptor_control::DescriptorControl;
pub use crate::descriptor_control::MAX_RUN_TOKENS;
use crate::gate_unit::GateUnit;
use crate::lowrank_unit::LowRankUnit;
use crate::output_queue::OutputQueue;
use crate::output_stream::OutputStream;
use crate::quantizer::QuantizerUnit;
use crate::stream_slice::StreamSlice;
use crate::ternary_array::TernaryArray;
use crate::weight_sequencer::{WeightSequencer, TAG_BITS};
use crate::weight_unpacker::WeightUnpacker;

/// Cycles by which the units' reset follows the top-level `reset` (the core registers it, so
/// that no unit depends combinationally on a top-level input): the first token after a reset
/// starts this much later.
pub const RESET_DELAY: usize = 1;

/// Edges after the last beat reaches the [`AccumulatorBank`] before every row is written and
/// can be read (the bank writes a beat at the next edge; one more for margin).
pub const ACC_SETTLE: usize = 2;

/// One HGF projection engine, `y = BitLinear(x) + g · B(A x)` per token (`HgfCore`).
///
/// **Function.** Computes docs/arithmetic.md for one token at a time, for projections of any
/// shape within the config's maxima (`max_d_in`, `max_d_out`, `max_rank`), back to back
/// (docs/interfaces.md): a descriptor on `s` (the shape, the number of tokens that follow,
/// beta and g) starts each run of tokens; per token the token on `x`, the ternary weights on
/// `t` (§P3), the low-rank factors on `f` (none at rank 0), the outputs on `y`. A descriptor
/// beyond the maxima (or of zero size or tokens) raises `error` until reset. Inside
/// (docs/architecture.md): the ternary flow ([`QuantizerUnit`], [`WeightUnpacker`],
/// [`TernaryArray`], [`AccumulatorBank`]) and the low-rank flow ([`LowRankUnit`]) run side by
/// side; every input stream enters through a one-beat [`StreamSlice`] (its `ready` is the
/// slice's, so a stream's first beat may be taken before the units want it); the [`GateUnit`] combines `acc_j`, `k`, `g` and `v_j` as soon as both flows have
/// finished row `j`, and an [`OutputQueue`] decouples it from the `y` stream, whose handshake and
/// count of a token's beats are an [`OutputStream`]. Two controllers
/// run the core: [`DescriptorControl`] (each run's descriptor, its checks, the error state
/// and the start of each token) and [`WeightSequencer`] (where each weight beat belongs, and
/// the tag that follows it through the array); the core's own logic is the streams'
/// handshakes, the token's counters and the gate's issue.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous: the token in progress is abandoned, every unit and buffer returns to idle ([`RESET_DELAY`] edge later for the units, which take it through a register); no beat transfers on an edge with `reset` high, and no output leaves on the edge after it |
/// | `s_valid`, `s_ready`, `s_data` | in, out, in | 1, 1, 32 | the descriptor of each run: `d_in`, `d_out`, `rank`, `tokens`, beta, g |
/// | `x_valid`, `x_ready`, `x_data` | in, out, in | 1, 1, 16 | the token, `d_in` binary16 beats, taken after the descriptor |
/// | `t_valid`, `t_ready`, `t_data$i` | in, out, in | 1, 1, 8 each | weight beats of `array_rows · block_bytes` bytes (§P3) |
/// | `f_valid`, `f_ready`, `f_data$l` | in, out, in | 1, 1, 16 each | factor beats of `fp_lanes` binary16 values |
/// | `y_valid`, `y_ready`, `y_data` | out, in, out | 1, 1, 16 | the outputs, `d_out` binary16 beats |
/// | `status` | out | 4 | progress: bit 0 quantizer idle, bit 1 low-rank flow done, bit 2 accumulators final, bit 3 a gate read returning |
/// | `block` | out | 20 | the column block the ternary flow works on |
/// | `error` | out | 1 | the last descriptor was refused; nothing more is taken or output until `reset` |
///
/// **Latency and throughput.** Per token, the larger of the two flows plus the serial parts
/// (the token's arrival before quantization, the gate's `d_out` issues after the
/// accumulators are final, the pipeline tails): [`crate::schedule::expected_cycles`] gives
/// the exact cycles without stalls (in the manifest as `expected_cycles_per_token`; the
/// co-simulation measures the same). One token at a time: the next token's beats are taken
/// once the current token's last output has left. **Resources** the units' (see their docs).
/// **Golden** `hgf_golden::HgfProjection::run_token`. **Limits** those of the config.
#[derive(LogicBlock)]
pub struct HgfCore {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Scalars.
    pub s_valid: Signal<In, Bit>,
    pub s_ready: Signal<Out, Bit>,
    pub s_data: Signal<In, Bits<32>>,
    // Activations.
    pub x_valid: Signal<In, Bit>,
    pub x_ready: Signal<Out, Bit>,
    pub x_data: Signal<In, Bits<16>>,
    // Ternary weights.
    pub t_valid: Signal<In, Bit>,
    pub t_ready: Signal<Out, Bit>,
    pub t_data: Vec<Signal<In, Bits<8>>>,
    // Low-rank factors.
    pub f_valid: Signal<In, Bit>,
    pub f_ready: Signal<Out, Bit>,
    pub f_data: Vec<Signal<In, Bits<16>>>,
    // Outputs.
    pub y_valid: Signal<Out, Bit>,
    pub y_ready: Signal<In, Bit>,
    pub y_data: Signal<Out, Bits<16>>,
    // Progress, for debugging and the co-simulation's stage reports.
    pub status: Signal<Out, Bits<4>>,
    pub block: Signal<Out, Bits<20>>,
    /// A descriptor was refused (a zero size, a size beyond the maxima, or no tokens); held
    /// until `reset`.
    pub error: Signal<Out, Bit>,
    // Input register slices, one per input stream (`StreamSlice`).
    s_in: StreamSlice<32>,
    x_in: StreamSlice<16>,
    t_in: StreamSlice<8>,
    f_in: StreamSlice<16>,
    // Units.
    quantizer: QuantizerUnit,
    unpacker: WeightUnpacker,
    array: TernaryArray,
    accs: AccumulatorBank,
    lowrank: LowRankUnit,
    gate: GateUnit,
    queue: OutputQueue,
    y_out: OutputStream,
    // Controllers.
    descriptor: DescriptorControl,
    weights: WeightSequencer,
    queue_depth: Constant<Bits<6>>,
    /// High when the gate takes an output every other cycle (one gate multiplier).
    gate_gap: Constant<Bit>,
    /// High when the quantizer's `x * s` runs on the gate's multiplier.
    share_mul: Constant<Bit>,
    /// High when the gate borrows low-rank lane 0's adder and binary16 rounding.
    share_add: Constant<Bit>,
    settle_cycles: Constant<Bits<4>>,
    // Widths of the counts (`counter_mask`): each count is kept to the bits its largest
    // value needs.
    x_mask: Constant<Bits<20>>,
    /// Width of the row counts (up to `max_d_out`).
    row_mask: Constant<Bits<20>>,
    flush_cycles: Constant<Bits<6>>,
    // Typed constants of the narrow counts and fields, so that no 32-bit literal meets them
    // (docs/lint-waivers.md): 0 and 1 of the 20-bit counts, of `acc_settle` (4 bits), of
    // `in_flight` and `flush` (6 bits) and of a tag, and the bits of `status`.
    zero20: Constant<Bits<20>>,
    one20: Constant<Bits<20>>,
    settle_zero: Constant<Bits<4>>,
    settle_one: Constant<Bits<4>>,
    zero6: Constant<Bits<6>>,
    one6: Constant<Bits<6>>,
    tag_zero: Constant<Bits<TAG_BITS>>,
    status_zero: Constant<Bits<4>>,
    status_bit: [Constant<Bits<4>>; 4],
    /// Bit `k` of `status` as a word (a cast of the bit would widen it).
    status_part: [Signal<Local, Bits<4>>; 4],
    /// `reset` of the last edge: every unit's reset (the slices take `reset` itself).
    reset_q: DFF<Bit>,
    // Token state.
    x_count: DFF<Bits<20>>,
    /// The last weight beat's sums have reached the accumulator bank.
    landed: DFF<Bit>,
    acc_settle: DFF<Bits<4>>,
    acc_final: DFF<Bit>,
    gate_row: DFF<Bits<20>>,
    in_flight: DFF<Bits<6>>,
    // After a reset: cycles during which the gate pipeline still drains abandoned work.
    flush: DFF<Bits<6>>,
    // Array pipeline tags: bit 0 valid, bit 1 first block, bits 21:2 row group, bit 22 the
    // token's last beat.
    tags: Vec<DFF<Bits<TAG_BITS>>>,
    // Read-latency alignment of the gate's operands; `acc` leads the others by
    // `GateUnit::ACC_LEAD` cycles (the gate's conversion starts early), so the accumulators'
    // two-cycle read needs no delay register at all.
    acc_delay: Vec<DFF<Bits<32>>>,
    v_delay: Vec<DFF<Bits<32>>>,
    issue_delay: Vec<DFF<Bit>>,
    // Combinational.
    /// The units take the slice's beat when it offers one.
    x_take: Signal<Local, Bit>,
    t_take: Signal<Local, Bit>,
    x_fire: Signal<Local, Bit>,
    t_fire: Signal<Local, Bit>,
    tag_out: Signal<Local, Bits<TAG_BITS>>,
    /// The projection's shape.
    d_in: Signal<Local, Bits<20>>,
    d_out: Signal<Local, Bits<20>>,
    rank: Signal<Local, Bits<20>>,
    issue: Signal<Local, Bit>,
    retire: Signal<Local, Bit>,
    // Indices of the last element of each delay chain (rust-hdl evaluates an index only from
    // loop variables, so a one-pass loop names them).
    _last_tag: usize,
    _end_tag: usize,
    _last_issue: usize,
    _end_issue: usize,
    _last_acc: usize,
    _end_acc: usize,
    _end_first_acc: usize,
    _last_v: usize,
    _end_v: usize,
}

impl HgfCore {
    pub fn new(cfg: &HgfConfig) -> Self {
        let array = TernaryArray::new(cfg);
        assert!(array.latency() >= 1, "the array has at least one register");
        let read_latency = Self::read_latency();
        let acc_delay = read_latency + 1 - AccumulatorBank::READ_LATENCY - GateUnit::ACC_LEAD;
        let v_delay = read_latency - LowRankUnit::V_READ_LATENCY + 1;
        let max = cfg.max_layout();
        let tags_len = array.latency();
        Self {
            clock: Default::default(),
            reset: Default::default(),
            s_valid: Default::default(),
            s_ready: Default::default(),
            s_data: Default::default(),
            x_valid: Default::default(),
            x_ready: Default::default(),
            x_data: Default::default(),
            t_valid: Default::default(),
            t_ready: Default::default(),
            t_data: (0..cfg.weight_beat_bytes())
                .map(|_| Default::default())
                .collect(),
            f_valid: Default::default(),
            f_ready: Default::default(),
            f_data: (0..cfg.fp_lanes).map(|_| Default::default()).collect(),
            y_valid: Default::default(),
            y_ready: Default::default(),
            y_data: Default::default(),
            status: Default::default(),
            block: Default::default(),
            error: Default::default(),
            s_in: StreamSlice::new(1),
            x_in: StreamSlice::new(1),
            t_in: StreamSlice::new(cfg.weight_beat_bytes()),
            f_in: StreamSlice::new(cfg.fp_lanes),
            quantizer: QuantizerUnit::new(cfg),
            unpacker: WeightUnpacker::new(cfg),
            tags: (0..tags_len).map(|_| Default::default()).collect(),
            array,
            accs: AccumulatorBank::new(cfg),
            lowrank: LowRankUnit::new(cfg),
            gate: GateUnit::new(cfg.gate_multipliers, cfg.gate_shares_adder),
            queue: OutputQueue::new(),
            y_out: OutputStream::new(max.d_out),
            descriptor: DescriptorControl::new(cfg),
            weights: WeightSequencer::new(cfg),
            queue_depth: Constant::new((OutputQueue::DEPTH as u64).into()),
            gate_gap: Constant::new(cfg.gate_issue_interval() == 2),
            share_mul: Constant::new(cfg.shares_quantizer_multiplier()),
            share_add: Constant::new(cfg.gate_shares_adder),
            settle_cycles: Constant::new((ACC_SETTLE as u64).into()),
            x_mask: counter_mask(max.d_in),
            row_mask: counter_mask(max.d_out),
            flush_cycles: Constant::new((Self::flush_cycles() as u64).into()),
            zero20: Constant::new(0u64.into()),
            one20: Constant::new(1u64.into()),
            settle_zero: Constant::new(0u64.into()),
            settle_one: Constant::new(1u64.into()),
            zero6: Constant::new(0u64.into()),
            one6: Constant::new(1u64.into()),
            tag_zero: Constant::new(0u64.into()),
            status_zero: Constant::new(0u64.into()),
            status_bit: std::array::from_fn(|k| Constant::new((1u64 << k).into())),
            status_part: Default::default(),
            flush: Default::default(),
            reset_q: Default::default(),
            x_count: Default::default(),
            landed: Default::default(),
            acc_settle: Default::default(),
            acc_final: Default::default(),
            gate_row: Default::default(),
            in_flight: Default::default(),
            acc_delay: (0..acc_delay).map(|_| Default::default()).collect(),
            v_delay: (0..v_delay).map(|_| Default::default()).collect(),
            issue_delay: (0..read_latency + 1).map(|_| Default::default()).collect(),
            x_take: Default::default(),
            t_take: Default::default(),
            x_fire: Default::default(),
            t_fire: Default::default(),
            tag_out: Default::default(),
            d_in: Default::default(),
            d_out: Default::default(),
            rank: Default::default(),
            issue: Default::default(),
            retire: Default::default(),
            _last_tag: tags_len - 1,
            _end_tag: tags_len,
            _last_issue: read_latency,
            _end_issue: read_latency + 1,
            _last_acc: acc_delay.saturating_sub(1),
            _end_acc: acc_delay,
            _end_first_acc: acc_delay.min(1),
            _last_v: v_delay - 1,
            _end_v: v_delay,
        }
    }

    /// Data bits of one beat of each input stream, together: `s` 32, `x` 16, `t` 8 per
    /// weight byte, `f` 16 per lane (the widths of the ports above).
    pub fn input_data_bits(cfg: &HgfConfig) -> usize {
        32 + 16 + 8 * cfg.weight_beat_bytes() + 16 * cfg.fp_lanes
    }

    /// Flip-flops of the input register slices and the registered reset (`StreamSlice`): what
    /// the core adds to its units so that no unit sees a top-level input. Each of the four
    /// slices holds one beat's data and a `held` bit.
    pub fn input_register_bits(cfg: &HgfConfig) -> usize {
        Self::input_data_bits(cfg) + 4 + 1
    }

    /// Cycles of the gate's operand reads: the slower of the two read ports.
    pub fn read_latency() -> usize {
        AccumulatorBank::READ_LATENCY.max(LowRankUnit::V_READ_LATENCY)
    }

    /// Cycles after a reset during which the gate issues nothing, so that the results still
    /// in flight (operand reads, the issue register, the gate pipeline) drain unseen.
    pub fn flush_cycles() -> usize {
        Self::read_latency() + 1 + GateUnit::LATENCY
    }
}

impl Logic for HgfCore {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, x_count, landed, acc_settle, acc_final, gate_row, in_flight, flush,
            reset_q
        );
        clock!(
            self, clock, s_in, x_in, t_in, f_in, quantizer, array, accs, lowrank, gate, queue,
            y_out, descriptor, weights
        );
        for i in 0..self.tags.len() {
            self.tags[i].clock.next = self.clock.val();
            self.tags[i].d.next = self.tags[i].q.val();
        }
        for i in 0..self.acc_delay.len() {
            self.acc_delay[i].clock.next = self.clock.val();
        }
        for i in 0..self.v_delay.len() {
            self.v_delay[i].clock.next = self.clock.val();
        }
        for i in 0..self.issue_delay.len() {
            self.issue_delay[i].clock.next = self.clock.val();
        }

        // Every input stream enters through a register slice, and the units take their reset
        // from a register: no unit depends combinationally on a top-level input.
        self.reset_q.d.next = self.reset.val();
        self.s_in.reset.next = self.reset.val();
        self.s_in.in_valid.next = self.s_valid.val();
        self.s_in.in_data[0].next = self.s_data.val();
        self.s_ready.next = self.s_in.in_ready.val();
        self.x_in.reset.next = self.reset.val();
        self.x_in.in_valid.next = self.x_valid.val();
        self.x_in.in_data[0].next = self.x_data.val();
        self.x_ready.next = self.x_in.in_ready.val();
        self.t_in.reset.next = self.reset.val();
        self.t_in.in_valid.next = self.t_valid.val();
        for i in 0..self.t_data.len() {
            self.t_in.in_data[i].next = self.t_data[i].val();
        }
        self.t_ready.next = self.t_in.in_ready.val();
        self.f_in.reset.next = self.reset.val();
        self.f_in.in_valid.next = self.f_valid.val();
        for l in 0..self.f_data.len() {
            self.f_in.in_data[l].next = self.f_data[l].val();
        }
        self.f_ready.next = self.f_in.in_ready.val();

        // The descriptor of the run: its shape, beta and g, and when each token starts
        // (docs/interfaces.md).
        self.descriptor.reset.next = self.reset_q.q.val();
        self.descriptor.word_valid.next = self.s_in.out_valid.val();
        self.descriptor.word.next = self.s_in.out_data[0].val();
        self.s_in.out_ready.next = self.descriptor.word_ready.val();
        self.error.next = self.descriptor.error.val();
        self.d_in.next = self.descriptor.d_in.val();
        self.d_out.next = self.descriptor.d_out.val();
        self.rank.next = self.descriptor.rank.val();

        // The units take the token's beats from the slices while a run is on. Nothing is taken
        // in the cycle that starts a token.
        self.x_take.next = self.descriptor.running.val()
            & (self.x_count.q.val() != self.d_in.val())
            & !self.descriptor.start.val()
            & !self.reset_q.q.val();
        self.t_take.next = self.quantizer.block_valid.val()
            & !self.weights.done.val()
            & self.descriptor.running.val()
            & !self.descriptor.start.val()
            & !self.reset_q.q.val();
        self.x_in.out_ready.next = self.x_take.val();
        self.t_in.out_ready.next = self.t_take.val();
        self.f_in.out_ready.next =
            self.lowrank.f_ready.val() & !self.descriptor.start.val() & !self.reset_q.q.val();
        self.x_fire.next = self.x_in.out_valid.val() & self.x_take.val();
        self.t_fire.next = self.t_in.out_valid.val() & self.t_take.val();

        // The token goes to both flows.
        self.quantizer.reset.next = self.reset_q.q.val();
        self.quantizer.start.next = self.descriptor.start.val();
        self.quantizer.x_valid.next = self.x_fire.val();
        self.quantizer.x_last.next = self.x_count.q.val() == self.d_in.val() - self.one20.val();
        self.quantizer.x_data.next = self.x_in.out_data[0].val();
        self.quantizer.d_in.next = self.d_in.val();
        self.quantizer.beta.next = self.descriptor.beta.val();
        self.lowrank.reset.next = self.reset_q.q.val();
        self.lowrank.start.next = self.descriptor.start.val();
        self.lowrank.x_valid.next = self.x_fire.val();
        self.lowrank.x_data.next = self.x_in.out_data[0].val();
        self.lowrank.d_in.next = self.d_in.val();
        self.lowrank.d_out.next = self.d_out.val();
        self.lowrank.rank.next = self.rank.val();
        self.lowrank.f_valid.next =
            self.f_in.out_valid.val() & !self.descriptor.start.val() & !self.reset_q.q.val();
        for l in 0..self.f_data.len() {
            self.lowrank.f_data[l].next = self.f_in.out_data[l].val();
        }
        if self.x_fire.val() {
            self.x_count.d.next = (self.x_count.q.val() + self.one20.val()) & self.x_mask.val();
        }

        // Ternary flow: one weight beat per cycle through the unpacker and the array; a tag
        // travels beside it and tells the accumulator bank what the sums are.
        // The unpacker's register and the array's register on q are one pipeline stage.
        self.unpacker.clock.next = self.clock.val();
        self.unpacker.enable.next = true;
        for i in 0..self.t_data.len() {
            self.unpacker.bytes[i].next = self.t_in.out_data[i].val();
        }
        for i in 0..self.array.nonzero.len() {
            self.array.nonzero[i].next = self.unpacker.nonzero[i].val();
            self.array.negative[i].next = self.unpacker.negative[i].val();
        }
        for i in 0..self.array.q.len() {
            self.array.q[i].next = self.quantizer.block[i].val();
        }
        self.array.enable.next = true;
        self.weights.start.next = self.descriptor.start.val();
        self.weights.d_in.next = self.d_in.val();
        self.weights.d_out.next = self.d_out.val();
        self.weights.beat.next = self.t_fire.val();
        self.tags[0].d.next = self.weights.tag.val();
        self.quantizer.block_done.next = self.weights.block_done.val();
        for i in 1..self.tags.len() {
            self.tags[i].d.next = self.tags[i - 1].q.val();
        }
        for i in self._last_tag..self._end_tag {
            self.tag_out.next = self.tags[i].q.val();
        }
        self.accs.reset.next = self.reset_q.q.val();
        self.accs.enable.next = true;
        self.accs.valid.next = self.tag_out.val().get_bit(0);
        self.accs.first.next = self.tag_out.val().get_bit(1);
        self.accs.group.next = self.tag_out.val().get_bits::<20>(2);
        for r in 0..self.accs.sums.len() {
            self.accs.sums[r].next = self.array.sums[r].val();
        }
        if self.tag_out.val().get_bit(22) {
            self.landed.d.next = true;
        }
        if self.landed.q.val() & !self.acc_final.q.val() {
            self.acc_settle.d.next = self.acc_settle.q.val() + self.settle_one.val();
            if self.acc_settle.q.val() == self.settle_cycles.val() {
                self.acc_final.d.next = true;
            }
        }

        // Gate: row j once both flows have finished it, within the queue's credit.
        self.issue.next = self.acc_final.q.val()
            & self.quantizer.k_valid.val()
            & (self.gate_row.q.val() != self.d_out.val())
            & (self.gate_row.q.val() < self.lowrank.v_ready_count.val())
            & (!self.share_add.val() | self.lowrank.done.val())
            // A cast to a wider word, the one width mismatch left here (docs/lint-waivers.md).
            & ((bit_cast::<6, 5>(self.queue.count.val()) + self.in_flight.q.val())
                < self.queue_depth.val())
            & (self.flush.q.val() == self.zero6.val())
            & !(self.gate_gap.val() & self.issue_delay[0].q.val())
            & !self.descriptor.start.val();
        self.accs.read_enable.next = self.issue.val();
        self.accs.read_row.next = self.gate_row.q.val();
        self.lowrank.v_read_row.next = self.gate_row.q.val();
        if self.issue.val() {
            self.gate_row.d.next = (self.gate_row.q.val() + self.one20.val()) & self.row_mask.val();
        }
        self.issue_delay[0].d.next = self.issue.val();
        for i in 1..self.issue_delay.len() {
            self.issue_delay[i].d.next = self.issue_delay[i - 1].q.val();
        }
        for i in 0..self._end_first_acc {
            self.acc_delay[i].d.next = self.accs.read_data.val();
        }
        for i in 1..self.acc_delay.len() {
            self.acc_delay[i].d.next = self.acc_delay[i - 1].q.val();
        }
        self.v_delay[0].d.next = self.lowrank.v_read_data.val();
        for i in 1..self.v_delay.len() {
            self.v_delay[i].d.next = self.v_delay[i - 1].q.val();
        }
        self.gate.enable.next = true;
        for i in self._last_issue..self._end_issue {
            self.gate.valid_in.next = self.issue_delay[i].q.val();
        }
        self.gate.acc.next = self.accs.read_data.val();
        for i in self._last_acc..self._end_acc {
            self.gate.acc.next = self.acc_delay[i].q.val();
        }
        for i in self._last_v..self._end_v {
            self.gate.v.next = self.v_delay[i].q.val();
        }
        self.gate.k.next = self.quantizer.k.val();
        // The quantizer's elements are all multiplied before the accumulators are final, and
        // the gate takes no row before: until then the gate's multiplier is the quantizer's.
        self.gate.lend.next = self.share_mul.val() & !self.acc_final.q.val();
        self.gate.lend_a.next = self.quantizer.mul_a.val();
        self.gate.lend_b.next = self.quantizer.mul_b.val();
        self.quantizer.mul_product.next = self.gate.lent_product.val();
        // A ternary-only projection: g = +0 (the descriptor's) and v = -0 give yt + (-0) = yt
        // (§G2).
        self.gate.g.next = self.descriptor.g.val();
        // A borrowed adder: the gate takes rows only once the low-rank flow is done, and the
        // next token's flow starts only after this token's last output has left the gate.
        self.lowrank.lend.next = self.share_add.val() & self.lowrank.done.val();
        self.lowrank.lend_enable.next = true;
        self.lowrank.lend_a.next = self.gate.add_a.val();
        self.lowrank.lend_b.next = self.gate.add_b.val();
        self.gate.sum16.next = self.lowrank.lent_sum16.val();
        self.retire.next = self.gate.valid_out.val() & (self.flush.q.val() == self.zero6.val());
        if self.issue.val() & !self.retire.val() {
            self.in_flight.d.next = self.in_flight.q.val() + self.one6.val();
        }
        if self.retire.val() & !self.issue.val() {
            self.in_flight.d.next = self.in_flight.q.val() - self.one6.val();
        }

        // Outputs.
        self.queue.reset.next = self.reset_q.q.val();
        self.queue.push.next = self.gate.valid_out.val() & (self.flush.q.val() == self.zero6.val());
        if self.flush.q.val() != self.zero6.val() {
            self.flush.d.next = self.flush.q.val() - self.one6.val();
        }
        self.queue.data_in.next = self.gate.y.val();
        // The `y` handshake reads the top-level `y_ready` and `reset`: in a block of its own
        // (`OutputStream`), so that the rest of the core's logic does not depend on them.
        self.y_out.reset.next = self.reset.val();
        self.y_out.units_reset.next = self.reset_q.q.val();
        self.y_out.start.next = self.descriptor.start.val();
        self.y_out.d_out.next = self.d_out.val();
        self.y_out.head_valid.next = self.queue.valid.val();
        self.y_out.y_ready.next = self.y_ready.val();
        self.y_valid.next = self.y_out.y_valid.val();
        self.y_data.next = self.queue.head.val();
        self.queue.pop.next = self.y_out.pop.val();

        // Progress.
        for k in 0..4 {
            self.status_part[k].next = self.status_zero.val();
        }
        if self.quantizer.idle.val() {
            self.status_part[0].next = self.status_bit[0].val();
        }
        if self.lowrank.done.val() {
            self.status_part[1].next = self.status_bit[1].val();
        }
        if self.acc_final.q.val() {
            self.status_part[2].next = self.status_bit[2].val();
        }
        if self.accs.read_valid.val() {
            self.status_part[3].next = self.status_bit[3].val();
        }
        self.status.next = self.status_part[0].val()
            | self.status_part[1].val()
            | self.status_part[2].val()
            | self.status_part[3].val();
        self.block.next = self.quantizer.block_index.val();

        // The last output ends the token; the next cycle starts the run's next token, or
        // waits for the next descriptor.
        self.descriptor.token_end.next = self.y_out.token_end.val();
        if self.descriptor.start.val() {
            self.x_count.d.next = self.zero20.val();
            self.landed.d.next = false;
            self.acc_settle.d.next = self.settle_zero.val();
            self.acc_final.d.next = false;
            self.gate_row.d.next = self.zero20.val();
        }
        if self.reset_q.q.val() {
            self.in_flight.d.next = self.zero6.val();
            self.flush.d.next = self.flush_cycles.val();
            for i in 0..self.tags.len() {
                self.tags[i].d.next = self.tag_zero.val();
            }
            for i in 0..self.issue_delay.len() {
                self.issue_delay[i].d.next = false;
            }
        }
    }
}
