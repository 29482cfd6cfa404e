//! One HGF projection end to end: `y = BitLinear(x) + g * B(A x)` per token (§1).

use half::f16;
use ndarray::{Array2, ArrayView2};

use crate::config::HgfConfig;
use crate::gate::{gate, ternary_only};
use crate::lowrank::{project_down, project_up};
use crate::quantize::activation_quantize;
use crate::ternary::{dequant_factor, dequantize, ternary_accumulate};
use crate::weights::{HgfWeights, WeightsError};

/// The golden model of one projection engine: the weights plus the config whose `fp_lanes`
/// fixes the summation order of `A x` (§L2).
#[derive(Clone, Debug)]
pub struct HgfProjection {
    cfg: HgfConfig,
    weights: HgfWeights,
}

/// Every intermediate value of one token, stage by stage, so that a mismatch can be traced to
/// the first stage that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenTrace {
    /// Absmax with its floor (§Q1).
    pub m: f32,
    /// Quantization scale (§Q2).
    pub s: f32,
    /// Quantized activations (§Q3).
    pub q: Vec<i8>,
    /// Ternary accumulators (§T1).
    pub acc: Vec<i32>,
    /// Dequantization factor (§T3).
    pub k: f32,
    /// Dequantized ternary outputs (§T3).
    pub yt: Vec<f32>,
    /// Down projection, binary16 (§L4).
    pub u: Vec<f16>,
    /// Up projection, FP32 (§L5).
    pub v: Vec<f32>,
    /// Outputs (§G1).
    pub y: Vec<f16>,
}

impl HgfProjection {
    /// Checks that the weights are valid and that the engine `cfg` runs their shape.
    pub fn new(cfg: &HgfConfig, weights: HgfWeights) -> Result<Self, WeightsError> {
        weights.validate_for(cfg)?;
        Ok(HgfProjection {
            cfg: cfg.clone(),
            weights,
        })
    }

    pub fn config(&self) -> &HgfConfig {
        &self.cfg
    }

    pub fn weights(&self) -> &HgfWeights {
        &self.weights
    }

    /// Runs one token (`d_in` values) and keeps every intermediate.
    pub fn run_token(&self, x: &[f16]) -> TokenTrace {
        assert_eq!(x.len(), self.weights.t.ncols(), "a token has d_in values");
        run_projection(&self.weights, self.cfg.fp_lanes, x)
    }

    /// Outputs of one token.
    pub fn forward(&self, x: &[f16]) -> Vec<f16> {
        self.run_token(x).y
    }

    /// Outputs of many tokens: `x` is `tokens x d_in`, the result `tokens x d_out`.
    pub fn run(&self, x: ArrayView2<'_, f16>) -> Array2<f16> {
        let (d_in, d_out, _) = self.weights.shape();
        assert_eq!(x.ncols(), d_in, "x has d_in columns");
        let mut y = Array2::from_elem((x.nrows(), d_out), f16::ZERO);
        for (xr, mut yr) in x.rows().into_iter().zip(y.rows_mut()) {
            let out = self.forward(&xr.to_vec());
            yr.iter_mut().zip(out).for_each(|(d, v)| *d = v);
        }
        y
    }
}

/// One token through one projection (§1): the computation of [`HgfProjection::run_token`]
/// without a config, for callers (the transformer) that hold only the weights and the
/// engine's `fp_lanes`. A rank-0 projection (empty `A` and `B`) is ternary-only: its output is
/// `binary16(yt_j)` (§G2), and `u` and `v` are empty.
pub fn run_projection(w: &HgfWeights, fp_lanes: usize, x: &[f16]) -> TokenTrace {
    assert_eq!(x.len(), w.t.ncols(), "a token has d_in values");
    let qt = activation_quantize(x);
    let acc = ternary_accumulate(w.t.view(), &qt.q);
    let k = dequant_factor(w.beta, qt.s);
    let yt: Vec<f32> = acc.iter().map(|&a| dequantize(a, k)).collect();
    let (u, v, y) = if w.a.nrows() == 0 {
        let y = yt.iter().map(|&t| ternary_only(t)).collect();
        (Vec::new(), Vec::new(), y)
    } else {
        let u = project_down(w.a.view(), x, fp_lanes);
        let v = project_up(w.b.view(), &u);
        let y = yt
            .iter()
            .zip(&v)
            .map(|(&t, &c)| gate(t, w.gate, c))
            .collect();
        (u, v, y)
    };
    TokenTrace {
        m: qt.m,
        s: qt.s,
        q: qt.q,
        acc,
        k,
        yt,
        u,
        v,
        y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fp::f32_to_f16;

    #[test]
    fn rank_zero_is_the_rounded_ternary_output() {
        let mut w = HgfWeights::random(crate::shape::Shape::new(8, 3, 0), 4);
        w.gate = -0.5;
        w.t.fill(0);
        w.validate().expect("rank 0 is valid");
        let x: Vec<f16> = (0..8).map(|i| f16::from_f32(i as f32 - 3.5)).collect();
        let trace = run_projection(&w, 2, &x);
        assert!(trace.u.is_empty() && trace.v.is_empty());
        let expected: Vec<f16> = trace.yt.iter().map(|&t| f32_to_f16(t)).collect();
        assert_eq!(trace.y, expected);
        // Every trit 0: acc = 0 and yt = fl32(0 * k) takes the sign of k, that is of beta. A
        // negative beta gives -0, which §G2 keeps (and §G1 with this negative gate would not).
        w.beta = -0.25;
        let y = run_projection(&w, 2, &x).y;
        assert!(
            y.iter().all(|v| v.to_bits() == 0x8000),
            "-0 stays -0: {y:?}"
        );
    }
}
