//! `hgf golden`: run the bit-exact golden model on a layer and tokens.
//!
//! Two ways in: files (`--weights`, `--input`), whose layer shape then decides the config
//! unless one is given; or `--random`, which generates both from `--seed` for the chosen config
//! and can write them out as a starting point. Either way the outputs can be written as .npy
//! and are summarised with a checksum over every output bit, so that two runs (two builds, two
//! machines, the RTL's dump converted to .npy) can be compared at a glance.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use half::f16;
use hgf_golden::io::{encode_tokens, encode_weights, IoError};
use hgf_golden::output::OutputFiles;
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights, Shape, TokenTrace};
use ndarray::{s, Array2, ArrayView2};
use serde_json::json;

use super::layer;
use super::show::{f16_json, f16_text, f32_json, f32_text};
use crate::cli::GoldenArgs;
use crate::stdout::outln;

/// How many outputs of the first token the summary shows.
const SAMPLE_OUTPUTS: usize = 8;
/// Tokens run between two looks at the clock for progress reports.
const PROGRESS_CHUNK: usize = 16;
/// Interval between progress reports on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

pub fn run(args: &GoldenArgs) -> Result<ExitCode> {
    check_files(args)?;
    let mut files_read = Vec::new();
    let (cfg, weights, x) = if args.random {
        generate(args)?
    } else {
        read_inputs(args, &mut files_read)?
    };

    let weights_shape = weights.projection_shape();
    let projection =
        HgfProjection::new(&cfg, weights).context("the weights do not fit the config")?;
    let first = x
        .rows()
        .into_iter()
        .next()
        .map(|row| projection.run_token(&row.to_vec()));
    let y = run_with_progress(&projection, x.view());

    // Every file is written to a temporary name first and renamed into place only when all
    // of them are written: a failure leaves none of them behind.
    let mut outputs = OutputFiles::new();
    let mut stage = |path: &PathBuf, bytes: Result<Vec<u8>, IoError>, what: &str| {
        bytes
            .map_err(anyhow::Error::from)
            .and_then(|bytes| outputs.stage(path, &bytes).map_err(anyhow::Error::from))
            .with_context(|| {
                format!(
                    "cannot write {what} to {} (no file written)",
                    path.display()
                )
            })
    };
    if args.random {
        if let Some(path) = &args.weights {
            stage(
                path,
                encode_weights(path, projection.weights()),
                "the generated weights",
            )?;
        }
        if let Some(path) = &args.input {
            stage(path, encode_tokens(path, x.view()), "the generated tokens")?;
        }
    }
    if let Some(path) = &args.output {
        stage(path, encode_tokens(path, y.view()), "the outputs")?;
    }
    let files_written = outputs.commit()?;

    let summary = Summary {
        cfg: &cfg,
        shape: weights_shape,
        seed: args.random.then_some(args.seed),
        y: &y,
        first: first.as_ref(),
        files_read: &files_read,
        files_written: &files_written,
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&summary.to_json())?)?;
    } else {
        summary.print()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks the files named before anything is read or written: no output over an input or
/// another output and, with `--random`, no existing file replaced without `--force`.
fn check_files(args: &GoldenArgs) -> Result<()> {
    let output = named("--output", &args.output);
    let mut inputs = super::config_input(&args.source);
    let outputs: Vec<(&str, &Path)> = if args.random {
        // --random writes the weights and the tokens too.
        let weights = named("--weights", &args.weights);
        let input = named("--input", &args.input);
        if !args.force {
            for (_, path) in [weights, input].into_iter().flatten() {
                if path.exists() {
                    anyhow::bail!(
                        "{} exists; --random would overwrite it with a generated layer (add \
                         --force to allow that)",
                        path.display()
                    );
                }
            }
        }
        [weights, input, output].into_iter().flatten().collect()
    } else {
        inputs.extend(
            [
                named("--weights", &args.weights),
                named("--input", &args.input),
            ]
            .into_iter()
            .flatten(),
        );
        output.into_iter().collect()
    };
    super::check_outputs(&outputs, &inputs)
}

/// (`flag`, its path) when the option was given.
fn named<'a>(flag: &'static str, path: &'a Option<PathBuf>) -> Option<(&'static str, &'a Path)> {
    path.as_deref().map(|p| (flag, p))
}

/// `--random`: layer and tokens from the seed, for the chosen (or default) config (written
/// by `run` when `--weights` / `--input` are given).
fn generate(args: &GoldenArgs) -> Result<(HgfConfig, HgfWeights, Array2<f16>)> {
    let cfg = super::load_config(&args.source)?;
    let x = layer::random_tokens_checked(cfg.max_shape(), args.tokens, args.seed)?;
    let weights = HgfWeights::random(cfg.max_shape(), args.seed);
    Ok((cfg, weights, x))
}

/// Files: the weights decide the layer shape (see [`layer::read_weights`]).
fn read_inputs(
    args: &GoldenArgs,
    read: &mut Vec<PathBuf>,
) -> Result<(HgfConfig, HgfWeights, Array2<f16>)> {
    // clap requires both unless --random; this keeps a usage error from becoming a panic.
    let (Some(weights_path), Some(input_path)) = (&args.weights, &args.input) else {
        anyhow::bail!("--weights and --input are required unless --random is given");
    };
    let (cfg, weights) = layer::read_weights(&args.source, weights_path)?;
    read.push(weights_path.clone());
    let shape_from = format!("the weights in {}", weights_path.display());
    let x = layer::read_tokens(input_path, weights.projection_shape().d_in, &shape_from)?;
    read.push(input_path.clone());
    Ok((cfg, weights, x))
}

/// [`HgfProjection::run`] over chunks of tokens, reporting progress on stderr about once a
/// second. Tokens are independent, so chunking does not change a single output bit.
fn run_with_progress(projection: &HgfProjection, x: ArrayView2<'_, f16>) -> Array2<f16> {
    let tokens = x.nrows();
    let mut y = Array2::from_elem((tokens, projection.weights().t.nrows()), f16::ZERO);
    let mut last_report = Instant::now();
    let mut start = 0;
    while start < tokens {
        let end = (start + PROGRESS_CHUNK).min(tokens);
        let out = projection.run(x.slice(s![start..end, ..]));
        y.slice_mut(s![start..end, ..]).assign(&out);
        start = end;
        if start < tokens && last_report.elapsed() >= PROGRESS_EVERY {
            eprintln!("hgf golden: {start}/{tokens} tokens");
            last_report = Instant::now();
        }
    }
    y
}

/// 64-bit FNV-1a over the outputs' binary16 bit patterns, little-endian, row by row.
///
/// Bit patterns rather than values, so that NaN payloads and the sign of zero count; FNV-1a
/// because it is a dozen lines anywhere (Python, C, a testbench) and needs no dependency.
fn fnv1a64(y: &Array2<f16>) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    y.iter()
        .flat_map(|v| v.to_le_bytes())
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// Everything the summary reports.
struct Summary<'a> {
    cfg: &'a HgfConfig,
    shape: Shape,
    seed: Option<u64>,
    y: &'a Array2<f16>,
    first: Option<&'a TokenTrace>,
    files_read: &'a [PathBuf],
    files_written: &'a [PathBuf],
}

impl Summary<'_> {
    fn nan_count(&self) -> usize {
        self.y.iter().filter(|v| v.is_nan()).count()
    }

    fn inf_count(&self) -> usize {
        self.y.iter().filter(|v| v.is_infinite()).count()
    }

    fn samples(&self) -> &[f16] {
        self.first
            .map(|t| &t.y[..t.y.len().min(SAMPLE_OUTPUTS)])
            .unwrap_or(&[])
    }

    fn print(&self) -> Result<()> {
        let cfg = self.cfg;
        outln!(
            "config:    {} (d_in {}, d_out {}, rank {}), fp_lanes {}",
            cfg.name,
            self.shape.d_in,
            self.shape.d_out,
            self.shape.rank,
            cfg.fp_lanes
        )?;
        if let Some(seed) = self.seed {
            outln!("random:    seed {seed}")?;
        }
        outln!("tokens:    {}", self.y.nrows())?;
        if let Some(t) = self.first {
            outln!("token 0:   m = {}", f32_text(t.m))?;
            outln!("           s = {}", f32_text(t.s))?;
            outln!("           k = {}", f32_text(t.k))?;
            let samples: Vec<String> = self.samples().iter().map(|&v| f16_text(v)).collect();
            outln!("y[0][..{}]: {}", samples.len(), samples.join(", "))?;
        }
        outln!(
            "outputs:   {} values, {} NaN, {} inf",
            self.y.len(),
            self.nan_count(),
            self.inf_count()
        )?;
        outln!(
            "checksum:  {:#018x} (FNV-1a 64 over the output bits)",
            fnv1a64(self.y)
        )?;
        for path in self.files_read {
            outln!("read:      {}", path.display())?;
        }
        for path in self.files_written {
            outln!("wrote:     {}", path.display())?;
        }
        Ok(())
    }

    fn to_json(&self) -> serde_json::Value {
        let cfg = self.cfg;
        let first = self.first.map(|t| {
            json!({
                "m": f32_json(t.m),
                "s": f32_json(t.s),
                "k": f32_json(t.k),
                "y": self.samples().iter().map(|&v| f16_json(v)).collect::<Vec<_>>(),
            })
        });
        json!({
            "config": {
                "name": cfg.name,
                "d_in": self.shape.d_in,
                "d_out": self.shape.d_out,
                "rank": self.shape.rank,
                "fp_lanes": cfg.fp_lanes,
            },
            "seed": self.seed,
            "tokens": self.y.nrows(),
            "first_token": first,
            "outputs": self.y.len(),
            "nan": self.nan_count(),
            "inf": self.inf_count(),
            "checksum": format!("{:#018x}", fnv1a64(self.y)),
            "checksum_algorithm": "fnv1a64 over the little-endian binary16 outputs, row-major",
            "files_read": paths_json(self.files_read),
            "files_written": paths_json(self.files_written),
        })
    }
}

fn paths_json(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        // FNV-1a 64 of the empty string is the offset basis.
        let empty = Array2::from_elem((0, 1), f16::ZERO);
        assert_eq!(fnv1a64(&empty), 0xcbf2_9ce4_8422_2325);
        // 0x6261 is "ab" little-endian: FNV-1a 64("ab") = 0x089c4407b545986a.
        let ab = Array2::from_elem((1, 1), f16::from_bits(0x6261));
        assert_eq!(fnv1a64(&ab), 0x089c_4407_b545_986a);
    }
}
