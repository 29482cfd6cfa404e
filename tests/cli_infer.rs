//! `hgf infer`: the golden transformer from the command line gives the library's tokens and
//! logits bit for bit, and every bad checkpoint or request is one line and exit 2.

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

use hgf_golden::model::checkpoint::{write_raw, KEY_CONFIG};
use hgf_golden::model::{
    random_checkpoint, Checkpoint, GoldenBackend, ModelConfig, RawTensor, Sampling, Transformer,
};
use serde_json::Value;

use crate::util::{hgf_in, stderr, stdout};

/// A change to a checkpoint's tensors and metadata before it is written.
type Edit = dyn Fn(&mut Vec<RawTensor>, &mut HashMap<String, String>);

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    serde_json::from_str(&stdout(out)).expect("--json prints JSON")
}

/// Exit 2 with exactly one line on stderr, which contains every `needle`.
fn assert_error(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("hgf: error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
    assert!(stdout(out).is_empty(), "nothing on stdout: {}", stdout(out));
}

fn tokens(v: &Value) -> Vec<u32> {
    v["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap() as u32)
        .collect()
}

fn top_bits(v: &Value) -> Vec<String> {
    v["top_logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["bits"].as_str().unwrap().to_string())
        .collect()
}

/// What the library generates for the checkpoint, greedily.
fn library(ck: &Checkpoint, prompt: &str, n: usize, fp_lanes: usize) -> (Vec<u32>, Vec<String>) {
    let model = Transformer::new(ck.config.clone(), ck.params.clone());
    let prompt = ck.tokenizer.encode(prompt).unwrap();
    let g = model
        .generate(
            &prompt,
            n,
            Sampling::Greedy,
            &mut GoldenBackend { fp_lanes },
            |_, _| {},
        )
        .unwrap();
    let bits = g
        .generated
        .iter()
        .zip(&g.logits)
        .map(|(&t, l)| format!("{:#010x}", l[t as usize].to_bits()))
        .collect();
    (g.generated, bits)
}

fn save(dir: &Path, ck: &Checkpoint) -> String {
    let path = dir.join("m.safetensors");
    ck.save(&path).unwrap();
    path.display().to_string()
}

#[test]
fn random_model_equals_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let out = json(&hgf_in(
        dir.path(),
        &[
            "infer",
            "--random",
            "--model-config",
            "tiny-diff",
            "--seed",
            "3",
            "--prompt",
            "the cat",
            "--tokens",
            "12",
            "--json",
        ],
    ));
    let ck = random_checkpoint(&ModelConfig::builtin("tiny-diff").unwrap(), 3);
    let (toks, bits) = library(&ck, "the cat", 12, 4);
    assert_eq!(tokens(&out), toks);
    assert_eq!(top_bits(&out), bits);
    assert_eq!(out["fp_lanes"], 4);
    assert_eq!(
        out["text"].as_str().unwrap(),
        ck.tokenizer.decode(&toks).unwrap()
    );
    assert_eq!(out["prompt_tokens"].as_array().unwrap().len(), 7);
}

#[test]
fn checkpoint_file_with_fp_lanes_from_a_preset() {
    let dir = tempfile::tempdir().unwrap();
    let ck = random_checkpoint(&ModelConfig::builtin("tiny").unwrap(), 9);
    let path = save(dir.path(), &ck);
    let by_preset = json(&hgf_in(
        dir.path(),
        &[
            "infer", "--model", &path, "--prompt", "Hi", "--tokens", "8", "--preset", "up5k",
            "--json",
        ],
    ));
    let by_flag = json(&hgf_in(
        dir.path(),
        &[
            "infer",
            "--model",
            &path,
            "--prompt",
            "Hi",
            "--tokens",
            "8",
            "--fp-lanes",
            "1",
            "--json",
        ],
    ));
    let (toks, bits) = library(&ck, "Hi", 8, 1);
    assert_eq!(by_preset["fp_lanes"], 1);
    assert_eq!(
        (tokens(&by_preset), top_bits(&by_preset)),
        (toks.clone(), bits.clone())
    );
    assert_eq!(by_flag["logits_fnv1a64"], by_preset["logits_fnv1a64"]);
    // The text report shows the prompt and what followed.
    let text = stdout(&hgf_in(
        dir.path(),
        &[
            "infer",
            "--model",
            &path,
            "--prompt",
            "Hi",
            "--tokens",
            "8",
            "--fp-lanes",
            "1",
        ],
    ));
    assert!(
        text.contains(&format!("Hi{}", ck.tokenizer.decode(&toks).unwrap())),
        "{text}"
    );
}

#[test]
fn sampling_is_reproducible_from_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str| {
        tokens(&json(&hgf_in(
            dir.path(),
            &[
                "infer",
                "--random",
                "--model-config",
                "tiny",
                "--tokens",
                "30",
                "--temperature",
                "1.0",
                "--seed",
                seed,
                "--json",
            ],
        )))
    };
    assert_eq!(run("5"), run("5"));
    assert_ne!(run("5"), run("6"));
}

#[test]
fn model_config_from_a_toml_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = ModelConfig {
        n_layers: 1,
        vocab_size: 30,
        ..ModelConfig::builtin("tiny").unwrap()
    };
    let toml_text = toml::to_string(&cfg).unwrap();
    std::fs::write(dir.path().join("m.toml"), toml_text).unwrap();
    let out = json(&hgf_in(
        dir.path(),
        &[
            "infer",
            "--random",
            "--model-config",
            "m.toml",
            "--tokens",
            "3",
            "--json",
        ],
    ));
    assert_eq!(out["config"]["n_layers"], 1);
    std::fs::write(dir.path().join("bad.toml"), "n_layers = 0\n").unwrap();
    let out = hgf_in(
        dir.path(),
        &["infer", "--random", "--model-config", "bad.toml"],
    );
    assert_error(&out, &["bad.toml"]);
}

#[test]
fn bad_checkpoints_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let ck = random_checkpoint(&ModelConfig::builtin("tiny").unwrap(), 2);
    let write = |edit: &Edit| {
        let path = dir.path().join("bad.safetensors");
        let mut t = ck.raw_tensors();
        let mut m = ck.metadata();
        edit(&mut t, &mut m);
        write_raw(&path, &t, m).unwrap();
        hgf_in(
            dir.path(),
            &["infer", "--model", "bad.safetensors", "--prompt", "a"],
        )
    };
    let out = write(&|t, _| t.retain(|t| t.name != "layers.0.attn.o.B"));
    assert_error(&out, &["bad.safetensors", "`layers.0.attn.o.B` is missing"]);
    let out = write(&|t, _| {
        t.iter_mut()
            .find(|t| t.name == "layers.1.attn.q.T")
            .unwrap()
            .data[7] = 2
    });
    assert_error(&out, &["`layers.1.attn.q.T`", "holds 2 at [0, 7]"]);
    let out =
        write(&|t, _| t.iter_mut().find(|t| t.name == "final_norm").unwrap().shape = vec![32, 2]);
    assert_error(&out, &["`final_norm`", "[32, 2]", "d_model"]);
    let out = write(&|_, m| {
        m.insert(KEY_CONFIG.into(), "not json".into());
    });
    assert_error(&out, &["hgf.model_config"]);
    std::fs::write(
        dir.path().join("junk.safetensors"),
        b"\x05\x00\x00\x00\x00\x00\x00\x00{}",
    )
    .unwrap();
    let out = hgf_in(dir.path(), &["infer", "--model", "junk.safetensors"]);
    assert_error(&out, &["junk.safetensors", "safetensors"]);
}

#[test]
fn bad_requests_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["infer", "--random", "--model-config", "tiny"];
    let run = |extra: &[&str]| hgf_in(dir.path(), &[&base[..], extra].concat());
    assert_error(
        &run(&["--prompt", "ab€c"]),
        &["'€'", "U+20AC", "character 2", "vocabulary"],
    );
    assert_error(
        &run(&["--prompt", "abc", "--tokens", "126"]),
        &["129 positions", "context_len is 128"],
    );
    assert_error(&run(&["--prompt", ""]), &["prompt is empty"]);
    assert_error(&run(&["--rtl"]), &["--rtl", "issue 13"]);
    assert_error(&run(&["--temperature", "-0.5"]), &["--temperature"]);
    assert_error(&run(&["--fp-lanes", "6"]), &["--fp-lanes is 6"]);
    assert_error(&run(&["--tokens", "0"]), &["--tokens is 0"]);
    assert_error(
        &hgf_in(dir.path(), &["infer", "--random", "--model-config", "huge"]),
        &["huge", "tiny, tiny-diff"],
    );
}
