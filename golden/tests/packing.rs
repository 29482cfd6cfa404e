//! §P: packing round trips for every shape, packing and row grouping, and the rejection of
//! malformed streams.

use hgf_golden::packing::{pack_matrix, unpack_matrix, PackError};
use hgf_golden::{HgfConfig, Packing};
use ndarray::Array2;
use proptest::prelude::*;

fn config(d_in: usize, d_out: usize, rows: usize, packing: Packing) -> HgfConfig {
    let mut cfg = HgfConfig::for_shape(d_in, d_out, 1).expect("valid shape");
    cfg.packing = packing;
    cfg.array_rows = rows;
    cfg.array_inputs = packing.trits_per_byte();
    cfg.validate().expect("valid config");
    cfg
}

fn packing_strategy() -> impl Strategy<Value = Packing> {
    prop_oneof![Just(Packing::Base3), Just(Packing::TwoBit)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn unpack_of_pack_is_identity(
        d_in in 1usize..70,
        groups in 1usize..5,
        rows in 1usize..5,
        packing in packing_strategy(),
        seed in any::<u64>(),
    ) {
        let d_out = groups * rows;
        let cfg = config(d_in, d_out, rows, packing);
        let mut state = seed | 1;
        let t = Array2::from_shape_fn((d_out, d_in), |_| {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            (state % 3) as i8 - 1
        });
        let stream = pack_matrix(t.view(), &cfg).unwrap();
        prop_assert_eq!(stream.len(), d_out * d_in.div_ceil(packing.trits_per_byte()));
        prop_assert_eq!(stream.len(), cfg.weight_bytes());
        prop_assert_eq!(unpack_matrix(&stream, &cfg).unwrap(), t);
    }
}

#[test]
fn stream_is_column_block_major() {
    // d_in = 12 in base3 with blocks of 10 columns (2 bytes): 2 blocks, rows padded to 20
    // trits (4 bytes). Stream: block 0 of rows 0..3, then block 1 of rows 0..3.
    let mut cfg = config(12, 3, 1, Packing::Base3);
    cfg.array_inputs = 10;
    cfg.validate().unwrap();
    assert_eq!(
        (cfg.column_blocks(), cfg.row_bytes(), cfg.weight_bytes()),
        (2, 4, 12)
    );
    let mut t = Array2::zeros((3, 12));
    t[[1, 0]] = 1; // row 1, block 0, byte 0, first trit
    t[[2, 11]] = -1; // row 2, block 1, byte 0 (columns 10..15), second trit
    let s = pack_matrix(t.view(), &cfg).unwrap();
    // Five zero trits.
    let zero = 128u8;
    // Row 1 block 0 is [+1, 0, 0, 0, 0] then five zeros: n = 202, byte 213. Row 2 block 1 is
    // [0, -1, 0, 0, 0] then zeros: n = 81 + 0 + 9 + 3 + 1 = 94, byte ceil(99.03) = 100.
    #[rustfmt::skip]
    let expected = vec![
        zero, zero, 213, zero, zero, zero, // block 0 of rows 0, 1, 2
        zero, zero, zero, zero, 100, zero, // block 1 of rows 0, 1, 2
    ];
    assert_eq!(s, expected);
    assert_eq!(unpack_matrix(&s, &cfg).unwrap(), t);
}

#[test]
fn malformed_streams_are_rejected() {
    let cfg = config(7, 2, 1, Packing::TwoBit);
    let t = Array2::zeros((2, 7));
    let good = pack_matrix(t.view(), &cfg).unwrap();
    assert_eq!(good.len(), 4);

    let short = &good[..3];
    assert_eq!(
        unpack_matrix(short, &cfg),
        Err(PackError::Length {
            expected: 4,
            got: 3
        })
    );
    let mut reserved = good.clone();
    reserved[0] = 0b10;
    assert!(matches!(
        unpack_matrix(&reserved, &cfg),
        Err(PackError::InvalidCode {
            index: 0,
            value: 0b10,
            ..
        })
    ));
    // Stream byte 2 is block 1 of row 0: columns 4..7, and column 7 is padding.
    let mut padding = good.clone();
    padding[2] = 0b01 << 6;
    assert_eq!(
        unpack_matrix(&padding, &cfg),
        Err(PackError::NonZeroPadding { index: 2 })
    );

    let cfg3 = config(5, 1, 1, Packing::Base3);
    assert!(matches!(
        unpack_matrix(&[1], &cfg3),
        Err(PackError::InvalidCode { value: 1, .. })
    ));

    let mut bad_t = Array2::zeros((2, 7));
    bad_t[[1, 3]] = 2;
    assert_eq!(
        pack_matrix(bad_t.view(), &cfg),
        Err(PackError::TritOutOfRange {
            row: 1,
            col: 3,
            value: 2
        })
    );
}
