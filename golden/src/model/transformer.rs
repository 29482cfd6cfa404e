//! The forward pass of docs/model.md §M5 with a KV cache, and generation (§M8, §M9).
//!
//! Every projection goes through a [`ProjectionBackend`]: the golden projection by default,
//! and later the RTL core (`hgf infer --rtl`), which sees each projection's site (position,
//! layer, kind), weights and binary16 input, and returns the binary16 output.

use std::convert::Infallible;

use half::f16;
use thiserror::Error;

use super::attention::{attend, LayerCache};
use super::config::{ModelConfig, ProjectionKind};
use super::math::{dot32, rmsnorm, silu32};
use super::params::ModelParams;
use super::rope::RopeTable;
use super::sampling::{Sampler, Sampling};
use crate::fp::{add_f32, f16_to_f32, f32_to_f16, mul_f32};
use crate::projection::run_projection;
use crate::weights::HgfWeights;

/// Where a projection runs: the position of the token, the layer and the kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectionSite {
    pub position: usize,
    pub layer: usize,
    pub kind: ProjectionKind,
}

/// What computes the projections (arithmetic.md §1 on one binary16 token).
pub trait ProjectionBackend {
    type Error;
    /// `y` (d_out values) of the projection `weights` on `x` (d_in values) at `site`.
    fn project(
        &mut self,
        site: ProjectionSite,
        weights: &HgfWeights,
        x: &[f16],
    ) -> Result<Vec<f16>, Self::Error>;
}

/// The golden projection ([`run_projection`]) with the engine's `fp_lanes` (§M2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoldenBackend {
    pub fp_lanes: usize,
}

/// `fp_lanes` of the `default` preset, the golden transformer's default.
pub const DEFAULT_FP_LANES: usize = 4;

impl Default for GoldenBackend {
    fn default() -> Self {
        GoldenBackend {
            fp_lanes: DEFAULT_FP_LANES,
        }
    }
}

impl ProjectionBackend for GoldenBackend {
    type Error = Infallible;
    fn project(
        &mut self,
        _site: ProjectionSite,
        weights: &HgfWeights,
        x: &[f16],
    ) -> Result<Vec<f16>, Infallible> {
        Ok(run_projection(weights, self.fp_lanes, x).y)
    }
}

/// One projection's input and output, as a [`Recorder`] keeps them.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionRecord {
    pub site: ProjectionSite,
    pub x: Vec<f16>,
    pub y: Vec<f16>,
}

/// A backend that runs another and keeps every projection's input and output.
#[derive(Clone, Debug)]
pub struct Recorder<B> {
    pub inner: B,
    pub records: Vec<ProjectionRecord>,
}

impl<B> Recorder<B> {
    pub fn new(inner: B) -> Self {
        Recorder {
            inner,
            records: Vec::new(),
        }
    }
}

impl<B: ProjectionBackend> ProjectionBackend for Recorder<B> {
    type Error = B::Error;
    fn project(
        &mut self,
        site: ProjectionSite,
        weights: &HgfWeights,
        x: &[f16],
    ) -> Result<Vec<f16>, B::Error> {
        let y = self.inner.project(site, weights, x)?;
        self.records.push(ProjectionRecord {
            site,
            x: x.to_vec(),
            y: y.clone(),
        });
        Ok(y)
    }
}

/// A model ready to run: config, parameters and the RoPE table.
#[derive(Clone, Debug)]
pub struct Transformer {
    config: ModelConfig,
    params: ModelParams,
    rope: RopeTable,
}

/// The keys and values of every layer so far; its length is the next position.
#[derive(Clone, Debug, PartialEq)]
pub struct KvCache {
    layers: Vec<LayerCache>,
}

impl KvCache {
    /// Positions held (the position of the next token).
    pub fn len(&self) -> usize {
        self.layers.first().map_or(0, LayerCache::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One token's results.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenOutput {
    /// binary32 logits, `vocab_size` (§M5 step 4).
    pub logits: Vec<f32>,
    /// The normalised final hidden state `zf` the head reads (§M5 step 3).
    pub final_hidden: Vec<f16>,
}

/// Why a generation cannot run.
#[derive(Debug, Error, PartialEq)]
pub enum GenerateError<E> {
    #[error("the prompt is empty; it needs at least one token")]
    EmptyPrompt,
    #[error("the prompt ({prompt} tokens) and {generate} generated tokens need {needed} positions; the model's context_len is {context_len}")]
    ContextTooLong {
        prompt: usize,
        generate: usize,
        needed: usize,
        context_len: usize,
    },
    #[error("token id {id} at prompt position {position} is outside the vocabulary ({vocab_size} tokens)")]
    TokenOutOfRange {
        id: u32,
        position: usize,
        vocab_size: usize,
    },
    #[error(transparent)]
    Backend(E),
}

/// The result of a generation.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    pub prompt: Vec<u32>,
    pub generated: Vec<u32>,
    /// The logits that chose each generated token (positions prompt_len−1, …), one per
    /// generated token.
    pub logits: Vec<Vec<f32>>,
}

impl Transformer {
    /// Builds the RoPE table. The parameters must fit the config (the checkpoint loader and
    /// the random model guarantee it).
    pub fn new(config: ModelConfig, params: ModelParams) -> Self {
        assert!(params.fits(&config), "the parameters fit the config");
        let rope = RopeTable::new(config.head_dim, config.context_len, config.rope_base);
        Transformer {
            config,
            params,
            rope,
        }
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    pub fn params(&self) -> &ModelParams {
        &self.params
    }

    /// An empty KV cache for this model.
    pub fn new_cache(&self) -> KvCache {
        let k = self.config.shape(ProjectionKind::K).d_out;
        let v = self.config.shape(ProjectionKind::V).d_out;
        KvCache {
            layers: (0..self.config.n_layers)
                .map(|_| LayerCache::new(k, v))
                .collect(),
        }
    }

    /// Runs token `token` at position `cache.len()` (§M5) and appends its keys and values.
    pub fn step<B: ProjectionBackend>(
        &self,
        cache: &mut KvCache,
        token: u32,
        backend: &mut B,
    ) -> Result<TokenOutput, B::Error> {
        let cfg = &self.config;
        let p = cache.len();
        assert!(p < cfg.context_len, "the position is inside the context");
        assert!(
            (token as usize) < cfg.vocab_size,
            "the token is in the vocabulary"
        );
        let d = cfg.head_dim;
        let mut h: Vec<f32> = self
            .params
            .embed
            .row(token as usize)
            .iter()
            .map(|&x| f16_to_f32(x))
            .collect();
        for (l, layer) in self.params.layers.iter().enumerate() {
            let mut project = |kind: ProjectionKind, x: &[f16]| {
                let site = ProjectionSite {
                    position: p,
                    layer: l,
                    kind,
                };
                let y = backend.project(site, layer.projection(kind), x)?;
                assert_eq!(
                    y.len(),
                    cfg.shape(kind).d_out,
                    "a backend returns d_out values"
                );
                Ok::<_, B::Error>(y)
            };
            let a = to_f16(&rmsnorm(&h, &layer.attn_norm, cfg.norm_eps));
            let q = project(ProjectionKind::Q, &a)?;
            let k = project(ProjectionKind::K, &a)?;
            let v = project(ProjectionKind::V, &a)?;
            let q_rot: Vec<f32> = q
                .chunks_exact(d)
                .flat_map(|hd| self.rope.rotate(p, hd))
                .collect();
            let k_rot: Vec<f16> = k
                .chunks_exact(d)
                .flat_map(|hd| self.rope.rotate(p, hd))
                .map(f32_to_f16)
                .collect();
            let lc = &mut cache.layers[l];
            lc.push(&k_rot, &v);
            let c = attend(cfg, lc, &q_rot, layer.diff.as_ref());
            let o = project(ProjectionKind::O, &c)?;
            add_residual(&mut h, &o);
            let f = to_f16(&rmsnorm(&h, &layer.ffn_norm, cfg.norm_eps));
            let g1 = project(ProjectionKind::Gate, &f)?;
            let u1 = project(ProjectionKind::Up, &f)?;
            let m: Vec<f16> = g1
                .iter()
                .zip(&u1)
                .map(|(&g, &u)| f32_to_f16(mul_f32(silu32(f16_to_f32(g)), f16_to_f32(u))))
                .collect();
            let dn = project(ProjectionKind::Down, &m)?;
            add_residual(&mut h, &dn);
        }
        let zf = to_f16(&rmsnorm(&h, &self.params.final_norm, cfg.norm_eps));
        let z32: Vec<f32> = zf.iter().map(|&x| f16_to_f32(x)).collect();
        let logits = self
            .params
            .head
            .rows()
            .into_iter()
            .map(|row| {
                let w: Vec<f32> = row.iter().map(|&x| f16_to_f32(x)).collect();
                dot32(&w, &z32)
            })
            .collect();
        Ok(TokenOutput {
            logits,
            final_hidden: zf,
        })
    }

    /// Checks that `prompt` plus `n` generated tokens fit the model (§M9).
    pub fn check_request<E>(&self, prompt: &[u32], n: usize) -> Result<(), GenerateError<E>> {
        let cfg = &self.config;
        if prompt.is_empty() {
            return Err(GenerateError::EmptyPrompt);
        }
        if let Some((position, &id)) = prompt
            .iter()
            .enumerate()
            .find(|(_, &t)| t as usize >= cfg.vocab_size)
        {
            return Err(GenerateError::TokenOutOfRange {
                id,
                position,
                vocab_size: cfg.vocab_size,
            });
        }
        let needed = prompt.len().saturating_add(n);
        if needed > cfg.context_len {
            return Err(GenerateError::ContextTooLong {
                prompt: prompt.len(),
                generate: n,
                needed,
                context_len: cfg.context_len,
            });
        }
        Ok(())
    }

    /// Processes the prompt and generates `n` tokens (§M5, §M8). `progress` is called after
    /// each processed position with (positions done, positions in total).
    pub fn generate<B: ProjectionBackend>(
        &self,
        prompt: &[u32],
        n: usize,
        sampling: Sampling,
        backend: &mut B,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Generation, GenerateError<B::Error>> {
        self.check_request(prompt, n)?;
        let mut cache = self.new_cache();
        let mut sampler = Sampler::new(sampling);
        let total = prompt.len() + n.saturating_sub(1);
        let mut generated = Vec::with_capacity(n);
        let mut all_logits = Vec::with_capacity(n);
        let mut out = None;
        for &t in prompt {
            out = Some(
                self.step(&mut cache, t, backend)
                    .map_err(GenerateError::Backend)?,
            );
            progress(cache.len(), total);
        }
        for i in 0..n {
            let logits = out.take().expect("a position was processed").logits;
            let next = sampler.pick(&logits) as u32;
            generated.push(next);
            all_logits.push(logits);
            if i + 1 < n {
                out = Some(
                    self.step(&mut cache, next, backend)
                        .map_err(GenerateError::Backend)?,
                );
                progress(cache.len(), total);
            }
        }
        Ok(Generation {
            prompt: prompt.to_vec(),
            generated,
            logits: all_logits,
        })
    }
}

fn to_f16(x: &[f32]) -> Vec<f16> {
    x.iter().map(|&v| f32_to_f16(v)).collect()
}

/// `h_i = fl32(h_i + f32(y_i))`.
fn add_residual(h: &mut [f32], y: &[f16]) {
    h.iter_mut()
        .zip(y)
        .for_each(|(hi, &yi)| *hi = add_f32(*hi, f16_to_f32(yi)));
}
