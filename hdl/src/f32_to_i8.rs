//! binary32 -> int8 conversion: round half to even, saturate.

use rust_hdl::prelude::*;

use crate::shift_sticky::ShiftRightSticky;

/// binary32 to int8 conversion, round half to even with saturation (`F32ToI8`).
///
/// **Function.** `y = clamp(RNE(x), -128, 127)` (docs/arithmetic.md §F5): round to the
/// nearest integer, ties to even (2.5 -> 2, 3.5 -> 4, -0.5 -> 0), then saturate; ±infinity
/// saturates (127, -128); any NaN gives 0. `y` is two's complement. No flags.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `x` | in | 32 | IEEE binary32 |
/// | `y` | out | 8 | int8, two's complement |
///
/// Method: magnitudes of 128 and more (exponent field >= 134, infinity included) saturate.
/// Below that the integer part is the 24-bit significand `m` shifted right by `150 - exp`
/// (at least 17), the guard bit the one below. So only the top 8 bits `m >> 16` (7 result
/// bits and a guard bit at `exp = 133`) go through the shifter, by `133 - exp` (clamped to
/// 31); the low 16 bits and every bit shifted out are sticky. The quotient (at most 127)
/// plus the ties-to-even increment is the rounded magnitude `r <= 128`. A negative result is
/// `-r` (128 gives -128 exactly); a positive `r = 128` (from 127.5 up) saturates to 127.
///
/// **Latency** 0 (combinational). **Throughput** one conversion per cycle.
/// **Resources** an 8-bit, 5-level right shifter with sticky ([`ShiftRightSticky`]), an 8-bit
/// incrementer and negator; about 100 LUT4 and 25 carry cells (yosys 0.23 `synth_ice40`, a
/// synthesis estimate); no FF, BRAM or DSP.
/// **Golden** `hgf_golden::fp::f32_to_i8`. **Limits** none: every binary32 bit pattern has its
/// §F5 result.
#[derive(LogicBlock)]
pub struct F32ToI8 {
    /// binary32 input.
    pub x: Signal<In, Bits<32>>,
    /// int8 output, two's complement.
    pub y: Signal<Out, Bits<8>>,
    // Right shift of the significand with sticky.
    shift: ShiftRightSticky<8, 5>,
    /// Biased exponent.
    exp: Signal<Local, Bits<8>>,
    /// Top 8 bits of the significand (hidden bit included).
    high: Signal<Local, Bits<8>>,
    /// Shift distance.
    shift_dist: Signal<Local, Bits<5>>,
    /// Shifted significand: integer part (bits 7..1) and guard bit (bit 0).
    quot: Signal<Local, Bits<8>>,
    /// Round up (ties to even).
    round_up: Signal<Local, Bit>,
    /// Rounded magnitude, at most 128.
    mag: Signal<Local, Bits<8>>,
    /// Magnitude of 128 or more before rounding.
    saturate: Signal<Local, Bit>,
    /// `round_up` as a word (0 or 1): added as a bit, it would meet `mag` at 1 bit.
    round_word: Signal<Local, Bits<8>>,
    // Typed constants, so that no 32-bit literal meets the 8- and 5-bit signals
    // (docs/lint-waivers.md).
    zero8: Constant<Bits<8>>,
    one8: Constant<Bits<8>>,
    /// `0x7F`: the low 7 bits of a byte; the largest int8.
    low7: Constant<Bits<8>>,
    /// `0x80`: the hidden bit of `high`; -128; the magnitude 128.
    top_bit: Constant<Bits<8>>,
    exp_119: Constant<Bits<8>>,
    exp_134: Constant<Bits<8>>,
    exp_255: Constant<Bits<8>>,
    /// 31: the shift that leaves only sticky bits.
    dist_max: Constant<Bits<5>>,
    /// 5 = 133 mod 32: `133 - exp` in 5 bits is `5 - exp[4:0]` (mod 32).
    dist_base: Constant<Bits<5>>,
}

impl F32ToI8 {
    /// A converter.
    pub fn new() -> Self {
        Self {
            x: Default::default(),
            y: Default::default(),
            shift: ShiftRightSticky::new(),
            exp: Default::default(),
            high: Default::default(),
            shift_dist: Default::default(),
            quot: Default::default(),
            round_up: Default::default(),
            mag: Default::default(),
            saturate: Default::default(),
            round_word: Default::default(),
            zero8: Constant::new(0u64.into()),
            one8: Constant::new(1u64.into()),
            low7: Constant::new(0x7Fu64.into()),
            top_bit: Constant::new(0x80u64.into()),
            exp_119: Constant::new(119u64.into()),
            exp_134: Constant::new(134u64.into()),
            exp_255: Constant::new(255u64.into()),
            dist_max: Constant::new(31u64.into()),
            dist_base: Constant::new(5u64.into()),
        }
    }
}

impl Default for F32ToI8 {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for F32ToI8 {
    #[hdl_gen]
    fn update(&mut self) {
        self.exp.next = self.x.val().get_bits::<8>(23);
        // Bits 22..16 of `x`, read as 8 bits and masked (a cast would widen 7 bits).
        self.high.next = self.x.val().get_bits::<8>(16) & self.low7.val();
        if self.exp.val() != self.zero8.val() {
            self.high.next =
                (self.x.val().get_bits::<8>(16) & self.low7.val()) | self.top_bit.val();
        }
        // Value = m * 2^(exp - 150): the integer part is high >> (134 - exp), the guard bit
        // one place lower. Below 2^-8 (exp < 119) everything is sticky.
        self.shift_dist.next = self.dist_max.val();
        if self.exp.val() >= self.exp_119.val() {
            // 133 - exp, computed in the 5 bits it is kept to (the same value mod 32).
            self.shift_dist.next = self.dist_base.val() - self.exp.val().get_bits::<5>(0);
        }
        self.shift.x.next = self.high.val();
        self.shift.amount.next = self.shift_dist.val();
        // For exp <= 133 the result is at most 8 bits. What follows reads the shifter's
        // output, so it reads the port, not `exp` or `high`: see `ShiftRightSticky` on
        // UNOPTFLAT.
        self.quot.next = self.shift.shifted.val();
        self.round_up.next = self.quot.val().get_bit(0)
            & (self.shift.sticky.val()
                | self.x.val().get_bits::<16>(0).any()
                | self.quot.val().get_bit(1));
        self.round_word.next = self.zero8.val();
        if self.round_up.val() {
            self.round_word.next = self.one8.val();
        }
        self.mag.next = (self.quot.val() >> 1) + self.round_word.val();
        self.saturate.next = self.x.val().get_bits::<8>(23) >= self.exp_134.val();
        if self.x.val().get_bit(31) {
            // -mag; mag = 128 gives 0x80 = -128.
            self.y.next = self.zero8.val() - self.mag.val();
            if self.saturate.val() {
                self.y.next = self.top_bit.val();
            }
        } else {
            self.y.next = self.mag.val();
            if (self.mag.val() == self.top_bit.val()) | self.saturate.val() {
                self.y.next = self.low7.val();
            }
        }
        if (self.x.val().get_bits::<8>(23) == self.exp_255.val())
            & self.x.val().get_bits::<23>(0).any()
        {
            self.y.next = self.zero8.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{assert_each_matches, settle};
    use crate::verilog;
    use hgf_golden::fp::f32_to_i8;
    use hgf_golden::testfloat::{self, FpOp};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const SEED: u64 = 0x5eed_0018;

    fn convert(uut: &mut F32ToI8, x: u32) -> u32 {
        uut.x.next = (x as u64).into();
        settle(uut);
        uut.y.val().to_u32()
    }

    /// The golden int8 in the low 8 bits, as the TestFloat check holds it.
    fn golden(x: u32) -> u32 {
        f32_to_i8(f32::from_bits(x)) as u8 as u32
    }

    fn new_uut() -> F32ToI8 {
        let mut uut = F32ToI8::new();
        uut.connect_all();
        uut
    }

    /// Asserts that the block converts every input as golden does; lists the first 20
    /// mismatches.
    fn assert_golden(
        what: &str,
        seed: Option<u64>,
        uut: &mut F32ToI8,
        inputs: impl IntoIterator<Item = u32>,
    ) {
        assert_each_matches(
            &format!("f32_to_i8 {what}"),
            seed,
            inputs,
            |&x| convert(uut, x),
            |&x| golden(x),
            |x, rtl, gold| {
                format!(
                    "x={x:08x} ({}) rtl={rtl:02x} gold={gold:02x}",
                    f32::from_bits(*x)
                )
            },
        );
    }

    #[test]
    fn synthesizes() {
        let uut = new_uut();
        let v = verilog::emit_named(&uut, "f32_to_i8").unwrap();
        verilog::check_all_tools("f32_to_i8", &v).unwrap();
    }

    #[test]
    fn directed_edge_cases() {
        let mut uut = new_uut();
        // §F5's examples, then zeros, infinities, NaNs, saturation and the smallest values.
        let cases: [(f32, i8); 22] = [
            (2.5, 2),
            (3.5, 4),
            (-0.5, 0),
            (126.5, 126),
            (127.5, 127),
            (-2.5, -2),
            (-127.5, -128),
            (-128.0, -128),
            (-128.5, -128),
            (-129.0, -128),
            (127.49999, 127),
            (128.0, 127),
            (0.0, 0),
            (-0.0, 0),
            (0.5, 0),
            (0.50000006, 1),
            (1.5, 2),
            (f32::INFINITY, 127),
            (f32::NEG_INFINITY, -128),
            (1e30, 127),
            (-1e30, -128),
            (f32::MIN_POSITIVE, 0),
        ];
        for (x, want) in cases {
            assert_eq!(convert(&mut uut, x.to_bits()), want as u8 as u32, "x = {x}");
            assert_eq!(golden(x.to_bits()), want as u8 as u32, "golden, x = {x}");
        }
        for nan in [0x7FC0_0000u32, 0x7F80_0001, 0xFFFF_FFFF, 0xFFC0_0000] {
            assert_eq!(convert(&mut uut, nan), 0, "NaN {nan:08x}");
        }
        // Every exponent with significands at, below and above the rounding boundaries of
        // the exponents that matter.
        let fracs = [
            0, 1, 0x3F_FFFF, 0x40_0000, 0x40_0001, 0x7F_FFFF, 0x20_0000, 0x60_0000,
        ];
        let all = (0..512u32).flat_map(|se| fracs.iter().map(move |&f| (se << 23) | f));
        assert_golden("every exponent", None, &mut uut, all);
        // Every multiple of 1/4 in [-130, 130]: all ties and quarter points.
        let quarters = (-520..=520).map(|q| (q as f32 / 4.0).to_bits());
        assert_golden("quarters", None, &mut uut, quarters);
    }

    #[test]
    fn random_inputs_match_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let mut uut = new_uut();
        let inputs: Vec<u32> = (0..100_000)
            .map(|_| {
                // Exponents of magnitudes 2^-3 ..= 2^8 mostly (the rounding and saturation
                // range), or any.
                let exp = if rng.random_range(0..4u32) == 0 {
                    rng.random_range(0..256u32)
                } else {
                    rng.random_range(124..136u32)
                };
                let frac = rng.random::<u32>() & 0x7F_FFFF;
                (rng.random::<u32>() & 0x8000_0000) | (exp << 23) | frac
            })
            .collect();
        assert_golden("random", Some(SEED), &mut uut, inputs);
    }

    #[test]
    fn testfloat_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../golden/tests/vectors/f32_to_i32_rne_level1.txt.gz"
        );
        let vectors = testfloat::read_vectors(path, FpOp::F32ToI8).unwrap();
        let uut = std::cell::RefCell::new(new_uut());
        let report = testfloat::check(FpOp::F32ToI8, &vectors, |ops| {
            convert(&mut uut.borrow_mut(), ops[0])
        });
        assert!(report.cases > 0);
        assert_eq!(report.mismatches, 0, "{report}");
    }
}
