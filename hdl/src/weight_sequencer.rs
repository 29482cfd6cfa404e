//! Where the next weight beat of the ternary flow belongs: its row group and column block,
//! and the tag that travels beside it through the array.

use hgf_golden::HgfConfig;
use rust_hdl::prelude::*;

use crate::counter_mask::counter_mask;

/// Bits of the array tag: bit 0 valid, bit 1 first column block, bits 21:2 the row group,
/// bit 22 the token's last beat.
pub const TAG_BITS: usize = 23;

/// The ternary flow's weight-beat sequencer (`WeightSequencer`).
///
/// **Function.** The weight stream of a token is `ceil(d_in/C)` column blocks of
/// `ceil(d_out/R)` row groups, one beat per (block, group), group fastest (docs/arithmetic.md
/// §P3, `hgf_golden::streams::weight_beats`). For each beat taken (`beat`) it outputs the
/// beat's tag for the [`crate::accumulator_bank::AccumulatorBank`] (valid, first block, row
/// group, last beat of the token; 0 when no beat is taken), signals the end of a column
/// block to the quantizer (`block_done`) and, after the token's last beat, `done`.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `start` | in | 1 | a token starts: back to block 0, group 0, `done` low after the edge |
/// | `d_in`, `d_out` | in | 20 each | the token's shape |
/// | `beat` | in | 1 | a weight beat is taken on this edge |
/// | `tag` | out | 23 | the taken beat's tag ([`TAG_BITS`]), 0 without a beat |
/// | `block_done` | out | 1 | the taken beat is the last of its column block |
/// | `done` | out | 1 | every weight beat of the token is taken |
///
/// **Latency** combinational from `beat` to `tag` and `block_done`; `done` one edge after the
/// last beat. **Throughput** one beat per cycle. **Resources** the block, group, row and
/// column registers (masked to the padded maxima), two adders and two comparators.
/// **Golden** the order of `hgf_golden::streams::weight_beats`. **Limits** `d_in <= max_d_in`,
/// `d_out <= max_d_out`.
#[derive(LogicBlock)]
pub struct WeightSequencer {
    pub clock: Signal<In, Clock>,
    pub start: Signal<In, Bit>,
    pub d_in: Signal<In, Bits<20>>,
    pub d_out: Signal<In, Bits<20>>,
    pub beat: Signal<In, Bit>,
    pub tag: Signal<Out, Bits<TAG_BITS>>,
    pub block_done: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    /// Rows and columns the array takes per weight beat, as steps of the row and column
    /// positions.
    row_step: Constant<Bits<20>>,
    col_step: Constant<Bits<20>>,
    /// Widths of the block and group counts and of the row and column positions (up to the
    /// padded maxima).
    block_mask: Constant<Bits<20>>,
    group_mask: Constant<Bits<20>>,
    t_row_mask: Constant<Bits<20>>,
    t_col_mask: Constant<Bits<20>>,
    t_block: DFF<Bits<20>>,
    t_group: DFF<Bits<20>>,
    /// The first row and column of the next weight beat: `t_group · R`, `t_block · C`.
    t_row: DFF<Bits<20>>,
    t_col: DFF<Bits<20>>,
    /// Every weight beat of the token is taken.
    t_done: DFF<Bit>,
    /// The next weight beat is the last of its block, of its token.
    t_last_group: Signal<Local, Bit>,
    t_last_block: Signal<Local, Bit>,
    /// The next weight beat is of column block 0; is the token's last.
    t_first: Signal<Local, Bit>,
    t_last: Signal<Local, Bit>,
    /// The first and last flags in their tag bits, as words: a cast of the bits would widen
    /// them, a width mismatch in the Verilog (docs/lint-waivers.md).
    first_part: Signal<Local, Bits<TAG_BITS>>,
    last_part: Signal<Local, Bits<TAG_BITS>>,
    // Typed constants (docs/lint-waivers.md): 0 and 1 of the counts, and the tag's zero,
    // valid, first and last bits.
    zero20: Constant<Bits<20>>,
    one20: Constant<Bits<20>>,
    tag_zero: Constant<Bits<TAG_BITS>>,
    tag_valid: Constant<Bits<TAG_BITS>>,
    tag_first: Constant<Bits<TAG_BITS>>,
    tag_last: Constant<Bits<TAG_BITS>>,
}

impl WeightSequencer {
    /// The sequencer for `cfg`'s array shape and maxima.
    pub fn new(cfg: &HgfConfig) -> Self {
        let max = cfg.max_layout();
        let c = |v: usize| Constant::new((v as u64).into());
        Self {
            clock: Default::default(),
            start: Default::default(),
            d_in: Default::default(),
            d_out: Default::default(),
            beat: Default::default(),
            tag: Default::default(),
            block_done: Default::default(),
            done: Default::default(),
            row_step: c(cfg.array_rows),
            col_step: c(cfg.array_inputs),
            block_mask: counter_mask(max.column_blocks()),
            group_mask: counter_mask(max.row_groups() - 1),
            t_row_mask: counter_mask(max.padded_rows()),
            t_col_mask: counter_mask(max.row_trits()),
            t_block: Default::default(),
            t_group: Default::default(),
            t_row: Default::default(),
            t_col: Default::default(),
            t_done: Default::default(),
            t_last_group: Default::default(),
            t_last_block: Default::default(),
            t_first: Default::default(),
            t_last: Default::default(),
            first_part: Default::default(),
            last_part: Default::default(),
            zero20: c(0),
            one20: c(1),
            tag_zero: Constant::new(0u64.into()),
            tag_valid: Constant::new(1u64.into()),
            tag_first: Constant::new((1u64 << 1).into()),
            tag_last: Constant::new((1u64 << 22).into()),
        }
    }
}

impl Logic for WeightSequencer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, t_block, t_group, t_row, t_col, t_done);
        self.tag.next = self.tag_zero.val();
        self.block_done.next = false;
        self.done.next = self.t_done.q.val();
        self.t_last_group.next = (self.t_row.q.val() + self.row_step.val()) >= self.d_out.val();
        self.t_last_block.next = (self.t_col.q.val() + self.col_step.val()) >= self.d_in.val();
        self.t_first.next = self.t_block.q.val() == self.zero20.val();
        self.t_last.next = self.t_last_group.val() & self.t_last_block.val();
        self.first_part.next = self.tag_zero.val();
        if self.t_first.val() {
            self.first_part.next = self.tag_first.val();
        }
        self.last_part.next = self.tag_zero.val();
        if self.t_last.val() {
            self.last_part.next = self.tag_last.val();
        }
        if self.beat.val() {
            // The group's cast to the tag's width is the one width mismatch left here.
            self.tag.next = (bit_cast::<TAG_BITS, 20>(self.t_group.q.val()) << 2)
                | self.first_part.val()
                | self.last_part.val()
                | self.tag_valid.val();
            if self.t_last_group.val() {
                self.t_group.d.next = self.zero20.val();
                self.t_row.d.next = self.zero20.val();
                self.t_block.d.next =
                    (self.t_block.q.val() + self.one20.val()) & self.block_mask.val();
                self.t_col.d.next =
                    (self.t_col.q.val() + self.col_step.val()) & self.t_col_mask.val();
                self.block_done.next = true;
                if self.t_last_block.val() {
                    self.t_done.d.next = true;
                }
            } else {
                self.t_group.d.next =
                    (self.t_group.q.val() + self.one20.val()) & self.group_mask.val();
                self.t_row.d.next =
                    (self.t_row.q.val() + self.row_step.val()) & self.t_row_mask.val();
            }
        }
        if self.start.val() {
            self.t_block.d.next = self.zero20.val();
            self.t_group.d.next = self.zero20.val();
            self.t_row.d.next = self.zero20.val();
            self.t_col.d.next = self.zero20.val();
            self.t_done.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{settle, tick};
    use crate::verilog::{check_all_tools, emit_named};

    fn new_uut(cfg: &HgfConfig) -> WeightSequencer {
        let mut uut = WeightSequencer::new(cfg);
        uut.connect_all();
        uut
    }

    #[test]
    fn synthesizes() {
        let cfg = HgfConfig::preset("up5k").unwrap();
        let v = emit_named(&new_uut(&cfg), "weight_sequencer").unwrap();
        check_all_tools("weight_sequencer", &v).unwrap();
    }

    /// `default` array (R x C = 4 x 25), `d_in = 60`, `d_out = 9`: 3 blocks of 3 groups;
    /// the tags in stream order, `block_done` on every third beat, `done` after the ninth;
    /// a second token after `start` begins at block 0, group 0 again.
    #[test]
    fn tags_follow_the_stream_order() {
        let cfg = HgfConfig::preset("default").unwrap();
        assert_eq!((cfg.array_rows, cfg.array_inputs), (4, 25));
        let mut uut = new_uut(&cfg);
        uut.d_in.next = 60.into();
        uut.d_out.next = 9.into();
        for _token in 0..2 {
            uut.start.next = true;
            tick(&mut uut, |u| &mut u.clock);
            uut.start.next = false;
            for i in 0..9u64 {
                let (block, group) = (i / 3, i % 3);
                uut.beat.next = true;
                settle(&mut uut);
                assert!(!uut.done.val(), "done before beat {i}");
                let want =
                    1 | (u64::from(block == 0) << 1) | (group << 2) | (u64::from(i == 8) << 22);
                assert_eq!(uut.tag.val().to_u64(), want, "beat {i}");
                assert_eq!(uut.block_done.val(), group == 2, "beat {i}");
                tick(&mut uut, |u| &mut u.clock);
                uut.beat.next = false;
                settle(&mut uut);
                assert_eq!(uut.tag.val().to_u64(), 0, "no beat, no tag");
            }
            assert!(uut.done.val());
        }
    }
}
