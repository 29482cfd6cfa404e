//! `hgf fpcheck`: one golden FP primitive against a Berkeley TestFloat vector file.
//!
//! The reading and the comparison rules live in `hgf_golden::testfloat`, so this command, the
//! golden crate's own tests and (later) the RTL co-simulation all judge a case the same way:
//! bit-exact results, any NaN matching an expected NaN, flags not compared.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use hgf_golden::testfloat::{check, golden_result, read_vectors, CheckReport, FpOp};
use serde::Serialize;

use crate::cli::FpcheckArgs;

/// The JSON document: the file checked, then the report's fields.
#[derive(Serialize)]
struct JsonReport<'a> {
    file: &'a Path,
    #[serde(flatten)]
    report: &'a CheckReport,
}

/// Exit 0 when every case matches, [`super::EXIT_MISMATCH`] when any does not; an unknown op
/// or an unreadable or malformed file is an error (exit 2 from `main`), never a pass.
pub fn run(args: &FpcheckArgs) -> Result<ExitCode> {
    let op: FpOp = args.op.parse()?;
    let vectors = read_vectors(&args.file, op)?;
    let report = check(op, &vectors, |operands| golden_result(op, operands));
    if args.json {
        let doc = JsonReport {
            file: &args.file,
            report: &report,
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{report}");
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_MISMATCH)
    })
}
