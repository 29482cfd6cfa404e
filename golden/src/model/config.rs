//! The model config (docs/model.md §M1) and the projection shapes it implies (§M2).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Upper limit of every width of the model (§M1): keeps allocations sane and every projection's
/// `d_in` far inside arithmetic.md §T3's bound.
pub const MAX_WIDTH: usize = 65536;
/// Upper limit of `context_len`: the RoPE angle range reduction is exact below it (§M3.3).
pub const MAX_CONTEXT: usize = 4096;
/// Upper limit of `n_layers`.
pub const MAX_LAYERS: usize = 1024;

/// Standard multi-head (grouped-query) attention or differential attention (§M6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttentionKind {
    Standard,
    Differential,
}

/// The seven projections of a layer, in the order a token runs them (§M5). The estimator's
/// models (`hgf estimate`) use the same kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectionKind {
    Q,
    K,
    V,
    O,
    Gate,
    Up,
    Down,
}

impl ProjectionKind {
    pub const ALL: [ProjectionKind; 7] = [
        ProjectionKind::Q,
        ProjectionKind::K,
        ProjectionKind::V,
        ProjectionKind::O,
        ProjectionKind::Gate,
        ProjectionKind::Up,
        ProjectionKind::Down,
    ];

    /// The name in the config and in tensor names (`q`, …, `down`).
    pub fn name(self) -> &'static str {
        match self {
            ProjectionKind::Q => "q",
            ProjectionKind::K => "k",
            ProjectionKind::V => "v",
            ProjectionKind::O => "o",
            ProjectionKind::Gate => "gate",
            ProjectionKind::Up => "up",
            ProjectionKind::Down => "down",
        }
    }

    /// The block of the layer the projection belongs to, as in tensor names (`attn`, `ffn`).
    pub fn block(self) -> &'static str {
        match self {
            ProjectionKind::Q | ProjectionKind::K | ProjectionKind::V | ProjectionKind::O => "attn",
            ProjectionKind::Gate | ProjectionKind::Up | ProjectionKind::Down => "ffn",
        }
    }

    /// Index in [`ProjectionKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for ProjectionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The rank of one projection kind: 0 is ternary-only, more is hybrid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionSpec {
    pub rank: usize,
}

/// The rank of every projection kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionSpecs {
    pub q: ProjectionSpec,
    pub k: ProjectionSpec,
    pub v: ProjectionSpec,
    pub o: ProjectionSpec,
    pub gate: ProjectionSpec,
    pub up: ProjectionSpec,
    pub down: ProjectionSpec,
}

impl ProjectionSpecs {
    pub fn get(&self, kind: ProjectionKind) -> ProjectionSpec {
        match kind {
            ProjectionKind::Q => self.q,
            ProjectionKind::K => self.k,
            ProjectionKind::V => self.v,
            ProjectionKind::O => self.o,
            ProjectionKind::Gate => self.gate,
            ProjectionKind::Up => self.up,
            ProjectionKind::Down => self.down,
        }
    }
}

/// A decoder-only HGF transformer's shape (§M1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub n_layers: usize,
    pub d_model: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub ffn_dim: usize,
    pub vocab_size: usize,
    pub context_len: usize,
    pub norm_eps: f32,
    pub rope_base: f32,
    pub attention: AttentionKind,
    pub projections: ProjectionSpecs,
}

/// The shape of one projection of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectionShape {
    pub d_in: usize,
    pub d_out: usize,
    pub rank: usize,
}

/// Why a model config is not valid. Each names the field.
#[derive(Debug, Error, PartialEq)]
pub enum ModelConfigError {
    #[error("model config field `{field}` is {value}; {rule}")]
    Field {
        field: &'static str,
        value: String,
        rule: String,
    },
    #[error("model config: `projections.{kind}.rank` is {rank}; it must be at most min(d_in, d_out) = {limit} ({d_in} x {d_out})")]
    Rank {
        kind: ProjectionKind,
        rank: usize,
        d_in: usize,
        d_out: usize,
        limit: usize,
    },
    #[error("model config: {detail}")]
    Parse { detail: String },
    #[error("unknown built-in model config `{name}` (built-in: {allowed})")]
    UnknownBuiltin { name: String, allowed: String },
}

/// Names of the built-in model configs.
pub const BUILTIN_MODELS: [&str; 2] = ["tiny", "tiny-diff"];

fn field_error(field: &'static str, value: impl ToString, rule: impl ToString) -> ModelConfigError {
    ModelConfigError::Field {
        field,
        value: value.to_string(),
        rule: rule.to_string(),
    }
}

impl ModelConfig {
    /// A built-in config (§M1): `tiny` (standard attention) or `tiny-diff` (differential).
    pub fn builtin(name: &str) -> Result<Self, ModelConfigError> {
        let spec = |rank| ProjectionSpec { rank };
        let tiny = ModelConfig {
            n_layers: 2,
            d_model: 64,
            n_heads: 4,
            n_kv_heads: 2,
            head_dim: 16,
            ffn_dim: 128,
            vocab_size: 48,
            context_len: 128,
            norm_eps: 1e-5,
            rope_base: 10000.0,
            attention: AttentionKind::Standard,
            projections: ProjectionSpecs {
                q: spec(8),
                k: spec(8),
                v: spec(0),
                o: spec(8),
                gate: spec(0),
                up: spec(0),
                down: spec(4),
            },
        };
        match name {
            "tiny" => Ok(tiny),
            "tiny-diff" => Ok(ModelConfig {
                n_heads: 2,
                n_kv_heads: 1,
                attention: AttentionKind::Differential,
                ..tiny
            }),
            other => Err(ModelConfigError::UnknownBuiltin {
                name: other.to_string(),
                allowed: BUILTIN_MODELS.join(", "),
            }),
        }
    }

    /// Parses and validates a TOML config.
    pub fn from_toml(text: &str) -> Result<Self, ModelConfigError> {
        let cfg: ModelConfig = toml::from_str(text).map_err(|e| ModelConfigError::Parse {
            detail: e.message().to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses and validates a JSON config (the checkpoint's `hgf.model_config`).
    pub fn from_json(text: &str) -> Result<Self, ModelConfigError> {
        let cfg: ModelConfig = serde_json::from_str(text).map_err(|e| ModelConfigError::Parse {
            detail: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model config serializes")
    }

    /// Query heads per KV head (G of §M2).
    pub fn group_size(&self) -> usize {
        self.n_heads / self.n_kv_heads
    }

    /// How many attention components a head has: 1 (standard) or 2 (differential).
    pub fn components(&self) -> usize {
        match self.attention {
            AttentionKind::Standard => 1,
            AttentionKind::Differential => 2,
        }
    }

    /// The shape of one projection kind (§M2).
    pub fn shape(&self, kind: ProjectionKind) -> ProjectionShape {
        let c = self.components();
        let attn = c * self.n_heads * self.head_dim;
        let kv = c * self.n_kv_heads * self.head_dim;
        let (d_in, d_out) = match kind {
            ProjectionKind::Q => (self.d_model, attn),
            ProjectionKind::K | ProjectionKind::V => (self.d_model, kv),
            ProjectionKind::O => (attn, self.d_model),
            ProjectionKind::Gate | ProjectionKind::Up => (self.d_model, self.ffn_dim),
            ProjectionKind::Down => (self.ffn_dim, self.d_model),
        };
        ProjectionShape {
            d_in,
            d_out,
            rank: self.projections.get(kind).rank,
        }
    }

    /// Checks every rule of §M1.
    pub fn validate(&self) -> Result<(), ModelConfigError> {
        let ranges: [(&'static str, usize, usize); 8] = [
            ("n_layers", self.n_layers, MAX_LAYERS),
            ("d_model", self.d_model, MAX_WIDTH),
            ("n_heads", self.n_heads, MAX_WIDTH),
            ("n_kv_heads", self.n_kv_heads, MAX_WIDTH),
            ("head_dim", self.head_dim, MAX_WIDTH),
            ("ffn_dim", self.ffn_dim, MAX_WIDTH),
            ("vocab_size", self.vocab_size, MAX_WIDTH),
            ("context_len", self.context_len, MAX_CONTEXT),
        ];
        for (field, value, max) in ranges {
            if value == 0 || value > max {
                return Err(field_error(field, value, format!("it must be 1 ..= {max}")));
            }
        }
        if self.n_heads % self.n_kv_heads != 0 {
            return Err(field_error(
                "n_kv_heads",
                self.n_kv_heads,
                format!("it must divide n_heads = {}", self.n_heads),
            ));
        }
        if self.head_dim % 2 != 0 {
            return Err(field_error(
                "head_dim",
                self.head_dim,
                "it must be even (RoPE rotates pairs)",
            ));
        }
        if !(self.norm_eps.is_finite() && self.norm_eps > 0.0) {
            return Err(field_error(
                "norm_eps",
                self.norm_eps,
                "it must be finite and > 0",
            ));
        }
        if !(self.rope_base.is_finite() && self.rope_base > 1.0) {
            return Err(field_error(
                "rope_base",
                self.rope_base,
                "it must be finite and > 1",
            ));
        }
        let attn = self.components() * self.n_heads * self.head_dim;
        if attn > MAX_WIDTH {
            return Err(field_error(
                "n_heads",
                self.n_heads,
                format!("the attention width ({attn}) must be at most {MAX_WIDTH}"),
            ));
        }
        for kind in ProjectionKind::ALL {
            let s = self.shape(kind);
            let limit = s.d_in.min(s.d_out);
            if s.rank > limit {
                return Err(ModelConfigError::Rank {
                    kind,
                    rank: s.rank,
                    d_in: s.d_in,
                    d_out: s.d_out,
                    limit,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ModelConfig {
        ModelConfig::builtin("tiny").unwrap()
    }

    #[test]
    fn builtins_are_valid_and_round_trip() {
        for name in BUILTIN_MODELS {
            let cfg = ModelConfig::builtin(name).unwrap();
            cfg.validate().unwrap();
            assert_eq!(ModelConfig::from_json(&cfg.to_json()).unwrap(), cfg);
            assert_eq!(
                ModelConfig::from_toml(&toml::to_string(&cfg).unwrap()).unwrap(),
                cfg
            );
        }
        assert!(matches!(
            ModelConfig::builtin("huge"),
            Err(ModelConfigError::UnknownBuiltin { .. })
        ));
    }

    #[test]
    fn shapes_of_both_attention_kinds() {
        let s = tiny();
        assert_eq!(s.shape(ProjectionKind::Q).d_out, 64);
        assert_eq!(s.shape(ProjectionKind::K).d_out, 32);
        assert_eq!(s.shape(ProjectionKind::O).d_in, 64);
        assert_eq!(s.shape(ProjectionKind::Down).d_in, 128);
        let d = ModelConfig::builtin("tiny-diff").unwrap();
        assert_eq!(d.shape(ProjectionKind::Q).d_out, 2 * 2 * 16);
        assert_eq!(d.shape(ProjectionKind::V).d_out, 2 * 16);
        assert_eq!(d.shape(ProjectionKind::O).d_in, 2 * 2 * 16);
    }

    #[test]
    fn each_rule_names_its_field() {
        type Edit = fn(&mut ModelConfig);
        let cases: [(Edit, &str); 7] = [
            (
                |c| c.n_kv_heads = 3,
                "`n_kv_heads` is 3; it must divide n_heads = 4",
            ),
            (|c| c.head_dim = 15, "`head_dim` is 15; it must be even"),
            (
                |c| c.context_len = 5000,
                "`context_len` is 5000; it must be 1 ..= 4096",
            ),
            (|c| c.d_model = 0, "`d_model` is 0"),
            (|c| c.norm_eps = f32::NAN, "`norm_eps` is NaN"),
            (|c| c.rope_base = 1.0, "`rope_base` is 1"),
            (
                |c| c.projections.k.rank = 33,
                "`projections.k.rank` is 33; it must be at most min(d_in, d_out) = 32",
            ),
        ];
        for (edit, needle) in cases {
            let mut cfg = tiny();
            edit(&mut cfg);
            let msg = cfg.validate().unwrap_err().to_string();
            assert!(msg.contains(needle), "{msg}");
        }
        let err = ModelConfig::from_toml("n_layers = 2\nwidth = 3\n").unwrap_err();
        assert!(matches!(err, ModelConfigError::Parse { .. }), "{err}");
    }
}
