//! From a config to the files `hgf generate` writes: the core's Verilog and its AXI4-Stream
//! top (each with its settled copy for event-driven simulators), its manifest and the target's
//! constraints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hgf_golden::output::OutputFiles;
use hgf_golden::HgfConfig;
use rust_hdl::prelude::Block;

use crate::axis_wrapper::AxisWrapper;
use crate::fp16_mul::Fp16MulExact;
use crate::fp32_add::Fp32Add;
use crate::fp32_div::Fp32Div;
use crate::fp32_mul::Fp32Mul;
use crate::manifest::{
    constraint_files, stage_files, verilog_ports, AxisPorts, Latencies, Manifest, Port,
    PIN_CONSTRAINT_EXTENSIONS,
};
use crate::pnr_wrapper::PnrWrapper;
use crate::projection_core::HgfCore;
use crate::schedule::{cycle_model_text, expected_cycles};
use crate::settle::{simulation_copy, simulation_file_name};
use crate::verilog::{emit_readable, VerilogError};

/// Everything generated for one config.
#[derive(Clone, Debug)]
pub struct Generated {
    /// Verilog of the core; the top module is named `cfg.name`.
    pub verilog: String,
    /// Verilog of the core behind AXI4-Stream ports ([`AxisWrapper`]); the top module is
    /// named `<name>_axis`. It holds its own copy of the core (modules `<name>_axis_...`), so
    /// either file is a whole design, and both can be read together.
    pub axis_verilog: String,
    /// The core's Verilog for event-driven simulators (`<name>_sim.v`,
    /// [`crate::settle::simulation_copy`]): the same modules, settled.
    pub sim_verilog: String,
    /// The AXI4-Stream top's Verilog for event-driven simulators (`<name>_axis_sim.v`).
    pub axis_sim_verilog: String,
    pub manifest: Manifest,
    /// Constraint files: (file name, contents).
    pub constraints: Vec<(String, String)>,
}

/// Builds the core of `cfg` and emits it.
pub fn generate(cfg: &HgfConfig) -> Result<Generated, VerilogError> {
    let mut core = HgfCore::new(cfg);
    core.connect_all();
    let notes = config_notes(cfg, "generate");
    let verilog = emit_readable(&core, &cfg.name, &notes)?.verilog;
    let mut axis = AxisWrapper::new(cfg);
    axis.connect_all();
    let axis_top = AxisWrapper::top_name(cfg);
    let axis_verilog = emit_readable(&axis, &axis_top, &notes)?.verilog;
    let sim_verilog = simulation_copy(&cfg.name, &verilog, &notes);
    let axis_sim_verilog = simulation_copy(&axis_top, &axis_verilog, &notes);
    let constraints = constraint_files(cfg);
    let mut files = vec![PathBuf::from(format!("{}.v", cfg.name))];
    files.push(PathBuf::from(format!("{axis_top}.v")));
    files.push(PathBuf::from(simulation_file_name(&cfg.name)));
    files.push(PathBuf::from(simulation_file_name(&axis_top)));
    files.push(PathBuf::from(format!("{}.manifest.json", cfg.name)));
    files.extend(constraints.iter().map(|(n, _)| PathBuf::from(n)));
    let manifest = Manifest {
        generator: format!("hgf-hw {}", env!("CARGO_PKG_VERSION")),
        top: cfg.name.clone(),
        config: cfg.clone(),
        derived: cfg.derived(),
        latencies: Latencies {
            fp32_add: Fp32Add::LATENCY,
            fp32_mul: Fp32Mul::LATENCY,
            fp16_mul: Fp16MulExact::LATENCY,
            fp32_div_cycles: Fp32Div::CYCLES,
        },
        expected_cycles_per_token: expected_cycles(cfg, cfg.max_shape()),
        cycle_model: cycle_model_text(),
        ports: verilog_ports(&verilog, &cfg.name),
        axis: AxisPorts {
            ports: verilog_ports(&axis_verilog, &axis_top),
            top: axis_top,
        },
        files,
    };
    Ok(Generated {
        verilog,
        axis_verilog,
        sim_verilog,
        axis_sim_verilog,
        manifest,
        constraints,
    })
}

/// The header notes of a design generated from `cfg` by `hgf <command>`: how to regenerate it,
/// and the config itself (every field), so that the file alone is enough to regenerate it.
pub fn config_notes(cfg: &HgfConfig, command: &str) -> Vec<String> {
    let toml: String = cfg.to_toml().lines().map(|l| format!("  {l}\n")).collect();
    vec![format!(
        "Regenerate: save the config below (without the comment marks) as {name}.toml and \
         run\n  hgf {command} --config {name}.toml\nConfig:\n{toml}",
        name = cfg.name
    )]
}

/// The core of a config inside [`PnrWrapper`], ready for synthesis and place-and-route.
#[derive(Clone, Debug)]
pub struct PnrTop {
    /// Name of the top module: `<name>_pnr`.
    pub top: String,
    /// Verilog of the wrapper and the core (the core's module is `<top>_core`).
    pub verilog: String,
    /// For every module of `verilog`, the rust-hdl modules it stands for, one per instance
    /// (`<top>$core$<instance>...`; [`crate::readable::Readable::instances`]).
    pub instances: BTreeMap<String, Vec<String>>,
    /// The wrapper's pins.
    pub ports: Vec<Port>,
}

/// Builds the core of `cfg` inside its [`PnrWrapper`] and emits both, through the same
/// design checks as [`generate`].
pub fn generate_pnr_top(cfg: &HgfConfig) -> Result<PnrTop, VerilogError> {
    let mut wrapper = PnrWrapper::new(cfg);
    wrapper.connect_all();
    let top = PnrWrapper::top_name(cfg);
    let readable = emit_readable(&wrapper, &top, &config_notes(cfg, "synth"))?;
    let ports = verilog_ports(&readable.verilog, &top);
    Ok(PnrTop {
        top,
        verilog: readable.verilog,
        instances: readable.instances,
        ports,
    })
}

impl Generated {
    /// The files of this core: (file name, contents).
    fn files(&self) -> Vec<(String, String)> {
        let name = &self.manifest.top;
        let mut files = vec![
            (format!("{name}.v"), self.verilog.clone()),
            (self.manifest.axis.file_name(), self.axis_verilog.clone()),
            (simulation_file_name(name), self.sim_verilog.clone()),
            (
                simulation_file_name(&self.manifest.axis.top),
                self.axis_sim_verilog.clone(),
            ),
            (format!("{name}.manifest.json"), self.manifest.to_json()),
        ];
        files.extend(self.constraints.iter().cloned());
        files
    }

    /// The names of the files [`Generated::write`] writes.
    pub fn file_names(&self) -> impl Iterator<Item = String> {
        self.files().into_iter().map(|(name, _)| name)
    }

    /// Writes the Verilog, the manifest and the constraints into `dir` (all or none of them,
    /// [`hgf_golden::output`]), and removes the pin constraints of another target left there
    /// under this core's name.
    pub fn write(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut outputs = OutputFiles::new();
        self.stage(dir, &mut outputs)?;
        let written = outputs.commit()?;
        self.remove_stale_constraints(dir)?;
        Ok(written)
    }

    /// Writes the files to temporary names in `dir` (created if missing), for the caller to
    /// commit with its other outputs; then call [`Generated::remove_stale_constraints`].
    pub fn stage(&self, dir: &Path, outputs: &mut OutputFiles) -> std::io::Result<()> {
        stage_files(dir, &self.files(), outputs)
    }

    /// Removes `<name>.pcf` and `<name>.lpf` from `dir` when this core's target uses the
    /// other: a directory that held the core for another target would otherwise keep pin
    /// constraints that no longer apply. Returns the files removed.
    pub fn remove_stale_constraints(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let name = &self.manifest.top;
        let mut removed = Vec::new();
        for ext in PIN_CONSTRAINT_EXTENSIONS {
            let file = format!("{name}.{ext}");
            if self.constraints.iter().any(|(n, _)| *n == file) {
                continue;
            }
            let path = dir.join(&file);
            match std::fs::remove_file(&path) {
                Ok(()) => removed.push(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }
}
