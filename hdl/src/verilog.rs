//! Verilog emission with real module names, and the checks every emitted design passes.
//!
//! rust-hdl names every top `top`; [`emit_named`] names it after the block instead, so several
//! designs can live side by side in one netlist or simulator.

use std::path::PathBuf;
use std::process::Command;

use rust_hdl::core::check_error::check_all;
use rust_hdl::core::module_defines::ModuleDefines;
use rust_hdl::prelude::Block;
use thiserror::Error;

/// Why emitting or checking Verilog failed.
#[derive(Debug, Error)]
pub enum VerilogError {
    #[error("rust-hdl design check failed for `{name}`: {message}")]
    Check { name: String, message: String },
    #[error("`{tool}` is not installed or not on PATH; run scripts/setup.sh (it installs the Debian packages verilator, yosys, iverilog, nextpnr-ice40 and fpga-icestorm)")]
    MissingTool { tool: &'static str },
    #[error("{tool} rejected `{name}` (log kept in {log}):\n{excerpt}")]
    ToolFailed {
        tool: &'static str,
        name: String,
        log: PathBuf,
        excerpt: String,
    },
    // The I/O error is part of the message rather than a `#[source]`, so that printing the
    // error alone or with its chain (as `hgf` does) shows it exactly once.
    #[error("I/O error while checking `{name}`: {error}")]
    Io { name: String, error: std::io::Error },
}

/// Emits `uut` (already `connect_all`ed) as Verilog whose top module is called `name`.
/// The design checks of rust-hdl (connections, latches, logic loops) run first and fail with
/// an error instead of a panic.
pub fn emit_named<U: Block>(uut: &U, name: &str) -> Result<String, VerilogError> {
    check_all(uut).map_err(|e| VerilogError::Check {
        name: name.to_string(),
        message: format!("{e:?}"),
    })?;
    let mut defines = ModuleDefines::default();
    uut.accept(name, &mut defines);
    Ok(defines.defines())
}

/// Runs `tool` with `args` in a fresh directory holding `name.v`, keeping its log there.
fn run_tool(
    tool: &'static str,
    name: &str,
    verilog: &str,
    args: &[String],
) -> Result<(), VerilogError> {
    let io = |error| VerilogError::Io {
        name: name.to_string(),
        error,
    };
    let dir = std::env::temp_dir().join(format!("hgf-{tool}-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(io)?;
    std::fs::write(dir.join(format!("{name}.v")), verilog).map_err(io)?;
    let out = match Command::new(tool).args(args).current_dir(&dir).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(VerilogError::MissingTool { tool })
        }
        Err(e) => return Err(io(e)),
    };
    let log = dir.join(format!("{tool}.log"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&log, &text).map_err(io)?;
    if out.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    } else {
        let excerpt = text
            .lines()
            .filter(|l| {
                l.contains("ERROR")
                    || l.contains("Error")
                    || l.contains("%Warning")
                    || l.contains("%Error")
            })
            .take(20)
            .collect::<Vec<_>>()
            .join("\n");
        Err(VerilogError::ToolFailed {
            tool,
            name: name.to_string(),
            log,
            excerpt,
        })
    }
}

/// yosys front end and structural checks: the hierarchy resolves, `proc` leaves no latch, and
/// `check -assert` finds no combinational loop, undriven net or multiple driver.
pub fn yosys_check(name: &str, verilog: &str) -> Result<(), VerilogError> {
    let script = format!(
        "read_verilog {name}.v; hierarchy -check -top {name}; proc; flatten; opt_clean; \
         select -assert-none t:$dlatch t:$adlatch t:$dlatchsr; check -assert"
    );
    run_tool("yosys", name, verilog, &["-q".into(), "-p".into(), script])
}

/// `verilator --lint-only -Wall` with the waivers of docs/lint-waivers.md.
pub fn verilator_lint(name: &str, verilog: &str) -> Result<(), VerilogError> {
    let mut args: Vec<String> = vec!["--lint-only".into(), "-Wall".into()];
    args.extend(LINT_WAIVERS.iter().map(|w| format!("-Wno-{w}")));
    args.extend(["--top-module".into(), name.into(), format!("{name}.v")]);
    run_tool("verilator", name, verilog, &args)
}

/// Verilator warnings waived for rust-hdl output; each is justified in docs/lint-waivers.md.
pub const LINT_WAIVERS: &[&str] = &["DECLFILENAME", "WIDTH"];

/// iverilog, a second and independent Verilog front end, compiles the design.
pub fn iverilog_check(name: &str, verilog: &str) -> Result<(), VerilogError> {
    run_tool(
        "iverilog",
        name,
        verilog,
        &[
            "-g2005".into(),
            "-s".into(),
            name.into(),
            "-o".into(),
            format!("{name}.vvp"),
            format!("{name}.v"),
        ],
    )
}

/// All three checks.
pub fn check_all_tools(name: &str, verilog: &str) -> Result<(), VerilogError> {
    yosys_check(name, verilog)?;
    verilator_lint(name, verilog)?;
    iverilog_check(name, verilog)
}
