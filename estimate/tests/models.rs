//! Model presets and model files: every bad field is refused with its name and allowed range.

use hgf_estimate::models::PRESETS;
use hgf_estimate::{estimate, estimate_each, Board, EstimateError, Model, ProjectionKind};
use hgf_golden::{HgfConfig, Shape};

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
    // A projection without a rank is the ternary-only shape of rank 0.
    assert_eq!(m.projections[1].shape(), Shape::new(64, 16, 0));
    assert_eq!(m.projections[0].shape(), Shape::new(64, 64, 4));
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

/// `GOOD` with a wide FFN: `up` 64 -> `d_ffn` and `down` `d_ffn` -> 64.
fn wide_ffn(d_ffn: usize) -> Model {
    let text = edit("up", "d_out", &format!("d_out = {d_ffn}"))
        .replace("[down]\nd_in = 256", &format!("[down]\nd_in = {d_ffn}"));
    let mut m = Model::from_toml_str(&text).unwrap();
    m.name = format!("ffn-{d_ffn}");
    m
}

#[test]
fn a_projection_beyond_the_core_maxima_makes_the_model_not_runnable_naming_it() {
    let boards = [Board::preset("kv260").unwrap()];
    // The default core runs projections up to 1376 x 1376 at rank 16: an FFN of 1376 runs,
    // one of 1377 does not, and both of its projections are named with the limit.
    let core = HgfConfig::default();
    assert!(estimate(&core, &[wide_ffn(1376)], &boards).is_ok());
    let e = estimate(&core, &[wide_ffn(1377)], &boards).unwrap_err();
    assert_eq!(e.field(), Some("max_d_out"), "{e}");
    assert_eq!(
        e.to_string(),
        "model `ffn-1377` is not runnable on this core (up to 1376x1376 rank 16, array 4x25, \
         4 FP lanes, 2 gate multipliers, base3): up 64x1377 rank 0: d_out 1377 exceeds \
         max_d_out 1376; down 1377x64 rank 0: d_in 1377 exceeds max_d_in 1376"
    );
    let EstimateError::NotRunnable { projections, .. } = &e else {
        panic!("{e:?}");
    };
    let named: Vec<(ProjectionKind, &str, usize, usize)> = projections
        .iter()
        .map(|p| (p.projection, p.field.as_str(), p.value, p.limit))
        .collect();
    assert_eq!(
        named,
        [
            (ProjectionKind::Up, "max_d_out", 1377, 1376),
            (ProjectionKind::Down, "max_d_in", 1377, 1376)
        ]
    );
    // The rank is a limit too: q's correction of rank 4 on a core of at most rank 2.
    let low_rank = HgfConfig {
        max_rank: 2,
        ..HgfConfig::default()
    };
    let tiny = Model::from_toml_str(GOOD).unwrap();
    let e = estimate(&low_rank, &[tiny], &boards).unwrap_err();
    assert_eq!(e.field(), Some("max_rank"), "{e}");
    assert!(
        e.to_string()
            .ends_with(": q 64x64 rank 4: rank 4 exceeds max_rank 2"),
        "{e}"
    );
}

#[test]
fn estimate_each_records_a_model_that_is_not_runnable_and_estimates_the_others() {
    let wide = wide_ffn(2000);
    let tiny = Model::from_toml_str(GOOD).unwrap();
    let core = HgfConfig::default();
    let boards = [Board::preset("kv260").unwrap()];
    let each = estimate_each(&core, &[tiny.clone(), wide.clone()], &boards).unwrap();
    // The model that runs is estimated exactly as on its own.
    let alone = estimate(&core, std::slice::from_ref(&tiny), &boards).unwrap();
    assert_eq!(each.models, alone.models);
    assert!(alone.unmapped.is_empty());
    assert_eq!(each.unmapped.len(), 1);
    let u = &each.unmapped[0];
    assert_eq!(u.model, wide);
    assert_eq!(u.projection, "up");
    assert_eq!(u.field, "max_d_out");
    let kinds: Vec<ProjectionKind> = u.projections.iter().map(|p| p.projection).collect();
    assert_eq!(kinds, [ProjectionKind::Up, ProjectionKind::Down]);
    // The reason is the error that `estimate` gives for the model alone.
    let strict = estimate(&core, &[wide], &boards).unwrap_err();
    assert_eq!(u.error, strict.to_string());
    let text = each.to_text();
    assert!(text.contains(&format!("not estimated: {strict}")), "{text}");
    assert!(text.contains("| ffn-2000 | - |"), "{text}");
    assert!(text.contains("-: not estimated, the model is not runnable on this core"));
    let json = serde_json::to_value(&each).unwrap();
    let u = &json["unmapped"][0];
    assert_eq!(u["projections"][1]["projection"], "down");
    assert_eq!(u["projections"][1]["field"], "max_d_in");
    assert_eq!(u["projections"][1]["limit"], 1376);
    assert!(u.get("bytes").is_none(), "{u}");
}
