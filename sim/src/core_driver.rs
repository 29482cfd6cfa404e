//! Drives the generated HGF core in Verilator: streams the parameters and tokens through its
//! five interfaces (docs/interfaces.md), optionally with random stalls, and collects the
//! outputs and the cycles each token took.

use half::f16;
use hgf_golden::streams::{factor_beats, scalar_beats, weight_beats};
use hgf_golden::{HgfConfig, HgfWeights};
use ndarray::ArrayView2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{BuildOptions, Model, PortId, SimError, VerilatedLib};

/// One input stream: its ports and the beats still to send (over all tokens).
struct Stream {
    valid: PortId,
    ready: PortId,
    data: Vec<PortId>,
    /// Each beat is one word per data port (wide ports take several 32-bit words).
    beats: Vec<Vec<Vec<u32>>>,
    next: usize,
}

impl Stream {
    fn new(
        m: &Model,
        name: &str,
        lanes: usize,
        beats: Vec<Vec<Vec<u32>>>,
    ) -> Result<Self, SimError> {
        let data = if lanes == 0 {
            vec![m.port(&format!("{name}_data"))?]
        } else {
            (0..lanes)
                .map(|i| m.port(&format!("{name}_data${i}")))
                .collect::<Result<_, _>>()?
        };
        Ok(Stream {
            valid: m.port(&format!("{name}_valid"))?,
            ready: m.port(&format!("{name}_ready"))?,
            data,
            beats,
            next: 0,
        })
    }

    /// Offers the next beat (or nothing) for the coming edge.
    fn offer(&self, m: &mut Model, stalled: bool) -> Result<bool, SimError> {
        let offered = !stalled && self.next < self.beats.len();
        m.set(self.valid, offered as u64)?;
        if offered {
            for (port, words) in self.data.iter().zip(&self.beats[self.next]) {
                m.set_wide(*port, words)?;
            }
        }
        Ok(offered)
    }
}

/// What a co-simulation run produced.
#[derive(Clone, Debug, Default)]
pub struct CoreRun {
    /// Outputs per token, binary16 bit patterns.
    pub outputs: Vec<Vec<u16>>,
    /// Clock cycle at which each token's last output left the core.
    pub token_end_cycles: Vec<u64>,
    /// Total cycles simulated.
    pub cycles: u64,
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
        let cfg = &self.cfg;
        let n = tokens.nrows();
        let mut m = Model::new(&self.lib)?;
        let clock = m.port("clock")?;
        let reset = m.port("reset")?;
        let y_valid = m.port("y_valid")?;
        let y_ready = m.port("y_ready")?;
        let y_data = m.port("y_data")?;

        let per_token = |f: &dyn Fn() -> Vec<Vec<Vec<u32>>>| -> Vec<Vec<Vec<u32>>> {
            (0..n).flat_map(|_| f()).collect()
        };
        let scalars = scalar_beats(w);
        let s_beats = per_token(&|| scalars.iter().map(|&b| vec![vec![b]]).collect());
        let x_beats: Vec<Vec<Vec<u32>>> = tokens
            .iter()
            .map(|v| vec![vec![u32::from(v.to_bits())]])
            .collect();
        let packed = weight_beats(cfg, w).map_err(|e| SimError::Driver(e.to_string()))?;
        let t_beats = per_token(&|| {
            packed
                .iter()
                .map(|beat| beat.iter().map(|&b| vec![u32::from(b)]).collect())
                .collect()
        });
        let factors = factor_beats(cfg, w);
        let f_beats = per_token(&|| {
            factors
                .iter()
                .map(|beat| beat.iter().map(|v| vec![u32::from(v.to_bits())]).collect())
                .collect()
        });
        let mut streams = [
            Stream::new(&m, "s", 0, s_beats)?,
            Stream::new(&m, "x", 0, x_beats)?,
            Stream::new(&m, "t", cfg.weight_beat_bytes(), t_beats)?,
            Stream::new(&m, "f", cfg.fp_lanes, f_beats)?,
        ];

        // Reset for two cycles.
        m.set(reset, 1)?;
        for s in &streams {
            m.set(s.valid, 0)?;
        }
        m.set(y_ready, 0)?;
        m.tick(clock)?;
        m.tick(clock)?;
        m.set(reset, 0)?;

        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut run = CoreRun::default();
        let mut current: Vec<u16> = Vec::with_capacity(cfg.d_out);
        let mut cycle = 0u64;
        while run.outputs.len() < n {
            if cycle >= max_cycles {
                return Err(SimError::Driver(format!(
                    "no progress: {} of {n} tokens done after {cycle} cycles (outputs of the \
                     current token: {})",
                    run.outputs.len(),
                    current.len()
                )));
            }
            let mut offered = [false; 4];
            for (i, s) in streams.iter().enumerate() {
                offered[i] = s.offer(&mut m, rng.random_bool(stall))?;
            }
            let taking = !rng.random_bool(stall);
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
                }
            }
        }
        run.cycles = cycle;
        Ok(run)
    }
}
