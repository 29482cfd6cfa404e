//! §P: packing round trips for every shape, packing and row grouping (`d_out` padded to whole
//! row groups, `d_in` to whole column blocks), and the rejection of malformed streams.

use hgf_golden::packing::{pack_matrix, unpack_matrix, PackError};
use hgf_golden::{HgfConfig, Layout, Packing, Shape};
use ndarray::Array2;
use proptest::prelude::*;

/// A `d_out x d_in` projection on an engine of `rows` array rows and column blocks of
/// `block_bytes` bytes, in `packing`.
fn layout(d_in: usize, d_out: usize, rows: usize, block_bytes: usize, packing: Packing) -> Layout {
    let cfg = HgfConfig {
        packing,
        array_rows: rows,
        array_inputs: block_bytes * packing.trits_per_byte(),
        ..HgfConfig::default()
    };
    cfg.validate().expect("valid engine");
    let shape = Shape::new(d_in, d_out, 1);
    cfg.check_shape(shape).expect("a shape the engine runs");
    cfg.layout(shape)
}

fn packing_strategy() -> impl Strategy<Value = Packing> {
    prop_oneof![Just(Packing::Base3), Just(Packing::TwoBit)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn unpack_of_pack_is_identity(
        d_in in 1usize..70,
        d_out in 1usize..20,
        rows in 1usize..5,
        block_bytes in 1usize..4,
        packing in packing_strategy(),
        seed in any::<u64>(),
    ) {
        let p = layout(d_in, d_out, rows, block_bytes, packing);
        let mut state = seed | 1;
        let t = Array2::from_shape_fn((d_out, d_in), |_| {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            (state % 3) as i8 - 1
        });
        let stream = pack_matrix(t.view(), &p).unwrap();
        // Rows padded to whole groups of `rows`, columns to whole blocks of
        // `block_bytes * trits_per_byte`.
        let padded_rows = d_out.div_ceil(rows) * rows;
        let block_trits = block_bytes * packing.trits_per_byte();
        let row_bytes = d_in.div_ceil(block_trits) * block_bytes;
        prop_assert_eq!(p.padded_rows(), padded_rows);
        prop_assert_eq!(stream.len(), padded_rows * row_bytes);
        prop_assert_eq!(stream.len(), p.weight_bytes());
        prop_assert_eq!(unpack_matrix(&stream, &p).unwrap(), t);
        // Every byte of a padding row encodes zero trits (rows are the slowest index within
        // a column block of `padded_rows * block_bytes` bytes).
        let zero = pack_matrix(Array2::zeros((1, 1)).view(), &layout(1, 1, 1, 1, packing))
            .unwrap()[0];
        for (i, &b) in stream.iter().enumerate() {
            if (i % (padded_rows * block_bytes)) / block_bytes >= d_out {
                prop_assert_eq!(b, zero, "byte {}", i);
            }
        }
    }
}

#[test]
fn stream_is_column_block_major() {
    // d_in = 12 in base3 with blocks of 10 columns (2 bytes): 2 blocks, rows padded to 20
    // trits (4 bytes). Stream: block 0 of rows 0..3, then block 1 of rows 0..3.
    let p = layout(12, 3, 1, 2, Packing::Base3);
    assert_eq!(
        (p.column_blocks(), p.row_bytes(), p.weight_bytes()),
        (2, 4, 12)
    );
    let mut t = Array2::zeros((3, 12));
    t[[1, 0]] = 1; // row 1, block 0, byte 0, first trit
    t[[2, 11]] = -1; // row 2, block 1, byte 0 (columns 10..15), second trit
    let s = pack_matrix(t.view(), &p).unwrap();
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
    assert_eq!(unpack_matrix(&s, &p).unwrap(), t);
}

#[test]
fn rows_pad_to_whole_row_groups_in_the_stream() {
    // d_out = 3 on 2 array rows: two row groups, row 3 is padding. d_in = 7 in 2bit with
    // blocks of 4 columns: 2 blocks of 1 byte. Stream: block 0 of rows 0..4, then block 1.
    let p = layout(7, 3, 2, 1, Packing::TwoBit);
    assert_eq!(
        (p.row_groups(), p.padded_rows(), p.weight_bytes()),
        (2, 4, 8)
    );
    let mut t = Array2::zeros((3, 7));
    t[[0, 0]] = 1; // block 0 of row 0, trit 0: 0b01
    t[[2, 3]] = -1; // block 0 of row 2, trit 3: 0b11 << 6
    t[[2, 6]] = 1; // block 1 of row 2, trit 2: 0b01 << 4
    let s = pack_matrix(t.view(), &p).unwrap();
    #[rustfmt::skip]
    let expected = vec![
        0b01, 0, 0b11 << 6, 0, // block 0 of rows 0, 1, 2 and the padding row
        0, 0, 0b01 << 4, 0,    // block 1
    ];
    assert_eq!(s, expected);
    assert_eq!(unpack_matrix(&s, &p).unwrap(), t);
    // A non-zero trit in the padding row is refused, in either block.
    for index in [3, 7] {
        let mut bad = s.clone();
        bad[index] = 0b01;
        assert_eq!(
            unpack_matrix(&bad, &p),
            Err(PackError::NonZeroPadding { index })
        );
    }
}

#[test]
fn malformed_streams_are_rejected() {
    let p = layout(7, 2, 1, 1, Packing::TwoBit);
    let t = Array2::zeros((2, 7));
    let good = pack_matrix(t.view(), &p).unwrap();
    assert_eq!(good.len(), 4);

    let short = &good[..3];
    assert_eq!(
        unpack_matrix(short, &p),
        Err(PackError::Length {
            expected: 4,
            got: 3
        })
    );
    let mut reserved = good.clone();
    reserved[0] = 0b10;
    assert!(matches!(
        unpack_matrix(&reserved, &p),
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
        unpack_matrix(&padding, &p),
        Err(PackError::NonZeroPadding { index: 2 })
    );

    let p3 = layout(5, 1, 1, 1, Packing::Base3);
    assert!(matches!(
        unpack_matrix(&[1], &p3),
        Err(PackError::InvalidCode { value: 1, .. })
    ));

    let mut bad_t = Array2::zeros((2, 7));
    bad_t[[1, 3]] = 2;
    assert_eq!(
        pack_matrix(bad_t.view(), &p),
        Err(PackError::TritOutOfRange {
            row: 1,
            col: 3,
            value: 2
        })
    );
}
