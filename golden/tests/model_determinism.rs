//! The golden transformer is a function of (checkpoint, fp_lanes, tokens): the same bits on
//! every run, and the KV-cache path equals recomputing every prefix from an empty cache.

use hgf_golden::model::{
    random_checkpoint, GoldenBackend, ModelConfig, ProjectionKind, Recorder, Sampling, Transformer,
};

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn model(name: &str, seed: u64) -> Transformer {
    let ck = random_checkpoint(&ModelConfig::builtin(name).unwrap(), seed);
    Transformer::new(ck.config, ck.params)
}

#[test]
fn same_bits_twice_and_across_sampling_runs() {
    for name in ["tiny", "tiny-diff"] {
        let m = model(name, 11);
        let s = Sampling::Temperature {
            temperature: 0.8,
            seed: 5,
        };
        let run = || {
            m.generate(&[1, 2, 3], 20, s, &mut GoldenBackend::default(), |_, _| {})
                .unwrap()
        };
        let (a, b) = (run(), run());
        assert_eq!(a.generated, b.generated);
        for (x, y) in a.logits.iter().zip(&b.logits) {
            assert_eq!(bits(x), bits(y), "{name}");
        }
        let other = m
            .generate(
                &[1, 2, 3],
                20,
                Sampling::Temperature {
                    temperature: 0.8,
                    seed: 6,
                },
                &mut GoldenBackend::default(),
                |_, _| {},
            )
            .unwrap();
        assert_ne!(a.generated, other.generated, "{name}: the seed matters");
    }
}

#[test]
fn kv_cache_path_equals_recomputing_each_prefix() {
    for name in ["tiny", "tiny-diff"] {
        let m = model(name, 12);
        let g = m
            .generate(
                &[4, 8, 15],
                12,
                Sampling::Greedy,
                &mut GoldenBackend::default(),
                |_, _| {},
            )
            .unwrap();
        let seq: Vec<u32> = g.prompt.iter().chain(&g.generated).copied().collect();
        for (i, logits) in g.logits.iter().enumerate() {
            let prefix = &seq[..g.prompt.len() + i];
            let mut cache = m.new_cache();
            let mut last = None;
            for &t in prefix {
                last = Some(
                    m.step(&mut cache, t, &mut GoldenBackend::default())
                        .unwrap(),
                );
            }
            assert_eq!(
                bits(&last.unwrap().logits),
                bits(logits),
                "{name}: position {}",
                prefix.len() - 1
            );
        }
    }
}

#[test]
fn the_recorder_sees_every_projection_in_order() {
    let m = model("tiny", 13);
    let mut rec = Recorder::new(GoldenBackend::default());
    let g = m
        .generate(&[1, 2], 3, Sampling::Greedy, &mut rec, |_, _| {})
        .unwrap();
    let plain = m
        .generate(
            &[1, 2],
            3,
            Sampling::Greedy,
            &mut GoldenBackend::default(),
            |_, _| {},
        )
        .unwrap();
    assert_eq!(g, plain, "recording changes nothing");
    // 4 positions run (2 prompt + 2 fed back), 2 layers, 7 projections each, in order.
    let cfg = m.config();
    let per_position = cfg.n_layers * ProjectionKind::ALL.len();
    assert_eq!(rec.records.len(), 4 * per_position);
    for (i, r) in rec.records.iter().enumerate() {
        assert_eq!(r.site.position, i / per_position);
        assert_eq!(r.site.layer, (i / 7) % cfg.n_layers);
        assert_eq!(r.site.kind, ProjectionKind::ALL[i % 7]);
        let s = cfg.shape(r.site.kind);
        assert_eq!((r.x.len(), r.y.len()), (s.d_in, s.d_out));
    }
}
