//! `hgf run`, the README's main job, and the overwrite guard of `hgf golden --random`.

use crate::util::{hgf, hgf_in, stderr, stdout};

#[test]
fn run_on_the_default_config_prints_a_golden_summary() {
    let out = hgf(&["run", "--tokens", "2", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON summary");
    assert_eq!(v["config"]["d_in"], 512);
    assert_eq!(v["tokens"], 2);
    assert_eq!(v["outputs"], 1024);
    assert_eq!(v["nan"], 0);
    // The same seed gives the same bits; another seed does not.
    let again: serde_json::Value =
        serde_json::from_str(&stdout(&hgf(&["run", "--tokens", "2", "--json"]))).unwrap();
    assert_eq!(v["checksum"], again["checksum"]);
    let other = hgf(&["run", "--tokens", "2", "--json", "--seed", "2"]);
    let other: serde_json::Value = serde_json::from_str(&stdout(&other)).unwrap();
    assert_ne!(v["checksum"], other["checksum"]);
}

#[test]
fn run_takes_a_preset() {
    let out = hgf(&["run", "--preset", "up5k", "--tokens", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("d_in 256"), "{}", stdout(&out));
}

#[test]
fn random_does_not_overwrite_files_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("w.safetensors"), b"precious").unwrap();
    let args = [
        "golden",
        "--random",
        "--weights",
        "w.safetensors",
        "--input",
        "x.npy",
    ];
    let out = hgf_in(dir.path(), &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(dir.path().join("w.safetensors")).unwrap(),
        b"precious"
    );
    let mut forced = args.to_vec();
    forced.push("--force");
    let out = hgf_in(dir.path(), &forced);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(
        std::fs::read(dir.path().join("w.safetensors")).unwrap(),
        b"precious"
    );
}
