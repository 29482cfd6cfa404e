//! `hgf cosim --shapes FILE`: a sequence of projection shapes that one core instance runs back
//! to back, each a run of tokens under its own descriptor (docs/interfaces.md).
//!
//! The file is TOML, one `[[run]]` table per run, in order:
//!
//! ```toml
//! [[run]]
//! d_in = 512
//! d_out = 1376
//! rank = 0        # ternary-only
//! tokens = 2      # optional, 1 by default
//! ```
//!
//! Each run's weights and tokens are generated from `--seed` (the seed plus the run's index).

use std::path::Path;

use anyhow::{bail, Context, Result};
use half::f16;
use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfConfig, HgfWeights, Shape};
use ndarray::Array2;
use serde::Deserialize;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapesFile {
    run: Vec<RunSpec>,
}

/// One `[[run]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunSpec {
    d_in: usize,
    d_out: usize,
    rank: usize,
    #[serde(default = "one")]
    tokens: usize,
}

fn one() -> usize {
    1
}

/// The most tokens the whole file may ask for (outputs of every token are held in memory).
const MAX_TOKENS: usize = 1 << 20;

/// One run: generated weights of its shape and generated tokens.
pub struct GeneratedRun {
    pub weights: HgfWeights,
    pub tokens: Array2<f16>,
}

/// Reads `path` and generates every run from `seed`; every shape must be one the core `cfg`
/// runs (within its maxima).
pub fn read_runs(path: &Path, cfg: &HgfConfig, seed: u64) -> Result<Vec<GeneratedRun>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read shapes file {}", path.display()))?;
    let file: ShapesFile = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "shapes file {}: {}",
            path.display(),
            e.to_string().trim_end().replace('\n', " ")
        )
    })?;
    if file.run.is_empty() {
        bail!("shapes file {}: no [[run]] table", path.display());
    }
    let total: usize = file.run.iter().map(|r| r.tokens).sum();
    if total > MAX_TOKENS {
        bail!(
            "shapes file {}: {total} tokens in all; at most {MAX_TOKENS}",
            path.display()
        );
    }
    file.run
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let shape = Shape::new(r.d_in, r.d_out, r.rank);
            cfg.check_shape(shape).with_context(|| {
                format!(
                    "shapes file {}: run {i} cannot run on the core `{}`",
                    path.display(),
                    cfg.name
                )
            })?;
            if r.tokens == 0 {
                bail!(
                    "shapes file {}: run {i} ({shape}) has tokens = 0; at least 1",
                    path.display()
                );
            }
            let run_seed = seed.wrapping_add(i as u64);
            Ok(GeneratedRun {
                weights: HgfWeights::random(shape, run_seed),
                tokens: random_tokens(shape.d_in, r.tokens, run_seed),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<GeneratedRun>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        read_runs(&path, &HgfConfig::default(), 3)
    }

    #[test]
    fn runs_are_generated_in_order_with_their_shapes() {
        let runs = read(
            "[[run]]\nd_in = 30\nd_out = 7\nrank = 0\ntokens = 2\n\
             [[run]]\nd_in = 5\nd_out = 9\nrank = 3\n",
        )
        .unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].weights.projection_shape(), Shape::new(30, 7, 0));
        assert_eq!(runs[0].tokens.dim(), (2, 30));
        assert_eq!(runs[1].weights.projection_shape(), Shape::new(5, 9, 3));
        assert_eq!(runs[1].tokens.dim(), (1, 5));
    }

    #[test]
    fn bad_files_are_one_line_errors() {
        for (text, want) in [
            ("", "`run`"),
            ("run = []\n", "no [[run]]"),
            ("[[run]]\nd_in = 5\nd_out = 2\n", "rank"),
            (
                "[[run]]\nd_in = 5\nd_out = 2\nrank = 1\nwidth = 3\n",
                "width",
            ),
            ("[[run]]\nd_in = 2000\nd_out = 2\nrank = 1\n", "max_d_in"),
            (
                "[[run]]\nd_in = 5\nd_out = 2\nrank = 1\ntokens = 0\n",
                "tokens = 0",
            ),
        ] {
            let e = format!("{:#}", read(text).err().unwrap());
            assert!(e.contains(want) && !e.contains('\n'), "{text:?}: {e}");
        }
    }
}
