//! Simple dual-port memory of runtime depth, built from 256-word rust-hdl `RAM` tiles.

use rust_hdl::prelude::*;

/// Words per tile: 256 x 16 bits is one iCE40 `SB_RAM40_4K`.
pub const TILE_WORDS: usize = 256;
/// Address bits of one tile.
const TILE_ADDRESS_BITS: usize = 8;
/// Bits of a tile number: 2^20 words / 256 words per tile.
const TILE_INDEX_BITS: usize = 12;
/// Largest depth: the ports carry 20-bit addresses.
pub const MAX_DEPTH: usize = 1 << 20;

/// Simple dual-port memory of runtime depth (`TiledRam<W>`).
///
/// **Function.** `W`-bit words at addresses `0 .. depth`. On a rising edge with
/// `write_enable` high, `mem[write_address] <- write_data`. On every rising edge,
/// `read_data <- mem[read_address]` (a synchronous read, like one rust-hdl `RAM`). A read of
/// the address written on the same edge returns the old word (Verilog semantics of `RAM`;
/// yosys keeps them on BRAMs with bypass logic, see **Resources**). Contents are undefined until
/// written (the rust-hdl simulation reads 0). No reset.
///
/// Structure: `ceil(depth / 256)` tiles, each a `RAM<Bits<W>, 8>` of 256 words; address bits
/// `[7:0]` select the word in every tile, bits `[19:8]` the tile. A write goes to the one tile
/// whose number matches; every tile reads on every edge, and a register of the read tile
/// number picks the tile's `read_data` after the edge. Tile numbers are masked to the bits
/// that `depth` needs, so yosys removes the unused address logic. Memory depth comes from the
/// number of tiles because yosys does not shrink a RAM whose upper address bits are
/// constant.
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge; every port is synchronous to it |
/// | `write_enable` | in | 1 | high: write `write_data` to `write_address` on this edge |
/// | `write_address` | in | 20 | word address, `< depth` |
/// | `write_data` | in | `W` | the word to write |
/// | `read_address` | in | 20 | word address, `< depth`, sampled on every edge |
/// | `read_data` | out | `W` | `mem[read_address]` as it was before the edge that sampled the address |
///
/// **Latency** 1: the word of the address presented before edge `n` is on `read_data` after
/// edge `n` (until edge `n + 1`). **Throughput** one read and one write per cycle, never stalls.
/// **Resources** `ceil(depth / 256)` tiles, each one iCE40 `SB_RAM40_4K` per 16 data bits
/// (256 × 16) or one ECP5 `DP16KD` up to 36 bits (it uses a quarter to a half of the
/// 512 × 36 / 1024 × 18 block); yosys keeps only the data bits that are written non-constant
/// and read. Synthesis estimates (yosys 0.23), BRAMs / LUT4 / FF:
///
/// | depth | W = 16, iCE40 | W = 16, ECP5 | W = 32, iCE40 | W = 32, ECP5 |
/// |---|---|---|---|---|
/// | 128 | 1 / 23 / 42 | 1 / 37 / 42 | 2 / 39 / 74 | 1 / 47 / 74 |
/// | 512 | 2 / 43 / 45 | 2 / 58 / 45 | 4 / 75 / 77 | 2 / 106 / 77 |
/// | 1000 | 4 / 101 / 50 | 4 / 160 / 50 | 8 / 181 / 82 | 4 / 304 / 82 |
///
/// Most of the LUTs and all but 1–2 FF are yosys's emulation of the read-old-data collision
/// rule, which it does not map onto the BRAM ports: a register of the last write (about
/// `W` + 26 FF per memory, shared by its tiles) and a bypass mux. Without it (a memory marked
/// `no_rw_check`, which rust-hdl's `RAM` cannot emit) the figures are the tile read mux
/// alone: 1, 20, 40 LUT4 (W = 16) and 1, 36, 72 (W = 32) on iCE40.
/// **Golden** none (a memory); the tests compare with a Rust array.
/// **Limits** `1 <= depth <= 2^20`; addresses `>= depth` are not allowed (they alias other
/// words or read 0).
#[derive(LogicBlock)]
pub struct TiledRam<const W: usize> {
    /// Rising edge; all ports are synchronous to it.
    pub clock: Signal<In, Clock>,
    /// High: write `write_data` to `write_address` on this edge.
    pub write_enable: Signal<In, Bit>,
    /// Word address of the write.
    pub write_address: Signal<In, Bits<20>>,
    /// The word to write.
    pub write_data: Signal<In, Bits<W>>,
    /// Word address of the read, sampled on every edge.
    pub read_address: Signal<In, Bits<20>>,
    /// The word at `read_address` as sampled on the last edge.
    pub read_data: Signal<Out, Bits<W>>,
    /// The tiles, 256 words each.
    tiles: Vec<RAM<Bits<W>, TILE_ADDRESS_BITS>>,
    /// Tile `i`'s number.
    tile_number: Vec<Constant<Bits<TILE_INDEX_BITS>>>,
    /// `2^ceil(log2 tiles) - 1`: the tile-number bits that `depth` uses.
    tile_mask: Constant<Bits<TILE_INDEX_BITS>>,
    /// The tile that the write addresses.
    write_tile: Signal<Local, Bits<TILE_INDEX_BITS>>,
    /// The tile that the last sampled read address named: it selects `read_data`.
    read_tile: DFF<Bits<TILE_INDEX_BITS>>,
    /// A zero word, typed (docs/lint-waivers.md).
    zero: Constant<Bits<W>>,
}

impl<const W: usize> TiledRam<W> {
    /// A memory of `depth` words of `W` bits.
    ///
    /// # Panics
    /// If `depth` is 0 or above 2^20.
    pub fn new(depth: usize) -> Self {
        assert!(
            (1..=MAX_DEPTH).contains(&depth),
            "TiledRam depth {depth} is outside 1..={MAX_DEPTH}"
        );
        let tiles = depth.div_ceil(TILE_WORDS);
        let tile_mask = (tiles.next_power_of_two() - 1) as u64;
        Self {
            clock: Default::default(),
            write_enable: Default::default(),
            write_address: Default::default(),
            write_data: Default::default(),
            read_address: Default::default(),
            read_data: Default::default(),
            tiles: (0..tiles).map(|_| RAM::default()).collect(),
            tile_number: (0..tiles)
                .map(|i| Constant::new((i as u64).into()))
                .collect(),
            tile_mask: Constant::new(tile_mask.into()),
            write_tile: Default::default(),
            read_tile: Default::default(),
            zero: Constant::new(0u64.into()),
        }
    }

    /// Number of 256-word tiles.
    pub fn tiles(&self) -> usize {
        self.tiles.len()
    }
}

impl<const W: usize> Logic for TiledRam<W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, read_tile);
        // Literal offsets: a Rust constant's name would reach the Verilog. 8 = TILE_ADDRESS_BITS.
        self.write_tile.next =
            self.write_address.val().get_bits::<TILE_INDEX_BITS>(8) & self.tile_mask.val();
        self.read_tile.d.next =
            self.read_address.val().get_bits::<TILE_INDEX_BITS>(8) & self.tile_mask.val();
        self.read_data.next = self.zero.val();
        for i in 0..self.tiles.len() {
            self.tiles[i].read_clock.next = self.clock.val();
            self.tiles[i].write_clock.next = self.clock.val();
            self.tiles[i].read_address.next =
                self.read_address.val().get_bits::<TILE_ADDRESS_BITS>(0);
            self.tiles[i].write_address.next =
                self.write_address.val().get_bits::<TILE_ADDRESS_BITS>(0);
            self.tiles[i].write_data.next = self.write_data.val();
            self.tiles[i].write_enable.next =
                self.write_enable.val() & (self.write_tile.val() == self.tile_number[i].val());
            if self.read_tile.q.val() == self.tile_number[i].val() {
                self.read_data.next = self.tiles[i].read_data.val();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::tick;
    use crate::verilog;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn new_uut<const W: usize>(depth: usize) -> TiledRam<W> {
        let mut uut = TiledRam::<W>::new(depth);
        uut.connect_all();
        uut
    }

    #[test]
    fn synthesizes() {
        for depth in [128, 512, 1000] {
            let uut = new_uut::<16>(depth);
            let name = format!("tiled_ram_w16_d{depth}");
            let v = verilog::emit_named(&uut, &name).unwrap();
            verilog::check_all_tools(&name, &v).unwrap();
        }
        let uut = new_uut::<32>(1000);
        let v = verilog::emit_named(&uut, "tiled_ram_w32_d1000").unwrap();
        verilog::check_all_tools("tiled_ram_w32_d1000", &v).unwrap();
    }

    /// Random reads and writes against a Rust array, addresses concentrated around the tile
    /// boundaries, collisions (read and write of one address on one edge) included.
    fn random_traffic<const W: usize>(depth: usize, cycles: usize, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut uut = new_uut::<W>(depth);
        let mut model: Vec<Option<u64>> = vec![None; depth];
        let word_mask = if W == 64 { u64::MAX } else { (1u64 << W) - 1 };
        let address = |rng: &mut ChaCha8Rng| -> usize {
            if rng.random_bool(0.5) {
                // Near a tile boundary (or the end).
                let edge = rng.random_range(0..=depth / TILE_WORDS) * TILE_WORDS;
                let a = edge as i64 + rng.random_range(-3i64..3);
                a.clamp(0, depth as i64 - 1) as usize
            } else {
                rng.random_range(0..depth)
            }
        };
        let mut checked = 0;
        for cycle in 0..cycles {
            let we = rng.random_bool(0.5);
            let wa = address(&mut rng);
            let wd = rng.random::<u64>() & word_mask;
            let ra = if rng.random_bool(0.1) {
                wa
            } else {
                address(&mut rng)
            };
            uut.write_enable.next = we;
            uut.write_address.next = (wa as u64).into();
            uut.write_data.next = wd.into();
            uut.read_address.next = (ra as u64).into();
            tick(&mut uut, |u| &mut u.clock);
            // The read sees the memory before this edge's write.
            let now = model[ra];
            if we {
                model[wa] = Some(wd);
            }
            if let Some(want) = now {
                assert_eq!(
                    uut.read_data.val().to_u64(),
                    want,
                    "depth {depth} W {W} cycle {cycle}: read {ra}"
                );
                checked += 1;
            }
        }
        assert!(checked > cycles / 4, "only {checked} reads checked");
    }

    #[test]
    fn random_reads_and_writes_match_an_array() {
        random_traffic::<16>(1000, 3000, 1);
        random_traffic::<32>(512, 2000, 2);
        random_traffic::<16>(128, 1000, 3);
        random_traffic::<8>(1, 200, 4);
    }
}
