//! Drives a rust-hdl block directly from Rust, for the blocks' own tests: settle the
//! combinational logic, or apply one rising clock edge. Faster and simpler than rust-hdl's
//! `Simulation` for small blocks; whole-core tests use Verilator (crate `hgf-sim`). Also the
//! blocks' shared test checks: stream a pipelined block with stalls, compare outputs with a
//! golden model.

use std::fmt::Debug;

use hgf_golden::HgfConfig;

use rust_hdl::core::simulate::simulate;
use rust_hdl::prelude::{Block, Clock, In, Signal};

/// The small config the wrappers' tests build (P&R, per-block and AXI4-Stream tops): two of
/// everything where one would hide a width or indexing mistake, small enough that the tools
/// run on it in seconds.
pub fn tiny_config() -> HgfConfig {
    HgfConfig::from_toml_str(
        "name = \"tiny\"\nmax_d_in = 10\nmax_d_out = 2\nmax_rank = 1\narray_rows = 2\n\
         array_inputs = 10\nfp_lanes = 2",
    )
    .expect("a valid config")
}

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

/// How many mismatches a failed [`assert_all_match`] lists.
const MISMATCHES_SHOWN: usize = 20;

/// A pipelined block with a clock enable, as [`stream_pipelined`] drives it: an input sampled
/// on an enabled edge comes out a fixed number of enabled edges later.
pub trait Pipelined: Block {
    /// One cycle's operands.
    type Input: Copy;
    /// The result port's value.
    type Output: Copy + PartialEq + Debug;
    /// The block's latency in enabled edges (its `LATENCY`).
    fn latency() -> usize;
    /// The clock input.
    fn clock(&mut self) -> &mut Signal<In, Clock>;
    /// Drives the enable and the operands for the next edge.
    fn apply(&mut self, enable: bool, input: Self::Input);
    /// The result port's current value.
    fn output(&self) -> Self::Output;
}

/// Feeds `inputs` through `uut`, one per enabled cycle, and returns the outputs in input
/// order: the output of input `i` is read after the enabled edge `latency() - 1` enabled
/// edges after the one that sampled it.
///
/// Before each edge `enable()` picks that cycle's enable. An enabled cycle presents the next
/// input, or `junk()` once all are in (flushing the pipeline); a disabled cycle presents
/// `junk()`, which must not be sampled. Checks after every disabled edge that the output
/// held its value from the previous edge ("output changed while enable was low").
pub fn stream_pipelined<B: Pipelined>(
    uut: &mut B,
    inputs: &[B::Input],
    mut enable: impl FnMut() -> bool,
    mut junk: impl FnMut() -> B::Input,
) -> Vec<B::Output> {
    let mut outputs = Vec::with_capacity(inputs.len());
    let (mut fed, mut edges) = (0, 0);
    let mut last = uut.output();
    while outputs.len() < inputs.len() {
        let en = enable();
        let input = if en && fed < inputs.len() {
            inputs[fed]
        } else {
            junk()
        };
        uut.apply(en, input);
        tick(uut, B::clock);
        let out = uut.output();
        if en {
            fed += 1;
            edges += 1;
            if edges >= B::latency() {
                outputs.push(out);
            }
        } else {
            assert_eq!(out, last, "output changed while enable was low");
        }
        last = out;
    }
    outputs
}

/// Asserts that there is at least one case, one output per case, and that every output
/// equals `golden` of its case. On failure it panics with `what`, the seed (if any), the
/// number of mismatches and the first 20 of them, each as `#index: ` followed by
/// `show(case, output, golden)`.
pub fn assert_all_match<C, O: PartialEq>(
    what: &str,
    seed: Option<u64>,
    cases: &[C],
    got: &[O],
    golden: impl Fn(&C) -> O,
    show: impl Fn(&C, &O, &O) -> String,
) {
    assert!(!cases.is_empty(), "{what}: no cases");
    assert_eq!(
        cases.len(),
        got.len(),
        "{what}: outputs and cases differ in number"
    );
    let mut count = 0;
    let mut first = Vec::new();
    for (i, (case, out)) in cases.iter().zip(got).enumerate() {
        let gold = golden(case);
        if *out != gold {
            count += 1;
            if first.len() < MISMATCHES_SHOWN {
                first.push(format!("#{i}: {}", show(case, out, &gold)));
            }
        }
    }
    let seed = seed.map_or(String::new(), |s| format!(" (seed {s:#x})"));
    assert!(
        count == 0,
        "{what}: {count}/{} mismatches{seed}, first:\n{}",
        cases.len(),
        first.join("\n")
    );
}

/// Runs every input through the block with `rtl`, in order, then checks the outputs with
/// [`assert_all_match`]: at least one input, and each output equal to `golden` of its input.
pub fn assert_each_matches<I, O: PartialEq>(
    what: &str,
    seed: Option<u64>,
    inputs: impl IntoIterator<Item = I>,
    mut rtl: impl FnMut(&I) -> O,
    golden: impl Fn(&I) -> O,
    show: impl Fn(&I, &O, &O) -> String,
) {
    let inputs: Vec<I> = inputs.into_iter().collect();
    let got: Vec<O> = inputs.iter().map(&mut rtl).collect();
    assert_all_match(what, seed, &inputs, &got, golden, show);
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

    /// Two enabled registers, the first adding 1: latency 2 enabled edges. The input's flag
    /// forces the enable high (a block that ignores its enable, for the hold check).
    #[derive(LogicBlock, Default)]
    struct EnPipe {
        clock: Signal<In, Clock>,
        enable: Signal<In, Bit>,
        a: Signal<In, Bits<8>>,
        y: Signal<Out, Bits<8>>,
        r0: DFF<Bits<8>>,
        r1: DFF<Bits<8>>,
    }

    impl Logic for EnPipe {
        #[hdl_gen]
        fn update(&mut self) {
            dff_setup!(self, clock, r0, r1);
            if self.enable.val() {
                self.r0.d.next = self.a.val() + 1;
                self.r1.d.next = self.r0.q.val();
            }
            self.y.next = self.r1.q.val();
        }
    }

    impl Pipelined for EnPipe {
        type Input = (u8, bool);
        type Output = u8;
        fn latency() -> usize {
            2
        }
        fn clock(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
        fn apply(&mut self, enable: bool, (input, force): (u8, bool)) {
            self.enable.next = enable || force;
            self.a.next = (input as u64).into();
        }
        fn output(&self) -> u8 {
            self.y.val().to_u8()
        }
    }

    #[test]
    fn stream_pipelined_returns_outputs_in_order_across_stalls() {
        let mut uut = EnPipe::default();
        uut.connect_all();
        let inputs: Vec<(u8, bool)> = (0..40).map(|x| (x, false)).collect();
        let mut n = 0u32;
        let got = stream_pipelined(
            &mut uut,
            &inputs,
            || {
                n += 1;
                n % 3 != 0
            },
            || (0xAA, false),
        );
        let want: Vec<u8> = inputs.iter().map(|(x, _)| x + 1).collect();
        assert_eq!(got, want);
    }

    #[test]
    #[should_panic(expected = "output changed while enable was low")]
    fn stream_pipelined_catches_an_output_moving_while_disabled() {
        let mut uut = EnPipe::default();
        uut.connect_all();
        let inputs: Vec<(u8, bool)> = (0..10).map(|x| (x, false)).collect();
        let mut n = 0u32;
        stream_pipelined(
            &mut uut,
            &inputs,
            || {
                n += 1;
                n % 2 == 0
            },
            || (7, true),
        );
    }

    #[test]
    #[should_panic(expected = "demo: 1/3 mismatches (seed 0x5), first:\n#1: 2 -> 5 not 4")]
    fn assert_all_match_lists_mismatches_with_the_seed() {
        let show = |c: &u32, o: &u32, g: &u32| format!("{c} -> {o} not {g}");
        assert_all_match("demo", Some(5), &[1, 2, 3], &[2, 5, 6], |c| 2 * c, show);
    }

    #[test]
    #[should_panic(expected = "outputs and cases differ in number")]
    fn assert_all_match_needs_one_output_per_case() {
        assert_all_match(
            "demo",
            None,
            &[1, 2],
            &[2],
            |c| 2 * c,
            |_, _, _| String::new(),
        );
    }

    #[test]
    fn assert_each_matches_accepts_a_matching_block() {
        assert_each_matches(
            "demo",
            None,
            0..100u32,
            |x| x * 2,
            |x| x + x,
            |_, _, _| String::new(),
        );
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
