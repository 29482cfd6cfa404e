//! A small first-in first-out queue of binary16 outputs with a synchronous reset, in block RAM.

use rust_hdl::prelude::*;

use crate::resources::Resources;
use crate::tiled_ram::TiledRam;

/// Queue between the gate pipeline and the `y` stream (`OutputQueue`).
///
/// **Function.** Holds up to [`OutputQueue::DEPTH`] 16-bit words in arrival order. The core
/// issues a gate operation only when the queue has room for it and for every operation still
/// in flight (credits), so a stalled `y` stream never loses an output. rust-hdl's
/// `SynchronousFIFO` has no reset, and the core's reset must empty every buffer, hence this
/// block.
///
/// Structure: the words sit in a [`TiledRam<16>`] (one 256-word tile, DEPTH words used) at
/// `write_ptr`. The RAM reads on every edge the address of the word that is the head *after*
/// the edge (`read_ptr`, plus one when the edge pops), so `head` comes straight from the
/// RAM's read register, with no output register of its own. The one case the RAM cannot
/// serve is a word written on the same edge that makes it the head (the queue is empty, or
/// holds only the word being popped): the RAM then returns the old word, so a copy of
/// `data_in` taken on every edge (`bypass`) stands in for it until the next edge.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous: the queue is empty after the edge |
/// | `push` | in | 1 | store `data_in` at this edge (ignored when `count` = DEPTH) |
/// | `data_in` | in | 16 | word to store |
/// | `pop` | in | 1 | drop the head at this edge (ignored when empty) |
/// | `valid` | out | 1 | the queue holds at least one word |
/// | `head` | out | 16 | the oldest word (meaningful while `valid`) |
/// | `count` | out | 5 | words held, 0 ..= DEPTH |
///
/// **Latency** a word pushed at edge n is at `head` after edge n (if the queue was empty).
/// **Throughput** one push and one pop per cycle. **Resources** one iCE40 `SB_RAM40_4K` /
/// ECP5 `DP16KD`, 16 + 14 flip-flops of its own (bypass word, pointers, count) and yosys's
/// read-collision register of the RAM ([`TiledRam`]); 16 x 16 FF and a 16:1 read mux before
/// the RAM version (299 iCE40 logic cells in the up5k core, docs/results.md).
/// **Golden** none (storage only). **Limits** DEPTH = 16.
#[derive(LogicBlock)]
pub struct OutputQueue {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub push: Signal<In, Bit>,
    pub data_in: Signal<In, Bits<16>>,
    pub pop: Signal<In, Bit>,
    pub valid: Signal<Out, Bit>,
    pub head: Signal<Out, Bits<16>>,
    pub count: Signal<Out, Bits<5>>,
    /// The words, at `write_ptr` (one tile; only DEPTH addresses are used).
    words: TiledRam<16>,
    read_ptr: DFF<Bits<4>>,
    write_ptr: DFF<Bits<4>>,
    held: DFF<Bits<5>>,
    /// `data_in` of the last edge.
    bypass: DFF<Bits<16>>,
    /// The head was written on the last edge: it is `bypass`, not the RAM's read data.
    head_is_bypass: DFF<Bit>,
    do_push: Signal<Local, Bit>,
    do_pop: Signal<Local, Bit>,
    /// The head's address after this edge.
    next_read: Signal<Local, Bits<4>>,
    // Typed constants of the pointer and count widths, so that no 32-bit literal meets them
    // (docs/lint-waivers.md).
    ptr_zero: Constant<Bits<4>>,
    ptr_one: Constant<Bits<4>>,
    held_zero: Constant<Bits<5>>,
    held_one: Constant<Bits<5>>,
    held_full: Constant<Bits<5>>,
}

impl OutputQueue {
    /// Words the queue holds.
    pub const DEPTH: usize = 16;

    /// What [`OutputQueue::new`] builds: a memory of [`OutputQueue::DEPTH`] binary16 words
    /// (one tile); no multiplier.
    pub fn resources() -> Resources {
        Resources::memory(Self::DEPTH, 16)
    }

    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            push: Default::default(),
            data_in: Default::default(),
            pop: Default::default(),
            valid: Default::default(),
            head: Default::default(),
            count: Default::default(),
            words: TiledRam::new(Self::DEPTH),
            read_ptr: Default::default(),
            write_ptr: Default::default(),
            held: Default::default(),
            bypass: Default::default(),
            head_is_bypass: Default::default(),
            do_push: Default::default(),
            do_pop: Default::default(),
            next_read: Default::default(),
            ptr_zero: Constant::new(0u64.into()),
            ptr_one: Constant::new(1u64.into()),
            held_zero: Constant::new(0u64.into()),
            held_one: Constant::new(1u64.into()),
            held_full: Constant::new((Self::DEPTH as u64).into()),
        }
    }
}

impl Default for OutputQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for OutputQueue {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            read_ptr,
            write_ptr,
            held,
            bypass,
            head_is_bypass
        );
        self.words.clock.next = self.clock.val();
        self.do_push.next = self.push.val() & (self.held.q.val() != self.held_full.val());
        self.do_pop.next = self.pop.val() & (self.held.q.val() != self.held_zero.val());
        self.next_read.next = self.read_ptr.q.val();
        if self.do_pop.val() {
            self.next_read.next = self.read_ptr.q.val() + self.ptr_one.val();
        }
        self.words.write_enable.next = self.do_push.val();
        self.words.write_address.next = bit_cast::<20, 4>(self.write_ptr.q.val());
        self.words.write_data.next = self.data_in.val();
        self.words.read_address.next = bit_cast::<20, 4>(self.next_read.val());
        // With a push, the head after the edge is the pushed word exactly when it lands at
        // the head's address (push is ignored when full, so equal pointers mean empty).
        self.bypass.d.next = self.data_in.val();
        self.head_is_bypass.d.next =
            self.do_push.val() & (self.next_read.val() == self.write_ptr.q.val());
        self.head.next = self.words.read_data.val();
        if self.head_is_bypass.q.val() {
            self.head.next = self.bypass.q.val();
        }
        self.read_ptr.d.next = self.next_read.val();
        if self.do_push.val() {
            self.write_ptr.d.next = self.write_ptr.q.val() + self.ptr_one.val();
        }
        if self.do_push.val() & !self.do_pop.val() {
            self.held.d.next = self.held.q.val() + self.held_one.val();
        }
        if self.do_pop.val() & !self.do_push.val() {
            self.held.d.next = self.held.q.val() - self.held_one.val();
        }
        if self.reset.val() {
            self.read_ptr.d.next = self.ptr_zero.val();
            self.write_ptr.d.next = self.ptr_zero.val();
            self.held.d.next = self.held_zero.val();
        }
        self.valid.next = self.held.q.val() != self.held_zero.val();
        self.count.next = self.held.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{settle, tick};
    use crate::verilog::{check_all_tools, emit_named};
    use rand::{RngExt, SeedableRng};
    use std::collections::VecDeque;

    #[test]
    fn synthesizes() {
        let mut uut = OutputQueue::new();
        uut.connect_all();
        let v = emit_named(&uut, "output_queue").unwrap();
        check_all_tools("output_queue", &v).unwrap();
    }

    #[test]
    fn matches_a_queue_model_with_random_push_pop_and_reset() {
        let mut uut = OutputQueue::new();
        uut.connect_all();
        let mut model: VecDeque<u16> = VecDeque::new();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut popped = 0;
        for cycle in 0..5000 {
            let push = rng.random_bool(0.55);
            let pop = rng.random_bool(0.5);
            let reset = rng.random_bool(0.005);
            let word: u16 = rng.random();
            uut.push.next = push;
            uut.pop.next = pop;
            uut.reset.next = reset;
            uut.data_in.next = (word as u64).into();
            settle(&mut uut);
            assert_eq!(uut.valid.val(), !model.is_empty(), "cycle {cycle}");
            assert_eq!(uut.count.val().index(), model.len(), "cycle {cycle}");
            if let Some(&h) = model.front() {
                assert_eq!(uut.head.val().index() as u16, h, "cycle {cycle}");
            }
            tick(&mut uut, |u| &mut u.clock);
            let had = model.len();
            if pop && had > 0 {
                model.pop_front();
                popped += 1;
            }
            if push && had < OutputQueue::DEPTH {
                model.push_back(word);
            }
            if reset {
                model.clear();
            }
        }
        assert!(popped > 1000);
    }
}
