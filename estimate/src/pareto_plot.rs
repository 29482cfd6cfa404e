//! The Pareto plot of an exploration (SVG): tokens/s against the core's logic sites, every
//! fitting candidate as a grey dot, the front as a line with its points, the best candidate
//! ringed, and the device's logic capacity as a vertical line.

use std::path::Path;

use hgf_golden::plural::count;
use plotters::prelude::*;

use crate::error::EstimateError;
use crate::explore::{Candidate, Exploration};
use crate::plot::{finish, log_ticks, text_width, write_svg};
use crate::report::{short, thousands};

/// Size of the plot in SVG pixels.
const SIZE: (u32, u32) = (1000, 680);

/// Writes the Pareto plot of `exploration` to `path`.
pub fn write_pareto(exploration: &Exploration, path: &Path) -> Result<(), EstimateError> {
    write_svg(path, |svg| draw(exploration, svg))
}

/// The Pareto plot as SVG text (what [`write_pareto`] writes).
pub fn pareto_svg(exploration: &Exploration) -> Result<String, String> {
    let mut svg = String::new();
    draw(exploration, &mut svg)?;
    Ok(svg)
}

/// A short label of an engine: `RxC F g packing` (`g1+A`: one gate multiplier and the
/// lane's adder).
pub fn engine_label(c: &Candidate) -> String {
    let k = &c.config;
    format!(
        "{}x{} F{} g{} {}",
        k.array_rows,
        k.array_inputs,
        k.fp_lanes,
        crate::explore::gate_label(k),
        k.packing
    )
}

fn draw(e: &Exploration, svg: &mut String) -> Result<(), String> {
    let s = |e: &dyn std::fmt::Display| e.to_string();
    if e.all_fitting.is_empty() {
        return Err(format!(
            "nothing to plot: none of the {} fits {}",
            count(e.evaluated as u64, "candidate", "candidates"),
            e.target
        ));
    }
    let capacity = e.all_fitting[0].area.logic_capacity as f64;
    let x1 = capacity * 1.08;
    let tps = e.all_fitting.iter().map(|c| c.tokens_per_s);
    let (y_lo, y_hi) = tps.fold((f64::MAX, 0.0f64), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let (y0, y1) = (y_lo / 1.5, y_hi * 1.5);

    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| s(&e))?;
    let caption = format!(
        "{} on {} ({} MB/s, {} MHz {}), core on {}: {} fitting of {}",
        e.model,
        e.board.name,
        short(e.board.sustained_mb_s),
        short(e.board.clock_mhz),
        e.board.clock_source.name(),
        e.target,
        e.fitting,
        count(e.evaluated as u64, "candidate", "candidates")
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 17))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(
            0.0..x1,
            (y0..y1).log_scale().with_key_points(log_ticks(y0, y1)),
        )
        .map_err(|e| s(&e))?;
    chart
        .configure_mesh()
        .x_desc("logic sites (area model)")
        .y_desc("tokens/s")
        .x_label_formatter(&|v| thousands(v.round() as u64))
        .y_label_formatter(&|v| short(*v))
        .draw()
        .map_err(|e| s(&e))?;

    let grey = RGBColor(170, 170, 170);
    chart
        .draw_series(
            e.all_fitting
                .iter()
                .map(|c| Circle::new((c.area.logic as f64, c.tokens_per_s), 2, grey.filled())),
        )
        .map_err(|e| s(&e))?
        .label("fitting candidate")
        .legend(move |(x, y)| Circle::new((x + 10, y), 3, grey.filled()));
    chart
        .draw_series(LineSeries::new(
            [(capacity, y0), (capacity, y1)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| s(&e))?
        .label(format!(
            "{} logic sites of {}",
            thousands(capacity as u64),
            e.target
        ))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.stroke_width(1)));

    let blue = RGBColor(31, 119, 180);
    let front: Vec<(f64, f64)> = e
        .pareto
        .iter()
        .map(|c| (c.area.logic as f64, c.tokens_per_s))
        .collect();
    chart
        .draw_series(LineSeries::new(front.clone(), blue.stroke_width(2)))
        .map_err(|e| s(&e))?
        .label("Pareto front")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart
        .draw_series(front.iter().map(|&p| Circle::new(p, 4, blue.filled())))
        .map_err(|e| s(&e))?;
    if let Some(best) = &e.best {
        let red = RGBColor(214, 39, 40);
        let p = (best.area.logic as f64, best.tokens_per_s);
        let label = format!("best: {}", engine_label(best));
        // Centred above the ring: the best is the fastest point, so nothing is drawn above
        // it (the axis reaches 1.5 times the fastest rate).
        let half_width = (text_width(label.chars().count(), 10.5) / 2.0) as i32;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at(p)
                    + Circle::new((0, 0), 9, red.stroke_width(2))
                    + Text::new(
                        label,
                        (-half_width, -28),
                        ("sans-serif", 13).into_font().color(&red),
                    ),
            ))
            .map_err(|e| s(&e))?;
    }
    finish(&mut chart, &root)
}
