//! Reading and writing layers (safetensors) and token matrices (.npy).
//!
//! These are the formats the rest of the tool chain already speaks: PyTorch and the
//! `safetensors` Python package write the weights, NumPy writes and reads the activations. The
//! loaders treat every file as untrusted input: each problem becomes an [`IoError`] that names
//! the file, the tensor or header field, and what was expected. Nothing a file contains can
//! make them panic, and what they allocate is bounded by a small multiple of the file's size,
//! never by sizes the file merely claims.
//!
//! # Weights layout (safetensors)
//!
//! | tensor | dtype | shape             | meaning                          |
//! |--------|-------|-------------------|----------------------------------|
//! | `T`    | I8    | `[d_out, d_in]`   | ternary weights, in {-1, 0, 1}   |
//! | `beta` | F32   | `[]` or `[1]`     | scale of T, finite               |
//! | `A`    | F16   | `[rank, d_in]`    | down projection                  |
//! | `B`    | F16   | `[d_out, rank]`   | up projection                    |
//! | `gate` | F32   | `[]` or `[1]`     | effective gate value, finite     |
//!
//! Other tensors in the file are ignored, so a layer can be cut out of a larger checkpoint
//! without renaming anything else.
//!
//! # Tokens layout (.npy)
//!
//! A 2-D array `[tokens, d]` of dtype `<f2` (binary16). Big-endian `>f2` and Fortran order
//! are accepted on reading because NumPy can produce both and neither changes a single bit of
//! the values; writing always produces little-endian C order.
//!
//! ndarray-npy has no binary16 element type, and its element traits cannot be implemented
//! outside the crate without depending on `py_literal` (their signatures name its `Value`
//! type). So this module uses ndarray-npy's [`Header`] for the header, which is where the
//! format's subtleties (versions, padding, the Python-literal dictionary) are, and moves the
//! data bytes itself; binary16 data are plain little- or big-endian `u16` bit patterns.

use std::fs;
use std::path::{Path, PathBuf};

use half::f16;
use ndarray::{Array2, ArrayView2, ShapeBuilder};
use ndarray_npy::npy::header::{Header, Layout, ReadHeaderError, WriteHeaderError};
use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};
use thiserror::Error;

use crate::output::write_atomically;
use crate::weights::{HgfWeights, WeightsError};

/// Why a weights or tokens file could not be read or written.
///
/// Each message is complete on its own: it includes the underlying error's text, and so does
/// not also return it from `source()` (which would make error-chain printers such as anyhow's
/// `{:#}` repeat it).
#[derive(Debug, Error)]
pub enum IoError {
    /// The file could not be opened or read (missing, permissions, ...).
    #[error("cannot read {}: {error}", .path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The file could not be created or written.
    #[error("cannot write {}: {error}", .path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Not a safetensors file, or a truncated or inconsistent one (safetensors' own diagnosis).
    #[error(
        "{} is not a valid safetensors file: {error}{}",
        .path.display(),
        safetensors_hint(.error)
    )]
    SafeTensors {
        path: PathBuf,
        error: SafeTensorError,
    },
    /// The weights could not be encoded as safetensors.
    #[error("cannot encode weights for {}: {error}", .path.display())]
    Encode {
        path: PathBuf,
        error: SafeTensorError,
    },
    /// A required tensor is absent.
    #[error(
        "{}: tensor `{tensor}` is missing (a layer needs T, beta, A, B and gate); \
         the file has: {found}",
        .path.display()
    )]
    MissingTensor {
        path: PathBuf,
        tensor: &'static str,
        found: String,
    },
    /// A tensor has the wrong element type.
    #[error("{}: tensor `{tensor}` has dtype {got}; expected {expected}", .path.display())]
    Dtype {
        path: PathBuf,
        tensor: &'static str,
        expected: Dtype,
        got: Dtype,
    },
    /// A tensor has the wrong number of dimensions, or a scalar more than one element.
    #[error("{}: tensor `{tensor}` has shape {got:?}; expected {expected}", .path.display())]
    Shape {
        path: PathBuf,
        tensor: &'static str,
        got: Vec<usize>,
        expected: &'static str,
    },
    /// The tensors are well-formed but do not make a valid layer: A or B disagree with T, a
    /// T value is not a trit, or beta or gate is not finite.
    #[error("{}: {error}", .path.display())]
    Weights { path: PathBuf, error: WeightsError },
    /// A tensor's header entry is inconsistent: its shape and data type need another number
    /// of bytes than its data offsets span.
    #[error("{}: tensor `{tensor}` in the header: {detail}", .path.display())]
    TensorHeader {
        path: PathBuf,
        tensor: String,
        detail: String,
    },
    /// The .npy header is missing, truncated or malformed.
    #[error("{} is not a valid .npy file: {detail}", .path.display())]
    NpyHeader { path: PathBuf, detail: String },
    /// The .npy array is not binary16.
    #[error("{}: expected dtype f16 (<f2), found {found}", .path.display())]
    NpyDtype { path: PathBuf, found: String },
    /// The .npy array is not 2-D.
    #[error(
        "{}: expected a 2-D array [tokens, d]; found shape {shape:?} ({} dimensions)",
        .path.display(),
        .shape.len()
    )]
    NpyRank { path: PathBuf, shape: Vec<usize> },
    /// The .npy data are shorter or longer than the header's shape needs.
    #[error(
        "{}: shape {shape:?} of f16 needs {expected} data bytes, the file has {found} ({})",
        .path.display(),
        if .found < .expected { "truncated" } else { "trailing bytes after the data" }
    )]
    NpyDataLength {
        path: PathBuf,
        shape: Vec<usize>,
        expected: usize,
        found: usize,
    },
}

impl IoError {
    /// The file this error is about.
    pub fn path(&self) -> &Path {
        match self {
            IoError::Read { path, .. }
            | IoError::Write { path, .. }
            | IoError::SafeTensors { path, .. }
            | IoError::Encode { path, .. }
            | IoError::MissingTensor { path, .. }
            | IoError::Dtype { path, .. }
            | IoError::Shape { path, .. }
            | IoError::Weights { path, .. }
            | IoError::TensorHeader { path, .. }
            | IoError::NpyHeader { path, .. }
            | IoError::NpyDtype { path, .. }
            | IoError::NpyRank { path, .. }
            | IoError::NpyDataLength { path, .. } => path,
        }
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, IoError> {
    fs::read(path).map_err(|error| IoError::Read {
        path: path.to_path_buf(),
        error,
    })
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> IoError + '_ {
    move |error| IoError::Write {
        path: path.to_path_buf(),
        error,
    }
}

// ---------------------------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------------------------

/// Reads a layer from a safetensors file (layout in the module docs) and checks that it is a
/// valid layer ([`HgfWeights::validate`]). Whether it fits a particular config is the caller's
/// question ([`HgfWeights::validate_for`]).
pub fn load_weights(path: impl AsRef<Path>) -> Result<HgfWeights, IoError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let st_error = |error| IoError::SafeTensors {
        path: path.to_path_buf(),
        error,
    };
    check_header(path, &bytes)?;
    let st = SafeTensors::deserialize(&bytes).map_err(st_error)?;

    let t_view = tensor(path, &st, "T", Dtype::I8)?;
    let a_view = tensor(path, &st, "A", Dtype::F16)?;
    let b_view = tensor(path, &st, "B", Dtype::F16)?;
    let beta_view = tensor(path, &st, "beta", Dtype::F32)?;
    let gate_view = tensor(path, &st, "gate", Dtype::F32)?;

    let t = matrix(path, "T", &t_view, "2 dimensions [d_out, d_in]", 1, |b| {
        i8::from_le_bytes([b[0]])
    })?;
    let a = matrix(path, "A", &a_view, "2 dimensions [rank, d_in]", 2, |b| {
        f16::from_le_bytes([b[0], b[1]])
    })?;
    let b = matrix(path, "B", &b_view, "2 dimensions [d_out, rank]", 2, |b| {
        f16::from_le_bytes([b[0], b[1]])
    })?;
    let beta = scalar(path, "beta", &beta_view)?;
    let gate = scalar(path, "gate", &gate_view)?;

    let weights = HgfWeights {
        t,
        beta,
        a,
        b,
        gate,
    };
    weights.validate().map_err(|error| IoError::Weights {
        path: path.to_path_buf(),
        error,
    })?;
    Ok(weights)
}

/// Writes a layer in the layout [`load_weights`] reads (beta and gate as 0-d tensors),
/// through a temporary file renamed into place ([`crate::output`]).
///
/// The weights are written as they are, without validation, so that tests and tools can
/// produce deliberately broken files; [`load_weights`] is where files are checked.
pub fn save_weights(path: impl AsRef<Path>, weights: &HgfWeights) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = encode_weights(path, weights)?;
    write_atomically(path, &bytes).map_err(write_error(path))
}

/// The safetensors bytes [`save_weights`] writes (`path` names the file in errors).
pub fn encode_weights(path: &Path, weights: &HgfWeights) -> Result<Vec<u8>, IoError> {
    let t: Vec<u8> = weights.t.iter().flat_map(|v| v.to_le_bytes()).collect();
    let a: Vec<u8> = weights.a.iter().flat_map(|v| v.to_le_bytes()).collect();
    let b: Vec<u8> = weights.b.iter().flat_map(|v| v.to_le_bytes()).collect();
    let beta = weights.beta.to_le_bytes();
    let gate = weights.gate.to_le_bytes();
    let encode_error = |error| IoError::Encode {
        path: path.to_path_buf(),
        error,
    };
    let views = [
        ("T", Dtype::I8, weights.t.shape().to_vec(), &t[..]),
        ("beta", Dtype::F32, vec![], &beta[..]),
        ("A", Dtype::F16, weights.a.shape().to_vec(), &a[..]),
        ("B", Dtype::F16, weights.b.shape().to_vec(), &b[..]),
        ("gate", Dtype::F32, vec![], &gate[..]),
    ]
    .into_iter()
    .map(|(name, dtype, shape, data)| Ok((name, TensorView::new(dtype, shape, data)?)))
    .collect::<Result<Vec<_>, SafeTensorError>>()
    .map_err(encode_error)?;
    safetensors::serialize(views, None).map_err(encode_error)
}

/// Checks the header before safetensors does, for what it would report without naming a
/// tensor or could not report safely:
/// - data offsets so large that safetensors' own check would overflow (it adds the end of the
///   data to the header length unchecked, which panics in debug builds for absurd offsets that
///   still pass its per-tensor checks): [`SafeTensorError::ValidationOverflow`];
/// - a tensor whose shape and data type need another number of bytes than its data offsets
///   span (safetensors says "invalid shape, data type, or offset for tensor" and names none):
///   [`IoError::TensorHeader`], with the tensor's name.
///
/// Everything else, truncation included, is left for safetensors to diagnose.
fn check_header(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    check_header_bytes(bytes).map_err(|problem| match problem {
        HeaderProblem::Overflow => IoError::SafeTensors {
            path: path.to_path_buf(),
            error: SafeTensorError::ValidationOverflow,
        },
        HeaderProblem::Tensor { tensor, detail } => IoError::TensorHeader {
            path: path.to_path_buf(),
            tensor,
            detail,
        },
    })
}

/// What [`check_header_bytes`] finds wrong with a safetensors header.
#[derive(Debug)]
pub(crate) enum HeaderProblem {
    /// Data offsets so large that safetensors' own check would overflow.
    Overflow,
    /// A tensor whose shape and data type disagree with its data offsets.
    Tensor { tensor: String, detail: String },
}

/// [`check_header`] without a path, for every reader of safetensors files (the layer files
/// here, the model checkpoints of `crate::model::checkpoint`).
pub(crate) fn check_header_bytes(bytes: &[u8]) -> Result<(), HeaderProblem> {
    let Some((len_bytes, rest)) = bytes.split_first_chunk::<8>() else {
        return Ok(());
    };
    let Some(header) = usize::try_from(u64::from_le_bytes(*len_bytes))
        .ok()
        .and_then(|n| rest.get(..n))
    else {
        return Ok(());
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(header) else {
        return Ok(());
    };
    let limit = usize::MAX - 8 - header.len();
    let overflows = map.values().any(|info| {
        info.get("data_offsets")
            .and_then(|o| o.get(1))
            .and_then(serde_json::Value::as_u64)
            .is_some_and(|end| usize::try_from(end).map_or(true, |end| end > limit))
    });
    if overflows {
        return Err(HeaderProblem::Overflow);
    }
    let mut names: Vec<&String> = map.keys().filter(|k| *k != "__metadata__").collect();
    names.sort_unstable();
    for name in names {
        let info = &map[name];
        let offsets = info
            .get("data_offsets")
            .and_then(serde_json::Value::as_array)
            .and_then(|o| Some((o.first()?.as_u64()?, o.get(1)?.as_u64()?)));
        let shape: Option<Vec<u64>> = info
            .get("shape")
            .and_then(serde_json::Value::as_array)
            .and_then(|dims| dims.iter().map(serde_json::Value::as_u64).collect());
        let element = info
            .get("dtype")
            .and_then(serde_json::Value::as_str)
            .and_then(dtype_bytes);
        // Malformed entries and sub-byte types are safetensors' to report.
        let (Some((start, end)), Some(shape), Some(element)) = (offsets, shape, element) else {
            continue;
        };
        let problem = |detail: String| HeaderProblem::Tensor {
            tensor: clip(name.clone()),
            detail,
        };
        if end < start {
            return Err(problem(format!(
                "its data offsets [{start}, {end}] end before they start"
            )));
        }
        let needed = shape
            .iter()
            .try_fold(element, |n, &d| n.checked_mul(d))
            .ok_or_else(|| problem(format!("shape {shape:?} overflows")))?;
        if needed != end - start {
            return Err(problem(format!(
                "shape {shape:?} of {} needs {needed} bytes, its data offsets [{start}, {end}] \
                 span {}",
                info.get("dtype")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("?"),
                end - start
            )));
        }
    }
    Ok(())
}

/// Bytes per element of a safetensors dtype name (`None` for sub-byte and unknown types).
fn dtype_bytes(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 1,
        "U16" | "I16" | "F16" | "BF16" => 2,
        "U32" | "I32" | "F32" => 4,
        "U64" | "I64" | "F64" => 8,
        _ => return None,
    })
}

/// What a safetensors error most likely means, for the few whose own words are cryptic.
fn safetensors_hint(error: &SafeTensorError) -> &'static str {
    match error {
        SafeTensorError::MetadataIncompleteBuffer
        | SafeTensorError::InvalidHeaderLength
        | SafeTensorError::HeaderTooSmall => {
            " (the file is shorter or longer than its header says: truncated?)"
        }
        _ => "",
    }
}

/// Tensor names listed when one is missing; a whole checkpoint has hundreds.
const MAX_LISTED: usize = 16;

/// The tensor `name`, present and of dtype `dtype`.
fn tensor<'a>(
    path: &Path,
    st: &SafeTensors<'a>,
    name: &'static str,
    dtype: Dtype,
) -> Result<TensorView<'a>, IoError> {
    let view = st.tensor(name).map_err(|_| {
        let mut names = st.names();
        names.sort_unstable();
        IoError::MissingTensor {
            path: path.to_path_buf(),
            tensor: name,
            found: match names.len() {
                0 => "no tensors".to_string(),
                n if n > MAX_LISTED => {
                    format!("{}, ... ({n} tensors)", names[..MAX_LISTED].join(", "))
                }
                _ => names.join(", "),
            },
        }
    })?;
    if view.dtype() != dtype {
        return Err(IoError::Dtype {
            path: path.to_path_buf(),
            tensor: name,
            expected: dtype,
            got: view.dtype(),
        });
    }
    Ok(view)
}

/// A 2-D tensor decoded element by element from its `width`-byte little-endian encoding.
fn matrix<T>(
    path: &Path,
    name: &'static str,
    view: &TensorView<'_>,
    expected: &'static str,
    width: usize,
    decode: impl Fn(&[u8]) -> T,
) -> Result<Array2<T>, IoError> {
    let shape_error = || IoError::Shape {
        path: path.to_path_buf(),
        tensor: name,
        got: view.shape().to_vec(),
        expected,
    };
    let &[rows, cols] = view.shape() else {
        return Err(shape_error());
    };
    let data: Vec<T> = view.data().chunks_exact(width).map(decode).collect();
    // safetensors has checked that the data length matches the shape; this cannot fail, but
    // a file is input, so it is an error rather than an unwrap.
    Array2::from_shape_vec((rows, cols), data).map_err(|_| shape_error())
}

/// A one-element F32 tensor of shape `[]` or `[1]`.
fn scalar(path: &Path, name: &'static str, view: &TensorView<'_>) -> Result<f32, IoError> {
    match (view.shape(), view.data()) {
        ([] | [1], &[b0, b1, b2, b3]) => Ok(f32::from_le_bytes([b0, b1, b2, b3])),
        _ => Err(IoError::Shape {
            path: path.to_path_buf(),
            tensor: name,
            got: view.shape().to_vec(),
            expected: "one element, shape [] or [1]",
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

const NPY_MAGIC: &[u8] = b"\x93NUMPY";
/// The descriptor written for binary16, as a Python literal.
const F16_DESCR_LITERAL: &str = "'<f2'";

/// Reads a `[tokens, d]` binary16 matrix from a .npy file (see the module docs for what is
/// accepted).
pub fn load_tokens(path: impl AsRef<Path>) -> Result<Array2<f16>, IoError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let header_error = |detail: String| IoError::NpyHeader {
        path: path.to_path_buf(),
        detail,
    };
    check_npy_header_len(&bytes).map_err(header_error)?;
    let mut data = &bytes[..];
    let header = Header::from_reader(&mut data).map_err(|e| match e {
        ReadHeaderError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            header_error("the file ends inside the header (truncated)".to_string())
        }
        other => header_error(clip(other.to_string())),
    })?;

    let descr = header.type_descriptor.as_string().map(String::as_str);
    let big_endian = match descr {
        Some("<f2") => false,
        Some(">f2") => true,
        Some(other) => {
            return Err(IoError::NpyDtype {
                path: path.to_path_buf(),
                found: clip(describe_dtype(other)),
            })
        }
        None => {
            return Err(IoError::NpyDtype {
                path: path.to_path_buf(),
                found: clip(format!("the structured dtype {}", header.type_descriptor)),
            })
        }
    };
    let &[rows, cols] = &header.shape[..] else {
        return Err(IoError::NpyRank {
            path: path.to_path_buf(),
            shape: header.shape.clone(),
        });
    };
    let expected = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(2))
        .ok_or_else(|| header_error(format!("shape {:?} overflows", header.shape)))?;
    if data.len() != expected {
        return Err(IoError::NpyDataLength {
            path: path.to_path_buf(),
            shape: header.shape.clone(),
            expected,
            found: data.len(),
        });
    }
    let values: Vec<f16> = data
        .chunks_exact(2)
        .map(|b| {
            let b = [b[0], b[1]];
            if big_endian {
                f16::from_be_bytes(b)
            } else {
                f16::from_le_bytes(b)
            }
        })
        .collect();
    let shape = (rows, cols).set_f(header.layout.is_fortran());
    let array = Array2::from_shape_vec(shape, values)
        .map_err(|e| header_error(format!("shape {:?}: {e}", header.shape)))?;
    // Callers expect C order (rows of one token contiguous); a Fortran file is transposed in
    // memory here, once.
    Ok(if array.is_standard_layout() {
        array
    } else {
        array.as_standard_layout().into_owned()
    })
}

/// Writes a `[tokens, d]` binary16 matrix as a little-endian, C-order .npy file, through a
/// temporary file renamed into place ([`crate::output`]).
pub fn save_tokens(path: impl AsRef<Path>, tokens: ArrayView2<'_, f16>) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = encode_tokens(path, tokens)?;
    write_atomically(path, &bytes).map_err(write_error(path))
}

/// The .npy bytes [`save_tokens`] writes (`path` names the file in errors).
pub fn encode_tokens(path: &Path, tokens: ArrayView2<'_, f16>) -> Result<Vec<u8>, IoError> {
    // The descriptor's type is ndarray-npy's re-use of `py_literal::Value`, which this crate
    // cannot name; parsing the literal lets the compiler infer it from `Header`.
    let Ok(type_descriptor) = F16_DESCR_LITERAL.parse() else {
        return Err(IoError::Write {
            path: path.to_path_buf(),
            error: std::io::Error::other("cannot form the .npy descriptor '<f2'"),
        });
    };
    let header = Header {
        type_descriptor,
        layout: Layout::Standard,
        shape: tokens.shape().to_vec(),
    };
    let mut out = Vec::with_capacity(128 + 2 * tokens.len());
    header.write(&mut out).map_err(|e| match e {
        WriteHeaderError::Io(source) => write_error(path)(source),
        other => write_error(path)(std::io::Error::other(other.to_string())),
    })?;
    out.extend(tokens.iter().flat_map(|v| v.to_le_bytes()));
    Ok(out)
}

/// Checks that the header the preamble announces is inside the file, before ndarray-npy
/// allocates a buffer of the announced size (up to 4 GiB for format versions 2 and 3).
fn check_npy_header_len(bytes: &[u8]) -> Result<(), String> {
    let truncated = || "the file ends inside the header (truncated)".to_string();
    if bytes.len() < NPY_MAGIC.len() {
        return if NPY_MAGIC.starts_with(bytes) {
            Err(truncated())
        } else {
            Err("it does not start with the .npy magic string \\x93NUMPY".to_string())
        };
    }
    if !bytes.starts_with(NPY_MAGIC) {
        // ndarray-npy reports this (and unknown versions) in its own words.
        return Ok(());
    }
    let len_at = NPY_MAGIC.len() + 2;
    let (len, body_at) = match bytes.get(NPY_MAGIC.len()) {
        Some(1) => match bytes.get(len_at..len_at + 2) {
            Some(&[a, b]) => (usize::from(u16::from_le_bytes([a, b])), len_at + 2),
            _ => return Err(truncated()),
        },
        Some(2 | 3) => match bytes.get(len_at..len_at + 4) {
            Some(&[a, b, c, d]) => (
                usize::try_from(u32::from_le_bytes([a, b, c, d])).unwrap_or(usize::MAX),
                len_at + 4,
            ),
            _ => return Err(truncated()),
        },
        None => return Err(truncated()),
        Some(_) => return Ok(()),
    };
    if bytes.len() - body_at < len {
        return Err(truncated());
    }
    Ok(())
}

/// Longest header diagnosis quoted in an error message.
const MAX_DETAIL: usize = 400;

/// Shortens a diagnosis: the header parser quotes the whole header line, which a hostile or
/// corrupted file can make tens of kilobytes long.
fn clip(mut detail: String) -> String {
    if detail.len() > MAX_DETAIL {
        let mut end = MAX_DETAIL;
        while !detail.is_char_boundary(end) {
            end -= 1;
        }
        detail.truncate(end);
        detail.push_str(" [...]");
    }
    detail
}

/// A descriptor string with the NumPy name of common dtypes, for error messages.
fn describe_dtype(descr: &str) -> String {
    let name = match descr.trim_start_matches(['<', '>', '|', '=']) {
        "f4" => "float32",
        "f8" => "float64",
        "e" => "float16 (byte order unspecified)",
        "i1" | "b" => "int8",
        "u1" | "B" => "uint8",
        "i2" => "int16",
        "i4" => "int32",
        "i8" => "int64",
        "u2" => "uint16",
        "u4" => "uint32",
        "u8" => "uint64",
        "b1" | "?" => "bool",
        _ => return descr.to_string(),
    };
    format!("{descr} ({name})")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::shape::Shape;
    use ndarray_npy::write_npy;

    fn small_shape() -> Shape {
        Shape::new(12, 6, 3)
    }

    /// A small random layer with hard binary16 and FP32 bit patterns planted in it.
    fn special_weights() -> HgfWeights {
        let mut w = HgfWeights::random(small_shape(), 7);
        let specials = [
            0x7e00u16, // quiet NaN
            0x7c01,    // signalling NaN with a payload
            0xfe55,    // negative NaN with a payload
            0x7c00,    // +inf
            0xfc00,    // -inf
            0x0001,    // smallest subnormal
            0x83ff,    // largest negative subnormal
            0x8000,    // -0
            0x7bff,    // largest finite
        ];
        for (i, &bits) in specials.iter().enumerate() {
            w.a[[i % 3, i]] = f16::from_bits(bits);
            w.b[[i % 6, i % 3]] = f16::from_bits(bits ^ 0x0100);
        }
        w.beta = f32::from_bits(0x0000_0001); // FP32 subnormal
        w.gate = -0.0;
        w
    }

    fn same_bits(a: &HgfWeights, b: &HgfWeights) -> bool {
        let bits = |x: &Array2<f16>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        a.t == b.t
            && a.beta.to_bits() == b.beta.to_bits()
            && a.gate.to_bits() == b.gate.to_bits()
            && a.a.dim() == b.a.dim()
            && a.b.dim() == b.b.dim()
            && bits(&a.a) == bits(&b.a)
            && bits(&a.b) == bits(&b.b)
    }

    /// One tensor as written: name, dtype, shape, little-endian data.
    type Raw = (String, Dtype, Vec<usize>, Vec<u8>);

    fn raw(name: &str, dtype: Dtype, shape: Vec<usize>, data: Vec<u8>) -> Raw {
        (name.to_string(), dtype, shape, data)
    }

    /// Writes a safetensors file holding exactly `tensors`.
    fn write_tensors(path: &Path, tensors: &[Raw]) {
        let views: Vec<_> = tensors
            .iter()
            .map(|(name, dtype, shape, data)| {
                (
                    name.as_str(),
                    TensorView::new(*dtype, shape.clone(), data).expect("consistent tensor"),
                )
            })
            .collect();
        fs::write(
            path,
            safetensors::serialize(views, None).expect("serialises"),
        )
        .expect("writes");
    }

    /// The tensors of a valid small layer, to be broken one at a time.
    fn valid_tensors() -> Vec<Raw> {
        let w = HgfWeights::random(small_shape(), 1);
        vec![
            raw(
                "T",
                Dtype::I8,
                vec![6, 12],
                w.t.iter().map(|&v| v as u8).collect(),
            ),
            raw("beta", Dtype::F32, vec![1], w.beta.to_le_bytes().to_vec()),
            raw(
                "A",
                Dtype::F16,
                vec![3, 12],
                w.a.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            raw(
                "B",
                Dtype::F16,
                vec![6, 3],
                w.b.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            raw("gate", Dtype::F32, vec![], w.gate.to_le_bytes().to_vec()),
        ]
    }

    fn load_modified(modify: impl FnOnce(&mut Vec<Raw>)) -> Result<HgfWeights, IoError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("w.safetensors");
        let mut tensors = valid_tensors();
        modify(&mut tensors);
        write_tensors(&path, &tensors);
        load_weights(&path)
    }

    fn set(tensors: &mut [Raw], name: &str, dtype: Dtype, shape: Vec<usize>, data: Vec<u8>) {
        let entry = tensors
            .iter_mut()
            .find(|t| t.0 == name)
            .expect("tensor exists");
        entry.1 = dtype;
        entry.2 = shape;
        entry.3 = data;
    }

    #[test]
    fn weights_round_trip_bit_exactly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("w.safetensors");
        let w = special_weights();
        save_weights(&path, &w).expect("saves");
        let back = load_weights(&path).expect("loads");
        assert!(same_bits(&w, &back), "{w:?}\n{back:?}");
    }

    #[test]
    fn valid_tensors_with_shape_one_scalars_load() {
        let w = load_modified(|_| {}).expect("a valid layer loads");
        assert_eq!(w.shape(), (12, 6, 3));
    }

    #[test]
    fn extra_tensors_are_ignored() {
        let w = load_modified(|t| t.push(raw("other", Dtype::F64, vec![2], vec![0; 16])));
        assert!(w.is_ok(), "{w:?}");
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("absent.safetensors");
        let err = load_weights(&path).unwrap_err();
        assert!(matches!(err, IoError::Read { .. }), "{err:?}");
        assert!(err.to_string().contains("absent.safetensors"), "{err}");
        assert_eq!(err.path(), path);
    }

    #[test]
    fn truncated_and_foreign_files_are_safetensors_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("w.safetensors");
        save_weights(&path, &special_weights()).expect("saves");
        let bytes = fs::read(&path).expect("reads");
        for cut in [0, 4, 8, 20, bytes.len() / 2, bytes.len() - 1] {
            fs::write(&path, &bytes[..cut]).expect("writes");
            let err = load_weights(&path).unwrap_err();
            assert!(
                matches!(err, IoError::SafeTensors { .. }),
                "cut {cut}: {err:?}"
            );
            assert!(err.to_string().contains("w.safetensors"), "{err}");
        }
        fs::write(&path, b"this is a text file, not a layer\n").expect("writes");
        let err = load_weights(&path).unwrap_err();
        assert!(matches!(err, IoError::SafeTensors { .. }), "{err:?}");
    }

    #[test]
    fn absurd_offsets_are_rejected_without_overflow() {
        // Eight tensors of 2^61 - 1 bytes each pass safetensors' per-tensor checks, but their
        // total overflows when safetensors adds the header length.
        let size: u64 = (1 << 61) - 1;
        let mut header = serde_json::Map::new();
        for i in 0..8u64 {
            header.insert(
                format!("t{i}"),
                serde_json::json!({
                    "dtype": "U8",
                    "shape": [size],
                    "data_offsets": [i * size, (i + 1) * size],
                }),
            );
        }
        let mut json = serde_json::Value::Object(header).to_string().into_bytes();
        json.resize(json.len().next_multiple_of(8), b' ');
        let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
        bytes.extend(json);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("w.safetensors");
        fs::write(&path, bytes).expect("writes");
        let err = load_weights(&path).unwrap_err();
        assert!(matches!(err, IoError::SafeTensors { .. }), "{err:?}");
    }

    #[test]
    fn missing_tensor_is_named_with_what_the_file_has() {
        let err = load_modified(|t| t.retain(|t| t.0 != "A")).unwrap_err();
        assert!(
            matches!(err, IoError::MissingTensor { tensor: "A", .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("`A`") && msg.contains("B, T, beta, gate"),
            "{msg}"
        );
    }

    #[test]
    fn a_missing_tensor_in_a_large_checkpoint_lists_a_few_names() {
        let err = load_modified(|t| {
            t.retain(|t| t.0 != "A");
            for i in 0..100 {
                t.push(raw(&format!("layer{i:03}"), Dtype::U8, vec![1], vec![0]));
            }
        })
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("(104 tensors)") && !msg.contains("layer099"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_dtype_names_expected_and_found() {
        let err = load_modified(|t| set(t, "T", Dtype::F32, vec![6, 12], vec![0; 6 * 12 * 4]))
            .unwrap_err();
        assert!(
            matches!(
                err,
                IoError::Dtype {
                    tensor: "T",
                    expected: Dtype::I8,
                    got: Dtype::F32,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("F32") && err.to_string().contains("I8"));
        let err = load_modified(|t| set(t, "gate", Dtype::F16, vec![], vec![0; 2])).unwrap_err();
        assert!(
            matches!(err, IoError::Dtype { tensor: "gate", .. }),
            "{err:?}"
        );
    }

    #[test]
    fn wrong_rank_or_scalar_shape_is_a_shape_error() {
        let err = load_modified(|t| set(t, "T", Dtype::I8, vec![72], vec![0; 72])).unwrap_err();
        assert!(matches!(err, IoError::Shape { tensor: "T", .. }), "{err:?}");
        assert!(err.to_string().contains("[72]"), "{err}");
        let err =
            load_modified(|t| set(t, "A", Dtype::F16, vec![3, 12, 1], vec![0; 72])).unwrap_err();
        assert!(matches!(err, IoError::Shape { tensor: "A", .. }), "{err:?}");
        let err = load_modified(|t| set(t, "beta", Dtype::F32, vec![2], vec![0; 8])).unwrap_err();
        assert!(
            matches!(err, IoError::Shape { tensor: "beta", .. }),
            "{err:?}"
        );
    }

    #[test]
    fn inconsistent_shapes_are_weights_errors() {
        let err = load_modified(|t| set(t, "A", Dtype::F16, vec![3, 11], vec![0; 66])).unwrap_err();
        assert!(
            matches!(
                err,
                IoError::Weights {
                    error: WeightsError::Disagree { .. },
                    ..
                }
            ),
            "{err:?}"
        );
    }

    // See: issue #17 (with T cut to fewer columns, the error blamed A).
    #[test]
    fn a_size_two_tensors_disagree_on_names_both_and_an_odd_tensor_alone() {
        // T is [6, 12], A [3, 12], B [6, 3] in the valid file. T cut to 11 columns: T and A
        // disagree on d_in, and nothing says which is wrong; the message names both.
        let err = load_modified(|t| set(t, "T", Dtype::I8, vec![6, 11], vec![0; 66])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("tensors `T` (shape [6, 11]) and `A` (shape [3, 12]) disagree on d_in")
                && text.contains("T says 11, A says 12"),
            "{text}"
        );
        // T transposed disagrees with A on d_in and with B on d_out: T alone is named.
        let err = load_modified(|t| set(t, "T", Dtype::I8, vec![12, 6], vec![0; 72])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("tensor `T` has shape [12, 6]; expected [6, 12]"),
            "{text}"
        );
        // B with the wrong rank and d_out: B alone.
        let err = load_modified(|t| set(t, "B", Dtype::F16, vec![5, 2], vec![0; 20])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("tensor `B` has shape [5, 2]; expected [6, 3]"),
            "{text}"
        );
    }

    // See: issue #17 (safetensors' "invalid shape, data type, or offset for tensor" named none).
    #[test]
    fn a_header_whose_offsets_do_not_match_the_shape_names_the_tensor() {
        let mut tensors = valid_tensors();
        // A claims 3 x 13 values but keeps its 3 x 12 data.
        set(&mut tensors, "A", Dtype::F16, vec![3, 12], vec![0; 72]);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("w.safetensors");
        write_tensors(&path, &tensors);
        let bytes = fs::read(&path).expect("reads");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let patched = text.replacen("\"shape\":[3,12]", "\"shape\":[3,13]", 1);
        assert_ne!(patched, text, "the header has A's shape");
        fs::write(&path, patched.as_bytes()).expect("writes");
        let err = load_weights(&path).unwrap_err().to_string();
        assert!(
            err.contains("tensor `A`") && err.contains("[3, 13]"),
            "{err}"
        );
    }

    #[test]
    fn non_trit_is_reported_with_row_and_column() {
        let err = load_modified(|t| {
            let data = &mut t[0].3;
            data[12 + 5] = 2;
        })
        .unwrap_err();
        assert!(
            matches!(
                err,
                IoError::Weights {
                    error: WeightsError::TritOutOfRange {
                        row: 1,
                        col: 5,
                        value: 2
                    },
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("[1, 5]"), "{err}");
    }

    #[test]
    fn non_finite_beta_and_gate_are_rejected() {
        for (name, value) in [("beta", f32::NAN), ("gate", f32::INFINITY)] {
            let err =
                load_modified(|t| set(t, name, Dtype::F32, vec![], value.to_le_bytes().to_vec()))
                    .unwrap_err();
            assert!(
                matches!(
                    &err,
                    IoError::Weights { error: WeightsError::NotFinite { name: n, .. }, .. }
                        if *n == name
                ),
                "{err:?}"
            );
        }
    }

    /// Every binary16 bit pattern, as a 256 x 256 token matrix.
    fn every_f16() -> Array2<f16> {
        Array2::from_shape_fn((256, 256), |(i, j)| f16::from_bits((i * 256 + j) as u16))
    }

    fn bits(x: &Array2<f16>) -> Vec<u16> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn tokens_round_trip_every_bit_pattern() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.npy");
        let x = every_f16();
        save_tokens(&path, x.view()).expect("saves");
        let back = load_tokens(&path).expect("loads");
        assert_eq!(back.dim(), x.dim());
        assert_eq!(bits(&back), bits(&x));
        // The header is what NumPy expects for float16.
        let bytes = fs::read(&path).expect("reads");
        let text = String::from_utf8_lossy(&bytes[..128]);
        assert!(text.contains("'descr': '<f2'"), "{text}");
    }

    #[test]
    fn tokens_round_trip_a_transposed_view_and_empty_matrices() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.npy");
        let x = Array2::from_shape_fn((3, 5), |(i, j)| f16::from_f32((i * 10 + j) as f32));
        save_tokens(&path, x.t()).expect("saves");
        let back = load_tokens(&path).expect("loads");
        assert_eq!(back, x.t().to_owned());
        let empty = Array2::from_elem((0, 7), f16::ZERO);
        save_tokens(&path, empty.view()).expect("saves");
        assert_eq!(load_tokens(&path).expect("loads").dim(), (0, 7));
    }

    /// Writes a .npy file with the given header fields and raw data bytes.
    fn write_raw_npy(path: &Path, descr: &str, fortran: bool, shape: &[usize], data: &[u8]) {
        let header = Header {
            type_descriptor: format!("'{descr}'").parse().expect("a Python string"),
            layout: if fortran {
                Layout::Fortran
            } else {
                Layout::Standard
            },
            shape: shape.to_vec(),
        };
        let mut bytes = header.to_bytes().expect("formats");
        bytes.extend_from_slice(data);
        fs::write(path, bytes).expect("writes");
    }

    #[test]
    fn fortran_order_and_big_endian_files_read_correctly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.npy");
        let x = Array2::from_shape_fn((2, 3), |(i, j)| f16::from_bits((0x100 * i + j) as u16));
        let column_major: Vec<u8> = x.t().iter().flat_map(|v| v.to_le_bytes()).collect();
        write_raw_npy(&path, "<f2", true, &[2, 3], &column_major);
        assert_eq!(bits(&load_tokens(&path).expect("loads")), bits(&x));
        let big: Vec<u8> = x.iter().flat_map(|v| v.to_be_bytes()).collect();
        write_raw_npy(&path, ">f2", false, &[2, 3], &big);
        assert_eq!(bits(&load_tokens(&path).expect("loads")), bits(&x));
    }

    #[test]
    fn other_dtypes_are_rejected_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.npy");
        write_npy(&path, &Array2::<f32>::zeros((2, 3))).expect("writes");
        let err = load_tokens(&path).unwrap_err();
        assert!(matches!(err, IoError::NpyDtype { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("expected dtype f16 (<f2), found <f4 (float32)"),
            "{err}"
        );
        write_raw_npy(&path, "<u2", false, &[1, 1], &[0, 0]);
        let err = load_tokens(&path).unwrap_err();
        assert!(err.to_string().contains("<u2 (uint16)"), "{err}");
    }

    #[test]
    fn one_and_three_dimensional_arrays_are_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.npy");
        for shape in [&[4][..], &[2, 2, 1][..], &[][..]] {
            let n: usize = shape.iter().product();
            write_raw_npy(&path, "<f2", false, shape, &vec![0; 2 * n]);
            let err = load_tokens(&path).unwrap_err();
            assert!(matches!(err, IoError::NpyRank { .. }), "{shape:?}: {err:?}");
            assert!(err.to_string().contains("2-D"), "{err}");
        }
    }

    #[test]
    fn short_or_long_data_is_a_length_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.npy");
        for (len, word) in [(10, "truncated"), (14, "trailing")] {
            write_raw_npy(&path, "<f2", false, &[2, 3], &vec![0; len]);
            let err = load_tokens(&path).unwrap_err();
            assert!(
                matches!(
                    err,
                    IoError::NpyDataLength {
                        expected: 12,
                        found,
                        ..
                    } if found == len
                ),
                "{err:?}"
            );
            assert!(err.to_string().contains(word), "{err}");
        }
        // A header whose shape needs more bytes than exist in memory.
        write_raw_npy(&path, "<f2", false, &[usize::MAX / 2, 3], &[]);
        let err = load_tokens(&path).unwrap_err();
        assert!(matches!(err, IoError::NpyHeader { .. }), "{err:?}");
    }

    #[test]
    fn truncated_or_foreign_headers_are_header_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.npy");
        save_tokens(&path, every_f16().view()).expect("saves");
        let bytes = fs::read(&path).expect("reads");
        for cut in [0, 3, 6, 8, 9, 40] {
            fs::write(&path, &bytes[..cut]).expect("writes");
            let err = load_tokens(&path).unwrap_err();
            assert!(
                matches!(err, IoError::NpyHeader { .. }),
                "cut {cut}: {err:?}"
            );
            assert!(err.to_string().contains("truncated"), "cut {cut}: {err}");
        }
        fs::write(&path, b"x,y\n1,2\n").expect("writes");
        let err = load_tokens(&path).unwrap_err();
        assert!(matches!(err, IoError::NpyHeader { .. }), "{err:?}");
        // Version 2 announcing a 4 GiB header in a 12-byte file.
        fs::write(&path, b"\x93NUMPY\x02\x00\xff\xff\xff\xff").expect("writes");
        let err = load_tokens(&path).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn a_deeply_nested_header_is_a_short_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.npy");
        let n = 20_000;
        let mut dict = format!(
            "{{'descr': '<f2', 'fortran_order': False, 'shape': {}{}, }}",
            "(".repeat(n),
            ")".repeat(n)
        );
        dict.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&u16::try_from(dict.len()).expect("fits").to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        fs::write(&path, bytes).expect("writes");
        let err = load_tokens(&path).unwrap_err();
        assert!(matches!(err, IoError::NpyHeader { .. }), "{err:?}");
        assert!(err.to_string().len() < 2 * MAX_DETAIL, "{err}");
    }

    #[test]
    fn missing_tokens_file_is_a_read_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = load_tokens(dir.path().join("absent.npy")).unwrap_err();
        assert!(matches!(err, IoError::Read { .. }), "{err:?}");
        assert!(err.to_string().contains("absent.npy"), "{err}");
    }

    #[test]
    fn unwritable_path_is_a_write_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("no-such-dir").join("x.npy");
        let err = save_tokens(&path, every_f16().view()).unwrap_err();
        assert!(matches!(err, IoError::Write { .. }), "{err:?}");
        let err = save_weights(&path, &special_weights()).unwrap_err();
        assert!(matches!(err, IoError::Write { .. }), "{err:?}");
    }
}
