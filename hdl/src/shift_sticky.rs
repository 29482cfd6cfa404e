//! Right shifter with a sticky bit, shared by the floating-point blocks.

use rust_hdl::prelude::*;

/// Logical right shift with sticky bit (`ShiftRightSticky<N, S>`).
///
/// **Function.** `shifted = x >> amount` (zero when `amount >= N`), and `sticky` is high when
/// any one bit of `x` was shifted out (`x & (2^amount - 1) != 0`). It is the alignment and
/// denormalisation step of the floating-point blocks: with the guard bits kept in `x` by the
/// caller, `sticky` is what round-to-nearest-even needs of the bits below them
/// (docs/arithmetic.md §F1). It rounds nothing itself.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `x` | in | `N` | the word to shift |
/// | `amount` | in | `S` | shift distance, `0 ..= 2^S - 1` (any value, including `>= N`) |
/// | `shifted` | out | `N` | `x >> amount`, zeros shifted in |
/// | `sticky` | out | 1 | OR of the bits shifted out |
///
/// Implementation: one barrel shifter for `x >> amount`, and the mask `!(ones << amount)` of
/// the bits that leave (a thermometer decoder of `amount`: the shift of a constant), ANDed
/// with `x` and OR-reduced.
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
/// **Resources** a `N`-bit, `S`-level barrel shifter (about `N * S / 2` LUT4 on iCE40) plus
/// the mask decoder and a `N`-input OR; no FF, BRAM or DSP.
/// **Golden** `u64` shift and mask (the tests compare with it). **Limits** `1 <= N <= 32`.
#[derive(LogicBlock)]
pub struct ShiftRightSticky<const N: usize, const S: usize> {
    /// The word to shift.
    pub x: Signal<In, Bits<N>>,
    /// Shift distance.
    pub amount: Signal<In, Bits<S>>,
    /// `x >> amount`.
    pub shifted: Signal<Out, Bits<N>>,
    /// High when a one bit was shifted out.
    pub sticky: Signal<Out, Bit>,
    /// The bits of `x` that are shifted out.
    lost: Signal<Local, Bits<N>>,
    /// `N` one bits.
    ones: Constant<Bits<N>>,
}

impl<const N: usize, const S: usize> ShiftRightSticky<N, S> {
    /// A shifter for `N`-bit words and `S`-bit distances.
    ///
    /// # Panics
    /// If `N` is 0 or above 32.
    pub fn new() -> Self {
        assert!(
            (1..=32).contains(&N),
            "ShiftRightSticky supports 1..=32 bit words, not {N}"
        );
        Self {
            x: Default::default(),
            amount: Default::default(),
            shifted: Default::default(),
            sticky: Default::default(),
            lost: Default::default(),
            ones: Constant::new(Bits::<N>::mask()),
        }
    }
}

impl<const N: usize, const S: usize> Default for ShiftRightSticky<N, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const S: usize> Logic for ShiftRightSticky<N, S> {
    #[hdl_gen]
    fn update(&mut self) {
        self.shifted.next = self.x.val() >> self.amount.val();
        // Every operand is N bits wide, so the Verilog evaluates this at N bits as Rust does.
        self.lost.next = self.x.val() & (!(self.ones.val() << self.amount.val()));
        self.sticky.next = self.lost.val().any();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::settle;
    use crate::verilog;

    #[test]
    fn synthesizes() {
        let mut uut = ShiftRightSticky::<27, 5>::new();
        uut.connect_all();
        let v = verilog::emit_named(&uut, "shift_sticky27").unwrap();
        verilog::check_all_tools("shift_sticky27", &v).unwrap();
    }

    /// Every single-one word, every all-ones word and some patterns of `N` bits (masked),
    /// against `u64` shifts, at every distance `0 ..= 2^S - 1`.
    fn check_width<const N: usize, const S: usize>() {
        let mut uut = ShiftRightSticky::<N, S>::new();
        uut.connect_all();
        let mask = (1u64 << N) - 1;
        let mut words = vec![0u64, mask, 0x5555_5555 & mask, 0x1234_5678 & mask];
        words.extend((0..N).flat_map(|p| [1u64 << p, mask >> p, (1 << p) | 1]));
        for &x in &words {
            for amount in 0..(1u64 << S) {
                uut.x.next = x.into();
                uut.amount.next = amount.into();
                settle(&mut uut);
                let want = if amount >= 64 { 0 } else { x >> amount };
                let lost = x & ((1u64 << amount.min(63)) - 1);
                let at = format!("N = {N}, x = {x:#x}, amount {amount}");
                assert_eq!(uut.shifted.val().to_u64(), want, "{at}");
                assert_eq!(uut.sticky.val(), lost != 0, "{at}");
            }
        }
    }

    #[test]
    fn shifts_and_collects_sticky() {
        check_width::<8, 5>();
        check_width::<12, 5>();
        check_width::<26, 5>();
        check_width::<27, 5>();
        check_width::<27, 3>();
        check_width::<32, 6>();
    }
}
