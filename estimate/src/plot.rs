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

/// Writes the roofline of every model and board of `estimate` (in the core's packing) to
/// `path`.
pub fn write_roofline(estimate: &Estimate, path: &Path) -> Result<(), EstimateError> {
    write_svg(path, |svg| draw(estimate, svg))
}

/// The roofline as SVG text (what [`write_roofline`] writes).
pub fn roofline_svg(estimate: &Estimate) -> Result<String, String> {
    let mut svg = String::new();
    draw(estimate, &mut svg)?;
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

fn draw(estimate: &Estimate, svg: &mut String) -> Result<(), String> {
    let s = |e: &dyn std::fmt::Display| e.to_string();
    let boards = &estimate.boards;
    let models = &estimate.models;
    if boards.is_empty() || models.is_empty() {
        return Err("nothing to plot: no board or no model".into());
    }
    let bandwidths = boards.iter().map(|b| b.sustained_mb_s);
    let (bw_min, bw_max) =
        bandwidths.fold((f64::MAX, 0.0f64), |(lo, hi), b| (lo.min(b), hi.max(b)));
    let (x0, x1) = (bw_min / 4.0, bw_max * 4.0);
    let mut roofs = Vec::new();
    let mut floors = Vec::new();
    for m in models {
        for t in &m.boards {
            roofs.push(t.compute_bound_tokens_per_s);
            floors.push(t.tokens_per_s);
        }
        floors.push(x0 * 1e6 / m.bytes.per_token.total as f64);
    }
    // Every line and dot is at or below the highest roof; above it is a band for the board
    // labels, tall enough for the longest, so that no label crosses a line or a dot.
    let top = roofs.iter().copied().fold(0.0, f64::max) * 1.5;
    let y0 = floors.iter().copied().fold(f64::MAX, f64::min) / 4.0;
    let board_labels: Vec<String> = boards
        .iter()
        .map(|b| {
            format!(
                "{} ({} MB/s, {} MHz {})",
                b.name,
                short(b.sustained_mb_s),
                short(b.clock_mhz),
                b.clock_source.name()
            )
        })
        .collect();
    let longest = board_labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    let band = text_width(longest, BOARD_FONT_PX) + 16.0;
    // On a log axis of PLOT_HEIGHT pixels, the band from `top` to `y1` takes
    // log(y1 / top) / log(y1 / y0) of it.
    let data_decades = (top / y0).log10();
    let band_decades = band * data_decades / (PLOT_HEIGHT - band);
    let y1 = top * 10f64.powf(band_decades);

    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| s(&e))?;
    let c = &estimate.core;
    let caption = format!(
        "tokens/s vs memory bandwidth, {} packing (core: {} x {}, {}); hollow \
         dot: weights do not fit",
        c.packing,
        count(c.array_rows as u64, "row", "rows"),
        count(c.array_inputs as u64, "input", "inputs"),
        count(c.fp_lanes as u64, "FP lane", "FP lanes")
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 17))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(log_ticks(x0, x1)),
            (y0..y1).log_scale().with_key_points(log_ticks(y0, top)),
        )
        .map_err(|e| s(&e))?;
    chart
        .configure_mesh()
        .x_desc("sustained memory bandwidth (MB/s)")
        .y_desc("tokens/s")
        .x_label_formatter(&|v| short(*v))
        .y_label_formatter(&|v| short(*v))
        .draw()
        .map_err(|e| s(&e))?;

    let grey = RGBColor(150, 150, 150);
    for (b, label) in boards.iter().zip(board_labels) {
        let x = b.sustained_mb_s;
        chart
            .draw_series(LineSeries::new([(x, y0), (x, y1)], grey.stroke_width(1)))
            .map_err(|e| s(&e))?;
        // The name runs down the board's line from the top, in the band above the data, far
        // enough right of the line to clear the dots on it.
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x, y1))
                    + Text::new(
                        label,
                        (BOARD_LABEL_OFFSET, 6),
                        ("sans-serif", 13)
                            .into_font()
                            .transform(FontTransform::Rotate90),
                    ),
            ))
            .map_err(|e| s(&e))?;
    }

    // Roof labels, placed at the end after every roof is known, so that none overlaps
    // another: (pixel y of the roof, text, colour).
    let mut roof_labels: Vec<(i32, String, RGBColor)> = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let bytes_mb = m.bytes.per_token.total as f64 / 1e6;
        let highest_roof = m
            .boards
            .iter()
            .map(|t| t.compute_bound_tokens_per_s)
            .fold(0.0, f64::max);
        // The diagonal, clipped to the plot and ending at the model's highest roof (above
        // it the core's clock binds, not the memory): tokens/s = bandwidth / MB per token.
        let xa = x0.max(y0 * bytes_mb);
        let xb = x1.min(highest_roof * bytes_mb);
        if xa < xb {
            chart
                .draw_series(LineSeries::new(
                    [(xa, xa / bytes_mb), (xb, xb / bytes_mb)],
                    color.stroke_width(2),
                ))
                .map_err(|e| s(&e))?
                .label(format!(
                    "{} ({:.2} MB/token, {} cycles/token)",
                    m.model.name,
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
                let (_, py) = chart.backend_coord(&(x1, roof));
                roof_labels.push((py, format!("{} MHz", short(clock)), color));
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
    let (right, _) = chart.backend_coord(&(x1, y0));
    for (py, text, color) in spread(roof_labels, ROOF_LABEL_PITCH) {
        root.draw(&Text::new(
            text,
            (right - 52, py - ROOF_LABEL_PITCH),
            ("sans-serif", 11).into_font().color(&color),
        ))
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
                            "not estimated (not runnable on this core: a projection exceeds its maxima): {}",
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

/// Height of the plotting area in pixels (the SVG's, less caption, margins and the x axis).
const PLOT_HEIGHT: f64 = 540.0;
/// The board labels' font as plotters writes it into the SVG (size 13 is scaled to this).
const BOARD_FONT_PX: f64 = 10.5;
/// Horizontal distance of a board's label from its line, in pixels: the rotated text lies
/// between about 10 and 21 pixels right of the line, clear of the dots (radius 5) on it.
const BOARD_LABEL_OFFSET: i32 = 21;
/// Vertical pitch of the roof labels, in pixels (their font is about 9 pixels tall).
const ROOF_LABEL_PITCH: i32 = 12;

/// Width in pixels of `chars` characters of sans-serif at `px` pixels (an average glyph is
/// about 0.55 of the font size; a little more, to be safe).
pub(crate) fn text_width(chars: usize, px: f64) -> f64 {
    chars as f64 * px * 0.58
}

/// Labels at pixel heights `y` moved apart, top to bottom, until each is at least `pitch`
/// below the one above it; their order is kept.
fn spread<T>(mut labels: Vec<(i32, String, T)>, pitch: i32) -> Vec<(i32, String, T)> {
    labels.sort_by_key(|l| l.0);
    let mut last = i32::MIN / 2;
    for label in &mut labels {
        label.0 = label.0.max(last + pitch);
        last = label.0;
    }
    labels
}

/// Tick values of a log axis from `lo` to `hi`: the powers of ten, and 2 and 5 times them
/// when the range spans fewer than four decades, or every multiple 1..9 when it spans less
/// than one and a half: always a few ticks inside the range, whatever its width (plotters'
/// own log ticks are the powers of ten and can leave a narrow range with one or none).
pub(crate) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = (hi / lo).log10();
    let multiples: &[f64] = if decades >= 4.0 {
        &[1.0]
    } else if decades >= 1.5 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    };
    let first = lo.log10().floor() as i32;
    let last = hi.log10().ceil() as i32;
    (first..=last)
        .flat_map(|e| multiples.iter().map(move |m| m * 10f64.powi(e)))
        .filter(|&v| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9))
        .collect()
}
