//! Bytes and cycles per token against hand calculations. The arithmetic is written out from
//! the rules in docs/arithmetic.md §P (packing) and docs/config.md (cycles), not from the
//! code paths under test.

use hgf_estimate::{estimate, Board, Model};
use hgf_golden::{HgfConfig, Packing};

/// The default core with array_rows R = 4 and array_inputs C = 40 trits per column block
/// (fixed here, so that the hand calculations do not follow changes of the preset).
fn default_estimate(model: &str) -> hgf_estimate::Estimate {
    let model = Model::preset(model).unwrap();
    estimate(
        &HgfConfig {
            array_rows: 4,
            array_inputs: 40,
            fp_lanes: 8,
            ..HgfConfig::default()
        },
        &[model],
        &[Board::preset("arty-a7").unwrap()],
    )
    .unwrap()
}

#[test]
fn bitnet_2b4t_bytes_per_token_by_hand() {
    // BitNet b1.58 2B4T: hidden 2560, FFN 6912, 30 layers, 5 KV heads x 128 = 640.
    // Per layer: q 2560->2560, k 2560->640, v 2560->640, o 2560->2560,
    //            gate 2560->6912, up 2560->6912, down 6912->2560. No low-rank path.
    //
    // §P2: every row is padded with zero trits to whole column blocks of C = 40 trits.
    //   d_in = 2560 = 64 * 40: no padding, 2560 trits per row.
    //   d_in = 6912 = 172 * 40 + 32: 173 blocks, 6920 trits per row.
    // 2bit (4 trits per byte): 2560 / 4 = 640 bytes per row; 6920 / 4 = 1730 (not 6912/4 = 1728).
    //   q    2560 rows * 640  = 1,638,400
    //   k     640 rows * 640  =   409,600
    //   v     640 rows * 640  =   409,600
    //   o    2560 rows * 640  = 1,638,400
    //   gate 6912 rows * 640  = 4,423,680
    //   up   6912 rows * 640  = 4,423,680
    //   down 2560 rows * 1730 = 4,428,800
    //   sum                   = 17,372,160, plus beta 7 * 4 bytes = 17,372,188 per layer
    //   30 layers: 521,165,640 bytes per token.
    // base3 (5 trits per byte): 2560 / 5 = 512 bytes per row; 6920 / 5 = 1384.
    //   q 1,310,720; k 327,680; v 327,680; o 1,310,720; gate 3,538,944; up 3,538,944;
    //   down 2560 * 1384 = 3,543,040; sum 13,897,728, plus 28 = 13,897,756 per layer;
    //   30 layers: 416,932,680 bytes per token.
    let est = default_estimate("bitnet-2b4t");
    let m = &est.models[0];
    let two = &m.packing(Packing::TwoBit).bytes;
    let weights_2bit: Vec<u64> = two.projections.iter().map(|p| p.bytes.weight).collect();
    assert_eq!(
        weights_2bit,
        [1_638_400, 409_600, 409_600, 1_638_400, 4_423_680, 4_423_680, 4_428_800]
    );
    assert_eq!(two.per_layer.total, 17_372_188);
    assert_eq!(two.per_token.total, 521_165_640);
    assert_eq!((two.per_token.factor, two.per_token.gate), (0, 0));
    assert_eq!(two.lowrank_overhead, 0.0);
    // Against the unpadded d_in * d_out / 4: only the down rows grow, by 2 bytes each.
    let unpadded: u64 = 30 * (2 * 2560 * 2560 + 2 * 2560 * 640 + 3 * 2560 * 6912) / 4;
    assert_eq!(two.per_token.weight, unpadded + 30 * 2560 * 2);

    let b3 = &m.packing(Packing::Base3).bytes;
    let weights_base3: Vec<u64> = b3.projections.iter().map(|p| p.bytes.weight).collect();
    assert_eq!(
        weights_base3,
        [1_310_720, 327_680, 327_680, 1_310_720, 3_538_944, 3_538_944, 3_543_040]
    );
    assert_eq!(b3.per_layer.total, 13_897_756);
    assert_eq!(b3.per_token.total, 416_932_680);
}

#[test]
fn bitnet_2b4t_cycles_per_token_by_hand() {
    // The core's cycle model (docs/architecture.md, "Cycles per token") for a projection whose
    // ternary flow is the longer one, with G = d_out / R row groups and B = ceil(d_in / C)
    // column blocks, G >= C + 8 (the array paces the blocks) and one gate issue per cycle:
    //   last x beat       2 + d_in            (beta, g, then one x per cycle)
    //   block 0           + 47 + C            (quantizer: s, then C elements and the pipeline)
    //   last weight beat  + B * G - 1
    //   accumulators      + 4 + 4             (array latency 4 for C = 40, count, settle)
    //   last gate issue   + d_out - 1
    //   last output       + 14, and the next token one cycle later:
    //   cycles = d_in + d_out + C + B * G + 70.
    // Ternary array, B * G: q 64 * 640 = 40,960; k, v 64 * 160 = 10,240; gate, up
    // 64 * 1728 = 110,592; down 173 * 640 = 110,720. The rank-1 low-rank flow (pure ternary
    // model) ends far earlier (d_in / 8 steps of 6 cycles).
    //   q    2560 + 2560 + 40 + 40,960 + 70 =  46,190     o the same
    //   k    2560 +  640 + 40 + 10,240 + 70 =  13,550     v the same
    //   gate 2560 + 6912 + 40 + 110,592 + 70 = 120,174    up the same
    //   down 6912 + 2560 + 40 + 110,720 + 70 = 120,302
    //   per layer 480,130; 30 layers 14,403,900 cycles per token (both packings: C = 40
    //   is a multiple of 4 and of 5).
    let est = default_estimate("bitnet-2b4t");
    for packing in Packing::ALL {
        let cycles = &est.models[0].packing(packing).cycles;
        let per_projection: Vec<u64> = cycles.projections.iter().map(|p| p.cycles).collect();
        assert_eq!(
            per_projection,
            [46_190, 13_550, 13_550, 46_190, 120_174, 120_174, 120_302]
        );
        assert_eq!(cycles.per_layer, 480_130);
        assert_eq!(cycles.per_token, 14_403_900);
    }
}

#[test]
fn hgf_25m_low_rank_bytes_and_share_by_hand() {
    // q, k, v, o are 512 -> 512 at rank 16: A and B hold 16 * (512 + 512) binary16 values,
    // 32,768 bytes, plus g (4 bytes); 4 projections * 8 layers: 1,048,704 bytes per token.
    // Backbone, base3: d_in 512 pads to 13 blocks = 520 trits = 104 bytes per row;
    //   d_in 1376 = 34 * 40 + 16 pads to 35 blocks = 1400 trits = 280 bytes per row.
    //   q, k, v, o: 512 * 104 = 53,248 each; gate, up: 1376 * 104 = 143,104 each;
    //   down: 512 * 280 = 143,360; layer 642,560 + beta 28 = 642,588; 8 layers 5,140,704.
    // Total 6,189,408; the correction adds 1,048,704 / 5,140,704 = 20.40% to the backbone.
    let est = default_estimate("hgf-25m");
    let b = &est.models[0].packing(Packing::Base3).bytes;
    let q = &b.projections[0];
    assert_eq!(
        (q.bytes.factor, q.bytes.gate, q.bytes.weight),
        (32_768, 4, 53_248)
    );
    assert_eq!(b.per_token.lowrank, 1_048_704);
    assert_eq!(b.per_token.ternary, 5_140_704);
    assert_eq!(b.per_token.total, 6_189_408);
    assert!((b.lowrank_overhead - 1_048_704.0 / 5_140_704.0).abs() < 1e-12);
    assert!((b.lowrank_share - 1_048_704.0 / 6_189_408.0).abs() < 1e-12);
    // The FFN is ternary only: no factor or gate bytes.
    assert!(b.projections[4..].iter().all(|p| p.bytes.lowrank == 0));
    // A hybrid projection, q: its low-rank flow (2,048 factor beats) has v ready by cycle
    // 2,123, before the accumulators are final after 128 * 13 = 1,664 array cycles, so the
    // ternary formula of bitnet_2b4t_cycles_per_token_by_hand holds:
    // 512 + 512 + 40 + 1,664 + 70 = 2,798 (what co-simulation measured for this core).
    let cycles = &est.models[0].packing(Packing::Base3).cycles;
    assert_eq!(cycles.projections[0].cycles, 2_798);
}

#[test]
fn the_core_config_sets_the_blocks() {
    // The up5k core has C = 20: d_in 2560 = 128 blocks, no padding; 6912 = 345 * 20 + 12
    // pads to 346 blocks = 6920 trits. R = 2: q has 1280 row groups * 128 blocks.
    let model = Model::preset("bitnet-2b4t").unwrap();
    let core = HgfConfig {
        array_rows: 2,
        array_inputs: 20,
        ..HgfConfig::preset("up5k").unwrap()
    };
    let est = estimate(&core, &[model], &[Board::preset("kv260").unwrap()]).unwrap();
    let m = est.models[0].packing(Packing::Base3);
    // Its one gate multiplier issues every other cycle, and C = 20 has an array latency of
    // 4 (as C = 40): the formula above with 2 (d_out - 1) gate cycles instead of d_out - 1,
    // 2560 + 2 * (2560 - 1) + 20 + 1280 * 128 + 71 cycles.
    assert_eq!(
        m.cycles.projections[0].cycles,
        2560 + 2 * (2560 - 1) + 20 + 1280 * 128 + 71
    );
    assert_eq!(m.bytes.projections[6].bytes.weight, 2560 * 6920 / 5);
}
