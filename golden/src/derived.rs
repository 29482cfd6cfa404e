//! Every quantity derived from an [`HgfConfig`], computed here and nowhere else.
//!
//! Each method cites the section of docs/arithmetic.md that justifies it. The hardware
//! generator, the co-simulation and the estimator call these; they never recompute them.

use serde::Serialize;

use crate::config::HgfConfig;
use crate::shape::Layout;
use crate::streams::DESCRIPTOR_BEATS;

/// Bytes of one FP16 value.
const F16_BYTES: usize = 2;
/// Bytes of one FP32 value.
const F32_BYTES: usize = 4;

/// The smallest two's-complement width that holds every sum of `terms` terms `T * q` with
/// `T` in {-1, 0, 1} and `q` in [-128, 127], that is every value in
/// [-127 * terms, 128 * terms] (§T2): the smallest `w` with `2^(w-1) - 1 >= 128 * terms`.
/// The accumulators (`terms = d_in`) and the array's block sums (`terms = array_inputs`) both
/// use it.
pub fn ternary_sum_bits(terms: usize) -> u32 {
    let max = 128u64 * terms as u64;
    let mut w = 2;
    while (1u64 << (w - 1)) - 1 < max {
        w += 1;
    }
    w
}

/// The width of a counter or index that runs from 0 up to `max` (inclusive): the fewest bits
/// that hold `max`, at least 1. The hardware keeps its counts in 20-bit registers (the
/// largest count, `MAX_BEATS`, needs 20) and masks each to this width, so that synthesis
/// drops the register bits that are always zero for the config.
pub fn counter_bits(max: usize) -> u32 {
    (usize::BITS - max.leading_zeros()).max(1)
}

impl HgfConfig {
    /// Width in bits of a ternary accumulator (§T2): [`ternary_sum_bits`] of `max_d_in`
    /// terms, so that every projection the core runs fits.
    pub fn acc_bits(&self) -> u32 {
        ternary_sum_bits(self.max_d_in)
    }

    /// Trits held by one packed weight byte (§P1).
    pub fn trits_per_byte(&self) -> usize {
        self.packing.trits_per_byte()
    }

    /// Bytes per weight beat: one column block of `array_rows` rows (the same for every
    /// shape).
    pub fn weight_beat_bytes(&self) -> usize {
        self.max_layout().weight_beat_bytes()
    }

    /// Rows of the accumulator bank: `max_d_out` padded to whole row groups (§P2).
    pub fn acc_rows(&self) -> usize {
        self.max_layout().padded_rows()
    }

    /// Whether the quantizer's `x * s` runs on the gate's multiplier (with one gate
    /// multiplier: the gate works only once every block is quantized, so the two never
    /// need it at once).
    pub fn shares_quantizer_multiplier(&self) -> bool {
        self.gate_multipliers == 1
    }

    /// Cycles between two outputs entering the gate: 1 with two gate multipliers, 2 when one
    /// multiplier computes both `fl32(acc) * k` and `g * v` of an output.
    pub fn gate_issue_interval(&self) -> usize {
        if self.gate_multipliers >= 2 {
            1
        } else {
            2
        }
    }

    /// The engine's sizes and its largest projection's, as one serialisable record (for
    /// manifests and reports).
    pub fn derived(&self) -> Derived {
        let max = self.max_layout();
        Derived {
            acc_bits: self.acc_bits(),
            trits_per_byte: self.trits_per_byte(),
            acc_rows: self.acc_rows(),
            x_buffer_depth: self.max_d_in,
            u_buffer_depth: self.max_rank,
            max_projection: max.derived(),
        }
    }
}

impl Layout {
    /// Trits held by one packed weight byte (§P1).
    pub fn trits_per_byte(&self) -> usize {
        self.packing.trits_per_byte()
    }

    /// Row groups of `array_rows` consecutive outputs: the array's visits per column block.
    /// The last group is padded with zero rows when `array_rows` does not divide `d_out`
    /// (§P2).
    pub fn row_groups(&self) -> usize {
        self.d_out.div_ceil(self.array_rows)
    }

    /// Rows of the weight stream: `d_out` padded to whole row groups (§P2).
    pub fn padded_rows(&self) -> usize {
        self.row_groups() * self.array_rows
    }

    /// Column blocks of `array_inputs` columns that cover one row (§P2).
    pub fn column_blocks(&self) -> usize {
        self.d_in.div_ceil(self.array_inputs)
    }

    /// Trits of one packed row: `d_in` padded with zero trits to whole column blocks (§P2).
    pub fn row_trits(&self) -> usize {
        self.column_blocks() * self.array_inputs
    }

    /// Packed bytes of one weight row (§P2). `array_inputs` is a multiple of the trits per
    /// byte, so a column block is a whole number of bytes.
    pub fn row_bytes(&self) -> usize {
        self.row_trits() / self.trits_per_byte()
    }

    /// Bytes of one column block of one row (§P3).
    pub fn block_bytes(&self) -> usize {
        self.array_inputs / self.trits_per_byte()
    }

    /// Bytes of the packed ternary weight stream of the whole matrix, padding rows included
    /// (§P3).
    pub fn weight_bytes(&self) -> usize {
        self.padded_rows() * self.row_bytes()
    }

    /// Bytes of the low-rank factors A and B (binary16); 0 for a ternary-only projection.
    pub fn factor_bytes(&self) -> usize {
        self.rank * (self.d_in + self.d_out) * F16_BYTES
    }

    /// Bytes of the projection's descriptor: its [`DESCRIPTOR_BEATS`] binary32 words (shape,
    /// token count, beta and g; docs/interfaces.md), sent once per run of tokens.
    pub fn descriptor_bytes(&self) -> usize {
        DESCRIPTOR_BEATS * F32_BYTES
    }

    /// Parameter bytes of the ternary backbone that one token reads: the packed weight stream
    /// and the descriptor (which carries beta). All a ternary-only projection reads.
    pub fn ternary_bytes_per_token(&self) -> usize {
        self.weight_bytes() + self.descriptor_bytes()
    }

    /// Parameter bytes of the low-rank correction that one token reads: A and B (g travels
    /// in the descriptor).
    pub fn lowrank_bytes_per_token(&self) -> usize {
        self.factor_bytes()
    }

    /// Parameter bytes of one token when nothing is cached on chip and every token comes
    /// with its own descriptor (a token of generation): the ternary backbone plus the
    /// low-rank correction.
    pub fn bytes_per_token(&self) -> usize {
        self.ternary_bytes_per_token() + self.lowrank_bytes_per_token()
    }

    /// Cycles of the ternary array per token: every row group visits every column block.
    pub fn ternary_cycles(&self) -> usize {
        self.row_groups() * self.column_blocks()
    }

    /// Cycles of the FP16 MAC lanes per token: one factor beat per cycle, that is the
    /// `rank` sums of `A x` shared by the lanes (§L2), then whole outputs of `B u` per lane
    /// (§L5), padded to `V_INTERLEAVE` outputs per lane. 0 for a ternary-only projection.
    pub fn lowrank_cycles(&self) -> usize {
        self.factor_beats()
    }

    /// The ideal cycles per token when both flows run side by side: the slower of the two.
    /// Pipeline fill and drain latencies are added by the cycle model.
    pub fn ideal_cycles(&self) -> usize {
        self.ternary_cycles().max(self.lowrank_cycles())
    }

    /// Ternary multiply-accumulates (additions, in fact) per token.
    pub fn ternary_macs(&self) -> usize {
        self.d_in * self.d_out
    }

    /// FP16 multiply-accumulates of the low-rank path per token.
    pub fn lowrank_macs(&self) -> usize {
        self.rank * (self.d_in + self.d_out)
    }

    /// Everything above, as one serialisable record (for manifests and reports).
    pub fn derived(&self) -> ProjectionDerived {
        ProjectionDerived {
            d_in: self.d_in,
            d_out: self.d_out,
            rank: self.rank,
            row_bytes: self.row_bytes(),
            weight_bytes: self.weight_bytes(),
            factor_bytes: self.factor_bytes(),
            bytes_per_token: self.bytes_per_token(),
            column_blocks: self.column_blocks(),
            row_groups: self.row_groups(),
            ternary_cycles: self.ternary_cycles(),
            lowrank_cycles: self.lowrank_cycles(),
            ideal_cycles: self.ideal_cycles(),
            ternary_macs: self.ternary_macs(),
            lowrank_macs: self.lowrank_macs(),
        }
    }
}

/// The derived quantities of one engine (see the methods of [`HgfConfig`] in this module).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Derived {
    pub acc_bits: u32,
    pub trits_per_byte: usize,
    /// Rows of the accumulator bank (`max_d_out` padded to row groups).
    pub acc_rows: usize,
    pub x_buffer_depth: usize,
    pub u_buffer_depth: usize,
    /// The largest projection's quantities.
    pub max_projection: ProjectionDerived,
}

/// The derived quantities of one projection on an engine (see the methods of [`Layout`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProjectionDerived {
    pub d_in: usize,
    pub d_out: usize,
    pub rank: usize,
    pub row_bytes: usize,
    pub weight_bytes: usize,
    pub factor_bytes: usize,
    pub bytes_per_token: usize,
    pub column_blocks: usize,
    pub row_groups: usize,
    pub ternary_cycles: usize,
    pub lowrank_cycles: usize,
    pub ideal_cycles: usize,
    pub ternary_macs: usize,
    pub lowrank_macs: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;

    #[test]
    fn counter_bits_holds_the_largest_value_and_no_more() {
        assert_eq!(counter_bits(0), 1);
        assert_eq!(counter_bits(1), 1);
        assert_eq!(counter_bits(2), 2);
        assert_eq!(counter_bits(255), 8);
        assert_eq!(counter_bits(256), 9);
        for max in 1..5000usize {
            let w = counter_bits(max);
            assert!(max < 1 << w && max >= 1 << (w - 1), "{max} -> {w}");
        }
    }

    #[test]
    fn acc_bits_holds_the_extreme_sums() {
        let mut cfg = HgfConfig::default();
        for d_in in [1usize, 2, 3, 100, 511, 512, 513, 4096, 1 << 17] {
            cfg.max_d_in = d_in;
            let w = cfg.acc_bits();
            let max = (1i64 << (w - 1)) - 1;
            let min = -(1i64 << (w - 1));
            assert!(
                128 * d_in as i64 <= max && -127 * (d_in as i64) >= min,
                "d_in {d_in} w {w}"
            );
            // One bit fewer would not hold +128 * d_in.
            assert!(
                128 * d_in as i64 > (1i64 << (w - 2)) - 1,
                "d_in {d_in} w {w} not minimal"
            );
        }
        cfg.max_d_in = 512;
        assert_eq!(cfg.acc_bits(), 18);
    }

    #[test]
    fn bytes_per_token_is_backbone_plus_correction() {
        let p = HgfConfig::default().layout(Shape::new(512, 512, 16));
        // 512 rows of 105 base-3 bytes (21 blocks of 25 trits) and the descriptor's six
        // words; A and B: 16 * (512 + 512) binary16.
        assert_eq!(p.ternary_bytes_per_token(), 512 * 105 + 24);
        assert_eq!(p.lowrank_bytes_per_token(), 16 * 1024 * 2);
        assert_eq!(p.bytes_per_token(), 86_552);
        let ternary_only = HgfConfig::default().layout(Shape::new(512, 1376, 0));
        assert_eq!(ternary_only.lowrank_bytes_per_token(), 0);
        assert_eq!(ternary_only.lowrank_cycles(), 0);
    }

    #[test]
    fn default_engine_cycle_counts() {
        let p = HgfConfig::default().layout(Shape::new(512, 512, 16));
        // 512 inputs pad to 21 blocks of 25 trits: 525 trits, 105 base-3 bytes.
        assert_eq!(p.row_bytes(), 105);
        assert_eq!(p.column_blocks(), 21);
        assert_eq!(p.ternary_cycles(), 128 * 21);
        // Four lanes: 512 / 4 beats for each of the 16 rows of A, then B u: 512 outputs of
        // 16 products, 128 per lane.
        assert_eq!(p.lowrank_cycles(), 16 * 128 + 128 * 16);
        assert_eq!(p.ideal_cycles(), 4096);
    }

    #[test]
    fn rows_pad_to_whole_row_groups() {
        // 10 outputs on 4 array rows: three groups, two zero rows of padding.
        let p = HgfConfig::default().layout(Shape::new(30, 10, 2));
        assert_eq!(p.row_groups(), 3);
        assert_eq!(p.padded_rows(), 12);
        assert_eq!(p.weight_bytes(), 12 * p.row_bytes());
        assert_eq!(HgfConfig::default().acc_rows(), 1376);
    }
}
