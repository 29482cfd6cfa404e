//! Exact binary16 x binary16 -> binary32 multiplier.

use rust_hdl::prelude::*;

use crate::resources::Resources;

/// Exact binary16 x binary16 -> binary32 product (`Fp16MulExact`).
///
/// **Function.** `product = a * b` exactly, as binary32 (docs/arithmetic.md §F4): the two
/// 11-bit significands multiply to at most 22 bits and the magnitude lies in
/// 2^-48 ..= 65504^2, inside the binary32 normal range, so no rounding, underflow or overflow
/// can happen and the block has no rounding logic. Subnormal inputs are exact: the raw
/// significands (hidden bit 0, exponent 1) are multiplied and the product is normalised once.
/// Special values follow §F1: the sign is always `sign(a) xor sign(b)` (signed zeros
/// included), `inf * x` is ±inf for non-zero `x`, `0 * ±inf` and any NaN input give the
/// canonical NaN `0x7FC00000` (NaN payloads are not propagated). No flags.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `enable` | in | 1 | high: the pipeline advances on this edge; low: every register holds (the core stalls) |
/// | `a`, `b` | in | 16 | IEEE binary16 operands, sampled on enabled edges |
/// | `product` | out | 32 | IEEE binary32 `a * b`, from a register |
///
/// Pipeline (one register after each step): 1. decode (significands with hidden bit,
/// exponent sum, sign, special class); 2. the 16x16 significand multiply (one `SB_MAC16` /
/// `MULT18X18D`); 3. normalise (a logarithmic left shift of the 22-bit product by 16, 8, 4,
/// 2, 1 counts its leading zeros), pack, special-value select.
///
/// **Latency** [`Fp16MulExact::LATENCY`] = 3 enabled cycles: operands presented in the cycle
/// ending with enabled edge `n` give `product` after enabled edge `n + 2`. **Throughput** one
/// product per enabled cycle; the pipeline holds while `enable` is low.
/// **Resources** one 16x16 multiplier (11x11 used), 0 BRAM, 104 register bits. Synthesis
/// estimate of the block alone (yosys 0.23, at the time of writing): iCE40 `synth_ice40 -dsp`
/// 159 SB_LUT4, 10 SB_CARRY, 70 FF, 1 SB_MAC16 (which absorbs the operand registers); ECP5
/// `synth_ecp5` 270 LUT4, 93 PFUMX, 52 L6MUX21, 7 CCU2C, 92 FF, 1 MULT18X18D.
/// **Golden** `hgf_golden::fp::mul_f16_exact`. **Limits** none: every input bit pattern has
/// its §F4 result (NaN inputs give the canonical NaN, not their payload).
#[derive(LogicBlock)]
pub struct Fp16MulExact {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// High: every pipeline register loads on this edge. Low: every register holds.
    pub enable: Signal<In, Bit>,
    /// binary16 operand.
    pub a: Signal<In, Bits<16>>,
    /// binary16 operand.
    pub b: Signal<In, Bits<16>>,
    /// binary32 exact product, [`Fp16MulExact::LATENCY`] enabled cycles after `a`, `b`.
    pub product: Signal<Out, Bits<32>>,
    // Stage 1 (decode) combinational signals.
    a_exp: Signal<Local, Bits<5>>,
    b_exp: Signal<Local, Bits<5>>,
    a_eff: Signal<Local, Bits<6>>,
    b_eff: Signal<Local, Bits<6>>,
    a_sig: Signal<Local, Bits<16>>,
    b_sig: Signal<Local, Bits<16>>,
    a_zero: Signal<Local, Bit>,
    b_zero: Signal<Local, Bit>,
    a_inf: Signal<Local, Bit>,
    b_inf: Signal<Local, Bit>,
    a_nan: Signal<Local, Bit>,
    b_nan: Signal<Local, Bit>,
    kind: Signal<Local, Bits<2>>,
    // Stage 2 (multiply) combinational signal.
    sig_product: Signal<Local, Bits<22>>,
    // Stage 3 (normalise, pack) combinational signals.
    norm16: Signal<Local, Bits<22>>,
    norm8: Signal<Local, Bits<22>>,
    norm4: Signal<Local, Bits<22>>,
    norm2: Signal<Local, Bits<22>>,
    norm1: Signal<Local, Bits<22>>,
    lz: Signal<Local, Bits<5>>,
    exp8: Signal<Local, Bits<8>>,
    frac: Signal<Local, Bits<23>>,
    sign32: Signal<Local, Bits<32>>,
    exp32: Signal<Local, Bits<32>>,
    frac32: Signal<Local, Bits<32>>,
    // Stage 1 registers: significands (hidden bit included, zero-extended to the
    // multiplier's 16 bits), exponent sum, sign, class (0 finite non-zero, 1 zero, 2 inf,
    // 3 NaN).
    s1_a_sig: DFF<Bits<16>>,
    s1_b_sig: DFF<Bits<16>>,
    s1_exp_sum: DFF<Bits<6>>,
    s1_sign: DFF<Bit>,
    s1_kind: DFF<Bits<2>>,
    // Stage 2 registers.
    s2_product: DFF<Bits<22>>,
    s2_exp_sum: DFF<Bits<6>>,
    s2_sign: DFF<Bit>,
    s2_kind: DFF<Bits<2>>,
    // Stage 3 register: the result.
    s3_result: DFF<Bits<32>>,
    // Typed constants, so that no 32-bit literal meets the narrow signals
    // (docs/lint-waivers.md).
    /// `0x3FF`: the significand field of a 16-bit word.
    sig_field: Constant<Bits<16>>,
    /// `0x400`: the hidden bit.
    hidden: Constant<Bits<16>>,
    /// `0x1F`: the exponent field, in the low bits of 6.
    exp_field: Constant<Bits<6>>,
    exp_zero: Constant<Bits<5>>,
    eff_one: Constant<Bits<6>>,
    /// The values of `kind`: normal, zero, infinity, NaN.
    kinds: [Constant<Bits<2>>; 4],
    lz_zero: Constant<Bits<5>>,
    /// `16, 8, 4, 2, 1`: the leading-zero bits set by the normalising steps.
    lz_step: [Constant<Bits<5>>; 5],
    /// 98: the exponent offset of a normalised product (`exp8 = exp_sum + 98 - lz`).
    exp_offset: Constant<Bits<8>>,
    sign_zero: Constant<Bits<32>>,
    sign_one: Constant<Bits<32>>,
}

impl Fp16MulExact {
    /// Enabled clock edges from operands to product.
    pub const LATENCY: usize = 3;

    /// What [`Fp16MulExact::new`] builds: the 11x11 significand product on one 16x16
    /// multiplier (`SB_MAC16` on iCE40, `MULT18X18D` on ECP5); no memory.
    pub fn resources() -> Resources {
        Resources::multipliers(1)
    }

    /// A multiplier with every register at zero.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            enable: Default::default(),
            a: Default::default(),
            b: Default::default(),
            product: Default::default(),
            a_exp: Default::default(),
            b_exp: Default::default(),
            a_eff: Default::default(),
            b_eff: Default::default(),
            a_sig: Default::default(),
            b_sig: Default::default(),
            a_zero: Default::default(),
            b_zero: Default::default(),
            a_inf: Default::default(),
            b_inf: Default::default(),
            a_nan: Default::default(),
            b_nan: Default::default(),
            kind: Default::default(),
            sig_product: Default::default(),
            norm16: Default::default(),
            norm8: Default::default(),
            norm4: Default::default(),
            norm2: Default::default(),
            norm1: Default::default(),
            lz: Default::default(),
            exp8: Default::default(),
            frac: Default::default(),
            sign32: Default::default(),
            exp32: Default::default(),
            frac32: Default::default(),
            s1_a_sig: Default::default(),
            s1_b_sig: Default::default(),
            s1_exp_sum: Default::default(),
            s1_sign: Default::default(),
            s1_kind: Default::default(),
            s2_product: Default::default(),
            s2_exp_sum: Default::default(),
            s2_sign: Default::default(),
            s2_kind: Default::default(),
            s3_result: Default::default(),
            sig_field: Constant::new(0x3FFu64.into()),
            hidden: Constant::new(0x400u64.into()),
            exp_field: Constant::new(0x1Fu64.into()),
            exp_zero: Constant::new(0u64.into()),
            eff_one: Constant::new(1u64.into()),
            kinds: std::array::from_fn(|k| Constant::new((k as u64).into())),
            lz_zero: Constant::new(0u64.into()),
            lz_step: std::array::from_fn(|k| Constant::new((16u64 >> k).into())),
            exp_offset: Constant::new(98u64.into()),
            sign_zero: Constant::new(0u64.into()),
            sign_one: Constant::new((1u64 << 31).into()),
        }
    }
}

impl Default for Fp16MulExact {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp16MulExact {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, s1_a_sig, s1_b_sig, s1_exp_sum, s1_sign, s1_kind, s2_product, s2_exp_sum,
            s2_sign, s2_kind, s3_result
        );

        // ---- Stage 1: decode. A subnormal (exponent field 0) has no hidden bit and the
        // exponent of the smallest normal, so its value is sig * 2^(eff - 25) like a normal's.
        self.a_exp.next = self.a.val().get_bits::<5>(10);
        self.b_exp.next = self.b.val().get_bits::<5>(10);
        // The fields read at the width they go to and masked (a cast would widen them).
        self.a_sig.next = self.a.val() & self.sig_field.val();
        self.b_sig.next = self.b.val() & self.sig_field.val();
        self.a_eff.next = self.a.val().get_bits::<6>(10) & self.exp_field.val();
        self.b_eff.next = self.b.val().get_bits::<6>(10) & self.exp_field.val();
        if self.a_exp.val() == self.exp_zero.val() {
            self.a_eff.next = self.eff_one.val();
        } else {
            self.a_sig.next = self.a_sig.val() | self.hidden.val();
        }
        if self.b_exp.val() == self.exp_zero.val() {
            self.b_eff.next = self.eff_one.val();
        } else {
            self.b_sig.next = self.b_sig.val() | self.hidden.val();
        }
        self.a_zero.next =
            (self.a_exp.val() == self.exp_zero.val()) && !self.a.val().get_bits::<10>(0).any();
        self.b_zero.next =
            (self.b_exp.val() == self.exp_zero.val()) && !self.b.val().get_bits::<10>(0).any();
        self.a_inf.next = self.a_exp.val().all() && !self.a.val().get_bits::<10>(0).any();
        self.b_inf.next = self.b_exp.val().all() && !self.b.val().get_bits::<10>(0).any();
        self.a_nan.next = self.a_exp.val().all() && self.a.val().get_bits::<10>(0).any();
        self.b_nan.next = self.b_exp.val().all() && self.b.val().get_bits::<10>(0).any();
        self.kind.next = self.kinds[0].val();
        if self.a_zero.val() || self.b_zero.val() {
            self.kind.next = self.kinds[1].val();
        }
        if self.a_inf.val() || self.b_inf.val() {
            self.kind.next = self.kinds[2].val();
        }
        if self.a_nan.val()
            || self.b_nan.val()
            || (self.a_inf.val() && self.b_zero.val())
            || (self.a_zero.val() && self.b_inf.val())
        {
            self.kind.next = self.kinds[3].val();
        }
        if self.enable.val() {
            self.s1_a_sig.d.next = self.a_sig.val();
            self.s1_b_sig.d.next = self.b_sig.val();
            self.s1_exp_sum.d.next = self.a_eff.val() + self.b_eff.val();
            self.s1_sign.d.next = self.a.val().get_bit(15) ^ self.b.val().get_bit(15);
            self.s1_kind.d.next = self.kind.val();
        }

        // ---- Stage 2: the significand product, below 2^22 (11 x 11 bits).
        self.sig_product.next = bit_cast::<22, 32>(self.s1_a_sig.q.val() * self.s1_b_sig.q.val());
        if self.enable.val() {
            self.s2_product.d.next = self.sig_product.val();
            self.s2_exp_sum.d.next = self.s1_exp_sum.q.val();
            self.s2_sign.d.next = self.s1_sign.q.val();
            self.s2_kind.d.next = self.s1_kind.q.val();
        }

        // ---- Stage 3: normalise and pack. A logarithmic normaliser shifts the product P
        // left by 16, 8, 4, 2, 1 wherever that many leading bits are zero, which moves its
        // leading one to bit 21 and counts the `lz` leading zeros. Then
        // a * b = P * 2^(exp_sum - 50) = 1.f * 2^(21 - lz + exp_sum - 50): biased exponent
        // exp_sum + 98 - lz (79 ..= 158, always normal), fraction = the 21 bits below the
        // leading one, then two zeros.
        self.lz.next = self.lz_zero.val();
        self.norm16.next = self.s2_product.q.val();
        if !self.s2_product.q.val().get_bits::<16>(6).any() {
            self.norm16.next = self.s2_product.q.val() << 16;
            self.lz.next = self.lz.val() | self.lz_step[0].val();
        }
        self.norm8.next = self.norm16.val();
        if !self.norm16.val().get_bits::<8>(14).any() {
            self.norm8.next = self.norm16.val() << 8;
            self.lz.next = self.lz.val() | self.lz_step[1].val();
        }
        self.norm4.next = self.norm8.val();
        if !self.norm8.val().get_bits::<4>(18).any() {
            self.norm4.next = self.norm8.val() << 4;
            self.lz.next = self.lz.val() | self.lz_step[2].val();
        }
        self.norm2.next = self.norm4.val();
        if !self.norm4.val().get_bits::<2>(20).any() {
            self.norm2.next = self.norm4.val() << 2;
            self.lz.next = self.lz.val() | self.lz_step[3].val();
        }
        self.norm1.next = self.norm2.val();
        if !self.norm2.val().get_bit(21) {
            self.norm1.next = self.norm2.val() << 1;
            self.lz.next = self.lz.val() | self.lz_step[4].val();
        }
        // The leading one (bit 21) falls off the 23-bit fraction.
        self.frac.next = bit_cast::<23, 22>(self.norm1.val()) << 2;
        self.exp8.next = (bit_cast::<8, 6>(self.s2_exp_sum.q.val()) + self.exp_offset.val())
            - bit_cast::<8, 5>(self.lz.val());
        self.sign32.next = self.sign_zero.val();
        if self.s2_sign.q.val() {
            self.sign32.next = self.sign_one.val();
        }
        self.exp32.next = bit_cast::<32, 8>(self.exp8.val()) << 23;
        self.frac32.next = bit_cast::<32, 23>(self.frac.val());
        if self.enable.val() {
            match self.s2_kind.q.val().index() {
                0 => {
                    self.s3_result.d.next =
                        (self.sign32.val() | self.exp32.val()) | self.frac32.val();
                }
                1 => {
                    self.s3_result.d.next = self.sign32.val();
                }
                2 => {
                    self.s3_result.d.next = self.sign32.val() | 0x7F80_0000;
                }
                _ => {
                    self.s3_result.d.next = 0x7FC0_0000.into();
                }
            }
        }
        self.product.next = self.s3_result.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{assert_all_match, stream_pipelined, Pipelined};
    use crate::verilog::{check_all_tools, emit_named};
    use half::f16;
    use hgf_golden::fp;
    use hgf_golden::testfloat::{self, FpOp};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashMap;

    const SEED: u64 = 0x5eed_f16e;

    fn golden(a: u16, b: u16) -> u32 {
        fp::mul_f16_exact(f16::from_bits(a), f16::from_bits(b)).to_bits()
    }

    fn new_uut() -> Fp16MulExact {
        let mut uut = Fp16MulExact::new();
        uut.connect_all();
        uut
    }

    impl Pipelined for Fp16MulExact {
        type Input = (u16, u16);
        type Output = u32;
        fn latency() -> usize {
            Self::LATENCY
        }
        fn clock(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
        fn apply(&mut self, enable: bool, (a, b): (u16, u16)) {
            self.enable.next = enable;
            self.a.next = a.to_bits();
            self.b.next = b.to_bits();
        }
        fn output(&self) -> u32 {
            self.product.val().to_u32()
        }
    }

    /// Asserts that every product equals the golden one; lists the first 20 mismatches.
    fn assert_golden(what: &str, pairs: &[(u16, u16)], products: &[u32]) {
        assert_all_match(
            &format!("fp16_mul_exact {what}"),
            Some(SEED),
            pairs,
            products,
            |&(a, b)| golden(a, b),
            |(a, b), p, g| format!("a={a:04x} b={b:04x} rtl={p:08x} gold={g:08x}"),
        );
    }

    /// Edge operands (each also negated): zeros, subnormal and normal bounds, values around
    /// 1 and 2, the largest finite value, infinity, NaNs with several payloads.
    const EDGES: [u16; 26] = [
        0x0000, // +0
        0x0001, // smallest subnormal, 2^-24
        0x0002, // 2^-23
        0x0003, // 3 * 2^-24
        0x0155, // subnormal, alternating bits
        0x0200, // 2^-15
        0x03FF, // largest subnormal
        0x0400, // smallest normal, 2^-14
        0x0401, // 2^-14 + 2^-24
        0x07FF, // 2^-13 - 2^-24
        0x1400, // 2^-10
        0x3555, // ~1/3
        0x3BFF, // 1 - 2^-11
        0x3C00, // 1.0
        0x3C01, // 1 + 2^-10
        0x3E00, // 1.5
        0x3FFF, // 2 - 2^-10
        0x4000, // 2.0
        0x57FF, // 128 - 2^-4
        0x7BFE, // 65472
        0x7BFF, // 65504, largest finite
        0x7C00, // infinity
        0x7C01, // signalling NaN, payload 1
        0x7D55, // signalling NaN
        0x7E00, // canonical quiet NaN
        0x7FFF, // quiet NaN, full payload
    ];

    fn edge_values() -> Vec<u16> {
        EDGES.iter().flat_map(|&v| [v, v ^ 0x8000]).collect()
    }

    /// A binary16 pattern biased towards special and extreme exponents, subnormals and
    /// significands with long runs of ones or zeros.
    fn interesting(rng: &mut ChaCha8Rng) -> u16 {
        let exp: u16 = match rng.random_range(0..10u32) {
            0 | 1 => 0,
            2 => 31,
            3 => rng.random_range(1..3),
            4 => rng.random_range(28..31),
            5 | 6 => rng.random_range(12..19),
            _ => rng.random_range(0..32),
        };
        let frac: u16 = match rng.random_range(0..6u32) {
            0 => 0,
            1 => 0x3FF,
            2 => 1 << rng.random_range(0..10u32),
            3 => 0x3FF >> rng.random_range(0..10u32),
            _ => rng.random_range(0..0x400),
        };
        (u16::from(rng.random::<bool>()) << 15) | (exp << 10) | frac
    }

    #[test]
    fn synthesizes() {
        let uut = new_uut();
        let v = emit_named(&uut, "fp16_mul_exact").unwrap();
        assert!(v.contains("module fp16_mul_exact("));
        check_all_tools("fp16_mul_exact", &v).unwrap();
        // Exactly one multiplier (16x16, rust-hdl's only multiply).
        assert_eq!(v.matches(" * ").count(), 1, "{v}");
    }

    /// Every pair of the edge set, one pair per cycle, with stalls.
    #[test]
    fn edge_pairs_with_stalls_match_golden() {
        let values = edge_values();
        let mut pairs = Vec::new();
        for &a in &values {
            for &b in &values {
                pairs.push((a, b));
            }
        }
        // A few named cases on top: exact products at both ends of the range.
        pairs.extend([
            (0x0001, 0x0001), // 2^-48, the smallest product
            (0x7BFF, 0xFBFF), // -65504^2, the largest magnitude
            (0x0001, 0x7BFF), // smallest subnormal times the largest finite
            (0x03FF, 0x03FF), // two largest subnormals
            (0x8000, 0x8000), // -0 * -0 = +0
            (0x8000, 0x3C00), // -0 * 1 = -0
            (0x0000, 0xFC00), // 0 * -inf = NaN
            (0xFC00, 0x8001), // -inf * -tiny = +inf
        ]);
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let mut junk_rng = ChaCha8Rng::seed_from_u64(SEED + 1);
        let mut uut = new_uut();
        let products = stream_pipelined(
            &mut uut,
            &pairs,
            || rng.random_range(0..4u32) != 0,
            || (junk_rng.random(), junk_rng.random()),
        );
        assert_golden("edge pairs", &pairs, &products);
    }

    /// 50,000 seeded random pairs biased to interesting exponents, with `enable` low on a
    /// random quarter of the cycles.
    #[test]
    fn random_stream_with_stalls_matches_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 2);
        let pairs: Vec<(u16, u16)> = (0..50_000)
            .map(|_| match rng.random_range(0..4u32) {
                0 => (rng.random(), rng.random()),
                _ => (interesting(&mut rng), interesting(&mut rng)),
            })
            .collect();
        let mut en_rng = ChaCha8Rng::seed_from_u64(SEED + 3);
        let mut junk_rng = ChaCha8Rng::seed_from_u64(SEED + 4);
        let mut uut = new_uut();
        let products = stream_pipelined(
            &mut uut,
            &pairs,
            || en_rng.random_range(0..4u32) != 0,
            || (junk_rng.random(), junk_rng.random()),
        );
        assert_golden("random stream", &pairs, &products);
    }

    /// Every one of the 65,536 binary16 patterns on each port, against 8 partners each
    /// (4 edge values and 4 random ones): 1,048,576 pairs, one per cycle.
    #[test]
    fn every_pattern_on_both_ports_matches_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 5);
        let mut pairs = Vec::with_capacity(1 << 20);
        for x in 0..=u16::MAX {
            let partners = [
                0x3C00,
                0x03FF,
                0x7BFF,
                0x8001,
                rng.random(),
                rng.random(),
                interesting(&mut rng),
                interesting(&mut rng),
            ];
            for (i, &y) in partners.iter().enumerate() {
                pairs.push(if i % 2 == 0 { (x, y) } else { (y, x) });
            }
        }
        for x in 0..=u16::MAX {
            let partners = [
                0xBC00,
                0x0001,
                0xFC00,
                0x7E00,
                rng.random(),
                rng.random(),
                interesting(&mut rng),
                interesting(&mut rng),
            ];
            for (i, &y) in partners.iter().enumerate() {
                pairs.push(if i % 2 == 0 { (y, x) } else { (x, y) });
            }
        }
        let mut uut = new_uut();
        let products = stream_pipelined(&mut uut, &pairs, || true, || (0, 0));
        assert_golden("every pattern", &pairs, &products);
    }

    /// Berkeley TestFloat `f16_mul` (level 1, RNE): the binary16 rounding of the exact
    /// product (golden `f32_to_f16`) is IEEE binary16 multiplication.
    #[test]
    fn testfloat_f16_mul_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../golden/tests/vectors/f16_mul_rne_level1.txt.gz"
        );
        let vectors = testfloat::read_vectors(path, FpOp::F16Mul).unwrap_or_else(|e| panic!("{e}"));
        let pairs: Vec<(u16, u16)> = vectors
            .iter()
            .map(|v| (v.operands[0] as u16, v.operands[1] as u16))
            .collect();
        let mut uut = new_uut();
        let products = stream_pipelined(&mut uut, &pairs, || true, || (0, 0));
        let rtl: HashMap<(u16, u16), u32> = pairs.iter().copied().zip(products).collect();
        let report = testfloat::check(FpOp::F16Mul, &vectors, |ops| {
            let p = rtl[&(ops[0] as u16, ops[1] as u16)];
            u32::from(fp::f32_to_f16(f32::from_bits(p)).to_bits())
        });
        assert!(report.cases > 0, "{report}");
        assert_eq!(report.mismatches, 0, "{report}");
        assert!(report.passed(), "{report}");
    }
}
