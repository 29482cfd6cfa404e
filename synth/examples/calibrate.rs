//! Calibration of the area model against yosys (docs/estimate.md, "Area"):
//!
//!     cargo run --release -p hgf-synth --example calibrate -- [--fit] [--quick] [--reuse] [--out DIR]
//!
//! Synthesises every config of `hgf_synth::calibration::sweep` (25 cores; `--quick`: the
//! test suite's two) for iCE40 UP5K and ECP5-25k, one family per thread, and writes the
//! error table of the area estimate against yosys to `DIR/calibration.md` and `.json`
//! (default `out/area-calibration`). `--fit` first refits the coefficients (a `-noflatten`
//! run of the reference config per family) and rewrites estimate/src/area_coefficients.rs;
//! the table then shows the new coefficients. `--reuse` reads the `synth.json` of earlier
//! runs in `DIR` instead of synthesising again. Exit status 1 when an error exceeds 10%.

use std::path::PathBuf;
use std::process::ExitCode;

use hgf_estimate::area::coefficients;
use hgf_synth::calibration::{
    coefficients_source, compare, fit, markdown, measure, measure_blocks, quick_sweep, run_dir,
    sweep, Comparison, Measurement, REFERENCE, TARGETS, TOLERANCE_PERCENT,
};
use hgf_synth::{Device, SynthError, Toolbox};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("out/area-calibration"));
    // `--available`: only the configs whose runs are already in DIR (while a sweep is under
    // way); implies `--reuse`.
    let available = flag("--available");
    match run(
        &out,
        flag("--fit"),
        flag("--quick"),
        flag("--reuse") || available,
        available,
    ) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("calibrate: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(
    out: &std::path::Path,
    refit: bool,
    quick: bool,
    reuse: bool,
    available: bool,
) -> Result<bool, SynthError> {
    let mut points = if quick { quick_sweep() } else { sweep() };
    if available {
        points.retain(|p| {
            TARGETS
                .iter()
                .all(|&t| run_dir(out, p, t).join("synth.json").exists())
        });
    }
    let tools = Toolbox::from_env();
    let results: Vec<Result<Vec<Measurement>, SynthError>> = std::thread::scope(|s| {
        let handles: Vec<_> = TARGETS
            .iter()
            .map(|&target| {
                let points = &points;
                let tools = &tools;
                s.spawn(move || {
                    points
                        .iter()
                        .map(|p| {
                            let m = measure(p, target, &run_dir(out, p, target), tools, reuse)?;
                            eprintln!(
                                "calibrate: {} on {target}: {:?} ({:.0} s)",
                                p.label, m.measured, m.seconds
                            );
                            Ok(m)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    let mut measurements = Vec::new();
    for r in results {
        measurements.extend(r?);
    }
    let mut sets = Vec::new();
    for target in TARGETS {
        let family = Device::of(target).family;
        let of: Vec<Measurement> = measurements
            .iter()
            .filter(|m| m.target == target)
            .cloned()
            .collect();
        let set = if refit {
            let reference = sweep()
                .into_iter()
                .find(|p| p.label == REFERENCE)
                .expect("the reference is in the sweep");
            let dir = out.join(format!("{REFERENCE}-{target}-hierarchy"));
            let blocks = measure_blocks(&reference, target, &dir, &tools, reuse)?;
            eprintln!("calibrate: blocks of {REFERENCE} on {target}: {blocks:?}");
            let source = match family {
                hgf_synth::Family::Ice40 => {
                    "yosys 0.23 `synth_ice40 -dsp`, 25-config sweep, fitted by `calibrate --fit`"
                }
                hgf_synth::Family::Ecp5 => {
                    "yosys 0.23 `synth_ecp5`, 25-config sweep, fitted by `calibrate --fit`"
                }
            };
            fit(family, &of, &blocks, source)
        } else {
            *coefficients(family)
        };
        sets.push(set);
    }
    if refit {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../estimate/src/area_coefficients.rs");
        let refs: Vec<_> = sets.iter().collect();
        std::fs::write(&path, coefficients_source(&refs)).map_err(|error| SynthError::Io {
            path: path.clone(),
            error,
        })?;
        eprintln!(
            "calibrate: wrote {} (run `cargo fmt`, then rebuild)",
            path.display()
        );
    }
    let comparisons: Vec<Comparison> = measurements
        .iter()
        .map(|m| {
            let set = sets
                .iter()
                .find(|s| s.family == Device::of(m.target).family)
                .expect("a set per family");
            compare(m, set)
        })
        .collect();
    let table = markdown(&comparisons);
    std::fs::create_dir_all(out).map_err(|error| SynthError::Io {
        path: out.to_path_buf(),
        error,
    })?;
    for (name, text) in [
        ("calibration.md", table.clone()),
        (
            "calibration.json",
            serde_json::to_string_pretty(&comparisons).expect("serialises"),
        ),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|error| SynthError::Io {
            path: path.clone(),
            error,
        })?;
    }
    println!("{table}");
    let ok = comparisons.iter().all(|c| c.worst() <= TOLERANCE_PERCENT);
    if !ok {
        eprintln!("calibrate: some estimate is off by more than {TOLERANCE_PERCENT}%");
    }
    Ok(ok)
}
