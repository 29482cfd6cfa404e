//! binary32 -> binary16 conversion, round to nearest even.

use rust_hdl::prelude::*;

use crate::round_nearest_even::RoundNearestEven;
use crate::shift_sticky::ShiftRightSticky;

/// binary32 to binary16 conversion, round to nearest even (`F32ToF16`).
///
/// **Function.** `y = binary16(x)` (docs/arithmetic.md §F2): one RNE rounding. Results below
/// 2^-14 are binary16 subnormals (smallest 2^-24; below half of it, ±0); magnitudes of 65520
/// or more, and ±infinity, give ±infinity; the sign of zeros is kept; any NaN gives the
/// canonical NaN `0x7E00` (§F1). No flags.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `x` | in | 32 | IEEE binary32 |
/// | `y` | out | 16 | IEEE binary16, `x` rounded to nearest even |
///
/// Method: the 24-bit significand `m` (hidden bit included; none for binary32 subnormals,
/// which all round to ±0) keeps its top 11 bits plus a guard bit for a binary16 normal, or
/// shifts right by `113 - exp` more (clamped to 31) for a subnormal result; every bit below
/// is sticky. Only the top 12 bits `m >> 12` go through the shifter (the low 12 are sticky
/// for every result). The 11-bit quotient `q` (hidden bit included) is added to the exponent
/// field minus one, `(e - 113) << 10` or 0 for a subnormal, so the hidden bit completes the
/// exponent; the ties-to-even increment (the shared [`RoundNearestEven`]) then carries into
/// the exponent, from the largest subnormal to the smallest normal and from 65504 to
/// infinity, with no special case.
///
/// **Latency** 0 (combinational). **Throughput** one conversion per cycle.
/// **Resources** a 12-bit, 5-level right shifter with sticky ([`ShiftRightSticky`]), a
/// 15-bit adder, exponent compares; about 130 LUT4 and 40 carry cells (yosys 0.23
/// `synth_ice40`, a synthesis estimate); no FF, BRAM or DSP.
/// **Golden** `hgf_golden::fp::f32_to_f16`. **Limits** none: every binary32 bit pattern has
/// its §F2 result.
#[derive(LogicBlock)]
pub struct F32ToF16 {
    /// binary32 input.
    pub x: Signal<In, Bits<32>>,
    /// binary16 output.
    pub y: Signal<Out, Bits<16>>,
    // Right shift of the significand with sticky.
    shift: ShiftRightSticky<12, 5>,
    /// Biased binary32 exponent.
    exp: Signal<Local, Bits<8>>,
    /// Top 12 bits of the significand (hidden bit included): 11 result bits and a guard bit
    /// for a binary16 normal.
    high: Signal<Local, Bits<12>>,
    /// Shift distance.
    shift_dist: Signal<Local, Bits<5>>,
    /// The binary16 exponent field minus one of a normal result; 0 for a subnormal.
    base: Signal<Local, Bits<15>>,
    /// Shifted significand: quotient (bits 11..1) and guard bit (bit 0), zero-extended.
    quot: Signal<Local, Bits<15>>,
    // `base + quotient`, rounded to nearest even.
    round: RoundNearestEven<15, 15>,
    /// `y` without its sign.
    mag: Signal<Local, Bits<15>>,
    // Typed constants (no WIDTH mismatch in the Verilog): binary32 exponent fields (0, 82,
    // 113: 2^-14, 143: 2^16, 255), shift distances, the hidden bit, binary16 patterns.
    exp_zero: Constant<Bits<8>>,
    exp_last_shifted: Constant<Bits<8>>,
    exp_min_normal: Constant<Bits<8>>,
    exp_overflow: Constant<Bits<8>>,
    exp_special: Constant<Bits<8>>,
    no_shift: Constant<Bits<5>>,
    all_sticky: Constant<Bits<5>>,
    hidden_bit: Constant<Bits<12>>,
    /// The 11 fraction bits of `high`, read 12 bits wide and masked (rather than cast).
    high_fraction: Constant<Bits<12>>,
    zero_mag: Constant<Bits<15>>,
    inf_mag: Constant<Bits<15>>,
    sign_bit: Constant<Bits<16>>,
    canonical_nan: Constant<Bits<16>>,
}

impl F32ToF16 {
    /// A converter.
    pub fn new() -> Self {
        Self {
            x: Default::default(),
            y: Default::default(),
            shift: ShiftRightSticky::new(),
            exp: Default::default(),
            high: Default::default(),
            shift_dist: Default::default(),
            base: Default::default(),
            quot: Default::default(),
            round: RoundNearestEven::new(),
            mag: Default::default(),
            exp_zero: Constant::new(0u64.into()),
            exp_last_shifted: Constant::new(82u64.into()),
            exp_min_normal: Constant::new(113u64.into()),
            exp_overflow: Constant::new(143u64.into()),
            exp_special: Constant::new(255u64.into()),
            no_shift: Constant::new(0u64.into()),
            all_sticky: Constant::new(31u64.into()),
            hidden_bit: Constant::new(0x800u64.into()),
            high_fraction: Constant::new(0x7FFu64.into()),
            zero_mag: Constant::new(0u64.into()),
            inf_mag: Constant::new(0x7C00u64.into()),
            sign_bit: Constant::new(0x8000u64.into()),
            canonical_nan: Constant::new(0x7E00u64.into()),
        }
    }
}

impl Default for F32ToF16 {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for F32ToF16 {
    #[hdl_gen]
    fn update(&mut self) {
        self.exp.next = self.x.val().get_bits::<8>(23);
        self.high.next = self.x.val().get_bits::<12>(12) & self.high_fraction.val();
        if self.exp.val() != self.exp_zero.val() {
            self.high.next = (self.x.val().get_bits::<12>(12) & self.high_fraction.val())
                | self.hidden_bit.val();
        }
        // Normal result (exp >= 113): no shift, exponent field exp - 112 = base + hidden bit.
        // Subnormal result: shift 113 - exp, saturated at 31 (all sticky).
        self.shift_dist.next = self.no_shift.val();
        if self.exp.val() < self.exp_min_normal.val() {
            self.shift_dist.next = self.all_sticky.val();
            if self.exp.val() >= self.exp_last_shifted.val() {
                self.shift_dist.next = bit_cast::<5, 8>(self.exp_min_normal.val() - self.exp.val());
            }
        }
        self.shift.x.next = self.high.val();
        self.shift.amount.next = self.shift_dist.val();
        // What follows reads the shifter's output, so it reads the port, not `exp` or `high`
        // (which feed the shifter): see `ShiftRightSticky` on UNOPTFLAT.
        self.base.next =
            bit_cast::<15, 8>(self.x.val().get_bits::<8>(23) - self.exp_min_normal.val()) << 10;
        if self.x.val().get_bits::<8>(23) < self.exp_min_normal.val() {
            self.base.next = self.zero_mag.val();
        }
        self.quot.next = bit_cast::<15, 12>(self.shift.shifted.val());
        self.round.kept.next = self.base.val() + (self.quot.val() >> 1);
        self.round.guard.next = self.quot.val().get_bit(0);
        self.round.sticky.next = self.shift.sticky.val() | self.x.val().get_bits::<12>(0).any();
        self.mag.next = self.round.rounded.val();
        // 65520 and up (exp >= 143) overflow; exp = 255 is infinity or NaN.
        if self.x.val().get_bits::<8>(23) >= self.exp_overflow.val() {
            self.mag.next = self.inf_mag.val();
        }
        self.y.next = bit_cast::<16, 15>(self.mag.val());
        if self.x.val().get_bit(31) {
            self.y.next = bit_cast::<16, 15>(self.mag.val()) | self.sign_bit.val();
        }
        if (self.x.val().get_bits::<8>(23) == self.exp_special.val())
            & self.x.val().get_bits::<23>(0).any()
        {
            self.y.next = self.canonical_nan.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{assert_each_matches, settle};
    use crate::verilog;
    use hgf_golden::fp::f32_to_f16;
    use hgf_golden::testfloat::{self, FpOp};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const SEED: u64 = 0x5eed_f16c;

    fn convert(uut: &mut F32ToF16, x: u32) -> u32 {
        uut.x.next = (x as u64).into();
        settle(uut);
        uut.y.val().to_u32()
    }

    fn golden(x: u32) -> u32 {
        f32_to_f16(f32::from_bits(x)).to_bits() as u32
    }

    fn new_uut() -> F32ToF16 {
        let mut uut = F32ToF16::new();
        uut.connect_all();
        uut
    }

    /// Asserts that the block converts every input as golden does; lists the first 20
    /// mismatches.
    fn assert_golden(
        what: &str,
        seed: Option<u64>,
        uut: &mut F32ToF16,
        inputs: impl IntoIterator<Item = u32>,
    ) {
        assert_each_matches(
            &format!("f32_to_f16 {what}"),
            seed,
            inputs,
            |&x| convert(uut, x),
            |&x| golden(x),
            |x, rtl, gold| format!("x={x:08x} rtl={rtl:04x} gold={gold:04x}"),
        );
    }

    #[test]
    fn synthesizes() {
        let uut = new_uut();
        let v = verilog::emit_named(&uut, "f32_to_f16").unwrap();
        verilog::check_all_tools("f32_to_f16", &v).unwrap();
    }

    #[test]
    fn directed_edge_cases() {
        let mut uut = new_uut();
        let cases: [(u32, u32); 22] = [
            (0x0000_0000, 0x0000), // +0
            (0x8000_0000, 0x8000), // -0
            (0x7F80_0000, 0x7C00), // +inf
            (0xFF80_0000, 0xFC00), // -inf
            (0x7FC0_0000, 0x7E00), // NaN
            (0xFF80_0001, 0x7E00), // negative signalling NaN: canonical
            (0x0000_0001, 0x0000), // binary32 subnormal: +0
            (0x807F_FFFF, 0x8000), // negative binary32 subnormal: -0
            (0x477F_E000, 0x7BFF), // 65504, largest finite
            (0x477F_EFFF, 0x7BFF), // just below 65520
            (0x477F_F000, 0x7C00), // 65520: rounds to infinity
            (0x7F7F_FFFF, 0x7C00), // largest binary32: infinity
            (0x3880_0000, 0x0400), // 2^-14, smallest normal
            (0x387F_C000, 0x03FF), // largest subnormal
            (0x387F_E000, 0x0400), // tie between largest subnormal and smallest normal: even
            (0x3380_0000, 0x0001), // 2^-24, smallest subnormal
            (0x3300_0000, 0x0000), // 2^-25: tie between 0 and 2^-24, even: 0
            (0x3300_0001, 0x0001), // just above 2^-25
            (0x33C0_0000, 0x0002), // 1.5 * 2^-24: tie, even: 2
            (0x3F80_1000, 0x3C00), // 1 + 2^-11: tie, even: 1
            (0x3F80_3000, 0x3C02), // 1 + 3 * 2^-11: tie, even: up
            (0xBF80_1001, 0xBC01), // -(1 + 2^-11 + tiny): away from the tie
        ];
        for (x, want) in cases {
            assert_eq!(convert(&mut uut, x), want, "x = {x:08x}");
            assert_eq!(golden(x), want, "golden, x = {x:08x}");
        }
        // Every exponent with the significands that round differently.
        let fracs = [
            0, 1, 0xFFF, 0x1000, 0x1001, 0x2000, 0x3000, 0x7F_EFFF, 0x7F_F000, 0x7F_FFFF,
        ];
        let all = (0..512u32).flat_map(|se| fracs.iter().map(move |&f| (se << 23) | f));
        assert_golden("every exponent", None, &mut uut, all);
    }

    #[test]
    fn random_inputs_match_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let mut uut = new_uut();
        let inputs: Vec<u32> = (0..100_000)
            .map(|_| {
                // Exponents around the binary16 range (subnormal, normal, overflow), or any.
                let exp = if rng.random_range(0..4u32) == 0 {
                    rng.random_range(0..256u32)
                } else {
                    rng.random_range(90..146u32)
                };
                let frac = match rng.random_range(0..4u32) {
                    // Low 13 bits at a tie, just below, or just above it.
                    0 => (rng.random::<u32>() & 0x7F_E000) | 0x1000,
                    1 => (rng.random::<u32>() & 0x7F_E000) | rng.random_range(0xFFE..0x1003),
                    _ => rng.random::<u32>() & 0x7F_FFFF,
                };
                (rng.random::<u32>() & 0x8000_0000) | (exp << 23) | frac
            })
            .collect();
        assert_golden("random", Some(SEED), &mut uut, inputs);
    }

    #[test]
    fn testfloat_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../golden/tests/vectors/f32_to_f16_rne_level1.txt.gz"
        );
        let vectors = testfloat::read_vectors(path, FpOp::F32ToF16).unwrap();
        let uut = std::cell::RefCell::new(new_uut());
        let report = testfloat::check(FpOp::F32ToF16, &vectors, |ops| {
            convert(&mut uut.borrow_mut(), ops[0])
        });
        assert!(report.cases > 0);
        assert_eq!(report.mismatches, 0, "{report}");
    }
}
