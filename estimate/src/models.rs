//! Transformer models as the estimator sees them: a number of identical layers, each a list of
//! projections (`d_in -> d_out`) that the core runs one after another, some of them hybrid
//! (carrying the low-rank correction at a given rank). Built-in presets, and custom models
//! from TOML files.
//!
//! Only the projections count: embedding lookup, LM head, attention scores, norms and the KV
//! cache are outside the projection core and outside this estimate (docs/estimate.md).

use std::path::Path;

use hgf_golden::config::{MAX_D_IN, MAX_D_OUT};
use hgf_golden::model::ModelConfig;
use hgf_golden::Shape;
use serde::{Deserialize, Serialize};

use crate::error::EstimateError;

/// Largest number of layers a model may have.
pub const MAX_LAYERS: usize = 1024;
/// Longest model name.
pub const MAX_NAME_LEN: usize = 64;

/// The projections of a transformer layer, in the order the core runs them: the golden
/// model's kinds (docs/model.md §M5).
pub use hgf_golden::model::ProjectionKind;

/// Whether every model must have projection `kind`. `gate` is optional: an FFN without a
/// gated linear unit has only `up` and `down`.
fn is_required(kind: ProjectionKind) -> bool {
    kind != ProjectionKind::Gate
}

/// One projection of a layer: its shape and, when it is hybrid, the rank of its low-rank
/// correction (`None`: ternary backbone only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProjectionSpec {
    pub kind: ProjectionKind,
    pub d_in: usize,
    pub d_out: usize,
    pub rank: Option<usize>,
}

impl ProjectionSpec {
    /// The projection's shape as the core takes it at run time: rank 0 when it has no
    /// low-rank correction (a ternary-only projection, docs/arithmetic.md §G2).
    pub fn shape(&self) -> Shape {
        Shape::new(self.d_in, self.d_out, self.rank.unwrap_or(0))
    }

    /// Whether the projection carries the low-rank correction.
    pub fn is_hybrid(&self) -> bool {
        self.rank.is_some()
    }

    /// Ternary weights of the projection (d_in · d_out).
    pub fn ternary_weights(&self) -> u64 {
        self.d_in as u64 * self.d_out as u64
    }

    /// Parameters of A and B (rank · (d_in + d_out)); zero when not hybrid.
    pub fn lowrank_parameters(&self) -> u64 {
        self.rank.unwrap_or(0) as u64 * (self.d_in + self.d_out) as u64
    }
}

/// A model: `layers` identical layers of `projections`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Model {
    /// Short name (`--model NAME`).
    pub name: String,
    /// What the model is.
    pub description: String,
    /// Where the dimensions come from.
    pub source: String,
    /// Which figures are assumptions rather than published (empty when all are published or
    /// the model comes from a file).
    pub assumed: Vec<String>,
    /// Number of transformer layers.
    pub layers: usize,
    /// The projections of one layer, in execution order.
    pub projections: Vec<ProjectionSpec>,
}

/// Names of the built-in models.
pub const PRESETS: [&str; 4] = ["hgf-25m", "bitnet-2b4t", "hgf-1.2b", "hgf-3b"];

/// The projections of a LLaMA-style layer: q and o are `hidden x hidden`, k and v map
/// `hidden` to `kv_dim` (the KV heads times the head dim), the FFN is a gated linear unit
/// of width `ffn`. The projections in `hybrid` carry the low-rank correction at `rank`.
fn llama_layer(
    hidden: usize,
    kv_dim: usize,
    ffn: usize,
    hybrid: &[ProjectionKind],
    rank: usize,
) -> Vec<ProjectionSpec> {
    ProjectionKind::ALL
        .iter()
        .map(|&kind| {
            let (d_in, d_out) = match kind {
                ProjectionKind::Q | ProjectionKind::O => (hidden, hidden),
                ProjectionKind::K | ProjectionKind::V => (hidden, kv_dim),
                ProjectionKind::Gate | ProjectionKind::Up => (hidden, ffn),
                ProjectionKind::Down => (ffn, hidden),
            };
            ProjectionSpec {
                kind,
                d_in,
                d_out,
                rank: hybrid.contains(&kind).then_some(rank),
            }
        })
        .collect()
}

const ATTENTION: [ProjectionKind; 4] = [
    ProjectionKind::Q,
    ProjectionKind::K,
    ProjectionKind::V,
    ProjectionKind::O,
];

impl Model {
    /// The estimator's view of a golden model config (docs/model.md §M1): its layers and
    /// the shape and rank of each of its seven projections.
    pub fn from_model_config(name: &str, description: &str, config: &ModelConfig) -> Model {
        Model {
            name: name.to_string(),
            description: description.to_string(),
            source: name.to_string(),
            assumed: Vec::new(),
            layers: config.n_layers,
            projections: ProjectionKind::ALL
                .iter()
                .map(|&kind| {
                    let shape = config.shape(kind);
                    ProjectionSpec {
                        kind,
                        d_in: shape.d_in,
                        d_out: shape.d_out,
                        rank: (shape.rank > 0).then_some(shape.rank),
                    }
                })
                .collect(),
        }
    }

    /// A built-in model. Sources and assumptions are in each model's `source` and `assumed`
    /// fields and in docs/estimate.md.
    pub fn preset(name: &str) -> Result<Model, EstimateError> {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        match name {
            "hgf-25m" => Ok(Model {
                name: name.into(),
                description: "HGF model of about 25M parameters (TinyStories scale), as in the \
                              HGF paper"
                    .into(),
                source: "HGF paper, arXiv 2602.05269: ~25M parameters, hybrid projections with \
                         a low-rank FP16 correction; every dimension below is assumed \
                         (the paper's dimensions are not available)"
                    .into(),
                assumed: strings(&[
                    "d_model 512",
                    "8 layers",
                    "multi-head attention (k, v 512 -> 512)",
                    "gated FFN of width 1376 (8/3 d_model, rounded up to a multiple of 32)",
                    "hybrid: q, k, v, o at rank 16; FFN ternary only",
                ]),
                layers: 8,
                projections: llama_layer(512, 512, 1376, &ATTENTION, 16),
            }),
            "bitnet-2b4t" => Ok(Model {
                name: name.into(),
                description: "BitNet b1.58 2B4T (pure ternary, no low-rank correction)".into(),
                source: "microsoft/bitnet-b1.58-2B-4T config.json and arXiv 2504.12285: hidden \
                         2560, FFN 6912, 30 layers, 20 heads, 5 KV heads, head dim 128"
                    .into(),
                assumed: Vec::new(),
                layers: 30,
                projections: llama_layer(2560, 5 * 128, 6912, &[], 0),
            }),
            "hgf-1.2b" => Ok(Model {
                name: name.into(),
                description: "HGF model of about 1.2B parameters (the paper's preliminary \
                              scale-up)"
                    .into(),
                source: "HGF paper, arXiv 2602.05269, mentions 1.2B runs without dimensions; \
                         the dimensions below are those of the BitNet b1.58 1.3B reproduction \
                         (1bitLLM/bitnet_b1_58-xl) and are assumed"
                    .into(),
                assumed: strings(&[
                    "hidden 2048",
                    "24 layers",
                    "32 heads, no grouped KV (k, v 2048 -> 2048)",
                    "gated FFN of width 5460",
                    "hybrid: q, k, v, o at rank 64 (d_model / 32, as in hgf-25m)",
                ]),
                layers: 24,
                projections: llama_layer(2048, 2048, 5460, &ATTENTION, 64),
            }),
            "hgf-3b" => Ok(Model {
                name: name.into(),
                description: "HGF model of about 3B parameters (the paper's preliminary \
                              scale-up)"
                    .into(),
                source: "HGF paper, arXiv 2602.05269, mentions 3B runs without dimensions; \
                         the dimensions below are those of the BitNet b1.58 3B reproduction \
                         (1bitLLM/bitnet_b1_58-3B) and are assumed"
                    .into(),
                assumed: strings(&[
                    "hidden 3200",
                    "26 layers",
                    "32 heads, no grouped KV (k, v 3200 -> 3200)",
                    "gated FFN of width 8640",
                    "hybrid: q, k, v, o at rank 100 (d_model / 32, as in hgf-25m)",
                ]),
                layers: 26,
                projections: llama_layer(3200, 3200, 8640, &ATTENTION, 100),
            }),
            other => Err(EstimateError::UnknownModel {
                name: other.to_string(),
                allowed: PRESETS.join(", "),
            }),
        }
    }

    /// Every built-in model, in the order of [`PRESETS`].
    pub fn presets() -> Vec<Model> {
        PRESETS
            .iter()
            .map(|name| Model::preset(name).expect("every preset name is a preset"))
            .collect()
    }

    /// Parses and validates a model from TOML text (format in docs/estimate.md).
    pub fn from_toml_str(text: &str) -> Result<Model, EstimateError> {
        let file: ModelFile = toml::from_str(text).map_err(|e| EstimateError::Syntax {
            path: None,
            message: e.to_string(),
        })?;
        file.resolve()
    }

    /// Reads and validates a model file.
    pub fn load(path: &Path) -> Result<Model, EstimateError> {
        let text = std::fs::read_to_string(path).map_err(|error| EstimateError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Model::from_toml_str(&text).map_err(|e| match e {
            EstimateError::Syntax { message, .. } => EstimateError::Syntax {
                path: Some(path.to_path_buf()),
                message,
            },
            other => EstimateError::InFile {
                path: path.to_path_buf(),
                error: Box::new(other),
            },
        })
    }

    /// Ternary weights of all layers.
    pub fn ternary_weights(&self) -> u64 {
        self.layers as u64
            * self
                .projections
                .iter()
                .map(ProjectionSpec::ternary_weights)
                .sum::<u64>()
    }

    /// Low-rank parameters (A and B) of all layers.
    pub fn lowrank_parameters(&self) -> u64 {
        self.layers as u64
            * self
                .projections
                .iter()
                .map(ProjectionSpec::lowrank_parameters)
                .sum::<u64>()
    }

    /// Which projections are hybrid and at what rank, e.g. `q, k, v, o at rank 16` or `none`.
    pub fn hybrid_summary(&self) -> String {
        let hybrid: Vec<String> = self
            .projections
            .iter()
            .filter_map(|p| p.rank.map(|r| format!("{} (rank {r})", p.kind)))
            .collect();
        if hybrid.is_empty() {
            "none".into()
        } else {
            hybrid.join(", ")
        }
    }
}

/// The TOML file as written. Numbers are read as signed integers so that a negative value
/// gets the same range message as any other bad value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    name: Option<String>,
    description: Option<String>,
    source: Option<String>,
    layers: Option<i64>,
    q: Option<ProjectionFile>,
    k: Option<ProjectionFile>,
    v: Option<ProjectionFile>,
    o: Option<ProjectionFile>,
    gate: Option<ProjectionFile>,
    up: Option<ProjectionFile>,
    down: Option<ProjectionFile>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectionFile {
    d_in: Option<i64>,
    d_out: Option<i64>,
    rank: Option<i64>,
}

/// `value` as a usize in `lo..=hi`, or an error naming `field`.
fn in_range(field: &str, value: i64, lo: usize, hi: usize) -> Result<usize, EstimateError> {
    match usize::try_from(value) {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(EstimateError::OutOfRange {
            field: field.to_string(),
            value: value.to_string(),
            allowed: format!("{lo}..={hi}"),
        }),
    }
}

fn missing(field: &str, required: &str) -> EstimateError {
    EstimateError::Missing {
        field: field.to_string(),
        required: required.to_string(),
    }
}

impl ModelFile {
    fn resolve(self) -> Result<Model, EstimateError> {
        let name = self.name.ok_or_else(|| {
            missing(
                "name",
                "required: a name of letters, digits, `-`, `_` or `.`",
            )
        })?;
        let name_ok = (1..=MAX_NAME_LEN).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(EstimateError::OutOfRange {
                field: "name".into(),
                value: format!("{name:?}"),
                allowed: format!(
                    "1 to {MAX_NAME_LEN} characters, each a letter, digit, `-`, `_` or `.`"
                ),
            });
        }
        let layers = self
            .layers
            .ok_or_else(|| missing("layers", &format!("required: 1..={MAX_LAYERS}")))?;
        let layers = in_range("layers", layers, 1, MAX_LAYERS)?;
        let files = [
            (ProjectionKind::Q, self.q),
            (ProjectionKind::K, self.k),
            (ProjectionKind::V, self.v),
            (ProjectionKind::O, self.o),
            (ProjectionKind::Gate, self.gate),
            (ProjectionKind::Up, self.up),
            (ProjectionKind::Down, self.down),
        ];
        let mut projections = Vec::with_capacity(files.len());
        for (kind, file) in files {
            let Some(file) = file else {
                if is_required(kind) {
                    return Err(missing(
                        kind.name(),
                        "required: tables q, k, v, o, up and down (gate is optional), each \
                         with d_in and d_out, and rank when hybrid",
                    ));
                }
                continue;
            };
            projections.push(file.resolve(kind)?);
        }
        Ok(Model {
            description: self.description.unwrap_or_else(|| "custom model".into()),
            source: self.source.unwrap_or_else(|| "model file".into()),
            name,
            assumed: Vec::new(),
            layers,
            projections,
        })
    }
}

impl ProjectionFile {
    fn resolve(self, kind: ProjectionKind) -> Result<ProjectionSpec, EstimateError> {
        let field = |f: &str| format!("{kind}.{f}");
        let d_in = self
            .d_in
            .ok_or_else(|| missing(&field("d_in"), &format!("required: 1..={MAX_D_IN}")))?;
        let d_in = in_range(&field("d_in"), d_in, 1, MAX_D_IN)?;
        let d_out = self
            .d_out
            .ok_or_else(|| missing(&field("d_out"), &format!("required: 1..={MAX_D_OUT}")))?;
        let d_out = in_range(&field("d_out"), d_out, 1, MAX_D_OUT)?;
        let max_rank = d_in.min(d_out);
        let rank = self
            .rank
            .map(|r| {
                usize::try_from(r)
                    .ok()
                    .filter(|v| (1..=max_rank).contains(v))
                    .ok_or_else(|| EstimateError::OutOfRange {
                        field: field("rank"),
                        value: r.to_string(),
                        allowed: format!(
                            "1..={max_rank} (at most min(d_in, d_out)); leave rank out for a \
                             projection without the low-rank correction"
                        ),
                    })
            })
            .transpose()?;
        Ok(ProjectionSpec {
            kind,
            d_in,
            d_out,
            rank,
        })
    }
}
