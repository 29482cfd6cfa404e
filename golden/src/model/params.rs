//! The parameters of a whole model (docs/model.md §M10), as the checkpoint stores them.

use half::f16;
use ndarray::Array2;

use super::config::{AttentionKind, ModelConfig, ProjectionKind};
use crate::weights::HgfWeights;

/// The per-layer scalars and weights of differential attention (§M6.2).
#[derive(Clone, Debug, PartialEq)]
pub struct DiffAttnParams {
    /// λ, already evaluated at export.
    pub lambda: f32,
    /// λ_init of this layer.
    pub lambda_init: f32,
    /// The per-head RMSNorm weights, `2 * head_dim`.
    pub subln: Vec<f32>,
}

/// One transformer block.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerParams {
    pub attn_norm: Vec<f32>,
    pub ffn_norm: Vec<f32>,
    /// The seven projections in [`ProjectionKind::ALL`] order; rank-0 kinds have empty A, B.
    pub projections: Vec<HgfWeights>,
    /// Present exactly when the model uses differential attention.
    pub diff: Option<DiffAttnParams>,
}

impl LayerParams {
    pub fn projection(&self, kind: ProjectionKind) -> &HgfWeights {
        &self.projections[kind.index()]
    }
}

/// Every parameter of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelParams {
    /// `[vocab_size, d_model]`
    pub embed: Array2<f16>,
    /// `[vocab_size, d_model]`
    pub head: Array2<f16>,
    pub final_norm: Vec<f32>,
    pub layers: Vec<LayerParams>,
}

impl ModelParams {
    /// Whether every tensor has the shape the config gives it (the checkpoint loader checks
    /// each one with a precise message; this is the invariant the transformer relies on).
    pub fn fits(&self, cfg: &ModelConfig) -> bool {
        let dm = cfg.d_model;
        let table = [cfg.vocab_size, dm];
        self.embed.shape() == table
            && self.head.shape() == table
            && self.final_norm.len() == dm
            && self.layers.len() == cfg.n_layers
            && self.layers.iter().all(|l| {
                l.attn_norm.len() == dm
                    && l.ffn_norm.len() == dm
                    && l.projections.len() == ProjectionKind::ALL.len()
                    && ProjectionKind::ALL.iter().all(|&kind| {
                        let s = cfg.shape(kind);
                        l.projection(kind).shape() == (s.d_in, s.d_out, s.rank)
                            && l.projection(kind).validate().is_ok()
                    })
                    && match (&l.diff, cfg.attention) {
                        (None, AttentionKind::Standard) => true,
                        (Some(d), AttentionKind::Differential) => d.subln.len() == 2 * cfg.head_dim,
                        _ => false,
                    }
            })
    }
}
