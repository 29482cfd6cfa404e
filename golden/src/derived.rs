//! Every quantity derived from an [`HgfConfig`], computed here and nowhere else.
//!
//! Each method cites the section of docs/arithmetic.md that justifies it. The hardware
//! generator, the co-simulation and the estimator call these; they never recompute them.

use serde::Serialize;

use crate::config::HgfConfig;

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
    /// Width in bits of a ternary accumulator (§T2): [`ternary_sum_bits`] of `d_in` terms.
    pub fn acc_bits(&self) -> u32 {
        ternary_sum_bits(self.d_in)
    }

    /// Row groups of `array_rows` consecutive outputs: the array's visits per column block.
    pub fn row_groups(&self) -> usize {
        self.d_out / self.array_rows
    }

    /// Trits held by one packed weight byte (§P1).
    pub fn trits_per_byte(&self) -> usize {
        self.packing.trits_per_byte()
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

    /// Bytes of the packed ternary weight stream of the whole matrix (§P3).
    pub fn weight_bytes(&self) -> usize {
        self.d_out * self.row_bytes()
    }

    /// Bytes of the low-rank factors A and B (binary16).
    pub fn factor_bytes(&self) -> usize {
        self.rank * (self.d_in + self.d_out) * F16_BYTES
    }

    /// Bytes of the ternary path's scale beta (binary32).
    pub fn beta_bytes(&self) -> usize {
        F32_BYTES
    }

    /// Bytes of the gate g (binary32).
    pub fn gate_bytes(&self) -> usize {
        F32_BYTES
    }

    /// Bytes of the two FP32 scalars beta and g.
    pub fn scalar_bytes(&self) -> usize {
        self.beta_bytes() + self.gate_bytes()
    }

    /// Parameter bytes of the ternary backbone that one token reads: the packed weight stream
    /// and beta. This is all a projection without the low-rank correction reads.
    pub fn ternary_bytes_per_token(&self) -> usize {
        self.weight_bytes() + self.beta_bytes()
    }

    /// Parameter bytes of the low-rank correction that one token reads: A, B and g.
    pub fn lowrank_bytes_per_token(&self) -> usize {
        self.factor_bytes() + self.gate_bytes()
    }

    /// Parameter bytes that one token reads when nothing is cached on chip: the ternary
    /// backbone plus the low-rank correction.
    pub fn bytes_per_token(&self) -> usize {
        self.ternary_bytes_per_token() + self.lowrank_bytes_per_token()
    }

    /// Cycles of the ternary array per token: every row group visits every column block.
    pub fn ternary_cycles(&self) -> usize {
        self.row_groups() * self.column_blocks()
    }

    /// Cycles of the FP16 MAC lanes per token: one factor beat per cycle, that is the
    /// `rank` sums of `A x` shared by the lanes (§L2), then whole outputs of `B u` per lane
    /// (§L5), padded to `V_INTERLEAVE` outputs per lane.
    pub fn lowrank_cycles(&self) -> usize {
        self.factor_beats()
    }

    /// The ideal cycles per token when both flows run side by side: the slower of the two.
    /// Pipeline fill and drain latencies are added by the hardware manifest.
    pub fn ideal_cycles(&self) -> usize {
        self.ternary_cycles().max(self.lowrank_cycles())
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

    /// Ternary multiply-accumulates (additions, in fact) per token.
    pub fn ternary_macs(&self) -> usize {
        self.d_in * self.d_out
    }

    /// FP16 multiply-accumulates of the low-rank path per token.
    pub fn lowrank_macs(&self) -> usize {
        self.rank * (self.d_in + self.d_out)
    }

    /// Everything above, as one serialisable record (for manifests and reports).
    pub fn derived(&self) -> Derived {
        Derived {
            acc_bits: self.acc_bits(),
            trits_per_byte: self.trits_per_byte(),
            row_bytes: self.row_bytes(),
            weight_bytes: self.weight_bytes(),
            factor_bytes: self.factor_bytes(),
            bytes_per_token: self.bytes_per_token(),
            x_buffer_depth: self.d_in,
            u_buffer_depth: self.rank,
            column_blocks: self.column_blocks(),
            ternary_cycles: self.ternary_cycles(),
            lowrank_cycles: self.lowrank_cycles(),
            ideal_cycles: self.ideal_cycles(),
            ternary_macs: self.ternary_macs(),
            lowrank_macs: self.lowrank_macs(),
        }
    }
}

/// The derived quantities of one config (see the methods of [`HgfConfig`] in this module).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Derived {
    pub acc_bits: u32,
    pub trits_per_byte: usize,
    pub row_bytes: usize,
    pub weight_bytes: usize,
    pub factor_bytes: usize,
    pub bytes_per_token: usize,
    pub x_buffer_depth: usize,
    pub u_buffer_depth: usize,
    pub column_blocks: usize,
    pub ternary_cycles: usize,
    pub lowrank_cycles: usize,
    pub ideal_cycles: usize,
    pub ternary_macs: usize,
    pub lowrank_macs: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

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
            cfg.d_in = d_in;
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
        cfg.d_in = 512;
        assert_eq!(cfg.acc_bits(), 18);
    }

    #[test]
    fn bytes_per_token_is_backbone_plus_correction() {
        let cfg = HgfConfig::default();
        // 512 rows of 105 base-3 bytes (21 blocks of 25 trits) and beta; A and B:
        // 16 * (512 + 512) binary16 and g.
        assert_eq!(cfg.ternary_bytes_per_token(), 512 * 105 + 4);
        assert_eq!(cfg.lowrank_bytes_per_token(), 16 * 1024 * 2 + 4);
        assert_eq!(cfg.bytes_per_token(), 86_536);
    }

    #[test]
    fn default_preset_cycle_counts() {
        let cfg = HgfConfig::default();
        // 512 inputs pad to 21 blocks of 25 trits: 525 trits, 105 base-3 bytes.
        assert_eq!(cfg.row_bytes(), 105);
        assert_eq!(cfg.column_blocks(), 21);
        assert_eq!(cfg.ternary_cycles(), 128 * 21);
        // Four lanes: 512 / 4 beats for each of the 16 rows of A, then B u: 512 outputs of
        // 16 products, 128 per lane.
        assert_eq!(cfg.lowrank_cycles(), 16 * 128 + 128 * 16);
        assert_eq!(cfg.ideal_cycles(), 4096);
    }
}
