//! A whole HGF transformer with every projection on the core (`hgf infer --rtl`).
//!
//! [`RtlBackend`] is the golden transformer's [`ProjectionBackend`] backed by one instance of
//! the verilated core ([`CoreSession`]): each projection of each layer of each position is
//! one run of one token, streamed when the host has its input, and its outputs are compared
//! bit for bit with the golden projection on the same input. [`infer_on_core`] runs the
//! transformer on that backend and, in lockstep, the golden transformer on its own (its own
//! KV cache, the golden projections), and compares every position's logits bit for bit. The
//! first difference of either kind ends the run with an [`InferError`] naming the position,
//! its token, the layer and the projection; the caller can then name the first differing
//! stage of a projection with [`crate::cosim::diagnose_to`] (a VCD of a rerun of that
//! projection alone on a fresh instance).

use std::convert::Infallible;

use half::f16;
use hgf_golden::model::sampling::Sampler;
use hgf_golden::model::{
    GenerateError, GoldenBackend, ProjectionBackend, ProjectionKind, ProjectionSite, Sampling,
    Transformer,
};
use hgf_golden::{run_projection, HgfWeights, Shape};
use hgf_hdl::schedule::expected_cycles;
use ndarray::Array2;
use thiserror::Error;

use crate::core_driver::{CoreSession, CoreSim, ProjectionRun, RunOptions};
use crate::cosim::{compare, Comparison};
use crate::SimError;

/// One projection as the core ran it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectionCycles {
    pub site: ProjectionSite,
    pub shape: Shape,
    /// From the previous projection's last output (from the reset, for the first) to this
    /// one's last output.
    pub cycles: u64,
    /// The cycle model's figure for it: `after_reset` for the session's first projection,
    /// `first_token` for every later one ([`expected_cycles`]).
    pub expected: u64,
}

/// A projection whose outputs differ from the golden projection's.
#[derive(Clone, Debug)]
pub struct ProjectionMismatch {
    pub site: ProjectionSite,
    /// The token at the site's position.
    pub token: u32,
    pub weights: HgfWeights,
    /// The projection's input.
    pub x: Vec<f16>,
    /// The core's outputs against the golden ones (token 0 of a one-token run); `first` is
    /// set.
    pub comparison: Comparison,
}

/// Why a run on the core stopped.
#[derive(Debug, Error)]
pub enum InferError {
    /// The prompt or the number of tokens does not fit the model.
    #[error(transparent)]
    Request(GenerateError<Infallible>),
    /// The core could not run a projection (a shape beyond its maxima, no progress, ...).
    #[error("position {position} (token {token}), layer {layer}, projection {kind}: {error}")]
    Sim {
        position: usize,
        token: u32,
        layer: usize,
        kind: ProjectionKind,
        error: Box<SimError>,
    },
    /// A projection's outputs differ from the golden projection's.
    #[error(
        "position {} (token {}), layer {}, projection {}: output {} is {:#06x} in the RTL, \
         {:#06x} in the golden model ({} of {} outputs differ)",
        .0.site.position,
        .0.token,
        .0.site.layer,
        .0.site.kind,
        .0.comparison.first.map_or(0, |m| m.output),
        .0.comparison.first.map_or(0, |m| m.rtl),
        .0.comparison.first.map_or(0, |m| m.golden),
        .0.comparison.mismatches,
        .0.comparison.outputs_compared
    )]
    ProjectionMismatch(Box<ProjectionMismatch>),
    /// Every projection matched, but a position's logits differ from the golden
    /// transformer's: the host's part differs.
    #[error(
        "position {position} (token {token}): logit {index} is {rtl:#010x} with the core's \
         projections, {golden:#010x} in the golden transformer ({differing} of {vocab} \
         logits differ)"
    )]
    LogitMismatch {
        position: usize,
        token: u32,
        index: usize,
        rtl: u32,
        golden: u32,
        differing: usize,
        vocab: usize,
    },
}

impl InferError {
    /// Whether the run found a difference (rather than failing to run).
    pub fn is_mismatch(&self) -> bool {
        matches!(
            self,
            InferError::ProjectionMismatch(_) | InferError::LogitMismatch { .. }
        )
    }
}

/// Why [`RtlBackend::project`] failed; [`infer_on_core`] adds the token.
#[derive(Debug)]
pub enum BackendError {
    Sim(ProjectionSite, Box<SimError>),
    Mismatch(Box<ProjectionMismatch>),
}

/// The core as a [`ProjectionBackend`]: every projection one run on one instance, checked
/// against the golden projection with the core's `fp_lanes`.
pub struct RtlBackend<'s> {
    session: CoreSession<'s>,
    model: &'s Transformer,
    fp_lanes: usize,
    /// Every projection run so far, in order.
    pub projections: Vec<ProjectionCycles>,
    /// Outputs compared bit for bit so far.
    pub outputs_compared: usize,
    /// Cycles simulated so far.
    pub simulated_cycles: u64,
    /// Test hook: flip the lowest bit of this expected output (site, output index), to show
    /// that a difference stops the run.
    pub flip_expected: Option<(ProjectionSite, usize)>,
}

impl<'s> RtlBackend<'s> {
    /// A backend for `model` on a fresh instance of `sim`.
    pub fn new(sim: &'s CoreSim, model: &'s Transformer) -> Result<Self, SimError> {
        Ok(RtlBackend {
            session: sim.session()?,
            model,
            fp_lanes: sim.config().fp_lanes,
            projections: Vec::new(),
            outputs_compared: 0,
            simulated_cycles: 0,
            flip_expected: None,
        })
    }

    /// The weights of the projection the transformer runs after the one at `site` (§M5's
    /// order: the layer's projections in [`ProjectionKind::ALL`] order, the layers in order,
    /// then the next position's first): the host knows them in advance and sends their
    /// descriptor ahead ([`CoreSession::run`]).
    fn next_weights(&self, site: ProjectionSite) -> &'s HgfWeights {
        let kinds = ProjectionKind::ALL;
        let i = kinds.iter().position(|&k| k == site.kind).unwrap_or(0);
        let (layer, kind) = match kinds.get(i + 1) {
            Some(&k) => (site.layer, k),
            None if site.layer + 1 < self.model.config().n_layers => (site.layer + 1, kinds[0]),
            None => (0, kinds[0]),
        };
        self.model.params().layers[layer].projection(kind)
    }

    /// The engine's `fp_lanes`, which the golden projections take too.
    pub fn fp_lanes(&self) -> usize {
        self.fp_lanes
    }
}

impl ProjectionBackend for RtlBackend<'_> {
    type Error = BackendError;

    fn project(
        &mut self,
        site: ProjectionSite,
        weights: &HgfWeights,
        x: &[f16],
    ) -> Result<Vec<f16>, BackendError> {
        let shape = weights.projection_shape();
        let model = expected_cycles(self.session.config(), shape);
        let expected = if self.session.runs() == 0 {
            model.after_reset
        } else {
            model.first_token
        };
        let tokens =
            Array2::from_shape_vec((1, x.len()), x.to_vec()).expect("one token of x.len() values");
        // No stalls (the cycle model's case); a projection that takes RunOptions'
        // default max_cycles counts as hung.
        let opts = RunOptions::default();
        let run = self
            .session
            .run(
                ProjectionRun {
                    weights,
                    tokens: tokens.view(),
                },
                Some(self.next_weights(site)),
                &opts,
                &mut |_, _| {},
            )
            .map_err(|e| BackendError::Sim(site, Box::new(e)))?;
        self.simulated_cycles += run.cycles;
        self.projections.push(ProjectionCycles {
            site,
            shape,
            cycles: run.first_token_cycles(),
            expected,
        });
        let mut golden: Vec<u16> = run_projection(weights, self.fp_lanes, x)
            .y
            .iter()
            .map(|v| v.to_bits())
            .collect();
        if let Some((_, j)) = self.flip_expected.filter(|(s, _)| *s == site) {
            if let Some(v) = golden.get_mut(j) {
                *v ^= 1;
            }
        }
        let comparison = compare(std::slice::from_ref(&golden), &run.outputs);
        self.outputs_compared += comparison.outputs_compared;
        if comparison.mismatches > 0 {
            return Err(BackendError::Mismatch(Box::new(ProjectionMismatch {
                site,
                token: 0,
                weights: weights.clone(),
                x: x.to_vec(),
                comparison,
            })));
        }
        Ok(golden.into_iter().map(f16::from_bits).collect())
    }
}

/// One position of a run on the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionCycles {
    /// The token fed at this position.
    pub token: u32,
    /// The core's cycles over this position's projections.
    pub cycles: u64,
    /// The cycle model's sum over them.
    pub expected: u64,
}

/// A generation on the core that matched the golden transformer everywhere.
#[derive(Clone, Debug, PartialEq)]
pub struct CoreInference {
    pub generated: Vec<u32>,
    /// The logits that chose each generated token (as [`hgf_golden::model::Generation`]).
    pub logits: Vec<Vec<f32>>,
    /// Every position processed, in order (the prompt's, then the generated tokens' but the
    /// last, which is not fed back).
    pub positions: Vec<PositionCycles>,
    /// Logits compared bit for bit (every processed position's).
    pub logits_compared: usize,
}

/// Processes `prompt` and generates `n` tokens with every projection on `backend`'s core
/// and, in lockstep, with the golden transformer, comparing every projection's outputs and
/// every position's logits bit for bit; stops at the first difference. `progress` gets
/// (positions done, positions in total) after each position.
pub fn infer_on_core(
    model: &Transformer,
    backend: &mut RtlBackend<'_>,
    prompt: &[u32],
    n: usize,
    sampling: Sampling,
    mut progress: impl FnMut(usize, usize),
) -> Result<CoreInference, InferError> {
    model
        .check_request::<Infallible>(prompt, n)
        .map_err(InferError::Request)?;
    let mut golden = GoldenBackend {
        fp_lanes: backend.fp_lanes(),
    };
    let mut rtl_cache = model.new_cache();
    let mut golden_cache = model.new_cache();
    let mut sampler = Sampler::new(sampling);
    let total = prompt.len() + n.saturating_sub(1);
    let mut out = CoreInference {
        generated: Vec::with_capacity(n),
        logits: Vec::with_capacity(n),
        positions: Vec::with_capacity(total),
        logits_compared: 0,
    };
    let mut token = prompt[0];
    for position in 0..total {
        let first_projection = backend.projections.len();
        let rtl = model
            .step(&mut rtl_cache, token, backend)
            .map_err(|e| match e {
                BackendError::Sim(site, error) => InferError::Sim {
                    position: site.position,
                    token,
                    layer: site.layer,
                    kind: site.kind,
                    error,
                },
                BackendError::Mismatch(mut m) => {
                    m.token = token;
                    InferError::ProjectionMismatch(m)
                }
            })?;
        let Ok(reference) = model.step(&mut golden_cache, token, &mut golden);
        let differing: Vec<usize> = (0..reference.logits.len())
            .filter(|&i| rtl.logits[i].to_bits() != reference.logits[i].to_bits())
            .collect();
        if let Some(&index) = differing.first() {
            return Err(InferError::LogitMismatch {
                position,
                token,
                index,
                rtl: rtl.logits[index].to_bits(),
                golden: reference.logits[index].to_bits(),
                differing: differing.len(),
                vocab: reference.logits.len(),
            });
        }
        out.logits_compared += reference.logits.len();
        let ran = &backend.projections[first_projection..];
        out.positions.push(PositionCycles {
            token,
            cycles: ran.iter().map(|p| p.cycles).sum(),
            expected: ran.iter().map(|p| p.expected).sum(),
        });
        progress(position + 1, total);
        token = match prompt.get(position + 1) {
            Some(&t) => t,
            None => {
                let next = sampler.pick(&rtl.logits) as u32;
                out.generated.push(next);
                out.logits.push(rtl.logits);
                next
            }
        };
    }
    Ok(out)
}
