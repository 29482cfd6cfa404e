//! What the user typed: the clap definitions of every `hgf` subcommand. Turning these into
//! validated plans happens in `cmd/`.
//!
//! Every numeric option has `allow_negative_numbers`: without it clap reads `--freq -1` as
//! the option without a value followed by a stray argument `-1` ("unexpected argument"), and
//! the range check that names what is allowed never runs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use hgf_golden::model::{ProjectionKind, ProjectionSite};
use hgf_golden::Target;

#[derive(Debug, Parser)]
#[command(
    name = "hgf",
    version,
    about = "Hybrid Gated Flow (HGF) inference hardware: golden model, generator, co-simulation and estimates"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job on one config: generate the core, co-simulate it in Verilator against the
    /// golden model on a generated layer, and report.
    Run(RunArgs),
    /// Co-simulate the core in Verilator against the golden model, every output bit compared;
    /// on a mismatch, name the first stage that differs and write a VCD of the failing token.
    Cosim(CosimArgs),
    /// Emit the core's Verilog, its manifest (JSON) and the target's constraints.
    Generate(GenerateArgs),
    /// Run the bit-exact golden model on a layer and tokens (files, or generated with --random).
    Golden(GoldenArgs),
    /// Check a golden FP primitive (or, with --rtl, its RTL unit in Verilator) against Berkeley
    /// TestFloat vectors (testfloat_gen format).
    Fpcheck(FpcheckArgs),
    /// Print the resolved config (TOML) and its derived quantities.
    Config(ConfigArgs),
    /// Estimate a model on a board before building anything: weight bytes and cycles per
    /// token, tokens/s bounded by memory bandwidth and by the core's clock, and which binds.
    Estimate(EstimateArgs),
    /// Synthesise (yosys) and place and route (nextpnr) the core inside a 19-pin wrapper, and
    /// report the resources, the device utilisation and Fmax.
    Synth(SynthArgs),
    /// Search array shapes, FP lanes, gate multipliers and packing for the core that runs a
    /// model fastest on a board and fits a device; print the Pareto front (tokens/s against
    /// logic) and optionally confirm the best with yosys and nextpnr.
    Explore(ExploreArgs),
    /// Generate text with a whole HGF model (a checkpoint, or --random): the bit-exact golden
    /// transformer of docs/model.md.
    Infer(InferArgs),
}

/// Where the config comes from: a TOML file, a named preset, or the default preset.
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigSource {
    /// Config file (TOML). Fields it leaves out take the values of its `preset` (or "default").
    #[arg(long, value_name = "FILE", conflicts_with = "preset")]
    pub config: Option<PathBuf>,
    /// A named preset: default, up5k.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
}

#[derive(Debug, Args)]
pub struct GoldenArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// Layer weights (safetensors: T int8, beta f32, A f16, B f16, gate f32).
    #[arg(long, value_name = "FILE", required_unless_present = "random")]
    pub weights: Option<PathBuf>,
    /// Input activations (npy, f16, [tokens, d_in]).
    #[arg(long, value_name = "FILE", required_unless_present = "random")]
    pub input: Option<PathBuf>,
    /// Where to write the outputs (npy, f16, [tokens, d_out]).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Generate a layer and tokens from --seed instead of reading them; with --weights and
    /// --input, the generated files are written there.
    #[arg(long)]
    pub random: bool,
    /// Seed for --random.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
    /// With --random: overwrite existing files at --weights / --input.
    #[arg(long, requires = "random")]
    pub force: bool,
    /// Number of tokens for --random.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true)]
    pub tokens: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FpcheckArgs {
    /// The primitive to check: f32_mul, f32_add, f32_div, f16_to_f32, f32_to_f16, i32_to_f32,
    /// f32_to_i8 (from f32_to_i32 vectors), f16_mul, f16_add.
    #[arg(long, value_name = "OP")]
    pub op: String,
    /// Vector file in testfloat_gen's text format (plain or .gz).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Check the op's RTL unit, co-simulated in Verilator, instead of the golden model (every
    /// op but f16_add; the first run verilates the unit, later runs reuse it).
    #[arg(long)]
    pub rtl: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// Print config and derived quantities as JSON instead of TOML.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// Seed of the generated layer and tokens.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
    /// Number of tokens.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true)]
    pub tokens: usize,
    /// Output directory for the Verilog, manifest and report (default: out/<name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CosimArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// Number of tokens generated from --seed (without --input).
    #[arg(
        long,
        default_value_t = 4,
        conflicts_with = "input",
        allow_negative_numbers = true
    )]
    pub tokens: usize,
    /// Seed of the generated layer and tokens, and of the stall pattern.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
    /// Layer weights (safetensors, as `hgf golden`); without it, generated from --seed. Its
    /// shape must fit the config; with no --config or --preset, the default preset is adapted
    /// to it.
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// Input activations (npy, f16, [tokens, d_in]); without it, generated from --seed.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// A sequence of projection shapes to run back to back on one core instance (TOML:
    /// `[[run]]` tables of `d_in`, `d_out`, `rank` and optional `tokens`), weights and tokens
    /// generated from --seed; each shape must be within the config's maxima.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["weights", "input", "tokens"])]
    pub shapes: Option<PathBuf>,
    /// Where to write the VCD of the first failing token (default:
    /// out/<name>/cosim-mismatch.vcd).
    #[arg(long, value_name = "FILE")]
    pub vcd: Option<PathBuf>,
    /// Probability P of a random stall per cycle on every stream (input beats held back,
    /// y_ready low), 0 <= P < 1.
    #[arg(
        long,
        value_name = "P",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub stall: f64,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// See the mismatch report work on a correct core: flips the lowest bit of the golden
    /// model's output OUTPUT of token TOKEN (both from 0) before the comparison, so that the
    /// exit code 1, the report, the VCD and the stage it names can be seen. The report says
    /// so (`test hook:` line, `expected_flipped` in JSON).
    #[arg(long, value_name = "TOKEN,OUTPUT", value_parser = parse_position)]
    pub flip_expected: Option<(usize, usize)>,
}

/// `TOKEN,OUTPUT` as two indices.
fn parse_position(text: &str) -> Result<(usize, usize), String> {
    let (t, j) = text
        .split_once(',')
        .ok_or_else(|| format!("`{text}` is not TOKEN,OUTPUT"))?;
    let index = |s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|e| format!("`{s}` in `{text}`: {e}"))
    };
    Ok((index(t)?, index(j)?))
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// Output directory (default: out/<name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the manifest as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-checking Verilog testbench (`<name>_tb.v`) and its vectors (hex
    /// files for `$readmemh`, from the golden model), and a `sim` target in `<name>.core`.
    #[arg(long)]
    pub testbench: bool,
    /// Tokens of the testbench, generated from --seed (without --input).
    #[arg(
        long,
        default_value_t = 2,
        requires = "testbench",
        conflicts_with = "input",
        allow_negative_numbers = true
    )]
    pub tokens: usize,
    /// Seed of the testbench's generated layer and tokens, and its default stall pattern.
    #[arg(
        long,
        default_value_t = 1,
        requires = "testbench",
        allow_negative_numbers = true
    )]
    pub seed: u64,
    /// The testbench's layer (safetensors, as `hgf golden`) instead of one generated from
    /// --seed; its shape must fit the config (with no --config or --preset, the default
    /// preset is adapted to it, as in `hgf cosim`).
    #[arg(long, value_name = "FILE", requires = "testbench")]
    pub weights: Option<PathBuf>,
    /// The testbench's tokens (npy, f16, [tokens, d_in]) instead of generated ones.
    #[arg(long, value_name = "FILE", requires = "testbench")]
    pub input: Option<PathBuf>,
    /// The testbench's default stall probability P per cycle and stream (input beats held
    /// back, y_ready low), 0 <= P < 1; its parameter STALL overrides it at run time.
    #[arg(
        long,
        value_name = "P",
        default_value_t = 0.0,
        requires = "testbench",
        allow_negative_numbers = true
    )]
    pub stall: f64,
}

#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// The core config: its array, FP lanes and target run every projection of the model (its
    /// shape is replaced by each projection's; both packings are estimated).
    #[command(flatten)]
    pub source: ConfigSource,
    /// A built-in model: hgf-25m, bitnet-2b4t, hgf-1.2b, hgf-3b (default: all of them).
    #[arg(long, value_name = "NAME", conflicts_with = "model_file")]
    pub model: Option<String>,
    /// A model file (TOML, format in docs/estimate.md).
    #[arg(long, value_name = "FILE")]
    pub model_file: Option<PathBuf>,
    /// A built-in board: icebreaker, ulx3s, orangecrab, arty-a7, kv260 (default: all of them).
    #[arg(long, value_name = "NAME")]
    pub board: Option<String>,
    /// Sustained memory bandwidth in MB/s (10^6 bytes/s), replacing the board's. Without
    /// --board it describes a custom board, which also needs --clock.
    #[arg(long, value_name = "MB/s", allow_negative_numbers = true)]
    pub bandwidth: Option<f64>,
    /// Clock of the core in MHz, replacing the board's.
    #[arg(long, value_name = "MHz", allow_negative_numbers = true)]
    pub clock: Option<f64>,
    /// Print the estimate as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write a roofline plot (SVG) of the estimate, in the config's packing.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// Device: ice40-up5k, ice40-hx8k, ecp5-25k or ecp5-85k (default: the config's `target`).
    #[arg(long, value_name = "TARGET", value_parser = parse_target)]
    pub target: Option<Target>,
    /// Clock frequency to meet, in MHz (default: the target board's oscillator, 12 MHz on
    /// iCE40 and 25 MHz on ECP5).
    #[arg(long, value_name = "MHZ", allow_negative_numbers = true)]
    pub freq: Option<f64>,
    /// Output directory for the Verilog, netlist, tool reports and logs (default:
    /// out/<name>/synth-<target>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Stop after synthesis (no place-and-route).
    #[arg(long)]
    pub no_pnr: bool,
    /// Instead of an FPGA: the core's ASIC-style area in um^2, yosys's generic synthesis
    /// mapped onto an area-only liberty of sky130_fd_sc_hd cells (memories left as SRAM
    /// bits; default output directory out/<name>/synth-asic-sky130).
    #[arg(long, conflicts_with_all = ["target", "freq", "no_pnr"])]
    pub asic: bool,
    /// Instead of the whole core: every block of the core on its own, each in a wrapper of
    /// five or six pins, synthesised, placed and routed for the target's family, and a table
    /// of their resources and Fmax (default --freq: 150 MHz on ECP5, 50 MHz on iCE40; default
    /// output directory out/<name>/synth-blocks-<target>).
    #[arg(long, conflicts_with_all = ["asic", "no_pnr", "block"])]
    pub blocks: bool,
    /// Like --blocks, for the one block NAME (fp32_add, ternary_array, ...; an unknown name
    /// lists them all).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["asic", "no_pnr"])]
    pub block: Option<String>,
    /// With --blocks or --block: the placer's seed (nextpnr --seed; default 1).
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub seed: Option<i64>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A target by its config name.
fn parse_target(name: &str) -> Result<Target, String> {
    Target::ALL
        .into_iter()
        .find(|t| t.name() == name)
        .ok_or_else(|| {
            let allowed: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
            format!("unknown target `{name}`; allowed: {}", allowed.join(", "))
        })
}

fn parse_packing(name: &str) -> Result<hgf_golden::Packing, String> {
    hgf_golden::Packing::ALL
        .into_iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| {
            let allowed: Vec<&str> = hgf_golden::Packing::ALL.iter().map(|p| p.name()).collect();
            format!("unknown packing `{name}`; allowed: {}", allowed.join(", "))
        })
}

#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// A built-in model: hgf-25m, bitnet-2b4t, hgf-1.2b, hgf-3b.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "model_file",
        required_unless_present = "model_file"
    )]
    pub model: Option<String>,
    /// A model file (TOML, format in docs/estimate.md).
    #[arg(long, value_name = "FILE")]
    pub model_file: Option<PathBuf>,
    /// A built-in board: icebreaker, ulx3s, orangecrab, arty-a7, kv260.
    #[arg(long, value_name = "NAME")]
    pub board: String,
    /// Sustained memory bandwidth in MB/s, replacing the board's.
    #[arg(long, value_name = "MB/s", allow_negative_numbers = true)]
    pub bandwidth: Option<f64>,
    /// Clock of the core in MHz, replacing the board's.
    #[arg(long, value_name = "MHz", allow_negative_numbers = true)]
    pub clock: Option<f64>,
    /// The device the core must fit: ice40-up5k, ice40-hx8k, ecp5-25k, ecp5-85k.
    #[arg(long, value_name = "DEVICE", value_parser = parse_target)]
    pub target: Target,
    /// Try only this packing (base3 or 2bit; default: both).
    #[arg(long, value_name = "PACKING", value_parser = parse_packing)]
    pub packing: Option<hgf_golden::Packing>,
    /// Print the exploration as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write the Pareto plot (SVG).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Write the best candidate's config (TOML) for `hgf generate --config`.
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
    /// Confirm the N fastest points of the front with `hgf synth` (yosys, then nextpnr's
    /// packing; minutes each).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub confirm: usize,
    /// Directory of the confirmation runs.
    #[arg(long, value_name = "DIR", default_value = "out/explore")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct InferArgs {
    /// The model: a checkpoint (safetensors, format in docs/model.md §M10).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "random",
        conflicts_with = "random"
    )]
    pub model: Option<PathBuf>,
    /// Make a random model of --model-config from --seed instead of reading a checkpoint.
    #[arg(long, requires = "model_config")]
    pub random: bool,
    /// With --random: the model config, a built-in name (tiny, tiny-diff) or a TOML file
    /// (fields in docs/model.md §M1).
    #[arg(long, value_name = "NAME|FILE", requires = "random")]
    pub model_config: Option<String>,
    /// The prompt (every character must be in the model's vocabulary; default: the
    /// vocabulary's first character).
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// Tokens to generate.
    #[arg(long, default_value_t = 32, allow_negative_numbers = true)]
    pub tokens: usize,
    /// Sample from softmax(logits / T) instead of taking the largest logit (0: greedy).
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub temperature: Option<f32>,
    /// Seed of the sampling (and, with --random, of the model).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
    /// FP lanes of the engine (the summation order of A x, arithmetic.md §L2; default 4, the
    /// default preset's). --config / --preset take it from an engine config instead.
    #[arg(long, value_name = "F", allow_negative_numbers = true, conflicts_with_all = ["config", "preset"])]
    pub fp_lanes: Option<usize>,
    #[command(flatten)]
    pub source: ConfigSource,
    /// Run every projection of every layer of every position on one instance of the core
    /// generated for the engine config (--config / --preset; default: the default preset),
    /// verilated (cached), comparing every projection's outputs and every position's logits
    /// with the golden model bit for bit; exit 1 at the first difference.
    #[arg(long, conflicts_with = "fp_lanes")]
    pub rtl: bool,
    /// With --rtl: where the VCD of a failing projection goes (default:
    /// out/<name>/infer-mismatch.vcd).
    #[arg(long, value_name = "FILE", requires = "rtl")]
    pub vcd: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// With --rtl, see the mismatch report work on a correct core: flips the lowest bit of
    /// the golden output OUTPUT of the projection KIND of layer LAYER at position POSITION
    /// before the comparison (all from 0; KIND: q k v o gate up down).
    #[arg(long, value_name = "POSITION,LAYER,KIND,OUTPUT", value_parser = parse_site, requires = "rtl")]
    pub flip_expected: Option<(ProjectionSite, usize)>,
}

/// `POSITION,LAYER,KIND,OUTPUT` as a projection site and an output index.
fn parse_site(text: &str) -> Result<(ProjectionSite, usize), String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [position, layer, kind, output] = parts.as_slice() else {
        return Err(format!("`{text}` is not POSITION,LAYER,KIND,OUTPUT"));
    };
    let index = |s: &str| {
        s.parse::<usize>()
            .map_err(|e| format!("`{s}` in `{text}`: {e}"))
    };
    let kind = ProjectionKind::ALL
        .into_iter()
        .find(|k| k.name() == *kind)
        .ok_or_else(|| {
            format!("`{kind}` in `{text}` is not a projection (q k v o gate up down)")
        })?;
    Ok((
        ProjectionSite {
            position: index(position)?,
            layer: index(layer)?,
            kind,
        },
        index(output)?,
    ))
}
