//! `hgf run`, the README's main job (generate, co-simulate, report), the overwrite guard
//! of `hgf golden --random`, and negative counts and seeds on the commands that take them.

use crate::util::{hgf, hgf_in, stderr, stdout};

#[test]
fn run_generates_cosimulates_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "name = \"run_core\"\nmax_d_in = 10\nmax_d_out = 6\nmax_rank = 2\narray_rows = 2\narray_inputs = 5\nfp_lanes = 2\n",
    )
    .unwrap();
    let args = [
        "run", "--config", "c.toml", "--tokens", "2", "--out", "o", "--json",
    ];
    let out = hgf_in(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    assert_eq!(v["mismatches"], 0);
    assert_eq!(v["outputs_compared"], 12);
    assert_eq!(v["tokens"], 2);
    let steady = v["steady_cycles_per_token"].as_f64().unwrap();
    let ideal = v["ideal_cycles_per_token"].as_f64().unwrap();
    assert!(steady >= ideal, "{steady} cycles per token, ideal {ideal}");
    let utilisation = v["utilisation"].as_f64().unwrap();
    // JSON's decimal rendering may move the last bit.
    assert!(
        (utilisation - ideal / steady).abs() < 1e-12,
        "{utilisation}"
    );
    assert!(v["first_mismatch"].is_null());
    // Speed in wall-clock and in CPU time of the simulating thread (Linux has that clock).
    for key in [
        "simulated_cycles_per_second",
        "simulated_cycles_per_cpu_second",
    ] {
        let speed = v[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {}", v[key]));
        assert!(speed.is_finite() && speed > 0.0, "{key}: {speed}");
    }
    // ... and the processor they were measured on (null where Linux does not name it).
    assert_eq!(v["processor"], serde_json::json!(hgf_sim::cpu_model()));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("o/report.json")).unwrap())
            .unwrap();
    assert_eq!(written, v);
    assert!(dir.path().join("o/run_core.v").exists());
    // A second run reuses the Verilator model and gives the same figures.
    let again: serde_json::Value =
        serde_json::from_str(&stdout(&hgf_in(dir.path(), &args))).unwrap();
    assert_eq!(again["verilator_model"], "reused from cache");
    assert_eq!(again["first_token_cycles"], v["first_token_cycles"]);
    assert_eq!(
        again["steady_cycles_per_token"],
        v["steady_cycles_per_token"]
    );
}

#[test]
fn random_does_not_overwrite_files_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("w.safetensors"), b"precious").unwrap();
    let args = [
        "golden",
        "--random",
        "--weights",
        "w.safetensors",
        "--input",
        "x.npy",
    ];
    let out = hgf_in(dir.path(), &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(dir.path().join("w.safetensors")).unwrap(),
        b"precious"
    );
    let mut forced = args.to_vec();
    forced.push("--force");
    let out = hgf_in(dir.path(), &forced);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(
        std::fs::read(dir.path().join("w.safetensors")).unwrap(),
        b"precious"
    );
}

#[test]
fn random_does_not_write_two_files_to_one_path() {
    let dir = tempfile::tempdir().unwrap();
    // The tokens used to overwrite the weights just written, and the run exited 0.
    let out = hgf_in(
        dir.path(),
        &["golden", "--random", "--weights", "same", "--input", "same"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("--weights and --input both name same"),
        "{err}"
    );
    assert!(!dir.path().join("same").exists());
    let out = hgf_in(
        dir.path(),
        &[
            "golden", "--random", "--input", "x.npy", "--output", "x.npy",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("--input and --output both name x.npy"));
}

#[test]
fn negative_counts_and_seeds_name_the_option() {
    // clap used to answer "unexpected argument '-1' found", as if the option took no value.
    for args in [
        &["run", "--tokens", "-1"][..],
        &["cosim", "--seed", "-1"],
        &["golden", "--random", "--tokens", "-3"],
        &[
            "explore",
            "--model",
            "hgf-25m",
            "--board",
            "ulx3s",
            "--target",
            "ecp5-25k",
            "--confirm",
            "-1",
        ],
    ] {
        let out = hgf(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("invalid value '-"), "{args:?}: {err}");
    }
}

// See: issue #17: a run whose co-simulation failed left the Verilog and the manifest behind.
#[test]
fn a_run_that_fails_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    // The model cannot be built (its cache is under a file): the run fails after the core
    // was generated.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hgf"))
        .args(["run", "--preset", "up5k", "--tokens", "1", "--out", "o"])
        .env("HGF_SIM_CACHE", dir.path().join("file/cache"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        !dir.path().join("o").exists(),
        "left behind: {:?}",
        std::fs::read_dir(dir.path().join("o"))
            .map(|d| d.map(|e| e.unwrap().file_name()).collect::<Vec<_>>())
    );
}
