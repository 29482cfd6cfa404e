//! Drives the generated HGF core in Verilator: streams the parameters and tokens through its
//! five interfaces (docs/interfaces.md), optionally with random stalls, a reset in the middle
//! of the run and a VCD of chosen tokens, and collects the outputs and the cycles each token
//! took.

use std::path::PathBuf;

use half::f16;
use hgf_golden::packing::pack_matrix;
use hgf_golden::streams::{factor_beats, scalar_beats};
use hgf_golden::{HgfConfig, HgfWeights};
use hgf_hdl::schedule::{expected_cycles, ExpectedCycles};
use ndarray::ArrayView2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{BuildOptions, InputGroup, Model, PortId, SimError, VerilatedLib};

/// One input stream: its ports and the beats still to send (over all tokens).
///
/// Every data port of the core is at most 32 bits wide, so a beat is one word per data
/// port. The beats of one token repeat for every token except the activations, so a stream
/// keeps one period of beats (one token's, or every token's for the activations), sent
/// `repeats` times: beat `i` of the run is beat `i % period` of it. Long runs cost no memory
/// per token for the parameters.
struct Stream {
    valid: PortId,
    ready: PortId,
    data: InputGroup,
    /// One period of beats, `data.len()` words each, back to back.
    words: Vec<u32>,
    /// Beats per token.
    per_token: usize,
    /// Beats over the whole run.
    total: usize,
    /// Index of the next beat over the whole run.
    next: usize,
    /// The beat on the data ports now, so that a beat offered for several cycles (or a
    /// stall) costs no port writes.
    shown: Option<usize>,
    /// What `valid` is set to now.
    valid_now: bool,
}

impl Stream {
    /// `words` holds one period of beats, one word per data port each, to be sent `repeats`
    /// times over `tokens` tokens; `lanes == 0` means a single data port named
    /// `<name>_data`, otherwise `<name>_data$0 ..`.
    fn new(
        m: &Model,
        name: &str,
        lanes: usize,
        words: Vec<u32>,
        repeats: usize,
        tokens: usize,
    ) -> Result<Self, SimError> {
        let data: Vec<PortId> = if lanes == 0 {
            vec![m.port(&format!("{name}_data"))?]
        } else {
            (0..lanes)
                .map(|i| m.port(&format!("{name}_data${i}")))
                .collect::<Result<_, _>>()?
        };
        if words.len() % data.len() != 0 {
            return Err(SimError::Driver(format!(
                "stream `{name}`: {} words do not make whole beats of {} ports",
                words.len(),
                data.len()
            )));
        }
        let total = repeats * (words.len() / data.len());
        let data = m.input_group(&data)?;
        Ok(Stream {
            valid: m.port(&format!("{name}_valid"))?,
            ready: m.port(&format!("{name}_ready"))?,
            data,
            words,
            per_token: total / tokens.max(1),
            total,
            next: 0,
            shown: None,
            valid_now: false,
        })
    }

    fn set_valid(&mut self, m: &mut Model, valid: bool) -> Result<(), SimError> {
        if valid != self.valid_now {
            m.set(self.valid, u64::from(valid))?;
            self.valid_now = valid;
        }
        Ok(())
    }

    /// Offers the next beat (or nothing) for the coming edge.
    fn offer(&mut self, m: &mut Model, stalled: bool) -> Result<bool, SimError> {
        let offered = !stalled && self.next < self.total;
        self.set_valid(m, offered)?;
        if offered && self.shown != Some(self.next) {
            let lanes = self.data.len();
            let first = (self.next % (self.words.len() / lanes)) * lanes;
            m.set_group(&self.data, &self.words[first..first + lanes])?;
            self.shown = Some(self.next);
        }
        Ok(offered)
    }

    /// Goes back to the first beat of `token`.
    fn rewind_to(&mut self, token: usize) {
        self.next = token * self.per_token;
    }
}

/// A VCD of part of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRequest {
    /// The VCD file (created or truncated).
    pub path: PathBuf,
    /// The trace starts when this token starts: at the beginning of the run for token 0,
    /// otherwise right after the previous token's last output has left the core.
    pub from_token: usize,
}

/// How to drive one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOptions {
    /// Probability, per cycle and per stream, that a beat is held back (input streams) or
    /// `y_ready` is low (output stream). `0 <= stall < 1`.
    pub stall: f64,
    /// Seed of the stall pattern.
    pub seed: u64,
    /// Gives up after this many cycles.
    pub max_cycles: u64,
    /// Asserts `reset` for one cycle at this cycle (counted like
    /// [`CoreRun::token_end_cycles`]). The token in progress is abandoned (its outputs so far
    /// are dropped) and streamed anew from its first beat; finished tokens are kept.
    pub reset_at: Option<u64>,
    /// Writes a VCD of every signal from the start of one token to the end of the run. The
    /// library must have been built with [`BuildOptions::trace`].
    pub trace: Option<TraceRequest>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            stall: 0.0,
            seed: 1,
            max_cycles: 1_000_000,
            reset_at: None,
            trace: None,
        }
    }
}

/// What a co-simulation run produced.
#[derive(Clone, Debug, Default)]
pub struct CoreRun {
    /// Outputs per token, binary16 bit patterns.
    pub outputs: Vec<Vec<u16>>,
    /// Clock cycle at which each token's last output left the core.
    pub token_end_cycles: Vec<u64>,
    /// Total cycles simulated (after the initial reset).
    pub cycles: u64,
    /// Outputs of an abandoned token dropped by [`RunOptions::reset_at`].
    pub dropped_outputs: usize,
    /// The VCD written, if one was asked for.
    pub trace: Option<PathBuf>,
}

impl CoreRun {
    /// Cycles of each token: the first from the end of the reset to its last output, the
    /// others from the previous token's last output to theirs.
    pub fn cycles_per_token(&self) -> Vec<u64> {
        let mut per_token: Vec<u64> = self.token_end_cycles.first().copied().into_iter().collect();
        per_token.extend(self.token_end_cycles.windows(2).map(|w| w[1] - w[0]));
        per_token
    }

    /// Cycles of the first token (0 if none finished).
    pub fn first_token_cycles(&self) -> u64 {
        self.token_end_cycles.first().copied().unwrap_or(0)
    }

    /// The throughput in cycles per token once the pipeline is busy: the mean over every
    /// token after the first (the first token's own cycles when there is only one).
    pub fn steady_cycles_per_token(&self) -> f64 {
        match self.token_end_cycles.as_slice() {
            [] => 0.0,
            [only] => *only as f64,
            [first, .., last] => (last - first) as f64 / (self.token_end_cycles.len() - 1) as f64,
        }
    }
}

/// The cycles of a run without stalls against the core's cycle model
/// ([`hgf_hdl::schedule::expected_cycles`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleCheck {
    /// What the model expects.
    pub expected: ExpectedCycles,
    /// What each token took ([`CoreRun::cycles_per_token`]).
    pub measured: Vec<u64>,
}

impl CycleCheck {
    /// The run's cycles against the model of `cfg`.
    pub fn new(cfg: &HgfConfig, run: &CoreRun) -> Self {
        Self {
            expected: expected_cycles(cfg),
            measured: run.cycles_per_token(),
        }
    }

    /// Every token took exactly the model's cycles: the first `first_token`, every later one
    /// `steady`.
    pub fn exact(&self) -> bool {
        self.measured.iter().enumerate().all(|(i, &c)| {
            c == if i == 0 {
                self.expected.first_token
            } else {
                self.expected.steady
            }
        })
    }
}

impl std::fmt::Display for CycleCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cycles per token measured {:?}, model: first token {}, then {} (limited by {:?}; {:?})",
            self.measured,
            self.expected.first_token,
            self.expected.steady,
            self.expected.limited_by,
            self.expected.milestones
        )
    }
}

/// The Verilated core of one config.
pub struct CoreSim {
    cfg: HgfConfig,
    lib: VerilatedLib,
}

/// Cycles between two calls of [`CoreSim::run_with`]'s `progress` within a token.
pub const PROGRESS_CYCLES: u64 = 1 << 16;

impl CoreSim {
    /// Verilates `verilog` (the core emitted for `cfg`), or reuses the cached model.
    pub fn build(cfg: &HgfConfig, verilog: &str, opts: &BuildOptions) -> Result<Self, SimError> {
        Ok(CoreSim {
            cfg: cfg.clone(),
            lib: VerilatedLib::build(verilog, &cfg.name, opts)?,
        })
    }

    /// The config the core was emitted for.
    pub fn config(&self) -> &HgfConfig {
        &self.cfg
    }

    /// The verilated library.
    pub fn lib(&self) -> &VerilatedLib {
        &self.lib
    }

    /// Streams `tokens` (`n x d_in`) with the weights `w` through a fresh model. Each input
    /// beat is held back, and `y_ready` dropped, with probability `stall` per cycle (seeded).
    /// Gives up after `max_cycles`.
    pub fn run(
        &self,
        w: &HgfWeights,
        tokens: ArrayView2<'_, f16>,
        stall: f64,
        seed: u64,
        max_cycles: u64,
    ) -> Result<CoreRun, SimError> {
        let opts = RunOptions {
            stall,
            seed,
            max_cycles,
            ..RunOptions::default()
        };
        self.run_with(w, tokens, &opts, &mut |_, _| {})
    }

    /// [`CoreSim::run`] with every option, calling `progress(tokens_done, cycles)` each time
    /// a token's last output leaves the core, and every [`PROGRESS_CYCLES`] cycles in
    /// between (a token under heavy stalls can take minutes).
    ///
    /// A cycle is two evals of the model ([`Model::clock_low`] with the new inputs, read the
    /// handshakes, [`Model::clock_high`]), and only ports whose value changes are written:
    /// the model's own evaluation is nearly all of the time (`cargo bench -p hgf-sim --bench
    /// core_cycles`).
    pub fn run_with(
        &self,
        w: &HgfWeights,
        tokens: ArrayView2<'_, f16>,
        opts: &RunOptions,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<CoreRun, SimError> {
        let cfg = &self.cfg;
        if !(0.0..1.0).contains(&opts.stall) {
            return Err(SimError::Driver(format!(
                "stall probability {} is outside 0 <= p < 1",
                opts.stall
            )));
        }
        if tokens.ncols() != cfg.d_in {
            return Err(SimError::Driver(format!(
                "tokens have {} values each; the core `{}` takes d_in = {}",
                tokens.ncols(),
                cfg.name,
                cfg.d_in
            )));
        }
        let n = tokens.nrows();
        let mut m = Model::new(&self.lib)?;
        let clock = m.port("clock")?;
        let reset = m.port("reset")?;
        let y_valid = m.port("y_valid")?;
        let y_ready = m.port("y_ready")?;
        let y_data = m.port("y_data")?;

        // Everything but the activations is the same for every token (repeated `n` times).
        let scalars = scalar_beats(w).to_vec();
        let activations: Vec<u32> = tokens.iter().map(|v| u32::from(v.to_bits())).collect();
        // The weight stream of §P3, one word per byte: a beat is its next
        // `weight_beat_bytes` bytes (`hgf_golden::streams::weight_beats`).
        let weight_words: Vec<u32> = pack_matrix(w.t.view(), cfg)
            .map_err(|e| SimError::Driver(e.to_string()))?
            .into_iter()
            .map(u32::from)
            .collect();
        let factor_words: Vec<u32> = factor_beats(cfg, w)
            .iter()
            .flatten()
            .map(|v| u32::from(v.to_bits()))
            .collect();
        let mut streams = [
            Stream::new(&m, "s", 0, scalars, n, n)?,
            Stream::new(&m, "x", 0, activations, 1, n)?,
            Stream::new(&m, "t", cfg.weight_beat_bytes(), weight_words, n, n)?,
            Stream::new(&m, "f", cfg.fp_lanes, factor_words, n, n)?,
        ];

        let mut run = CoreRun::default();
        let open_trace = |m: &mut Model, run: &mut CoreRun| -> Result<(), SimError> {
            if let Some(t) = &opts.trace {
                m.trace_open(&t.path)?;
                run.trace = Some(t.path.clone());
            }
            Ok(())
        };
        if opts.trace.as_ref().is_some_and(|t| t.from_token == 0) {
            open_trace(&mut m, &mut run)?;
        }

        // Reset for two cycles.
        m.set(reset, 1)?;
        for s in &mut streams {
            s.set_valid(&mut m, false)?;
        }
        m.set(y_ready, 0)?;
        m.tick(clock)?;
        m.tick(clock)?;
        m.set(reset, 0)?;

        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        let mut current: Vec<u16> = Vec::with_capacity(cfg.d_out);
        let mut cycle = 0u64;
        // What `y_ready` is set to now (written only when it changes).
        let mut taking_now = false;
        while run.outputs.len() < n {
            if cycle >= opts.max_cycles {
                return Err(SimError::Driver(format!(
                    "no progress: {} of {n} tokens done after {cycle} cycles (outputs of the \
                     current token: {})",
                    run.outputs.len(),
                    current.len()
                )));
            }
            if opts.reset_at == Some(cycle) {
                // Nothing transfers while reset is high (docs/interfaces.md).
                m.set(reset, 1)?;
                for s in &mut streams {
                    s.set_valid(&mut m, false)?;
                }
                m.set(y_ready, 0)?;
                taking_now = false;
                m.tick(clock)?;
                m.set(reset, 0)?;
                cycle += 1;
                let token = run.outputs.len();
                for s in &mut streams {
                    s.rewind_to(token);
                }
                run.dropped_outputs += current.len();
                current.clear();
                continue;
            }
            // Without stalls no random number is drawn (the outcome would always be `false`).
            let stall = opts.stall;
            let mut stalled = || stall > 0.0 && rng.random_bool(stall);
            let mut offered = [false; 4];
            for (i, s) in streams.iter_mut().enumerate() {
                offered[i] = s.offer(&mut m, stalled())?;
            }
            let taking = !stalled();
            if taking != taking_now {
                m.set(y_ready, u64::from(taking))?;
                taking_now = taking;
            }
            // The clock falls with the new inputs: one eval settles the combinational outputs
            // (docs/interfaces.md: `ready` and `y_valid` never depend on the same cycle's
            // `valid`/`ready`, but reading them after the inputs are set does not rely on
            // it), and the rising edge is the second and last eval of the cycle.
            m.clock_low(clock)?;
            let mut fired = [false; 4];
            for (f, (s, o)) in fired.iter_mut().zip(streams.iter().zip(offered)) {
                *f = o && m.get(s.ready) == 1;
            }
            let out = (taking && m.get(y_valid) == 1).then(|| m.get(y_data) as u16);
            m.clock_high(clock)?;
            cycle += 1;
            if cycle % PROGRESS_CYCLES == 0 {
                progress(run.outputs.len(), cycle);
            }
            for (s, f) in streams.iter_mut().zip(fired) {
                if f {
                    s.next += 1;
                }
            }
            if let Some(y) = out {
                current.push(y);
                if current.len() == cfg.d_out {
                    run.outputs.push(std::mem::take(&mut current));
                    run.token_end_cycles.push(cycle);
                    progress(run.outputs.len(), cycle);
                    let starts = run.outputs.len();
                    if starts < n
                        && run.trace.is_none()
                        && opts.trace.as_ref().is_some_and(|t| t.from_token == starts)
                    {
                        open_trace(&mut m, &mut run)?;
                    }
                }
            }
        }
        run.cycles = cycle;
        // Close the VCD now so that the caller can read it.
        m.trace_close();
        Ok(run)
    }
}
