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
    assert_eq!((all[0].d_in, all[0].d_out, all[0].rank), (512, 512, 16));
    assert_eq!(all[1].target, Target::Ice40Up5k);
    assert_ne!(all[0], all[1]);
}

#[test]
fn empty_file_is_the_default_and_fields_override_the_preset() {
    assert_eq!(HgfConfig::from_toml_str("").unwrap(), HgfConfig::default());
    let cfg = HgfConfig::from_toml_str(
        "preset = \"up5k\"\nrank = 4\npacking = \"2bit\"\narray_inputs = 16\n",
    )
    .unwrap();
    let mut expected = HgfConfig::preset("up5k").unwrap();
    expected.rank = 4;
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
        ("d_in = 0", "d_in"),
        ("d_in = 131073", "d_in"),
        ("d_out = 0", "d_out"),
        ("d_out = 2000000", "d_out"),
        ("rank = 0", "rank"),
        ("rank = 513", "rank"),
        ("d_out = 8\nrank = 9\narray_rows = 4", "rank"),
        ("array_rows = 0", "array_rows"),
        ("array_rows = 3", "array_rows"), // does not divide 512
        ("array_rows = 128", "array_rows"),
        ("array_inputs = 0", "array_inputs"),
        ("array_inputs = 32", "array_inputs"), // not a multiple of 5 for base3
        ("array_inputs = 325", "array_inputs"),
        (
            "d_in = 8\nrank = 4\nfp_lanes = 4\narray_inputs = 15",
            "array_inputs",
        ), // > padded row (10)
        ("fp_lanes = 0", "fp_lanes"),
        ("gate_multipliers = 0", "gate_multipliers"),
        ("gate_multipliers = 3", "gate_multipliers"),
        ("fp_lanes = 6", "fp_lanes"),
        ("fp_lanes = 128", "fp_lanes"),
        (
            "d_in = 4\nrank = 2\narray_inputs = 5\nfp_lanes = 8",
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
            "d_in = 16384\nd_out = 16384\narray_rows = 4\narray_inputs = 40",
            "array_rows",
        ),
        // rank 512 over d_in = 65536 on one lane: 2^25 factor beats per token.
        ("d_in = 65536\nd_out = 64\nrank = 64\narray_rows = 64\narray_inputs = 320\nfp_lanes = 1", "fp_lanes"),
    ];
    for (text, field) in cases {
        assert_eq!(field_of(text), Some(*field), "config {text:?}");
    }
}

#[test]
fn messages_give_the_allowed_range() {
    let m = message_of("rank = 600");
    assert!(m.contains("`rank` = 600") && m.contains("1..=512"), "{m}");
    let m = message_of("d_in = 200000");
    assert!(m.contains("1..=131072") && m.contains("2^24"), "{m}");
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
        ("d_in = -4", "d_in"),
        ("d_in = \"many\"", "d_in"),
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
fn for_shape_fits_odd_shapes() {
    for (d_in, d_out, rank) in [(1, 1, 1), (3, 7, 2), (100, 6, 6), (4096, 11008, 16)] {
        let cfg = HgfConfig::for_shape(d_in, d_out, rank).unwrap();
        assert_eq!((cfg.d_in, cfg.d_out, cfg.rank), (d_in, d_out, rank));
    }
    assert!(HgfConfig::for_shape(8, 8, 9).is_err());
}

#[test]
fn adapted_to_keeps_the_engine_and_fits_shape_and_packing() {
    // A base-3 engine with 25-trit blocks: 25 is not a multiple of 4, so in `2bit` the blocks
    // narrow to 24 trits; rows, lanes, target and name carry over where the shape allows.
    let base = HgfConfig::from_toml_str(
        "name = \"eng\"\narray_rows = 4\narray_inputs = 25\nfp_lanes = 8\npacking = \"base3\"\n",
    )
    .unwrap();
    let two = base.adapted_to(2560, 640, 16, Packing::TwoBit).unwrap();
    assert_eq!((two.d_in, two.d_out, two.rank), (2560, 640, 16));
    assert_eq!(two.packing, Packing::TwoBit);
    assert_eq!(two.array_inputs, 24);
    assert_eq!((two.array_rows, two.fp_lanes), (4, 8));
    assert_eq!((two.name.as_str(), two.target), ("eng", base.target));
    let same = base.adapted_to(2560, 640, 16, Packing::Base3).unwrap();
    assert_eq!(same.array_inputs, 25);
    // d_out = 6 has no divisor 4: the rows drop to 3. d_in = 2 caps lanes and block width.
    let small = base.adapted_to(2, 6, 1, Packing::TwoBit).unwrap();
    assert_eq!(
        (small.array_rows, small.array_inputs, small.fp_lanes),
        (3, 4, 2)
    );
    // A shape the hardware cannot take is still refused, naming the field.
    let e = base.adapted_to(1 << 18, 8, 1, Packing::Base3).unwrap_err();
    assert_eq!(e.field(), Some("d_in"));
    // for_shape is the default preset adapted in its own packing.
    let d = HgfConfig::default();
    assert_eq!(
        HgfConfig::for_shape(300, 48, 16).unwrap(),
        d.adapted_to(300, 48, 16, d.packing).unwrap()
    );
}

#[test]
fn the_engine_summary_counts_lanes_and_multipliers_in_words() {
    let default = HgfConfig::default().engine_summary();
    assert_eq!(
        default,
        "d_in 512, d_out 512, rank 16, array 4x25, 4 FP lanes, 2 gate multipliers, base3"
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
