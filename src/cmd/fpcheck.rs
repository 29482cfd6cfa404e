//! `hgf fpcheck`: one FP primitive against a Berkeley TestFloat vector file, on the golden
//! model or (`--rtl`) on its RTL unit co-simulated in Verilator.
//!
//! The reading and the comparison rules live in `hgf_golden::testfloat`, so this command, the
//! golden crate's own tests and the RTL co-simulation (`hgf_sim::fp_units`) all judge a case
//! the same way: bit-exact results, any NaN matching an expected NaN, flags not compared.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use hgf_golden::testfloat::{check, golden_result, read_vectors, CheckReport, FpOp};
use hgf_sim::fp_units::{require_rtl_unit, rtl_check};
use serde::Serialize;

use crate::cli::FpcheckArgs;
use crate::progress::Heartbeat;
use crate::stdout::{out, outln};

/// What the summary line says was checked with `--rtl`.
const RTL_LABEL: &str = "RTL (Verilator)";

/// The JSON document: the file checked, what checked it, then the report's fields.
#[derive(Serialize)]
struct JsonReport<'a> {
    file: &'a Path,
    /// `golden` or `rtl-verilator`.
    implementation: &'static str,
    #[serde(flatten)]
    report: &'a CheckReport,
}

/// Exit 0 when every case matches, [`super::EXIT_MISMATCH`] when any does not; an unknown op
/// (or, with `--rtl`, an op without an RTL unit), an unreadable or malformed file, or a
/// failed Verilator build is an error (exit 2 from `main`), never a pass.
pub fn run(args: &FpcheckArgs) -> Result<ExitCode> {
    let op: FpOp = args.op.parse()?;
    if args.rtl {
        require_rtl_unit(op)?;
    }
    let vectors = read_vectors(&args.file, op)?;
    let report = if args.rtl {
        // Verilating the unit (the first time) and simulating every vector.
        let _beat = Heartbeat::start(format!("hgf fpcheck: {op} RTL unit in Verilator"));
        rtl_check(op, &vectors)?
    } else {
        check(op, &vectors, |operands| golden_result(op, operands))
    };
    if args.json {
        let doc = JsonReport {
            file: &args.file,
            implementation: if args.rtl { "rtl-verilator" } else { "golden" },
            report: &report,
        };
        outln!("{}", serde_json::to_string_pretty(&doc)?)?;
    } else if args.rtl {
        // The golden summary with the op labelled: `f32_add, RTL (Verilator): N cases, ...`.
        let text = report.to_string();
        match text.strip_prefix(op.name()) {
            Some(rest) => out!("{op}, {RTL_LABEL}{rest}")?,
            None => out!("{RTL_LABEL}: {text}")?,
        }
    } else {
        out!("{report}")?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_MISMATCH)
    })
}
