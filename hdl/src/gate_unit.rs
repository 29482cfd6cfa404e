//! The output datapath of one projection output: dequantization and gate.

use rust_hdl::prelude::*;

use crate::f32_to_f16::F32ToF16;
use crate::fp32_add::Fp32Add;
use crate::fp32_mul::Fp32Mul;
use crate::i32_to_f32::I32ToF32;
use crate::resources::Resources;

/// Dequantization and gate of one output, fully pipelined (`GateUnit`).
///
/// **Function.** `y = binary16(fl32(fl32(fl32(acc) * k) + fl32(g * v)))`: the ternary sum
/// `acc` is converted to binary32 (exact, §F6, because `|acc| <= 2^24`, §T2) and dequantized
/// with the token's factor `k` (`yt = fl32(fl32(acc) * k)`, §T3); the correction `v` is
/// gated (`fl32(g * v)`); the two are added (one binary32 rounding, not fused) and the sum is
/// rounded once to binary16 (§G1). Every rounding is RNE with §F1's rules: subnormals kept,
/// overflow to ±infinity (a binary16 result of magnitude 65520 or more), signed zeros as
/// IEEE gives them, any NaN (`k` NaN, `0 * inf`, `inf - inf`, …) gives the canonical NaN
/// `0x7E00`. So a token whose `k` is NaN or infinite yields `0x7E00` everywhere (§S).
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `enable` | in | 1 | high: the pipeline advances on this edge (inputs sampled); low: every register holds, the outputs included |
/// | `valid_in` | in | 1 | the inputs of this enabled edge are an output to compute (low: a bubble) |
/// | `acc` | in | 32 | ternary sum `acc_j`, two's complement, `\|acc\| <= 2^24` (sign-extend the `acc_bits` accumulator); sampled [`GateUnit::ACC_LEAD`] = 1 enabled edge *before* the edge that samples the output's `valid_in`, `k`, `g`, `v` |
/// | `k` | in | 32 | binary32 dequantization factor `beta / s` of the token (§T3) |
/// | `g` | in | 32 | binary32 effective gate (§1) |
/// | `v` | in | 32 | binary32 correction `v_j` (§L5) |
/// | `valid_out` | out | 1 | `y` holds the result of a `valid_in` input; it is taken on the next enabled edge |
/// | `y` | out | 16 | binary16 output `y_j`, from a register |
/// | `lend` | in | 1 | the first multiplier takes `lend_a`, `lend_b` on this edge instead of the gate's operands (for the quantizer's `x * s` when the config shares it; keep low while the gate works) |
/// | `lend_a`, `lend_b` | in | 32 | binary32 operands lent to the first multiplier |
/// | `lent_product` | out | 32 | the first multiplier's product, [`Fp32Mul::LATENCY`] enabled edges after its operands |
/// | `add_a`, `add_b` | out | 32, 32 | the operands `yt`, `fl32(g * v)` of the sum, for a borrowed adder (the edge that samples them is `n + 5`) |
/// | `sum16` | in | 16 | with a borrowed adder: `binary16(add_a + add_b)`, rounded outside, [`Fp32Add::LATENCY`] enabled edges after `add_a`, `add_b` (unused with the unit's own adder) |
///
/// Pipeline (registers on enabled edges; `n` is the edge that samples the inputs):
/// - edges `n-1`, `n`: [`I32ToF32`] converts `acc` in its two stages (in one stage, its
///   leading-zero count, shift and rounding carry chain were the unit's slowest path on the
///   UP5K), the first one edge ahead of the other inputs so that the conversion adds no
///   latency; `k` is registered on edge `n`; `g`, `v` enter a multiplier directly
///   (`muls[1]`, or `muls[0]` when it is the only one);
/// - edges `n+1 … n+4`: [`Fp32Mul`] `muls[0]` computes `yt = fl32(acc) * k`; the `g * v`
///   product is ready after edge `n+3` and waits one register (`gv_delay`, edge `n+4`),
///   which balances the two multiplier paths (32 flip-flops rather than 64 to delay `g`,
///   `v`). With one multiplier, `muls[0]` takes `g, v` on edge `n` and `fl32(acc), k` on
///   edge `n+1`, so the timing is the same and the unit needs a free edge after each input;
/// - edges `n+5 … n+8`: [`Fp32Add`] computes `yt + g*v` (the unit's own, or one borrowed
///   through `add_a`, `add_b`, `sum16` that advances with this unit's `enable`: low-rank
///   lane 0's, when `HgfConfig::gate_shares_adder`; the lane's binary16 rounding of `u` then
///   rounds `y` too);
/// - edge `n+9`: [`F32ToF16`] (combinational) rounds the sum, registered into `y`.
///
/// **Latency** [`GateUnit::LATENCY`] = 10 enabled edges: inputs sampled by enabled edge `n`
/// (`acc` by the one before) give `y` (with `valid_out` high) after enabled edge `n + 9`. A shift register carries
/// `valid_in` alongside the data. **Throughput** one output per enabled cycle with two
/// multipliers, one per two enabled cycles with one (`valid_in` must then be low on the
/// enabled edge after a high one: `HgfConfig::gate_issue_interval`); never stalls by itself;
/// bubbles (`valid_in` low) pass through as `valid_out` low.
/// **Resources** one or two [`Fp32Mul`] (four 16x16 multipliers each: `SB_MAC16` /
/// `MULT18X18D`; `HgfConfig::gate_multipliers`), one
/// [`Fp32Add`] and [`F32ToF16`] (none when borrowed), one [`I32ToF32`] (72 flip-flops, its
/// output register holding `fl32(acc)`), 90 flip-flops of its own (`k`, the delayed `g*v`,
/// `y`, 10 valid bits); 0 BRAM. LUT/FF counts by target
/// in the block's synthesis report (yosys `synth_ice40 -dsp`, `synth_ecp5`).
/// **Golden** `hgf_golden::gate::gate(hgf_golden::ternary::dequantize(acc, k), g, v)`.
/// **Limits** `acc` must satisfy `|acc| <= 2^24` for the contract's exact conversion (§T3);
/// larger values are rounded RNE by [`I32ToF32`] (what `hgf_golden::fp::i32_to_f32` does
/// too). No reset: after a core reset, results still in flight come out with `valid_out`
/// unless the core drops them (10 enabled cycles flush the pipeline with `valid_in` low).
#[derive(LogicBlock)]
pub struct GateUnit {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// High: the pipeline advances on this edge. Low: every register holds.
    pub enable: Signal<In, Bit>,
    /// The inputs sampled on this enabled edge are an output to compute.
    pub valid_in: Signal<In, Bit>,
    /// Ternary sum, two's complement, |acc| <= 2^24; [`GateUnit::ACC_LEAD`] enabled edges
    /// ahead of the output's other inputs.
    pub acc: Signal<In, Bits<32>>,
    /// binary32 dequantization factor k = beta / s.
    pub k: Signal<In, Bits<32>>,
    /// binary32 gate g.
    pub g: Signal<In, Bits<32>>,
    /// binary32 low-rank correction v.
    pub v: Signal<In, Bits<32>>,
    /// `y` holds a result, [`GateUnit::LATENCY`] enabled edges after its inputs.
    pub valid_out: Signal<Out, Bit>,
    /// binary16 output.
    pub y: Signal<Out, Bits<16>>,
    /// High: `muls[0]` computes `lend_a * lend_b` on this edge for another unit, instead of
    /// the gate's own operands (only while the gate has nothing in its first two stages).
    pub lend: Signal<In, Bit>,
    pub lend_a: Signal<In, Bits<32>>,
    pub lend_b: Signal<In, Bits<32>>,
    /// `muls[0]`'s product, [`Fp32Mul::LATENCY`] enabled edges after its operands.
    pub lent_product: Signal<Out, Bits<32>>,
    /// The sum's left operand `yt`, for a borrowed adder.
    pub add_a: Signal<Out, Bits<32>>,
    /// The sum's right operand `fl32(g * v)`, for a borrowed adder.
    pub add_b: Signal<Out, Bits<32>>,
    /// The borrowed adder's result rounded to binary16.
    pub sum16: Signal<In, Bits<16>>,
    // Sub-blocks.
    to_f32: I32ToF32,
    /// `muls[0]` computes `fl32(acc) * k`, and `g * v` too when it is the only one.
    muls: Vec<Fp32Mul>,
    /// The unit's own adder and rounding (one each), or none when it borrows them.
    adds: Vec<Fp32Add>,
    to_f16s: Vec<F32ToF16>,
    // Local signals.
    /// `valid_in` as a word (0 or 1): a cast would widen it, a width mismatch in the
    /// Verilog (docs/lint-waivers.md).
    valid_bit: Signal<Local, Bits<10>>,
    valid_zero: Constant<Bits<10>>,
    valid_one: Constant<Bits<10>>,
    /// `binary16(yt + g * v)`, from the own or the borrowed adder.
    rounded: Signal<Local, Bits<16>>,
    /// High when `muls[0]` is the only multiplier.
    shared: Constant<Bit>,
    // Registers.
    /// k, edge n (fl32(acc), edge n: the converter's output register).
    s0_k: DFF<Bits<32>>,
    /// fl32(g * v), edge n + 4.
    gv_delay: DFF<Bits<32>>,
    /// y, edge n + 9.
    y_reg: DFF<Bits<16>>,
    /// valid_in of the last 10 enabled edges (bit 0 the newest).
    valid_pipe: DFF<Bits<10>>,
    // The multiplier whose product is `g * v` (a one-pass loop names it: rust-hdl evaluates
    // an index only from loop variables).
    _gv_mul: usize,
    _gv_end: usize,
}

impl GateUnit {
    /// Enabled clock edges from the inputs to `y`: 1 (the conversion's last register) + 4
    /// (`Fp32Mul`) + 4 (`Fp32Add`) + 1 (binary16 register).
    pub const LATENCY: usize =
        I32ToF32::LATENCY - Self::ACC_LEAD + Fp32Mul::LATENCY + Fp32Add::LATENCY + 1;

    /// Enabled edges by which `acc` leads the other inputs of its output: the conversion's
    /// stages before its last, which the caller covers with the accumulator read's own
    /// delay (the core reads `acc_j` a cycle before `v_j` is ready).
    pub const ACC_LEAD: usize = I32ToF32::LATENCY - 1;

    /// A gate unit with an empty pipeline and `multipliers` (1 or 2) binary32 multipliers;
    /// with `borrows_adder`, no adder and rounding of its own (ports `add_a`, `add_b`,
    /// `sum16`).
    /// What [`GateUnit::new`] builds: `multipliers` times [`Fp32Mul::resources`] (the adder,
    /// own or borrowed, and the conversions use none); no memory.
    pub fn resources(multipliers: usize) -> Resources {
        Fp32Mul::resources().times(multipliers)
    }

    pub fn new(multipliers: usize, borrows_adder: bool) -> Self {
        assert!(
            (1..=2).contains(&multipliers),
            "the gate has 1 or 2 multipliers"
        );
        let own = usize::from(!borrows_adder);
        Self {
            clock: Default::default(),
            enable: Default::default(),
            valid_in: Default::default(),
            acc: Default::default(),
            k: Default::default(),
            g: Default::default(),
            v: Default::default(),
            valid_out: Default::default(),
            y: Default::default(),
            lend: Default::default(),
            lend_a: Default::default(),
            lend_b: Default::default(),
            lent_product: Default::default(),
            add_a: Default::default(),
            add_b: Default::default(),
            sum16: Default::default(),
            to_f32: I32ToF32::new(),
            muls: (0..multipliers).map(|_| Fp32Mul::new()).collect(),
            adds: (0..own).map(|_| Fp32Add::new()).collect(),
            to_f16s: (0..own).map(|_| F32ToF16::new()).collect(),
            valid_bit: Default::default(),
            valid_zero: Constant::new(0u64.into()),
            valid_one: Constant::new(1u64.into()),
            rounded: Default::default(),
            shared: Constant::new(multipliers == 1),
            s0_k: Default::default(),
            gv_delay: Default::default(),
            y_reg: Default::default(),
            valid_pipe: Default::default(),
            _gv_mul: multipliers - 1,
            _gv_end: multipliers,
        }
    }
}

impl Logic for GateUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, s0_k, gv_delay, y_reg, valid_pipe);
        for i in 0..self.muls.len() {
            self.muls[i].clock.next = self.clock.val();
            self.muls[i].enable.next = self.enable.val();
        }

        // Edges n-1, n: fl32(acc) converted; edge n: k registered; g * v starts (on muls[0]
        // when it is the only multiplier: it is free because edge n-1 sampled no input).
        self.to_f32.clock.next = self.clock.val();
        self.to_f32.enable.next = self.enable.val();
        self.to_f32.x.next = self.acc.val();
        for i in 1..self.muls.len() {
            self.muls[i].a.next = self.g.val();
            self.muls[i].b.next = self.v.val();
        }
        // Edges n+1 .. n+4: yt = fl32(acc) * k; g * v delayed by one register.
        self.muls[0].a.next = self.to_f32.y.val();
        self.muls[0].b.next = self.s0_k.q.val();
        if self.shared.val() & self.valid_in.val() {
            self.muls[0].a.next = self.g.val();
            self.muls[0].b.next = self.v.val();
        }
        if self.lend.val() {
            self.muls[0].a.next = self.lend_a.val();
            self.muls[0].b.next = self.lend_b.val();
        }
        self.lent_product.next = self.muls[0].product.val();
        // Edges n+5 .. n+8: yt + g * v, then (edge n+9) binary16 rounding, on the unit's
        // own adder or a borrowed one.
        self.add_a.next = self.muls[0].product.val();
        self.add_b.next = self.gv_delay.q.val();
        self.rounded.next = self.sum16.val();
        for i in 0..self.adds.len() {
            self.adds[i].clock.next = self.clock.val();
            self.adds[i].enable.next = self.enable.val();
            self.adds[i].a.next = self.muls[0].product.val();
            self.adds[i].b.next = self.gv_delay.q.val();
            self.to_f16s[i].x.next = self.adds[i].sum.val();
            self.rounded.next = self.to_f16s[i].y.val();
        }
        self.valid_bit.next = self.valid_zero.val();
        if self.valid_in.val() {
            self.valid_bit.next = self.valid_one.val();
        }
        if self.enable.val() {
            self.s0_k.d.next = self.k.val();
            for i in self._gv_mul..self._gv_end {
                self.gv_delay.d.next = self.muls[i].product.val();
            }
            self.y_reg.d.next = self.rounded.val();
            self.valid_pipe.d.next = (self.valid_pipe.q.val() << 1) | self.valid_bit.val();
        }
        self.y.next = self.y_reg.q.val();
        self.valid_out.next = self.valid_pipe.q.val().get_bit(9);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{assert_all_match, tick};
    use crate::verilog::{check_all_tools, emit_named, emit_rust_hdl};
    use hgf_golden::gate::gate;
    use hgf_golden::ternary::dequantize;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn states_the_multipliers_it_builds() {
        for multipliers in [1, 2] {
            let unit = GateUnit::new(multipliers, false);
            let stated = GateUnit::resources(multipliers);
            assert_eq!(stated.multipliers, 4 * unit.muls.len() as u64);
            assert!(stated.memories.is_empty());
        }
    }

    const SEED: u64 = 0x5eed_9a7e;

    /// One output's inputs: acc (as i32), k, g, v (binary32 bits).
    #[derive(Clone, Copy, Debug)]
    struct Case {
        acc: i32,
        k: u32,
        g: u32,
        v: u32,
    }

    fn golden(c: Case) -> u16 {
        let yt = dequantize(c.acc, f32::from_bits(c.k));
        gate(yt, f32::from_bits(c.g), f32::from_bits(c.v)).to_bits()
    }

    fn new_uut(multipliers: usize) -> GateUnit {
        let mut uut = GateUnit::new(multipliers, false);
        uut.connect_all();
        uut
    }

    /// Feeds `cases` one per enabled cycle (with `valid_in` low on bubble cycles, and on the
    /// enabled cycle after a fed one when the unit has one multiplier), and returns the
    /// outputs in order: an output is taken on each enabled edge where `valid_out` is high.
    /// On disabled cycles the inputs are junk and the outputs must hold.
    fn stream(
        uut: &mut GateUnit,
        multipliers: usize,
        cases: &[Case],
        mut enable: impl FnMut() -> bool,
        mut bubble: impl FnMut() -> bool,
        mut junk: impl FnMut() -> u32,
    ) -> Vec<u16> {
        let mut out = Vec::with_capacity(cases.len());
        let mut fed = 0;
        let mut cycles = 0usize;
        // Whether the next enabled edge feeds a case: decided one enabled edge ahead, since
        // `acc` leads the other inputs by that edge (ACC_LEAD = 1).
        assert_eq!(GateUnit::ACC_LEAD, 1);
        let mut feed_next = false;
        while out.len() < cases.len() {
            cycles += 1;
            assert!(
                cycles < 10 * cases.len() + 1000,
                "outputs stopped after {} of {}",
                out.len(),
                cases.len()
            );
            let en = enable();
            let feed = en && feed_next;
            let mut acc = junk() as i32;
            if en {
                let left = cases.len() - fed - usize::from(feed);
                feed_next = left > 0 && !bubble() && !(multipliers == 1 && feed);
                if feed_next {
                    acc = cases[fed + usize::from(feed)].acc;
                }
            }
            let c = if feed {
                cases[fed]
            } else {
                Case {
                    acc: junk() as i32,
                    k: junk(),
                    g: junk(),
                    v: junk(),
                }
            };
            uut.enable.next = en;
            uut.valid_in.next = feed || (!en && junk() & 1 == 1);
            uut.acc.next = (acc as u32).to_bits();
            uut.k.next = c.k.to_bits();
            uut.g.next = c.g.to_bits();
            uut.v.next = c.v.to_bits();
            let (before_valid, before_y) = (uut.valid_out.val(), uut.y.val());
            if en && before_valid {
                out.push(before_y.to_u32() as u16);
            }
            tick(uut, |u| &mut u.clock);
            if feed {
                fed += 1;
            }
            if !en {
                assert_eq!(
                    uut.valid_out.val(),
                    before_valid,
                    "valid_out moved, enable low"
                );
                assert_eq!(uut.y.val(), before_y, "y moved while enable was low");
            }
        }
        // Nothing but the fed cases comes out.
        for _ in 0..GateUnit::LATENCY {
            uut.enable.next = true;
            uut.valid_in.next = false;
            tick(uut, |u| &mut u.clock);
            assert!(!uut.valid_out.val(), "an extra output came out");
        }
        out
    }

    /// Asserts that every output equals the golden one; lists the first 20 mismatches.
    fn assert_golden(what: &str, cases: &[Case], outs: &[u16]) {
        assert_all_match(
            &format!("gate_unit {what}"),
            Some(SEED),
            cases,
            outs,
            |&c| golden(c),
            |c, y, gold| {
                format!(
                    "acc={} k={:08x} g={:08x} v={:08x} rtl={y:04x} gold={gold:04x}",
                    c.acc, c.k, c.g, c.v
                )
            },
        );
    }

    fn f(x: f32) -> u32 {
        x.to_bits()
    }

    /// `m * 2^e` as binary32 bits (exact).
    fn exact(m: i64, e: i32) -> u32 {
        let v = (m as f64) * 2f64.powi(e);
        let x = v as f32;
        assert_eq!(x as f64, v, "{m} * 2^{e} is not a binary32 value");
        x.to_bits()
    }

    const ACCS: [i32; 10] = [
        0,
        1,
        -1,
        127,
        -128,
        2049,
        1 << 24,
        -(1 << 24),
        (1 << 24) - 1,
        -65_521,
    ];
    const KS: [u32; 12] = [
        0x0000_0000, // +0
        0x8000_0000, // -0
        0x3F80_0000, // 1
        0xBF80_0000, // -1
        0x3380_0000, // 2^-24
        0x0000_0001, // smallest subnormal
        0x7F7F_FFFF, // largest finite
        0x7F80_0000, // +inf
        0xFF80_0000, // -inf
        0x7FC0_0000, // canonical NaN
        0xFF81_2345, // other NaN
        0x3C01_0204, // some value
    ];
    const GS: [u32; 5] = [
        0x0000_0000,
        0x8000_0000,
        0x3F80_0000,
        0xBE80_0000,
        0x4B00_0000,
    ];
    const VS: [u32; 10] = [
        0x0000_0000,
        0x8000_0000,
        0x3F80_0000,
        0xC2F6_0000, // -123
        0x477F_E000, // 65504
        0x7F80_0000,
        0xFF80_0000,
        0x7FC0_0000,
        0x7F80_0001, // signalling NaN
        0x0000_0003,
    ];

    /// Named cases: f16 overflow, subnormal results, f16 ties, signed zeros, cancellation.
    fn named() -> Vec<(Case, Option<u16>)> {
        let c = |acc, k, g, v| Case { acc, k, g, v };
        let one = f(1.0);
        vec![
            // 65519 rounds to 65504; 65520 is the overflow threshold -> inf.
            (c(65_519, one, 0, 0), Some(0x7BFF)),
            (c(65_520, one, 0, 0), Some(0x7C00)),
            (c(-65_520, one, 0, 0), Some(0xFC00)),
            (c(1, f(65_504.0), one, f(16.0)), Some(0x7C00)),
            // Subnormal binary16 results: 2^-20, 1.5 * 2^-24 (tie -> 2^-23), 0.5 * 2^-24
            // (tie -> +0), 3 * 2^-24 exactly, 2^-14 - 2^-25 (rounds up to the smallest normal).
            (c(1, exact(1, -20), 0, 0), Some(0x0010)),
            (c(3, exact(1, -25), 0, 0), Some(0x0002)),
            (c(1, exact(1, -25), 0, 0), Some(0x0000)),
            (c(-1, exact(1, -25), 0, 0), Some(0x8000)),
            (c(3, exact(1, -24), 0, 0), Some(0x0003)),
            (
                c((1 << 11) - 1, exact(1, -25), one, exact(-1, -40)),
                Some(0x0400),
            ),
            // Ties in the binary16 rounding: 2049 -> 2048, 2051 -> 2052, via the sum too.
            (c(2049, one, 0, 0), Some(0x6800)),
            (c(2051, one, 0, 0), Some(0x6802)),
            (c(2048, one, one, one), Some(0x6800)),
            (c(2050, one, one, one), Some(0x6802)),
            (c(2048, one, f(0.5), f(2.0)), Some(0x6800)),
            // One past the tie rounds up.
            (c(2048, one, one, exact(1025, -10)), Some(0x6801)),
            // Cancellation: x - x = +0; -0 + -0 = -0; +0 + -0 = +0.
            (c(5, one, f(-1.0), f(5.0)), Some(0x0000)),
            (c(0, f(-1.0), one, f(-0.0)), Some(0x8000)),
            (c(0, one, one, f(-0.0)), Some(0x0000)),
            // §S: k NaN, k inf (0 * inf), inf - inf.
            (c(0, 0x7FC0_0000, one, one), Some(0x7E00)),
            (c(0, 0x7F80_0000, one, one), Some(0x7E00)),
            (c(1, 0x7F80_0000, one, 0xFF80_0000), Some(0x7E00)),
            // acc at the contract's bounds with k = 1: 2^24 overflows binary16.
            (c(1 << 24, one, 0, 0), Some(0x7C00)),
            (c(-(1 << 24), exact(1, -20), 0, 0), Some(0xCC00)),
            // g = 0 and v finite: y = f16(yt).
            (c(-1, f(0.25), 0, f(1e30)), Some(0xB400)),
            // g * v overflows binary32 to inf.
            (c(0, one, 0x7F7F_FFFF, 0x7F7F_FFFF), Some(0x7C00)),
        ]
    }

    /// Multiplications of two signals in the Verilog (constant index arithmetic such as
    /// `32'h4 * 7` in other blocks' bit selects does not count).
    fn signal_products(v: &str) -> usize {
        v.match_indices(" * ")
            .filter(|&(i, _)| v[i + 3..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
            .count()
    }

    #[test]
    fn synthesizes() {
        for multipliers in [1, 2] {
            let uut = new_uut(multipliers);
            let v = emit_named(&uut, "gate_unit").unwrap();
            assert!(v.contains("module gate_unit("));
            check_all_tools("gate_unit", &v).unwrap();
            // Four 16x16 multipliers per Fp32Mul, counted per instance: in rust-hdl's output,
            // before identical modules are written once.
            let per_instance = emit_rust_hdl(&uut, "gate_unit").unwrap();
            assert_eq!(signal_products(&per_instance), 4 * multipliers);
        }
        // Borrowing the adder and the rounding leaves them out (the core's co-simulation
        // checks the borrowed path's results).
        let own = new_uut(1);
        let mut borrowing = GateUnit::new(1, true);
        borrowing.connect_all();
        let v = emit_named(&borrowing, "gate_unit_borrowing").unwrap();
        check_all_tools("gate_unit_borrowing", &v).unwrap();
        let own_v = emit_named(&own, "gate_unit").unwrap();
        assert!(own_v.contains("adds$0") || own_v.contains("adds_0"));
        assert!(!v.contains("adds$0") && !v.contains("adds_0"));
        assert!(!v.contains("to_f16s$0") && !v.contains("to_f16s_0"));
    }

    #[test]
    fn latency_constant() {
        assert_eq!(GateUnit::LATENCY, 10);
    }

    /// The named cases (each checked against its expected bits, then against the RTL) and
    /// the cross product of edge values of acc, k, g, v; enable and valid_in toggled.
    #[test]
    fn edge_cases_with_stalls_match_golden() {
        let named = named();
        for (i, (c, want)) in named.iter().enumerate() {
            if let Some(w) = want {
                assert_eq!(golden(*c), *w, "named case {i} {c:?}: table wrong");
            }
        }
        let mut cases: Vec<Case> = named.iter().map(|&(c, _)| c).collect();
        for &acc in &ACCS {
            for &k in &KS {
                for &g in &GS {
                    for &v in &VS {
                        cases.push(Case { acc, k, g, v });
                    }
                }
            }
        }
        for multipliers in [1, 2] {
            let mut rng = ChaCha8Rng::seed_from_u64(SEED);
            let mut brng = ChaCha8Rng::seed_from_u64(SEED + 1);
            let mut jrng = ChaCha8Rng::seed_from_u64(SEED + 2);
            let mut uut = new_uut(multipliers);
            let outs = stream(
                &mut uut,
                multipliers,
                &cases,
                || rng.random_range(0..4u32) != 0,
                || brng.random_range(0..8u32) == 0,
                || jrng.random(),
            );
            assert_golden(
                &format!("edge cases, {multipliers} multipliers"),
                &cases,
                &outs,
            );
        }
    }

    /// A binary32 with exponent field near `e` (biased), random sign and fraction.
    fn float_near(rng: &mut ChaCha8Rng, e: i32) -> u32 {
        let e = e.clamp(0, 254) as u32;
        let frac = match rng.random_range(0..4u32) {
            0 => 0,
            1 => rng.random_range(0..0x80_0000) & !0xFFF,
            _ => rng.random_range(0..0x80_0000),
        };
        (u32::from(rng.random::<bool>()) << 31) | (e << 23) | frac
    }

    fn random_acc(rng: &mut ChaCha8Rng) -> i32 {
        match rng.random_range(0..5u32) {
            0 => rng.random_range(-(1 << 24)..=(1 << 24)),
            1 => rng.random_range(-300..=300),
            2 => rng.random_range(-65_536..=65_536),
            3 => {
                // An odd 12-bit significand: a binary16 tie when k is a power of two.
                let m = rng.random_range(2048..4096) | 1;
                if rng.random() {
                    m
                } else {
                    -m
                }
            }
            _ => [0, 1, -1, 1 << 24, -(1 << 24)][rng.random_range(0..5usize)],
        }
    }

    fn random_case(rng: &mut ChaCha8Rng) -> Case {
        let acc = random_acc(rng);
        // |fl32(acc)| has exponent about log2|acc|; aim yt and g*v at the binary16 range
        // (2^-26 .. 2^17) most of the time, anywhere otherwise.
        let acc_exp = 32 - (acc.unsigned_abs().max(1)).leading_zeros() as i32;
        let target = rng.random_range(-28..=18);
        let k = match rng.random_range(0..10u32) {
            0 => rng.random(),
            1 => [0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0, 0x8000_0000][rng.random_range(0..5)],
            // A power of two: keeps the ties of `acc` (case 3 above).
            2 | 3 => exact(if rng.random() { 1 } else { -1 }, target - acc_exp + 12),
            _ => float_near(rng, 127 + target - acc_exp),
        };
        let g_exp = rng.random_range(-20..=10);
        let g = match rng.random_range(0..8u32) {
            0 => 0,
            1 => f(1.0),
            _ => float_near(rng, 127 + g_exp),
        };
        let gv_target = rng.random_range(-28..=18);
        let v = match rng.random_range(0..12u32) {
            0 => rng.random(),
            1 => [0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0, 0x8000_0000][rng.random_range(0..5)],
            _ => float_near(rng, 127 + gv_target - g_exp),
        };
        Case { acc, k, g, v }
    }

    /// 24,000 seeded random cases, one per enabled cycle, `enable` low on a random quarter
    /// of the cycles and bubbles on an eighth of the enabled ones.
    #[test]
    fn random_stream_with_stalls_matches_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 3);
        let cases: Vec<Case> = (0..24_000).map(|_| random_case(&mut rng)).collect();
        // The stream reaches every kind of result.
        let golds: Vec<u16> = cases.iter().map(|&c| golden(c)).collect();
        let count = |p: &dyn Fn(u16) -> bool| golds.iter().filter(|&&y| p(y)).count();
        let normal = count(&|y| (0x0400..0x7C00).contains(&(y & 0x7FFF)));
        let sub = count(&|y| (1..0x0400).contains(&(y & 0x7FFF)));
        let inf = count(&|y| y & 0x7FFF == 0x7C00);
        let nan = count(&|y| y == 0x7E00);
        let zero = count(&|y| y & 0x7FFF == 0);
        let ties = cases
            .iter()
            .filter(|&&c| {
                let z = hgf_golden::fp::add_f32(
                    dequantize(c.acc, f32::from_bits(c.k)),
                    hgf_golden::fp::mul_f32(f32::from_bits(c.g), f32::from_bits(c.v)),
                );
                let h = half::f16::from_f32(z);
                z.is_finite()
                    && h.is_finite()
                    && h.to_f32() != z
                    && [h.to_bits().wrapping_sub(1), h.to_bits().wrapping_add(1)]
                        .iter()
                        .any(|&n| {
                            let o = half::f16::from_bits(n).to_f64();
                            (o + h.to_f64()) / 2.0 == z as f64
                        })
            })
            .count();
        assert!(
            normal > 5000 && sub > 500 && inf > 500 && nan > 500 && zero > 200 && ties > 500,
            "normal {normal} subnormal {sub} inf {inf} nan {nan} zero {zero} ties {ties}"
        );
        // Every case on two multipliers; the first third on one (the shared multiplier's
        // datapath is the same, only the operand sequencing differs).
        for (multipliers, cases) in [(2, &cases[..]), (1, &cases[..8_000])] {
            let mut erng = ChaCha8Rng::seed_from_u64(SEED + 4);
            let mut brng = ChaCha8Rng::seed_from_u64(SEED + 5);
            let mut jrng = ChaCha8Rng::seed_from_u64(SEED + 6);
            let mut uut = new_uut(multipliers);
            let outs = stream(
                &mut uut,
                multipliers,
                cases,
                || erng.random_range(0..4u32) != 0,
                || brng.random_range(0..8u32) == 0,
                || jrng.random(),
            );
            assert_golden(
                &format!("random stream, {multipliers} multipliers"),
                cases,
                &outs,
            );
        }
    }

    /// The latency is exactly `LATENCY` enabled edges, whatever the disabled cycles between.
    #[test]
    fn latency_is_counted_in_enabled_edges() {
        let mut uut = new_uut(1);
        let c = Case {
            acc: 3,
            k: f(0.5),
            g: f(2.0),
            v: f(0.25),
        };
        // acc on the enabled edge before the others (ACC_LEAD).
        uut.enable.next = true;
        uut.valid_in.next = false;
        uut.acc.next = 3u32.to_bits();
        tick(&mut uut, |u| &mut u.clock);
        uut.valid_in.next = true;
        uut.acc.next = 0xDEAD_BEEFu32.to_bits();
        uut.k.next = c.k.to_bits();
        uut.g.next = c.g.to_bits();
        uut.v.next = c.v.to_bits();
        tick(&mut uut, |u| &mut u.clock);
        uut.valid_in.next = false;
        for edge in 1..GateUnit::LATENCY {
            assert!(!uut.valid_out.val(), "valid_out early after edge {edge}");
            uut.enable.next = false;
            tick(&mut uut, |u| &mut u.clock);
            uut.enable.next = true;
            tick(&mut uut, |u| &mut u.clock);
        }
        assert!(uut.valid_out.val());
        assert_eq!(uut.y.val().to_u32() as u16, golden(c));
        assert_eq!(golden(c), 0x4000); // 3 * 0.5 + 2 * 0.25 = 2.0
    }
}
