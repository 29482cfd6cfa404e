//! int32 -> binary32 conversion, round to nearest even.

use rust_hdl::prelude::*;

use crate::lzc::Lzc;
use crate::round_nearest_even::RoundNearestEven;

/// int32 to binary32 conversion, round to nearest even (`I32ToF32`).
///
/// **Function.** `y = fl32(x)` for the two's complement integer `x` (docs/arithmetic.md §F6):
/// exact while `|x| <= 2^24` (the only values the contract converts, §T2/§T3), one RNE
/// rounding above; 0 gives +0. No flags (none can occur but *inexact*).
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `x` | in | 32 | int32, two's complement |
/// | `y` | out | 32 | IEEE binary32, `x` rounded to nearest even |
///
/// Method: the magnitude (`-2^31` gives `2^31`, which fits 32 unsigned bits) is normalised by
/// its leading-zero count `lz` so that its leading one is bit 31; the exponent field is then
/// `158 - lz`. The top 24 bits (hidden bit included) are added to `(157 - lz) << 23`, so the
/// hidden bit completes the exponent; the shared [`RoundNearestEven`] then adds the
/// ties-to-even increment from bit 7 (guard) and bits 6..0 (sticky), and a carry out of the
/// significand rolls into the exponent.
///
/// **Latency** 0 (combinational: negate, count, shift, round in one path; register around it
/// where timing needs). **Throughput** one conversion per cycle.
/// **Resources** a 32-bit negator, a 32-bit leading-zero counter ([`Lzc`]), a 32-bit, 5-level
/// left shifter and a 31-bit adder; about 340 LUT4 and 65 carry cells (yosys 0.23
/// `synth_ice40`, a synthesis estimate); no FF, BRAM or DSP.
/// **Golden** `hgf_golden::fp::i32_to_f32`. **Limits** none: every int32 has its RNE result.
#[derive(LogicBlock)]
pub struct I32ToF32 {
    /// int32 input, two's complement.
    pub x: Signal<In, Bits<32>>,
    /// binary32 output.
    pub y: Signal<Out, Bits<32>>,
    // Leading zeros of the magnitude.
    lzc: Lzc<32, 6>,
    /// |x|.
    mag: Signal<Local, Bits<32>>,
    /// |x| again, for the counter.
    mag_copy: Signal<Local, Bits<32>>,
    /// |x| shifted so that its leading one is bit 31.
    norm: Signal<Local, Bits<32>>,
    /// The exponent field minus one.
    exp_m1: Signal<Local, Bits<8>>,
    // `y` without its sign, rounded to nearest even.
    round: RoundNearestEven<31, 31>,
    /// `y` without its sign.
    packed_mag: Signal<Local, Bits<31>>,
    // Typed constants (no WIDTH mismatch in the Verilog): the exponent field of 2^31 minus
    // one, the sign bit.
    exp_m1_top: Constant<Bits<8>>,
    sign_bit: Constant<Bits<32>>,
}

impl I32ToF32 {
    /// A converter.
    pub fn new() -> Self {
        Self {
            x: Default::default(),
            y: Default::default(),
            lzc: Lzc::new(),
            mag: Default::default(),
            mag_copy: Default::default(),
            norm: Default::default(),
            exp_m1: Default::default(),
            round: RoundNearestEven::new(),
            packed_mag: Default::default(),
            exp_m1_top: Constant::new(157u64.into()),
            sign_bit: Constant::new(0x8000_0000u64.into()),
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
        self.mag.next = self.x.val();
        if self.x.val().get_bit(31) {
            self.mag.next = 0 - self.x.val();
        }
        // The counter reads a copy of `mag`, because the shift reads `mag` with the counter's
        // output (see `Lzc` on UNOPTFLAT); synthesis merges the two identical negators. The
        // copy is complete before it drives the counter: a sub-block input assigned twice in
        // one pass glitches, and an event-driven simulator (iverilog) then loops forever
        // through the counter's output.
        self.mag_copy.next = self.x.val();
        if self.x.val().get_bit(31) {
            self.mag_copy.next = 0 - self.x.val();
        }
        self.lzc.x.next = self.mag_copy.val();
        // A shift of 32 (x = 0) never matters, so the shifter takes 5 select bits only.
        self.norm.next = self.mag.val() << self.lzc.count.val().get_bits::<5>(0);
        self.exp_m1.next = self.exp_m1_top.val() - bit_cast::<8, 6>(self.lzc.count.val());
        self.round.kept.next = (bit_cast::<31, 8>(self.exp_m1.val()) << 23)
            + bit_cast::<31, 24>(self.norm.val().get_bits::<24>(8));
        self.round.guard.next = self.norm.val().get_bit(7);
        self.round.sticky.next = self.norm.val().get_bits::<7>(0).any();
        self.packed_mag.next = self.round.rounded.val();
        self.y.next = bit_cast::<32, 31>(self.packed_mag.val());
        if self.x.val().get_bit(31) {
            self.y.next = bit_cast::<32, 31>(self.packed_mag.val()) | self.sign_bit.val();
        }
        if self.x.val() == 0 {
            self.y.next = 0.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{assert_each_matches, settle};
    use crate::verilog;
    use hgf_golden::fp::i32_to_f32;
    use hgf_golden::testfloat::{self, FpOp};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const SEED: u64 = 0x5eed_132f;

    fn convert(uut: &mut I32ToF32, x: u32) -> u32 {
        uut.x.next = (x as u64).into();
        settle(uut);
        uut.y.val().to_u32()
    }

    fn golden(x: u32) -> u32 {
        i32_to_f32(x as i32).to_bits()
    }

    fn new_uut() -> I32ToF32 {
        let mut uut = I32ToF32::new();
        uut.connect_all();
        uut
    }

    /// Asserts that the block converts every input as golden does; lists the first 20
    /// mismatches.
    fn assert_golden(
        what: &str,
        seed: Option<u64>,
        uut: &mut I32ToF32,
        inputs: impl IntoIterator<Item = u32>,
    ) {
        assert_each_matches(
            &format!("i32_to_f32 {what}"),
            seed,
            inputs,
            |&x| convert(uut, x),
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
        let mut uut = new_uut();
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
        for (x, want) in cases {
            assert_eq!(convert(&mut uut, x as u32), want, "x = {x}");
            assert_eq!(golden(x as u32), want, "golden, x = {x}");
        }
        // Every value with |x| <= 2^12, and every power of two, its neighbours and their
        // negations.
        let small = (-4096..=4096).map(|x: i32| x as u32);
        assert_golden("small", None, &mut uut, small);
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
        assert_golden("powers of two", None, &mut uut, around);
    }

    #[test]
    fn random_inputs_match_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let mut uut = new_uut();
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
        assert_golden("random", Some(SEED), &mut uut, inputs);
    }

    #[test]
    fn testfloat_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../golden/tests/vectors/i32_to_f32_rne_level1.txt.gz"
        );
        let vectors = testfloat::read_vectors(path, FpOp::I32ToF32).unwrap();
        let uut = std::cell::RefCell::new(new_uut());
        let report = testfloat::check(FpOp::I32ToF32, &vectors, |ops| {
            convert(&mut uut.borrow_mut(), ops[0])
        });
        assert!(report.cases > 0);
        assert_eq!(report.mismatches, 0, "{report}");
    }
}
