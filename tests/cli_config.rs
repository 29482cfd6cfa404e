//! `hgf config`: presets, files and the errors of bad configs.

use crate::util::{hgf, hgf_in, stderr, stdout};

#[test]
fn default_config_prints_toml_and_derived() {
    let out = hgf(&["config"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("max_d_in = 1376"), "{text}");
    assert!(text.contains("# acc_bits = 19"), "{text}");
}

#[test]
fn preset_json_has_config_and_derived() {
    let out = hgf(&["config", "--preset", "up5k", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["config"]["target"], "ice40-up5k");
    assert_eq!(v["derived"]["acc_bits"], 17);
}

#[test]
fn bad_field_in_file_exits_2_and_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), "max_rank = 9999\n").unwrap();
    let out = hgf_in(dir.path(), &["config", "--config", "c.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("c.toml") && err.contains("`max_rank`") && err.contains("1..=1376"),
        "{err}"
    );
}

#[test]
fn unknown_packing_is_rejected_with_the_allowed_values() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), "packing = \"3bit\"\n").unwrap();
    let out = hgf_in(dir.path(), &["config", "--config", "c.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("packing") && err.contains("base3") && err.contains("2bit"),
        "{err}"
    );
}

#[test]
fn missing_file_is_named_with_the_os_reason_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = hgf_in(dir.path(), &["config", "--config", "absent.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    // The OS reason was once printed twice: in the message and again as its source.
    assert!(err.contains("absent.toml"), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
}

// See: issue #17: `name = "_core"` passed the config and `generate`, then Verilator refused it.
#[test]
fn a_name_the_simulator_would_refuse_is_refused_by_the_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), "name = \"_core\"\n").unwrap();
    for command in ["config", "generate"] {
        let out = hgf_in(dir.path(), &[command, "--config", "c.toml"]);
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("`name` = \"_core\" is not a module name; allowed: a letter, then"),
            "{err}"
        );
    }
    assert!(!dir.path().join("out").exists(), "generate wrote nothing");
}
