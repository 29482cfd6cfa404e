//! Masks that keep a 20-bit count register to the width its config needs.

use hgf_golden::derived::counter_bits;
use rust_hdl::prelude::*;

/// The 20-bit mask `2^counter_bits(max) - 1` for a count that runs from 0 up to `max`.
///
/// The blocks keep their counts and indices in 20-bit registers (rust-hdl widths are fixed
/// at compile time, configs are not). A count that only ever holds `0 ..= max`, written as
/// `(count + 1) & mask` (or any value `& mask`), has constant-zero upper bits, and yosys
/// removes those flip-flops with their adder and compare logic (their input is the
/// constant 0 and their initial value is 0). The mask changes no value the count takes.
pub fn counter_mask(max: usize) -> Constant<Bits<20>> {
    let bits = counter_bits(max);
    assert!(
        bits <= 20,
        "a count up to {max} needs {bits} bits, above 20"
    );
    Constant::new(((1u64 << bits) - 1).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mask_covers_max_and_nothing_above_its_width() {
        assert_eq!(counter_mask(256).val().index(), 0x1FF);
        assert_eq!(counter_mask(255).val().index(), 0xFF);
        assert_eq!(counter_mask(1).val().index(), 1);
        assert_eq!(counter_mask((1 << 20) - 1).val().index(), 0xF_FFFF);
    }
}
