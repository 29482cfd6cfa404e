//! Simulated cycles per second of the generated HGF core in Verilator, driven exactly as
//! `hgf run` drives it ([`CoreSim::run`]: four input streams and the output stream, beat by
//! beat, two evals per cycle, no `--trace`).
//!
//! `cargo bench -p hgf-sim --bench core_cycles` prints one line per configuration (the
//! `default` preset, the `up5k` preset and the 12x8 core of the co-simulation tests) with two
//! figures, best of [`RUNS`] runs: cycles per wall-clock second, and per CPU second of the
//! simulating thread, which is what an otherwise idle core gives (on a shared machine the
//! wall clock also counts other processes). Nothing is asserted: speed depends on the
//! machine, whose processor the bench names first. Knobs (environment) for comparing
//! builds: `HGF_BENCH_CONFIGS` (comma-separated subset of `default,up5k,small`),
//! `HGF_BENCH_TOKENS` (tokens per run),
//! `HGF_BENCH_TRACE=1` (verilate with `--trace`), `HGF_BENCH_CXX_OPT` (for example `-O3`),
//! `HGF_BENCH_VERILATOR_ARGS` (space-separated extra Verilator arguments),
//! `HGF_BENCH_VERILOG_FILE` (simulate this Verilog instead of the generated core's, for
//! example a hand-edited copy; it must keep the core's ports).

use std::time::Instant;

use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfConfig, HgfWeights};
use hgf_hdl::emit::generate;
use hgf_sim::core_driver::CoreSim;
use hgf_sim::{cpu_model, thread_cpu_time, BuildOptions};

/// Timed runs per configuration.
const RUNS: usize = 3;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut opts = BuildOptions {
        trace: env_or("HGF_BENCH_TRACE", 0u8) != 0,
        ..BuildOptions::default()
    };
    if let Ok(o) = std::env::var("HGF_BENCH_CXX_OPT") {
        opts.cxx_opt = o;
    }
    if let Ok(a) = std::env::var("HGF_BENCH_VERILATOR_ARGS") {
        opts.verilator_args = a.split_whitespace().map(String::from).collect();
    }
    eprintln!(
        "processor: {}",
        cpu_model().unwrap_or_else(|| "unknown".into())
    );
    let wanted = std::env::var("HGF_BENCH_CONFIGS").unwrap_or_else(|_| "default,up5k,small".into());
    for name in wanted.split(',') {
        let (cfg, tokens) = match name {
            "default" => (HgfConfig::default(), 8),
            "up5k" => (HgfConfig::preset("up5k")?, 16),
            "small" => (
                HgfConfig::from_toml_str(
                    "name = \"core_small\"\nmax_d_in = 12\nmax_d_out = 8\nmax_rank = 2\narray_rows = 2\n\
                     array_inputs = 5\nfp_lanes = 2",
                )?,
                2000,
            ),
            other => return Err(format!("unknown config {other}").into()),
        };
        let tokens = env_or("HGF_BENCH_TOKENS", tokens);
        let g = generate(&cfg)?;
        let verilog = match std::env::var("HGF_BENCH_VERILOG_FILE") {
            Ok(f) => std::fs::read_to_string(f)?,
            Err(_) => g.verilog.clone(),
        };
        let sim = CoreSim::build(&cfg, &verilog, &opts)?;
        eprintln!(
            "{name}: {} Verilog lines, model {:?} in {:.1} s",
            g.verilog.lines().count(),
            sim.lib().outcome(),
            sim.lib().elapsed().as_secs_f64()
        );
        let w = HgfWeights::random(cfg.max_shape(), 1);
        let x = random_tokens(cfg.max_d_in, tokens, 1);
        // One token to warm up caches and the CPU clock, then the best of `RUNS` runs: on a
        // shared machine the best run is the one least disturbed by other processes.
        sim.run(&w, x.slice(ndarray::s![..1, ..]), 0.0, 1, u64::MAX)?;
        let (mut best_wall, mut best_cpu, mut cycles) = (f64::MAX, f64::MAX, 0);
        for _ in 0..RUNS {
            let start = Instant::now();
            let cpu_start = thread_cpu_time();
            let run = sim.run(&w, x.view(), 0.0, 1, u64::MAX)?;
            best_wall = best_wall.min(start.elapsed().as_secs_f64());
            if let Some(cpu) = cpu_start.zip(thread_cpu_time()).map(|(a, b)| b - a) {
                best_cpu = best_cpu.min(cpu.as_secs_f64());
            }
            cycles = run.cycles;
        }
        let per_cpu_second = if best_cpu < f64::MAX {
            format!("{:7.4}", cycles as f64 / best_cpu / 1e6)
        } else {
            "-".into()
        };
        println!(
            "{name:8} {:7.4} M cycles/s wall, {per_cpu_second} M cycles/s CPU  ({cycles} cycles, \
             {tokens} tokens, best of {RUNS})",
            cycles as f64 / best_wall / 1e6,
        );
    }
    Ok(())
}
