//! Run-time projection shapes: which shapes an engine runs (`check_shape`, the descriptors the
//! core accepts), and the golden projection of shapes within and beyond the maxima.

use half::f16;
use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights, Shape, ShapeError, WeightsError};

fn engine() -> HgfConfig {
    HgfConfig::from_toml_str("max_d_in = 40\nmax_d_out = 30\nmax_rank = 5\narray_inputs = 10")
        .unwrap()
}

#[test]
fn every_shape_within_the_maxima_runs_rank_zero_included() {
    let cfg = engine();
    for d_in in 1..=40 {
        for d_out in [1, 2, 3, 7, 29, 30] {
            for rank in 0..=5 {
                let shape = Shape::new(d_in, d_out, rank);
                assert_eq!(cfg.check_shape(shape), Ok(()), "{shape}");
            }
        }
    }
    assert_eq!(cfg.check_shape(cfg.max_shape()), Ok(()));
    assert_eq!(cfg.max_shape(), Shape::new(40, 30, 5));
}

#[test]
fn zero_sizes_and_sizes_beyond_the_maxima_are_refused_naming_the_limit() {
    let cfg = engine();
    let out_of_range = |shape: Shape, field: &str, value: usize, max: usize| {
        assert_eq!(
            cfg.check_shape(shape),
            Err(ShapeError::OutOfRange {
                shape,
                field: match field {
                    "d_in" => "d_in",
                    _ => "d_out",
                },
                value,
                max,
            }),
            "{shape}"
        );
    };
    out_of_range(Shape::new(0, 30, 5), "d_in", 0, 40);
    out_of_range(Shape::new(41, 30, 5), "d_in", 41, 40);
    out_of_range(Shape::new(40, 0, 0), "d_out", 0, 30);
    out_of_range(Shape::new(40, 31, 0), "d_out", 31, 30);
    // d_in is checked first when both are wrong.
    out_of_range(Shape::new(0, 0, 0), "d_in", 0, 40);
    let shape = Shape::new(40, 30, 6);
    assert_eq!(
        cfg.check_shape(shape),
        Err(ShapeError::RankTooLarge {
            shape,
            rank: 6,
            max: 5
        })
    );
    // The messages name the projection, the field and the core's limit.
    let m = cfg
        .check_shape(Shape::new(41, 30, 5))
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("41x30 rank 5") && m.contains("`d_in` = 41") && m.contains("max_d_in"),
        "{m}"
    );
    assert!(m.contains("1..=40"), "{m}");
    let m = cfg.check_shape(shape).unwrap_err().to_string();
    assert!(
        m.contains("40x30 rank 6") && m.contains("max_rank = 5"),
        "{m}"
    );
}

#[test]
fn the_projection_refuses_weights_beyond_the_maxima() {
    let cfg = engine();
    for shape in [
        Shape::new(41, 3, 1),
        Shape::new(3, 31, 1),
        Shape::new(8, 8, 6),
    ] {
        let e = HgfProjection::new(&cfg, HgfWeights::random(shape, 3)).unwrap_err();
        assert_eq!(
            e,
            WeightsError::NotRunnable(cfg.check_shape(shape).unwrap_err()),
            "{shape}"
        );
    }
    let w = HgfWeights::random(Shape::new(41, 3, 1), 3);
    assert!(matches!(
        w.validate_for(&cfg),
        Err(WeightsError::NotRunnable(_))
    ));
    // Invalid weights are still reported as such first, whatever their shape.
    let mut w = HgfWeights::random(Shape::new(41, 3, 1), 3);
    w.beta = f32::NAN;
    assert!(matches!(
        w.validate_for(&cfg),
        Err(WeightsError::NotFinite { name: "beta", .. })
    ));
}

#[test]
fn random_weights_have_the_shape_asked_for() {
    for shape in [
        Shape::new(1, 1, 0),
        Shape::new(13, 7, 0),
        Shape::new(13, 7, 3),
    ] {
        let w = HgfWeights::random(shape, 9);
        assert_eq!(w.projection_shape(), shape);
        assert_eq!(w.a.dim(), (shape.rank, shape.d_in));
        assert_eq!(w.b.dim(), (shape.d_out, shape.rank));
        w.validate().unwrap();
    }
}

#[test]
fn a_ternary_only_projection_outputs_binary16_of_the_backbone() {
    // rank 0: no A, no B; y = binary16(yt) whatever g is (§G2). The all-zero token with a
    // negative beta gives yt = -0, which the gate of a projection with a rank would turn into
    // +0 when g < 0 (g · v = +0 for v = -0, the empty sum).
    let cfg = engine();
    let shape = Shape::new(37, 29, 0);
    let mut x = random_tokens(shape.d_in, 4, 5);
    x.row_mut(3).fill(f16::ZERO);
    for (gate, beta) in [
        (0.0f32, 0.02f32),
        (-0.0, -0.02),
        (0.1, -0.02),
        (-3.0, -0.02),
        (-0.5, 0.5),
        (f32::MAX, -1.0),
    ] {
        let mut w = HgfWeights::random(shape, 4);
        w.gate = gate;
        w.beta = beta;
        let p = HgfProjection::new(&cfg, w).unwrap();
        for row in x.rows() {
            let t = p.run_token(&row.to_vec());
            assert!(t.u.is_empty());
            assert_eq!(t.y.len(), 29);
            for (y, yt) in t.y.iter().zip(&t.yt) {
                assert_eq!(y.to_bits(), f16::from_f32(*yt).to_bits(), "g = {gate}");
            }
            if row.iter().all(|v| v.to_bits() == 0) && beta < 0.0 {
                assert!(
                    t.y.iter().all(|y| y.to_bits() == 0x8000),
                    "g = {gate}: {:?}",
                    t.y
                );
            }
        }
        assert_eq!(p.run(x.view()).dim(), (4, 29));
    }
}

#[test]
fn a_smaller_shape_gives_the_same_outputs_on_any_engine_that_runs_it() {
    // The engine only fixes the order of the sums of A x (through fp_lanes, §L2): two engines
    // with the same lanes and different maxima and arrays compute the same bits.
    let shape = Shape::new(23, 11, 3);
    let w = HgfWeights::random(shape, 8);
    let x = random_tokens(shape.d_in, 3, 8);
    let small = engine();
    let large = HgfConfig::default();
    assert_eq!(small.fp_lanes, large.fp_lanes);
    let a = HgfProjection::new(&small, w.clone()).unwrap().run(x.view());
    let b = HgfProjection::new(&large, w).unwrap().run(x.view());
    let bits = |y: &ndarray::Array2<f16>| y.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a), bits(&b));
}

#[test]
fn the_descriptor_carries_the_shape_the_token_count_beta_and_g() {
    use hgf_golden::streams::{descriptor_beats, DESCRIPTOR_BEATS};
    for shape in [Shape::new(37, 29, 0), Shape::new(40, 30, 5)] {
        let mut w = HgfWeights::random(shape, 6);
        w.beta = -0.0;
        w.gate = f32::from_bits(0x0000_0001); // a subnormal g travels bit for bit
        let d = descriptor_beats(&w, 9);
        assert_eq!(d.len(), DESCRIPTOR_BEATS);
        assert_eq!(
            d,
            [
                shape.d_in as u32,
                shape.d_out as u32,
                shape.rank as u32,
                9,
                0x8000_0000,
                0x0000_0001
            ]
        );
        // Its bytes are the descriptor bytes of the layout.
        assert_eq!(
            DESCRIPTOR_BEATS * 4,
            engine().layout(shape).descriptor_bytes()
        );
    }
}
