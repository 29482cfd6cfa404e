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
            && text
                .contains("max_d_in, max_d_out and max_rank are the largest d_in, d_out and rank")
            && text.contains("each with its own shape set at run time")
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

/// A model file of `layers = 1` with the projections given as `(name, d_in, d_out, rank)`
/// (rank 0: ternary-only, no `rank` field).
fn model_file(dir: &std::path::Path, name: &str, shapes: &[(&str, usize, usize, usize)]) -> String {
    let mut text = format!("name = \"{name}\"\nlayers = 1\n");
    for (p, d_in, d_out, rank) in shapes {
        text += &format!("[{p}]\nd_in = {d_in}\nd_out = {d_out}\n");
        if *rank > 0 {
            text += &format!("rank = {rank}\n");
        }
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn explore_sizes_the_maxima_for_the_largest_projection_and_the_best_runs_every_projection() {
    // The largest d_in (down, 2752), d_out (up, 3000) and rank (q, 24) come from three
    // different projections; k and v have a prime d_out (97), which no array shape divides.
    let dir = tempfile::tempdir().unwrap();
    let model = model_file(
        dir.path(),
        "uneven",
        &[
            ("q", 1000, 1000, 24),
            ("k", 1000, 97, 0),
            ("v", 1000, 97, 0),
            ("o", 1000, 1000, 16),
            ("up", 1000, 3000, 0),
            ("down", 2752, 1000, 8),
        ],
    );
    let best_toml = dir.path().join("best.toml");
    let out = hgf(&[
        "explore",
        "--model-file",
        &model,
        "--board",
        "ulx3s",
        "--target",
        "ecp5-85k",
        "--json",
        "--write-config",
        best_toml.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!(
        v.get("unmapped").is_none(),
        "every candidate runs the model"
    );
    let front = v["pareto"].as_array().unwrap();
    assert!(!front.is_empty(), "{v}");
    // Every candidate of the front, the best among them, has the model's largest sizes as
    // its maxima: the one core runs every projection.
    for c in front {
        let cfg = &c["config"];
        assert_eq!(
            (&cfg["max_d_in"], &cfg["max_d_out"], &cfg["max_rank"]),
            (&2752.into(), &3000.into(), &24.into()),
            "{c}"
        );
    }
    let best = &v["best"];
    assert_eq!(best, front.last().unwrap());

    // The written config is the best, and `hgf estimate` runs every projection of the model
    // on it, with the figures explore ranked it by.
    let text = std::fs::read_to_string(&best_toml).unwrap();
    let cfg = hgf_golden::HgfConfig::from_toml_str(&text).unwrap();
    assert_eq!(
        (cfg.max_d_in, cfg.max_d_out, cfg.max_rank),
        (2752, 3000, 24)
    );
    let out = hgf(&[
        "estimate",
        "--config",
        best_toml.to_str().unwrap(),
        "--model-file",
        &model,
        "--board",
        "ulx3s",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let e: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!(e["unmapped"].as_array().unwrap().is_empty(), "{e}");
    let m = &e["models"][0];
    let shapes: Vec<(&str, u64, u64, u64)> = m["bytes"]["projections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["projection"].as_str().unwrap(),
                p["d_in"].as_u64().unwrap(),
                p["d_out"].as_u64().unwrap(),
                p["rank"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shapes,
        [
            ("q", 1000, 1000, 24),
            ("k", 1000, 97, 0),
            ("v", 1000, 97, 0),
            ("o", 1000, 1000, 16),
            ("up", 1000, 3000, 0),
            ("down", 2752, 1000, 8),
        ]
    );
    assert_eq!(m["cycles"]["per_token"], best["cycles_per_token"]);
    assert_eq!(m["boards"][0]["bytes_per_token"], best["bytes_per_token"]);
    assert_eq!(m["boards"][0]["tokens_per_s"], best["tokens_per_s"]);
}

#[test]
fn explore_of_a_model_whose_cores_fit_no_device_prints_the_result_and_exits_1() {
    // Every candidate is sized for `up` (131072 -> 16384): its x buffer and accumulators
    // alone are more than the ECP5-85k holds, whatever the array.
    let dir = tempfile::tempdir().unwrap();
    let model = model_file(
        dir.path(),
        "wide",
        &[
            ("q", 131072, 2579, 0),
            ("k", 131072, 64, 0),
            ("v", 131072, 64, 0),
            ("o", 2579, 2579, 0),
            ("up", 131072, 16384, 0),
            ("down", 16384, 64, 0),
        ],
    );
    let best_toml = dir.path().join("best.toml");
    let args = [
        "explore",
        "--model-file",
        &model,
        "--board",
        "ulx3s",
        "--target",
        "ecp5-85k",
        "--write-config",
        best_toml.to_str().unwrap(),
    ];
    let mut json = args.to_vec();
    json.push("--json");
    let out = hgf(&json);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let evaluated = v["evaluated"].as_u64().unwrap();
    assert!(evaluated > 0, "the config rules accept candidates: {v}");
    assert_eq!(v["fitting"], 0);
    assert!(v["pareto"].as_array().unwrap().is_empty(), "{v}");
    assert!(v["best"].is_null(), "{v}");

    let out = hgf(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("{evaluated} candidates, 0 fit"))
            && text.contains("no candidate fits ecp5-85k"),
        "{text}"
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("none of the {evaluated} candidates fits ecp5-85k")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!best_toml.exists(), "no best config to write");
}

#[test]
fn explore_of_a_model_no_candidate_can_run_is_an_error_naming_the_rule() {
    // `up` (131072 -> 131072) needs 8192 row groups of 410 column blocks, 3,358,720 weight
    // beats per token, even at the search's widest array (16 x 320): more than the 2^20 the
    // hardware counts, so the config rules accept no candidate. That is the model's
    // problem, not the device's: exit 2 with the rule, not "none of 0 candidates fits".
    let dir = tempfile::tempdir().unwrap();
    let model = model_file(
        dir.path(),
        "vast",
        &[
            ("q", 64, 64, 0),
            ("k", 64, 64, 0),
            ("v", 64, 64, 0),
            ("o", 64, 64, 0),
            ("up", 131072, 131072, 0),
            ("down", 64, 64, 0),
        ],
    );
    for json in [false, true] {
        let mut args = vec![
            "explore",
            "--model-file",
            &model,
            "--board",
            "ulx3s",
            "--target",
            "ecp5-85k",
        ];
        if json {
            args.push("--json");
        }
        let out = hgf(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("no core of the search can run model `vast`")
                && err.contains("up to 131072x131072 rank 1")
                && err.contains("16x320")
                && err.contains("`array_rows`")
                && err.contains("2^20 beats")
                && err.contains("3358720"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    }
}
