//! binary16 -> binary32 conversion.

use rust_hdl::prelude::*;

use crate::lzc::Lzc;

/// binary16 to binary32 conversion (`F16ToF32`).
///
/// **Function.** `y = x` converted exactly (docs/arithmetic.md §F2): every binary16 value,
/// subnormals included, is a binary32 value, so nothing rounds. Normals re-bias the exponent
/// (+112) and widen the fraction; a subnormal `m * 2^-24` is normalised (its leading one
/// becomes the hidden bit, the exponent is `112 - leading_zeros(m)`); ±0 and ±infinity keep
/// their sign; any NaN gives the canonical NaN `0x7FC00000` (§F1: the payload is not kept).
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `x` | in | 16 | IEEE binary16 |
/// | `y` | out | 32 | IEEE binary32, the same value |
///
/// **Latency** 0 (combinational). **Throughput** one conversion per cycle.
/// **Resources** a 10-bit leading-zero counter ([`Lzc`]) and a 10-bit left shifter; about 80
/// LUT4 (yosys 0.23 `synth_ice40`, a synthesis estimate); no FF, BRAM or DSP.
/// **Golden** `hgf_golden::fp::f16_to_f32`. **Limits** none: all 65,536 inputs are exact.
#[derive(LogicBlock)]
pub struct F16ToF32 {
    /// binary16 input.
    pub x: Signal<In, Bits<16>>,
    /// binary32 output.
    pub y: Signal<Out, Bits<32>>,
    // Leading zeros of a subnormal's 10-bit significand.
    lzc: Lzc<10, 4>,
    /// Biased binary32 exponent of a normal input.
    exp_normal: Signal<Local, Bits<8>>,
    /// Biased binary32 exponent of a subnormal input.
    exp_sub: Signal<Local, Bits<8>>,
    /// Fraction of a subnormal input once its leading one is shifted out.
    frac_sub: Signal<Local, Bits<10>>,
    /// Biased binary32 exponent of the result.
    exp: Signal<Local, Bits<8>>,
    /// Top 10 bits of the binary32 fraction (the low 13 are zero).
    frac: Signal<Local, Bits<10>>,
    /// `y` without its sign.
    /// The result without its sign (bit 31 zero).
    mag: Signal<Local, Bits<32>>,
    // Typed constants, so that no 32-bit literal meets the narrow signals
    // (docs/lint-waivers.md).
    /// `0x1F`: the exponent field in the low bits of a byte.
    exp_field: Constant<Bits<8>>,
    /// 112 = 127 - 15: the exponent bias difference.
    bias_diff: Constant<Bits<8>>,
    zero8: Constant<Bits<8>>,
    exp_max: Constant<Bits<8>>,
    field_zero: Constant<Bits<5>>,
    field_max: Constant<Bits<5>>,
    count_one: Constant<Bits<4>>,
    sign_bit: Constant<Bits<32>>,
}

impl F16ToF32 {
    /// A converter.
    pub fn new() -> Self {
        Self {
            x: Default::default(),
            y: Default::default(),
            lzc: Lzc::new(),
            exp_normal: Default::default(),
            exp_sub: Default::default(),
            frac_sub: Default::default(),
            exp: Default::default(),
            frac: Default::default(),
            mag: Default::default(),
            exp_field: Constant::new(0x1Fu64.into()),
            bias_diff: Constant::new(112u64.into()),
            zero8: Constant::new(0u64.into()),
            exp_max: Constant::new(255u64.into()),
            field_zero: Constant::new(0u64.into()),
            field_max: Constant::new(31u64.into()),
            count_one: Constant::new(1u64.into()),
            sign_bit: Constant::new(0x8000_0000u64.into()),
        }
    }
}

impl Default for F16ToF32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for F16ToF32 {
    #[hdl_gen]
    fn update(&mut self) {
        // The exponent field (bits 14..10) read as a byte: bits 15..8, shifted and masked (a
        // cast would widen 5 bits).
        self.exp_normal.next =
            ((self.x.val().get_bits::<8>(8) >> 2) & self.exp_field.val()) + self.bias_diff.val();
        // Subnormal m * 2^-24 with its leading one at bit 9 - lz: 1.f * 2^(-15 - lz).
        self.lzc.x.next = self.x.val().get_bits::<10>(0);
        // The count's cast to 8 bits is one of the width mismatches left here: rust-hdl has
        // no zero extension but a mask of the narrower value (docs/lint-waivers.md).
        self.exp_sub.next = self.bias_diff.val() - bit_cast::<8, 4>(self.lzc.count.val());
        self.frac_sub.next =
            self.x.val().get_bits::<10>(0) << (self.lzc.count.val() + self.count_one.val());
        self.exp.next = self.exp_normal.val();
        self.frac.next = self.x.val().get_bits::<10>(0);
        if self.x.val().get_bits::<5>(10) == self.field_zero.val() {
            self.exp.next = self.zero8.val();
            if self.x.val().get_bits::<10>(0).any() {
                self.exp.next = self.exp_sub.val();
                self.frac.next = self.frac_sub.val();
            }
        }
        if self.x.val().get_bits::<5>(10) == self.field_max.val() {
            self.exp.next = self.exp_max.val();
        }
        // The casts of the fields to 32 bits are width mismatches left here (as above).
        self.mag.next =
            (bit_cast::<32, 8>(self.exp.val()) << 23) | (bit_cast::<32, 10>(self.frac.val()) << 13);
        self.y.next = self.mag.val();
        if self.x.val().get_bit(15) {
            self.y.next = self.mag.val() | self.sign_bit.val();
        }
        if (self.x.val().get_bits::<5>(10) == self.field_max.val())
            & self.x.val().get_bits::<10>(0).any()
        {
            self.y.next = 0x7FC0_0000.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{assert_each_matches, settle};
    use crate::verilog;
    use half::f16;
    use hgf_golden::fp::f16_to_f32;
    use hgf_golden::testfloat::{self, FpOp};

    fn convert(uut: &mut F16ToF32, x: u16) -> u32 {
        uut.x.next = (x as u64).into();
        settle(uut);
        uut.y.val().to_u32()
    }

    fn golden(x: u16) -> u32 {
        f16_to_f32(f16::from_bits(x)).to_bits()
    }

    fn new_uut() -> F16ToF32 {
        let mut uut = F16ToF32::new();
        uut.connect_all();
        uut
    }

    #[test]
    fn synthesizes() {
        let uut = new_uut();
        let v = verilog::emit_named(&uut, "f16_to_f32").unwrap();
        verilog::check_all_tools("f16_to_f32", &v).unwrap();
    }

    #[test]
    fn directed_edge_cases() {
        let mut uut = new_uut();
        let cases: [(u16, u32); 12] = [
            (0x0000, 0x0000_0000), // +0
            (0x8000, 0x8000_0000), // -0
            (0x7C00, 0x7F80_0000), // +inf
            (0xFC00, 0xFF80_0000), // -inf
            (0x7E00, 0x7FC0_0000), // quiet NaN
            (0x7C01, 0x7FC0_0000), // signalling NaN: canonical, payload dropped
            (0xFFFF, 0x7FC0_0000), // negative NaN, full payload: canonical
            (0x0001, 0x3380_0000), // smallest subnormal, 2^-24
            (0x03FF, 0x387F_C000), // largest subnormal
            (0x0400, 0x3880_0000), // smallest normal, 2^-14
            (0x7BFF, 0x477F_E000), // largest finite, 65504
            (0xBC00, 0xBF80_0000), // -1
        ];
        for (x, want) in cases {
            assert_eq!(convert(&mut uut, x), want, "x = {x:04x}");
            assert_eq!(golden(x), want, "golden, x = {x:04x}");
        }
    }

    #[test]
    fn every_input_matches_golden() {
        let mut uut = new_uut();
        assert_each_matches(
            "f16_to_f32 every input",
            None,
            0..=u16::MAX,
            |&x| convert(&mut uut, x),
            |&x| golden(x),
            |x, rtl, gold| format!("x={x:04x} rtl={rtl:08x} gold={gold:08x}"),
        );
    }

    #[test]
    fn testfloat_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../golden/tests/vectors/f16_to_f32_rne_level1.txt.gz"
        );
        let vectors = testfloat::read_vectors(path, FpOp::F16ToF32).unwrap();
        let uut = std::cell::RefCell::new(new_uut());
        let report = testfloat::check(FpOp::F16ToF32, &vectors, |ops| {
            convert(&mut uut.borrow_mut(), ops[0] as u16)
        });
        assert!(report.cases > 0);
        assert_eq!(report.mismatches, 0, "{report}");
    }
}
