//! ASIC-style area of the core: yosys's generic synthesis mapped onto a small area-only
//! liberty of sky130_fd_sc_hd cells (synth/liberty/sky130_fd_sc_hd_area.lib, its provenance
//! in its header and in docs/estimate.md), in um^2 (`hgf synth --asic`).
//!
//! Flow: `synth -flatten` up to its fine stage (memories stay memories: on an ASIC they are
//! SRAM macros, not flip-flops; their bits are reported, not their area), then the rest of
//! `synth`'s fine stage without `memory_map`, `dfflibmap` and `abc` onto the liberty, and
//! `stat -json`. The area is the cell counts times the liberty's cell areas (yosys 0.23's
//! `stat -json` has no area field). Multipliers become logic here: there are no DSPs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hgf_estimate::area::Block;
use hgf_golden::HgfConfig;
use hgf_hdl::emit::generate;
use serde::{Deserialize, Serialize};

use crate::error::SynthError;
use crate::tools::{Tool, Toolbox};
use crate::yosys::{run_yosys_into, YosysFiles};

/// The liberty, compiled in and written next to the run (so that it does not depend on
/// the working directory).
pub const LIBERTY: &str = include_str!("../liberty/sky130_fd_sc_hd_area.lib");
/// Its file name in the run directory.
pub const LIBERTY_FILE: &str = "sky130_fd_sc_hd_area.lib";
/// The flip-flop cell (`dfflibmap` maps every flip-flop onto it, with logic for enables and
/// resets).
pub const FLIP_FLOP_CELL: &str = "sky130_fd_sc_hd__dfxtp_1";

const STAT_FILE: &str = "stat-asic.json";
const LOG_FILE: &str = "yosys-asic.log";

/// The area of one core mapped onto the liberty.
#[derive(Clone, Debug, Serialize)]
pub struct AsicArea {
    pub tool: String,
    pub liberty: String,
    /// The script that ran (in `dir`).
    pub script: String,
    pub seconds: f64,
    /// Every cell type and its count.
    pub cells: BTreeMap<String, u64>,
    /// Cell area in um^2 (standard cells only; no memories, no routing or utilisation).
    pub area_um2: f64,
    /// Of it, the flip-flops.
    pub flip_flop_um2: f64,
    pub flip_flops: u64,
    /// Memories left as memories (yosys `$mem_v2` cells; SRAM macros on an ASIC, not in
    /// `area_um2`).
    pub memories: u64,
    /// The bits they store: words used times bits kept, per the area model's memory list
    /// (`hgf_estimate::area::Block::memories`).
    pub memory_bits: u64,
    /// Cells that are not in the liberty (memories), with their counts.
    pub unmapped: BTreeMap<String, u64>,
    pub dir: PathBuf,
}

/// The area of every cell of [`LIBERTY`], in um^2.
pub fn cell_areas() -> BTreeMap<String, f64> {
    let mut areas = BTreeMap::new();
    let mut cell: Option<String> = None;
    for line in LIBERTY.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("cell (") {
            cell = rest.split(')').next().map(|s| s.trim().to_string());
        } else if let (Some(rest), Some(name)) = (line.strip_prefix("area :"), &cell) {
            let value: f64 = rest
                .trim()
                .trim_end_matches(';')
                .parse()
                .expect("the liberty's areas are numbers");
            areas.insert(name.clone(), value);
        }
    }
    areas
}

#[derive(Deserialize)]
struct StatJson {
    creator: Option<String>,
    design: Option<StatDesign>,
}

#[derive(Deserialize)]
struct StatDesign {
    #[serde(default)]
    num_cells_by_type: BTreeMap<String, u64>,
}

/// Synthesises the core of `cfg` (without the FPGA wrapper) onto the liberty, in `dir`.
pub fn asic_area(cfg: &HgfConfig, tools: &Toolbox, dir: &Path) -> Result<AsicArea, SynthError> {
    let yosys = tools.find(Tool::Yosys)?;
    let generated = generate(cfg)?;
    let top = &cfg.name;
    std::fs::create_dir_all(dir).map_err(SynthError::io(dir))?;
    std::fs::write(dir.join(LIBERTY_FILE), LIBERTY)
        .map_err(SynthError::io(dir.join(LIBERTY_FILE)))?;
    let lib = LIBERTY_FILE;
    let command = format!(
        "synth -flatten -top {top} -run :fine; opt -fast -full; opt -full; techmap; \
         opt -fast; dfflibmap -liberty {lib}; abc -liberty {lib}; opt_clean"
    );
    let start = Instant::now();
    let files = YosysFiles {
        stat: STAT_FILE,
        log: LOG_FILE,
    };
    let (stat_path, script, _) =
        run_yosys_into(&yosys, &command, &generated.verilog, top, dir, false, files)?;
    let bad = |message: String| SynthError::BadReport {
        what: "yosys stat report",
        path: stat_path.clone(),
        message,
    };
    let text = std::fs::read_to_string(&stat_path).map_err(|e| bad(e.to_string()))?;
    let stat: StatJson = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let design = stat
        .design
        .ok_or_else(|| bad("no `design` entry".to_string()))?;
    let areas = cell_areas();
    let mut area_um2 = 0.0;
    let mut unmapped = BTreeMap::new();
    for (cell, &n) in &design.num_cells_by_type {
        match areas.get(cell) {
            Some(a) => area_um2 += a * n as f64,
            None => {
                unmapped.insert(cell.clone(), n);
            }
        }
    }
    if unmapped.keys().any(|c| !c.starts_with("$mem")) {
        return Err(bad(format!(
            "cells outside the liberty other than memories: {unmapped:?}"
        )));
    }
    let flip_flops = design
        .num_cells_by_type
        .get(FLIP_FLOP_CELL)
        .copied()
        .unwrap_or(0);
    Ok(AsicArea {
        tool: stat.creator.unwrap_or_else(|| "yosys".to_string()),
        liberty: LIBERTY_FILE.to_string(),
        script,
        seconds: start.elapsed().as_secs_f64(),
        flip_flop_um2: flip_flops as f64 * areas[FLIP_FLOP_CELL],
        flip_flops,
        area_um2,
        memories: unmapped.values().sum(),
        memory_bits: Block::ALL
            .iter()
            .flat_map(|b| b.memories(cfg))
            .map(|m| m.words as u64 * u64::from(m.bits))
            .sum(),
        cells: design.num_cells_by_type,
        unmapped,
        dir: dir.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_liberty_has_the_published_areas() {
        let a = cell_areas();
        assert_eq!(a.len(), 16);
        // Site 0.46 x 2.72 um: every cell is a whole number of sites.
        for (cell, area) in &a {
            let sites = area / (0.46 * 2.72);
            assert!((sites - sites.round()).abs() < 1e-6, "{cell}: {area}");
        }
        assert_eq!(a["sky130_fd_sc_hd__nand2_1"], 3.7536);
        assert_eq!(a["sky130_fd_sc_hd__xor2_1"], 8.7584);
        assert_eq!(a["sky130_fd_sc_hd__mux2_1"], 11.2608);
        assert_eq!(a[FLIP_FLOP_CELL], 20.0192);
    }
}
