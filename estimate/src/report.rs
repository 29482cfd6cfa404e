//! The estimate of some models on some boards with one core, and its human-readable form.
//! The same structure is what `hgf estimate --json` prints.

use std::fmt::Write as _;

use hgf_golden::{HgfConfig, Packing};
use serde::Serialize;

use crate::area::{estimate_area, AreaEstimate};
use crate::bandwidth::{model_bytes, ByteCounts, ModelBytes};
use crate::boards::{Board, BoardFpga};
use crate::compute::{model_cycles, ModelCycles};
use crate::cores::{projection_runs, ProjectionBeyond};
use crate::error::EstimateError;
use crate::models::Model;
use crate::throughput::{throughput, Bound, Throughput};

/// One model on the core: bytes, cycles, and the throughput on every board.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelEstimate {
    pub model: Model,
    pub ternary_weights: u64,
    pub lowrank_parameters: u64,
    /// The core's packing, the one its weight streams are in.
    pub packing: Packing,
    pub bytes: ModelBytes,
    pub cycles: ModelCycles,
    pub boards: Vec<Throughput>,
}

/// Models on boards with one core.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// The core as built: every projection of every model runs on it as a run-time shape
    /// within its maxima, in its packing.
    pub core: HgfConfig,
    pub boards: Vec<Board>,
    pub models: Vec<ModelEstimate>,
    /// The models that are not runnable on the core because some projections exceed its
    /// maxima (only [`estimate_each`] records them; [`estimate`] fails instead). Empty when
    /// every model was estimated.
    pub unmapped: Vec<UnmappedModel>,
    /// The area of the core on its target (`crate::area`): per block, total, and whether it
    /// fits.
    pub area: AreaEstimate,
    /// Whether the core fits each board's FPGA, in the order of `boards`: a board whose FPGA
    /// it does not fit cannot run it at any of the rates given.
    pub core_on_boards: Vec<CoreOnBoard>,
}

/// The core config on one board's FPGA.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoreOnBoard {
    pub board: String,
    pub fpga: BoardFpga,
    /// Whether the core fits the FPGA by the area model (`None`: unknown, a family the project
    /// cannot place or no FPGA named).
    pub core_fits_fpga: Option<bool>,
    /// The same in words, with the resources over the device's when it does not fit.
    pub note: String,
}

impl CoreOnBoard {
    fn new(core: &HgfConfig, board: &Board) -> CoreOnBoard {
        let (core_fits_fpga, note) = match board.fpga {
            BoardFpga::Placeable { target } => {
                let area = estimate_area(core, target);
                let over: Vec<String> = area
                    .fit
                    .iter()
                    .filter(|f| !f.fits())
                    .map(|f| {
                        format!(
                            "{} {} of {}",
                            f.resource.name(),
                            thousands(f.used),
                            thousands(f.available)
                        )
                    })
                    .collect();
                if area.fits {
                    (
                        Some(true),
                        format!("the core fits the {target} (area model)"),
                    )
                } else {
                    (
                        Some(false),
                        format!(
                            "the core does NOT fit the {target} (area model: {}); this board \
                             cannot run it",
                            over.join(", ")
                        ),
                    )
                }
            }
            BoardFpga::NotPlaceable { part } => (
                None,
                format!(
                    "{part}: a family the project cannot place; whether the core fits, and \
                     its clock, are unknown"
                ),
            ),
            BoardFpga::Unspecified => (None, "a custom board names no FPGA".to_string()),
        };
        CoreOnBoard {
            board: board.name.clone(),
            fpga: board.fpga,
            core_fits_fpga,
            note,
        }
    }

    /// "yes", "NO" or "unknown".
    fn fits_text(&self) -> &'static str {
        match self.core_fits_fpga {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "unknown",
        }
    }
}

/// The legend of the two "fits" columns, printed under every table that has them.
pub const FITS_LEGEND: &str = "core fits FPGA: the core config fits the board's FPGA (area \
                               model; unknown where the project cannot place the family); \
                               weights fit memory: the model's weights fit the board's memory.";

/// A model that is not runnable on the core: some of its projections exceed the core's
/// maxima ([`crate::cores::projection_runs`]). In `hgf estimate --json` it takes the place
/// of the model's numbers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnmappedModel {
    pub model: Model,
    /// The first projection that the core cannot run.
    pub projection: &'static str,
    /// The core's config field that it exceeds (`max_d_in`, `max_d_out` or `max_rank`).
    pub field: String,
    /// Every projection of a layer that the core cannot run, with the limit it exceeds.
    pub projections: Vec<ProjectionBeyond>,
    /// The whole reason, as `hgf estimate --model NAME` reports it.
    pub error: String,
}

impl UnmappedModel {
    /// The unmapped model that `error` describes, when it says that the model is not
    /// runnable on the core ([`EstimateError::NotRunnable`]); any other error is given back.
    fn from_error(model: &Model, error: EstimateError) -> Result<UnmappedModel, EstimateError> {
        match &error {
            EstimateError::NotRunnable { projections, .. } if !projections.is_empty() => {
                let first = &projections[0];
                Ok(UnmappedModel {
                    model: model.clone(),
                    projection: first.projection.name(),
                    field: first.field.clone(),
                    projections: projections.clone(),
                    error: error.to_string(),
                })
            }
            _ => Err(error),
        }
    }
}

/// One model on every board with the `core`.
fn model_estimate(
    core: &HgfConfig,
    model: &Model,
    boards: &[Board],
) -> Result<ModelEstimate, EstimateError> {
    let runs = projection_runs(model, core)?;
    let bytes = model_bytes(&runs, model.layers, core.packing);
    let cycles = model_cycles(core, &runs, model.layers);
    let boards = boards
        .iter()
        .map(|b| throughput(bytes.per_token.total, cycles.per_token, core.packing, b))
        .collect();
    Ok(ModelEstimate {
        model: model.clone(),
        ternary_weights: model.ternary_weights(),
        lowrank_parameters: model.lowrank_parameters(),
        packing: core.packing,
        bytes,
        cycles,
        boards,
    })
}

fn assemble(
    core: &HgfConfig,
    boards: &[Board],
    models: Vec<ModelEstimate>,
    unmapped: Vec<UnmappedModel>,
) -> Estimate {
    Estimate {
        core: core.clone(),
        boards: boards.to_vec(),
        models,
        unmapped,
        area: estimate_area(core, core.target),
        core_on_boards: boards.iter().map(|b| CoreOnBoard::new(core, b)).collect(),
    }
}

/// Estimates every model on every board with the `core`. Fails when a model is not runnable
/// on the core, naming the model, its projections beyond the core's maxima and the limits:
/// the models asked for are required.
pub fn estimate(
    core: &HgfConfig,
    models: &[Model],
    boards: &[Board],
) -> Result<Estimate, EstimateError> {
    let models = models
        .iter()
        .map(|model| model_estimate(core, model, boards))
        .collect::<Result<Vec<_>, EstimateError>>()?;
    Ok(assemble(core, boards, models, Vec::new()))
}

/// Estimates each model on its own, as [`estimate`] does, except that a model that is not
/// runnable on the core is recorded in [`Estimate::unmapped`] with the
/// reason instead of failing the whole estimate: for a survey of models (`hgf estimate`
/// without `--model`), where the others are still worth having. Other errors still fail.
pub fn estimate_each(
    core: &HgfConfig,
    models: &[Model],
    boards: &[Board],
) -> Result<Estimate, EstimateError> {
    let mut estimated = Vec::new();
    let mut unmapped = Vec::new();
    for model in models {
        match model_estimate(core, model, boards) {
            Ok(m) => estimated.push(m),
            Err(error) => unmapped.push(UnmappedModel::from_error(model, error)?),
        }
    }
    Ok(assemble(core, boards, estimated, unmapped))
}

/// `n` with thousands separators.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate with about three significant digits.
pub fn rate(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else if x >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// A rate as [`rate`] gives it, without trailing zeros (`24`, not `24.0`).
pub fn short(x: f64) -> String {
    let s = rate(x);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn percent(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn millions(n: u64) -> String {
    format!("{:.2}M", n as f64 / 1e6)
}

/// A plain-text table: the first column left-aligned, the others right-aligned.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::from("  ");
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w - cell.chars().count();
            if i == 0 {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("  ");
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out
}

/// A Markdown table (`| a | b |`), so the summary can go into the docs as printed.
fn markdown_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", header.join(" | "));
    out += &format!("|{}\n", "---|".repeat(header.len()));
    for row in rows {
        out += &format!("| {} |\n", row.join(" | "));
    }
    out
}

impl Estimate {
    /// The estimate as text: per model its source, bytes and cycles per layer and per token,
    /// and its throughput on every board; then, for several models, a summary table.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "core: {}, target {} (every projection runs on this core with its own shape, set \
             at run time; cycles per token: the cycle model's, hdl/src/schedule.rs, of one \
             token of each projection with its descriptor)",
            self.core.engine_summary(),
            self.core.target
        );
        out.push('\n');
        out += &self.area.to_text();
        out.push('\n');
        out += &self.boards_text();
        for m in &self.models {
            out.push('\n');
            out += &model_text(m, &self.core_on_boards);
        }
        for u in &self.unmapped {
            out.push('\n');
            out += &unmapped_text(u);
        }
        if self.models.len() + self.unmapped.len() > 1 {
            out.push('\n');
            out += &self.summary();
        }
        out
    }

    /// Every board: its FPGA, whether the core fits it, and where the clock comes from.
    pub fn boards_text(&self) -> String {
        let mut out = String::from(
            "boards (the core on each board's FPGA; the clock, measured or assumed):\n",
        );
        for (b, c) in self.boards.iter().zip(&self.core_on_boards) {
            let _ = writeln!(
                out,
                "  {}: {}; core fits FPGA: {} ({})",
                b.name,
                b.fpga.text(),
                c.fits_text(),
                c.note
            );
            let _ = writeln!(
                out,
                "    clock {} MHz, {}",
                short(b.clock_mhz),
                b.clock_basis
            );
        }
        out
    }

    /// The mark of a board in the summary's header: `!` when the core does not fit its FPGA,
    /// `?` when that is unknown.
    fn board_mark(&self, i: usize) -> &'static str {
        match self.core_on_boards.get(i).and_then(|c| c.core_fits_fpga) {
            Some(true) => "",
            Some(false) => " !",
            None => " ?",
        }
    }

    /// Tokens/s of every model (rows) on every board (columns), as a Markdown table with its
    /// legend.
    pub fn summary(&self) -> String {
        let packing = self.core.packing;
        let mut header = vec![format!("model ({packing})")];
        header.extend(self.boards.iter().enumerate().map(|(i, b)| {
            format!(
                "{} ({} MB/s, {} MHz {}){}",
                b.name,
                short(b.sustained_mb_s),
                short(b.clock_mhz),
                b.clock_source.name(),
                self.board_mark(i)
            )
        }));
        let mut rows: Vec<Vec<String>> = self
            .models
            .iter()
            .map(|m| {
                let mut row = vec![m.model.name.clone()];
                row.extend(m.boards.iter().map(|t| {
                    let bound = match t.bound {
                        Bound::Memory => "M",
                        Bound::Compute => "C",
                    };
                    let fits = if t.fits_in_memory == Some(false) {
                        " *"
                    } else {
                        ""
                    };
                    format!("{} {bound}{fits}", rate(t.tokens_per_s))
                }));
                row
            })
            .collect();
        rows.extend(self.unmapped.iter().map(|u| {
            let mut row = vec![u.model.name.clone()];
            row.extend(self.boards.iter().map(|_| NOT_ESTIMATED.to_string()));
            row
        }));
        let mut out = format!("tokens/s, {packing} packing:\n\n");
        out += &markdown_table(&header, &rows);
        out += "\nM: memory-bound, C: compute-bound, *: the weights do not fit the board's \
                memory.\n";
        if self
            .core_on_boards
            .iter()
            .any(|c| c.core_fits_fpga == Some(false))
        {
            out += "!: the core does not fit the board's FPGA (area model): the board cannot \
                    run it at these rates.\n";
        }
        if self
            .core_on_boards
            .iter()
            .any(|c| c.core_fits_fpga.is_none())
        {
            out += "?: whether the core fits the board's FPGA is unknown (a family the project \
                    cannot place), and its clock is assumed.\n";
        }
        if !self.unmapped.is_empty() {
            let _ = writeln!(
                out,
                "{NOT_ESTIMATED}: not estimated, the model is not runnable on this core (a \
                 projection exceeds its maxima; the model's section says which)."
            );
        }
        out
    }
}

/// A row of the per-layer table: label, shape (d_in, d_out, rank), the bytes of the weights,
/// the factors and the descriptor, the total, and the cycles.
fn layer_row(label: String, shape: [String; 3], bytes: &ByteCounts, cycles: u64) -> Vec<String> {
    let mut row = vec![label];
    row.extend(shape);
    row.extend([
        thousands(bytes.weight),
        thousands(bytes.factor),
        thousands(bytes.descriptor),
        thousands(bytes.total),
        thousands(cycles),
    ]);
    row
}

/// The summary's cell of a model that was not estimated.
const NOT_ESTIMATED: &str = "-";

/// The section of a model that was not estimated: what it is, and why the core cannot run
/// it.
fn unmapped_text(u: &UnmappedModel) -> String {
    let mut out = format!("model {}: {}\n", u.model.name, u.model.description);
    let _ = writeln!(out, "  not estimated: {}", u.error);
    out
}

fn model_text(m: &ModelEstimate, core_on_boards: &[CoreOnBoard]) -> String {
    let model = &m.model;
    let mut out = format!("model {}: {}\n", model.name, model.description);
    let _ = writeln!(out, "  source: {}", model.source);
    if !model.assumed.is_empty() {
        let _ = writeln!(out, "  assumed: {}", model.assumed.join("; "));
    }
    let _ = writeln!(
        out,
        "  {} layers; {} ternary weights, {} low-rank parameters; hybrid: {}",
        model.layers,
        millions(m.ternary_weights),
        millions(m.lowrank_parameters),
        model.hybrid_summary()
    );

    let _ = writeln!(
        out,
        "\n  bytes and cycles per token, one layer ({} packing; rank 0: ternary only):",
        m.packing
    );
    let header = [
        "proj",
        "d_in",
        "d_out",
        "rank",
        "weights",
        "A,B (f16)",
        "descriptor",
        "bytes",
        "cycles",
    ];
    let mut rows: Vec<Vec<String>> = m
        .bytes
        .projections
        .iter()
        .zip(&m.cycles.projections)
        .map(|(b, c)| {
            let shape = [b.d_in, b.d_out, b.rank].map(|v| v.to_string());
            layer_row(b.projection.name().into(), shape, &b.bytes, c.cycles)
        })
        .collect();
    rows.push(layer_row(
        "layer".into(),
        Default::default(),
        &m.bytes.per_layer,
        m.cycles.per_layer,
    ));
    rows.push(layer_row(
        format!("all {}", model.layers),
        Default::default(),
        &m.bytes.per_token,
        m.cycles.per_token,
    ));
    out += &table(&header, &rows);
    let b = &m.bytes.per_token;
    let _ = writeln!(
        out,
        "  {} bytes per token ({:.2} MB); the low-rank path adds {} to the ternary backbone \
         ({} of all bytes)",
        thousands(b.total),
        b.total as f64 / 1e6,
        percent(m.bytes.lowrank_overhead),
        percent(m.bytes.lowrank_share),
    );

    out += "\n  throughput (sustained bandwidth; projections run one after another):\n";
    let header = [
        "board",
        "MB/s",
        "MHz",
        "MB/token",
        "memory tok/s",
        "compute tok/s",
        "tokens/s",
        "bound",
        "core fits FPGA",
        "weights fit memory",
    ];
    let rows: Vec<Vec<String>> = m
        .boards
        .iter()
        .enumerate()
        .map(|(i, t)| {
            vec![
                t.board.clone(),
                short(t.bandwidth_mb_s),
                short(t.clock_mhz),
                format!("{:.2}", t.bytes_per_token as f64 / 1e6),
                rate(t.memory_bound_tokens_per_s),
                rate(t.compute_bound_tokens_per_s),
                rate(t.tokens_per_s),
                t.bound.to_string(),
                core_on_boards
                    .get(i)
                    .map_or("unknown", CoreOnBoard::fits_text)
                    .to_string(),
                match t.fits_in_memory {
                    Some(true) => "yes".into(),
                    Some(false) => "NO".into(),
                    None => "?".into(),
                },
            ]
        })
        .collect();
    out += &table(&header, &rows);
    let _ = writeln!(out, "  {FITS_LEGEND}");
    out
}
