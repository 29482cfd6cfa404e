//! `hgf estimate`: models on boards, overrides, JSON, the plot and the errors.

use crate::util::{hgf, hgf_in, stderr, stdout};

fn json_of(args: &[&str]) -> serde_json::Value {
    let out = hgf(args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("JSON")
}

#[test]
fn bitnet_on_arty_is_memory_bound_until_the_bandwidth_grows() {
    // The core of the hand calculations in estimate/tests/bandwidth.rs (R = 4, C = 40, 8 FP
    // lanes, base3, maxima 6912 that hold BitNet 2B4T's largest projections).
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c40.toml");
    std::fs::write(
        &cfg,
        "max_d_in = 6912\nmax_d_out = 6912\narray_rows = 4\narray_inputs = 40\nfp_lanes = 8\n\
         packing = \"base3\"\n",
    )
    .unwrap();
    let base = [
        "estimate",
        "--config",
        cfg.to_str().unwrap(),
        "--model",
        "bitnet-2b4t",
        "--board",
        "arty-a7",
        "--json",
    ];
    let v = json_of(&base);
    let run = &v["models"][0];
    assert_eq!(run["packing"], "base3");
    assert_eq!(run["bytes"]["per_token"]["total"], 416_936_880u64);
    // Cycles: the core's cycle model (estimate/tests/bandwidth.rs works it out by hand).
    assert_eq!(run["cycles"]["per_token"], 14_405_370u64);
    let board = &run["boards"][0];
    assert_eq!(board["board"], "arty-a7");
    assert_eq!(board["bound"], "memory");
    assert_eq!(board["fits_in_memory"], false);
    let tps = board["tokens_per_s"].as_f64().unwrap();
    assert!((tps - 1423e6 / 416_936_880.0).abs() < 1e-9, "{tps}");

    let mut fast = base.to_vec();
    fast.extend(["--bandwidth", "10000"]);
    let v = json_of(&fast);
    let board = &v["models"][0]["boards"][0];
    assert_eq!(board["bound"], "compute");
    assert_eq!(board["bandwidth_mb_s"], 10000.0);
    assert_eq!(v["boards"][0]["sustained_basis"], "given: --bandwidth");
}

#[test]
fn clock_override_and_custom_board() {
    let v = json_of(&[
        "estimate", "--model", "hgf-25m", "--board", "kv260", "--clock", "400", "--json",
    ]);
    assert_eq!(v["models"][0]["boards"][0]["clock_mhz"], 400.0);
    let v = json_of(&[
        "estimate",
        "--model",
        "hgf-25m",
        "--bandwidth",
        "50",
        "--clock",
        "20",
        "--json",
    ]);
    assert_eq!(v["boards"].as_array().unwrap().len(), 1);
    assert_eq!(v["boards"][0]["name"], "custom");
    let board = &v["models"][0]["boards"][0];
    assert_eq!(board["board"], "custom");
    assert_eq!(board["clock_mhz"], 20.0);
    // A custom board has no memory size: whether the weights fit it is unknown.
    assert_eq!(board["fits_in_memory"], serde_json::Value::Null);
}

#[test]
fn the_default_is_every_model_on_every_board_with_a_summary() {
    let out = hgf(&["estimate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for name in ["hgf-25m", "bitnet-2b4t", "hgf-1.2b", "hgf-3b"] {
        assert!(text.contains(&format!("model {name}:")), "{name}");
        assert!(text.contains(&format!("| {name} |")), "{name}");
    }
    for board in ["icebreaker", "ulx3s", "orangecrab", "arty-a7", "kv260"] {
        assert!(text.contains(board), "{board}");
    }
    assert!(text.contains("the low-rank path adds"), "{text}");
}

#[test]
fn a_model_file_and_a_config_preset() {
    let dir = tempfile::tempdir().unwrap();
    let model = "name = \"mini\"\nlayers = 3\n\
                 [q]\nd_in = 80\nd_out = 80\nrank = 8\n[k]\nd_in = 80\nd_out = 80\n\
                 [v]\nd_in = 80\nd_out = 80\n[o]\nd_in = 80\nd_out = 80\n\
                 [up]\nd_in = 80\nd_out = 160\n[down]\nd_in = 160\nd_out = 80\n";
    std::fs::write(dir.path().join("m.toml"), model).unwrap();
    let out = hgf_in(
        dir.path(),
        &[
            "estimate",
            "--model-file",
            "m.toml",
            "--preset",
            "up5k",
            "--board",
            "icebreaker",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["core"]["array_inputs"], 4);
    // The up5k core (256 x 256, rank 8) runs every projection of this model.
    assert!(
        v["unmapped"].as_array().unwrap().is_empty(),
        "{}",
        v["unmapped"]
    );
    // 2bit, C = 4: 80 inputs = 20 blocks, 20 bytes per row; q: 80 rows * 20 = 1,600 bytes.
    let m = &v["models"][0];
    assert_eq!(m["packing"], "2bit");
    assert_eq!(m["bytes"]["packing"], "2bit");
    let q = &m["bytes"]["projections"][0];
    assert_eq!(q["projection"], "q");
    assert_eq!(q["weight"], 1600);
    // q's factors: 8 * (80 + 80) binary16 = 2,560 bytes.
    assert_eq!(q["factor"], 2560);
    // k has no rank: a ternary-only projection, with no factor bytes.
    let k = &m["bytes"]["projections"][1];
    assert_eq!(
        (k["projection"].as_str(), k["rank"].as_u64()),
        (Some("k"), Some(0))
    );
    assert_eq!(k["weight"], 1600);
    assert_eq!(k["factor"], 0);
}

#[test]
fn bad_model_file_exits_2_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.toml"), "name = \"x\"\nlayers = 0\n").unwrap();
    let out = hgf_in(dir.path(), &["estimate", "--model-file", "m.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("m.toml") && err.contains("`layers`") && err.contains("1..=1024"),
        "{err}"
    );
    // The message appears once, not repeated as its own cause.
    assert_eq!(err.matches("`layers`").count(), 1, "{err}");
}

#[test]
fn missing_model_file_is_named_with_the_os_reason_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = hgf_in(dir.path(), &["estimate", "--model-file", "absent.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("absent.toml"), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
}

#[test]
fn usage_errors_exit_2_with_what_is_allowed() {
    for (args, expect) in [
        (
            vec!["estimate", "--model", "llama"],
            "hgf-25m, bitnet-2b4t, hgf-1.2b, hgf-3b",
        ),
        (
            vec!["estimate", "--board", "de10"],
            "icebreaker, ulx3s, orangecrab, arty-a7, kv260",
        ),
        (vec!["estimate", "--bandwidth", "100"], "needs `--clock`"),
        (
            vec!["estimate", "--board", "ulx3s", "--bandwidth", "0"],
            "`--bandwidth` = 0",
        ),
        (vec!["estimate", "--clock", "nan"], "`--clock` = NaN"),
        (
            vec!["estimate", "--board", "ulx3s", "--bandwidth", "-5"],
            "`--bandwidth` = -5 is out of range",
        ),
        (
            vec!["estimate", "--clock", "-25"],
            "`--clock` = -25 is out of range",
        ),
        (vec!["estimate", "--preset", "huge"], "default, up5k"),
    ] {
        let out = hgf(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(expect), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn plot_writes_an_svg_naming_the_boards() {
    let dir = tempfile::tempdir().unwrap();
    let out = hgf_in(
        dir.path(),
        &["estimate", "--model", "hgf-25m", "--plot", "roof.svg"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("roof.svg"));
    let svg = std::fs::read_to_string(dir.path().join("roof.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    for board in ["icebreaker", "ulx3s", "orangecrab", "arty-a7", "kv260"] {
        assert!(svg.contains(board), "{board}");
    }
}

/// A model small enough for the `up5k` core (256 x 256, rank 8): its largest projection is
/// 160 -> 80 and its rank 8. Written to `dir`; returns its path.
fn up5k_sized_model(dir: &std::path::Path) -> String {
    let path = dir.join("mini.toml");
    std::fs::write(
        &path,
        "name = \"mini\"\nlayers = 3\n\
         [q]\nd_in = 80\nd_out = 80\nrank = 8\n[k]\nd_in = 80\nd_out = 80\n\
         [v]\nd_in = 80\nd_out = 80\n[o]\nd_in = 80\nd_out = 80\n\
         [up]\nd_in = 80\nd_out = 160\n[down]\nd_in = 160\nd_out = 80\n",
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn the_core_area_is_estimated_per_block_with_its_fit() {
    // An explicit up5k-sized core (256 x 256, rank 8, 1 x 20, one lane, one gate
    // multiplier) on the UP5K: 5 DSPs and 9 block RAMs by the structure. The model is one
    // that this core runs (no built-in model fits 256 x 256).
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("small.toml");
    std::fs::write(
        &cfg,
        "preset = \"up5k\"\nmax_d_in = 256\nmax_d_out = 256\nmax_rank = 8\narray_rows = 1\n\
         array_inputs = 20\nfp_lanes = 1\ngate_multipliers = 1\npacking = \"2bit\"\n\
         target = \"ice40-up5k\"\n",
    )
    .unwrap();
    let path = cfg.to_str().unwrap();
    let model = up5k_sized_model(dir.path());
    let v = json_of(&[
        "estimate",
        "--config",
        path,
        "--model-file",
        &model,
        "--board",
        "icebreaker",
        "--json",
    ]);
    let area = &v["area"];
    assert_eq!(area["target"], "ice40-up5k");
    assert_eq!(area["core"]["dsp"], 5);
    // What `hgf synth --preset up5k` measures (docs/results.md); the tenth is the output
    // queue's.
    assert_eq!(area["core"]["bram"], 10);
    let blocks = area["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 9);
    let lut: u64 = blocks
        .iter()
        .filter(|b| b["block"] != "pnr_wrapper")
        .map(|b| b["lut4"].as_u64().unwrap())
        .sum();
    assert_eq!(area["core"]["lut4"].as_u64().unwrap(), lut);
    let fit = &area["fit"][0];
    assert_eq!(fit["resource"], "LUT4");
    assert_eq!(fit["available"], 5280);
    assert_eq!(
        fit["margin"].as_i64().unwrap(),
        5280 - area["core"]["lut4"].as_i64().unwrap()
    );
    // The text names the blocks and the fit.
    let out = hgf(&[
        "estimate",
        "--config",
        path,
        "--model-file",
        &model,
        "--board",
        "icebreaker",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("area of the core on ice40-up5k"), "{text}");
    assert!(
        text.contains("lowrank_unit") && text.contains("margin"),
        "{text}"
    );
}

/// A core whose maxima (6912 x 6912, rank 64) run every projection of `hgf-25m`,
/// `bitnet-2b4t` and `hgf-1.2b`, but not all of `hgf-3b`'s: its attention projections have
/// rank 100, its `gate` and `up` 8640 outputs and its `down` 8640 inputs. The array and the
/// packing are pinned, so that the tests below do not depend on the preset's values.
fn rank_64_core(dir: &std::path::Path) -> String {
    let cfg = dir.join("rank64.toml");
    std::fs::write(
        &cfg,
        "max_d_in = 6912\nmax_d_out = 6912\nmax_rank = 64\narray_rows = 4\narray_inputs = 25\n\
         packing = \"base3\"\n",
    )
    .unwrap();
    cfg.to_str().unwrap().to_string()
}

/// The start of the reason `hgf-3b` is not runnable on [`rank_64_core`].
const HGF_3B_REASON: &str = "model `hgf-3b` is not runnable on this core (up to 6912x6912 \
                             rank 64, array 4x25";

/// Every projection of `hgf-3b` beyond [`rank_64_core`]'s maxima, as the reason names them:
/// the first limit each exceeds.
const HGF_3B_BEYOND: [&str; 7] = [
    "q 3200x3200 rank 100: rank 100 exceeds max_rank 64",
    "k 3200x3200 rank 100: rank 100 exceeds max_rank 64",
    "v 3200x3200 rank 100: rank 100 exceeds max_rank 64",
    "o 3200x3200 rank 100: rank 100 exceeds max_rank 64",
    "gate 3200x8640 rank 0: d_out 8640 exceeds max_d_out 6912",
    "up 3200x8640 rank 0: d_out 8640 exceeds max_d_out 6912",
    "down 8640x3200 rank 0: d_in 8640 exceeds max_d_in 6912",
];

#[test]
fn every_model_that_fits_is_estimated_and_the_others_are_named_with_the_reason() {
    // The command of the bug report: it used to stop at hgf-3b and print nothing else. The
    // up5k core (256 x 256) runs none of the built-in models now: the error names every
    // model with the projections it cannot run, not only the first.
    let out = hgf(&["estimate", "--preset", "up5k", "--board", "icebreaker"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("none of the models runs on this core"),
        "{err}"
    );
    // One line, as every error.
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    for name in ["hgf-25m", "bitnet-2b4t", "hgf-1.2b", "hgf-3b"] {
        assert!(
            err.contains(&format!("model `{name}` is not runnable on this core")),
            "{name}: {err}"
        );
    }
    assert!(
        err.contains("q 512x512 rank 16: d_in 512 exceeds max_d_in 256"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let cfg = rank_64_core(dir.path());
    let out = hgf(&["estimate", "--config", &cfg, "--board", "icebreaker"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // The models that fit keep their whole estimate: table, throughput and summary row.
    for name in ["hgf-25m", "bitnet-2b4t", "hgf-1.2b"] {
        let section = text
            .split(&format!("\nmodel {name}:"))
            .nth(1)
            .unwrap_or_else(|| panic!("no section of {name}:\n{text}"));
        let section = section.split("\nmodel ").next().unwrap();
        assert!(
            section.contains("bytes and cycles per token, one layer (base3 packing"),
            "{name}:\n{section}"
        );
        assert!(section.contains("  icebreaker "), "{name}:\n{section}");
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| {name} | ")))
            .unwrap_or_else(|| panic!("no summary row of {name}:\n{text}"));
        assert!(row.contains(" M"), "{row}");
    }
    // hgf-3b: its section says which projections the core cannot run and the limits; its
    // summary cells say it was not estimated.
    let section = text
        .split("\nmodel hgf-3b:")
        .nth(1)
        .unwrap_or_else(|| panic!("no section of hgf-3b:\n{text}"));
    assert!(
        section.contains(&format!("not estimated: {HGF_3B_REASON}")),
        "{section}"
    );
    for beyond in HGF_3B_BEYOND {
        assert!(section.contains(beyond), "{beyond}:\n{section}");
    }
    assert!(!section.contains("bytes and cycles per token"), "{section}");
    assert!(text.contains("| hgf-3b | - |"), "{text}");
    assert!(text.contains("-: not estimated"), "{text}");
}

#[test]
fn json_lists_a_model_that_does_not_fit_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = rank_64_core(dir.path());
    let out = hgf(&[
        "estimate",
        "--config",
        &cfg,
        "--board",
        "icebreaker",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let models: Vec<&str> = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["hgf-25m", "bitnet-2b4t", "hgf-1.2b"]);
    // Every estimated model has its numbers, in the core's packing.
    for m in v["models"].as_array().unwrap() {
        assert_eq!(m["packing"], "base3", "{}", m["model"]["name"]);
        assert!(m["cycles"]["per_token"].as_u64().unwrap() > 0);
        assert!(m["bytes"]["per_token"]["total"].as_u64().unwrap() > 0);
    }
    let unmapped = v["unmapped"].as_array().unwrap();
    assert_eq!(unmapped.len(), 1, "{unmapped:?}");
    let u = &unmapped[0];
    assert_eq!(u["model"]["name"], "hgf-3b");
    // The first projection the core cannot run, and the field it exceeds.
    assert_eq!(u["projection"], "q");
    assert_eq!(u["field"], "max_rank");
    let error = u["error"].as_str().unwrap();
    assert!(error.starts_with(HGF_3B_REASON), "{u}");
    for beyond in HGF_3B_BEYOND {
        assert!(error.contains(beyond), "{beyond}: {u}");
    }
    // Every projection beyond the maxima, with the limit it exceeds.
    let beyond: Vec<(&str, &str, u64, u64)> = u["projections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["projection"].as_str().unwrap(),
                p["field"].as_str().unwrap(),
                p["value"].as_u64().unwrap(),
                p["limit"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        beyond,
        [
            ("q", "max_rank", 100, 64),
            ("k", "max_rank", 100, 64),
            ("v", "max_rank", 100, 64),
            ("o", "max_rank", 100, 64),
            ("gate", "max_d_out", 8640, 6912),
            ("up", "max_d_out", 8640, 6912),
            ("down", "max_d_in", 8640, 6912),
        ]
    );
    let down = &u["projections"][6];
    assert_eq!(
        (&down["d_in"], &down["d_out"], &down["rank"]),
        (&8640.into(), &3200.into(), &0.into())
    );
    assert!(u.get("bytes").is_none() && u.get("cycles").is_none(), "{u}");
    // stdout is the JSON alone; stderr names the model that was left out.
    assert!(
        stderr(&out).contains("model `hgf-3b` not estimated"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_named_model_that_does_not_fit_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = rank_64_core(dir.path());
    for (source, reasons) in [
        (
            ["--preset", "up5k"],
            vec![
                "model `hgf-3b` is not runnable on this core (up to 256x256 rank 8",
                "q 3200x3200 rank 100: d_in 3200 exceeds max_d_in 256",
                "down 8640x3200 rank 0: d_in 8640 exceeds max_d_in 256",
            ],
        ),
        (["--config", cfg.as_str()], {
            let mut all = vec![HGF_3B_REASON];
            all.extend(HGF_3B_BEYOND);
            all
        }),
    ] {
        for json in [false, true] {
            let mut args = vec!["estimate", "--model", "hgf-3b"];
            args.extend(source);
            if json {
                args.push("--json");
            }
            let out = hgf(&args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            for reason in &reasons {
                assert!(
                    stderr(&out).contains(reason),
                    "{args:?}: {reason}: {}",
                    stderr(&out)
                );
            }
            assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
        }
    }
}

#[test]
fn the_roofline_names_a_model_that_was_not_estimated() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = rank_64_core(dir.path());
    let out = hgf_in(
        dir.path(),
        &[
            "estimate",
            "--config",
            &cfg,
            "--board",
            "icebreaker",
            "--plot",
            "roof.svg",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("roof.svg (not plotted, not estimated: hgf-3b)"),
        "{}",
        stderr(&out)
    );
    let svg = std::fs::read_to_string(dir.path().join("roof.svg")).unwrap();
    roxmltree::Document::parse(&svg).expect("well-formed SVG");
    for name in ["hgf-25m", "bitnet-2b4t", "hgf-1.2b"] {
        assert!(
            svg.contains(&format!("{name} (")),
            "the plotted model {name} has a legend entry"
        );
    }
    assert!(!svg.contains("hgf-3b ("), "hgf-3b has no line");
    assert!(
        svg.contains(
            "not estimated (not runnable on this core: a projection exceeds its maxima): hgf-3b"
        ),
        "the note names hgf-3b"
    );
}

// See: issue #17: the default core was estimated on the iCEBreaker ("fits yes") and on the
// Xilinx boards at an assumed 100 MHz with nothing saying so.
#[test]
fn each_board_says_whether_the_core_fits_its_fpga_and_where_its_clock_comes_from() {
    let v = json_of(&["estimate", "--model", "hgf-25m", "--json"]);
    let on = |board: &str| {
        v["core_on_boards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["board"] == board)
            .unwrap_or_else(|| panic!("{board} in {}", v["core_on_boards"]))
            .clone()
    };
    assert_eq!(on("icebreaker")["core_fits_fpga"], false);
    assert_eq!(on("icebreaker")["fpga"]["target"], "ice40-up5k");
    assert_eq!(on("ulx3s")["core_fits_fpga"], true);
    for xilinx in ["arty-a7", "kv260"] {
        assert!(on(xilinx)["core_fits_fpga"].is_null(), "{}", on(xilinx));
        assert_eq!(on(xilinx)["fpga"]["kind"], "not_placeable");
    }
    let boards = v["boards"].as_array().unwrap();
    for b in boards {
        let source = b["clock_source"].as_str().unwrap();
        let basis = b["clock_basis"].as_str().unwrap();
        assert!(basis.starts_with(source), "{b}");
        if source == "measured" {
            assert!(
                basis.contains("docs/results.md") && basis.contains("commit"),
                "a measured clock names its run: {basis}"
            );
        }
    }
    assert_eq!(boards[0]["clock_source"], "measured");
    assert_eq!(boards[3]["clock_source"], "assumed");

    let out = hgf(&["estimate", "--model", "hgf-25m"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "icebreaker: ice40-up5k; core fits FPGA: NO (the core does NOT fit the ice40-up5k",
        "arty-a7: Xilinx Artix-7 (not placed here); core fits FPGA: unknown",
        "clock 100 MHz, assumed:",
        "clock 19 MHz, measured: nextpnr-ice40 Fmax of the up5k core",
        "core fits ecp5-25k (area model): yes",
    ] {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }
    // Two columns with two names, and their legend under the table.
    let header = text
        .lines()
        .find(|l| l.trim_start().starts_with("board "))
        .expect("the throughput table");
    assert!(
        header.contains("core fits FPGA") && header.contains("weights fit memory"),
        "{header}"
    );
    assert!(
        !header.split("  ").any(|cell| cell.trim() == "fits"),
        "no column is just `fits`: {header}"
    );
    assert!(
        text.contains("core fits FPGA: the core config fits the board's FPGA")
            && text.contains("weights fit memory: the model's weights fit"),
        "{text}"
    );
}

// See: issue #17: the summary marks boards the core does not fit, with the legend.
#[test]
fn the_summary_marks_boards_whose_fpga_the_core_does_not_fit() {
    let out = hgf(&["estimate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("icebreaker (12 MB/s, 19 MHz measured) !")
            && text.contains("arty-a7 (1423 MB/s, 100 MHz assumed) ?")
            && text.contains("!: the core does not fit the board's FPGA")
            && text.contains("?: whether the core fits the board's FPGA is unknown"),
        "{text}"
    );
    // The up5k core fits the iCEBreaker's UP5K: no mark there. (It runs none of the
    // built-in models, which are larger than its 256 x 256: a model small enough.)
    let dir = tempfile::tempdir().unwrap();
    let model = up5k_sized_model(dir.path());
    let out = hgf(&[
        "estimate",
        "--preset",
        "up5k",
        "--model-file",
        &model,
        "--board",
        "icebreaker",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("icebreaker: ice40-up5k; core fits FPGA: yes"),
        "{text}"
    );
    assert!(!text.contains("!: the core does not fit"), "{text}");
}
