//! Every RTL FP unit in Verilator against its Berkeley TestFloat vector file
//! (`golden/tests/vectors/`), judged by the golden checker: no mismatch, every case run.

use std::path::PathBuf;

use hgf_golden::testfloat::{read_vectors, FpOp};
use hgf_sim::fp_units::{require_rtl_unit, rtl_check, RTL_OPS};
use hgf_sim::SimError;

/// The vector file of `op` (f32_to_i8 reads the f32_to_i32 vectors).
fn vector_file(op: FpOp) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../golden/tests/vectors")
        .join(format!("{}_rne_level1.txt.gz", op.testfloat_function()))
}

/// Runs `op`'s vectors through its unit and asserts `cases` cases, all matching.
fn assert_rtl_passes(op: FpOp, cases: usize) -> Result<(), Box<dyn std::error::Error>> {
    let vectors = read_vectors(vector_file(op), op)?;
    let report = rtl_check(op, &vectors)?;
    assert_eq!(report.op, op);
    assert_eq!(report.cases, cases, "{report}");
    assert_eq!(report.mismatches, 0, "{report}");
    assert!(report.passed(), "{report}");
    Ok(())
}

#[test]
fn fp32_add_passes_f32_add_vectors() -> Result<(), Box<dyn std::error::Error>> {
    assert_rtl_passes(FpOp::F32Add, 46_464)
}

#[test]
fn fp32_mul_passes_f32_mul_vectors() -> Result<(), Box<dyn std::error::Error>> {
    assert_rtl_passes(FpOp::F32Mul, 46_464)
}

#[test]
fn fp16_mul_exact_rounded_to_f16_passes_f16_mul_vectors() -> Result<(), Box<dyn std::error::Error>>
{
    assert_rtl_passes(FpOp::F16Mul, 46_464)
}

#[test]
fn fp32_div_passes_f32_div_vectors() -> Result<(), Box<dyn std::error::Error>> {
    assert_rtl_passes(FpOp::F32Div, 46_464)
}

#[test]
fn f16_to_f32_passes_its_vectors() -> Result<(), Box<dyn std::error::Error>> {
    assert_rtl_passes(FpOp::F16ToF32, 408)
}

#[test]
fn f32_to_f16_passes_its_vectors() -> Result<(), Box<dyn std::error::Error>> {
    assert_rtl_passes(FpOp::F32ToF16, 600)
}

#[test]
fn i32_to_f32_passes_its_vectors() -> Result<(), Box<dyn std::error::Error>> {
    assert_rtl_passes(FpOp::I32ToF32, 372)
}

#[test]
fn f32_to_i8_passes_f32_to_i32_vectors() -> Result<(), Box<dyn std::error::Error>> {
    assert_rtl_passes(FpOp::F32ToI8, 600)
}

/// The pipelined results come back in vector order: one wrong expectation is reported at
/// its own line, and nowhere else.
#[test]
fn a_wrong_expectation_is_reported_at_its_line() -> Result<(), Box<dyn std::error::Error>> {
    let mut vectors = read_vectors(vector_file(FpOp::F32Mul), FpOp::F32Mul)?;
    vectors.truncate(1_000);
    let i = vectors
        .iter()
        .position(|v| v.line > 500 && !f32::from_bits(v.expected).is_nan())
        .ok_or("no finite expectation past line 500")?;
    vectors[i].expected ^= 1;
    let report = rtl_check(FpOp::F32Mul, &vectors)?;
    assert_eq!((report.cases, report.mismatches), (1_000, 1), "{report}");
    assert_eq!(report.first_mismatches[0].line, vectors[i].line, "{report}");
    Ok(())
}

#[test]
fn f16_add_has_no_unit_and_the_error_names_those_that_do() {
    assert!(!RTL_OPS.contains(&FpOp::F16Add));
    assert_eq!(RTL_OPS.len() + 1, FpOp::ALL.len());
    let err = rtl_check(FpOp::F16Add, &[]).expect_err("f16_add has no RTL unit");
    assert!(matches!(err, SimError::NoRtlUnit { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("`f16_add` has no RTL unit"), "{text}");
    for op in RTL_OPS {
        assert!(text.contains(op.name()), "{text}");
        assert!(require_rtl_unit(op).is_ok());
    }
}

#[test]
fn a_vector_with_the_wrong_operand_count_is_an_error_naming_its_line() {
    let mut vectors =
        read_vectors(vector_file(FpOp::F16ToF32), FpOp::F16ToF32).unwrap_or_else(|e| panic!("{e}"));
    vectors[2].operands.push(0);
    let err = rtl_check(FpOp::F16ToF32, &vectors).expect_err("two operands for a conversion");
    let text = err.to_string();
    assert!(
        text.contains(&format!("line {}:", vectors[2].line)),
        "{text}"
    );
}
