//! The ternary accumulators of one token: R banks of block-RAM, read-modify-write per beat.

use hgf_golden::config::HgfConfig;
use rust_hdl::prelude::*;

use crate::resources::Resources;
use crate::tiled_ram::TiledRam;

/// Largest `array_rows` (banks): the bank number is 6 bits.
const MAX_ROWS: usize = hgf_golden::config::MAX_ARRAY_ROWS;
/// Row numbers and group addresses are 20 bits.
const MAX_D_OUT: usize = hgf_golden::config::MAX_D_OUT;

/// Accumulator bank of the ternary flow (`AccumulatorBank`).
///
/// **Function.** Holds `acc_j` for `j < d_out` (docs/arithmetic.md §T1) as `acc_bits`-wide
/// two's-complement words (§T2, `HgfConfig::acc_bits`) in `R = array_rows` memories
/// ([`TiledRam<32>`]) of `G = d_out / R` words: row `j` lives in bank `j mod R` at address
/// `j div R`, so one row group `g` (rows `gR .. gR + R − 1`, one weight beat) is address `g`
/// of every bank.
///
/// *Traversal side* (the array's block sums, docs/architecture.md): on each enabled edge with
/// `valid` high, one beat is accepted: group `g = group` and the block sums `sums[r]` of rows
/// `gR + r`. If `first` (column block 0), `acc[gR + r] <- sums[r]` (no read); else
/// `acc[gR + r] <- acc[gR + r] + sums[r]`. Both are taken modulo `2^acc_bits`, which is exact
/// because every partial sum lies in `[−127·d_in, 128·d_in]` (§T2). The read happens on the
/// accepting edge and the write on the next enabled edge; when the next beat hits the same
/// group (always when `G = 1`), its read returns the old word and the pending write is
/// forwarded from a register instead, so consecutive beats may use any groups.
///
/// *Readout side*: `read_enable` with `read_row = j` gives `acc_j`, sign-extended to 32 bits,
/// on `read_data` with `read_valid` two edges later. `j div R` and `j mod R` are a shift and a
/// mask when `R` is a power of two, else a 20-step restoring division by the constant `R`
/// (only the variant the config needs is left after synthesis). The readout runs on every
/// edge, whatever `enable`.
///
/// **The read ports are shared**: readouts happen only while the traversal is idle.
/// `read_enable` may be high before edge `n` only if no beat is accepted at edges `n` and
/// `n + 1`, and the last accepted beat has been written by edge `n` (an enabled edge after
/// the one that accepted it). The readout's memory read happens at edge `n + 1`. The core
/// reads after the last beat of the token and one more enabled edge. The test model asserts
/// this rule.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous: drops the beat accepted on this edge, the one waiting for its write and the readouts in flight (memory contents are kept) |
/// | `enable` | in | 1 | high: the traversal side advances on this edge; low: it holds |
/// | `valid` | in | 1 | a beat is offered (accepted on an enabled edge) |
/// | `first` | in | 1 | the beat is column block 0: store the sums instead of adding |
/// | `group` | in | 20 | row group `g < d_out / R` of the beat |
/// | `sums` | in | `R` x 32 | block sum of row `gR + r`, two's complement |
/// | `read_enable` | in | 1 | read `acc[read_row]` (only while the traversal is idle) |
/// | `read_row` | in | 20 | row `j < d_out` |
/// | `read_data` | out | 32 | `acc_j` sign-extended from `acc_bits`, while `read_valid` |
/// | `read_valid` | out | 1 | `read_data` holds the row requested two edges earlier |
///
/// **Latency** traversal: a beat accepted at edge `n` is written at the next enabled edge; a
/// beat of the same group may follow at once. Readout: 2 edges (`read_enable` before edge `n`,
/// `read_data` after edge `n + 1`). **Throughput** one beat per enabled cycle and one readout
/// per cycle (not at the same time).
/// **Resources** `R` tiled memories of `d_out / R` words, stored exactly `acc_bits` wide
/// (the writes are masked, so yosys drops the upper 32 − `acc_bits` bits of every memory);
/// about `2R·acc_bits` FF (stage sums, forwarded words) plus the group and readout
/// registers; `R` adders of `acc_bits` bits. Synthesis estimates (yosys 0.23), BRAM / LUT4 /
/// carry cells / FF:
///
/// | preset | iCE40 | ECP5 |
/// |---|---|---|
/// | default (R = 4, 128 × 18 bits per bank) | 8 / 285 / 68 / 322 | 4 / 273 / 36 / 334 |
/// | up5k (R = 2, 128 × 17 bits per bank) | 4 / 152 / 32 / 168 | 2 / 151 / 18 / 180 |
///
/// About half of those FF (154 and 78) and 30 % of the LUTs are yosys's emulation of the
/// RAM's read-old-data collision rule ([`TiledRam`]). A non-power-of-two `R` adds the
/// divider, about 20 7-bit compare-subtract steps trimmed to the bits `d_out` needs (R = 3,
/// d_out = 768: 140 LUT4 more on iCE40).
/// **Golden** `hgf_golden::ternary::ternary_accumulate` (the tests run whole token
/// traversals and compare every `acc_j`).
/// **Limits** `1 <= R <= 64`, `R` divides `d_out <= 2^20`; `acc_bits <= 32`.
#[derive(LogicBlock)]
pub struct AccumulatorBank {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: empties the traversal stage and the readout pipeline.
    pub reset: Signal<In, Bit>,
    /// High: the traversal side advances on this edge. Low: it holds.
    pub enable: Signal<In, Bit>,
    /// A beat is offered; accepted on an enabled edge.
    pub valid: Signal<In, Bit>,
    /// The beat is column block 0: store the sums instead of adding them.
    pub first: Signal<In, Bit>,
    /// Row group of the beat (address in every bank).
    pub group: Signal<In, Bits<20>>,
    /// Block sum of row `group·R + r`, 32-bit two's complement.
    pub sums: Vec<Signal<In, Bits<32>>>,
    /// Read `acc[read_row]`; only while the traversal is idle.
    pub read_enable: Signal<In, Bit>,
    /// The row to read.
    pub read_row: Signal<In, Bits<20>>,
    /// `acc_j` sign-extended to 32 bits, while `read_valid`.
    pub read_data: Signal<Out, Bits<32>>,
    /// `read_data` holds the row requested two edges earlier.
    pub read_valid: Signal<Out, Bit>,
    /// Bank `r` holds rows `j` with `j mod R = r`.
    banks: Vec<TiledRam<32>>,
    // Traversal stage: the accepted beat, waiting for its read data.
    s1_valid: DFF<Bit>,
    s1_first: DFF<Bit>,
    s1_group: DFF<Bits<20>>,
    s1_sum: Vec<DFF<Bits<32>>>,
    /// The beat in the stage was accepted on the edge that wrote its group: its read
    /// returned the old word, and the written one is in `fw_value`. Decided on the accepting
    /// edge so that the select of `base` has only register inputs.
    s1_forward: DFF<Bit>,
    /// The words written on the last enabled edge.
    fw_value: Vec<DFF<Bits<32>>>,
    /// The old accumulator of bank `r` (0 for a first beat).
    base: Vec<Signal<Local, Bits<32>>>,
    /// The new accumulator of bank `r`, `acc_bits` wide.
    updated: Vec<Signal<Local, Bits<32>>>,
    /// Read address of every bank: the readout's, the accepted beat's or the held beat's.
    read_address: Signal<Local, Bits<20>>,
    // Readout: row -> (group, bank).
    row: Signal<Local, Bits<20>>,
    /// Restoring division by `R`, one quotient bit per step from bit 19 down: the partial
    /// remainder shifted in, whether `R` fits, the remainder, the quotient so far.
    trial: Vec<Signal<Local, Bits<8>>>,
    fits: Vec<Signal<Local, Bit>>,
    remainder: Vec<Signal<Local, Bits<8>>>,
    quotient: Vec<Signal<Local, Bits<20>>>,
    /// The row bit and `fits` of step `i` (at `i - 1`, steps 1 ..= 19) as words (0 or 1) of the trial's and the
    /// quotient's width: added as bits, they would meet the sums at 1 bit
    /// (docs/lint-waivers.md).
    row_bit: Vec<Signal<Local, Bits<8>>>,
    fits_word: Vec<Signal<Local, Bits<20>>>,
    row_group: Signal<Local, Bits<20>>,
    row_bank: Signal<Local, Bits<6>>,
    rd1_valid: DFF<Bit>,
    rd1_group: DFF<Bits<20>>,
    rd1_bank: DFF<Bits<6>>,
    rd2_valid: DFF<Bit>,
    rd2_bank: DFF<Bits<6>>,
    /// The word of the bank that the readout selects, `acc_bits` wide.
    word: Signal<Local, Bits<32>>,
    /// Bank `r`'s number.
    bank_number: Vec<Constant<Bits<6>>>,
    /// `2^acc_bits − 1`.
    acc_mask: Constant<Bits<32>>,
    /// `2^32 − 2^acc_bits`: the sign extension of a negative accumulator.
    acc_sign_ext: Constant<Bits<32>>,
    /// `acc_bits − 1`.
    acc_sign_bit: Constant<Bits<5>>,
    /// `2^ceil(log2 G) − 1`: the address bits a bank uses.
    group_mask: Constant<Bits<20>>,
    /// `2^ceil(log2 d_out) − 1`: the row bits.
    row_mask: Constant<Bits<20>>,
    /// `R` is a power of two: the readout shifts and masks instead of dividing.
    rows_pow2: Constant<Bit>,
    /// `log2 R` (power of two only).
    row_shift: Constant<Bits<5>>,
    /// `R − 1` (power of two only), in the 6 bits of a bank number (`R` <= 64).
    bank_mask: Constant<Bits<6>>,
    /// `R`, the divisor.
    divisor: Constant<Bits<8>>,
    /// 0 and 1 of the trial's and the quotient's width (docs/lint-waivers.md).
    trial_zero: Constant<Bits<8>>,
    trial_one: Constant<Bits<8>>,
    quotient_zero: Constant<Bits<20>>,
    quotient_one: Constant<Bits<20>>,
}

impl AccumulatorBank {
    /// What [`AccumulatorBank::new`] builds for `cfg`: `array_rows` memories of
    /// `acc_rows / array_rows` words, of which synthesis keeps `acc_bits` data bits (the RAMs
    /// are 32 bits wide, the accumulators narrower); no multiplier.
    pub fn resources(cfg: &HgfConfig) -> Resources {
        let groups = cfg.acc_rows() / cfg.array_rows;
        Resources::memory(groups, cfg.acc_bits()).times(cfg.array_rows)
    }

    /// The bank of `cfg`: `array_rows` banks of `d_out / array_rows` accumulators of
    /// `acc_bits` bits.
    pub fn new(cfg: &HgfConfig) -> Self {
        Self::with_shape(cfg.array_rows, cfg.acc_rows(), cfg.acc_bits() as usize)
    }

    /// `rows` banks for `d_out` accumulators of `acc_bits` bits.
    ///
    /// # Panics
    /// If `rows` is outside `1..=64` or does not divide `d_out`, `d_out` exceeds 2^20, or
    /// `acc_bits` is outside `2..=32`.
    pub fn with_shape(rows: usize, d_out: usize, acc_bits: usize) -> Self {
        assert!(
            (1..=MAX_ROWS).contains(&rows),
            "AccumulatorBank rows {rows} outside 1..={MAX_ROWS}"
        );
        assert!(
            (1..=MAX_D_OUT).contains(&d_out) && d_out % rows == 0,
            "AccumulatorBank d_out {d_out} must be a multiple of rows {rows} up to {MAX_D_OUT}"
        );
        assert!(
            (2..=32).contains(&acc_bits),
            "AccumulatorBank acc_bits {acc_bits} outside 2..=32"
        );
        let groups = d_out / rows;
        let acc_mask = if acc_bits == 32 {
            0xFFFF_FFFF
        } else {
            (1u64 << acc_bits) - 1
        };
        let pow2 = rows.is_power_of_two();
        // Used only when `rows` is a power of two.
        let (shift, bank_mask) = if pow2 {
            (u64::from(rows.trailing_zeros()), rows as u64 - 1)
        } else {
            (0, 0)
        };
        Self {
            clock: Default::default(),
            reset: Default::default(),
            enable: Default::default(),
            valid: Default::default(),
            first: Default::default(),
            group: Default::default(),
            sums: (0..rows).map(|_| Default::default()).collect(),
            read_enable: Default::default(),
            read_row: Default::default(),
            read_data: Default::default(),
            read_valid: Default::default(),
            banks: (0..rows).map(|_| TiledRam::new(groups)).collect(),
            s1_valid: Default::default(),
            s1_first: Default::default(),
            s1_group: Default::default(),
            s1_sum: (0..rows).map(|_| Default::default()).collect(),
            s1_forward: Default::default(),
            fw_value: (0..rows).map(|_| Default::default()).collect(),
            base: (0..rows).map(|_| Default::default()).collect(),
            updated: (0..rows).map(|_| Default::default()).collect(),
            read_address: Default::default(),
            row: Default::default(),
            trial: (0..20).map(|_| Default::default()).collect(),
            fits: (0..20).map(|_| Default::default()).collect(),
            remainder: (0..20).map(|_| Default::default()).collect(),
            quotient: (0..20).map(|_| Default::default()).collect(),
            row_bit: (1..20).map(|_| Default::default()).collect(),
            fits_word: (1..20).map(|_| Default::default()).collect(),
            row_group: Default::default(),
            row_bank: Default::default(),
            rd1_valid: Default::default(),
            rd1_group: Default::default(),
            rd1_bank: Default::default(),
            rd2_valid: Default::default(),
            rd2_bank: Default::default(),
            word: Default::default(),
            bank_number: (0..rows)
                .map(|r| Constant::new((r as u64).into()))
                .collect(),
            acc_mask: Constant::new(acc_mask.into()),
            acc_sign_ext: Constant::new((0xFFFF_FFFF ^ acc_mask).into()),
            acc_sign_bit: Constant::new(((acc_bits - 1) as u64).into()),
            group_mask: Constant::new(((groups.next_power_of_two() - 1) as u64).into()),
            row_mask: Constant::new(((d_out.next_power_of_two() - 1) as u64).into()),
            rows_pow2: Constant::new(pow2),
            row_shift: Constant::new(shift.into()),
            bank_mask: Constant::new(bank_mask.into()),
            divisor: Constant::new((rows as u64).into()),
            trial_zero: Constant::new(0u64.into()),
            trial_one: Constant::new(1u64.into()),
            quotient_zero: Constant::new(0u64.into()),
            quotient_one: Constant::new(1u64.into()),
        }
    }

    /// Edges from `read_enable` to `read_valid`.
    pub const READ_LATENCY: usize = 2;

    /// Banks (`R`).
    pub fn rows(&self) -> usize {
        self.banks.len()
    }
}

impl Logic for AccumulatorBank {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, s1_valid, s1_first, s1_group, s1_forward, rd1_valid, rd1_group, rd1_bank,
            rd2_valid, rd2_bank
        );
        // ---- Traversal: the beat in the stage adds its sums to the words read for it.
        self.read_address.next = self.s1_group.q.val();
        if self.enable.val() {
            self.read_address.next = self.group.val() & self.group_mask.val();
        }
        if self.rd1_valid.q.val() {
            self.read_address.next = self.rd1_group.q.val();
        }
        for r in 0..self.banks.len() {
            self.s1_sum[r].clock.next = self.clock.val();
            self.s1_sum[r].d.next = self.s1_sum[r].q.val();
            self.fw_value[r].clock.next = self.clock.val();
            self.fw_value[r].d.next = self.fw_value[r].q.val();
            self.base[r].next = self.banks[r].read_data.val();
            if self.s1_forward.q.val() {
                self.base[r].next = self.fw_value[r].q.val();
            }
            if self.s1_first.q.val() {
                self.base[r].next = 0.into();
            }
            self.updated[r].next =
                (self.base[r].val() + self.s1_sum[r].q.val()) & self.acc_mask.val();
            self.banks[r].clock.next = self.clock.val();
            self.banks[r].read_address.next = self.read_address.val();
            self.banks[r].write_address.next = self.s1_group.q.val();
            self.banks[r].write_data.next = self.updated[r].val();
            self.banks[r].write_enable.next =
                (self.enable.val() & self.s1_valid.q.val()) & !self.reset.val();
            if self.enable.val() {
                self.s1_sum[r].d.next = self.sums[r].val() & self.acc_mask.val();
                self.fw_value[r].d.next = self.updated[r].val();
            }
        }
        if self.enable.val() {
            self.s1_valid.d.next = self.valid.val();
            self.s1_first.d.next = self.first.val();
            self.s1_group.d.next = self.group.val() & self.group_mask.val();
            // The beat accepted now reads the group that this edge writes: forward.
            self.s1_forward.d.next = self.s1_valid.q.val()
                & ((self.group.val() & self.group_mask.val()) == self.s1_group.q.val());
        }

        // ---- Readout: row j -> group j div R, bank j mod R.
        self.row.next = self.read_row.val() & self.row_mask.val();
        self.trial[0].next = self.trial_zero.val();
        if self.row.val().get_bit(19) {
            self.trial[0].next = self.trial_one.val();
        }
        self.fits[0].next = self.trial[0].val() >= self.divisor.val();
        self.remainder[0].next = self.trial[0].val();
        self.quotient[0].next = self.quotient_zero.val();
        if self.fits[0].val() {
            self.remainder[0].next = self.trial[0].val() - self.divisor.val();
            self.quotient[0].next = self.quotient_one.val();
        }
        for i in 1..20 {
            self.row_bit[i - 1].next = self.trial_zero.val();
            if self.row.val().get_bit(19 - i) {
                self.row_bit[i - 1].next = self.trial_one.val();
            }
            self.trial[i].next = (self.remainder[i - 1].val() << 1) + self.row_bit[i - 1].val();
            self.fits[i].next = self.trial[i].val() >= self.divisor.val();
            self.remainder[i].next = self.trial[i].val();
            if self.fits[i].val() {
                self.remainder[i].next = self.trial[i].val() - self.divisor.val();
            }
            self.fits_word[i - 1].next = self.quotient_zero.val();
            if self.fits[i].val() {
                self.fits_word[i - 1].next = self.quotient_one.val();
            }
            self.quotient[i].next = (self.quotient[i - 1].val() << 1) + self.fits_word[i - 1].val();
        }
        if self.rows_pow2.val() {
            self.row_group.next = (self.row.val() >> self.row_shift.val()) & self.group_mask.val();
            self.row_bank.next = self.row.val().get_bits::<6>(0) & self.bank_mask.val();
        } else {
            self.row_group.next = self.quotient[19].val() & self.group_mask.val();
            // A cast to a narrower word, the one width mismatch left here (a slice would leave
            // bits of the remainder unread, which Verilator's lint reports instead).
            self.row_bank.next = bit_cast::<6, 8>(self.remainder[19].val());
        }
        self.rd1_valid.d.next = self.read_enable.val();
        self.rd1_group.d.next = self.row_group.val();
        self.rd1_bank.d.next = self.row_bank.val();
        self.rd2_valid.d.next = self.rd1_valid.q.val();
        self.rd2_bank.d.next = self.rd1_bank.q.val();
        self.word.next = 0.into();
        for r in 0..self.banks.len() {
            if self.rd2_bank.q.val() == self.bank_number[r].val() {
                self.word.next = self.banks[r].read_data.val() & self.acc_mask.val();
            }
        }
        self.read_data.next = self.word.val();
        if self.word.val().get_bit(self.acc_sign_bit.val().index()) {
            self.read_data.next = self.word.val() | self.acc_sign_ext.val();
        }
        self.read_valid.next = self.rd2_valid.q.val();

        if self.reset.val() {
            self.s1_valid.d.next = false;
            self.s1_forward.d.next = false;
            self.rd1_valid.d.next = false;
            self.rd2_valid.d.next = false;
        }
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

    #[test]
    fn states_the_memories_it_builds() {
        // 1100 outputs on 4 rows: 275 row groups, so 275 words per bank (two tiles each).
        let mut cfg = HgfConfig::preset("default").unwrap();
        cfg.max_d_out = 1100;
        cfg.array_rows = 4;
        let bank = AccumulatorBank::new(&cfg);
        let stated = AccumulatorBank::resources(&cfg);
        assert_eq!(stated.multipliers, 0);
        assert_eq!(stated.memories.len(), bank.banks.len());
        for (m, b) in stated.memories.iter().zip(&bank.banks) {
            assert_eq!((m.words, m.bits), (275, cfg.acc_bits()));
            assert_eq!(m.tiles(), b.tiles());
        }
    }

    fn new_uut(cfg: &HgfConfig) -> AccumulatorBank {
        let mut uut = AccumulatorBank::new(cfg);
        uut.connect_all();
        uut
    }

    /// A valid config of this shape (C = 5, base3).
    fn config(d_in: usize, d_out: usize, rows: usize) -> HgfConfig {
        let cfg = HgfConfig {
            max_d_in: d_in,
            max_d_out: d_out,
            max_rank: 1,
            array_rows: rows,
            array_inputs: 5,
            fp_lanes: 1,
            ..HgfConfig::default()
        };
        cfg.validate().expect("test config is valid");
        cfg
    }

    #[test]
    fn synthesizes() {
        // R = 4 (shift) and R = 3 (divider), one and several tiles.
        for (d_in, d_out, rows) in [(512, 512, 4), (100, 768, 3), (20, 4, 4)] {
            let cfg = config(d_in, d_out, rows);
            let uut = new_uut(&cfg);
            let name = format!("accumulator_bank_r{rows}_d{d_out}");
            let v = verilog::emit_named(&uut, &name).unwrap();
            verilog::check_all_tools(&name, &v).unwrap();
        }
    }

    /// Drives the bank cycle by cycle and mirrors the port contract, asserting the
    /// read-port sharing rule.
    struct Driver {
        uut: AccumulatorBank,
        /// A beat is in the stage (accepted, not yet written).
        stage_full: bool,
        /// A readout was requested on the last edge (no beat may be accepted on this one).
        read_last: bool,
        /// Readouts in flight: the row requested, by edges to go.
        reads: Vec<(usize, usize)>,
        /// Readout results: (row, value).
        results: Vec<(usize, i32)>,
    }

    impl Driver {
        fn new(cfg: &HgfConfig) -> Self {
            Self {
                uut: new_uut(cfg),
                stage_full: false,
                read_last: false,
                reads: vec![],
                results: vec![],
            }
        }

        /// One edge. `beat`: (group, first, sums) offered with `valid`; `read`: a row.
        fn cycle(
            &mut self,
            enable: bool,
            beat: Option<(usize, bool, &[i32])>,
            read: Option<usize>,
        ) {
            let u = &mut self.uut;
            u.enable.next = enable;
            u.valid.next = beat.is_some();
            if let Some((g, first, sums)) = beat {
                u.group.next = (g as u64).into();
                u.first.next = first;
                for (port, &s) in u.sums.iter_mut().zip(sums) {
                    port.next = (s as u32 as u64).into();
                }
            } else {
                // Garbage on the data ports while not valid.
                u.group.next = 0xFFFFF.into();
                u.first.next = true;
            }
            let accepted = enable && beat.is_some();
            assert!(
                !(accepted && self.read_last),
                "beat accepted during a readout"
            );
            self.read_last = read.is_some();
            if let Some(j) = read {
                // The sharing rule: nothing accepted on this edge (nor the next: checked
                // then), and the stage is empty after this edge.
                assert!(!accepted, "readout while a beat is accepted");
                assert!(
                    !self.stage_full || enable,
                    "readout while a beat waits for its write"
                );
                self.reads.push((j, 2));
            }
            u.read_enable.next = read.is_some();
            u.read_row.next = (read.unwrap_or(0x5A5A5) as u64).into();
            tick(u, |u| &mut u.clock);
            if enable {
                self.stage_full = accepted;
            }
            for r in self.reads.iter_mut() {
                r.1 -= 1;
            }
            if let Some(&(j, 0)) = self.reads.first() {
                assert!(u.read_valid.val(), "read_valid for row {j}");
                self.results
                    .push((j, u.read_data.val().to_u64() as u32 as i32));
                self.reads.remove(0);
            } else {
                assert!(!u.read_valid.val(), "read_valid without a request");
            }
        }
    }

    /// One token: random T (d_out x d_in) and q, the beats of every column block in §P3
    /// order with random stalls and gaps, then a readout of every row in random order.
    fn token(cfg: &HgfConfig, seed: u64, extreme: Option<(i8, i8)>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut w = HgfWeights::random(cfg.max_shape(), seed);
        let mut q: Vec<i8> = (0..cfg.max_d_in).map(|_| rng.random::<i8>()).collect();
        if let Some((t, qv)) = extreme {
            w.t.fill(t);
            q.fill(qv);
        }
        let golden = ternary_accumulate(w.t.view(), &q);
        let (rows, c) = (cfg.array_rows, cfg.array_inputs);
        let groups = cfg.max_layout().row_groups();
        let mut d = Driver::new(cfg);
        for block in 0..cfg.max_layout().column_blocks() {
            for g in 0..groups {
                let sums: Vec<i32> = (0..rows)
                    .map(|r| {
                        (block * c..(block * c + c).min(cfg.max_d_in))
                            .map(|i| i32::from(w.t[[g * rows + r, i]]) * i32::from(q[i]))
                            .sum()
                    })
                    .collect();
                // Gaps (valid low) and stalls (enable low) before the beat is taken.
                while rng.random_bool(0.2) {
                    let enable = rng.random_bool(0.5);
                    let offered = rng.random_bool(0.5);
                    if offered && !enable {
                        d.cycle(false, Some((g, block == 0, &sums)), None);
                    } else {
                        d.cycle(enable, None, None);
                    }
                }
                d.cycle(true, Some((g, block == 0, &sums)), None);
            }
        }
        // Idle: one more enabled edge writes the last beat (sometimes after a stall).
        while rng.random_bool(0.3) {
            d.cycle(false, None, None);
        }
        d.cycle(true, None, None);
        let mut order: Vec<usize> = (0..cfg.max_d_out).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        for &j in &order {
            let enable = rng.random_bool(0.7);
            d.cycle(enable, None, Some(j));
            if rng.random_bool(0.1) {
                d.cycle(enable, None, None);
            }
        }
        d.cycle(true, None, None);
        d.cycle(true, None, None);
        assert_eq!(d.results.len(), cfg.max_d_out);
        for &(j, got) in &d.results {
            assert_eq!(
                got, golden[j],
                "d_in {} d_out {} R {rows}: acc_{j}",
                cfg.max_d_in, cfg.max_d_out
            );
        }
    }

    #[test]
    fn tokens_match_golden_accumulation() {
        // (d_in, d_out, R): several groups; d_out = R (one group: every beat forwards);
        // R = 3 and 5 (divided readout); two tiles per bank (G = 300).
        let shapes = [
            (37, 8, 4),
            (23, 4, 4),
            (12, 1, 1),
            (30, 9, 3),
            (17, 10, 5),
            (11, 600, 2),
        ];
        for (i, &(d_in, d_out, rows)) in shapes.iter().enumerate() {
            let cfg = config(d_in, d_out, rows);
            for seed in 0..3 {
                token(&cfg, 40 + 10 * i as u64 + seed, None);
            }
        }
    }

    #[test]
    fn extreme_accumulators_are_exact() {
        // acc = +128 d_in (T = -1, q = -128) and -127 d_in (T = -1, q = 127): the ends of
        // the range that acc_bits holds.
        for (t, q) in [(-1, -128), (-1, 127), (1, -128)] {
            let cfg = config(64, 4, 2);
            assert_eq!(cfg.acc_bits(), 15);
            token(&cfg, 3, Some((t, q)));
        }
    }

    #[test]
    fn reset_drops_the_beat_in_flight() {
        let cfg = config(10, 4, 4);
        let mut d = Driver::new(&cfg);
        d.cycle(true, Some((0, true, &[1, 2, 3, 4])), None);
        d.cycle(true, None, None);
        // A beat accepted together with reset is dropped; the next one is not.
        d.uut.reset.next = true;
        d.cycle(true, Some((0, false, &[100, 100, 100, 100])), None);
        d.uut.reset.next = false;
        d.cycle(true, Some((0, false, &[10, 20, 30, 40])), None);
        d.cycle(true, None, None);
        for j in 0..4 {
            d.cycle(true, None, Some(j));
        }
        d.cycle(true, None, None);
        d.cycle(true, None, None);
        let got: Vec<i32> = d.results.iter().map(|r| r.1).collect();
        assert_eq!(got, vec![11, 22, 33, 44]);
    }
}
