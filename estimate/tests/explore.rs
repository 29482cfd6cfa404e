//! The design-space search, on a stand-in area function (so the search is tested apart from
//! the calibrated area model, which has its own tests).

use hgf_estimate::explore::{explore, pareto_front, AreaFigure, Space};
use hgf_estimate::{Board, Model};
use hgf_golden::{HgfConfig, Packing, Target};

const CAPACITY: u64 = 24_288;

/// A made-up but monotonic area: every array input, lane and multiplier costs logic.
fn toy_area(cfg: &HgfConfig) -> AreaFigure {
    let logic = (3_000
        + 25 * cfg.array_rows * cfg.array_inputs
        + 1_400 * cfg.fp_lanes
        + 700 * cfg.gate_multipliers) as u64;
    AreaFigure {
        logic,
        logic_capacity: CAPACITY,
        utilisation: logic as f64 / CAPACITY as f64,
        fits: logic <= CAPACITY,
    }
}

fn small_space() -> Space {
    Space {
        array_rows: vec![1, 2, 4, 8],
        array_inputs: vec![20, 40, 80, 160],
        fp_lanes: vec![1, 2, 4, 8],
        gate_multipliers: vec![1, 2],
        gate_shares_adder: vec![false, true],
        packings: Packing::ALL.to_vec(),
    }
}

#[test]
fn the_front_dominates_every_fitting_candidate_and_ends_at_the_best() {
    let model = Model::preset("hgf-25m").unwrap();
    // A fast memory: compute binds, so bigger engines are faster and the front has steps.
    let board = Board::custom(50_000.0, 100.0).unwrap();
    let e = explore(&model, &board, Target::Ecp5_25k, &small_space(), &toy_area).unwrap();
    assert_eq!(e.evaluated, 4 * 4 * 4 * 2 * 2 * 2);
    assert!(
        e.fitting > 0 && e.fitting < e.evaluated,
        "{} {}",
        e.fitting,
        e.evaluated
    );
    assert!(e.pareto.len() >= 3, "front of {}", e.pareto.len());
    for w in e.pareto.windows(2) {
        assert!(w[0].area.logic <= w[1].area.logic);
        assert!(w[0].tokens_per_s < w[1].tokens_per_s);
    }
    for c in &e.all_fitting {
        assert!(c.area.fits);
        assert!(
            e.pareto
                .iter()
                .any(|f| f.area.logic <= c.area.logic && f.tokens_per_s >= c.tokens_per_s),
            "{:?} is not dominated",
            c.config
        );
    }
    let best = e.best.as_ref().unwrap();
    let fastest = e
        .all_fitting
        .iter()
        .map(|c| c.tokens_per_s)
        .fold(0.0, f64::max);
    assert_eq!(best.tokens_per_s, fastest);
    assert!(e
        .all_fitting
        .iter()
        .filter(|c| c.tokens_per_s == fastest)
        .all(|c| c.area.logic >= best.area.logic));
    // The best config is a valid config of the model's largest projection.
    best.config.validate().unwrap();
    assert_eq!(
        (
            best.config.max_d_in,
            best.config.max_d_out,
            best.config.max_rank
        ),
        (1376, 1376, 16)
    );
    assert_eq!(best.config.target, Target::Ecp5_25k);
}

#[test]
fn on_a_memory_bound_board_the_best_is_the_smallest_engine_at_the_memory_rate() {
    let model = Model::preset("bitnet-2b4t").unwrap();
    let board = Board::preset("icebreaker").unwrap();
    let e = explore(&model, &board, Target::Ecp5_25k, &small_space(), &toy_area).unwrap();
    let best = e.best.unwrap();
    // The weights stream at the board's rate whatever the engine, once it is fast enough.
    assert_eq!(best.bound, hgf_estimate::Bound::Memory);
    let memory_rate = board.bytes_per_second() / best.bytes_per_token as f64;
    assert!((best.tokens_per_s - memory_rate).abs() < 1e-9 * memory_rate);
    // base3 reads fewer bytes, so it is the faster packing on a memory-bound board.
    assert_eq!(best.config.packing, Packing::Base3);
}

#[test]
fn nothing_fits_gives_no_best() {
    let model = Model::preset("hgf-25m").unwrap();
    let board = Board::preset("ulx3s").unwrap();
    let too_big = |cfg: &HgfConfig| AreaFigure {
        fits: false,
        ..toy_area(cfg)
    };
    let e = explore(&model, &board, Target::Ice40Up5k, &small_space(), &too_big).unwrap();
    assert_eq!(e.fitting, 0);
    assert!(e.pareto.is_empty() && e.best.is_none());
    assert!(e.to_text().contains("no candidate fits ice40-up5k"));
}

#[test]
fn the_front_of_equal_rates_keeps_the_smallest() {
    let model = Model::preset("hgf-25m").unwrap();
    let board = Board::preset("icebreaker").unwrap();
    let e = explore(&model, &board, Target::Ecp5_25k, &small_space(), &toy_area).unwrap();
    let front = pareto_front(&e.all_fitting);
    assert_eq!(front, e.pareto);
    // Memory-bound everywhere from some size on: one point per distinct rate.
    let mut rates: Vec<f64> = front.iter().map(|c| c.tokens_per_s).collect();
    rates.dedup();
    assert_eq!(rates.len(), front.len());
}

#[test]
fn the_pareto_plot_marks_the_front_the_best_and_the_device() {
    let model = Model::preset("hgf-25m").unwrap();
    let board = Board::custom(50_000.0, 100.0).unwrap();
    let e = explore(&model, &board, Target::Ecp5_25k, &small_space(), &toy_area).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pareto.svg");
    hgf_estimate::pareto_plot::write_pareto(&e, &path).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    let all = texts.join("\n");
    let best = hgf_estimate::pareto_plot::engine_label(e.best.as_ref().unwrap());
    for want in [
        "Pareto front",
        "24,288 logic sites of ecp5-25k",
        best.as_str(),
        "hgf-25m",
    ] {
        assert!(all.contains(want), "{want} missing from:\n{all}");
    }
    // One dot per fitting candidate, plus the front's points and the legend's.
    let circles = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert!(circles >= e.fitting + e.pareto.len(), "{circles}");

    // Nothing to plot is an error that names the file, not an empty picture.
    let none = explore(
        &model,
        &board,
        Target::Ecp5_25k,
        &small_space(),
        &|c: &HgfConfig| AreaFigure {
            fits: false,
            ..toy_area(c)
        },
    )
    .unwrap();
    let err = hgf_estimate::pareto_plot::write_pareto(&none, &dir.path().join("x.svg"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("x.svg") && err.contains("none of the"),
        "{err}"
    );
}

#[test]
fn every_candidate_is_sized_for_the_model_and_runs_all_its_projections() {
    use hgf_estimate::explore::engine_config;
    // BitNet 2B4T: the largest d_in is down's 6912, the largest d_out gate's and up's 6912;
    // no projection has a correction, and the core keeps the smallest low-rank unit.
    let model = Model::preset("bitnet-2b4t").unwrap();
    let cfg = engine_config(
        &model,
        Target::Ecp5_25k,
        "hgf_core",
        4,
        40,
        2,
        1,
        false,
        Packing::TwoBit,
    );
    assert_eq!((cfg.max_d_in, cfg.max_d_out, cfg.max_rank), (6912, 6912, 1));
    cfg.validate().unwrap();
    for p in &model.projections {
        cfg.check_shape(p.shape()).unwrap();
    }
    // The search evaluates every candidate that the config rules accept: none is left out
    // for not running a projection.
    let e = explore(
        &model,
        &Board::preset("arty-a7").unwrap(),
        Target::Ecp5_25k,
        &small_space(),
        &toy_area,
    )
    .unwrap();
    let accepted = Packing::ALL
        .iter()
        .flat_map(|&packing| {
            let space = small_space();
            let mut configs = Vec::new();
            for &r in &space.array_rows {
                for &c in &space.array_inputs {
                    for &f in &space.fp_lanes {
                        for &g in &space.gate_multipliers {
                            for &a in &space.gate_shares_adder {
                                configs.push(engine_config(
                                    &model,
                                    Target::Ecp5_25k,
                                    "hgf_core",
                                    r,
                                    c,
                                    f,
                                    g,
                                    a,
                                    packing,
                                ));
                            }
                        }
                    }
                }
            }
            configs
        })
        .filter(|c| c.validate().is_ok())
        .count();
    assert_eq!(e.evaluated, accepted);
    assert!(accepted > 0);
}
