//! Every golden FP primitive against every Berkeley TestFloat level-1 vector of its function
//! (tests/vectors/, see its README for provenance and the comparison rules).
//!
//! Each test also checks that the file held exactly as many cases as the README's table says,
//! so a truncated, empty or swapped file fails instead of passing on too few cases.

use std::path::{Path, PathBuf};

use hgf_golden::testfloat::{check, golden_result, read_vectors, FpOp};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// The `(file, cases)` row of the README table for `op`.
fn readme_row(op: FpOp) -> (String, usize) {
    let readme = std::fs::read_to_string(vectors_dir().join("README.md")).expect("README.md");
    let rows: Vec<(String, usize)> = readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            if cells.len() >= 3 && cells[1] == op.name() && cells[0].ends_with(".gz") {
                let cases = cells[2].parse().expect("the cases column is a number");
                Some((cells[0].to_string(), cases))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        rows.len(),
        1,
        "README.md needs exactly one table row for {op}: {rows:?}"
    );
    rows.into_iter().next().unwrap()
}

/// Runs the whole file of `op` through the golden model.
fn run(op: FpOp) {
    let (file, cases) = readme_row(op);
    assert!(
        file.starts_with(op.testfloat_function()),
        "{op} must read {} vectors, README names {file}",
        op.testfloat_function()
    );
    let vectors = read_vectors(vectors_dir().join(&file), op).unwrap_or_else(|e| panic!("{e}"));
    let report = check(op, &vectors, |operands| golden_result(op, operands));
    assert_eq!(
        report.cases, cases,
        "{file}: case count differs from the README"
    );
    assert_eq!(report.mismatches, 0, "{report}");
    assert!(report.passed());
}

#[test]
fn f32_mul_matches_testfloat() {
    run(FpOp::F32Mul);
}

#[test]
fn f32_add_matches_testfloat() {
    run(FpOp::F32Add);
}

#[test]
fn f32_div_matches_testfloat() {
    run(FpOp::F32Div);
}

#[test]
fn f16_to_f32_matches_testfloat() {
    run(FpOp::F16ToF32);
}

#[test]
fn f32_to_f16_matches_testfloat() {
    run(FpOp::F32ToF16);
}

#[test]
fn i32_to_f32_matches_testfloat() {
    run(FpOp::I32ToF32);
}

#[test]
fn f32_to_i8_matches_testfloat_f32_to_i32() {
    run(FpOp::F32ToI8);
}

#[test]
fn f16_mul_matches_testfloat() {
    run(FpOp::F16Mul);
}

#[test]
fn f16_add_matches_testfloat() {
    run(FpOp::F16Add);
}

#[test]
fn every_op_has_a_test_above() {
    // One `run` per op: adding an op to FpOp::ALL without a README row fails here.
    for op in FpOp::ALL {
        readme_row(op);
    }
    assert_eq!(FpOp::ALL.len(), 9);
}

/// The checker itself must catch a wrong primitive: multiplication where addition is expected
/// fails on (almost) every case, and the records point at the right lines.
#[test]
fn a_wrong_function_is_caught_with_its_line_numbers() {
    let op = FpOp::F32Add;
    let (file, _) = readme_row(op);
    let vectors = read_vectors(vectors_dir().join(file), op).unwrap();
    let wrong = check(op, &vectors, |operands| {
        golden_result(FpOp::F32Mul, operands)
    });
    assert!(wrong.mismatches > vectors.len() / 2, "{}", wrong.summary());
    assert_eq!(wrong.first_mismatches.len(), 20);
    for m in &wrong.first_mismatches {
        let v = &vectors[m.line - 1];
        assert_eq!(v.line, m.line);
        assert_eq!(
            m.operands,
            vec![
                format!("{:08X}", v.operands[0]),
                format!("{:08X}", v.operands[1])
            ]
        );
        assert_eq!(m.expected, format!("{:08X}", v.expected));
        assert_eq!(
            m.actual,
            format!("{:08X}", golden_result(FpOp::F32Mul, &v.operands))
        );
        assert_ne!(m.expected, m.actual);
    }

    // A single flipped bit on one chosen case is found, and only there.
    let chosen = vectors[1234..]
        .iter()
        .find(|v| !f32::from_bits(v.expected).is_nan())
        .unwrap();
    let one_off = check(op, &vectors, |operands| {
        let r = golden_result(op, operands);
        if operands == chosen.operands.as_slice() {
            r ^ 1
        } else {
            r
        }
    });
    let flagged: Vec<usize> = one_off.first_mismatches.iter().map(|m| m.line).collect();
    assert!(flagged.contains(&chosen.line), "{one_off}");
    assert_eq!(one_off.mismatches, flagged.len());
}
