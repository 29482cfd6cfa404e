//! The checkpoint (docs/model.md §M10): a round trip, and every kind of bad file giving its
//! typed error with a message that names the tensor or the field.

use hgf_golden::model::checkpoint::{write_raw, KEY_CONFIG, KEY_FORMAT, KEY_TOKENIZER};
use hgf_golden::model::{random_checkpoint, Checkpoint, CheckpointProblem, ModelConfig, RawTensor};
use safetensors::tensor::Dtype;

fn tiny(name: &str) -> Checkpoint {
    random_checkpoint(&ModelConfig::builtin(name).unwrap(), 21)
}

/// Writes the checkpoint's tensors after `edit` and loads the file back.
fn load_edited(
    ck: &Checkpoint,
    edit: impl FnOnce(&mut Vec<RawTensor>, &mut std::collections::HashMap<String, String>),
) -> CheckpointProblem {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let mut tensors = ck.raw_tensors();
    let mut meta = ck.metadata();
    edit(&mut tensors, &mut meta);
    write_raw(&path, &tensors, meta).unwrap();
    let err = Checkpoint::load(&path).expect_err("the file is bad");
    let line = err.to_string();
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(line.contains("m.safetensors"), "names the file: {line}");
    err.problem
}

fn find<'a>(t: &'a mut [RawTensor], name: &str) -> &'a mut RawTensor {
    t.iter_mut().find(|t| t.name == name).unwrap()
}

#[test]
fn round_trip_is_exact_for_both_kinds() {
    for name in ["tiny", "tiny-diff"] {
        let ck = tiny(name);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        ck.save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path).unwrap(), ck, "{name}");
        assert!(!dir.path().join("m.safetensors.tmp").exists());
    }
}

#[test]
fn missing_tensor() {
    let p = load_edited(&tiny("tiny"), |t, _| {
        t.retain(|t| t.name != "layers.1.ffn.up.beta")
    });
    assert!(
        p.to_string().contains("`layers.1.ffn.up.beta` is missing"),
        "{p}"
    );
}

#[test]
fn unexpected_tensor_of_a_ternary_only_kind() {
    let ck = tiny("tiny");
    let p = load_edited(&ck, |t, _| {
        let mut extra = t
            .iter()
            .find(|t| t.name == "layers.0.attn.q.A")
            .unwrap()
            .clone();
        extra.name = "layers.0.attn.v.A".into();
        t.push(extra);
    });
    assert!(
        matches!(p, CheckpointProblem::UnexpectedTensor { .. }),
        "{p}"
    );
    assert!(
        p.to_string().contains("`layers.0.attn.v.A`") && p.to_string().contains("rank is 0"),
        "{p}"
    );
}

#[test]
fn wrong_dtype() {
    let p = load_edited(&tiny("tiny"), |t, _| {
        let e = find(t, "embed");
        e.dtype = Dtype::BF16;
    });
    assert!(
        matches!(p, CheckpointProblem::Dtype { ref tensor, .. } if tensor == "embed"),
        "{p}"
    );
    assert!(
        p.to_string().contains("BF16") && p.to_string().contains("F16"),
        "{p}"
    );
}

#[test]
fn wrong_shape_names_the_config_fields() {
    let p = load_edited(&tiny("tiny"), |t, _| {
        let e = find(t, "layers.0.attn.k.T");
        e.shape = vec![e.shape[1], e.shape[0]];
    });
    let line = p.to_string();
    assert!(
        line.contains("`layers.0.attn.k.T`")
            && line.contains("n_kv_heads * head_dim")
            && line.contains("d_model = 64"),
        "{line}"
    );
}

#[test]
fn a_trit_of_2() {
    let p = load_edited(&tiny("tiny"), |t, _| {
        let e = find(t, "layers.1.ffn.down.T");
        let cols = e.shape[1];
        e.data[3 * cols + 5] = 2;
    });
    assert!(
        matches!(p, CheckpointProblem::Trit { ref tensor, row: 3, col: 5, value: 2 } if tensor == "layers.1.ffn.down.T"),
        "{p}"
    );
}

#[test]
fn metadata_that_disagrees_with_the_shapes() {
    let ck = tiny("tiny");
    let p = load_edited(&ck, |_, meta| {
        let cfg = ModelConfig {
            ffn_dim: 96,
            ..ck.config.clone()
        };
        meta.insert(KEY_CONFIG.into(), cfg.to_json());
    });
    let line = p.to_string();
    assert!(
        line.contains("`layers.0.ffn.gate.T`") && line.contains("ffn_dim = 96"),
        "{line}"
    );
    // A rank that disagrees with A's shape.
    let p = load_edited(&ck, |_, meta| {
        let mut cfg = ck.config.clone();
        cfg.projections.q.rank = 4;
        meta.insert(KEY_CONFIG.into(), cfg.to_json());
    });
    assert!(
        p.to_string().contains("`layers.0.attn.q.A`")
            && p.to_string().contains("projections.q.rank = 4"),
        "{p}"
    );
    // A vocabulary of the wrong length.
    let p = load_edited(&ck, |_, meta| {
        meta.insert(
            KEY_TOKENIZER.into(),
            r#"{"kind":"char","vocab":["a","b"]}"#.into(),
        );
    });
    assert!(
        matches!(
            p,
            CheckpointProblem::VocabSize {
                vocab: 2,
                vocab_size: 48
            }
        ),
        "{p}"
    );
}

#[test]
fn bad_metadata() {
    let ck = tiny("tiny");
    let p = load_edited(&ck, |_, meta| {
        meta.insert(KEY_CONFIG.into(), "{\"n_layers\": 2,".into());
    });
    assert!(
        matches!(p, CheckpointProblem::Config(_)) && p.to_string().contains("hgf.model_config"),
        "{p}"
    );
    let p = load_edited(&ck, |_, meta| {
        let json = ck
            .config
            .to_json()
            .replace("\"head_dim\":16", "\"head_dim\":15");
        meta.insert(KEY_CONFIG.into(), json);
    });
    assert!(p.to_string().contains("`head_dim` is 15"), "{p}");
    let p = load_edited(&ck, |_, meta| {
        meta.insert(KEY_TOKENIZER.into(), "[1, 2]".into());
    });
    assert!(
        matches!(p, CheckpointProblem::Tokenizer(_)) && p.to_string().contains("hgf.tokenizer"),
        "{p}"
    );
    let p = load_edited(&ck, |_, meta| {
        meta.remove(KEY_FORMAT);
    });
    assert!(p.to_string().contains("`hgf.format` is missing"), "{p}");
    let p = load_edited(&ck, |_, meta| {
        meta.insert(KEY_FORMAT.into(), "hgf-model-0".into());
    });
    assert!(matches!(p, CheckpointProblem::Format { .. }), "{p}");
}

#[test]
fn non_finite_scalars_and_differential_tensors() {
    let ck = tiny("tiny-diff");
    let p = load_edited(&ck, |t, _| {
        find(t, "layers.1.attn.lambda").data = f32::NAN.to_le_bytes().to_vec();
    });
    assert!(
        matches!(p, CheckpointProblem::NotFinite { ref tensor, .. } if tensor == "layers.1.attn.lambda"),
        "{p}"
    );
    let p = load_edited(&ck, |t, _| t.retain(|t| t.name != "layers.0.attn.subln"));
    assert!(
        p.to_string().contains("`layers.0.attn.subln` is missing"),
        "{p}"
    );
    // beta stored as [1] is accepted.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let mut t = ck.raw_tensors();
    find(&mut t, "layers.0.attn.q.beta").shape = vec![1];
    write_raw(&path, &t, ck.metadata()).unwrap();
    assert_eq!(Checkpoint::load(&path).unwrap(), ck);
}

#[test]
fn not_a_safetensors_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    std::fs::write(&path, b"not a checkpoint at all").unwrap();
    let err = Checkpoint::load(&path).unwrap_err();
    assert!(
        matches!(err.problem, CheckpointProblem::SafeTensors(_)),
        "{err}"
    );
    let err = Checkpoint::load(dir.path().join("absent.safetensors")).unwrap_err();
    assert!(matches!(err.problem, CheckpointProblem::Read(_)), "{err}");
}
