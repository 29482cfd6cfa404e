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
    assert_error(&run(&["--temperature", "-0.5"]), &["--temperature"]);
    assert_error(&run(&["--fp-lanes", "6"]), &["--fp-lanes is 6"]);
    assert_error(&run(&["--tokens", "0"]), &["--tokens is 0"]);
    assert_error(
        &hgf_in(dir.path(), &["infer", "--random", "--model-config", "huge"]),
        &["huge", "tiny, tiny-diff"],
    );
}

/// The tiny random model on the up5k core (its Verilator model is cached after the first
/// run), greedily from "ab" for 3 tokens, with `extra` arguments.
fn tiny_on_up5k(dir: &Path, extra: &[&str]) -> Output {
    let rtl = ["--rtl", "--preset", "up5k"];
    hgf_in(dir, &[&TINY_RUN[..], &rtl, extra].concat())
}

/// `hgf infer` of the tiny random model (seed 5), greedily from "ab" for 3 tokens.
const TINY_RUN: [&str; 10] = [
    "infer",
    "--random",
    "--model-config",
    "tiny",
    "--seed",
    "5",
    "--prompt",
    "ab",
    "--tokens",
    "3",
];

#[test]
fn rtl_run_is_bit_exact_and_takes_the_modelled_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let out = json(&tiny_on_up5k(dir.path(), &["--json"]));
    let rtl = &out["rtl"];
    // The same model on the golden transformer alone, with the core's fp_lanes (up5k: 1).
    let ck = random_checkpoint(&ModelConfig::builtin("tiny").unwrap(), 5);
    let (toks, bits) = library(&ck, "ab", 3, 1);
    assert_eq!(out["fp_lanes"], 1);
    assert_eq!(tokens(&out), toks);
    assert_eq!(top_bits(&out), bits);
    let golden = json(&hgf_in(
        dir.path(),
        &[&TINY_RUN[..], &["--fp-lanes", "1", "--json"]].concat(),
    ));
    assert_eq!(out["logits_fnv1a64"], golden["logits_fnv1a64"]);
    assert!(golden["rtl"].is_null());

    // 2 prompt positions and 2 fed-back tokens, 2 layers of 7 projections each; every
    // output of every projection and every logit of every position compared.
    let cfg = &ck.config;
    let positions = 4;
    assert_eq!(rtl["projections"], positions * 2 * 7);
    let per_layer: usize = hgf_golden::model::ProjectionKind::ALL
        .iter()
        .map(|&k| cfg.shape(k).d_out)
        .sum();
    assert_eq!(rtl["outputs_compared"], positions * 2 * per_layer);
    assert_eq!(rtl["logits_compared"], positions * cfg.vocab_size);
    assert_eq!(rtl["mismatches"], 0);

    // Every position took exactly the cycle model's cycles, and a generated token's cycles
    // are the model's and hgf estimate's.
    let measured = rtl["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["cycles"].as_u64().unwrap(),
                p["model_cycles"].as_u64().unwrap(),
            )
        })
        .collect::<Vec<_>>();
    assert_eq!(measured.len(), positions);
    for (cycles, model) in &measured {
        assert_eq!(cycles, model);
    }
    assert_eq!(rtl["cycles_as_modelled"], true);
    let per_token = rtl["model_cycles_per_token"].as_u64().unwrap();
    assert_eq!(rtl["cycles_per_token"].as_f64().unwrap(), per_token as f64);
    assert_eq!(
        rtl["estimate_cycles_per_token"].as_u64().unwrap(),
        per_token
    );
    // The positions are fed the prompt, then the generated tokens but the last.
    let mut fed: Vec<u32> = ck.tokenizer.encode("ab").unwrap();
    fed.extend(&toks[..2]);
    let fed_json: Vec<u64> = rtl["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["token"].as_u64().unwrap())
        .collect();
    assert_eq!(
        fed_json,
        fed.iter().map(|&t| u64::from(t)).collect::<Vec<_>>()
    );
    // tokens/s on each board from the estimate, and the measured cycles' compute bound.
    let boards = rtl["boards"].as_array().unwrap();
    assert!(!boards.is_empty());
    for b in boards {
        let clock = b["estimate"]["clock_mhz"].as_f64().unwrap();
        let bound = b["measured_compute_bound_tokens_per_s"].as_f64().unwrap();
        assert_eq!(bound, clock * 1e6 / per_token as f64);
        assert_eq!(
            b["estimate"]["cycles_per_token"].as_u64().unwrap(),
            per_token
        );
    }
    assert!(
        rtl["simulation"]["simulated_cycles"].as_u64().unwrap()
            >= measured.iter().map(|m| m.0).sum::<u64>()
    );
}

#[test]
fn rtl_run_stops_at_a_flipped_output_naming_the_projection_and_stage() {
    let dir = tempfile::tempdir().unwrap();
    let out = tiny_on_up5k(
        dir.path(),
        &["--flip-expected", "2,1,up,5", "--vcd", "m.vcd", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (&v["position"], &v["layer"], &v["projection"], &v["output"]),
        (
            &Value::from(2),
            &Value::from(1),
            &Value::from("up"),
            &Value::from(5)
        )
    );
    let bits = |x: &Value| {
        u16::from_str_radix(x["hex"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    };
    assert_eq!(bits(&v["rtl"]) ^ bits(&v["golden"]), 1, "the flipped bit");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("position 2")
            && message.contains("layer 1")
            && message.contains("projection up"),
        "{message}"
    );
    // The RTL is right, so every gate input matches and the stage is the gate's.
    assert_eq!(v["stage"]["name"], "gate");
    assert_eq!(v["reproduced"], true);
    assert!(dir.path().join("m.vcd").is_file());
    assert_eq!(v["expected_flipped"], true);
}

#[test]
fn rtl_refuses_a_model_beyond_the_core_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // up5k's maxima are 256: an FFN of 512 does not fit, and the line says which
    // projections and which maxima, before anything is built.
    let cfg = ModelConfig {
        n_layers: 1,
        ffn_dim: 512,
        ..ModelConfig::builtin("tiny").unwrap()
    };
    std::fs::write(
        dir.path().join("ffn512.toml"),
        toml::to_string(&cfg).unwrap(),
    )
    .unwrap();
    let out = hgf_in(
        dir.path(),
        &[
            "infer",
            "--random",
            "--model-config",
            "ffn512.toml",
            "--tokens",
            "2",
            "--rtl",
            "--preset",
            "up5k",
        ],
    );
    assert_error(
        &out,
        &[
            "not runnable on this core",
            "up 64x512 rank 0: d_out 512 exceeds max_d_out 256",
            "down 512x64 rank 4: d_in 512 exceeds max_d_in 256",
        ],
    );
    assert!(!stderr(&out).contains("verilat"), "refused before building");
}

#[test]
fn rtl_refuses_a_flip_the_run_never_reaches_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // 2 prompt positions and 2 fed-back tokens (0 to 3), 2 layers, up has d_out 128: each
    // site below is refused before anything is built, not silently ignored.
    for (site, needle) in [
        ("4,0,q,0", "positions 0 to 3"),
        ("0,2,q,0", "layers 0 to 1"),
        ("0,0,up,9999", "projection up has outputs 0 to"),
    ] {
        let out = tiny_on_up5k(dir.path(), &["--flip-expected", site]);
        assert_error(&out, &[&format!("--flip-expected {site}"), needle]);
        assert!(!stderr(&out).contains("verilat"), "refused before building");
    }
}
