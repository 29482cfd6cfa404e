//! FPGA boards as the estimator sees them: the memory the weights stream from (capacity, peak
//! and sustained bandwidth) and the clock the core runs at. Every figure and its source is in
//! docs/estimate.md; `--bandwidth` and `--clock` override them.
//!
//! Bandwidths are in MB/s of 10^6 bytes, clocks in MHz.

use hgf_golden::Target;
use serde::Serialize;

use crate::error::EstimateError;

/// Share of the peak a DRAM interface sustains on long sequential reads, as measured on the
/// Arty A7: 1,423 MB/s of the 1,600 MB/s its DDR3 moves at 800 MT/s over 16 bits. Used as
/// the sustained assumption of the other DRAM boards, which have not been measured.
pub const DRAM_EFFICIENCY: f64 = 1423.0 / 1600.0;

/// Largest bandwidth accepted from `--bandwidth` (1 TB/s: far above any board here).
pub const MAX_BANDWIDTH_MB_S: f64 = 1.0e6;
/// Largest clock accepted from `--clock`.
pub const MAX_CLOCK_MHZ: f64 = 2000.0;

/// Names of the built-in boards.
pub const PRESETS: [&str; 5] = ["icebreaker", "ulx3s", "orangecrab", "arty-a7", "kv260"];

const MIB: u64 = 1 << 20;

/// A board: where the weights live and how fast the core can read them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Board {
    /// Short name (`--board NAME`).
    pub name: String,
    /// The board and its FPGA.
    pub description: String,
    /// The memory the weights stream from.
    pub memory: String,
    /// Bytes of that memory (a model's weights must fit); unknown for a custom board.
    pub capacity_bytes: Option<u64>,
    /// Peak data rate of that memory interface, MB/s.
    pub peak_mb_s: f64,
    /// The bandwidth the estimate uses, MB/s: measured, assumed, or given with `--bandwidth`.
    pub sustained_mb_s: f64,
    /// Where the sustained figure comes from.
    pub sustained_basis: String,
    /// The board's FPGA as the project sees it: a part it places, or a family it cannot.
    pub fpga: BoardFpga,
    /// Clock of the core, MHz.
    pub clock_mhz: f64,
    /// Whether the clock is a measured Fmax, an assumption or given on the command line.
    pub clock_source: ClockSource,
    /// Where the clock comes from (for a measured one: which run).
    pub clock_basis: String,
}

/// A board's FPGA, as far as the core's fit and clock can be known.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BoardFpga {
    /// A part the project synthesises and places (`hgf synth --target`): the area model says
    /// whether the core fits it.
    Placeable { target: Target },
    /// A family the open flow here cannot place (Xilinx): whether the core fits, and at what
    /// clock it runs, are unknown.
    NotPlaceable { part: &'static str },
    /// A custom board (`--bandwidth`, `--clock` without `--board`): no FPGA named.
    Unspecified,
}

impl BoardFpga {
    /// The FPGA in words.
    pub fn text(self) -> String {
        match self {
            BoardFpga::Placeable { target } => target.name().to_string(),
            BoardFpga::NotPlaceable { part } => format!("{part} (not placed here)"),
            BoardFpga::Unspecified => "unspecified".to_string(),
        }
    }
}

/// Where a board's core clock comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockSource {
    /// nextpnr's Fmax of a core placed and routed on the board's part (docs/results.md).
    Measured,
    /// Not measured: a figure taken for the estimate.
    Assumed,
    /// `--clock`.
    Given,
}

impl ClockSource {
    pub fn name(self) -> &'static str {
        match self {
            ClockSource::Measured => "measured",
            ClockSource::Assumed => "assumed",
            ClockSource::Given => "given",
        }
    }
}

/// The clock basis of the boards whose FPGA family the open flow does not place (Xilinx):
/// the LiteX system clock, not a measured Fmax of the core.
const LITEX_CLOCK: &str = "assumed: the default system clock of the board's LiteX target; the \
                           core's Fmax on this FPGA family is not measured (no open \
                           place-and-route for it here)";

/// The core's clock on the iCEBreaker: nextpnr-ice40's Fmax of the `up5k` core on the
/// UP5K, 19.14 MHz (docs/results.md, issue 16's re-pipelining table), rounded down; below the
/// 24 MHz LiteX system clock, so the core would run in a clock domain of its own (the flash
/// keeps its 24 MHz).
const ICE40_CORE_MHZ: f64 = 19.0;
const ICE40_CLOCK: &str = "measured: nextpnr-ice40 Fmax of the up5k core (not of other \
                           configs) placed and routed on the iCE40 UP5K, 19.14 MHz, rounded \
                           down (docs/results.md, re-pipelining table; seed 1, run of commit \
                           fa6cee8, 2026-12-08); below the LiteX system clock";

/// The core's clock on an ECP5 board: nextpnr's Fmax of the `default` core on an ECP5-25k,
/// 52.92 MHz (docs/results.md, issue 16's re-pipelining table), rounded down. The core runs
/// in a clock domain of its own at this rate (the boards' LiteX system clocks are 48–50 MHz).
const ECP5_CORE_MHZ: f64 = 52.0;
const ECP5_CLOCK: &str = "measured: nextpnr-ecp5 Fmax of the default core placed and routed on \
                          the ECP5-25k, 52.92 MHz, rounded down (docs/results.md, \
                          re-pipelining table; seed 1, run of commit fa6cee8, 2026-12-08); in \
                          a clock domain of its own beside the LiteX system clock";

impl Board {
    /// A built-in board.
    pub fn preset(name: &str) -> Result<Board, EstimateError> {
        let board = match name {
            "icebreaker" => Board {
                name: name.into(),
                description: "1BitSquared iCEBreaker (Lattice iCE40 UP5K)".into(),
                memory: "Winbond W25Q128JV QSPI NOR flash, 16 MiB, 4 data lines".into(),
                capacity_bytes: Some(16 * MIB),
                // 133 MHz quad-output reads (datasheet maximum), 4 bits per clock.
                peak_mb_s: 133.0 * 4.0 / 8.0,
                sustained_mb_s: 24.0 * 4.0 / 8.0,
                sustained_basis: "assumed: QSPI clocked at the 24 MHz system clock, 4 bits per \
                                  clock, one continuous read per token (command and dummy \
                                  cycles amortised)"
                    .into(),
                fpga: BoardFpga::Placeable {
                    target: Target::Ice40Up5k,
                },
                clock_mhz: ICE40_CORE_MHZ,
                clock_source: ClockSource::Measured,
                clock_basis: ICE40_CLOCK.into(),
            },
            "ulx3s" => Board {
                name: name.into(),
                description: "Radiona ULX3S (Lattice ECP5 LFE5U-25F; also sold with the 12F, \
                              45F and 85F)"
                    .into(),
                memory: "SDR SDRAM MT48LC16M16A2-6A (or IS42S16160G-7), 32 MiB, 16 bits".into(),
                capacity_bytes: Some(32 * MIB),
                // -6A: tCK 6 ns (166.7 MHz), 16 bits per clock.
                peak_mb_s: 1000.0 / 6.0 * 2.0,
                sustained_mb_s: 100.0 * 2.0 * DRAM_EFFICIENCY,
                sustained_basis: "assumed: SDRAM clocked at 100 MHz (LiteX half-rate PHY at a \
                                  50 MHz system clock), 16 bits per clock, times the DRAM \
                                  efficiency measured on the Arty A7 (0.889)"
                    .into(),
                // The 25F, as constraints/README.md takes it (the part `ecp5-25k` targets).
                fpga: BoardFpga::Placeable {
                    target: Target::Ecp5_25k,
                },
                clock_mhz: ECP5_CORE_MHZ,
                clock_source: ClockSource::Measured,
                clock_basis: ECP5_CLOCK.into(),
            },
            "orangecrab" => Board {
                name: name.into(),
                description: "Good Stuff Department OrangeCrab r0.2 (Lattice ECP5-25F)".into(),
                memory: "DDR3L MT41K64M16, 128 MiB, 16 bits".into(),
                capacity_bytes: Some(128 * MIB),
                // ECP5 DDR3 interfaces reach 800 Mb/s per pin: 800 MT/s over 16 bits.
                peak_mb_s: 800.0 * 2.0,
                sustained_mb_s: 192.0 * 2.0 * DRAM_EFFICIENCY,
                sustained_basis: "assumed: the LiteX reference configuration (48 MHz system \
                                  clock, 1:2 ECP5 DDR PHY: 96 MHz DDR3 clock, 192 MT/s over 16 \
                                  bits = 384 MB/s) times the DRAM efficiency measured on the \
                                  Arty A7 (0.889)"
                    .into(),
                fpga: BoardFpga::Placeable {
                    target: Target::Ecp5_25k,
                },
                clock_mhz: ECP5_CORE_MHZ,
                clock_source: ClockSource::Measured,
                clock_basis: ECP5_CLOCK.into(),
            },
            "arty-a7" => Board {
                name: name.into(),
                description: "Digilent Arty A7 (Xilinx Artix-7 35T/100T)".into(),
                memory: "DDR3L MT41K128M16JT-125, 256 MiB, 16 bits".into(),
                capacity_bytes: Some(256 * MIB),
                // 400 MHz DDR3 clock (LiteX 1:4 PHY at 100 MHz): 800 MT/s over 16 bits.
                peak_mb_s: 800.0 * 2.0,
                sustained_mb_s: 1423.0,
                sustained_basis: "measured: 1,423 MB/s sustained on the Arty A7's DDR3 (figure \
                                  from the project's estimator issue; not re-measured here)"
                    .into(),
                fpga: BoardFpga::NotPlaceable {
                    part: "Xilinx Artix-7",
                },
                clock_mhz: 100.0,
                clock_source: ClockSource::Assumed,
                clock_basis: LITEX_CLOCK.into(),
            },
            "kv260" => Board {
                name: name.into(),
                description: "AMD Kria KV260 (Zynq UltraScale+ XCK26)".into(),
                memory: "DDR4-2400, 4 GiB, 64 bits, on the processing system's controller".into(),
                capacity_bytes: Some(4096 * MIB),
                // 2400 MT/s over 64 bits.
                peak_mb_s: 2400.0 * 8.0,
                sustained_mb_s: 4.0 * 16.0 * 100.0 * DRAM_EFFICIENCY,
                sustained_basis: "assumed: the core reads through the four 128-bit S_AXI_HP \
                                  ports at the 100 MHz fabric clock (6,400 MB/s, below the \
                                  DDR4 peak), times the DRAM efficiency measured on the Arty \
                                  A7 (0.889)"
                    .into(),
                fpga: BoardFpga::NotPlaceable {
                    part: "Xilinx Zynq UltraScale+",
                },
                clock_mhz: 100.0,
                clock_source: ClockSource::Assumed,
                clock_basis: LITEX_CLOCK.into(),
            },
            other => {
                return Err(EstimateError::UnknownBoard {
                    name: other.to_string(),
                    allowed: PRESETS.join(", "),
                })
            }
        };
        Ok(board)
    }

    /// Every built-in board, in the order of [`PRESETS`].
    pub fn presets() -> Vec<Board> {
        PRESETS
            .iter()
            .map(|name| Board::preset(name).expect("every preset name is a preset"))
            .collect()
    }

    /// A board known only by its bandwidth and clock (`--bandwidth` and `--clock` without
    /// `--board`). Its capacity is unknown.
    pub fn custom(bandwidth_mb_s: f64, clock_mhz: f64) -> Result<Board, EstimateError> {
        let bandwidth_mb_s = check_bandwidth(bandwidth_mb_s)?;
        let clock_mhz = check_clock(clock_mhz)?;
        Ok(Board {
            name: "custom".into(),
            description: "custom board (--bandwidth, --clock)".into(),
            memory: "unspecified".into(),
            capacity_bytes: None,
            peak_mb_s: bandwidth_mb_s,
            sustained_mb_s: bandwidth_mb_s,
            sustained_basis: "given: --bandwidth".into(),
            fpga: BoardFpga::Unspecified,
            clock_mhz,
            clock_source: ClockSource::Given,
            clock_basis: "given: --clock".into(),
        })
    }

    /// This board with its sustained bandwidth and/or clock replaced.
    pub fn with_overrides(
        mut self,
        bandwidth_mb_s: Option<f64>,
        clock_mhz: Option<f64>,
    ) -> Result<Board, EstimateError> {
        if let Some(bw) = bandwidth_mb_s {
            self.sustained_mb_s = check_bandwidth(bw)?;
            self.sustained_basis = "given: --bandwidth".into();
        }
        if let Some(clock) = clock_mhz {
            self.clock_mhz = check_clock(clock)?;
            self.clock_source = ClockSource::Given;
            self.clock_basis = "given: --clock".into();
        }
        Ok(self)
    }

    /// Sustained bandwidth in bytes per second.
    pub fn bytes_per_second(&self) -> f64 {
        self.sustained_mb_s * 1e6
    }

    /// Clock in cycles per second.
    pub fn cycles_per_second(&self) -> f64 {
        self.clock_mhz * 1e6
    }
}

fn check_bandwidth(value: f64) -> Result<f64, EstimateError> {
    if value.is_finite() && value > 0.0 && value <= MAX_BANDWIDTH_MB_S {
        Ok(value)
    } else {
        Err(EstimateError::BadOverride {
            option: "--bandwidth",
            value,
            allowed: format!(
                "MB/s (10^6 bytes per second) above 0 and at most {MAX_BANDWIDTH_MB_S}"
            ),
        })
    }
}

fn check_clock(value: f64) -> Result<f64, EstimateError> {
    if value.is_finite() && value > 0.0 && value <= MAX_CLOCK_MHZ {
        Ok(value)
    } else {
        Err(EstimateError::BadOverride {
            option: "--clock",
            value,
            allowed: format!("MHz above 0 and at most {MAX_CLOCK_MHZ}"),
        })
    }
}
