//! binary32 / binary32 -> binary32 iterative divider, round to nearest even.

use rust_hdl::prelude::*;

use crate::round_nearest_even::RoundNearestEven;

/// binary32 division with round-to-nearest-even, one quotient bit per cycle (`Fp32Div`).
///
/// **Function.** `quotient = fl32(a / b)` (docs/arithmetic.md §F3, §F1): one RNE rounding of
/// the exact quotient, with subnormal inputs and results kept (a subnormal result is rounded
/// once, at its own precision), overflow to ±infinity, `x / ±0` = ±infinity for non-zero
/// `x`, `x / ±inf` = ±0 for finite `x`, the sign always `sign(a) xor sign(b)` (signed zeros
/// included); `0 / 0`, `inf / inf` and any NaN input give the canonical NaN `0x7FC00000`
/// (payloads are not propagated). No flags. Used twice per token: `s = 127 / m` (§Q2) and
/// `k = beta / s` (§T3).
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous: abandons any division, `done` low, `quotient` = +0, idle on the next edge; wins over `start` |
/// | `start` | in | 1 | `a`, `b` are sampled on an edge where `start && ready` |
/// | `a`, `b` | in | 32 | IEEE binary32 dividend and divisor |
/// | `ready` | out | 1 | a `start` would be accepted: high when idle or in the last cycle of a division |
/// | `done` | out | 1 | one-cycle pulse: `quotient` holds the result of the last accepted `start` |
/// | `quotient` | out | 32 | IEEE binary32 `fl32(a / b)` from a register, held until the next result or reset |
///
/// Algorithm (a state machine over one datapath: a 24-bit divisor register, a 25-bit
/// partial remainder, a 26-bit subtractor, a 25-bit quotient shift register):
/// 1. *Norm*, [`Fp32Div::NORM_CYCLES`] = 9 cycles: each significand (hidden bit included; a
///    subnormal has none and the exponent of the smallest normal) is shifted left by 8 when
///    its top 8 bits are zero, else by 1 when its top bit is zero, and the exponent
///    `e = exp_a - exp_b + 127` absorbs each shift. 9 cycles normalise any non-zero
///    significand (at most 23 leading zeros: 8 + 8 + 7 x 1).
/// 2. *Align*, 1 cycle: if `sig_a < sig_b` the dividend doubles and `e` drops by one, so the
///    quotient lies in [1, 2). `e <= 0` means a subnormal result: only `keep = 24 + e` of
///    the 25 quotient bits (24 significand bits + round bit) lie above the sticky position
///    (none when `e <= -24`: the result is ±0 after rounding). `e >= 255` overflows.
/// 3. *Iterate*, [`Fp32Div::QUOTIENT_BITS`] = 25 cycles: restoring division, one quotient bit
///    per cycle; after `keep` bits the remainder and quotient freeze. The sticky bit is
///    `remainder != 0`.
/// 4. *Round*, 1 cycle: round to nearest even (the shared [`RoundNearestEven`]), pack (a
///    rounding carry moves the exponent up by itself: to 2^-126 from a subnormal, to
///    infinity from the largest binade), special values; `done` and `quotient` follow on the
///    edge that ends this cycle.
///
/// **Latency** [`Fp32Div::CYCLES`] = 36 cycles: with `start` sampled at edge `t`, `done` is
/// high (and `quotient` valid) after edge `t + 36`, for every input. **Throughput** one
/// division per 36 cycles: `ready` is high in the *Round* cycle, so a `start` there is
/// accepted on the same edge that raises `done`.
/// **Resources** no multiplier, 0 BRAM, 133 register bits, one 26-bit subtractor.
/// Synthesis estimate of the block alone (yosys 0.23, at the time of writing): iCE40
/// `synth_ice40` 408 SB_LUT4, 119 SB_CARRY, 133 FF; ECP5 `synth_ecp5` 393 LUT4, 98 PFUMX,
/// 31 L6MUX21, 69 CCU2C, 133 FF.
/// **Golden** `hgf_golden::fp::div_f32`. **Limits** none: every input bit pattern has its
/// §F3 result (NaN inputs give the canonical NaN, not their payload).
#[derive(LogicBlock)]
pub struct Fp32Div {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: back to idle, `done` low, `quotient` +0. Wins over `start`.
    pub reset: Signal<In, Bit>,
    /// Sample `a` and `b` and start a division on an edge where `start && ready`.
    pub start: Signal<In, Bit>,
    /// binary32 dividend.
    pub a: Signal<In, Bits<32>>,
    /// binary32 divisor.
    pub b: Signal<In, Bits<32>>,
    /// High when a `start` is accepted (idle, or the last cycle of a division).
    pub ready: Signal<Out, Bit>,
    /// One-cycle pulse, [`Fp32Div::CYCLES`] cycles after the accepted `start`.
    pub done: Signal<Out, Bit>,
    /// binary32 `fl32(a / b)`, valid with `done` and held until the next result.
    pub quotient: Signal<Out, Bits<32>>,
    // Operand decode (for the load on `start`).
    a_exp: Signal<Local, Bits<8>>,
    b_exp: Signal<Local, Bits<8>>,
    a_sig: Signal<Local, Bits<24>>,
    b_sig: Signal<Local, Bits<24>>,
    a_eff: Signal<Local, Bits<10>>,
    b_eff: Signal<Local, Bits<10>>,
    a_zero: Signal<Local, Bit>,
    b_zero: Signal<Local, Bit>,
    a_inf: Signal<Local, Bit>,
    b_inf: Signal<Local, Bit>,
    a_nan: Signal<Local, Bit>,
    b_nan: Signal<Local, Bit>,
    kind: Signal<Local, Bits<2>>,
    // Datapath.
    a_step: Signal<Local, Bits<10>>,
    b_step: Signal<Local, Bits<10>>,
    diff: Signal<Local, Bits<26>>,
    diff25: Signal<Local, Bits<25>>,
    fits: Signal<Local, Bit>,
    exp_new: Signal<Local, Bits<10>>,
    keep_new: Signal<Local, Bits<10>>,
    accept: Signal<Local, Bit>,
    // Rounding and packing.
    sig24: Signal<Local, Bits<24>>,
    // The significand rounded to nearest even, with its carry out (bit 24).
    round: RoundNearestEven<24, 25>,
    mant: Signal<Local, Bits<25>>,
    exp_field: Signal<Local, Bits<8>>,
    exp32: Signal<Local, Bits<32>>,
    frac32: Signal<Local, Bits<32>>,
    sign32: Signal<Local, Bits<32>>,
    result: Signal<Local, Bits<32>>,
    // Registers.
    /// Phase: 0 Idle, 1 Norm, 2 Align, 3 Iterate, 4 Round (see the block doc).
    state: DFF<Bits<3>>,
    /// Cycle counter within Norm and Iterate.
    count: DFF<Bits<5>>,
    /// Partial remainder (the dividend's significand during Norm).
    rem: DFF<Bits<25>>,
    /// Divisor significand.
    dvs: DFF<Bits<24>>,
    /// Quotient bits, the last one is the round bit.
    quo: DFF<Bits<25>>,
    /// Biased exponent (two's complement) until Align, then the packed exponent minus one.
    exp: DFF<Bits<10>>,
    /// Quotient bits above the sticky position.
    keep: DFF<Bits<5>>,
    sign: DFF<Bit>,
    /// 0 finite non-zero, 1 zero, 2 infinity, 3 NaN.
    kind_reg: DFF<Bits<2>>,
    result_reg: DFF<Bits<32>>,
    done_reg: DFF<Bit>,
}

impl Fp32Div {
    /// Clock edges from the edge that samples `start` to the edge after which `done` is high.
    pub const CYCLES: usize = Self::NORM_CYCLES + 1 + Self::QUOTIENT_BITS + 1;
    /// Cycles of the normalisation phase.
    pub const NORM_CYCLES: usize = 9;
    /// Quotient bits: 24 significand bits and the round bit.
    pub const QUOTIENT_BITS: usize = 25;

    /// An idle divider with `quotient` = +0.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            a: Default::default(),
            b: Default::default(),
            ready: Default::default(),
            done: Default::default(),
            quotient: Default::default(),
            a_exp: Default::default(),
            b_exp: Default::default(),
            a_sig: Default::default(),
            b_sig: Default::default(),
            a_eff: Default::default(),
            b_eff: Default::default(),
            a_zero: Default::default(),
            b_zero: Default::default(),
            a_inf: Default::default(),
            b_inf: Default::default(),
            a_nan: Default::default(),
            b_nan: Default::default(),
            kind: Default::default(),
            a_step: Default::default(),
            b_step: Default::default(),
            diff: Default::default(),
            diff25: Default::default(),
            fits: Default::default(),
            exp_new: Default::default(),
            keep_new: Default::default(),
            accept: Default::default(),
            sig24: Default::default(),
            round: RoundNearestEven::new(),
            mant: Default::default(),
            exp_field: Default::default(),
            exp32: Default::default(),
            frac32: Default::default(),
            sign32: Default::default(),
            result: Default::default(),
            state: Default::default(),
            count: Default::default(),
            rem: Default::default(),
            dvs: Default::default(),
            quo: Default::default(),
            exp: Default::default(),
            keep: Default::default(),
            sign: Default::default(),
            kind_reg: Default::default(),
            result_reg: Default::default(),
            done_reg: Default::default(),
        }
    }
}

impl Default for Fp32Div {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp32Div {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, state, count, rem, dvs, quo, exp, keep, sign, kind_reg, result_reg,
            done_reg
        );

        // ---- Operand decode. A subnormal has no hidden bit and the exponent of the
        // smallest normal.
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
        self.a_zero.next = (self.a_exp.val() == 0) && !self.a.val().get_bits::<23>(0).any();
        self.b_zero.next = (self.b_exp.val() == 0) && !self.b.val().get_bits::<23>(0).any();
        self.a_inf.next = self.a_exp.val().all() && !self.a.val().get_bits::<23>(0).any();
        self.b_inf.next = self.b_exp.val().all() && !self.b.val().get_bits::<23>(0).any();
        self.a_nan.next = self.a_exp.val().all() && self.a.val().get_bits::<23>(0).any();
        self.b_nan.next = self.b_exp.val().all() && self.b.val().get_bits::<23>(0).any();
        self.kind.next = 0.into();
        if self.a_zero.val() || self.b_inf.val() {
            self.kind.next = 1.into();
        }
        if self.a_inf.val() || self.b_zero.val() {
            self.kind.next = 2.into();
        }
        if self.a_nan.val()
            || self.b_nan.val()
            || (self.a_zero.val() && self.b_zero.val())
            || (self.a_inf.val() && self.b_inf.val())
        {
            self.kind.next = 3.into();
        }

        // ---- Datapath. Normalisation steps: 8 when the top 8 bits are zero, else 1 when
        // the top bit is zero.
        self.a_step.next = 0.into();
        if !self.rem.q.val().get_bits::<8>(16).any() {
            self.a_step.next = 8.into();
        } else if !self.rem.q.val().get_bit(23) {
            self.a_step.next = 1.into();
        }
        self.b_step.next = 0.into();
        if !self.dvs.q.val().get_bits::<8>(16).any() {
            self.b_step.next = 8.into();
        } else if !self.dvs.q.val().get_bit(23) {
            self.b_step.next = 1.into();
        }
        // remainder - divisor, with the borrow in bit 25: `fits` = remainder >= divisor.
        self.diff.next =
            bit_cast::<26, 25>(self.rem.q.val()) - bit_cast::<26, 24>(self.dvs.q.val());
        self.diff25.next = self.diff.val().get_bits::<25>(0);
        self.fits.next = !self.diff.val().get_bit(25);
        // Align: the quotient's exponent once the dividend is below twice the divisor, and
        // 24 + exponent, the quotient bits kept for a subnormal result.
        self.exp_new.next = self.exp.q.val();
        if !self.fits.val() {
            self.exp_new.next = self.exp.q.val() - 1;
        }
        self.keep_new.next = self.exp_new.val() + 24;

        // ---- Round and pack: the 24 bits above the round bit, RNE with sticky =
        // remainder != 0; the packed exponent minus one plus the 25-bit rounded significand.
        self.sig24.next = self.quo.q.val().get_bits::<24>(1);
        self.round.kept.next = self.sig24.val();
        self.round.guard.next = self.quo.q.val().get_bit(0);
        self.round.sticky.next = self.rem.q.val().any();
        self.mant.next = self.round.rounded.val();
        // The significand's bits 24:23 (hidden bit, rounding carry) add to the exponent.
        self.exp_field.next =
            self.exp.q.val().get_bits::<8>(0) + bit_cast::<8, 2>(self.mant.val().get_bits::<2>(23));
        self.exp32.next = bit_cast::<32, 8>(self.exp_field.val()) << 23;
        self.frac32.next = bit_cast::<32, 23>(self.mant.val().get_bits::<23>(0));
        self.sign32.next = bit_cast::<32, 1>(self.sign.q.val().into()) << 31;
        match self.kind_reg.q.val().index() {
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

        // ---- Control.
        self.ready.next = false;
        self.done_reg.d.next = false;
        match self.state.q.val().index() {
            0 => {
                // Idle.
                self.ready.next = true;
            }
            1 => {
                // Norm.
                if self.a_step.val() == 8 {
                    self.rem.d.next = self.rem.q.val() << 8;
                } else if self.a_step.val() == 1 {
                    self.rem.d.next = self.rem.q.val() << 1;
                }
                if self.b_step.val() == 8 {
                    self.dvs.d.next = self.dvs.q.val() << 8;
                } else if self.b_step.val() == 1 {
                    self.dvs.d.next = self.dvs.q.val() << 1;
                }
                self.exp.d.next = (self.exp.q.val() - self.a_step.val()) + self.b_step.val();
                self.count.d.next = self.count.q.val() + 1;
                if self.count.q.val() == 8 {
                    self.count.d.next = 0.into();
                    self.state.d.next = 2.into();
                }
            }
            2 => {
                // Align.
                if !self.fits.val() {
                    self.rem.d.next = self.rem.q.val() << 1;
                }
                if self.exp_new.val().get_bit(9) || (self.exp_new.val() == 0) {
                    // Subnormal or zero result: packed exponent 0, keep 24 + e bits (none
                    // when that is negative).
                    self.exp.d.next = 0.into();
                    // keep_new is 24 + e <= 24 here; above 24 it is negative.
                    if self.keep_new.val() > 24 {
                        self.keep.d.next = 0.into();
                    } else {
                        self.keep.d.next = self.keep_new.val().get_bits::<5>(0);
                    }
                } else {
                    self.exp.d.next = self.exp_new.val() - 1;
                    self.keep.d.next = 25.into();
                    if (self.exp_new.val() > 254) && (self.kind_reg.q.val() == 0) {
                        self.kind_reg.d.next = 2.into();
                    }
                }
                self.state.d.next = 3.into();
            }
            3 => {
                // Iterate.
                if self.count.q.val() < self.keep.q.val() {
                    self.quo.d.next =
                        (self.quo.q.val() << 1) | bit_cast::<25, 1>(self.fits.val().into());
                    if self.fits.val() {
                        self.rem.d.next = self.diff25.val() << 1;
                    } else {
                        self.rem.d.next = self.rem.q.val() << 1;
                    }
                }
                self.count.d.next = self.count.q.val() + 1;
                if self.count.q.val() == 24 {
                    self.count.d.next = 0.into();
                    self.state.d.next = 4.into();
                }
            }
            4 => {
                // Round.
                self.ready.next = true;
                self.result_reg.d.next = self.result.val();
                self.done_reg.d.next = true;
                self.state.d.next = 0.into();
            }
            _ => {
                self.state.d.next = 0.into();
            }
        }
        self.accept.next = self.ready.val() && self.start.val();
        if self.accept.val() {
            self.rem.d.next = bit_cast::<25, 24>(self.a_sig.val());
            self.dvs.d.next = self.b_sig.val();
            self.quo.d.next = 0.into();
            self.exp.d.next = (self.a_eff.val() + 127) - self.b_eff.val();
            self.sign.d.next = self.a.val().get_bit(31) ^ self.b.val().get_bit(31);
            self.kind_reg.d.next = self.kind.val();
            self.count.d.next = 0.into();
            self.state.d.next = 1.into();
        }
        if self.reset.val() {
            self.state.d.next = 0.into();
            self.count.d.next = 0.into();
            self.done_reg.d.next = false;
            self.result_reg.d.next = 0.into();
        }
        self.done.next = self.done_reg.q.val();
        self.quotient.next = self.result_reg.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{assert_all_match, settle, tick};
    use crate::test_operands::{frac, interesting};
    use crate::verilog::{check_all_tools, emit_named};
    use hgf_golden::fp;
    use hgf_golden::testfloat::{self, FpOp};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashMap;

    const SEED: u64 = 0x5eed_f32d;

    fn golden(a: u32, b: u32) -> u32 {
        fp::div_f32(f32::from_bits(a), f32::from_bits(b)).to_bits()
    }

    fn new_uut() -> Fp32Div {
        let mut uut = Fp32Div::new();
        uut.connect_all();
        uut
    }

    /// Runs the divisions of `pairs` in order and returns their quotients. Before each edge
    /// `start` is high with probability `p_start`: with the next pair while `ready`, with junk
    /// operands while busy (which must be ignored); never once every pair has started. So a division often starts in the cycle in
    /// which the previous one finishes (back to back). Checks on every cycle: `done` is high
    /// exactly [`Fp32Div::CYCLES`] edges after each accepted start, `ready` is high exactly
    /// when idle or in a division's last cycle, and `quotient` changes only with `done`.
    fn run(uut: &mut Fp32Div, pairs: &[(u32, u32)], seed: u64, p_start: f64) -> Vec<u32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut quotients = Vec::with_capacity(pairs.len());
        let mut fed = 0;
        let mut edge = 0usize;
        // The edge at which the division in flight was accepted.
        let mut accepted: Option<usize> = None;
        uut.reset.next = false;
        settle(uut);
        let mut last = uut.quotient.val().to_u32();
        while quotients.len() < pairs.len() {
            let finishing = accepted.is_some_and(|t| edge == t + Fp32Div::CYCLES);
            assert_eq!(
                uut.ready.val(),
                accepted.is_none() || finishing,
                "ready before edge {edge} (division accepted at {accepted:?})"
            );
            // Junk starts while busy; no start while ready with nothing left to divide.
            let start = rng.random_bool(p_start) && (fed < pairs.len() || !uut.ready.val());
            let (a, b) = if uut.ready.val() && fed < pairs.len() {
                pairs[fed]
            } else {
                (rng.random(), rng.random())
            };
            uut.start.next = start;
            uut.a.next = a.to_bits();
            uut.b.next = b.to_bits();
            let take = start && uut.ready.val() && fed < pairs.len();
            tick(uut, |u| &mut u.clock);
            edge += 1;
            let out = uut.quotient.val().to_u32();
            assert_eq!(uut.done.val(), finishing, "done after edge {edge}");
            if finishing {
                quotients.push(out);
                accepted = None;
            } else {
                assert_eq!(out, last, "quotient changed without done after edge {edge}");
            }
            if take {
                fed += 1;
                accepted = Some(edge - 1);
            }
            last = out;
        }
        quotients
    }

    /// Asserts that every quotient equals the golden one; lists the first 20 mismatches.
    fn assert_golden(what: &str, pairs: &[(u32, u32)], quotients: &[u32]) {
        assert_all_match(
            &format!("fp32_div {what}"),
            Some(SEED),
            pairs,
            quotients,
            |&(a, b)| golden(a, b),
            |(a, b), q, g| format!("a={a:08x} b={b:08x} rtl={q:08x} gold={g:08x}"),
        );
    }

    /// Edge operands (each also negated): zeros, subnormal and normal bounds, values around
    /// 1, 3, 0.5 and 2, powers of two whose quotients land on the subnormal boundary or
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
        0x3EAA_AAAB, // ~1/3
        0x3F00_0000, // 0.5
        0x3F7F_FFFF, // 1 - 2^-24
        0x3F80_0000, // 1.0
        0x3F80_0001, // 1 + 2^-23
        0x3FFF_FFFF, // 2 - 2^-23
        0x4000_0000, // 2.0
        0x4040_0000, // 3.0
        0x42FE_0000, // 127.0
        0x5F80_0000, // 2^64
        0x7E80_0000, // 2^126
        0x7F00_0000, // 2^127
        0x7F7F_FFFF, // largest finite
        0x7F80_0000, // infinity
        0x7F80_0001, // signalling NaN, payload 1
        0x7FA0_0000, // signalling NaN
        0x7FC0_0000, // canonical quiet NaN
        0x7FFF_FFFF, // quiet NaN, full payload
        0x3727_C5AC, // 1e-5, the quantizer's floor (§Q1)
    ];

    fn edge_values() -> Vec<u32> {
        EDGES.iter().flat_map(|&v| [v, v ^ 0x8000_0000]).collect()
    }

    /// `m * 2^e` as binary32 bits, for a representable result that needs no rounding.
    fn exact(m: u32, e: i32) -> u32 {
        let v = (m as f64) * 2f64.powi(e);
        let f = v as f32;
        assert_eq!(f as f64, v, "{m} * 2^{e} is not a binary32 value");
        f.to_bits()
    }

    /// Named cases: the quantizer's scale, subnormal ties, results exactly at 2^-126
    /// (directly and by rounding up), overflow, underflow to zero, every special rule.
    fn named_pairs() -> Vec<(u32, u32)> {
        vec![
            (0x42FE_0000, 0x3727_C5AC), // 127 / 1e-5 = 0x4B41C960 (§S)
            (0x0000_0001, 0x4000_0000), // 2^-150: tie, to +0 (even)
            (0x0000_0003, 0x4000_0000), // 1.5 * 2^-149: tie, to 2^-148 (even)
            (0x0000_0005, 0x4080_0000), // 1.25 * 2^-149: to 2^-149
            (0x00FF_FFFF, 0x4000_0000), // 2^-126 - 2^-150: tie, up to 2^-126
            (0x0100_0000, 0x4000_0000), // 2^-126 exactly
            (0x3F80_0000, 0x7E80_0000), // 1 / 2^126 = 2^-126
            (0x3F80_0000, 0x7F00_0000), // 1 / 2^127 = 2^-127, subnormal
            (0x3F80_0000, 0x7F7F_FFFF), // 1 / largest: subnormal, rounded
            (0x7F7F_FFFF, 0x3F00_0000), // largest / 0.5: overflow
            (0x7F7F_FFFF, 0x3F7F_FFFF), // largest / (1 - 2^-24): overflow by rounding
            (0x7F7F_FFFF, 0x3F80_0000), // largest / 1
            (0x3F80_0000, 0x0000_0001), // 2^149: overflow
            (0x0000_0001, 0x7F7F_FFFF), // underflow to 0
            (0x0000_0003, 0x0000_0001), // subnormal / subnormal = 3
            (0x007F_FFFF, 0x0000_0001), // 2^23 - 1
            (0x3F80_0000, 0x4040_0000), // 1/3
            (0x4000_0000, 0x4040_0000), // 2/3
            (0x0000_0000, 0x0000_0000), // 0/0: NaN
            (0x7F80_0000, 0xFF80_0000), // inf/-inf: NaN
            (0x3F80_0000, 0x0000_0000), // 1/0 = +inf
            (0xBF80_0000, 0x0000_0000), // -1/0 = -inf
            (0x3F80_0000, 0x8000_0000), // 1/-0 = -inf
            (0x8000_0000, 0x3F80_0000), // -0/1 = -0
            (0x3F80_0000, 0xFF80_0000), // 1/-inf = -0
            (0xFF80_0000, 0x8000_0000), // -inf/-0 = +inf
            (0x0000_0000, 0x7F80_0000), // 0/inf = +0
            (0x7FC0_0000, 0x0000_0000), // NaN/0: NaN
        ]
    }

    /// A pair whose quotient's biased exponent is about `target`: near 0 exercises gradual
    /// underflow, near 255 overflow.
    fn pair_with_exponent(rng: &mut ChaCha8Rng, target: i32) -> (u32, u32) {
        let eb = rng.random_range(0..255i32);
        let ea = (target - 127 + eb).clamp(0, 254);
        let sa = u32::from(rng.random::<bool>()) << 31;
        let sb = u32::from(rng.random::<bool>()) << 31;
        (
            sa | ((ea as u32) << 23) | frac(rng),
            sb | ((eb as u32) << 23) | frac(rng),
        )
    }

    /// An exact quotient `m * 2^lsb` (`m` odd) with its last bit at or below half of the
    /// subnormal ulp: a tie, or below half, at a subnormal precision.
    fn subnormal_tie(rng: &mut ChaCha8Rng) -> (u32, u32) {
        let mb = [1u32, 3, 5, 7, 9][rng.random_range(0..5)];
        let m = rng.random_range(1u32..1 << 20) | 1;
        let lsb = rng.random_range(-156..=-150);
        let k = rng.random_range(7..120);
        let sign = |rng: &mut ChaCha8Rng| if rng.random() { 0x8000_0000 } else { 0 };
        (exact(m * mb, lsb + k) | sign(rng), exact(mb, k) | sign(rng))
    }

    #[test]
    fn synthesizes() {
        let uut = new_uut();
        let v = emit_named(&uut, "fp32_div").unwrap();
        assert!(v.contains("module fp32_div("));
        check_all_tools("fp32_div", &v).unwrap();
        // No multiplier.
        assert_eq!(v.matches(" * ").count(), 0, "{v}");
    }

    /// Every pair of the edge set and the named cases, with random gaps and back-to-back
    /// starts, junk `start`s while busy.
    #[test]
    fn edge_pairs_back_to_back_match_golden() {
        let values = edge_values();
        let mut pairs = named_pairs();
        for &a in &values {
            for &b in &values {
                pairs.push((a, b));
            }
        }
        // The named cases are what they claim (a guard against a wrong table).
        let gold = |i: usize| golden(pairs[i].0, pairs[i].1);
        assert_eq!(gold(0), 0x4B41_C960);
        assert_eq!(gold(1), 0);
        assert_eq!(gold(2), 2);
        assert_eq!(gold(4), 0x0080_0000);
        assert_eq!(gold(9), 0x7F80_0000);
        let mut uut = new_uut();
        let quotients = run(&mut uut, &pairs, SEED, 0.8);
        assert_golden("edge pairs", &pairs, &quotients);
    }

    /// 24,000 seeded random divisions: uniform bit patterns, biased patterns, quotients
    /// near the subnormal boundary and near overflow, subnormal ties, subnormal operands.
    #[test]
    fn random_divisions_match_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
        let pairs: Vec<(u32, u32)> = (0..24_000)
            .map(|_| match rng.random_range(0..6u32) {
                0 => (rng.random(), rng.random()),
                1 => (interesting(&mut rng), interesting(&mut rng)),
                2 => {
                    let t = rng.random_range(-30..=3);
                    pair_with_exponent(&mut rng, t)
                }
                3 => {
                    let t = rng.random_range(250..=258);
                    pair_with_exponent(&mut rng, t)
                }
                4 => subnormal_tie(&mut rng),
                _ => {
                    // One subnormal operand.
                    let sub = (u32::from(rng.random::<bool>()) << 31) | frac(&mut rng);
                    if rng.random() {
                        (sub, interesting(&mut rng))
                    } else {
                        (interesting(&mut rng), sub)
                    }
                }
            })
            .collect();
        let mut uut = new_uut();
        let quotients = run(&mut uut, &pairs, SEED + 2, 0.9);
        assert_golden("random", &pairs, &quotients);
    }

    /// A synchronous reset at every point of a division (and together with `start`)
    /// abandons it: idle on the next edge, no `done`, `quotient` +0; the next division is
    /// right and takes [`Fp32Div::CYCLES`] cycles.
    #[test]
    fn reset_abandons_a_division() {
        let mut uut = new_uut();
        let (a, b) = (0x3F80_0000u32, 0x4040_0000u32); // 1/3
        let (c, d) = (0x0000_0003u32, 0x4000_0000u32); // subnormal tie
                                                       // A first result, so that the reset visibly clears `quotient`.
        assert_eq!(run(&mut uut, &[(c, d)], SEED + 3, 1.0), vec![golden(c, d)]);
        for k in 0..=Fp32Div::CYCLES {
            // Start at edge 0, then reset on edge k (k = 0: reset and start together).
            uut.a.next = a.to_bits();
            uut.b.next = b.to_bits();
            uut.start.next = true;
            uut.reset.next = k == 0;
            tick(&mut uut, |u| &mut u.clock);
            uut.start.next = false;
            for edge in 1..=k {
                uut.reset.next = edge == k;
                tick(&mut uut, |u| &mut u.clock);
                if edge < k {
                    assert!(!uut.done.val(), "k = {k}: done after edge {edge}");
                }
            }
            uut.reset.next = false;
            assert!(uut.ready.val(), "k = {k}: not idle after the reset");
            assert!(!uut.done.val(), "k = {k}: done after the reset");
            assert_eq!(
                uut.quotient.val().to_u32(),
                0,
                "k = {k}: quotient not cleared"
            );
            for edge in 0..Fp32Div::CYCLES + 3 {
                tick(&mut uut, |u| &mut u.clock);
                assert!(
                    !uut.done.val(),
                    "k = {k}: done {edge} edges after the reset"
                );
                assert!(
                    uut.ready.val(),
                    "k = {k}: busy {edge} edges after the reset"
                );
            }
            assert_eq!(run(&mut uut, &[(c, d)], SEED + 4, 1.0), vec![golden(c, d)]);
        }
    }

    /// Berkeley TestFloat `f32_div` (level 1, RNE): all 46,464 vectors, back to back.
    #[test]
    fn testfloat_f32_div_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../golden/tests/vectors/f32_div_rne_level1.txt.gz"
        );
        let vectors = testfloat::read_vectors(path, FpOp::F32Div).unwrap_or_else(|e| panic!("{e}"));
        let pairs: Vec<(u32, u32)> = vectors
            .iter()
            .map(|v| (v.operands[0], v.operands[1]))
            .collect();
        let mut uut = new_uut();
        let quotients = run(&mut uut, &pairs, SEED + 5, 1.0);
        let rtl: HashMap<(u32, u32), u32> = pairs.iter().copied().zip(quotients).collect();
        let report = testfloat::check(FpOp::F32Div, &vectors, |ops| rtl[&(ops[0], ops[1])]);
        assert!(report.cases > 0, "{report}");
        assert_eq!(report.mismatches, 0, "{report}");
        assert!(report.passed(), "{report}");
    }
}
