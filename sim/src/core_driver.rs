//! Drives the generated HGF core in Verilator: streams the parameters and tokens through its
//! five interfaces (docs/interfaces.md), optionally with random stalls, a reset in the middle
//! of the run and a VCD of chosen tokens, and collects the outputs and the cycles each token
//! took.

use std::path::PathBuf;

use half::f16;
use hgf_golden::streams::{factor_beats, scalar_beats, weight_beats};
use hgf_golden::{HgfConfig, HgfWeights};
use ndarray::ArrayView2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{BuildOptions, Model, PortId, SimError, VerilatedLib};

/// Where a stream's beats come from.
enum Beats {
    /// The same beats for every token (scalars, weights, factors: the core keeps no
    /// parameters between tokens). Stored once, so long runs cost no memory per token.
    Repeated(Vec<u32>),
    /// Different beats per token (the activations), all tokens back to back.
    PerToken(Vec<u32>),
}

/// One input stream: its ports and the beats still to send (over all tokens).
struct Stream {
    valid: PortId,
    ready: PortId,
    /// One data port per lane; every lane of the core's streams is at most 32 bits wide.
    data: Vec<PortId>,
    beats: Beats,
    /// Beats per token.
    per_token: usize,
    /// Beats over the whole run.
    total: usize,
    /// Index of the next beat over the whole run.
    next: usize,
}

impl Stream {
    /// `beats` holds `lanes` words per beat (`lanes == 0`: one port named `<name>_data`).
    fn new(
        m: &Model,
        name: &str,
        lanes: usize,
        beats: Beats,
        tokens: usize,
    ) -> Result<Self, SimError> {
        let data: Vec<PortId> = if lanes == 0 {
            vec![m.port(&format!("{name}_data"))?]
        } else {
            (0..lanes)
                .map(|i| m.port(&format!("{name}_data${i}")))
                .collect::<Result<_, _>>()?
        };
        let words = match &beats {
            Beats::Repeated(w) => w.len(),
            Beats::PerToken(w) => w.len() / tokens.max(1),
        };
        let per_token = words / data.len();
        Ok(Stream {
            valid: m.port(&format!("{name}_valid"))?,
            ready: m.port(&format!("{name}_ready"))?,
            data,
            beats,
            per_token,
            total: per_token * tokens,
            next: 0,
        })
    }

    /// The words of beat `i` of the run.
    fn beat(&self, i: usize) -> &[u32] {
        let lanes = self.data.len();
        let i = match &self.beats {
            Beats::Repeated(_) => i % self.per_token,
            Beats::PerToken(_) => i,
        };
        let words = match &self.beats {
            Beats::Repeated(w) | Beats::PerToken(w) => w,
        };
        &words[i * lanes..(i + 1) * lanes]
    }

    /// Offers the next beat (or nothing) for the coming edge.
    fn offer(&self, m: &mut Model, stalled: bool) -> Result<bool, SimError> {
        let offered = !stalled && self.next < self.total;
        m.set(self.valid, offered as u64)?;
        if offered {
            for (port, &word) in self.data.iter().zip(self.beat(self.next)) {
                m.set(*port, u64::from(word))?;
            }
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

/// The Verilated core of one config.
pub struct CoreSim {
    cfg: HgfConfig,
    lib: VerilatedLib,
}

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
    /// a token's last output leaves the core.
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

        let packed = weight_beats(cfg, w).map_err(|e| SimError::Driver(e.to_string()))?;
        let factors = factor_beats(cfg, w);
        let mut streams = [
            Stream::new(&m, "s", 0, Beats::Repeated(scalar_beats(w).to_vec()), n)?,
            Stream::new(
                &m,
                "x",
                0,
                Beats::PerToken(tokens.iter().map(|v| u32::from(v.to_bits())).collect()),
                n,
            )?,
            Stream::new(
                &m,
                "t",
                cfg.weight_beat_bytes(),
                Beats::Repeated(packed.iter().flatten().map(|&b| u32::from(b)).collect()),
                n,
            )?,
            Stream::new(
                &m,
                "f",
                cfg.fp_lanes,
                Beats::Repeated(
                    factors
                        .iter()
                        .flatten()
                        .map(|v| u32::from(v.to_bits()))
                        .collect(),
                ),
                n,
            )?,
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
        for s in &streams {
            m.set(s.valid, 0)?;
        }
        m.set(y_ready, 0)?;
        m.tick(clock)?;
        m.tick(clock)?;
        m.set(reset, 0)?;

        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        let mut current: Vec<u16> = Vec::with_capacity(cfg.d_out);
        let mut cycle = 0u64;
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
                for s in &streams {
                    m.set(s.valid, 0)?;
                }
                m.set(y_ready, 0)?;
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
            let mut offered = [false; 4];
            for (i, s) in streams.iter().enumerate() {
                offered[i] = s.offer(&mut m, rng.random_bool(opts.stall))?;
            }
            let taking = !rng.random_bool(opts.stall);
            m.set(y_ready, taking as u64)?;
            m.eval();
            let fired: Vec<bool> = streams
                .iter()
                .zip(offered)
                .map(|(s, o)| o && m.get(s.ready) == 1)
                .collect();
            let out = (taking && m.get(y_valid) == 1).then(|| m.get(y_data) as u16);
            m.tick(clock)?;
            cycle += 1;
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
