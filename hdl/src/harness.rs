//! Drives a rust-hdl block directly from Rust, for the blocks' own tests: settle the
//! combinational logic, or apply one rising clock edge. Faster and simpler than rust-hdl's
//! `Simulation` for small blocks; whole-core tests use Verilator (crate `hgf-sim`).

use rust_hdl::core::simulate::simulate;
use rust_hdl::prelude::{Block, Clock, In, Signal};

/// Iterations allowed for the logic to settle before it counts as a loop.
const SETTLE_ITERATIONS: usize = 1000;

/// Propagates the current inputs through the combinational logic.
pub fn settle<B: Block>(uut: &mut B) {
    assert!(
        simulate(uut, SETTLE_ITERATIONS),
        "logic did not settle (combinational loop?)"
    );
}

/// One clock cycle: settle with the clock low, raise it (registers load), settle again, and
/// lower it.
pub fn tick<B: Block>(uut: &mut B, clock: impl Fn(&mut B) -> &mut Signal<In, Clock>) {
    clock(uut).next = Clock::from(false);
    settle(uut);
    clock(uut).next = Clock::from(true);
    settle(uut);
    clock(uut).next = Clock::from(false);
    settle(uut);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verilog::{check_all_tools, emit_named};
    use rust_hdl::prelude::*;

    /// A registered 8-bit adder, the smallest block with a clock.
    #[derive(LogicBlock, Default)]
    struct RegAdd {
        clock: Signal<In, Clock>,
        a: Signal<In, Bits<8>>,
        b: Signal<In, Bits<8>>,
        sum: Signal<Out, Bits<8>>,
        acc: DFF<Bits<8>>,
    }

    impl Logic for RegAdd {
        #[hdl_gen]
        fn update(&mut self) {
            dff_setup!(self, clock, acc);
            self.acc.d.next = self.a.val() + self.b.val();
            self.sum.next = self.acc.q.val();
        }
    }

    #[test]
    fn tick_loads_registers_and_settle_propagates() {
        let mut uut = RegAdd::default();
        uut.connect_all();
        uut.a.next = 200.into();
        uut.b.next = 100.into();
        settle(&mut uut);
        assert_eq!(uut.sum.val(), 0);
        tick(&mut uut, |u| &mut u.clock);
        assert_eq!(uut.sum.val(), 44); // 300 mod 256
    }

    #[test]
    fn emitted_verilog_is_named_and_passes_the_tools() {
        let mut uut = RegAdd::default();
        uut.connect_all();
        let v = emit_named(&uut, "reg_add").unwrap();
        assert!(v.contains("module reg_add("), "{v}");
        check_all_tools("reg_add", &v).unwrap();
    }
}
