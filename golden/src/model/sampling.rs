//! From logits to a token: greedy and seeded temperature sampling (docs/model.md §M8).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::math::{exp32, seqsum};
use crate::fp::{add_f32, div_f32, mul_f32};

/// How the next token is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
    /// The largest logit, the lowest index on ties.
    Greedy,
    /// Softmax of `logits / temperature` (finite, > 0), one ChaCha8 draw per token.
    Temperature { temperature: f32, seed: u64 },
}

/// The index of the largest value by §M8's rule: `best` moves only on a strictly larger value.
pub fn argmax(values: &[f32]) -> usize {
    (1..values.len()).fold(0, |best, j| if values[j] > values[best] { j } else { best })
}

/// The sampler's state: the generator of §M8 (none for greedy).
#[derive(Clone, Debug)]
pub struct Sampler {
    sampling: Sampling,
    rng: Option<ChaCha8Rng>,
}

/// The key of §M8: the seed's 8 bytes little-endian, then 24 zero bytes.
fn key(seed: u64) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key
}

impl Sampler {
    pub fn new(sampling: Sampling) -> Self {
        let rng = match sampling {
            Sampling::Greedy => None,
            Sampling::Temperature { seed, .. } => Some(ChaCha8Rng::from_seed(key(seed))),
        };
        Sampler { sampling, rng }
    }

    /// The next token from one position's logits.
    pub fn pick(&mut self, logits: &[f32]) -> usize {
        match (self.sampling, self.rng.as_mut()) {
            (Sampling::Temperature { temperature, .. }, Some(rng)) => {
                let u = mul_f32((rng.next_u32() >> 8) as f32, 1.0 / 16_777_216.0);
                sample(logits, temperature, u)
            }
            _ => argmax(logits),
        }
    }
}

/// §M8's sampling of one token for the uniform draw `u` in [0, 1).
pub fn sample(logits: &[f32], temperature: f32, u: f32) -> usize {
    let z: Vec<f32> = logits.iter().map(|&l| div_f32(l, temperature)).collect();
    let mz = z[argmax(&z)];
    let e: Vec<f32> = z.iter().map(|&v| exp32(add_f32(v, -mz))).collect();
    let cum: Vec<f32> = e
        .iter()
        .scan(-0.0f32, |acc, &x| {
            *acc = add_f32(*acc, x);
            Some(*acc)
        })
        .collect();
    let total = seqsum(e.iter().copied());
    let thr = mul_f32(u, total);
    cum.iter()
        .position(|&c| c > thr)
        .or_else(|| e.iter().rposition(|&x| x > 0.0))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_the_first_maximum() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, -1.0]), 1);
        assert_eq!(argmax(&[2.0, f32::NAN, 1.0]), 0);
    }

    #[test]
    fn sampling_follows_the_cumulative_sum() {
        // Equal logits: each of 4 tokens owns a quarter of [0, 1).
        let l = [0.5; 4];
        assert_eq!(sample(&l, 1.0, 0.0), 0);
        assert_eq!(sample(&l, 1.0, 0.3), 1);
        assert_eq!(sample(&l, 1.0, 0.99), 3);
        // A tiny temperature makes it greedy.
        assert_eq!(sample(&[0.0, 1.0, 0.5], 1e-3, 0.999), 1);
    }

    #[test]
    fn same_seed_same_tokens() {
        let l = [0.1, 0.4, 0.2, 0.3];
        let s = Sampling::Temperature {
            temperature: 1.0,
            seed: 7,
        };
        let run = |s| {
            let mut sm = Sampler::new(s);
            (0..32).map(|_| sm.pick(&l)).collect::<Vec<_>>()
        };
        assert_eq!(run(s), run(s));
        assert_ne!(
            run(s),
            run(Sampling::Temperature {
                temperature: 1.0,
                seed: 8
            })
        );
    }
}
