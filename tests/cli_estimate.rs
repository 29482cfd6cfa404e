//! `hgf estimate`: models on boards, overrides, JSON, the plot and the errors.

use crate::util::{hgf, hgf_in, stderr, stdout};

fn json_of(args: &[&str]) -> serde_json::Value {
    let out = hgf(args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("JSON")
}

#[test]
fn bitnet_on_arty_is_memory_bound_until_the_bandwidth_grows() {
    // The core of the hand calculations in estimate/tests/bandwidth.rs (R = 4, C = 40).
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c40.toml");
    std::fs::write(&cfg, "array_rows = 4\narray_inputs = 40\n").unwrap();
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
    let run = &v["models"][0]["packings"][0];
    assert_eq!(run["packing"], "base3");
    assert_eq!(run["bytes"]["per_token"]["total"], 416_932_680u64);
    // Cycles: the core's cycle model (estimate/tests/bandwidth.rs works it out by hand).
    assert_eq!(run["cycles"]["per_token"], 14_403_900u64);
    let board = &run["boards"][0];
    assert_eq!(board["board"], "arty-a7");
    assert_eq!(board["bound"], "memory");
    assert_eq!(board["fits_in_memory"], false);
    let tps = board["tokens_per_s"].as_f64().unwrap();
    assert!((tps - 1423e6 / 416_932_680.0).abs() < 1e-9, "{tps}");

    let mut fast = base.to_vec();
    fast.extend(["--bandwidth", "10000"]);
    let v = json_of(&fast);
    let board = &v["models"][0]["packings"][0]["boards"][0];
    assert_eq!(board["bound"], "compute");
    assert_eq!(board["bandwidth_mb_s"], 10000.0);
    assert_eq!(v["boards"][0]["sustained_basis"], "given: --bandwidth");
}

#[test]
fn clock_override_and_custom_board() {
    let v = json_of(&[
        "estimate", "--model", "hgf-25m", "--board", "kv260", "--clock", "400", "--json",
    ]);
    assert_eq!(
        v["models"][0]["packings"][0]["boards"][0]["clock_mhz"],
        400.0
    );
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
    assert_eq!(
        v["models"][0]["packings"][1]["boards"][0]["fits_in_memory"],
        serde_json::Value::Null
    );
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
    // 2bit, C = 4: 80 inputs = 20 blocks, 20 bytes per row; q: 80 rows * 20 = 1,600 bytes.
    let two = &v["models"][0]["packings"][1]["bytes"];
    assert_eq!(two["packing"], "2bit");
    assert_eq!(two["projections"][0]["weight"], 1600);
    // q's factors: 8 * (80 + 80) binary16 = 2,560 bytes.
    assert_eq!(two["projections"][0]["factor"], 2560);
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

#[test]
fn the_core_area_is_estimated_per_block_with_its_fit() {
    // An explicit up5k-sized core (256 x 256, rank 8, 1 x 20, one lane, one gate
    // multiplier) on the UP5K: 5 DSPs and 9 block RAMs by the structure.
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
    let v = json_of(&[
        "estimate",
        "--config",
        path,
        "--model",
        "hgf-25m",
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
        "--model",
        "hgf-25m",
        "--board",
        "icebreaker",
    ]);
    let text = stdout(&out);
    assert!(text.contains("area of the core on ice40-up5k"), "{text}");
    assert!(
        text.contains("lowrank_unit") && text.contains("margin"),
        "{text}"
    );
}

/// The reason `hgf-3b` does not fit a one-row core of 20 inputs per row (`up5k`'s array):
/// its `gate` (3200 -> 8640) would need 8640 row groups of 160 column blocks, 1,382,400
/// weight beats per token, more than the 2^20 the hardware counts.
const HGF_3B_REASON: &str = "projection `gate` (3200 -> 8640) of model `hgf-3b` does not fit \
                             the core config in `base3` packing: config field `array_rows`";

/// A core with `up5k`'s array pinned (1 row x 20 inputs), so that the tests below do not
/// depend on the preset's values.
fn one_row_core(dir: &std::path::Path) -> String {
    let cfg = dir.join("one_row.toml");
    std::fs::write(
        &cfg,
        "preset = \"up5k\"\narray_rows = 1\narray_inputs = 20\n",
    )
    .unwrap();
    cfg.to_str().unwrap().to_string()
}

#[test]
fn every_model_that_fits_is_estimated_and_the_others_are_named_with_the_reason() {
    // The command of the bug report: it used to stop at hgf-3b and print nothing else.
    let out = hgf(&["estimate", "--preset", "up5k", "--board", "icebreaker"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("model hgf-25m:"), "{text}");
    assert!(text.contains("| hgf-25m | "), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let cfg = one_row_core(dir.path());
    let out = hgf(&["estimate", "--config", &cfg, "--board", "icebreaker"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // The models that fit keep their whole estimate: table, throughput and summary row.
    for name in ["hgf-25m", "bitnet-2b4t", "hgf-1.2b"] {
        assert!(text.contains(&format!("model {name}:")), "{name}:\n{text}");
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| {name} | ")))
            .unwrap_or_else(|| panic!("no summary row of {name}:\n{text}"));
        assert!(row.contains(" M"), "{row}");
    }
    assert!(text.contains("icebreaker    base3"), "{text}");
    // hgf-3b: its section says which projection does not fit and why; its summary cells
    // say it was not estimated.
    let section = text
        .split("\nmodel hgf-3b:")
        .nth(1)
        .unwrap_or_else(|| panic!("no section of hgf-3b:\n{text}"));
    assert!(
        section.contains(&format!("not estimated: {HGF_3B_REASON}")),
        "{section}"
    );
    assert!(section.contains("2^20 beats"), "{section}");
    assert!(!section.contains("bytes and cycles per token"), "{section}");
    assert!(text.contains("| hgf-3b | - |"), "{text}");
    assert!(text.contains("-: not estimated"), "{text}");
}

#[test]
fn json_lists_a_model_that_does_not_fit_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = one_row_core(dir.path());
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
    // Every estimated model has its numbers.
    for m in v["models"].as_array().unwrap() {
        assert!(m["packings"][0]["cycles"]["per_token"].as_u64().unwrap() > 0);
    }
    let unmapped = v["unmapped"].as_array().unwrap();
    assert_eq!(unmapped.len(), 1, "{unmapped:?}");
    let u = &unmapped[0];
    assert_eq!(u["model"]["name"], "hgf-3b");
    assert_eq!(u["projection"], "gate");
    assert_eq!(u["packing"], "base3");
    assert_eq!(u["field"], "array_rows");
    assert!(
        u["error"].as_str().unwrap().starts_with(HGF_3B_REASON),
        "{u}"
    );
    assert!(u.get("packings").is_none(), "{u}");
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
    let cfg = one_row_core(dir.path());
    // With the preset, whichever projection fails first is named (the preset may change).
    for (source, reason) in [
        (
            ["--preset", "up5k"],
            "of model `hgf-3b` does not fit the core config",
        ),
        (["--config", cfg.as_str()], HGF_3B_REASON),
    ] {
        for json in [false, true] {
            let mut args = vec!["estimate", "--model", "hgf-3b"];
            args.extend(source);
            if json {
                args.push("--json");
            }
            let out = hgf(&args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(reason), "{args:?}: {}", stderr(&out));
            assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
        }
    }
}

#[test]
fn the_roofline_names_a_model_that_was_not_estimated() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = one_row_core(dir.path());
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
    assert!(
        svg.contains("hgf-25m ("),
        "the plotted models have a legend entry"
    );
    assert!(!svg.contains("hgf-3b ("), "hgf-3b has no line");
    assert!(
        svg.contains("not estimated (a projection does not fit the core): hgf-3b"),
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
        "clock 15 MHz, measured: nextpnr-ice40 Fmax of the up5k core",
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
        text.contains("icebreaker (12 MB/s, 15 MHz measured) !")
            && text.contains("arty-a7 (1423 MB/s, 100 MHz assumed) ?")
            && text.contains("!: the core does not fit the board's FPGA")
            && text.contains("?: whether the core fits the board's FPGA is unknown"),
        "{text}"
    );
    // The up5k core fits the iCEBreaker's UP5K: no mark there.
    let out = hgf(&["estimate", "--preset", "up5k", "--board", "icebreaker"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("core fits FPGA: yes"), "{text}");
}
