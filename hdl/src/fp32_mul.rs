//! binary32 x binary32 -> binary32 multiplier, round to nearest even.

use rust_hdl::prelude::*;

use crate::resources::Resources;
use crate::round_nearest_even::RoundNearestEven;
use crate::shift_sticky::ShiftRightSticky;

/// binary32 multiplication with round-to-nearest-even (`Fp32Mul`).
///
/// **Function.** `product = fl32(a * b)` (docs/arithmetic.md §F3, §F1): one RNE rounding of
/// the exact product, with subnormal inputs and results kept (gradual underflow, rounded
/// once at the subnormal precision), overflow to ±infinity (a magnitude that rounds to 2^128
/// or above), the sign always `sign(a) xor sign(b)` (signed zeros included), `0 * ±inf` and
/// any NaN input giving the canonical NaN `0x7FC00000` (payloads are not propagated). No
/// flags. Used by the quantizer (`x * s`, §Q3), the dequantization (`acc * k`, §T3) and the
/// gate (`g * v`, §G1).
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `enable` | in | 1 | high: the pipeline advances on this edge; low: every register holds (the core stalls) |
/// | `a`, `b` | in | 32 | IEEE binary32 operands, sampled on enabled edges |
/// | `product` | out | 32 | IEEE binary32 `fl32(a * b)`, from a register |
///
/// Pipeline (one register after each step): 1. decode and normalise both significands
/// (a logarithmic left shift by 16, 8, 4, 2, 1 counts the leading zeros; the exponent
/// absorbs the shift), exponent sum, sign, special class; 2. the 24x24 significand product
/// as four 12x12 partial products, each on one 16x16 multiplier (`SB_MAC16` /
/// `MULT18X18D`); 3. sum of the partial products (48 bits), normalisation by one bit, the 24
/// kept bits plus round and sticky bits, biased exponent, overflow, right-shift distance for
/// a subnormal result; 4. right shift with sticky bit (the shared
/// [`ShiftRightSticky`]), round to nearest even (the shared [`RoundNearestEven`]), pack
/// (a rounding carry moves the exponent up by itself), special values.
///
/// **Latency** [`Fp32Mul::LATENCY`] = 4 enabled cycles: operands presented in the cycle
/// ending with enabled edge `n` give `product` after enabled edge `n + 3`. **Throughput** one
/// product per enabled cycle; the pipeline holds while `enable` is low.
/// **Resources** four 16x16 multipliers (12x12 used each), 0 BRAM, 244 register bits.
/// Synthesis estimate of the block alone (yosys 0.23, at the time of writing): iCE40
/// `synth_ice40 -dsp` 651 SB_LUT4, 136 SB_CARRY, 244 FF, 4 SB_MAC16; ECP5 `synth_ecp5`
/// 870 LUT4, 276 PFUMX, 121 L6MUX21, 83 CCU2C, 244 FF, 4 MULT18X18D.
/// **Golden** `hgf_golden::fp::mul_f32`. **Limits** none: every input bit pattern has its
/// §F3 result (NaN inputs give the canonical NaN, not their payload).
#[derive(LogicBlock)]
pub struct Fp32Mul {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// High: every pipeline register loads on this edge. Low: every register holds.
    pub enable: Signal<In, Bit>,
    /// binary32 operand.
    pub a: Signal<In, Bits<32>>,
    /// binary32 operand.
    pub b: Signal<In, Bits<32>>,
    /// binary32 `fl32(a * b)`, [`Fp32Mul::LATENCY`] enabled cycles after `a`, `b`.
    pub product: Signal<Out, Bits<32>>,
    // Stage 1 (decode, normalise) combinational signals.
    a_exp: Signal<Local, Bits<8>>,
    b_exp: Signal<Local, Bits<8>>,
    a_sig: Signal<Local, Bits<24>>,
    b_sig: Signal<Local, Bits<24>>,
    a_eff: Signal<Local, Bits<10>>,
    b_eff: Signal<Local, Bits<10>>,
    a_norm16: Signal<Local, Bits<24>>,
    a_norm8: Signal<Local, Bits<24>>,
    a_norm4: Signal<Local, Bits<24>>,
    a_norm2: Signal<Local, Bits<24>>,
    a_norm1: Signal<Local, Bits<24>>,
    b_norm16: Signal<Local, Bits<24>>,
    b_norm8: Signal<Local, Bits<24>>,
    b_norm4: Signal<Local, Bits<24>>,
    b_norm2: Signal<Local, Bits<24>>,
    b_norm1: Signal<Local, Bits<24>>,
    a_lz: Signal<Local, Bits<5>>,
    b_lz: Signal<Local, Bits<5>>,
    a_zero: Signal<Local, Bit>,
    b_zero: Signal<Local, Bit>,
    a_inf: Signal<Local, Bit>,
    b_inf: Signal<Local, Bit>,
    a_nan: Signal<Local, Bit>,
    b_nan: Signal<Local, Bit>,
    a_scale: Signal<Local, Bits<10>>,
    b_scale: Signal<Local, Bits<10>>,
    kind: Signal<Local, Bits<2>>,
    // Stage 2 (partial products) combinational signals.
    a_hi: Signal<Local, Bits<16>>,
    a_lo: Signal<Local, Bits<16>>,
    /// `a` is always a binary16 value: the low half of its significand is zero (see
    /// `with_binary16_a`), so the two products with it are constant zero.
    a_is_binary16: Constant<Bit>,
    b_hi: Signal<Local, Bits<16>>,
    b_lo: Signal<Local, Bits<16>>,
    // Stage 3 (sum, normalise by one bit, exponent) combinational signals.
    mid: Signal<Local, Bits<25>>,
    hh48: Signal<Local, Bits<48>>,
    mid48: Signal<Local, Bits<48>>,
    ll48: Signal<Local, Bits<48>>,
    full: Signal<Local, Bits<48>>,
    normed: Signal<Local, Bits<48>>,
    kept: Signal<Local, Bits<26>>,
    exp: Signal<Local, Bits<10>>,
    exp_neg: Signal<Local, Bits<10>>,
    // Stage 4 (right shift, round, pack) combinational signals.
    shifted: Signal<Local, Bits<26>>,
    sticky: Signal<Local, Bit>,
    sig24: Signal<Local, Bits<24>>,
    // The significand rounded to nearest even, with its carry out (bit 24).
    round: RoundNearestEven<24, 25>,
    mant: Signal<Local, Bits<25>>,
    frac32: Signal<Local, Bits<32>>,
    exp_field: Signal<Local, Bits<8>>,
    exp32: Signal<Local, Bits<32>>,
    result: Signal<Local, Bits<32>>,
    sign32: Signal<Local, Bits<32>>,
    // Stage 1 registers: normalised significands (bit 23 set unless zero), the exponent
    // sum minus the bias (two's complement), sign, class (0 finite non-zero, 1 zero, 2 inf,
    // 3 NaN).
    s1_a_sig: DFF<Bits<24>>,
    s1_b_sig: DFF<Bits<24>>,
    s1_exp: DFF<Bits<10>>,
    s1_sign: DFF<Bit>,
    s1_kind: DFF<Bits<2>>,
    // Stage 2 registers: the four partial products.
    s2_hh: DFF<Bits<24>>,
    s2_hl: DFF<Bits<24>>,
    s2_lh: DFF<Bits<24>>,
    s2_ll: DFF<Bits<24>>,
    s2_exp: DFF<Bits<10>>,
    s2_sign: DFF<Bit>,
    s2_kind: DFF<Bits<2>>,
    // Stage 3 registers: 24 significand bits, round bit, sticky bit; right-shift distance;
    // packed exponent minus one (0 for a subnormal result).
    s3_kept: DFF<Bits<26>>,
    s3_shift: DFF<Bits<5>>,
    s3_exp_m1: DFF<Bits<8>>,
    s3_sign: DFF<Bit>,
    s3_kind: DFF<Bits<2>>,
    // Stage 4 register: the result.
    s4_result: DFF<Bits<32>>,
    // Stage 4 right shifter.
    denorm: ShiftRightSticky<26, 5>,
}

impl Fp32Mul {
    /// Enabled clock edges from operands to product.
    pub const LATENCY: usize = 4;

    /// What [`Fp32Mul::new`] builds: the 24x24 significand product as four 16x16 products
    /// (`SB_MAC16` on iCE40, `MULT18X18D` on ECP5); no memory.
    pub fn resources() -> Resources {
        Resources::multipliers(4)
    }

    /// What [`Fp32Mul::with_binary16_a`] builds: an 11-bit significand of `a` makes two of
    /// the four products constant zero, so two 16x16 multipliers remain.
    pub fn binary16_a_resources() -> Resources {
        Resources::multipliers(2)
    }

    /// A multiplier whose operand `a` is always a binary16 value (converted to binary32).
    /// Its normalised significand then has at most 11 significant bits, the low 12 are zero,
    /// and the two partial products of the low half are constant zero, which synthesis drops
    /// (two 16x16 multipliers instead of four); the bits are those of [`Fp32Mul::new`].
    /// Any other `a` gives wrong products.
    pub fn with_binary16_a() -> Self {
        Self {
            a_is_binary16: Constant::new(true),
            ..Self::new()
        }
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
            a_sig: Default::default(),
            b_sig: Default::default(),
            a_eff: Default::default(),
            b_eff: Default::default(),
            a_norm16: Default::default(),
            a_norm8: Default::default(),
            a_norm4: Default::default(),
            a_norm2: Default::default(),
            a_norm1: Default::default(),
            b_norm16: Default::default(),
            b_norm8: Default::default(),
            b_norm4: Default::default(),
            b_norm2: Default::default(),
            b_norm1: Default::default(),
            a_lz: Default::default(),
            b_lz: Default::default(),
            a_zero: Default::default(),
            b_zero: Default::default(),
            a_inf: Default::default(),
            b_inf: Default::default(),
            a_nan: Default::default(),
            b_nan: Default::default(),
            a_scale: Default::default(),
            b_scale: Default::default(),
            kind: Default::default(),
            a_hi: Default::default(),
            a_lo: Default::default(),
            a_is_binary16: Constant::new(false),
            b_hi: Default::default(),
            b_lo: Default::default(),
            mid: Default::default(),
            hh48: Default::default(),
            mid48: Default::default(),
            ll48: Default::default(),
            full: Default::default(),
            normed: Default::default(),
            kept: Default::default(),
            exp: Default::default(),
            exp_neg: Default::default(),
            shifted: Default::default(),
            sticky: Default::default(),
            sig24: Default::default(),
            round: RoundNearestEven::new(),
            mant: Default::default(),
            frac32: Default::default(),
            exp_field: Default::default(),
            exp32: Default::default(),
            result: Default::default(),
            sign32: Default::default(),
            s1_a_sig: Default::default(),
            s1_b_sig: Default::default(),
            s1_exp: Default::default(),
            s1_sign: Default::default(),
            s1_kind: Default::default(),
            s2_hh: Default::default(),
            s2_hl: Default::default(),
            s2_lh: Default::default(),
            s2_ll: Default::default(),
            s2_exp: Default::default(),
            s2_sign: Default::default(),
            s2_kind: Default::default(),
            s3_kept: Default::default(),
            s3_shift: Default::default(),
            s3_exp_m1: Default::default(),
            s3_sign: Default::default(),
            s3_kind: Default::default(),
            s4_result: Default::default(),
            denorm: ShiftRightSticky::new(),
        }
    }
}

impl Default for Fp32Mul {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp32Mul {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, s1_a_sig, s1_b_sig, s1_exp, s1_sign, s1_kind, s2_hh, s2_hl, s2_lh, s2_ll,
            s2_exp, s2_sign, s2_kind, s3_kept, s3_shift, s3_exp_m1, s3_sign, s3_kind, s4_result
        );

        // ---- Stage 1: decode and normalise. A subnormal has no hidden bit and the exponent
        // of the smallest normal. The significand is shifted left by 16, 8, 4, 2, 1 wherever
        // that many leading bits are zero, which sets bit 23 and counts the leading zeros
        // `lz`; the exponent goes down by lz: value = sig_n * 2^(scale - 150).
        self.a_exp.next = self.a.val().get_bits::<8>(23);
        self.b_exp.next = self.b.val().get_bits::<8>(23);
        self.a_sig.next = bit_cast::<24, 23>(self.a.val().get_bits::<23>(0));
        self.b_sig.next = bit_cast::<24, 23>(self.b.val().get_bits::<23>(0));
        self.a_eff.next = bit_cast::<10, 8>(self.a_exp.val());
        self.b_eff.next = bit_cast::<10, 8>(self.b_exp.val());
        if self.a_exp.val() == 0 {
            self.a_eff.next = 1.into();
        } else {
            self.a_sig.next = self.a_sig.val() | 0x80_0000;
        }
        if self.b_exp.val() == 0 {
            self.b_eff.next = 1.into();
        } else {
            self.b_sig.next = self.b_sig.val() | 0x80_0000;
        }
        self.a_lz.next = 0.into();
        self.a_norm16.next = self.a_sig.val();
        if !self.a_sig.val().get_bits::<16>(8).any() {
            self.a_norm16.next = self.a_sig.val() << 16;
            self.a_lz.next = self.a_lz.val() | 16;
        }
        self.a_norm8.next = self.a_norm16.val();
        if !self.a_norm16.val().get_bits::<8>(16).any() {
            self.a_norm8.next = self.a_norm16.val() << 8;
            self.a_lz.next = self.a_lz.val() | 8;
        }
        self.a_norm4.next = self.a_norm8.val();
        if !self.a_norm8.val().get_bits::<4>(20).any() {
            self.a_norm4.next = self.a_norm8.val() << 4;
            self.a_lz.next = self.a_lz.val() | 4;
        }
        self.a_norm2.next = self.a_norm4.val();
        if !self.a_norm4.val().get_bits::<2>(22).any() {
            self.a_norm2.next = self.a_norm4.val() << 2;
            self.a_lz.next = self.a_lz.val() | 2;
        }
        self.a_norm1.next = self.a_norm2.val();
        if !self.a_norm2.val().get_bit(23) {
            self.a_norm1.next = self.a_norm2.val() << 1;
            self.a_lz.next = self.a_lz.val() | 1;
        }
        self.b_lz.next = 0.into();
        self.b_norm16.next = self.b_sig.val();
        if !self.b_sig.val().get_bits::<16>(8).any() {
            self.b_norm16.next = self.b_sig.val() << 16;
            self.b_lz.next = self.b_lz.val() | 16;
        }
        self.b_norm8.next = self.b_norm16.val();
        if !self.b_norm16.val().get_bits::<8>(16).any() {
            self.b_norm8.next = self.b_norm16.val() << 8;
            self.b_lz.next = self.b_lz.val() | 8;
        }
        self.b_norm4.next = self.b_norm8.val();
        if !self.b_norm8.val().get_bits::<4>(20).any() {
            self.b_norm4.next = self.b_norm8.val() << 4;
            self.b_lz.next = self.b_lz.val() | 4;
        }
        self.b_norm2.next = self.b_norm4.val();
        if !self.b_norm4.val().get_bits::<2>(22).any() {
            self.b_norm2.next = self.b_norm4.val() << 2;
            self.b_lz.next = self.b_lz.val() | 2;
        }
        self.b_norm1.next = self.b_norm2.val();
        if !self.b_norm2.val().get_bit(23) {
            self.b_norm1.next = self.b_norm2.val() << 1;
            self.b_lz.next = self.b_lz.val() | 1;
        }
        self.a_scale.next = self.a_eff.val() - bit_cast::<10, 5>(self.a_lz.val());
        self.b_scale.next = self.b_eff.val() - bit_cast::<10, 5>(self.b_lz.val());
        self.a_zero.next = (self.a_exp.val() == 0) && !self.a.val().get_bits::<23>(0).any();
        self.b_zero.next = (self.b_exp.val() == 0) && !self.b.val().get_bits::<23>(0).any();
        self.a_inf.next = self.a_exp.val().all() && !self.a.val().get_bits::<23>(0).any();
        self.b_inf.next = self.b_exp.val().all() && !self.b.val().get_bits::<23>(0).any();
        self.a_nan.next = self.a_exp.val().all() && self.a.val().get_bits::<23>(0).any();
        self.b_nan.next = self.b_exp.val().all() && self.b.val().get_bits::<23>(0).any();
        self.kind.next = 0.into();
        if self.a_zero.val() || self.b_zero.val() {
            self.kind.next = 1.into();
        }
        if self.a_inf.val() || self.b_inf.val() {
            self.kind.next = 2.into();
        }
        if self.a_nan.val()
            || self.b_nan.val()
            || (self.a_inf.val() && self.b_zero.val())
            || (self.a_zero.val() && self.b_inf.val())
        {
            self.kind.next = 3.into();
        }
        if self.enable.val() {
            self.s1_a_sig.d.next = self.a_norm1.val();
            self.s1_b_sig.d.next = self.b_norm1.val();
            // a * b = sig_a * sig_b * 2^(scale_a + scale_b - 300); 10-bit two's complement.
            self.s1_exp.d.next = (self.a_scale.val() + self.b_scale.val()) - 127;
            self.s1_sign.d.next = self.a.val().get_bit(31) ^ self.b.val().get_bit(31);
            self.s1_kind.d.next = self.kind.val();
        }

        // ---- Stage 2: 24 x 24 = four 12 x 12 products, each on a 16 x 16 multiplier.
        self.a_hi.next = bit_cast::<16, 12>(self.s1_a_sig.q.val().get_bits::<12>(12));
        self.a_lo.next = bit_cast::<16, 12>(self.s1_a_sig.q.val().get_bits::<12>(0));
        self.b_hi.next = bit_cast::<16, 12>(self.s1_b_sig.q.val().get_bits::<12>(12));
        self.b_lo.next = bit_cast::<16, 12>(self.s1_b_sig.q.val().get_bits::<12>(0));
        if self.enable.val() {
            self.s2_hh.d.next = bit_cast::<24, 32>(self.a_hi.val() * self.b_hi.val());
            self.s2_hl.d.next = bit_cast::<24, 32>(self.a_hi.val() * self.b_lo.val());
            self.s2_lh.d.next = 0.into();
            self.s2_ll.d.next = 0.into();
            if !self.a_is_binary16.val() {
                self.s2_lh.d.next = bit_cast::<24, 32>(self.a_lo.val() * self.b_hi.val());
                self.s2_ll.d.next = bit_cast::<24, 32>(self.a_lo.val() * self.b_lo.val());
            }
            self.s2_exp.d.next = self.s1_exp.q.val();
            self.s2_sign.d.next = self.s1_sign.q.val();
            self.s2_kind.d.next = self.s1_kind.q.val();
        }

        // ---- Stage 3: P = hh * 2^24 + (hl + lh) * 2^12 + ll, in [2^46, 2^48) for non-zero
        // operands. Normalise to bit 47 and keep 24 bits + round bit + sticky bit (the OR of
        // every lower bit). The biased exponent is exp + P[47]; at or below 0 the result is
        // subnormal (right shift by 1 - exp, capped at 26: every bit is then sticky), above
        // 254 it overflows.
        self.mid.next =
            bit_cast::<25, 24>(self.s2_hl.q.val()) + bit_cast::<25, 24>(self.s2_lh.q.val());
        self.hh48.next = bit_cast::<48, 24>(self.s2_hh.q.val()) << 24;
        self.mid48.next = bit_cast::<48, 25>(self.mid.val()) << 12;
        self.ll48.next = bit_cast::<48, 24>(self.s2_ll.q.val());
        self.full.next = (self.hh48.val() + self.mid48.val()) + self.ll48.val();
        self.normed.next = self.full.val() << 1;
        self.exp.next = self.s2_exp.q.val();
        if self.full.val().get_bit(47) {
            self.normed.next = self.full.val();
            self.exp.next = self.s2_exp.q.val() + 1;
        }
        self.kept.next = (bit_cast::<26, 25>(self.normed.val().get_bits::<25>(23)) << 1)
            | bit_cast::<26, 1>(self.normed.val().get_bits::<23>(0).any().into());
        self.exp_neg.next = bits::<10>(1) - self.exp.val();
        if self.enable.val() {
            self.s3_kept.d.next = self.kept.val();
            self.s3_sign.d.next = self.s2_sign.q.val();
            self.s3_kind.d.next = self.s2_kind.q.val();
            if self.exp.val().get_bit(9) || (self.exp.val() == 0) {
                // Subnormal (or zero) result: packed exponent 0, shift right by 1 - exp.
                self.s3_exp_m1.d.next = 0.into();
                if self.exp_neg.val() > 26 {
                    self.s3_shift.d.next = 26.into();
                } else {
                    self.s3_shift.d.next = self.exp_neg.val().get_bits::<5>(0);
                }
            } else {
                self.s3_exp_m1.d.next = bit_cast::<8, 10>(self.exp.val() - 1);
                self.s3_shift.d.next = 0.into();
                if (self.exp.val() > 254) && (self.s2_kind.q.val() == 0) {
                    self.s3_kind.d.next = 2.into();
                }
            }
        }

        // ---- Stage 4: shift right (the shifted-out bits join the sticky bit), round to
        // nearest even, pack. Packing adds the 25-bit rounded significand (hidden bit
        // included) to the exponent field minus one, so a rounding carry, a subnormal that
        // rounds up to 2^-126 and an overflow to infinity all come out right by themselves.
        // The new sticky bit is the OR of kept[shift:0]: the bits shifted out and the old
        // sticky bit, which lands on bit 0.
        self.denorm.x.next = self.s3_kept.q.val();
        self.denorm.amount.next = self.s3_shift.q.val();
        self.shifted.next = self.denorm.shifted.val();
        self.sticky.next = self.shifted.val().get_bit(0) || self.denorm.sticky.val();
        self.sig24.next = self.shifted.val().get_bits::<24>(2);
        self.round.kept.next = self.sig24.val();
        self.round.guard.next = self.shifted.val().get_bit(1);
        self.round.sticky.next = self.sticky.val();
        self.mant.next = self.round.rounded.val();
        // The significand's bits 24:23 (hidden bit, rounding carry) add to the exponent.
        self.exp_field.next =
            self.s3_exp_m1.q.val() + bit_cast::<8, 2>(self.mant.val().get_bits::<2>(23));
        self.exp32.next = bit_cast::<32, 8>(self.exp_field.val()) << 23;
        self.frac32.next = bit_cast::<32, 23>(self.mant.val().get_bits::<23>(0));
        self.sign32.next = bit_cast::<32, 1>(self.s3_sign.q.val().into()) << 31;
        match self.s3_kind.q.val().index() {
            0 => {
                self.result.next = (self.sign32.val() | self.exp32.val()) | self.frac32.val();
            }
            1 => {
                self.result.next = self.sign32.val();
            }
            2 => {
                self.result.next = self.sign32.val() | 0x7F80_0000;
            }
            _ => {
                self.result.next = 0x7FC0_0000.into();
            }
        }
        if self.enable.val() {
            self.s4_result.d.next = self.result.val();
        }
        self.product.next = self.s4_result.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{assert_all_match, stream_pipelined, Pipelined};
    use crate::test_operands::{frac, interesting};
    use crate::verilog::{check_all_tools, emit_named};
    use hgf_golden::fp;
    use hgf_golden::testfloat::{self, FpOp};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashMap;

    const SEED: u64 = 0x5eed_f32b;

    fn golden(a: u32, b: u32) -> u32 {
        fp::mul_f32(f32::from_bits(a), f32::from_bits(b)).to_bits()
    }

    fn new_uut() -> Fp32Mul {
        let mut uut = Fp32Mul::new();
        uut.connect_all();
        uut
    }

    impl Pipelined for Fp32Mul {
        type Input = (u32, u32);
        type Output = u32;
        fn latency() -> usize {
            Self::LATENCY
        }
        fn clock(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
        fn apply(&mut self, enable: bool, (a, b): (u32, u32)) {
            self.enable.next = enable;
            self.a.next = a.to_bits();
            self.b.next = b.to_bits();
        }
        fn output(&self) -> u32 {
            self.product.val().to_u32()
        }
    }

    /// Asserts that every product equals the golden one; lists the first 20 mismatches.
    fn assert_golden(what: &str, pairs: &[(u32, u32)], products: &[u32]) {
        assert_all_match(
            &format!("fp32_mul {what}"),
            Some(SEED),
            pairs,
            products,
            |&(a, b)| golden(a, b),
            |(a, b), p, g| format!("a={a:08x} b={b:08x} rtl={p:08x} gold={g:08x}"),
        );
    }

    /// Edge operands (each also negated): zeros, subnormal and normal bounds, values around
    /// 1, 0.5 and 2, powers of two whose products land on the subnormal boundary or
    /// overflow, the largest finite value, infinity, NaNs with several payloads.
    const EDGES: [u32; 30] = [
        0x0000_0000, // +0
        0x0000_0001, // smallest subnormal, 2^-149
        0x0000_0002, // 2^-148
        0x0000_0003, // 3 * 2^-149
        0x0040_0000, // 2^-127
        0x0040_0001, // 2^-127 + 2^-149
        0x007F_FFFF, // largest subnormal
        0x0080_0000, // smallest normal, 2^-126
        0x0080_0001, // 2^-126 + 2^-149
        0x00FF_FFFF, // 2^-125 - 2^-149
        0x2000_0000, // 2^-63
        0x3380_0000, // 2^-24
        0x3F00_0000, // 0.5
        0x3F00_0001, // 0.5 + 2^-24
        0x3F40_0000, // 0.75
        0x3F7F_FFFF, // 1 - 2^-24
        0x3F80_0000, // 1.0
        0x3F80_0001, // 1 + 2^-23
        0x3FC0_0000, // 1.5
        0x3FFF_FFFF, // 2 - 2^-23
        0x4000_0000, // 2.0
        0x5F80_0000, // 2^64
        0x7E80_0000, // 2^126
        0x7F00_0000, // 2^127
        0x7F7F_FFFF, // largest finite
        0x7F80_0000, // infinity
        0x7F80_0001, // signalling NaN, payload 1
        0x7FA0_0000, // signalling NaN
        0x7FC0_0000, // canonical quiet NaN
        0x7FFF_FFFF, // quiet NaN, full payload
    ];

    fn edge_values() -> Vec<u32> {
        EDGES.iter().flat_map(|&v| [v, v ^ 0x8000_0000]).collect()
    }

    /// `m * 2^e` as binary32 bits, for `m` below 2^24 and a representable result (normal or
    /// subnormal) that needs no rounding.
    fn exact(m: u32, e: i32) -> u32 {
        let v = (m as f64) * 2f64.powi(e);
        let f = v as f32;
        assert_eq!(f as f64, v, "{m} * 2^{e} is not a binary32 value");
        f.to_bits()
    }

    /// Named cases: ties to even (normal and subnormal), underflow to the smallest
    /// subnormal and to zero, results exactly at 2^-126 (directly and by rounding up),
    /// overflow and the largest finite product.
    fn named_pairs() -> Vec<(u32, u32)> {
        vec![
            // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: a tie, rounds down to even.
            (exact(4097, -12), exact(4097, -12)),
            // (1 + 3 * 2^-12) * (1 + 2^-12): a tie with an odd kept bit, rounds up.
            (exact(4099, -12), exact(4097, -12)),
            // Subnormal ties: 2^-150 -> 0 (even), 3 * 2^-150 -> 4 * 2^-150.
            (0x0000_0001, 0x3F00_0000),
            (0x0000_0003, 0x3F00_0000),
            (0x0000_0005, 0x3F00_0000),
            // Below half of the smallest subnormal: 0; above: the smallest subnormal.
            (0x0000_0001, 0x3E80_0000),
            (0x0000_0001, 0x3F00_0001),
            (0x0000_0001, 0x3F40_0000),
            // 2^-63 * 2^-63 = 2^-126 exactly.
            (0x2000_0000, 0x2000_0000),
            // (2^-125 - 2^-149) / 2: a tie between the largest subnormal and 2^-126.
            (0x00FF_FFFF, 0x3F00_0000),
            // Largest subnormal * (1 + 2^-23) rounds up to 2^-126.
            (0x007F_FFFF, 0x3F80_0001),
            // Largest subnormal * (1 - 2^-24) stays subnormal.
            (0x007F_FFFF, 0x3F7F_FFFF),
            // Subnormal * subnormal: 0 (far below half of the smallest subnormal).
            (0x007F_FFFF, 0x007F_FFFF),
            // Subnormal * huge: normal results from subnormal operands.
            (0x0000_0001, 0x7F00_0000),
            (0x0000_0003, 0x7F7F_FFFF),
            (0x0012_3456, 0x7E80_0000),
            // Overflow: largest * (1 + 2^-23), largest * 2, 2^127 * 2^127.
            (0x7F7F_FFFF, 0x3F80_0001),
            (0x7F7F_FFFF, 0x4000_0000),
            (0x7F00_0000, 0x7F00_0000),
            // Largest finite exactly, and just below the overflow threshold.
            (0x7F7F_FFFF, 0x3F80_0000),
            (0x7F7F_FFFF, 0x3F7F_FFFF),
            // Signs of zero and infinity; 0 * inf is NaN.
            (0x8000_0000, 0x8000_0000),
            (0x8000_0000, 0x3F80_0000),
            (0x0000_0000, 0xFF80_0000),
            (0xFF80_0000, 0x8000_0001),
        ]
    }

    /// A significand pair whose exact product needs 25 bits with the last one set: a tie.
    fn tie_significands(rng: &mut ChaCha8Rng) -> (u32, u32) {
        loop {
            let ma = rng.random_range(1u32 << 11..1 << 12) | 1;
            let mb = rng.random_range(1u32 << 12..1 << 13) | 1;
            if u64::from(ma) * u64::from(mb) >= 1 << 24 {
                return (ma, mb);
            }
        }
    }

    /// Products that are exact ties at the normal or at a subnormal precision.
    fn tie_pair(rng: &mut ChaCha8Rng) -> (u32, u32) {
        let (ma, mb) = tie_significands(rng);
        let sign = |rng: &mut ChaCha8Rng| if rng.random() { 0x8000_0000 } else { 0 };
        if rng.random() {
            // Normal: product ma * mb * 2^(ea + eb) with a 25-bit odd significand.
            let ea = rng.random_range(-40..20);
            let eb = rng.random_range(-40..20);
            (exact(ma, ea) | sign(rng), exact(mb, eb) | sign(rng))
        } else {
            // Subnormal: the product's last bit weighs 2^-150 (or 2^-151 .. 2^-160), half
            // of the subnormal ulp or less, with fewer significand bits kept.
            let lsb = rng.random_range(-160..=-150);
            let ea = rng.random_range(-120..-20);
            (exact(ma, ea) | sign(rng), exact(mb, lsb - ea) | sign(rng))
        }
    }

    /// A pair whose product's biased exponent is `target` (before normalisation), with
    /// random significands: `target` near 0 exercises gradual underflow, near 255 overflow.
    fn pair_with_exponent(rng: &mut ChaCha8Rng, target: i32) -> (u32, u32) {
        let ea = rng.random_range(0..255i32);
        let eb = (target + 127 - ea).clamp(0, 254);
        let sa = u32::from(rng.random::<bool>()) << 31;
        let sb = u32::from(rng.random::<bool>()) << 31;
        (
            sa | ((ea as u32) << 23) | frac(rng),
            sb | ((eb as u32) << 23) | frac(rng),
        )
    }

    #[test]
    fn synthesizes() {
        let uut = new_uut();
        let v = emit_named(&uut, "fp32_mul").unwrap();
        assert!(v.contains("module fp32_mul("));
        check_all_tools("fp32_mul", &v).unwrap();
        // Four 16x16 multipliers (rust-hdl's only multiply) for the 24x24 product.
        assert_eq!(v.matches(" * ").count(), 4, "{v}");
    }

    /// Every pair of the edge set and the named cases, one pair per cycle, with stalls.
    #[test]
    fn edge_pairs_with_stalls_match_golden() {
        let values = edge_values();
        let mut pairs = named_pairs();
        for &a in &values {
            for &b in &values {
                pairs.push((a, b));
            }
        }
        // The named cases are what they claim (a guard against a wrong table).
        let gold = |i: usize| golden(pairs[i].0, pairs[i].1);
        assert_eq!(gold(0), exact(4098, -12)); // tie rounds down to even
                                               // 4099 * 4097 = 2 * 8396801 + 1: tie, odd kept bit, rounds up.
        assert_eq!(gold(1), exact(8_396_802, -23));
        assert_eq!(gold(2), 0); // 2^-150 -> +0
        assert_eq!(gold(3), 2); // 3 * 2^-150 -> 2^-148
        assert_eq!(gold(8), 0x0080_0000); // 2^-126
        assert_eq!(gold(9), 0x0080_0000); // tie up to 2^-126
        assert_eq!(gold(10), 0x0080_0000); // rounds up to 2^-126
        assert_eq!(gold(16), 0x7F80_0000); // overflow
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

    /// 60,000 seeded random pairs: uniform bit patterns, biased patterns, exact ties,
    /// products near the subnormal boundary and near overflow; `enable` low on a random
    /// quarter of the cycles.
    #[test]
    fn random_stream_with_stalls_matches_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 2);
        let pairs: Vec<(u32, u32)> = (0..60_000)
            .map(|_| match rng.random_range(0..6u32) {
                0 => (rng.random(), rng.random()),
                1 => (interesting(&mut rng), interesting(&mut rng)),
                2 => tie_pair(&mut rng),
                3 => {
                    let t = rng.random_range(-30..=3);
                    pair_with_exponent(&mut rng, t)
                }
                4 => {
                    let t = rng.random_range(250..=258);
                    pair_with_exponent(&mut rng, t)
                }
                _ => {
                    // One subnormal operand.
                    let sub = (u32::from(rng.random::<bool>()) << 31) | frac(&mut rng);
                    (sub, interesting(&mut rng))
                }
            })
            .collect();
        let ties = pairs
            .iter()
            .filter(|&&(a, b)| {
                let (fa, fb) = (f32::from_bits(a) as f64, f32::from_bits(b) as f64);
                let p = fa * fb;
                p.is_finite() && p != 0.0 && (p as f32) as f64 != p && {
                    // Halfway between two binary32 neighbours: the product is their mean.
                    let r = p as f32;
                    let other = if (r as f64) < p {
                        f32::from_bits(r.to_bits() + 1)
                    } else {
                        f32::from_bits(r.to_bits().wrapping_sub(1))
                    };
                    ((r as f64) + (other as f64)) / 2.0 == p
                }
            })
            .count();
        assert!(ties > 1000, "only {ties} exact ties in the stream");
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

    /// The binary16-operand variant: every binary16 class as `a` (zero, subnormal, normal,
    /// infinity, NaN; converted exactly to binary32) against edge and random `b`, bit for
    /// bit with the golden product, and only two 16x16 multipliers left in the Verilog that
    /// matter (the other two multiply by the constant-zero low half).
    #[test]
    fn binary16_a_variant_matches_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 7);
        let halves: Vec<u16> = [
            0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0x7C00,
        ]
        .into_iter()
        .chain([0xFC00, 0x7E00, 0x7C01])
        .chain((0..400).map(|_| rng.random()))
        .collect();
        let mut bs = edge_values();
        bs.extend((0..40).map(|_| interesting(&mut rng)));
        let pairs: Vec<(u32, u32)> = halves
            .iter()
            .flat_map(|&h| {
                let a = half::f16::from_bits(h).to_f32().to_bits();
                let a = if half::f16::from_bits(h).is_nan() {
                    0x7FC0_0000
                } else {
                    a
                };
                bs.iter().map(move |&b| (a, b))
            })
            .collect();
        let mut en_rng = ChaCha8Rng::seed_from_u64(SEED + 8);
        let mut junk_rng = ChaCha8Rng::seed_from_u64(SEED + 9);
        let mut uut = Fp32Mul::with_binary16_a();
        uut.connect_all();
        let products = stream_pipelined(
            &mut uut,
            &pairs,
            || en_rng.random_range(0..4u32) != 0,
            || (junk_rng.random(), junk_rng.random()),
        );
        assert_golden("binary16 a", &pairs, &products);
        let v = emit_named(&uut, "fp32_mul_f16a").unwrap();
        let flag = v
            .lines()
            .find(|l| l.contains("localparam") && l.contains("a_is_binary16"))
            .expect("the flag is a localparam");
        assert!(flag.trim_end().ends_with("1'b1;"), "{flag}");
    }

    /// Berkeley TestFloat `f32_mul` (level 1, RNE), one pair per cycle.
    #[test]
    fn testfloat_f32_mul_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../golden/tests/vectors/f32_mul_rne_level1.txt.gz"
        );
        let vectors = testfloat::read_vectors(path, FpOp::F32Mul).unwrap_or_else(|e| panic!("{e}"));
        let pairs: Vec<(u32, u32)> = vectors
            .iter()
            .map(|v| (v.operands[0], v.operands[1]))
            .collect();
        let mut uut = new_uut();
        let products = stream_pipelined(&mut uut, &pairs, || true, || (0, 0));
        let rtl: HashMap<(u32, u32), u32> = pairs.iter().copied().zip(products).collect();
        let report = testfloat::check(FpOp::F32Mul, &vectors, |ops| rtl[&(ops[0], ops[1])]);
        assert!(report.cases > 0, "{report}");
        assert_eq!(report.mismatches, 0, "{report}");
        assert!(report.passed(), "{report}");
    }
}
