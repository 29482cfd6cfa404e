//! Decoder of one beat of the packed ternary weight stream into the array's trit selects.

use hgf_golden::config::{HgfConfig, Packing};
use rust_hdl::prelude::*;

/// Bits of a `base3` byte's decoded form: five digits of 2 bits.
const DIGITS_BITS: usize = 10;

/// Weight-beat unpacker (`WeightUnpacker`).
///
/// **Function.** Decodes one beat of the weight stream (docs/arithmetic.md §P3: one column
/// block of `R = array_rows` consecutive rows, row `r`'s `block_bytes` bytes at
/// `bytes[r·block_bytes ..]`) into the `R·C` trits (`C = array_inputs`) that the ternary array
/// consumes in one cycle, each as two select bits (§P1):
///
/// | trit | `nonzero` | `negative` |
/// |---|---|---|
/// | 0 | 0 | don't care |
/// | +1 | 1 | 0 |
/// | −1 | 1 | 1 |
///
/// Layout: trit `i = r·C + c` (row `r` of the beat, column `c` of the block) is
/// `nonzero[i]`, `negative[i]`. Because `C = block_bytes · tpb` (`tpb` trits per byte), trit
/// `i` comes from byte `i div tpb`, digit `i mod tpb` (the first trit of a byte is digit 0).
///
/// - `2bit` (§P1): digit `k` is bits `[2k+1 : 2k]`; `nonzero` is bit `2k` and `negative` bit
///   `2k+1`, plain wires. The reserved code `10` has bit 0 clear and decodes as 0 (the packer
///   never writes it).
/// - `base3` (§P1): the five-stage multiply-by-3 chain: `t = 3·b` (as `b + 2b`, 10 bits),
///   digit `d_k = t[9:8]`, next `b = t[7:0]`. `d_k` is 0, 1 or 2 for −1, 0, +1, so
///   `nonzero = !t[8]` and `negative = !t[9]` (valid where `nonzero` is set). Every byte
///   decodes to five trits, the 13 that the packer never writes included (as
///   `hgf_golden::packing::base3_digits` decodes them).
///
/// `negative` is a don't-care where `nonzero` is 0 (it is then `b1` of the `10`/`00` code or
/// `!t[9]` of digit 1): the array looks at it only for a non-zero trit.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `enable` | in | 1 | high: the register loads the beat on this edge; low: it holds |
/// | `bytes` | in | `R·block_bytes` x 8 | one weight beat, `bytes[r·block_bytes + b]` = byte `b` of row `r`'s block |
/// | `nonzero` | out | `R·C` x 1 | trit `r·C + c` is non-zero, from a register |
/// | `negative` | out | `R·C` x 1 | trit `r·C + c` is −1 (where `nonzero`), from a register |
///
/// Each byte's decoded form is registered (`base3`: its five digits, 10 bits; `2bit`: the byte
/// itself): the register is the first stage of the ternary array's pipeline (the array
/// registers `q` beside it, see [`crate::ternary_array::TernaryArray`]). Registering ten
/// bits per byte rather than the array's nine per trit saves flip-flops, and one register
/// per byte rather than two per trit is what makes the array cheap to simulate.
///
/// **Latency** 1 enabled edge: a beat presented before enabled edge `n` is on `nonzero` /
/// `negative` after it, held while `enable` is low. **Throughput** one beat per cycle.
/// **Resources** `2bit`: 8 FF per byte, no logic. `base3`: per byte five 8-bit
/// shift-and-add stages (the last one only its carry) and 10 FF; no BRAM or DSP. Per config:
/// the `weight_unpacker` row of `hgf estimate`'s area table (fitted to yosys).
/// **Golden** `hgf_golden::packing::base3_digits` and `unpack_byte` (every byte value), and
/// `pack_matrix` / `streams::weight_beats` for whole beats.
/// **Limits** none beyond the config's (`C` is a multiple of the trits per byte).
#[derive(LogicBlock)]
pub struct WeightUnpacker {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// High: the register loads the beat on this edge. Low: it holds.
    pub enable: Signal<In, Bit>,
    /// One weight beat: `R·block_bytes` bytes, row `r`'s block at `r·block_bytes`.
    pub bytes: Vec<Signal<In, Bits<8>>>,
    /// Trit `r·C + c` is non-zero.
    pub nonzero: Vec<Signal<Out, Bit>>,
    /// Trit `r·C + c` is −1 (a don't-care where `nonzero` is low).
    pub negative: Vec<Signal<Out, Bit>>,
    /// base3: the multiply-by-3 chain of each byte.
    base3: Vec<Base3Byte>,
    /// base3: the digits of byte `g`, registered.
    digits: Vec<DFF<Bits<DIGITS_BITS>>>,
    /// 2bit: byte `g`, registered (its codes are the select bits).
    codes: Vec<DFF<Bits<8>>>,
    /// Bytes decoded as `2bit` (0 in a `base3` unpacker).
    _bytes_2bit: usize,
    /// Bytes decoded as `base3` (0 in a `2bit` unpacker).
    _bytes_base3: usize,
}

impl WeightUnpacker {
    /// The unpacker of one weight beat of `cfg` (its packing, `array_rows` and
    /// `array_inputs`).
    pub fn new(cfg: &HgfConfig) -> Self {
        let bytes = cfg.weight_beat_bytes();
        let trits = cfg.array_rows * cfg.array_inputs;
        assert_eq!(bytes * cfg.trits_per_byte(), trits, "a beat is whole bytes");
        let base3 = if cfg.packing == Packing::Base3 {
            bytes
        } else {
            0
        };
        Self {
            clock: Default::default(),
            enable: Default::default(),
            bytes: (0..bytes).map(|_| Default::default()).collect(),
            nonzero: (0..trits).map(|_| Default::default()).collect(),
            negative: (0..trits).map(|_| Default::default()).collect(),
            base3: (0..base3).map(|_| Base3Byte::default()).collect(),
            digits: (0..base3).map(|_| Default::default()).collect(),
            codes: (0..bytes - base3).map(|_| Default::default()).collect(),
            _bytes_2bit: bytes - base3,
            _bytes_base3: base3,
        }
    }

    /// Flip-flops of the register on the decoded beat of `cfg`: per byte, `DIGITS_BITS`
    /// (`base3`, the five digits) or 8 (`2bit`, the byte).
    pub fn register_bits(cfg: &HgfConfig) -> usize {
        let per_byte = match cfg.packing {
            Packing::Base3 => DIGITS_BITS,
            Packing::TwoBit => 8,
        };
        cfg.weight_beat_bytes() * per_byte
    }
}

impl Logic for WeightUnpacker {
    #[hdl_gen]
    fn update(&mut self) {
        // 2bit: trit 4g + k is bits [2k+1 : 2k] of byte g.
        for g in 0..self._bytes_2bit {
            self.codes[g].clock.next = self.clock.val();
            self.codes[g].d.next = self.codes[g].q.val();
            if self.enable.val() {
                self.codes[g].d.next = self.bytes[g].val();
            }
            for k in 0..4 {
                self.nonzero[4 * g + k].next = self.codes[g].q.val().get_bit(2 * k);
                self.negative[4 * g + k].next = self.codes[g].q.val().get_bit(2 * k + 1);
            }
        }
        // base3: trit 5g + k is digit k of the multiply-by-3 chain of byte g.
        for g in 0..self._bytes_base3 {
            self.base3[g].code.next = self.bytes[g].val();
            self.digits[g].clock.next = self.clock.val();
            self.digits[g].d.next = self.digits[g].q.val();
            if self.enable.val() {
                self.digits[g].d.next = self.base3[g].digits.val();
            }
            for k in 0..5 {
                self.nonzero[5 * g + k].next = !self.digits[g].q.val().get_bit(2 * k);
                self.negative[5 * g + k].next = !self.digits[g].q.val().get_bit(2 * k + 1);
            }
        }
    }
}

/// The base-3 decoder of one byte, a helper of [`WeightUnpacker`] (§P1): five stages
/// `t = 3·b` (`b + 2b`, 10 bits), digit `t[9:8]`, next `b = t[7:0]`. `digits` holds digit `k`
/// (0, 1, 2 for −1, 0, +1) in bits `[2k+1 : 2k]`. Combinational. It is a sub-block because
/// rust-hdl cannot widen (`bit_cast`) a signal picked by a loop index. That widening of `code`
/// is the one width mismatch of its Verilog (docs/lint-waivers.md).
#[derive(LogicBlock)]
struct Base3Byte {
    /// The packed byte (not named `byte`: a SystemVerilog keyword).
    pub code: Signal<In, Bits<8>>,
    /// Digit `k` in bits `[2k+1 : 2k]`.
    pub digits: Signal<Out, Bits<DIGITS_BITS>>,
    /// The value entering stage `k`, zero-extended.
    b0: Signal<Local, Bits<10>>,
    b1: Signal<Local, Bits<10>>,
    b2: Signal<Local, Bits<10>>,
    b3: Signal<Local, Bits<10>>,
    b4: Signal<Local, Bits<10>>,
    /// `3 · b_k` for stages 0..3 (stage 4 needs only its digit, an expression).
    t0: Signal<Local, Bits<10>>,
    t1: Signal<Local, Bits<10>>,
    t2: Signal<Local, Bits<10>>,
    t3: Signal<Local, Bits<10>>,
    /// `0xFF`, typed: the low byte of a stage (docs/lint-waivers.md).
    low_byte: Constant<Bits<10>>,
}

impl Default for Base3Byte {
    fn default() -> Self {
        Self {
            code: Default::default(),
            digits: Default::default(),
            b0: Default::default(),
            b1: Default::default(),
            b2: Default::default(),
            b3: Default::default(),
            b4: Default::default(),
            t0: Default::default(),
            t1: Default::default(),
            t2: Default::default(),
            t3: Default::default(),
            low_byte: Constant::new(0xFFu64.into()),
        }
    }
}

impl Logic for Base3Byte {
    #[hdl_gen]
    fn update(&mut self) {
        self.b0.next = bit_cast::<10, 8>(self.code.val());
        self.t0.next = self.b0.val() + (self.b0.val() << 1);
        self.b1.next = self.t0.val() & self.low_byte.val();
        self.t1.next = self.b1.val() + (self.b1.val() << 1);
        self.b2.next = self.t1.val() & self.low_byte.val();
        self.t2.next = self.b2.val() + (self.b2.val() << 1);
        self.b3.next = self.t2.val() & self.low_byte.val();
        self.t3.next = self.b3.val() + (self.b3.val() << 1);
        self.b4.next = self.t3.val() & self.low_byte.val();
        self.digits.next = (self.t0.val() >> 8)
            | ((self.t1.val() >> 8) << 2)
            | ((self.t2.val() >> 8) << 4)
            | ((self.t3.val() >> 8) << 6)
            | (((self.b4.val() + (self.b4.val() << 1)) >> 8) << 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::tick;
    use crate::verilog;
    use hgf_golden::packing::{base3_digits, pack_byte, unpack_byte};
    use hgf_golden::streams::weight_beats;
    use hgf_golden::HgfWeights;

    /// A config of the given array shape and packing (and a small matrix).
    fn config(
        packing: Packing,
        rows: usize,
        inputs: usize,
        d_in: usize,
        d_out: usize,
    ) -> HgfConfig {
        let cfg = HgfConfig {
            max_d_in: d_in,
            max_d_out: d_out,
            max_rank: 1,
            array_rows: rows,
            array_inputs: inputs,
            fp_lanes: 1,
            packing,
            ..HgfConfig::default()
        };
        cfg.validate().expect("test config is valid");
        cfg
    }

    fn new_uut(cfg: &HgfConfig) -> WeightUnpacker {
        let mut uut = WeightUnpacker::new(cfg);
        uut.connect_all();
        uut
    }

    /// The trit that select bits stand for.
    fn trit(nonzero: bool, negative: bool) -> i8 {
        match (nonzero, negative) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => -1,
        }
    }

    /// Decodes one beat: the R·C trits in the documented layout.
    fn decode(uut: &mut WeightUnpacker, beat: &[u8]) -> Vec<i8> {
        assert_eq!(beat.len(), uut.bytes.len());
        for (port, &b) in uut.bytes.iter_mut().zip(beat) {
            port.next = (b as u64).into();
        }
        uut.enable.next = true;
        tick(uut, |u| &mut u.clock);
        uut.nonzero
            .iter()
            .zip(&uut.negative)
            .map(|(nz, neg)| trit(nz.val(), neg.val()))
            .collect()
    }

    #[test]
    fn synthesizes() {
        for (packing, name) in [(Packing::Base3, "base3"), (Packing::TwoBit, "2bit")] {
            let inputs = 4 * packing.trits_per_byte();
            let cfg = config(packing, 2, inputs, 64, 8);
            let uut = new_uut(&cfg);
            let name = format!("weight_unpacker_{name}_r2_c{inputs}");
            let v = verilog::emit_named(&uut, &name).unwrap();
            verilog::check_all_tools(&name, &v).unwrap();
        }
    }

    #[test]
    fn every_byte_decodes_like_the_golden_unpacker() {
        for packing in [Packing::Base3, Packing::TwoBit] {
            // One row of one byte.
            let tpb = packing.trits_per_byte();
            let cfg = config(packing, 1, tpb, tpb, 1);
            let mut uut = new_uut(&cfg);
            for byte in 0..=255u8 {
                let got = decode(&mut uut, &[byte]);
                let want = match packing {
                    Packing::Base3 => base3_digits(byte),
                    // The reserved code 10 decodes as 0 in the RTL; the golden unpacker
                    // rejects the byte, so decode such bytes code by code.
                    Packing::TwoBit => unpack_byte(byte, packing).unwrap_or_else(|_| {
                        (0..4)
                            .map(|k| match (byte >> (2 * k)) & 3 {
                                0b01 => 1,
                                0b11 => -1,
                                _ => 0,
                            })
                            .collect()
                    }),
                };
                assert_eq!(got, want, "{packing} byte {byte:#04x}");
                if let Ok(trits) = unpack_byte(byte, packing) {
                    assert_eq!(got, trits, "{packing} byte {byte:#04x}");
                    assert_eq!(pack_byte(&got, packing), byte);
                }
            }
        }
    }

    #[test]
    fn whole_beats_match_pack_matrix() {
        // (packing, R, C, d_in, d_out): padding in the last column block, R = 1, several
        // bytes per row block.
        let shapes = [
            (Packing::Base3, 4, 40, 100, 8),
            (Packing::Base3, 2, 20, 37, 6),
            (Packing::Base3, 1, 5, 13, 3),
            (Packing::TwoBit, 4, 16, 50, 8),
            (Packing::TwoBit, 3, 8, 9, 3),
        ];
        for (i, &(packing, rows, inputs, d_in, d_out)) in shapes.iter().enumerate() {
            let cfg = config(packing, rows, inputs, d_in, d_out);
            let w = HgfWeights::random(cfg.max_shape(), 100 + i as u64);
            let beats = weight_beats(&cfg.max_layout(), &w).unwrap();
            assert_eq!(beats.len(), cfg.max_layout().weight_beats());
            let mut uut = new_uut(&cfg);
            let groups = d_out / rows;
            for (n, beat) in beats.iter().enumerate() {
                let (block, group) = (n / groups, n % groups);
                let got = decode(&mut uut, beat);
                for r in 0..rows {
                    for c in 0..inputs {
                        let col = block * inputs + c;
                        let want = if col < d_in {
                            w.t[[group * rows + r, col]]
                        } else {
                            0
                        };
                        assert_eq!(
                            got[r * inputs + c],
                            want,
                            "{packing} R{rows} C{inputs}: beat {n} row {r} column {c}"
                        );
                    }
                }
            }
        }
    }
}
