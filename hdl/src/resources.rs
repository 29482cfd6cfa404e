//! The multipliers and memories a unit builds, stated by the unit for the area model.
//!
//! Every unit that builds a multiplier or a memory states them with a `resources` function
//! beside its constructor, taking what the constructor takes (`Fp32Mul::resources`,
//! `QuantizerUnit::resources(cfg)`, ...). The area model (`hgf_estimate::area`) counts DSPs
//! and block RAMs from these statements instead of re-deriving what the units build.

use hgf_golden::streams::V_INTERLEAVE;
use hgf_golden::HgfConfig;

use crate::fp16_mul::Fp16MulExact;
use crate::tiled_ram::TiledRam;

/// One memory a unit builds: a [`TiledRam`] of `words` words, of which synthesis keeps
/// `bits` data bits (a unit may store narrower values in a wider RAM: the unused bits go).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    /// Depth in words.
    pub words: usize,
    /// Data bits that synthesis keeps.
    pub bits: u32,
}

impl Memory {
    /// 256-word tiles of the memory: the rule of [`TiledRam`] itself.
    pub fn tiles(&self) -> usize {
        TiledRam::<1>::new(self.words).tiles()
    }

    /// Block RAMs of the memory on a family whose block RAM holds `tile_bits` data bits of
    /// one 256-word tile (iCE40 `SB_RAM40_4K`: 16; ECP5 `DP16KD`: 36): every tile takes
    /// `ceil(bits / tile_bits)` of them.
    pub fn block_rams(&self, tile_bits: u32) -> u64 {
        self.tiles() as u64 * u64::from(self.bits.div_ceil(tile_bits))
    }
}

/// The multipliers (16x16 pieces: an iCE40 `SB_MAC16` or an ECP5 `MULT18X18D` each) and the
/// memories of a unit, its sub-units included.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// 16x16 multiplier pieces.
    pub multipliers: u64,
    /// Memories, in the order the unit builds them.
    pub memories: Vec<Memory>,
}

impl Resources {
    /// No multiplier, no memory.
    pub fn none() -> Self {
        Self::default()
    }

    /// `pieces` 16x16 multipliers and no memory.
    pub fn multipliers(pieces: u64) -> Self {
        Self {
            multipliers: pieces,
            memories: Vec::new(),
        }
    }

    /// One memory of `words` words, `bits` of which synthesis keeps.
    pub fn memory(words: usize, bits: u32) -> Self {
        Self {
            multipliers: 0,
            memories: vec![Memory { words, bits }],
        }
    }

    /// These and `other`'s (its memories after these).
    pub fn and(mut self, other: Resources) -> Self {
        self.multipliers += other.multipliers;
        self.memories.extend(other.memories);
        self
    }

    /// `copies` times these (the memories repeated in order).
    pub fn times(self, copies: usize) -> Self {
        (0..copies).fold(Self::none(), |all, _| all.and(self.clone()))
    }
}

/// The low-rank unit's (`LowRankUnit::new(cfg)`): per lane an x bank of binary16 inputs
/// (`LowRankXBuffer`, `u_steps` words), then per lane a v bank of binary32 rows
/// (`LowRankVBuffer`, `ceil(max_d_out / fp_lanes)` words), then the lanes
/// (`Fp16MacLane::new(max(max_rank, V_INTERLEAVE))`: an [`Fp16MulExact`] and a register
/// file of binary32 partial sums, one word per slot), then the u buffer (`LowRankUBuffer`,
/// `max_rank` binary16 words).
///
/// Stated here rather than beside `LowRankUnit::new` and `Fp16MacLane::new` because the
/// low-rank files were being re-pipelined at the same time (issue 16); it belongs there,
/// with the constructors' sizes.
pub fn lowrank_unit(cfg: &HgfConfig) -> Resources {
    let lanes = cfg.fp_lanes;
    let max = cfg.max_layout();
    let x_banks = Resources::memory(max.u_steps(), 16).times(lanes);
    let v_banks = Resources::memory(cfg.max_d_out.div_ceil(lanes), 32).times(lanes);
    let slots = max.rank.max(V_INTERLEAVE);
    let mac_lanes = Fp16MulExact::resources()
        .and(Resources::memory(slots, 32))
        .times(lanes);
    let u_buffer = Resources::memory(cfg.max_rank, 16);
    x_banks.and(v_banks).and(mac_lanes).and(u_buffer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lowrank_unit::LowRankUnit;

    #[test]
    fn memories_count_tiles_and_block_rams() {
        let m = Memory {
            words: 1000,
            bits: 17,
        };
        assert_eq!(m.tiles(), 4);
        // iCE40: 2 SB_RAM40_4K per tile (16 bits each); ECP5: one DP16KD per tile.
        assert_eq!(m.block_rams(16), 8);
        assert_eq!(m.block_rams(36), 4);
        let small = Memory {
            words: 256,
            bits: 16,
        };
        assert_eq!((small.tiles(), small.block_rams(16)), (1, 1));
    }

    #[test]
    fn resources_add_and_repeat_in_order() {
        let a = Resources::multipliers(4).and(Resources::memory(10, 16));
        let b = Resources::memory(20, 32);
        let both = a.clone().and(b).times(2);
        assert_eq!(both.multipliers, 8);
        let words: Vec<usize> = both.memories.iter().map(|m| m.words).collect();
        assert_eq!(words, [10, 20, 10, 20]);
        assert_eq!(a.times(0), Resources::none());
    }

    #[test]
    fn the_lowrank_statement_matches_the_built_unit() {
        // The memories that the built unit's lanes, v banks and u buffer hold (the x banks
        // are private to their buffer: `u_steps` words each, checked by the count).
        let cfg = HgfConfig::from_toml_str(
            "max_d_in = 100\nmax_d_out = 30\nmax_rank = 5\narray_rows = 4\n\
             array_inputs = 10\nfp_lanes = 2",
        )
        .unwrap();
        let unit = LowRankUnit::new(&cfg);
        let stated = lowrank_unit(&cfg);
        assert_eq!(stated.multipliers, unit.lanes() as u64);
        assert_eq!(stated.memories.len(), 3 * unit.lanes() + 1);
        let v_tiles: Vec<usize> = unit.v_buffer.banks.iter().map(|b| b.tiles()).collect();
        let stated_v: Vec<usize> = stated.memories[2..4].iter().map(|m| m.tiles()).collect();
        assert_eq!(v_tiles, stated_v);
        assert_eq!(
            stated.memories.last().map(|m| m.tiles()),
            Some(unit.u_buffer.ram.tiles())
        );
    }
}
