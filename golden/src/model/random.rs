//! A random model of a config, reproducible from a seed, with magnitudes like a trained one so
//! that generation is not degenerate: so `hgf infer --random` works before any checkpoint
//! exists, and tests have models of any shape.

use half::f16;
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::checkpoint::Checkpoint;
use super::config::{AttentionKind, ModelConfig, ProjectionKind};
use super::params::{DiffAttnParams, LayerParams, ModelParams};
use super::tokenizer::CharTokenizer;
use crate::weights::HgfWeights;

/// The characters of a random model's vocabulary, in order: newline, space, the lowercase
/// and uppercase ASCII letters, the digits, the rest of printable ASCII, then Latin-1 and
/// beyond (no supported vocabulary size reaches the surrogates at U+D800).
pub fn random_vocab(size: usize) -> Vec<char> {
    let ascii = ('a'..='z').chain('A'..='Z').chain('0'..='9').chain(
        (0x21u8..0x7F)
            .map(char::from)
            .filter(|c| !c.is_ascii_alphanumeric()),
    );
    ['\n', ' ']
        .into_iter()
        .chain(ascii)
        .chain((0xA1u32..0xD800).filter_map(char::from_u32))
        .take(size)
        .collect()
}

/// A random model of `config` (which must be valid), reproducible from `seed`.
///
/// Ternary weights are uniform trits with beta = 0.8 / sqrt(d_in) (mean |W| of a
/// unit-output-variance layer), A and B are uniform of size 1/sqrt(d_in) and 1/sqrt(rank)
/// (non-zero, unlike a LoRA init, so the low-rank path matters), gates near the paper's 0.1,
/// norm weights near 1, embeddings of unit size, and a head scaled so that logits spread over
/// a few units (a peaked but not one-hot distribution). Differential layers get the unilm
/// λ_init schedule and λ near it.
pub fn random_checkpoint(config: &ModelConfig, seed: u64) -> Checkpoint {
    config
        .validate()
        .expect("a random model needs a valid config");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dm = config.d_model;
    let table = |rng: &mut ChaCha8Rng, scale: f32| {
        Array2::from_shape_fn((config.vocab_size, dm), |_| {
            f16::from_f32(rng.random_range(-scale..scale))
        })
    };
    let embed = table(&mut rng, 1.7);
    let head = table(&mut rng, 4.0 / (dm as f32).sqrt());
    let norm = |rng: &mut ChaCha8Rng, n: usize| -> Vec<f32> {
        (0..n).map(|_| rng.random_range(0.9f32..1.1)).collect()
    };
    let final_norm = norm(&mut rng, dm);
    let layers = (0..config.n_layers)
        .map(|l| {
            let projections = ProjectionKind::ALL
                .iter()
                .map(|&kind| random_projection(&mut rng, config, kind))
                .collect();
            let diff = (config.attention == AttentionKind::Differential).then(|| {
                let lambda_init = (0.8 - 0.6 * (-0.3 * l as f64).exp()) as f32;
                DiffAttnParams {
                    lambda: lambda_init + rng.random_range(-0.1f32..0.1),
                    lambda_init,
                    subln: norm(&mut rng, 2 * config.head_dim),
                }
            });
            LayerParams {
                attn_norm: norm(&mut rng, dm),
                ffn_norm: norm(&mut rng, dm),
                projections,
                diff,
            }
        })
        .collect();
    Checkpoint {
        config: config.clone(),
        tokenizer: CharTokenizer::new(random_vocab(config.vocab_size))
            .expect("the random vocabulary has distinct characters"),
        params: ModelParams {
            embed,
            head,
            final_norm,
            layers,
        },
    }
}

fn random_projection(rng: &mut ChaCha8Rng, cfg: &ModelConfig, kind: ProjectionKind) -> HgfWeights {
    let s = cfg.shape(kind);
    let t = Array2::from_shape_fn((s.d_out, s.d_in), |_| rng.random_range(-1i8..=1));
    let beta = 0.8 / (s.d_in as f32).sqrt() * rng.random_range(0.8f32..1.2);
    let a_scale = 1.0 / (s.d_in as f32).sqrt();
    let a = Array2::from_shape_fn((s.rank, s.d_in), |_| {
        f16::from_f32(rng.random_range(-a_scale..a_scale))
    });
    let b_scale = 1.0 / (s.rank.max(1) as f32).sqrt();
    let b = Array2::from_shape_fn((s.d_out, s.rank), |_| {
        f16::from_f32(rng.random_range(-b_scale..b_scale))
    });
    let gate = if s.rank > 0 {
        rng.random_range(0.05f32..0.2)
    } else {
        0.0
    };
    HgfWeights {
        t,
        beta,
        a,
        b,
        gate,
    }
}
