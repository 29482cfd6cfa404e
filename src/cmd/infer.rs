//! `hgf infer`: generate text with a whole HGF model, the bit-exact golden transformer of
//! docs/model.md. The model comes from a checkpoint or is random (`--random`); the engine's
//! `fp_lanes` (which fixes the summation order of every projection's `A x`) from
//! `--fp-lanes`, an engine config, or the default preset. With `--rtl` every projection runs
//! on the generated core in Verilator ([`super::infer_rtl`]).
//!
//! The report is built once as a serializable struct and printed as text or JSON.

use std::convert::Infallible;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hgf_golden::model::{
    random_checkpoint, AttentionKind, Checkpoint, GenerateError, GoldenBackend, ModelConfig,
    Sampling, Transformer, DEFAULT_FP_LANES,
};
use serde::Serialize;

use super::infer_rtl::{self, RtlOutcome, RtlReport};
use crate::cli::InferArgs;
use crate::stdout::outln;

/// Interval between progress reports on stderr (the first after this long).
pub(super) const PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// The largest `--fp-lanes` accepted (the engine configs' own limit is far below).
const MAX_FP_LANES: usize = 1024;

pub fn run(args: &InferArgs) -> Result<ExitCode> {
    // With --rtl the engine config is the core's: its fp_lanes, and the core to build.
    let core = if args.rtl {
        Some(super::load_config(&args.source)?)
    } else {
        None
    };
    let fp_lanes = match &core {
        Some(cfg) => cfg.fp_lanes,
        None => fp_lanes(args)?,
    };
    let sampling = sampling(args)?;
    if args.tokens == 0 {
        bail!("--tokens is 0; generate at least 1 token");
    }
    if let Some(vcd) = &args.vcd {
        let mut inputs = super::config_input(&args.source);
        inputs.extend(args.model.as_deref().map(|p| ("--model", p)));
        super::check_outputs(&[("--vcd", vcd.as_path())], &inputs)?;
    }
    let (ck, source) = load_model(args)?;
    let prompt_text = match &args.prompt {
        Some(text) => text.clone(),
        None => ck.tokenizer.vocab()[0].to_string(),
    };
    let prompt = ck.tokenizer.encode(&prompt_text)?;
    let model = Transformer::new(ck.config.clone(), ck.params);
    model
        .check_request::<Infallible>(&prompt, args.tokens)
        .map_err(anyhow::Error::new)?;
    // Every position is processed but the last generated token's, which is not fed back.
    infer_rtl::check_flip(
        args.flip_expected,
        model.config(),
        prompt.len() + args.tokens - 1,
    )?;

    let start = Instant::now();
    let (generated, logits, rtl) = match &core {
        Some(cfg) => {
            // A model beyond the core's maxima is refused here, before anything is built.
            let estimate = infer_rtl::model_estimate(&source.name(), &ck.config, cfg)?;
            match infer_rtl::run(args, cfg, &model, &prompt, sampling, estimate)? {
                RtlOutcome::Matched(inference, report) => {
                    (inference.generated, inference.logits, Some(*report))
                }
                RtlOutcome::Mismatch(report) => {
                    if args.json {
                        outln!("{}", serde_json::to_string_pretty(&report)?)?;
                    } else {
                        report.print()?;
                    }
                    return Ok(ExitCode::from(super::EXIT_MISMATCH));
                }
            }
        }
        None => {
            let mut last_report = start;
            let generation = model
                .generate(
                    &prompt,
                    args.tokens,
                    sampling,
                    &mut GoldenBackend { fp_lanes },
                    |done, total| {
                        if last_report.elapsed() >= PROGRESS_EVERY {
                            eprintln!("hgf infer: {done}/{total} positions");
                            last_report = Instant::now();
                        }
                    },
                )
                .map_err(|e: GenerateError<Infallible>| anyhow::Error::new(e))?;
            (generation.generated, generation.logits, None)
        }
    };
    let seconds = start.elapsed().as_secs_f64();

    let report = InferReport {
        model: source,
        config: ck.config.clone(),
        fp_lanes,
        sampling: match sampling {
            Sampling::Greedy => SamplingReport::Greedy,
            Sampling::Temperature { temperature, seed } => {
                SamplingReport::Temperature { temperature, seed }
            }
        },
        text: ck.tokenizer.decode(&generated)?,
        prompt: prompt_text,
        prompt_tokens: prompt,
        top_logits: generated
            .iter()
            .zip(&logits)
            .map(|(&token, logits)| TopLogit {
                token,
                logit: logits[token as usize],
                bits: format!("{:#010x}", logits[token as usize].to_bits()),
            })
            .collect(),
        logits_fnv1a64: format!("{:#018x}", fnv1a64(&logits)),
        seconds,
        tokens_per_second: generated.len() as f64 / seconds.max(1e-9),
        tokens: generated,
        rtl,
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        report.print()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--fp-lanes`, or the engine config's, or the default preset's.
fn fp_lanes(args: &InferArgs) -> Result<usize> {
    if let Some(f) = args.fp_lanes {
        if !(f.is_power_of_two() && f <= MAX_FP_LANES) {
            bail!("--fp-lanes is {f}; it must be a power of two from 1 to {MAX_FP_LANES}");
        }
        return Ok(f);
    }
    if args.source.config.is_some() || args.source.preset.is_some() {
        return Ok(super::load_config(&args.source)?.fp_lanes);
    }
    Ok(DEFAULT_FP_LANES)
}

fn sampling(args: &InferArgs) -> Result<Sampling> {
    match args.temperature {
        None => Ok(Sampling::Greedy),
        Some(0.0) => Ok(Sampling::Greedy),
        Some(t) if t.is_finite() && t > 0.0 => Ok(Sampling::Temperature {
            temperature: t,
            seed: args.seed,
        }),
        Some(t) => bail!("--temperature is {t}; it must be finite and >= 0 (0: greedy)"),
    }
}

/// The checkpoint, or a random model; and how to name it in the report.
fn load_model(args: &InferArgs) -> Result<(Checkpoint, ModelSource)> {
    if let Some(path) = &args.model {
        let ck = Checkpoint::load(path)?;
        return Ok((
            ck,
            ModelSource::Checkpoint {
                path: path.display().to_string(),
            },
        ));
    }
    let name = args
        .model_config
        .as_deref()
        .expect("clap requires --model-config with --random");
    let config = if hgf_golden::model::config::BUILTIN_MODELS.contains(&name) {
        ModelConfig::builtin(name)?
    } else {
        let text = std::fs::read_to_string(Path::new(name)).with_context(|| {
            format!(
                "cannot read the model config {name} (built-in configs: {})",
                hgf_golden::model::config::BUILTIN_MODELS.join(", ")
            )
        })?;
        ModelConfig::from_toml(&text).with_context(|| name.to_string())?
    };
    let ck = random_checkpoint(&config, args.seed);
    Ok((
        ck,
        ModelSource::Random {
            config: name.to_string(),
            seed: args.seed,
        },
    ))
}

/// 64-bit FNV-1a over the binary32 bit patterns (little-endian) of every generated position's
/// logits, in order: two runs agree on it exactly when every logit bit agrees.
fn fnv1a64(logits: &[Vec<f32>]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    logits
        .iter()
        .flatten()
        .flat_map(|v| v.to_bits().to_le_bytes())
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum ModelSource {
    Checkpoint { path: String },
    Random { config: String, seed: u64 },
}

impl ModelSource {
    /// The model's name in the estimate: the checkpoint's file stem, or `random-<config>`
    /// (the config file's stem).
    fn name(&self) -> String {
        match self {
            ModelSource::Checkpoint { path } => Path::new(path)
                .file_stem()
                .map_or_else(|| path.clone(), |s| s.to_string_lossy().into_owned()),
            ModelSource::Random { config, .. } => format!(
                "random-{}",
                Path::new(config)
                    .file_stem()
                    .map_or_else(|| config.clone(), |s| s.to_string_lossy().into_owned())
            ),
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum SamplingReport {
    Greedy,
    Temperature { temperature: f32, seed: u64 },
}

/// The logit of each generated token at the position that chose it.
#[derive(Serialize)]
struct TopLogit {
    token: u32,
    logit: f32,
    bits: String,
}

/// Everything `hgf infer` reports.
#[derive(Serialize)]
struct InferReport {
    model: ModelSource,
    config: ModelConfig,
    fp_lanes: usize,
    sampling: SamplingReport,
    prompt: String,
    prompt_tokens: Vec<u32>,
    tokens: Vec<u32>,
    text: String,
    top_logits: Vec<TopLogit>,
    logits_fnv1a64: String,
    seconds: f64,
    tokens_per_second: f64,
    /// With --rtl: the core, its cycles and the co-simulation (null without).
    rtl: Option<RtlReport>,
}

impl InferReport {
    fn print(&self) -> Result<()> {
        let c = &self.config;
        let model = match &self.model {
            ModelSource::Checkpoint { path } => path.clone(),
            ModelSource::Random { config, seed } => format!("random {config} (seed {seed})"),
        };
        let attention = match c.attention {
            AttentionKind::Standard => "standard",
            AttentionKind::Differential => "differential",
        };
        let ranks: Vec<String> = hgf_golden::model::ProjectionKind::ALL
            .iter()
            .map(|&k| format!("{k} {}", c.projections.get(k).rank))
            .collect();
        let sampling = match self.sampling {
            SamplingReport::Greedy => "greedy".to_string(),
            SamplingReport::Temperature { temperature, seed } => {
                format!("temperature {temperature}, seed {seed}")
            }
        };
        outln!("model:       {model}")?;
        outln!(
            "shape:       {} layers, d_model {}, {} {attention} heads ({} KV) of {}, ffn {}, vocab {}, context {}",
            c.n_layers, c.d_model, c.n_heads, c.n_kv_heads, c.head_dim, c.ffn_dim, c.vocab_size, c.context_len
        )?;
        outln!("ranks:       {} (0: ternary-only)", ranks.join(", "))?;
        outln!("fp_lanes:    {}", self.fp_lanes)?;
        outln!("sampling:    {sampling}")?;
        outln!(
            "prompt:      {:?} ({} tokens)",
            self.prompt,
            self.prompt_tokens.len()
        )?;
        outln!(
            "generated:   {:?} ({} tokens)",
            self.text,
            self.tokens.len()
        )?;
        outln!("tokens:      {:?}", self.tokens)?;
        outln!(
            "logits hash: {} (FNV-1a 64 of every generated position's logit bits)",
            self.logits_fnv1a64
        )?;
        outln!(
            "time:        {:.3} s, {:.1} tokens/s ({})",
            self.seconds,
            self.tokens_per_second,
            if self.rtl.is_some() {
                "every projection co-simulated, checked against the golden model"
            } else {
                "golden model"
            }
        )?;
        if let Some(rtl) = &self.rtl {
            rtl.print()?;
        }
        outln!()?;
        outln!("{}{}", self.prompt, self.text)?;
        Ok(())
    }
}
