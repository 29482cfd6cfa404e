//! The core's descriptor and mode controller: reads each run's descriptor, checks it against
//! the engine's maxima, and starts the run's tokens one after another.

use hgf_golden::HgfConfig;
use rust_hdl::prelude::*;

use crate::counter_mask::counter_mask;

/// The most tokens one descriptor may announce: the core counts them in 16 bits (a host
/// sends longer runs as several descriptors).
pub const MAX_RUN_TOKENS: usize = (1 << 16) - 1;

/// The values of the controller's 2-bit `mode` register.
pub mod mode {
    /// Reading a descriptor.
    pub const DESCRIPTOR: u64 = 0;
    /// Checking it (one cycle).
    pub const CHECK: u64 = 1;
    /// Running its tokens.
    pub const RUN: u64 = 2;
    /// Refused: nothing more until reset.
    pub const ERROR: u64 = 3;
}

/// The bits of a 32-bit word above those that `max` needs.
fn high_bits(max: usize) -> Constant<Bits<32>> {
    let width = hgf_golden::derived::counter_bits(max);
    Constant::new(((u64::from(u32::MAX) >> width) << width).into())
}

/// The core's descriptor and mode controller (`DescriptorControl`).
///
/// **Function.** In mode *descriptor* it takes the six words of a run's descriptor from the
/// scalar stream (docs/interfaces.md): `d_in`, `d_out`, `rank`, `tokens`, beta, g. Each size
/// is checked on all 32 bits as it arrives: `d_in`, `d_out` or `tokens` of zero, or any
/// word beyond its maximum (`max_d_in`, `max_d_out`, `max_rank`, [`MAX_RUN_TOKENS`]), is
/// refused. After the last word, one *check* cycle: a refused descriptor puts the core in
/// mode *error* (`error` high, nothing more taken) until `reset`; else mode *run* begins with
/// `start` high for one cycle. Each `token_end` starts the run's next token (`start` on the
/// next cycle) or, after the last, returns to mode *descriptor*. The shape outputs are kept
/// to the bits their maxima need.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `reset` | in | 1 | synchronous: back to mode descriptor at its first word, the refusal and `start` cleared; `word_ready` low |
/// | `word_valid`, `word_ready`, `word` | in, out, in | 1, 1, 32 | the scalar stream (`word_ready` depends on the mode and `reset` only) |
/// | `token_end` | in | 1 | the token's last output leaves on this edge |
/// | `start` | out | 1 | a token starts: high for the one cycle after the check or a `token_end` that leaves tokens in the run |
/// | `running` | out | 1 | mode run: the token's beats may be taken |
/// | `d_in`, `d_out`, `rank` | out | 20 each | the run's shape |
/// | `beta`, `g` | out | 32, 32 | the run's binary32 beta and g (bits as sent, but `g` is +0 for a ternary-only run, `rank = 0`: docs/arithmetic.md §G2) |
/// | `error` | out | 1 | the last descriptor was refused; held until `reset` |
///
/// **Latency** the first token's `start` is high two edges after the descriptor's last word
/// (the word's edge moves to check, the check's edge raises `start`); the next token's one
/// edge after `token_end`. **Throughput** one descriptor word per cycle. **Resources** the
/// mode, word count, shape, beta, g and run-length registers (147 flip-flops for the
/// `default` maxima, `synth_ecp5 -noflatten`), the range comparators; no RAM, no DSP.
/// **Golden** `hgf_golden::streams::descriptor_beats` (the words), `HgfConfig::check_shape`
/// (what is refused). **Limits** `tokens <=` [`MAX_RUN_TOKENS`].
#[derive(LogicBlock)]
pub struct DescriptorControl {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub word_valid: Signal<In, Bit>,
    pub word_ready: Signal<Out, Bit>,
    pub word: Signal<In, Bits<32>>,
    pub token_end: Signal<In, Bit>,
    pub start: Signal<Out, Bit>,
    pub running: Signal<Out, Bit>,
    pub d_in: Signal<Out, Bits<20>>,
    pub d_out: Signal<Out, Bits<20>>,
    pub rank: Signal<Out, Bits<20>>,
    pub beta: Signal<Out, Bits<32>>,
    pub g: Signal<Out, Bits<32>>,
    pub error: Signal<Out, Bit>,
    // The engine's limits: a descriptor beyond them is refused.
    max_d_in: Constant<Bits<32>>,
    max_d_out: Constant<Bits<32>>,
    max_rank: Constant<Bits<32>>,
    max_tokens: Constant<Bits<32>>,
    /// The bits of a descriptor word above each maximum's width: any of them set is out of
    /// range, and the bits below are compared with the maximum (a comparison only as wide as
    /// the maximum: the word itself is 32 bits).
    d_in_high: Constant<Bits<32>>,
    d_out_high: Constant<Bits<32>>,
    rank_high: Constant<Bits<32>>,
    tokens_high: Constant<Bits<32>>,
    /// Widths of the shape registers (`counter_mask` of each maximum).
    d_in_mask: Constant<Bits<20>>,
    d_out_mask: Constant<Bits<20>>,
    rank_mask: Constant<Bits<20>>,
    /// The `mode` register's values (module [`mode`]).
    m_desc: Constant<Bits<2>>,
    m_check: Constant<Bits<2>>,
    m_run: Constant<Bits<2>>,
    m_error: Constant<Bits<2>>,
    /// Descriptor (`m_desc`), checking it (`m_check`), running its tokens (`m_run`), or
    /// refused (`m_error`, until reset).
    mode: DFF<Bits<2>>,
    /// The descriptor word that comes next.
    s_count: DFF<Bits<3>>,
    d_in_reg: DFF<Bits<20>>,
    d_out_reg: DFF<Bits<20>>,
    rank_reg: DFF<Bits<20>>,
    /// A descriptor word was out of range (checked as it arrives, on all 32 bits).
    refused: DFF<Bit>,
    beta_reg: DFF<Bits<32>>,
    g_reg: DFF<Bits<32>>,
    /// Tokens of the run still to start after the current one.
    tokens_left: DFF<Bits<16>>,
    start_pending: DFF<Bit>,
    /// A descriptor word is taken on this edge.
    fire: Signal<Local, Bit>,
    /// Typed constants: beat `k` of the descriptor as a value of `s_count`, and 0 and 1 of
    /// `tokens_left`, so that no 32-bit literal meets them (docs/lint-waivers.md).
    beat: [Constant<Bits<3>>; 6],
    tokens_zero: Constant<Bits<16>>,
    tokens_one: Constant<Bits<16>>,
}

impl DescriptorControl {
    /// The controller for `cfg`'s maxima.
    pub fn new(cfg: &HgfConfig) -> Self {
        let c = |v: u64| Constant::new(v.into());
        Self {
            clock: Default::default(),
            reset: Default::default(),
            word_valid: Default::default(),
            word_ready: Default::default(),
            word: Default::default(),
            token_end: Default::default(),
            start: Default::default(),
            running: Default::default(),
            d_in: Default::default(),
            d_out: Default::default(),
            rank: Default::default(),
            beta: Default::default(),
            g: Default::default(),
            error: Default::default(),
            max_d_in: c(cfg.max_d_in as u64),
            max_d_out: c(cfg.max_d_out as u64),
            max_rank: c(cfg.max_rank as u64),
            max_tokens: c(MAX_RUN_TOKENS as u64),
            d_in_high: high_bits(cfg.max_d_in),
            d_out_high: high_bits(cfg.max_d_out),
            rank_high: high_bits(cfg.max_rank),
            tokens_high: high_bits(MAX_RUN_TOKENS),
            d_in_mask: counter_mask(cfg.max_d_in),
            d_out_mask: counter_mask(cfg.max_d_out),
            rank_mask: counter_mask(cfg.max_rank),
            m_desc: Constant::new(mode::DESCRIPTOR.into()),
            m_check: Constant::new(mode::CHECK.into()),
            m_run: Constant::new(mode::RUN.into()),
            m_error: Constant::new(mode::ERROR.into()),
            beat: std::array::from_fn(|k| Constant::new((k as u64).into())),
            tokens_zero: Constant::new(0u64.into()),
            tokens_one: Constant::new(1u64.into()),
            mode: Default::default(),
            s_count: Default::default(),
            d_in_reg: Default::default(),
            d_out_reg: Default::default(),
            rank_reg: Default::default(),
            refused: Default::default(),
            beta_reg: Default::default(),
            g_reg: Default::default(),
            tokens_left: Default::default(),
            start_pending: Default::default(),
            fire: Default::default(),
        }
    }
}

impl Logic for DescriptorControl {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            mode,
            s_count,
            d_in_reg,
            d_out_reg,
            rank_reg,
            refused,
            beta_reg,
            g_reg,
            tokens_left,
            start_pending
        );
        self.word_ready.next = (self.mode.q.val() == self.m_desc.val()) & !self.reset.val();
        self.fire.next = self.word_valid.val() & self.word_ready.val();
        self.start.next = self.start_pending.q.val();
        self.running.next = self.mode.q.val() == self.m_run.val();
        self.error.next = self.mode.q.val() == self.m_error.val();
        self.d_in.next = self.d_in_reg.q.val();
        self.d_out.next = self.d_out_reg.q.val();
        self.rank.next = self.rank_reg.q.val();
        self.beta.next = self.beta_reg.q.val();
        self.g.next = self.g_reg.q.val();

        // The descriptor: d_in, d_out, rank, tokens, beta, g. Each size is checked on all 32
        // bits as it arrives: zero or beyond the maximum is refused, as is a run of no
        // tokens.
        if self.fire.val() {
            self.s_count.d.next = self.s_count.q.val() + self.beat[1].val();
            if self.s_count.q.val() == self.beat[0].val() {
                self.d_in_reg.d.next = self.word.val().get_bits::<20>(0) & self.d_in_mask.val();
                if (self.word.val() == 0)
                    | ((self.word.val() & self.d_in_high.val()) != 0)
                    | ((self.word.val() & !self.d_in_high.val()) > self.max_d_in.val())
                {
                    self.refused.d.next = true;
                }
            }
            if self.s_count.q.val() == self.beat[1].val() {
                self.d_out_reg.d.next = self.word.val().get_bits::<20>(0) & self.d_out_mask.val();
                if (self.word.val() == 0)
                    | ((self.word.val() & self.d_out_high.val()) != 0)
                    | ((self.word.val() & !self.d_out_high.val()) > self.max_d_out.val())
                {
                    self.refused.d.next = true;
                }
            }
            if self.s_count.q.val() == self.beat[2].val() {
                self.rank_reg.d.next = self.word.val().get_bits::<20>(0) & self.rank_mask.val();
                if ((self.word.val() & self.rank_high.val()) != 0)
                    | ((self.word.val() & !self.rank_high.val()) > self.max_rank.val())
                {
                    self.refused.d.next = true;
                }
            }
            if self.s_count.q.val() == self.beat[3].val() {
                self.tokens_left.d.next = self.word.val().get_bits::<16>(0) - self.tokens_one.val();
                if (self.word.val() == 0)
                    | ((self.word.val() & self.tokens_high.val()) != 0)
                    | ((self.word.val() & !self.tokens_high.val()) > self.max_tokens.val())
                {
                    self.refused.d.next = true;
                }
            }
            if self.s_count.q.val() == self.beat[4].val() {
                self.beta_reg.d.next = self.word.val();
            }
            // A ternary-only run (rank 0, known from word 2) keeps g = +0, so that
            // g · v = +0 · (-0) = -0 adds nothing (docs/arithmetic.md §G2), without a rank test in front of the
            // gate's multiplier (it was on the UP5K's critical path, issue 16).
            if self.s_count.q.val() == self.beat[5].val() {
                self.g_reg.d.next = self.word.val();
                if !self.rank_reg.q.val().any() {
                    self.g_reg.d.next = 0.into();
                }
                self.s_count.d.next = self.beat[0].val();
                self.mode.d.next = self.m_check.val();
            }
        }
        // The check: a refused descriptor stops the core until reset; else the run's first
        // token starts.
        if self.mode.q.val() == self.m_check.val() {
            if self.refused.q.val() {
                self.mode.d.next = self.m_error.val();
            } else {
                self.mode.d.next = self.m_run.val();
                self.start_pending.d.next = true;
            }
        }
        // The last output ends the token; the next cycle starts the run's next token, or
        // waits for the next descriptor.
        if self.mode.q.val() != self.m_check.val() {
            self.start_pending.d.next = false;
        }
        if self.token_end.val() {
            if self.tokens_left.q.val() == self.tokens_zero.val() {
                self.mode.d.next = self.m_desc.val();
            } else {
                self.tokens_left.d.next = self.tokens_left.q.val() - self.tokens_one.val();
                self.start_pending.d.next = true;
            }
        }
        if self.reset.val() {
            self.mode.d.next = self.m_desc.val();
            self.refused.d.next = false;
            self.s_count.d.next = self.beat[0].val();
            self.start_pending.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{settle, tick};
    use crate::verilog::{check_all_tools, emit_named};

    fn new_uut() -> DescriptorControl {
        let mut uut = DescriptorControl::new(&HgfConfig::preset("up5k").unwrap());
        uut.connect_all();
        uut
    }

    /// Sends `words` one per edge; returns the edges until `start` or `error` is high.
    fn send(uut: &mut DescriptorControl, words: &[u64]) -> usize {
        for &w in words {
            uut.word_valid.next = true;
            uut.word.next = w.into();
            settle(uut);
            assert!(uut.word_ready.val(), "a descriptor word refused");
            tick(uut, |u| &mut u.clock);
        }
        uut.word_valid.next = false;
        let mut edges = 0;
        while !uut.start.val() && !uut.error.val() {
            tick(uut, |u| &mut u.clock);
            edges += 1;
            assert!(edges < 10, "neither start nor error");
        }
        edges
    }

    #[test]
    fn synthesizes() {
        let v = emit_named(&new_uut(), "descriptor_control").unwrap();
        check_all_tools("descriptor_control", &v).unwrap();
    }

    /// A ternary-only run (rank 0) gives g = +0 whatever g was sent; rank 1 keeps it.
    #[test]
    fn a_ternary_only_run_has_g_zero() {
        let mut uut = new_uut();
        assert_eq!(send(&mut uut, &[100, 7, 0, 1, 0x3f80_0000, 0xbe80_0000]), 1);
        assert_eq!(uut.rank.val().index(), 0);
        assert_eq!(uut.g.val().to_u64(), 0);
        let mut uut = new_uut();
        assert_eq!(send(&mut uut, &[100, 7, 1, 1, 0x3f80_0000, 0xbe80_0000]), 1);
        assert_eq!(uut.g.val().to_u64(), 0xbe80_0000);
    }

    /// A good descriptor of two tokens: the shape as sent, `start` after the check and after
    /// the first `token_end`, then back to waiting for a descriptor. A descriptor beyond
    /// `max_d_out` (256 on `up5k`): `error`, no word taken, until a reset.
    #[test]
    fn runs_good_descriptors_and_refuses_bad_ones_until_reset() {
        let mut uut = new_uut();
        assert_eq!(send(&mut uut, &[100, 7, 8, 2, 0x3f80_0000, 0x3e80_0000]), 1);
        assert!(uut.running.val() && !uut.error.val());
        assert_eq!((uut.d_in.val().index(), uut.d_out.val().index()), (100, 7));
        assert_eq!(uut.rank.val().index(), 8);
        assert_eq!(uut.g.val().to_u64(), 0x3e80_0000);
        tick(&mut uut, |u| &mut u.clock);
        assert!(!uut.start.val(), "start lasts one cycle");
        uut.token_end.next = true;
        tick(&mut uut, |u| &mut u.clock);
        assert!(uut.start.val(), "second token");
        tick(&mut uut, |u| &mut u.clock);
        tick(&mut uut, |u| &mut u.clock);
        uut.token_end.next = false;
        settle(&mut uut);
        assert!(
            !uut.running.val() && uut.word_ready.val(),
            "back to descriptors"
        );
        send(&mut uut, &[100, 257, 8, 1, 0, 0]);
        assert!(uut.error.val() && !uut.start.val());
        for _ in 0..3 {
            tick(&mut uut, |u| &mut u.clock);
            assert!(uut.error.val() && !uut.word_ready.val(), "error held");
        }
        uut.reset.next = true;
        tick(&mut uut, |u| &mut u.clock);
        uut.reset.next = false;
        settle(&mut uut);
        assert!(!uut.error.val() && uut.word_ready.val(), "reset recovers");
    }
}
