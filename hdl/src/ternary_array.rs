//! The multiplier-free ternary array: R block sums of C quantized activations per cycle.

use hgf_golden::config::HgfConfig;
use rust_hdl::prelude::*;

/// Largest `array_inputs` the array is built for (the config's limit).
const MAX_INPUTS: usize = hgf_golden::config::MAX_ARRAY_INPUTS;

/// Pipelined ternary array (`TernaryArray`).
///
/// **Function.** For each row `r < R` (`R = array_rows`) of one weight beat, the block sum
/// `sums[r] = Σ_{c<C} T_rc · q_c` (docs/arithmetic.md §T1 restricted to one column block,
/// `C = array_inputs`), exact, as a 32-bit two's-complement word. `T_rc` comes as the select
/// bits of [`crate::weight_unpacker::WeightUnpacker`] (`nonzero[r·C + c]`,
/// `negative[r·C + c]`, `negative` a don't-care where `nonzero` is low); `q_c` is an int8 in
/// two's complement. No multiplier.
///
/// **The first stage is shared with the unpacker.** The array registers `q`; the trits come
/// already registered, from the unpacker's register, which loads the same beat on the same
/// enabled edge. So the trits of the beat whose `q` is presented before enabled edge `n`
/// are read during the cycles after that edge (until the next enabled one), which is where
/// `WeightUnpacker`'s outputs hold them. Registering `q` once per column and each weight
/// byte once (rather than a selected term per trit, 9 flip-flops and two registers for
/// every trit) saves flip-flops, and it makes the array cheap to simulate: Verilator pays
/// for every register on every cycle.
///
/// Datapath per row, in offset binary so that every width is implied by the adder tree and
/// yosys trims it (no sign extension inside the tree):
/// 1. *Select* (at the head of the first adder stage): `u_c = (q_c XOR (negative ? 0xFF :
///    0)) XOR 0x80` if `nonzero`, else `0x80`, in `[0, 255]`; and the carry `n_c = nonzero
///    AND negative`. Then `T·q + 128 = u_c + n_c` (because `−q = ~q + 1`). One LUT per bit,
///    written with masks rather than branches (the same function; no data-dependent branch
///    in the simulator).
/// 2. *Balanced adder tree* over `P = 2^ceil(log2 C)` leaves (leaves `C .. P` are constant 0):
///    every node adds its two children and one pending carry, the left child's, on the carry
///    input of its adder (free on iCE40 `SB_CARRY` / ECP5 `CCU2C` chains); the right child's
///    pending carry moves up. A node of level `l` holds at most `2^(8+l) − 1`, `8 + l` bits.
///    A registered node keeps its pending carry in bit 31 of the same register.
/// 3. *Correction*: `sum = root + pending carry − 128·C`, taken modulo `2^w` and
///    sign-extended to 32 bits, where `w` is the smallest two's-complement width with
///    `2^(w−1) − 1 >= 128·C` ([`TernaryArray::sum_bits`]).
///
/// Bound: every block sum lies in `[−127·C, 128·C]` (`T·q` is in `[−127, 128]`), so for
/// `C <= 320` (the config's limit) `|sum| <= 40 960`. That needs 17 bits for `C >= 256`
/// (`128·256 = 2^15` does not fit 16-bit two's complement) and 16 bits or fewer below; the
/// array computes at `w` bits (14 for `C = 40`, 13 for `C = 20`) and outputs 32.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `enable` | in | 1 | high: the pipeline advances on this edge; low: every register holds |
/// | `q` | in | `C` x 8 | the quantized activations of the column block, int8 two's complement |
/// | `nonzero`, `negative` | in | `R·C` x 1 | trit `r·C + c`: non-zero; −1 (where non-zero); one enabled edge after `q`, from a register |
/// | `sums` | out | `R` x 32 | block sum of row `r`, two's complement, from a register |
///
/// Pipeline: the register on `q` (and the unpacker's on the trits), one after every second
/// adder level below the root (levels 2, 4, …; level `l` holds sums of `2^l` leaves), and
/// one on the corrected sums. Logic per stage: the select and two adder levels; two adder
/// levels; in the last stage one or two adder levels and the correction adder.
///
/// **Latency** [`TernaryArray::latency`] `= 2 + floor((L − 1) / 2)` enabled edges,
/// `L = ceil(log2 C)`: a beat whose `q` is presented before enabled edge `n` (and its trits
/// after it) gives `sums` after enabled edge `n + latency − 1`. 2 for `C = 4`, 3 for
/// `C = 5`, 4 for `C = 20` and `C = 40`, 6 for `C = 320`. **Throughput** one beat (R rows ×
/// C inputs) per enabled cycle; holds while `enable` is low.
/// **Resources** no BRAM, no DSP, no multiplier. `8C` FF for `q`; per row about `8C` LUT4
/// for the selects, `C − 1` adders of 9 to `w` bits on carry chains and the stage
/// registers. Per config: the `ternary_array` row of `hgf estimate`'s area table (fitted to
/// yosys).
/// **Golden** `hgf_golden::ternary::ternary_accumulate` on one column block.
/// **Limits** `R >= 1`, `2 <= C <= 320`.
#[derive(LogicBlock)]
pub struct TernaryArray {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// High: every pipeline register loads on this edge. Low: every register holds.
    pub enable: Signal<In, Bit>,
    /// The block's quantized activations `q_c`, int8 two's complement.
    pub q: Vec<Signal<In, Bits<8>>>,
    /// Trit `r·C + c` is non-zero (one enabled edge after `q`).
    pub nonzero: Vec<Signal<In, Bit>>,
    /// Trit `r·C + c` is −1 (a don't-care where `nonzero` is low).
    pub negative: Vec<Signal<In, Bit>>,
    /// Block sum of row `r`, 32-bit two's complement.
    pub sums: Vec<Signal<Out, Bits<32>>>,
    /// `q_c`, registered.
    q_reg: Vec<DFF<Bits<8>>>,
    /// The select of trit `r·C + c`.
    select: Vec<TritSelect>,
    /// Tree node `i` of row `r` at `r·S + i` (`S = 2P − 1`): leaves `0 .. P`, then the
    /// internal nodes, node `P + j` the sum of nodes `2j` and `2j + 1`; the root is `2P − 2`.
    node: Vec<Signal<Local, Bits<32>>>,
    /// The pending negation carry of node `r·S + i` (added further up the tree).
    carry: Vec<Signal<Local, Bit>>,
    /// Internal node `j` of row `r` before its optional register, at `r·(P − 1) + j`.
    sum: Vec<Signal<Local, Bits<32>>>,
    /// The left child's pending carry of internal node `r·(P − 1) + j` as a word (`0` or
    /// `1`): added as a bit, it would meet the 32-bit sum at 1 bit (docs/lint-waivers.md).
    carry_in: Vec<Signal<Local, Bits<32>>>,
    /// The pending carry of internal node `r·(P − 1) + j` as bit 31 (`0` or `2^31`).
    carry_bit31: Vec<Signal<Local, Bits<32>>>,
    /// Register of internal node `r·(P − 1) + j` (used where `registered[j]`): the sum in
    /// the low bits, the pending carry in bit 31.
    node_reg: Vec<DFF<Bits<32>>>,
    /// Internal node `j` is registered (its level is even and below the root).
    registered: Vec<Constant<Bit>>,
    /// `2^(8 + l) − 1` for internal node `j` of level `l`: its sum always fits (no value
    /// changes). The mask keeps yosys from merging the adders of unregistered levels into one
    /// multi-operand `$macc`, which it would build from LUT full adders instead of carry
    /// chains.
    level_mask: Vec<Constant<Bits<32>>>,
    /// `2^31 − 1`: the sum part of a node register.
    sum_part: Constant<Bits<32>>,
    /// `2^31`: a pending carry in a node register.
    bit31: Constant<Bits<32>>,
    /// The last pending carry of row `r` as a word (`0` or `1`).
    root_carry: Vec<Signal<Local, Bits<32>>>,
    /// The corrected sum of row `r`, reduced to `w` bits.
    total: Vec<Signal<Local, Bits<32>>>,
    /// Output register of row `r`.
    out_reg: Vec<DFF<Bits<32>>>,
    /// `2^32 − 128·C`: removes the offset of the `C` leaves.
    offset: Constant<Bits<32>>,
    /// `2^w − 1`.
    sum_mask: Constant<Bits<32>>,
    /// `2^32 − 2^w`: the sign extension of a negative sum.
    sign_ext: Constant<Bits<32>>,
    /// `w − 1`, the sign bit of a sum.
    sign_bit: Constant<Bits<5>>,
    // Loop bounds (a one-pass loop `for x in v..v + 1` names the value `v` for the index
    // arithmetic, which rust-hdl evaluates with the loop variables only).
    _rows: usize,
    _inputs: usize,
    _inputs_end: usize,
    _leaves: usize,
    _leaves_end: usize,
    _stride: usize,
    _stride_end: usize,
    _internal: usize,
    _padding: usize,
    _latency: usize,
}

impl TernaryArray {
    /// The array of `cfg` (`array_rows` rows, `array_inputs` inputs).
    pub fn new(cfg: &HgfConfig) -> Self {
        Self::with_shape(cfg.array_rows, cfg.array_inputs)
    }

    /// An array of `rows` rows of `inputs` inputs each.
    ///
    /// # Panics
    /// If `rows` is 0 or `inputs` is outside `2..=320`.
    pub fn with_shape(rows: usize, inputs: usize) -> Self {
        assert!(rows >= 1, "TernaryArray needs at least one row");
        assert!(
            (2..=MAX_INPUTS).contains(&inputs),
            "TernaryArray inputs {inputs} outside 2..={MAX_INPUTS}"
        );
        let leaves = inputs.next_power_of_two();
        let levels = leaves.trailing_zeros() as usize;
        // Internal node j sits at level l: levels 1, 2, … take P/2, P/4, … nodes.
        let mut registered = Vec::with_capacity(leaves - 1);
        let mut level_mask = Vec::with_capacity(leaves - 1);
        for level in 1..=levels {
            let is_registered = level % 2 == 0 && level < levels;
            registered.extend((0..leaves >> level).map(|_| Constant::new(is_registered)));
            let mask = (1u64 << (8 + level)) - 1;
            level_mask.extend((0..leaves >> level).map(|_| Constant::new(mask.into())));
        }
        let w = Self::sum_bits(inputs);
        let mask = (1u64 << w) - 1;
        let stride = 2 * leaves - 1;
        let internal = leaves - 1;
        Self {
            clock: Default::default(),
            enable: Default::default(),
            q: (0..inputs).map(|_| Default::default()).collect(),
            nonzero: (0..rows * inputs).map(|_| Default::default()).collect(),
            negative: (0..rows * inputs).map(|_| Default::default()).collect(),
            sums: (0..rows).map(|_| Default::default()).collect(),
            q_reg: (0..inputs).map(|_| Default::default()).collect(),
            select: (0..rows * inputs).map(|_| TritSelect::default()).collect(),
            node: (0..rows * stride).map(|_| Default::default()).collect(),
            carry: (0..rows * stride).map(|_| Default::default()).collect(),
            sum: (0..rows * internal).map(|_| Default::default()).collect(),
            carry_in: (0..rows * internal).map(|_| Default::default()).collect(),
            carry_bit31: (0..rows * internal).map(|_| Default::default()).collect(),
            node_reg: (0..rows * internal).map(|_| Default::default()).collect(),
            registered,
            level_mask,
            sum_part: Constant::new(0x7FFF_FFFFu64.into()),
            bit31: Constant::new(0x8000_0000u64.into()),
            root_carry: (0..rows).map(|_| Default::default()).collect(),
            total: (0..rows).map(|_| Default::default()).collect(),
            out_reg: (0..rows).map(|_| Default::default()).collect(),
            offset: Constant::new(((1u64 << 32) - 128 * inputs as u64).into()),
            sum_mask: Constant::new(mask.into()),
            sign_ext: Constant::new((0xFFFF_FFFF ^ mask).into()),
            sign_bit: Constant::new(((w - 1) as u64).into()),
            _rows: rows,
            _inputs: inputs,
            _inputs_end: inputs + 1,
            _leaves: leaves,
            _leaves_end: leaves + 1,
            _stride: stride,
            _stride_end: stride + 1,
            _internal: internal,
            _padding: leaves - inputs,
            _latency: Self::latency_for_inputs(inputs),
        }
    }

    /// Enabled clock edges from `q` to `sums`: `2 + floor((L − 1) / 2)`,
    /// `L = ceil(log2 C)`.
    pub fn latency(&self) -> usize {
        self._latency
    }

    /// [`TernaryArray::latency`] of an array of `inputs` inputs, without building it: the
    /// register on `q` (and the unpacker's), one register after every second adder level
    /// below the root (levels 2, 4, …), and the output register.
    pub fn latency_for_inputs(inputs: usize) -> usize {
        let levels = inputs.next_power_of_two().trailing_zeros() as usize;
        let registered_levels = (2..levels).filter(|l| l % 2 == 0).count();
        2 + registered_levels
    }

    /// Flip-flops of the register on `q` of an array of `inputs` inputs: 8 per input.
    pub fn input_register_bits(inputs: usize) -> usize {
        8 * inputs
    }

    /// The width `w` at which block sums are exact: the smallest two's-complement width with
    /// `2^(w−1) − 1 >= 128·C` (every block sum lies in `[−127·C, 128·C]`).
    pub fn sum_bits(inputs: usize) -> usize {
        hgf_golden::derived::ternary_sum_bits(inputs) as usize
    }

    /// Rows `R`.
    pub fn rows(&self) -> usize {
        self._rows
    }

    /// Inputs per row `C`.
    pub fn inputs(&self) -> usize {
        self._inputs
    }
}

impl Logic for TernaryArray {
    #[hdl_gen]
    fn update(&mut self) {
        for c in 0..self.q_reg.len() {
            self.q_reg[c].clock.next = self.clock.val();
            self.q_reg[c].d.next = self.q_reg[c].q.val();
            if self.enable.val() {
                self.q_reg[c].d.next = self.q[c].val();
            }
        }
        // Leaves: each trit's selected term; leaves C .. P are constant 0.
        for i in 0..self.select.len() {
            self.select[i].nonzero.next = self.nonzero[i].val();
            self.select[i].negative.next = self.negative[i].val();
        }
        for cc in self._inputs..self._inputs_end {
            for ss in self._stride..self._stride_end {
                for rr in 0..self._rows {
                    for c in 0..self._inputs {
                        self.select[rr * cc + c].q.next = self.q_reg[c].q.val();
                        self.node[rr * ss + c].next = self.select[rr * cc + c].value.val();
                        self.carry[rr * ss + c].next = self.select[rr * cc + c].carry.val();
                    }
                    for c in 0..self._padding {
                        self.node[rr * ss + cc + c].next = 0.into();
                        self.carry[rr * ss + cc + c].next = false;
                    }
                }
            }
        }
        // Internal nodes in increasing order (children first): node P + j adds nodes 2j and
        // 2j + 1 and the left child's pending carry; the right child's carry moves up.
        for pp in self._leaves..self._leaves_end {
            for ss in self._stride..self._stride_end {
                for rr in 0..self._rows {
                    for j in 0..self._internal {
                        self.carry_in[rr * (pp - 1) + j].next = 0.into();
                        if self.carry[rr * ss + 2 * j].val() {
                            self.carry_in[rr * (pp - 1) + j].next = 1.into();
                        }
                        self.sum[rr * (pp - 1) + j].next = ((self.node[rr * ss + 2 * j].val()
                            + self.node[rr * ss + 2 * j + 1].val())
                            + self.carry_in[rr * (pp - 1) + j].val())
                            & self.level_mask[j].val();
                        self.carry_bit31[rr * (pp - 1) + j].next = 0.into();
                        if self.carry[rr * ss + 2 * j + 1].val() {
                            self.carry_bit31[rr * (pp - 1) + j].next = self.bit31.val();
                        }
                        self.node_reg[rr * (pp - 1) + j].clock.next = self.clock.val();
                        self.node_reg[rr * (pp - 1) + j].d.next =
                            self.node_reg[rr * (pp - 1) + j].q.val();
                        if self.enable.val() {
                            self.node_reg[rr * (pp - 1) + j].d.next = self.sum[rr * (pp - 1) + j]
                                .val()
                                | self.carry_bit31[rr * (pp - 1) + j].val();
                        }
                        if self.registered[j].val() {
                            self.node[rr * ss + pp + j].next =
                                self.node_reg[rr * (pp - 1) + j].q.val() & self.sum_part.val();
                            self.carry[rr * ss + pp + j].next =
                                self.node_reg[rr * (pp - 1) + j].q.val().get_bit(31);
                        } else {
                            self.node[rr * ss + pp + j].next = self.sum[rr * (pp - 1) + j].val();
                            self.carry[rr * ss + pp + j].next =
                                self.carry[rr * ss + 2 * j + 1].val();
                        }
                    }
                }
            }
        }
        // Root: add the last carry, remove the offset, reduce to w bits, sign-extend.
        for ss in self._stride..self._stride_end {
            for rr in 0..self._rows {
                self.root_carry[rr].next = 0.into();
                if self.carry[rr * ss + ss - 1].val() {
                    self.root_carry[rr].next = 1.into();
                }
                self.total[rr].next = ((self.node[rr * ss + ss - 1].val()
                    + self.root_carry[rr].val())
                    + self.offset.val())
                    & self.sum_mask.val();
                self.out_reg[rr].clock.next = self.clock.val();
                self.out_reg[rr].d.next = self.out_reg[rr].q.val();
                if self.enable.val() {
                    self.out_reg[rr].d.next = self.total[rr].val();
                    if self.total[rr].val().get_bit(self.sign_bit.val().index()) {
                        self.out_reg[rr].d.next = self.total[rr].val() | self.sign_ext.val();
                    }
                }
                self.sums[rr].next = self.out_reg[rr].q.val();
            }
        }
    }
}

/// The select of one trit of [`TernaryArray`]: `value` is `u = (q XOR (negative ? 0xFF :
/// 0)) XOR 0x80` for a non-zero trit and `0x80` for a zero one, zero-extended; `carry` is
/// `nonzero AND negative` (the `+1` of `−q = ~q + 1`). So `T·q + 128 = value + carry`.
/// Combinational, written with masks (a 3-input function per bit, as a branch would be, but
/// without data-dependent branches in the simulator). A sub-block because rust-hdl cannot
/// widen (`bit_cast`) a signal picked by a loop index. That widening of `biased` is the one
/// width mismatch of its Verilog (a 32-bit mask of 8 bits: docs/lint-waivers.md).
#[derive(LogicBlock)]
struct TritSelect {
    pub q: Signal<In, Bits<8>>,
    pub nonzero: Signal<In, Bit>,
    pub negative: Signal<In, Bit>,
    pub value: Signal<Out, Bits<32>>,
    pub carry: Signal<Out, Bit>,
    /// `0xFF` for a −1 trit.
    flip: Signal<Local, Bits<8>>,
    /// `0xFF` for a non-zero trit.
    keep: Signal<Local, Bits<8>>,
    flipped: Signal<Local, Bits<8>>,
    kept: Signal<Local, Bits<8>>,
    biased: Signal<Local, Bits<8>>,
    // Typed 8-bit constants (docs/lint-waivers.md).
    zero: Constant<Bits<8>>,
    ones: Constant<Bits<8>>,
    bias: Constant<Bits<8>>,
}

impl Default for TritSelect {
    fn default() -> Self {
        Self {
            q: Default::default(),
            nonzero: Default::default(),
            negative: Default::default(),
            value: Default::default(),
            carry: Default::default(),
            flip: Default::default(),
            keep: Default::default(),
            flipped: Default::default(),
            kept: Default::default(),
            biased: Default::default(),
            zero: Constant::new(0u64.into()),
            ones: Constant::new(0xFFu64.into()),
            bias: Constant::new(0x80u64.into()),
        }
    }
}

impl Logic for TritSelect {
    #[hdl_gen]
    fn update(&mut self) {
        self.flip.next = self.zero.val();
        if self.negative.val() {
            self.flip.next = self.ones.val();
        }
        self.keep.next = self.zero.val();
        if self.nonzero.val() {
            self.keep.next = self.ones.val();
        }
        self.flipped.next = self.q.val() ^ self.flip.val();
        self.kept.next = self.flipped.val() & self.keep.val();
        self.biased.next = self.kept.val() ^ self.bias.val();
        self.value.next = bit_cast::<32, 8>(self.biased.val());
        self.carry.next = self.nonzero.val() & self.negative.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::tick;
    use crate::verilog;
    use hgf_golden::ternary::ternary_accumulate;
    use hgf_golden::HgfWeights;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::VecDeque;

    fn new_uut(rows: usize, inputs: usize) -> TernaryArray {
        let mut uut = TernaryArray::with_shape(rows, inputs);
        uut.connect_all();
        uut
    }

    /// One beat: q, and T as R x C trits.
    struct Beat {
        q: Vec<i8>,
        t: Vec<Vec<i8>>,
    }

    /// The golden block sums of a beat: `ternary_accumulate` on an R x C matrix.
    fn golden(beat: &Beat) -> Vec<i32> {
        let (rows, inputs) = (beat.t.len(), beat.q.len());
        let mut w = HgfWeights::random(hgf_golden::Shape::new(inputs, rows, 1), 0);
        for (r, row) in beat.t.iter().enumerate() {
            for (c, &t) in row.iter().enumerate() {
                w.t[[r, c]] = t;
            }
        }
        ternary_accumulate(w.t.view(), &beat.q)
    }

    /// Drives the beats with random holds (beats advance on enabled edges only; a beat's
    /// trits follow its `q` by one enabled edge, as from the unpacker's register; `negative`
    /// is randomised where the trit is zero) and checks every output.
    fn run(rows: usize, inputs: usize, beats: &[Beat], seed: u64, hold: f64) -> usize {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut uut = new_uut(rows, inputs);
        let latency = uut.latency();
        // Expected outputs by enabled edge: the beat presented before enabled edge n is on
        // `sums` after enabled edge n + latency - 1.
        let mut pending: VecDeque<Option<Vec<i32>>> = VecDeque::new();
        let mut next = 0;
        let mut checked = 0;
        let mut edges = 0;
        // The trits on the ports: those of the beat whose q the last enabled edge loaded
        // (as the unpacker's register holds them).
        let mut loaded: Vec<Vec<i8>> = vec![vec![0; inputs]; rows];
        while checked < beats.len() {
            let enable = !rng.random_bool(hold);
            let beat = beats.get(next);
            if let Some(beat) = beat {
                for (port, &q) in uut.q.iter_mut().zip(&beat.q) {
                    port.next = (q as u8 as u64).into();
                }
            }
            // Trit r·C + c, row by row.
            for (i, &t) in loaded.iter().flatten().enumerate() {
                uut.nonzero[i].next = t != 0;
                uut.negative[i].next = if t == 0 { rng.random_bool(0.5) } else { t < 0 };
            }
            uut.enable.next = enable;
            tick(&mut uut, |u| &mut u.clock);
            if enable {
                edges += 1;
                loaded = beat.map_or_else(|| vec![vec![0; inputs]; rows], |b| b.t.clone());
                pending.push_back(beat.map(golden));
                next += 1;
                if pending.len() == latency {
                    if let Some(want) = pending.pop_front().unwrap() {
                        for (r, &want) in want.iter().enumerate() {
                            assert_eq!(
                                uut.sums[r].val().to_u64() as u32 as i32,
                                want,
                                "R{rows} C{inputs}: beat {checked} row {r} (enabled edge {edges})"
                            );
                        }
                        checked += 1;
                    }
                }
            }
        }
        checked
    }

    fn random_beats(rows: usize, inputs: usize, n: usize, seed: u64) -> Vec<Beat> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| Beat {
                q: (0..inputs).map(|_| rng.random::<i8>()).collect(),
                t: (0..rows)
                    .map(|_| (0..inputs).map(|_| rng.random_range(-1..=1)).collect())
                    .collect(),
            })
            .collect()
    }

    /// Edge cases: the extreme sums (q = −128 against −1 everywhere: +128·C; q = −128 against
    /// +1 and q = 127 against −1), all-zero trits, single non-zero trits.
    fn edge_beats(rows: usize, inputs: usize) -> Vec<Beat> {
        let all = |q: i8, t: i8| Beat {
            q: vec![q; inputs],
            t: vec![vec![t; inputs]; rows],
        };
        let mut beats = vec![
            all(-128, -1),
            all(-128, 1),
            all(127, -1),
            all(127, 1),
            all(-128, 0),
            all(0, -1),
        ];
        for c in [0, inputs - 1] {
            let mut b = all(-128, 0);
            for (r, row) in b.t.iter_mut().enumerate() {
                row[c] = if r % 2 == 0 { -1 } else { 1 };
            }
            beats.push(b);
        }
        beats
    }

    #[test]
    fn synthesizes() {
        for (rows, inputs) in [(4, 40), (2, 20), (1, 5)] {
            let uut = new_uut(rows, inputs);
            let name = format!("ternary_array_r{rows}_c{inputs}");
            let v = verilog::emit_named(&uut, &name).unwrap();
            verilog::check_all_tools(&name, &v).unwrap();
        }
    }

    #[test]
    fn latency_and_width_bounds() {
        assert_eq!(TernaryArray::with_shape(1, 4).latency(), 2);
        assert_eq!(TernaryArray::with_shape(1, 5).latency(), 3);
        assert_eq!(TernaryArray::with_shape(1, 20).latency(), 4);
        assert_eq!(TernaryArray::with_shape(1, 40).latency(), 4);
        assert_eq!(TernaryArray::with_shape(1, 320).latency(), 6);
        // |sum| <= 128 C: 16 bits hold it up to C = 255, C = 256..=320 needs 17.
        assert_eq!(TernaryArray::sum_bits(40), 14);
        assert_eq!(TernaryArray::sum_bits(255), 16);
        assert_eq!(TernaryArray::sum_bits(256), 17);
        assert_eq!(TernaryArray::sum_bits(320), 17);
    }

    #[test]
    fn edge_sums_match_golden() {
        for (rows, inputs) in [(1, 4), (2, 5), (4, 40), (2, 20), (1, 320)] {
            let beats = edge_beats(rows, inputs);
            let n = beats.len();
            assert_eq!(run(rows, inputs, &beats, 7, 0.0), n);
            assert_eq!(run(rows, inputs, &beats, 8, 0.4), n);
        }
    }

    #[test]
    fn random_sums_match_golden_with_stalls() {
        // The presets' shapes (4 x 40, 2 x 20), small ones, and C = 320 (17-bit sums).
        let shapes = [
            (1, 4, 300),
            (2, 5, 300),
            (4, 5, 200),
            (3, 8, 200),
            (2, 20, 200),
            (4, 40, 200),
            (1, 320, 40),
        ];
        for (i, &(rows, inputs, n)) in shapes.iter().enumerate() {
            let beats = random_beats(rows, inputs, n, 20 + i as u64);
            assert_eq!(run(rows, inputs, &beats, 30 + i as u64, 0.3), n);
        }
    }
}
