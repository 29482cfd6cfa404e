//! `hgf golden`: generated and file inputs give the library's outputs bit for bit, and every
//! kind of bad input is an exit-2 error that names the problem.

use std::path::Path;
use std::process::Output;

use half::f16;
use hgf_golden::io::{load_tokens, load_weights, save_tokens, save_weights};
use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights};
use ndarray::Array2;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::util::{hgf_in, stderr, stdout};

fn bits(x: &Array2<f16>) -> Vec<u16> {
    x.iter().map(|v| v.to_bits()).collect()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
}

/// The value after `label` on the text summary's line that starts with it.
fn summary_field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no `{label}` line in:\n{text}"))
        .trim()
}

/// What the library computes for the layer and tokens in two files, with `cfg`.
fn library_outputs(cfg: &HgfConfig, weights: &Path, input: &Path) -> Array2<f16> {
    let w = load_weights(weights).expect("the library reads the weights");
    let x = load_tokens(input).expect("the library reads the tokens");
    HgfProjection::new(cfg, w)
        .expect("the weights fit the config")
        .run(x.view())
}

#[test]
fn random_run_is_reproduced_from_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = hgf_in(
        d,
        &[
            "golden",
            "--random",
            "--seed",
            "3",
            "--weights",
            "w.safetensors",
            "--input",
            "x.npy",
            "--output",
            "y.npy",
        ],
    );
    assert_ok(&out);
    let text = stdout(&out);
    let checksum = summary_field(&text, "checksum:")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    for name in ["w.safetensors", "x.npy", "y.npy"] {
        assert!(text.contains(&format!("wrote:     {name}")), "{text}");
    }

    let out = hgf_in(
        d,
        &[
            "golden",
            "--weights",
            "w.safetensors",
            "--input",
            "x.npy",
            "--output",
            "y2.npy",
            "--json",
        ],
    );
    assert_ok(&out);
    let y = load_tokens(d.join("y.npy")).unwrap();
    let y2 = load_tokens(d.join("y2.npy")).unwrap();
    assert_eq!(y.dim(), (4, 1376));
    assert_eq!(bits(&y), bits(&y2));

    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(v["checksum"], checksum.as_str());
    assert_eq!(v["config"]["name"], "hgf_core");
    assert_eq!(v["config"]["d_in"], 1376);
    assert_eq!(v["config"]["fp_lanes"], HgfConfig::default().fp_lanes);
    assert_eq!(v["tokens"], 4);
    assert_eq!(v["outputs"], 4 * 1376);
    assert_eq!(v["nan"], 0);
    assert_eq!(v["inf"], 0);
    assert_eq!(
        v["files_read"],
        serde_json::json!(["w.safetensors", "x.npy"])
    );
    assert_eq!(v["files_written"], serde_json::json!(["y2.npy"]));
    for field in ["m", "s", "k"] {
        let hex = v["first_token"][field]["hex"].as_str().expect("hex string");
        assert!(hex.starts_with("0x") && hex.len() == 10, "{field}: {hex}");
    }
    let first_y = v["first_token"]["y"].as_array().expect("sample outputs");
    assert_eq!(first_y.len(), 8);
    assert_eq!(
        first_y[0]["hex"].as_str().unwrap(),
        format!("{:#06x}", y[[0, 0]].to_bits())
    );
}

#[test]
fn outputs_are_the_librarys_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // --random with a preset: the files are the library's own generators, and y is what the
    // library computes with the preset's fp_lanes.
    let out = hgf_in(
        d,
        &[
            "golden",
            "--random",
            "--preset",
            "up5k",
            "--seed",
            "11",
            "--tokens",
            "5",
            "--weights",
            "w.safetensors",
            "--input",
            "x.npy",
            "--output",
            "y.npy",
        ],
    );
    assert_ok(&out);
    let cfg = HgfConfig::preset("up5k").unwrap();
    let w = HgfWeights::random(cfg.max_shape(), 11);
    let x = random_tokens(cfg.max_d_in, 5, 11);
    let y = HgfProjection::new(&cfg, w.clone()).unwrap().run(x.view());
    assert_eq!(load_weights(d.join("w.safetensors")).unwrap(), w);
    assert_eq!(bits(&load_tokens(d.join("x.npy")).unwrap()), bits(&x));
    assert_eq!(bits(&load_tokens(d.join("y.npy")).unwrap()), bits(&y));

    // Files of an odd shape and no config: the default engine runs them.
    let cfg = HgfConfig::default();
    let odd = hgf_golden::Shape::new(301, 48, 16);
    save_weights(d.join("odd.safetensors"), &HgfWeights::random(odd, 5)).unwrap();
    save_tokens(d.join("odd.npy"), random_tokens(odd.d_in, 16, 5).view()).unwrap();
    let out = hgf_in(
        d,
        &[
            "golden",
            "--weights",
            "odd.safetensors",
            "--input",
            "odd.npy",
            "--output",
            "odd_y.npy",
        ],
    );
    assert_ok(&out);
    assert!(
        stdout(&out).contains(&format!("fp_lanes {}", cfg.fp_lanes)),
        "{}",
        stdout(&out)
    );
    let expected = library_outputs(&cfg, &d.join("odd.safetensors"), &d.join("odd.npy"));
    assert_eq!(
        bits(&load_tokens(d.join("odd_y.npy")).unwrap()),
        bits(&expected)
    );
}

/// Products `2^15, 2^-10, -2^15, 2^-10` in one down-projection sum: 2^-10 is below half an
/// FP32 ulp of 2^15, so the result depends on the lane split (docs/arithmetic.md §L2). One
/// lane: ((2^15 + 2^-10) - 2^15) + 2^-10 = 2^-10. Two lanes: (2^15 - 2^15) + (2^-10 + 2^-10)
/// = 2^-9. Four lanes: (2^15 + 2^-10) + (-2^15 + 2^-10) = 0. T is zero and B and g are one,
/// so every output is that sum.
#[test]
fn fp_lanes_come_from_the_config_or_else_the_file_shape() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let one = f16::ONE;
    let w = HgfWeights {
        t: Array2::zeros((4, 4)),
        beta: 1.0,
        a: Array2::from_elem((1, 4), one),
        b: Array2::from_elem((4, 1), one),
        gate: 1.0,
    };
    save_weights(d.join("w.safetensors"), &w).unwrap();
    let x = Array2::from_shape_vec(
        (1, 4),
        [32768.0, 2f32.powi(-10), -32768.0, 2f32.powi(-10)]
            .map(f16::from_f32)
            .to_vec(),
    )
    .unwrap();
    save_tokens(d.join("x.npy"), x.view()).unwrap();

    for (lanes, expected) in [
        (None, 0.0),
        (Some(2), 2f32.powi(-9)),
        (Some(1), 2f32.powi(-10)),
    ] {
        let mut args = vec![
            "golden",
            "--weights",
            "w.safetensors",
            "--input",
            "x.npy",
            "--output",
            "y.npy",
        ];
        let cfg = match lanes {
            None => HgfConfig::default(),
            Some(lanes) => {
                let toml = format!(
                    "max_d_in = 4\nmax_d_out = 4\nmax_rank = 1\narray_inputs = 5\nfp_lanes = {lanes}\n"
                );
                std::fs::write(d.join("c.toml"), toml).unwrap();
                args.extend(["--config", "c.toml"]);
                HgfConfig::load(&d.join("c.toml")).unwrap()
            }
        };
        let out = hgf_in(d, &args);
        assert_ok(&out);
        let y = load_tokens(d.join("y.npy")).unwrap();
        assert_eq!(
            bits(&y),
            vec![f16::from_f32(expected).to_bits(); 4],
            "fp_lanes {lanes:?}"
        );
        let library = HgfProjection::new(&cfg, w.clone()).unwrap().run(x.view());
        assert_eq!(bits(&y), bits(&library), "fp_lanes {lanes:?}");
    }
}

/// A valid layer (`w.safetensors`, default preset) and tokens (`x.npy`) in `dir`.
fn write_valid_files(dir: &Path) -> HgfWeights {
    // The shape of the old default layer: the tests cut and edit it.
    let shape = hgf_golden::Shape::new(512, 512, 16);
    let w = HgfWeights::random(shape, 3);
    save_weights(dir.join("w.safetensors"), &w).unwrap();
    save_tokens(dir.join("x.npy"), random_tokens(shape.d_in, 2, 3).view()).unwrap();
    w
}

type OwnedTensor = (String, Dtype, Vec<usize>, Vec<u8>);

/// Copies the safetensors file `src` to `dst` with its tensors edited by `edit`.
fn rewrite_tensors(src: &Path, dst: &Path, edit: impl FnOnce(&mut Vec<OwnedTensor>)) {
    let bytes = std::fs::read(src).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<OwnedTensor> = st
        .tensors()
        .into_iter()
        .map(|(name, t)| (name, t.dtype(), t.shape().to_vec(), t.data().to_vec()))
        .collect();
    edit(&mut tensors);
    let views: Vec<_> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            (
                name.clone(),
                TensorView::new(*dtype, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    std::fs::write(dst, safetensors::serialize(views, None).unwrap()).unwrap();
}

/// Runs `hgf golden` with `args` in `dir` and checks that it fails with exit code 2, without a
/// panic, and with every one of `needles` in the message.
fn assert_fails(dir: &Path, args: &[&str], needles: &[&str]) {
    let mut full = vec!["golden"];
    full.extend_from_slice(args);
    let out = hgf_in(dir, &full);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}\nstderr:\n{err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{args:?}: `{needle}` not in:\n{err}");
    }
}

#[test]
fn missing_weights_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write_valid_files(dir.path());
    assert_fails(
        dir.path(),
        &["--weights", "absent.safetensors", "--input", "x.npy"],
        &["cannot read absent.safetensors"],
    );
}

#[test]
fn truncated_weights_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_valid_files(d);
    let bytes = std::fs::read(d.join("w.safetensors")).unwrap();
    std::fs::write(d.join("half.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    assert_fails(
        d,
        &["--weights", "half.safetensors", "--input", "x.npy"],
        &[
            "half.safetensors",
            "not a valid safetensors file",
            "truncated",
        ],
    );
}

#[test]
fn missing_tensor_is_named_with_what_the_file_has() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_valid_files(d);
    rewrite_tensors(&d.join("w.safetensors"), &d.join("no_a.safetensors"), |t| {
        t.retain(|t| t.0 != "A")
    });
    assert_fails(
        d,
        &["--weights", "no_a.safetensors", "--input", "x.npy"],
        &[
            "no_a.safetensors",
            "tensor `A` is missing",
            "B, T, beta, gate",
        ],
    );
}

#[test]
fn ternary_tensor_of_dtype_f32_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let w = write_valid_files(d);
    rewrite_tensors(
        &d.join("w.safetensors"),
        &d.join("t32.safetensors"),
        |tensors| {
            let t = tensors.iter_mut().find(|t| t.0 == "T").unwrap();
            t.1 = Dtype::F32;
            t.3 =
                w.t.iter()
                    .flat_map(|&v| f32::from(v).to_le_bytes())
                    .collect();
        },
    );
    assert_fails(
        d,
        &["--weights", "t32.safetensors", "--input", "x.npy"],
        &["t32.safetensors", "tensor `T` has dtype F32; expected I8"],
    );
}

#[test]
fn ternary_value_2_is_reported_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut w = write_valid_files(d);
    w.t[[3, 7]] = 2;
    save_weights(d.join("t2.safetensors"), &w).unwrap();
    assert_fails(
        d,
        &["--weights", "t2.safetensors", "--input", "x.npy"],
        &["t2.safetensors", "`T` holds 2 at [3, 7]", "-1, 0, 1"],
    );
}

#[test]
fn tokens_with_the_wrong_width_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_valid_files(d);
    let narrow = Array2::from_elem((2, 256), f16::ONE);
    save_tokens(d.join("narrow.npy"), narrow.view()).unwrap();
    assert_fails(
        d,
        &["--weights", "w.safetensors", "--input", "narrow.npy"],
        &["narrow.npy", "256 values per token", "d_in = 512"],
    );
}

#[test]
fn no_tokens_are_rejected_from_a_file_and_from_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_valid_files(d);
    let none = Array2::from_elem((0, 512), f16::ONE);
    save_tokens(d.join("none.npy"), none.view()).unwrap();
    assert_fails(
        d,
        &["--weights", "w.safetensors", "--input", "none.npy"],
        &["none.npy", "no tokens", "at least 1"],
    );
    assert_fails(
        d,
        &["--random", "--tokens", "0"],
        &["--tokens", "at least 1"],
    );
}

#[test]
fn tokens_of_dtype_f32_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_valid_files(d);
    ndarray_npy::write_npy(d.join("x32.npy"), &Array2::<f32>::zeros((2, 512))).unwrap();
    assert_fails(
        d,
        &["--weights", "w.safetensors", "--input", "x32.npy"],
        &["x32.npy", "expected dtype f16 (<f2), found <f4"],
    );
}

#[test]
fn config_that_disagrees_with_the_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_valid_files(d);
    std::fs::write(d.join("c.toml"), "max_d_in = 256\n").unwrap();
    assert_fails(
        d,
        &[
            "--weights",
            "w.safetensors",
            "--input",
            "x.npy",
            "--config",
            "c.toml",
        ],
        &[
            "w.safetensors",
            "c.toml",
            "runs up to d_in = 256",
            "the file has d_in = 512",
        ],
    );
}

#[test]
fn absurd_token_count_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails(
        dir.path(),
        &["--random", "--tokens", &u64::MAX.to_string()],
        &["--tokens", "too large"],
    );
}

#[test]
fn a_token_count_beyond_memory_is_an_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    // 10^14 tokens of 1024 binary16 values: addressable, but no machine has 200 PB. The
    // allocation used to fail inside ndarray and abort (exit 134, backtrace).
    assert_fails(
        dir.path(),
        &["--random", "--tokens", "100000000000000"],
        &["--tokens 100000000000000", "too large", "allocate"],
    );
}

// See: issue #17: with T cut to 511 columns, the message blamed A ("tensor `A` has shape
// [16, 512]; expected [16, 511]").
#[test]
fn a_cut_tensor_is_named_with_the_one_it_disagrees_with() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_valid_files(d);
    rewrite_tensors(&d.join("w.safetensors"), &d.join("cut.safetensors"), |ts| {
        let t = ts.iter_mut().find(|t| t.0 == "T").unwrap();
        // Keep 511 of every row's 512 columns.
        t.3 =
            t.3.chunks(512)
                .flat_map(|row| row[..511].to_vec())
                .collect();
        t.2 = vec![512, 511];
    });
    assert_fails(
        d,
        &["--weights", "cut.safetensors", "--input", "x.npy"],
        &["tensors `T` (shape [512, 511]) and `A` (shape [16, 512]) disagree on d_in: T says 511, A says 512"],
    );
}

// See: issue #17: safetensors' "invalid shape, data type, or offset for tensor" named none.
#[test]
fn a_header_whose_shape_does_not_match_its_data_names_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_valid_files(d);
    let bytes = std::fs::read(d.join("w.safetensors")).unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // A keeps its 16 x 512 values but its header claims 16 x 513.
    let patched = text.replacen("\"shape\":[16,512]", "\"shape\":[16,513]", 1);
    assert_ne!(patched, text, "the header has A's shape");
    std::fs::write(d.join("h.safetensors"), patched.as_bytes()).unwrap();
    assert_fails(
        d,
        &["--weights", "h.safetensors", "--input", "x.npy"],
        &["h.safetensors: tensor `A` in the header: shape [16, 513] of F16 needs 16416 bytes"],
    );
}
