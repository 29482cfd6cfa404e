//! The cycle model of the core: one token's timeline, from the units' own latencies, and the
//! cycles per token that co-simulation measures when no stream stalls.

use hgf_golden::streams::{DESCRIPTOR_BEATS, V_INTERLEAVE};
use hgf_golden::{HgfConfig, Layout, Shape};
use serde::Serialize;

use crate::fp16_mac::Fp16MacLane;
use crate::gate_unit::GateUnit;
use crate::lowrank_sequencer::{pass_cycles, DRAIN_CYCLES};
use crate::projection_core::{HgfCore, ACC_SETTLE, RESET_DELAY};
use crate::quantizer::QuantizerUnit;
use crate::ternary_array::TernaryArray;

/// What the last run of gate issues waited for (the path that sets the token's length; after
/// it the gate issues one row per `gate_issue_interval` cycles up to the last row).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitedBy {
    /// The ternary flow: the accumulators became final (weight stream, quantizer blocks).
    TernaryFlow,
    /// The quantizer's dequantization factor `k` (two divisions after the last `x` beat).
    DequantFactor,
    /// The low-rank flow: a row's `v_j` (factor stream, phases U and V).
    LowRankFlow,
    /// The gate's flush after the reset that precedes the first token.
    ResetFlush,
}

impl LimitedBy {
    /// The path in words, for summaries.
    pub fn text(self) -> &'static str {
        match self {
            LimitedBy::TernaryFlow => "the ternary flow",
            LimitedBy::DequantFactor => "the dequantization factor k",
            LimitedBy::LowRankFlow => "the low-rank flow",
            LimitedBy::ResetFlush => "the flush after reset",
        }
    }
}

/// Cycles from the start of a run of tokens (the first cycle in which the core waits for a
/// descriptor) to the start of its first token: one per descriptor beat, then the cycle in
/// which the core checks the descriptor.
pub const DESCRIPTOR_CYCLES: usize = DESCRIPTOR_BEATS + 1;

/// When things happen within one token, in clock cycles counted from the token's start
/// cycle (cycle 0: the core's `start_pending` is high and every unit takes `start`; for the
/// first token of a run, [`DESCRIPTOR_CYCLES`] after the run's start). "At cycle `c`": a beat
/// is taken on the edge that ends cycle `c`, or a register is high during cycle `c` (its
/// first such cycle).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Milestones {
    /// The last `x` beat (`x_last`) is taken.
    pub x_last: u64,
    /// The quantizer's `k_valid` is high.
    pub k_valid: u64,
    /// Column block 0 is the quantizer's current block (its first weight beat is taken).
    pub first_block: u64,
    /// The last weight beat is taken.
    pub last_weight_beat: u64,
    /// The accumulators are final (`acc_final`).
    pub acc_final: u64,
    /// The low-rank flow's first phase-V beat is taken.
    pub lowrank_phase_v: u64,
    /// The last factor beat is taken.
    pub last_factor_beat: u64,
    /// Every `v_j` is ready (`v_ready_count = d_out`).
    pub v_ready: u64,
    /// The low-rank flow is done (it would take the next token's `start`).
    pub lowrank_done: u64,
    /// The gate issues row 0.
    pub first_issue: u64,
    /// The gate issues the last row.
    pub last_issue: u64,
    /// The last `y` beat is taken; the next token starts in the cycle after it.
    pub last_output: u64,
}

/// The expected cycles of one projection shape on one engine when no stream ever stalls (the
/// host offers every beat at once and always takes `y`): what `hgf cosim` measures, and what
/// the manifest and the estimator state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpectedCycles {
    /// The first token of a run right after reset: from the end of the reset to its last
    /// output, both included (`first_token_cycles` of `hgf cosim`).
    pub after_reset: u64,
    /// The first token of a run that follows another run: from the previous run's last
    /// output to this token's (its descriptor included). A token of generation, which runs
    /// every projection once, costs this on each projection.
    pub first_token: u64,
    /// A later token of the same run: from one token's last output to the next one's
    /// (`steady_cycles_per_token`).
    pub steady: u64,
    /// What the gate's last run of issues waited for.
    pub limited_by: LimitedBy,
    /// One steady token's timeline.
    pub milestones: Milestones,
}

/// The expected cycles of `shape` on the engine `cfg` ([`ExpectedCycles`]): the model below,
/// evaluated for the first token of a run (after its descriptor, and after a reset) and for
/// every later token of the run.
///
/// # The model
///
/// A token's timeline follows from the units' documented latencies (each constant is the
/// unit's own, not restated here), with every stream offering its beats at once:
///
/// 0. *Descriptor.* A run starts with its [`DESCRIPTOR_BEATS`] descriptor beats, one per
///    cycle, then one cycle in which the core checks the shape; its first token starts in
///    the next cycle ([`DESCRIPTOR_CYCLES`] after the run's start). Later tokens of the run
///    start in the cycle after the previous token's last output.
/// 1. *Streams in.* Nothing is taken in the start cycle; `x` beat `i` comes in cycle `1 + i`,
///    so `x_last` is cycle `d_in`.
/// 2. *Quantizer.* `k_valid` from `x_last + K_CYCLES + 1`; block 0 from `x_last +
///    first_block_cycles + 1`; block `b + 1` follows block `b` after `max(G, block_fill_cycles)`
///    cycles (`G = d_out / array_rows` weight beats per block, one per cycle, the last of
///    which releases the block; [`QuantizerUnit`]).
///    (`G = ceil(d_out / array_rows)`.)
/// 3. *Accumulators.* The last beat's tag leaves the array's pipeline
///    ([`TernaryArray::latency_for_inputs`]) and is counted one cycle later; `acc_final`
///    follows [`ACC_SETTLE`] + 1 cycles after that count.
/// 4. *Low-rank flow* ([`crate::lowrank_unit::LowRankUnit`]). Phase-U step `t` begins once
///    `min((t + 1) F, d_in)` `x` beats have arrived and the previous step's
///    [`pass_cycles`] are over; then `log2 F` tree rounds of `pass_cycles` and a
///    [`DRAIN_CYCLES`] drain; phase V takes one factor beat per cycle, `V_INTERLEAVE` groups
///    of F rows per block, `rank` beats each. Group `g`'s last beat (`k = rank - 1`) is
///    written [`Fp16MacLane::LATENCY`] + 1 cycles after it leaves the sequencer's beat
///    register, and `v_ready_count` covers its rows in the cycle after. A ternary-only
///    projection (`rank = 0`) has no low-rank flow: every row's (`-0`) correction is ready
///    in cycle 1.
/// 5. *Gate.* Row `j` is ready at `max(acc_final, k_valid, v ready for j)`, where `v` is
///    ready for every row only at `lowrank_done` when the gate borrows lane 0's adder
///    (`HgfConfig::gate_shares_adder`); the gate issues
///    `issue_j = max(issue_{j-1} + gate_issue_interval, ready_j)` (the output queue's credit
///    never binds when `y` is always taken: at most [`HgfCore::flush_cycles`] + 1 words are
///    in flight or queued, fewer than its depth); output `j` is taken
///    [`HgfCore::read_latency`] + [`GateUnit::LATENCY`] + 2 cycles after its issue (the
///    operand reads, the issue register, the gate, the queue's register).
/// 6. *Next token.* The last output ends the token and the next one starts in the following
///    cycle. Nothing of the next token overlaps this one: no unit takes a beat in a start
///    cycle or before it, and the low-rank flow is done (so it takes the next `start`)
///    [`DRAIN_CYCLES`] cycles after its last beat, as soon as its last `v_j` is ready, which
///    is at least one gate pipeline before the token ends.
///    The input slices ([`crate::stream_slice::StreamSlice`]) add no cycle: each takes its
///    stream's next beat while the units are busy with the previous one, so a beat is
///    waiting in it whenever a unit wants one, as it was on the port before.
///    So every token takes the same cycles; the first starts [`RESET_DELAY`] cycles after
///    the reset falls and otherwise differs only by the gate's [`HgfCore::flush_cycles`]
///    after reset, which ends long before any row is ready.
///
/// Exact by construction: every step above is the register-transfer behaviour of the units
/// (handshake conditions, counters, pipeline lengths), not a fit; the co-simulation tests
/// (sim/tests/schedule.rs) check the equality, cycle for cycle, for every config they use.
/// Nothing is calibrated. The model does not hold when a stream stalls (each stall cycle of
/// a stream on the critical path adds one or more cycles).
pub fn expected_cycles(cfg: &HgfConfig, shape: Shape) -> ExpectedCycles {
    let first = token_timeline(cfg, shape, true);
    let steady = token_timeline(cfg, shape, false);
    let descriptor = DESCRIPTOR_CYCLES as u64;
    ExpectedCycles {
        after_reset: first.milestones.last_output + 1 + descriptor + RESET_DELAY as u64,
        first_token: steady.milestones.last_output + 1 + descriptor,
        steady: steady.milestones.last_output + 1,
        limited_by: steady.limited_by,
        milestones: steady.milestones,
    }
}

/// The cycle model in words, for the manifest, with the units' own latency constants
/// ([`expected_cycles`] evaluates it exactly).
pub fn cycle_model_text() -> String {
    let element = QuantizerUnit::ELEMENT_LATENCY + 1;
    format!(
        "A run of tokens of one shape: {DESCRIPTOR_CYCLES} cycles ({DESCRIPTOR_BEATS} descriptor \
         beats and the check), then per token: x_i taken in cycle 1 + i; k valid {} cycles \
         after the last x; column block b + 1 follows block b after \
         max(ceil(d_out/array_rows), array_inputs + {element}) cycles, block 0 at d_in + {} + \
         array_inputs; the low-rank flow takes (ceil(d_in/F) + log2 F) * max(rank, {}) + \
         ceil(d_out/{V_INTERLEAVE}F) * rank * {V_INTERLEAVE} + {} cycles (none at rank 0); the \
         gate issues row j once the accumulators are final and v_j is ready, one row per cycle \
         (every other cycle with one gate multiplier), and output j leaves {} cycles after its \
         issue; the next token starts in the cycle after the last output. \
         hgf_hdl::schedule::expected_cycles(config, shape) evaluates it exactly.",
        QuantizerUnit::K_CYCLES + 1,
        QuantizerUnit::SCALE_CYCLES + element + 1,
        Fp16MacLane::LOOP_LATENCY,
        2 * DRAIN_CYCLES,
        HgfCore::read_latency() + GateUnit::LATENCY + 2,
    )
}

/// The cycles of a run of `tokens` tokens of `shape` that follows another run (see
/// [`expected_cycles`]): its first token, then `tokens - 1` steady ones.
pub fn run_cycles(cfg: &HgfConfig, shape: Shape, tokens: u64) -> u64 {
    let e = expected_cycles(cfg, shape);
    e.first_token + tokens.saturating_sub(1) * e.steady
}

struct Timeline {
    milestones: Milestones,
    limited_by: LimitedBy,
}

/// One token's timeline; `after_reset`: the first token, whose gate waits for the flush.
fn token_timeline(cfg: &HgfConfig, shape: Shape, after_reset: bool) -> Timeline {
    let p: Layout = cfg.layout(shape);
    // 1. Streams in: nothing is taken in the start cycle.
    let first_x = 1;
    let x_last = first_x + p.d_in - 1;
    // The first cycle in which the units have counted `n` x beats (the n-th is taken in
    // cycle first_x + n - 1 and counted on its edge).
    let x_arrived = |n: usize| first_x + n;

    // 2. Quantizer: k, and the column blocks at the pace of the slower of the array and
    // the element pipeline.
    let k_valid = x_last + QuantizerUnit::K_CYCLES + 1;
    let first_block = x_last + QuantizerUnit::first_block_cycles(cfg) + 1;
    let beats_per_block = p.row_groups();
    let block_period = beats_per_block.max(QuantizerUnit::block_fill_cycles(cfg));
    let last_block = first_block + (p.column_blocks() - 1) * block_period;
    let last_weight_beat = last_block + beats_per_block - 1;

    // 3. Accumulators: the last beat's tag leaves the array's pipeline, is counted (`landed`)
    // one cycle later, and the settle counter runs to ACC_SETTLE.
    let landed_all = last_weight_beat + TernaryArray::latency_for_inputs(cfg.array_inputs) + 1;
    let acc_final = landed_all + ACC_SETTLE + 1;

    // 4. Low-rank flow. The sequencer leaves idle in cycle 1; step t's first beat needs the
    // x values up to min((t + 1) F, d_in).
    let lanes = p.fp_lanes;
    let pass = pass_cycles(p.rank);
    let mut step_start = 0;
    for t in 0..p.u_steps() {
        let ready = x_arrived(((t + 1) * lanes).min(p.d_in));
        step_start = if t == 0 {
            ready.max(1)
        } else {
            ready.max(step_start + pass)
        };
    }
    let tree_rounds = lanes.trailing_zeros() as usize;
    let phase_v = step_start + pass * (1 + tree_rounds) + DRAIN_CYCLES;
    // Group g (rows gF ..) takes its last beat (k = rank - 1) at this cycle; the lanes write
    // it LATENCY + 1 cycles after it leaves the beat register, and v_ready_count shows it
    // one cycle later.
    let bypass = p.rank == 0;
    let v_ready_of_group = |g: usize| {
        if bypass {
            return 1;
        }
        let last_beat = phase_v
            + (g / V_INTERLEAVE) * p.rank * V_INTERLEAVE
            + (p.rank - 1) * V_INTERLEAVE
            + g % V_INTERLEAVE;
        last_beat + 1 + Fp16MacLane::LATENCY + 1
    };
    let v_ready = v_ready_of_group((p.d_out - 1) / lanes);
    let (last_factor_beat, lowrank_done) = if bypass {
        (0, 1)
    } else {
        let last = phase_v + p.v_blocks() * p.rank * V_INTERLEAVE - 1;
        (last, last + 1 + DRAIN_CYCLES)
    };

    // 5. Gate: each row once both flows are done with it, at the gate's issue interval.
    let ternary_ready = acc_final.max(k_valid);
    // The gate's flush counts from the reset, which the descriptor's cycles follow.
    let flush_floor = if after_reset {
        HgfCore::flush_cycles().saturating_sub(DESCRIPTOR_CYCLES)
    } else {
        0
    };
    let interval = cfg.gate_issue_interval();
    let mut issue = 0;
    let mut first_issue = 0;
    let mut limited_by = LimitedBy::TernaryFlow;
    for j in 0..p.d_out {
        // A gate that borrows lane 0's adder waits for the whole low-rank flow.
        let v_j = if cfg.gate_shares_adder {
            lowrank_done
        } else {
            v_ready_of_group(j / lanes)
        };
        let ready = ternary_ready.max(v_j).max(flush_floor);
        let earliest = if j == 0 { 0 } else { issue + interval };
        if j == 0 || ready > earliest {
            // A new run of issues starts here: note what it waited for.
            limited_by = if ready == flush_floor {
                LimitedBy::ResetFlush
            } else if ready == v_j && v_j > ternary_ready {
                LimitedBy::LowRankFlow
            } else if acc_final >= k_valid {
                LimitedBy::TernaryFlow
            } else {
                LimitedBy::DequantFactor
            };
        }
        issue = earliest.max(ready);
        if j == 0 {
            first_issue = issue;
        }
    }
    let last_output = issue + HgfCore::read_latency() + GateUnit::LATENCY + 2;
    // The next token starts at `last_output + 1`: the low-rank flow must be done by then
    // (it ignores a `start` while busy). Its last v_j is ready after `lowrank_done`.
    debug_assert!(lowrank_done <= last_output + 1);

    let c = |v: usize| v as u64;
    Timeline {
        milestones: Milestones {
            x_last: c(x_last),
            k_valid: c(k_valid),
            first_block: c(first_block),
            last_weight_beat: c(last_weight_beat),
            acc_final: c(acc_final),
            lowrank_phase_v: c(if bypass { 0 } else { phase_v }),
            last_factor_beat: c(last_factor_beat),
            v_ready: c(v_ready),
            lowrank_done: c(lowrank_done),
            first_issue: c(first_issue),
            last_issue: c(issue),
            last_output: c(last_output),
        },
        limited_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output_queue::OutputQueue;

    #[test]
    fn the_output_queue_credit_never_binds_without_stalls() {
        // Issued and not yet retired, plus the one word in the queue, at the full rate.
        assert!(HgfCore::flush_cycles() + 1 < OutputQueue::DEPTH);
    }

    #[test]
    fn presets_take_the_same_cycles_for_every_token() {
        for name in hgf_golden::config::PRESETS {
            let cfg = HgfConfig::preset(name).unwrap();
            let e = expected_cycles(&cfg, cfg.max_shape());
            assert_eq!(e.first_token, e.steady + DESCRIPTOR_CYCLES as u64, "{name}");
            assert_eq!(e.after_reset, e.first_token + RESET_DELAY as u64, "{name}");
            assert_eq!(
                run_cycles(&cfg, cfg.max_shape(), 3),
                e.first_token + 2 * e.steady
            );
            let m = &e.milestones;
            assert!(
                m.k_valid > m.x_last && m.first_block > m.x_last,
                "{name}: {m:?}"
            );
            assert!(m.acc_final > m.last_weight_beat, "{name}: {m:?}");
            assert!(m.first_issue >= m.acc_final.max(m.k_valid), "{name}: {m:?}");
            assert!(m.last_issue >= m.v_ready, "{name}: {m:?}");
            assert!(m.lowrank_done <= m.last_output, "{name}: {m:?}");
            assert!(
                e.steady >= cfg.max_layout().ideal_cycles() as u64,
                "{name}: {e:?}"
            );
        }
    }

    #[test]
    fn a_large_shape_waits_for_its_ternary_flow_then_drains_at_the_gate_rate() {
        // 6912 x 2560 (a feed-forward projection): the ternary array's 1,728 · 40 beats
        // dwarf the low-rank flow, and the gate reads the accumulators only once they are
        // final, so its 6,912 rows follow the array instead of overlapping it.
        let cfg = HgfConfig {
            max_d_in: 2560,
            max_d_out: 6912,
            max_rank: 64,
            ..HgfConfig::default()
        };
        cfg.validate().unwrap();
        let e = expected_cycles(&cfg, cfg.max_shape());
        let m = &e.milestones;
        assert_eq!(e.limited_by, LimitedBy::TernaryFlow);
        assert_eq!(m.first_issue, m.acc_final);
        assert_eq!(m.last_issue - m.first_issue, 6911);
        assert!(m.v_ready < m.last_issue, "{e:?}");
    }

    #[test]
    fn a_ternary_only_projection_has_no_low_rank_flow() {
        let cfg = HgfConfig::default();
        let e = expected_cycles(&cfg, Shape::new(512, 1376, 0));
        let m = &e.milestones;
        assert_eq!((m.lowrank_done, m.v_ready, m.last_factor_beat), (1, 1, 0));
        assert_eq!(e.limited_by, LimitedBy::TernaryFlow);
        assert_eq!(m.first_issue, m.acc_final);
        assert_eq!(m.last_issue - m.first_issue, 1375);
        // The same shape with a correction takes at least as long.
        assert!(expected_cycles(&cfg, Shape::new(512, 1376, 16)).steady >= e.steady);
    }

    #[test]
    fn the_cycle_rule_in_words_states_the_units_latencies() {
        let text = cycle_model_text();
        for figure in [
            "7 cycles",
            "k valid 77 cycles",
            "array_inputs + 9",
            "d_in + 49",
            "max(rank, 7)",
            "+ 16 cycles",
            "leaves 14 cycles",
        ] {
            assert!(text.contains(figure), "{figure}: {text}");
        }
    }
}
