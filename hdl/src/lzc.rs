//! Leading-zero counter, shared by the floating-point blocks.

use rust_hdl::prelude::*;

/// Leading-zero counter (`Lzc<N, W>`).
///
/// **Function.** `count` is the number of zero bits above the most significant one of `x`
/// (`N` when `x` is zero). A building block of the normalisers of the floating-point blocks
/// (docs/arithmetic.md §F1: subnormal inputs are normalised exactly, results are shifted by
/// it); it rounds nothing. `W` must satisfy `2^W > N` (checked by [`Lzc::new`]).
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `x` | in | `N` | the word to scan |
/// | `count` | out | `W` | leading zeros of `x`, `0 ..= N` |
///
/// Implementation: a tree, for speed (a plain priority chain maps to about 9 serial LUT4
/// levels for 28 bits and was the critical path of `Fp32Add`). `x` is left-aligned in 32
/// bits (zero padding at the bottom costs no logic: yosys removes it). For each nibble:
/// "any one" and the leading zeros within it (2 bits); a nibble is *first* when it has a one
/// and no nibble above it does (an OR of the bits above, in parallel); the count is the OR,
/// over the nibbles, of `first ? 4 * (nibbles above) + zeros within : 0`. About 5 LUT4
/// levels. `N` when `x` is zero.
///
/// **Use inside a parent block (Verilator UNOPTFLAT).** rust-hdl writes the parent's logic as
/// one `always @(*)` block that both drives this block's inputs and reads its outputs.
/// Verilator splits that block, but keeps together the statements that share any `Local`
/// signal (read or written), and reports a combinational loop (`UNOPTFLAT`, not waived) when
/// such a group both drives an input of this block and reads one of its outputs. So the
/// logic downstream of the outputs must share no `Local` with the logic upstream of the
/// inputs: recompute such values from ports or registers (synthesis merges the duplicates),
/// as `Fp32Add`, `F32ToF16` and `I32ToF32` do. Also assign each input exactly once per pass
/// (compute it in a `Local` first): an input assigned twice glitches, and an event-driven
/// simulator (iverilog) then loops forever through the outputs.
///
/// **Latency** 0 (combinational). **Throughput** one word per cycle.
/// **Resources** about `1.5 N` LUT4 (yosys `synth_ice40`); no FF, BRAM or DSP.
/// **Golden** `u32::leading_zeros` (the tests compare with it). **Limits** `1 <= N <= 32`,
/// `2^W > N`.
#[derive(LogicBlock)]
pub struct Lzc<const N: usize, const W: usize> {
    /// The word to scan.
    pub x: Signal<In, Bits<N>>,
    /// Leading zeros of `x`; `N` when `x` is zero.
    pub count: Signal<Out, Bits<W>>,
    /// `x` in the top bits of a 32-bit word.
    padded: Signal<Local, Bits<32>>,
    /// Nibble `k` (bits `4k + 3 ..= 4k` of `padded`) holds a one.
    any: [Signal<Local, Bit>; 8],
    /// Leading zeros within nibble `k` (when it holds a one), 0 ..= 3.
    within: [Signal<Local, Bits<6>>; 8],
    /// A nibble above nibble `k` holds a one.
    above: [Signal<Local, Bit>; 8],
    /// Nibble `k` holds the leading one: its share of the count, else 0.
    term: [Signal<Local, Bits<6>>; 8],
    /// OR of the terms: the count of a non-zero `x`.
    total: Signal<Local, Bits<6>>,
    /// `32 - N`: the left shift that aligns `x`.
    pad: Constant<Bits<6>>,
    /// `N`: the count of a zero `x`.
    n: Constant<Bits<W>>,
    /// A zero `x`.
    x_zero: Constant<Bits<N>>,
    /// Leading zeros within a nibble, 0 ..= 3, as typed constants (no 32-bit literal meets a
    /// narrower signal: docs/lint-waivers.md).
    zeros: [Constant<Bits<6>>; 4],
    /// `28 - 4k`: the leading zeros above nibble `k`.
    nibble_top: [Constant<Bits<6>>; 8],
}

impl<const N: usize, const W: usize> Lzc<N, W> {
    /// A counter for `N`-bit words with a `W`-bit count.
    ///
    /// # Panics
    /// If `N` is 0 or above 32, or `W` is too narrow to hold `N` or wider than 6.
    pub fn new() -> Self {
        assert!(
            (1..=32).contains(&N),
            "Lzc supports 1..=32 bit words, not {N}"
        );
        assert!(
            W <= 6 && (1usize << W) > N,
            "Lzc<{N}, {W}>: {W} bits cannot count to {N} (or are more than 6)"
        );
        Self {
            x: Default::default(),
            count: Default::default(),
            padded: Default::default(),
            any: Default::default(),
            within: Default::default(),
            above: Default::default(),
            term: Default::default(),
            total: Default::default(),
            pad: Constant::new(((32 - N) as u64).into()),
            n: Constant::new((N as u64).into()),
            x_zero: Constant::new(0u64.into()),
            zeros: std::array::from_fn(|z| Constant::new((z as u64).into())),
            nibble_top: std::array::from_fn(|k| Constant::new((28 - 4 * k as u64).into())),
        }
    }
}

impl<const N: usize, const W: usize> Default for Lzc<N, W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const W: usize> Logic for Lzc<N, W> {
    #[hdl_gen]
    fn update(&mut self) {
        // A cast to a wider word is the one width mismatch left in this block's Verilog:
        // rust-hdl writes it as a 32-bit mask of the narrower `x` (docs/lint-waivers.md).
        self.padded.next = bit_cast::<32, N>(self.x.val()) << self.pad.val();
        for k in 0..8 {
            self.any[k].next = self.padded.val().get_bits::<4>(4 * k).any();
            self.within[k].next = self.zeros[3].val();
            if self.padded.val().get_bit(4 * k + 1) {
                self.within[k].next = self.zeros[2].val();
            }
            if self.padded.val().get_bit(4 * k + 2) {
                self.within[k].next = self.zeros[1].val();
            }
            if self.padded.val().get_bit(4 * k + 3) {
                self.within[k].next = self.zeros[0].val();
            }
            self.above[k].next = (self.padded.val() >> (4 * k + 4).to_bits::<6>()).any();
            self.term[k].next = self.zeros[0].val();
            if self.any[k].val() & !self.above[k].val() {
                self.term[k].next = self.within[k].val() + self.nibble_top[k].val();
            }
        }
        self.total.next = self.term[0].val()
            | self.term[1].val()
            | self.term[2].val()
            | self.term[3].val()
            | self.term[4].val()
            | self.term[5].val()
            | self.term[6].val()
            | self.term[7].val();
        // A cast to a narrower word: a width mismatch left here when `W` < 6 (a slice would
        // leave bits of `total` unread, which Verilator's lint reports instead).
        self.count.next = bit_cast::<W, 6>(self.total.val());
        if self.x.val() == self.x_zero.val() {
            self.count.next = self.n.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::settle;
    use crate::verilog;

    fn count<const N: usize, const W: usize>(uut: &mut Lzc<N, W>, x: u32) -> u32 {
        uut.x.next = (x as u64).into();
        settle(uut);
        uut.count.val().to_u32()
    }

    #[test]
    fn synthesizes() {
        let mut uut = Lzc::<27, 5>::new();
        uut.connect_all();
        let v = verilog::emit_named(&uut, "lzc27").unwrap();
        verilog::check_all_tools("lzc27", &v).unwrap();
        let mut uut = Lzc::<32, 6>::new();
        uut.connect_all();
        let v = verilog::emit_named(&uut, "lzc32").unwrap();
        verilog::check_all_tools("lzc32", &v).unwrap();
    }

    /// Every single-one word, every word of ones below a leading one, and random words.
    fn check_width<const N: usize, const W: usize>() {
        let mut uut = Lzc::<N, W>::new();
        uut.connect_all();
        let gold = |x: u32| x.leading_zeros() - (32 - N as u32);
        assert_eq!(count(&mut uut, 0), N as u32, "zero, N = {N}");
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for p in 0..N {
            let below = (1u32 << p) - 1;
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            for x in [1u32 << p, (1 << p) | below, (1 << p) | (rng as u32 & below)] {
                assert_eq!(count(&mut uut, x), gold(x), "x = {x:#x}, N = {N}");
            }
        }
    }

    #[test]
    fn counts_match_leading_zeros() {
        let mut uut = Lzc::<10, 4>::new();
        uut.connect_all();
        for x in 0..1024u32 {
            assert_eq!(count(&mut uut, x), x.leading_zeros() - 22, "x = {x:#x}");
        }
        check_width::<1, 1>();
        check_width::<5, 3>();
        check_width::<24, 5>();
        check_width::<27, 5>();
        check_width::<28, 5>();
        check_width::<32, 6>();
    }
}
