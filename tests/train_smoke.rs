//! train/ (the only Python of the project): a few training steps of each of the four variants
//! on a small slice of the corpus, the export of the two ternary ones, and `hgf infer` loading
//! what was exported. Needs the venv that `scripts/setup.sh --train` makes (CI's scripts/test.sh
//! runs it); without the venv the test says so and passes without running anything.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::util::{hgf_in, stderr, stdout};

/// A one-layer model: small enough that four runs and two exports take seconds.
const TINY_CONFIG: &str = r#"
n_layers = 1
d_model = 32
n_heads = 1
n_kv_heads = 1
head_dim = 16
ffn_dim = 64
context_len = 32
norm_eps = 1e-5
rope_base = 10000.0
attention = "differential"
[projections]
q = { rank = 4 }
k = { rank = 4 }
v = { rank = 0 }
o = { rank = 4 }
gate = { rank = 0 }
up = { rank = 0 }
down = { rank = 2 }
"#;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python(args: &[&str], dir: &Path) -> Output {
    Command::new(repo().join(".venv-train/bin/python"))
        .arg("-W")
        .arg("ignore")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the venv's python runs")
}

fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: exit {:?}\n{}\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

#[test]
fn train_smoke_every_variant_trains_and_the_ternary_ones_export_and_run() {
    if !repo().join(".venv-train/bin/python").exists() {
        println!("train_smoke: SKIPPED: .venv-train is missing (run scripts/setup.sh --train)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tiny.toml");
    std::fs::write(&config, TINY_CONFIG).unwrap();
    let train = repo().join("train/train.py");
    let export = repo().join("train/export.py");
    for variant in ["fp16", "bitnet", "hgf", "diff_only"] {
        let out = dir.path().join(variant);
        let log = ok(
            &python(
                &[
                    train.to_str().unwrap(),
                    "--variant",
                    variant,
                    "--config",
                    config.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                    "--steps",
                    "4",
                    "--batch",
                    "2",
                    "--eval-every",
                    "2",
                    "--eval-windows",
                    "2",
                    "--max-chars",
                    "20000",
                    "--threads",
                    "1",
                ],
                dir.path(),
            ),
            variant,
        );
        assert!(
            log.contains("step 4/4"),
            "{variant} reports its steps:\n{log}"
        );
        let summary: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        let val = summary["val_loss"].as_f64().unwrap();
        // An untrained model over 84 characters starts near ln 84 = 4.43.
        assert!(
            val.is_finite() && val > 1.0 && val < 8.0,
            "{variant}: val loss {val}"
        );
        let model = dir.path().join(format!("{variant}.safetensors"));
        let logits = dir.path().join(format!("{variant}.logits.safetensors"));
        let exp = python(
            &[
                export.to_str().unwrap(),
                "--run",
                out.to_str().unwrap(),
                "--out",
                model.to_str().unwrap(),
                "--logits",
                logits.to_str().unwrap(),
            ],
            dir.path(),
        );
        if variant == "fp16" || variant == "diff_only" {
            // Dense runs have no ternary weights to export: one line, exit 2, no file.
            assert_eq!(exp.status.code(), Some(2), "{variant}: {}", stderr(&exp));
            assert_eq!(stderr(&exp).lines().count(), 1, "{}", stderr(&exp));
            assert!(stderr(&exp).contains("dense"), "{}", stderr(&exp));
            assert!(!model.exists());
            continue;
        }
        ok(&exp, "export");
        assert!(logits.exists());
        let run = hgf_in(
            dir.path(),
            &[
                "infer",
                "--model",
                model.to_str().unwrap(),
                "--prompt",
                "ROMEO.",
                "--tokens",
                "8",
                "--json",
            ],
        );
        let json: Value = serde_json::from_str(&ok(&run, "hgf infer")).unwrap();
        let attention = if variant == "hgf" {
            "differential"
        } else {
            "standard"
        };
        assert_eq!(json["config"]["attention"], attention, "{variant}");
        assert_eq!(json["tokens"].as_array().unwrap().len(), 8, "{variant}");
        assert_eq!(
            json["text"].as_str().unwrap().chars().count(),
            8,
            "{variant}"
        );
        let ranks: Vec<u64> = ["q", "k", "v", "o", "gate", "up", "down"]
            .iter()
            .map(|k| json["config"]["projections"][k]["rank"].as_u64().unwrap())
            .collect();
        let want: &[u64] = if variant == "hgf" {
            &[4, 4, 0, 4, 0, 0, 2]
        } else {
            &[0; 7]
        };
        assert_eq!(ranks, want, "{variant}: the ranks come from the config");
        println!("train_smoke: {variant}: val loss {val:.3}, exported and generated");
    }
}
