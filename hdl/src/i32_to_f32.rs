//! int32 -> binary32 conversion, round to nearest even.

use rust_hdl::prelude::*;

use crate::lzc::Lzc;
use crate::round_nearest_even::RoundNearestEven;

/// int32 to binary32 conversion, round to nearest even, in two pipeline stages (`I32ToF32`).
///
/// **Function.** `y = fl32(x)` for the two's complement integer `x` (docs/arithmetic.md §F6):
/// exact while `|x| <= 2^24` (the only values the contract converts, §T2/§T3), one RNE
/// rounding above; 0 gives +0. No flags (none can occur but *inexact*).
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `enable` | in | 1 | high: the pipeline advances on this edge (`x` sampled); low: every register holds, `y` included |
/// | `x` | in | 32 | int32, two's complement |
/// | `y` | out | 32 | IEEE binary32, `x` rounded to nearest even, from a register |
///
/// Pipeline (one register after each stage):
/// 1. The magnitude `|x|` (a negator; `-2^31` gives `2^31`, which fits 32 unsigned bits) and,
///    in parallel rather than after it, the leading-zero count `c` ([`Lzc`]) of `x` itself
///    when positive and of `!x | 1` when negative: `!x = |x| - 1`, so `|x|` has `c` or
///    `c - 1` leading zeros, and the `| 1` only keeps `c` below 32 for `x = -1` (a count of
///    32 then means `x = 0`). The magnitude, widened to 33 bits, is shifted left by `c`
///    (16, 8, 4 as the count's bits come, then the last two bits), which leaves its leading
///    one on bit 32 (`c` was one too many) or bit 31.
/// 2. A one-bit shift that takes the 31 bits below the leading one; the exponent field
///    `158 - c`, one more when the one was on bit 32; the packed magnitude
///    `{exponent, 23 fraction bits}` (the leading one is not stored: no adder), rounded by
///    the shared [`RoundNearestEven`] from bit 7 (guard) and bits 6..0 (sticky), a carry out
///    of the fraction rolling into the exponent; sign; +0.
///
/// **Latency** [`I32ToF32::LATENCY`] = 2 enabled edges: `x` sampled by enabled edge `n` gives
/// `y` after enabled edge `n + 1`. **Throughput** one conversion per enabled cycle; the
/// pipeline holds while `enable` is low.
/// **Resources** a 32-bit negator, a 32-bit leading-zero counter ([`Lzc`]), a 33-bit,
/// 5-level left shifter, an 8-bit subtractor and a 31-bit incrementer; 72 flip-flops (40
/// after stage 1, 32 after stage 2), most of them in the logic cell of the LUT that drives
/// them on iCE40; no BRAM or DSP. LUT counts by target in
/// the block's synthesis report (`hgf synth --blocks --block i32_to_f32`).
/// **Golden** `hgf_golden::fp::i32_to_f32`. **Limits** none: every int32 has its RNE result.
#[derive(LogicBlock)]
pub struct I32ToF32 {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// High: every register loads on this edge. Low: every register holds.
    pub enable: Signal<In, Bit>,
    /// int32 input, two's complement.
    pub x: Signal<In, Bits<32>>,
    /// binary32 output, [`I32ToF32::LATENCY`] enabled edges after `x`.
    pub y: Signal<Out, Bits<32>>,
    // ---- Stage 1.
    /// The word whose leading zeros are counted: `x`, or `!x | 1` when negative. Computed
    /// from `x` alone, so that nothing upstream of the counter shares a `Local` with what
    /// reads its count (see `Lzc` on UNOPTFLAT).
    scan: Signal<Local, Bits<32>>,
    // Leading zeros of `scan`.
    lzc: Lzc<32, 6>,
    /// |x|.
    mag: Signal<Local, Bits<32>>,
    /// |x|, 33 bits wide, shifted left by 16 when bit 4 of the count is set (the last two
    /// steps go straight into the register).
    pre16: Signal<Local, Bits<33>>,
    /// ... and by 8 more when bit 3 is set.
    pre8: Signal<Local, Bits<33>>,
    /// ... and by 4 more when bit 2 is set.
    pre4: Signal<Local, Bits<33>>,
    // ---- Stage 2.
    /// The magnitude normalised, without its leading one (which would be bit 31).
    norm: Signal<Local, Bits<31>>,
    /// The exponent field.
    exp_field: Signal<Local, Bits<8>>,
    // `y` without its sign, rounded to nearest even.
    round: RoundNearestEven<31, 31>,
    /// `y` before the sign and zero.
    rounded_mag: Signal<Local, Bits<32>>,
    // Registers.
    /// The magnitude shifted by the count, the count, the sign (edge `n`).
    s1_pre: DFF<Bits<33>>,
    s1_count: DFF<Bits<6>>,
    s1_sign: DFF<Bit>,
    /// `y` (edge `n + 1`).
    s2_y: DFF<Bits<32>>,
    // Typed constants (no WIDTH mismatch in the Verilog): zero, all ones, one, the sign bit,
    // the exponent field of 2^31 plus one (`158`: the field of a leading one on bit 31 with
    // no leading zeros is 158, with `c` leading zeros `158 - c`), and 159.
    word_zero: Constant<Bits<32>>,
    word_ones: Constant<Bits<32>>,
    word_one: Constant<Bits<32>>,
    sign_bit: Constant<Bits<32>>,
    exp_top: Constant<Bits<8>>,
    exp_top_carry: Constant<Bits<8>>,
}

impl I32ToF32 {
    /// Enabled clock edges from `x` to `y`.
    pub const LATENCY: usize = 2;

    /// A converter with every register at zero.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            enable: Default::default(),
            x: Default::default(),
            y: Default::default(),
            scan: Default::default(),
            lzc: Lzc::new(),
            mag: Default::default(),
            pre16: Default::default(),
            pre8: Default::default(),
            pre4: Default::default(),
            norm: Default::default(),
            exp_field: Default::default(),
            round: RoundNearestEven::new(),
            rounded_mag: Default::default(),
            s1_pre: Default::default(),
            s1_count: Default::default(),
            s1_sign: Default::default(),
            s2_y: Default::default(),
            word_zero: Constant::new(0u64.into()),
            word_ones: Constant::new(0xFFFF_FFFFu64.into()),
            word_one: Constant::new(1u64.into()),
            sign_bit: Constant::new(0x8000_0000u64.into()),
            exp_top: Constant::new(158u64.into()),
            exp_top_carry: Constant::new(159u64.into()),
        }
    }
}

impl Default for I32ToF32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for I32ToF32 {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, s1_pre, s1_count, s1_sign, s2_y);

        // ---- Stage 1: magnitude and count side by side, then the shift. The steps of 16, 8
        // and 4 follow the count's bits in turn (each bit settles earlier than the next
        // one); a shift by the 5-bit count in one step measured slower on the UP5K.
        // The counter's word is complete before it drives the counter: a sub-block input
        // assigned twice in one pass glitches, and an event-driven simulator (iverilog) then
        // loops forever through the counter's output.
        self.scan.next = self.x.val();
        if self.x.val().get_bit(31) {
            self.scan.next = (self.x.val() ^ self.word_ones.val()) | self.word_one.val();
        }
        self.lzc.x.next = self.scan.val();
        self.mag.next = self.x.val();
        if self.x.val().get_bit(31) {
            self.mag.next = self.word_zero.val() - self.x.val();
        }
        self.pre16.next = bit_cast::<33, 32>(self.mag.val());
        if self.lzc.count.val().get_bit(4) {
            self.pre16.next = bit_cast::<33, 32>(self.mag.val()) << 16;
        }
        self.pre8.next = self.pre16.val();
        if self.lzc.count.val().get_bit(3) {
            self.pre8.next = self.pre16.val() << 8;
        }
        self.pre4.next = self.pre8.val();
        if self.lzc.count.val().get_bit(2) {
            self.pre4.next = self.pre8.val() << 4;
        }
        if self.enable.val() {
            self.s1_pre.d.next = self.pre4.val() << self.lzc.count.val().get_bits::<2>(0);
            self.s1_count.d.next = self.lzc.count.val();
            self.s1_sign.d.next = self.x.val().get_bit(31);
        }

        // ---- Stage 2: the last one-bit shift, exponent, rounding, sign.
        self.norm.next = self.s1_pre.q.val().get_bits::<31>(0);
        self.exp_field.next = self.exp_top.val() - bit_cast::<8, 6>(self.s1_count.q.val());
        if self.s1_pre.q.val().get_bit(32) {
            self.norm.next = self.s1_pre.q.val().get_bits::<31>(1);
            self.exp_field.next =
                self.exp_top_carry.val() - bit_cast::<8, 6>(self.s1_count.q.val());
        }
        self.round.kept.next = (bit_cast::<31, 8>(self.exp_field.val()) << 23)
            | bit_cast::<31, 23>(self.norm.val().get_bits::<23>(8));
        self.round.guard.next = self.norm.val().get_bit(7);
        self.round.sticky.next = self.norm.val().get_bits::<7>(0).any();
        self.rounded_mag.next = bit_cast::<32, 31>(self.round.rounded.val());
        if self.enable.val() {
            self.s2_y.d.next = self.rounded_mag.val();
            if self.s1_sign.q.val() {
                self.s2_y.d.next = self.rounded_mag.val() | self.sign_bit.val();
            }
            // A count of 32 (bit 5) only for x = 0: +0.
            if self.s1_count.q.val().get_bit(5) {
                self.s2_y.d.next = self.word_zero.val();
            }
        }
        self.y.next = self.s2_y.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{assert_all_match, stream_pipelined, Pipelined};
    use crate::verilog;
    use hgf_golden::fp::i32_to_f32;
    use hgf_golden::testfloat::{self, FpOp};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashMap;

    const SEED: u64 = 0x5eed_132f;

    impl Pipelined for I32ToF32 {
        type Input = u32;
        type Output = u32;
        fn latency() -> usize {
            Self::LATENCY
        }
        fn clock(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
        fn apply(&mut self, enable: bool, x: u32) {
            self.enable.next = enable;
            self.x.next = x.to_bits();
        }
        fn output(&self) -> u32 {
            self.y.val().to_u32()
        }
    }

    fn golden(x: u32) -> u32 {
        i32_to_f32(x as i32).to_bits()
    }

    fn new_uut() -> I32ToF32 {
        let mut uut = I32ToF32::new();
        uut.connect_all();
        uut
    }

    /// Streams `inputs` through a new converter, with the enable low on about one cycle in
    /// four (junk inputs then, which must not be sampled), and returns the outputs in order.
    fn convert_all(inputs: &[u32]) -> Vec<u32> {
        let mut en_rng = ChaCha8Rng::seed_from_u64(SEED + 1);
        let mut junk_rng = ChaCha8Rng::seed_from_u64(SEED + 2);
        stream_pipelined(
            &mut new_uut(),
            inputs,
            || en_rng.random_range(0..4u32) != 0,
            || junk_rng.random(),
        )
    }

    /// Asserts that the block converts every input as golden does; lists the first 20
    /// mismatches.
    fn assert_golden(what: &str, seed: Option<u64>, inputs: impl IntoIterator<Item = u32>) {
        let inputs: Vec<u32> = inputs.into_iter().collect();
        let outputs = convert_all(&inputs);
        assert_all_match(
            &format!("i32_to_f32 {what}"),
            seed,
            &inputs,
            &outputs,
            |&x| golden(x),
            |x, rtl, gold| format!("x={} rtl={rtl:08x} gold={gold:08x}", *x as i32),
        );
    }

    #[test]
    fn synthesizes() {
        let uut = new_uut();
        let v = verilog::emit_named(&uut, "i32_to_f32").unwrap();
        verilog::check_all_tools("i32_to_f32", &v).unwrap();
    }

    #[test]
    fn directed_edge_cases() {
        let cases: [(i32, u32); 14] = [
            (0, 0x0000_0000),
            (1, 0x3F80_0000),
            (-1, 0xBF80_0000),
            (1 << 24, 0x4B80_0000), // 2^24: the contract's bound, exact
            (-(1 << 24), 0xCB80_0000),
            ((1 << 24) - 1, 0x4B7F_FFFF), // largest odd exact value
            ((1 << 24) + 1, 0x4B80_0000), // tie, even: down
            ((1 << 24) + 3, 0x4B80_0002), // tie, even: up
            (i32::MAX, 0x4F00_0000),      // rounds up to 2^31
            (i32::MIN, 0xCF00_0000),      // -2^31, exact
            (i32::MIN + 1, 0xCF00_0000),
            (0x7FFF_FFC0, 0x4F00_0000), // tie above the largest float below 2^31: even, up
            (0x7FFF_FFBF, 0x4EFF_FFFF), // just below that tie
            (-128 * 512, 0xC780_0000),  // the contract's extreme accumulator, -2^16
        ];
        let inputs: Vec<u32> = cases.iter().map(|&(x, _)| x as u32).collect();
        for ((x, want), got) in cases.into_iter().zip(convert_all(&inputs)) {
            assert_eq!(got, want, "x = {x}");
            assert_eq!(golden(x as u32), want, "golden, x = {x}");
        }
        // Every value with |x| <= 2^12, and every power of two, its neighbours and their
        // negations.
        let small = (-4096..=4096).map(|x: i32| x as u32);
        assert_golden("small", None, small);
        let around = (0..32).flat_map(|p| {
            let v = 1u32 << p;
            [
                v,
                v - 1,
                v + 1,
                v.wrapping_neg(),
                (v - 1).wrapping_neg(),
                (v + 1).wrapping_neg(),
            ]
        });
        assert_golden("powers of two", None, around);
    }

    #[test]
    fn random_inputs_match_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let inputs: Vec<u32> = (0..100_000)
            .map(|_| {
                // Random magnitude width, so every leading-zero count is common; some values
                // with a tie (bit pattern 1000..0 below the kept 24 bits).
                let width = rng.random_range(1..=32u32);
                let mut v = rng.random::<u32>() >> (32 - width);
                if width > 25 && rng.random_range(0..3u32) == 0 {
                    let cut = width - 24;
                    v = (v & !((1 << cut) - 1)) | (1 << (cut - 1));
                }
                if rng.random::<bool>() {
                    v.wrapping_neg()
                } else {
                    v
                }
            })
            .collect();
        assert_golden("random", Some(SEED), inputs);
    }

    #[test]
    fn testfloat_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../golden/tests/vectors/i32_to_f32_rne_level1.txt.gz"
        );
        let vectors = testfloat::read_vectors(path, FpOp::I32ToF32).unwrap();
        let inputs: Vec<u32> = vectors.iter().map(|v| v.operands[0]).collect();
        let rtl: HashMap<u32, u32> = inputs.iter().copied().zip(convert_all(&inputs)).collect();
        let report = testfloat::check(FpOp::I32ToF32, &vectors, |ops| rtl[&ops[0]]);
        assert!(report.cases > 0);
        assert_eq!(report.mismatches, 0, "{report}");
    }
}
