//! The FuseSoC core description (CAPI2, `<name>.core`) that `hgf generate` writes beside the
//! Verilog, so that a FuseSoC user builds the core with their own flow.
//!
//! Filesets: `rtl` (the core and its AXI4-Stream top), `sim_rtl` (the core's settled copy for
//! event-driven simulators, `<name>_sim.v`, [`hgf_hdl::settle`]), `tb` (the testbench and its
//! vectors, when written), `pnr` (the core inside its place-and-route wrapper,
//! [`hgf_hdl::pnr_wrapper`]: the bare core has more ports than any target has pins) and
//! `constraints` (the pin and clock constraints).
//! Targets: `sim` (icarus: the testbench on `sim_rtl`), `lint` (Verilator `--lint-only -Wall`
//! on `rtl`, with the waivers of docs/lint-waivers.md: [`hgf_hdl::verilog::LINT_WAIVERS`] and
//! the fileset `lint_waivers`, `WIDTH` on the lines of rust-hdl's casts) and
//! `synth` (icestorm on iCE40, trellis on ECP5, on `pnr`, with the part, package and yosys
//! options of [`Device`], the same as `hgf synth`).

use std::fmt::Write as _;

use hgf_golden::HgfConfig;
use hgf_hdl::manifest::board_clock_mhz;
use hgf_hdl::verilog::LINT_WAIVERS;

use crate::device::{Device, Family};

/// The files the core description names, all in the directory it is written to.
#[derive(Clone, Debug, Default)]
pub struct CoreFiles {
    /// The core's Verilog files.
    pub rtl: Vec<String>,
    /// The core's settled copy for event-driven simulators (`<name>_sim.v`).
    pub sim_rtl: String,
    /// The place-and-route top (`<name>_pnr.v`) and its module name.
    pub pnr: (String, String),
    /// The pin and clock constraint files.
    pub constraints: Vec<String>,
    /// The Verilator configuration that waives `WIDTH` on the lines of rust-hdl's casts
    /// (`<name>.vlt`, [`hgf_hdl::width_waiver`]), read by the `lint` target.
    pub width_waivers: String,
    /// The testbench (Verilog) and its module name, and the vector files it reads, if any.
    pub testbench: Option<(String, String, Vec<String>)>,
}

/// The file name of the core description of `cfg`.
pub fn core_file_name(cfg: &HgfConfig) -> String {
    format!("{}.core", cfg.name)
}

/// The text of `<name>.core`.
pub fn core_file(cfg: &HgfConfig, files: &CoreFiles) -> String {
    let name = &cfg.name;
    let device = Device::of(cfg.target);
    let mut c = String::new();
    let _ = write!(
        c,
        "CAPI=2:
# FuseSoC core of `{name}`, written by hgf-hw {version} (`hgf generate`).
name: hgf-hw:hgf:{name}:{version}
description: HGF projection core {name} for {target} ({engine})

filesets:
  rtl:
    file_type: verilogSource
    files:
",
        version = env!("CARGO_PKG_VERSION"),
        target = cfg.target,
        engine = cfg.engine_summary(),
    );
    for f in &files.rtl {
        let _ = writeln!(c, "      - {f}");
    }
    let _ = write!(
        c,
        "  sim_rtl:
    file_type: verilogSource
    files:
      - {}
  pnr:
    file_type: verilogSource
    files:
      - {}
  lint_waivers:
    files:
      - {}: {{file_type: vlt}}
  constraints:
    files:
",
        files.sim_rtl, files.pnr.0, files.width_waivers
    );
    for f in &files.constraints {
        let file_type = match f.rsplit('.').next() {
            Some("pcf") => "PCF",
            Some("lpf") => "LPF",
            Some("sdc") => "SDC",
            _ => "user",
        };
        let _ = writeln!(c, "      - {f}: {{file_type: {file_type}}}");
    }
    if let Some((tb, _, vectors)) = &files.testbench {
        let _ = write!(
            c,
            "  tb:
    files:
      - {tb}: {{file_type: verilogSource}}
"
        );
        for v in vectors {
            let _ = writeln!(c, "      - {v}: {{file_type: user, copyto: {v}}}");
        }
    }

    let lint_options: Vec<String> = std::iter::once("-Wall".to_string())
        .chain(LINT_WAIVERS.iter().map(|w| format!("-Wno-{w}")))
        .collect();
    let _ = write!(
        c,
        "
targets:
  default:
    filesets: [rtl]
    toplevel: {name}
  lint:
    default_tool: verilator
    filesets: [lint_waivers, rtl]
    toplevel: {name}
    tools:
      verilator:
        mode: lint-only
        verilator_options: [{}]
",
        lint_options.join(", ")
    );
    if let Some((_, tb_top, _)) = &files.testbench {
        let _ = write!(
            c,
            "  sim:
    default_tool: icarus
    filesets: [sim_rtl, tb]
    toplevel: {tb_top}
    parameters: [SEED, STALL]
    tools:
      icarus:
        iverilog_options: [-g2005]
"
        );
    }
    // The wrapper's pins other than the clock are left to nextpnr, as `hgf synth` does.
    let (tool, unconstrained) = match device.family {
        Family::Ice40 => ("icestorm", "--pcf-allow-unconstrained"),
        Family::Ecp5 => ("trellis", "--lpf-allow-unconstrained"),
    };
    let synth = device.synth_command(&files.pnr.1);
    // `synth_ice40 -dsp ... -top X`: the options between the command and `-top`.
    let yosys_options: Vec<&str> = synth
        .split_whitespace()
        .skip(1)
        .take_while(|w| *w != "-top")
        .collect();
    let pnr_line = if tool == "icestorm" {
        "        pnr: next\n"
    } else {
        ""
    };
    let _ = write!(
        c,
        "  synth:
    default_tool: {tool}
    filesets: [pnr, constraints]
    toplevel: {pnr_top}
    tools:
      {tool}:
{pnr_line}        yosys_synth_options: [{yosys}]
        nextpnr_options: [{part}, --package, {package}, --freq, {mhz}, {unconstrained}]
",
        pnr_top = files.pnr.1,
        yosys = yosys_options.join(", "),
        part = device.nextpnr_part,
        package = device.package,
        mhz = board_clock_mhz(cfg.target),
    );
    if files.testbench.is_some() {
        c.push_str(
            "
parameters:
  SEED:
    datatype: int
    paramtype: vlogparam
    description: Seed of the testbench's stall pattern
  STALL:
    datatype: int
    paramtype: vlogparam
    description: Stall probability per cycle and stream, in 1/65536
",
        );
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synth_targets_follow_the_device() {
        let files = CoreFiles {
            rtl: vec!["c.v".into()],
            sim_rtl: "c_sim.v".into(),
            pnr: ("c_pnr.v".into(), "c_pnr".into()),
            constraints: vec!["c.pcf".into(), "c.sdc".into()],
            width_waivers: "c.vlt".into(),
            testbench: None,
        };
        let up5k = HgfConfig::preset("up5k").unwrap();
        let text = core_file(&up5k, &files);
        assert!(text.starts_with("CAPI=2:\n"));
        assert!(text.contains("default_tool: icestorm"), "{text}");
        assert!(
            text.contains("[--up5k, --package, sg48, --freq, 12, --pcf-allow-unconstrained]"),
            "{text}"
        );
        assert!(text.contains("yosys_synth_options: [-dsp, -abc9, -dff, -device, u]"));
        assert!(text.contains("- c.pcf: {file_type: PCF}"));
        assert!(!text.contains("sim:"), "no testbench, no sim target");
        assert!(text.contains("- c.vlt: {file_type: vlt}"), "{text}");
        assert!(text.contains("filesets: [lint_waivers, rtl]"), "{text}");
        let ecp5 = core_file(&HgfConfig::default(), &files);
        assert!(ecp5.contains("default_tool: trellis"), "{ecp5}");
        assert!(
            ecp5.contains("[--25k, --package, CABGA256, --freq, 25, --lpf-allow-unconstrained]")
        );
        assert!(!ecp5.contains("pnr: next"));
    }
}
