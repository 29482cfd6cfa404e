//! A one-beat forward register slice of a valid/ready stream.

use rust_hdl::prelude::*;

/// A forward register slice of a valid/ready stream of `words` words of `W` bits
/// (`StreamSlice`).
///
/// **Function.** Holds at most one beat. It takes the offered beat whenever it is empty or
/// its own beat leaves on the same edge (`in_ready = (!held | out_ready) & !reset`), and
/// offers its beat downstream from a register (`out_valid`, `out_data`). Nothing is lost or
/// repeated: a beat leaves only on an edge with `out_valid & out_ready`, and enters only on
/// one with `in_valid & in_ready`. Why the core puts one on every input stream: nothing inside
/// it then depends combinationally on a top-level input but these few multiplexers (an FPGA
/// wants its inputs registered; Verilator evaluates everything that depends on a top-level
/// input at every eval, docs/results.md "Simulation speed"), and `in_ready` depends on the
/// slice's state and `out_ready` only, never on `in_valid`.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous: the slice is empty after the edge (a held beat is dropped unless `out_ready` takes it on that edge); `in_ready` is low while it is high |
/// | `in_valid`, `in_ready`, `in_data$i` | in, out, in | 1, 1, W each | the stream from upstream |
/// | `out_valid`, `out_ready`, `out_data$i` | out, in, out | 1, 1, W each | the stream downstream, from registers |
///
/// **Latency** a beat taken on edge `n` is offered downstream after edge `n`. **Throughput**
/// one beat per cycle: with `out_ready` high on every edge the slice passes a beat on every
/// edge (`in_ready` stays high). **Resources** `words · W + 1` flip-flops (the data loaded
/// whenever `in_ready` is high, so its enable is `in_ready` alone), a few LUTs for the
/// handshake. **Golden** none (transport only). **Limits** `words >= 1`.
#[derive(LogicBlock)]
pub struct StreamSlice<const W: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_data: Vec<Signal<In, Bits<W>>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_data: Vec<Signal<Out, Bits<W>>>,
    /// A beat is held.
    held: DFF<Bit>,
    /// The held beat's words.
    data: Vec<DFF<Bits<W>>>,
    /// Room for a beat on this edge.
    room: Signal<Local, Bit>,
}

impl<const W: usize> StreamSlice<W> {
    /// An empty slice of beats of `words` words.
    ///
    /// # Panics
    /// If `words` is 0.
    pub fn new(words: usize) -> Self {
        assert!(words >= 1, "a stream beat has at least one word");
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_data: (0..words).map(|_| Default::default()).collect(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_data: (0..words).map(|_| Default::default()).collect(),
            held: Default::default(),
            data: (0..words).map(|_| Default::default()).collect(),
            room: Default::default(),
        }
    }
}

impl<const W: usize> Logic for StreamSlice<W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, held);
        self.room.next = (!self.held.q.val() | self.out_ready.val()) & !self.reset.val();
        self.in_ready.next = self.room.val();
        self.out_valid.next = self.held.q.val();
        for i in 0..self.data.len() {
            self.data[i].clock.next = self.clock.val();
            self.data[i].d.next = self.data[i].q.val();
            if self.room.val() {
                self.data[i].d.next = self.in_data[i].val();
            }
            self.out_data[i].next = self.data[i].q.val();
        }
        if self.out_ready.val() {
            self.held.d.next = false;
        }
        if self.room.val() & self.in_valid.val() {
            self.held.d.next = true;
        }
        if self.reset.val() {
            self.held.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{settle, tick};
    use crate::verilog::{check_all_tools, emit_named};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn new_uut(words: usize) -> StreamSlice<8> {
        let mut uut = StreamSlice::<8>::new(words);
        uut.connect_all();
        uut
    }

    #[test]
    fn synthesizes() {
        let uut = new_uut(3);
        let v = emit_named(&uut, "stream_slice").unwrap();
        check_all_tools("stream_slice", &v).unwrap();
    }

    /// Random valid upstream and ready downstream (and a reset now and then): the beats come
    /// out in order, none lost or repeated, `in_ready` never depends on `in_valid`, and a
    /// downstream that is always ready gets a beat on every edge after the first.
    #[test]
    fn random_handshakes_pass_every_beat_once_in_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_511c);
        let mut uut = new_uut(2);
        for (p_valid, p_ready) in [(1.0, 1.0), (0.7, 0.4), (0.3, 0.9), (0.9, 0.2)] {
            let mut sent: Vec<[u8; 2]> = Vec::new();
            let mut got: Vec<[u8; 2]> = Vec::new();
            let mut next = 0u16;
            for cycle in 0..2000 {
                let reset = cycle == 1000;
                let valid = rng.random_bool(p_valid);
                let ready = rng.random_bool(p_ready);
                let beat = [next as u8, (next >> 8) as u8];
                uut.reset.next = reset;
                uut.out_ready.next = ready;
                uut.in_valid.next = !valid;
                uut.in_data[0].next = u64::from(!beat[0]).into();
                uut.in_data[1].next = u64::from(!beat[1]).into();
                settle(&mut uut);
                let ready_without = uut.in_ready.val();
                uut.in_valid.next = valid;
                uut.in_data[0].next = u64::from(beat[0]).into();
                uut.in_data[1].next = u64::from(beat[1]).into();
                settle(&mut uut);
                let (in_ready, out_valid) = (uut.in_ready.val(), uut.out_valid.val());
                assert_eq!(in_ready, ready_without, "in_ready depends on in_valid");
                if out_valid && ready {
                    got.push([uut.out_data[0].val().to_u8(), uut.out_data[1].val().to_u8()]);
                }
                if valid && in_ready {
                    assert!(!reset, "a beat taken during reset");
                    sent.push(beat);
                    next = next.wrapping_add(1);
                }
                tick(&mut uut, |u| &mut u.clock);
                if reset {
                    // The held beat is dropped: what was sent and not received is gone.
                    sent.truncate(got.len());
                    assert!(!uut.out_valid.val(), "a beat held after reset");
                }
            }
            // Drain.
            uut.out_ready.next = true;
            uut.in_valid.next = false;
            uut.reset.next = false;
            settle(&mut uut);
            if uut.out_valid.val() {
                got.push([uut.out_data[0].val().to_u8(), uut.out_data[1].val().to_u8()]);
                tick(&mut uut, |u| &mut u.clock);
            }
            assert_eq!(got, sent, "valid {p_valid}, ready {p_ready}");
            if p_valid == 1.0 && p_ready == 1.0 {
                // 2,000 edges plus the drain: an empty edge at the start and after the reset.
                assert_eq!(got.len(), 1999);
            }
        }
    }
}
