//! The checkpoint: one safetensors file with every tensor of the model, the model config and
//! the tokenizer in its metadata (docs/model.md §M10). Loading checks every name, dtype,
//! shape, trit and F32 value against the config, and each problem is a typed error that
//! names the tensor or the field.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use half::f16;
use ndarray::Array2;
use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};
use thiserror::Error;

use super::config::{AttentionKind, ModelConfig, ModelConfigError, ProjectionKind};
use super::params::{DiffAttnParams, LayerParams, ModelParams};
use super::tokenizer::{CharTokenizer, TokenizerError};
use crate::io::{check_header_bytes, HeaderProblem};
use crate::weights::HgfWeights;

/// `hgf.format` of this layout.
pub const FORMAT: &str = "hgf-model-1";
pub const KEY_FORMAT: &str = "hgf.format";
pub const KEY_CONFIG: &str = "hgf.model_config";
pub const KEY_TOKENIZER: &str = "hgf.tokenizer";

/// A whole model as stored: config, tokenizer and parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub config: ModelConfig,
    pub tokenizer: CharTokenizer,
    pub params: ModelParams,
}

/// A checkpoint problem, with the file it was found in.
#[derive(Debug, Error)]
#[error("checkpoint {}: {problem}", path.display())]
pub struct CheckpointError {
    pub path: PathBuf,
    pub problem: CheckpointProblem,
}

/// What is wrong with a checkpoint. Each names the tensor or the metadata field.
#[derive(Debug, Error)]
pub enum CheckpointProblem {
    #[error("cannot read it: {0}")]
    Read(std::io::Error),
    #[error("cannot write it: {0}")]
    Write(std::io::Error),
    #[error("not a valid safetensors file: {0}")]
    SafeTensors(SafeTensorError),
    #[error("tensor `{tensor}` in the header: {detail}")]
    TensorHeader { tensor: String, detail: String },
    #[error("metadata key `{key}` is missing (a checkpoint has hgf.format, hgf.model_config and hgf.tokenizer)")]
    MissingMetadata { key: &'static str },
    #[error("metadata `hgf.format` is {found:?}; expected \"{FORMAT}\"")]
    Format { found: String },
    #[error("metadata `hgf.model_config`: {0}")]
    Config(ModelConfigError),
    #[error("metadata `hgf.tokenizer`: {0}")]
    Tokenizer(TokenizerError),
    #[error("metadata `hgf.tokenizer` has {vocab} characters but `hgf.model_config` says vocab_size = {vocab_size}")]
    VocabSize { vocab: usize, vocab_size: usize },
    #[error("tensor `{first}` is missing ({count} missing in all)")]
    MissingTensor { first: String, count: usize },
    #[error("tensor `{first}` is not part of this model ({count} unexpected in all){hint}")]
    UnexpectedTensor {
        first: String,
        count: usize,
        hint: &'static str,
    },
    #[error("tensor `{tensor}` has dtype {got:?}; expected {expected:?}")]
    Dtype {
        tensor: String,
        got: Dtype,
        expected: Dtype,
    },
    #[error("tensor `{tensor}` has shape {got:?}; the model config says {expected:?} ({fields})")]
    Shape {
        tensor: String,
        got: Vec<usize>,
        expected: Vec<usize>,
        fields: String,
    },
    #[error("tensor `{tensor}` holds {value} at [{row}, {col}]; a trit is -1, 0 or 1")]
    Trit {
        tensor: String,
        row: usize,
        col: usize,
        value: i8,
    },
    #[error("tensor `{tensor}` holds {value} at index {index}; its values must be finite")]
    NotFinite {
        tensor: String,
        index: usize,
        value: f32,
    },
    #[error("cannot encode the checkpoint: {0}")]
    Encode(SafeTensorError),
}

/// One tensor as bytes, for writing (also deliberately broken files, in tests).
#[derive(Clone, Debug, PartialEq)]
pub struct RawTensor {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

/// What one tensor must be.
struct Expected {
    name: String,
    dtype: Dtype,
    /// `None` for a scalar (shape [] or [1]).
    shape: Option<Vec<usize>>,
    fields: String,
}

fn expected_tensors(cfg: &ModelConfig) -> Vec<Expected> {
    let mut out = Vec::new();
    let mut push = |name: String, dtype, shape: Option<Vec<usize>>, fields: &str| {
        out.push(Expected {
            name,
            dtype,
            shape,
            fields: fields.to_string(),
        })
    };
    let (v, dm) = (cfg.vocab_size, cfg.d_model);
    push(
        "embed".into(),
        Dtype::F16,
        Some(vec![v, dm]),
        "vocab_size, d_model",
    );
    push(
        "head".into(),
        Dtype::F16,
        Some(vec![v, dm]),
        "vocab_size, d_model",
    );
    push("final_norm".into(), Dtype::F32, Some(vec![dm]), "d_model");
    for l in 0..cfg.n_layers {
        push(
            format!("layers.{l}.attn_norm"),
            Dtype::F32,
            Some(vec![dm]),
            "d_model",
        );
        push(
            format!("layers.{l}.ffn_norm"),
            Dtype::F32,
            Some(vec![dm]),
            "d_model",
        );
        for kind in ProjectionKind::ALL {
            let s = cfg.shape(kind);
            let base = projection_prefix(l, kind);
            let fields = shape_fields(cfg, kind);
            push(
                format!("{base}.T"),
                Dtype::I8,
                Some(vec![s.d_out, s.d_in]),
                &fields,
            );
            push(format!("{base}.beta"), Dtype::F32, None, "a scalar");
            if s.rank > 0 {
                let rank_field = format!("projections.{kind}.rank = {}", s.rank);
                push(
                    format!("{base}.A"),
                    Dtype::F16,
                    Some(vec![s.rank, s.d_in]),
                    &format!("{rank_field}; {fields}"),
                );
                push(
                    format!("{base}.B"),
                    Dtype::F16,
                    Some(vec![s.d_out, s.rank]),
                    &format!("{fields}; {rank_field}"),
                );
                push(format!("{base}.gate"), Dtype::F32, None, "a scalar");
            }
        }
        if cfg.attention == AttentionKind::Differential {
            push(
                format!("layers.{l}.attn.lambda"),
                Dtype::F32,
                None,
                "a scalar",
            );
            push(
                format!("layers.{l}.attn.lambda_init"),
                Dtype::F32,
                None,
                "a scalar",
            );
            push(
                format!("layers.{l}.attn.subln"),
                Dtype::F32,
                Some(vec![2 * cfg.head_dim]),
                "2 * head_dim",
            );
        }
    }
    out
}

/// `layers.{l}.attn.q`, `layers.{l}.ffn.down`, ...
pub fn projection_prefix(layer: usize, kind: ProjectionKind) -> String {
    format!("layers.{layer}.{}.{kind}", kind.block())
}

/// The config fields a projection's `[d_out, d_in]` comes from, with their values.
fn shape_fields(cfg: &ModelConfig, kind: ProjectionKind) -> String {
    let c = if cfg.components() == 2 { "2 * " } else { "" };
    let attn = format!(
        "{c}n_heads * head_dim = {c}{} * {}",
        cfg.n_heads, cfg.head_dim
    );
    let kv = format!(
        "{c}n_kv_heads * head_dim = {c}{} * {}",
        cfg.n_kv_heads, cfg.head_dim
    );
    let dm = format!("d_model = {}", cfg.d_model);
    let ffn = format!("ffn_dim = {}", cfg.ffn_dim);
    match kind {
        ProjectionKind::Q => format!("{attn}, {dm}"),
        ProjectionKind::K | ProjectionKind::V => format!("{kv}, {dm}"),
        ProjectionKind::O => format!("{dm}, {attn}"),
        ProjectionKind::Gate | ProjectionKind::Up => format!("{ffn}, {dm}"),
        ProjectionKind::Down => format!("{dm}, {ffn}"),
    }
}

impl Checkpoint {
    /// Reads and checks a checkpoint (§M10).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CheckpointError> {
        let path = path.as_ref();
        let err = |problem| CheckpointError {
            path: path.to_path_buf(),
            problem,
        };
        let bytes = fs::read(path).map_err(|e| err(CheckpointProblem::Read(e)))?;
        Self::from_bytes(&bytes).map_err(err)
    }

    /// Checks and decodes the bytes of a checkpoint file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointProblem> {
        check_header_bytes(bytes).map_err(|problem| match problem {
            HeaderProblem::Overflow => {
                CheckpointProblem::SafeTensors(SafeTensorError::ValidationOverflow)
            }
            HeaderProblem::Tensor { tensor, detail } => {
                CheckpointProblem::TensorHeader { tensor, detail }
            }
        })?;
        let (_, meta) =
            SafeTensors::read_metadata(bytes).map_err(CheckpointProblem::SafeTensors)?;
        let st = SafeTensors::deserialize(bytes).map_err(CheckpointProblem::SafeTensors)?;
        let empty = HashMap::new();
        let meta = meta.metadata().as_ref().unwrap_or(&empty);
        let get = |key: &'static str| {
            meta.get(key)
                .ok_or(CheckpointProblem::MissingMetadata { key })
        };
        let format = get(KEY_FORMAT)?;
        if format != FORMAT {
            return Err(CheckpointProblem::Format {
                found: format.clone(),
            });
        }
        let config = ModelConfig::from_json(get(KEY_CONFIG)?).map_err(CheckpointProblem::Config)?;
        let tokenizer =
            CharTokenizer::from_json(get(KEY_TOKENIZER)?).map_err(CheckpointProblem::Tokenizer)?;
        if tokenizer.len() != config.vocab_size {
            return Err(CheckpointProblem::VocabSize {
                vocab: tokenizer.len(),
                vocab_size: config.vocab_size,
            });
        }
        let tensors = check_tensors(&st, &config)?;
        let params = assemble(&config, &tensors)?;
        Ok(Checkpoint {
            config,
            tokenizer,
            params,
        })
    }

    /// Every tensor of the checkpoint, named and laid out as §M10 says (scalars as shape []).
    pub fn raw_tensors(&self) -> Vec<RawTensor> {
        let cfg = &self.config;
        let mut out = Vec::new();
        let f16s = |a: &Array2<f16>| a.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        let f32s = |a: &[f32]| a.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        let mut push = |name: String, dtype, shape: Vec<usize>, data: Vec<u8>| {
            out.push(RawTensor {
                name,
                dtype,
                shape,
                data,
            })
        };
        let p = &self.params;
        push(
            "embed".into(),
            Dtype::F16,
            p.embed.shape().to_vec(),
            f16s(&p.embed),
        );
        push(
            "head".into(),
            Dtype::F16,
            p.head.shape().to_vec(),
            f16s(&p.head),
        );
        push(
            "final_norm".into(),
            Dtype::F32,
            vec![p.final_norm.len()],
            f32s(&p.final_norm),
        );
        for (l, layer) in p.layers.iter().enumerate() {
            let n = layer.attn_norm.len();
            push(
                format!("layers.{l}.attn_norm"),
                Dtype::F32,
                vec![n],
                f32s(&layer.attn_norm),
            );
            push(
                format!("layers.{l}.ffn_norm"),
                Dtype::F32,
                vec![n],
                f32s(&layer.ffn_norm),
            );
            for kind in ProjectionKind::ALL {
                let w = layer.projection(kind);
                let base = projection_prefix(l, kind);
                let t = w.t.iter().map(|&v| v as u8).collect();
                push(format!("{base}.T"), Dtype::I8, w.t.shape().to_vec(), t);
                push(format!("{base}.beta"), Dtype::F32, vec![], f32s(&[w.beta]));
                if cfg.projections.get(kind).rank > 0 {
                    push(
                        format!("{base}.A"),
                        Dtype::F16,
                        w.a.shape().to_vec(),
                        f16s(&w.a),
                    );
                    push(
                        format!("{base}.B"),
                        Dtype::F16,
                        w.b.shape().to_vec(),
                        f16s(&w.b),
                    );
                    push(format!("{base}.gate"), Dtype::F32, vec![], f32s(&[w.gate]));
                }
            }
            if let Some(d) = &layer.diff {
                push(
                    format!("layers.{l}.attn.lambda"),
                    Dtype::F32,
                    vec![],
                    f32s(&[d.lambda]),
                );
                push(
                    format!("layers.{l}.attn.lambda_init"),
                    Dtype::F32,
                    vec![],
                    f32s(&[d.lambda_init]),
                );
                push(
                    format!("layers.{l}.attn.subln"),
                    Dtype::F32,
                    vec![d.subln.len()],
                    f32s(&d.subln),
                );
            }
        }
        out
    }

    /// The metadata of §M10.
    pub fn metadata(&self) -> HashMap<String, String> {
        HashMap::from([
            (KEY_FORMAT.to_string(), FORMAT.to_string()),
            (KEY_CONFIG.to_string(), self.config.to_json()),
            (KEY_TOKENIZER.to_string(), self.tokenizer.to_json()),
        ])
    }

    /// Writes the checkpoint (through a temporary file and a rename).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
        write_raw(path, &self.raw_tensors(), self.metadata())
    }
}

/// Writes tensors and metadata as a safetensors file, unchecked (tests write broken files
/// with it), through a temporary file beside `path` and a rename: a failed write never
/// leaves a half-written file at `path`.
pub fn write_raw(
    path: impl AsRef<Path>,
    tensors: &[RawTensor],
    metadata: HashMap<String, String>,
) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let err = |problem| CheckpointError {
        path: path.to_path_buf(),
        problem,
    };
    let views = tensors
        .iter()
        .map(|t| {
            Ok((
                t.name.clone(),
                TensorView::new(t.dtype, t.shape.clone(), &t.data)?,
            ))
        })
        .collect::<Result<Vec<_>, SafeTensorError>>()
        .map_err(|e| err(CheckpointProblem::Encode(e)))?;
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| err(CheckpointProblem::Encode(e)))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, bytes)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = fs::remove_file(&tmp);
            err(CheckpointProblem::Write(e))
        })
}

/// Checks the set of names, then each tensor's dtype and shape; returns the views by name.
fn check_tensors<'a>(
    st: &SafeTensors<'a>,
    cfg: &ModelConfig,
) -> Result<BTreeMap<String, TensorView<'a>>, CheckpointProblem> {
    let expected = expected_tensors(cfg);
    let present: BTreeSet<String> = st.names().into_iter().map(str::to_string).collect();
    let wanted: BTreeSet<String> = expected.iter().map(|e| e.name.clone()).collect();
    let missing: Vec<&String> = expected
        .iter()
        .map(|e| &e.name)
        .filter(|n| !present.contains(*n))
        .collect();
    if let Some(first) = missing.first() {
        return Err(CheckpointProblem::MissingTensor {
            first: first.to_string(),
            count: missing.len(),
        });
    }
    let unexpected: Vec<&String> = present.difference(&wanted).collect();
    if let Some(first) = unexpected.first() {
        let hint = if [".A", ".B", ".gate"].iter().any(|s| first.ends_with(s)) {
            " (factors of a projection whose rank is 0 in the model config?)"
        } else {
            ""
        };
        return Err(CheckpointProblem::UnexpectedTensor {
            first: first.to_string(),
            count: unexpected.len(),
            hint,
        });
    }
    let mut views = BTreeMap::new();
    for e in expected {
        let view = st.tensor(&e.name).map_err(CheckpointProblem::SafeTensors)?;
        if view.dtype() != e.dtype {
            return Err(CheckpointProblem::Dtype {
                tensor: e.name,
                got: view.dtype(),
                expected: e.dtype,
            });
        }
        let shape_ok = match &e.shape {
            Some(s) => view.shape() == s.as_slice(),
            None => view.shape().is_empty() || view.shape() == [1],
        };
        if !shape_ok {
            return Err(CheckpointProblem::Shape {
                tensor: e.name,
                got: view.shape().to_vec(),
                expected: e.shape.unwrap_or_default(),
                fields: e.fields,
            });
        }
        views.insert(e.name, view);
    }
    Ok(views)
}

fn f32_values(name: &str, view: &TensorView<'_>) -> Result<Vec<f32>, CheckpointProblem> {
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(CheckpointProblem::NotFinite {
            tensor: name.to_string(),
            index,
            value,
        });
    }
    Ok(values)
}

fn f16_matrix(view: &TensorView<'_>) -> Array2<f16> {
    let shape = view.shape();
    let values = view
        .data()
        .chunks_exact(2)
        .map(|b| f16::from_le_bytes([b[0], b[1]]))
        .collect();
    Array2::from_shape_vec((shape[0], shape[1]), values).expect("the shape was checked")
}

fn trits(name: &str, view: &TensorView<'_>) -> Result<Array2<i8>, CheckpointProblem> {
    let (rows, cols) = (view.shape()[0], view.shape()[1]);
    let values: Vec<i8> = view.data().iter().map(|&b| b as i8).collect();
    if let Some((i, &value)) = values
        .iter()
        .enumerate()
        .find(|(_, v)| !(-1..=1).contains(*v))
    {
        return Err(CheckpointProblem::Trit {
            tensor: name.to_string(),
            row: i / cols.max(1),
            col: i % cols.max(1),
            value,
        });
    }
    Ok(Array2::from_shape_vec((rows, cols), values).expect("the shape was checked"))
}

/// Decodes the checked views into parameters, checking trits and finite F32 values.
fn assemble(
    cfg: &ModelConfig,
    views: &BTreeMap<String, TensorView<'_>>,
) -> Result<ModelParams, CheckpointProblem> {
    let view = |name: &str| &views[name];
    let vec32 = |name: &str| f32_values(name, view(name));
    let scalar = |name: &str| vec32(name).map(|v| v[0]);
    let mut layers = Vec::with_capacity(cfg.n_layers);
    for l in 0..cfg.n_layers {
        let mut projections = Vec::with_capacity(ProjectionKind::ALL.len());
        for kind in ProjectionKind::ALL {
            let base = projection_prefix(l, kind);
            let s = cfg.shape(kind);
            let t = trits(&format!("{base}.T"), view(&format!("{base}.T")))?;
            let beta = scalar(&format!("{base}.beta"))?;
            let (a, b, gate) = if s.rank > 0 {
                (
                    f16_matrix(view(&format!("{base}.A"))),
                    f16_matrix(view(&format!("{base}.B"))),
                    scalar(&format!("{base}.gate"))?,
                )
            } else {
                (
                    Array2::from_elem((0, s.d_in), f16::ZERO),
                    Array2::from_elem((s.d_out, 0), f16::ZERO),
                    0.0,
                )
            };
            projections.push(HgfWeights {
                t,
                beta,
                a,
                b,
                gate,
            });
        }
        let diff = match cfg.attention {
            AttentionKind::Standard => None,
            AttentionKind::Differential => Some(DiffAttnParams {
                lambda: scalar(&format!("layers.{l}.attn.lambda"))?,
                lambda_init: scalar(&format!("layers.{l}.attn.lambda_init"))?,
                subln: vec32(&format!("layers.{l}.attn.subln"))?,
            }),
        };
        layers.push(LayerParams {
            attn_norm: vec32(&format!("layers.{l}.attn_norm"))?,
            ffn_norm: vec32(&format!("layers.{l}.ffn_norm"))?,
            projections,
            diff,
        });
    }
    Ok(ModelParams {
        embed: f16_matrix(view("embed")),
        head: f16_matrix(view("head")),
        final_norm: vec32("final_norm")?,
        layers,
    })
}
