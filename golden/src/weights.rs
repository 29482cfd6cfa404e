//! The parameters of one HGF projection: ternary T with its scale beta, the low-rank factors
//! A and B, and the gate g (docs/arithmetic.md §1).

use half::f16;
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

use crate::config::HgfConfig;
use crate::shape::{Shape, ShapeError};

/// The parameters of one projection.
#[derive(Clone, Debug, PartialEq)]
pub struct HgfWeights {
    /// Ternary weights, `d_out x d_in`, every value in {-1, 0, 1}.
    pub t: Array2<i8>,
    /// Per-matrix FP32 scale of T (BitNet's beta = mean |W|). Finite.
    pub beta: f32,
    /// Down projection, `rank x d_in`, binary16.
    pub a: Array2<f16>,
    /// Up projection, `d_out x rank`, binary16.
    pub b: Array2<f16>,
    /// Effective gate value (any sigmoid or clamp already applied). Finite.
    pub gate: f32,
}

/// Why a set of weights does not fit a config, or is not a valid HGF layer.
#[derive(Debug, Error, PartialEq)]
pub enum WeightsError {
    #[error("tensor `{tensor}` has shape {got:?}; expected {expected:?}{}", reason_suffix(.reason))]
    Shape {
        tensor: &'static str,
        got: Vec<usize>,
        expected: Vec<usize>,
        reason: &'static str,
    },
    /// Two tensors that hold the same size disagree on it (which one is wrong cannot be told).
    #[error(
        "tensors `{first}` (shape {first_shape:?}) and `{second}` (shape {second_shape:?}) \
         disagree on {size}: {first} says {}, {second} says {}",
        size_in(size, first, *first_shape),
        size_in(size, second, *second_shape)
    )]
    Disagree {
        size: &'static str,
        first: &'static str,
        first_shape: [usize; 2],
        second: &'static str,
        second_shape: [usize; 2],
    },
    #[error("tensor `T` holds {value} at [{row}, {col}]; allowed values: -1, 0, 1")]
    TritOutOfRange { row: usize, col: usize, value: i8 },
    #[error("scalar `{name}` is {value}; it must be finite")]
    NotFinite { name: &'static str, value: f32 },
    #[error(transparent)]
    NotRunnable(#[from] ShapeError),
}

/// The size `size` (d_in, d_out or rank) as the tensor `tensor` of shape `shape` holds it:
/// d_in is the columns of T and A, d_out the rows of T and B, rank the rows of A and the
/// columns of B.
fn size_in(size: &str, tensor: &str, shape: [usize; 2]) -> usize {
    match (size, tensor) {
        ("d_in", _) | ("rank", "B") => shape[1],
        _ => shape[0],
    }
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    }
}

impl HgfWeights {
    /// The layer shape `(d_in, d_out, rank)` these weights describe.
    pub fn shape(&self) -> (usize, usize, usize) {
        (self.t.ncols(), self.t.nrows(), self.a.nrows())
    }

    /// Checks internal consistency: A and B agree with T on d_in, d_out and rank, every T value
    /// is a trit, and beta and g are finite. Rank 0 (A `0 x d_in`, B `d_out x 0`) is a
    /// ternary-only projection (arithmetic.md §G2).
    ///
    /// Each size is held by two tensors (d_in: T's and A's columns; d_out: T's and B's rows;
    /// rank: A's rows and B's columns). A tensor that disagrees with both others is named
    /// alone; where only one size disagrees, nothing says which of its two holders is wrong,
    /// so both are named with what each says.
    pub fn validate(&self) -> Result<(), WeightsError> {
        let sizes = [
            ("d_in", ("T", self.t.ncols()), ("A", self.a.ncols())),
            ("d_out", ("T", self.t.nrows()), ("B", self.b.nrows())),
            ("rank", ("A", self.a.nrows()), ("B", self.b.ncols())),
        ];
        let disagreeing: Vec<_> = sizes.iter().filter(|(_, x, y)| x.1 != y.1).collect();
        let shape_of = |tensor: &str| match tensor {
            "T" => self.t.shape().to_vec(),
            "A" => self.a.shape().to_vec(),
            _ => self.b.shape().to_vec(),
        };
        match disagreeing[..] {
            [] => {}
            [&(size, (first, _), (second, _))] => {
                let dims = |tensor: &str| {
                    let shape = shape_of(tensor);
                    [shape[0], shape[1]]
                };
                return Err(WeightsError::Disagree {
                    size,
                    first,
                    first_shape: dims(first),
                    second,
                    second_shape: dims(second),
                });
            }
            _ => {
                // Two or three sizes disagree: the tensor in every disagreement is the odd one.
                let odd = ["T", "A", "B"]
                    .into_iter()
                    .find(|t| disagreeing.iter().all(|(_, x, y)| x.0 == *t || y.0 == *t))
                    .unwrap_or("T");
                let (d_in, d_out, rank) = match odd {
                    "T" => (self.a.ncols(), self.b.nrows(), self.a.nrows()),
                    "A" => (self.t.ncols(), self.t.nrows(), self.b.ncols()),
                    _ => (self.t.ncols(), self.t.nrows(), self.a.nrows()),
                };
                let (expected, reason) = match odd {
                    "T" => (
                        vec![d_out, d_in],
                        "d_out from B's rows, d_in from A's columns",
                    ),
                    "A" => (
                        vec![rank, d_in],
                        "rank from B's columns, d_in from T's columns",
                    ),
                    _ => (vec![d_out, rank], "d_out from T's rows, rank from A's rows"),
                };
                return Err(WeightsError::Shape {
                    tensor: odd,
                    got: shape_of(odd),
                    expected,
                    reason,
                });
            }
        }
        if let Some(((row, col), &value)) =
            self.t.indexed_iter().find(|(_, &v)| !(-1..=1).contains(&v))
        {
            return Err(WeightsError::TritOutOfRange { row, col, value });
        }
        for (name, value) in [("beta", self.beta), ("gate", self.gate)] {
            if !value.is_finite() {
                return Err(WeightsError::NotFinite { name, value });
            }
        }
        Ok(())
    }

    /// The weights' projection shape.
    pub fn projection_shape(&self) -> Shape {
        let (d_in, d_out, rank) = self.shape();
        Shape::new(d_in, d_out, rank)
    }

    /// Checks the weights and that the engine `cfg` runs their shape (within its maxima).
    pub fn validate_for(&self, cfg: &HgfConfig) -> Result<(), WeightsError> {
        self.validate()?;
        cfg.check_shape(self.projection_shape())?;
        Ok(())
    }

    /// A random layer of `shape`, reproducible from `seed`.
    ///
    /// T has about one third of each trit; beta is near BitNet's typical mean |W|; A and B are
    /// non-zero (unlike a LoRA init) so that the low-rank path is exercised; g is near the
    /// paper's trained equilibrium of 0.1.
    pub fn random(shape: Shape, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let t = Array2::from_shape_fn((shape.d_out, shape.d_in), |_| rng.random_range(-1i8..=1));
        let beta = rng.random_range(0.005f32..0.05);
        let a_scale = 1.0 / (shape.d_in as f32).sqrt();
        let a = Array2::from_shape_fn((shape.rank, shape.d_in), |_| {
            f16::from_f32(rng.random_range(-a_scale..a_scale))
        });
        let b_scale = 1.0 / (shape.rank.max(1) as f32).sqrt();
        let b = Array2::from_shape_fn((shape.d_out, shape.rank), |_| {
            f16::from_f32(rng.random_range(-b_scale..b_scale))
        });
        let gate = rng.random_range(0.05f32..0.2);
        HgfWeights {
            t,
            beta,
            a,
            b,
            gate,
        }
    }
}

/// Random activations, `tokens x d_in`, reproducible from `seed`: roughly unit-normal-sized
/// values with an occasional outlier, as activations after an RMSNorm look.
pub fn random_tokens(d_in: usize, tokens: usize, seed: u64) -> Array2<f16> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15);
    Array2::from_shape_fn((tokens, d_in), |_| {
        let outlier = rng.random_bool(0.01);
        let v: f32 = rng.random_range(-2.0..2.0);
        f16::from_f32(if outlier { v * 8.0 } else { v })
    })
}

/// Six tokens with the edges of the contract, reproducible from `seed`: all zeros, a NaN, a
/// negative infinity, subnormals (`1, 2, 3, ...` as bit patterns, while `d_in < 1024`), huge
/// values next to small ones (60000 and -3), and a random one; the others random around them.
pub fn edge_tokens(d_in: usize, seed: u64) -> Array2<f16> {
    let mut x = random_tokens(d_in, 6, seed);
    x.row_mut(0).fill(f16::ZERO);
    x[[1, d_in / 2]] = f16::NAN;
    x[[2, 0]] = f16::NEG_INFINITY;
    x.row_mut(3)
        .iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = f16::from_bits(1 + i as u16));
    x.row_mut(4)
        .iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = f16::from_f32(if i % 2 == 0 { 60000.0 } else { -3.0 }));
    x
}
