//! The HGF transformer to the bit (docs/model.md): a decoder-only model whose projections are
//! HGF projections (arithmetic.md), with everything around them (norms, RoPE, attention,
//! SwiGLU, head, sampling) as stated binary32 operations.

pub mod attention;
pub mod checkpoint;
pub mod config;
pub mod math;
pub mod params;
pub mod random;
pub mod rope;
pub mod sampling;
pub mod tokenizer;
pub mod transformer;

pub use checkpoint::{Checkpoint, CheckpointError, CheckpointProblem, RawTensor};
pub use config::{AttentionKind, ModelConfig, ModelConfigError, ProjectionKind};
pub use params::{DiffAttnParams, LayerParams, ModelParams};
pub use random::random_checkpoint;
pub use sampling::Sampling;
pub use tokenizer::{CharTokenizer, TokenizerError};
pub use transformer::{
    GenerateError, Generation, GoldenBackend, KvCache, ProjectionBackend, ProjectionSite, Recorder,
    TokenOutput, Transformer, DEFAULT_FP_LANES,
};
