//! Config parsing and validation: presets, partial files, and one distinct error per bad field.

use hgf_golden::config::{ConfigError, PRESETS};
use hgf_golden::{HgfConfig, Packing, Target};

fn field_of(text: &str) -> Option<&'static str> {
    match HgfConfig::from_toml_str(text) {
        Ok(cfg) => panic!("accepted an invalid config: {cfg:?}"),
        Err(e) => e.field(),
    }
}

fn message_of(text: &str) -> String {
    HgfConfig::from_toml_str(text).unwrap_err().to_string()
}

#[test]
fn presets_are_valid_and_distinct() {
    let all: Vec<HgfConfig> = PRESETS
        .iter()
        .map(|p| HgfConfig::preset(p).unwrap())
        .collect();
    for cfg in &all {
        cfg.validate().unwrap();
    }
    assert_eq!(all[0], HgfConfig::default());
    assert_eq!(all[0].target, Target::Ecp5_25k);
    assert_eq!(
        (all[0].max_d_in, all[0].max_d_out, all[0].max_rank),
        (1376, 1376, 16)
    );
    assert_eq!(all[1].target, Target::Ice40Up5k);
    assert_eq!(
        (all[1].max_d_in, all[1].max_d_out, all[1].max_rank),
        (256, 256, 8)
    );
    assert_ne!(all[0], all[1]);
}

#[test]
fn empty_file_is_the_default_and_fields_override_the_preset() {
    assert_eq!(HgfConfig::from_toml_str("").unwrap(), HgfConfig::default());
    let cfg = HgfConfig::from_toml_str(
        "preset = \"up5k\"\nmax_rank = 4\npacking = \"2bit\"\narray_inputs = 16\n",
    )
    .unwrap();
    let mut expected = HgfConfig::preset("up5k").unwrap();
    expected.max_rank = 4;
    expected.packing = Packing::TwoBit;
    expected.array_inputs = 16;
    assert_eq!(cfg, expected);
}

#[test]
fn toml_round_trip() {
    for p in PRESETS {
        let cfg = HgfConfig::preset(p).unwrap();
        assert_eq!(HgfConfig::from_toml_str(&cfg.to_toml()).unwrap(), cfg);
    }
}

#[test]
fn each_invalid_field_names_itself() {
    let cases: &[(&str, &str)] = &[
        ("max_d_in = 0", "max_d_in"),
        ("max_d_in = 131073", "max_d_in"),
        ("max_d_out = 0", "max_d_out"),
        ("max_d_out = 2000000", "max_d_out"),
        ("max_rank = 0", "max_rank"),
        ("max_rank = 1377", "max_rank"), // above min(max_d_in, max_d_out) = 1376
        ("max_d_out = 8\nmax_rank = 9\narray_rows = 4", "max_rank"),
        ("array_rows = 0", "array_rows"),
        ("array_rows = 128", "array_rows"),
        (
            "max_d_out = 2\nmax_rank = 2\narray_rows = 3",
            "array_rows",
        ), // more rows than the largest d_out
        ("array_inputs = 0", "array_inputs"),
        ("array_inputs = 32", "array_inputs"), // not a multiple of 5 for base3
        ("array_inputs = 325", "array_inputs"),
        (
            "max_d_in = 8\nmax_rank = 4\nfp_lanes = 4\narray_inputs = 15",
            "array_inputs",
        ), // > padded row (10)
        ("fp_lanes = 0", "fp_lanes"),
        ("gate_multipliers = 0", "gate_multipliers"),
        ("gate_multipliers = 3", "gate_multipliers"),
        ("fp_lanes = 6", "fp_lanes"),
        ("fp_lanes = 128", "fp_lanes"),
        (
            "max_d_in = 4\nmax_rank = 2\narray_inputs = 5\nfp_lanes = 8",
            "fp_lanes",
        ),
        ("name = \"1core\"", "name"),
        ("name = \"my-core\"", "name"),
        ("name = \"small\"", "name"),
        ("name = \"module\"", "name"),
        // See: issue #17 (accepted here, then refused by the simulator).
        ("name = \"_core\"", "name"),
        ("preset = \"big\"", "preset"),
        // 16384 x 16384 with 4 rows of 40 inputs: 1,679,360 weight beats per token.
        (
            "max_d_in = 16384\nmax_d_out = 16384\narray_rows = 4\narray_inputs = 40",
            "array_rows",
        ),
        // rank 64 over d_in = 65536 on one lane: 2^22 factor beats of A per token.
        ("max_d_in = 65536\nmax_d_out = 64\nmax_rank = 64\narray_rows = 64\narray_inputs = 320\nfp_lanes = 1", "fp_lanes"),
    ];
    for (text, field) in cases {
        assert_eq!(field_of(text), Some(*field), "config {text:?}");
    }
}

#[test]
fn array_rows_need_not_divide_the_largest_d_out() {
    // 1376 outputs on 3 rows: 459 row groups, the last padded with one zero row (§P2).
    let cfg = HgfConfig::from_toml_str("array_rows = 3").unwrap();
    assert_eq!(cfg.array_rows, 3);
    assert_eq!(cfg.acc_rows(), 1377);
    assert_eq!(cfg.max_layout().row_groups(), 459);
    // As many rows as the largest d_out is the limit.
    let cfg = HgfConfig::from_toml_str("max_d_out = 7\nmax_rank = 7\narray_rows = 7").unwrap();
    assert_eq!(cfg.acc_rows(), 7);
}

#[test]
fn messages_give_the_allowed_range() {
    let m = message_of("max_rank = 1400");
    assert!(
        m.contains("`max_rank` = 1400") && m.contains("1..=1376"),
        "{m}"
    );
    let m = message_of("max_d_in = 200000");
    assert!(
        m.contains("`max_d_in` = 200000") && m.contains("1..=131072") && m.contains("2^24"),
        "{m}"
    );
    let m = message_of("max_d_out = 100\narray_rows = 101");
    assert!(
        m.contains("`array_rows` = 101") && m.contains("1..=64"),
        "{m}"
    );
    let m = message_of("array_inputs = 32");
    assert!(m.contains("multiple of 5") && m.contains("base3"), "{m}");
    let m = message_of("fp_lanes = 3");
    assert!(m.contains("power of two"), "{m}");
}

#[test]
fn unknown_values_and_fields_are_syntax_errors_naming_them() {
    for (text, needle) in [
        ("packing = \"3bit\"", "base3"),
        ("target = \"xc7a35t\"", "ecp5-25k"),
        ("lanes = 4", "lanes"),
        ("max_d_in = -4", "max_d_in"),
        ("max_d_in = \"many\"", "max_d_in"),
        // The projection's shape is no longer part of the engine: the old field names are
        // unknown fields, not silently ignored.
        ("d_in = 512", "d_in"),
        ("rank = 16", "rank"),
    ] {
        let e = HgfConfig::from_toml_str(text).unwrap_err();
        assert!(matches!(e, ConfigError::Syntax { .. }), "{text}: {e:?}");
        assert!(e.to_string().contains(needle), "{text}: {e}");
    }
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cfg.toml");
    std::fs::write(&path, "fp_lanes = 5\n").unwrap();
    let e = HgfConfig::load(&path).unwrap_err();
    assert!(e.to_string().contains("cfg.toml"), "{e}");
    assert_eq!(e.field(), Some("fp_lanes"));
    let e = HgfConfig::load(&dir.path().join("missing.toml")).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
    assert!(e.to_string().contains("missing.toml"));
}

#[test]
fn the_engine_summary_counts_lanes_and_multipliers_in_words() {
    let default = HgfConfig::default().engine_summary();
    assert_eq!(
        default,
        "up to 1376x1376 rank 16, array 4x25, 4 FP lanes, 2 gate multipliers, base3"
    );
    let one =
        HgfConfig::from_toml_str("fp_lanes = 1\ngate_multipliers = 1\ngate_shares_adder = true")
            .unwrap()
            .engine_summary();
    assert!(
        one.contains(", 1 FP lane, 1 gate multiplier, base3, gate borrows the low-rank adder"),
        "{one}"
    );
}
