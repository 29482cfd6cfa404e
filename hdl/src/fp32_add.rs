//! Pipelined binary32 adder: the accumulator adder of the FP16 MAC lanes.

use rust_hdl::prelude::*;

use crate::lzc::Lzc;
use crate::round_nearest_even::RoundNearestEven;
use crate::shift_sticky::ShiftRightSticky;

/// binary32 adder, round to nearest even (`Fp32Add`).
///
/// **Function.** `sum = fl32(a + b)` (docs/arithmetic.md §F3, with §F1's rules): one IEEE 754
/// addition, round to nearest, ties to even; subnormal operands and results are kept (no
/// flush to zero); a result whose magnitude rounds to 2^128 or more is ±infinity; any NaN
/// operand, and `inf + -inf`, give the canonical NaN `0x7FC00000` (payloads are not
/// propagated); an exact zero sum is `+0` (`x + -x = +0`, `+0 + -0 = +0`) except
/// `-0 + -0 = -0`. No exception flags.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `enable` | in | 1 | high: the pipeline advances on this edge; low: every register holds (the core stalls) |
/// | `a`, `b` | in | 32 | IEEE binary32 operands, sampled on enabled edges |
/// | `sum` | out | 32 | IEEE binary32 `fl32(a + b)`, from a register |
///
/// Pipeline, one register after each step:
/// 1. *Unpack, order, exponent difference.* `x` is the operand of larger magnitude (bit
///    patterns without the sign compare like magnitudes), `y` the other. Significands get
///    their hidden bit (subnormals: none, and the exponent of the smallest normal); `y`'s is
///    extended by 3 bits (guard, round, sticky). Both exponent differences, `a`'s over `b`'s
///    and `b`'s over `a`'s, clamped to 31, are computed beside the magnitude compare, which
///    then only selects one, so that the compare's carry chain and the subtraction's lie side
///    by side rather than in a row. Special operands (infinity, NaN) are classified from the
///    operands themselves: `x` is infinite or NaN exactly when one of them is.
/// 2. *Align, add.* `y`'s significand shifts right by the exponent difference, every bit
///    shifted out ORs into the lowest bit, and for operands of opposite signs it is inverted
///    (one's complement); one 29-bit carry chain then adds it to `x`'s significand, or
///    subtracts it (the +1 of the two's complement enters as the carry of an extra low bit).
///    The difference is never negative because `|x| >= |y|`.
/// 3. *Normalise.* A leading-zero count of the 28-bit sum drives a left shift that brings
///    the leading one to the top (no shift after a carry out), clamped so that the exponent
///    does not drop below that of the smallest normal; a significand without its leading one
///    is then a subnormal. The top bit is the hidden bit, the next 23 the fraction, then
///    guard and 3 sticky bits.
/// 4. *Round and pack.* Ties-to-even increment of `{exponent, fraction}` (the shared
///    [`RoundNearestEven`]), whose carry rolls into the exponent (up to infinity); special
///    values and the sign of an exact zero.
///
/// Why the alignment shift shares stage 2 with the carry chain (issue 16): with the compare,
/// the swap, the exponent difference and the shift in one stage, stage 1 was the critical
/// path of the whole core on both presets (behind the lanes' operand select); the shift's
/// levels and the 29-bit chain are shorter than the compare, the swap's fan-out and the
/// subtraction in a row, and the latency stays 4, so the lanes' accumulate loop keeps its
/// length.
///
/// Why 3 extra bits suffice: when bits of `y` are lost, the computed sum is odd in units of
/// the lowest bit and the exact one lies within one unit of it, so no rounding boundary (an
/// even number of units after at most one bit of normalisation) separates them. Massive
/// cancellation only happens for exponent differences of 0 or 1, where nothing is lost.
///
/// **Latency** [`Fp32Add::LATENCY`] = 4 enabled edges: operands presented before enabled edge
/// `n` give `sum` after enabled edge `n + 3`. **Throughput** one addition per enabled cycle;
/// the pipeline holds while `enable` is low.
/// **Resources** 176 FF (the 5-bit alignment distance is registered after stage 1), no BRAM,
/// no DSP. Alone in its wrapper on the ECP5-25k (`hgf synth --block fp32_add --seed 1`, yosys
/// 0.23, nextpnr 0.11): 1,005 LUT4 sites, 59.81 MHz, the slowest path stage 3 (count, clamp,
/// shift into `s3_exp`, 16.72 ns); on the UP5K 639 LUT4, 24.93 MHz, the same stage slowest.
/// Per-target figures belong in the block's synthesis report.
/// **Golden** `hgf_golden::fp::add_f32`. **Limits** none: every pair of bit patterns has its
/// §F3 result.
#[derive(LogicBlock)]
pub struct Fp32Add {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// High: every pipeline register loads on this edge. Low: every register holds.
    pub enable: Signal<In, Bit>,
    /// binary32 operand.
    pub a: Signal<In, Bits<32>>,
    /// binary32 operand.
    pub b: Signal<In, Bits<32>>,
    /// binary32 `fl32(a + b)`, [`Fp32Add::LATENCY`] enabled edges after `a`, `b`.
    pub sum: Signal<Out, Bits<32>>,
    // Sub-blocks.
    align: ShiftRightSticky<27, 5>,
    lzc: Lzc<28, 5>,
    // Stage 1 (unpack, order, exponent difference) signals, per operand: exponent field,
    // effective exponent (a subnormal's is 1), significand with its hidden bit, the same
    // extended by 3 bits (guard, round, sticky), its exponent difference over the other
    // operand (wrapping when the other's is larger: then unused) and that clamped to 31.
    swap: Signal<Local, Bit>,
    a_exp: Signal<Local, Bits<8>>,
    b_exp: Signal<Local, Bits<8>>,
    a_eff: Signal<Local, Bits<8>>,
    b_eff: Signal<Local, Bits<8>>,
    a_sig: Signal<Local, Bits<24>>,
    b_sig: Signal<Local, Bits<24>>,
    a_ext: Signal<Local, Bits<27>>,
    b_ext: Signal<Local, Bits<27>>,
    a_ahead: Signal<Local, Bits<8>>,
    b_ahead: Signal<Local, Bits<8>>,
    a_dist: Signal<Local, Bits<5>>,
    b_dist: Signal<Local, Bits<5>>,
    a_special: Signal<Local, Bit>,
    b_special: Signal<Local, Bit>,
    nan: Signal<Local, Bit>,
    // Stage 2 (align, add) signals.
    y_aligned: Signal<Local, Bits<27>>,
    y_signed: Signal<Local, Bits<27>>,
    add_x: Signal<Local, Bits<29>>,
    add_y: Signal<Local, Bits<29>>,
    add_out: Signal<Local, Bits<28>>,
    // Stage 3 (normalise) signals.
    exp_top: Signal<Local, Bits<8>>,
    norm_shift: Signal<Local, Bits<5>>,
    norm: Signal<Local, Bits<28>>,
    norm_exp: Signal<Local, Bits<8>>,
    zero: Signal<Local, Bit>,
    // Stage 4 (round, pack): `{exponent, fraction}` rounded to nearest even.
    round: RoundNearestEven<31, 31>,
    packed_mag: Signal<Local, Bits<32>>,
    // Typed constants (docs/lint-waivers.md, WIDTH): the fraction field and the hidden bit
    // of a significand (24 bits) and of an extended one (27 bits, before its 3-bit shift);
    // exponent fields 0, 1 (a subnormal's effective exponent, and the +1 of a carry out) and
    // 255 (infinity, NaN); the largest alignment distance, as an 8-bit exponent difference
    // and as the 5-bit distance; the sticky bit of the aligned significand; the carry-in bit
    // of the adder's extra low bit and the two bits of a subtraction (borrow and carry-in);
    // a zero sum; the exponent bits above a 5-bit shift; the sign bit.
    frac24: Constant<Bits<24>>,
    hidden24: Constant<Bits<24>>,
    frac27: Constant<Bits<27>>,
    hidden27: Constant<Bits<27>>,
    exp_zero: Constant<Bits<8>>,
    exp_one: Constant<Bits<8>>,
    exp_max: Constant<Bits<8>>,
    dist_limit: Constant<Bits<8>>,
    dist_max: Constant<Bits<5>>,
    sticky_bit: Constant<Bits<27>>,
    carry_in: Constant<Bits<29>>,
    sub_bits: Constant<Bits<29>>,
    sum_zero: Constant<Bits<28>>,
    exp_high_zero: Constant<Bits<3>>,
    sign_bit: Constant<Bits<32>>,
    // Stage 1 registers: sign of x, effective subtraction, exponent of x (subnormal: 1),
    // significand of x (hidden bit included), extended significand of y (not yet aligned),
    // alignment distance (clamped exponent difference), special operand (infinity or NaN),
    // NaN result.
    s1_sign: DFF<Bit>,
    s1_sub: DFF<Bit>,
    s1_exp: DFF<Bits<8>>,
    s1_x: DFF<Bits<24>>,
    s1_y: DFF<Bits<27>>,
    s1_dist: DFF<Bits<5>>,
    s1_special: DFF<Bit>,
    s1_nan: DFF<Bit>,
    // Stage 2 registers: the 28-bit significand sum (bit 27: carry out) and the rest.
    s2_sum: DFF<Bits<28>>,
    s2_exp: DFF<Bits<8>>,
    s2_sign: DFF<Bit>,
    s2_sub: DFF<Bit>,
    s2_special: DFF<Bit>,
    s2_nan: DFF<Bit>,
    // Stage 3 registers: exponent field (0: subnormal or zero; 255: overflow), fraction,
    // guard bit, sticky bit (round | sticky), sign (of a zero: IEEE rule applied).
    s3_exp: DFF<Bits<8>>,
    s3_frac: DFF<Bits<23>>,
    s3_guard: DFF<Bit>,
    s3_sticky: DFF<Bit>,
    s3_sign: DFF<Bit>,
    s3_special: DFF<Bit>,
    s3_nan: DFF<Bit>,
    // Stage 4 register: the result.
    s4_sum: DFF<Bits<32>>,
}

impl Fp32Add {
    /// Enabled clock edges from operands to sum.
    pub const LATENCY: usize = 4;

    /// An adder with every register at zero.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            enable: Default::default(),
            a: Default::default(),
            b: Default::default(),
            sum: Default::default(),
            align: ShiftRightSticky::new(),
            lzc: Lzc::new(),
            swap: Default::default(),
            a_exp: Default::default(),
            b_exp: Default::default(),
            a_eff: Default::default(),
            b_eff: Default::default(),
            a_sig: Default::default(),
            b_sig: Default::default(),
            a_ext: Default::default(),
            b_ext: Default::default(),
            a_ahead: Default::default(),
            b_ahead: Default::default(),
            a_dist: Default::default(),
            b_dist: Default::default(),
            a_special: Default::default(),
            b_special: Default::default(),
            nan: Default::default(),
            y_aligned: Default::default(),
            y_signed: Default::default(),
            add_x: Default::default(),
            add_y: Default::default(),
            add_out: Default::default(),
            exp_top: Default::default(),
            norm_shift: Default::default(),
            norm: Default::default(),
            norm_exp: Default::default(),
            zero: Default::default(),
            round: RoundNearestEven::new(),
            packed_mag: Default::default(),
            frac24: Constant::new(0x7F_FFFFu64.into()),
            hidden24: Constant::new(0x80_0000u64.into()),
            frac27: Constant::new(0x7F_FFFFu64.into()),
            hidden27: Constant::new(0x400_0000u64.into()),
            exp_zero: Constant::new(0u64.into()),
            exp_one: Constant::new(1u64.into()),
            exp_max: Constant::new(255u64.into()),
            dist_limit: Constant::new(31u64.into()),
            dist_max: Constant::new(31u64.into()),
            sticky_bit: Constant::new(1u64.into()),
            carry_in: Constant::new(1u64.into()),
            sub_bits: Constant::new(0x1000_0001u64.into()),
            sum_zero: Constant::new(0u64.into()),
            exp_high_zero: Constant::new(0u64.into()),
            sign_bit: Constant::new(0x8000_0000u64.into()),
            s1_sign: Default::default(),
            s1_sub: Default::default(),
            s1_exp: Default::default(),
            s1_x: Default::default(),
            s1_y: Default::default(),
            s1_dist: Default::default(),
            s1_special: Default::default(),
            s1_nan: Default::default(),
            s2_sum: Default::default(),
            s2_exp: Default::default(),
            s2_sign: Default::default(),
            s2_sub: Default::default(),
            s2_special: Default::default(),
            s2_nan: Default::default(),
            s3_exp: Default::default(),
            s3_frac: Default::default(),
            s3_guard: Default::default(),
            s3_sticky: Default::default(),
            s3_sign: Default::default(),
            s3_special: Default::default(),
            s3_nan: Default::default(),
            s4_sum: Default::default(),
        }
    }
}

impl Default for Fp32Add {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp32Add {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, s1_sign, s1_sub, s1_exp, s1_x, s1_y, s1_dist, s1_special, s1_nan, s2_sum,
            s2_exp, s2_sign, s2_sub, s2_special, s2_nan, s3_exp, s3_frac, s3_guard, s3_sticky,
            s3_sign, s3_special, s3_nan, s4_sum
        );

        // ---- Stage 1: unpack both operands, order them by magnitude, exponent differences.
        // Significand with hidden bit; a subnormal has none and the exponent 1. The fields
        // are read at the width they go to and masked (a cast would widen them).
        self.a_exp.next = self.a.val().get_bits::<8>(23);
        self.b_exp.next = self.b.val().get_bits::<8>(23);
        self.a_eff.next = self.a_exp.val();
        self.a_sig.next = self.a.val().get_bits::<24>(0) & self.frac24.val();
        self.a_ext.next = (self.a.val().get_bits::<27>(0) & self.frac27.val()) << 3;
        if self.a_exp.val() == self.exp_zero.val() {
            self.a_eff.next = self.exp_one.val();
        } else {
            self.a_sig.next = self.a_sig.val() | self.hidden24.val();
            self.a_ext.next = self.a_ext.val() | self.hidden27.val();
        }
        self.b_eff.next = self.b_exp.val();
        self.b_sig.next = self.b.val().get_bits::<24>(0) & self.frac24.val();
        self.b_ext.next = (self.b.val().get_bits::<27>(0) & self.frac27.val()) << 3;
        if self.b_exp.val() == self.exp_zero.val() {
            self.b_eff.next = self.exp_one.val();
        } else {
            self.b_sig.next = self.b_sig.val() | self.hidden24.val();
            self.b_ext.next = self.b_ext.val() | self.hidden27.val();
        }
        self.swap.next = self.b.val().get_bits::<31>(0) > self.a.val().get_bits::<31>(0);
        // Both differences, beside the compare; the larger operand's is taken (its effective
        // exponent is at least the other's). From 27 on, every bit of y is sticky.
        self.a_ahead.next = self.a_eff.val() - self.b_eff.val();
        self.a_dist.next = self.a_ahead.val().get_bits::<5>(0);
        if self.a_ahead.val() > self.dist_limit.val() {
            self.a_dist.next = self.dist_max.val();
        }
        self.b_ahead.next = self.b_eff.val() - self.a_eff.val();
        self.b_dist.next = self.b_ahead.val().get_bits::<5>(0);
        if self.b_ahead.val() > self.dist_limit.val() {
            self.b_dist.next = self.dist_max.val();
        }
        // Special operands: x, the larger magnitude, has exponent field 255 exactly when one
        // operand has, and is NaN exactly when one operand is; inf + -inf is NaN too.
        self.a_special.next = self.a_exp.val() == self.exp_max.val();
        self.b_special.next = self.b_exp.val() == self.exp_max.val();
        self.nan.next = (self.a_special.val() & self.a.val().get_bits::<23>(0).any())
            | (self.b_special.val() & self.b.val().get_bits::<23>(0).any())
            | ((self.a_special.val() & self.b_special.val())
                & (self.a.val().get_bit(31) ^ self.b.val().get_bit(31)));
        if self.enable.val() {
            self.s1_sign.d.next = self.a.val().get_bit(31);
            self.s1_exp.d.next = self.a_eff.val();
            self.s1_x.d.next = self.a_sig.val();
            self.s1_y.d.next = self.b_ext.val();
            self.s1_dist.d.next = self.a_dist.val();
            if self.swap.val() {
                self.s1_sign.d.next = self.b.val().get_bit(31);
                self.s1_exp.d.next = self.b_eff.val();
                self.s1_x.d.next = self.b_sig.val();
                self.s1_y.d.next = self.a_ext.val();
                self.s1_dist.d.next = self.b_dist.val();
            }
            self.s1_sub.d.next = self.a.val().get_bit(31) ^ self.b.val().get_bit(31);
            self.s1_special.d.next = self.a_special.val() | self.b_special.val();
            self.s1_nan.d.next = self.nan.val();
        }

        // ---- Stage 2: align y to x, then x_sig * 8 + y_aligned, or x_sig * 8 - y_aligned,
        // on one carry chain: {x_sig * 8, 1} + {0, y_aligned, 0} or
        // {x_sig * 8, 1} + {1, ~y_aligned, 1}: 28 bits plus a low bit that supplies the
        // carry-in. The shifter's inputs are registers (no `Local` shared with the logic
        // after it: see `ShiftRightSticky` on UNOPTFLAT).
        self.align.x.next = self.s1_y.q.val();
        self.align.amount.next = self.s1_dist.q.val();
        self.y_aligned.next = self.align.shifted.val();
        if self.align.sticky.val() {
            self.y_aligned.next = self.align.shifted.val() | self.sticky_bit.val();
        }
        // For a subtraction y is inverted (two's complement: the +1 is the carry-in below);
        // the inversion folds into the shifter's last LUTs.
        self.y_signed.next = self.y_aligned.val();
        if self.s1_sub.q.val() {
            self.y_signed.next = !self.y_aligned.val();
        }
        self.add_x.next = (bit_cast::<29, 24>(self.s1_x.q.val()) << 4) | self.carry_in.val();
        self.add_y.next = bit_cast::<29, 27>(self.y_signed.val()) << 1;
        if self.s1_sub.q.val() {
            self.add_y.next = self.add_y.val() | self.sub_bits.val();
        }
        // The 29-bit sum is an expression, not a signal, so that its constant low bit is no
        // unused signal bit (the Verilog evaluates it at 32 bits: the same bits 28..1).
        self.add_out.next = bit_cast::<28, 29>((self.add_x.val() + self.add_y.val()) >> 1);
        if self.enable.val() {
            self.s2_sum.d.next = self.add_out.val();
            self.s2_exp.d.next = self.s1_exp.q.val();
            self.s2_sign.d.next = self.s1_sign.q.val();
            self.s2_sub.d.next = self.s1_sub.q.val();
            self.s2_special.d.next = self.s1_special.q.val();
            self.s2_nan.d.next = self.s1_nan.q.val();
        }

        // ---- Stage 3: normalise. The 28-bit sum shifts left until its leading one is bit 27
        // (no shift after a carry out); bit 27 has x's exponent + 1. The shift stops at
        // exponent 1, that is at x's exponent (at least 1) places.
        self.lzc.x.next = self.s2_sum.q.val();
        self.exp_top.next = self.s2_exp.q.val() + self.exp_one.val();
        // The clamped count fits 5 bits (it is at most the count, at most 28), so the shifter
        // has 5 select bits; the count can only exceed an exponent below 32.
        self.norm_shift.next = self.lzc.count.val();
        if (self.s2_exp.q.val().get_bits::<3>(5) == self.exp_high_zero.val())
            & (self.lzc.count.val() > self.s2_exp.q.val().get_bits::<5>(0))
        {
            self.norm_shift.next = self.s2_exp.q.val().get_bits::<5>(0);
        }
        self.norm.next = self.s2_sum.q.val() << self.norm_shift.val();
        self.norm_exp.next = self.exp_top.val() - bit_cast::<8, 5>(self.norm_shift.val());
        self.zero.next = self.s2_sum.q.val() == self.sum_zero.val();
        if self.enable.val() {
            // Without its leading one the significand is subnormal (or zero): field 0.
            self.s3_exp.d.next = self.exp_zero.val();
            if self.norm.val().get_bit(27) {
                self.s3_exp.d.next = self.norm_exp.val();
            }
            self.s3_frac.d.next = self.norm.val().get_bits::<23>(4);
            self.s3_guard.d.next = self.norm.val().get_bit(3);
            self.s3_sticky.d.next = self.norm.val().get_bits::<3>(0).any();
            // An exact zero from opposite signs is +0; from equal signs it keeps the sign.
            self.s3_sign.d.next = self.s2_sign.q.val();
            if self.zero.val() & self.s2_sub.q.val() {
                self.s3_sign.d.next = false;
            }
            self.s3_special.d.next = self.s2_special.q.val();
            self.s3_nan.d.next = self.s2_nan.q.val();
        }

        // ---- Stage 4: round to nearest even, pack, special values.
        // The increment's carry rolls from the fraction into the exponent (up to infinity).
        self.round.kept.next = (bit_cast::<31, 8>(self.s3_exp.q.val()) << 23)
            | bit_cast::<31, 23>(self.s3_frac.q.val());
        self.round.guard.next = self.s3_guard.q.val();
        self.round.sticky.next = self.s3_sticky.q.val();
        self.packed_mag.next = bit_cast::<32, 31>(self.round.rounded.val());
        if (self.s3_exp.q.val() == self.exp_max.val()) | self.s3_special.q.val() {
            self.packed_mag.next = 0x7F80_0000.into();
        }
        if self.enable.val() {
            self.s4_sum.d.next = self.packed_mag.val();
            if self.s3_sign.q.val() {
                self.s4_sum.d.next = self.packed_mag.val() | self.sign_bit.val();
            }
            if self.s3_nan.q.val() {
                self.s4_sum.d.next = 0x7FC0_0000.into();
            }
        }
        self.sum.next = self.s4_sum.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{assert_all_match, stream_pipelined, Pipelined};
    use crate::verilog;
    use hgf_golden::fp::add_f32;
    use hgf_golden::testfloat::{self, FpOp};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashMap;

    const SEED: u64 = 0x5eed_f32a;

    fn golden(a: u32, b: u32) -> u32 {
        add_f32(f32::from_bits(a), f32::from_bits(b)).to_bits()
    }

    impl Pipelined for Fp32Add {
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
            self.a.next = (a as u64).into();
            self.b.next = (b as u64).into();
        }
        fn output(&self) -> u32 {
            self.sum.val().to_u32()
        }
    }

    fn new_uut() -> Fp32Add {
        let mut uut = Fp32Add::new();
        uut.connect_all();
        uut
    }

    /// Asserts that every result equals golden; reports the first mismatches.
    fn assert_golden(what: &str, seed: Option<u64>, pairs: &[(u32, u32)], results: &[u32]) {
        assert_all_match(
            &format!("fp32_add {what}"),
            seed,
            pairs,
            results,
            |&(a, b)| golden(a, b),
            |(a, b), r, g| format!("a={a:08x} b={b:08x} rtl={r:08x} gold={g:08x}"),
        );
    }

    /// Directed operands: zeros, infinities, NaNs with payloads, subnormal and normal bounds,
    /// values around 1 whose sums tie or carry, and the largest finite values.
    const DIRECTED: [u32; 28] = [
        0x0000_0000, // +0
        0x7F80_0000, // +inf
        0x7FC0_0000, // canonical NaN
        0x7F80_0001, // signalling NaN, payload 1
        0x7FBF_FFFF, // signalling NaN, full payload
        0x7FC1_2345, // quiet NaN with payload
        0x0000_0001, // smallest subnormal
        0x0000_0002,
        0x0000_0003,
        0x007F_FFFF, // largest subnormal
        0x0040_0000,
        0x0080_0000, // smallest normal
        0x0080_0001,
        0x00FF_FFFF,
        0x0100_0000,
        0x3F80_0000, // 1.0
        0x3F80_0001, // 1 + 2^-23
        0x3F7F_FFFF, // 1 - 2^-24
        0x3FFF_FFFF, // 2 - 2^-23
        0x3380_0000, // 2^-24: half an ulp of 1.0
        0x3380_0001, // just above half an ulp of 1.0
        0x3400_0000, // 2^-23
        0x4B80_0000, // 2^24
        0x3F00_0000, // 0.5
        0x7F7F_FFFF, // largest finite
        0x7F7F_FFFE,
        0x7300_0000, // 2^103: half an ulp of the largest finite
        0x7F00_0000, // 2^127
    ];

    fn directed_pairs() -> Vec<(u32, u32)> {
        let values: Vec<u32> = DIRECTED
            .iter()
            .flat_map(|&v| [v, v ^ 0x8000_0000])
            .collect();
        let mut pairs = Vec::new();
        for &a in &values {
            for &b in &values {
                pairs.push((a, b));
            }
        }
        pairs
    }

    /// A binary32 bit pattern biased towards the cases an adder gets wrong: extreme and
    /// special exponents, exponents near `near` (alignment, cancellation), and significands
    /// with long runs of ones or zeros (carries, ties, sticky bits).
    fn interesting(rng: &mut ChaCha8Rng, near: Option<u32>) -> u32 {
        let exp: u32 = match (rng.random_range(0..12u32), near) {
            (0, _) => 0,
            (1, _) => 255,
            (2, _) => rng.random_range(1..4),
            (3, _) => rng.random_range(250..255),
            (4..=8, Some(e)) => (e as i32 + rng.random_range(-27..=27i32)).clamp(0, 254) as u32,
            _ => rng.random_range(0..256),
        };
        let bit = 1u32 << rng.random_range(0..23u32);
        let frac = match rng.random_range(0..8u32) {
            0 => 0,
            1 => 0x7F_FFFF,
            2 => bit,
            3 => 0x7F_FFFF ^ bit,
            4 => rng.random_range(0..8),
            5 => 0x7F_FFFF - rng.random_range(0..8),
            _ => rng.random::<u32>() & 0x7F_FFFF,
        };
        (rng.random::<u32>() & 0x8000_0000) | (exp << 23) | frac
    }

    fn random_pairs(rng: &mut ChaCha8Rng, n: usize) -> Vec<(u32, u32)> {
        (0..n)
            .map(|_| {
                let a = interesting(rng, None);
                let b = match rng.random_range(0..4u32) {
                    // -a plus or minus a few ulps: exact and near cancellation.
                    0 => (a ^ 0x8000_0000)
                        .wrapping_add(rng.random_range(0..5))
                        .wrapping_sub(2),
                    1 => interesting(rng, None),
                    _ => interesting(rng, Some((a >> 23) & 0xFF)),
                };
                if rng.random::<bool>() {
                    (a, b)
                } else {
                    (b, a)
                }
            })
            .collect()
    }

    #[test]
    fn synthesizes() {
        let uut = new_uut();
        let v = verilog::emit_named(&uut, "fp32_add").unwrap();
        verilog::check_all_tools("fp32_add", &v).unwrap();
    }

    #[test]
    fn directed_edge_cases_match_golden() {
        let mut uut = new_uut();
        let pairs = directed_pairs();
        let results = stream_pipelined(&mut uut, &pairs, || true, || (0, 0));
        assert_golden("directed", None, &pairs, &results);
        // The contract's sign and NaN rules, spelled out.
        let spot = [
            ((0x3F80_0000, 0xBF80_0000), 0x0000_0000), // x + (-x) = +0
            ((0x0000_0000, 0x8000_0000), 0x0000_0000), // +0 + -0 = +0
            ((0x8000_0000, 0x8000_0000), 0x8000_0000), // -0 + -0 = -0
            ((0x7F80_0000, 0xFF80_0000), 0x7FC0_0000), // inf - inf = canonical NaN
            ((0xFFC1_2345, 0x3F80_0000), 0x7FC0_0000), // NaN payloads are not propagated
            ((0x7F7F_FFFF, 0x7300_0000), 0x7F80_0000), // tie at the top rounds to infinity
            ((0x3F80_0000, 0x3380_0000), 0x3F80_0000), // tie to even, down
            ((0x3F80_0001, 0x3380_0000), 0x3F80_0002), // tie to even, up
            ((0x0000_0001, 0x8000_0002), 0x8000_0001), // subnormal difference
        ];
        let pairs: Vec<(u32, u32)> = spot.iter().map(|&(p, _)| p).collect();
        let results = stream_pipelined(&mut uut, &pairs, || true, || (0, 0));
        for ((&(a, b), want), got) in pairs.iter().zip(spot.map(|(_, w)| w)).zip(results) {
            assert_eq!(got, want, "{a:08x} + {b:08x}");
        }
    }

    #[test]
    fn random_stream_with_stalls_matches_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let pairs = random_pairs(&mut rng, 100_000);
        let mut uut = new_uut();
        let mut ctl = ChaCha8Rng::seed_from_u64(SEED ^ 1);
        let mut junk = ChaCha8Rng::seed_from_u64(SEED ^ 2);
        let results = stream_pipelined(
            &mut uut,
            &pairs,
            || ctl.random_range(0..4u32) != 0,
            || (junk.random(), junk.random()),
        );
        assert_golden("random", Some(SEED), &pairs, &results);
    }

    #[test]
    fn testfloat_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../golden/tests/vectors/f32_add_rne_level1.txt.gz"
        );
        let vectors = testfloat::read_vectors(path, FpOp::F32Add).unwrap();
        let pairs: Vec<(u32, u32)> = vectors
            .iter()
            .map(|v| (v.operands[0], v.operands[1]))
            .collect();
        let mut uut = new_uut();
        let results = stream_pipelined(&mut uut, &pairs, || true, || (0, 0));
        let rtl: HashMap<(u32, u32), u32> = pairs.iter().copied().zip(results).collect();
        let report = testfloat::check(FpOp::F32Add, &vectors, |ops| rtl[&(ops[0], ops[1])]);
        assert!(report.cases > 0);
        assert_eq!(report.mismatches, 0, "{report}");
    }
}
