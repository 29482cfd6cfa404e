//! Every file parser of the golden crate (safetensors layers, .npy tokens, TOML configs,
//! TestFloat vector files) on arbitrary bytes and on mutations of valid files: a value or an
//! error, never a panic. Inputs are at most a few KiB, so the cases take seconds in all.
// See: issue #17.

#[path = "common/mutate.rs"]
mod mutate;

use std::io::Write as _;

use flate2::write::GzEncoder;
use flate2::Compression;
use hgf_golden::io::{encode_tokens, encode_weights, load_tokens, load_weights};
use hgf_golden::testfloat::{read_vectors_from, FpOp};
use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfConfig, HgfWeights};
use mutate::{arbitrary_bytes, mutated, mutations, toml_value, with_value};
use proptest::prelude::*;
use proptest::sample::Index;

const SMALL: &str =
    "max_d_in = 12\nmax_d_out = 8\nmax_rank = 2\narray_rows = 2\narray_inputs = 5\nfp_lanes = 2\n";

fn small() -> HgfConfig {
    HgfConfig::from_toml_str(SMALL).expect("a valid config")
}

fn valid_weights() -> Vec<u8> {
    let w = HgfWeights::random(small().max_shape(), 7);
    encode_weights(std::path::Path::new("w.st"), &w).expect("encodes")
}

fn valid_tokens() -> Vec<u8> {
    let x = random_tokens(small().max_d_in, 3, 7);
    encode_tokens(std::path::Path::new("x.npy"), x.view()).expect("encodes")
}

const VECTORS: &str = "8683F7FF C07F3FFF C07F3FFF 01\n\
                       00000000 80000000 00000000 00\n\
                       7F800000 FF800000 7FC00000 10\n\
                       3F800000 3F800000 40000000 00\n";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).expect("compresses");
    gz.finish().expect("compresses")
}

/// Writes `bytes` to a file and returns it with its directory (kept alive by the caller).
fn file(bytes: &[u8], name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("writes");
    (dir, path)
}

fn weights_parse(bytes: &[u8]) {
    let (_dir, path) = file(bytes, "w.safetensors");
    if let Ok(w) = load_weights(&path) {
        // What loads is a valid layer.
        assert!(w.validate().is_ok());
    }
}

fn tokens_parse(bytes: &[u8]) {
    let (_dir, path) = file(bytes, "x.npy");
    let _ = load_tokens(&path);
}

fn config_parses(text: &str) {
    if let Ok(cfg) = HgfConfig::from_toml_str(text) {
        // A config that loads is valid, and its derived quantities can be computed.
        assert!(cfg.validate().is_ok());
        let _ = cfg.derived();
    }
}

fn vectors_parse(bytes: &[u8]) {
    for op in FpOp::ALL {
        let _ = read_vectors_from(bytes, "v.txt", op);
    }
}

#[test]
fn the_valid_seeds_parse() {
    let (_d, w) = file(&valid_weights(), "w.st");
    assert!(load_weights(&w).is_ok());
    let (_d, x) = file(&valid_tokens(), "x.npy");
    assert!(load_tokens(&x).is_ok());
    assert!(HgfConfig::from_toml_str(SMALL).is_ok());
    assert_eq!(
        read_vectors_from(VECTORS.as_bytes(), "v", FpOp::F32Add)
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        read_vectors_from(&gzip(VECTORS.as_bytes())[..], "v", FpOp::F32Add)
            .unwrap()
            .len(),
        4
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn weights_files_never_panic(
        noise in arbitrary_bytes(512),
        changes in mutations(),
    ) {
        weights_parse(&noise);
        weights_parse(&mutated(&valid_weights(), &changes));
    }

    #[test]
    fn tokens_files_never_panic(noise in arbitrary_bytes(512), changes in mutations()) {
        tokens_parse(&noise);
        tokens_parse(&mutated(&valid_tokens(), &changes));
    }

    #[test]
    fn configs_never_panic(
        noise in arbitrary_bytes(256),
        changes in mutations(),
        line in any::<Index>(),
        value in toml_value(),
    ) {
        config_parses(&String::from_utf8_lossy(&noise));
        let valid = HgfConfig::preset("up5k").unwrap().to_toml();
        config_parses(&String::from_utf8_lossy(&mutated(valid.as_bytes(), &changes)));
        config_parses(&with_value(&valid, line, &value));
        config_parses(&with_value(SMALL, line, &value));
    }

    #[test]
    fn testfloat_files_never_panic(noise in arbitrary_bytes(256), changes in mutations()) {
        vectors_parse(&noise);
        vectors_parse(&mutated(VECTORS.as_bytes(), &changes));
        vectors_parse(&mutated(&gzip(VECTORS.as_bytes()), &changes));
    }
}
