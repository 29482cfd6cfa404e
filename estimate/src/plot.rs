//! The roofline plot (SVG): tokens/s against sustained memory bandwidth, on log axes.
//!
//! For each model, the memory ceiling is the diagonal `bandwidth / bytes_per_token`; each
//! distinct board clock adds a flat compute roof `clock / cycles_per_token` from the point
//! where it meets the diagonal. Each board is a vertical line at its sustained bandwidth, and
//! a dot marks where each model runs on it (the lower of its two bounds). Models that were
//! not estimated (`Estimate::unmapped`) are named in a note.

use std::path::Path;

use hgf_golden::output::write_atomically;
use hgf_golden::plural::count;
use hgf_golden::Packing;
use plotters::prelude::*;

use crate::error::EstimateError;
use crate::report::{short, thousands, Estimate};

/// Size of the plot in SVG pixels.
const SIZE: (u32, u32) = (1000, 680);

/// Colours of the models, in turn.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
];

/// Writes the roofline of every model and board of `estimate`, in `packing`, to `path`.
pub fn write_roofline(
    estimate: &Estimate,
    packing: Packing,
    path: &Path,
) -> Result<(), EstimateError> {
    write_svg(path, |svg| draw(estimate, packing, svg))
}

/// The roofline as SVG text (what [`write_roofline`] writes).
pub fn roofline_svg(estimate: &Estimate, packing: Packing) -> Result<String, String> {
    let mut svg = String::new();
    draw(estimate, packing, &mut svg)?;
    Ok(svg)
}

/// Runs `draw` into a string and writes it to `path` through a temporary file renamed into
/// place, so that a failed plot leaves no file (and an old plot stays whole until replaced).
pub(crate) fn write_svg(
    path: &Path,
    draw: impl FnOnce(&mut String) -> Result<(), String>,
) -> Result<(), EstimateError> {
    let err = |message: String| EstimateError::Plot {
        path: path.to_path_buf(),
        message,
    };
    let mut svg = String::new();
    draw(&mut svg).map_err(err)?;
    if svg.is_empty() {
        return Err(err("the SVG is empty".into()));
    }
    write_atomically(path, svg.as_bytes()).map_err(|e| err(e.to_string()))
}

/// The legend in the lower right corner, then the file written.
pub(crate) fn finish<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    root: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
) -> Result<(), String> {
    let s = |e: &dyn std::fmt::Display| e.to_string();
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| s(&e))?;
    root.present().map_err(|e| s(&e))
}

fn draw(estimate: &Estimate, packing: Packing, svg: &mut String) -> Result<(), String> {
    let s = |e: &dyn std::fmt::Display| e.to_string();
    let boards = &estimate.boards;
    let models: Vec<_> = estimate.models.iter().map(|m| m.packing(packing)).collect();
    if boards.is_empty() || models.is_empty() {
        return Err("nothing to plot: no board or no model".into());
    }
    let bandwidths = boards.iter().map(|b| b.sustained_mb_s);
    let (bw_min, bw_max) =
        bandwidths.fold((f64::MAX, 0.0f64), |(lo, hi), b| (lo.min(b), hi.max(b)));
    let (x0, x1) = (bw_min / 4.0, bw_max * 4.0);
    let mut roofs = Vec::new();
    let mut floors = Vec::new();
    for m in &models {
        for t in &m.boards {
            roofs.push(t.compute_bound_tokens_per_s);
            floors.push(t.tokens_per_s);
        }
        floors.push(x0 * 1e6 / m.bytes.per_token.total as f64);
    }
    let y1 = roofs.iter().copied().fold(0.0, f64::max) * 4.0;
    let y0 = floors.iter().copied().fold(f64::MAX, f64::min) / 4.0;

    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| s(&e))?;
    let c = &estimate.core;
    let caption = format!(
        "tokens/s vs memory bandwidth, {packing} packing (core: {} x {}, {}); hollow \
         dot: weights do not fit",
        count(c.array_rows as u64, "row", "rows"),
        count(c.array_inputs as u64, "input", "inputs"),
        count(c.fp_lanes as u64, "FP lane", "FP lanes")
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 17))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
        .map_err(|e| s(&e))?;
    chart
        .configure_mesh()
        .x_desc("sustained memory bandwidth (MB/s)")
        .y_desc("tokens/s")
        .draw()
        .map_err(|e| s(&e))?;

    let grey = RGBColor(150, 150, 150);
    for b in boards {
        let x = b.sustained_mb_s;
        chart
            .draw_series(LineSeries::new([(x, y0), (x, y1)], grey.stroke_width(1)))
            .map_err(|e| s(&e))?;
        // The name runs down the board's line, a few pixels to its right.
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x, y1))
                    + Text::new(
                        format!("{} ({} MB/s, {} MHz)", b.name, short(x), short(b.clock_mhz)),
                        (16, 8),
                        ("sans-serif", 13)
                            .into_font()
                            .transform(FontTransform::Rotate90),
                    ),
            ))
            .map_err(|e| s(&e))?;
    }

    for (i, (m, est)) in models.iter().zip(&estimate.models).enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let bytes_mb = m.bytes.per_token.total as f64 / 1e6;
        // The diagonal, clipped to the plot: tokens/s = bandwidth / MB per token.
        let xa = x0.max(y0 * bytes_mb);
        let xb = x1.min(y1 * bytes_mb);
        if xa < xb {
            chart
                .draw_series(LineSeries::new(
                    [(xa, xa / bytes_mb), (xb, xb / bytes_mb)],
                    color.stroke_width(2),
                ))
                .map_err(|e| s(&e))?
                .label(format!(
                    "{} ({:.2} MB/token, {} cycles/token)",
                    est.model.name,
                    bytes_mb,
                    thousands(m.cycles.per_token)
                ))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        // One flat compute roof per distinct clock, from where it meets the diagonal.
        let mut clocks: Vec<f64> = m.boards.iter().map(|t| t.clock_mhz).collect();
        clocks.sort_by(|a, b| b.total_cmp(a));
        clocks.dedup();
        // Roofs closer than 15% share the label of the higher one.
        let mut last_label = f64::MAX;
        for clock in clocks {
            let roof = clock * 1e6 / m.cycles.per_token as f64;
            let start = (roof * bytes_mb).max(x0);
            if start < x1 && roof > y0 && roof < y1 {
                chart
                    .draw_series(LineSeries::new(
                        [(start, roof), (x1, roof)],
                        color.mix(0.6).stroke_width(1),
                    ))
                    .map_err(|e| s(&e))?;
                if roof * 1.15 > last_label {
                    continue;
                }
                last_label = roof;
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((x1, roof))
                            + Text::new(
                                format!("{} MHz", short(clock)),
                                (-52, -13),
                                ("sans-serif", 11).into_font().color(&color),
                            ),
                    ))
                    .map_err(|e| s(&e))?;
            }
        }
        // A hollow dot: the weights do not fit the board's memory.
        chart
            .draw_series(m.boards.iter().map(|t| {
                let style = if t.fits_in_memory == Some(false) {
                    color.stroke_width(2)
                } else {
                    color.filled()
                };
                Circle::new((t.bandwidth_mb_s, t.tokens_per_s), 5, style)
            }))
            .map_err(|e| s(&e))?;
    }
    // Models that were not estimated have no line; say so on the plot, so that a missing
    // model is not mistaken for one hidden behind another.
    if !estimate.unmapped.is_empty() {
        let names: Vec<&str> = estimate
            .unmapped
            .iter()
            .map(|u| u.model.name.as_str())
            .collect();
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x0, y0))
                    + Text::new(
                        format!(
                            "not estimated (a projection does not fit the core): {}",
                            names.join(", ")
                        ),
                        (8, -20),
                        ("sans-serif", 13),
                    ),
            ))
            .map_err(|e| s(&e))?;
    }
    finish(&mut chart, &root)
}
