//! Berkeley TestFloat vectors: reading `testfloat_gen` output and checking the FP primitives
//! of [`crate::fp`] against it.
//!
//! TestFloat's generator writes one case per line, every field in hex:
//!
//! ```text
//! <operand 1> [<operand 2>] <expected result> <expected exception flags>
//! ```
//!
//! with binary16 as 4 hex digits, binary32 and int32 (two's complement) as 8, and the flags as
//! 2 (01 inexact, 02 underflow, 04 overflow, 08 infinite, 10 invalid). The files may be
//! gzip-compressed; [`read_vectors`] recognises gzip by its magic bytes, whatever the name.
//!
//! The same [`check`] serves the golden model (with [`golden_result`]) and, later, the RTL
//! (with a function that drives the simulated block), so both are held to one set of rules:
//!
//! - **Results are compared bit for bit**, except that where the expected result is a NaN any
//!   NaN matches. That is TestFloat's own default: IEEE 754 leaves NaN payloads open, and the
//!   vectors were produced by one particular implementation's NaN rules. Our canonical NaN
//!   (§F1) is checked separately, in `tests/ieee.rs`.
//! - **Exception flags are not compared.** The contract (docs/arithmetic.md §F) has no flags
//!   and the hardware raises none; every [`CheckReport`] says so (`flags_compared: false`).
//!
//! Three ops are not a single TestFloat function, and map onto one as follows:
//!
//! - `f16_mul` reads `f16_mul` vectors and computes `f32_to_f16(mul_f16_exact(a, b))`. The
//!   binary32 product of two binary16 values is exact (§F4), so this rounds once, like an IEEE
//!   binary16 multiplication.
//! - `f16_add` reads `f16_add` vectors and computes
//!   `f32_to_f16(add_f32(f16_to_f32(a), f16_to_f32(b)))`, which rounds twice. Double rounding
//!   cannot change an addition's result when the wider format has at least `2p + 2` bits of
//!   precision for a narrow format of `p` bits (Figueroa, 1995): here `24 >= 2 * 11 + 2`.
//!   The TestFloat vectors confirm this on their 46,464 cases.
//! - `f32_to_i8` (our quantizer's conversion, §F5) reads `f32_to_i32` vectors. The expected
//!   int8 is the expected int32 clamped to `[-128, 127]`, since rounding to an integer and then
//!   saturating commutes with saturating first. Where TestFloat flags *invalid* the int32 is no
//!   help (it is the implementation's "integer indefinite"), so the expected int8 comes from
//!   our rule instead: 0 for a NaN input, and for an out-of-range input saturation by the
//!   input's sign (127 or -128). An int8 result is held in the low 8 bits of the `u32`,
//!   two's complement, the upper bits zero, and is printed as 2 hex digits.

use crate::plural::count;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::str::FromStr;

use flate2::read::MultiGzDecoder;
use half::f16;
use serde::{Serialize, Serializer};
use thiserror::Error;

use crate::fp;

/// TestFloat's *invalid* exception flag.
pub const FLAG_INVALID: u8 = 0x10;

/// How many mismatches a [`CheckReport`] records in full; the rest are only counted.
pub const MAX_MISMATCH_RECORDS: usize = 20;

/// The bit formats of operands and results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// IEEE 754 binary16.
    F16,
    /// IEEE 754 binary32.
    F32,
    /// 32-bit two's complement integer.
    I32,
    /// 8-bit two's complement integer, in the low 8 bits.
    I8,
}

impl Format {
    /// The number of hex digits a value of this format takes.
    pub fn hex_digits(self) -> usize {
        match self {
            Format::F16 => 4,
            Format::F32 | Format::I32 => 8,
            Format::I8 => 2,
        }
    }

    /// The format's name as TestFloat spells it.
    pub fn name(self) -> &'static str {
        match self {
            Format::F16 => "f16",
            Format::F32 => "f32",
            Format::I32 => "i32",
            Format::I8 => "i8",
        }
    }

    /// Whether `bits` encodes a NaN in this format (never, for the integer formats).
    pub fn is_nan(self, bits: u32) -> bool {
        match self {
            Format::F16 => bits <= 0xFFFF && (bits & 0x7FFF) > 0x7C00,
            Format::F32 => f32::from_bits(bits).is_nan(),
            Format::I32 | Format::I8 => false,
        }
    }

    /// `bits` as exactly [`Format::hex_digits`] upper-case hex digits (more if `bits` does not
    /// fit, which only a wrong result can do).
    pub fn hex(self, bits: u32) -> String {
        format!("{bits:0width$X}", width = self.hex_digits())
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A golden FP primitive that TestFloat vectors can check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FpOp {
    /// [`fp::mul_f32`].
    F32Mul,
    /// [`fp::add_f32`].
    F32Add,
    /// [`fp::div_f32`].
    F32Div,
    /// [`fp::f16_to_f32`].
    F16ToF32,
    /// [`fp::f32_to_f16`].
    F32ToF16,
    /// [`fp::i32_to_f32`].
    I32ToF32,
    /// [`fp::f32_to_i8`], checked on `f32_to_i32` vectors (see the module docs).
    F32ToI8,
    /// `f32_to_f16(mul_f16_exact(a, b))`: a binary16 multiplication.
    F16Mul,
    /// `f32_to_f16(add_f32(f16_to_f32(a), f16_to_f32(b)))`: a binary16 addition.
    F16Add,
}

impl FpOp {
    /// Every op, in the order the CLI lists them.
    pub const ALL: [FpOp; 9] = [
        FpOp::F32Mul,
        FpOp::F32Add,
        FpOp::F32Div,
        FpOp::F16ToF32,
        FpOp::F32ToF16,
        FpOp::I32ToF32,
        FpOp::F32ToI8,
        FpOp::F16Mul,
        FpOp::F16Add,
    ];

    /// The op's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            FpOp::F32Mul => "f32_mul",
            FpOp::F32Add => "f32_add",
            FpOp::F32Div => "f32_div",
            FpOp::F16ToF32 => "f16_to_f32",
            FpOp::F32ToF16 => "f32_to_f16",
            FpOp::I32ToF32 => "i32_to_f32",
            FpOp::F32ToI8 => "f32_to_i8",
            FpOp::F16Mul => "f16_mul",
            FpOp::F16Add => "f16_add",
        }
    }

    /// The `testfloat_gen` function whose vectors check this op. The same as the name, except
    /// for `f32_to_i8`, which has no TestFloat counterpart and uses `f32_to_i32`.
    pub fn testfloat_function(self) -> &'static str {
        match self {
            FpOp::F32ToI8 => "f32_to_i32",
            other => other.name(),
        }
    }

    /// The formats of the operands, in order.
    pub fn operand_formats(self) -> &'static [Format] {
        match self {
            FpOp::F32Mul | FpOp::F32Add | FpOp::F32Div => &[Format::F32, Format::F32],
            FpOp::F16Mul | FpOp::F16Add => &[Format::F16, Format::F16],
            FpOp::F16ToF32 => &[Format::F16],
            FpOp::F32ToF16 | FpOp::F32ToI8 => &[Format::F32],
            FpOp::I32ToF32 => &[Format::I32],
        }
    }

    /// The format of the expected-result field in the vector file.
    pub fn file_result_format(self) -> Format {
        match self {
            FpOp::F32ToI8 => Format::I32,
            other => other.result_format(),
        }
    }

    /// The format of the op's own result (what [`golden_result`] returns).
    pub fn result_format(self) -> Format {
        match self {
            FpOp::F32Mul | FpOp::F32Add | FpOp::F32Div | FpOp::F16ToF32 | FpOp::I32ToF32 => {
                Format::F32
            }
            FpOp::F32ToF16 | FpOp::F16Mul | FpOp::F16Add => Format::F16,
            FpOp::F32ToI8 => Format::I8,
        }
    }

    /// The line layout of this op's vector file, e.g. `<f32> <f32> <f32 result> <flags>`.
    pub fn layout(self) -> String {
        let mut parts: Vec<String> = self
            .operand_formats()
            .iter()
            .map(|f| format!("<{f}>"))
            .collect();
        parts.push(format!("<{} result>", self.file_result_format()));
        parts.push("<flags>".to_string());
        parts.join(" ")
    }

    /// The comma-separated list of every op name, for error messages and help.
    pub fn all_names() -> String {
        FpOp::ALL
            .iter()
            .map(|op| op.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for FpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for FpOp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// An op name that is not one of [`FpOp::ALL`].
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error(
    "unknown op `{name}`; allowed: {} (f32_to_i8 reads f32_to_i32 vectors)",
    FpOp::all_names()
)]
pub struct UnknownOp {
    pub name: String,
}

impl FromStr for FpOp {
    type Err = UnknownOp;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FpOp::ALL
            .into_iter()
            .find(|op| op.name() == s)
            .ok_or_else(|| UnknownOp {
                name: s.to_string(),
            })
    }
}

/// One test case, as read for one op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vector {
    /// 1-based line number in the file, so that a mismatch can be found there.
    pub line: usize,
    /// The operands' bits, in the op's [`FpOp::operand_formats`].
    pub operands: Vec<u32>,
    /// The result the op must produce, in its [`FpOp::result_format`]. For every op but
    /// `f32_to_i8` this is the file's expected result; for `f32_to_i8` it is the int8 derived
    /// from the file's int32 (see the module docs).
    pub expected: u32,
    /// TestFloat's expected exception flags (kept for reference; never compared).
    pub flags: u8,
}

/// Why a vector file could not be read. Every variant names the file and, where there is one,
/// the 1-based line.
#[derive(Debug, Error)]
pub enum TestFloatError {
    // The I/O error is part of the message rather than a `#[source]`, so that printing the
    // error alone or with its chain (as `hgf` does) shows it exactly once.
    #[error("{file}: cannot open: {cause}")]
    Open { file: String, cause: io::Error },
    #[error("{file}:{line}: read error: {cause}")]
    Io {
        file: String,
        line: usize,
        cause: io::Error,
    },
    #[error("{file}:{line}: the line is not text")]
    NotText { file: String, line: usize },
    #[error("{file}:{line}: {found} fields; {op} vectors have {expected}: {layout}")]
    FieldCount {
        file: String,
        line: usize,
        op: FpOp,
        found: usize,
        expected: usize,
        layout: String,
    },
    #[error("{file}:{line}: {field} `{text}` is not hexadecimal")]
    BadHex {
        file: String,
        line: usize,
        field: String,
        text: String,
    },
    #[error("{file}:{line}: {field} `{text}` is wider than {format} ({digits} hex digits)")]
    TooWide {
        file: String,
        line: usize,
        field: String,
        text: String,
        format: &'static str,
        digits: usize,
    },
    /// testfloat_gen writes every field with all its format's digits; a narrower field is
    /// most likely a file of another op (f16 operands read as f32 ones).
    #[error(
        "{file}:{line}: {field} `{text}` has {} hex digits; {op} vectors give {format} \
         fields {digits} digits ({}): a file of another op?",
        .text.len(),
        .op.layout()
    )]
    TooNarrow {
        file: String,
        line: usize,
        op: FpOp,
        field: String,
        text: String,
        format: &'static str,
        digits: usize,
    },
    #[error("{file}: no test vectors (the file is empty)")]
    Empty { file: String },
}

/// Reads every vector of `path` for `op`. The file may be plain text or gzip.
pub fn read_vectors(path: impl AsRef<Path>, op: FpOp) -> Result<Vec<Vector>, TestFloatError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = File::open(path).map_err(|cause| TestFloatError::Open {
        file: name.clone(),
        cause,
    })?;
    read_vectors_from(file, &name, op)
}

/// Reads every vector from `reader` for `op`; `source` names the input in errors. The input
/// may be plain text or gzip (recognised by its first two bytes, 1F 8B). Lines holding only
/// whitespace are skipped; any other line must be a complete case. Zero cases is an error, so
/// that an empty file cannot make a check pass vacuously, and a truncated gzip stream is a read
/// error (the decoder checks its length and CRC).
pub fn read_vectors_from(
    mut reader: impl Read,
    source: &str,
    op: FpOp,
) -> Result<Vec<Vector>, TestFloatError> {
    let file = source.to_string();
    let make_io = |line: usize, e: io::Error| TestFloatError::Io {
        file: file.clone(),
        line,
        cause: e,
    };

    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < magic.len() {
        match reader.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(make_io(1, e)),
        }
    }
    let head = Cursor::new(magic[..got].to_vec()).chain(reader);
    let mut text: Box<dyn BufRead> = if magic[..got] == [0x1F, 0x8B] {
        Box::new(BufReader::new(MultiGzDecoder::new(head)))
    } else {
        Box::new(BufReader::new(head))
    };

    let mut vectors = Vec::new();
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        line += 1;
        buf.clear();
        let n = text
            .read_until(b'\n', &mut buf)
            .map_err(|e| make_io(line, e))?;
        if n == 0 {
            break;
        }
        let Ok(s) = std::str::from_utf8(&buf) else {
            return Err(TestFloatError::NotText { file, line });
        };
        if s.trim().is_empty() {
            continue;
        }
        vectors.push(parse_line(s, line, &file, op)?);
    }
    if vectors.is_empty() {
        return Err(TestFloatError::Empty { file });
    }
    Ok(vectors)
}

/// Parses one non-blank line into a vector for `op`.
fn parse_line(text: &str, line: usize, file: &str, op: FpOp) -> Result<Vector, TestFloatError> {
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    let formats = op.operand_formats();
    let expected_fields = formats.len() + 2;
    if fields.len() != expected_fields {
        return Err(TestFloatError::FieldCount {
            file: file.to_string(),
            line,
            op,
            found: fields.len(),
            expected: expected_fields,
            layout: op.layout(),
        });
    }
    let field = |i: usize, name: String, digits: usize, format: &'static str| {
        parse_hex(fields[i], digits).map_err(|problem| {
            let text = shorten(fields[i]);
            if problem == HexProblem::Narrow {
                TestFloatError::TooNarrow {
                    file: file.to_string(),
                    line,
                    op,
                    field: name,
                    text,
                    format,
                    digits,
                }
            } else if problem == HexProblem::Wide {
                TestFloatError::TooWide {
                    file: file.to_string(),
                    line,
                    field: name,
                    text,
                    format,
                    digits,
                }
            } else {
                TestFloatError::BadHex {
                    file: file.to_string(),
                    line,
                    field: name,
                    text,
                }
            }
        })
    };
    let mut operands = Vec::with_capacity(formats.len());
    for (i, f) in formats.iter().enumerate() {
        operands.push(field(
            i,
            format!("operand {}", i + 1),
            f.hex_digits(),
            f.name(),
        )?);
    }
    let rf = op.file_result_format();
    let result = field(
        formats.len(),
        "result".to_string(),
        rf.hex_digits(),
        rf.name(),
    )?;
    let flags = field(formats.len() + 1, "flags".to_string(), 2, "the flags")? as u8;
    let expected = match op {
        FpOp::F32ToI8 => expected_int8(operands[0], result, flags),
        _ => result,
    };
    Ok(Vector {
        line,
        operands,
        expected,
        flags,
    })
}

/// Why a field is not a value of its format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HexProblem {
    NotHex,
    Wide,
    Narrow,
}

/// Parses `text` as exactly `digits` hex digits, the width testfloat_gen writes.
fn parse_hex(text: &str, digits: usize) -> Result<u32, HexProblem> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(HexProblem::NotHex);
    }
    if text.len() > digits {
        return Err(HexProblem::Wide);
    }
    if text.len() < digits {
        return Err(HexProblem::Narrow);
    }
    u32::from_str_radix(text, 16).map_err(|_| HexProblem::NotHex)
}

/// Keeps error messages readable when a field is a long run of garbage.
fn shorten(text: &str) -> String {
    const MAX: usize = 24;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}...")
    }
}

/// The int8 that `f32_to_i8` must produce for an `f32_to_i32` case (see the module docs),
/// in the low 8 bits.
fn expected_int8(input: u32, expected_i32: u32, flags: u8) -> u32 {
    let x = f32::from_bits(input);
    let v: i8 = if x.is_nan() {
        0
    } else if flags & FLAG_INVALID != 0 {
        if x.is_sign_negative() {
            i8::MIN
        } else {
            i8::MAX
        }
    } else {
        (expected_i32 as i32).clamp(i8::MIN.into(), i8::MAX.into()) as i8
    };
    u32::from(v as u8)
}

/// The golden model's result for `op` on `operands`, in the op's [`FpOp::result_format`].
///
/// # Panics
///
/// If `operands` has fewer entries than the op takes (vectors from [`read_vectors`] always
/// have the right number).
pub fn golden_result(op: FpOp, operands: &[u32]) -> u32 {
    let f32_of = |i: usize| f32::from_bits(operands[i]);
    // Operand bits above the format's width cannot come from a parsed file; keep the low bits.
    let f16_of = |i: usize| f16::from_bits(operands[i] as u16);
    let h = |x: f16| u32::from(x.to_bits());
    match op {
        FpOp::F32Mul => fp::mul_f32(f32_of(0), f32_of(1)).to_bits(),
        FpOp::F32Add => fp::add_f32(f32_of(0), f32_of(1)).to_bits(),
        FpOp::F32Div => fp::div_f32(f32_of(0), f32_of(1)).to_bits(),
        FpOp::F16ToF32 => fp::f16_to_f32(f16_of(0)).to_bits(),
        FpOp::F32ToF16 => h(fp::f32_to_f16(f32_of(0))),
        FpOp::I32ToF32 => fp::i32_to_f32(operands[0] as i32).to_bits(),
        FpOp::F32ToI8 => u32::from(fp::f32_to_i8(f32_of(0)) as u8),
        FpOp::F16Mul => h(fp::f32_to_f16(fp::mul_f16_exact(f16_of(0), f16_of(1)))),
        FpOp::F16Add => h(fp::f32_to_f16(fp::add_f32(
            fp::f16_to_f32(f16_of(0)),
            fp::f16_to_f32(f16_of(1)),
        ))),
    }
}

/// Whether `actual` passes for `expected` in `format`: equal bits, or both NaN.
pub fn results_match(format: Format, expected: u32, actual: u32) -> bool {
    if format.is_nan(expected) {
        format.is_nan(actual)
    } else {
        expected == actual
    }
}

/// One case whose result differed, with every value in hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub line: usize,
    pub operands: Vec<String>,
    pub expected: String,
    pub actual: String,
}

/// The outcome of [`check`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub op: FpOp,
    /// Cases run.
    pub cases: usize,
    /// Cases whose result did not match.
    pub mismatches: usize,
    /// The first [`MAX_MISMATCH_RECORDS`] mismatches, in file order.
    pub first_mismatches: Vec<Mismatch>,
    /// Always false: exception flags are not part of the contract and are not compared.
    pub flags_compared: bool,
    /// Always true: any NaN matches an expected NaN (TestFloat's default).
    pub any_nan_matches_expected_nan: bool,
}

impl CheckReport {
    /// True when every case matched (and there was at least one).
    pub fn passed(&self) -> bool {
        self.mismatches == 0 && self.cases > 0
    }

    /// One line: op, cases, mismatches and the comparison rules.
    pub fn summary(&self) -> String {
        format!(
            "{}: {}, {} (flags not compared; any NaN matches an expected NaN)",
            self.op,
            count(self.cases as u64, "case", "cases"),
            count(self.mismatches as u64, "mismatch", "mismatches")
        )
    }
}

impl fmt::Display for CheckReport {
    /// The summary line, then one line per recorded mismatch.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        for m in &self.first_mismatches {
            writeln!(
                f,
                "  line {}: {} -> expected {}, got {}",
                m.line,
                m.operands.join(" "),
                m.expected,
                m.actual
            )?;
        }
        let unlisted = self.mismatches - self.first_mismatches.len();
        if unlisted > 0 {
            writeln!(f, "  ... and {unlisted} more")?;
        }
        Ok(())
    }
}

/// Runs every vector through `f` and compares with the expected result: bit-exact, except
/// that any NaN matches an expected NaN; flags are not compared. `f` gets the operand bits and
/// returns the result bits in the op's [`FpOp::result_format`]; [`golden_result`] is the
/// golden model's, and the RTL's simulation can be another.
pub fn check(op: FpOp, vectors: &[Vector], mut f: impl FnMut(&[u32]) -> u32) -> CheckReport {
    let result_format = op.result_format();
    let mut mismatches = 0;
    let mut first_mismatches = Vec::new();
    for v in vectors {
        let actual = f(&v.operands);
        if results_match(result_format, v.expected, actual) {
            continue;
        }
        mismatches += 1;
        if first_mismatches.len() < MAX_MISMATCH_RECORDS {
            first_mismatches.push(Mismatch {
                line: v.line,
                operands: v
                    .operands
                    .iter()
                    .zip(op.operand_formats())
                    .map(|(&bits, f)| f.hex(bits))
                    .collect(),
                expected: result_format.hex(v.expected),
                actual: result_format.hex(actual),
            });
        }
    }
    CheckReport {
        op,
        cases: vectors.len(),
        mismatches,
        first_mismatches,
        flags_compared: false,
        any_nan_matches_expected_nan: true,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    fn parse(text: &str, op: FpOp) -> Result<Vec<Vector>, TestFloatError> {
        read_vectors_from(text.as_bytes(), "v.txt", op)
    }

    fn err(text: &str, op: FpOp) -> String {
        parse(text, op)
            .expect_err("the input is malformed")
            .to_string()
    }

    #[test]
    fn op_names_round_trip_and_unknown_names_list_the_allowed_ones() {
        for op in FpOp::ALL {
            assert_eq!(op.name().parse::<FpOp>(), Ok(op));
            assert_eq!(serde_json::to_value(op).unwrap(), op.name());
        }
        let e = "f32_to_i32".parse::<FpOp>().unwrap_err().to_string();
        assert!(e.contains("`f32_to_i32`"), "{e}");
        for op in FpOp::ALL {
            assert!(e.contains(op.name()), "{e}");
        }
        assert_eq!(FpOp::F32ToI8.testfloat_function(), "f32_to_i32");
        assert_eq!(FpOp::F16Add.testfloat_function(), "f16_add");
    }

    // See: issue #17 (an f16_add file checked as f32_add gave 46048 "mismatches").
    #[test]
    fn a_file_of_another_ops_format_is_a_format_error_not_mismatches() {
        let e = err("87FF E850 E850 01\n", FpOp::F32Add);
        assert!(
            e.contains("v.txt:1: operand 1 `87FF` has 4 hex digits; f32_add vectors give f32")
                && e.contains("another op"),
            "{e}"
        );
        let e = err("8683F7FF C07F3FFF 7839504 01\n", FpOp::F32Mul);
        assert!(e.contains("result `7839504` has 7 hex digits"), "{e}");
        let e = err("8683F7FF C07F3FFF 07839504 1\n", FpOp::F32Mul);
        assert!(e.contains("flags `1` has 1 hex digits"), "{e}");
    }

    #[test]
    fn parses_each_layout() {
        let v = parse("8683F7FF C07F3FFF 07839504 01\n", FpOp::F32Mul).unwrap();
        assert_eq!(
            v,
            vec![Vector {
                line: 1,
                operands: vec![0x8683_F7FF, 0xC07F_3FFF],
                expected: 0x0783_9504,
                flags: 1
            }]
        );
        let v = parse("\n87FF B8FFE000 00\r\n  \nE850 C50A0000 00", FpOp::F16ToF32).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            (v[0].line, v[0].operands[0], v[0].expected),
            (2, 0x87FF, 0xB8FF_E000)
        );
        assert_eq!(
            (v[1].line, v[1].operands[0], v[1].expected),
            (4, 0xE850, 0xC50A_0000)
        );
        let v = parse("74FB E879 FC00 05\n", FpOp::F16Mul).unwrap();
        assert_eq!(
            (v[0].operands.clone(), v[0].expected, v[0].flags),
            (vec![0x74FB, 0xE879], 0xFC00, 5)
        );
    }

    #[test]
    fn reads_gzip_and_plain_files_alike() {
        let text = "00000000 3C072C85 3C072C85 00\n9EDE38F7 3E7F7F7F 3E7F7F7F 01\n";
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let plain_path = dir.path().join("add.txt");
        let gz_path = dir.path().join("add.txt.gz");
        std::fs::write(&plain_path, text).unwrap();
        std::fs::write(&gz_path, &gz).unwrap();
        let plain = read_vectors(&plain_path, FpOp::F32Add).unwrap();
        assert_eq!(plain.len(), 2);
        assert_eq!(read_vectors(&gz_path, FpOp::F32Add).unwrap(), plain);
        // A truncated gzip stream is a read error that names the file, not a short success.
        std::fs::write(&gz_path, &gz[..gz.len() - 12]).unwrap();
        let e = read_vectors(&gz_path, FpOp::F32Add).unwrap_err();
        assert!(matches!(e, TestFloatError::Io { .. }), "{e:?}");
        assert!(e.to_string().contains("add.txt.gz"), "{e}");
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let e = read_vectors("/nonexistent/dir/f32_mul.txt.gz", FpOp::F32Mul).unwrap_err();
        assert!(matches!(e, TestFloatError::Open { .. }), "{e:?}");
        assert!(
            e.to_string().contains("/nonexistent/dir/f32_mul.txt.gz"),
            "{e}"
        );
    }

    #[test]
    fn wrong_field_counts_name_the_line_and_the_layout() {
        let e = err(
            "00000000 3C072C85 3C072C85 00\n00000000 3C072C85 00\n",
            FpOp::F32Add,
        );
        assert!(
            e.starts_with("v.txt:2: 3 fields; f32_add vectors have 4"),
            "{e}"
        );
        assert!(e.contains("<f32> <f32> <f32 result> <flags>"), "{e}");
        let e = err("87FF 1234 B8FFE000 00\n", FpOp::F16ToF32);
        assert!(
            e.starts_with("v.txt:1: 4 fields; f16_to_f32 vectors have 3"),
            "{e}"
        );
        let e = err("8683F7FF 00\n", FpOp::F32ToI8);
        assert!(
            e.contains("<f32> <i32 result> <flags>")
                && e.contains(":1: 2 fields; f32_to_i8 vectors have 3"),
            "{e:?}"
        );
        assert!(parse("8683F7FF 00000000 00\n", FpOp::F32ToI8).is_ok());
    }

    #[test]
    fn bad_hex_is_reported_with_the_field() {
        let e = err("0000 857F 857F 00\n0000 85G7 857F 00\n", FpOp::F16Add);
        assert_eq!(e, "v.txt:2: operand 2 `85G7` is not hexadecimal");
        let e = err("0000 857F 857F 0x\n", FpOp::F16Add);
        assert_eq!(e, "v.txt:1: flags `0x` is not hexadecimal");
        let e = err("+7F 857F 857F 00\n", FpOp::F16Add);
        assert!(e.contains("operand 1 `+7F` is not hexadecimal"), "{e}");
    }

    #[test]
    fn values_wider_than_the_format_are_rejected() {
        let e = err("00000 857F 857F 00\n", FpOp::F16Add);
        assert_eq!(
            e,
            "v.txt:1: operand 1 `00000` is wider than f16 (4 hex digits)"
        );
        let e = err("87FF 1B8FFE000 00\n", FpOp::F16ToF32);
        assert_eq!(
            e,
            "v.txt:1: result `1B8FFE000` is wider than f32 (8 hex digits)"
        );
        let e = err("87FF B8FFE000 100\n", FpOp::F16ToF32);
        assert!(
            e.contains("flags `100` is wider than the flags (2 hex digits)"),
            "{e}"
        );
        let long = "F".repeat(100);
        let e = err(&format!("{long} 3C072C85 3C072C85 00\n"), FpOp::F32Add);
        assert!(e.len() < 120 && e.contains("..."), "{e}");
    }

    #[test]
    fn empty_input_and_binary_garbage_are_errors() {
        let e = err("", FpOp::F32Mul);
        assert_eq!(e, "v.txt: no test vectors (the file is empty)");
        let e = err("\n \n\t\n", FpOp::F32Mul);
        assert!(e.contains("no test vectors"), "{e}");
        let e = parse_bytes(b"00000000 3C072C85 3C072C85 00\n\xFF\xFE\n");
        assert_eq!(e, "v.txt:2: the line is not text");
    }

    fn parse_bytes(bytes: &[u8]) -> String {
        read_vectors_from(bytes, "v.txt", FpOp::F32Add)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn int8_expectations_clamp_and_handle_invalid_cases() {
        let one = |line: &str| parse(line, FpOp::F32ToI8).unwrap()[0].expected;
        assert_eq!(one("C07F3FFF FFFFFFFC 00"), 0xFC); // -3.99 -> -4
        assert_eq!(one("43480000 000000C8 00"), 0x7F); // 200 -> 127
        assert_eq!(one("C3480000 FFFFFF38 00"), 0x80); // -200 -> -128
        assert_eq!(one("4F951295 80000000 10"), 0x7F); // huge positive: invalid, saturate up
        assert_eq!(one("DF7EFFFF 80000000 10"), 0x80); // huge negative: invalid, saturate down
        assert_eq!(one("7FC00000 80000000 10"), 0x00); // NaN -> 0
        assert_eq!(one("FFFFFFFF 7FFFFFFF 10"), 0x00); // negative NaN -> 0
    }

    #[test]
    fn any_nan_matches_an_expected_nan_and_nothing_else_is_loose() {
        // f32: expected NaN 7FFFFFFF, ours is the canonical 7FC00000.
        assert!(results_match(Format::F32, 0x7FFF_FFFF, 0x7FC0_0000));
        assert!(results_match(Format::F32, 0xFFC0_0000, 0x7F80_0001));
        assert!(!results_match(Format::F32, 0x7FC0_0000, 0x7F80_0000)); // inf is not NaN
        assert!(!results_match(Format::F32, 0x0000_0000, 0x8000_0000)); // signed zeros differ
        assert!(!results_match(Format::F32, 0x3F80_0000, 0x7FC0_0000));
        // f16: the bits must also fit.
        assert!(results_match(Format::F16, 0x7E00, 0xFC01));
        assert!(!results_match(Format::F16, 0x7E00, 0x7C00));
        assert!(!results_match(Format::F16, 0x7E00, 0x1_7E00));
        assert!(!results_match(Format::F16, 0x3C00, 0x1_3C00));
        // Integers have no NaN.
        assert!(!results_match(Format::I8, 0x80, 0x7F));
        assert!(results_match(Format::I8, 0x80, 0x80));

        let v = parse(
            "7FC00000 3F800000 7FFFFFFF 00\n7F800000 00000000 FFC00000 10\n",
            FpOp::F32Mul,
        )
        .unwrap();
        let r = check(FpOp::F32Mul, &v, |ops| golden_result(FpOp::F32Mul, ops));
        assert!(r.passed(), "{r}");
        let r = check(FpOp::F32Mul, &v, |_| 0x7F80_0000);
        assert_eq!(r.mismatches, 2);
    }

    #[test]
    fn check_records_lines_in_hex_and_caps_the_records() {
        let mut text = String::new();
        for i in 0..30u32 {
            text.push_str(&format!("{:04X} 3C00 {:04X} 00\n", 0x3C00 + i, 0x3C00 + i));
        }
        let v = parse(&text, FpOp::F16Mul).unwrap();
        let ok = check(FpOp::F16Mul, &v, |ops| golden_result(FpOp::F16Mul, ops));
        assert!(
            ok.passed() && ok.cases == 30 && ok.first_mismatches.is_empty(),
            "{ok}"
        );
        // Wrong on odd lines only.
        let r = check(FpOp::F16Mul, &v, |ops| {
            let x = golden_result(FpOp::F16Mul, ops);
            if (ops[0] - 0x3C00) % 2 == 0 {
                x ^ 1
            } else {
                x
            }
        });
        assert_eq!(
            (r.cases, r.mismatches, r.first_mismatches.len()),
            (30, 15, 15)
        );
        let m = &r.first_mismatches[1];
        assert_eq!(m.line, 3);
        assert_eq!(m.operands, vec!["3C02", "3C00"]);
        assert_eq!((m.expected.as_str(), m.actual.as_str()), ("3C02", "3C03"));
        assert!(!r.flags_compared);
        let all_wrong = check(FpOp::F16Mul, &v, |_| 0);
        assert_eq!(all_wrong.first_mismatches.len(), MAX_MISMATCH_RECORDS);
        assert!(
            all_wrong.to_string().contains("... and 10 more"),
            "{all_wrong}"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["op"], "f16_mul");
        assert_eq!(json["flags_compared"], false);
        assert_eq!(json["first_mismatches"][0]["line"], 1);
    }

    #[test]
    fn golden_results_of_sample_cases() {
        // Cases from TestFloat's level-1 files.
        let g = golden_result;
        assert_eq!(g(FpOp::F32Div, &[0x9EDE_38F7, 0x3E7F_7F7F]), 0x9FDE_A8BC);
        assert_eq!(g(FpOp::F32ToF16, &[0xC07F_3FFF]), 0xC3FA);
        assert_eq!(g(FpOp::I32ToF32, &[0x1FEF_FFEF]), 0x4DFF_7FFF);
        assert_eq!(g(FpOp::I32ToF32, &[0xFFFF_C48E]), 0xC66D_C800);
        assert_eq!(g(FpOp::F16Add, &[0x74FB, 0xE879]), 0x746C);
        assert_eq!(g(FpOp::F16Mul, &[0x87FF, 0xE850]), 0x344F);
        assert_eq!(g(FpOp::F32ToI8, &[0xC07F_3FFF]), 0xFC);
        assert_eq!(g(FpOp::F16ToF32, &[0xFE01]), fp::CANONICAL_NAN_F32);
    }
}
