//! Bytes and cycles per token against hand calculations. The arithmetic is written out from
//! the rules in docs/arithmetic.md §P (packing), docs/interfaces.md (the descriptor) and
//! docs/architecture.md (cycles), not from the code paths under test.

use hgf_estimate::{estimate, Board, Model, ModelEstimate};
use hgf_golden::{HgfConfig, Packing};

/// A core with array_rows R = 4, array_inputs C = 40 trits per column block and 8 FP lanes
/// (fixed here, so that the hand calculations do not follow changes of the preset), in
/// `packing`, with maxima that hold BitNet 2B4T's largest projections (6912).
fn core_c40(packing: Packing) -> HgfConfig {
    HgfConfig {
        max_d_in: 6912,
        max_d_out: 6912,
        array_rows: 4,
        array_inputs: 40,
        fp_lanes: 8,
        packing,
        ..HgfConfig::default()
    }
}

fn estimate_on_c40(model: &str, packing: Packing) -> ModelEstimate {
    let model = Model::preset(model).unwrap();
    let est = estimate(
        &core_c40(packing),
        &[model],
        &[Board::preset("arty-a7").unwrap()],
    )
    .unwrap();
    assert_eq!(est.models[0].packing, packing);
    est.models[0].clone()
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
    //   Every d_out is a multiple of R = 4: no padding rows.
    // Each projection's token comes with its descriptor: 6 binary32 words, 24 bytes.
    // 2bit (4 trits per byte): 2560 / 4 = 640 bytes per row; 6920 / 4 = 1730 (not 6912/4 = 1728).
    //   q    2560 rows * 640  = 1,638,400
    //   k     640 rows * 640  =   409,600
    //   v     640 rows * 640  =   409,600
    //   o    2560 rows * 640  = 1,638,400
    //   gate 6912 rows * 640  = 4,423,680
    //   up   6912 rows * 640  = 4,423,680
    //   down 2560 rows * 1730 = 4,428,800
    //   sum                   = 17,372,160, plus 7 descriptors * 24 = 17,372,328 per layer
    //   30 layers: 521,169,840 bytes per token.
    // base3 (5 trits per byte): 2560 / 5 = 512 bytes per row; 6920 / 5 = 1384.
    //   q 1,310,720; k 327,680; v 327,680; o 1,310,720; gate 3,538,944; up 3,538,944;
    //   down 2560 * 1384 = 3,543,040; sum 13,897,728, plus 168 = 13,897,896 per layer;
    //   30 layers: 416,936,880 bytes per token.
    let two = estimate_on_c40("bitnet-2b4t", Packing::TwoBit).bytes;
    let weights_2bit: Vec<u64> = two.projections.iter().map(|p| p.bytes.weight).collect();
    assert_eq!(
        weights_2bit,
        [1_638_400, 409_600, 409_600, 1_638_400, 4_423_680, 4_423_680, 4_428_800]
    );
    assert!(two.projections.iter().all(|p| p.bytes.descriptor == 24));
    assert!(two.projections.iter().all(|p| p.rank == 0));
    assert_eq!(two.per_layer.total, 17_372_328);
    assert_eq!(two.per_token.total, 521_169_840);
    assert_eq!(two.per_token.descriptor, 30 * 7 * 24);
    assert_eq!((two.per_token.factor, two.per_token.lowrank), (0, 0));
    assert_eq!(two.lowrank_overhead, 0.0);
    // Against the unpadded d_in * d_out / 4: only the down rows grow, by 2 bytes each.
    let unpadded: u64 = 30 * (2 * 2560 * 2560 + 2 * 2560 * 640 + 3 * 2560 * 6912) / 4;
    assert_eq!(two.per_token.weight, unpadded + 30 * 2560 * 2);

    let b3 = estimate_on_c40("bitnet-2b4t", Packing::Base3).bytes;
    let weights_base3: Vec<u64> = b3.projections.iter().map(|p| p.bytes.weight).collect();
    assert_eq!(
        weights_base3,
        [1_310_720, 327_680, 327_680, 1_310_720, 3_538_944, 3_538_944, 3_543_040]
    );
    assert_eq!(b3.per_layer.total, 13_897_896);
    assert_eq!(b3.per_token.total, 416_936_880);
}

#[test]
fn bitnet_2b4t_cycles_per_token_by_hand() {
    // The core's cycle model (docs/architecture.md, "Cycles per token") for one token of a
    // projection whose ternary flow is the longer one, with G = d_out / R row groups and
    // B = ceil(d_in / C) column blocks, G >= C + 9 (the array paces the blocks) and one
    // gate issue per cycle, counted from the previous projection's last output:
    //   descriptor        7                   (6 beats, then the check cycle)
    //   last x beat       + d_in              (one x per cycle from the token's cycle 1)
    //   block 0           + 49 + C            (quantizer: s, then C elements and the pipeline)
    //   last weight beat  + B * G - 1
    //   accumulators      + 4 + 4             (array latency 4 for C = 40, count, settle)
    //   last gate issue   + d_out - 1
    //   last output       + 14, and the next projection starts one cycle later:
    //   cycles = d_in + d_out + C + B * G + 77.
    // Ternary array, B * G: q 64 * 640 = 40,960; k, v 64 * 160 = 10,240; gate, up
    // 64 * 1728 = 110,592; down 173 * 640 = 110,720. The projections are ternary-only
    // (rank 0): no low-rank flow.
    //   q    2560 + 2560 + 40 + 40,960 + 77 =  46,197     o the same
    //   k    2560 +  640 + 40 + 10,240 + 77 =  13,557     v the same
    //   gate 2560 + 6912 + 40 + 110,592 + 77 = 120,181    up the same
    //   down 6912 + 2560 + 40 + 110,720 + 77 = 120,309
    //   per layer 480,179; 30 layers 14,405,370 cycles per token (in both packings: C = 40
    //   is a multiple of 4 and of 5).
    for packing in Packing::ALL {
        let cycles = estimate_on_c40("bitnet-2b4t", packing).cycles;
        let per_projection: Vec<u64> = cycles.projections.iter().map(|p| p.cycles).collect();
        assert_eq!(
            per_projection,
            [46_197, 13_557, 13_557, 46_197, 120_181, 120_181, 120_309]
        );
        assert_eq!(cycles.per_layer, 480_179);
        assert_eq!(cycles.per_token, 14_405_370);
    }
}

#[test]
fn hgf_25m_low_rank_bytes_and_share_by_hand() {
    // q, k, v, o are 512 -> 512 at rank 16: A and B hold 16 * (512 + 512) binary16 values,
    // 32,768 bytes (g travels in the descriptor); 4 projections * 8 layers: 1,048,576
    // bytes per token.
    // Backbone, base3: d_in 512 pads to 13 blocks = 520 trits = 104 bytes per row;
    //   d_in 1376 = 34 * 40 + 16 pads to 35 blocks = 1400 trits = 280 bytes per row.
    //   q, k, v, o: 512 * 104 = 53,248 each; gate, up: 1376 * 104 = 143,104 each;
    //   down: 512 * 280 = 143,360; layer 642,560 + 7 descriptors * 24 = 642,728; 8 layers
    //   5,141,824.
    // Total 6,190,400; the correction adds 1,048,576 / 5,141,824 = 20.39% to the backbone.
    let m = estimate_on_c40("hgf-25m", Packing::Base3);
    let b = &m.bytes;
    let q = &b.projections[0];
    assert_eq!(
        (q.bytes.factor, q.bytes.descriptor, q.bytes.weight),
        (32_768, 24, 53_248)
    );
    assert_eq!(q.rank, 16);
    assert_eq!(b.per_token.lowrank, 1_048_576);
    assert_eq!(b.per_token.ternary, 5_141_824);
    assert_eq!(b.per_token.total, 6_190_400);
    assert!((b.lowrank_overhead - 1_048_576.0 / 5_141_824.0).abs() < 1e-12);
    assert!((b.lowrank_share - 1_048_576.0 / 6_190_400.0).abs() < 1e-12);
    // The FFN is ternary only: rank 0, no factor bytes.
    assert!(b.projections[4..]
        .iter()
        .all(|p| p.rank == 0 && p.bytes.lowrank == 0 && p.bytes.factor == 0));
    // A hybrid projection, q: its low-rank flow (2,048 factor beats on 8 lanes) has every v
    // ready by cycle 2,121 of the token, before the accumulators are final after
    // 128 * 13 = 1,664 array cycles (cycle 2,272), so the ternary formula of
    // bitnet_2b4t_cycles_per_token_by_hand holds: 512 + 512 + 40 + 1,664 + 77 = 2,805.
    assert_eq!(m.cycles.projections[0].cycles, 2_805);
    // The FFN's ternary-only projections: gate and up 512 + 1376 + 40 + 13 * 344 + 77 =
    // 6,477; down 1376 + 512 + 40 + 35 * 128 + 77 = 6,485.
    let ffn: Vec<u64> = m.cycles.projections[4..].iter().map(|p| p.cycles).collect();
    assert_eq!(ffn, [6_477, 6_477, 6_485]);
}

#[test]
fn the_core_config_sets_the_blocks() {
    // C = 20: d_in 2560 = 128 blocks, no padding; 6912 = 345 * 20 + 12 pads to 346 blocks =
    // 6920 trits. R = 2: q has 1280 row groups * 128 blocks.
    let model = Model::preset("bitnet-2b4t").unwrap();
    let core = HgfConfig {
        max_d_in: 6912,
        max_d_out: 6912,
        array_rows: 2,
        array_inputs: 20,
        packing: Packing::Base3,
        ..HgfConfig::preset("up5k").unwrap()
    };
    let est = estimate(&core, &[model], &[Board::preset("kv260").unwrap()]).unwrap();
    let m = &est.models[0];
    // The up5k engine's one gate multiplier issues every other cycle, and C = 20 has an
    // array latency of 4 (as C = 40): the formula above with 2 (d_out - 1) gate cycles
    // instead of d_out - 1, 2560 + 2 * (2560 - 1) + 20 + 1280 * 128 + 78 cycles.
    assert_eq!(
        m.cycles.projections[0].cycles,
        2560 + 2 * (2560 - 1) + 20 + 1280 * 128 + 78
    );
    assert_eq!(m.bytes.projections[6].bytes.weight, 2560 * 6920 / 5);
}

#[test]
fn rows_pad_to_whole_row_groups() {
    // A model whose k and v have 100 outputs, on 8 array rows: 13 row groups, 104 rows of
    // weights, 4 of them zero padding. 64 inputs in base3 blocks of 40: 2 blocks, 16 bytes.
    let model = Model::from_toml_str(
        "name = \"odd\"\nlayers = 1\n\
         [q]\nd_in = 64\nd_out = 64\n[k]\nd_in = 64\nd_out = 100\n[v]\nd_in = 64\nd_out = 100\n\
         [o]\nd_in = 64\nd_out = 64\n[up]\nd_in = 64\nd_out = 128\n[down]\nd_in = 128\nd_out = 64\n",
    )
    .unwrap();
    let core = HgfConfig {
        array_rows: 8,
        ..core_c40(Packing::Base3)
    };
    let est = estimate(&core, &[model], &[Board::preset("kv260").unwrap()]).unwrap();
    let k = &est.models[0].bytes.projections[1];
    assert_eq!((k.d_out, k.bytes.weight), (100, 104 * 16));
}
