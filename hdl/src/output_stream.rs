//! The core's `y` stream: its handshake and the count of a token's output beats.

use rust_hdl::prelude::*;

use crate::counter_mask::counter_mask;

/// The handshake of the core's output stream and the end of a token (`OutputStream`).
///
/// **Function.** Offers the output queue's head while the queue holds a word and neither the
/// top-level reset nor the units' (registered) reset is high (`y_valid`); a beat leaves on an
/// edge with `y_valid & y_ready` (`pop`), and the beat that completes `d_out` beats ends the
/// token (`token_end`). `start` (a token starts) sets the count back to 0 and wins over a beat
/// on the same edge.
///
/// Why a block of its own rather than a few lines of the core's logic: these are the only
/// lines of the core (its slices aside) that read a top-level input (`y_ready`, `reset`), and
/// Verilator evaluates everything that depends on a top-level input at every eval, two per
/// simulated cycle. rust-hdl writes a module's logic as one `always @(*)` block, and
/// Verilator could not split the core's apart: with these lines in it, the whole core's block
/// and every unit that reads one of its outputs (the low-rank lanes, the quantizer's divider)
/// ran at both evals, 5.6k of the default core's 15.4k instructions per cycle
/// (docs/results.md "Simulation speed"). In a block of their own only they do.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | the core's top-level reset: no beat is offered while it is high |
/// | `units_reset` | in | 1 | the units' reset (the core's registered `reset`): no beat is offered while it is high |
/// | `start` | in | 1 | a token starts at this edge: the count returns to 0 |
/// | `d_out` | in | 20 | output beats per token (at least 1) |
/// | `head_valid` | in | 1 | the output queue holds a word |
/// | `y_ready` | in | 1 | the core's top-level `y_ready` |
/// | `y_valid` | out | 1 | the core's top-level `y_valid` |
/// | `pop` | out | 1 | a beat leaves at this edge (`y_valid & y_ready`): the queue drops its head |
/// | `token_end` | out | 1 | the beat leaving at this edge is the token's last |
///
/// **Latency** none (combinational handshake; the count changes at the edge). **Resources**
/// the count's flip-flops (`counter_bits(max_d_out)`), its incrementer and comparator, a few
/// LUTs; the same logic as when it sat in the core. **Golden** none (transport only).
#[derive(LogicBlock)]
pub struct OutputStream {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub units_reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    pub d_out: Signal<In, Bits<20>>,
    pub head_valid: Signal<In, Bit>,
    pub y_ready: Signal<In, Bit>,
    pub y_valid: Signal<Out, Bit>,
    pub pop: Signal<Out, Bit>,
    pub token_end: Signal<Out, Bit>,
    /// Beats of the current token that have left.
    count: DFF<Bits<20>>,
    /// Width of the count (up to `max_d_out`).
    count_mask: Constant<Bits<20>>,
    zero20: Constant<Bits<20>>,
    one20: Constant<Bits<20>>,
}

impl OutputStream {
    /// The handshake of a core whose tokens have at most `max_d_out` outputs.
    pub fn new(max_d_out: usize) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            units_reset: Default::default(),
            start: Default::default(),
            d_out: Default::default(),
            head_valid: Default::default(),
            y_ready: Default::default(),
            y_valid: Default::default(),
            pop: Default::default(),
            token_end: Default::default(),
            count: Default::default(),
            count_mask: counter_mask(max_d_out),
            zero20: Constant::new(0u64.into()),
            one20: Constant::new(1u64.into()),
        }
    }
}

impl Logic for OutputStream {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, count);
        // No output leaves while the top-level reset or the units' reset is high.
        self.y_valid.next = self.head_valid.val() & !self.reset.val() & !self.units_reset.val();
        self.pop.next = self.y_valid.val() & self.y_ready.val();
        if self.pop.val() {
            self.count.d.next = (self.count.q.val() + self.one20.val()) & self.count_mask.val();
        }
        self.token_end.next =
            self.pop.val() & (self.count.q.val() == self.d_out.val() - self.one20.val());
        if self.start.val() {
            self.count.d.next = self.zero20.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{settle, tick};
    use crate::verilog::{check_all_tools, emit_named};

    fn new_uut() -> OutputStream {
        let mut uut = OutputStream::new(8);
        uut.connect_all();
        uut
    }

    #[test]
    fn synthesizes() {
        let uut = new_uut();
        let v = emit_named(&uut, "output_stream").unwrap();
        check_all_tools("output_stream", &v).unwrap();
    }

    /// Tokens of 3 beats under a `y_ready` that is low every third edge, with both resets
    /// and a `start` (on an edge where a beat also leaves) in between: nothing leaves while
    /// either reset is high, `token_end` comes exactly with the beat that makes 3 since the
    /// last end or `start`, and `start` wins over a beat on its edge.
    #[test]
    fn the_last_beat_of_each_token_ends_it() {
        let mut uut = new_uut();
        uut.d_out.next = 3u64.into();
        uut.head_valid.next = true;
        let mut count = 0;
        let mut ends = 0;
        let mut ended = false;
        for edge in 0..40 {
            uut.y_ready.next = edge % 3 != 2;
            uut.reset.next = edge == 10;
            uut.units_reset.next = edge == 11;
            // A token starts on the edge after each end, as the descriptor starts them.
            let start = ended || edge == 19;
            uut.start.next = start;
            settle(&mut uut);
            let (valid, pop) = (uut.y_valid.val(), uut.pop.val());
            assert_eq!(valid, edge != 10 && edge != 11, "edge {edge}");
            assert_eq!(pop, valid && edge % 3 != 2, "edge {edge}");
            assert_eq!(uut.token_end.val(), pop && count == 2, "edge {edge}");
            ended = uut.token_end.val();
            ends += usize::from(ended);
            if pop {
                count += 1;
            }
            if start {
                count = 0;
            }
            if edge == 19 {
                assert!(pop, "the start edge should also carry a beat");
            }
            tick(&mut uut, |u| &mut u.clock);
        }
        assert!(ends >= 4, "{ends} token ends");
    }
}
