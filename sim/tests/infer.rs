//! A whole transformer on one core instance (`hgf_sim::infer`): a small random model on the
//! up5k core matches the golden transformer bit for bit in the modelled cycles, and a run
//! whose expected side differs in one bit stops there, naming the position, the layer and
//! the projection.

use hgf_golden::model::{
    random_checkpoint, GoldenBackend, ModelConfig, ProjectionKind, ProjectionSite, Sampling,
    Transformer,
};
use hgf_golden::HgfConfig;
use hgf_hdl::emit::generate;
use hgf_sim::core_driver::CoreSim;
use hgf_sim::infer::{infer_on_core, InferError, RtlBackend};
use hgf_sim::BuildOptions;

fn up5k() -> CoreSim {
    let cfg = HgfConfig::preset("up5k").unwrap();
    let g = generate(&cfg).expect("the core emits");
    CoreSim::build(&cfg, &g.verilog, &BuildOptions::default()).expect("verilates")
}

fn tiny_diff() -> Transformer {
    let ck = random_checkpoint(&ModelConfig::builtin("tiny-diff").unwrap(), 9);
    Transformer::new(ck.config, ck.params)
}

#[test]
fn a_model_on_the_core_matches_the_golden_transformer_in_the_modelled_cycles() {
    let sim = up5k();
    let model = tiny_diff();
    let prompt = [3, 1, 4];
    let mut backend = RtlBackend::new(&sim, &model).unwrap();
    let run = infer_on_core(
        &model,
        &mut backend,
        &prompt,
        2,
        Sampling::Greedy,
        |_, _| {},
    )
    .expect("matches");
    let golden = model
        .generate(
            &prompt,
            2,
            Sampling::Greedy,
            &mut GoldenBackend {
                fp_lanes: sim.config().fp_lanes,
            },
            |_, _| {},
        )
        .unwrap();
    assert_eq!(run.generated, golden.generated);
    let bits = |l: &[Vec<f32>]| -> Vec<Vec<u32>> {
        l.iter()
            .map(|v| v.iter().map(|x| x.to_bits()).collect())
            .collect()
    };
    assert_eq!(bits(&run.logits), bits(&golden.logits));
    // 4 positions (3 prompt tokens, 1 fed back) of 2 layers of 7 projections.
    assert_eq!(run.positions.len(), 4);
    assert_eq!(backend.projections.len(), 4 * 2 * 7);
    assert_eq!(run.logits_compared, 4 * model.config().vocab_size);
    for p in &backend.projections {
        assert_eq!(p.cycles, p.expected, "{:?} {}", p.site, p.shape);
    }
    // After the first position, each position costs the same: the model's cycles.
    assert!(run.positions[1..]
        .iter()
        .all(|p| p.cycles == run.positions[1].cycles && p.cycles == p.expected));
}

#[test]
fn one_flipped_expected_bit_stops_the_run_at_its_projection() {
    let sim = up5k();
    let model = tiny_diff();
    let site = ProjectionSite {
        position: 1,
        layer: 1,
        kind: ProjectionKind::V,
    };
    let mut backend = RtlBackend::new(&sim, &model).unwrap();
    backend.flip_expected = Some((site, 7));
    let err = infer_on_core(
        &model,
        &mut backend,
        &[3, 1, 4],
        2,
        Sampling::Greedy,
        |_, _| {},
    )
    .expect_err("the flipped bit is found");
    assert!(err.is_mismatch());
    let InferError::ProjectionMismatch(m) = &err else {
        panic!("a projection mismatch: {err}");
    };
    assert_eq!(m.site, site);
    assert_eq!(m.token, 1, "the token at position 1");
    let first = m.comparison.first.unwrap();
    assert_eq!((first.output, first.rtl ^ first.golden), (7, 1));
    assert_eq!(m.comparison.mismatches, 1);
    let text = err.to_string();
    assert!(
        text.contains("position 1 (token 1), layer 1, projection v: output 7"),
        "{text}"
    );
    // The run stopped there: nothing after the failing projection ran.
    let last = backend.projections.last().unwrap();
    assert_eq!(last.site, site);
}
