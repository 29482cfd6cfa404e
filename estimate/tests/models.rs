//! Model presets and model files: every bad field is refused with its name and allowed range.

use hgf_estimate::models::PRESETS;
use hgf_estimate::{estimate, estimate_each, Board, EstimateError, Model, ProjectionKind};
use hgf_golden::HgfConfig;

const GOOD: &str = r#"
name = "tiny-ffn"
layers = 2
[q]
d_in = 64
d_out = 64
rank = 4
[k]
d_in = 64
d_out = 16
[v]
d_in = 64
d_out = 16
[o]
d_in = 64
d_out = 64
[up]
d_in = 64
d_out = 256
[down]
d_in = 256
d_out = 64
"#;

fn error_of(text: &str) -> EstimateError {
    match Model::from_toml_str(text) {
        Ok(m) => panic!("accepted an invalid model: {m:?}"),
        Err(e) => e,
    }
}

/// `GOOD` with the line starting `line` of table `[table]` replaced by `with`.
fn edit(table: &str, line: &str, with: &str) -> String {
    let mut in_table = table.is_empty();
    GOOD.lines()
        .map(|l| {
            if l.starts_with('[') {
                in_table = l == format!("[{table}]");
            }
            if in_table && l.starts_with(line) {
                with.to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn presets_are_as_documented() {
    assert_eq!(Model::presets().len(), PRESETS.len());
    let bitnet = Model::preset("bitnet-2b4t").unwrap();
    let shapes: Vec<(usize, usize)> = bitnet
        .projections
        .iter()
        .map(|p| (p.d_in, p.d_out))
        .collect();
    assert_eq!(
        shapes,
        [
            (2560, 2560),
            (2560, 640),
            (2560, 640),
            (2560, 2560),
            (2560, 6912),
            (2560, 6912),
            (6912, 2560)
        ]
    );
    assert_eq!(bitnet.layers, 30);
    assert!(bitnet.projections.iter().all(|p| !p.is_hybrid()));
    // About 25M ternary weights, and the assumptions are stated.
    let small = Model::preset("hgf-25m").unwrap();
    assert!((24_000_000..27_000_000).contains(&small.ternary_weights()));
    assert!(!small.assumed.is_empty());
    // The scale-ups are about 1.2B and 3B, hybrid attention only, and assumed.
    for (name, lo, hi) in [("hgf-1.2b", 1.1e9, 1.3e9), ("hgf-3b", 2.9e9, 3.3e9)] {
        let m = Model::preset(name).unwrap();
        let w = m.ternary_weights() as f64;
        assert!(w > lo && w < hi, "{name}: {w}");
        assert!(!m.assumed.is_empty());
        let hybrid: Vec<ProjectionKind> = m
            .projections
            .iter()
            .filter(|p| p.is_hybrid())
            .map(|p| p.kind)
            .collect();
        assert_eq!(
            hybrid,
            [
                ProjectionKind::Q,
                ProjectionKind::K,
                ProjectionKind::V,
                ProjectionKind::O
            ]
        );
    }
    let e = Model::preset("gpt-5").unwrap_err();
    assert!(
        e.to_string()
            .contains("hgf-25m, bitnet-2b4t, hgf-1.2b, hgf-3b"),
        "{e}"
    );
}

#[test]
fn a_good_file_parses_and_gate_is_optional() {
    let m = Model::from_toml_str(GOOD).unwrap();
    assert_eq!(m.name, "tiny-ffn");
    assert_eq!(m.layers, 2);
    let kinds: Vec<&str> = m.projections.iter().map(|p| p.kind.name()).collect();
    assert_eq!(kinds, ["q", "k", "v", "o", "up", "down"]);
    assert_eq!(m.projections[0].rank, Some(4));
    assert_eq!(m.projections[1].rank, None);
    assert_eq!(m.hybrid_summary(), "q (rank 4)");
}

#[test]
fn each_bad_field_is_named_with_its_range() {
    let cases = [
        (edit("", "layers", "layers = 0"), "layers", "1..=1024"),
        (edit("", "layers", "layers = 5000"), "layers", "1..=1024"),
        (edit("q", "d_in", "d_in = -3"), "q.d_in", "1..=131072"),
        (edit("o", "d_out", "d_out = 0"), "o.d_out", "1..=524288"),
        (edit("q", "rank", "rank = 65"), "q.rank", "1..=64"),
        (edit("q", "rank", "rank = 0"), "q.rank", "1..=64"),
        (
            edit("k", "d_out", "d_out = 16\nrank = 17"),
            "k.rank",
            "1..=16",
        ),
        (
            edit("", "name", "name = \"has space\""),
            "name",
            "letter, digit",
        ),
        (edit("", "name", "name = \"\""), "name", "1 to 64"),
    ];
    for (text, field, allowed) in cases {
        let e = error_of(&text);
        assert_eq!(e.field(), Some(field), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("`{field}`")) && msg.contains(allowed),
            "{msg}"
        );
    }
}

#[test]
fn missing_fields_and_tables_are_named() {
    for (text, field) in [
        (edit("", "name", ""), "name"),
        (edit("", "layers", ""), "layers"),
        (edit("up", "d_out", ""), "up.d_out"),
        (edit("v", "d_in", ""), "v.d_in"),
        (GOOD.replace("[down]\nd_in = 256\nd_out = 64", ""), "down"),
    ] {
        let e = error_of(&text);
        assert!(matches!(e, EstimateError::Missing { .. }), "{e:?}");
        assert_eq!(e.field(), Some(field), "{e}");
        assert!(e.to_string().contains("required"), "{e}");
    }
}

#[test]
fn unknown_fields_and_wrong_types_are_syntax_errors_naming_them() {
    let e = error_of(&edit("q", "d_in", "dinn = 64"));
    assert!(e.to_string().contains("dinn"), "{e}");
    let e = error_of(&edit("q", "d_in", "d_in = \"64\""));
    assert!(matches!(e, EstimateError::Syntax { .. }), "{e:?}");
    assert!(e.to_string().contains("d_in"), "{e}");
    let e = error_of("layers = 2\n[attn]\nd_in = 1\n");
    assert!(e.to_string().contains("attn"), "{e}");
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    std::fs::write(&path, edit("", "layers", "layers = -1")).unwrap();
    let e = Model::load(&path).unwrap_err();
    assert!(
        e.to_string().contains("m.toml") && e.to_string().contains("`layers`"),
        "{e}"
    );
    assert_eq!(e.field(), Some("layers"));
    std::fs::write(&path, "layers = [").unwrap();
    let e = Model::load(&path).unwrap_err();
    assert!(e.to_string().contains("m.toml"), "{e}");
    let e = Model::load(&dir.path().join("absent.toml")).unwrap_err();
    assert!(matches!(e, EstimateError::Read { .. }) && e.to_string().contains("absent.toml"));
    std::fs::write(&path, GOOD).unwrap();
    assert_eq!(Model::load(&path).unwrap().name, "tiny-ffn");
}

#[test]
fn a_shape_the_core_cannot_stream_names_the_projection_and_field() {
    // 131072 inputs in 40-trit blocks (3,277) for 524288 / 4 row groups: far more than the
    // 2^20 weight beats per token the hardware counts.
    let text = edit("up", "d_out", "d_out = 524288")
        .replace("d_in = 64\nd_out = 524288", "d_in = 131072\nd_out = 524288");
    let m = Model::from_toml_str(&text).unwrap();
    let e = estimate(
        &HgfConfig::default(),
        &[m],
        &[Board::preset("kv260").unwrap()],
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("array_rows"), "{e}");
    assert!(
        e.to_string().contains("`up`") && e.to_string().contains("tiny-ffn"),
        "{e}"
    );
}

#[test]
fn estimate_each_records_a_model_that_does_not_fit_and_estimates_the_others() {
    // The shape of the test above: `up` cannot be streamed, so `wide` does not fit.
    let mut wide = Model::from_toml_str(
        &edit("up", "d_out", "d_out = 524288")
            .replace("d_in = 64\nd_out = 524288", "d_in = 131072\nd_out = 524288"),
    )
    .unwrap();
    wide.name = "wide".into();
    let tiny = Model::from_toml_str(GOOD).unwrap();
    let core = HgfConfig::default();
    let boards = [Board::preset("kv260").unwrap()];
    let each = estimate_each(&core, &[tiny.clone(), wide.clone()], &boards).unwrap();
    // The model that fits is estimated exactly as on its own.
    let alone = estimate(&core, std::slice::from_ref(&tiny), &boards).unwrap();
    assert_eq!(each.models, alone.models);
    assert!(alone.unmapped.is_empty());
    assert_eq!(each.unmapped.len(), 1);
    let u = &each.unmapped[0];
    assert_eq!(u.model, wide);
    assert_eq!(u.projection, "up");
    assert_eq!(u.field.as_deref(), Some("array_rows"));
    // The reason is the error that `estimate` gives for the model alone.
    let strict = estimate(&core, &[wide], &boards).unwrap_err();
    assert_eq!(u.error, strict.to_string());
    assert!(each.to_text().contains(&format!("not estimated: {strict}")));
}
