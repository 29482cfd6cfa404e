//! `hgf synth`: the report's fields, a bad target, a missing tool; `--blocks` / `--block`.

use std::process::Command;

use crate::util::{hgf_in, stderr, stdout};

const TINY: &str =
    "name = \"tiny\"\nmax_d_in = 5\nmax_d_out = 2\nmax_rank = 1\narray_rows = 1\narray_inputs = 5\nfp_lanes = 1\n";

#[test]
fn synth_json_reports_real_counts_and_utilisation() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), TINY).unwrap();
    let out = hgf_in(
        dir.path(),
        &[
            "synth",
            "--config",
            "tiny.toml",
            "--target",
            "ecp5-25k",
            "--no-pnr",
            "--json",
            "--out",
            "s",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // Progress: each stage with its time, on stderr.
    let err = stderr(&out);
    assert!(err.contains("synthesis (yosys) done in"), "{err}");
    let r: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("report JSON");
    assert_eq!(r["target"], "ecp5-25k");
    assert_eq!(r["device"]["package"], "CABGA256");
    assert_eq!(r["top"], "tiny_pnr");
    assert_eq!(r["wrapper"]["pins"], 19);
    assert!(r["place_and_route"].is_null());
    let res = &r["synthesis"]["resources"];
    for kind in ["lut4", "carry", "ff", "dsp", "bram"] {
        assert!(res[kind].as_u64().unwrap() > 0, "{kind}: {res}");
    }
    assert_eq!(r["synthesis"]["cells"]["TRELLIS_FF"], res["ff"]);
    let lut = &r["synthesis"]["utilisation"][0];
    assert_eq!(lut["resource"], "LUT4");
    assert_eq!(lut["available"], 24288);
    assert_eq!(r["synthesis"]["fits"], true);
    // The same report is kept next to the tool outputs.
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s/synth.json")).unwrap())
            .unwrap();
    assert_eq!(kept, r);
    assert!(dir.path().join("s/tiny_pnr.json").is_file());
    assert!(dir.path().join("s/stat.json").is_file());
    // See: issue #17: yosys ran with -q and left its log empty.
    let log = std::fs::read_to_string(dir.path().join("s/yosys.log")).unwrap();
    assert!(
        log.contains("Executing SYNTH_ECP5 pass") && log.contains("Printing statistics"),
        "yosys.log holds the whole run: {} bytes",
        log.len()
    );
    // The area estimate next to the counts: every resource, its error against yosys.
    assert_eq!(r["estimate"]["target"], "ecp5-25k");
    let checks = r["estimate_check"].as_array().unwrap();
    assert_eq!(checks.len(), 4);
    assert_eq!(checks[1]["resource"], "FF");
    assert_eq!(checks[1]["yosys"], res["ff"]);
    assert_eq!(
        checks[2]["estimate"], checks[2]["yosys"],
        "DSPs are counted exactly"
    );
    let e = checks[1]["estimate"].as_f64().unwrap();
    let y = checks[1]["yosys"].as_f64().unwrap();
    let err = checks[1]["error_percent"].as_f64().unwrap();
    assert!((err - 100.0 * (e - y) / y).abs() < 1e-9);
}

#[test]
fn synth_asic_takes_no_fpga_target() {
    let dir = tempfile::tempdir().unwrap();
    let out = hgf_in(dir.path(), &["synth", "--asic", "--target", "ecp5-25k"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--asic") && err.contains("--target"), "{err}");
}

#[test]
fn synth_rejects_an_unknown_target_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = hgf_in(dir.path(), &["synth", "--target", "ice40-lp1k"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown target `ice40-lp1k`"), "{err}");
    assert!(
        err.contains("ice40-up5k, ice40-hx8k, ecp5-25k, ecp5-85k"),
        "{err}"
    );
}

#[test]
fn a_negative_frequency_is_out_of_range_not_a_stray_argument() {
    let dir = tempfile::tempdir().unwrap();
    let out = hgf_in(dir.path(), &["synth", "--preset", "up5k", "--freq", "-12"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    // clap used to answer "unexpected argument '-12' found".
    assert!(err.contains("frequency -12 MHz is out of range"), "{err}");
    assert!(
        !dir.path().join("out").exists(),
        "nothing ran before the check"
    );
}

#[test]
fn synth_without_the_tools_names_the_setup_command() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hgf"))
        .args(["synth", "--preset", "up5k"])
        .env("PATH", empty.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("`yosys` not found"), "{err}");
    assert!(err.contains("./scripts/setup.sh"), "{err}");

    // yosys present, the ECP5 place-and-route tool not: the --ecp5 setup is named.
    let bin = tempfile::tempdir().unwrap();
    let yosys = which("yosys");
    std::os::unix::fs::symlink(yosys, bin.path().join("yosys")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hgf"))
        .args(["synth", "--target", "ecp5-25k"])
        .env("PATH", bin.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("`nextpnr-ecp5` not found"), "{err}");
    assert!(err.contains("./scripts/setup.sh --ecp5"), "{err}");
    assert!(
        !dir.path().join("out").exists(),
        "nothing ran before the check"
    );
}

#[test]
fn an_output_directory_that_cannot_be_created_is_named_with_the_os_reason_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    // Fails when the directory is created, before yosys runs.
    let out = hgf_in(
        dir.path(),
        &[
            "synth",
            "--preset",
            "up5k",
            "--no-pnr",
            "--out",
            "file/synth",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("file/synth"), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
}

/// One small block placed and routed on iCE40 (seconds): the report has a positive Fmax, the
/// block's kinds of cells and its critical path. A clock far below the block's Fmax is asked
/// for, so that the run exits 0; no timing is asserted beyond that.
#[test]
fn synth_block_places_one_block_alone_on_ice40() {
    let dir = tempfile::tempdir().unwrap();
    let out = hgf_in(
        dir.path(),
        &[
            "synth",
            "--preset",
            "up5k",
            "--target",
            "ice40-up5k",
            "--block",
            "fp16_mul",
            "--freq",
            "12",
            "--seed",
            "2",
            "--json",
            "--out",
            "b",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("[1/1] fp16_mul: place and route (nextpnr) done in"),
        "{err}"
    );
    let r: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("report JSON");
    assert_eq!(r["target"], "ice40-up5k");
    assert_eq!(r["seed"], 2);
    let blocks = r["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1);
    let b = &blocks[0];
    assert_eq!(b["name"], "fp16_mul");
    assert_eq!(b["top"], "fp16_mul_blk");
    // enable, a and b in; the binary32 product out.
    assert_eq!(b["input_bits"], 33);
    assert_eq!(b["output_bits"], 32);
    let cells = &b["synthesis"]["cells"];
    for kind in ["SB_LUT4", "SB_MAC16"] {
        assert!(cells[kind].as_u64().unwrap_or(0) > 0, "{kind}: {cells}");
    }
    let ff: u64 = cells
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("SB_DFF"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    assert!(ff >= 33 + 32, "the wrapper's registers at least: {cells}");
    let pnr = &b["place_and_route"];
    assert_eq!(pnr["status"], "placed");
    assert!(
        pnr["command"].as_str().unwrap().contains("--seed 2"),
        "{pnr}"
    );
    let fmax = pnr["fmax_mhz"].as_f64().unwrap();
    assert!(fmax > 0.0, "{pnr}");
    let path = &pnr["critical_path"];
    assert!(path["delay_ns"].as_f64().unwrap() > 0.0);
    // The name the reports give the start: the register's net where nextpnr names one.
    let start = path["start"].as_str().unwrap();
    assert_eq!(
        start,
        path["from_net"]
            .as_str()
            .unwrap_or_else(|| path["from"].as_str().unwrap()),
        "{path}"
    );
    assert_eq!(r["slowest"], serde_json::json!(["fp16_mul"]));
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("b/blocks.json")).unwrap())
            .unwrap();
    assert_eq!(kept, r);
    assert!(dir.path().join("b/fp16_mul/nextpnr.log").is_file());
}

#[test]
fn synth_block_rejects_an_unknown_block_with_exit_2_and_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = hgf_in(dir.path(), &["synth", "--block", "fp32_sub"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown block `fp32_sub`"), "{err}");
    assert!(
        err.contains("fp32_add") && err.contains("ternary_array"),
        "{err}"
    );
    assert!(
        !dir.path().join("out").exists(),
        "nothing ran before the check"
    );
}

#[test]
fn synth_seed_is_checked_and_belongs_to_the_blocks() {
    let dir = tempfile::tempdir().unwrap();
    for (args, message) in [
        (
            &["synth", "--blocks", "--seed", "-1"][..],
            "--seed -1 is out of range",
        ),
        (
            &["synth", "--preset", "up5k", "--seed", "3"][..],
            "--seed applies to --blocks and --block only",
        ),
        (&["synth", "--blocks", "--asic"][..], "cannot be used with"),
        (
            &["synth", "--blocks", "--no-pnr"][..],
            "cannot be used with",
        ),
    ] {
        let out = hgf_in(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    assert!(
        !dir.path().join("out").exists(),
        "nothing ran before the checks"
    );
}

fn which(tool: &str) -> std::path::PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{tool} on PATH"))
}
