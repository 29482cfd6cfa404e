//! The multipliers and memories a unit builds, stated by the unit for the area model.
//!
//! Every unit that builds a multiplier or a memory states them with a `resources` function
//! beside its constructor, taking what the constructor takes (`Fp32Mul::resources`,
//! `QuantizerUnit::resources(cfg)`, `LowRankUnit::resources(cfg)`, ...). The area model
//! (`hgf_estimate::area`) counts DSPs and block RAMs from these statements instead of
//! re-deriving what the units build.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
