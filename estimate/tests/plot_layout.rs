//! The plots are readable (issue 17): read back from the SVG, no label overlaps another, no
//! board label crosses a data point, and a log axis has ticks over the whole range of the
//! data. Label boxes are estimated from the font size (an average glyph of 0.6 of it), which
//! is what a renderer draws to within a few pixels.

use hgf_estimate::explore::{explore, AreaFigure, Space};
use hgf_estimate::pareto_plot::pareto_svg;
use hgf_estimate::plot::roofline_svg;
use hgf_estimate::{estimate_each, Board, Model};
use hgf_golden::{HgfConfig, Packing, Target};

/// A box in pixels: left, top, right, bottom.
#[derive(Clone, Copy, Debug)]
struct Rect(f64, f64, f64, f64);

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.0 < o.2 && o.0 < self.2 && self.1 < o.3 && o.1 < self.3
    }
}

#[derive(Debug)]
struct Label {
    text: String,
    rect: Rect,
    rotated: bool,
}

struct Layout {
    labels: Vec<Label>,
    /// Data points: their bounding boxes.
    dots: Vec<Rect>,
}

fn number(n: &roxmltree::Node<'_, '_>, attribute: &str) -> f64 {
    n.attribute(attribute)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("<{:?}> has a numeric {attribute}", n.tag_name()))
}

fn layout(svg: &str) -> Layout {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    let mut labels = Vec::new();
    for n in doc.descendants().filter(|n| n.has_tag_name("text")) {
        let text = n.text().unwrap_or("").trim().to_string();
        let (x, y, size) = (number(&n, "x"), number(&n, "y"), number(&n, "font-size"));
        let width = text.chars().count() as f64 * size * 0.6;
        let transform = n.attribute("transform").unwrap_or("");
        let top_anchored = n.attribute("dy") == Some("0.76em");
        let rect = if transform.starts_with("rotate(90") {
            // Runs down from (x, y); the glyphs lie up to one font size left of x.
            Rect(x - size, y, x, y + width)
        } else if transform.is_empty() {
            let left = match n.attribute("text-anchor") {
                Some("middle") => x - width / 2.0,
                Some("end") => x - width,
                _ => x,
            };
            let top = if top_anchored { y } else { y - size };
            Rect(left, top, left + width, top + size)
        } else {
            continue; // the y axis title, rotated 270
        };
        labels.push(Label {
            text,
            rect,
            rotated: transform.starts_with("rotate(90"),
        });
    }
    let dots = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .map(|n| {
            let (cx, cy, r) = (number(&n, "cx"), number(&n, "cy"), number(&n, "r"));
            Rect(cx - r, cy - r, cx + r, cy + r)
        })
        .collect();
    Layout { labels, dots }
}

fn assert_roofline_readable(svg: &str) {
    let l = layout(svg);
    let board_labels: Vec<&Label> = l.labels.iter().filter(|t| t.rotated).collect();
    let roof_labels: Vec<&Label> = l
        .labels
        .iter()
        .filter(|t| !t.rotated && t.text.ends_with(" MHz"))
        .collect();
    assert!(!board_labels.is_empty() && !roof_labels.is_empty());
    let placed: Vec<&Label> = board_labels.iter().chain(&roof_labels).copied().collect();
    for (i, a) in placed.iter().enumerate() {
        for b in &placed[i + 1..] {
            assert!(
                !a.rect.overlaps(&b.rect),
                "labels overlap: {:?} and {:?}",
                a,
                b
            );
        }
    }
    for b in &board_labels {
        for d in &l.dots {
            assert!(!b.rect.overlaps(d), "{b:?} crosses the data point {d:?}");
        }
    }
}

// See: issue #17: the clock labels overlapped each other and the board labels crossed the
// data points.
#[test]
fn the_roofline_labels_overlap_neither_each_other_nor_the_data() {
    // A core large enough to run every built-in model, in both packings; and the default
    // core, which runs one of them.
    for packing in Packing::ALL {
        let big = HgfConfig {
            max_d_in: 16384,
            max_d_out: 16384,
            max_rank: 128,
            array_rows: 64,
            array_inputs: 320,
            fp_lanes: 16,
            packing,
            ..HgfConfig::default()
        };
        big.validate().unwrap();
        let all = estimate_each(&big, &Model::presets(), &Board::presets()).unwrap();
        assert_eq!(all.models.len(), Model::presets().len());
        assert_roofline_readable(&roofline_svg(&all).unwrap());
    }
    let default =
        estimate_each(&HgfConfig::default(), &Model::presets(), &Board::presets()).unwrap();
    assert_roofline_readable(&roofline_svg(&default).unwrap());
}

/// The tick labels of the y axis (numbers left of the plot), as values.
fn y_ticks(svg: &str) -> Vec<f64> {
    layout(svg)
        .labels
        .iter()
        .filter(|t| t.rect.2 < 95.0)
        .filter_map(|t| t.text.replace(',', "").parse().ok())
        .collect()
}

fn area_of(cfg: &HgfConfig) -> AreaFigure {
    let logic = (3_000
        + 25 * cfg.array_rows * cfg.array_inputs
        + 1_400 * cfg.fp_lanes
        + 700 * cfg.gate_multipliers) as u64;
    AreaFigure {
        logic,
        logic_capacity: 24_288,
        utilisation: logic as f64 / 24_288.0,
        fits: logic <= 24_288,
    }
}

// See: issue #17: the Pareto plot had no y tick below 10 though its points went down to 5.
#[test]
fn the_pareto_plot_has_y_ticks_below_its_lowest_and_above_its_highest_point() {
    let model = Model::preset("hgf-25m").unwrap();
    let board = Board::preset("ulx3s").unwrap();
    let lowest = |e: &hgf_estimate::explore::Exploration| {
        e.all_fitting
            .iter()
            .map(|c| c.tokens_per_s)
            .fold(f64::MAX, f64::min)
    };
    let e = explore(
        &model,
        &board,
        Target::Ecp5_25k,
        &Space::default(),
        &area_of,
    )
    .unwrap();
    assert!(lowest(&e) < 10.0, "the case of the issue: points below 10");
    pareto_checks(&e);
    // A front that climbs steeply to its best (compute-bound on a fast memory).
    let fast = Board::preset("kv260").unwrap();
    let big = Model::preset("bitnet-2b4t").unwrap();
    let e = explore(&big, &fast, Target::Ecp5_85k, &Space::default(), &area_of).unwrap();
    pareto_checks(&e);
}

fn pareto_checks(e: &hgf_estimate::explore::Exploration) {
    let svg = pareto_svg(e).unwrap();
    let ticks = y_ticks(&svg);
    let (lo, hi) = e
        .all_fitting
        .iter()
        .map(|c| c.tokens_per_s)
        .fold((f64::MAX, 0.0f64), |(lo, hi), t| (lo.min(t), hi.max(t)));
    assert!(
        ticks.iter().any(|&t| t <= lo) && ticks.iter().any(|&t| t >= hi),
        "y ticks {ticks:?} do not bracket the data {lo}..{hi}"
    );
    assert!(ticks.len() >= 4, "{ticks:?}");
    // See: issue #17 (found while looking at the plots): the label of the best point crossed
    // the front.
    let l = layout(&svg);
    let best = l
        .labels
        .iter()
        .find(|t| t.text.starts_with("best: "))
        .expect("the best point is labelled");
    for d in &l.dots {
        assert!(!best.rect.overlaps(d), "{best:?} crosses the point {d:?}");
    }
}
