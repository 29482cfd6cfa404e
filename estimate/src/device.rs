//! What each [`Target`] part holds, and its FPGA family: the one table of device capacities,
//! used by the area model here and by the synthesis flow (`hgf-synth`'s `Device`).

use hgf_golden::Target;
use serde::Serialize;

/// FPGA family: decides the cell library, the yosys script and the nextpnr binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ice40,
    Ecp5,
}

impl Family {
    /// The family of `target`.
    pub fn of(target: Target) -> Family {
        match target {
            Target::Ice40Up5k | Target::Ice40Hx8k => Family::Ice40,
            Target::Ecp5_25k | Target::Ecp5_85k => Family::Ecp5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Ice40 => "ice40",
            Family::Ecp5 => "ecp5",
        }
    }
}

/// What one part holds, from the vendors' data sheets (nextpnr's report gives the same
/// numbers for the sites it knows: logic cells, flip-flops, DSPs and block RAMs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Capacity {
    /// 4-input LUTs (iCE40 logic cells, ECP5 `TRELLIS_COMB` sites).
    pub lut4: u64,
    /// Flip-flops.
    pub ff: u64,
    /// Multiplier blocks: `SB_MAC16` (16x16) on iCE40, `MULT18X18D` (18x18) on ECP5.
    pub dsp: u64,
    /// Block RAMs: `SB_RAM40_4K` (4 kbit) on iCE40, `DP16KD` (18 kbit) on ECP5.
    pub bram: u64,
    /// Single-port RAMs `SB_SPRAM256KA` (256 kbit, UP5K only).
    pub spram: u64,
    /// User I/O pins of the package.
    pub io: u64,
}

impl Capacity {
    /// The capacity of `target`'s part: iCE40 UP5K (SG48), HX8K (CT256), ECP5-25k
    /// (CABGA256), ECP5-85k (CABGA381).
    pub fn of(target: Target) -> Capacity {
        match target {
            Target::Ice40Up5k => Capacity {
                lut4: 5280,
                ff: 5280,
                dsp: 8,
                bram: 30,
                spram: 4,
                io: 39,
            },
            Target::Ice40Hx8k => Capacity {
                lut4: 7680,
                ff: 7680,
                dsp: 0,
                bram: 32,
                spram: 0,
                io: 206,
            },
            Target::Ecp5_25k => Capacity {
                lut4: 24288,
                ff: 24288,
                dsp: 28,
                bram: 56,
                spram: 0,
                io: 197,
            },
            Target::Ecp5_85k => Capacity {
                lut4: 83640,
                ff: 83640,
                dsp: 156,
                bram: 208,
                spram: 0,
                io: 205,
            },
        }
    }
}
