//! Round to nearest, ties to even: the rounding step of every floating-point block.

use rust_hdl::prelude::*;

/// Round to nearest, ties to even, of a truncated word (`RoundNearestEven<W, R>`).
///
/// **Function.** `rounded = kept + up`, where `up = guard & (sticky | kept[0])`: the value
/// `kept + guard / 2 + (something below 1/2 when sticky)` in units of `kept`'s lowest bit,
/// rounded to the nearest integer, a tie (`guard` high, `sticky` low) to the even one
/// (docs/arithmetic.md §F1: every rounding of the contract is this one, RNE). The caller
/// keeps the result's bits in `kept`, the first bit below them in `guard`, and the OR of
/// every bit below that (the round bit included) in `sticky`. It is the one rounding step of
/// `Fp32Add`, `Fp32Mul`, `Fp32Div`, `I32ToF32` and `F32ToF16`, in either of two uses:
///
/// - *Packed magnitude* (`R = W`): `kept` is `{exponent field, fraction}` (31 bits for
///   binary32, 15 for binary16), or the exponent field minus one plus the significand with
///   its hidden bit. The increment's carry out of the fraction moves the exponent up by
///   itself, from the largest subnormal to the smallest normal and from the largest finite
///   value to infinity, so nothing else is needed. `Fp32Add`, `I32ToF32`, `F32ToF16`.
/// - *Significand* (`R = W + 1`): `kept` is the `W`-bit significand (24 for binary32) and
///   `rounded`'s top bit is the carry out, the exponent increment that the caller adds to
///   its exponent. `Fp32Mul`, `Fp32Div`.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `kept` | in | `W` | the bits kept, truncated (lowest bit: the unit of the result) |
/// | `guard` | in | 1 | the first bit below `kept` (half a unit) |
/// | `sticky` | in | 1 | OR of every bit below `guard` |
/// | `rounded` | out | `R` | `kept` rounded to nearest even, zero-extended to `R` bits (`R = W + 1`: the carry out is the top bit) |
///
/// **Latency** 0 (combinational). **Throughput** one word per cycle.
/// **Resources** a `R`-bit incrementer (a carry chain) and two gates; no FF, BRAM or DSP.
/// **Golden** the rounding of `hgf_golden::fp` (the tests compare with the nearest value
/// computed from the remainder). **Limits** `1 <= W <= 32` and `R` is `W` or `W + 1`.
#[derive(LogicBlock)]
pub struct RoundNearestEven<const W: usize, const R: usize> {
    /// The bits kept, truncated.
    pub kept: Signal<In, Bits<W>>,
    /// The first bit below `kept`.
    pub guard: Signal<In, Bit>,
    /// OR of every bit below `guard`.
    pub sticky: Signal<In, Bit>,
    /// `kept` rounded to nearest even.
    pub rounded: Signal<Out, Bits<R>>,
    /// Round up: above the half, or at the half with an odd `kept`.
    up: Signal<Local, Bit>,
}

impl<const W: usize, const R: usize> RoundNearestEven<W, R> {
    /// A rounder of `W`-bit words with an `R`-bit result.
    ///
    /// # Panics
    /// If `W` is 0 or above 32, or `R` is neither `W` nor `W + 1`.
    pub fn new() -> Self {
        assert!(
            (1..=32).contains(&W) && (R == W || R == W + 1),
            "RoundNearestEven rounds 1..=32 bit words to W or W + 1 bits, not {W} to {R}"
        );
        Self {
            kept: Default::default(),
            guard: Default::default(),
            sticky: Default::default(),
            rounded: Default::default(),
            up: Default::default(),
        }
    }
}

impl<const W: usize, const R: usize> Default for RoundNearestEven<W, R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const W: usize, const R: usize> Logic for RoundNearestEven<W, R> {
    #[hdl_gen]
    fn update(&mut self) {
        self.up.next = self.guard.val() & (self.sticky.val() | self.kept.val().get_bit(0));
        // `up` is added as a 1-bit operand (a WIDTH warning in the Verilog), not as an `R`-bit
        // word: yosys then maps an incrementer, which an `R`-bit operand chosen between the
        // constants 0 and 1 is not (48 more LUT4 in `Fp32Add` on ECP5).
        self.rounded.next = bit_cast::<R, W>(self.kept.val()) + self.up.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::settle;
    use crate::verilog;

    /// The nearest of `kept` and `kept + 1` to `kept + guard / 2 + sticky * (0, 1/2)`, a tie to
    /// the even one: computed from the remainder in quarter units (a sticky bit stands for
    /// any value strictly between 0 and one half, a quarter will do).
    fn nearest_even(kept: u64, guard: bool, sticky: bool) -> u64 {
        let quarters = 2 * u64::from(guard) + u64::from(sticky);
        match quarters.cmp(&2) {
            std::cmp::Ordering::Less => kept,
            std::cmp::Ordering::Greater => kept + 1,
            std::cmp::Ordering::Equal => kept + (kept % 2),
        }
    }

    fn round<const W: usize, const R: usize>(
        uut: &mut RoundNearestEven<W, R>,
        kept: u64,
        guard: bool,
        sticky: bool,
    ) -> u64 {
        uut.kept.next = kept.into();
        uut.guard.next = guard;
        uut.sticky.next = sticky;
        settle(uut);
        uut.rounded.val().to_u64()
    }

    /// Every guard and sticky bit with each of `words` (masked to `W` bits), against
    /// [`nearest_even`] truncated to `R` bits.
    fn check<const W: usize, const R: usize>(words: impl IntoIterator<Item = u64>) -> usize {
        let mut uut = RoundNearestEven::<W, R>::new();
        uut.connect_all();
        let (w_mask, r_mask) = ((1u64 << W) - 1, (1u64 << R) - 1);
        let mut cases = 0;
        for kept in words {
            let kept = kept & w_mask;
            for (guard, sticky) in [(false, false), (false, true), (true, false), (true, true)] {
                let want = nearest_even(kept, guard, sticky) & r_mask;
                let got = round(&mut uut, kept, guard, sticky);
                assert_eq!(
                    got, want,
                    "W = {W}, R = {R}: kept {kept:#x} guard {guard} sticky {sticky}"
                );
                cases += 1;
            }
        }
        cases
    }

    /// The words whose rounding can differ: both parities of the lowest bit, carries through
    /// every run of ones (up to the all-ones word), single bits and a few patterns.
    fn edge_words(w: usize) -> Vec<u64> {
        let mask = (1u64 << w) - 1;
        let mut words = vec![
            0,
            1,
            2,
            3,
            mask,
            mask - 1,
            0x5555_5555 & mask,
            0xAAAA_AAAA & mask,
        ];
        for p in 0..w {
            let ones = (1u64 << p) - 1;
            words.extend([1 << p, ones, ones ^ (1 << (w - 1)), (1 << p) | 1]);
        }
        words
    }

    #[test]
    fn synthesizes() {
        let mut uut = RoundNearestEven::<24, 25>::new();
        uut.connect_all();
        let v = verilog::emit_named(&uut, "round_nearest_even24").unwrap();
        verilog::check_all_tools("round_nearest_even24", &v).unwrap();
    }

    #[test]
    fn rounds_every_small_word_to_nearest_even() {
        // Exhaustive: every 6-bit word with every guard and sticky bit, with and without the
        // carry out kept.
        assert_eq!(check::<6, 6>(0..64), 256);
        assert_eq!(check::<6, 7>(0..64), 256);
        assert_eq!(check::<1, 2>(0..2), 8);
    }

    #[test]
    fn rounds_the_widths_of_the_fp_units() {
        // binary32 packed magnitude (Fp32Add, I32ToF32), binary32 significand with its carry
        // (Fp32Mul, Fp32Div), binary16 packed magnitude (F32ToF16).
        assert!(check::<31, 31>(edge_words(31)) > 400);
        assert!(check::<24, 25>(edge_words(24)) > 300);
        assert!(check::<15, 15>(edge_words(15)) > 200);
    }

    #[test]
    fn carries_into_the_exponent_and_out_of_the_significand() {
        // Packed binary32: the largest subnormal rounds up to the smallest normal, the
        // largest finite value to infinity, 1 - 2^-24 (a tie, odd) to 1.
        let mut packed = RoundNearestEven::<31, 31>::new();
        packed.connect_all();
        assert_eq!(round(&mut packed, 0x007F_FFFF, true, false), 0x0080_0000);
        assert_eq!(round(&mut packed, 0x7F7F_FFFF, true, true), 0x7F80_0000);
        assert_eq!(round(&mut packed, 0x3F7F_FFFF, true, false), 0x3F80_0000);
        // A tie with an even word stays.
        assert_eq!(round(&mut packed, 0x3F80_0000, true, false), 0x3F80_0000);
        // Significand with its carry out: all ones round up to 2^24 (the exponent increment).
        let mut sig = RoundNearestEven::<24, 25>::new();
        sig.connect_all();
        assert_eq!(round(&mut sig, 0xFF_FFFF, true, false), 0x100_0000);
        assert_eq!(round(&mut sig, 0xFF_FFFF, false, true), 0xFF_FFFF);
        // binary16: 65504 rounds up to infinity at 65520 and above.
        let mut half = RoundNearestEven::<15, 15>::new();
        half.connect_all();
        assert_eq!(round(&mut half, 0x7BFF, true, false), 0x7C00);
        assert_eq!(round(&mut half, 0x7BFE, true, false), 0x7BFE);
    }

    #[test]
    #[should_panic(expected = "RoundNearestEven rounds")]
    fn rejects_a_result_narrower_than_the_word() {
        let _ = RoundNearestEven::<24, 23>::new();
    }
}
