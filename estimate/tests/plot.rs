//! The roofline plot is a well-formed SVG that names every board and model.

use hgf_estimate::plot::write_roofline;
use hgf_estimate::{estimate, Board, EstimateError, Model};
use hgf_golden::HgfConfig;

fn all_texts(svg: &str) -> String {
    let doc = roxmltree::Document::parse(svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn roofline_names_every_board_and_model() {
    // A core whose maxima hold every projection of the built-in models (hgf-3b's FFN,
    // 3200 -> 8640, and its rank 100).
    let core = HgfConfig {
        max_d_in: 8640,
        max_d_out: 8640,
        max_rank: 100,
        ..HgfConfig::default()
    };
    let est = estimate(&core, &Model::presets(), &Board::presets()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roof.svg");
    write_roofline(&est, &path).unwrap();
    let texts = all_texts(&std::fs::read_to_string(&path).unwrap());
    for name in hgf_estimate::boards::PRESETS
        .iter()
        .chain(hgf_estimate::models::PRESETS.iter())
    {
        assert!(texts.contains(name), "{name} missing from:\n{texts}");
    }
    assert!(texts.contains("base3 packing"), "{texts}");
    assert!(
        texts.contains("sustained memory bandwidth (MB/s)"),
        "{texts}"
    );
}

#[test]
fn one_model_on_a_custom_board_plots_too() {
    let est = estimate(
        &HgfConfig::default(),
        &[Model::preset("hgf-25m").unwrap()],
        &[Board::custom(77.0, 33.0).unwrap()],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.svg");
    write_roofline(&est, &path).unwrap();
    let texts = all_texts(&std::fs::read_to_string(&path).unwrap());
    assert!(texts.contains("custom (77 MB/s, 33 MHz given)"), "{texts}");
}

#[test]
fn an_unwritable_path_is_an_error_naming_it() {
    let est = estimate(
        &HgfConfig::default(),
        &[Model::preset("hgf-25m").unwrap()],
        &[Board::preset("ulx3s").unwrap()],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("roof.svg");
    let e = write_roofline(&est, &path).unwrap_err();
    assert!(matches!(e, EstimateError::Plot { .. }), "{e:?}");
    assert!(e.to_string().contains("roof.svg"), "{e}");
}
