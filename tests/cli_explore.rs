//! `hgf explore`: the Pareto front, the best config (which `hgf generate` takes), the plot
//! and the errors.

use crate::util::{hgf, stderr, stdout};

#[test]
fn explore_finds_a_fitting_front_and_its_best_config_generates() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("pareto.svg");
    let best_toml = dir.path().join("best.toml");
    let out = hgf(&[
        "explore",
        "--model",
        "hgf-25m",
        "--board",
        "ulx3s",
        "--target",
        "ecp5-25k",
        "--json",
        "--plot",
        plot.to_str().unwrap(),
        "--write-config",
        best_toml.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["target"], "ecp5-25k");
    assert_eq!(v["model"], "hgf-25m");
    let front = v["pareto"].as_array().unwrap();
    assert!(!front.is_empty());
    let mut last = (0u64, 0.0f64);
    for c in front {
        assert_eq!(c["area"]["fits"], true, "{c}");
        let logic = c["area"]["logic"].as_u64().unwrap();
        let tps = c["tokens_per_s"].as_f64().unwrap();
        assert!(logic >= last.0 && tps > last.1, "front out of order at {c}");
        last = (logic, tps);
    }
    assert_eq!(v["best"], *front.last().unwrap());
    assert!(v["fitting"].as_u64().unwrap() <= v["evaluated"].as_u64().unwrap());
    assert!(std::fs::read_to_string(&plot)
        .unwrap()
        .contains("Pareto front"));

    // The written config is the best one, and the generator takes it as it is.
    let best = &v["best"]["config"];
    let text = std::fs::read_to_string(&best_toml).unwrap();
    let cfg = hgf_golden::HgfConfig::from_toml_str(&text).unwrap();
    assert_eq!(cfg.array_rows as u64, best["array_rows"].as_u64().unwrap());
    assert_eq!(
        cfg.array_inputs as u64,
        best["array_inputs"].as_u64().unwrap()
    );
    assert_eq!(cfg.fp_lanes as u64, best["fp_lanes"].as_u64().unwrap());
    assert_eq!(
        cfg.max_d_in, 1376,
        "sized for the model's largest projection"
    );
    // See: issue #17: the file says so.
    assert!(
        text.starts_with("# ")
            && text.contains("sizes of the model's largest projection")
            && text.contains("hgf-25m on ulx3s"),
        "{text}"
    );
    let gen_dir = dir.path().join("gen");
    let out = hgf(&[
        "generate",
        "--config",
        best_toml.to_str().unwrap(),
        "--out",
        gen_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(gen_dir.join("hgf_core.v").exists());
}

#[test]
fn explore_prints_the_front_and_the_best_as_text() {
    let out = hgf(&[
        "explore",
        "--model",
        "bitnet-2b4t",
        "--board",
        "kv260",
        "--target",
        "ecp5-85k",
        "--packing",
        "base3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "Pareto front",
        "best: array",
        "base3",
        "tokens/s",
        "ecp5-85k",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    assert!(
        !text.contains(" 2bit "),
        "--packing base3 keeps to base3:\n{text}"
    );
}

#[test]
fn explore_with_nothing_fitting_prints_the_result_exits_1_and_writes_no_plot() {
    // hgf-25m's largest projection needs about 40 block RAMs; the UP5K has 30.
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("pareto.svg");
    let out = hgf(&[
        "explore",
        "--model",
        "hgf-25m",
        "--board",
        "icebreaker",
        "--target",
        "ice40-up5k",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("no candidate fits ice40-up5k"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("no Pareto plot written"),
        "{}",
        stderr(&out)
    );
    assert!(!plot.exists());
}

#[test]
fn explore_errors_name_what_is_allowed() {
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "explore", "--model", "hgf-25m", "--board", "ulx3s", "--target", "xc7a35t",
            ],
            "ice40-up5k, ice40-hx8k, ecp5-25k, ecp5-85k",
        ),
        (
            &[
                "explore", "--model", "gpt-9", "--board", "ulx3s", "--target", "ecp5-25k",
            ],
            "hgf-25m",
        ),
        (
            &[
                "explore", "--model", "hgf-25m", "--board", "de10", "--target", "ecp5-25k",
            ],
            "icebreaker, ulx3s, orangecrab, arty-a7, kv260",
        ),
        (
            &["explore", "--board", "ulx3s", "--target", "ecp5-25k"],
            "--model",
        ),
        (
            &[
                "explore", "--model", "hgf-25m", "--board", "ulx3s", "--target", "ecp5-25k",
                "--clock", "-1",
            ],
            "`--clock` = -1 is out of range",
        ),
    ];
    for (args, want) in cases {
        let out = hgf(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
    }
}

/// A model file of `layers = 1` with the projections given as `(name, d_in, d_out)`.
fn model_file(dir: &std::path::Path, name: &str, shapes: &[(&str, usize, usize)]) -> String {
    let mut text = format!("name = \"{name}\"\nlayers = 1\n");
    for (p, d_in, d_out) in shapes {
        text += &format!("[{p}]\nd_in = {d_in}\nd_out = {d_out}\n");
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn explore_skips_candidates_that_cannot_run_a_smaller_projection() {
    // Candidates are sized for the largest projection (6000 -> 8192), whose array rows
    // divide 8192; `q` has a prime d_out (4099), so its array has one row and needs
    // 4099 x ceil(6000 / inputs) weight beats per token: too many below 24 inputs per row.
    let dir = tempfile::tempdir().unwrap();
    let model = model_file(
        dir.path(),
        "odd",
        &[
            ("q", 6000, 4099),
            ("k", 6000, 1000),
            ("v", 6000, 1000),
            ("o", 4099, 6000),
            ("up", 6000, 8192),
            ("down", 8192, 6000),
        ],
    );
    let args = [
        "explore",
        "--model-file",
        &model,
        "--board",
        "ulx3s",
        "--target",
        "ecp5-85k",
    ];
    let out = hgf(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("other candidates skipped"), "{text}");
    assert!(text.contains("projection `q` (6000 -> 4099)"), "{text}");
    assert!(text.contains("best: array"), "{text}");

    let mut json = args.to_vec();
    json.push("--json");
    let out = hgf(&json);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let unmapped = v["unmapped"].as_u64().unwrap();
    assert!(unmapped > 0 && v["evaluated"].as_u64().unwrap() > 0, "{v}");
    assert!(v["unmapped_reason"]
        .as_str()
        .unwrap()
        .contains("config field `array_rows`"));
    // The skipped candidates are those of fewer than 24 inputs per row (the grid's 4 to
    // 20): none of them may reach the front.
    for c in v["pareto"].as_array().unwrap() {
        assert!(c["config"]["array_inputs"].as_u64().unwrap() >= 24, "{c}");
    }
}

#[test]
fn explore_of_a_model_no_candidate_can_run_is_an_error_naming_the_projection() {
    // `q` (131072 -> 2579, prime) needs 2579 x ceil(131072 / 320) = 1,057,390 weight beats
    // per token even at the widest row: more than 2^20 for every candidate.
    let dir = tempfile::tempdir().unwrap();
    let model = model_file(
        dir.path(),
        "wide",
        &[
            ("q", 131072, 2579),
            ("k", 131072, 64),
            ("v", 131072, 64),
            ("o", 2579, 2579),
            ("up", 131072, 16384),
            ("down", 16384, 64),
        ],
    );
    let out = hgf(&[
        "explore",
        "--model-file",
        &model,
        "--board",
        "ulx3s",
        "--target",
        "ecp5-85k",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("can run every projection of model `wide`")
            && err.contains("projection `q` (131072 -> 2579)")
            && err.contains("1057390"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
