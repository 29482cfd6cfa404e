//! Drives the generated HGF core in Verilator: streams the parameters and tokens through its
//! five interfaces (docs/interfaces.md), optionally with random stalls, a reset in the middle
//! of the run and a VCD of chosen tokens, and collects the outputs and the cycles each token
//! took.

use std::path::PathBuf;

use half::f16;
use std::rc::Rc;

use hgf_golden::packing::pack_matrix;
use hgf_golden::streams::{descriptor_beats, factor_beats};
use hgf_golden::{HgfConfig, HgfWeights, Shape};
use hgf_hdl::axis_wrapper::AxisWrapper;
use hgf_hdl::projection_core::MAX_RUN_TOKENS;
use hgf_hdl::readable::plain_name;
use hgf_hdl::schedule::{expected_cycles, ExpectedCycles};
use ndarray::ArrayView2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{BuildOptions, InputGroup, Model, PortId, SimError, VerilatedLib};

/// A stretch of one stream's beats: one period of beats sent `repeats` times.
///
/// Every data port of the core is at most 32 bits wide, so a beat is one word per data
/// port. The weights and factors of a projection repeat for each of its tokens, so a
/// stretch keeps one period (one token's beats) and sends it `repeats` times: long runs
/// cost no memory per token for the parameters.
#[derive(Clone)]
struct Stretch {
    /// One period of beats, one word per data port each, back to back.
    words: Rc<[u32]>,
    repeats: usize,
}

/// The names of one input stream's ports on the top the driver drives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamPorts {
    pub valid: String,
    pub ready: String,
    pub data: DataPorts,
}

/// Where one beat's lanes go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataPorts {
    /// One port per lane, lane 0 first.
    Lanes(Vec<String>),
    /// One bus of `lanes · lane_bits` bits, lane `i` in bits `[i·lane_bits, (i+1)·lane_bits)`.
    Packed {
        port: String,
        lane_bits: u32,
        lanes: usize,
    },
}

/// The names of the output stream's ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputPorts {
    pub valid: String,
    pub ready: String,
    pub data: String,
    /// High on the last output of each token, if the top has it: the driver checks it on
    /// every output.
    pub last: Option<String>,
}

/// How the core's interfaces are named on the top the driver drives: the core itself
/// ([`CorePorts::core`]) or the AXI4-Stream top around it ([`CorePorts::axis`]). One driver
/// serves both; only the names, the reset's level and the packing of the beats differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorePorts {
    /// The top module.
    pub top: String,
    pub clock: String,
    pub reset: String,
    /// The reset is asserted low (`aresetn`).
    pub reset_active_low: bool,
    /// The input streams: descriptor (`s`), activations (`x`), weights (`t`), factors (`f`).
    pub inputs: [StreamPorts; 4],
    pub output: OutputPorts,
    /// High when the core refused a descriptor.
    pub error: String,
}

impl CorePorts {
    /// The core's own ports (docs/interfaces.md): rust-hdl's names through the readable
    /// pass's mapping ([`plain_name`]: `t_data$3` is `t_data_3`).
    pub fn core(cfg: &HgfConfig) -> Self {
        let stream = |name: &str, lanes: usize| StreamPorts {
            valid: format!("{name}_valid"),
            ready: format!("{name}_ready"),
            data: if lanes == 0 {
                DataPorts::Lanes(vec![format!("{name}_data")])
            } else {
                DataPorts::Lanes(
                    (0..lanes)
                        .map(|i| plain_name(&format!("{name}_data${i}")))
                        .collect(),
                )
            },
        };
        CorePorts {
            top: cfg.name.clone(),
            clock: "clock".into(),
            reset: "reset".into(),
            reset_active_low: false,
            inputs: [
                stream("s", 0),
                stream("x", 0),
                stream("t", cfg.weight_beat_bytes()),
                stream("f", cfg.fp_lanes),
            ],
            output: OutputPorts {
                valid: "y_valid".into(),
                ready: "y_ready".into(),
                data: "y_data".into(),
                last: None,
            },
            error: "error".into(),
        }
    }

    /// The ports of the AXI4-Stream top `<name>_axis` ([`hgf_hdl::axis_wrapper`]).
    pub fn axis(cfg: &HgfConfig) -> Self {
        let stream = |name: &str, lane_bits: u32, lanes: usize| StreamPorts {
            valid: format!("s_axis_{name}_tvalid"),
            ready: format!("s_axis_{name}_tready"),
            data: DataPorts::Packed {
                port: format!("s_axis_{name}_tdata"),
                lane_bits,
                lanes,
            },
        };
        CorePorts {
            top: AxisWrapper::top_name(cfg),
            clock: "aclk".into(),
            reset: "aresetn".into(),
            reset_active_low: true,
            inputs: [
                stream("s", 32, 1),
                stream("x", 16, 1),
                stream("t", 8, cfg.weight_beat_bytes()),
                stream("f", 16, cfg.fp_lanes),
            ],
            output: OutputPorts {
                valid: "m_axis_y_tvalid".into(),
                ready: "m_axis_y_tready".into(),
                data: "m_axis_y_tdata".into(),
                last: Some("m_axis_y_tlast".into()),
            },
            error: "error".into(),
        }
    }
}

/// How one input stream's beat reaches the top: one port per lane, or every lane packed into
/// one bus (lane `i` in bits `[i·lane_bits, (i+1)·lane_bits)`, AXI4-Stream's `tdata`).
enum BeatPorts {
    Lanes(InputGroup),
    Packed {
        port: PortId,
        lane_bits: u32,
        lanes: usize,
    },
}

impl BeatPorts {
    fn lanes(&self) -> usize {
        match self {
            BeatPorts::Lanes(group) => group.len(),
            BeatPorts::Packed { lanes, .. } => *lanes,
        }
    }

    /// Puts one beat (one word per lane) on the ports.
    fn set(&self, m: &mut Model, words: &[u32]) -> Result<(), SimError> {
        match self {
            BeatPorts::Lanes(group) => m.set_group(group, words),
            BeatPorts::Packed {
                port, lane_bits, ..
            } => {
                let bits = *lane_bits as usize;
                let mut packed = vec![0u32; (bits * words.len()).div_ceil(32)];
                for (i, &word) in words.iter().enumerate() {
                    if bits < 32 && word >> bits != 0 {
                        return Err(SimError::Driver(format!(
                            "lane {i} value {word:#x} is wider than {bits} bits"
                        )));
                    }
                    for b in 0..bits {
                        if (word >> b) & 1 == 1 {
                            let at = i * bits + b;
                            packed[at / 32] |= 1 << (at % 32);
                        }
                    }
                }
                m.set_wide(*port, &packed)
            }
        }
    }
}

/// One input stream: its ports and the beats still to send, a list of [`Stretch`]es.
struct Stream {
    valid: PortId,
    ready: PortId,
    data: BeatPorts,
    stretches: Vec<Stretch>,
    /// The stretch of the next beat, and the beat's index within it.
    stretch: usize,
    beat: usize,
    /// Beats sent so far over the whole run (the stream's position, for `shown`).
    sent: usize,
    /// The beat on the data ports now, so that a beat offered for several cycles (or a
    /// stall) costs no port writes.
    shown: Option<usize>,
    /// What `valid` is set to now.
    valid_now: bool,
}

impl Stream {
    /// The stream on the ports `ports` names.
    fn new(m: &Model, ports: &StreamPorts) -> Result<Self, SimError> {
        let data = match &ports.data {
            DataPorts::Lanes(names) => {
                let ids: Vec<PortId> = names.iter().map(|n| m.port(n)).collect::<Result<_, _>>()?;
                BeatPorts::Lanes(m.input_group(&ids)?)
            }
            DataPorts::Packed {
                port,
                lane_bits,
                lanes,
            } => BeatPorts::Packed {
                port: m.port(port)?,
                lane_bits: *lane_bits,
                lanes: *lanes,
            },
        };
        Ok(Stream {
            valid: m.port(&ports.valid)?,
            ready: m.port(&ports.ready)?,
            data,
            stretches: Vec::new(),
            stretch: 0,
            beat: 0,
            sent: 0,
            shown: None,
            valid_now: false,
        })
    }

    /// Beats of one period of `stretch`.
    fn period(&self, stretch: &Stretch) -> usize {
        stretch.words.len() / self.data.lanes()
    }

    /// Replaces what is left to send (after a reset, the host sends from a new position).
    fn load(&mut self, stretches: Vec<Stretch>) -> Result<(), SimError> {
        let lanes = self.data.lanes();
        if let Some(bad) = stretches.iter().find(|s| s.words.len() % lanes != 0) {
            return Err(SimError::Driver(format!(
                "{} words do not make whole beats of {lanes} ports",
                bad.words.len()
            )));
        }
        self.stretches = stretches
            .into_iter()
            .filter(|s| s.repeats > 0 && !s.words.is_empty())
            .collect();
        self.stretch = 0;
        self.beat = 0;
        self.shown = None;
        Ok(())
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
        let offered = !stalled && self.stretch < self.stretches.len();
        self.set_valid(m, offered)?;
        if offered && self.shown != Some(self.sent) {
            let lanes = self.data.lanes();
            let stretch = &self.stretches[self.stretch];
            let first = (self.beat % self.period(stretch)) * lanes;
            self.data.set(m, &stretch.words[first..first + lanes])?;
            self.shown = Some(self.sent);
        }
        Ok(offered)
    }

    /// The offered beat was taken.
    fn advance(&mut self) {
        self.sent += 1;
        self.beat += 1;
        let stretch = &self.stretches[self.stretch];
        if self.beat == self.period(stretch) * stretch.repeats {
            self.stretch += 1;
            self.beat = 0;
        }
    }
}

/// One run of tokens of one projection: the weights (whose shape the descriptor carries)
/// and the tokens (`n x d_in`).
#[derive(Clone, Copy, Debug)]
pub struct ProjectionRun<'a> {
    pub weights: &'a HgfWeights,
    pub tokens: ArrayView2<'a, f16>,
}

/// The beats of one [`ProjectionRun`], ready to be streamed from any of its tokens.
struct RunBeats<'a> {
    weights: &'a HgfWeights,
    tokens: usize,
    activations: Rc<[u32]>,
    d_in: usize,
    d_out: usize,
    weight_words: Rc<[u32]>,
    factor_words: Rc<[u32]>,
}

impl<'a> RunBeats<'a> {
    fn new(cfg: &HgfConfig, run: &ProjectionRun<'a>) -> Result<Self, SimError> {
        let w = run.weights;
        let shape = w.projection_shape();
        cfg.check_shape(shape)
            .map_err(|e| SimError::Driver(format!("the core `{}`: {e}", cfg.name)))?;
        if run.tokens.ncols() != shape.d_in {
            return Err(SimError::Driver(format!(
                "tokens have {} values each; the projection's d_in is {}",
                run.tokens.ncols(),
                shape.d_in
            )));
        }
        let layout = cfg.layout(shape);
        // The weight stream of §P3, one word per byte: a beat is its next
        // `weight_beat_bytes` bytes (`hgf_golden::streams::weight_beats`).
        let weight_words: Vec<u32> = pack_matrix(w.t.view(), &layout)
            .map_err(|e| SimError::Driver(e.to_string()))?
            .into_iter()
            .map(u32::from)
            .collect();
        let factor_words: Vec<u32> = factor_beats(&layout, w)
            .iter()
            .flatten()
            .map(|v| u32::from(v.to_bits()))
            .collect();
        Ok(RunBeats {
            weights: w,
            tokens: run.tokens.nrows(),
            activations: run.tokens.iter().map(|v| u32::from(v.to_bits())).collect(),
            d_in: shape.d_in,
            d_out: shape.d_out,
            weight_words: weight_words.into(),
            factor_words: factor_words.into(),
        })
    }

    /// The descriptor of this run's tokens from `first` on.
    fn descriptor(&self, first: usize) -> Rc<[u32]> {
        let tokens = u32::try_from(self.tokens - first).unwrap_or(u32::MAX);
        Rc::from(descriptor_beats(self.weights, tokens).as_slice())
    }
}

/// The four input streams' stretches from token `first` of run `r` on: the host sends the
/// rest of run `r` under a new descriptor, then every later run.
fn stretches_from(runs: &[RunBeats<'_>], r: usize, first: usize) -> [Vec<Stretch>; 4] {
    let mut out: [Vec<Stretch>; 4] = Default::default();
    for (i, run) in runs.iter().enumerate().skip(r) {
        let from = if i == r { first } else { 0 };
        let left = run.tokens - from;
        if left == 0 {
            continue;
        }
        out[0].push(Stretch {
            words: run.descriptor(from),
            repeats: 1,
        });
        out[1].push(Stretch {
            words: Rc::from(&run.activations[from * run.d_in..]),
            repeats: 1,
        });
        out[2].push(Stretch {
            words: run.weight_words.clone(),
            repeats: left,
        });
        out[3].push(Stretch {
            words: run.factor_words.clone(),
            repeats: left,
        });
    }
    out
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
    /// The runs of tokens streamed, in order: each one's projection shape and token count.
    pub runs: Vec<(Shape, usize)>,
    /// Token index at which each run starts again after a reset (`reset_at`): the host sends
    /// a new descriptor there, so that token is a run's first.
    pub restarts: Vec<usize>,
    /// The VCD written, if one was asked for.
    pub trace: Option<PathBuf>,
    /// Beats of the next run's descriptor taken before this run's last output
    /// ([`CoreSession::run`] with the next run's weights).
    pub next_descriptor_sent: usize,
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
    /// What the model expects for the first run's shape.
    pub expected: ExpectedCycles,
    /// What the model expects of each token: the first after reset, the first of each
    /// later run, the steady ones.
    pub expected_per_token: Vec<u64>,
    /// What each token took ([`CoreRun::cycles_per_token`]).
    pub measured: Vec<u64>,
}

impl CycleCheck {
    /// The run's cycles against the model of `cfg`, token by token.
    pub fn new(cfg: &HgfConfig, run: &CoreRun) -> Self {
        let mut expected_per_token = Vec::new();
        for &(shape, tokens) in &run.runs {
            let e = expected_cycles(cfg, shape);
            for i in 0..tokens {
                let first = expected_per_token.is_empty();
                expected_per_token.push(match (first, i) {
                    (true, _) => e.after_reset,
                    (false, 0) => e.first_token,
                    _ => e.steady,
                });
            }
        }
        let first_shape = run.runs.first().map(|r| r.0).unwrap_or(cfg.max_shape());
        Self {
            expected: expected_cycles(cfg, first_shape),
            expected_per_token,
            measured: run.cycles_per_token(),
        }
    }

    /// Every token took exactly the model's cycles.
    pub fn exact(&self) -> bool {
        self.measured == self.expected_per_token
    }
}

impl std::fmt::Display for CycleCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cycles per token measured {:?}, model {:?} (first shape: after reset {}, a run's \
             first token {}, then {}, limited by {:?}; {:?})",
            self.measured,
            self.expected_per_token,
            self.expected.after_reset,
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
    ports: CorePorts,
}

/// Cycles between two calls of [`CoreSim::run_with`]'s `progress` within a token.
pub const PROGRESS_CYCLES: u64 = 1 << 16;

impl CoreSim {
    /// Verilates `verilog` (the core emitted for `cfg`), or reuses the cached model.
    pub fn build(cfg: &HgfConfig, verilog: &str, opts: &BuildOptions) -> Result<Self, SimError> {
        Self::build_top(cfg, verilog, CorePorts::core(cfg), opts)
    }

    /// Verilates `verilog`, a top around the core of `cfg` whose ports `ports` names (the
    /// AXI4-Stream top: [`CorePorts::axis`]), or reuses the cached model.
    pub fn build_top(
        cfg: &HgfConfig,
        verilog: &str,
        ports: CorePorts,
        opts: &BuildOptions,
    ) -> Result<Self, SimError> {
        Ok(CoreSim {
            cfg: cfg.clone(),
            lib: VerilatedLib::build(verilog, &ports.top, opts)?,
            ports,
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
    pub fn run_with(
        &self,
        w: &HgfWeights,
        tokens: ArrayView2<'_, f16>,
        opts: &RunOptions,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<CoreRun, SimError> {
        self.run_sequence(&[ProjectionRun { weights: w, tokens }], opts, progress)
    }

    /// Streams several runs of tokens, each of its own projection shape, back to back
    /// through one fresh model (one reset at the start): each run is a descriptor, then
    /// its tokens (docs/interfaces.md). Outputs come per token, over all runs in order.
    ///
    /// A cycle is two evals of the model ([`Model::clock_low`] with the new inputs, read the
    /// handshakes, [`Model::clock_high`]), and only ports whose value changes are written:
    /// the model's own evaluation is nearly all of the time (`cargo bench -p hgf-sim --bench
    /// core_cycles`).
    pub fn run_sequence(
        &self,
        runs: &[ProjectionRun<'_>],
        opts: &RunOptions,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<CoreRun, SimError> {
        let mut m = Model::new(&self.lib)?;
        self.run_sequence_on(&mut m, runs, opts, progress)
    }

    /// A fresh instance of the verilated core, for a host that drives it itself.
    pub fn model(&self) -> Result<Model, SimError> {
        Model::new(&self.lib)
    }

    /// [`CoreSim::run_sequence`] on an instance that may have run before: the reset at the
    /// start brings it back whatever state it was left in.
    pub fn run_sequence_on(
        &self,
        m: &mut Model,
        runs: &[ProjectionRun<'_>],
        opts: &RunOptions,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<CoreRun, SimError> {
        self.drive(m, runs, opts, progress, Start::Reset, None)
    }

    /// A session on a fresh instance: one run after another, each streamed when the host
    /// has it, with one reset before the first ([`CoreSession`]).
    pub fn session(&self) -> Result<CoreSession<'_>, SimError> {
        Ok(CoreSession {
            sim: self,
            model: self.model()?,
            runs: 0,
            ahead: None,
        })
    }

    fn drive(
        &self,
        m: &mut Model,
        runs: &[ProjectionRun<'_>],
        opts: &RunOptions,
        progress: &mut dyn FnMut(usize, u64),
        start: Start,
        next: Option<&HgfWeights>,
    ) -> Result<CoreRun, SimError> {
        let cfg = &self.cfg;
        if !(0.0..1.0).contains(&opts.stall) {
            return Err(SimError::Driver(format!(
                "stall probability {} is outside 0 <= p < 1",
                opts.stall
            )));
        }
        // A descriptor announces at most MAX_RUN_TOKENS tokens: longer runs go as several.
        let runs: Vec<ProjectionRun<'_>> = runs
            .iter()
            .flat_map(|r| {
                (0..r.tokens.nrows())
                    .step_by(MAX_RUN_TOKENS)
                    .map(move |first| ProjectionRun {
                        weights: r.weights,
                        tokens: r.tokens.slice(ndarray::s![
                            first..(first + MAX_RUN_TOKENS).min(r.tokens.nrows()),
                            ..
                        ]),
                    })
            })
            .collect();
        let beats: Vec<RunBeats> = runs
            .iter()
            .map(|r| RunBeats::new(cfg, r))
            .collect::<Result<_, _>>()?;
        // Token t of the whole sequence: its run, and its index within the run.
        let token_run: Vec<(usize, usize)> = beats
            .iter()
            .enumerate()
            .flat_map(|(r, b)| (0..b.tokens).map(move |i| (r, i)))
            .collect();
        let n = token_run.len();
        let p = &self.ports;
        let clock = m.port(&p.clock)?;
        let reset = m.port(&p.reset)?;
        let (reset_on, reset_off) = if p.reset_active_low { (0, 1) } else { (1, 0) };
        let y_valid = m.port(&p.output.valid)?;
        let y_ready = m.port(&p.output.ready)?;
        let y_data = m.port(&p.output.data)?;
        let y_last = p.output.last.as_ref().map(|n| m.port(n)).transpose()?;
        let error = m.port(&p.error)?;
        let mut streams = [
            Stream::new(m, &p.inputs[0])?,
            Stream::new(m, &p.inputs[1])?,
            Stream::new(m, &p.inputs[2])?,
            Stream::new(m, &p.inputs[3])?,
        ];
        let mut first_stretches = stretches_from(&beats, 0, 0);
        let descriptors = &mut first_stretches[0];
        // The first descriptor's beats that the previous run took ahead are not sent again.
        if let (Start::Continue { descriptor_sent }, Some(first)) = (start, descriptors.first_mut())
        {
            first.words = Rc::from(&first.words[descriptor_sent.min(first.words.len())..]);
        }
        let descriptor_beats: usize = descriptors.iter().map(|s| s.words.len()).sum();
        // The next run's descriptor follows this run's last (the host knows it in advance).
        if let Some(w) = next {
            descriptors.push(Stretch {
                words: Rc::from(descriptor_beats_of(cfg, w, 1)?.as_slice()),
                repeats: 1,
            });
        }
        for (s, stretches) in streams.iter_mut().zip(first_stretches) {
            s.load(stretches)?;
        }

        let mut run = CoreRun {
            runs: runs
                .iter()
                .map(|r| (r.weights.projection_shape(), r.tokens.nrows()))
                .collect(),
            ..CoreRun::default()
        };
        let open_trace = |m: &mut Model, run: &mut CoreRun| -> Result<(), SimError> {
            if let Some(t) = &opts.trace {
                m.trace_open(&t.path)?;
                run.trace = Some(t.path.clone());
            }
            Ok(())
        };
        if opts.trace.as_ref().is_some_and(|t| t.from_token == 0) {
            open_trace(m, &mut run)?;
        }

        // Nothing offered, nothing taken: the streams' and `y_ready`'s shadows start low.
        for s in &mut streams {
            s.set_valid(m, false)?;
        }
        m.set(y_ready, 0)?;
        if start == Start::Reset {
            // Reset for two cycles.
            m.set(reset, reset_on)?;
            m.tick(clock)?;
            m.tick(clock)?;
            m.set(reset, reset_off)?;
        }

        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        let mut current: Vec<u16> = Vec::new();
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
                m.set(reset, reset_on)?;
                for s in &mut streams {
                    s.set_valid(m, false)?;
                }
                m.set(y_ready, 0)?;
                taking_now = false;
                m.tick(clock)?;
                m.set(reset, reset_off)?;
                cycle += 1;
                // The core waits for a descriptor again: the rest of the current run goes
                // under a new one.
                let token = run.outputs.len();
                let (r, i) = token_run[token];
                for (s, stretches) in streams.iter_mut().zip(stretches_from(&beats, r, i)) {
                    s.load(stretches)?;
                }
                run.restarts.push(token);
                run.dropped_outputs += current.len();
                current.clear();
                continue;
            }
            // Without stalls no random number is drawn (the outcome would always be `false`).
            let stall = opts.stall;
            let mut stalled = || stall > 0.0 && rng.random_bool(stall);
            let mut offered = [false; 4];
            for (i, s) in streams.iter_mut().enumerate() {
                offered[i] = s.offer(m, stalled())?;
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
            let out = (taking && m.get(y_valid) == 1)
                .then(|| (m.get(y_data) as u16, y_last.map(|l| m.get(l) == 1)));
            m.clock_high(clock)?;
            cycle += 1;
            if cycle % PROGRESS_CYCLES == 0 {
                progress(run.outputs.len(), cycle);
            }
            for (s, f) in streams.iter_mut().zip(fired) {
                if f {
                    s.advance();
                }
            }
            if m.get(error) == 1 {
                let (r, _) = token_run[run.outputs.len()];
                return Err(SimError::Driver(format!(
                    "the core refused the descriptor of run {r} ({}) at cycle {cycle}",
                    run.runs[r].0
                )));
            }
            if let Some((y, last)) = out {
                current.push(y);
                let (r, _) = token_run[run.outputs.len()];
                let token_ends = current.len() == beats[r].d_out;
                if last.is_some_and(|last| last != token_ends) {
                    return Err(SimError::Driver(format!(
                        "`{}` is {} on output {} of token {} ({} outputs a token)",
                        p.output.last.as_deref().unwrap_or_default(),
                        if token_ends { "low" } else { "high" },
                        current.len() - 1,
                        run.outputs.len(),
                        beats[r].d_out
                    )));
                }
                if current.len() == beats[r].d_out {
                    run.outputs.push(std::mem::take(&mut current));
                    run.token_end_cycles.push(cycle);
                    progress(run.outputs.len(), cycle);
                    let starts = run.outputs.len();
                    if starts < n
                        && run.trace.is_none()
                        && opts.trace.as_ref().is_some_and(|t| t.from_token == starts)
                    {
                        open_trace(m, &mut run)?;
                    }
                }
            }
        }
        run.cycles = cycle;
        run.next_descriptor_sent = streams[0].sent.saturating_sub(descriptor_beats);
        // Close the VCD now so that the caller can read it.
        m.trace_close();
        Ok(run)
    }
}

/// How [`CoreSim::drive`] begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// Two cycles of reset: the instance may be in any state.
    Reset,
    /// No reset: the instance finished its last run (its last output left the core) and waits
    /// for a descriptor, of which the previous run sent `descriptor_sent` beats ahead.
    Continue { descriptor_sent: usize },
}

/// The descriptor beats of a run of `tokens` tokens of `w`, once its shape fits `cfg`.
fn descriptor_beats_of(cfg: &HgfConfig, w: &HgfWeights, tokens: u32) -> Result<Vec<u32>, SimError> {
    cfg.check_shape(w.projection_shape())
        .map_err(|e| SimError::Driver(format!("the core `{}`: {e}", cfg.name)))?;
    Ok(descriptor_beats(w, tokens).to_vec())
}

/// One instance of the core running one run after another, each streamed when the host
/// has it: the way a host that needs a projection's outputs before it knows the next
/// projection's input (a transformer, `hgf infer --rtl`) drives the core.
///
/// The first run starts after a reset, every later one in the cycle after the previous
/// run's last output, with nothing between them: each [`CoreRun`]'s cycles count from
/// there, so a run's first token costs `ExpectedCycles::after_reset` on the first run and
/// `ExpectedCycles::first_token` on every later one
/// ([`hgf_hdl::schedule::expected_cycles`]).
pub struct CoreSession<'s> {
    sim: &'s CoreSim,
    model: Model,
    runs: usize,
    /// The descriptor the last run sent ahead (of one token of these weights' shape), and how
    /// many of its beats the core took.
    ahead: Option<(Vec<u32>, usize)>,
}

impl CoreSession<'_> {
    /// Streams `run` and returns its outputs and cycles. `opts.reset_at` and `opts.trace`
    /// count from the start of this run.
    ///
    /// `next`: the weights of the next run, one token, when the host knows them: its
    /// descriptor then follows this run's on the descriptor stream, as a host that knows
    /// its sequence of shapes sends it (the core's descriptor slice takes its first beat
    /// while this run's last outputs leave, which the cycle model assumes). The next run
    /// must then be one token of that shape.
    pub fn run(
        &mut self,
        run: ProjectionRun<'_>,
        next: Option<&HgfWeights>,
        opts: &RunOptions,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<CoreRun, SimError> {
        let start = match (self.runs, self.ahead.take()) {
            (0, _) => Start::Reset,
            (_, None) => Start::Continue { descriptor_sent: 0 },
            (_, Some((words, descriptor_sent))) => {
                let own =
                    descriptor_beats_of(self.config(), run.weights, run.tokens.nrows() as u32)?;
                if own != words && descriptor_sent > 0 {
                    self.runs = 0;
                    return Err(SimError::Driver(format!(
                        "the run ({}, {} tokens) is not the one whose descriptor the previous \
                         run sent ahead",
                        run.weights.projection_shape(),
                        run.tokens.nrows()
                    )));
                }
                Start::Continue { descriptor_sent }
            }
        };
        let out = self
            .sim
            .drive(&mut self.model, &[run], opts, progress, start, next);
        match &out {
            Ok(r) => {
                self.runs += 1;
                self.ahead = match next {
                    Some(w) => Some((
                        descriptor_beats_of(self.config(), w, 1)?,
                        r.next_descriptor_sent,
                    )),
                    None => None,
                };
            }
            // After an error the instance is in an unknown state: the next run resets it.
            Err(_) => self.runs = 0,
        }
        out
    }

    /// The config the core was emitted for.
    pub fn config(&self) -> &HgfConfig {
        self.sim.config()
    }

    /// Runs streamed so far (since the last reset).
    pub fn runs(&self) -> usize {
        self.runs
    }
}
