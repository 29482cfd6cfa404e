//! What `hgf generate` writes next to the Verilog: the manifest (config, derived widths, ports,
//! latencies, expected cycles per token) and the target's constraint files.

use std::path::{Path, PathBuf};

use hgf_golden::output::OutputFiles;
use hgf_golden::{Derived, HgfConfig, Target};
use serde::Serialize;

use crate::schedule::ExpectedCycles;

/// Direction of a top-level port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortDir {
    Input,
    Output,
}

/// One port of the emitted top module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Port {
    pub name: String,
    pub dir: PortDir,
    pub bits: usize,
}

/// The ports of module `top` as declared in the emitted Verilog (non-ANSI headers: one
/// `input wire [m:0] name;` or `output reg name;` line per port, right after the header).
pub fn verilog_ports(verilog: &str, top: &str) -> Vec<Port> {
    let header = format!("module {top}(");
    let Some(start) = verilog.find(&header) else {
        return Vec::new();
    };
    let body = &verilog[start..];
    let end = body.find("endmodule").unwrap_or(body.len());
    body[..end]
        .lines()
        .filter_map(|line| {
            let line = line.trim().trim_end_matches(';');
            let mut words = line.split_whitespace();
            let dir = match words.next()? {
                "input" => PortDir::Input,
                "output" => PortDir::Output,
                _ => return None,
            };
            let rest: Vec<&str> = words
                .filter(|w| *w != "wire" && *w != "reg" && *w != "signed")
                .collect();
            let (bits, name) = match rest.as_slice() {
                [range, name] if range.starts_with('[') => {
                    let msb: usize = range
                        .trim_start_matches('[')
                        .split(':')
                        .next()?
                        .parse()
                        .ok()?;
                    (msb + 1, *name)
                }
                [name] => (1, *name),
                _ => return None,
            };
            Some(Port {
                name: name.to_string(),
                dir,
                bits,
            })
        })
        .collect()
}

/// The constraint files of a target, with the clock filled in: (file name, contents).
pub fn constraint_files(cfg: &HgfConfig) -> Vec<(String, String)> {
    let mhz = board_clock_mhz(cfg.target);
    let period = format!("{:.3}", 1000.0 / mhz);
    let sdc = include_str!("../../constraints/clock.sdc").replace("{{PERIOD_NS}}", &period);
    let (pin_name, pins) = match cfg.target {
        Target::Ice40Up5k => (
            "icebreaker.pcf",
            include_str!("../../constraints/ice40/icebreaker.pcf"),
        ),
        Target::Ice40Hx8k => (
            "hx8k-breakout.pcf",
            include_str!("../../constraints/ice40/hx8k-breakout.pcf"),
        ),
        Target::Ecp5_25k | Target::Ecp5_85k => (
            "ulx3s.lpf",
            include_str!("../../constraints/ecp5/ulx3s.lpf"),
        ),
    };
    vec![
        (format!("{}.sdc", cfg.name), sdc),
        (
            format!(
                "{}.{}",
                cfg.name,
                pin_name.rsplit('.').next().unwrap_or("pcf")
            ),
            pins.replace("{{MHZ}}", &format!("{mhz}")),
        ),
    ]
}

/// The oscillator of the board each target assumes (constraints/README.md).
pub fn board_clock_mhz(target: Target) -> f64 {
    match target {
        Target::Ice40Up5k | Target::Ice40Hx8k => 12.0,
        Target::Ecp5_25k | Target::Ecp5_85k => 25.0,
    }
}

/// Pipeline latencies of the arithmetic blocks, in clock cycles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Latencies {
    pub fp32_add: usize,
    pub fp32_mul: usize,
    pub fp16_mul: usize,
    pub fp32_div_cycles: usize,
}

/// The manifest of one generated core.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub generator: String,
    pub top: String,
    pub config: HgfConfig,
    pub derived: Derived,
    pub latencies: Latencies,
    /// Cycles per token of the largest projection (`max_d_in x max_d_out`, `max_rank`) when
    /// no stream stalls, the first of a run and the later ones, and the milestones of one
    /// token ([`crate::schedule::expected_cycles`]; equal to what `hgf cosim` measures).
    pub expected_cycles_per_token: ExpectedCycles,
    /// How the cycles of any other shape follow (the cycle model in words).
    pub cycle_model: String,
    pub ports: Vec<Port>,
    /// The AXI4-Stream top written beside the core.
    pub axis: AxisPorts,
    pub files: Vec<PathBuf>,
}

/// The AXI4-Stream top of a core (`hgf_hdl::axis_wrapper::AxisWrapper`): its name and ports.
#[derive(Clone, Debug, Serialize)]
pub struct AxisPorts {
    pub top: String,
    pub ports: Vec<Port>,
}

impl AxisPorts {
    /// The file that holds it: `<top>.v`.
    pub fn file_name(&self) -> String {
        format!("{}.v", self.top)
    }
}

impl Manifest {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the manifest always serialises")
    }
}

/// The extensions of the pin constraint files of every target (iCE40 PCF, ECP5 LPF).
pub const PIN_CONSTRAINT_EXTENSIONS: [&str; 2] = ["pcf", "lpf"];

/// Writes `files` (name, contents) to temporary names in `dir`, creating it, for `outputs` to
/// rename into place together.
pub fn stage_files(
    dir: &Path,
    files: &[(String, String)],
    outputs: &mut OutputFiles,
) -> std::io::Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{} is not a directory", dir.display()),
        ));
    }
    std::fs::create_dir_all(dir)?;
    for (name, text) in files {
        outputs.stage(&dir.join(name), text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_read_from_a_non_ansi_header() {
        let v = "module other(a);\ninput wire a;\nendmodule\nmodule core(clock,x_data,y,t_data_0);\n    \
                 input wire clock;\n    input wire [15:0] x_data;\n    output reg signed [31:0] y;\n    \
                 input wire [7:0] t_data_0;\n    reg [3:0] state;\nendmodule\n";
        let ports = verilog_ports(v, "core");
        assert_eq!(
            ports,
            vec![
                Port {
                    name: "clock".into(),
                    dir: PortDir::Input,
                    bits: 1
                },
                Port {
                    name: "x_data".into(),
                    dir: PortDir::Input,
                    bits: 16
                },
                Port {
                    name: "y".into(),
                    dir: PortDir::Output,
                    bits: 32
                },
                Port {
                    name: "t_data_0".into(),
                    dir: PortDir::Input,
                    bits: 8
                },
            ]
        );
    }

    #[test]
    fn constraints_carry_the_target_clock() {
        let cfg = HgfConfig::default();
        let files = constraint_files(&cfg);
        assert_eq!(files[0].0, "hgf_core.sdc");
        assert!(files[0].1.contains("-period 40.000"), "{}", files[0].1);
        assert_eq!(files[1].0, "hgf_core.lpf");
        assert!(
            files[1].1.contains("FREQUENCY PORT \"clock\" 25 MHZ"),
            "{}",
            files[1].1
        );
        let up5k = HgfConfig::preset("up5k").unwrap();
        let files = constraint_files(&up5k);
        assert_eq!(files[1].0, "hgf_core_up5k.pcf");
        assert!(files[1].1.contains("set_io -nowarn clock 35"));
    }
}
