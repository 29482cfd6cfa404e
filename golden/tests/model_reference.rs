//! The golden transformer against an independent float reference (docs/model.md §M11).
//!
//! The reference below is written for this test: plain f64 arithmetic with `std`'s exp, sin,
//! cos, sqrt and powf, the same network and weights, and the model's storage formats
//! (binary16 where §M5 stores a value, int8 quantization inside the projections). It shares
//! only the checkpoint types with the golden model. Models are random, of both attention
//! kinds; the golden model generates greedily and the reference is fed the golden tokens
//! (teacher forcing), so the two are compared position by position.

use half::f16;
use hgf_golden::model::{
    random_checkpoint, AttentionKind, Checkpoint, GoldenBackend, ModelConfig, ProjectionKind,
    Sampling, Transformer,
};
use hgf_golden::HgfWeights;

/// The logit tolerance of §M11: `2^-6 * max|ref| + 2^-12`.
const LOGIT_TOLERANCE: f64 = 1.0 / 64.0;
const LOGIT_FLOOR: f64 = 1.0 / 4096.0;
/// The median over positions of `max_j |logit_j - ref_j| / max_j |ref_j|` (§M11): most
/// positions see no discontinuity event and keep the binary32-level error.
const MEDIAN_TOLERANCE: f64 = 1.0 / 4096.0;
/// The greedy agreement §M11 requires.
const MIN_AGREEMENT: f64 = 0.99;

fn h16(x: f64) -> f64 {
    f16::from_f64(x).to_f64()
}

fn rmsnorm(x: &[f64], w: &[f32], eps: f32) -> Vec<f64> {
    let ms = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
    let r = 1.0 / (ms + eps as f64).sqrt();
    x.iter().zip(w).map(|(v, &wi)| v * r * wi as f64).collect()
}

/// arithmetic.md §1 in real arithmetic: absmax quantization to int8 (ties to even), the exact
/// ternary sum, the low-rank path with its binary16 `u`, and the binary16 output.
fn projection(w: &HgfWeights, x: &[f64]) -> Vec<f64> {
    let m = x
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-5f32 as f64);
    let q: Vec<f64> = x
        .iter()
        .map(|v| (v * 127.0 / m).round_ties_even().clamp(-128.0, 127.0))
        .collect();
    let u: Vec<f64> =
        w.a.rows()
            .into_iter()
            .map(|row| h16(row.iter().zip(x).map(|(a, xi)| a.to_f64() * xi).sum()))
            .collect();
    w.t.rows()
        .into_iter()
        .zip(w.b.rows())
        .map(|(trow, brow)| {
            let acc: f64 = trow.iter().zip(&q).map(|(&t, qi)| t as f64 * qi).sum();
            let yt = acc * m / 127.0 * w.beta as f64;
            let v: f64 = brow.iter().zip(&u).map(|(b, ui)| b.to_f64() * ui).sum();
            h16(yt + w.gate as f64 * v)
        })
        .collect()
}

struct Reference<'a> {
    ck: &'a Checkpoint,
    keys: Vec<Vec<Vec<f64>>>,
    values: Vec<Vec<Vec<f64>>>,
}

impl<'a> Reference<'a> {
    fn new(ck: &'a Checkpoint) -> Self {
        let n = ck.config.n_layers;
        Reference {
            ck,
            keys: vec![Vec::new(); n],
            values: vec![Vec::new(); n],
        }
    }

    fn rope(&self, x: &[f64], p: usize) -> Vec<f64> {
        let cfg = &self.ck.config;
        let d = cfg.head_dim;
        let mut out = x.to_vec();
        for (h, head) in x.chunks(d).enumerate() {
            for i in 0..d / 2 {
                let theta = p as f64 * (cfg.rope_base as f64).powf(-((2 * i) as f64) / d as f64);
                let (s, c) = theta.sin_cos();
                out[h * d + 2 * i] = head[2 * i] * c - head[2 * i + 1] * s;
                out[h * d + 2 * i + 1] = head[2 * i] * s + head[2 * i + 1] * c;
            }
        }
        out
    }

    /// Softmax-weighted values of query `q` against key head `kh` and the values at
    /// `voff .. voff + width` of every cached position.
    fn attend_head(&self, l: usize, q: &[f64], kh: usize, voff: usize, width: usize) -> Vec<f64> {
        let d = q.len();
        let scale = 1.0 / (d as f64).sqrt();
        let scores: Vec<f64> = self.keys[l]
            .iter()
            .map(|k| {
                q.iter()
                    .zip(&k[kh * d..(kh + 1) * d])
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
                    * scale
            })
            .collect();
        let mx = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = scores.iter().map(|s| (s - mx).exp()).collect();
        let sum: f64 = e.iter().sum();
        (0..width)
            .map(|i| {
                e.iter()
                    .zip(&self.values[l])
                    .map(|(et, v)| et / sum * v[voff + i])
                    .sum()
            })
            .collect()
    }

    /// Logits of `token` at the next position.
    fn step(&mut self, token: usize) -> Vec<f64> {
        let ck = self.ck;
        let cfg = &ck.config;
        let p = self.keys[0].len();
        let (d, g) = (cfg.head_dim, cfg.n_heads / cfg.n_kv_heads);
        let mut h: Vec<f64> = ck
            .params
            .embed
            .row(token)
            .iter()
            .map(|v| v.to_f64())
            .collect();
        for (l, layer) in ck.params.layers.iter().enumerate() {
            let proj = |kind: ProjectionKind, x: &[f64]| projection(layer.projection(kind), x);
            let a: Vec<f64> = rmsnorm(&h, &layer.attn_norm, cfg.norm_eps)
                .into_iter()
                .map(h16)
                .collect();
            let q = self.rope(&proj(ProjectionKind::Q, &a), p);
            let k: Vec<f64> = self
                .rope(&proj(ProjectionKind::K, &a), p)
                .into_iter()
                .map(h16)
                .collect();
            self.keys[l].push(k);
            self.values[l].push(proj(ProjectionKind::V, &a));
            let mut c = Vec::new();
            for hd in 0..cfg.n_heads {
                let j = hd / g;
                match cfg.attention {
                    AttentionKind::Standard => {
                        c.extend(
                            self.attend_head(l, &q[hd * d..(hd + 1) * d], j, j * d, d)
                                .into_iter()
                                .map(h16),
                        );
                    }
                    AttentionKind::Differential => {
                        let diff = layer.diff.as_ref().unwrap();
                        let o1 = self.attend_head(
                            l,
                            &q[2 * hd * d..(2 * hd + 1) * d],
                            2 * j,
                            2 * j * d,
                            2 * d,
                        );
                        let o2 = self.attend_head(
                            l,
                            &q[(2 * hd + 1) * d..(2 * hd + 2) * d],
                            2 * j + 1,
                            2 * j * d,
                            2 * d,
                        );
                        let out: Vec<f64> = o1
                            .iter()
                            .zip(&o2)
                            .map(|(a, b)| a - diff.lambda as f64 * b)
                            .collect();
                        let y = rmsnorm(&out, &diff.subln, cfg.norm_eps);
                        c.extend(
                            y.into_iter()
                                .map(|v| h16(v * (1.0 - diff.lambda_init as f64))),
                        );
                    }
                }
            }
            let o = proj(ProjectionKind::O, &c);
            h.iter_mut().zip(&o).for_each(|(hi, oi)| *hi += oi);
            let f: Vec<f64> = rmsnorm(&h, &layer.ffn_norm, cfg.norm_eps)
                .into_iter()
                .map(h16)
                .collect();
            let g1 = proj(ProjectionKind::Gate, &f);
            let u1 = proj(ProjectionKind::Up, &f);
            let m: Vec<f64> = g1
                .iter()
                .zip(&u1)
                .map(|(gv, uv)| h16(gv / (1.0 + (-gv).exp()) * uv))
                .collect();
            let dn = proj(ProjectionKind::Down, &m);
            h.iter_mut().zip(&dn).for_each(|(hi, di)| *hi += di);
        }
        let zf: Vec<f64> = rmsnorm(&h, &ck.params.final_norm, cfg.norm_eps)
            .into_iter()
            .map(h16)
            .collect();
        head_logits(ck, &zf)
    }
}

fn head_logits(ck: &Checkpoint, z: &[f64]) -> Vec<f64> {
    ck.params
        .head
        .rows()
        .into_iter()
        .map(|row| row.iter().zip(z).map(|(w, zi)| w.to_f64() * zi).sum())
        .collect()
}

/// The golden greedy choice (§M8's rule).
fn greedy(v: &[f32]) -> usize {
    (1..v.len()).fold(0, |b, j| if v[j] > v[b] { j } else { b })
}

fn argmax(v: &[f64]) -> usize {
    (1..v.len()).fold(0, |b, j| if v[j] > v[b] { j } else { b })
}

fn config(attention: AttentionKind) -> ModelConfig {
    let name = match attention {
        AttentionKind::Standard => "tiny",
        AttentionKind::Differential => "tiny-diff",
    };
    ModelConfig {
        context_len: 256,
        ..ModelConfig::builtin(name).unwrap()
    }
}

/// Generates 255 tokens from a one-token prompt and compares every position. The sequence is
/// sampled (temperature 1, seeded) so that a random model's text does not settle into a
/// loop of one token; at every position the greedy choices (argmax) of the golden logits and
/// of the reference's, fed the same tokens, are compared.
/// Returns (greedy agreements, worst logit error / tolerance, relative error per position).
fn compare(attention: AttentionKind, seed: u64) -> (usize, f64, Vec<f64>) {
    let cfg = config(attention);
    let ck = random_checkpoint(&cfg, seed);
    let model = Transformer::new(ck.config.clone(), ck.params.clone());
    let n = cfg.context_len - 1;
    let golden = model
        .generate(
            &[0],
            n,
            Sampling::Greedy,
            &mut GoldenBackend::default(),
            |_, _| {},
        )
        .unwrap();
    let distinct: std::collections::BTreeSet<_> = golden.generated.iter().collect();
    assert!(
        distinct.len() >= 4,
        "generation is not degenerate: {distinct:?}"
    );
    let mut reference = Reference::new(&ck);
    let fed = std::iter::once(0).chain(golden.generated.iter().copied());
    let mut agree = 0;
    let mut worst = 0.0f64;
    let mut relative = Vec::new();
    for (pos, (token, gl)) in fed.zip(&golden.logits).enumerate() {
        let rl = reference.step(token as usize);
        let max_ref = rl.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = gl
            .iter()
            .zip(&rl)
            .fold(0.0f64, |m, (g, r)| m.max((*g as f64 - r).abs()));
        let tol = LOGIT_TOLERANCE * max_ref + LOGIT_FLOOR;
        assert!(
            err <= tol,
            "{attention:?} seed {seed} position {pos}: logit error {err:e} > tolerance {tol:e}"
        );
        worst = worst.max(err / tol);
        relative.push(err / max_ref);
        if argmax(&rl) == greedy(gl) {
            agree += 1;
        }
    }
    (agree, worst, relative)
}

fn check_kind(attention: AttentionKind) {
    let (mut agree, mut worst, mut relative) = (0, 0.0f64, Vec::new());
    for seed in [1, 2] {
        let (a, w, r) = compare(attention, seed);
        agree += a;
        worst = worst.max(w);
        relative.extend(r);
    }
    relative.sort_by(f64::total_cmp);
    let total = relative.len();
    let median = relative[total / 2];
    let rate = agree as f64 / total as f64;
    println!(
        "{attention:?}: {agree}/{total} greedy tokens agree ({:.2}%); relative logit error: median {median:.2e}, 90th percentile {:.2e}, max {:.2e}; worst position at {:.3} of its tolerance",
        100.0 * rate,
        relative[total * 9 / 10],
        relative[total - 1],
        worst
    );
    assert!(
        median <= MEDIAN_TOLERANCE,
        "{attention:?}: median relative logit error {median:e}"
    );
    assert!(
        rate >= MIN_AGREEMENT,
        "{attention:?}: greedy agreement {rate}"
    );
}

#[test]
fn standard_attention_matches_the_float_reference() {
    check_kind(AttentionKind::Standard);
}

#[test]
fn differential_attention_matches_the_float_reference() {
    check_kind(AttentionKind::Differential);
}

/// The last stage alone (§M11 "Stage"): from the golden model's own `zf`, the logits are
/// within the proven bound γ_n · Σ|head · zf| of real arithmetic.
#[test]
fn head_stage_is_within_its_rounding_bound() {
    let cfg = config(AttentionKind::Standard);
    let ck = random_checkpoint(&cfg, 3);
    let model = Transformer::new(ck.config.clone(), ck.params.clone());
    let mut cache = model.new_cache();
    let n = cfg.d_model as f64;
    let u = 2f64.powi(-24);
    let gamma = n * u / (1.0 - n * u);
    let mut worst = 0.0f64;
    for token in [0u32, 5, 9, 1, 40, 2] {
        let out = model
            .step(&mut cache, token, &mut GoldenBackend::default())
            .unwrap();
        let z: Vec<f64> = out.final_hidden.iter().map(|v| v.to_f64()).collect();
        let exact = head_logits(&ck, &z);
        for (j, (g, e)) in out.logits.iter().zip(&exact).enumerate() {
            let mag: f64 = ck
                .params
                .head
                .row(j)
                .iter()
                .zip(&z)
                .map(|(w, zi)| (w.to_f64() * zi).abs())
                .sum();
            let bound = gamma * mag;
            let err = (*g as f64 - e).abs();
            assert!(err <= bound, "logit {j}: error {err:e} > bound {bound:e}");
            if bound > 0.0 {
                worst = worst.max(err / bound);
            }
        }
    }
    println!("head stage: worst error {worst:.4} of the bound");
}
