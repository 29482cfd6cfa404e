//! Ternary weight packing (docs/arithmetic.md §P): trit codes, row layout and stream order.
//!
//! The golden model owns `pack_*` and `unpack_*`; the hardware's weight unpacker and the
//! co-simulation's stream driver use exactly these layouts.

use ndarray::{Array2, ArrayView2};
use thiserror::Error;

use crate::config::Packing;
use crate::shape::Layout;

/// Why a packed stream does not decode.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PackError {
    #[error("weight stream has {got} bytes; expected {expected} (padded rows x row_bytes)")]
    Length { expected: usize, got: usize },
    #[error("weight byte {index} = {value:#04x} is not a valid `{packing}` code ({reason})")]
    InvalidCode {
        index: usize,
        value: u8,
        packing: Packing,
        reason: &'static str,
    },
    #[error(
        "weight byte {index} holds a non-zero padding trit (past column d_in, or in a padding row)"
    )]
    NonZeroPadding { index: usize },
    #[error("T holds {value} at [{row}, {col}]; allowed values: -1, 0, 1")]
    TritOutOfRange { row: usize, col: usize, value: i8 },
}

/// The 2-bit code of a trit (§P1): two's complement, `00` = 0, `01` = +1, `11` = -1.
fn code_2bit(t: i8) -> u8 {
    (t as u8) & 0b11
}

/// Packs up to `trits_per_byte` trits into one byte (§P1). Missing trits at the end are
/// padding and encode weight 0 (§P2).
///
/// `2bit`: trit `k` in bits `[2k+1:2k]`, first trit least significant. `base3`: the digits
/// `t_k + 1` form `n = sum_k (t_k + 1) 3^(4-k)` (first trit most significant) and the byte is
/// `ceil(256 n / 243)`, the base-3 fraction `n / 243` in eight binary places, so that
/// [`unpack_byte`] needs only a chain of multiplications by 3.
pub fn pack_byte(trits: &[i8], packing: Packing) -> u8 {
    debug_assert!(trits.len() <= packing.trits_per_byte());
    match packing {
        Packing::TwoBit => trits
            .iter()
            .enumerate()
            .fold(0u8, |b, (k, &t)| b | (code_2bit(t) << (2 * k))),
        Packing::Base3 => {
            // Missing trits are zero trits (digit 1), not digit 0.
            let n = (0..5).fold(0u32, |n, k| {
                n * 3 + (trits.get(k).copied().unwrap_or(0) + 1) as u32
            });
            (n * 256).div_ceil(243) as u8
        }
    }
}

/// Decodes one byte into its `trits_per_byte` trits, first trit first (§P1).
///
/// `base3` decodes every byte the way the hardware does: five times, `t = 3 * byte`, the digit
/// is `t >> 8` and `byte = t & 0xFF`. Thirteen byte values are never written by
/// [`pack_byte`]; they decode to some trits all the same, and the golden unpacker rejects them
/// so that a corrupted stream is noticed. `2bit` rejects the reserved code `10`.
pub fn unpack_byte(byte: u8, packing: Packing) -> Result<Vec<i8>, &'static str> {
    match packing {
        Packing::TwoBit => (0..4)
            .map(|k| match (byte >> (2 * k)) & 0b11 {
                0b00 => Ok(0),
                0b01 => Ok(1),
                0b11 => Ok(-1),
                _ => Err("2-bit code 10 is reserved"),
            })
            .collect(),
        Packing::Base3 => {
            let trits = base3_digits(byte);
            if pack_byte(&trits, Packing::Base3) != byte {
                return Err("no five trits pack to this base-3 byte");
            }
            Ok(trits)
        }
    }
}

/// The five trits the multiply-by-3 chain extracts from any byte (§P1), first trit first.
pub fn base3_digits(byte: u8) -> Vec<i8> {
    let mut rest = u32::from(byte);
    (0..5)
        .map(|_| {
            let t = rest * 3;
            rest = t & 0xFF;
            (t >> 8) as i8 - 1
        })
        .collect()
}

/// Packs one row of trits into bytes, the last byte padded with zero trits (§P1, §P2).
pub fn pack_row(row: &[i8], packing: Packing) -> Vec<u8> {
    row.chunks(packing.trits_per_byte())
        .map(|c| pack_byte(c, packing))
        .collect()
}

/// Checks that every value of T is a trit.
fn check_trits(t: ArrayView2<'_, i8>) -> Result<(), PackError> {
    match t.indexed_iter().find(|(_, &v)| !(-1..=1).contains(&v)) {
        Some(((row, col), &value)) => Err(PackError::TritOutOfRange { row, col, value }),
        None => Ok(()),
    }
}

/// Byte `index` of the stream holds byte `b` of row `row` (§P3): column blocks in increasing
/// order; within a block, rows in increasing order, each with its `block_bytes` bytes of that
/// block. A run of `array_rows * block_bytes` bytes is one cycle of the array. Rows run
/// over the padded rows (`d_out` up to whole row groups, §P2).
fn stream_position(layout: &Layout, index: usize) -> (usize, usize) {
    let block_bytes = layout.block_bytes();
    let slice = layout.padded_rows() * block_bytes;
    let (block, within) = (index / slice, index % slice);
    (
        within / block_bytes,
        block * block_bytes + within % block_bytes,
    )
}

/// Packs T (`d_out x d_in`) into the weight stream of §P3 for the layout's packing and
/// array shape: every row padded with zero trits to whole column blocks, and zero rows
/// added up to whole row groups (§P2).
pub fn pack_matrix(t: ArrayView2<'_, i8>, layout: &Layout) -> Result<Vec<u8>, PackError> {
    assert_eq!(t.dim(), (layout.d_out, layout.d_in), "T is d_out x d_in");
    check_trits(t)?;
    let zero_row = pack_row(&vec![0; layout.row_trits()], layout.packing);
    let mut rows: Vec<Vec<u8>> = t
        .rows()
        .into_iter()
        .map(|row| {
            let mut padded = row.to_vec();
            padded.resize(layout.row_trits(), 0);
            pack_row(&padded, layout.packing)
        })
        .collect();
    rows.resize(layout.padded_rows(), zero_row);
    Ok((0..layout.weight_bytes())
        .map(|i| {
            let (row, b) = stream_position(layout, i);
            rows[row][b]
        })
        .collect())
}

/// Decodes a weight stream of §P3 back into T. Rejects a wrong length, reserved codes and
/// non-zero padding.
pub fn unpack_matrix(stream: &[u8], layout: &Layout) -> Result<Array2<i8>, PackError> {
    if stream.len() != layout.weight_bytes() {
        return Err(PackError::Length {
            expected: layout.weight_bytes(),
            got: stream.len(),
        });
    }
    let tpb = layout.trits_per_byte();
    let mut t = Array2::zeros((layout.d_out, layout.d_in));
    for (index, &byte) in stream.iter().enumerate() {
        let trits = unpack_byte(byte, layout.packing).map_err(|reason| PackError::InvalidCode {
            index,
            value: byte,
            packing: layout.packing,
            reason,
        })?;
        let (row, b) = stream_position(layout, index);
        for (k, trit) in trits.into_iter().enumerate() {
            let col = b * tpb + k;
            if row < layout.d_out && col < layout.d_in {
                t[[row, col]] = trit;
            } else if trit != 0 {
                return Err(PackError::NonZeroPadding { index });
            }
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_codes_match_the_contract_table() {
        // §P1 examples: 2-bit [+1, -1, 0, +1] = 01 | 11<<2 | 00<<4 | 01<<6.
        assert_eq!(pack_byte(&[1, -1, 0, 1], Packing::TwoBit), 0b01_00_11_01);
        // base-3 [+1, -1, 0, +1, -1]: digits 2, 0, 1, 2, 0 -> n = 162 + 0 + 9 + 6 + 0 = 177,
        // byte = ceil(177 * 256 / 243) = ceil(186.47) = 187.
        assert_eq!(pack_byte(&[1, -1, 0, 1, -1], Packing::Base3), 187);
        // Five zero trits: n = 121, byte = ceil(127.47) = 128.
        assert_eq!(pack_byte(&[0; 5], Packing::Base3), 128);
        assert_eq!(pack_byte(&[-1; 5], Packing::Base3), 0);
        assert_eq!(pack_byte(&[1; 5], Packing::Base3), 255);
        // A short final chunk is padded with zero trits.
        assert_eq!(
            pack_byte(&[-1], Packing::Base3),
            pack_byte(&[-1, 0, 0, 0, 0], Packing::Base3)
        );
    }

    #[test]
    fn base3_multiply_chain_inverts_the_packing_for_all_243_codes() {
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..243u32 {
            let trits: Vec<i8> = (0..5)
                .map(|k| ((n / 3u32.pow(4 - k)) % 3) as i8 - 1)
                .collect();
            let byte = pack_byte(&trits, Packing::Base3);
            assert_eq!(base3_digits(byte), trits, "n = {n}");
            seen.insert(byte);
        }
        assert_eq!(seen.len(), 243);
    }

    #[test]
    fn every_byte_round_trips_or_is_rejected() {
        for packing in Packing::ALL {
            let mut valid = 0;
            for byte in 0..=255u8 {
                if let Ok(trits) = unpack_byte(byte, packing) {
                    valid += 1;
                    assert_eq!(pack_byte(&trits, packing), byte, "{packing} {byte}");
                }
            }
            assert_eq!(valid, 3usize.pow(packing.trits_per_byte() as u32));
            if packing == Packing::Base3 {
                // Every byte decodes to trits in hardware, valid or not.
                for byte in 0..=255u8 {
                    assert!(base3_digits(byte).iter().all(|t| (-1..=1).contains(t)));
                }
            }
        }
    }
}
