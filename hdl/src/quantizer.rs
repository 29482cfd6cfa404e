//! The front end of the ternary flow: absmax, scale, dequantization factor and the quantized
//! column blocks of one token.

use hgf_golden::config::{HgfConfig, MAX_ARRAY_INPUTS, MAX_D_IN};
use hgf_golden::quantize::ABSMAX_FLOOR;
use rust_hdl::prelude::*;

use crate::counter_mask::counter_mask;
use crate::f16_to_f32::F16ToF32;
use crate::f32_to_i8::F32ToI8;
use crate::fp32_div::Fp32Div;
use crate::fp32_mul::Fp32Mul;
use crate::resources::Resources;
use crate::tiled_ram::TiledRam;

/// Per-token activation quantizer and dequantization factor (`QuantizerUnit`).
///
/// **Function.** For one token `x` of `d_in` binary16 values (docs/arithmetic.md §Q, §T3):
/// 1. *Absmax* (§Q1). Every accepted `x` beat is written to the unit's own copy of the token
///    (a [`TiledRam<16>`] of depth `d_in`, at the beat's index, counted internally) and its
///    magnitude `|x|` (the sign bit cleared, 15 bits) enters a running maximum of bit
///    patterns. For non-NaN values the patterns order like the magnitudes, and every NaN
///    pattern (`0x7C01 ..= 0x7FFF`) is above every other, so a NaN is sticky by itself: the
///    maximum is then a NaN and converts to the canonical NaN.
/// 2. *Scale and factor* (§Q1, §Q2, §T3). After the last beat (`x_last`), the floor: a
///    maximum below `0x00A8` (168 · 2^-24, the smallest binary16 value `>= 1e-5`) becomes
///    `m = 0x3727C5AC` (the binary32 1e-5), anything else (NaN included) converts exactly
///    ([`F16ToF32`]). One [`Fp32Div`] then computes `s = fl32(127 / m)`, and right after it
///    `k = fl32(beta / s)`; `k` and `k_valid` are held until the next `start` or `reset`.
/// 3. *Quantized column blocks* (§Q3, §P2). Once `s` is known, column block `b` (`b = 0 ..
///    column_blocks - 1`, in order) is `q[b·C .. b·C + C)` with `q_i = int8(fl32(x_i · s))`
///    and `q_i = 0` past `d_in`. One element per cycle reads the token RAM (a register, [`F16ToF32`],
///    a register, [`Fp32Mul`] `x · s`, [`F32ToI8`]) and shifts into the *fill* buffer (C int8
///    registers; the block's elements are issued from the last to the first, so the shift
///    leaves element `i` in register `i`). A complete fill buffer moves into the *current*
///    buffer (the `block` outputs) when the current one is empty or released by `block_done`;
///    the next block is built meanwhile (double buffering). After the last block's
///    `block_done` the unit is idle until `start` or `reset`.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous: idle on the next edge from any state (division abandoned, blocks and `k_valid` dropped); wins over everything |
/// | `start` | in | 1 | begin a new token from any state: absmax, beat counter, blocks, `k_valid` and the divider are cleared; an `x` beat on the same edge is the token's first |
/// | `x_valid` | in | 1 | an `x` beat is accepted on this edge (taken while receiving, that is from `start` until `x_last`; ignored otherwise) |
/// | `x_last` | in | 1 | with `x_valid`: this beat is the `d_in`-th, the last of the token |
/// | `x_data` | in | 16 | binary16 activation `x_i`, `i` = beats accepted before this one |
/// | `d_in` | in | 20 | the token's `d_in` (`1 ..= max_d_in`), stable from `start` until the last block: elements at or past it are padding (`q = 0`), and the block holding element `d_in - 1` is the last |
/// | `beta` | in | 32 | binary32 scale of T (§1); sampled by the divider 39 edges after the `x_last` edge: keep it stable from `x_last` until `k_valid` |
/// | `block_done` | in | 1 | the array has finished with the current block: swap (ignored while `block_valid` is low) |
/// | `k` | out | 32 | binary32 `fl32(beta / s)` while `k_valid` |
/// | `k_valid` | out | 1 | `k` is the token's factor; held until `start` or `reset` |
/// | `block` | out | C x 8 | `block$i` = `q[block_index · C + i]`, int8 two's complement, while `block_valid` |
/// | `block_valid` | out | 1 | the current buffer holds block `block_index`, complete; stable until `block_done` |
/// | `block_index` | out | 20 | the current block's number, `0 .. column_blocks - 1` in order |
/// | `idle` | out | 1 | no token in progress: after `reset`, and once the last block's `block_done` is taken and `k_valid` is up (for tiny configs the blocks can finish before `k`); a `start` then loses nothing |
/// | `mul_a`, `mul_b` | out | 32, 32 | the operands `fl32(x_i)`, `s` of `x_i · s` for a multiplier outside the unit (`HgfConfig::shares_quantizer_multiplier`; they feed nothing otherwise) |
/// | `mul_product` | in | 32 | `fl32(mul_a · mul_b)` from that multiplier, [`Fp32Mul::LATENCY`] edges after the operands (ignored when the unit has its own multiplier) |
///
/// **Latency.** With `x_last` accepted on edge `T`: the divider samples `127, m` on edge
/// `T + 2` (m is converted and registered on `T + 1`); `s` is registered and the `beta / s`
/// division starts on edge `T + 39`
/// ([`QuantizerUnit::SCALE_CYCLES`]); `k_valid` rises after edge `T + 76`
/// ([`QuantizerUnit::K_CYCLES`]); block 0 is valid after edge `T + 48 + C`
/// ([`QuantizerUnit::first_block_cycles`], 88 for C = 40). An element issued to the RAM on
/// edge `e` lands in the fill buffer on edge `e + 7` ([`QuantizerUnit::ELEMENT_LATENCY`] = 8
/// edges including `e`: RAM read, its register, binary32 register, 4 multiplier stages, the shift). From
/// `start` (edge `S`) with one beat per cycle, `x_last` is edge `S + d_in` (`S + d_in - 1`
/// if the first beat shares the `start` edge), so block 0 is valid after edge
/// `S + d_in + 48 + C`: 600 for d_in = 512, C = 40 (the shape of the cycle test), 585 for the
/// default config (C = 25).
/// **Throughput.** One quantized element per cycle. A block takes
/// [`QuantizerUnit::block_fill_cycles`] = C + 9 cycles, counted from the edge that moved the
/// previous block into the current buffer: the next `block_valid` follows `block_done` with
/// no gap when the array spends at least C + 9 cycles per block (`d_out / R` cycles in the
/// core: 128 ≥ 34 for the default config), else after the rest of the C + 9. A token takes
/// `d_in` beats (at most one per cycle) + 48 + C + (column_blocks - 1) · max(C + 9, array
/// time per block) cycles up to its last block.
/// **Resources** one [`Fp32Mul`] (two 16x16 multipliers: its operand `x` is a binary16
/// value, [`Fp32Mul::with_binary16_a`]), or none when the config shares the gate's
/// multiplier (`HgfConfig::shares_quantizer_multiplier`: the unit then sends `x * s` out on
/// `mul_a`, `mul_b` and takes the product on `mul_product` with the same latency), one
/// [`Fp32Div`] (no multiplier),
/// a [`TiledRam<16>`] of `d_in` words (`ceil(d_in / 256)` iCE40 `SB_RAM40_4K` / ECP5 `DP16KD`),
/// 2 · C · 8 flip-flops for the double buffer, about 220 more for the control and the
/// element pipeline; LUT/FF counts by target in the block's synthesis report (yosys
/// `synth_ice40 -dsp`, `synth_ecp5`).
/// **Golden** `hgf_golden::quantize::activation_quantize` (`m`, `s`, `q`) and
/// `hgf_golden::ternary::dequant_factor(beta, s)` (`k`).
/// **Limits** `1 <= max_d_in <= 2^17`, `1 <= C <= 320` (asserted by [`QuantizerUnit::new`]);
/// the token RAM holds `max_d_in` words. The
/// unit does not count beats against `d_in`: the core must mark the `d_in`-th beat with
/// `x_last` and send no more. `beta` must be stable from `x_last` until `k_valid`. A `start`
/// abandons the current token, `k` included: a core that overlaps the next token with this
/// token's gate must keep its own copy of `k`.
#[derive(LogicBlock)]
pub struct QuantizerUnit {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset to idle, from any state.
    pub reset: Signal<In, Bit>,
    /// Begin a new token (clears everything of the previous one).
    pub start: Signal<In, Bit>,
    /// An activation beat is accepted on this edge.
    pub x_valid: Signal<In, Bit>,
    /// With `x_valid`: the `d_in`-th beat.
    pub x_last: Signal<In, Bit>,
    /// binary16 activation.
    pub x_data: Signal<In, Bits<16>>,
    /// The projection's `d_in` (1..=`max_d_in`), stable for the whole token.
    pub d_in: Signal<In, Bits<20>>,
    /// binary32 beta of the token, stable from `x_last` until `k_valid`.
    pub beta: Signal<In, Bits<32>>,
    /// The array is done with the current block.
    pub block_done: Signal<In, Bit>,
    /// binary32 dequantization factor k = beta / s.
    pub k: Signal<Out, Bits<32>>,
    /// `k` is valid (held until `start` or `reset`).
    pub k_valid: Signal<Out, Bit>,
    /// The current block's C int8 values.
    pub block: Vec<Signal<Out, Bits<8>>>,
    /// `block` holds block `block_index`.
    pub block_valid: Signal<Out, Bit>,
    /// Number of the current block.
    pub block_index: Signal<Out, Bits<20>>,
    /// No token in progress.
    pub idle: Signal<Out, Bit>,
    /// Operands of `x * s` for a multiplier outside the unit (when the config shares the
    /// gate's, `HgfConfig::shares_quantizer_multiplier`; otherwise they feed nothing).
    pub mul_a: Signal<Out, Bits<32>>,
    pub mul_b: Signal<Out, Bits<32>>,
    /// `fl32(mul_a * mul_b)` from the outside multiplier, [`Fp32Mul::LATENCY`] edges after
    /// the operands (ignored when the unit has its own multiplier).
    pub mul_product: Signal<In, Bits<32>>,
    // Sub-blocks.
    ram: TiledRam<16>,
    div: Fp32Div,
    to_f32: F16ToF32,
    /// Its own `x * s` multiplier, or none when an outside one serves the unit.
    muls: Vec<Fp32Mul>,
    to_i8: F32ToI8,
    product: Signal<Local, Bits<32>>,
    // Sizes of the engine.
    /// C, the block size, as an address step.
    block_step: Constant<Bits<20>>,
    /// C - 1, the address of block 0's last element.
    block_top0: Constant<Bits<20>>,
    /// C - 1, the element counter's start.
    elem_last: Constant<Bits<10>>,
    /// Widths of the block numbers and of the element addresses (`counter_mask` of the
    /// largest projection; the top address is one block past the last, where `block_top`
    /// ends).
    block_mask: Constant<Bits<20>>,
    addr_mask: Constant<Bits<20>>,
    // Local signals.
    /// reset || start.
    clear: Signal<Local, Bit>,
    /// An x beat is taken on this edge.
    take: Signal<Local, Bit>,
    /// |x_data|.
    x_mag: Signal<Local, Bits<15>>,
    /// The running maximum before this beat (0 on `start`).
    amax_base: Signal<Local, Bits<15>>,
    /// The running maximum including this beat.
    amax_next: Signal<Local, Bits<15>>,
    /// The beat's index.
    count_base: Signal<Local, Bits<20>>,
    /// The converter's output; in state 2, m = max(m0, 1e-5) as binary32.
    m_f32: Signal<Local, Bits<32>>,
    /// A block begins to issue on this edge.
    issue_start: Signal<Local, Bit>,
    /// Fill buffer moves to the current buffer on this edge.
    swap: Signal<Local, Bit>,
    /// The int8 value landing in the fill buffer.
    q_new: Signal<Local, Bits<8>>,
    /// Bit 0 inputs of the element pipeline's tag shift registers.
    pv_in: Signal<Local, Bits<7>>,
    ppad_in: Signal<Local, Bits<7>>,
    plast_in: Signal<Local, Bits<7>>,
    // Registers.
    /// 0 idle, 1 receiving, 2 converting m, 3 dividing 127/m (start), 4 waiting for s,
    /// 5 quantizing.
    state: DFF<Bits<3>>,
    /// Running maximum of |x| as binary16 bit patterns.
    amax: DFF<Bits<15>>,
    /// The floor of §Q1 as binary32 (`hgf_golden::quantize::ABSMAX_FLOOR`), and the smallest
    /// binary16 magnitude pattern at or above it: magnitudes below are floored.
    floor_f32: Constant<Bits<32>>,
    floor_pattern: Constant<Bits<15>>,
    /// Beats accepted.
    count: DFF<Bits<20>>,
    /// s = 127 / m.
    s_reg: DFF<Bits<32>>,
    /// k is valid.
    k_valid_reg: DFF<Bit>,
    /// The divider's `ready`, one cycle late.
    div_ready_late: DFF<Bit>,
    /// Elements of a block are being issued to the RAM.
    issue_active: DFF<Bit>,
    /// The RAM address of the element issued next (descending within a block).
    issue_addr: DFF<Bits<20>>,
    /// Elements left to issue after this one.
    issue_left: DFF<Bits<10>>,
    /// Address of the last element of the block in the fill buffer: b·C + C - 1.
    block_top: DFF<Bits<20>>,
    /// The block issued to (or held in) the fill buffer.
    fill_block: DFF<Bits<20>>,
    /// Its first element's address, `fill_block · C`: blocks remain while it is below
    /// `d_in`.
    fill_base: DFF<Bits<20>>,
    /// The current buffer holds the token's last block.
    cur_last: DFF<Bit>,
    /// `fill_base + C`.
    fill_end: Signal<Local, Bits<20>>,
    /// The fill buffer is taken (issuing, in flight or full).
    fill_busy: DFF<Bit>,
    /// The fill buffer holds a complete block.
    fill_full: DFF<Bit>,
    /// The current buffer holds a block.
    cur_valid: DFF<Bit>,
    /// The current buffer's block number.
    cur_index: DFF<Bits<20>>,
    /// The element read from the RAM, registered: the RAM's clock-to-out and its tile mux
    /// get a cycle of their own, before the conversion.
    x16: DFF<Bits<16>>,
    /// fl32(x) of the element read from the RAM; after state 2, the floored m.
    x32: DFF<Bits<32>>,
    /// Element pipeline tags, bit j: the element after j + 1 edges (bit 6: the product is
    /// ready and lands on the next edge). Valid, padding (past d_in), last of its block.
    pv: DFF<Bits<7>>,
    ppad: DFF<Bits<7>>,
    plast: DFF<Bits<7>>,
    /// The fill buffer (a shift register: element 0 enters last, at index 0).
    fill: Vec<DFF<Bits<8>>>,
    /// The current buffer.
    cur: Vec<DFF<Bits<8>>>,
    // Typed constants of the narrow signals, so that no 32-bit literal meets them
    // (docs/lint-waivers.md): the values of `state`, 0 and 1 of the counters and addresses,
    // and the pipeline tags' 0 and 1.
    states: [Constant<Bits<3>>; 6],
    mag_zero: Constant<Bits<15>>,
    zero20: Constant<Bits<20>>,
    one20: Constant<Bits<20>>,
    left_zero: Constant<Bits<10>>,
    left_one: Constant<Bits<10>>,
    q_zero: Constant<Bits<8>>,
    tag_zero: Constant<Bits<7>>,
    tag_one: Constant<Bits<7>>,
}

impl QuantizerUnit {
    /// Edges from the element's RAM read to its landing in the fill buffer, both included.
    pub const ELEMENT_LATENCY: usize = 1 + 1 + 1 + Fp32Mul::LATENCY + 1;
    /// Edges from the `x_last` edge to the one that registers `s` (and starts `beta / s`):
    /// one to convert m into `x32`, one to start the division, [`Fp32Div::CYCLES`] until
    /// `done`, one to register.
    pub const SCALE_CYCLES: usize = 1 + 1 + Fp32Div::CYCLES + 1;
    /// Edges from the `x_last` edge to the one after which `k_valid` is high.
    pub const K_CYCLES: usize = Self::SCALE_CYCLES + Fp32Div::CYCLES + 1;

    /// Edges from the edge that empties the fill buffer (or starts quantizing) to the first
    /// edge that can move the next block into the current buffer: one to start issuing, C
    /// elements, the element pipeline, one to mark the buffer full.
    pub fn block_fill_cycles(cfg: &HgfConfig) -> usize {
        cfg.array_inputs + Self::ELEMENT_LATENCY + 1
    }

    /// Edges from the `x_last` edge to the one after which block 0 is valid.
    pub fn first_block_cycles(cfg: &HgfConfig) -> usize {
        Self::SCALE_CYCLES + Self::block_fill_cycles(cfg)
    }

    /// A quantizer for projections of up to `cfg.max_d_in` inputs and C =
    /// `cfg.array_inputs`, idle.
    ///
    /// # Panics
    /// If `max_d_in` is outside `1..=2^17` or C outside `1..=320`.
    /// What [`QuantizerUnit::new`] builds for `cfg`: the token RAM of `max_d_in` binary16
    /// words, and its own binary16-operand multiplier ([`Fp32Mul::binary16_a_resources`])
    /// unless the config lends it the gate's.
    pub fn resources(cfg: &HgfConfig) -> Resources {
        let ram = Resources::memory(cfg.max_d_in, 16);
        if cfg.shares_quantizer_multiplier() {
            ram
        } else {
            ram.and(Fp32Mul::binary16_a_resources())
        }
    }

    pub fn new(cfg: &HgfConfig) -> Self {
        let d_in = cfg.max_d_in;
        let c = cfg.array_inputs;
        assert!(
            (1..=MAX_D_IN).contains(&d_in),
            "QuantizerUnit: d_in {d_in} outside 1..={MAX_D_IN}"
        );
        assert!(
            (1..=MAX_ARRAY_INPUTS).contains(&c),
            "QuantizerUnit: array_inputs {c} outside 1..={MAX_ARRAY_INPUTS}"
        );
        let blocks = cfg.max_layout().column_blocks();
        let k20 = |v: usize| Constant::new((v as u64).into());
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            x_valid: Default::default(),
            x_last: Default::default(),
            x_data: Default::default(),
            beta: Default::default(),
            block_done: Default::default(),
            k: Default::default(),
            k_valid: Default::default(),
            block: (0..c).map(|_| Default::default()).collect(),
            block_valid: Default::default(),
            block_index: Default::default(),
            idle: Default::default(),
            mul_a: Default::default(),
            mul_b: Default::default(),
            mul_product: Default::default(),
            ram: TiledRam::new(d_in),
            div: Fp32Div::new(),
            to_f32: F16ToF32::new(),
            muls: if cfg.shares_quantizer_multiplier() {
                Vec::new()
            } else {
                vec![Fp32Mul::with_binary16_a()]
            },
            to_i8: F32ToI8::new(),
            product: Default::default(),
            d_in: Default::default(),
            block_step: k20(c),
            block_top0: k20(c - 1),
            elem_last: Constant::new(((c - 1) as u64).into()),
            block_mask: counter_mask(blocks),
            addr_mask: counter_mask((blocks + 1) * c),
            clear: Default::default(),
            take: Default::default(),
            x_mag: Default::default(),
            amax_base: Default::default(),
            amax_next: Default::default(),
            count_base: Default::default(),
            m_f32: Default::default(),
            issue_start: Default::default(),
            swap: Default::default(),
            q_new: Default::default(),
            pv_in: Default::default(),
            ppad_in: Default::default(),
            plast_in: Default::default(),
            state: Default::default(),
            amax: Default::default(),
            floor_f32: Constant::new(u64::from(ABSMAX_FLOOR.to_bits()).into()),
            floor_pattern: Constant::new(u64::from(floor_pattern()).into()),
            count: Default::default(),
            s_reg: Default::default(),
            k_valid_reg: Default::default(),
            div_ready_late: Default::default(),
            issue_active: Default::default(),
            issue_addr: Default::default(),
            issue_left: Default::default(),
            block_top: Default::default(),
            fill_block: Default::default(),
            fill_base: Default::default(),
            cur_last: Default::default(),
            fill_end: Default::default(),
            fill_busy: Default::default(),
            fill_full: Default::default(),
            cur_valid: Default::default(),
            cur_index: Default::default(),
            x16: Default::default(),
            x32: Default::default(),
            pv: Default::default(),
            ppad: Default::default(),
            plast: Default::default(),
            fill: (0..c).map(|_| Default::default()).collect(),
            cur: (0..c).map(|_| Default::default()).collect(),
            states: std::array::from_fn(|v| Constant::new((v as u64).into())),
            mag_zero: Constant::new(0u64.into()),
            zero20: k20(0),
            one20: k20(1),
            left_zero: Constant::new(0u64.into()),
            left_one: Constant::new(1u64.into()),
            q_zero: Constant::new(0u64.into()),
            tag_zero: Constant::new(0u64.into()),
            tag_one: Constant::new(1u64.into()),
        }
    }

    /// Values per block, C.
    pub fn block_len(&self) -> usize {
        self.block.len()
    }
}

impl Logic for QuantizerUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            amax,
            count,
            s_reg,
            k_valid_reg,
            div_ready_late,
            issue_active,
            issue_addr,
            issue_left,
            block_top,
            fill_block,
            fill_base,
            cur_last,
            fill_busy,
            fill_full,
            cur_valid,
            cur_index,
            x16,
            x32,
            pv,
            ppad,
            plast
        );
        for i in 0..self.fill.len() {
            self.fill[i].clock.next = self.clock.val();
            self.fill[i].d.next = self.fill[i].q.val();
            self.cur[i].clock.next = self.clock.val();
            self.cur[i].d.next = self.cur[i].q.val();
        }
        self.ram.clock.next = self.clock.val();
        self.div.clock.next = self.clock.val();
        for i in 0..self.muls.len() {
            self.muls[i].clock.next = self.clock.val();
            self.muls[i].enable.next = true;
        }
        self.clear.next = self.reset.val() || self.start.val();

        // ---- (a) Beats: RAM copy and running absmax (as 15-bit magnitude patterns).
        self.take.next = (self.x_valid.val() && !self.reset.val())
            && ((self.state.q.val() == self.states[1].val()) || self.start.val());
        self.x_mag.next = self.x_data.val().get_bits::<15>(0);
        self.amax_base.next = self.amax.q.val();
        self.count_base.next = self.count.q.val();
        if self.start.val() {
            self.amax_base.next = self.mag_zero.val();
            self.count_base.next = self.zero20.val();
        }
        self.amax_next.next = self.amax_base.val();
        if self.x_mag.val() > self.amax_base.val() {
            self.amax_next.next = self.x_mag.val();
        }
        self.ram.write_enable.next = self.take.val();
        self.ram.write_address.next = self.count_base.val();
        self.ram.write_data.next = self.x_data.val();
        if self.start.val() {
            self.amax.d.next = self.mag_zero.val();
            self.count.d.next = self.zero20.val();
        }
        if self.take.val() {
            self.amax.d.next = self.amax_next.val();
            self.count.d.next = self.count_base.val() + self.one20.val();
        }

        // ---- (b) Floor, s = 127 / m, then k = beta / s on the same divider. The converter and
        // the fl32(x) register are shared with the element pipeline, which is empty in states
        // 2 and 3: m is converted into `x32` in state 2 and the divider takes it from there in
        // state 3, so that neither the token RAM nor the conversion sits in front of the
        // divider's operand registers (the ECP5's critical path before, issue 16).
        self.x16.d.next = self.ram.read_data.val();
        self.to_f32.x.next = self.x16.q.val();
        if self.state.q.val() == self.states[2].val() {
            // A cast to a wider word, the one width mismatch left here (docs/lint-waivers.md).
            self.to_f32.x.next = bit_cast::<16, 15>(self.amax.q.val());
        }
        self.m_f32.next = self.to_f32.y.val();
        if (self.state.q.val() == self.states[2].val())
            && (self.amax.q.val() < self.floor_pattern.val())
        {
            self.m_f32.next = self.floor_f32.val();
        }
        self.div.reset.next = self.clear.val();
        self.div_ready_late.d.next = self.div.ready.val();
        self.div.start.next = false;
        self.div.a.next = self.beta.val();
        self.div.b.next = self.div.quotient.val();
        if self.state.q.val() == self.states[3].val() {
            self.div.start.next = true;
            // binary32 127.0 (§Q2).
            self.div.a.next = 0x42FE_0000.into();
            self.div.b.next = self.x32.q.val();
        }
        if (self.state.q.val() == self.states[4].val()) && self.div.done.val() {
            self.div.start.next = true;
            self.s_reg.d.next = self.div.quotient.val();
        }
        if self.div.done.val() && (self.state.q.val() != self.states[4].val()) {
            self.k_valid_reg.d.next = true;
        }
        self.k.next = self.div.quotient.val();
        self.k_valid.next = self.k_valid_reg.q.val();

        // ---- (c) Element pipeline: RAM read (issue edge), its register (`x16`), fl32(x)
        // register, x * s (4 edges), int8 into the fill buffer. The tags travel alongside.
        self.ram.read_address.next = self.issue_addr.q.val();
        self.x32.d.next = self.m_f32.val();
        self.mul_a.next = self.x32.q.val();
        self.mul_b.next = self.s_reg.q.val();
        self.product.next = self.mul_product.val();
        for i in 0..self.muls.len() {
            self.muls[i].a.next = self.x32.q.val();
            self.muls[i].b.next = self.s_reg.q.val();
            self.product.next = self.muls[i].product.val();
        }
        self.to_i8.x.next = self.product.val();
        self.q_new.next = self.to_i8.y.val();
        if self.ppad.q.val().get_bit(6) {
            self.q_new.next = self.q_zero.val();
        }
        // The tags entering the pipeline, as words (0 or 1): a cast of the bits would widen
        // them, a width mismatch in the Verilog (docs/lint-waivers.md).
        self.pv_in.next = self.tag_zero.val();
        if self.issue_active.q.val() {
            self.pv_in.next = self.tag_one.val();
        }
        self.ppad_in.next = self.tag_zero.val();
        if self.issue_addr.q.val() >= self.d_in.val() {
            self.ppad_in.next = self.tag_one.val();
        }
        self.plast_in.next = self.tag_zero.val();
        if self.issue_left.q.val() == self.left_zero.val() {
            self.plast_in.next = self.tag_one.val();
        }
        self.pv.d.next = (self.pv.q.val() << 1) | self.pv_in.val();
        self.ppad.d.next = (self.ppad.q.val() << 1) | self.ppad_in.val();
        self.plast.d.next = (self.plast.q.val() << 1) | self.plast_in.val();
        if self.pv.q.val().get_bit(6) {
            self.fill[0].d.next = self.q_new.val();
            for i in 1..self.fill.len() {
                self.fill[i].d.next = self.fill[i - 1].q.val();
            }
            if self.plast.q.val().get_bit(6) {
                self.fill_full.d.next = true;
            }
        }
        // Issue: C elements of block fill_block, from its last address down.
        if self.issue_active.q.val() {
            self.issue_addr.d.next =
                (self.issue_addr.q.val() - self.one20.val()) & self.addr_mask.val();
            self.issue_left.d.next = self.issue_left.q.val() - self.left_one.val();
            if self.issue_left.q.val() == self.left_zero.val() {
                self.issue_active.d.next = false;
            }
        }
        self.issue_start.next = ((self.state.q.val() == self.states[5].val())
            && !self.fill_busy.q.val())
            && (self.fill_base.q.val() < self.d_in.val());
        if self.issue_start.val() {
            self.fill_busy.d.next = true;
            self.issue_active.d.next = true;
            self.issue_addr.d.next = self.block_top.q.val();
            self.issue_left.d.next = self.elem_last.val();
        }
        self.fill_end.next = self.fill_base.q.val() + self.block_step.val();
        // Swap: a complete fill buffer becomes current when the current one is free.
        self.swap.next =
            self.fill_full.q.val() && (!self.cur_valid.q.val() || self.block_done.val());
        if self.cur_valid.q.val() && self.block_done.val() {
            self.cur_valid.d.next = false;
            if self.cur_last.q.val() {
                self.state.d.next = self.states[0].val();
            }
        }
        if self.swap.val() {
            for i in 0..self.cur.len() {
                self.cur[i].d.next = self.fill[i].q.val();
            }
            self.cur_valid.d.next = true;
            self.cur_index.d.next = self.fill_block.q.val();
            self.cur_last.d.next = self.fill_end.val() >= self.d_in.val();
            self.fill_block.d.next =
                (self.fill_block.q.val() + self.one20.val()) & self.block_mask.val();
            self.fill_base.d.next = self.fill_end.val() & self.addr_mask.val();
            self.block_top.d.next =
                (self.block_top.q.val() + self.block_step.val()) & self.addr_mask.val();
            self.fill_full.d.next = false;
            self.fill_busy.d.next = false;
        }
        for i in 0..self.block.len() {
            self.block[i].next = self.cur[i].q.val();
        }
        self.block_valid.next = self.cur_valid.q.val();
        self.block_index.next = self.cur_index.q.val();

        // ---- State.
        if (self.state.q.val() == self.states[1].val()) && (self.take.val() && self.x_last.val()) {
            self.state.d.next = self.states[2].val();
        }
        if self.state.q.val() == self.states[2].val() {
            self.state.d.next = self.states[3].val();
        }
        if self.state.q.val() == self.states[3].val() {
            self.state.d.next = self.states[4].val();
        }
        if (self.state.q.val() == self.states[4].val()) && self.div.done.val() {
            self.state.d.next = self.states[5].val();
        }
        // Idle once k is out too (tiny configs finish their blocks before k): the divider was
        // ready in the last cycle (idle, or its Round cycle) and is not presenting `done`.
        self.idle.next = ((self.state.q.val() == self.states[0].val())
            && self.div_ready_late.q.val())
            && !self.div.done.val();

        // ---- Start and reset: everything of the previous token goes.
        if self.clear.val() {
            self.k_valid_reg.d.next = false;
            self.issue_active.d.next = false;
            self.fill_busy.d.next = false;
            self.fill_full.d.next = false;
            self.cur_valid.d.next = false;
            self.cur_index.d.next = self.zero20.val();
            self.fill_block.d.next = self.zero20.val();
            self.fill_base.d.next = self.zero20.val();
            self.cur_last.d.next = false;
            self.block_top.d.next = self.block_top0.val();
            self.pv.d.next = self.tag_zero.val();
            self.ppad.d.next = self.tag_zero.val();
            self.plast.d.next = self.tag_zero.val();
            self.state.d.next = self.states[1].val();
            if self.take.val() && self.x_last.val() {
                self.state.d.next = self.states[2].val();
            }
        }
        if self.reset.val() {
            // The divider is idle after this edge.
            self.div_ready_late.d.next = true;
            self.state.d.next = self.states[0].val();
            self.amax.d.next = self.mag_zero.val();
            self.count.d.next = self.zero20.val();
        }
    }
}

/// The smallest non-negative binary16 pattern whose value is at least the absmax floor
/// (0x00A8 = 168 · 2^-24 for the floor 1e-5): binary16 magnitudes order like their patterns,
/// so one compare floors the absmax before it is converted.
fn floor_pattern() -> u16 {
    (0..0x7C00u16)
        .find(|&p| half::f16::from_bits(p).to_f32() >= ABSMAX_FLOOR)
        .expect("the floor is a finite binary16 magnitude")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::tick;
    use crate::verilog::{check_all_tools, emit_named};
    use half::f16;
    use hgf_golden::fp::f16_to_f32;
    use hgf_golden::quantize::{activation_quantize, floor_absmax};
    use hgf_golden::ternary::dequant_factor;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn states_the_memory_and_multiplier_it_builds() {
        let mut cfg = HgfConfig::preset("default").unwrap();
        cfg.max_d_in = 600;
        for gate_multipliers in [1, 2] {
            cfg.gate_multipliers = gate_multipliers;
            let unit = QuantizerUnit::new(&cfg);
            let stated = QuantizerUnit::resources(&cfg);
            assert_eq!(stated.memories.len(), 1);
            assert_eq!(
                (stated.memories[0].words, stated.memories[0].bits),
                (600, 16)
            );
            assert_eq!(stated.memories[0].tiles(), unit.ram.tiles());
            // Two 16x16 pieces per binary16-operand multiplier it has (none when borrowed).
            assert_eq!(stated.multipliers, 2 * unit.muls.len() as u64);
        }
    }

    const SEED: u64 = 0x5eed_0a17;

    fn config(d_in: usize, c: usize) -> HgfConfig {
        // Built without `validate`: the unit only needs d_in and C, and the tests use
        // shapes (C > d_in, C not a multiple of the packing) that a full config rejects.
        HgfConfig {
            max_d_in: d_in,
            array_inputs: c,
            ..HgfConfig::default()
        }
    }

    fn new_uut(cfg: &HgfConfig) -> QuantizerUnit {
        let mut uut = QuantizerUnit::new(cfg);
        uut.connect_all();
        uut
    }

    /// The golden result of one token: every block (padded with 0) and k.
    struct Expected {
        blocks: Vec<Vec<i8>>,
        k: u32,
    }

    fn expected(cfg: &HgfConfig, x: &[f16], beta: f32) -> Expected {
        let t = activation_quantize(x);
        let c = cfg.array_inputs;
        let blocks = (0..x.len().div_ceil(c))
            .map(|b| {
                (0..c)
                    .map(|i| t.q.get(b * c + i).copied().unwrap_or(0))
                    .collect()
            })
            .collect();
        Expected {
            blocks,
            k: dequant_factor(beta, t.s).to_bits(),
        }
    }

    /// How the testbench drives a token.
    #[derive(Clone, Copy)]
    struct Drive {
        /// Probability of an idle cycle before each beat.
        gap: f64,
        /// `block_done` comes 0 ..= this many cycles after `block_valid`.
        max_delay: usize,
        /// The first beat shares the `start` edge.
        beat_with_start: bool,
        /// Stray `x_valid` and `block_done` pulses where they must be ignored.
        noise: bool,
    }

    /// Edges counted from the `x_last` edge (edge 0).
    #[derive(Debug, Default)]
    struct Timing {
        /// The `x_last` edge, counted from the testbench's first edge.
        x_last_edge: usize,
        first_block: usize,
        k_valid: usize,
        block_valid: Vec<usize>,
    }

    struct Tb {
        uut: QuantizerUnit,
        rng: ChaCha8Rng,
        /// Edges so far.
        edges: usize,
    }

    impl Tb {
        fn new(cfg: &HgfConfig, seed: u64) -> Self {
            Self {
                uut: new_uut(cfg),
                rng: ChaCha8Rng::seed_from_u64(seed),
                edges: 0,
            }
        }

        fn quiet(&mut self) {
            let u = &mut self.uut;
            u.reset.next = false;
            u.start.next = false;
            u.x_valid.next = false;
            u.x_last.next = false;
            u.block_done.next = false;
            u.x_data.next = self.rng.random::<u16>().to_bits();
        }

        fn tick(&mut self) {
            tick(&mut self.uut, |u| &mut u.clock);
            self.edges += 1;
        }

        fn block(&self) -> Vec<i8> {
            self.uut
                .block
                .iter()
                .map(|s| s.val().to_u32() as u8 as i8)
                .collect()
        }

        /// One reset edge, then checks that the unit is idle with nothing valid.
        fn reset(&mut self) {
            self.quiet();
            self.uut.reset.next = true;
            self.uut.start.next = self.rng.random();
            self.uut.x_valid.next = self.rng.random();
            self.tick();
            self.quiet();
            self.assert_idle("after reset");
        }

        fn assert_idle(&self, what: &str) {
            assert!(self.uut.idle.val(), "{what}: not idle");
            assert!(!self.uut.block_valid.val(), "{what}: block_valid");
            assert!(!self.uut.k_valid.val(), "{what}: k_valid");
        }

        /// `start`, then the first `n` beats of `x` (all of them, `x_last` on the last, when
        /// `n == x.len()`), with random gaps. Checks that nothing is valid meanwhile.
        fn send(&mut self, x: &[f16], n: usize, beta: f32, drive: Drive) {
            self.uut.beta.next = beta.to_bits().to_bits();
            self.uut.d_in.next = (x.len() as u64).into();
            self.quiet();
            self.uut.start.next = true;
            let mut i = 0;
            if drive.beat_with_start && n > 0 {
                self.uut.x_valid.next = true;
                self.uut.x_data.next = x[0].to_bits().to_bits();
                self.uut.x_last.next = x.len() == 1;
                i = 1;
            }
            self.tick();
            while i < n {
                self.quiet();
                assert!(!self.uut.block_valid.val() && !self.uut.k_valid.val());
                assert!(!self.uut.idle.val(), "idle while receiving");
                if self.rng.random_bool(drive.gap) {
                    // An idle cycle: x_last without x_valid must not end the token.
                    self.uut.x_last.next = drive.noise && self.rng.random();
                    self.tick();
                    continue;
                }
                self.uut.x_valid.next = true;
                self.uut.x_data.next = x[i].to_bits().to_bits();
                self.uut.x_last.next = i + 1 == x.len();
                self.tick();
                i += 1;
            }
            self.quiet();
        }

        /// After the `x_last` edge: releases every block after a random delay, checks each
        /// block (contents, order, stability while valid) and k, until the unit is idle with
        /// k valid. Returns the timing.
        fn receive(&mut self, want: &Expected, drive: Drive, what: &str) -> Timing {
            let blocks = want.blocks.len();
            let mut timing = Timing::default();
            let mut next = 0; // the block expected next
            let mut held: Option<(Vec<i8>, usize)> = None; // current block and its delay left
            let mut edge = 0;
            let mut k_seen = false;
            loop {
                // Outputs after `edge` edges.
                let u = &self.uut;
                if u.k_valid.val() {
                    if !k_seen {
                        k_seen = true;
                        timing.k_valid = edge;
                    }
                    assert_eq!(
                        u.k.val().to_u32(),
                        want.k,
                        "{what}: k rtl {:08x} gold {:08x} edge {edge} state {:?}",
                        u.k.val().to_u32(),
                        want.k,
                        u.state.q.val()
                    );
                }
                if u.block_valid.val() {
                    let index = u.block_index.val().to_u32() as usize;
                    let block = self.block();
                    match &held {
                        Some((b, _)) => assert_eq!(&block, b, "{what}: block moved while valid"),
                        None => {
                            assert_eq!(index, next, "{what}: block order");
                            assert!(index < blocks, "{what}: extra block {index}");
                            assert_eq!(
                                block, want.blocks[index],
                                "{what}: block {index} rtl vs gold"
                            );
                            if index == 0 {
                                timing.first_block = edge;
                            }
                            timing.block_valid.push(edge);
                            next += 1;
                            let delay = self.rng.random_range(0..=drive.max_delay);
                            held = Some((block, delay));
                        }
                    }
                } else {
                    assert!(
                        held.is_none(),
                        "{what}: block_valid dropped before block_done"
                    );
                }
                if u.idle.val() {
                    assert!(
                        next == blocks && held.is_none() && u.k_valid.val(),
                        "{what}: idle too early (block {next}, edge {edge})"
                    );
                }
                if next == blocks && held.is_none() && k_seen {
                    assert!(self.uut.idle.val(), "{what}: not idle after the last block");
                    return timing;
                }
                assert!(edge < 100_000, "{what}: stuck at block {next}, k {k_seen}");
                // Inputs for the next edge.
                self.quiet();
                if drive.noise {
                    // Stray beats after x_last are ignored.
                    self.uut.x_valid.next = self.rng.random_bool(0.1);
                }
                match &mut held {
                    Some((_, 0)) => {
                        self.uut.block_done.next = true;
                        held = None;
                    }
                    Some((_, d)) => *d -= 1,
                    None => {
                        if drive.noise {
                            self.uut.block_done.next = self.rng.random_bool(0.2);
                        }
                    }
                }
                self.tick();
                edge += 1;
            }
        }

        fn token(
            &mut self,
            cfg: &HgfConfig,
            x: &[f16],
            beta: f32,
            drive: Drive,
            what: &str,
        ) -> Timing {
            assert!(x.len() <= cfg.max_d_in);
            let want = expected(cfg, x, beta);
            self.send(x, x.len(), beta, drive);
            let x_last_edge = self.edges;
            Timing {
                x_last_edge,
                ..self.receive(&want, drive, what)
            }
        }
    }

    fn h(v: f32) -> f16 {
        f16::from_f32(v)
    }

    /// A finite binary16 of magnitude around 2^e.
    fn finite(rng: &mut ChaCha8Rng, e: i32) -> f16 {
        let m: f32 = rng.random_range(0.5..2.0);
        let v = m * 2f32.powi(e) * if rng.random() { 1.0 } else { -1.0 };
        let x = h(v);
        if x.is_infinite() {
            h(65504.0)
        } else {
            x
        }
    }

    /// The token kinds of the tests, by name.
    fn token(rng: &mut ChaCha8Rng, kind: &str, d_in: usize) -> Vec<f16> {
        let pos = rng.random_range(0..d_in);
        match kind {
            "random" => {
                let e = rng.random_range(-12..12);
                (0..d_in)
                    .map(|_| {
                        let ei = e + rng.random_range(-6..=0);
                        finite(rng, ei)
                    })
                    .collect()
            }
            "bits" => (0..d_in)
                .map(|_| {
                    let b = rng.random::<u16>();
                    // Finite patterns only.
                    if b & 0x7C00 == 0x7C00 {
                        f16::from_bits(b & 0xBBFF)
                    } else {
                        f16::from_bits(b)
                    }
                })
                .collect(),
            "zeros" => (0..d_in)
                .map(|_| if rng.random() { h(0.0) } else { h(-0.0) })
                .collect(),
            "nan" => {
                let mut x: Vec<f16> = (0..d_in).map(|_| finite(rng, 3)).collect();
                x[pos] = f16::from_bits([0x7C01, 0xFE00, 0x7FFF, 0x7E00][rng.random_range(0..4)]);
                if d_in > 1 && rng.random() {
                    x[(pos + 1) % d_in] = f16::INFINITY;
                }
                x
            }
            "inf" => {
                let mut x: Vec<f16> = (0..d_in).map(|_| finite(rng, 3)).collect();
                x[pos] = if rng.random() {
                    f16::INFINITY
                } else {
                    f16::NEG_INFINITY
                };
                x
            }
            "subnormal" => {
                // All subnormal; the largest below the floor (0x00A8) half of the time.
                let top = if rng.random() { 0xA8 } else { 0x400 };
                (0..d_in)
                    .map(|_| {
                        f16::from_bits(rng.random_range(0..top) | (rng.random::<u16>() & 0x8000))
                    })
                    .collect()
            }
            "floor" => {
                // The absmax right at the floor: 0x00A7 (floored) or 0x00A8 (kept).
                let mut x: Vec<f16> = (0..d_in)
                    .map(|_| f16::from_bits(rng.random_range(0..0xA7)))
                    .collect();
                x[pos] = f16::from_bits(if rng.random() { 0x80A7 } else { 0x00A8 });
                x
            }
            "ties" => {
                // m = 127 gives s = 1: x = n + 0.5 rounds to even.
                let mut x: Vec<f16> = (0..d_in)
                    .map(|_| h(rng.random_range(-127..127) as f32 + 0.5))
                    .collect();
                x[pos] = if rng.random() { h(127.0) } else { h(-127.0) };
                x
            }
            "max" => {
                let mut x: Vec<f16> = (0..d_in).map(|_| finite(rng, 14)).collect();
                x[pos] = h(-65504.0);
                x
            }
            other => panic!("unknown token kind {other}"),
        }
    }

    const KINDS: [&str; 9] = [
        "random",
        "bits",
        "zeros",
        "nan",
        "inf",
        "subnormal",
        "floor",
        "ties",
        "max",
    ];

    fn beta(rng: &mut ChaCha8Rng) -> f32 {
        match rng.random_range(0..8u32) {
            0 => 0.0,
            1 => -0.0,
            2 => f32::from_bits(
                rng.random_range(0..0x7F80_0000) | (rng.random::<u32>() & 0x8000_0000),
            ),
            _ => rng.random_range(-2.0f32..2.0),
        }
    }

    /// Multiplications of two signals in the Verilog (constant index arithmetic such as
    /// `32'h4 * 7` in other blocks' bit selects does not count).
    fn signal_products(v: &str) -> usize {
        v.match_indices(" * ")
            .filter(|&(i, _)| v[i + 3..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
            .count()
    }

    #[test]
    fn synthesizes() {
        let cfg = config(512, 40);
        let uut = new_uut(&cfg);
        let v = emit_named(&uut, "quantizer").unwrap();
        assert!(v.contains("module quantizer("));
        check_all_tools("quantizer", &v).unwrap();
        // One Fp32Mul: four 16x16 multipliers in the text (two of them behind a constant
        // that synthesis folds); the divider has none.
        assert_eq!(signal_products(&v), 4);
        assert!(v.contains("block_39") && !v.contains("block_40"));
        // Sharing the gate's multiplier: no multiplier of its own.
        let shared = HgfConfig {
            gate_multipliers: 1,
            ..cfg
        };
        let v = emit_named(&new_uut(&shared), "quantizer_shared").unwrap();
        check_all_tools("quantizer_shared", &v).unwrap();
        assert_eq!(signal_products(&v), 0);
        let small = new_uut(&config(7, 5));
        let v = emit_named(&small, "quantizer_d7_c5").unwrap();
        check_all_tools("quantizer_d7_c5", &v).unwrap();
    }

    /// The RTL floors the absmax with one compare of the binary16 pattern: below 0x00A8
    /// exactly where the golden floor applies.
    #[test]
    fn floor_is_a_binary16_pattern_compare() {
        for bits in 0..0x7C01u16 {
            let m = f16_to_f32(f16::from_bits(bits));
            let floored = floor_absmax(m).to_bits() != m.to_bits();
            assert_eq!(floored, bits < 0xA8, "bits {bits:04x}");
            assert_eq!(super::floor_pattern(), 0xA8);
        }
        assert_eq!(floor_absmax(0.0).to_bits(), 0x3727_C5AC);
    }

    /// Whole tokens of every kind on several shapes, sent back to back into one unit, with
    /// random gaps between beats, random block_done delays and ignored stray strobes.
    #[test]
    fn tokens_match_golden() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let mut checked = 0;
        // (256, 40): the padding addresses 256 .. 279 alias words 0 .. 23 of the one RAM tile,
        // so the padding must be forced to 0, not read.
        for (d_in, c) in [
            (1, 5),
            (7, 5),
            (7, 20),
            (40, 20),
            (40, 40),
            (100, 40),
            (100, 5),
            (256, 40),
        ] {
            // One unit for projections of up to 256 inputs runs each d_in: the RAM past the
            // token holds the previous token's values, which must not leak into the padding.
            let cfg = config(256, c);
            let mut tb = Tb::new(&cfg, SEED ^ (d_in * 1000 + c) as u64);
            tb.reset();
            // Two rounds of every kind, each with another mix of gaps and delays.
            for t in 0..2 * KINDS.len() {
                let kind = KINDS[t % KINDS.len()];
                let x = token(&mut rng, kind, d_in);
                let drive = Drive {
                    gap: [0.0, 0.3, 0.7][t % 3],
                    max_delay: [0, 3, 60][(t / 3) % 3],
                    beat_with_start: rng.random(),
                    noise: rng.random(),
                };
                let b = beta(&mut rng);
                let what = format!("d_in {d_in} C {c} token {t} ({kind}) beta {b:e}");
                tb.token(&cfg, &x, b, drive, &what);
                checked += d_in.div_ceil(c);
            }
        }
        assert!(checked > 100, "{checked} blocks");
    }

    /// The special tokens give what §S says: NaN and infinity tokens quantize to zeros and
    /// make k NaN (beta = 0 with infinity, any beta with NaN); an all-zero token floors m.
    #[test]
    fn special_tokens_follow_section_s() {
        let cfg = config(7, 5);
        let mut tb = Tb::new(&cfg, SEED + 1);
        tb.reset();
        let drive = Drive {
            gap: 0.2,
            max_delay: 2,
            beat_with_start: false,
            noise: false,
        };
        let mut x = vec![h(1.5); 7];
        x[3] = f16::NAN;
        let want = expected(&cfg, &x, 0.5);
        assert!(want.blocks.iter().flatten().all(|&q| q == 0));
        assert_eq!(want.k, 0x7FC0_0000);
        tb.token(&cfg, &x, 0.5, drive, "NaN token");
        x[3] = f16::NEG_INFINITY;
        let want = expected(&cfg, &x, 0.0);
        assert!(want.blocks.iter().flatten().all(|&q| q == 0));
        assert_eq!(want.k, 0x7FC0_0000); // 0 / +0
        tb.token(&cfg, &x, 0.0, drive, "inf token, beta 0");
        assert_eq!(expected(&cfg, &x, -2.0).k, 0xFF80_0000); // -2 / +0
        tb.token(&cfg, &x, -2.0, drive, "inf token");
        let zeros = vec![h(-0.0); 7];
        let want = expected(&cfg, &zeros, 1.0);
        assert_eq!(
            want.k,
            dequant_factor(1.0, f32::from_bits(0x4B41_C960)).to_bits()
        );
        tb.token(&cfg, &zeros, 1.0, drive, "zero token");
        // Ties with s = 1: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -126.5 -> -126, 126.5 -> 126.
        let ties: Vec<f16> = [127.0, 0.5, 1.5, 2.5, -126.5, 126.5, -0.5]
            .iter()
            .map(|&v| h(v))
            .collect();
        let want = expected(&cfg, &ties, 1.0);
        assert_eq!(want.blocks[0], vec![127, 0, 2, 2, -126]);
        assert_eq!(want.blocks[1], vec![126, 0, 0, 0, 0]);
        tb.token(&cfg, &ties, 1.0, drive, "ties");
    }

    /// The cycle counts of the doc, on the shape it quotes (d_in 512, C 40): block 0 and k
    /// after the documented number of edges; then one block per C + 9 edges when the
    /// array releases each block at once, and no gap when it holds each one longer.
    #[test]
    fn cycle_counts_match_the_doc() {
        let cfg = config(512, 40);
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 2);
        let x = token(&mut rng, "random", cfg.max_d_in);
        let mut tb = Tb::new(&cfg, SEED + 3);
        tb.reset();
        let fast = Drive {
            gap: 0.0,
            max_delay: 0,
            beat_with_start: false,
            noise: false,
        };
        let start_edge = tb.edges + 1;
        let t = tb.token(&cfg, &x, 0.75, fast, "fast array");
        // From start (edge S): one beat per cycle, the last on edge S + d_in; block 0 after
        // edge S + d_in + 48 + C = S + 600.
        assert_eq!(t.x_last_edge - start_edge, cfg.max_d_in);
        assert_eq!(t.x_last_edge + t.first_block - start_edge, 600);
        assert_eq!(QuantizerUnit::SCALE_CYCLES, 39);
        assert_eq!(QuantizerUnit::K_CYCLES, 76);
        assert_eq!(QuantizerUnit::first_block_cycles(&cfg), 88);
        assert_eq!(QuantizerUnit::block_fill_cycles(&cfg), 49);
        assert_eq!(
            t.first_block,
            QuantizerUnit::first_block_cycles(&cfg),
            "{t:?}"
        );
        assert_eq!(t.k_valid, QuantizerUnit::K_CYCLES, "{t:?}");
        assert_eq!(t.block_valid.len(), cfg.max_layout().column_blocks());
        for w in t.block_valid.windows(2) {
            assert_eq!(w[1] - w[0], QuantizerUnit::block_fill_cycles(&cfg), "{t:?}");
        }
        // An array that holds each block for 60 cycles (block_done in the 61st): the next
        // block is ready, valid right after the block_done edge.
        let slow = Drive {
            max_delay: 60,
            ..fast
        };
        let mut tb = Tb::new(&cfg, SEED + 4);
        tb.reset();
        tb.rng = ChaCha8Rng::seed_from_u64(0);
        // Fixed delay: reuse the driver with max_delay = min = 60 via a custom loop.
        let want = expected(&cfg, &x, 0.75);
        tb.send(&x, x.len(), 0.75, slow);
        let mut edge = 0;
        let mut valid_edges = Vec::new();
        let mut held_for = 0;
        let mut current = None;
        while valid_edges.len() < cfg.max_layout().column_blocks() || current.is_some() {
            if tb.uut.block_valid.val() {
                let index = tb.uut.block_index.val().to_u32() as usize;
                if current != Some(index) {
                    assert_eq!(tb.block(), want.blocks[index]);
                    valid_edges.push(edge);
                    current = Some(index);
                    held_for = 0;
                }
            }
            tb.quiet();
            if current.is_some() {
                held_for += 1;
                if held_for == 61 {
                    tb.uut.block_done.next = true;
                    if current == Some(cfg.max_layout().column_blocks() - 1) {
                        current = None;
                    } else {
                        // The next block must follow on this very edge.
                        current = Some(usize::MAX);
                    }
                }
            }
            tb.tick();
            edge += 1;
            assert!(edge < 10_000);
        }
        for w in valid_edges.windows(2) {
            assert_eq!(w[1] - w[0], 61, "{valid_edges:?}");
        }
        assert!(tb.uut.idle.val());
    }

    /// `reset` and `start` in the middle of a token, in each phase, abandon it; the next
    /// token is exact.
    #[test]
    fn reset_or_start_mid_token_then_a_correct_token() {
        let cfg = config(40, 20);
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 5);
        let mut tb = Tb::new(&cfg, SEED + 6);
        tb.reset();
        let drive = Drive {
            gap: 0.3,
            max_delay: 5,
            beat_with_start: false,
            noise: false,
        };
        // Edges after x_last to wait before interrupting: 0 (receiving done, before the
        // divider starts), 10 (dividing 127/m), 50 (beta/s running, block 0 filling), 200
        // (block 0 held, block 1 ready).
        for (n, &wait) in [usize::MAX, 0, 10, 50, 200].iter().enumerate() {
            for use_reset in [true, false] {
                let old = token(&mut rng, "random", cfg.max_d_in);
                if wait == usize::MAX {
                    // Interrupt while receiving: half of the beats.
                    tb.send(&old, cfg.max_d_in / 2, 3.0, drive);
                } else {
                    tb.send(&old, old.len(), -1.0, drive);
                    for _ in 0..wait {
                        tb.tick();
                    }
                }
                if use_reset {
                    tb.reset();
                    for _ in 0..3 {
                        tb.tick();
                        tb.assert_idle("idle after reset");
                    }
                }
                let x = token(&mut rng, KINDS[n % KINDS.len()], cfg.max_d_in);
                let b = beta(&mut rng);
                let what = format!("after interrupt {n} (wait {wait}, reset {use_reset})");
                tb.token(&cfg, &x, b, drive, &what);
            }
        }
    }
}
