//! `hgf fpcheck`: the golden FP primitives against TestFloat vectors, and the exit codes that
//! tell a mismatch (1) from an unusable input (2).

use std::fmt::Write as _;
use std::path::PathBuf;

use hgf_golden::testfloat::{read_vectors, FpOp};

use crate::util::{hgf, hgf_in, stderr, stdout};

fn vector_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("golden/tests/vectors")
        .join(name)
}

/// The f32_mul vectors as plain testfloat_gen text, with `corrupt` applied to line `line`.
fn f32_mul_text(line: usize, corrupt: impl Fn(&str) -> String) -> String {
    let vectors = read_vectors(vector_file("f32_mul_rne_level1.txt.gz"), FpOp::F32Mul).unwrap();
    let mut text = String::new();
    for v in &vectors {
        let l = format!(
            "{:08X} {:08X} {:08X} {:02X}",
            v.operands[0], v.operands[1], v.expected, v.flags
        );
        let l = if v.line == line { corrupt(&l) } else { l };
        writeln!(text, "{l}").unwrap();
    }
    text
}

#[test]
fn shipped_vectors_pass_with_exit_0() {
    let out = hgf(&[
        "fpcheck",
        "--op",
        "f32_mul",
        "golden/tests/vectors/f32_mul_rne_level1.txt.gz",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "f32_mul: 46464 cases, 0 mismatches (flags not compared; any NaN matches an expected NaN)\n"
    );
}

#[test]
fn int8_conversion_runs_on_f32_to_i32_vectors_as_json() {
    let file = vector_file("f32_to_i32_rne_level1.txt.gz");
    let out = hgf(&[
        "fpcheck",
        "--op",
        "f32_to_i8",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["op"], "f32_to_i8");
    assert_eq!(v["cases"], 600);
    assert_eq!(v["mismatches"], 0);
    assert_eq!(v["flags_compared"], false);
    assert!(v["file"]
        .as_str()
        .unwrap()
        .ends_with("f32_to_i32_rne_level1.txt.gz"));
}

#[test]
fn a_corrupted_expected_value_exits_1_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    // Line 17: flip the last bit of the expected product (a finite value, so no NaN rule).
    let text = f32_mul_text(17, |l| {
        let fields: Vec<&str> = l.split(' ').collect();
        let expected = u32::from_str_radix(fields[2], 16).unwrap();
        assert!(!f32::from_bits(expected).is_nan());
        format!(
            "{} {} {:08X} {}",
            fields[0],
            fields[1],
            expected ^ 1,
            fields[3]
        )
    });
    std::fs::write(dir.path().join("mul.txt"), text).unwrap();
    let out = hgf_in(dir.path(), &["fpcheck", "--op", "f32_mul", "mul.txt"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("f32_mul: 46464 cases, 1 mismatch ("),
        "{text}"
    );
    assert!(text.contains("\n  line 17: "), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");

    let out = hgf_in(
        dir.path(),
        &["fpcheck", "--op", "f32_mul", "mul.txt", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["mismatches"], 1);
    assert_eq!(v["first_mismatches"][0]["line"], 17);
}

#[test]
fn a_missing_file_exits_2_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = hgf_in(
        dir.path(),
        &["fpcheck", "--op", "f16_add", "no_such_vectors.txt.gz"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no_such_vectors.txt.gz") && err.contains("cannot open"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_malformed_line_exits_2_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = f32_mul_text(3, |l| l.replacen('0', "Z", 1));
    std::fs::write(dir.path().join("bad.txt"), text).unwrap();
    let out = hgf_in(dir.path(), &["fpcheck", "--op", "f32_mul", "bad.txt"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.txt:3:") && err.contains("not hexadecimal"),
        "{err}"
    );

    let text = f32_mul_text(5, |l| l.rsplit_once(' ').unwrap().0.to_string());
    std::fs::write(dir.path().join("short.txt"), text).unwrap();
    let out = hgf_in(dir.path(), &["fpcheck", "--op", "f32_mul", "short.txt"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("short.txt:5: 3 fields; f32_mul vectors have 4"),
        "{err}"
    );

    std::fs::write(dir.path().join("empty.txt"), "").unwrap();
    let out = hgf_in(dir.path(), &["fpcheck", "--op", "f32_mul", "empty.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("empty.txt: no test vectors"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_op_exits_2_and_lists_the_allowed_ops() {
    let out = hgf(&[
        "fpcheck",
        "--op",
        "f64_mul",
        "golden/tests/vectors/f32_mul_rne_level1.txt.gz",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown op `f64_mul`"), "{err}");
    for op in FpOp::ALL {
        assert!(err.contains(op.name()), "{err}");
    }
}

#[test]
fn the_wrong_file_for_an_op_is_a_mismatch_not_a_pass() {
    // f16_add vectors checked as f16_mul: the layout fits, the results do not.
    let out = hgf(&[
        "fpcheck",
        "--op",
        "f16_mul",
        "golden/tests/vectors/f16_add_rne_level1.txt.gz",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("\n  line 1: 87FF E850 -> expected E850, got "),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  line ")).count(),
        20,
        "{text}"
    );
    assert!(text.trim_end().ends_with("more"), "{text}");
}

#[test]
fn rtl_shipped_vectors_pass_and_a_corrupted_expectation_exits_1() {
    let out = hgf(&[
        "fpcheck",
        "--rtl",
        "--op",
        "f32_add",
        "golden/tests/vectors/f32_add_rne_level1.txt.gz",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "f32_add, RTL (Verilator): 46464 cases, 0 mismatches \
         (flags not compared; any NaN matches an expected NaN)\n"
    );

    // Line 17 of the f32_add vectors with the last bit of its (finite) sum flipped.
    let vectors = read_vectors(vector_file("f32_add_rne_level1.txt.gz"), FpOp::F32Add).unwrap();
    let mut text = String::new();
    for v in &vectors {
        let expected = if v.line == 17 {
            assert!(!f32::from_bits(v.expected).is_nan());
            v.expected ^ 1
        } else {
            v.expected
        };
        writeln!(
            text,
            "{:08X} {:08X} {expected:08X} {:02X}",
            v.operands[0], v.operands[1], v.flags
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("add.txt"), text).unwrap();
    let out = hgf_in(
        dir.path(),
        &["fpcheck", "--rtl", "--op", "f32_add", "add.txt"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("f32_add, RTL (Verilator): 46464 cases, 1 mismatch ("),
        "{text}"
    );
    assert!(text.contains("\n  line 17: "), "{text}");

    let out = hgf_in(
        dir.path(),
        &["fpcheck", "--rtl", "--op", "f32_add", "add.txt", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["implementation"], "rtl-verilator");
    assert_eq!(
        (v["cases"].as_u64(), v["mismatches"].as_u64()),
        (Some(46464), Some(1))
    );
    assert_eq!(v["first_mismatches"][0]["line"], 17);
}

#[test]
fn rtl_f16_add_exits_2_naming_the_ops_with_a_unit() {
    let out = hgf(&[
        "fpcheck",
        "--rtl",
        "--op",
        "f16_add",
        "golden/tests/vectors/f16_add_rne_level1.txt.gz",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("`f16_add` has no RTL unit"), "{err}");
    for op in hgf_sim::fp_units::RTL_OPS {
        assert!(err.contains(op.name()), "{err}");
    }
    assert!(stdout(&out).is_empty());
}

// See: issue #17: an f16_add file checked as f32_add reported 46048 mismatches (exit 1).
#[test]
fn a_vector_file_of_another_op_is_a_format_error() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/tests/vectors/f16_add_rne_level1.txt.gz"
    );
    let out = hgf(&["fpcheck", "--op", "f32_add", file]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("f16_add_rne_level1.txt.gz:1: operand 1 `87FF` has 4 hex digits")
            && err.contains("a file of another op?"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}
