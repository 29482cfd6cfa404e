//! `hgf cosim`: summary and JSON, exit codes, the mismatch path (VCD, stage), argument and
//! file errors, and layers from files written by `hgf golden --random`.

use std::path::Path;

use serde_json::Value;

use crate::util::{hgf_in, stderr, stdout};

/// The small core `sim/tests/core_cosim.rs` uses: the same Verilog, so one cached model.
const SMALL: &str = "name = \"core_small\"\nmax_d_in = 12\nmax_d_out = 8\nmax_rank = 2\narray_rows = 2\narray_inputs = 5\nfp_lanes = 2\n";

fn small_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), SMALL).unwrap();
    dir
}

fn json_of(dir: &Path, args: &[&str], code: i32) -> Value {
    let out = hgf_in(dir, args);
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("JSON summary")
}

#[test]
fn cosim_summary_and_json_report_the_run() {
    let dir = small_dir();
    let v = json_of(
        dir.path(),
        &["cosim", "--config", "c.toml", "--tokens", "3", "--json"],
        0,
    );
    assert_eq!(v["tokens"], 3);
    assert_eq!(v["outputs_compared"], 24);
    assert_eq!(v["mismatches"], 0);
    assert!(v["first_mismatch"].is_null());
    assert_eq!(v["config"]["name"], "core_small");
    let first = v["first_token_cycles"].as_u64().unwrap();
    let steady = v["steady_cycles_per_token"].as_f64().unwrap();
    let ideal = v["ideal_cycles_per_token"].as_u64().unwrap();
    assert_eq!(ideal, 28, "hgf config's ideal_cycles for this config");
    assert!(first as f64 >= steady && steady >= ideal as f64);
    let utilisation = v["utilisation"].as_f64().unwrap();
    // JSON's decimal rendering may move the last bit.
    assert!(
        (utilisation - ideal as f64 / steady).abs() < 1e-12,
        "{utilisation}"
    );
    // Without stalls the cycles are the cycle model's, which the JSON states beside them.
    assert_eq!(v["cycles_as_expected"], true);
    assert_eq!(v["expected_cycles_per_token"]["after_reset"], first);
    assert_eq!(
        v["expected_cycles_per_token"]["steady"].as_f64(),
        Some(steady)
    );
    assert!(v["simulated_cycles"].as_u64().unwrap() >= first + 2 * ideal);
    assert!(v["simulated_cycles_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(v["stall"], 0.0);

    // Stalls on every stream cost cycles but change no output.
    let stalled = json_of(
        dir.path(),
        &[
            "cosim", "--config", "c.toml", "--tokens", "3", "--stall", "0.6", "--json",
        ],
        0,
    );
    assert_eq!(stalled["mismatches"], 0);
    assert!(stalled["steady_cycles_per_token"].as_f64().unwrap() > steady);
    assert!(stalled["cycles_as_expected"].is_null());

    let out = hgf_in(
        dir.path(),
        &["cosim", "--config", "c.toml", "--tokens", "2"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "core:       core_small",
        "cosim:      2 tokens, 16 outputs compared bit for bit, 0 mismatches",
        "ideal 28, utilisation",
        "without stalls, limited by the ternary flow; measured the same",
        "simulated cycles/s",
    ] {
        assert!(text.contains(line), "`{line}` missing from:\n{text}");
    }
    assert!(!text.contains("mismatch:"), "{text}");
}

#[test]
fn a_mismatch_exits_with_1_names_the_stage_and_writes_the_vcd() {
    let dir = small_dir();
    let args = [
        "cosim",
        "--config",
        "c.toml",
        "--tokens",
        "3",
        "--stall",
        "0.3",
        "--flip-expected",
        "1,6",
        "--vcd",
        "traces/fail.vcd",
    ];
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let v = json_of(dir.path(), &json_args, 1);
    assert_eq!(v["mismatches"], 1);
    let m = &v["first_mismatch"];
    assert_eq!(
        (m["token"].as_u64(), m["output"].as_u64()),
        (Some(1), Some(6))
    );
    let (rtl, golden) = (
        m["rtl"]["hex"].as_str().unwrap(),
        m["golden"]["hex"].as_str().unwrap(),
    );
    let bits = |h: &str| u16::from_str_radix(h.trim_start_matches("0x"), 16).unwrap();
    assert_eq!(bits(rtl) ^ bits(golden), 1, "the flipped bit");
    // The core is right, so every gate input matches: the stage named is the gate.
    assert_eq!(m["stage"]["name"], "gate");
    assert_eq!(m["stage"]["row"], 6);
    assert_eq!(m["stage"]["rows_differing"], 0);
    assert_eq!(m["reproduced"], true);
    assert_eq!(v["expected_flipped"]["token"], 1);

    let vcd_path = dir.path().join("traces/fail.vcd");
    assert_eq!(m["vcd"], "traces/fail.vcd");
    let mut parser = vcd::Parser::new(std::io::BufReader::new(
        std::fs::File::open(&vcd_path).expect("the VCD is written"),
    ));
    let header = parser.parse_header().expect("a readable VCD");
    for port in [
        "clock", "reset", "x_data", "t_data_0", "f_data_1", "y_data", "y_valid",
    ] {
        assert!(
            header.find_var(&["TOP", port]).is_some(),
            "port {port} missing"
        );
    }

    let out = hgf_in(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "mismatch:   token 1, output 6: rtl 0x",
        "stage:      gate: every gate input of row 6",
        "vcd:        traces/fail.vcd (token 1",
        "1 mismatch\n",
    ] {
        assert!(text.contains(line), "`{line}` missing from:\n{text}");
    }

    // Without --vcd the trace goes next to `hgf run`'s output, out/<name>/.
    let out = hgf_in(
        dir.path(),
        &[
            "cosim",
            "--config",
            "c.toml",
            "--tokens",
            "1",
            "--flip-expected",
            "0,0",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(dir
        .path()
        .join("out/core_small/cosim-mismatch.vcd")
        .exists());
    // See: issue #17. One token in the singular; the model, built by the run above, is said
    // to be reused rather than announced as "verilating (cached after the first run)".
    let err = stderr(&out);
    assert!(err.contains("co-simulating 1 token ..."), "{err}");
    assert!(
        err.contains("Verilator model reused from the cache"),
        "{err}"
    );
    assert!(!err.contains("cached after the first"), "{err}");
}

#[test]
fn bad_arguments_and_missing_files_are_errors() {
    let dir = small_dir();
    for (stall, expected) in [
        ("1", "0 <= P < 1"),
        ("1.5", "0 <= P < 1"),
        ("-0.1", "0 <= P < 1"),
        ("NaN", "0 <= P < 1"),
        ("often", "--stall"),
    ] {
        let out = hgf_in(
            dir.path(),
            &["cosim", "--config", "c.toml", "--stall", stall],
        );
        assert_eq!(out.status.code(), Some(2), "--stall {stall}");
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
    }
    let cases: [(&[&str], &str); 5] = [
        (&["--weights", "missing.safetensors"], "missing.safetensors"),
        (&["--input", "missing.npy"], "missing.npy"),
        (&["--tokens", "0"], "--tokens"),
        (&["--tokens", "2", "--input", "x.npy"], "--tokens"),
        (&["--flip-expected", "9,0"], "--flip-expected 9,0"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["cosim", "--config", "c.toml"];
        args.extend_from_slice(extra);
        let out = hgf_in(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{extra:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn an_input_file_without_tokens_is_an_error_not_a_vacuous_pass() {
    let dir = small_dir();
    let none = ndarray::Array2::from_elem((0, 12), half::f16::ONE);
    hgf_golden::io::save_tokens(dir.path().join("none.npy"), none.view()).unwrap();
    let out = hgf_in(
        dir.path(),
        &["cosim", "--config", "c.toml", "--input", "none.npy"],
    );
    // It used to report `0 outputs compared bit for bit, 0 mismatches` and exit 0.
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("none.npy") && err.contains("no tokens") && err.contains("at least 1"),
        "{err}"
    );
}

#[test]
fn an_unusable_model_cache_is_named_with_the_os_reason_once() {
    let dir = small_dir();
    std::fs::write(dir.path().join("file"), "").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hgf"))
        .args(["cosim", "--config", "c.toml"])
        .env("HGF_SIM_CACHE", dir.path().join("file/cache"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("file/cache"), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
}

#[test]
fn weights_and_input_files_from_hgf_golden_round_trip() {
    let dir = small_dir();
    let out = hgf_in(
        dir.path(),
        &[
            "golden",
            "--random",
            "--config",
            "c.toml",
            "--seed",
            "7",
            "--tokens",
            "3",
            "--weights",
            "w.safetensors",
            "--input",
            "x.npy",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let files = json_of(
        dir.path(),
        &[
            "cosim",
            "--config",
            "c.toml",
            "--weights",
            "w.safetensors",
            "--input",
            "x.npy",
            "--json",
        ],
        0,
    );
    assert_eq!(files["tokens"], 3);
    assert_eq!(files["outputs_compared"], 24);
    assert_eq!(files["mismatches"], 0);
    assert_eq!(files["weights"], "w.safetensors");
    assert_eq!(files["input"], "x.npy");
    // The same layer and tokens generated from the seed run the same cycles.
    let seeded = json_of(
        dir.path(),
        &[
            "cosim", "--config", "c.toml", "--seed", "7", "--tokens", "3", "--json",
        ],
        0,
    );
    assert_eq!(seeded["weights"], "random (seed 7)");
    for field in ["first_token_cycles", "simulated_cycles"] {
        assert_eq!(files[field], seeded[field], "{field}");
    }

    // A file of another shape is refused, naming the file and what it needs.
    std::fs::write(
        dir.path().join("other.toml"),
        SMALL.replace("max_d_in = 12", "max_d_in = 10"),
    )
    .unwrap();
    let out = hgf_in(
        dir.path(),
        &[
            "golden",
            "--random",
            "--config",
            "other.toml",
            "--input",
            "x10.npy",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = hgf_in(
        dir.path(),
        &[
            "cosim",
            "--config",
            "c.toml",
            "--weights",
            "w.safetensors",
            "--input",
            "x10.npy",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("x10.npy") && stderr(&out).contains("d_in = 12"),
        "{}",
        stderr(&out)
    );
    let out = hgf_in(
        dir.path(),
        &[
            "cosim",
            "--config",
            "other.toml",
            "--weights",
            "w.safetensors",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("w.safetensors"), "{}", stderr(&out));
}

// See: issue #17: the flag was hidden from `--help` and the README.
#[test]
fn flip_expected_is_documented_in_the_help() {
    let out = crate::util::hgf(&["cosim", "--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let help = stdout(&out);
    assert!(
        help.contains("--flip-expected <TOKEN,OUTPUT>") && help.contains("mismatch report"),
        "{help}"
    );
    let readme = include_str!("../README.md");
    assert!(
        readme.contains("--flip-expected"),
        "the README documents it"
    );
}

// See: issue #13: one core instance runs a sequence of shapes from a file.
#[test]
fn a_shapes_file_runs_every_shape_on_one_core_back_to_back() {
    let dir = small_dir();
    let d = dir.path();
    // Within the maxima 12 x 8, rank 2: the largest shape, a ternary-only one whose d_out is
    // not a multiple of the 2 array rows and d_in not of the 5 inputs, and a rank-1 one.
    std::fs::write(
        d.join("s.toml"),
        "[[run]]\nd_in = 12\nd_out = 8\nrank = 2\ntokens = 2\n\
         [[run]]\nd_in = 7\nd_out = 3\nrank = 0\n\
         [[run]]\nd_in = 4\nd_out = 8\nrank = 1\ntokens = 2\n",
    )
    .unwrap();
    let v = json_of(
        d,
        &[
            "cosim", "--config", "c.toml", "--shapes", "s.toml", "--json",
        ],
        0,
    );
    assert_eq!(v["tokens"], 5);
    assert_eq!(v["outputs_compared"], 2 * 8 + 3 + 2 * 8);
    assert_eq!(v["mismatches"], 0);
    assert_eq!(v["cycles_as_expected"], true);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[1]["d_in"], 7);
    assert_eq!(runs[1]["rank"], 0);
    assert_eq!(runs[2]["tokens"], 2);
    // Under stalls too, bit for bit.
    let v = json_of(
        d,
        &[
            "cosim", "--config", "c.toml", "--shapes", "s.toml", "--stall", "0.5", "--json",
        ],
        0,
    );
    assert_eq!(v["mismatches"], 0);

    // A shape beyond the core's maxima is one line naming the run and the limit, exit 2.
    std::fs::write(
        d.join("big.toml"),
        "[[run]]\nd_in = 13\nd_out = 8\nrank = 2\n",
    )
    .unwrap();
    let out = hgf_in(d, &["cosim", "--config", "c.toml", "--shapes", "big.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("big.toml") && err.contains("run 0") && err.contains("max_d_in"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // --shapes replaces --weights, --input and --tokens.
    let out = hgf_in(
        d,
        &[
            "cosim", "--config", "c.toml", "--shapes", "s.toml", "--tokens", "3",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
