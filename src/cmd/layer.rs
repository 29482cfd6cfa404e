//! Where a layer and its tokens come from, for the commands that run one (`hgf golden`,
//! `hgf cosim`): files (`--weights` safetensors, `--input` npy) or the seed.
//!
//! A weights file decides the layer shape. A config, when given, must run it (the shape
//! within its maxima); otherwise the default engine runs it, its maxima raised to the shape
//! where needed, since `fp_lanes` (the FP summation order) is part of the result and has to
//! come from somewhere.

use std::path::Path;

use anyhow::{Context, Result};
use half::f16;
use hgf_golden::io::{load_tokens, load_weights};
use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfConfig, HgfWeights, Shape};
use ndarray::Array2;

use crate::cli::ConfigSource;

/// Where the config came from, for error messages.
pub fn config_origin(source: &ConfigSource) -> String {
    match (&source.config, &source.preset) {
        (Some(path), _) => format!("config file {}", path.display()),
        (None, Some(name)) => format!("preset `{name}`"),
        (None, None) => "the default preset".to_string(),
    }
}

/// Reads a weights file and the config it runs under: the given one (which must run the
/// file's shape) or, with none given, the default engine with maxima that hold the shape.
pub fn read_weights(source: &ConfigSource, path: &Path) -> Result<(HgfConfig, HgfWeights)> {
    let weights = load_weights(path).context("cannot load the weights")?;
    let shape = weights.projection_shape();
    let cfg = if source.config.is_some() || source.preset.is_some() {
        let cfg = super::load_config(source)?;
        weights.validate_for(&cfg).with_context(|| {
            format!(
                "weights file {} does not fit {}: the core runs up to d_in = {}, d_out = {}, \
                 rank = {}; the file has d_in = {}, d_out = {}, rank = {}",
                path.display(),
                config_origin(source),
                cfg.max_d_in,
                cfg.max_d_out,
                cfg.max_rank,
                shape.d_in,
                shape.d_out,
                shape.rank,
            )
        })?;
        cfg
    } else {
        let base = HgfConfig::default();
        let cfg = HgfConfig {
            max_d_in: base.max_d_in.max(shape.d_in),
            max_d_out: base.max_d_out.max(shape.d_out),
            max_rank: base.max_rank.max(shape.rank),
            ..base
        };
        cfg.validate().with_context(|| {
            format!(
                "weights file {}: the default engine cannot run its layer shape d_in = {}, \
                 d_out = {}, rank = {}",
                path.display(),
                shape.d_in,
                shape.d_out,
                shape.rank
            )
        })?;
        cfg
    };
    Ok((cfg, weights))
}

/// Reads a tokens file, which must hold at least one token of `d_in` values. `shape_from`
/// says where `d_in` came from, for the error message.
pub fn read_tokens(path: &Path, d_in: usize, shape_from: &str) -> Result<Array2<f16>> {
    let x = load_tokens(path).context("cannot load the input tokens")?;
    // No tokens would make a co-simulation pass with nothing compared.
    if x.nrows() == 0 {
        anyhow::bail!(
            "input file {} has no tokens (shape [0, {}]); at least 1 is needed",
            path.display(),
            x.ncols()
        );
    }
    if x.ncols() != d_in {
        anyhow::bail!(
            "input file {} has {} values per token (shape [{}, {}]); d_in = {} is needed \
             (from {shape_from})",
            path.display(),
            x.ncols(),
            x.nrows(),
            x.ncols(),
            d_in
        );
    }
    Ok(x)
}

/// `tokens` random tokens from `seed` (the `--tokens` of `run`, `cosim` and `golden
/// --random`), after checking that there is at least one (no tokens would make a
/// co-simulation pass with nothing compared) and that they and their outputs can be held in
/// memory: ndarray panics on shapes whose size overflows isize, and a failed allocation
/// aborts the process with a backtrace.
pub fn random_tokens_checked(shape: Shape, tokens: usize, seed: u64) -> Result<Array2<f16>> {
    if tokens == 0 {
        anyhow::bail!("--tokens must be at least 1");
    }
    let width = shape.d_in + shape.d_out;
    let bytes = tokens
        .checked_mul(width)
        .and_then(|n| n.checked_mul(std::mem::size_of::<f16>()))
        .filter(|&bytes| isize::try_from(bytes).is_ok());
    let Some(bytes) = bytes else {
        anyhow::bail!(
            "--tokens {tokens} is too large: inputs and outputs of {tokens} x (d_in + d_out = \
             {width}) binary16 values cannot be addressed"
        );
    };
    // Reserving (without touching) what the inputs and outputs will take asks the allocator
    // the one question a typo such as `--tokens 99999999999999` needs answered, and gets a
    // refusal back as a value; the pages are never used, so this costs no memory.
    if Vec::<u8>::new().try_reserve_exact(bytes).is_err() {
        anyhow::bail!(
            "--tokens {tokens} is too large: inputs and outputs of {tokens} x (d_in + d_out = \
             {width}) binary16 values take {bytes} bytes, more than this machine can allocate"
        );
    }
    Ok(random_tokens(shape.d_in, tokens, seed))
}
